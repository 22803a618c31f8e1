/* lineproto_read.c -- a canonical line back into measurement, tags, fields and time, by the
 * line protocol parser itself. */
#include "lineproto_read.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto_internal.h"

struct lineproto_reader {
	struct lineproto_parse_options o;
	struct lineproto_parser p;
	char why[128];
	struct lineproto_read_tag *tags;
	size_t tags_cap;
	struct lineproto_read_field *fields;
	size_t fields_cap;
};

/* A canonical line always carries its timestamp; a line without one reads as 0. */
static int64_t lineproto_read_no_clock(void *arg)
{
	(void)arg;
	return 0;
}

int lineproto_reader_create(struct lineproto_reader **out)
{
	struct lineproto_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	r->o = (struct lineproto_parse_options){
	    .precision_ns = LINEPROTO_NS, .clock = lineproto_read_no_clock, .unsigned_ok = 1};
	lineproto_parser_init(&r->p, &r->o, r->why, sizeof(r->why));
	*out = r;
	return 0;
}

void lineproto_reader_destroy(struct lineproto_reader *r)
{
	if (!r)
		return;
	lineproto_parser_free(&r->p);
	free(r->tags);
	free(r->fields);
	free(r);
}

/* Grows r's arrays to hold ntags tags and nfields fields. Returns false when out of memory. */
static bool lineproto_read_room(struct lineproto_reader *r, size_t ntags, size_t nfields)
{
	if (ntags > r->tags_cap) {
		struct lineproto_read_tag *t = realloc(r->tags, ntags * sizeof(*t));

		if (!t)
			return false;
		r->tags = t;
		r->tags_cap = ntags;
	}
	if (nfields > r->fields_cap) {
		struct lineproto_read_field *f = realloc(r->fields, nfields * sizeof(*f));

		if (!f)
			return false;
		r->fields = f;
		r->fields_cap = nfields;
	}
	return true;
}

/* The type a canonical value's text says. */
static enum lineproto_type lineproto_read_type(const struct lineproto_field *f)
{
	char last = f->num_len ? f->num[f->num_len - 1] : '\0';

	if (f->is_string)
		return LINEPROTO_STRING;
	if (last == 'i')
		return LINEPROTO_INTEGER;
	if (last == 'u')
		return LINEPROTO_UNSIGNED;
	if (last == 'e' || f->num[0] == 't')
		return LINEPROTO_BOOLEAN; /* true, false: a float never ends in 'e' */
	return LINEPROTO_FLOAT;
}

double lineproto_read_number(const struct lineproto_read_field *f)
{
	char text[LINEPROTO_NUM_MAX + 1];
	size_t n = f->value.n < LINEPROTO_NUM_MAX ? f->value.n : LINEPROTO_NUM_MAX;

	memcpy(text, f->value.s, n);
	text[n] = '\0';
	switch (f->type) {
	case LINEPROTO_INTEGER:
		return (double)strtoll(text, NULL, 10);
	case LINEPROTO_UNSIGNED:
		return (double)strtoull(text, NULL, 10);
	case LINEPROTO_BOOLEAN:
		return text[0] == 't';
	case LINEPROTO_FLOAT:
		return strtod(text, NULL);
	case LINEPROTO_STRING:
		break;
	}
	return 0;
}

int lineproto_read_line(struct lineproto_reader *r, const char *s, size_t n,
			struct lineproto_point_parts *out)
{
	const struct lineproto_parser *p = &r->p;
	const char *end;
	size_t i;
	int rc = lineproto_parser_split(&r->p, s, n);

	if (rc != LINEPROTO_OK)
		return rc;
	if (!lineproto_read_room(r, p->ntags, p->nfields))
		return LINEPROTO_ENOMEM;
	end = p->measurement.s + p->measurement.n;
	for (i = 0; i < p->ntags; i++) {
		r->tags[i] =
		    (struct lineproto_read_tag){.key = {p->tags[i].key.s, p->tags[i].key.n},
						.value = {p->tags[i].value.s, p->tags[i].value.n}};
		if (p->tags[i].value.s + p->tags[i].value.n > end)
			end = p->tags[i].value.s + p->tags[i].value.n;
	}
	for (i = 0; i < p->nfields; i++) {
		const struct lineproto_field *f = &p->fields[i];

		r->fields[i].key = (struct lineproto_part){f->key.s, f->key.n};
		r->fields[i].value = f->is_string ? (struct lineproto_part){f->raw.s, f->raw.n}
						  : (struct lineproto_part){f->num, f->num_len};
		r->fields[i].type = lineproto_read_type(f);
	}
	*out = (struct lineproto_point_parts){
	    .series = {s, (size_t)(end - s)},
	    .measurement = {p->measurement.s, p->measurement.n},
	    .tags = r->tags,
	    .ntags = p->ntags,
	    .fields = r->fields,
	    .nfields = p->nfields,
	    .ts = p->ts,
	};
	return LINEPROTO_OK;
}

/* True if a backslash before c is an escape in a part of this kind. */
static bool lineproto_read_escape(enum lineproto_part_kind kind, char c)
{
	switch (kind) {
	case LINEPROTO_PART_MEASUREMENT:
		return c == ',' || c == ' ';
	case LINEPROTO_PART_KEY:
		return c == ',' || c == '=' || c == ' ';
	case LINEPROTO_PART_STRING:
		return c == '"' || c == '\\';
	}
	return false;
}

size_t lineproto_unescape(struct lineproto_part p, enum lineproto_part_kind kind, char *out,
			  size_t size)
{
	const char *s = p.s, *end = p.s + p.n;
	size_t len = 0;

	if (kind == LINEPROTO_PART_STRING && p.n >= 2 && s[0] == '"' && end[-1] == '"') {
		s++;
		end--;
	}
	while (s < end && len + 1 < size) {
		if (*s == '\\' && s + 1 < end && lineproto_read_escape(kind, s[1]))
			s++;
		out[len++] = *s++;
	}
	/* Cut: drop a character whose bytes did not all fit. */
	if (s < end)
		len = lineproto_utf8_prefix(out, len);
	out[len] = '\0';
	return len;
}
