/* status_cli.h -- `iot-edge status`: the /status figures in a terminal, for someone on the Pi. */
#ifndef IOT_EDGE_STATUS_CLI_H
#define IOT_EDGE_STATUS_CLI_H

#include <stdio.h>

struct cJSON;

/* Exit statuses of `iot-edge status`. */
enum status_cli_exit {
	STATUS_CLI_OK = 0,	    /* forwarding works */
	STATUS_CLI_FAILING = 1,	    /* the uplink fails, or InfluxDB refuses the credentials */
	STATUS_CLI_UNREACHABLE = 2, /* iot-edge cannot be asked (or bad usage, bad config) */
};

/* `iot-edge status [-c FILE] [--url URL] [--json] [--readings]` (argv[0] is "status"):
 * finds iot-edge from the configuration's http.listen (0.0.0.0 -> 127.0.0.1,
 * :: -> ::1; http.token sent when set) or --url, GETs /status and prints a
 * summary (or, with --json, the document); with --readings GET /readings
 * instead (exit 0 when answered). Returns an enum status_cli_exit.
 * Main thread, before any other thread exists (it initialises libcurl). */
int status_cli_main(int argc, char **argv);

/* --- status_readings_text.c --- */

/* Print a GET /readings document to `out`: a summary line ("Readings: 3
 * series (at most 64), 120 points; 0 points of further series"), then one
 * line per series: "climate,room=kitchen  temp=21.5 ok=true  (2s ago, 12
 * points)". Returns 0, or -1 when it is not a /readings document. Pure but
 * for `out`; any thread. */
int status_readings_print(const struct cJSON *doc, FILE *out);

/* --- status_text.c --- */

/* Print the summary of a /status document to `out`: the state in one line
 * first ("OK: forwarding, backlog 0 points" or "FAILING: InfluxDB
 * unreachable for 5m, backlog 120 000 points (oldest 5m)"), then buffer,
 * ingest, uplink and collectors. Returns STATUS_CLI_OK or STATUS_CLI_FAILING
 * (see status_text_exit()). Pure but for `out`; any thread. */
int status_text_print(const struct cJSON *status, FILE *out);

/* STATUS_CLI_OK when the document's uplink.state is "ok", else
 * STATUS_CLI_FAILING (failing, authentication failed, or no state). Pure. */
int status_text_exit(const struct cJSON *status);

/* `n` with a space between groups of three digits ("120 000") into out.
 * Returns out. Pure. */
const char *status_text_count(double n, char *out, size_t cap);

/* A duration, coarse: "45s", "5m", "2h3m", "3d4h" into out; "-" for a
 * negative one. Returns out. Pure. */
const char *status_text_duration(double seconds, char *out, size_t cap);

#endif
