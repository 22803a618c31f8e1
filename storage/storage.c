/* storage.c -- the buffer's lifecycle: open, check, migrate, read batches for the uplink, close. */

/*
 * The buffer file (buffer.db), readable with the plain sqlite3 shell:
 *
 *   sqlite3 /var/lib/iot-edge/buffer.db 'SELECT * FROM backlog LIMIT 10'
 *
 * Schema v1 (PRAGMA user_version = 1):
 *
 *   CREATE TABLE points (
 *     id          INTEGER PRIMARY KEY,  -- delivery order: oldest first
 *     received_ns INTEGER NOT NULL,     -- when the edge committed it (ns since the Unix epoch)
 *     line        TEXT    NOT NULL      -- canonical line protocol, ns timestamp, no newline
 *   );
 *   CREATE VIEW backlog AS SELECT id,
 *     strftime('%Y-%m-%d %H:%M:%f', received_ns / 1e9, 'unixepoch') AS received_utc, line
 *     FROM points;
 *
 * A row is a point that is durable on the edge and not yet acknowledged by
 * InfluxDB; storage_ack() deletes rows once InfluxDB has them. New files get
 * PRAGMA auto_vacuum = INCREMENTAL before the first table is created.
 * The file is always in WAL mode (buffer.db-wal and buffer.db-shm live
 * beside it while the daemon runs; a clean close checkpoints and removes them).
 *
 * Threads: the writer thread (writer.c) owns one connection and does every
 * write; the uplink thread reads through a second connection. The stats
 * counter `bytes` counts line bytes without their '\n' (octets, not chars).
 *
 * Migrations: storage_migrations[] lists steps keyed by the user_version they
 * produce; storage_open runs the missing ones in one transaction. A file with
 * a user_version above STORAGE_SCHEMA_VERSION was written by a newer
 * iot-edge and is refused (STORAGE_ERR_SCHEMA), never modified.
 */

#include "storage_internal.h"

#include "log.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORAGE_SCHEMA_VERSION 1
#define STORAGE_DEFAULT_MAX_QUEUED 100000
#define STORAGE_BUSY_TIMEOUT_MS 5000
#define STORAGE_QUICK_CHECK_LOG_LINES 5

struct storage_migration {
	int version;	 /* the user_version once this step ran */
	const char *sql; /* one or more statements */
};

static const struct storage_migration storage_migrations[] = {
    {1, "CREATE TABLE points (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  received_ns INTEGER NOT NULL,\n"
	"  line        TEXT    NOT NULL\n"
	");\n"
	"CREATE VIEW backlog AS SELECT id,\n"
	"  strftime('%Y-%m-%d %H:%M:%f', received_ns / 1e9, 'unixepoch') AS received_utc,"
	" line\n"
	"  FROM points;\n"},
};

int storage_result_from_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
		return STORAGE_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORAGE_ERR_BUSY;
	case SQLITE_NOMEM:
		return STORAGE_ERR_NOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORAGE_ERR_CORRUPT;
	default:
		return STORAGE_ERR_IO;
	}
}

/* Run one or more statements that return no rows we need. */
static int storage_exec(sqlite3 *db, const char *path, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: \"%.60s\" failed: %s", path, sql,
			  err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return storage_result_from_sqlite(rc);
	}
	return STORAGE_OK;
}

static int storage_prepare(sqlite3 *db, const char *path, const char *sql, sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);

	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: cannot prepare \"%s\": %s", path, sql,
			  sqlite3_errmsg(db));
		return storage_result_from_sqlite(rc);
	}
	return STORAGE_OK;
}

/* Run a statement that answers one row; copy column 0 as text and/or int. */
static int storage_query_one(sqlite3 *db, const char *path, const char *sql, char *text,
			     size_t text_size, int64_t *value)
{
	sqlite3_stmt *stmt = NULL;
	int result = storage_prepare(db, path, sql, &stmt);
	int rc;

	if (result)
		goto out;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		log_error(STORAGE_LOG, "%s: \"%s\" failed: %s", path, sql,
			  rc == SQLITE_DONE ? "no answer" : sqlite3_errmsg(db));
		result = rc == SQLITE_DONE ? STORAGE_ERR_IO : storage_result_from_sqlite(rc);
		goto out;
	}
	if (text) {
		const unsigned char *t = sqlite3_column_text(stmt, 0);

		snprintf(text, text_size, "%s", t ? (const char *)t : "");
	}
	if (value)
		*value = sqlite3_column_int64(stmt, 0);
out:
	sqlite3_finalize(stmt); /* its rc repeats the step's, handled above */
	return result;
}

static int storage_connect(const char *path, int flags, sqlite3 **out)
{
	int rc = sqlite3_open_v2(path, out, flags | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: cannot open: %s", path,
			  *out ? sqlite3_errmsg(*out) : sqlite3_errstr(rc));
		return storage_result_from_sqlite(rc);
	}
	rc = sqlite3_extended_result_codes(*out, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(*out, STORAGE_BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: cannot configure: %s", path, sqlite3_errmsg(*out));
		return storage_result_from_sqlite(rc);
	}
	return STORAGE_OK;
}

/* PRAGMA quick_check: "ok", or one row per problem found. */
static int storage_quick_check(struct storage *s)
{
	sqlite3_stmt *stmt = NULL;
	int result = storage_prepare(s->wdb, s->path, "PRAGMA quick_check", &stmt);
	int rows = 0;
	int rc;

	if (result)
		goto out;
	for (;;) {
		const unsigned char *msg;

		rc = sqlite3_step(stmt);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			log_error(STORAGE_LOG, "%s: quick_check failed: %s", s->path,
				  sqlite3_errmsg(s->wdb));
			result = storage_result_from_sqlite(rc);
			goto out;
		}
		msg = sqlite3_column_text(stmt, 0);
		if (rows == 0 && msg && strcmp((const char *)msg, "ok") == 0)
			goto out;
		if (rows < STORAGE_QUICK_CHECK_LOG_LINES)
			log_error(STORAGE_LOG, "%s: quick_check: %s", s->path,
				  msg ? (const char *)msg : "(no text)");
		rows++;
		result = STORAGE_ERR_CORRUPT;
	}
	if (rows == 0)
		result = STORAGE_ERR_CORRUPT;
out:
	if (result == STORAGE_ERR_CORRUPT)
		log_error(STORAGE_LOG,
			  "%s: THE BUFFER FILE IS CORRUPT (%d problems); it is left as it is, "
			  "the daemon will not use it",
			  s->path, rows);
	sqlite3_finalize(stmt); /* its rc repeats the step's, handled above */
	return result;
}

/* Integrity and version checks that must not modify the file. */
static int storage_check(struct storage *s, int *is_new)
{
	int64_t tables = 0;
	int64_t version = 0;
	int result;

	/* The first read: a file that is not a database fails here (SQLITE_NOTADB). */
	result = storage_query_one(s->wdb, s->path, "SELECT count(*) FROM sqlite_master", NULL, 0,
				   &tables);
	if (result == STORAGE_ERR_CORRUPT)
		log_error(STORAGE_LOG, "%s: the file is not a SQLite database; it is left as it is",
			  s->path);
	if (result)
		return result;
	result = storage_quick_check(s);
	if (result)
		return result;
	result = storage_query_one(s->wdb, s->path, "PRAGMA user_version", NULL, 0, &version);
	if (result)
		return result;
	if (version > STORAGE_SCHEMA_VERSION) {
		log_error(STORAGE_LOG,
			  "%s: schema version %lld was written by a newer iot-edge (this one knows "
			  "up to %d); refusing to touch it",
			  s->path, (long long)version, STORAGE_SCHEMA_VERSION);
		return STORAGE_ERR_SCHEMA;
	}
	*is_new = tables == 0;
	return STORAGE_OK;
}

/* journal_mode, synchronous and (new files) auto_vacuum on the writer connection. */
static int storage_configure(struct storage *s, enum storage_durability durability, int is_new)
{
	char mode[16];
	int result;

	if (is_new) {
		result = storage_exec(s->wdb, s->path, "PRAGMA auto_vacuum = INCREMENTAL");
		if (result)
			return result;
	}
	result = storage_query_one(s->wdb, s->path, "PRAGMA journal_mode = WAL", mode, sizeof(mode),
				   NULL);
	if (result)
		return result;
	if (strcmp(mode, "wal") != 0) {
		log_error(STORAGE_LOG, "%s: cannot switch to WAL mode (journal_mode is \"%s\")",
			  s->path, mode);
		return STORAGE_ERR_IO;
	}
	s->wal_ready = 1;
	return storage_exec(s->wdb, s->path,
			    durability == STORAGE_DURABILITY_FULL ? "PRAGMA synchronous = FULL"
								  : "PRAGMA synchronous = NORMAL");
}

/* Run every migration step above the file's user_version in one transaction. */
static int storage_migrate(struct storage *s)
{
	size_t n = sizeof(storage_migrations) / sizeof(storage_migrations[0]);
	int64_t version = 0;
	char sql[64];
	int result;

	result = storage_exec(s->wdb, s->path, "BEGIN IMMEDIATE");
	if (result)
		return result;
	result = storage_query_one(s->wdb, s->path, "PRAGMA user_version", NULL, 0, &version);
	if (result)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (storage_migrations[i].version <= version)
			continue;
		log_info(STORAGE_LOG, "%s: migrating schema from version %lld to %d", s->path,
			 (long long)version, storage_migrations[i].version);
		result = storage_exec(s->wdb, s->path, storage_migrations[i].sql);
		if (result)
			goto out;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 storage_migrations[i].version);
		result = storage_exec(s->wdb, s->path, sql);
		if (result)
			goto out;
		version = storage_migrations[i].version;
	}
	result = storage_exec(s->wdb, s->path, "COMMIT");
out:
	if (result && !sqlite3_get_autocommit(s->wdb) &&
	    storage_exec(s->wdb, s->path, "ROLLBACK") != STORAGE_OK)
		log_error(STORAGE_LOG, "%s: rollback of the migration failed", s->path);
	return result;
}

static int storage_prepare_writer(struct storage *s)
{
	int result = storage_prepare(s->wdb, s->path, "BEGIN IMMEDIATE", &s->begin);

	if (result == STORAGE_OK)
		result = storage_prepare(s->wdb, s->path, "COMMIT", &s->commit);
	if (result == STORAGE_OK)
		result = storage_prepare(s->wdb, s->path, "ROLLBACK", &s->rollback);
	if (result == STORAGE_OK)
		result = storage_prepare(s->wdb, s->path,
					 "INSERT INTO points (received_ns, line) VALUES (?1, ?2)",
					 &s->insert);
	if (result == STORAGE_OK)
		result =
		    storage_prepare(s->wdb, s->path,
				    "SELECT count(*), coalesce(sum(length(CAST(line AS BLOB))), 0)"
				    " FROM points WHERE id <= ?1",
				    &s->ack_sum);
	if (result == STORAGE_OK)
		result = storage_prepare(s->wdb, s->path, "DELETE FROM points WHERE id <= ?1",
					 &s->ack_delete);
	return result;
}

static int storage_load_stats(struct storage *s)
{
	const char *sql = "SELECT count(*), coalesce(sum(length(CAST(line AS BLOB))), 0) "
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
out:
	sqlite3_finalize(stmt); /* its rc repeats the step's, handled above */
	return result;
}

static int storage_open_reader(struct storage *s)
{
	int result = storage_connect(s->path, SQLITE_OPEN_READWRITE, &s->rdb);

	if (result == STORAGE_OK)
		result = storage_exec(s->rdb, s->path, "PRAGMA query_only = 1");
	if (result == STORAGE_OK)
		result = storage_prepare(s->rdb, s->path,
					 "SELECT id, line FROM points ORDER BY id LIMIT ?1",
					 &s->select_batch);
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
	     options->durability != STORAGE_DURABILITY_NORMAL))
		return STORAGE_ERR_INVALID;
	s = calloc(1, sizeof(*s));
	if (!s)
		return STORAGE_ERR_NOMEM;
	s->path = strdup(options->path);
	if (!s->path) {
		result = STORAGE_ERR_NOMEM;
		goto fail;
	}
	s->max_queued_points =
	    options->max_queued_points ? options->max_queued_points : STORAGE_DEFAULT_MAX_QUEUED;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		result = STORAGE_ERR_NOMEM;
		goto fail;
	}
	if (pthread_cond_init(&s->wake, NULL) != 0) {
		pthread_mutex_destroy(&s->lock);
		result = STORAGE_ERR_NOMEM;
		goto fail;
	}
	if (pthread_cond_init(&s->acked, NULL) != 0) {
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
		result = STORAGE_ERR_NOMEM;
		goto fail;
	}
	s->sync_ready = 1;

	result = storage_connect(s->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s->wdb);
	if (result == STORAGE_OK)
		result = storage_check(s, &is_new);
	if (result == STORAGE_OK)
		result = storage_configure(s, options->durability, is_new);
	if (result == STORAGE_OK)
		result = storage_migrate(s);
	if (result == STORAGE_OK)
		result = storage_prepare_writer(s);
	if (result == STORAGE_OK)
		result = storage_load_stats(s);
	if (result == STORAGE_OK)
		result = storage_open_reader(s);
	if (result == STORAGE_OK)
		result = storage_writer_start(s);
	if (result)
		goto fail;
	log_info(STORAGE_LOG, "%s: open, %llu points (%llu bytes) waiting, durability %s", s->path,
		 (unsigned long long)atomic_load(&s->points),
		 (unsigned long long)atomic_load(&s->bytes),
		 options->durability == STORAGE_DURABILITY_FULL ? "full" : "normal");
	*out = s;
	return STORAGE_OK;
fail:
	log_error(STORAGE_LOG, "%s: cannot open the buffer: %s", options->path,
		  storage_strerror(result));
	storage_close(s);
	return result;
}

static void storage_disconnect(sqlite3 *db, const char *path)
{
	int rc;

	if (!db)
		return;
	rc = sqlite3_close(db);
	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: close failed: %s", path, sqlite3_errmsg(db));
		sqlite3_close_v2(db); /* always SQLITE_OK: closes once unused */
	}
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
	if (!s)
		return;
	storage_writer_stop(s);
	sqlite3_finalize(s->select_batch); /* rc repeats earlier errors, already logged */
	storage_disconnect(s->rdb, s->path);
	if (s->wal_ready)
		storage_checkpoint(s);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->rollback);
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->ack_sum);
	sqlite3_finalize(s->ack_delete);
	storage_disconnect(s->wdb, s->path);
	if (s->sync_ready) {
		pthread_cond_destroy(&s->acked);
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
	}
	if (s->wal_ready)
		log_info(STORAGE_LOG, "%s: closed", s->path);
	free(s->path);
	free(s);
}

/* Make room for `want` bytes in batch->text. */
static int storage_batch_reserve(struct storage_batch *batch, size_t want)
{
	size_t cap = batch->cap ? batch->cap : 4096;
	char *text;

	if (want <= batch->cap && batch->text)
		return STORAGE_OK;
	while (cap < want) {
		if (cap > SIZE_MAX / 2)
			return STORAGE_ERR_NOMEM;
		cap *= 2;
	}
	text = realloc(batch->text, cap);
	if (!text)
		return STORAGE_ERR_NOMEM;
	batch->text = text;
	batch->cap = cap;
	return STORAGE_OK;
}

int storage_read_batch(struct storage *s, size_t max_points, size_t max_bytes,
		       struct storage_batch *batch)
{
	sqlite3_int64 limit = max_points > INT64_MAX ? INT64_MAX : (sqlite3_int64)max_points;
	int result = STORAGE_OK;
	int rc;

	if (!s || !batch || max_points == 0)
		return STORAGE_ERR_INVALID;
	batch->len = 0;
	batch->count = 0;
	batch->last_id = 0;
	rc = sqlite3_bind_int64(s->select_batch, 1, limit);
	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: bind failed: %s", s->path, sqlite3_errmsg(s->rdb));
		result = storage_result_from_sqlite(rc);
		goto out;
	}
	for (;;) {
		const unsigned char *line;
		size_t n;

		rc = sqlite3_step(s->select_batch);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			log_error(STORAGE_LOG, "%s: reading a batch failed: %s", s->path,
				  sqlite3_errmsg(s->rdb));
			result = storage_result_from_sqlite(rc);
			goto out;
		}
		line = sqlite3_column_text(s->select_batch, 1);
		if (!line) {
			result = STORAGE_ERR_NOMEM;
			goto out;
		}
		n = (size_t)sqlite3_column_bytes(s->select_batch, 1);
		if (batch->count > 0 && (batch->len >= max_bytes || n + 1 > max_bytes - batch->len))
			break;
		/* + '\n' + a terminating NUL (not counted in len) for the reader's comfort */
		result = storage_batch_reserve(batch, batch->len + n + 2);
		if (result)
			goto out;
		memcpy(batch->text + batch->len, line, n);
		batch->len += n;
		batch->text[batch->len++] = '\n';
		batch->text[batch->len] = '\0';
		batch->count++;
		batch->last_id = sqlite3_column_int64(s->select_batch, 0);
	}
out:
	sqlite3_reset(s->select_batch); /* its rc repeats the step's, handled above */
	if (result) {
		batch->len = 0;
		batch->count = 0;
		batch->last_id = 0;
	}
	return result;
}

void storage_batch_free(struct storage_batch *batch)
{
	if (!batch)
		return;
	free(batch->text);
	batch->text = NULL;
	batch->len = 0;
	batch->cap = 0;
	batch->count = 0;
	batch->last_id = 0;
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
	default:
		return "unknown storage error";
	}
}
