/* writer.c -- the group-commit writer thread: the only code that writes to the buffer. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "storage_internal.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The longest a commit waits for more appends under load (see storage_group_wait). */
#define STORAGE_GROUP_WAIT_NS 1000000
/* After a commit of more points than this no group wait: such a commit
 * takes its time inserting them, not in its fsync, so sharing the fsync
 * gains little and the wait is lost (5000-point requests from 4 clients
 * waited the whole 1 ms after each commit). */
#define STORAGE_GROUP_MAX_POINTS 1000

/* A mutex or condvar call on a valid object cannot fail; if it does, the
 * process state is undefined and continuing could lose or duplicate data. */
static void storage_check_pthread(int rc, const char *what)
{
	if (rc != 0) {
		log_error(STORAGE_LOG, "%s failed: %s", what, strerror(rc));
		abort();
	}
}

static void storage_lock(struct storage *s)
{
	storage_check_pthread(pthread_mutex_lock(&s->lock), "pthread_mutex_lock");
}

static void storage_unlock(struct storage *s)
{
	storage_check_pthread(pthread_mutex_unlock(&s->lock), "pthread_mutex_unlock");
}

/* Check the append contract: non-empty, exactly `points` lines each ending
 * in '\n', no empty line, no NUL byte; sums their file cost into *cost (the
 * walk the cost needs anyway checks the count). */
static int storage_check_text(const struct storage *s, const char *text, size_t len, size_t points,
			      int64_t *cost)
{
	const char *p = text;
	const char *end = text + len;
	size_t n = 0;
	int64_t c = 0;

	if (len == 0 || len > INT_MAX || text[len - 1] != '\n' || memchr(text, '\0', len))
		return STORAGE_ERR_INVALID;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == p || ++n > points)
			return STORAGE_ERR_INVALID; /* an empty line, or more lines than said */
		c += storage_space_line_cost(s, (size_t)(nl - p));
		p = nl + 1;
	}
	if (n != points)
		return STORAGE_ERR_INVALID;
	*cost = c;
	return STORAGE_OK;
}

size_t storage_max_append_points(const struct storage *s)
{
	return s->max_queued_points;
}

int storage_append(struct storage *s, char *text, size_t len, size_t points, storage_done_fn *done,
		   void *arg)
{
	struct storage_job *job;
	int64_t cost = 0;
	int result;

	if (!s || !text || !done)
		return STORAGE_ERR_INVALID;
	if (points > s->max_queued_points) {
		log_warn(STORAGE_LOG, "an append of %zu points can never fit the queue of %zu",
			 points, s->max_queued_points);
		return STORAGE_ERR_INVALID;
	}
	result = storage_check_text(s, text, len, points, &cost);
	if (result)
		return result;
	job = calloc(1, sizeof(*job));
	if (!job)
		return STORAGE_ERR_NOMEM;
	job->kind = STORAGE_JOB_APPEND;
	job->text = text;
	job->len = len;
	job->points = points;
	job->cost = cost;
	job->done = done;
	job->arg = arg;

	storage_lock(s);
	if (s->closing) {
		result = STORAGE_ERR_CLOSED;
	} else if (points > s->max_queued_points - s->queued_points) {
		result = STORAGE_ERR_BUSY;
	} else {
		if (s->tail)
			s->tail->next = job;
		else
			s->head = job;
		s->tail = job;
		s->queued_points += points;
		s->waiting_appends++;
		/* in its group wait the writer needs a wake-up only once its
		 * target is reached, not at every append */
		if (s->waiting_appends >= s->group_target)
			storage_check_pthread(pthread_cond_signal(&s->wake), "pthread_cond_signal");
	}
	storage_unlock(s);
	if (result)
		free(job);
	return result;
}

/* Contract in storage_internal.h: a refused row waits for the next commit
 * with whatever else is queued; nobody waits for it. */
int storage_queue_refused(struct storage *s, struct storage_job *job)
{
	int result = STORAGE_OK;

	storage_lock(s);
	if (s->closing) {
		result = STORAGE_ERR_CLOSED;
	} else {
		job->next = NULL;
		if (s->tail)
			s->tail->next = job;
		else
			s->head = job;
		s->tail = job;
		storage_check_pthread(pthread_cond_signal(&s->wake), "pthread_cond_signal");
	}
	storage_unlock(s);
	return result;
}

/* Queue a target's job (its t->sync, filled from model except the queue
 * fields) and wait for its commit. */
static int storage_sync_job(struct storage_target *t, const struct storage_job *model)
{
	struct storage *s = t->s;
	int result;

	storage_lock(s);
	if (s->closing) {
		result = STORAGE_ERR_CLOSED;
		goto out;
	}
	if (t->sync_pending) {
		log_error(STORAGE_LOG,
			  "%s: target \"%s\": ack/reject called from two threads at once", s->path,
			  t->name);
		result = STORAGE_ERR_INVALID;
		goto out;
	}
	t->sync = *model;
	t->sync.target = t;
	t->sync.next = NULL;
	t->sync.finished = 0;
	t->sync_pending = 1;
	s->syncs_pending++;
	if (s->tail)
		s->tail->next = &t->sync;
	else
		s->head = &t->sync;
	s->tail = &t->sync;
	storage_check_pthread(pthread_cond_signal(&s->wake), "pthread_cond_signal");
	while (!t->sync.finished)
		storage_check_pthread(pthread_cond_wait(&s->synced, &s->lock), "pthread_cond_wait");
	t->sync_pending = 0;
	result = t->sync.result;
out:
	storage_unlock(s);
	return result;
}

int storage_target_ack(struct storage_target *t, int64_t last_id)
{
	struct storage_job job = {.kind = STORAGE_JOB_ACK, .last_id = last_id};

	if (!t)
		return STORAGE_ERR_INVALID;
	return storage_sync_job(t, &job);
}

int storage_ack(struct storage *s, int64_t last_id)
{
	return storage_target_ack(storage_target_at(s, 0), last_id);
}

int storage_target_reject(struct storage_target *t, const int64_t *ids, size_t n,
			  const char *reason)
{
	struct storage_job job = {
	    .kind = STORAGE_JOB_REJECT, .ids = ids, .nids = n, .reason = reason};
	uint64_t before;
	int result;

	if (!t || (!ids && n > 0))
		return STORAGE_ERR_INVALID;
	if (n == 0)
		return STORAGE_OK;
	before = atomic_load(&t->rejected_total);
	result = storage_sync_job(t, &job);
	if (result == STORAGE_OK && t->s->ntargets == 1)
		log_warn(
		    STORAGE_LOG,
		    "%s: InfluxDB refused %llu points for good; moved to the `rejected` table: "
		    "%.200s",
		    t->s->path, (unsigned long long)(atomic_load(&t->rejected_total) - before),
		    reason && reason[0] ? reason : "(no reason given)");
	else if (result == STORAGE_OK)
		log_warn(STORAGE_LOG,
			 "%s: target \"%s\" refused %llu points for good; copied to the "
			 "`rejected` table: %.200s",
			 t->s->path, t->name,
			 (unsigned long long)(atomic_load(&t->rejected_total) - before),
			 reason && reason[0] ? reason : "(no reason given)");
	return result;
}

int storage_reject(struct storage *s, const int64_t *ids, size_t n, const char *reason)
{
	return storage_target_reject(storage_target_at(s, 0), ids, n, reason);
}

/* Answer every job of a finished transaction: the sync job wakes its
 * caller, appends get done() in submission order, then their text is freed. */
static void storage_finish_jobs(struct storage *s, struct storage_job *jobs)
{
	struct storage_job *appends = NULL;
	struct storage_job **tailp = &appends;
	struct storage_job *next;

	storage_lock(s);
	for (struct storage_job *job = jobs; job; job = next) {
		next = job->next; /* the sync job is reused once its caller wakes */
		if (job->kind == STORAGE_JOB_APPEND) {
			s->queued_points -= job->points;
			job->next = NULL;
			*tailp = job;
			tailp = &job->next;
		} else if (job->kind == STORAGE_JOB_REFUSED) {
			job->next = NULL;
			*tailp = job; /* freed below with the appends, without done() */
			tailp = &job->next;
		} else {
			job->finished = 1;
			s->syncs_pending--;
			/* several targets' uplinks may wait on it */
			storage_check_pthread(pthread_cond_broadcast(&s->synced),
					      "pthread_cond_broadcast");
		}
	}
	/* the counters already include this commit (storage_commit_jobs) */
	storage_targets_signal(s);
	storage_unlock(s);
	for (struct storage_job *job = appends; job; job = next) {
		next = job->next;
		if (job->kind == STORAGE_JOB_APPEND)
			job->done(job->arg, job->result);
		free(job->text);
		free(job);
	}
}

/* Take queued jobs for one transaction: all of them, except that appends
 * stop at max_txn_bytes (the first one is always taken). Under s->lock. */
static struct storage_job *storage_take_jobs(struct storage *s)
{
	struct storage_job *jobs = s->head;
	struct storage_job *last = NULL;
	size_t bytes = 0;

	for (struct storage_job *job = s->head; job; job = job->next) {
		if (job->kind == STORAGE_JOB_APPEND) {
			if (last && bytes + job->len > s->max_txn_bytes)
				break;
			bytes += job->len;
			s->waiting_appends--;
		}
		last = job;
	}
	s->head = last->next;
	if (!s->head)
		s->tail = NULL;
	last->next = NULL;
	return jobs;
}

/* Group commit under load (durability full): the clients answered by the
 * last commit send their next request within a fraction of an fsync; wait
 * for them (at most STORAGE_GROUP_WAIT_NS) so that they share the next
 * fsync instead of starting another. Called right after a commit, it
 * waits for as many appends as that commit held plus those queued during
 * it: every client in flight (waiting for as many as were committed only
 * let two halves of the clients take turns, one fsync each, once the load
 * had split them). Under s->lock. */
static void storage_group_wait(struct storage *s, size_t last_appends)
{
	struct timespec until;
	int rc;

	if (s->durability != STORAGE_DURABILITY_FULL || last_appends < 2)
		return;
	until = clock_deadline_ns(STORAGE_GROUP_WAIT_NS);
	s->group_target = last_appends + s->waiting_appends;
	/* an uplink's ack or reject never waits */
	while (s->waiting_appends < s->group_target && !s->closing && s->syncs_pending == 0) {
		rc = pthread_cond_timedwait(&s->wake, &s->lock, &until);
		if (rc == ETIMEDOUT)
			break;
		storage_check_pthread(rc, "pthread_cond_timedwait");
	}
	s->group_target = 0;
}

/* Contract in storage.h. */
uint64_t storage_heartbeat_ms(struct storage *s)
{
	uint64_t busy = atomic_load(&s->busy_since_ms);

	return busy != 0 ? busy : (uint64_t)clock_mono_ms();
}

static void *storage_writer_main(void *arg)
{
	struct storage *s = arg;
	size_t last_appends = 0;
	size_t last_points = 0;

	/* for top -H and tests/bench/bench_idle.sh: at most 15 bytes, cannot fail */
	(void)pthread_setname_np(pthread_self(), "writer");
	storage_lock(s);
	for (;;) {
		struct storage_job *jobs;

		atomic_store(&s->busy_since_ms, 0); /* waiting for work is healthy */
		/* Under load the next group is on its way: wait for it from now
		 * on, so that not even its first append has to wake us. After a
		 * pause (nothing came) a reading is committed at once. */
		storage_group_wait(s, last_appends);
		while (!s->head && !s->closing && !s->shrink_due)
			storage_check_pthread(pthread_cond_wait(&s->wake, &s->lock),
					      "pthread_cond_wait");
		atomic_store(&s->busy_since_ms, (uint64_t)clock_mono_ms()); /* never 0 */
		last_appends = 0;
		if (!s->head && s->closing)
			break; /* closing and nothing left */
		if (!s->head) {
			/* idle: give free space back, one bounded step at a time */
			storage_unlock(s);
			s->shrink_due = storage_space_shrink(s);
			storage_lock(s);
			continue;
		}
		jobs = storage_take_jobs(s);
		storage_unlock(s);
		last_points = 0;
		for (const struct storage_job *job = jobs; job; job = job->next) {
			if (job->kind != STORAGE_JOB_APPEND)
				continue;
			last_appends++;
			last_points += job->points;
		}
		if (last_points > STORAGE_GROUP_MAX_POINTS)
			last_appends = 0; /* no group wait after it */
		storage_commit_jobs(s, jobs);
		storage_finish_jobs(s, jobs);
		storage_lock(s);
	}
	storage_unlock(s);
	return NULL;
}

int storage_writer_start(struct storage *s)
{
	sigset_t all, old;
	int rc;

	/* The writer takes no signals: they belong to the main thread. */
	if (sigfillset(&all) != 0) {
		log_error(STORAGE_LOG, "sigfillset failed: %s", strerror(errno));
		return STORAGE_ERR_IO;
	}
	rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (rc != 0) {
		log_error(STORAGE_LOG, "pthread_sigmask failed: %s", strerror(rc));
		return STORAGE_ERR_IO;
	}
	rc = pthread_create(&s->writer, NULL, storage_writer_main, s);
	if (rc != 0)
		log_error(STORAGE_LOG, "%s: cannot start the writer thread: %s", s->path,
			  strerror(rc));
	else
		s->writer_started = 1;
	storage_check_pthread(pthread_sigmask(SIG_SETMASK, &old, NULL), "pthread_sigmask");
	return rc == 0 ? STORAGE_OK : STORAGE_ERR_IO;
}

void storage_writer_stop(struct storage *s)
{
	int rc;

	if (!s->writer_started)
		return;
	storage_lock(s);
	s->closing = 1;
	storage_check_pthread(pthread_cond_broadcast(&s->wake), "pthread_cond_broadcast");
	storage_targets_signal(s);
	storage_unlock(s);
	rc = pthread_join(s->writer, NULL);
	if (rc != 0)
		log_error(STORAGE_LOG, "%s: joining the writer failed: %s", s->path, strerror(rc));
	s->writer_started = 0;
	/* a storage_wait() woken above may not have left yet */
	storage_lock(s);
	for (size_t i = 0; i < s->ntargets; i++)
		while (s->targets[i].reader_waiting)
			storage_check_pthread(pthread_cond_wait(&s->targets[i].arrived, &s->lock),
					      "pthread_cond_wait");
	storage_unlock(s);
}

/* Contract in storage.h. */
uint64_t storage_target_wake_seq(struct storage_target *t)
{
	return t ? atomic_load(&t->wake_seq) : 0;
}

uint64_t storage_wake_seq(struct storage *s)
{
	return storage_target_wake_seq(storage_target_at(s, 0));
}

/* Contract in storage.h. */
void storage_target_wake(struct storage_target *t)
{
	if (!t)
		return;
	storage_lock(t->s);
	atomic_fetch_add(&t->wake_seq, 1);
	storage_check_pthread(pthread_cond_broadcast(&t->arrived), "pthread_cond_broadcast");
	storage_unlock(t->s);
}

void storage_wake(struct storage *s)
{
	storage_target_wake(storage_target_at(s, 0));
}

/* True when storage_target_wait has nothing to wait for. Under s->lock. */
static int storage_wait_over(struct storage_target *t, uint64_t seen)
{
	return t->s->closing || atomic_load(&t->wake_seq) != seen ||
	       atomic_load(&t->points) >= t->want_points || atomic_load(&t->bytes) >= t->want_bytes;
}

/* Contract in storage.h. */
int storage_target_wait(struct storage_target *t, uint64_t points, uint64_t bytes, uint64_t seen,
			int timeout_ms)
{
	struct storage *s = t ? t->s : NULL;
	struct timespec until = {0};
	int result = STORAGE_OK;
	int rc = 0;

	if (!s)
		return STORAGE_ERR_INVALID;
	if (timeout_ms >= 0)
		until = clock_deadline_ns((int64_t)timeout_ms * 1000000);
	storage_lock(s);
	if (t->reader_waiting) {
		log_error(STORAGE_LOG, "storage_wait called from two threads at once");
		result = STORAGE_ERR_INVALID;
		goto out;
	}
	t->reader_waiting = 1;
	t->want_points = points;
	t->want_bytes = bytes;
	while (!storage_wait_over(t, seen) && rc != ETIMEDOUT) {
		if (timeout_ms < 0) {
			storage_check_pthread(pthread_cond_wait(&t->arrived, &s->lock),
					      "pthread_cond_wait");
			continue;
		}
		rc = pthread_cond_timedwait(&t->arrived, &s->lock, &until);
		if (rc != ETIMEDOUT)
			storage_check_pthread(rc, "pthread_cond_timedwait");
	}
	t->reader_waiting = 0;
	if (s->closing) {
		result = STORAGE_ERR_CLOSED;
		/* storage_writer_stop may be waiting for us to leave */
		storage_check_pthread(pthread_cond_broadcast(&t->arrived),
				      "pthread_cond_broadcast");
	}
out:
	storage_unlock(s);
	return result;
}

int storage_wait(struct storage *s, uint64_t points, uint64_t bytes, uint64_t seen, int timeout_ms)
{
	return storage_target_wait(storage_target_at(s, 0), points, bytes, seen, timeout_ms);
}
