/* mqtt_session.c -- one connection to a broker over TCP: CONNECT, SUBSCRIBE, then the receive
 * loop with keepalive, deferred acknowledgements and messages too big to keep. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "mqtt_internal.h"
#include "stream.h"

#define SESSION_CONNECT_TIMEOUT_MS 10000
#define SESSION_SEND_TIMEOUT_MS 10000
#define SESSION_STOP_DRAIN_MS 3000
#define SESSION_SUBSCRIBE_ID 1
#define SESSION_ACKS_MAX 64

/* The state of one connection. */
struct session {
	struct mqtt_broker *b;
	int fd;
	struct uplink_stream *tls; /* mqtts: the stream over fd */
	bool tls_more;		   /* TLS may hold bytes the socket does not show */
	uint8_t *buf;		   /* received bytes not yet decoded */
	size_t cap, len;
	size_t skip; /* bytes of a too-big message still to be thrown away */
	bool connacked, subscribed, ping_out;
	int64_t last_tx_ms, ping_ms, started_ms;
};

/* Connect to host:port, bounded by SESSION_CONNECT_TIMEOUT_MS and mqtt_stop().
 * Returns the socket (non-blocking) or -1 (the error recorded). */
static int session_connect(struct mqtt_broker *b)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int fd = -1, err = 0;
	int rc = getaddrinfo(b->host, b->port, &hints, &res);

	if (rc != 0) {
		mqtt_set_error(b, "%s: %s", b->host, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai && fd < 0 && !atomic_load(&b->stopping);
	     ai = ai->ai_next) {
		struct pollfd pfd[2];
		socklen_t len = sizeof(err);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		if (err == EINPROGRESS) {
			pfd[0] = (struct pollfd){.fd = fd, .events = POLLOUT};
			pfd[1] = (struct pollfd){.fd = b->wake_fd, .events = POLLIN};
			err = ETIMEDOUT;
			if (poll(pfd, 2, SESSION_CONNECT_TIMEOUT_MS) > 0 && pfd[0].revents &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0 && !atomic_load(&b->stopping))
		mqtt_set_error(b, "cannot connect to %s:%s: %s", b->host, b->port,
			       strerror(err ? err : ECONNREFUSED));
	return fd;
}

/* mqtts: the TLS connection through libcurl (uplink/stream.c). Returns 0
 * with s->tls and s->fd, or -1 (the error recorded). */
static int session_connect_tls(struct session *s)
{
	struct mqtt_broker *b = s->b;
	struct uplink_stream_options o = {.host = b->host,
					  .port = b->port,
					  .ca_file = b->cfg.ca_file,
					  .insecure_skip_verify = b->cfg.insecure_skip_verify,
					  .timeout_ms = SESSION_CONNECT_TIMEOUT_MS};
	char err[256];

	if (uplink_stream_open(&o, &s->tls, err, sizeof(err)) != 0) {
		mqtt_set_error(b, "cannot connect to %s:%s over TLS: %s", b->host, b->port, err);
		return -1;
	}
	s->fd = uplink_stream_fd(s->tls);
	return 0;
}

/* send() or the TLS stream's: > 0 bytes, 0 would block, -1 error (errno). */
static ssize_t session_write(struct session *s, const uint8_t *p, size_t n)
{
	ssize_t w;

	if (!s->tls) {
		w = send(s->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		return w;
	}
	w = uplink_stream_send(s->tls, p, n);
	if (w == UPLINK_STREAM_AGAIN)
		return 0;
	if (w < 0)
		errno = EPIPE;
	return w;
}

/* recv() or the TLS stream's: > 0 bytes, 0 closed, -2 nothing now, -1 error (errno). */
static ssize_t session_read(struct session *s, uint8_t *p, size_t n)
{
	ssize_t r;

	if (!s->tls) {
		r = recv(s->fd, p, n, 0);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return -2;
		return r;
	}
	r = uplink_stream_recv(s->tls, p, n);
	if (r == UPLINK_STREAM_ERROR)
		errno = EPROTO;
	return r == UPLINK_STREAM_AGAIN ? -2 : r;
}

/* Send all of p[0..n). Returns 0, or -1 (the error recorded). */
static int session_send(struct session *s, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = session_write(s, p, n);
		struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0) {
			mqtt_set_error(s->b, "send: %s", strerror(errno));
			return -1;
		}
		if (poll(&pfd, 1, SESSION_SEND_TIMEOUT_MS) <= 0) {
			mqtt_set_error(s->b, "send: the broker takes nothing for %d s",
				       SESSION_SEND_TIMEOUT_MS / 1000);
			return -1;
		}
	}
	s->last_tx_ms = clock_mono_ms();
	return 0;
}

/* Send every acknowledgement now due, in order. Returns 0, or -1 to drop the
 * connection (a commit failed: the broker must redeliver). */
static int session_flush_acks(struct session *s)
{
	uint16_t ids[SESSION_ACKS_MAX];
	uint8_t acks[SESSION_ACKS_MAX];
	uint8_t out[SESSION_ACKS_MAX * 4];

	for (;;) {
		int n = mqtt_slots_due(s->b, ids, acks, SESSION_ACKS_MAX);
		size_t len = 0;

		if (n < 0) {
			mqtt_set_error(s->b, "a commit failed: reconnecting so that the broker "
					     "sends the message again");
			return -1;
		}
		if (n == 0)
			return 0;
		for (int i = 0; i < n; i++)
			len += (size_t)mqtt_wire_ack(out + len, sizeof(out) - len, acks[i], ids[i]);
		if (session_send(s, out, len) != 0)
			return -1;
		atomic_fetch_add(&s->b->acked, (uint64_t)n);
	}
}

static int session_send_connect(struct session *s)
{
	const struct mqtt_config *c = &s->b->cfg;
	struct mqtt_connect mc = {.client_id = c->client_id,
				  .username = c->username,
				  .password = c->password,
				  .keepalive_s = (uint16_t)(c->keepalive_ms / 1000),
				  .clean_session = false};
	size_t cap = 16 + strlen(c->client_id) + strlen(c->username) + strlen(c->password);
	uint8_t *out = malloc(cap);
	int n, rc = -1;

	if (!out)
		return -1;
	n = mqtt_wire_connect(out, cap, &mc);
	if (n > 0)
		rc = session_send(s, out, (size_t)n);
	else
		mqtt_set_error(s->b, "client_id, username or password longer than 65535 bytes");
	free(out);
	return rc;
}

static int session_send_subscribe(struct session *s)
{
	const struct mqtt_config *c = &s->b->cfg;
	size_t n = 0, cap = 16 + 3 * strlen(c->topics);
	char *list = strdup(c->topics);
	const char **filters = calloc(strlen(c->topics) / 2 + 2, sizeof(*filters));
	uint8_t *out = malloc(cap);
	int len, rc = -1;

	if (!list || !filters || !out)
		goto out;
	for (char *p = list; *p;) {
		size_t k = strcspn(p, ",");

		filters[n++] = p;
		p += k;
		if (*p)
			*p++ = '\0';
	}
	len = mqtt_wire_subscribe(out, cap, SESSION_SUBSCRIBE_ID, filters, n, c->qos);
	if (len > 0)
		rc = session_send(s, out, (size_t)len);
out:
	free(list);
	free(filters);
	free(out);
	return rc;
}

/* Handle one decoded packet. Returns 0, or -1 to drop the connection. */
static int session_packet(struct session *s, const struct mqtt_packet *p, const char *too_big)
{
	struct mqtt_broker *b = s->b;
	uint8_t out[4];
	uint64_t seq = UINT64_MAX;

	if (!s->connacked && p->type != MQTT_CONNACK) {
		mqtt_set_error(b, "the broker sent packet type %u before CONNACK", p->type);
		return -1;
	}
	switch (p->type) {
	case MQTT_CONNACK:
		if (p->return_code != 0) {
			mqtt_set_error(b, "the broker refused the connection: %s",
				       mqtt_wire_connack_text(p->return_code));
			return -1;
		}
		s->connacked = true;
		log_info(MQTT_LOG, "[mqtt.%s] connected to %s:%s (%s session)", b->cfg.name,
			 b->host, b->port, p->session_present ? "resumed" : "new");
		return session_send_subscribe(s);
	case MQTT_SUBACK:
		for (size_t i = 0; i < p->n_codes; i++) {
			if (p->codes[i] == 0x80) {
				mqtt_set_error(b, "the broker refused topic filter %zu of %s",
					       i + 1, b->cfg.topics);
				return -1;
			}
		}
		s->subscribed = true;
		atomic_store(&b->connected, true);
		log_info(MQTT_LOG, "[mqtt.%s] subscribed to %s", b->cfg.name, b->cfg.topics);
		return 0;
	case MQTT_PUBLISH:
		if (p->qos > 0) {
			seq = mqtt_slot_take(b, p->packet_id, p->qos);
			if (seq == UINT64_MAX)
				return -1; /* cannot happen: the loop stops reading when full */
		}
		return mqtt_handle_publish(b, p, seq, too_big);
	case MQTT_PUBREL: /* QoS 2: the points were stored before PUBREC */
		mqtt_wire_ack(out, sizeof(out), MQTT_PUBCOMP, p->packet_id);
		return session_send(s, out, sizeof(out));
	case MQTT_PINGRESP:
		s->ping_out = false;
		return 0;
	default: /* PUBACK: we publish nothing */
		return 0;
	}
}

/* Decode and handle the packets in the buffer, while acknowledgement slots are
 * free. Returns 0, or -1 to drop the connection. */
static int session_decode(struct session *s)
{
	size_t pos = 0;
	int rc = 0;

	while (pos < s->len && mqtt_slots_waiting(s->b) < MQTT_RING) {
		struct mqtt_packet p;
		const char *why = "?";
		int dr;

		if (s->skip) {
			size_t n = s->skip < s->len - pos ? s->skip : s->len - pos;

			s->skip -= n;
			pos += n;
			continue;
		}
		dr = mqtt_wire_decode(s->buf + pos, s->len - pos, s->b->cfg.max_packet, &p, &why);
		if (dr == MQTT_WIRE_MORE)
			break;
		if (dr == MQTT_WIRE_EBAD) {
			mqtt_set_error(s->b, "bad packet from the broker: %s", why);
			rc = -1;
			break;
		}
		if (dr == MQTT_WIRE_ETOOBIG) {
			char text[96];
			size_t hl = p.size - p.remaining;
			uint8_t flags = s->buf[pos] & 0x0f;

			if (p.type != MQTT_PUBLISH) {
				mqtt_set_error(s->b, "a packet of %zu bytes from the broker",
					       p.size);
				rc = -1;
				break;
			}
			dr = mqtt_wire_publish_head(s->buf + pos + hl, s->len - pos - hl, flags, &p,
						    &why);
			if (dr == MQTT_WIRE_MORE)
				break; /* the buffer holds a topic of 65535 bytes: it will come */
			if (dr != MQTT_WIRE_OK) {
				mqtt_set_error(s->b, "bad packet from the broker: %s", why);
				rc = -1;
				break;
			}
			snprintf(text, sizeof(text),
				 "a message of %zu bytes (max_packet %" PRIu64 ")", p.size,
				 s->b->cfg.max_packet);
			p.payload = "";
			p.payload_len = 0;
			rc = session_packet(s, &p, text);
			s->skip = p.size;
			if (rc != 0)
				break;
			continue;
		}
		rc = session_packet(s, &p, NULL);
		pos += p.size;
		if (rc != 0)
			break;
	}
	memmove(s->buf, s->buf + pos, s->len - pos);
	s->len -= pos;
	return rc;
}

/* Until SESSION_STOP_DRAIN_MS pass: acknowledge what commits in the meantime,
 * then say DISCONNECT. */
static void session_goodbye(struct session *s)
{
	int64_t until = clock_mono_ms() + SESSION_STOP_DRAIN_MS;
	uint8_t out[2];

	while (s->connacked && mqtt_slots_waiting(s->b) > 0 && clock_mono_ms() < until) {
		struct pollfd pfd = {.fd = s->b->wake_fd, .events = POLLIN};
		uint64_t count;

		if (session_flush_acks(s) != 0)
			return;
		if (poll(&pfd, 1, 50) > 0 && read(s->b->wake_fd, &count, sizeof(count)) < 0)
			break;
	}
	if (s->connacked && session_flush_acks(s) == 0) {
		mqtt_wire_simple(out, sizeof(out), MQTT_DISCONNECT);
		(void)session_send(s, out, sizeof(out));
	}
}

/* The poll timeout: until the next PINGREQ is due, or the PINGRESP is late. */
static int session_timeout(const struct session *s)
{
	int64_t keep = (int64_t)s->b->cfg.keepalive_ms, now = clock_mono_ms();
	int64_t due = s->ping_out ? s->ping_ms + keep : s->last_tx_ms + keep;

	if (!s->connacked)
		due = s->started_ms + SESSION_CONNECT_TIMEOUT_MS;
	return due > now ? (int)(due - now) : 0;
}

static int session_loop(struct session *s)
{
	struct mqtt_broker *b = s->b;

	while (!atomic_load(&b->stopping)) {
		bool room = s->len < s->cap && mqtt_slots_waiting(b) < MQTT_RING;
		struct pollfd pfd[2] = {{.fd = s->fd, .events = room ? POLLIN : 0},
					{.fd = b->wake_fd, .events = POLLIN}};
		int64_t now;
		int rc = poll(pfd, 2, room && s->tls_more ? 0 : session_timeout(s));
		uint64_t count;

		if (rc < 0 && errno != EINTR) {
			mqtt_set_error(b, "poll: %s", strerror(errno));
			return -1;
		}
		if (rc > 0 && pfd[1].revents && read(b->wake_fd, &count, sizeof(count)) < 0 &&
		    errno != EAGAIN)
			return -1;
		if (session_flush_acks(s) != 0)
			return -1;
		if (room && ((rc > 0 && pfd[0].revents) || s->tls_more)) {
			ssize_t n = session_read(s, s->buf + s->len, s->cap - s->len);

			if (n == 0 || n == -1) {
				mqtt_set_error(b, "the broker closed the connection%s%s",
					       n ? ": " : "", n ? strerror(errno) : "");
				return -1;
			}
			if (n > 0)
				s->len += (size_t)n;
			/* TLS: decrypted bytes may wait that poll() does not see */
			s->tls_more = s->tls && n > 0;
		}
		if (session_decode(s) != 0)
			return -1;
		now = clock_mono_ms();
		if (!s->connacked && now - s->started_ms >= SESSION_CONNECT_TIMEOUT_MS) {
			mqtt_set_error(b, "no CONNACK within %d s",
				       SESSION_CONNECT_TIMEOUT_MS / 1000);
			return -1;
		}
		if (s->ping_out && now - s->ping_ms >= (int64_t)b->cfg.keepalive_ms) {
			mqtt_set_error(b, "no PINGRESP within the keepalive");
			return -1;
		}
		if (s->connacked && !s->ping_out &&
		    now - s->last_tx_ms >= (int64_t)b->cfg.keepalive_ms) {
			uint8_t out[2];

			mqtt_wire_simple(out, sizeof(out), MQTT_PINGREQ);
			if (session_send(s, out, sizeof(out)) != 0)
				return -1;
			s->ping_out = true;
			s->ping_ms = now;
		}
	}
	return 0;
}

int mqtt_session_run(struct mqtt_broker *b)
{
	struct session s = {.b = b, .fd = -1};

	/* room for the largest message kept, and for the head of any larger one */
	s.cap = b->cfg.max_packet > 65546 ? b->cfg.max_packet : 65546;
	s.buf = malloc(s.cap);
	if (!s.buf) {
		mqtt_set_error(b, "out of memory");
		return 0;
	}
	if (b->tls) {
		if (session_connect_tls(&s) != 0)
			goto out;
	} else {
		s.fd = session_connect(b);
		if (s.fd < 0)
			goto out;
	}
	s.started_ms = clock_mono_ms();
	if (session_send_connect(&s) != 0)
		goto out;
	if (session_loop(&s) == 0)
		session_goodbye(&s);
out:
	if (s.tls)
		uplink_stream_close(s.tls); /* closes s.fd */
	else if (s.fd >= 0)
		close(s.fd);
	free(s.buf);
	return s.subscribed;
}
