/* cell.c -- forward computation of CfC, wired CfC and LTC cells, the
 * mixed-memory LSTM and the output maps (golden README §4-§5), one sample
 * at a time in float32, plus the batch step/run drivers.
 *
 * Legend: x input (C), h state (H), z = concat(x, h), dt elapsed time,
 * W (out, in) row-major so that y = W z + b (PyTorch Linear).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "lnn/lnn_int.h"

static float sigm(float z)
{
    return 1.0f / (1.0f + expf(-z));
}

static float softplus(float z)
{
    return z > 20.0f ? z : log1pf(expf(z));
}

static float act(aura_lnn_act a, float z)
{
    switch (a) {
    case AURA_LNN_ACT_LECUN_TANH:
        return 1.7159f * tanhf(0.666f * z);
    case AURA_LNN_ACT_TANH:
        return tanhf(z);
    case AURA_LNN_ACT_RELU:
        return z > 0.0f ? z : 0.0f;
    case AURA_LNN_ACT_SILU:
        return z * sigm(z);
    case AURA_LNN_ACT_GELU:
        return 0.5f * z * (1.0f + erff(z * 0.70710678118654752f));
    }
    return z;
}

/* y (n) = W (n, k) z + b; mask (n, k) multiplies W when set. */
static void linear(const float *W, const float *b, const float *mask, const float *z, int n, int k,
                   float *y)
{
    for (int o = 0; o < n; o++) {
        const float *w = W + (size_t)o * k;
        float s = 0.0f;
        if (mask) {
            const float *mk = mask + (size_t)o * k;
            for (int i = 0; i < k; i++) {
                s += w[i] * mk[i] * z[i];
            }
        } else {
            for (int i = 0; i < k; i++) {
                s += w[i] * z[i];
            }
        }
        y[o] = s + (b ? b[o] : 0.0f);
    }
}

size_t aura__lnn_ws_len(const aura_lnn_model *m)
{
    size_t C = (size_t)m->C, H = (size_t)m->H, U = (size_t)m->cfg.backbone_units;
    return 4 * (C + H + U) + 16 * H + C + 64; /* see run1, lstm and cfc_cell */
}

/* One CfC cell: inp (cl->in), hs (cl->n) -> out (cl->n). */
static void cfc_cell(const aura_lnn_model *m, const lnn_cfc *cl, const float *inp, const float *hs,
                     float dt, float *out, float *ws)
{
    int D = cl->in + cl->n;
    /* two ping-pong regions, each large enough for z, a backbone layer or
     * the four heads */
    size_t R = (size_t)D + (size_t)(cl->n_bb ? cl->bb_units : 0) + 4 * (size_t)cl->n;
    float *z = ws, *z2 = ws + R;
    memcpy(z, inp, sizeof(float) * (size_t)cl->in);
    memcpy(z + cl->in, hs, sizeof(float) * (size_t)cl->n);
    for (int l = 0; l < cl->n_bb; l++) {
        int k = l == 0 ? D : cl->bb_units;
        linear(cl->bb_w[l], cl->bb_b[l], NULL, z, cl->bb_units, k, z2);
        for (int i = 0; i < cl->bb_units; i++) {
            z2[i] = act(m->cfg.activation, z2[i]);
        }
        float *t = z;
        z = z2;
        z2 = t;
    }
    int K = cl->n_bb ? cl->bb_units : D;
    float *f1 = z2, *f2 = f1 + cl->n, *ta = f2 + cl->n, *tb = ta + cl->n;
    linear(cl->ff1_w, cl->ff1_b, cl->mask, z, cl->n, K, f1);
    if (m->cfg.mode == AURA_LNN_MODE_PURE) {
        for (int j = 0; j < cl->n; j++) {
            float A = cl->A[j];
            out[j] = -A * expf(-dt * (fabsf(cl->w_tau[j]) + fabsf(f1[j]))) * f1[j] + A;
        }
        return;
    }
    linear(cl->ff2_w, cl->ff2_b, cl->mask, z, cl->n, K, f2);
    linear(cl->ta_w, cl->ta_b, NULL, z, cl->n, K, ta);
    linear(cl->tb_w, cl->tb_b, NULL, z, cl->n, K, tb);
    int gate = m->cfg.mode == AURA_LNN_MODE_DEFAULT;
    for (int j = 0; j < cl->n; j++) {
        float a = tanhf(f1[j]), b = tanhf(f2[j]);
        float g = sigm(ta[j] * dt + tb[j]);
        out[j] = gate ? a * (1.0f - g) + g * b : a + g * b;
    }
}

/* LTC cell, README §5: x (C), v (N) -> out (N). */
static void ltc_cell(const aura_lnn_model *m, const float *x, const float *v0, float dt, float *out,
                     float *ws)
{
    const lnn_ltc *t = &m->ltc;
    int N = t->n, C = t->c, K = m->cfg.ode_unfolds, P = m->cfg.implicit_param_constraints;
    float *xt = ws, *num_s = xt + C, *den_s = num_s + N, *v = den_s + N, *cm = v + N, *gl = cm + N;
    for (int i = 0; i < C; i++) {
        float w = t->in_w ? t->in_w[i] : 1.0f, b = t->in_b ? t->in_b[i] : 0.0f;
        xt[i] = x[i] * w + b;
    }
    for (int j = 0; j < N; j++) {
        num_s[j] = 0.0f;
        den_s[j] = 0.0f;
    }
    for (int i = 0; i < C; i++) {
        for (int j = 0; j < N; j++) {
            size_t k = (size_t)i * N + j;
            float w = P ? softplus(t->s_w[k]) : t->s_w[k];
            float s = w * sigm(t->s_sigma[k] * (xt[i] - t->s_mu[k])) * t->s_mask[k];
            num_s[j] += s * t->s_erev[k];
            den_s[j] += s;
        }
    }
    float sub = dt / (float)K;
    for (int j = 0; j < N; j++) {
        cm[j] = (P ? softplus(t->cm[j]) : t->cm[j]) / sub;
        gl[j] = P ? softplus(t->gleak[j]) : t->gleak[j];
    }
    memcpy(v, v0, sizeof(float) * (size_t)N);
    float *num = gl + N, *den = num + N;
    for (int u = 0; u < K; u++) {
        for (int j = 0; j < N; j++) {
            num[j] = 0.0f;
            den[j] = 0.0f;
        }
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                size_t k = (size_t)i * N + j;
                float w = P ? softplus(t->w[k]) : t->w[k];
                float a = w * sigm(t->sigma[k] * (v[i] - t->mu[k])) * t->mask[k];
                num[j] += a * t->erev[k];
                den[j] += a;
            }
        }
        for (int j = 0; j < N; j++) {
            float nu = cm[j] * v[j] + gl[j] * t->vleak[j] + (num[j] + num_s[j]);
            float de = cm[j] + gl[j] + (den[j] + den_s[j]);
            v[j] = nu / (de + (float)m->cfg.epsilon);
        }
    }
    memcpy(out, v, sizeof(float) * (size_t)N);
}

/* Mixed memory, README §4.4: (x, h, c) -> (hh, c_new). */
static void lstm(const aura_lnn_model *m, const float *x, const float *h, const float *c,
                 float *hh, float *c_new, float *s)
{
    int H = m->H, C = m->C;
    linear(m->lstm_wi, m->lstm_bi, NULL, x, 4 * H, C, s);
    for (int o = 0; o < 4 * H; o++) {
        const float *w = m->lstm_wr + (size_t)o * H;
        float a = 0.0f;
        for (int i = 0; i < H; i++) {
            a += w[i] * h[i];
        }
        s[o] += a;
    }
    for (int j = 0; j < H; j++) {
        float in = tanhf(s[j]), ig = sigm(s[H + j]), fg = sigm(s[2 * H + j] + 1.0f);
        float og = sigm(s[3 * H + j]);
        c_new[j] = c[j] * fg + in * ig;
        hh[j] = tanhf(c_new[j]) * og;
    }
}

void aura__lnn_step1(const aura_lnn_model *m, const float *x, float dt, const float *h,
                     const float *c, float *h_new, float *c_new, float *y, float *ws)
{
    const float *hs = h;
    if (m->cfg.mixed_memory) {
        float *hh = ws;
        lstm(m, x, h, c, hh, c_new, ws + m->H);
        hs = hh;
        ws += m->H;
    }
    if (m->cfg.kind == AURA_LNN_LTC) {
        ltc_cell(m, x, hs, dt, h_new, ws);
        const lnn_ltc *t = &m->ltc;
        for (int j = 0; y && j < t->m; j++) {
            float w = t->out_w ? t->out_w[j] : 1.0f, b = t->out_b ? t->out_b[j] : 0.0f;
            y[j] = h_new[j] * w + b;
        }
        return;
    }
    for (int l = 0; l < m->n_layers; l++) {
        const lnn_cfc *cl = &m->cell[l];
        const float *inp = l == 0 ? x : h_new + m->cell[l - 1].state_off;
        cfc_cell(m, cl, inp, hs + cl->state_off, dt, h_new + cl->state_off, ws);
    }
    if (!y) {
        return;
    }
    const lnn_cfc *last = &m->cell[m->n_layers - 1];
    const float *src = h_new + last->state_off;
    if (m->fc_w) {
        linear(m->fc_w, m->fc_b, NULL, src, m->cfg.proj_size, last->n, y);
    } else {
        memcpy(y, src, sizeof(float) * (size_t)last->n);
    }
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            return 0;
        }
    }
    return 1;
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

/* One sample over `len` steps; x (len, C), dt (len) or NULL, y (len, O) or
 * NULL.  h and c are advanced only if every step stays finite. */
static aura_status run1(aura_lnn_model *m, size_t len, const float *x, const float *dt, float *h,
                        float *c, float *y)
{
    size_t H = (size_t)m->H;
    float *hn = m->ws, *cn = hn + H, *ho = cn + H, *co = ho + H, *ws = co + H;
    memcpy(ho, h, sizeof(float) * H);
    if (c && m->cfg.mixed_memory) {
        memcpy(co, c, sizeof(float) * H);
    }
    for (size_t t = 0; t < len; t++) {
        float d = dt ? dt[t] : 1.0f;
        float *yt = y ? y + t * (size_t)m->O : NULL;
        aura__lnn_step1(m, x + t * (size_t)m->C, d, ho, co, hn, cn, yt, ws);
        if (!all_finite(hn, H) || (m->cfg.mixed_memory && !all_finite(cn, H)) ||
            (yt && !all_finite(yt, (size_t)m->O))) {
            aura__lnn_errf(m->errmsg, sizeof m->errmsg,
                           "state diverged (NaN/Inf) at step %zu", t);
            return AURA_E_NUMERIC;
        }
        memcpy(ho, hn, sizeof(float) * H);
        memcpy(co, cn, sizeof(float) * H);
    }
    memcpy(h, ho, sizeof(float) * H);
    if (c && m->cfg.mixed_memory) {
        memcpy(c, co, sizeof(float) * H);
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
    size_t H = (size_t)m->H;
    for (size_t b = 0; b < batch; b++) {
        st = run1(m, len, x + b * len * (size_t)m->C, dt ? dt + b * len : NULL, h + b * H,
                  m->cfg.mixed_memory ? c + b * H : NULL, y ? y + b * len * (size_t)m->O : NULL);
        if (st != AURA_OK) {
            return st;
        }
    }
    return AURA_OK;
}

aura_status aura_lnn_model_step(aura_lnn_model *m, size_t batch, const float *x, const float *dt,
                                float *h, float *c, float *y)
{
    AURA_CHECK_ARG(m && (x || batch == 0) && (h || batch == 0));
    aura_status st = check_inputs(m, batch, 1, x, dt, h, c);
    if (st != AURA_OK) {
        return st;
    }
    size_t H = (size_t)m->H;
    for (size_t b = 0; b < batch; b++) {
        st = run1(m, 1, x + b * (size_t)m->C, dt ? dt + b : NULL, h + b * H,
                  m->cfg.mixed_memory ? c + b * H : NULL, y ? y + b * (size_t)m->O : NULL);
        if (st != AURA_OK) {
            return st;
        }
    }
    return AURA_OK;
}
