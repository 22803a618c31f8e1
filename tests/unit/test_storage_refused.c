/* test_storage_refused.c -- unit tests of the `refused` table: rows, cuts, view, bound, rate
 * bound, and the migration of a v3 file made by the release before it. */
#include "test_storage_util.h"

#ifndef TEST_DATA_DIR
#error "TEST_DATA_DIR must name tests/unit/data"
#endif

/* Wait (at most 10 s) until `refused` holds n rows as storage counts them. */
static void wait_kept(struct storage *s, uint64_t n)
{
	struct storage_stats st;

	for (int i = 0; i < 1000; i++) {
		storage_get_stats(s, &st);
		if (st.refused_kept >= n)
			break;
		usleep(10000);
	}
	storage_get_stats(s, &st);
	assert_int_equal(st.refused_kept, n);
}

static int refuse(struct storage *s, const char *topic, const char *reason, const void *payload,
		  size_t len, int is_text)
{
	struct storage_refusal r = {
	    .source = "mqtt.lan",
	    .topic = topic,
	    .topic_len = topic ? strlen(topic) : 0,
	    .topic_is_text = 1,
	    .reason = reason,
	    .payload = payload,
	    .payload_len = len,
	    .payload_is_text = is_text,
	    .full_len = len,
	};

	return storage_refused(s, &r);
}

static void test_row_exact(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	char text[256];

	assert_int_equal(
	    refuse(s, "zigbee2mqtt/kitchen", "invalid JSON at byte 1", "{\"t\":", 5, 1),
	    STORAGE_OK);
	assert_int_equal(refuse(s, "sensors/bin", "not UTF-8", "\xff\x00\x01", 3, 0), STORAGE_OK);
	/* points in the same commits are not touched */
	assert_int_equal(append_wait(s, "m v=1 1\n"), STORAGE_OK);
	wait_kept(s, 2);
	storage_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM refused"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 1);
	sql_text(f->path,
		 "SELECT source || '|' || topic || '|' || reason || '|' || payload || '|' ||"
		 " payload_len || '|' || typeof(payload) FROM refused ORDER BY id LIMIT 1",
		 text, sizeof(text));
	assert_string_equal(text,
			    "mqtt.lan|zigbee2mqtt/kitchen|invalid JSON at byte 1|{\"t\":|5|text");
	sql_text(f->path,
		 "SELECT topic || '|' || payload || '|' || payload_len FROM refused_readable"
		 " ORDER BY id DESC LIMIT 1",
		 text, sizeof(text));
	assert_string_equal(text, "sensors/bin|x'FF0001'|3");
	sql_text(f->path, "SELECT refused_utc FROM refused_readable LIMIT 1", text, sizeof(text));
	assert_int_equal(strlen(text), 24); /* 2026-12-07T01:20:07.275Z */
	assert_int_equal(text[23], 'Z');
}

static void test_cut(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	size_t n = STORAGE_REFUSED_PAYLOAD_MAX + 1000;
	char *big = malloc(n + 1);
	struct storage_refusal r = {.source = "mqtt.x", .reason = "too big"};

	assert_non_null(big);
	memset(big, 'a', n);
	/* a 2-byte character across the cut: it goes whole */
	big[STORAGE_REFUSED_PAYLOAD_MAX - 1] = '\xc3';
	big[STORAGE_REFUSED_PAYLOAD_MAX] = '\xa9';
	r.payload = big;
	r.payload_len = n;
	r.payload_is_text = 1;
	r.full_len = 1000000;
	assert_int_equal(storage_refused(s, &r), STORAGE_OK);
	wait_kept(s, 1);
	storage_close(s);
	free(big);
	assert_int_equal(sql_int(f->path, "SELECT length(CAST(payload AS BLOB)) FROM refused"),
			 STORAGE_REFUSED_PAYLOAD_MAX - 1);
	assert_int_equal(sql_int(f->path, "SELECT payload_len FROM refused"), 1000000);
	assert_int_equal(sql_int(f->path, "SELECT topic IS NULL FROM refused"), 1);
}

/* The table keeps the newest STORAGE_REFUSED_KEEP rows. */
static void test_bound(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	sqlite3 *db;
	char text[64];

	storage_close(s);
	/* a full table, as a long flood leaves it (the rate bound makes one slow) */
	db = plain_open(f->path);
	plain_exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
		       " WHERE i < 1000) INSERT INTO refused (id, refused_ns, source, topic,"
		       " reason, payload, payload_len) SELECT i, 1, 'mqtt.old', 't', 'old', 'x',"
		       " 1 FROM n");
	sqlite3_close(db);
	s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(refuse(s, "new", "new", "y", 1, 1), STORAGE_OK);
	wait_kept(s, 5);
	storage_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM refused"), STORAGE_REFUSED_KEEP);
	assert_int_equal(sql_int(f->path, "SELECT min(id) FROM refused"), 6);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM refused WHERE reason = 'new'"), 5);
	sql_text(f->path, "SELECT source FROM refused ORDER BY id DESC LIMIT 1", text,
		 sizeof(text));
	assert_string_equal(text, "mqtt.lan");
}

/* A flood: STORAGE_REFUSED_BURST rows at once, the rest only counted. */
static void test_rate_bound(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	struct storage_stats st;
	int ok = 0, busy = 0;

	for (int i = 0; i < 3 * STORAGE_REFUSED_BURST; i++) {
		int r = refuse(s, "flood", "garbage", "zz", 2, 1);

		if (r == STORAGE_OK)
			ok++;
		else if (r == STORAGE_ERR_BUSY)
			busy++;
	}
	/* one more may have come back if the loop took over a second */
	assert_true(ok >= STORAGE_REFUSED_BURST && ok <= STORAGE_REFUSED_BURST + 2);
	assert_int_equal(ok + busy, 3 * STORAGE_REFUSED_BURST);
	wait_kept(s, (uint64_t)ok);
	storage_get_stats(s, &st);
	assert_int_equal(st.refused_lost, busy);
	storage_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM refused"), ok);
	assert_int_equal(refuse(NULL, "t", "r", "p", 1, 1), STORAGE_ERR_INVALID);
}

static void copy_file(const char *from, const char *to)
{
	size_t len = 0;
	char *data = read_all(from, &len);
	FILE *fp = fopen(to, "wb");

	assert_non_null(data);
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	free(data);
}

/* tests/unit/data/buffer-v3.db was made by the code of main 5562d5a (schema
 * v3): points b and c waiting, a rejected for target "default". */
static void test_migrate_v3_file(void **state)
{
	struct fixture *f = *state;
	struct storage_batch b = {0};
	struct storage_stats st;
	struct storage *s;
	char text[128];

	copy_file(TEST_DATA_DIR "/buffer-v3.db", f->path);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 3);
	s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 2);
	assert_int_equal(st.quarantined, 0);
	assert_int_equal(storage_read_batch(s, 10, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 2);
	assert_memory_equal(b.text, "b v=2i 2\nc v=3i 3\n", 18);
	assert_int_equal(b.ids[0], 2);
	storage_batch_free(&b);
	assert_int_equal(refuse(s, "t/1", "bad", "p", 1, 1), STORAGE_OK);
	wait_kept(s, 1);
	storage_close(s);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 4);
	sql_text(f->path, "SELECT reason || '|' || line || '|' || target FROM rejected_readable",
		 text, sizeof(text));
	assert_string_equal(text, "field type conflict|a v=1i 1|default");
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM refused_readable"), 1);
	assert_int_equal(sql_int(f->path, "SELECT points FROM summary"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_row_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_v3_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
