/* lineproto_types.c -- field type conflicts inside one body: a hash of (series, field key) -> type.
 */
#include "lineproto_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Entries are compact (a 1 MiB body of short fields holds ~250 000): offsets
 * into the output buffer, not copies. */
struct lineproto_type_slot {
	uint32_t hash;
	uint32_t line; /* 0: empty slot */
	uint32_t series_off;
	uint32_t key_off;
	uint32_t key_len;
	uint16_t series_len; /* <= LINEPROTO_SERIES_MAX */
	uint8_t type;	     /* enum lineproto_type */
};

enum lineproto_type { LP_T_FLOAT, LP_T_INT, LP_T_UINT, LP_T_BOOL, LP_T_STRING };

static const char *const lineproto_type_names[] = {
    [LP_T_FLOAT] = "a float",  [LP_T_INT] = "an integer",  [LP_T_UINT] = "an unsigned integer",
    [LP_T_BOOL] = "a boolean", [LP_T_STRING] = "a string",
};

void lineproto_types_init(struct lineproto_types *t)
{
	memset(t, 0, sizeof(*t));
}

void lineproto_types_free(struct lineproto_types *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static enum lineproto_type lineproto_type_of(const struct lineproto_field *f)
{
	if (f->is_string)
		return LP_T_STRING;
	if (f->num[f->num_len - 1] == 'i')
		return LP_T_INT;
	if (f->num[f->num_len - 1] == 'u')
		return LP_T_UINT;
	if (f->num[0] == 't' || f->num[0] == 'f')
		return LP_T_BOOL;
	return LP_T_FLOAT;
}

/* FNV-1a over the series, a separator byte no name holds unescaped at the
 * end of a series (' '), then the key. */
static uint32_t lineproto_type_hash(const char *series, size_t sn, const char *key, size_t kn)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < sn; i++)
		h = (h ^ (unsigned char)series[i]) * 1099511628211ull;
	h = (h ^ ' ') * 1099511628211ull;
	for (i = 0; i < kn; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
	return (uint32_t)(h ^ (h >> 32));
}

/* The slot of (series, key): the one holding it, or the empty one where it
 * goes. The table is never full (grown at half). */
static struct lineproto_type_slot *lineproto_type_find(const struct lineproto_types *t,
						       const char *base, uint32_t hash,
						       size_t series_off, size_t series_len,
						       size_t key_off, size_t key_len)
{
	size_t mask = t->cap - 1;
	size_t i = hash & mask;

	for (;; i = (i + 1) & mask) {
		struct lineproto_type_slot *s = &t->slots[i];

		if (s->line == 0)
			return s;
		if (s->hash == hash && s->series_len == series_len && s->key_len == key_len &&
		    memcmp(base + s->series_off, base + series_off, series_len) == 0 &&
		    memcmp(base + s->key_off, base + key_off, key_len) == 0)
			return s;
	}
}

/* Doubles the table (16 slots at first). Returns LINEPROTO_OK or _ENOMEM. */
static int lineproto_types_grow(struct lineproto_types *t, const char *base)
{
	struct lineproto_types bigger = {.used = t->used};
	size_t i;

	bigger.cap = t->cap ? t->cap * 2 : 16;
	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (!bigger.slots)
		return LINEPROTO_ENOMEM;
	for (i = 0; i < t->cap; i++) {
		const struct lineproto_type_slot *s = &t->slots[i];

		if (s->line)
			*lineproto_type_find(&bigger, base, s->hash, s->series_off, s->series_len,
					     s->key_off, s->key_len) = *s;
	}
	free(t->slots);
	*t = bigger;
	return LINEPROTO_OK;
}

int lineproto_types_check(struct lineproto_types *t, struct lineproto_parser *p,
			  const struct lineproto_buf *out, size_t mark, size_t line,
			  struct lineproto_conflict *c)
{
	const char *base = out->data;
	size_t series_len = p->measurement.n;
	size_t off;
	size_t i;
	int pass;
	int rc;

	for (i = 0; i < p->ntags; i++)
		series_len += 2 + p->tags[i].key.n + p->tags[i].value.n;
	/* Past what the compact slots hold: not checked (InfluxDB still refuses
	 * the conflict; the uplink then isolates the line). */
	if (out->len > UINT32_MAX || line > UINT32_MAX || series_len > UINT16_MAX)
		return LINEPROTO_OK;
	/* Pass 0 looks every field up; pass 1, only when none conflicts, records
	 * the new ones (a refused line leaves no type behind). */
	for (pass = 0; pass < 2; pass++) {
		off = mark + series_len + 1;
		for (i = 0; i < p->nfields; i++) {
			const struct lineproto_field *f = &p->fields[i];
			enum lineproto_type type = lineproto_type_of(f);
			size_t key_off = off;
			uint32_t hash =
			    lineproto_type_hash(base + mark, series_len, base + key_off, f->key.n);
			struct lineproto_type_slot *s;

			off += f->key.n + 1 + (f->is_string ? f->raw.n : f->num_len) + 1;
			if (pass == 1 && 2 * (t->used + 1) > t->cap) {
				rc = lineproto_types_grow(t, base);
				if (rc != LINEPROTO_OK)
					return rc;
			}
			if (t->cap == 0)
				continue;
			s = lineproto_type_find(t, base, hash, mark, series_len, key_off, f->key.n);
			if (s->line && s->type != type) {
				c->line = line;
				c->first_line = s->line;
				c->type = lineproto_type_names[type];
				c->first_type = lineproto_type_names[s->type];
				lineproto_quote(f->key, c->key);
				return LINEPROTO_EINVAL;
			}
			if (pass == 1 && s->line == 0) {
				*s = (struct lineproto_type_slot){
				    .hash = hash,
				    .line = (uint32_t)line,
				    .series_off = (uint32_t)mark,
				    .key_off = (uint32_t)key_off,
				    .key_len = (uint32_t)f->key.n,
				    .series_len = (uint16_t)series_len,
				    .type = (uint8_t)type,
				};
				t->used++;
			}
		}
	}
	return LINEPROTO_OK;
}

int lineproto_find_conflict(const char *text, size_t len, struct lineproto_conflict *c)
{
	struct lineproto_parse_options o = {.precision_ns = LINEPROTO_NS,
					    .max_tags = SIZE_MAX,
					    .max_fields = SIZE_MAX,
					    .unsigned_ok = 1};
	struct lineproto_parser p;
	struct lineproto_types t;
	struct lineproto_buf again;
	size_t pos = 0;
	size_t line = 1;
	int rc = 0;

	lineproto_parser_init(&p, &o, NULL, 0);
	lineproto_types_init(&t);
	lineproto_buf_init(&again, SIZE_MAX / 2);
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		size_t mark = again.len;
		int r = lineproto_parser_line(&p, s, n, &again);

		if (r == LINEPROTO_OK)
			r = lineproto_types_check(&t, &p, &again, mark, line, c);
		if (r == LINEPROTO_EINVAL && c->line == line) {
			rc = 1;
			break;
		}
		if (r == LINEPROTO_ENOMEM) {
			rc = LINEPROTO_ENOMEM;
			break;
		}
		pos += n + 1;
		line++;
	}
	lineproto_buf_free(&again);
	lineproto_types_free(&t);
	lineproto_parser_free(&p);
	return rc;
}
