/* test_storage_bounds.c -- unit tests of the buffer's bounds: max_size, min_free_disk, both
 * policies, rejects, shrinking. */
#include "test_storage_util.h"

#include <sys/statvfs.h>

#define MIB (1024 * 1024)

/* An append of `n` points tagged `tag`, each line `width` bytes before '\n'. */
static char *make_append(int tag, int n, int width, size_t *len)
{
	size_t size = (size_t)n * (size_t)(width + 1) + 1;
	char *text = malloc(size);
	size_t used = 0;

	assert_non_null(text);
	for (int i = 0; i < n; i++) {
		int k = snprintf(text + used, size - used, "m,t=%06d,i=%04d v=", tag, i);

		assert_true(k > 0 && k < width);
		memset(text + used + k, '7', (size_t)(width - k));
		used += (size_t)width;
		text[used++] = '\n';
	}
	text[used] = '\0';
	*len = used;
	return text;
}

/* Append and wait; returns done()'s result. */
static int append_tagged(struct storage *s, int tag, int n, int width)
{
	size_t len = 0;
	char *text = make_append(tag, n, width, &len);
	int result = append_wait(s, text);

	free(text);
	return result;
}

static off_t file_size(const char *path, const char *suffix)
{
	off_t size = 0;

	return file_exists(path, suffix, &size) ? size : 0;
}

static void test_drop_oldest_keeps_newest(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_bounded(f->path, MIB, 0, STORAGE_FULL_DROP_OLDEST);
	struct storage_stats st;
	int64_t kept, oldest_tag, max_disk = 0;
	char sql[128];

	/* 300 appends of 50 points of 100 bytes: 1.5 MB of lines into 1 MiB */
	for (int tag = 0; tag < 300; tag++) {
		int64_t disk;

		assert_int_equal(append_tagged(s, tag, 50, 100), STORAGE_OK);
		disk = file_size(f->path, "") + file_size(f->path, "-wal");
		if (disk > max_disk)
			max_disk = disk;
	}
	storage_get_stats(s, &st);
	kept = sql_int(f->path, "SELECT count(*) FROM points");
	print_message("drop_oldest: kept %lld of 15000, dropped %llu, file at most %lld bytes\n",
		      (long long)kept, (unsigned long long)st.dropped_total, (long long)max_disk);
	/* every point is counted once: kept or dropped */
	assert_int_equal(st.appended_total, 15000);
	assert_int_equal(st.points, (uint64_t)kept);
	assert_int_equal(st.dropped_total + st.points, 15000);
	assert_true(st.dropped_total > 0);
	assert_int_equal(st.bytes, (uint64_t)kept * 100);
	/* the kept ones are the newest: one contiguous run of ids ending at the last */
	assert_int_equal(sql_int(f->path, "SELECT max(id) - min(id) + 1 FROM points"), kept);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points WHERE line LIKE "
					  "'m,t=000299,i=%'"),
			 50);
	oldest_tag = (15000 - kept) / 50;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM points WHERE line < 'm,t=%06lld,'",
		 (long long)oldest_tag);
	assert_int_equal(sql_int(f->path, sql), 0);
	/* the bound holds, and most of it is used */
	assert_true(max_disk <= MIB);
	assert_true(kept * 100 > MIB / 2);
	assert_true(st.file_bytes <= MIB);
	assert_true(st.oldest_received_ns > 0);
	assert_int_equal(st.oldest_received_ns,
			 sql_int(f->path, "SELECT received_ns FROM points ORDER BY id LIMIT 1"));
	storage_close(s);
	assert_true(file_size(f->path, "") <= MIB);
}

static void test_reject_new_refuses_whole_appends(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_bounded(f->path, MIB, 0, STORAGE_FULL_REJECT_NEW);
	struct storage_batch b = {0};
	struct storage_stats st;
	int ok = 0, full = 0, first_full = -1;

	for (int tag = 0; tag < 300; tag++) {
		int r = append_tagged(s, tag, 50, 100);

		if (r == STORAGE_OK) {
			ok++;
			assert_int_equal(first_full, -1); /* nothing is accepted once full */
		} else {
			assert_int_equal(r, STORAGE_ERR_FULL);
			if (first_full < 0)
				first_full = tag;
			full++;
		}
	}
	print_message("reject_new: %d appends stored, %d refused\n", ok, full);
	assert_true(ok > 0);
	assert_true(full > 0);
	assert_int_equal(ok + full, 300);
	storage_get_stats(s, &st);
	assert_int_equal(st.appended_total, (uint64_t)ok * 50);
	assert_int_equal(st.points, (uint64_t)ok * 50);
	assert_int_equal(st.dropped_total, 0);
	/* whole appends or nothing of them */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), ok * 50);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM (SELECT substr(line, 1, 10) AS t "
					  "FROM points GROUP BY t HAVING count(*) != 50)"),
			 0);
	assert_true(file_size(f->path, "") + file_size(f->path, "-wal") <= MIB);

	/* acks still work when full, and make room again */
	assert_int_equal(storage_read_batch(s, 1000, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 1000);
	assert_int_equal(storage_ack(s, b.last_id), STORAGE_OK);
	assert_int_equal(append_tagged(s, 500, 50, 100), STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.acked_total, 1000);
	assert_int_equal(st.points, (uint64_t)ok * 50 - 1000 + 50);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), ok * 50 - 1000 + 50);
	/* an append larger than the whole bound is refused, nothing dropped */
	assert_int_equal(append_tagged(s, 501, 6000, 200), STORAGE_ERR_FULL);
	storage_batch_free(&b);
	storage_close(s);
}

static void test_drop_oldest_never_drops_for_the_impossible(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_bounded(f->path, MIB, 0, STORAGE_FULL_DROP_OLDEST);
	struct storage_stats st;

	assert_int_equal(append_tagged(s, 1, 100, 100), STORAGE_OK);
	/* 1.2 MB in one append can never fit 1 MiB: refused, the old points stay */
	assert_int_equal(append_tagged(s, 2, 6000, 200), STORAGE_ERR_FULL);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 100);
	assert_int_equal(st.dropped_total, 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 100);
	storage_close(s);
}

static void test_min_free_disk(void **state)
{
	struct fixture *f = *state;
	struct statvfs vfs;
	uint64_t avail;
	struct storage *s;
	struct storage_stats st;

	assert_int_equal(statvfs(f->dir, &vfs), 0);
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	/* the filesystem already has less free than min_free_disk asks */
	s = open_bounded(f->path, 0, avail + 64 * MIB, STORAGE_FULL_REJECT_NEW);
	assert_int_equal(append_tagged(s, 1, 10, 50), STORAGE_ERR_FULL);
	storage_close(s);
	/* with points to drop, drop_oldest still cannot gain disk space by dropping */
	s = open_bounded(f->path, 0, 0, STORAGE_FULL_DROP_OLDEST);
	assert_int_equal(append_tagged(s, 2, 10, 50), STORAGE_OK);
	storage_close(s);
	s = open_bounded(f->path, 0, avail + 64 * MIB, STORAGE_FULL_DROP_OLDEST);
	assert_int_equal(append_tagged(s, 3, 10, 50), STORAGE_ERR_FULL);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 10);
	assert_int_equal(st.dropped_total, 0);
	assert_int_equal(st.appended_total, 0);
	storage_close(s);
	/* a sane min_free_disk lets points in */
	s = open_bounded(f->path, 0, MIB, STORAGE_FULL_REJECT_NEW);
	assert_int_equal(append_tagged(s, 4, 10, 50), STORAGE_OK);
	storage_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 20);
}

static void test_reject_moves_points(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	struct storage_batch b = {0};
	struct storage_stats st;
	int64_t ids[3], before, after;
	char lines[256];

	assert_int_equal(append_wait(s, "a v=1 1\nbb v=1 2\nccc v=1 3\ndddd v=1 4\n"), STORAGE_OK);
	assert_int_equal(storage_read_batch(s, 10, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 4);
	ids[0] = b.ids[1];
	ids[1] = b.ids[3];
	ids[2] = b.last_id + 1000; /* not in the buffer: ignored */
	before = now_ns();
	assert_int_equal(storage_reject(s, ids, 3, "partial write: field type conflict"),
			 STORAGE_OK);
	after = now_ns();
	sql_lines(f->path, lines, sizeof(lines));
	assert_string_equal(lines, "a v=1 1\nccc v=1 3\n");
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM rejected"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM rejected WHERE reason = "
					  "'partial write: field type conflict'"),
			 2);
	assert_int_equal(sql_int(f->path, "SELECT min(id) FROM rejected"), ids[0]);
	assert_int_equal(sql_int(f->path, "SELECT max(id) FROM rejected"), ids[1]);
	assert_int_equal(ids[0], 2);
	assert_int_equal(ids[1], 4);
	assert_int_equal(sql_int(f->path,
				 "SELECT count(*) FROM rejected WHERE "
				 "(id, line) IN (VALUES (2, 'bb v=1 2'), (4, 'dddd v=1 4'))"),
			 2);
	assert_true(sql_int(f->path, "SELECT min(rejected_ns) FROM rejected") >= before);
	assert_true(sql_int(f->path, "SELECT max(rejected_ns) FROM rejected") <= after);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 2);
	assert_int_equal(st.bytes, 7 + 9);
	assert_int_equal(st.rejected_total, 2);
	assert_int_equal(st.acked_total, 0);
	/* again: nothing left to move */
	assert_int_equal(storage_reject(s, ids, 2, "again"), STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.rejected_total, 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM rejected WHERE reason = 'again'"),
			 0);
	/* no reason given, empty list, bad arguments */
	ids[0] = b.ids[0];
	assert_int_equal(storage_reject(s, ids, 1, NULL), STORAGE_OK);
	assert_int_equal(
	    sql_int(f->path, "SELECT count(*) FROM rejected WHERE reason = '(no reason given)'"),
	    1);
	assert_int_equal(storage_reject(s, NULL, 0, "x"), STORAGE_OK);
	assert_int_equal(storage_reject(s, NULL, 1, "x"), STORAGE_ERR_INVALID);
	assert_int_equal(storage_reject(NULL, ids, 1, "x"), STORAGE_ERR_INVALID);
	storage_get_stats(s, &st);
	assert_int_equal(st.rejected_total, 3);
	assert_int_equal(st.points, 1);
	/* an ack after a reject deletes the rest */
	assert_int_equal(storage_ack(s, b.last_id), STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 0);
	assert_int_equal(st.acked_total, 1);
	assert_int_equal(st.oldest_received_ns, 0);
	storage_batch_free(&b);
	storage_close(s);
}

static void test_rejected_keeps_the_newest(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	struct storage_batch b = {0};
	char reason[2000];

	assert_int_equal(append_tagged(s, 1, 1005, 40), STORAGE_OK);
	assert_int_equal(storage_read_batch(s, 2000, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 1005);
	/* a long reason is cut at 1024 bytes */
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	assert_int_equal(storage_reject(s, b.ids, b.count, reason), STORAGE_OK);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM rejected"), 1000);
	assert_int_equal(sql_int(f->path, "SELECT min(id) FROM rejected"), b.ids[5]);
	assert_int_equal(sql_int(f->path, "SELECT max(length(reason)) FROM rejected"), 1024);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 0);
	storage_batch_free(&b);
	storage_close(s);
}

static void test_file_shrinks_after_drain(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	struct storage_batch b = {0};
	int64_t pages = 0;
	off_t peak;

	/* ~12 MB of backlog */
	for (int tag = 0; tag < 60; tag++)
		assert_int_equal(append_tagged(s, tag, 1000, 200), STORAGE_OK);
	peak = file_size(f->path, "") + file_size(f->path, "-wal");
	assert_true(sql_int(f->path, "PRAGMA page_count") * sql_int(f->path, "PRAGMA page_size") >
		    12000000);
	for (;;) {
		assert_int_equal(storage_read_batch(s, 5000, 4 << 20, &b), STORAGE_OK);
		if (b.count == 0)
			break;
		assert_int_equal(storage_ack(s, b.last_id), STORAGE_OK);
	}
	/* the writer gives the free pages back while idle, a step at a time */
	for (int i = 0; i < 400; i++) {
		pages = sql_int(f->path, "PRAGMA page_count");
		if (pages < 64)
			break;
		nanosleep(&(struct timespec){0, 50000000}, NULL);
	}
	print_message("drained: %lld bytes at the peak, %lld pages after\n", (long long)peak,
		      (long long)pages);
	assert_true(pages < 64);
	storage_batch_free(&b);
	storage_close(s);
	/* the file is allocated in chunks of 64 pages */
	assert_true(file_size(f->path, "") <= 64 * 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_drop_oldest_keeps_newest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reject_new_refuses_whole_appends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_oldest_never_drops_for_the_impossible, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_min_free_disk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reject_moves_points, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejected_keeps_the_newest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_shrinks_after_drain, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
