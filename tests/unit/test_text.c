/* test_text.c -- untrusted text for messages: the UTF-8 cut and the quote helper. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "text.h"

#include <string.h>

/* text_utf8_cut() of a NUL-terminated string, applied to it. */
static const char *cut_str(char *s)
{
	s[text_utf8_cut(s, strlen(s))] = '\0';
	return s;
}

static void test_cut_drops_an_incomplete_last_character(void **state)
{
	char s[16];
	(void)state;

	memcpy(s, "ab\xc3\xa9", 5); /* "abé": complete */
	assert_string_equal(cut_str(s), "ab\xc3\xa9");
	memcpy(s, "ab\xc3", 4); /* half of é */
	assert_string_equal(cut_str(s), "ab");
	memcpy(s, "a\xe2\x82", 4); /* two thirds of the euro sign */
	assert_string_equal(cut_str(s), "a");
	memcpy(s, "a\xf0\x9f\x98\x80", 6); /* a complete 4-byte emoji */
	assert_string_equal(cut_str(s), "a\xf0\x9f\x98\x80");
	memcpy(s, "a\xf0\x9f\x98", 5); /* three quarters of it */
	assert_string_equal(cut_str(s), "a");
	memcpy(s, "plain", 6);
	assert_string_equal(cut_str(s), "plain");
	s[0] = '\0';
	assert_string_equal(cut_str(s), "");
	/* continuation bytes with no lead: nothing to complete, kept */
	memcpy(s, "\x80\x80\x80\x80\x80", 6);
	assert_int_equal(text_utf8_cut(s, 5), 5);
	/* a cut inside a character, as storage cuts a long reason */
	assert_int_equal(text_utf8_cut("x\xe2\x82\xac", 2), 1);
	assert_int_equal(text_utf8_cut("x\xe2\x82\xac", 3), 1);
	assert_int_equal(text_utf8_cut("x\xe2\x82\xac", 4), 4);
}

static void test_quote_masks_and_cuts(void **state)
{
	char out[8 + 4];
	const char *euro = "aaaaaaa\xe2\x82\xac"; /* 7 + 3 bytes */
	(void)state;

	assert_string_equal(text_quote(out, sizeof(out), "ab", 2, 0), "ab");
	assert_string_equal(text_quote(out, sizeof(out), "a\"b\\c\n\x7f", 7, 0), "a?b?c??");
	/* exactly 8 bytes fit; 9 are cut to 8 and marked */
	assert_string_equal(text_quote(out, sizeof(out), "12345678", 8, 0), "12345678");
	assert_string_equal(text_quote(out, sizeof(out), "123456789", 9, 0), "12345678...");
	/* never half a character */
	assert_string_equal(text_quote(out, sizeof(out), euro, strlen(euro), 0), "aaaaaaa...");
	assert_string_equal(text_quote(out, sizeof(out), "\xc3\xa9t\xc3\xa9", 5, 0),
			    "\xc3\xa9t\xc3\xa9");
	/* not known to be UTF-8: every high byte shown as '?' */
	assert_string_equal(text_quote(out, sizeof(out), "\xc3\xa9t\xff", 4, TEXT_QUOTE_ASCII),
			    "??t?");
	/* a length, not a NUL, ends the text */
	assert_string_equal(text_quote(out, sizeof(out), "a\0b", 3, 0), "a?b");
	assert_string_equal(text_quote(out, 4, "abc", 3, 0), "...");
	assert_string_equal(text_quote(out, 4, "", 0, 0), "");
}

static const char *esc(char *out, size_t size, const char *s, size_t n, int flags)
{
	size_t len = text_escape(out, size, s, n, flags);
	assert_int_equal(len, strlen(out));
	return out;
}

static void test_escape_keeps_one_line(void **state)
{
	char out[64];
	(void)state;

	assert_string_equal(esc(out, sizeof(out), "plain text", 10, 0), "plain text");
	/* a forged line and a terminal escape stay visible, on one line */
	assert_string_equal(esc(out, sizeof(out), "/x\n2026 error\x1b[2J", 17, 0),
			    "/x\\n2026 error\\x1b[2J");
	assert_string_equal(esc(out, sizeof(out),
				"a\r\tb\x7f\x00"
				"c",
				7, 0),
			    "a\\r\\tb\\x7f\\x00c");
	/* valid UTF-8 stays; invalid bytes, overlong forms, surrogates and C1 controls do not */
	assert_string_equal(esc(out, sizeof(out), "caf\xc3\xa9 \xe2\x82\xac", 9, 0),
			    "caf\xc3\xa9 \xe2\x82\xac");
	assert_string_equal(esc(out, sizeof(out), "\xff\xc0\xaf", 3, 0), "\\xff\\xc0\\xaf");
	assert_string_equal(esc(out, sizeof(out), "\xed\xa0\x80", 3, 0), "\\xed\\xa0\\x80");
	assert_string_equal(esc(out, sizeof(out), "\xc2\x9b", 2, 0), "\\xc2\\x9b");
	assert_string_equal(esc(out, sizeof(out), "\xe2\x82", 2, 0), "\\xe2\\x82");
	/* a backslash only on request */
	assert_string_equal(esc(out, sizeof(out), "a\\n", 3, 0), "a\\n");
	assert_string_equal(esc(out, sizeof(out), "a\\n", 3, TEXT_ESCAPE_BACKSLASH), "a\\\\n");
	/* cut at what fits, never inside an escape, then "..." */
	assert_string_equal(esc(out, 12, "abcdefgh\n", 9, 0), "abcdefgh...");
	assert_string_equal(esc(out, 12, "abcdef\n12", 9, 0), "abcdef\\n...");
	assert_string_equal(esc(out, 12, "abcdefg\n1", 9, 0), "abcdefg...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cut_drops_an_incomplete_last_character),
	    cmocka_unit_test(test_quote_masks_and_cuts),
	    cmocka_unit_test(test_escape_keeps_one_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
