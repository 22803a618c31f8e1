/* lineproto_parse.c -- InfluxDB line protocol: one line -> its canonical point. */
#define _GNU_SOURCE /* qsort_r (glibc 2.36 declares it for GNU only) */
#include "lineproto_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* How much of a key or value an error message quotes. */
#define LP_QUOTE_MAX LINEPROTO_QUOTE_MAX
/* Up to this many tags or fields are sorted and compared in place. */
#define LP_SMALL 16

/* Short local names for the shared types and helpers. */
#define lp_fail lineproto_parser_fail
#define lp_quote lineproto_quote
#define lp_span lineproto_span
#define lp_tag lineproto_tag
#define lp_field lineproto_field
#define lp_parser lineproto_parser

int lineproto_parser_fail(struct lineproto_parser *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->why || p->why_size == 0)
		return LINEPROTO_EINVAL;
	va_start(ap, fmt);
	if (vsnprintf(p->why, p->why_size, fmt, ap) < 0)
		p->why[0] = '\0';
	va_end(ap);
	return LINEPROTO_EINVAL;
}

const char *lineproto_quote(struct lineproto_span sp, char *out)
{
	return text_quote(out, LP_QUOTE_MAX + 4, sp.s, sp.n, 0);
}

/* An array of `size`-byte elements with room for one past `used`: `arr`
 * itself when it has room, else `arr` reallocated to twice *cap (16 at
 * first) with *cap updated. NULL when out of memory (arr and *cap
 * unchanged). The caller stores the result through the array's own type. */
static void *lp_room(void *arr, size_t *cap, size_t used, size_t size)
{
	size_t want;
	void *grown;

	if (used < *cap)
		return arr;
	want = *cap ? *cap * 2 : 16;
	if (want > SIZE_MAX / size)
		return NULL;
	grown = realloc(arr, want * size);
	if (grown)
		*cap = want;
	return grown;
}

/* Advances over a name until an unescaped ',' or ' ' (or '=' with
 * eq_stops) or the end.
 * Measurement and tags follow InfluxDB 1.x's scanner: a stop byte right
 * after a backslash is escaped, whatever comes before that backslash (so a
 * name can never end in a backslash). Field keys follow its field scanner:
 * a backslash takes the next byte with it. Returns the span. */
static struct lp_span lp_scan(struct lp_parser *p, bool eq_stops, bool field)
{
	/* Bytes that may end a name or escape: 1 ',' and ' ', 2 '=', 4 '\\'. */
	static const unsigned char kind[256] = {[','] = 1, [' '] = 1, ['='] = 2, ['\\'] = 4};
	const unsigned char stop = (unsigned char)(1 | (eq_stops ? 2 : 0) | (field ? 4 : 0));
	const unsigned char *s = (const unsigned char *)p->s;
	struct lp_span sp = {p->s + p->pos, 0};
	size_t pos = p->pos;

	for (;;) {
		while (pos < p->n && !(kind[s[pos]] & stop))
			pos++;
		if (pos >= p->n)
			break;
		if (kind[s[pos]] == 4) {
			pos +=
			    pos + 1 < p->n ? 2 : 1; /* field key: the escape takes the next byte */
			continue;
		}
		if (!field && pos > 0 && s[pos - 1] == '\\') {
			pos++; /* series: a stop right after a backslash is escaped */
			continue;
		}
		break;
	}
	p->pos = pos;
	sp.n = (size_t)(p->s + pos - sp.s);
	return sp;
}

/* The byte at pos, or '\0' at the end of the line (the line holds no NUL). */
static char lp_peek(const struct lp_parser *p)
{
	return p->pos < p->n ? p->s[p->pos] : '\0';
}

static void lp_skip_spaces(struct lp_parser *p)
{
	while (p->pos < p->n && p->s[p->pos] == ' ')
		p->pos++;
}

/* Next byte of a name with its escapes removed (`\,` `\=` `\ ` -> the byte;
 * any other backslash stays). Returns -1 at the end. */
static int lp_unescaped_next(struct lp_span *sp)
{
	int c;

	if (sp->n == 0)
		return -1;
	if (sp->s[0] == '\\' && sp->n > 1 &&
	    (sp->s[1] == ',' || sp->s[1] == '=' || sp->s[1] == ' ')) {
		c = (unsigned char)sp->s[1];
		sp->s += 2;
		sp->n -= 2;
		return c;
	}
	c = (unsigned char)sp->s[0];
	sp->s++;
	sp->n--;
	return c;
}

/* Compares two names by their unescaped bytes, like memcmp. */
static int lp_name_cmp(struct lp_span a, struct lp_span b)
{
	for (;;) {
		int ca = lp_unescaped_next(&a);
		int cb = lp_unescaped_next(&b);

		if (ca != cb || ca < 0)
			return ca - cb;
	}
}

static bool lp_name_is(struct lp_span a, const char *word)
{
	struct lp_span w = {word, strlen(word)};

	return lp_name_cmp(a, w) == 0;
}

static int lp_tag_cmp(const void *a, const void *b)
{
	return lp_name_cmp(((const struct lp_tag *)a)->key, ((const struct lp_tag *)b)->key);
}

/* qsort_r: indexes into `fields` (the arg), by the fields' keys. */
static int lp_order_cmp(const void *a, const void *b, void *fields)
{
	const struct lp_field *fa = (const struct lp_field *)fields + *(const size_t *)a;
	const struct lp_field *fb = (const struct lp_field *)fields + *(const size_t *)b;

	return lp_name_cmp(fa->key, fb->key);
}

static size_t lp_max_tags(const struct lineproto_parse_options *o)
{
	return o->max_tags ? o->max_tags : LINEPROTO_MAX_TAGS_DEFAULT;
}

static size_t lp_max_fields(const struct lineproto_parse_options *o)
{
	return o->max_fields ? o->max_fields : LINEPROTO_MAX_FIELDS_DEFAULT;
}

/* measurement[,tag=value...] up to the first unescaped space. */
static int lp_parse_series(struct lp_parser *p)
{
	char q[LP_QUOTE_MAX + 4];

	p->measurement = lp_scan(p, false, false);
	if (p->measurement.n == 0)
		return lp_fail(p, "missing measurement name");
	while (lp_peek(p) == ',') {
		struct lp_tag *tags;
		struct lp_tag *t;

		if (p->ntags >= lp_max_tags(p->o))
			return lp_fail(p, "more than %zu tags in one point (http.max_tags)",
				       lp_max_tags(p->o));
		tags = lp_room(p->tags, &p->tags_cap, p->ntags, sizeof(*tags));
		if (!tags)
			return LINEPROTO_ENOMEM;
		p->tags = tags;
		p->pos++;
		t = &p->tags[p->ntags];
		t->key = lp_scan(p, true, false);
		if (t->key.n == 0)
			return lp_fail(p, "empty tag key at byte %zu", p->pos);
		if (lp_peek(p) != '=')
			return lp_fail(p, "tag \"%s\" has no value (expected '=' at byte %zu)",
				       lp_quote(t->key, q), p->pos);
		p->pos++;
		t->value = lp_scan(p, true, false);
		if (t->value.n == 0)
			return lp_fail(p, "tag \"%s\" has an empty value", lp_quote(t->key, q));
		if (lp_peek(p) == '=')
			return lp_fail(p, "tag \"%s\": unescaped '=' in the value at byte %zu",
				       lp_quote(t->key, q), p->pos);
		if (lp_name_is(t->key, "time"))
			return lp_fail(p, "tag key \"time\" is not allowed (InfluxDB reserves it)");
		p->ntags++;
	}
	if (lp_peek(p) != ' ')
		return lp_fail(p, "missing fields (expected a space and field=value)");
	if (p->pos > LINEPROTO_SERIES_MAX)
		return lp_fail(p,
			       "series key (measurement and tags) is %zu bytes, more than %u "
			       "(InfluxDB's limit)",
			       p->pos, LINEPROTO_SERIES_MAX);
	return LINEPROTO_OK;
}

/* A string value from its opening quote at pos to the closing one. */
static int lp_string_value(struct lp_parser *p, struct lp_field *f)
{
	char q[LP_QUOTE_MAX + 4];
	size_t start = p->pos;

	p->pos++;
	while (p->pos < p->n && p->s[p->pos] != '"') {
		if (p->s[p->pos] == '\n' ||
		    (p->s[p->pos] == '\\' && p->pos + 1 < p->n && p->s[p->pos + 1] == '\n'))
			return lp_fail(p,
				       "field \"%s\": the string holds a newline (not supported: "
				       "the buffer stores one point per line)",
				       lp_quote(f->key, q));
		p->pos += p->s[p->pos] == '\\' && p->pos + 1 < p->n ? 2 : 1;
	}
	if (p->pos >= p->n)
		return lp_fail(p, "field \"%s\": unterminated string (no closing '\"')",
			       lp_quote(f->key, q));
	p->pos++;
	f->raw.s = p->s + start;
	f->raw.n = p->pos - start;
	f->is_string = true;
	if (f->raw.n - 2 > LINEPROTO_STRING_MAX)
		return lp_fail(p,
			       "field \"%s\": the string is %zu bytes, more than %u (InfluxDB's "
			       "limit)",
			       lp_quote(f->key, q), f->raw.n - 2, LINEPROTO_STRING_MAX);
	return LINEPROTO_OK;
}

/* Duplicate field keys (the fields keep their order): pairs compared when
 * few, else indexes sorted by key and neighbours compared. */
static int lp_check_duplicate_fields(struct lp_parser *p)
{
	char q[LP_QUOTE_MAX + 4];
	size_t i, j;

	if (p->nfields <= LP_SMALL) {
		for (i = 1; i < p->nfields; i++) {
			for (j = 0; j < i; j++) {
				if (lp_name_cmp(p->fields[j].key, p->fields[i].key) == 0)
					return lp_fail(p, "duplicate field \"%s\"",
						       lp_quote(p->fields[i].key, q));
			}
		}
		return LINEPROTO_OK;
	}
	if (p->nfields > p->order_cap) {
		size_t *grown = realloc(p->order, p->nfields * sizeof(*grown));

		if (!grown)
			return LINEPROTO_ENOMEM;
		p->order = grown;
		p->order_cap = p->nfields;
	}
	for (i = 0; i < p->nfields; i++)
		p->order[i] = i;
	qsort_r(p->order, p->nfields, sizeof(*p->order), lp_order_cmp, p->fields);
	for (i = 1; i < p->nfields; i++) {
		if (lp_name_cmp(p->fields[p->order[i - 1]].key, p->fields[p->order[i]].key) == 0)
			return lp_fail(p, "duplicate field \"%s\"",
				       lp_quote(p->fields[p->order[i]].key, q));
	}
	return LINEPROTO_OK;
}

/* Sorts the tags by key: insertion sort when few, else qsort. */
static void lp_sort_tags(struct lp_parser *p)
{
	size_t i, j;

	if (p->ntags > LP_SMALL) {
		qsort(p->tags, p->ntags, sizeof(*p->tags), lp_tag_cmp);
		return;
	}
	for (i = 1; i < p->ntags; i++) {
		struct lp_tag t = p->tags[i];

		for (j = i; j > 0 && lp_name_cmp(p->tags[j - 1].key, t.key) > 0; j--)
			p->tags[j] = p->tags[j - 1];
		p->tags[j] = t;
	}
}

/* field=value[,field=value...] */
static int lp_parse_fields(struct lp_parser *p)
{
	char q[LP_QUOTE_MAX + 4];
	int rc;

	for (;;) {
		struct lp_field *fields;
		struct lp_field *f;

		if (p->nfields >= lp_max_fields(p->o))
			return lp_fail(p, "more than %zu fields in one point (http.max_fields)",
				       lp_max_fields(p->o));
		fields = lp_room(p->fields, &p->fields_cap, p->nfields, sizeof(*fields));
		if (!fields)
			return LINEPROTO_ENOMEM;
		p->fields = fields;
		f = &p->fields[p->nfields];
		f->is_string = false;
		f->num_len = 0;
		f->key = lp_scan(p, true, true);
		if (f->key.n == 0)
			return lp_fail(p, "empty field key at byte %zu", p->pos);
		if (lp_peek(p) != '=')
			return lp_fail(p, "field \"%s\" has no value (expected '=' at byte %zu)",
				       lp_quote(f->key, q), p->pos);
		p->pos++;
		if (lp_peek(p) == '"') {
			rc = lp_string_value(p, f);
		} else {
			size_t start = p->pos;

			while (p->pos < p->n && p->s[p->pos] != ',' && p->s[p->pos] != ' ')
				p->pos++;
			f->raw.s = p->s + start;
			f->raw.n = p->pos - start;
			if (f->raw.n == 0)
				return lp_fail(p, "field \"%s\" has an empty value",
					       lp_quote(f->key, q));
			rc = lineproto_num_value(p, f);
		}
		if (rc)
			return rc;
		if (lp_name_is(f->key, "time"))
			return lp_fail(p,
				       "field key \"time\" is not allowed (InfluxDB reserves it)");
		p->nfields++;
		if (lp_peek(p) != ',')
			break;
		p->pos++;
	}
	if (p->pos < p->n && p->s[p->pos] != ' ')
		return lp_fail(p, "unexpected '%c' after field \"%s\" at byte %zu", p->s[p->pos],
			       lp_quote(p->fields[p->nfields - 1].key, q), p->pos);
	return lp_check_duplicate_fields(p);
}

/* [ timestamp] [spaces], or the receipt time. */
static int lp_parse_time(struct lp_parser *p)
{
	char q[LP_QUOTE_MAX + 4];
	struct lp_span sp;
	uint64_t mag;
	int64_t v;
	bool neg;

	lp_skip_spaces(p);
	if (p->pos == p->n) {
		p->ts = p->o->clock(p->o->clock_arg);
		if (p->ts < LINEPROTO_TIME_MIN || p->ts > LINEPROTO_TIME_MAX)
			return lp_fail(p, "the receipt clock is outside InfluxDB's time range");
		return LINEPROTO_OK;
	}
	sp.s = p->s + p->pos;
	while (p->pos < p->n && p->s[p->pos] != ' ')
		p->pos++;
	sp.n = (size_t)(p->s + p->pos - sp.s);
	lp_skip_spaces(p);
	if (p->pos < p->n)
		return lp_fail(p, "unexpected text after the timestamp at byte %zu", p->pos);
	neg = sp.s[0] == '-';
	if (!lineproto_num_digits(sp.s + neg, sp.n - neg, &mag)) {
		if (lineproto_num_all_digits(sp.s + neg, sp.n - neg))
			goto range;
		return lp_fail(p, "invalid timestamp \"%s\" (expected an integer)",
			       lp_quote(sp, q));
	}
	if (mag > (uint64_t)INT64_MAX)
		goto range;
	v = neg ? -(int64_t)mag : (int64_t)mag;
	if (__builtin_mul_overflow(v, p->o->precision_ns, &p->ts))
		goto range;
	if (p->ts < LINEPROTO_TIME_MIN || p->ts > LINEPROTO_TIME_MAX)
		goto range;
	/* Nanoseconds already written canonically (no leading zero, no -0)
	 * are copied as sent. */
	if (p->o->precision_ns == 1 && sp.s[neg] != '0' && sp.n < 24)
		p->ts_raw = sp;
	return LINEPROTO_OK;
range:
	return lp_fail(p,
		       "timestamp %s is out of range (InfluxDB takes "
		       "1677-09-21T00:12:43.145224194Z .. 2262-04-11T23:47:16.854775806Z)",
		       lp_quote(sp, q));
}

/* Copies n bytes to *dst and advances it. */
static void lp_put(char **dst, const char *s, size_t n)
{
	memcpy(*dst, s, n);
	*dst += n;
}

/* Appends the parsed point in canonical form, sized first, copied once. */
static int lp_encode(const struct lp_parser *p, struct lineproto_buf *out)
{
	char ts[24];
	size_t ts_len;
	size_t len = p->measurement.n;
	size_t i;
	char *dst;
	int rc;

	if (p->ts_raw.n) {
		ts_len = p->ts_raw.n;
		memcpy(ts, p->ts_raw.s, ts_len);
	} else {
		ts_len = lineproto_num_i64(p->ts, ts);
	}
	for (i = 0; i < p->ntags; i++)
		len += 2 + p->tags[i].key.n + p->tags[i].value.n;
	for (i = 0; i < p->nfields; i++) {
		const struct lp_field *f = &p->fields[i];

		len += 2 + f->key.n + (f->is_string ? f->raw.n : f->num_len);
	}
	len += 1 + ts_len + 1;
	dst = lineproto_buf_extend(out, len, &rc);
	if (!dst)
		return rc;
	lp_put(&dst, p->measurement.s, p->measurement.n);
	for (i = 0; i < p->ntags; i++) {
		*dst++ = ',';
		lp_put(&dst, p->tags[i].key.s, p->tags[i].key.n);
		*dst++ = '=';
		lp_put(&dst, p->tags[i].value.s, p->tags[i].value.n);
	}
	for (i = 0; i < p->nfields; i++) {
		const struct lp_field *f = &p->fields[i];

		*dst++ = i == 0 ? ' ' : ',';
		lp_put(&dst, f->key.s, f->key.n);
		*dst++ = '=';
		if (f->is_string)
			lp_put(&dst, f->raw.s, f->raw.n);
		else
			lp_put(&dst, f->num, f->num_len);
	}
	*dst++ = ' ';
	lp_put(&dst, ts, ts_len);
	*dst = '\n';
	return LINEPROTO_OK;
}

int lineproto_parser_split(struct lineproto_parser *p, const char *s, size_t n)
{
	const char *nul;
	size_t i;
	int rc;

	p->s = s;
	p->n = n;
	p->pos = 0;
	p->ntags = 0;
	p->nfields = 0;
	p->ts_raw.n = 0;
	nul = memchr(s, '\0', n);
	if (nul)
		return lp_fail(p, "NUL byte at byte %zu", (size_t)(nul - s));
	i = lineproto_utf8_prefix(s, n);
	if (i < n)
		return lp_fail(p, "invalid UTF-8 at byte %zu", i);
	if (n == 0 || s[0] == '#')
		return lp_fail(p, "a blank or comment line holds no point");
	rc = lp_parse_series(p);
	if (rc == LINEPROTO_OK) {
		lp_skip_spaces(p);
		if (p->pos == p->n)
			return lp_fail(p, "missing fields (expected field=value after the space)");
		rc = lp_parse_fields(p);
	}
	if (rc != LINEPROTO_OK)
		return rc;
	lp_sort_tags(p);
	for (i = 1; i < p->ntags; i++) {
		char q[LP_QUOTE_MAX + 4];

		if (lp_name_cmp(p->tags[i - 1].key, p->tags[i].key) == 0)
			return lp_fail(p, "duplicate tag \"%s\"", lp_quote(p->tags[i].key, q));
	}
	/* Last: the receipt clock is read only for an otherwise valid point. */
	return lp_parse_time(p);
}

int lineproto_parser_line(struct lineproto_parser *p, const char *s, size_t n,
			  struct lineproto_buf *out)
{
	size_t mark = out->len;
	int rc = lineproto_parser_split(p, s, n);

	if (rc != LINEPROTO_OK)
		return rc;
	rc = lp_encode(p, out);
	if (rc != LINEPROTO_OK && out->data) {
		out->len = mark;
		out->data[mark] = '\0';
	}
	return rc;
}

void lineproto_parser_init(struct lineproto_parser *p, const struct lineproto_parse_options *o,
			   char *why, size_t why_size)
{
	memset(p, 0, sizeof(*p));
	p->o = o;
	p->why = why;
	p->why_size = why_size;
}

void lineproto_parser_free(struct lineproto_parser *p)
{
	free(p->tags);
	free(p->fields);
	free(p->order);
}

int lineproto_parse_line(const char *s, size_t n, const struct lineproto_parse_options *o,
			 struct lineproto_buf *out, char *why, size_t why_size)
{
	struct lp_parser p;
	int rc;

	lineproto_parser_init(&p, o, why, why_size);
	if (why && why_size)
		why[0] = '\0';
	rc = lineproto_parser_line(&p, s, n, out);
	lineproto_parser_free(&p);
	return rc;
}
