/* grad.c -- back-propagation through time for CfC, wired CfC and LTC
 * models (with mixed memory and projection), in double precision.
 *
 * The forward pass is re-run in double and taped per step; the backward
 * pass walks the tape from the last step to the first.  The loss is
 * sum(y * gy) for a given gy (the "grad_output" of ncps checks); a
 * trainer supplies gy = dLoss/dy.  Notation as in cell.c; P(.) is the
 * LTC softplus constraint, P'(z) = sigma(z) (1 for z > 20 as in torch).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "lnn/lnn_grad.h"

#define OFF(p) ((size_t)((p) - m->pdata)) /* offset of a bound parameter */

static double sg(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

static double sp(double z)
{
    return z > 20.0 ? z : log1p(exp(z));
}

static double sp_d(double z)
{
    return z > 20.0 ? 1.0 : sg(z);
}

static double actd(aura_lnn_act a, double z, double *d)
{
    double t, s;
    switch (a) {
    case AURA_LNN_ACT_LECUN_TANH:
        t = tanh(0.666 * z);
        *d = 1.7159 * 0.666 * (1.0 - t * t);
        return 1.7159 * t;
    case AURA_LNN_ACT_TANH:
        t = tanh(z);
        *d = 1.0 - t * t;
        return t;
    case AURA_LNN_ACT_RELU:
        *d = z > 0.0 ? 1.0 : 0.0;
        return z > 0.0 ? z : 0.0;
    case AURA_LNN_ACT_SILU:
        s = sg(z);
        *d = s + z * s * (1.0 - s);
        return z * s;
    case AURA_LNN_ACT_GELU:
        *d = 0.5 * (1.0 + erf(z / sqrt(2.0))) + z * exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
        return 0.5 * z * (1.0 + erf(z / sqrt(2.0)));
    }
    *d = 1.0;
    return z;
}

/* y (n) = (W [* M]) z + b. */
static void lin(const double *W, const double *b, const double *M, const double *z, int n, int k,
                double *y)
{
    aura__lnn_gemv_d(W, b, M, z, n, k, y);
}

/* Deferred weight gradients: within one sample's backward pass, lin_b
 * records (dW, M, dy copy, z) instead of adding dy z^T into dW; z points
 * into the tape (or the caller's input), valid until the sample's flush,
 * which adds sum over steps of dy z^T to each dW with register tiles
 * (dW is read and written once per sample instead of once per step). */
typedef struct lnn_rec {
    double *dW;
    const double *M, *dy, *z;
    int n, k;
} lnn_rec;

typedef struct lnn_recs {
    lnn_rec *r;
    size_t n, cap;    /* records used, capacity */
    double *dy;       /* copies of dy */
    size_t dy_n, dy_cap;
} lnn_recs;

/* Backward of lin: dW += dy z^T [* M] (recorded when rc is set and has
 * room), db += dy, dz += (W [* M])^T dy. */
static void lin_b(const double *W, const double *M, const double *z, const double *dy, int n,
                  int k, double *dW, double *db, double *dz, lnn_recs *rc)
{
    int defer = rc && rc->n < rc->cap && rc->dy_n + (size_t)n <= rc->dy_cap;
    if (defer) {
        lnn_rec *e = &rc->r[rc->n++];
        double *c = rc->dy + rc->dy_n;
        memcpy(c, dy, sizeof(double) * (size_t)n);
        rc->dy_n += (size_t)n;
        e->dW = dW;
        e->M = M;
        e->dy = c;
        e->z = z;
        e->n = n;
        e->k = k;
    }
    for (int o = 0; o < n; o++) {
        double g = dy[o];
        if (g == 0.0) {
            continue;
        }
        if (db) {
            db[o] += g;
        }
        size_t r = (size_t)o * k;
        if (!defer) {
            aura__lnn_axpy_d(g, z, M ? M + r : NULL, dW + r, k);
        }
    }
    if (dz) {
        aura__lnn_gemv_t_d(W, M, dy, n, k, dz);
    }
}

/* Adds every recorded dy z^T into its dW (records of one dW in the order
 * recorded) and empties the list. */
static void recs_flush(lnn_recs *rc)
{
    const double *dys[256], *zs[256];
    for (size_t i = 0; i < rc->n; i++) {
        if (!rc->r[i].dW) {
            continue;
        }
        lnn_rec e = rc->r[i];
        int cnt = 0;
        for (size_t j = i; j < rc->n; j++) {
            if (rc->r[j].dW == e.dW) {
                dys[cnt] = rc->r[j].dy;
                zs[cnt] = rc->r[j].z;
                rc->r[j].dW = NULL;
                if (++cnt == 256) {
                    aura__lnn_outer_acc_d(e.dW, e.M, e.n, e.k, cnt, dys, zs);
                    cnt = 0;
                }
            }
        }
        if (cnt) {
            aura__lnn_outer_acc_d(e.dW, e.M, e.n, e.k, cnt, dys, zs);
        }
    }
    rc->n = 0;
    rc->dy_n = 0;
}

/* ---- tape layout (doubles per step) ---- */

size_t aura__lnn_tape_step(const aura_lnn_model *m)
{
    size_t H = (size_t)m->H, C = (size_t)m->C;
    size_t n = 6 * H + 4 * H + (size_t)m->O; /* h_in, c_in, hh, c_new, h_new, spare; lstm s; y */
    if (m->cfg.kind == AURA_LNN_LTC) {
        size_t K = (size_t)m->cfg.ode_unfolds;
        return n + C + (K + 1) * H + K * H;
    }
    for (int l = 0; l < m->n_layers; l++) {
        const lnn_cfc *cl = &m->cell[l];
        n += (size_t)(cl->in + cl->n) + 2 * (size_t)cl->n_bb * (size_t)cl->bb_units +
             4 * (size_t)cl->n;
    }
    return n;
}

typedef struct tape {
    double *h_in, *c_in, *hh, *c_new, *h_new, *s, *y;
    double *cell; /* cell-specific part */
} tape;

static tape tape_at(const aura_lnn_model *m, double *base)
{
    size_t H = (size_t)m->H;
    tape t;
    t.h_in = base;
    t.c_in = base + H;
    t.hh = base + 2 * H;
    t.c_new = base + 3 * H;
    t.h_new = base + 4 * H;
    t.s = base + 6 * H;
    t.y = base + 10 * H;
    t.cell = t.y + m->O;
    return t;
}

/* Per CfC cell: z (in+n), then per backbone layer act'(pre) (U) and out
 * (U), then f1, f2, ta, tb (n each; after the forward pass of a gated
 * mode: tanh(f1), tanh(f2), g, tb). */
static double *cell_tape(const aura_lnn_model *m, double *cell, int l)
{
    for (int k = 0; k < l; k++) {
        const lnn_cfc *c = &m->cell[k];
        cell += (size_t)(c->in + c->n) + 2 * (size_t)c->n_bb * (size_t)c->bb_units +
                4 * (size_t)c->n;
    }
    return cell;
}

/* ---- forward in double ---- */

static void cfc_fwd(const aura_lnn_model *m, const double *P, const lnn_cfc *cl, const double *inp,
                    const double *hs, double dt, double *out, double *tp)
{
    int D = cl->in + cl->n, U = cl->bb_units;
    double *z = tp;
    memcpy(z, inp, sizeof(double) * (size_t)cl->in);
    memcpy(z + cl->in, hs, sizeof(double) * (size_t)cl->n);
    double *cur = z, *bb = z + D;
    int K = D;
    for (int l = 0; l < cl->n_bb; l++) {
        double *pre = bb + (size_t)2 * l * U, *o = pre + U, d;
        lin(P + OFF(cl->bb_w[l]), P + OFF(cl->bb_b[l]), NULL, cur, U, K, pre);
        for (int i = 0; i < U; i++) {
            o[i] = actd(m->cfg.activation, pre[i], &d);
            pre[i] = d; /* the tape keeps act'(pre) for the backward pass */
        }
        cur = o;
        K = U;
    }
    double *f1 = bb + (size_t)2 * cl->n_bb * U, *f2 = f1 + cl->n, *ta = f2 + cl->n,
           *tb = ta + cl->n;
    const double *M = cl->mask ? P + OFF(cl->mask) : NULL;
    lin(P + OFF(cl->ff1_w), P + OFF(cl->ff1_b), M, cur, cl->n, K, f1);
    if (m->cfg.mode == AURA_LNN_MODE_PURE) {
        const double *A = P + OFF(cl->A), *wt = P + OFF(cl->w_tau);
        for (int j = 0; j < cl->n; j++) {
            out[j] = -A[j] * exp(-dt * (fabs(wt[j]) + fabs(f1[j]))) * f1[j] + A[j];
        }
        return;
    }
    lin(P + OFF(cl->ff2_w), P + OFF(cl->ff2_b), M, cur, cl->n, K, f2);
    lin(P + OFF(cl->ta_w), P + OFF(cl->ta_b), NULL, cur, cl->n, K, ta);
    lin(P + OFF(cl->tb_w), P + OFF(cl->tb_b), NULL, cur, cl->n, K, tb);
    for (int j = 0; j < cl->n; j++) {
        double a = tanh(f1[j]), b = tanh(f2[j]), g = sg(ta[j] * dt + tb[j]);
        out[j] = m->cfg.mode == AURA_LNN_MODE_DEFAULT ? a * (1.0 - g) + g * b : a + g * b;
        f1[j] = a; /* the tape keeps tanh(f1), tanh(f2), g */
        f2[j] = b;
        ta[j] = g;
    }
}

typedef struct ltc_d {
    const double *gleak, *vleak, *cm, *w, *sigma, *mu, *erev, *s_w, *s_sigma, *s_mu, *s_erev,
        *mask, *s_mask, *in_w, *in_b, *out_w, *out_b;
} ltc_d;

static ltc_d ltc_view(const aura_lnn_model *m, const double *P)
{
    const lnn_ltc *t = &m->ltc;
    ltc_d v;
#define V(f) v.f = t->f ? P + OFF(t->f) : NULL
    V(gleak);
    V(vleak);
    V(cm);
    V(w);
    V(sigma);
    V(mu);
    V(erev);
    V(s_w);
    V(s_sigma);
    V(s_mu);
    V(s_erev);
    V(mask);
    V(s_mask);
    V(in_w);
    V(in_b);
    V(out_w);
    V(out_b);
#undef V
    return v;
}

/* Sensory sums of an LTC step. */
static void ltc_sensory(const aura_lnn_model *m, const ltc_d *p, const double *xt, double *num_s,
                        double *den_s)
{
    int N = m->H, C = m->C, Pc = m->cfg.implicit_param_constraints;
    for (int j = 0; j < N; j++) {
        num_s[j] = den_s[j] = 0.0;
    }
    for (int i = 0; i < C; i++) {
        for (int j = 0; j < N; j++) {
            size_t k = (size_t)i * N + j;
            double w = Pc ? sp(p->s_w[k]) : p->s_w[k];
            double s = w * sg(p->s_sigma[k] * (xt[i] - p->s_mu[k])) * p->s_mask[k];
            num_s[j] += s * p->s_erev[k];
            den_s[j] += s;
        }
    }
}

static void ltc_fwd(const aura_lnn_model *m, const double *P, const double *x, const double *hs,
                    double dt, double *out, double *tp, double *scratch)
{
    ltc_d p = ltc_view(m, P);
    int N = m->H, C = m->C, K = m->cfg.ode_unfolds, Pc = m->cfg.implicit_param_constraints;
    double *xt = tp, *v = xt + C, *den = v + (size_t)(K + 1) * N;
    double *num_s = scratch, *den_s = num_s + N, *cmt = den_s + N, *gl = cmt + N, *nu = gl + N;
    for (int i = 0; i < C; i++) {
        xt[i] = x[i] * (p.in_w ? p.in_w[i] : 1.0) + (p.in_b ? p.in_b[i] : 0.0);
    }
    ltc_sensory(m, &p, xt, num_s, den_s);
    for (int j = 0; j < N; j++) {
        cmt[j] = (Pc ? sp(p.cm[j]) : p.cm[j]) / (dt / K);
        gl[j] = Pc ? sp(p.gleak[j]) : p.gleak[j];
    }
    memcpy(v, hs, sizeof(double) * (size_t)N);
    for (int u = 0; u < K; u++) {
        const double *vo = v + (size_t)u * N;
        double *vn = v + (size_t)(u + 1) * N, *de = den + (size_t)u * N;
        for (int j = 0; j < N; j++) {
            nu[j] = cmt[j] * vo[j] + gl[j] * p.vleak[j] + num_s[j];
            de[j] = cmt[j] + gl[j] + den_s[j] + m->cfg.epsilon;
        }
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                size_t k = (size_t)i * N + j;
                double w = Pc ? sp(p.w[k]) : p.w[k];
                double a = w * sg(p.sigma[k] * (vo[i] - p.mu[k])) * p.mask[k];
                nu[j] += a * p.erev[k];
                de[j] += a;
            }
        }
        for (int j = 0; j < N; j++) {
            vn[j] = nu[j] / de[j];
        }
    }
    memcpy(out, v + (size_t)K * N, sizeof(double) * (size_t)N);
}

static void lstm_fwd(const aura_lnn_model *m, const double *P, const double *x, tape *t)
{
    int H = m->H;
    lin(P + OFF(m->lstm_wi), P + OFF(m->lstm_bi), NULL, x, 4 * H, m->C, t->s);
    const double *Wr = P + OFF(m->lstm_wr);
    for (int o = 0; o < 4 * H; o++) {
        for (int i = 0; i < H; i++) {
            t->s[o] += Wr[(size_t)o * H + i] * t->h_in[i];
        }
    }
    for (int j = 0; j < H; j++) {
        double in = tanh(t->s[j]), ig = sg(t->s[H + j]), fg = sg(t->s[2 * H + j] + 1.0);
        double og = sg(t->s[3 * H + j]);
        t->c_new[j] = t->c_in[j] * fg + in * ig;
        t->hh[j] = tanh(t->c_new[j]) * og;
    }
}

/* One step forward: t->h_in, t->c_in set by the caller. */
static void step_fwd(const aura_lnn_model *m, const double *P, const double *x, double dt, tape *t,
                     double *scratch)
{
    int H = m->H;
    const double *hs = t->h_in;
    if (m->cfg.mixed_memory) {
        lstm_fwd(m, P, x, t);
        hs = t->hh;
    } else {
        memcpy(t->c_new, t->c_in, sizeof(double) * (size_t)H);
    }
    if (m->cfg.kind == AURA_LNN_LTC) {
        ltc_fwd(m, P, x, hs, dt, t->h_new, t->cell, scratch);
        const lnn_ltc *lt = &m->ltc;
        for (int j = 0; j < lt->m; j++) {
            t->y[j] = t->h_new[j] * (lt->out_w ? P[OFF(lt->out_w) + j] : 1.0) +
                      (lt->out_b ? P[OFF(lt->out_b) + j] : 0.0);
        }
        return;
    }
    for (int l = 0; l < m->n_layers; l++) {
        const lnn_cfc *cl = &m->cell[l];
        const double *inp = l == 0 ? x : t->h_new + m->cell[l - 1].state_off;
        cfc_fwd(m, P, cl, inp, hs + cl->state_off, dt, t->h_new + cl->state_off,
                cell_tape(m, t->cell, l));
    }
    const lnn_cfc *last = &m->cell[m->n_layers - 1];
    const double *src = t->h_new + last->state_off;
    if (m->fc_w) {
        lin(P + OFF(m->fc_w), P + OFF(m->fc_b), NULL, src, m->cfg.proj_size, last->n, t->y);
    } else {
        memcpy(t->y, src, sizeof(double) * (size_t)last->n);
    }
}

/* ---- backward ---- */

/* CfC cell backward: dout (n) -> dinp (in, added), dhs (n, added). */
static void cfc_bwd(const aura_lnn_model *m, const double *P, double *G, const lnn_cfc *cl,
                    double dt, const double *out, const double *dout, double *dinp, double *dhs,
                    const double *tp, double *w1, double *w2, lnn_recs *rc)
{
    int D = cl->in + cl->n, U = cl->bb_units, n = cl->n;
    const double *z = tp, *bb = z + D, *f1 = bb + (size_t)2 * cl->n_bb * U, *f2 = f1 + n,
                 *ta = f2 + n;
    const double *cur = cl->n_bb ? bb + (size_t)2 * (cl->n_bb - 1) * U + U : z;
    int K = cl->n_bb ? U : D;
    double *df1 = w1, *df2 = df1 + n, *dta = df2 + n, *dtb = dta + n, *dcur = dtb + n;
    memset(dcur, 0, sizeof(double) * (size_t)(K > D ? K : D));
    const double *M = cl->mask ? P + OFF(cl->mask) : NULL;
    if (m->cfg.mode == AURA_LNN_MODE_PURE) {
        const double *A = P + OFF(cl->A), *wt = P + OFF(cl->w_tau);
        for (int j = 0; j < n; j++) {
            double e = exp(-dt * (fabs(wt[j]) + fabs(f1[j])));
            G[OFF(cl->A) + j] += dout[j] * (1.0 - e * f1[j]);
            double swt = (wt[j] > 0) - (wt[j] < 0);
            G[OFF(cl->w_tau) + j] += dout[j] * A[j] * f1[j] * e * dt * swt;
            df1[j] = dout[j] * -A[j] * e * (1.0 - dt * fabs(f1[j]));
        }
        lin_b(P + OFF(cl->ff1_w), M, cur, df1, n, K, G + OFF(cl->ff1_w), G + OFF(cl->ff1_b), dcur, rc);
    } else {
        int gate = m->cfg.mode == AURA_LNN_MODE_DEFAULT;
        for (int j = 0; j < n; j++) {
            double a = f1[j], b = f2[j], g = ta[j]; /* taped tanh(f1), tanh(f2), g */
            double dg = dout[j] * (gate ? b - a : b);
            df1[j] = dout[j] * (gate ? 1.0 - g : 1.0) * (1.0 - a * a);
            df2[j] = dout[j] * g * (1.0 - b * b);
            dtb[j] = dg * g * (1.0 - g);
            dta[j] = dtb[j] * dt;
        }
        lin_b(P + OFF(cl->ff1_w), M, cur, df1, n, K, G + OFF(cl->ff1_w), G + OFF(cl->ff1_b), dcur, rc);
        lin_b(P + OFF(cl->ff2_w), M, cur, df2, n, K, G + OFF(cl->ff2_w), G + OFF(cl->ff2_b), dcur, rc);
        lin_b(P + OFF(cl->ta_w), NULL, cur, dta, n, K, G + OFF(cl->ta_w), G + OFF(cl->ta_b), dcur, rc);
        lin_b(P + OFF(cl->tb_w), NULL, cur, dtb, n, K, G + OFF(cl->tb_w), G + OFF(cl->tb_b), dcur, rc);
    }
    (void)out;
    for (int l = cl->n_bb - 1; l >= 0; l--) {
        const double *pre = bb + (size_t)2 * l * U;
        const double *below = l == 0 ? z : bb + (size_t)2 * (l - 1) * U + U;
        int kb = l == 0 ? D : U;
        for (int i = 0; i < U; i++) {
            w2[i] = dcur[i] * pre[i]; /* taped act'(pre) */
        }
        memset(dcur, 0, sizeof(double) * (size_t)(kb > U ? kb : U));
        lin_b(P + OFF(cl->bb_w[l]), NULL, below, w2, U, kb, G + OFF(cl->bb_w[l]),
              G + OFF(cl->bb_b[l]), dcur, rc);
    }
    for (int i = 0; i < cl->in; i++) {
        dinp[i] += dcur[i];
    }
    for (int j = 0; j < n; j++) {
        dhs[j] += dcur[cl->in + j];
    }
}

/* The input-synapse part of ltc_bwd: from the gradients of the sensory
 * sums (dnum_s, dden_s) to the sensory parameters, the input map and dx. */
static void ltc_sensory_bwd(const aura_lnn_model *m, const ltc_d *pp, double *G, const double *x,
                            const double *xt, const double *dnum_s, const double *dden_s,
                            double *dxt, double *dx)
{
    const ltc_d p = *pp;
    const lnn_ltc *lt = &m->ltc;
    int N = m->H, C = m->C, Pc = m->cfg.implicit_param_constraints;
    for (int i = 0; i < C; i++) {
        dxt[i] = 0.0;
        for (int j = 0; j < N; j++) {
            size_t k = (size_t)i * N + j;
            if (p.s_mask[k] == 0.0) {
                continue;
            }
            double wv = Pc ? sp(p.s_w[k]) : p.s_w[k];
            double s = sg(p.s_sigma[k] * (xt[i] - p.s_mu[k]));
            double a = wv * s * p.s_mask[k];
            double da = dnum_s[j] * p.s_erev[k] + dden_s[j];
            G[OFF(lt->s_erev) + k] += dnum_s[j] * a;
            G[OFF(lt->s_w) + k] += da * s * p.s_mask[k] * (Pc ? sp_d(p.s_w[k]) : 1.0);
            double dpre = da * wv * p.s_mask[k] * s * (1.0 - s);
            G[OFF(lt->s_sigma) + k] += dpre * (xt[i] - p.s_mu[k]);
            G[OFF(lt->s_mu) + k] -= dpre * p.s_sigma[k];
            dxt[i] += dpre * p.s_sigma[k];
        }
        if (lt->in_w) {
            G[OFF(lt->in_w) + i] += dxt[i] * x[i];
        }
        if (lt->in_b) {
            G[OFF(lt->in_b) + i] += dxt[i];
        }
        dx[i] += dxt[i] * (p.in_w ? p.in_w[i] : 1.0);
    }
}

/* LTC backward: dv (N, the gradient of the new state) -> dx (C, added),
 * dhs (N, added). */
static void ltc_bwd(const aura_lnn_model *m, const double *P, double *G, const double *x, double dt,
                    double *dv, double *dx, double *dhs, const double *tp, double *w)
{
    ltc_d p = ltc_view(m, P);
    const lnn_ltc *lt = &m->ltc;
    int N = m->H, C = m->C, K = m->cfg.ode_unfolds, Pc = m->cfg.implicit_param_constraints;
    const double *xt = tp, *v = xt + C, *den = v + (size_t)(K + 1) * N;
    double *cmt = w, *gl = cmt + N, *dcmt = gl + N, *dgl = dcmt + N, *dnum_s = dgl + N,
           *dden_s = dnum_s + N, *dvo = dden_s + N, *dxt = dvo + N;
    for (int j = 0; j < N; j++) {
        cmt[j] = (Pc ? sp(p.cm[j]) : p.cm[j]) / (dt / K);
        gl[j] = Pc ? sp(p.gleak[j]) : p.gleak[j];
        dcmt[j] = dgl[j] = dnum_s[j] = dden_s[j] = 0.0;
    }
    for (int u = K - 1; u >= 0; u--) {
        const double *vo = v + (size_t)u * N, *vn = vo + N, *de = den + (size_t)u * N;
        for (int j = 0; j < N; j++) {
            double dnum = dv[j] / de[j], dden = -dv[j] * vn[j] / de[j];
            dcmt[j] += dnum * vo[j] + dden;
            dvo[j] = dnum * cmt[j];
            dgl[j] += dnum * p.vleak[j] + dden;
            G[OFF(lt->vleak) + j] += dnum * gl[j];
            dnum_s[j] += dnum;
            dden_s[j] += dden;
            dv[j] = dnum; /* reuse: dnum_j below */
            w[8 * N + C + j] = dden;
        }
        const double *dd = w + 8 * N + C;
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                size_t k = (size_t)i * N + j;
                if (p.mask[k] == 0.0) {
                    continue;
                }
                double wv = Pc ? sp(p.w[k]) : p.w[k];
                double s = sg(p.sigma[k] * (vo[i] - p.mu[k]));
                double a = wv * s * p.mask[k];
                double da = dv[j] * p.erev[k] + dd[j];
                G[OFF(lt->erev) + k] += dv[j] * a;
                G[OFF(lt->w) + k] += da * s * p.mask[k] * (Pc ? sp_d(p.w[k]) : 1.0);
                double dpre = da * wv * p.mask[k] * s * (1.0 - s);
                G[OFF(lt->sigma) + k] += dpre * (vo[i] - p.mu[k]);
                G[OFF(lt->mu) + k] -= dpre * p.sigma[k];
                dvo[i] += dpre * p.sigma[k];
            }
        }
        memcpy(dv, dvo, sizeof(double) * (size_t)N);
    }
    for (int j = 0; j < N; j++) {
        dhs[j] += dv[j];
        G[OFF(lt->cm) + j] += dcmt[j] * K / dt * (Pc ? sp_d(p.cm[j]) : 1.0);
        G[OFF(lt->gleak) + j] += dgl[j] * (Pc ? sp_d(p.gleak[j]) : 1.0);
    }
    ltc_sensory_bwd(m, &p, G, x, xt, dnum_s, dden_s, dxt, dx);
}

static void lstm_bwd(const aura_lnn_model *m, const double *P, double *G, const double *x,
                     const tape *t, const double *dhh, double *dc, double *dh_prev, double *dx,
                     double *ds, lnn_recs *rc)
{
    int H = m->H;
    for (int j = 0; j < H; j++) {
        double in = tanh(t->s[j]), ig = sg(t->s[H + j]), fg = sg(t->s[2 * H + j] + 1.0);
        double og = sg(t->s[3 * H + j]), tc = tanh(t->c_new[j]);
        double dcn = dc[j] + dhh[j] * og * (1.0 - tc * tc);
        ds[3 * H + j] = dhh[j] * tc * og * (1.0 - og);
        ds[2 * H + j] = dcn * t->c_in[j] * fg * (1.0 - fg);
        ds[H + j] = dcn * in * ig * (1.0 - ig);
        ds[j] = dcn * ig * (1.0 - in * in);
        dc[j] = dcn * fg;
    }
    lin_b(P + OFF(m->lstm_wi), NULL, x, ds, 4 * H, m->C, G + OFF(m->lstm_wi), G + OFF(m->lstm_bi),
          dx, rc);
    lin_b(P + OFF(m->lstm_wr), NULL, t->h_in, ds, 4 * H, H, G + OFF(m->lstm_wr), NULL, dh_prev, rc);
}

/* Backward of one step.  dh (H) and dc (H) hold the gradients of the new
 * state on entry and of the old state on return; gy (O) of the output. */
static void step_bwd(const aura_lnn_model *m, const double *P, double *G, const double *x,
                     double dt, const tape *t, const double *gy, double *dh, double *dc, double *dx,
                     double *w, lnn_recs *rc)
{
    int H = m->H;
    double *dhs = w, *dprev = dhs + H, *ws = dprev + H;
    memset(dhs, 0, sizeof(double) * (size_t)2 * H);
    const double *hs = m->cfg.mixed_memory ? t->hh : t->h_in;
    if (m->cfg.kind == AURA_LNN_LTC) {
        const lnn_ltc *lt = &m->ltc;
        for (int j = 0; j < lt->m; j++) {
            dh[j] += gy[j] * (lt->out_w ? P[OFF(lt->out_w) + j] : 1.0);
            if (lt->out_w) {
                G[OFF(lt->out_w) + j] += gy[j] * t->h_new[j];
            }
            if (lt->out_b) {
                G[OFF(lt->out_b) + j] += gy[j];
            }
        }
        ltc_bwd(m, P, G, x, dt, dh, dx, dhs, t->cell, ws);
    } else {
        const lnn_cfc *last = &m->cell[m->n_layers - 1];
        double *dlast = dh + last->state_off;
        if (m->fc_w) {
            lin_b(P + OFF(m->fc_w), NULL, t->h_new + last->state_off, gy, m->cfg.proj_size,
                  last->n, G + OFF(m->fc_w), G + OFF(m->fc_b), dlast, rc);
        } else {
            for (int j = 0; j < last->n; j++) {
                dlast[j] += gy[j];
            }
        }
        for (int l = m->n_layers - 1; l >= 0; l--) {
            const lnn_cfc *cl = &m->cell[l];
            double *dinp = l == 0 ? dx : dh + m->cell[l - 1].state_off;
            size_t wsz = 4 * (size_t)cl->n + (size_t)(cl->in + cl->n) + (size_t)cl->bb_units;
            cfc_bwd(m, P, G, cl, dt, t->h_new + cl->state_off, dh + cl->state_off, dinp,
                    dhs + cl->state_off, cell_tape(m, t->cell, l), ws, ws + wsz, rc);
            (void)hs;
        }
    }
    if (m->cfg.mixed_memory) {
        lstm_bwd(m, P, G, x, t, dhs, dc, dprev, dx, ws, rc);
        memcpy(dh, dprev, sizeof(double) * (size_t)H);
    } else {
        memcpy(dh, dhs, sizeof(double) * (size_t)H);
    }
}

size_t aura__lnn_grad_ws(const aura_lnn_model *m)
{
    size_t H = (size_t)m->H, C = (size_t)m->C, U = (size_t)m->cfg.backbone_units;
    return 4 * (C + H + U) + 24 * H + 2 * C + 64;
}

/* gy of the MSE loss of one sample (see lnn_grad.h); returns its loss. */
static double mse_gy(const lnn_loss *ls, size_t L, size_t O, const double *tp, size_t ts,
                     const aura_lnn_model *m, const double *target, double *gy)
{
    double l = 0.0;
    for (size_t s = 0; s < L; s++) {
        tape t = tape_at(m, (double *)tp + s * ts);
        for (size_t o = 0; o < O; o++) {
            double d = t.y[o] - target[s * O + o];
            int on = !ls->last_only || s == L - 1;
            gy[s * O + o] = on ? 2.0 * ls->scale * d : 0.0;
            l += on ? ls->scale * d * d : 0.0;
        }
    }
    return l;
}

aura_status aura__lnn_grad_d(const aura_lnn_model *m, const double *P, size_t B, size_t L,
                             const double *x, const double *dt, const double *h0,
                             const double *c0, const double *gy, double *loss, double *y,
                             double *G, double *gx, double *gh0, double *gc0)
{
    lnn_loss ls = {gy, NULL, 0.0, 0};
    return aura__lnn_grad_loss(m, P, B, L, x, dt, h0, c0, &ls, loss, y, G, gx, gh0, gc0);
}

/* Work buffers of one grad call. */
typedef struct gwork {
    double *tp, *w; /* tape (L steps), workspace */
    size_t ts, wsn; /* tape doubles per step, workspace doubles */
} gwork;

/* Forward over the L steps of sample b into the tape; returns the sum of
 * y * gy over them (0 without gy or with a target) and writes y. */
static double seq_fwd(const aura_lnn_model *m, const double *P, size_t b, size_t L,
                      const double *x, const double *dt, const double *h0, const double *c0,
                      const lnn_loss *ls, double *y, const gwork *g)
{
    size_t H = (size_t)m->H, C = (size_t)m->C, O = (size_t)m->O;
    double total = 0.0;
    for (size_t s = 0; s < L; s++) {
        tape t = tape_at(m, g->tp + s * g->ts);
        if (s == 0) {
            memcpy(t.h_in, h0 + b * H, sizeof(double) * H);
            for (size_t j = 0; j < H; j++) {
                t.c_in[j] = c0 ? c0[b * H + j] : 0.0;
            }
        } else {
            tape pt = tape_at(m, g->tp + (s - 1) * g->ts);
            memcpy(t.h_in, pt.h_new, sizeof(double) * H);
            memcpy(t.c_in, pt.c_new, sizeof(double) * H);
        }
        step_fwd(m, P, x + (b * L + s) * C, dt ? dt[b * L + s] : 1.0, &t, g->w);
        for (size_t o = 0; o < O; o++) {
            size_t k = (b * L + s) * O + o;
            total += ls->gy && !ls->target ? t.y[o] * ls->gy[k] : 0.0;
            if (y) {
                y[k] = t.y[o];
            }
        }
    }
    return total;
}

/* Backward over the taped steps of sample b (gyb: its (L, O) output
 * gradients); dh, dc end as the gradients of its initial state. */
static void seq_bwd(const aura_lnn_model *m, const double *P, double *G, size_t b, size_t L,
                    const double *x, const double *dt, const double *gyb, double *gx, double *dh,
                    double *dc, const gwork *g, lnn_recs *rc)
{
    size_t H = (size_t)m->H, C = (size_t)m->C, O = (size_t)m->O;
    memset(dh, 0, sizeof(double) * 2 * H);
    for (size_t s = L; s-- > 0;) {
        tape t = tape_at(m, g->tp + s * g->ts);
        double *dxs = gx ? gx + (b * L + s) * C : g->w + g->wsn + 2 * H;
        if (!gx) {
            memset(dxs, 0, sizeof(double) * C);
        }
        step_bwd(m, P, G, x + (b * L + s) * C, dt ? dt[b * L + s] : 1.0, &t, gyb + s * O, dh, dc,
                 dxs, g->w, rc);
    }
    if (rc) {
        recs_flush(rc);
    }
}

aura_status aura__lnn_grad_loss(const aura_lnn_model *m, const double *P, size_t B, size_t L,
                                const double *x, const double *dt, const double *h0,
                                const double *c0, const lnn_loss *ls, double *loss, double *y,
                                double *G, double *gx, double *gh0, double *gc0)
{
    size_t H = (size_t)m->H, C = (size_t)m->C, O = (size_t)m->O;
    gwork g = {NULL, NULL, aura__lnn_tape_step(m), aura__lnn_grad_ws(m)};
    g.tp = aura__alloc_array(m->alloc, L * g.ts + 1, sizeof(double));
    g.w = aura__alloc_array(m->alloc, g.wsn + 4 * H + C + L * O + 1, sizeof(double));
    if (!g.tp || !g.w) {
        aura__free(m->alloc, g.tp);
        aura__free(m->alloc, g.w);
        return AURA_E_NOMEM;
    }
    double *dh = g.w + g.wsn, *dc = dh + H, *gy_t = g.w + g.wsn + 4 * H + C;
    double total = 0.0;
    /* deferred weight gradients of one sample: lin_b sites per step and
     * the dy they record (without room lin_b adds immediately) */
    size_t sites = 3, dyn = (size_t)O + 8 * H;
    for (int l = 0; l < m->n_layers; l++) {
        const lnn_cfc *cl = &m->cell[l];
        sites += 4 + (size_t)cl->n_bb;
        dyn += 4 * (size_t)cl->n + (size_t)cl->n_bb * (size_t)cl->bb_units;
    }
    lnn_recs rc = {NULL, 0, 0, NULL, 0, 0}, *rcp = NULL;
    if (G && m->cfg.kind != AURA_LNN_LTC) {
        rc.r = aura__alloc_array(m->alloc, L * sites, sizeof(lnn_rec));
        rc.dy = aura__alloc_array(m->alloc, L * dyn, sizeof(double));
        if (rc.r && rc.dy) {
            rc.cap = L * sites;
            rc.dy_cap = L * dyn;
            rcp = &rc;
        }
    }
    for (size_t b = 0; b < B; b++) {
        total += seq_fwd(m, P, b, L, x, dt, h0, c0, ls, y, &g);
        const double *gyb = ls->gy ? ls->gy + b * L * O : NULL;
        if (ls->target) {
            total += mse_gy(ls, L, O, g.tp, g.ts, m, ls->target + b * L * O, gy_t);
            gyb = gy_t;
        }
        if (!G) {
            continue;
        }
        seq_bwd(m, P, G, b, L, x, dt, gyb, gx, dh, dc, &g, rcp);
        if (gh0) {
            memcpy(gh0 + b * H, dh, sizeof(double) * H);
        }
        if (gc0) {
            memcpy(gc0 + b * H, dc, sizeof(double) * H);
        }
    }
    if (loss) {
        *loss = total;
    }
    aura__free(m->alloc, rc.r);
    aura__free(m->alloc, rc.dy);
    aura__free(m->alloc, g.tp);
    aura__free(m->alloc, g.w);
    return AURA_OK;
}
