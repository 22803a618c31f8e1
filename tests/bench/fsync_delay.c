/* fsync_delay.c -- LD_PRELOAD shim for the benchmarks: fsync() and fdatasync() take a set extra
 * time, as on an SD card. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/*
 * IOT_BENCH_FSYNC_DELAY_MS (e.g. 2, 10, 50; unset or 0: none) is slept before
 * every fsync() and fdatasync() of the process, then the real call runs. Use:
 *   LD_PRELOAD=build-bench/tests/bench/libfsync_delay.so IOT_BENCH_FSYNC_DELAY_MS=10 iot-edge
 * A Pi-like disk on a fast machine: group commit and throughput are measured
 * as when each flush costs that long. Thread-safe: nothing is shared but the
 * delay, read once.
 */

typedef int sync_fn(int);

/* The delay in ns, read from the environment on the first call. */
static long fsync_delay_ns(void)
{
	static long ns = -1;

	if (ns < 0) {
		const char *v = getenv("IOT_BENCH_FSYNC_DELAY_MS");
		double ms = v != NULL ? strtod(v, NULL) : 0.0;

		ns = ms > 0 ? (long)(ms * 1e6) : 0;
	}
	return ns;
}

/* Sleep the delay (the whole of it, across signals). */
static void fsync_delay(void)
{
	long ns = fsync_delay_ns();
	struct timespec left = {.tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L};

	while (ns > 0 && nanosleep(&left, &left) != 0)
		;
}

int fsync(int fd)
{
	static sync_fn *real;

	if (real == NULL)
		real = (sync_fn *)dlsym(RTLD_NEXT, "fsync");
	fsync_delay();
	return real(fd);
}

int fdatasync(int fd)
{
	static sync_fn *real;

	if (real == NULL)
		real = (sync_fn *)dlsym(RTLD_NEXT, "fdatasync");
	fsync_delay();
	return real(fd);
}
