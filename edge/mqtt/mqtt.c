/* mqtt.c -- the MQTT clients: one thread per broker, the hand-off of each message's points to
 * storage and the queue of acknowledgements answered by the commits. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "mqtt.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "lineproto_parse.h"
#include "mqtt_internal.h"

#define MQTT_REFUSED_LOG_EVERY_MS 10000

struct mqtt_clients {
	size_t n;
	struct mqtt_broker *brokers[];
};

/* What the done callback needs: whose, and which slot (UINT64_MAX: QoS 0). */
struct mqtt_handoff {
	struct mqtt_broker *b;
	uint64_t seq;
};

void mqtt_set_error(struct mqtt_broker *b, const char *fmt, ...)
{
	char text[sizeof(b->last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&b->lock);
	memcpy(b->last_error, text, sizeof(text));
	pthread_mutex_unlock(&b->lock);
	log_warn(MQTT_LOG, "[mqtt.%s] %s", b->cfg.name, text);
}

static void mqtt_wake(struct mqtt_broker *b)
{
	uint64_t one = 1;

	/* cannot fail: the counter is far from its maximum */
	if (write(b->wake_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		log_error(MQTT_LOG, "waking the thread: %s", strerror(errno));
}

uint64_t mqtt_slot_take(struct mqtt_broker *b, uint16_t packet_id, unsigned qos)
{
	uint64_t seq = UINT64_MAX;

	pthread_mutex_lock(&b->lock);
	if (b->tail - b->head < MQTT_RING) {
		seq = b->tail++;
		b->ring[seq % MQTT_RING] = (struct mqtt_slot){
		    .seq = seq,
		    .packet_id = packet_id,
		    .ack = qos == 2 ? MQTT_PUBREC : MQTT_PUBACK,
		    .state = MQTT_SLOT_WAITING,
		};
	}
	pthread_mutex_unlock(&b->lock);
	return seq;
}

void mqtt_slot_answer(struct mqtt_broker *b, uint64_t seq, bool ok)
{
	pthread_mutex_lock(&b->lock);
	if (seq >= b->head && seq < b->tail && b->ring[seq % MQTT_RING].seq == seq)
		b->ring[seq % MQTT_RING].state = ok ? MQTT_SLOT_READY : MQTT_SLOT_FAILED;
	pthread_mutex_unlock(&b->lock);
	mqtt_wake(b);
}

int mqtt_slots_due(struct mqtt_broker *b, uint16_t *ids, uint8_t *acks, int max)
{
	int n = 0;

	pthread_mutex_lock(&b->lock);
	while (n < max && b->head < b->tail) {
		const struct mqtt_slot *s = &b->ring[b->head % MQTT_RING];

		if (s->state == MQTT_SLOT_FAILED) {
			/* the ones before it still leave; the next call reports it */
			if (n == 0)
				n = -1;
			break;
		}
		if (s->state != MQTT_SLOT_READY)
			break;
		ids[n] = s->packet_id;
		acks[n] = s->ack;
		n++;
		b->head++;
	}
	pthread_mutex_unlock(&b->lock);
	return n;
}

uint64_t mqtt_slots_waiting(struct mqtt_broker *b)
{
	uint64_t n;

	pthread_mutex_lock(&b->lock);
	n = b->tail - b->head;
	pthread_mutex_unlock(&b->lock);
	return n;
}

void mqtt_slots_reset(struct mqtt_broker *b)
{
	pthread_mutex_lock(&b->lock);
	b->head = b->tail;
	pthread_mutex_unlock(&b->lock);
}

/* ingest_done_fn: the points of one message committed (or not), or with
 * buffer.write = spill acknowledged by InfluxDB (then on the spill path's
 * thread). A line InfluxDB refused for good (`refused`) is in the buffer,
 * bound for `rejected`: the message is acknowledged like any stored one. */
static void mqtt_on_committed(void *arg, int result, size_t points, const char *refused)
{
	struct mqtt_handoff *h = arg;
	struct mqtt_broker *b = h->b;

	(void)refused;

	if (result == STORAGE_OK)
		atomic_fetch_add(&b->points, points);
	if (h->seq != UINT64_MAX)
		mqtt_slot_answer(b, h->seq, result == STORAGE_OK);
	free(h);
	ingest_settle(b->ingest);
}

/* Count a refusal on topic[0..len) (valid UTF-8), under b->lock. */
static void mqtt_count_topic(struct mqtt_broker *b, const char *topic, size_t len)
{
	size_t cut =
	    len < sizeof(b->refused_topics[0].topic) ? len : sizeof(b->refused_topics[0].topic) - 1;
	struct mqtt_topic_count *t;

	cut = lineproto_utf8_prefix(topic, cut); /* not in the middle of a character */
	for (size_t i = 0; i < b->n_refused_topics; i++) {
		t = &b->refused_topics[i];
		if (strlen(t->topic) == cut && memcmp(t->topic, topic, cut) == 0) {
			t->refused++;
			return;
		}
	}
	if (b->n_refused_topics == MQTT_TOPICS_KEPT) {
		b->refused_other++;
		return;
	}
	t = &b->refused_topics[b->n_refused_topics++];
	memcpy(t->topic, topic, cut);
	t->topic[cut] = '\0';
	t->refused = 1;
}

/* Keep a refused message in the buffer's `refused` table: best effort (the
 * row joins the next group commit, nobody waits for it; over the storage's
 * rate bound it is only counted), so that it never delays an acknowledgement. */
static void mqtt_keep_refused(struct mqtt_broker *b, const struct mqtt_packet *p, const char *why,
			      bool too_big)
{
	struct storage_refusal r = {
	    .source = b->source,
	    .topic = p->topic,
	    .topic_len = p->topic_len,
	    .topic_is_text = lineproto_utf8_valid(p->topic, p->topic_len) &&
			     !memchr(p->topic, '\0', p->topic_len),
	    .reason = why,
	    .payload = p->payload,
	    .payload_len = p->payload_len,
	    .payload_is_text = lineproto_utf8_valid(p->payload, p->payload_len) &&
			       !memchr(p->payload, '\0', p->payload_len),
	    .full_len = p->payload_len,
	};
	size_t head = 2 + p->topic_len + (p->qos ? 2 : 0);

	if (too_big) /* none of it was read: its length from the packet's */
		r.full_len = p->remaining > head ? p->remaining - head : 0;
	if (b->storage)
		(void)storage_refused(b->storage, &r); /* counted by storage when not kept */
}

/* A message that gives no points: acknowledged (redelivery would not help), counted, logged
 * rate-limited, kept in `refused`. */
static void mqtt_refuse(struct mqtt_broker *b, const struct mqtt_packet *p, uint64_t seq,
			const char *why, bool too_big)
{
	uint64_t n = log_limit(&b->refused_limit, MQTT_REFUSED_LOG_EVERY_MS, 1);
	size_t tl = lineproto_utf8_prefix(p->topic, p->topic_len);
	char text[sizeof(b->last_error)];

	atomic_fetch_add(&b->refused, 1);
	snprintf(text, sizeof(text), "message on \"%.*s\" refused: %s", (int)(tl > 80 ? 80 : tl),
		 p->topic, why);
	pthread_mutex_lock(&b->lock);
	memcpy(b->last_error, text, sizeof(text));
	mqtt_count_topic(b, p->topic, tl);
	pthread_mutex_unlock(&b->lock);
	if (n > 1)
		log_warn(MQTT_LOG, "[mqtt.%s] %s (%" PRIu64 " refused since the last such line)",
			 b->cfg.name, text, n);
	else if (n)
		log_warn(MQTT_LOG, "[mqtt.%s] %s", b->cfg.name, text);
	else
		log_debug(MQTT_LOG, "[mqtt.%s] %s", b->cfg.name, text);
	mqtt_keep_refused(b, p, why, too_big);
	if (seq != UINT64_MAX)
		mqtt_slot_answer(b, seq, true);
}

/* Why the topic cannot name points, or NULL. */
static const char *mqtt_topic_check(const struct mqtt_packet *p)
{
	if (p->topic_len == 0)
		return "empty topic";
	if (!lineproto_utf8_valid(p->topic, p->topic_len) || memchr(p->topic, '\0', p->topic_len))
		return "topic is not valid UTF-8";
	if (memchr(p->topic, '+', p->topic_len) || memchr(p->topic, '#', p->topic_len))
		return "wildcard in a published topic";
	return NULL;
}

int mqtt_handle_publish(struct mqtt_broker *b, const struct mqtt_packet *p, uint64_t seq,
			const char *too_big)
{
	struct lineproto_buf out;
	char why[256];
	size_t bad = 0, len = 0;
	const char *topic_why = too_big ? too_big : mqtt_topic_check(p);
	struct mqtt_handoff *h = NULL;
	char *text = NULL;
	int points, rc = 0;

	atomic_fetch_add(&b->messages, 1);
	if (p->retain && !b->cfg.retained) {
		/* A replay at subscription (3.1.1 sets RETAIN only then): an old value,
		 * which a message without a timestamp would store again at a new time. */
		atomic_fetch_add(&b->retained_skipped, 1);
		log_debug(
		    MQTT_LOG, "[mqtt.%s] retained message on \"%.*s\" not stored", b->cfg.name,
		    (int)lineproto_utf8_prefix(p->topic, p->topic_len > 80 ? 80 : p->topic_len),
		    p->topic);
		if (seq != UINT64_MAX)
			mqtt_slot_answer(b, seq, true);
		return 0;
	}
	if (topic_why) {
		mqtt_refuse(b, p, seq, topic_why, too_big != NULL);
		return 0;
	}
	lineproto_buf_init(&out, (size_t)b->cfg.max_packet * 8 + 4096);
	points =
	    mqtt_payload_points(&b->payload, p->topic, p->topic_len, p->payload, p->payload_len,
				ingest_receipt_ns(NULL), &out, &bad, why, sizeof(why));
	if (points < 0) {
		mqtt_refuse(b, p, seq, why, false);
		goto out;
	}
	if (bad)
		log_debug(MQTT_LOG, "[mqtt.%s] %zu bad lines in a message: %s", b->cfg.name, bad,
			  why);
	if ((size_t)points > ingest_max_points(b->ingest)) {
		mqtt_refuse(b, p, seq, "more points than one commit can hold", false);
		goto out;
	}
	h = malloc(sizeof(*h));
	if (!h) {
		rc = -1;
		goto out;
	}
	*h = (struct mqtt_handoff){.b = b, .seq = seq};
	text = lineproto_buf_steal(&out, &len);
	for (;;) {
		int sr = ingest_submit(b->ingest, text, len, (size_t)points, mqtt_on_committed, h);

		if (sr == STORAGE_OK) {
			text = NULL;
			h = NULL;
			break;
		}
		if (sr == STORAGE_ERR_BUSY && !atomic_load(&b->stopping)) {
			poll(NULL, 0, 10); /* the writer's queue is full: wait for it */
			continue;
		}
		/* closing, or storage cannot take it now: no ack, the broker redelivers */
		if (sr != STORAGE_ERR_CLOSED)
			mqtt_set_error(b, "storage refused a message: %s", storage_strerror(sr));
		rc = -1;
		break;
	}
out:
	free(h);
	free(text);
	lineproto_buf_free(&out);
	return rc;
}

/* Sleep `ms` or until mqtt_stop(). */
static void mqtt_backoff(struct mqtt_broker *b, uint64_t ms)
{
	int64_t until = clock_mono_ms() + (int64_t)ms;

	while (!atomic_load(&b->stopping)) {
		int64_t left = until - clock_mono_ms();
		struct pollfd pfd = {.fd = b->wake_fd, .events = POLLIN};
		uint64_t count;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) > 0 && read(b->wake_fd, &count, sizeof(count)) < 0)
			break;
	}
}

static void *mqtt_main(void *arg)
{
	struct mqtt_broker *b = arg;
	uint64_t backoff = b->cfg.reconnect_min_ms;
	bool first = true;

	(void)pthread_setname_np(pthread_self(), "mqtt");
	while (!atomic_load(&b->stopping)) {
		if (!first)
			atomic_fetch_add(&b->reconnects, 1);
		first = false;
		if (mqtt_session_run(b))
			backoff = b->cfg.reconnect_min_ms;
		atomic_store(&b->connected, false);
		mqtt_slots_reset(b);
		if (atomic_load(&b->stopping))
			break;
		log_info(MQTT_LOG, "[mqtt.%s] reconnecting in %" PRIu64 " ms", b->cfg.name,
			 backoff);
		mqtt_backoff(b, backoff);
		backoff =
		    backoff * 2 > b->cfg.reconnect_max_ms ? b->cfg.reconnect_max_ms : backoff * 2;
	}
	return NULL;
}

/* Split mqtt://HOST[:PORT] (HOST may be [v6]) into b->host and b->port. */
static int mqtt_url_split(struct mqtt_broker *b, const char *url)
{
	const char *p = strstr(url, "://");
	const char *host, *end, *colon;
	size_t hl;

	if (!p)
		return -1;
	host = p + 3;
	end = host + strcspn(host, "/");
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		if (!close)
			return -1;
		hl = (size_t)(close - host - 1);
		host++;
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		hl = (size_t)((colon ? colon : end) - host);
	}
	if (hl == 0 || hl >= sizeof(b->host))
		return -1;
	memcpy(b->host, host, hl);
	b->host[hl] = '\0';
	if (colon) {
		size_t pl = (size_t)(end - colon - 1);

		if (pl == 0 || pl >= sizeof(b->port) || strspn(colon + 1, "0123456789") < pl)
			return -1;
		memcpy(b->port, colon + 1, pl);
		b->port[pl] = '\0';
	} else {
		strcpy(b->port, b->tls ? "8883" : "1883");
	}
	return 0;
}

static void mqtt_broker_free(struct mqtt_broker *b)
{
	if (!b)
		return;
	if (b->ingest)
		ingest_stop(b->ingest);
	ingest_destroy(b->ingest);
	if (b->wake_fd >= 0)
		close(b->wake_fd);
	pthread_mutex_destroy(&b->lock);
	mqtt_config_clear(&b->cfg);
	free(b);
}

static struct mqtt_broker *mqtt_broker_create(const struct mqtt_config *c, struct storage *s,
					      const char *tags)
{
	struct mqtt_broker *b = calloc(1, sizeof(*b));
	enum mqtt_format format = MQTT_FORMAT_AUTO;

	if (!b)
		return NULL;
	b->wake_fd = -1;
	pthread_mutex_init(&b->lock, NULL);
	if (mqtt_config_copy(&b->cfg, c) != 0)
		goto fail;
	b->tls = strncmp(b->cfg.url, "mqtts://", 8) == 0 || strncmp(b->cfg.url, "ssl://", 6) == 0;
	if (b->cfg.insecure_skip_verify && b->tls)
		log_warn(MQTT_LOG,
			 "[mqtt.%s] insecure_skip_verify: the broker's certificate is not checked",
			 c->name);
	if (mqtt_url_split(b, b->cfg.url) != 0) {
		log_error(MQTT_LOG, "[mqtt.%s] url: cannot read \"%s\"", c->name, c->url);
		goto fail;
	}
	(void)mqtt_format_parse(b->cfg.format, &format); /* checked by the config */
	b->payload = (struct mqtt_payload_options){
	    .format = format,
	    .template_ = b->cfg.template_,
	    .measurement = b->cfg.measurement,
	    .tags = b->cfg.tags,
	    .time_key = b->cfg.time_key,
	    .string_fields = b->cfg.string_fields,
	    .field = b->cfg.field,
	};
	b->storage = s;
	snprintf(b->source, sizeof(b->source), "mqtt.%s", c->name);
	if (ingest_create(s, MQTT_LOG, &b->ingest) != 0 || ingest_set_tags(b->ingest, tags) != 0)
		goto fail;
	b->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->wake_fd < 0) {
		log_error(MQTT_LOG, "eventfd: %s", strerror(errno));
		goto fail;
	}
	return b;
fail:
	mqtt_broker_free(b);
	return NULL;
}

int mqtt_start(const struct mqtt_config *items, size_t n, struct storage *s, const char *tags,
	       struct mqtt_clients **out)
{
	struct mqtt_clients *m = calloc(1, sizeof(*m) + n * sizeof(m->brokers[0]));

	if (!m)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct mqtt_broker *b;
		int rc;

		if (!items[i].enabled)
			continue;
		b = mqtt_broker_create(&items[i], s, tags);
		if (!b)
			goto fail;
		m->brokers[m->n++] = b;
		rc = pthread_create(&b->thread, NULL, mqtt_main, b);
		if (rc != 0) {
			log_error(MQTT_LOG, "cannot start the thread: %s", strerror(rc));
			goto fail;
		}
		b->thread_started = true;
		log_info(MQTT_LOG, "[mqtt.%s] subscribing to %s at %s:%s%s (QoS %u, client id %s)",
			 b->cfg.name, b->cfg.topics, b->host, b->port, b->tls ? " over TLS" : "",
			 b->cfg.qos, b->cfg.client_id);
	}
	*out = m;
	return 0;
fail:
	mqtt_stop(m);
	return -1;
}

size_t mqtt_count(const struct mqtt_clients *m)
{
	return m ? m->n : 0;
}

int mqtt_get_stats(struct mqtt_clients *m, size_t i, struct mqtt_stats *out)
{
	struct mqtt_broker *b;

	if (!m || i >= m->n)
		return -1;
	b = m->brokers[i];
	out->name = b->cfg.name;
	out->connected = atomic_load(&b->connected);
	out->messages = atomic_load(&b->messages);
	out->points = atomic_load(&b->points);
	out->refused = atomic_load(&b->refused);
	out->acked = atomic_load(&b->acked);
	out->reconnects = atomic_load(&b->reconnects);
	out->retained_skipped = atomic_load(&b->retained_skipped);
	pthread_mutex_lock(&b->lock);
	memcpy(out->last_error, b->last_error, sizeof(out->last_error));
	memcpy(out->refused_topics, b->refused_topics, sizeof(out->refused_topics));
	out->n_refused_topics = b->n_refused_topics;
	out->refused_other = b->refused_other;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

void mqtt_stop(struct mqtt_clients *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		atomic_store(&m->brokers[i]->stopping, true);
		if (m->brokers[i]->thread_started)
			mqtt_wake(m->brokers[i]);
	}
	for (size_t i = 0; i < m->n; i++) {
		struct mqtt_broker *b = m->brokers[i];
		struct mqtt_stats st;

		if (b->thread_started)
			pthread_join(b->thread, NULL);
		if (b->ingest)
			ingest_stop(b->ingest);
		mqtt_get_stats(m, i, &st);
		log_info(MQTT_LOG,
			 "[mqtt.%s] stopped: %" PRIu64 " messages, %" PRIu64
			 " points stored, %" PRIu64 " refused, %" PRIu64 " acknowledged, %" PRIu64
			 " reconnects",
			 b->cfg.name, st.messages, st.points, st.refused, st.acked, st.reconnects);
		mqtt_broker_free(b);
	}
	free(m);
}
