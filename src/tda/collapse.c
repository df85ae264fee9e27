/* collapse.c -- edge collapse of a filtered flag complex (Boissonnat and
 * Pritam, SoCG 2020; the backward "swap, shift and trim" sweep of Glisse and
 * Pritam, SoCG 2022), written from the papers for AURA.
 *
 * An edge uv of the graph G_t (edges of value <= t) is dominated by a
 * vertex c != u, v if c is adjacent to u and v and to every common
 * neighbour of u and v in G_t.  Removing a dominated edge from the flag
 * complex is a strong collapse, so it does not change the homotopy type.
 * Walking the edges by decreasing value, an edge dominated at its value t
 * may enter the filtration later: at the first value t' > t at which a new
 * common neighbour w of u and v appears and c is not adjacent to w by then,
 * after which it may again be dominated (by c or another vertex), and so
 * on.  An edge dominated to the end is removed.  The persistence barcode of
 * the flag filtration is unchanged in every dimension.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aura/tda_extras.h"
#include "core/core_int.h"
#include "tda/extras_int.h"
#include "tda/fheap.h"
#include "tda/tda_int.h"

/* A neighbour of a vertex and the current value of the edge (INFINITY
 * once removed). */
typedef struct cnbr {
    uint32_t v;
    float f;
} cnbr;

/* A common neighbour that appears later than the edge: at max(f(uw),f(vw)). */
typedef aura__fheap_item later; /* key: that value; v: the neighbour */

typedef struct bitrows {
    size_t words;       /* 64-bit words per row */
    uint64_t *now, *all;
    uint64_t *cn;       /* common neighbours present: now_u & now_v */
} bitrows;

typedef struct collapser {
    const aura_allocator *a;
    size_t n;
    float *dense;   /* n*n current values (INFINITY: no edge), or NULL */
    int64_t *off;   /* sparse mode: CSR offsets, n + 1 */
    cnbr *nb;       /* sparse mode: neighbours, sorted by vertex within a row */
    uint32_t *ngb;  /* common neighbours present now (unsorted) */
    later *heap;    /* common neighbours that appear later (a min-heap once
                       heapified) */
    bitrows *bits;  /* the bitset sweep's rows, NULL in the list sweep */
} collapser;

#define AURA_NOMEM_OR_OK(ok) ((ok) ? AURA_OK : AURA_E_NOMEM)

/* Largest n for which the n*n value matrix may be used (64 MiB). */
#define DENSE_MAX_N 4096u

static int cmp_ij(const void *pa, const void *pb)
{
    const aura_tda_edge *a = pa, *b = pb;
    if (a->i != b->i) {
        return a->i < b->i ? -1 : 1;
    }
    if (a->j != b->j) {
        return a->j < b->j ? -1 : 1;
    }
    return (a->d > b->d) - (a->d < b->d);
}

static aura_status check_edge(const aura_tda_edge *x, size_t n)
{
    if (x->i >= n || x->j >= n) {
        return AURA_E_RANGE;
    }
    if (!(x->d >= 0) || isinf(x->d)) {
        return AURA_E_INVAL;
    }
    return AURA_OK;
}

aura_status aura__tda_edges_normalize(const aura_allocator *a, size_t n,
                                      const aura_tda_edge *edges, size_t n_edges, float threshold,
                                      aura_tda_edge **out, size_t *n_out)
{
    aura_tda_edge *e = aura__alloc_array(a, n_edges ? n_edges : 1, sizeof(*e));
    if (!e) {
        return AURA_E_NOMEM;
    }
    size_t m = 0;
    for (size_t k = 0; k < n_edges; k++) {
        aura_tda_edge x = edges[k];
        aura_status st = check_edge(&x, n);
        if (st != AURA_OK) {
            aura__free(a, e);
            return st;
        }
        if (x.i == x.j || x.d > threshold) {
            continue;
        }
        x.d += 0.0f; /* -0 -> +0: the radix sort orders bit patterns */
        if (x.i > x.j) {
            uint32_t t = x.i;
            x.i = x.j;
            x.j = t;
        }
        e[m++] = x;
    }
    if (m > 1) {
        qsort(e, m, sizeof(*e), cmp_ij);
    }
    size_t w = 0;
    for (size_t k = 0; k < m; k++) {
        if (w > 0 && e[w - 1].i == e[k].i && e[w - 1].j == e[k].j) {
            continue; /* sorted by value within a pair: the first is smallest */
        }
        e[w++] = e[k];
    }
    *out = e;
    *n_out = w;
    return AURA_OK;
}

/* Stable LSD radix sort of e[0..m) by decreasing value (values >= 0, so
 * their bit patterns order like the values); tmp has room for m edges. */
static void sort_desc(aura_tda_edge *e, aura_tda_edge *tmp, size_t m)
{
    aura_tda_edge *src = e, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 8) {
        size_t cnt[257] = {0};
        for (size_t k = 0; k < m; k++) {
            uint32_t bits;
            memcpy(&bits, &src[k].d, sizeof bits);
            cnt[((~bits >> shift) & 0xffu) + 1]++;
        }
        for (int b = 0; b < 256; b++) {
            cnt[b + 1] += cnt[b];
        }
        for (size_t k = 0; k < m; k++) {
            uint32_t bits;
            memcpy(&bits, &src[k].d, sizeof bits);
            dst[cnt[(~bits >> shift) & 0xffu]++] = src[k];
        }
        aura_tda_edge *t = src;
        src = dst;
        dst = t;
    }
    /* four passes: the result is back in e */
}

static void collapser_free(collapser *c)
{
    aura__free(c->a, c->off);
    aura__free(c->a, c->nb);
    aura__free(c->a, c->dense);
    aura__free(c->a, c->ngb);
    aura__free(c->a, c->heap);
}

/* Dense mode: the value matrix (smallest value of each pair under the
 * threshold) and the edges from it, i < j, sorted by (i, j), into
 * *e_out (m of them). */
static aura_status init_dense(collapser *c, const aura_tda_edge *edges, size_t n_edges,
                              float threshold, aura_tda_edge **e_out, size_t *m_out)
{
    size_t n = c->n;
    c->dense = aura__alloc_array(c->a, n > 0 ? n * n : 1, sizeof(float));
    if (!c->dense) {
        return AURA_E_NOMEM;
    }
    for (size_t q = 0; q < n * n; q++) {
        c->dense[q] = INFINITY;
    }
    for (size_t k = 0; k < n_edges; k++) {
        aura_tda_edge x = edges[k];
        aura_status st = check_edge(&x, n);
        if (st != AURA_OK) {
            return st;
        }
        if (x.i == x.j || x.d > threshold) {
            continue;
        }
        x.d += 0.0f; /* -0 -> +0: the radix sort orders bit patterns */
        float *p = &c->dense[(size_t)x.i * n + x.j], *q = &c->dense[(size_t)x.j * n + x.i];
        if (x.d < *p) {
            *p = *q = x.d;
        }
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            m += c->dense[i * n + j] < INFINITY;
        }
    }
    aura_tda_edge *e = aura__alloc_array(c->a, m ? m : 1, sizeof(*e));
    if (!e) {
        return AURA_E_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (c->dense[i * n + j] < INFINITY) {
                e[k++] = (aura_tda_edge){(uint32_t)i, (uint32_t)j, c->dense[i * n + j]};
            }
        }
    }
    *e_out = e;
    *m_out = m;
    return AURA_OK;
}

/* Sparse mode: neighbour rows of the m edges e (i < j, distinct pairs,
 * sorted by (i, j)). */
static aura_status init_sparse(collapser *c, const aura_tda_edge *e, size_t m)
{
    size_t n = c->n;
    c->off = aura__calloc(c->a, n + 1, sizeof(int64_t));
    c->nb = aura__alloc_array(c->a, m ? 2 * m : 1, sizeof(cnbr));
    int64_t *fill = aura__alloc_array(c->a, n ? n : 1, sizeof(int64_t));
    if (!c->off || !c->nb || !fill) {
        aura__free(c->a, fill);
        return AURA_E_NOMEM;
    }
    for (size_t k = 0; k < m; k++) {
        c->off[e[k].i + 1]++;
        c->off[e[k].j + 1]++;
    }
    for (size_t v = 0; v < n; v++) {
        c->off[v + 1] += c->off[v];
    }
    /* Row v gets its smaller neighbours (as j) in increasing order first,
     * then its larger ones (as i), also increasing. */
    memcpy(fill, c->off, n * sizeof(int64_t));
    for (size_t k = 0; k < m; k++) {
        c->nb[fill[e[k].j]++] = (cnbr){e[k].i, e[k].d};
    }
    for (size_t k = 0; k < m; k++) {
        c->nb[fill[e[k].i]++] = (cnbr){e[k].j, e[k].d};
    }
    aura__free(c->a, fill);
    return AURA_OK;
}

/* Slot of w in the row of v (sparse mode), or NULL. */
static cnbr *find_nbr(const collapser *c, uint32_t v, uint32_t w)
{
    int64_t lo = c->off[v], hi = c->off[v + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (c->nb[mid].v < w) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < c->off[v + 1] && c->nb[lo].v == w ? &c->nb[lo] : NULL;
}

/* Current value of edge vw (INFINITY if absent or removed). */
static float value(const collapser *c, uint32_t v, uint32_t w)
{
    if (c->dense) {
        return c->dense[(size_t)v * c->n + w];
    }
    const cnbr *p = find_nbr(c, v, w);
    return p ? p->f : INFINITY;
}

static void set_value(collapser *c, uint32_t u, uint32_t v, float f)
{
    if (c->dense) {
        c->dense[(size_t)u * c->n + v] = f;
        c->dense[(size_t)v * c->n + u] = f;
        return;
    }
    cnbr *p = find_nbr(c, u, v), *q = find_nbr(c, v, u);
    if (AURA_ALWAYS(p && q)) {
        p->f = f;
        q->f = f;
    }
}

/* Common neighbours of u and v (sparse mode): those present at t into
 * c->ngb, the later ones into c->heap (not yet in heap order). */
static void common_neighbours(collapser *c, uint32_t u, uint32_t v, float t, size_t *n_now,
                              size_t *n_later)
{
    size_t k = 0, h = 0;
    const cnbr *a = c->nb + c->off[u], *ae = c->nb + c->off[u + 1];
    const cnbr *b = c->nb + c->off[v], *be = c->nb + c->off[v + 1];
    while (a < ae && b < be) {
        if (a->v < b->v) {
            a++;
        } else if (a->v > b->v) {
            b++;
        } else {
            float f = a->f > b->f ? a->f : b->f;
            if (f <= t) {
                c->ngb[k++] = a->v;
            } else if (f < INFINITY) {
                c->heap[h++] = (later){f, a->v};
            }
            a++;
            b++;
        }
    }
    *n_now = k;
    *n_later = h;
}

/* 1 if every vertex of ngb[0..k) is d itself or adjacent to d by t. */
static int dominates(const collapser *c, uint32_t d, size_t k, float t)
{
    if (c->dense) {
        const float *rd = c->dense + (size_t)d * c->n;
        for (size_t q = 0; q < k; q++) {
            uint32_t w = c->ngb[q];
            if (w != d && rd[w] > t) {
                return 0;
            }
        }
        return 1;
    }
    for (size_t q = 0; q < k; q++) {
        uint32_t w = c->ngb[q];
        if (w != d && value(c, d, w) > t) {
            return 0;
        }
    }
    return 1;
}

/* 1 if dom is adjacent to each later common neighbour w (the heap, in
 * any order) no later than w itself appears. */
static int dominates_later(const collapser *c, uint32_t dom, size_t n_later)
{
    for (size_t q = 0; q < n_later; q++) {
        if (value(c, dom, c->heap[q].v) > c->heap[q].key) {
            return 0;
        }
    }
    return 1;
}

/* Finds a vertex of ngb[0..n_now) that dominates edge uv at t, trying
 * *hint first (the last dominator found is often a common neighbour that
 * dominates again); UINT32_MAX if none. */
/* dominates() with the bitsets: the members of ngb (in b->cn) that are in
 * now_d are adjacent to d by the sweep value <= t; only the others need a
 * look at their value. */
static int dominates_bits(const collapser *c, const bitrows *b, uint32_t d, float t)
{
    const uint64_t *rd = b->now + (size_t)d * b->words;
    for (size_t x = 0; x < b->words; x++) {
        uint64_t miss = b->cn[x] & ~rd[x];
        if (x == d / 64) {
            miss &= ~(1ull << (d % 64));
        }
        for (; miss; miss &= miss - 1) {
            if (value(c, d, (uint32_t)(x * 64 + (size_t)__builtin_ctzll(miss))) > t) {
                return 0;
            }
        }
    }
    return 1;
}

static int dominates_any(const collapser *c, uint32_t d, size_t n_now, float t)
{
    return c->bits ? dominates_bits(c, c->bits, d, t) : dominates(c, d, n_now, t);
}

static uint32_t find_dominator(const collapser *c, uint32_t u, uint32_t v, size_t n_now, float t,
                               uint32_t *hint)
{
    if (c->bits) { /* ngb as a bitset, in cn (free once the sweep is here) */
        bitrows *b = c->bits;
        memset(b->cn, 0, b->words * sizeof(uint64_t));
        for (size_t q = 0; q < n_now; q++) {
            b->cn[c->ngb[q] / 64] |= 1ull << (c->ngb[q] % 64);
        }
    }
    uint32_t h = *hint;
    if (h != UINT32_MAX && h != u && h != v && value(c, h, u) <= t && value(c, h, v) <= t &&
        dominates_any(c, h, n_now, t)) {
        return h;
    }
    for (size_t q = 0; q < n_now; q++) {
        if (dominates_any(c, c->ngb[q], n_now, t)) {
            *hint = c->ngb[q];
            return c->ngb[q];
        }
    }
    return UINT32_MAX;
}

/* Edge uv at *t with its common neighbours in c->ngb (n_now, present) and
 * c->heap (n_later, not yet heap-ordered), dominated by dom (or
 * UINT32_MAX: not yet searched).  Shifts *t while the edge stays
 * dominated; returns 1 if it is dominated to the end (removed). */
static int resolve(collapser *c, uint32_t u, uint32_t v, float *t, size_t n_now, size_t n_later,
                   uint32_t dom, uint32_t *hint)
{
    int heaped = 0;
    for (;;) {
        if (dom == UINT32_MAX) {
            dom = find_dominator(c, u, v, n_now, *t, hint);
        }
        if (dom == UINT32_MAX) {
            return 0;
        }
        /* Dominated by dom: shift the edge to the first value at which a
         * new common neighbour is not adjacent to dom.  First, one linear
         * pass: if dom is adjacent to every later common neighbour by the
         * time it appears, the edge stays dominated to the end. */
        if (!heaped && dominates_later(c, dom, n_later)) {
            return 1;
        }
        if (!heaped) {
            aura__fheap_build(c->heap, n_later);
            heaped = 1;
        }
        int still = 1;
        while (still) {
            if (n_later == 0) {
                return 1;
            }
            *t = c->heap[0].key;
            while (n_later > 0 && c->heap[0].key <= *t) {
                later x = aura__fheap_pop(c->heap, &n_later);
                if (value(c, dom, x.v) > x.key) {
                    still = 0;
                }
                c->ngb[n_now++] = x.v;
            }
        }
        dom = UINT32_MAX;
    }
}

/* Sweeps the edges e[0..m) (sorted by decreasing value) with neighbour
 * lists; writes the kept edges with their new values to out. */
static size_t sweep(collapser *c, const aura_tda_edge *e, size_t m, aura_tda_edge *out)
{
    size_t kept = 0;
    uint32_t hint = UINT32_MAX;
    for (size_t k = 0; k < m; k++) {
        uint32_t u = e[k].i, v = e[k].j;
        float t = e[k].d;
        size_t n_now = 0, n_later = 0;
        common_neighbours(c, u, v, t, &n_now, &n_later);
        if (resolve(c, u, v, &t, n_now, n_later, UINT32_MAX, &hint)) {
            set_value(c, u, v, INFINITY);
        } else {
            if (t != e[k].d) {
                set_value(c, u, v, t);
            }
            out[kept++] = (aura_tda_edge){u, v, t};
        }
    }
    return kept;
}

/* ---- the same sweep on bitsets (dense mode) ----
 * now: row u has bit w iff edge uw is in the graph at the current sweep
 * value t (its current value <= t); all: iff edge uw is still there at
 * all.  Values only grow (shifts) and the sweep value only falls, so an
 * edge leaves `now` once, when t drops below its value. */


static void bit_clear(uint64_t *rows, size_t words, uint32_t u, uint32_t v)
{
    rows[(size_t)u * words + v / 64] &= ~(1ull << (v % 64));
    rows[(size_t)v * words + u / 64] &= ~(1ull << (u % 64));
}

/* 1 if every vertex of cn other than d is in now_d. */
static int bit_dominates(const bitrows *b, uint32_t d)
{
    const uint64_t *rd = b->now + (size_t)d * b->words;
    for (size_t x = 0; x < b->words; x++) {
        uint64_t miss = b->cn[x] & ~rd[x];
        if (x == d / 64) {
            miss &= ~(1ull << (d % 64));
        }
        if (miss) {
            return 0;
        }
    }
    return 1;
}

static uint32_t bit_find_dominator(const bitrows *b, uint32_t *hint)
{
    uint32_t h = *hint;
    if (h != UINT32_MAX && (b->cn[h / 64] >> (h % 64) & 1) && bit_dominates(b, h)) {
        return h;
    }
    for (size_t x = 0; x < b->words; x++) {
        for (uint64_t w = b->cn[x]; w; w &= w - 1) {
            uint32_t d = (uint32_t)(x * 64 + (size_t)__builtin_ctzll(w));
            if (bit_dominates(b, d)) {
                *hint = d;
                return d;
            }
        }
    }
    return UINT32_MAX;
}

static size_t sweep_bits(collapser *c, bitrows *b, const aura_tda_edge *e, size_t m,
                         aura_tda_edge *out, uint32_t *pend)
{
    size_t kept = 0, n_pend = 0, W = b->words;
    uint32_t hint = UINT32_MAX;
    float cur = m ? e[0].d : 0;
    for (size_t k = 0; k < m; k++) {
        uint32_t u = e[k].i, v = e[k].j;
        float t = e[k].d;
        if (t < cur) { /* edges kept at the previous value leave `now` */
            for (size_t q = 0; q < n_pend; q++) {
                bit_clear(b->now, W, pend[2 * q], pend[2 * q + 1]);
            }
            n_pend = 0;
            cur = t;
        }
        const uint64_t *nu = b->now + (size_t)u * W, *nv = b->now + (size_t)v * W;
        for (size_t x = 0; x < W; x++) {
            b->cn[x] = nu[x] & nv[x];
        }
        uint32_t dom = bit_find_dominator(b, &hint);
        int dead = 0;
        if (dom != UINT32_MAX) {
            /* Later common neighbours, and whether dom covers them all. */
            const uint64_t *au = b->all + (size_t)u * W, *av = b->all + (size_t)v * W;
            size_t n_later = 0;
            int covered = 1;
            for (size_t x = 0; x < W; x++) {
                for (uint64_t w = au[x] & av[x] & ~b->cn[x]; w; w &= w - 1) {
                    uint32_t z = (uint32_t)(x * 64 + (size_t)__builtin_ctzll(w));
                    float fu = value(c, u, z), fv = value(c, v, z);
                    float f = fu > fv ? fu : fv;
                    covered &= value(c, dom, z) <= f;
                    c->heap[n_later++] = (later){f, z};
                }
            }
            if (covered) {
                dead = 1;
            } else {
                size_t n_now = 0;
                for (size_t x = 0; x < W; x++) {
                    for (uint64_t w = b->cn[x]; w; w &= w - 1) {
                        c->ngb[n_now++] = (uint32_t)(x * 64 + (size_t)__builtin_ctzll(w));
                    }
                }
                dead = resolve(c, u, v, &t, n_now, n_later, dom, &hint);
            }
        }
        if (dead) {
            set_value(c, u, v, INFINITY);
            bit_clear(b->now, W, u, v);
            bit_clear(b->all, W, u, v);
        } else if (t != e[k].d) {
            set_value(c, u, v, t);
            bit_clear(b->now, W, u, v);
            out[kept++] = (aura_tda_edge){u, v, t};
        } else {
            pend[2 * n_pend] = u;
            pend[2 * n_pend + 1] = v;
            n_pend++;
            out[kept++] = (aura_tda_edge){u, v, t};
        }
    }
    return kept;
}

/* Bitset sweep (values from the dense matrix or by binary search in the
 * neighbour lists): allocates the rows, runs, frees. */
static aura_status sweep_dense(collapser *c, const aura_tda_edge *e, size_t m,
                               aura_tda_edge *out, size_t *kept)
{
    size_t n = c->n, W = (n + 63) / 64;
    bitrows b = {W, NULL, NULL, NULL};
    b.now = aura__calloc(c->a, n > 0 ? n * W : 1, sizeof(uint64_t));
    b.all = aura__calloc(c->a, n > 0 ? n * W : 1, sizeof(uint64_t));
    b.cn = aura__alloc_array(c->a, W ? W : 1, sizeof(uint64_t));
    uint32_t *pend = aura__alloc_array(c->a, m ? 2 * m : 1, sizeof(uint32_t));
    aura_status st = AURA_NOMEM_OR_OK(b.now && b.all && b.cn && pend);
    if (st == AURA_OK) {
        for (size_t q = 0; q < m; q++) {
            uint32_t u = e[q].i, v = e[q].j;
            b.all[(size_t)u * W + v / 64] |= 1ull << (v % 64);
            b.all[(size_t)v * W + u / 64] |= 1ull << (u % 64);
        }
        memcpy(b.now, b.all, n * W * sizeof(uint64_t));
        c->bits = &b;
        *kept = sweep_bits(c, &b, e, m, out, pend);
        c->bits = NULL;
    }
    aura__free(c->a, b.now);
    aura__free(c->a, b.all);
    aura__free(c->a, b.cn);
    aura__free(c->a, pend);
    return st;
}

/* Largest n for the bitset sweep without the value matrix (2 x 32 MiB). */
#define BITS_MAX_N 16384u

/* The bitset sweep on neighbour lists (values by binary search) for larger
 * graphs that are not very sparse. */
static int use_bits(size_t n, size_t m)
{
    return n <= BITS_MAX_N && n * n / 256 <= m + 4096;
}

/* Dense mode when the n*n matrix is affordable (at most 64 MiB) and not
 * much larger than the edge list. */
static int use_dense(size_t n, size_t n_edges)
{
    return n <= DENSE_MAX_N && n * n / 256 <= n_edges + 4096;
}

aura_status aura_tda_collapse_edges(const aura_allocator *alloc, size_t n,
                                    const aura_tda_edge *edges, size_t n_edges, float threshold,
                                    aura_tda_edge *out, size_t *n_out)
{
    return aura__tda_collapse_edges_mode(alloc, n, edges, n_edges, threshold, out, n_out, 0);
}

aura_status aura__tda_collapse_edges_mode(const aura_allocator *alloc, size_t n,
                                          const aura_tda_edge *edges, size_t n_edges,
                                          float threshold, aura_tda_edge *out, size_t *n_out,
                                          int mode)
{
    AURA_CHECK_ARG(edges || n_edges == 0);
    AURA_CHECK_ARG(out || n_edges == 0);
    AURA_CHECK_ARG(n_out);
    if (isnan(threshold) || n > UINT32_MAX) {
        return AURA_E_INVAL;
    }
    collapser c;
    memset(&c, 0, sizeof c);
    c.a = alloc;
    c.n = n;
    aura_tda_edge *e = NULL, *tmp = NULL;
    size_t m = 0;
    aura_status st;
    if (mode == 1 ? n <= DENSE_MAX_N : mode == 0 && use_dense(n, n_edges)) {
        st = init_dense(&c, edges, n_edges, threshold, &e, &m);
    } else {
        st = aura__tda_edges_normalize(alloc, n, edges, n_edges, threshold, &e, &m);
        if (st == AURA_OK) {
            st = init_sparse(&c, e, m);
        }
    }
    if (st == AURA_OK) {
        c.ngb = aura__alloc_array(alloc, n ? n : 1, sizeof(uint32_t));
        c.heap = aura__alloc_array(alloc, n ? n : 1, sizeof(later));
        tmp = aura__alloc_array(alloc, m ? m : 1, sizeof(*tmp));
        if (!c.ngb || !c.heap || !tmp) {
            st = AURA_E_NOMEM;
        }
    }
    if (st == AURA_OK) {
        sort_desc(e, tmp, m);
        if (c.dense || (mode == 3 && n <= BITS_MAX_N) || (mode == 0 && use_bits(n, m))) {
            st = sweep_dense(&c, e, m, out, n_out);
        } else {
            *n_out = sweep(&c, e, m, out);
        }
    }
    collapser_free(&c);
    aura__free(alloc, tmp);
    aura__free(alloc, e);
    return st;
}

/* Collapses e[0..m) and reduces what is left as a sparse matrix. */
static aura_status compute_collapsed_edges(const aura_tda_opts *o, size_t n,
                                           const aura_tda_edge *e, size_t m, float threshold,
                                           aura_tda_result **out, size_t *n_kept)
{
    aura_tda_edge *kept = aura__alloc_array(o->alloc, m ? m : 1, sizeof(*kept));
    if (!kept) {
        return AURA_E_NOMEM;
    }
    size_t k = 0;
    aura_status st = aura_tda_collapse_edges(o->alloc, n, e, m, threshold, kept, &k);
    if (st == AURA_OK) {
        st = aura_tda_compute_sparse(o, n, kept, k, out);
    }
    if (st == AURA_OK && n_kept) {
        *n_kept = k;
    }
    aura__free(o->alloc, kept);
    return st;
}

/* Collapsed barcode of a validated lower matrix (finite, >= 0). */
static aura_status lower_collapsed(const aura_tda_opts *o, const float *lower, size_t n,
                                   aura_tda_result **out, size_t *n_kept, size_t *n_total)
{
    float t = o->threshold;
    int dense = t >= 3.40282347e38f;
    if (dense) { /* no threshold: the engine's enclosing radius */
        if (aura__tda_enclosing_radius(o->alloc, lower, n, &t) != AURA_OK) {
            return AURA_E_NOMEM;
        }
    }
    size_t m = 0;
    for (size_t q = 0; q < n * (n ? n - 1 : 0) / 2; q++) {
        m += lower[q] <= t;
    }
    aura_tda_edge *e = aura__alloc_array(o->alloc, m ? m : 1, sizeof(*e));
    if (!e) {
        return AURA_E_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        const float *row = lower + i * (i - 1) / 2;
        for (size_t j = 0; j < i; j++) {
            if (row[j] <= t) {
                e[k++] = (aura_tda_edge){(uint32_t)j, (uint32_t)i, row[j]};
            }
        }
    }
    aura_tda_edge *kept = aura__alloc_array(o->alloc, m ? m : 1, sizeof(*kept));
    if (!kept) {
        aura__free(o->alloc, e);
        return AURA_E_NOMEM;
    }
    aura_tda_opts o2 = *o;
    o2.threshold = t;
    aura_status st = aura_tda_collapse_edges(o->alloc, n, e, m, t, kept, &k);
    if (st == AURA_OK && dense && 2 * k > m) {
        /* Little collapsed: the engine's dense path (enclosing radius, no
         * neighbour lists) is faster than its sparse one on nearly all
         * the edges.  Same barcode either way. */
        st = aura_tda_compute_matrix(o, lower, n, AURA_TDA_LOWER, out);
    } else if (st == AURA_OK) {
        st = aura_tda_compute_sparse(&o2, n, kept, k, out);
    }
    if (st == AURA_OK) {
        if (n_kept) {
            *n_kept = k;
        }
        if (n_total) {
            *n_total = m;
        }
    }
    aura__free(o->alloc, kept);
    aura__free(o->alloc, e);
    return st;
}

static aura_status check_opts(const aura_tda_opts *o)
{
    if (o->max_dim < 0 || isnan(o->threshold) || isnan(o->ratio) ||
        !aura_tda_is_prime(o->modulus) || o->modulus > AURA_TDA_MAX_MODULUS ||
        o->cocycles != 0) { /* cocycles of the collapsed complex: not the Rips complex's */
        return AURA_E_INVAL;
    }
    return AURA_OK;
}

static aura_status points_collapsed(const aura_tda_opts *o, const float *points, size_t n,
                                    size_t d, aura_tda_result **out, size_t *n_kept,
                                    size_t *n_total)
{
    float *lower = NULL;
    aura_status st = aura__tda_points_lower(o->alloc, points, n, d, &lower);
    if (st == AURA_OK) {
        st = lower_collapsed(o, lower, n, out, n_kept, n_total);
        aura__free(o->alloc, lower);
    }
    return st;
}

aura_status aura_tda_compute_points_collapsed(const aura_tda_opts *opts, const float *points,
                                              size_t n, size_t d, aura_tda_result **out)
{
    aura_tda_opts o = opts ? *opts : aura_tda_opts_default();
    AURA_CHECK_ARG(out);
    AURA_CHECK_ARG(points || n == 0);
    if (check_opts(&o) != AURA_OK) {
        return AURA_E_INVAL;
    }
    return points_collapsed(&o, points, n, d, out, NULL, NULL);
}

aura_status aura_tda_compute_matrix_collapsed(const aura_tda_opts *opts, const float *dist,
                                              size_t n, aura_tda_layout layout,
                                              aura_tda_result **out)
{
    aura_tda_opts o = opts ? *opts : aura_tda_opts_default();
    AURA_CHECK_ARG(out);
    AURA_CHECK_ARG(dist || n == 0);
    if (check_opts(&o) != AURA_OK || n > INT32_MAX ||
        (layout != AURA_TDA_FULL && layout != AURA_TDA_LOWER)) {
        return AURA_E_INVAL;
    }
    size_t h = n ? n - 1 : 0;
    if (aura__mul_overflows(n, h) || aura__mul_overflows(n * h / 2, sizeof(float))) {
        return AURA_E_NOMEM;
    }
    size_t m = n * h / 2;
    float *lower = aura__alloc_array(o.alloc, m ? m : 1, sizeof(float));
    if (!lower) {
        return AURA_E_NOMEM;
    }
    aura_status st = AURA_OK;
    for (size_t i = 1; i < n && st == AURA_OK; i++) {
        for (size_t j = 0; j < i; j++) {
            float x = layout == AURA_TDA_LOWER ? dist[i * (i - 1) / 2 + j] : dist[i * n + j];
            if (!isfinite(x)) {
                st = AURA_E_NUMERIC;
                break;
            }
            if (x < 0) {
                st = AURA_E_INVAL;
                break;
            }
            lower[i * (i - 1) / 2 + j] = x;
        }
    }
    if (st == AURA_OK) {
        st = lower_collapsed(&o, lower, n, out, NULL, NULL);
    }
    aura__free(o.alloc, lower);
    return st;
}

aura_status aura_tda_compute_sparse_collapsed(const aura_tda_opts *opts, size_t n,
                                              const aura_tda_edge *edges, size_t n_edges,
                                              aura_tda_result **out)
{
    aura_tda_opts o = opts ? *opts : aura_tda_opts_default();
    AURA_CHECK_ARG(out);
    AURA_CHECK_ARG(edges || n_edges == 0);
    if (check_opts(&o) != AURA_OK || n > INT32_MAX) {
        return AURA_E_INVAL;
    }
    /* The engine rejects a repeated pair with two values; so do we. */
    aura_tda_edge *e = aura__alloc_array(o.alloc, n_edges ? n_edges : 1, sizeof(*e));
    if (!e) {
        return AURA_E_NOMEM;
    }
    size_t m = 0;
    aura_status st = AURA_OK;
    for (size_t k = 0; k < n_edges; k++) {
        aura_tda_edge x = edges[k];
        if (x.i >= n || x.j >= n) {
            st = AURA_E_RANGE;
            break;
        }
        if (!isfinite(x.d)) {
            st = AURA_E_NUMERIC;
            break;
        }
        if (x.d < 0) {
            st = AURA_E_INVAL;
            break;
        }
        if (x.i == x.j) {
            continue;
        }
        if (x.i > x.j) {
            uint32_t s = x.i;
            x.i = x.j;
            x.j = s;
        }
        e[m++] = x;
    }
    if (st == AURA_OK && m > 1) {
        qsort(e, m, sizeof(*e), cmp_ij);
        for (size_t k = 1; k < m; k++) {
            if (e[k].i == e[k - 1].i && e[k].j == e[k - 1].j && e[k].d != e[k - 1].d) {
                st = AURA_E_INVAL;
                break;
            }
        }
    }
    if (st == AURA_OK) {
        st = compute_collapsed_edges(&o, n, e, m, o.threshold, out, NULL);
    }
    aura__free(o.alloc, e);
    return st;
}

aura_status aura_tda_input_compute_collapsed(const aura_tda_opts *opts, const aura_tda_input *in,
                                             aura_tda_result **out, size_t *n_kept,
                                             size_t *n_total)
{
    aura_tda_opts o = opts ? *opts : aura_tda_opts_default();
    AURA_CHECK_ARG(in);
    AURA_CHECK_ARG(out);
    if (check_opts(&o) != AURA_OK) {
        return AURA_E_INVAL;
    }
    aura_tda_input_shape sh = aura_tda_input_get_shape(in);
    const float *data = NULL;
    const aura_tda_edge *edges = NULL;
    aura__tda_input_view(in, &data, &edges);
    size_t kept = 0, total = 0;
    aura_status st;
    if (sh.kind == 0) {
        st = points_collapsed(&o, data, sh.n, sh.dim, out, &kept, &total);
    } else if (sh.kind == 1) {
        st = lower_collapsed(&o, data, sh.n, out, &kept, &total);
    } else {
        for (size_t k = 0; k < sh.n_entries; k++) {
            total += edges[k].d <= o.threshold;
        }
        st = compute_collapsed_edges(&o, sh.n, edges, sh.n_entries, o.threshold, out, &kept);
    }
    if (st == AURA_OK) {
        if (n_kept) {
            *n_kept = kept;
        }
        if (n_total) {
            *n_total = total;
        }
    }
    return st;
}
