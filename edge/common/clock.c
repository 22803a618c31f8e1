/* clock.c -- the one clock module: monotonic and wall readings, unique receipt stamps (era
 * tie-break), monotonic condition variables and deadlines, the test offsets. */
#include "clock.h"

#include <stdatomic.h>

#define CLOCK_NS_PER_S 1000000000LL
#define CLOCK_ERAS 1000 /* the sub-microsecond digits of a stamp */

static _Atomic int64_t mono_offset_ns;
static _Atomic int64_t wall_offset_ns;

/* clock_unique_ns() state, under unique_lock */
static pthread_mutex_t unique_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t unique_wall_us; /* the wall clock at the last stamp, in us */
static int64_t unique_us;      /* the microsecond the last stamp took */
static int64_t unique_era;     /* 0 .. CLOCK_ERAS - 1 */

static int64_t clock_read(clockid_t id)
{
	struct timespec ts = {0, 0};

	(void)clock_gettime(id, &ts); /* cannot fail for these two clocks on Linux */
	return (int64_t)ts.tv_sec * CLOCK_NS_PER_S + ts.tv_nsec;
}

int64_t clock_mono_ns(void)
{
	int64_t now = clock_read(CLOCK_MONOTONIC) +
		      atomic_load_explicit(&mono_offset_ns, memory_order_relaxed);

	return now > 0 ? now : 1; /* 0 means "never" to many callers */
}

int64_t clock_mono_ms(void)
{
	int64_t ms = clock_mono_ns() / 1000000;

	return ms > 0 ? ms : 1;
}

int64_t clock_wall_ns(void)
{
	return clock_read(CLOCK_REALTIME) +
	       atomic_load_explicit(&wall_offset_ns, memory_order_relaxed);
}

int64_t clock_unique_ns(void)
{
	int64_t now_us, us, era;

	pthread_mutex_lock(&unique_lock); /* cannot fail: a default mutex, never held twice */
	now_us = clock_wall_ns() / 1000;
	if (now_us < unique_wall_us) {
		/* The wall clock stepped back: a new era, whose stamps cannot
		 * equal those of the eras before (other last digits). */
		unique_era = (unique_era + 1) % CLOCK_ERAS;
		us = now_us;
	} else {
		us = now_us > unique_us ? now_us : unique_us + 1;
	}
	unique_wall_us = now_us;
	unique_us = us;
	era = unique_era;
	pthread_mutex_unlock(&unique_lock);
	return us * 1000 + era;
}

int clock_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);

	if (rc != 0)
		return rc;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr); /* cannot fail on an initialised attr */
	return rc;
}

struct timespec clock_deadline_ns(int64_t ns)
{
	int64_t at;

	if (ns < 0)
		ns = 0;
	if (ns > INT64_MAX / 2)
		ns = INT64_MAX / 2; /* the monotonic clock is far below: no overflow */
	at = clock_read(CLOCK_MONOTONIC) + ns;

	return (struct timespec){.tv_sec = (time_t)(at / CLOCK_NS_PER_S),
				 .tv_nsec = (long)(at % CLOCK_NS_PER_S)};
}

void clock_set_source(const struct clock_source *src)
{
	atomic_store(&mono_offset_ns, src ? src->mono_offset_ns : 0);
	atomic_store(&wall_offset_ns, src ? src->wall_offset_ns : 0);
}
