/* test_storage_util.h -- helpers shared by the test_storage*.c cmocka tests: fixture, done()
 * recorder, SQL peeks. */
#ifndef IOT_EDGE_TEST_STORAGE_UTIL_H
#define IOT_EDGE_TEST_STORAGE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fixture {
	char dir[64];
	char path[128];
};

/* Collects done() calls; slots[i] is the result of the i-th call. */
struct recorder {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int calls;
	int results[64];
	int order[64];
};

struct done_arg {
	struct recorder *rec;
	int tag;
};

static inline void recorder_init(struct recorder *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(pthread_mutex_init(&r->lock, NULL), 0);
	assert_int_equal(pthread_cond_init(&r->cond, NULL), 0);
}

static inline void recorder_destroy(struct recorder *r)
{
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
}

static inline void record_done(void *arg, int result)
{
	struct done_arg *d = arg;
	struct recorder *r = d->rec;

	pthread_mutex_lock(&r->lock);
	if (r->calls < 64) {
		r->results[r->calls] = result;
		r->order[r->calls] = d->tag;
	}
	r->calls++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Wait up to 10 s for `n` done calls; returns the number seen. */
static inline int recorder_wait(struct recorder *r, int n)
{
	struct timespec until;
	int calls;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&r->lock);
	while (r->calls < n && pthread_cond_timedwait(&r->cond, &r->lock, &until) == 0)
		;
	calls = r->calls;
	pthread_mutex_unlock(&r->lock);
	return calls;
}

static inline int recorder_calls(struct recorder *r)
{
	int calls;

	pthread_mutex_lock(&r->lock);
	calls = r->calls;
	pthread_mutex_unlock(&r->lock);
	return calls;
}

static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_storage.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/buffer.db", f->dir);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char p[sizeof(f->dir) + 258];
	int rc;

	if (!d)
		return -1;
	for (;;) {
		e = readdir(d);
		if (!e)
			break;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rc = rmdir(f->dir);
	free(f);
	return rc;
}

static inline struct storage *open_ok(const char *path, enum storage_durability dur,
				      size_t max_queued)
{
	struct storage_options o = {
	    .path = path, .durability = dur, .max_queued_points = max_queued};
	struct storage *s = NULL;

	assert_int_equal(storage_open(&o, &s), STORAGE_OK);
	assert_non_null(s);
	return s;
}

/* A buffer with durability normal and these bounds. */
static inline struct storage *open_bounded(const char *path, uint64_t max_size, uint64_t min_free,
					   enum storage_full_policy policy)
{
	struct storage_options o = {.path = path,
				    .durability = STORAGE_DURABILITY_NORMAL,
				    .max_size = max_size,
				    .min_free_disk = min_free,
				    .full_policy = policy};
	struct storage *s = NULL;

	assert_int_equal(storage_open(&o, &s), STORAGE_OK);
	assert_non_null(s);
	return s;
}

static inline char *dup_text(const char *t)
{
	char *p = strdup(t);

	assert_non_null(p);
	return p;
}

/* Append and wait for the commit; returns the done() result. */
static inline int append_wait(struct storage *s, const char *text)
{
	struct recorder r;
	struct done_arg d = {&r, 0};
	char *copy = dup_text(text);
	int result;

	recorder_init(&r);
	size_t lines = 0;

	for (const char *c = copy; *c; c++)
		lines += *c == '\n';
	result = storage_append(s, copy, strlen(copy), lines, record_done, &d);
	assert_int_equal(result, STORAGE_OK);
	assert_int_equal(recorder_wait(&r, 1), 1);
	result = r.results[0];
	recorder_destroy(&r);
	return result;
}

static inline sqlite3 *plain_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return db;
}

static inline void plain_exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* First column of the first row of `sql` on a fresh plain connection. */
static inline int64_t sql_int(const char *path, const char *sql)
{
	sqlite3 *db = plain_open(path);
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* All lines of `points` in id order, each followed by '\n'. */
static inline void sql_lines(const char *path, char *out, size_t size)
{
	sqlite3 *db = plain_open(path);
	sqlite3_stmt *st = NULL;
	size_t len = 0;
	int rc;

	out[0] = '\0';
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT line FROM points ORDER BY id", -1, &st, NULL),
	    SQLITE_OK);
	for (;;) {
		int n;

		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		n = snprintf(out + len, size - len, "%s\n", sqlite3_column_text(st, 0));
		assert_true(n > 0 && (size_t)n < size - len);
		len += (size_t)n;
	}
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static inline char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = malloc(1 << 20);

	assert_non_null(fp);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 20, fp);
	assert_int_equal(ferror(fp), 0);
	fclose(fp);
	return buf;
}

static inline int file_exists(const char *path, const char *suffix, off_t *size)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	if (stat(p, &st) != 0)
		return 0;
	if (size)
		*size = st.st_size;
	return 1;
}

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Column 0 of the first row of `sql` as text ("" for NULL). */
static inline void sql_text(const char *path, const char *sql, char *out, size_t size)
{
	sqlite3 *db = plain_open(path);
	sqlite3_stmt *st = NULL;
	const unsigned char *t;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	t = sqlite3_column_text(st, 0);
	snprintf(out, size, "%s", t ? (const char *)t : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

#endif
