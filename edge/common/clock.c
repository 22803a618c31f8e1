/* clock.c -- unique receipt timestamps (a CAS loop over the wall clock). */
#include "clock.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t last_stamp;

int64_t clock_unique_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	int64_t last = atomic_load(&last_stamp);
	for (;;) {
		int64_t next = now > last ? now : last + 1;
		if (atomic_compare_exchange_weak(&last_stamp, &last, next))
			return next;
	}
}
