/* monitor_risk.h -- the learned risk model of the monitor: a CfC (from
 * `lnn`) run per agent over the feature sequence, giving each agent's
 * probability of failing within H ticks; how it is trained on simulated
 * runs (`aura train-risk`), and how it is evaluated against the rule
 * baseline (`aura eval-risk`).  See docs/monitor_risk.md.
 *
 *   aura_monitor_risk_cfc *r;
 *   aura_monitor_risk_cfc_load(NULL, "models/risk_cfc.safetensors", &r, err, sizeof err);
 *   aura_monitor_model mm = aura_monitor_risk_cfc_model(r);
 *   aura_monitor_opts mo = aura_monitor_opts_default();
 *   mo.model = &mm;                  // the monitor now scores with the CfC
 *   ...
 *   aura_monitor_risk_cfc_destroy(r);
 *
 * One model instance keeps the hidden state of one monitor: use a fresh
 * instance (or aura_monitor_risk_cfc_reset) per event stream.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_MONITOR_RISK_H
#define AURA_MONITOR_RISK_H

#include <stddef.h>
#include <stdint.h>

#include "aura/alloc.h"
#include "aura/monitor.h"
#include "aura/status.h"

/* Model inputs per agent and tick: the agent features, their change since
 * the agent's previous tick, the max and mean over its live-graph
 * neighbours of their load, current error rate, latency ratio and silence,
 * and the system features; each squashed (signed log1p; counts of the
 * system made shares of its size) and then standardised with statistics
 * stored in the model file. */
#define AURA_MONITOR_RISK_NEIGHBOUR_INPUTS 8
#define AURA_MONITOR_RISK_INPUTS                                                                   \
    (2 * AURA_MONITOR_AGENT_FEATURES + AURA_MONITOR_RISK_NEIGHBOUR_INPUTS +                        \
     AURA_MONITOR_SYSTEM_FEATURES)

typedef struct aura_monitor_risk_config {
    int units;           /* CfC hidden units (24) */
    int backbone_units;  /* CfC backbone width (32) */
    int backbone_layers; /* (1) */
    int horizon;         /* H the model is trained for (10) */
} aura_monitor_risk_config;

AURA_API aura_monitor_risk_config aura_monitor_risk_config_default(void);

typedef struct aura_monitor_risk_cfc aura_monitor_risk_cfc;

/* A fresh, untrained model (seeded initialisation, identity
 * normalisation).  AURA_E_INVAL for a bad config. */
AURA_API aura_status aura_monitor_risk_cfc_create(const aura_allocator *alloc,
                                                  const aura_monitor_risk_config *cfg,
                                                  uint64_t seed, aura_monitor_risk_cfc **out);

/* Loads a model file (safetensors: the CfC's tensors and config, plus
 * "risk.norm_mean", "risk.norm_std" (AURA_MONITOR_RISK_INPUTS each) and
 * "risk.meta" = [format 3, agent features, system features, horizon]).
 * AURA_E_IO if unreadable, AURA_E_FORMAT / AURA_E_NUMERIC for a bad file,
 * with a message naming the file and the problem in err. */
AURA_API aura_status aura_monitor_risk_cfc_load(const aura_allocator *alloc, const char *path,
                                                aura_monitor_risk_cfc **out, char *err,
                                                size_t err_cap);
AURA_API aura_status aura_monitor_risk_cfc_save(const aura_monitor_risk_cfc *r, const char *path);
AURA_API void aura_monitor_risk_cfc_destroy(aura_monitor_risk_cfc *r);

/* Sizes the per-agent state for n_agents up front (scoring more agents
 * later grows it once; no allocation otherwise).  AURA_E_NOMEM. */
AURA_API aura_status aura_monitor_risk_cfc_reserve(aura_monitor_risk_cfc *r, uint32_t n_agents);
/* Forgets all hidden state (a new event stream). */
AURA_API void aura_monitor_risk_cfc_reset(aura_monitor_risk_cfc *r);
AURA_API int aura_monitor_risk_cfc_horizon(const aura_monitor_risk_cfc *r);
/* Parameters of the CfC (for reports). */
AURA_API size_t aura_monitor_risk_cfc_n_params(const aura_monitor_risk_cfc *r);

/* Lets the model read the live graph of `mon` (aura_monitor_edges) for the
 * neighbour inputs; call once after aura_monitor_create with this model.
 * Without it the neighbour inputs are zero (the model was trained with
 * them: attach).  mon is borrowed; NULL detaches. */
AURA_API void aura_monitor_risk_cfc_attach(aura_monitor_risk_cfc *r, const aura_monitor *mon);

/* The monitor hook: score() advances each agent's hidden state by one
 * tick and writes sigmoid(logit).  Rows that are all zero (agents not seen
 * yet) keep a zero state and get risk 0.  NaN/Inf features are treated as
 * 0 / clamped, so risks are always in [0, 1].  The system risk is
 * P(at least 3 agents fail within H) under independence (Poisson
 * approximation of the agents' risks).  r is borrowed. */
AURA_API aura_monitor_model aura_monitor_risk_cfc_model(aura_monitor_risk_cfc *r);

/* ======================================================================
 * Closed-loop / shadow runs of the simulator with a monitor (shared by
 * training, evaluation and tests)
 * ====================================================================== */

typedef struct aura_monitor_risk_run {
    aura_monitor_eval ev;   /* risk scored against labels (horizon, threshold) */
    uint32_t failed_agents; /* distinct agents that failed */
    uint32_t interventions; /* decisions applied (act = 1) */
    uint64_t events;
    /* failures with no precursor in the events: the agent's features showed
     * no clear sign of trouble (load < 0.9, errors < 0.3, latency < 2x its
     * baseline, no silence, trusted, no failing neighbour, no rising load or
     * errors) in every one of the H ticks before; and the risk scores
     * without their positive samples */
    uint32_t sudden;
    double auroc_predictable, pr_auc_predictable;
    /* system cascade prediction: the system risk of each tick scored
     * against "at least K (3) agents fail within the next H ticks" (NaN
     * when a run has no such tick or only such ticks) */
    double sys_auroc, sys_pr_auc;
    uint32_t sys_positives; /* ticks with a cascade ahead */
} aura_monitor_risk_run;

/* Runs one simulation of so->ticks ticks with a monitor scoring it: with
 * `model` NULL the rule baseline, else the CfC (reset first).  act = 1
 * feeds decisions back (closed loop), 0 = shadow.  threshold: decisions and
 * lead time.  risk_out (ticks x n_agents, -1 = unseen) may be NULL. */
AURA_API aura_status aura_monitor_risk_run_sim(const aura_monitor_sim_opts *so,
                                               aura_monitor_risk_cfc *model, int act,
                                               double threshold, float *risk_out,
                                               aura_monitor_risk_run *out);

/* The same with the monitor's options given (act, threshold, policy,
 * early_threshold, cooldown, max_actions ...; opts->model is replaced by
 * `model`); opts->threshold also sets the lead-time threshold. */
AURA_API aura_status aura_monitor_risk_run_sim_opts(const aura_monitor_sim_opts *so,
                                                    aura_monitor_risk_cfc *model,
                                                    const aura_monitor_opts *opts,
                                                    float *risk_out, aura_monitor_risk_run *out);

/* A planning oracle on top of the rule monitor: how many failures this
 * action set could prevent with the simulator's whole state known (not
 * its future).  Each tick of a closed-loop run, after the rule monitor's
 * decisions, the `candidates` riskiest agents (rule risk >= min_risk) are
 * tried with each action (throttle, rebalance, isolate, reroute off each
 * callee) on `copies` copies of the simulator with random numbers of their
 * own and the faults not started yet drawn again from their prior, run
 * `lookahead` ticks; the up to `max_actions` actions that spare the most
 * bad agent-ticks (ingress shed priced in at 0.2 per request) are applied.
 * It peeks at the simulator, so it is a yardstick for policies, not a
 * policy.  Cost: about candidates x (3 + callees) x copies x lookahead
 * simulator ticks per tick. */
typedef struct aura_monitor_oracle_opts {
    int copies;      /* per candidate action (4) */
    int lookahead;   /* ticks each copy runs (10) */
    int candidates;  /* agents tried per tick (16) */
    double min_risk; /* rule risk an agent needs to be tried (0.1) */
    int max_actions; /* oracle actions applied per tick (8) */
    uint64_t seed;   /* of the copies' random numbers (1) */
} aura_monitor_oracle_opts;

AURA_API aura_monitor_oracle_opts aura_monitor_oracle_opts_default(void);

/* Runs so in closed loop with the rule monitor acting (threshold 0.5) and
 * the oracle on top; out as aura_monitor_risk_run_sim (interventions count
 * both).  AURA_E_INVAL for bad options. */
AURA_API aura_status aura_monitor_oracle_run(const aura_monitor_sim_opts *so,
                                             const aura_monitor_oracle_opts *opts,
                                             aura_monitor_risk_run *out);

/* ======================================================================
 * Training
 * ====================================================================== */

typedef struct aura_monitor_risk_progress {
    int epoch, epochs;
    double loss;      /* mean class-weighted BCE over the epoch's training chunks */
    double val_loss;  /* on the validation runs */
    double val_auroc; /* per (agent, tick) on the validation runs */
    double seconds;   /* since training started (data generation included) */
    int best;         /* 1 if this epoch is the best so far (kept) */
} aura_monitor_risk_progress;

typedef struct aura_monitor_risk_train_opts {
    const aura_allocator *alloc; /* NULL = default */
    uint64_t seed;               /* data, initialisation, shuffling (1) */
    aura_monitor_risk_config model;
    int runs;                        /* training simulations (150) */
    int val_runs;                    /* validation simulations (6) */
    int ticks;                       /* ticks per simulation (300) */
    uint32_t min_agents, max_agents; /* sizes drawn from this range (50, 300) */
    int topologies;      /* bit mask of aura_monitor_topology used (ba|smallworld|random) */
    int max_seq_per_run; /* agents kept per run: failing ones + others (48) */
    int epochs;          /* (12) */
    int batch;           /* sequences per step (32) */
    int chunk;           /* truncated BPTT length in ticks (50) */
    double lr;           /* Adam (0.003) */
    double pos_weight;   /* weight of positive samples in the BCE (2) */
    double clip_norm;    /* global gradient clip (1) */
    double closed_loop;  /* share of the runs (training and validation) generated
                            with the rule monitor ACTING on the simulation (its
                            interventions applied), labels from that run's ground
                            truth; the rest open loop (0: all open loop) */
    int dagger_epochs;   /* > 0: a second round: the closed-loop runs are generated
                            again with the model of the first round acting (its
                            risk driving the rule policy at threshold 0.5), and
                            training goes on for this many epochs (0) */
    void (*progress)(void *ctx, const aura_monitor_risk_progress *p);
    void *progress_ctx;
} aura_monitor_risk_train_opts;

AURA_API aura_monitor_risk_train_opts aura_monitor_risk_train_opts_default(void);

typedef struct aura_monitor_risk_train_result {
    double first_loss, last_loss; /* training loss of the first and last epoch */
    double best_val_auroc;
    int best_epoch;
    uint64_t samples;      /* (agent, tick) training samples per epoch */
    double positive_share; /* of those */
} aura_monitor_risk_train_result;

/* Generates data with the simulator (open loop, monitor in shadow mode),
 * labels (agent, tick) with "fails within H ticks" from the ground truth,
 * trains the CfC with truncated BPTT and Adam, and returns the model of the
 * best validation epoch.  Simulation seeds are derived from opts.seed and
 * lie in [1e6, 2e6) (evaluation uses others).  AURA_E_INVAL for bad opts. */
AURA_API aura_status aura_monitor_risk_train(const aura_monitor_risk_train_opts *opts,
                                             aura_monitor_risk_cfc **out,
                                             aura_monitor_risk_train_result *res);

#endif /* AURA_MONITOR_RISK_H */
