/* test_status.c -- /status and /metrics pieces: URL credentials stripped, the config summary
 * without secrets, the drain estimate, Prometheus formatting and the `iot-edge status` text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "storage.h"
#include "status.h"
#include "status_cli.h"

/* --- URL credentials --------------------------------------------------- */

static void strip(const char *url, const char *want)
{
	char out[128];

	assert_int_equal(status_url_strip_credentials(url, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_url_strip(void **state)
{
	(void)state;
	strip("http://127.0.0.1:8086", "http://127.0.0.1:8086");
	strip("https://user:pa:ss@influx.example:8086/base/", "https://influx.example:8086/base/");
	strip("http://user@influx.example", "http://influx.example");
	strip("http://u:p@w@influx.example/x", "http://influx.example/x"); /* last '@' */
	strip("http://influx.example/x?u=me&p=secret#frag", "http://influx.example/x");
	strip("http://influx.example/a@b", "http://influx.example/a@b"); /* '@' in the path */
	strip("influx.example:8086", "influx.example:8086");
	strip("user:pw@influx.example", "influx.example");
	strip("", "");
}

static void test_url_strip_too_long(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(
	    status_url_strip_credentials("http://a:b@influx.example:8086", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	/* exactly fits: 15 characters and the NUL */
	assert_int_equal(status_url_strip_credentials("http://a@abcdefgh", out, sizeof(out)), 0);
	assert_string_equal(out, "http://abcdefgh");
	assert_int_equal(status_url_strip_credentials("http://a@abcdefghi", out, sizeof(out)), -1);
}

/* --- the config summary ------------------------------------------------ */

static void load(struct edge_config *c, const char *text)
{
	char path[] = "/tmp/test_status.XXXXXX";
	int fd = mkstemp(path);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	config_init(c);
	assert_int_equal(config_load_file(c, path, stderr), 0);
	assert_int_equal(unlink(path), 0);
}

static const char *str_at(const cJSON *root, const char *a, const char *b, const char *key)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, a), b), key);

	assert_true(cJSON_IsString(o));
	return o->valuestring;
}

static void test_config_summary_v1(void **state)
{
	struct edge_config c;
	cJSON *root = cJSON_CreateObject();
	char *text;

	(void)state;
	load(&c, "[http]\nlisten = 0.0.0.0:1444\ntoken = tok-SECRET1\n"
		 "[buffer]\ndurability = normal\nmax_size = 2MB\nfull_policy = reject_new\n"
		 "[uplink]\nurl = http://me:SECRET2@influx.example:8086/?p=SECRET3\n"
		 "database = farm\nusername = me\npassword = SECRET4\nbatch_points = 700\n"
		 "gzip = false\n[log]\nlevel = warn\n");
	log_set_level((enum log_level)c.log_level); /* as main does at start-up */
	status_add_config(root, &c);
	text = cJSON_PrintUnformatted(root);
	assert_non_null(text);
	assert_null(strstr(text, "SECRET"));
	assert_string_equal(str_at(root, "config", "http", "listen"), "0.0.0.0:1444");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "http"), "token")));
	assert_string_equal(str_at(root, "config", "buffer", "durability"), "normal");
	assert_string_equal(str_at(root, "config", "buffer", "full_policy"), "reject_new");
	assert_string_equal(str_at(root, "config", "uplink", "api"), "v1");
	assert_string_equal(str_at(root, "config", "uplink", "url"), "http://influx.example:8086/");
	assert_string_equal(str_at(root, "config", "uplink", "database"), "farm");
	assert_string_equal(str_at(root, "config", "log", "level"), "warn");
	assert_non_null(strstr(text, "\"max_size\":2000000,"));
	assert_non_null(strstr(text, "\"batch_points\":700,\"gzip\":false"));
	assert_null(strstr(text, "\"bucket\""));
	cJSON_free(text);
	cJSON_Delete(root);
	config_cleanup(&c);
}

static void test_config_summary_v2(void **state)
{
	struct edge_config c;
	cJSON *root = cJSON_CreateObject();
	char *text;

	(void)state;
	load(&c, "[uplink]\napi = v2\norg = acme\nbucket = plant\ntoken = SECRET5\n");
	status_add_config(root, &c);
	text = cJSON_PrintUnformatted(root);
	assert_non_null(text);
	assert_null(strstr(text, "SECRET"));
	assert_string_equal(str_at(root, "config", "uplink", "api"), "v2");
	assert_string_equal(str_at(root, "config", "uplink", "org"), "acme");
	assert_string_equal(str_at(root, "config", "uplink", "bucket"), "plant");
	assert_null(strstr(text, "\"database\""));
	assert_non_null(strstr(text, "\"authentication\":true"));
	cJSON_free(text);
	cJSON_Delete(root);
	config_cleanup(&c);
}

/* --- newest_received_ns (storage) -------------------------------------- */

static atomic_int appends_done;

static void on_done(void *arg, int result)
{
	(void)arg;
	assert_int_equal(result, STORAGE_OK);
	atomic_fetch_add(&appends_done, 1);
}

static void append_line(struct storage *s, const char *line)
{
	char *text = strdup(line);
	int want = atomic_load(&appends_done) + 1;

	assert_non_null(text);
	assert_int_equal(storage_append(s, text, strlen(text), 1, on_done, NULL), STORAGE_OK);
	for (int i = 0; i < 1000 && atomic_load(&appends_done) < want; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&appends_done), want);
}

static void test_storage_newest(void **state)
{
	char dir[] = "/tmp/test_status_db.XXXXXX";
	char path[64];
	struct storage_options o = {.path = path, .durability = STORAGE_DURABILITY_NORMAL};
	struct storage_batch batch = {0};
	struct storage_stats a, b, c;
	struct storage *s = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	assert_int_equal(storage_open(&o, &s), STORAGE_OK);
	storage_get_stats(s, &a);
	assert_true(a.oldest_received_ns == 0 && a.newest_received_ns == 0);
	append_line(s, "m v=1 1\n");
	storage_get_stats(s, &a);
	assert_true(a.newest_received_ns > 0);
	assert_true(a.newest_received_ns == a.oldest_received_ns);
	usleep(20000);
	append_line(s, "m v=2 2\n");
	storage_get_stats(s, &b);
	assert_true(b.oldest_received_ns == a.oldest_received_ns);
	assert_true(b.newest_received_ns >= a.newest_received_ns + 20000000);
	/* Acking the older point moves the oldest up to the newest. */
	assert_int_equal(storage_read_batch(s, 1, 1 << 20, &batch), STORAGE_OK);
	assert_int_equal(batch.count, 1);
	assert_int_equal(storage_ack(s, batch.last_id), STORAGE_OK);
	storage_get_stats(s, &c);
	assert_true(c.oldest_received_ns == b.newest_received_ns);
	assert_true(c.newest_received_ns == b.newest_received_ns);
	storage_close(s);
	/* Read back from the file on open. */
	assert_int_equal(storage_open(&o, &s), STORAGE_OK);
	storage_get_stats(s, &a);
	assert_true(a.oldest_received_ns == c.oldest_received_ns);
	assert_true(a.newest_received_ns == c.newest_received_ns);
	assert_int_equal(storage_read_batch(s, 10, 1 << 20, &batch), STORAGE_OK);
	assert_int_equal(batch.count, 1);
	assert_int_equal(storage_ack(s, batch.last_id), STORAGE_OK);
	storage_get_stats(s, &a);
	assert_true(a.points == 0 && a.oldest_received_ns == 0 && a.newest_received_ns == 0);
	storage_batch_free(&batch);
	storage_close(s);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

/* --- the drain estimate ------------------------------------------------ */

static void test_drain_needs_an_old_sample(void **state)
{
	struct status_drain d = {0};
	double rate = 42;

	(void)state;
	assert_int_equal(status_drain_rate(&d, 1000, 10, &rate), -1);
	status_drain_note(&d, 1000, 10);
	assert_int_equal(status_drain_rate(&d, 1999, 10, &rate), -1); /* < 1 s old */
	assert_int_equal(status_drain_rate(&d, 2000, 6, &rate), 0);
	assert_true(rate == 4.0);
	assert_true(rate == 4.0);
}

static void test_drain_rate_and_eta(void **state)
{
	struct status_drain d = {0};
	double rate = 0;

	(void)state;
	/* One sample a second: a later one within the second is not kept. */
	status_drain_note(&d, 0, 1000);
	status_drain_note(&d, 500, 990);
	assert_int_equal(d.count, 1);
	for (int s = 1; s <= 100; s++)
		status_drain_note(&d, s * 1000, (uint64_t)(1000 - 10 * s));
	assert_int_equal(d.count, STATUS_DRAIN_SAMPLES);
	/* At 100 s the window holds 40 s .. 99 s: the oldest is 40 s (600 points). */
	assert_int_equal(status_drain_rate(&d, 100000, 0, &rate), 0);
	assert_true(fabs(rate - 10.0) < 1e-9);
	assert_int_equal(status_drain_rate(&d, 100000, 300, &rate), 0);
	assert_true(fabs(rate - 5.0) < 1e-9);
	assert_true(status_drain_eta_s(300, 5.0) == 60.0);
	/* Not draining: empty, steady, growing. */
	assert_true(status_drain_eta_s(0, 5.0) < 0);
	assert_true(status_drain_eta_s(300, 0.0) < 0);
	assert_true(status_drain_eta_s(300, -2.0) < 0);
	assert_true(status_drain_eta_s(300, NAN) < 0);
}

static void test_drain_long_gap(void **state)
{
	struct status_drain d = {0};
	double rate = 0;

	(void)state;
	/* Asked rarely: the newest sample older than the window is used. */
	status_drain_note(&d, 0, 5000);
	status_drain_note(&d, 300000, 2000);
	assert_int_equal(status_drain_rate(&d, 600000, 500, &rate), 0);
	assert_true(fabs(rate - 5.0) < 1e-9); /* (2000 - 500) / 300 s */
}

/* --- Prometheus -------------------------------------------------------- */

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

static const char status_doc[] =
    "{\"ingest\":{\"requests\":12,\"points\":30,\"client_errors\":1,\"server_errors\":0,"
    "\"bad_lines\":2,\"endpoints\":{\"data\":{\"requests\":3,\"points\":10},"
    "\"write\":{\"requests\":4,\"points\":20},\"api_v2_write\":{\"requests\":0,\"points\":0},"
    "\"udp\":{\"requests\":5,\"points\":7,\"bad_lines\":1,\"dropped\":0}},"
    "\"answers\":{\"201\":3,\"204\":3,\"400\":1,\"200\":5}},"
    "\"version\":\"1.2.3\",\"uptime_s\":360.5,"
    "\"buffer\":{\"points\":120000,\"bytes\":4000000,\"file_bytes\":8000000,"
    "\"oldest_age_s\":300.25,\"newest_age_s\":0.5,\"appended\":120037,\"acked\":37,"
    "\"dropped\":0,\"rejected\":0,\"commits\":9,\"quarantined\":false},"
    "\"uplink\":{\"state\":\"failing\",\"points_sent\":37,\"points_rejected\":0,"
    "\"requests_ok\":2,\"requests_failed\":40,\"retries\":39,\"consecutive_failures\":40,"
    "\"splits\":0,\"bytes_raw\":2100,\"bytes_sent\":900,\"batch_points\":5000,"
    "\"last_success_age_s\":310,\"last_success_unix_s\":1700000000.5,"
    "\"last_error_class\":\"network\",\"last_error\":\"Couldn't connect to server\","
    "\"last_error_age_s\":1.2,\"last_error_unix_s\":1700000309.3,"
    "\"drain_rate_points_per_s\":-3,\"backlog_drain_s\":null},"
    "\"collectors\":[{\"name\":\"cpu \\\"x\\\"\",\"type\":\"cpu_temp\",\"interval_s\":10,"
    "\"runs\":36,\"points\":35,\"skipped\":1,\"errors\":0,\"last_run_age_s\":4,"
    "\"last_run_unix_s\":1700000306,\"last_error\":\"\"},"
    "{\"name\":\"pump\",\"type\":\"exec\",\"interval_s\":60,\"runs\":0,\"points\":0,"
    "\"skipped\":0,\"errors\":0,\"last_run_age_s\":null,\"last_run_unix_s\":null,"
    "\"last_error\":\"\"}]}";

static void contains(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("missing: %s\nin:\n%s", line, text);
}

static void test_metrics_render(void **state)
{
	cJSON *doc = cJSON_Parse(status_doc);
	char *text;
	size_t helps = 0, types = 0;

	(void)state;
	assert_non_null(doc);
	text = metrics_render(doc);
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
	contains(text, "\niot_edge_http_responses_total{code=\"201\"} 3\n"
		       "iot_edge_http_responses_total{code=\"204\"} 3\n"
		       "iot_edge_http_responses_total{code=\"400\"} 1\n"
		       "iot_edge_http_responses_total{code=\"200\"} 5\n");
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
	/* null: the family without a sample */
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
	assert_int_equal(helps, types);
	assert_int_equal(helps, 39);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	cJSON_Delete(doc);
}

static void test_metrics_render_empty(void **state)
{
	cJSON *doc = cJSON_CreateObject();
	char *text = metrics_render(doc);

	(void)state;
	assert_non_null(text);
	/* nothing known: only build_info has a sample (an empty version) */
	contains(text, "iot_edge_build_info{version=\"\"} 1\n");
	for (const char *p = text; *p; p += strcspn(p, "\n") + 1)
		assert_true(*p == '#' || strncmp(p, "iot_edge_build_info{", 20) == 0);
	free(text);
	cJSON_Delete(doc);
}

/* --- the terminal summary ---------------------------------------------- */

static char *print_doc(const char *json, int *exit_status)
{
	cJSON *doc = cJSON_Parse(json);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(doc);
	assert_non_null(f);
	*exit_status = status_text_print(doc, f);
	assert_int_equal(fclose(f), 0);
	cJSON_Delete(doc);
	return text;
}

static void test_text_failing(void **state)
{
	int rc = -1;
	char *text = print_doc(status_doc, &rc);

	(void)state;
	assert_int_equal(rc, STATUS_CLI_FAILING);
	assert_string_equal(
	    text,
	    "FAILING: InfluxDB unreachable for 5m, backlog 120 000 points (oldest 5m)\n"
	    "buffer:     120 000 points (4.0 MB), file 8.0 MB; dropped 0, rejected 0\n"
	    "ingest:     12 requests, 30 points; data 3/10 write 4/20 api_v2_write 0/0 udp 5/7 "
	    "(requests/points)\n"
	    "            answers: 201 x3, 204 x3, 400 x1, 200 x5\n"
	    "uplink:     failing; 37 points sent in 2 requests (2.1 kB, 900 B on the wire); last "
	    "success 5m ago\n"
	    "            last error 1s ago (network, 40 in a row now): Couldn't connect to "
	    "server\n"
	    "collectors: cpu \"x\" (cpu_temp, every 10s): 36 runs, 35 points, 1 skipped, 0 "
	    "errors, last run 4s ago\n"
	    "            pump (exec, every 1m): 0 runs, 0 points, 0 skipped, 0 errors\n");
	free(text);
}

static void test_text_ok(void **state)
{
	int rc = -1;
	char *text =
	    print_doc("{\"uptime_s\":5,\"buffer\":{\"points\":1500,\"oldest_age_s\":2.5},"
		      "\"uplink\":{\"state\":\"ok\",\"backlog_drain_s\":3.2,\"requests_ok\":1},"
		      "\"collectors\":[]}",
		      &rc);

	(void)state;
	assert_int_equal(rc, STATUS_CLI_OK);
	assert_string_equal(text,
			    "OK: forwarding, backlog 1 500 points (oldest 2s, empty in ~4s)\n"
			    "buffer:     1 500 points (0 B), file 0 B; dropped 0, rejected 0\n"
			    "ingest:     0 requests, 0 points; (requests/points)\n"
			    "            answers: none\n"
			    "uplink:     ok; 0 points sent in 1 request (0 B, 0 B on the wire)\n"
			    "collectors: none\n");
	free(text);
}

static void test_text_auth_failed(void **state)
{
	int rc = -1;
	char *text = print_doc("{\"uptime_s\":7300,\"buffer\":{\"points\":1},"
			       "\"uplink\":{\"state\":\"authentication failed\","
			       "\"last_success_age_s\":null,\"last_error_class\":\"auth\"}}",
			       &rc);

	(void)state;
	assert_int_equal(rc, STATUS_CLI_FAILING);
	assert_true(strncmp(text,
			    "FAILING: InfluxDB refuses the credentials for 2h1m, backlog 1 point "
			    "(oldest 0s)\n",
			    strlen("FAILING: InfluxDB refuses the credentials for 2h1m, backlog 1 "
				   "point (oldest 0s)\n")) == 0);
	free(text);
}

static void test_text_numbers(void **state)
{
	char out[32];

	(void)state;
	assert_string_equal(status_text_count(0, out, sizeof(out)), "0");
	assert_string_equal(status_text_count(999, out, sizeof(out)), "999");
	assert_string_equal(status_text_count(1000, out, sizeof(out)), "1 000");
	assert_string_equal(status_text_count(1234567, out, sizeof(out)), "1 234 567");
	assert_string_equal(status_text_count(-120000, out, sizeof(out)), "-120 000");
	assert_string_equal(status_text_count(1234567, out, 6), "1 234");
	assert_string_equal(status_text_duration(0, out, sizeof(out)), "0s");
	assert_string_equal(status_text_duration(59.9, out, sizeof(out)), "59s");
	assert_string_equal(status_text_duration(60, out, sizeof(out)), "1m");
	assert_string_equal(status_text_duration(3599, out, sizeof(out)), "59m");
	assert_string_equal(status_text_duration(3660, out, sizeof(out)), "1h1m");
	assert_string_equal(status_text_duration(90000, out, sizeof(out)), "1d1h");
	assert_string_equal(status_text_duration(-1, out, sizeof(out)), "-");
	assert_string_equal(status_text_duration(1e300, out, sizeof(out)), "11574074074d1h");
	assert_string_equal(status_text_duration(NAN, out, sizeof(out)), "-");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_strip),
	    cmocka_unit_test(test_url_strip_too_long),
	    cmocka_unit_test(test_config_summary_v1),
	    cmocka_unit_test(test_config_summary_v2),
	    cmocka_unit_test(test_storage_newest),
	    cmocka_unit_test(test_drain_needs_an_old_sample),
	    cmocka_unit_test(test_drain_rate_and_eta),
	    cmocka_unit_test(test_drain_long_gap),
	    cmocka_unit_test(test_metrics_values),
	    cmocka_unit_test(test_metrics_escape),
	    cmocka_unit_test(test_metrics_render),
	    cmocka_unit_test(test_metrics_render_empty),
	    cmocka_unit_test(test_text_failing),
	    cmocka_unit_test(test_text_ok),
	    cmocka_unit_test(test_text_auth_failed),
	    cmocka_unit_test(test_text_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
