/* uplink.h -- the forwarder thread: oldest buffered points -> InfluxDB, with retries. */
#ifndef IOT_EDGE_UPLINK_H
#define IOT_EDGE_UPLINK_H

#include <stddef.h>
#include <stdint.h>

#include "storage.h"

struct uplink;

struct uplink_options {
	const char *url;        /* InfluxDB base URL, e.g. http://127.0.0.1:8086 */
	const char *database;   /* 1.x database, created once if InfluxDB says it is missing */
	const char *username;   /* NULL or "": no authentication */
	const char *password;
	size_t batch_points;    /* points per request, e.g. 5000 */
	size_t batch_bytes;     /* body cap per request (before gzip) */
	uint32_t flush_interval_ms; /* wait this long for more points when a batch is not full */
	uint32_t retry_initial_ms;  /* first backoff ceiling */
	uint32_t retry_max_ms;      /* backoff cap */
	uint32_t timeout_ms;        /* whole-request timeout */
};

/* A copy of the uplink's counters, see uplink_get_stats(). */
struct uplink_stats {
	uint64_t points_sent;        /* points InfluxDB acknowledged */
	uint64_t requests_ok;
	uint64_t requests_failed;
	uint32_t consecutive_failures;
};

/* Copy the options (strings too) and start the forwarder thread, which reads
 * from `s` (and is its only reader) until uplink_stop(). `s` must outlive the
 * uplink. On success *out is owned by the caller. Main thread. */
int uplink_start(const struct uplink_options *options, struct storage *s,
		 struct uplink **out);

/* Stop the thread: a request in flight is abandoned and its points stay in
 * the buffer (resent on the next start; InfluxDB overwrites identical points,
 * so nothing is duplicated). Joins the thread and frees everything. NULL-safe. */
void uplink_stop(struct uplink *u);

/* Copy the counters. Any thread. */
void uplink_get_stats(struct uplink *u, struct uplink_stats *out);

#endif
