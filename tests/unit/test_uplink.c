/* test_uplink.c -- unit tests for uplink/answer.c (error table, Retry-After, refused lines) and
 * gzip.c. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "answer.h"
#include "gzip.h"
#include "influx.h"
#include "storage.h"
#include "uplink.h"

#define RA(s, now) uplink_answer_retry_after((s), strlen(s), (now))

/* Linked with -Wl,--wrap=free (tests/unit/CMakeLists.txt): every block the
 * uplink (and the rest of this binary's own code) frees passes here first,
 * and one still holding a secret is counted. */
void __real_free(void *p);
void __wrap_free(void *p);
static _Atomic(const char *) wrap_secrets[2];
static atomic_int wrap_unwiped;

void __wrap_free(void *p)
{
	if (p) {
		size_t n = malloc_usable_size(p);

		for (int i = 0; i < 2; i++) {
			const char *secret = atomic_load(&wrap_secrets[i]);

			if (secret && memmem(p, n, secret, strlen(secret)))
				atomic_fetch_add(&wrap_unwiped, 1);
		}
	}
	__real_free(p);
}

/* Wed, 21 Oct 2015 07:28:00 GMT */
#define TEST_DATE "Wed, 21 Oct 2015 07:28:00 GMT"
#define TEST_DATE_T 1445412480

static void test_retry_after_seconds(void **state)
{
	(void)state;
	assert_int_equal(RA("120", 0), 120);
	assert_int_equal(RA("0", 0), 0);
	assert_int_equal(RA(" 7 \r\n", 0), 7);
	assert_int_equal(RA("3600", 0), 3600);
	assert_int_equal(RA("3601", 0), UPLINK_ANSWER_RETRY_AFTER_MAX_S);
	assert_int_equal(RA("99999999999999999999999", 0), UPLINK_ANSWER_RETRY_AFTER_MAX_S);
	/* Only the first len bytes count. */
	assert_int_equal(uplink_answer_retry_after("12345", 2, 0), 12);
}

static void test_retry_after_garbage(void **state)
{
	(void)state;
	assert_int_equal(RA("", 0), -1);
	assert_int_equal(RA("  \r\n", 0), -1);
	assert_int_equal(RA("12x", 0), -1);
	assert_int_equal(RA("-5", 0), -1);
	assert_int_equal(RA("soon", 0), -1);
	assert_int_equal(RA("1.5", 0), -1);
	/* Longer than any HTTP-date: refused before parsing. */
	assert_int_equal(RA("Wed, 21 Oct 2015 07:28:00 GMT and a great deal more text after it", 0),
			 -1);
}

static void test_retry_after_date(void **state)
{
	(void)state;
	assert_int_equal(RA(TEST_DATE, TEST_DATE_T - 10), 10);
	assert_int_equal(RA(TEST_DATE "\r\n", TEST_DATE_T - 1), 1);
	assert_int_equal(RA(TEST_DATE, TEST_DATE_T), 0);
	assert_int_equal(RA(TEST_DATE, TEST_DATE_T + 100), 0);
	assert_int_equal(RA(TEST_DATE, TEST_DATE_T - 86400), UPLINK_ANSWER_RETRY_AFTER_MAX_S);
}

struct classify_case {
	long status;
	bool timed_out;
	bool retry_after;
	const char *body;
	enum uplink_error_class want;
};

static void test_classify_table(void **state)
{
	static const struct classify_case cases[] = {
	    {0, false, false, "", UPLINK_ERROR_NETWORK},
	    {0, true, false, "", UPLINK_ERROR_TIMEOUT},
	    {200, false, false, "", UPLINK_ERROR_NONE},
	    {204, false, false, "", UPLINK_ERROR_NONE},
	    {299, false, false, "", UPLINK_ERROR_NONE},
	    {301, false, false, "", UPLINK_ERROR_OTHER},
	    {401, false, false, "{\"error\":\"authorization failed\"}", UPLINK_ERROR_AUTH},
	    {403, false, false, "", UPLINK_ERROR_AUTH},
	    {404, false, false, "{\"error\":\"database not found: \\\"iot\\\"\"}",
	     UPLINK_ERROR_NOT_FOUND},
	    {405, false, false, "", UPLINK_ERROR_OTHER},
	    {413, false, false, "", UPLINK_ERROR_TOO_LARGE},
	    {415, false, false, "", UPLINK_ERROR_OTHER},
	    {418, false, false, "partial write", UPLINK_ERROR_OTHER},
	    {429, false, false, "", UPLINK_ERROR_THROTTLED},
	    {429, false, true, "", UPLINK_ERROR_THROTTLED},
	    {500, false, false, "partial write", UPLINK_ERROR_SERVER},
	    {502, false, true, "", UPLINK_ERROR_SERVER},
	    {503, false, false, "", UPLINK_ERROR_SERVER},
	    {503, false, true, "", UPLINK_ERROR_THROTTLED},
	    {599, false, false, "", UPLINK_ERROR_SERVER},
	    {600, false, false, "", UPLINK_ERROR_OTHER},
	    {400, false, false, "{\"error\":\"partial write: field type conflict: x dropped=1\"}",
	     UPLINK_ERROR_BAD_DATA},
	    {400, false, false, "{\"error\":\"unable to parse 'x': missing fields\"}",
	     UPLINK_ERROR_BAD_DATA},
	    {400, false, false,
	     "{\"code\":\"invalid\",\"message\":\"failed to parse line protocol\"}",
	     UPLINK_ERROR_BAD_DATA},
	    {400, false, false, "{\"error\":\"parsing failed for write_lp endpoint\"}",
	     UPLINK_ERROR_BAD_DATA},
	    {400, false, false, "{\"error\":\"PARTIAL WRITE OF LINE PROTOCOL OCCURRED\"}",
	     UPLINK_ERROR_BAD_DATA},
	    {422, false, false, "partial write: points beyond retention policy dropped=3",
	     UPLINK_ERROR_BAD_DATA},
	    {400, false, false, "{\"error\":\"retention policy not found: nope\"}",
	     UPLINK_ERROR_OTHER},
	    {400, false, false, "{\"error\":\"gzip: invalid header\"}", UPLINK_ERROR_OTHER},
	    {400, false, false, "", UPLINK_ERROR_OTHER},
	    {400, false, false, NULL, UPLINK_ERROR_OTHER},
	    {422, false, false, "unprocessable", UPLINK_ERROR_OTHER},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct classify_case *c = &cases[i];
		enum uplink_error_class got =
		    uplink_answer_classify(c->status, c->timed_out, c->retry_after, c->body);

		if (got != c->want)
			fail_msg("case %zu (HTTP %ld, %s): got %s, want %s", i, c->status,
				 c->body != NULL ? c->body : "NULL", uplink_error_class_name(got),
				 uplink_error_class_name(c->want));
	}
}

static void test_class_names(void **state)
{
	(void)state;
	assert_string_equal(uplink_error_class_name(UPLINK_ERROR_NONE), "none");
	assert_string_equal(uplink_error_class_name(UPLINK_ERROR_AUTH), "auth");
	assert_string_equal(uplink_error_class_name(UPLINK_ERROR_BAD_DATA), "bad_data");
	assert_string_equal(uplink_error_class_name(UPLINK_ERROR_STORAGE), "storage");
	assert_string_equal(uplink_error_class_name((enum uplink_error_class)99), "unknown");
}

#define MSG(body, out) uplink_answer_message((body), strlen(body), (out), sizeof(out))

static void test_message_json(void **state)
{
	char out[256];
	(void)state;

	MSG("{\"error\":\"database not found: \\\"iot\\\"\"}\n", out);
	assert_string_equal(out, "database not found: \"iot\"");
	MSG("{\"code\":\"invalid\",\"message\":\"unable to parse 'a\\\\b'\"}", out);
	assert_string_equal(out, "unable to parse 'a\\b'");
	MSG("{ \"error\" : \"line one\\nline two\\t\\u00e9\\u20ac\\/\" }", out);
	assert_string_equal(out, "line one line two \xc3\xa9\xe2\x82\xac/");
	/* 3.x: the top-level error, not error_message. */
	MSG("{\"error\":\"partial write of line protocol occurred\",\"data\":[{\"error_message\":"
	    "\"x\"}]}",
	    out);
	assert_string_equal(out, "partial write of line protocol occurred");
	/* A body cut short inside the string is not JSON: its raw text. */
	MSG("{\"error\":\"partial write: field type conf", out);
	assert_string_equal(out, "{\"error\":\"partial write: field type conf");
	/* cJSON reads a \u without 4 hex digits as U+0000, which ends the string. */
	MSG("{\"error\":\"a\\uzzzzb\"}", out);
	assert_string_equal(out, "a");
}

/* Escapes: cJSON decodes them, surrogate pairs included; a body with an
 * escape it refuses is not JSON, so its raw text is the message. */
static void test_message_escapes(void **state)
{
	char out[256];
	char tiny[8];
	(void)state;

	MSG("{\"error\":\"emoji \\ud83d\\ude00 and \\uD83D\\uDE80 ok\"}", out);
	assert_string_equal(out, "emoji \xf0\x9f\x98\x80 and \xf0\x9f\x9a\x80 ok");
	/* Refused: halves alone, a high half before a plain \u, an unknown letter,
	 * a \u cut short by the closing quote. */
	MSG("{\"error\":\"a\\ud83db\"}", out);
	assert_string_equal(out, "{\"error\":\"a\\ud83db\"}");
	MSG("{\"error\":\"b\\ude00c\"}", out);
	assert_string_equal(out, "{\"error\":\"b\\ude00c\"}");
	MSG("{\"error\":\"c\\ud83d\\u0041d\"}", out);
	assert_string_equal(out, "{\"error\":\"c\\ud83d\\u0041d\"}");
	MSG("{\"error\":\"e\\qf\"}", out);
	assert_string_equal(out, "{\"error\":\"e\\qf\"}");
	MSG("{\"error\":\"a\\u12\",\"x\":1}", out);
	assert_string_equal(out, "{\"error\":\"a\\u12\",\"x\":1}");
	/* \u0000 ends cJSON's string. */
	MSG("{\"error\":\"d\\u0000e\"}", out);
	assert_string_equal(out, "d");
	/* Cut to fit at a character boundary. */
	MSG("{\"error\":\"abcdef\\u00e9\"}", tiny);
	assert_string_equal(tiny, "abcdef");
}

/* A body cut short (INFLUX_BODY_CAP) is not JSON: its raw text is the
 * message, whether cut inside an escape, a string or a 3.x list of lines. */
static void test_message_cut_body(void **state)
{
	static const char *const cuts[] = {
	    "{\"error\":\"ab\\ud83d\\ude",
	    "{\"error\":\"ab\\ud83d",
	    "{\"error\":\"ab\\u00",
	    "{\"error\":\"ab\\",
	    "{\"code\":\"invalid\",\"message\":\"unable to parse 'm a=\\\"x",
	    "{\"error\":\"partial write of line protocol occurred\",\"data\":[{\"error_message\":"
	    "\"bad\",\"line_number\":4,\"original_line\":\"m a=",
	    "{\"error\":\"partial write of line protocol occurred\",\"data\":[{\"error_message\":"
	    "\"bad\",\"line_number\":",
	    "{\"error\":\"partial write of line protocol occurred\",\"data\":[{\"error_message\":"
	    "\"bad\",\"line_number\":4",
	    "{\"error\":\"partial write of line protocol occurred\",\"data\":[{\"error_message\":"
	    "\"bad\",\"line_num",
	    "{\"error\":\"partial write of line protocol occurred\",\"data\":[{\"error_message\":"
	    "\"bad\",",
	    "{\"error\":\"partial write of line protocol occurred\",\"data\":[{\"error_message\":"
	    "\"bad\"},{\"err",
	    "{\"error\":\"partial write of line protocol occurred\",\"data\":[",
	    "{\"error\":\"partial write of line protocol occurred\",\"data\"",
	    "{\"error\": tru",
	};
	char out[256];
	(void)state;

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		MSG(cuts[i], out);
		if (strcmp(out, cuts[i]) != 0)
			fail_msg("cut %zu: %s", i, out);
	}
}

static void test_message_plain_and_cut(void **state)
{
	char out[256];
	char tiny[8];
	(void)state;

	MSG("<html>502 Bad Gateway</html>\r\n\r\n", out);
	assert_string_equal(out, "<html>502 Bad Gateway</html>");
	MSG("", out);
	assert_string_equal(out, "");
	MSG("{\"error\":\"0123456789\"}", tiny);
	assert_string_equal(tiny, "0123456");
	MSG("0123456789", tiny);
	assert_string_equal(tiny, "0123456");
	/* "error" as a value, not a key, is not a message. */
	MSG("[\"error\", 1]", out);
	assert_string_equal(out, "[\"error\", 1]");
}

static void test_named_lines(void **state)
{
	size_t out[10];
	(void)state;

	assert_int_equal(uplink_answer_named_lines(
			     "{\"code\":\"invalid\",\"line\":3,\"message\":\"m\"}", 5, out),
			 1);
	assert_int_equal(out[0], 2);
	assert_int_equal(
	    uplink_answer_named_lines(
		"{\"error\":\"partial\",\"data\":[{\"line_number\":4,\"original_line\":"
		"\"x\"},{\"line_number\" : 2}]}",
		5, out),
	    2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 3);
	/* The same line named three ways counts once. */
	assert_int_equal(
	    uplink_answer_named_lines(
		"{\"line\":2,\"message\":\"errors encountered on line(s): error parsing "
		"line 2 (1-based): bad\\nerror Parsing Line 5 (1-based): worse\"}",
		5, out),
	    2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 4);
	/* Out of range, zero, strings and other keys are ignored. */
	assert_int_equal(uplink_answer_named_lines("{\"line\":6}", 5, out), 0);
	assert_int_equal(uplink_answer_named_lines("{\"line\":0}", 5, out), 0);
	assert_int_equal(uplink_answer_named_lines("{\"line\":\"3\"}", 5, out), 0);
	assert_int_equal(uplink_answer_named_lines("{\"lines\":3,\"newline\":2}", 5, out), 0);
	assert_int_equal(uplink_answer_named_lines("{\"line\":99999999999999999999999}", 5, out),
			 0);
	assert_int_equal(uplink_answer_named_lines("partial write: field type conflict", 5, out),
			 0);
	assert_int_equal(uplink_answer_named_lines("", 5, out), 0);
	/* At most `count` entries are written. */
	assert_int_equal(
	    uplink_answer_named_lines("{\"line\":1} {\"line\":1} {\"line\":1}", 1, out), 1);
	assert_int_equal(out[0], 0);
}

static void test_quoted_lines(void **state)
{
	static const char text[] = "m a=1 1\nm a=\"x' 2\nm a=3 3\n";
	const size_t offsets[] = {0, 8, 18};
	size_t len = sizeof(text) - 1;
	size_t out[3];
	(void)state;

	assert_int_equal(uplink_answer_quoted_lines("partial write: unable to parse 'm a=3 3': bad "
						    "unable to parse 'm a=\"x' 2': worse dropped=0",
						    text, len, offsets, 3, out),
			 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	/* A prefix of a line, or a line with more after it, is no match. */
	assert_int_equal(
	    uplink_answer_quoted_lines("unable to parse 'm a=1': x", text, len, offsets, 3, out),
	    0);
	assert_int_equal(uplink_answer_quoted_lines("unable to parse 'm a=1 1 9': x", text, len,
						    offsets, 3, out),
			 0);
	assert_int_equal(
	    uplink_answer_quoted_lines("field type conflict", text, len, offsets, 3, out), 0);
	/* The last line without its '\n'. */
	assert_int_equal(uplink_answer_quoted_lines("unable to parse 'm a=3 3': x", text, len - 1,
						    offsets, 3, out),
			 1);
	assert_int_equal(out[0], 2);
}

/* Room for answers to a request of CUT_LINES lines, beyond INFLUX_BODY_CAP. */
#define CUT_LINES 2000
static char cut_body[CUT_LINES * 128];
static size_t cut_out[CUT_LINES];

/* 3.x names lines 1000..2000 (1-based) of 2000, so a number the cut
 * shortens would name a good line; the cut falls on every byte of an entry. */
static void test_cut_body_named(void **state)
{
	size_t len = (size_t)sprintf(cut_body, "{\"error\":\"partial write\",\"data\":[");
	(void)state;

	for (size_t i = 999; i < CUT_LINES; i++)
		len += (size_t)sprintf(
		    cut_body + len,
		    "%s{\"original_line\":\"m a=\\\"x\\\" %zu\",\"line_number\":%zu,"
		    "\"error_message\":\"invalid column type\"}",
		    i > 999 ? "," : "", i, i + 1);
	assert_true(len > INFLUX_BODY_CAP);
	for (size_t cut = INFLUX_BODY_CAP - 100; cut <= INFLUX_BODY_CAP; cut++) {
		char saved = cut_body[cut];
		size_t complete = 0; /* entries whose number the cut left whole */
		size_t n;

		cut_body[cut] = '\0';
		for (const char *p = strstr(cut_body, "\"line_number\":"); p != NULL;
		     p = strstr(p + 1, "\"line_number\":")) {
			const char *q = p + strlen("\"line_number\":");

			q += strspn(q, "0123456789");
			complete += *q == ',';
		}
		n = uplink_answer_named_lines(cut_body, CUT_LINES, cut_out);
		cut_body[cut] = saved;
		/* Distinct and ascending: exactly lines 999 .. 999 + complete - 1. */
		if (complete < 100 || n != complete || cut_out[0] != 999 ||
		    cut_out[n - 1] != 999 + n - 1)
			fail_msg("cut at %zu: %zu lines named, %zu complete, first %zu", cut, n,
				 complete, n > 0 ? cut_out[0] : 0);
	}
}

/* 1.x quotes every line of 2000: from the body cut at INFLUX_BODY_CAP the
 * message is raw JSON text, in which the lines quoted whole before the cut
 * are found, but not those with a '"' (escaped there). */
static void test_cut_body_quoted(void **state)
{
	static char text[CUT_LINES * 32];
	static char msg[INFLUX_BODY_CAP + 1];
	static size_t offsets[CUT_LINES];
	static size_t want[CUT_LINES];
	static const char start[] = "{\"error\":\"partial write: unable to parse '";
	size_t len = (size_t)sprintf(cut_body, "{\"error\":\"partial write: ");
	size_t tlen = 0;
	size_t nwant = 0;
	(void)state;

	for (size_t i = 0; i < CUT_LINES; i++) {
		bool quoted = i % 10 == 3;

		offsets[i] = tlen;
		tlen +=
		    (size_t)sprintf(text + tlen, quoted ? "m,i=%zu s=\"x\"\n" : "m,i=%zu a=1\n", i);
		len += (size_t)sprintf(cut_body + len,
				       quoted ? "%sunable to parse 'm,i=%zu s=\\\"x\\\"'"
					      : "%sunable to parse 'm,i=%zu a=1'",
				       i > 0 ? "\\n" : "", i);
		if (len <= INFLUX_BODY_CAP && !quoted)
			want[nwant++] = i;
		len += (size_t)sprintf(cut_body + len, ": invalid field format");
	}
	assert_true(len > INFLUX_BODY_CAP);
	assert_true(nwant > 100);
	/* What uplink_isolate() does: no line named, then the quoted ones. */
	cut_body[INFLUX_BODY_CAP] = '\0';
	uplink_answer_message(cut_body, INFLUX_BODY_CAP, msg, sizeof(msg));
	assert_memory_equal(msg, start, sizeof(start) - 1);
	assert_int_equal(strlen(msg), INFLUX_BODY_CAP);
	assert_int_equal(uplink_answer_named_lines(cut_body, CUT_LINES, cut_out), 0);
	assert_int_equal(uplink_answer_quoted_lines(msg, text, tlen, offsets, CUT_LINES, cut_out),
			 nwant);
	assert_memory_equal(cut_out, want, nwant * sizeof(*want));
}

/* Inflate a gzip member with zlib; returns the length or -1. */
static long test_gunzip(const unsigned char *in, size_t len, char *out, size_t cap)
{
	z_stream zs;
	long n = -1;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)cap;
	if (inflate(&zs, Z_FINISH) == Z_STREAM_END)
		n = (long)(cap - zs.avail_out);
	inflateEnd(&zs);
	return n;
}

static void test_gzip_round_trip(void **state)
{
	struct uplink_gzip *g = NULL;
	size_t len = 0;
	char *text = malloc(200000);
	char *back = malloc(200000);
	const unsigned char *packed;
	size_t packed_len;
	(void)state;

	assert_non_null(text);
	assert_non_null(back);
	for (int i = 0; len < 190000; i++)
		len += (size_t)snprintf(text + len, 200000 - len,
					"data,type=t sensor_id=%d,value=%d %lld\n", i % 7, i,
					1700000000000000000LL + i);
	assert_int_equal(uplink_gzip_create(1, &g), 0);
	for (int round = 0; round < 3; round++) {
		/* The same stream is reused: each result is a complete gzip member. */
		assert_int_equal(uplink_gzip_compress(g, text, len, &packed, &packed_len), 0);
		assert_true(packed_len < len / 4);
		assert_int_equal(packed[0], 0x1f);
		assert_int_equal(packed[1], 0x8b);
		assert_int_equal(test_gunzip(packed, packed_len, back, 200000), (long)len);
		assert_memory_equal(back, text, len);
	}
	assert_int_equal(uplink_gzip_compress(g, text, 0, &packed, &packed_len), 0);
	assert_int_equal(test_gunzip(packed, packed_len, back, 200000), 0);
	uplink_gzip_destroy(g);
	uplink_gzip_destroy(NULL);
	free(text);
	free(back);
}

static void test_gzip_bad_level(void **state)
{
	struct uplink_gzip *g = NULL;
	(void)state;

	assert_int_equal(uplink_gzip_create(0, &g), -1);
	assert_int_equal(uplink_gzip_create(10, &g), -1);
	assert_null(g);
}

static int64_t test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void test_append_done(void *arg, int result)
{
	atomic_store((atomic_int *)arg, result == STORAGE_OK ? 1 : -1);
}

/* Options for an InfluxDB that refuses connections (port 1 on loopback). */
static struct uplink_options test_options(void)
{
	struct uplink_options o = {
	    .api = UPLINK_API_V1,
	    .url = "http://127.0.0.1:1",
	    .database = "iot",
	    .batch_points = 10,
	    .batch_bytes = 4096,
	    .flush_interval_ms = 10,
	    .retry_initial_ms = 10,
	    .retry_max_ms = 50,
	    .timeout_ms = 1000,
	};
	return o;
}

static void test_options_refused(void **state)
{
	struct uplink_options o = test_options();
	struct uplink *u = (struct uplink *)&o; /* must stay untouched */
	struct uplink *before = u;
	(void)state;

	o.timeout_ms = 0;
	assert_int_equal(uplink_start(&o, (struct storage *)&o, &u), -1);
	o = test_options();
	o.api = UPLINK_API_V2;
	o.bucket = "";
	assert_int_equal(uplink_start(&o, (struct storage *)&o, &u), -1);
	o = test_options();
	o.url = "";
	assert_int_equal(uplink_start(&o, (struct storage *)&o, &u), -1);
	o = test_options();
	o.batch_points = 0;
	assert_int_equal(uplink_start(&o, (struct storage *)&o, &u), -1);
	assert_ptr_equal(u, before);
	uplink_stop(NULL);
}

/* A running uplink against a refused port: the heartbeat stays fresh, the
 * failures are counted and classed, the point stays in the buffer. */
static void test_lifecycle_network_error(void **state)
{
	char dir[] = "/tmp/test_uplink.XXXXXX";
	char path[64];
	struct storage_options so = {.path = path, .durability = STORAGE_DURABILITY_NORMAL};
	struct uplink_options o = test_options();
	struct storage *st = NULL;
	struct uplink *u = NULL;
	struct uplink_stats us;
	struct storage_stats ss;
	atomic_int done = 0;
	char *text = strdup("data,type=t value=1 1700000000000000000\n");
	int64_t t0, hb;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	assert_int_equal(storage_open(&so, &st), STORAGE_OK);
	assert_int_equal(storage_append(st, text, strlen(text), 1, test_append_done, &done),
			 STORAGE_OK);
	for (int i = 0; i < 500 && atomic_load(&done) == 0; i++)
		test_sleep_ms(10);
	assert_int_equal(atomic_load(&done), 1);

	assert_int_equal(uplink_start(&o, st, &u), 0);
	uplink_get_stats(u, &us);
	assert_int_equal(us.batch_points, 10);
	assert_int_equal(us.batch_bytes, 4096);
	for (int i = 0; i < 500; i++) {
		uplink_get_stats(u, &us);
		if (us.requests_failed >= 3)
			break;
		test_sleep_ms(10);
	}
	assert_true(us.requests_failed >= 3);
	assert_int_equal(us.requests_ok, 0);
	assert_int_equal(us.points_sent, 0);
	assert_true(us.consecutive_failures >= 3);
	assert_true(us.retries >= 2);
	assert_int_equal(us.last_error_class, UPLINK_ERROR_NETWORK);
	assert_non_null(strstr(us.last_error, "network error: "));
	assert_true(us.last_error_ms > 0);
	assert_int_equal(us.last_success_ms, 0);
	assert_int_equal(us.auth_failed, 0);
	assert_int_equal(us.bytes_raw, us.bytes_sent); /* 40 bytes: below the gzip size */
	t0 = test_now_ms();
	hb = (int64_t)uplink_heartbeat_ms(u);
	/* Waiting or a step begun within the last second: never stale. */
	assert_true(hb <= test_now_ms() && hb > t0 - 1000);
	uplink_stop(u);

	storage_get_stats(st, &ss);
	assert_int_equal(ss.points, 1);
	assert_int_equal(ss.rejected_total, 0);
	storage_close(st);
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/buffer.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/buffer.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

/* The v2 token and the v1 password are wiped before their memory is freed:
 * the header built from the token, and the uplink's copies of both. */
static void test_secrets_wiped_before_free(void **state)
{
	char dir[] = "/tmp/test_uplink.XXXXXX";
	char path[64];
	struct storage_options so = {.path = path, .durability = STORAGE_DURABILITY_NORMAL};
	struct uplink_options o = test_options();
	struct storage *st = NULL;
	struct uplink *u = NULL;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	assert_int_equal(storage_open(&so, &st), STORAGE_OK);
	atomic_store(&wrap_secrets[0], "tok-5ecret-v2-0123456789");
	atomic_store(&wrap_secrets[1], "pw-5ecret-v1-0123456789");
	o.api = UPLINK_API_V2;
	o.org = "o";
	o.bucket = "b";
	o.token = "tok-5ecret-v2-0123456789";
	assert_int_equal(uplink_start(&o, st, &u), 0);
	uplink_stop(u);
	o = test_options();
	o.username = "me";
	o.password = "pw-5ecret-v1-0123456789";
	assert_int_equal(uplink_start(&o, st, &u), 0);
	uplink_stop(u);
	atomic_store(&wrap_secrets[0], NULL);
	atomic_store(&wrap_secrets[1], NULL);
	if (atomic_load(&wrap_unwiped) != 0)
		fail_msg("%d freed blocks still held a secret", atomic_load(&wrap_unwiped));
	storage_close(st);
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/buffer.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/buffer.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retry_after_seconds),
	    cmocka_unit_test(test_retry_after_garbage),
	    cmocka_unit_test(test_retry_after_date),
	    cmocka_unit_test(test_classify_table),
	    cmocka_unit_test(test_class_names),
	    cmocka_unit_test(test_message_json),
	    cmocka_unit_test(test_message_escapes),
	    cmocka_unit_test(test_message_cut_body),
	    cmocka_unit_test(test_message_plain_and_cut),
	    cmocka_unit_test(test_named_lines),
	    cmocka_unit_test(test_quoted_lines),
	    cmocka_unit_test(test_cut_body_named),
	    cmocka_unit_test(test_cut_body_quoted),
	    cmocka_unit_test(test_gzip_round_trip),
	    cmocka_unit_test(test_gzip_bad_level),
	    cmocka_unit_test(test_options_refused),
	    cmocka_unit_test(test_lifecycle_network_error),
	    cmocka_unit_test(test_secrets_wiped_before_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
