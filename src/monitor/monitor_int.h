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

#endif /* AURA_MONITOR_INT_H */
