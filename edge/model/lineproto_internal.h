/* lineproto_internal.h -- shared by the line-protocol parser files: a line's parser, numbers. */
#ifndef IOT_EDGE_LINEPROTO_INTERNAL_H
#define IOT_EDGE_LINEPROTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lineproto.h"
#include "lineproto_parse.h"

/* Longest canonical number: a float (LINEPROTO_FLOAT_MAX) or 20 digits, a
 * sign and the i/u suffix. */
#define LINEPROTO_NUM_MAX 32

/* A piece of the line exactly as sent (escapes kept). */
struct lineproto_span {
	const char *s;
	size_t n;
};

struct lineproto_tag {
	struct lineproto_span key;
	struct lineproto_span value;
};

struct lineproto_field {
	struct lineproto_span key;
	struct lineproto_span raw; /* the value as sent; a string with its quotes */
	bool is_string;		   /* else `num` holds the canonical value */
	unsigned char num_len;
	char num[LINEPROTO_NUM_MAX];
};

/* One line being parsed; the arrays are reused from line to line. */
struct lineproto_parser {
	const struct lineproto_parse_options *o;
	const char *s;
	size_t n;
	size_t pos;
	struct lineproto_span measurement;
	struct lineproto_tag *tags;
	size_t ntags, tags_cap;
	struct lineproto_field *fields;
	size_t nfields, fields_cap;
	size_t *order; /* field indexes, sorted by key for the duplicate check */
	size_t order_cap;
	int64_t ts;
	struct lineproto_span ts_raw; /* the timestamp as sent when canonical, else n = 0 */
	char *why;
	size_t why_size;
};

/* How much of a key or value an error message quotes. */
#define LINEPROTO_QUOTE_MAX 40

/* --- lineproto_parse.c --- */

/* Writes the message into p->why. Returns LINEPROTO_EINVAL. */
int lineproto_parser_fail(struct lineproto_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copies a span for an error message into out (LINEPROTO_QUOTE_MAX + 4
 * bytes): at most LINEPROTO_QUOTE_MAX bytes cut at a character boundary,
 * '"', '\\' and control bytes shown as '?'. The line was checked to be
 * UTF-8 before. Returns out. */
const char *lineproto_quote(struct lineproto_span sp, char *out);

/* Sets up a parser that writes its messages into why. Allocates nothing. */
void lineproto_parser_init(struct lineproto_parser *p, const struct lineproto_parse_options *o,
			   char *why, size_t why_size);

/* Parses s[0..n) into p (measurement, tags sorted, fields, ts: spans into s)
 * without writing it anywhere. Returns as lineproto_parser_line(). */
int lineproto_parser_split(struct lineproto_parser *p, const char *s, size_t n);

/* Parses s[0..n) and appends its canonical point to out; see
 * lineproto_parse_line() for the return codes. The caller's thread. */
int lineproto_parser_line(struct lineproto_parser *p, const char *s, size_t n,
			  struct lineproto_buf *out);

/* Frees the parser's arrays. */
void lineproto_parser_free(struct lineproto_parser *p);

/* --- lineproto_types.c: the field types seen so far in one body --- */

struct lineproto_type_slot;

/* (series, field key) -> type and the line that set it, for one body. */
struct lineproto_types {
	struct lineproto_type_slot *slots;
	size_t cap, used;
};

/* An empty table; allocates nothing. */
void lineproto_types_init(struct lineproto_types *t);

/* Frees the table. */
void lineproto_types_free(struct lineproto_types *t);

/* The line just parsed by p was appended to out at `mark` (line number
 * `line` of the body): returns LINEPROTO_OK and records its fields' types,
 * LINEPROTO_EINVAL (*c filled, nothing recorded) when a field has another
 * type than in an earlier line of the same series, or _ENOMEM. */
int lineproto_types_check(struct lineproto_types *t, struct lineproto_parser *p,
			  const struct lineproto_buf *out, size_t mark, size_t line,
			  struct lineproto_conflict *c);

/* --- lineproto_number.c: pure functions, any thread --- */

/* Classifies and checks a field value that is not a string (boolean,
 * integer, unsigned, float) and writes its canonical text into f->num.
 * Returns LINEPROTO_OK, LINEPROTO_EINVAL (message in p->why) or
 * LINEPROTO_ENOMEM. */
int lineproto_num_value(struct lineproto_parser *p, struct lineproto_field *f);

/* s[0..n) as an unsigned decimal. Returns false when empty, not all
 * digits, or past UINT64_MAX. */
bool lineproto_num_digits(const char *s, size_t n, uint64_t *out);

/* True if s[0..n) is one or more decimal digits. */
bool lineproto_num_all_digits(const char *s, size_t n);

/* True if s[0..n) is -?(D+(.D*)?|.D+)([eE][+-]?D+)?, InfluxDB's float. */
bool lineproto_num_float_syntax(const char *s, size_t n);

/* The canonical text of a float literal already checked by
 * lineproto_num_float_syntax(): what lineproto_format_float() writes for
 * its value, into out (LINEPROTO_NUM_MAX bytes, NUL-terminated). Returns
 * the length, LINEPROTO_EINVAL when the value is out of range for a
 * double, or LINEPROTO_ENOMEM. */
int lineproto_num_float(const char *s, size_t n, char *out);

/* Writes v in decimal into out (at least 21 bytes; not NUL-terminated).
 * Returns the length. */
size_t lineproto_num_i64(int64_t v, char *out);

/* As lineproto_num_i64() for an unsigned value. */
size_t lineproto_num_u64(uint64_t v, char *out);

#endif
