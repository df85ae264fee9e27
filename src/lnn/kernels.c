/* kernels.c -- the dense kernels of the lnn forward pass.  Weights are
 * packed transposed (in, out) so that the inner loop runs over outputs
 * and vectorises without reassociating any sum: every output is
 * accumulated in input order.  On x86-64 GCC builds AVX-512, AVX2 and
 * baseline versions of each kernel (the matrix kernel with fused
 * multiply-adds where available) and picks one at run time from the CPU,
 * so one binary runs everywhere.
 * SPDX-License-Identifier: MIT */

#include <string.h>

#include "lnn/lnn_int.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(AURA_NO_TARGET_CLONES)
#define LNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LNN_CLONES
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
__attribute__((target("avx512f,fma"))) static void gemm_avx512(GEMM_ARGS)
{
    GEMM_BODY(MADD_FMA)
}

__attribute__((target("avx2,fma"))) static void gemm_avx2(GEMM_ARGS)
{
    GEMM_BODY(MADD_FMA)
}

void aura__lnn_gemm_t(GEMM_ARGS)
{
    if (__builtin_cpu_supports("avx512f")) {
        gemm_avx512(WT, b, Z, S, K, ldz, n, Y, acc);
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
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
void aura__lnn_ltc_syn(const float *restrict wm, const float *restrict sigma,
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
void aura__lnn_tanh_array(float *restrict v, size_t n, int lecun)
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
void aura__lnn_cfc_gate(const float *restrict F, int n, float dt, int gated, float *restrict out)
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
