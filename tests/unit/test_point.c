/* test_point.c -- unit tests: tags, points and command output (edge/model/point.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "point.h"

#define TS 1700000000000000000LL

/* point_tags_check() refuses `tags` with exactly `want`. */
static void expect_tags_bad(const char *tags, const char *want)
{
	const char *why = "untouched";

	if (point_tags_check(tags, &why) != -1)
		fail_msg("tags \"%s\" accepted", tags);
	assert_non_null(why);
	assert_string_equal(why, want);
}

static void expect_tags_ok(const char *tags)
{
	const char *why = "untouched";

	if (point_tags_check(tags, &why) != 0)
		fail_msg("tags \"%s\" refused: %s", tags ? tags : "(NULL)", why);
	assert_null(why);
}

static void test_tags_check(void **state)
{
	(void)state;
	expect_tags_ok(NULL);
	expect_tags_ok("");
	expect_tags_ok("host=pi");
	expect_tags_ok("host=pi,room=living room,site=über");
	expect_tags_ok("a=1,b=2,c=3,ab=4");
	expect_tags_bad("host", "a tag has no '=' (expected key=value)");
	expect_tags_bad("a=1,host", "a tag has no '=' (expected key=value)");
	expect_tags_bad("=pi", "empty tag key");
	expect_tags_bad("host=", "empty tag value");
	expect_tags_bad("host=pi,", "empty tag (a comma at the start or end, or two in a row)");
	expect_tags_bad(",host=pi", "empty tag (a comma at the start or end, or two in a row)");
	expect_tags_bad("a=1,,b=2", "empty tag (a comma at the start or end, or two in a row)");
	expect_tags_bad(",", "empty tag (a comma at the start or end, or two in a row)");
	expect_tags_bad("a=b=c", "a tag value holds '=' (one '=' per key=value)");
	expect_tags_bad("a=b\\c", "a tag holds a backslash or a control character");
	expect_tags_bad("a\\=b", "a tag holds a backslash or a control character");
	expect_tags_bad("a=b\tc", "a tag holds a backslash or a control character");
	expect_tags_bad("a=b\nc", "a tag holds a backslash or a control character");
	expect_tags_bad("a=1, b=2", "a tag key or value starts or ends with a blank");
	expect_tags_bad("a =1", "a tag key or value starts or ends with a blank");
	expect_tags_bad("a=1 ", "a tag key or value starts or ends with a blank");
	expect_tags_bad("time=1", "tag key \"time\" is not allowed (InfluxDB reserves it)");
	expect_tags_bad("a=1,b=2,a=3", "a tag key repeats");
	expect_tags_bad("a=1,a=1", "a tag key repeats");
	expect_tags_bad("a=\xff", "tags are not valid UTF-8");
}

/* point_build() appends exactly `want` to an empty buffer. */
static void expect_point(const char *measurement, const char *const *own, const char *extra,
			 const struct point_field *f, size_t n, int64_t ts, const char *want)
{
	struct lineproto_buf b;
	int rc;

	lineproto_buf_init(&b, 1 << 16);
	rc = point_build(&b, measurement, own, extra, f, n, ts);
	if (rc != LINEPROTO_OK)
		fail_msg("point %s refused: %d", measurement, rc);
	assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	lineproto_buf_free(&b);
}

/* point_build() refuses with `want_rc` and leaves "keep\n" as it was. */
static void expect_point_rc(size_t max, const char *measurement, const char *const *own,
			    const char *extra, const struct point_field *f, size_t n, int64_t ts,
			    int want_rc)
{
	struct lineproto_buf b;

	lineproto_buf_init(&b, max);
	assert_int_equal(lineproto_buf_append(&b, "keep\n", 5), LINEPROTO_OK);
	assert_int_equal(point_build(&b, measurement, own, extra, f, n, ts), want_rc);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "keep\n");
	lineproto_buf_free(&b);
}

static void test_point_tags_sorted_and_merged(void **state)
{
	const char *own[] = {"zone", "thermal_zone0", "type", "cpu-thermal", NULL};
	const char *own_host[] = {"host", "sensor", "zone", "z1", NULL};
	struct point_field f = {"celsius", 45.277, false};

	(void)state;
	expect_point("cpu_temp", own, "site=lab,host=pi", &f, 1, TS,
		     "cpu_temp,host=pi,site=lab,type=cpu-thermal,zone=thermal_zone0 "
		     "celsius=45.277 1700000000000000000\n");
	expect_point("cpu_temp", NULL, NULL, &f, 1, TS,
		     "cpu_temp celsius=45.277 1700000000000000000\n");
	expect_point("cpu_temp", own, "", &f, 1, -5,
		     "cpu_temp,type=cpu-thermal,zone=thermal_zone0 celsius=45.277 -5\n");
	/* The configured tag wins a clash; the reader's own one is dropped. */
	expect_point("m", own_host, "host=pi", &f, 1, 7, "m,host=pi,zone=z1 celsius=45.277 7\n");
}

static void test_point_escaping(void **state)
{
	const char *own[] = {"my key", "a,b=c d", NULL};
	struct point_field f[] = {{"the value", 1, false}, {"n=1,2", -3, true}};

	(void)state;
	expect_point("my room,x", own, "room=living room", f, 2, 1,
		     "my\\ room\\,x,my\\ key=a\\,b\\=c\\ d,room=living\\ room the\\ value=1,"
		     "n\\=1\\,2=-3i 1\n");
}

/* Whatever point_build() writes is what the parser makes of the same point. */
static void test_point_same_as_parser(void **state)
{
	static const char raw[] = "m,z=1,a\\ b=x\\,y,k=v f=0.1,g=1e21,h=-0,i=12i 99";
	const char *own[] = {"z", "1", "a b", "x,y", NULL};
	struct point_field f[] = {
	    {"f", 0.1, false}, {"g", 1e21, false}, {"h", -0.0, false}, {"i", 12, true}};
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS};
	struct lineproto_buf a, b;
	char why[256];

	(void)state;
	lineproto_buf_init(&a, 4096);
	lineproto_buf_init(&b, 4096);
	assert_int_equal(lineproto_parse_line(raw, strlen(raw), &o, &a, why, sizeof(why)),
			 LINEPROTO_OK);
	assert_int_equal(point_build(&b, "m", own, "k=v", f, 4, 99), LINEPROTO_OK);
	assert_string_equal(b.data, a.data);
	assert_string_equal(b.data, "m,a\\ b=x\\,y,k=v,z=1 f=0.1,g=1e+21,h=0,i=12i 99\n");
	lineproto_buf_free(&a);
	lineproto_buf_free(&b);
}

static void test_point_integers(void **state)
{
	struct point_field lo = {"n", -9223372036854775808.0, true};
	struct point_field big = {"n", 9223372036854775808.0, true};
	struct point_field half = {"n", 1.5, true};
	struct point_field nan_i = {"n", NAN, true};
	struct point_field zero = {"n", -0.0, true};

	(void)state;
	expect_point("m", NULL, NULL, &lo, 1, 1, "m n=-9223372036854775808i 1\n");
	expect_point("m", NULL, NULL, &zero, 1, 1, "m n=0i 1\n");
	expect_point_rc(1024, "m", NULL, NULL, &big, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", NULL, NULL, &half, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", NULL, NULL, &nan_i, 1, 1, LINEPROTO_EINVAL);
}

static void test_point_refused(void **state)
{
	const char *empty_value[] = {"zone", "", NULL};
	const char *backslash[] = {"zone", "a\\b", NULL};
	const char *no_value[] = {"zone", NULL};
	const char *dup[] = {"a", "1", "a", "2", NULL};
	const char *time_tag[] = {"time", "1", NULL};
	struct point_field ok = {"v", 1, false};
	struct point_field nan_f = {"v", NAN, false};
	struct point_field inf_f = {"v", -INFINITY, false};
	struct point_field twice[] = {{"v", 1, false}, {"v", 2, false}};
	struct point_field time_f = {"time", 1, false};
	struct point_field no_key = {"", 1, false};

	(void)state;
	expect_point_rc(1024, "m", NULL, NULL, &ok, 0, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", NULL, NULL, &nan_f, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", NULL, NULL, &inf_f, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", NULL, NULL, twice, 2, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", NULL, NULL, &time_f, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", NULL, NULL, &no_key, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "", NULL, NULL, &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "#m", NULL, NULL, &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m\xff", NULL, NULL, &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, NULL, NULL, NULL, &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", empty_value, NULL, &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", backslash, NULL, &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", no_value, NULL, &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", dup, NULL, &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", time_tag, NULL, &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", NULL, "a=1,a=2", &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", NULL, "a", &ok, 1, 1, LINEPROTO_EINVAL);
	expect_point_rc(1024, "m", NULL, NULL, &ok, 1, INT64_MAX, LINEPROTO_EINVAL);
	/* "keep\n" + "m v=1 1\n" is 13 bytes: a cap of 12 refuses it. */
	expect_point_rc(12, "m", NULL, NULL, &ok, 1, 1, LINEPROTO_ETOOBIG);
	/* The clash drops the bad own tag before it is checked. */
	expect_point("m", backslash, "zone=z", &ok, 1, 1, "m,zone=z v=1 1\n");
}

static void test_point_appends(void **state)
{
	struct point_field f = {"v", 2.5, false};
	struct lineproto_buf b;

	(void)state;
	lineproto_buf_init(&b, 13 + 8);
	assert_int_equal(lineproto_buf_append(&b, "keep\n", 5), LINEPROTO_OK);
	assert_int_equal(point_build(&b, "m", NULL, NULL, &f, 1, 1), LINEPROTO_OK);
	assert_int_equal(point_build(&b, "m", NULL, NULL, &f, 1, 2), LINEPROTO_ETOOBIG);
	assert_string_equal(b.data, "keep\nm v=2.5 1\n");
	lineproto_buf_free(&b);
}

/* point_lines() on `text` with the given options and extra tags at ts
 * 1000 returns `want_rc` and appends exactly `want` after "old\n". */
static void expect_lines(const char *text, const struct lineproto_parse_options *o,
			 const char *extra, int want_rc, const char *want,
			 struct lineproto_report *report)
{
	struct lineproto_buf b;
	int rc;

	lineproto_buf_init(&b, 1 << 16);
	assert_int_equal(lineproto_buf_append(&b, "old\n", 4), LINEPROTO_OK);
	rc = point_lines(text, strlen(text), o, extra, 1000, &b, report);
	assert_int_equal(rc, want_rc);
	assert_string_equal(b.data + 4, want);
	assert_memory_equal(b.data, "old\n", 4);
	lineproto_buf_free(&b);
}

static void test_lines_timestamps_and_tags(void **state)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_S, .max_line = 0};
	struct lineproto_report r;

	(void)state;
	/* Precision is always ns; a line without a timestamp gets the run's. */
	expect_lines("cpu v=1 123\nmem,host=x,a=1 free=2i\n", &o, "site=lab,host=pi", LINEPROTO_OK,
		     "cpu,host=pi,site=lab v=1 123\nmem,a=1,host=pi,site=lab free=2i 1000\n", &r);
	assert_int_equal(r.points, 2);
	assert_int_equal(r.bad_lines, 0);
	assert_int_equal(r.first_bad, 0);
	assert_string_equal(r.errors, "");
	/* No extra tags: canonical as the parser writes it (tags sorted). */
	expect_lines("b,z=1,a=2 v=1.50,s=\"x y\"\r\n  # note\n\nc v=true 5", &o, NULL, LINEPROTO_OK,
		     "b,a=2,z=1 v=1.5,s=\"x y\" 1000\nc v=true 5\n", &r);
	assert_int_equal(r.points, 2);
	expect_lines("b,z=1 v=1", &o, "", LINEPROTO_OK, "b,z=1 v=1 1000\n", &r);
	/* Escaped keys: the line's "ho\ st" is the configured "ho st". */
	expect_lines("m,ho\\ st=1,b\\,c=2,z\\=z=3 v=1 9\n", &o, "ho st=x,b,", LINEPROTO_EINVAL, "",
		     &r);
	expect_lines("m,ho\\ st=1,b\\,c=2,z\\=z=3 v=1 9\n", &o, "ho st=x y,zz=1", LINEPROTO_OK,
		     "m,b\\,c=2,ho\\ st=x\\ y,z\\=z=3,zz=1 v=1 9\n", &r);
	/* A string field holding a comma, a space and '=' keeps them. */
	expect_lines("m,t=1 s=\"a,b=c d\",v=2 9", &o, "t=2", LINEPROTO_OK,
		     "m,t=2 s=\"a,b=c d\",v=2 9\n", &r);
	expect_lines("", &o, "t=2", LINEPROTO_OK, "", &r);
	assert_int_equal(r.points, 0);
}

static void test_lines_bad_lines(void **state)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS, .max_line = 20};
	struct lineproto_report r;

	(void)state;
	expect_lines("ok v=1\nbad\n\nok2,a=1 v=2 5\nx y\nlong_name_here value=12345\nu v=1u", &o,
		     "host=pi", LINEPROTO_OK, "ok,host=pi v=1 1000\nok2,a=1,host=pi v=2 5\n", &r);
	assert_int_equal(r.points, 2);
	assert_int_equal(r.bad_lines, 4);
	assert_int_equal(r.first_bad, 2);
	assert_string_equal(r.errors,
			    "line 2: missing fields (expected a space and field=value); "
			    "line 5: field \"y\" has no value (expected '=' at byte 3); "
			    "line 6: longer than 20 bytes (http.max_line); "
			    "line 7: field \"v\": unsigned integer 1u refused: InfluxDB 1.x does "
			    "not take them (write it as 1i, or set uplink.api = v2)");
	o.unsigned_ok = 1;
	expect_lines("u v=1u", &o, NULL, LINEPROTO_OK, "u v=1u 1000\n", &r);
	assert_int_equal(r.bad_lines, 0);
	/* The merged line is parsed with the same options (found by fuzzing). */
	expect_lines("u v=1u", &o, "t=1", LINEPROTO_OK, "u,t=1 v=1u 1000\n", &r);
	assert_int_equal(r.points, 1);
}

static void test_lines_limits(void **state)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS, .max_points = 2};
	struct lineproto_report r;
	struct lineproto_buf b;

	(void)state;
	expect_lines("a v=1\nb v=2\nc v=3\n", &o, "t=1", LINEPROTO_ETOOMANY, "", &r);
	assert_int_equal(r.points, 3);
	o.max_points = 0;
	/* The merged lines pass the cap though the parsed ones fit: nothing
	 * is appended (merged 4 + 24 bytes, parsed 4 + 16). */
	lineproto_buf_init(&b, 4 + 23);
	assert_int_equal(lineproto_buf_append(&b, "old\n", 4), LINEPROTO_OK);
	assert_int_equal(point_lines("a v=1 1\nb v=2 2\n", 16, &o, "t=1", 0, &b, &r),
			 LINEPROTO_ETOOBIG);
	assert_string_equal(b.data, "old\n");
	assert_int_equal(point_lines("a v=1 1\nb v=2 2\n", 16, &o, "", 0, &b, &r), LINEPROTO_OK);
	assert_string_equal(b.data, "old\na v=1 1\nb v=2 2\n");
	lineproto_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tags_check),
	    cmocka_unit_test(test_point_tags_sorted_and_merged),
	    cmocka_unit_test(test_point_escaping),
	    cmocka_unit_test(test_point_same_as_parser),
	    cmocka_unit_test(test_point_integers),
	    cmocka_unit_test(test_point_refused),
	    cmocka_unit_test(test_point_appends),
	    cmocka_unit_test(test_lines_timestamps_and_tags),
	    cmocka_unit_test(test_lines_bad_lines),
	    cmocka_unit_test(test_lines_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
