/* status.h -- the daemon's figures for GET /status, gathered from storage and the uplink. */
#ifndef IOT_EDGE_STATUS_H
#define IOT_EDGE_STATUS_H

#include <stdint.h>

#include "storage.h"
#include "uplink.h"

struct cJSON;

/* What /status reads; owned by main, alive as long as the HTTP server. */
struct status_sources {
	struct storage *storage;
	struct uplink *uplink;
	int64_t started_ms; /* CLOCK_MONOTONIC at start-up */
};

/* http_status_fn: adds "version", "uptime_s", "buffer" and "uplink" to
 * `root` (a cJSON object). `arg` is a struct status_sources. HTTP thread. */
void status_fill(void *arg, struct cJSON *root);

/* CLOCK_MONOTONIC in ms. Any thread. */
int64_t status_now_ms(void);

#endif
