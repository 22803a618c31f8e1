/* test_ingest.c -- unit tests: the ingest door (edge/ingest/ingest.c) over a real buffer: the
 * ownership rule, the count in flight, the stop. */
#include "test_storage_util.h"

#include <cJSON.h>

#include "ingest.h"
#include "readings.h"

/* What the done callbacks saw. */
struct seen {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls;
	int result;
	size_t points;
	struct ingest *settle; /* settled in the callback when set */
};

static void seen_init(struct seen *w, struct ingest *settle)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->settle = settle;
}

static void seen_destroy(struct seen *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

static void on_done(void *arg, int result, size_t points, const char *refused)
{
	assert_null(refused);
	struct seen *w = arg;
	struct ingest *settle = w->settle;

	pthread_mutex_lock(&w->lock);
	w->calls++;
	w->result = result;
	w->points += points;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	if (settle)
		ingest_settle(settle);
}

static int seen_wait(struct seen *w, int calls)
{
	struct timespec until;
	int got;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&w->lock);
	while (w->calls < calls && pthread_cond_timedwait(&w->cond, &w->lock, &until) == 0)
		;
	got = w->calls;
	pthread_mutex_unlock(&w->lock);
	return got;
}

static void test_accepted_and_refused(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 3);
	struct ingest *in = NULL;
	struct seen w;
	char *text;

	assert_int_equal(ingest_create(s, "test", &in), 0);
	seen_init(&w, in);
	assert_int_equal(ingest_max_points(in), 3);
	/* Accepted: the text is storage's, done runs once with the count. */
	assert_int_equal(ingest_submit(in, dup_text("a v=1 1\nb v=2 2\n"), 16, 2, on_done, &w),
			 STORAGE_OK);
	assert_int_equal(seen_wait(&w, 1), 1);
	assert_int_equal(w.result, STORAGE_OK);
	assert_int_equal(w.points, 2);
	/* Refused: the caller still owns the text (freed here: ASan would see
	 * a double free), and no callback runs. */
	text = dup_text("c v=1 3\nd v=1 4\n");
	assert_int_equal(ingest_submit(in, text, 16, 3, on_done, &w), STORAGE_ERR_INVALID);
	free(text);
	text = dup_text("a 1\nb 2\nc 3\nd 4\n");
	assert_int_equal(ingest_submit(in, text, 16, 4, on_done, &w), STORAGE_ERR_INVALID);
	free(text);
	ingest_stop(in); /* nothing in flight: returns at once */
	/* Stopped: refused as closed, the text still the caller's. */
	text = dup_text("e v=1 5\n");
	assert_int_equal(ingest_submit(in, text, 8, 1, on_done, &w), STORAGE_ERR_CLOSED);
	free(text);
	assert_int_equal(w.calls, 1);
	ingest_destroy(in);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 2);
	storage_close(s);
	seen_destroy(&w);
}

struct stopper {
	struct ingest *in;
	atomic_int done;
};

static void *stop_thread(void *arg)
{
	struct stopper *st = arg;

	ingest_stop(st->in);
	atomic_store(&st->done, 1);
	return NULL;
}

/* ingest_stop() waits for the producer's settle, not for the commit alone. */
static void test_stop_waits_for_settle(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	struct stopper st = {0};
	struct ingest *in = NULL;
	struct seen w;
	pthread_t t;

	assert_int_equal(ingest_create(s, "test", &in), 0);
	assert_int_equal(ingest_max_points(in), STORAGE_QUEUE_POINTS_DEFAULT);
	seen_init(&w, NULL); /* settled below, as HTTP does once it answered */
	assert_int_equal(ingest_submit(in, dup_text("a v=1 1\n"), 8, 1, on_done, &w), STORAGE_OK);
	assert_int_equal(seen_wait(&w, 1), 1);
	st.in = in;
	assert_int_equal(pthread_create(&t, NULL, stop_thread, &st), 0);
	nanosleep(&(struct timespec){0, 200000000}, NULL);
	assert_int_equal(atomic_load(&st.done), 0);
	ingest_settle(in);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&st.done), 1);
	ingest_destroy(in);
	ingest_destroy(NULL);
	storage_close(s);
	seen_destroy(&w);
}

/* A failed commit reaches done with its result and its points. */
static void test_failed_commit(void **state)
{
	struct fixture *f = *state;
	struct storage_options o = {.path = f->path,
				    .durability = STORAGE_DURABILITY_FULL,
				    .max_size = 1,
				    .full_policy = STORAGE_FULL_REJECT_NEW};
	struct storage *s = NULL;
	struct ingest *in = NULL;
	struct seen w;

	assert_int_equal(storage_open(&o, &s), STORAGE_OK);
	assert_int_equal(ingest_create(s, "test", &in), 0);
	seen_init(&w, in);
	assert_int_equal(ingest_submit(in, dup_text("a v=1 1\nb v=1 2\n"), 16, 2, on_done, &w),
			 STORAGE_OK);
	assert_int_equal(seen_wait(&w, 1), 1);
	assert_int_equal(w.result, STORAGE_ERR_FULL);
	assert_int_equal(w.points, 2);
	ingest_stop(in);
	ingest_destroy(in);
	storage_close(s);
	seen_destroy(&w);
}

/* The points GET /readings counts as shown. */
static int readings_points(struct readings *r)
{
	cJSON *d = readings_json(r, 1000000);
	int n;

	assert_non_null(d);
	n = cJSON_GetObjectItemCaseSensitive(d, "points")->valueint;
	cJSON_Delete(d);
	return n;
}

/* Only committed points reach the readings window: not a refused hand-off,
 * not one whose commit failed. */
static void test_readings_committed_only(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 3);
	struct storage_options full = {.path = NULL,
				       .durability = STORAGE_DURABILITY_FULL,
				       .max_size = 1,
				       .full_policy = STORAGE_FULL_REJECT_NEW};
	struct storage *s_full = NULL;
	struct readings *r = NULL;
	struct ingest *in = NULL, *in_full = NULL;
	char path_full[600];
	struct seen w, w_full;
	char *text;

	assert_int_equal(readings_create(&r), 0);
	ingest_set_readings(r);
	assert_int_equal(ingest_create(s, "test", &in), 0);
	seen_init(&w, in);
	assert_int_equal(ingest_submit(in, dup_text("a v=1 1\nb v=2 2\n"), 16, 2, on_done, &w),
			 STORAGE_OK);
	assert_int_equal(seen_wait(&w, 1), 1);
	assert_int_equal(readings_points(r), 2);
	text = dup_text("a 1\nb 2\nc 3\nd 4\n");
	assert_int_equal(ingest_submit(in, text, 16, 4, on_done, &w), STORAGE_ERR_INVALID);
	free(text);
	assert_int_equal(readings_points(r), 2);
	/* A buffer that refuses every commit: done runs with STORAGE_ERR_FULL. */
	snprintf(path_full, sizeof(path_full), "%s-full", f->path);
	full.path = path_full;
	assert_int_equal(storage_open(&full, &s_full), STORAGE_OK);
	assert_int_equal(ingest_create(s_full, "test", &in_full), 0);
	seen_init(&w_full, in_full);
	assert_int_equal(ingest_submit(in_full, dup_text("c v=1 1\n"), 8, 1, on_done, &w_full),
			 STORAGE_OK);
	assert_int_equal(seen_wait(&w_full, 1), 1);
	assert_int_equal(w_full.result, STORAGE_ERR_FULL);
	assert_int_equal(readings_points(r), 2);
	ingest_stop(in_full);
	ingest_destroy(in_full);
	storage_close(s_full);
	ingest_stop(in);
	ingest_destroy(in);
	storage_close(s);
	ingest_set_readings(NULL);
	readings_destroy(r);
	seen_destroy(&w);
	seen_destroy(&w_full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_accepted_and_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_waits_for_settle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readings_committed_only, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
