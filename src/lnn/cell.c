/* cell.c -- forward computation of CfC, wired CfC and LTC cells, the
 * mixed-memory LSTM and the output maps (golden README §4-§5) in float32,
 * on blocks of up to LNN_BLOCK samples (packed weights, pack.c), plus the
 * batch step/run drivers.
 *
 * Legend: x input (C), h state (H), z = concat(x, h), dt elapsed time,
 * W (out, in) row-major so that y = W z + b (PyTorch Linear).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lnn/lnn_int.h"

static float sigm(float z)
{
    return aura__lnn_sigmoidf(z);
}

static float act(aura_lnn_act a, float z)
{
    switch (a) {
    case AURA_LNN_ACT_LECUN_TANH:
        return 1.7159f * aura__lnn_tanhf(0.666f * z);
    case AURA_LNN_ACT_TANH:
        return aura__lnn_tanhf(z);
    case AURA_LNN_ACT_RELU:
        return z > 0.0f ? z : 0.0f;
    case AURA_LNN_ACT_SILU:
        return z * sigm(z);
    case AURA_LNN_ACT_GELU:
        return 0.5f * z * (1.0f + erff(z * 0.70710678118654752f));
    }
    return z;
}

size_t aura__lnn_ws_len(const aura_lnn_model *m)
{
    size_t C = (size_t)m->C, H = (size_t)m->H, U = (size_t)m->cfg.backbone_units;
    return 2 * C + 24 * H + 2 * U + 160; /* floats per sample; see block_step */
}

/* act over an array; one loop per activation so that each vectorises. */
static void act_array(aura_lnn_act a, float *v, size_t n)
{
    switch (a) {
    case AURA_LNN_ACT_LECUN_TANH:
    case AURA_LNN_ACT_TANH:
        aura__lnn_tanh_array(v, n, a == AURA_LNN_ACT_LECUN_TANH);
        return;
    default:
        for (size_t i = 0; i < n; i++) {
            v[i] = act(a, v[i]);
        }
    }
}

/* One CfC cell for S samples: inp (S, in; stride ldi), hs (S, n; stride
 * ldh) -> out (S, n; stride ldo).  ws: S * (D + 2U + nh) floats. */
static void cfc_block(const aura_lnn_model *m, const lnn_cfc *cl, int S, const float *inp,
                      size_t ldi, const float *hs, size_t ldh, const float *dt, float *out,
                      size_t ldo, float *ws)
{
    int D = cl->in + cl->n, U = cl->bb_units, n = cl->n;
    float *Z = ws, *A = Z + (size_t)S * D, *Bq = A + (size_t)S * U, *F = Bq + (size_t)S * U;
    for (int s = 0; s < S; s++) {
        memcpy(Z + (size_t)s * D, inp + s * ldi, sizeof(float) * (size_t)cl->in);
        memcpy(Z + (size_t)s * D + cl->in, hs + s * ldh, sizeof(float) * (size_t)n);
    }
    const float *cur = Z;
    int K = D;
    for (int l = 0; l < cl->n_bb; l++) {
        float *o = (l & 1) ? Bq : A;
        aura__lnn_gemm_t(cl->bbT[l], cl->bb_b[l], cur, S, K, K, U, o, 0);
        act_array(m->cfg.activation, o, (size_t)S * U);
        cur = o;
        K = U;
    }
    int dt1 = cl->h1T != NULL;
    for (int s = 0; s < S && dt1; s++) {
        dt1 = dt[s] == 1.0f;
    }
    if (dt1) { /* every dt = 1: the time heads folded into one */
        aura__lnn_gemm_t(cl->h1T, cl->h1b, cur, S, K, K, 3 * n, F, 0);
        for (int s = 0; s < S; s++) {
            aura__lnn_cfc_gate_pre(F + (size_t)s * 3 * n, n,
                                   m->cfg.mode == AURA_LNN_MODE_DEFAULT, out + s * ldo);
        }
        return;
    }
    aura__lnn_gemm_t(cl->hT, cl->hb, cur, S, K, K, cl->nh, F, 0);
    for (int s = 0; s < S; s++) {
        const float *f1 = F + (size_t)s * cl->nh;
        float d = dt[s], *o = out + s * ldo;
        if (m->cfg.mode == AURA_LNN_MODE_PURE) {
            for (int j = 0; j < n; j++) {
                float A_ = cl->A[j];
                o[j] = -A_ * expf(-d * (fabsf(cl->w_tau[j]) + fabsf(f1[j]))) * f1[j] + A_;
            }
            continue;
        }
        aura__lnn_cfc_gate(f1, n, d, m->cfg.mode == AURA_LNN_MODE_DEFAULT, o);
    }
}

/* LTC cell, README §5, S <= LNN_BLOCK samples advanced together (the
 * synapse kernel shares each weight load between samples): x[s] (C),
 * v0[s] (N) -> out[s] (N).  ws: S * (C + 6 l_np) floats (l_np = N
 * rounded up to 16). */
static void ltc_block(const aura_lnn_model *m, int S, const float *const *x,
                      const float *const *v0, const float *dt, float *const *out, float *ws)
{
    const lnn_ltc *t = &m->ltc;
    int N = t->n, C = t->c, K = m->cfg.ode_unfolds, np = m->l_np;
    float *xt[LNN_BLOCK], *num_s[LNN_BLOCK], *den_s[LNN_BLOCK], *cm[LNN_BLOCK],
        *num[LNN_BLOCK], *den[LNN_BLOCK];
    float eps = (float)m->cfg.epsilon;
    for (int s = 0; s < S; s++) {
        float *w = ws + (size_t)s * (size_t)(C + 6 * np);
        xt[s] = w;
        num_s[s] = w + C;
        den_s[s] = num_s[s] + np;
        cm[s] = den_s[s] + np;
        num[s] = cm[s] + np;
        den[s] = num[s] + np;
        for (int i = 0; i < C; i++) {
            float wi = t->in_w ? t->in_w[i] : 1.0f, bi = t->in_b ? t->in_b[i] : 0.0f;
            xt[s][i] = x[s][i] * wi + bi;
        }
        memset(num_s[s], 0, sizeof(float) * 2 * (size_t)np);
        float sub = dt[s] / (float)K;
        for (int j = 0; j < N; j++) {
            cm[s][j] = m->l_cm[j] / sub;
        }
        if (out[s] != v0[s]) {
            memcpy(out[s], v0[s], sizeof(float) * (size_t)N);
        }
    }
    aura__lnn_ltc_syn(m->l_swm, m->l_ssig, m->l_smu, m->l_serev, (const float *const *)xt, S, C,
                      np, num_s, den_s);
    for (int u = 0; u < K; u++) {
        for (int s = 0; s < S; s++) {
            memset(num[s], 0, sizeof(float) * 2 * (size_t)np);
        }
        aura__lnn_ltc_syn(m->l_wm, m->l_sig, m->l_mu, m->l_erev, (const float *const *)out, S, N,
                          np, num, den);
        for (int s = 0; s < S; s++) {
            aura__lnn_ltc_update(cm[s], m->l_gl, t->vleak, num[s], num_s[s], den[s], den_s[s],
                                 eps, N, out[s]);
        }
    }
}

/* Mixed memory, README §4.4, S samples: x (S, C; stride ldx), h (S, H),
 * c (S, H) -> hh (S, H), c_new (S, H).  sb: S * 4H floats. */
static void lstm_block(const aura_lnn_model *m, int S, const float *x, size_t ldx, const float *h,
                       const float *c, float *hh, float *c_new, float *sb)
{
    int H = m->H;
    aura__lnn_gemm_t(m->wiT, m->lstm_bi, x, S, m->C, (int)ldx, 4 * H, sb, 0);
    aura__lnn_gemm_t(m->wrT, NULL, h, S, H, H, 4 * H, sb, 1);
    for (int s = 0; s < S; s++) {
        size_t o = (size_t)s * H;
        aura__lnn_lstm_gates(sb + 4 * o, c + o, H, c_new + o, hh + o);
    }
}

/* One step for S <= LNN_BLOCK samples: x (S, C; stride ldx), dt (S),
 * old state ho, co (S, H) -> hn, cn (S, H), outputs y (S, O). */
static void block_step(const aura_lnn_model *m, int S, const float *x, size_t ldx,
                       const float *dt, const float *ho, const float *co, float *hn, float *cn,
                       float *y, float *ws)
{
    size_t H = (size_t)m->H;
    const float *hs = ho;
    if (m->cfg.mixed_memory) {
        lstm_block(m, S, x, ldx, ho, co, ws, cn, ws + (size_t)S * H);
        hs = ws;
        ws += 5 * (size_t)S * H;
    }
    if (m->cfg.kind == AURA_LNN_LTC) {
        const lnn_ltc *t = &m->ltc;
        const float *xs[LNN_BLOCK], *v0[LNN_BLOCK];
        float *vs[LNN_BLOCK];
        for (int s = 0; s < S; s++) {
            xs[s] = x + s * ldx;
            v0[s] = hs + s * H;
            vs[s] = hn + s * H;
        }
        ltc_block(m, S, xs, v0, dt, vs, ws);
        for (int s = 0; s < S; s++) {
            float *v = hn + s * H, *ys = y + (size_t)s * t->m;
            for (int j = 0; j < t->m; j++) {
                float w = t->out_w ? t->out_w[j] : 1.0f, b = t->out_b ? t->out_b[j] : 0.0f;
                ys[j] = v[j] * w + b;
            }
        }
        return;
    }
    for (int l = 0; l < m->n_layers; l++) {
        const lnn_cfc *cl = &m->cell[l];
        const float *inp = l == 0 ? x : hn + m->cell[l - 1].state_off;
        cfc_block(m, cl, S, inp, l == 0 ? ldx : H, hs + cl->state_off, H, dt,
                  hn + cl->state_off, H, ws);
    }
    const lnn_cfc *last = &m->cell[m->n_layers - 1];
    if (m->fcT) {
        aura__lnn_gemm_t(m->fcT, m->fc_b, hn + last->state_off, S, last->n, (int)H,
                         m->cfg.proj_size, y, 0);
    } else {
        for (int s = 0; s < S; s++) {
            memcpy(y + (size_t)s * last->n, hn + s * H + last->state_off,
                   sizeof(float) * (size_t)last->n);
        }
    }
}

/* No NaN or Inf in v: an exponent of all ones anywhere (branch-free, so
 * that it vectorises). */
static int all_finite(const float *v, size_t n)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, v + i, sizeof b);
        bad |= (uint32_t)((b & 0x7f800000u) == 0x7f800000u);
    }
    return !bad;
}

static int dts_ok(const float *dt, size_t n)
{
    for (size_t i = 0; dt && i < n; i++) {
        if (!isfinite(dt[i]) || dt[i] < 0.0f) {
            return 0;
        }
    }
    return 1;
}

/* Samples b0 .. b0+S-1 over `len` steps: x (B, len, C), dt (B, len) or
 * NULL, h, c (B, H), y (B, len, O) or NULL.  A sample's h and c are
 * advanced only if the whole block stays finite. */
static aura_status run_block(aura_lnn_model *m, size_t b0, int S, size_t len, const float *x,
                             const float *dt, float *h, float *c, float *y)
{
    size_t H = (size_t)m->H, C = (size_t)m->C, O = (size_t)m->O, SH = (size_t)S * H;
    float *ho = m->ws, *co = ho + SH, *hn = co + SH, *cn = hn + SH, *yb = cn + SH;
    float *ws = yb + (size_t)S * O, dts[LNN_BLOCK];
    int mixed = m->cfg.mixed_memory;
    memcpy(ho, h + b0 * H, sizeof(float) * SH);
    if (mixed) {
        memcpy(co, c + b0 * H, sizeof(float) * SH);
    }
    for (size_t t = 0; t < len; t++) {
        for (int s = 0; s < S; s++) {
            dts[s] = dt ? dt[(b0 + (size_t)s) * len + t] : 1.0f;
        }
        block_step(m, S, x + (b0 * len + t) * C, len * C, dts, ho, co, hn, cn, yb, ws);
        if (!all_finite(hn, SH) || (mixed && !all_finite(cn, SH)) ||
            !all_finite(yb, (size_t)S * O)) {
            aura__lnn_errf(m->errmsg, sizeof m->errmsg,
                           "state diverged (NaN/Inf) at step %zu of samples %zu..%zu", t, b0,
                           b0 + (size_t)S - 1);
            return AURA_E_NUMERIC;
        }
        for (int s = 0; y && s < S; s++) {
            memcpy(y + ((b0 + (size_t)s) * len + t) * O, yb + (size_t)s * O, sizeof(float) * O);
        }
        memcpy(ho, hn, sizeof(float) * SH);
        if (mixed) {
            memcpy(co, cn, sizeof(float) * SH);
        }
    }
    memcpy(h + b0 * H, ho, sizeof(float) * SH);
    if (mixed) {
        memcpy(c + b0 * H, co, sizeof(float) * SH);
    }
    return AURA_OK;
}

static aura_status check_inputs(aura_lnn_model *m, size_t batch, size_t len, const float *x,
                                const float *dt, const float *h, const float *c)
{
    if (m->cfg.mixed_memory && !c) {
        aura__lnn_errf(m->errmsg, sizeof m->errmsg, "mixed memory needs the cell state c");
        return AURA_E_INVAL;
    }
    size_t H = (size_t)m->H;
    if (!all_finite(x, batch * len * (size_t)m->C) || !all_finite(h, batch * H) ||
        (m->cfg.mixed_memory && !all_finite(c, batch * H)) || !dts_ok(dt, batch * len)) {
        aura__lnn_errf(m->errmsg, sizeof m->errmsg,
                       "NaN/Inf in the input, state or elapsed times (or a negative dt)");
        return AURA_E_NUMERIC;
    }
    return AURA_OK;
}

aura_status aura_lnn_model_run(aura_lnn_model *m, size_t batch, size_t len, const float *x,
                               const float *dt, float *h, float *c, float *y)
{
    AURA_CHECK_ARG(m && (x || batch * len == 0) && (h || batch == 0));
    aura_status st = check_inputs(m, batch, len, x, dt, h, c);
    if (st != AURA_OK) {
        return st;
    }
    if (m->dirty) {
        aura__lnn_pack(m);
    }
    for (size_t b = 0; b < batch && st == AURA_OK; b += LNN_BLOCK) {
        int S = batch - b < LNN_BLOCK ? (int)(batch - b) : LNN_BLOCK;
        st = run_block(m, b, S, len, x, dt, h, c, y);
    }
    return st;
}

aura_status aura_lnn_model_step(aura_lnn_model *m, size_t batch, const float *x, const float *dt,
                                float *h, float *c, float *y)
{
    return aura_lnn_model_run(m, batch, 1, x, dt, h, c, y);
}
