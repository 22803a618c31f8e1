/* fuzz_mqtt_wire.c -- libFuzzer target: any bytes as a broker's stream, decoded packet by packet
 * (mqtt_wire_decode); every PUBLISH's payload turned into points (mqtt_payload_points). Checks
 * that whatever is decoded lies inside the input and that the acknowledgement encodes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"
#include "mqtt_payload.h"
#include "mqtt_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct mqtt_payload_options fuzz_options[2] = {
    {.format = MQTT_FORMAT_AUTO,
     .template_ = "",
     .measurement = "",
     .tags = "",
     .time_key = "",
     .string_fields = "",
     .field = "value"},
    {.format = MQTT_FORMAT_AUTO,
     .template_ = "+kind/+device/#",
     .measurement = "",
     .tags = "site=lab",
     .time_key = "Time",
     .string_fields = "state,a_b",
     .field = "v"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;
	size_t max_packet;

	if (size < 1)
		return 0;
	max_packet = 16 + (size_t)data[0] * 64; /* the first byte picks the limit */
	pos = 1;
	while (pos < size) {
		struct mqtt_packet p;
		const char *why = NULL;
		uint8_t ack[4];
		int rc = mqtt_wire_decode(data + pos, size - pos, max_packet, &p, &why);

		if (rc == MQTT_WIRE_MORE || rc == MQTT_WIRE_EBAD) {
			if (rc == MQTT_WIRE_EBAD && !why)
				abort();
			break;
		}
		if (p.size > max_packet && rc == MQTT_WIRE_OK)
			abort();
		if (rc == MQTT_WIRE_ETOOBIG) {
			/* the session reads the head of a too-big PUBLISH, then skips it */
			size_t hl = p.size - p.remaining;

			if (p.type == MQTT_PUBLISH && hl <= size - pos)
				(void)mqtt_wire_publish_head(data + pos + hl, size - pos - hl,
							     data[pos] & 15, &p, &why);
			break;
		}
		if (p.size > size - pos)
			abort();
		if (p.type == MQTT_PUBLISH) {
			const char *end = (const char *)data + pos + p.size;
			struct lineproto_buf out;
			char reason[256];
			size_t bad;

			if (p.topic + p.topic_len > end || p.payload + p.payload_len != end)
				abort();
			for (int i = 0; i < 2; i++) {
				lineproto_buf_init(&out, 1 << 20);
				int n = mqtt_payload_points(&fuzz_options[i], p.topic, p.topic_len,
							    p.payload, p.payload_len,
							    1700000000000000000LL, &out, &bad,
							    reason, sizeof(reason));
				if (n > 0 && (!out.data || out.data[out.len - 1] != '\n'))
					abort();
				if (n < 0 && out.len != 0)
					abort();
				lineproto_buf_free(&out);
			}
			if (p.qos && mqtt_wire_ack(ack, sizeof(ack), MQTT_PUBACK, p.packet_id) != 4)
				abort();
		}
		pos += p.size;
	}
	return 0;
}
