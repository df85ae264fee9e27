/* tda.c -- the public entry points of the tda module: options, input
 * validation, building the dense or sparse distance matrix the engine
 * (engine.c) reduces, and the result accessors.
 * SPDX-License-Identifier: MIT */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tda/par_int.h"
#include "tda/tda_int.h"

aura_tda_opts aura_tda_opts_default(void)
{
    return (aura_tda_opts){.max_dim = 1, .threshold = INFINITY, .ratio = 1.0f, .modulus = 2,
                           .cocycles = 0, .threads = 0, .alloc = NULL};
}

int aura_tda_is_prime(uint32_t p)
{
    if (p < 2) {
        return 0;
    }
    if (p % 2 == 0) {
        return p == 2;
    }
    for (uint32_t q = 3; q <= p / q; q += 2) {
        if (p % q == 0) {
            return 0;
        }
    }
    return 1;
}

static aura_status check_opts(const aura_tda_opts *o)
{
    if (o->max_dim < 0 || isnan(o->threshold) || isnan(o->ratio) ||
        o->modulus > AURA_TDA_MAX_MODULUS || !aura_tda_is_prime(o->modulus) ||
        (o->cocycles != 0 && o->cocycles != 1) || o->threads < 0 ||
        o->threads > AURA_TDA_MAX_THREADS) {
        return AURA_E_INVAL;
    }
    return AURA_OK;
}

/* No explicit threshold: INFINITY (or FLT_MAX, Ripser's marker). */
static int no_threshold(float t)
{
    return t >= FLT_MAX;
}

static int clip_dim(int max_dim, size_t n)
{
    int64_t d = (int64_t)n - 2;
    if (d > max_dim) {
        d = max_dim;
    }
    return d < 0 ? 0 : (int)d;
}

/* Creates the result, runs the engine, publishes on success. */
static aura_status run(const aura_tda_opts *o, const tda_space *sp, aura_tda_info info,
                       aura_tda_result **out)
{
    if (info.max_dim > TDA_MAX_DIM) {
        return AURA_E_RANGE;
    }
    aura_tda_result *r = aura__calloc(o->alloc, 1, sizeof(*r));
    if (!r) {
        return AURA_E_NOMEM;
    }
    r->alloc = o->alloc;
    r->n = sp->n;
    r->info = info;
    r->want_cc = o->cocycles;
    /* the cocycles are kept by the serial reduction */
    int threads = o->cocycles ? 1 : o->threads > 0 ? o->threads : aura__tda_online_cpus();
    aura_status st = aura__tda_run(o->alloc, sp, info.max_dim, info.threshold, o->ratio,
                                   o->modulus, threads, r);
    if (st != AURA_OK) {
        aura_tda_result_destroy(r);
        return st;
    }
    *out = r;
    return AURA_OK;
}

static aura_tda_info base_info(const aura_tda_opts *o, size_t n)
{
    return (aura_tda_info){.n_points = n, .max_dim = clip_dim(o->max_dim, n), .dense = 0,
                           .threshold = o->threshold, .enclosing_radius = NAN,
                           .min_value = NAN, .max_value = NAN, .n_edges = 0};
}

/* Sparse neighbour lists of the pairs of `lower` at most t apart. */
static aura_status sparse_from_lower(const aura_allocator *a, const float *lower, size_t n,
                                     float t, tda_nbr **nbr_out, int64_t **off_out,
                                     uint64_t *n_edges)
{
    int64_t *off = aura__calloc(a, n + 1, sizeof(int64_t));
    if (!off) {
        return AURA_E_NOMEM;
    }
    uint64_t m = 0;
    for (size_t i = 1; i < n; i++) {
        const float *row = lower + i * (i - 1) / 2;
        for (size_t j = 0; j < i; j++) {
            if (row[j] <= t) {
                off[i + 1]++;
                off[j + 1]++;
                m++;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        off[i + 1] += off[i];
    }
    tda_nbr *nbr = aura__alloc_array(a, (size_t)(m ? 2 * m : 1), sizeof(tda_nbr));
    int64_t *fill = aura__alloc_array(a, n ? n : 1, sizeof(int64_t));
    if (!nbr || !fill) {
        aura__free(a, nbr);
        aura__free(a, fill);
        aura__free(a, off);
        return AURA_E_NOMEM;
    }
    memcpy(fill, off, n * sizeof(int64_t));
    for (size_t i = 1; i < n; i++) {
        const float *row = lower + i * (i - 1) / 2;
        for (size_t j = 0; j < i; j++) {
            if (row[j] <= t) {
                nbr[fill[i]++] = (tda_nbr){(int32_t)j, row[j]};
                nbr[fill[j]++] = (tda_nbr){(int32_t)i, row[j]};
            }
        }
    }
    aura__free(a, fill);
    *nbr_out = nbr;
    *off_out = off;
    *n_edges = m;
    return AURA_OK;
}

/* Runs on a validated lower matrix: dense at the enclosing radius without
 * a threshold, sparse with one. */
static aura_status run_lower(const aura_tda_opts *o, const float *lower, size_t n,
                             aura_tda_result **out)
{
    aura_tda_info info = base_info(o, n);
    float lo = INFINITY, hi = -INFINITY;
    size_t m = n * (n ? n - 1 : 0) / 2;
    for (size_t q = 0; q < m; q++) {
        lo = lower[q] < lo ? lower[q] : lo;
        hi = lower[q] > hi ? lower[q] : hi;
    }
    info.min_value = lo;
    info.max_value = hi;
    if (no_threshold(o->threshold)) {
        float r;
        if (aura__tda_enclosing_radius(o->alloc, lower, n, &r) != AURA_OK) {
            return AURA_E_NOMEM;
        }
        info.dense = 1;
        info.enclosing_radius = r;
        info.threshold = r;
        for (size_t q = 0; q < m; q++) {
            info.n_edges += lower[q] <= r;
        }
        tda_space sp = {.n = (int64_t)n, .lower = lower};
        return run(o, &sp, info, out);
    }
    tda_nbr *nbr = NULL;
    int64_t *off = NULL;
    aura_status st = sparse_from_lower(o->alloc, lower, n, o->threshold, &nbr, &off,
                                       &info.n_edges);
    if (st == AURA_OK) {
        tda_space sp = {.n = (int64_t)n, .lower = lower, .nbr = nbr, .off = off};
        st = run(o, &sp, info, out);
    }
    aura__free(o->alloc, nbr);
    aura__free(o->alloc, off);
    return st;
}

static size_t lower_len(size_t n, int *overflow)
{
    size_t h = n ? n - 1 : 0;
    if (aura__mul_overflows(n, h) || aura__mul_overflows(n * h / 2, sizeof(float))) {
        *overflow = 1;
        return 0;
    }
    return n * h / 2;
}

/* Euclidean distance in float, accumulated in coordinate order (as Ripser). */
static float euclid(const float *x, const float *y, size_t d)
{
    float s = 0.0f;
    for (size_t k = 0; k < d; k++) {
        float t = x[k] - y[k];
        s += t * t;
    }
    return sqrtf(s);
}

/* Enclosing radius of a lower-triangular distance matrix: the smallest
 * row maximum (past it the complex is a cone, so nothing changes). */
aura_status aura__tda_enclosing_radius(const aura_allocator *a, const float *lower, size_t n,
                                       float *out)
{
    float *rmax = aura__calloc(a, n ? n : 1, sizeof(float));
    if (!rmax) {
        return AURA_E_NOMEM;
    }
    for (size_t i = 1; i < n; i++) {
        const float *row = lower + i * (i - 1) / 2;
        for (size_t j = 0; j < i; j++) {
            rmax[i] = row[j] > rmax[i] ? row[j] : rmax[i];
            rmax[j] = row[j] > rmax[j] ? row[j] : rmax[j];
        }
    }
    float r = INFINITY;
    for (size_t i = 0; i < n; i++) {
        r = rmax[i] < r ? rmax[i] : r;
    }
    aura__free(a, rmax);
    *out = r;
    return AURA_OK;
}

aura_status aura__tda_points_lower(const aura_allocator *a, const float *points, size_t n,
                                   size_t d, float **lower_out)
{
    if ((d == 0 && n > 0) || n > INT32_MAX || aura__mul_overflows(n, d)) {
        return AURA_E_INVAL;
    }
    for (size_t q = 0; q < n * d; q++) {
        if (!isfinite(points[q])) {
            return AURA_E_NUMERIC;
        }
    }
    int ovf = 0;
    size_t m = lower_len(n, &ovf);
    if (ovf) {
        return AURA_E_NOMEM;
    }
    float *lower = aura__alloc_array(a, m ? m : 1, sizeof(float));
    if (!lower) {
        return AURA_E_NOMEM;
    }
    for (size_t i = 1; i < n; i++) {
        float *row = lower + i * (i - 1) / 2;
        for (size_t j = 0; j < i; j++) {
            row[j] = euclid(points + i * d, points + j * d, d);
            if (!isfinite(row[j])) {
                aura__free(a, lower);
                return AURA_E_NUMERIC;
            }
        }
    }
    *lower_out = lower;
    return AURA_OK;
}

aura_status aura_tda_compute_points(const aura_tda_opts *opts, const float *points, size_t n,
                                    size_t d, aura_tda_result **out)
{
    aura_tda_opts o = opts ? *opts : aura_tda_opts_default();
    AURA_CHECK_ARG(out);
    AURA_CHECK_ARG(points || n == 0);
    if (check_opts(&o) != AURA_OK) {
        return AURA_E_INVAL;
    }
    float *lower = NULL;
    aura_status st = aura__tda_points_lower(o.alloc, points, n, d, &lower);
    if (st == AURA_OK) {
        st = run_lower(&o, lower, n, out);
        aura__free(o.alloc, lower);
    }
    return st;
}

static aura_status check_value(float x)
{
    if (!isfinite(x)) {
        return AURA_E_NUMERIC;
    }
    return x < 0 ? AURA_E_INVAL : AURA_OK;
}

aura_status aura_tda_compute_matrix(const aura_tda_opts *opts, const float *dist, size_t n,
                                    aura_tda_layout layout, aura_tda_result **out)
{
    aura_tda_opts o = opts ? *opts : aura_tda_opts_default();
    AURA_CHECK_ARG(out);
    AURA_CHECK_ARG(dist || n == 0);
    if (check_opts(&o) != AURA_OK || n > INT32_MAX ||
        (layout != AURA_TDA_FULL && layout != AURA_TDA_LOWER)) {
        return AURA_E_INVAL;
    }
    int ovf = 0;
    size_t m = lower_len(n, &ovf);
    if (ovf) {
        return AURA_E_NOMEM;
    }
    if (layout == AURA_TDA_LOWER) {
        for (size_t q = 0; q < m; q++) {
            aura_status st = check_value(dist[q]);
            if (st != AURA_OK) {
                return st;
            }
        }
        return run_lower(&o, dist, n, out);
    }
    float *lower = aura__alloc_array(o.alloc, m ? m : 1, sizeof(float));
    if (!lower) {
        return AURA_E_NOMEM;
    }
    aura_status st = AURA_OK;
    for (size_t i = 1; i < n && st == AURA_OK; i++) {
        for (size_t j = 0; j < i && st == AURA_OK; j++) {
            lower[i * (i - 1) / 2 + j] = dist[i * n + j];
            st = check_value(dist[i * n + j]);
        }
    }
    if (st == AURA_OK) {
        st = run_lower(&o, lower, n, out);
    }
    aura__free(o.alloc, lower);
    return st;
}

static int nbr_cmp(const void *a, const void *b)
{
    const tda_nbr *x = a, *y = b;
    if (x->idx != y->idx) {
        return x->idx < y->idx ? -1 : 1;
    }
    return x->d < y->d ? -1 : x->d > y->d;
}

aura_status aura_tda_compute_sparse(const aura_tda_opts *opts, size_t n,
                                    const aura_tda_edge *edges, size_t n_edges,
                                    aura_tda_result **out)
{
    aura_tda_opts o = opts ? *opts : aura_tda_opts_default();
    AURA_CHECK_ARG(out);
    AURA_CHECK_ARG(edges || n_edges == 0);
    if (check_opts(&o) != AURA_OK || n > INT32_MAX) {
        return AURA_E_INVAL;
    }
    for (size_t q = 0; q < n_edges; q++) {
        if (edges[q].i >= n || edges[q].j >= n) {
            return AURA_E_RANGE;
        }
        aura_status st = check_value(edges[q].d);
        if (st != AURA_OK) {
            return st;
        }
    }
    const aura_allocator *a = o.alloc;
    int64_t *off = aura__calloc(a, n + 1, sizeof(int64_t));
    if (!off) {
        return AURA_E_NOMEM;
    }
    size_t m = 0;
    for (size_t q = 0; q < n_edges; q++) {
        if (edges[q].i != edges[q].j && edges[q].d <= o.threshold) {
            off[edges[q].i + 1]++;
            off[edges[q].j + 1]++;
            m++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        off[i + 1] += off[i];
    }
    tda_nbr *nbr = aura__alloc_array(a, m ? 2 * m : 1, sizeof(tda_nbr));
    int64_t *fill = aura__alloc_array(a, n ? n : 1, sizeof(int64_t));
    aura_status st = (nbr && fill) ? AURA_OK : AURA_E_NOMEM;
    if (st == AURA_OK) {
        memcpy(fill, off, n * sizeof(int64_t));
        for (size_t q = 0; q < n_edges; q++) {
            aura_tda_edge e = edges[q];
            if (e.i != e.j && e.d <= o.threshold) {
                nbr[fill[e.i]++] = (tda_nbr){(int32_t)e.j, e.d};
                nbr[fill[e.j]++] = (tda_nbr){(int32_t)e.i, e.d};
            }
        }
        /* sort each row, drop repeats (which must agree), compact */
        int64_t w = 0;
        for (size_t v = 0; v < n && st == AURA_OK; v++) {
            int64_t lo = off[v], hi = off[v + 1];
            qsort(nbr + lo, (size_t)(hi - lo), sizeof(tda_nbr), nbr_cmp);
            off[v] = w;
            for (int64_t q = lo; q < hi; q++) {
                if (q > lo && nbr[q].idx == nbr[q - 1].idx) {
                    if (nbr[q].d != nbr[q - 1].d) {
                        st = AURA_E_INVAL;
                    }
                    continue;
                }
                nbr[w++] = nbr[q];
            }
        }
        off[n] = w;
    }
    if (st == AURA_OK) {
        aura_tda_info info = base_info(&o, n);
        info.n_edges = (uint64_t)off[n] / 2;
        tda_space sp = {.n = (int64_t)n, .nbr = nbr, .off = off};
        st = run(&o, &sp, info, out);
    }
    aura__free(a, fill);
    aura__free(a, nbr);
    aura__free(a, off);
    return st;
}

/* ---------------------------------------------------------------- results */

void aura_tda_result_destroy(aura_tda_result *r)
{
    if (!r) {
        return;
    }
    aura__free(r->alloc, r->pairs);
    aura__free(r->alloc, r->binom);
    aura__free(r->alloc, r->cc);
    aura__free(r->alloc, r->cc_end);
    aura__free(r->alloc, r);
}

int aura_tda_result_max_dim(const aura_tda_result *r)
{
    return r ? r->info.max_dim : -1;
}

size_t aura_tda_result_count(const aura_tda_result *r, int dim)
{
    if (!r || dim < 0 || dim >= r->n_dims) {
        return 0;
    }
    return r->dim_off[dim + 1] - r->dim_off[dim];
}

aura_status aura_tda_result_pairs(const aura_tda_result *r, int dim, aura_tda_pair *out,
                                  size_t cap, size_t *n_out)
{
    AURA_CHECK_ARG(r);
    AURA_CHECK_ARG(n_out);
    if (dim < 0 || dim >= r->n_dims) {
        return AURA_E_RANGE;
    }
    size_t cnt = aura_tda_result_count(r, dim);
    if (out && cap < cnt) {
        *n_out = cnt;
        return AURA_E_RANGE;
    }
    if (out) {
        const tda_pair_rec *p = r->pairs + r->dim_off[dim];
        for (size_t i = 0; i < cnt; i++) {
            out[i] = (aura_tda_pair){p[i].birth, p[i].death};
        }
    }
    *n_out = cnt;
    return AURA_OK;
}

/* Vertices of simplex idx (dimension dim), ascending. */
static void decode(const aura_tda_result *r, int64_t idx, int dim, int64_t *v)
{
    int64_t top = r->n - 1;
    for (int64_t k = dim + 1; k > 1; k--) {
        const int64_t *row = r->binom + k * r->bstride;
        while (row[top] > idx) {
            top--;
        }
        v[k - 1] = top;
        idx -= row[top];
    }
    v[0] = idx;
}

aura_status aura_tda_result_simplices(const aura_tda_result *r, int dim, size_t i,
                                      int64_t *birth, int64_t *death)
{
    AURA_CHECK_ARG(r);
    if (dim < 0 || dim >= r->n_dims || i >= aura_tda_result_count(r, dim)) {
        return AURA_E_RANGE;
    }
    const tda_pair_rec *p = r->pairs + r->dim_off[dim] + i;
    if (birth) {
        decode(r, p->bsimp, dim, birth);
    }
    if (death) {
        if (p->dsimp < 0) {
            for (int k = 0; k < dim + 2; k++) {
                death[k] = -1;
            }
        } else {
            decode(r, p->dsimp, dim + 1, death);
        }
    }
    return AURA_OK;
}

aura_status aura_tda_result_cocycle(const aura_tda_result *r, int dim, size_t i,
                                    int64_t *vertices, uint32_t *coefs, size_t cap,
                                    size_t *n_out)
{
    AURA_CHECK_ARG(r);
    AURA_CHECK_ARG(n_out);
    if (dim < 0 || dim >= r->n_dims || i >= aura_tda_result_count(r, dim)) {
        return AURA_E_RANGE;
    }
    if (!r->want_cc) {
        return AURA_E_STATE;
    }
    if (dim == 0) {
        *n_out = 0;
        return AURA_OK;
    }
    size_t k = r->dim_off[dim] + i - r->dim_off[1];
    size_t lo = k ? r->cc_end[k - 1] : 0, n = r->cc_end[k] - lo;
    if ((vertices || coefs) && cap < n) {
        *n_out = n;
        return AURA_E_RANGE;
    }
    for (size_t t = 0; t < n && (vertices || coefs); t++) {
        if (vertices) {
            decode(r, r->cc[lo + t].index, dim, vertices + t * (size_t)(dim + 1));
        }
        if (coefs) {
            coefs[t] = r->cc[lo + t].coef;
        }
    }
    *n_out = n;
    return AURA_OK;
}

aura_status aura_tda_result_info(const aura_tda_result *r, aura_tda_info *info)
{
    AURA_CHECK_ARG(r);
    AURA_CHECK_ARG(info);
    *info = r->info;
    return AURA_OK;
}
