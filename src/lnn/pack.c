/* pack.c -- packed copies of the parameters for the forward pass:
 * transposed (in, out) weight matrices, CfC heads side by side with their
 * sparsity masks applied, and the LTC constraint P(.) and masks folded in.
 * Rebuilt lazily (m->dirty) so that no step ever allocates.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lnn/lnn_int.h"

static size_t cell_len(const lnn_cfc *cl, int pure)
{
    size_t D = (size_t)(cl->in + cl->n), U = (size_t)cl->bb_units, n = 0;
    for (int l = 0; l < cl->n_bb; l++) {
        n += (l == 0 ? D : U) * U;
    }
    size_t K = cl->n_bb ? U : D, nh = (pure ? 1 : 4) * (size_t)cl->n;
    size_t n1 = pure ? 0 : 3 * (size_t)cl->n; /* the dt = 1 heads */
    return n + K * nh + nh + K * n1 + n1;
}

/* Each packed matrix starts on a 64-byte boundary (whole cache lines per
 * vector load): up to 15 floats of padding before each. */
#define PACK_SLACK(blocks) (16 * (size_t)(blocks))

static float *align64(float *p)
{
    uintptr_t u = (uintptr_t)p;
    return (float *)(void *)(p + ((64 - (u & 63)) & 63) / sizeof(float));
}

size_t aura__lnn_pack_len(const aura_lnn_model *m)
{
    size_t H = (size_t)m->H, C = (size_t)m->C;
    size_t n = PACK_SLACK(4 + (size_t)m->n_layers * (AURA_LNN_MAX_BACKBONE + 2));
    if (m->cfg.kind == AURA_LNN_LTC) {
        size_t np = (H + 15) / 16 * 16;
        n += 4 * (H + C) * np + 2 * H;
    } else {
        for (int l = 0; l < m->n_layers; l++) {
            n += cell_len(&m->cell[l], m->cfg.mode == AURA_LNN_MODE_PURE);
        }
    }
    if (m->cfg.mixed_memory) {
        n += 4 * H * (C + H);
    }
    if (m->cfg.proj_size > 0) {
        n += (size_t)m->cfg.proj_size * H;
    }
    return n;
}

/* dst (k, n) = transpose of W (n, k) [* M]; dst row stride ld. */
static void transpose(float *dst, size_t ld, const float *W, const float *M, int n, int k)
{
    for (int o = 0; o < n; o++) {
        for (int i = 0; i < k; i++) {
            size_t s = (size_t)o * k + i;
            dst[(size_t)i * ld + o] = M ? W[s] * M[s] : W[s];
        }
    }
}

static float *pack_cell(const aura_lnn_model *m, lnn_cfc *cl, float *p)
{
    int D = cl->in + cl->n, U = cl->bb_units, n = cl->n;
    for (int l = 0; l < cl->n_bb; l++) {
        int k = l == 0 ? D : U;
        p = align64(p);
        cl->bbT[l] = p;
        transpose(p, (size_t)U, cl->bb_w[l], NULL, U, k);
        p += (size_t)k * U;
    }
    int K = cl->n_bb ? U : D, pure = m->cfg.mode == AURA_LNN_MODE_PURE;
    cl->nh = (pure ? 1 : 4) * n;
    p = align64(p);
    cl->hT = p;
    cl->hb = p + (size_t)K * cl->nh;
    const float *W[4] = {cl->ff1_w, cl->ff2_w, cl->ta_w, cl->tb_w};
    const float *B[4] = {cl->ff1_b, cl->ff2_b, cl->ta_b, cl->tb_b};
    for (int h = 0; h < (pure ? 1 : 4); h++) {
        transpose(cl->hT + (size_t)h * n, (size_t)cl->nh, W[h], h < 2 ? cl->mask : NULL, n, K);
        memcpy(cl->hb + (size_t)h * n, B[h], sizeof(float) * (size_t)n);
    }
    p = cl->hb + cl->nh;
    cl->h1T = cl->h1b = NULL;
    if (pure) {
        return p;
    }
    /* at dt = 1 the gate's pre-activation ta + tb is one linear map */
    p = align64(p);
    cl->h1T = p;
    cl->h1b = p + (size_t)K * 3 * n;
    for (int i = 0; i < K; i++) {
        const float *src = cl->hT + (size_t)i * cl->nh;
        float *dst = cl->h1T + (size_t)i * 3 * n;
        memcpy(dst, src, sizeof(float) * 2 * (size_t)n);
        for (int j = 0; j < n; j++) {
            dst[2 * n + j] = src[2 * n + j] + src[3 * n + j];
        }
    }
    memcpy(cl->h1b, cl->hb, sizeof(float) * 2 * (size_t)n);
    for (int j = 0; j < n; j++) {
        cl->h1b[2 * n + j] = cl->hb[2 * n + j] + cl->hb[3 * n + j];
    }
    return cl->h1b + 3 * n;
}

static float softplusf(float z)
{
    return z > 20.0f ? z : log1pf(expf(z));
}

/* dst (rows, np) = src (rows, N) (times mask, through P), zero padded. */
static float *pad(float *dst, const float *src, const float *mask, int P, size_t rows, size_t N,
                  size_t np)
{
    memset(dst, 0, sizeof(float) * rows * np);
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < N; j++) {
            float v = src[i * N + j];
            if (mask) {
                v = (P ? softplusf(v) : v) * mask[i * N + j];
            }
            dst[i * np + j] = v;
        }
    }
    return dst + rows * np;
}

static float *pack_ltc(aura_lnn_model *m, float *p)
{
    const lnn_ltc *t = &m->ltc;
    size_t N = (size_t)m->H, C = (size_t)m->C, np = (N + 15) / 16 * 16;
    int P = m->cfg.implicit_param_constraints;
    m->l_np = (int)np;
    p = align64(p);
    m->l_wm = p;
    m->l_sig = pad(m->l_wm, t->w, t->mask, P, N, N, np);
    m->l_mu = pad(m->l_sig, t->sigma, NULL, 0, N, N, np);
    m->l_erev = pad(m->l_mu, t->mu, NULL, 0, N, N, np);
    m->l_swm = pad(m->l_erev, t->erev, NULL, 0, N, N, np);
    m->l_ssig = pad(m->l_swm, t->s_w, t->s_mask, P, C, N, np);
    m->l_smu = pad(m->l_ssig, t->s_sigma, NULL, 0, C, N, np);
    m->l_serev = pad(m->l_smu, t->s_mu, NULL, 0, C, N, np);
    m->l_cm = pad(m->l_serev, t->s_erev, NULL, 0, C, N, np);
    m->l_gl = m->l_cm + N;
    for (size_t j = 0; j < N; j++) {
        m->l_cm[j] = P ? softplusf(t->cm[j]) : t->cm[j];
        m->l_gl[j] = P ? softplusf(t->gleak[j]) : t->gleak[j];
    }
    return m->l_gl + N;
}

void aura__lnn_pack(aura_lnn_model *m)
{
    float *p = m->pk;
    int H = m->H;
    if (m->cfg.kind == AURA_LNN_LTC) {
        p = pack_ltc(m, p);
    } else {
        for (int l = 0; l < m->n_layers; l++) {
            p = pack_cell(m, &m->cell[l], p);
        }
    }
    if (m->cfg.mixed_memory) {
        p = align64(p);
        m->wiT = p;
        transpose(p, 4 * (size_t)H, m->lstm_wi, NULL, 4 * H, m->C);
        p += 4 * (size_t)H * m->C;
        p = align64(p);
        m->wrT = p;
        transpose(p, 4 * (size_t)H, m->lstm_wr, NULL, 4 * H, H);
        p += 4 * (size_t)H * H;
    }
    if (m->cfg.proj_size > 0) {
        int oc = m->cell[m->n_layers - 1].n;
        p = align64(p);
        m->fcT = p;
        transpose(p, (size_t)m->cfg.proj_size, m->fc_w, NULL, m->cfg.proj_size, oc);
    }
    m->dirty = 0;
}
