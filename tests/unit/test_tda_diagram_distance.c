/* test_tda_diagram_distance.c -- the exact Wasserstein solver against an
 * independent dense Hungarian method, and the approximate modes
 * (--approx) within their stated bound of the exact distances.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "aura/rng.h"
#include "aura/tda_diagram.h"
#include "test.h"

#define MAXN 48

static double linf(aura_tda_interval x, aura_tda_interval y)
{
    return fmax(fabs(x.birth - y.birth), fabs(x.death - y.death));
}

/* Dense O(N^3) Hungarian method on the (na + nb) square matrix: rows are
 * a's points then nb diagonal slots, columns b's points then na slots. */
static double hungarian_sum(const aura_tda_interval *a, size_t na, const aura_tda_interval *b,
                            size_t nb, double p)
{
    size_t n = na + nb;
    double *cm = malloc((n * n + 1) * sizeof *cm);
    double *u = calloc(n + 1, sizeof *u), *v = calloc(n + 1, sizeof *v);
    double *minv = malloc((n + 1) * sizeof *minv);
    size_t *pm = calloc(n + 1, sizeof *pm), *way = calloc(n + 1, sizeof *way);
    int *used = malloc((n + 1) * sizeof *used);
    ASSERT_TRUE(cm && u && v && minv && pm && way && used);
#define c(i, j) cm[(i) * n + (j)]
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            double x;
            if (i < na && j < nb) {
                x = linf(a[i], b[j]);
            } else if (i < na) {
                x = (a[i].death - a[i].birth) / 2;
            } else if (j < nb) {
                x = (b[j].death - b[j].birth) / 2;
            } else {
                x = 0;
            }
            c(i, j) = pow(x, p);
        }
    }
    for (size_t i = 1; i <= n; i++) {
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
                if (!used[j]) {
                    double cur = c(i0 - 1, j - 1) - u[i0] - v[j];
                    if (cur < minv[j]) {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if (minv[j] < delta) {
                        delta = minv[j];
                        j1 = j;
                    }
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
    double sum = 0;
    for (size_t j = 1; j <= n; j++) {
        sum += c(pm[j] - 1, j - 1);
    }
#undef c
    free(cm);
    free(u);
    free(v);
    free(minv);
    free(pm);
    free(way);
    free(used);
    return sum;
}

/* Kinds: 0 uniform, 1 integer ties, 2 some points on the diagonal,
 * 3 short bars (sparse candidate graph), 4 one cluster (dense graph). */
static void gen(aura_rng *rng, aura_tda_interval *d, size_t n, int kind)
{
    for (size_t i = 0; i < n; i++) {
        double b, l;
        switch (kind) {
        case 1:
            b = (double)aura_rng_below(rng, 4);
            l = (double)aura_rng_below(rng, 4);
            break;
        case 2:
            b = aura_rng_uniform(rng) * 10;
            l = aura_rng_below(rng, 3) == 0 ? 0.0 : aura_rng_uniform(rng) * 3;
            break;
        case 3:
            b = aura_rng_uniform(rng) * 10;
            l = aura_rng_uniform(rng) * 0.3;
            break;
        case 4:
            b = aura_rng_uniform(rng);
            l = 5 + aura_rng_uniform(rng);
            break;
        default:
            b = aura_rng_uniform(rng) * 10;
            l = aura_rng_uniform(rng) * 5;
        }
        d[i].birth = b;
        d[i].death = b + l;
    }
}

static double distance(aura_tda_metric m, double p, double approx, const aura_tda_interval *a,
                       size_t na, const aura_tda_interval *b, size_t nb)
{
    aura_tda_distance_opts o = aura_tda_distance_opts_default();
    o.metric = m;
    o.order = p;
    o.approx = approx;
    double r = -1;
    ASSERT_OK(aura_tda_diagram_distance(&o, a, na, b, nb, &r));
    return r;
}

AURA_TEST(tda_diagram_wasserstein_matches_dense_hungarian)
{
    aura_rng rng;
    aura_rng_init(&rng, 2026);
    static const double orders[] = {1.0, 2.0, 3.0, 1.5};
    for (int it = 0; it < 200; it++) {
        aura_tda_interval a[MAXN], b[MAXN];
        size_t na = aura_rng_below(&rng, MAXN), nb = aura_rng_below(&rng, MAXN);
        int kind = it % 5;
        gen(&rng, a, na, kind);
        gen(&rng, b, nb, kind);
        double p = orders[it % 4];
        double want = pow(hungarian_sum(a, na, b, nb, p), 1.0 / p);
        double got = distance(AURA_TDA_WASSERSTEIN, p, 0, a, na, b, nb);
        ASSERT_NEAR(want, got, 1e-10 * (1 + want));
    }
}

AURA_TEST(tda_diagram_wasserstein_dense_pruned_matches_hungarian)
{
    /* Points far from the diagonal: every pair is a candidate, so the
     * exact solver first prunes the pairs with the auction's reduced costs
     * (more than 128 pairs per point). */
    aura_rng rng;
    aura_rng_init(&rng, 12);
    static aura_tda_interval a[300], b[300];
    for (int k = 0; k < 2; k++) {
        size_t na = 280, nb = 270 + 10 * (size_t)k;
        gen(&rng, a, na, 4);
        gen(&rng, b, nb, 4);
        if (k == 1) {
            for (size_t i = 0; i < nb; i += 3) { /* integer ties */
                b[i].birth = floor(b[i].birth * 4);
                b[i].death = b[i].birth + 5;
            }
        }
        double p = k ? 2.0 : 1.0;
        double want = pow(hungarian_sum(a, na, b, nb, p), 1.0 / p);
        ASSERT_NEAR(want, distance(AURA_TDA_WASSERSTEIN, p, 0, a, na, b, nb), 1e-10 * want);
    }
}

/* The approximate answer r of an exact distance d: d <= r <= (1 + eps) d,
 * both up to the rounding of the exact solver. */
static void check_bound(double d, double r, double eps)
{
    if (isinf(d)) { /* different numbers of essential classes */
        ASSERT_TRUE(isinf(r));
        return;
    }
    double tol = 1e-10 * d;
    if (!(d - tol <= r && r <= (1 + eps) * d + tol)) {
        fprintf(stderr, "approx %.17g, exact %.17g, eps %g\n", r, d, eps);
    }
    ASSERT_TRUE(d - tol <= r);
    ASSERT_TRUE(r <= (1 + eps) * d + tol);
}

AURA_TEST(tda_diagram_approx_within_bound)
{
    aura_rng rng;
    aura_rng_init(&rng, 77);
    static const double epss[] = {1.0, 0.1, 0.01, 1e-4};
    static const double orders[] = {1.0, 2.0, 3.5};
    for (int it = 0; it < 400; it++) {
        aura_tda_interval a[64], b[64];
        size_t na = aura_rng_below(&rng, 61), nb = aura_rng_below(&rng, 61);
        int kind = it % 5;
        gen(&rng, a, na, kind);
        gen(&rng, b, nb, kind);
        if (it % 7 == 0) { /* the same number of essential classes on both sides */
            a[na].birth = (double)aura_rng_below(&rng, 4);
            b[nb].birth = (double)aura_rng_below(&rng, 4);
            a[na++].death = b[nb++].death = INFINITY;
        }
        if (it % 11 == 0) {
            nb = 0; /* against the empty diagram */
        }
        double eps = epss[it % 4], p = orders[it % 3];
        check_bound(distance(AURA_TDA_BOTTLENECK, 1, 0, a, na, b, nb),
                    distance(AURA_TDA_BOTTLENECK, 1, eps, a, na, b, nb), eps);
        check_bound(distance(AURA_TDA_WASSERSTEIN, p, 0, a, na, b, nb),
                    distance(AURA_TDA_WASSERSTEIN, p, eps, a, na, b, nb), eps);
    }
}

AURA_TEST(tda_diagram_approx_edge_cases)
{
    aura_tda_interval on_diag[] = {{1, 1}, {2, 2}}, one[] = {{0, 2}}, same[] = {{3, 5}, {1, 4}};
    aura_tda_interval ess_a[] = {{0, INFINITY}}, ess_b[] = {{0, INFINITY}, {1, INFINITY}};
    for (int m = 0; m < 2; m++) {
        aura_tda_metric metric = (aura_tda_metric)m;
        ASSERT_NEAR(0.0, distance(metric, 2, 0.1, NULL, 0, NULL, 0), 0);
        ASSERT_NEAR(0.0, distance(metric, 2, 0.1, on_diag, 2, NULL, 0), 0);
        ASSERT_NEAR(0.0, distance(metric, 2, 0.1, same, 2, same, 2), 0);
        ASSERT_NEAR(0.0, distance(metric, 1, 0.5, ess_a, 1, ess_a, 1), 0);
        ASSERT_TRUE(isinf(distance(metric, 1, 0.5, ess_a, 1, ess_b, 2)));
        double r = distance(metric, 1, 0.1, one, 1, on_diag, 2);
        ASSERT_TRUE(r >= 1.0 && r <= 1.1);
    }
    /* Bad options leave the output alone. */
    aura_tda_distance_opts o = aura_tda_distance_opts_default();
    double r = 7;
    static const double bad[] = {-0.1, NAN, INFINITY};
    for (int k = 0; k < 3; k++) {
        o.approx = bad[k];
        ASSERT_STATUS(AURA_E_INVAL, aura_tda_diagram_distance(&o, one, 1, one, 1, &r));
    }
    ASSERT_NEAR(7, r, 0);
    aura_tda_interval backwards[] = {{2, 1}};
    o.approx = 0.1;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_diagram_distance(&o, backwards, 1, one, 1, &r));
}

AURA_TEST(tda_diagram_larger_pairs_exact_vs_approx)
{
    /* A few hundred points: the sparse solver's paths grow long; the
     * approximate modes must stay within their bound. */
    aura_rng rng;
    aura_rng_init(&rng, 3);
    static aura_tda_interval a[400], b[400];
    for (int kind = 0; kind < 5; kind++) {
        size_t na = 300 + aura_rng_below(&rng, 100), nb = 300 + aura_rng_below(&rng, 100);
        gen(&rng, a, na, kind);
        gen(&rng, b, nb, kind);
        for (int m = 0; m < 2; m++) {
            aura_tda_metric metric = (aura_tda_metric)m;
            double d = distance(metric, 2, 0, a, na, b, nb);
            check_bound(d, distance(metric, 2, 0.01, a, na, b, nb), 0.01);
            check_bound(d, distance(metric, 2, 1e-6, a, na, b, nb), 1e-6);
        }
    }
}

AURA_TEST(tda_diagram_approx_survives_oom)
{
    aura_rng rng;
    aura_rng_init(&rng, 5);
    aura_tda_interval a[20], b[20];
    gen(&rng, a, 20, 0);
    gen(&rng, b, 20, 0);
    for (int m = 0; m < 2; m++) {
        for (long fail_at = 0; fail_at < 24; fail_at++) {
            aura_tda_distance_opts o = aura_tda_distance_opts_default();
            o.metric = (aura_tda_metric)m;
            o.approx = 0.05;
            o.alloc = test_failing_alloc(fail_at);
            double r = -1;
            aura_status st = aura_tda_diagram_distance(&o, a, 20, b, 20, &r);
            ASSERT_TRUE(st == AURA_OK || (st == AURA_E_NOMEM && r == -1));
            ASSERT_EQ(0, test_alloc_live_blocks());
        }
    }
}

static int run(const char *args, double *out)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s tda-distance %s 2>/dev/null", test_aura_bin(), args);
    FILE *f = popen(cmd, "r");
    ASSERT_TRUE(f != NULL);
    if (out && fscanf(f, "%lf", out) != 1) {
        *out = NAN;
    }
    int rc = pclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

AURA_TEST(tda_diagram_distance_cli_approx)
{
    const char *dir = test_tmpdir();
    const char *pa = test_path("%s/a.bar", dir), *pb = test_path("%s/b.bar", dir);
    FILE *f = fopen(pa, "w");
    ASSERT_TRUE(f != NULL);
    fputs("persistence intervals in dim 0:\n [0,4)\n [1,3)\n [2, )\n", f);
    fclose(f);
    f = fopen(pb, "w");
    ASSERT_TRUE(f != NULL);
    fputs("persistence intervals in dim 0:\n [0.5,4)\n [3, )\n", f);
    fclose(f);
    char args[512];
    double exact, approx;
    snprintf(args, sizeof args, "--metric wasserstein --order 2 %s %s", pa, pb);
    ASSERT_EQ(0, run(args, &exact));
    snprintf(args, sizeof args, "--metric wasserstein --order 2 --approx 0.01 %s %s", pa, pb);
    ASSERT_EQ(0, run(args, &approx));
    check_bound(exact, approx, 0.01);
    snprintf(args, sizeof args, "--approx 0.01 %s %s", pa, pb);
    ASSERT_EQ(0, run(args, &approx));
    check_bound(distance(AURA_TDA_BOTTLENECK, 1, 0,
                         (aura_tda_interval[]){{0, 4}, {1, 3}, {2, INFINITY}}, 3,
                         (aura_tda_interval[]){{0.5, 4}, {3, INFINITY}}, 2),
                approx, 0.01);
    snprintf(args, sizeof args, "--approx 0 %s %s", pa, pb);
    ASSERT_EQ(2, run(args, NULL));
    snprintf(args, sizeof args, "--approx nan %s %s", pa, pb);
    ASSERT_EQ(2, run(args, NULL));
}

AURA_TEST(tda_diagram_distance_huge_coordinates_scale)
{
    /* d(sA, sB) = s d(A, B); at s = 2^1000 the costs^p would overflow
     * without the internal power-of-two rescaling. */
    aura_rng rng;
    aura_rng_init(&rng, 8);
    aura_tda_interval a[30], b[30], sa[31], sb[31];
    gen(&rng, a, 30, 0);
    gen(&rng, b, 30, 0);
    double s = ldexp(1.0, 1000);
    for (size_t i = 0; i < 30; i++) {
        sa[i].birth = a[i].birth * s;
        sa[i].death = a[i].death * s;
        sb[i].birth = b[i].birth * s;
        sb[i].death = b[i].death * s;
    }
    sa[30].birth = -s; /* one essential class each */
    sb[30].birth = s;
    sa[30].death = sb[30].death = INFINITY;
    for (int m = 0; m < 2; m++) {
        for (int k = 0; k < 2; k++) {
            double p = k ? 3.0 : 1.0, eps = k ? 0.01 : 0.0;
            double small = distance((aura_tda_metric)m, p, eps, a, 30, b, 30);
            double big = distance((aura_tda_metric)m, p, eps, sa, 30, sb, 30);
            ASSERT_TRUE(isfinite(big));
            ASSERT_NEAR(small, big / s, 1e-12 * small + (eps > 0 ? eps * small : 0));
        }
        /* With the essential classes: finite, about 2s for the bottleneck. */
        double e = distance((aura_tda_metric)m, 1.0, 0.0, sa, 31, sb, 31);
        ASSERT_TRUE(isfinite(e) && e >= 2 * s * (1 - 1e-12));
    }
}

/* ---- bottleneck reference: sorted candidates, Kuhn's matching on the
 * full (na + nb) square graph ---- */

typedef struct kuhn {
    const aura_tda_interval *a, *b;
    size_t na, nb, n;
    double t;
    size_t *match_c;
    unsigned char *seen;
} kuhn;

static int k_edge(const kuhn *K, size_t i, size_t j)
{
    if (i < K->na && j < K->nb) {
        return linf(K->a[i], K->b[j]) <= K->t;
    }
    if (i < K->na) {
        return j - K->nb == i && (K->a[i].death - K->a[i].birth) / 2 <= K->t;
    }
    if (j < K->nb) {
        return i - K->na == j && (K->b[j].death - K->b[j].birth) / 2 <= K->t;
    }
    return 1;
}

static int k_try(kuhn *K, size_t i)
{
    for (size_t j = 0; j < K->n; j++) {
        if (!K->seen[j] && k_edge(K, i, j)) {
            K->seen[j] = 1;
            if (K->match_c[j] == SIZE_MAX || k_try(K, K->match_c[j])) {
                K->match_c[j] = i;
                return 1;
            }
        }
    }
    return 0;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double reference_bottleneck(const aura_tda_interval *a, size_t na,
                                   const aura_tda_interval *b, size_t nb)
{
    size_t n = na + nb, m = 0;
    double *cand = malloc((na * nb + n + 1) * sizeof *cand);
    kuhn K = {a, b, na, nb, n, 0, malloc((n + 1) * sizeof(size_t)), malloc(n + 1)};
    ASSERT_TRUE(cand && K.match_c && K.seen);
    cand[m++] = 0;
    for (size_t i = 0; i < na; i++) {
        cand[m++] = (a[i].death - a[i].birth) / 2;
        for (size_t j = 0; j < nb; j++) {
            cand[m++] = linf(a[i], b[j]);
        }
    }
    for (size_t j = 0; j < nb; j++) {
        cand[m++] = (b[j].death - b[j].birth) / 2;
    }
    qsort(cand, m, sizeof *cand, cmp_d);
    size_t lo = 0, hi = m - 1; /* cand[hi] (the largest) is feasible */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        K.t = cand[mid];
        size_t got = 0;
        for (size_t j = 0; j < n; j++) {
            K.match_c[j] = SIZE_MAX;
        }
        for (size_t i = 0; i < n; i++) {
            memset(K.seen, 0, n);
            got += (size_t)k_try(&K, i);
        }
        if (got == n) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    double r = cand[lo];
    free(cand);
    free(K.match_c);
    free(K.seen);
    return r;
}

AURA_TEST(tda_diagram_bottleneck_grid_matches_reference)
{
    /* 64 or more points on the other side switch the threshold test to its
     * grid neighbour search; ties put pairs exactly on cell boundaries. */
    aura_rng rng;
    aura_rng_init(&rng, 31);
    static aura_tda_interval a[90], b[90];
    for (int it = 0; it < 40; it++) {
        size_t na = 64 + aura_rng_below(&rng, 26), nb = 64 + aura_rng_below(&rng, 26);
        int kind = (int)(it % 5);
        gen(&rng, a, na, kind);
        gen(&rng, b, nb, kind);
        double want = reference_bottleneck(a, na, b, nb);
        ASSERT_NEAR(want, distance(AURA_TDA_BOTTLENECK, 1, 0, a, na, b, nb), 0);
        check_bound(want, distance(AURA_TDA_BOTTLENECK, 1, 0.01, a, na, b, nb), 0.01);
    }
}
