/* status.h -- GET /status (and /metrics): where the figures come from, the /status document, the
 * pages, the drain estimate and the configuration summary. */
#ifndef IOT_EDGE_STATUS_H
#define IOT_EDGE_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "collect.h"
#include "config.h"
#include "http.h"
#include "snapshot.h"
#include "spill.h"
#include "storage.h"
#include "udp.h"
#include "uplink.h"

struct cJSON;
struct readings;

/* Buffer sizes seen by GET /status, for the backlog drain estimate. */
#define STATUS_DRAIN_SAMPLES 64

struct status_drain_sample {
	int64_t ms;	 /* CLOCK_MONOTONIC */
	uint64_t points; /* points in the buffer then */
};

/* A ring of samples, at most one a second; zeroed is empty. */
struct status_drain {
	struct status_drain_sample samples[STATUS_DRAIN_SAMPLES];
	size_t count; /* samples held */
	size_t next;  /* where the next one goes */
};

/* What /status reads; owned by main, alive as long as the HTTP server. Fill
 * it with a compound literal (everything not named is zero). */
struct status_sources {
	struct storage *storage;
	struct uplink *uplink;
	/* Every target's uplink, in the order of storage's targets (uplinks[0]
	 * is `uplink`); uplink_count 0: `uplink` alone. */
	struct uplink *const *uplinks;
	size_t uplink_count;
	struct ingest_spill *spill; /* buffer.write = spill; NULL: always */
	int64_t started_ms;	    /* CLOCK_MONOTONIC at start-up */
	/* The running configuration for the summary (secrets are never shown);
	 * NULL: no "config" object. */
	const struct edge_config *config;
	/* The UDP listener, NULL: none. Set before the HTTP server starts (so
	 * the HTTP thread sees it without a data race) and never changed. */
	struct udp_listener *udp;
	/* The MQTT clients, NULL: none; set like udp, before the HTTP server starts. */
	struct mqtt_clients *mqtt;
	struct http_server *http;  /* for the edge collector's figures; set before it starts */
	struct collect *collect;   /* NULL: no collectors; set with status_set_collect() */
	struct readings *readings; /* GET /readings; NULL: an empty window */
	struct status_drain drain; /* snapshot.c's own: leave it zeroed */
};

/* The whole /status document of a snapshot: "ingest" (HTTP counters, each
 * write endpoint, UDP beside them, answers by code), "version", "uptime_s",
 * "config" (when known), "buffer", "uplink" and "collectors". Returns it
 * (free it with cJSON_Delete) or NULL when out of memory. Pure; any thread. */
struct cJSON *status_document(const struct status_snapshot *s);

/* http_page_fn for http_options.page (arg: a struct status_sources): GET
 * /status, /metrics, /readings, / and /index.html. HTTP thread. */
enum http_page_result status_page(void *arg, struct http_server *srv, const char *url, bool fill,
				  struct http_page *out);

/* collect_figures_fn (arg: a struct status_sources): the buffer, uplink and
 * HTTP figures the edge collector writes, from a snapshot of those three
 * (lock-free reads; no drain sample, no collectors). Collector thread (any
 * thread). snapshot.c. */
void status_edge_figures(void *arg, struct collect_edge_figures *out);

/* Set (or, with NULL, clear) the collectors /status reads, waiting for a
 * snapshot reading them: once it returns NULL, collect_stop() is safe. Main
 * thread. snapshot.c. */
void status_set_collect(struct status_sources *src, struct collect *c);

/* --- status_drain.c: the backlog drain estimate (pure; the caller locks) --- */

/* Note the buffer holding `points` at `now_ms`; at most one sample a second
 * is kept (a newer one within the second is dropped). */
void status_drain_note(struct status_drain *d, int64_t now_ms, uint64_t points);

/* The net rate at which the buffer shrinks (points/s; negative: it grows),
 * measured from the oldest sample at most 60 s old and at least 1 s old, or
 * else from the newest sample older than that. Returns 0 and *rate, or -1
 * when no sample is old enough. */
int status_drain_rate(const struct status_drain *d, int64_t now_ms, uint64_t points, double *rate);

/* Seconds until a buffer of `points` is empty at `rate` (points/s), or -1
 * when it is not draining (empty, or a rate <= 0). Pure. */
double status_drain_eta_s(uint64_t points, double rate);

/* --- status_config.c: the configuration summary, without secrets --- */

/* The summary of `c` (no password, token or URL credentials) into *out; its
 * strings point into c (see struct status_config_summary); the log level is
 * the running one (log_get_level(): SIGHUP changes it on the main thread, so
 * c->log_level is not read). Any thread; reads c only. */
void status_config_take(struct status_config_summary *out, const struct edge_config *c);

/* Add the "config" object (listen, buffer, uplink, log level) of a summary to
 * root. Pure. */
void status_add_config(struct cJSON *root, const struct status_config_summary *s);

#endif
