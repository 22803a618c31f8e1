/* salvage.c -- a corrupt buffer is moved aside (never deleted) and its readable rows copied to a
 * fresh one. */

/*
 * The damaged file keeps its name with ".corrupt-YYYYmmddTHHMMSSZ" appended
 * (its -wal and -shm follow it, so sqlite3 can still open it as it was).
 * Rows are read one by one in id order; when a read fails (a damaged page),
 * the reader probes further ids, doubling the step, until a read succeeds,
 * then narrows back by bisection, so that only the rows of damaged pages are
 * lost. The old file is opened without checkpoint-on-close: salvaging never
 * modifies it.
 */

#include "storage_internal.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STORAGE_SALVAGE_TXN_ROWS 10000 /* rows per transaction in the new file */
#define STORAGE_SALVAGE_MAX_LINE (16 << 20)

static const char *const storage_side_files[] = {"-wal", "-shm", "-journal"};

struct storage_salvage_table {
	const char *name;
	const char *select; /* ?1: the first id wanted */
	const char *insert;
	int columns;
};

static const struct storage_salvage_table storage_salvage_tables[] = {
    {"points", "SELECT id, received_ns, line FROM points WHERE id >= ?1 ORDER BY id",
     "INSERT OR IGNORE INTO points (id, received_ns, line) VALUES (?1, ?2, ?3)", 3},
    {"rejected", "SELECT id, rejected_ns, line, reason FROM rejected WHERE id >= ?1 ORDER BY id",
     "INSERT OR IGNORE INTO rejected (id, rejected_ns, line, reason) VALUES (?1, ?2, ?3, ?4)", 4},
};

struct storage_salvage_count {
	uint64_t rows;
	uint64_t errors;
	int64_t first_id;
	int64_t last_id;
};

/* fsync the directory so that renames survive a power cut. */
static void storage_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0) {
		log_warn(STORAGE_LOG, "%s: cannot open the directory to sync it: %s", dir,
			 strerror(errno));
		return;
	}
	if (fsync(fd) != 0)
		log_warn(STORAGE_LOG, "%s: fsync of the directory failed: %s", dir,
			 strerror(errno));
	if (close(fd) != 0)
		log_warn(STORAGE_LOG, "%s: close failed: %s", dir, strerror(errno));
}

/* PATH.corrupt-YYYYmmddTHHMMSSZ, with -N appended if that name is taken. */
static int storage_aside_name(const char *path, char *out, size_t size)
{
	time_t now = (time_t)(clock_wall_ns() / 1000000000);
	struct tm tm;
	char stamp[32];
	struct stat st;

	if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return STORAGE_ERR_IO;
	for (int n = 1; n < 100; n++) {
		int len = n == 1 ? snprintf(out, size, "%s.corrupt-%s", path, stamp)
				 : snprintf(out, size, "%s.corrupt-%s-%d", path, stamp, n);

		if (len < 0 || (size_t)len >= size - sizeof("-journal"))
			return STORAGE_ERR_INVALID;
		if (lstat(out, &st) != 0 && errno == ENOENT)
			return STORAGE_OK;
	}
	return STORAGE_ERR_IO;
}

static int storage_rename(const char *from, const char *to)
{
	if (rename(from, to) == 0)
		return STORAGE_OK;
	if (errno == ENOENT)
		return STORAGE_OK; /* a side file that does not exist */
	log_error(STORAGE_LOG, "cannot move %s to %s: %s", from, to, strerror(errno));
	return STORAGE_ERR_IO;
}

/* The name a side file gets beside the moved file. */
static void storage_side_name(char *out, size_t size, const char *base, size_t i, int foreign_wal)
{
	snprintf(out, size, "%s%s%s", base, storage_side_files[i],
		 foreign_wal && i == 0 ? ".foreign" : "");
}

/* Move the file and its side files; on failure put back what moved. */
static int storage_move_aside(const struct storage *s, const char *aside, int foreign_wal)
{
	size_t nside = sizeof(storage_side_files) / sizeof(storage_side_files[0]);
	char from[4096], to[4096 + sizeof(".foreign")];
	size_t moved = 0;
	int result;

	result = rename(s->path, aside) == 0 ? STORAGE_OK : STORAGE_ERR_IO;
	if (result) {
		log_error(STORAGE_LOG, "cannot move %s to %s: %s", s->path, aside, strerror(errno));
		return result;
	}
	for (; moved < nside; moved++) {
		snprintf(from, sizeof(from), "%s%s", s->path, storage_side_files[moved]);
		storage_side_name(to, sizeof(to), aside, moved, foreign_wal);
		result = storage_rename(from, to);
		if (result)
			break;
	}
	if (result) {
		/* A WAL left beside a fresh file would be replayed into it: undo. */
		while (moved-- > 0) {
			snprintf(from, sizeof(from), "%s%s", s->path, storage_side_files[moved]);
			storage_side_name(to, sizeof(to), aside, moved, foreign_wal);
			if (storage_rename(to, from) != STORAGE_OK)
				log_error(STORAGE_LOG, "could not put %s back", from);
		}
		if (rename(aside, s->path) != 0)
			log_error(STORAGE_LOG, "could not put %s back: %s", s->path,
				  strerror(errno));
	}
	storage_sync_dir(s->dir);
	return result;
}

/* Step from id `from` on; *found: the first readable row's id. 0 if none. */
static int storage_salvage_probe(sqlite3_stmt *sel, int64_t from, int64_t *found)
{
	int rc;

	sqlite3_reset(sel); /* repeats an earlier error, already counted */
	if (sqlite3_bind_int64(sel, 1, from) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(sel);
	if (rc == SQLITE_ROW) {
		*found = sqlite3_column_int64(sel, 0);
		return 1;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

/* After a failed read at `pos`: the smallest id > pos from which reading
 * works again, or INT64_MAX when nothing further can be read. */
static int64_t storage_salvage_skip(sqlite3_stmt *sel, int64_t pos)
{
	int64_t step = 1, lo = pos, hi, found = 0;
	int r;

	for (;;) {
		if (step > INT64_MAX - pos)
			return INT64_MAX;
		r = storage_salvage_probe(sel, pos + step, &found);
		if (r == 0)
			return INT64_MAX; /* readable, and nothing is left */
		if (r > 0)
			break;
		lo = pos + step;
		if (step > INT64_MAX / 2)
			return INT64_MAX;
		step *= 2;
	}
	hi = pos + step; /* lo fails, hi works: bisect */
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (storage_salvage_probe(sel, mid, &found) >= 0)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* A row worth keeping: integer id and time, one non-empty line without NUL
 * (a damaged page can read as zeros). */
static int storage_salvage_row_ok(sqlite3_stmt *sel)
{
	const unsigned char *line;
	int n;

	if (sqlite3_column_type(sel, 0) != SQLITE_INTEGER ||
	    sqlite3_column_type(sel, 1) != SQLITE_INTEGER ||
	    sqlite3_column_type(sel, 2) != SQLITE_TEXT)
		return 0;
	line = sqlite3_column_text(sel, 2);
	n = sqlite3_column_bytes(sel, 2);
	return line && n > 0 && n <= STORAGE_SALVAGE_MAX_LINE && !memchr(line, '\n', (size_t)n) &&
	       !memchr(line, '\0', (size_t)n);
}

static int storage_salvage_insert(sqlite3 *to, const char *path, sqlite3_stmt *ins,
				  sqlite3_stmt *sel, int columns)
{
	int rc = SQLITE_OK;

	for (int i = 0; i < columns && rc == SQLITE_OK; i++)
		rc = sqlite3_bind_value(ins, i + 1, sqlite3_column_value(sel, i));
	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: bind failed: %s", path, sqlite3_errmsg(to));
		return storage_result_from_sqlite(rc);
	}
	return storage_step_done(to, path, ins);
}

/* Copy every readable row of one table from `from` into `to`. */
static int storage_salvage_table(sqlite3 *from, sqlite3 *to, const char *path,
				 const struct storage_salvage_table *t,
				 struct storage_salvage_count *c)
{
	sqlite3_stmt *sel = NULL, *ins = NULL;
	int64_t pos = 0; /* ids start at 1 */
	uint64_t in_txn = 0;
	int result = STORAGE_OK;
	int rc = SQLITE_OK;

	if (sqlite3_prepare_v2(from, t->select, -1, &sel, NULL) != SQLITE_OK) {
		log_warn(STORAGE_LOG, "%s: table %s cannot be read: %s", path, t->name,
			 sqlite3_errmsg(from));
		c->errors++;
		goto out;
	}
	result = storage_prepare(to, path, t->insert, &ins);
	if (result == STORAGE_OK)
		result = storage_exec(to, path, "BEGIN");
	while (result == STORAGE_OK && pos != INT64_MAX) {
		sqlite3_reset(sel); /* repeats an error already handled */
		if (sqlite3_bind_int64(sel, 1, pos) != SQLITE_OK) {
			result = STORAGE_ERR_IO;
			break;
		}
		for (;;) {
			rc = sqlite3_step(sel);
			if (rc != SQLITE_ROW)
				break;
			pos = sqlite3_column_int64(sel, 0);
			pos = pos == INT64_MAX ? INT64_MAX : pos + 1;
			if (!storage_salvage_row_ok(sel)) {
				c->errors++;
				continue;
			}
			result = storage_salvage_insert(to, path, ins, sel, t->columns);
			if (result)
				break;
			if (c->rows == 0 || sqlite3_column_int64(sel, 0) < c->first_id)
				c->first_id = sqlite3_column_int64(sel, 0);
			c->last_id = sqlite3_column_int64(sel, 0);
			c->rows++;
			if (++in_txn % STORAGE_SALVAGE_TXN_ROWS == 0)
				result = storage_exec(to, path, "COMMIT; BEGIN");
			if (result || pos == INT64_MAX)
				break;
		}
		if (result || rc == SQLITE_DONE || pos == INT64_MAX)
			break;
		if (rc == SQLITE_ROW)
			continue;
		c->errors++;
		log_warn(STORAGE_LOG, "%s: %s: unreadable after id %" PRId64 ": %s", path, t->name,
			 pos > 0 ? pos - 1 : 0, sqlite3_errmsg(from));
		pos = storage_salvage_skip(sel, pos);
	}
	if (result == STORAGE_OK)
		result = storage_exec(to, path, "COMMIT");
	else if (!sqlite3_get_autocommit(to) && storage_exec(to, path, "ROLLBACK") != STORAGE_OK)
		log_error(STORAGE_LOG, "%s: rollback of the salvage failed", path);
out:
	sqlite3_finalize(sel); /* repeats errors already counted */
	sqlite3_finalize(ins);
	return result;
}

/* A fresh, empty buffer at path with the current schema. */
static int storage_salvage_create(const struct storage *s, sqlite3 **out)
{
	char sql[128];
	int result = storage_connect(s->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, out);

	snprintf(sql, sizeof(sql),
		 "PRAGMA page_size = %d; PRAGMA auto_vacuum = INCREMENTAL; "
		 "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL",
		 STORAGE_PAGE_SIZE);
	if (result == STORAGE_OK)
		result = storage_exec(*out, s->path, sql);
	if (result == STORAGE_OK)
		result = storage_schema_migrate(*out, s->path);
	return result;
}

/* Open the quarantined file for reading; it is never checkpointed or written.
 * writable_schema lets SQLite read a file shorter than its header says. */
static sqlite3 *storage_salvage_open_old(const char *aside)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(aside, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		SQLITE_OK ||
	    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA query_only = 1; PRAGMA writable_schema = 1", NULL, NULL,
			 NULL) != SQLITE_OK) {
		log_warn(STORAGE_LOG, "%s: cannot be opened for salvage: %s", aside,
			 db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close_v2(db); /* NULL-safe, always SQLITE_OK */
		return NULL;
	}
	return db;
}

/* Is the file's 100-byte header unreadable (not its pages)? */
static int storage_salvage_header_bad(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &stmt, NULL);

	sqlite3_finalize(stmt); /* NULL-safe */
	return (rc & 0xff) == SQLITE_NOTADB;
}

static void storage_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A plain SQLite header for pages of `page_size` bytes; the page count
 * comes from the file's size. */
static void storage_salvage_header(unsigned char h[100], int page_size)
{
	memset(h, 0, 100);
	memcpy(h, "SQLite format 3", 16);
	h[16] = (unsigned char)((page_size >> 8) & 0xff); /* 65536 is stored as 1 */
	h[17] = (unsigned char)(page_size == 65536 ? 1 : page_size & 0xff);
	h[18] = 1; /* legacy journal: the copy gets no WAL */
	h[19] = 1;
	h[21] = 64;
	h[22] = 32;
	h[23] = 32;
	storage_put_be32(h + 24, 1); /* change counter != version-valid-for: size from file */
	storage_put_be32(h + 40, 1); /* schema cookie */
	storage_put_be32(h + 44, 4); /* schema format */
	storage_put_be32(h + 56, 1); /* UTF-8 */
	storage_put_be32(h + 96, SQLITE_VERSION_NUMBER);
}

/* Copy `from` to `to` (its header is rewritten later); 0 on success (`to`
 * removed on failure). */
static int storage_salvage_copy(const char *from, const char *to)
{
	unsigned char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t done = 0;
	int result = in < 0 || out < 0 ? -1 : 0;

	while (result == 0) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n <= 0) {
			result = n < 0 ? -1 : 0;
			break;
		}
		if (write(out, buf, (size_t)n) != n)
			result = -1;
		done += (size_t)n;
	}
	if (result || done < 512)
		log_warn(STORAGE_LOG, "%s: cannot make a repaired copy to salvage from: %s", to,
			 result ? strerror(errno) : "the file is too short");
	if (in >= 0 && close(in) != 0)
		result = -1;
	if (out >= 0 && close(out) != 0)
		result = -1;
	if ((result || done < 512) && out >= 0 && unlink(to) != 0)
		log_warn(STORAGE_LOG, "%s: cannot remove: %s", to, strerror(errno));
	return result || done < 512 ? -1 : 0;
}

/* Does the file at `path` show a `points` table when read with this header? */
static sqlite3 *storage_salvage_try_page_size(const char *path, int page_size)
{
	unsigned char h[100];
	sqlite3 *db = NULL;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0;

	storage_salvage_header(h, page_size);
	if (ok && pwrite(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		ok = 0;
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (!ok)
		return NULL;
	db = storage_salvage_open_old(path);
	if (db && sqlite3_exec(db, "SELECT 1 FROM points LIMIT 0", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close_v2(db); /* always SQLITE_OK */
		db = NULL;
	}
	return db;
}

/* Open the copy with the page size that makes sense of it: ours first, then
 * the one releases before it used, then every other. */
static sqlite3 *storage_salvage_open_repaired(const char *path)
{
	static const int sizes[] = {
	    STORAGE_PAGE_SIZE, 4096, 512, 1024, 2048, 8192, 16384, 32768, 65536};
	sqlite3 *db = NULL;

	for (size_t i = 0; !db && i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (i == 0 || sizes[i] != STORAGE_PAGE_SIZE)
			db = storage_salvage_try_page_size(path, sizes[i]);
	if (!db)
		log_warn(STORAGE_LOG, "%s: no page size makes it readable", path);
	return db;
}

int storage_salvage(struct storage *s, int foreign_wal)
{
	struct storage_salvage_count counts[2] = {{0}, {0}};
	char aside[4096];
	char copy[4096 + sizeof(".salvage")];
	sqlite3 *old = NULL, *fresh = NULL;
	int result;

	copy[0] = '\0';
	result = storage_aside_name(s->path, aside, sizeof(aside));
	if (result == STORAGE_OK)
		result = storage_move_aside(s, aside, foreign_wal);
	if (result) {
		log_error(STORAGE_LOG,
			  "%s: the corrupt buffer could not be moved aside; it is left "
			  "as it is and the daemon will not use it",
			  s->path);
		return STORAGE_ERR_CORRUPT;
	}
	log_error(STORAGE_LOG,
		  "%s: THE BUFFER FILE WAS CORRUPT: moved it to %s (it is kept, never deleted); "
		  "salvaging what can be read into a fresh buffer",
		  s->path, aside);
	result = storage_salvage_create(s, &fresh);
	if (result)
		goto out;
	old = storage_salvage_open_old(aside);
	if (old && storage_salvage_header_bad(old)) {
		/* A damaged header hides intact pages: read a copy with a good one. */
		sqlite3_close_v2(old); /* always SQLITE_OK */
		old = NULL;
		snprintf(copy, sizeof(copy), "%s.salvage", aside);
		if (storage_salvage_copy(aside, copy) == 0) {
			log_warn(STORAGE_LOG,
				 "%s: its header is unreadable; reading %s, a copy with a "
				 "rebuilt header",
				 aside, copy);
			old = storage_salvage_open_repaired(copy);
		} else {
			copy[0] = '\0';
		}
	}
	for (size_t i = 0; old && result == STORAGE_OK && i < 2; i++)
		result = storage_salvage_table(old, fresh, s->path, &storage_salvage_tables[i],
					       &counts[i]);
	if (result)
		goto out;
	log_error(STORAGE_LOG,
		  "%s: SALVAGED %" PRIu64 " points (ids %" PRId64 "..%" PRId64 ") and %" PRIu64
		  " rejected rows from %s; %" PRIu64 " unreadable places skipped; points not "
		  "salvaged are lost",
		  s->path, counts[0].rows, counts[0].first_id, counts[0].last_id, counts[1].rows,
		  aside, counts[0].errors + counts[1].errors + (old ? 0 : 1));
out:
	if (old)
		sqlite3_close_v2(old); /* always SQLITE_OK */
	if (copy[0] && unlink(copy) != 0)
		log_warn(STORAGE_LOG, "%s: cannot remove: %s", copy, strerror(errno));
	storage_disconnect(fresh, s->path);
	if (result)
		log_error(STORAGE_LOG, "%s: salvaging into a fresh buffer failed: %s", s->path,
			  storage_strerror(result));
	return result;
}
