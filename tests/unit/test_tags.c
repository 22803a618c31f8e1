/* test_tags.c -- unit tests: tags added to every point (point_tags_add) and the [tags] / [edge]
 * settings (tags_config.c). */
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
#include "point.h"
#include "tags_config.h"

/* point_tags_add(text, tags) appends exactly `want` after "old\n". */
static void expect_added(const char *text, const char *tags, const char *want)
{
	struct lineproto_buf b;

	lineproto_buf_init(&b, 1 << 16);
	assert_int_equal(lineproto_buf_append(&b, "old\n", 4), LINEPROTO_OK);
	assert_int_equal(point_tags_add(text, strlen(text), tags, &b), LINEPROTO_OK);
	assert_string_equal(b.data + 4, want);
	lineproto_buf_free(&b);
}

static void test_added_sorted_own_value_kept(void **state)
{
	(void)state;
	/* The seed format's point, tagged: the tags sorted in among `type`. */
	expect_added(
	    "data,type=temp sensor_id=3,value=21.5 1796601600000000000\n", "site=barn,zone=z1",
	    "data,site=barn,type=temp,zone=z1 sensor_id=3,value=21.5 1796601600000000000\n");
	/* A point with that tag keeps its own value (Telegraf's global_tags). */
	expect_added("m,site=own v=1i 1\nm v=2 2\n", "site=barn",
		     "m,site=own v=1i 1\nm,site=barn v=2 2\n");
	/* Escaped keys compare unescaped; values are escaped on the way in. */
	expect_added("m,a\\ b=1 v=1 1\n", "a b=2,room=a b,c=x", "m,a\\ b=1,c=x,room=a\\ b v=1 1\n");
	/* Unsigned, strings and booleans go through unchanged. */
	expect_added("m u=12u,s=\"a,b c=\\\"d\\\"\",b=true 5\n", "t=1",
		     "m,t=1 u=12u,s=\"a,b c=\\\"d\\\"\",b=true 5\n");
	/* No tags: the text as it was. */
	expect_added("m v=1 1\n", "", "m v=1 1\n");
}

static void test_added_refused(void **state)
{
	struct lineproto_buf b;

	(void)state;
	lineproto_buf_init(&b, 1 << 16);
	assert_int_equal(lineproto_buf_append(&b, "old\n", 4), LINEPROTO_OK);
	/* Not a list point_tags_check() takes, text that is not lines. */
	assert_int_equal(point_tags_add("m v=1 1\n", 8, "a=1,a=2", &b), LINEPROTO_EINVAL);
	assert_int_equal(point_tags_add("m v=1 1", 7, "a=1", &b), LINEPROTO_EINVAL);
	assert_int_equal(point_tags_add("m v=1 1\nm v 2\n", 14, "a=1", &b), LINEPROTO_EINVAL);
	assert_string_equal(b.data, "old\n");
	lineproto_buf_free(&b);
	/* Past the buffer's cap: unchanged too. */
	lineproto_buf_init(&b, 12);
	assert_int_equal(lineproto_buf_append(&b, "old\n", 4), LINEPROTO_OK);
	assert_int_equal(point_tags_add("m v=1 1\n", 8, "a=1", &b), LINEPROTO_ETOOBIG);
	assert_string_equal(b.data, "old\n");
	lineproto_buf_free(&b);
}

static char errors[4096];

/* Load `text` as a file, then the environment, then finish; returns the
 * problem count, messages in `errors`. */
static int load_text(struct edge_config *c, const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/test_tags.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	memset(errors, 0, sizeof(errors));
	FILE *err = fmemopen(errors, sizeof(errors) - 1, "w");
	assert_non_null(err);
	config_init(c);
	int problems = config_load_file(c, path, err);
	problems += config_load_env(c, err);
	if (problems == 0)
		problems += tags_config_finish(c, err);
	fclose(err);
	unlink(path);
	return problems;
}

static void test_tags_section(void **state)
{
	struct edge_config c;
	char host[256] = "";

	(void)state;
	setenv("IOT_EDGE_TAGS_ZONE", "z2", 1);
	assert_int_equal(load_text(&c, "[tags]\nsite = barn\nzone = z1\nroom = a b\nsite = shed\n"),
			 0);
	/* A key set again takes the new value; the environment overrides the file. */
	assert_string_equal(c.global_tags, "room=a b,site=shed,zone=z2");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_string_equal(c.edge_name, host);
	assert_string_equal(c.edge_tag, "host");
	char *all = tags_config_collect(&c);
	assert_non_null(all);
	char want[400];
	snprintf(want, sizeof(want), "host=%s,room=a b,site=shed,zone=z2", host);
	assert_string_equal(all, want);
	free(all);
	unsetenv("IOT_EDGE_TAGS_ZONE");
	config_cleanup(&c);

	/* Bad keys and values are named with their line. */
	assert_int_equal(load_text(&c, "[tags]\nsite = a\\b\ntime = 1\nx = a,b\n"), 3);
	assert_non_null(strstr(errors, ":2: [tags] site: \"a\\b\": a tag holds a backslash"));
	assert_non_null(strstr(errors, ":3: [tags] time: \"1\": tag key \"time\" is not allowed"));
	assert_non_null(strstr(errors, ":4: [tags] x: \"a,b\": a tag key or value of [tags] may"));
	assert_null(c.global_tags);
	config_cleanup(&c);
}

static void test_edge_name(void **state)
{
	struct edge_config c;

	(void)state;
	assert_int_equal(load_text(&c, "[edge]\nname = pi-7\ntag = edge\n[tags]\nhost = x\n"), 0);
	char *all = tags_config_collect(&c);
	assert_string_equal(all, "edge=pi-7,host=x");
	free(all);
	config_cleanup(&c);

	setenv("IOT_EDGE_EDGE_NAME", "pi 8", 1);
	assert_int_equal(load_text(&c, "[edge]\nname = pi-7\n"), 0);
	assert_string_equal(c.edge_name, "pi 8");
	unsetenv("IOT_EDGE_EDGE_NAME");
	config_cleanup(&c);

	/* The name's key may not be a [tags] key too; a name must be a tag value. */
	assert_int_equal(load_text(&c, "[edge]\nname = pi-7\n[tags]\nhost = x\n"), 1);
	assert_non_null(strstr(errors, "[tags] host: the edge's name is written under this key"));
	config_cleanup(&c);
	assert_int_equal(load_text(&c, "[edge]\nname = pi\\7\n"), 1);
	assert_non_null(strstr(errors, "[edge] name \"pi\\7\" / tag \"host\": a tag holds a"));
	config_cleanup(&c);
	assert_int_equal(load_text(&c, "[edge]\nname = a=b\n"), 1);
	assert_non_null(strstr(errors, "may not hold ',' or '='"));
	config_cleanup(&c);
	assert_int_equal(load_text(&c, "[edge]\ntag =\n"), 1);
	assert_non_null(strstr(errors, "empty tag key"));
	config_cleanup(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_added_sorted_own_value_kept),
	    cmocka_unit_test(test_added_refused),
	    cmocka_unit_test(test_tags_section),
	    cmocka_unit_test(test_edge_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
