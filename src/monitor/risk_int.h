/* risk_int.h -- internals of the learned risk model shared by risk_cfc.c,
 * risk_run.c and risk_train.c.  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_MONITOR_RISK_INT_H
#define AURA_MONITOR_RISK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "aura/lnn.h"
#include "aura/monitor_risk.h"

#define RISK_NA AURA_MONITOR_AGENT_FEATURES
#define RISK_NS AURA_MONITOR_SYSTEM_FEATURES
#define RISK_NB AURA_MONITOR_RISK_NEIGHBOUR_INPUTS
#define RISK_C AURA_MONITOR_RISK_INPUTS
#define RISK_CLAMP 8.0f
#define RISK_FORMAT 3

struct aura_monitor_risk_cfc {
    const aura_allocator *alloc;
    aura_lnn_model *m;
    int H; /* hidden units */
    int horizon;
    float mean[RISK_C], std[RISK_C], inv_std[RISK_C]; /* inv_std = 1 / std, as loaded */
    uint32_t cap;                                     /* agents the state below is sized for */
    float *h;                                         /* cap x H hidden states */
    float *prev;             /* cap x RISK_NA squashed features of the previous tick */
    uint8_t *has_prev;       /* cap */
    float *x;                /* cap x RISK_C inputs of this tick */
    float *y;                /* cap logits */
    float *nb;               /* cap x RISK_NB neighbour inputs */
    float *cnt;              /* cap neighbour counts (scratch) */
    const aura_monitor *mon; /* for the live graph, or NULL */
};

/* Neighbour inputs of all n agents (n x RISK_NB) from the features and the
 * undirected edge list (pairs may be NULL); cnt is n floats of scratch. */
void aura__monitor_risk_neigh(const float *feat, uint32_t n, const uint32_t *pairs, size_t ne,
                              float *nb, float *cnt);

/* The un-normalised input row of one agent: squashed features, their change
 * since prev_sq (zeros when prev_sq is NULL), neighbour inputs nb (RISK_NB),
 * transformed system features.  sq_out (RISK_NA, may be NULL) receives the
 * squashed features. */
void aura__monitor_risk_raw(const float *f, const float *prev_sq, const float *nb, const float *sys,
                            float *raw, float *sq_out);

/* raw -> standardised, clamped to +-RISK_CLAMP, non-finite -> 0. */
void aura__monitor_risk_norm(const float *mean, const float *inv_std, const float *raw, float *x);

/* One per-tick observer of a simulated run: called after each closed tick
 * with the monitor; a non-OK status stops the run. */
typedef aura_status (*aura__monitor_risk_tick_fn)(void *ctx, int64_t tick, aura_monitor *mon);

/* Runs a simulation with a monitor built from mo; calls fn (may be NULL)
 * after every closed tick < so->ticks; applies decisions when mo->act;
 * attaches cfc (the model behind mo->model, or NULL) to the monitor.
 * Labels and edges at the end (caller frees with aura__free(NULL, ...)). */
aura_status aura__monitor_risk_simulate(const aura_monitor_sim_opts *so,
                                        const aura_monitor_opts *mo, aura_monitor_risk_cfc *cfc,
                                        aura__monitor_risk_tick_fn fn, void *ctx,
                                        aura_monitor_label **labels, size_t *n_labels,
                                        uint32_t **edges, size_t *n_edges, uint32_t *interventions,
                                        uint64_t *events);

/* A planner in a closed-loop run: called after each closed tick < ticks,
 * once the monitor's decisions have been applied to sim; it may apply
 * more (adding them to *interventions). */
typedef aura_status (*aura__monitor_risk_plan_fn)(void *ctx, int64_t tick, aura_monitor *mon,
                                                  aura_monitor_sim *sim, uint32_t *interventions);

/* aura_monitor_risk_run_sim_opts with a planner (plan may be NULL). */
aura_status aura__monitor_risk_run_planned(const aura_monitor_sim_opts *so,
                                           aura_monitor_risk_cfc *model,
                                           const aura_monitor_opts *base,
                                           aura__monitor_risk_plan_fn plan, void *plan_ctx,
                                           float *risk_out, aura_monitor_risk_run *out);

#endif /* AURA_MONITOR_RISK_INT_H */
