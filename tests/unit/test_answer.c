/* test_answer.c -- unit tests for uplink/answer.c: the error table, Retry-After, InfluxDB's
 * message and the lines it names as bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "answer.h"
#include "influx.h"

#define RA(s, now) uplink_answer_retry_after((s), strlen(s), (now))

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

/* Which answers may come from the lines (a 5xx isolation may follow) and
 * which always mean the server (never bisected). */
static void test_server_fault(void **state)
{
	static const long lines[] = {500, 501, 502, 505, 507, 599};
	static const long server[] = {0, 200, 204, 400, 404, 413, 429, 499, 503, 504, 600};
	(void)state;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!uplink_answer_server_fault(lines[i]))
			fail_msg("HTTP %ld should be worth a bisection", lines[i]);
	for (size_t i = 0; i < sizeof(server) / sizeof(server[0]); i++)
		if (uplink_answer_server_fault(server[i]))
			fail_msg("HTTP %ld must never be bisected", server[i]);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retry_after_seconds),
	    cmocka_unit_test(test_retry_after_garbage),
	    cmocka_unit_test(test_retry_after_date),
	    cmocka_unit_test(test_classify_table),
	    cmocka_unit_test(test_server_fault),
	    cmocka_unit_test(test_class_names),
	    cmocka_unit_test(test_message_json),
	    cmocka_unit_test(test_message_escapes),
	    cmocka_unit_test(test_message_cut_body),
	    cmocka_unit_test(test_message_plain_and_cut),
	    cmocka_unit_test(test_named_lines),
	    cmocka_unit_test(test_quoted_lines),
	    cmocka_unit_test(test_cut_body_named),
	    cmocka_unit_test(test_cut_body_quoted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
