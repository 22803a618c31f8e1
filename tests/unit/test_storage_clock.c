/* test_storage_clock.c -- the buffer's intervals run on the monotonic clock: a backward step of
 * the wall clock does not stop the free-disk re-check or the file-size refresh. */
#include "test_storage_util.h"

#include "clock.h"

#include <sys/statvfs.h>

#define MIB (1024LL * 1024)
#define GIB (1024 * MIB)
#define HOUR_NS (3600 * 1000000000LL)
#define SECOND_NS 1000000000LL

/* The link wraps statvfs (-Wl,--wrap=statvfs): the free space storage sees is
 * fake_avail when set, and every call is counted. On a 32-bit target built
 * with _FILE_OFFSET_BITS=64 (armhf), <sys/statvfs.h> renames the call to
 * statvfs64, so the link wraps that one there (--wrap=statvfs64 too). */
#if defined(__USE_FILE_OFFSET64) && __SIZEOF_LONG__ == 4
#define STATVFS_SYMBOL "statvfs64"
#else
#define STATVFS_SYMBOL "statvfs"
#endif
int __real_statvfs(const char *path, struct statvfs *buf) __asm__("__real_" STATVFS_SYMBOL);
int __wrap_statvfs(const char *path, struct statvfs *buf) __asm__("__wrap_" STATVFS_SYMBOL);

static _Atomic int64_t fake_avail; /* bytes; 0: the real figure */
static atomic_int statvfs_calls;

int __wrap_statvfs(const char *path, struct statvfs *buf)
{
	int rc = __real_statvfs(path, buf);
	int64_t avail = atomic_load(&fake_avail);

	atomic_fetch_add(&statvfs_calls, 1);
	if (rc == 0 && avail > 0)
		buf->f_bavail = (fsblkcnt_t)(avail / (int64_t)buf->f_frsize);
	return rc;
}

static int clock_setup(void **state)
{
	atomic_store(&fake_avail, 0);
	atomic_store(&statvfs_calls, 0);
	clock_set_source(NULL);
	return setup(state);
}

static int clock_teardown(void **state)
{
	clock_set_source(NULL); /* every storage is closed by now */
	atomic_store(&fake_avail, 0);
	return teardown(state);
}

/* Issue #14, defect 3: the free-disk figure is cached for a quarter second
 * while there is plenty of room. Timed on the wall clock, the cache never
 * expired after the clock stepped back an hour: the disk filled up and
 * min_free_disk was no longer enforced. */
static void test_free_disk_rechecked_after_wall_step_back(void **state)
{
	struct fixture *f = *state;
	struct storage *s;
	int calls;

	atomic_store(&fake_avail, 10 * GIB);
	s = open_bounded(f->path, 0, GIB, STORAGE_FULL_REJECT_NEW);
	assert_int_equal(append_wait(s, "m v=1 1\n"), STORAGE_OK);
	calls = atomic_load(&statvfs_calls);
	assert_true(calls > 0);

	/* NTP steps the clock back an hour; a second passes; the disk fills */
	clock_set_source(
	    &(struct clock_source){.mono_offset_ns = SECOND_NS, .wall_offset_ns = -HOUR_NS});
	atomic_store(&fake_avail, GIB / 2);
	assert_int_equal(append_wait(s, "m v=2 2\n"), STORAGE_ERR_FULL);
	assert_true(atomic_load(&statvfs_calls) > calls);

	/* and room again is seen again, a second later */
	clock_set_source(
	    &(struct clock_source){.mono_offset_ns = 2 * SECOND_NS, .wall_offset_ns = -HOUR_NS});
	atomic_store(&fake_avail, 10 * GIB);
	assert_int_equal(append_wait(s, "m v=3 3\n"), STORAGE_OK);
	storage_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM points"), 2);
}

/* Database + WAL bytes on disk now. */
static int64_t disk_bytes(const char *path)
{
	char wal[160];
	struct stat st;
	int64_t total = 0;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(path, &st) == 0)
		total += st.st_size;
	if (stat(wal, &st) == 0)
		total += st.st_size;
	return total;
}

/* The file size in the stats is refreshed at most once a second: still so
 * after the wall clock stepped back. */
static void test_file_bytes_refreshed_after_wall_step_back(void **state)
{
	struct fixture *f = *state;
	struct storage *s = open_bounded(f->path, 0, 0, STORAGE_FULL_REJECT_NEW);
	struct storage_stats st;
	size_t size = 8 * 1024 * 1024, used = 0;
	char *text = malloc(size);
	int64_t before;

	assert_non_null(text);
	assert_int_equal(append_wait(s, "m v=1 1\n"), STORAGE_OK);
	before = disk_bytes(f->path);
	storage_get_stats(s, &st);
	assert_int_equal(st.file_bytes, before);

	clock_set_source(
	    &(struct clock_source){.mono_offset_ns = 2 * SECOND_NS, .wall_offset_ns = -HOUR_NS});
	/* 4 MB in one append: the file grows */
	for (int i = 0; i < 16000; i++)
		used += (size_t)snprintf(text + used, size - used, "m,i=%05d v=\"%0240d\" %d\n", i,
					 i, i + 2);
	assert_int_equal(append_wait(s, text), STORAGE_OK);
	free(text);
	storage_get_stats(s, &st);
	print_message("file_bytes %llu, on disk %lld before, %lld now\n",
		      (unsigned long long)st.file_bytes, (long long)before,
		      (long long)disk_bytes(f->path));
	assert_true(disk_bytes(f->path) > before);
	assert_int_equal(st.file_bytes, disk_bytes(f->path));
	storage_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_free_disk_rechecked_after_wall_step_back,
					    clock_setup, clock_teardown),
	    cmocka_unit_test_setup_teardown(test_file_bytes_refreshed_after_wall_step_back,
					    clock_setup, clock_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
