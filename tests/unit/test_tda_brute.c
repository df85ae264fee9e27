/* test_tda_brute.c -- an independent reference: build the whole filtered
 * Rips complex, reduce its boundary matrix column by column over Z/p (the
 * standard algorithm, homology, no shortcuts), and compare the barcode
 * (multisets of (birth, death) per dimension) with the engine on hundreds
 * of small random point clouds and matrices full of ties, through every
 * input path: points, full/lower/sparse matrices and every text/binary
 * format via the readers.
 * SPDX-License-Identifier: MIT */
#include <float.h>
#include <stdint.h>

#include "aura/tda.h"
#include "test.h"

#define MAXN 10
#define MAXS 512

typedef struct simplex {
    int nv;
    int v[5];
    float diam;
} simplex;

typedef struct bar {
    float b, d;
} bar;

typedef struct barcode {
    bar bars[4][MAXS];
    int n[4];
} barcode;

static int cmp_simplex(const void *a, const void *b)
{
    const simplex *x = a, *y = b;
    if (x->diam != y->diam) {
        return x->diam < y->diam ? -1 : 1;
    }
    return x->nv - y->nv;
}

static int cmp_bar(const void *a, const void *b)
{
    const bar *x = a, *y = b;
    if (x->b != y->b) {
        return x->b < y->b ? -1 : 1;
    }
    if (x->d != y->d) {
        return x->d < y->d ? -1 : 1;
    }
    return 0;
}

static uint32_t inv_mod(uint32_t a, uint32_t p)
{
    /* a^(p-2) mod p (Fermat) */
    uint64_t r = 1, b = a % p;
    for (uint32_t e = p - 2; e; e >>= 1) {
        if (e & 1) {
            r = r * b % p;
        }
        b = b * b % p;
    }
    return (uint32_t)r;
}

/* Persistence of the Rips filtration of D (n x n, INFINITY = no edge),
 * simplices of diameter <= t, dimensions 0..maxd. */
static void brute(float D[MAXN][MAXN], int n, int maxd, float t, uint32_t p, barcode *out)
{
    static simplex s[MAXS];
    int ns = 0;
    for (int mask = 1; mask < (1 << n); mask++) {
        int nv = __builtin_popcount((unsigned)mask);
        if (nv > maxd + 2) {
            continue;
        }
        simplex x = {.nv = 0, .diam = 0};
        for (int i = 0; i < n; i++) {
            if (mask & (1 << i)) {
                x.v[x.nv++] = i;
            }
        }
        for (int a = 0; a < nv; a++) {
            for (int b = 0; b < a; b++) {
                x.diam = D[x.v[a]][x.v[b]] > x.diam ? D[x.v[a]][x.v[b]] : x.diam;
            }
        }
        if (x.diam <= t) {
            ASSERT_TRUE(ns < MAXS);
            s[ns++] = x;
        }
    }
    qsort(s, (size_t)ns, sizeof s[0], cmp_simplex);
    /* boundary matrix, dense columns of coefficients */
    static uint32_t col[MAXS][MAXS];
    static int low_of[MAXS], pivot_col[MAXS];
    memset(col, 0, sizeof col);
    for (int j = 0; j < ns; j++) {
        if (s[j].nv < 2) {
            continue;
        }
        for (int r = 0; r < s[j].nv; r++) {
            /* face without vertex r, sign (-1)^r */
            for (int i = 0; i < j; i++) {
                if (s[i].nv != s[j].nv - 1) {
                    continue;
                }
                int ok = 1;
                for (int a = 0, b = 0; a < s[j].nv; a++) {
                    if (a == r) {
                        continue;
                    }
                    ok &= s[i].v[b++] == s[j].v[a];
                }
                if (ok) {
                    col[j][i] = (r & 1) ? p - 1 : 1;
                }
            }
        }
    }
    for (int i = 0; i < ns; i++) {
        pivot_col[i] = -1;
    }
    for (int j = 0; j < ns; j++) {
        low_of[j] = -1;
        for (;;) {
            int low = -1;
            for (int i = j - 1; i >= 0; i--) {
                if (col[j][i]) {
                    low = i;
                    break;
                }
            }
            if (low < 0 || pivot_col[low] < 0) {
                low_of[j] = low;
                if (low >= 0) {
                    pivot_col[low] = j;
                }
                break;
            }
            int k = pivot_col[low];
            uint32_t f = (uint32_t)((uint64_t)col[j][low] * inv_mod(col[k][low], p) % p);
            for (int i = 0; i <= low; i++) {
                col[j][i] = (uint32_t)((col[j][i] + (uint64_t)(p - f) * col[k][i]) % p);
            }
        }
    }
    memset(out->n, 0, sizeof out->n);
    for (int j = 0; j < ns; j++) {
        int d = s[j].nv - 1;
        if (low_of[j] >= 0) {
            int i = low_of[j];
            int di = s[i].nv - 1;
            if (s[j].diam > s[i].diam && di <= maxd) {
                out->bars[di][out->n[di]++] = (bar){s[i].diam, s[j].diam};
            }
        } else if (d <= maxd && pivot_col[j] < 0) {
            out->bars[d][out->n[d]++] = (bar){s[j].diam, INFINITY};
        }
    }
    for (int d = 0; d <= maxd; d++) {
        qsort(out->bars[d], (size_t)out->n[d], sizeof(bar), cmp_bar);
    }
}

static void compare(const aura_tda_result *r, const barcode *want, int maxd, int n,
                    const char *what, int trial)
{
    for (int d = 0; d <= maxd; d++) {
        size_t cnt = 0;
        bar got[MAXS];
        aura_tda_pair pr[MAXS];
        if (d <= aura_tda_result_max_dim(r)) {
            ASSERT_OK(aura_tda_result_pairs(r, d, pr, MAXS, &cnt));
        }
        for (size_t i = 0; i < cnt; i++) {
            got[i] = (bar){pr[i].birth, pr[i].death};
            /* the creating/killing simplices are real simplices */
            int64_t bv[6], dv[6];
            ASSERT_OK(aura_tda_result_simplices(r, d, i, bv, dv));
            for (int k = 0; k <= d; k++) {
                ASSERT_TRUE(bv[k] >= 0 && bv[k] < n && (k == 0 || bv[k - 1] < bv[k]));
            }
            for (int k = 0; k <= d + 1 && isfinite(pr[i].death); k++) {
                ASSERT_TRUE(dv[k] >= 0 && dv[k] < n && (k == 0 || dv[k - 1] < dv[k]));
            }
        }
        qsort(got, cnt, sizeof(bar), cmp_bar);
        int same = (int)cnt == want->n[d];
        for (size_t i = 0; same && i < cnt; i++) {
            same = got[i].b == want->bars[d][i].b && got[i].d == want->bars[d][i].d;
        }
        if (!same) {
            fprintf(stderr, "%s trial %d dim %d: engine %zu bars, brute force %d\n", what,
                    trial, d, cnt, want->n[d]);
            for (size_t i = 0; i < cnt; i++) {
                fprintf(stderr, "  got  [%g,%g)\n", got[i].b, got[i].d);
            }
            for (int i = 0; i < want->n[d]; i++) {
                fprintf(stderr, "  want [%g,%g)\n", want->bars[d][i].b, want->bars[d][i].d);
            }
            AURA_FAIL_("barcode mismatch");
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

/* Enclosing radius of a full matrix (the engine's default cut). */
static float enclosing(float D[MAXN][MAXN], int n)
{
    float r = INFINITY;
    for (int i = 0; i < n; i++) {
        float m = 0;
        for (int j = 0; j < n; j++) {
            m = D[i][j] > m ? D[i][j] : m;
        }
        r = m < r ? m : r;
    }
    return r;
}

AURA_TEST(tda_brute_force_point_clouds)
{
    aura_rng rng;
    aura_rng_init(&rng, 12345);
    for (int trial = 0; trial < 300; trial++) {
        int n = 3 + (int)aura_rng_below(&rng, 7), dim = 1 + (int)aura_rng_below(&rng, 3);
        int maxd = 1 + (int)aura_rng_below(&rng, 2);
        float pts[MAXN * 3];
        for (int i = 0; i < n * dim; i++) {
            pts[i] = (float)aura_rng_below(&rng, 4); /* a grid: many ties */
        }
        float D[MAXN][MAXN];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                D[i][j] = i == j ? 0 : euclid(pts + i * dim, pts + j * dim, dim);
            }
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = maxd;
        o.modulus = primes[aura_rng_below(&rng, 6)];
        int thr = aura_rng_below(&rng, 3) == 0;
        if (thr) {
            o.threshold = (float)aura_rng_below(&rng, 5) * 0.75f;
        }
        barcode want;
        brute(D, n, maxd, thr ? o.threshold : enclosing(D, n), o.modulus, &want);
        aura_tda_result *r = NULL;
        ASSERT_OK(aura_tda_compute_points(&o, pts, (size_t)n, (size_t)dim, &r));
        compare(r, &want, maxd, n, "points", trial);
        aura_tda_result_destroy(r);
    }
}

static void random_matrix(aura_rng *rng, float D[MAXN][MAXN], int n, int levels)
{
    for (int i = 0; i < n; i++) {
        D[i][i] = 0;
        for (int j = 0; j < i; j++) {
            D[i][j] = D[j][i] = (float)(1 + aura_rng_below(rng, (uint32_t)levels));
        }
    }
}

AURA_TEST(tda_brute_force_matrices)
{
    aura_rng rng;
    aura_rng_init(&rng, 777);
    for (int trial = 0; trial < 300; trial++) {
        int n = 3 + (int)aura_rng_below(&rng, 6);
        int maxd = 1 + (int)aura_rng_below(&rng, 2);
        float D[MAXN][MAXN];
        random_matrix(&rng, D, n, 2 + (int)aura_rng_below(&rng, 6));
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = maxd;
        o.modulus = primes[aura_rng_below(&rng, 6)];
        int path = (int)aura_rng_below(&rng, 3);
        int thr = aura_rng_below(&rng, 2) == 0;
        if (thr) {
            o.threshold = (float)(1 + aura_rng_below(&rng, 6));
        }
        float full[MAXN * MAXN], lower[MAXN * MAXN];
        aura_tda_edge e[MAXN * MAXN];
        size_t ne = 0, nl = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                full[i * n + j] = D[i][j];
                if (j < i) {
                    lower[nl++] = D[i][j];
                    /* random orientation and repeats */
                    e[ne++] = (aura_tda_edge){(uint32_t)(trial & 1 ? i : j),
                                              (uint32_t)(trial & 1 ? j : i), D[i][j]};
                    if (aura_rng_below(&rng, 8) == 0) {
                        e[ne++] = (aura_tda_edge){(uint32_t)j, (uint32_t)i, D[i][j]};
                    }
                }
            }
        }
        float t = thr ? o.threshold : enclosing(D, n);
        if (path == 2) {
            t = thr ? o.threshold : INFINITY; /* sparse input: no enclosing-radius cut */
        }
        barcode want;
        brute(D, n, maxd, t, o.modulus, &want);
        aura_tda_result *r = NULL;
        if (path == 0) {
            ASSERT_OK(aura_tda_compute_matrix(&o, full, (size_t)n, AURA_TDA_FULL, &r));
        } else if (path == 1) {
            ASSERT_OK(aura_tda_compute_matrix(&o, lower, (size_t)n, AURA_TDA_LOWER, &r));
        } else {
            ASSERT_OK(aura_tda_compute_sparse(&o, (size_t)n, e, ne, &r));
        }
        compare(r, &want, maxd, n, path == 0 ? "full" : path == 1 ? "lower" : "sparse", trial);
        aura_tda_result_destroy(r);
    }
}

/* Writes D in format f into buf; returns the length. */
static size_t render(aura_tda_format f, float D[MAXN][MAXN], int n, char *buf, size_t cap)
{
    size_t k = 0;
#define OUT(...) k += (size_t)snprintf(buf + k, cap - k, __VA_ARGS__)
    switch (f) {
    case AURA_TDA_FMT_DISTANCE:
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                OUT("%g%s", (double)D[i][j], j + 1 < n ? "," : "\n");
            }
        }
        break;
    case AURA_TDA_FMT_LOWER:
        for (int i = 1; i < n; i++) {
            for (int j = 0; j < i; j++) {
                OUT("%g%s", (double)D[i][j], j + 1 < i ? " " : "\n");
            }
        }
        break;
    case AURA_TDA_FMT_UPPER:
        for (int i = 0; i + 1 < n; i++) {
            for (int j = i + 1; j < n; j++) {
                OUT("%g ", (double)D[i][j]);
            }
            OUT("\n");
        }
        break;
    case AURA_TDA_FMT_SPARSE:
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                OUT("%d %d %g\n", i, j, (double)D[i][j]);
            }
        }
        break;
    case AURA_TDA_FMT_BINARY:
        for (int i = 1; i < n; i++) {
            for (int j = 0; j < i; j++) {
                memcpy(buf + k, &D[i][j], 4); /* little-endian host */
                k += 4;
            }
        }
        break;
    case AURA_TDA_FMT_DIPHA: {
        int64_t h[3] = {8067171840LL, 7, n};
        memcpy(buf, h, sizeof h);
        k = sizeof h;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double x = D[i][j];
                memcpy(buf + k, &x, 8);
                k += 8;
            }
        }
        break;
    }
    default:
        break;
    }
#undef OUT
    return k;
}

AURA_TEST(tda_brute_force_every_format)
{
    static const aura_tda_format fmts[] = {AURA_TDA_FMT_DISTANCE, AURA_TDA_FMT_LOWER,
                                           AURA_TDA_FMT_UPPER,    AURA_TDA_FMT_SPARSE,
                                           AURA_TDA_FMT_BINARY,   AURA_TDA_FMT_DIPHA};
    aura_rng rng;
    aura_rng_init(&rng, 4242);
    char buf[8192], err[256];
    for (int trial = 0; trial < 120; trial++) {
        aura_tda_format f = fmts[trial % 6];
        int n = 3 + (int)aura_rng_below(&rng, 6);
        float D[MAXN][MAXN];
        random_matrix(&rng, D, n, 4);
        size_t len = render(f, D, n, buf, sizeof buf);
        aura_tda_input *in = NULL;
        aura_status st = aura_tda_input_read(f, buf, len, "t", NULL, &in, err, sizeof err);
        if (st != AURA_OK) {
            AURA_FAIL_("format %d: %s", (int)f, err);
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 2;
        o.modulus = primes[trial % 6];
        barcode want;
        brute(D, n, 2, f == AURA_TDA_FMT_SPARSE ? INFINITY : enclosing(D, n), o.modulus, &want);
        aura_tda_result *r = NULL;
        ASSERT_OK(aura_tda_input_compute(&o, in, &r));
        compare(r, &want, 2, n, "format", trial);
        aura_tda_result_destroy(r);
        aura_tda_input_destroy(in);
    }
}
