/* storage_internal.h -- private state shared by storage.c (lifecycle, reads) and writer.c. */
#ifndef IOT_EDGE_STORAGE_INTERNAL_H
#define IOT_EDGE_STORAGE_INTERNAL_H

#include "storage.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Log tag of every storage message. */
#define STORAGE_LOG "storage"

enum storage_job_kind {
	STORAGE_JOB_APPEND,
	STORAGE_JOB_ACK,
};

/* One entry of the writer queue. Appends are malloc'd by storage_append and
 * freed by the writer. The one ack job is storage.ack (only the uplink thread
 * acks); its caller waits on storage.acked until the writer sets `finished`
 * (under storage.lock). */
struct storage_job {
	struct storage_job *next;
	enum storage_job_kind kind;
	/* append */
	char *text;
	size_t len;
	size_t points;
	storage_done_fn *done;
	void *arg;
	/* ack */
	int64_t last_id;
	int finished;
	int result;
};

struct storage {
	char *path;
	sqlite3 *wdb; /* writer connection: open, then the writer thread, then close */
	sqlite3 *rdb; /* reader connection: the uplink thread only */
	sqlite3_stmt *begin;
	sqlite3_stmt *commit;
	sqlite3_stmt *rollback;
	sqlite3_stmt *insert;
	sqlite3_stmt *ack_sum;
	sqlite3_stmt *ack_delete;
	sqlite3_stmt *select_batch;
	int wal_ready; /* the file is ours and in WAL mode: checkpoint on close */

	/* lock guards everything from here up to the counters */
	pthread_mutex_t lock;
	/* the writer waits on wake for jobs or closing */
	pthread_cond_t wake;
	/* storage_ack waits on acked for its commit */
	pthread_cond_t acked;
	/* lock, wake and acked are initialised */
	int sync_ready;
	pthread_t writer;
	int writer_started;
	struct storage_job *head;
	struct storage_job *tail;
	/* appended points not yet committed (or failed) */
	size_t queued_points;
	size_t max_queued_points;
	int closing;
	/* the uplink's ack job (see storage_ack) and whether it is in flight */
	struct storage_job ack;
	int ack_pending;

	_Atomic uint64_t points;
	_Atomic uint64_t bytes;
	_Atomic uint64_t appended_total;
	_Atomic uint64_t acked_total;
	_Atomic uint64_t commits_total;
};

/* Map a SQLite result code to a storage_result. Pure; any thread. */
int storage_result_from_sqlite(int rc);

/* Start the writer thread on s (s->wdb and its statements ready, s->lock
 * initialised). Returns STORAGE_OK or STORAGE_ERR_IO. Main thread, from
 * storage_open only. */
int storage_writer_start(struct storage *s);

/* Mark s closing, let the writer commit and answer every queued job, and
 * join it. No-op if the writer never started. Main thread, from
 * storage_close only. */
void storage_writer_stop(struct storage *s);

#endif
