/* mqtt_internal.h -- what mqtt.c (lifecycle, acknowledgements) and mqtt_session.c (one
 * connection) share: the broker's state. */
#ifndef IOT_EDGE_MQTT_INTERNAL_H
#define IOT_EDGE_MQTT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ingest.h"
#include "log.h"
#include "mqtt.h"
#include "mqtt_payload.h"
#include "mqtt_wire.h"

#define MQTT_LOG "mqtt"
/* The most QoS 1/2 messages waiting for their commit: no more is read until
 * the oldest is acknowledged (brokers send 20 by default: max_inflight). */
#define MQTT_RING 1024

enum mqtt_slot_state { MQTT_SLOT_WAITING, MQTT_SLOT_READY, MQTT_SLOT_FAILED };

/* One received QoS 1/2 message waiting to be acknowledged, in receipt order. */
struct mqtt_slot {
	uint64_t seq;
	uint16_t packet_id;
	uint8_t ack; /* MQTT_PUBACK or MQTT_PUBREC */
	uint8_t state;
};

struct mqtt_broker {
	struct mqtt_config cfg; /* a copy: the thread's own */
	struct mqtt_payload_options payload;
	char host[256];
	char port[8];
	bool tls; /* mqtts:// */
	struct ingest *ingest;
	struct storage *storage; /* refused messages: storage_refused() */
	char source[80];	 /* "mqtt.NAME", their source in `refused` */
	int wake_fd;		 /* eventfd: a commit answered, or mqtt_stop() */
	pthread_t thread;
	bool thread_started;
	atomic_bool stopping;

	pthread_mutex_t lock; /* ring, head, tail, last_error, refused_* */
	struct mqtt_slot ring[MQTT_RING];
	uint64_t head; /* the oldest message not yet acknowledged */
	uint64_t tail; /* the next message's seq */
	char last_error[160];
	struct mqtt_topic_count refused_topics[MQTT_TOPICS_KEPT];
	size_t n_refused_topics;
	uint64_t refused_other;

	atomic_bool connected;
	atomic_uint_fast64_t messages, points, refused, acked, reconnects, retained_skipped;
	struct log_limit refused_limit;
};

/* One connection's life: connect, CONNECT/CONNACK, SUBSCRIBE, then receive
 * and acknowledge until it breaks or the broker is stopping. Returns 1 when
 * the session was established (subscribed) before it ended, else 0. The
 * broker's thread (mqtt_session.c). */
int mqtt_session_run(struct mqtt_broker *b);

/* Record the last problem (shown by /status) and log it at warn level.
 * Any thread. */
void mqtt_set_error(struct mqtt_broker *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reserve the next acknowledgement slot for a QoS 1/2 message. Returns its
 * seq, or UINT64_MAX when MQTT_RING are waiting. The broker's thread. */
uint64_t mqtt_slot_take(struct mqtt_broker *b, uint16_t packet_id, unsigned qos);

/* Mark slot seq ready (answered) or failed (its commit failed: the
 * connection is dropped so the broker redelivers); a seq of an earlier
 * connection is ignored. Wakes the thread. Any thread. */
void mqtt_slot_answer(struct mqtt_broker *b, uint64_t seq, bool ok);

/* Take the acknowledgements now due, in order, into ids/acks (at most max):
 * those answered before the first failed or waiting slot. Returns how many,
 * or -1 when a failed slot is at the head. The broker's thread. */
int mqtt_slots_due(struct mqtt_broker *b, uint16_t *ids, uint8_t *acks, int max);

/* Messages waiting for an acknowledgement. The broker's thread. */
uint64_t mqtt_slots_waiting(struct mqtt_broker *b);

/* Forget every slot (the connection is gone: the broker redelivers). The
 * broker's thread. */
void mqtt_slots_reset(struct mqtt_broker *b);

/* Parse one PUBLISH and hand its points to storage (or refuse it). Returns
 * 0, or -1 when the connection must be dropped so the broker redelivers
 * later (storage refused for now: full, failing), or when stopping. The
 * broker's thread (mqtt.c). */
int mqtt_handle_publish(struct mqtt_broker *b, const struct mqtt_packet *p, uint64_t seq,
			const char *too_big);

#endif
