/* lineproto_body.c -- line protocol: a request body -> lines, canonical points, a report. */
#include "lineproto_internal.h"

#include <stdio.h>
#include <string.h>

int lineproto_precision(const char *name, enum lineproto_api api, int64_t *ns_per_unit)
{
	static const struct {
		const char *name;
		int64_t ns;
		bool v2;
	} units[] = {
	    {"ns", LINEPROTO_NS, true}, {"us", LINEPROTO_US, true}, {"ms", LINEPROTO_MS, true},
	    {"s", LINEPROTO_S, true},	{"n", LINEPROTO_NS, false}, {"u", LINEPROTO_US, false},
	    {"m", LINEPROTO_M, false},	{"h", LINEPROTO_H, false},
	};
	size_t i;

	if (!name || !*name) {
		*ns_per_unit = LINEPROTO_NS;
		return 0;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(name, units[i].name) == 0 && (units[i].v2 || api == LINEPROTO_API_V1)) {
			*ns_per_unit = units[i].ns;
			return 0;
		}
	}
	return -1;
}

/* Where the line starting at s ends: the first '\n' outside a string field
 * value (InfluxDB's rule: after the first unescaped space, `="` opens a
 * string that an unescaped '"' closes). Counts the newlines it passes. */
static const char *lp_line_end(const char *s, const char *end, size_t *newlines)
{
	const char *nl;
	bool fields = false;
	bool quoted = false;

	if (s >= end)
		return end;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (!nl)
		nl = end;
	/* Comments, and lines without a quote (most), end at the newline. */
	if ((s < end && *s == '#') || !memchr(s, '"', (size_t)(nl - s)))
		return nl;
	for (const char *start = s; s < end; s++) {
		char c = *s;

		/* In the fields a backslash escapes the next byte; in the series
		 * (the parser's rule) a stop right after a backslash is escaped,
		 * so "a\\ b" is one name there, not "a\" and a space. */
		if (fields && c == '\\' && s + 1 < end && s[1] != '\n') {
			s++;
			continue;
		}
		if (c == '\n') {
			if (!quoted)
				return s;
			(*newlines)++;
		} else if (!fields) {
			fields = c == ' ' && !(s > start && s[-1] == '\\');
		} else if (quoted) {
			quoted = c != '"';
		} else if (c == '=' && s + 1 < end && s[1] == '"') {
			quoted = true;
			s++;
		}
	}
	return end;
}

/* Adds "line N: why" to the report (or counts it when there is no room). */
static void lp_report(struct lineproto_report *r, size_t line, const char *why)
{
	size_t room = sizeof(r->errors) - r->errors_len;
	int n;

	r->bad_lines++;
	if (!r->first_bad)
		r->first_bad = line;
	n = snprintf(r->errors + r->errors_len, room, "%sline %zu: %s", r->errors_len ? "; " : "",
		     line, why);
	if (n < 0 || (size_t)n >= room) {
		r->errors[r->errors_len] = '\0';
		r->errors_omitted++;
		return;
	}
	r->errors_len += (size_t)n;
}

int lineproto_parse(const char *body, size_t len, const struct lineproto_parse_options *o,
		    struct lineproto_buf *out, struct lineproto_report *report)
{
	const char *p = body;
	const char *end = body + len;
	struct lineproto_parser parser;
	struct lineproto_types types;
	struct lineproto_conflict conflict;
	char why[256];
	size_t line = 1;
	int rc = LINEPROTO_OK;

	memset(report, 0, sizeof(*report));
	lineproto_parser_init(&parser, o, why, sizeof(why));
	lineproto_types_init(&types);
	while (p < end) {
		size_t newlines = 0;
		const char *s = p;
		const char *e;
		size_t n;

		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		e = lp_line_end(s, end, &newlines);
		n = (size_t)(e - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n == 0 || s[0] == '#') {
			/* blank line or comment */
		} else if (o->max_line && (size_t)(e - p) > o->max_line) {
			snprintf(why, sizeof(why), "longer than %zu bytes (http.max_line)",
				 o->max_line);
			lp_report(report, line, why);
		} else {
			size_t mark = out->len;

			rc = lineproto_parser_line(&parser, s, n, out);
			if (rc == LINEPROTO_OK && !o->no_type_check) {
				rc = lineproto_types_check(&types, &parser, out, mark, line,
							   &conflict);
				if (rc != LINEPROTO_OK && out->data) {
					out->len = mark;
					out->data[mark] = '\0';
				}
				if (rc == LINEPROTO_EINVAL)
					snprintf(
					    why, sizeof(why),
					    "field \"%s\" is %s here but %s in line %zu of this "
					    "request (InfluxDB refuses a field type conflict)",
					    conflict.key, conflict.type, conflict.first_type,
					    conflict.first_line);
			}
			if (rc == LINEPROTO_EINVAL) {
				lp_report(report, line, why);
				rc = LINEPROTO_OK;
			} else if (rc != LINEPROTO_OK) {
				goto out;
			} else if (++report->points > o->max_points && o->max_points) {
				rc = LINEPROTO_ETOOMANY;
				goto out;
			}
		}
		line += newlines + 1;
		p = e < end ? e + 1 : end;
	}
out:
	lineproto_types_free(&types);
	lineproto_parser_free(&parser);
	return rc;
}
