/* collect_internal.h -- what collect.c, collect_exec.c and collect_edge.c share: the collector
 * thread's state. Not for other modules. */
#ifndef IOT_EDGE_COLLECT_INTERNAL_H
#define IOT_EDGE_COLLECT_INTERNAL_H

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "collect.h"
#include "collect_sysfs.h"
#include "ingest.h"
#include "lineproto.h"
#include "log.h"

#define COLLECT_MOD "collect"
#define COLLECT_DETAIL_MAX 480	      /* a problem's detail for the log (command, stderr) */
#define COLLECT_OUTPUT_MAX (1u << 20) /* stdout of one exec run, points of one run */

/* One exec run in flight (pid 0: none). Collector thread only. */
struct collect_exec {
	pid_t pid;	    /* also the process group id */
	int out_fd, err_fd; /* -1 once closed */
	char *out;	    /* stdout, at most COLLECT_OUTPUT_MAX bytes */
	size_t out_len;
	bool out_over; /* stdout passed the cap: killed, nothing stored */
	char err[512]; /* the start of stderr, for the log */
	size_t err_len;
	int64_t grid_ns;     /* the run's grid time: timestamp of its points */
	int64_t deadline_ms; /* CLOCK_MONOTONIC: killed when reached */
	bool timed_out;
	int status; /* from waitpid once reaped */
};

/* One w1 run on its own thread (collect_async.c). `running` and `noted`:
 * collector thread only; r, buf and rc belong to the run's thread until
 * `done`, then to the collector thread (after pthread_join). */
struct collect_async {
	pthread_t thread;
	bool running;	  /* started, not joined yet */
	atomic_bool done; /* the run's thread has read everything */
	bool noted;	  /* r.note logged once */
	int rc;		  /* collect_w1()'s */
	struct collect_read r;
	struct lineproto_buf buf;
};

struct collect;

/* A problem logged recently: an identical one is not logged again for an hour. */
#define COLLECT_LOGGED 4
struct collect_logged {
	char msg[160];
	struct log_limit limit; /* limit.last_ms 0: an empty slot */
};

struct collect_item {
	struct collect *owner;
	struct collect_config cfg;  /* a deep copy */
	struct collect_stats stats; /* under owner->lock */
	int64_t next_ns;	    /* the next grid time (CLOCK_REALTIME ns) */
	struct collect_exec exec;
	struct collect_async async;
	struct collect_logged logged[COLLECT_LOGGED]; /* recent problems, for rate limiting */
};

struct collect {
	pthread_t thread;
	bool started;
	pthread_mutex_t lock; /* stats, the stop flag */
	bool stop;
	int wake[2]; /* a byte written to wake[1] wakes the thread */
	char *root;
	struct collect_sources src;
	struct ingest *ingest; /* the door every run's points go through */
	struct collect_item *items;
	size_t n;
	struct collect_retry *retry; /* texts storage refused with BUSY */
	size_t n_retry, retry_bytes;
	int64_t retry_at_ms;
};

/* Count `errors` problems of `it`, keep `msg` as its last_error and log it at
 * warn level (the first time, and an identical message again only after an
 * hour). Collector thread. */
void collect_problem(struct collect_item *it, uint64_t errors, const char *msg);

/* collect_problem() with two texts: `brief` becomes last_error (shown by the
 * open /status: no command line, no stderr, nothing a secret may hide in),
 * `msg` is the detail for the log. Collector thread. */
void collect_problem_detail(struct collect_item *it, uint64_t errors, const char *brief,
			    const char *msg);

/* Hand the `points` points in `buf` (canonical, '\n' each) to the buffer for
 * `it`; the buffer is left empty. Returns 0, or -1 when nothing could be
 * queued or kept for a retry (counted and logged). Collector thread. */
int collect_submit(struct collect_item *it, struct lineproto_buf *buf, size_t points);

/* The sum of every collector's errors. Any thread (takes the lock). */
uint64_t collect_errors_total(struct collect *c);

/* The end of a sysfs reader's run r (rc: the reader's return): counts it,
 * logs its problem, hands buf's points to storage, frees buf. Collector
 * thread. */
void collect_read_finish(struct collect_item *it, struct collect_read *r, int rc,
			 struct lineproto_buf *buf);

/* --- collect_async.c: the w1 collector's run on a thread of its own --- */

/* Start reading it's sensors for grid time grid_ns on a new thread, which
 * writes a byte to wake[1] once done (then collect_async_reap()). Without a
 * thread, it reads and finishes on the loop, as before. Collector thread. */
void collect_async_start(struct collect_item *it, int64_t grid_ns);

/* True while it's run is started and not reaped. Collector thread. */
bool collect_async_running(const struct collect_item *it);

/* Once it's run is done (at once if wait: at stop), join its thread and
 * finish it (collect_read_finish()). Nothing if none runs. Collector thread. */
void collect_async_reap(struct collect_item *it, bool wait);

/* --- collect_exec.c: exec collectors, run inside the collector thread --- */

/* Start it's command for grid time grid_ns. Returns 0, or -1 (counted and
 * logged). Collector thread. */
int collect_exec_start(struct collect_item *it, int64_t grid_ns);

/* Add the run's open pipes to pfd (room for 2). Returns how many. */
size_t collect_exec_pollfds(struct collect_item *it, struct pollfd *pfd);

/* Read what is ready on `fd` (one of the run's pipes). Collector thread. */
void collect_exec_read(struct collect_item *it, int fd);

/* Advance the run: kill it at its deadline, reap it once it has exited.
 * Returns 1 when the run is over (then collect_exec_finish()), else 0 with
 * *wake_ms lowered to when it wants to be looked at again. */
int collect_exec_step(struct collect_item *it, int64_t now_ms, int64_t *wake_ms);

/* Store the valid lines of a finished run, count and log what went wrong,
 * free the run. Collector thread. */
void collect_exec_finish(struct collect_item *it);

/* Kill a run still going (its whole process group), reap it, free it. */
void collect_exec_abort(struct collect_item *it);

/* --- collect_edge.c: the edge's own figures --- */

/* Append the iot_edge point at ts_ns to `out` (and, with several delivery
 * targets, one more per target). Returns the number of points appended, or
 * -1 with the reason in why. Collector thread. */
int collect_edge_read(struct collect_item *it, int64_t ts_ns, struct lineproto_buf *out, char *why,
		      size_t why_size);

#endif
