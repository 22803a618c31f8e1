/* commit.c -- one write transaction of the writer: acks, rejects, bounds, then the appends. */
#include "storage_internal.h"

#include "clock.h"
#include "log.h"
#include "text.h"

#include <inttypes.h>
#include <string.h>

#define STORAGE_REASON_MAX 1024	   /* bytes of a rejection reason kept */
#define STORAGE_BOUND_LOG_MS 10000 /* one bound message per 10 s */
#define STORAGE_ACK_CHUNK 500	   /* rows per transaction on a full disk */

struct storage_stmt_def {
	size_t offset; /* of the sqlite3_stmt * in struct storage */
	const char *sql;
};

#define STMT(field, sql)                                                                           \
	{                                                                                          \
		offsetof(struct storage, field), sql                                               \
	}

static const struct storage_stmt_def storage_stmts[] = {
    STMT(begin, "BEGIN IMMEDIATE"),
    STMT(commit, "COMMIT"),
    STMT(rollback, "ROLLBACK"),
    STMT(insert, "INSERT INTO points (id, received_ns, line) VALUES (?1, ?2, ?3)"),
    STMT(sum_upto, "SELECT count(*), coalesce(sum(length(CAST(line AS BLOB))), 0) FROM points"
		   " WHERE id <= ?1"),
    STMT(delete_upto, "DELETE FROM points WHERE id <= ?1"),
    STMT(max_id, "SELECT coalesce(max(id), 0) FROM points"),
    STMT(delete_all, "DELETE FROM points"),
    STMT(ack_chunk, "SELECT id FROM points WHERE id <= ?1 ORDER BY id LIMIT 1 OFFSET ?2"),
    STMT(scan_oldest, "SELECT id, length(CAST(line AS BLOB)) FROM points ORDER BY id"),
    STMT(oldest, "SELECT received_ns FROM points ORDER BY id LIMIT 1"),
    STMT(reject_size, "SELECT length(CAST(line AS BLOB)) FROM points WHERE id = ?1"),
    STMT(reject_copy, "INSERT OR REPLACE INTO rejected (id, rejected_ns, reason, line, target)"
		      " SELECT id, ?2, ?3, line, ?4 FROM points WHERE id = ?1"),
    STMT(reject_delete, "DELETE FROM points WHERE id = ?1"),
    STMT(reject_trim, "DELETE FROM rejected WHERE id <= "
		      "(SELECT id FROM rejected ORDER BY id DESC LIMIT 1 OFFSET ?1)"),
    STMT(page_count, "PRAGMA page_count"),
    STMT(freelist_count, "PRAGMA freelist_count"),
    STMT(count_range, "SELECT count(*), coalesce(sum(length(CAST(line AS BLOB))), 0) FROM points p"
		      " WHERE p.id > ?1 AND p.id <= ?2 AND NOT EXISTS"
		      " (SELECT 1 FROM rejected r WHERE r.id = p.id AND r.target = ?3)"),
    STMT(set_position, "UPDATE targets SET acked_id = ?2 WHERE name = ?1"),
    STMT(next_oldest, "SELECT received_ns FROM points WHERE id > ?1 ORDER BY id LIMIT 1"),
    STMT(refused_insert, "INSERT INTO refused (refused_ns, source, topic, reason, payload,"
			 " payload_len) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
    STMT(refused_trim, "DELETE FROM refused WHERE id <= "
		       "(SELECT id FROM refused ORDER BY id DESC LIMIT 1 OFFSET ?1)"),
};

static sqlite3_stmt **storage_stmt_slot(struct storage *s, const struct storage_stmt_def *def)
{
	return (sqlite3_stmt **)(void *)((char *)s + def->offset);
}

int storage_commit_prepare(struct storage *s)
{
	for (size_t i = 0; i < sizeof(storage_stmts) / sizeof(storage_stmts[0]); i++) {
		const struct storage_stmt_def *def = &storage_stmts[i];
		int result = storage_prepare(s->wdb, s->path, def->sql, storage_stmt_slot(s, def));

		if (result)
			return result;
	}
	return STORAGE_OK;
}

void storage_commit_finalize(struct storage *s)
{
	for (size_t i = 0; i < sizeof(storage_stmts) / sizeof(storage_stmts[0]); i++) {
		sqlite3_stmt **slot = storage_stmt_slot(s, &storage_stmts[i]);

		sqlite3_finalize(*slot); /* NULL-safe; its rc repeats errors already logged */
		*slot = NULL;
	}
}

static int storage_bind_failed(struct storage *s, int rc)
{
	log_error(STORAGE_LOG, "%s: bind failed: %s", s->path, sqlite3_errmsg(s->wdb));
	return storage_result_from_sqlite(rc);
}

/* INSERT each line of an append job (without its '\n') with the next ids. */
static int storage_insert_job(struct storage *s, const struct storage_job *job, int64_t now_ns,
			      struct storage_delta *d)
{
	const char *p = job->text;
	const char *end = job->text + job->len;
	int result;
	int rc;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int n = (int)(nl - p); /* storage_append checked len <= INT_MAX */

		rc = sqlite3_bind_int64(s->insert, 1, s->next_id);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(s->insert, 2, now_ns);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_text(s->insert, 3, p, n, SQLITE_STATIC);
		if (rc != SQLITE_OK)
			return storage_bind_failed(s, rc);
		result = storage_step_done(s->wdb, s->path, s->insert);
		if (result)
			return result;
		s->next_id++;
		d->added++;
		d->newest_ns = now_ns;
		d->added_bytes += (uint64_t)n;
		p = nl + 1;
	}
	return STORAGE_OK;
}

/* DELETE the acknowledged points, counting what goes for the stats. */
static int storage_delete_acked(struct storage *s, int64_t last_id, struct storage_delta *d)
{
	int result = STORAGE_OK;
	int64_t count = 0, max_id = 0;
	int rc;

	rc = sqlite3_bind_int64(s->sum_upto, 1, last_id);
	if (rc != SQLITE_OK)
		return storage_bind_failed(s, rc);
	rc = sqlite3_step(s->sum_upto);
	if (rc != SQLITE_ROW) {
		log_error(STORAGE_LOG, "%s: counting acked points failed: %s", s->path,
			  sqlite3_errmsg(s->wdb));
		result = rc == SQLITE_DONE ? STORAGE_ERR_IO : storage_result_from_sqlite(rc);
	} else {
		count = sqlite3_column_int64(s->sum_upto, 0);
		d->acked += (uint64_t)count;
		d->acked_bytes += (uint64_t)sqlite3_column_int64(s->sum_upto, 1);
	}
	sqlite3_reset(s->sum_upto); /* repeats the step's rc, handled above */
	if (result || count == 0)
		return result;
	d->deleted_any = 1;
	/* All of them (the uplink keeps up): SQLite's truncate optimization
	 * frees the pages instead of rewriting each leaf as rows go. */
	result = storage_step_int(s->wdb, s->path, s->max_id, &max_id);
	if (result)
		return result;
	if (last_id >= max_id)
		return storage_step_done(s->wdb, s->path, s->delete_all);
	rc = sqlite3_bind_int64(s->delete_upto, 1, last_id);
	if (rc != SQLITE_OK)
		return storage_bind_failed(s, rc);
	return storage_step_done(s->wdb, s->path, s->delete_upto);
}

/* UPDATE the target's row in `targets`. */
static int storage_ack_set_position(struct storage *s, const struct storage_target *t,
				    int64_t last_id)
{
	int rc = sqlite3_bind_text(s->set_position, 1, t->name, -1, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s->set_position, 2, last_id);
	if (rc != SQLITE_OK)
		return storage_bind_failed(s, rc);
	return storage_step_done(s->wdb, s->path, s->set_position);
}

/* The target has every point up to last_id (not past the newest): move its
 * position, count what left its backlog, delete what every target has. */
static int storage_ack_job(struct storage *s, const struct storage_job *job,
			   struct storage_delta *d)
{
	struct storage_target_delta *td = &d->t[job->target->index];
	int64_t last_id = job->last_id < s->next_id - 1 ? job->last_id : s->next_id - 1;
	uint64_t count = 0, bytes = 0;
	int result;

	if (s->ntargets == 1) {
		/* The one target: what leaves its backlog is what is deleted (its
		 * refused points left the buffer when refused), one scan. */
		uint64_t acked = d->acked, acked_bytes = d->acked_bytes;

		if (last_id <= td->position)
			return STORAGE_OK;
		result = storage_delete_acked(s, last_id, d);
		if (result == STORAGE_OK)
			result = storage_ack_set_position(s, job->target, last_id);
		if (result)
			return result;
		td->position = last_id;
		td->moved = 1;
		td->left += d->acked - acked;
		td->left_bytes += d->acked_bytes - acked_bytes;
		td->acked += d->acked - acked;
		return STORAGE_OK;
	}
	if (last_id > td->position) {
		result = storage_targets_count_range(s, job->target, td->position, last_id, &count,
						     &bytes);
		if (result)
			return result;
		result = storage_ack_set_position(s, job->target, last_id);
		if (result)
			return result;
		td->position = last_id;
		td->moved = 1;
		td->left += count;
		td->left_bytes += bytes;
		td->acked += count;
	}
	return storage_delete_acked(s, storage_targets_min_position(s, d), d);
}

/* Copy one point to `rejected` for the job's target; it leaves the buffer
 * when every other target has it. An id not in the buffer is skipped. */
static int storage_reject_one(struct storage *s, const struct storage_job *job, int64_t id,
			      int64_t now_ns, const char *reason, int reason_len,
			      struct storage_delta *d)
{
	struct storage_target_delta *td = &d->t[job->target->index];
	int others_have = 1;
	int64_t bytes = 0;
	int result = STORAGE_OK;
	int rc;

	rc = sqlite3_bind_int64(s->reject_size, 1, id);
	if (rc != SQLITE_OK)
		return storage_bind_failed(s, rc);
	rc = sqlite3_step(s->reject_size);
	if (rc == SQLITE_ROW)
		bytes = sqlite3_column_int64(s->reject_size, 0);
	else if (rc != SQLITE_DONE)
		result = storage_result_from_sqlite(rc);
	if (result)
		log_error(STORAGE_LOG, "%s: looking up a rejected point failed: %s", s->path,
			  sqlite3_errmsg(s->wdb));
	sqlite3_reset(s->reject_size); /* repeats the step's rc, handled above */
	if (result || rc == SQLITE_DONE)
		return result;
	rc = sqlite3_bind_int64(s->reject_copy, 1, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s->reject_copy, 2, now_ns);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s->reject_copy, 3, reason, reason_len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s->reject_copy, 4, job->target->name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s->reject_delete, 1, id);
	if (rc != SQLITE_OK)
		return storage_bind_failed(s, rc);
	result = storage_step_done(s->wdb, s->path, s->reject_copy);
	if (result)
		return result;
	for (size_t i = 0; i < s->ntargets; i++)
		if (i != job->target->index && d->t[i].position < id)
			others_have = 0;
	if (others_have) {
		result = storage_step_done(s->wdb, s->path, s->reject_delete);
		if (result)
			return result;
		d->rejected++;
		d->rejected_bytes += (uint64_t)bytes;
		d->deleted_any = 1;
	}
	if (id > td->position) {
		td->left++;
		td->left_bytes += (uint64_t)bytes;
	}
	td->rejected++;
	return STORAGE_OK;
}

static int storage_reject_job(struct storage *s, const struct storage_job *job, int64_t now_ns,
			      struct storage_delta *d)
{
	const char *reason = job->reason && job->reason[0] ? job->reason : "(no reason given)";
	size_t len = strlen(reason);
	int result = STORAGE_OK;
	int rc;

	if (len > STORAGE_REASON_MAX)
		len = text_utf8_cut(reason, STORAGE_REASON_MAX); /* do not split a character */
	for (size_t i = 0; i < job->nids && result == STORAGE_OK; i++)
		result = storage_reject_one(s, job, job->ids[i], now_ns, reason, (int)len, d);
	sqlite3_clear_bindings(s->reject_copy); /* the reason is the caller's */
	if (result)
		return result;
	rc = sqlite3_bind_int64(s->reject_trim, 1, STORAGE_REJECTED_KEEP);
	if (rc != SQLITE_OK)
		return storage_bind_failed(s, rc);
	return storage_step_done(s->wdb, s->path, s->reject_trim);
}

/* Cost of every point in the buffer as this transaction sees it: what
 * dropping everything could free at most. */
static int64_t storage_reclaimable(struct storage *s, const struct storage_delta *d)
{
	uint64_t points = atomic_load(&s->points) + d->added - d->acked - d->dropped - d->rejected;
	uint64_t bytes = atomic_load(&s->bytes) + d->added_bytes - d->acked_bytes -
			 d->dropped_bytes - d->rejected_bytes;

	return (int64_t)(bytes + points * STORAGE_ROW_OVERHEAD);
}

/* Insert the appends that fit; drop the oldest for the rest (drop_oldest)
 * or refuse them with STORAGE_ERR_FULL. */
static int storage_append_jobs(struct storage *s, struct storage_job *jobs, int64_t now_ns,
			       struct storage_delta *d)
{
	int64_t room = 0;
	int result;

	result = storage_space_room(s, &room);
	if (result)
		return result;
	for (struct storage_job *job = jobs; job; job = job->next) {
		if (job->kind != STORAGE_JOB_APPEND)
			continue;
		if (job->cost > room && s->full_policy == STORAGE_FULL_DROP_OLDEST &&
		    job->cost <= room + storage_reclaimable(s, d)) {
			int64_t freed = 0;

			result = storage_space_drop_oldest(s, job->cost - room, d, &freed);
			if (result)
				return result;
			room += freed;
		}
		if (job->cost > room) {
			job->result = STORAGE_ERR_FULL;
			d->refused += job->points;
			continue;
		}
		result = storage_insert_job(s, job, now_ns, d);
		if (result)
			return result;
		job->result = STORAGE_OK;
		room -= job->cost;
		storage_space_note_used(s, job->cost);
	}
	return STORAGE_OK;
}

/* One transaction: acks and rejects first (they make room), then appends. */
static int storage_commit_try(struct storage *s, struct storage_job *jobs, int with_appends,
			      struct storage_delta *d)
{
	int64_t now_ns = clock_wall_ns();
	int appends = 0;
	int result;

	storage_targets_delta_init(s, d);
	result = storage_step_done(s->wdb, s->path, s->begin);
	if (result)
		goto fail;
	for (struct storage_job *job = jobs; job; job = job->next) {
		if (job->kind == STORAGE_JOB_ACK)
			result = storage_ack_job(s, job, d);
		else if (job->kind == STORAGE_JOB_REJECT)
			result = storage_reject_job(s, job, now_ns, d);
		else if (job->kind == STORAGE_JOB_APPEND)
			appends = 1;
		if (result)
			goto fail;
	}
	if (with_appends && appends) {
		result = storage_append_jobs(s, jobs, now_ns, d);
		if (result)
			goto fail;
	}
	if (with_appends) {
		result = storage_refused_write(s, jobs, now_ns, d);
		if (result)
			goto fail;
	}
	result = storage_step_done(s->wdb, s->path, s->commit);
	if (result)
		goto fail;
	sqlite3_clear_bindings(s->insert); /* drop pointers into texts about to be freed */
	return STORAGE_OK;
fail:
	sqlite3_clear_bindings(s->insert);
	if (!sqlite3_get_autocommit(s->wdb) &&
	    storage_step_done(s->wdb, s->path, s->rollback) != STORAGE_OK)
		log_error(STORAGE_LOG, "%s: ROLLBACK failed too", s->path);
	return result;
}

static void storage_apply_delta(struct storage *s, const struct storage_delta *d)
{
	atomic_fetch_add(&s->points, d->added);
	atomic_fetch_sub(&s->points, d->acked + d->dropped + d->rejected);
	atomic_fetch_add(&s->bytes, d->added_bytes);
	atomic_fetch_sub(&s->bytes, d->acked_bytes + d->dropped_bytes + d->rejected_bytes);
	atomic_fetch_add(&s->appended_total, d->added);
	atomic_fetch_add(&s->acked_total, d->acked);
	atomic_fetch_add(&s->dropped_total, d->dropped);
	atomic_fetch_add(&s->rejected_total, d->rejected);
	atomic_fetch_add(&s->commits_total, 1);
	atomic_fetch_add(&s->refused_kept_total, d->refused_kept);
	atomic_fetch_add(&s->refused_lost_total, d->refused_lost);
	if (d->added)
		atomic_store(&s->newest_received_ns, d->newest_ns);
	if (atomic_load(&s->points) == 0)
		atomic_store(&s->newest_received_ns, 0);
	storage_targets_after_commit(s, d);
}

/* Drops and refusals are counted always, logged at most every 10 s. */
static void storage_log_bounds(struct storage *s, const struct storage_delta *d)
{
	uint64_t dropped = log_limit(&s->drop_log, STORAGE_BOUND_LOG_MS, d->dropped);
	uint64_t refused = log_limit(&s->full_log, STORAGE_BOUND_LOG_MS, d->refused);

	if (dropped)
		log_warn(STORAGE_LOG,
			 "%s: buffer full (max_size %" PRIu64 " B, min_free_disk %" PRIu64
			 " B): dropped the %" PRIu64 " oldest undelivered points (%" PRIu64
			 " since start)",
			 s->path, s->max_size, s->min_free_disk, dropped,
			 atomic_load(&s->dropped_total));
	if (refused)
		log_warn(STORAGE_LOG,
			 "%s: buffer full (max_size %" PRIu64 " B, min_free_disk %" PRIu64
			 " B): refused %" PRIu64 " new points",
			 s->path, s->max_size, s->min_free_disk, refused);
}

static void storage_set_results(struct storage_job *jobs, int appends, int result)
{
	for (struct storage_job *job = jobs; job; job = job->next)
		if ((job->kind == STORAGE_JOB_APPEND) == appends)
			job->result = result;
}

/* The disk is full: copy the WAL into the database file (allocated ahead,
 * see space.c) so that the next transaction writes the WAL from its start
 * instead of growing it. */
static void storage_commit_recycle_wal(struct storage *s)
{
	int log_frames = 0, done_frames = 0;
	int rc = sqlite3_wal_checkpoint_v2(s->wdb, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
					   &done_frames);

	if (rc != SQLITE_OK)
		log_warn(STORAGE_LOG, "%s: checkpoint on a full disk failed: %s", s->path,
			 sqlite3_errmsg(s->wdb));
	else
		log_info(STORAGE_LOG, "%s: disk full: checkpointed %d of %d WAL frames to reuse it",
			 s->path, done_frames, log_frames);
}

/* The last id of the next chunk of at most STORAGE_ACK_CHUNK points <= last_id. */
static int storage_ack_chunk_end(struct storage *s, int64_t last_id, int64_t *end)
{
	int result = STORAGE_OK;
	int rc = sqlite3_bind_int64(s->ack_chunk, 1, last_id);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s->ack_chunk, 2, STORAGE_ACK_CHUNK - 1);
	if (rc != SQLITE_OK)
		return storage_bind_failed(s, rc);
	rc = sqlite3_step(s->ack_chunk);
	if (rc == SQLITE_ROW)
		*end = sqlite3_column_int64(s->ack_chunk, 0);
	else if (rc == SQLITE_DONE)
		*end = last_id;
	else
		result = storage_result_from_sqlite(rc);
	if (result)
		log_error(STORAGE_LOG, "%s: finding a chunk to delete failed: %s", s->path,
			  sqlite3_errmsg(s->wdb));
	sqlite3_reset(s->ack_chunk); /* repeats the step's rc, handled above */
	return result;
}

/* On a full disk a large ack can need more WAL than there is room for (a
 * range delete rewrites many leaf pages): delete it in small transactions,
 * recycling the WAL between them. */
static int storage_ack_in_chunks(struct storage *s, struct storage_target *target, int64_t last_id)
{
	int64_t end = 0;
	int result;

	log_warn(STORAGE_LOG, "%s: disk full: deleting delivered points %d at a time", s->path,
		 STORAGE_ACK_CHUNK);
	do {
		struct storage_job part = {.kind = STORAGE_JOB_ACK, .target = target};
		struct storage_delta d = {0};

		result = storage_ack_chunk_end(s, last_id, &end);
		if (result)
			return result;
		part.last_id = end;
		result = storage_commit_try(s, &part, 0, &d);
		if (result == STORAGE_ERR_FULL) {
			storage_commit_recycle_wal(s);
			result = storage_commit_try(s, &part, 0, &d);
		}
		if (result)
			return result;
		storage_apply_delta(s, &d);
		storage_space_after_commit(s, d.deleted_any);
	} while (end < last_id);
	return STORAGE_OK;
}

void storage_commit_jobs(struct storage *s, struct storage_job *jobs)
{
	struct storage_delta d = {0};
	int64_t next_id = s->next_id;
	size_t njobs = 0, nsync = 0, nrefused = 0;
	int result;

	for (const struct storage_job *job = jobs; job; job = job->next) {
		njobs++;
		nrefused += job->kind == STORAGE_JOB_REFUSED;
		nsync += job->kind == STORAGE_JOB_ACK || job->kind == STORAGE_JOB_REJECT;
	}
	result = storage_commit_try(s, jobs, 1, &d);
	if (result == STORAGE_OK) {
		storage_set_results(jobs, 0, STORAGE_OK);
		goto committed;
	}
	s->next_id = next_id;
	atomic_fetch_add(&s->refused_lost_total, nrefused); /* best effort: not tried again */
	storage_set_results(jobs, 1, result);
	log_error(STORAGE_LOG,
		  "%s: a write transaction of %zu jobs failed (%s); nothing of it is stored",
		  s->path, njobs, storage_strerror(result));
	storage_set_results(jobs, 0, result);
	if (result == STORAGE_ERR_FULL)
		storage_commit_recycle_wal(s);
	if (nsync == 0 || (nsync == njobs - nrefused && result != STORAGE_ERR_FULL))
		return;
	/* The uplink's ack or reject must not fail because of the appends,
	 * nor because the WAL could not grow on a full disk. */
	memset(&d, 0, sizeof(d));
	result = storage_commit_try(s, jobs, 0, &d);
	if (result == STORAGE_ERR_FULL && nsync == 1) {
		for (struct storage_job *job = jobs; job; job = job->next)
			if (job->kind == STORAGE_JOB_ACK)
				result = storage_ack_in_chunks(s, job->target, job->last_id);
		storage_set_results(jobs, 0, result);
		return; /* each chunk counted its own commit */
	}
	storage_set_results(jobs, 0, result);
	if (result)
		return;
committed:
	storage_apply_delta(s, &d);
	storage_log_bounds(s, &d);
	storage_space_after_commit(s, d.deleted_any);
}
