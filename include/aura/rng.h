/* rng.h -- seeded pseudo-random numbers (xoshiro256**, seeded by splitmix64).
 *
 * AURA has no hidden global randomness: every function that draws random
 * numbers takes an aura_rng the caller seeded.  Same seed, same stream, on
 * every platform.  The state is plain data in the caller's storage.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_RNG_H
#define AURA_RNG_H

#include <stdint.h>

#include "aura/config.h"

typedef struct aura_rng {
    uint64_t s[4];
} aura_rng;

/* Seeds `rng` from a 64-bit seed (any value, 0 included). */
AURA_API void aura_rng_init(aura_rng *rng, uint64_t seed);

/* Next 64 uniformly distributed bits. */
AURA_API uint64_t aura_rng_u64(aura_rng *rng);

/* Uniform integer in [0, n); n == 0 gives 0.  Unbiased (Lemire's method). */
AURA_API uint64_t aura_rng_below(aura_rng *rng, uint64_t n);

/* Uniform double in [0, 1) with 53 random bits. */
AURA_API double aura_rng_uniform(aura_rng *rng);

/* Standard normal deviate (Box-Muller; no cached state, so the stream
 * depends only on the number of calls). */
AURA_API double aura_rng_normal(aura_rng *rng);

#endif /* AURA_RNG_H */
