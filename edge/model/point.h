/* point.h -- building canonical points from what a collector read: tags, fields,
 * command output. Pure functions, no I/O. */
#ifndef IOT_EDGE_POINT_H
#define IOT_EDGE_POINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lineproto.h"
#include "lineproto_parse.h"

/* One field of a point: a float, or an integer written as <value>i. */
struct point_field {
	const char *key;
	double value;
	bool integer; /* value must then be a whole number in int64 range */
};

/* Check extra tags from the configuration: "" or "key=value,key=value" where
 * every key and value is non-empty text line protocol can carry and no key
 * repeats. Returns 0, or -1 with *why set to a static message. Any thread. */
int point_tags_check(const char *tags, const char **why);

/* Append one canonical point + '\n' to `out` (exactly what lineproto_parse_line()
 * makes of it: tags sorted, floats by lineproto_format_float()):
 * `measurement`, the reader's own tags `own_tags` (NULL or a NULL-terminated
 * array: key, value, key, value, ..., NULL), the configured `extra_tags`
 * (checked by point_tags_check(); on a key clash the extra tag wins),
 * fields[0..n_fields) and ts_ns. Returns LINEPROTO_OK, or LINEPROTO_EINVAL
 * (a tag value line protocol cannot carry, NaN, n_fields 0), _ENOMEM or
 * _ETOOBIG; on failure `out` is unchanged. Any thread. */
int point_build(struct lineproto_buf *out, const char *measurement, const char *const *own_tags,
		const char *extra_tags, const struct point_field *fields, size_t n_fields,
		int64_t ts_ns);

/* Parse a command's stdout as line protocol (precision ns, max_line and
 * unsigned_ok from `o`) and append every valid line, canonical, with
 * `extra_tags` added (the extra tag wins a clash) and, for a line without a
 * timestamp, ts_ns. Refused lines are counted and described in `report`
 * exactly as lineproto_parse() does. Field type conflicts are not checked
 * (o->no_type_check is set). Returns as lineproto_parse(). Any
 * thread. */
int point_lines(const char *text, size_t len, const struct lineproto_parse_options *o,
		const char *extra_tags, int64_t ts_ns, struct lineproto_buf *out,
		struct lineproto_report *report);

/* Append text[0..len) -- canonical lines, each ending in '\n' -- to `out`
 * with the tags of `tags` ("key=value,...", checked by point_tags_check())
 * added to every line that does not have that key already (the line keeps
 * its own value, as Telegraf's global_tags), each line canonical again (tags
 * sorted). Returns LINEPROTO_OK, or LINEPROTO_EINVAL (a list the check
 * refuses, text that is not canonical lines), _ENOMEM or _ETOOBIG; on
 * failure `out` is unchanged. Any thread. */
int point_tags_add(const char *text, size_t len, const char *tags, struct lineproto_buf *out);

#endif
