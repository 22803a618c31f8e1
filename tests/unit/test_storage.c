/* test_storage.c -- unit tests of the SQLite buffer's core: commits, batches, acks, queue, close.
 */
#include "test_storage_util.h"

static void test_append_commits(void **state)
{
	struct fixture *f = *state;
	const char *text = "cpu,host=a v=1 1000\ncpu,host=b v=2 2000\n";
	struct storage_stats st;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	int64_t before = now_ns(), after;
	char lines[256];

	assert_int_equal(append_wait(s, text), STORAGE_OK);
	after = now_ns();
	/* a user's own connection sees the committed rows */
	sql_lines(f->path, lines, sizeof(lines));
	assert_string_equal(lines, text);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(DISTINCT received_ns) FROM points"), 1);
	assert_true(sql_int(f->path, "SELECT min(received_ns) FROM points") >= before);
	assert_true(sql_int(f->path, "SELECT max(received_ns) FROM points") <= after);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 4);
	assert_int_equal(sql_int(f->path, "PRAGMA auto_vacuum"), 2);
	assert_int_equal(sql_int(f->path, "PRAGMA page_size"), 1024);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 2);
	assert_int_equal(st.bytes, strlen(text) - 2);
	assert_int_equal(st.appended_total, 2);
	assert_int_equal(st.acked_total, 0);
	assert_int_equal(st.commits_total, 1);
	storage_close(s);
}

static void test_wal_and_backlog_view(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	struct tm tm;
	int ms = -1, n;
	int64_t ns;

	assert_int_equal(append_wait(s, "m v=1 5\n"), STORAGE_OK);
	db = plain_open(f->path);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT b.received_utc, b.line, p.received_ns FROM "
					    "backlog b JOIN points p USING (id)",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "m v=1 5");
	ns = sqlite3_column_int64(st, 2);
	memset(&tm, 0, sizeof(tm));
	n = sscanf((const char *)sqlite3_column_text(st, 0), "%d-%d-%d %d:%d:%d.%3d", &tm.tm_year,
		   &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms);
	assert_int_equal(n, 7);
	assert_int_equal(strlen((const char *)sqlite3_column_text(st, 0)), 23);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	/* the readable time is the stored ns time, to the millisecond */
	assert_true(llabs((int64_t)timegm(&tm) * 1000 + ms - ns / 1000000) <= 1);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	storage_close(s);
}

static void test_read_batch_limits(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	struct storage_batch b = {0};
	int64_t first;

	/* empty buffer */
	assert_int_equal(storage_read_batch(s, 10, 1000, &b), STORAGE_OK);
	assert_int_equal(b.count, 0);
	assert_int_equal(b.len, 0);
	/* five 8-byte lines (with '\n'), then one of 30 */
	assert_int_equal(append_wait(s, "a v=1 1\nb v=1 2\nc v=1 3\n"), STORAGE_OK);
	assert_int_equal(append_wait(s, "d v=1 4\ne v=1 5\n"), STORAGE_OK);
	first = sql_int(f->path, "SELECT min(id) FROM points");

	assert_int_equal(storage_read_batch(s, 100, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 5);
	assert_int_equal(b.len, 40);
	assert_memory_equal(b.text, "a v=1 1\nb v=1 2\nc v=1 3\nd v=1 4\ne v=1 5\n", 40);
	assert_int_equal(b.last_id, first + 4);
	assert_true(b.lines_cap >= 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(b.ids[i], first + (int64_t)i);
		assert_int_equal(b.offsets[i], 8 * i);
		assert_int_equal(b.text[b.offsets[i]], 'a' + (int)i);
	}

	assert_int_equal(storage_read_batch(s, 2, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 2);
	assert_int_equal(b.len, 16);
	assert_memory_equal(b.text, "a v=1 1\nb v=1 2\n", 16);
	assert_int_equal(b.last_id, first + 1);

	assert_int_equal(storage_read_batch(s, 100, 24, &b), STORAGE_OK); /* exactly 3 fit */
	assert_int_equal(b.count, 3);
	assert_int_equal(b.len, 24);
	assert_int_equal(b.last_id, first + 2);
	assert_int_equal(storage_read_batch(s, 100, 23, &b), STORAGE_OK);
	assert_int_equal(b.count, 2);
	assert_int_equal(b.len, 16);

	/* one point larger than max_bytes still comes alone */
	assert_int_equal(storage_read_batch(s, 100, 3, &b), STORAGE_OK);
	assert_int_equal(b.count, 1);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.text, "a v=1 1\n", 8);
	assert_int_equal(b.last_id, first);
	assert_int_equal(b.ids[0], first);
	assert_int_equal(b.offsets[0], 0);
	assert_true(b.cap >= 8);

	assert_int_equal(storage_read_batch(s, 0, 100, &b), STORAGE_ERR_INVALID);
	assert_int_equal(storage_read_batch(s, 1, 100, NULL), STORAGE_ERR_INVALID);
	/* reading deletes nothing */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 5);
	storage_batch_free(&b);
	assert_null(b.text);
	assert_null(b.ids);
	assert_null(b.offsets);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.lines_cap, 0);
	storage_batch_free(NULL);
	storage_close(s);
}

static void test_ack(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	struct storage_batch b = {0};
	struct storage_stats st;
	char lines[256];
	int64_t last;

	assert_int_equal(append_wait(s, "a v=1 1\nbb v=1 2\nccc v=1 3\ndddd v=1 4\n"), STORAGE_OK);
	assert_int_equal(storage_read_batch(s, 2, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 2);
	assert_int_equal(storage_ack(s, b.last_id), STORAGE_OK);
	sql_lines(f->path, lines, sizeof(lines));
	assert_string_equal(lines, "ccc v=1 3\ndddd v=1 4\n");
	assert_int_equal(sql_int(f->path, "SELECT min(id) FROM points"), b.last_id + 1);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 2);
	assert_int_equal(st.bytes, 9 + 10);
	assert_int_equal(st.appended_total, 4);
	assert_int_equal(st.acked_total, 2);
	assert_int_equal(st.commits_total, 2);

	/* acking the same id again deletes nothing */
	assert_int_equal(storage_ack(s, b.last_id), STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 2);
	assert_int_equal(st.acked_total, 2);
	assert_int_equal(st.commits_total, 3);

	assert_int_equal(storage_read_batch(s, 100, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 2);
	assert_memory_equal(b.text, "ccc v=1 3\n", 10);
	last = b.last_id;
	assert_int_equal(storage_ack(s, b.last_id), STORAGE_OK);
	assert_int_equal(storage_read_batch(s, 100, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 0);
	assert_int_equal(b.last_id, 0);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.acked_total, 4);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 0);
	/* an emptied buffer never hands out an id again while it is open */
	assert_int_equal(append_wait(s, "e v=1 5\n"), STORAGE_OK);
	assert_int_equal(sql_int(f->path, "SELECT id FROM points"), last + 1);
	assert_int_equal(storage_ack(NULL, 1), STORAGE_ERR_INVALID);
	storage_batch_free(&b);
	storage_close(s);
}

static void test_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	struct storage_batch b = {0};
	struct storage_stats st;
	off_t wal = -1;
	int64_t last;

	/* durability=normal commits too */
	assert_int_equal(append_wait(s, "x v=1 1\nx v=2 2\n"), STORAGE_OK);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 2);
	last = sql_int(f->path, "SELECT max(id) FROM points");
	storage_close(s);
	/* the WAL was checkpointed into the main file */
	assert_true(!file_exists(f->path, "-wal", &wal) || wal == 0);

	s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 2);
	assert_int_equal(st.bytes, 14);
	assert_int_equal(st.appended_total, 0);
	assert_int_equal(st.commits_total, 0);
	assert_int_equal(append_wait(s, "x v=3 3\n"), STORAGE_OK);
	assert_int_equal(storage_read_batch(s, 100, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 3);
	assert_memory_equal(b.text, "x v=1 1\nx v=2 2\nx v=3 3\n", 24);
	assert_true(b.last_id > last);
	storage_batch_free(&b);
	storage_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 3);
}

enum { N_WRITERS = 3, N_APPENDS = 1200, PER_WRITER = 2 * N_APPENDS };

struct conc {
	struct storage *s;
	atomic_int done_ok;
	atomic_int done_bad;
	atomic_int busy;
	atomic_int errors;
	atomic_int writers_done;
	unsigned char seen[N_WRITERS][PER_WRITER];
};

struct conc_writer {
	struct conc *c;
	int id;
};

static void conc_done(void *arg, int result)
{
	struct conc *c = arg;

	if (result == STORAGE_OK)
		atomic_fetch_add(&c->done_ok, 1);
	else
		atomic_fetch_add(&c->done_bad, 1);
}

static void *conc_append(void *arg)
{
	struct conc_writer *w = arg;
	int seq = 0;

	for (int k = 0; k < N_APPENDS; k++) {
		char buf[256];
		size_t len = 0;
		int retries = 0;
		char *text;
		int rc;

		for (int l = 0; l < k % 3 + 1; l++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "m,w=%d seq=%di\n",
						w->id, seq++);
		for (;;) {
			text = strdup(buf);
			if (!text) {
				atomic_fetch_add(&w->c->errors, 1);
				return NULL;
			}
			rc = storage_append(w->c->s, text, len, (size_t)(k % 3 + 1), conc_done,
					    w->c);
			if (rc == STORAGE_OK)
				break;
			free(text);
			if (rc != STORAGE_ERR_BUSY || ++retries > 20000) { /* 4 s at most */
				atomic_fetch_add(&w->c->errors, 1);
				return NULL;
			}
			atomic_fetch_add(&w->c->busy, 1);
			nanosleep(&(struct timespec){0, 200000}, NULL);
		}
	}
	return NULL;
}

/* The uplink's loop: read, check each point once and in order, ack. */
static void *conc_read(void *arg)
{
	struct conc *c = arg;
	struct storage_batch b = {0};
	int last_seq[N_WRITERS] = {-1, -1, -1};

	for (;;) {
		int finished = atomic_load(&c->writers_done);
		char *p;

		if (storage_read_batch(c->s, 50, 600, &b) != STORAGE_OK) {
			atomic_fetch_add(&c->errors, 1);
			break;
		}
		if (b.count == 0) {
			if (finished)
				break;
			nanosleep(&(struct timespec){0, 100000}, NULL);
			continue;
		}
		p = b.text;
		for (size_t i = 0; i < b.count; i++) {
			int w = -1, seq = -1, used = 0;

			if (sscanf(p, "m,w=%d seq=%di\n%n", &w, &seq, &used) != 2 || used == 0 ||
			    w < 0 || w >= N_WRITERS || seq < 0 || seq >= PER_WRITER ||
			    c->seen[w][seq] || seq <= last_seq[w]) {
				atomic_fetch_add(&c->errors, 1);
				break;
			}
			c->seen[w][seq] = 1;
			last_seq[w] = seq;
			p += used;
		}
		if (p != b.text + b.len || storage_ack(c->s, b.last_id) != STORAGE_OK) {
			atomic_fetch_add(&c->errors, 1);
			break;
		}
	}
	storage_batch_free(&b);
	return NULL;
}

static void test_concurrent_append_read_ack(void **state)
{
	struct fixture *f = *state;
	struct conc *c = calloc(1, sizeof(*c));
	struct conc_writer w[N_WRITERS];
	pthread_t wt[N_WRITERS], rt;
	struct storage_stats st;
	int total_points = N_WRITERS * PER_WRITER, seen = 0;

	assert_non_null(c);
	c->s = open_ok(f->path, STORAGE_DURABILITY_FULL, 64);
	assert_int_equal(pthread_create(&rt, NULL, conc_read, c), 0);
	for (int i = 0; i < N_WRITERS; i++) {
		w[i].c = c;
		w[i].id = i;
		assert_int_equal(pthread_create(&wt[i], NULL, conc_append, &w[i]), 0);
	}
	for (int i = 0; i < N_WRITERS; i++)
		assert_int_equal(pthread_join(wt[i], NULL), 0);
	/* every accepted append is answered before the reader may stop */
	for (int i = 0; i < 10000 && atomic_load(&c->done_ok) + atomic_load(&c->done_bad) <
					 N_WRITERS * N_APPENDS;
	     i++)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	atomic_store(&c->writers_done, 1);
	assert_int_equal(pthread_join(rt, NULL), 0);

	assert_int_equal(atomic_load(&c->errors), 0);
	assert_int_equal(atomic_load(&c->done_ok), N_WRITERS * N_APPENDS);
	assert_int_equal(atomic_load(&c->done_bad), 0);
	for (int i = 0; i < N_WRITERS; i++)
		for (int k = 0; k < PER_WRITER; k++)
			seen += c->seen[i][k];
	assert_int_equal(seen, total_points);
	storage_get_stats(c->s, &st);
	assert_int_equal(st.points, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.appended_total, total_points);
	assert_int_equal(st.acked_total, total_points);
	assert_true(st.commits_total < (uint64_t)(N_WRITERS * N_APPENDS) * 2);
	storage_close(c->s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 0);
	print_message("concurrent: %d points, %llu commits, %d busy retries\n", total_points,
		      (unsigned long long)st.commits_total, atomic_load(&c->busy));
	free(c);
}

static void test_queue_full(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 4);
	struct recorder r;
	struct done_arg d[4];
	sqlite3 *db = plain_open(f->path);
	char *big = dup_text("a 1\nb 2\nc 3\nd 4\ne 5\n");
	char *one = dup_text("z v=1 9\n");
	struct storage_stats st;

	recorder_init(&r);
	for (int i = 0; i < 4; i++)
		d[i] = (struct done_arg){&r, i};
	/* more points than the queue can ever hold */
	assert_int_equal(storage_append(s, big, strlen(big), 5, record_done, &d[0]),
			 STORAGE_ERR_INVALID);
	free(big);
	plain_exec(db, "BEGIN IMMEDIATE"); /* the writer now waits for the lock */
	assert_int_equal(
	    storage_append(s, dup_text("a v=1 1\nb v=1 2\n"), 16, 2, record_done, &d[0]),
	    STORAGE_OK);
	assert_int_equal(storage_append(s, dup_text("c v=1 3\n"), 8, 1, record_done, &d[1]),
			 STORAGE_OK);
	assert_int_equal(storage_append(s, dup_text("d v=1 4\n"), 8, 1, record_done, &d[2]),
			 STORAGE_OK);
	/* 4 points wait: one more is refused and stays the caller's */
	assert_int_equal(storage_append(s, one, strlen(one), 1, record_done, &d[3]),
			 STORAGE_ERR_BUSY);
	assert_int_equal(recorder_calls(&r), 0);
	plain_exec(db, "ROLLBACK");
	assert_int_equal(recorder_wait(&r, 3), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(r.results[i], STORAGE_OK);
	assert_int_equal(r.order[0], 0);
	assert_int_equal(r.order[1], 1);
	assert_int_equal(r.order[2], 2);
	/* room again */
	assert_int_equal(storage_append(s, one, strlen(one), 1, record_done, &d[3]), STORAGE_OK);
	assert_int_equal(recorder_wait(&r, 4), 4);
	assert_int_equal(r.results[3], STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.appended_total, 5);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 5);
	sqlite3_close(db);
	storage_close(s);
	recorder_destroy(&r);
}

static void test_failed_transaction(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	sqlite3 *db = plain_open(f->path);
	struct recorder r;
	struct done_arg d[4];
	struct storage_stats st;
	char lines[128];

	recorder_init(&r);
	for (int i = 0; i < 4; i++)
		d[i] = (struct done_arg){&r, i};
	plain_exec(db, "CREATE TRIGGER poison BEFORE INSERT ON points WHEN NEW.line LIKE 'bad%' "
		       "BEGIN SELECT RAISE(ABORT, 'poisoned'); END");
	/* one bad line: none of the append's points is stored */
	assert_int_equal(append_wait(s, "ok v=1 1\nbad v=1 2\n"), STORAGE_ERR_IO);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 0);
	/* a bad job fails the jobs that share its transaction */
	plain_exec(db, "BEGIN IMMEDIATE");
	assert_int_equal(storage_append(s, dup_text("first v=1 3\n"), 12, 1, record_done, &d[0]),
			 STORAGE_OK);
	nanosleep(&(struct timespec){0, 200000000}, NULL); /* the writer takes it alone */
	assert_int_equal(storage_append(s, dup_text("ok v=1 4\n"), 9, 1, record_done, &d[1]),
			 STORAGE_OK);
	assert_int_equal(storage_append(s, dup_text("bad v=1 5\n"), 10, 1, record_done, &d[2]),
			 STORAGE_OK);
	assert_int_equal(storage_append(s, dup_text("ok v=1 6\n"), 9, 1, record_done, &d[3]),
			 STORAGE_OK);
	plain_exec(db, "COMMIT");
	assert_int_equal(recorder_wait(&r, 4), 4);
	assert_int_equal(r.results[0], STORAGE_OK);
	for (int i = 1; i < 4; i++) {
		assert_int_equal(r.order[i], i);
		assert_int_equal(r.results[i], STORAGE_ERR_IO);
	}
	/* the writer keeps running */
	plain_exec(db, "DROP TRIGGER poison");
	assert_int_equal(append_wait(s, "after v=1 7\n"), STORAGE_OK);
	sql_lines(f->path, lines, sizeof(lines));
	assert_string_equal(lines, "first v=1 3\nafter v=1 7\n");
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 2);
	assert_int_equal(st.appended_total, 2);
	assert_int_equal(st.bytes, 11 + 11);
	sqlite3_close(db);
	storage_close(s);
	recorder_destroy(&r);
}

static void *close_thread(void *arg)
{
	storage_close(arg);
	return NULL;
}

static void test_close_drains(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	sqlite3 *db = plain_open(f->path);
	char *late = dup_text("late v=1 1\n");
	struct storage_batch b = {0};
	struct recorder r;
	struct done_arg d[5];
	pthread_t t;
	off_t wal = -1;

	recorder_init(&r);
	plain_exec(db, "BEGIN IMMEDIATE");
	for (int i = 0; i < 5; i++) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "q v=%di %d\n", i, i);

		d[i] = (struct done_arg){&r, i};
		assert_int_equal(storage_append(s, dup_text(buf), (size_t)n, 1, record_done, &d[i]),
				 STORAGE_OK);
		/* the writer takes job 0 alone; jobs 1-4 are still queued at close */
		if (i == 0)
			nanosleep(&(struct timespec){0, 200000000}, NULL);
	}
	assert_int_equal(pthread_create(&t, NULL, close_thread, s), 0);
	nanosleep(&(struct timespec){0, 200000000}, NULL);
	/* closing: nothing new is taken, nothing committed yet */
	assert_int_equal(storage_append(s, late, strlen(late), 1, record_done, &d[0]),
			 STORAGE_ERR_CLOSED);
	assert_int_equal(storage_ack(s, 1), STORAGE_ERR_CLOSED);
	assert_int_equal(recorder_calls(&r), 0);
	free(late);
	plain_exec(db, "ROLLBACK");
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(recorder_calls(&r), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(r.results[i], STORAGE_OK);
		assert_int_equal(r.order[i], i);
	}
	assert_true(!file_exists(f->path, "-wal", &wal) || wal == 0);
	sqlite3_close(db);
	s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	assert_int_equal(storage_read_batch(s, 100, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 5);
	assert_memory_equal(b.text, "q v=0i 0\nq v=1i 1\n", 18);
	storage_batch_free(&b);
	storage_close(s);
	storage_close(NULL);
	recorder_destroy(&r);
}

static void test_invalid_arguments(void **state)
{
	struct fixture *f = *state;
	struct storage_options o = {.path = f->path};
	struct storage_options missing = {.path = "/nonexistent-dir/x/buffer.db"};
	struct storage *s = NULL;
	struct storage_stats st;
	struct done_arg d = {NULL, 0};
	char *t = dup_text("m v=1 1\n\nm v=2 2\nno newline");

	assert_int_equal(storage_open(NULL, &s), STORAGE_ERR_INVALID);
	assert_int_equal(storage_open(&o, NULL), STORAGE_ERR_INVALID);
	o.path = "";
	assert_int_equal(storage_open(&o, &s), STORAGE_ERR_INVALID);
	o.path = f->path;
	o.durability = (enum storage_durability)7;
	assert_int_equal(storage_open(&o, &s), STORAGE_ERR_INVALID);
	o.durability = STORAGE_DURABILITY_FULL;
	o.full_policy = (enum storage_full_policy)2;
	assert_int_equal(storage_open(&o, &s), STORAGE_ERR_INVALID);
	assert_false(file_exists(f->path, "", NULL));
	assert_null(s);
	assert_int_equal(storage_open(&missing, &s), STORAGE_ERR_IO);
	assert_null(s);

	s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	assert_int_equal(storage_append(s, t, 0, 0, record_done, &d), STORAGE_ERR_INVALID);
	assert_int_equal(storage_append(s, t, 7, 1, record_done, &d), STORAGE_ERR_INVALID);
	assert_int_equal(storage_append(s, t, 9, 2, record_done, &d), STORAGE_ERR_INVALID);
	assert_int_equal(storage_append(s, t + 8, 1, 1, record_done, &d), STORAGE_ERR_INVALID);
	assert_int_equal(storage_append(s, t, strlen(t), 4, record_done, &d), STORAGE_ERR_INVALID);
	assert_int_equal(storage_append(s, t, 8, 1, NULL, &d), STORAGE_ERR_INVALID);
	assert_int_equal(storage_append(s, NULL, 8, 1, record_done, &d), STORAGE_ERR_INVALID);
	assert_int_equal(storage_append(NULL, t, 8, 1, record_done, &d), STORAGE_ERR_INVALID);
	/* a count that is not the text's */
	assert_int_equal(storage_append(s, t, 8, 0, record_done, &d), STORAGE_ERR_INVALID);
	assert_int_equal(storage_append(s, t, 8, 2, record_done, &d), STORAGE_ERR_INVALID);
	assert_int_equal(storage_append(s, t + 9, 8, 2, record_done, &d), STORAGE_ERR_INVALID);
	t[3] = '\0'; /* an embedded NUL */
	assert_int_equal(storage_append(s, t, 8, 1, record_done, &d), STORAGE_ERR_INVALID);
	free(t);
	storage_get_stats(s, &st);
	assert_int_equal(st.appended_total, 0);
	assert_int_equal(st.commits_total, 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 0);
	storage_close(s);

	storage_get_stats(NULL, &st);
	assert_int_equal(st.points, 0);
	for (int i = STORAGE_OK; i <= STORAGE_ERR_FULL; i++) {
		assert_non_null(storage_strerror(i));
		assert_string_not_equal(storage_strerror(i), storage_strerror(-1));
		for (int j = STORAGE_OK; j < i; j++)
			assert_string_not_equal(storage_strerror(i), storage_strerror(j));
	}
	assert_string_equal(storage_strerror(STORAGE_ERR_BUSY),
			    "the write queue is full, try again shortly");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_append_commits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wal_and_backlog_view, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_batch_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_append_read_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_drains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_arguments, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
