/* test_reload.c -- SIGHUP reload: which keys changed, the log level applied at once, the rest named
 * for a restart. */
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

static void test_secrets_compare_as_set_or_unset(void **state)
{
	struct edge_config a, b, c;
	char list[256];

	(void)state;
	load(&a, "[uplink]\npassword = one\n");
	load(&b, "[uplink]\npassword = two\n");
	load(&c, "");
	/* A changed secret is not seen (it is never rendered)... */
	assert_int_equal(reload_changed_keys(&a, &b, list, sizeof(list)), 0);
	/* ...but setting or clearing one is. */
	assert_int_equal(reload_changed_keys(&a, &c, list, sizeof(list)), 1);
	assert_string_equal(list, "uplink.password");
	config_cleanup(&a);
	config_cleanup(&b);
	config_cleanup(&c);
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
	    cmocka_unit_test(test_list_that_does_not_fit),
	    cmocka_unit_test(test_secrets_compare_as_set_or_unset),
	    cmocka_unit_test(test_apply_takes_the_log_level_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
