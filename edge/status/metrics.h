/* metrics.h -- GET /metrics: a snapshot of the daemon's figures in Prometheus' text exposition
 * format 0.0.4. */
#ifndef IOT_EDGE_METRICS_H
#define IOT_EDGE_METRICS_H

#include <stddef.h>

struct status_snapshot;

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Render a snapshot (see snapshot.h) as Prometheus text: every family with
 * # HELP and # TYPE, names prefixed iot_edge_, base units, _total counters,
 * labels for endpoint, code and collector. A figure the snapshot does not
 * know (no UDP listener, a time that never was, no drain estimate) leaves its
 * family without a sample. Returns a malloc'd string (the caller frees it
 * with free()), or NULL when out of memory. Pure; any thread. */
char *metrics_render(const struct status_snapshot *s);

/* Write `value` as Prometheus writes a float: integers without a fraction,
 * others in the fewest digits that read back exactly (model's
 * lineproto_format_float), NaN, +Inf, -Inf. Returns the length; with
 * cap >= LINEPROTO_FLOAT_MAX (32) it always fits, with less it may not (a
 * negative result: out is not written). Pure; any thread. */
int metrics_format_value(double value, char *out, size_t cap);

/* Write `in` as a label value between double quotes: backslash, double quote
 * and newline escaped. Returns 0, or -1 when it does not fit (out is then
 * ""). Pure; any thread. */
int metrics_escape_label(const char *in, char *out, size_t cap);

#endif
