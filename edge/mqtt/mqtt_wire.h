/* mqtt_wire.h -- the MQTT 3.1.1 packets iot-edge speaks as a subscriber: encoders and a decoder
 * that checks every length. Pure functions, no I/O. */
#ifndef IOT_EDGE_MQTT_WIRE_H
#define IOT_EDGE_MQTT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Control packet types (MQTT 3.1.1 section 2.2.1). */
enum mqtt_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK = 2,
	MQTT_PUBLISH = 3,
	MQTT_PUBACK = 4,
	MQTT_PUBREC = 5,
	MQTT_PUBREL = 6,
	MQTT_PUBCOMP = 7,
	MQTT_SUBSCRIBE = 8,
	MQTT_SUBACK = 9,
	MQTT_PINGREQ = 12,
	MQTT_PINGRESP = 13,
	MQTT_DISCONNECT = 14,
};

/* Return codes of the decoder and the encoders. */
enum mqtt_wire_rc {
	MQTT_WIRE_OK = 0,
	MQTT_WIRE_MORE = 1,	/* decode: the packet is not complete yet: read more */
	MQTT_WIRE_EBAD = -1,	/* malformed: the connection must be closed */
	MQTT_WIRE_ETOOBIG = -2, /* decode: larger than max_packet; encode: out too small */
};

/* The fixed header's remaining length is at most 4 bytes of varint. */
#define MQTT_WIRE_REMAINING_MAX 268435455u
/* A fixed header takes at most 5 bytes. */
#define MQTT_WIRE_HEADER_MAX 5

/* A packet from the broker, pointing into the decoded buffer (valid while
 * it is). Only the members of its type are set. */
struct mqtt_packet {
	enum mqtt_type type;
	size_t size;	      /* bytes of the whole packet (header included) */
	size_t remaining;     /* the fixed header's remaining length */
	unsigned return_code; /* CONNACK */
	bool session_present; /* CONNACK */
	uint16_t packet_id;   /* PUBLISH with QoS > 0, PUBACK, SUBACK, PUBREL */
	unsigned qos;	      /* PUBLISH: 0, 1 or 2 */
	bool dup, retain;     /* PUBLISH */
	const char *topic;    /* PUBLISH: not NUL-terminated, not checked for UTF-8 */
	size_t topic_len;     /* PUBLISH */
	const char *payload;  /* PUBLISH */
	size_t payload_len;   /* PUBLISH */
	const uint8_t *codes; /* SUBACK: granted QoS or 0x80 per topic filter */
	size_t n_codes;	      /* SUBACK */
};

/* Read the fixed header at buf[0..len): the type in *type, the remaining
 * length in *remaining and the header's own size in *header_len. Returns
 * MQTT_WIRE_OK, MQTT_WIRE_MORE (fewer than the header's bytes) or
 * MQTT_WIRE_EBAD (a varint longer than 4 bytes) with *why set to a static
 * message. Any thread. */
int mqtt_wire_header(const uint8_t *buf, size_t len, unsigned *type, size_t *remaining,
		     size_t *header_len, const char **why);

/* Decode the first packet of buf[0..len) sent by a broker (CONNACK,
 * PUBLISH, PUBACK, PUBREL, SUBACK, PINGRESP). Returns MQTT_WIRE_OK with *out
 * filled (out->size bytes used), MQTT_WIRE_MORE when buf holds only part of
 * it, MQTT_WIRE_ETOOBIG when its size passes max_packet (out->type,
 * out->size and out->remaining are set, nothing else), or MQTT_WIRE_EBAD
 * (wrong flags, lengths that do not add up, a packet a client never gets)
 * with *why set to a static message. Any thread. */
int mqtt_wire_decode(const uint8_t *buf, size_t len, size_t max_packet, struct mqtt_packet *out,
		     const char **why);

/* Read only the topic and packet id of a PUBLISH whose body starts at
 * body[0..len) (after the fixed header; `flags` is the header's low
 * nibble) -- for a message too big to be decoded whole. Returns
 * MQTT_WIRE_OK with out->topic, topic_len, qos and packet_id set,
 * MQTT_WIRE_MORE or MQTT_WIRE_EBAD (*why set). Any thread. */
int mqtt_wire_publish_head(const uint8_t *body, size_t len, unsigned flags, struct mqtt_packet *out,
			   const char **why);

/* What CONNECT says. Strings are NUL-terminated; username/password NULL or
 * "" when not sent (a password only with a username, as 3.1.1 requires). */
struct mqtt_connect {
	const char *client_id;
	const char *username;
	const char *password;
	uint16_t keepalive_s;
	bool clean_session;
};

/* The encoders write one packet into out[0..cap) and return its length, or
 * MQTT_WIRE_ETOOBIG (cap too small) / MQTT_WIRE_EBAD (a string longer than
 * 65535 bytes, no topics, qos > 2). Any thread. */
int mqtt_wire_connect(uint8_t *out, size_t cap, const struct mqtt_connect *c);
int mqtt_wire_subscribe(uint8_t *out, size_t cap, uint16_t packet_id, const char *const *filters,
			size_t n, unsigned qos);
/* PUBACK (MQTT_PUBACK), PUBREC, PUBCOMP: the 4-byte acknowledgements. */
int mqtt_wire_ack(uint8_t *out, size_t cap, enum mqtt_type type, uint16_t packet_id);
/* PINGREQ or DISCONNECT: 2 bytes. */
int mqtt_wire_simple(uint8_t *out, size_t cap, enum mqtt_type type);

/* "connection accepted", "not authorized", ...: CONNACK return code's
 * meaning (a static string). Any thread. */
const char *mqtt_wire_connack_text(unsigned code);

#endif
