/* storage.c -- the buffer's lifecycle: open (check, salvage, migrate), close, counters. */

/*
 * Threads: the writer thread (writer.c, commit.c) owns one connection and
 * does every write; the uplink thread reads through a second connection
 * (reader.c). The schema is described in schema.c and docs/STORAGE.md. The
 * stats counter `bytes` counts line bytes without their '\n' (octets).
 */

#include "storage_internal.h"

#include "clock.h"
#include "log.h"

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counters, the next id and the oldest and newest points from the file. */
static int storage_load_stats(struct storage *s)
{
	const char *sql = "SELECT count(*), coalesce(sum(length(CAST(line AS BLOB))), 0), "
			  "max(coalesce((SELECT max(id) FROM points), 0), "
			  "coalesce((SELECT max(id) FROM rejected), 0), "
			  "coalesce((SELECT max(acked_id) FROM targets), 0)), "
			  "coalesce((SELECT received_ns FROM points ORDER BY id LIMIT 1), 0), "
			  "coalesce((SELECT received_ns FROM points ORDER BY id DESC LIMIT 1), 0) "
			  "FROM points";
	sqlite3_stmt *stmt = NULL;
	int result = storage_prepare(s->wdb, s->path, sql, &stmt);
	int rc;

	if (result)
		goto out;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		log_error(STORAGE_LOG, "%s: cannot count the buffer: %s", s->path,
			  sqlite3_errmsg(s->wdb));
		result = storage_result_from_sqlite(rc);
		goto out;
	}
	atomic_store(&s->points, (uint64_t)sqlite3_column_int64(stmt, 0));
	atomic_store(&s->bytes, (uint64_t)sqlite3_column_int64(stmt, 1));
	s->next_id = sqlite3_column_int64(stmt, 2) + 1;
	atomic_store(&s->oldest_received_ns, sqlite3_column_int64(stmt, 3));
	atomic_store(&s->newest_received_ns, sqlite3_column_int64(stmt, 4));
	atomic_store(&s->file_bytes, storage_space_file_bytes(s));
out:
	sqlite3_finalize(stmt); /* its rc repeats the step's, handled above */
	return result;
}

/* path, its directory (for statvfs) and its WAL's name. */
static int storage_set_paths(struct storage *s, const char *path)
{
	size_t len = strlen(path);
	const char *slash = strrchr(path, '/');

	s->path = strdup(path);
	s->wal_path = malloc(len + sizeof("-wal"));
	if (!slash)
		s->dir = strdup(".");
	else if (slash == path)
		s->dir = strdup("/");
	else
		s->dir = strndup(path, (size_t)(slash - path));
	if (!s->path || !s->wal_path || !s->dir)
		return STORAGE_ERR_NOMEM;
	memcpy(s->wal_path, path, len);
	memcpy(s->wal_path + len, "-wal", sizeof("-wal"));
	return STORAGE_OK;
}

static int storage_sync_init(struct storage *s)
{
	if (pthread_mutex_init(&s->lock, NULL) != 0)
		return STORAGE_ERR_NOMEM;
	/* the writer's group-commit wait and storage_wait are timed on the
	 * monotonic clock */
	if (clock_cond_init(&s->wake) != 0) {
		pthread_mutex_destroy(&s->lock);
		return STORAGE_ERR_NOMEM;
	}
	if (pthread_cond_init(&s->synced, NULL) != 0) {
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
		return STORAGE_ERR_NOMEM;
	}
	s->sync_ready = 1;
	return STORAGE_OK;
}

/* Connect the writer and check the file; a corrupt file is moved aside,
 * salvaged into a fresh one, and that one is checked instead. */
static int storage_open_checked(struct storage *s, int *is_new)
{
	uint32_t file_id = storage_schema_file_id(s->path);
	int foreign = 0;
	int result = storage_connect(s->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->wdb);

	/* Never checkpoint on close: a refused or corrupt file stays as it is. */
	if (result == STORAGE_OK &&
	    sqlite3_db_config(s->wdb, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: cannot configure: %s", s->path, sqlite3_errmsg(s->wdb));
		result = STORAGE_ERR_IO;
	}
	if (result == STORAGE_OK)
		result = storage_schema_check(s, is_new);
	if (result == STORAGE_OK) {
		result = storage_schema_wal_foreign(s, file_id);
		foreign = result == STORAGE_ERR_CORRUPT;
	}
	if (result != STORAGE_ERR_CORRUPT)
		return result;
	storage_disconnect(s->wdb, s->path);
	s->wdb = NULL;
	result = storage_salvage(s, foreign);
	if (result)
		return result;
	atomic_store(&s->quarantined, 1);
	result = storage_connect(s->path, SQLITE_OPEN_READWRITE, &s->wdb);
	if (result == STORAGE_OK)
		result = storage_schema_check(s, is_new);
	return result;
}

int storage_open(const struct storage_options *options, struct storage **out)
{
	struct storage *s = NULL;
	int is_new = 0;
	int result;

	if (!out)
		return STORAGE_ERR_INVALID;
	*out = NULL;
	if (!options || !options->path || !options->path[0] ||
	    (options->durability != STORAGE_DURABILITY_FULL &&
	     options->durability != STORAGE_DURABILITY_NORMAL) ||
	    (options->full_policy != STORAGE_FULL_DROP_OLDEST &&
	     options->full_policy != STORAGE_FULL_REJECT_NEW))
		return STORAGE_ERR_INVALID;
	s = calloc(1, sizeof(*s));
	if (!s)
		return STORAGE_ERR_NOMEM;
	s->durability = options->durability;
	s->max_size = options->max_size;
	s->min_free_disk = options->min_free_disk;
	s->full_policy = options->full_policy;
	s->page_size = STORAGE_PAGE_SIZE;
	s->max_queued_points =
	    options->max_queued_points ? options->max_queued_points : STORAGE_QUEUE_POINTS_DEFAULT;
	result = storage_set_paths(s, options->path);
	if (result == STORAGE_OK)
		result = storage_sync_init(s);
	if (result == STORAGE_OK)
		result = storage_targets_init(s, options);
	if (result == STORAGE_OK)
		result = storage_open_checked(s, &is_new);
	if (result == STORAGE_OK)
		result = storage_schema_configure(s, is_new);
	if (result == STORAGE_OK)
		result = storage_schema_migrate(s->wdb, s->path);
	if (result == STORAGE_OK)
		result = storage_commit_prepare(s);
	if (result == STORAGE_OK)
		result = storage_targets_sync(s);
	if (result == STORAGE_OK)
		result = storage_load_stats(s);
	if (result == STORAGE_OK)
		result = storage_targets_count(s);
	if (result == STORAGE_OK)
		storage_space_prealloc(s);
	if (result == STORAGE_OK)
		result = storage_targets_open_readers(s);
	if (result == STORAGE_OK)
		result = storage_writer_start(s);
	if (result)
		goto fail;
	log_info(STORAGE_LOG,
		 "%s: open, %" PRIu64 " points (%" PRIu64 " bytes) waiting, durability %s, "
		 "max_size %" PRIu64 " B, min_free_disk %" PRIu64 " B, full_policy %s",
		 s->path, atomic_load(&s->points), atomic_load(&s->bytes),
		 s->durability == STORAGE_DURABILITY_FULL ? "full" : "normal", s->max_size,
		 s->min_free_disk,
		 s->full_policy == STORAGE_FULL_DROP_OLDEST ? "drop_oldest" : "reject_new");
	*out = s;
	return STORAGE_OK;
fail:
	log_error(STORAGE_LOG, "%s: cannot open the buffer: %s", options->path,
		  storage_strerror(result));
	storage_close(s);
	return result;
}

/* PRAGMA wal_checkpoint(TRUNCATE): move the WAL into the main file, empty it. */
static void storage_checkpoint(struct storage *s)
{
	int rc = sqlite3_wal_checkpoint_v2(s->wdb, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

	if (rc != SQLITE_OK)
		log_warn(STORAGE_LOG, "%s: WAL checkpoint at close failed: %s", s->path,
			 sqlite3_errmsg(s->wdb));
}

void storage_close(struct storage *s)
{
	uint64_t commits, appended;

	if (!s)
		return;
	storage_writer_stop(s);
	storage_commit_finalize(s);
	storage_targets_free(s); /* the readers first: then the checkpoint can truncate */
	if (s->wal_ready)
		storage_checkpoint(s);
	storage_disconnect(s->wdb, s->path);
	if (s->sync_ready) {
		pthread_cond_destroy(&s->synced);
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
	}
	if (s->wal_ready) {
		commits = atomic_load(&s->commits_total);
		appended = atomic_load(&s->appended_total);
		log_info(STORAGE_LOG,
			 "%s: closed; since open %" PRIu64 " points appended in %" PRIu64
			 " commits (%.1f points per commit), %" PRIu64 " acked, %" PRIu64
			 " dropped, %" PRIu64 " rejected",
			 s->path, appended, commits,
			 commits ? (double)appended / (double)commits : 0.0,
			 atomic_load(&s->acked_total), atomic_load(&s->dropped_total),
			 atomic_load(&s->rejected_total));
	}
	free(s->path);
	free(s->dir);
	free(s->wal_path);
	free(s);
}

void storage_get_stats(struct storage *s, struct storage_stats *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	out->points = atomic_load_explicit(&s->points, memory_order_relaxed);
	out->bytes = atomic_load_explicit(&s->bytes, memory_order_relaxed);
	out->appended_total = atomic_load_explicit(&s->appended_total, memory_order_relaxed);
	out->acked_total = atomic_load_explicit(&s->acked_total, memory_order_relaxed);
	out->commits_total = atomic_load_explicit(&s->commits_total, memory_order_relaxed);
	out->dropped_total = atomic_load_explicit(&s->dropped_total, memory_order_relaxed);
	out->rejected_total = atomic_load_explicit(&s->rejected_total, memory_order_relaxed);
	out->oldest_received_ns =
	    atomic_load_explicit(&s->oldest_received_ns, memory_order_relaxed);
	out->newest_received_ns =
	    atomic_load_explicit(&s->newest_received_ns, memory_order_relaxed);
	out->refused_kept = atomic_load_explicit(&s->refused_kept_total, memory_order_relaxed);
	out->refused_lost = atomic_load_explicit(&s->refused_lost_total, memory_order_relaxed);
	out->file_bytes = atomic_load_explicit(&s->file_bytes, memory_order_relaxed);
	out->quarantined = atomic_load_explicit(&s->quarantined, memory_order_relaxed);
}

const char *storage_strerror(int result)
{
	switch (result) {
	case STORAGE_OK:
		return "ok";
	case STORAGE_ERR_BUSY:
		return "the write queue is full, try again shortly";
	case STORAGE_ERR_CLOSED:
		return "the buffer is shutting down";
	case STORAGE_ERR_NOMEM:
		return "out of memory";
	case STORAGE_ERR_IO:
		return "the buffer database failed (see the log)";
	case STORAGE_ERR_CORRUPT:
		return "the buffer file is corrupt";
	case STORAGE_ERR_SCHEMA:
		return "the buffer file was written by a newer iot-edge";
	case STORAGE_ERR_INVALID:
		return "invalid argument";
	case STORAGE_ERR_FULL:
		return "the buffer is full (buffer.max_size or buffer.min_free_disk reached)";
	default:
		return "unknown storage error";
	}
}
