/* uplink.c -- the forwarder thread's life: options, batching and flush timing, stop, counters. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "uplink.h"

#include <errno.h>
#include <stdint.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "redact.h"
#include "uplink_internal.h"

#define UPLINK_STOP_GRACE_MS 5000 /* a request in flight at stop may take this long */
#define UPLINK_READ_AHEAD 4	  /* requests per read of a backlog, acknowledged together */
#define UPLINK_READ_MAX_BYTES (16u << 20) /* but never more than this in memory */

/* Contract in uplink_internal.h. */
void uplink_busy(struct uplink *u)
{
	atomic_store(&u->busy_since_ms, clock_mono_ms()); /* never 0 */
}

/* Sleep up to `ms`, returning at once when uplink_stop() is called. */
static void uplink_wait(struct uplink *u, uint32_t ms)
{
	struct timespec deadline = clock_deadline_ns((int64_t)ms * 1000000);
	int rc;

	atomic_store(&u->busy_since_ms, 0); /* waiting is healthy */
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

/* Wait until the buffer holds `points` points or `bytes` bytes, `ms` pass
 * (< 0: no limit), or uplink_stop() is called. No polling: asleep in
 * storage_target_wait(), ended by the writer's commit that brings the points or by
 * uplink_stop()'s storage_target_wake(). */
static void uplink_wait_for_points(struct uplink *u, uint64_t points, uint64_t bytes, int64_t ms)
{
	int64_t deadline = clock_mono_ms() + ms;

	atomic_store(&u->busy_since_ms, 0); /* waiting is healthy */
	for (;;) {
		/* Read before the looks below: a storage_target_wake() after them is not missed. */
		uint64_t seen = storage_target_wake_seq(u->target);
		struct storage_target_stats st;
		int64_t left = -1;
		int rc;

		storage_target_get_stats(u->target, &st);
		if (st.points >= points || st.bytes >= bytes || atomic_load(&u->stop) ||
		    atomic_load(&u->offers_pending))
			return;
		if (ms >= 0) {
			left = deadline - clock_mono_ms();
			if (left <= 0)
				return;
		}
		rc = storage_target_wait(u->target, points, bytes, seen,
					 left > INT_MAX ? INT_MAX : (int)left);
		if (rc != STORAGE_OK) {
			/* Not while the uplink runs (the only reader, before storage_close);
			 * should it happen, a timed wait instead of a spin. */
			uplink_wait(u, uplink_storage_failed(u, "cannot wait for points", rc));
			return;
		}
	}
}

/* influx_abort_fn: abandon the request in flight once stop has been asked
 * for longer than the grace period. */
static bool uplink_should_abort(void *arg)
{
	struct uplink *u = arg;

	if (!atomic_load(&u->stop))
		return false;
	return clock_mono_ms() - atomic_load(&u->stop_at_ms) >= (int64_t)u->stop_grace_ms;
}

/* Make u->win the next request: lines of u->batch from `first`, at most
 * u->win_points points and u->limit_bytes bytes (or one line, whatever its
 * size). Returns true when it stopped at one of those limits (a full request),
 * false when the batch ran out first. */
static bool uplink_window(struct uplink *u, size_t first)
{
	const struct storage_batch *b = &u->batch;
	struct uplink_window *w = &u->win;
	size_t start = b->offsets != NULL ? b->offsets[first] : 0;
	size_t n = 1;

	if (b->offsets == NULL) {
		/* No line offsets: the whole batch is one request. */
		n = b->count;
	} else {
		while (first + n < b->count && n < u->win_points) {
			/* The window's end if line first + n joins it. */
			size_t end = first + n + 1 < b->count ? b->offsets[first + n + 1] : b->len;

			if (end - start > u->limit_bytes)
				break;
			n++;
		}
	}
	w->first = first;
	w->count = n;
	w->text = b->text + start;
	w->len = (first + n < b->count ? b->offsets[first + n] : b->len) - start;
	w->last_id = b->ids != NULL ? b->ids[first + n - 1] : b->last_id;
	if (n >= u->win_points)
		return true;
	if (first + n < b->count)
		return true; /* stopped at limit_bytes */
	/* The batch ran out: full if one more line of the average size would not fit. */
	return w->len + w->len / n > u->limit_bytes;
}

/* Delete everything up to `last_id` from the buffer. Returns the wait. */
static uint32_t uplink_ack(struct uplink *u, int64_t last_id)
{
	int rc = storage_target_ack(u->target, last_id);

	if (rc != STORAGE_OK) {
		/* They stay in the buffer and go out again; InfluxDB overwrites
		 * identical points, so this costs bandwidth, not duplicates. */
		return uplink_storage_failed(
		    u, "delivered points could not be deleted from the buffer", rc);
	}
	u->storage_attempt = 0;
	return 0;
}

/* Send the batch just read as one or more requests, oldest first, and delete
 * what InfluxDB took with one ack. A tail that is not a full request is left
 * for the next read. Returns how long to wait before the next read. */
static uint32_t uplink_send_batch(struct uplink *u)
{
	int64_t delivered_to = 0;
	uint32_t delay = 0;
	size_t first = 0;

	while (first < u->batch.count && !atomic_load(&u->stop)) {
		bool full = uplink_window(u, first);
		bool delivered = false;

		if (!full && first > 0)
			break;
		delay = uplink_forward(u, &delivered);
		if (!delivered)
			break;
		delivered_to = u->win.last_id;
		first += u->win.count;
	}
	if (delivered_to > 0) {
		uint32_t ack_delay;

		uplink_busy(u);
		ack_delay = uplink_ack(u, delivered_to);

		if (ack_delay > delay)
			delay = ack_delay;
	}
	return delay;
}

/* Read the oldest points: a few requests' worth, or one probe while bisecting. */
static int uplink_read(struct uplink *u)
{
	size_t points = u->limit_points;
	size_t bytes = u->limit_bytes;

	u->win_points = u->limit_points;
	if (u->probe_points > 0) {
		if (u->probe_points < u->win_points)
			u->win_points = u->probe_points;
		points = u->win_points;
	} else {
		points =
		    points > SIZE_MAX / UPLINK_READ_AHEAD ? SIZE_MAX : points * UPLINK_READ_AHEAD;
		bytes = bytes > UPLINK_READ_MAX_BYTES / UPLINK_READ_AHEAD
			    ? (bytes > UPLINK_READ_MAX_BYTES ? bytes : UPLINK_READ_MAX_BYTES)
			    : bytes * UPLINK_READ_AHEAD;
	}
	return storage_target_read_batch(u->target, points, bytes, &u->batch);
}

/* The thread: read, wait for a full request or the flush interval, send,
 * until uplink_stop(). */
static void *uplink_main(void *arg)
{
	struct uplink *u = arg;
	int64_t pending_since = 0; /* when a request that is not full was first seen */

	/* for top -H and tests/bench/bench_idle.sh: at most 15 bytes, cannot fail;
	 * the first target's thread is "uplink", the others' "up:NAME" */
	if (storage_target_at(u->storage, 0) == u->target) {
		(void)pthread_setname_np(pthread_self(), "uplink");
	} else {
		char thread_name[16];

		snprintf(thread_name, sizeof(thread_name), "up:%.12s", u->name);
		(void)pthread_setname_np(pthread_self(), thread_name);
	}
	while (!atomic_load(&u->stop)) {
		uint32_t delay = 0;
		int rc;

		uplink_busy(u);
		if (atomic_load(&u->offers_pending)) {
			/* buffer.write = spill: offers go first, at once. */
			delay = uplink_send_offers(u);
			if (delay > 0)
				uplink_wait(u, delay);
			continue;
		}
		rc = uplink_read(u);

		if (rc != STORAGE_OK) {
			delay = uplink_storage_failed(u, "cannot read the buffer", rc);
		} else if (u->batch.count == 0) {
			u->storage_attempt = 0;
			pending_since = 0;
			/* Nothing to flush: sleep until the first point commits. */
			uplink_wait_for_points(u, 1, 1, -1);
			continue;
		} else {
			int64_t now = clock_mono_ms();

			u->storage_attempt = 0;
			/* A request that is not full waits for more points up to the
			 * flush interval; retries and bisection steps go at once. */
			if (!uplink_window(u, 0) && u->attempt == 0 && u->probe_points == 0) {
				if (pending_since == 0)
					pending_since = now;
				if (now - pending_since < (int64_t)u->opt.flush_interval_ms) {
					uplink_wait_for_points(u, u->win_points, u->limit_bytes,
							       (uint32_t)(u->opt.flush_interval_ms -
									  (now - pending_since)));
					continue;
				}
			}
			pending_since = 0;
			delay = uplink_send_batch(u);
		}
		if (delay > 0)
			uplink_wait(u, delay);
	}
	storage_batch_free(&u->batch);
	return NULL;
}

/* Wipe a secret (a token, a password) before its memory goes back: no
 * copy is left in freed memory. NULL-safe. */
static void uplink_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Free everything; the thread must not be running. Safe on a half-built u. */
static void uplink_destroy(struct uplink *u)
{
	uplink_offers_close(u);
	influx_destroy(u->client);
	if (u->wake_ready)
		pthread_cond_destroy(&u->wake);
	if (u->lock_ready)
		pthread_mutex_destroy(&u->lock);
	if (u->error_lock_ready)
		pthread_mutex_destroy(&u->error_lock);
	free(u->lines);
	free(u->line_ids);
	free((char *)u->opt.url);
	free((char *)u->opt.database);
	free((char *)u->opt.retention_policy);
	free((char *)u->opt.username);
	uplink_free_secret((char *)u->opt.password);
	free((char *)u->opt.org);
	free((char *)u->opt.bucket);
	uplink_free_secret((char *)u->opt.token);
	free((char *)u->opt.ca_file);
	free(u);
}

/* Reject options that would make the loop spin or never time out. */
static int uplink_check_options(const struct uplink_options *o)
{
	const char *bad = NULL;

	if (o->url == NULL || o->url[0] == '\0')
		bad = "url is empty";
	else if (o->api == UPLINK_API_V1 && (o->database == NULL || o->database[0] == '\0'))
		bad = "database is empty";
	else if (o->api == UPLINK_API_V2 && (o->bucket == NULL || o->bucket[0] == '\0'))
		bad = "bucket is empty (api = v2)";
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

/* strdup of s, or of "" for NULL. */
static char *uplink_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

/* Copy the options with their strings. Returns 0 or -1. */
static int uplink_copy_options(struct uplink *u, const struct uplink_options *o)
{
	u->opt = *o;
	u->opt.url = uplink_strdup(o->url);
	u->opt.database = uplink_strdup(o->database);
	u->opt.retention_policy = uplink_strdup(o->retention_policy);
	u->opt.username = uplink_strdup(o->username);
	u->opt.password = uplink_strdup(o->password);
	u->opt.org = uplink_strdup(o->org);
	u->opt.bucket = uplink_strdup(o->bucket);
	u->opt.token = uplink_strdup(o->token);
	u->opt.ca_file = uplink_strdup(o->ca_file);
	if (u->opt.url == NULL || u->opt.database == NULL || u->opt.retention_policy == NULL ||
	    u->opt.username == NULL || u->opt.password == NULL || u->opt.org == NULL ||
	    u->opt.bucket == NULL || u->opt.token == NULL || u->opt.ca_file == NULL)
		return -1;
	u->lines = calloc(o->batch_points, sizeof(*u->lines));
	u->line_ids = calloc(o->batch_points, sizeof(*u->line_ids));
	if (u->lines == NULL || u->line_ids == NULL)
		return -1;
	return 0;
}

/* Init the locks, the wait and the PRNG. Returns 0 or -1. */
static int uplink_init_sync(struct uplink *u)
{
	int64_t now;
	int rc;

	rc = pthread_mutex_init(&u->lock, NULL);
	if (rc != 0)
		goto fail;
	u->lock_ready = true;
	rc = pthread_mutex_init(&u->error_lock, NULL);
	if (rc != 0)
		goto fail;
	u->error_lock_ready = true;
	rc = clock_cond_init(&u->wake);
	if (rc != 0)
		goto fail;
	u->wake_ready = true;
	rc = uplink_offers_init(u);
	if (rc != 0)
		goto fail;
	/* Different per process and boot, so a fleet does not retry in step. */
	now = clock_wall_ns();
	u->rng = (uint32_t)(now % 1000000000) ^ (uint32_t)(now / 1000000000) ^
		 ((uint32_t)getpid() << 16);
	return 0;
fail:
	log_error(UPLINK_MODULE, "cannot set up the thread's locks: %s", strerror(rc));
	return -1;
}

/* Copy the options, init the wait, the client and the state. Returns 0 or -1. */
static int uplink_init(struct uplink *u, const struct uplink_options *options)
{
	if (uplink_copy_options(u, options) != 0) {
		log_error(UPLINK_MODULE, "out of memory");
		return -1;
	}
	if (uplink_init_sync(u) != 0)
		return -1;
	u->limit_points = u->opt.batch_points;
	u->limit_bytes = u->opt.batch_bytes;
	u->stop_grace_ms =
	    u->opt.timeout_ms < UPLINK_STOP_GRACE_MS ? u->opt.timeout_ms : UPLINK_STOP_GRACE_MS;
	atomic_store(&u->batch_points_now, u->limit_points);
	atomic_store(&u->batch_bytes_now, u->limit_bytes);
	return influx_create(&u->opt, uplink_should_abort, u, &u->client);
}

/* One start-up line saying where the points go and how. */
static void uplink_log_target(const struct uplink *u)
{
	const struct uplink_options *o = &u->opt;
	char url[512];
	const char *hidden = "";

	if (redact_url(o->url, url, sizeof(url)) != 0)
		snprintf(url, sizeof(url), "(a URL too long to show)");
	if (strcmp(url, o->url) != 0)
		hidden = " (the URL's credentials or query not shown)";
	if (o->api == UPLINK_API_V2)
		log_info(UPLINK_MODULE, "forwarding to %s%s (v2), org \"%s\", bucket \"%s\"%s%s%s",
			 url, hidden, o->org, o->bucket, o->token[0] != '\0' ? ", token" : "",
			 o->gzip ? ", gzip" : "", u->log_suffix);
	else
		log_info(UPLINK_MODULE, "forwarding to %s%s (v1), database \"%s\"%s%s%s%s%s", url,
			 hidden, o->database, o->retention_policy[0] != '\0' ? ", rp " : "",
			 o->retention_policy, o->username[0] != '\0' ? ", basic auth" : "",
			 o->gzip ? ", gzip" : "", u->log_suffix);
}

/* Contract in uplink.h: returns 0 and *out (free with uplink_stop()), or -1
 * with the reason logged and *out untouched. Main thread. */
int uplink_start(const struct uplink_options *options, struct storage *s, struct uplink **out)
{
	struct uplink *u = NULL;
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
	u->target = options->name != NULL && options->name[0] != '\0'
			? storage_target_find(s, options->name)
			: storage_target_at(s, 0);
	if (u->target == NULL) {
		log_error(UPLINK_MODULE, "the buffer has no target \"%s\"", options->name);
		goto fail;
	}
	{
		struct storage_target_stats ts;

		storage_target_get_stats(u->target, &ts);
		memcpy(u->name, ts.name, sizeof(u->name));
		if (storage_target_count(s) > 1)
			snprintf(u->log_suffix, sizeof(u->log_suffix), "; target \"%s\"", u->name);
	}
	if (uplink_init(u, options) != 0)
		goto fail;
	uplink_log_target(u);

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
	struct uplink_stats st;

	if (u == NULL)
		return;
	if (u->thread_started) {
		int rc;

		atomic_store(&u->stop_at_ms, clock_mono_ms());
		atomic_store(&u->stop, true);
		/* After the flag: a thread waiting for points wakes and sees it. */
		storage_target_wake(u->target);
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
	/* Offers still pending are answered "not delivered": they go to the buffer. */
	uplink_offers_close(u);
	uplink_get_stats(u, &st);
	log_info(UPLINK_MODULE,
		 "stopped: %" PRIu64 " points sent in %" PRIu64 " requests, %" PRIu64
		 " failed requests, %" PRIu64 " retries, %" PRIu64 " points rejected, %" PRIu64
		 " splits, %" PRIu64 " bytes of line protocol sent as %" PRIu64 " bytes%s",
		 st.points_sent, st.requests_ok, st.requests_failed, st.retries, st.points_rejected,
		 st.splits, st.bytes_raw, st.bytes_sent, u->log_suffix);
	uplink_destroy(u);
}

/* Contract in uplink.h. */
const char *uplink_target_name(const struct uplink *u)
{
	return u != NULL ? u->name : "";
}

/* Contract in uplink.h: fills *out (zeros for a NULL u). Any thread. */
void uplink_get_stats(struct uplink *u, struct uplink_stats *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (u == NULL)
		return;
	out->points_sent = atomic_load(&u->points_sent);
	out->requests_ok = atomic_load(&u->requests_ok);
	out->requests_failed = atomic_load(&u->requests_failed);
	out->consecutive_failures = atomic_load(&u->consecutive_failures);
	out->retries = atomic_load(&u->retries);
	out->points_rejected = atomic_load(&u->points_rejected);
	out->splits = atomic_load(&u->splits);
	out->bytes_raw = atomic_load(&u->bytes_raw);
	out->bytes_sent = atomic_load(&u->bytes_sent);
	out->last_success_ms = atomic_load(&u->last_success_ms);
	out->last_error_ms = atomic_load(&u->last_error_ms);
	out->last_error_class = (enum uplink_error_class)atomic_load(&u->last_error_class);
	out->auth_failed = atomic_load(&u->auth_failed);
	out->batch_points = atomic_load(&u->batch_points_now);
	out->batch_bytes = atomic_load(&u->batch_bytes_now);
	out->server_isolations = atomic_load(&u->server_isolations);
	out->points_rejected_server = atomic_load(&u->points_rejected_server);
	rc = pthread_mutex_lock(&u->error_lock);
	if (rc == 0) {
		memcpy(out->last_error, u->last_error, sizeof(out->last_error));
		rc = pthread_mutex_unlock(&u->error_lock);
	}
	if (rc != 0)
		log_error(UPLINK_MODULE, "error_lock: %s", strerror(rc));
}

/* Contract in uplink.h. Any thread. */
uint64_t uplink_heartbeat_ms(struct uplink *u)
{
	int64_t busy = atomic_load(&u->busy_since_ms);

	return (uint64_t)(busy != 0 ? busy : clock_mono_ms());
}

/* Contract in uplink.h: a static string. Any thread. */
const char *uplink_error_class_name(enum uplink_error_class c)
{
	static const char *const names[] = {
	    [UPLINK_ERROR_NONE] = "none",	    [UPLINK_ERROR_NETWORK] = "network",
	    [UPLINK_ERROR_TIMEOUT] = "timeout",	    [UPLINK_ERROR_SERVER] = "server",
	    [UPLINK_ERROR_THROTTLED] = "throttled", [UPLINK_ERROR_AUTH] = "auth",
	    [UPLINK_ERROR_NOT_FOUND] = "not_found", [UPLINK_ERROR_TOO_LARGE] = "too_large",
	    [UPLINK_ERROR_BAD_DATA] = "bad_data",   [UPLINK_ERROR_OTHER] = "other",
	    [UPLINK_ERROR_STORAGE] = "storage",
	};

	if ((unsigned)c >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[c];
}
