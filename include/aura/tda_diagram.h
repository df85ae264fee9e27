/* tda_diagram.h -- persistence diagrams after the computation: reading
 * Ripser-format barcodes, distances between diagrams (bottleneck and
 * p-Wasserstein), and vectorisations (summary statistics, persistence
 * entropy, Betti curves, persistence landscapes, persistence images).
 *
 * A diagram is an array of aura_tda_interval (double precision); death is
 * INFINITY for an essential class.  All functions borrow their inputs and
 * write numeric outputs into caller buffers; outputs are untouched on
 * failure.  NaN anywhere, or birth > death, gives AURA_E_NUMERIC /
 * AURA_E_INVAL as stated.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_TDA_DIAGRAM_H
#define AURA_TDA_DIAGRAM_H

#include <stddef.h>

#include "aura/alloc.h"
#include "aura/status.h"

typedef struct aura_tda_interval {
    double birth;
    double death; /* INFINITY for an essential class */
} aura_tda_interval;

/* AURA_OK if every interval has finite birth, death >= birth and no NaN;
 * else AURA_E_NUMERIC (NaN or infinite birth) or AURA_E_INVAL (birth >
 * death), with *bad (may be NULL) set to the first offending index. */
AURA_API aura_status aura_tda_diagram_check(const aura_tda_interval *d, size_t n, size_t *bad);

/* ---- Ripser-format barcodes ---- */

typedef struct aura_tda_barcode aura_tda_barcode;

/* Parses Ripser's (and `aura tda`'s) output: lines "persistence intervals
 * in dim k:" each followed by " [b,d)" or " [b, )" lines; other lines
 * (headers) are ignored.  On failure returns AURA_E_FORMAT (or _NOMEM)
 * and writes "line N: ..." into err (err_cap bytes, may be 0). */
AURA_API aura_status aura_tda_barcode_parse(const char *text, size_t len,
                                            const aura_allocator *alloc,
                                            aura_tda_barcode **out, char *err, size_t err_cap);
AURA_API void aura_tda_barcode_destroy(aura_tda_barcode *b);
/* Highest dimension with a header in the text, -1 if none. */
AURA_API int aura_tda_barcode_max_dim(const aura_tda_barcode *b);
/* The intervals of dimension dim (in file order), owned by b; *n = 0 and
 * NULL for a dimension without intervals. */
AURA_API const aura_tda_interval *aura_tda_barcode_intervals(const aura_tda_barcode *b, int dim,
                                                             size_t *n);

/* ---- distances ---- */

typedef enum aura_tda_metric {
    AURA_TDA_BOTTLENECK = 0,
    AURA_TDA_WASSERSTEIN = 1
} aura_tda_metric;

typedef struct aura_tda_distance_opts {
    const aura_allocator *alloc; /* NULL = default */
    aura_tda_metric metric;      /* default AURA_TDA_BOTTLENECK */
    double order;                /* p of p-Wasserstein, >= 1 (default 1) */
    double approx;               /* 0 = exact (default); eps > 0: see below */
} aura_tda_distance_opts;

AURA_API aura_tda_distance_opts aura_tda_distance_opts_default(void);

/* Distance between diagrams a and b (either may be empty), with the
 * L-infinity ground metric and points matched to the diagonal at distance
 * (death - birth) / 2, as GUDHI's bottleneck_distance and
 * wasserstein_distance (internal_p = inf) define them:
 *   bottleneck  = min over matchings of the largest cost,
 *   wasserstein = (min over matchings of the sum of cost^p)^(1/p).
 * Essential classes are matched among themselves by birth (sorted order,
 * which is optimal on a line); different numbers of them give INFINITY.
 * With opts->approx = 0 the result is exact (up to floating-point
 * rounding).  With approx = eps > 0 (finite) it is an upper bound within a
 * factor 1 + eps:  d <= *out <= (1 + eps) d  (d the exact distance; d = 0
 * gives 0), from a geometric bisection (bottleneck) or an auction
 * certified by its dual bound (Wasserstein); docs/tda_diagram.md.
 * Cost: bottleneck O(N^2.5 log N); Wasserstein successive shortest paths
 * on a sparse graph of the pairs with |a - b|^p <= diag(a)^p + diag(b)^p,
 * O(N E log N) worst case, memory O(N + E); N = na + nb finite points. */
AURA_API aura_status aura_tda_diagram_distance(const aura_tda_distance_opts *opts,
                                               const aura_tda_interval *a, size_t na,
                                               const aura_tda_interval *b, size_t nb,
                                               double *out);

/* ---- vectorisations ---- */

typedef struct aura_tda_summary {
    size_t count;             /* intervals */
    size_t essential;         /* of which with death = INFINITY */
    double total_persistence; /* sum of death - birth over finite intervals */
    double max_persistence;   /* 0 if none */
    double mean_persistence;  /* over finite intervals, 0 if none */
    double std_persistence;   /* population standard deviation */
    double entropy;           /* persistence entropy, see below */
    double mean_birth;        /* over all intervals, 0 if none */
    double mean_death;        /* over finite intervals, 0 if none */
} aura_tda_summary;

/* Summary statistics of a diagram.  The persistence entropy is
 * E = -sum_i (l_i / L) ln(l_i / L) over finite intervals with l_i > 0,
 * L = sum l_i (0 for no such interval), as in GUDHI's Entropy(mode=scalar). */
AURA_API aura_status aura_tda_diagram_summary(const aura_tda_interval *d, size_t n,
                                              aura_tda_summary *out);

/* The n_samples equally spaced values t_k = t_min + k (t_max - t_min) /
 * (n_samples - 1) (one sample: t_min) used by the curves below. */

/* Betti curve: out[k] = number of intervals with birth <= t_k < death
 * (essential classes included). */
AURA_API aura_status aura_tda_betti_curve(const aura_tda_interval *d, size_t n, double t_min,
                                          double t_max, size_t n_samples, double *out);

/* Persistence landscapes (Bubenik 2015): out[j * n_samples + k] =
 * lambda_{j+1}(t_k), the (j+1)-th largest of max(0, min(t - b, d - t))
 * over finite intervals, for j < n_layers. */
AURA_API aura_status aura_tda_landscape(const aura_tda_interval *d, size_t n, size_t n_layers,
                                        double t_min, double t_max, size_t n_samples,
                                        double *out);

typedef enum aura_tda_image_weight {
    AURA_TDA_WEIGHT_CONSTANT = 0,    /* w = 1 */
    AURA_TDA_WEIGHT_PERSISTENCE = 1, /* w = p (Adams et al. with a linear weight) */
    AURA_TDA_WEIGHT_RAMP = 2         /* w = min(p / ramp_end, 1) */
} aura_tda_image_weight;

typedef struct aura_tda_image_opts {
    size_t res_birth, res_pers;      /* grid size (default 20 x 20) */
    double birth_min, birth_max;     /* grid range (default: from the diagram) */
    double pers_min, pers_max;       /* when min == max both are taken from the data */
    double sigma;                    /* Gaussian bandwidth (default 1.0) */
    aura_tda_image_weight weight;    /* default AURA_TDA_WEIGHT_PERSISTENCE */
    double ramp_end;                 /* for AURA_TDA_WEIGHT_RAMP (default 1.0) */
} aura_tda_image_opts;

AURA_API aura_tda_image_opts aura_tda_image_opts_default(void);

/* Persistence image (Adams et al., JMLR 2017): finite intervals mapped to
 * (birth, persistence p = death - birth) and summed as weighted normalised
 * Gaussians exp(-|x - x_i|^2 / 2 sigma^2) / (2 pi sigma^2), evaluated at
 * grid points (as GUDHI's PersistenceImage does).  out[j * res_birth + i]
 * holds birth sample i and persistence sample j, each sampled like the
 * curves above over its range.  An empty diagram gives zeros. */
AURA_API aura_status aura_tda_persistence_image(const aura_tda_interval *d, size_t n,
                                                const aura_tda_image_opts *opts, double *out);

#endif /* AURA_TDA_DIAGRAM_H */
