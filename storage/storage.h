/* storage.h -- the durable point buffer (SQLite, WAL): the only door to the database. */
#ifndef IOT_EDGE_STORAGE_H
#define IOT_EDGE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

struct storage;

/* The writer queue's size when storage_options.max_queued_points is 0: no
 * single append may carry more points (see storage_max_append_points()). */
#define STORAGE_QUEUE_POINTS_DEFAULT 100000

enum storage_durability {
	STORAGE_DURABILITY_FULL,   /* every commit is fsynced: survives power loss */
	STORAGE_DURABILITY_NORMAL, /* survives a process crash, not a power cut */
};

/* Every storage_* function returns one of these; 0 is success. */
enum storage_result {
	STORAGE_OK = 0,
	STORAGE_ERR_BUSY,   /* the writer queue is full: try again shortly */
	STORAGE_ERR_CLOSED, /* the storage is shutting down */
	STORAGE_ERR_NOMEM,
	STORAGE_ERR_IO,	     /* SQLite or the disk failed; details are logged */
	STORAGE_ERR_CORRUPT, /* the file failed its integrity check */
	STORAGE_ERR_SCHEMA,  /* the file was written by a newer release */
	STORAGE_ERR_INVALID, /* a bad argument */
	STORAGE_ERR_FULL,    /* a bound was reached (reject_new) or the disk is full: HTTP 507 */
};

/* What to do when the buffer reaches max_size or the disk min_free_disk. */
enum storage_full_policy {
	STORAGE_FULL_DROP_OLDEST, /* delete the oldest points (counted) to make room */
	STORAGE_FULL_REJECT_NEW,  /* refuse new appends with STORAGE_ERR_FULL */
};

struct storage_options {
	const char *path; /* the database file, e.g. buffer.db */
	enum storage_durability durability;
	size_t max_queued_points; /* points of appends waiting for a commit; 0:
				     STORAGE_QUEUE_POINTS_DEFAULT */
	uint64_t max_size;	  /* bytes of disk the buffer may use; 0: no bound */
	uint64_t min_free_disk;	  /* bytes always left free on its filesystem */
	enum storage_full_policy full_policy;
};

/* A copy of the counters, see storage_get_stats(). */
struct storage_stats {
	uint64_t points;	    /* points in the buffer now */
	uint64_t bytes;		    /* their line-protocol bytes */
	uint64_t appended_total;    /* points committed since open */
	uint64_t acked_total;	    /* points deleted after delivery since open */
	uint64_t commits_total;	    /* write transactions since open */
	uint64_t dropped_total;	    /* points deleted undelivered to respect a bound */
	uint64_t rejected_total;    /* points moved to `rejected` since open */
	int64_t oldest_received_ns; /* received_ns of the oldest point; 0 when empty */
	int64_t newest_received_ns; /* received_ns of the newest point; 0 when empty */
	uint64_t file_bytes;	    /* database + WAL size on disk */
	int quarantined;	    /* a corrupt buffer was moved aside at start-up */
};

/* Uplink's view of the oldest points. `text` is the points as line protocol,
 * one per line, each ending in '\n': exactly an InfluxDB /write body.
 * Buffers are reused across reads; free with storage_batch_free(). */
struct storage_batch {
	char *text;
	size_t len;	  /* bytes used in text */
	size_t cap;	  /* bytes allocated */
	size_t count;	  /* points in text */
	int64_t last_id;  /* the id of the newest point in the batch */
	int64_t *ids;	  /* ids[i]: the id of line i (count entries) */
	size_t *offsets;  /* offsets[i]: where line i starts in text */
	size_t lines_cap; /* entries allocated in ids and offsets */
};

/* Open (creating if needed) the buffer, check it, migrate its schema and
 * start the writer thread. On success *out owns everything; release it with
 * storage_close(). Call from the main thread at start-up. */
int storage_open(const struct storage_options *options, struct storage **out);

/* Commit everything already queued, answer every waiting done callback,
 * stop the writer thread, checkpoint the WAL into the main file and close.
 * No other storage_* call may run or start during or after it, except a
 * storage_wait() already sleeping, which it ends and waits for. NULL-safe. */
void storage_close(struct storage *s);

/* Called exactly once per accepted append, from the writer thread, after the
 * transaction holding its points committed (result STORAGE_OK) or failed
 * (anything else: none of the append's points is stored). It must not block
 * and must not call back into storage. */
typedef void storage_done_fn(void *arg, int result);

/* Queue `text` -- `len` bytes of canonical line protocol, exactly `points`
 * lines (as its producer counted them), each ending in '\n', no empty line,
 * no NUL -- for the next group commit. Any thread.
 * Ownership, the rule of every hand-off in the daemon (edge/ingest/ingest.h
 * follows it too): the text is taken only when accepted. On STORAGE_OK
 * ownership of `text` (malloc'd) passes to storage, which frees it, and
 * done(arg, result) will be called exactly once. On any other return nothing
 * was queued, done is never called and the caller still owns text.
 * STORAGE_ERR_INVALID: text breaks the contract above (a wrong count too), or
 * `points` is more than storage_max_append_points(); STORAGE_ERR_BUSY: the
 * queue has no room for it now; STORAGE_ERR_CLOSED; STORAGE_ERR_NOMEM. */
int storage_append(struct storage *s, char *text, size_t len, size_t points, storage_done_fn *done,
		   void *arg);

/* The most points one storage_append() may carry: the writer queue's size
 * (storage_options.max_queued_points). Any thread. */
size_t storage_max_append_points(const struct storage *s);

/* Read the oldest points into `batch`: at most max_points and, unless the
 * first point alone is larger, at most max_bytes of text. batch->count is 0
 * when the buffer is empty. Only one thread (the uplink) may read. */
int storage_read_batch(struct storage *s, size_t max_points, size_t max_bytes,
		       struct storage_batch *batch);

/* Delete every point with id <= last_id: InfluxDB has acknowledged them.
 * Blocks until the deletion has committed. Same thread as storage_read_batch. */
int storage_ack(struct storage *s, int64_t last_id);

/* Move the points with these ids from the buffer to the `rejected` table,
 * with `reason` (InfluxDB's words) and the time: InfluxDB will never accept
 * them. Ids not in the buffer are ignored. Blocks until committed. Same
 * thread as storage_read_batch. */
int storage_reject(struct storage *s, const int64_t *ids, size_t n, const char *reason);

/* The number of storage_wake() calls so far. The reader reads it before it
 * looks at the buffer and at its own stop flag, and passes it to
 * storage_wait(): a storage_wake() after the look is not missed. Any thread,
 * lock-free. */
uint64_t storage_wake_seq(struct storage *s);

/* Sleep until the buffer holds at least `points` points or `bytes` bytes
 * (storage_stats.points and .bytes: committed, readable with
 * storage_read_batch), storage_wake() has been called since storage_wake_seq()
 * returned `seen`, `timeout_ms` pass (< 0: no limit), or storage_close()
 * begins. No polling: the writer wakes the sleeper after the commit that
 * reaches a bound. Returns STORAGE_OK (whichever ended the wait: the caller
 * looks again at what it waits for), STORAGE_ERR_CLOSED once storage_close()
 * has begun (it waits for this call to return before freeing anything), or
 * STORAGE_ERR_INVALID (NULL s, or another thread is in storage_wait).
 * Same thread as storage_read_batch. */
int storage_wait(struct storage *s, uint64_t points, uint64_t bytes, uint64_t seen, int timeout_ms);

/* End the storage_wait() in progress, or the next one whose `seen` was read
 * before this call, at once: the reader's stop (uplink_stop). Any thread. */
void storage_wake(struct storage *s);

/* Release a batch's buffer (the struct itself is the caller's). NULL-safe. */
void storage_batch_free(struct storage_batch *batch);

/* Copy the counters. Any thread, lock-free, cheap. */
void storage_get_stats(struct storage *s, struct storage_stats *out);

/* The writer thread's heartbeat for the systemd watchdog: the CLOCK_MONOTONIC
 * time in ms at which it started the step of work it is doing now (one group
 * commit, or one shrink step), or the current time while it waits for work
 * (idle is healthy). A value minutes old means a step that does not return.
 * Any thread, lock-free. */
uint64_t storage_heartbeat_ms(struct storage *s);

/* "queue full" etc., for logs and HTTP error bodies. Static string. */
const char *storage_strerror(int result);

#endif
