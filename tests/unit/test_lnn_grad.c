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

/* Sine task: from sin(w t + phase) predict cos(w t + phase). */
static void sine_batch(aura_rng *r, size_t B, size_t L, float *x, float *y)
{
    for (size_t b = 0; b < B; b++) {
        double ph = 6.283185307179586 * aura_rng_uniform(r), w = 0.3 + 0.2 * aura_rng_uniform(r);
        for (size_t t = 0; t < L; t++) {
            x[b * L + t] = (float)sin(w * (double)t + ph);
            y[b * L + t] = (float)cos(w * (double)t + ph);
        }
    }
}

static void train_sine(aura_lnn_config c, int steps, double factor)
{
    enum { B = 8, L = 16 };
    aura_lnn_model *m = NULL;
    ASSERT_OK(aura_lnn_model_create(NULL, &c, 2024, &m));
    aura_lnn_train_opts o = aura_lnn_train_opts_default();
    o.lr = 0.02;
    aura_lnn_trainer *tr = NULL;
    ASSERT_OK(aura_lnn_trainer_create(m, &o, &tr));
    aura_rng r;
    aura_rng_init(&r, 99);
    float xe[B * L], ye[B * L], x[B * L], y[B * L];
    sine_batch(&r, B, L, xe, ye);
    double l0 = 0, l1 = 0;
    ASSERT_OK(aura_lnn_trainer_eval(tr, B, L, xe, NULL, ye, &l0));
    for (int s = 0; s < steps; s++) {
        sine_batch(&r, B, L, x, y);
        double l;
        ASSERT_OK(aura_lnn_trainer_step(tr, B, L, x, NULL, y, &l));
    }
    ASSERT_OK(aura_lnn_trainer_eval(tr, B, L, xe, NULL, ye, &l1));
    fprintf(stderr, "sine: loss %.4g -> %.4g (x%.1f)\n", l0, l1, l0 / l1);
    if (!(l1 * factor <= l0)) {
        AURA_FAIL_("loss %.4g -> %.4g did not fall by %gx", l0, l1, factor);
    }
    if (m->cfg.kind == AURA_LNN_LTC && !m->cfg.implicit_param_constraints) {
        for (size_t i = 0; i < (size_t)m->H * m->H; i++) {
            ASSERT_TRUE(m->ltc.w[i] >= 0.0f);
        }
    }
    /* the trained model saves and reloads to identical outputs */
    const char *p = test_path("%s/trained.safetensors", test_tmpdir());
    ASSERT_OK(aura_lnn_model_save(m, p));
    aura_lnn_model *r2 = NULL;
    char err[256];
    ASSERT_OK(aura_lnn_model_load(NULL, p, &r2, err, sizeof err));
    float h1[64] = {0}, h2[64] = {0}, c1[64] = {0}, c2[64] = {0}, y1[B * L * 4], y2[B * L * 4];
    ASSERT_OK(aura_lnn_model_run(m, 1, L, xe, NULL, h1, c1, y1));
    ASSERT_OK(aura_lnn_model_run(r2, 1, L, xe, NULL, h2, c2, y2));
    ASSERT_TRUE(memcmp(y1, y2, sizeof(float) * L * (size_t)m->O) == 0);
    aura_lnn_model_destroy(r2);
    aura_lnn_trainer_destroy(tr);
    aura_lnn_model_destroy(m);
}

AURA_TEST(lnn_train_cfc_sine_reduces_loss)
{
    aura_lnn_config c = aura_lnn_config_default();
    c.input_size = 1;
    c.units = 8;
    c.backbone_units = 16;
    c.proj_size = 1;
    train_sine(c, 150, 10.0);
}

AURA_TEST(lnn_train_ltc_explicit_sine_reduces_loss)
{
    aura_lnn_config c = aura_lnn_config_default_ltc(1, 6);
    c.wiring.output_size = 1;
    c.implicit_param_constraints = 0;
    c.ode_unfolds = 3;
    train_sine(c, 120, 3.0);
}

AURA_TEST(lnn_trainer_rejects_bad_input)
{
    aura_lnn_config c = aura_lnn_config_default();
    c.input_size = 1;
    c.units = 4;
    aura_lnn_model *m = NULL;
    ASSERT_OK(aura_lnn_model_create(NULL, &c, 1, &m));
    aura_lnn_train_opts o = aura_lnn_train_opts_default();
    aura_lnn_trainer *tr = NULL;
    o.lr = -1;
    ASSERT_STATUS(AURA_E_INVAL, aura_lnn_trainer_create(m, &o, &tr));
    ASSERT_OK(aura_lnn_trainer_create(m, NULL, &tr));
    float x[2] = {0, NAN}, y[8] = {0};
    ASSERT_STATUS(AURA_E_NUMERIC, aura_lnn_trainer_step(tr, 1, 2, x, NULL, y, NULL));
    aura_lnn_trainer_destroy(tr);
    aura_lnn_trainer_destroy(NULL);
    aura_lnn_model_destroy(m);
}
