/* uplink_internal.h -- private to uplink/: the uplink object shared by uplink.c and forward.c. */
#ifndef IOT_EDGE_UPLINK_INTERNAL_H
#define IOT_EDGE_UPLINK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "influx.h"
#include "log.h"
#include "storage.h"
#include "uplink.h"

/* Each uplink reads, acks and rejects through its own target (u->target):
 * the first target's shorthands would act on another target's position. */
#pragma GCC poison storage_read_batch storage_ack storage_reject storage_wait storage_wake
#pragma GCC poison storage_wake_seq

#define UPLINK_MODULE "uplink"
#define UPLINK_LOG_EVERY_MS 60000 /* repeated failure lines: at most one a minute */
#define UPLINK_REASON_MAX 512	  /* bytes of InfluxDB's message stored per rejected line */
#define UPLINK_CANARY_MAX 4096	  /* the last acknowledged line is kept if at most this long */

/* The part of u->batch that one request carries: lines [first, first + count). */
struct uplink_window {
	size_t first;
	size_t count;
	const char *text; /* where its first line starts in u->batch.text */
	size_t len;	  /* its bytes, each line with its '\n' */
	int64_t last_id;  /* the id of its last line */
};

struct uplink {
	struct uplink_options opt; /* strings are our own copies */
	struct storage *storage;
	struct storage_target *target; /* its position in storage: what it reads and acks */
	char name[STORAGE_TARGET_NAME_MAX];
	/* ends its start and stop lines: "" with one target, `; target "NAME"`
	 * with several */
	char log_suffix[STORAGE_TARGET_NAME_MAX + 16];
	struct influx *client;

	pthread_mutex_t lock; /* guards nothing but the wait on `wake` */
	pthread_cond_t wake;  /* broadcast by uplink_stop() */
	bool lock_ready;
	bool wake_ready;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	atomic_int_least64_t stop_at_ms;    /* monotonic time of uplink_stop() */
	uint32_t stop_grace_ms;		    /* how long a request in flight may finish */
	atomic_int_least64_t busy_since_ms; /* uplink_heartbeat_ms(); 0: waiting */

	/* Written by the forwarder thread, read by uplink_get_stats(). */
	atomic_uint_least64_t points_sent;
	atomic_uint_least64_t requests_ok;
	atomic_uint_least64_t requests_failed;
	atomic_uint_least64_t retries;
	atomic_uint_least64_t points_rejected;
	atomic_uint_least64_t splits;
	atomic_uint_least64_t bytes_raw;
	atomic_uint_least64_t bytes_sent;
	atomic_uint_least32_t consecutive_failures;
	atomic_int_least64_t last_success_ms;
	atomic_int_least64_t last_error_ms;
	atomic_int last_error_class;
	atomic_int auth_failed;
	atomic_uint_least64_t batch_points_now;
	atomic_uint_least64_t batch_bytes_now;
	atomic_uint_least64_t server_isolations;
	atomic_uint_least64_t points_rejected_server;
	pthread_mutex_t error_lock; /* guards last_error */
	bool error_lock_ready;
	char last_error[UPLINK_LAST_ERROR_SIZE];

	/* Owned by the forwarder thread once it runs. */
	struct storage_batch batch; /* what the last read returned: up to a few requests */
	struct uplink_window win;   /* the request being sent */
	struct influx_reply reply;
	char message[INFLUX_BODY_CAP + 1]; /* InfluxDB's message in the last answer */
	size_t *lines;			   /* refused line indexes: opt.batch_points entries */
	int64_t *line_ids;		   /* their ids: opt.batch_points entries */
	uint32_t rng;			   /* backoff_random() state */
	uint32_t attempt;		   /* failed sends in a row, for the backoff */
	uint32_t storage_attempt;	   /* failed storage calls in a row */
	size_t limit_points;		   /* batch size now: opt.batch_points, lowered by 413 */
	size_t limit_bytes;		   /* opt.batch_bytes, lowered by 413 */
	size_t win_points;		   /* points per request now: limit_points or the probe */
	size_t probe_points;		   /* > 0: bisecting, read this many */
	int64_t suspect_last_id;	   /* bisecting: the refused batch ended here */
	bool db_create_tried;		   /* CREATE DATABASE sent since the last 2xx */
	bool failing;			   /* the last send failed */
	struct log_limit fail_log;	   /* the repeated failure lines */
	struct log_limit auth_log;	   /* authentication errors; reset by a 2xx */
	struct log_limit storage_log;	   /* failed storage calls */
	struct log_limit reject_log;	   /* points refused for good */

	/* 5xx isolation (forward.c; docs/UPLINK.md "A point InfluxDB answers 5xx to"). */
	uint32_t server_streak;		     /* 5xx in a row on the batch that starts at: */
	int64_t server_streak_id;	     /* its first line's id */
	bool server_isolating;		     /* the bisection in progress is for a 5xx */
	int64_t solo_id;		     /* the line that failed alone, */
	uint32_t solo_failures;		     /* how often in a row */
	bool solo_control_ok;		     /* InfluxDB took another line since */
	char solo_reason[UPLINK_REASON_MAX]; /* its last answer, for `rejected` */
	struct log_limit server_log;	     /* the line of an isolation begun */
	char canary[UPLINK_CANARY_MAX];	     /* the last line InfluxDB acknowledged, */
	size_t canary_len;		     /* with its '\n' (0: none yet) */

	/* The direct path (offer.c): offers waiting for the next direct send. */
	pthread_mutex_t offer_lock; /* guards the four below */
	bool offer_lock_ready;
	struct uplink_offer *offers; /* oldest first */
	struct uplink_offer *offers_tail;
	size_t offer_points; /* points in `offers` */
	bool offers_closed;  /* uplink_stop(): refuse every later offer */
	atomic_bool offers_pending;
	char *direct_body; /* forwarder thread: several offers joined into one body */
	size_t direct_cap;
	struct log_limit direct_log; /* failed direct sends */
};

/* One offer waiting for a direct send (offer.c). */
struct uplink_offer {
	const char *text;
	size_t len;
	size_t points;
	uplink_offer_done_fn *done;
	void *arg;
	struct uplink_offer *next;
};

/* offer.c: init the offer queue's lock (0 or pthread's error); main thread, at start. */
int uplink_offers_init(struct uplink *u);

/* offer.c: send the pending offers (up to a batch) to InfluxDB and answer
 * them, or answer them all "not delivered" at once when the buffer holds a
 * backlog or the uplink is failing. Returns the wait before the next step
 * (always 0 for now). Forwarder thread. */
uint32_t uplink_send_offers(struct uplink *u);

/* offer.c: refuse every later offer and answer the pending ones "not
 * delivered"; frees the offer state. After the thread is joined. */
void uplink_offers_close(struct uplink *u);

/* The forwarder starts a step of work now (for uplink_heartbeat_ms()). */
void uplink_busy(struct uplink *u);

/* A storage read, ack or reject failed with `rc`: count it, log (at most
 * once a minute) and return the backoff wait in ms. Forwarder thread. */
uint32_t uplink_storage_failed(struct uplink *u, const char *what, int rc);

/* Send u->win (non-empty) and act on InfluxDB's answer as the error table
 * says. On a 2xx sets *delivered and returns 0: the caller deletes the
 * points (storage_target_ack). Otherwise the window is split, its refused lines are
 * moved to `rejected`, or it is kept, and the return value is how long to
 * wait before the next read (0: read again now). Forwarder thread. */
uint32_t uplink_forward(struct uplink *u, bool *delivered);

#endif
