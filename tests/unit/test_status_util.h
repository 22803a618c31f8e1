/* test_status_util.h -- shared by test_status.c and test_metrics.c: a snapshot with every kind
 * of figure (the one behind test_status.c's /status document) and a substring check. */
#ifndef IOT_EDGE_TEST_STATUS_UTIL_H
#define IOT_EDGE_TEST_STATUS_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

static void contains(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("missing: %s\nin:\n%s", line, text);
}

/* The snapshot status_doc (test_status.c) renders from: HTTP, UDP, buffer,
 * uplink and two collectors, one never run. Free it with
 * status_snapshot_free(). */
static struct status_snapshot *doc_snapshot(void)
{
	struct status_snapshot *s = calloc(1, sizeof(*s));
	static const struct {
		const char *name, *type;
		double interval_s;
		uint64_t runs, points, skipped;
		struct status_time last_run;
	} collectors[] = {
	    {"cpu \"x\"", "cpu_temp", 10, 36, 35, 1, {true, 4, 1700000306}},
	    {"pump", "exec", 60, 0, 0, 0, {false, 0, 0}},
	};

	assert_non_null(s);
	s->version = "1.2.3";
	s->uptime_s = 360.5;
	s->http = (struct http_stats){.requests = 12,
				      .points = 30,
				      .client_errors = 1,
				      .bad_lines = 2,
				      .endpoint_requests = {3, 4, 0},
				      .endpoint_points = {10, 20, 0}};
	s->http.answers[200 - HTTP_STATS_CODE_FIRST] = 5;
	s->http.answers[201 - HTTP_STATS_CODE_FIRST] = 3;
	s->http.answers[204 - HTTP_STATS_CODE_FIRST] = 3;
	s->http.answers[400 - HTTP_STATS_CODE_FIRST] = 1;
	s->has_udp = true;
	s->udp = (struct udp_stats){.datagrams = 5, .stored = 7, .bad_lines = 1};
	s->buffer = (struct storage_stats){.points = 120000,
					   .bytes = 4000000,
					   .file_bytes = 8000000,
					   .appended_total = 120037,
					   .acked_total = 37,
					   .commits_total = 9,
					   .oldest_received_ns = 1700000010000000000};
	s->buffer_oldest_age_s = 300.25;
	s->buffer_newest_age_s = 0.5;
	s->uplink = (struct uplink_stats){.points_sent = 37,
					  .requests_ok = 2,
					  .requests_failed = 40,
					  .consecutive_failures = 40,
					  .retries = 39,
					  .bytes_raw = 2100,
					  .bytes_sent = 900,
					  .batch_points = 5000,
					  .last_error = "Couldn't connect to server"};
	s->uplink_state = "failing";
	s->uplink_last_error_class = "network";
	s->uplink_last_success = (struct status_time){true, 310, 1700000000.5};
	s->uplink_last_error = (struct status_time){true, 1.2, 1700000309.3};
	s->drain_rate_points_per_s = (struct status_maybe){true, -3};
	/* its one target: all of the buffer is its backlog */
	s->target_count = 1;
	s->targets[0] =
	    (struct status_target){.buffer = {.name = "default",
					      .acked_id = 37,
					      .points = 120000,
					      .bytes = 4000000,
					      .oldest_received_ns = 1700000010000000000},
				   .oldest_age_s = 300.25,
				   .uplink = s->uplink,
				   .state = "failing",
				   .last_error_class = "network",
				   .last_success = s->uplink_last_success,
				   .last_error = s->uplink_last_error};
	s->held_by = s->targets[0].buffer.name;
	s->collectors = calloc(2, sizeof(*s->collectors));
	assert_non_null(s->collectors);
	for (size_t i = 0; i < 2; i++) {
		struct status_collector *c = &s->collectors[s->collector_count++];

		c->name = strdup(collectors[i].name);
		assert_non_null(c->name);
		c->type = collectors[i].type;
		c->interval_s = collectors[i].interval_s;
		c->runs = collectors[i].runs;
		c->points = collectors[i].points;
		c->skipped = collectors[i].skipped;
		c->last_run = collectors[i].last_run;
	}
	return s;
}

#endif
