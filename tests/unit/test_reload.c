/* test_reload.c -- SIGHUP reload: which keys changed (secrets and collectors too), the reloadable
 * ones applied at once, the rest named for a restart, no secret value in the log. */
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
#include "log.h"
#include "reload.h"

/* Defaults, then `text` as the INI file. */
static void load(struct edge_config *c, const char *text)
{
	char path[] = "/tmp/test_reload.XXXXXX";
	int fd = mkstemp(path);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	config_init(c);
	assert_int_equal(config_load_file(c, path, stderr), 0);
	assert_int_equal(unlink(path), 0);
}

static void test_same_config_no_change(void **state)
{
	struct edge_config a, b;
	char list[256];

	(void)state;
	load(&a, "[uplink]\nurl = http://influx.example:8086\n");
	load(&b, "[uplink]\nurl = http://influx.example:8086\n");
	assert_int_equal(reload_changed_keys(&a, &b, list, sizeof(list)), 0);
	assert_string_equal(list, "");
	config_cleanup(&a);
	config_cleanup(&b);
}

static void test_changed_keys_in_table_order(void **state)
{
	struct edge_config a, b;
	char list[256];

	(void)state;
	load(&a, "");
	load(&b, "[log]\nlevel = debug\n[uplink]\nurl = http://influx.example:8086\n"
		 "gzip = false\n[http]\nmax_body = 2KiB\n");
	assert_int_equal(reload_changed_keys(&a, &b, list, sizeof(list)), 4);
	assert_string_equal(list, "http.max_body, uplink.url, uplink.gzip, log.level");
	/* Symmetric. */
	assert_int_equal(reload_changed_keys(&b, &a, list, sizeof(list)), 4);
	config_cleanup(&a);
	config_cleanup(&b);
}

/* [tags] is no row of the table: a change of it is named too. */
static void test_tags_need_a_restart(void **state)
{
	struct edge_config a, b;
	char list[256];

	(void)state;
	load(&a, "[tags]\nsite = farm\n");
	load(&b, "[tags]\nsite = barn\n[edge]\nname = pi-7\n");
	assert_int_equal(reload_changed_keys(&a, &b, list, sizeof(list)), 2);
	assert_string_equal(list, "edge.name, tags.*");
	config_cleanup(&b);
	load(&b, "[tags]\nsite = farm\n");
	assert_int_equal(reload_changed_keys(&a, &b, list, sizeof(list)), 0);
	config_cleanup(&a);
	config_cleanup(&b);
}

static void test_list_that_does_not_fit(void **state)
{
	struct edge_config a, b;
	char list[16];

	(void)state;
	load(&a, "");
	load(&b, "[http]\nmax_body = 2KiB\nmax_points = 7\n[log]\nlevel = error\n");
	assert_int_equal(reload_changed_keys(&a, &b, list, sizeof(list)), 3);
	assert_string_equal(list, "http.max_bod...");
	assert_int_equal(reload_changed_keys(&a, &b, list, 3), 3);
	assert_string_equal(list, "");
	assert_int_equal(reload_changed_keys(&a, &b, NULL, 0), 3);
	config_cleanup(&a);
	config_cleanup(&b);
}

/* Run reload_apply() with stderr (the log) going to `log`; returns its result. */
static int apply_logged(struct edge_config *running, const struct edge_config *fresh, char *log,
			size_t cap)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO), rc;
	size_t n;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	rc = reload_apply(running, fresh);
	log_debug("test", "debug is on");
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	assert_int_equal(close(saved), 0);
	rewind(tmp);
	n = fread(log, 1, cap - 1, tmp);
	log[n] = '\0';
	assert_int_equal(fclose(tmp), 0);
	fputs(log, stderr); /* for the test's own output */
	return rc;
}

/* A changed, added or removed [uplink.NAME] target is named as needing a restart. */
static void test_targets_changed(void **state)
{
	struct edge_config a, b;
	char list[256];

	(void)state;
	load(&a, "[uplink.x]\nurl = http://a:8086\n[uplink.y]\nurl = http://y:8086\n");
	load(&b, "[uplink.x]\nurl = http://b:8086\n[uplink.z]\nurl = http://z:8086\n");
	assert_int_equal(reload_changed_keys(&a, &b, list, sizeof(list)), 3);
	assert_string_equal(list, "uplink.x.url, uplink.y, uplink.z");
	config_cleanup(&a);
	config_cleanup(&b);
}

static void test_secrets_compared_in_full(void **state)
{
	struct edge_config a, b, c;
	char list[256];

	(void)state;
	load(&a, "[uplink]\npassword = one\n");
	load(&b, "[uplink]\npassword = two\n");
	load(&c, "");
	/* A changed secret is seen, and named... */
	assert_int_equal(reload_changed_keys(&a, &b, list, sizeof(list)), 1);
	assert_string_equal(list, "uplink.password");
	/* ...and so is setting or clearing one. */
	assert_int_equal(reload_changed_keys(&a, &c, list, sizeof(list)), 1);
	assert_string_equal(list, "uplink.password");
	config_cleanup(&a);
	config_cleanup(&b);
	config_cleanup(&c);
}

static void test_changed_secret_named_without_its_value(void **state)
{
	struct edge_config running, fresh;
	char log[4096];

	(void)state;
	load(&running, "[uplink]\ntoken = old-s3cret-token\n[http]\ntoken = old-ingest-token\n");
	load(&fresh, "[uplink]\ntoken = new-s3cret-token\n[http]\ntoken = old-ingest-token\n");
	assert_int_equal(apply_logged(&running, &fresh, log, sizeof(log)), 1);
	assert_non_null(strstr(log, "after a restart (systemctl restart iot-edge): uplink.token"));
	assert_null(strstr(log, "http.token"));
	assert_null(strstr(log, "s3cret"));
	assert_null(strstr(log, "ingest-token"));
	assert_string_equal(running.uplink_token, "old-s3cret-token"); /* not applied */
	config_cleanup(&fresh);
	config_cleanup(&running);
}

static void test_reloadable_applied_the_rest_named(void **state)
{
	struct edge_config running, fresh;
	char log[4096];

	(void)state;
	log_set_level(LOG_LEVEL_INFO);
	load(&running, "");
	load(&fresh, "[log]\nlevel = debug\n[http]\nmax_points = 7\n");
	assert_int_equal(apply_logged(&running, &fresh, log, sizeof(log)), 1);
	assert_non_null(strstr(log, "log.level info -> debug: applied"));
	assert_non_null(strstr(log, "[test] debug is on")); /* log.c took the new level */
	assert_non_null(
	    strstr(log, "after a restart (systemctl restart iot-edge): http.max_points"));
	assert_null(strstr(log, "nothing needs a restart"));
	assert_int_equal(running.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(running.http_max_points, 100000); /* not applied */
	config_cleanup(&fresh);

	load(&fresh, "[log]\nlevel = info\n[http]\nmax_points = 100000\n");
	assert_int_equal(apply_logged(&running, &fresh, log, sizeof(log)), 0);
	assert_non_null(strstr(log, "log.level debug -> info: applied"));
	assert_non_null(strstr(log, "nothing needs a restart"));
	assert_null(strstr(log, "debug is on"));
	config_cleanup(&fresh);
	config_cleanup(&running);
}

static void test_collectors_need_a_restart(void **state)
{
	struct edge_config a, b;
	char list[256];
	char log[4096];

	(void)state;
	load(&a, "[collector.meter]\ntype = exec\ncommand = /bin/true\n");
	load(&b, "[collector.edge]\ninterval = 30s\n[collector.cpu_temp]\ntags = room=attic\n");
	assert_int_equal(reload_changed_keys(&a, &b, list, sizeof(list)), 3);
	/* Table order, then a's collectors, then those only b has. */
	assert_string_equal(list, "collector.edge.interval, collector.meter, collector.cpu_temp");
	assert_int_equal(apply_logged(&a, &b, log, sizeof(log)), 3);
	assert_non_null(strstr(log, "restart iot-edge): collector.edge.interval, collector.meter, "
				    "collector.cpu_temp"));
	assert_int_equal(a.collectors.n, 2); /* edge and meter, as started */
	assert_int_equal(a.collectors.items[0].interval_ms, 10000);
	config_cleanup(&a);
	config_cleanup(&b);
}

/* reload_apply() makes log.c use a new log.level; a key marked reloadable in
 * the table needs its reader taught in reload.c as well: this lists them. */
static void test_reloadable_keys_are_the_log_level(void **state)
{
	char names[256] = "";

	(void)state;
	assert_true(config_key_count() >= 30);
	for (size_t i = 0; i < config_key_count(); i++) {
		struct config_key_info k = config_key_describe(i);
		if (!k.reloadable)
			continue;
		size_t used = strlen(names);
		snprintf(names + used, sizeof(names) - used, "%s%s.%s", used ? " " : "", k.section,
			 k.name);
	}
	assert_string_equal(names, "log.level");
}

static void test_apply_takes_the_log_level_only(void **state)
{
	struct edge_config running, fresh;

	(void)state;
	load(&running, "[log]\nlevel = info\n");
	load(&fresh, "[log]\nlevel = debug\n[buffer]\npath = /tmp/elsewhere.db\n");
	assert_int_equal(reload_apply(&running, &fresh), 1); /* buffer.path: restart */
	assert_int_equal(running.log_level, 0);
	assert_string_equal(running.buffer_path, "/var/lib/iot-edge/buffer.db");
	assert_string_equal(fresh.buffer_path, "/tmp/elsewhere.db");
	/* Again: the level is now the same, the path still needs a restart. */
	assert_int_equal(reload_apply(&running, &fresh), 1);
	config_cleanup(&fresh);

	load(&fresh, "[log]\nlevel = warn\n");
	assert_int_equal(reload_apply(&running, &fresh), 0);
	assert_int_equal(running.log_level, 2);
	config_cleanup(&fresh);
	config_cleanup(&running);
	log_set_level(LOG_LEVEL_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_config_no_change),
	    cmocka_unit_test(test_changed_keys_in_table_order),
	    cmocka_unit_test(test_tags_need_a_restart),
	    cmocka_unit_test(test_list_that_does_not_fit),
	    cmocka_unit_test(test_secrets_compared_in_full),
	    cmocka_unit_test(test_targets_changed),
	    cmocka_unit_test(test_apply_takes_the_log_level_only),
	    cmocka_unit_test(test_changed_secret_named_without_its_value),
	    cmocka_unit_test(test_reloadable_applied_the_rest_named),
	    cmocka_unit_test(test_collectors_need_a_restart),
	    cmocka_unit_test(test_reloadable_keys_are_the_log_level),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
