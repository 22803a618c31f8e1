/* lineproto_read.h -- a canonical line (what lineproto_parse() wrote) back into its parts. */
#ifndef IOT_EDGE_LINEPROTO_READ_H
#define IOT_EDGE_LINEPROTO_READ_H

#include <stddef.h>
#include <stdint.h>

/* A piece of the line exactly as written (escapes kept); not NUL-terminated. */
struct lineproto_part {
	const char *s;
	size_t n;
};

/* The type of a field value, as its canonical text says. */
enum lineproto_type {
	LINEPROTO_FLOAT,    /* 21.5 */
	LINEPROTO_INTEGER,  /* 3i */
	LINEPROTO_UNSIGNED, /* 7u */
	LINEPROTO_BOOLEAN,  /* true, false */
	LINEPROTO_STRING,   /* "text" */
};

struct lineproto_read_tag {
	struct lineproto_part key;
	struct lineproto_part value;
};

struct lineproto_read_field {
	struct lineproto_part key;
	struct lineproto_part value; /* canonical text; a string with its quotes */
	enum lineproto_type type;
};

/* One point; every part points into the line given to lineproto_read_line(),
 * the arrays into the reader: both valid until the next call. */
struct lineproto_point_parts {
	struct lineproto_part series;	   /* measurement and tags as written: the series' name */
	struct lineproto_part measurement; /* escaped as written */
	const struct lineproto_read_tag *tags; /* sorted by key */
	size_t ntags;
	const struct lineproto_read_field *fields; /* in the order written */
	size_t nfields;
	int64_t ts; /* ns since the epoch */
};

/* Reads lines one after another, reusing its arrays. One thread at a time. */
struct lineproto_reader;

/* Returns 0 and *out (free it with lineproto_reader_destroy()), or -1 when
 * out of memory. Any thread. */
int lineproto_reader_create(struct lineproto_reader **out);

/* NULL-safe. The reader's thread. */
void lineproto_reader_destroy(struct lineproto_reader *r);

/* Splits one line s[0..n) (without its '\n') with the line protocol parser.
 * Returns LINEPROTO_OK and *out, LINEPROTO_EINVAL when it is not a valid
 * point, LINEPROTO_ENOMEM. The reader's thread. */
int lineproto_read_line(struct lineproto_reader *r, const char *s, size_t n,
			struct lineproto_point_parts *out);

/* The value of a field read by lineproto_read_line() as a number: an integer
 * or unsigned (rounded to a double), a float, a boolean 1 or 0, a string 0.
 * Pure; any thread. */
double lineproto_read_number(const struct lineproto_read_field *f);

/* How a part is unescaped. */
enum lineproto_part_kind {
	LINEPROTO_PART_MEASUREMENT, /* "\," and "\ " */
	LINEPROTO_PART_KEY,	    /* a tag key or value, a field key: "\,", "\=" and "\ " */
	LINEPROTO_PART_STRING,	    /* a string value: quotes dropped, "\"" and "\\" */
};

/* Writes `p` unescaped into out (size > 0 bytes, always NUL-terminated),
 * cut at a UTF-8 character boundary when it does not fit. Returns the
 * length written. Pure; any thread. */
size_t lineproto_unescape(struct lineproto_part p, enum lineproto_part_kind kind, char *out,
			  size_t size);

#endif
