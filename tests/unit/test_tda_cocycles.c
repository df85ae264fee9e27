/* test_tda_cocycles.c -- representative cocycles (opts.cocycles, `aura tda
 * --cocycles`) checked by brute force on small random complexes full of
 * ties, for several primes: every cocycle vanishes under the coboundary on
 * the complex before its death, is non-zero on the killing simplex, is not
 * a coboundary at its birth, and at every filtration value the cocycles
 * of the live intervals are a basis of the cohomology (ranks mod p by
 * Gaussian elimination).  Plus the API contract, OOM and the CLI section.
 * SPDX-License-Identifier: MIT */
#include <float.h>
#include <stdint.h>

#include "aura/tda.h"
#include "aura/tda_extras.h"
#include "test.h"

#define MAXN 9
#define MAXS 128 /* C(9, k) <= 126 */
#define MAXT 64  /* cocycle terms of one pair */

/* The filtered Rips complex up to dimension 3, simplices of diameter <= cut. */
typedef struct cx {
    int n;
    float D[MAXN][MAXN];
    int ns[4];
    int v[4][MAXS][4];
    float diam[4][MAXS];
} cx;

static void enumerate(cx *c, int k, int start, int depth, int *cur, float dmax, float cut)
{
    if (depth == k + 1) {
        int q = c->ns[k]++;
        memcpy(c->v[k][q], cur, sizeof(int) * (size_t)(k + 1));
        c->diam[k][q] = dmax;
        return;
    }
    for (int x = start; x < c->n; x++) {
        float d = dmax;
        for (int i = 0; i < depth; i++) {
            d = c->D[cur[i]][x] > d ? c->D[cur[i]][x] : d;
        }
        if (d <= cut && isfinite(d)) {
            cur[depth] = x;
            enumerate(c, k, x + 1, depth + 1, cur, d, cut);
        }
    }
}

static void build(cx *c, float cut)
{
    int cur[4];
    for (int k = 0; k < 4; k++) {
        c->ns[k] = 0;
        enumerate(c, k, 0, 0, cur, 0.0f, cut);
    }
}

static int find(const cx *c, int k, const int *v)
{
    for (int q = 0; q < c->ns[k]; q++) {
        if (!memcmp(c->v[k][q], v, sizeof(int) * (size_t)(k + 1))) {
            return q;
        }
    }
    return -1;
}

/* Face i of simplex q of dimension k (vertex i removed), as an index. */
static int face(const cx *c, int k, int q, int i)
{
    int f[4];
    for (int a = 0, b = 0; a <= k; a++) {
        if (a != i) {
            f[b++] = c->v[k][q][a];
        }
    }
    return find(c, k - 1, f);
}

/* (delta z)(sigma) for z a cochain on the (k)-simplices, sigma = simplex q
 * of dimension k+1. */
static uint32_t cob_at(const cx *c, int k, const uint32_t *z, int q, uint32_t p)
{
    uint64_t s = 0;
    for (int i = 0; i <= k + 1; i++) {
        uint32_t x = z[face(c, k + 1, q, i)];
        s += (i & 1) ? (p - x) % p : x;
    }
    return (uint32_t)(s % p);
}

static uint32_t inv_mod(uint32_t a, uint32_t p)
{
    uint64_t r = 1, b = a % p;
    for (uint32_t e = p - 2; e; e >>= 1) {
        if (e & 1) {
            r = r * b % p;
        }
        b = b * b % p;
    }
    return (uint32_t)r;
}

/* Rank mod p of the rows x cols matrix M (column-major: col j at M[j*rows]);
 * destroys M. */
static int rank_mod(uint32_t *M, int rows, int cols, uint32_t p)
{
    int r = 0;
    for (int row = 0; row < rows && r < cols; row++) {
        int piv = -1;
        for (int j = r; j < cols; j++) {
            if (M[j * rows + row]) {
                piv = j;
                break;
            }
        }
        if (piv < 0) {
            continue;
        }
        for (int i = 0; i < rows; i++) {
            uint32_t t = M[piv * rows + i];
            M[piv * rows + i] = M[r * rows + i];
            M[r * rows + i] = t;
        }
        uint64_t inv = inv_mod(M[r * rows + row], p);
        for (int j = r + 1; j < cols; j++) {
            uint64_t f = (uint64_t)M[j * rows + row] * inv % p;
            for (int i = 0; f && i < rows; i++) {
                M[j * rows + i] = (uint32_t)((M[j * rows + i] + (p - f) * M[r * rows + i]) % p);
            }
        }
        r++;
    }
    return r;
}

/* Fills column `col` of M (rows = k-simplices of diameter <= t, listed in
 * order) with the coboundary of (k-1)-simplex tau. */
static void cob_column(const cx *c, int k, int tau, float t, uint32_t p, uint32_t *colv)
{
    int r = 0;
    for (int q = 0; q < c->ns[k]; q++) {
        if (c->diam[k][q] > t) {
            continue;
        }
        uint32_t x = 0;
        for (int i = 0; i <= k; i++) {
            if (face(c, k, q, i) == tau) {
                x = (i & 1) ? p - 1 : 1;
            }
        }
        colv[r++] = x;
    }
}

static int count_upto(const cx *c, int k, float t)
{
    int m = 0;
    for (int q = 0; q < c->ns[k]; q++) {
        m += c->diam[k][q] <= t;
    }
    return m;
}

/* rank of delta: C^{k-1}(K_t) -> C^k(K_t) plus the k-cochains zs[0..nz)
 * restricted to K_t; *rank_delta gets the rank of delta alone. */
static int rank_with(const cx *c, int k, float t, uint32_t p, uint32_t zs[][MAXS], int nz,
                     int *rank_delta)
{
    static uint32_t M[(MAXS + MAXS) * MAXS], M2[(MAXS + MAXS) * MAXS];
    int rows = count_upto(c, k, t), cols = 0;
    for (int tau = 0; tau < c->ns[k - 1]; tau++) {
        if (c->diam[k - 1][tau] <= t) {
            cob_column(c, k, tau, t, p, M + cols * rows);
            cols++;
        }
    }
    memcpy(M2, M, sizeof(uint32_t) * (size_t)(cols * rows));
    *rank_delta = rank_mod(M2, rows, cols, p);
    for (int z = 0; z < nz; z++) {
        int r = 0;
        for (int q = 0; q < c->ns[k]; q++) {
            if (c->diam[k][q] <= t) {
                M[cols * rows + r++] = zs[z][q];
            }
        }
        cols++;
    }
    return rank_mod(M, rows, cols, p);
}

/* dim H^k(K_t) by ranks. */
static int betti(const cx *c, int k, float t, uint32_t p)
{
    int rd0 = 0, rd1 = 0;
    rank_with(c, k, t, p, NULL, 0, &rd0);
    rank_with(c, k + 1, t, p, NULL, 0, &rd1);
    return count_upto(c, k, t) - rd0 - rd1;
}

typedef struct cocycle {
    float birth, death;
    uint32_t z[MAXS]; /* coefficient per k-simplex of the complex */
} cocycle;

static cocycle ccs[3][MAXS];

/* Reads and checks the cocycles of result r against the complex c. */
static void check_result(const aura_tda_result *r, cx *c, int maxd, uint32_t p, int trial)
{
    aura_tda_info info;
    ASSERT_OK(aura_tda_result_info(r, &info));
    build(c, info.threshold);
    size_t nz = 0;
    ASSERT_OK(aura_tda_result_cocycle(r, 0, 0, NULL, NULL, 0, &nz));
    ASSERT_EQ(0, nz);
    int npairs[3] = {0, 0, 0};
    for (int k = 1; k <= maxd && k <= info.max_dim; k++) {
        size_t cnt = aura_tda_result_count(r, k), got = 0;
        ASSERT_TRUE(cnt <= MAXS);
        aura_tda_pair pairs[MAXS];
        ASSERT_OK(aura_tda_result_pairs(r, k, pairs, MAXS, &got));
        npairs[k] = (int)cnt;
        for (size_t i = 0; i < cnt; i++) {
            int64_t v[MAXT * 4], bs[4], ds[5];
            uint32_t coef[MAXT];
            size_t n = 0;
            ASSERT_OK(aura_tda_result_cocycle(r, k, i, v, coef, MAXT, &n));
            ASSERT_OK(aura_tda_result_simplices(r, k, i, bs, ds));
            cocycle *cc = &ccs[k][i];
            cc->birth = pairs[i].birth;
            cc->death = pairs[i].death;
            memset(cc->z, 0, sizeof cc->z);
            ASSERT_TRUE(n >= 1);
            for (size_t t = 0; t < n; t++) {
                int sv[4];
                for (int a = 0; a <= k; a++) {
                    sv[a] = (int)v[t * (size_t)(k + 1) + (size_t)a];
                    ASSERT_TRUE(sv[a] >= 0 && sv[a] < c->n && (a == 0 || sv[a] > sv[a - 1]));
                    if (t == 0) {
                        ASSERT_EQ(bs[a], sv[a]); /* term 0: the creating simplex */
                    }
                }
                int q = find(c, k, sv);
                ASSERT_TRUE(q >= 0);               /* a simplex of the complex */
                ASSERT_TRUE(cc->z[q] == 0);        /* listed once */
                ASSERT_TRUE(coef[t] >= 1 && coef[t] < p);
                ASSERT_TRUE(c->diam[k][q] >= cc->birth);
                if (t == 0) {
                    ASSERT_EQ(1, coef[t]);
                    ASSERT_TRUE(c->diam[k][q] == cc->birth);
                }
                cc->z[q] = coef[t];
            }
            /* a cocycle on every complex before the death */
            for (int q = 0; q < c->ns[k + 1]; q++) {
                if (c->diam[k + 1][q] < cc->death && cob_at(c, k, cc->z, q, p) != 0) {
                    AURA_FAIL_("trial %d dim %d pair %zu [%g,%g): coboundary %u on a simplex "
                               "of diameter %g",
                               trial, k, i, cc->birth, cc->death, cob_at(c, k, cc->z, q, p),
                               c->diam[k + 1][q]);
                }
            }
            /* ... which stops at the killing simplex */
            if (isfinite(cc->death)) {
                int dv[5];
                for (int a = 0; a <= k + 1; a++) {
                    dv[a] = (int)ds[a];
                }
                int q = find(c, k + 1, dv);
                ASSERT_TRUE(q >= 0 && c->diam[k + 1][q] == cc->death);
                ASSERT_TRUE(cob_at(c, k, cc->z, q, p) != 0);
            }
            /* not a coboundary at its birth */
            int rd = 0;
            if (rank_with(c, k, cc->birth, p, &cc->z, 1, &rd) != rd + 1) {
                AURA_FAIL_("trial %d dim %d pair %zu [%g,%g): a coboundary at its birth", trial,
                           k, i, cc->birth, cc->death);
            }
        }
    }
    /* at each filtration value t the live cocycles are a basis of H^k(K_t) */
    for (int e = 0; e < c->ns[1]; e++) {
        float t = c->diam[1][e];
        int seen = 0;
        for (int f = 0; f < e; f++) {
            seen |= c->diam[1][f] == t;
        }
        if (seen) {
            continue; /* each distinct value once */
        }
        for (int k = 1; k <= maxd && k <= info.max_dim; k++) {
            static uint32_t zs[MAXS][MAXS];
            int live = 0;
            for (int i = 0; i < npairs[k]; i++) {
                if (ccs[k][i].birth <= t && t < ccs[k][i].death) {
                    memcpy(zs[live++], ccs[k][i].z, sizeof zs[0]);
                }
            }
            int rd = 0, rk = rank_with(c, k, t, p, zs, live, &rd), b = betti(c, k, t, p);
            if (rk - rd != live || live != b) {
                AURA_FAIL_("trial %d dim %d t=%g: %d live intervals, their cocycles span %d, "
                           "cohomology has dimension %d",
                           trial, k, t, live, rk - rd, b);
            }
        }
    }
}

static float euclid(const float *x, const float *y, int d)
{
    float s = 0.0f;
    for (int k = 0; k < d; k++) {
        float t = x[k] - y[k];
        s += t * t;
    }
    return sqrtf(s);
}

static const uint32_t primes[] = {2, 3, 5, 7, 251, 65521};

AURA_TEST(tda_cocycles_point_clouds)
{
    aura_rng rng;
    aura_rng_init(&rng, 2024);
    static cx c;
    for (int trial = 0; trial < 150; trial++) {
        int n = 4 + (int)aura_rng_below(&rng, 5), dim = 1 + (int)aura_rng_below(&rng, 3);
        int maxd = 1 + (int)aura_rng_below(&rng, 2);
        float pts[MAXN * 3];
        for (int i = 0; i < n * dim; i++) {
            pts[i] = (float)aura_rng_below(&rng, 4); /* a grid: many ties */
        }
        c.n = n;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                c.D[i][j] = i == j ? 0 : euclid(pts + i * dim, pts + j * dim, dim);
            }
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = maxd;
        o.modulus = primes[aura_rng_below(&rng, 6)];
        o.cocycles = 1;
        o.threads = 1 + trial % 4; /* cocycles come from the serial reduction whatever this says */
        if (aura_rng_below(&rng, 3) == 0) {
            o.threshold = (float)(1 + aura_rng_below(&rng, 4)) * 0.75f;
        }
        aura_tda_result *r = NULL;
        ASSERT_OK(aura_tda_compute_points(&o, pts, (size_t)n, (size_t)dim, &r));
        check_result(r, &c, maxd, o.modulus, trial);
        aura_tda_result_destroy(r);
    }
}

AURA_TEST(tda_cocycles_matrices)
{
    aura_rng rng;
    aura_rng_init(&rng, 99);
    static cx c;
    for (int trial = 0; trial < 250; trial++) {
        int n = 4 + (int)aura_rng_below(&rng, 6), levels = 2 + (int)aura_rng_below(&rng, 5);
        int maxd = 1 + (int)aura_rng_below(&rng, 2), sparse = aura_rng_below(&rng, 3) == 0;
        c.n = n;
        float full[MAXN * MAXN];
        aura_tda_edge e[MAXN * MAXN];
        size_t ne = 0;
        for (int i = 0; i < n; i++) {
            c.D[i][i] = 0;
            full[i * n + i] = 0;
            for (int j = 0; j < i; j++) {
                float d = (float)(1 + aura_rng_below(&rng, (uint32_t)levels));
                if (sparse && aura_rng_below(&rng, 4) == 0) {
                    d = INFINITY; /* a missing edge */
                } else if (sparse) {
                    e[ne++] = (aura_tda_edge){(uint32_t)i, (uint32_t)j, d};
                }
                c.D[i][j] = c.D[j][i] = full[i * n + j] = full[j * n + i] = d;
            }
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = maxd;
        o.modulus = primes[aura_rng_below(&rng, 6)];
        o.cocycles = 1;
        if (aura_rng_below(&rng, 2) == 0) {
            o.threshold = (float)(1 + aura_rng_below(&rng, (uint32_t)levels));
        }
        aura_tda_result *r = NULL;
        if (sparse) {
            ASSERT_OK(aura_tda_compute_sparse(&o, (size_t)n, e, ne, &r));
        } else {
            ASSERT_OK(aura_tda_compute_matrix(&o, full, (size_t)n, AURA_TDA_FULL, &r));
        }
        check_result(r, &c, maxd, o.modulus, trial);
        aura_tda_result_destroy(r);
    }
}

/* ------------------------------------------------------------ contract */

/* A square 0-1-2-3 with sides 1 and diagonals 2: H1 = [1,2). */
static const float square[] = {0, 0, 1, 0, 1, 1, 0, 1};

AURA_TEST(tda_cocycles_api_contract)
{
    aura_tda_opts o = aura_tda_opts_default();
    aura_tda_result *r = NULL;
    size_t n = 7;
    ASSERT_OK(aura_tda_compute_points(&o, square, 4, 2, &r));
    ASSERT_STATUS(AURA_E_STATE, aura_tda_result_cocycle(r, 1, 0, NULL, NULL, 0, &n));
    ASSERT_EQ(7, n);
    aura_tda_result_destroy(r);

    o.cocycles = 2;
    r = NULL;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_points(&o, square, 4, 2, &r));
    ASSERT_TRUE(r == NULL);
    o.cocycles = 1;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_points_collapsed(&o, square, 4, 2, &r));
    ASSERT_TRUE(r == NULL);

    o.modulus = 7;
    ASSERT_OK(aura_tda_compute_points(&o, square, 4, 2, &r));
    ASSERT_EQ(1, aura_tda_result_count(r, 1));
    ASSERT_OK(aura_tda_result_cocycle(r, 1, 0, NULL, NULL, 0, &n));
    ASSERT_TRUE(n >= 1);
    int64_t v[8] = {-5, -5, -5, -5, -5, -5, -5, -5};
    uint32_t c[4] = {9, 9, 9, 9};
    size_t m = 0;
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_result_cocycle(r, 1, 0, v, c, n - 1, &m));
    ASSERT_EQ(n, m);
    ASSERT_EQ(-5, v[0]);
    ASSERT_EQ(9, c[0]);
    ASSERT_OK(aura_tda_result_cocycle(r, 1, 0, NULL, c, 4, &m)); /* coefficients only */
    ASSERT_EQ(1, c[0]);
    ASSERT_EQ(-5, v[0]);
    ASSERT_OK(aura_tda_result_cocycle(r, 1, 0, v, NULL, 4, &m));
    int64_t bs[2];
    ASSERT_OK(aura_tda_result_simplices(r, 1, 0, bs, NULL));
    ASSERT_EQ(bs[0], v[0]);
    ASSERT_EQ(bs[1], v[1]);
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_result_cocycle(r, 1, 1, NULL, NULL, 0, &m));
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_result_cocycle(r, 2, 0, NULL, NULL, 0, &m));
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_result_cocycle(r, -1, 0, NULL, NULL, 0, &m));
    ASSERT_OK(aura_tda_result_cocycle(r, 0, 0, v, c, 4, &m));
    ASSERT_EQ(0, m);
    aura_tda_result_destroy(r);
}

/* The barcode does not depend on opts.cocycles. */
AURA_TEST(tda_cocycles_same_barcode)
{
    float pts[3 * 30];
    for (int i = 0; i < 30; i++) {
        pts[3 * i] = (float)((i * 7) % 5);
        pts[3 * i + 1] = (float)((i * 3) % 4);
        pts[3 * i + 2] = (float)((i * 5) % 3);
    }
    aura_tda_opts o = aura_tda_opts_default();
    o.max_dim = 2;
    o.modulus = 5;
    aura_tda_result *a = NULL, *b = NULL;
    ASSERT_OK(aura_tda_compute_points(&o, pts, 30, 3, &a));
    o.cocycles = 1;
    ASSERT_OK(aura_tda_compute_points(&o, pts, 30, 3, &b));
    for (int d = 0; d <= 2; d++) {
        size_t na = aura_tda_result_count(a, d), nb = 0;
        ASSERT_EQ(na, aura_tda_result_count(b, d));
        aura_tda_pair pa[512], pb[512];
        ASSERT_TRUE(na <= 512);
        ASSERT_OK(aura_tda_result_pairs(a, d, pa, 512, &na));
        ASSERT_OK(aura_tda_result_pairs(b, d, pb, 512, &nb));
        ASSERT_TRUE(na == 0 || !memcmp(pa, pb, na * sizeof(pa[0])));
    }
    aura_tda_result_destroy(a);
    aura_tda_result_destroy(b);
    /* --ratio drops pairs: the kept ones keep their own cocycles */
    o.ratio = 1.3f;
    ASSERT_OK(aura_tda_compute_points(&o, pts, 30, 3, &b));
    o.ratio = 1.0f;
    ASSERT_OK(aura_tda_compute_points(&o, pts, 30, 3, &a));
    for (int d = 1; d <= 2; d++) {
        for (size_t i = 0; i < aura_tda_result_count(b, d); i++) {
            size_t nb = 0, na = 0, j = 0;
            int64_t sb[3], sa[3];
            ASSERT_OK(aura_tda_result_simplices(b, d, i, sb, NULL));
            ASSERT_OK(aura_tda_result_pairs(b, d, NULL, 0, &nb));
            for (; j < aura_tda_result_count(a, d); j++) {
                ASSERT_OK(aura_tda_result_simplices(a, d, j, sa, NULL));
                if (!memcmp(sa, sb, sizeof(int64_t) * (size_t)(d + 1))) {
                    break;
                }
            }
            ASSERT_TRUE(j < aura_tda_result_count(a, d));
            uint32_t ca[256], cb[256];
            int64_t va[768], vb[768];
            ASSERT_OK(aura_tda_result_cocycle(b, d, i, vb, cb, 256, &nb));
            ASSERT_OK(aura_tda_result_cocycle(a, d, j, va, ca, 256, &na));
            ASSERT_EQ(na, nb);
            ASSERT_TRUE(!memcmp(ca, cb, na * sizeof(ca[0])));
            ASSERT_TRUE(!memcmp(va, vb, na * (size_t)(d + 1) * sizeof(va[0])));
        }
    }
    ASSERT_TRUE(aura_tda_result_count(b, 1) < aura_tda_result_count(a, 1));
    aura_tda_result_destroy(a);
    aura_tda_result_destroy(b);
}

static void oom_sweep(int sparse)
{
    float pts[3 * 14];
    for (int i = 0; i < 14; i++) {
        pts[3 * i] = (float)((i * 7) % 5);
        pts[3 * i + 1] = (float)((i * 3) % 4);
        pts[3 * i + 2] = (float)((i * 5) % 3);
    }
    aura_tda_edge edges[40];
    for (int i = 0; i < 40; i++) {
        uint32_t a = (uint32_t)(i % 12), b = (uint32_t)((i * 5 + 1) % 12);
        edges[i] = (aura_tda_edge){a, b, (float)(1 + (a * b + a + b) % 9)};
    }
    int done = 0;
    long k = 0;
    for (; k < 100000 && !done; k++) {
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 2;
        o.modulus = 3;
        o.cocycles = 1;
        o.alloc = test_failing_alloc(k);
        aura_tda_result *r = NULL;
        aura_status st = sparse ? aura_tda_compute_sparse(&o, 12, edges, 40, &r)
                                : aura_tda_compute_points(&o, pts, 14, 3, &r);
        ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
        ASSERT_TRUE((st == AURA_OK) == (r != NULL));
        done = st == AURA_OK;
        if (done) {
            size_t n = 0;
            ASSERT_TRUE(aura_tda_result_count(r, 1) > 0);
            ASSERT_OK(aura_tda_result_cocycle(r, 1, 0, NULL, NULL, 0, &n));
            ASSERT_TRUE(n > 0);
        }
        aura_tda_result_destroy(r);
        ASSERT_EQ(0, test_alloc_live_blocks());
    }
    ASSERT_TRUE(done);
    ASSERT_TRUE(k > 10); /* the sweep reached allocations deep in the engine */
}

AURA_TEST(tda_cocycles_oom_sweep_dense)
{
    oom_sweep(0);
}

AURA_TEST(tda_cocycles_oom_sweep_sparse)
{
    oom_sweep(1);
}

/* ------------------------------------------------------------ CLI */

/* The file's text (at most 64 KiB) in a rotating static buffer. */
static char *slurp_file(const char *path)
{
    static char bufs[2][1 << 16];
    static int next;
    char *buf = bufs[next++ & 1];
    FILE *f = fopen(path, "rb");
    ASSERT_TRUE(f != NULL);
    size_t n = fread(buf, 1, sizeof bufs[0] - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static int run_tda(const char *args, const char *out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s tda %s >%s 2>/dev/null", test_aura_bin(), args, out);
    int rc = system(cmd);
    ASSERT_TRUE(rc != -1 && WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

AURA_TEST(tda_cocycles_cli)
{
    const char *dir = test_tmpdir();
    const char *in = test_path("%s/sq.lower", dir);
    FILE *f = fopen(in, "w");
    ASSERT_TRUE(f != NULL);
    fputs("1\n2 1\n1 2 1\n", f); /* the square, as a lower distance matrix */
    fclose(f);
    ASSERT_EQ(0, run_tda(test_path("--format lower-distance %s", in), test_path("%s/a", dir)));
    ASSERT_EQ(0, run_tda(test_path("--format lower-distance --cocycles --modulus 3 %s", in),
                         test_path("%s/b", dir)));
    const char *plain = slurp_file(test_path("%s/a", dir));
    const char *with = slurp_file(test_path("%s/b", dir));
    /* the Ripser-format part is unchanged, the section follows it */
    ASSERT_EQ(0, strncmp(plain, with, strlen(plain)));
    ASSERT_STREQ("representative cocycles:\ncocycle 1 [1,2): 0,1:1\n", with + strlen(plain));
    ASSERT_EQ(2, run_tda(test_path("--cocycles --collapse --format lower-distance %s", in),
                         test_path("%s/c", dir)));
    ASSERT_EQ(0, run_tda("--help", test_path("%s/h", dir)));
    ASSERT_TRUE(strstr(slurp_file(test_path("%s/h", dir)), "--cocycles") != NULL);
    /* edge lists (flag complex of a 4-cycle) */
    const char *g = test_path("%s/g.txt", dir);
    f = fopen(g, "w");
    ASSERT_TRUE(f != NULL);
    fputs("0 1 1\n1 2 1\n2 3 1\n3 0 1\n", f);
    fclose(f);
    ASSERT_EQ(0, run_tda(test_path("--format edge-list --cocycles %s", g),
                         test_path("%s/e", dir)));
    const char *e = slurp_file(test_path("%s/e", dir));
    ASSERT_TRUE(strstr(e, "representative cocycles:\ncocycle 1 [1, ): ") != NULL);
}
