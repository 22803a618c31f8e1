/* test_storage_files.c -- unit tests of the buffer file: schema v2, migration, views, newer schema,
 * corruption and salvage. */
#include "test_storage_util.h"

#define NPOINTS 300

/* The file storage moved aside, if exactly one; returns how many there are. */
static int find_aside(const char *dir, char *out, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	for (;;) {
		size_t len;

		e = readdir(d);
		if (!e)
			break;
		len = strlen(e->d_name);
		/* the main file only: not its -wal, -shm, -wal.foreign */
		if (strncmp(e->d_name, "buffer.db.corrupt-", 18) != 0 ||
		    (len > 4 && (strstr(e->d_name + 18, "-wal") || strstr(e->d_name + 18, "-shm"))))
			continue;
		assert_true((size_t)snprintf(out, size, "%s/%.*s", dir, 200, e->d_name) < size);
		n++;
	}
	closedir(d);
	return n;
}

/* NPOINTS points of ~270 bytes (many pages), closed cleanly. */
static void make_buffer(const char *path)
{
	struct storage *s = open_ok(path, STORAGE_DURABILITY_NORMAL, 0);
	size_t size = NPOINTS * 300, len = 0;
	char *text = malloc(size);
	char pad[251];

	assert_non_null(text);
	memset(pad, 'x', 250);
	pad[250] = '\0';
	for (int i = 0; i < NPOINTS; i++)
		len += (size_t)snprintf(text + len, size - len, "m,pad=%s v=%di\n", pad, i);
	assert_int_equal(append_wait(s, text), STORAGE_OK);
	free(text);
	storage_close(s);
}

/* Open a damaged buffer: it is moved aside unchanged and a fresh one opens.
 * Returns the number of points salvaged, checked to be in order and intact. */
static int open_damaged(struct fixture *f, const char *before, size_t before_len)
{
	struct storage_options o = {.path = f->path};
	struct storage *s = NULL;
	struct storage_batch b = {0};
	struct storage_stats st;
	char aside[256];
	char *after;
	size_t len;
	int last = -1;

	assert_int_equal(storage_open(&o, &s), STORAGE_OK);
	storage_get_stats(s, &st);
	assert_int_equal(st.quarantined, 1);
	assert_int_equal(find_aside(f->dir, aside, sizeof(aside)), 1);
	after = read_all(aside, &len);
	assert_int_equal(len, before_len);
	assert_memory_equal(after, before, len);
	free(after);
	assert_int_equal(storage_read_batch(s, 100000, 1 << 30, &b), STORAGE_OK);
	assert_int_equal(st.points, b.count);
	for (size_t i = 0; i < b.count; i++) {
		int v = -1, used = 0;
		const char *line = b.text + b.offsets[i];

		assert_int_equal(strncmp(line, "m,pad=", 6), 0);
		assert_int_equal(sscanf(line + 256, " v=%di\n%n", &v, &used), 1);
		assert_true(used > 0);
		assert_true(v > last && v < NPOINTS);
		last = v;
	}
	/* the fresh buffer works */
	assert_int_equal(append_wait(s, "after v=1 1\n"), STORAGE_OK);
	storage_batch_free(&b);
	storage_close(s);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 4);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points WHERE line = 'after v=1 1'"),
			 1);
	return (int)st.points;
}

static void test_migrate_v1(void **state)
{
	struct fixture *f = *state;
	struct storage_stats st;
	struct storage_batch b = {0};
	struct storage *s;
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	plain_exec(db, "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL;"
		       "CREATE TABLE points (id INTEGER PRIMARY KEY, received_ns INTEGER NOT NULL,"
		       " line TEXT NOT NULL);"
		       "CREATE VIEW backlog AS SELECT id, strftime('%Y-%m-%d %H:%M:%f', "
		       "received_ns / 1e9, 'unixepoch') AS received_utc, line FROM points;"
		       "PRAGMA user_version = 1;"
		       "INSERT INTO points VALUES (7, 1000000000, 'a v=1 1'), "
		       "(8, 2000000000, 'bb v=2 2');");
	sqlite3_close(db);

	s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	storage_get_stats(s, &st);
	assert_int_equal(st.points, 2);
	assert_int_equal(st.bytes, 15);
	assert_int_equal(st.oldest_received_ns, 1000000000);
	assert_int_equal(st.quarantined, 0);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 4);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM rejected"), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM backlog"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM pending"), 2);
	assert_int_equal(append_wait(s, "c v=3 3\n"), STORAGE_OK);
	assert_int_equal(storage_read_batch(s, 10, 1 << 20, &b), STORAGE_OK);
	assert_int_equal(b.count, 3);
	assert_memory_equal(b.text, "a v=1 1\nbb v=2 2\nc v=3 3\n", 25);
	assert_int_equal(b.ids[0], 7);
	assert_int_equal(b.ids[2], 9);
	storage_batch_free(&b);
	storage_close(s);
	/* a second open migrates nothing */
	s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	storage_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 3);
}

static void test_views(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	int64_t id = 2;
	char text[128];
	double age;

	assert_int_equal(append_wait(s, "a v=1 1\nbb v=1 2\n"), STORAGE_OK);
	assert_int_equal(storage_reject(s, &id, 1, "bad type"), STORAGE_OK);
	/* pending: RFC 3339 UTC with ms, age in seconds */
	sql_text(f->path, "SELECT received_utc FROM pending", text, sizeof(text));
	assert_int_equal(strlen(text), 24);
	assert_int_equal(text[10], 'T');
	assert_int_equal(text[23], 'Z');
	sql_text(f->path, "SELECT age_s FROM pending", text, sizeof(text));
	age = strtod(text, NULL);
	assert_true(age >= 0.0 && age < 60.0);
	sql_text(f->path, "SELECT line FROM pending", text, sizeof(text));
	assert_string_equal(text, "a v=1 1");
	/* rejected_readable */
	sql_text(f->path,
		 "SELECT reason || '|' || line || '|' || length(rejected_utc) "
		 "FROM rejected_readable",
		 text, sizeof(text));
	assert_string_equal(text, "bad type|bb v=1 2|24");
	/* summary: one row */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM summary"), 1);
	sql_text(f->path,
		 "SELECT points || '|' || bytes || '|' || rejected || '|' || "
		 "(oldest_utc = newest_utc) || '|' || (oldest_age_s >= 0) FROM summary",
		 text, sizeof(text));
	assert_string_equal(text, "1|7|1|1|1");
	storage_close(s);
	/* empty: still one row */
	s = open_ok(f->path, STORAGE_DURABILITY_FULL, 0);
	assert_int_equal(storage_ack(s, 1), STORAGE_OK);
	sql_text(f->path,
		 "SELECT points || '|' || bytes || '|' || coalesce(oldest_utc, 'none') "
		 "FROM summary",
		 text, sizeof(text));
	assert_string_equal(text, "0|0|none");
	storage_close(s);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct storage_options o = {.path = f->path};
	struct storage *s = (struct storage *)&o; /* must be reset to NULL */
	sqlite3 *db = NULL;
	size_t len1, len2;
	char *before, *after;
	char aside[256];

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	plain_exec(db, "CREATE TABLE future (x); PRAGMA user_version = 99");
	sqlite3_close(db);
	before = read_all(f->path, &len1);
	assert_int_equal(storage_open(&o, &s), STORAGE_ERR_SCHEMA);
	assert_null(s);
	after = read_all(f->path, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(before, after, len1);
	assert_false(file_exists(f->path, "-wal", NULL));
	assert_int_equal(find_aside(f->dir, aside, sizeof(aside)), 0);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 99);
	free(before);
	free(after);
}

static void test_garbage_file_quarantined(void **state)
{
	struct fixture *f = *state;
	char garbage[512 * 16];
	FILE *fp;

	for (int i = 0; i < 512; i++)
		memcpy(garbage + i * 16, "not a database!\n", 16);
	fp = fopen(f->path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(garbage, 1, sizeof(garbage), fp), sizeof(garbage));
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(open_damaged(f, garbage, sizeof(garbage)), 0);
}

static void test_damaged_pages_salvaged(void **state)
{
	struct fixture *f = *state;
	char *before;
	size_t len;
	FILE *fp;
	int n, ps;

	make_buffer(f->path);
	ps = sql_int(f->path, "PRAGMA page_size");
	/* scribble over 3 pages in the middle: the rows before and after stay */
	fp = fopen(f->path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 20 * ps, SEEK_SET), 0);
	for (int i = 0; i < 3 * ps; i++)
		assert_int_equal(fputc(0xa5, fp), 0xa5);
	assert_int_equal(fclose(fp), 0);
	before = read_all(f->path, &len);
	n = open_damaged(f, before, len);
	print_message("damaged pages: salvaged %d of %d\n", n, NPOINTS);
	/* at most the rows of the pages hit (a row is ~270 bytes) */
	assert_true(n >= NPOINTS - 3 * (ps / 250 + 1));
	assert_true(n < NPOINTS);
	free(before);
}

static void test_truncated_file_salvaged(void **state)
{
	struct fixture *f = *state;
	char *before;
	size_t len;
	int n;

	make_buffer(f->path);
	/* the first 40% of the pages stay */
	assert_int_equal(truncate(f->path, sql_int(f->path, "PRAGMA page_size") *
					       sql_int(f->path, "PRAGMA page_count") * 2 / 5),
			 0);
	before = read_all(f->path, &len);
	n = open_damaged(f, before, len);
	print_message("truncated: salvaged %d of %d\n", n, NPOINTS);
	assert_true(n >= NPOINTS / 5);
	assert_true(n < NPOINTS);
	free(before);
}

static void test_header_overwritten(void **state)
{
	struct fixture *f = *state;
	char *before;
	size_t len;
	FILE *fp;
	int n;

	make_buffer(f->path);
	fp = fopen(f->path, "r+b");
	assert_non_null(fp);
	for (int i = 0; i < 100; i++)
		assert_int_equal(fputc(0x5a, fp), 0x5a);
	assert_int_equal(fclose(fp), 0);
	before = read_all(f->path, &len);
	n = open_damaged(f, before, len);
	print_message("header overwritten: salvaged %d of %d\n", n, NPOINTS);
	/* the pages were intact: a copy with a rebuilt header gives every point back */
	assert_int_equal(n, NPOINTS);
	free(before);
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = read_all(from, &len);
	FILE *fp = fopen(to, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	free(data);
}

static void test_foreign_wal(void **state)
{
	struct fixture *f = *state;
	char other[160], other_wal[168], wal[168], aside[256], kept[280];
	struct storage *s;
	size_t len, wal_len, kept_len;
	char *before, *foreign, *after;
	int n;

	make_buffer(f->path);
	before = read_all(f->path, &len);
	/* another buffer with its last commits still in its WAL */
	snprintf(other, sizeof(other), "%s/other.db", f->dir);
	snprintf(other_wal, sizeof(other_wal), "%s-wal", other);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	s = open_ok(other, STORAGE_DURABILITY_FULL, 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(append_wait(s, "other v=1 1\nother v=2 2\n"), STORAGE_OK);
	copy_file(other_wal, wal);
	storage_close(s);
	foreign = read_all(wal, &wal_len);
	assert_true(wal_len > 0);

	/* the foreign WAL is not replayed: every point of the buffer is salvaged */
	n = open_damaged(f, before, len);
	assert_int_equal(n, NPOINTS);
	/* and the WAL is kept, under a name SQLite will not pair with the file */
	assert_int_equal(find_aside(f->dir, aside, sizeof(aside)), 1);
	snprintf(kept, sizeof(kept), "%s-wal.foreign", aside);
	after = read_all(kept, &kept_len);
	assert_int_equal(kept_len, wal_len);
	assert_memory_equal(after, foreign, wal_len);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM pragma_integrity_check "
					  "WHERE integrity_check != 'ok'"),
			 0);
	free(before);
	free(foreign);
	free(after);
}

static void test_two_quarantines_same_second(void **state)
{
	struct fixture *f = *state;
	struct storage_options o = {.path = f->path};
	struct storage *s = NULL;
	char aside[256];
	FILE *fp;

	for (int round = 0; round < 2; round++) {
		fp = fopen(f->path, "wb");
		assert_non_null(fp);
		for (int i = 0; i < 256; i++)
			assert_int_equal(fputs("garbage, not SQLite!\n", fp) >= 0, 1);
		assert_int_equal(fclose(fp), 0);
		assert_int_equal(storage_open(&o, &s), STORAGE_OK);
		storage_close(s);
	}
	/* the second never overwrites the first (same second or not) */
	assert_int_equal(find_aside(f->dir, aside, sizeof(aside)), 2);
}

/* The mode bits of path+suffix (-1: no such file). */
static int file_mode(const char *path, const char *suffix)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return stat(p, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* Under umask 022 (a manual start, Docker) the buffer, its -wal and -shm,
 * a quarantined file and the fresh one salvaged into are nobody else's. */
static void test_private_modes(void **state)
{
	struct fixture *f = *state;
	mode_t old = umask(022);
	char aside[256];
	FILE *fp;

	struct storage *s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	assert_int_equal(append_wait(s, "m v=1 1\n"), STORAGE_OK);
	assert_int_equal(file_mode(f->path, ""), 0600);
	assert_int_equal(file_mode(f->path, "-wal"), 0600);
	assert_int_equal(file_mode(f->path, "-shm"), 0600);
	storage_close(s);
	/* a buffer an older version left 0644 loses the bits for others */
	assert_int_equal(chmod(f->path, 0644), 0);
	s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	assert_int_equal(file_mode(f->path, ""), 0640);
	storage_close(s);
	assert_int_equal(unlink(f->path), 0);
	/* a garbage file made 0644: moved aside without others' bits */
	fp = fopen(f->path, "wb");
	assert_non_null(fp);
	for (int i = 0; i < 512; i++)
		assert_int_equal(fputs("not a database!\n", fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(file_mode(f->path, ""), 0644);
	s = open_ok(f->path, STORAGE_DURABILITY_NORMAL, 0);
	assert_int_equal(append_wait(s, "m v=1 1\n"), STORAGE_OK);
	assert_int_equal(find_aside(f->dir, aside, sizeof(aside)), 1);
	assert_int_equal(file_mode(aside, ""), 0640);
	assert_int_equal(file_mode(f->path, ""), 0600);
	assert_int_equal(file_mode(f->path, "-wal"), 0600);
	assert_int_equal(file_mode(f->path, "-shm"), 0600);
	storage_close(s);
	umask(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_views, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_file_quarantined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_pages_salvaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_file_salvaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_header_overwritten, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_wal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_quarantines_same_second, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_private_modes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
