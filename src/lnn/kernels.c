/* kernels.c -- the dense kernels of the lnn forward pass.  Weights are
 * packed transposed (in, out) so that the inner loop runs over outputs
 * and vectorises without reassociating any sum: every output is
 * accumulated in input order, the same for every instruction set.  On
 * x86-64 GCC builds AVX-512, AVX2 and baseline clones of each kernel and
 * picks one at load time (ifunc), so one binary runs everywhere.
 * SPDX-License-Identifier: MIT */

#include <string.h>

#include "lnn/lnn_int.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(AURA_NO_TARGET_CLONES)
#define LNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LNN_CLONES
#endif

/* Y (S, n) = [Y +] Z (S, K; row stride ldz) * WT (K, n) [+ b]. */
LNN_CLONES
void aura__lnn_gemm_t(const float *restrict WT, const float *restrict b, const float *restrict Z,
                      int S, int K, int ldz, int n, float *restrict Y, int acc)
{
    for (int s = 0; s < S; s++) {
        float *y = Y + (size_t)s * n;
        if (acc) {
            continue;
        }
        if (b) {
            memcpy(y, b, sizeof(float) * (size_t)n);
        } else {
            memset(y, 0, sizeof(float) * (size_t)n);
        }
    }
    for (int i = 0; i < K; i++) {
        const float *row = WT + (size_t)i * n;
        for (int s = 0; s < S; s++) {
            const float zi = Z[(size_t)s * ldz + i];
            float *y = Y + (size_t)s * n;
            for (int o = 0; o < n; o++) {
                y[o] += row[o] * zi;
            }
        }
    }
}

/* LTC synapses of one unfold: for each source i and target j,
 * a = wm_ij * sigmoid(sigma_ij (v_i - mu_ij)); num_j += a erev_ij;
 * den_j += a (num and den accumulate; sigmoid through the caller's exp). */
LNN_CLONES
void aura__lnn_ltc_syn(const float *restrict wm, const float *restrict sigma,
                       const float *restrict mu, const float *restrict erev,
                       const float *restrict v, int n_src, int N, float *restrict num,
                       float *restrict den)
{
    for (int i = 0; i < n_src; i++) {
        const float vi = v[i];
        const size_t r = (size_t)i * N;
        for (int j = 0; j < N; j++) {
            float a = wm[r + j] * aura__lnn_sigmoidf(sigma[r + j] * (vi - mu[r + j]));
            num[j] += a * erev[r + j];
            den[j] += a;
        }
    }
}
