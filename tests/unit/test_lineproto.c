/* test_lineproto.c -- unit tests: the line-protocol parser (edge/model/lineproto_parse.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "lineproto.h"
#include "lineproto_parse.h"

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
	return INT64_MAX;
}

static int reset_clock(void **state)
{
	(void)state;
	fake_clock_next = 1000;
	fake_clock_calls = 0;
	return 0;
}

/* A clock that reads the caller's own variable: clock_arg reaches it. */
static int64_t arg_clock(void *arg)
{
	return *(const int64_t *)arg;
}

static void test_clock_gets_its_arg(void **state)
{
	int64_t stamp = 424242;
	struct lineproto_parse_options o = {
	    .precision_ns = LINEPROTO_NS, .clock = arg_clock, .clock_arg = &stamp};
	struct lineproto_buf b;
	char why[64];

	(void)state;
	lineproto_buf_init(&b, 1 << 20);
	assert_int_equal(lineproto_parse_line("m v=1", 5, &o, &b, why, sizeof(why)), LINEPROTO_OK);
	assert_string_equal(b.data, "m v=1 424242\n");
	lineproto_buf_free(&b);
}

static struct lineproto_parse_options opts(int64_t precision)
{
	struct lineproto_parse_options o = {
	    .precision_ns = precision, .clock = fake_clock, .unsigned_ok = 1};

	return o;
}

/* One line parses to exactly `want` (with its '\n'). */
static void expect_line_p(const char *line, int64_t precision, const char *want)
{
	struct lineproto_parse_options o = opts(precision);
	struct lineproto_buf b;
	char why[256] = "untouched";
	int rc;

	lineproto_buf_init(&b, 1 << 20);
	rc = lineproto_parse_line(line, strlen(line), &o, &b, why, sizeof(why));
	if (rc != LINEPROTO_OK)
		fail_msg("line %s rejected (%d): %s", line, rc, why);
	assert_string_equal(b.data, want);
	lineproto_buf_free(&b);
}

static void expect_line(const char *line, const char *want)
{
	expect_line_p(line, LINEPROTO_NS, want);
}

/* One line (len bytes) is refused with exactly `want`; out is unchanged. */
static void expect_bad_n(const char *line, size_t len, int64_t precision, const char *want)
{
	struct lineproto_parse_options o = opts(precision);
	struct lineproto_buf b;
	char why[256] = "";
	int rc;

	lineproto_buf_init(&b, 1 << 20);
	assert_int_equal(lineproto_buf_append(&b, "x\n", 2), LINEPROTO_OK);
	rc = lineproto_parse_line(line, len, &o, &b, why, sizeof(why));
	if (rc != LINEPROTO_EINVAL)
		fail_msg("line %.*s: expected EINVAL, got %d (%s)", (int)len, line, rc, b.data);
	if (strcmp(why, want) != 0)
		fail_msg("line %.*s: got \"%s\", want \"%s\"", (int)len, line, why, want);
	assert_string_equal(b.data, "x\n");
	assert_int_equal(b.len, 2);
	lineproto_buf_free(&b);
}

static void expect_bad(const char *line, const char *want)
{
	expect_bad_n(line, strlen(line), LINEPROTO_NS, want);
}

static void test_canonical_form(void **state)
{
	(void)state;
	expect_line("cpu,host=a,region=b usage=1.5 1700000000000000000",
		    "cpu,host=a,region=b usage=1.5 1700000000000000000\n");
	/* Tags sorted by key; fields keep their order. */
	expect_line("cpu,z=1,a=2,m=3 b=1,a=2 5", "cpu,a=2,m=3,z=1 b=1,a=2 5\n");
	expect_line("m v=1 -5", "m v=1 -5\n");
	/* More spaces between the parts, trailing blanks. */
	expect_line("m,t=1   v=1    7   ", "m,t=1 v=1 7\n");
	expect_line("m v=1  ", "m v=1 1000\n");
	/* Unicode names. */
	expect_line("température,pièce=küche wert=1 1", "température,pièce=küche wert=1 1\n");
}

static void test_field_types(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"1", "1"},
	    {"1.5", "1.5"},
	    {"-1.5", "-1.5"},
	    {"1.", "1"},
	    {".5", "0.5"},
	    {"-0", "0"},
	    {"1e3", "1000"},
	    {"1E-2", "0.01"},
	    {"2.5e+21", "2.5e+21"},
	    {"0.1", "0.1"},
	    {"1e-400", "0"},
	    {"007i", "7i"},
	    {"-0i", "0i"},
	    {"-42i", "-42i"},
	    {"9223372036854775807i", "9223372036854775807i"},
	    {"-9223372036854775808i", "-9223372036854775808i"},
	    {"0u", "0u"},
	    {"18446744073709551615u", "18446744073709551615u"},
	    {"t", "true"},
	    {"T", "true"},
	    {"true", "true"},
	    {"True", "true"},
	    {"TRUE", "true"},
	    {"f", "false"},
	    {"F", "false"},
	    {"false", "false"},
	    {"False", "false"},
	    {"FALSE", "false"},
	    {"\"\"", "\"\""},
	    {"\"hello world\"", "\"hello world\""},
	    {"\"a, b=c d\"", "\"a, b=c d\""},
	    {"\"q\\\"uote \\\\ back\"", "\"q\\\"uote \\\\ back\""},
	    {"\"tab\there\"", "\"tab\there\""},
	};
	char line[128];
	char want[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line), "m f=%s,g=1i 9", cases[i].in);
		snprintf(want, sizeof(want), "m f=%s,g=1i 9\n", cases[i].out);
		expect_line(line, want);
	}
}

/* The fast way to canonical floats must agree with the general one
 * (strtod, then lineproto_format_float()) on every decimal literal. */
static void test_float_fast_path_agrees(void **state)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS, .clock = fake_clock};
	uint64_t seed = 42;
	char lit[64];
	char line[96];
	char want[96];
	char num[LINEPROTO_FLOAT_MAX];
	struct lineproto_buf b;
	char why[256];
	int i;

	(void)state;
	for (i = 0; i < 50000; i++) {
		size_t n = 0;
		int digits;
		int k;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		if (seed >> 63)
			lit[n++] = '-';
		digits = (int)((seed >> 8) % 18);
		for (k = 0; k < digits; k++)
			lit[n++] =
			    (char)('0' +
				   (k == 0 && (seed >> 20) % 3 ? 0 : (seed >> (k * 3 % 50)) % 10));
		if ((seed >> 30) % 4 || digits == 0) {
			int frac = 1 + (int)((seed >> 32) % 19);

			lit[n++] = '.';
			for (k = 0; k < frac; k++)
				lit[n++] = (char)('0' + (k < (int)((seed >> 40) % 7)
							     ? 0
							     : (seed >> (k * 5 % 60)) % 10));
		}
		lit[n] = '\0';
		snprintf(line, sizeof(line), "m v=%s 1", lit);
		assert_true(lineproto_format_float(strtod(lit, NULL), num, sizeof(num)) > 0);
		snprintf(want, sizeof(want), "m v=%s 1\n", num);
		lineproto_buf_init(&b, 1024);
		if (lineproto_parse_line(line, strlen(line), &o, &b, why, sizeof(why)) !=
		    LINEPROTO_OK)
			fail_msg("%s: %s", line, why);
		if (strcmp(b.data, want) != 0)
			fail_msg("%s: got %s, want %s", lit, b.data, want);
		lineproto_buf_free(&b);
	}
}

static void test_escapes_kept(void **state)
{
	(void)state;
	expect_line("my\\ meas\\,ure,tag\\ key=val\\,ue\\=x f\\=k\\,1=1 1",
		    "my\\ meas\\,ure,tag\\ key=val\\,ue\\=x f\\=k\\,1=1 1\n");
	/* A backslash before anything else is a plain backslash, kept as sent. */
	expect_line("m\\x,t=a\\b f=1 1", "m\\x,t=a\\b f=1 1\n");
	expect_line("m,t=a\\\\b f=1 1", "m,t=a\\\\b f=1 1\n");
	/* As in InfluxDB 1.x, a separator right after a backslash is escaped even
	 * when that backslash follows another: the tag value runs on. */
	expect_bad("m,t=a\\\\ f=1 1", "tag \"t\": unescaped '=' in the value at byte 9");
	expect_line("m\\\\ x f=1 1", "m\\\\ x f=1 1\n");
	/* '=' may stand unescaped in a measurement name. */
	expect_line("a=b f=1 1", "a=b f=1 1\n");
	/* Sorted by the unescaped key: "b" < "b x". */
	expect_line("m,b\\ x=1,b=2 f=1 1", "m,b=2,b\\ x=1 f=1 1\n");
}

static void test_precision(void **state)
{
	int64_t ns = 0;

	(void)state;
	expect_line_p("m v=1 5", LINEPROTO_S, "m v=1 5000000000\n");
	expect_line_p("m v=1 5", LINEPROTO_MS, "m v=1 5000000\n");
	expect_line_p("m v=1 5", LINEPROTO_US, "m v=1 5000\n");
	expect_line_p("m v=1 -2", LINEPROTO_M, "m v=1 -120000000000\n");
	expect_line_p("m v=1 2", LINEPROTO_H, "m v=1 7200000000000\n");
	/* No timestamp: the receipt clock, whatever the precision, once per point. */
	expect_line_p("m v=1", LINEPROTO_H, "m v=1 1000\n");
	assert_int_equal(fake_clock_calls, 1);

	assert_int_equal(lineproto_precision(NULL, LINEPROTO_API_V1, &ns), 0);
	assert_int_equal(ns, 1);
	assert_int_equal(lineproto_precision("", LINEPROTO_API_V2, &ns), 0);
	assert_int_equal(ns, 1);
	assert_int_equal(lineproto_precision("n", LINEPROTO_API_V1, &ns), 0);
	assert_int_equal(ns, 1);
	assert_int_equal(lineproto_precision("u", LINEPROTO_API_V1, &ns), 0);
	assert_int_equal(ns, 1000);
	assert_int_equal(lineproto_precision("us", LINEPROTO_API_V2, &ns), 0);
	assert_int_equal(ns, 1000);
	assert_int_equal(lineproto_precision("ms", LINEPROTO_API_V2, &ns), 0);
	assert_int_equal(ns, 1000000);
	assert_int_equal(lineproto_precision("s", LINEPROTO_API_V1, &ns), 0);
	assert_int_equal(ns, 1000000000);
	assert_int_equal(lineproto_precision("m", LINEPROTO_API_V1, &ns), 0);
	assert_int_equal(ns, 60000000000LL);
	assert_int_equal(lineproto_precision("h", LINEPROTO_API_V1, &ns), 0);
	assert_int_equal(ns, 3600000000000LL);
	ns = 7;
	assert_int_equal(lineproto_precision("h", LINEPROTO_API_V2, &ns), -1);
	assert_int_equal(lineproto_precision("n", LINEPROTO_API_V2, &ns), -1);
	assert_int_equal(lineproto_precision("u", LINEPROTO_API_V2, &ns), -1);
	assert_int_equal(lineproto_precision("m", LINEPROTO_API_V2, &ns), -1);
	assert_int_equal(lineproto_precision("sec", LINEPROTO_API_V1, &ns), -1);
	assert_int_equal(lineproto_precision("NS", LINEPROTO_API_V1, &ns), -1);
	assert_int_equal(ns, 7);
}

static void test_bad_structure(void **state)
{
	(void)state;
	expect_bad(",t=1 v=1", "missing measurement name");
	expect_bad("m", "missing fields (expected a space and field=value)");
	expect_bad("m,t=1", "missing fields (expected a space and field=value)");
	expect_bad("m ", "missing fields (expected field=value after the space)");
	expect_bad("m,=1 v=1", "empty tag key at byte 2");
	expect_bad("m,t v=1", "tag \"t\" has no value (expected '=' at byte 3)");
	expect_bad("m,t= v=1", "tag \"t\" has an empty value");
	expect_bad("m,t=a=b v=1", "tag \"t\": unescaped '=' in the value at byte 5");
	expect_bad("m,t=1,t=2 v=1", "duplicate tag \"t\"");
	expect_bad("m,a\\ b=1,a\\ b=2 v=1", "duplicate tag \"a? b\"");
	expect_bad("m,time=1 v=1", "tag key \"time\" is not allowed (InfluxDB reserves it)");
	expect_bad("m =1", "empty field key at byte 2");
	expect_bad("m v", "field \"v\" has no value (expected '=' at byte 3)");
	expect_bad("m v=", "field \"v\" has an empty value");
	expect_bad("m v=,w=1", "field \"v\" has an empty value");
	expect_bad("m v=1,", "empty field key at byte 6");
	expect_bad("m v=1,v=2", "duplicate field \"v\"");
	expect_bad("m a=1,b=2,a=3i", "duplicate field \"a\"");
	/* Past 16 fields the keys are sorted (qsort_r) to find duplicates. */
	expect_bad("m f0=0,f1=1,f2=2,f3=3,f4=4,f5=5,f6=6,f7=7,f8=8,f9=9,fa=10,fb=11,fc=12,fd=13,"
		   "fe=14,ff=15,fg=16,f7=17",
		   "duplicate field \"f7\"");
	expect_line("m f0=0,f1=1,f2=2,f3=3,f4=4,f5=5,f6=6,f7=7,f8=8,f9=9,fa=10,fb=11,fc=12,fd=13,"
		    "fe=14,ff=15,fg=16,fh=17 1",
		    "m f0=0,f1=1,f2=2,f3=3,f4=4,f5=5,f6=6,f7=7,f8=8,f9=9,fa=10,fb=11,fc=12,fd=13,"
		    "fe=14,ff=15,fg=16,fh=17 1\n");
	expect_bad("m time=1", "field key \"time\" is not allowed (InfluxDB reserves it)");
	expect_bad("m s=\"abc", "field \"s\": unterminated string (no closing '\"')");
	expect_bad("m s=\"ab\\\"", "field \"s\": unterminated string (no closing '\"')");
	expect_bad("m s=\"a\"b", "unexpected 'b' after field \"s\" at byte 7");
	expect_bad("m s=\"a\nb\"",
		   "field \"s\": the string holds a newline (not supported: the buffer stores one "
		   "point per line)");
	expect_bad("m s=\"a\\\nb\"",
		   "field \"s\": the string holds a newline (not supported: the buffer stores one "
		   "point per line)");
	expect_bad("", "a blank or comment line holds no point");
	expect_bad("# c", "a blank or comment line holds no point");
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_bad("m v=abc", "field \"v\": invalid value \"abc\" (expected a number, 1i, 1u, "
			      "true/false or \"string\")");
	expect_bad("m v=NaN", "field \"v\": invalid value \"NaN\" (expected a number, 1i, 1u, "
			      "true/false or \"string\")");
	expect_bad("m v=Inf", "field \"v\": invalid value \"Inf\" (expected a number, 1i, 1u, "
			      "true/false or \"string\")");
	expect_bad("m v=-inf", "field \"v\": invalid value \"-inf\" (expected a number, 1i, 1u, "
			       "true/false or \"string\")");
	expect_bad("m v=+1", "field \"v\": invalid value \"+1\" (expected a number, 1i, 1u, "
			     "true/false or \"string\")");
	expect_bad("m v=1.2.3", "field \"v\": invalid value \"1.2.3\" (expected a number, 1i, "
				"1u, true/false or \"string\")");
	expect_bad("m v=0x10", "field \"v\": invalid value \"0x10\" (expected a number, 1i, 1u, "
			       "true/false or \"string\")");
	expect_bad("m v=1e", "field \"v\": invalid value \"1e\" (expected a number, 1i, 1u, "
			     "true/false or \"string\")");
	expect_bad("m v=.", "field \"v\": invalid value \".\" (expected a number, 1i, 1u, "
			    "true/false or \"string\")");
	expect_bad("m v=yes", "field \"v\": invalid value \"yes\" (expected a number, 1i, 1u, "
			      "true/false or \"string\")");
	expect_bad("m v=1e400", "field \"v\": 1e400 is out of range for a float");
	expect_bad("m v=-1e400", "field \"v\": -1e400 is out of range for a float");
	expect_bad("m v=9223372036854775808i",
		   "field \"v\": integer 9223372036854775808i is out of range");
	expect_bad("m v=-9223372036854775809i",
		   "field \"v\": integer -9223372036854775809i is out of range");
	expect_bad("m v=99999999999999999999999i",
		   "field \"v\": integer 99999999999999999999999i is out of range");
	expect_bad("m v=18446744073709551616u",
		   "field \"v\": integer 18446744073709551616u is out of range");
	expect_bad("m v=-1u", "field \"v\": unsigned integer -1u is negative");
	expect_bad("m v=1.5u", "field \"v\": invalid integer \"1.5u\"");
	expect_bad("m v=1.5i", "field \"v\": invalid integer \"1.5i\"");
	expect_bad("m v=i", "field \"v\": invalid value \"i\" (expected a number, 1i, 1u, "
			    "true/false or \"string\")");
	expect_bad("m v=-i", "field \"v\": invalid integer \"-i\"");
}

static void test_bad_time_and_bytes(void **state)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS, .clock = broken_clock};
	struct lineproto_buf b;
	char why[256];

	(void)state;
	expect_bad("m v=1 12a", "invalid timestamp \"12a\" (expected an integer)");
	expect_bad("m v=1 1.5", "invalid timestamp \"1.5\" (expected an integer)");
	expect_bad("m v=1 -", "invalid timestamp \"-\" (expected an integer)");
	expect_bad("m v=1 1 2", "unexpected text after the timestamp at byte 8");
	expect_bad("m v=1 9223372036854775807",
		   "timestamp 9223372036854775807 is out of range (InfluxDB takes "
		   "1677-09-21T00:12:43.145224194Z .. 2262-04-11T23:47:16.854775806Z)");
	expect_bad("m v=1 99999999999999999999",
		   "timestamp 99999999999999999999 is out of range (InfluxDB takes "
		   "1677-09-21T00:12:43.145224194Z .. 2262-04-11T23:47:16.854775806Z)");
	expect_bad_n("m v=1 9999999", 13, LINEPROTO_H,
		     "timestamp 9999999 is out of range (InfluxDB takes "
		     "1677-09-21T00:12:43.145224194Z .. 2262-04-11T23:47:16.854775806Z)");
	expect_line_p("m v=1 -9223372036854", LINEPROTO_MS, "m v=1 -9223372036854000000\n");
	expect_bad_n("m v=1 -9223372036855", 20, LINEPROTO_MS,
		     "timestamp -9223372036855 is out of range (InfluxDB takes "
		     "1677-09-21T00:12:43.145224194Z .. 2262-04-11T23:47:16.854775806Z)");
	expect_bad_n("m v=1\0 1", 8, LINEPROTO_NS, "NUL byte at byte 5");
	expect_bad_n("m,t=\xff v=1", 9, LINEPROTO_NS, "invalid UTF-8 at byte 4");
	expect_bad("m,t=\xed\xa0\x80 v=1", "invalid UTF-8 at byte 4");
	expect_bad("m s=\"\xc3\"", "invalid UTF-8 at byte 5");

	lineproto_buf_init(&b, 1024);
	assert_int_equal(lineproto_parse_line("m v=1", 5, &o, &b, why, sizeof(why)),
			 LINEPROTO_EINVAL);
	assert_string_equal(why, "the receipt clock is outside InfluxDB's time range");
	assert_null(b.data);
	lineproto_buf_free(&b);
}

static void test_unsigned_needs_v2(void **state)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS, .clock = fake_clock};
	struct lineproto_buf b;
	char why[256];

	(void)state;
	lineproto_buf_init(&b, 1024);
	assert_int_equal(lineproto_parse_line("m v=5u 1", 8, &o, &b, why, sizeof(why)),
			 LINEPROTO_EINVAL);
	assert_string_equal(why, "field \"v\": unsigned integer 5u refused: InfluxDB 1.x does not "
				 "take them (write it as 5i, or set uplink.api = v2)");
	assert_null(b.data);
	o.unsigned_ok = 1;
	assert_int_equal(lineproto_parse_line("m v=5u 1", 8, &o, &b, why, sizeof(why)),
			 LINEPROTO_OK);
	assert_string_equal(b.data, "m v=5u 1\n");
	lineproto_buf_free(&b);
}

static void test_long_names_quoted_briefly(void **state)
{
	char line[200];
	char want[200];

	(void)state;
	memset(line, 'k', sizeof(line));
	memcpy(line, "m ", 2);
	memcpy(line + 100, "=abc", 5);
	snprintf(want, sizeof(want),
		 "field \"%.40s...\": invalid value \"abc\" (expected a number, 1i, 1u, "
		 "true/false or \"string\")",
		 line + 2);
	expect_bad(line, want);
}

/* Parses `body` with the given tag and field limits; returns the report. */
static void parse_limited(const char *body, size_t max_tags, size_t max_fields, char *text,
			  size_t text_size, struct lineproto_report *r)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS,
					    .clock = fake_clock,
					    .max_tags = max_tags,
					    .max_fields = max_fields};
	struct lineproto_buf b;

	lineproto_buf_init(&b, 1u << 24);
	assert_int_equal(lineproto_parse(body, strlen(body), &o, &b, r), LINEPROTO_OK);
	snprintf(text, text_size, "%s", b.data ? b.data : "");
	lineproto_buf_free(&b);
}

/* A line "m,t0=x,...,t<n-1>=x f0=1,...,f<k-1>=1 1" (malloc'd). */
static char *wide_line(size_t ntags, size_t nfields)
{
	size_t cap = 64 + (ntags + nfields) * 16;
	char *s = malloc(cap);
	size_t n;
	size_t i;

	assert_non_null(s);
	n = (size_t)snprintf(s, cap, "m");
	for (i = 0; i < ntags; i++)
		n += (size_t)snprintf(s + n, cap - n, ",t%zu=x", i);
	for (i = 0; i < nfields; i++)
		n += (size_t)snprintf(s + n, cap - n, "%cf%zu=1", i ? ',' : ' ', i);
	snprintf(s + n, cap - n, " 1\nok v=1 2\n");
	return s;
}

/* Tags, fields, series key and string length: the line is refused, named,
 * with the limit; the lines around it are stored. */
static void test_point_limits(void **state)
{
	struct lineproto_report r;
	char text[256];
	char *body;
	size_t n;

	(void)state;
	body = wide_line(64, 1);
	parse_limited(body, 0, 0, text, sizeof(text), &r);
	assert_int_equal(r.points, 2);
	free(body);
	body = wide_line(65, 1);
	parse_limited(body, 0, 0, text, sizeof(text), &r);
	assert_int_equal(r.points, 1);
	assert_string_equal(text, "ok v=1 2\n");
	assert_string_equal(r.errors, "line 1: more than 64 tags in one point (http.max_tags)");
	free(body);
	/* The 200-tag point InfluxDB 1.6 answers 500 to passes a raised limit. */
	body = wide_line(200, 1);
	parse_limited(body, 1000, 0, text, sizeof(text), &r);
	assert_int_equal(r.points, 2);
	parse_limited(body, 199, 0, text, sizeof(text), &r);
	assert_string_equal(r.errors, "line 1: more than 199 tags in one point (http.max_tags)");
	free(body);
	body = wide_line(0, 1025);
	parse_limited(body, 0, 0, text, sizeof(text), &r);
	assert_int_equal(r.points, 1);
	assert_string_equal(r.errors,
			    "line 1: more than 1024 fields in one point (http.max_fields)");
	parse_limited(body, 0, 1025, text, sizeof(text), &r);
	assert_int_equal(r.points, 2);
	free(body);

	/* Series key: 65 535 bytes pass, 65 536 do not. */
	body = malloc(70000);
	assert_non_null(body);
	memset(body, 'a', 65535);
	memcpy(body + 65535, " v=1 1\n", 8);
	parse_limited(body, 0, 0, text, sizeof(text), &r);
	assert_int_equal(r.points, 1);
	memset(body, 'a', 65536);
	memcpy(body + 65536, " v=1 1\nok v=1 2", 16);
	parse_limited(body, 0, 0, text, sizeof(text), &r);
	assert_int_equal(r.points, 1);
	assert_string_equal(r.errors, "line 1: series key (measurement and tags) is 65536 bytes, "
				      "more than 65535 (InfluxDB's limit)");
	/* A string field: 65 536 bytes pass, one more does not. */
	n = (size_t)snprintf(body, 70000, "m s=\"");
	memset(body + n, 'x', 65536);
	memcpy(body + n + 65536, "\" 1\n", 5);
	parse_limited(body, 0, 0, text, sizeof(text), &r);
	assert_int_equal(r.points, 1);
	memset(body + n, 'x', 65537);
	memcpy(body + n + 65537, "\" 1\nok v=1 2", 13);
	parse_limited(body, 0, 0, text, sizeof(text), &r);
	assert_int_equal(r.points, 1);
	assert_string_equal(r.errors, "line 1: field \"s\": the string is 65537 bytes, more than "
				      "65536 (InfluxDB's limit)");
	free(body);
}

/* The same field of the same series with two types in one body: the later
 * line is refused naming the earlier, the others stored. Another series, or
 * a refused first line, sets no type. */
static void test_type_conflict(void **state)
{
	static const char body[] = "m v=1 1\n"
				   "m,t=a v=\"s\" 2\n"
				   "m v=\"s\",w=1i 3\n"
				   "m w=2i 4\n"
				   "m v=2 5\n"
				   "n v=true 6\n"
				   "n v=1i 7\n"
				   "k v=1i,x=oops 8\n"
				   "k v=1 9\n";
	struct lineproto_report r;
	char text[512];

	(void)state;
	parse_limited(body, 0, 0, text, sizeof(text), &r);
	assert_string_equal(text, "m v=1 1\n"
				  "m,t=a v=\"s\" 2\n"
				  "m w=2i 4\n"
				  "m v=2 5\n"
				  "n v=true 6\n"
				  "k v=1 9\n");
	assert_int_equal(r.points, 6);
	assert_int_equal(r.bad_lines, 3);
	assert_string_equal(r.errors,
			    "line 3: field \"v\" is a string here but a float in line 1 of this "
			    "request (InfluxDB refuses a field type conflict); "
			    "line 7: field \"v\" is an integer here but a boolean in line 6 "
			    "of this request (InfluxDB refuses a field type conflict); "
			    "line 8: field \"x\": invalid value \"oops\" (expected a number, 1i, "
			    "1u, true/false or \"string\")");
}

/* Tag order does not make another series; many series and fields stay
 * linear (hash): 200 000 fields in 2 000 lines, printed time. */
static void test_type_conflict_many(void **state)
{
	size_t cap = 4u << 20;
	char *body = malloc(cap);
	struct lineproto_parse_options o = {
	    .precision_ns = LINEPROTO_NS, .clock = fake_clock, .unsigned_ok = 1};
	struct lineproto_report r;
	struct lineproto_buf b;
	struct timespec t0, t1;
	size_t n = 0;

	(void)state;
	assert_non_null(body);
	for (size_t l = 0; l < 2000; l++) {
		n += (size_t)snprintf(body + n, cap - n, "m,b=%zu,a=1", l % 7);
		for (size_t f = 0; f < 100; f++)
			n += (size_t)snprintf(body + n, cap - n, "%cf%zu=%zu%s", f ? ',' : ' ', f,
					      l, l == 1999 && f == 50 ? "u" : "i");
		n += (size_t)snprintf(body + n, cap - n, " %zu\n", l + 1);
	}
	n += (size_t)snprintf(body + n, cap - n, "m,a=1,b=3 f7=1i 5000\n");
	lineproto_buf_init(&b, 64u << 20);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(lineproto_parse(body, n, &o, &b, &r), LINEPROTO_OK);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("lineproto_parse: 200 000 fields, %zu bytes in %.1f ms\n", n,
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			  (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	assert_int_equal(r.points, 2000);
	assert_int_equal(r.bad_lines, 1);
	assert_int_equal(r.first_bad, 2000);
	lineproto_buf_free(&b);
	free(body);
}

/* Parses a body; returns the rc, fills text (or "") and the report. */
static int parse_body(const char *body, size_t len, size_t max_line, size_t max_points, size_t cap,
		      char *text, size_t text_size, struct lineproto_report *r)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS,
					    .max_line = max_line,
					    .max_points = max_points,
					    .clock = fake_clock};
	struct lineproto_buf b;
	int rc;

	lineproto_buf_init(&b, cap);
	rc = lineproto_parse(body, len, &o, &b, r);
	snprintf(text, text_size, "%s", b.data ? b.data : "");
	lineproto_buf_free(&b);
	return rc;
}

static void test_body(void **state)
{
	static const char body[] = "# a comment\n"
				   "\n"
				   "   \t\n"
				   "cpu v=1 1\r\n"
				   "  mem,h=x v=2 2\n"
				   "badline\n"
				   "\t# indented comment\n"
				   "log msg=\"two\nlines\" 3\n"
				   "disk v=3i 4\n"
				   "after v=oops\n"
				   "last v=4";
	struct lineproto_report r;
	char text[512];

	(void)state;
	assert_int_equal(parse_body(body, sizeof(body) - 1, 0, 0, 1 << 20, text, sizeof(text), &r),
			 LINEPROTO_OK);
	assert_string_equal(text, "cpu v=1 1\nmem,h=x v=2 2\ndisk v=3i 4\nlast v=4 1000\n");
	assert_int_equal(r.points, 4);
	assert_int_equal(r.bad_lines, 3);
	assert_int_equal(r.first_bad, 6);
	assert_int_equal(r.errors_omitted, 0);
	assert_string_equal(
	    r.errors,
	    "line 6: missing fields (expected a space and field=value); "
	    "line 8: field \"msg\": the string holds a newline (not supported: the buffer stores "
	    "one point per line); "
	    "line 11: field \"v\": invalid value \"oops\" (expected a number, 1i, 1u, true/false "
	    "or \"string\")");
	assert_int_equal(r.errors_len, strlen(r.errors));

	/* Empty and comment-only bodies hold no point and no error. */
	assert_int_equal(parse_body("", 0, 0, 0, 1 << 20, text, sizeof(text), &r), LINEPROTO_OK);
	assert_int_equal(r.points, 0);
	assert_int_equal(r.bad_lines, 0);
	assert_string_equal(r.errors, "");
	assert_int_equal(parse_body("#x\n\n", 4, 0, 0, 1 << 20, text, sizeof(text), &r),
			 LINEPROTO_OK);
	assert_int_equal(r.points + r.bad_lines, 0);

	/* An unterminated string swallows the rest of the body, like InfluxDB. */
	assert_int_equal(
	    parse_body("a s=\"x\nb v=1\nc v=2\n", 19, 0, 0, 1 << 20, text, sizeof(text), &r),
	    LINEPROTO_OK);
	assert_int_equal(r.points, 0);
	assert_int_equal(r.bad_lines, 1);
	assert_int_equal(r.first_bad, 1);
}

static void test_body_limits(void **state)
{
	struct lineproto_report r;
	char text[512];
	char many[4000];
	size_t i;
	size_t len = 0;

	(void)state;
	/* max_line counts the raw line. */
	assert_int_equal(parse_body("m v=1 1\nmeasurement v=1 1\nm v=2 2", 33, 10, 0, 1 << 20, text,
				    sizeof(text), &r),
			 LINEPROTO_OK);
	assert_string_equal(text, "m v=1 1\nm v=2 2\n");
	assert_int_equal(r.points, 2);
	assert_string_equal(r.errors, "line 2: longer than 10 bytes (http.max_line)");

	/* max_points: exactly the limit passes, one more stops the parse. */
	assert_int_equal(
	    parse_body("a v=1 1\nb v=1 1\n", 16, 0, 2, 1 << 20, text, sizeof(text), &r),
	    LINEPROTO_OK);
	assert_int_equal(r.points, 2);
	assert_int_equal(
	    parse_body("a v=1 1\nb v=1 1\nc v=1 1\n", 24, 0, 2, 1 << 20, text, sizeof(text), &r),
	    LINEPROTO_ETOOMANY);
	/* Bad lines do not count as points. */
	assert_int_equal(
	    parse_body("a v=1 1\nb v=x\nc v=1 1\n", 22, 0, 2, 1 << 20, text, sizeof(text), &r),
	    LINEPROTO_OK);
	assert_int_equal(r.points, 2);
	assert_int_equal(r.bad_lines, 1);

	/* The output cap. */
	assert_int_equal(parse_body("a v=1 1\nb v=1 1\n", 16, 0, 0, 10, text, sizeof(text), &r),
			 LINEPROTO_ETOOBIG);

	/* Only the first errors are described; the rest are counted. */
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len, "bad%zu\n", i);
	assert_int_equal(parse_body(many, len, 0, 0, 1 << 20, text, sizeof(text), &r),
			 LINEPROTO_OK);
	assert_int_equal(r.bad_lines, 300);
	assert_int_equal(r.points, 0);
	assert_true(r.errors_omitted > 250);
	assert_true(r.errors_omitted < 300);
	assert_int_equal(r.errors_len, strlen(r.errors));
	assert_true(r.errors_len < LINEPROTO_ERRORS_MAX);
	assert_memory_equal(r.errors, "line 1: missing fields", 22);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_canonical_form, reset_clock),
	    cmocka_unit_test(test_clock_gets_its_arg),
	    cmocka_unit_test_setup(test_field_types, reset_clock),
	    cmocka_unit_test_setup(test_float_fast_path_agrees, reset_clock),
	    cmocka_unit_test_setup(test_escapes_kept, reset_clock),
	    cmocka_unit_test_setup(test_precision, reset_clock),
	    cmocka_unit_test_setup(test_bad_structure, reset_clock),
	    cmocka_unit_test_setup(test_bad_values, reset_clock),
	    cmocka_unit_test_setup(test_bad_time_and_bytes, reset_clock),
	    cmocka_unit_test_setup(test_unsigned_needs_v2, reset_clock),
	    cmocka_unit_test_setup(test_long_names_quoted_briefly, reset_clock),
	    cmocka_unit_test_setup(test_body, reset_clock),
	    cmocka_unit_test_setup(test_body_limits, reset_clock),
	    cmocka_unit_test_setup(test_point_limits, reset_clock),
	    cmocka_unit_test_setup(test_type_conflict, reset_clock),
	    cmocka_unit_test_setup(test_type_conflict_many, reset_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
