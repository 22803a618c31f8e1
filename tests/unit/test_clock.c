/* test_clock.c -- the clock module: monotonic vs wall, unique receipt stamps across a backward
 * step of the wall clock, monotonic condition-variable deadlines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"

#include <errno.h>
#include <stdlib.h>

#define NS_PER_S 1000000000LL
#define HOUR_NS (3600 * NS_PER_S)
#define STAMPS 2000

static int reset_source(void **state)
{
	(void)state;
	clock_set_source(NULL);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Every value of v[0..n) differs from every other. */
static void assert_all_distinct(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(v[0]), cmp_i64);
	for (size_t i = 1; i < n; i++)
		if (v[i] == v[i - 1])
			fail_msg("stamp %lld appears twice", (long long)v[i]);
}

static void test_mono_is_monotonic(void **state)
{
	(void)state;
	int64_t a = clock_mono_ms();
	int64_t b = clock_mono_ms();
	int64_t na = clock_mono_ns();
	int64_t nb = clock_mono_ns();

	assert_true(a > 0);
	assert_true(b >= a);
	assert_true(nb >= na);
	assert_true(na / 1000000 >= a);
}

static void test_source_shifts_each_clock(void **state)
{
	(void)state;
	int64_t wall = clock_wall_ns(), mono = clock_mono_ns();

	/* the wall clock steps back an hour: the monotonic one does not move */
	clock_set_source(&(struct clock_source){.wall_offset_ns = -HOUR_NS});
	assert_true(clock_wall_ns() < wall - HOUR_NS + NS_PER_S);
	assert_true(clock_wall_ns() > wall - HOUR_NS - NS_PER_S);
	assert_true(clock_mono_ns() >= mono);
	assert_true(clock_mono_ns() < mono + NS_PER_S);

	/* the monotonic clock moves a minute on, the wall clock stays back */
	clock_set_source(
	    &(struct clock_source){.mono_offset_ns = 60 * NS_PER_S, .wall_offset_ns = -HOUR_NS});
	assert_true(clock_mono_ns() >= mono + 60 * NS_PER_S);
	assert_true(clock_mono_ms() >= (mono + 60 * NS_PER_S) / 1000000);
	assert_true(clock_wall_ns() < wall - HOUR_NS + NS_PER_S);

	clock_set_source(NULL);
	assert_true(clock_wall_ns() >= wall);
	assert_true(clock_mono_ns() < mono + 60 * NS_PER_S);
}

static void test_unique_increases_and_follows_the_wall_clock(void **state)
{
	(void)state;
	int64_t before = clock_wall_ns();
	int64_t last = 0;

	for (int i = 0; i < STAMPS; i++) {
		int64_t t = clock_unique_ns();

		assert_true(t > last);
		last = t;
	}
	/* no more than one microsecond ahead per stamp taken in the same one */
	assert_true(last >= before / 1000 * 1000);
	assert_true(last <= clock_wall_ns() + STAMPS * 1000LL);
}

/* Issue #14, defect 2: after the wall clock stepped back an hour, every
 * point was stamped 1 ns after the last stamp taken before the step: an hour
 * of readings on one instant. Now the stamps follow the new wall time and
 * still never equal one taken before the step. */
static void test_unique_after_the_wall_clock_steps_back(void **state)
{
	(void)state;
	static int64_t all[3 * STAMPS];
	int64_t first_min = INT64_MAX;
	size_t n = 0;

	for (int i = 0; i < STAMPS; i++) {
		all[n] = clock_unique_ns();
		if (all[n] < first_min)
			first_min = all[n];
		n++;
	}
	clock_set_source(&(struct clock_source){.wall_offset_ns = -HOUR_NS});
	for (int i = 0; i < STAMPS; i++) {
		int64_t before = clock_wall_ns();
		int64_t t = clock_unique_ns();
		int64_t after = clock_wall_ns();

		/* the new wall time, not the old one held back */
		assert_true(t >= before / 1000 * 1000);
		assert_true(t <= after + STAMPS * 1000LL);
		assert_true(t < first_min - HOUR_NS + NS_PER_S);
		all[n++] = t;
	}
	/* and back again, to the microseconds the first stamps took */
	clock_set_source(NULL);
	for (int i = 0; i < STAMPS; i++)
		all[n++] = clock_unique_ns();
	assert_true(all[n - 1] >= first_min);
	assert_all_distinct(all, n);
}

/* A second step back lands on microseconds the first era took, in a third
 * era: still distinct (the promise holds up to 1000 steps). */
static void test_unique_across_many_steps(void **state)
{
	(void)state;
	enum { STEPS = 50, PER_STEP = 200 };
	static int64_t all[STEPS * PER_STEP];
	size_t n = 0;

	for (int step = 0; step < STEPS; step++) {
		/* back and forth over the same ten milliseconds of wall time */
		clock_set_source(
		    &(struct clock_source){.wall_offset_ns = -(step % 2) * 10000000LL});
		for (int i = 0; i < PER_STEP; i++)
			all[n++] = clock_unique_ns();
	}
	assert_all_distinct(all, n);
}

struct stamper {
	pthread_t thread;
	int64_t stamps[STAMPS];
};

static void *stamper_main(void *arg)
{
	struct stamper *s = arg;

	for (int i = 0; i < STAMPS; i++)
		s->stamps[i] = clock_unique_ns();
	return NULL;
}

static void test_unique_across_threads(void **state)
{
	(void)state;
	enum { THREADS = 4 };
	static struct stamper st[THREADS];
	static int64_t all[THREADS * STAMPS];
	size_t n = 0;

	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&st[i].thread, NULL, stamper_main, &st[i]), 0);
	/* a step back while they stamp */
	clock_set_source(&(struct clock_source){.wall_offset_ns = -HOUR_NS});
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(st[i].thread, NULL), 0);
		for (int k = 0; k < STAMPS; k++)
			all[n++] = st[i].stamps[k];
	}
	assert_all_distinct(all, n);
}

/* A timed wait on clock_cond_init()'s condition variable ends after the
 * time asked, measured on the monotonic clock. */
static void test_cond_deadline(void **state)
{
	(void)state;
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond;
	struct timespec until;
	int64_t start, waited;
	int rc;

	assert_int_equal(clock_cond_init(&cond), 0);
	/* the test offset does not shorten a real wait */
	clock_set_source(&(struct clock_source){.mono_offset_ns = HOUR_NS});
	start = clock_mono_ns();
	until = clock_deadline_ns(20 * 1000000LL);
	assert_true(until.tv_nsec >= 0 && until.tv_nsec < NS_PER_S);
	pthread_mutex_lock(&lock);
	do
		rc = pthread_cond_timedwait(&cond, &lock, &until);
	while (rc == 0);
	pthread_mutex_unlock(&lock);
	waited = clock_mono_ns() - start;
	assert_int_equal(rc, ETIMEDOUT);
	assert_true(waited >= 20 * 1000000LL);
	assert_true(waited < 5 * NS_PER_S);
	pthread_cond_destroy(&cond);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_mono_is_monotonic, reset_source),
	    cmocka_unit_test_teardown(test_source_shifts_each_clock, reset_source),
	    cmocka_unit_test_teardown(test_unique_increases_and_follows_the_wall_clock,
				      reset_source),
	    cmocka_unit_test_teardown(test_unique_after_the_wall_clock_steps_back, reset_source),
	    cmocka_unit_test_teardown(test_unique_across_many_steps, reset_source),
	    cmocka_unit_test_teardown(test_unique_across_threads, reset_source),
	    cmocka_unit_test_teardown(test_cond_deadline, reset_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
