/* test_storage_wait.c -- unit tests of storage_wait/storage_wake: the reader sleeps until points
 * commit, a timeout, a wake or close. */
#include "test_storage_util.h"

/* Long enough that a wait ending by its timeout cannot pass for a wake-up. */
#define LONG_MS 30000

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* One storage_wait() on its own thread. */
struct waiter {
	struct storage *s;
	uint64_t points, bytes, seen;
	int timeout_ms;
	pthread_t thread;
	atomic_int returned; /* 1 once storage_wait returned */
	int result;
	int64_t elapsed_ms;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	int64_t t0 = mono_ms();

	w->result = storage_wait(w->s, w->points, w->bytes, w->seen, w->timeout_ms);
	w->elapsed_ms = mono_ms() - t0;
	atomic_store(&w->returned, 1);
	return NULL;
}

static void waiter_start(struct waiter *w, struct storage *s, uint64_t points, uint64_t bytes,
			 int timeout_ms)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->points = points;
	w->bytes = bytes;
	w->seen = storage_wake_seq(s);
	w->timeout_ms = timeout_ms;
	assert_int_equal(pthread_create(&w->thread, NULL, waiter_main, w), 0);
	sleep_ms(100); /* let it fall asleep (were it not yet, it returns all the same) */
}

static void waiter_join(struct waiter *w)
{
	assert_int_equal(pthread_join(w->thread, NULL), 0);
}

/* An append from another thread ends the wait of the reader, long before its timeout. */
static void test_wait_woken_by_append(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	struct storage_stats st;
	struct waiter w;

	waiter_start(&w, s, 1, UINT64_MAX, LONG_MS);
	assert_int_equal(atomic_load(&w.returned), 0);
	assert_int_equal(append_wait(s, "m v=1 1\n"), STORAGE_OK);
	waiter_join(&w);
	assert_int_equal(w.result, STORAGE_OK);
	assert_true(w.elapsed_ms < LONG_MS / 2);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 1);
	/* the point it was woken for is readable */
	{
		struct storage_batch b = {0};

		assert_int_equal(storage_read_batch(s, 10, 1 << 20, &b), STORAGE_OK);
		assert_int_equal(b.count, 1);
		storage_batch_free(&b);
	}
	/* a bound already reached: no sleep at all */
	assert_int_equal(storage_wait(s, 1, UINT64_MAX, storage_wake_seq(s), LONG_MS), STORAGE_OK);
	storage_close(s);
}

/* A commit below the bound leaves the reader asleep; the one that reaches it ends the wait.
 * The byte bound works the same way. */
static void test_wait_bounds(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	struct waiter w;

	waiter_start(&w, s, 3, UINT64_MAX, LONG_MS);
	assert_int_equal(append_wait(s, "m v=1 1\n"), STORAGE_OK);
	sleep_ms(200);
	assert_int_equal(atomic_load(&w.returned), 0);
	assert_int_equal(append_wait(s, "m v=2 2\nm v=3 3\n"), STORAGE_OK);
	waiter_join(&w);
	assert_int_equal(w.result, STORAGE_OK);
	assert_true(w.elapsed_ms < LONG_MS / 2);

	/* 21 line bytes now ("m v=1 1" and two more, without their '\n'): wake at 30 */
	waiter_start(&w, s, UINT64_MAX, 30, LONG_MS);
	assert_int_equal(append_wait(s, "m v=4 4\n"), STORAGE_OK);
	sleep_ms(200);
	assert_int_equal(atomic_load(&w.returned), 0);
	assert_int_equal(append_wait(s, "m v=5 5\n"), STORAGE_OK);
	waiter_join(&w);
	assert_int_equal(w.result, STORAGE_OK);
	assert_true(w.elapsed_ms < LONG_MS / 2);
	storage_close(s);
}

/* Nothing commits: the wait returns after its timeout, not before. */
static void test_wait_timeout(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	struct storage_stats st;
	int64_t t0 = mono_ms(), elapsed;

	assert_int_equal(storage_wait(s, 1, 1, storage_wake_seq(s), 300), STORAGE_OK);
	elapsed = mono_ms() - t0;
	assert_true(elapsed >= 300);
	assert_true(elapsed < LONG_MS);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 0);
	t0 = mono_ms();
	assert_int_equal(storage_wait(s, 1, 1, storage_wake_seq(s), 0), STORAGE_OK);
	assert_true(mono_ms() - t0 < LONG_MS / 2);
	storage_close(s);
}

/* storage_wake ends a wait without a timeout, and one whose `seen` predates it. */
static void test_wait_woken_by_wake(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	struct waiter w;
	uint64_t seen;

	waiter_start(&w, s, 1, UINT64_MAX, -1);
	assert_int_equal(atomic_load(&w.returned), 0);
	/* a second reader is refused, the first sleeps on */
	assert_int_equal(storage_wait(s, 1, 1, storage_wake_seq(s), LONG_MS), STORAGE_ERR_INVALID);
	assert_int_equal(atomic_load(&w.returned), 0);
	storage_wake(s);
	waiter_join(&w);
	assert_int_equal(w.result, STORAGE_OK);

	/* the wake came between the reader's look and its wait: not lost */
	seen = storage_wake_seq(s);
	storage_wake(s);
	assert_int_equal(storage_wait(s, 1, 1, seen, -1), STORAGE_OK);
	storage_close(s);
}

/* storage_close ends a wait without a timeout (STORAGE_ERR_CLOSED) and waits for it. */
static void test_wait_woken_by_close(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	struct waiter w;

	waiter_start(&w, s, 1, UINT64_MAX, -1);
	assert_int_equal(atomic_load(&w.returned), 0);
	storage_close(s);
	waiter_join(&w);
	assert_int_equal(w.result, STORAGE_ERR_CLOSED);
	assert_int_equal(storage_wait(NULL, 1, 1, 0, 0), STORAGE_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_wait_woken_by_append, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_woken_by_wake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_woken_by_close, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
