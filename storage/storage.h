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
	/* The delivery targets (uplinks), each with its own position in the
	 * buffer: a point is deleted once every target has it. Names of at
	 * most STORAGE_TARGET_NAME_MAX - 1 bytes, no two alike; NULL or 0: one
	 * target, STORAGE_TARGET_DEFAULT. A target the file knows but that is
	 * not listed is dropped at open (logged); a new one starts at the
	 * oldest point. */
	const char *const *targets;
	size_t target_count; /* at most STORAGE_MAX_TARGETS */
};

#define STORAGE_MAX_TARGETS 8
#define STORAGE_TARGET_NAME_MAX 64
#define STORAGE_TARGET_DEFAULT "default"

/* One delivery target of an open storage: the handle its uplink reads,
 * acks and rejects through. Owned by the storage (freed by storage_close). */
struct storage_target;

/* A copy of one target's counters, see storage_target_get_stats(). */
struct storage_target_stats {
	char name[STORAGE_TARGET_NAME_MAX];
	int64_t acked_id;	    /* its position: it has every point up to this id */
	uint64_t points;	    /* its backlog: points after its position it has yet to get */
	uint64_t bytes;		    /* their line-protocol bytes */
	int64_t oldest_received_ns; /* received_ns of the oldest of them; 0 when none */
	uint64_t acked_total;	    /* points it acknowledged since open */
	uint64_t rejected_total;    /* points it refused for good since open */
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
	uint64_t refused_kept;	    /* rows written to `refused` since open */
	uint64_t refused_lost;	    /* storage_refused() rows not kept (rate, queue, disk) */
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

/* The number of targets (at least 1) and the i-th of them (in the order of
 * storage_options.targets; NULL for i out of range). Any thread. */
size_t storage_target_count(const struct storage *s);
struct storage_target *storage_target_at(struct storage *s, size_t i);

/* The target named `name`, or NULL. Any thread. */
struct storage_target *storage_target_find(struct storage *s, const char *name);

/* Copy one target's counters (zeros for NULL). Any thread, lock-free. */
void storage_target_get_stats(struct storage_target *t, struct storage_target_stats *out);

/*
 * The reader's functions of one target. Each target has its own reader
 * connection: one thread per target (its uplink) may call them, targets in
 * parallel. They behave as the storage_* functions below, which act on the
 * first target (storage_target_at(s, 0)) and are kept for the single-target
 * callers, except that "the buffer" is the target's backlog: its points after
 * its position, without those it rejected.
 */
int storage_target_read_batch(struct storage_target *t, size_t max_points, size_t max_bytes,
			      struct storage_batch *batch);
int storage_target_ack(struct storage_target *t, int64_t last_id);
int storage_target_reject(struct storage_target *t, const int64_t *ids, size_t n,
			  const char *reason);
uint64_t storage_target_wake_seq(struct storage_target *t);
int storage_target_wait(struct storage_target *t, uint64_t points, uint64_t bytes, uint64_t seen,
			int timeout_ms);
void storage_target_wake(struct storage_target *t);

/* Read the oldest points into `batch`: at most max_points and, unless the
 * first point alone is larger, at most max_bytes of text. batch->count is 0
 * when the buffer is empty. Only one thread (the uplink) may read. */
int storage_read_batch(struct storage *s, size_t max_points, size_t max_bytes,
		       struct storage_batch *batch);

/* The target has every point with id <= last_id (InfluxDB acknowledged
 * them): move its position there (never back, never past the newest point)
 * and delete the points every target has. Blocks until committed. Same
 * thread as storage_read_batch. */
int storage_ack(struct storage *s, int64_t last_id);

/* Copy the points with these ids to the `rejected` table, with the target's
 * name, `reason` (InfluxDB's words) and the time: the target will never
 * accept them, and its reads skip them from now on. A point every other
 * target already has leaves the buffer (with one target: always); one that
 * another target still needs stays for it. Ids not in the buffer are
 * ignored. Blocks until committed. Same thread as storage_read_batch. */
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

/* The `refused` table (schema v4) keeps the newest STORAGE_REFUSED_KEEP
 * messages an input refused, each with at most STORAGE_REFUSED_PAYLOAD_MAX
 * bytes of its payload (topic: STORAGE_REFUSED_TOPIC_MAX). A flood of
 * garbage writes little: STORAGE_REFUSED_BURST rows may come at once, then
 * one per STORAGE_REFUSED_EVERY_MS; the others are only counted. */
#define STORAGE_REFUSED_KEEP 1000
#define STORAGE_REFUSED_PAYLOAD_MAX 4096
#define STORAGE_REFUSED_TOPIC_MAX 1024
#define STORAGE_REFUSED_BURST 100
#define STORAGE_REFUSED_EVERY_MS 1000

/* A message an input could make no points of (see storage_refused()). */
struct storage_refusal {
	const char *source; /* "mqtt.NAME": who refused it */
	const char *topic;  /* its topic (or NULL), topic_len bytes */
	size_t topic_len;
	int topic_is_text; /* topic is valid UTF-8 without NUL: stored as TEXT, else BLOB */
	const char *reason;
	const void *payload; /* payload_len bytes of it (NULL if none kept) */
	size_t payload_len;
	int payload_is_text; /* as topic_is_text */
	uint64_t full_len;   /* the payload's whole length (may exceed payload_len) */
};

/* Keep a refused message in the `refused` table, best effort: the row is
 * copied (cut to the bounds above, at a character for text) and queued for
 * the next group commit, never waited for; a failed commit or a full disk
 * loses it (counted in refused_lost), never the points it shares a
 * transaction with. Returns STORAGE_OK (queued), STORAGE_ERR_BUSY (over the
 * rate bound: not kept, counted), STORAGE_ERR_CLOSED, STORAGE_ERR_NOMEM or
 * STORAGE_ERR_INVALID. Never waits for the disk. Any thread. */
int storage_refused(struct storage *s, const struct storage_refusal *r);

/* "queue full" etc., for logs and HTTP error bodies. Static string. */
const char *storage_strerror(int result);

#endif
