/* target.c -- the delivery targets: one position per uplink in the buffer, kept in `targets`. */

/*
 * Every target (one per [uplink] or [uplink.NAME]) has a position, the id of
 * the newest point it has (targets.acked_id); a point is deleted once every
 * position has passed it. A target's backlog is the points after its
 * position that it has not refused (rejected rows of that target). The
 * writer keeps each backlog's count and bytes from what its transactions
 * add and remove, so that the stats need no query.
 */

#include "storage_internal.h"

#include "clock.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int storage_targets_init(struct storage *s, const struct storage_options *options)
{
	static const char *const fallback[] = {STORAGE_TARGET_DEFAULT};
	const char *const *names = options->targets;
	size_t n = options->target_count;

	if (names == NULL || n == 0) {
		names = fallback;
		n = 1;
	}
	if (n > STORAGE_MAX_TARGETS) {
		log_error(STORAGE_LOG, "%zu targets: at most %d are supported", n,
			  STORAGE_MAX_TARGETS);
		return STORAGE_ERR_INVALID;
	}
	s->targets = calloc(n, sizeof(*s->targets));
	if (!s->targets)
		return STORAGE_ERR_NOMEM;
	s->ntargets = n;
	for (size_t i = 0; i < n; i++) {
		struct storage_target *t = &s->targets[i];

		t->s = s;
		t->index = i;
		if (!names[i] || !names[i][0] || strlen(names[i]) >= sizeof(t->name)) {
			log_error(STORAGE_LOG, "target %zu: its name is empty or too long", i + 1);
			return STORAGE_ERR_INVALID;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(names[j], names[i]) == 0) {
				log_error(STORAGE_LOG, "target \"%s\" is named twice", names[i]);
				return STORAGE_ERR_INVALID;
			}
		}
		memcpy(t->name, names[i], strlen(names[i]) + 1);
		if (clock_cond_init(&t->arrived) != 0)
			return STORAGE_ERR_NOMEM;
		t->arrived_ready = 1;
	}
	return STORAGE_OK;
}

static int storage_target_listed(const struct storage *s, const char *name)
{
	for (size_t i = 0; i < s->ntargets; i++)
		if (strcmp(s->targets[i].name, name) == 0)
			return 1;
	return 0;
}

/* Bind a target name to parameter `i` of stmt (the name lives as long as s). */
static int storage_bind_name(struct storage *s, sqlite3_stmt *stmt, int i, const char *name)
{
	int rc = sqlite3_bind_text(stmt, i, name, -1, SQLITE_TRANSIENT);

	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: bind failed: %s", s->path, sqlite3_errmsg(s->wdb));
		return storage_result_from_sqlite(rc);
	}
	return STORAGE_OK;
}

/* Drop the rows of targets that are no longer configured, logging each. */
static int storage_targets_drop_unlisted(struct storage *s)
{
	sqlite3_stmt *list = NULL, *drop = NULL;
	int result = storage_prepare(s->wdb, s->path,
				     "SELECT name, acked_id, (SELECT count(*) FROM points p WHERE "
				     "p.id > t.acked_id) FROM targets t ORDER BY name",
				     &list);
	int rc;

	if (result == STORAGE_OK)
		result =
		    storage_prepare(s->wdb, s->path, "DELETE FROM targets WHERE name = ?1", &drop);
	while (result == STORAGE_OK) {
		const char *name;

		rc = sqlite3_step(list);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			log_error(STORAGE_LOG, "%s: reading the targets failed: %s", s->path,
				  sqlite3_errmsg(s->wdb));
			result = storage_result_from_sqlite(rc);
			break;
		}
		name = (const char *)sqlite3_column_text(list, 0);
		if (!name || storage_target_listed(s, name))
			continue;
		log_warn(STORAGE_LOG,
			 "%s: target \"%s\" is no longer configured: its position (id %lld, %lld "
			 "points it had not got) is dropped, it holds the buffer no more",
			 s->path, name, (long long)sqlite3_column_int64(list, 1),
			 (long long)sqlite3_column_int64(list, 2));
		result = storage_bind_name(s, drop, 1, name);
		if (result == STORAGE_OK)
			result = storage_step_done(s->wdb, s->path, drop);
	}
	sqlite3_finalize(list); /* their rc repeat the steps', handled above */
	sqlite3_finalize(drop);
	return result;
}

/* Read (or create at 0: the oldest point) each configured target's row. */
static int storage_targets_load(struct storage *s)
{
	sqlite3_stmt *get = NULL, *add = NULL;
	int result =
	    storage_prepare(s->wdb, s->path, "SELECT acked_id FROM targets WHERE name = ?1", &get);
	int64_t points = 0;

	if (result == STORAGE_OK)
		result = storage_prepare(
		    s->wdb, s->path, "INSERT INTO targets (name, acked_id) VALUES (?1, 0)", &add);
	if (result == STORAGE_OK)
		result = storage_query_one(s->wdb, s->path, "SELECT count(*) FROM points", NULL, 0,
					   &points);
	for (size_t i = 0; i < s->ntargets && result == STORAGE_OK; i++) {
		struct storage_target *t = &s->targets[i];
		int rc;

		result = storage_bind_name(s, get, 1, t->name);
		if (result)
			break;
		rc = sqlite3_step(get);
		if (rc == SQLITE_ROW)
			t->position = sqlite3_column_int64(get, 0);
		else if (rc != SQLITE_DONE)
			result = storage_result_from_sqlite(rc);
		sqlite3_reset(get); /* repeats the step's rc, handled here */
		if (result || rc == SQLITE_ROW)
			continue;
		t->position = 0;
		if (points > 0 || s->ntargets > 1)
			log_info(STORAGE_LOG,
				 "%s: target \"%s\" is new: it starts at the oldest of the %lld "
				 "buffered points",
				 s->path, t->name, (long long)points);
		result = storage_bind_name(s, add, 1, t->name);
		if (result == STORAGE_OK)
			result = storage_step_done(s->wdb, s->path, add);
	}
	if (result)
		log_error(STORAGE_LOG, "%s: loading the targets failed: %s", s->path,
			  sqlite3_errmsg(s->wdb));
	sqlite3_finalize(get);
	sqlite3_finalize(add);
	return result;
}

int storage_targets_count(struct storage *s)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		struct storage_target *t = &s->targets[i];
		uint64_t count = atomic_load(&s->points), bytes = atomic_load(&s->bytes);
		int result = STORAGE_OK;

		/* One target: every point is after its position (storage_targets_sync
		 * deleted the others), the counts of the whole buffer are its own. */
		if (s->ntargets > 1)
			result = storage_targets_count_range(s, t, t->position, INT64_MAX, &count,
							     &bytes);
		if (result)
			return result;
		atomic_store(&t->acked_id, t->position);
		atomic_store(&t->points, count);
		atomic_store(&t->bytes, bytes);
	}
	storage_targets_after_commit(s, NULL);
	return STORAGE_OK;
}

int storage_targets_sync(struct storage *s)
{
	int64_t min = INT64_MAX, deleted = 0;
	char sql[96];
	int result = storage_exec(s->wdb, s->path, "BEGIN IMMEDIATE");

	if (result)
		return result;
	result = storage_targets_drop_unlisted(s);
	if (result == STORAGE_OK)
		result = storage_targets_load(s);
	for (size_t i = 0; i < s->ntargets; i++)
		if (s->targets[i].position < min)
			min = s->targets[i].position;
	if (result == STORAGE_OK && min > 0) {
		snprintf(sql, sizeof(sql), "DELETE FROM points WHERE id <= %lld", (long long)min);
		result = storage_exec(s->wdb, s->path, sql);
		deleted = result == STORAGE_OK ? sqlite3_changes(s->wdb) : 0;
	}
	if (result == STORAGE_OK)
		result = storage_exec(s->wdb, s->path, "COMMIT");
	if (result) {
		if (!sqlite3_get_autocommit(s->wdb) &&
		    storage_exec(s->wdb, s->path, "ROLLBACK") != STORAGE_OK)
			log_error(STORAGE_LOG, "%s: rollback of the targets failed", s->path);
		return result;
	}
	if (deleted > 0)
		log_info(STORAGE_LOG, "%s: deleted %lld points every configured target has",
			 s->path, (long long)deleted);
	return STORAGE_OK;
}

int storage_targets_open_readers(struct storage *s)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		struct storage_target *t = &s->targets[i];
		int result = storage_connect(s->path, SQLITE_OPEN_READWRITE, &t->rdb);

		if (result == STORAGE_OK)
			result = storage_exec(t->rdb, s->path, "PRAGMA query_only = 1");
		if (result == STORAGE_OK)
			result = storage_prepare(t->rdb, s->path,
						 s->ntargets == 1 ? STORAGE_SELECT_BATCH_ONE
								  : STORAGE_SELECT_BATCH,
						 &t->select_batch);
		if (result)
			return result;
	}
	return STORAGE_OK;
}

void storage_targets_free(struct storage *s)
{
	for (size_t i = 0; s->targets && i < s->ntargets; i++) {
		struct storage_target *t = &s->targets[i];

		sqlite3_finalize(t->select_batch); /* NULL-safe; errors were logged */
		storage_disconnect(t->rdb, s->path);
		if (t->arrived_ready)
			pthread_cond_destroy(&t->arrived);
	}
	free(s->targets);
	s->targets = NULL;
	s->ntargets = 0;
}

int64_t storage_targets_min_position(const struct storage *s, const struct storage_delta *d)
{
	int64_t min = INT64_MAX;

	for (size_t i = 0; i < s->ntargets; i++)
		if (d->t[i].position < min)
			min = d->t[i].position;
	return min;
}

void storage_targets_delta_init(const struct storage *s, struct storage_delta *d)
{
	for (size_t i = 0; i < s->ntargets; i++)
		d->t[i].position = s->targets[i].position;
}

int storage_targets_count_range(struct storage *s, const struct storage_target *t, int64_t from,
				int64_t to, uint64_t *count, uint64_t *bytes)
{
	int result = STORAGE_OK;
	int rc = sqlite3_bind_int64(s->count_range, 1, from);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s->count_range, 2, to);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s->count_range, 3, t->name, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: bind failed: %s", s->path, sqlite3_errmsg(s->wdb));
		return storage_result_from_sqlite(rc);
	}
	rc = sqlite3_step(s->count_range);
	if (rc == SQLITE_ROW) {
		*count = (uint64_t)sqlite3_column_int64(s->count_range, 0);
		*bytes = (uint64_t)sqlite3_column_int64(s->count_range, 1);
	} else {
		log_error(STORAGE_LOG, "%s: counting a target's points failed: %s", s->path,
			  sqlite3_errmsg(s->wdb));
		result = rc == SQLITE_DONE ? STORAGE_ERR_IO : storage_result_from_sqlite(rc);
	}
	sqlite3_reset(s->count_range); /* repeats the step's rc, handled above */
	return result;
}

int storage_targets_leave(struct storage *s, int64_t last_id, struct storage_delta *d)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		struct storage_target_delta *td = &d->t[i];
		uint64_t count = 0, bytes = 0;
		int result;

		if (td->position >= last_id)
			continue;
		result = storage_targets_count_range(s, &s->targets[i], td->position, last_id,
						     &count, &bytes);
		if (result)
			return result;
		td->left += count;
		td->left_bytes += bytes;
	}
	return STORAGE_OK;
}

/* a - b, never below 0 (a rejected row trimmed from `rejected` while its
 * point waits for another target may be counted twice). */
static void storage_sub(_Atomic uint64_t *a, uint64_t b)
{
	uint64_t v = atomic_load(a);

	atomic_store(a, v > b ? v - b : 0);
}

/* The received_ns of the first point after `position`; 0 when none. */
static int64_t storage_target_oldest(struct storage *s, int64_t position)
{
	int64_t oldest = 0;
	int rc = sqlite3_bind_int64(s->next_oldest, 1, position);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(s->next_oldest);
	if (rc == SQLITE_ROW)
		oldest = sqlite3_column_int64(s->next_oldest, 0);
	else if (rc != SQLITE_DONE)
		log_warn(STORAGE_LOG, "%s: reading a target's oldest point failed: %s", s->path,
			 sqlite3_errmsg(s->wdb));
	sqlite3_reset(s->next_oldest); /* repeats the step's rc, handled above */
	return oldest;
}

void storage_targets_after_commit(struct storage *s, const struct storage_delta *d)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		struct storage_target *t = &s->targets[i];
		int look = d == NULL || d->deleted_any;

		if (d) {
			const struct storage_target_delta *td = &d->t[i];

			atomic_fetch_add(&t->points, d->added);
			atomic_fetch_add(&t->bytes, d->added_bytes);
			storage_sub(&t->points, td->left);
			storage_sub(&t->bytes, td->left_bytes);
			atomic_fetch_add(&t->acked_total, td->acked);
			atomic_fetch_add(&t->rejected_total, td->rejected);
			t->position = td->position;
			atomic_store(&t->acked_id, td->position);
			look = look || td->moved || td->left > 0 ||
			       (d->added > 0 && atomic_load(&t->oldest_received_ns) == 0);
		}
		if (atomic_load(&t->points) == 0)
			atomic_store(&t->oldest_received_ns, 0);
		else if (look)
			atomic_store(&t->oldest_received_ns, storage_target_oldest(s, t->position));
	}
}

void storage_targets_signal(struct storage *s)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		struct storage_target *t = &s->targets[i];

		if (t->reader_waiting &&
		    (s->closing || atomic_load(&t->points) >= t->want_points ||
		     atomic_load(&t->bytes) >= t->want_bytes) &&
		    pthread_cond_broadcast(&t->arrived) != 0) {
			log_error(STORAGE_LOG, "pthread_cond_broadcast failed");
			abort();
		}
	}
}

size_t storage_target_count(const struct storage *s)
{
	return s ? s->ntargets : 0;
}

struct storage_target *storage_target_at(struct storage *s, size_t i)
{
	return s && i < s->ntargets ? &s->targets[i] : NULL;
}

struct storage_target *storage_target_find(struct storage *s, const char *name)
{
	for (size_t i = 0; s && name && i < s->ntargets; i++)
		if (strcmp(s->targets[i].name, name) == 0)
			return &s->targets[i];
	return NULL;
}

void storage_target_get_stats(struct storage_target *t, struct storage_target_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!t)
		return;
	memcpy(out->name, t->name, sizeof(out->name));
	out->acked_id = atomic_load_explicit(&t->acked_id, memory_order_relaxed);
	out->points = atomic_load_explicit(&t->points, memory_order_relaxed);
	out->bytes = atomic_load_explicit(&t->bytes, memory_order_relaxed);
	out->oldest_received_ns =
	    atomic_load_explicit(&t->oldest_received_ns, memory_order_relaxed);
	out->acked_total = atomic_load_explicit(&t->acked_total, memory_order_relaxed);
	out->rejected_total = atomic_load_explicit(&t->rejected_total, memory_order_relaxed);
}
