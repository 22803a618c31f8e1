/* test_lineproto_format.c -- unit tests for the line-protocol encoder (edge/model/lineproto.c):
 * floats in the fewest digits that read back, the growable buffer, escaping, UTF-8. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lineproto.h"

/* What lineproto_format_float() promises, the slow way: the shortest of
 * %.15g, %.16g and %.17g that reads back as v. */
static void format_float_reference(double v, char *out, size_t size)
{
	static const int precisions[] = {15, 16, 17};

	for (size_t i = 0; i < sizeof(precisions) / sizeof(precisions[0]); i++) {
		snprintf(out, size, "%.*g", precisions[i], v == 0.0 ? 0.0 : v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static void expect_float_as_printf(double v)
{
	char got[LINEPROTO_FLOAT_MAX];
	char want[LINEPROTO_FLOAT_MAX];

	format_float_reference(v, want, sizeof(want));
	if (lineproto_format_float(v, got, sizeof(got)) != (int)strlen(want) ||
	    strcmp(got, want) != 0)
		fail_msg("%.17g: got %s, want %s", v, got, want);
}

/* The fast way for short decimals must print what printf does, for
 * device-like decimals, the edges of its range and arbitrary doubles. */
static void test_format_float_fast_path_agrees(void **state)
{
	static const double edges[] = {
	    0.001,
	    0.00099999999999999980,
	    0.0010000000000000002,
	    0.1,
	    0.2,
	    0.3,
	    1.1,
	    7,
	    21.5,
	    -3.25,
	    123456.789,
	    0.000001,
	    1e-4,
	    999999999999999.0,
	    999999999999999.9,
	    1e15,
	    1e15 - 1,
	    99999999999999.99,
	    4503599627370495.5,
	    9007199254740993.0,
	    2.5e-3,
	    1234567.891234,
	    0.123456,
	    0.1234567,
	};
	uint64_t seed = 7;
	char lit[48];

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		expect_float_as_printf(edges[i]);
		expect_float_as_printf(-edges[i]);
	}
	for (int i = 0; i < 200000; i++) {
		int whole, frac, n = 0;
		uint64_t bits;
		double v;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		/* a decimal literal: up to 16 integer and 8 fraction digits */
		whole = (int)((seed >> 10) % 17);
		frac = (int)((seed >> 20) % 9);
		if (seed >> 63)
			lit[n++] = '-';
		lit[n++] = (char)('0' + (seed >> 30) % 10);
		for (int k = 1; k < whole; k++)
			lit[n++] = (char)('0' + (seed >> (k * 3 % 40)) % 10);
		if (frac) {
			lit[n++] = '.';
			for (int k = 0; k < frac; k++)
				lit[n++] = (char)('0' + (seed >> (k * 5 % 45 + 3)) % 10);
		}
		lit[n] = '\0';
		expect_float_as_printf(strtod(lit, NULL));
		/* and an arbitrary finite double */
		bits = seed ^ (seed >> 29);
		memcpy(&v, &bits, sizeof(v));
		if (v == v && v - v == 0)
			expect_float_as_printf(v);
	}
}

static void test_format_float_directly(void **state)
{
	char out[LINEPROTO_FLOAT_MAX];
	char tiny[3];

	(void)state;
	assert_int_equal(lineproto_format_float(21.5, out, sizeof(out)), 4);
	assert_string_equal(out, "21.5");
	/* The longest output of all fits LINEPROTO_FLOAT_MAX. */
	assert_int_equal(lineproto_format_float(-2.2250738585072014e-308, out, sizeof(out)), 24);
	assert_string_equal(out, "-2.2250738585072014e-308");
	assert_int_equal(lineproto_format_float(1.0 / 0.0, out, sizeof(out)), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_format_float(-1.0 / 0.0, out, sizeof(out)), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_format_float(0.0 / 0.0, out, sizeof(out)), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_format_float(21.5, tiny, sizeof(tiny)), LINEPROTO_ETOOBIG);
	assert_int_equal(lineproto_format_float(34, tiny, sizeof(tiny)), 2);
	assert_string_equal(tiny, "34");
}

static void test_lineproto_buffer(void **state)
{
	struct lineproto_buf b;
	char *text;
	size_t len = 99;

	(void)state;
	lineproto_buf_init(&b, 8);
	text = lineproto_buf_steal(&b, &len);
	assert_null(text);
	assert_int_equal(len, 0);
	assert_int_equal(lineproto_buf_append(&b, "abcde", 5), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_putc(&b, 'f'), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_append(&b, "ghi", 3), LINEPROTO_ETOOBIG);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "abcdef");
	assert_int_equal(lineproto_buf_append(&b, "gh", 2), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_putc(&b, 'i'), LINEPROTO_ETOOBIG);
	assert_int_equal(lineproto_buf_append(&b, "", 0), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_tag(&b, "x", 1), LINEPROTO_ETOOBIG);
	assert_int_equal(lineproto_buf_int64(&b, 1), LINEPROTO_ETOOBIG);
	assert_int_equal(lineproto_buf_float(&b, 1.0), LINEPROTO_ETOOBIG);
	assert_true(b.cap <= 9);
	text = lineproto_buf_steal(&b, &len);
	assert_string_equal(text, "abcdefgh");
	assert_int_equal(len, 8);
	assert_null(b.data);
	free(text);
	/* Growth past the first allocation keeps the text. */
	lineproto_buf_init(&b, 1000);
	for (len = 0; len < 100; len++)
		assert_int_equal(lineproto_buf_append(&b, "0123456789", 10), LINEPROTO_OK);
	assert_int_equal(b.len, 1000);
	assert_int_equal(strspn(b.data, "0123456789"), 1000);
	assert_int_equal(b.data[1000], '\0');
	lineproto_buf_free(&b);
	lineproto_buf_free(&b);
	assert_null(b.data);
}

static void test_lineproto_escaping(void **state)
{
	struct lineproto_buf b;

	(void)state;
	lineproto_buf_init(&b, 1024);
	assert_int_equal(lineproto_buf_measurement(&b, "m e,a=s", 7), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_putc(&b, ','), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_tag(&b, "t k", 3), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_putc(&b, '='), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_tag(&b, "#v=1,2", 6), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_putc(&b, ' '), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_field_key(&b, "f=k,", 4), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_putc(&b, '='), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_float(&b, 0.5), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_putc(&b, ' '), LINEPROTO_OK);
	assert_int_equal(lineproto_buf_int64(&b, INT64_MIN), LINEPROTO_OK);
	assert_string_equal(b.data,
			    "m\\ e\\,a=s,t\\ k=#v\\=1\\,2 f\\=k\\,=0.5 -9223372036854775808");
	assert_int_equal(b.len, strlen(b.data));
	/* Text line protocol cannot carry is refused and nothing is written. */
	assert_int_equal(lineproto_buf_measurement(&b, "", 0), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_buf_measurement(&b, "#m", 2), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_buf_measurement(&b, "a\\b", 3), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_buf_tag(&b, "", 0), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_buf_tag(&b, "a\nb", 3), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_buf_tag(&b, "a\0b", 3), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_buf_tag(&b, "ab\\", 3), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_buf_field_key(&b, "k\\", 2), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_buf_field_key(&b, "", 0), LINEPROTO_EINVAL);
	assert_int_equal(lineproto_buf_float(&b, 1.0 / 0.0), LINEPROTO_EINVAL);
	assert_int_equal(b.len,
			 strlen("m\\ e\\,a=s,t\\ k=#v\\=1\\,2 f\\=k\\,=0.5 -9223372036854775808"));
	lineproto_buf_free(&b);
	/* The escaped length counts against the cap: "a,b" takes 4 bytes. */
	lineproto_buf_init(&b, 3);
	assert_int_equal(lineproto_buf_tag(&b, "a,b", 3), LINEPROTO_ETOOBIG);
	assert_null(b.data);
	assert_int_equal(lineproto_buf_tag(&b, "a=", 2), LINEPROTO_OK);
	assert_string_equal(b.data, "a\\=");
	lineproto_buf_free(&b);
}

static void test_utf8_validation(void **state)
{
	(void)state;
	assert_int_equal(lineproto_utf8_valid("", 0), 1);
	assert_int_equal(lineproto_utf8_valid("plain", 5), 1);
	assert_int_equal(lineproto_utf8_valid("\xc3\xa9", 2), 1);
	assert_int_equal(lineproto_utf8_valid("\xe2\x82\xac", 3), 1);
	assert_int_equal(lineproto_utf8_valid("\xf0\x9f\x98\x80", 4), 1);
	assert_int_equal(lineproto_utf8_valid("\xf4\x8f\xbf\xbf", 4), 1);
	assert_int_equal(lineproto_utf8_valid("\xef\xbf\xbf", 3), 1);
	assert_int_equal(lineproto_utf8_valid("\xc3", 1), 0);
	assert_int_equal(lineproto_utf8_valid("\xe2\x82", 2), 0);
	assert_int_equal(lineproto_utf8_valid("\xf0\x9f\x98", 3), 0);
	assert_int_equal(lineproto_utf8_valid("\x80", 1), 0);
	assert_int_equal(lineproto_utf8_valid("\xc0\x80", 2), 0);
	assert_int_equal(lineproto_utf8_valid("\xc1\xbf", 2), 0);
	assert_int_equal(lineproto_utf8_valid("\xe0\x9f\xbf", 3), 0);
	assert_int_equal(lineproto_utf8_valid("\xf0\x8f\xbf\xbf", 4), 0);
	assert_int_equal(lineproto_utf8_valid("\xed\xa0\x80", 3), 0);
	assert_int_equal(lineproto_utf8_valid("\xed\xbf\xbf", 3), 0);
	assert_int_equal(lineproto_utf8_valid("\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(lineproto_utf8_valid("\xf5\x80\x80\x80", 4), 0);
	assert_int_equal(lineproto_utf8_valid("\xc3\x28", 2), 0);
	assert_int_equal(lineproto_utf8_valid("\xff", 1), 0);
	/* Only n bytes count: a valid prefix of a longer buffer. */
	assert_int_equal(lineproto_utf8_valid("ab\xff", 2), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_float_directly),
	    cmocka_unit_test(test_format_float_fast_path_agrees),
	    cmocka_unit_test(test_lineproto_buffer),
	    cmocka_unit_test(test_lineproto_escaping),
	    cmocka_unit_test(test_utf8_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
