/* backoff.h -- exponential backoff with full jitter (internal to uplink, unit-tested). */
#ifndef IOT_EDGE_BACKOFF_H
#define IOT_EDGE_BACKOFF_H

#include <stdint.h>

/* The delay before retry number `attempt` (1 for the first retry): a value
 * drawn uniformly from [0, min(max_ms, initial_ms * 2^(attempt-1))] using
 * `random` (any 32-bit random number). Never overflows, whatever attempt is. */
uint32_t backoff_delay_ms(uint32_t attempt, uint32_t initial_ms, uint32_t max_ms, uint32_t random);

/* A small, thread-local-free PRNG (xorshift32): advances *state (never 0)
 * and returns the next number. */
uint32_t backoff_random(uint32_t *state);

#endif
