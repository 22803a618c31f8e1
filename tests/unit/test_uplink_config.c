/* test_uplink_config.c -- the [uplink.NAME] sections: keys and defaults of [uplink], names,
 * mixing with [uplink], -n output, reload differences. */
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

/* Load `text` as a file over the defaults, then the target checks; returns
 * the problem count, the messages in `errors`. */
static int load_text(struct edge_config *c, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/test_uplink_config.XXXXXX");
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
	if (problems == 0)
		problems = uplink_config_check(c, err);
	fclose(err);
	unlink(path);
	return problems;
}

static void test_two_targets(void **state)
{
	(void)state;
	struct edge_config c;

	assert_int_equal(load_text(&c, "[uplink.influx]\n"
				       "url = http://127.0.0.1:8086\n"
				       "database = iot\n"
				       "[uplink.vm]\n"
				       "api = v2\n"
				       "url = http://127.0.0.1:8428\n"
				       "bucket = iot\n"
				       "token = s3cret\n"
				       "batch_points = 100\n"),
			 0);
	assert_int_equal(c.uplinks.n, 2);
	assert_string_equal(c.uplinks.items[0].name, "influx");
	assert_string_equal(c.uplinks.items[1].name, "vm");
	assert_int_equal(c.uplinks.items[0].line, 2);
	assert_int_equal(c.uplinks.items[1].keys->uplink_api, CONFIG_API_V2);
	assert_string_equal(c.uplinks.items[1].keys->uplink_token, "s3cret");
	assert_int_equal(c.uplinks.items[1].keys->uplink_batch_points, 100);
	/* the defaults of [uplink] */
	assert_int_equal(c.uplinks.items[0].keys->uplink_batch_points, 5000);
	assert_int_equal(c.uplinks.items[0].keys->uplink_timeout_ms, 30000);
	/* [uplink] itself is untouched */
	assert_int_equal(c.uplink_batch_points, 5000);
	config_cleanup(&c);
}

static void test_bad_keys_and_names(void **state)
{
	(void)state;
	struct edge_config c;

	assert_int_equal(load_text(&c, "[uplink.a]\n"
				       "colour = red\n"
				       "[uplink.Bad Name]\n"
				       "url = http://x\n"
				       "[uplink.b]\n"
				       "url = ftp://x\n"
				       "token = hush\n"
				       "batch_points = 0\n"),
			 4);
	assert_non_null(strstr(errors, ":2: [uplink.a] colour: \"red\": unknown key"));
	assert_non_null(strstr(errors, ":4: [uplink.Bad Name] url: \"http://x\": the target name"));
	assert_non_null(strstr(errors, ":6: [uplink.b] url: \"ftp://x\": must start with http://"));
	assert_non_null(strstr(errors, ":8: [uplink.b] batch_points: \"0\":"));
	config_cleanup(&c);
	/* a v2 target without a bucket, found by the check */
	assert_int_equal(load_text(&c, "[uplink.v]\napi = v2\n"), 1);
	assert_non_null(strstr(errors, "[uplink.v] bucket: empty"));
	config_cleanup(&c);
}

static void test_no_mixing(void **state)
{
	(void)state;
	struct edge_config c;

	assert_int_equal(load_text(&c, "[uplink]\n"
				       "url = http://127.0.0.1:9999\n"
				       "[uplink.vm]\n"
				       "url = http://127.0.0.1:8428\n"),
			 1);
	assert_non_null(strstr(errors, "[uplink] url: set, but [uplink.NAME] sections exist"));
	config_cleanup(&c);
	/* [uplink] at its defaults beside [uplink.NAME] is fine; [uplink] alone too */
	assert_int_equal(load_text(&c, "[uplink]\nbatch_points = 5000\n[uplink.vm]\nurl = "
				       "http://127.0.0.1:8428\n"),
			 0);
	config_cleanup(&c);
	assert_int_equal(load_text(&c, "[uplink]\nurl = http://127.0.0.1:9999\n"), 0);
	assert_int_equal(c.uplinks.n, 0);
	config_cleanup(&c);
}

static void test_print_masks_secrets(void **state)
{
	(void)state;
	struct edge_config c;
	char out[16384] = {0};
	FILE *f = fmemopen(out, sizeof(out) - 1, "w");

	assert_non_null(f);
	assert_int_equal(load_text(&c, "[uplink.v]\napi = v2\nbucket = b\ntoken = hush\n"), 0);
	config_print(&c, f);
	fclose(f);
	assert_non_null(strstr(out, "\n[uplink.v]\napi = v2\n"));
	assert_non_null(strstr(out, "token = ***\n"));
	assert_null(strstr(out, "hush"));
	config_cleanup(&c);
}

static void note(void *arg, const char *name, const char *key)
{
	char *out = arg;
	size_t used = strlen(out);

	snprintf(out + used, 256 - used, "%s.%s;", name, key ? key : "*");
}

static void test_diff(void **state)
{
	(void)state;
	struct edge_config a, b;
	char out[256] = {0};

	assert_int_equal(load_text(&a, "[uplink.x]\nurl = http://a\n[uplink.y]\nurl = http://y\n"),
			 0);
	assert_int_equal(load_text(&b, "[uplink.x]\nurl = http://b\n[uplink.z]\nurl = http://z\n"),
			 0);
	assert_int_equal(uplink_config_diff(&a.uplinks, &b.uplinks, note, out), 3);
	assert_string_equal(out, "x.url;y.*;z.*;");
	config_cleanup(&a);
	config_cleanup(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_targets), cmocka_unit_test(test_bad_keys_and_names),
	    cmocka_unit_test(test_no_mixing),	cmocka_unit_test(test_print_masks_secrets),
	    cmocka_unit_test(test_diff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
