/* kernels.c -- the dense kernels of the lnn forward pass.  Weights are
 * packed transposed (in, out) so that the inner loop runs over outputs
 * and vectorises without reassociating any sum: every output is
 * accumulated in input order.  On x86-64 GCC builds AVX-512, AVX2 and
 * baseline versions of each kernel (the matrix kernel with fused
 * multiply-adds where available) and picks one at run time from the CPU,
 * so one binary runs everywhere.
 * SPDX-License-Identifier: MIT */

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(AURA_NO_TARGET_CLONES)
#include <immintrin.h>
#endif

#include "lnn/lnn_int.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(AURA_NO_TARGET_CLONES)
#define LNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LNN_CLONES
#endif

/* Widest instruction set the hand-written kernels may use (tests lower
 * it to check every path on one machine; see aura__lnn_set_isa_cap). */
static int isa_cap = AURA__LNN_ISA_AVX512;

void aura__lnn_set_isa_cap(int cap)
{
    isa_cap = cap;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(AURA_NO_TARGET_CLONES)
static inline int isa_avx512(void)
{
    return isa_cap >= AURA__LNN_ISA_AVX512 && __builtin_cpu_supports("avx512f");
}

static inline int isa_avx2(void)
{
    return isa_cap >= AURA__LNN_ISA_AVX2 && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
}
#endif

#define OB 32 /* outputs kept in registers per pass */

/* Y (S, n) = [Y +] Z (S, K; row stride ldz) * WT (K, n) [+ b].  Outputs
 * are processed OB at a time with the accumulators in registers; each
 * output still sums its terms in input order (bias or old Y first).
 * MADD(a, w, z) is a + w z: a fused multiply-add where the instruction
 * set has one, else a multiply and an add. */
#define GEMM_BODY(MADD)                                                              \
    int o0 = 0;                                                                      \
    for (; o0 + OB <= n; o0 += OB) {                                                 \
        for (int s = 0; s < S; s++) {                                                \
            float a[OB];                                                             \
            float *y = Y + (size_t)s * n + o0;                                       \
            const float *z = Z + (size_t)s * ldz;                                    \
            for (int k = 0; k < OB; k++) {                                           \
                a[k] = acc ? y[k] : b ? b[o0 + k] : 0.0f;                            \
            }                                                                        \
            for (int i = 0; i < K; i++) {                                            \
                const float zi = z[i];                                               \
                const float *row = WT + (size_t)i * n + o0;                          \
                for (int k = 0; k < OB; k++) {                                       \
                    a[k] = MADD(a[k], row[k], zi);                                   \
                }                                                                    \
            }                                                                        \
            for (int k = 0; k < OB; k++) {                                           \
                y[k] = a[k];                                                         \
            }                                                                        \
        }                                                                            \
    }                                                                                \
    if (o0 == n) {                                                                   \
        return;                                                                      \
    }                                                                                \
    int w = n - o0;                                                                  \
    for (int s = 0; s < S && !acc; s++) {                                            \
        float *y = Y + (size_t)s * n + o0;                                           \
        for (int k = 0; k < w; k++) {                                                \
            y[k] = b ? b[o0 + k] : 0.0f;                                             \
        }                                                                            \
    }                                                                                \
    for (int i = 0; i < K; i++) {                                                    \
        const float *row = WT + (size_t)i * n + o0;                                  \
        for (int s = 0; s < S; s++) {                                                \
            const float zi = Z[(size_t)s * ldz + i];                                 \
            float *y = Y + (size_t)s * n + o0;                                       \
            for (int k = 0; k < w; k++) {                                            \
                y[k] = MADD(y[k], row[k], zi);                                       \
            }                                                                        \
        }                                                                            \
    }

#define MADD_PLAIN(a, w, z) ((a) + (w) * (z))
#define MADD_FMA(a, w, z) __builtin_fmaf((w), (z), (a))
#define GEMM_ARGS                                                                     \
    const float *restrict WT, const float *restrict b, const float *restrict Z, int S, \
        int K, int ldz, int n, float *restrict Y, int acc

static void gemm_plain(GEMM_ARGS)
{
    GEMM_BODY(MADD_PLAIN)
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(AURA_NO_TARGET_CLONES)
__attribute__((target("avx2,fma"))) static void gemm_avx2(GEMM_ARGS)
{
    GEMM_BODY(MADD_FMA)
}

/* AVX-512 GEMM with register tiles: SB samples x NV vectors of 16
 * outputs accumulate in SB * NV registers (enough independent chains to
 * hide the fused multiply-add latency, each weight vector loaded once per
 * SB samples).  Every output still sums bias/old Y, then its terms in
 * input order, with the same fused multiply-adds as gemm_avx512: results
 * are identical.  `last` masks the final vector of a column tile. */
#define T512 __attribute__((target("avx512f,fma"), always_inline)) static inline
T512 void tile512(const int SB, const int NV, __mmask16 last, const float *restrict WT,
                  const float *restrict b, const float *restrict Z, int K, int ldz, int n,
                  float *restrict Y, int acc)
{
    __m512 a[4][8];
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) {
        __mmask16 mk = v == NV - 1 ? last : (__mmask16)0xffff;
#pragma GCC unroll 4
        for (int s = 0; s < SB; s++) {
            a[s][v] = acc  ? _mm512_maskz_loadu_ps(mk, Y + (size_t)s * n + 16 * v)
                      : b ? _mm512_maskz_loadu_ps(mk, b + 16 * v)
                          : _mm512_setzero_ps();
        }
    }
    for (int i = 0; i < K; i++) {
        const float *row = WT + (size_t)i * n;
        __m512 w[8];
#pragma GCC unroll 8
        for (int v = 0; v < NV; v++) {
            w[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, row + 16 * v)
                               : _mm512_loadu_ps(row + 16 * v);
        }
#pragma GCC unroll 4
        for (int s = 0; s < SB; s++) {
            __m512 z = _mm512_set1_ps(Z[(size_t)s * ldz + i]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; v++) {
                a[s][v] = _mm512_fmadd_ps(w[v], z, a[s][v]);
            }
        }
    }
#pragma GCC unroll 8
    for (int v = 0; v < NV; v++) {
        __mmask16 mk = v == NV - 1 ? last : (__mmask16)0xffff;
#pragma GCC unroll 4
        for (int s = 0; s < SB; s++) {
            _mm512_mask_storeu_ps(Y + (size_t)s * n + 16 * v, mk, a[s][v]);
        }
    }
}

#define TILE_CASE(SB_, NV_)                                                          \
    case NV_:                                                                        \
        tile512(SB_, NV_, last, WT + o0, b ? b + o0 : NULL, Z + (size_t)s * ldz, K, ldz, \
                n, Y + (size_t)s * n + o0, acc);                                     \
        break

__attribute__((target("avx512f,fma"))) static void gemm_avx512_tiled(GEMM_ARGS)
{
    for (int s = 0; s < S;) {
        /* 4 samples x up to 64 outputs, or 1 sample x up to 128 outputs */
        int sb = S - s >= 4 ? 4 : 1, span = sb == 4 ? 64 : 128;
        for (int o0 = 0; o0 < n; o0 += span) {
            int rem = n - o0 < span ? n - o0 : span, nv = (rem + 15) / 16;
            int tail = rem - 16 * (nv - 1);
            __mmask16 last = (__mmask16)(tail == 16 ? 0xffff : (1u << tail) - 1u);
            if (sb == 4) {
                switch (nv) {
                    TILE_CASE(4, 1);
                    TILE_CASE(4, 2);
                    TILE_CASE(4, 3);
                    TILE_CASE(4, 4);
                }
            } else {
                switch (nv) {
                    TILE_CASE(1, 1);
                    TILE_CASE(1, 2);
                    TILE_CASE(1, 3);
                    TILE_CASE(1, 4);
                    TILE_CASE(1, 5);
                    TILE_CASE(1, 6);
                    TILE_CASE(1, 7);
                    TILE_CASE(1, 8);
                }
            }
        }
        s += sb;
    }
}

void aura__lnn_gemm_t(GEMM_ARGS)
{
    if (isa_avx512()) {
        gemm_avx512_tiled(WT, b, Z, S, K, ldz, n, Y, acc);
    } else if (isa_avx2()) {
        gemm_avx2(WT, b, Z, S, K, ldz, n, Y, acc);
    } else {
        gemm_plain(WT, b, Z, S, K, ldz, n, Y, acc);
    }
}
#else
void aura__lnn_gemm_t(GEMM_ARGS)
{
    gemm_plain(WT, b, Z, S, K, ldz, n, Y, acc);
}
#endif

/* LTC synapses of one unfold: for each source i and target j,
 * a = wm_ij * sigmoid(sigma_ij (v_i - mu_ij)); num_j += a erev_ij;
 * den_j += a (num and den accumulate).  Targets are taken 16 at a time
 * with their sums in registers. */
#define SYN(k_, j_)                                                                  \
    do {                                                                             \
        size_t q_ = r + (j_);                                                        \
        float a_ = wm[q_] * aura__lnn_sigmoidf(sigma[q_] * (vi - mu[q_]));           \
        an[k_] += a_ * erev[q_];                                                     \
        ad[k_] += a_;                                                                \
    } while (0)

LNN_CLONES
static void ltc_syn_generic(const float *restrict wm, const float *restrict sigma,
                       const float *restrict mu, const float *restrict erev,
                       const float *restrict v, int n_src, int N, float *restrict num,
                       float *restrict den)
{
    int j0 = 0;
    for (; j0 + 16 <= N; j0 += 16) {
        float an[16], ad[16];
        for (int k = 0; k < 16; k++) {
            an[k] = num[j0 + k];
            ad[k] = den[j0 + k];
        }
        for (int i = 0; i < n_src; i++) {
            const float vi = v[i];
            const size_t r = (size_t)i * N + j0;
            for (int k = 0; k < 16; k++) {
                SYN(k, k);
            }
        }
        for (int k = 0; k < 16; k++) {
            num[j0 + k] = an[k];
            den[j0 + k] = ad[k];
        }
    }
    for (int i = 0; i < n_src && j0 < N; i++) {
        const float vi = v[i];
        const size_t r = (size_t)i * N;
        float *an = num, *ad = den;
        for (int j = j0; j < N; j++) {
            SYN(j, j);
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(AURA_NO_TARGET_CLONES)
/* exp(x) for 16 lanes, x in [-87, 87]: aura__lnn_exp_clamped's range
 * reduction and polynomial with fused multiply-adds, scalef for 2^k. */
__attribute__((target("avx512f,fma"), always_inline)) static inline __m512
exp512(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 fx = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(0.5f));
    __m512 n = _mm512_roundscale_ps(fx, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, one));
    return _mm512_scalef_ps(p, n);
}

/* 1 / d by a 14-bit reciprocal and one Newton step (about 1 ulp). */
__attribute__((target("avx512f,fma"), always_inline)) static inline __m512
recip512(__m512 d)
{
    __m512 rc = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(rc, _mm512_fnmadd_ps(d, rc, _mm512_set1_ps(1.0f)), rc);
}

/* sigmoid(z) for 16 lanes: 1 / (1 + exp(-z)), z clamped to [-87, 87]. */
__attribute__((target("avx512f,fma"), always_inline)) static inline __m512
sigmoid512(__m512 z)
{
    const __m512 lim = _mm512_set1_ps(87.0f);
    __m512 x = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), z),
                                           _mm512_sub_ps(_mm512_setzero_ps(), lim)),
                             lim);
    return recip512(_mm512_add_ps(_mm512_set1_ps(1.0f), exp512(x)));
}

/* tanh(x) for 16 lanes, as aura__lnn_tanhf: odd polynomial below 1/16,
 * else sign(x) (1 - e) / (1 + e), e = exp(-2 min(|x|, 40)). */
__attribute__((target("avx512f,fma"), always_inline)) static inline __m512
tanh512(__m512 x)
{
    const __m512i absm = _mm512_set1_epi32(0x7fffffff);
    __m512i xb = _mm512_castps_si512(x);
    __m512 a = _mm512_castsi512_ps(_mm512_and_si512(xb, absm));
    __mmask16 small = _mm512_cmp_ps_mask(a, _mm512_set1_ps(0.0625f), _CMP_LT_OQ);
    __m512 e = exp512(_mm512_mul_ps(_mm512_set1_ps(-2.0f),
                                    _mm512_min_ps(a, _mm512_set1_ps(40.0f))));
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 q = _mm512_mul_ps(_mm512_sub_ps(one, e), recip512(_mm512_add_ps(one, e)));
    q = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(q), xb, absm, 0xf4));
    __m512 x2 = _mm512_mul_ps(x, x);
    __m512 p = _mm512_fmadd_ps(x2, _mm512_set1_ps(-0.053968254f), _mm512_set1_ps(0.133333333f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-0.333333333f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(x, x2), p, x);
    return _mm512_mask_blend_ps(small, q, p);
}

__attribute__((target("avx512f,fma"))) static void tanh_array_avx512(float *restrict v,
                                                                     size_t n, int lecun)
{
    const __m512 s_in = _mm512_set1_ps(lecun ? 0.666f : 1.0f);
    const __m512 s_out = _mm512_set1_ps(lecun ? 1.7159f : 1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 mk = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1u);
        __m512 x = _mm512_maskz_loadu_ps(mk, v + i);
        _mm512_mask_storeu_ps(v + i, mk, _mm512_mul_ps(s_out, tanh512(_mm512_mul_ps(s_in, x))));
    }
}

__attribute__((target("avx512f,fma"))) static void
cfc_gate_pre_avx512(const float *restrict F, int n, int gated, float *restrict out)
{
    const float *f1 = F, *f2 = F + n, *gp = f2 + n;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (int j = 0; j < n; j += 16) {
        __mmask16 mk = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1u);
        __m512 a = tanh512(_mm512_maskz_loadu_ps(mk, f1 + j));
        __m512 b = tanh512(_mm512_maskz_loadu_ps(mk, f2 + j));
        __m512 g = sigmoid512(_mm512_maskz_loadu_ps(mk, gp + j));
        __m512 o = gated ? _mm512_fmadd_ps(g, b, _mm512_mul_ps(a, _mm512_sub_ps(one, g)))
                         : _mm512_fmadd_ps(g, b, a);
        _mm512_mask_storeu_ps(out + j, mk, o);
    }
}

__attribute__((target("avx512f,fma"))) static void
cfc_gate_avx512(const float *restrict F, int n, float dt, int gated, float *restrict out)
{
    const float *f1 = F, *f2 = F + n, *ta = f2 + n, *tb = ta + n;
    const __m512 vdt = _mm512_set1_ps(dt), one = _mm512_set1_ps(1.0f);
    for (int j = 0; j < n; j += 16) {
        __mmask16 mk = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1u);
        __m512 a = tanh512(_mm512_maskz_loadu_ps(mk, f1 + j));
        __m512 b = tanh512(_mm512_maskz_loadu_ps(mk, f2 + j));
        __m512 g = sigmoid512(_mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, ta + j), vdt,
                                              _mm512_maskz_loadu_ps(mk, tb + j)));
        __m512 o = gated ? _mm512_fmadd_ps(g, b, _mm512_mul_ps(a, _mm512_sub_ps(one, g)))
                         : _mm512_fmadd_ps(g, b, a);
        _mm512_mask_storeu_ps(out + j, mk, o);
    }
}

/* LTC synapses of SB samples (shared weights, SB independent chains),
 * N a multiple of 16; each target's sums in source order. */
__attribute__((target("avx512f,fma"), always_inline)) static inline void
ltc_syn_tile(const int SB, const float *restrict wm, const float *restrict sigma,
             const float *restrict mu, const float *restrict erev, const float *const *v,
             int n_src, int N, float *const *num, float *const *den)
{
    for (int j0 = 0; j0 < N; j0 += 16) {
        __m512 an[4], ad[4];
#pragma GCC unroll 4
        for (int s = 0; s < SB; s++) {
            an[s] = _mm512_loadu_ps(num[s] + j0);
            ad[s] = _mm512_loadu_ps(den[s] + j0);
        }
        for (int i = 0; i < n_src; i++) {
            const size_t q = (size_t)i * N + j0;
            __m512 sg = _mm512_loadu_ps(sigma + q), m = _mm512_loadu_ps(mu + q);
            __m512 w = _mm512_loadu_ps(wm + q), e = _mm512_loadu_ps(erev + q);
#pragma GCC unroll 4
            for (int s = 0; s < SB; s++) {
                __m512 z = _mm512_mul_ps(sg, _mm512_sub_ps(_mm512_set1_ps(v[s][i]), m));
                __m512 a = _mm512_mul_ps(w, sigmoid512(z));
                an[s] = _mm512_fmadd_ps(a, e, an[s]);
                ad[s] = _mm512_add_ps(ad[s], a);
            }
        }
#pragma GCC unroll 4
        for (int s = 0; s < SB; s++) {
            _mm512_storeu_ps(num[s] + j0, an[s]);
            _mm512_storeu_ps(den[s] + j0, ad[s]);
        }
    }
}

__attribute__((target("avx512f,fma"))) static void
ltc_syn_avx512(const float *restrict wm, const float *restrict sigma, const float *restrict mu,
               const float *restrict erev, const float *const *v, int S, int n_src, int N,
               float *const *num, float *const *den)
{
    int s = 0;
    for (; s + 2 <= S; s += 2) {
        ltc_syn_tile(2, wm, sigma, mu, erev, v + s, n_src, N, num + s, den + s);
    }
    if (s < S) {
        ltc_syn_tile(1, wm, sigma, mu, erev, v + s, n_src, N, num + s, den + s);
    }
}

void aura__lnn_ltc_syn(const float *restrict wm, const float *restrict sigma,
                       const float *restrict mu, const float *restrict erev,
                       const float *const *v, int S, int n_src, int N, float *const *num,
                       float *const *den)
{
    if (N % 16 == 0 && isa_avx512()) {
        ltc_syn_avx512(wm, sigma, mu, erev, v, S, n_src, N, num, den);
    } else {
        for (int s = 0; s < S; s++) {
            ltc_syn_generic(wm, sigma, mu, erev, v[s], n_src, N, num[s], den[s]);
        }
    }
}
#else
void aura__lnn_ltc_syn(const float *restrict wm, const float *restrict sigma,
                       const float *restrict mu, const float *restrict erev,
                       const float *const *v, int S, int n_src, int N, float *const *num,
                       float *const *den)
{
    for (int s = 0; s < S; s++) {
        ltc_syn_generic(wm, sigma, mu, erev, v[s], n_src, N, num[s], den[s]);
    }
}
#endif

/* One LTC unfold's update: v_j <- (cm_j v_j + gl_j vleak_j + (num_j +
 * num_s_j)) / (cm_j + gl_j + (den_j + den_s_j) + eps). */
LNN_CLONES
void aura__lnn_ltc_update(const float *restrict cm, const float *restrict gl,
                          const float *restrict vleak, const float *restrict num,
                          const float *restrict num_s, const float *restrict den,
                          const float *restrict den_s, float eps, int N, float *restrict v)
{
    for (int j = 0; j < N; j++) {
        float nu = cm[j] * v[j] + gl[j] * vleak[j] + (num[j] + num_s[j]);
        float de = cm[j] + gl[j] + (den[j] + den_s[j]);
        v[j] = nu / (de + eps);
    }
}

/* ---- double-precision helpers of the training path (grad.c) ---- */

/* sum_i a_i b_i [m_i] with 8 partial sums (vectorises without
 * reassociation flags; the order differs from a plain loop only by
 * rounding, which double precision makes immaterial). */
LNN_CLONES
double aura__lnn_dot_d(const double *restrict a, const double *restrict m,
                       const double *restrict b, int k)
{
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    if (m) {
        for (; i + 8 <= k; i += 8) {
            for (int j = 0; j < 8; j++) {
                s[j] += a[i + j] * m[i + j] * b[i + j];
            }
        }
        for (; i < k; i++) {
            s[0] += a[i] * m[i] * b[i];
        }
    } else {
        for (; i + 8 <= k; i += 8) {
            for (int j = 0; j < 8; j++) {
                s[j] += a[i + j] * b[i + j];
            }
        }
        for (; i < k; i++) {
            s[0] += a[i] * b[i];
        }
    }
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

/* dW (n, k) += sum_c dy_c z_c^T [* M], the terms of each element in c
 * order; two rows and 16 columns at a time in registers. */
LNN_CLONES
static void outer_acc_generic(double *restrict dW, const double *restrict M, int n, int k, int cnt,
                           const double *const *dy, const double *const *z)
{
    int o = 0;
    for (; o + 2 <= n; o += 2) {
        double *r0 = dW + (size_t)o * k, *r1 = r0 + k;
        const double *m0 = M ? M + (size_t)o * k : NULL, *m1 = M ? m0 + k : NULL;
        int i0 = 0;
        for (; i0 + 16 <= k; i0 += 16) {
            double a0[16], a1[16];
            for (int j = 0; j < 16; j++) {
                a0[j] = 0.0;
                a1[j] = 0.0;
            }
            for (int c = 0; c < cnt; c++) {
                const double g0 = dy[c][o], g1 = dy[c][o + 1], *zz = z[c] + i0;
                for (int j = 0; j < 16; j++) {
                    a0[j] += g0 * zz[j];
                    a1[j] += g1 * zz[j];
                }
            }
            if (M) {
                for (int j = 0; j < 16; j++) {
                    r0[i0 + j] += a0[j] * m0[i0 + j];
                    r1[i0 + j] += a1[j] * m1[i0 + j];
                }
            } else {
                for (int j = 0; j < 16; j++) {
                    r0[i0 + j] += a0[j];
                    r1[i0 + j] += a1[j];
                }
            }
        }
        for (; i0 < k; i0++) {
            double a0 = 0.0, a1 = 0.0;
            for (int c = 0; c < cnt; c++) {
                a0 += dy[c][o] * z[c][i0];
                a1 += dy[c][o + 1] * z[c][i0];
            }
            r0[i0] += M ? a0 * m0[i0] : a0;
            r1[i0] += M ? a1 * m1[i0] : a1;
        }
    }
    for (; o < n; o++) {
        double *r0 = dW + (size_t)o * k;
        const double *m0 = M ? M + (size_t)o * k : NULL;
        for (int i = 0; i < k; i++) {
            double a0 = 0.0;
            for (int c = 0; c < cnt; c++) {
                a0 += dy[c][o] * z[c][i];
            }
            r0[i] += M ? a0 * m0[i] : a0;
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(AURA_NO_TARGET_CLONES)
/* R rows x 16 columns (m0, m1 mask the two 8-lane halves). */
__attribute__((target("avx512f,fma"), always_inline)) static inline void
outer_tile(const int R, __mmask8 m0, __mmask8 m1, double *restrict dW, const double *restrict M,
           int o, int i0, int k, int cnt, const double *const *dy, const double *const *z)
{
    __m512d a[4][2];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        a[r][0] = _mm512_setzero_pd();
        a[r][1] = _mm512_setzero_pd();
    }
    for (int c = 0; c < cnt; c++) {
        const double *zz = z[c] + i0;
        __m512d z0 = _mm512_maskz_loadu_pd(m0, zz), z1 = _mm512_maskz_loadu_pd(m1, zz + 8);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m512d g = _mm512_set1_pd(dy[c][o + r]);
            a[r][0] = _mm512_fmadd_pd(g, z0, a[r][0]);
            a[r][1] = _mm512_fmadd_pd(g, z1, a[r][1]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        double *row = dW + (size_t)(o + r) * k + i0;
        __m512d d0 = a[r][0], d1 = a[r][1];
        if (M) {
            const double *mr = M + (size_t)(o + r) * k + i0;
            d0 = _mm512_mul_pd(d0, _mm512_maskz_loadu_pd(m0, mr));
            d1 = _mm512_mul_pd(d1, _mm512_maskz_loadu_pd(m1, mr + 8));
        }
        _mm512_mask_storeu_pd(row, m0, _mm512_add_pd(_mm512_maskz_loadu_pd(m0, row), d0));
        _mm512_mask_storeu_pd(row + 8, m1,
                              _mm512_add_pd(_mm512_maskz_loadu_pd(m1, row + 8), d1));
    }
}

__attribute__((target("avx512f,fma"))) static void
outer_acc_avx512(double *restrict dW, const double *restrict M, int n, int k, int cnt,
                 const double *const *dy, const double *const *z)
{
    for (int i0 = 0; i0 < k; i0 += 16) {
        int w = k - i0 < 16 ? k - i0 : 16;
        __mmask8 m0 = (__mmask8)(w >= 8 ? 0xff : (1u << w) - 1u);
        __mmask8 m1 = (__mmask8)(w >= 16 ? 0xff : w > 8 ? (1u << (w - 8)) - 1u : 0u);
        int o = 0;
        for (; o + 4 <= n; o += 4) {
            outer_tile(4, m0, m1, dW, M, o, i0, k, cnt, dy, z);
        }
        for (; o < n; o++) {
            outer_tile(1, m0, m1, dW, M, o, i0, k, cnt, dy, z);
        }
    }
}

void aura__lnn_outer_acc_d(double *restrict dW, const double *restrict M, int n, int k, int cnt,
                           const double *const *dy, const double *const *z)
{
    if (isa_avx512()) {
        outer_acc_avx512(dW, M, n, k, cnt, dy, z);
    } else {
        outer_acc_generic(dW, M, n, k, cnt, dy, z);
    }
}
#else
void aura__lnn_outer_acc_d(double *restrict dW, const double *restrict M, int n, int k, int cnt,
                           const double *const *dy, const double *const *z)
{
    outer_acc_generic(dW, M, n, k, cnt, dy, z);
}
#endif

/* y_i += g x_i [m_i]. */
LNN_CLONES
void aura__lnn_axpy_d(double g, const double *restrict x, const double *restrict m,
                      double *restrict y, int k)
{
    if (m) {
        for (int i = 0; i < k; i++) {
            y[i] += g * x[i] * m[i];
        }
    } else {
        for (int i = 0; i < k; i++) {
            y[i] += g * x[i];
        }
    }
}

/* ---- element-wise parts of the CfC and LSTM steps ---- */

/* v <- 1.7159 tanh(0.666 v) (lecun) or tanh(v). */
LNN_CLONES
static void tanh_array_generic(float *restrict v, size_t n, int lecun)
{
    if (lecun) {
        for (size_t i = 0; i < n; i++) {
            v[i] = 1.7159f * aura__lnn_tanhf(0.666f * v[i]);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            v[i] = aura__lnn_tanhf(v[i]);
        }
    }
}

/* CfC heads F = [f1 | f2 | ta | tb] (n each) -> out: default
 * tanh(f1)(1-g) + g tanh(f2), no_gate tanh(f1) + g tanh(f2), with
 * g = sigmoid(ta dt + tb). */
LNN_CLONES
static void cfc_gate_generic(const float *restrict F, int n, float dt, int gated,
                             float *restrict out)
{
    const float *f1 = F, *f2 = F + n, *ta = f2 + n, *tb = ta + n;
    if (gated) {
        for (int j = 0; j < n; j++) {
            float a = aura__lnn_tanhf(f1[j]), b = aura__lnn_tanhf(f2[j]);
            float g = aura__lnn_sigmoidf(ta[j] * dt + tb[j]);
            out[j] = a * (1.0f - g) + g * b;
        }
    } else {
        for (int j = 0; j < n; j++) {
            float a = aura__lnn_tanhf(f1[j]), b = aura__lnn_tanhf(f2[j]);
            out[j] = a + aura__lnn_sigmoidf(ta[j] * dt + tb[j]) * b;
        }
    }
}

/* F = [f1 | f2 | gp]: default tanh(f1)(1-g) + g tanh(f2), no_gate
 * tanh(f1) + g tanh(f2), with g = sigmoid(gp). */
LNN_CLONES
static void cfc_gate_pre_generic(const float *restrict F, int n, int gated, float *restrict out)
{
    const float *f1 = F, *f2 = F + n, *gp = f2 + n;
    for (int j = 0; j < n; j++) {
        float a = aura__lnn_tanhf(f1[j]), b = aura__lnn_tanhf(f2[j]);
        float g = aura__lnn_sigmoidf(gp[j]);
        out[j] = gated ? a * (1.0f - g) + g * b : a + g * b;
    }
}

/* LSTM gates q = [in | ig | fg | og] (H each): c' = c sigmoid(fg + 1) +
 * tanh(in) sigmoid(ig); hh = tanh(c') sigmoid(og). */
LNN_CLONES
void aura__lnn_lstm_gates(const float *restrict q, const float *restrict c, int H,
                          float *restrict c_new, float *restrict hh)
{
    for (int j = 0; j < H; j++) {
        float in = aura__lnn_tanhf(q[j]), ig = aura__lnn_sigmoidf(q[H + j]);
        float fg = aura__lnn_sigmoidf(q[2 * H + j] + 1.0f), og = aura__lnn_sigmoidf(q[3 * H + j]);
        c_new[j] = c[j] * fg + in * ig;
        hh[j] = aura__lnn_tanhf(c_new[j]) * og;
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(AURA_NO_TARGET_CLONES)
void aura__lnn_tanh_array(float *restrict v, size_t n, int lecun)
{
    if (isa_avx512()) {
        tanh_array_avx512(v, n, lecun);
    } else {
        tanh_array_generic(v, n, lecun);
    }
}

void aura__lnn_cfc_gate(const float *restrict F, int n, float dt, int gated, float *restrict out)
{
    if (isa_avx512()) {
        cfc_gate_avx512(F, n, dt, gated, out);
    } else {
        cfc_gate_generic(F, n, dt, gated, out);
    }
}

void aura__lnn_cfc_gate_pre(const float *restrict F, int n, int gated, float *restrict out)
{
    if (isa_avx512()) {
        cfc_gate_pre_avx512(F, n, gated, out);
    } else {
        cfc_gate_pre_generic(F, n, gated, out);
    }
}
#else
void aura__lnn_cfc_gate_pre(const float *restrict F, int n, int gated, float *restrict out)
{
    cfc_gate_pre_generic(F, n, gated, out);
}

void aura__lnn_tanh_array(float *restrict v, size_t n, int lecun)
{
    tanh_array_generic(v, n, lecun);
}

void aura__lnn_cfc_gate(const float *restrict F, int n, float dt, int gated, float *restrict out)
{
    cfc_gate_generic(F, n, dt, gated, out);
}
#endif

/* ---- double-precision matrix-vector kernels of the training path ---- */

/* y (n) = b + (W [* M]) z (generic: one dot per row). */
static void gemv_generic(const double *restrict W, const double *restrict b,
                         const double *restrict M, const double *restrict z, int n, int k,
                         double *restrict y)
{
    for (int o = 0; o < n; o++) {
        size_t r = (size_t)o * k;
        y[o] = (b ? b[o] : 0.0) + aura__lnn_dot_d(W + r, M ? M + r : NULL, z, k);
    }
}

/* dz (k) += (W [* M])^T dy, rows with dy_o = 0 skipped. */
static void gemv_t_generic(const double *restrict W, const double *restrict M,
                           const double *restrict dy, int n, int k, double *restrict dz)
{
    for (int o = 0; o < n; o++) {
        if (dy[o] != 0.0) {
            size_t r = (size_t)o * k;
            aura__lnn_axpy_d(dy[o], W + r, M ? M + r : NULL, dz, k);
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(AURA_NO_TARGET_CLONES)
/* R rows: 8-lane partial sums over the columns, then one reduction. */
__attribute__((target("avx512f,fma"), always_inline)) static inline void
gemv_rows(const int R, const double *restrict W, const double *restrict b,
          const double *restrict M, const double *restrict z, int o, int k, double *restrict y)
{
    __m512d a[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        a[r] = _mm512_setzero_pd();
    }
    for (int i = 0; i < k; i += 8) {
        __mmask8 mk = (__mmask8)(k - i >= 8 ? 0xff : (1u << (k - i)) - 1u);
        __m512d zz = _mm512_maskz_loadu_pd(mk, z + i);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            size_t q = (size_t)(o + r) * k + i;
            __m512d w = _mm512_maskz_loadu_pd(mk, W + q);
            if (M) {
                w = _mm512_mul_pd(w, _mm512_maskz_loadu_pd(mk, M + q));
            }
            a[r] = _mm512_fmadd_pd(w, zz, a[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        y[o + r] = (b ? b[o + r] : 0.0) + _mm512_reduce_add_pd(a[r]);
    }
}

__attribute__((target("avx512f,fma"))) static void
gemv_avx512(const double *restrict W, const double *restrict b, const double *restrict M,
            const double *restrict z, int n, int k, double *restrict y)
{
    int o = 0;
    for (; o + 4 <= n; o += 4) {
        gemv_rows(4, W, b, M, z, o, k, y);
    }
    for (; o < n; o++) {
        gemv_rows(1, W, b, M, z, o, k, y);
    }
}

/* dz columns 32 at a time in registers over all rows. */
__attribute__((target("avx512f,fma"))) static void
gemv_t_avx512(const double *restrict W, const double *restrict M, const double *restrict dy,
              int n, int k, double *restrict dz)
{
    for (int i0 = 0; i0 < k; i0 += 32) {
        __mmask8 mk[4];
        __m512d a[4];
        for (int v = 0; v < 4; v++) {
            int w = k - i0 - 8 * v;
            mk[v] = (__mmask8)(w >= 8 ? 0xff : w > 0 ? (1u << w) - 1u : 0u);
            a[v] = _mm512_maskz_loadu_pd(mk[v], dz + i0 + 8 * v);
        }
        for (int o = 0; o < n; o++) {
            if (dy[o] == 0.0) {
                continue;
            }
            __m512d g = _mm512_set1_pd(dy[o]);
            const double *row = W + (size_t)o * k + i0;
            for (int v = 0; v < 4; v++) {
                __m512d w = _mm512_maskz_loadu_pd(mk[v], row + 8 * v);
                if (M) {
                    w = _mm512_mul_pd(w, _mm512_maskz_loadu_pd(mk[v], M + (size_t)o * k + i0 +
                                                                       8 * v));
                }
                a[v] = _mm512_fmadd_pd(g, w, a[v]);
            }
        }
        for (int v = 0; v < 4; v++) {
            _mm512_mask_storeu_pd(dz + i0 + 8 * v, mk[v], a[v]);
        }
    }
}

void aura__lnn_gemv_d(const double *restrict W, const double *restrict b,
                      const double *restrict M, const double *restrict z, int n, int k,
                      double *restrict y)
{
    if (isa_avx512()) {
        gemv_avx512(W, b, M, z, n, k, y);
    } else {
        gemv_generic(W, b, M, z, n, k, y);
    }
}

void aura__lnn_gemv_t_d(const double *restrict W, const double *restrict M,
                        const double *restrict dy, int n, int k, double *restrict dz)
{
    if (isa_avx512()) {
        gemv_t_avx512(W, M, dy, n, k, dz);
    } else {
        gemv_t_generic(W, M, dy, n, k, dz);
    }
}
#else
void aura__lnn_gemv_d(const double *restrict W, const double *restrict b,
                      const double *restrict M, const double *restrict z, int n, int k,
                      double *restrict y)
{
    gemv_generic(W, b, M, z, n, k, y);
}

void aura__lnn_gemv_t_d(const double *restrict W, const double *restrict M,
                        const double *restrict dy, int n, int k, double *restrict dz)
{
    gemv_t_generic(W, M, dy, n, k, dz);
}
#endif

