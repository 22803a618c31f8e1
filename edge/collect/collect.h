/* collect.h -- local readings: collectors that read the Pi's own sensors and the edge's own
 * figures on a fixed time grid and append them to the buffer like any network reading. */
#ifndef IOT_EDGE_COLLECT_H
#define IOT_EDGE_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect_config.h"
#include "storage.h"

/* What a collector has done since start-up, for /status and /metrics. */
struct collect_stats {
	const char *name; /* valid until collect_stop() */
	const char *type; /* "cpu_temp", "w1", "file", "exec" or "edge" */
	uint64_t interval_ms;
	uint64_t runs;	     /* runs finished */
	uint64_t points;     /* points handed to the buffer */
	uint64_t skipped;    /* readings skipped as invalid (bad CRC, 85 C, ...) */
	uint64_t errors;     /* runs or readings that failed (missing file, exit 1, timeout, ...) */
	int64_t last_run_ns; /* wall clock of the last run's grid time; 0: never ran */
	char last_error[160]; /* the latest problem, "" when none */
};

/* The daemon's figures the edge collector writes (measurement iot_edge). */
struct collect_edge_figures {
	uint64_t buffer_points, buffer_bytes;
	int64_t buffer_oldest_ns; /* receipt time of the oldest buffered point; 0: none */
	uint64_t points_received; /* acknowledged by the HTTP server */
	uint64_t points_stored, points_sent, points_rejected, points_dropped;
	bool uplink_ok;
	bool uplink_auth_failed; /* InfluxDB refuses the credentials */
	uint64_t uplink_consecutive_failures;
	/* With several delivery targets, each on its own (one more iot_edge
	 * point each, tagged target=NAME); 0 with one target. */
	size_t target_count;
	struct collect_edge_target {
		char name[64];
		uint64_t backlog_points;
		int64_t oldest_ns; /* receipt time of its oldest pending point; 0: none */
		uint64_t points_sent;
		bool ok;
	} targets[8];
	/* MQTT, summed over the [mqtt.NAME] brokers; none: the fields are left out */
	uint64_t mqtt_brokers, mqtt_connected, mqtt_messages, mqtt_points, mqtt_refused,
	    mqtt_reconnects;
	bool spill_mode;			/* buffer.write = spill: the two below */
	uint64_t points_direct, points_spilled; /* acknowledged straight away / buffered */
};

/* Fill *out with the daemon's figures (it comes zeroed). Called on the
 * collector thread: quick, lock-free reads. */
typedef void collect_figures_fn(void *arg, struct collect_edge_figures *out);

/* What the collectors use; each must outlive collect_stop(). */
struct collect_sources {
	struct storage *storage;
	collect_figures_fn *figures; /* the edge collector's figures; NULL: all zero */
	void *figures_arg;
	const char *buffer_path; /* its filesystem's free space is reported */
	int unsigned_ok;	 /* exec output may hold 12u fields (the uplink speaks v2) */
	const char *tags; /* added to every point: the edge's name tag, then [tags]; NULL: none */
};

struct collect;

/* Start the collector thread for the enabled entries of list[0..n) (copied),
 * reading files below sysfs_root ("/" on a real Pi). Returns 0 and *out, or
 * -1 (logged). With no enabled collector it starts no thread. Main thread. */
int collect_start(const struct collect_config *list, size_t n, const char *sysfs_root,
		  const struct collect_sources *sources, struct collect **out);

/* Stop the thread: kill running commands, hand every point already read to
 * the buffer and wait for their commits, free everything. NULL-safe. Main
 * thread, before storage_close(). */
void collect_stop(struct collect *c);

/* The number of running collectors (enabled ones). Any thread; NULL: 0. */
size_t collect_count(struct collect *c);

/* Copy collector i's figures (0 <= i < collect_count()). Returns 0, or -1 for
 * a bad index. Any thread; cheap (a short lock). */
int collect_get_stats(struct collect *c, size_t i, struct collect_stats *out);

#endif
