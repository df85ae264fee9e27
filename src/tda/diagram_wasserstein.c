/* diagram_wasserstein.c -- p-Wasserstein distance between finite diagrams
 * (L-infinity ground metric, a point's cost to the diagonal is half its
 * persistence), exact and (1 + eps)-approximate.
 *
 * The matching problem is a transportation problem on the points of A and
 * B and two aggregate diagonal nodes:
 *
 *   S -> a_i (1)   a_i -> b_j (1, |a_i - b_j|^p)   b_j -> T (1)
 *   S -> DA (nb)   a_i -> DB  (1, diag(a_i)^p)     DB  -> T (na)
 *                  DA  -> b_j (1, diag(b_j)^p)
 *                  DA  -> DB  (unbounded, 0)
 *
 * A flow of value na + nb is a matching: a_i -> DB sends a_i to the
 * diagonal, DA -> b_j sends b_j there, DA -> DB pairs diagonal with
 * diagonal.  Only pairs with |a - b|^p <= diag(a)^p + diag(b)^p get an
 * edge: a pair costing more is never better than sending both points to
 * the diagonal (and taking one diagonal-diagonal pair out), so the optimum
 * of the sparse network is the optimum.  Candidates are found in a window
 * of B sorted by birth (|a.birth - b.birth| <= diag(a) + max diag(B)).
 *
 * Exact: successive shortest paths (Dijkstra on reduced costs with node
 * potentials, stopped at the target): a forward search from each point of
 * A, a backward search into DA from each point of B left free, then DA's
 * remaining supply.  The potentials are a dual solution; at the end every
 * residual edge has reduced cost >= 0 and the flow is optimal
 * (complementary slackness), which the solver checks.  On dense candidate
 * graphs (more than PRUNE_DEGREE pairs per point) an auction first gives a
 * dual bound, and pairs whose reduced cost exceeds the primal-dual gap are
 * dropped (reduced-cost fixing: they are in no optimal matching).
 *
 * Approximate: a forward auction with epsilon scaling on the same sparse
 * structure (Bertsekas; the diagonal handled as in Kerber, Morozov and
 * Nigmetov, "Geometry helps to compare persistence diagrams", 2017), run
 * until the cost of its matching is within (1 + eps)^p of a dual lower
 * bound computed from its prices.
 * SPDX-License-Identifier: MIT */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "tda/diagram_int.h"

#define NONE UINT32_MAX
#define DIAG (UINT32_MAX - 1)

static double linf(const aura_tda_interval *x, const aura_tda_interval *y)
{
    double db = fabs(x->birth - y->birth), dd = fabs(x->death - y->death);
    return db > dd ? db : dd;
}

static double powp(double c, double p)
{
    if (p == 1.0) {
        return c;
    }
    if (p == 2.0) {
        return c * c;
    }
    if (p == 3.0) {
        return c * c * c;
    }
    return pow(c, p);
}

/* ---- candidate pairs ---- */

typedef struct keyed {
    double key;
    uint32_t idx;
} keyed;

static int cmp_keyed(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    if (a->key != b->key) {
        return a->key < b->key ? -1 : 1;
    }
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* The sparse structure: start[i]..start[i+1] index the candidate b's of
 * a_i in to[]; ca / cb are the diagonal costs diag^p. */
typedef struct graph {
    const aura_tda_interval *a, *b;
    uint32_t na, nb;
    double p;
    size_t *start;
    uint32_t *to;
    double *w; /* w[k] = cost^p of the pair (i, to[k]) */
    size_t *rstart; /* the same pairs by b: rstart[j]..rstart[j+1] in rfrom / rw */
    uint32_t *rfrom;
    double *rw;
    double *ca, *cb;
} graph;

static void graph_free(const aura_allocator *al, graph *g)
{
    aura__free(al, g->start);
    aura__free(al, g->to);
    aura__free(al, g->w);
    aura__free(al, g->rstart);
    aura__free(al, g->rfrom);
    aura__free(al, g->rw);
    aura__free(al, g->ca);
    aura__free(al, g->cb);
}

static size_t scan_pairs(const graph *g, const keyed *sb, double max_db, uint32_t *to,
                         double *w)
{
    size_t m = 0;
    for (uint32_t i = 0; i < g->na; i++) {
        const aura_tda_interval *a = &g->a[i];
        double r = (a->death - a->birth) / 2 + max_db, lo = a->birth - r;
        size_t k0 = 0, k1 = g->nb;
        while (k0 < k1) { /* first birth >= lo */
            size_t mid = k0 + (k1 - k0) / 2;
            if (sb[mid].key < lo) {
                k0 = mid + 1;
            } else {
                k1 = mid;
            }
        }
        if (to) {
            g->start[i] = m;
        }
        for (size_t k = k0; k < g->nb && sb[k].key <= a->birth + r; k++) {
            uint32_t j = sb[k].idx;
            double c = powp(linf(a, &g->b[j]), g->p);
            if (c <= g->ca[i] + g->cb[j]) {
                if (to) {
                    to[m] = j;
                    w[m] = c;
                }
                m++;
            }
        }
    }
    if (to) {
        g->start[g->na] = m;
    }
    return m;
}

static aura_status graph_build(const aura_allocator *al, const aura_tda_interval *a, size_t na,
                               const aura_tda_interval *b, size_t nb, double p, graph *g)
{
    memset(g, 0, sizeof *g);
    if (na >= NONE / 2 || nb >= NONE / 2) {
        return AURA_E_OVERFLOW;
    }
    g->a = a;
    g->b = b;
    g->na = (uint32_t)na;
    g->nb = (uint32_t)nb;
    g->p = p;
    g->start = aura__alloc_array(al, na + 1, sizeof *g->start);
    g->ca = aura__alloc_array(al, na ? na : 1, sizeof *g->ca);
    g->cb = aura__alloc_array(al, nb ? nb : 1, sizeof *g->cb);
    keyed *sb = aura__alloc_array(al, nb ? nb : 1, sizeof *sb);
    if (!g->start || !g->ca || !g->cb || !sb) {
        aura__free(al, sb);
        return AURA_E_NOMEM;
    }
    double max_db = 0.0;
    for (size_t i = 0; i < na; i++) {
        g->ca[i] = powp((a[i].death - a[i].birth) / 2, p);
    }
    for (size_t j = 0; j < nb; j++) {
        double d = (b[j].death - b[j].birth) / 2;
        max_db = d > max_db ? d : max_db;
        g->cb[j] = powp(d, p);
        sb[j].key = b[j].birth;
        sb[j].idx = (uint32_t)j;
    }
    qsort(sb, nb, sizeof *sb, cmp_keyed);
    size_t m = scan_pairs(g, sb, max_db, NULL, NULL);
    g->to = aura__alloc_array(al, m ? m : 1, sizeof *g->to);
    g->w = aura__alloc_array(al, m ? m : 1, sizeof *g->w);
    if (!g->to || !g->w) {
        aura__free(al, sb);
        return AURA_E_NOMEM;
    }
    scan_pairs(g, sb, max_db, g->to, g->w);
    aura__free(al, sb);
    return AURA_OK;
}

/* The transpose of the pairs (for searches that run backwards from b). */
static aura_status graph_transpose(const aura_allocator *al, graph *g)
{
    size_t m = g->start[g->na];
    g->rstart = aura__calloc(al, (size_t)g->nb + 1, sizeof *g->rstart);
    g->rfrom = aura__alloc_array(al, m ? m : 1, sizeof *g->rfrom);
    g->rw = aura__alloc_array(al, m ? m : 1, sizeof *g->rw);
    if (!g->rstart || !g->rfrom || !g->rw) {
        return AURA_E_NOMEM;
    }
    for (size_t k = 0; k < m; k++) {
        g->rstart[g->to[k] + 1]++;
    }
    for (uint32_t j = 0; j < g->nb; j++) {
        g->rstart[j + 1] += g->rstart[j];
    }
    for (uint32_t i = 0; i < g->na; i++) { /* rstart[j] runs ahead, then is restored */
        for (size_t k = g->start[i]; k < g->start[i + 1]; k++) {
            size_t at = g->rstart[g->to[k]]++;
            g->rfrom[at] = i;
            g->rw[at] = g->w[k];
        }
    }
    for (uint32_t j = g->nb; j > 0; j--) {
        g->rstart[j] = g->rstart[j - 1];
    }
    g->rstart[0] = 0;
    return AURA_OK;
}

static double pair_cost(const graph *g, uint32_t i, uint32_t j)
{
    return powp(linf(&g->a[i], &g->b[j]), g->p);
}

/* Cost of a complete matching given by mate_a / mate_b. */
static double matching_cost(const graph *g, const uint32_t *mate_a, const uint32_t *mate_b)
{
    double sum = 0.0;
    for (uint32_t i = 0; i < g->na; i++) {
        sum += mate_a[i] == DIAG ? g->ca[i] : pair_cost(g, i, mate_a[i]);
    }
    for (uint32_t j = 0; j < g->nb; j++) {
        sum += mate_b[j] == DIAG ? g->cb[j] : 0.0;
    }
    return sum;
}

/* ---- exact: successive shortest paths ----
 * Nodes: a_i = i, b_j = na + j, then DA, DB, S, T. */

typedef struct ssp {
    const graph *g;
    uint32_t n_nodes, DA, DB, S, T;
    uint32_t *mate_a, *mate_b;
    size_t f, na_diag, nb_diag, free_a; /* flow DA -> DB; points sent to the diagonal */
    double *phi, *dist;
    uint32_t *pred, *seen, *fin, round;
    uint32_t *heap, *pos, heap_n;
    uint32_t *done, n_done;
    uint32_t target; /* T in a forward round, DA in a backward one */
    double bound;    /* the target's tentative distance this round */
} ssp;

static void heap_up(ssp *s, uint32_t k)
{
    uint32_t v = s->heap[k];
    double d = s->dist[v];
    while (k > 0) {
        uint32_t parent = (k - 1) / 2;
        if (s->dist[s->heap[parent]] <= d) {
            break;
        }
        s->heap[k] = s->heap[parent];
        s->pos[s->heap[k]] = k;
        k = parent;
    }
    s->heap[k] = v;
    s->pos[v] = k;
}

static uint32_t heap_pop(ssp *s)
{
    uint32_t top = s->heap[0], v = s->heap[--s->heap_n], k = 0;
    s->pos[top] = NONE;
    if (s->heap_n == 0) {
        return top;
    }
    double d = s->dist[v];
    for (;;) {
        uint32_t c = 2 * k + 1;
        if (c >= s->heap_n) {
            break;
        }
        if (c + 1 < s->heap_n && s->dist[s->heap[c + 1]] < s->dist[s->heap[c]]) {
            c++;
        }
        if (s->dist[s->heap[c]] >= d) {
            break;
        }
        s->heap[k] = s->heap[c];
        s->pos[s->heap[k]] = k;
        k = c;
    }
    s->heap[k] = v;
    s->pos[v] = k;
    return top;
}

/* v gets tentative distance nd through `via` (the caller checked that
 * it improves and that v is not final). */
static void improve(ssp *s, uint32_t v, uint32_t via, double nd)
{
    s->dist[v] = nd;
    s->pred[v] = via;
    if (v == s->target) {
        s->bound = nd;
    }
    if (s->seen[v] != s->round) {
        s->seen[v] = s->round;
        s->heap[s->heap_n] = v;
        s->pos[v] = s->heap_n++;
    }
    heap_up(s, s->pos[v]);
}

/* 1 if tentative distance nd would improve v. */
static inline int improves(const ssp *s, uint32_t v, double nd)
{
    return nd < s->bound &&
           (s->seen[v] != s->round || (nd < s->dist[v] && s->fin[v] != s->round));
}

static void relax(ssp *s, uint32_t u, uint32_t v, double c)
{
    double nd = s->dist[u] + c + s->phi[u] - s->phi[v];
    if (improves(s, v, nd)) {
        improve(s, v, u, nd);
    }
}

static void expand(ssp *s, uint32_t u)
{
    const graph *g = s->g;
    uint32_t na = g->na, nb = g->nb;
    if (u < na) {
        uint32_t m = s->mate_a[u];
        double base = s->dist[u] + s->phi[u];
        for (size_t k = g->start[u]; k < g->start[u + 1]; k++) {
            uint32_t j = g->to[k];
            double nd = base + g->w[k] - s->phi[na + j];
            /* Nothing at or beyond T's tentative distance. */
            if (j != m && improves(s, na + j, nd)) {
                improve(s, na + j, u, nd);
            }
        }
        if (m != DIAG) {
            relax(s, u, s->DB, g->ca[u]);
        }
    } else if (u < na + nb) {
        uint32_t j = u - na, m = s->mate_b[j];
        if (m == NONE) {
            relax(s, u, s->T, 0.0);
        } else if (m == DIAG) {
            relax(s, u, s->DA, -g->cb[j]);
        } else {
            relax(s, u, m, -pair_cost(g, m, j));
        }
    } else if (u == s->DA) {
        for (uint32_t j = 0; j < nb; j++) {
            if (s->mate_b[j] != DIAG) {
                relax(s, u, na + j, g->cb[j]);
            }
        }
        relax(s, u, s->DB, 0.0);
    } else if (u == s->DB) {
        for (uint32_t i = 0; i < na; i++) {
            if (s->mate_a[i] == DIAG) {
                relax(s, u, i, -g->ca[i]);
            }
        }
        if (s->f > 0) {
            relax(s, u, s->DA, 0.0);
        }
        if (na - s->f - s->na_diag > 0) {
            relax(s, u, s->T, 0.0);
        }
    }
}

static void set_mate_a(ssp *s, uint32_t i, uint32_t x)
{
    uint32_t old = s->mate_a[i];
    s->free_a -= old == NONE;
    s->na_diag += (x == DIAG) - (old == DIAG);
    s->mate_a[i] = x;
}

static void set_mate_b(ssp *s, uint32_t j, uint32_t x)
{
    uint32_t old = s->mate_b[j];
    s->nb_diag += (x == DIAG) - (old == DIAG);
    s->mate_b[j] = x;
}

static size_t edge_cap(const ssp *s, uint32_t u, uint32_t v)
{
    uint32_t na = s->g->na;
    if (u == s->DA && v == s->DB) {
        return SIZE_MAX;
    }
    if (u == s->DB && v == s->DA) {
        return s->f;
    }
    if (u == s->DB && v == s->T) {
        return na - s->f - s->na_diag;
    }
    return 1;
}

/* Pushes flow along the path heap[len-1] (the source) -> ... -> heap[0]
 * (T); the heap array is free between rounds. */
static void apply_path(ssp *s, uint32_t len)
{
    uint32_t na = s->g->na, nb = s->g->nb, src = s->heap[len - 1];
    size_t delta = src == s->DA ? nb - s->f - s->nb_diag : 1;
    for (uint32_t k = len - 1; k > 0; k--) {
        size_t c = edge_cap(s, s->heap[k], s->heap[k - 1]);
        delta = c < delta ? c : delta;
    }
    for (uint32_t k = len - 1; k > 0; k--) {
        uint32_t u = s->heap[k], v = s->heap[k - 1];
        if (u < na && v >= na && v < na + nb) {
            set_mate_a(s, u, v - na);
            set_mate_b(s, v - na, u);
        } else if (u < na && v == s->DB) {
            set_mate_a(s, u, DIAG);
        } else if (u == s->DA && v >= na && v < na + nb) {
            set_mate_b(s, v - na, DIAG);
        } else if (u == s->DA && v == s->DB) {
            s->f += delta;
        } else if (u == s->DB && v == s->DA) {
            s->f -= delta;
        }
    }
}

/* Pushes flow along the pred chain from src to T. */
static void augment(ssp *s, uint32_t src)
{
    uint32_t len = 0;
    for (uint32_t v = s->T; v != src; v = s->pred[v]) {
        s->heap[len++] = v;
    }
    s->heap[len++] = src;
    apply_path(s, len);
}

/* One Dijkstra round from src (a free a_i, or DA with supply left) and
 * augmentation; 0 if T is unreachable. */
static int ssp_round(ssp *s, uint32_t src)
{
    s->round++;
    s->n_done = 0;
    s->heap_n = 0;
    s->bound = INFINITY;
    s->target = s->T;
    s->dist[src] = 0.0;
    s->seen[src] = s->round;
    s->pred[src] = NONE;
    s->heap[s->heap_n] = src;
    s->pos[src] = s->heap_n++;
    int found = 0;
    while (s->heap_n) {
        uint32_t u = heap_pop(s);
        s->fin[u] = s->round;
        s->done[s->n_done++] = u;
        if (u == s->T) {
            found = 1;
            break;
        }
        expand(s, u);
    }
    for (uint32_t k = 0; k < s->heap_n; k++) {
        s->pos[s->heap[k]] = NONE;
    }
    s->heap_n = 0;
    if (!found || !isfinite(s->dist[s->T])) {
        return 0;
    }
    double D = s->dist[s->T];
    for (uint32_t k = 0; k < s->n_done; k++) {
        uint32_t v = s->done[k];
        s->phi[v] += s->dist[v] - D;
    }
    augment(s, src);
    return 1;
}

/* ---- the same search backwards: from a free b_j to DA ----
 * dist is then the reduced distance from a node to b_j, pred the next node
 * towards b_j. */

static void rrelax(ssp *s, uint32_t x, uint32_t y, double c)
{
    /* Edge x -> y seen from y. */
    double nd = s->dist[y] + c + s->phi[x] - s->phi[y];
    if (improves(s, x, nd)) {
        improve(s, x, y, nd);
    }
}

static void rexpand(ssp *s, uint32_t y)
{
    const graph *g = s->g;
    uint32_t na = g->na, nb = g->nb;
    if (y < na) {
        uint32_t m = s->mate_a[y];
        if (m == DIAG) {
            rrelax(s, s->DB, y, -g->ca[y]);
        } else if (m != NONE) {
            rrelax(s, na + m, y, -pair_cost(g, y, m));
        }
    } else if (y < na + nb) {
        uint32_t j = y - na;
        double base = s->dist[y] - s->phi[y];
        for (size_t k = g->rstart[j]; k < g->rstart[j + 1]; k++) {
            uint32_t i = g->rfrom[k];
            double nd = base + g->rw[k] + s->phi[i];
            if (s->mate_a[i] != j && improves(s, i, nd)) {
                improve(s, i, y, nd);
            }
        }
        if (s->mate_b[j] != DIAG) {
            rrelax(s, s->DA, y, g->cb[j]);
        }
    } else if (y == s->DB) {
        for (uint32_t i = 0; i < na; i++) {
            if (s->mate_a[i] != DIAG) {
                rrelax(s, i, y, g->ca[i]);
            }
        }
        rrelax(s, s->DA, y, 0.0);
    } else if (y == s->DA) {
        for (uint32_t j = 0; j < nb; j++) {
            if (s->mate_b[j] == DIAG) {
                rrelax(s, na + j, y, -g->cb[j]);
            }
        }
        if (s->f > 0) {
            rrelax(s, s->DB, y, 0.0);
        }
    }
}

/* One backward round from the free b_j = node `sink`: the shortest path
 * from DA (which has supply left) into it, then the augmentation. */
static int ssp_round_back(ssp *s, uint32_t sink)
{
    s->round++;
    s->n_done = 0;
    s->heap_n = 0;
    s->bound = INFINITY;
    s->target = s->DA;
    s->dist[sink] = 0.0;
    s->seen[sink] = s->round;
    s->pred[sink] = NONE;
    s->heap[s->heap_n] = sink;
    s->pos[sink] = s->heap_n++;
    int found = 0;
    while (s->heap_n) {
        uint32_t y = heap_pop(s);
        s->fin[y] = s->round;
        s->done[s->n_done++] = y;
        if (y == s->DA) {
            found = 1;
            break;
        }
        rexpand(s, y);
    }
    for (uint32_t k = 0; k < s->heap_n; k++) {
        s->pos[s->heap[k]] = NONE;
    }
    s->heap_n = 0;
    if (!found || !isfinite(s->dist[s->DA])) {
        return 0;
    }
    double D = s->dist[s->DA];
    for (uint32_t k = 0; k < s->n_done; k++) {
        uint32_t v = s->done[k];
        s->phi[v] += D - s->dist[v];
    }
    /* The path DA -> ... -> sink -> T, written T first as augment() reads it. */
    uint32_t len = 0;
    for (uint32_t v = s->DA; v != NONE; v = s->pred[v]) {
        s->heap[len++] = v;
    }
    for (uint32_t k = 0; k < len / 2; k++) {
        uint32_t t = s->heap[k];
        s->heap[k] = s->heap[len - 1 - k];
        s->heap[len - 1 - k] = t;
    }
    /* Now heap[0] = sink ... heap[len-1] = DA; prepend T. */
    memmove(s->heap + 1, s->heap, len * sizeof *s->heap);
    s->heap[0] = s->T;
    apply_path(s, len + 1);
    return 1;
}

/* The largest violation -min(0, reduced cost) over the residual edges, a
 * certificate: the flow's cost is within n_nodes times it of optimal. */
static double dual_violation(ssp *s)
{
    const graph *g = s->g;
    uint32_t na = g->na, nb = g->nb;
    double worst = 0.0;
#define CHECK(u, v, c)                                               \
    do {                                                             \
        double r_ = (c) + s->phi[u] - s->phi[v];                     \
        worst = -r_ > worst ? -r_ : worst;                           \
    } while (0)
    for (uint32_t i = 0; i < na; i++) {
        uint32_t m = s->mate_a[i];
        for (size_t k = g->start[i]; k < g->start[i + 1]; k++) {
            uint32_t j = g->to[k];
            double c = g->w[k];
            if (j == m) {
                CHECK(na + j, i, -c);
            } else {
                CHECK(i, na + j, c);
            }
        }
        if (m == DIAG) {
            CHECK(s->DB, i, -g->ca[i]);
        } else {
            CHECK(i, s->DB, g->ca[i]);
        }
    }
    for (uint32_t j = 0; j < nb; j++) {
        if (s->mate_b[j] == DIAG) {
            CHECK(na + j, s->DA, -g->cb[j]);
        } else {
            CHECK(s->DA, na + j, g->cb[j]);
        }
    }
    CHECK(s->DA, s->DB, 0.0);
    if (s->f > 0) {
        CHECK(s->DB, s->DA, 0.0);
    }
#undef CHECK
    return worst;
}

static aura_status solve_exact(const aura_allocator *al, graph *g, double *sum)
{
    if (!g->rstart) {
        aura_status st = graph_transpose(al, g);
        if (st != AURA_OK) {
            return st;
        }
    }
    ssp s;
    memset(&s, 0, sizeof s);
    s.g = g;
    uint32_t n = g->na + g->nb;
    s.n_nodes = n + 4;
    s.DA = n;
    s.DB = n + 1;
    s.S = n + 2;
    s.T = n + 3;
    s.free_a = g->na;
    size_t V = s.n_nodes;
    s.mate_a = aura__alloc_array(al, g->na ? g->na : 1, sizeof *s.mate_a);
    s.mate_b = aura__alloc_array(al, g->nb ? g->nb : 1, sizeof *s.mate_b);
    s.phi = aura__calloc(al, V, sizeof *s.phi);
    s.dist = aura__alloc_array(al, V, sizeof *s.dist);
    s.pred = aura__alloc_array(al, V, sizeof *s.pred);
    s.seen = aura__calloc(al, V, sizeof *s.seen);
    s.fin = aura__calloc(al, V, sizeof *s.fin);
    s.heap = aura__alloc_array(al, V, sizeof *s.heap);
    s.pos = aura__alloc_array(al, V, sizeof *s.pos);
    s.done = aura__alloc_array(al, V, sizeof *s.done);
    aura_status st = (s.mate_a && s.mate_b && s.phi && s.dist && s.pred && s.seen && s.fin &&
                      s.heap && s.pos && s.done)
                         ? AURA_OK
                         : AURA_E_NOMEM;
    if (st == AURA_OK) {
        for (uint32_t i = 0; i < g->na; i++) {
            s.mate_a[i] = NONE;
        }
        for (uint32_t j = 0; j < g->nb; j++) {
            s.mate_b[j] = NONE;
        }
        for (size_t v = 0; v < V; v++) {
            s.pos[v] = NONE;
        }
        /* One augmentation per point of A (searching forwards from it),
         * then one per point of B still free (searching backwards from it
         * to DA: a forward search from DA, which reaches every b at once,
         * explores nearly the whole graph each time), then DA's supply
         * left over goes to DB (the diagonal pairs). */
        for (uint32_t i = 0; st == AURA_OK && i < g->na; i++) {
            if (s.mate_a[i] == NONE && !ssp_round(&s, i)) {
                st = AURA_E_NUMERIC; /* only with costs that overflow to inf */
            }
        }
        for (uint32_t j = 0; st == AURA_OK && j < g->nb; j++) {
            if (s.mate_b[j] == NONE && !ssp_round_back(&s, g->na + j)) {
                st = AURA_E_NUMERIC;
            }
        }
        while (st == AURA_OK && g->nb - s.f - s.nb_diag > 0) {
            if (!ssp_round(&s, s.DA)) {
                st = AURA_E_NUMERIC;
            }
        }
    }
    if (st == AURA_OK) {
        double cost = matching_cost(g, s.mate_a, s.mate_b);
        /* Optimality certificate: no residual edge with a negative reduced
         * cost beyond rounding of the potentials. */
        double scale = 1.0 + cost;
        for (size_t v = 0; v < V; v++) {
            scale = fmax(scale, fabs(s.phi[v]));
        }
        if (!isfinite(cost)) {
            st = AURA_E_NUMERIC;
        } else if (dual_violation(&s) * (double)V > 1e-9 * scale) {
            st = AURA_E_INTERNAL;
        } else {
            *sum = cost;
        }
    }
    aura__free(al, s.mate_a);
    aura__free(al, s.mate_b);
    aura__free(al, s.phi);
    aura__free(al, s.dist);
    aura__free(al, s.pred);
    aura__free(al, s.seen);
    aura__free(al, s.fin);
    aura__free(al, s.heap);
    aura__free(al, s.pos);
    aura__free(al, s.done);
    return st;
}

/* ---- approximate: auction with epsilon scaling ----
 *
 * The square form of the problem: bidders are A's points and one
 * diagonal bidder beta_j per point of B; items are B's points and one
 * diagonal item alpha_i per point of A.  a_i may take its candidate b's
 * (cost |a_i - b_j|^p) or alpha_i (diag(a_i)^p); beta_j may take b_j
 * (diag(b_j)^p) or any alpha (cost 0).  Bidder ids: a_i = i, beta_j =
 * na + j; item ids: b_j = j, alpha_i = nb + i.  The alpha items sit in a
 * min-heap by price, so a diagonal bidder finds its two best diagonal
 * items at the top.  For any prices the dual value
 *   LB = sum over bidders of min over their items (cost + price)
 *        - sum over items of price
 * is at most the optimum (each item is taken once); the auction stops
 * when its matching costs at most (1 + eps)^p LB. */

typedef struct auction {
    const graph *g;
    uint32_t na, nb, n;
    double *price;      /* per item */
    uint32_t *owner;    /* per item: bidder or NONE */
    uint32_t *item;     /* per bidder: item or NONE */
    uint32_t *heap;     /* alpha items (as i), min-heap on price[nb + i] */
    uint32_t *hpos;
    uint32_t *queue;    /* unassigned bidders, a ring of n */
    size_t qhead, qlen;
    double eps;
} auction;

static double alpha_price(const auction *x, uint32_t k)
{
    return x->price[x->nb + x->heap[k]];
}

/* Restores the heap after alpha i's price went up. */
static void alpha_raised(auction *x, uint32_t i)
{
    uint32_t k = x->hpos[i], n = x->na;
    double p = x->price[x->nb + i];
    for (;;) {
        uint32_t c = 2 * k + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && alpha_price(x, c + 1) < alpha_price(x, c)) {
            c++;
        }
        if (alpha_price(x, c) >= p) {
            break;
        }
        x->heap[k] = x->heap[c];
        x->hpos[x->heap[k]] = k;
        k = c;
    }
    x->heap[k] = i;
    x->hpos[i] = k;
}

/* Best and second-best value (cost + price) of bidder u, and the best item. */
static void best_two(const auction *x, uint32_t u, double *v1, double *v2, uint32_t *it)
{
    const graph *g = x->g;
    double b1 = INFINITY, b2 = INFINITY;
    uint32_t bi = NONE;
#define OFFER(item_, value_)            \
    do {                                \
        double v_ = (value_);           \
        if (v_ < b1) {                  \
            b2 = b1;                    \
            b1 = v_;                    \
            bi = (item_);               \
        } else if (v_ < b2) {           \
            b2 = v_;                    \
        }                               \
    } while (0)
    if (u < x->na) {
        for (size_t k = g->start[u]; k < g->start[u + 1]; k++) {
            OFFER(g->to[k], g->w[k] + x->price[g->to[k]]);
        }
        OFFER(x->nb + u, g->ca[u] + x->price[x->nb + u]);
    } else {
        uint32_t j = u - x->na;
        OFFER(j, g->cb[j] + x->price[j]);
        if (x->na > 0) {
            OFFER(x->nb + x->heap[0], alpha_price(x, 0));
        }
        if (x->na > 1) {
            double c = alpha_price(x, 1);
            if (x->na > 2 && alpha_price(x, 2) < c) {
                c = alpha_price(x, 2);
            }
            OFFER(NONE, c); /* only its value matters: it is never the best */
        }
    }
#undef OFFER
    *v1 = b1;
    *v2 = b2;
    *it = bi;
}

static void bid(auction *x, uint32_t u)
{
    double v1, v2;
    uint32_t it;
    best_two(x, u, &v1, &v2, &it);
    double old = x->price[it];
    double np = old + (isfinite(v2) ? v2 - v1 : 0.0) + x->eps;
    if (!(np > old)) {
        np = nextafter(old, INFINITY); /* eps lost in rounding: still progress */
    }
    x->price[it] = np;
    if (it >= x->nb) {
        alpha_raised(x, it - x->nb);
    }
    uint32_t prev = x->owner[it];
    x->owner[it] = u;
    x->item[u] = it;
    if (prev != NONE) {
        x->item[prev] = NONE;
        x->queue[(x->qhead + x->qlen++) % x->n] = prev;
    }
}

static double bidder_cost(const auction *x, uint32_t u, uint32_t it)
{
    const graph *g = x->g;
    if (u < x->na) {
        return it >= x->nb ? g->ca[u] : pair_cost(g, u, it);
    }
    return it >= x->nb ? 0.0 : g->cb[u - x->na];
}

/* One scaling phase: every bidder starts unassigned, prices are kept. */
static void auction_phase(auction *x)
{
    for (uint32_t k = 0; k < x->n; k++) {
        x->owner[k] = NONE;
        x->item[k] = NONE;
        x->queue[k] = k;
    }
    x->qhead = 0;
    x->qlen = x->n;
    while (x->qlen) {
        uint32_t u = x->queue[x->qhead];
        x->qhead = (x->qhead + 1) % x->n;
        x->qlen--;
        bid(x, u);
    }
}

/* The matching's cost and a rigorous dual lower bound (rounding of the
 * sums subtracted). */
static void auction_bounds(const auction *x, double *cost, double *lb)
{
    double c = 0.0, s = 0.0, mag = 0.0;
    for (uint32_t u = 0; u < x->n; u++) {
        double v1, v2;
        uint32_t it;
        c += bidder_cost(x, u, x->item[u]);
        best_two(x, u, &v1, &v2, &it);
        s += v1;
        mag += fabs(v1);
    }
    for (uint32_t k = 0; k < x->n; k++) {
        s -= x->price[k];
        mag += fabs(x->price[k]);
    }
    *cost = c;
    *lb = s - 8.0 * (double)(x->n + 2) * DBL_EPSILON * mag;
}

static void auction_free(const aura_allocator *al, auction *x)
{
    aura__free(al, x->price);
    aura__free(al, x->owner);
    aura__free(al, x->item);
    aura__free(al, x->queue);
    aura__free(al, x->heap);
    aura__free(al, x->hpos);
}

/* Runs the auction on g, phase after phase with epsilon divided by 5,
 * until its matching costs at most factor * LB (*done = 1) or epsilon
 * falls below 1e-12 max cost / n (*done = 0).  The prices stay in x. */
static aura_status auction_run(const aura_allocator *al, const graph *g, double factor,
                               auction *x, double *cost, double *lb, int *done)
{
    memset(x, 0, sizeof *x);
    x->g = g;
    x->na = g->na;
    x->nb = g->nb;
    x->n = g->na + g->nb;
    x->price = aura__calloc(al, x->n, sizeof *x->price);
    x->owner = aura__alloc_array(al, x->n, sizeof *x->owner);
    x->item = aura__alloc_array(al, x->n, sizeof *x->item);
    x->queue = aura__alloc_array(al, x->n, sizeof *x->queue);
    x->heap = aura__alloc_array(al, x->na ? x->na : 1, sizeof *x->heap);
    x->hpos = aura__alloc_array(al, x->na ? x->na : 1, sizeof *x->hpos);
    if (!x->price || !x->owner || !x->item || !x->queue || !x->heap || !x->hpos) {
        return AURA_E_NOMEM;
    }
    double max_cost = 0.0;
    for (uint32_t i = 0; i < x->na; i++) {
        x->heap[i] = x->hpos[i] = i; /* all prices 0: a heap already */
        max_cost = fmax(max_cost, g->ca[i]);
    }
    for (uint32_t j = 0; j < x->nb; j++) {
        max_cost = fmax(max_cost, g->cb[j]);
    }
    for (size_t k = 0; k < g->start[g->na]; k++) {
        max_cost = fmax(max_cost, g->w[k]);
    }
    *done = 0;
    *cost = *lb = 0.0;
    if (max_cost == 0.0) {
        *done = 1; /* every matching costs 0 */
        return AURA_OK;
    }
    x->eps = max_cost / 4;
    /* Below this epsilon the exact solver is the better tool. */
    double floor = max_cost * 1e-12 / (double)x->n;
    while (!*done && x->eps > floor) {
        auction_phase(x);
        auction_bounds(x, cost, lb);
        *done = *cost <= factor * *lb;
        x->eps /= 5;
    }
    return AURA_OK;
}

/* Reduced-cost fixing.  With the auction's prices, pi(u) = min over u's
 * items of (cost + price) and LB = sum pi - sum price, any perfect
 * matching M costs LB + sum over M of r(e), r(e) = cost + price - pi >= 0.
 * So a pair with r > UB - LB (UB: the auction matching's cost, >= the
 * optimum) is in no optimal matching and is dropped.  gap includes the
 * rounding margins. */
static void prune_pairs(graph *g, const auction *x, double gap)
{
    size_t m = 0;
    for (uint32_t i = 0; i < g->na; i++) {
        double v1, v2;
        uint32_t it;
        best_two(x, i, &v1, &v2, &it);
        size_t begin = g->start[i], end = g->start[i + 1];
        g->start[i] = m;
        for (size_t k = begin; k < end; k++) {
            if (g->w[k] + x->price[g->to[k]] - v1 <= gap) {
                g->to[m] = g->to[k];
                g->w[m] = g->w[k];
                m++;
            }
        }
    }
    g->start[g->na] = m;
}

/* Pairs per point above which the exact solver first prunes the graph
 * with an auction (dense graphs: points far from the diagonal). */
#define PRUNE_DEGREE 128
#ifndef PRUNE_FACTOR
#define PRUNE_FACTOR 1.001
#endif

aura_status aura__tda_wasserstein_exact(const aura_allocator *al, const aura_tda_interval *a,
                                        size_t na, const aura_tda_interval *b, size_t nb,
                                        double p, double *sum)
{
    if (na + nb == 0) {
        *sum = 0.0;
        return AURA_OK;
    }
    graph g;
    aura_status st = graph_build(al, a, na, b, nb, p, &g);
    if (st == AURA_OK && g.start[g.na] > PRUNE_DEGREE * (size_t)(na + nb)) {
        auction x;
        double cost, lb;
        int done;
        st = auction_run(al, &g, PRUNE_FACTOR, &x, &cost, &lb, &done);
        if (st == AURA_OK && done && cost > 0) {
            double mag = 0.0;
            for (uint32_t k = 0; k < x.n; k++) {
                mag = fmax(mag, fabs(x.price[k]));
            }
            for (size_t k = 0; k < g.start[g.na]; k++) {
                mag = fmax(mag, g.w[k]);
            }
            prune_pairs(&g, &x, (cost - lb) * (1 + 1e-9) + 16 * DBL_EPSILON * mag);
        }
        auction_free(al, &x);
    }
    if (st == AURA_OK) {
        st = solve_exact(al, &g, sum);
    }
    graph_free(al, &g);
    return st;
}

aura_status aura__tda_wasserstein_approx(const aura_allocator *al, const aura_tda_interval *a,
                                         size_t na, const aura_tda_interval *b, size_t nb,
                                         double p, double eps, double *sum)
{
    if (na + nb == 0) {
        *sum = 0.0;
        return AURA_OK;
    }
    graph g;
    aura_status st = graph_build(al, a, na, b, nb, p, &g);
    auction x;
    double cost = 0.0, lb = 0.0;
    int done = 0;
    if (st == AURA_OK) {
        st = auction_run(al, &g, powp(1.0 + eps, p), &x, &cost, &lb, &done);
        auction_free(al, &x);
    }
    if (st == AURA_OK) {
        if (done) {
            *sum = cost;
        } else {
            st = solve_exact(al, &g, sum);
        }
    }
    graph_free(al, &g);
    return st;
}
