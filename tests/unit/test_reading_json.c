/* test_reading_json.c -- unit tests: general JSON objects on /data (edge/model/reading_general.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "lineproto.h"
#include "reading.h"

static int64_t fake_clock_next;
static int fake_clock_calls;

static int64_t fake_clock(void *arg)
{
	(void)arg;
	fake_clock_calls++;
	return fake_clock_next++;
}

static int reset_clock(void **state)
{
	(void)state;
	fake_clock_next = 1000;
	fake_clock_calls = 0;
	return 0;
}

static void expect_lines(const char *body, const char *want, size_t count)
{
	struct reading_points out = {NULL, 0, 0};
	char err[256] = "untouched";

	if (reading_parse_json(body, strlen(body), fake_clock, NULL, &out, err, sizeof(err)) != 0)
		fail_msg("body %s rejected: %s", body, err);
	assert_non_null(out.text);
	assert_string_equal(out.text, want);
	assert_int_equal(out.len, strlen(want));
	assert_int_equal(out.count, count);
	free(out.text);
}

static void expect_err(const char *body, const char *want)
{
	static char sentinel[] = "sentinel";
	struct reading_points out = {sentinel, 7, 7};
	char err[256] = "";

	if (reading_parse_json(body, strlen(body), fake_clock, NULL, &out, err, sizeof(err)) != -1)
		fail_msg("body %s accepted: %s", body, out.text);
	assert_null(out.text);
	assert_int_equal(out.len, 0);
	assert_int_equal(out.count, 0);
	if (strcmp(err, want) != 0)
		fail_msg("body %s: got \"%s\", want \"%s\"", body, err, want);
}

/* One general object with n fields "k0".."k<n-1>" (the last repeating
 * `dup` when dup < n) and n_tags tags (malloc'd). */
static char *wide_object(size_t n, size_t dup, size_t n_tags)
{
	size_t cap = 128 + (n + n_tags) * 24;
	char *s = malloc(cap);
	size_t len;

	assert_non_null(s);
	len = (size_t)snprintf(s, cap, "{\"measurement\":\"m\",\"tags\":{");
	for (size_t i = 0; i < n_tags; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s\"t%zu\":\"x\"", i ? "," : "", i);
	len += (size_t)snprintf(s + len, cap - len, "},\"fields\":{");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%s\"k%zu\":1", i ? "," : "",
					i + 1 == n && dup < n ? dup : i);
	snprintf(s + len, cap - len, "},\"ts\":1}");
	return s;
}

static int parse_limited(const char *body, size_t max_tags, size_t max_fields, char *err,
			 size_t err_size, struct reading_points *out)
{
	struct reading_limits lim = {.max_tags = max_tags, .max_fields = max_fields};

	return reading_parse_json_limits(body, strlen(body), fake_clock, NULL, &lim, out, err,
					 err_size);
}

/* 120 000 keys in one object: the duplicate check is n log n (it was
 * quadratic: ~20 s). The time is printed; a hang is caught by the bound. */
static void test_many_fields_linear(void **state)
{
	struct reading_points out = {NULL, 0, 0};
	struct timespec t0, t1;
	char err[256];
	char *body;
	double ms;

	(void)state;
	body = wide_object(120000, 120000, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(parse_limited(body, 0, 200000, err, sizeof(err), &out), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	print_message("reading_parse_json: 120 000 fields in %.1f ms\n", ms);
	assert_true(ms < 10000); /* a hang, not a timing assertion: quadratic took ~20 s */
	assert_int_equal(out.count, 1);
	free(out.text);
	free(body);
	body = wide_object(120000, 7, 0);
	assert_int_equal(parse_limited(body, 0, 200000, err, sizeof(err), &out), -1);
	assert_string_equal(err, "duplicate field \"k7\"");
	/* With the default limit the object is refused at field 1 025. */
	assert_int_equal(parse_limited(body, 0, 0, err, sizeof(err), &out), -1);
	assert_string_equal(err, "more than 1024 fields in one point (http.max_fields)");
	free(body);
}

/* Tags: 64 by default, the limit given otherwise; the series key. */
static void test_point_limits(void **state)
{
	struct reading_points out = {NULL, 0, 0};
	char err[256];
	char *body;

	(void)state;
	body = wide_object(1, 1, 64);
	assert_int_equal(parse_limited(body, 0, 0, err, sizeof(err), &out), 0);
	free(out.text);
	free(body);
	body = wide_object(1, 1, 65);
	assert_int_equal(parse_limited(body, 0, 0, err, sizeof(err), &out), -1);
	assert_string_equal(err, "65 tags in one point, more than 64 (http.max_tags)");
	free(body);
	body = wide_object(2, 2, 200);
	assert_int_equal(parse_limited(body, 1000, 0, err, sizeof(err), &out), 0);
	assert_int_equal(out.count, 1);
	free(out.text);
	assert_int_equal(parse_limited(body, 1, 1, err, sizeof(err), &out), -1);
	assert_string_equal(err, "more than 1 fields in one point (http.max_fields)");
	free(body);
	/* 256 tags of 255-byte keys and values: a series key over 65 535. */
	{
		size_t cap = 300000;
		char *big = malloc(cap);
		char name[256];
		size_t len;

		assert_non_null(big);
		memset(name, 'v', 250);
		name[250] = '\0';
		len = (size_t)snprintf(big, cap, "[{\"measurement\":\"m\",\"tags\":{");
		for (int i = 0; i < 130; i++)
			len += (size_t)snprintf(big + len, cap - len, "%s\"%03d%s\":\"%s\"",
						i ? "," : "", i, name, name);
		snprintf(big + len, cap - len, "},\"fields\":{\"v\":1}}]");
		assert_int_equal(parse_limited(big, 1000, 0, err, sizeof(err), &out), -1);
		assert_string_equal(err, "element 0: series key (measurement and tags) is 65651 "
					 "bytes, more than 65535 (InfluxDB's limit)");
		free(big);
	}
}

/* Two elements giving one field two types: the body is refused, naming both;
 * another series or another key is no conflict. */
static void test_type_conflict(void **state)
{
	(void)state;
	expect_err(
	    "[{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":1},"
	    "{\"measurement\":\"m\",\"tags\":{\"t\":\"a\"},\"fields\":{\"v\":\"s\"},\"ts\":2},"
	    "{\"measurement\":\"m\",\"fields\":{\"w\":true,\"v\":\"s\"},\"ts\":3}]",
	    "element 2: field \"v\" is a string here but a float in element 0 of this "
	    "request (InfluxDB refuses a field type conflict)");
	expect_err("[{\"type\":\"temp\",\"value\":1,\"ts\":\"2017-03-11T15:00:53Z\"},"
		   "{\"measurement\":\"data\",\"tags\":{\"type\":\"temp\"},\"fields\":{\"value\":"
		   "false},\"ts\":2}]",
		   "element 1: field \"value\" is a boolean here but a float in element 0 of this "
		   "request (InfluxDB refuses a field type conflict)");
	expect_lines("[{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":1},"
		     "{\"measurement\":\"m\",\"tags\":{\"t\":\"a\"},\"fields\":{\"v\":\"s\"},"
		     "\"ts\":2}]",
		     "m v=1 1000000000\nm,t=a v=\"s\" 2000000000\n", 2);
}

static void test_general_object(void **state)
{
	(void)state;
	expect_lines("{\"measurement\":\"env\",\"tags\":{\"room\":\"kitchen\",\"floor\":\"1\"},"
		     "\"fields\":{\"temp\":21.5,\"hum\":40,\"ok\":true,\"off\":false,"
		     "\"note\":\"say \\\"hi\\\" \\\\o/\"},\"ts\":\"2017-03-11T15:00:53Z\"}",
		     "env,floor=1,room=kitchen temp=21.5,hum=40,ok=true,off=false,"
		     "note=\"say \\\"hi\\\" \\\\o/\" 1489244453000000000\n",
		     1);
	assert_int_equal(fake_clock_calls, 0);
	/* No tags, no ts: the receipt clock. Key order does not matter. */
	expect_lines("{\"fields\":{\"v\":1},\"measurement\":\"m\"}", "m v=1 1000\n", 1);
	assert_int_equal(fake_clock_calls, 1);
	expect_lines("{\"measurement\":\"m\",\"tags\":{},\"fields\":{\"v\":-0.5}}",
		     "m v=-0.5 1001\n", 1);
	/* Names escaped for line protocol; UTF-8 kept. */
	expect_lines("{\"measurement\":\"my env,x\",\"tags\":{\"a b\":\"c=d,e\"},"
		     "\"fields\":{\"f=1\":1,\"température\":\"été\"},\"ts\":0}",
		     "my\\ env\\,x,a\\ b=c\\=d\\,e f\\=1=1,température=\"été\" 0\n", 1);
}

static void test_numeric_ts_is_seconds(void **state)
{
	(void)state;
	expect_lines("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":1489244453}",
		     "m v=1 1489244453000000000\n", 1);
	/* Fractions are kept to the microsecond, without double noise. */
	expect_lines("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":1489244453.123}",
		     "m v=1 1489244453123000000\n", 1);
	expect_lines("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":1489244453.1234567}",
		     "m v=1 1489244453123457000\n", 1);
	expect_lines("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":-1.5}",
		     "m v=1 -1500000000\n", 1);
	expect_lines("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":9223372035}",
		     "m v=1 9223372035000000000\n", 1);
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":9223372037}",
		   "\"ts\": 9223372037 seconds is outside InfluxDB's time range (1677-09-21 .. "
		   "2262-04-11)");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":1e300}",
		   "\"ts\": 1.0000000000000001e+300 seconds is outside InfluxDB's time range "
		   "(1677-09-21 .. 2262-04-11)");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":true}",
		   "\"ts\" must be an RFC 3339 string or a number of seconds since "
		   "1970-01-01T00:00:00Z");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"ts\":\"yesterday\"}",
		   "\"ts\": expected a digit of the year at byte 0");
	assert_int_equal(fake_clock_calls, 0);
}

static void test_mixed_array(void **state)
{
	(void)state;
	expect_lines("[{\"type\":\"temp\",\"value\":1,\"ts\":\"1970-01-01T00:00:01Z\"},"
		     "{\"measurement\":\"env\",\"fields\":{\"hum\":2},\"ts\":2},"
		     "{\"type\":\"hum\",\"value\":3}]",
		     "data,type=temp value=1 1000000000\n"
		     "env hum=2 2000000000\n"
		     "data,type=hum value=3 1000\n",
		     3);
	expect_err("[{\"measurement\":\"m\",\"fields\":{\"v\":1}},"
		   "{\"measurement\":\"m\",\"fields\":{}}]",
		   "element 1: \"fields\" must hold at least one field");
}

static void test_seed_parser_stays_strict(void **state)
{
	struct reading_points out = {NULL, 0, 0};
	const char *body = "{\"measurement\":\"m\",\"fields\":{\"v\":1}}";
	char err[256] = "";

	(void)state;
	assert_int_equal(
	    reading_parse_seed_json(body, strlen(body), fake_clock, NULL, &out, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "unknown key \"measurement\"");
	assert_null(out.text);
}

static void test_general_errors(void **state)
{
	(void)state;
	expect_err("{\"tags\":{\"a\":\"b\"},\"fields\":{\"v\":1}}", "\"measurement\" is required");
	expect_err("{\"measurement\":3,\"fields\":{\"v\":1}}", "\"measurement\" must be a string");
	expect_err("{\"measurement\":\"\",\"fields\":{\"v\":1}}",
		   "\"measurement\" must not be empty");
	expect_err("{\"measurement\":\"#m\",\"fields\":{\"v\":1}}",
		   "\"measurement\" must not start with '#' (a comment in line protocol)");
	expect_err("{\"measurement\":\"a\\\\b\",\"fields\":{\"v\":1}}",
		   "\"measurement\" must not contain a backslash (InfluxDB 1.x line protocol "
		   "cannot carry it)");
	expect_err("{\"measurement\":\"a\\tb\",\"fields\":{\"v\":1}}",
		   "\"measurement\" contains a control character at byte 1");
	expect_err("{\"measurement\":\"m\"}", "\"fields\" is required");
	expect_err("{\"measurement\":\"m\",\"fields\":[1]}", "\"fields\" must be an object");
	expect_err("{\"measurement\":\"m\",\"fields\":{}}",
		   "\"fields\" must hold at least one field");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":null}}",
		   "field \"v\" must be a number, true/false or a string");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":{\"x\":1}}}",
		   "field \"v\" must be a number, true/false or a string");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":1e400}}",
		   "field \"v\" is out of range for a float");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":\"a\\nb\"}}",
		   "field \"v\" holds a newline (not supported: the buffer stores one point per "
		   "line)");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":1,\"v\":2}}", "duplicate field \"v\"");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"time\":1}}",
		   "field key \"time\" is not allowed (InfluxDB reserves it)");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"\":1}}",
		   "field key \"\" must not be empty");
	expect_err("{\"measurement\":\"m\",\"tags\":[],\"fields\":{\"v\":1}}",
		   "\"tags\" must be an object of strings");
	expect_err("{\"measurement\":\"m\",\"tags\":{\"t\":1},\"fields\":{\"v\":1}}",
		   "tag \"t\" must be a string");
	expect_err("{\"measurement\":\"m\",\"tags\":{\"t\":\"\"},\"fields\":{\"v\":1}}",
		   "tag \"t\" must not be empty");
	expect_err(
	    "{\"measurement\":\"m\",\"tags\":{\"t\":\"a\",\"t\":\"b\"},\"fields\":{\"v\":1}}",
	    "duplicate tag \"t\"");
	expect_err("{\"measurement\":\"m\",\"tags\":{\"time\":\"x\"},\"fields\":{\"v\":1}}",
		   "tag key \"time\" is not allowed (InfluxDB reserves it)");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"value\":1}",
		   "unknown key \"value\" (a general reading has measurement, tags, fields and "
		   "ts)");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":1},\"fields\":{\"w\":1}}",
		   "duplicate key \"fields\"");
	expect_err("{\"measurement\":\"m\",\"fields\":{\"v\":\"\\u00ff\xff\"}}",
		   "field \"v\" is not valid UTF-8");
	/* Nothing of a refused point consumed a receipt time. */
	assert_int_equal(fake_clock_calls, 0);
}

/* The body is parsed in place: cJSON must not read one byte past it, however
 * the body ends (it is placed against an unreadable page, so a read past
 * its end is a SIGSEGV even in a build without ASan, and cJSON is not
 * instrumented in any). */
static void test_parsed_in_place_within_len(void **state)
{
	static const char *const bodies[] = {
	    "{\"type\":\"t\",\"value\":1}",
	    "{\"type\":\"t\",\"value\":1}  \n",
	    "[{\"type\":\"t\",\"value\":1}]",
	    "{\"type\":\"t\",\"value\":1",
	    "{\"type\":\"t\",\"value\":12345",
	    "{\"type\":\"t\",\"value\":1e",
	    "{\"type\":\"t\",\"value\":-",
	    "{\"type\":\"t\",\"value\":tru",
	    "{\"type\":\"t\",\"value\":nul",
	    "{\"type\":\"t\",\"value\":1}x",
	    "{\"type\":\"\\u00",
	    "{\"type\":\"\\ud83d\\ude0",
	    "{\"type\":\"abc",
	    "{\"type\":\"abc\\",
	    "{\"type\"",
	    "[",
	    "\xef\xbb\xbf{",
	    "1",
	    "   ",
	};
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char err[128];

	(void)state;
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		size_t len = strlen(bodies[i]);
		char *at = map + page - len;
		struct reading_points out = {NULL, 0, 0};
		int rc;

		memcpy(at, bodies[i], len);
		rc = reading_parse_json(at, len, fake_clock, NULL, &out, err, sizeof(err));
		assert_int_equal(rc, i < 3 ? 0 : -1);
		free(out.text);
	}
	munmap(map, (size_t)page * 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_general_object, reset_clock),
	    cmocka_unit_test_setup(test_numeric_ts_is_seconds, reset_clock),
	    cmocka_unit_test_setup(test_mixed_array, reset_clock),
	    cmocka_unit_test_setup(test_seed_parser_stays_strict, reset_clock),
	    cmocka_unit_test_setup(test_general_errors, reset_clock),
	    cmocka_unit_test_setup(test_parsed_in_place_within_len, reset_clock),
	    cmocka_unit_test_setup(test_many_fields_linear, reset_clock),
	    cmocka_unit_test_setup(test_type_conflict, reset_clock),
	    cmocka_unit_test_setup(test_point_limits, reset_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
