/* tda.h -- Vietoris-Rips persistent homology (the `tda` module).
 *
 * Computes the persistence barcode of the Vietoris-Rips filtration of a
 * finite metric space given as a point cloud, a dense distance matrix or a
 * sparse list of edges, in every dimension 0..max_dim, with coefficients in
 * Z/pZ for any prime p < 2^16.  The algorithm is that of Ripser (U. Bauer,
 * "Ripser: efficient computation of Vietoris-Rips persistence barcodes",
 * J. Appl. Comput. Topol. 2021): cohomology with clearing, implicit
 * coboundaries in the combinatorial number system, apparent and emergent
 * pairs, union-find in dimension 0.  Values are single precision floats, as
 * in Ripser, so printed barcodes match Ripser's byte for byte.
 *
 * The readers (aura_tda_input_read) parse Ripser's input formats.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_TDA_H
#define AURA_TDA_H

#include <stddef.h>
#include <stdint.h>

#include "aura/alloc.h"
#include "aura/status.h"

/* Largest prime modulus accepted (the largest prime below 2^16). */
#define AURA_TDA_MAX_MODULUS 65521u

typedef struct aura_tda_opts {
    int max_dim;      /* highest homology dimension computed, >= 0; default 1 */
    float threshold;  /* keep simplices of diameter <= threshold.  Default
                         INFINITY: no explicit threshold; dense inputs are
                         then cut at their enclosing radius, which leaves the
                         barcode unchanged (Ripser's default) */
    float ratio;      /* report a pair of dim >= 1 only if death > birth*ratio;
                         default 1 (drops zero-length pairs) */
    uint32_t modulus; /* prime coefficient field Z/pZ, 2 <= p <= 65521; default 2 */
    int cocycles;     /* 1: also keep a representative cocycle of every pair of
                         dimension >= 1 (aura_tda_result_cocycle); default 0.
                         Not accepted by the edge-collapse calls (a cocycle of
                         the collapsed complex is not one of the Rips complex) */
    int threads;      /* threads for one computation, 0..AURA_TDA_MAX_THREADS;
                         0 (default): one per online processor; 1: serial.
                         The barcode (and its order) is the same for any value */
    const aura_allocator *alloc; /* NULL = aura_allocator_default() */
} aura_tda_opts;

/* Largest accepted aura_tda_opts.threads. */
#define AURA_TDA_MAX_THREADS 1024

/* Defaults: max_dim 1, threshold INFINITY, ratio 1, modulus 2, threads 0
 * (all online processors), alloc NULL.  With threads != 1 a custom
 * allocator is called under a lock, one thread at a time. */
AURA_API aura_tda_opts aura_tda_opts_default(void);

/* One persistence pair (interval [birth, death)).  death is INFINITY for
 * an essential class. */
typedef struct aura_tda_pair {
    float birth;
    float death;
} aura_tda_pair;

/* One entry of a sparse distance matrix: points i and j are at distance d. */
typedef struct aura_tda_edge {
    uint32_t i, j;
    float d;
} aura_tda_edge;

/* Layouts of a dense distance matrix. */
typedef enum aura_tda_layout {
    AURA_TDA_FULL = 0, /* n*n row-major; only the strict lower triangle is read */
    AURA_TDA_LOWER = 1 /* n(n-1)/2 values: row i holds d(i,0..i-1), rows 1..n-1 */
} aura_tda_layout;

/* What the computation saw (Ripser prints these in its header lines). */
typedef struct aura_tda_info {
    size_t n_points;        /* number of points (vertices) */
    int max_dim;            /* dimensions computed: min(opts.max_dim, n-2), at least 0 */
    int dense;              /* 1: dense matrix cut at the enclosing radius;
                               0: sparse matrix (explicit threshold or edge list) */
    float threshold;        /* threshold used (enclosing radius when dense) */
    float enclosing_radius; /* min_i max_j d(i,j); dense only, else NaN */
    float min_value;        /* smallest entry of the (dense) matrix; NaN if sparse input */
    float max_value;        /* largest finite entry; NaN if sparse input */
    uint64_t n_edges;       /* edges of length <= threshold */
} aura_tda_info;

/* The barcode: pairs per dimension, in Ripser's output order. */
typedef struct aura_tda_result aura_tda_result;

/* Barcode of the Rips filtration of n points in R^d (`points` row-major,
 * n*d floats, borrowed).  Without a threshold the full distance matrix is
 * built (n(n-1)/2 floats); with one, a sparse matrix of the edges below it.
 * Errors: AURA_E_INVAL (NULL, d == 0 with n > 0, bad opts), AURA_E_NUMERIC
 * (NaN/Inf coordinate), AURA_E_NOMEM, AURA_E_OVERFLOW (simplex indices do not
 * fit 64 bits).  *out is set only on success; destroy it with
 * aura_tda_result_destroy.  Cost: O(n^2 d) distances plus the reduction. */
AURA_API aura_status aura_tda_compute_points(const aura_tda_opts *opts, const float *points,
                                             size_t n, size_t d, aura_tda_result **out);

/* Barcode of a dense distance matrix of n points (see aura_tda_layout;
 * borrowed).  Entries must be finite and >= 0 (AURA_E_NUMERIC, AURA_E_INVAL
 * otherwise).  Other errors as aura_tda_compute_points. */
AURA_API aura_status aura_tda_compute_matrix(const aura_tda_opts *opts, const float *dist,
                                             size_t n, aura_tda_layout layout,
                                             aura_tda_result **out);

/* Barcode of a sparse distance matrix: n points, n_edges entries (borrowed;
 * any order, either orientation; i == j entries are ignored; a repeated
 * pair must repeat its value, else AURA_E_INVAL).  Missing pairs are at
 * infinite distance.  Indices must be < n (AURA_E_RANGE). */
AURA_API aura_status aura_tda_compute_sparse(const aura_tda_opts *opts, size_t n,
                                             const aura_tda_edge *edges, size_t n_edges,
                                             aura_tda_result **out);

/* Frees a result; NULL is a no-op. */
AURA_API void aura_tda_result_destroy(aura_tda_result *r);

/* Highest dimension present in the result (info.max_dim). */
AURA_API int aura_tda_result_max_dim(const aura_tda_result *r);

/* Number of pairs in dimension dim (0 if dim is out of range). */
AURA_API size_t aura_tda_result_count(const aura_tda_result *r, int dim);

/* Copies the pairs of dimension dim into out[0..cap).  *n_out is set to the
 * number of pairs; out == NULL only asks for that number.  cap too small:
 * AURA_E_RANGE and out untouched. */
AURA_API aura_status aura_tda_result_pairs(const aura_tda_result *r, int dim, aura_tda_pair *out,
                                           size_t cap, size_t *n_out);

/* The simplices of pair i of dimension dim as ascending vertex lists:
 * `birth` gets dim+1 vertices (the simplex that creates the class; in
 * dimension 0, a vertex of the component that dies), `death` gets dim+2
 * vertices (the simplex that kills it), or all -1 for an essential class.
 * Either pointer may be NULL.  Errors: AURA_E_RANGE (dim or i out of range). */
AURA_API aura_status aura_tda_result_simplices(const aura_tda_result *r, int dim, size_t i,
                                               int64_t *birth, int64_t *death);

/* The representative cocycle of pair i of dimension dim, kept when the
 * result was computed with opts.cocycles = 1.  It is a cochain on the
 * dim-simplices, as n terms: term t is the simplex with the ascending
 * vertices vertices[t*(dim+1) .. t*(dim+1)+dim] and coefficient coefs[t]
 * in 1..p-1.  Term 0 is the simplex that creates the class (coefficient
 * 1); the others follow in filtration order (diameter, then decreasing
 * simplex index), as ripser.py's do_cocycles lists them (ripser.py gives
 * vertices in descending order).  It is the column of Ripser's reduction
 * matrix: on the complex at any t with birth <= t < death (simplices of
 * diameter <= t; terms above t dropped) it is a cocycle whose class is
 * non-zero, and the cocycles of the pairs alive at t are a basis of the
 * cohomology there.  Dimension 0 has no cocycles (n = 0).
 * *n_out gets n; vertices and coefs (either may be NULL) receive cap
 * terms at most.  Errors: AURA_E_RANGE (dim or i out of range, or
 * cap < n, then nothing is written but *n_out), AURA_E_STATE (computed
 * without opts.cocycles).  The terms belong to the result. */
AURA_API aura_status aura_tda_result_cocycle(const aura_tda_result *r, int dim, size_t i,
                                             int64_t *vertices, uint32_t *coefs, size_t cap,
                                             size_t *n_out);

/* Copies what the computation saw into *info. */
AURA_API aura_status aura_tda_result_info(const aura_tda_result *r, aura_tda_info *info);

/* ---- readers for Ripser's input formats ---- */

typedef enum aura_tda_format {
    AURA_TDA_FMT_DISTANCE = 0,   /* full matrix, one row a line; lower part read */
    AURA_TDA_FMT_LOWER,          /* lower triangular values, any whitespace/commas */
    AURA_TDA_FMT_UPPER,          /* upper triangular values (row-major) */
    AURA_TDA_FMT_POINT_CLOUD,    /* one point a line */
    AURA_TDA_FMT_DIPHA,          /* DIPHA binary distance matrix (little-endian) */
    AURA_TDA_FMT_SPARSE,         /* "i j d" triplets, one a line */
    AURA_TDA_FMT_BINARY          /* lower triangular float32 values (little-endian) */
} aura_tda_format;

/* A parsed input: a point cloud, a dense lower matrix or a sparse matrix. */
typedef struct aura_tda_input aura_tda_input;

/* Parses `len` bytes of `buf` (borrowed) in format `fmt`.  `name` (may be
 * NULL) names the source in error messages.  On failure returns
 * AURA_E_FORMAT (malformed, ragged, truncated, empty), AURA_E_NUMERIC
 * (NaN/Inf), AURA_E_RANGE (negative distance, huge size) or AURA_E_NOMEM,
 * writes a one-line message naming the line and value into err[0..err_len)
 * (if err != NULL), and leaves *out untouched. */
AURA_API aura_status aura_tda_input_read(aura_tda_format fmt, const char *buf, size_t len,
                                         const char *name, const aura_allocator *alloc,
                                         aura_tda_input **out, char *err, size_t err_len);

/* Frees an input; NULL is a no-op. */
AURA_API void aura_tda_input_destroy(aura_tda_input *in);

/* Shape of an input: kind 0 point cloud (dim = coordinates), 1 dense
 * matrix, 2 sparse matrix; n = points; n_entries = entries read (edges with
 * i != j for sparse input). */
typedef struct aura_tda_input_shape {
    int kind;
    size_t n;
    size_t dim;
    size_t n_entries;
} aura_tda_input_shape;

AURA_API aura_tda_input_shape aura_tda_input_get_shape(const aura_tda_input *in);

/* Computes the barcode of a parsed input (dispatches to the compute calls
 * above). */
AURA_API aura_status aura_tda_input_compute(const aura_tda_opts *opts, const aura_tda_input *in,
                                            aura_tda_result **out);

/* 1 if p is prime. */
AURA_API int aura_tda_is_prime(uint32_t p);

#endif /* AURA_TDA_H */
