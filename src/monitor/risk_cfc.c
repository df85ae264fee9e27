/* risk_cfc.c -- the learned risk model: one CfC hidden state per agent,
 * advanced once per tick over the agent's normalised features (and their
 * change, and the system features); output logit -> sigmoid = P(the agent
 * fails within H ticks).  Saved as safetensors: the CfC's tensors and
 * config (lnn) plus the normalisation statistics.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "lnn/lnn_int.h"
#include "monitor/risk_int.h"

aura_monitor_risk_config aura_monitor_risk_config_default(void)
{
    return (aura_monitor_risk_config){
        .units = 24, .backbone_units = 32, .backbone_layers = 1, .horizon = 10};
}

static float squash(float v)
{
    return v >= 0.0f ? log1pf(v) : -log1pf(-v);
}

/* neighbour aggregates over these agent features (indices as in monitor.c:
 * util, in_err_now, lat_ratio, silence) */
static const int NB_FEAT[RISK_NB / 2] = {0, 3, 5, 9};

void aura__monitor_risk_neigh(const float *feat, uint32_t n, const uint32_t *pairs, size_t ne,
                              float *nb, float *cnt)
{
    memset(nb, 0, (size_t)n * RISK_NB * sizeof(float));
    memset(cnt, 0, (size_t)n * sizeof(float));
    for (size_t e = 0; pairs && e < ne; e++) {
        uint32_t a = pairs[2 * e], b = pairs[2 * e + 1];
        if (a >= n || b >= n || a == b) {
            continue;
        }
        for (int side = 0; side < 2; side++) {
            uint32_t i = side ? b : a, j = side ? a : b;
            const float *fj = &feat[(size_t)j * RISK_NA];
            float *o = &nb[(size_t)i * RISK_NB];
            for (int q = 0; q < RISK_NB / 2; q++) {
                float v = squash(fj[NB_FEAT[q]]);
                v = isfinite(v) ? v : 0.0f;
                o[q] = v > o[q] ? v : o[q];
                o[RISK_NB / 2 + q] += v;
            }
            cnt[i] += 1.0f;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        for (int q = 0; cnt[i] > 0 && q < RISK_NB / 2; q++) {
            nb[(size_t)i * RISK_NB + RISK_NB / 2 + q] /= cnt[i];
        }
    }
}

void aura__monitor_risk_raw(const float *f, const float *prev_sq, const float *nb, const float *sys,
                            float *raw, float *sq_out)
{
    for (int k = 0; k < RISK_NA; k++) {
        float s = squash(f[k]);
        raw[k] = s;
        raw[RISK_NA + k] = prev_sq ? s - prev_sq[k] : 0.0f;
        if (sq_out) {
            sq_out[k] = s;
        }
    }
    for (int k = 0; k < RISK_NB; k++) {
        raw[2 * RISK_NA + k] = nb ? nb[k] : 0.0f;
    }
    float *rs = raw + 2 * RISK_NA + RISK_NB;
    /* system features: sizes as a log, counts of graph structures as
     * shares of the agents (so that sizes not trained on stay in range) */
    float agents = sys[0] > 1.0f ? sys[0] : 1.0f;
    for (int k = 0; k < RISK_NS; k++) {
        rs[k] = squash(sys[k]);
    }
    rs[1] = sys[1] / agents; /* components */
    rs[2] = sys[2] / agents; /* articulation points */
    rs[3] = sys[3] / agents; /* bridges */
    /* the health filtration of the whole graph: components, total
     * persistence and cycles as shares of the agents as well */
    rs[16] = sys[16] / agents;
    rs[17] = sys[17] / agents;
    rs[18] = sys[18] / agents;
}

void aura__monitor_risk_norm(const float *mean, const float *inv_std, const float *raw, float *x)
{
    for (int k = 0; k < RISK_C; k++) {
        float v = (raw[k] - mean[k]) * inv_std[k];
        if (isnan(v)) {
            v = 0.0f;
        }
        x[k] = v > RISK_CLAMP ? RISK_CLAMP : (v < -RISK_CLAMP ? -RISK_CLAMP : v);
    }
}

static aura_status wrap(const aura_allocator *alloc, aura_lnn_model *m, int horizon,
                        aura_monitor_risk_cfc **out)
{
    aura_monitor_risk_cfc *r = aura__calloc(alloc, 1, sizeof *r);
    if (!r) {
        aura_lnn_model_destroy(m);
        return AURA_E_NOMEM;
    }
    aura_lnn_info info;
    aura_lnn_model_get_info(m, &info);
    r->alloc = alloc;
    r->m = m;
    r->H = info.state_size;
    r->horizon = horizon;
    for (int k = 0; k < RISK_C; k++) {
        r->mean[k] = 0.0f;
        r->std[k] = 1.0f;
        r->inv_std[k] = 1.0f;
    }
    *out = r;
    return AURA_OK;
}

aura_status aura_monitor_risk_cfc_create(const aura_allocator *alloc,
                                         const aura_monitor_risk_config *cfg, uint64_t seed,
                                         aura_monitor_risk_cfc **out)
{
    AURA_CHECK_ARG(out);
    aura_monitor_risk_config c = cfg ? *cfg : aura_monitor_risk_config_default();
    if (c.units < 1 || c.units > 1024 || c.backbone_units < 1 || c.backbone_units > 4096 ||
        c.backbone_layers < 0 || c.backbone_layers > 4 || c.horizon < 1 || c.horizon > 1000) {
        return AURA_E_INVAL;
    }
    aura_lnn_config lc = aura_lnn_config_default();
    lc.input_size = RISK_C;
    lc.units = c.units;
    lc.backbone_units = c.backbone_units;
    lc.backbone_layers = c.backbone_layers;
    lc.proj_size = 1;
    aura_lnn_opts lo = {.alloc = alloc};
    aura_lnn_model *m = NULL;
    aura_status st = aura_lnn_model_create(&lo, &lc, seed, &m);
    if (st != AURA_OK) {
        return st;
    }
    return wrap(alloc, m, c.horizon, out);
}

static void errf(char *err, size_t cap, const char *path, const char *msg)
{
    if (err && cap) {
        snprintf(err, cap, "%s: %s", path, msg);
    }
}

/* Checks and copies the risk.* tensors. */
static aura_status load_extras(aura_monitor_risk_cfc *r, const aura_lnn_tensors *t,
                               const char *path, char *err, size_t cap)
{
    char msg[200];
    size_t shape[4];
    int nd;
    const float *meta = aura_lnn_tensors_get(t, "risk.meta", shape, &nd);
    if (!meta || nd != 1 || shape[0] != 4) {
        errf(err, cap, path,
             "not a risk model: tensor 'risk.meta' (4 floats) missing or misshaped");
        return AURA_E_FORMAT;
    }
    if (meta[0] != (float)RISK_FORMAT || meta[1] != (float)RISK_NA || meta[2] != (float)RISK_NS) {
        snprintf(msg, sizeof msg,
                 "risk.meta is [%g, %g, %g, ...] but this build reads format %d with %d agent and "
                 "%d system features",
                 (double)meta[0], (double)meta[1], (double)meta[2], RISK_FORMAT, RISK_NA, RISK_NS);
        errf(err, cap, path, msg);
        return AURA_E_FORMAT;
    }
    if (!(meta[3] >= 1.0f && meta[3] <= 1000.0f)) {
        errf(err, cap, path, "risk.meta: horizon out of range 1..1000");
        return AURA_E_FORMAT;
    }
    r->horizon = (int)meta[3];
    static const char *const names[2] = {"risk.norm_mean", "risk.norm_std"};
    for (int q = 0; q < 2; q++) {
        const float *v = aura_lnn_tensors_get(t, names[q], shape, &nd);
        if (!v || nd != 1 || shape[0] != RISK_C) {
            snprintf(msg, sizeof msg, "tensor '%s' (%d floats) missing or misshaped", names[q],
                     RISK_C);
            errf(err, cap, path, msg);
            return AURA_E_FORMAT;
        }
        for (int k = 0; k < RISK_C; k++) {
            int bad = !isfinite(v[k]) || (q == 1 && !(v[k] > 0.0f));
            if (bad) {
                snprintf(msg, sizeof msg, "tensor '%s'[%d] = %g is not %s", names[q], k,
                         (double)v[k], q ? "a positive finite number" : "finite");
                errf(err, cap, path, msg);
                return q ? AURA_E_FORMAT : AURA_E_NUMERIC;
            }
            if (q == 0) {
                r->mean[k] = v[k];
            } else {
                r->std[k] = v[k];
                r->inv_std[k] = 1.0f / v[k];
            }
        }
    }
    return AURA_OK;
}

/* A trained risk CfC has small weights; a parameter beyond RISK_MAX_PARAM
 * means a corrupted file (and would overflow the state). */
#define RISK_MAX_PARAM 1e4f

static aura_status check_magnitudes(aura_lnn_model *m, const char *path, char *err, size_t cap)
{
    for (size_t i = 0; i < aura_lnn_model_param_count(m); i++) {
        const char *name = aura_lnn_model_param_name(m, i);
        size_t n = 0;
        const float *p = aura_lnn_model_param(m, name, &n);
        for (size_t k = 0; p && k < n; k++) {
            if (!(fabsf(p[k]) <= RISK_MAX_PARAM)) {
                char msg[200];
                snprintf(msg, sizeof msg, "parameter '%s'[%zu] = %g is out of range (|x| <= %g)",
                         name, k, (double)p[k], (double)RISK_MAX_PARAM);
                errf(err, cap, path, msg);
                return AURA_E_FORMAT;
            }
        }
    }
    return AURA_OK;
}

aura_status aura_monitor_risk_cfc_load(const aura_allocator *alloc, const char *path,
                                       aura_monitor_risk_cfc **out, char *err, size_t err_cap)
{
    AURA_CHECK_ARG(path && out);
    aura_lnn_opts lo = {.alloc = alloc};
    aura_lnn_tensors *t = NULL;
    aura_status st = aura_lnn_tensors_load(&lo, path, &t, err, err_cap);
    if (st != AURA_OK) {
        return st;
    }
    aura_lnn_model *m = NULL;
    st = aura_lnn_model_load(&lo, path, &m, err, err_cap);
    if (st == AURA_OK) {
        aura_lnn_info info;
        aura_lnn_model_get_info(m, &info);
        const aura_lnn_config *c = aura_lnn_model_config(m);
        if (c->kind != AURA_LNN_CFC || info.input_size != RISK_C || info.output_size != 1 ||
            info.has_cell_state) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "the model is not a risk CfC (%d inputs, %d outputs; expected a CfC with %d "
                     "inputs, 1 output, no mixed memory)",
                     info.input_size, info.output_size, RISK_C);
            errf(err, err_cap, path, msg);
            aura_lnn_model_destroy(m);
            st = AURA_E_FORMAT;
        }
    }
    if (st == AURA_OK && (st = check_magnitudes(m, path, err, err_cap)) != AURA_OK) {
        aura_lnn_model_destroy(m);
    }
    aura_monitor_risk_cfc *r = NULL;
    if (st == AURA_OK) {
        st = wrap(alloc, m, 10, &r);
    }
    if (st == AURA_OK && (st = load_extras(r, t, path, err, err_cap)) != AURA_OK) {
        aura_monitor_risk_cfc_destroy(r);
        r = NULL;
    }
    aura_lnn_tensors_destroy(t);
    if (st == AURA_OK) {
        *out = r;
    }
    return st;
}

aura_status aura_monitor_risk_cfc_save(const aura_monitor_risk_cfc *r, const char *path)
{
    AURA_CHECK_ARG(r && path);
    size_t np = aura_lnn_model_param_count(r->m);
    if (np + 3 > LNN_MAX_PARAMS) {
        return AURA_E_INVAL;
    }
    aura_lnn_tensor ts[LNN_MAX_PARAMS];
    for (size_t i = 0; i < np; i++) {
        const char *name = aura_lnn_model_param_name(r->m, i);
        size_t shape[2] = {0, 0}, n = 0;
        int nd = 0;
        aura_lnn_model_param_shape(r->m, name, shape, &nd);
        ts[i] = (aura_lnn_tensor){.name = name,
                                  .ndim = nd,
                                  .shape = {shape[0], shape[1]},
                                  .data = aura_lnn_model_param(r->m, name, &n)};
    }
    float meta[4] = {(float)RISK_FORMAT, (float)RISK_NA, (float)RISK_NS, (float)r->horizon};
    ts[np] =
        (aura_lnn_tensor){.name = "risk.norm_mean", .ndim = 1, .shape = {RISK_C}, .data = r->mean};
    ts[np + 1] =
        (aura_lnn_tensor){.name = "risk.norm_std", .ndim = 1, .shape = {RISK_C}, .data = r->std};
    ts[np + 2] = (aura_lnn_tensor){.name = "risk.meta", .ndim = 1, .shape = {4}, .data = meta};
    char *js = aura__lnn_config_to_json(r->m);
    if (!js) {
        return AURA_E_NOMEM;
    }
    aura_status st = aura_lnn_tensors_save(path, ts, np + 3, js);
    free(js);
    return st;
}

static void free_state(aura_monitor_risk_cfc *r)
{
    aura__free(r->alloc, r->h);
    aura__free(r->alloc, r->prev);
    aura__free(r->alloc, r->has_prev);
    aura__free(r->alloc, r->x);
    aura__free(r->alloc, r->y);
    aura__free(r->alloc, r->nb);
    aura__free(r->alloc, r->cnt);
    r->h = r->prev = r->x = r->y = r->nb = r->cnt = NULL;
    r->has_prev = NULL;
    r->cap = 0;
}

void aura_monitor_risk_cfc_destroy(aura_monitor_risk_cfc *r)
{
    if (!r) {
        return;
    }
    free_state(r);
    aura_lnn_model_destroy(r->m);
    aura__free(r->alloc, r);
}

aura_status aura_monitor_risk_cfc_reserve(aura_monitor_risk_cfc *r, uint32_t n)
{
    AURA_CHECK_ARG(r);
    if (n <= r->cap) {
        return AURA_OK;
    }
    uint32_t cap = r->cap ? r->cap : 64;
    while (cap < n) {
        cap = cap > UINT32_MAX / 2 ? n : cap * 2;
    }
    const aura_allocator *a = r->alloc;
    float *h = aura__calloc(a, (size_t)cap * (size_t)r->H, sizeof(float));
    float *prev = aura__calloc(a, (size_t)cap * RISK_NA, sizeof(float));
    uint8_t *hp = aura__calloc(a, cap, 1);
    float *x = aura__calloc(a, (size_t)cap * RISK_C, sizeof(float));
    float *y = aura__calloc(a, cap, sizeof(float));
    float *nb = aura__calloc(a, (size_t)cap * RISK_NB, sizeof(float));
    float *cnt = aura__calloc(a, cap, sizeof(float));
    if (!h || !prev || !hp || !x || !y || !nb || !cnt) {
        aura__free(a, nb);
        aura__free(a, cnt);
        aura__free(a, h);
        aura__free(a, prev);
        aura__free(a, hp);
        aura__free(a, x);
        aura__free(a, y);
        return AURA_E_NOMEM;
    }
    if (r->cap) {
        memcpy(h, r->h, (size_t)r->cap * (size_t)r->H * sizeof(float));
        memcpy(prev, r->prev, (size_t)r->cap * RISK_NA * sizeof(float));
        memcpy(hp, r->has_prev, r->cap);
    }
    free_state(r);
    r->h = h;
    r->prev = prev;
    r->has_prev = hp;
    r->x = x;
    r->y = y;
    r->nb = nb;
    r->cnt = cnt;
    r->cap = cap;
    return AURA_OK;
}

void aura_monitor_risk_cfc_reset(aura_monitor_risk_cfc *r)
{
    if (!r || !r->cap) {
        return;
    }
    memset(r->h, 0, (size_t)r->cap * (size_t)r->H * sizeof(float));
    memset(r->has_prev, 0, r->cap);
}

int aura_monitor_risk_cfc_horizon(const aura_monitor_risk_cfc *r)
{
    return r ? r->horizon : 0;
}

size_t aura_monitor_risk_cfc_n_params(const aura_monitor_risk_cfc *r)
{
    aura_lnn_info info = {0};
    if (r) {
        aura_lnn_model_get_info(r->m, &info);
    }
    return info.n_params;
}

static int row_is_zero(const float *f)
{
    for (int k = 0; k < RISK_NA; k++) {
        if (f[k] != 0.0f) {
            return 0;
        }
    }
    return 1;
}

static aura_status cfc_score(void *ctx, const float *feat, uint32_t n, const float *sys,
                             float *risk, float *system_risk)
{
    aura_monitor_risk_cfc *r = ctx;
    aura_status st = aura_monitor_risk_cfc_reserve(r, n);
    if (st != AURA_OK) {
        return st;
    }
    const uint32_t *pairs = NULL;
    size_t ne = 0;
    if (r->mon && aura_monitor_edges(r->mon, &pairs, &ne) != AURA_OK) {
        pairs = NULL;
    }
    aura__monitor_risk_neigh(feat, n, pairs, ne, r->nb, r->cnt);
    float raw[RISK_C];
    for (uint32_t i = 0; i < n; i++) {
        const float *f = &feat[(size_t)i * RISK_NA];
        float *prev = &r->prev[(size_t)i * RISK_NA];
        aura__monitor_risk_raw(f, r->has_prev[i] ? prev : NULL, &r->nb[(size_t)i * RISK_NB], sys,
                               raw, prev);
        aura__monitor_risk_norm(r->mean, r->inv_std, raw, &r->x[(size_t)i * RISK_C]);
        r->has_prev[i] = !row_is_zero(f);
    }
    st = aura_lnn_model_step(r->m, n, r->x, NULL, r->h, NULL, r->y);
    if (st != AURA_OK) {
        return st;
    }
    double lam = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        if (!r->has_prev[i]) { /* not seen yet: no state, no risk */
            memset(&r->h[(size_t)i * (size_t)r->H], 0, (size_t)r->H * sizeof(float));
            risk[i] = 0.0f;
            continue;
        }
        float p = 1.0f / (1.0f + expf(-r->y[i]));
        risk[i] = isfinite(p) ? p : 0.0f;
        lam += risk[i];
    }
    /* P(N >= 3), N ~ Poisson(sum of risks) */
    double p3 = 1.0 - exp(-lam) * (1.0 + lam + 0.5 * lam * lam);
    *system_risk = (float)(p3 < 0.0 ? 0.0 : (p3 > 1.0 ? 1.0 : p3));
    return AURA_OK;
}

void aura_monitor_risk_cfc_attach(aura_monitor_risk_cfc *r, const aura_monitor *mon)
{
    if (r) {
        r->mon = mon;
    }
}

aura_monitor_model aura_monitor_risk_cfc_model(aura_monitor_risk_cfc *r)
{
    return (aura_monitor_model){.ctx = r, .score = cfc_score};
}
