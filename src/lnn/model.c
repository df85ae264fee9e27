/* model.c -- an lnn model: its named parameters (the ncps state_dict keys,
 * golden README §3) in one float block, creation with seeded
 * initialisation, loading from and saving to safetensors.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/rng.h"
#include "lnn/lnn_int.h"

aura_lnn_opts aura_lnn_opts_default(void)
{
    aura_lnn_opts o = {NULL};
    return o;
}

/* ---- layout: the parameter list a config implies ---- */

typedef struct lay {
    aura_lnn_model *m;
    int bind; /* 0: record names/shapes, 1: set pointers */
    int bad;
} lay;

static void add(lay *L, const float **dst, int trainable, size_t d0, size_t d1, const char *fmt,
                ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

static void add(lay *L, const float **dst, int trainable, size_t d0, size_t d1, const char *fmt,
                ...)
{
    aura_lnn_model *m = L->m;
    if (L->bind) {
        /* same order as the record pass: find by running index */
        lnn_param *p = &m->params[m->n_params++];
        *dst = m->pdata + p->off;
        return;
    }
    if (m->n_params >= LNN_MAX_PARAMS) {
        L->bad = 1;
        return;
    }
    lnn_param *p = &m->params[m->n_params];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->name, sizeof p->name, fmt, ap);
    va_end(ap);
    p->ndim = d1 ? 2 : 1;
    p->shape[0] = d0;
    p->shape[1] = d1;
    p->n = d0 * (d1 ? d1 : 1);
    p->off = m->n_params ? m->params[m->n_params - 1].off + m->params[m->n_params - 1].n : 0;
    p->trainable = trainable;
    m->n_params++;
    *dst = NULL;
}

static int bb_index(const aura_lnn_config *c, int i)
{
    if (i == 0) {
        return 0;
    }
    return c->backbone_dropout > 0.0 ? 2 + 3 * (i - 1) : 2 * i;
}

static void lay_cfc_heads(lay *L, lnn_cfc *cl, const char *pre, int D, int masked)
{
    size_t n = (size_t)cl->n;
    int pure = L->m->cfg.mode == AURA_LNN_MODE_PURE;
    add(L, &cl->ff1_w, 1, n, (size_t)D, "%sff1.weight", pre);
    add(L, &cl->ff1_b, 1, n, 0, "%sff1.bias", pre);
    if (!pure) {
        add(L, &cl->ff2_w, 1, n, (size_t)D, "%sff2.weight", pre);
        add(L, &cl->ff2_b, 1, n, 0, "%sff2.bias", pre);
        add(L, &cl->ta_w, 1, n, (size_t)D, "%stime_a.weight", pre);
        add(L, &cl->ta_b, 1, n, 0, "%stime_a.bias", pre);
        add(L, &cl->tb_w, 1, n, (size_t)D, "%stime_b.weight", pre);
        add(L, &cl->tb_b, 1, n, 0, "%stime_b.bias", pre);
    } else {
        add(L, &cl->w_tau, 1, 1, n, "%sw_tau", pre);
        add(L, &cl->A, 1, 1, n, "%sA", pre);
    }
    if (masked) {
        add(L, &cl->mask, 0, n, (size_t)D, "%ssparsity_mask", pre);
    }
}

static void lay_cfc(lay *L)
{
    aura_lnn_model *m = L->m;
    const aura_lnn_config *c = &m->cfg;
    if (!c->wired) {
        lnn_cfc *cl = &m->cell[0];
        cl->in = m->C;
        cl->n = m->H;
        cl->n_bb = c->backbone_layers;
        cl->bb_units = c->backbone_units;
        for (int i = 0; i < cl->n_bb; i++) {
            size_t in = i == 0 ? (size_t)(m->C + m->H) : (size_t)cl->bb_units;
            int k = bb_index(c, i);
            add(L, &cl->bb_w[i], 1, (size_t)cl->bb_units, in, "rnn_cell.backbone.%d.weight", k);
            add(L, &cl->bb_b[i], 1, (size_t)cl->bb_units, 0, "rnn_cell.backbone.%d.bias", k);
        }
        lay_cfc_heads(L, cl, "rnn_cell.", cl->n_bb ? cl->bb_units : m->C + m->H, 0);
        return;
    }
    int off = 0;
    for (int l = 0; l < m->n_layers; l++) {
        lnn_cfc *cl = &m->cell[l];
        char pre[32];
        snprintf(pre, sizeof pre, "rnn_cell.layer_%d.", l);
        cl->in = l == 0 ? m->C : m->layer_sizes[l - 1];
        cl->n = m->layer_sizes[l];
        cl->n_bb = 0;
        cl->state_off = off;
        off += cl->n;
        lay_cfc_heads(L, cl, pre, cl->in + cl->n, 1);
    }
}

static void lay_ltc(lay *L)
{
    aura_lnn_model *m = L->m;
    lnn_ltc *t = &m->ltc;
    size_t N = (size_t)m->H, C = (size_t)m->C, M = (size_t)t->m;
    add(L, &t->gleak, 1, N, 0, "rnn_cell.gleak");
    add(L, &t->vleak, 1, N, 0, "rnn_cell.vleak");
    add(L, &t->cm, 1, N, 0, "rnn_cell.cm");
    add(L, &t->sigma, 1, N, N, "rnn_cell.sigma");
    add(L, &t->mu, 1, N, N, "rnn_cell.mu");
    add(L, &t->w, 1, N, N, "rnn_cell.w");
    add(L, &t->erev, 1, N, N, "rnn_cell.erev");
    add(L, &t->s_sigma, 1, C, N, "rnn_cell.sensory_sigma");
    add(L, &t->s_mu, 1, C, N, "rnn_cell.sensory_mu");
    add(L, &t->s_w, 1, C, N, "rnn_cell.sensory_w");
    add(L, &t->s_erev, 1, C, N, "rnn_cell.sensory_erev");
    add(L, &t->mask, 0, N, N, "rnn_cell.sparsity_mask");
    add(L, &t->s_mask, 0, C, N, "rnn_cell.sensory_sparsity_mask");
    t->in_w = t->in_b = t->out_w = t->out_b = NULL;
    if (m->cfg.input_mapping != AURA_LNN_MAP_NONE) {
        add(L, &t->in_w, 1, C, 0, "rnn_cell.input_w");
    }
    if (m->cfg.input_mapping == AURA_LNN_MAP_AFFINE) {
        add(L, &t->in_b, 1, C, 0, "rnn_cell.input_b");
    }
    if (m->cfg.output_mapping != AURA_LNN_MAP_NONE) {
        add(L, &t->out_w, 1, M, 0, "rnn_cell.output_w");
    }
    if (m->cfg.output_mapping == AURA_LNN_MAP_AFFINE) {
        add(L, &t->out_b, 1, M, 0, "rnn_cell.output_b");
    }
}

static void lay_all(lay *L)
{
    aura_lnn_model *m = L->m;
    m->n_params = 0;
    if (m->cfg.kind == AURA_LNN_LTC) {
        lay_ltc(L);
    } else {
        lay_cfc(L);
    }
    if (m->cfg.mixed_memory) {
        size_t H = (size_t)m->H;
        add(L, &m->lstm_wi, 1, 4 * H, (size_t)m->C, "lstm.input_map.weight");
        add(L, &m->lstm_bi, 1, 4 * H, 0, "lstm.input_map.bias");
        add(L, &m->lstm_wr, 1, 4 * H, H, "lstm.recurrent_map.weight");
    }
    if (m->cfg.proj_size > 0) {
        size_t oc = (size_t)(m->cfg.wired ? m->layer_sizes[m->n_layers - 1] : m->H);
        add(L, &m->fc_w, 1, (size_t)m->cfg.proj_size, oc, "fc.weight");
        add(L, &m->fc_b, 1, (size_t)m->cfg.proj_size, 0, "fc.bias");
    }
}

/* Sizes and the parameter list from m->cfg. */
aura_status aura__lnn_layout(aura_lnn_model *m)
{
    aura_lnn_config *c = &m->cfg;
    aura_status st = aura__lnn_check_config(c, m->errmsg, sizeof m->errmsg);
    if (st != AURA_OK) {
        return st;
    }
    m->C = c->input_size;
    int wired = c->kind == AURA_LNN_LTC || c->wired;
    if (wired) {
        int n, mo;
        aura_lnn_wiring_config r;
        aura__lnn_wiring_sizes(&c->wiring, &n, &mo, m->layer_sizes, &m->n_layers, &r);
        c->wiring = r;
        m->H = n;
        c->units = n;
        /* LTC outputs the motor neurons; a wired CfC its last layer (the
         * motor layer of an NCP, every neuron of a FullyConnected wiring,
         * as in ncps' WiredCfCCell) */
        m->O = c->kind == AURA_LNN_LTC ? mo : m->layer_sizes[m->n_layers - 1];
        m->ltc.n = n;
        m->ltc.c = m->C;
        m->ltc.m = mo;
    } else {
        m->H = c->units;
        m->O = c->units;
        m->n_layers = 1;
        m->layer_sizes[0] = c->units;
    }
    if (c->kind == AURA_LNN_CFC && c->proj_size > 0) {
        m->O = c->proj_size;
    }
    if (c->kind == AURA_LNN_CFC && c->wired) {
        c->backbone_layers = 0;
    }
    lay L = {m, 0, 0};
    lay_all(&L);
    if (L.bad) {
        aura__lnn_errf(m->errmsg, sizeof m->errmsg, "too many parameters");
        return AURA_E_INVAL;
    }
    lnn_param *last = &m->params[m->n_params - 1];
    m->pdata_len = last->off + last->n;
    return AURA_OK;
}

aura_status aura__lnn_bind(aura_lnn_model *m)
{
    size_t n = m->n_params;
    lay L = {m, 1, 0};
    lay_all(&L);
    return m->n_params == n ? AURA_OK : AURA_E_INTERNAL;
}

/* ---- creation ---- */

/* Every parameter of the layout present in t with its shape; nothing is
 * allocated, so a file cannot make us allocate what it does not hold. */
static aura_status check_tensors(const aura_lnn_model *m, const aura_lnn_tensors *t, char *err,
                                 size_t cap)
{
    char missing[200] = "";
    size_t n_missing = 0;
    for (size_t i = 0; i < m->n_params; i++) {
        const lnn_param *p = &m->params[i];
        size_t shape[4];
        int nd;
        if (!aura_lnn_tensors_get(t, p->name, shape, &nd)) {
            size_t len = strlen(missing);
            if (len + strlen(p->name) + 8 < sizeof missing) {
                snprintf(missing + len, sizeof missing - len, "%s%s", n_missing ? ", " : "",
                         p->name);
            }
            n_missing++;
            continue;
        }
        int ok = nd == p->ndim && shape[0] == p->shape[0] && (nd == 1 || shape[1] == p->shape[1]);
        if (!ok) {
            aura__lnn_errf(err, cap,
                           "tensor '%s' has shape (%zu%s%zu) but the config implies (%zu%s%zu)",
                           p->name, shape[0], nd > 1 ? ", " : "", nd > 1 ? shape[1] : 0,
                           p->shape[0], p->ndim > 1 ? ", " : "", p->ndim > 1 ? p->shape[1] : 0);
            return AURA_E_FORMAT;
        }
    }
    if (n_missing) {
        aura__lnn_errf(err, cap, "%zu missing tensor(s): %s", n_missing, missing);
        return AURA_E_FORMAT;
    }
    return AURA_OK;
}

/* Copies the (checked) tensors of t into the parameters. */
static aura_status fill_from_tensors(aura_lnn_model *m, const aura_lnn_tensors *t, char *err,
                                     size_t cap)
{
    for (size_t i = 0; i < m->n_params; i++) {
        const lnn_param *p = &m->params[i];
        const float *d = aura_lnn_tensors_get(t, p->name, NULL, NULL);
        for (size_t k = 0; k < p->n; k++) {
            if (!isfinite(d[k])) {
                aura__lnn_errf(err, cap, "tensor '%s' holds NaN/Inf at index %zu", p->name, k);
                return AURA_E_NUMERIC;
            }
        }
        memcpy(m->pdata + p->off, d, p->n * sizeof(float));
    }
    return AURA_OK;
}

static aura_status model_alloc(const aura_lnn_opts *opts, const aura_lnn_config *cfg,
                               const aura_lnn_tensors *t, aura_lnn_model **out, char *err,
                               size_t cap)
{
    const aura_allocator *a = opts ? opts->alloc : NULL;
    aura_lnn_model *m = aura__calloc(a, 1, sizeof(*m));
    if (!m) {
        return AURA_E_NOMEM;
    }
    m->alloc = a;
    m->cfg = *cfg;
    aura_status st = aura__lnn_layout(m);
    if (st != AURA_OK) {
        aura__lnn_errf(err, cap, "%s", m->errmsg);
        aura__free(a, m);
        return st;
    }
    if (t && (st = check_tensors(m, t, err, cap)) != AURA_OK) {
        aura__free(a, m);
        return st;
    }
    m->ws_len = aura__lnn_ws_len(m);
    m->pdata = aura__calloc(a, m->pdata_len, sizeof(float));
    m->ws = aura__alloc_array(a, m->ws_len * LNN_BLOCK, sizeof(float));
    m->pk_len = aura__lnn_pack_len(m);
    m->pk = aura__calloc(a, m->pk_len + 1, sizeof(float));
    m->dirty = 1;
    if (!m->pdata || !m->ws || !m->pk || aura__lnn_bind(m) != AURA_OK) {
        aura_lnn_model_destroy(m);
        return AURA_E_NOMEM;
    }
    *out = m;
    return AURA_OK;
}

void aura_lnn_model_destroy(aura_lnn_model *m)
{
    if (!m) {
        return;
    }
    aura__free(m->alloc, m->pdata);
    aura__free(m->alloc, m->ws);
    aura__free(m->alloc, m->pk);
    aura__free(m->alloc, m);
}

static lnn_param *find_param(const aura_lnn_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_params; i++) {
        if (strcmp(m->params[i].name, name) == 0) {
            return (lnn_param *)&m->params[i];
        }
    }
    return NULL;
}

static float *pmut(aura_lnn_model *m, const char *name)
{
    lnn_param *p = find_param(m, name);
    return p ? m->pdata + p->off : NULL;
}

static void fill_uniform(aura_rng *r, float *w, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) {
        w[i] = (float)(lo + (hi - lo) * aura_rng_uniform(r));
    }
}

/* Q of a thin QR (modified Gram-Schmidt) of a rows x cols normal matrix. */
static void orthogonal(aura_rng *r, float *w, size_t rows, size_t cols, double *tmp)
{
    for (size_t i = 0; i < rows * cols; i++) {
        tmp[i] = aura_rng_normal(r);
    }
    for (size_t j = 0; j < cols; j++) {
        for (size_t k = 0; k < j; k++) {
            double d = 0;
            for (size_t i = 0; i < rows; i++) {
                d += tmp[i * cols + j] * tmp[i * cols + k];
            }
            for (size_t i = 0; i < rows; i++) {
                tmp[i * cols + j] -= d * tmp[i * cols + k];
            }
        }
        double nn = 0;
        for (size_t i = 0; i < rows; i++) {
            nn += tmp[i * cols + j] * tmp[i * cols + j];
        }
        nn = nn > 0 ? 1.0 / sqrt(nn) : 0.0;
        for (size_t i = 0; i < rows; i++) {
            tmp[i * cols + j] *= nn;
            w[i * cols + j] = (float)tmp[i * cols + j];
        }
    }
}

static void init_cfc_like(aura_lnn_model *m, aura_rng *r)
{
    for (size_t i = 0; i < m->n_params; i++) {
        lnn_param *p = &m->params[i];
        float *w = m->pdata + p->off;
        if (!p->trainable || strncmp(p->name, "lstm.", 5) == 0) {
            continue;
        }
        int is_fc = strncmp(p->name, "fc.", 3) == 0;
        if (p->ndim == 2 && !is_fc) { /* ncps: xavier_uniform on every 2-D parameter */
            double b = sqrt(6.0 / (double)(p->shape[0] + p->shape[1]));
            fill_uniform(r, w, p->n, -b, b);
        } else if (p->ndim == 2) { /* torch Linear default */
            double b = 1.0 / sqrt((double)p->shape[1]);
            fill_uniform(r, w, p->n, -b, b);
        } else {
            /* bias: uniform(+-1/sqrt(fan_in)) with the fan-in of the weight before it */
            const lnn_param *wp = i > 0 ? &m->params[i - 1] : p;
            double fan = wp->ndim == 2 ? (double)wp->shape[1] : 1.0;
            double b = 1.0 / sqrt(fan);
            fill_uniform(r, w, p->n, -b, b);
        }
    }
}

static int layer_first_id(const aura_lnn_wiring_config *w, int l)
{
    if (w->type == AURA_LNN_WIRING_FULL) {
        return 0;
    }
    return l == 0 ? w->motor_neurons + w->command_neurons : l == 1 ? w->motor_neurons : 0;
}

static aura_status init_wiring_masks(aura_lnn_model *m, float *adj, float *sens)
{
    int N = m->H, C = m->C, n;
    aura_status st =
        aura__lnn_wiring_generate(m->alloc, &m->cfg.wiring, C, &n, adj, sens, NULL, NULL);
    if (st != AURA_OK) {
        return st;
    }
    if (m->cfg.kind == AURA_LNN_LTC) {
        float *mask = pmut(m, "rnn_cell.sparsity_mask"), *erev = pmut(m, "rnn_cell.erev");
        float *smask = pmut(m, "rnn_cell.sensory_sparsity_mask");
        float *serev = pmut(m, "rnn_cell.sensory_erev");
        for (size_t i = 0; i < (size_t)N * N; i++) {
            mask[i] = fabsf(adj[i]);
            erev[i] = adj[i];
        }
        for (size_t i = 0; i < (size_t)C * N; i++) {
            smask[i] = fabsf(sens[i]);
            serev[i] = sens[i];
        }
        return AURA_OK;
    }
    for (int l = 0; l < m->n_layers; l++) {
        lnn_cfc *cl = &m->cell[l];
        float *mask = m->pdata + (size_t)(cl->mask - m->pdata);
        int D = cl->in + cl->n;
        /* layer neuron ids are consecutive (wiring.c) */
        int first_t = layer_first_id(&m->cfg.wiring, l);
        int first_s = l > 0 ? layer_first_id(&m->cfg.wiring, l - 1) : 0;
        for (int j = 0; j < cl->n; j++) {
            for (int i = 0; i < D; i++) {
                float v = 1.0f;
                if (i < cl->in) {
                    v = l == 0 ? fabsf(sens[(size_t)i * N + first_t + j])
                               : fabsf(adj[(size_t)(first_s + i) * N + first_t + j]);
                }
                mask[(size_t)j * D + i] = v;
            }
        }
    }
    return AURA_OK;
}

static void init_ltc(aura_lnn_model *m, aura_rng *r)
{
    static const struct {
        const char *name;
        double lo, hi;
    } ranges[] = {
        {"rnn_cell.gleak", 0.001, 1.0},       {"rnn_cell.vleak", -0.2, 0.2},
        {"rnn_cell.cm", 0.4, 0.6},            {"rnn_cell.w", 0.001, 1.0},
        {"rnn_cell.sigma", 3, 8},             {"rnn_cell.mu", 0.3, 0.8},
        {"rnn_cell.sensory_w", 0.001, 1.0},   {"rnn_cell.sensory_sigma", 3, 8},
        {"rnn_cell.sensory_mu", 0.3, 0.8},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        lnn_param *p = find_param(m, ranges[i].name);
        fill_uniform(r, m->pdata + p->off, p->n, ranges[i].lo, ranges[i].hi);
    }
    static const char *const ones[] = {"rnn_cell.input_w", "rnn_cell.output_w"};
    for (int k = 0; k < 2; k++) {
        lnn_param *p = find_param(m, ones[k]);
        for (size_t i = 0; p && i < p->n; i++) {
            m->pdata[p->off + i] = 1.0f;
        }
    }
}

static aura_status init_lstm(aura_lnn_model *m, aura_rng *r)
{
    lnn_param *wi = find_param(m, "lstm.input_map.weight");
    lnn_param *bi = find_param(m, "lstm.input_map.bias");
    lnn_param *wr = find_param(m, "lstm.recurrent_map.weight");
    double b = sqrt(6.0 / (double)(wi->shape[0] + wi->shape[1]));
    fill_uniform(r, m->pdata + wi->off, wi->n, -b, b);
    fill_uniform(r, m->pdata + bi->off, bi->n, -0.1, 0.1);
    double *tmp = aura__alloc_array(m->alloc, wr->n, sizeof(double));
    if (!tmp) {
        return AURA_E_NOMEM;
    }
    orthogonal(r, m->pdata + wr->off, wr->shape[0], wr->shape[1], tmp);
    aura__free(m->alloc, tmp);
    return AURA_OK;
}

aura_status aura_lnn_model_create(const aura_lnn_opts *opts, const aura_lnn_config *cfg,
                                  uint64_t seed, aura_lnn_model **out)
{
    AURA_CHECK_ARG(cfg && out);
    aura_lnn_model *m = NULL;
    aura_status st = model_alloc(opts, cfg, NULL, &m, NULL, 0);
    if (st != AURA_OK) {
        return st;
    }
    aura_rng r;
    aura_rng_init(&r, seed);
    if (m->cfg.kind == AURA_LNN_LTC) {
        init_ltc(m, &r);
    } else {
        init_cfc_like(m, &r);
    }
    if (m->cfg.mixed_memory) {
        st = init_lstm(m, &r);
    }
    if (st == AURA_OK && (m->cfg.kind == AURA_LNN_LTC || m->cfg.wired)) {
        size_t N = (size_t)m->H, C = (size_t)m->C;
        float *adj = aura__alloc_array(m->alloc, N * N + C * N, sizeof(float));
        st = adj ? init_wiring_masks(m, adj, adj + N * N) : AURA_E_NOMEM;
        aura__free(m->alloc, adj);
    }
    if (st != AURA_OK) {
        aura_lnn_model_destroy(m);
        return st;
    }
    *out = m;
    return AURA_OK;
}

/* ---- loading ---- */

static aura_status load_from(const aura_lnn_opts *opts, const aura_lnn_tensors *t,
                             aura_lnn_model **out, char *err, size_t cap)
{
    const char *js = aura_lnn_tensors_meta(t, "config");
    if (!js) {
        aura__lnn_errf(err, cap, "no 'config' in the __metadata__");
        return AURA_E_FORMAT;
    }
    aura_lnn_config cfg;
    aura_status st = aura__lnn_config_from_json(js, &cfg, err, cap);
    if (st != AURA_OK) {
        return st;
    }
    aura_lnn_model *m = NULL;
    st = model_alloc(opts, &cfg, t, &m, err, cap);
    if (st == AURA_E_INVAL) {
        st = AURA_E_FORMAT;
    }
    if (st == AURA_OK) {
        st = aura__lnn_config_check_sizes(js, m, err, cap);
    }
    if (st == AURA_OK) {
        st = fill_from_tensors(m, t, err, cap);
    }
    if (st != AURA_OK) {
        aura_lnn_model_destroy(m);
        return st;
    }
    *out = m;
    return AURA_OK;
}

aura_status aura_lnn_model_load_buffer(const aura_lnn_opts *opts, const void *buf, size_t len,
                                       aura_lnn_model **out, char *err, size_t err_cap)
{
    AURA_CHECK_ARG(out);
    aura_lnn_tensors *t = NULL;
    aura_status st = aura_lnn_tensors_load_buffer(opts, buf, len, &t, err, err_cap);
    if (st == AURA_OK) {
        st = load_from(opts, t, out, err, err_cap);
    }
    aura_lnn_tensors_destroy(t);
    return st;
}

aura_status aura_lnn_model_load(const aura_lnn_opts *opts, const char *path, aura_lnn_model **out,
                                char *err, size_t err_cap)
{
    AURA_CHECK_ARG(path && out);
    aura_lnn_tensors *t = NULL;
    aura_status st = aura_lnn_tensors_load(opts, path, &t, err, err_cap);
    if (st == AURA_OK) {
        char sub[256] = "";
        st = load_from(opts, t, out, sub, sizeof sub);
        if (st != AURA_OK) {
            aura__lnn_errf(err, err_cap, "%s: %s", path, sub[0] ? sub : aura_status_str(st));
        }
    }
    aura_lnn_tensors_destroy(t);
    return st;
}

/* ---- saving and access ---- */

aura_status aura_lnn_model_save(const aura_lnn_model *m, const char *path)
{
    AURA_CHECK_ARG(m && path);
    aura_lnn_tensor ts[LNN_MAX_PARAMS];
    for (size_t i = 0; i < m->n_params; i++) {
        const lnn_param *p = &m->params[i];
        ts[i].name = p->name;
        ts[i].ndim = p->ndim;
        ts[i].shape[0] = p->shape[0];
        ts[i].shape[1] = p->shape[1];
        ts[i].data = m->pdata + p->off;
    }
    char *js = aura__lnn_config_to_json(m);
    if (!js) {
        return AURA_E_NOMEM;
    }
    aura_status st = aura_lnn_tensors_save(path, ts, m->n_params, js);
    free(js);
    return st;
}

void aura_lnn_model_get_info(const aura_lnn_model *m, aura_lnn_info *info)
{
    if (!m || !info) {
        return;
    }
    info->input_size = m->C;
    info->state_size = m->H;
    info->output_size = m->O;
    info->has_cell_state = m->cfg.mixed_memory;
    info->n_params = m->pdata_len;
}

const aura_lnn_config *aura_lnn_model_config(const aura_lnn_model *m)
{
    return m ? &m->cfg : NULL;
}

const char *aura_lnn_model_errmsg(const aura_lnn_model *m)
{
    return m ? m->errmsg : "no model";
}

float *aura_lnn_model_param(aura_lnn_model *m, const char *name, size_t *n_elems)
{
    if (!m || !name) {
        return NULL;
    }
    lnn_param *p = find_param(m, name);
    if (!p) {
        return NULL;
    }
    m->dirty = 1; /* the caller may write through the pointer */
    if (n_elems) {
        *n_elems = p->n;
    }
    return m->pdata + p->off;
}

const char *aura_lnn_model_param_name(const aura_lnn_model *m, size_t i)
{
    return m && i < m->n_params ? m->params[i].name : NULL;
}

size_t aura_lnn_model_param_count(const aura_lnn_model *m)
{
    return m ? m->n_params : 0;
}
