/* influx.c -- InfluxDB 1.x HTTP client: /write and CREATE DATABASE on one reused curl handle. */
#include "influx.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "log.h"

#define INFLUX_MODULE "uplink"
#define INFLUX_CONNECT_TIMEOUT_MAX_MS 10000L
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
	struct curl_slist *write_headers; /* Content-Type text/plain, no Expect */
	struct curl_slist *query_headers; /* Content-Type form-urlencoded, no Expect */
	char *write_url;		  /* <url>/write?db=<escaped>&precision=ns */
	char *query_url;		  /* <url>/query */
	char *create_body;		  /* q=CREATE%20DATABASE%20%22<db>%22 */
	influx_abort_fn *abort_fn;
	void *abort_arg;
	struct influx_reply *reply; /* being filled by the request in flight */
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

/* "120" -> 120; an HTTP-date -> seconds from now (0 if past); else -1. */
static int64_t influx_parse_retry_after(const char *v, size_t n)
{
	char buf[64];
	char *end;
	long long secs;
	time_t when;

	while (n > 0 &&
	       (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (isdigit((unsigned char)buf[0])) {
		errno = 0;
		secs = strtoll(buf, &end, 10);
		if (*end != '\0')
			return -1;
		if (errno == ERANGE)
			return INT64_MAX; /* the caller caps the wait anyway */
		return (int64_t)secs;
	}
	when = curl_getdate(buf, NULL);
	if (when == -1)
		return -1;
	secs = (long long)(when - time(NULL));
	return secs > 0 ? (int64_t)secs : 0;
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
		c->reply->retry_after_s = influx_parse_retry_after(data + skip, n - skip);
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

/* Build the two URLs and the CREATE DATABASE form body. Returns 0 or -1. */
static int influx_build_strings(struct influx *c, const char *url, const char *db)
{
	size_t base_len = strlen(url);
	size_t db_len = strlen(db);
	char *base = NULL;
	char *db_escaped = NULL;
	char *stmt = NULL;
	char *stmt_escaped = NULL;
	size_t n = 0;
	int ret = -1;

	if (db_len > INT_MAX / 4)
		return -1;
	while (base_len > 0 && url[base_len - 1] == '/')
		base_len--;
	base = strndup(url, base_len);
	/* CREATE DATABASE "<db>" with " and \ escaped: at most 2 bytes each. */
	stmt = malloc(sizeof("CREATE DATABASE \"\"") + 2 * db_len);
	if (base == NULL || stmt == NULL)
		goto out;
	memcpy(stmt, "CREATE DATABASE \"", sizeof("CREATE DATABASE \"") - 1);
	n = sizeof("CREATE DATABASE \"") - 1;
	for (size_t i = 0; i < db_len; i++) {
		if (db[i] == '"' || db[i] == '\\')
			stmt[n++] = '\\';
		stmt[n++] = db[i];
	}
	stmt[n++] = '"';
	stmt[n] = '\0';

	db_escaped = curl_easy_escape(c->curl, db, (int)db_len);
	stmt_escaped = curl_easy_escape(c->curl, stmt, (int)n);
	if (db_escaped == NULL || stmt_escaped == NULL)
		goto out;
	c->write_url = influx_join(base, "/write?db=", db_escaped);
	if (c->write_url != NULL) {
		char *full = influx_join(c->write_url, "&precision=ns", "");

		free(c->write_url);
		c->write_url = full;
	}
	c->query_url = influx_join(base, "/query", "");
	c->create_body = influx_join("q=", stmt_escaped, "");
	if (c->write_url == NULL || c->query_url == NULL || c->create_body == NULL)
		goto out;
	ret = 0;
out:
	curl_free(stmt_escaped);
	curl_free(db_escaped);
	free(stmt);
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
	/* TLS peer and host verification stay at curl's default: on. */
	if (o->username != NULL && o->username[0] != '\0') {
		INFLUX_SETOPT(rc, h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		INFLUX_SETOPT(rc, h, CURLOPT_USERNAME, o->username);
		INFLUX_SETOPT(rc, h, CURLOPT_PASSWORD, o->password != NULL ? o->password : "");
	}
	return rc;
}

/* A header list: the Content-Type, and "Expect:" so curl never waits for
 * 100-continue. Returns the list (curl_slist_free_all) or NULL. */
static struct curl_slist *influx_headers(const char *content_type)
{
	struct curl_slist *first = curl_slist_append(NULL, content_type);
	struct curl_slist *both;

	if (first == NULL)
		return NULL;
	both = curl_slist_append(first, "Expect:");
	if (both == NULL)
		curl_slist_free_all(first);
	return both;
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
	c->write_headers = influx_headers("Content-Type: text/plain; charset=utf-8");
	c->query_headers = influx_headers("Content-Type: application/x-www-form-urlencoded");
	if (c->write_headers == NULL || c->query_headers == NULL ||
	    influx_build_strings(c, options->url, options->database) != 0) {
		log_error(INFLUX_MODULE, "out of memory");
		goto fail;
	}
	rc = influx_setup_handle(c, options);
	if (rc != CURLE_OK) {
		log_error(INFLUX_MODULE, "cannot set up libcurl: %s", curl_easy_strerror(rc));
		goto fail;
	}
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
	curl_slist_free_all(c->query_headers);
	free(c->write_url);
	free(c->query_url);
	free(c->create_body);
	if (c->curl_global)
		curl_global_cleanup();
	free(c);
}

/* One POST on the shared handle. Returns 0 when an HTTP answer arrived. */
static int influx_post(struct influx *c, const char *url, struct curl_slist *headers,
		       const char *body, size_t len, struct influx_reply *r)
{
	CURLcode rc = CURLE_OK;
	curl_off_t elapsed_us = 0;

	r->status = 0;
	r->aborted = false;
	r->error[0] = '\0';
	r->body[0] = '\0';
	r->body_len = 0;
	r->retry_after_s = -1;
	r->elapsed_ms = 0;
	c->errbuf[0] = '\0';
	c->reply = r;

	INFLUX_SETOPT(rc, c->curl, CURLOPT_URL, url);
	INFLUX_SETOPT(rc, c->curl, CURLOPT_HTTPHEADER, headers);
	INFLUX_SETOPT(rc, c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	INFLUX_SETOPT(rc, c->curl, CURLOPT_POSTFIELDS, body);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(c->curl);
	c->reply = NULL;
	if (curl_easy_getinfo(c->curl, CURLINFO_TOTAL_TIME_T, &elapsed_us) == CURLE_OK &&
	    elapsed_us > 0)
		r->elapsed_ms =
		    elapsed_us / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(elapsed_us / 1000);
	if (rc != CURLE_OK) {
		r->aborted = rc == CURLE_ABORTED_BY_CALLBACK;
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
	return influx_post(c, c->write_url, c->write_headers, body, len, reply);
}

/* Contract in influx.h: as influx_write(). Client's thread. */
int influx_create_database(struct influx *c, struct influx_reply *reply)
{
	return influx_post(c, c->query_url, c->query_headers, c->create_body,
			   strlen(c->create_body), reply);
}
