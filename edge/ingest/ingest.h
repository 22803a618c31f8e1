/* ingest.h -- the one door from every producer (HTTP, UDP, the collectors) to storage: the
 * append, the hand-offs in flight, the stop, the rate-limited "not stored" warning. */
#ifndef IOT_EDGE_INGEST_H
#define IOT_EDGE_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

/*
 * The ownership rule of every hand-off of points in the daemon (the same as
 * storage_append()'s): the receiver takes the text only when it accepts it.
 * On success the text (malloc'd) is the receiver's, which frees it, and the
 * done callback will run exactly once; on any failure nothing was queued, no
 * callback runs and the caller still owns the text (to free, or to offer
 * again).
 *
 * One struct ingest per producer. A hand-off lives from an accepted
 * ingest_submit() to its ingest_settle(): the producer settles it once it has
 * answered it (UDP and the collectors in their done callback; HTTP once the
 * answer is queued on its own thread). ingest_stop() refuses new hand-offs
 * and waits until every accepted one is settled.
 */
struct ingest;
struct readings;

/* Every door records the points it commits into `w` (readings.h) from now
 * on; NULL: into nothing (the default). `w` must outlive every door. Main
 * thread, before the producers start. */
void ingest_set_readings(struct readings *w);

/* Called exactly once per accepted ingest_submit(), on the writer thread,
 * after the transaction holding its `points` committed (result STORAGE_OK)
 * or failed (any other storage_result: none of them is stored; the warning
 * is already logged). With buffer.write = spill (spill.h) it may instead run
 * with STORAGE_OK on an uplink thread once every InfluxDB acknowledged the
 * points, or with a refusal on the spill timer's thread. `refused` is NULL,
 * except in spill mode when InfluxDB refused lines of these points for good
 * (400/422) while the producer still waited: then the points are committed
 * (result STORAGE_OK; the buffer's path moves those lines to `rejected`) and
 * `refused` is InfluxDB's answer, "InfluxDB answered 400: ...", valid during the call
 * (HTTP answers it as a partial write). It must not block and must not call
 * into storage; it may call ingest_settle(). */
typedef void ingest_done_fn(void *arg, int result, size_t points, const char *refused);

/* buffer.write = spill: a direct path every door tries before the buffer
 * (edge/spill/spill.c provides it). `take` returns true when it took the
 * hand-off (the text is its own, `done` will run exactly once as above) and
 * false when the door must append to the buffer as with `always` (the text is
 * still the caller's); `buffered` counts the points the door's own path
 * committed. Both any thread. */
struct ingest_direct {
	bool (*take)(struct ingest_direct *d, struct ingest *in, char *text, size_t len,
		     size_t points, ingest_done_fn *done, void *arg);
	void (*buffered)(struct ingest_direct *d, size_t points);
};

/* Make every later ingest_create() use `d` (NULL: none, buffer.write =
 * always). Main thread, before the producers start. */
void ingest_direct_install(struct ingest_direct *d);

/* A door to `s` for one producer; `tag` (a static string: "http", "udp",
 * "collect") names it in the log. `s` must outlive it. Returns 0 and *out
 * (free it with ingest_destroy()), or -1 (out of memory, logged). Main
 * thread, before the producer starts. */
int ingest_create(struct storage *s, const char *tag, struct ingest **out);

/* Add the tags of `tags` ("key=value,key=value", the [tags] section and,
 * for the collectors, the edge's name tag) to every point handed to this
 * door from now on, in the canonical text before it is stored, so the
 * buffer holds what is forwarded; a point that has one of those keys keeps
 * its own value (Telegraf's global_tags). NULL or "": none, the text is
 * stored byte for byte as handed over. Copied. Returns 0, or -1 (a list
 * point_tags_check() refuses, out of memory; logged). Main thread, before
 * the producer starts. */
int ingest_set_tags(struct ingest *in, const char *tags);

/* Hand `text` -- `len` bytes of canonical line protocol, exactly `points`
 * lines each ending in '\n', as the parser counted them -- to storage for
 * the next group commit. Returns STORAGE_OK (the text is storage's, done
 * will be called, the hand-off is in flight until ingest_settle()), or the
 * storage_result that refused it: STORAGE_ERR_CLOSED once ingest_stop() has
 * begun, else what storage_append() returned (STORAGE_ERR_BUSY: try again
 * shortly; STORAGE_ERR_INVALID: more than ingest_max_points() or not
 * canonical). On a refusal the caller still owns text and decides what to
 * log (see ingest_warn_not_stored()). Any thread. */
int ingest_submit(struct ingest *in, char *text, size_t len, size_t points, ingest_done_fn *done,
		  void *arg);

/* The hand-off is answered: counted out of the ones ingest_stop() waits for.
 * Exactly once per accepted ingest_submit(), after (or inside) its done
 * callback. Any thread. */
void ingest_settle(struct ingest *in);

/* Refuse every later ingest_submit() with STORAGE_ERR_CLOSED and wait until
 * every accepted hand-off is settled. Main thread, before storage_close(). */
void ingest_stop(struct ingest *in);

/* Free the door (after ingest_stop(), or when nothing was ever accepted).
 * NULL-safe. Main thread. */
void ingest_destroy(struct ingest *in);

/* Log that `points` points were not stored because of `result`, at warn
 * level, at most once every 10 s per door; the refusals in between are
 * counted and the next line says how many. The done path calls it for every
 * failed commit; producers call it for the refusals they drop. Any thread. */
void ingest_warn_not_stored(struct ingest *in, size_t points, int result);

/* The most points one ingest_submit() can take (the writer queue's size):
 * a larger request can never be stored. Any thread. */
size_t ingest_max_points(const struct ingest *in);

/* lineproto_clock_fn and reading_clock_fn for every producer: the receipt
 * time of a point sent without a timestamp, clock_unique_ns(); `arg` is
 * unused. Any thread. */
int64_t ingest_receipt_ns(void *arg);

#endif
