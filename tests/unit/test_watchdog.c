/* test_watchdog.c -- pings come every half period, and stop while a watched thread is stuck. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watchdog.h"

/* A fake thread: its heartbeat is whatever the test says. */
struct fake_thread {
	uint64_t beat;
	int calls;
};

static uint64_t fake_heartbeat(void *arg)
{
	struct fake_thread *t = arg;

	t->calls++;
	return t->beat;
}

static void test_off_never_pings(void **state)
{
	struct watchdog w;

	(void)state;
	watchdog_init(&w, 0);
	assert_int_equal(w.period_ms, 0);
	assert_int_equal(watchdog_due(&w, 1000), 0);
	assert_int_equal(watchdog_due(&w, 1000000), 0);
	assert_int_equal(watchdog_tick_ms(&w, 5000), 5000);
}

static void test_pings_every_half_period(void **state)
{
	struct watchdog w;

	(void)state;
	watchdog_init(&w, 4000000); /* WatchdogSec=4s */
	assert_int_equal(w.period_ms, 4000);
	assert_int_equal(watchdog_tick_ms(&w, 5000), 1000);
	assert_int_equal(watchdog_tick_ms(&w, 700), 700);
	assert_int_equal(watchdog_due(&w, 10000), 1); /* the first one at once */
	assert_int_equal(watchdog_due(&w, 10001), 0);
	assert_int_equal(watchdog_due(&w, 11999), 0);
	assert_int_equal(watchdog_due(&w, 12000), 1);
	assert_int_equal(watchdog_due(&w, 13000), 0);
	assert_int_equal(watchdog_due(&w, 14000), 1);
}

static void test_tiny_period(void **state)
{
	struct watchdog w;

	(void)state;
	watchdog_init(&w, 500); /* below 1 ms still means "on" */
	assert_int_equal(w.period_ms, 1);
	assert_int_equal(watchdog_tick_ms(&w, 5000), 1);
	assert_int_equal(watchdog_due(&w, 5), 1);
	assert_int_equal(watchdog_due(&w, 6), 1);
}

static void test_stuck_thread_stops_pings(void **state)
{
	struct fake_thread writer = {.beat = 10000}, uplink = {.beat = 10000};
	struct watchdog w;

	(void)state;
	watchdog_init(&w, 2000000);
	assert_int_equal(watchdog_add(&w, "storage writer", fake_heartbeat, &writer, 500), 0);
	assert_int_equal(watchdog_add(&w, "uplink", fake_heartbeat, &uplink, 3000), 0);
	assert_int_equal(w.n_sources, 2);

	assert_null(watchdog_stuck_source(&w, 10500)); /* exactly max_age: still fresh */
	assert_int_equal(watchdog_due(&w, 10500), 1);
	assert_int_equal(writer.calls, 2);
	assert_int_equal(uplink.calls, 2);

	/* The writer's beat stays at 10000: at 10501 it is stuck. */
	assert_string_equal(watchdog_stuck_source(&w, 10501), "storage writer");
	assert_int_equal(watchdog_due(&w, 11600), 0);
	assert_int_equal(w.stuck, 0);
	assert_int_equal(watchdog_due(&w, 20000), 0);

	/* Both move again: pings resume at once (the last ping is long past). */
	writer.beat = 19900;
	uplink.beat = 19000;
	assert_int_equal(watchdog_due(&w, 20000), 1);
	assert_int_equal(w.stuck, -1);

	/* The uplink has a longer leash: 3000 ms past its beat it is fresh. */
	writer.beat = 23900;
	assert_null(watchdog_stuck_source(&w, 22000));
	assert_string_equal(watchdog_stuck_source(&w, 22001), "uplink");
	assert_int_equal(watchdog_due(&w, 24000), 0);
	assert_int_equal(w.stuck, 1);
}

static void test_beat_from_the_future_is_fresh(void **state)
{
	struct fake_thread t = {.beat = 5001};
	struct watchdog w;

	(void)state;
	watchdog_init(&w, 1000000);
	assert_int_equal(watchdog_add(&w, "t", fake_heartbeat, &t, 1), 0);
	assert_null(watchdog_stuck_source(&w, 5000));
	assert_int_equal(watchdog_due(&w, 5000), 1);
}

static void test_add_checks_arguments(void **state)
{
	struct fake_thread t = {0};
	struct watchdog w;

	(void)state;
	watchdog_init(&w, 1000000);
	assert_int_equal(watchdog_add(&w, NULL, fake_heartbeat, &t, 1), -1);
	assert_int_equal(watchdog_add(&w, "t", NULL, &t, 1), -1);
	assert_int_equal(watchdog_add(&w, "t", fake_heartbeat, &t, 0), -1);
	assert_int_equal(w.n_sources, 0);
	for (int i = 0; i < WATCHDOG_MAX_SOURCES; i++)
		assert_int_equal(watchdog_add(&w, "t", fake_heartbeat, &t, 1), 0);
	assert_int_equal(watchdog_add(&w, "one too many", fake_heartbeat, &t, 1), -1);
	assert_int_equal(w.n_sources, WATCHDOG_MAX_SOURCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_off_never_pings),
	    cmocka_unit_test(test_pings_every_half_period),
	    cmocka_unit_test(test_tiny_period),
	    cmocka_unit_test(test_stuck_thread_stops_pings),
	    cmocka_unit_test(test_beat_from_the_future_is_fresh),
	    cmocka_unit_test(test_add_checks_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
