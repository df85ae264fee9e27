/* risk_run.c -- one simulated run with a monitor watching it (shadow or
 * closed loop), used by training (data), evaluation and tests.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "core/core_int.h"
#include "monitor/risk_int.h"

typedef struct run_state {
    aura_monitor_sim *sim;
    aura_monitor *mon;
    int act;
    int32_t ticks;
    aura__monitor_risk_tick_fn fn;
    void *ctx;
    aura__monitor_risk_plan_fn plan; /* after the monitor's decisions, or NULL */
    void *plan_ctx;
    uint32_t interventions;
} run_state;

/* Closes the monitor's ticks up to and including t. */
static aura_status close_upto(run_state *s, int64_t t)
{
    while (aura_monitor_open_tick(s->mon) >= 0 && aura_monitor_open_tick(s->mon) <= t) {
        int64_t tk = aura_monitor_open_tick(s->mon);
        aura_status st = aura_monitor_tick_close(s->mon);
        if (st == AURA_OK && s->fn && tk < s->ticks) {
            st = s->fn(s->ctx, tk, s->mon);
        }
        if (st != AURA_OK) {
            return st;
        }
        const aura_monitor_decision *d;
        size_t nd;
        aura_monitor_decisions(s->mon, &d, &nd);
        for (size_t k = 0; s->act && k < nd; k++) {
            if ((st = aura_monitor_sim_apply(s->sim, &d[k])) != AURA_OK) {
                return st;
            }
            s->interventions++;
        }
        if (s->plan && tk < s->ticks &&
            (st = s->plan(s->plan_ctx, tk, s->mon, s->sim, &s->interventions)) != AURA_OK) {
            return st;
        }
    }
    return AURA_OK;
}

static aura_status run_ticks(run_state *s, uint64_t *events)
{
    aura_status st = AURA_OK;
    for (int32_t t = 0; st == AURA_OK && t < s->ticks; t++) {
        const aura_events_event *ev;
        size_t n;
        st = aura_monitor_sim_step(s->sim, &ev, &n);
        *events += st == AURA_OK ? n : 0;
        while (st == AURA_OK && n > 0) {
            size_t used;
            st = aura_monitor_ingest(s->mon, ev, n, &used);
            ev += used;
            n -= used;
            if (st == AURA_OK && n > 0) {
                st = close_upto(s, aura_monitor_open_tick(s->mon));
            }
        }
        if (st == AURA_OK) {
            st = close_upto(s, t);
        }
    }
    return st;
}

static aura_status ground_truth(aura_monitor_sim *sim, aura_monitor_label **labels,
                                size_t *n_labels, uint32_t **edges, size_t *n_edges)
{
    aura_status st = aura_monitor_sim_labels(sim, NULL, 0, n_labels);
    if (st != AURA_OK) {
        return st;
    }
    *labels = aura__alloc_array(NULL, *n_labels + 1, sizeof **labels);
    if (!*labels) {
        return AURA_E_NOMEM;
    }
    if ((st = aura_monitor_sim_labels(sim, *labels, *n_labels, n_labels)) != AURA_OK) {
        return st;
    }
    if ((st = aura_monitor_sim_edges(sim, NULL, 0, n_edges)) != AURA_OK) {
        return st;
    }
    *edges = aura__alloc_array(NULL, 2 * *n_edges + 2, sizeof **edges);
    if (!*edges) {
        return AURA_E_NOMEM;
    }
    return aura_monitor_sim_edges(sim, *edges, *n_edges, n_edges);
}

static aura_status simulate(const aura_monitor_sim_opts *so, const aura_monitor_opts *mo,
                            aura_monitor_risk_cfc *cfc, aura__monitor_risk_tick_fn fn, void *ctx,
                            aura__monitor_risk_plan_fn plan, void *plan_ctx,
                            aura_monitor_label **labels, size_t *n_labels, uint32_t **edges,
                            size_t *n_edges, uint32_t *interventions, uint64_t *events)
{
    run_state s = {.act = mo->act,
                   .ticks = so->ticks,
                   .fn = fn,
                   .ctx = ctx,
                   .plan = plan,
                   .plan_ctx = plan_ctx};
    *labels = NULL;
    *edges = NULL;
    *events = 0;
    aura_status st = aura_monitor_sim_create(so, &s.sim);
    if (st == AURA_OK) {
        st = aura_monitor_create(mo, &s.mon);
    }
    if (st == AURA_OK && cfc) {
        aura_monitor_risk_cfc_attach(cfc, s.mon);
    }
    if (st == AURA_OK) {
        st = run_ticks(&s, events);
    }
    if (st == AURA_OK) {
        st = ground_truth(s.sim, labels, n_labels, edges, n_edges);
    }
    if (st != AURA_OK) {
        aura__free(NULL, *labels);
        aura__free(NULL, *edges);
        *labels = NULL;
        *edges = NULL;
    }
    *interventions = s.interventions;
    if (cfc) {
        aura_monitor_risk_cfc_attach(cfc, NULL);
    }
    aura_monitor_destroy(s.mon);
    aura_monitor_sim_destroy(s.sim);
    return st;
}

aura_status aura__monitor_risk_simulate(const aura_monitor_sim_opts *so,
                                        const aura_monitor_opts *mo, aura_monitor_risk_cfc *cfc,
                                        aura__monitor_risk_tick_fn fn, void *ctx,
                                        aura_monitor_label **labels, size_t *n_labels,
                                        uint32_t **edges, size_t *n_edges, uint32_t *interventions,
                                        uint64_t *events)
{
    return simulate(so, mo, cfc, fn, ctx, NULL, NULL, labels, n_labels, edges, n_edges,
                    interventions, events);
}

typedef struct risk_rows {
    float *risk;
    float *sys;     /* ticks: the system's cascade risk */
    uint8_t *quiet; /* ticks x n: 1 = nothing abnormal in the agent's features */
    uint32_t n;
} risk_rows;

/* 1 if an agent's features show no clear sign of trouble: load below 0.9,
 * under 30 % errors in, out and of its own, latency under twice its
 * baseline, reporting, trusted, no failing neighbour, and no rising load
 * or errors.  A failure preceded only by such ticks had no precursor in
 * the events (feature indices as in monitor.c). */
static int quiet(const float *f)
{
    return f[0] < 0.9f && f[3] < 0.3f && f[7] < 0.3f && f[8] < 0.3f && f[9] < 1.0f &&
           f[5] < 1.0f && f[16] < 0.5f && f[17] > 0.8f && f[21] < 1.0f && f[18] < 0.1f &&
           f[20] < 0.1f;
}

static aura_status store_risk(void *ctx, int64_t tick, aura_monitor *mon)
{
    risk_rows *rr = ctx;
    const float *risk, *feat, *sys;
    const uint8_t *seen;
    uint32_t n, nf;
    aura_status st = aura_monitor_risk(mon, &risk, &seen, &n);
    if (st == AURA_OK) {
        st = aura_monitor_features(mon, &feat, &sys, &nf);
    }
    rr->sys[tick] = aura_monitor_system_risk(mon);
    for (uint32_t i = 0; st == AURA_OK && i < rr->n; i++) {
        rr->risk[(size_t)tick * rr->n + i] = i < n && seen[i] ? risk[i] : -1.0f;
        rr->quiet[(size_t)tick * rr->n + i] =
            (uint8_t)(i < nf && i < n && seen[i] ? quiet(&feat[(size_t)i * AURA_MONITOR_AGENT_FEATURES])
                                                 : 1);
    }
    return st;
}

/* Marks the failures with no precursor (the agent quiet in every tick of
 * the H before it) and hides their positive samples from the risk (-1),
 * so that the AUROC of the rest is that of the predictable failures. */
static uint32_t mask_sudden(float *risk, const uint8_t *q, int32_t T, uint32_t n, int H,
                            const aura_monitor_label *l, size_t nl)
{
    uint32_t sudden = 0;
    for (size_t k = 0; k < nl; k++) {
        if (l[k].event != AURA_MONITOR_LABEL_FAIL || l[k].agent >= n || l[k].tick >= T) {
            continue;
        }
        uint32_t i = l[k].agent;
        int32_t t0 = l[k].tick - H > 0 ? l[k].tick - H : 0, all_quiet = 1;
        for (int32_t t = t0; t < l[k].tick && all_quiet; t++) {
            all_quiet = q[(size_t)t * n + i];
        }
        if (!all_quiet) {
            continue;
        }
        sudden++;
        for (int32_t t = t0; t < l[k].tick; t++) {
            risk[(size_t)t * n + i] = -1.0f;
        }
    }
    return sudden;
}

/* The system's cascade risk scored against "at least K agents fail within
 * the next H ticks" (fail labels in (t, t + H]), one sample per tick. */
static aura_status score_system(const float *sys, int32_t T, int H, uint32_t K,
                                const aura_monitor_label *l, size_t nl, aura_monitor_risk_run *out)
{
    uint32_t *fails = aura__calloc(NULL, (size_t)T + 1, sizeof *fails);
    uint8_t *y = aura__alloc(NULL, (size_t)T + 1);
    if (!fails || !y) {
        aura__free(NULL, fails);
        aura__free(NULL, y);
        return AURA_E_NOMEM;
    }
    for (size_t k = 0; k < nl; k++) {
        if (l[k].event == AURA_MONITOR_LABEL_FAIL && l[k].tick >= 0 && l[k].tick < T) {
            fails[l[k].tick]++;
        }
    }
    uint32_t win = 0; /* fails in (t, t + H] */
    for (int32_t t = 1; t <= H && t < T; t++) {
        win += fails[t];
    }
    out->sys_positives = 0;
    for (int32_t t = 0; t < T; t++) {
        y[t] = win >= K;
        out->sys_positives += y[t];
        win -= t + 1 < T ? fails[t + 1] : 0;
        win += t + 1 + H < T ? fails[t + 1 + H] : 0;
    }
    out->sys_auroc = aura_monitor_auroc(sys, y, (size_t)T);
    out->sys_pr_auc = aura_monitor_average_precision(sys, y, (size_t)T);
    aura__free(NULL, fails);
    aura__free(NULL, y);
    return AURA_OK;
}

static uint32_t count_failed_agents(const aura_monitor_label *l, size_t nl, uint32_t n)
{
    uint8_t *ever = aura__calloc(NULL, n ? n : 1, 1);
    uint32_t c = 0;
    for (size_t k = 0; ever && k < nl; k++) {
        if (l[k].event == AURA_MONITOR_LABEL_FAIL && l[k].agent < n && !ever[l[k].agent]) {
            ever[l[k].agent] = 1;
            c++;
        }
    }
    aura__free(NULL, ever);
    return c;
}

aura_status aura_monitor_risk_run_sim(const aura_monitor_sim_opts *so, aura_monitor_risk_cfc *model,
                                      int act, double threshold, float *risk_out,
                                      aura_monitor_risk_run *out)
{
    aura_monitor_opts mo = aura_monitor_opts_default();
    mo.act = act;
    mo.threshold = threshold;
    return aura_monitor_risk_run_sim_opts(so, model, &mo, risk_out, out);
}

aura_status aura_monitor_risk_run_sim_opts(const aura_monitor_sim_opts *so,
                                           aura_monitor_risk_cfc *model,
                                           const aura_monitor_opts *base, float *risk_out,
                                           aura_monitor_risk_run *out)
{
    return aura__monitor_risk_run_planned(so, model, base, NULL, NULL, risk_out, out);
}

aura_status aura__monitor_risk_run_planned(const aura_monitor_sim_opts *so,
                                           aura_monitor_risk_cfc *model,
                                           const aura_monitor_opts *base,
                                           aura__monitor_risk_plan_fn plan, void *plan_ctx,
                                           float *risk_out, aura_monitor_risk_run *out)
{
    AURA_CHECK_ARG(so && base && out && so->ticks > 0 && so->n_agents > 0);
    double threshold = base->threshold;
    if (!(threshold > 0.0 && threshold <= 1.0)) {
        return AURA_E_INVAL;
    }
    uint32_t n = so->n_agents;
    risk_rows rr = {.risk = risk_out, .n = n};
    rr.quiet = aura__alloc(NULL, (size_t)so->ticks * n);
    rr.sys = aura__calloc(NULL, (size_t)so->ticks, sizeof(float));
    if (!rr.risk) {
        rr.risk = aura__alloc_array(NULL, (size_t)so->ticks * n, sizeof(float));
    }
    if (!rr.risk || !rr.quiet || !rr.sys) {
        if (rr.risk != risk_out) {
            aura__free(NULL, rr.risk);
        }
        aura__free(NULL, rr.quiet);
        aura__free(NULL, rr.sys);
        return AURA_E_NOMEM;
    }
    for (size_t c = 0; c < (size_t)so->ticks * n; c++) {
        rr.risk[c] = -1.0f;
    }
    aura_monitor_model mm;
    aura_monitor_opts mo = *base;
    mo.model = NULL;
    aura_monitor_eval_opts eo = aura_monitor_eval_opts_default();
    eo.threshold = threshold;
    if (model) {
        aura_monitor_risk_cfc_reset(model);
        mm = aura_monitor_risk_cfc_model(model);
        mo.model = &mm;
        mo.horizon = model->horizon;
        eo.horizon = model->horizon;
    }
    aura_monitor_label *labels = NULL;
    uint32_t *edges = NULL;
    size_t nl = 0, ne = 0;
    memset(out, 0, sizeof *out);
    aura_status st = simulate(so, &mo, model, store_risk, &rr, plan, plan_ctx, &labels, &nl,
                              &edges, &ne, &out->interventions, &out->events);
    if (st == AURA_OK) {
        st = aura_monitor_eval_compute(&eo, rr.risk, so->ticks, n, labels, nl, edges, ne, &out->ev);
        out->failed_agents = count_failed_agents(labels, nl, n);
        st = score_system(rr.sys, so->ticks, eo.horizon, eo.cascade_k, labels, nl, out);
    }
    if (st == AURA_OK) {
        /* the same score without the failures that had no precursor */
        float *rm = rr.risk;
        if (rm == risk_out) { /* keep the caller's copy whole */
            rm = aura__alloc_array(NULL, (size_t)so->ticks * n, sizeof(float));
            if (rm) {
                memcpy(rm, risk_out, (size_t)so->ticks * n * sizeof(float));
            }
        }
        st = rm ? AURA_OK : AURA_E_NOMEM;
        aura_monitor_eval ep;
        if (st == AURA_OK) {
            out->sudden = mask_sudden(rm, rr.quiet, so->ticks, n, eo.horizon, labels, nl);
            st = aura_monitor_eval_compute(&eo, rm, so->ticks, n, labels, nl, edges, ne, &ep);
        }
        if (st == AURA_OK) {
            out->auroc_predictable = ep.auroc;
            out->pr_auc_predictable = ep.pr_auc;
        }
        if (rm != rr.risk) {
            aura__free(NULL, rm);
        }
    }
    aura__free(NULL, rr.quiet);
    aura__free(NULL, rr.sys);
    aura__free(NULL, labels);
    aura__free(NULL, edges);
    if (rr.risk != risk_out) {
        aura__free(NULL, rr.risk);
    }
    return st;
}
