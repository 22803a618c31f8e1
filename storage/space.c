/* space.c -- how much disk the buffer takes and may take: max_size, min_free_disk, drops,
 * shrinking. */

/*
 * The bound is enforced by the writer before it inserts (see commit.c):
 *
 *   room = min(max_size - wal_reserve - live pages,
 *              free disk - min_free_disk - WAL growth still possible + free pages)
 *
 * where live pages are the file's pages not on SQLite's freelist. Free pages
 * are reused by new points without growing the file, so after a backlog the
 * file stays at its high-water mark until storage_space_shrink gives the
 * space back (only when most of the file is free, so that few live pages
 * have to move). The WAL is kept small by wal_autocheckpoint and trimmed by
 * journal_size_limit; wal_reserve is the part of max_size kept for it.
 *
 * A full disk must not stop deletions: a delete writes WAL frames, and the
 * checkpoint that recycles the WAL writes pages into the database file. So
 * the WAL is preallocated to its size limit at open, and the database file
 * is extended (SQLite's chunk size and size hint: posix_fallocate) right
 * after a commit made it grow, while min_free_disk still guarantees the
 * space; a checkpoint then never needs a new block.
 */

#include "storage_internal.h"

#include "clock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define STORAGE_WAL_MAX_BYTES (4 << 20) /* SQLite's default: 1000 pages of 4 KiB */
#define STORAGE_WAL_PAGES_MIN 16
/* The database file is extended this many pages ahead of its content. */
#define STORAGE_EXTEND_PAGES 64
/* Shrink when at least this many bytes and 4/5 of the file are free. */
#define STORAGE_SHRINK_MIN_BYTES (1 << 20)
#define STORAGE_SHRINK_FREE_RATIO 4
#define STORAGE_SHRINK_RETRY_NS (60 * 1000000000LL)
/* ... and at most this many pages are in use (a vacuum step moves them). */
#define STORAGE_SHRINK_MAX_LIVE 512
/* statvfs at most every 250 ms while more than 64 MiB are left. */
#define STORAGE_DISK_CHECK_NS (250 * 1000000LL)
#define STORAGE_DISK_CHECK_ROOM (64LL << 20)
#define STORAGE_FILE_BYTES_NS (1000 * 1000000LL)

void storage_space_init(struct storage *s)
{
	uint64_t base = s->max_size;
	struct statvfs vfs;
	int64_t pages;

	/* The WAL may take 1/16 of the bound or of the filesystem, 4 MiB at most. */
	if (statvfs(s->dir, &vfs) == 0) {
		uint64_t fs = (uint64_t)vfs.f_blocks * (uint64_t)vfs.f_frsize;

		if (base == 0 || (fs > 0 && fs < base))
			base = fs;
	} else {
		log_warn(STORAGE_LOG, "%s: statvfs failed: %s", s->dir, strerror(errno));
	}
	if (base == 0 || base / 16 > STORAGE_WAL_MAX_BYTES)
		base = 16 * (uint64_t)STORAGE_WAL_MAX_BYTES;
	pages = (int64_t)(base / 16 / (uint64_t)s->page_size);
	if (pages < STORAGE_WAL_PAGES_MIN)
		pages = STORAGE_WAL_PAGES_MIN;
	s->wal_pages = pages;
	/* The WAL reaches wal_pages frames, plus the transaction that crossed it;
	 * the database file is allocated STORAGE_EXTEND_PAGES ahead. */
	s->wal_reserve = 2 * pages * (s->page_size + 24) + 32 + STORAGE_EXTEND_PAGES * s->page_size;
	s->max_txn_bytes = (size_t)(pages * s->page_size / 2);
}

int64_t storage_space_line_cost(const struct storage *s, size_t len)
{
	/* SQLite's table-leaf payload split (btree.c, btreeParseCellAdjustSizeForOverflow). */
	int64_t usable = s->page_size;
	int64_t max_local = usable - 35;
	int64_t min_local = (usable - 12) * 32 / 255 - 23;
	int64_t payload = (int64_t)len + 12; /* record header and received_ns */
	int64_t local, overflow;

	if (payload <= max_local)
		return (int64_t)len + STORAGE_ROW_OVERHEAD;
	local = min_local + (payload - min_local) % (usable - 4);
	if (local > max_local)
		local = min_local;
	overflow = (payload - local + usable - 5) / (usable - 4);
	return local + STORAGE_ROW_OVERHEAD + overflow * s->page_size;
}

uint64_t storage_space_file_bytes(const struct storage *s)
{
	struct stat st;
	uint64_t total = 0;

	if (stat(s->path, &st) == 0)
		total += (uint64_t)st.st_size;
	if (stat(s->wal_path, &st) == 0)
		total += (uint64_t)st.st_size;
	return total;
}

/* Pages in the file and on its freelist, as the writer's transaction sees them. */
static int storage_space_pages(struct storage *s, int64_t *pages, int64_t *free_pages)
{
	int result = storage_step_int(s->wdb, s->path, s->page_count, pages);

	if (result == STORAGE_OK)
		result = storage_step_int(s->wdb, s->path, s->freelist_count, free_pages);
	return result;
}

int storage_space_room(struct storage *s, int64_t *room)
{
	int64_t pages = 0, free_pages = 0, now;
	int64_t r = INT64_MAX;
	struct statvfs vfs;
	struct stat st;
	int result;

	result = storage_space_pages(s, &pages, &free_pages);
	if (result)
		return result;
	if (s->max_size > 0)
		r = (int64_t)(s->max_size > INT64_MAX / 2 ? INT64_MAX / 2 : s->max_size) -
		    s->wal_reserve - (pages - free_pages) * s->page_size;
	now = clock_mono_ns();
	if (s->disk_checked_ns && now - s->disk_checked_ns < STORAGE_DISK_CHECK_NS &&
	    s->disk_room_cached > STORAGE_DISK_CHECK_ROOM) {
		/* plenty of room a moment ago: do not ask the filesystem every commit */
		s->disk_room_cached -= s->disk_room_used;
		s->disk_room_used = 0;
		if (s->disk_room_cached < r)
			r = s->disk_room_cached;
	} else if (statvfs(s->dir, &vfs) != 0) {
		/* Not worth refusing points over: SQLite still reports a full disk. */
		log_warn(STORAGE_LOG, "%s: statvfs failed: %s", s->dir, strerror(errno));
	} else {
		uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
		int64_t wal_now = stat(s->wal_path, &st) == 0 ? (int64_t)st.st_size : 0;
		int64_t wal_growth = wal_now < s->wal_reserve ? s->wal_reserve - wal_now : 0;
		int64_t disk =
		    (avail > INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)avail) -
		    (s->min_free_disk > INT64_MAX / 4 ? INT64_MAX / 4 : (int64_t)s->min_free_disk) -
		    wal_growth + free_pages * s->page_size;

		s->disk_checked_ns = now;
		s->disk_room_cached = disk;
		s->disk_room_used = 0;
		if (disk < r)
			r = disk;
	}
	*room = r;
	return STORAGE_OK;
}

int storage_space_drop_oldest(struct storage *s, int64_t want, struct storage_delta *d,
			      int64_t *freed)
{
	int64_t got = 0, last = 0;
	uint64_t count = 0, bytes = 0;
	int result = STORAGE_OK;
	int rc;

	*freed = 0;
	while (got < want) {
		int64_t n;

		rc = sqlite3_step(s->scan_oldest);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			log_error(STORAGE_LOG, "%s: scanning the oldest points failed: %s", s->path,
				  sqlite3_errmsg(s->wdb));
			result = storage_result_from_sqlite(rc);
			break;
		}
		last = sqlite3_column_int64(s->scan_oldest, 0);
		n = sqlite3_column_int64(s->scan_oldest, 1);
		got += storage_space_line_cost(s, (size_t)n);
		bytes += (uint64_t)n;
		count++;
	}
	sqlite3_reset(s->scan_oldest); /* repeats the step's rc, handled above */
	if (result || count == 0)
		return result;
	result = storage_targets_leave(s, last, d);
	if (result)
		return result;
	rc = sqlite3_bind_int64(s->delete_upto, 1, last);
	if (rc != SQLITE_OK) {
		log_error(STORAGE_LOG, "%s: bind failed: %s", s->path, sqlite3_errmsg(s->wdb));
		return storage_result_from_sqlite(rc);
	}
	result = storage_step_done(s->wdb, s->path, s->delete_upto);
	if (result)
		return result;
	d->dropped += count;
	d->dropped_bytes += bytes;
	d->deleted_any = 1;
	*freed = got;
	return STORAGE_OK;
}

/* posix_fallocate the WAL to at least `size` bytes; 0 or an errno. Never
 * for the database file: closing any descriptor of it would drop SQLite's
 * POSIX locks (the WAL file carries none; its locks live in -shm). */
static int storage_space_allocate_wal(const char *path, int64_t size)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0)
		err = errno;
	else if (st.st_size < size)
		err = posix_fallocate(fd, 0, size); /* returns the error, leaves errno */
	if (close(fd) != 0 && err == 0)
		err = errno;
	return err;
}

void storage_space_prealloc(struct storage *s)
{
	int64_t limit = s->wal_pages * (s->page_size + 24) + 32; /* journal_size_limit */
	int chunk = STORAGE_EXTEND_PAGES * (int)s->page_size;
	int err;

	/* SQLite grows and truncates the database file in chunks, allocated
	 * with posix_fallocate through its own descriptor (SIZE_HINT below). */
	if (sqlite3_file_control(s->wdb, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk) != SQLITE_OK)
		log_warn(STORAGE_LOG, "%s: cannot set the chunk size", s->path);
	err = storage_space_allocate_wal(s->wal_path, limit);
	if (err)
		log_warn(STORAGE_LOG, "%s: cannot preallocate %lld bytes: %s", s->wal_path,
			 (long long)limit, strerror(err));
}

/* Keep the database file allocated for the pages the WAL holds. */
static void storage_space_extend_db(struct storage *s)
{
	int64_t pages = 0;
	sqlite3_int64 size;
	int rc;

	if (storage_step_int(s->wdb, s->path, s->page_count, &pages) != STORAGE_OK ||
	    pages <= s->db_allocated_pages)
		return;
	size = (sqlite3_int64)(pages * s->page_size);
	rc = sqlite3_file_control(s->wdb, "main", SQLITE_FCNTL_SIZE_HINT, &size);
	if (rc != SQLITE_OK && rc != SQLITE_NOTFOUND) {
		log_warn(STORAGE_LOG, "%s: cannot extend to %lld pages: %s", s->path,
			 (long long)pages, sqlite3_errstr(rc));
		return;
	}
	/* a checkpoint truncates the file to its pages (rounded up to a chunk) */
	s->db_allocated_pages = pages;
}

void storage_space_note_used(struct storage *s, int64_t cost)
{
	s->disk_room_used += cost;
}

void storage_space_after_commit(struct storage *s, int deleted_any)
{
	int64_t now = clock_mono_ns();

	storage_space_extend_db(s);
	if (now - s->file_bytes_ns >= STORAGE_FILE_BYTES_NS || deleted_any) {
		atomic_store(&s->file_bytes, storage_space_file_bytes(s));
		s->file_bytes_ns = now;
	}
	if (deleted_any || atomic_load(&s->oldest_received_ns) == 0) {
		int64_t oldest = 0;
		int rc = sqlite3_step(s->oldest);

		if (rc == SQLITE_ROW)
			oldest = sqlite3_column_int64(s->oldest, 0);
		else if (rc != SQLITE_DONE)
			log_warn(STORAGE_LOG, "%s: reading the oldest point failed: %s", s->path,
				 sqlite3_errmsg(s->wdb));
		sqlite3_reset(s->oldest); /* repeats the step's rc, handled above */
		if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			atomic_store(&s->oldest_received_ns, oldest);
	}
	if (deleted_any)
		s->shrink_due = 1;
}

int storage_space_shrink(struct storage *s)
{
	int64_t pages = 0, free_pages = 0, now = clock_mono_ns();
	char sql[64];
	int result;

	s->shrink_due = 0;
	if (s->vacuum_failed_ns && now - s->vacuum_failed_ns < STORAGE_SHRINK_RETRY_NS)
		return 0;
	if (storage_space_pages(s, &pages, &free_pages) != STORAGE_OK)
		return 0;
	if (free_pages * s->page_size < STORAGE_SHRINK_MIN_BYTES ||
	    free_pages < STORAGE_SHRINK_FREE_RATIO * (pages - free_pages))
		return 0;
	/* Not while a backlog is left: the vacuum would move its pages (about
	 * to be delivered and deleted) to the front of the file, rewriting
	 * them and holding up the uplink's acks between its requests
	 * (docs/PERFORMANCE.md). The ack that drains the buffer retries. */
	if (pages - free_pages > STORAGE_SHRINK_MAX_LIVE)
		return 0;
	/* Small steps: the writer runs them only while idle, and a step in
	 * progress delays the next commit or ack by its duration (a step of
	 * 4 WAL checkpoints' worth held acks up for seconds during a drain). */
	long long step = s->wal_pages > 64 ? s->wal_pages : 64;
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%lld)", step);
	result = storage_exec(s->wdb, s->path, "BEGIN IMMEDIATE");
	if (result == STORAGE_OK)
		result = storage_exec(s->wdb, s->path, sql);
	if (result == STORAGE_OK)
		result = storage_step_done(s->wdb, s->path, s->commit);
	if (result) {
		if (!sqlite3_get_autocommit(s->wdb) &&
		    storage_step_done(s->wdb, s->path, s->rollback) != STORAGE_OK)
			log_error(STORAGE_LOG, "%s: ROLLBACK of a vacuum step failed", s->path);
		log_warn(STORAGE_LOG, "%s: giving free space back failed (%s); next try in 60 s",
			 s->path, storage_strerror(result));
		s->vacuum_failed_ns = now ? now : 1;
		return 0;
	}
	s->vacuum_failed_ns = 0;
	atomic_store(&s->file_bytes, storage_space_file_bytes(s));
	log_debug(STORAGE_LOG, "%s: gave up to %lld free pages back, file %llu bytes", s->path,
		  step, (unsigned long long)atomic_load(&s->file_bytes));
	return 1;
}
