/* uplink.c -- the forwarder thread: oldest buffered points -> InfluxDB, ack or keep and retry. */
#include "uplink.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "influx.h"
#include "log.h"

#define UPLINK_MODULE "uplink"
#define UPLINK_LOG_EVERY_MS 60000     /* repeated failure lines: at most one a minute */
#define UPLINK_RETRY_AFTER_MAX_S 3600 /* never wait longer than InfluxDB asks, up to 1 h */
#define UPLINK_BODY_LOG_MAX 200	      /* bytes of an error body quoted in a log line */
#define UPLINK_WHAT_SIZE 512	      /* a failure description for a log line */

struct uplink {
	struct uplink_options opt; /* strings are our own copies */
	struct storage *storage;
	struct influx *client;

	pthread_mutex_t lock; /* guards nothing but the wait on `wake` */
	pthread_cond_t wake;  /* broadcast by uplink_stop() */
	bool lock_ready;
	bool wake_ready;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;

	atomic_uint_least64_t points_sent;
	atomic_uint_least64_t requests_ok;
	atomic_uint_least64_t requests_failed;
	atomic_uint_least32_t consecutive_failures;

	/* Owned by the forwarder thread once it runs. */
	struct storage_batch batch;
	struct influx_reply reply;
	uint32_t rng;		  /* backoff_random() state */
	uint32_t attempt;	  /* failed sends in a row, for the backoff */
	uint32_t storage_attempt; /* failed storage reads/acks in a row */
	bool db_create_tried;	  /* CREATE DATABASE is sent once per lifetime */
	bool failing;		  /* the last send failed */
	int64_t fail_logged_ms;	  /* when the last failure line was written */
	int64_t auth_logged_ms;	  /* when the last auth error was written; 0: never */
	int64_t storage_logged_ms;
};

/* Monotonic milliseconds; 0 if the clock cannot be read (never on Linux). */
static int64_t uplink_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True at most once per UPLINK_LOG_EVERY_MS for the timer *last (0: never logged). */
static bool uplink_log_due(int64_t *last, int64_t now)
{
	if (*last != 0 && now - *last < UPLINK_LOG_EVERY_MS)
		return false;
	*last = now != 0 ? now : 1;
	return true;
}

/* Sleep up to `ms`, returning at once when uplink_stop() is called. */
static void uplink_wait(struct uplink *u, uint32_t ms)
{
	struct timespec deadline;
	int rc;

	if (clock_gettime(CLOCK_MONOTONIC, &deadline) != 0)
		return;
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	rc = pthread_mutex_lock(&u->lock);
	if (rc != 0) {
		log_error(UPLINK_MODULE, "pthread_mutex_lock: %s", strerror(rc));
		return;
	}
	while (!atomic_load(&u->stop)) {
		rc = pthread_cond_timedwait(&u->wake, &u->lock, &deadline);
		if (rc == ETIMEDOUT)
			break;
		if (rc != 0) {
			log_error(UPLINK_MODULE, "pthread_cond_timedwait: %s", strerror(rc));
			break;
		}
	}
	rc = pthread_mutex_unlock(&u->lock);
	if (rc != 0)
		log_error(UPLINK_MODULE, "pthread_mutex_unlock: %s", strerror(rc));
}

/* influx_abort_fn: abandon the request in flight once stop is set. */
static bool uplink_should_abort(void *arg)
{
	struct uplink *u = arg;

	return atomic_load(&u->stop);
}

/* The first UPLINK_BODY_LOG_MAX bytes of the answer body on one line. */
static void uplink_body_excerpt(const struct influx_reply *r, char *out, size_t size)
{
	size_t n = r->body_len < UPLINK_BODY_LOG_MAX ? r->body_len : UPLINK_BODY_LOG_MAX;
	size_t i;

	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)r->body[i];

		out[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	while (i > 0 && out[i - 1] == ' ')
		i--;
	out[i] = '\0';
}

/* "network error: <curl>" or "HTTP 500: <body excerpt>" into out. */
static void uplink_describe(const struct influx_reply *r, char *out, size_t size)
{
	char excerpt[UPLINK_BODY_LOG_MAX + 1];

	if (r->status == 0) {
		snprintf(out, size, "network error: %s", r->error);
		return;
	}
	uplink_body_excerpt(r, excerpt, sizeof(excerpt));
	snprintf(out, size, "HTTP %ld: %s", r->status,
		 excerpt[0] != '\0' ? excerpt : "(empty body)");
}

/* A storage read or ack failed: log (rate-limited) and pick the wait. */
static uint32_t uplink_storage_failed(struct uplink *u, const char *what, int rc)
{
	uint32_t delay;

	if (u->storage_attempt < UINT32_MAX)
		u->storage_attempt++;
	delay = backoff_delay_ms(u->storage_attempt, u->opt.retry_initial_ms, u->opt.retry_max_ms,
				 backoff_random(&u->rng));
	if (uplink_log_due(&u->storage_logged_ms, uplink_now_ms()))
		log_error(UPLINK_MODULE, "%s: %s; retrying in %u ms", what, storage_strerror(rc),
			  delay);
	return delay;
}

/* Did the batch stop at a limit, so that more points are probably waiting? */
static bool uplink_batch_full(const struct uplink *u)
{
	const struct storage_batch *b = &u->batch;

	if (b->count >= u->opt.batch_points)
		return true;
	/* storage also stops before batch_bytes: when one more line of the
	 * average size would not have fitted, assume it stopped there. */
	return b->len + b->len / b->count > u->opt.batch_bytes;
}

/* InfluxDB took the batch: delete it from the buffer. Returns the wait. */
static uint32_t uplink_delivered(struct uplink *u)
{
	const struct storage_batch *b = &u->batch;
	uint32_t failures = atomic_exchange(&u->consecutive_failures, 0);
	int rc;

	atomic_fetch_add(&u->requests_ok, 1);
	atomic_fetch_add(&u->points_sent, b->count);
	if (u->failing)
		log_info(UPLINK_MODULE, "delivered again after %u failed attempts", failures);
	u->failing = false;
	u->attempt = 0;
	u->auth_logged_ms = 0;
	log_debug(UPLINK_MODULE, "sent %zu points (%zu bytes, up to id %lld): HTTP %ld in %u ms",
		  b->count, b->len, (long long)b->last_id, u->reply.status, u->reply.elapsed_ms);

	rc = storage_ack(u->storage, b->last_id);
	if (rc != STORAGE_OK) {
		/* They stay in the buffer and go out again; InfluxDB overwrites
		 * identical points, so this costs bandwidth, not duplicates. */
		return uplink_storage_failed(
		    u, "delivered points could not be deleted from the buffer", rc);
	}
	u->storage_attempt = 0;
	return uplink_batch_full(u) ? 0 : u->opt.flush_interval_ms;
}

/* The first 404 "database not found": try to create it, once per lifetime. */
static void uplink_create_database(struct uplink *u)
{
	struct influx_reply *r = &u->reply;
	char what[UPLINK_WHAT_SIZE];

	log_info(UPLINK_MODULE, "InfluxDB has no database \"%s\": sending CREATE DATABASE",
		 u->opt.database);
	if (influx_create_database(u->client, r) != 0 && r->aborted)
		return;
	uplink_describe(r, what, sizeof(what));
	if (r->status < 200 || r->status > 299)
		log_warn(UPLINK_MODULE, "CREATE DATABASE failed: %s", what);
	else if (strstr(r->body, "\"error\"") != NULL)
		log_warn(UPLINK_MODULE, "CREATE DATABASE refused: %s", what);
	else
		log_info(UPLINK_MODULE, "created database \"%s\"", u->opt.database);
}

/* A send failed: keep the batch, log, and choose how long to wait. */
static uint32_t uplink_failed(struct uplink *u)
{
	const struct influx_reply *r = &u->reply;
	char what[UPLINK_WHAT_SIZE];
	uint32_t failures = atomic_fetch_add(&u->consecutive_failures, 1) + 1;
	bool auth = r->status == 401 || r->status == 403;
	int64_t now = uplink_now_ms();
	uint32_t delay;

	atomic_fetch_add(&u->requests_failed, 1);
	if (u->attempt < UINT32_MAX)
		u->attempt++;
	if (auth) {
		delay = u->opt.retry_max_ms;
	} else if ((r->status == 429 || r->status == 503) && r->retry_after_s >= 0) {
		int64_t s = r->retry_after_s;

		s = s < 1 ? 1 : s > UPLINK_RETRY_AFTER_MAX_S ? UPLINK_RETRY_AFTER_MAX_S : s;
		delay = (uint32_t)s * 1000u;
	} else {
		/* Network errors, timeouts, 5xx and every other status. A 400
		 * (unparsable line, field type conflict) also lands here for
		 * now and blocks the queue until fixed: isolating the bad lines
		 * into a dead-letter table is a later issue. */
		delay = backoff_delay_ms(u->attempt, u->opt.retry_initial_ms, u->opt.retry_max_ms,
					 backoff_random(&u->rng));
	}

	uplink_describe(r, what, sizeof(what));
	if (auth) {
		if (uplink_log_due(&u->auth_logged_ms, now))
			log_error(UPLINK_MODULE,
				  "authentication failed (%s): check [uplink] username and "
				  "password; %zu points kept, retrying in %u ms",
				  what, u->batch.count, delay);
		u->fail_logged_ms = now != 0 ? now : 1;
	} else if (!u->failing) {
		log_warn(UPLINK_MODULE, "delivery failing: %s; %zu points kept, retrying in %u ms",
			 what, u->batch.count, delay);
		u->fail_logged_ms = now != 0 ? now : 1;
	} else if (uplink_log_due(&u->fail_logged_ms, now)) {
		log_warn(UPLINK_MODULE,
			 "delivery still failing after %u attempts: %s; retrying in %u ms",
			 failures, what, delay);
	}
	log_debug(UPLINK_MODULE, "batch of %zu points not delivered (%s), next try in %u ms",
		  u->batch.count, what, delay);
	u->failing = true;
	return delay;
}

/* Send the batch just read. Returns how long to wait before the next read. */
static uint32_t uplink_send(struct uplink *u)
{
	struct influx_reply *r = &u->reply;
	int rc = influx_write(u->client, u->batch.text, u->batch.len, r);

	if (rc != 0 && r->aborted) {
		log_debug(UPLINK_MODULE, "stopping: request abandoned, %zu points stay buffered",
			  u->batch.count);
		return 0;
	}
	if (rc == 0 && r->status >= 200 && r->status <= 299)
		return uplink_delivered(u);
	if (rc == 0 && r->status == 404 && strstr(r->body, "database not found") != NULL &&
	    !u->db_create_tried) {
		u->db_create_tried = true;
		atomic_fetch_add(&u->requests_failed, 1);
		uplink_create_database(u);
		return 0;
	}
	return uplink_failed(u);
}

/* The thread: read, send, wait, until uplink_stop(). */
static void *uplink_main(void *arg)
{
	struct uplink *u = arg;

	while (!atomic_load(&u->stop)) {
		uint32_t delay;
		int rc = storage_read_batch(u->storage, u->opt.batch_points, u->opt.batch_bytes,
					    &u->batch);

		if (rc != STORAGE_OK) {
			delay = uplink_storage_failed(u, "cannot read the buffer", rc);
		} else if (u->batch.count == 0) {
			u->storage_attempt = 0;
			delay = u->opt.flush_interval_ms;
		} else {
			u->storage_attempt = 0;
			delay = uplink_send(u);
		}
		if (delay > 0)
			uplink_wait(u, delay);
	}
	storage_batch_free(&u->batch);
	return NULL;
}

/* Free everything; the thread must not be running. Safe on a half-built u. */
static void uplink_destroy(struct uplink *u)
{
	influx_destroy(u->client);
	if (u->wake_ready)
		pthread_cond_destroy(&u->wake);
	if (u->lock_ready)
		pthread_mutex_destroy(&u->lock);
	free((char *)u->opt.url);
	free((char *)u->opt.database);
	free((char *)u->opt.username);
	free((char *)u->opt.password);
	free(u);
}

/* Reject options that would make the loop spin or never time out. */
static int uplink_check_options(const struct uplink_options *o)
{
	const char *bad = NULL;

	if (o->url == NULL || o->url[0] == '\0')
		bad = "url is empty";
	else if (o->database == NULL || o->database[0] == '\0')
		bad = "database is empty";
	else if (o->batch_points == 0 || o->batch_bytes == 0)
		bad = "batch_points and batch_bytes must be > 0";
	else if (o->retry_initial_ms == 0 || o->retry_max_ms == 0)
		bad = "retry_initial and retry_max must be > 0";
	else if (o->timeout_ms == 0)
		bad = "timeout must be > 0";
	if (bad == NULL)
		return 0;
	log_error(UPLINK_MODULE, "bad options: %s", bad);
	return -1;
}

/* Copy the strings, init the wait, the client and the PRNG. Returns 0 or -1. */
static int uplink_init(struct uplink *u, const struct uplink_options *options)
{
	pthread_condattr_t attr;
	struct timespec now;
	int rc;

	u->opt = *options;
	u->opt.url = strdup(options->url);
	u->opt.database = strdup(options->database);
	u->opt.username = strdup(options->username != NULL ? options->username : "");
	u->opt.password = strdup(options->password != NULL ? options->password : "");
	if (u->opt.url == NULL || u->opt.database == NULL || u->opt.username == NULL ||
	    u->opt.password == NULL) {
		log_error(UPLINK_MODULE, "out of memory");
		return -1;
	}
	rc = pthread_mutex_init(&u->lock, NULL);
	if (rc != 0) {
		log_error(UPLINK_MODULE, "pthread_mutex_init: %s", strerror(rc));
		return -1;
	}
	u->lock_ready = true;
	rc = pthread_condattr_init(&attr);
	if (rc != 0) {
		log_error(UPLINK_MODULE, "pthread_condattr_init: %s", strerror(rc));
		return -1;
	}
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&u->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0) {
		log_error(UPLINK_MODULE, "pthread_cond_init: %s", strerror(rc));
		return -1;
	}
	u->wake_ready = true;
	/* Different per process and boot, so a fleet does not retry in step. */
	if (clock_gettime(CLOCK_REALTIME, &now) == 0)
		u->rng = (uint32_t)now.tv_nsec ^ (uint32_t)now.tv_sec ^ ((uint32_t)getpid() << 16);
	return influx_create(&u->opt, uplink_should_abort, u, &u->client);
}

/* The base URL without any user:password@ part, for logs. */
static void uplink_url_for_log(const char *url, char *out, size_t size)
{
	const char *scheme_end = strstr(url, "://");
	const char *host = scheme_end != NULL ? scheme_end + 3 : url;
	size_t authority = strcspn(host, "/?#");
	const char *at = NULL;

	for (size_t i = 0; i < authority; i++) {
		if (host[i] == '@')
			at = host + i;
	}
	if (at == NULL)
		snprintf(out, size, "%s", url);
	else
		snprintf(out, size, "%.*s***@%s", (int)(host - url), url, at + 1);
}

/* Contract in uplink.h: returns 0 and *out (free with uplink_stop()), or -1
 * with the reason logged and *out untouched. Main thread. */
int uplink_start(const struct uplink_options *options, struct storage *s, struct uplink **out)
{
	struct uplink *u = NULL;
	char url[512];
	sigset_t all, old;
	int rc;

	if (options == NULL || s == NULL || out == NULL || uplink_check_options(options) != 0)
		return -1;
	u = calloc(1, sizeof(*u));
	if (u == NULL) {
		log_error(UPLINK_MODULE, "out of memory");
		return -1;
	}
	u->storage = s;
	atomic_init(&u->stop, false);
	atomic_init(&u->points_sent, 0);
	atomic_init(&u->requests_ok, 0);
	atomic_init(&u->requests_failed, 0);
	atomic_init(&u->consecutive_failures, 0);
	if (uplink_init(u, options) != 0)
		goto fail;

	uplink_url_for_log(u->opt.url, url, sizeof(url));
	log_info(UPLINK_MODULE, "forwarding to %s, database \"%s\"%s", url, u->opt.database,
		 u->opt.username[0] != '\0' ? " (basic auth)" : "");

	/* The thread blocks asynchronous signals: they go to the main thread. */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc != 0) {
		log_error(UPLINK_MODULE, "pthread_sigmask: %s", strerror(rc));
		goto fail;
	}
	rc = pthread_create(&u->thread, NULL, uplink_main, u);
	if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0)
		log_error(UPLINK_MODULE, "cannot restore the signal mask");
	if (rc != 0) {
		log_error(UPLINK_MODULE, "pthread_create: %s", strerror(rc));
		goto fail;
	}
	u->thread_started = true;
	*out = u;
	return 0;
fail:
	uplink_destroy(u);
	return -1;
}

/* Contract in uplink.h: joins the thread and frees u. Main thread, once. */
void uplink_stop(struct uplink *u)
{
	if (u == NULL)
		return;
	if (u->thread_started) {
		int rc;

		atomic_store(&u->stop, true);
		/* Taking the lock orders the flag before a waiter's check. */
		rc = pthread_mutex_lock(&u->lock);
		if (rc == 0) {
			rc = pthread_cond_broadcast(&u->wake);
			if (rc != 0)
				log_error(UPLINK_MODULE, "pthread_cond_broadcast: %s",
					  strerror(rc));
			rc = pthread_mutex_unlock(&u->lock);
		}
		if (rc != 0)
			log_error(UPLINK_MODULE, "waking the uplink thread: %s", strerror(rc));
		rc = pthread_join(u->thread, NULL);
		if (rc != 0)
			log_error(UPLINK_MODULE, "pthread_join: %s", strerror(rc));
	}
	log_info(UPLINK_MODULE, "stopped: %llu points sent in %llu requests, %llu failed",
		 (unsigned long long)atomic_load(&u->points_sent),
		 (unsigned long long)atomic_load(&u->requests_ok),
		 (unsigned long long)atomic_load(&u->requests_failed));
	uplink_destroy(u);
}

/* Contract in uplink.h: fills *out (zeros for a NULL u). Any thread. */
void uplink_get_stats(struct uplink *u, struct uplink_stats *out)
{
	if (u == NULL) {
		memset(out, 0, sizeof(*out));
		return;
	}
	out->points_sent = atomic_load(&u->points_sent);
	out->requests_ok = atomic_load(&u->requests_ok);
	out->requests_failed = atomic_load(&u->requests_failed);
	out->consecutive_failures = atomic_load(&u->consecutive_failures);
}
