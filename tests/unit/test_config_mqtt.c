/* test_config_mqtt.c -- the [mqtt.NAME] sections set by IOT_EDGE_MQTT_<NAME>_<KEY> environment
 * variables: keys with '_', names with '_', new sections, misuse named. */
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

static const struct mqtt_config *find(const struct edge_config *c, const char *name)
{
	for (size_t i = 0; i < c->mqtt.n; i++) {
		if (strcmp(c->mqtt.items[i].name, name) == 0)
			return &c->mqtt.items[i];
	}
	return NULL;
}

static int load(struct edge_config *c, const char *text, const char *const *env)
{
	char path[64] = "/tmp/test_config_mqtt.XXXXXX";
	int fd = mkstemp(path);
	size_t len = strlen(text);
	FILE *err;
	int problems;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	memset(errors, 0, sizeof(errors));
	err = fmemopen(errors, sizeof(errors) - 1, "w");
	assert_non_null(err);
	config_init(c);
	problems = config_load_file(c, path, err);
	for (size_t i = 0; env[i]; i += 2)
		assert_int_equal(setenv(env[i], env[i + 1], 1), 0);
	problems += config_load_env(c, err);
	for (size_t i = 0; env[i]; i += 2)
		unsetenv(env[i]);
	fclose(err);
	unlink(path);
	return problems;
}

static void test_env_sets_keys(void **state)
{
	static const char *const env[] = {
	    "IOT_EDGE_MQTT_LAN_CLIENT_ID",
	    "edge-1",
	    "IOT_EDGE_MQTT_LAN_MAX_PACKET",
	    "8KiB",
	    "IOT_EDGE_MQTT_LAN_USERNAME",
	    "u",
	    "IOT_EDGE_MQTT_LAN_PASSWORD",
	    "s3cret",
	    "IOT_EDGE_MQTT_SHOP_FLOOR_URL",
	    "mqtts://127.0.0.1:8883",
	    "IOT_EDGE_MQTT_SHOP_FLOOR_TOPICS",
	    "tele/+/SENSOR, shellies/#",
	    "IOT_EDGE_MQTT_SHOP_FLOOR_INSECURE_SKIP_VERIFY",
	    "true",
	    "IOT_EDGE_MQTT_SHOP_FLOOR_RECONNECT_MAX",
	    "1m",
	    NULL,
	};
	struct edge_config c;
	const struct mqtt_config *lan, *shop;

	(void)state;
	assert_int_equal(load(&c, "[mqtt.lan]\nurl = mqtt://127.0.0.1\ntopics = a/#\n", env), 0);
	assert_string_equal(errors, "");
	lan = find(&c, "lan");
	shop = find(&c, "shop_floor");
	assert_non_null(lan);
	assert_non_null(shop);
	assert_string_equal(lan->url, "mqtt://127.0.0.1"); /* the file's */
	assert_string_equal(lan->client_id, "edge-1");
	assert_int_equal(lan->max_packet, 8192);
	assert_string_equal(lan->password, "s3cret");
	assert_string_equal(shop->url, "mqtts://127.0.0.1:8883");
	assert_string_equal(shop->topics, "tele/+/SENSOR,shellies/#");
	assert_true(shop->insecure_skip_verify);
	assert_int_equal(shop->reconnect_max_ms, 60000);
	assert_int_equal(shop->qos, 1); /* the default */
	assert_non_null(strstr(shop->client_id, "-shop_floor"));
	config_cleanup(&c);
}

static void test_env_misuse(void **state)
{
	static const char *const env[] = {
	    "IOT_EDGE_MQTT_X_BOGUS",	  "1",	      /* no such key */
	    "IOT_EDGE_MQTT_URL",	  "mqtt://h", /* no NAME */
	    "IOT_EDGE_MQTT_LAN_QOS",	  "3",	      /* a bad value */
	    "IOT_EDGE_MQTT_LAN_PASSWORD", "s3cret",   /* needs a username */
	    "IOT_EDGE_MQTT_NEW_URL",	  "http://h", /* checked like a file's */
	    "IOT_EDGE_MQTT_NEW_TOPICS",	  "a/#",      NULL,
	};
	struct edge_config c;

	(void)state;
	/* the file's own problem is reported once, with its section's first line */
	assert_int_equal(load(&c,
			      "[mqtt.lan]\nurl = mqtt://127.0.0.1\ntopics = a/#\n"
			      "[mqtt.file]\nurl = mqtt://h\ntopics = a#\n",
			      env),
			 6);
	assert_non_null(strstr(errors, "environment: IOT_EDGE_MQTT_X_BOGUS: unknown setting\n"));
	assert_non_null(strstr(errors, "environment: IOT_EDGE_MQTT_URL: unknown setting\n"));
	assert_non_null(strstr(errors, "environment: IOT_EDGE_MQTT_LAN_QOS: \"3\": "));
	assert_non_null(strstr(errors, "environment: [mqtt.lan] password: MQTT 3.1.1 sends a "
				       "password only with a username\n"));
	assert_null(strstr(errors, "s3cret"));
	assert_non_null(strstr(errors, "environment: [mqtt.new] url: must be mqtt://"));
	assert_non_null(strstr(errors, ":5: [mqtt.file] topics: '#' must be"));
	assert_null(strstr(errors, "environment: [mqtt.file]"));
	config_cleanup(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env_sets_keys),
	    cmocka_unit_test(test_env_misuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
