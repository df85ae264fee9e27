/* test_tda_diagram.c -- diagram distances against brute force over every
 * matching, hand-computed vectorisations, the Ripser-format reader.
 * SPDX-License-Identifier: MIT */
#include <math.h>

#include "aura/tda_diagram.h"
#include "test.h"

/* ---- brute force: every partial injection of a's points into b's ---- */

typedef struct brute {
    const aura_tda_interval *a, *b;
    size_t na, nb;
    double p;
    int bottleneck;
    int used[8];
    double best;
} brute;

static double linf(aura_tda_interval x, aura_tda_interval y)
{
    return fmax(fabs(x.birth - y.birth), fabs(x.death - y.death));
}

static double dg(aura_tda_interval x)
{
    return (x.death - x.birth) / 2;
}

static double combine(const brute *B, double acc, double c)
{
    return B->bottleneck ? fmax(acc, c) : acc + pow(c, B->p);
}

static void recurse(brute *B, size_t i, double acc)
{
    if (i == B->na) {
        for (size_t j = 0; j < B->nb; j++) {
            if (!B->used[j]) {
                acc = combine(B, acc, dg(B->b[j])); /* unmatched b go to the diagonal */
            }
        }
        B->best = fmin(B->best, acc);
        return;
    }
    recurse(B, i + 1, combine(B, acc, dg(B->a[i])));
    for (size_t j = 0; j < B->nb; j++) {
        if (!B->used[j]) {
            B->used[j] = 1;
            recurse(B, i + 1, combine(B, acc, linf(B->a[i], B->b[j])));
            B->used[j] = 0;
        }
    }
}

static double brute_distance(const aura_tda_interval *a, size_t na, const aura_tda_interval *b,
                             size_t nb, int bottleneck, double p)
{
    brute B = {a, b, na, nb, p, bottleneck, {0}, INFINITY};
    recurse(&B, 0, 0.0);
    return bottleneck ? B.best : pow(B.best, 1.0 / p);
}

static void random_diagram(aura_rng *rng, aura_tda_interval *d, size_t n, int ties)
{
    for (size_t i = 0; i < n; i++) {
        double b = ties ? (double)aura_rng_below(rng, 4) : aura_rng_uniform(rng) * 10;
        double l = ties ? (double)aura_rng_below(rng, 4) : aura_rng_uniform(rng) * 5;
        d[i].birth = b;
        d[i].death = b + l;
    }
}

static double dist(aura_tda_metric m, double p, const aura_tda_interval *a, size_t na,
                   const aura_tda_interval *b, size_t nb)
{
    aura_tda_distance_opts o = aura_tda_distance_opts_default();
    o.metric = m;
    o.order = p;
    double r = -1;
    ASSERT_OK(aura_tda_diagram_distance(&o, a, na, b, nb, &r));
    return r;
}

AURA_TEST(tda_diagram_distances_match_brute_force)
{
    aura_rng rng;
    aura_rng_init(&rng, 99);
    static const double orders[] = {1.0, 2.0, 3.5};
    for (int it = 0; it < 600; it++) {
        aura_tda_interval a[6], b[6];
        size_t na = aura_rng_below(&rng, 6), nb = aura_rng_below(&rng, 6);
        int ties = it % 2;
        random_diagram(&rng, a, na, ties);
        random_diagram(&rng, b, nb, ties);
        double want = brute_distance(a, na, b, nb, 1, 1.0);
        ASSERT_NEAR(want, dist(AURA_TDA_BOTTLENECK, 1, a, na, b, nb), 1e-12);
        double p = orders[it % 3];
        want = brute_distance(a, na, b, nb, 0, p);
        ASSERT_NEAR(want, dist(AURA_TDA_WASSERSTEIN, p, a, na, b, nb), 1e-9 * (1 + want));
        /* Symmetry. */
        ASSERT_NEAR(dist(AURA_TDA_WASSERSTEIN, p, b, nb, a, na),
                    dist(AURA_TDA_WASSERSTEIN, p, a, na, b, nb), 1e-9 * (1 + want));
    }
}

AURA_TEST(tda_diagram_distance_hand_cases_and_essentials)
{
    aura_tda_interval one[] = {{0, 2}};
    ASSERT_NEAR(0.0, dist(AURA_TDA_BOTTLENECK, 1, NULL, 0, NULL, 0), 0);
    ASSERT_NEAR(1.0, dist(AURA_TDA_BOTTLENECK, 1, one, 1, NULL, 0), 0);
    ASSERT_NEAR(1.0, dist(AURA_TDA_WASSERSTEIN, 2, NULL, 0, one, 1), 0);
    aura_tda_interval x[] = {{0, 4}, {1, INFINITY}}, y[] = {{0.5, 4}, {3, INFINITY}};
    ASSERT_NEAR(2.0, dist(AURA_TDA_BOTTLENECK, 1, x, 2, y, 2), 1e-15);
    ASSERT_NEAR(2.5, dist(AURA_TDA_WASSERSTEIN, 1, x, 2, y, 2), 1e-15);
    ASSERT_TRUE(isinf(dist(AURA_TDA_BOTTLENECK, 1, x, 2, one, 1)));
    aura_tda_interval bad[] = {{2, 1}}, nan_iv[] = {{NAN, 1}};
    double r = 7;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_diagram_distance(NULL, bad, 1, one, 1, &r));
    ASSERT_STATUS(AURA_E_NUMERIC, aura_tda_diagram_distance(NULL, nan_iv, 1, one, 1, &r));
    aura_tda_distance_opts o = aura_tda_distance_opts_default();
    o.metric = AURA_TDA_WASSERSTEIN;
    o.order = 0.5;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_diagram_distance(&o, one, 1, one, 1, &r));
    ASSERT_NEAR(7, r, 0); /* untouched */
}

AURA_TEST(tda_diagram_distance_survives_oom)
{
    aura_rng rng;
    aura_rng_init(&rng, 5);
    aura_tda_interval a[20], b[20];
    random_diagram(&rng, a, 20, 0);
    random_diagram(&rng, b, 20, 0);
    for (int m = 0; m < 2; m++) {
        for (long fail_at = 0; fail_at < 12; fail_at++) {
            aura_tda_distance_opts o = aura_tda_distance_opts_default();
            o.metric = (aura_tda_metric)m;
            o.alloc = test_failing_alloc(fail_at);
            double r = -1;
            aura_status st = aura_tda_diagram_distance(&o, a, 20, b, 20, &r);
            ASSERT_TRUE(st == AURA_OK || (st == AURA_E_NOMEM && r == -1));
            ASSERT_EQ(0, test_alloc_live_blocks());
        }
    }
}

AURA_TEST(tda_diagram_vectorisations_hand_cases)
{
    aura_tda_interval d[] = {{0, 4}, {1, 3}, {2, INFINITY}};
    aura_tda_summary s;
    ASSERT_OK(aura_tda_diagram_summary(d, 3, &s));
    ASSERT_EQ(3, s.count);
    ASSERT_EQ(1, s.essential);
    ASSERT_NEAR(6.0, s.total_persistence, 1e-15);
    ASSERT_NEAR(4.0, s.max_persistence, 0);
    ASSERT_NEAR(3.0, s.mean_persistence, 1e-15);
    ASSERT_NEAR(1.0, s.std_persistence, 1e-12);
    ASSERT_NEAR(-(4.0 / 6) * log(4.0 / 6) - (2.0 / 6) * log(2.0 / 6), s.entropy, 1e-12);
    ASSERT_NEAR(1.0, s.mean_birth, 1e-15);
    ASSERT_NEAR(3.5, s.mean_death, 1e-15);
    double betti[5];
    ASSERT_OK(aura_tda_betti_curve(d, 3, 0, 4, 5, betti)); /* t = 0,1,2,3,4 */
    static const double want_betti[] = {1, 2, 3, 2, 1};
    for (int k = 0; k < 5; k++) {
        ASSERT_NEAR(want_betti[k], betti[k], 0);
    }
    double land[2 * 5];
    ASSERT_OK(aura_tda_landscape(d, 3, 2, 0, 4, 5, land));
    static const double want_l1[] = {0, 1, 2, 1, 0}, want_l2[] = {0, 0, 1, 0, 0};
    for (int k = 0; k < 5; k++) {
        ASSERT_NEAR(want_l1[k], land[k], 1e-15);
        ASSERT_NEAR(want_l2[k], land[5 + k], 1e-15);
    }
    aura_tda_image_opts io = aura_tda_image_opts_default();
    io.res_birth = 3;
    io.res_pers = 2;
    io.sigma = 0.5;
    double img[6];
    ASSERT_OK(aura_tda_persistence_image(d, 3, &io, img));
    /* Ranges from the data: births 0..1, persistence 2..4. */
    for (int j = 0; j < 2; j++) {
        for (int i = 0; i < 3; i++) {
            double x = 0.5 * i, y = 2 + 2.0 * j, want = 0;
            want += 4 * exp(-((x - 0) * (x - 0) + (y - 4) * (y - 4)) / 0.5);
            want += 2 * exp(-((x - 1) * (x - 1) + (y - 2) * (y - 2)) / 0.5);
            want /= 2 * M_PI * 0.25;
            ASSERT_NEAR(want, img[j * 3 + i], 1e-12);
        }
    }
    ASSERT_OK(aura_tda_persistence_image(NULL, 0, &io, img));
    ASSERT_NEAR(0, img[0], 0);
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_betti_curve(d, 3, 1, 0, 5, betti));
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_landscape(d, 3, 0, 0, 1, 5, land));
}

AURA_TEST(tda_barcode_reader_accepts_ripser_output)
{
    const char *text = "value range: [1,120]\n"
                       "distance matrix with 16 points, using threshold at enclosing radius 103\n"
                       "persistence intervals in dim 0:\n"
                       " [0,1)\n [0,2.5)\n [0, )\n"
                       "persistence intervals in dim 1:\n"
                       " [3.25,7)\n";
    aura_tda_barcode *b = NULL;
    char err[128];
    ASSERT_OK(aura_tda_barcode_parse(text, strlen(text), NULL, &b, err, sizeof err));
    ASSERT_EQ(1, aura_tda_barcode_max_dim(b));
    size_t n;
    const aura_tda_interval *d0 = aura_tda_barcode_intervals(b, 0, &n);
    ASSERT_EQ(3, n);
    ASSERT_NEAR(2.5, d0[1].death, 0);
    ASSERT_TRUE(isinf(d0[2].death));
    const aura_tda_interval *d1 = aura_tda_barcode_intervals(b, 1, &n);
    ASSERT_EQ(1, n);
    ASSERT_NEAR(3.25, d1[0].birth, 0);
    ASSERT_TRUE(aura_tda_barcode_intervals(b, 2, &n) == NULL && n == 0);
    aura_tda_barcode_destroy(b);
    aura_tda_barcode_destroy(NULL);
    static const struct {
        const char *text, *msg;
    } bad[] = {{"persistence intervals in dim 0:\n [2,1)\n", "line 2: birth 2 is greater"},
               {"persistence intervals in dim 0:\n [nan,1)\n", "line 2"},
               {"persistence intervals in dim 0:\n [1,2\n", "line 2: expected ')'"},
               {"persistence intervals in dim 0:\n [1;2)\n", "line 2"},
               {"persistence intervals in dim x:\n", "line 1: bad dimension"},
               {"persistence intervals in dim 0:\n [1,2) junk\n", "unexpected text"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = (aura_tda_barcode *)0x1;
        ASSERT_STATUS(AURA_E_FORMAT,
                      aura_tda_barcode_parse(bad[i].text, strlen(bad[i].text), NULL, &b, err,
                                             sizeof err));
        ASSERT_TRUE(b == (aura_tda_barcode *)0x1);
        if (!strstr(err, bad[i].msg)) {
            AURA_FAIL_("error \"%s\" lacks \"%s\"", err, bad[i].msg);
        }
    }
}

AURA_TEST(tda_barcode_reader_fuzz_never_crashes)
{
    const char *seed = "persistence intervals in dim 0:\n [0,1)\n [0, )\n"
                       "persistence intervals in dim 1:\n [0.5,2.25)\n";
    static const char alphabet[] = "[](), .-+e0123456789\ninf:dimp";
    aura_rng rng;
    aura_rng_init(&rng, 11);
    char buf[256], err[128];
    for (int it = 0; it < 20000; it++) {
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        for (int m = 0; m < 3; m++) {
            size_t pos = aura_rng_below(&rng, len);
            if (aura_rng_below(&rng, 2)) {
                buf[pos] = alphabet[aura_rng_below(&rng, sizeof alphabet - 1)];
            } else {
                len = pos + 1;
            }
        }
        aura_tda_barcode *b = NULL;
        aura_status st = aura_tda_barcode_parse(buf, len, NULL, &b, err, sizeof err);
        ASSERT_TRUE(st == AURA_OK || st == AURA_E_FORMAT);
        if (st == AURA_OK) {
            for (int k = 0; k <= aura_tda_barcode_max_dim(b); k++) {
                size_t n;
                const aura_tda_interval *d = aura_tda_barcode_intervals(b, k, &n);
                ASSERT_OK(aura_tda_diagram_check(d, n, NULL));
            }
        }
        aura_tda_barcode_destroy(b);
    }
}
