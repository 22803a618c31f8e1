/* point.c -- canonical points from what a collector read: tags, fields, command output. */
#include "point.h"

#include <string.h>

/* One key=value pair of a configured tag list, pointing into that list. */
struct collect_kv {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
};

/* A piece of a canonical line, escapes kept. */
struct collect_span {
	const char *s;
	size_t n;
};

/* True for a byte a configured tag may not hold: a backslash (no escaping
 * round-trips through InfluxDB) or a control character. */
static bool collect_tag_byte_bad(unsigned char c)
{
	return c == '\\' || c < 0x20 || c == 0x7f;
}

static bool collect_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Checks one key or value of a configured tag. Returns NULL or the reason. */
static const char *collect_tag_text_check(const char *s, size_t n, const char *empty)
{
	size_t i;

	if (n == 0)
		return empty;
	if (collect_blank(s[0]) || collect_blank(s[n - 1]))
		return "a tag key or value starts or ends with a blank";
	for (i = 0; i < n; i++) {
		if (collect_tag_byte_bad((unsigned char)s[i]))
			return "a tag holds a backslash or a control character";
	}
	return NULL;
}

/* The next pair of "key=value,key=value" from *pos (advanced past it).
 * Returns 1 with *kv, 0 at the end, or -1 with *why set. */
static int collect_tags_next(const char **pos, struct collect_kv *kv, const char **why)
{
	const char *s = *pos;
	const char *end;
	const char *eq;

	if (*s == '\0')
		return 0;
	end = strchr(s, ',');
	if (!end)
		end = s + strlen(s);
	if (end == s || (*end == ',' && end[1] == '\0')) {
		*why = "empty tag (a comma at the start or end, or two in a row)";
		return -1;
	}
	eq = memchr(s, '=', (size_t)(end - s));
	if (!eq) {
		*why = "a tag has no '=' (expected key=value)";
		return -1;
	}
	if (memchr(eq + 1, '=', (size_t)(end - eq - 1))) {
		*why = "a tag value holds '=' (one '=' per key=value)";
		return -1;
	}
	kv->key = s;
	kv->key_len = (size_t)(eq - s);
	kv->value = eq + 1;
	kv->value_len = (size_t)(end - eq - 1);
	*why = collect_tag_text_check(kv->key, kv->key_len, "empty tag key");
	if (!*why)
		*why = collect_tag_text_check(kv->value, kv->value_len, "empty tag value");
	if (*why)
		return -1;
	if (kv->key_len == 4 && memcmp(kv->key, "time", 4) == 0) {
		*why = "tag key \"time\" is not allowed (InfluxDB reserves it)";
		return -1;
	}
	*pos = *end == ',' ? end + 1 : end;
	return 1;
}

/* True if the escaped key `esc` unescapes (`\,` `\=` `\ ` -> the byte, any
 * other backslash kept, as the parser compares keys) to lit[0..n). */
static bool collect_key_is(struct collect_span esc, const char *lit, size_t n)
{
	size_t i = 0;
	size_t j = 0;

	while (i < esc.n) {
		char c = esc.s[i];

		if (c == '\\' && i + 1 < esc.n &&
		    (esc.s[i + 1] == ',' || esc.s[i + 1] == '=' || esc.s[i + 1] == ' ')) {
			c = esc.s[i + 1];
			i++;
		}
		i++;
		if (j >= n || lit[j] != c)
			return false;
		j++;
	}
	return j == n;
}

/* True if the configured list `tags` (already checked) has the key `key`:
 * escaped as in a canonical line, or literal text. */
static bool collect_tags_has(const char *tags, struct collect_span key, bool escaped)
{
	struct collect_kv kv;
	const char *why;
	const char *pos = tags ? tags : "";

	while (collect_tags_next(&pos, &kv, &why) == 1) {
		if (escaped ? collect_key_is(key, kv.key, kv.key_len)
			    : kv.key_len == key.n && memcmp(kv.key, key.s, key.n) == 0)
			return true;
	}
	return false;
}

int point_tags_check(const char *tags, const char **why)
{
	struct collect_kv kv, old;
	const char *text = tags ? tags : "";
	const char *pos = text;
	const char *start;
	const char *seen;
	const char *ignored;
	int rc;

	*why = NULL;
	if (!lineproto_utf8_valid(text, strlen(text))) {
		*why = "tags are not valid UTF-8";
		return -1;
	}
	for (;;) {
		start = pos;
		rc = collect_tags_next(&pos, &kv, why);
		if (rc <= 0)
			return rc;
		seen = text;
		while (seen < start && collect_tags_next(&seen, &old, &ignored) == 1) {
			if (old.key_len == kv.key_len && memcmp(old.key, kv.key, kv.key_len) == 0) {
				*why = "a tag key repeats";
				return -1;
			}
		}
	}
}

/* Appends ",key=value" (escaped) to raw. Returns as lineproto_buf_tag(). */
static int collect_raw_tag(struct lineproto_buf *raw, const char *k, size_t kn, const char *v,
			   size_t vn)
{
	int rc;

	rc = lineproto_buf_putc(raw, ',');
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_tag(raw, k, kn);
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_putc(raw, '=');
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_tag(raw, v, vn);
	return rc;
}

/* Appends the configured tags to raw. Returns LINEPROTO_OK, _EINVAL for a
 * list point_tags_check() refuses, or as lineproto_buf_tag(). */
static int collect_raw_extra_tags(struct lineproto_buf *raw, const char *extra)
{
	struct collect_kv kv;
	const char *why;
	const char *pos = extra ? extra : "";
	int rc;

	if (point_tags_check(pos, &why) != 0)
		return LINEPROTO_EINVAL;
	for (;;) {
		rc = collect_tags_next(&pos, &kv, &why);
		if (rc == 0)
			return LINEPROTO_OK;
		if (rc < 0)
			return LINEPROTO_EINVAL;
		rc = collect_raw_tag(raw, kv.key, kv.key_len, kv.value, kv.value_len);
		if (rc != LINEPROTO_OK)
			return rc;
	}
}

/* Appends one field value: a float, or a whole number as <v>i. */
static int collect_raw_value(struct lineproto_buf *raw, const struct point_field *f)
{
	int64_t i;
	int rc;

	if (!f->integer)
		return lineproto_buf_float(raw, f->value);
	/* -2^63 <= v < 2^63, and whole (NaN fails the range test). */
	if (!(f->value >= -9223372036854775808.0 && f->value < 9223372036854775808.0))
		return LINEPROTO_EINVAL;
	i = (int64_t)f->value;
	if ((double)i != f->value)
		return LINEPROTO_EINVAL;
	rc = lineproto_buf_int64(raw, i);
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_putc(raw, 'i');
	return rc;
}

/* Parses raw[0..n) once into out: tags sorted, numbers canonical.
 * unsigned_ok: accept 12u fields (command output parsed with it). */
static int collect_canonical(const char *raw, size_t n, int unsigned_ok, struct lineproto_buf *out)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS,
					    .unsigned_ok = unsigned_ok};

	return lineproto_parse_line(raw, n, &o, out, NULL, 0);
}

int point_build(struct lineproto_buf *out, const char *measurement, const char *const *own_tags,
		const char *extra_tags, const struct point_field *fields, size_t n_fields,
		int64_t ts_ns)
{
	struct lineproto_buf raw;
	size_t i;
	int rc;

	lineproto_buf_init(&raw, out->max);
	if (!measurement || n_fields == 0) {
		rc = LINEPROTO_EINVAL;
		goto out;
	}
	rc = lineproto_buf_measurement(&raw, measurement, strlen(measurement));
	for (i = 0; rc == LINEPROTO_OK && own_tags && own_tags[i]; i += 2) {
		const char *k = own_tags[i];
		const char *v = own_tags[i + 1];

		if (!v) {
			rc = LINEPROTO_EINVAL;
			break;
		}
		if (collect_tags_has(extra_tags, (struct collect_span){k, strlen(k)}, false))
			continue;
		rc = collect_raw_tag(&raw, k, strlen(k), v, strlen(v));
	}
	if (rc == LINEPROTO_OK)
		rc = collect_raw_extra_tags(&raw, extra_tags);
	for (i = 0; rc == LINEPROTO_OK && i < n_fields; i++) {
		rc = lineproto_buf_putc(&raw, i == 0 ? ' ' : ',');
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_field_key(&raw, fields[i].key,
						     fields[i].key ? strlen(fields[i].key) : 0);
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_putc(&raw, '=');
		if (rc == LINEPROTO_OK)
			rc = collect_raw_value(&raw, &fields[i]);
	}
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_putc(&raw, ' ');
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_int64(&raw, ts_ns);
	if (rc == LINEPROTO_OK)
		rc = collect_canonical(raw.data, raw.len, 0, out);
out:
	lineproto_buf_free(&raw);
	return rc;
}

/* lineproto_clock_fn: the receipt time of command output lines without a
 * timestamp is the run's grid time, *arg. */
static int64_t collect_lines_clock(void *arg)
{
	return *(const int64_t *)arg;
}

/* Advances *pos over a name of a canonical line up to an unescaped ',' or
 * ' ' (or '=' with eq_stops): the parser's rule for measurement and tags, a
 * stop right after a backslash is escaped. Returns the span. */
static struct collect_span collect_scan(const char *s, size_t n, size_t *pos, bool eq_stops)
{
	struct collect_span sp = {s + *pos, 0};
	size_t i = *pos;

	while (i < n) {
		char c = s[i];

		if ((c == ',' || c == ' ' || (eq_stops && c == '=')) &&
		    !(i > 0 && s[i - 1] == '\\'))
			break;
		i++;
	}
	sp.n = i - *pos;
	*pos = i;
	return sp;
}

/* True if the canonical line s[0..n) has a tag whose key is lit[0..lit_n). */
static bool collect_line_has(const char *s, size_t n, const char *lit, size_t lit_n)
{
	struct collect_span key;
	size_t pos = 0;

	collect_scan(s, n, &pos, false);
	while (pos < n && s[pos] == ',') {
		pos++;
		key = collect_scan(s, n, &pos, true);
		if (pos >= n || s[pos] != '=')
			return false;
		pos++;
		collect_scan(s, n, &pos, true);
		if (collect_key_is(key, lit, lit_n))
			return true;
	}
	return false;
}

/* Appends the configured tags the line s[0..n) does not have to raw. */
static int collect_raw_missing_tags(struct lineproto_buf *raw, const char *extra, const char *s,
				    size_t n)
{
	struct collect_kv kv;
	const char *why;
	const char *pos = extra;
	int rc;

	for (;;) {
		rc = collect_tags_next(&pos, &kv, &why);
		if (rc == 0)
			return LINEPROTO_OK;
		if (rc < 0)
			return LINEPROTO_EINVAL;
		if (collect_line_has(s, n, kv.key, kv.key_len))
			continue;
		rc = collect_raw_tag(raw, kv.key, kv.key_len, kv.value, kv.value_len);
		if (rc != LINEPROTO_OK)
			return rc;
	}
}

/* Rewrites one canonical line s[0..n) (no '\n') with the configured tags
 * merged in and appends it, canonical, to out. extra_wins: a configured tag
 * replaces the line's own one of the same key; else the line keeps its own. */
static int collect_merge_line(const char *s, size_t n, const char *extra, bool extra_wins,
			      int unsigned_ok, struct lineproto_buf *raw, struct lineproto_buf *out)
{
	struct collect_span key, value;
	size_t pos = 0;
	int rc;

	raw->len = 0;
	key = collect_scan(s, n, &pos, false);
	rc = lineproto_buf_append(raw, key.s, key.n);
	while (rc == LINEPROTO_OK && pos < n && s[pos] == ',') {
		pos++;
		key = collect_scan(s, n, &pos, true);
		if (pos >= n || s[pos] != '=')
			return LINEPROTO_EINVAL;
		pos++;
		value = collect_scan(s, n, &pos, true);
		if (extra_wins && collect_tags_has(extra, key, true))
			continue;
		rc = lineproto_buf_putc(raw, ',');
		if (rc == LINEPROTO_OK)
			rc = lineproto_buf_append(raw, key.s, (size_t)(value.s + value.n - key.s));
	}
	if (rc == LINEPROTO_OK)
		rc = extra_wins ? collect_raw_extra_tags(raw, extra)
				: collect_raw_missing_tags(raw, extra, s, n);
	if (rc == LINEPROTO_OK)
		rc = lineproto_buf_append(raw, s + pos, n - pos);
	if (rc == LINEPROTO_OK)
		rc = collect_canonical(raw->data, raw->len, unsigned_ok, out);
	return rc;
}

int point_lines(const char *text, size_t len, const struct lineproto_parse_options *o,
		const char *extra_tags, int64_t ts_ns, struct lineproto_buf *out,
		struct lineproto_report *report)
{
	struct lineproto_parse_options po = *o;
	struct lineproto_buf parsed, raw;
	const char *extra = extra_tags ? extra_tags : "";
	const char *why;
	size_t mark = out->len;
	size_t pos = 0;
	int rc;

	memset(report, 0, sizeof(*report));
	lineproto_buf_init(&parsed, out->max);
	lineproto_buf_init(&raw, out->max);
	po.precision_ns = LINEPROTO_NS;
	po.clock = collect_lines_clock;
	po.clock_arg = &ts_ns;
	/* Command output is not checked for type conflicts: the configured tags
	 * may join two series after the parse (a conflict meets InfluxDB's own
	 * refusal, which the uplink isolates line by line). */
	po.no_type_check = 1;
	if (point_tags_check(extra, &why) != 0) {
		rc = LINEPROTO_EINVAL;
		goto out;
	}
	if (*extra == '\0') {
		rc = lineproto_parse(text, len, &po, out, report);
		goto out;
	}
	rc = lineproto_parse(text, len, &po, &parsed, report);
	while (rc == LINEPROTO_OK && pos < parsed.len) {
		const char *line = parsed.data + pos;
		const char *nl = memchr(line, '\n', parsed.len - pos);
		size_t n = (size_t)(nl - line);

		rc = collect_merge_line(line, n, extra, true, po.unsigned_ok, &raw, out);
		pos += n + 1;
	}
out:
	if (rc != LINEPROTO_OK && out->data) {
		out->len = mark;
		out->data[mark] = '\0';
	}
	lineproto_buf_free(&parsed);
	lineproto_buf_free(&raw);
	return rc;
}

int point_tags_add(const char *text, size_t len, const char *tags, struct lineproto_buf *out)
{
	struct lineproto_buf raw;
	const char *why;
	size_t mark = out->len;
	size_t pos = 0;
	int rc = LINEPROTO_OK;

	if (point_tags_check(tags, &why) != 0)
		return LINEPROTO_EINVAL;
	lineproto_buf_init(&raw, out->max);
	while (rc == LINEPROTO_OK && pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);

		if (!nl) {
			rc = LINEPROTO_EINVAL;
			break;
		}
		/* The text was canonical already: 12u fields were accepted then. */
		rc = collect_merge_line(line, (size_t)(nl - line), tags, false, 1, &raw, out);
		pos += (size_t)(nl - line) + 1;
	}
	if (rc != LINEPROTO_OK && out->data) {
		out->len = mark;
		out->data[mark] = '\0';
	}
	lineproto_buf_free(&raw);
	return rc;
}
