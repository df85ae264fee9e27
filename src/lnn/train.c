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
