/* mqtt.h -- MQTT input: one thread per [mqtt.NAME] broker, subscribing with a persistent
 * session and acknowledging each message only once its points are committed. */
#ifndef IOT_EDGE_MQTT_H
#define IOT_EDGE_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt_config.h"
#include "storage.h"

struct mqtt_clients;

/* Topics whose refusals are counted one by one (see mqtt_stats). */
#define MQTT_TOPICS_KEPT 16

/* What one broker's client did since it started, see mqtt_get_stats(). */
struct mqtt_stats {
	const char *name;    /* NAME of [mqtt.NAME]; valid while the clients run */
	bool connected;	     /* subscribed and receiving now */
	uint64_t messages;   /* PUBLISH packets received */
	uint64_t points;     /* points committed to the buffer */
	uint64_t refused;    /* messages acknowledged without points (bad payload, topic, size) */
	uint64_t acked;	     /* PUBACK/PUBREC sent */
	uint64_t reconnects; /* connections lost or refused after the first attempt */
	uint64_t retained_skipped; /* retained messages replayed at subscription, not stored */
	char last_error[160];	   /* "" or the last connection or message problem */
	/* refused messages per topic: the first MQTT_TOPICS_KEPT topics seen
	 * (cut to 79 bytes at a character), the rest in refused_other */
	struct mqtt_topic_count {
		char topic[80];
		uint64_t refused;
	} refused_topics[MQTT_TOPICS_KEPT];
	size_t n_refused_topics;
	uint64_t refused_other;
};

/* Start one client thread per enabled broker of items[0..n) (deep-copied).
 * Each connects (and reconnects with backoff), subscribes, and hands each
 * message's points to `s`, with `tags` added to each (ingest_set_tags();
 * NULL: none); QoS 1/2 messages are acknowledged after the
 * commit that holds them, in the order received. `s` must outlive the
 * clients. Returns 0 and *out (NULL-safe mqtt_stop()), or -1 (logged).
 * Main thread. */
int mqtt_start(const struct mqtt_config *items, size_t n, struct storage *s, const char *tags,
	       struct mqtt_clients **out);

/* The number of clients (0 for NULL). Any thread. */
size_t mqtt_count(const struct mqtt_clients *m);

/* Copy broker i's counters into *out. Returns 0, or -1 for i out of range.
 * Any thread while the clients run. */
int mqtt_get_stats(struct mqtt_clients *m, size_t i, struct mqtt_stats *out);

/* Disconnect every client (a DISCONNECT to the broker), wait until every
 * hand-off to storage is answered, log the totals and free everything.
 * Messages not yet acknowledged are redelivered by the broker next time.
 * NULL-safe. Main thread, before storage_close(). */
void mqtt_stop(struct mqtt_clients *m);

#endif
