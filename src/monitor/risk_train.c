/* risk_train.c -- trains the risk CfC on simulated runs: data from the
 * simulator (open loop, monitor in shadow mode computing features), labels
 * "fails within H ticks" from the ground truth (the failure definition of
 * aura_monitor_labels_compute), class-weighted BCE on the logit, truncated
 * BPTT (state carried across chunks of one sequence), Adam with a global
 * gradient clip, the best validation epoch kept.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core_int.h"
#include "monitor/risk_int.h"

aura_monitor_risk_train_opts aura_monitor_risk_train_opts_default(void)
{
    return (aura_monitor_risk_train_opts){
        .seed = 1,
        .model = aura_monitor_risk_config_default(),
        .runs = 150,
        .val_runs = 6,
        .ticks = 300,
        .min_agents = 50,
        .max_agents = 300,
        .topologies = (1 << AURA_MONITOR_TOPO_BA) | (1 << AURA_MONITOR_TOPO_SMALLWORLD) |
                      (1 << AURA_MONITOR_TOPO_RANDOM),
        .max_seq_per_run = 48,
        .epochs = 12,
        .batch = 32,
        .chunk = 50,
        .lr = 0.003,
        .pos_weight = 2.0,
        .clip_norm = 1.0,
        .closed_loop = 0.0,
        .dagger_epochs = 0,
    };
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- data ---- */

typedef struct run_data {
    uint32_t K;  /* sequences kept */
    float *x;    /* K x T x C: raw inputs, then standardised in place */
    int8_t *lab; /* K x T: 1 fails within H, 0 not, -1 excluded (failed now / unseen) */
} run_data;

typedef struct gen_ctx {
    uint32_t n;
    int32_t T;
    float *raw;    /* n x T x C */
    uint8_t *seen; /* n x T */
    uint8_t *acted; /* n x T: 1 = the monitor acted on the agent at this tick, or NULL */
    float *prev;   /* n x NA */
    uint8_t *has_prev;
    float *nb, *ncnt;   /* n x RISK_NB, n */
    double *sum, *sum2; /* C each, NULL = no statistics */
    double cnt;
} gen_ctx;

static aura_status gen_tick(void *ctx, int64_t tick, aura_monitor *mon)
{
    gen_ctx *g = ctx;
    const float *f, *sys;
    uint32_t n;
    aura_status st = aura_monitor_features(mon, &f, &sys, &n);
    const uint32_t *pairs;
    size_t ne;
    if (st == AURA_OK) {
        st = aura_monitor_edges(mon, &pairs, &ne);
    }
    if (st != AURA_OK) {
        return st;
    }
    n = n < g->n ? n : g->n;
    if (g->acted) { /* the decisions of this tick (applied after this call) */
        const aura_monitor_decision *d;
        size_t nd;
        aura_monitor_decisions(mon, &d, &nd);
        for (size_t k = 0; k < nd; k++) {
            if (d[k].agent < g->n && d[k].action <= AURA_MONITOR_ADD_LINK) {
                g->acted[(size_t)d[k].agent * (size_t)g->T + (size_t)tick] = 1;
            }
        }
    }
    aura__monitor_risk_neigh(f, n, pairs, ne, g->nb, g->ncnt);
    for (uint32_t i = 0; i < n && i < g->n; i++) {
        const float *fi = &f[(size_t)i * RISK_NA];
        int zero = 1;
        for (int k = 0; k < RISK_NA && zero; k++) {
            zero = fi[k] == 0.0f;
        }
        if (zero) {
            continue;
        }
        float *raw = &g->raw[((size_t)i * (size_t)g->T + (size_t)tick) * RISK_C];
        float *prev = &g->prev[(size_t)i * RISK_NA];
        aura__monitor_risk_raw(fi, g->has_prev[i] ? prev : NULL, &g->nb[(size_t)i * RISK_NB], sys,
                               raw, prev);
        g->has_prev[i] = 1;
        g->seen[(size_t)i * (size_t)g->T + (size_t)tick] = 1;
        for (int k = 0; g->sum && k < RISK_C; k++) {
            double v = isfinite(raw[k]) ? raw[k] : 0.0;
            g->sum[k] += v;
            g->sum2[k] += v * v;
        }
        g->cnt += g->sum ? 1.0 : 0.0;
    }
    return AURA_OK;
}

/* lab for all n agents (n x T) from the labels, as eval.c scores them. */
static void make_labels(const aura_monitor_label *l, size_t nl, uint32_t n, int32_t T, int H,
                        const uint8_t *seen, int8_t *lab, uint8_t *fails)
{
    for (uint32_t i = 0; i < n; i++) {
        int8_t *li = &lab[(size_t)i * (size_t)T];
        for (int32_t t = 0; t < T; t++) {
            li[t] = seen[(size_t)i * (size_t)T + (size_t)t] ? 0 : -1;
        }
        fails[i] = 0;
    }
    for (size_t k = 0; k < nl; k++) {
        if (l[k].event != AURA_MONITOR_LABEL_FAIL || l[k].agent >= n || l[k].tick >= T) {
            continue;
        }
        uint32_t i = l[k].agent;
        int32_t start = l[k].tick, end = T;
        for (size_t q = k + 1; q < nl; q++) {
            if (l[q].agent == i && l[q].event == AURA_MONITOR_LABEL_RECOVER) {
                end = l[q].tick < T ? l[q].tick : T;
                break;
            }
        }
        int8_t *li = &lab[(size_t)i * (size_t)T];
        fails[i] = 1;
        for (int32_t t = start - H > 0 ? start - H : 0; t < start; t++) {
            li[t] = li[t] < 0 ? li[t] : 1;
        }
        for (int32_t t = start; t < end; t++) {
            li[t] = -1;
        }
    }
}

/* In a closed-loop run, the samples whose outcome an intervention on the
 * agent changed (decided at d in [t, t + H): the label is no longer what
 * happens without it) and those of the cooldown ticks after it (the agent
 * is being handled) are left out: the model should learn the risk of an
 * agent nobody acts on, not that acted-on agents tend to survive. */
static void mask_acted(const uint8_t *acted, uint32_t n, int32_t T, int H, int cooldown,
                       int8_t *lab)
{
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *a = &acted[(size_t)i * (size_t)T];
        int8_t *li = &lab[(size_t)i * (size_t)T];
        for (int32_t d = 0; d < T; d++) {
            if (!a[d]) {
                continue;
            }
            int32_t lo = d - H + 1 > 0 ? d - H + 1 : 0, hi = d + cooldown < T ? d + cooldown : T - 1;
            for (int32_t t = lo; t <= hi; t++) {
                li[t] = -1;
            }
        }
    }
}

static aura_monitor_sim_opts run_config(const aura_monitor_risk_train_opts *o, int r, int val)
{
    uint64_t s = o->seed * 0x2545F4914F6CDD1Dull + (uint64_t)r * 7919u + (val ? 104729u : 0u);
    aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
    uint32_t span = o->max_agents - o->min_agents + 1;
    so.n_agents = o->min_agents + (uint32_t)(rng_next(&s) % span);
    int topos[AURA_MONITOR_TOPO_RANDOM + 1], nt = 0;
    for (int t = 0; t <= AURA_MONITOR_TOPO_RANDOM; t++) {
        if (o->topologies & (1 << t)) {
            topos[nt++] = t;
        }
    }
    so.topology = (aura_monitor_topology)topos[(r + (val ? 1 : 0)) % nt];
    so.seed = 1000000u + (o->seed % 1000u) * 1000u + (uint64_t)r + (val ? 500u : 0u);
    so.ticks = o->ticks;
    so.utilisation = 0.50 + 0.12 * (double)(rng_next(&s) % 1000) / 1000.0;
    return so;
}

/* 1 if run r is generated in closed loop: runs go in pairs (both fault
 * levels), and pair k acts when floor((k + 1) * share) > floor(k * share),
 * which spreads the share exactly and deterministically. */
static int run_acts(const aura_monitor_risk_train_opts *o, int r)
{
    double k = (double)(r >> 1);
    return floor((k + 1.0) * o->closed_loop) > floor(k * o->closed_loop);
}

/* actor: the CfC whose risk drives the policy in a closed-loop run, or
 * NULL for the rule score. */
static aura_status gen_run(const aura_monitor_risk_train_opts *o, int r, int val,
                           aura_monitor_risk_cfc *actor, double *sum, double *sum2, double *cnt,
                           run_data *out)
{
    aura_monitor_sim_opts so = run_config(o, r, val);
    char faults[32];
    snprintf(faults, sizeof faults, "random:%u",
             (2u + so.n_agents / 40u) * (1u + (unsigned)r % 2u));
    so.faults = faults;
    uint32_t n = so.n_agents;
    int32_t T = so.ticks;
    gen_ctx g = {.n = n, .T = T, .sum = sum, .sum2 = sum2};
    size_t cells = (size_t)n * (size_t)T;
    g.raw = aura__calloc(NULL, cells * RISK_C, sizeof(float));
    g.seen = aura__calloc(NULL, cells, 1);
    int acts = run_acts(o, r);
    g.acted = acts ? aura__calloc(NULL, cells, 1) : NULL;
    g.prev = aura__calloc(NULL, (size_t)n * RISK_NA, sizeof(float));
    g.has_prev = aura__calloc(NULL, n, 1);
    g.nb = aura__calloc(NULL, (size_t)n * RISK_NB, sizeof(float));
    g.ncnt = aura__calloc(NULL, n, sizeof(float));
    int8_t *lab = aura__alloc(NULL, cells);
    uint8_t *fails = aura__alloc(NULL, n);
    uint32_t *pick = aura__alloc_array(NULL, n, sizeof(uint32_t));
    aura_status st =
        g.raw && g.seen && (g.acted || !acts) && g.prev && g.has_prev && g.nb && g.ncnt && lab && fails && pick
            ? AURA_OK
            : AURA_E_NOMEM;
    aura_monitor_label *labels = NULL;
    uint32_t *edges = NULL;
    size_t nl = 0, ne = 0;
    uint32_t inter = 0;
    uint64_t events = 0;
    aura_monitor_opts mo = aura_monitor_opts_default();
    if (st == AURA_OK) {
        mo.act = acts;
        mo.horizon = o->model.horizon;
        aura_monitor_model mm;
        if (actor && mo.act) {
            aura_monitor_risk_cfc_reset(actor);
            mm = aura_monitor_risk_cfc_model(actor);
            mo.model = &mm;
        } else {
            actor = NULL;
        }
        st = aura__monitor_risk_simulate(&so, &mo, actor, gen_tick, &g, &labels, &nl, &edges, &ne,
                                         &inter, &events);
    }
    if (st == AURA_OK) {
        make_labels(labels, nl, n, T, o->model.horizon, g.seen, lab, fails);
        if (g.acted) {
            mask_acted(g.acted, n, T, o->model.horizon, mo.cooldown, lab);
        }
        /* keep failing agents (up to half the sequences), fill with others */
        uint64_t rs = so.seed ^ 0xA5A5A5A5u;
        for (uint32_t i = 0; i < n; i++) {
            pick[i] = i;
        }
        for (uint32_t i = n; i > 1; i--) { /* seeded shuffle */
            uint32_t j = (uint32_t)(rng_next(&rs) % i), t = pick[i - 1];
            pick[i - 1] = pick[j];
            pick[j] = t;
        }
        uint32_t cap = (uint32_t)o->max_seq_per_run, nf = 0, no = 0, total_fail = 0;
        for (uint32_t i = 0; i < n; i++) { /* stable partition: failing first */
            if (fails[pick[i]]) {
                uint32_t t = pick[i];
                memmove(&pick[total_fail + 1], &pick[total_fail], (i - total_fail) * sizeof *pick);
                pick[total_fail++] = t;
            }
        }
        nf = total_fail < cap / 2 ? total_fail : cap / 2;
        no = n - total_fail < cap - nf ? n - total_fail : cap - nf;
        const uint32_t *keep = pick;
        out->K = nf + no;
        out->x = aura__alloc_array(NULL, (size_t)out->K * (size_t)T * RISK_C, sizeof(float));
        out->lab = aura__alloc(NULL, (size_t)out->K * (size_t)T);
        st = out->x && out->lab ? AURA_OK : AURA_E_NOMEM;
        for (uint32_t k = 0; st == AURA_OK && k < out->K; k++) {
            uint32_t i = k < nf ? keep[k] : keep[total_fail + (k - nf)];
            memcpy(&out->x[(size_t)k * (size_t)T * RISK_C], &g.raw[(size_t)i * (size_t)T * RISK_C],
                   (size_t)T * RISK_C * sizeof(float));
            memcpy(&out->lab[(size_t)k * (size_t)T], &lab[(size_t)i * (size_t)T], (size_t)T);
        }
    }
    *cnt += g.cnt;
    aura__free(NULL, labels);
    aura__free(NULL, edges);
    aura__free(NULL, g.raw);
    aura__free(NULL, g.seen);
    aura__free(NULL, g.acted);
    aura__free(NULL, g.prev);
    aura__free(NULL, g.has_prev);
    aura__free(NULL, g.nb);
    aura__free(NULL, g.ncnt);
    aura__free(NULL, lab);
    aura__free(NULL, fails);
    aura__free(NULL, pick);
    return st;
}

static void normalise_run(run_data *d, int32_t T, const float *mean, const float *inv_std)
{
    for (size_t c = 0; c < (size_t)d->K * (size_t)T; c++) {
        float *x = &d->x[c * RISK_C];
        if (d->lab[c] < 0) {
            int zero = 1;
            for (int k = 0; k < RISK_C && zero; k++) {
                zero = x[k] == 0.0f;
            }
            if (zero) { /* unseen: the model sees zeros */
                continue;
            }
        }
        float tmp[RISK_C];
        memcpy(tmp, x, sizeof tmp);
        aura__monitor_risk_norm(mean, inv_std, tmp, x);
    }
}

/* ---- optimiser ---- */

typedef struct trainer {
    aura_monitor_risk_cfc *r;
    size_t np; /* named parameters */
    size_t n;  /* floats */
    const char **name;
    size_t *off, *len;
    float *G; /* gradient, flat */
    double *m1, *m2;
    float *best;
    long t;
    double lr, b1, b2, eps, clip;
} trainer;

static aura_status trainer_init(trainer *tr, aura_monitor_risk_cfc *r,
                                const aura_monitor_risk_train_opts *o)
{
    memset(tr, 0, sizeof *tr);
    tr->r = r;
    aura_lnn_info info;
    aura_lnn_model_get_info(r->m, &info);
    tr->n = info.n_params;
    tr->np = aura_lnn_model_param_count(r->m);
    tr->name = aura__calloc(NULL, tr->np, sizeof *tr->name);
    tr->off = aura__calloc(NULL, tr->np, sizeof *tr->off);
    tr->len = aura__calloc(NULL, tr->np, sizeof *tr->len);
    tr->G = aura__calloc(NULL, tr->n, sizeof(float));
    tr->m1 = aura__calloc(NULL, tr->n, sizeof(double));
    tr->m2 = aura__calloc(NULL, tr->n, sizeof(double));
    tr->best = aura__calloc(NULL, tr->n, sizeof(float));
    if (!tr->name || !tr->off || !tr->len || !tr->G || !tr->m1 || !tr->m2 || !tr->best) {
        return AURA_E_NOMEM;
    }
    for (size_t i = 0; i < tr->np; i++) {
        tr->name[i] = aura_lnn_model_param_name(r->m, i);
        aura_status st = aura_lnn_model_param_offset(r->m, tr->name[i], &tr->off[i], &tr->len[i]);
        if (st != AURA_OK) {
            return st;
        }
    }
    tr->lr = o->lr;
    tr->b1 = 0.9;
    tr->b2 = 0.999;
    tr->eps = 1e-8;
    tr->clip = o->clip_norm;
    return AURA_OK;
}

static void trainer_free(trainer *tr)
{
    aura__free(NULL, tr->name);
    aura__free(NULL, tr->off);
    aura__free(NULL, tr->len);
    aura__free(NULL, tr->G);
    aura__free(NULL, tr->m1);
    aura__free(NULL, tr->m2);
    aura__free(NULL, tr->best);
}

/* copy = 1: parameters -> best; 0: best -> parameters */
static void trainer_snapshot(trainer *tr, int copy)
{
    for (size_t i = 0; i < tr->np; i++) {
        size_t n;
        float *p = aura_lnn_model_param(tr->r->m, tr->name[i], &n);
        if (copy) {
            memcpy(&tr->best[tr->off[i]], p, n * sizeof(float));
        } else {
            memcpy(p, &tr->best[tr->off[i]], n * sizeof(float));
        }
    }
}

static void adam_step(trainer *tr)
{
    double nrm = 0.0;
    for (size_t j = 0; j < tr->n; j++) {
        nrm += (double)tr->G[j] * tr->G[j];
    }
    nrm = sqrt(nrm);
    double scale = tr->clip > 0 && nrm > tr->clip ? tr->clip / nrm : 1.0;
    tr->t++;
    double c1 = 1.0 - pow(tr->b1, (double)tr->t), c2 = 1.0 - pow(tr->b2, (double)tr->t);
    for (size_t i = 0; i < tr->np; i++) {
        size_t n;
        float *p = aura_lnn_model_param(tr->r->m, tr->name[i], &n);
        for (size_t k = 0; k < n; k++) {
            size_t j = tr->off[i] + k;
            double g = tr->G[j] * scale;
            tr->m1[j] = tr->b1 * tr->m1[j] + (1.0 - tr->b1) * g;
            tr->m2[j] = tr->b2 * tr->m2[j] + (1.0 - tr->b2) * g * g;
            p[k] = (float)(p[k] - tr->lr * (tr->m1[j] / c1) / (sqrt(tr->m2[j] / c2) + tr->eps));
        }
    }
}

/* Weighted BCE on logits y against lab; writes dL/dy into gy (may be NULL);
 * returns the summed weighted loss and the weight sum in *wsum. */
static double bce(const float *y, const int8_t *lab, size_t n, double pos_w, float *gy,
                  double *wsum)
{
    double l = 0.0, W = 0.0;
    for (size_t c = 0; c < n; c++) {
        if (lab[c] < 0) {
            if (gy) {
                gy[c] = 0.0f;
            }
            continue;
        }
        double w = lab[c] ? pos_w : 1.0, z = y[c];
        /* log(1 + e^-z) for label 1, log(1 + e^z) for 0, stably */
        double s = lab[c] ? -z : z;
        l += w * (s > 0 ? s + log1p(exp(-s)) : log1p(exp(s)));
        W += w;
        if (gy) {
            gy[c] = (float)(w * (1.0 / (1.0 + exp(-z)) - lab[c]));
        }
    }
    *wsum = W;
    return l;
}

/* ---- training loop ---- */

typedef struct seq_ref {
    uint32_t run, k;
} seq_ref;

typedef struct work {
    float *x, *y, *gy, *h, *h0;
    int8_t *lab;
} work;

static aura_status train_batch(trainer *tr, const aura_monitor_risk_train_opts *o,
                               const run_data *runs, const seq_ref *seqs, size_t nb, int32_t T,
                               work *w, double *loss, double *wsum)
{
    aura_lnn_model *m = tr->r->m;
    size_t H = (size_t)tr->r->H;
    memset(w->h, 0, nb * H * sizeof(float));
    for (int32_t s = 0; s < T; s += o->chunk) {
        size_t L = (size_t)(T - s < o->chunk ? T - s : o->chunk);
        for (size_t b = 0; b < nb; b++) {
            const run_data *d = &runs[seqs[b].run];
            size_t base = (size_t)seqs[b].k * (size_t)T + (size_t)s;
            memcpy(&w->x[b * L * RISK_C], &d->x[base * RISK_C], L * RISK_C * sizeof(float));
            memcpy(&w->lab[b * L], &d->lab[base], L);
        }
        memcpy(w->h0, w->h, nb * H * sizeof(float));
        aura_status st = aura_lnn_model_run(m, nb, L, w->x, NULL, w->h, NULL, w->y);
        if (st != AURA_OK) {
            return st;
        }
        double W;
        double l = bce(w->y, w->lab, nb * L, o->pos_weight, w->gy, &W);
        if (W <= 0.0) {
            continue;
        }
        for (size_t c = 0; c < nb * L; c++) {
            w->gy[c] = (float)(w->gy[c] / W);
        }
        st = aura_lnn_model_grad(m, nb, L, w->x, NULL, w->h0, NULL, w->gy, NULL, tr->G, NULL, NULL,
                                 NULL);
        if (st != AURA_OK) {
            return st;
        }
        adam_step(tr);
        *loss += l;
        *wsum += W;
    }
    return AURA_OK;
}

static aura_status validate(aura_monitor_risk_cfc *r, const aura_monitor_risk_train_opts *o,
                            const run_data *val, int nv, int32_t T, double *loss, double *auroc)
{
    size_t total = 0;
    for (int v = 0; v < nv; v++) {
        total += (size_t)val[v].K * (size_t)T;
    }
    float *score = aura__alloc_array(NULL, total + 1, sizeof(float));
    uint8_t *yl = aura__alloc(NULL, total + 1);
    aura_status st = score && yl ? AURA_OK : AURA_E_NOMEM;
    size_t m = 0;
    double l = 0.0, W = 0.0;
    for (int v = 0; st == AURA_OK && v < nv; v++) {
        const run_data *d = &val[v];
        size_t cells = (size_t)d->K * (size_t)T;
        float *h = aura__calloc(NULL, (size_t)d->K * (size_t)r->H + 1, sizeof(float));
        float *y = aura__alloc_array(NULL, cells + 1, sizeof(float));
        st = h && y ? AURA_OK : AURA_E_NOMEM;
        if (st == AURA_OK) {
            st = aura_lnn_model_run(r->m, d->K, (size_t)T, d->x, NULL, h, NULL, y);
        }
        if (st == AURA_OK) {
            double w;
            l += bce(y, d->lab, cells, o->pos_weight, NULL, &w);
            W += w;
            for (size_t c = 0; c < cells; c++) {
                if (d->lab[c] >= 0) {
                    score[m] = y[c];
                    yl[m++] = (uint8_t)d->lab[c];
                }
            }
        }
        aura__free(NULL, h);
        aura__free(NULL, y);
    }
    *loss = W > 0 ? l / W : NAN;
    *auroc = st == AURA_OK ? aura_monitor_auroc(score, yl, m) : NAN;
    aura__free(NULL, score);
    aura__free(NULL, yl);
    return st;
}

static aura_status check_opts(const aura_monitor_risk_train_opts *o)
{
    int ok = o->runs >= 1 && o->runs <= 400 && o->val_runs >= 1 && o->val_runs <= 400 &&
             o->ticks >= 20 && o->ticks <= 100000 && o->min_agents >= 10 &&
             o->max_agents >= o->min_agents && o->max_agents <= 10000 &&
             (o->topologies & 15) != 0 && (o->topologies & ~15) == 0 && o->max_seq_per_run >= 2 &&
             o->epochs >= 1 && o->batch >= 1 && o->chunk >= 1 && o->lr > 0 && o->pos_weight > 0 &&
             o->clip_norm >= 0 && o->closed_loop >= 0.0 && o->closed_loop <= 1.0 &&
             o->dagger_epochs >= 0 && o->dagger_epochs <= 1000;
    return ok ? AURA_OK : AURA_E_INVAL;
}

static void free_runs(run_data *d, int n)
{
    for (int i = 0; d && i < n; i++) {
        aura__free(NULL, d[i].x);
        aura__free(NULL, d[i].lab);
    }
    aura__free(NULL, d);
}

/* Generates the training and validation data and sets r's normalisation. */
static aura_status gen_all(const aura_monitor_risk_train_opts *o, aura_monitor_risk_cfc *r,
                           run_data *tr, run_data *val)
{
    double sum[RISK_C] = {0}, sum2[RISK_C] = {0}, cnt = 0, dummy = 0;
    aura_status st = AURA_OK;
    for (int i = 0; st == AURA_OK && i < o->runs; i++) {
        st = gen_run(o, i, 0, NULL, sum, sum2, &cnt, &tr[i]);
    }
    for (int i = 0; st == AURA_OK && i < o->val_runs; i++) {
        st = gen_run(o, i, 1, NULL, NULL, NULL, &dummy, &val[i]);
    }
    if (st != AURA_OK) {
        return st;
    }
    for (int k = 0; k < RISK_C; k++) {
        double mu = cnt > 0 ? sum[k] / cnt : 0.0;
        double var = cnt > 0 ? sum2[k] / cnt - mu * mu : 1.0;
        double sd = var > 1e-8 ? sqrt(var) : 1.0;
        r->mean[k] = (float)mu;
        r->std[k] = (float)sd;
        r->inv_std[k] = 1.0f / r->std[k];
    }
    for (int i = 0; i < o->runs; i++) {
        normalise_run(&tr[i], o->ticks, r->mean, r->inv_std);
    }
    for (int i = 0; i < o->val_runs; i++) {
        normalise_run(&val[i], o->ticks, r->mean, r->inv_std);
    }
    return AURA_OK;
}

/* Epochs [e0, e0 + ne) of total.  Round 0 starts the best-epoch search
 * afresh; a later round (new data) starts it from the current parameters
 * scored on its validation runs. */
static aura_status epochs(const aura_monitor_risk_train_opts *o, trainer *tr, const run_data *trd,
                          const run_data *val, aura_monitor_risk_train_result *res, double t0,
                          int e0, int ne, int total)
{
    size_t nseq = 0;
    for (int i = 0; i < o->runs; i++) {
        nseq += trd[i].K;
    }
    seq_ref *seqs = aura__alloc_array(NULL, nseq + 1, sizeof *seqs);
    size_t B = (size_t)o->batch, L = (size_t)o->chunk, H = (size_t)tr->r->H;
    work w = {
        .x = aura__alloc_array(NULL, B * L * RISK_C, sizeof(float)),
        .y = aura__alloc_array(NULL, B * L, sizeof(float)),
        .gy = aura__alloc_array(NULL, B * L, sizeof(float)),
        .h = aura__alloc_array(NULL, B * H, sizeof(float)),
        .h0 = aura__alloc_array(NULL, B * H, sizeof(float)),
        .lab = aura__alloc(NULL, B * L),
    };
    aura_status st = seqs && w.x && w.y && w.gy && w.h && w.h0 && w.lab ? AURA_OK : AURA_E_NOMEM;
    size_t q = 0;
    uint64_t pos = 0, all = 0;
    for (int i = 0; st == AURA_OK && i < o->runs; i++) {
        for (uint32_t k = 0; k < trd[i].K; k++) {
            seqs[q++] = (seq_ref){(uint32_t)i, k};
        }
        for (size_t c = 0; c < (size_t)trd[i].K * (size_t)o->ticks; c++) {
            pos += trd[i].lab[c] == 1;
            all += trd[i].lab[c] >= 0;
        }
    }
    res->samples = all;
    res->positive_share = all ? (double)pos / (double)all : 0.0;
    uint64_t rs = o->seed * 0x9E3779B97F4A7C15ull + 17u + (uint64_t)e0 * 7919u;
    res->best_val_auroc = -1.0;
    if (st == AURA_OK && e0 > 0) {
        double vl;
        st = validate(tr->r, o, val, o->val_runs, o->ticks, &vl, &res->best_val_auroc);
        trainer_snapshot(tr, 1);
    }
    for (int e = e0; st == AURA_OK && e < e0 + ne; e++) {
        for (size_t i = nseq; i > 1; i--) {
            size_t j = (size_t)(rng_next(&rs) % i);
            seq_ref t = seqs[i - 1];
            seqs[i - 1] = seqs[j];
            seqs[j] = t;
        }
        double loss = 0.0, W = 0.0;
        for (size_t b = 0; st == AURA_OK && b < nseq; b += B) {
            size_t nb = nseq - b < B ? nseq - b : B;
            st = train_batch(tr, o, trd, &seqs[b], nb, o->ticks, &w, &loss, &W);
        }
        aura_monitor_risk_progress p = {
            .epoch = e + 1, .epochs = total, .loss = W > 0 ? loss / W : NAN};
        if (st == AURA_OK) {
            st = validate(tr->r, o, val, o->val_runs, o->ticks, &p.val_loss, &p.val_auroc);
        }
        if (st != AURA_OK) {
            break;
        }
        if (e == 0) {
            res->first_loss = p.loss;
        }
        res->last_loss = p.loss;
        p.best = !(p.val_auroc <= res->best_val_auroc); /* NaN counts as better only at first */
        if (p.best) {
            res->best_val_auroc = p.val_auroc;
            res->best_epoch = e + 1;
            trainer_snapshot(tr, 1);
        }
        p.seconds = now_s() - t0;
        if (o->progress) {
            o->progress(o->progress_ctx, &p);
        }
    }
    if (st == AURA_OK) {
        trainer_snapshot(tr, 0);
    }
    aura__free(NULL, seqs);
    aura__free(NULL, w.x);
    aura__free(NULL, w.y);
    aura__free(NULL, w.gy);
    aura__free(NULL, w.h);
    aura__free(NULL, w.h0);
    aura__free(NULL, w.lab);
    return st;
}

aura_status aura_monitor_risk_train(const aura_monitor_risk_train_opts *opts,
                                    aura_monitor_risk_cfc **out,
                                    aura_monitor_risk_train_result *res)
{
    AURA_CHECK_ARG(opts && out);
    aura_status st = check_opts(opts);
    if (st != AURA_OK) {
        return st;
    }
    double t0 = now_s();
    aura_monitor_risk_train_result rr = {0};
    aura_monitor_risk_cfc *r = NULL;
    st = aura_monitor_risk_cfc_create(opts->alloc, &opts->model, opts->seed, &r);
    if (st != AURA_OK) {
        return st;
    }
    run_data *trd = aura__calloc(NULL, (size_t)opts->runs, sizeof *trd);
    run_data *val = aura__calloc(NULL, (size_t)opts->val_runs, sizeof *val);
    trainer tr;
    memset(&tr, 0, sizeof tr);
    st = trd && val ? AURA_OK : AURA_E_NOMEM;
    if (st == AURA_OK) {
        st = gen_all(opts, r, trd, val);
    }
    if (st == AURA_OK) {
        st = trainer_init(&tr, r, opts);
    }
    if (st == AURA_OK) {
        st = epochs(opts, &tr, trd, val, &rr, t0, 0, opts->epochs,
                    opts->epochs + opts->dagger_epochs);
    }
    if (st == AURA_OK && opts->dagger_epochs > 0 && opts->closed_loop > 0.0) {
        /* DAgger-style round: the closed-loop runs again, now with this
         * model acting, normalised with the first round's statistics */
        double dummy = 0.0;
        for (int i = 0; st == AURA_OK && i < opts->runs + opts->val_runs; i++) {
            int v = i >= opts->runs, k = v ? i - opts->runs : i;
            run_data *d = v ? &val[k] : &trd[k];
            if (!run_acts(opts, k)) {
                continue;
            }
            aura__free(NULL, d->x);
            aura__free(NULL, d->lab);
            memset(d, 0, sizeof *d);
            st = gen_run(opts, k, v, r, NULL, NULL, &dummy, d);
            if (st == AURA_OK) {
                normalise_run(d, opts->ticks, r->mean, r->inv_std);
            }
        }
        if (st == AURA_OK) {
            st = epochs(opts, &tr, trd, val, &rr, t0, opts->epochs, opts->dagger_epochs,
                        opts->epochs + opts->dagger_epochs);
        }
    }
    trainer_free(&tr);
    free_runs(trd, opts->runs);
    free_runs(val, opts->val_runs);
    if (st != AURA_OK) {
        aura_monitor_risk_cfc_destroy(r);
        return st;
    }
    *out = r;
    if (res) {
        *res = rr;
    }
    return AURA_OK;
}
