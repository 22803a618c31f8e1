/* lineproto.c -- InfluxDB line protocol encoding: capped text buffer, escaping, numbers, UTF-8. */
#include "lineproto.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which bytes get a backslash: measurement names escape ',' and ' ';
 * tag keys, tag values and field keys also escape '='. */
enum lineproto_kind {
	LINEPROTO_KIND_MEASUREMENT,
	LINEPROTO_KIND_TAG,
};

#define LINEPROTO_MIN_CAP 64

void lineproto_buf_init(struct lineproto_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void lineproto_buf_free(struct lineproto_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

char *lineproto_buf_steal(struct lineproto_buf *b, size_t *len)
{
	char *text = b->data;

	*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return text;
}

int lineproto_buf_reserve(struct lineproto_buf *b, size_t extra)
{
	size_t need;
	size_t cap;
	char *data;

	if (extra > b->max || b->len > b->max - extra || b->len + extra == SIZE_MAX)
		return LINEPROTO_ETOOBIG;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return LINEPROTO_OK;
	cap = b->cap ? b->cap : LINEPROTO_MIN_CAP;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	/* Never allocate more than the cap allows (max + NUL). */
	if (cap - 1 > b->max)
		cap = b->max + 1;
	data = realloc(b->data, cap);
	if (!data)
		return LINEPROTO_ENOMEM;
	b->data = data;
	b->cap = cap;
	return LINEPROTO_OK;
}

int lineproto_buf_append(struct lineproto_buf *b, const char *s, size_t n)
{
	int rc = lineproto_buf_reserve(b, n);

	if (rc != LINEPROTO_OK)
		return rc;
	if (n > 0)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return LINEPROTO_OK;
}

char *lineproto_buf_extend(struct lineproto_buf *b, size_t n, int *rc)
{
	char *dst;

	*rc = lineproto_buf_reserve(b, n);
	if (*rc != LINEPROTO_OK)
		return NULL;
	dst = b->data + b->len;
	b->len += n;
	b->data[b->len] = '\0';
	return dst;
}

int lineproto_buf_putc(struct lineproto_buf *b, char c)
{
	return lineproto_buf_append(b, &c, 1);
}

/* Returns 1 if byte c needs a backslash in a name of this kind. */
static int lineproto_needs_escape(enum lineproto_kind kind, char c)
{
	if (c == ',' || c == ' ')
		return 1;
	return kind == LINEPROTO_KIND_TAG && c == '=';
}

/* Appends s[0..n) escaped for `kind`, or refuses text that line protocol
 * cannot carry (see lineproto.h). Returns a lineproto_rc; the buffer is
 * unchanged on failure. */
static int lineproto_buf_escaped(struct lineproto_buf *b, enum lineproto_kind kind, const char *s,
				 size_t n)
{
	size_t extra = 0;
	size_t i;
	char *dst;
	int rc;

	if (n == 0)
		return LINEPROTO_EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] == '\0' || s[i] == '\n' || s[i] == '\\')
			return LINEPROTO_EINVAL;
		if (lineproto_needs_escape(kind, s[i]))
			extra++;
	}
	if (kind == LINEPROTO_KIND_MEASUREMENT && s[0] == '#')
		return LINEPROTO_EINVAL;
	if (n > SIZE_MAX - extra)
		return LINEPROTO_ETOOBIG;
	rc = lineproto_buf_reserve(b, n + extra);
	if (rc != LINEPROTO_OK)
		return rc;
	dst = b->data + b->len;
	for (i = 0; i < n; i++) {
		if (lineproto_needs_escape(kind, s[i]))
			*dst++ = '\\';
		*dst++ = s[i];
	}
	b->len += n + extra;
	b->data[b->len] = '\0';
	return LINEPROTO_OK;
}

int lineproto_buf_measurement(struct lineproto_buf *b, const char *s, size_t n)
{
	return lineproto_buf_escaped(b, LINEPROTO_KIND_MEASUREMENT, s, n);
}

int lineproto_buf_tag(struct lineproto_buf *b, const char *s, size_t n)
{
	return lineproto_buf_escaped(b, LINEPROTO_KIND_TAG, s, n);
}

int lineproto_buf_field_key(struct lineproto_buf *b, const char *s, size_t n)
{
	return lineproto_buf_escaped(b, LINEPROTO_KIND_TAG, s, n);
}

int lineproto_buf_string(struct lineproto_buf *b, const char *s, size_t n)
{
	size_t extra = 2;
	size_t i;
	char *dst;
	int rc;

	for (i = 0; i < n; i++) {
		if (s[i] == '\0' || s[i] == '\n')
			return LINEPROTO_EINVAL;
		if (s[i] == '"' || s[i] == '\\')
			extra++;
	}
	if (n > SIZE_MAX - extra)
		return LINEPROTO_ETOOBIG;
	rc = lineproto_buf_reserve(b, n + extra);
	if (rc != LINEPROTO_OK)
		return rc;
	dst = b->data + b->len;
	*dst++ = '"';
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			*dst++ = '\\';
		*dst++ = s[i];
	}
	*dst++ = '"';
	b->len += n + extra;
	b->data[b->len] = '\0';
	return LINEPROTO_OK;
}

/*
 * The usual device value (21.5, 7, -3.25) without printf and strtod: if
 * |v| * 10^k is an integer M < 1e15 for some k <= 6 and M / 10^k gives v
 * back, then v is the double nearest to the decimal M * 10^-k (the division
 * rounds correctly, M and 10^k are exact), which has at most 15 significant
 * digits and lies within half an ulp of v: %.15g prints exactly it, and it
 * reads back as v. From 1e-3 to 1e15 %g prints no exponent. Returns the
 * length written into tmp (LINEPROTO_FLOAT_MAX bytes), or 0 to take the
 * general way.
 */
static int lineproto_format_decimal(double v, char *tmp)
{
	static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
	double a = fabs(v);
	char digits[24];
	uint64_t m = 0;
	int k, j, lead, nd = 0, n = 0;

	if (!(a >= 1e-3 && a < 1e15))
		return 0;
	for (k = 0; k < (int)(sizeof(pow10) / sizeof(pow10[0])); k++) {
		double scaled = a * pow10[k];

		if (scaled < 1e15 && scaled == floor(scaled) && scaled / pow10[k] == a) {
			m = (uint64_t)scaled;
			break;
		}
	}
	if (k == (int)(sizeof(pow10) / sizeof(pow10[0])))
		return 0;
	for (; k > 0 && m % 10 == 0; k--)
		m /= 10; /* %g drops trailing zeros */
	do {
		digits[nd++] = (char)('0' + m % 10); /* least significant first */
		m /= 10;
	} while (m > 0);
	lead = nd > k ? nd - k : 0; /* digits before the point */
	if (v < 0)
		tmp[n++] = '-';
	if (lead == 0)
		tmp[n++] = '0';
	for (j = 0; j < lead; j++)
		tmp[n++] = digits[nd - 1 - j];
	if (k > 0) {
		tmp[n++] = '.';
		for (j = nd; j < k; j++)
			tmp[n++] = '0';
		for (j = nd - lead - 1; j >= 0; j--)
			tmp[n++] = digits[j];
	}
	tmp[n] = '\0';
	return n;
}

int lineproto_format_float(double v, char *out, size_t out_size)
{
	static const int precisions[] = {15, 16, 17};
	char tmp[LINEPROTO_FLOAT_MAX];
	size_t i;
	int n = 0;

	if (!isfinite(v))
		return LINEPROTO_EINVAL;
	if (v == 0.0)
		v = 0.0; /* -0 -> 0, as JavaScript's String(-0) */
	n = lineproto_format_decimal(v, tmp);
	for (i = 0; n == 0 && i < sizeof(precisions) / sizeof(precisions[0]); i++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", precisions[i], v);
		if (n < 0 || (size_t)n >= sizeof(tmp))
			return LINEPROTO_EINVAL;
		if (strtod(tmp, NULL) != v)
			n = 0; /* more digits */
	}
	/* %.17g always reads back exactly, so the loop ends with a match. */
	if ((size_t)n >= out_size)
		return LINEPROTO_ETOOBIG;
	memcpy(out, tmp, (size_t)n + 1);
	return n;
}

int lineproto_buf_float(struct lineproto_buf *b, double v)
{
	char tmp[LINEPROTO_FLOAT_MAX];
	int n = lineproto_format_float(v, tmp, sizeof(tmp));

	if (n < 0)
		return n;
	return lineproto_buf_append(b, tmp, (size_t)n);
}

int lineproto_buf_int64(struct lineproto_buf *b, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return LINEPROTO_EINVAL;
	return lineproto_buf_append(b, tmp, (size_t)n);
}

int lineproto_utf8_valid(const char *s, size_t n)
{
	return lineproto_utf8_prefix(s, n) == n;
}

size_t lineproto_utf8_prefix(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c;
		size_t need;
		uint32_t cp;
		uint32_t min;
		size_t k;
		uint64_t word;

		/* ASCII runs, eight bytes at a time. */
		while (n - i >= 8) {
			memcpy(&word, p + i, 8);
			if (word & 0x8080808080808080ull)
				break;
			i += 8;
		}
		if (i == n)
			break;
		c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return i; /* continuation byte, 0xc0/0xc1 or 0xf5.. */
		}
		if (n - i - 1 < need)
			return i;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += need + 1;
	}
	return n;
}
