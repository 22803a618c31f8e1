/* test_rfc3339.c -- unit tests for RFC 3339 -> ns parsing (edge/rfc3339.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "rfc3339.h"

#define WHY_SIZE 128

/* Parses a NUL-terminated string; returns the parser's result. */
static int parse(const char *s, int64_t *ns, char *why)
{
	return rfc3339_parse_ns(s, strlen(s), ns, why, WHY_SIZE);
}

/* Asserts that s parses to exactly `want`. */
static void expect_ns(const char *s, int64_t want)
{
	char why[WHY_SIZE] = "";
	int64_t ns = 0x5a5a5a5a;

	if (parse(s, &ns, why) != 0)
		fail_msg("\"%s\" rejected: %s", s, why[0] ? why : "(no reason)");
	if (ns != want)
		fail_msg("\"%s\" -> %lld, want %lld", s, (long long)ns, (long long)want);
}

/* Asserts that s is rejected with exactly the message `want`, and that
 * *ns is left alone. */
static void expect_error(const char *s, const char *want)
{
	char why[WHY_SIZE] = "";
	int64_t ns = 42;

	if (parse(s, &ns, why) != -1)
		fail_msg("\"%s\" accepted as %lld", s, (long long)ns);
	assert_int_equal(ns, 42);
	if (strcmp(why, want) != 0)
		fail_msg("\"%s\": got \"%s\", want \"%s\"", s, why, want);
}

static void test_seed_example(void **state)
{
	(void)state;
	expect_ns("2017-03-11T15:00:53Z", 1489244453000000000);
	expect_ns("1970-01-01T00:00:00Z", 0);
	expect_ns("1969-12-31T23:59:59Z", -1000000000);
	expect_ns("1969-12-31T23:59:59.999999999Z", -1);
}

static void test_separators_and_zulu_case(void **state)
{
	(void)state;
	expect_ns("2017-03-11t15:00:53z", 1489244453000000000);
	expect_ns("2017-03-11 15:00:53Z", 1489244453000000000);
	expect_ns("2017-03-11T15:00:53+00:00", 1489244453000000000);
	expect_ns("2017-03-11T15:00:53-00:00", 1489244453000000000);
}

static void test_fractions(void **state)
{
	const int64_t base = 1489244453000000000;

	(void)state;
	expect_ns("2017-03-11T15:00:53.1Z", base + 100000000);
	expect_ns("2017-03-11T15:00:53.12Z", base + 120000000);
	expect_ns("2017-03-11T15:00:53.123Z", base + 123000000);
	expect_ns("2017-03-11T15:00:53.1234Z", base + 123400000);
	expect_ns("2017-03-11T15:00:53.12345Z", base + 123450000);
	expect_ns("2017-03-11T15:00:53.123456Z", base + 123456000);
	expect_ns("2017-03-11T15:00:53.1234567Z", base + 123456700);
	expect_ns("2017-03-11T15:00:53.12345678Z", base + 123456780);
	expect_ns("2017-03-11T15:00:53.123456789Z", base + 123456789);
	/* Digits past the ninth are truncated, never rounded. */
	expect_ns("2017-03-11T15:00:53.123456789999Z", base + 123456789);
	expect_ns("2017-03-11T15:00:53.000000000999Z", base);
	expect_ns("2017-03-11T15:00:53.0Z", base);
	expect_ns("2017-03-11T15:00:53.050+01:00", base - 3600000000000 + 50000000);
}

static void test_offsets(void **state)
{
	(void)state;
	/* The same instant as 2017-03-11T15:00:53Z. */
	expect_ns("2017-03-11T20:30:53+05:30", 1489244453000000000);
	expect_ns("2017-03-11T07:00:53-08:00", 1489244453000000000);
	/* Offsets move across a date line. */
	expect_ns("2017-03-10T23:00:53-16:00", 1489244453000000000);
	expect_ns("2017-03-12T14:59:53+23:59", 1489244453000000000);
	expect_ns("1970-01-01T00:00:00+01:00", -3600000000000);
}

static void test_calendar(void **state)
{
	(void)state;
	expect_ns("2024-02-29T00:00:00Z", 1709164800000000000);
	expect_ns("2000-02-29T00:00:00Z", 951782400000000000);
	expect_ns("2024-12-31T23:59:59Z", 1735689599000000000);
	expect_ns("2023-04-30T12:00:00Z", 1682856000000000000);
	expect_error("2023-02-29T00:00:00Z", "day 29 out of range (2023-02 has 28 days)");
	expect_error("1900-02-29T00:00:00Z", "day 29 out of range (1900-02 has 28 days)");
	expect_error("2024-02-30T00:00:00Z", "day 30 out of range (2024-02 has 29 days)");
	expect_error("2023-04-31T00:00:00Z", "day 31 out of range (2023-04 has 30 days)");
	expect_error("2023-01-32T00:00:00Z", "day 32 out of range (2023-01 has 31 days)");
	expect_error("2023-01-00T00:00:00Z", "day 0 out of range (2023-01 has 31 days)");
	expect_error("2017-13-11T15:00:53Z", "month 13 out of range");
	expect_error("2017-00-11T15:00:53Z", "month 0 out of range");
}

static void test_clock_ranges(void **state)
{
	(void)state;
	expect_ns("2017-03-11T23:59:59Z", 1489276799000000000);
	expect_error("2017-03-11T24:00:00Z", "hour 24 out of range");
	expect_error("2017-03-11T15:60:00Z", "minute 60 out of range");
	expect_error("2017-03-11T15:00:61Z", "second 61 out of range");
	expect_error("2017-03-11T15:00:53+24:00", "offset hour 24 out of range");
	expect_error("2017-03-11T15:00:53+05:60", "offset minute 60 out of range");
}

static void test_leap_second(void **state)
{
	(void)state;
	/* 2016-12-31T23:59:60Z is folded into 2017-01-01T00:00:00Z. */
	expect_ns("2016-12-31T23:59:60Z", 1483228800000000000);
	expect_ns("2016-12-31T23:59:60.5Z", 1483228800500000000);
	expect_ns("2017-01-01T00:00:00Z", 1483228800000000000);
}

static void test_int64_edges(void **state)
{
	(void)state;
	expect_ns("2262-04-11T23:47:16.854775807Z", INT64_MAX);
	expect_error("2262-04-11T23:47:16.854775808Z",
		     "outside the int64 nanosecond range "
		     "(1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z)");
	expect_ns("1677-09-21T00:12:43.145224192Z", INT64_MIN);
	expect_ns("1677-09-21T00:12:43.145224193Z", INT64_MIN + 1);
	expect_error("1677-09-21T00:12:43.145224191Z",
		     "outside the int64 nanosecond range "
		     "(1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z)");
	/* The offset is part of the instant: the same edge written elsewhere. */
	expect_ns("2262-04-12T00:47:16.854775807+01:00", INT64_MAX);
	expect_error("2262-04-12T00:47:16.854775808+01:00",
		     "outside the int64 nanosecond range "
		     "(1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z)");
	expect_error("9999-12-31T23:59:59Z",
		     "outside the int64 nanosecond range "
		     "(1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z)");
	expect_error("0000-01-01T00:00:00Z",
		     "outside the int64 nanosecond range "
		     "(1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z)");
	expect_error("1677-09-21T00:12:43Z",
		     "outside the int64 nanosecond range "
		     "(1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z)");
	expect_ns("1677-09-21T00:12:44Z", -9223372036000000000);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_error("", "empty timestamp");
	expect_error("2017", "ends early: expected '-' after the year at byte 4");
	expect_error("2017-03-11", "ends early: expected 'T' between date and time at byte 10");
	expect_error("2017-03-11T15:00", "ends early: expected ':' after the minute at byte 16");
	expect_error("2017-03-11T15:00:53",
		     "ends early: expected 'Z' or an offset such as +01:00 at byte 19");
	expect_error("2017-03-11T15:00:5", "ends early: expected the second at byte 18");
	expect_error("2017-03-11T15:00:53+05", "ends early: expected ':' in the offset at byte 22");
	expect_error("2017-03-11T15:00:53+05:3",
		     "ends early: expected the offset minute at byte 24");
	expect_error("2017-03-11T15:00:53.", "expected a digit after '.' at byte 20");
	expect_error("2017-03-11T15:00:53.Z", "expected a digit after '.' at byte 20");
	expect_error("2017-03-11T15:00:53,5Z",
		     "expected 'Z' or an offset such as +01:00 at byte 19");
	expect_error("17-03-11T15:00:53Z", "expected a digit of the year at byte 2");
	expect_error("2017/03/11T15:00:53Z", "expected '-' after the year at byte 4");
	expect_error("2017-3-11T15:00:53Z", "expected a digit of the month at byte 6");
	expect_error("2017-03-11X15:00:53Z", "expected 'T' between date and time at byte 10");
	expect_error("2017-03-11T15-00:53Z", "expected ':' after the hour at byte 13");
	expect_error("2017-03-11T15:00-53Z", "expected ':' after the minute at byte 16");
	expect_error("2017-03-11T1a:00:53Z", "expected a digit of the hour at byte 12");
	expect_error("2017-03-11T15:0a:53Z", "expected a digit of the minute at byte 15");
	expect_error("2017-03-11T15:00:5aZ", "expected a digit of the second at byte 18");
	expect_error("2017-03-1aT15:00:53Z", "expected a digit of the day at byte 9");
	expect_error("2017-03-11T15:00:53+0a:00", "expected a digit of the offset hour at byte 21");
	expect_error("2017-03-11T15:00:53+05-30", "expected ':' in the offset at byte 22");
	expect_error("2017-03-11T15:00:53+05:3a",
		     "expected a digit of the offset minute at byte 24");
	expect_error("2017-03-11T15:00:53ZZ", "unexpected text at byte 20 after the time zone");
	expect_error("2017-03-11T15:00:53Z ", "unexpected text at byte 20 after the time zone");
	expect_error("2017-03-11T15:00:53+05:300",
		     "unexpected text at byte 25 after the time zone");
	expect_error(" 2017-03-11T15:00:53Z", "expected a digit of the year at byte 0");
	expect_error("-2017-03-11T15:00:53Z", "expected a digit of the year at byte 0");
	expect_error("+2017-03-11T15:00:53Z", "expected a digit of the year at byte 0");
	expect_error("20170311T150053Z", "expected '-' after the year at byte 4");
	expect_error("2017-03-11T15:00:53UTC",
		     "expected 'Z' or an offset such as +01:00 at byte 19");
	expect_error("1489244453", "expected '-' after the year at byte 4");
	expect_error("now", "expected a digit of the year at byte 0");
}

static void test_length_is_respected(void **state)
{
	const char *s = "2017-03-11T15:00:53Z trailing";
	const char nul_inside[] = "2017-03-11T15:00:53Z\0";
	char why[WHY_SIZE] = "";
	int64_t ns = 0;

	(void)state;
	/* Only len bytes are read: the text after them is not looked at. */
	assert_int_equal(rfc3339_parse_ns(s, 20, &ns, why, sizeof(why)), 0);
	assert_int_equal(ns, 1489244453000000000);
	/* ... and text cut by len is incomplete. */
	assert_int_equal(rfc3339_parse_ns(s, 19, &ns, why, sizeof(why)), -1);
	assert_string_equal(why, "ends early: expected 'Z' or an offset such as +01:00 at byte 19");
	/* An embedded NUL within len is not a terminator. */
	assert_int_equal(
	    rfc3339_parse_ns(nul_inside, sizeof(nul_inside) - 1, &ns, why, sizeof(why)), -1);
	assert_string_equal(why, "unexpected text at byte 20 after the time zone");
	assert_int_equal(rfc3339_parse_ns("2017-03-11T15:00:53\0", 20, &ns, why, sizeof(why)), -1);
	assert_string_equal(why, "expected 'Z' or an offset such as +01:00 at byte 19");
	assert_int_equal(rfc3339_parse_ns(NULL, 0, &ns, why, sizeof(why)), -1);
	assert_string_equal(why, "empty timestamp");
}

/* Every day from 1678 to 2261 against glibc's timegm() (the test may use
 * it; the code may not), at a time of day that moves with the day. */
static void test_every_day_against_timegm(void **state)
{
	char text[64];
	struct tm tm;
	time_t t;
	int checked = 0;

	(void)state;
	if (sizeof(time_t) < 8)
		skip(); /* a 32-bit time_t (armhf) cannot hold the years compared */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 1678 - 1900;
	tm.tm_mday = 1;
	t = timegm(&tm);
	while (1) {
		char why[WHY_SIZE] = "";
		int64_t ns = 0;
		time_t moment = t + (checked % 86400);
		struct tm parts;

		assert_non_null(gmtime_r(&moment, &parts));
		if (parts.tm_year + 1900 > 2261)
			break;
		assert_true(strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &parts) > 0);
		if (parse(text, &ns, why) != 0)
			fail_msg("\"%s\" rejected: %s", text, why);
		if (ns != (int64_t)moment * 1000000000)
			fail_msg("\"%s\" -> %lld, timegm says %lld s", text, (long long)ns,
				 (long long)moment);
		checked++;
		t += 86400;
	}
	/* 1678-01-01 .. 2261-12-31 inclusive. */
	assert_int_equal(checked, 213301);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_example),
	    cmocka_unit_test(test_separators_and_zulu_case),
	    cmocka_unit_test(test_fractions),
	    cmocka_unit_test(test_offsets),
	    cmocka_unit_test(test_calendar),
	    cmocka_unit_test(test_clock_ranges),
	    cmocka_unit_test(test_leap_second),
	    cmocka_unit_test(test_int64_edges),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_length_is_respected),
	    cmocka_unit_test(test_every_day_against_timegm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
