/* test_status.c -- /status pieces: URL credentials stripped, the config summary without secrets,
 * the drain estimate, the document of a snapshot, a snapshot taken of a real buffer, and the
 * `iot-edge status` text (test_metrics.c: the same snapshot for /metrics). */
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

#include "clock.h"
#include "config.h"
#include "log.h"
#include "redact.h"
#include "snapshot.h"
#include "storage.h"
#include "status.h"
#include "status_cli.h"
#include "test_status_util.h"

/* --- URL credentials --------------------------------------------------- */

static void strip(const char *url, const char *want)
{
	char out[128];

	assert_int_equal(redact_url(url, out, sizeof(out)), 0);
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
	assert_int_equal(redact_url("http://a:b@influx.example:8086", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	/* exactly fits: 15 characters and the NUL */
	assert_int_equal(redact_url("http://a@abcdefgh", out, sizeof(out)), 0);
	assert_string_equal(out, "http://abcdefgh");
	assert_int_equal(redact_url("http://a@abcdefghi", out, sizeof(out)), -1);
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
	struct status_config_summary sum;
	cJSON *root = cJSON_CreateObject();
	char *text;

	(void)state;
	load(&c, "[http]\nlisten = 0.0.0.0:1444\ntoken = tok-SECRET1\n"
		 "[buffer]\ndurability = normal\nmax_size = 2MB\nfull_policy = reject_new\n"
		 "[uplink]\nurl = http://me:SECRET2@influx.example:8086/?p=SECRET3\n"
		 "database = farm\nusername = me\npassword = SECRET4\nbatch_points = 700\n"
		 "gzip = false\n[log]\nlevel = warn\n");
	log_set_level((enum log_level)c.log_level); /* as main does at start-up */
	status_config_take(&sum, &c);
	status_add_config(root, &sum);
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
	struct status_config_summary sum;
	cJSON *root = cJSON_CreateObject();
	char *text;

	(void)state;
	load(&c, "[uplink]\napi = v2\norg = acme\nbucket = plant\ntoken = SECRET5\n");
	status_config_take(&sum, &c);
	status_add_config(root, &sum);
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

/* --- the /status document of a snapshot -------------------------------- */

static const char status_doc[] =
    "{\"ingest\":{\"requests\":12,\"points\":30,\"client_errors\":1,\"server_errors\":0,"
    "\"bad_lines\":2,\"refused_connections\":0,\"endpoints\":{\"data\":{\"requests\":3,\"points\":"
    "10},"
    "\"write\":{\"requests\":4,\"points\":20},\"api_v2_write\":{\"requests\":0,\"points\":0},"
    "\"udp\":{\"requests\":5,\"points\":7,\"bad_lines\":1,\"dropped\":0,\"refused\":0}},"
    "\"answers\":{\"201\":3,\"204\":3,\"400\":1,\"200\":5}},"
    "\"version\":\"1.2.3\",\"uptime_s\":360.5,"
    "\"buffer\":{\"points\":120000,\"bytes\":4000000,\"file_bytes\":8000000,"
    "\"oldest_age_s\":300.25,\"newest_age_s\":0.5,\"appended\":120037,\"acked\":37,"
    "\"dropped\":0,\"rejected\":0,\"commits\":9,\"quarantined\":false,\"held_by\":\"default\","
    "\"write\":{\"mode\":\"always\",\"points_direct\":0,\"points_spilled\":0,"
    "\"points_spill_late\":0,\"points_spill_error\":0}},"
    "\"uplink\":{\"state\":\"failing\",\"points_sent\":37,\"points_rejected\":0,"
    "\"requests_ok\":2,\"requests_failed\":40,\"retries\":39,\"consecutive_failures\":40,"
    "\"splits\":0,\"server_isolations\":0,\"points_rejected_server\":0,"
    "\"bytes_raw\":2100,\"bytes_sent\":900,\"batch_points\":5000,"
    "\"last_success_age_s\":310,\"last_success_unix_s\":1700000000.5,"
    "\"last_error_class\":\"network\",\"last_error\":\"Couldn't connect to server\","
    "\"last_error_age_s\":1.2,\"last_error_unix_s\":1700000309.3,"
    "\"drain_rate_points_per_s\":-3,\"backlog_drain_s\":null},"
    "\"uplinks\":[{\"name\":\"default\",\"state\":\"failing\",\"backlog_points\":120000,"
    "\"backlog_bytes\":4000000,\"oldest_age_s\":300.25,\"acked_id\":37,\"points_sent\":37,"
    "\"points_rejected\":0,\"requests_ok\":2,\"requests_failed\":40,"
    "\"consecutive_failures\":40,\"last_success_age_s\":310,"
    "\"last_success_unix_s\":1700000000.5,\"last_error_class\":\"network\","
    "\"last_error\":\"Couldn't connect to server\",\"last_error_age_s\":1.2,"
    "\"last_error_unix_s\":1700000309.3}],"
    "\"collectors\":[{\"name\":\"cpu \\\"x\\\"\",\"type\":\"cpu_temp\",\"interval_s\":10,"
    "\"runs\":36,\"points\":35,\"skipped\":1,\"errors\":0,\"last_run_age_s\":4,"
    "\"last_run_unix_s\":1700000306,\"last_error\":\"\"},"
    "{\"name\":\"pump\",\"type\":\"exec\",\"interval_s\":60,\"runs\":0,\"points\":0,"
    "\"skipped\":0,\"errors\":0,\"last_run_age_s\":null,\"last_run_unix_s\":null,"
    "\"last_error\":\"\"}]}";

/* /status of the same snapshot: exactly the document the text tests read. */
static void test_snapshot_document(void **state)
{
	struct status_snapshot *s = doc_snapshot();
	cJSON *want = cJSON_Parse(status_doc);
	cJSON *got = status_document(s);

	(void)state;
	assert_non_null(want);
	assert_non_null(got);
	if (!cJSON_Compare(want, got, true)) {
		char *text = cJSON_PrintUnformatted(got);

		fail_msg("the document differs:\n%s", text);
	}
	cJSON_Delete(got);
	cJSON_Delete(want);
	status_snapshot_free(s);
}

/* A snapshot of a real buffer and configuration (no HTTP server, uplink,
 * UDP listener or collectors): what status_page() renders. */
static void test_snapshot_take(void **state)
{
	char dir[] = "/tmp/test_status_db.XXXXXX";
	char path[64];
	struct storage_options o = {.path = path, .durability = STORAGE_DURABILITY_NORMAL};
	struct edge_config c;
	struct storage *st = NULL;
	struct status_sources src = {0};
	struct status_snapshot *s;
	cJSON *doc;
	char *json;

	(void)state;
	load(&c, "[http]\nlisten = 127.0.0.1:1555\n[uplink]\nurl = http://u:SECRET@h:1/\n");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	assert_int_equal(storage_open(&o, &st), STORAGE_OK);
	append_line(st, "m v=1 1\n");
	src = (struct status_sources){
	    .storage = st, .started_ms = clock_mono_ms() - 5000, .config = &c, .udp = NULL};
	s = status_snapshot_take(&src, NULL);
	assert_non_null(s);
	assert_string_equal(s->version, IOT_EDGE_VERSION);
	assert_true(s->uptime_s >= 5.0 && s->uptime_s < 60.0);
	assert_true(s->has_config);
	assert_string_equal(s->config.http_listen, "127.0.0.1:1555");
	assert_string_equal(s->config.uplink_url, "http://h:1/");
	assert_false(s->has_udp);
	assert_true(s->buffer.points == 1 && s->buffer.appended_total == 1);
	assert_true(s->buffer_oldest_age_s > 0 && s->buffer_oldest_age_s < 60.0);
	assert_true(s->http.requests == 0);
	assert_string_equal(s->uplink_state, "ok");
	assert_false(s->uplink_last_success.known || s->uplink_last_error.known);
	/* measured from start-up, when the buffer was empty: it grew by 1 in 5 s */
	assert_true(s->drain_rate_points_per_s.known);
	assert_true(s->drain_rate_points_per_s.value < 0);
	assert_false(s->backlog_drain_s.known);
	assert_int_equal(s->collector_count, 0);
	assert_int_equal(src.drain.count, 2);
	doc = status_document(s);
	json = doc ? cJSON_PrintUnformatted(doc) : NULL;
	assert_non_null(json);
	contains(json, "\"buffer\":{\"points\":1,");
	contains(json, "\"config\":{\"http\":{\"listen\":\"127.0.0.1:1555\",\"token\":false}");
	assert_null(strstr(json, "SECRET"));
	cJSON_free(json);
	cJSON_Delete(doc);
	status_snapshot_free(s);
	storage_close(st);
	config_cleanup(&c);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
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

/* The edge's name, when /status has one, is the last line. */
static void test_text_edge_name(void **state)
{
	int rc = -1;
	char *text = print_doc("{\"edge\":\"pi-7\",\"version\":\"1.2\",\"uptime_s\":5,"
			       "\"buffer\":{\"points\":0},\"uplink\":{\"state\":\"ok\"}}",
			       &rc);
	const char *last = strstr(text, "collectors: none\n");

	(void)state;
	assert_int_equal(rc, STATUS_CLI_OK);
	assert_non_null(last);
	assert_string_equal(last, "collectors: none\nedge:       pi-7 (iot-edge 1.2)\n");
	free(text);
}

static void test_text_two_targets(void **state)
{
	int rc = -1;
	char *text = print_doc(
	    "{\"uptime_s\":5,\"buffer\":{\"points\":200,\"oldest_age_s\":90,\"held_by\":\"vm\"},"
	    "\"uplink\":{\"state\":\"failing\",\"last_error_class\":\"network\",\"requests_ok\":2,"
	    "\"points_sent\":800},"
	    "\"uplinks\":[{\"name\":\"influx\",\"state\":\"ok\",\"backlog_points\":0,"
	    "\"points_sent\":500},{\"name\":\"vm\",\"state\":\"failing\",\"last_error_class\":"
	    "\"network\",\"backlog_points\":200,\"oldest_age_s\":90,\"points_sent\":300}],"
	    "\"collectors\":[]}",
	    &rc);

	(void)state;
	assert_int_equal(rc, STATUS_CLI_FAILING);
	assert_non_null(strstr(text,
			       "\ntargets:    influx: ok, backlog 0 points, 500 sent\n"
			       "            vm: failing (network), backlog 200 points (oldest "
			       "1m), 300 sent; holds the buffer\ncollectors: none\n"));
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
	    cmocka_unit_test(test_snapshot_document),
	    cmocka_unit_test(test_snapshot_take),
	    cmocka_unit_test(test_text_failing),
	    cmocka_unit_test(test_text_ok),
	    cmocka_unit_test(test_text_edge_name),
	    cmocka_unit_test(test_text_auth_failed),
	    cmocka_unit_test(test_text_two_targets),
	    cmocka_unit_test(test_text_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
