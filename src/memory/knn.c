/* knn.c -- exact cosine k-nearest neighbours over shape signatures.
 *
 * Brute force over float32 reads 4*dim bytes a vector and is bound by
 * memory bandwidth.  This index also keeps each (unit) vector quantized to
 * int8 with its own scale, and searches in two passes:
 *   1. an int8 scan (dim bytes a vector) gives approx_i = s_i t <q_i, p>
 *      and a proven bound |exact_i - approx_i| <= err_i;
 *   2. with L = the k-th largest lower bound approx_i - err_i, only rows
 *      with approx_i + err_i >= L can be in the top k; they are re-ranked
 *      with the exact float dot product.
 * Bound (x = s q + e_x, |e_x| <= s/2 per component; y = t p + e_y):
 *   x.y - s t q.p = s q.e_y + e_x.y, so
 *   |err| <= s (t/2 ||q||_1 + ||y||_1 / 2),
 * plus an absolute slack (1e-5) for float rounding of the dot products of
 * unit vectors (dim * eps ~ 1e-5 at dim 4096).  The result therefore equals
 * a brute-force float scan, ties broken by insertion order.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "memory_int.h"

#define KNN_SLACK 1e-5f

struct aura_memory_knn {
    const aura_allocator *alloc;
    size_t dim;      /* floats a vector */
    size_t dpad;     /* int8 row stride: dim rounded up to 64 */
    size_t n, cap;
    float *vec;      /* n x dim, unit length */
    int8_t *q8;      /* n x dpad, quantized, zero padded */
    float *scale;    /* s_i */
    float *l1;       /* ||q_i||_1 (integer valued) */
    int32_t *rsum;   /* sum_j q_ij, to undo the +128 query offset (VNNI) */
    int64_t *ids;
    float *upper;    /* scratch: approx_i + err_i */
    uint32_t *cand;  /* scratch: candidate rows */
    int8_t *qq;      /* the query, quantized (dpad) */
    uint8_t *qu;     /* the query + 128 as unsigned bytes (VNNI) */
    float *qf;       /* the query, unit length (dim) */
};

aura_memory_knn_opts aura_memory_knn_opts_default(void)
{
    aura_memory_knn_opts o = {0};
    o.dim = AURA_MEMORY_DEFAULT_DIM;
    return o;
}

aura_status aura_memory_knn_create(const aura_memory_knn_opts *opts, aura_memory_knn **out)
{
    AURA_CHECK_ARG(out);
    aura_memory_knn_opts o = opts ? *opts : aura_memory_knn_opts_default();
    if (o.dim == 0 || o.dim > AURA_MEMORY_MAX_DIM) {
        return AURA_E_RANGE;
    }
    aura_memory_knn *k = aura__calloc(o.alloc, 1, sizeof *k);
    if (!k) {
        return AURA_E_NOMEM;
    }
    k->alloc = o.alloc;
    k->dim = o.dim;
    k->dpad = (o.dim + 63) & ~(size_t)63;
    k->qq = aura__alloc(o.alloc, k->dpad);
    k->qu = aura__alloc(o.alloc, k->dpad);
    k->qf = aura__alloc_array(o.alloc, o.dim, sizeof(float));
    if (!k->qq || !k->qu || !k->qf) {
        aura_memory_knn_destroy(k);
        return AURA_E_NOMEM;
    }
    *out = k;
    return AURA_OK;
}

void aura_memory_knn_destroy(aura_memory_knn *k)
{
    if (!k) {
        return;
    }
    const aura_allocator *a = k->alloc;
    aura__free(a, k->vec);
    aura__free(a, k->q8);
    aura__free(a, k->scale);
    aura__free(a, k->l1);
    aura__free(a, k->ids);
    aura__free(a, k->upper);
    aura__free(a, k->cand);
    aura__free(a, k->qq);
    aura__free(a, k->qu);
    aura__free(a, k->rsum);
    aura__free(a, k->qf);
    aura__free(a, k);
}

size_t aura_memory_knn_size(const aura_memory_knn *k)
{
    return k ? k->n : 0;
}

#define GROW(field, count, size)                                                  \
    do {                                                                          \
        void *p_ = aura__realloc_array(k->alloc, k->field, (count), (size));     \
        if (!p_) return AURA_E_NOMEM;                                             \
        k->field = p_;                                                            \
    } while (0)

/* Grows every array to `cap` rows; cap is updated only when all succeed
 * (an array that grew is merely larger than needed). */
static aura_status grow(aura_memory_knn *k, size_t cap)
{
    if (cap > UINT32_MAX || aura__mul_overflows(cap, k->dim * sizeof(float))) {
        return AURA_E_OVERFLOW;
    }
    GROW(vec, cap * k->dim, sizeof(float));
    GROW(q8, cap, k->dpad);
    GROW(scale, cap, sizeof(float));
    GROW(l1, cap, sizeof(float));
    GROW(rsum, cap, sizeof(int32_t));
    GROW(ids, cap, sizeof(int64_t));
    GROW(upper, cap, sizeof(float));
    GROW(cand, cap, sizeof(uint32_t));
    k->cap = cap;
    return AURA_OK;
}

/* Unit vector of v into out; AURA_E_NUMERIC on NaN/Inf, _INVAL if zero. */
static aura_status normalize(const float *v, size_t dim, float *out)
{
    double ss = 0;
    for (size_t j = 0; j < dim; j++) {
        if (!isfinite(v[j])) {
            return AURA_E_NUMERIC;
        }
        ss += (double)v[j] * v[j];
    }
    if (ss == 0 || !isfinite(ss)) {
        return ss == 0 ? AURA_E_INVAL : AURA_E_NUMERIC;
    }
    double inv = 1.0 / sqrt(ss);
    for (size_t j = 0; j < dim; j++) {
        out[j] = (float)(v[j] * inv);
    }
    return AURA_OK;
}

/* q = round(x / s) with s = max|x| / 127; returns s, *l1 = sum |q|. */
static float quantize(const float *x, size_t dim, size_t dpad, int8_t *q, float *l1)
{
    float m = 0;
    for (size_t j = 0; j < dim; j++) {
        m = fmaxf(m, fabsf(x[j]));
    }
    float s = m / 127.0f, inv = m > 0 ? 127.0f / m : 0;
    long sum = 0;
    for (size_t j = 0; j < dim; j++) {
        long v = lrintf(x[j] * inv);
        v = v > 127 ? 127 : v < -127 ? -127 : v;
        q[j] = (int8_t)v;
        sum += v < 0 ? -v : v;
    }
    memset(q + dim, 0, dpad - dim);
    *l1 = (float)sum;
    return s;
}

aura_status aura_memory_knn_add(aura_memory_knn *k, int64_t id, const float *v)
{
    AURA_CHECK_ARG(k && v);
    if (k->n == k->cap) {
        aura_status st = grow(k, k->cap ? k->cap * 2 : 256);
        if (st != AURA_OK) {
            return st;
        }
    }
    float *x = k->vec + k->n * k->dim;
    aura_status st = normalize(v, k->dim, x);
    if (st != AURA_OK) {
        return st;
    }
    int8_t *q = k->q8 + k->n * k->dpad;
    k->scale[k->n] = quantize(x, k->dim, k->dpad, q, &k->l1[k->n]);
    int32_t rs = 0;
    for (size_t j = 0; j < k->dim; j++) {
        rs += q[j];
    }
    k->rsum[k->n] = rs;
    k->ids[k->n] = id;
    k->n++;
    return AURA_OK;
}

typedef struct load_ctx {
    aura_memory_knn *k;
    aura_status st;
    size_t added;
} load_ctx;

static int load_one(void *ctx, const aura_memory_shape *sh)
{
    load_ctx *c = ctx;
    if (sh->dim != c->k->dim) {
        return 0;
    }
    c->st = aura_memory_knn_add(c->k, sh->id, sh->vec);
    c->added += c->st == AURA_OK;
    return c->st != AURA_OK;
}

aura_status aura_memory_knn_load(aura_memory_knn *k, aura_memory_store *s, size_t *n_added)
{
    AURA_CHECK_ARG(k && s);
    load_ctx c = {k, AURA_OK, 0};
    aura_status st = aura_memory_shape_scan(s, load_one, &c);
    if (st == AURA_OK) {
        st = c.st;
    }
    if (n_added) {
        *n_added = c.added;
    }
    return st;
}

/* ---- kernels ---- */

/* The exact score: a float dot product in a fixed order (8 lanes, then a
 * fixed reduction), the same for the re-rank and the brute-force scan. */
static float dot_f32(const float *a, const float *b, size_t d)
{
    float acc[8] = {0};
    size_t j = 0;
    for (; j + 8 <= d; j += 8) {
        for (int l = 0; l < 8; l++) {
            acc[l] += a[j + l] * b[j + l];
        }
    }
    for (; j < d; j++) {
        acc[j & 7] += a[j] * b[j];
    }
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* The query of a scan: int8, and +128 as unsigned bytes (VNNI). */
typedef struct qbytes {
    const int8_t *qq;
    const uint8_t *qu;
} qbytes;

static void scan_i8_scalar(const aura_memory_knn *k, qbytes qb, size_t lo, size_t hi,
                           int32_t *dots)
{
    for (size_t i = lo; i < hi; i++) {
        const int8_t *q = k->q8 + i * k->dpad;
        int32_t s = 0;
        for (size_t j = 0; j < k->dpad; j++) {
            s += (int32_t)q[j] * qb.qq[j];
        }
        dots[i - lo] = s;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define KNN_HAVE_AVX2 1

/* Four rows at a time: int8 -> int16, madd against the int16 query,
 * 32-bit sums reduced together at the end. */
__attribute__((target("avx2"))) static void scan_i8_avx2(const aura_memory_knn *k, qbytes qb,
                                                         size_t lo, size_t hi, int32_t *dots)
{
    const size_t dp = k->dpad;
    size_t i = lo;
    for (; i + 4 <= hi; i += 4) {
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        const int8_t *r = k->q8 + i * dp;
        for (size_t j = 0; j < dp; j += 16) {
            __m256i p = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(qb.qq + j)));
            __m256i x0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r + j)));
            __m256i x1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r + dp + j)));
            __m256i x2 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r + 2 * dp + j)));
            __m256i x3 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(r + 3 * dp + j)));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x0, p));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x1, p));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(x2, p));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(x3, p));
        }
        /* Horizontal sums of four vectors into one 4-lane vector. */
        __m256i h01 = _mm256_hadd_epi32(a0, a1), h23 = _mm256_hadd_epi32(a2, a3);
        __m256i h = _mm256_hadd_epi32(h01, h23);
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
        _mm_storeu_si128((__m128i *)(dots + (i - lo)), s);
    }
    if (i < hi) {
        scan_i8_scalar(k, qb, i, hi, dots + (i - lo));
    }
}

/* AVX-512 VNNI: vpdpbusd multiplies unsigned by signed bytes and adds
 * groups of four into 32-bit lanes without saturation.  The query is
 * offset to qu = qq + 128 (1..255), so sum qu*x = <qq, x> + 128 sum x. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
scan_i8_vnni(const aura_memory_knn *k, qbytes qb, size_t lo, size_t hi, int32_t *dots)
{
    const size_t dp = k->dpad;
    size_t i = lo;
    for (; i + 4 <= hi; i += 4) {
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        const int8_t *r = k->q8 + i * dp;
        for (size_t j = 0; j < dp; j += 64) {
            __m512i p = _mm512_loadu_si512((const void *)(qb.qu + j));
            a0 = _mm512_dpbusd_epi32(a0, p, _mm512_loadu_si512((const void *)(r + j)));
            a1 = _mm512_dpbusd_epi32(a1, p, _mm512_loadu_si512((const void *)(r + dp + j)));
            a2 = _mm512_dpbusd_epi32(a2, p, _mm512_loadu_si512((const void *)(r + 2 * dp + j)));
            a3 = _mm512_dpbusd_epi32(a3, p, _mm512_loadu_si512((const void *)(r + 3 * dp + j)));
        }
        dots[i - lo] = _mm512_reduce_add_epi32(a0) - 128 * k->rsum[i];
        dots[i - lo + 1] = _mm512_reduce_add_epi32(a1) - 128 * k->rsum[i + 1];
        dots[i - lo + 2] = _mm512_reduce_add_epi32(a2) - 128 * k->rsum[i + 2];
        dots[i - lo + 3] = _mm512_reduce_add_epi32(a3) - 128 * k->rsum[i + 3];
    }
    if (i < hi) {
        scan_i8_scalar(k, qb, i, hi, dots + (i - lo));
    }
}
#endif

typedef void (*scan_fn)(const aura_memory_knn *, qbytes, size_t, size_t, int32_t *);

static _Atomic int forced_kernel = AURA__KNN_KERNEL_AUTO;

int aura__memory_knn_set_kernel(int kernel)
{
#ifdef KNN_HAVE_AVX2
    int ok = kernel == AURA__KNN_KERNEL_AUTO || kernel == AURA__KNN_KERNEL_SCALAR ||
             (kernel == AURA__KNN_KERNEL_AVX2 && __builtin_cpu_supports("avx2")) ||
             (kernel == AURA__KNN_KERNEL_VNNI && __builtin_cpu_supports("avx512vnni") &&
              __builtin_cpu_supports("avx512bw"));
#else
    int ok = kernel == AURA__KNN_KERNEL_AUTO || kernel == AURA__KNN_KERNEL_SCALAR;
#endif
    if (ok) {
        forced_kernel = kernel;
    }
    return ok;
}

static scan_fn pick_scan(void)
{
    int kern = forced_kernel;
#ifdef KNN_HAVE_AVX2
    if (kern == AURA__KNN_KERNEL_VNNI ||
        (kern == AURA__KNN_KERNEL_AUTO && __builtin_cpu_supports("avx512vnni") &&
         __builtin_cpu_supports("avx512bw"))) {
        return scan_i8_vnni;
    }
    if (kern == AURA__KNN_KERNEL_AVX2 ||
        (kern == AURA__KNN_KERNEL_AUTO && __builtin_cpu_supports("avx2"))) {
        return scan_i8_avx2;
    }
#endif
    (void)kern;
    return scan_i8_scalar;
}

/* ---- selection: a size-k min-heap of hits in the caller's buffer ---- */

/* a is worse than b: lower score, or equal score and later row. */
static int worse(const aura_memory_hit *a, const aura_memory_hit *b)
{
    return a->score < b->score || (a->score == b->score && a->id > b->id);
}

static void sift_down(aura_memory_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && worse(&h[l], &h[m])) m = l;
        if (l + 1 < n && worse(&h[l + 1], &h[m])) m = l + 1;
        if (m == i) return;
        aura_memory_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void sift_up(aura_memory_hit *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!worse(&h[i], &h[p])) return;
        aura_memory_hit t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

/* Offers (score, row) to the heap of capacity k holding *n. */
static void heap_offer(aura_memory_hit *h, size_t k, size_t *n, float score, size_t row)
{
    aura_memory_hit x = {(int64_t)row, score};
    if (*n < k) {
        h[*n] = x;
        sift_up(h, (*n)++);
    } else if (worse(&h[0], &x)) {
        h[0] = x;
        sift_down(h, k, 0);
    }
}

/* Heap -> best first, rows -> ids. */
static void finish(const aura_memory_knn *kn, aura_memory_hit *h, size_t n)
{
    for (size_t m = n; m > 1; m--) {
        aura_memory_hit t = h[0];
        h[0] = h[m - 1];
        h[m - 1] = t;
        sift_down(h, m - 1, 0);
    }
    for (size_t i = 0; i < n; i++) {
        h[i].id = kn->ids[h[i].id];
    }
}

static aura_status prepare_query(aura_memory_knn *k, const float *query, size_t kk,
                                 aura_memory_hit *out, size_t *n_out)
{
    AURA_CHECK_ARG(k && query && n_out && (out || kk == 0));
    return normalize(query, k->dim, k->qf);
}

aura_status aura_memory_knn_search_brute(aura_memory_knn *k, const float *query, size_t kk,
                                         aura_memory_hit *out, size_t *n_out)
{
    aura_status st = prepare_query(k, query, kk, out, n_out);
    if (st != AURA_OK) {
        return st;
    }
    size_t n = 0;
    for (size_t i = 0; i < k->n && kk > 0; i++) {
        heap_offer(out, kk, &n, dot_f32(k->vec + i * k->dim, k->qf, k->dim), i);
    }
    finish(k, out, n);
    *n_out = n;
    return AURA_OK;
}

#define KNN_BLOCK 256

/* One query's state during a search. */
typedef struct qstate {
    float *qf;            /* unit query (dim) */
    int8_t *qq;           /* quantized (dpad) */
    uint8_t *qu;          /* qq + 128 (dpad) */
    float t, ha, hb;      /* query scale; error-bound coefficients */
    float *upper;         /* n upper bounds */
    aura_memory_hit *out; /* k hits; a min-heap of lower bounds in pass 1 */
    size_t nh;
} qstate;

/* Normalizes and quantizes the query; AURA_E_NUMERIC/_INVAL as for add. */
static aura_status query_init(const aura_memory_knn *k, const float *query, qstate *q)
{
    aura_status st = normalize(query, k->dim, q->qf);
    if (st != AURA_OK) {
        return st;
    }
    float ql1 = 0, y1 = 0;
    q->t = quantize(q->qf, k->dim, k->dpad, q->qq, &ql1);
    for (size_t j = 0; j < k->dim; j++) {
        y1 += fabsf(q->qf[j]);
    }
    for (size_t j = 0; j < k->dpad; j++) {
        q->qu[j] = (uint8_t)(q->qq[j] + 128);
    }
    q->ha = 0.5f * q->t * (1 + 1e-5f);
    q->hb = 0.5f * y1 * (1 + 1e-5f);
    q->nh = 0;
    return AURA_OK;
}

/* Pass 1 over rows [lo, hi): approximate scores, bounds, and the heap of
 * the k best lower bounds. */
static void pass1_block(const aura_memory_knn *k, scan_fn scan, qstate *q, size_t kk,
                        size_t lo, size_t hi)
{
    int32_t dots[KNN_BLOCK];
    float lower[KNN_BLOCK];
    scan(k, (qbytes){q->qq, q->qu}, lo, hi, dots);
    const float t = q->t, ha = q->ha, hb = q->hb;
    /* Branch-free, so the compiler vectorizes it. */
    for (size_t i = lo; i < hi; i++) {
        float s = k->scale[i];
        float approx = s * t * (float)dots[i - lo];
        float err = s * (ha * k->l1[i] + hb) + KNN_SLACK + fabsf(approx) * 1e-6f;
        q->upper[i] = approx + err;
        lower[i - lo] = approx - err;
    }
    for (size_t i = lo; i < hi; i++) {
        if (q->nh < kk || lower[i - lo] > q->out[0].score) {
            heap_offer(q->out, kk, &q->nh, lower[i - lo], i);
        }
    }
}

/* Pass 2: rows whose upper bound reaches the k-th best lower bound L,
 * re-ranked exactly into q->out; returns how many hits. */
static size_t pass2(aura_memory_knn *k, qstate *q, size_t kk)
{
    float L = q->out[0].score;  /* k-th largest lower bound (smallest if n < k) */
    size_t nc = 0;
    for (size_t i = 0; i < k->n; i++) {
        if (q->nh < kk || q->upper[i] >= L) {
            k->cand[nc++] = (uint32_t)i;
        }
    }
    size_t n = 0;
    for (size_t c = 0; c < nc; c++) {
        size_t i = k->cand[c];
        heap_offer(q->out, kk, &n, dot_f32(k->vec + i * k->dim, q->qf, k->dim), i);
    }
    finish(k, q->out, n);
    return n;
}

aura_status aura_memory_knn_search(aura_memory_knn *k, const float *query, size_t kk,
                                   aura_memory_hit *out, size_t *n_out)
{
    AURA_CHECK_ARG(k && query && n_out && (out || kk == 0));
    qstate q = {.qf = k->qf, .qq = k->qq, .qu = k->qu, .upper = k->upper, .out = out};
    aura_status st = query_init(k, query, &q);
    if (st != AURA_OK) {
        return st;
    }
    if (kk == 0 || k->n == 0) {
        *n_out = 0;
        return AURA_OK;
    }
    scan_fn scan = pick_scan();
    for (size_t lo = 0; lo < k->n; lo += KNN_BLOCK) {
        pass1_block(k, scan, &q, kk, lo, lo + KNN_BLOCK < k->n ? lo + KNN_BLOCK : k->n);
    }
    *n_out = pass2(k, &q, kk);
    return AURA_OK;
}

aura_status aura_memory_knn_search_batch(aura_memory_knn *k, const float *queries, size_t nq,
                                         size_t kk, aura_memory_hit *out, size_t *n_out)
{
    AURA_CHECK_ARG(k && (queries || nq == 0) && (n_out || nq == 0) && (out || kk == 0 || nq == 0));
    if (nq == 0) {
        return AURA_OK;
    }
    if (aura__mul_overflows(nq, k->n > 0 ? k->n : 1) || aura__mul_overflows(nq, kk)) {
        return AURA_E_OVERFLOW;
    }
    const aura_allocator *a = k->alloc;
    qstate *qs = aura__calloc(a, nq, sizeof *qs);
    float *qf = aura__alloc_array(a, nq * k->dim, sizeof(float));
    int8_t *qq = aura__alloc_array(a, nq, k->dpad);
    uint8_t *qu = aura__alloc_array(a, nq, k->dpad);
    float *up = aura__alloc_array(a, nq * (k->n > 0 ? k->n : 1), sizeof(float));
    aura_status st = qs && qf && qq && qu && up ? AURA_OK : AURA_E_NOMEM;
    for (size_t i = 0; st == AURA_OK && i < nq; i++) {
        qs[i] = (qstate){.qf = qf + i * k->dim, .qq = qq + i * k->dpad, .qu = qu + i * k->dpad,
                         .upper = up + i * k->n, .out = out + i * kk};
        st = query_init(k, queries + i * k->dim, &qs[i]);
    }
    if (st == AURA_OK && kk > 0 && k->n > 0) {
        /* Each block of rows is read from memory once and scanned for every
         * query while it sits in cache. */
        scan_fn scan = pick_scan();
        for (size_t lo = 0; lo < k->n; lo += KNN_BLOCK) {
            size_t hi = lo + KNN_BLOCK < k->n ? lo + KNN_BLOCK : k->n;
            for (size_t i = 0; i < nq; i++) {
                pass1_block(k, scan, &qs[i], kk, lo, hi);
            }
        }
    }
    for (size_t i = 0; st == AURA_OK && i < nq; i++) {
        n_out[i] = kk > 0 && k->n > 0 ? pass2(k, &qs[i], kk) : 0;
    }
    aura__free(a, qs);
    aura__free(a, qf);
    aura__free(a, qq);
    aura__free(a, qu);
    aura__free(a, up);
    return st;
}
