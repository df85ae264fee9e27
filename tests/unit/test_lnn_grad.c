/* test_lnn_grad.c -- BPTT gradients of every model kind against central
 * finite differences, all in double precision (src/lnn/grad.c).
 * SPDX-License-Identifier: MIT */
#include "aura/lnn.h"
#include "lnn/lnn_grad.h"
#include "test.h"

static aura_lnn_config variant(int k)
{
    aura_lnn_config c = aura_lnn_config_default();
    c.input_size = 3;
    c.units = 5;
    c.backbone_units = 6;
    switch (k) {
    case 0:
        break;
    case 1:
        c.mode = AURA_LNN_MODE_PURE;
        c.backbone_layers = 2;
        c.activation = AURA_LNN_ACT_TANH;
        break;
    case 2:
        c.mode = AURA_LNN_MODE_NO_GATE;
        c.backbone_layers = 3;
        c.backbone_dropout = 0.1;
        c.activation = AURA_LNN_ACT_GELU;
        c.proj_size = 2;
        break;
    case 3:
        c.mixed_memory = 1;
        c.activation = AURA_LNN_ACT_SILU;
        c.backbone_layers = 0;
        break;
    case 4:
        c.wired = 1;
        c.wiring.units = 9;
        c.wiring.output_size = 2;
        c.proj_size = 1;
        c.mixed_memory = 1;
        break;
    case 5:
        c.wired = 1;
        c.mode = AURA_LNN_MODE_PURE;
        c.wiring.type = AURA_LNN_WIRING_NCP;
        c.wiring.inter_neurons = 4;
        c.wiring.command_neurons = 3;
        c.wiring.motor_neurons = 2;
        c.wiring.sensory_fanout = 2;
        c.wiring.inter_fanout = 2;
        c.wiring.recurrent_command_synapses = 2;
        c.wiring.motor_fanin = 2;
        c.wiring.seed = 3;
        break;
    case 6:
        c = aura_lnn_config_default_ltc(3, 5);
        c.wiring.self_connections = 0;
        c.wiring.output_size = 2;
        c.ode_unfolds = 3;
        break;
    case 7:
        c = aura_lnn_config_default_ltc(3, 8);
        c.wiring.type = AURA_LNN_WIRING_AUTONCP;
        c.wiring.units = 8;
        c.wiring.output_size = 2;
        c.implicit_param_constraints = 0;
        c.input_mapping = AURA_LNN_MAP_LINEAR;
        c.output_mapping = AURA_LNN_MAP_NONE;
        c.mixed_memory = 1;
        c.ode_unfolds = 2;
        break;
    case 8:
        c.activation = AURA_LNN_ACT_RELU;
        c.mode = AURA_LNN_MODE_NO_GATE;
        break;
    }
    return c;
}

static double loss_at(const aura_lnn_model *m, const double *P, size_t B, size_t L,
                      const double *x, const double *dt, const double *h0, const double *c0,
                      const double *gy)
{
    double l = 0;
    ASSERT_OK(aura__lnn_grad_d(m, P, B, L, x, dt, h0, c0, gy, &l, NULL, NULL, NULL, NULL, NULL));
    return l;
}

static void fd_check(double analytic, double *v, const aura_lnn_model *m,
                     const double *P, size_t B, size_t L, const double *x, const double *dt,
                     const double *h0, const double *c0, const double *gy, const char *what,
                     size_t idx)
{
    const double e = 1e-6;
    double keep = *v;
    *v = keep + e;
    double lp = loss_at(m, P, B, L, x, dt, h0, c0, gy);
    *v = keep - e;
    double lm = loss_at(m, P, B, L, x, dt, h0, c0, gy);
    *v = keep;
    double fd = (lp - lm) / (2 * e);
    if (!(fabs(fd - analytic) <= 1e-6 + 1e-5 * fabs(fd))) {
        AURA_FAIL_("%s[%zu]: analytic %.12g, finite difference %.12g", what, idx, analytic, fd);
    }
}

AURA_TEST(lnn_grad_matches_finite_differences)
{
    enum { B = 2, L = 4 };
    for (int k = 0; k < 9; k++) {
        aura_lnn_config c = variant(k);
        aura_lnn_model *m = NULL;
        ASSERT_OK(aura_lnn_model_create(NULL, &c, 77 + (uint64_t)k, &m));
        size_t NP = m->pdata_len, C = (size_t)m->C, H = (size_t)m->H, O = (size_t)m->O;
        double *P = calloc(NP, 8), *G = calloc(NP, 8);
        double x[B * L * 8], dt[B * L], h0[B * 16], c0[B * 16], gy[B * L * 16];
        double gx[B * L * 8] = {0}, gh[B * 16], gc[B * 16];
        aura_rng r;
        aura_rng_init(&r, 5 + (uint64_t)k);
        for (size_t i = 0; i < NP; i++) {
            P[i] = m->pdata[i];
        }
        for (size_t i = 0; i < B * L * C; i++) {
            x[i] = aura_rng_normal(&r);
        }
        for (size_t i = 0; i < B * L; i++) {
            dt[i] = 0.3 + aura_rng_uniform(&r);
        }
        for (size_t i = 0; i < B * H; i++) {
            h0[i] = 0.5 * aura_rng_normal(&r);
            c0[i] = 0.5 * aura_rng_normal(&r);
        }
        for (size_t i = 0; i < B * L * O; i++) {
            gy[i] = aura_rng_normal(&r);
        }
        ASSERT_OK(aura__lnn_grad_d(m, P, B, L, x, dt, h0, m->cfg.mixed_memory ? c0 : NULL, gy,
                                   NULL, NULL, G, gx, gh, gc));
        const double *cc = m->cfg.mixed_memory ? c0 : NULL;
        for (size_t p = 0; p < m->n_params; p++) {
            const lnn_param *pr = &m->params[p];
            if (!pr->trainable) {
                continue;
            }
            for (size_t j = 0; j < pr->n; j += 1 + pr->n / 7) {
                size_t i = pr->off + j;
                fd_check(G[i], &P[i], m, P, B, L, x, dt, h0, cc, gy, pr->name, j);
            }
        }
        for (size_t i = 0; i < B * L * C; i += 3) {
            fd_check(gx[i], &x[i], m, P, B, L, x, dt, h0, cc, gy, "input", i);
        }
        for (size_t i = 0; i < B * H; i += 2) {
            fd_check(gh[i], &h0[i], m, P, B, L, x, dt, h0, cc, gy, "h0", i);
            if (cc) {
                fd_check(gc[i], &c0[i], m, P, B, L, x, dt, h0, cc, gy, "c0", i);
            }
        }
        free(P);
        free(G);
        aura_lnn_model_destroy(m);
    }
}
