/* snapshot.h -- the daemon's figures at one moment, typed: taken once per request, rendered by
 * GET /status (status.c), GET /metrics (metrics.c) and the edge collector alike. */
#ifndef IOT_EDGE_SNAPSHOT_H
#define IOT_EDGE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect.h"
#include "http.h"
#include "mqtt.h"
#include "storage.h"
#include "udp.h"
#include "spill.h"
#include "uplink.h"

struct status_sources;

/* A wall-clock time as seconds before the snapshot and since the epoch;
 * `known` false for "never" (both figures are then left out or null). */
struct status_time {
	bool known;
	double age_s;
	double unix_s;
};

/* A figure that may be unknown (null in /status, no sample in /metrics). */
struct status_maybe {
	bool known;
	double value;
};

/* One collector as /status lists it. */
struct status_collector {
	char *name;	  /* a copy (malloc'd, freed by status_snapshot_free()) */
	const char *type; /* "cpu_temp", "w1", "file", "exec" or "edge": static */
	double interval_s;
	uint64_t runs, points, skipped, errors;
	struct status_time last_run;
	char last_error[160]; /* "" when none */
};

/* The configuration summary of /status: what runs, never a secret. The
 * strings point into the running configuration (main's, which outlives the
 * HTTP server; SIGHUP changes only log.level, read atomically) or are
 * static; none is NULL ("" for a key never set). */
struct status_config_summary {
	const char *http_listen;
	bool http_token; /* a token is required */
	const char *udp_listen;
	const char *buffer_path;
	const char *buffer_durability; /* "full" or "normal" */
	uint64_t buffer_max_size;
	const char *buffer_full_policy; /* "drop_oldest" or "reject_new" */
	bool uplink_v1;			/* v1: database and retention policy; v2: org and bucket */
	char uplink_url[512]; /* without user:password@, query or fragment; or "(too long to show)"
			       */
	const char *uplink_database, *uplink_retention_policy; /* v1 */
	const char *uplink_org, *uplink_bucket;		       /* v2 */
	bool uplink_authentication; /* a username (v1) or token (v2) is set */
	uint64_t uplink_batch_points;
	bool uplink_gzip;
	const char *log_level; /* "debug", "info", "warn" or "error" */
	/* [uplink.NAME] sections (the uplink_* figures above are the first's);
	 * 0: [uplink] alone */
	size_t target_count;
	struct status_config_target {
		const char *name;
		bool v1;
		char url[512]; /* as uplink_url */
	} targets[8];
};

/* One delivery target: its position in the buffer and its uplink. */
struct status_target {
	struct storage_target_stats buffer; /* name, position, backlog */
	double oldest_age_s;		    /* of its backlog; 0 when empty */
	struct uplink_stats uplink;
	const char *state;	      /* "ok", "failing" or "authentication failed": static */
	const char *last_error_class; /* static */
	struct status_time last_success, last_error;
};

/* Everything /status and /metrics show. Zeroed means nothing known: no
 * config, no UDP listener, no collectors, no times, no drain estimate. */
struct status_snapshot {
	const char *version;   /* static; NULL is shown as "" */
	const char *edge_name; /* [edge] name, the running config's; NULL: not shown */
	double uptime_s;
	bool has_config;
	struct status_config_summary config;
	struct http_stats http; /* the server asked (about 4 KiB: take snapshots on the heap) */
	bool has_udp;		/* a UDP listener runs: `udp` holds its counters */
	struct udp_stats udp;
	struct storage_stats buffer;
	bool spill_mode;		 /* buffer.write = spill */
	struct ingest_spill_stats spill; /* zeros in `always` */
	bool has_io;			 /* /proc/self/io was read: */
	uint64_t io_write_bytes;	 /* bytes the daemon made the kernel write to disk */
	double io_write_bytes_per_point, io_write_bytes_per_day; /* since start-up */
	double buffer_oldest_age_s, buffer_newest_age_s;	 /* 0 when the buffer is empty */
	/* With one target its uplink's figures; with several all together:
	 * counters summed, the worst state, the latest times and error */
	struct uplink_stats uplink;
	size_t target_count; /* targets[0..target_count): each on its own */
	struct status_target targets[STORAGE_MAX_TARGETS];
	const char *held_by; /* the target furthest behind while the buffer holds points; NULL */
	const char *uplink_state; /* "ok", "failing" or "authentication failed": static */
	const char *uplink_last_error_class; /* uplink_error_class_name(): static */
	struct status_time uplink_last_success, uplink_last_error;
	struct status_maybe drain_rate_points_per_s; /* net; negative: the buffer grows */
	struct status_maybe backlog_drain_s;	     /* unknown while it is not draining */
	size_t collector_count;
	struct status_collector *collectors; /* collector_count entries (malloc'd) */
	size_t mqtt_count;
	struct mqtt_stats *mqtt; /* mqtt_count brokers (malloc'd) */
};

/* Take every figure once: the counters of `srv` (the HTTP server asking;
 * NULL: zeros), the buffer, the uplink, the UDP listener, the drain estimate
 * (it notes this look), the configuration summary and the collectors (under
 * the lock status_set_collect() waits for). Returns a snapshot (free it with
 * status_snapshot_free()) or NULL when out of memory. Any thread. */
struct status_snapshot *status_snapshot_take(struct status_sources *src, struct http_server *srv);

/* Free a snapshot and its collectors. NULL-safe. */
void status_snapshot_free(struct status_snapshot *s);

/* The edge collector's figures from a snapshot (status_edge_figures() takes
 * one of the lock-free figures only: HTTP, buffer, uplink). Pure; any thread. */
void status_snapshot_edge_figures(const struct status_snapshot *s,
				  struct collect_edge_figures *out);

#endif
