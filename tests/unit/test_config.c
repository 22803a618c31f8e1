/* test_config.c -- the settings table: defaults, INI file, environment, units, errors, the walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char errors[4096];

/* Write `text` to a temporary file; returns its path (static buffer). */
static const char *write_file(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/test_config.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Load `text` as a file; returns the problem count, messages in `errors`. */
static int load_text(struct edge_config *c, const char *text)
{
	const char *path = write_file(text);
	memset(errors, 0, sizeof(errors));
	FILE *err = fmemopen(errors, sizeof(errors) - 1, "w");
	assert_non_null(err);
	int problems = config_load_file(c, path, err);
	fclose(err);
	unlink(path);
	return problems;
}

static void test_defaults(void **state)
{
	(void)state;
	struct edge_config c;
	config_init(&c);
	assert_string_equal(c.http_listen, "0.0.0.0:1337");
	assert_string_equal(c.buffer_path, "/var/lib/iot-edge/buffer.db");
	assert_int_equal(c.buffer_durability, 0);
	assert_string_equal(c.uplink_url, "http://127.0.0.1:8086");
	assert_string_equal(c.uplink_database, "iot");
	assert_int_equal(c.uplink_batch_points, 5000);
	assert_int_equal(c.uplink_flush_interval_ms, 1000);
	assert_int_equal(c.http_max_body, 1 << 20);
	assert_int_equal(c.log_level, 1);
	config_cleanup(&c);
	assert_null(c.http_listen);
}

static void test_file_values_and_units(void **state)
{
	(void)state;
	struct edge_config c;
	config_init(&c);
	int problems = load_text(&c, "; a comment\n"
				     "[http]\nlisten = [::1]:8080\nmax_body = 64kB\n"
				     "[buffer]\ndurability = normal\npath = /tmp/x.db\n"
				     "[uplink]\nflush_interval = 250ms\nretry_max = 2m\n"
				     "timeout = 5\nbatch_bytes = 2MiB\n"
				     "[log]\nlevel = debug\n");
	assert_int_equal(problems, 0);
	assert_string_equal(c.http_listen, "[::1]:8080");
	assert_int_equal(c.http_max_body, 64000);
	assert_int_equal(c.buffer_durability, 1);
	assert_string_equal(c.buffer_path, "/tmp/x.db");
	assert_int_equal(c.uplink_flush_interval_ms, 250);
	assert_int_equal(c.uplink_retry_max_ms, 120000);
	assert_int_equal(c.uplink_timeout_ms, 5000);
	assert_int_equal(c.uplink_batch_bytes, 2 << 20);
	assert_int_equal(c.log_level, 0);
	config_cleanup(&c);
}

static void test_file_errors_name_line_and_key(void **state)
{
	(void)state;
	struct edge_config c;
	config_init(&c);
	int problems = load_text(&c, "[http]\n"
				     "listen = nowhere\n"
				     "max_body = 12 parsecs\n"
				     "[uplink]\n"
				     "batch_points = 100001\n"
				     "url = ftp://x\n"
				     "retry_max = soon\n"
				     "[buffer]\n"
				     "durability = maybe\n"
				     "size = 1\n");
	assert_int_equal(problems, 7);
	assert_non_null(strstr(errors, ":2: [http] listen: \"nowhere\": expected HOST:PORT"));
	assert_non_null(strstr(errors, ":3: [http] max_body: \"12 parsecs\": unknown unit"));
	assert_non_null(strstr(errors, ":5: [uplink] batch_points: \"100001\": 100001 is out of "
				       "range 1..100000"));
	assert_non_null(strstr(errors, ":6: [uplink] url: \"ftp://x\": must start with http://"));
	assert_non_null(strstr(errors, ":7: [uplink] retry_max: \"soon\": must be a number"));
	assert_non_null(strstr(errors, ":9: [buffer] durability: \"maybe\": must be one of "
				       "full|normal"));
	assert_non_null(strstr(errors, ":10: [buffer] size: unknown key"));
	/* A rejected value leaves the previous one in place. */
	assert_string_equal(c.http_listen, "0.0.0.0:1337");
	assert_int_equal(c.uplink_batch_points, 5000);
	config_cleanup(&c);
}

static void test_syntax_error_and_missing_file(void **state)
{
	(void)state;
	struct edge_config c;
	config_init(&c);
	assert_int_equal(load_text(&c, "[http]\nthis line has no equals sign\n"), 1);
	assert_non_null(strstr(errors, ":2: syntax error"));

	FILE *err = fmemopen(errors, sizeof(errors) - 1, "w");
	assert_int_equal(config_load_file(&c, "/nonexistent/iot-edge.conf", err), 1);
	fclose(err);
	assert_non_null(strstr(errors, "/nonexistent/iot-edge.conf: cannot open"));
	config_cleanup(&c);
}

static void test_secret_never_echoed(void **state)
{
	(void)state;
	struct edge_config c;
	config_init(&c);
	assert_int_equal(load_text(&c, "[uplink]\npassword = hunter2\n"), 0);
	assert_string_equal(c.uplink_password, "hunter2");

	char out[4096] = {0};
	FILE *f = fmemopen(out, sizeof(out) - 1, "w");
	config_print(&c, f);
	fclose(f);
	assert_null(strstr(out, "hunter2"));
	assert_non_null(strstr(out, "password = ***"));
	config_cleanup(&c);
}

static void test_environment_overrides(void **state)
{
	(void)state;
	struct edge_config c;
	config_init(&c);
	setenv("IOT_EDGE_HTTP_LISTEN", "127.0.0.1:9999", 1);
	setenv("IOT_EDGE_BUFFER_DURABILITY", "normal", 1);
	setenv("IOT_EDGE_UPLINK_DATABASE", "site7", 1);
	setenv("IOT_EDGE_UPLINK_BATCH_POINTS", "zero", 1);
	setenv("IOT_EDGE_HTTP_LISTN", "x", 1);

	memset(errors, 0, sizeof(errors));
	FILE *err = fmemopen(errors, sizeof(errors) - 1, "w");
	int problems = config_load_env(&c, err);
	fclose(err);

	assert_int_equal(problems, 2);
	assert_string_equal(c.http_listen, "127.0.0.1:9999");
	assert_int_equal(c.buffer_durability, 1);
	assert_string_equal(c.uplink_database, "site7");
	assert_non_null(strstr(errors, "IOT_EDGE_UPLINK_BATCH_POINTS: \"zero\": must be a"));
	assert_non_null(strstr(errors, "IOT_EDGE_HTTP_LISTN: unknown setting"));
	unsetenv("IOT_EDGE_HTTP_LISTEN");
	unsetenv("IOT_EDGE_BUFFER_DURABILITY");
	unsetenv("IOT_EDGE_UPLINK_DATABASE");
	unsetenv("IOT_EDGE_UPLINK_BATCH_POINTS");
	unsetenv("IOT_EDGE_HTTP_LISTN");
	config_cleanup(&c);
}

static void test_help_lists_every_env_name(void **state)
{
	(void)state;
	char out[8192] = {0};
	FILE *f = fmemopen(out, sizeof(out) - 1, "w");
	config_print_help(f);
	fclose(f);
	const char *names[] = {"IOT_EDGE_HTTP_LISTEN", "IOT_EDGE_BUFFER_PATH",
			       "IOT_EDGE_BUFFER_DURABILITY", "IOT_EDGE_UPLINK_URL",
			       "IOT_EDGE_UPLINK_DATABASE"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_non_null(strstr(out, names[i]));
	assert_non_null(strstr(out, "default: 0.0.0.0:1337"));
}

/* The table key by key: find, describe, set, format, compare, take. */
static void test_walk_the_table(void **state)
{
	(void)state;
	struct edge_config a, b;
	char text[64], scratch[128];
	const char *why = NULL;
	int level = config_key_find("log", "level");
	int password = config_key_find("uplink", "password");
	int timeout = config_key_find("http", "connection_timeout");

	config_init(&a);
	config_init(&b);
	assert_true(level >= 0 && password >= 0 && timeout >= 0);
	assert_int_equal(config_key_find("uplink", "colour"), -1);
	assert_int_equal(config_key_find("log", "listen"), -1);

	struct config_key_info k = config_key_describe((size_t)level);
	assert_string_equal(k.section, "log");
	assert_string_equal(k.name, "level");
	assert_true(k.reloadable);
	assert_false(k.secret);
	k = config_key_describe((size_t)password);
	assert_true(k.secret);
	assert_false(k.reloadable);
	assert_null(config_key_describe(config_key_count()).name);
	config_key_env_name((size_t)timeout, text, sizeof(text));
	assert_string_equal(text, "IOT_EDGE_HTTP_CONNECTION_TIMEOUT");

	/* Set and format as -n prints it; a set secret is masked, an unset one empty. */
	config_key_format((size_t)timeout, &a, text, sizeof(text));
	assert_string_equal(text, "30000ms");
	config_key_format((size_t)password, &a, text, sizeof(text));
	assert_string_equal(text, "");
	assert_int_equal(
	    config_key_set((size_t)password, &b, "hunter2", scratch, sizeof(scratch), &why), 0);
	config_key_format((size_t)password, &b, text, sizeof(text));
	assert_string_equal(text, "***");
	assert_int_equal(config_key_set((size_t)level, &b, "loud", scratch, sizeof(scratch), &why),
			 -1);
	assert_string_equal(why, "must be one of debug|info|warn|error");
	assert_int_equal(
	    config_key_set((size_t)timeout, &b, "1h1s", scratch, sizeof(scratch), &why), -1);
	assert_int_equal(config_key_set((size_t)timeout, &b, "2h", scratch, sizeof(scratch), &why),
			 -1);
	assert_string_equal(why, "7200000ms is out of range 1000..3600000ms");
	assert_int_equal(b.http_connection_timeout_ms, 30000); /* a failed set changes nothing */

	/* Compared by type, secrets in full. */
	assert_false(config_key_differs((size_t)password, &a, &a));
	assert_true(config_key_differs((size_t)password, &a, &b));
	assert_int_equal(
	    config_key_set((size_t)password, &a, "hunter3", scratch, sizeof(scratch), &why), 0);
	assert_true(config_key_differs((size_t)password, &a, &b));
	assert_int_equal(config_key_set((size_t)level, &b, "error", scratch, sizeof(scratch), &why),
			 0);
	assert_true(config_key_differs((size_t)level, &a, &b));

	/* Only a reloadable key is taken. */
	assert_int_equal(config_key_take((size_t)password, &a, &b), -1);
	assert_string_equal(a.uplink_password, "hunter3");
	assert_int_equal(config_key_take((size_t)level, &a, &b), 0);
	assert_int_equal(a.log_level, 3);
	assert_false(config_key_differs((size_t)level, &a, &b));
	config_key_format((size_t)level, &a, text, sizeof(text));
	assert_string_equal(text, "error");
	config_cleanup(&a);
	config_cleanup(&b);
}

/* Every row marked reloadable can be taken (a text row cannot: a reader
 * could hold the old string). */
static void test_reloadable_rows_can_be_taken(void **state)
{
	(void)state;
	struct edge_config a, b;
	size_t reloadable = 0;

	config_init(&a);
	config_init(&b);
	for (size_t i = 0; i < config_key_count(); i++) {
		if (!config_key_describe(i).reloadable) {
			assert_int_equal(config_key_take(i, &a, &b), -1);
			continue;
		}
		assert_int_equal(config_key_take(i, &a, &b), 0);
		reloadable++;
	}
	assert_true(reloadable >= 1);
	config_cleanup(&a);
	config_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_file_values_and_units),
	    cmocka_unit_test(test_file_errors_name_line_and_key),
	    cmocka_unit_test(test_syntax_error_and_missing_file),
	    cmocka_unit_test(test_secret_never_echoed),
	    cmocka_unit_test(test_environment_overrides),
	    cmocka_unit_test(test_help_lists_every_env_name),
	    cmocka_unit_test(test_walk_the_table),
	    cmocka_unit_test(test_reloadable_rows_can_be_taken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
