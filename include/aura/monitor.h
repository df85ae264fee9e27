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
    struct aura_monitor_recall *recall; /* NULL = no recall of past situations;
                                           borrowed (see "Recall" below) */
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
/* Each agent's state in the last closed tick, an aura_events_state, from
 * what the events show: ISOLATED while an isolation this monitor decided
 * lasts (its cooldown); FAILED by the failure definition as observed (more
 * than half the calls to it failed, or it was silent, two ticks in a row;
 * until three good ticks); FAILING on the first such tick; DEGRADED when
 * calls to it fail (> 10 %), its calls out fail (> 30 %), its latency is
 * over twice its baseline, its load over 0.9, its trust under 0.6, or it
 * missed a tick; HEALTHY otherwise; UNKNOWN before a tick has closed on it. */
AURA_API aura_status aura_monitor_states(const aura_monitor *mon, const uint8_t **state,
                                         uint32_t *n_agents);
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
    /* Resource requests (see "Admission" below): agents that run hot ask
     * for capacity.  requests = rate multiplier, 0 = none (0); budget =
     * units the simulator can grant in all (0 = n_agents / 20 when
     * requests > 0).  Requests use their own random stream: turning them on
     * changes neither the dynamics' nor the events' random numbers. */
    double requests;
    double budget;
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
/* Closed loop: applies a monitor decision from now on.  Admission
 * decisions answer the agent's pending resource request (see "Admission");
 * unknown agents, and answers with no request pending, are ignored
 * (AURA_OK); AURA_E_INVAL for a bad action. */
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

/* The Bayes ceiling of per-agent failure prediction on a simulated run:
 * how well *any* monitor could rank (agent, tick) samples by "fails within
 * H ticks" if it knew the simulator's whole hidden state (loads, backlogs,
 * capacities, leaks, the faults under way and how each evolves) but not
 * the future: which random draws come, and which faults start next (faults
 * drawn by random:N that have not started yet are drawn again from the same
 * prior; faults given explicitly count as known).  The run is the open
 * loop (no monitor acting) of aura_monitor_sim_create(so); after each tick
 * t, `rollouts` copies with random numbers of their own are run on for up
 * to H + 1 ticks, and p_out[t * n_agents + i] is the share of them in
 * which agent i fails at a tick in (t, t + H] by the failure definition
 * (down, or bad two ticks in a row; a second bad tick past the run's end
 * does not count, as in the labels).  p_out holds so->ticks x n_agents
 * floats; untouched on failure.  Cost: about rollouts x (H + 1) simulator
 * ticks per tick.  AURA_E_INVAL for bad options. */
typedef struct aura_monitor_ceiling_opts {
    int rollouts; /* copies per tick (32) */
    int horizon;  /* H (10) */
    uint64_t seed; /* of the copies' random numbers (1) */
    int smooth;    /* 1: a copy in which the agent does not fail scores the
                      chance it would have crashed under the hazards it ran
                      under, 1 - prod(1 - h), instead of 0 (far less noise
                      among the many small probabilities; still a function
                      of the state, so its AUROC stays a lower bound of the
                      ceiling); 0: the plain share of failing copies (1) */
} aura_monitor_ceiling_opts;

AURA_API aura_monitor_ceiling_opts aura_monitor_ceiling_opts_default(void);
AURA_API aura_status aura_monitor_sim_ceiling(const aura_monitor_sim_opts *so,
                                              const aura_monitor_ceiling_opts *opts,
                                              float *p_out);

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

/* The (score, label) samples that aura_monitor_eval_compute scores, for
 * pooling several runs into one AUROC: every cell with risk >= 0 whose
 * agent is not failed, label 1 if the agent fails within H ticks.
 * score_out and label_out hold n_ticks x n_agents entries; *n_out = the
 * samples written (in tick, then agent order). */
AURA_API aura_status aura_monitor_eval_samples(const aura_monitor_eval_opts *opts,
                                               const float *risk, int32_t n_ticks,
                                               uint32_t n_agents, const aura_monitor_label *labels,
                                               size_t n_labels, float *score_out,
                                               uint8_t *label_out, size_t *n_out);

/* AUROC of scores (higher = positive) against 0/1 labels, ties counted as
 * half; NaN if a class is empty.  Average precision likewise. */
AURA_API double aura_monitor_auroc(const float *score, const uint8_t *label, size_t n);
AURA_API double aura_monitor_average_precision(const float *score, const uint8_t *label, size_t n);

/* ======================================================================
 * Admission: resource requests and approve / deny / defer decisions
 * ====================================================================== */

/* A request for `amount` units of capacity.  On the wire (events schema) it
 * is a `custom` event from the asking agent whose meta is
 *   {"type":"request","resource":"gpu","amount":2,"id":17,"attempt":0}
 * (resource: 1..23 bytes, default "gpu"; amount: 0 < amount <= 1e6; id and
 * attempt: optional non-negative integers).  One unit in the simulator adds
 * 20 % of the agent's nominal capacity. */
typedef struct aura_monitor_request {
    int64_t tick;      /* tick it arrived in */
    uint32_t agent;    /* who asks */
    uint32_t id;       /* request id (kept on retries) */
    float amount;      /* units asked for */
    uint8_t attempt;   /* 0 = first ask; retries after a defer count up */
    char resource[24]; /* NUL-terminated */
} aura_monitor_request;

/* Reads a request from an event and its meta JSON text.  AURA_E_NOTFOUND
 * if the event is not a request (not `custom`, or meta without
 * "type":"request"); AURA_E_FORMAT if it is one with a bad field (the
 * reason in *why, a static string, when why is not NULL); out untouched on
 * failure. */
AURA_API aura_status aura_monitor_request_parse(const aura_events_event *ev, const char *meta,
                                                size_t meta_len, double tick_ms,
                                                aura_monitor_request *out, const char **why);
/* Writes the meta JSON of a request into buf (NUL-terminated); AURA_E_RANGE
 * if cap is too small. */
AURA_API aura_status aura_monitor_request_meta(const aura_monitor_request *r, char *buf,
                                               size_t cap, size_t *len_out);

/* The simulator's requests of the last step (their events are `custom`
 * events whose `meta` field is the index into this array), valid until the
 * next step. */
AURA_API aura_status aura_monitor_sim_requests(const aura_monitor_sim *sim,
                                               const aura_monitor_request **r, size_t *n);
/* Budget units left, granted so far, requests made (retries included),
 * approved, and left unanswered. */
typedef struct aura_monitor_sim_budget {
    double left, granted;
    uint32_t asked, approved, denied, deferred, unanswered;
} aura_monitor_sim_budget;
AURA_API void aura_monitor_sim_budget_get(const aura_monitor_sim *sim, aura_monitor_sim_budget *b);

/* A stateful admission controller: it keeps the budget, answers requests
 * from the monitor's view of the last closed tick (features, risk, system
 * risk) and, with a recall attached to the monitor, from how similar past
 * situations ended.  Policy, in order: an agent never seen, a request over
 * the budget left, or low trust (< 0.5) -> deny; at risk (risk >=
 * threshold) and loaded (util > 0.75) -> approve (capacity relieves it); at
 * risk from errors at moderate load -> deny (capacity will not help);
 * loaded (util > 0.7) and the budget stays above the reserve -> approve;
 * otherwise defer (kept for agents at risk; similar past situations that
 * ended in cascades double the reserve), deny after `max_attempts`. */
typedef struct aura_monitor_admission_opts {
    const aura_allocator *alloc; /* NULL = default */
    double budget;               /* units available in all (10) */
    double reserve;              /* share of the budget kept for agents at risk (0.3) */
    double threshold;            /* risk that counts as "at risk" (0.5) */
    int max_attempts;            /* a request deferred this often is denied (3) */
} aura_monitor_admission_opts;

AURA_API aura_monitor_admission_opts aura_monitor_admission_opts_default(void);

typedef struct aura_monitor_admission aura_monitor_admission;

AURA_API aura_status aura_monitor_admission_create(const aura_monitor_admission_opts *opts,
                                                   aura_monitor_admission **out);
AURA_API void aura_monitor_admission_destroy(aura_monitor_admission *adm);
/* Answers one request (an APPROVE takes its amount off the budget) into
 * *out: action, confidence, reason, risk, tick = the monitor's last closed
 * tick.  AURA_E_STATE before the monitor closed a tick. */
AURA_API aura_status aura_monitor_admission_decide(aura_monitor_admission *adm,
                                                   const aura_monitor *mon,
                                                   const aura_monitor_request *req,
                                                   aura_monitor_decision *out);
AURA_API double aura_monitor_admission_budget_left(const aura_monitor_admission *adm);

/* A decision as an event of the events schema: kind `intervention`
 * (rebalance ... add-link) or `decision` (approve / deny / defer), src =
 * the agent, dst = the target (if any), ts = the end of its tick
 * ((tick + 1) * tick_ms, minus 1 us so that it stays inside the tick);
 * the meta JSON (written into meta_buf, NUL-terminated) carries action,
 * risk, confidence, reason and, for admissions, the request.  AURA_E_RANGE
 * if meta_cap is too small. */
AURA_API aura_status aura_monitor_decision_event(const aura_monitor_decision *d,
                                                 const aura_monitor_request *req, double tick_ms,
                                                 aura_events_event *ev, char *meta_buf,
                                                 size_t meta_cap);

/* ======================================================================
 * Recall: shape memory of past situations and how they ended
 * ====================================================================== */

/* Each closed tick the monitor (with opts.recall set) summarises the system
 * into a signature (system features and risk aggregates, centred and
 * scaled, embedded with aura_memory_signature_project) and asks for the k
 * most similar past situations.  A situation's outcome is filled in H ticks
 * later from what the monitor itself observed (agents newly failing: calls
 * to it mostly fail, or it went silent): "cascade" if at least cascade_k
 * agents newly failed within H ticks, "failure" if some did, "calm"
 * otherwise; only then is it added to the index (and to the store).
 * If the similar situations (similarity >= min_similarity) mostly ended in
 * cascades (share >= escalate, and share >= the base rate of cascades among
 * all situations + lift), that tick's decision threshold is lowered
 * by `threshold_drop` and up to `extra_actions` more interventions are
 * allowed; the decisions' confidence is raised and their reason names the
 * neighbours.  If they all ended calm, confidence is lowered. */
typedef struct aura_monitor_recall_opts {
    const aura_allocator *alloc;      /* NULL = default */
    int k;                            /* neighbours recalled (5) */
    int horizon;                      /* H: ticks until an outcome is known (10) */
    int cascade_k;                    /* newly failing agents that make a cascade (3) */
    float min_similarity;             /* cosine similarity a neighbour needs (0.9) */
    float escalate;                   /* weighted cascade share that escalates (0.5) */
    float lift;                       /* ... and by how much it must exceed the share of
                                         cascades among all situations (0.2) */
    float threshold_drop;             /* threshold multiplier when escalating (0.7) */
    int extra_actions;                /* more interventions allowed when escalating (4) */
    size_t dim;                       /* signature dimension (128) */
    size_t max_situations;            /* index size; when full, the older half is
                                         forgotten (in memory; the store keeps all) (50000) */
    uint64_t seed;                    /* projection seed (7) */
    struct aura_memory_store *store;  /* NULL = in memory only; else past situations are
                                         loaded on create and new ones stored (borrowed) */
} aura_monitor_recall_opts;

AURA_API aura_monitor_recall_opts aura_monitor_recall_opts_default(void);

typedef struct aura_monitor_recall aura_monitor_recall;

/* Outcomes of a situation. */
enum { AURA_MONITOR_OUTCOME_CALM = 0, AURA_MONITOR_OUTCOME_FAILURE = 1,
       AURA_MONITOR_OUTCOME_CASCADE = 2 };

typedef struct aura_monitor_recall_hit {
    int64_t id;        /* situation id (the shape id when stored) */
    int64_t tick;      /* the tick it was seen at */
    float similarity;  /* cosine */
    uint8_t outcome;   /* AURA_MONITOR_OUTCOME_* */
} aura_monitor_recall_hit;

AURA_API aura_status aura_monitor_recall_create(const aura_monitor_recall_opts *opts,
                                                aura_monitor_recall **out);
AURA_API void aura_monitor_recall_destroy(aura_monitor_recall *rc);
/* Forgets the situations still waiting for their outcome and the agents'
 * failing state (a new stream starts); keeps the index. */
AURA_API void aura_monitor_recall_reset(aura_monitor_recall *rc);
/* The signature features of the monitor's last closed tick (the vector that
 * is projected), n = aura_monitor_recall_n_features(). */
AURA_API size_t aura_monitor_recall_n_features(void);
AURA_API aura_status aura_monitor_recall_features(const aura_monitor *mon, float *out);
/* Adds a past situation with a known outcome (imports, tests). */
AURA_API aura_status aura_monitor_recall_add(aura_monitor_recall *rc, const float *features,
                                             int64_t tick, int outcome);
/* The last tick's neighbours (best first, only those above min_similarity),
 * and their similarity-weighted cascade share (NaN if none). */
AURA_API aura_status aura_monitor_recall_last(const aura_monitor_recall *rc,
                                              const aura_monitor_recall_hit **hits, size_t *n,
                                              float *cascade_share);
/* Situations in the index; counts[AURA_MONITOR_OUTCOME_*] by outcome
 * (counts may be NULL). */
AURA_API size_t aura_monitor_recall_size(const aura_monitor_recall *rc);
AURA_API void aura_monitor_recall_counts(const aura_monitor_recall *rc, size_t counts[3]);

/* ======================================================================
 * Journal: decisions with their context into the memory store
 * ====================================================================== */

/* Writes decisions (interventions and admissions) to a memory store's
 * journal (aura_memory_journal_append, kind DECISION), agent = the agent's
 * name, ts_ms = end of the decision's tick ((tick + 1) * tick_ms), summary
 * "ACTION: reason", context a JSON object: tick, action, target, risk,
 * confidence, system_risk, the agent's features by name, the request (for
 * admissions) and the recalled situations.  Cascades the recall observed go
 * in as incidents.  Data flows monitor -> memory only. */
typedef struct aura_monitor_journal_opts {
    const aura_allocator *alloc;  /* NULL = default */
    double tick_ms;               /* (1000) */
    /* agent names; NULL = "a<id>" */
    const char *(*agent_name)(void *ctx, uint32_t id);
    void *name_ctx;
} aura_monitor_journal_opts;

AURA_API aura_monitor_journal_opts aura_monitor_journal_opts_default(void);

typedef struct aura_monitor_journal aura_monitor_journal;

/* `store` is borrowed and must outlive the journal. */
AURA_API aura_status aura_monitor_journal_create(struct aura_memory_store *store,
                                                 const aura_monitor_journal_opts *opts,
                                                 aura_monitor_journal **out);
AURA_API void aura_monitor_journal_destroy(aura_monitor_journal *j);
/* Records the interventions of the monitor's last closed tick, and the
 * incidents its recall observed since the last call. */
AURA_API aura_status aura_monitor_journal_tick(aura_monitor_journal *j, const aura_monitor *mon);
/* Records one decision (e.g. an admission; req may be NULL). */
AURA_API aura_status aura_monitor_journal_decision(aura_monitor_journal *j,
                                                   const aura_monitor *mon,
                                                   const aura_monitor_decision *d,
                                                   const aura_monitor_request *req);
AURA_API uint64_t aura_monitor_journal_count(const aura_monitor_journal *j);

#endif /* AURA_MONITOR_H */
