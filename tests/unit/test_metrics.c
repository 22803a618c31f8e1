/* test_metrics.c -- GET /metrics from a snapshot: Prometheus values and labels, every family
 * with its sample, the figures left out when unknown, and the edge collector's figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "snapshot.h"
#include "status.h"
#include "test_status_util.h"

/* --- values and labels ------------------------------------------------- */

static void value(double v, const char *want)
{
	char out[40];

	metrics_format_value(v, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_metrics_values(void **state)
{
	(void)state;
	value(0, "0");
	value(30, "30");
	value(-7, "-7");
	value(9007199254740991.0, "9007199254740991");
	value(1.5, "1.5");
	value(0.1, "0.1");
	value(1.497, "1.497");
	value(1e300, "1e+300");
	value(0.1 + 0.2, "0.30000000000000004");
	value(NAN, "NaN");
	value(INFINITY, "+Inf");
	value(-INFINITY, "-Inf");
}

static void test_metrics_escape(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(metrics_escape_label("a\"b\\c\nd", out, sizeof(out)), 0);
	assert_string_equal(out, "a\\\"b\\\\c\\nd");
	assert_int_equal(metrics_escape_label("0123456789abcde", out, sizeof(out)), 0);
	assert_int_equal(metrics_escape_label("0123456789abcdef", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(metrics_escape_label("0123456789abcd\"", out, sizeof(out)), -1);
}

/* --- rendering a snapshot ---------------------------------------------- */

static void test_metrics_render(void **state)
{
	struct status_snapshot *s = doc_snapshot();
	char *text = metrics_render(s);
	size_t helps = 0, types = 0;

	(void)state;
	assert_non_null(text);
	contains(text, "# HELP iot_edge_build_info ");
	contains(text,
		 "# TYPE iot_edge_build_info gauge\niot_edge_build_info{version=\"1.2.3\"} 1\n");
	contains(text, "\niot_edge_uptime_seconds 360.5\n");
	contains(text, "# TYPE iot_edge_ingest_requests_total counter\n"
		       "iot_edge_ingest_requests_total{endpoint=\"data\"} 3\n"
		       "iot_edge_ingest_requests_total{endpoint=\"write\"} 4\n"
		       "iot_edge_ingest_requests_total{endpoint=\"api_v2_write\"} 0\n"
		       "iot_edge_ingest_requests_total{endpoint=\"udp\"} 5\n");
	contains(text, "\niot_edge_ingest_points_total{endpoint=\"write\"} 20\n");
	contains(text, "\niot_edge_ingest_points_total{endpoint=\"udp\"} 7\n");
	contains(text, "\niot_edge_ingest_bad_lines_total{listener=\"http\"} 2\n"
		       "iot_edge_ingest_bad_lines_total{listener=\"udp\"} 1\n");
	contains(text, "\niot_edge_http_requests_total 12\n");
	/* by status code, as http_get_stats() counts them */
	contains(text, "\niot_edge_http_responses_total{code=\"200\"} 5\n"
		       "iot_edge_http_responses_total{code=\"201\"} 3\n"
		       "iot_edge_http_responses_total{code=\"204\"} 3\n"
		       "iot_edge_http_responses_total{code=\"400\"} 1\n");
	contains(text, "\niot_edge_buffer_points 120000\n");
	contains(text, "\niot_edge_buffer_oldest_age_seconds 300.25\n");
	contains(text, "\niot_edge_buffer_appended_points_total 120037\n");
	contains(text, "\niot_edge_buffer_quarantined 0\n");
	contains(text, "\niot_edge_uplink_state{state=\"ok\"} 0\n"
		       "iot_edge_uplink_state{state=\"failing\"} 1\n"
		       "iot_edge_uplink_state{state=\"authentication failed\"} 0\n");
	contains(text, "\niot_edge_uplink_requests_total{result=\"ok\"} 2\n"
		       "iot_edge_uplink_requests_total{result=\"failed\"} 40\n");
	contains(text, "\niot_edge_uplink_last_error_info{class=\"network\"} 1\n");
	contains(text, "\niot_edge_uplink_sent_points_total 37\n");
	contains(text, "\niot_edge_uplink_last_success_timestamp_seconds 1700000000.5\n");
	/* unknown: the family without a sample */
	contains(text, "# TYPE iot_edge_uplink_backlog_drain_seconds gauge\n# HELP");
	assert_null(strstr(text, "\niot_edge_uplink_backlog_drain_seconds "));
	contains(text,
		 "\niot_edge_collector_runs_total{collector=\"cpu \\\"x\\\"\",type=\"cpu_temp\"} "
		 "36\niot_edge_collector_runs_total{collector=\"pump\",type=\"exec\"} 0\n");
	contains(text, "\niot_edge_collector_last_run_timestamp_seconds{collector=\"cpu "
		       "\\\"x\\\"\",type=\"cpu_temp\"} 1700000306\n");
	assert_null(strstr(text, "collector=\"pump\",type=\"exec\"} 1700"));
	/* every family: one HELP and one TYPE, every sample's name declared */
	for (const char *p = text; (p = strstr(p, "# HELP ")); p++)
		helps++;
	for (const char *p = text; (p = strstr(p, "# TYPE ")); p++)
		types++;
	/* each target on its own */
	contains(text, "\niot_edge_target_backlog_points{target=\"default\"} 120000\n");
	contains(text, "\niot_edge_target_oldest_age_seconds{target=\"default\"} 300.25\n");
	contains(text, "\niot_edge_target_sent_points_total{target=\"default\"} 37\n");
	contains(text, "\niot_edge_target_up{target=\"default\"} 0\n");
	assert_int_equal(helps, types);
	assert_int_equal(helps, 51);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	status_snapshot_free(s);
}

/* Samples of the family declared by the "# TYPE " line at `type`. */
static size_t family_samples(const char *text, const char *type)
{
	char name[128];
	size_t n = 0, len = strcspn(type + 7, " ");

	assert_true(len < sizeof(name));
	memcpy(name, type + 7, len);
	name[len] = '\0';
	for (const char *p = text; *p;) {
		if (strncmp(p, name, len) == 0 && (p[len] == ' ' || p[len] == '{'))
			n++;
		p += strcspn(p, "\n");
		if (*p)
			p++;
	}
	return n;
}

/* With every figure known, every family has a sample: a figure the renderer
 * forgets (as /metrics once lost one to a renamed /status key) fails here. */
static void test_metrics_every_family(void **state)
{
	struct status_snapshot *s = doc_snapshot();
	size_t families = 0;
	char *text;

	(void)state;
	s->backlog_drain_s = (struct status_maybe){true, 40000};
	s->collectors[1].last_run = (struct status_time){true, 30, 1700000280};
	text = metrics_render(s);
	assert_non_null(text);
	for (const char *p = text; (p = strstr(p, "\n# TYPE ")); p++) {
		families++;
		if (family_samples(text, p + 1) == 0)
			fail_msg("no sample for %.*s", (int)strcspn(p + 1, "\n"), p + 1);
	}
	assert_int_equal(families, 51);
	contains(text, "\niot_edge_uplink_backlog_drain_seconds 40000\n");
	free(text);
	status_snapshot_free(s);
}

/* Nothing known: the figures that may be missing have no sample, and no
 * JSON object but those always shown. */
static void test_snapshot_empty(void **state)
{
	struct status_snapshot *s = calloc(1, sizeof(*s));
	char *text, *json;
	cJSON *doc;

	(void)state;
	assert_non_null(s);
	text = metrics_render(s);
	assert_non_null(text);
	contains(text, "iot_edge_build_info{version=\"\"} 1\n");
	contains(text, "\niot_edge_buffer_points 0\n");
	contains(text, "\niot_edge_ingest_bad_lines_total{listener=\"http\"} 0\n# HELP");
	assert_null(strstr(text, "udp\"}"));
	assert_null(strstr(text, "\niot_edge_ingest_udp_dropped_points_total "));
	assert_null(strstr(text, "\niot_edge_uplink_state{"));
	assert_null(strstr(text, "\niot_edge_uplink_last_error_info{"));
	assert_null(strstr(text, "\niot_edge_uplink_last_success_timestamp_seconds "));
	assert_null(strstr(text, "\niot_edge_uplink_last_error_timestamp_seconds "));
	assert_null(strstr(text, "\niot_edge_uplink_backlog_drain_seconds "));
	assert_null(strstr(text, "\niot_edge_collector_"));
	assert_null(strstr(text, "\niot_edge_http_responses_total{"));
	free(text);
	doc = status_document(s);
	assert_non_null(doc);
	json = cJSON_PrintUnformatted(doc);
	assert_non_null(json);
	assert_null(strstr(json, "\"config\""));
	assert_null(strstr(json, "\"udp\""));
	contains(json, "\"answers\":{}},\"version\":\"\",\"uptime_s\":0,\"buffer\":{");
	contains(json, "\"last_success_age_s\":null,\"last_success_unix_s\":null,");
	contains(json, "\"drain_rate_points_per_s\":null,\"backlog_drain_s\":null},"
		       "\"uplinks\":[],\"collectors\":[]}");
	contains(json, "\"quarantined\":false,\"held_by\":null,\"write\":{\"mode\":\"always\"");
	cJSON_free(json);
	cJSON_Delete(doc);
	status_snapshot_free(s);
}

static void test_snapshot_edge_figures(void **state)
{
	struct status_snapshot *s = doc_snapshot();
	struct collect_edge_figures e;

	(void)state;
	status_snapshot_edge_figures(s, &e);
	assert_true(e.buffer_points == 120000 && e.buffer_bytes == 4000000);
	assert_true(e.buffer_oldest_ns == 1700000010000000000);
	assert_true(e.points_received == 30 && e.points_stored == 120037);
	assert_true(e.points_sent == 37 && e.points_rejected == 0 && e.points_dropped == 0);
	assert_false(e.uplink_ok);
	assert_int_equal(e.uplink_consecutive_failures, 40);
	s->uplink.consecutive_failures = 0;
	status_snapshot_edge_figures(s, &e);
	assert_true(e.uplink_ok);
	s->uplink.auth_failed = 1;
	status_snapshot_edge_figures(s, &e);
	assert_false(e.uplink_ok);
	status_snapshot_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metrics_values), cmocka_unit_test(test_metrics_escape),
	    cmocka_unit_test(test_metrics_render), cmocka_unit_test(test_metrics_every_family),
	    cmocka_unit_test(test_snapshot_empty), cmocka_unit_test(test_snapshot_edge_figures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
