/* diagram_distance.c -- exact bottleneck and p-Wasserstein distances
 * between persistence diagrams (L-infinity ground metric, as GUDHI).
 *
 * Both reduce to an assignment problem on N = na + nb rows and columns:
 * rows are a's points then one diagonal slot per point of b, columns are
 * b's points then one diagonal slot per point of a.  Point-to-point costs
 * are |a - b|_inf, a point's cost to the diagonal is (death - birth) / 2,
 * diagonal-to-diagonal costs 0.
 *  - Bottleneck: binary search over the candidate costs for the smallest
 *    threshold that admits a perfect matching (Hopcroft-Karp).
 *  - Wasserstein: the Hungarian algorithm (shortest augmenting paths with
 *    potentials, O(N^3)), costs computed on the fly so memory is O(N).
 * Essential classes are matched separately by sorted birth.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aura/tda_diagram.h"
#include "core/core_int.h"

aura_tda_distance_opts aura_tda_distance_opts_default(void)
{
    aura_tda_distance_opts o = {NULL, AURA_TDA_BOTTLENECK, 1.0};
    return o;
}

/* The finite points and sorted essential births of one diagram. */
typedef struct split {
    aura_tda_interval *fin;
    size_t n_fin;
    double *ess;
    size_t n_ess;
} split;

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static aura_status split_diagram(const aura_allocator *al, const aura_tda_interval *d, size_t n,
                                 split *s)
{
    s->fin = aura__alloc_array(al, n ? n : 1, sizeof *s->fin);
    s->ess = aura__alloc_array(al, n ? n : 1, sizeof *s->ess);
    if (!s->fin || !s->ess) {
        return AURA_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (isinf(d[i].death)) {
            s->ess[s->n_ess++] = d[i].birth;
        } else {
            s->fin[s->n_fin++] = d[i];
        }
    }
    qsort(s->ess, s->n_ess, sizeof *s->ess, cmp_double);
    return AURA_OK;
}

static void split_free(const aura_allocator *al, split *s)
{
    aura__free(al, s->fin);
    aura__free(al, s->ess);
}

/* ---- the assignment problem ---- */

typedef struct problem {
    const aura_tda_interval *a, *b;
    size_t na, nb, n; /* n = na + nb */
} problem;

static double diag(const aura_tda_interval *p)
{
    return (p->death - p->birth) / 2;
}

static double linf(const aura_tda_interval *x, const aura_tda_interval *y)
{
    double db = fabs(x->birth - y->birth), dd = fabs(x->death - y->death);
    return db > dd ? db : dd;
}

/* Cost of row i with column j; INFINITY where the pair is not allowed
 * (a point and another point's diagonal slot, for the bottleneck graph). */
static double cost(const problem *P, size_t i, size_t j, int own_slot_only)
{
    if (i < P->na && j < P->nb) {
        return linf(&P->a[i], &P->b[j]);
    }
    if (i < P->na) {
        return (!own_slot_only || j - P->nb == i) ? diag(&P->a[i]) : INFINITY;
    }
    if (j < P->nb) {
        return (!own_slot_only || i - P->na == j) ? diag(&P->b[j]) : INFINITY;
    }
    return 0.0;
}

/* ---- bottleneck: Hopcroft-Karp on the graph of edges with cost <= t ---- */

typedef struct hk {
    const problem *P;
    double t;
    size_t *match_l, *match_r, *dist, *queue;
} hk;

#define NIL SIZE_MAX

static int hk_bfs(hk *h)
{
    size_t n = h->P->n, head = 0, tail = 0;
    int found = 0;
    for (size_t l = 0; l < n; l++) {
        if (h->match_l[l] == NIL) {
            h->dist[l] = 0;
            h->queue[tail++] = l;
        } else {
            h->dist[l] = NIL;
        }
    }
    while (head < tail) {
        size_t l = h->queue[head++];
        for (size_t r = 0; r < n; r++) {
            if (cost(h->P, l, r, 1) > h->t) {
                continue;
            }
            size_t l2 = h->match_r[r];
            if (l2 == NIL) {
                found = 1;
            } else if (h->dist[l2] == NIL) {
                h->dist[l2] = h->dist[l] + 1;
                h->queue[tail++] = l2;
            }
        }
    }
    return found;
}

/* Iterative DFS along the BFS layers from free left vertex `root`. */
static int hk_dfs(hk *h, size_t root, size_t *stack_l, size_t *next_r)
{
    size_t n = h->P->n, top = 0;
    stack_l[top++] = root;
    next_r[root] = 0;
    while (top) {
        size_t l = stack_l[top - 1];
        int advanced = 0;
        while (next_r[l] < n) {
            size_t r = next_r[l]++;
            if (cost(h->P, l, r, 1) > h->t) {
                continue;
            }
            size_t l2 = h->match_r[r];
            if (l2 == NIL) {
                /* Augment along the stack: each l on it takes the r it tried last. */
                for (size_t k = top; k-- > 0;) {
                    size_t lk = stack_l[k], rk = next_r[lk] - 1;
                    h->match_l[lk] = rk;
                    h->match_r[rk] = lk;
                }
                return 1;
            }
            if (h->dist[l2] == h->dist[l] + 1) {
                stack_l[top++] = l2;
                next_r[l2] = 0;
                advanced = 1;
                break;
            }
        }
        if (!advanced) {
            h->dist[l] = NIL; /* dead end for this phase */
            top--;
        }
    }
    return 0;
}

static aura_status has_perfect_matching(hk *h, size_t *work, int *yes)
{
    size_t n = h->P->n, matched = 0;
    size_t *stack_l = work, *next_r = work + n;
    for (size_t i = 0; i < n; i++) {
        h->match_l[i] = h->match_r[i] = NIL;
    }
    while (hk_bfs(h)) {
        for (size_t l = 0; l < n; l++) {
            if (h->match_l[l] == NIL && hk_dfs(h, l, stack_l, next_r)) {
                matched++;
            }
        }
    }
    *yes = matched == n;
    return AURA_OK;
}

static aura_status bottleneck_finite(const aura_allocator *al, const problem *P, double *out)
{
    size_t n = P->n;
    if (n == 0) {
        *out = 0.0;
        return AURA_OK;
    }
    /* Candidate values: every finite cost (point pairs and diagonals). */
    size_t nc = P->na * P->nb + n + 1;
    if (P->na && P->nb > SIZE_MAX / P->na - n - 1) {
        return AURA_E_NOMEM;
    }
    double *cand = aura__alloc_array(al, nc, sizeof *cand);
    size_t *buf = aura__alloc_array(al, 6 * n, sizeof *buf);
    if (!cand || !buf) {
        aura__free(al, cand);
        aura__free(al, buf);
        return AURA_E_NOMEM;
    }
    size_t k = 0;
    cand[k++] = 0.0;
    for (size_t i = 0; i < P->na; i++) {
        cand[k++] = diag(&P->a[i]);
        for (size_t j = 0; j < P->nb; j++) {
            cand[k++] = linf(&P->a[i], &P->b[j]);
        }
    }
    for (size_t j = 0; j < P->nb; j++) {
        cand[k++] = diag(&P->b[j]);
    }
    qsort(cand, k, sizeof *cand, cmp_double);
    size_t u = 0;
    for (size_t i = 0; i < k; i++) {
        if (u == 0 || cand[i] != cand[u - 1]) {
            cand[u++] = cand[i];
        }
    }
    hk h = {P, 0.0, buf, buf + n, buf + 2 * n, buf + 3 * n};
    /* The largest candidate always admits a perfect matching (every point
     * to its own diagonal slot). */
    size_t lo = 0, hi = u - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int yes;
        h.t = cand[mid];
        has_perfect_matching(&h, buf + 4 * n, &yes);
        if (yes) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    *out = cand[lo];
    aura__free(al, cand);
    aura__free(al, buf);
    return AURA_OK;
}

/* ---- Wasserstein: Hungarian algorithm with potentials ---- */

static double costp(const problem *P, size_t i, size_t j, double p)
{
    double c = cost(P, i, j, 0);
    return p == 1.0 ? c : (p == 2.0 ? c * c : pow(c, p));
}

static aura_status wasserstein_finite(const aura_allocator *al, const problem *P, double p,
                                      double *out)
{
    size_t n = P->n;
    if (n == 0) {
        *out = 0.0;
        return AURA_OK;
    }
    /* 1-based arrays as in the textbook formulation; row 0 is virtual. */
    double *u = aura__calloc(al, n + 1, sizeof *u), *v = aura__calloc(al, n + 1, sizeof *v);
    double *minv = aura__alloc_array(al, n + 1, sizeof *minv);
    size_t *pm = aura__calloc(al, n + 1, sizeof *pm), *way = aura__calloc(al, n + 1, sizeof *way);
    unsigned char *used = aura__alloc(al, n + 1);
    aura_status st = (u && v && minv && pm && way && used) ? AURA_OK : AURA_E_NOMEM;
    for (size_t i = 1; st == AURA_OK && i <= n; i++) {
        pm[0] = i;
        size_t j0 = 0;
        for (size_t j = 0; j <= n; j++) {
            minv[j] = INFINITY;
            used[j] = 0;
        }
        do {
            used[j0] = 1;
            size_t i0 = pm[j0], j1 = 0;
            double delta = INFINITY;
            for (size_t j = 1; j <= n; j++) {
                if (used[j]) {
                    continue;
                }
                double cur = costp(P, i0 - 1, j - 1, p) - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (size_t j = 0; j <= n; j++) {
                if (used[j]) {
                    u[pm[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
        } while (pm[j0] != 0);
        do {
            size_t j1 = way[j0];
            pm[j0] = pm[j1];
            j0 = j1;
        } while (j0);
    }
    if (st == AURA_OK) {
        /* Sum the chosen costs directly (more accurate than the potentials). */
        double sum = 0.0;
        for (size_t j = 1; j <= n; j++) {
            sum += costp(P, pm[j] - 1, j - 1, p);
        }
        *out = sum;
    }
    aura__free(al, u);
    aura__free(al, v);
    aura__free(al, minv);
    aura__free(al, pm);
    aura__free(al, way);
    aura__free(al, used);
    return st;
}

/* ---- the public entry point ---- */

static double essential_part(const split *x, const split *y, aura_tda_metric m, double p)
{
    double acc = 0.0;
    for (size_t i = 0; i < x->n_ess; i++) {
        double c = fabs(x->ess[i] - y->ess[i]);
        if (m == AURA_TDA_BOTTLENECK) {
            acc = c > acc ? c : acc;
        } else {
            acc += pow(c, p);
        }
    }
    return acc;
}

aura_status aura_tda_diagram_distance(const aura_tda_distance_opts *opts,
                                      const aura_tda_interval *a, size_t na,
                                      const aura_tda_interval *b, size_t nb, double *out)
{
    AURA_CHECK_ARG((a || na == 0) && (b || nb == 0) && out);
    aura_tda_distance_opts o = opts ? *opts : aura_tda_distance_opts_default();
    if ((o.metric != AURA_TDA_BOTTLENECK && o.metric != AURA_TDA_WASSERSTEIN) ||
        (o.metric == AURA_TDA_WASSERSTEIN && !(o.order >= 1.0 && isfinite(o.order)))) {
        return AURA_E_INVAL;
    }
    aura_status st = aura_tda_diagram_check(a, na, NULL);
    if (st == AURA_OK) {
        st = aura_tda_diagram_check(b, nb, NULL);
    }
    if (st != AURA_OK) {
        return st;
    }
    split sa = {0}, sb = {0};
    st = split_diagram(o.alloc, a, na, &sa);
    if (st == AURA_OK) {
        st = split_diagram(o.alloc, b, nb, &sb);
    }
    double result = INFINITY;
    if (st == AURA_OK && sa.n_ess == sb.n_ess) {
        problem P = {sa.fin, sb.fin, sa.n_fin, sb.n_fin, sa.n_fin + sb.n_fin};
        double fin = 0.0, ess = essential_part(&sa, &sb, o.metric, o.order);
        if (o.metric == AURA_TDA_BOTTLENECK) {
            st = bottleneck_finite(o.alloc, &P, &fin);
            result = fin > ess ? fin : ess;
        } else {
            st = wasserstein_finite(o.alloc, &P, o.order, &fin);
            result = pow(fin + ess, 1.0 / o.order);
        }
    }
    split_free(o.alloc, &sa);
    split_free(o.alloc, &sb);
    if (st == AURA_OK) {
        *out = result;
    }
    return st;
}
