/* http_conn.c -- slow-loris guard: a request head must arrive within connection_timeout. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "log.h"

/*
 * libmicrohttpd closes a connection that stays silent for connection_timeout,
 * but every byte restarts that clock: a client sending one header byte every
 * few seconds would hold its slot for days. The sweeper thread shuts down
 * (shutdown(2), so libmicrohttpd sees the end and closes it itself) every
 * connection whose request head is not complete connection_timeout after
 * the connection opened or after its previous answer. Once the head is in,
 * the request handler owns the time: a slow body is cut off there, and a
 * request waiting for its commit is never cut.
 *
 * A connection is in the list from libmicrohttpd's STARTED notification to
 * its CLOSED one, which libmicrohttpd sends before it closes the socket; the
 * list lock is held around both and around every shutdown(), so the sweeper
 * never touches a descriptor that was closed (and maybe reused).
 *
 * The sweeper does not tick: it sleeps until the earliest deadline of the
 * list or, when no connection has one (none open, or all in a request),
 * until one gets one (http_conn_notify, http_conn_request signal it then).
 * A deadline given later is never earlier than the one it sleeps for: it is
 * now + connection_timeout.
 */
struct http_conn {
	struct http_conn *prev, *next;
	int fd;
	uint64_t since_ms; /* opened, or its last request answered */
	bool in_request;   /* the head is in: the handler times the rest */
	bool cut;	   /* shut down by the sweeper */
};

static struct http_conn *http_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

void http_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
		      enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *srv = cls;
	struct http_conn *c = *socket_context;
	const union MHD_ConnectionInfo *info;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = calloc(1, sizeof(*c));
		if (!c || !info) {
			free(c); /* not guarded: libmicrohttpd's idle timeout still applies */
			return;
		}
		c->fd = info->connect_fd;
		c->since_ms = (uint64_t)clock_mono_ms();
		pthread_mutex_lock(&srv->conns_lock);
		c->next = srv->conns;
		if (srv->conns)
			srv->conns->prev = c;
		srv->conns = c;
		if (srv->sweeper_idle)
			pthread_cond_signal(&srv->sweeper_wake);
		pthread_mutex_unlock(&srv->conns_lock);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	pthread_mutex_lock(&srv->conns_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&srv->conns_lock);
	free(c);
	*socket_context = NULL;
}

void http_conn_request(struct http_server *srv, struct MHD_Connection *conn, bool started)
{
	struct http_conn *c = http_conn_of(conn);

	if (!c)
		return;
	pthread_mutex_lock(&srv->conns_lock);
	c->in_request = started;
	if (!started) {
		c->since_ms = (uint64_t)clock_mono_ms();
		if (srv->sweeper_idle)
			pthread_cond_signal(&srv->sweeper_wake);
	}
	pthread_mutex_unlock(&srv->conns_lock);
}

/* One pass: shut down every connection past its deadline. */
static void http_conn_sweep(struct http_server *srv)
{
	uint64_t now = (uint64_t)clock_mono_ms();
	struct http_conn *c;
	unsigned cut = 0;

	pthread_mutex_lock(&srv->conns_lock);
	for (c = srv->conns; c; c = c->next) {
		if (c->in_request || c->cut || now - c->since_ms <= srv->timeout_ms)
			continue;
		if (shutdown(c->fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
			log_debug(HTTP_LOG, "shutdown: %s", strerror(errno));
		c->cut = true;
		cut++;
	}
	pthread_mutex_unlock(&srv->conns_lock);
	/* Once, then once a minute with the count since (a slow-loris flood
	 * is cut one deadline at a time). */
	uint64_t n = log_limit(&srv->log_kinds[HTTP_LOG_SLOW_HEAD], HTTP_LOG_AGAIN_MS, cut);
	if (n)
		log_info(HTTP_LOG,
			 "closed %llu connection%s that sent no complete request within %u ms%s",
			 (unsigned long long)n, n == 1 ? "" : "s", srv->timeout_ms,
			 n > cut ? " (since the last such line; one line per 60 s)" : "");
}

/* When the next connection is due to be cut (monotonic ms), 0 if none has
 * a deadline. Under conns_lock. */
static uint64_t http_conn_next_due(const struct http_server *srv)
{
	uint64_t next = 0;

	for (const struct http_conn *c = srv->conns; c; c = c->next) {
		uint64_t due = c->since_ms + srv->timeout_ms + 1;

		if (!c->in_request && !c->cut && (next == 0 || due < next))
			next = due;
	}
	return next;
}

/* Sleep on sweeper_wake for `ms` (CLOCK_MONOTONIC). Under conns_lock. */
static void http_conn_sleep(struct http_server *srv, uint64_t ms)
{
	struct timespec until = clock_deadline_ns((int64_t)ms * 1000000);

	pthread_cond_timedwait(&srv->sweeper_wake, &srv->conns_lock, &until);
}

static void *http_conn_main(void *arg)
{
	struct http_server *srv = arg;

	/* for top -H and tests/bench/bench_idle.sh: at most 15 bytes, cannot fail */
	(void)pthread_setname_np(pthread_self(), "http-sweep");
	pthread_mutex_lock(&srv->conns_lock);
	while (!srv->sweeper_stop) {
		uint64_t next = http_conn_next_due(srv);
		uint64_t now = (uint64_t)clock_mono_ms();

		if (next == 0) {
			srv->sweeper_idle = true;
			pthread_cond_wait(&srv->sweeper_wake, &srv->conns_lock);
			srv->sweeper_idle = false;
		} else if (next > now) {
			http_conn_sleep(srv, next - now);
		} else {
			pthread_mutex_unlock(&srv->conns_lock);
			http_conn_sweep(srv);
			pthread_mutex_lock(&srv->conns_lock);
		}
	}
	pthread_mutex_unlock(&srv->conns_lock);
	return NULL;
}

int http_conn_start(struct http_server *srv)
{
	int rc;

	if (clock_cond_init(&srv->sweeper_wake) != 0)
		return -1;
	srv->sweeper_cond_ok = true;
	rc = pthread_create(&srv->sweeper, NULL, http_conn_main, srv);
	if (rc != 0) {
		log_error(HTTP_LOG, "cannot start the connection sweeper: %s", strerror(rc));
		return -1;
	}
	srv->sweeper_started = true;
	return 0;
}

void http_conn_stop(struct http_server *srv)
{
	if (srv->sweeper_started) {
		pthread_mutex_lock(&srv->conns_lock);
		srv->sweeper_stop = true;
		pthread_cond_signal(&srv->sweeper_wake);
		pthread_mutex_unlock(&srv->conns_lock);
		pthread_join(srv->sweeper, NULL);
		srv->sweeper_started = false;
	}
	if (srv->sweeper_cond_ok) {
		pthread_cond_destroy(&srv->sweeper_wake);
		srv->sweeper_cond_ok = false;
	}
}
