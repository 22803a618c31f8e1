/* test_log.c -- the log module's helpers: level names, and the rate limit of repeated messages
 * on the monotonic clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "log.h"

#include <pthread.h>

#define MS_NS 1000000LL

static int reset_source(void **state)
{
	(void)state;
	clock_set_source(NULL);
	return 0;
}

static int64_t mono_offset, wall_offset;

/* Move the monotonic clock `ms` on from where the test source has it. */
static void advance_ms(int64_t ms)
{
	mono_offset += ms * MS_NS;
	clock_set_source(
	    &(struct clock_source){.mono_offset_ns = mono_offset, .wall_offset_ns = wall_offset});
}

/* Set the wall clock `ns` away from the real one. */
static void set_wall(int64_t ns)
{
	wall_offset = ns;
	advance_ms(0);
}

static void test_level_names(void **state)
{
	(void)state;
	enum log_level level;

	assert_string_equal(log_level_name(LOG_LEVEL_DEBUG), "debug");
	assert_string_equal(log_level_name(LOG_LEVEL_INFO), "info");
	assert_string_equal(log_level_name(LOG_LEVEL_WARN), "warn");
	assert_string_equal(log_level_name(LOG_LEVEL_ERROR), "error");
	assert_string_equal(log_level_name(4), "?");
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(log_level_parse(log_level_name(i), &level), 0);
		assert_int_equal(level, i);
	}
	assert_int_equal(log_level_parse("verbose", &level), -1);
}

static void test_limit_first_then_once_per_interval(void **state)
{
	(void)state;
	struct log_limit l = {0};

	advance_ms(0);
	/* nothing happened: nothing to say */
	assert_int_equal(log_limit(&l, 10000, 0), 0);
	/* the first event gets its line at once */
	assert_int_equal(log_limit(&l, 10000, 1), 1);
	/* then 3 events in the interval wait */
	assert_int_equal(log_limit(&l, 10000, 1), 0);
	advance_ms(5000);
	assert_int_equal(log_limit(&l, 10000, 2), 0);
	advance_ms(4999);
	assert_int_equal(log_limit(&l, 10000, 0), 0);
	/* once it passed, the next line reports them, these included */
	advance_ms(1);
	assert_int_equal(log_limit(&l, 10000, 5), 8);
	assert_int_equal(log_limit(&l, 10000, 1), 0);
	/* events that wait are reported by a later call with none */
	advance_ms(10000);
	assert_int_equal(log_limit(&l, 10000, 0), 1);
	assert_int_equal(log_limit(&l, 10000, 0), 0);
}

static void test_limit_ignores_the_wall_clock(void **state)
{
	(void)state;
	struct log_limit l = {0};

	advance_ms(0);
	assert_int_equal(log_limit(&l, 10000, 1), 1);
	/* the wall clock jumps an hour on, a second passes: not yet */
	set_wall(3600 * 1000 * MS_NS);
	advance_ms(1000);
	assert_int_equal(log_limit(&l, 10000, 1), 0);
	/* it steps back two hours, 9 s more pass: the next line is due */
	set_wall(-3600 * 1000 * MS_NS);
	advance_ms(9000);
	assert_int_equal(log_limit(&l, 10000, 1), 2);
	set_wall(0);
}

static void test_limit_restart_and_reset(void **state)
{
	(void)state;
	struct log_limit l = {0};

	advance_ms(0);
	/* a line written without asking starts the interval */
	log_limit_restart(&l);
	assert_int_equal(log_limit(&l, 60000, 1), 0);
	advance_ms(60000);
	assert_int_equal(log_limit(&l, 60000, 1), 2);
	/* the problem went away: the next one is logged at once */
	assert_int_equal(log_limit(&l, 60000, 1), 0);
	log_limit_reset(&l);
	assert_int_equal(log_limit(&l, 60000, 1), 2);
}

struct racer {
	pthread_t thread;
	struct log_limit *l;
	uint64_t reported;
	int lines;
};

static void *racer_main(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < 10000; i++) {
		uint64_t n = log_limit(r->l, 3600 * 1000, 1);

		r->reported += n;
		r->lines += n > 0;
	}
	return NULL;
}

/* Threads racing for the line: one line, and no event counted twice. */
static void test_limit_across_threads(void **state)
{
	(void)state;
	enum { THREADS = 4 };
	struct log_limit l = {0};
	struct racer r[THREADS];
	uint64_t reported = 0;
	int lines = 0;

	advance_ms(0);
	for (int i = 0; i < THREADS; i++) {
		r[i] = (struct racer){.l = &l};
		assert_int_equal(pthread_create(&r[i].thread, NULL, racer_main, &r[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(r[i].thread, NULL), 0);
		reported += r[i].reported;
		lines += r[i].lines;
	}
	assert_int_equal(lines, 1);
	advance_ms(3600 * 1000);
	reported += log_limit(&l, 3600 * 1000, 0);
	assert_int_equal(reported, THREADS * 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_level_names),
	    cmocka_unit_test(test_limit_first_then_once_per_interval),
	    cmocka_unit_test(test_limit_ignores_the_wall_clock),
	    cmocka_unit_test(test_limit_restart_and_reset),
	    cmocka_unit_test(test_limit_across_threads),
	};
	int failed = cmocka_run_group_tests(tests, NULL, reset_source);

	return failed;
}
