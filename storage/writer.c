/* writer.c -- the group-commit writer thread: the only code that writes to the buffer. */
#include "storage_internal.h"

#include "log.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Check the append contract: non-empty, every line ends in '\n', no empty
 * line, no NUL byte. Counts the points into *points. */
static int storage_count_points(const char *text, size_t len, size_t *points)
{
	const char *p = text;
	const char *end = text + len;
	size_t n = 0;

	if (len == 0 || len > INT_MAX || text[len - 1] != '\n' || memchr(text, '\0', len))
		return STORAGE_ERR_INVALID;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == p)
			return STORAGE_ERR_INVALID; /* an empty line */
		n++;
		p = nl + 1;
	}
	*points = n;
	return STORAGE_OK;
}

int storage_append(struct storage *s, char *text, size_t len, storage_done_fn *done, void *arg)
{
	struct storage_job *job;
	size_t points = 0;
	int result;

	if (!s || !text || !done)
		return STORAGE_ERR_INVALID;
	result = storage_count_points(text, len, &points);
	if (result)
		return result;
	if (points > s->max_queued_points) {
		log_warn(STORAGE_LOG, "an append of %zu points can never fit the queue of %zu",
			 points, s->max_queued_points);
		return STORAGE_ERR_INVALID;
	}
	job = calloc(1, sizeof(*job));
	if (!job)
		return STORAGE_ERR_NOMEM;
	job->kind = STORAGE_JOB_APPEND;
	job->text = text;
	job->len = len;
	job->points = points;
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
		storage_check_pthread(pthread_cond_signal(&s->wake), "pthread_cond_signal");
	}
	storage_unlock(s);
	if (result)
		free(job);
	return result;
}

int storage_ack(struct storage *s, int64_t last_id)
{
	int result;

	if (!s)
		return STORAGE_ERR_INVALID;
	storage_lock(s);
	if (s->closing) {
		result = STORAGE_ERR_CLOSED;
		goto out;
	}
	if (s->ack_pending) {
		log_error(STORAGE_LOG, "storage_ack called from two threads at once");
		result = STORAGE_ERR_INVALID;
		goto out;
	}
	memset(&s->ack, 0, sizeof(s->ack));
	s->ack.kind = STORAGE_JOB_ACK;
	s->ack.last_id = last_id;
	s->ack_pending = 1;
	if (s->tail)
		s->tail->next = &s->ack;
	else
		s->head = &s->ack;
	s->tail = &s->ack;
	storage_check_pthread(pthread_cond_signal(&s->wake), "pthread_cond_signal");
	while (!s->ack.finished)
		storage_check_pthread(pthread_cond_wait(&s->acked, &s->lock), "pthread_cond_wait");
	s->ack_pending = 0;
	result = s->ack.result;
out:
	storage_unlock(s);
	return result;
}

/* Step a statement that returns no row, then reset it. */
static int storage_step_done(struct storage *s, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE) {
		log_error(STORAGE_LOG, "%s: \"%s\" failed: %s", s->path, sqlite3_sql(stmt),
			  sqlite3_errmsg(s->wdb));
		sqlite3_reset(stmt); /* repeats the step's rc, handled here */
		return rc == SQLITE_ROW ? STORAGE_ERR_IO : storage_result_from_sqlite(rc);
	}
	sqlite3_reset(stmt); /* SQLITE_OK after SQLITE_DONE */
	return STORAGE_OK;
}

static int storage_bind_failed(struct storage *s, int rc)
{
	log_error(STORAGE_LOG, "%s: bind failed: %s", s->path, sqlite3_errmsg(s->wdb));
	return storage_result_from_sqlite(rc);
}

/* INSERT each line of an append job (without its '\n'). */
static int storage_insert_job(struct storage *s, const struct storage_job *job, int64_t now_ns,
			      uint64_t *bytes)
{
	const char *p = job->text;
	const char *end = job->text + job->len;
	int result;
	int rc;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int n = (int)(nl - p); /* storage_count_points checked len <= INT_MAX */

		rc = sqlite3_bind_int64(s->insert, 1, now_ns);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(s->insert, 2, p, n, SQLITE_STATIC);
		if (rc != SQLITE_OK)
			return storage_bind_failed(s, rc);
		result = storage_step_done(s, s->insert);
		if (result)
			return result;
		*bytes += (uint64_t)n;
		p = nl + 1;
	}
	return STORAGE_OK;
}

/* DELETE the acknowledged points, counting what goes for the stats. */
static int storage_delete_acked(struct storage *s, int64_t last_id, uint64_t *points,
				uint64_t *bytes)
{
	int result = STORAGE_OK;
	int rc;

	rc = sqlite3_bind_int64(s->ack_sum, 1, last_id);
	if (rc != SQLITE_OK)
		return storage_bind_failed(s, rc);
	rc = sqlite3_step(s->ack_sum);
	if (rc != SQLITE_ROW) {
		log_error(STORAGE_LOG, "%s: counting acked points failed: %s", s->path,
			  sqlite3_errmsg(s->wdb));
		result = rc == SQLITE_DONE ? STORAGE_ERR_IO : storage_result_from_sqlite(rc);
	} else {
		*points += (uint64_t)sqlite3_column_int64(s->ack_sum, 0);
		*bytes += (uint64_t)sqlite3_column_int64(s->ack_sum, 1);
	}
	sqlite3_reset(s->ack_sum); /* repeats the step's rc, handled above */
	if (result)
		return result;
	rc = sqlite3_bind_int64(s->ack_delete, 1, last_id);
	if (rc != SQLITE_OK)
		return storage_bind_failed(s, rc);
	return storage_step_done(s, s->ack_delete);
}

static int64_t storage_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
		log_error(STORAGE_LOG, "clock_gettime failed: %s", strerror(errno));
		return 0;
	}
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One transaction for every job in the list; updates the stats on commit. */
static int storage_commit_jobs(struct storage *s, const struct storage_job *jobs)
{
	int64_t now_ns = storage_now_ns();
	uint64_t added = 0, added_bytes = 0, deleted = 0, deleted_bytes = 0;
	size_t njobs;
	int result;

	result = storage_step_done(s, s->begin);
	if (result)
		goto fail;
	for (const struct storage_job *job = jobs; job; job = job->next) {
		if (job->kind == STORAGE_JOB_APPEND) {
			result = storage_insert_job(s, job, now_ns, &added_bytes);
			added += job->points;
		} else {
			result = storage_delete_acked(s, job->last_id, &deleted, &deleted_bytes);
		}
		if (result)
			goto fail;
	}
	result = storage_step_done(s, s->commit);
	if (result)
		goto fail;
	sqlite3_clear_bindings(s->insert); /* drop pointers into texts about to be freed */
	atomic_fetch_add(&s->points, added);
	atomic_fetch_sub(&s->points, deleted);
	atomic_fetch_add(&s->bytes, added_bytes);
	atomic_fetch_sub(&s->bytes, deleted_bytes);
	atomic_fetch_add(&s->appended_total, added);
	atomic_fetch_add(&s->acked_total, deleted);
	atomic_fetch_add(&s->commits_total, 1);
	return STORAGE_OK;
fail:
	sqlite3_clear_bindings(s->insert);
	if (!sqlite3_get_autocommit(s->wdb) && storage_step_done(s, s->rollback) != STORAGE_OK)
		log_error(STORAGE_LOG, "%s: ROLLBACK failed too", s->path);
	njobs = 0;
	for (const struct storage_job *job = jobs; job; job = job->next)
		njobs++;
	log_error(STORAGE_LOG,
		  "%s: a write transaction of %zu jobs failed (%s); nothing of them is stored",
		  s->path, njobs, storage_strerror(result));
	return result;
}

/* Answer every job of a finished transaction: acks wake their caller,
 * appends get done() in submission order, then their text is freed. */
static void storage_finish_jobs(struct storage *s, struct storage_job *jobs, int result)
{
	struct storage_job *appends = NULL;
	struct storage_job **tailp = &appends;
	struct storage_job *next;

	storage_lock(s);
	for (struct storage_job *job = jobs; job; job = next) {
		next = job->next; /* the ack job is reused once its caller wakes */
		if (job->kind == STORAGE_JOB_APPEND) {
			s->queued_points -= job->points;
			job->next = NULL;
			*tailp = job;
			tailp = &job->next;
		} else {
			job->result = result;
			job->finished = 1;
			storage_check_pthread(pthread_cond_signal(&s->acked),
					      "pthread_cond_signal");
		}
	}
	storage_unlock(s);
	for (struct storage_job *job = appends; job; job = next) {
		next = job->next;
		job->done(job->arg, result);
		free(job->text);
		free(job);
	}
}

static void *storage_writer_main(void *arg)
{
	struct storage *s = arg;

	storage_lock(s);
	for (;;) {
		struct storage_job *jobs;
		int result;

		while (!s->head && !s->closing)
			storage_check_pthread(pthread_cond_wait(&s->wake, &s->lock),
					      "pthread_cond_wait");
		if (!s->head)
			break; /* closing and nothing left */
		jobs = s->head;
		s->head = NULL;
		s->tail = NULL;
		storage_unlock(s);
		result = storage_commit_jobs(s, jobs);
		storage_finish_jobs(s, jobs, result);
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
	storage_unlock(s);
	rc = pthread_join(s->writer, NULL);
	if (rc != 0)
		log_error(STORAGE_LOG, "%s: joining the writer failed: %s", s->path, strerror(rc));
	s->writer_started = 0;
}
