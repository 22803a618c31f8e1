/* test_mqtt_wire.c -- the MQTT 3.1.1 codec: encoders byte for byte, the decoder's length checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt_wire.h"

static void test_connect_bytes(void **state)
{
	(void)state;
	uint8_t out[64];
	struct mqtt_connect c = {.client_id = "ab",
				 .username = "u",
				 .password = "pw",
				 .keepalive_s = 60,
				 .clean_session = false};
	static const uint8_t want[] = {0x10, 21, 0,   4,   'M', 'Q', 'T', 'T', 4, 0xc0, 0,  60,
				       0,    2,	 'a', 'b', 0,	1,   'u', 0,   2, 'p',	'w'};
	int n = mqtt_wire_connect(out, sizeof(out), &c);

	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	/* no username: no password either, clean session flag */
	c.username = "";
	c.clean_session = true;
	n = mqtt_wire_connect(out, sizeof(out), &c);
	assert_int_equal(n, 16);
	assert_int_equal(out[9], 0x02);
	/* too small a buffer */
	assert_int_equal(mqtt_wire_connect(out, 10, &c), MQTT_WIRE_ETOOBIG);
}

static void test_subscribe_ack_simple(void **state)
{
	(void)state;
	uint8_t out[64];
	const char *filters[] = {"a/+", "#"};
	static const uint8_t want[] = {0x82, 12, 0, 7, 0, 3, 'a', '/', '+', 1, 0, 1, '#', 1};

	assert_int_equal(mqtt_wire_subscribe(out, sizeof(out), 7, filters, 2, 1), sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(mqtt_wire_subscribe(out, sizeof(out), 7, filters, 0, 1), MQTT_WIRE_EBAD);
	assert_int_equal(mqtt_wire_subscribe(out, sizeof(out), 7, filters, 2, 3), MQTT_WIRE_EBAD);
	assert_int_equal(mqtt_wire_ack(out, sizeof(out), MQTT_PUBACK, 0x1234), 4);
	assert_memory_equal(out, ((uint8_t[]){0x40, 2, 0x12, 0x34}), 4);
	assert_int_equal(mqtt_wire_ack(out, sizeof(out), MQTT_PUBREC, 1), 4);
	assert_int_equal(out[0], 0x50);
	assert_int_equal(mqtt_wire_ack(out, 3, MQTT_PUBACK, 1), MQTT_WIRE_ETOOBIG);
	assert_int_equal(mqtt_wire_simple(out, sizeof(out), MQTT_PINGREQ), 2);
	assert_memory_equal(out, ((uint8_t[]){0xc0, 0}), 2);
	assert_int_equal(mqtt_wire_simple(out, sizeof(out), MQTT_DISCONNECT), 2);
	assert_memory_equal(out, ((uint8_t[]){0xe0, 0}), 2);
	assert_int_equal(mqtt_wire_simple(out, sizeof(out), MQTT_PUBLISH), MQTT_WIRE_EBAD);
}

static void test_header_varint(void **state)
{
	(void)state;
	unsigned type;
	size_t rem, hl;
	const char *why = NULL;

	assert_int_equal(mqtt_wire_header((uint8_t[]){0x30}, 1, &type, &rem, &hl, &why),
			 MQTT_WIRE_MORE);
	assert_int_equal(mqtt_wire_header((uint8_t[]){0x30, 0x80}, 2, &type, &rem, &hl, &why),
			 MQTT_WIRE_MORE);
	assert_int_equal(
	    mqtt_wire_header((uint8_t[]){0x30, 0xff, 0xff, 0xff, 0x7f}, 5, &type, &rem, &hl, &why),
	    MQTT_WIRE_OK);
	assert_int_equal(rem, MQTT_WIRE_REMAINING_MAX);
	assert_int_equal(hl, 5);
	assert_int_equal(type, MQTT_PUBLISH);
	/* a fifth varint byte is malformed, even before it arrives */
	assert_int_equal(
	    mqtt_wire_header((uint8_t[]){0x30, 0xff, 0xff, 0xff, 0xff}, 5, &type, &rem, &hl, &why),
	    MQTT_WIRE_EBAD);
	assert_string_equal(why, "remaining length longer than 4 bytes");
	assert_int_equal(mqtt_wire_header((uint8_t[]){0x30, 0xc1, 0x02}, 3, &type, &rem, &hl, &why),
			 MQTT_WIRE_OK);
	assert_int_equal(rem, 321);
}

static void test_decode_publish(void **state)
{
	(void)state;
	struct mqtt_packet p;
	const char *why = NULL;
	/* QoS 1, topic "a/b", id 5, payload "21.5" */
	static const uint8_t pub[] = {0x32, 11, 0, 3, 'a', '/', 'b', 0, 5, '2', '1', '.', '5'};
	static const uint8_t pub0[] = {0x30, 5, 0, 1, 't', 'h', 'i'};

	assert_int_equal(mqtt_wire_decode(pub, sizeof(pub), 1024, &p, &why), MQTT_WIRE_OK);
	assert_int_equal(p.type, MQTT_PUBLISH);
	assert_int_equal(p.size, sizeof(pub));
	assert_int_equal(p.qos, 1);
	assert_int_equal(p.packet_id, 5);
	assert_int_equal(p.topic_len, 3);
	assert_memory_equal(p.topic, "a/b", 3);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "21.5", 4);
	/* every shorter prefix is incomplete, never an error */
	for (size_t n = 0; n < sizeof(pub); n++)
		assert_int_equal(mqtt_wire_decode(pub, n, 1024, &p, &why), MQTT_WIRE_MORE);
	/* QoS 0 has no packet id */
	assert_int_equal(mqtt_wire_decode(pub0, sizeof(pub0), 1024, &p, &why), MQTT_WIRE_OK);
	assert_int_equal(p.qos, 0);
	assert_int_equal(p.payload_len, 2);
	/* max_packet: too big, but its head can still be read */
	assert_int_equal(mqtt_wire_decode(pub, sizeof(pub), 12, &p, &why), MQTT_WIRE_ETOOBIG);
	assert_int_equal(p.size, 13);
	assert_int_equal(mqtt_wire_publish_head(pub + 2, sizeof(pub) - 2, pub[0] & 15, &p, &why),
			 MQTT_WIRE_OK);
	assert_int_equal(p.packet_id, 5);
	/* a topic longer than the packet */
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x30, 3, 0, 9, 'a'}, 5, 1024, &p, &why),
			 MQTT_WIRE_EBAD);
	/* QoS 3, packet id 0 */
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x36, 5, 0, 1, 'a', 0, 1}, 7, 1024, &p, &why),
			 MQTT_WIRE_EBAD);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x32, 5, 0, 1, 'a', 0, 0}, 7, 1024, &p, &why),
			 MQTT_WIRE_EBAD);
	assert_string_equal(why, "PUBLISH with packet id 0");
}

static void test_decode_others(void **state)
{
	(void)state;
	struct mqtt_packet p;
	const char *why = NULL;

	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x20, 2, 1, 0}, 4, 64, &p, &why),
			 MQTT_WIRE_OK);
	assert_true(p.session_present);
	assert_int_equal(p.return_code, 0);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x20, 2, 2, 0}, 4, 64, &p, &why),
			 MQTT_WIRE_EBAD);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x20, 3, 0, 0, 0}, 5, 64, &p, &why),
			 MQTT_WIRE_EBAD);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x90, 4, 0, 1, 1, 0x80}, 6, 64, &p, &why),
			 MQTT_WIRE_OK);
	assert_int_equal(p.n_codes, 2);
	assert_int_equal(p.codes[1], 0x80);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x90, 3, 0, 1, 7}, 5, 64, &p, &why),
			 MQTT_WIRE_EBAD);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x90, 2, 0, 1}, 4, 64, &p, &why),
			 MQTT_WIRE_EBAD);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0xd0, 0}, 2, 64, &p, &why), MQTT_WIRE_OK);
	assert_int_equal(p.type, MQTT_PINGRESP);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0xd1, 0}, 2, 64, &p, &why), MQTT_WIRE_EBAD);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x62, 2, 0, 9}, 4, 64, &p, &why),
			 MQTT_WIRE_OK);
	assert_int_equal(p.type, MQTT_PUBREL);
	assert_int_equal(p.packet_id, 9);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x60, 2, 0, 9}, 4, 64, &p, &why),
			 MQTT_WIRE_EBAD);
	/* a client never receives CONNECT or SUBSCRIBE */
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x10, 0}, 2, 64, &p, &why), MQTT_WIRE_EBAD);
	assert_int_equal(mqtt_wire_decode((uint8_t[]){0x82, 0}, 2, 64, &p, &why), MQTT_WIRE_EBAD);
	assert_string_equal(mqtt_wire_connack_text(5), "not authorized");
	assert_string_equal(mqtt_wire_connack_text(99), "unknown return code");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connect_bytes), cmocka_unit_test(test_subscribe_ack_simple),
	    cmocka_unit_test(test_header_varint), cmocka_unit_test(test_decode_publish),
	    cmocka_unit_test(test_decode_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
