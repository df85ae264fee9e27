/* diagram_distance.c -- bottleneck and p-Wasserstein distances (exact and
 * approximate) between persistence diagrams (L-infinity ground metric, as GUDHI).
 *
 * Both reduce to an assignment problem on N = na + nb rows and columns:
 * rows are a's points then one diagonal slot per point of b, columns are
 * b's points then one diagonal slot per point of a.  Point-to-point costs
 * are |a - b|_inf, a point's cost to the diagonal is (death - birth) / 2,
 * diagonal-to-diagonal costs 0.
 *  - Bottleneck: the smallest candidate threshold that admits a perfect
 *    matching (Hopcroft-Karp, warm-started), bracketed first by a
 *    geometric bisection; --approx stops at the bracket.
 *  - Wasserstein: diagram_wasserstein.c (successive shortest paths on a
 *    sparse flow network with two aggregate diagonal nodes).
 * Essential classes are matched separately by sorted birth.
 * SPDX-License-Identifier: MIT */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aura/tda_diagram.h"
#include "core/core_int.h"
#include "tda/diagram_int.h"

aura_tda_distance_opts aura_tda_distance_opts_default(void)
{
    aura_tda_distance_opts o = {NULL, AURA_TDA_BOTTLENECK, 1.0, 0.0};
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

/* ---- bottleneck ----
 *
 * At threshold t a perfect matching of the N x N assignment graph exists
 * iff some matching M between a's and b's points (edges |a - b|_inf <= t)
 * leaves unmatched only points within t of the diagonal: the diagonal
 * slots then pair up among themselves.  By the Mendelsohn-Dulmage theorem
 * such an M exists iff one matching covers A' = {a : diag(a) > t} and
 * another covers B' = {b : diag(b) > t}.  So each test is two ordinary
 * bipartite matchings (Hopcroft-Karp) from the "must" points into the
 * other diagram, whose neighbours are found in a window of points sorted
 * by birth -- no dense N x N graph. */

typedef struct sorted_side {
    const aura_tda_interval *p; /* the diagram */
    size_t n;
    size_t *order;              /* indices sorted by birth */
    double *birth;              /* birth[k] = p[order[k]].birth */
} sorted_side;

#define NIL SIZE_MAX

typedef struct hk {
    const aura_tda_interval *left; /* the diagram the "must" points come from */
    const size_t *must;            /* left vertices: indices into left */
    size_t n_must;
    const sorted_side *right;
    double t;
    size_t *match_l, *match_r, *dist, *queue, *stack, *next; /* work arrays */
    size_t *pos; /* left point -> position in must, or NIL */
    /* Grid mode (grid = 1): the right points sorted by cell (cells of side
     * about t in birth and death) in gorder; ranges[6 l .. 6 l + 5] are the
     * three runs of gorder (one per birth column) that hold the 3 x 3
     * cells around must vertex l.  Otherwise the birth window of `right`. */
    int grid;
    size_t *ranges, *gorder;
    struct cell *cells;
} hk;

typedef struct cell {
    int64_t cb, cd; /* cell column (birth) and row (death) */
    size_t idx;
} cell;

/* First k in the window of right points whose birth >= x. */
static size_t lower_bound(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Slack for the birth window, so rounding in birth +- t never drops a pair
 * that the exact test |db| <= t accepts. */
static double slack(double birth, double t)
{
    return 4 * DBL_EPSILON * (fabs(birth) + t);
}

/* The right vertex at window position k (no test); NIL past the end. */
static size_t at(const hk *h, size_t l, size_t k)
{
    if (h->grid) {
        const size_t *g = h->ranges + 6 * l;
        size_t n0 = g[1] - g[0], n1 = g[3] - g[2], n2 = g[5] - g[4];
        if (k < n0) {
            return h->gorder[g[0] + k];
        }
        if (k < n0 + n1) {
            return h->gorder[g[2] + k - n0];
        }
        return k < n0 + n1 + n2 ? h->gorder[g[4] + k - n0 - n1] : NIL;
    }
    const sorted_side *R = h->right;
    const aura_tda_interval *a = &h->left[h->must[l]];
    if (k >= R->n || R->birth[k] > a->birth + h->t + slack(a->birth, h->t)) {
        return NIL;
    }
    return R->order[k];
}

/* The pair test used everywhere: both coordinates within t. */
static int close_enough(const aura_tda_interval *a, const aura_tda_interval *b, double t)
{
    return fabs(b->birth - a->birth) <= t && fabs(b->death - a->death) <= t;
}

/* The right vertex at window position k if it is a neighbour of l, else NIL;
 * *stop is set once the window is past. */
static size_t neighbour(const hk *h, size_t l, size_t k, int *stop)
{
    size_t r = at(h, l, k);
    if (r == NIL) {
        *stop = 1;
        return NIL;
    }
    return close_enough(&h->left[h->must[l]], &h->right->p[r], h->t) ? r : NIL;
}

static size_t window_start(const hk *h, size_t l)
{
    if (h->grid) {
        return 0;
    }
    const sorted_side *R = h->right;
    double b = h->left[h->must[l]].birth;
    return lower_bound(R->birth, R->n, b - h->t - slack(b, h->t));
}

static int hk_bfs(hk *h)
{
    size_t head = 0, tail = 0;
    int found = 0;
    for (size_t l = 0; l < h->n_must; l++) {
        h->dist[l] = h->match_l[l] == NIL ? 0 : NIL;
        if (h->match_l[l] == NIL) {
            h->queue[tail++] = l;
        }
    }
    while (head < tail) {
        size_t l = h->queue[head++];
        int stop = 0;
        for (size_t k = window_start(h, l); !stop; k++) {
            size_t r = neighbour(h, l, k, &stop);
            if (r == NIL) {
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

/* Iterative DFS along the BFS layers from free left vertex `root`;
 * next[l] is the window position l tries next. */
static int hk_dfs(hk *h, size_t root)
{
    size_t top = 0;
    h->stack[top++] = root;
    h->next[root] = window_start(h, root);
    while (top) {
        size_t l = h->stack[top - 1];
        int advanced = 0, stop = 0;
        while (!stop) {
            size_t k = h->next[l]++;
            size_t r = neighbour(h, l, k, &stop);
            if (r == NIL) {
                continue;
            }
            size_t l2 = h->match_r[r];
            if (l2 == NIL) {
                /* Augment: each l on the stack takes the r it tried last. */
                for (size_t i = top; i-- > 0;) {
                    size_t li = h->stack[i];
                    size_t ri = at(h, li, h->next[li] - 1);
                    h->match_l[li] = ri;
                    h->match_r[ri] = li;
                }
                return 1;
            }
            if (h->dist[l2] == h->dist[l] + 1) {
                h->stack[top++] = l2;
                h->next[l2] = window_start(h, l2);
                advanced = 1;
                break;
            }
        }
        if (!advanced) {
            h->dist[l] = NIL; /* a dead end for this phase */
            top--;
        }
    }
    return 0;
}

/* 1 if a matching covers every "must" vertex.  Starts from the matching
 * saved[r] (left point matched to right vertex r, or NIL) of an earlier
 * test, keeping the pairs still allowed, so a search over thresholds does
 * not rebuild each matching from nothing; saves the result if it passes. */
static int covers_all(hk *h, size_t n_left, size_t *saved)
{
    size_t matched = 0;
    for (size_t i = 0; i < n_left; i++) {
        h->pos[i] = NIL;
    }
    for (size_t l = 0; l < h->n_must; l++) {
        h->match_l[l] = NIL;
        h->pos[h->must[l]] = l;
    }
    const sorted_side *R = h->right;
    for (size_t r = 0; r < R->n; r++) {
        size_t l = saved[r] == NIL ? NIL : h->pos[saved[r]];
        h->match_r[r] = NIL;
        if (l != NIL) {
            /* The test neighbour() applies to this pair. */
            if (close_enough(&h->left[saved[r]], &R->p[r], h->t)) {
                h->match_r[r] = l;
                h->match_l[l] = r;
                matched++;
            }
        }
    }
    while (matched < h->n_must && hk_bfs(h)) {
        for (size_t l = 0; l < h->n_must; l++) {
            if (h->match_l[l] == NIL && hk_dfs(h, l)) {
                matched++;
            }
        }
    }
    if (matched < h->n_must) {
        return 0;
    }
    for (size_t r = 0; r < R->n; r++) {
        saved[r] = h->match_r[r] == NIL ? NIL : h->must[h->match_r[r]];
    }
    return 1;
}

typedef struct birth_idx {
    double birth;
    size_t idx;
} birth_idx;

static int cmp_by_birth(const void *x, const void *y)
{
    const birth_idx *a = x, *b = y;
    if (a->birth != b->birth) {
        return a->birth < b->birth ? -1 : 1;
    }
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static aura_status sort_side(const aura_allocator *al, const aura_tda_interval *p, size_t n,
                             sorted_side *s)
{
    s->p = p;
    s->n = n;
    s->order = aura__alloc_array(al, n ? n : 1, sizeof *s->order);
    s->birth = aura__alloc_array(al, n ? n : 1, sizeof *s->birth);
    if (!s->order || !s->birth) {
        return AURA_E_NOMEM;
    }
    birth_idx *tmp = aura__alloc_array(al, n ? n : 1, sizeof *tmp);
    if (!tmp) {
        return AURA_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        tmp[i].birth = p[i].birth;
        tmp[i].idx = i;
    }
    qsort(tmp, n, sizeof *tmp, cmp_by_birth);
    for (size_t i = 0; i < n; i++) {
        s->order[i] = tmp[i].idx;
        s->birth[i] = tmp[i].birth;
    }
    aura__free(al, tmp);
    return AURA_OK;
}

static int cmp_cell(const void *x, const void *y)
{
    const cell *a = x, *b = y;
    if (a->cb != b->cb) {
        return a->cb < b->cb ? -1 : 1;
    }
    if (a->cd != b->cd) {
        return a->cd < b->cd ? -1 : 1;
    }
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* First position in the sorted cells at or after (cb, cd). */
static size_t cell_bound(const cell *c, size_t n, int64_t cb, int64_t cd)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c[mid].cb < cb || (c[mid].cb == cb && c[mid].cd < cd)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Chooses grid mode when it is safe and worth it and builds it.  Cells
 * have side c = t (1 + 1e-6) and coordinates are taken relative to the
 * smallest ones, with |x / c| < 2^30: then two values within t of each
 * other land in the same or adjacent cells despite the rounding of the
 * divisions (their quotients differ by at most 1 - 1e-6 + 2^-22). */
static void build_grid(hk *h)
{
    const sorted_side *R = h->right;
    h->grid = 0;
    if (!h->cells || R->n < 64 || !(h->t > 0)) {
        return;
    }
    double b0 = INFINITY, d0 = INFINITY, b1 = -INFINITY, d1 = -INFINITY;
    for (size_t r = 0; r < R->n; r++) {
        b0 = fmin(b0, R->p[r].birth);
        d0 = fmin(d0, R->p[r].death);
        b1 = fmax(b1, R->p[r].birth);
        d1 = fmax(d1, R->p[r].death);
    }
    for (size_t l = 0; l < h->n_must; l++) {
        const aura_tda_interval *a = &h->left[h->must[l]];
        b0 = fmin(b0, a->birth);
        d0 = fmin(d0, a->death);
        b1 = fmax(b1, a->birth);
        d1 = fmax(d1, a->death);
    }
    double c = h->t * (1 + 1e-6), lim = 1073741824.0; /* 2^30 */
    double nb = (b1 - b0) / c, nd = (d1 - d0) / c;
    /* Worth it only if the birth window alone would hold many points. */
    if (!(nb < lim && nd < lim) || nd < 4) {
        return;
    }
    for (size_t r = 0; r < R->n; r++) {
        h->cells[r].cb = (int64_t)floor((R->p[r].birth - b0) / c);
        h->cells[r].cd = (int64_t)floor((R->p[r].death - d0) / c);
        h->cells[r].idx = r;
    }
    qsort(h->cells, R->n, sizeof *h->cells, cmp_cell);
    for (size_t r = 0; r < R->n; r++) {
        h->gorder[r] = h->cells[r].idx;
    }
    for (size_t l = 0; l < h->n_must; l++) {
        const aura_tda_interval *a = &h->left[h->must[l]];
        int64_t cb = (int64_t)floor((a->birth - b0) / c);
        int64_t cd = (int64_t)floor((a->death - d0) / c);
        for (int k = 0; k < 3; k++) {
            h->ranges[6 * l + 2 * k] = cell_bound(h->cells, R->n, cb - 1 + k, cd - 1);
            h->ranges[6 * l + 2 * k + 1] = cell_bound(h->cells, R->n, cb - 1 + k, cd + 2);
        }
    }
    h->grid = 1;
}

/* One direction of the test: can every point of `from` farther than t from
 * the diagonal be matched into `to`? */
static int direction_ok(hk *h, const aura_tda_interval *from, size_t n_from,
                        const sorted_side *to, size_t *must, double t, size_t *saved)
{
    size_t k = 0;
    for (size_t i = 0; i < n_from; i++) {
        if (diag(&from[i]) > t) {
            must[k++] = i;
        }
    }
    if (k > to->n) {
        return 0;
    }
    h->left = from;
    h->must = must;
    h->n_must = k;
    h->right = to;
    h->t = t;
    build_grid(h);
    return covers_all(h, n_from, saved);
}

/* The k-th smallest of v[0..n) (0-based), moving smaller values before it
 * (quickselect, median-of-three pivots; expected O(n)). */
static double select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double a = v[lo], b = v[mid], c = v[hi];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) {
                i++;
            }
            while (v[j] > pivot) {
                j--;
            }
            if (i <= j) {
                double tmp = v[i];
                v[i] = v[j];
                v[j] = tmp;
                i++;
                if (j == 0) {
                    break;
                }
                j--;
            }
        }
        if (k <= j) {
            hi = j;
        } else if (k >= i) {
            lo = i;
        } else {
            return v[k];
        }
    }
    return v[k];
}

/* Both directions at threshold t, with their saved matchings. */
static int feasible(hk *h, const problem *P, const sorted_side *sa, const sorted_side *sb,
                    size_t *must, double t, size_t *saved_ab, size_t *saved_ba)
{
    return direction_ok(h, P->a, P->na, sb, must, t, saved_ab) &&
           direction_ok(h, P->b, P->nb, sa, must, t, saved_ba);
}

/* Candidate thresholds c with lo < c <= hi: 0, the diagonal distances and
 * the point-pair distances (pairs found through the birth windows).  With
 * cand = NULL only counts them. */
static size_t gather_candidates(const problem *P, const sorted_side *sb, double lo, double hi,
                                double *cand)
{
    size_t k = 0;
#define TAKE(c_)                             \
    do {                                     \
        double c2_ = (c_);                   \
        if (c2_ > lo && c2_ <= hi) {         \
            if (cand) {                      \
                cand[k] = c2_;               \
            }                                \
            k++;                             \
        }                                    \
    } while (0)
    TAKE(0.0);
    for (size_t i = 0; i < P->na; i++) {
        const aura_tda_interval *a = &P->a[i];
        TAKE(diag(a));
        double sl = slack(a->birth, hi);
        for (size_t w = lower_bound(sb->birth, sb->n, a->birth - hi - sl);
             w < sb->n && sb->birth[w] <= a->birth + hi + sl; w++) {
            TAKE(linf(a, &P->b[sb->order[w]]));
        }
    }
    for (size_t j = 0; j < P->nb; j++) {
        TAKE(diag(&P->b[j]));
    }
#undef TAKE
    return k;
}

/* The smallest candidate t that passes both directions of the test: a
 * binary search over the candidates by repeated selection, so they are
 * partitioned (linear time), never sorted. */
static double smallest_feasible(hk *h, const problem *P, const sorted_side *sa,
                                const sorted_side *sb, size_t *must, size_t *saved,
                                double *cand, size_t m, double hi)
{
    double best = hi; /* feasible */
    while (m > 0) {
        size_t k = m / 2;
        double t = select_kth(cand, m, k); /* cand[0..k) <= t <= cand[k+1..m) */
        int yes = feasible(h, P, sa, sb, must, t, saved, saved + P->n);
        if (yes) {
            best = t;
            m = k; /* look among the smaller ones */
        } else {
            memmove(cand, cand + k + 1, (m - k - 1) * sizeof *cand);
            m -= k + 1;
        }
    }
    return best;
}

/* Bracket, then (exact) candidates.  A geometric bisection on t keeps the
 * distance d in (lo, hi] until hi <= (1 + eps) lo; it probes small
 * thresholds first, where the graphs are sparse, and each test starts from
 * the last passing matching.  Approximate mode returns hi, so
 * d <= hi < (1 + eps) d.  Exact mode (eps_exact = 1) then gathers only the
 * candidates in (lo, hi] and finds the smallest feasible one, which is d.
 * A d below 1e-12 of the largest diagonal distance is always found
 * exactly, among the candidates in [0, that bound]. */
static aura_status bottleneck_search(const aura_allocator *al, const problem *P, double eps,
                                     int exact, double *out)
{
    size_t n = P->n;
    double hi = 0.0;
    for (size_t i = 0; i < P->na; i++) {
        hi = fmax(hi, diag(&P->a[i]));
    }
    for (size_t j = 0; j < P->nb; j++) {
        hi = fmax(hi, diag(&P->b[j]));
    }
    if (hi == 0.0) {
        *out = 0.0; /* every point on the diagonal (or none) */
        return AURA_OK;
    }
    size_t *buf = aura__alloc_array(al, 17 * n + 2, sizeof *buf);
    cell *cells = aura__alloc_array(al, n ? n : 1, sizeof *cells);
    sorted_side sa = {0}, sb = {0};
    double *cand = NULL;
    aura_status st = buf && cells ? AURA_OK : AURA_E_NOMEM;
    if (st == AURA_OK) {
        st = sort_side(al, P->a, P->na, &sa);
    }
    if (st == AURA_OK) {
        st = sort_side(al, P->b, P->nb, &sb);
    }
    if (st == AURA_OK) {
        hk h = {NULL, NULL, 0, NULL, 0.0, buf, buf + n, buf + 2 * n, buf + 3 * n, buf + 4 * n,
                buf + 5 * n, buf + 6 * n, 0, buf + 10 * n, buf + 16 * n, cells};
        size_t *must = buf + 7 * n, *saved = buf + 8 * n; /* saved: 2n, one per direction */
        for (size_t r = 0; r < 2 * n; r++) {
            saved[r] = NIL;
        }
        double lo = hi * 1e-12;
        if (feasible(&h, P, &sa, &sb, must, lo, saved, saved + n)) {
            hi = lo;
            lo = -1.0; /* d in [0, hi]: exact search below */
            exact = 1;
        } else {
            while (hi > lo * (1.0 + eps)) {
                double mid = sqrt(lo * hi);
                if (!(mid > lo && mid < hi)) {
                    break; /* adjacent doubles: hi is within any eps of lo */
                }
                if (feasible(&h, P, &sa, &sb, must, mid, saved, saved + n)) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
        }
        if (exact) {
            size_t m = gather_candidates(P, &sb, lo, hi, NULL);
            cand = aura__alloc_array(al, m ? m : 1, sizeof *cand);
            if (!cand) {
                st = AURA_E_NOMEM;
            } else {
                m = gather_candidates(P, &sb, lo, hi, cand);
                hi = smallest_feasible(&h, P, &sa, &sb, must, saved, cand, m, hi);
            }
        }
        if (st == AURA_OK) {
            *out = hi;
        }
    }
    aura__free(al, cand);
    aura__free(al, buf);
    aura__free(al, cells);
    aura__free(al, sa.order);
    aura__free(al, sa.birth);
    aura__free(al, sb.order);
    aura__free(al, sb.birth);
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

/* Coordinates so large that a difference, a cost^p or a sum of them could
 * overflow are scaled by a power of two (exact; the distance scales with
 * it); returns the exponent to scale the result back by, 0 if untouched. */
static int rescale(split *x, split *y, double p)
{
    double m = 0.0;
    size_t n = 1 + x->n_fin + y->n_fin;
    split *s2[2] = {x, y};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < s2[k]->n_fin; i++) {
            m = fmax(m, fmax(fabs(s2[k]->fin[i].birth), fabs(s2[k]->fin[i].death)));
        }
        for (size_t i = 0; i < s2[k]->n_ess; i++) {
            m = fmax(m, fabs(s2[k]->ess[i]));
        }
    }
    if (m == 0.0 || p * (log2(m) + 1.0) + log2((double)n) < 1000.0) {
        return 0;
    }
    int e;
    frexp(m, &e); /* m = f 2^e, f in [0.5, 1) */
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < s2[k]->n_fin; i++) {
            s2[k]->fin[i].birth = ldexp(s2[k]->fin[i].birth, -e);
            s2[k]->fin[i].death = ldexp(s2[k]->fin[i].death, -e);
        }
        for (size_t i = 0; i < s2[k]->n_ess; i++) {
            s2[k]->ess[i] = ldexp(s2[k]->ess[i], -e);
        }
    }
    return e;
}

aura_status aura_tda_diagram_distance(const aura_tda_distance_opts *opts,
                                      const aura_tda_interval *a, size_t na,
                                      const aura_tda_interval *b, size_t nb, double *out)
{
    AURA_CHECK_ARG((a || na == 0) && (b || nb == 0) && out);
    aura_tda_distance_opts o = opts ? *opts : aura_tda_distance_opts_default();
    if ((o.metric != AURA_TDA_BOTTLENECK && o.metric != AURA_TDA_WASSERSTEIN) ||
        (o.metric == AURA_TDA_WASSERSTEIN && !(o.order >= 1.0 && isfinite(o.order))) ||
        !(o.approx >= 0.0 && isfinite(o.approx))) {
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
    int shift = 0;
    if (st == AURA_OK && sa.n_ess == sb.n_ess) {
        shift = rescale(&sa, &sb, o.metric == AURA_TDA_WASSERSTEIN ? o.order : 1.0);
        problem P = {sa.fin, sb.fin, sa.n_fin, sb.n_fin, sa.n_fin + sb.n_fin};
        double fin = 0.0, ess = essential_part(&sa, &sb, o.metric, o.order);
        if (o.metric == AURA_TDA_BOTTLENECK) {
            /* Exact: bracket to 1 % first, then the candidates inside. */
            st = bottleneck_search(o.alloc, &P, o.approx > 0 ? o.approx : 0.01, o.approx == 0,
                                   &fin);
            result = fin > ess ? fin : ess;
        } else {
            st = o.approx > 0 ? aura__tda_wasserstein_approx(o.alloc, P.a, P.na, P.b, P.nb,
                                                             o.order, o.approx, &fin)
                              : aura__tda_wasserstein_exact(o.alloc, P.a, P.na, P.b, P.nb,
                                                            o.order, &fin);
            result = pow(fin + ess, 1.0 / o.order);
        }
    }
    split_free(o.alloc, &sa);
    split_free(o.alloc, &sb);
    if (st == AURA_OK && shift) {
        result = ldexp(result, shift);
        if (isinf(result)) {
            st = AURA_E_NUMERIC; /* a finite distance beyond DBL_MAX */
        }
    }
    if (st == AURA_OK) {
        *out = result;
    }
    return st;
}
