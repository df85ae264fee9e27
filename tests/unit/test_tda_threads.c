/* test_tda_threads.c -- the parallel engine (aura_tda_opts.threads) gives
 * exactly the serial result: same pairs in the same order, same simplices,
 * for random clouds with many ties, thresholds, moduli, sparse and dense
 * inputs, thread counts above the number of cores; the CLI's --threads;
 * allocation failures on the threaded path.
 * SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <sys/wait.h>

#include "aura/tda.h"
#include "test.h"

/* ---------------------------------------------------------------- helpers */

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* Asserts that a and b hold the same pairs, in the same order, with the
 * same birth and death simplices. */
static void assert_same_result(const aura_tda_result *a, const aura_tda_result *b,
                               const char *what)
{
    int md = aura_tda_result_max_dim(a);
    ASSERT_EQ(md, aura_tda_result_max_dim(b));
    for (int dim = 0; dim <= md; dim++) {
        size_t n = aura_tda_result_count(a, dim);
        if (n != aura_tda_result_count(b, dim)) {
            AURA_FAIL_("%s: dim %d: %zu pairs serial, %zu threaded", what, dim, n,
                       aura_tda_result_count(b, dim));
        }
        aura_tda_pair *pa = malloc((n ? n : 1) * sizeof(*pa));
        aura_tda_pair *pb = malloc((n ? n : 1) * sizeof(*pb));
        ASSERT_TRUE(pa && pb);
        size_t got = 0;
        ASSERT_STATUS(AURA_OK, aura_tda_result_pairs(a, dim, pa, n, &got));
        ASSERT_STATUS(AURA_OK, aura_tda_result_pairs(b, dim, pb, n, &got));
        for (size_t i = 0; i < n; i++) {
            int64_t ba[64], da[64], bb[64], db[64];
            ASSERT_STATUS(AURA_OK, aura_tda_result_simplices(a, dim, i, ba, da));
            ASSERT_STATUS(AURA_OK, aura_tda_result_simplices(b, dim, i, bb, db));
            int same = memcmp(&pa[i], &pb[i], sizeof pa[i]) == 0 &&
                       memcmp(ba, bb, (size_t)(dim + 1) * sizeof(int64_t)) == 0 &&
                       memcmp(da, db, (size_t)(dim + 2) * sizeof(int64_t)) == 0;
            if (!same) {
                AURA_FAIL_("%s: dim %d pair %zu: [%g,%g) serial, [%g,%g) threaded", what, dim,
                           i, (double)pa[i].birth, (double)pa[i].death, (double)pb[i].birth,
                           (double)pb[i].death);
            }
        }
        free(pa);
        free(pb);
    }
}

/* n points in R^d on a small integer grid (many equal distances). */
static void grid_cloud(uint64_t *s, float *pts, size_t n, size_t d, int side)
{
    for (size_t i = 0; i < n * d; i++) {
        pts[i] = (float)(rng_next(s) % (uint64_t)side);
    }
}

/* ---------------------------------------------------------------- tests */

AURA_TEST(tda_threads_random_clouds_match_serial)
{
    static const uint32_t mods[] = {2, 3, 5, 7};
    static const int threads[] = {2, 3, 4, 9};
    float pts[70 * 3];
    int cases = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint64_t s = seed * 0x9E3779B97F4A7C15ull;
        size_t n = 12 + rng_next(&s) % 50, d = 2 + rng_next(&s) % 2;
        grid_cloud(&s, pts, n, d, 3 + (int)(rng_next(&s) % 4));
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = n > 40 ? 2 : 3;
        o.modulus = mods[seed % 4];
        if (seed % 3 == 1) {
            o.threshold = 1.5f + (float)(rng_next(&s) % 4) * 0.5f;
        }
        if (seed % 5 == 2) {
            o.ratio = 1.5f;
        }
        o.threads = 1;
        aura_tda_result *ref = NULL;
        ASSERT_STATUS(AURA_OK, aura_tda_compute_points(&o, pts, n, d, &ref));
        for (int k = 0; k < 4; k++) {
            o.threads = threads[(seed + (uint64_t)k) % 4];
            aura_tda_result *r = NULL;
            ASSERT_STATUS(AURA_OK, aura_tda_compute_points(&o, pts, n, d, &r));
            char what[96];
            snprintf(what, sizeof what, "seed %llu n %zu p %u threads %d",
                     (unsigned long long)seed, n, o.modulus, o.threads);
            assert_same_result(ref, r, what);
            aura_tda_result_destroy(r);
            cases++;
        }
        aura_tda_result_destroy(ref);
    }
    ASSERT_EQ(160, cases);
}

/* One larger cloud: enough columns that several threads reduce ahead of
 * the commit frontier and collide (dense and with a threshold). */
AURA_TEST(tda_threads_larger_cloud_match_serial)
{
    size_t n = 150, d = 3;
    float *pts = malloc(n * d * sizeof(float));
    ASSERT_TRUE(pts != NULL);
    uint64_t s = 12345;
    grid_cloud(&s, pts, n, d, 7);
    for (int variant = 0; variant < 2; variant++) {
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 2;
        o.threshold = variant ? 3.0f : INFINITY;
        o.threads = 1;
        aura_tda_result *ref = NULL;
        ASSERT_STATUS(AURA_OK, aura_tda_compute_points(&o, pts, n, d, &ref));
        for (int t = 2; t <= 5; t += 3) {
            o.threads = t;
            aura_tda_result *r = NULL;
            ASSERT_STATUS(AURA_OK, aura_tda_compute_points(&o, pts, n, d, &r));
            assert_same_result(ref, r, variant ? "n 150 threshold 3" : "n 150 dense");
            aura_tda_result_destroy(r);
        }
        aura_tda_result_destroy(ref);
    }
    free(pts);
}

/* Dense inputs of 256 points and more collect and sort their edges in
 * parallel (buckets of diameters at sampled splitters): clouds with heavy
 * ties (many equal diameters, so splitters repeat and buckets are empty or
 * hold one value), thresholds that keep all, some or none of the edges, an
 * input whose distances are all equal, and more threads than cores. */
AURA_TEST(tda_threads_parallel_edge_sort_match_serial)
{
    size_t n = 300, d = 3;
    float *pts = malloc(n * d * sizeof(float));
    float *m = malloc(n * n * sizeof(float));
    ASSERT_TRUE(pts && m);
    static const int sides[] = {3, 6, 1000};
    static const float thresholds[] = {INFINITY, 2.0f, 0.5f, 0.0f};
    for (int si = 0; si < 3; si++) {
        uint64_t s = 777 + (uint64_t)si;
        grid_cloud(&s, pts, n, d, sides[si]);
        for (int ti = 0; ti < 4; ti++) {
            aura_tda_opts o = aura_tda_opts_default();
            o.max_dim = 1;
            o.threshold = thresholds[ti] * (sides[si] > 100 ? 50.0f : 1.0f);
            o.threads = 1;
            aura_tda_result *ref = NULL;
            ASSERT_STATUS(AURA_OK, aura_tda_compute_points(&o, pts, n, d, &ref));
            static const int threads[] = {2, 3, 8};
            for (int k = 0; k < 3; k++) {
                o.threads = threads[k];
                aura_tda_result *r = NULL;
                ASSERT_STATUS(AURA_OK, aura_tda_compute_points(&o, pts, n, d, &r));
                char what[96];
                snprintf(what, sizeof what, "n %zu side %d threshold %g threads %d", n,
                         sides[si], (double)o.threshold, o.threads);
                assert_same_result(ref, r, what);
                aura_tda_result_destroy(r);
            }
            aura_tda_result_destroy(ref);
        }
    }
    /* every distance equal: one bucket holds all the edges */
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            m[i * n + j] = i == j ? 0.0f : 1.0f;
        }
    }
    aura_tda_opts o = aura_tda_opts_default();
    o.max_dim = 1;
    o.threads = 1;
    aura_tda_result *ref = NULL, *r = NULL;
    ASSERT_STATUS(AURA_OK, aura_tda_compute_matrix(&o, m, n, AURA_TDA_FULL, &ref));
    o.threads = 4;
    ASSERT_STATUS(AURA_OK, aura_tda_compute_matrix(&o, m, n, AURA_TDA_FULL, &r));
    assert_same_result(ref, r, "all distances equal");
    aura_tda_result_destroy(ref);
    aura_tda_result_destroy(r);
    free(pts);
    free(m);
}

/* Many small threaded computations, each compared with the serial one: the
 * reduction commits columns in order while other threads reduce ahead,
 * continue columns and hand them back; a column left uncommitted at the
 * end of a dimension makes the computation fail (AURA_E_INTERNAL), one
 * committed out of turn changes the pairs.  2-8 threads on the machine's
 * cores, so threads are preempted at every point of that protocol. */
AURA_TEST(tda_threads_repeated_small_runs_commit_every_column)
{
    float pts[48 * 3];
    int runs = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        uint64_t s = seed * 0xD1B54A32D192ED03ull;
        size_t n = 24 + rng_next(&s) % 24;
        grid_cloud(&s, pts, n, 3, 4 + (int)(rng_next(&s) % 3));
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 2;
        o.modulus = seed % 2 ? 2 : 3;
        o.threads = 1;
        aura_tda_result *ref = NULL;
        ASSERT_STATUS(AURA_OK, aura_tda_compute_points(&o, pts, n, 3, &ref));
        for (int rep = 0; rep < 6; rep++) {
            o.threads = 2 + (int)((seed + (uint64_t)rep) % 7);
            aura_tda_result *r = NULL;
            aura_status st = aura_tda_compute_points(&o, pts, n, 3, &r);
            if (st != AURA_OK) {
                AURA_FAIL_("seed %llu run %d threads %d: status %d (a column left uncommitted?)",
                           (unsigned long long)seed, rep, o.threads, (int)st);
            }
            char what[96];
            snprintf(what, sizeof what, "seed %llu run %d threads %d", (unsigned long long)seed,
                     rep, o.threads);
            assert_same_result(ref, r, what);
            aura_tda_result_destroy(r);
            runs++;
        }
        aura_tda_result_destroy(ref);
    }
    ASSERT_EQ(360, runs);
    /* uniform clouds (no ties) of 400 points: costly columns, whose pivots
     * earlier columns take while they are reduced ahead, so helpers
     * continue columns and hand them back near the end of the reduction */
    size_t n = 400;
    float *big = malloc(n * 3 * sizeof(float));
    ASSERT_TRUE(big != NULL);
    for (uint64_t seed = 1; seed <= 4; seed++) {
        uint64_t s = seed * 0x2545F4914F6CDD1Dull;
        for (size_t i = 0; i < n * 3; i++) {
            big[i] = (float)(rng_next(&s) % 100000) / 100000.0f;
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 1;
        o.threads = 1;
        aura_tda_result *ref = NULL;
        ASSERT_STATUS(AURA_OK, aura_tda_compute_points(&o, big, n, 3, &ref));
        for (int rep = 0; rep < 4; rep++) {
            o.threads = 2 + (int)((seed * 4 + (uint64_t)rep) % 7);
            aura_tda_result *r = NULL;
            aura_status st = aura_tda_compute_points(&o, big, n, 3, &r);
            if (st != AURA_OK) {
                AURA_FAIL_("n 400 seed %llu run %d threads %d: status %d",
                           (unsigned long long)seed, rep, o.threads, (int)st);
            }
            assert_same_result(ref, r, "n 400 uniform");
            aura_tda_result_destroy(r);
        }
        aura_tda_result_destroy(ref);
    }
    free(big);
}

AURA_TEST(tda_threads_sparse_and_matrix_match_serial)
{
    for (uint64_t seed = 1; seed <= 12; seed++) {
        uint64_t s = seed * 7919;
        size_t n = 15 + rng_next(&s) % 25;
        float *m = malloc(n * n * sizeof(float));
        aura_tda_edge *e = malloc(n * n * sizeof(aura_tda_edge));
        ASSERT_TRUE(m && e);
        size_t ne = 0;
        for (size_t i = 0; i < n; i++) {
            m[i * n + i] = 0;
            for (size_t j = 0; j < i; j++) {
                float v = (float)(1 + rng_next(&s) % 6); /* ties on purpose */
                m[i * n + j] = m[j * n + i] = v;
                if (rng_next(&s) % 4 != 0) {
                    e[ne++] = (aura_tda_edge){(uint32_t)i, (uint32_t)j, v};
                }
            }
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 2;
        o.modulus = seed % 2 ? 2 : 3;
        for (int kind = 0; kind < 2; kind++) {
            aura_tda_result *ref = NULL, *r = NULL;
            o.threads = 1;
            ASSERT_STATUS(AURA_OK, kind ? aura_tda_compute_sparse(&o, n, e, ne, &ref)
                                        : aura_tda_compute_matrix(&o, m, n, AURA_TDA_FULL, &ref));
            o.threads = 2 + (int)(seed % 3);
            ASSERT_STATUS(AURA_OK, kind ? aura_tda_compute_sparse(&o, n, e, ne, &r)
                                        : aura_tda_compute_matrix(&o, m, n, AURA_TDA_FULL, &r));
            assert_same_result(ref, r, kind ? "sparse" : "matrix");
            aura_tda_result_destroy(ref);
            aura_tda_result_destroy(r);
        }
        free(m);
        free(e);
    }
}

AURA_TEST(tda_threads_rejects_bad_counts)
{
    float pts[6] = {0, 0, 1, 0, 0, 1};
    aura_tda_opts o = aura_tda_opts_default();
    ASSERT_EQ(0, o.threads);
    aura_tda_result *r = NULL;
    o.threads = -1;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_points(&o, pts, 3, 2, &r));
    o.threads = AURA_TDA_MAX_THREADS + 1;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_points(&o, pts, 3, 2, &r));
    ASSERT_TRUE(r == NULL);
    o.threads = AURA_TDA_MAX_THREADS; /* accepted (the pool may be smaller) */
    ASSERT_STATUS(AURA_OK, aura_tda_compute_points(&o, pts, 3, 2, &r));
    ASSERT_EQ(3, aura_tda_result_count(r, 0));
    aura_tda_result_destroy(r);
}

/* Allocation failures anywhere on the threaded path (pool, clones, chunk
 * vectors, reduction slots): AURA_E_NOMEM, nothing leaked, no hang.  The
 * count of allocations varies from run to run with scheduling, so the
 * sweep goes on until a run succeeds. */
AURA_TEST(tda_threads_oom_sweep)
{
    float pts[40 * 3];
    uint64_t s = 99;
    grid_cloud(&s, pts, 40, 3, 4);
    float big[260 * 2]; /* 256 points and more: the parallel edge sort */
    grid_cloud(&s, big, 260, 2, 50);
    for (int variant = 0; variant < 3; variant++) {
        int done = 0;
        long k = 0;
        for (; k < 100000 && !done; k++) {
            aura_tda_opts o = aura_tda_opts_default();
            o.max_dim = variant == 2 ? 1 : 2;
            o.threads = 3;
            o.threshold = variant == 1 ? 2.5f : INFINITY;
            o.alloc = test_failing_alloc(k);
            aura_tda_result *r = NULL;
            aura_status st = variant == 2 ? aura_tda_compute_points(&o, big, 260, 2, &r)
                                          : aura_tda_compute_points(&o, pts, 40, 3, &r);
            ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
            ASSERT_TRUE((st == AURA_OK) == (r != NULL));
            done = st == AURA_OK;
            aura_tda_result_destroy(r);
            ASSERT_EQ(0, test_alloc_live_blocks());
        }
        ASSERT_TRUE(done);
        ASSERT_TRUE(k > 20);
    }
}

/* ---------------------------------------------------------------- CLI */

static int run_cli(const char *args, const char *out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s tda %s >%s 2>&1", test_aura_bin(), args, out);
    int rc = system(cmd);
    ASSERT_TRUE(rc != -1 && WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

/* Ripser's golden output, byte for byte, with several thread counts. */
AURA_TEST(tda_threads_cli_golden)
{
    static const struct {
        const char *name, *args;
    } cases[] = {
        {"random20_d3", "--format lower-distance --dim 3 %s/tda-data/ripser/random20.lower_distance_matrix"},
        {"pp_d2_p3", "--modulus 3 --format lower-distance --dim 2 %s/tda-data/ripser/projective_plane.lower_distance_matrix"},
        {"random50_16_d2", "--format point-cloud --dim 2 %s/tda-data/ph-roadmap/random_point_cloud_50_16_.txt"},
        {"sphere_3_192_d2", "--format lower-distance --dim 2 %s/tda-data/ripser/sphere_3_192.lower_distance_matrix"},
    };
    const char *sh = test_shared_dir();
    const char *out = test_path("%s/thr_out.txt", test_tmpdir());
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t lw = 0;
        char *want = test_read_file(test_path("%s/golden/tda/%s.txt", sh, cases[c].name), &lw);
        if (!want) {
            AURA_SKIP("no ../shared/golden/tda");
        }
        for (int t = 1; t <= 4; t += 3) {
            char args[1024], full[1100];
            snprintf(args, sizeof args, cases[c].args, sh);
            snprintf(full, sizeof full, "--threads %d %s", t, args);
            ASSERT_EQ(0, run_cli(full, out));
            size_t lg = 0;
            char *got = test_read_file(out, &lg);
            ASSERT_TRUE(got != NULL);
            if (lg != lw || memcmp(got, want, lw) != 0) {
                AURA_FAIL_("%s --threads %d: output differs from Ripser's; see %s",
                           cases[c].name, t, out);
            }
            free(got);
        }
        free(want);
    }
}

AURA_TEST(tda_threads_cli_rejects_bad_values)
{
    static const char *const bad[] = {"0", "-1", "abc", "1025", "2x", ""};
    const char *out = test_path("%s/thr_err.txt", test_tmpdir());
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[128];
        snprintf(args, sizeof args, "--threads '%s' --format point-cloud /dev/null", bad[i]);
        ASSERT_EQ(2, run_cli(args, out));
        size_t len = 0;
        char *msg = test_read_file(out, &len);
        ASSERT_TRUE(msg && strstr(msg, "--threads"));
        free(msg);
    }
    ASSERT_EQ(2, run_cli("--format point-cloud --threads", out));
    ASSERT_EQ(0, run_cli("--help", out));
    size_t len = 0;
    char *help = test_read_file(out, &len);
    ASSERT_TRUE(help && strstr(help, "--threads <n>"));
    free(help);
}
