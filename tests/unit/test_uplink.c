/* test_uplink.c -- unit tests for uplink/gzip.c and the uplink's life: options, a network
 * error, secrets wiped before they are freed. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "answer.h"
#include "gzip.h"
#include "influx.h"
#include "storage.h"
#include "uplink.h"

/* Linked with -Wl,--wrap=free (tests/unit/CMakeLists.txt): every block the
 * uplink (and the rest of this binary's own code) frees passes here first,
 * and one still holding a secret is counted. */
void __real_free(void *p);
void __wrap_free(void *p);
static _Atomic(const char *) wrap_secrets[2];
static atomic_int wrap_unwiped;

void __wrap_free(void *p)
{
	if (p) {
		size_t n = malloc_usable_size(p);

		for (int i = 0; i < 2; i++) {
			const char *secret = atomic_load(&wrap_secrets[i]);

			if (secret && memmem(p, n, secret, strlen(secret)))
				atomic_fetch_add(&wrap_unwiped, 1);
		}
	}
	__real_free(p);
}

/* Inflate a gzip member with zlib; returns the length or -1. */
static long test_gunzip(const unsigned char *in, size_t len, char *out, size_t cap)
{
	z_stream zs;
	long n = -1;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)out;
	zs.avail_out = (uInt)cap;
	if (inflate(&zs, Z_FINISH) == Z_STREAM_END)
		n = (long)(cap - zs.avail_out);
	inflateEnd(&zs);
	return n;
}

static void test_gzip_round_trip(void **state)
{
	struct uplink_gzip *g = NULL;
	size_t len = 0;
	char *text = malloc(200000);
	char *back = malloc(200000);
	const unsigned char *packed;
	size_t packed_len;
	(void)state;

	assert_non_null(text);
	assert_non_null(back);
	for (int i = 0; len < 190000; i++)
		len += (size_t)snprintf(text + len, 200000 - len,
					"data,type=t sensor_id=%d,value=%d %lld\n", i % 7, i,
					1700000000000000000LL + i);
	assert_int_equal(uplink_gzip_create(1, &g), 0);
	for (int round = 0; round < 3; round++) {
		/* The same stream is reused: each result is a complete gzip member. */
		assert_int_equal(uplink_gzip_compress(g, text, len, &packed, &packed_len), 0);
		assert_true(packed_len < len / 4);
		assert_int_equal(packed[0], 0x1f);
		assert_int_equal(packed[1], 0x8b);
		assert_int_equal(test_gunzip(packed, packed_len, back, 200000), (long)len);
		assert_memory_equal(back, text, len);
	}
	assert_int_equal(uplink_gzip_compress(g, text, 0, &packed, &packed_len), 0);
	assert_int_equal(test_gunzip(packed, packed_len, back, 200000), 0);
	uplink_gzip_destroy(g);
	uplink_gzip_destroy(NULL);
	free(text);
	free(back);
}

static void test_gzip_bad_level(void **state)
{
	struct uplink_gzip *g = NULL;
	(void)state;

	assert_int_equal(uplink_gzip_create(0, &g), -1);
	assert_int_equal(uplink_gzip_create(10, &g), -1);
	assert_null(g);
}

static int64_t test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void test_append_done(void *arg, int result)
{
	atomic_store((atomic_int *)arg, result == STORAGE_OK ? 1 : -1);
}

/* Options for an InfluxDB that refuses connections (port 1 on loopback). */
static struct uplink_options test_options(void)
{
	struct uplink_options o = {
	    .api = UPLINK_API_V1,
	    .url = "http://127.0.0.1:1",
	    .database = "iot",
	    .batch_points = 10,
	    .batch_bytes = 4096,
	    .flush_interval_ms = 10,
	    .retry_initial_ms = 10,
	    .retry_max_ms = 50,
	    .timeout_ms = 1000,
	};
	return o;
}

static void test_options_refused(void **state)
{
	struct uplink_options o = test_options();
	struct uplink *u = (struct uplink *)&o; /* must stay untouched */
	struct uplink *before = u;
	(void)state;

	o.timeout_ms = 0;
	assert_int_equal(uplink_start(&o, (struct storage *)&o, &u), -1);
	o = test_options();
	o.api = UPLINK_API_V2;
	o.bucket = "";
	assert_int_equal(uplink_start(&o, (struct storage *)&o, &u), -1);
	o = test_options();
	o.url = "";
	assert_int_equal(uplink_start(&o, (struct storage *)&o, &u), -1);
	o = test_options();
	o.batch_points = 0;
	assert_int_equal(uplink_start(&o, (struct storage *)&o, &u), -1);
	assert_ptr_equal(u, before);
	uplink_stop(NULL);
}

/* A running uplink against a refused port: the heartbeat stays fresh, the
 * failures are counted and classed, the point stays in the buffer. */
static void test_lifecycle_network_error(void **state)
{
	char dir[] = "/tmp/test_uplink.XXXXXX";
	char path[64];
	struct storage_options so = {.path = path, .durability = STORAGE_DURABILITY_NORMAL};
	struct uplink_options o = test_options();
	struct storage *st = NULL;
	struct uplink *u = NULL;
	struct uplink_stats us;
	struct storage_stats ss;
	atomic_int done = 0;
	char *text = strdup("data,type=t value=1 1700000000000000000\n");
	int64_t t0, hb;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	assert_int_equal(storage_open(&so, &st), STORAGE_OK);
	assert_int_equal(storage_append(st, text, strlen(text), 1, test_append_done, &done),
			 STORAGE_OK);
	for (int i = 0; i < 500 && atomic_load(&done) == 0; i++)
		test_sleep_ms(10);
	assert_int_equal(atomic_load(&done), 1);

	assert_int_equal(uplink_start(&o, st, &u), 0);
	uplink_get_stats(u, &us);
	assert_int_equal(us.batch_points, 10);
	assert_int_equal(us.batch_bytes, 4096);
	for (int i = 0; i < 500; i++) {
		uplink_get_stats(u, &us);
		if (us.requests_failed >= 3)
			break;
		test_sleep_ms(10);
	}
	assert_true(us.requests_failed >= 3);
	assert_int_equal(us.requests_ok, 0);
	assert_int_equal(us.points_sent, 0);
	assert_true(us.consecutive_failures >= 3);
	assert_true(us.retries >= 2);
	assert_int_equal(us.last_error_class, UPLINK_ERROR_NETWORK);
	assert_non_null(strstr(us.last_error, "network error: "));
	assert_true(us.last_error_ms > 0);
	assert_int_equal(us.last_success_ms, 0);
	assert_int_equal(us.auth_failed, 0);
	assert_int_equal(us.bytes_raw, us.bytes_sent); /* 40 bytes: below the gzip size */
	t0 = test_now_ms();
	hb = (int64_t)uplink_heartbeat_ms(u);
	/* Waiting or a step begun within the last second: never stale. */
	assert_true(hb <= test_now_ms() && hb > t0 - 1000);
	uplink_stop(u);

	storage_get_stats(st, &ss);
	assert_int_equal(ss.points, 1);
	assert_int_equal(ss.rejected_total, 0);
	storage_close(st);
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/buffer.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/buffer.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

/* The v2 token and the v1 password are wiped before their memory is freed:
 * the header built from the token, and the uplink's copies of both. */
static void test_secrets_wiped_before_free(void **state)
{
	char dir[] = "/tmp/test_uplink.XXXXXX";
	char path[64];
	struct storage_options so = {.path = path, .durability = STORAGE_DURABILITY_NORMAL};
	struct uplink_options o = test_options();
	struct storage *st = NULL;
	struct uplink *u = NULL;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	assert_int_equal(storage_open(&so, &st), STORAGE_OK);
	atomic_store(&wrap_secrets[0], "tok-5ecret-v2-0123456789");
	atomic_store(&wrap_secrets[1], "pw-5ecret-v1-0123456789");
	o.api = UPLINK_API_V2;
	o.org = "o";
	o.bucket = "b";
	o.token = "tok-5ecret-v2-0123456789";
	assert_int_equal(uplink_start(&o, st, &u), 0);
	uplink_stop(u);
	o = test_options();
	o.username = "me";
	o.password = "pw-5ecret-v1-0123456789";
	assert_int_equal(uplink_start(&o, st, &u), 0);
	uplink_stop(u);
	atomic_store(&wrap_secrets[0], NULL);
	atomic_store(&wrap_secrets[1], NULL);
	if (atomic_load(&wrap_unwiped) != 0)
		fail_msg("%d freed blocks still held a secret", atomic_load(&wrap_unwiped));
	storage_close(st);
	snprintf(path, sizeof(path), "%s/buffer.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/buffer.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/buffer.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gzip_round_trip),
	    cmocka_unit_test(test_gzip_bad_level),
	    cmocka_unit_test(test_options_refused),
	    cmocka_unit_test(test_lifecycle_network_error),
	    cmocka_unit_test(test_secrets_wiped_before_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
