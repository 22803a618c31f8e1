/* reading.h -- the reading model: device JSON payloads -> canonical line protocol. */
#ifndef IOT_EDGE_READING_H
#define IOT_EDGE_READING_H

#include <stddef.h>
#include <stdint.h>

/* Canonical points: line protocol, one point per line, each line ending in
 * '\n', every line with a nanosecond timestamp. `text` is malloc'd; whoever
 * holds the struct frees it (unless a hand-off to storage accepts it). */
struct reading_points {
	char *text;
	size_t len;
	size_t count;
};

/* Returns a fresh, unique timestamp in ns for a point sent without one;
 * `arg` is the clock_arg given with it. */
typedef int64_t reading_clock_fn(void *arg);

/* Parse a seed-format body: one object {"ts":"2017-03-11T15:00:53Z",
 * "type":"temp","value":34,"sensor_id":123} or a JSON array of them, into
 * points `data,type=<type> sensor_id=<float>,value=<float> <ts in ns>`.
 * `type` (non-empty string) and `value` (number) are required; `sensor_id`
 * (number) and `ts` (RFC 3339 string) are optional; other keys are errors.
 * Points without ts get clock(clock_arg). Reads body[0..len) only: no NUL
 * needed after it. Any thread.
 * Returns 0 and fills *out (caller frees out->text), or -1 with nothing
 * allocated and a message in err naming what is wrong and where, e.g.
 * `element 2: "value" must be a number`. */
int reading_parse_seed_json(const char *body, size_t len, reading_clock_fn *clock, void *clock_arg,
			    struct reading_points *out, char *err, size_t err_size);

/* Parse a POST /data body: one object or a JSON array of objects, each
 * either a seed object (above) or a general object
 * {"measurement":"env","tags":{"room":"kitchen"},"fields":{"temp":21.5,
 * "ok":true,"note":"text"},"ts":...} -- an object with "measurement",
 * "tags" or "fields" is general. "measurement" (non-empty string) and
 * "fields" (at least one; number -> float, true/false -> boolean, string ->
 * string) are required, "tags" (string values) is optional, "ts" is
 * optional: an RFC 3339 string or a number of seconds since the Unix epoch
 * (fractions kept to the microsecond). Tags are written sorted by key,
 * fields in the order given. Any thread.
 * Returns as reading_parse_seed_json(). */
int reading_parse_json(const char *body, size_t len, reading_clock_fn *clock, void *clock_arg,
		       struct reading_points *out, char *err, size_t err_size);

/* Most tags and fields in one general object (0: the defaults of
 * lineproto_parse.h, LINEPROTO_MAX_TAGS_DEFAULT and _FIELDS_DEFAULT). */
struct reading_limits {
	size_t max_tags;
	size_t max_fields;
};

/* reading_parse_json() with the limits `limits` (NULL: the defaults) instead
 * of the defaults; a point with more is an error naming the limit.
 * reading_parse_json() uses the defaults. Any thread. */
int reading_parse_json_limits(const char *body, size_t len, reading_clock_fn *clock,
			      void *clock_arg, const struct reading_limits *limits,
			      struct reading_points *out, char *err, size_t err_size);

#endif
