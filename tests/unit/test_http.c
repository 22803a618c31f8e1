/* test_http.c -- unit tests: the HTTP server (edge/http*.c) against a stub storage, via libcurl. */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <malloc.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "http.h"

/* --- a stub storage: the real http code calls these instead ------------- */

static int stub_append_rc;		  /* what storage_append() returns */
static int stub_commit_rc;		  /* what done() gets */
static atomic_int stub_committed;	  /* set just before done() is called */
static atomic_int stub_appends;		  /* appends accepted */
static char stub_text[4096];		  /* the text of the last append */
static size_t stub_queue_points = 100000; /* storage_max_append_points() */

struct stub_job {
	storage_done_fn *done;
	void *arg;
};

/* The "writer thread": commits slowly, so an early answer would show. */
static void *stub_writer(void *arg)
{
	struct stub_job *job = arg;
	struct timespec pause = {0, 100 * 1000000L};

	nanosleep(&pause, NULL);
	atomic_store(&stub_committed, 1);
	job->done(job->arg, stub_commit_rc);
	free(job);
	return NULL;
}

int storage_append(struct storage *s, char *text, size_t len, size_t points, storage_done_fn *done,
		   void *arg)
{
	struct stub_job *job;
	pthread_t t;

	(void)s;
	if (points > stub_queue_points)
		return STORAGE_ERR_INVALID; /* as the real one: it can never fit */
	if (stub_append_rc != STORAGE_OK)
		return stub_append_rc;
	snprintf(stub_text, sizeof(stub_text), "%.*s", (int)len, text);
	free(text);
	job = malloc(sizeof(*job));
	assert_non_null(job);
	job->done = done;
	job->arg = arg;
	atomic_fetch_add(&stub_appends, 1);
	assert_int_equal(pthread_create(&t, NULL, stub_writer, job), 0);
	pthread_detach(t);
	return STORAGE_OK;
}

size_t storage_max_append_points(const struct storage *s)
{
	(void)s;
	return stub_queue_points;
}

void storage_get_stats(struct storage *s, struct storage_stats *out)
{
	(void)s;
	memset(out, 0, sizeof(*out));
}

const char *storage_strerror(int result)
{
	return result == STORAGE_ERR_FULL ? "stub full" : "stub error";
}

/* --- libmicrohttpd's MHD_free, seen from the server ----------------------- */

#define TEST_TOKEN "s3cr3t-t0ken-for-basic"

/* Linked with -Wl,--wrap=MHD_free (tests/unit/CMakeLists.txt): every buffer
 * the server gives back to libmicrohttpd passes here; one that still holds
 * the token is counted. */
void __real_MHD_free(void *p);
void __wrap_MHD_free(void *p);
static atomic_int mhd_frees, mhd_unwiped;

void __wrap_MHD_free(void *p)
{
	if (p) {
		atomic_fetch_add(&mhd_frees, 1);
		if (memmem(p, malloc_usable_size(p), TEST_TOKEN, strlen(TEST_TOKEN)))
			atomic_fetch_add(&mhd_unwiped, 1);
	}
	__real_MHD_free(p);
}

/* --- a client -------------------------------------------------------------- */

static const char *extra_header; /* one more request header, or NULL */

static struct http_server *server;
static char base_url[64];

struct answer {
	long status;
	char body[2048];
	size_t len;
	char retry_after[16];
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t room = sizeof(a->body) - 1 - a->len;
	size_t take = size * n < room ? size * n : room;

	memcpy(a->body + a->len, data, take);
	a->len += take;
	a->body[a->len] = '\0';
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;

	if (len > 13 && strncasecmp(data, "Retry-After: ", 13) == 0)
		snprintf(a->retry_after, sizeof(a->retry_after), "%.*s", (int)(len - 13 - 2),
			 data + 13);
	return len;
}

/* POSTs body (len bytes) to path; `gzip` sends Content-Encoding: gzip. */
static void post(const char *path, const char *type, const char *body, size_t len, int gzip,
		 struct answer *a)
{
	struct curl_slist *headers = NULL;
	char url[256];
	char ctype[96];
	CURL *c = curl_easy_init();

	assert_non_null(c);
	memset(a, 0, sizeof(*a));
	snprintf(url, sizeof(url), "%s%s", base_url, path);
	snprintf(ctype, sizeof(ctype), "Content-Type: %s", type);
	headers = curl_slist_append(headers, ctype);
	if (gzip)
		headers = curl_slist_append(headers, "Content-Encoding: gzip");
	if (extra_header)
		headers = curl_slist_append(headers, extra_header);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
}

static void post_lp(const char *path, const char *body, struct answer *a)
{
	post(path, "text/plain", body, strlen(body), 0, a);
}

static void post_json(const char *path, const char *body, struct answer *a)
{
	post(path, "application/json", body, strlen(body), 0, a);
}

static int start_server(void **state)
{
	struct http_options o = {
	    .listen = "127.0.0.1:0",
	    .max_body = 1024,
	    .max_points = 3,
	    .max_line = 0,
	    .connection_timeout_ms = 5000,
	};

	(void)state;
	stub_append_rc = STORAGE_OK;
	stub_commit_rc = STORAGE_OK;
	atomic_store(&stub_appends, 0);
	if (http_start(&o, (struct storage *)&o, &server) != 0)
		return -1;
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u", http_port(server));
	return 0;
}

/* A server whose http.max_points is 0 ("no limit"), then larger than the
 * write queue: the queue (3 points here) is the limit. */
static int start_server_max(size_t max_points)
{
	struct http_options o = {
	    .listen = "127.0.0.1:0",
	    .max_body = 1024,
	    .max_points = max_points,
	    .connection_timeout_ms = 5000,
	};

	stub_append_rc = STORAGE_OK;
	stub_commit_rc = STORAGE_OK;
	stub_queue_points = 3;
	atomic_store(&stub_appends, 0);
	if (http_start(&o, (struct storage *)&o, &server) != 0)
		return -1;
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u", http_port(server));
	return 0;
}

static int start_server_token(void **state)
{
	struct http_options o = {
	    .listen = "127.0.0.1:0",
	    .max_body = 1024,
	    .max_points = 3,
	    .connection_timeout_ms = 5000,
	    .token = TEST_TOKEN,
	};

	(void)state;
	stub_append_rc = STORAGE_OK;
	stub_commit_rc = STORAGE_OK;
	atomic_store(&stub_appends, 0);
	if (http_start(&o, (struct storage *)&o, &server) != 0)
		return -1;
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u", http_port(server));
	return 0;
}

static int start_server_unlimited(void **state)
{
	(void)state;
	return start_server_max(0);
}

static int start_server_past_queue(void **state)
{
	(void)state;
	return start_server_max(10);
}

static int stop_server(void **state)
{
	(void)state;
	http_stop(server);
	server = NULL;
	stub_queue_points = 100000;
	return 0;
}

static void test_answer_follows_commit(void **state)
{
	struct http_stats st;
	struct answer a;

	(void)state;
	atomic_store(&stub_committed, 0);
	post_lp("/write?db=x", "m,b=2,a=1 v=1 7\n", &a);
	assert_int_equal(a.status, 204);
	assert_int_equal(atomic_load(&stub_committed), 1);
	assert_string_equal(stub_text, "m,a=1,b=2 v=1 7\n");

	atomic_store(&stub_committed, 0);
	post_json("/data", "{\"type\":\"t\",\"value\":1,\"ts\":\"1970-01-01T00:00:01Z\"}", &a);
	assert_int_equal(a.status, 201);
	assert_int_equal(atomic_load(&stub_committed), 1);
	assert_string_equal(stub_text, "data,type=t value=1 1000000000\n");

	/* A partial write answers its 400 after the valid lines committed. */
	atomic_store(&stub_committed, 0);
	post_lp("/api/v2/write?bucket=b&precision=s", "a v=1 1\nb v=oops 2\nc v=3 3", &a);
	assert_int_equal(a.status, 400);
	assert_int_equal(atomic_load(&stub_committed), 1);
	assert_string_equal(stub_text, "a v=1 1000000000\nc v=3 3000000000\n");
	assert_string_equal(a.body,
			    "{\"code\":\"invalid\",\"message\":\"partial write: line 2: "
			    "field \\\"v\\\": invalid value \\\"oops\\\" (expected a number, "
			    "1i, 1u, true/false or \\\"string\\\") dropped=1\"}");
	assert_int_equal(atomic_load(&stub_appends), 3);

	http_get_stats(server, &st);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.points, 4);
	assert_int_equal(st.client_errors, 1);
	assert_int_equal(st.server_errors, 0);
	assert_int_equal(st.bad_lines, 1);
}

static void test_storage_results(void **state)
{
	struct answer a;

	(void)state;
	/* The queue is full: 503 with Retry-After, in each API's format. */
	stub_append_rc = STORAGE_ERR_BUSY;
	post_lp("/write?db=x", "m v=1 1", &a);
	assert_int_equal(a.status, 503);
	assert_string_equal(a.retry_after, "1");
	assert_string_equal(a.body, "{\"error\":\"not stored: stub error\"}");
	post_lp("/api/v2/write?bucket=b", "m v=1 1", &a);
	assert_int_equal(a.status, 503);
	assert_string_equal(a.retry_after, "1");
	assert_string_equal(a.body,
			    "{\"code\":\"unavailable\",\"message\":\"not stored: stub error\"}");
	post_json("/data", "{\"type\":\"t\",\"value\":1}", &a);
	assert_int_equal(a.status, 503);
	assert_string_equal(a.retry_after, "1");
	stub_append_rc = STORAGE_ERR_CLOSED;
	post_lp("/write?db=x", "m v=1 1", &a);
	assert_int_equal(a.status, 503);
	assert_string_equal(a.retry_after, "1");
	stub_append_rc = STORAGE_OK;
	assert_int_equal(atomic_load(&stub_appends), 0);

	/* The commit failed: 507 for a full buffer, 500 for anything else. */
	stub_commit_rc = STORAGE_ERR_FULL;
	post_lp("/write?db=x", "m v=1 1", &a);
	assert_int_equal(a.status, 507);
	assert_string_equal(a.body, "{\"error\":\"not stored: stub full\"}");
	assert_string_equal(a.retry_after, "");
	stub_commit_rc = STORAGE_ERR_IO;
	post_lp("/write?db=x", "m v=1 1", &a);
	assert_int_equal(a.status, 500);
	stub_commit_rc = STORAGE_ERR_CLOSED;
	post_lp("/write?db=x", "m v=1 1", &a);
	assert_int_equal(a.status, 503);
	assert_string_equal(a.retry_after, "1");
	/* A partial write whose commit failed reports the failure, not the partial. */
	stub_commit_rc = STORAGE_ERR_IO;
	post_lp("/write?db=x", "m v=1 1\nbad", &a);
	assert_int_equal(a.status, 500);
	assert_string_equal(a.body, "{\"error\":\"not stored: stub error\"}");
	assert_int_equal(atomic_load(&stub_appends), 4);
}

static void test_refused_before_storage(void **state)
{
	struct answer a;

	(void)state;
	post_lp("/write?db=x", "a v=1\nb v=2\nc v=3\nd v=4", &a);
	assert_int_equal(a.status, 413);
	assert_string_equal(a.body,
			    "{\"error\":\"more than 3 points in one request (http.max_points)\"}");
	post_json("/data",
		  "[{\"type\":\"t\",\"value\":1},{\"type\":\"t\",\"value\":1},"
		  "{\"type\":\"t\",\"value\":1},{\"type\":\"t\",\"value\":1}]",
		  &a);
	assert_int_equal(a.status, 413);
	assert_string_equal(a.body, "{\"error\":\"4 readings in one request, more than 3 "
				    "(http.max_points)\"}");
	/* Empty and comment-only bodies: 204, nothing stored, like InfluxDB. */
	post_lp("/write?db=x", "", &a);
	assert_int_equal(a.status, 204);
	post_lp("/write?db=x", "# nothing\n\n", &a);
	assert_int_equal(a.status, 204);
	assert_int_equal(atomic_load(&stub_appends), 0);
}

/* A request the buffer's write queue can never hold is a 413 naming the
 * limit (it was a 500 "invalid argument", which Telegraf retries forever);
 * what fits is stored. */
static void test_more_than_the_queue_holds(void **state)
{
	struct answer a;

	(void)state;
	post_lp("/write?db=x", "a v=1\nb v=2\nc v=3\nd v=4", &a);
	assert_int_equal(a.status, 413);
	assert_string_equal(a.body, "{\"error\":\"more than 3 points in one request (the most the "
				    "buffer's write queue holds)\"}");
	post_lp("/api/v2/write?bucket=b", "a v=1\nb v=2\nc v=3\nd v=4", &a);
	assert_int_equal(a.status, 413);
	post_json("/data",
		  "[{\"type\":\"t\",\"value\":1},{\"type\":\"t\",\"value\":1},"
		  "{\"type\":\"t\",\"value\":1},{\"type\":\"t\",\"value\":1}]",
		  &a);
	assert_int_equal(a.status, 413);
	assert_string_equal(a.body, "{\"error\":\"4 readings in one request, more than the "
				    "buffer's write queue holds (3)\"}");
	assert_int_equal(atomic_load(&stub_appends), 0);
	post_lp("/write?db=x", "a v=1 1\nb v=2 2\nc v=3 3", &a);
	assert_int_equal(a.status, 204);
	assert_int_equal(atomic_load(&stub_appends), 1);
}

/* Basic authentication: the password is the token (the user is not
 * checked); what libmicrohttpd decoded is wiped before it is given back. */
static void test_basic_auth(void **state)
{
	struct answer a;

	(void)state;
	atomic_store(&mhd_frees, 0);
	atomic_store(&mhd_unwiped, 0);
	/* writer:s3cr3t-t0ken-for-basic */
	extra_header = "Authorization: Basic d3JpdGVyOnMzY3IzdC10MGtlbi1mb3ItYmFzaWM=";
	post_lp("/write?db=x", "m v=1 1", &a);
	assert_int_equal(a.status, 204);
	/* writer:s3cr3t-t0ken-for-basiX */
	extra_header = "Authorization: Basic d3JpdGVyOnMzY3IzdC10MGtlbi1mb3ItYmFzaVg=";
	post_lp("/write?db=x", "m v=1 1", &a);
	assert_int_equal(a.status, 401);
	extra_header = "Authorization: Basic !!!";
	post_lp("/write?db=x", "m v=1 1", &a);
	assert_int_equal(a.status, 401);
	extra_header = "Authorization: Token " TEST_TOKEN;
	post_lp("/write?db=x", "m v=1 1", &a);
	assert_int_equal(a.status, 204);
	extra_header = NULL;
	post_lp("/write?db=x", "m v=1 1", &a);
	assert_int_equal(a.status, 401);
	assert_int_equal(atomic_load(&stub_appends), 2);
	/* Both decoded requests handed back the user and the password. */
	assert_true(atomic_load(&mhd_frees) >= 4);
	assert_int_equal(atomic_load(&mhd_unwiped), 0);
}

/* gzip-compresses in[0..n) into out; returns the compressed length. */
static size_t gzip_buf(const char *in, size_t n, char *out, size_t out_size)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)out_size;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return out_size - z.avail_out;
}

static void test_gzip_limit_is_exact(void **state)
{
	static char plain[4096];
	static char packed[8192];
	static char twice[8192];
	struct answer a;
	size_t n;
	size_t m;

	(void)state;
	/* Exactly max_body (1024) bytes once decoded: accepted. */
	memset(plain, ' ', sizeof(plain));
	memcpy(plain, "m v=1 1\n", 8);
	n = gzip_buf(plain, 1024, packed, sizeof(packed));
	post("/write?db=x", "text/plain", packed, n, 1, &a);
	assert_int_equal(a.status, 204);
	assert_string_equal(stub_text, "m v=1 1\n");
	/* One byte more: 413, however small the compressed body. */
	n = gzip_buf(plain, 1025, packed, sizeof(packed));
	post("/write?db=x", "text/plain", packed, n, 1, &a);
	assert_int_equal(a.status, 413);
	assert_string_equal(a.body, "{\"error\":\"request body larger than 1024 bytes "
				    "(http.max_body)\"}");
	/* Two gzip members one after the other decode as one body. */
	n = gzip_buf("a v=1 1\n", 8, twice, sizeof(twice));
	m = gzip_buf("b v=2 2\n", 8, twice + n, sizeof(twice) - n);
	post("/write?db=x", "text/plain", twice, n + m, 1, &a);
	assert_int_equal(a.status, 204);
	assert_string_equal(stub_text, "a v=1 1\nb v=2 2\n");
	/* Garbage after a member is a bad body. */
	memcpy(twice + n, "junk", 4);
	post("/write?db=x", "text/plain", twice, n + 4, 1, &a);
	assert_int_equal(a.status, 400);
	assert_int_equal(atomic_load(&stub_appends), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_answer_follows_commit, start_server, stop_server),
	    cmocka_unit_test_setup_teardown(test_storage_results, start_server, stop_server),
	    cmocka_unit_test_setup_teardown(test_refused_before_storage, start_server, stop_server),
	    cmocka_unit_test_setup_teardown(test_gzip_limit_is_exact, start_server, stop_server),
	    cmocka_unit_test_setup_teardown(test_basic_auth, start_server_token, stop_server),
	    cmocka_unit_test_setup_teardown(test_more_than_the_queue_holds, start_server_unlimited,
					    stop_server),
	    cmocka_unit_test_setup_teardown(test_more_than_the_queue_holds, start_server_past_queue,
					    stop_server),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
