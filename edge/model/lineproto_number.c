/* lineproto_number.c -- line-protocol field values: numbers and booleans, made canonical. */
#include "lineproto_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Short local names for the shared types and helpers. */
#define lp_fail lineproto_parser_fail
#define lp_quote lineproto_quote
#define lp_field lineproto_field
#define lp_parser lineproto_parser
#define LP_QUOTE_MAX LINEPROTO_QUOTE_MAX

/* Float literals up to this length are parsed from a copy on the stack. */
#define LP_FLOAT_STACK 128
/* Significant digits a double carries through decimal -> double -> %.15g. */
#define LP_DIGITS 15

static bool lp_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool lineproto_num_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9)
			return false;
		/* 19 digits always fit; only a 20th can overflow. */
		if (i >= 19 && v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool lineproto_num_all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!lp_is_digit(s[i]))
			return false;
	}
	return n > 0;
}

bool lineproto_num_float_syntax(const char *s, size_t n)
{
	size_t i = 0;
	size_t digits = 0;

	if (i < n && s[i] == '-')
		i++;
	while (i < n && lp_is_digit(s[i])) {
		i++;
		digits++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && lp_is_digit(s[i])) {
			i++;
			digits++;
		}
	}
	if (digits == 0)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == n || !lp_is_digit(s[i]))
			return false;
		while (i < n && lp_is_digit(s[i]))
			i++;
	}
	return i == n;
}

/* The general way: strtod, then lineproto_format_float(). */
static int lp_float_slow(const char *s, size_t n, char *out)
{
	char stack[LP_FLOAT_STACK];
	char *copy = stack;
	double v;
	int len;

	if (n >= sizeof(stack)) {
		copy = malloc(n + 1);
		if (!copy)
			return LINEPROTO_ENOMEM;
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	v = strtod(copy, NULL);
	if (copy != stack)
		free(copy);
	if (!isfinite(v))
		return LINEPROTO_EINVAL;
	len = lineproto_format_float(v, out, LINEPROTO_NUM_MAX);
	return len < 0 ? LINEPROTO_EINVAL : len;
}

/*
 * A plain decimal with at most 15 significant digits and a value of 0 or at
 * least 1e-4 (below, %g switches to an exponent) comes back from %.15g as
 * exactly its digits: leading zeros of the integer part and trailing zeros
 * of the fraction dropped, "0" for zero. So most device values need neither
 * strtod nor printf. Anything else takes the general way.
 */
int lineproto_num_float(const char *s, size_t n, char *out)
{
	size_t i = 0;
	size_t ib, ie, fb, fe;
	size_t lead = 0;
	size_t len = 0;
	bool neg = false;

	if (s[0] == '-') {
		neg = true;
		i = 1;
	}
	ib = i;
	while (i < n && lp_is_digit(s[i]))
		i++;
	ie = i;
	fb = fe = i;
	if (i < n && s[i] == '.') {
		fb = ++i;
		while (i < n && lp_is_digit(s[i]))
			i++;
		fe = i;
	}
	if (i < n)
		return lp_float_slow(s, n, out); /* an exponent */
	while (ib < ie && s[ib] == '0')
		ib++;
	while (fe > fb && s[fe - 1] == '0')
		fe--;
	if (ib == ie && fb == fe) {
		out[0] = '0'; /* zero, -0 too */
		out[1] = '\0';
		return 1;
	}
	if (ib == ie) {
		while (fb + lead < fe && s[fb + lead] == '0')
			lead++;
		if (lead > 3 || fe - fb - lead > LP_DIGITS)
			return lp_float_slow(s, n, out);
	} else if ((ie - ib) + (fe - fb) > LP_DIGITS) {
		return lp_float_slow(s, n, out);
	}
	if (neg)
		out[len++] = '-';
	if (ib == ie) {
		out[len++] = '0';
	} else {
		memcpy(out + len, s + ib, ie - ib);
		len += ie - ib;
	}
	if (fe > fb) {
		out[len++] = '.';
		memcpy(out + len, s + fb, fe - fb);
		len += fe - fb;
	}
	out[len] = '\0';
	return (int)len;
}

size_t lineproto_num_u64(uint64_t v, char *out)
{
	char tmp[20];
	size_t n = 0;
	size_t i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

size_t lineproto_num_i64(int64_t v, char *out)
{
	if (v >= 0)
		return lineproto_num_u64((uint64_t)v, out);
	out[0] = '-';
	return 1 + lineproto_num_u64(0 - (uint64_t)v, out + 1);
}

/* True if s[0..n) is one of InfluxDB's boolean spellings; sets *v. */
static bool lp_boolean(const char *s, size_t n, bool *v)
{
	static const char *const words[] = {"t", "T", "true",  "True",	"TRUE",
					    "f", "F", "false", "False", "FALSE"};
	size_t i;

	if (s[0] != 't' && s[0] != 'T' && s[0] != 'f' && s[0] != 'F')
		return false;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (n == strlen(words[i]) && memcmp(s, words[i], n) == 0) {
			*v = i < 5;
			return true;
		}
	}
	return false;
}

/* Sets the field's canonical text. */
static void lp_field_text(struct lp_field *f, const char *text, size_t n)
{
	memcpy(f->num, text, n);
	f->num_len = (unsigned char)n;
}

/* An integer (12i, -3i) or unsigned (12u) value; n >= 2, suffix checked. */
static int lp_integer(struct lp_parser *p, struct lp_field *f, char *q, char *qv)
{
	const char *s = f->raw.s;
	size_t n = f->raw.n;
	bool neg = s[0] == '-';
	uint64_t mag;
	size_t len;

	if (s[n - 1] == 'u' && neg && lineproto_num_all_digits(s + 1, n - 2))
		return lp_fail(p, "field \"%s\": unsigned integer %s is negative",
			       lp_quote(f->key, q), lp_quote(f->raw, qv));
	if (s[n - 1] == 'u')
		neg = false;
	if (!lineproto_num_digits(s + neg, n - 1 - neg, &mag)) {
		/* Only digits, but more than 64 bits of them: out of range. */
		if (lineproto_num_all_digits(s + neg, n - 1 - neg))
			goto range;
		return lp_fail(p, "field \"%s\": invalid integer \"%s\"", lp_quote(f->key, q),
			       lp_quote(f->raw, qv));
	}
	if (s[n - 1] == 'u') {
		if (!p->o->unsigned_ok)
			return lp_fail(
			    p,
			    "field \"%s\": unsigned integer %s refused: InfluxDB 1.x does "
			    "not take them (write it as %.*si, or set uplink.api = v2)",
			    lp_quote(f->key, q), lp_quote(f->raw, qv), (int)(n - 1), s);
		len = lineproto_num_u64(mag, f->num);
	} else if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > (uint64_t)INT64_MAX) {
		goto range;
	} else {
		len = lineproto_num_i64(neg ? (int64_t)(0 - mag) : (int64_t)mag, f->num);
	}
	f->num[len] = s[n - 1];
	f->num_len = (unsigned char)(len + 1);
	return LINEPROTO_OK;
range:
	return lp_fail(p, "field \"%s\": integer %s is out of range", lp_quote(f->key, q),
		       lp_quote(f->raw, qv));
}

int lineproto_num_value(struct lineproto_parser *p, struct lineproto_field *f)
{
	const char *s = f->raw.s;
	size_t n = f->raw.n;
	char q[LP_QUOTE_MAX + 4];
	char qv[LP_QUOTE_MAX + 4];
	bool b;
	int len;

	if (lp_boolean(s, n, &b)) {
		lp_field_text(f, b ? "true" : "false", b ? 4 : 5);
		return LINEPROTO_OK;
	}
	if (n >= 2 && (s[n - 1] == 'i' || s[n - 1] == 'u'))
		return lp_integer(p, f, q, qv);
	if (!lineproto_num_float_syntax(s, n))
		return lp_fail(p,
			       "field \"%s\": invalid value \"%s\" (expected a number, 1i, 1u, "
			       "true/false or \"string\")",
			       lp_quote(f->key, q), lp_quote(f->raw, qv));
	len = lineproto_num_float(s, n, f->num);
	if (len == LINEPROTO_ENOMEM)
		return LINEPROTO_ENOMEM;
	if (len < 0)
		return lp_fail(p, "field \"%s\": %s is out of range for a float",
			       lp_quote(f->key, q), lp_quote(f->raw, qv));
	f->num_len = (unsigned char)len;
	return LINEPROTO_OK;
}
