/* collect.c -- the collector thread: runs every collector on its wall-clock grid and hands the
 * points to the buffer. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "collect.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "collect_config.h"
#include "collect_internal.h"
#include "collect_sysfs.h"
#include "log.h"

#define COLLECT_RETRY_MS 100		   /* a BUSY append is tried again after this */
#define COLLECT_RETRY_MAX_BYTES (4u << 20) /* text kept for retries at most */
#define COLLECT_RETRY_MAX_ITEMS 1024
#define COLLECT_STOP_RETRY_MS 5000	   /* at stop: how long BUSY text is still offered */
#define COLLECT_LOG_AGAIN_MS (3600 * 1000) /* an identical problem is logged again after this */
#define NS_PER_MS 1000000LL

/* Text storage refused with BUSY, kept for another try. */
struct collect_retry {
	struct collect_item *it;
	char *text;
	size_t len;
	size_t points;
};

void collect_problem(struct collect_item *it, uint64_t errors, const char *msg)
{
	collect_problem_detail(it, errors, msg, msg);
}

void collect_problem_detail(struct collect_item *it, uint64_t errors, const char *brief,
			    const char *msg)
{
	struct collect *c = it->owner;
	struct collect_logged *slot = &it->logged[0];

	pthread_mutex_lock(&c->lock);
	it->stats.errors += errors;
	snprintf(it->stats.last_error, sizeof(it->stats.last_error), "%s", brief);
	pthread_mutex_unlock(&c->lock);
	/* The same slot when seen before, else the oldest one. */
	for (size_t i = 0; i < COLLECT_LOGGED; i++) {
		struct collect_logged *l = &it->logged[i];
		int64_t last = atomic_load(&l->limit.last_ms);
		if (last && strncmp(l->msg, msg, sizeof(l->msg) - 1) == 0) {
			slot = l;
			break;
		}
		if (last < atomic_load(&slot->limit.last_ms))
			slot = l;
	}
	bool seen = atomic_load(&slot->limit.last_ms) &&
		    strncmp(slot->msg, msg, sizeof(slot->msg) - 1) == 0;
	if (!seen) {
		log_limit_reset(&slot->limit);
		snprintf(slot->msg, sizeof(slot->msg), "%s", msg);
	}
	if (!log_limit(&slot->limit, COLLECT_LOG_AGAIN_MS, 1))
		return;
	log_warn(COLLECT_MOD, "%s: %s%s", it->cfg.name, msg,
		 seen ? " (still; an identical problem is logged once an hour)" : "");
}

uint64_t collect_errors_total(struct collect *c)
{
	uint64_t sum = 0;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++)
		sum += c->items[i].stats.errors;
	pthread_mutex_unlock(&c->lock);
	return sum;
}

/* ingest_done_fn: the commit of one run's points finished (a failure is
 * logged by the door). Writer thread. */
static void collect_done(void *arg, int result, size_t points, const char *refused)
{
	(void)refused; /* counted as stored: the buffer's path rejects those lines */
	struct collect_item *it = arg;
	struct collect *c = it->owner;

	pthread_mutex_lock(&c->lock);
	if (result == STORAGE_OK) {
		it->stats.points += points;
	} else {
		it->stats.errors++;
		snprintf(it->stats.last_error, sizeof(it->stats.last_error),
			 "%zu points not stored: %s", points, storage_strerror(result));
	}
	pthread_mutex_unlock(&c->lock);
	ingest_settle(c->ingest);
}

/* Text that will never be stored: count its points as errors. */
static void collect_drop(struct collect_item *it, char *text, size_t points, int rc)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "%zu points not stored: %s", points, storage_strerror(rc));
	free(text);
	collect_problem(it, points, msg);
}

int collect_submit(struct collect_item *it, struct lineproto_buf *buf, size_t points)
{
	struct collect *c = it->owner;
	size_t len;
	char *text = lineproto_buf_steal(buf, &len);

	if (!text || len == 0) {
		free(text);
		return 0;
	}
	int rc = ingest_submit(c->ingest, text, len, points, collect_done, it);
	if (rc == STORAGE_OK)
		return 0;
	/* Refused: the text is still ours, to keep for a retry or to drop. */
	if (rc == STORAGE_ERR_BUSY && c->n_retry < COLLECT_RETRY_MAX_ITEMS &&
	    c->retry_bytes + len <= COLLECT_RETRY_MAX_BYTES) {
		if (c->n_retry == 0)
			c->retry_at_ms = clock_mono_ms() + COLLECT_RETRY_MS;
		c->retry[c->n_retry++] =
		    (struct collect_retry){.it = it, .text = text, .len = len, .points = points};
		c->retry_bytes += len;
		log_debug(COLLECT_MOD, "%s: buffer busy, %zu bytes kept for a retry", it->cfg.name,
			  len);
		return 0;
	}
	collect_drop(it, text, points, rc);
	return -1;
}

/* Offer the kept texts to storage again, oldest first, until one is BUSY. */
static void collect_retry_flush(struct collect *c)
{
	size_t done = 0;
	for (; done < c->n_retry; done++) {
		struct collect_retry *r = &c->retry[done];
		int rc = ingest_submit(c->ingest, r->text, r->len, r->points, collect_done, r->it);
		if (rc == STORAGE_ERR_BUSY)
			break;
		if (rc != STORAGE_OK)
			collect_drop(r->it, r->text, r->points, rc);
		c->retry_bytes -= r->len;
	}
	memmove(c->retry, c->retry + done, (c->n_retry - done) * sizeof(*c->retry));
	c->n_retry -= done;
	c->retry_at_ms = clock_mono_ms() + COLLECT_RETRY_MS;
}

/* Read a cpu_temp or file collector or the edge's figures for grid time ts. */
static void collect_read_now(struct collect_item *it, int64_t ts, struct lineproto_buf *buf)
{
	struct collect_read r = {.root = it->owner->root,
				 .measurement = it->cfg.measurement,
				 .extra_tags = it->cfg.tags,
				 .ts_ns = ts,
				 .out = buf};
	int rc = 0;

	switch (it->cfg.type) {
	case COLLECT_CPU_TEMP:
		rc = collect_cpu_temp(&r);
		break;
	case COLLECT_FILE:
		rc = collect_file(&r, it->cfg.path, it->cfg.scale, it->cfg.offset, it->cfg.field);
		break;
	case COLLECT_EDGE:
		rc = collect_edge_read(it, ts, buf, r.error, sizeof(r.error));
		if (rc < 0) {
			r.errors++;
			break;
		}
		r.points = rc;
		rc = 0;
		break;
	case COLLECT_W1:   /* on a thread of its own: collect_async.c */
	case COLLECT_EXEC: /* collect_exec.c */
		return;
	}
	collect_read_finish(it, &r, rc, buf);
}

void collect_read_finish(struct collect_item *it, struct collect_read *r, int rc,
			 struct lineproto_buf *buf)
{
	if (rc != 0 && it->cfg.type != COLLECT_EDGE) {
		r->errors++;
		snprintf(r->error, sizeof(r->error), "too many points or out of memory");
	}
	pthread_mutex_lock(&it->owner->lock);
	it->stats.skipped += r->skipped;
	it->stats.runs++; /* with skipped: /status sees both or neither */
	pthread_mutex_unlock(&it->owner->lock);
	if (r->errors)
		collect_problem(it, r->errors, r->error[0] ? r->error : "read failed");
	if (rc == 0)
		collect_submit(it, buf, (size_t)r->points);
	lineproto_buf_free(buf);
}

/* The first grid time after `now`. */
static int64_t collect_grid_after(int64_t now, int64_t interval)
{
	return (now / interval + 1) * interval;
}

/* Run `it` if its grid time has come (or skip it when late or still busy). */
static void collect_due(struct collect_item *it, int64_t now, struct lineproto_buf *buf)
{
	int64_t interval = (int64_t)it->cfg.interval_ms * NS_PER_MS;
	int64_t grid = it->next_ns;
	char msg[160];

	if (it->next_ns - now > interval) /* the clock went back: join the grid again */
		it->next_ns = collect_grid_after(now, interval);
	if (now < it->next_ns)
		return;
	if (now - grid > interval) {
		it->next_ns = collect_grid_after(now, interval);
		snprintf(msg, sizeof(msg),
			 "late by %" PRId64 " ms (suspend or clock jump): skipped to the next "
			 "grid time",
			 (int64_t)((now - grid) / NS_PER_MS));
		collect_problem(it, 1, msg);
		return;
	}
	it->next_ns = grid + interval;
	if (it->exec.pid > 0) {
		snprintf(msg, sizeof(msg), "previous run of \"%s\" still going: a run skipped",
			 it->cfg.command);
		collect_problem(it, 1, msg);
		return;
	}
	if (collect_async_running(it)) {
		collect_problem(it, 1, "previous reading still going: a run skipped");
		return;
	}
	pthread_mutex_lock(&it->owner->lock);
	it->stats.last_run_ns = grid;
	pthread_mutex_unlock(&it->owner->lock);
	if (it->cfg.type == COLLECT_EXEC) {
		collect_exec_start(it, grid);
		return;
	}
	if (it->cfg.type == COLLECT_W1) { /* blocks for the conversions: off the loop */
		collect_async_start(it, grid);
		return;
	}
	collect_read_now(it, grid, buf);
}

static bool collect_stopping(struct collect *c)
{
	pthread_mutex_lock(&c->lock);
	bool stop = c->stop;
	pthread_mutex_unlock(&c->lock);
	return stop;
}

/* Kill what runs, finish a w1 run (its conversion), offer what was read to storage, wait for
 * the commits. */
static void collect_drain(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++) {
		collect_exec_abort(&c->items[i]);
		collect_async_reap(&c->items[i], true);
	}
	int64_t give_up = clock_mono_ms() + COLLECT_STOP_RETRY_MS;
	while (c->n_retry > 0 && clock_mono_ms() < give_up) {
		collect_retry_flush(c);
		if (c->n_retry > 0)
			poll(NULL, 0, 10);
	}
	for (size_t i = 0; i < c->n_retry; i++)
		collect_drop(c->retry[i].it, c->retry[i].text, c->retry[i].points,
			     STORAGE_ERR_BUSY);
	c->n_retry = 0;
	ingest_stop(c->ingest);
}

static void *collect_thread(void *arg)
{
	struct collect *c = arg;
	struct lineproto_buf buf;
	struct pollfd *pfd = calloc(1 + 2 * c->n, sizeof(*pfd));
	struct collect_item **owner = calloc(1 + 2 * c->n, sizeof(*owner));

	/* for top -H and tests/bench/bench_idle.sh: at most 15 bytes, cannot fail */
	(void)pthread_setname_np(pthread_self(), "collect");
	lineproto_buf_init(&buf, COLLECT_OUTPUT_MAX);
	if (!pfd || !owner) {
		log_error(COLLECT_MOD, "out of memory: the collectors do not run");
		goto out;
	}
	while (!collect_stopping(c)) {
		int64_t now = clock_wall_ns(), now_ms = clock_mono_ms();
		int64_t wake_ms = now_ms + 3600 * 1000;

		for (size_t i = 0; i < c->n; i++) {
			struct collect_item *it = &c->items[i];
			collect_async_reap(it, false);
			collect_due(it, now, &buf);
			if (it->exec.pid > 0 && collect_exec_step(it, now_ms, &wake_ms)) {
				collect_exec_finish(it);
				pthread_mutex_lock(&c->lock);
				it->stats.runs++;
				pthread_mutex_unlock(&c->lock);
			}
		}
		if (c->n_retry > 0 && now_ms >= c->retry_at_ms)
			collect_retry_flush(c);
		if (c->n_retry > 0 && c->retry_at_ms < wake_ms)
			wake_ms = c->retry_at_ms;
		/* Sleep until the earliest grid time (rounded up to a whole ms). */
		now = clock_wall_ns();
		now_ms = clock_mono_ms();
		for (size_t i = 0; i < c->n; i++) {
			int64_t due =
			    now_ms + (c->items[i].next_ns - now + NS_PER_MS - 1) / NS_PER_MS;
			if (due < wake_ms)
				wake_ms = due;
		}
		size_t nfd = 1;
		pfd[0] = (struct pollfd){.fd = c->wake[0], .events = POLLIN};
		for (size_t i = 0; i < c->n; i++) {
			size_t added = collect_exec_pollfds(&c->items[i], pfd + nfd);
			for (size_t k = 0; k < added; k++)
				owner[nfd + k] = &c->items[i];
			nfd += added;
		}
		int64_t timeout = wake_ms > now_ms ? wake_ms - now_ms : 0;
		int rc = poll(pfd, nfd, (int)timeout);
		if (rc < 0 && errno != EINTR) {
			log_error(COLLECT_MOD, "poll: %s", strerror(errno));
			poll(NULL, 0, 100);
			continue;
		}
		if (rc <= 0)
			continue;
		if (pfd[0].revents) {
			char drain[16];
			while (read(c->wake[0], drain, sizeof(drain)) > 0)
				;
		}
		for (size_t k = 1; k < nfd; k++) {
			if (pfd[k].revents)
				collect_exec_read(owner[k], pfd[k].fd);
		}
	}
out:
	collect_drain(c);
	lineproto_buf_free(&buf);
	free(pfd);
	free(owner);
	return NULL;
}

static void collect_free(struct collect *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		collect_config_clear(&c->items[i].cfg);
	free(c->items);
	free(c->retry);
	free(c->root);
	for (int i = 0; i < 2; i++) {
		if (c->wake[i] >= 0)
			close(c->wake[i]);
	}
	ingest_destroy(c->ingest);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int collect_start(const struct collect_config *list, size_t n, const char *sysfs_root,
		  const struct collect_sources *sources, struct collect **out)
{
	struct collect *c = calloc(1, sizeof(*c));
	int64_t now = clock_wall_ns();

	*out = NULL;
	if (!c) {
		log_error(COLLECT_MOD, "out of memory");
		return -1;
	}
	c->wake[0] = c->wake[1] = -1;
	pthread_mutex_init(&c->lock, NULL);
	c->src = *sources;
	c->root = strdup(sysfs_root ? sysfs_root : "/");
	c->items = calloc(n ? n : 1, sizeof(*c->items));
	c->retry = calloc(COLLECT_RETRY_MAX_ITEMS, sizeof(*c->retry));
	if (!c->root || !c->items || !c->retry) {
		log_error(COLLECT_MOD, "out of memory");
		goto fail;
	}
	if (ingest_create(sources->storage, COLLECT_MOD, &c->ingest) != 0 ||
	    ingest_set_tags(c->ingest, sources->tags) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (!list[i].enabled)
			continue;
		struct collect_item *it = &c->items[c->n++];
		it->owner = c;
		it->exec.out_fd = it->exec.err_fd = -1;
		if (collect_config_copy(&it->cfg, &list[i]) != 0)
			goto fail;
		it->stats.name = it->cfg.name;
		it->stats.type = collect_type_name(it->cfg.type);
		it->stats.interval_ms = it->cfg.interval_ms;
		it->next_ns = collect_grid_after(now, (int64_t)it->cfg.interval_ms * NS_PER_MS);
	}
	if (c->n == 0) {
		*out = c;
		return 0;
	}
	if (pipe(c->wake) != 0) {
		log_error(COLLECT_MOD, "pipe: %s", strerror(errno));
		goto fail;
	}
	for (int i = 0; i < 2; i++) {
		if (fcntl(c->wake[i], F_SETFD, FD_CLOEXEC) != 0 ||
		    fcntl(c->wake[i], F_SETFL, O_NONBLOCK) != 0) {
			log_error(COLLECT_MOD, "fcntl: %s", strerror(errno));
			goto fail;
		}
	}
	int rc = pthread_create(&c->thread, NULL, collect_thread, c);
	if (rc != 0) {
		log_error(COLLECT_MOD, "cannot start the collector thread: %s", strerror(rc));
		goto fail;
	}
	c->started = true;
	for (size_t i = 0; i < c->n; i++)
		log_info(COLLECT_MOD, "collector %s (%s) every %" PRIu64 " ms",
			 c->items[i].cfg.name, collect_type_name(c->items[i].cfg.type),
			 c->items[i].cfg.interval_ms);
	*out = c;
	return 0;
fail:
	log_error(COLLECT_MOD, "the collectors could not start");
	collect_free(c);
	return -1;
}

void collect_stop(struct collect *c)
{
	if (!c)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->lock);
		c->stop = true;
		pthread_mutex_unlock(&c->lock);
		ssize_t w = write(c->wake[1], "x", 1);
		(void)w; /* a full pipe already wakes the thread */
		pthread_join(c->thread, NULL);
	}
	collect_free(c);
}

size_t collect_count(struct collect *c)
{
	return c ? c->n : 0;
}

int collect_get_stats(struct collect *c, size_t i, struct collect_stats *out)
{
	if (!c || i >= c->n)
		return -1;
	pthread_mutex_lock(&c->lock);
	*out = c->items[i].stats;
	pthread_mutex_unlock(&c->lock);
	return 0;
}
