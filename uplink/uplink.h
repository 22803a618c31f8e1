/* uplink.h -- the forwarder thread: oldest buffered points -> InfluxDB, with retries. */
#ifndef IOT_EDGE_UPLINK_H
#define IOT_EDGE_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage.h"

struct uplink;

enum uplink_api { UPLINK_API_V1, UPLINK_API_V2 };

struct uplink_options {
	const char *name;     /* the storage target it delivers (storage_target_find); NULL or
				 "": the first target */
	enum uplink_api api;  /* v1: POST /write?db=&rp=; v2: POST /api/v2/write?org=&bucket= */
	const char *url;      /* InfluxDB base URL, e.g. http://127.0.0.1:8086 */
	const char *database; /* v1 database, created once if InfluxDB says it is missing */
	const char *retention_policy; /* v1, NULL or "": the database's default */
	const char *username;	      /* v1, NULL or "": no authentication */
	const char *password;
	const char *org;	    /* v2 */
	const char *bucket;	    /* v2 */
	const char *token;	    /* v2: Authorization: Token ... */
	int create_database;	    /* v1: CREATE DATABASE once on "database not found" */
	int gzip;		    /* Content-Encoding: gzip for bodies above a small size */
	const char *ca_file;	    /* NULL or "": the system's CA certificates */
	int insecure_skip_verify;   /* do not verify TLS certificates (warned about) */
	size_t batch_points;	    /* points per request, e.g. 5000 */
	size_t batch_bytes;	    /* body cap per request (before gzip) */
	uint32_t flush_interval_ms; /* wait this long for more points when a batch is not full */
	uint32_t retry_initial_ms;  /* first backoff ceiling */
	uint32_t retry_max_ms;	    /* backoff cap */
	uint32_t timeout_ms;	    /* whole-request timeout */
};

/* Why the last request failed: one class per row of the error table in
 * docs/UPLINK.md. */
enum uplink_error_class {
	UPLINK_ERROR_NONE = 0,	/* no failure yet */
	UPLINK_ERROR_NETWORK,	/* no answer: refused, reset, DNS, TLS */
	UPLINK_ERROR_TIMEOUT,	/* no answer within the timeout */
	UPLINK_ERROR_SERVER,	/* 5xx (503 without Retry-After included) */
	UPLINK_ERROR_THROTTLED, /* 429, or 503 with Retry-After */
	UPLINK_ERROR_AUTH,	/* 401 / 403: authentication failed */
	UPLINK_ERROR_NOT_FOUND, /* 404: database, bucket or organization missing */
	UPLINK_ERROR_TOO_LARGE, /* 413: the batch was split */
	UPLINK_ERROR_BAD_DATA,	/* 400 / 422: lines InfluxDB refuses for good */
	UPLINK_ERROR_OTHER,	/* any other answer: kept and retried */
	UPLINK_ERROR_STORAGE,	/* the buffer could not be read or updated */
};

#define UPLINK_LAST_ERROR_SIZE 256

/* A copy of the uplink's counters and state, see uplink_get_stats(). Times
 * are wall-clock milliseconds since the epoch (0: never). */
struct uplink_stats {
	uint64_t points_sent;	       /* points InfluxDB acknowledged */
	uint64_t requests_ok;	       /* 2xx answers: batches delivered */
	uint64_t requests_failed;      /* requests without a 2xx answer */
	uint32_t consecutive_failures; /* failures kept for a retry since the last 2xx */
	uint64_t retries;	       /* requests repeating a failed one (network, 5xx, ...) */
	uint64_t points_rejected;      /* points moved to the `rejected` table */
	uint64_t splits;	       /* 413 answers that halved the batch size */
	uint64_t bytes_raw;	       /* line protocol put into requests (before gzip) */
	uint64_t bytes_sent;	       /* request bodies as sent (after gzip) */
	int64_t last_success_ms;       /* time of the last 2xx */
	int64_t last_error_ms;	       /* time of the last failure */
	enum uplink_error_class last_error_class;
	char last_error[UPLINK_LAST_ERROR_SIZE]; /* e.g. "HTTP 500: ...", "" when none */
	int auth_failed;			 /* 1 while InfluxDB refuses the credentials */
	uint64_t batch_points;			 /* the batch size now (lowered by 413) */
	uint64_t batch_bytes;
	uint64_t server_isolations; /* 5xx batches bisected to find the line InfluxDB fails on */
	uint64_t points_rejected_server; /* of points_rejected: failed alone with 5xx */
};

/* Copy the options (strings too) and start the forwarder thread, which reads
 * from its target of `s` (options->name; it is the target's only reader)
 * until uplink_stop(). `s` must outlive the uplink. On success *out is owned
 * by the caller. Main thread. */
int uplink_start(const struct uplink_options *options, struct storage *s, struct uplink **out);

/* Stop the thread: a request in flight gets a bounded time to finish (the
 * smaller of 5 s and the timeout; acknowledged points are then deleted), after
 * which it is abandoned and its points stay in the buffer (resent on the next
 * start; InfluxDB overwrites identical points, so nothing is duplicated).
 * Joins the thread and frees everything. NULL-safe. Main thread. */
void uplink_stop(struct uplink *u);

/* The name of the storage target it delivers (as storage_target_get_stats
 * names it); "" for NULL. Static while u lives. Any thread. */
const char *uplink_target_name(const struct uplink *u);

/* Copy the counters and state (zeros for a NULL u). Any thread. */
void uplink_get_stats(struct uplink *u, struct uplink_stats *out);

/* The forwarder thread's heartbeat for the systemd watchdog: the
 * CLOCK_MONOTONIC time in ms at which it began the step it is doing now (a
 * buffer read, one request -- at most timeout_ms plus the stop grace -- or an
 * ack), or the current time while it waits (for points, a backoff or a
 * Retry-After: waiting is healthy). A value minutes old means a step that does
 * not return. Any thread, lock-free. */
uint64_t uplink_heartbeat_ms(struct uplink *u);

/* "network", "timeout", "server", "throttled", "auth", "not_found",
 * "too_large", "bad_data", "other", "storage" or "none": a static string for
 * logs and /status. Any thread. */
const char *uplink_error_class_name(enum uplink_error_class c);

/* --- The direct path of buffer.write = spill (offer.c) --- */

/* The answer to one offer. */
enum uplink_offer_answer {
	UPLINK_OFFER_DELIVERED, /* InfluxDB answered 2xx to a request holding the points */
	UPLINK_OFFER_FAILED,	/* anything else: another answer, none, a backlog, the stop */
	UPLINK_OFFER_REFUSED,	/* 400/422 naming lines of this offer (or it was sent alone) */
};

/* The answer to one accepted uplink_offer(); `why` is InfluxDB's answer for
 * UPLINK_OFFER_REFUSED ("InfluxDB answered 400: <message>", valid during the call), else
 * NULL. Runs exactly once per accepted offer, on the forwarder thread or in
 * uplink_stop(); must not block. */
typedef void uplink_offer_done_fn(void *arg, enum uplink_offer_answer answer, const char *why);

/* Would uplink_offer() take points now: the buffer holds nothing for this
 * uplink, the last send did not fail, and it is not stopping? A hint (the
 * answer may change at once). Any thread, lock-free. */
bool uplink_can_offer(struct uplink *u);

/* Offer `len` bytes of canonical line protocol (`points` lines, each ending
 * in '\n') for a direct send to InfluxDB, bypassing the buffer: the
 * forwarder sends every offer pending, up to its batch size, in its next
 * request, at once. `text` stays the caller's and must stay valid until
 * `done` runs. Returns 0 (accepted: done(arg, ...) will run exactly once) or
 * -1 (refused, nothing will run: a backlog, a failing uplink, the stop, or
 * too much already pending). Any thread. */
int uplink_offer(struct uplink *u, const char *text, size_t len, size_t points,
		 uplink_offer_done_fn *done, void *arg);

#endif
