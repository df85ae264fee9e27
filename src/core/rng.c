/* rng.c -- xoshiro256** (Blackman & Vigna 2018) seeded with splitmix64.
 * Chosen for speed, a 256-bit state and a well-studied output function;
 * the stream is identical on every platform.
 * SPDX-License-Identifier: MIT */
#include <math.h>

#include "aura/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

__extension__ typedef unsigned __int128 u128; /* GCC/Clang 128-bit product */

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void aura_rng_init(aura_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        rng->s[i] = splitmix64(&x);
    }
}

uint64_t aura_rng_u64(aura_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t aura_rng_below(aura_rng *rng, uint64_t n)
{
    if (n == 0) {
        return 0;
    }
    /* Lemire's nearly divisionless method with rejection. */
    u128 m = (u128)aura_rng_u64(rng) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (u128)aura_rng_u64(rng) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double aura_rng_uniform(aura_rng *rng)
{
    return (double)(aura_rng_u64(rng) >> 11) * 0x1.0p-53;
}

double aura_rng_normal(aura_rng *rng)
{
    /* u1 in (0, 1] so that log() is finite. */
    double u1 = 1.0 - aura_rng_uniform(rng);
    double u2 = aura_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
