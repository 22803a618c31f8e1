/* udp.c -- the UDP line-protocol listener: a thread that parses datagrams into the buffer. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "udp.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "ingest.h"
#include "lineproto_parse.h"
#include "log.h"

#define UDP_LOG "udp"
#define UDP_DATAGRAM_MAX 65536
#define UDP_RCVBUF (4 << 20)
#define UDP_STATS_EVERY_MS 10000u
#define UDP_LOG_AGAIN_MS 60000 /* a sender's repeated problem: one line, then a count */

struct udp_listener {
	int fd;
	int stop_fd;	       /* eventfd: udp_stop wakes the thread's poll */
	struct ingest *ingest; /* the door each datagram's points go through */
	size_t max_line;
	int unsigned_ok;
	size_t max_tags, max_fields;
	pthread_t thread;
	bool thread_started;
	atomic_bool stopping;

	atomic_uint_fast64_t datagrams, stored, bad_lines, dropped, refused;
	struct log_limit bad_log, cut_log, refused_log; /* bad lines, cut short, not allowed */
	struct addr_allow allow;			/* udp.allow; n 0: any source */
};

/* ingest_done_fn, writer thread: the points of one datagram committed, or
 * failed (the door logged it); nobody waits for an answer. */
static void udp_on_committed(void *arg, int result, size_t points, const char *refused)
{
	(void)refused; /* nobody to tell: the buffer's path rejects those lines */
	struct udp_listener *u = arg;

	atomic_fetch_add(result == STORAGE_OK ? &u->stored : &u->dropped, points);
	ingest_settle(u->ingest);
}

/* Parses one datagram and hands its valid points to the door. */
static void udp_handle(struct udp_listener *u, const char *data, size_t len)
{
	struct lineproto_parse_options o = {
	    .precision_ns = LINEPROTO_NS,
	    .max_line = u->max_line,
	    .clock = ingest_receipt_ns,
	    .unsigned_ok = u->unsigned_ok,
	    .max_tags = u->max_tags,
	    .max_fields = u->max_fields,
	};
	struct lineproto_report report;
	struct lineproto_buf out;
	char *text;
	size_t text_len = 0;
	int rc;

	lineproto_buf_init(&out, (size_t)UDP_DATAGRAM_MAX * 8);
	rc = lineproto_parse(data, len, &o, &out, &report);
	atomic_fetch_add(&u->bad_lines, report.bad_lines);
	if (report.bad_lines)
		log_limited(&u->bad_log, UDP_LOG_AGAIN_MS, LOG_LEVEL_DEBUG, UDP_LOG,
			    "%zu bad line%s in a datagram: %s", report.bad_lines,
			    report.bad_lines == 1 ? "" : "s", report.errors);
	if (rc != LINEPROTO_OK) {
		atomic_fetch_add(&u->dropped, report.points);
		goto out;
	}
	if (report.points == 0)
		goto out;
	text = lineproto_buf_steal(&out, &text_len);
	rc = ingest_submit(u->ingest, text, text_len, report.points, udp_on_committed, u);
	if (rc != STORAGE_OK) {
		/* Refused: the text is still ours, and nobody will send it again. */
		free(text);
		atomic_fetch_add(&u->dropped, report.points);
		ingest_warn_not_stored(u->ingest, report.points, rc);
	}
out:
	lineproto_buf_free(&out);
}

/* A datagram from outside udp.allow: dropped unread, counted, logged rate-limited. */
static void udp_refuse(struct udp_listener *u, const struct sockaddr_storage *from)
{
	char text[64];

	atomic_fetch_add(&u->refused, 1);
	log_limited(&u->refused_log, UDP_LOG_AGAIN_MS, LOG_LEVEL_WARN, UDP_LOG,
		    "datagram from %s dropped: not in udp.allow",
		    addr_text((const struct sockaddr *)from, text, sizeof(text)));
}

static void udp_log_totals(struct udp_listener *u, const char *when)
{
	struct udp_stats st;

	udp_get_stats(u, &st);
	log_info(UDP_LOG,
		 "%sreceived %" PRIu64 " datagrams, stored %" PRIu64 " points, %" PRIu64
		 " lines refused, %" PRIu64 " points dropped, %" PRIu64
		 " datagrams from outside udp.allow",
		 when, st.datagrams, st.stored, st.bad_lines, st.dropped, st.refused);
}

/* The poll timeout: none (-1) until a datagram arrives, then until the
 * "so far" line that comes 10 s after it. */
static int udp_poll_timeout(uint64_t due_ms)
{
	uint64_t now = (uint64_t)clock_mono_ms();

	if (due_ms == 0)
		return -1;
	return due_ms > now ? (int)(due_ms - now) : 0;
}

/* The thread: no timer while idle; it wakes for a datagram or udp_stop. */
static void *udp_main(void *arg)
{
	struct udp_listener *u = arg;
	uint64_t log_due_ms = 0; /* the next "so far" line; 0: no datagram since the last */
	char *buf = malloc(UDP_DATAGRAM_MAX);

	/* for top -H and tests/bench/bench_idle.sh: at most 15 bytes, cannot fail */
	(void)pthread_setname_np(pthread_self(), "udp");
	if (!buf) {
		log_error(UDP_LOG, "out of memory: not receiving");
		return NULL;
	}
	while (!atomic_load(&u->stopping)) {
		struct pollfd pfd[2] = {{.fd = u->fd, .events = POLLIN},
					{.fd = u->stop_fd, .events = POLLIN}};
		ssize_t n;
		int rc = poll(pfd, 2, udp_poll_timeout(log_due_ms));

		if (rc < 0 && errno != EINTR) {
			log_error(UDP_LOG, "poll: %s", strerror(errno));
			break;
		}
		if (rc > 0 && pfd[0].revents) {
			struct sockaddr_storage from;
			socklen_t from_len = sizeof(from);
			n = recvfrom(u->fd, buf, UDP_DATAGRAM_MAX, MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &from_len);
			if (n >= 0 && !addr_allow_match(&u->allow, (struct sockaddr *)&from)) {
				udp_refuse(u, &from);
				continue;
			}
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				log_error(UDP_LOG, "recv: %s", strerror(errno));
				break;
			}
			if (n > UDP_DATAGRAM_MAX) {
				atomic_fetch_add(&u->datagrams, 1);
				atomic_fetch_add(&u->bad_lines, 1);
				log_limited(&u->cut_log, UDP_LOG_AGAIN_MS, LOG_LEVEL_DEBUG, UDP_LOG,
					    "a datagram of %zd bytes was cut short: refused", n);
			} else if (n >= 0) {
				atomic_fetch_add(&u->datagrams, 1);
				udp_handle(u, buf, (size_t)n);
			}
			if (n >= 0 && log_due_ms == 0)
				log_due_ms = (uint64_t)clock_mono_ms() + UDP_STATS_EVERY_MS;
		}
		if (log_due_ms != 0 && (uint64_t)clock_mono_ms() >= log_due_ms) {
			udp_log_totals(u, "so far: ");
			log_due_ms = 0;
		}
	}
	free(buf);
	return NULL;
}

int udp_start(const struct udp_options *options, struct storage *s, struct udp_listener **out)
{
	struct sockaddr_storage addr;
	struct udp_listener *u;
	socklen_t addr_len;
	const char *why = NULL;
	char allow_why[192];
	int rcvbuf = UDP_RCVBUF;
	int rc;

	if (addr_parse_listen(options->listen, &addr, &addr_len, &why) != 0) {
		log_error(UDP_LOG, "listen address \"%s\": %s", options->listen, why);
		return -1;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -1;
	u->fd = -1;
	u->stop_fd = -1;
	u->max_line = options->max_line;
	u->unsigned_ok = options->unsigned_ok;
	u->max_tags = options->max_tags;
	u->max_fields = options->max_fields;
	if (addr_allow_parse(options->allow ? options->allow : "", &u->allow, allow_why,
			     sizeof(allow_why)) != 0) {
		log_error(UDP_LOG, "udp.allow: %s", allow_why);
		goto fail;
	}
	if (ingest_create(s, UDP_LOG, &u->ingest) != 0 ||
	    ingest_set_tags(u->ingest, options->tags) != 0)
		goto fail;
	u->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (u->stop_fd < 0) {
		log_error(UDP_LOG, "eventfd: %s", strerror(errno));
		goto fail;
	}
	u->fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u->fd < 0) {
		log_error(UDP_LOG, "socket: %s", strerror(errno));
		goto fail;
	}
	/* A bigger kernel buffer rides out short stalls; best effort. */
	if (setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)
		log_debug(UDP_LOG, "SO_RCVBUF: %s", strerror(errno));
	if (bind(u->fd, (struct sockaddr *)&addr, addr_len) != 0) {
		log_error(UDP_LOG, "cannot listen on %s: %s", options->listen, strerror(errno));
		goto fail;
	}
	rc = pthread_create(&u->thread, NULL, udp_main, u);
	if (rc != 0) {
		log_error(UDP_LOG, "cannot start the thread: %s", strerror(rc));
		goto fail;
	}
	u->thread_started = true;
	log_info(UDP_LOG, "listening for line protocol on %s (udp)%s%s%s", options->listen,
		 u->allow.n ? ", datagrams only from " : "", u->allow.n ? options->allow : "",
		 u->allow.n ? " (udp.allow)" : "");
	*out = u;
	return 0;
fail:
	udp_stop(u);
	return -1;
}

void udp_get_stats(struct udp_listener *u, struct udp_stats *out)
{
	out->datagrams = atomic_load(&u->datagrams);
	out->stored = atomic_load(&u->stored);
	out->bad_lines = atomic_load(&u->bad_lines);
	out->dropped = atomic_load(&u->dropped);
	out->refused = atomic_load(&u->refused);
}

void udp_stop(struct udp_listener *u)
{
	if (!u)
		return;
	atomic_store(&u->stopping, true);
	if (u->thread_started) {
		uint64_t one = 1;

		/* the thread polls without a timeout: wake it (cannot fail: the
		 * counter is far from its maximum) */
		if (write(u->stop_fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			log_error(UDP_LOG, "waking the thread: %s", strerror(errno));
		pthread_join(u->thread, NULL);
	}
	if (u->ingest)
		ingest_stop(u->ingest);
	if (u->thread_started)
		udp_log_totals(u, "stopped: ");
	if (u->fd >= 0)
		close(u->fd);
	if (u->stop_fd >= 0)
		close(u->stop_fd);
	ingest_destroy(u->ingest);
	free(u);
}
