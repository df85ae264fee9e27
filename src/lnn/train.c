/* train.c -- the public gradient entry point (float in, float out, double
 * inside; see grad.c).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "lnn/lnn_grad.h"

aura_status aura_lnn_model_param_offset(const aura_lnn_model *m, const char *name, size_t *offset,
                                        size_t *n_elems)
{
    AURA_CHECK_ARG(m && name);
    for (size_t i = 0; i < m->n_params; i++) {
        if (strcmp(m->params[i].name, name) == 0) {
            if (offset) {
                *offset = m->params[i].off;
            }
            if (n_elems) {
                *n_elems = m->params[i].n;
            }
            return AURA_OK;
        }
    }
    return AURA_E_NOTFOUND;
}

aura_status aura_lnn_model_param_shape(const aura_lnn_model *m, const char *name, size_t shape[2],
                                       int *ndim)
{
    AURA_CHECK_ARG(m && name && shape && ndim);
    for (size_t i = 0; i < m->n_params; i++) {
        if (strcmp(m->params[i].name, name) == 0) {
            shape[0] = m->params[i].shape[0];
            shape[1] = m->params[i].shape[1];
            *ndim = m->params[i].ndim;
            return AURA_OK;
        }
    }
    return AURA_E_NOTFOUND;
}

static int finite_f(const float *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        if (!isfinite(v[i])) {
            return 0;
        }
    }
    return 1;
}

static int finite_d(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            return 0;
        }
    }
    return 1;
}

static void to_d(double *d, const float *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        d[i] = f ? (double)f[i] : 0.0;
    }
}

static void to_f(float *f, const double *d, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        f[i] = (float)d[i];
    }
}

aura_status aura_lnn_model_grad(aura_lnn_model *m, size_t B, size_t L, const float *x,
                                const float *dt, const float *h0, const float *c0, const float *gy,
                                float *y, float *g_params, float *g_x, float *g_h0, float *g_c0)
{
    AURA_CHECK_ARG(m && x && gy);
    size_t H = (size_t)m->H, C = (size_t)m->C, O = (size_t)m->O, NP = m->pdata_len;
    if (!finite_f(x, B * L * C) || !finite_f(dt, B * L) || !finite_f(h0, B * H) ||
        !finite_f(c0, B * H) || !finite_f(gy, B * L * O)) {
        aura__lnn_errf(m->errmsg, sizeof m->errmsg, "NaN/Inf in the inputs of grad");
        return AURA_E_NUMERIC;
    }
    size_t n_x = B * L * C, n_s = B * H, n_y = B * L * O;
    size_t total = 2 * NP + 2 * n_x + B * L + 4 * n_s + 2 * n_y;
    double *buf = aura__calloc(m->alloc, total + 1, sizeof(double));
    if (!buf) {
        return AURA_E_NOMEM;
    }
    double *P = buf, *G = P + NP, *xd = G + NP, *gx = xd + n_x, *dtd = gx + n_x, *h0d = dtd + B * L,
           *c0d = h0d + n_s, *gh0 = c0d + n_s, *gc0 = gh0 + n_s, *gyd = gc0 + n_s, *yd = gyd + n_y;
    to_d(P, m->pdata, NP);
    to_d(xd, x, n_x);
    to_d(h0d, h0, n_s);
    to_d(c0d, c0, n_s);
    to_d(gyd, gy, n_y);
    if (dt) {
        to_d(dtd, dt, B * L);
    }
    aura_status st = aura__lnn_grad_d(m, P, B, L, xd, dt ? dtd : NULL, h0d, c0d, gyd, NULL, yd, G,
                                      gx, gh0, gc0);
    if (st == AURA_OK && (!finite_d(G, NP) || !finite_d(yd, n_y) || !finite_d(gx, n_x))) {
        aura__lnn_errf(m->errmsg, sizeof m->errmsg, "gradient is not finite");
        st = AURA_E_NUMERIC;
    }
    if (st == AURA_OK) {
        for (size_t i = 0; i < m->n_params; i++) {
            if (!m->params[i].trainable) {
                memset(G + m->params[i].off, 0, sizeof(double) * m->params[i].n);
            }
        }
        to_f(y, yd, n_y);
        to_f(g_params, G, NP);
        to_f(g_x, gx, n_x);
        to_f(g_h0, gh0, n_s);
        to_f(g_c0, gc0, n_s);
    }
    aura__free(m->alloc, buf);
    return st;
}

/* ---- Adam trainer ---- */

struct aura_lnn_trainer {
    aura_lnn_model *m;
    aura_lnn_train_opts o;
    double *P, *G, *mom1, *mom2; /* pdata_len each */
    double *buf;                 /* x, dt, target, h0, c0 in double */
    size_t buf_len;
    long t;                      /* Adam step count */
};

aura_lnn_train_opts aura_lnn_train_opts_default(void)
{
    aura_lnn_train_opts o = {0.01, 0.9, 0.999, 1e-8, 1.0, 0};
    return o;
}

void aura_lnn_trainer_destroy(aura_lnn_trainer *tr)
{
    if (!tr) {
        return;
    }
    const aura_allocator *a = tr->m->alloc;
    aura__free(a, tr->P);
    aura__free(a, tr->buf);
    aura__free(a, tr);
}

aura_status aura_lnn_trainer_create(aura_lnn_model *m, const aura_lnn_train_opts *opts,
                                    aura_lnn_trainer **out)
{
    AURA_CHECK_ARG(m && out);
    aura_lnn_train_opts o = opts ? *opts : aura_lnn_train_opts_default();
    if (!(o.lr > 0 && o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1 && o.eps > 0 &&
          o.clip_norm >= 0)) {
        return AURA_E_INVAL;
    }
    aura_lnn_trainer *tr = aura__calloc(m->alloc, 1, sizeof(*tr));
    if (!tr) {
        return AURA_E_NOMEM;
    }
    tr->m = m;
    tr->o = o;
    tr->P = aura__calloc(m->alloc, 4 * m->pdata_len, sizeof(double));
    if (!tr->P) {
        aura_lnn_trainer_destroy(tr);
        return AURA_E_NOMEM;
    }
    tr->G = tr->P + m->pdata_len;
    tr->mom1 = tr->G + m->pdata_len;
    tr->mom2 = tr->mom1 + m->pdata_len;
    *out = tr;
    return AURA_OK;
}

/* Converts a batch to double in tr->buf. */
static aura_status batch_in(aura_lnn_trainer *tr, size_t B, size_t L, const float *x,
                            const float *dt, const float *target, double **xd, double **dtd,
                            double **td, double **h0)
{
    aura_lnn_model *m = tr->m;
    size_t nx = B * L * (size_t)m->C, nt = B * L * (size_t)m->O, ns = B * (size_t)m->H;
    if (!finite_f(x, nx) || !finite_f(dt, B * L) || !finite_f(target, nt)) {
        aura__lnn_errf(m->errmsg, sizeof m->errmsg, "NaN/Inf in the training batch");
        return AURA_E_NUMERIC;
    }
    size_t need = nx + B * L + nt + 2 * ns + 1;
    if (need > tr->buf_len) {
        double *nb = aura__alloc_array(m->alloc, need, sizeof(double));
        if (!nb) {
            return AURA_E_NOMEM;
        }
        aura__free(m->alloc, tr->buf);
        tr->buf = nb;
        tr->buf_len = need;
    }
    *xd = tr->buf;
    *dtd = *xd + nx;
    *td = *dtd + B * L;
    *h0 = *td + nt;
    to_d(*xd, x, nx);
    to_d(*dtd, dt, B * L);
    to_d(*td, target, nt);
    memset(*h0, 0, sizeof(double) * 2 * ns);
    if (!dt) {
        *dtd = NULL;
    }
    return AURA_OK;
}

static aura_status loss_grad(aura_lnn_trainer *tr, size_t B, size_t L, const float *x,
                             const float *dt, const float *target, double *loss, double *G)
{
    aura_lnn_model *m = tr->m;
    AURA_CHECK_ARG(x && target && B > 0 && L > 0);
    double *xd, *dtd, *td, *h0;
    aura_status st = batch_in(tr, B, L, x, dt, target, &xd, &dtd, &td, &h0);
    if (st != AURA_OK) {
        return st;
    }
    to_d(tr->P, m->pdata, m->pdata_len);
    size_t used = B * (tr->o.last_step_only ? 1 : L) * (size_t)m->O;
    lnn_loss ls = {NULL, td, 1.0 / (double)used, tr->o.last_step_only};
    double l = 0.0;
    if (G) {
        memset(G, 0, sizeof(double) * m->pdata_len);
    }
    st = aura__lnn_grad_loss(m, tr->P, B, L, xd, dtd, h0, m->cfg.mixed_memory ? h0 + B * m->H : NULL,
                             &ls, &l, NULL, G, NULL, NULL, NULL);
    if (st == AURA_OK && (!isfinite(l) || (G && !finite_d(G, m->pdata_len)))) {
        aura__lnn_errf(m->errmsg, sizeof m->errmsg, "loss or gradient is not finite");
        st = AURA_E_NUMERIC;
    }
    if (st == AURA_OK && loss) {
        *loss = l;
    }
    return st;
}

aura_status aura_lnn_trainer_eval(aura_lnn_trainer *tr, size_t B, size_t L, const float *x,
                                  const float *dt, const float *target, double *loss)
{
    AURA_CHECK_ARG(tr);
    return loss_grad(tr, B, L, x, dt, target, loss, NULL);
}

/* ncps LTC explicit mode: w, sensory_w, cm, gleak clipped at 0. */
static void ltc_constrain(aura_lnn_model *m)
{
    const float *ps[4] = {m->ltc.w, m->ltc.s_w, m->ltc.cm, m->ltc.gleak};
    size_t ns[4] = {(size_t)m->H * m->H, (size_t)m->C * m->H, (size_t)m->H, (size_t)m->H};
    for (int k = 0; k < 4; k++) {
        float *p = m->pdata + (ps[k] - m->pdata);
        for (size_t i = 0; i < ns[k]; i++) {
            p[i] = p[i] > 0.0f ? p[i] : 0.0f;
        }
    }
}

aura_status aura_lnn_trainer_step(aura_lnn_trainer *tr, size_t B, size_t L, const float *x,
                                  const float *dt, const float *target, double *loss)
{
    AURA_CHECK_ARG(tr);
    aura_lnn_model *m = tr->m;
    aura_status st = loss_grad(tr, B, L, x, dt, target, loss, tr->G);
    if (st != AURA_OK) {
        return st;
    }
    double nrm = 0.0;
    for (size_t i = 0; i < m->n_params; i++) {
        const lnn_param *p = &m->params[i];
        for (size_t k = 0; p->trainable && k < p->n; k++) {
            nrm += tr->G[p->off + k] * tr->G[p->off + k];
        }
    }
    nrm = sqrt(nrm);
    double scale = tr->o.clip_norm > 0 && nrm > tr->o.clip_norm ? tr->o.clip_norm / nrm : 1.0;
    tr->t++;
    double b1 = tr->o.beta1, b2 = tr->o.beta2;
    double c1 = 1.0 - pow(b1, (double)tr->t), c2 = 1.0 - pow(b2, (double)tr->t);
    for (size_t i = 0; i < m->n_params; i++) {
        const lnn_param *p = &m->params[i];
        for (size_t k = 0; p->trainable && k < p->n; k++) {
            size_t j = p->off + k;
            double g = tr->G[j] * scale;
            tr->mom1[j] = b1 * tr->mom1[j] + (1.0 - b1) * g;
            tr->mom2[j] = b2 * tr->mom2[j] + (1.0 - b2) * g * g;
            double upd = tr->o.lr * (tr->mom1[j] / c1) / (sqrt(tr->mom2[j] / c2) + tr->o.eps);
            m->pdata[j] = (float)(m->pdata[j] - upd);
        }
    }
    if (m->cfg.kind == AURA_LNN_LTC && !m->cfg.implicit_param_constraints) {
        ltc_constrain(m);
    }
    m->dirty = 1;
    return AURA_OK;
}
