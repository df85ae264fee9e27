/* signature.c -- turns a situation's feature vector into a fixed-size
 * signature with a seeded sparse random projection (Achlioptas, "Database-
 * friendly random projections", PODS 2001 / JCSS 2003).  The projection
 * matrix is implicit: entry (i, j) comes from a hash of (seed, i, j).
 * SPDX-License-Identifier: MIT */
#include <math.h>

#include "memory_int.h"

/* splitmix64 finalizer: a well-mixed 64-bit hash. */
static uint64_t mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

aura_status aura_memory_signature_project(const float *features, size_t n_features,
                                          uint64_t seed, float *out, size_t dim)
{
    AURA_CHECK_ARG(out && (features || n_features == 0));
    if (dim == 0 || dim > AURA_MEMORY_MAX_DIM) {
        return AURA_E_RANGE;
    }
    for (size_t j = 0; j < n_features; j++) {
        if (!isfinite(features[j])) {
            return AURA_E_NUMERIC;
        }
    }
    double acc[AURA_MEMORY_MAX_DIM] = {0};
    for (size_t j = 0; j < n_features; j++) {
        if (features[j] == 0.0f) {
            continue;
        }
        uint64_t col = mix(seed ^ mix((uint64_t)j));
        for (size_t i = 0; i < dim; i++) {
            /* 6 equally likely outcomes: +1, -1, or 0 (four of them). */
            uint64_t r = mix(col + i) % 6;
            acc[i] += r == 0 ? features[j] : r == 1 ? -(double)features[j] : 0.0;
        }
    }
    double scale = sqrt(3.0 / (double)dim);
    for (size_t i = 0; i < dim; i++) {
        double v = acc[i] * scale;
        if (!isfinite((float)v)) {
            return AURA_E_NUMERIC;  /* float overflow from huge features */
        }
    }
    for (size_t i = 0; i < dim; i++) {
        out[i] = (float)(acc[i] * scale);
    }
    return AURA_OK;
}
