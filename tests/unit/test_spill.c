/* test_spill.c -- unit tests: the spill coordinator (edge/spill/spill.c) over a real buffer, with
 * fake uplinks: every target must say 2xx, a "no" or spill_after commits the whole hand-off once.
 */
#include "test_storage_util.h"

#include "ingest.h"
#include "spill.h"

/* A fake target: uplink_offer() keeps the offer until the test answers it. */
struct uplink {
	bool accept;
	int offers;
	uplink_offer_done_fn *done[8];
	void *arg[8];
};

bool uplink_can_offer(struct uplink *u)
{
	return u->accept;
}

int uplink_offer(struct uplink *u, const char *text, size_t len, size_t points,
		 uplink_offer_done_fn *done, void *arg)
{
	(void)text;
	(void)len;
	(void)points;
	if (!u->accept || u->offers == 8)
		return -1;
	u->done[u->offers] = done;
	u->arg[u->offers] = arg;
	u->offers++;
	return 0;
}

/* The target answers its offer i. */
static void answer(struct uplink *u, int i, bool delivered)
{
	assert_true(i < u->offers);
	u->done[i](u->arg[i], delivered ? UPLINK_OFFER_DELIVERED : UPLINK_OFFER_FAILED, NULL);
}

/* What the done callbacks saw. */
struct seen {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls;
	int result;
	size_t points;
	struct ingest *in;
	char refused[128]; /* the last refused text passed on ("": none) */
};

static void on_done(void *arg, int result, size_t points, const char *refused)
{
	struct seen *w = arg;
	struct ingest *in = w->in;

	pthread_mutex_lock(&w->lock);
	snprintf(w->refused, sizeof(w->refused), "%s", refused ? refused : "");
	w->calls++;
	w->result = result;
	w->points += points;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	ingest_settle(in);
}

/* Wait up to 10 s for `calls` callbacks; returns how many came. */
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

/* One test's world: a buffer, two fake targets, the coordinator, a door. */
struct world {
	struct storage *s;
	struct uplink targets[2];
	struct ingest_spill *sp;
	struct ingest *in;
	struct seen w;
};

static void world_open(struct world *x, const char *path, uint32_t spill_after_ms)
{
	struct uplink *list[2];

	memset(x, 0, sizeof(*x));
	x->s = open_ok(path, STORAGE_DURABILITY_NORMAL, 100);
	x->targets[0].accept = x->targets[1].accept = true;
	list[0] = &x->targets[0];
	list[1] = &x->targets[1];
	assert_int_equal(ingest_spill_start(x->s, list, 2, spill_after_ms, &x->sp), 0);
	ingest_spill_install(x->sp);
	assert_int_equal(ingest_create(x->s, "test", &x->in), 0);
	ingest_spill_install(NULL);
	pthread_mutex_init(&x->w.lock, NULL);
	pthread_cond_init(&x->w.cond, NULL);
	x->w.in = x->in;
}

/* Hand "a v=1 1\nb v=2 2\n" to the door. */
static void world_submit(struct world *x)
{
	assert_int_equal(
	    ingest_submit(x->in, dup_text("a v=1 1\nb v=2 2\n"), 16, 2, on_done, &x->w),
	    STORAGE_OK);
}

static uint64_t buffered(struct world *x)
{
	struct storage_stats st;

	storage_get_stats(x->s, &st);
	return st.points;
}

static void world_close(struct world *x)
{
	ingest_stop(x->in);
	ingest_destroy(x->in);
	ingest_spill_stop(x->sp);
	storage_close(x->s);
	pthread_cond_destroy(&x->w.cond);
	pthread_mutex_destroy(&x->w.lock);
}

/* Both targets say 2xx: answered OK once, after the second; nothing buffered. */
static void test_every_target_acknowledges(void **state)
{
	struct fixture *f = *state;
	struct ingest_spill_stats st;
	struct world x;

	world_open(&x, f->path, 5000);
	world_submit(&x);
	assert_int_equal(x.targets[0].offers, 1);
	assert_int_equal(x.targets[1].offers, 1);
	answer(&x.targets[0], 0, true);
	assert_int_equal(x.w.calls, 0); /* the other target has not answered */
	answer(&x.targets[1], 0, true);
	assert_int_equal(seen_wait(&x.w, 1), 1);
	assert_int_equal(x.w.result, STORAGE_OK);
	assert_int_equal(x.w.points, 2);
	ingest_spill_get_stats(x.sp, &st);
	assert_int_equal(st.points_direct, 2);
	assert_int_equal(st.points_spilled, 0);
	assert_int_equal(buffered(&x), 0);
	world_close(&x);
	assert_int_equal(x.w.calls, 1);
}

/* One target says no: the whole hand-off is committed once, answered after
 * the commit; the other target's later 2xx changes nothing. */
static void test_one_target_fails(void **state)
{
	struct fixture *f = *state;
	struct ingest_spill_stats st;
	struct world x;

	world_open(&x, f->path, 5000);
	world_submit(&x);
	answer(&x.targets[1], 0, false);
	assert_int_equal(seen_wait(&x.w, 1), 1);
	assert_int_equal(x.w.result, STORAGE_OK);
	assert_int_equal(buffered(&x), 2);
	answer(&x.targets[0], 0, true);
	ingest_spill_get_stats(x.sp, &st);
	assert_int_equal(st.points_direct, 0);
	assert_int_equal(st.points_spilled, 2);
	assert_int_equal(st.points_spill_error, 2);
	world_close(&x);
	assert_int_equal(x.w.calls, 1);
	assert_int_equal(x.w.points, 2);
}

/* No answer within spill_after: committed and answered; the late 2xx of
 * both targets answers nothing again. */
static void test_spill_after(void **state)
{
	struct fixture *f = *state;
	struct ingest_spill_stats st;
	struct world x;

	world_open(&x, f->path, 50);
	world_submit(&x);
	assert_int_equal(seen_wait(&x.w, 1), 1);
	assert_int_equal(x.w.result, STORAGE_OK);
	assert_int_equal(buffered(&x), 2);
	answer(&x.targets[0], 0, true);
	answer(&x.targets[1], 0, true);
	ingest_spill_get_stats(x.sp, &st);
	assert_int_equal(st.points_direct, 0);
	assert_int_equal(st.points_spill_late, 2);
	world_close(&x);
	assert_int_equal(x.w.calls, 1);
}

/* A target that cannot take points (a backlog, failing): the door's own
 * path, offered to nobody. */
static void test_target_cannot_offer(void **state)
{
	struct fixture *f = *state;
	struct ingest_spill_stats st;
	struct world x;

	world_open(&x, f->path, 5000);
	x.targets[1].accept = false;
	world_submit(&x);
	assert_int_equal(seen_wait(&x.w, 1), 1);
	assert_int_equal(x.w.result, STORAGE_OK);
	assert_int_equal(x.targets[0].offers, 0);
	assert_int_equal(buffered(&x), 2);
	ingest_spill_get_stats(x.sp, &st);
	assert_int_equal(st.points_spilled, 2);
	assert_int_equal(st.points_spill_late + st.points_spill_error, 0);
	world_close(&x);
}

/* A target refuses lines for good (400): committed, and InfluxDB's words
 * passed on to the producer with STORAGE_OK; the other target's 2xx first. */
static void test_refused_passed_on(void **state)
{
	struct fixture *f = *state;
	struct world x;

	world_open(&x, f->path, 5000);
	world_submit(&x);
	answer(&x.targets[0], 0, true);
	x.targets[1].done[0](x.targets[1].arg[0], UPLINK_OFFER_REFUSED, "HTTP 400: partial write");
	assert_int_equal(seen_wait(&x.w, 1), 1);
	assert_int_equal(x.w.result, STORAGE_OK);
	assert_string_equal(x.w.refused, "HTTP 400: partial write");
	assert_int_equal(buffered(&x), 2);
	world_close(&x);
	assert_int_equal(x.w.calls, 1);
}

/* The stop: ingest_stop() waits until spill_after has committed what no
 * target answered. */
static void test_stop_commits(void **state)
{
	struct fixture *f = *state;
	struct world x;

	world_open(&x, f->path, 200);
	world_submit(&x);
	ingest_stop(x.in); /* returns once the commit answered it */
	assert_int_equal(x.w.calls, 1);
	assert_int_equal(buffered(&x), 2);
	answer(&x.targets[0], 0, false);
	answer(&x.targets[1], 0, true);
	world_close(&x);
	assert_int_equal(x.w.calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_every_target_acknowledges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_target_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spill_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_target_cannot_offer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_passed_on, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_commits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
