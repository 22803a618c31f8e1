/* spill.c -- buffer.write = spill: fan a hand-off out to the uplinks, collect their answers, and
 * commit it to the buffer when one says no or spill_after passes. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "spill.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

#define SPILL_LOG "spill"

/* One hand-off on the direct path. */
struct spill_req {
	struct ingest_spill *sp;
	struct ingest *in;
	char *text; /* ours; freed with the request */
	size_t len;
	size_t points;
	ingest_done_fn *done;
	void *arg;
	int64_t deadline_ms; /* CLOCK_MONOTONIC: committed if not acknowledged by then */
	/* Under sp->lock: */
	unsigned refs;	  /* the timer queue, each uplink that holds it, a commit in progress */
	unsigned waiting; /* uplinks that have not answered */
	bool decided;	  /* answered or being committed: nothing else may */
	char *refused;	  /* an uplink's UPLINK_OFFER_REFUSED answer (malloc'd), or NULL */
	struct spill_req *next;
};

/* What a commit of a spilled hand-off needs once the request is gone. */
struct spill_commit {
	struct ingest_spill *sp;
	struct ingest *in;
	ingest_done_fn *done;
	void *arg;
	size_t points;
	char *refused; /* InfluxDB's answer to pass on, or NULL (malloc'd) */
};

struct ingest_spill {
	struct ingest_direct direct; /* first: what the doors call */
	struct storage *storage;
	struct uplink **uplinks;
	size_t n;
	uint32_t spill_after_ms;

	pthread_mutex_t lock;
	pthread_cond_t wake;	       /* the queue got a first request, or the stop */
	struct spill_req *head, *tail; /* by deadline: the order of arrival */
	bool stopping;
	pthread_t thread;

	atomic_uint_least64_t points_direct, requests_direct, points_spilled, points_spill_late,
	    points_spill_error;
};

void ingest_spill_install(struct ingest_spill *sp)
{
	ingest_direct_install(sp != NULL ? &sp->direct : NULL);
}

/* Drop one reference; the last frees the request. Takes sp->lock. */
static void spill_unref(struct spill_req *r)
{
	struct ingest_spill *sp = r->sp;
	bool last;

	pthread_mutex_lock(&sp->lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&sp->lock);
	if (last) {
		free(r->refused);
		free(r->text);
		free(r);
	}
}

/* storage_done_fn: a spilled hand-off's commit is over. Writer thread. */
static void spill_committed(void *arg, int result)
{
	struct spill_commit c = *(struct spill_commit *)arg;

	free(arg);
	if (result == STORAGE_OK)
		atomic_fetch_add(&c.sp->points_spilled, c.points);
	else
		ingest_warn_not_stored(c.in, c.points, result);
	c.done(c.arg, result, c.points, result == STORAGE_OK ? c.refused : NULL);
	free(c.refused);
}

/* Commit r (decided, with a reference held by the caller) to the buffer as
 * `always` would have; its done runs after that commit, or now with the
 * refusal. A copy goes: an uplink may still be sending r->text. */
static void spill_commit(struct spill_req *r)
{
	struct spill_commit *c = malloc(sizeof(*c));
	char *copy = malloc(r->len > 0 ? r->len : 1);
	int rc = STORAGE_ERR_NOMEM;

	if (c != NULL && copy != NULL) {
		memcpy(copy, r->text, r->len);
		*c = (struct spill_commit){
		    .sp = r->sp, .in = r->in, .done = r->done, .arg = r->arg, .points = r->points};
		/* Set before the decision, read after it: no uplink writes it now. */
		if (r->refused != NULL)
			c->refused = strdup(r->refused);
		rc = storage_append(r->sp->storage, copy, r->len, r->points, spill_committed, c);
	}
	if (rc != STORAGE_OK) {
		if (c != NULL)
			free(c->refused);
		free(c);
		free(copy);
		ingest_warn_not_stored(r->in, r->points, rc);
		r->done(r->arg, rc, r->points, NULL);
	}
}

/* uplink_offer_done_fn: one uplink's answer for r. Its thread. */
static void spill_answered(void *arg, enum uplink_offer_answer answer, const char *why)
{
	struct spill_req *r = arg;
	struct ingest_spill *sp = r->sp;
	bool delivered = answer == UPLINK_OFFER_DELIVERED;
	bool acked = false, spill = false;
	char *copy = answer == UPLINK_OFFER_REFUSED && why != NULL ? strdup(why) : NULL;

	pthread_mutex_lock(&sp->lock);
	if (copy != NULL && !r->decided && r->refused == NULL) {
		r->refused = copy; /* passed on with the commit below */
		copy = NULL;
	}
	r->waiting--;
	if (!r->decided && (!delivered || r->waiting == 0)) {
		r->decided = true;
		acked = delivered;
		spill = !delivered;
	}
	if (spill)
		r->refs++; /* for spill_commit() below */
	pthread_mutex_unlock(&sp->lock);
	free(copy);
	if (acked) {
		atomic_fetch_add(&sp->points_direct, r->points);
		atomic_fetch_add(&sp->requests_direct, 1);
		r->done(r->arg, STORAGE_OK, r->points, NULL);
	} else if (spill) {
		atomic_fetch_add(&sp->points_spill_error, r->points);
		spill_commit(r);
		spill_unref(r);
	}
	spill_unref(r); /* the uplink's */
}

/* ingest_direct.take: the door's hand-off, to every uplink if all can take it. */
static bool spill_take(struct ingest_direct *d, struct ingest *in, char *text, size_t len,
		       size_t points, ingest_done_fn *done, void *arg)
{
	struct ingest_spill *sp = (struct ingest_spill *)d;
	struct spill_req *r;

	if (sp == NULL || sp->n == 0 || points == 0 ||
	    points > storage_max_append_points(sp->storage))
		return false;
	for (size_t i = 0; i < sp->n; i++) {
		if (!uplink_can_offer(sp->uplinks[i]))
			return false;
	}
	r = malloc(sizeof(*r));
	if (r == NULL)
		return false;
	*r = (struct spill_req){.sp = sp,
				.in = in,
				.text = text,
				.len = len,
				.points = points,
				.done = done,
				.arg = arg,
				.deadline_ms = clock_mono_ms() + sp->spill_after_ms,
				.refs = 1 + (unsigned)sp->n,
				.waiting = (unsigned)sp->n};
	pthread_mutex_lock(&sp->lock);
	if (sp->tail != NULL) {
		sp->tail->next = r;
	} else {
		sp->head = r;
		pthread_cond_signal(&sp->wake);
	}
	sp->tail = r;
	pthread_mutex_unlock(&sp->lock);
	for (size_t i = 0; i < sp->n; i++) {
		/* A refusal now (the uplink changed its mind) is a "no". */
		if (uplink_offer(sp->uplinks[i], r->text, r->len, r->points, spill_answered, r) !=
		    0)
			spill_answered(r, UPLINK_OFFER_FAILED, NULL);
	}
	return true;
}

/* The timer thread: commit every request not acknowledged by its deadline
 * and let go of the queue's reference to the ones that were. */
static void *spill_main(void *arg)
{
	struct ingest_spill *sp = arg;

	(void)pthread_setname_np(pthread_self(), "spill");
	pthread_mutex_lock(&sp->lock);
	for (;;) {
		struct spill_req *r = sp->head;
		bool spill = false;

		if (r == NULL) {
			if (sp->stopping)
				break;
			pthread_cond_wait(&sp->wake, &sp->lock);
			continue;
		}
		if (!r->decided) {
			int64_t now = clock_mono_ms();

			if (now < r->deadline_ms && !sp->stopping) {
				struct timespec at =
				    clock_deadline_ns((r->deadline_ms - now) * 1000000);

				pthread_cond_timedwait(&sp->wake, &sp->lock, &at);
				continue;
			}
			r->decided = true;
			spill = true;
		}
		sp->head = r->next;
		if (sp->head == NULL)
			sp->tail = NULL;
		/* The queue's reference now serves the commit, then goes. */
		pthread_mutex_unlock(&sp->lock);
		if (spill) {
			atomic_fetch_add(&sp->points_spill_late, r->points);
			spill_commit(r);
		}
		spill_unref(r);
		pthread_mutex_lock(&sp->lock);
	}
	pthread_mutex_unlock(&sp->lock);
	return NULL;
}

/* ingest_direct.buffered: the door committed these itself (a backlog). */
static void spill_buffered(struct ingest_direct *d, size_t points)
{
	atomic_fetch_add(&((struct ingest_spill *)d)->points_spilled, points);
}

int ingest_spill_start(struct storage *s, struct uplink *const *uplinks, size_t n,
		       uint32_t spill_after_ms, struct ingest_spill **out)
{
	struct ingest_spill *sp = calloc(1, sizeof(*sp));
	sigset_t all, old;
	int rc;

	if (sp == NULL)
		goto nomem;
	sp->uplinks = calloc(n > 0 ? n : 1, sizeof(*sp->uplinks));
	if (sp->uplinks == NULL)
		goto nomem;
	if (n > 0)
		memcpy(sp->uplinks, uplinks, n * sizeof(*sp->uplinks));
	sp->n = n;
	sp->direct = (struct ingest_direct){.take = spill_take, .buffered = spill_buffered};
	sp->storage = s;
	sp->spill_after_ms = spill_after_ms;
	pthread_mutex_init(&sp->lock, NULL);
	rc = clock_cond_init(&sp->wake);
	if (rc != 0) {
		log_error(SPILL_LOG, "cannot make the timer's condition: %s", strerror(rc));
		goto fail;
	}
	/* The thread blocks asynchronous signals: they go to the main thread. */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&sp->thread, NULL, spill_main, sp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_error(SPILL_LOG, "pthread_create: %s", strerror(rc));
		pthread_cond_destroy(&sp->wake);
		goto fail;
	}
	*out = sp;
	return 0;
nomem:
	log_error(SPILL_LOG, "out of memory");
	if (sp == NULL)
		return -1;
fail:
	free(sp->uplinks);
	free(sp);
	return -1;
}

void ingest_spill_get_stats(struct ingest_spill *sp, struct ingest_spill_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (sp == NULL)
		return;
	out->points_direct = atomic_load(&sp->points_direct);
	out->requests_direct = atomic_load(&sp->requests_direct);
	out->points_spilled = atomic_load(&sp->points_spilled);
	out->points_spill_late = atomic_load(&sp->points_spill_late);
	out->points_spill_error = atomic_load(&sp->points_spill_error);
}

void ingest_spill_stop(struct ingest_spill *sp)
{
	if (sp == NULL)
		return;
	ingest_spill_install(NULL);
	pthread_mutex_lock(&sp->lock);
	sp->stopping = true;
	pthread_cond_signal(&sp->wake);
	pthread_mutex_unlock(&sp->lock);
	pthread_join(sp->thread, NULL);
	pthread_cond_destroy(&sp->wake);
	pthread_mutex_destroy(&sp->lock);
	free(sp->uplinks);
	free(sp);
}
