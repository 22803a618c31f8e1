/* influx.c -- InfluxDB v1/v2 HTTP client: writes (gzip, auth, TLS), CREATE DATABASE, one handle. */
#include "influx.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "answer.h"
#include "clock.h"
#include "gzip.h"
#include "log.h"

#define INFLUX_MODULE "uplink"
#define INFLUX_CONNECT_TIMEOUT_MAX_MS 10000L
#define INFLUX_PING_TIMEOUT_MAX_MS 5000L /* a /ping slower than this: InfluxDB is not well */
#define INFLUX_USER_AGENT "iot-edge/" IOT_EDGE_VERSION

/* Set one option unless an earlier one failed; `rc` keeps the first error. */
#define INFLUX_SETOPT(rc, h, opt, val)                                                             \
	do {                                                                                       \
		if ((rc) == CURLE_OK)                                                              \
			(rc) = curl_easy_setopt((h), (opt), (val));                                \
	} while (0)

struct influx {
	CURL *curl;			  /* one handle for every request: keep-alive */
	bool curl_global;		  /* curl_global_init succeeded */
	struct curl_slist *write_headers; /* Content-Type text/plain, no Expect, v2 token */
	struct curl_slist *gzip_headers;  /* the same and Content-Encoding: gzip */
	struct curl_slist *query_headers; /* Content-Type form-urlencoded, no Expect */
	char *write_url;		  /* v1 or v2 write URL, precision=ns */
	char *query_url;		  /* <url>/query */
	char *ping_url;			  /* <url>/ping */
	char *create_body;		  /* q=CREATE%20DATABASE%20%22<db>%22 */
	struct uplink_gzip *gz;		  /* NULL: gzip off */
	influx_abort_fn *abort_fn;
	void *abort_arg;
	struct influx_reply *reply;	/* being filled by the request in flight */
	struct influx_reply ping_reply; /* influx_ping()'s own: the caller's reply stays */
	long timeout_ms;		/* CURLOPT_TIMEOUT_MS of writes */
	char errbuf[CURL_ERROR_SIZE];
};

/* Body callback: keep the first INFLUX_BODY_CAP bytes, swallow the rest. */
static size_t influx_on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct influx *c = arg;
	struct influx_reply *r = c->reply;
	size_t n = size * nmemb;
	size_t room = INFLUX_BODY_CAP - r->body_len;
	size_t take = n < room ? n : room;

	memcpy(r->body + r->body_len, data, take);
	r->body_len += take;
	r->body[r->body_len] = '\0';
	return n;
}

/* Header callback: pick out Retry-After; a new status line starts afresh. */
static size_t influx_on_header(char *data, size_t size, size_t nitems, void *arg)
{
	static const char name[] = "Retry-After:";
	struct influx *c = arg;
	size_t n = size * nitems;
	size_t skip = sizeof(name) - 1;

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		c->reply->retry_after_s = -1;
	} else if (n > skip && strncasecmp(data, name, skip) == 0) {
		while (skip < n && (data[skip] == ' ' || data[skip] == '\t'))
			skip++;
		c->reply->retry_after_s = uplink_answer_retry_after(
		    data + skip, n - skip, (time_t)(clock_wall_ns() / 1000000000));
	}
	return n;
}

/* Progress callback: non-zero makes curl abort with CURLE_ABORTED_BY_CALLBACK. */
static int influx_on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			      curl_off_t ulnow)
{
	struct influx *c = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return c->abort_fn(c->abort_arg) ? 1 : 0;
}

/* "a" + "b" + "c" in a new malloc'd string, or NULL. */
static char *influx_join(const char *a, const char *b, const char *c)
{
	size_t size = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = malloc(size);

	if (s == NULL)
		return NULL;
	if (snprintf(s, size, "%s%s%s", a, b, c) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* "<prefix><value URL-escaped>" in a new malloc'd string ("" for a NULL or
 * empty value), or NULL when out of memory. */
static char *influx_param(struct influx *c, const char *prefix, const char *value)
{
	char *escaped;
	char *s;

	if (value == NULL || value[0] == '\0')
		return strdup("");
	if (strlen(value) > INT_MAX / 4)
		return NULL;
	escaped = curl_easy_escape(c->curl, value, (int)strlen(value));
	if (escaped == NULL)
		return NULL;
	s = influx_join(prefix, escaped, "");
	curl_free(escaped);
	return s;
}

/* The write URL: v1 <base>/write?precision=ns&db=..[&rp=..], v2
 * <base>/api/v2/write?precision=ns[&org=..]&bucket=... Returns 0 or -1. */
static int influx_build_write_url(struct influx *c, const char *base,
				  const struct uplink_options *o)
{
	bool v2 = o->api == UPLINK_API_V2;
	char *p1 = influx_param(c, v2 ? "&org=" : "&db=", v2 ? o->org : o->database);
	char *p2 = influx_param(c, v2 ? "&bucket=" : "&rp=", v2 ? o->bucket : o->retention_policy);
	char *first = NULL;
	int ret = -1;

	if (p1 == NULL || p2 == NULL)
		goto out;
	first = influx_join(base, v2 ? "/api/v2/write?precision=ns" : "/write?precision=ns", p1);
	if (first == NULL)
		goto out;
	c->write_url = influx_join(first, p2, "");
	if (c->write_url != NULL)
		ret = 0;
out:
	free(first);
	free(p2);
	free(p1);
	return ret;
}

/* The CREATE DATABASE form body for v1's database. Returns 0 or -1. */
static int influx_build_create_body(struct influx *c, const char *db)
{
	static const char head[] = "CREATE DATABASE \"";
	size_t db_len = strlen(db);
	char *stmt = NULL;
	size_t n = sizeof(head) - 1;
	int ret = -1;

	if (db_len > INT_MAX / 4)
		return -1;
	/* CREATE DATABASE "<db>" with " and \ escaped: at most 2 bytes each. */
	stmt = malloc(sizeof(head) + 1 + 2 * db_len);
	if (stmt == NULL)
		return -1;
	memcpy(stmt, head, n);
	for (size_t i = 0; i < db_len; i++) {
		if (db[i] == '"' || db[i] == '\\')
			stmt[n++] = '\\';
		stmt[n++] = db[i];
	}
	stmt[n++] = '"';
	stmt[n] = '\0';
	c->create_body = influx_param(c, "q=", stmt);
	if (c->create_body != NULL)
		ret = 0;
	free(stmt);
	return ret;
}

/* Build the URLs and the CREATE DATABASE form body. Returns 0 or -1. */
static int influx_build_strings(struct influx *c, const struct uplink_options *o)
{
	size_t base_len = strlen(o->url);
	char *base = NULL;
	int ret = -1;

	while (base_len > 0 && o->url[base_len - 1] == '/')
		base_len--;
	base = strndup(o->url, base_len);
	if (base == NULL)
		return -1;
	c->query_url = influx_join(base, "/query", "");
	c->ping_url = influx_join(base, "/ping", "");
	if (c->query_url == NULL || c->ping_url == NULL || influx_build_write_url(c, base, o) != 0)
		goto out;
	if (o->api == UPLINK_API_V1 && influx_build_create_body(c, o->database) != 0)
		goto out;
	ret = 0;
out:
	free(base);
	return ret;
}

/* Options that stay the same for every request. Returns a CURLcode. */
static CURLcode influx_setup_handle(struct influx *c, const struct uplink_options *o)
{
	/* long may be 32 bits (armhf): clamp before the cast. */
	long timeout = o->timeout_ms > INT32_MAX ? INT32_MAX : (long)o->timeout_ms;
	long connect =
	    timeout < INFLUX_CONNECT_TIMEOUT_MAX_MS ? timeout : INFLUX_CONNECT_TIMEOUT_MAX_MS;
	CURLcode rc = CURLE_OK;
	CURL *h = c->curl;

	c->timeout_ms = timeout;
	INFLUX_SETOPT(rc, h, CURLOPT_NOSIGNAL, 1L);
	INFLUX_SETOPT(rc, h, CURLOPT_ERRORBUFFER, c->errbuf);
	INFLUX_SETOPT(rc, h, CURLOPT_WRITEFUNCTION, influx_on_body);
	INFLUX_SETOPT(rc, h, CURLOPT_WRITEDATA, c);
	INFLUX_SETOPT(rc, h, CURLOPT_HEADERFUNCTION, influx_on_header);
	INFLUX_SETOPT(rc, h, CURLOPT_HEADERDATA, c);
	INFLUX_SETOPT(rc, h, CURLOPT_NOPROGRESS, 0L);
	INFLUX_SETOPT(rc, h, CURLOPT_XFERINFOFUNCTION, influx_on_progress);
	INFLUX_SETOPT(rc, h, CURLOPT_XFERINFODATA, c);
	INFLUX_SETOPT(rc, h, CURLOPT_TIMEOUT_MS, timeout);
	INFLUX_SETOPT(rc, h, CURLOPT_CONNECTTIMEOUT_MS, connect);
	INFLUX_SETOPT(rc, h, CURLOPT_TCP_KEEPALIVE, 1L);
	INFLUX_SETOPT(rc, h, CURLOPT_USERAGENT, INFLUX_USER_AGENT);
#if LIBCURL_VERSION_NUM >= 0x075500
	INFLUX_SETOPT(rc, h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	INFLUX_SETOPT(rc, h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	/* TLS peer and host verification stay at curl's default (on) unless
	 * explicitly turned off. */
	if (o->ca_file != NULL && o->ca_file[0] != '\0')
		INFLUX_SETOPT(rc, h, CURLOPT_CAINFO, o->ca_file);
	if (o->insecure_skip_verify) {
		INFLUX_SETOPT(rc, h, CURLOPT_SSL_VERIFYPEER, 0L);
		INFLUX_SETOPT(rc, h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (o->api == UPLINK_API_V1 && o->username != NULL && o->username[0] != '\0') {
		INFLUX_SETOPT(rc, h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		INFLUX_SETOPT(rc, h, CURLOPT_USERNAME, o->username);
		INFLUX_SETOPT(rc, h, CURLOPT_PASSWORD, o->password != NULL ? o->password : "");
	}
	return rc;
}

/* Append `line` to *list; on failure free the whole list and set it NULL. */
static void influx_header_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *longer;

	if (*list == NULL)
		return;
	longer = curl_slist_append(*list, line);
	if (longer == NULL) {
		curl_slist_free_all(*list);
		*list = NULL;
		return;
	}
	*list = longer;
}

/* A header list: the Content-Type, "Expect:" so curl never waits for
 * 100-continue, then `extra1` and `extra2` when not NULL. Returns the list
 * (curl_slist_free_all) or NULL. */
static struct curl_slist *influx_headers(const char *content_type, const char *extra1,
					 const char *extra2)
{
	struct curl_slist *list = curl_slist_append(NULL, content_type);

	influx_header_add(&list, "Expect:");
	if (extra1 != NULL)
		influx_header_add(&list, extra1);
	if (extra2 != NULL)
		influx_header_add(&list, extra2);
	return list;
}

/* The write header lists (plain and gzip), with the v2 token. Returns 0 or -1. */
static int influx_build_headers(struct influx *c, const struct uplink_options *o)
{
	static const char type[] = "Content-Type: text/plain; charset=utf-8";
	static const char gzip[] = "Content-Encoding: gzip";
	char *auth = NULL;

	if (o->api == UPLINK_API_V2 && o->token != NULL && o->token[0] != '\0') {
		auth = influx_join("Authorization: Token ", o->token, "");
		if (auth == NULL)
			return -1;
	}
	c->write_headers = influx_headers(type, auth, NULL);
	c->gzip_headers = influx_headers(type, auth, gzip);
	c->query_headers =
	    influx_headers("Content-Type: application/x-www-form-urlencoded", NULL, NULL);
	if (auth != NULL) {
		/* curl copied it; wipe our copy of the secret. */
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	return c->write_headers != NULL && c->gzip_headers != NULL && c->query_headers != NULL ? 0
											       : -1;
}

/* Contract in influx.h: 0 and *out (influx_destroy()), or -1. Main thread. */
int influx_create(const struct uplink_options *options, influx_abort_fn *abort_fn, void *abort_arg,
		  struct influx **out)
{
	struct influx *c = calloc(1, sizeof(*c));
	CURLcode rc;

	if (c == NULL) {
		log_error(INFLUX_MODULE, "out of memory");
		return -1;
	}
	c->abort_fn = abort_fn;
	c->abort_arg = abort_arg;
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		log_error(INFLUX_MODULE, "curl_global_init failed: %s", curl_easy_strerror(rc));
		goto fail;
	}
	c->curl_global = true;
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		log_error(INFLUX_MODULE, "curl_easy_init failed");
		goto fail;
	}
	if (influx_build_headers(c, options) != 0 || influx_build_strings(c, options) != 0 ||
	    (options->gzip && uplink_gzip_create(INFLUX_GZIP_LEVEL, &c->gz) != 0)) {
		log_error(INFLUX_MODULE, "out of memory");
		goto fail;
	}
	rc = influx_setup_handle(c, options);
	if (rc != CURLE_OK) {
		log_error(INFLUX_MODULE, "cannot set up libcurl: %s", curl_easy_strerror(rc));
		goto fail;
	}
	if (options->insecure_skip_verify)
		log_warn(INFLUX_MODULE, "insecure_skip_verify is on: the server's TLS certificate "
					"is NOT verified; anyone on the path can read and change "
					"what is sent");
	*out = c;
	return 0;
fail:
	influx_destroy(c);
	return -1;
}

/* Contract in influx.h: frees c and drops our curl_global_init. Main thread. */
void influx_destroy(struct influx *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->write_headers);
	curl_slist_free_all(c->gzip_headers);
	curl_slist_free_all(c->query_headers);
	free(c->write_url);
	free(c->query_url);
	free(c->ping_url);
	free(c->create_body);
	uplink_gzip_destroy(c->gz);
	if (c->curl_global)
		curl_global_cleanup();
	free(c);
}

/* One POST of `body` on the shared handle, or a GET of `url` when body is
 * NULL. Returns 0 when an HTTP answer arrived. */
static int influx_post(struct influx *c, const char *url, struct curl_slist *headers,
		       const void *body, size_t len, struct influx_reply *r)
{
	CURLcode rc = CURLE_OK;
	curl_off_t elapsed_us = 0;

	r->status = 0;
	r->aborted = false;
	r->timed_out = false;
	r->error[0] = '\0';
	r->body[0] = '\0';
	r->body_len = 0;
	r->retry_after_s = -1;
	r->elapsed_ms = 0;
	r->sent_bytes = len;
	c->errbuf[0] = '\0';
	c->reply = r;

	INFLUX_SETOPT(rc, c->curl, CURLOPT_URL, url);
	INFLUX_SETOPT(rc, c->curl, CURLOPT_HTTPHEADER, headers);
	if (body != NULL) {
		INFLUX_SETOPT(rc, c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
		INFLUX_SETOPT(rc, c->curl, CURLOPT_POST, 1L);
		INFLUX_SETOPT(rc, c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		INFLUX_SETOPT(rc, c->curl, CURLOPT_POSTFIELDS, body);
	} else {
		/* influx_ping(): a GET, within its own shorter timeout. */
		long t = c->timeout_ms < INFLUX_PING_TIMEOUT_MAX_MS ? c->timeout_ms
								    : INFLUX_PING_TIMEOUT_MAX_MS;

		INFLUX_SETOPT(rc, c->curl, CURLOPT_TIMEOUT_MS, t);
		INFLUX_SETOPT(rc, c->curl, CURLOPT_HTTPGET, 1L);
	}
	if (rc == CURLE_OK)
		rc = curl_easy_perform(c->curl);
	c->reply = NULL;
	if (curl_easy_getinfo(c->curl, CURLINFO_TOTAL_TIME_T, &elapsed_us) == CURLE_OK &&
	    elapsed_us > 0)
		r->elapsed_ms =
		    elapsed_us / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(elapsed_us / 1000);
	if (rc != CURLE_OK) {
		r->aborted = rc == CURLE_ABORTED_BY_CALLBACK;
		r->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
		snprintf(r->error, sizeof(r->error), "%s",
			 c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(rc));
		return -1;
	}
	rc = curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (rc != CURLE_OK || r->status == 0) {
		r->status = 0;
		snprintf(r->error, sizeof(r->error), "no HTTP status in the answer");
		return -1;
	}
	return 0;
}

/* Contract in influx.h: 0 when InfluxDB answered, -1 when not. Client's thread. */
int influx_write(struct influx *c, const char *body, size_t len, struct influx_reply *reply)
{
	const unsigned char *packed = NULL;
	size_t packed_len = 0;

	reply->raw_bytes = len;
	reply->gzipped = false;
	if (c->gz != NULL && len >= INFLUX_GZIP_MIN_BYTES) {
		if (uplink_gzip_compress(c->gz, body, len, &packed, &packed_len) == 0) {
			reply->gzipped = true;
			return influx_post(c, c->write_url, c->gzip_headers, packed, packed_len,
					   reply);
		}
		log_warn(INFLUX_MODULE, "gzip failed for %zu bytes: sending them uncompressed",
			 len);
	}
	return influx_post(c, c->write_url, c->write_headers, body, len, reply);
}

/* Contract in influx.h: as influx_write(). Client's thread. */
int influx_create_database(struct influx *c, struct influx_reply *reply)
{
	reply->raw_bytes = 0;
	reply->gzipped = false;
	if (c->create_body == NULL) {
		memset(reply, 0, offsetof(struct influx_reply, body));
		snprintf(reply->error, sizeof(reply->error), "CREATE DATABASE is a v1 statement");
		reply->body[0] = '\0';
		reply->retry_after_s = -1;
		return -1;
	}
	return influx_post(c, c->query_url, c->query_headers, c->create_body,
			   strlen(c->create_body), reply);
}

/* Contract in influx.h: true when /ping answered 2xx. Client's thread. */
bool influx_ping(struct influx *c, char *why, size_t size)
{
	struct influx_reply *r = &c->ping_reply;
	int rc = influx_post(c, c->ping_url, c->write_headers, NULL, 0, r);

	if (rc == 0 && r->status >= 200 && r->status <= 299) {
		snprintf(why, size, "/ping answered %ld", r->status);
		return true;
	}
	if (rc != 0)
		snprintf(why, size, "/ping: %s: %s", r->timed_out ? "timeout" : "no answer",
			 r->error);
	else
		snprintf(why, size, "/ping answered %ld", r->status);
	return false;
}

/* Contract in influx.h. Client's thread. */
void influx_disable_gzip(struct influx *c)
{
	uplink_gzip_destroy(c->gz);
	c->gz = NULL;
}
