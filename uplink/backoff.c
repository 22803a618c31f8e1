/* backoff.c -- exponential backoff with full jitter and the xorshift32 PRNG that feeds it. */
#include "backoff.h"

/* Used when the caller's PRNG state is 0, the one state xorshift32 cannot leave. */
#define BACKOFF_SEED 0x9e3779b9u

/*
 * Returns a delay in [0, ceiling] where ceiling = min(max_ms, initial_ms <<
 * (attempt - 1)), computed in 64 bits with the shift clamped so nothing can
 * overflow. attempt 0 counts as 1; initial_ms 0 or max_ms 0 give 0.
 *
 * `random` is mapped onto [0, ceiling] as floor(random * (ceiling + 1) / 2^32):
 * 0 -> 0, UINT32_MAX -> ceiling, monotonic in between, and uniform to within
 * one part in 2^32 / (ceiling + 1). Pure function; any thread.
 */
uint32_t backoff_delay_ms(uint32_t attempt, uint32_t initial_ms, uint32_t max_ms, uint32_t random)
{
	uint32_t shift = attempt == 0 ? 0 : attempt - 1;
	uint64_t ceiling;

	if (shift >= 32) {
		/* initial_ms >= 1 shifted by >= 32 is > UINT32_MAX >= max_ms. */
		ceiling = initial_ms == 0 ? 0 : max_ms;
	} else {
		/* initial_ms < 2^32 and shift < 32: the result fits in 64 bits. */
		ceiling = (uint64_t)initial_ms << shift;
		if (ceiling > max_ms)
			ceiling = max_ms;
	}
	/* random < 2^32 and ceiling + 1 <= 2^32: the product fits in 64 bits,
	 * and the result is at most ceiling, so it fits in 32. */
	return (uint32_t)(((uint64_t)random * (ceiling + 1)) >> 32);
}

/*
 * Advances *state by one xorshift32 step (Marsaglia, shifts 13/17/5) and
 * returns the new state, which is never 0. A state of 0 is first replaced by
 * a fixed non-zero seed. Not thread-safe for a shared *state: give each
 * thread its own.
 */
uint32_t backoff_random(uint32_t *state)
{
	uint32_t x = *state;

	if (x == 0)
		x = BACKOFF_SEED;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}
