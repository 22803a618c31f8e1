/* lineproto_parse.h -- InfluxDB line protocol parser: request bodies -> canonical points. */
#ifndef IOT_EDGE_LINEPROTO_PARSE_H
#define IOT_EDGE_LINEPROTO_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "lineproto.h"

/* Nanoseconds per timestamp unit, for lineproto_parse_options.precision_ns. */
#define LINEPROTO_NS 1LL
#define LINEPROTO_US 1000LL
#define LINEPROTO_MS 1000000LL
#define LINEPROTO_S 1000000000LL
#define LINEPROTO_M (60LL * LINEPROTO_S)
#define LINEPROTO_H (3600LL * LINEPROTO_S)

/* Which precision names an endpoint accepts. */
enum lineproto_api {
	LINEPROTO_API_V1, /* /write: n, ns, u, us, ms, s, m, h */
	LINEPROTO_API_V2, /* /api/v2/write: ns, us, ms, s */
};

/* Returns the receipt time in ns for a point sent without a timestamp (`arg`
 * is lineproto_parse_options.clock_arg); the daemon's never returns the same
 * value twice (clock_unique_ns()). */
typedef int64_t lineproto_clock_fn(void *arg);

/* Limits every input shares (InfluxDB 1.x refuses or chokes on more):
 * a series key (measurement + tags, as escaped in line protocol) is at most
 * LINEPROTO_SERIES_MAX bytes (InfluxDB 1.x: "max key length exceeded"), a
 * string field value at most LINEPROTO_STRING_MAX bytes (its documented
 * limit). Tags and fields per point: lineproto_parse_options.max_tags and
 * .max_fields, whose defaults are these. 64 tags: InfluxDB 1.x builds a
 * point's series key and index entries from all its tags on every write, and
 * a 200-tag point makes influxd 1.6 panic and answer 500 forever; real
 * devices send a handful. 1024 fields: InfluxDB 1.x keeps one series per
 * field; a point with more is a mistake (a payload dumped as fields), and
 * the bound keeps a point's work small. */
#define LINEPROTO_SERIES_MAX 65535u
#define LINEPROTO_STRING_MAX 65536u
#define LINEPROTO_MAX_TAGS_DEFAULT 64u
#define LINEPROTO_MAX_FIELDS_DEFAULT 1024u

struct lineproto_parse_options {
	int64_t precision_ns;	   /* ns per timestamp unit: LINEPROTO_NS .. LINEPROTO_H */
	size_t max_line;	   /* a longer line is an error; 0: no limit */
	size_t max_points;	   /* more valid points stop the parse; 0: no limit */
	lineproto_clock_fn *clock; /* receipt time of points without a timestamp */
	void *clock_arg;	   /* handed to clock */
	int unsigned_ok;	   /* accept 12u fields (InfluxDB 2.x); else refuse them */
	size_t max_tags;   /* more tags in a point: refused; 0: LINEPROTO_MAX_TAGS_DEFAULT */
	size_t max_fields; /* as max_tags for fields; 0: LINEPROTO_MAX_FIELDS_DEFAULT */
	int no_type_check; /* lineproto_parse(): do not refuse field type conflicts */
};

/* Room for the first error messages of a body; later ones are only counted. */
#define LINEPROTO_ERRORS_MAX 1024

/* What lineproto_parse() found besides the points. */
struct lineproto_report {
	size_t points;	       /* valid points appended to `out` */
	size_t bad_lines;      /* lines refused */
	size_t first_bad;      /* line number (from 1) of the first refused line; 0: none */
	size_t errors_len;     /* bytes used in errors */
	size_t errors_omitted; /* refused lines not described in errors (no room) */
	/* "line 2: why; line 7: why" (NUL-terminated), the first few refusals. */
	char errors[LINEPROTO_ERRORS_MAX];
};

/* A field that two lines of one text give two types (InfluxDB refuses the
 * later one): see lineproto_find_conflict(). */
struct lineproto_conflict {
	size_t line;		       /* the later line (from 1) */
	size_t first_line;	       /* the earlier line that set the field's type */
	const char *type, *first_type; /* "a float", "an integer", "an unsigned integer",
					  "a boolean", "a string" (static) */
	char key[48];		       /* the field key, quoted for a message */
};

/* Looks for the first field type conflict (same series, same field key,
 * another type than an earlier line) in canonical text: lines that
 * lineproto_parse() or the reading model wrote, each with its timestamp.
 * Returns 0 (none), 1 with *c filled, or LINEPROTO_ENOMEM. Linear in len.
 * Any thread. */
int lineproto_find_conflict(const char *text, size_t len, struct lineproto_conflict *c);

/* Parses "n", "ns", "u", "us", "ms", "s", "m", "h" (v1) or "ns", "us", "ms",
 * "s" (v2); NULL or "" means ns. Returns 0 with *ns_per_unit set, or -1 for
 * any other name. Any thread. */
int lineproto_precision(const char *name, enum lineproto_api api, int64_t *ns_per_unit);

/* Parses one line s[0..n) (no '\n' inside, except within a string field,
 * which is refused) and appends its canonical form plus '\n' to out:
 * measurement and keys exactly as escaped by the sender, tags sorted by key
 * (byte order of the unescaped key), fields in the order sent with floats
 * written by lineproto_format_float(), integers as `<decimal>i`, unsigned
 * as `<decimal>u`, booleans as true/false, strings as sent, and the
 * timestamp in ns (the sender's value times the precision, or clock()).
 * Returns LINEPROTO_OK; LINEPROTO_EINVAL with a message in why (the buffer
 * unchanged) when the line is not valid line protocol or not storable;
 * LINEPROTO_ENOMEM or LINEPROTO_ETOOBIG (buffer unchanged). Blank and
 * comment lines are LINEPROTO_EINVAL here; lineproto_parse() skips them.
 * Any thread; nothing is kept between calls. */
int lineproto_parse_line(const char *s, size_t n, const struct lineproto_parse_options *o,
			 struct lineproto_buf *out, char *why, size_t why_size);

/* Parses a whole body the way InfluxDB does: lines split on '\n' outside
 * string fields, leading blanks and a trailing '\r' ignored, blank lines and
 * `#` comments skipped; every valid line is appended to `out` (canonical, see
 * lineproto_parse_line()) and every invalid one is counted and described in
 * `report` with its line number. A line that gives a field (same series,
 * same key) another type than an earlier stored line of the same body is
 * refused too, naming that line (InfluxDB refuses such a point), unless
 * o->no_type_check. Linear in
 * the body (hashing), whatever it holds. Returns LINEPROTO_OK (even when lines were
 * refused); LINEPROTO_ETOOMANY when more than o->max_points lines are valid
 * (stops there; `out` is then incomplete); LINEPROTO_ENOMEM or
 * LINEPROTO_ETOOBIG (out's cap). On any error the caller discards `out`.
 * Any thread; `out` and `report` belong to the caller. */
int lineproto_parse(const char *body, size_t len, const struct lineproto_parse_options *o,
		    struct lineproto_buf *out, struct lineproto_report *report);

#endif
