/* test_reading.c -- unit tests: seed JSON -> line protocol (edge/model/reading.c,
 * edge/model/lineproto.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lineproto.h"
#include "reading.h"

/* A fake receipt clock: 1000, 1001, ... and a count of its calls. */
static int64_t fake_clock_next;
static int fake_clock_calls;

static int64_t fake_clock(void *arg)
{
	(void)arg;
	fake_clock_calls++;
	return fake_clock_next++;
}

static int64_t broken_clock(void *arg)
{
	(void)arg;
	fake_clock_calls++;
	return INT64_MAX;
}

static int reset_clock(void **state)
{
	(void)state;
	fake_clock_next = 1000;
	fake_clock_calls = 0;
	return 0;
}

/* Asserts that body parses to exactly `want` with `count` points. */
static void expect_lines(const char *body, const char *want, size_t count)
{
	struct reading_points out = {NULL, 0, 0};
	char err[256] = "untouched";

	if (reading_parse_seed_json(body, strlen(body), fake_clock, NULL, &out, err, sizeof(err)) !=
	    0)
		fail_msg("body %s rejected: %s", body, err);
	assert_non_null(out.text);
	assert_string_equal(out.text, want);
	assert_int_equal(out.len, strlen(want));
	assert_int_equal(out.count, count);
	free(out.text);
}

/* Asserts that body is rejected with exactly `want`, and that nothing is
 * left allocated or half-filled in the result (ASan reports any leak). */
static void expect_error(const char *body, size_t len, const char *want)
{
	static char sentinel[] = "sentinel";
	struct reading_points out = {sentinel, 7, 7};
	char err[256] = "";

	if (reading_parse_seed_json(body, len, fake_clock, NULL, &out, err, sizeof(err)) != -1)
		fail_msg("body %.*s accepted: %s", (int)len, body, out.text);
	assert_null(out.text);
	assert_int_equal(out.len, 0);
	assert_int_equal(out.count, 0);
	if (strcmp(err, want) != 0)
		fail_msg("body %.*s: got \"%s\", want \"%s\"", (int)len, body, err, want);
}

/* expect_error() for a NUL-terminated body. */
static void expect_err(const char *body, const char *want)
{
	expect_error(body, strlen(body), want);
}

static void test_seed_example(void **state)
{
	(void)state;
	expect_lines(
	    "{\"ts\":\"2017-03-11T15:00:53Z\",\"type\":\"temp\",\"value\":34,\"sensor_id\":123}",
	    "data,type=temp sensor_id=123,value=34 1489244453000000000\n", 1);
	assert_int_equal(fake_clock_calls, 0);
}

static void test_key_order_and_whitespace_do_not_matter(void **state)
{
	(void)state;
	expect_lines(" \r\n\t{ \"sensor_id\" : 123 , \"value\" : 34, \"type\":\"temp\",\n"
		     "\"ts\":\"2017-03-11T15:00:53Z\"}\n\n",
		     "data,type=temp sensor_id=123,value=34 1489244453000000000\n", 1);
	/* A UTF-8 byte order mark is skipped. */
	expect_lines("\xef\xbb\xbf{\"type\":\"temp\",\"value\":1,\"ts\":\"1970-01-01T00:00:00Z\"}",
		     "data,type=temp value=1 0\n", 1);
}

static void test_array_in_order(void **state)
{
	(void)state;
	expect_lines(
	    "[{\"ts\":\"2017-03-11T15:00:53Z\",\"type\":\"temp\",\"value\":34,\"sensor_id\":1},"
	    " {\"ts\":\"2017-03-11T15:00:54Z\",\"type\":\"hum\",\"value\":55.5,\"sensor_id\":2},"
	    " {\"ts\":\"2017-03-11T15:00:55.5+01:00\",\"type\":\"temp\",\"value\":-3}]",
	    "data,type=temp sensor_id=1,value=34 1489244453000000000\n"
	    "data,type=hum sensor_id=2,value=55.5 1489244454000000000\n"
	    "data,type=temp value=-3 1489240855500000000\n",
	    3);
	assert_int_equal(fake_clock_calls, 0);
	expect_lines("[{\"type\":\"a\",\"value\":1,\"ts\":\"1970-01-01T00:00:01Z\"}]",
		     "data,type=a value=1 1000000000\n", 1);
}

/* A clock that counts in the caller's own variable: clock_arg reaches it. */
static int64_t counting_clock(void *arg)
{
	return (*(int64_t *)arg)++;
}

static void test_clock_gets_its_arg(void **state)
{
	struct reading_points out = {NULL, 0, 0};
	int64_t next = 77;
	char err[128];
	static const char body[] = "[{\"type\":\"a\",\"value\":1},{\"type\":\"b\",\"value\":2}]";

	assert_int_equal(reading_parse_seed_json(body, sizeof(body) - 1, counting_clock, &next,
						 &out, err, sizeof(err)),
			 0);
	(void)state;
	assert_string_equal(out.text, "data,type=a value=1 77\ndata,type=b value=2 78\n");
	assert_int_equal(next, 79);
	free(out.text);
}

static void test_missing_ts_uses_clock_per_point(void **state)
{
	(void)state;
	expect_lines("{\"type\":\"temp\",\"value\":34,\"sensor_id\":123}",
		     "data,type=temp sensor_id=123,value=34 1000\n", 1);
	assert_int_equal(fake_clock_calls, 1);
	expect_lines("[{\"type\":\"a\",\"value\":1},"
		     "{\"type\":\"b\",\"value\":2,\"ts\":\"1970-01-01T00:00:05Z\"},"
		     "{\"type\":\"c\",\"value\":3},{\"type\":\"d\",\"value\":4}]",
		     "data,type=a value=1 1001\n"
		     "data,type=b value=2 5000000000\n"
		     "data,type=c value=3 1002\n"
		     "data,type=d value=4 1003\n",
		     4);
	assert_int_equal(fake_clock_calls, 4);
}

static void test_float_formatting(void **state)
{
	static const struct {
		const char *json;
		const char *text;
	} cases[] = {
	    {"34", "34"},
	    {"34.0", "34"},
	    {"21.5", "21.5"},
	    {"-0.25", "-0.25"},
	    {"0.1", "0.1"},
	    {"1e21", "1e+21"},
	    {"1E-7", "1e-07"},
	    {"-0", "0"},
	    {"0", "0"},
	    {"123456789012345", "123456789012345"},
	    {"1234567890123456", "1234567890123456"},
	    {"1.234567890123456", "1.234567890123456"},
	    {"0.7999999999999999", "0.7999999999999999"},
	    {"0.30000000000000004", "0.30000000000000004"},
	    {"12345678901234567890", "1.2345678901234567e+19"},
	    {"1.7976931348623157e308", "1.7976931348623157e+308"},
	    {"-1.7976931348623157e308", "-1.7976931348623157e+308"},
	    {"2.2250738585072014e-308", "2.2250738585072014e-308"},
	    {"5e-324", "4.94065645841247e-324"},
	    {"1e-400", "0"},
	};
	char body[128];
	char want[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(body, sizeof(body),
				 "{\"type\":\"t\",\"value\":%s,\"sensor_id\":%s,"
				 "\"ts\":\"1970-01-01T00:00:00.000000001Z\"}",
				 cases[i].json, cases[i].json);
		assert_true(n > 0 && (size_t)n < sizeof(body));
		n = snprintf(want, sizeof(want), "data,type=t sensor_id=%s,value=%s 1\n",
			     cases[i].text, cases[i].text);
		assert_true(n > 0 && (size_t)n < sizeof(want));
		expect_lines(body, want, 1);
	}
}

static void test_sensor_id_optional(void **state)
{
	(void)state;
	expect_lines("{\"type\":\"temp\",\"value\":21.5,\"ts\":\"2017-03-11T15:00:53Z\"}",
		     "data,type=temp value=21.5 1489244453000000000\n", 1);
}

static void test_tag_escaping(void **state)
{
	char type256[300];
	char body[400];
	char want[400];

	(void)state;
	expect_lines("{\"type\":\"a,b c=d\",\"value\":1,\"ts\":\"1970-01-01T00:00:00Z\"}",
		     "data,type=a\\,b\\ c\\=d value=1 0\n", 1);
	expect_lines("{\"type\":\" ,=\",\"value\":1,\"ts\":\"1970-01-01T00:00:00Z\"}",
		     "data,type=\\ \\,\\= value=1 0\n", 1);
	/* UTF-8 text and JSON escapes that decode to it pass through. */
	expect_lines("{\"type\":\"temp\\u00e9rature \xe2\x82\xac\",\"value\":1,"
		     "\"ts\":\"1970-01-01T00:00:00Z\"}",
		     "data,type=temp\xc3\xa9rature\\ \xe2\x82\xac value=1 0\n", 1);
	expect_lines("{\"type\":\"\\ud83d\\ude00\\/#\\\"'\",\"value\":1,"
		     "\"ts\":\"1970-01-01T00:00:00Z\"}",
		     "data,type=\xf0\x9f\x98\x80/#\"' value=1 0\n", 1);
	/* Exactly 256 bytes is fine. */
	memset(type256, 'x', 256);
	type256[256] = '\0';
	assert_true(snprintf(body, sizeof(body),
			     "{\"type\":\"%s\",\"value\":1,\"ts\":\"1970-01-01T00:00:00Z\"}",
			     type256) > 0);
	assert_true(snprintf(want, sizeof(want), "data,type=%s value=1 0\n", type256) > 0);
	expect_lines(body, want, 1);
	/* ... 257 are not. */
	type256[255] = 'y';
	type256[256] = 'z';
	type256[257] = '\0';
	assert_true(snprintf(body, sizeof(body), "{\"type\":\"%s\",\"value\":1}", type256) > 0);
	expect_err(body, "\"type\" is longer than 256 bytes");
}

static void test_influx_time_range(void **state)
{
	(void)state;
	expect_lines("{\"type\":\"t\",\"value\":1,\"ts\":\"1677-09-21T00:12:43.145224194Z\"}",
		     "data,type=t value=1 -9223372036854775806\n", 1);
	expect_lines("{\"type\":\"t\",\"value\":1,\"ts\":\"2262-04-11T23:47:16.854775806Z\"}",
		     "data,type=t value=1 9223372036854775806\n", 1);
	expect_err("{\"type\":\"t\",\"value\":1,\"ts\":\"1677-09-21T00:12:43.145224193Z\"}",
		   "\"ts\": outside InfluxDB's time range (1677-09-21T00:12:43.145224194Z .. "
		   "2262-04-11T23:47:16.854775806Z)");
	expect_err("{\"type\":\"t\",\"value\":1,\"ts\":\"2262-04-11T23:47:16.854775807Z\"}",
		   "\"ts\": outside InfluxDB's time range (1677-09-21T00:12:43.145224194Z .. "
		   "2262-04-11T23:47:16.854775806Z)");
	expect_err("{\"type\":\"t\",\"value\":1,\"ts\":\"2262-04-11T23:47:16.854775808Z\"}",
		   "\"ts\": outside the int64 nanosecond range (1677-09-21T00:12:43.145224192Z .. "
		   "2262-04-11T23:47:16.854775807Z)");
}

static void test_body_is_not_nul_terminated(void **state)
{
	const char body[] = "{\"type\":\"t\",\"value\":1,\"ts\":\"1970-01-01T00:00:00Z\"}garbage";
	size_t len = sizeof(body) - 1 - strlen("garbage");
	struct reading_points out = {NULL, 0, 0};
	char *heap;
	char err[128];

	(void)state;
	/* Bytes after len are not part of the body. */
	assert_int_equal(
	    reading_parse_seed_json(body, len, fake_clock, NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out.text, "data,type=t value=1 0\n");
	free(out.text);
	/* A heap copy without a NUL: ASan would catch a read past the end. */
	heap = malloc(len);
	assert_non_null(heap);
	memcpy(heap, body, len);
	assert_int_equal(
	    reading_parse_seed_json(heap, len, fake_clock, NULL, &out, err, sizeof(err)), 0);
	assert_int_equal(out.count, 1);
	free(out.text);
	assert_int_equal(
	    reading_parse_seed_json(heap, len - 1, fake_clock, NULL, &out, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid JSON: body ends early");
	free(heap);
}

static void test_invalid_json(void **state)
{
	(void)state;
	expect_error("", 0, "empty body");
	expect_err("   ", "invalid JSON: body ends early");
	expect_err("{\"type\":\"t\",\"value\":1", "invalid JSON: body ends early");
	expect_err("{\"type\":\"t\",\"value\":1} x", "invalid JSON near byte 23");
	expect_err("{\"type\":\"t\",\"value\":1}{}", "invalid JSON near byte 22");
	expect_err("{\"type\":\"t\",\"value\":tru}", "invalid JSON near byte 20");
	expect_err("{\"type\":\"t\" \"value\":1}", "invalid JSON near byte 12");
	expect_err("{'type':'t','value':1}", "invalid JSON near byte 2");
	expect_err("{\"type\":\"\\ud800\",\"value\":1}", "invalid JSON near byte 9");
	expect_error("{\"type\":\"t\",\0\"value\":1}", 23,
		     "invalid JSON: control character at byte 12");
	expect_error("{\"type\":\"t\",\"value\":1}\0", 23,
		     "invalid JSON: control character at byte 22");
	expect_err("{\"type\":\"a\x01\",\"value\":1}",
		   "invalid JSON: control character at byte 10");
	expect_err("{\"type\":\"t\",\"value\":1}\x1f",
		   "invalid JSON: control character at byte 22");
	/* "\u0000" would silently cut the string short in cJSON. */
	expect_err("{\"type\":\"te\\u0000mp\",\"value\":1}",
		   "\\u0000 is not allowed in a string (byte 11)");
	expect_err("{\"ty\\u0000pe\":\"t\",\"value\":1}",
		   "\\u0000 is not allowed in a string (byte 4)");
	/* ... but an escaped backslash followed by "u0000" is plain text. */
	expect_err("{\"type\":\"t\",\"value\":1,\"ts\":\"\\\\u0000\"}",
		   "\"ts\": expected a digit of the year at byte 0");
}

static void test_shape_errors(void **state)
{
	(void)state;
	expect_err("[]", "no readings");
	expect_err(" [ ] ", "no readings");
	expect_err("34", "body must be a JSON object or an array of objects");
	expect_err("\"temp\"", "body must be a JSON object or an array of objects");
	expect_err("null", "body must be a JSON object or an array of objects");
	expect_err("true", "body must be a JSON object or an array of objects");
	expect_err("[1]", "element 0: must be an object");
	expect_err("[{\"type\":\"t\",\"value\":1},[]]", "element 1: must be an object");
	expect_err("{}", "\"type\" is required");
	expect_err("[{}]", "element 0: \"type\" is required");
}

static void test_key_errors(void **state)
{
	(void)state;
	expect_err("{\"type\":\"t\",\"value\":1,\"x\":2}", "unknown key \"x\"");
	expect_err("{\"Type\":\"t\",\"value\":1}", "unknown key \"Type\"");
	expect_err("{\"\":1}", "unknown key \"\"");
	expect_err("{\"a\\\"b\\\\c\\td\":1}", "unknown key \"a?b?c?d\"");
	expect_err("{\"0123456789012345678901234567890123456789ABC\":1}",
		   "unknown key \"0123456789012345678901234567890123456789...\"");
	/* A long key is cut at a character boundary, never inside one. */
	expect_err("{\"012345678901234567890123456789012345678\xc3\xa9\":1}",
		   "unknown key \"012345678901234567890123456789012345678...\"");
	expect_err("{\"b\xff\":1}", "unknown key \"b?\"");
	expect_err("{\"type\":\"t\",\"value\":1,\"type\":\"u\"}", "duplicate key \"type\"");
	expect_err("{\"value\":1,\"value\":2,\"type\":\"t\"}", "duplicate key \"value\"");
	expect_err("{\"type\":\"t\",\"value\":1,\"ts\":\"1970-01-01T00:00:00Z\","
		   "\"ts\":\"1970-01-01T00:00:00Z\"}",
		   "duplicate key \"ts\"");
	expect_err("[{\"type\":\"t\",\"value\":1},{\"type\":\"t\",\"value\":1},"
		   "{\"type\":\"t\",\"value\":1,\"sensor_id\":1,\"sensor_id\":1}]",
		   "element 2: duplicate key \"sensor_id\"");
}

static void test_type_errors(void **state)
{
	(void)state;
	expect_err("{\"value\":1}", "\"type\" is required");
	expect_err("{\"type\":12,\"value\":1}", "\"type\" must be a string");
	expect_err("{\"type\":null,\"value\":1}", "\"type\" must be a string");
	expect_err("{\"type\":[\"t\"],\"value\":1}", "\"type\" must be a string");
	expect_err("{\"type\":\"\",\"value\":1}", "\"type\" must not be empty");
	expect_err("{\"type\":\"a\\tb\",\"value\":1}",
		   "\"type\" contains a control character at byte 1");
	expect_err("{\"type\":\"ab\\n\",\"value\":1}",
		   "\"type\" contains a control character at byte 2");
	expect_err("{\"type\":\"\\u001f\",\"value\":1}",
		   "\"type\" contains a control character at byte 0");
	expect_err("{\"type\":\"a\x7f\",\"value\":1}",
		   "\"type\" contains a control character at byte 1");
	expect_err(
	    "{\"type\":\"a\\\\b\",\"value\":1}",
	    "\"type\" must not contain a backslash (InfluxDB 1.x line protocol cannot carry it)");
	expect_err(
	    "{\"type\":\"a\\\\\",\"value\":1}",
	    "\"type\" must not contain a backslash (InfluxDB 1.x line protocol cannot carry it)");
	expect_err("{\"type\":\"a\xff\",\"value\":1}", "\"type\" is not valid UTF-8");
	expect_err("{\"type\":\"\xc0\xaf\",\"value\":1}", "\"type\" is not valid UTF-8");
	expect_err("{\"type\":\"\xed\xa0\x80\",\"value\":1}", "\"type\" is not valid UTF-8");
}

static void test_number_errors(void **state)
{
	(void)state;
	expect_err("{\"type\":\"t\"}", "\"value\" is required");
	expect_err("{\"type\":\"t\",\"value\":\"34\"}", "\"value\" must be a number");
	expect_err("{\"type\":\"t\",\"value\":true}", "\"value\" must be a number");
	expect_err("{\"type\":\"t\",\"value\":false}", "\"value\" must be a number");
	expect_err("{\"type\":\"t\",\"value\":null}", "\"value\" must be a number");
	expect_err("{\"type\":\"t\",\"value\":{}}", "\"value\" must be a number");
	expect_err("{\"type\":\"t\",\"value\":[1]}", "\"value\" must be a number");
	expect_err("{\"type\":\"t\",\"value\":1e400}", "\"value\" is out of range for a float");
	expect_err("{\"type\":\"t\",\"value\":-1e400}", "\"value\" is out of range for a float");
	expect_err("{\"type\":\"t\",\"value\":1,\"sensor_id\":\"123\"}",
		   "\"sensor_id\" must be a number");
	expect_err("{\"type\":\"t\",\"value\":1,\"sensor_id\":null}",
		   "\"sensor_id\" must be a number");
	expect_err("{\"type\":\"t\",\"value\":1,\"sensor_id\":1e999}",
		   "\"sensor_id\" is out of range for a float");
	expect_err("[{\"type\":\"t\",\"value\":1},{\"type\":\"t\",\"value\":1},"
		   "{\"type\":\"t\",\"value\":\"1\"}]",
		   "element 2: \"value\" must be a number");
}

static void test_ts_errors(void **state)
{
	(void)state;
	expect_err("{\"type\":\"t\",\"value\":1,\"ts\":1489244453}", "\"ts\" must be a string");
	expect_err("{\"type\":\"t\",\"value\":1,\"ts\":null}", "\"ts\" must be a string");
	expect_err("{\"type\":\"t\",\"value\":1,\"ts\":\"2017-13-11T15:00:53Z\"}",
		   "\"ts\": month 13 out of range");
	expect_err("{\"type\":\"t\",\"value\":1,\"ts\":\"\"}", "\"ts\": empty timestamp");
	expect_err(
	    "[{\"type\":\"t\",\"value\":1},{\"type\":\"t\",\"value\":1,\"ts\":\"2017-03-11\"}]",
	    "element 1: \"ts\": ends early: expected 'T' between date and time at byte 10");
	assert_int_equal(fake_clock_calls, 1);
}

static void test_clock_out_of_range(void **state)
{
	struct reading_points out = {NULL, 0, 0};
	const char *body = "[{\"type\":\"t\",\"value\":1}]";
	char err[128];

	(void)state;
	assert_int_equal(
	    reading_parse_seed_json(body, strlen(body), broken_clock, NULL, &out, err, sizeof(err)),
	    -1);
	assert_null(out.text);
	assert_string_equal(err, "element 0: the receipt clock is outside InfluxDB's time range");
	assert_int_equal(fake_clock_calls, 1);
}

static void test_err_buffer_and_arguments(void **state)
{
	struct reading_points out = {NULL, 0, 0};
	const char *bad = "[{\"type\":\"t\",\"value\":1},{\"type\":\"t\"}]";
	const char *good = "{\"type\":\"t\",\"value\":1,\"ts\":\"1970-01-01T00:00:00Z\"}";
	char err[16];

	(void)state;
	/* A short err buffer gets a cut, terminated message. */
	memset(err, 'X', sizeof(err));
	assert_int_equal(reading_parse_seed_json(bad, strlen(bad), fake_clock, NULL, &out, err, 12),
			 -1);
	assert_string_equal(err, "element 1: ");
	assert_int_equal(err[12], 'X');
	assert_int_equal(reading_parse_seed_json(bad, strlen(bad), fake_clock, NULL, &out, err, 5),
			 -1);
	assert_string_equal(err, "elem");
	assert_int_equal(reading_parse_seed_json(bad, strlen(bad), fake_clock, NULL, &out, err, 1),
			 -1);
	assert_string_equal(err, "");
	/* No err buffer at all is allowed. */
	assert_int_equal(reading_parse_seed_json(bad, strlen(bad), fake_clock, NULL, &out, NULL, 0),
			 -1);
	assert_null(out.text);
	/* On success err is emptied. */
	memset(err, 'X', sizeof(err));
	assert_int_equal(
	    reading_parse_seed_json(good, strlen(good), fake_clock, NULL, &out, err, sizeof(err)),
	    0);
	assert_string_equal(err, "");
	free(out.text);
	/* Bad arguments. */
	assert_int_equal(
	    reading_parse_seed_json(good, strlen(good), NULL, NULL, &out, err, sizeof(err)), -1);
	assert_null(out.text);
	assert_int_equal(
	    reading_parse_seed_json(good, strlen(good), fake_clock, NULL, NULL, err, sizeof(err)),
	    -1);
	assert_int_equal(reading_parse_seed_json(NULL, 3, fake_clock, NULL, &out, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "internal error:");
	assert_int_equal(reading_parse_seed_json(NULL, 0, fake_clock, NULL, &out, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "empty body");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_seed_example, reset_clock),
	    cmocka_unit_test_setup(test_key_order_and_whitespace_do_not_matter, reset_clock),
	    cmocka_unit_test_setup(test_array_in_order, reset_clock),
	    cmocka_unit_test_setup(test_missing_ts_uses_clock_per_point, reset_clock),
	    cmocka_unit_test(test_clock_gets_its_arg),
	    cmocka_unit_test_setup(test_float_formatting, reset_clock),
	    cmocka_unit_test_setup(test_sensor_id_optional, reset_clock),
	    cmocka_unit_test_setup(test_tag_escaping, reset_clock),
	    cmocka_unit_test_setup(test_influx_time_range, reset_clock),
	    cmocka_unit_test_setup(test_body_is_not_nul_terminated, reset_clock),
	    cmocka_unit_test_setup(test_invalid_json, reset_clock),
	    cmocka_unit_test_setup(test_shape_errors, reset_clock),
	    cmocka_unit_test_setup(test_key_errors, reset_clock),
	    cmocka_unit_test_setup(test_type_errors, reset_clock),
	    cmocka_unit_test_setup(test_number_errors, reset_clock),
	    cmocka_unit_test_setup(test_ts_errors, reset_clock),
	    cmocka_unit_test_setup(test_clock_out_of_range, reset_clock),
	    cmocka_unit_test_setup(test_err_buffer_and_arguments, reset_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
