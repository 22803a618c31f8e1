/* mqtt_wire.c -- encoding and decoding the MQTT 3.1.1 packets of a subscriber, every length
 * checked against the buffer before it is read. */
#include "mqtt_wire.h"

#include <string.h>

int mqtt_wire_header(const uint8_t *buf, size_t len, unsigned *type, size_t *remaining,
		     size_t *header_len, const char **why)
{
	size_t value = 0;
	unsigned shift = 0;

	if (len < 2)
		return MQTT_WIRE_MORE;
	for (size_t i = 1;; i++) {
		if (i > 4) {
			*why = "remaining length longer than 4 bytes";
			return MQTT_WIRE_EBAD;
		}
		if (i >= len)
			return MQTT_WIRE_MORE;
		value |= (size_t)(buf[i] & 0x7f) << shift;
		shift += 7;
		if ((buf[i] & 0x80) == 0) {
			*type = buf[0] >> 4;
			*remaining = value;
			*header_len = i + 1;
			return MQTT_WIRE_OK;
		}
	}
}

static uint16_t wire_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

int mqtt_wire_publish_head(const uint8_t *body, size_t len, unsigned flags, struct mqtt_packet *out,
			   const char **why)
{
	size_t topic_len, need;

	out->qos = (flags >> 1) & 3;
	out->dup = (flags & 8) != 0;
	out->retain = (flags & 1) != 0;
	if (out->qos == 3) {
		*why = "PUBLISH with QoS 3";
		return MQTT_WIRE_EBAD;
	}
	if (len < 2)
		return MQTT_WIRE_MORE;
	topic_len = wire_u16(body);
	need = 2 + topic_len + (out->qos ? 2 : 0);
	if (len < need)
		return MQTT_WIRE_MORE;
	out->topic = (const char *)body + 2;
	out->topic_len = topic_len;
	out->packet_id = out->qos ? wire_u16(body + 2 + topic_len) : 0;
	if (out->qos && out->packet_id == 0) {
		*why = "PUBLISH with packet id 0";
		return MQTT_WIRE_EBAD;
	}
	return MQTT_WIRE_OK;
}

/* The flags each type must carry in the low nibble of byte 0 (PUBLISH: any). */
static int wire_flags_ok(unsigned type, unsigned flags)
{
	if (type == MQTT_PUBLISH)
		return 1;
	if (type == MQTT_PUBREL)
		return flags == 2;
	return flags == 0;
}

int mqtt_wire_decode(const uint8_t *buf, size_t len, size_t max_packet, struct mqtt_packet *out,
		     const char **why)
{
	unsigned type;
	size_t remaining, header_len;
	const uint8_t *body;
	int rc = mqtt_wire_header(buf, len, &type, &remaining, &header_len, why);

	if (rc != MQTT_WIRE_OK)
		return rc;
	memset(out, 0, sizeof(*out));
	out->type = (enum mqtt_type)type;
	out->remaining = remaining;
	out->size = header_len + remaining;
	if (out->size > max_packet)
		return MQTT_WIRE_ETOOBIG;
	if (len < out->size)
		return MQTT_WIRE_MORE;
	if (!wire_flags_ok(type, buf[0] & 0x0f)) {
		*why = "reserved flags set in the fixed header";
		return MQTT_WIRE_EBAD;
	}
	body = buf + header_len;
	switch (type) {
	case MQTT_CONNACK:
		if (remaining != 2 || (body[0] & 0xfe) != 0) {
			*why = "CONNACK of the wrong shape";
			return MQTT_WIRE_EBAD;
		}
		out->session_present = body[0] & 1;
		out->return_code = body[1];
		return MQTT_WIRE_OK;
	case MQTT_PUBLISH:
		rc = mqtt_wire_publish_head(body, remaining, buf[0] & 0x0f, out, why);
		if (rc == MQTT_WIRE_MORE) {
			*why = "PUBLISH shorter than its topic";
			return MQTT_WIRE_EBAD;
		}
		if (rc != MQTT_WIRE_OK)
			return rc;
		{
			size_t head = 2 + out->topic_len + (out->qos ? 2 : 0);

			out->payload = (const char *)body + head;
			out->payload_len = remaining - head;
		}
		return MQTT_WIRE_OK;
	case MQTT_PUBACK:
	case MQTT_PUBREL:
		if (remaining != 2) {
			*why = "acknowledgement of the wrong length";
			return MQTT_WIRE_EBAD;
		}
		out->packet_id = wire_u16(body);
		return MQTT_WIRE_OK;
	case MQTT_SUBACK:
		if (remaining < 3) {
			*why = "SUBACK without a return code";
			return MQTT_WIRE_EBAD;
		}
		out->packet_id = wire_u16(body);
		out->codes = body + 2;
		out->n_codes = remaining - 2;
		for (size_t i = 0; i < out->n_codes; i++) {
			if (out->codes[i] > 2 && out->codes[i] != 0x80) {
				*why = "SUBACK with an unknown return code";
				return MQTT_WIRE_EBAD;
			}
		}
		return MQTT_WIRE_OK;
	case MQTT_PINGRESP:
		if (remaining != 0) {
			*why = "PINGRESP with a body";
			return MQTT_WIRE_EBAD;
		}
		return MQTT_WIRE_OK;
	default:
		*why = "a packet type a client never receives";
		return MQTT_WIRE_EBAD;
	}
}

/* A packet being written into a caller's buffer; `bad` once it did not fit. */
struct wire_out {
	uint8_t *p;
	size_t cap, len;
	int bad;
};

static void out_byte(struct wire_out *w, uint8_t b)
{
	if (w->len >= w->cap) {
		w->bad = MQTT_WIRE_ETOOBIG;
		return;
	}
	w->p[w->len++] = b;
}

static void out_u16(struct wire_out *w, uint16_t v)
{
	out_byte(w, (uint8_t)(v >> 8));
	out_byte(w, (uint8_t)v);
}

static void out_string(struct wire_out *w, const char *s)
{
	size_t n = strlen(s);

	if (n > 65535) {
		w->bad = MQTT_WIRE_EBAD;
		return;
	}
	out_u16(w, (uint16_t)n);
	for (size_t i = 0; i < n && !w->bad; i++)
		out_byte(w, (uint8_t)s[i]);
}

/* Write byte0 and the varint of `remaining`; the body follows. */
static void out_header(struct wire_out *w, uint8_t byte0, size_t remaining)
{
	if (remaining > MQTT_WIRE_REMAINING_MAX) {
		w->bad = MQTT_WIRE_EBAD;
		return;
	}
	out_byte(w, byte0);
	do {
		uint8_t b = remaining & 0x7f;

		remaining >>= 7;
		out_byte(w, remaining ? (uint8_t)(b | 0x80) : b);
	} while (remaining);
}

static int out_done(const struct wire_out *w)
{
	return w->bad ? w->bad : (int)w->len;
}

static int has_text(const char *s)
{
	return s && *s;
}

int mqtt_wire_connect(uint8_t *out, size_t cap, const struct mqtt_connect *c)
{
	struct wire_out w = {.p = out, .cap = cap};
	int user = has_text(c->username), pass = user && has_text(c->password);
	size_t remaining = 10 + 2 + strlen(c->client_id);
	uint8_t flags = c->clean_session ? 0x02 : 0;

	if (user) {
		remaining += 2 + strlen(c->username);
		flags |= 0x80;
	}
	if (pass) {
		remaining += 2 + strlen(c->password);
		flags |= 0x40;
	}
	out_header(&w, MQTT_CONNECT << 4, remaining);
	out_string(&w, "MQTT");
	out_byte(&w, 4); /* protocol level: 3.1.1 */
	out_byte(&w, flags);
	out_u16(&w, c->keepalive_s);
	out_string(&w, c->client_id);
	if (user)
		out_string(&w, c->username);
	if (pass)
		out_string(&w, c->password);
	return out_done(&w);
}

int mqtt_wire_subscribe(uint8_t *out, size_t cap, uint16_t packet_id, const char *const *filters,
			size_t n, unsigned qos)
{
	struct wire_out w = {.p = out, .cap = cap};
	size_t remaining = 2;

	if (n == 0 || qos > 2 || packet_id == 0)
		return MQTT_WIRE_EBAD;
	for (size_t i = 0; i < n; i++)
		remaining += 2 + strlen(filters[i]) + 1;
	out_header(&w, (MQTT_SUBSCRIBE << 4) | 2, remaining);
	out_u16(&w, packet_id);
	for (size_t i = 0; i < n; i++) {
		out_string(&w, filters[i]);
		out_byte(&w, (uint8_t)qos);
	}
	return out_done(&w);
}

int mqtt_wire_ack(uint8_t *out, size_t cap, enum mqtt_type type, uint16_t packet_id)
{
	struct wire_out w = {.p = out, .cap = cap};

	if (type != MQTT_PUBACK && type != MQTT_PUBREC && type != MQTT_PUBCOMP)
		return MQTT_WIRE_EBAD;
	out_header(&w, (uint8_t)(type << 4), 2);
	out_u16(&w, packet_id);
	return out_done(&w);
}

int mqtt_wire_simple(uint8_t *out, size_t cap, enum mqtt_type type)
{
	struct wire_out w = {.p = out, .cap = cap};

	if (type != MQTT_PINGREQ && type != MQTT_DISCONNECT)
		return MQTT_WIRE_EBAD;
	out_header(&w, (uint8_t)(type << 4), 0);
	return out_done(&w);
}

const char *mqtt_wire_connack_text(unsigned code)
{
	static const char *const texts[] = {
	    "connection accepted", "unacceptable protocol version", "client identifier rejected",
	    "server unavailable",  "bad user name or password",	    "not authorized",
	};
	return code < sizeof(texts) / sizeof(texts[0]) ? texts[code] : "unknown return code";
}
