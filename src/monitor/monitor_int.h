/* monitor_int.h -- internals shared by the monitor's source files.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_MONITOR_INT_H
#define AURA_MONITOR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "aura/monitor.h"

/* A growable array of events (the simulator's per-tick output). */
typedef struct aura__monitor_evbuf {
    aura_events_event *ev;
    size_t n, cap;
} aura__monitor_evbuf;

/* The default fault durations (ticks) per kind. */
int32_t aura__monitor_fault_default_duration(aura_monitor_fault_kind k);

/* ---- the simulator's resource requests (simulate.c) ---- */
#include "aura/rng.h"

typedef struct aura__monitor_sim_pending {
    uint8_t state;     /* 0 none, 1 asked this step, 2 deferred */
    uint8_t attempt;
    float amount;
    uint32_t id;
    int32_t retry_at, next_ask;
} aura__monitor_sim_pending;

typedef struct aura__monitor_sim_req {
    double rate, left, granted;
    aura_rng rng;
    aura__monitor_sim_pending *pend; /* per agent */
    double *cap0;                    /* nominal capacity per agent */
    aura_monitor_request *out;       /* this step's requests */
    size_t n_out, cap_out;
    uint32_t next_id, asked, approved, denied, deferred, unanswered;
} aura__monitor_sim_req;

aura_status aura__monitor_sim_req_init(aura__monitor_sim_req *q, const aura_allocator *al,
                                       uint32_t n, uint64_t seed, double rate, double budget);
void aura__monitor_sim_req_free(aura__monitor_sim_req *q, const aura_allocator *al);

/* ---- rollout copies of the simulator (simulate.c; ceiling.c, oracle.c) ---- */
/* A deep copy that goes on with the same dynamics (and, until reseeded,
 * the same random numbers) but emits no events and asks for nothing. */
aura_status aura__monitor_sim_clone(const aura_monitor_sim *s, aura_monitor_sim **out);
/* bad[t][i] of a tick run so far: 2 down, 1 failing its calls, 0 good. */
int aura__monitor_sim_bad(const aura_monitor_sim *s, int32_t t, uint32_t i);
/* Agent i's crash hazard in the last tick run (0 while it is down). */
double aura__monitor_sim_hazard(const aura_monitor_sim *s, uint32_t i);
/* A copy that knows the present, not the future: a clone with random
 * numbers of its own (seed) whose faults drawn by random:N and not started
 * yet are drawn again from the same prior (kind, agent, start at or after
 * the current tick).  Faults given explicitly are part of the scenario
 * and stay. */
aura_status aura__monitor_sim_rollout_copy(const aura_monitor_sim *s, uint64_t seed,
                                           aura_monitor_sim **out);

/* ---- recall hooks (recall.c), called by tick_close ---- */
struct aura_monitor_recall;
/* Observes the closed tick (signature, outcomes of older ticks) and
 * recalls similar situations; *threshold and *max_actions may be changed
 * for this tick's decisions. */
aura_status aura__monitor_recall_observe(struct aura_monitor_recall *rc, const aura_monitor *m,
                                         int64_t tick, double *threshold, int *max_actions);
/* Adjusts this tick's decisions (confidence, reason) from the recall. */
void aura__monitor_recall_annotate(const struct aura_monitor_recall *rc,
                                   aura_monitor_decision *d, size_t n);
/* Cascades observed (their tick and number of agents) since the last call. */
size_t aura__monitor_recall_take_incidents(struct aura_monitor_recall *rc, int64_t *tick,
                                           uint32_t *agents, size_t cap);
/* The monitor's recall (opts.recall), or NULL. */
struct aura_monitor_recall *aura__monitor_recall_of(const aura_monitor *m);

/* ---- topological features (tda_feat.c) ---- */

#define AURA__MONITOR_TDA_FEATURES 16 /* appended to the system features */
#define AURA__MONITOR_TDA_LANDMARKS 16 /* shortest-path filtration sample */
#define AURA__MONITOR_TDA_POINTS 48    /* state-space point cloud sample */
#define AURA__MONITOR_TDA_DIM 5        /* coordinates of a state point */
#define AURA__MONITOR_TDA_SAMPLES 16   /* landscape samples */

/* The live graph as tda_feat.c reads it (all borrowed). */
typedef struct aura__monitor_tda_graph {
    uint32_t n;              /* agents [0, n) */
    const uint8_t *seen;     /* n */
    const uint32_t *off;     /* n + 1, CSR of the undirected graph */
    const uint32_t *adj;     /* off[n] */
    const float *w;          /* off[n]: edge length of each adjacency entry */
    const uint32_t *pairs;   /* n_pairs undirected pairs (i < j) */
    const float *pair_err;   /* n_pairs: error rate over the pair */
    size_t n_pairs;
    const float *feat;       /* n x stride agent features */
    size_t stride;
    int state_idx[AURA__MONITOR_TDA_DIM];     /* feature indices of a state point */
    float state_scale[AURA__MONITOR_TDA_DIM]; /* and their scales */
} aura__monitor_tda_graph;

/* Scratch and the previous tick's values (zero-initialise; free with
 * aura__monitor_tda_free). */
typedef struct aura__monitor_tda {
    const aura_allocator *alloc;
    struct aura_tda_edge *edges;
    size_t cap_edges;
    struct aura_tda_pair *pairs;
    size_t cap_pairs;
    struct aura_tda_interval *iv;
    size_t cap_iv;
    float *pts;
    size_t cap_pts;
    uint32_t *dist, *land;                 /* path lengths (quarters); sampled agents */
    uint32_t *q_node, *q_next, *q_dist;    /* bucket-queue entries */
    size_t cap_dist, cap_land, cap_q_node, cap_q_next, cap_q_dist;
    float prev[3];
    int has_prev;
} aura__monitor_tda;

/* Computes the AURA__MONITOR_TDA_FEATURES system features into out
 * (untouched on failure). */
aura_status aura__monitor_tda_compute(aura__monitor_tda *t, const aura__monitor_tda_graph *g,
                                      float *out);
void aura__monitor_tda_free(aura__monitor_tda *t);
const char *aura__monitor_tda_feature_name(size_t i);

#endif /* AURA_MONITOR_INT_H */
