/* sim.h -- iot-sim's shared types: options, counters and the sending engine in sim_send.c. */
#ifndef IOT_SIM_H
#define IOT_SIM_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#ifndef IOT_EDGE_VERSION
#define IOT_EDGE_VERSION "unknown"
#endif

#define SIM_NAME "iot-sim"
#define SIM_HOST_MAX 255
#define SIM_URL_MAX 600
#define SIM_NS_PER_S 1000000000LL

/* Everything the command line sets; defaults in iot_sim.c's sim_opts_init(). */
struct sim_opts {
	char host[SIM_HOST_MAX + 1];
	uint64_t port;
	uint64_t count; /* 0 = forever */
	int64_t interval_ns;
	bool interval_set;
	uint64_t devices;
	uint64_t retries;
	bool quiet;
	bool seed_set;
	uint64_t seed;
	uint64_t connections; /* parallel keep-alive connections (threads) */
	uint64_t rate;	      /* readings per second overall; 0: rounds of --interval */
	uint64_t batch;	      /* readings per request; >1 sends a JSON array */
	bool ts_start_set;
	int64_t ts_start_ns; /* reading n gets ts_start_ns + n * ts_step_ns */
	int64_t ts_step_ns;
	const char *record_path; /* NULL: no record file */
};

/* Outcome counters; each reading counts once, however many attempts it took. */
struct sim_stats {
	uint64_t sent;
	uint64_t ok;
	uint64_t http_errors;
	uint64_t conn_errors;
};

/* One run, shared by every sender thread; `lock` guards everything below it. */
struct sim {
	struct sim_opts opts;
	char url[SIM_URL_MAX];
	uint64_t seed; /* value generator seed */
	FILE *record;  /* --record file or NULL; written under flockfile() */
	pthread_mutex_t lock;
	struct sim_stats stats;
	uint64_t next_n;      /* sequence number of the next reading to claim */
	int64_t next_slot_ns; /* CLOCK_MONOTONIC time of the next request (pacing) */
	uint64_t round;	      /* --interval mode: the round next_slot_ns belongs to */
	int64_t last_ts_ns;   /* live timestamps are strictly increasing */
	bool failed;	      /* a thread could not go on (output or internal error) */
	int output_errno;
};

/* Set by SIGINT/SIGTERM; every sender thread stops at its next check. A lock-free
 * atomic (so both the signal handler and the threads may touch it), not a
 * volatile sig_atomic_t, which is safe for the handler but a data race between
 * threads. An int, not an atomic_bool: on ARMv6 (the Pi Zero's armhf build)
 * a byte is not always lock-free (no LDREXB before ARMv6K), a word is. */
extern atomic_int sim_stop_requested;

/*
 * Send every reading the options ask for over opts.connections connections
 * (one thread each) and fill s->stats. `s` must be zeroed, with opts, url,
 * seed and record set; curl_global_init() must have run. Returns 0, or -1
 * when the run could not go on (the reason is printed on stderr); the
 * counters are valid either way. Call from the main thread only.
 */
int sim_send_all(struct sim *s);

/* CLOCK_MONOTONIC or CLOCK_REALTIME in nanoseconds (0 if unreadable). Any thread. */
int64_t sim_now_ns(clockid_t clk);

#endif
