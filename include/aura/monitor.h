/* monitor.h -- from agent events to cascade-failure risk and interventions,
 * plus the seeded cascade simulator it is proven on and the evaluation
 * helpers (AUROC, PR-AUC, lead time, cascades).
 *
 * Pipeline, one call per event batch and one per tick:
 *   aura_monitor_ingest()      events of the open tick -> per-agent and per-edge
 *                              counters of a sliding window (EMA, `window_ticks`)
 *   aura_monitor_tick_close()  graph measures -> feature vectors -> risk
 *                              (rules, or a plugged-in aura_monitor_model)
 *                              -> decisions with reasons
 * Ticks come from the events' own timestamps: tick T covers ts in
 * [T*tick_ms, (T+1)*tick_ms) milliseconds.
 *
 * Simulator: aura_monitor_sim_* runs a discrete-time multi-agent system
 * (queueing latency, timeouts and retries, gradual and sudden faults,
 * propagation, recovery) and emits only observable events; ground truth
 * (fail / recover / fault labels) comes separately.  Interventions applied
 * with aura_monitor_sim_apply() change its dynamics (closed loop).
 * See docs/monitor.md.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_MONITOR_H
#define AURA_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "aura/alloc.h"
#include "aura/events.h"
#include "aura/status.h"

/* ======================================================================
 * Decisions (shared by the monitor and the simulator's closed loop)
 * ====================================================================== */

typedef enum aura_monitor_action {
    AURA_MONITOR_REBALANCE = 0, /* callers shift load from agent to its peers */
    AURA_MONITOR_THROTTLE = 1,  /* shed part of agent's ingress */
    AURA_MONITOR_REROUTE = 2,   /* agent stops calling `target` (a failing dependency) */
    AURA_MONITOR_ISOLATE = 3,   /* take agent out of routing and restart it */
    AURA_MONITOR_ADD_LINK = 4,  /* add a redundant provider `target` beside agent */
    AURA_MONITOR_APPROVE = 5,   /* admission: grant a resource request */
    AURA_MONITOR_DENY = 6,
    AURA_MONITOR_DEFER = 7,
    AURA_MONITOR_ACTION_COUNT = 8
} aura_monitor_action;

typedef struct aura_monitor_decision {
    int64_t tick;      /* tick the decision was taken at (end of that tick) */
    uint32_t agent;    /* the agent acted on */
    uint32_t target;   /* second agent (reroute away from / add link to), or AURA_EVENTS_NO_AGENT */
    uint8_t action;    /* aura_monitor_action */
    float confidence;  /* 0..1 */
    float risk;        /* the agent's risk when decided */
    char reason[112];  /* human-readable why, NUL-terminated */
} aura_monitor_decision;

/* "rebalance", "throttle", ... ; NULL if out of range. */
AURA_API const char *aura_monitor_action_name(aura_monitor_action a);

/* ======================================================================
 * Monitor
 * ====================================================================== */

/* Features.  Per agent, AURA_MONITOR_AGENT_FEATURES floats; per system,
 * AURA_MONITOR_SYSTEM_FEATURES floats.  Names: aura_monitor_*_feature_name.
 * Agents: 18 graph/behaviour features, then 4 trends over a longer window
 * (load, latency, errors: fast minus slow average) and failing neighbours.
 * System: 16 graph/load features, then 16 topological features from the
 * `tda` module (persistence of the live graph's health and shortest-path
 * filtrations and of the agents' state-space point cloud; docs/monitor.md). */
#define AURA_MONITOR_AGENT_FEATURES 22
#define AURA_MONITOR_SYSTEM_FEATURES 32

AURA_API const char *aura_monitor_agent_feature_name(size_t i);
AURA_API const char *aura_monitor_system_feature_name(size_t i);

/* A pluggable risk model (e.g. a CfC over the feature sequence).  `score`
 * is called once per tick with the features of agents [0, n_agents) (row
 * major, n_agents x AURA_MONITOR_AGENT_FEATURES; rows of agents not seen
 * yet are zero) and the system features; it writes each agent's
 * probability of failing within the horizon into risk[0..n_agents) and the
 * system's cascade probability into *system_risk.  It may keep state in
 * ctx across ticks.  Returning an error aborts the tick. */
typedef struct aura_monitor_model {
    void *ctx;
    aura_status (*score)(void *ctx, const float *agent_features, uint32_t n_agents,
                         const float *system_features, float *risk, float *system_risk);
} aura_monitor_model;

typedef struct aura_monitor_opts {
    const aura_allocator *alloc; /* NULL = default */
    double tick_ms;              /* tick length in ms of event time (1000) */
    int window_ticks;            /* sliding-window length: EMAs and edge expiry (10) */
    int horizon;                 /* H: risk is P(fail within H ticks) (10) */
    double threshold;            /* decision threshold on risk (0.5) */
    int act;                     /* 1: emit interventions; 0: observe only (1) */
    int cooldown;                /* ticks between two interventions on one agent (8) */
    int max_actions;             /* interventions per tick at most (8) */
    uint32_t max_agents;         /* ids >= this are rejected as unknown (1<<20) */
    int betweenness_samples;     /* BFS sources per tick for approximate betweenness,
                                    smoothed over ticks (8) */
    uint64_t seed;               /* for the betweenness sample (1) */
    const aura_monitor_model *model; /* NULL = the rule baseline; borrowed */
    int policy;                  /* aura_monitor_policy (AURA_MONITOR_POLICY_RULES) */
    double early_threshold;      /* graded policy: risk from which early actions are
                                    taken when a gradual cause shows (0.3) */
} aura_monitor_opts;

/* Which decision policy acts on the risk (with either risk score).  RULES:
 * act on agents with risk >= threshold (docs/monitor.md).  GRADED: the
 * same above the threshold, and from early_threshold up early actions
 * where a gradual cause shows (restart an agent whose load has risen for 6
 * ticks to above 0.8, add a provider beside an articulation point loaded
 * above 0.8, drain a silent agent's callers); nothing otherwise.  GRADED
 * did not beat RULES on the tuning seeds (docs/monitor_risk.md), so RULES
 * is the default for the learned risk too. */
typedef enum aura_monitor_policy {
    AURA_MONITOR_POLICY_RULES = 0,
    AURA_MONITOR_POLICY_GRADED = 1
} aura_monitor_policy;

AURA_API aura_monitor_opts aura_monitor_opts_default(void);

typedef struct aura_monitor aura_monitor;

typedef struct aura_monitor_stats {
    uint64_t events;      /* events accepted */
    uint64_t late;        /* events for an already closed tick (counted into the open one) */
    uint64_t duplicates;  /* exact repeats within a tick (skipped) */
    uint64_t unknown;     /* events naming an agent id >= max_agents (skipped) */
    uint64_t bad_time;    /* negative timestamps (skipped) */
    uint64_t decisions;   /* decisions emitted */
    int64_t ticks;        /* ticks closed */
    int64_t gap_ticks;    /* closed ticks that had no events */
    /* wall time spent in tick_close so far, per stage, in ms: window
     * update, graph measures, features, risk, decisions, topological
     * features */
    double stage_ms[6];
} aura_monitor_stats;

/* Creates a monitor (opts NULL = defaults).  AURA_E_INVAL for bad options. */
AURA_API aura_status aura_monitor_create(const aura_monitor_opts *opts, aura_monitor **out);
AURA_API void aura_monitor_destroy(aura_monitor *mon);

/* Feeds events.  Events belong to the open tick (the first event opens
 * tick floor(ts/tick_ms)); events of earlier ticks are counted as late and
 * folded into the open tick; the first event of a later tick stops the
 * call: *n_used tells how many were consumed, and the caller then closes
 * the open tick (aura_monitor_tick_close) and calls ingest again with the
 * rest.  Events with an unknown agent id or a negative ts are skipped and
 * counted.  Never fails on bad data; AURA_E_NOMEM if growing fails. */
AURA_API aura_status aura_monitor_ingest(aura_monitor *mon, const aura_events_event *ev, size_t n,
                                         size_t *n_used);

/* The open tick, or -1 before the first event. */
AURA_API int64_t aura_monitor_open_tick(const aura_monitor *mon);

/* Closes the open tick: updates the window, computes features, risk and
 * (if opts.act) decisions, and opens the next tick.  AURA_E_STATE before
 * the first event. */
AURA_API aura_status aura_monitor_tick_close(aura_monitor *mon);

/* Views of the last closed tick, valid until the next ingest/tick_close.
 * Agents are ids [0, *n_agents); seen[i] is 1 for agents seen so far. */
AURA_API aura_status aura_monitor_risk(const aura_monitor *mon, const float **risk,
                                       const uint8_t **seen, uint32_t *n_agents);
AURA_API float aura_monitor_system_risk(const aura_monitor *mon);
AURA_API aura_status aura_monitor_decisions(const aura_monitor *mon,
                                            const aura_monitor_decision **d, size_t *n);
/* Features of the last closed tick: n_agents x AURA_MONITOR_AGENT_FEATURES
 * and AURA_MONITOR_SYSTEM_FEATURES floats. */
AURA_API aura_status aura_monitor_features(const aura_monitor *mon, const float **agent_features,
                                           const float **system_features, uint32_t *n_agents);
/* The live graph's undirected edge list (pairs of agent ids, a < b) of the
 * last closed tick; view as above. */
AURA_API aura_status aura_monitor_edges(const aura_monitor *mon, const uint32_t **pairs,
                                        size_t *n_edges);
AURA_API void aura_monitor_get_stats(const aura_monitor *mon, aura_monitor_stats *st);

/* Admission: should `agent`'s request for `amount` units of capacity be
 * approved, denied or deferred, given `budget_left` units and the current
 * risk?  Writes a decision (action APPROVE/DENY/DEFER, reason, confidence)
 * for the last closed tick.  AURA_E_RANGE for an agent never seen. */
AURA_API aura_status aura_monitor_admit(const aura_monitor *mon, uint32_t agent, double amount,
                                        double budget_left, aura_monitor_decision *out);

/* ======================================================================
 * Graph measures (pure functions on an undirected graph in CSR form:
 * neighbours of v are adj[off[v] .. off[v+1]), each edge listed both ways,
 * no self loops or multi-edges).  Exposed for tests and other tools.
 * ====================================================================== */

typedef struct aura_monitor_graph_measures {
    uint32_t components;       /* connected components (isolated vertices count) */
    uint32_t articulation;     /* number of articulation points */
    uint32_t bridges;          /* number of bridges */
} aura_monitor_graph_measures;

/* is_ap[v] = 1 if v is an articulation point; bridge_deg[v] = number of
 * bridges at v; comp[v] = component index.  Tarjan's low-link, iterative.
 * Any output array may be NULL.  Needs n*4 uint32 of scratch from alloc. */
AURA_API aura_status aura_monitor_graph_tarjan(const aura_allocator *alloc, uint32_t n,
                                               const uint32_t *off, const uint32_t *adj,
                                               uint8_t *is_ap, uint32_t *bridge_deg,
                                               uint32_t *comp, aura_monitor_graph_measures *out);
/* Local clustering coefficient of each vertex (0 for degree < 2). */
AURA_API aura_status aura_monitor_graph_clustering(const aura_allocator *alloc, uint32_t n,
                                                   const uint32_t *off, const uint32_t *adj,
                                                   float *out);
/* Betweenness (Brandes) from `samples` BFS sources drawn with `seed`
 * (samples >= n: exact), scaled to estimate the exact value, then divided by
 * (n-1)(n-2)/2 so it lies in [0, 1]. */
AURA_API aura_status aura_monitor_graph_betweenness(const aura_allocator *alloc, uint32_t n,
                                                    const uint32_t *off, const uint32_t *adj,
                                                    uint32_t samples, uint64_t seed, float *out);

/* ======================================================================
 * Simulator
 * ====================================================================== */

typedef enum aura_monitor_topology {
    AURA_MONITOR_TOPO_BA = 0,         /* Barabasi-Albert, m = 2 */
    AURA_MONITOR_TOPO_SMALLWORLD = 1, /* Watts-Strogatz ring, k = 4, beta = 0.1 */
    AURA_MONITOR_TOPO_HIER = 2,       /* orchestrators -> workers -> tools */
    AURA_MONITOR_TOPO_RANDOM = 3      /* Erdos-Renyi, mean degree 4 */
} aura_monitor_topology;

/* "ba", "smallworld", "hier", "random"; parse: AURA_E_NOTFOUND if unknown. */
AURA_API const char *aura_monitor_topology_name(aura_monitor_topology t);
AURA_API aura_status aura_monitor_topology_parse(const char *s, aura_monitor_topology *out);

typedef enum aura_monitor_fault_kind {
    AURA_MONITOR_FAULT_SLOW = 0,     /* gradual: capacity drifts down, latency up */
    AURA_MONITOR_FAULT_LEAK = 1,     /* gradual: capacity decays until restart */
    AURA_MONITOR_FAULT_ERRORS = 2,   /* sudden: error burst ("error-burst") */
    AURA_MONITOR_FAULT_OVERLOAD = 3, /* sudden: ingress spike */
    AURA_MONITOR_FAULT_FLAP = 4,     /* a link to a dependency flaps ("flapping-link") */
    AURA_MONITOR_FAULT_BYZANTINE = 5, /* lies about its load, bad replies, spurious calls */
    AURA_MONITOR_FAULT_COUNT = 6
} aura_monitor_fault_kind;

/* "slow", "leak", "error-burst", "overload", "flapping-link", "byzantine". */
AURA_API const char *aura_monitor_fault_name(aura_monitor_fault_kind k);

typedef enum aura_monitor_label_kind {
    AURA_MONITOR_LABEL_FAIL = 0,
    AURA_MONITOR_LABEL_RECOVER = 1,
    AURA_MONITOR_LABEL_FAULT = 2
} aura_monitor_label_kind;

typedef struct aura_monitor_label {
    int32_t tick;
    uint32_t agent;
    uint8_t event; /* aura_monitor_label_kind */
    uint8_t fault; /* aura_monitor_fault_kind when event == FAULT */
} aura_monitor_label;

typedef struct aura_monitor_sim_opts {
    const aura_allocator *alloc; /* NULL = default */
    uint32_t n_agents;           /* 10 .. 10000 (200) */
    aura_monitor_topology topology; /* (BA) */
    uint64_t seed;               /* (1) */
    int32_t ticks;               /* length of the run, 1 .. 100000 (300) */
    /* Fault spec: NULL or "" = "random:R" with R = 2 + n_agents/40; "none";
     * "random:N"; or a comma-separated list of KIND:AGENT:TICK[:DURATION]
     * with KIND a fault name, AGENT an index, a name "a12" or "*" (seeded
     * random pick).  AURA_E_FORMAT with sim_opts_errmsg-style detail in the
     * log for a bad spec. */
    const char *faults;
    double utilisation;          /* mean baseline utilisation (0.55) */
    double tick_offset_ms;       /* events of tick t have ts in t*1000 + [0, 1000) */
    int samples_per_edge;        /* call samples emitted per edge per tick, max (3) */
} aura_monitor_sim_opts;

AURA_API aura_monitor_sim_opts aura_monitor_sim_opts_default(void);

typedef struct aura_monitor_sim aura_monitor_sim;

AURA_API aura_status aura_monitor_sim_create(const aura_monitor_sim_opts *opts,
                                             aura_monitor_sim **out);
AURA_API void aura_monitor_sim_destroy(aura_monitor_sim *sim);

/* Runs one tick.  *ev points at the tick's events (src/dst are agent
 * indices; agent i is named "a<i>"), sorted by ts, owned by the sim and
 * valid until the next step.  AURA_E_STATE once all ticks have run. */
AURA_API aura_status aura_monitor_sim_step(aura_monitor_sim *sim, const aura_events_event **ev,
                                           size_t *n_ev);
/* Closed loop: applies a monitor decision from now on.  Unknown agents and
 * admission decisions are ignored (AURA_OK); AURA_E_INVAL for a bad action. */
AURA_API aura_status aura_monitor_sim_apply(aura_monitor_sim *sim, const aura_monitor_decision *d);

AURA_API uint32_t aura_monitor_sim_n_agents(const aura_monitor_sim *sim);
AURA_API int32_t aura_monitor_sim_ticks_done(const aura_monitor_sim *sim);
/* The dependency graph (caller, callee) pairs, as in the current dynamics. */
AURA_API aura_status aura_monitor_sim_edges(const aura_monitor_sim *sim, uint32_t *pairs,
                                            size_t cap, size_t *n_out);
/* Ground-truth labels for the ticks run so far, sorted by (tick, agent,
 * event): faults injected, and fail/recover by the failure definition
 * (aura_monitor_labels_compute).  A failure whose second bad tick has not
 * run yet is not reported. (out, cap, n_out) convention; out NULL = size. */
AURA_API aura_status aura_monitor_sim_labels(const aura_monitor_sim *sim, aura_monitor_label *out,
                                             size_t cap, size_t *n_out);
/* Requests shed by throttling/isolation so far, and total ingress requests. */
AURA_API void aura_monitor_sim_shed(const aura_monitor_sim *sim, double *shed, double *total);

/* The failure definition.  bad[t*n_agents + i] = 1 if at tick t agent i is
 * down (2) or fewer than half of the calls to it succeeded within their
 * timeout (1); 0 otherwise.  An agent fails at tick t if it is down at t,
 * or bad at t and t+1; once failed it recovers at the first of three
 * consecutive good ticks.  Writes fail/recover labels sorted by (tick,
 * agent); (out, cap, n_out) convention. */
AURA_API aura_status aura_monitor_labels_compute(const uint8_t *bad, int32_t n_ticks,
                                                 uint32_t n_agents, aura_monitor_label *out,
                                                 size_t cap, size_t *n_out);

/* ======================================================================
 * Evaluation
 * ====================================================================== */

typedef struct aura_monitor_eval_opts {
    int horizon;       /* H (10) */
    double threshold;  /* decision threshold for lead time (0.5) */
    int cascade_k;     /* a cascade has at least K linked failures (3) */
} aura_monitor_eval_opts;

AURA_API aura_monitor_eval_opts aura_monitor_eval_opts_default(void);

typedef struct aura_monitor_eval {
    double auroc;          /* per-agent failure within H ticks; NaN if one class is empty */
    double pr_auc;         /* average precision */
    double base_rate;      /* share of positive (agent, tick) samples */
    uint64_t positives, negatives;
    uint32_t failures;     /* fail labels */
    uint32_t detected;     /* failures whose risk crossed the threshold within H ticks before */
    double lead_median;    /* median lead time over detected failures (ticks); NaN if none */
    double lead_median_all;/* median lead time with missed failures counted as 0 */
    uint32_t cascades;     /* groups of >= K failures linked through neighbours */
    uint32_t largest_cascade;
    int32_t first_cascade_tick; /* tick the first cascade reached K failures, -1 = none */
} aura_monitor_eval;

/* Scores risk against labels.  risk[t*n_agents + i] is agent i's risk at
 * the end of tick t, negative = no score (agent not seen); samples where the
 * agent is already failed are excluded.  edges (pairs, may be NULL) link
 * failures into cascades: a failure joins a neighbour's if it starts while
 * that neighbour is failed or within H ticks after it failed.
 * risk may be NULL: only failures and cascades are computed. */
AURA_API aura_status aura_monitor_eval_compute(const aura_monitor_eval_opts *opts,
                                               const float *risk, int32_t n_ticks,
                                               uint32_t n_agents, const aura_monitor_label *labels,
                                               size_t n_labels, const uint32_t *edges,
                                               size_t n_edges, aura_monitor_eval *out);

/* AUROC of scores (higher = positive) against 0/1 labels, ties counted as
 * half; NaN if a class is empty.  Average precision likewise. */
AURA_API double aura_monitor_auroc(const float *score, const uint8_t *label, size_t n);
AURA_API double aura_monitor_average_precision(const float *score, const uint8_t *label, size_t n);

#endif /* AURA_MONITOR_H */
