/* watchdog.h -- decide when to ping systemd's watchdog: only while every thread that matters shows
 * a fresh heartbeat. */
#ifndef IOT_EDGE_WATCHDOG_H
#define IOT_EDGE_WATCHDOG_H

#include <stddef.h>
#include <stdint.h>

/* The most threads one watchdog watches. */
#define WATCHDOG_MAX_SOURCES 8

/*
 * A thread's heartbeat: the CLOCK_MONOTONIC time in ms (clock_mono_ms() of common/clock.h) at
 * which the thread was last seen making progress. A thread that is idle,
 * waiting for work, reports the current time: idle is healthy, only a step of
 * work that never ends is not. Called from the main thread; must not block.
 */
typedef uint64_t watchdog_heartbeat_fn(void *arg);

struct watchdog_source {
	const char *name; /* for the log: "storage writer" */
	watchdog_heartbeat_fn *heartbeat;
	void *arg;
	uint64_t max_age_ms; /* older than this: the thread is stuck */
};

/* Plain data, no resources: a zeroed or watchdog_init()ed struct is valid and
 * needs no destroy. Used by the main thread only. */
struct watchdog {
	struct watchdog_source sources[WATCHDOG_MAX_SOURCES];
	size_t n_sources;
	uint64_t period_ms;    /* systemd's WatchdogSec in ms; 0: watchdog off */
	uint64_t last_ping_ms; /* when watchdog_due() last said yes */
	int pinged;	       /* watchdog_due() has said yes at least once */
	int stuck;	       /* index of the source reported stuck, or -1 */
};

/* Start with no sources and systemd's period `watchdog_usec` (0: off). */
void watchdog_init(struct watchdog *w, uint64_t watchdog_usec);

/* Watch one more thread. `name` must outlive `w` (a string literal). Returns
 * 0, or -1 if the table is full or an argument is NULL/0. */
int watchdog_add(struct watchdog *w, const char *name, watchdog_heartbeat_fn *heartbeat, void *arg,
		 uint64_t max_age_ms);

/* The first source whose heartbeat is older than its max_age_ms at `now_ms`,
 * or NULL when every source is fresh. The returned name belongs to the
 * caller of watchdog_add(). */
const char *watchdog_stuck_source(const struct watchdog *w, uint64_t now_ms);

/* True when a WATCHDOG=1 ping is due at `now_ms`: the watchdog is on, half a
 * period has passed since the last ping, and every source is fresh. Logs once
 * (error) when a source turns stuck and once (info) when it recovers. When it
 * returns true, the ping is taken as sent. */
int watchdog_due(struct watchdog *w, uint64_t now_ms);

/* How long the main loop may sleep before the next ping is due, in ms:
 * a quarter of the period, or `fallback_ms` when the watchdog is off. */
uint64_t watchdog_tick_ms(const struct watchdog *w, uint64_t fallback_ms);

#endif
