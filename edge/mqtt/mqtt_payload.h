/* mqtt_payload.h -- one MQTT message (topic + payload) -> canonical points: line protocol,
 * the JSON of POST /data, a JSON object of values, a bare number. Pure, no I/O. */
#ifndef IOT_EDGE_MQTT_PAYLOAD_H
#define IOT_EDGE_MQTT_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "lineproto.h"

enum mqtt_format {
	MQTT_FORMAT_AUTO,  /* recognised per message: JSON, a number, else line protocol */
	MQTT_FORMAT_LINE,  /* line protocol, one or more lines */
	MQTT_FORMAT_JSON,  /* POST /data JSON, or an object of values */
	MQTT_FORMAT_VALUE, /* a bare number */
};

/* How a subscription turns messages into points. Strings are NUL-terminated,
 * "" for unset; the caller owns them. */
struct mqtt_payload_options {
	enum mqtt_format format;
	const char *template_;	   /* "zigbee2mqtt/+device": +name levels become tags;
				      "": every topic matches, tag topic=<topic> */
	const char *measurement;   /* "": the topic's first level */
	const char *tags;	   /* fixed tags "k=v,k=v" (point_tags_check()ed); they win */
	const char *time_key;	   /* object of values: this (joined) key gives the time */
	const char *string_fields; /* object of values: comma list of string keys kept */
	const char *field;	   /* a bare number's field key ("value") */
	size_t max_line;	   /* line protocol: a longer line is refused; 0: no limit */
	int unsigned_ok;	   /* line protocol: accept 12u */
};

/* Returns 1 if `topic` (topic_len bytes) matches the topic filter `filter`
 * (MQTT wildcards + and #; a +name level of a template counts as +), else 0.
 * Any thread. */
int mqtt_topic_match(const char *filter, const char *topic, size_t topic_len);

/* Turn one message into points appended to `out` (canonical, one per line,
 * each with a ns timestamp: the payload's, or receipt_ns). Returns the
 * number of points appended (>= 1), with *bad set to the number of lines of
 * a line-protocol payload that were refused (their reasons in why); or -1
 * with nothing appended and why saying what is wrong ("topic does not
 * match the template", "invalid JSON at byte 3", ...). why is always
 * NUL-terminated. Any thread. */
int mqtt_payload_points(const struct mqtt_payload_options *o, const char *topic, size_t topic_len,
			const char *payload, size_t len, int64_t receipt_ns,
			struct lineproto_buf *out, size_t *bad, char *why, size_t why_size);

/* Parses "auto", "line", "json", "value". Returns 0 or -1. Any thread. */
int mqtt_format_parse(const char *s, enum mqtt_format *out);

/* The name of a format, a static string. Any thread. */
const char *mqtt_format_name(enum mqtt_format f);

#endif
