/* spill.h -- buffer.write = spill: a request's points go straight to every uplink and to the
 * buffer only when one of them has not taken them within spill_after. */
#ifndef IOT_EDGE_SPILL_H
#define IOT_EDGE_SPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest.h"
#include "storage.h"
#include "uplink.h"

/*
 * The promise is the one of buffer.write = always: a producer's done callback
 * runs with STORAGE_OK only once its points are durable -- here, once EVERY
 * uplink has had a 2xx from its InfluxDB for them, or, when one has not (any
 * other answer, no answer within spill_after, a backlog in the buffer, the
 * stop), once the whole request is committed to the buffer as in `always`.
 * The targets that had it already get it again from the buffer: InfluxDB
 * overwrites identical points, so nothing is duplicated there.
 */
struct ingest_spill;

/* Counters of the spill coordinator, see ingest_spill_get_stats(). */
struct ingest_spill_stats {
	uint64_t points_direct;	     /* acknowledged by every InfluxDB, never written locally */
	uint64_t requests_direct;    /* hand-offs answered that way */
	uint64_t points_spilled;     /* committed to the buffer (a backlog, or one of below) */
	uint64_t points_spill_late;  /* of those: offered first, then no 2xx within spill_after */
	uint64_t points_spill_error; /* of those: offered first, then an uplink answered "no" */
};

/* The coordinator for `s` and `n` uplinks (the array is copied; the uplinks
 * must outlive it), holding a point at most `spill_after_ms` for InfluxDB.
 * Starts its timer thread. Returns 0 and *out, or -1 (logged). Main thread,
 * after the uplinks started and before any producer. */
int ingest_spill_start(struct storage *s, struct uplink *const *uplinks, size_t n,
		       uint32_t spill_after_ms, struct ingest_spill **out);

/* Make every later ingest_create() offer to `sp` first (NULL: none,
 * buffer.write = always). Main thread, before the producers start. */
void ingest_spill_install(struct ingest_spill *sp);

/* Copy the counters (zeros for NULL). Any thread. */
void ingest_spill_get_stats(struct ingest_spill *sp, struct ingest_spill_stats *out);

/* Stop the timer thread and free everything. Main thread, after every
 * producer's ingest_stop() (so every hand-off is answered) and after the
 * uplinks stopped (so none holds a request). NULL-safe. */
void ingest_spill_stop(struct ingest_spill *sp);

#endif
