/* readings.h -- the recent readings window: the last value and a short history of each field of
 * up to READINGS_SERIES_MAX series, from the points committed through the ingest door, in memory.
 */
#ifndef IOT_EDGE_READINGS_H
#define IOT_EDGE_READINGS_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define READINGS_SERIES_MAX 64 /* series shown; points of further ones are counted */
#define READINGS_FIELDS_MAX 8  /* fields per series; further ones are counted */
#define READINGS_TAGS_MAX 8    /* tags shown per series (the series name holds them all) */
#define READINGS_HISTORY 60    /* samples per field: one a step, the last value in it */
#define READINGS_STEP_MS 10000 /* so the history spans 10 min */
#define READINGS_KEY_MAX 256   /* the longest series name (measurement and tags) kept */
#define READINGS_TEXT_MAX 64   /* a name, key or value shown (longer: cut) */

/* The window; its own mutex, held O(series in a batch) by readings_commit(). */
struct readings;

/* The last value of every field of every series of one hand-off, made on the
 * producer's thread before the hand-off and recorded once it is committed. */
struct readings_batch;

/* An empty window. Returns 0 and *out (free it with readings_destroy()), or
 * -1 when out of memory. Main thread. */
int readings_create(struct readings **out);

/* NULL-safe. Main thread, once nothing records into it or reads it. */
void readings_destroy(struct readings *w);

/* Reads `len` bytes of canonical line protocol (lines ending in '\n') into a
 * batch: per series (at most READINGS_SERIES_MAX; the points of further ones
 * are counted) the point count, the timestamp and value of the last point and
 * the last value of each field. Returns 0 and *out (free it with
 * readings_batch_free()), or -1 when out of memory (*out NULL). A line that
 * does not read as a point is counted as not shown. Pure; any thread. */
int readings_batch_make(const char *text, size_t len, struct readings_batch **out);

/* NULL-safe. Any thread. */
void readings_batch_free(struct readings_batch *b);

/* Records a committed batch at `now_ms` (CLOCK_MONOTONIC): updates its
 * series, takes a free slot for a new one, or the slot of the series updated
 * least recently if that one is older than the history span; otherwise its
 * points are counted as not shown. A short mutex and O(series in the batch);
 * never blocks otherwise. Any thread (the writer thread, in the done path). */
void readings_commit(struct readings *w, const struct readings_batch *b, int64_t now_ms);

/* GET /readings: {"series_max", "fields_max", "step_s", "history", "points",
 * "points_not_shown", "fields_not_shown", "series_evicted", "series": [{
 * "measurement", "tags": {k: v}, "points", "ts" (ns), "age_s", "fields": [{
 * "key", "value" (number, boolean or string), "history": [oldest .. the
 * current step; null where no value]}]}]} sorted by series name, at `now_ms`
 * (CLOCK_MONOTONIC). The window is copied under its mutex and rendered after.
 * Returns it (free with cJSON_Delete) or NULL when out of memory. Any thread. */
struct cJSON *readings_json(struct readings *w, int64_t now_ms);

#endif
