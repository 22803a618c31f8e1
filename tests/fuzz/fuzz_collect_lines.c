/* fuzz_collect_lines.c -- libFuzzer: command output + extra tags -> point_lines() and
 * point_tags_add() invariants. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "point.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Canonical lines all carry a timestamp: re-parsing must not read the clock. */
static int64_t fuzz_no_clock(void *arg)
{
	(void)arg;
	fprintf(stderr, "invariant broken: the clock was read for a canonical line\n");
	abort();
}

static void fuzz_die(const char *what, const char *text, size_t n)
{
	fprintf(stderr, "invariant broken: %s in \"%.*s\"\n", what, (int)(n > 300 ? 300 : n), text);
	abort();
}

/* Where the series (measurement and tags) of a canonical line ends: the
 * first ' ' not right after a backslash. */
static size_t fuzz_series_len(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == ' ' && !(i > 0 && s[i - 1] == '\\'))
			return i;
	}
	fuzz_die("canonical line without a space", s, n);
	return n;
}

/* The next line of text[*pos..len) (without '\n'); *pos moves past it. */
static const char *fuzz_next_line(const char *text, size_t len, size_t *pos, size_t *n)
{
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', len - *pos);

	if (!nl)
		fuzz_die("canonical text not newline-terminated", text, len);
	*n = (size_t)(nl - s);
	*pos += *n + 1;
	return s;
}

/* ",key=value" of every extra tag, escaped as in a canonical line. */
static void fuzz_escaped_tags(const char *tags, struct lineproto_buf *out)
{
	const char *p = tags;

	while (*p) {
		const char *end = strchr(p, ',');
		const char *eq;

		if (!end)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (!eq || lineproto_buf_putc(out, ',') != LINEPROTO_OK ||
		    lineproto_buf_tag(out, p, (size_t)(eq - p)) != LINEPROTO_OK ||
		    lineproto_buf_putc(out, '=') != LINEPROTO_OK ||
		    lineproto_buf_tag(out, eq + 1, (size_t)(end - eq - 1)) != LINEPROTO_OK ||
		    lineproto_buf_putc(out, '\n') != LINEPROTO_OK)
			fuzz_die("checked tags do not escape", tags, strlen(tags));
		p = *end ? end + 1 : end;
	}
}

/* True if the series s[0..n) holds the escaped tag t[0..tn) (",k=v")
 * followed by ',' or its end. */
static int fuzz_series_has(const char *s, size_t n, const char *t, size_t tn)
{
	size_t i;

	for (i = 0; i + tn <= n; i++) {
		if (memcmp(s + i, t, tn) == 0 && (i + tn == n || s[i + tn] == ','))
			return 1;
	}
	return 0;
}

/* merged and plain hold the same points but for the series; every merged
 * line is canonical and carries every extra tag. */
static void fuzz_check(const struct lineproto_buf *merged, const struct lineproto_buf *plain,
		       const char *tags, size_t points)
{
	struct lineproto_parse_options o = {
	    .precision_ns = LINEPROTO_NS, .clock = fuzz_no_clock, .unsigned_ok = 1};
	struct lineproto_buf esc, again;
	size_t mpos = 0, ppos = 0, lines = 0;
	char why[256];

	lineproto_buf_init(&esc, 1 << 20);
	fuzz_escaped_tags(tags, &esc);
	while (mpos < merged->len) {
		size_t mn, pn, ms, ps, epos = 0;
		const char *m = fuzz_next_line(merged->data, merged->len, &mpos, &mn);
		const char *p;

		if (ppos >= plain->len)
			fuzz_die("more merged lines than plain ones", m, mn);
		p = fuzz_next_line(plain->data, plain->len, &ppos, &pn);
		ms = fuzz_series_len(m, mn);
		ps = fuzz_series_len(p, pn);
		if (mn - ms != pn - ps || memcmp(m + ms, p + ps, mn - ms) != 0)
			fuzz_die("fields or timestamp changed by the merge", m, mn);
		while (epos < esc.len) {
			size_t tn;
			const char *t = fuzz_next_line(esc.data, esc.len, &epos, &tn);

			if (!fuzz_series_has(m, ms, t, tn))
				fuzz_die("an extra tag is missing", m, mn);
		}
		lineproto_buf_init(&again, 1 << 24);
		if (lineproto_parse_line(m, mn, &o, &again, why, sizeof(why)) != LINEPROTO_OK)
			fuzz_die(why, m, mn);
		if (again.len != mn + 1 || memcmp(again.data, m, mn) != 0)
			fuzz_die("merged line not canonical", m, mn);
		lineproto_buf_free(&again);
		lines++;
	}
	if (ppos != plain->len || lines != points)
		fuzz_die("line counts differ", merged->data ? merged->data : "", merged->len);
	lineproto_buf_free(&esc);
}

/* True if a[0..an) and b[0..bn) are the same text (NULL data: empty). */
static int fuzz_same(const char *a, size_t an, const char *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

/* point_tags_add() (a line's own tag wins): the same number of lines; over
 * lines that carry every tag already (merged) it changes nothing; and the
 * extra-wins merge of what it made is the merge of the plain lines. */
static void fuzz_check_added(const struct lineproto_buf *plain, const struct lineproto_buf *merged,
			     const char *tags, const struct lineproto_parse_options *po)
{
	struct lineproto_parse_options o = *po;
	struct lineproto_buf added, same, remerged;
	struct lineproto_report r;
	size_t i, n_plain = 0, n_added = 0;

	o.max_line = 0;
	o.max_points = 0;
	lineproto_buf_init(&added, (size_t)1 << 26);
	lineproto_buf_init(&same, (size_t)1 << 26);
	lineproto_buf_init(&remerged, (size_t)1 << 26);
	if (point_tags_add(plain->data ? plain->data : "", plain->len, tags, &added) !=
	    LINEPROTO_OK)
		fuzz_die("point_tags_add refused canonical lines", plain->data, plain->len);
	for (i = 0; i < plain->len; i++)
		n_plain += plain->data[i] == '\n';
	for (i = 0; i < added.len; i++)
		n_added += added.data[i] == '\n';
	if (n_plain != n_added)
		fuzz_die("point_tags_add changed the number of lines", added.data, added.len);
	if (point_tags_add(merged->data ? merged->data : "", merged->len, tags, &same) !=
		LINEPROTO_OK ||
	    !fuzz_same(same.data, same.len, merged->data, merged->len))
		fuzz_die("point_tags_add changed lines that have every tag", merged->data,
			 merged->len);
	if (point_lines(added.data ? added.data : "", added.len, &o, tags, 7, &remerged, &r) !=
		LINEPROTO_OK ||
	    r.bad_lines != 0 || !fuzz_same(remerged.data, remerged.len, merged->data, merged->len))
		fuzz_die("merging what point_tags_add made differs", added.data, added.len);
	lineproto_buf_free(&added);
	lineproto_buf_free(&same);
	lineproto_buf_free(&remerged);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lineproto_parse_options o;
	struct lineproto_report rm, rp, ra;
	struct lineproto_buf merged, plain, again;
	const char *body;
	const char *nl;
	const char *why;
	char tags[256];
	size_t body_len, tags_len;
	int rc, rc_plain;

	if (size < 2)
		return 0;
	/* Byte 0: options; then the extra tags up to the first '\n'; then
	 * the command's output. */
	memset(&o, 0, sizeof(o));
	o.precision_ns = LINEPROTO_S; /* point_lines() must ignore it */
	o.unsigned_ok = data[0] & 1;
	o.max_line = (data[0] >> 1) & 1 ? 64 : 0;
	o.max_points = (data[0] >> 2) & 1 ? 3 : 0;
	nl = memchr(data + 1, '\n', size - 1);
	if (!nl)
		return 0;
	tags_len = (size_t)(nl - (const char *)(data + 1));
	if (tags_len >= sizeof(tags))
		return 0;
	memcpy(tags, data + 1, tags_len);
	tags[tags_len] = '\0';
	body = nl + 1;
	body_len = size - (size_t)(body - (const char *)data);
	lineproto_buf_init(&merged, (data[0] >> 3) & 1 ? 200 : (size_t)1 << 26);
	lineproto_buf_init(&plain, (size_t)1 << 26);
	rc = point_lines(body, body_len, &o, tags, 42, &merged, &rm);
	if (point_tags_check(tags, &why) != 0) {
		if (rc != LINEPROTO_EINVAL || merged.len != 0)
			fuzz_die("refused tags not refused", tags, tags_len);
		goto out;
	}
	if (rc != LINEPROTO_OK && rc != LINEPROTO_ETOOMANY && rc != LINEPROTO_ETOOBIG)
		fuzz_die("unexpected return code", tags, tags_len);
	if (rc != LINEPROTO_OK) {
		if (merged.len != 0)
			fuzz_die("output left after a failure", merged.data, merged.len);
		goto out;
	}
	rc_plain = point_lines(body, body_len, &o, "", 42, &plain, &rp);
	if (rc_plain != LINEPROTO_OK)
		fuzz_die("plain parse failed where the merged one did not", body, body_len);
	if (rm.points != rp.points || rm.bad_lines != rp.bad_lines ||
	    rm.first_bad != rp.first_bad || strcmp(rm.errors, rp.errors) != 0)
		fuzz_die("reports differ with and without tags", rm.errors, rm.errors_len);
	fuzz_check(&merged, &plain, tags, rm.points);
	fuzz_check_added(&plain, &merged, tags, &o);
	/* Merging again changes nothing (merged lines may pass max_line). */
	if (merged.len > 0) {
		o.max_line = 0;
		lineproto_buf_init(&again, (size_t)1 << 26);
		if (point_lines(merged.data, merged.len, &o, tags, 7, &again, &ra) !=
			LINEPROTO_OK ||
		    ra.bad_lines != 0 || again.len != merged.len ||
		    memcmp(again.data, merged.data, merged.len) != 0)
			fuzz_die("a second merge changed the text", merged.data, merged.len);
		lineproto_buf_free(&again);
	}
out:
	lineproto_buf_free(&merged);
	lineproto_buf_free(&plain);
	return 0;
}
