/* storage_internal.h -- private state and helpers shared by the storage/ source files. */
#ifndef IOT_EDGE_STORAGE_INTERNAL_H
#define IOT_EDGE_STORAGE_INTERNAL_H

#include "storage.h"

#include "log.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Log tag of every storage message. */
#define STORAGE_LOG "storage"

/* The schema this release writes (PRAGMA user_version), see schema.c. */
#define STORAGE_SCHEMA_VERSION 4

/* Page size of new buffer files (see docs/STORAGE.md for the measurements);
 * a build may set another power of two from 512 to 65536 to measure it. */
#ifndef STORAGE_PAGE_SIZE
#define STORAGE_PAGE_SIZE 1024
#endif

/* The `rejected` table keeps this many of the newest rows. */
#define STORAGE_REJECTED_KEEP 1000

/* Bytes a point costs in the file beyond its line: record header, rowid,
 * received_ns, cell pointer, and a share of b-tree slack. */
#define STORAGE_ROW_OVERHEAD 32

enum storage_job_kind {
	STORAGE_JOB_APPEND,
	STORAGE_JOB_ACK,
	STORAGE_JOB_REJECT,
	STORAGE_JOB_REFUSED, /* a row for `refused` (refused.c): best effort, no caller waits */
};

/* One entry of the writer queue. Appends are malloc'd by storage_append and
 * freed by the writer. The one synchronous job (ack or reject) is
 * storage_target.sync of its target: only that target's uplink thread calls
 * those; it waits on storage.synced until the writer sets `finished` (under
 * storage.lock). */
struct storage_job {
	struct storage_job *next;
	enum storage_job_kind kind;
	struct storage_target *target; /* ack and reject: whose */
	int result;		       /* set by the transaction, reported by storage_finish_jobs */
	/* append */
	char *text;
	size_t len;
	size_t points;
	int64_t cost; /* storage_space_line_cost of its lines */
	storage_done_fn *done;
	void *arg;
	/* ack: delete id <= last_id */
	int64_t last_id;
	/* reject: move these ids to `rejected` */
	const int64_t *ids;
	size_t nids;
	const char *reason;
	int finished;
	/* refused: the row, owned by the job (one allocation with it) */
	struct storage_refusal refusal;
};

/* Counters of one transaction, applied to the atomics only after COMMIT. */
struct storage_delta {
	uint64_t added, added_bytes;
	uint64_t acked, acked_bytes;
	uint64_t dropped, dropped_bytes;
	uint64_t rejected, rejected_bytes;
	uint64_t refused;  /* points refused with STORAGE_ERR_FULL */
	int deleted_any;   /* the oldest point may have changed */
	int64_t newest_ns; /* received_ns of the points added, when added > 0 */

	/* rows of `refused` written, not written */
	uint64_t refused_kept, refused_lost;
	/* per target (index as in storage.targets) */
	struct storage_target_delta {
		int64_t position;	   /* its position inside the transaction */
		int moved;		   /* position moved */
		uint64_t left, left_bytes; /* points that left its backlog */
		uint64_t acked;		   /* points it acknowledged */
		uint64_t rejected;	   /* points it refused */
	} t[STORAGE_MAX_TARGETS];
};

/* One delivery target: its position, its reader connection and the reader's
 * wait and sync job (see storage.h). */
struct storage_target {
	struct storage *s;
	char name[STORAGE_TARGET_NAME_MAX];
	size_t index;
	sqlite3 *rdb;		    /* its uplink thread only */
	sqlite3_stmt *select_batch; /* after ?1, not rejected by ?3, at most ?2 */
	int64_t position;	    /* writer thread (and open): the committed position */
	/* under storage.lock */
	struct storage_job sync; /* its ack or reject job and whether it is in flight */
	int sync_pending;
	/* storage_target_wait(): the reader sleeps on `arrived` until its
	 * backlog holds want_points or want_bytes; signalled by the writer after
	 * a commit that reaches them, by storage_target_wake and by closing;
	 * storage_close waits on it for the reader to leave */
	pthread_cond_t arrived;
	int arrived_ready;
	int reader_waiting;
	uint64_t want_points;
	uint64_t want_bytes;

	_Atomic uint64_t wake_seq; /* storage_target_wake() calls; written under lock */
	_Atomic int64_t acked_id;  /* = position, for the reader and the stats */
	_Atomic uint64_t points;   /* backlog */
	_Atomic uint64_t bytes;
	_Atomic int64_t oldest_received_ns;
	_Atomic uint64_t acked_total;
	_Atomic uint64_t rejected_total;
};

struct storage {
	char *path;
	char *dir; /* the directory holding path: statvfs */
	char *wal_path;
	enum storage_durability durability;
	uint64_t max_size;
	uint64_t min_free_disk;
	enum storage_full_policy full_policy;
	int64_t page_size;
	int64_t wal_pages;    /* wal_autocheckpoint */
	int64_t wal_reserve;  /* bytes of max_size kept for the WAL */
	size_t max_txn_bytes; /* appends taken into one transaction (at least one job) */

	sqlite3 *wdb; /* writer connection: open, then the writer thread, then close */
	struct storage_target *targets; /* ntargets entries, each with its reader connection */
	size_t ntargets;
	sqlite3_stmt *begin;
	sqlite3_stmt *commit;
	sqlite3_stmt *rollback;
	sqlite3_stmt *insert;
	sqlite3_stmt *sum_upto;	   /* count and bytes of id <= ?1 */
	sqlite3_stmt *delete_upto; /* delete id <= ?1 */
	sqlite3_stmt *ack_chunk;   /* the id ?2 rows into id <= ?1 */
	sqlite3_stmt *max_id;
	sqlite3_stmt *delete_all;
	sqlite3_stmt *scan_oldest; /* id, bytes from the oldest */
	sqlite3_stmt *oldest;	   /* received_ns of the oldest */
	sqlite3_stmt *reject_size; /* bytes of id = ?1 */
	sqlite3_stmt *reject_copy; /* points row ?1 -> rejected */
	sqlite3_stmt *reject_delete;
	sqlite3_stmt *reject_trim;
	sqlite3_stmt *page_count;
	sqlite3_stmt *freelist_count;
	sqlite3_stmt *count_range;  /* count, bytes of ?1 < id <= ?2 not rejected by ?3 */
	sqlite3_stmt *set_position; /* targets: name ?1, acked_id ?2 */
	sqlite3_stmt *next_oldest;  /* received_ns of the first id > ?1 */
	int wal_ready;		    /* the file is ours and in WAL mode: checkpoint on close */

	/* refused.c: insert a row, keep the newest ?1 */
	sqlite3_stmt *refused_insert;
	sqlite3_stmt *refused_trim;

	/* writer thread only (and storage_open before it starts); the _ns
	 * times below are clock_mono_ns(): intervals never run on the wall
	 * clock, which may step back (received_ns stays wall clock) */
	int64_t next_id;	   /* ids are never reused while the process runs */
	struct log_limit drop_log; /* rate limits of the bound messages */
	struct log_limit full_log;
	int64_t vacuum_failed_ns; /* a failed incremental vacuum waits a while */
	int shrink_due;		  /* storage_space_shrink has more to do */
	int64_t disk_checked_ns;  /* the last statvfs, see storage_space_room */
	int64_t disk_room_cached;
	int64_t disk_room_used;	    /* cost inserted since */
	int64_t file_bytes_ns;	    /* the last refresh of file_bytes */
	int64_t db_allocated_pages; /* the file is allocated up to here (see space.c) */

	/* lock guards everything from here up to the counters */
	pthread_mutex_t lock;
	/* the writer waits on wake for jobs or closing */
	pthread_cond_t wake;
	/* storage_ack and storage_reject wait on synced for their commit */
	pthread_cond_t synced;
	/* lock, wake and synced are initialised */
	int sync_ready;
	pthread_t writer;
	int writer_started;
	struct storage_job *head;
	struct storage_job *tail;
	/* appended points not yet committed (or failed) */
	size_t queued_points;
	/* append jobs in the queue, not yet taken by the writer */
	size_t waiting_appends;
	/* appends the writer's group wait waits for (0: it waits for any job) */
	size_t group_target;
	size_t max_queued_points;
	int closing;
	/* targets' ack or reject jobs queued and not yet finished */
	size_t syncs_pending;
	/* storage_refused()'s rate bound: rows it may queue now, and when */
	double refused_tokens;
	int64_t refused_tokens_ns;

	_Atomic uint64_t points;
	_Atomic uint64_t bytes;
	_Atomic uint64_t appended_total;
	_Atomic uint64_t acked_total;
	_Atomic uint64_t commits_total;
	_Atomic uint64_t dropped_total;
	_Atomic uint64_t rejected_total;
	_Atomic uint64_t refused_kept_total;
	_Atomic uint64_t refused_lost_total;
	_Atomic int64_t oldest_received_ns;
	_Atomic int64_t newest_received_ns;
	_Atomic uint64_t file_bytes;
	atomic_int quarantined;
	atomic_uint_least64_t busy_since_ms; /* storage_heartbeat_ms(); 0: waiting */
};

/* --- sql.c: small SQLite helpers; each logs its failure with `path`. --- */

/* Map a SQLite result code to a storage_result. Pure; any thread. */
int storage_result_from_sqlite(int rc);

/* Run statements that return no rows we need. Returns a storage_result.
 * The thread owning db. */
int storage_exec(sqlite3 *db, const char *path, const char *sql);

/* Prepare a persistent statement into *out (the caller finalizes it).
 * Returns a storage_result. The thread owning db. */
int storage_prepare(sqlite3 *db, const char *path, const char *sql, sqlite3_stmt **out);

/* Run a one-row statement; copy column 0 into text (if not NULL, always
 * NUL-terminated) and/or *value. Returns a storage_result (no row: IO). */
int storage_query_one(sqlite3 *db, const char *path, const char *sql, char *text, size_t text_size,
		      int64_t *value);

/* Step a prepared statement that returns no row, then reset it. Returns a
 * storage_result. The thread owning the statement's connection. */
int storage_step_done(sqlite3 *db, const char *path, sqlite3_stmt *stmt);

/* Step a prepared one-row statement, read column 0 as an integer, reset it.
 * Returns a storage_result (no row: IO). */
int storage_step_int(sqlite3 *db, const char *path, sqlite3_stmt *stmt, int64_t *value);

/* Open a connection with extended codes, a busy timeout and a 256 KiB page
 * cache. On failure *out may still need storage_disconnect. Returns a
 * storage_result. */
int storage_connect(const char *path, int flags, sqlite3 **out);

/* Close a connection (NULL-safe); failures are logged. */
void storage_disconnect(sqlite3 *db, const char *path);

/* --- schema.c: checks, pragmas, migrations on the writer connection. --- */

/* Read-only checks of an opened file: is it a database, does quick_check
 * pass, is its schema not newer than ours. *is_new: no table yet. Returns
 * STORAGE_OK, STORAGE_ERR_CORRUPT (damaged: quarantine it), STORAGE_ERR_SCHEMA
 * or another error. Main thread, storage_open. */
int storage_schema_check(struct storage *s, int *is_new);

/* Page size, auto_vacuum (new files), WAL, synchronous, WAL limits. Main thread. */
int storage_schema_configure(struct storage *s, int is_new);

/* Bring the schema to STORAGE_SCHEMA_VERSION and give the file its random
 * application_id, in one transaction. Main thread. */
int storage_schema_migrate(sqlite3 *db, const char *path);

/* The application_id in the header of the file itself (not its WAL); 0 if
 * none or unreadable. Reads the file; any thread. */
uint32_t storage_schema_file_id(const char *path);

/* STORAGE_ERR_CORRUPT if the database as seen through its WAL has another id
 * than the file itself (`file_id`, read before opening): a foreign WAL. */
int storage_schema_wal_foreign(struct storage *s, uint32_t file_id);

/* --- salvage.c: a corrupt buffer is moved aside and what is readable copied. --- */

/* Move s->path (and its -wal, -shm) aside as PATH.corrupt-YYYYmmddTHHMMSSZ,
 * create a fresh buffer at s->path and copy every readable point and
 * rejected row into it. A foreign WAL is kept as ASIDE-wal.foreign, so that
 * the file is read without it. s->wdb must be closed. Returns STORAGE_OK (the new
 * file is ready to be opened) or an error (nothing was moved). Main thread. */
int storage_salvage(struct storage *s, int foreign_wal);

/* --- space.c: the bounds and the space the buffer takes. --- */

/* Writer connection settings derived from the options (WAL size, per
 * transaction cap). Called once by storage_open before configuring. */
void storage_space_init(struct storage *s);

/* Bytes new points may take now, inside the writer's open transaction:
 * the lesser of what max_size and min_free_disk leave (may be negative).
 * Writer thread. */
int storage_space_room(struct storage *s, int64_t *room);

/* The file bytes a point whose line has `len` bytes takes (its share of a
 * leaf page plus whole overflow pages). Pure; any thread once open. */
int64_t storage_space_line_cost(const struct storage *s, size_t len);

/* Delete the oldest points until `want` bytes are freed or the buffer is
 * empty, inside the writer's transaction; counts them in d. *freed: the cost
 * freed. Writer thread. */
int storage_space_drop_oldest(struct storage *s, int64_t want, struct storage_delta *d,
			      int64_t *freed);

/* Allocate the WAL file up to its size limit and make SQLite allocate the
 * database file in chunks, so that deletions can be written when the disk
 * is full. Failures are logged. Main thread, open. */
void storage_space_prealloc(struct storage *s);

/* Count `cost` bytes inserted against the cached free disk space. Writer thread. */
void storage_space_note_used(struct storage *s, int64_t cost);

/* After a commit: refresh file_bytes (at most every second unless points
 * were deleted) and oldest_received_ns. Writer thread. */
void storage_space_after_commit(struct storage *s, int deleted_any);

/* Give free pages back to the filesystem when most of the file is free: one
 * bounded incremental vacuum step in its own transaction. Returns 1 if
 * another step is due, 0 if not. Writer thread, between transactions. */
int storage_space_shrink(struct storage *s);

/* Database + WAL bytes on disk now. Any thread. */
uint64_t storage_space_file_bytes(const struct storage *s);

/* --- reader.c --- */

/* The reader's batch query of a target, prepared on its connection by
 * storage_targets_open_readers. */
#define STORAGE_SELECT_BATCH                                                                       \
	"SELECT id, line FROM points p WHERE p.id > ?1 AND NOT EXISTS "                            \
	"(SELECT 1 FROM rejected r WHERE r.id = p.id AND r.target = ?3) ORDER BY p.id LIMIT ?2"
/* The same for a single target, whose refused points have left `points`:
 * no lookup in `rejected` per row (no ?3). */
#define STORAGE_SELECT_BATCH_ONE "SELECT id, line FROM points WHERE id > ?1 ORDER BY id LIMIT ?2"

/* --- target.c: the targets' positions. --- */

/* Make s->targets from the options' names (without connections). Returns a
 * storage_result. Main thread, storage_open. */
int storage_targets_init(struct storage *s, const struct storage_options *options);

/* Bring the `targets` table to the configured targets in one transaction:
 * drop (logged) those no longer configured, add new ones at the oldest
 * point, delete the points every remaining target has; load each target's
 * position. Main thread, storage_open, after the migration and
 * storage_commit_prepare. */
int storage_targets_sync(struct storage *s);

/* Each target's backlog and oldest point from the file (after
 * storage_targets_sync and the buffer's own counts). Main thread, open. */
int storage_targets_count(struct storage *s);

/* Open each target's reader connection and statement. Main thread, open. */
int storage_targets_open_readers(struct storage *s);

/* Finalize their statements, close their connections, destroy their
 * condition variables, free s->targets. Main thread, storage_close. */
void storage_targets_free(struct storage *s);

/* The smallest position of the transaction (what every target has). */
int64_t storage_targets_min_position(const struct storage *s, const struct storage_delta *d);

/* Start a transaction's positions from the committed ones. Writer thread. */
void storage_targets_delta_init(const struct storage *s, struct storage_delta *d);

/* Count, for each target whose position is below `last_id`, the points
 * (position, last_id] of its backlog as leaving it (they are about to be
 * deleted: dropped for a bound). Inside the writer's transaction. */
int storage_targets_leave(struct storage *s, int64_t last_id, struct storage_delta *d);

/* Count points (from, to] not rejected by t into *count and *bytes. Writer
 * thread, inside a transaction. */
int storage_targets_count_range(struct storage *s, const struct storage_target *t, int64_t from,
				int64_t to, uint64_t *count, uint64_t *bytes);

/* After a commit: the targets' counters from d, their positions, and the
 * oldest point of each backlog that may have changed. Writer thread. */
void storage_targets_after_commit(struct storage *s, const struct storage_delta *d);

/* Wake each target's reader whose wait is over (closing: all). Under s->lock. */
void storage_targets_signal(struct storage *s);

/* --- commit.c: one transaction of jobs. --- */

/* Prepare the writer's statements on s->wdb. Main thread, storage_open. */
int storage_commit_prepare(struct storage *s);

/* Finalize what storage_commit_prepare made. */
void storage_commit_finalize(struct storage *s);

/* Run the jobs in one transaction (acks and rejects alone again if it
 * fails); sets each job's result and, after COMMIT, the counters. Writer
 * thread. */
void storage_commit_jobs(struct storage *s, struct storage_job *jobs);

/* --- refused.c: the `refused` table. --- */

/* Write the STORAGE_JOB_REFUSED rows of jobs and trim the table, inside the
 * writer's transaction, in a savepoint: a failure (a full disk) rolls back
 * only them (counted lost in d) and returns STORAGE_OK while the transaction
 * is still open. Writer thread. */
int storage_refused_write(struct storage *s, struct storage_job *jobs, int64_t now_ns,
			  struct storage_delta *d);

/* Queue a refused job (made by storage_refused) under s->lock and wake the
 * writer: writer.c. Returns STORAGE_OK or STORAGE_ERR_CLOSED. */
int storage_queue_refused(struct storage *s, struct storage_job *job);

/* --- writer.c --- */

/* Start the writer thread on s (s->wdb and its statements ready, s->lock
 * initialised). Returns STORAGE_OK or STORAGE_ERR_IO. Main thread, from
 * storage_open only. */
int storage_writer_start(struct storage *s);

/* Mark s closing (which wakes a storage_wait()), let the writer commit and
 * answer every queued job, join it, and wait for a storage_wait() in
 * progress to return. No-op if the writer never started. Main thread, from
 * storage_close only. */
void storage_writer_stop(struct storage *s);

#endif
