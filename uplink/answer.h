/* answer.h -- private to uplink/: what an InfluxDB answer means (pure functions, unit-tested). */
#ifndef IOT_EDGE_UPLINK_ANSWER_H
#define IOT_EDGE_UPLINK_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "uplink.h"

/* Waits InfluxDB asks for are capped at this (1 h). */
#define UPLINK_ANSWER_RETRY_AFTER_MAX_S 3600

/* A Retry-After value (`len` bytes, not NUL-terminated, trailing blanks and
 * CR/LF allowed): delay-seconds ("120") or an HTTP-date, which is taken
 * relative to `now`. Returns the seconds to wait (0 for a date in the past,
 * at most UPLINK_ANSWER_RETRY_AFTER_MAX_S), or -1 when the value is neither.
 * Pure apart from libcurl's date parser; any thread. */
int64_t uplink_answer_retry_after(const char *value, size_t len, time_t now);

/* The row of the error table for an answer: `status` is the HTTP status (0:
 * no answer, then `timed_out` tells a timeout from other network errors),
 * `has_retry_after` whether a readable Retry-After came with it, `body` the
 * start of the answer body (NUL-terminated, may be empty). 400 and 422 are
 * UPLINK_ERROR_BAD_DATA only when the body says the lines are at fault
 * ("partial write", "unable to parse", "field type conflict", ...); any other
 * 400, e.g. "retention policy not found", is UPLINK_ERROR_OTHER so that no
 * good line is ever moved aside for a configuration mistake. Any thread. */
enum uplink_error_class uplink_answer_classify(long status, bool timed_out, bool has_retry_after,
					       const char *body);

/* Can a write answered with `status` have failed because of its lines, so
 * that the batch is worth bisecting once InfluxDB still answers /ping? True
 * for 5xx except 503 and 504: InfluxDB 1.x answers 500 when a line makes it
 * panic (200 tags in 1.6), while 503 (unavailable, overloaded: InfluxDB says
 * to come back later) and 504 (a proxy's gateway timeout: InfluxDB slow or
 * unreachable) mean the server, never a line. Any thread. */
bool uplink_answer_server_fault(long status);

/* InfluxDB's message from an answer body of `len` bytes. When cJSON parses
 * the body as a JSON object with a string member "message" (2.x) or "error"
 * (1.x, 3.x), the message is that string as cJSON decodes it (surrogate
 * pairs too; cJSON ends the string at a \u0000, and at a \u whose four
 * characters are not hex digits, which it takes for U+0000). Otherwise,
 * also when the body is not valid JSON (plain text, a proxy's HTML, an
 * escape cJSON refuses, JSON cut short at INFLUX_BODY_CAP), the message is
 * the body text itself, trailing blanks dropped: a cut
 * `{"error":"partial write: ...` gives that raw text, escapes and all; no
 * broken JSON is repaired. Either way control characters become spaces and
 * the result is one line, cut to fit `size` (which must be > 0) at a UTF-8
 * character boundary. `out` is the caller's. Any thread. */
void uplink_answer_message(const char *body, size_t len, char *out, size_t size);

/* The lines of a request of `count` lines that an answer body names by
 * number: JSON members "line" (2.x) and "line_number" (3.x), and the text
 * "parsing line N" (Cloud), all 1-based. Writes the distinct 0-based indexes
 * in ascending order to out[] (room for `count` entries, the caller's) and
 * returns how many; numbers outside 1..count are ignored. A text search, so
 * a body cut at INFLUX_BODY_CAP still gives the lines named before the cut.
 * Any thread. */
size_t uplink_answer_named_lines(const char *body, size_t count, size_t *out);

/* The lines of a request that `message` quotes as "unable to parse '<line>'"
 * (1.x and 2.x name unparsable lines so). Line i is text[offsets[i]] up to
 * its '\n' (or up to `len` for the last). Writes the distinct indexes in
 * ascending order to out[] (room for `count` entries) and returns how many.
 * From a body cut at INFLUX_BODY_CAP, `message` is the raw JSON text: the
 * lines it quotes whole are found, except those holding a character that
 * JSON text escapes (such as '"' or '\\'): the caller isolates those by
 * bisection. Any thread. */
size_t uplink_answer_quoted_lines(const char *message, const char *text, size_t len,
				  const size_t *offsets, size_t count, size_t *out);

#endif
