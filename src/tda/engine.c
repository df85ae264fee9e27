/* engine.c -- persistent cohomology of a Vietoris-Rips filtration.
 *
 * The method of Ripser (U. Bauer, J. Appl. Comput. Topol. 2021), written
 * for AURA: simplices are integers in the combinatorial number system
 * (index of {v_0 < ... < v_k} = sum_i C(v_i, i+1)); coboundaries are
 * enumerated on the fly; columns are reduced with clearing, and apparent
 * and emergent pairs skip most of the work.  Dimension 0 is union-find.
 *
 * Filtration order: by diameter, ties broken by larger index first.  The
 * pivot of a coboundary is its first cofacet in that order (smallest
 * diameter, then largest index).  Coefficients live in Z/pZ.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tda/par_int.h"
#include "tda/tda_int.h"

#define MAXV (TDA_MAX_DIM + 3)

/* A simplex (or a term of a cochain): index, diameter, coefficient. */
typedef struct entry {
    int64_t index;
    float diam;
    uint16_t coef;
} entry;

static const entry NONE = {-1, 0.0f, 0};

typedef struct evec {
    entry *p;
    size_t n, cap;
} evec;

/* Coboundary enumerator state (dense and sparse variants share it). */
typedef struct cob {
    int64_t idx_below, idx_above, j, k;
    int64_t v[MAXV]; /* vertices, ascending */
    int nv;
    float diam;
    uint16_t coef;
    uint16_t coef_sign[2]; /* coef and -coef mod p */
    int64_t pos[MAXV], end[MAXV]; /* sparse: cursors walking rows downwards */
    tda_nbr nb;                   /* sparse: the current common neighbour */
} cob;

/* Pivot lookup: open addressing, linear probing, key -1 = empty. */
typedef struct pslot {
    int64_t key;
    uint32_t col;
    uint16_t coef;
} pslot;

typedef struct pmap {
    pslot *s;
    size_t cap, n; /* cap is a power of two */
} pmap;

typedef struct work work;

typedef struct work {
    const aura_allocator *a;
    aura_status st;
    int64_t n;
    int dim_max;
    float threshold, ratio;
    uint32_t p;
    const float *lower; /* distance lookups (may be set in sparse mode too) */
    const tda_nbr *nbr;
    const int64_t *off;
    int sparse; /* enumerate cofacets from nbr/off */
    int64_t *B, bs; /* B(i,k) = B[k*bs + i] */
    uint32_t *inv;
    evec heap_cob, heap_red; /* working coboundary and reduction column */
    evec cofacets, simplices, next_simplices, columns, red_entries;
    size_t *bounds;
    size_t bounds_cap;
    pmap map;
    cob c_main;
    aura_tda_result *res;
    tda_pool *pool; /* NULL: serial; else see "parallel phases" */
    work *thr;      /* per-thread clones, pool size many */
} work;

/* ---------------------------------------------------------------- helpers */

static inline int64_t binom(const work *w, int64_t i, int64_t k)
{
    return w->B[k * w->bs + i];
}

static inline float dense_dist(const work *w, int64_t i, int64_t j)
{
    return i > j ? w->lower[i * (i - 1) / 2 + j] : w->lower[j * (j - 1) / 2 + i];
}

static float sparse_dist(const work *w, int64_t i, int64_t j)
{
    int64_t lo = w->off[i], hi = w->off[i + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (w->nbr[mid].idx < j) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return (lo < w->off[i + 1] && w->nbr[lo].idx == j) ? w->nbr[lo].d : INFINITY;
}

static inline float dist(const work *w, int64_t i, int64_t j)
{
    return w->lower ? dense_dist(w, i, j) : sparse_dist(w, i, j);
}

static int evec_reserve(work *w, evec *v, size_t need)
{
    if (need <= v->cap) {
        return 1;
    }
    size_t cap = v->cap ? v->cap : 16;
    while (cap < need) {
        cap *= 2;
    }
    entry *p = aura__realloc_array(w->a, v->p, cap, sizeof(entry));
    if (!p) {
        w->st = AURA_E_NOMEM;
        return 0;
    }
    v->p = p;
    v->cap = cap;
    return 1;
}

static inline int evec_push(work *w, evec *v, entry e)
{
    if (v->n == v->cap && !evec_reserve(w, v, v->n + 1)) {
        return 0;
    }
    v->p[v->n++] = e;
    return 1;
}

static void evec_free(work *w, evec *v)
{
    aura__free(w->a, v->p);
    *v = (evec){0};
}

/* Largest v in [k-1, top] with C(v, k) <= idx. */
static inline int64_t max_vertex(const work *w, int64_t idx, int64_t k, int64_t top)
{
    const int64_t *row = w->B + k * w->bs;
    if (row[top] > idx) {
        int64_t count = top - (k - 1);
        while (count > 0) {
            int64_t step = count >> 1, mid = top - step;
            if (row[mid] > idx) {
                top = mid - 1;
                count -= step + 1;
            } else {
                count = step;
            }
        }
    }
    return top;
}

/* Vertices of simplex idx of dimension dim, ascending, into v[0..dim]. */
static void vertices(const work *w, int64_t idx, int dim, int64_t *v)
{
    int64_t top = w->n - 1;
    for (int64_t k = dim + 1; k > 1; k--) {
        top = max_vertex(w, idx, k, top);
        v[k - 1] = top;
        idx -= binom(w, top, k);
    }
    v[0] = idx;
}

/* ------------------------------------------------------------------ heap */
/* Top = smallest diameter, ties: largest index. */

static inline int before(entry a, entry b)
{
    return a.diam < b.diam || (a.diam == b.diam && a.index > b.index);
}

static inline int heap_push(work *w, evec *h, entry e)
{
    if (h->n == h->cap && !evec_reserve(w, h, h->n + 1)) {
        return 0;
    }
    size_t i = h->n++;
    entry *p = h->p;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(e, p[parent])) {
            break;
        }
        p[i] = p[parent];
        i = parent;
    }
    p[i] = e;
    return 1;
}

static inline void heap_pop(evec *h)
{
    entry *p = h->p;
    entry last = p[--h->n];
    size_t n = h->n, i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && before(p[c + 1], p[c])) {
            c++;
        }
        if (!before(p[c], last)) {
            break;
        }
        p[i] = p[c];
        i = c;
    }
    if (n > 0) {
        p[i] = last;
    }
}

/* Removes and returns the pivot (first term with non-zero summed
 * coefficient), or NONE. */
static entry pop_pivot(work *w, evec *h)
{
    entry pivot = NONE;
    while (h->n > 0) {
        entry top = h->p[0];
        if (pivot.coef == 0) {
            pivot = top;
        } else if (top.index != pivot.index) {
            return pivot;
        } else {
            pivot.coef = (uint16_t)((pivot.coef + top.coef) % w->p);
        }
        heap_pop(h);
    }
    return pivot.coef == 0 ? NONE : pivot;
}

/* Removes p[c], a child of the root holding the root's key: the last
 * element only needs to sift down from c. */
static inline void heap_remove_child(evec *h, size_t c)
{
    entry *p = h->p;
    entry last = p[--h->n];
    size_t n = h->n;
    if (c == n) {
        return;
    }
    for (;;) {
        size_t d = 2 * c + 1;
        if (d >= n) {
            break;
        }
        if (d + 1 < n && before(p[d + 1], p[d])) {
            d++;
        }
        if (!before(p[d], last)) {
            break;
        }
        p[c] = p[d];
        c = d;
    }
    p[c] = last;
}

/* The pivot, left on top of the heap with its copies summed into it (pop
 * and push back, without the push). */
static entry get_pivot(work *w, evec *h)
{
    while (h->n > 0) {
        entry *p = h->p;
        uint32_t coef = p[0].coef;
        while (h->n > 1) {
            size_t c = (h->n > 2 && before(p[2], p[1])) ? 2 : 1;
            if (p[c].index != p[0].index) {
                break;
            }
            coef = (coef + p[c].coef) % w->p;
            heap_remove_child(h, c);
        }
        if (coef != 0) {
            p[0].coef = (uint16_t)coef;
            return p[0];
        }
        heap_pop(h);
    }
    return NONE;
}

/* ------------------------------------------------------------ pivot map */

static inline size_t phash(int64_t key, size_t mask)
{
    return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}

static int pmap_init(work *w, size_t expect)
{
    size_t cap = 64;
    while (cap < 2 * expect + 2) {
        cap *= 2;
    }
    if (w->map.cap < cap) {
        aura__free(w->a, w->map.s);
        w->map.s = aura__alloc_array(w->a, cap, sizeof(pslot));
        w->map.cap = w->map.s ? cap : 0;
        if (!w->map.s) {
            w->st = AURA_E_NOMEM;
            return 0;
        }
    }
    for (size_t i = 0; i < w->map.cap; i++) {
        w->map.s[i].key = -1;
    }
    w->map.n = 0;
    return 1;
}

static inline const pslot *pmap_find(const work *w, int64_t key)
{
    size_t mask = w->map.cap - 1;
    for (size_t i = phash(key, mask);; i = (i + 1) & mask) {
        const pslot *s = &w->map.s[i];
        /* acquire: the parallel reduction reads while one thread inserts */
        int64_t k = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);
        if (k == key) {
            return s;
        }
        if (k == -1) {
            return NULL;
        }
    }
}

static int pmap_insert(work *w, int64_t key, uint32_t col, uint16_t coef)
{
    if (2 * (w->map.n + 1) > w->map.cap) {
        pmap old = w->map;
        w->map.s = aura__alloc_array(w->a, old.cap * 2, sizeof(pslot));
        if (!w->map.s) {
            w->map = old;
            w->st = AURA_E_NOMEM;
            return 0;
        }
        w->map.cap = old.cap * 2;
        w->map.n = 0;
        for (size_t i = 0; i < w->map.cap; i++) {
            w->map.s[i].key = -1;
        }
        for (size_t i = 0; i < old.cap; i++) {
            if (old.s[i].key != -1) {
                pmap_insert(w, old.s[i].key, old.s[i].col, old.s[i].coef);
            }
        }
        aura__free(w->a, old.s);
    }
    size_t mask = w->map.cap - 1;
    size_t i = phash(key, mask);
    while (w->map.s[i].key != -1) {
        i = (i + 1) & mask;
    }
    w->map.s[i].col = col;
    w->map.s[i].coef = coef;
    __atomic_store_n(&w->map.s[i].key, key, __ATOMIC_RELEASE); /* published last */
    w->map.n++;
    return 1;
}

/* ------------------------------------------------ coboundary enumeration */

static void cob_start(const work *w, cob *c, entry s, int dim)
{
    c->idx_below = s.index;
    c->idx_above = 0;
    c->j = w->n - 1;
    c->k = dim + 1;
    c->diam = s.diam;
    c->coef = s.coef;
    c->coef_sign[0] = s.coef;
    c->coef_sign[1] = (uint16_t)((w->p - 1) * (uint32_t)s.coef % w->p);
    c->nv = dim + 1;
    if (w->sparse) {
        for (int i = 0; i <= dim; i++) {
            c->pos[i] = w->off[c->v[i] + 1] - 1;
            c->end[i] = w->off[c->v[i]] - 1;
        }
    }
}

static void cob_set(const work *w, cob *c, entry s, int dim)
{
    vertices(w, s.index, dim, c->v);
    cob_start(w, c, s, dim);
}

/* Vertices of the cofacet cob_next returned last. */
static void cob_last_vertices(const work *w, const cob *c, int64_t *out)
{
    int64_t j = w->sparse ? c->nb.idx : c->j + 1;
    int pos = (int)c->k;
    for (int i = 0, o = 0; i <= c->nv; i++) {
        out[i] = i == pos ? j : c->v[o++];
    }
}

/* Sparse: advance to the next common neighbour of all vertices (walking
 * downwards); with all == 0 stop once it is below the top vertex. */
static int cob_has_next_sparse(const work *w, cob *c, int all)
{
    for (; c->pos[0] != c->end[0]; c->pos[0]--) {
        tda_nbr nb = w->nbr[c->pos[0]];
        for (int i = 1; i < c->nv; i++) {
            while (w->nbr[c->pos[i]].idx > nb.idx) {
                if (--c->pos[i] == c->end[i]) {
                    return 0;
                }
            }
            tda_nbr o = w->nbr[c->pos[i]];
            if (o.idx != nb.idx) {
                goto next_candidate;
            }
            if (o.d > nb.d) {
                nb.d = o.d;
            }
        }
        while (c->k > 0 && c->v[c->k - 1] > nb.idx) {
            if (!all) {
                return 0;
            }
            c->idx_below -= binom(w, c->v[c->k - 1], c->k);
            c->idx_above += binom(w, c->v[c->k - 1], c->k + 1);
            c->k--;
        }
        c->nb = nb;
        return 1;
    next_candidate:;
    }
    return 0;
}

static inline int cob_has_next(const work *w, cob *c, int all)
{
    if (w->sparse) {
        return cob_has_next_sparse(w, c, all);
    }
    return c->j >= c->k && (all || binom(w, c->j, c->k) > c->idx_below);
}

static inline uint16_t cob_coef(const cob *c)
{
    return c->coef_sign[c->k & 1];
}

static inline entry cob_next(const work *w, cob *c)
{
    entry e;
    if (w->sparse) {
        c->pos[0]--;
        e.diam = c->diam > c->nb.d ? c->diam : c->nb.d;
        e.index = c->idx_above + binom(w, c->nb.idx, c->k + 1) + c->idx_below;
        e.coef = cob_coef(c);
        return e;
    }
    while (binom(w, c->j, c->k) <= c->idx_below) {
        c->idx_below -= binom(w, c->j, c->k);
        c->idx_above += binom(w, c->j, c->k + 1);
        c->j--;
        c->k--;
    }
    float d = c->diam;
    const float *row = w->lower + c->j * (c->j - 1) / 2;
    for (int i = c->nv - 1; i >= 0; i--) {
        int64_t v = c->v[i];
        float x = v < c->j ? row[v] : w->lower[v * (v - 1) / 2 + c->j];
        if (x > d) {
            d = x;
        }
    }
    e.diam = d;
    e.index = c->idx_above + binom(w, c->j, c->k + 1) + c->idx_below;
    c->j--;
    e.coef = cob_coef(c);
    return e;
}

/* ------------------------------------------------ apparent pairs */

/* First facet (in order of increasing index) of s with the diameter of s;
 * v holds the dim+1 vertices of s.  *removed gets the position of the
 * vertex the facet lacks. */
static entry zero_pivot_facet_v(const work *w, const int64_t *v, entry s, int dim, int *removed)
{
    /* facet k keeps the diameter iff some longest edge of s avoids v[k].
     * Facets come in the order k = dim, dim-1, ..., 0. */
    int64_t below = s.index, above = 0;
    float rest = -INFINITY; /* diameter of the facet without v[dim] */
    for (int a = 1; a < dim; a++) {
        for (int b = 0; b < a; b++) {
            float d = dist(w, v[a], v[b]);
            rest = d > rest ? d : rest;
        }
    }
    int k = dim;
    if (rest != s.diam) {
        /* every longest edge contains v[dim]: edges (v[dim], v[b]) */
        int hits = 0, last = -1;
        for (int b = 0; b < dim; b++) {
            if (dist(w, v[dim], v[b]) == s.diam) {
                hits++;
                last = b;
            }
        }
        below -= binom(w, v[dim], dim + 1);
        above += binom(w, v[dim], dim);
        for (k = dim - 1; k >= 0; k--) {
            if (hits >= 2 || (hits == 1 && last != k)) {
                break;
            }
            below -= binom(w, v[k], k + 1);
            above += binom(w, v[k], k);
        }
        if (k < 0) {
            return NONE;
        }
    }
    uint32_t sign = (k & 1) ? w->p - 1 : 1;
    *removed = k;
    return (entry){above - binom(w, v[k], k + 1) + below, s.diam,
                   (uint16_t)(sign * s.coef % w->p)};
}

/* Sparse case of zero_pivot_cofacet_v: the largest common neighbour j of
 * the vertices of s with every edge to them <= diam(s). */
static entry zero_pivot_cofacet_sparse(const work *w, const int64_t *v, entry s, int dim,
                                       int64_t *cv)
{
    int64_t pos[MAXV], end[MAXV];
    for (int i = 0; i <= dim; i++) {
        pos[i] = w->off[v[i] + 1] - 1;
        end[i] = w->off[v[i]] - 1;
    }
    for (; pos[0] != end[0]; pos[0]--) {
        tda_nbr nb = w->nbr[pos[0]];
        if (nb.d > s.diam) {
            continue;
        }
        int i = 1;
        for (; i <= dim; i++) {
            while (w->nbr[pos[i]].idx > nb.idx) {
                if (--pos[i] == end[i]) {
                    return NONE;
                }
            }
            tda_nbr o = w->nbr[pos[i]];
            if (o.idx != nb.idx || o.d > s.diam) {
                break;
            }
        }
        if (i <= dim) {
            continue;
        }
        int64_t j = nb.idx;
        int k = 0; /* vertices of s below j */
        while (k <= dim && v[k] < j) {
            k++;
        }
        int64_t index = binom(w, j, k + 1);
        for (int q = 0; q <= dim; q++) {
            index += binom(w, v[q], q < k ? q + 1 : q + 2);
            cv[q < k ? q : q + 1] = v[q];
        }
        cv[k] = j;
        uint32_t sign = (k & 1) ? w->p - 1 : 1;
        return (entry){index, s.diam, (uint16_t)(sign * s.coef % w->p)};
    }
    return NONE;
}

/* Dense case of zero_pivot_cofacet_v: the largest vertex j (not in s) with
 * d(j, v) <= diam(s) for every vertex v of s gives the cofacet of largest
 * index among those with the diameter of s. */
static entry zero_pivot_cofacet_dense(const work *w, const int64_t *v, entry s, int dim,
                                      int64_t *cv)
{
    int k = dim + 1; /* vertices of s below j */
    for (int64_t j = w->n - 1; j >= 0; j--) {
        if (k > 0 && v[k - 1] == j) {
            k--;
            continue;
        }
        const float *row = w->lower + j * (j - 1) / 2;
        int ok = 1;
        /* top vertex first: below it, d(j, v[dim]) runs along one row */
        for (int i = dim; i >= 0 && ok; i--) {
            int64_t x = v[i];
            ok = (x < j ? row[x] : w->lower[x * (x - 1) / 2 + j]) <= s.diam;
        }
        if (!ok) {
            continue;
        }
        int64_t index = binom(w, j, k + 1);
        for (int i = 0; i <= dim; i++) {
            index += binom(w, v[i], i < k ? i + 1 : i + 2);
            cv[i < k ? i : i + 1] = v[i];
        }
        cv[k] = j;
        uint32_t sign = (k & 1) ? w->p - 1 : 1;
        return (entry){index, s.diam, (uint16_t)(sign * s.coef % w->p)};
    }
    return NONE;
}

/* First cofacet (largest index) of s with the diameter of s; its vertices
 * go to cv. */
static entry zero_pivot_cofacet_v(work *w, const int64_t *v, entry s, int dim, int64_t *cv)
{
    return w->sparse ? zero_pivot_cofacet_sparse(w, v, s, dim, cv)
                     : zero_pivot_cofacet_dense(w, v, s, dim, cv);
}

/* The facet f of s such that (f, s) is an apparent pair, or NONE. */
static entry zero_apparent_facet_v(work *w, const int64_t *v, entry s, int dim)
{
    int k = 0;
    entry f = zero_pivot_facet_v(w, v, s, dim, &k);
    if (f.index == -1) {
        return NONE;
    }
    int64_t fv[MAXV], cv[MAXV];
    for (int a = 0, b = 0; a <= dim; a++) {
        if (a != k) {
            fv[b++] = v[a];
        }
    }
    return zero_pivot_cofacet_v(w, fv, f, dim - 1, cv).index == s.index ? f : NONE;
}

static entry zero_apparent_facet(work *w, entry s, int dim)
{
    int64_t v[MAXV];
    vertices(w, s.index, dim, v);
    return zero_apparent_facet_v(w, v, s, dim);
}

/* The cofacet c of s such that (s, c) is an apparent pair, or NONE. */
static entry zero_apparent_cofacet_v(work *w, const int64_t *v, entry s, int dim)
{
    int64_t cv[MAXV];
    int k = 0;
    entry c = zero_pivot_cofacet_v(w, v, s, dim, cv);
    if (c.index != -1 && zero_pivot_facet_v(w, cv, c, dim + 1, &k).index == s.index) {
        return c;
    }
    return NONE;
}

/* ------------------------------------------------ sorting */

/* a comes first in a column list: larger diameter, then smaller index. */
static inline int col_less(entry a, entry b)
{
    return a.diam > b.diam || (a.diam == b.diam && a.index < b.index);
}

static void insertion_sort(entry *p, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        entry x = p[i];
        size_t j = i;
        while (j > 0 && col_less(x, p[j - 1])) {
            p[j] = p[j - 1];
            j--;
        }
        p[j] = x;
    }
}

/* Quicksort (median of three) by col_less; keys are unique. */
static void sort_columns(entry *p, size_t n)
{
    while (n > 24) {
        entry *m = p + n / 2, *l = p + n - 1;
        if (col_less(*m, *p)) { entry t = *m; *m = *p; *p = t; }
        if (col_less(*l, *m)) { entry t = *l; *l = *m; *m = t; }
        if (col_less(*m, *p)) { entry t = *m; *m = *p; *p = t; }
        entry pivot = *m;
        size_t i = 0, j = n - 1;
        for (;;) {
            while (col_less(p[i], pivot)) i++;
            while (col_less(pivot, p[j])) j--;
            if (i >= j) break;
            entry t = p[i]; p[i] = p[j]; p[j] = t;
            i++;
            j--;
        }
        size_t left = j + 1;
        if (left < n - left) {
            sort_columns(p, left);
            p += left;
            n -= left;
        } else {
            sort_columns(p + left, n - left);
            n = left;
        }
    }
    insertion_sort(p, n);
}

static void reverse(entry *p, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        entry t = p[i];
        p[i] = p[j - 1];
        p[j - 1] = t;
    }
}

/* ------------------------------------------------ results */

static int record(work *w, float birth, float death, int64_t bsimp, int64_t dsimp)
{
    aura_tda_result *r = w->res;
    if (r->n_pairs == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        tda_pair_rec *p = aura__realloc_array(w->a, r->pairs, cap, sizeof(*p));
        if (!p) {
            w->st = AURA_E_NOMEM;
            return 0;
        }
        r->pairs = p;
        r->cap = cap;
    }
    r->pairs[r->n_pairs++] = (tda_pair_rec){birth, death, bsimp, dsimp};
    return 1;
}

/* ------------------------------------------------ representative cocycles */
/* With res->want_cc, every recorded pair of dimension >= 1 keeps the
 * column of the reduction matrix V (R = delta V) of the simplex that
 * created it: that cochain is a cocycle on every complex of the filtration
 * before the death and represents the class (de Silva, Morozov,
 * Vejdemo-Johansson 2011; ripser.py's do_cocycles).  Columns that never
 * reach the heap (emergent pairs) have V = the simplex alone, and a pivot
 * removed through an apparent pair (e, pivot) put e into heap_red, so the
 * stored columns are exact.  Off, this costs one test per finished column. */

static int cc_push(work *w, int64_t index, uint32_t coef)
{
    aura_tda_result *r = w->res;
    if (r->cc_n == r->cc_cap) {
        size_t cap = r->cc_cap ? 2 * r->cc_cap : 64;
        tda_cc_term *p = aura__realloc_array(w->a, r->cc, cap, sizeof(*p));
        if (!p) {
            w->st = AURA_E_NOMEM;
            return 0;
        }
        r->cc = p;
        r->cc_cap = cap;
    }
    r->cc[r->cc_n++] = (tda_cc_term){index, coef};
    return 1;
}

/* Ends the cocycle being written: it belongs to the pair recorded last. */
static int cc_close(work *w)
{
    aura_tda_result *r = w->res;
    if (r->cc_count == r->cc_end_cap) {
        size_t cap = r->cc_end_cap ? 2 * r->cc_end_cap : 64;
        size_t *p = aura__realloc_array(w->a, r->cc_end, cap, sizeof(*p));
        if (!p) {
            w->st = AURA_E_NOMEM;
            return 0;
        }
        r->cc_end = p;
        r->cc_end_cap = cap;
    }
    r->cc_end[r->cc_count++] = r->cc_n;
    return 1;
}

/* Cocycle of a finite pair: column col (already through finish_column)
 * is its simplex, coefficient 1, plus its stored reduction entries. */
static int cc_store_column(work *w, size_t col)
{
    size_t lo = col == 0 ? 0 : w->bounds[col - 1], hi = w->bounds[col];
    if (!cc_push(w, w->columns.p[col].index, 1)) {
        return 0;
    }
    for (size_t q = lo; q < hi; q++) {
        if (!cc_push(w, w->red_entries.p[q].index, w->red_entries.p[q].coef)) {
            return 0;
        }
    }
    return cc_close(w);
}

/* Cocycle of an essential class: s plus the working reduction column
 * (summed and emptied here; essential columns are never stored). */
static int cc_store_heap(work *w, entry s)
{
    if (!cc_push(w, s.index, 1)) {
        return 0;
    }
    for (entry e = pop_pivot(w, &w->heap_red); e.index != -1; e = pop_pivot(w, &w->heap_red)) {
        if (!cc_push(w, e.index, e.coef)) {
            return 0;
        }
    }
    return cc_close(w);
}

/* ------------------------------------------------ parallel phases (defined at the end) */

static int sort_entries(work *w, entry *p, size_t n);
static int collect_edges_par(work *w);
static int dim0_par(work *w, int32_t *parent, uint8_t *rank);
static int assemble_par(work *w, int dim);
static int compute_pairs_par(work *w, int dim);

/* ------------------------------------------------ dimension 0 */

static int64_t uf_find(int32_t *parent, int64_t x)
{
    int64_t y = x, z;
    while ((z = parent[y]) != y) {
        y = z;
    }
    while ((z = parent[x]) != y) {
        parent[x] = (int32_t)y;
        x = z;
    }
    return y;
}

static int collect_edges(work *w)
{
    evec *e = &w->simplices;
    e->n = 0;
    if (w->pool && !w->sparse && w->n >= 256) {
        return collect_edges_par(w);
    }
    if (!w->sparse) {
        for (int64_t i = w->n - 1; i >= 1; i--) {
            const float *row = w->lower + i * (i - 1) / 2;
            int64_t base = binom(w, i, 2);
            for (int64_t j = i - 1; j >= 0; j--) {
                if (row[j] <= w->threshold && !evec_push(w, e, (entry){base + j, row[j], 1})) {
                    return 0;
                }
            }
        }
    } else {
        for (int64_t i = 0; i < w->n; i++) {
            for (int64_t q = w->off[i]; q < w->off[i + 1] && w->nbr[q].idx < i; q++) {
                entry x = {binom(w, i, 2) + w->nbr[q].idx, w->nbr[q].d, 1};
                if (x.diam <= w->threshold && !evec_push(w, e, x)) {
                    return 0;
                }
            }
        }
    }
    if (!sort_entries(w, e->p, e->n)) {
        return 0;
    }
    reverse(e->p, e->n); /* increasing diameter, then decreasing index */
    return 1;
}

/* Union-find step of edge e: records the pair if e joins two components;
 * returns 1 if e closes a cycle (a column candidate), 0 if not, -1 on
 * failure. */
static int uf_edge(work *w, int32_t *parent, uint8_t *rank, entry e)
{
    int64_t hi = max_vertex(w, e.index, 2, w->n - 1);
    int64_t lo = e.index - binom(w, hi, 2);
    int64_t u = uf_find(parent, lo), v = uf_find(parent, hi);
    if (u == v) {
        return 1;
    }
    int64_t dies = rank[u] > rank[v] ? v : u;
    int64_t lives = dies == u ? v : u;
    if (e.diam != 0 && !record(w, 0.0f, e.diam, dies, e.index)) {
        return -1;
    }
    parent[dies] = (int32_t)lives;
    if (rank[u] == rank[v]) {
        rank[lives]++;
    }
    return 0;
}

static int dim0_pairs(work *w)
{
    int64_t n = w->n;
    int32_t *parent = aura__alloc_array(w->a, (size_t)(n ? n : 1), sizeof(int32_t));
    uint8_t *rank = aura__calloc(w->a, (size_t)(n ? n : 1), 1);
    int ok = parent && rank && collect_edges(w);
    if (!parent || !rank) {
        w->st = AURA_E_NOMEM;
    }
    for (int64_t i = 0; ok && i < n; i++) {
        parent[i] = (int32_t)i;
    }
    w->columns.n = 0;
    if (ok && w->pool && w->dim_max > 0) {
        /* the union-find on one thread, the apparent test of the edges on
         * the others at the same time */
        ok = dim0_par(w, parent, rank);
    } else {
        for (size_t q = 0; ok && q < w->simplices.n; q++) {
            entry e = w->simplices.p[q];
            int c = uf_edge(w, parent, rank, e);
            ok = c >= 0;
            if (c == 1 && w->dim_max > 0) {
                int64_t hi = max_vertex(w, e.index, 2, n - 1);
                int64_t lo = e.index - binom(w, hi, 2);
                if (zero_apparent_cofacet_v(w, (int64_t[2]){lo, hi}, e, 1).index == -1) {
                    ok = evec_push(w, &w->columns, e);
                }
            }
        }
    }
    if (ok) {
        reverse(w->columns.p, w->columns.n);
    }
    for (int64_t i = 0; ok && i < n; i++) {
        if (uf_find(parent, i) == i) {
            ok = record(w, 0.0f, INFINITY, i, -1);
        }
    }
    aura__free(w->a, parent);
    aura__free(w->a, rank);
    if (w->dim_max < 2) {
        evec_free(w, &w->simplices);
    }
    return ok;
}

/* ------------------------------------------------ reduction */

/* Pushes s onto the reduction column and its coboundary onto the working
 * coboundary. */
static int push_coboundary(work *w, entry s, int dim)
{
    cob *c = &w->c_main;
    cob_set(w, c, s, dim);
    while (cob_has_next(w, c, 1)) {
        entry e = cob_next(w, c);
        if (e.diam <= w->threshold && !heap_push(w, &w->heap_cob, e)) {
            return 0;
        }
    }
    return 1;
}

static int add_simplex_coboundary(work *w, entry s, int dim)
{
    return heap_push(w, &w->heap_red, s) && push_coboundary(w, s, dim);
}

static int add_column(work *w, size_t col, uint16_t factor, int dim)
{
    entry s = w->columns.p[col];
    s.coef = factor;
    if (!add_simplex_coboundary(w, s, dim)) {
        return 0;
    }
    size_t lo = col == 0 ? 0 : w->bounds[col - 1], hi = w->bounds[col];
    for (size_t q = lo; q < hi; q++) {
        entry t = w->red_entries.p[q];
        t.coef = (uint16_t)((uint32_t)t.coef * factor % w->p);
        if (!add_simplex_coboundary(w, t, dim)) {
            return 0;
        }
    }
    return 1;
}

/* Pushes the coboundary of s (within the threshold) and returns its pivot,
 * or returns an emergent pair's cofacet at once. */
static entry init_coboundary(work *w, entry s, int dim)
{
    int check_emergent = 1;
    w->cofacets.n = 0;
    cob *c = &w->c_main;
    cob_set(w, c, s, dim);
    while (cob_has_next(w, c, 1)) {
        entry e = cob_next(w, c);
        if (e.diam > w->threshold) {
            continue;
        }
        if (!evec_push(w, &w->cofacets, e)) {
            return NONE;
        }
        if (check_emergent && s.diam == e.diam) {
            int64_t ev[MAXV];
            cob_last_vertices(w, c, ev);
            if (!pmap_find(w, e.index) && zero_apparent_facet_v(w, ev, e, dim + 1).index == -1) {
                return e;
            }
            check_emergent = 0;
        }
    }
    for (size_t q = 0; q < w->cofacets.n; q++) {
        if (!heap_push(w, &w->heap_cob, w->cofacets.p[q])) {
            return NONE;
        }
    }
    return get_pivot(w, &w->heap_cob);
}

static int finish_column(work *w, size_t col, entry pivot)
{
    if (!pmap_insert(w, pivot.index, (uint32_t)col, pivot.coef)) {
        return 0;
    }
    for (;;) {
        entry e = pop_pivot(w, &w->heap_red);
        if (e.index == -1) {
            return 1;
        }
        if (!evec_push(w, &w->red_entries, e)) {
            return 0;
        }
        w->bounds[col]++;
    }
}

static int reduce_column(work *w, size_t col, int dim)
{
    entry s = w->columns.p[col];
    s.coef = 1;
    w->heap_cob.n = 0;
    w->heap_red.n = 0;
    entry pivot = init_coboundary(w, s, dim);
    while (w->st == AURA_OK) {
        if (pivot.index == -1) {
            return record(w, s.diam, INFINITY, s.index, -1) &&
                   (!w->res->want_cc || cc_store_heap(w, s));
        }
        const pslot *other = pmap_find(w, pivot.index);
        entry e;
        if (other) {
            uint32_t f = w->p - (uint32_t)pivot.coef * w->inv[other->coef] % w->p;
            if (!add_column(w, other->col, (uint16_t)f, dim)) {
                return 0;
            }
        } else if ((e = zero_apparent_facet(w, pivot, dim + 1)).index != -1) {
            e.coef = (uint16_t)(w->p - e.coef);
            if (!add_simplex_coboundary(w, e, dim)) {
                return 0;
            }
        } else {
            int keep = pivot.diam > s.diam * w->ratio;
            if (keep && !record(w, s.diam, pivot.diam, s.index, pivot.index)) {
                return 0;
            }
            return finish_column(w, col, pivot) &&
                   (!keep || !w->res->want_cc || cc_store_column(w, col));
        }
        pivot = get_pivot(w, &w->heap_cob);
    }
    return 0;
}

static int compute_pairs(work *w, int dim)
{
    if (w->pool) {
        return compute_pairs_par(w, dim);
    }
    size_t ncols = w->columns.n;
    if (ncols > w->bounds_cap) {
        size_t *b = aura__realloc_array(w->a, w->bounds, ncols, sizeof(size_t));
        if (!b) {
            w->st = AURA_E_NOMEM;
            return 0;
        }
        w->bounds = b;
        w->bounds_cap = ncols;
    }
    w->red_entries.n = 0;
    for (size_t col = 0; col < ncols; col++) {
        w->bounds[col] = w->red_entries.n;
        if (!reduce_column(w, col, dim)) {
            return 0;
        }
    }
    return 1;
}

/* The cofacets of the (dim-1)-simplex s within the threshold: all go to
 * next (if dim < dim_max), those neither cleared nor in an apparent pair
 * to cols. */
static int assemble_one(work *w, entry s, int dim, evec *cols, evec *next)
{
    cob *c = &w->c_main;
    s.coef = 1;
    cob_set(w, c, s, dim - 1);
    while (cob_has_next(w, c, 0)) {
        entry e = cob_next(w, c);
        if (e.diam > w->threshold) {
            continue;
        }
        if (dim < w->dim_max && !evec_push(w, next, e)) {
            return 0;
        }
        if (pmap_find(w, e.index)) {
            continue;
        }
        int64_t ev[MAXV];
        cob_last_vertices(w, c, ev);
        if (zero_apparent_cofacet_v(w, ev, e, dim).index == -1 &&
            zero_apparent_facet_v(w, ev, e, dim).index == -1 && !evec_push(w, cols, e)) {
            return 0;
        }
    }
    return 1;
}

/* Columns of dimension dim: cofacets of the (dim-1)-simplices, minus those
 * in apparent pairs and those cleared (pivots of dimension dim-1). */
static int assemble_columns(work *w, int dim)
{
    w->columns.n = 0;
    w->next_simplices.n = 0;
    if (w->pool) {
        if (!assemble_par(w, dim)) {
            return 0;
        }
    } else {
        for (size_t q = 0; q < w->simplices.n; q++) {
            if (!assemble_one(w, w->simplices.p[q], dim, &w->columns, &w->next_simplices)) {
                return 0;
            }
        }
    }
    if (dim < w->dim_max) {
        evec t = w->simplices;
        w->simplices = w->next_simplices;
        w->next_simplices = t;
    } else {
        evec_free(w, &w->simplices);
        evec_free(w, &w->next_simplices);
    }
    return sort_entries(w, w->columns.p, w->columns.n);
}

/* ------------------------------------------------ set-up */

static int make_tables(work *w)
{
    int64_t n = w->n, kmax = w->dim_max + 2;
    w->bs = n + 1;
    w->B = aura__alloc_array(w->a, (size_t)((kmax + 1) * (n + 1)), sizeof(int64_t));
    w->inv = aura__alloc_array(w->a, w->p, sizeof(uint32_t));
    if (!w->B || !w->inv) {
        w->st = AURA_E_NOMEM;
        return 0;
    }
    memset(w->B, 0, (size_t)((kmax + 1) * (n + 1)) * sizeof(int64_t));
    for (int64_t i = 0; i <= n; i++) {
        w->B[i] = 1;
        for (int64_t k = 1; k < (i < kmax + 1 ? i : kmax + 1); k++) {
            int64_t x = w->B[(k - 1) * w->bs + i - 1], y = w->B[k * w->bs + i - 1];
            if (x > INT64_MAX - y) {
                w->st = AURA_E_OVERFLOW;
                return 0;
            }
            w->B[k * w->bs + i] = x + y;
        }
        if (i <= kmax) {
            w->B[i * w->bs + i] = 1;
        }
    }
    w->inv[0] = 0;
    if (w->p > 1) {
        w->inv[1] = 1;
    }
    for (uint32_t a = 2; a < w->p; a++) {
        w->inv[a] = w->p - (w->inv[w->p % a] * (w->p / a)) % w->p;
    }
    return 1;
}

static void work_free(work *w)
{
    evec_free(w, &w->heap_cob);
    evec_free(w, &w->heap_red);
    evec_free(w, &w->cofacets);
    evec_free(w, &w->simplices);
    evec_free(w, &w->next_simplices);
    evec_free(w, &w->columns);
    evec_free(w, &w->red_entries);
    aura__free(w->a, w->bounds);
    aura__free(w->a, w->map.s);
    aura__free(w->a, w->inv);
    aura__free(w->a, w->B);
}

static int par_start(work *w, int threads);
static void par_stop(work *w);

aura_status aura__tda_run(const aura_allocator *a, const tda_space *sp, int max_dim,
                          float threshold, float ratio, uint32_t modulus, int threads,
                          aura_tda_result *res)
{
    work *w = aura__calloc(a, 1, sizeof(work));
    if (!w) {
        return AURA_E_NOMEM;
    }
    *w = (work){.a = a, .st = AURA_OK, .n = sp->n, .dim_max = max_dim, .threshold = threshold,
                .ratio = ratio, .p = modulus, .lower = sp->lower, .nbr = sp->nbr, .off = sp->off, .sparse = sp->nbr != NULL,
                .res = res};
    int ok = (threads < 2 || par_start(w, threads)) && make_tables(w);
    res->n_dims = max_dim + 1;
    res->dim_off[0] = 0;
    ok = ok && dim0_pairs(w);
    res->dim_off[1] = res->n_pairs;
    for (int dim = 1; ok && dim <= max_dim; dim++) {
        ok = pmap_init(w, w->columns.n) && compute_pairs(w, dim);
        res->dim_off[dim + 1] = res->n_pairs;
        if (ok && dim < max_dim) {
            ok = assemble_columns(w, dim + 1);
        }
    }
    if (ok && res->want_cc && res->cc_count != res->n_pairs - res->dim_off[1]) {
        ok = 0; /* every pair of dimension >= 1 has exactly one cocycle */
    }
    aura_status st = ok ? AURA_OK : (w->st != AURA_OK ? w->st : AURA_E_INTERNAL);
    if (st == AURA_OK) {
        res->binom = w->B;
        res->bstride = w->bs;
        res->bk = max_dim + 3;
        w->B = NULL;
    }
    work_free(w);
    par_stop(w);
    aura__free(a, w);
    return st;
}

/* ------------------------------------------------ parallel phases */
/* With a pool of threads the engine runs its heavy phases in parallel: the
 * sorts, the apparent-pair test of the edges in dimension 0, the assembly
 * of the columns and the reduction.  Each produces exactly what the serial
 * code produces, in the same order (the reduction: the same pairs, pivots
 * and reduced columns), so the barcode and its printed order depend neither
 * on the number of threads nor on scheduling.  Each thread works on its own
 * clone of `work` (w->thr[tid]): its own heaps and enumerator, the shared
 * tables and matrices read-only. */

typedef int (*par_task)(work *t, size_t task, void *arg);

typedef struct par_run {
    work *w;
    par_task fn;
    void *arg;
    size_t n_tasks;
    atomic_size_t next; /* next task to hand out */
    atomic_int failed;
} par_run;

static void par_thread(void *ctx, int tid)
{
    par_run *r = ctx;
    work *t = &r->w->thr[tid];
    while (!atomic_load_explicit(&r->failed, memory_order_relaxed)) {
        size_t k = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
        if (k >= r->n_tasks) {
            break;
        }
        if (!r->fn(t, k, r->arg)) {
            atomic_store(&r->failed, 1);
            break;
        }
    }
}

/* Gives each clone the shared state as it is now, keeping its own buffers. */
static void clones_sync(work *w)
{
    int nt = aura__tda_pool_size(w->pool);
    for (int i = 0; i < nt; i++) {
        work *t = &w->thr[i];
        evec hc = t->heap_cob, hr = t->heap_red, cf = t->cofacets;
        *t = *w; /* the shared state as it is now */
        t->heap_cob = hc;
        t->heap_red = hr;
        t->cofacets = cf;
        t->st = AURA_OK;
        t->pool = NULL;
        t->thr = NULL;
    }
}

/* Runs fn(clone, k, arg) for k in [0, n_tasks), tasks handed out in order
 * to whichever thread is free.  Returns 0 (w->st set) if a task failed. */
static int par_for(work *w, size_t n_tasks, par_task fn, void *arg)
{
    int nt = aura__tda_pool_size(w->pool);
    clones_sync(w);
    par_run r = {.w = w, .fn = fn, .arg = arg, .n_tasks = n_tasks};
    atomic_init(&r.next, 0);
    atomic_init(&r.failed, 0);
    aura__tda_pool_run(w->pool, par_thread, &r);
    if (!atomic_load(&r.failed)) {
        return 1;
    }
    for (int i = 0; i < nt && w->st == AURA_OK; i++) {
        w->st = w->thr[i].st;
    }
    if (w->st == AURA_OK) {
        w->st = AURA_E_INTERNAL;
    }
    return 0;
}

static int par_start(work *w, int threads)
{
    aura_status st = aura__tda_pool_create(w->a, threads, &w->pool);
    if (st != AURA_OK) {
        w->st = st;
        return 0;
    }
    int nt = aura__tda_pool_size(w->pool);
    if (nt >= 2) {
        w->thr = aura__calloc(w->a, (size_t)nt, sizeof(work));
    }
    if (!w->thr) {
        /* no second thread (or no memory for the clones): run serially */
        aura__tda_pool_destroy(w->pool);
        w->pool = NULL;
        if (nt >= 2) {
            w->st = AURA_E_NOMEM;
            return 0;
        }
        return 1;
    }
    w->a = aura__tda_pool_alloc(w->pool);
    return 1;
}

static void par_stop(work *w)
{
    if (!w->pool) {
        return;
    }
    for (int i = 0; i < aura__tda_pool_size(w->pool); i++) {
        evec_free(w, &w->thr[i].heap_cob);
        evec_free(w, &w->thr[i].heap_red);
        evec_free(w, &w->thr[i].cofacets);
    }
    aura__free(w->a, w->thr);
    w->thr = NULL;
    aura__tda_pool_destroy(w->pool);
    w->pool = NULL;
}

/* ---- sorting: SORT_PARTS parts per thread sorted in parallel, then
 * merged pairwise in rounds; each merge is cut into SORT_PARTS pieces per
 * thread at co-ranks (the split of the output between the two runs), so
 * every round is many small tasks and a slow thread holds up little. Keys
 * are unique, so the result is the serial one. */

#define SORT_PARTS 4

typedef struct sort_job {
    entry *src, *dst;
    size_t *bound; /* run r is src[bound[r] .. bound[r+1]) */
    size_t runs, pieces; /* pieces per merge */
} sort_job;

static int sort_part_task(work *t, size_t k, void *arg)
{
    (void)t;
    sort_job *j = arg;
    sort_columns(j->src + j->bound[k], j->bound[k + 1] - j->bound[k]);
    return 1;
}

/* Number of elements of a among the first d of the merge of a and b. */
static size_t co_rank(const entry *a, size_t na, const entry *b, size_t nb, size_t d)
{
    size_t lo = d > nb ? d - nb : 0, hi = d < na ? d : na;
    while (lo < hi) {
        size_t i = lo + (hi - lo) / 2; /* a[i] among the first d iff it precedes b[d-i-1] */
        if (col_less(a[i], b[d - i - 1])) {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
    return lo;
}

static int merge_task(work *t, size_t k, void *arg)
{
    (void)t;
    sort_job *j = arg;
    size_t r = 2 * (k / j->pieces), piece = k % j->pieces;
    size_t lo = j->bound[r];
    if (r + 1 >= j->runs) { /* odd run out: copy */
        size_t n = j->bound[r + 1] - lo;
        size_t from = n * piece / j->pieces, to = n * (piece + 1) / j->pieces;
        memcpy(j->dst + lo + from, j->src + lo + from, (to - from) * sizeof(entry));
        return 1;
    }
    const entry *a = j->src + lo, *b = j->src + j->bound[r + 1];
    size_t na = j->bound[r + 1] - lo, nb = j->bound[r + 2] - j->bound[r + 1];
    size_t d0 = (na + nb) * piece / j->pieces, d1 = (na + nb) * (piece + 1) / j->pieces;
    size_t i = co_rank(a, na, b, nb, d0), q = d0 - i;
    entry *out = j->dst + lo;
    for (size_t o = d0; o < d1; o++) {
        out[o] = (q >= nb || (i < na && col_less(a[i], b[q]))) ? a[i++] : b[q++];
    }
    return 1;
}

/* sort_columns(p, n), in parallel when there is a pool and enough work. */
static int sort_entries(work *w, entry *p, size_t n)
{
    size_t nt = w->pool ? (size_t)aura__tda_pool_size(w->pool) : 1;
    size_t parts = SORT_PARTS * nt;
    if (nt < 2 || n < 8192) {
        sort_columns(p, n);
        return 1;
    }
    size_t *bound = aura__alloc_array(w->a, parts + 1, sizeof(size_t));
    entry *tmp = aura__alloc_array(w->a, n, sizeof(entry));
    if (!bound || !tmp) {
        aura__free(w->a, bound);
        aura__free(w->a, tmp);
        w->st = AURA_E_NOMEM;
        return 0;
    }
    for (size_t r = 0; r <= parts; r++) {
        bound[r] = n * r / parts;
    }
    sort_job j = {p, tmp, bound, parts, 0};
    int ok = par_for(w, parts, sort_part_task, &j);
    while (ok && j.runs > 1) {
        size_t merges = (j.runs + 1) / 2;
        j.pieces = (parts + merges - 1) / merges; /* about `parts` tasks a round */
        ok = par_for(w, merges * j.pieces, merge_task, &j);
        size_t runs = 0;
        for (size_t r = 0; r < j.runs; r += 2) {
            bound[runs++] = bound[r];
        }
        bound[runs] = n;
        j.runs = runs;
        entry *x = j.src;
        j.src = j.dst;
        j.dst = x;
    }
    if (ok && j.src != p) {
        memcpy(p, j.src, n * sizeof(entry));
    }
    aura__free(w->a, bound);
    aura__free(w->a, tmp);
    return ok;
}

/* ---- dimension 0, dense input: the edges collected and sorted in one
 * parallel pass.  The rows are cut into chunks of about equal size and the
 * diameters into buckets at splitters taken from a sample of the edges;
 * each chunk counts its edges per bucket, then writes them to their places
 * (bucket by bucket, chunks in order within a bucket), and each bucket is
 * sorted on its own.  Buckets hold disjoint ranges of diameters and keys
 * are unique, so the result is collect_edges's; no merge passes, and the
 * edge vector is allocated once at its size. */

#define EDGE_BUCKETS 64 /* per thread */
#define EDGE_SAMPLES 32 /* per bucket */

typedef struct ecol_job {
    work *w;
    size_t n_chunks, nb;
    int64_t *row;  /* chunk k: rows [row[k], row[k+1]) */
    float *split;  /* nb ascending, the last infinite; bucket b: split[b-1] < d <= split[b] */
    uint8_t *guess; /* EDGE_CELLS cells of [split[0], split[nb-2]]: a bucket near d's */
    float lo, scale;
    size_t *pos;   /* n_chunks x nb: counts, then write positions */
    size_t *bound; /* bucket b: out[bound[b] .. bound[b+1]) */
    entry *out;
} ecol_job;

#define EDGE_CELLS 4096

/* The bucket of diameter d: the first splitter >= d (the last one is
 * infinite), from the guess of d's cell; the guess only saves steps. */
static inline size_t edge_bucket(const ecol_job *j, float d)
{
    float x = (d - j->lo) * j->scale;
    size_t c = x > 0 ? (x < (float)(EDGE_CELLS - 1) ? (size_t)x : EDGE_CELLS - 1) : 0;
    size_t b = j->guess[c];
    while (b > 0 && j->split[b - 1] >= d) {
        b--;
    }
    while (j->split[b] < d) {
        b++;
    }
    return b;
}

static int ecol_count_task(work *t, size_t k, void *arg)
{
    ecol_job *j = arg;
    size_t *cnt = j->pos + k * j->nb;
    for (int64_t i = j->row[k]; i < j->row[k + 1]; i++) {
        const float *row = t->lower + i * (i - 1) / 2;
        for (int64_t q = 0; q < i; q++) {
            if (row[q] <= t->threshold) {
                cnt[edge_bucket(j, row[q])]++;
            }
        }
    }
    return 1;
}

static int ecol_fill_task(work *t, size_t k, void *arg)
{
    ecol_job *j = arg;
    size_t *at = j->pos + k * j->nb;
    for (int64_t i = j->row[k]; i < j->row[k + 1]; i++) {
        const float *row = t->lower + i * (i - 1) / 2;
        int64_t base = binom(t, i, 2);
        for (int64_t q = 0; q < i; q++) {
            if (row[q] <= t->threshold) {
                j->out[at[edge_bucket(j, row[q])]++] = (entry){base + q, row[q], 1};
            }
        }
    }
    return 1;
}

static int ecol_sort_task(work *t, size_t b, void *arg)
{
    (void)t;
    ecol_job *j = arg;
    /* buckets run by increasing diameter; within one, sort_columns's order
     * reversed (increasing diameter, then decreasing index) */
    sort_columns(j->out + j->bound[b], j->bound[b + 1] - j->bound[b]);
    reverse(j->out + j->bound[b], j->bound[b + 1] - j->bound[b]);
    return 1;
}

static int float_less(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int collect_edges_par(work *w)
{
    int64_t n = w->n;
    size_t nt = (size_t)aura__tda_pool_size(w->pool);
    ecol_job j = {.w = w, .n_chunks = 16 * nt, .nb = EDGE_BUCKETS * nt};
    j.n_chunks = j.n_chunks < 1024 ? j.n_chunks : 1024;
    j.nb = j.nb < 256 ? j.nb : 256; /* bucket numbers fit a byte */
    size_t ns = EDGE_SAMPLES * j.nb;
    j.row = aura__alloc_array(w->a, j.n_chunks + 1, sizeof(int64_t));
    j.split = aura__alloc_array(w->a, j.nb + ns, sizeof(float)); /* splitters, then samples */
    j.pos = aura__calloc(w->a, j.n_chunks * j.nb, sizeof(size_t));
    j.bound = aura__alloc_array(w->a, j.nb + 1, sizeof(size_t));
    j.guess = aura__alloc(w->a, EDGE_CELLS);
    int ok = j.row && j.split && j.pos && j.bound && j.guess;
    if (!ok) {
        w->st = AURA_E_NOMEM;
    }
    if (ok) {
        /* rows 1..n-1, row i holding i entries: chunks of about equal size */
        double total = (double)n * (double)(n - 1) / 2;
        int64_t i = 1;
        j.row[0] = 1;
        for (size_t k = 1; k < j.n_chunks; k++) {
            while (i < n && (double)i * (double)(i - 1) / 2 < total * (double)k / (double)j.n_chunks) {
                i++;
            }
            j.row[k] = i;
        }
        j.row[j.n_chunks] = n;
        /* a sample of the diameters within the threshold (fixed positions,
         * so the buckets do not depend on the run) */
        float *sample = j.split + j.nb;
        size_t got = 0;
        uint64_t m = (uint64_t)n * (uint64_t)(n - 1) / 2, x = 0x9E3779B97F4A7C15ull;
        for (size_t q = 0; q < ns; q++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            float d = w->lower[(x >> 11) % m];
            if (d <= w->threshold) {
                sample[got++] = d;
            }
        }
        qsort(sample, got, sizeof(float), float_less);
        for (size_t b = 0; b + 1 < j.nb; b++) { /* quantiles: non-decreasing */
            j.split[b] = got ? sample[(b + 1) * got / j.nb] : INFINITY;
        }
        j.split[j.nb - 1] = INFINITY;
        j.lo = j.split[0];
        float width = j.nb >= 2 ? j.split[j.nb - 2] - j.lo : 0;
        j.scale = width > 0 && isfinite(width) ? (float)EDGE_CELLS / width : 0;
        for (size_t c = 0, b = 0; c < EDGE_CELLS; c++) {
            float at = j.lo + (float)c * (width / (float)EDGE_CELLS);
            while (b + 1 < j.nb && j.split[b] < at) {
                b++;
            }
            j.guess[c] = (uint8_t)b;
        }
    }
    ok = ok && par_for(w, j.n_chunks, ecol_count_task, &j);
    size_t m = 0;
    for (size_t b = 0; ok && b < j.nb; b++) {
        j.bound[b] = m;
        for (size_t k = 0; k < j.n_chunks; k++) {
            size_t c = j.pos[k * j.nb + b];
            j.pos[k * j.nb + b] = m;
            m += c;
        }
    }
    evec *e = &w->simplices;
    if (ok) {
        j.bound[j.nb] = m;
        e->n = 0;
        if (e->cap < m) { /* exactly m, not rounded up */
            evec_free(w, e);
            e->p = aura__alloc_array(w->a, m, sizeof(entry));
            e->cap = e->p ? m : 0;
            ok = e->p != NULL;
            if (!ok) {
                w->st = AURA_E_NOMEM;
            }
        }
    }
    j.out = ok ? e->p : NULL;
    int fill = ok && m > 0; /* nothing to write or sort when no edge is kept */
    ok = ok && (!fill || (par_for(w, j.n_chunks, ecol_fill_task, &j) &&
                          par_for(w, j.nb, ecol_sort_task, &j)));
    if (ok) {
        e->n = m;
    }
    aura__free(w->a, j.row);
    aura__free(w->a, j.split);
    aura__free(w->a, j.pos);
    aura__free(w->a, j.bound);
    aura__free(w->a, j.guess);
    return ok;
}

/* ---- dimension 0: which edges are in an apparent pair (the test the
 * union-find loop makes for each edge that closes a cycle) */

#define EDGE_CHUNK 4096

typedef struct edge_job {
    work *w; /* task 0 (the union-find) records on the shared state */
    int32_t *parent;
    uint8_t *rank;
    uint8_t *app; /* edge q is in an apparent pair */
    uint8_t *cyc; /* edge q closes a cycle */
} edge_job;

static int apparent_edges_task(work *t, size_t k, void *arg)
{
    edge_job *j = arg;
    if (k == 0) {
        work *w = j->w;
        for (size_t q = 0; q < w->simplices.n; q++) {
            int c = uf_edge(w, j->parent, j->rank, w->simplices.p[q]);
            if (c < 0) {
                return 0;
            }
            j->cyc[q] = (uint8_t)c;
        }
        return 1;
    }
    k--;
    size_t hi = (k + 1) * EDGE_CHUNK < t->simplices.n ? (k + 1) * EDGE_CHUNK : t->simplices.n;
    for (size_t q = k * EDGE_CHUNK; q < hi; q++) {
        entry e = t->simplices.p[q];
        int64_t v1 = max_vertex(t, e.index, 2, t->n - 1);
        int64_t v0 = e.index - binom(t, v1, 2);
        j->app[q] = zero_apparent_cofacet_v(t, (int64_t[2]){v0, v1}, e, 1).index != -1;
    }
    return 1;
}

/* dim0_pairs's loop with a pool: task 0 runs the union-find (recording the
 * pairs, in edge order, on the shared state) while the other tasks test the
 * edges for apparent pairs; then the columns, in edge order, are the edges
 * that close a cycle and are in no apparent pair -- what the serial loop
 * gives. */
static int dim0_par(work *w, int32_t *parent, uint8_t *rank)
{
    size_t n = w->simplices.n;
    edge_job j = {w, parent, rank, aura__alloc(w->a, n ? n : 1), aura__alloc(w->a, n ? n : 1)};
    int ok = j.app && j.cyc;
    if (!ok) {
        w->st = AURA_E_NOMEM;
    }
    ok = ok && par_for(w, 1 + (n + EDGE_CHUNK - 1) / EDGE_CHUNK, apparent_edges_task, &j);
    for (size_t q = 0; ok && q < n; q++) {
        if (j.cyc[q] && !j.app[q]) {
            ok = evec_push(w, &w->columns, w->simplices.p[q]);
        }
    }
    aura__free(w->a, j.app);
    aura__free(w->a, j.cyc);
    return ok;
}

/* ---- assembly: the simplices in chunks, each chunk's columns and next
 * simplices in their own vectors, concatenated in chunk order */

typedef struct asm_job {
    size_t chunk;
    int dim;
    evec *cols, *next; /* per chunk */
} asm_job;

static int assemble_task(work *t, size_t k, void *arg)
{
    asm_job *j = arg;
    size_t lo = k * j->chunk, hi = lo + j->chunk;
    hi = hi < t->simplices.n ? hi : t->simplices.n;
    for (size_t q = lo; q < hi; q++) {
        if (!assemble_one(t, t->simplices.p[q], j->dim, &j->cols[k], &j->next[k])) {
            return 0;
        }
    }
    return 1;
}

static int concat(work *w, evec *dst, const evec *parts, size_t n_parts)
{
    size_t total = dst->n;
    for (size_t k = 0; k < n_parts; k++) {
        total += parts[k].n;
    }
    if (!evec_reserve(w, dst, total)) {
        return 0;
    }
    for (size_t k = 0; k < n_parts; k++) {
        if (parts[k].n) {
            memcpy(dst->p + dst->n, parts[k].p, parts[k].n * sizeof(entry));
            dst->n += parts[k].n;
        }
    }
    return 1;
}

static int assemble_par(work *w, int dim)
{
    size_t n = w->simplices.n, nt = (size_t)aura__tda_pool_size(w->pool);
    asm_job j = {.chunk = n / (nt * 64), .dim = dim};
    j.chunk = j.chunk < 16 ? 16 : j.chunk;
    size_t n_chunks = n ? (n + j.chunk - 1) / j.chunk : 0;
    j.cols = aura__calloc(w->a, n_chunks ? n_chunks : 1, sizeof(evec));
    j.next = aura__calloc(w->a, n_chunks ? n_chunks : 1, sizeof(evec));
    int ok = j.cols && j.next;
    if (!ok) {
        w->st = AURA_E_NOMEM;
    }
    ok = ok && par_for(w, n_chunks, assemble_task, &j);
    ok = ok && concat(w, &w->columns, j.cols, n_chunks) &&
         concat(w, &w->next_simplices, j.next, n_chunks);
    for (size_t k = 0; j.cols && j.next && k < n_chunks; k++) {
        evec_free(w, &j.cols[k]);
        evec_free(w, &j.next[k]);
    }
    aura__free(w->a, j.cols);
    aura__free(w->a, j.next);
    return ok;
}

/* ---- reduction: workers take columns in order and reduce each against
 * the pivots committed so far (reading the map while it grows) until its
 * pivot is not among them; columns are committed strictly in column order,
 * one thread at a time.  At commit time every earlier column is in the map
 * and no later one: if the pivot is still free the column is exactly what
 * the serial code computes (it saw the same pivots, owned by the same
 * columns, in the same order); if an earlier column has taken it since, the
 * committing thread goes on with the column's saved heaps, now against the
 * complete map, which is again the serial computation.  So pairs, pivots
 * and reduced columns are the serial ones whatever the scheduling.  Map
 * slots are published with a release store after the committed column's
 * reduction entries (vstore), and the map never grows during a dimension
 * (pmap_init sized it for every column). */

/* Largest heap (entries) a reduction slot keeps for reuse once committed. */
#define SLOT_HEAP_KEEP 1024
/* Columns in flight beyond the commit frontier: always up to WIN_MIN per
 * thread; up to WIN_MAX per thread while the heaps they hold stay under
 * WIN_BUDGET entries (a costly column at the frontier then does not stall
 * the other threads). */
#define WIN_MIN 32
#define WIN_MAX 1024
#define WIN_BUDGET ((size_t)8 << 20)
/* Heaps of committed columns kept for the next parks (at most SPARE_MAX
 * per thread, SPARE_BUDGET entries in all, none under SPARE_MIN entries): a
 * heap otherwise grows from nothing, and fresh pages cost about as much as
 * the reduction work on them (a fault per 4 KiB, 2-4 us on this VM). */
#define SPARE_MAX 8
#define SPARE_MIN 4096
#define SPARE_BUDGET ((size_t)4 << 20)
/* A parked heap of PARK_DROP_COBS coboundaries' worth of entries (n each)
 * or more is not kept (park_heap). */
#define PARK_DROP_COBS 32

typedef struct vcol {
    const entry *p; /* the column's reduction entries (finish_column's) */
    size_t n;
} vcol;

typedef struct colres {
    entry pivot;  /* NONE: the column reduced to zero */
    int emergent; /* pivot came from init_coboundary's shortcut: no heap */
    evec v;       /* reduction entries, summed, in heap order */
    evec heap;    /* the coboundary heap left (pivot on top) */
    size_t held;  /* entries counted in red_job.held */
    size_t col;   /* the column this slot holds */
    int final;    /* continued by the committer: no heap to keep */
    int dropped;  /* heap not kept (large): rebuilt if the column goes on */
} colres;

typedef struct vchunk {
    struct vchunk *next;
    size_t n, cap;
    entry e[];
} vchunk;

typedef struct red_job {
    work *w;
    int dim;
    size_t ncols, win; /* win: slots (most columns in flight beyond the frontier) */
    size_t win_min;    /* columns always allowed in flight */
    atomic_size_t held; /* heap entries held by columns done but not committed */
    colres *slot;      /* win slots; column c uses slot c % win */
    atomic_int *ready; /* per slot: 0 in work, 1 ready, 2 claimed by the committer */
    atomic_size_t cont_epoch; /* bumped when the committer starts a continuation */
    vcol *vs;          /* per column, set at commit */
    vchunk *chunks;    /* storage of vs, committer only */
    atomic_size_t next, frontier;
    atomic_int committing, failed;
    aura_status st; /* first commit failure */
    pthread_mutex_t spare_mu; /* guards the spare heaps */
    evec *spare;
    size_t n_spare, spare_max, spare_entries;
} red_job;

/* Parks the thread's heap (the pivot on top) in slot r for a possible
 * continuation.  A very large heap is dropped (continue_column rebuilds it
 * from the reduction entries in r->v); one that fills little of the
 * thread's buffer is copied (the thread keeps its large buffer, as the
 * serial code does); any other is handed over whole, and the thread takes
 * the largest spare heap instead (or the slot's old one). */
static int park_heap(work *t, red_job *j, colres *r)
{
    evec *h = &t->heap_cob;
    if (h->n >= SPARE_MIN && h->n / PARK_DROP_COBS >= (size_t)t->n) {
        /* rarely needed again (most such columns are committed as they
         * are), and fresh memory for it costs about what rebuilding it
         * would: keep only the reduction entries */
        r->dropped = 1;
        r->heap.n = 0;
        h->n = 0;
        return 1;
    }
    if (h->cap > SPARE_MIN && h->n <= h->cap / 4) {
        if (r->heap.cap < h->n || r->heap.cap > 4 * h->n + SLOT_HEAP_KEEP) {
            evec_free(t, &r->heap);
            r->heap.p = aura__alloc_array(t->a, h->n ? h->n : 1, sizeof(entry));
            if (!r->heap.p) {
                t->st = AURA_E_NOMEM;
                return 0;
            }
            r->heap.cap = h->n ? h->n : 1;
        }
        memcpy(r->heap.p, h->p, h->n * sizeof(entry));
        r->heap.n = h->n;
        return 1;
    }
    evec x = r->heap;
    r->heap = *h;
    x.n = 0;
    pthread_mutex_lock(&j->spare_mu);
    size_t best = j->n_spare;
    for (size_t k = 0; k < j->n_spare; k++) {
        if (j->spare[k].cap > x.cap && (best == j->n_spare || j->spare[k].cap > j->spare[best].cap)) {
            best = k;
        }
    }
    if (best < j->n_spare) {
        evec y = j->spare[best];
        j->spare[best] = j->spare[--j->n_spare];
        j->spare_entries -= y.cap;
        pthread_mutex_unlock(&j->spare_mu);
        evec_free(t, &x);
        x = y;
    } else {
        pthread_mutex_unlock(&j->spare_mu);
    }
    *h = x;
    return 1;
}

/* Keeps the heap of a committed column for park_heap, or frees it. */
static void spare_give(red_job *j, evec *x)
{
    pthread_mutex_lock(&j->spare_mu);
    if (x->cap > SPARE_MIN && j->spare_entries + x->cap <= SPARE_BUDGET) {
        if (j->n_spare == j->spare_max) { /* full: drop the smallest */
            size_t s = 0;
            for (size_t k = 1; k < j->n_spare; k++) {
                s = j->spare[k].cap < j->spare[s].cap ? k : s;
            }
            if (j->spare[s].cap < x->cap) {
                evec y = j->spare[s];
                j->spare_entries -= y.cap;
                j->spare[s] = *x;
                j->spare_entries += x->cap;
                *x = y;
            }
        } else {
            j->spare[j->n_spare++] = *x;
            j->spare_entries += x->cap;
            *x = (evec){0};
        }
    }
    pthread_mutex_unlock(&j->spare_mu);
    evec_free(j->w, x);
}

static int add_column_par(work *t, const vcol *vs, size_t col, uint16_t factor, int dim)
{
    entry s = t->columns.p[col];
    s.coef = factor;
    if (!add_simplex_coboundary(t, s, dim)) {
        return 0;
    }
    for (size_t q = 0; q < vs[col].n; q++) {
        entry e = vs[col].p[q];
        e.coef = (uint16_t)((uint32_t)e.coef * factor % t->p);
        if (!add_simplex_coboundary(t, e, dim)) {
            return 0;
        }
    }
    return 1;
}

/* The loop of reduce_column from `pivot` on, against the map as it is:
 * stops at NONE or at the first pivot neither in the map nor apparent; then
 * r gets the pivot, the summed reduction entries and the heap. */
static int reduce_on(work *t, red_job *j, entry pivot, colres *r)
{
    const vcol *vs = j->vs;
    int dim = j->dim;
    while (t->st == AURA_OK) {
        if (pivot.index == -1) {
            r->pivot = NONE;
            return 1;
        }
        const pslot *other = pmap_find(t, pivot.index);
        entry e;
        if (other) {
            uint32_t f = t->p - (uint32_t)pivot.coef * t->inv[other->coef] % t->p;
            if (!add_column_par(t, vs, other->col, (uint16_t)f, dim)) {
                return 0;
            }
        } else if ((e = zero_apparent_facet(t, pivot, dim + 1)).index != -1) {
            e.coef = (uint16_t)(t->p - e.coef);
            if (!add_simplex_coboundary(t, e, dim)) {
                return 0;
            }
        } else {
            r->pivot = pivot;
            r->v.n = 0;
            while ((e = pop_pivot(t, &t->heap_red)).index != -1) {
                if (!evec_push(t, &r->v, e)) {
                    return 0;
                }
            }
            if (r->final) { /* committed next: the heap is not needed */
                t->heap_cob.n = 0;
                return 1;
            }
            return park_heap(t, j, r);
        }
        pivot = get_pivot(t, &t->heap_cob);
    }
    return 0;
}

static int reduce_first(work *t, red_job *j, size_t col, colres *r)
{
    entry s = t->columns.p[col];
    s.coef = 1;
    t->heap_cob.n = 0;
    t->heap_red.n = 0;
    entry pivot = init_coboundary(t, s, j->dim);
    r->emergent = pivot.index != -1 && t->heap_cob.n == 0;
    if (r->emergent) {
        /* (s, pivot) is an emergent pair unless an earlier column owns the
         * pivot; the map may have grown since init_coboundary looked, and
         * the coboundary was not pushed: leave that to the commit */
        r->pivot = pivot;
        r->v.n = 0;
        return t->st == AURA_OK;
    }
    return t->st == AURA_OK && reduce_on(t, j, pivot, r);
}

static int vstore_put(red_job *j, size_t col, const evec *v)
{
    work *w = j->w;
    vchunk *c = j->chunks;
    if (!c || c->cap - c->n < v->n) {
        size_t cap = v->n > 65536 ? v->n : 65536;
        c = aura__alloc(w->a, sizeof(vchunk) + cap * sizeof(entry));
        if (!c) {
            w->st = AURA_E_NOMEM;
            return 0;
        }
        c->next = j->chunks;
        c->n = 0;
        c->cap = cap;
        j->chunks = c;
    }
    if (v->n) {
        memcpy(c->e + c->n, v->p, v->n * sizeof(entry));
    }
    j->vs[col] = (vcol){c->e + c->n, v->n};
    c->n += v->n;
    return 1;
}

/* Continues column col (slot r), whose pivot an earlier committed column
 * owns, from its saved state against the map as it is, until its pivot is
 * free at the time of the check.  Every column in the map is earlier than
 * col, so these are the serial steps whichever thread runs them. */
static int continue_column(work *t, red_job *j, size_t col, colres *r)
{
    while (r->pivot.index != -1 && pmap_find(t, r->pivot.index)) {
        entry pivot;
        evec mine = {0}; /* the thread's own heap, while it works on r's */
        if (r->emergent) {
            entry s = t->columns.p[col];
            t->heap_cob.n = 0;
            s.coef = 1;
            pivot = init_coboundary(t, s, j->dim); /* no shortcut now */
            r->emergent = 0;
        } else if (r->dropped) {
            /* the heap again: the coboundary of the column plus those of
             * its reduction entries -- the same cochain, so the same pivot */
            entry s = t->columns.p[col];
            s.coef = 1;
            t->heap_cob.n = 0;
            if (!push_coboundary(t, s, j->dim)) {
                return 0;
            }
            for (size_t q = 0; q < r->v.n; q++) {
                if (!push_coboundary(t, r->v.p[q], j->dim)) {
                    return 0;
                }
            }
            pivot = get_pivot(t, &t->heap_cob);
            r->dropped = 0;
        } else if (t->heap_cob.cap > r->heap.cap) {
            /* go on in the thread's larger buffer (growing the saved one
             * would touch fresh memory) */
            if (r->heap.n) {
                memcpy(t->heap_cob.p, r->heap.p, r->heap.n * sizeof(entry));
            }
            t->heap_cob.n = r->heap.n;
            r->heap.n = 0;
            pivot = r->pivot;
        } else {
            mine = t->heap_cob;
            t->heap_cob = r->heap;
            r->heap = (evec){0};
            pivot = r->pivot;
        }
        evec y = t->heap_red; /* v is sorted in heap order: a valid heap */
        t->heap_red = r->v;
        r->v = y;
        int ok = t->st == AURA_OK && reduce_on(t, j, pivot, r);
        if (mine.cap > t->heap_cob.cap) { /* keep the larger buffer */
            evec x = t->heap_cob;
            t->heap_cob = mine;
            mine = x;
        }
        spare_give(j, &mine);
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

/* Commits column col (slot r) on thread t; j->w is the shared state. */
static int commit_column(work *t, red_job *j, size_t col, colres *r)
{
    work *w = j->w;
    entry s = w->columns.p[col];
    if (r->pivot.index != -1 && pmap_find(w, r->pivot.index)) {
        /* taken since: go on from the saved state against the full map */
        t->st = AURA_OK;
        atomic_fetch_add(&j->cont_epoch, 1);
        r->final = 1;
        int ok = continue_column(t, j, col, r);
        r->final = 0;
        if (!ok) {
            w->st = t->st != AURA_OK ? t->st : AURA_E_INTERNAL;
            return 0;
        }
    }
    if (r->pivot.index == -1) {
        return record(w, s.diam, INFINITY, s.index, -1);
    }
    if (r->pivot.diam > s.diam * w->ratio &&
        !record(w, s.diam, r->pivot.diam, s.index, r->pivot.index)) {
        return 0;
    }
    return vstore_put(j, col, &r->v) &&
           pmap_insert(w, r->pivot.index, (uint32_t)col, r->pivot.coef);
}

/* Commits the ready columns at the frontier, if no other thread is. */
static void try_commit(work *t, red_job *j)
{
    for (;;) {
        int expect = 0;
        if (!atomic_compare_exchange_strong(&j->committing, &expect, 1)) {
            return;
        }
        size_t f = atomic_load(&j->frontier);
        while (f < j->ncols && !atomic_load(&j->failed)) {
            int one = 1; /* claim it: a helper may take a ready column to continue it */
            if (!atomic_compare_exchange_strong(&j->ready[f % j->win], &one, 2)) {
                break;
            }
            if (!commit_column(t, j, f, &j->slot[f % j->win])) {
                j->st = j->w->st != AURA_OK ? j->w->st : AURA_E_INTERNAL;
                atomic_store(&j->failed, 1);
                break;
            }
            colres *r = &j->slot[f % j->win];
            atomic_fetch_sub(&j->held, r->held);
            r->held = 0;
            if (r->heap.cap > SLOT_HEAP_KEEP) { /* do not hoard a big heap */
                spare_give(j, &r->heap);
            }
            if (r->v.cap > SLOT_HEAP_KEEP) {
                evec_free(j->w, &r->v);
            }
            atomic_store(&j->ready[f % j->win], 0);
            atomic_store(&j->frontier, ++f);
        }
        atomic_store(&j->committing, 0);
        /* a column made ready while this thread held the token */
        if (atomic_load(&j->failed) || f >= j->ncols || atomic_load(&j->ready[f % j->win]) != 1) {
            return;
        }
    }
}

/* Columns beyond the frontier a helper looks at for a continuation. */
#define HELP_SCAN 256

/* Updates the heap entries slot r holds in j->held. */
static void held_update(red_job *j, colres *r)
{
    size_t h = r->heap.cap + r->v.cap;
    if (h >= r->held) {
        atomic_fetch_add(&j->held, h - r->held);
    } else {
        atomic_fetch_sub(&j->held, r->held - h);
    }
    r->held = h;
}

/* While the committer continues a column, the other threads look for ready
 * columns just beyond the frontier whose pivot a committed column has taken
 * since, and continue them (once per continuation the committer starts).
 * Returns 0 on failure. */
static int help_continue(work *t, red_job *j, size_t *seen_epoch)
{
    size_t e = atomic_load(&j->cont_epoch);
    if (e == *seen_epoch) {
        return 1;
    }
    *seen_epoch = e;
    size_t f = atomic_load(&j->frontier), n = atomic_load(&j->next);
    size_t end = n < j->ncols ? n : j->ncols;
    if (end > f + HELP_SCAN) {
        end = f + HELP_SCAN;
    }
    for (size_t c = f + 1; c < end && !atomic_load(&j->failed); c++) {
        atomic_int *rd = &j->ready[c % j->win];
        colres *r = &j->slot[c % j->win];
        int one = 1;
        if (atomic_load(rd) != 1 || !atomic_compare_exchange_strong(rd, &one, 0)) {
            continue;
        }
        if (r->col != c || r->pivot.index == -1 || !pmap_find(t, r->pivot.index)) {
            /* not one to continue: give it back, and commit it if the
             * committer met it claimed (every column made ready is
             * followed by a try_commit) */
            atomic_store(rd, 1);
            try_commit(t, j);
            continue;
        }
        if (!continue_column(t, j, c, r)) {
            return 0;
        }
        held_update(j, r);
        atomic_store(rd, 1);
        try_commit(t, j);
    }
    return 1;
}

static void reduce_thread(void *ctx, int tid)
{
    size_t seen_epoch = 0;
    red_job *j = ctx;
    work *t = &j->w->thr[tid];
    while (!atomic_load(&j->failed)) {
        size_t c = atomic_fetch_add(&j->next, 1);
        if (c >= j->ncols) {
            break;
        }
        for (int spins = 0;; spins++) {
            size_t f = atomic_load(&j->frontier);
            if (c < f + j->win_min ||
                (c < f + j->win && atomic_load(&j->held) < WIN_BUDGET)) {
                break;
            }
            if (atomic_load(&j->failed)) {
                return;
            }
            try_commit(t, j);
            if (!help_continue(t, j, &seen_epoch)) {
                atomic_store(&j->failed, 1);
                return;
            }
            if (spins < 64) {
                sched_yield();
            } else {
                nanosleep(&(struct timespec){0, 100000}, NULL);
            }
        }
        colres *r = &j->slot[c % j->win];
        r->col = c;
        r->dropped = 0;
        /* the pivot may have been taken while the column was reduced */
        if (!reduce_first(t, j, c, r) || !continue_column(t, j, c, r)) {
            atomic_store(&j->failed, 1);
            return;
        }
        r->held = 0;
        held_update(j, r);
        atomic_store(&j->ready[c % j->win], 1);
        try_commit(t, j);
        if (!help_continue(t, j, &seen_epoch)) {
            atomic_store(&j->failed, 1);
            return;
        }
    }
}

static int compute_pairs_par(work *w, int dim)
{
    size_t nt = (size_t)aura__tda_pool_size(w->pool);
    red_job j = {.w = w, .dim = dim, .ncols = w->columns.n, .win = WIN_MAX * nt,
                 .win_min = WIN_MIN * nt};
    if (j.win > j.ncols) {
        j.win = j.ncols ? j.ncols : 1;
    }
    j.win_min = j.win_min < j.win ? j.win_min : j.win;
    j.slot = aura__calloc(w->a, j.win, sizeof(colres));
    j.ready = aura__calloc(w->a, j.win, sizeof(atomic_int));
    j.vs = aura__calloc(w->a, j.ncols ? j.ncols : 1, sizeof(vcol));
    j.spare_max = SPARE_MAX * nt;
    j.spare = aura__calloc(w->a, j.spare_max, sizeof(evec));
    pthread_mutex_init(&j.spare_mu, NULL);
    int ok = j.slot && j.ready && j.vs && j.spare;
    if (ok) {
        for (size_t k = 0; k < j.win; k++) {
            atomic_init(&j.ready[k], 0);
        }
        atomic_init(&j.next, 0);
        atomic_init(&j.frontier, 0);
        atomic_init(&j.held, 0);
        atomic_init(&j.cont_epoch, 0);
        atomic_init(&j.committing, 0);
        atomic_init(&j.failed, 0);
        clones_sync(w);
        aura__tda_pool_run(w->pool, reduce_thread, &j);
        ok = !atomic_load(&j.failed) && atomic_load(&j.frontier) == j.ncols;
        if (!ok) {
            for (size_t i = 0; i < nt && w->st == AURA_OK; i++) {
                w->st = w->thr[i].st;
            }
            if (w->st == AURA_OK) {
                w->st = j.st != AURA_OK ? j.st : AURA_E_INTERNAL;
            }
        }
    } else {
        w->st = AURA_E_NOMEM;
    }
    for (size_t k = 0; j.slot && k < j.win; k++) {
        evec_free(w, &j.slot[k].v);
        evec_free(w, &j.slot[k].heap);
    }
    for (size_t k = 0; j.spare && k < j.n_spare; k++) {
        evec_free(w, &j.spare[k]);
    }
    aura__free(w->a, j.spare);
    pthread_mutex_destroy(&j.spare_mu);
    while (j.chunks) {
        vchunk *c = j.chunks;
        j.chunks = c->next;
        aura__free(w->a, c);
    }
    aura__free(w->a, j.slot);
    aura__free(w->a, (void *)j.ready);
    aura__free(w->a, j.vs);
    return ok;
}
