/* test_memory_knn.c -- the int8-bounded kNN search returns exactly what a
 * brute-force float scan returns (recall 1.0, same scores, same tie
 * order) on random, clustered and duplicated data; bad input; OOM.
 * SPDX-License-Identifier: MIT */
#include "aura/memory.h"
#include "memory/memory_int.h"
#include "test.h"

static aura_memory_knn *make_index(size_t dim, size_t n, aura_rng *rng, int kind)
{
    aura_memory_knn_opts o = aura_memory_knn_opts_default();
    o.dim = dim;
    aura_memory_knn *k = NULL;
    ASSERT_OK(aura_memory_knn_create(&o, &k));
    float *v = malloc(dim * sizeof(float)), *base = malloc(dim * sizeof(float));
    ASSERT_TRUE(v && base);
    for (size_t j = 0; j < dim; j++) {
        base[j] = (float)aura_rng_normal(rng);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < dim; j++) {
            float g = (float)aura_rng_normal(rng);
            switch (kind) {
            case 0: v[j] = g; break;                          /* isotropic */
            case 1: v[j] = base[j] + 1e-3f * g; break;        /* one tight cluster */
            case 2: v[j] = (float)((i % 7) + 1) * base[j] + (float)(i % 3) * (j == 0); break;
            default: v[j] = (float)aura_rng_uniform(rng) * 1e30f; break; /* huge */
            }
        }
        ASSERT_OK(aura_memory_knn_add(k, (int64_t)(1000 + i), v));
    }
    free(v);
    free(base);
    return k;
}

static void assert_same_as_brute(aura_memory_knn *k, size_t dim, size_t kk, int n_queries,
                                 aura_rng *rng, int query_from_data)
{
    aura_memory_hit *a = calloc(kk + 1, sizeof *a), *b = calloc(kk + 1, sizeof *b);
    float *q = malloc(dim * sizeof(float));
    ASSERT_TRUE(a && b && q);
    for (int t = 0; t < n_queries; t++) {
        for (size_t j = 0; j < dim; j++) {
            q[j] = (float)aura_rng_normal(rng);
            if (query_from_data) {
                q[j] = 1.0f + 1e-3f * q[j];
            }
        }
        size_t na = 0, nb = 0;
        ASSERT_OK(aura_memory_knn_search(k, q, kk, a, &na));
        ASSERT_OK(aura_memory_knn_search_brute(k, q, kk, b, &nb));
        ASSERT_EQ(nb, na);
        for (size_t i = 0; i < na; i++) {
            if (a[i].id != b[i].id || a[i].score != b[i].score) {
                AURA_FAIL_("query %d rank %zu: got id %lld score %.9g, brute force id %lld "
                           "score %.9g", t, i, (long long)a[i].id, a[i].score,
                           (long long)b[i].id, b[i].score);
            }
            if (i > 0) {
                ASSERT_TRUE(a[i - 1].score >= a[i].score);
            }
        }
    }
    free(a);
    free(b);
    free(q);
}

AURA_TEST(memory_knn_recall_is_exact_on_random_data)
{
    aura_rng rng;
    aura_rng_init(&rng, 1);
    aura_memory_knn *k = make_index(128, 20000, &rng, 0);
    ASSERT_EQ(20000, aura_memory_knn_size(k));
    /* every int8 kernel this CPU has */
    int kernels[] = {AURA__KNN_KERNEL_SCALAR, AURA__KNN_KERNEL_AVX2, AURA__KNN_KERNEL_VNNI,
                     AURA__KNN_KERNEL_AUTO};
    int tried = 0;
    for (int i = 0; i < 4; i++) {
        if (!aura__memory_knn_set_kernel(kernels[i])) {
            fprintf(stderr, "kernel %d not available on this CPU\n", kernels[i]);
            continue;
        }
        tried++;
        assert_same_as_brute(k, 128, 10, 15, &rng, 0);
        assert_same_as_brute(k, 128, 1, 5, &rng, 0);
        assert_same_as_brute(k, 128, 100, 2, &rng, 0);
    }
    ASSERT_TRUE(tried >= 2);
    aura_memory_knn_destroy(k);
}

AURA_TEST(memory_knn_exact_on_clusters_ties_and_odd_dims)
{
    aura_rng rng;
    aura_rng_init(&rng, 2);
    size_t dims[] = {128, 3, 33, 200};
    for (int kind = 0; kind < 8; kind++) {
        aura__memory_knn_set_kernel(kind < 4 ? AURA__KNN_KERNEL_AUTO : AURA__KNN_KERNEL_SCALAR);
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
            aura_memory_knn *k = make_index(dims[d], 700, &rng, kind % 4);
            assert_same_as_brute(k, dims[d], 10, 8, &rng, kind % 4 == 1);
            assert_same_as_brute(k, dims[d], 1000, 1, &rng, 0); /* k > n */
            aura_memory_knn_destroy(k);
        }
    }
}

AURA_TEST(memory_knn_bad_input)
{
    aura_memory_knn_opts o = aura_memory_knn_opts_default();
    aura_memory_knn *k = NULL;
    o.dim = 0;
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_knn_create(&o, &k));
    o.dim = AURA_MEMORY_MAX_DIM + 1;
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_knn_create(&o, &k));
    ASSERT_TRUE(k == NULL);
    o.dim = 4;
    ASSERT_OK(aura_memory_knn_create(&o, &k));
    float zero[4] = {0}, nan[4] = {1, NAN, 0, 0}, inf[4] = {INFINITY, 0, 0, 0}, ok[4] = {1, 2, 3, 4};
    ASSERT_STATUS(AURA_E_INVAL, aura_memory_knn_add(k, 1, zero));
    ASSERT_STATUS(AURA_E_NUMERIC, aura_memory_knn_add(k, 1, nan));
    ASSERT_STATUS(AURA_E_NUMERIC, aura_memory_knn_add(k, 1, inf));
    ASSERT_EQ(0, aura_memory_knn_size(k));
    aura_memory_hit h[2];
    size_t n = 99;
    ASSERT_OK(aura_memory_knn_search(k, ok, 2, h, &n));
    ASSERT_EQ(0, n);  /* empty index */
    ASSERT_OK(aura_memory_knn_add(k, 5, ok));
    ASSERT_STATUS(AURA_E_NUMERIC, aura_memory_knn_search(k, nan, 2, h, &n));
    ASSERT_STATUS(AURA_E_INVAL, aura_memory_knn_search(k, zero, 2, h, &n));
    ASSERT_OK(aura_memory_knn_search(k, ok, 0, NULL, &n));
    ASSERT_EQ(0, n);
    ASSERT_OK(aura_memory_knn_search(k, ok, 2, h, &n));
    ASSERT_EQ(1, n);
    ASSERT_EQ(5, h[0].id);
    ASSERT_NEAR(1.0, h[0].score, 1e-6);
    aura_memory_knn_destroy(k);
}

AURA_TEST(memory_knn_survives_oom)
{
    float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (long fail_at = 0; fail_at < 40; fail_at++) {
        aura_memory_knn_opts o = aura_memory_knn_opts_default();
        o.dim = 8;
        o.alloc = test_failing_alloc(fail_at);
        aura_memory_knn *k = NULL;
        aura_status st = aura_memory_knn_create(&o, &k);
        ASSERT_TRUE(st == AURA_OK || (st == AURA_E_NOMEM && k == NULL));
        size_t added = 0;
        for (int i = 0; st == AURA_OK && i < 600; i++) {
            v[0] = (float)i;
            st = aura_memory_knn_add(k, i, v);
            added += st == AURA_OK;
        }
        ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
        if (k) {
            ASSERT_EQ(added, aura_memory_knn_size(k));
            aura_memory_hit h[3];
            size_t n = 0;
            ASSERT_OK(aura_memory_knn_search(k, v, 3, h, &n));
            ASSERT_EQ(added < 3 ? added : 3, n);
        }
        aura_memory_knn_destroy(k);
        ASSERT_EQ(0, test_alloc_live_blocks());
    }
}

AURA_TEST(memory_knn_batch_equals_single_queries)
{
    aura_rng rng;
    aura_rng_init(&rng, 3);
    enum { NQ = 9, K = 7 };
    size_t dims[] = {128, 5};
    for (size_t d = 0; d < 2; d++) {
        size_t dim = dims[d];
        aura_memory_knn *k = make_index(dim, 3000, &rng, d == 0 ? 0 : 2);
        float *q = malloc(NQ * dim * sizeof(float));
        ASSERT_TRUE(q != NULL);
        for (size_t i = 0; i < NQ * dim; i++) {
            q[i] = (float)aura_rng_normal(&rng);
        }
        aura_memory_hit batch[NQ * K], one[K];
        size_t nb[NQ], n1 = 0;
        ASSERT_OK(aura_memory_knn_search_batch(k, q, NQ, K, batch, nb));
        for (int i = 0; i < NQ; i++) {
            ASSERT_OK(aura_memory_knn_search_brute(k, q + i * dim, K, one, &n1));
            ASSERT_EQ(n1, nb[i]);
            for (size_t j = 0; j < n1; j++) {
                ASSERT_EQ(one[j].id, batch[i * K + j].id);
                ASSERT_TRUE(one[j].score == batch[i * K + j].score);
            }
        }
        /* a bad query fails the batch and writes no counts */
        q[dim + 1] = NAN;
        nb[0] = 12345;
        ASSERT_STATUS(AURA_E_NUMERIC, aura_memory_knn_search_batch(k, q, NQ, K, batch, nb));
        ASSERT_EQ(12345, nb[0]);
        ASSERT_OK(aura_memory_knn_search_batch(k, q, 0, K, NULL, NULL));
        free(q);
        aura_memory_knn_destroy(k);
    }
}

AURA_TEST(memory_knn_batch_survives_oom)
{
    float v[4] = {1, 2, 3, 4};
    for (long fail_at = 0; fail_at < 20; fail_at++) {
        aura_memory_knn_opts o = aura_memory_knn_opts_default();
        o.dim = 4;
        o.alloc = test_failing_alloc(fail_at);
        aura_memory_knn *k = NULL;
        aura_status st = aura_memory_knn_create(&o, &k);
        for (int i = 0; st == AURA_OK && i < 50; i++) {
            v[0] = (float)i;
            st = aura_memory_knn_add(k, i, v);
        }
        if (st == AURA_OK) {
            aura_memory_hit h[6];
            size_t n[2] = {0, 0};
            float qs[8] = {1, 0, 0, 0, 0, 1, 0, 0};
            st = aura_memory_knn_search_batch(k, qs, 2, 3, h, n);
            ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
            if (st == AURA_OK) {
                ASSERT_EQ(3, n[0]);
            }
        }
        ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
        aura_memory_knn_destroy(k);
        ASSERT_EQ(0, test_alloc_live_blocks());
    }
}

AURA_TEST(memory_signature_projection)
{
    enum { NF = 400, D = 128 };
    float x[NF], y[NF], xy[NF], px[D], py[D], pxy[D], p2[D];
    aura_rng rng;
    aura_rng_init(&rng, 11);
    double ratio = 0;
    for (int t = 0; t < 40; t++) {
        double nx = 0, np = 0;
        for (int j = 0; j < NF; j++) {
            x[j] = (float)aura_rng_normal(&rng);
            nx += (double)x[j] * x[j];
        }
        ASSERT_OK(aura_memory_signature_project(x, NF, 42, px, D));
        for (int i = 0; i < D; i++) {
            np += (double)px[i] * px[i];
        }
        ratio += np / nx / 40;
    }
    /* Johnson-Lindenstrauss: squared norms preserved in expectation */
    ASSERT_NEAR(1.0, ratio, 0.1);
    /* deterministic per seed, different across seeds, linear */
    for (int j = 0; j < NF; j++) {
        y[j] = (float)aura_rng_normal(&rng);
        xy[j] = x[j] + y[j];
    }
    ASSERT_OK(aura_memory_signature_project(x, NF, 42, px, D));
    ASSERT_OK(aura_memory_signature_project(x, NF, 42, p2, D));
    ASSERT_TRUE(memcmp(px, p2, sizeof px) == 0);
    ASSERT_OK(aura_memory_signature_project(x, NF, 43, p2, D));
    ASSERT_TRUE(memcmp(px, p2, sizeof px) != 0);
    ASSERT_OK(aura_memory_signature_project(y, NF, 42, py, D));
    ASSERT_OK(aura_memory_signature_project(xy, NF, 42, pxy, D));
    for (int i = 0; i < D; i++) {
        ASSERT_NEAR(px[i] + py[i], pxy[i], 1e-3);
    }
    /* a slightly perturbed situation is the nearest neighbour of the original */
    aura_memory_knn *k = NULL;
    ASSERT_OK(aura_memory_knn_create(NULL, &k));
    for (int t = 0; t < 200; t++) {
        for (int j = 0; j < NF; j++) {
            y[j] = (float)aura_rng_normal(&rng);
        }
        ASSERT_OK(aura_memory_signature_project(y, NF, 42, py, D));
        ASSERT_OK(aura_memory_knn_add(k, t, py));
    }
    ASSERT_OK(aura_memory_knn_add(k, 999, px));
    for (int j = 0; j < NF; j++) {
        xy[j] = x[j] + 0.05f * (float)aura_rng_normal(&rng);
    }
    ASSERT_OK(aura_memory_signature_project(xy, NF, 42, pxy, D));
    aura_memory_hit h[1];
    size_t n = 0;
    ASSERT_OK(aura_memory_knn_search(k, pxy, 1, h, &n));
    ASSERT_EQ(999, h[0].id);
    ASSERT_TRUE(h[0].score > 0.99);
    aura_memory_knn_destroy(k);
    /* bad input leaves out alone */
    x[3] = NAN;
    p2[0] = 7;
    ASSERT_STATUS(AURA_E_NUMERIC, aura_memory_signature_project(x, NF, 42, p2, D));
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_signature_project(y, NF, 42, p2, 0));
    ASSERT_NEAR(7, p2[0], 0);
    ASSERT_OK(aura_memory_signature_project(NULL, 0, 1, p2, D));
    ASSERT_NEAR(0, p2[0], 0);
}
