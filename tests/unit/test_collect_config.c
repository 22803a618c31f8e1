/* test_collect_config.c -- the [collector.NAME] sections: defaults, every key, misuse with
 * FILE:LINE. */
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

static char errors[8192];
static char path[64];

/* Load `text` as a file over the defaults; returns the problem count, the
 * messages in `errors`, the file name in `path`. */
static int load_text(struct edge_config *c, const char *text)
{
	snprintf(path, sizeof(path), "/tmp/test_collect_config.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	memset(errors, 0, sizeof(errors));
	FILE *err = fmemopen(errors, sizeof(errors) - 1, "w");
	assert_non_null(err);
	config_init(c);
	int problems = config_load_file(c, path, err);
	fclose(err);
	unlink(path);
	return problems;
}

/* The message "PATH:LINE: [collector.NAME] rest" must be in errors. */
static void assert_error(int line, const char *rest)
{
	char want[256];
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, rest);
	if (!strstr(errors, want))
		fail_msg("expected \"%s\" in:\n%s", want, errors);
}

static const struct collect_config *find(const struct edge_config *c, const char *name)
{
	for (size_t i = 0; i < c->collectors.n; i++) {
		if (strcmp(c->collectors.items[i].name, name) == 0)
			return &c->collectors.items[i];
	}
	return NULL;
}

static void test_defaults_edge_only(void **state)
{
	(void)state;
	struct edge_config c;
	config_init(&c);
	assert_string_equal(c.collect_sysfs_root, "/");
	assert_int_equal(c.collectors.n, 1);
	const struct collect_config *e = &c.collectors.items[0];
	assert_string_equal(e->name, "edge");
	assert_int_equal(e->type, COLLECT_EDGE);
	assert_true(e->enabled);
	assert_int_equal(e->interval_ms, 10000);
	assert_string_equal(e->measurement, "iot_edge");
	assert_string_equal(e->tags, "");
	config_cleanup(&c);
	assert_int_equal(c.collectors.n, 0);
	assert_null(c.collectors.items);
}

static void test_every_type_with_defaults(void **state)
{
	(void)state;
	struct edge_config c;
	int problems = load_text(&c, "[collect]\n"
				     "sysfs_root = /tmp/fake\n"
				     "[collector.cpu_temp]\n"
				     "interval = 2s\n"
				     "[collector.w1]\n"
				     "tags = room=cellar,floor=-1\n"
				     "[collector.adc]\n"
				     "type = file\n"
				     "path = /sys/bus/iio/devices/iio:device0/in_voltage0_raw\n"
				     "scale = 0.000805\n"
				     "offset = -0.5\n"
				     "[collector.meter]\n"
				     "type = exec\n"
				     "command = /usr/bin/read-meter --port /dev/ttyUSB0\n"
				     "interval = 1m\n"
				     "[collector.edge]\n"
				     "enabled = false\n");
	assert_int_equal(problems, 0);
	assert_string_equal(c.collect_sysfs_root, "/tmp/fake");
	assert_int_equal(c.collectors.n, 5);

	const struct collect_config *k = find(&c, "cpu_temp");
	assert_non_null(k);
	assert_int_equal(k->type, COLLECT_CPU_TEMP);
	assert_true(k->enabled);
	assert_int_equal(k->interval_ms, 2000);
	assert_string_equal(k->measurement, "cpu_temp");

	k = find(&c, "w1");
	assert_non_null(k);
	assert_int_equal(k->type, COLLECT_W1);
	assert_int_equal(k->interval_ms, 10000);
	assert_string_equal(k->measurement, "w1_temp");
	assert_string_equal(k->tags, "room=cellar,floor=-1");

	k = find(&c, "adc");
	assert_non_null(k);
	assert_int_equal(k->type, COLLECT_FILE);
	assert_string_equal(k->measurement, "adc");
	assert_string_equal(k->field, "value");
	assert_string_equal(k->path, "/sys/bus/iio/devices/iio:device0/in_voltage0_raw");
	assert_true(k->scale == 0.000805);
	assert_true(k->offset == -0.5);

	k = find(&c, "meter");
	assert_non_null(k);
	assert_int_equal(k->type, COLLECT_EXEC);
	assert_null(k->measurement);
	assert_string_equal(k->command, "/usr/bin/read-meter --port /dev/ttyUSB0");
	assert_false(k->shell);
	assert_int_equal(k->timeout_ms, 5000);
	assert_int_equal(k->interval_ms, 60000);

	k = find(&c, "edge");
	assert_non_null(k);
	assert_int_equal(k->type, COLLECT_EDGE);
	assert_false(k->enabled);
	assert_string_equal(k->measurement, "iot_edge");

	/* -n prints them, and a file collector's scale is exact. */
	char out[8192] = {0};
	FILE *f = fmemopen(out, sizeof(out) - 1, "w");
	config_print(&c, f);
	fclose(f);
	assert_non_null(strstr(out, "[collect]\nsysfs_root = /tmp/fake\n"));
	assert_non_null(strstr(out,
			       "[collector.adc]\ntype = file\nenabled = true\n"
			       "interval = 10000ms\nmeasurement = adc\ntags = \n"
			       "path = /sys/bus/iio/devices/iio:device0/in_voltage0_raw\n"
			       "scale = 0.00080500000000000005\noffset = -0.5\nfield = value\n"));
	assert_non_null(strstr(out, "[collector.meter]\ntype = exec\nenabled = true\n"
				    "interval = 60000ms\ntags = \n"
				    "command = /usr/bin/read-meter --port /dev/ttyUSB0\n"
				    "shell = false\ntimeout = 5000ms\n"));
	assert_non_null(strstr(out, "[collector.edge]\ntype = edge\nenabled = false\n"));
	config_cleanup(&c);
}

static void test_explicit_values(void **state)
{
	(void)state;
	struct edge_config c;
	int problems = load_text(&c, "[collector.hw]\n"
				     "type = file\n"
				     "measurement = board\n"
				     "field = celsius\n"
				     "path = /sys/class/hwmon/hwmon*/temp1_input\n"
				     "interval = 250ms\n"
				     "[collector.sh]\n"
				     "type = exec\n"
				     "command = echo x y=1 | tr x z\n"
				     "shell = yes\n"
				     "timeout = 100ms\n"
				     "interval = 200ms\n"
				     "[collector.hw]\n"
				     "enabled = off\n"
				     "[collector.myedge]\n"
				     "type = edge\n"
				     "measurement = edge2\n");
	assert_int_equal(problems, 0);
	const struct collect_config *k = find(&c, "hw");
	assert_non_null(k);
	assert_string_equal(k->measurement, "board");
	assert_string_equal(k->field, "celsius");
	assert_int_equal(k->interval_ms, 250);
	assert_false(k->enabled); /* a repeated section adds to the first */
	k = find(&c, "sh");
	assert_non_null(k);
	assert_true(k->shell);
	assert_int_equal(k->timeout_ms, 100);
	k = find(&c, "myedge");
	assert_non_null(k);
	assert_int_equal(k->type, COLLECT_EDGE);
	assert_string_equal(k->measurement, "edge2");
	assert_int_equal(c.collectors.n, 4); /* edge, hw, sh, myedge */
	config_cleanup(&c);
}

static void test_misuse_names_file_and_line(void **state)
{
	(void)state;
	struct edge_config c;
	int problems = load_text(&c, "[collector.cpu_temp]\n" /* 1 */
				     "intervall = 5s\n"	      /* 2 */
				     "path = /x\n"	      /* 3 */
				     "[collector.f]\n"	      /* 4 */
				     "type = file\n"	      /* 5 */
				     "scale = abc\n"	      /* 6 */
				     "[collector.x]\n"	      /* 7 */
				     "type = exec\n"	      /* 8 */
				     "shell = maybe\n"	      /* 9 */
				     "measurement = m\n"      /* 10 */
				     "[collector.t]\n"	      /* 11 */
				     "type = w1\n"	      /* 12 */
				     "tags = a=1,a=2\n"	      /* 13 */
				     "interval = 50ms\n"      /* 14 */
				     "[collector.nameless]\n" /* 15 */
				     "interval = 1s\n"	      /* 16 */
				     "[collector.slow]\n"     /* 17 */
				     "type = exec\n"	      /* 18 */
				     "command = sleep 1\n"    /* 19 */
				     "interval = 1s\n"	      /* 20 */
				     "timeout = 1s\n"	      /* 21 */
				     "[collector.k]\n"	      /* 22 */
				     "type = thermometer\n"   /* 23 */
				     "[collector.e]\n"	      /* 24 */
				     "type = exec\n"	      /* 25 */
				     "command =\n"	      /* 26 */
				     "interval = 10\n");      /* 27 */
	assert_error(2, "[collector.cpu_temp] intervall: \"5s\": unknown key");
	assert_error(3, "[collector.cpu_temp] path: not a key of type cpu_temp");
	assert_error(6, "[collector.f] scale: \"abc\": must be a finite number");
	assert_error(5, "[collector.f] path: missing: a file collector needs a path");
	assert_error(9, "[collector.x] shell: \"maybe\": must be true or false");
	assert_error(10, "[collector.x] measurement: not a key of type exec");
	assert_error(8, "[collector.x] command: missing: an exec collector needs a command");
	assert_error(13, "[collector.t] tags: \"a=1,a=2\": ");
	assert_error(14, "[collector.t] interval: \"50ms\": 50ms is out of range 100..");
	assert_error(16, "[collector.nameless] type: missing");
	assert_error(21, "[collector.slow] timeout: 1000ms must be below the interval (1000ms)");
	assert_error(23, "[collector.k] type: \"thermometer\": must be one of");
	assert_error(23, "[collector.k] type: missing");
	assert_error(26, "[collector.e] command: \"\": must not be empty");
	assert_error(25, "[collector.e] command: missing");
	/* the first key's line stands for the section (inih does not give its own) */
	assert_int_equal(problems, 15);
	config_cleanup(&c);
}

static void test_default_timeout_against_short_interval(void **state)
{
	(void)state;
	struct edge_config c;
	/* timeout defaults to 5 s: an interval of 2 s needs a shorter one */
	int problems = load_text(&c, "[collector.q]\ntype = exec\ncommand = true\ninterval = 2s\n");
	assert_int_equal(problems, 1);
	assert_error(4, "[collector.q] timeout: 5000ms must be below the interval (2000ms)");
	config_cleanup(&c);
}

/* The exec key env: NAME=value or NAME, comma-separated; never IOT_EDGE_*. */
static void test_exec_env_key(void **state)
{
	(void)state;
	struct edge_config c;
	int problems = load_text(&c, "[collector.ok]\n"			/* 1 */
				     "type = exec\n"			/* 2 */
				     "command = env\n"			/* 3 */
				     "env = A=1, B_2 ,C=x y\n"		/* 4 */
				     "[collector.sec]\n"		/* 5 */
				     "type = exec\n"			/* 6 */
				     "command = env\n"			/* 7 */
				     "env = A=1, IOT_EDGE_HTTP_TOKEN\n" /* 8 */
				     "[collector.bad]\n"		/* 9 */
				     "type = exec\n"			/* 10 */
				     "command = env\n"			/* 11 */
				     "env = 9LIVES=1\n"			/* 12 */
				     "[collector.cpu_temp]\n"		/* 13 */
				     "env = A=1\n");			/* 14 */
	assert_error(8, "[collector.sec] env: \"A=1, IOT_EDGE_HTTP_TOKEN\": IOT_EDGE_HTTP_TOKEN: "
			"IOT_EDGE_* variables are never passed to a collector");
	assert_error(12, "[collector.bad] env: \"9LIVES=1\": \"9LIVES\" is not a variable name");
	assert_error(14, "[collector.cpu_temp] env: not a key of type cpu_temp");
	assert_int_equal(problems, 3);
	assert_string_equal(find(&c, "ok")->env, "A=1, B_2 ,C=x y");
	config_cleanup(&c);
}

static void test_environment(void **state)
{
	(void)state;
	struct edge_config c;
	assert_int_equal(load_text(&c, "[collector.cpu_temp]\ninterval = 5s\n"), 0);
	setenv("IOT_EDGE_COLLECTOR_EDGE_ENABLED", "false", 1);
	setenv("IOT_EDGE_COLLECTOR_CPU_TEMP_INTERVAL", "2s", 1);
	setenv("IOT_EDGE_COLLECT_SYSFS_ROOT", "/tmp/fake", 1);
	setenv("IOT_EDGE_COLLECTOR_X_BOGUS", "1", 1);
	setenv("IOT_EDGE_COLLECTOR_Y_INTERVAL", "1s", 1);
	setenv("IOT_EDGE_COLLECTOR_NOKEY", "1", 1);

	memset(errors, 0, sizeof(errors));
	FILE *err = fmemopen(errors, sizeof(errors) - 1, "w");
	int problems = config_load_env(&c, err);
	fclose(err);
	unsetenv("IOT_EDGE_COLLECTOR_EDGE_ENABLED");
	unsetenv("IOT_EDGE_COLLECTOR_CPU_TEMP_INTERVAL");
	unsetenv("IOT_EDGE_COLLECT_SYSFS_ROOT");
	unsetenv("IOT_EDGE_COLLECTOR_X_BOGUS");
	unsetenv("IOT_EDGE_COLLECTOR_Y_INTERVAL");
	unsetenv("IOT_EDGE_COLLECTOR_NOKEY");

	assert_non_null(
	    strstr(errors, "environment: IOT_EDGE_COLLECTOR_X_BOGUS: \"1\": unknown key\n"));
	assert_non_null(strstr(errors, "environment: [collector.y] type: missing"));
	assert_non_null(strstr(errors, "environment: IOT_EDGE_COLLECTOR_NOKEY: unknown setting\n"));
	assert_int_equal(problems, 3);
	assert_false(find(&c, "edge")->enabled);
	assert_int_equal(find(&c, "cpu_temp")->interval_ms, 2000);
	assert_int_equal(find(&c, "cpu_temp")->type, COLLECT_CPU_TEMP);
	assert_string_equal(c.collect_sysfs_root, "/tmp/fake");
	config_cleanup(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_edge_only),
	    cmocka_unit_test(test_every_type_with_defaults),
	    cmocka_unit_test(test_explicit_values),
	    cmocka_unit_test(test_misuse_names_file_and_line),
	    cmocka_unit_test(test_default_timeout_against_short_interval),
	    cmocka_unit_test(test_exec_env_key),
	    cmocka_unit_test(test_environment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
