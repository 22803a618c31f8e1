/* test_mqtt_payload.c -- MQTT messages -> points: topic filters and templates, each payload form
 * (Zigbee2MQTT, Tasmota, POST /data JSON, line protocol, a bare number), refusals; the
 * [mqtt.NAME] config checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "mqtt_payload.h"

#define RECEIPT 1700000000000000000LL

static const struct mqtt_payload_options base = {
    .format = MQTT_FORMAT_AUTO,
    .template_ = "",
    .measurement = "",
    .tags = "",
    .time_key = "",
    .string_fields = "",
    .field = "value",
};

/* The points of one message, or "ERROR: why". */
static const char *convert(const struct mqtt_payload_options *o, const char *topic,
			   const char *payload)
{
	static char result[2048];
	struct lineproto_buf out;
	char why[256];
	size_t bad = 0;
	int n;

	lineproto_buf_init(&out, 1 << 20);
	n = mqtt_payload_points(o, topic, strlen(topic), payload, strlen(payload), RECEIPT, &out,
				&bad, why, sizeof(why));
	if (n < 0) {
		assert_int_equal(out.len, 0);
		snprintf(result, sizeof(result), "ERROR: %s", why);
	} else {
		snprintf(result, sizeof(result), "%s", out.data);
	}
	lineproto_buf_free(&out);
	return result;
}

static void test_topic_match(void **state)
{
	(void)state;
	assert_true(mqtt_topic_match("a/+/c", "a/b/c", 5));
	assert_false(mqtt_topic_match("a/+/c", "a/b/d", 5));
	assert_true(mqtt_topic_match("a/#", "a", 1));
	assert_true(mqtt_topic_match("a/#", "a/b/c", 5));
	assert_true(mqtt_topic_match("#", "x/y", 3));
	assert_false(mqtt_topic_match("#", "$SYS/x", 6));
	assert_false(mqtt_topic_match("a/+", "a", 1));
	assert_true(mqtt_topic_match("a/+", "a/", 2));
	assert_false(mqtt_topic_match("a/b", "a/b/c", 5));
	assert_false(mqtt_topic_match("a/b/c", "a/b", 3));
	assert_true(mqtt_topic_match("zigbee2mqtt/+device", "zigbee2mqtt/kitchen", 19));
}

static void test_zigbee2mqtt(void **state)
{
	(void)state;
	struct mqtt_payload_options o = base;

	o.template_ = "zigbee2mqtt/+device";
	o.tags = "site=home";
	assert_string_equal(
	    convert(&o, "zigbee2mqtt/kitchen",
		    "{\"temperature\":21.5,\"humidity\":40,\"battery\":97,\"linkquality\":120,"
		    "\"state\":\"ON\",\"contact\":true,\"update\":{\"state\":\"idle\"}}"),
	    "zigbee2mqtt,device=kitchen,site=home temperature=21.5,humidity=40,battery=97,"
	    "linkquality=120,contact=true 1700000000000000000\n");
	/* listed strings are kept */
	o.string_fields = "state, update_state";
	assert_string_equal(convert(&o, "zigbee2mqtt/k",
				    "{\"t\":1,\"state\":\"ON\",\"update\":{"
				    "\"state\":\"idle\"}}"),
			    "zigbee2mqtt,device=k,site=home t=1,state=\"ON\",update_state=\"idle\" "
			    "1700000000000000000\n");
	assert_string_equal(convert(&o, "other/kitchen", "{\"t\":1}"),
			    "ERROR: topic does not match the template zigbee2mqtt/+device");
	o.string_fields = "";
	assert_string_equal(convert(&o, "zigbee2mqtt/k", "{\"state\":\"ON\"}"),
			    "ERROR: no number or boolean in the object");
}

static void test_tasmota(void **state)
{
	(void)state;
	struct mqtt_payload_options o = base;
	const char *msg = "{\"Time\":\"2026-12-07T01:02:03Z\",\"AM2301\":{\"Temperature\":21.3,"
			  "\"Humidity\":40.1},\"TempUnit\":\"C\"}";

	o.template_ = "tele/+device/SENSOR";
	o.measurement = "tasmota";
	assert_string_equal(convert(&o, "tele/plug1/SENSOR", msg),
			    "tasmota,device=plug1 AM2301_Temperature=21.3,AM2301_Humidity=40.1 "
			    "1700000000000000000\n");
	o.time_key = "Time";
	assert_string_equal(convert(&o, "tele/plug1/SENSOR", msg),
			    "tasmota,device=plug1 AM2301_Temperature=21.3,AM2301_Humidity=40.1 "
			    "1796605323000000000\n");
	/* Tasmota's default Time has no offset: refused, not guessed */
	assert_string_equal(
	    convert(&o, "tele/plug1/SENSOR", "{\"Time\":\"2026-12-07T01:02:03\",\"A\":{\"T\":1}}"),
	    "ERROR: time key \"Time\": ends early: expected 'Z' or an offset such as +01:00 at "
	    "byte 19");
	/* a number of seconds */
	assert_string_equal(convert(&o, "tele/p/SENSOR", "{\"Time\":1700000001.5,\"T\":2}"),
			    "tasmota,device=p T=2 1700000001500000000\n");
}

static void test_other_forms(void **state)
{
	(void)state;
	struct mqtt_payload_options o = base;

	assert_string_equal(convert(&o, "sensors/garage", " 23.5\n"),
			    "sensors,topic=sensors/garage value=23.5 1700000000000000000\n");
	assert_string_equal(convert(&o, "s/a", "env,room=x t=1 5\nenv t=2"),
			    "env,room=x t=1 5\nenv t=2 1700000000000000000\n");
	assert_string_equal(
	    convert(&o, "s/a",
		    "{\"measurement\":\"m\",\"tags\":{\"r\":\"k\"},\"fields\":{\"v\":1}}"),
	    "m,r=k v=1 1700000000000000000\n");
	assert_string_equal(
	    convert(&o, "s/a", "{\"ts\":\"2017-03-11T15:00:53Z\",\"type\":\"temp\",\"value\":34}"),
	    "data,type=temp value=34 1489244453000000000\n");
	o.tags = "site=home";
	assert_string_equal(convert(&o, "s/a", "env t=1 5"), "env,site=home t=1 5\n");
	o.format = MQTT_FORMAT_VALUE;
	o.field = "celsius";
	assert_string_equal(convert(&o, "s/a", "7"),
			    "s,site=home,topic=s/a celsius=7 1700000000000000000\n");
	assert_string_equal(convert(&o, "s/a", "nan"), "ERROR: not a number");
	assert_string_equal(convert(&o, "s/a", "0x10"), "ERROR: not a number");
}

static void test_refusals(void **state)
{
	(void)state;
	struct mqtt_payload_options o = base;

	assert_string_equal(convert(&o, "s/a", "{\"t\":1"), "ERROR: invalid JSON at byte 5");
	assert_string_equal(convert(&o, "s/a", "not line protocol"),
			    "ERROR: line 1: field \"line\" has no value (expected '=' at byte 8)");
	assert_string_equal(convert(&o, "s/a", "[1,2]"), "ERROR: element 0: must be an object");
	assert_string_equal(convert(&o, "s/a", ""), "ERROR: no points in the message");
	o.format = MQTT_FORMAT_JSON;
	assert_string_equal(convert(&o, "s/a", "23"),
			    "ERROR: JSON that is not an object, an array or a number");
}

static void test_config_sections(void **state)
{
	(void)state;
	struct edge_config c;
	char path[] = "/tmp/test_mqtt_payloadXXXXXX";
	char errors[2048] = "";
	FILE *f, *err = fmemopen(errors, sizeof(errors), "w");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("[mqtt.lan]\nurl = mqtt://127.0.0.1:1883\ntopics = zigbee2mqtt/+ , tele/#\n"
	      "template = zigbee2mqtt/+device\nqos = 2\n"
	      "[mqtt.bad]\nurl = ftp://x\ntopics = a/b#\nformat = xml\nqos = 3\n"
	      "password = secret\n",
	      f);
	fclose(f);
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, err), 5);
	fclose(err);
	assert_non_null(strstr(errors, ":10: [mqtt.bad] qos: \"3\": must be 0, 1 or 2"));
	assert_non_null(strstr(errors, "[mqtt.bad] url: must be mqtt://HOST[:PORT] or mqtts://"));
	assert_non_null(strstr(errors, "[mqtt.bad] topics: '#' must be a level of its own"));
	assert_non_null(strstr(errors, "[mqtt.bad] format: must be auto, line, json or value"));
	assert_non_null(strstr(errors, "[mqtt.bad] password: MQTT 3.1.1 sends a password only"));
	assert_null(strstr(errors, "secret"));
	assert_null(strstr(errors, "[mqtt.lan]"));
	assert_int_equal(c.mqtt.n, 2);
	assert_string_equal(c.mqtt.items[0].name, "lan");
	assert_int_equal(c.mqtt.items[0].qos, 2);
	assert_string_equal(c.mqtt.items[0].topics, "zigbee2mqtt/+,tele/#");
	assert_int_equal(c.mqtt.items[0].keepalive_ms, 60000);
	assert_int_equal(c.mqtt.items[0].max_packet, 256 * 1024);
	assert_non_null(strstr(c.mqtt.items[0].client_id, "iot-edge-"));
	assert_non_null(strstr(c.mqtt.items[0].client_id, "-lan"));
	config_cleanup(&c);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_topic_match), cmocka_unit_test(test_zigbee2mqtt),
	    cmocka_unit_test(test_tasmota),	cmocka_unit_test(test_other_forms),
	    cmocka_unit_test(test_refusals),	cmocka_unit_test(test_config_sections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
