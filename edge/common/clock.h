/* clock.h -- the daemon's one clock: monotonic for intervals and deadlines, wall for timestamps,
 * unique receipt stamps, and a source tests can set. */
#ifndef IOT_EDGE_CLOCK_H
#define IOT_EDGE_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/*
 * Which clock for what (curl's TIME-KEEPING.md, ntpd's getmonotime()):
 *  - every interval, timeout, deadline, rate limit and heartbeat is measured
 *    on the monotonic clock, which setting the wall clock (NTP stepping a Pi
 *    without an RTC, fake-hwclock, an operator) never moves;
 *  - only times that people or InfluxDB read are on the wall clock: point
 *    timestamps, received_ns, "last success at", log lines.
 * No other code calls clock_gettime() or time().
 */

/* CLOCK_MONOTONIC in ns (plus the test offset, see clock_set_source). Never
 * goes back; positive. Any thread. */
int64_t clock_mono_ns(void);

/* clock_mono_ns() in ms. Any thread. */
int64_t clock_mono_ms(void);

/* CLOCK_REALTIME in ns since the Unix epoch (plus the test offset); may jump
 * either way when the clock is set. For timestamps only, never for an
 * interval. Any thread. */
int64_t clock_wall_ns(void);

/* Receipt timestamp for a point sent without one: the wall clock in ns since
 * the Unix epoch, on a whole microsecond plus an "era" in the three
 * sub-microsecond digits (0..999).
 *
 * The era starts at 0 and grows by one each time the wall clock is seen to
 * step back. Within an era the stamps strictly increase (two in the same
 * microsecond: the second takes the next microsecond), so they follow the
 * wall clock, back steps included, and two stamps of this process are never
 * equal (never overwrite each other in InfluxDB), unless the wall clock
 * stepped back 1000 times or more in its life (the era wraps) and a stamp of
 * the wrapped era lands on a microsecond an older one of that era took. Any
 * thread (a short mutex around reading the clock, so that readings are
 * compared in the order they were taken). */
int64_t clock_unique_ns(void);

/* pthread_cond_init() on CLOCK_MONOTONIC, so that clock_deadline_ns()
 * deadlines are immune to the wall clock being set. Returns 0 or the pthread
 * error number (cond is then not initialised). Any thread. */
int clock_cond_init(pthread_cond_t *cond);

/* The CLOCK_MONOTONIC time `ns` (>= 0) from now, as pthread_cond_timedwait()
 * wants it for a condition variable made by clock_cond_init(). Real time:
 * the test offset does not apply, the kernel measures the wait. Any thread. */
struct timespec clock_deadline_ns(int64_t ns);

/* TEST ONLY -- the daemon never calls it. Offsets added to what the real
 * clocks say: wall_offset_ns = -3600 s steps the wall clock back an hour;
 * mono_offset_ns lets an interval pass without sleeping and must never
 * decrease while the code under test runs (the monotonic clock never goes
 * back). */
struct clock_source {
	int64_t mono_offset_ns;
	int64_t wall_offset_ns;
};

/* TEST ONLY: from now on clock_mono_ns(), clock_mono_ms(), clock_wall_ns()
 * and clock_unique_ns() read the real clocks shifted by *src; NULL: the real
 * clocks again. Any thread; takes effect at once (each offset is one atomic). */
void clock_set_source(const struct clock_source *src);

#endif
