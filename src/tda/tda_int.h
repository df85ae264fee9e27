/* tda_int.h -- internals of the tda module shared by its source files:
 * the metric space handed to the reduction engine and the result layout.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_TDA_INT_H
#define AURA_TDA_INT_H

#include <stdint.h>

#include "aura/tda.h"
#include "core/core_int.h"

/* One neighbour in a sparse distance matrix (CSR row, ascending idx). */
typedef struct tda_nbr {
    int32_t idx;
    float d;
} tda_nbr;

/* The metric space: a compressed lower-triangular matrix (lower; d(i,j)
 * for j < i at lower[i(i-1)/2 + j]) and/or CSR neighbour lists (nbr[off[v]
 * .. off[v+1]) sorted by idx).  With nbr set, cofacets come from the lists
 * (sparse mode) and lower, if set, only speeds up distance lookups.
 * Borrowed by the engine. */
typedef struct tda_space {
    int64_t n;
    const float *lower;
    const tda_nbr *nbr;
    const int64_t *off;
} tda_space;

/* One recorded pair: values and the simplices (combinatorial indices). */
typedef struct tda_pair_rec {
    float birth, death;
    int64_t bsimp, dsimp; /* dsimp -1 for an essential class */
} tda_pair_rec;

/* One term of a representative cocycle: simplex index and coefficient. */
typedef struct tda_cc_term {
    int64_t index;
    uint32_t coef;
} tda_cc_term;

struct aura_tda_result {
    const aura_allocator *alloc;
    aura_tda_info info;
    int64_t n;
    int n_dims;          /* info.max_dim + 1 */
    size_t dim_off[66];  /* pairs of dim d: [dim_off[d], dim_off[d+1]) */
    tda_pair_rec *pairs;
    size_t n_pairs, cap;
    int64_t *binom;      /* binomial table for decoding simplices */
    int64_t bstride;     /* B(i,k) = binom[k * bstride + i] */
    int bk;              /* rows of the table: k = 0..bk-1 */
    /* Representative cocycles (opts.cocycles): set want_cc before
     * aura__tda_run.  Cocycle k belongs to pair dim_off[1] + k (every pair
     * of dimension >= 1 has one) and has the terms cc[k ? cc_end[k-1] : 0
     * .. cc_end[k]). */
    int want_cc;
    tda_cc_term *cc;
    size_t cc_n, cc_cap;
    size_t *cc_end;
    size_t cc_count, cc_end_cap;
};

/* Highest dimension the engine supports (fixed-size vertex buffers). */
#define TDA_MAX_DIM 60

/* Runs the reduction on `sp` into the (empty, allocated) result `res`:
 * fills res->pairs, dim_off, n_dims, binom.  threshold: keep simplices of
 * diameter <= threshold.  max_dim already clipped to [0, n-2].  threads:
 * how many threads to use (1: serial; the result is the same for any). */
aura_status aura__tda_run(const aura_allocator *a, const tda_space *sp, int max_dim,
                          float threshold, float ratio, uint32_t modulus, int threads,
                          aura_tda_result *res);

/* Validates a point cloud (n x d finite floats: AURA_E_INVAL for bad
 * sizes, AURA_E_NUMERIC for NaN/Inf) and builds its compressed lower-
 * triangular Euclidean distance matrix (row i holds d(i, 0..i-1)),
 * accumulated in float in coordinate order as Ripser does, so values and
 * barcodes match.  *lower is allocated from a; the caller frees it. */
/* The smallest row maximum of lower (n points): Ripser's default threshold. */
aura_status aura__tda_enclosing_radius(const aura_allocator *a, const float *lower, size_t n,
                                       float *out);
aura_status aura__tda_points_lower(const aura_allocator *a, const float *points, size_t n,
                                   size_t d, float **lower);

#endif /* AURA_TDA_INT_H */
