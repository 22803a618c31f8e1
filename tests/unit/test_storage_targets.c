/* test_storage_targets.c -- several delivery targets in one buffer: positions, deletion, rejects,
 * removed and new targets, the v2 migration, bounds. */
#include "test_storage_util.h"

static const char *const two[] = {"influx", "vm"};

static struct storage *open_targets(const char *path, const char *const *names, size_t n,
				    uint64_t max_size)
{
	struct storage_options o = {.path = path,
				    .durability = STORAGE_DURABILITY_NORMAL,
				    .max_size = max_size,
				    .full_policy = STORAGE_FULL_DROP_OLDEST,
				    .targets = names,
				    .target_count = n};
	struct storage *s = NULL;

	assert_int_equal(storage_open(&o, &s), STORAGE_OK);
	return s;
}

/* Append `n` points "m v=I I\n" numbered from `first`. */
static void append_points(struct storage *s, int first, int n)
{
	for (int i = first; i < first + n; i++) {
		char line[64];

		snprintf(line, sizeof(line), "m v=%di %d\n", i, i);
		assert_int_equal(append_wait(s, line), STORAGE_OK);
	}
}

static void target_stats(struct storage *s, const char *name, struct storage_target_stats *st)
{
	struct storage_target *t = storage_target_find(s, name);

	assert_non_null(t);
	storage_target_get_stats(t, st);
	assert_string_equal(st->name, name);
}

static void test_each_target_reads_all_and_delete_waits_for_both(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_targets(f->path, two, 2, 0);
	struct storage_target *a = storage_target_find(s, "influx");
	struct storage_target *b = storage_target_find(s, "vm");
	struct storage_target_stats ta, tb;
	struct storage_stats st;
	struct storage_batch ba = {0}, bb = {0};

	assert_int_equal(storage_target_count(s), 2);
	assert_ptr_equal(storage_target_at(s, 0), a);
	assert_null(storage_target_find(s, "nope"));
	append_points(s, 1, 10);
	assert_int_equal(storage_target_read_batch(a, 100, 1 << 20, &ba), STORAGE_OK);
	assert_int_equal(storage_target_read_batch(b, 100, 1 << 20, &bb), STORAGE_OK);
	assert_int_equal(ba.count, 10);
	assert_int_equal(bb.count, 10);
	/* influx takes 6: nothing is deleted, vm still needs them */
	assert_int_equal(storage_target_ack(a, ba.ids[5]), STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 10);
	assert_int_equal(st.acked_total, 0);
	target_stats(s, "influx", &ta);
	target_stats(s, "vm", &tb);
	assert_int_equal(ta.points, 4);
	assert_int_equal(ta.acked_total, 6);
	assert_int_equal(ta.acked_id, ba.ids[5]);
	assert_int_equal(tb.points, 10);
	assert_true(tb.oldest_received_ns > 0);
	assert_int_equal(sql_int(f->path, "SELECT acked_id FROM targets WHERE name = 'influx'"),
			 ba.ids[5]);
	assert_int_equal(sql_int(f->path, "SELECT points FROM target_backlog WHERE name = 'vm'"),
			 10);
	/* influx reads after its position */
	assert_int_equal(storage_target_read_batch(a, 100, 1 << 20, &ba), STORAGE_OK);
	assert_int_equal(ba.count, 4);
	assert_int_equal(strncmp(ba.text, "m v=7i 7\n", 9), 0);
	/* vm takes 3: the 3 oldest go */
	assert_int_equal(storage_target_ack(b, bb.ids[2]), STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 7);
	assert_int_equal(st.acked_total, 3);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 7);
	/* both take everything: the buffer is empty */
	assert_int_equal(storage_target_ack(a, ba.last_id), STORAGE_OK);
	assert_int_equal(storage_target_ack(b, bb.last_id), STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 0);
	target_stats(s, "vm", &tb);
	assert_int_equal(tb.points, 0);
	assert_int_equal(tb.oldest_received_ns, 0);
	/* an ack past the newest point does not skip the next ones */
	assert_int_equal(storage_target_ack(a, 1000000), STORAGE_OK);
	append_points(s, 11, 1);
	assert_int_equal(storage_target_read_batch(a, 100, 1 << 20, &ba), STORAGE_OK);
	assert_int_equal(ba.count, 1);
	storage_batch_free(&ba);
	storage_batch_free(&bb);
	storage_close(s);
	/* positions survive a restart: ids are not reused below them */
	s = open_targets(f->path, two, 2, 0);
	target_stats(s, "influx", &ta);
	assert_int_equal(ta.points, 1);
	append_points(s, 12, 1);
	target_stats(s, "influx", &ta);
	assert_int_equal(ta.points, 2);
	storage_close(s);
}

static void test_reject_per_target(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_targets(f->path, two, 2, 0);
	struct storage_target *a = storage_target_find(s, "influx");
	struct storage_target *b = storage_target_find(s, "vm");
	struct storage_target_stats ta;
	struct storage_stats st;
	struct storage_batch ba = {0}, bb = {0};
	int64_t id;

	append_points(s, 1, 3);
	assert_int_equal(storage_target_read_batch(a, 100, 1 << 20, &ba), STORAGE_OK);
	id = ba.ids[1];
	/* influx refuses point 2: it stays for vm, influx no longer reads it */
	assert_int_equal(storage_target_reject(a, &id, 1, "HTTP 400: field type conflict"),
			 STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 3);
	assert_int_equal(st.rejected_total, 0);
	target_stats(s, "influx", &ta);
	assert_int_equal(ta.points, 2);
	assert_int_equal(ta.rejected_total, 1);
	assert_int_equal(storage_target_read_batch(a, 100, 1 << 20, &ba), STORAGE_OK);
	assert_int_equal(ba.count, 2);
	assert_int_equal(storage_target_read_batch(b, 100, 1 << 20, &bb), STORAGE_OK);
	assert_int_equal(bb.count, 3);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM rejected WHERE target = 'influx'"),
			 1);
	assert_int_equal(sql_int(f->path, "SELECT rejected FROM target_backlog WHERE name = "
					  "'influx'"),
			 1);
	/* influx takes the rest: its backlog is empty, not negative */
	assert_int_equal(storage_target_ack(a, ba.last_id), STORAGE_OK);
	target_stats(s, "influx", &ta);
	assert_int_equal(ta.points, 0);
	assert_int_equal(ta.acked_total, 2);
	/* vm refuses it too once influx is past it: now it leaves the buffer */
	assert_int_equal(storage_target_reject(b, &id, 1, "HTTP 400: bad"), STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 2);
	assert_int_equal(st.rejected_total, 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM rejected"), 2);
	assert_int_equal(storage_target_ack(b, bb.last_id), STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 0);
	storage_batch_free(&ba);
	storage_batch_free(&bb);
	storage_close(s);
}

static void test_removed_target_releases_new_target_starts_oldest(void **state)
{
	struct fixture *f = *state;
	static const char *const only_influx[] = {"influx"};
	static const char *const influx_new[] = {"influx", "new"};
	struct storage *s = open_targets(f->path, two, 2, 0);
	struct storage_target_stats ta;
	struct storage_stats st;
	struct storage_batch b = {0};

	append_points(s, 1, 5);
	assert_int_equal(
	    storage_target_read_batch(storage_target_find(s, "influx"), 100, 1 << 20, &b),
	    STORAGE_OK);
	assert_int_equal(storage_target_ack(storage_target_find(s, "influx"), b.ids[3]),
			 STORAGE_OK);
	storage_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 5); /* vm holds them */
	/* vm leaves the configuration: what influx has goes at once */
	s = open_targets(f->path, only_influx, 1, 0);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM targets"), 1);
	storage_close(s);
	/* a new target starts at the oldest point */
	s = open_targets(f->path, influx_new, 2, 0);
	target_stats(s, "new", &ta);
	assert_int_equal(ta.points, 1);
	assert_int_equal(ta.acked_id, 0);
	target_stats(s, "influx", &ta);
	assert_int_equal(ta.points, 1); /* point 5: it took 4 of 5 */
	append_points(s, 6, 2);
	assert_int_equal(storage_target_read_batch(storage_target_find(s, "new"), 100, 1 << 20, &b),
			 STORAGE_OK);
	assert_int_equal(b.count, 3);
	assert_int_equal(strncmp(b.text, "m v=5i 5\n", 9), 0);
	storage_batch_free(&b);
	storage_close(s);
}

static void test_migrate_v2_keeps_rejected(void **state)
{
	struct fixture *f = *state;
	struct storage *s;
	struct storage_batch b = {0};
	struct storage_stats st;
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	plain_exec(db,
		   "PRAGMA journal_mode = WAL;"
		   "CREATE TABLE points (id INTEGER PRIMARY KEY, received_ns INTEGER NOT NULL,"
		   " line TEXT NOT NULL);"
		   "CREATE VIEW backlog AS SELECT id, line FROM points;"
		   "CREATE TABLE rejected (id INTEGER PRIMARY KEY, rejected_ns INTEGER NOT NULL,"
		   " reason TEXT NOT NULL, line TEXT NOT NULL);"
		   "CREATE VIEW pending AS SELECT id, line FROM points;"
		   "CREATE VIEW rejected_readable AS SELECT id, reason, line FROM rejected;"
		   "CREATE VIEW summary AS SELECT (SELECT count(*) FROM rejected) AS rejected;"
		   "PRAGMA user_version = 2;"
		   "INSERT INTO points VALUES (7, 1000000000, 'a v=1 1'), (9, 2000000000, "
		   "'b v=2 2');"
		   "INSERT INTO rejected VALUES (8, 1500000000, 'HTTP 400: x', 'bad v=\"\" 1');");
	sqlite3_close(db);
	s = open_targets(f->path, two, 2, 0);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 2);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 4);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM rejected_readable WHERE target = "
					  "'default' AND id = 8"),
			 1);
	assert_int_equal(sql_int(f->path, "SELECT rejected FROM summary"), 1);
	/* both targets get the backlog; new ids follow the old ones */
	append_points(s, 3, 1);
	assert_int_equal(storage_target_read_batch(storage_target_find(s, "vm"), 100, 1 << 20, &b),
			 STORAGE_OK);
	assert_int_equal(b.count, 3);
	assert_int_equal(b.ids[0], 7);
	assert_int_equal(b.ids[2], 10);
	storage_batch_free(&b);
	storage_close(s);
}

static void test_bound_drops_for_a_target_that_is_down(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_targets(f->path, two, 2, 1 << 20);
	struct storage_target *a = storage_target_find(s, "influx");
	struct storage_target_stats ta, tb;
	struct storage_stats st;
	struct storage_batch b = {0};
	char *text = malloc(1000 * 200 + 1);
	size_t len = 0;

	/* influx keeps up, vm is down: vm's backlog holds the buffer up to the bound */
	for (int round = 0; round < 20; round++) {
		len = 0;
		for (int i = 0; i < 1000; i++)
			len += (size_t)sprintf(text + len, "m,pad=%0100d v=%di %d\n", 0, i,
					       round * 1000 + i);
		assert_int_equal(append_wait(s, text), STORAGE_OK);
		assert_int_equal(storage_target_read_batch(a, 100000, 1 << 30, &b), STORAGE_OK);
		assert_int_equal(storage_target_ack(a, b.last_id), STORAGE_OK);
	}
	storage_get_stats(s, &st);
	target_stats(s, "influx", &ta);
	target_stats(s, "vm", &tb);
	assert_true(st.dropped_total > 0);
	assert_int_equal(ta.points, 0);
	assert_int_equal(tb.points, st.points);
	assert_int_equal(tb.points, 20000 - st.dropped_total);
	assert_int_equal(sql_int(f->path, "SELECT points FROM target_backlog WHERE name = 'vm'"),
			 (int64_t)tb.points);
	storage_batch_free(&b);
	free(text);
	storage_close(s);
}

#define CONCURRENT_POINTS 2000

/* One target's uplink stand-in: wait, read, check the order, ack, until it
 * has every point. */
struct reader_arg {
	struct storage_target *t;
	int got;      /* points read, in order */
	int in_order; /* every point was the next one */
};

static void *reader_main(void *arg)
{
	struct reader_arg *r = arg;
	struct storage_batch b = {0};

	r->in_order = 1;
	while (r->got < CONCURRENT_POINTS) {
		uint64_t seen = storage_target_wake_seq(r->t);

		if (storage_target_read_batch(r->t, 97, 1 << 20, &b) != STORAGE_OK)
			break;
		if (b.count == 0) {
			if (storage_target_wait(r->t, 1, 1, seen, 10000) != STORAGE_OK)
				break;
			continue;
		}
		for (size_t i = 0; i < b.count; i++) {
			int v = -1;

			if (sscanf(b.text + b.offsets[i], "m v=%di", &v) != 1 || v != r->got + 1)
				r->in_order = 0;
			r->got++;
		}
		if (storage_target_ack(r->t, b.last_id) != STORAGE_OK)
			break;
	}
	storage_batch_free(&b);
	return NULL;
}

/* Two uplinks reading and acking on their own threads while points arrive:
 * each gets every point once, in order; the buffer ends empty. */
static void test_two_readers_concurrently(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_targets(f->path, two, 2, 0);
	struct reader_arg r[2] = {{.t = storage_target_at(s, 0)}, {.t = storage_target_at(s, 1)}};
	pthread_t th[2];
	struct storage_stats st;

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader_main, &r[i]), 0);
	append_points(s, 1, CONCURRENT_POINTS);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(r[i].got, CONCURRENT_POINTS);
		assert_true(r[i].in_order);
	}
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 0);
	assert_int_equal(st.acked_total, CONCURRENT_POINTS);
	storage_close(s);
}

static void test_bad_target_lists(void **state)
{
	struct fixture *f = *state;
	static const char *const twice[] = {"a", "a"};
	static const char *const empty[] = {"a", ""};
	struct storage_options o = {.path = f->path,
				    .durability = STORAGE_DURABILITY_NORMAL,
				    .full_policy = STORAGE_FULL_DROP_OLDEST,
				    .targets = twice,
				    .target_count = 2};
	struct storage *s = NULL;

	assert_int_equal(storage_open(&o, &s), STORAGE_ERR_INVALID);
	assert_null(s);
	o.targets = empty;
	assert_int_equal(storage_open(&o, &s), STORAGE_ERR_INVALID);
	o.targets = two;
	o.target_count = STORAGE_MAX_TARGETS + 1;
	assert_int_equal(storage_open(&o, &s), STORAGE_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_each_target_reads_all_and_delete_waits_for_both,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reject_per_target, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_removed_target_releases_new_target_starts_oldest,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_v2_keeps_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound_drops_for_a_target_that_is_down, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_two_readers_concurrently, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_target_lists, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
