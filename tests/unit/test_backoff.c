/* test_backoff.c -- unit tests for uplink/backoff.c: delay ceiling, jitter range and the PRNG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "backoff.h"

/* splitmix64: an independent source of test inputs, so the tests do not
 * depend on the PRNG under test. */
static uint64_t test_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The expected ceiling, computed the slow obvious way: double until capped. */
static uint64_t test_ceiling(uint32_t attempt, uint32_t initial_ms, uint32_t max_ms)
{
	uint64_t c = initial_ms;

	if (attempt == 0)
		attempt = 1;
	for (uint32_t i = 1; i < attempt && c != 0 && c < max_ms; i++)
		c *= 2;
	return c < max_ms ? c : max_ms;
}

static void test_ceiling_doubles_then_caps(void **state)
{
	static const uint32_t expected[] = {100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000};
	(void)state;

	for (uint32_t a = 1; a <= 9; a++)
		assert_int_equal(backoff_delay_ms(a, 100, 10000, UINT32_MAX), expected[a - 1]);
	/* A cap that is not a power-of-two multiple of initial. */
	assert_int_equal(backoff_delay_ms(3, 500, 1999, UINT32_MAX), 1999);
	assert_int_equal(backoff_delay_ms(2, 500, 1999, UINT32_MAX), 1000);
	/* max below initial: max wins from the first attempt. */
	assert_int_equal(backoff_delay_ms(1, 500, 100, UINT32_MAX), 100);
}

static void test_attempt_zero_is_one(void **state)
{
	(void)state;
	assert_int_equal(backoff_delay_ms(0, 250, 60000, UINT32_MAX), 250);
	assert_int_equal(backoff_delay_ms(0, 250, 60000, UINT32_MAX),
			 backoff_delay_ms(1, 250, 60000, UINT32_MAX));
	assert_int_equal(backoff_delay_ms(0, 250, 60000, 0x80000000u),
			 backoff_delay_ms(1, 250, 60000, 0x80000000u));
}

static void test_zero_initial_or_max(void **state)
{
	static const uint32_t attempts[] = {0, 1, 2, 31, 32, 33, 1000, UINT32_MAX};
	(void)state;

	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		assert_int_equal(backoff_delay_ms(attempts[i], 0, 60000, UINT32_MAX), 0);
		assert_int_equal(backoff_delay_ms(attempts[i], 0, UINT32_MAX, 12345), 0);
		assert_int_equal(backoff_delay_ms(attempts[i], 500, 0, UINT32_MAX), 0);
	}
}

static void test_random_mapping_exact(void **state)
{
	(void)state;
	/* floor(random * (ceiling + 1) / 2^32) */
	assert_int_equal(backoff_delay_ms(1, 1000, 60000, 0), 0);
	assert_int_equal(backoff_delay_ms(1, 1000, 60000, UINT32_MAX), 1000);
	assert_int_equal(backoff_delay_ms(1, 999, 60000, 0x80000000u), 500);
	assert_int_equal(backoff_delay_ms(1, 1000, 60000, 0x80000000u), 500);
	assert_int_equal(backoff_delay_ms(1, 3, 60000, 0x40000000u), 1);
	assert_int_equal(backoff_delay_ms(1, 3, 60000, 0x3fffffffu), 0);
	assert_int_equal(backoff_delay_ms(1, 3, 60000, 0xc0000000u), 3);
	assert_int_equal(backoff_delay_ms(1, 3, 60000, 0xbfffffffu), 2);
	/* With the largest possible ceiling the mapping is the identity. */
	assert_int_equal(backoff_delay_ms(1, UINT32_MAX, UINT32_MAX, UINT32_MAX), UINT32_MAX);
	assert_int_equal(backoff_delay_ms(1, UINT32_MAX, UINT32_MAX, 1), 1);
	assert_int_equal(backoff_delay_ms(1, UINT32_MAX, UINT32_MAX, 0xdeadbeefu), 0xdeadbeefu);
	/* Ceiling 1: the lower half of the random range gives 0, the upper 1. */
	assert_int_equal(backoff_delay_ms(1, 1, 60000, 0x7fffffffu), 0);
	assert_int_equal(backoff_delay_ms(1, 1, 60000, 0x80000000u), 1);
}

static void test_huge_attempts(void **state)
{
	static const uint32_t attempts[] = {31, 32, 33, 34, 63, 64, 65, 1000, UINT32_MAX};
	(void)state;

	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		uint32_t a = attempts[i];

		assert_int_equal(backoff_delay_ms(a, 1, 5000, UINT32_MAX), 5000);
		assert_int_equal(backoff_delay_ms(a, 500, 60000, UINT32_MAX), 60000);
		assert_int_equal(backoff_delay_ms(a, UINT32_MAX, UINT32_MAX, UINT32_MAX),
				 UINT32_MAX);
		assert_int_equal(backoff_delay_ms(a, 1, UINT32_MAX, 0), 0);
		assert_in_range(backoff_delay_ms(a, 500, 60000, 0x12345678u), 0, 60000);
	}
	/* Around the 32-bit shift boundary with no cap in the way. */
	assert_int_equal(backoff_delay_ms(32, 1, UINT32_MAX, UINT32_MAX), 0x80000000u);
	assert_int_equal(backoff_delay_ms(33, 1, UINT32_MAX, UINT32_MAX), UINT32_MAX);
	assert_int_equal(backoff_delay_ms(2, 0x80000000u, UINT32_MAX, UINT32_MAX), UINT32_MAX);
}

static void test_random_inputs_stay_in_range(void **state)
{
	uint64_t rng = 42;
	unsigned hit_ceiling = 0;
	(void)state;

	for (int i = 0; i < 200000; i++) {
		uint64_t r = test_rng_next(&rng);
		uint32_t attempt = (uint32_t)(r % 70);
		/* Mix small and full-range values so the cap and the shift both matter. */
		uint32_t initial = (r >> 8) & 1 ? (uint32_t)(r >> 32) % 5000 : (uint32_t)(r >> 32);
		uint32_t max = (r >> 9) & 1 ? (uint32_t)test_rng_next(&rng) % 100000
					    : (uint32_t)test_rng_next(&rng);
		uint32_t random = (uint32_t)test_rng_next(&rng);
		uint64_t ceiling = test_ceiling(attempt, initial, max);
		uint32_t d = backoff_delay_ms(attempt, initial, max, random);

		assert_true((uint64_t)d <= ceiling);
		assert_true(d <= max);
		/* The top of the random range reaches exactly the ceiling. */
		assert_true((uint64_t)backoff_delay_ms(attempt, initial, max, UINT32_MAX) ==
			    ceiling);
		if ((uint64_t)d == ceiling)
			hit_ceiling++;
	}
	/* Not everything is pinned to the ceiling: real jitter. */
	assert_true(hit_ceiling < 200000 / 10);
}

static void test_mean_and_spread(void **state)
{
	enum { DRAWS = 10000, BUCKETS = 10 };
	uint32_t prng = 12345;
	unsigned bucket[BUCKETS] = {0};
	uint64_t sum = 0;
	uint32_t lo = UINT32_MAX, hi = 0;
	(void)state;

	for (int i = 0; i < DRAWS; i++) {
		uint32_t d = backoff_delay_ms(5, 125, 60000, backoff_random(&prng));

		assert_in_range(d, 0, 2000);
		sum += d;
		bucket[d * BUCKETS / 2001]++;
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	/* Ceiling 2000: mean about 1000 (sd of the mean is about 6). */
	assert_in_range(sum / DRAWS, 900, 1100);
	assert_true(lo < 20);
	assert_true(hi > 1980);
	/* Each tenth of the range gets about 1000 draws (sd about 30). */
	for (int b = 0; b < BUCKETS; b++)
		assert_in_range(bucket[b], 800, 1200);
}

static int test_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void test_prng_xorshift32(void **state)
{
	uint32_t s = 1;
	uint32_t zero = 0;
	uint32_t seeded;
	(void)state;

	/* The textbook xorshift32 sequence from 1. */
	assert_int_equal(backoff_random(&s), 270369u);
	assert_int_equal(s, 270369u);
	assert_int_equal(backoff_random(&s), 67634689u);
	/* State 0 is replaced by a non-zero seed and then advanced. */
	seeded = backoff_random(&zero);
	assert_int_not_equal(seeded, 0);
	assert_int_equal(zero, seeded);
	assert_int_not_equal(backoff_random(&zero), seeded);
	/* Deterministic: the same state gives the same number. */
	zero = 0;
	assert_int_equal(backoff_random(&zero), seeded);
}

static void test_prng_never_zero_never_stuck(void **state)
{
	enum { N = 1000000, DISTINCT = 100000 };
	uint32_t s = 0;
	uint32_t *seen = malloc(DISTINCT * sizeof(*seen));
	unsigned high_bit = 0;
	(void)state;

	assert_non_null(seen);
	for (int i = 0; i < N; i++) {
		uint32_t prev = s;
		uint32_t x = backoff_random(&s);

		assert_int_not_equal(x, 0);
		assert_int_not_equal(x, prev);
		if (i < DISTINCT)
			seen[i] = x;
		high_bit += x >> 31;
	}
	/* A full-period generator repeats nothing this early. */
	qsort(seen, DISTINCT, sizeof(*seen), test_cmp_u32);
	for (int i = 1; i < DISTINCT; i++)
		assert_int_not_equal(seen[i - 1], seen[i]);
	free(seen);
	/* The top bit is set about half the time (sd 500). */
	assert_in_range(high_bit, N / 2 - 5000, N / 2 + 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ceiling_doubles_then_caps),
	    cmocka_unit_test(test_attempt_zero_is_one),
	    cmocka_unit_test(test_zero_initial_or_max),
	    cmocka_unit_test(test_random_mapping_exact),
	    cmocka_unit_test(test_huge_attempts),
	    cmocka_unit_test(test_random_inputs_stay_in_range),
	    cmocka_unit_test(test_mean_and_spread),
	    cmocka_unit_test(test_prng_xorshift32),
	    cmocka_unit_test(test_prng_never_zero_never_stuck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
