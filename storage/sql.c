/* sql.c -- small SQLite helpers for storage/: exec, prepare, step, connect, each logging its
 * failure. */
#include "storage_internal.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORAGE_BUSY_TIMEOUT_MS 5000
/* Per connection, in KiB (negative: a size, not pages); SQLite's default is 2000. */
#define STORAGE_CACHE_PRAGMA "PRAGMA cache_size = -256"

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
	case SQLITE_FULL:
		return STORAGE_ERR_FULL;
	default:
		return STORAGE_ERR_IO;
	}
}

int storage_exec(sqlite3 *db, const char *path, const char *sql)
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

int storage_prepare(sqlite3 *db, const char *path, const char *sql, sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);

	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: cannot prepare \"%s\": %s", path, sql,
			  sqlite3_errmsg(db));
		return storage_result_from_sqlite(rc);
	}
	return STORAGE_OK;
}

int storage_query_one(sqlite3 *db, const char *path, const char *sql, char *text, size_t text_size,
		      int64_t *value)
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
	if (text && text_size > 0) {
		const unsigned char *t = sqlite3_column_text(stmt, 0);

		snprintf(text, text_size, "%s", t ? (const char *)t : "");
	}
	if (value)
		*value = sqlite3_column_int64(stmt, 0);
out:
	sqlite3_finalize(stmt); /* its rc repeats the step's, handled above */
	return result;
}

int storage_step_done(sqlite3 *db, const char *path, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE) {
		log_error(STORAGE_LOG, "%s: \"%s\" failed: %s", path, sqlite3_sql(stmt),
			  rc == SQLITE_ROW ? "unexpected row" : sqlite3_errmsg(db));
		sqlite3_reset(stmt); /* repeats the step's rc, handled here */
		return rc == SQLITE_ROW ? STORAGE_ERR_IO : storage_result_from_sqlite(rc);
	}
	sqlite3_reset(stmt); /* SQLITE_OK after SQLITE_DONE */
	return STORAGE_OK;
}

int storage_step_int(sqlite3 *db, const char *path, sqlite3_stmt *stmt, int64_t *value)
{
	int rc = sqlite3_step(stmt);
	int result = STORAGE_OK;

	if (rc == SQLITE_ROW) {
		*value = sqlite3_column_int64(stmt, 0);
	} else {
		log_error(STORAGE_LOG, "%s: \"%s\" failed: %s", path, sqlite3_sql(stmt),
			  rc == SQLITE_DONE ? "no answer" : sqlite3_errmsg(db));
		result = rc == SQLITE_DONE ? STORAGE_ERR_IO : storage_result_from_sqlite(rc);
	}
	sqlite3_reset(stmt); /* repeats the step's rc, handled above */
	return result;
}

/* The buffer holds every reading: nobody but the service (and its group)
 * reads it, whatever the umask. A missing file is made 0600 before SQLite
 * opens it (SQLite gives -wal and -shm the main file's mode, and moving a
 * file aside keeps it); an existing one, or its -wal or -shm, loses any bits
 * for others (logged). An existing file is never opened here: closing a
 * descriptor would drop the locks SQLite holds on it (POSIX record locks
 * belong to the process and the file, not to the descriptor). Returns 0, or
 * -1 with the reason logged. */
static int storage_private_file(const char *path, bool create)
{
	static const char *const side[] = {"", "-wal", "-shm"};
	char name[4096];

	if (create) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd); /* a new, empty file: SQLite makes it a database */
		else if (errno != EEXIST) {
			log_error(STORAGE_LOG, "%s: cannot create: %s", path, strerror(errno));
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
		struct stat st;
		snprintf(name, sizeof(name), "%s%s", path, side[i]);
		if (stat(name, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07) == 0)
			continue; /* none, or private already; SQLite says why it cannot open */
		if (chmod(name, st.st_mode & 0770) == 0)
			log_warn(STORAGE_LOG, "%s: was readable by others (mode %04o), now %04o",
				 name, (unsigned)(st.st_mode & 07777),
				 (unsigned)(st.st_mode & 0770));
		else
			log_warn(STORAGE_LOG, "%s: readable by others (mode %04o): %s", name,
				 (unsigned)(st.st_mode & 07777), strerror(errno));
	}
	return 0;
}

int storage_connect(const char *path, int flags, sqlite3 **out)
{
	int rc;

	*out = NULL;
	if ((flags & SQLITE_OPEN_CREATE) && path[0] != '\0' && strcmp(path, ":memory:") != 0 &&
	    storage_private_file(path, true) != 0)
		return STORAGE_ERR_IO;
	rc = sqlite3_open_v2(path, out, flags | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: cannot open: %s", path,
			  *out ? sqlite3_errmsg(*out) : sqlite3_errstr(rc));
		return storage_result_from_sqlite(rc);
	}
	rc = sqlite3_extended_result_codes(*out, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(*out, STORAGE_BUSY_TIMEOUT_MS);
	/* SQLite's default page cache (2000 KiB per connection) was the
	 * largest part of the peak RSS. The writer appends at the table's
	 * right edge and the reader streams the oldest rows: ingest is
	 * unchanged, a large drain costs ~25% more CPU re-reading pages from
	 * the OS cache, the peak drops by ~5 MB (docs/PERFORMANCE.md). */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(*out, STORAGE_CACHE_PRAGMA, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: cannot configure: %s", path, sqlite3_errmsg(*out));
		return storage_result_from_sqlite(rc);
	}
	return STORAGE_OK;
}

void storage_disconnect(sqlite3 *db, const char *path)
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
