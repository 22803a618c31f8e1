/* uplink.h -- the forwarder thread: oldest buffered points -> InfluxDB, with retries. */
#ifndef IOT_EDGE_UPLINK_H
#define IOT_EDGE_UPLINK_H

#include <stddef.h>
#include <stdint.h>

#include "storage.h"

struct uplink;

enum uplink_api { UPLINK_API_V1, UPLINK_API_V2 };

struct uplink_options {
	enum uplink_api api;    /* v1: POST /write?db=&rp=; v2: POST /api/v2/write?org=&bucket= */
	const char *url;        /* InfluxDB base URL, e.g. http://127.0.0.1:8086 */
	const char *database;   /* v1 database, created once if InfluxDB says it is missing */
	const char *retention_policy; /* v1, NULL or "": the database's default */
	const char *username;   /* v1, NULL or "": no authentication */
	const char *password;
	const char *org;        /* v2 */
	const char *bucket;     /* v2 */
	const char *token;      /* v2: Authorization: Token ... */
	int create_database;    /* v1: CREATE DATABASE once on "database not found" */
	int gzip;               /* Content-Encoding: gzip for bodies above a small size */
	const char *ca_file;    /* NULL or "": the system's CA certificates */
	int insecure_skip_verify; /* do not verify TLS certificates (warned about) */
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
