/* refused.c -- the `refused` table: messages an input could make no points of, kept bounded. */
#include "storage_internal.h"

#include "clock.h"
#include "log.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

#define STORAGE_REFUSED_REASON_MAX 1024 /* bytes of a reason kept */
#define STORAGE_REFUSED_SOURCE_MAX 80	/* bytes of a source kept */

/* The cut length of s[0..n) at max: at a character when it is text. */
static size_t storage_refused_cut(const char *s, size_t n, size_t max, int is_text)
{
	if (n <= max)
		return n;
	return is_text ? text_utf8_cut(s, max) : max;
}

/* Take one row from the rate bound: STORAGE_REFUSED_BURST at once, then one
 * per STORAGE_REFUSED_EVERY_MS. Returns 1 when the row may be kept. Under
 * s->lock. */
static int storage_refused_take_token(struct storage *s)
{
	int64_t now = clock_mono_ns();

	if (s->refused_tokens_ns == 0) {
		s->refused_tokens = STORAGE_REFUSED_BURST;
	} else {
		s->refused_tokens +=
		    (double)(now - s->refused_tokens_ns) / ((double)STORAGE_REFUSED_EVERY_MS * 1e6);
		if (s->refused_tokens > STORAGE_REFUSED_BURST)
			s->refused_tokens = STORAGE_REFUSED_BURST;
	}
	s->refused_tokens_ns = now;
	if (s->refused_tokens < 1.0)
		return 0;
	s->refused_tokens -= 1.0;
	return 1;
}

int storage_refused(struct storage *s, const struct storage_refusal *r)
{
	struct storage_job *job;
	const char *reason;
	size_t source_len, topic_len, reason_len, payload_len;
	char *p;
	int allowed, result;

	if (!s || !r || !r->source || (!r->topic && r->topic_len) ||
	    (!r->payload && r->payload_len))
		return STORAGE_ERR_INVALID;
	reason = r->reason && r->reason[0] ? r->reason : "(no reason given)";
	source_len =
	    storage_refused_cut(r->source, strlen(r->source), STORAGE_REFUSED_SOURCE_MAX, 1);
	topic_len = storage_refused_cut(r->topic, r->topic_len, STORAGE_REFUSED_TOPIC_MAX,
					r->topic_is_text);
	reason_len = storage_refused_cut(reason, strlen(reason), STORAGE_REFUSED_REASON_MAX, 1);
	payload_len = storage_refused_cut(r->payload, r->payload_len, STORAGE_REFUSED_PAYLOAD_MAX,
					  r->payload_is_text);
	pthread_mutex_lock(&s->lock); /* cannot fail on a valid mutex (see writer.c) */
	allowed = !s->closing && storage_refused_take_token(s);
	pthread_mutex_unlock(&s->lock);
	if (!allowed) {
		atomic_fetch_add(&s->refused_lost_total, 1);
		return STORAGE_ERR_BUSY;
	}
	/* the job and its strings in one allocation, each string NUL-terminated */
	job = calloc(1, sizeof(*job) + source_len + topic_len + reason_len + payload_len + 4);
	if (!job) {
		atomic_fetch_add(&s->refused_lost_total, 1);
		return STORAGE_ERR_NOMEM;
	}
	p = (char *)(job + 1);
	job->kind = STORAGE_JOB_REFUSED;
	job->refusal = *r;
	job->refusal.source = memcpy(p, r->source, source_len);
	p += source_len + 1;
	job->refusal.topic = topic_len ? memcpy(p, r->topic, topic_len) : p;
	job->refusal.topic_len = topic_len;
	p += topic_len + 1;
	job->refusal.reason = memcpy(p, reason, reason_len);
	p += reason_len + 1;
	job->refusal.payload = payload_len ? memcpy(p, r->payload, payload_len) : p;
	job->refusal.payload_len = payload_len;
	result = storage_queue_refused(s, job);
	if (result) {
		atomic_fetch_add(&s->refused_lost_total, 1);
		free(job);
	}
	return result;
}

/* Bind text as TEXT when it is text, else as a BLOB (the view shows its hex). */
static int storage_refused_bind(sqlite3_stmt *st, int col, const char *v, size_t n, int is_text)
{
	if (is_text)
		return sqlite3_bind_text(st, col, v, (int)n, SQLITE_STATIC);
	return sqlite3_bind_blob(st, col, v, (int)n, SQLITE_STATIC);
}

static int storage_refused_insert(struct storage *s, const struct storage_refusal *r,
				  int64_t now_ns)
{
	sqlite3_stmt *st = s->refused_insert;
	int rc = sqlite3_bind_int64(st, 1, now_ns);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, r->source, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && r->topic_len == 0)
		rc = sqlite3_bind_null(st, 3);
	else if (rc == SQLITE_OK)
		rc = storage_refused_bind(st, 3, r->topic, r->topic_len, r->topic_is_text);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 4, r->reason, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = storage_refused_bind(st, 5, r->payload, r->payload_len, r->payload_is_text);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6,
					r->full_len > INT64_MAX ? INT64_MAX : (int64_t)r->full_len);
	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: bind failed: %s", s->path, sqlite3_errmsg(s->wdb));
		return storage_result_from_sqlite(rc);
	}
	return storage_step_done(s->wdb, s->path, st);
}

/* The rows' bytes in the file, roughly: what the room must hold. */
static int64_t storage_refused_cost(const struct storage_job *jobs, uint64_t *rows)
{
	int64_t cost = 0;

	*rows = 0;
	for (const struct storage_job *job = jobs; job; job = job->next) {
		const struct storage_refusal *r = &job->refusal;

		if (job->kind != STORAGE_JOB_REFUSED)
			continue;
		(*rows)++;
		cost += (int64_t)(r->payload_len + r->topic_len + strlen(r->reason) +
				  strlen(r->source)) +
			4 * STORAGE_ROW_OVERHEAD;
	}
	return cost;
}

int storage_refused_write(struct storage *s, struct storage_job *jobs, int64_t now_ns,
			  struct storage_delta *d)
{
	uint64_t rows = 0;
	int64_t cost = storage_refused_cost(jobs, &rows);
	int64_t room = 0;
	int result;
	int rc;

	if (rows == 0)
		return STORAGE_OK;
	result = storage_space_room(s, &room);
	if (result)
		return result;
	if (cost > room) {
		d->refused_lost += rows; /* points first: the rows are best effort */
		return STORAGE_OK;
	}
	result = storage_exec(s->wdb, s->path, "SAVEPOINT refused");
	if (result)
		return result;
	for (struct storage_job *job = jobs; job && result == STORAGE_OK; job = job->next)
		if (job->kind == STORAGE_JOB_REFUSED)
			result = storage_refused_insert(s, &job->refusal, now_ns);
	sqlite3_clear_bindings(s->refused_insert); /* pointers into the jobs */
	if (result == STORAGE_OK) {
		rc = sqlite3_bind_int64(s->refused_trim, 1, STORAGE_REFUSED_KEEP);
		result = rc == SQLITE_OK ? storage_step_done(s->wdb, s->path, s->refused_trim)
					 : storage_result_from_sqlite(rc);
	}
	if (result == STORAGE_OK) {
		d->refused_kept += rows;
		storage_space_note_used(s, cost);
		return storage_exec(s->wdb, s->path, "RELEASE refused");
	}
	d->refused_lost += rows;
	if (sqlite3_get_autocommit(s->wdb))
		return result; /* SQLite rolled the whole transaction back */
	log_warn(STORAGE_LOG, "%s: %llu rows for `refused` not written (%s)", s->path,
		 (unsigned long long)rows, storage_strerror(result));
	result = storage_exec(s->wdb, s->path, "ROLLBACK TO refused");
	if (result == STORAGE_OK)
		result = storage_exec(s->wdb, s->path, "RELEASE refused");
	return result;
}
