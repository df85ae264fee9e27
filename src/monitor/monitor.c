/* monitor.c -- the live monitor: events -> sliding-window agent and edge
 * state -> graph measures -> feature vectors -> risk -> decisions.
 *
 * Window: per-agent exponential moving averages with alpha = 2 / (W + 1)
 * (W = window_ticks), a fast one (alpha = 0.6) for "now", and edges that
 * expire after W ticks without traffic.  Everything is computed from what
 * events show: call outcomes and latencies as reported by callers, load
 * reports, heartbeats, errors, and silence.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aura/monitor.h"
#include "core/core_int.h"
#include "monitor/monitor_int.h"

#define NONE UINT32_MAX
#define FAST 0.6f
#define RISING_TICKS 6.0f
#define MIN_CALLS 3 /* calls in a tick to judge an agent by them (state) */
#define SLOW(a) ((a) / 3.0f) /* averages over about three windows, for trends */

typedef struct mon_acc { /* counters of the open tick */
    uint32_t in_calls, in_fail, out_calls, out_fail, errors, n_lat;
    float lat_sum;
    uint8_t alive, has_load, own; /* own: it sent an event itself */
    float load;
} mon_acc;

typedef struct mon_agent { /* window state */
    float util, in_err, in_err_now, lat_now, lat_base, out_err, own_err, silence, trust;
    float prev_util, prev_in_err;
    float util_slow, lat_slow, err_slow; /* averages over 3 windows (trends) */
    float rising; /* consecutive ticks of rising load (a leak or a drift) */
    int64_t cooldown_until;
    uint8_t seen, has_lat, has_util, last_action; /* last_action: aura_monitor_action + 1, 0 = none */
    uint8_t reports_load; /* has sent a load event (else util is estimated from latency) */
    uint8_t emits;        /* has sent events itself (so its silence means something) */
    uint8_t bad_run, good_run, failed; /* the failure definition, as observed */
    int64_t isolated_until;            /* isolated by this monitor's decision until then */
} mon_agent;

typedef struct mon_edge {
    uint64_t key; /* src << 32 | dst */
    float rate, err;
    uint32_t calls, fails;
    int64_t last_tick;
    uint8_t used;
} mon_edge;

struct aura_monitor {
    aura_monitor_opts o;
    const aura_allocator *alloc;
    uint32_t n, cap_n;   /* agents [0, n) known; arrays sized cap_n */
    mon_acc *acc;
    mon_agent *ag;
    float *risk, *feat;  /* cap_n and cap_n x AGENT_FEATURES */
    float *tmp;          /* cap_n scratch, kept zero */
    float *drisk;        /* cap_n: a model's risk with callee propagation (decide) */
    uint8_t *seen;
    uint8_t *state; /* cap_n aura_events_state of the last closed tick */
    float sys[AURA_MONITOR_SYSTEM_FEATURES];
    float sys_risk;
    mon_edge *edges;     /* open addressing */
    size_t n_edges, cap_edges;
    uint64_t *dup;       /* fingerprints of this tick's events */
    size_t n_dup, cap_dup;
    /* graph of the last tick */
    uint32_t *pairs;
    size_t n_pairs, cap_pairs;
    uint32_t *off, *adj, *bdeg, *comp, *callers;
    uint8_t *is_ap;
    float *clust, *betw, *betw_now; /* betw: EMA over ticks of betw_now */
    float *wadj, *pair_err;         /* edge lengths per adjacency entry; error per pair */
    aura__monitor_tda tda;
    size_t cap_adj;
    aura_monitor_decision *dec;
    size_t n_dec, cap_dec;
    int64_t open_tick;
    uint32_t tick_events;
    aura_monitor_stats st;
};

static const char *const action_names[AURA_MONITOR_ACTION_COUNT] = {
    "rebalance", "throttle", "reroute", "isolate", "add-link", "approve", "deny", "defer"};

static const char *const agent_feature_names[AURA_MONITOR_AGENT_FEATURES] = {
    "util", "d_util", "in_err", "in_err_now", "d_in_err", "lat_ratio", "d_lat_ratio",
    "out_err", "own_err", "silence", "degree", "callers", "articulation", "bridges",
    "clustering", "betweenness", "dep_err", "trust", "util_trend", "lat_trend", "err_trend",
    "failing_neighbours"};

static const char *const system_feature_names[AURA_MONITOR_SYSTEM_FEATURES] = {
    "agents", "components", "articulation_points", "bridges", "mean_degree", "load_mean",
    "load_std", "load_max", "frac_overloaded", "frac_low_trust", "frac_loaded_ap",
    "frac_failing", "mean_in_err", "max_betweenness", "d_frac_failing", "d_load_mean",
    /* 16.. from the tda module (tda_feat.c) */
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL};

enum { /* agent feature indices */
    F_UTIL, F_DUTIL, F_INERR, F_INERR_NOW, F_DINERR, F_LAT, F_DLAT, F_OUTERR, F_OWNERR,
    F_SILENCE, F_DEG, F_CALLERS, F_AP, F_BRIDGES, F_CLUST, F_BETW, F_DEPERR, F_TRUST,
    F_UTILTREND, F_LATTREND, F_ERRTREND, F_NBFAIL
};
enum {
    S_AGENTS, S_COMP, S_AP, S_BRIDGES, S_MEANDEG, S_LOADMEAN, S_LOADSTD, S_LOADMAX, S_OVER,
    S_LOWTRUST, S_LOADEDAP, S_FAILING, S_MEANERR, S_MAXBETW, S_DFAILING, S_DLOAD, S_TDA
};

const char *aura_monitor_action_name(aura_monitor_action a)
{
    return (unsigned)a < AURA_MONITOR_ACTION_COUNT ? action_names[a] : NULL;
}

const char *aura_monitor_agent_feature_name(size_t i)
{
    return i < AURA_MONITOR_AGENT_FEATURES ? agent_feature_names[i] : NULL;
}

const char *aura_monitor_system_feature_name(size_t i)
{
    if (i >= S_TDA && i < AURA_MONITOR_SYSTEM_FEATURES) {
        return aura__monitor_tda_feature_name(i - S_TDA);
    }
    return i < AURA_MONITOR_SYSTEM_FEATURES ? system_feature_names[i] : NULL;
}

aura_monitor_opts aura_monitor_opts_default(void)
{
    return (aura_monitor_opts){.alloc = NULL,
                               .tick_ms = 1000.0,
                               .window_ticks = 10,
                               .horizon = 10,
                               .threshold = 0.5,
                               .act = 1,
                               .cooldown = 8,
                               .max_actions = 8,
                               .max_agents = 1u << 20,
                               .betweenness_samples = 8,
                               .seed = 1,
                               .model = NULL,
                               .policy = AURA_MONITOR_POLICY_RULES,
                               .early_threshold = 0.3};
}

aura_status aura_monitor_create(const aura_monitor_opts *opts, aura_monitor **out)
{
    AURA_CHECK_ARG(out);
    aura_monitor_opts o = opts ? *opts : aura_monitor_opts_default();
    if (!(o.tick_ms > 0.0) || o.tick_ms > 1e9 || o.window_ticks < 1 || o.horizon < 1 ||
        !(o.threshold >= 0.0 && o.threshold <= 1.0) || o.cooldown < 0 || o.max_actions < 0 ||
        o.max_agents < 1 || o.betweenness_samples < 1 || o.policy < AURA_MONITOR_POLICY_RULES ||
        o.policy > AURA_MONITOR_POLICY_GRADED ||
        !(o.early_threshold >= 0.0 && o.early_threshold <= 1.0)) {
        return AURA_E_INVAL;
    }
    aura_monitor *m = aura__calloc(o.alloc, 1, sizeof *m);
    if (!m) {
        return AURA_E_NOMEM;
    }
    m->o = o;
    m->alloc = o.alloc;
    m->open_tick = -1;
    m->tda.alloc = o.alloc;
    *out = m;
    return AURA_OK;
}

void aura_monitor_destroy(aura_monitor *m)
{
    if (!m) {
        return;
    }
    const aura_allocator *al = m->alloc;
    aura__monitor_tda_free(&m->tda);
    void *ptrs[] = {m->acc, m->ag, m->risk, m->tmp, m->drisk, m->feat, m->seen, m->state, m->edges, m->dup, m->pairs,
                    m->off, m->adj, m->bdeg, m->comp, m->callers, m->is_ap, m->clust, m->betw, m->betw_now,
                    m->dec, m->wadj, m->pair_err};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
        aura__free(al, ptrs[i]);
    }
    aura__free(al, m);
}

/* ---- growth ---- */

static int grow(const aura_allocator *al, void **p, size_t n, size_t size)
{
    void *q = aura__realloc_array(al, *p, n, size);
    if (!q) {
        return 0;
    }
    *p = q;
    return 1;
}

/* Makes ids [0, need) valid; new agents start zeroed (not seen). */
static aura_status ensure_agents(aura_monitor *m, uint32_t need)
{
    if (need <= m->n) {
        return AURA_OK;
    }
    if (need > m->cap_n) {
        size_t c = m->cap_n ? m->cap_n : 64;
        while (c < need) {
            c *= 2;
        }
        const aura_allocator *al = m->alloc;
        if (!grow(al, (void **)&m->acc, c, sizeof *m->acc) ||
            !grow(al, (void **)&m->ag, c, sizeof *m->ag) ||
            !grow(al, (void **)&m->risk, c, sizeof *m->risk) ||
            !grow(al, (void **)&m->tmp, c, sizeof *m->tmp) ||
            !grow(al, (void **)&m->drisk, c, sizeof *m->drisk) ||
            !grow(al, (void **)&m->feat, c, sizeof(float) * AURA_MONITOR_AGENT_FEATURES) ||
            !grow(al, (void **)&m->seen, c, 1) || !grow(al, (void **)&m->state, c, 1) ||
            !grow(al, (void **)&m->off, c + 1, 4) ||
            !grow(al, (void **)&m->bdeg, c, 4) || !grow(al, (void **)&m->comp, c, 4) ||
            !grow(al, (void **)&m->callers, c, 4) || !grow(al, (void **)&m->is_ap, c, 1) ||
            !grow(al, (void **)&m->clust, c, 4) || !grow(al, (void **)&m->betw, c, 4) ||
            !grow(al, (void **)&m->betw_now, c, 4)) {
            return AURA_E_NOMEM;
        }
        m->cap_n = (uint32_t)c;
    }
    for (uint32_t i = m->n; i < need; i++) {
        memset(&m->acc[i], 0, sizeof m->acc[i]);
        memset(&m->ag[i], 0, sizeof m->ag[i]);
        m->ag[i].trust = 1.0f;
        m->ag[i].cooldown_until = INT64_MIN;
        m->ag[i].isolated_until = INT64_MIN;
        m->state[i] = AURA_EVENTS_STATE_UNKNOWN;
        m->risk[i] = m->tmp[i] = m->betw[i] = 0.0f;
        m->seen[i] = 0;
        memset(&m->feat[(size_t)i * AURA_MONITOR_AGENT_FEATURES], 0,
               sizeof(float) * AURA_MONITOR_AGENT_FEATURES);
    }
    m->n = need;
    return AURA_OK;
}

/* ---- hashing: edges and duplicate fingerprints ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static aura_status edges_rehash(aura_monitor *m, size_t cap)
{
    mon_edge *t = aura__calloc(m->alloc, cap, sizeof *t);
    if (!t) {
        return AURA_E_NOMEM;
    }
    for (size_t i = 0; i < m->cap_edges; i++) {
        if (!m->edges[i].used) {
            continue;
        }
        size_t h = mix64(m->edges[i].key) & (cap - 1);
        while (t[h].used) {
            h = (h + 1) & (cap - 1);
        }
        t[h] = m->edges[i];
    }
    aura__free(m->alloc, m->edges);
    m->edges = t;
    m->cap_edges = cap;
    return AURA_OK;
}

static mon_edge *edge_get(aura_monitor *m, uint32_t src, uint32_t dst)
{
    if ((m->n_edges + 1) * 2 > m->cap_edges &&
        edges_rehash(m, m->cap_edges ? m->cap_edges * 2 : 256) != AURA_OK) {
        return NULL;
    }
    uint64_t key = (uint64_t)src << 32 | dst;
    size_t h = mix64(key) & (m->cap_edges - 1);
    while (m->edges[h].used && m->edges[h].key != key) {
        h = (h + 1) & (m->cap_edges - 1);
    }
    mon_edge *e = &m->edges[h];
    if (!e->used) {
        memset(e, 0, sizeof *e);
        e->used = 1;
        e->key = key;
        m->n_edges++;
    }
    return e;
}

static uint64_t fingerprint(const aura_events_event *ev)
{
    uint64_t h = mix64((uint64_t)ev->ts_us ^ 0x9e3779b97f4a7c15ULL);
    uint32_t lat, load;
    memcpy(&lat, &ev->latency_ms, 4);
    memcpy(&load, &ev->load, 4);
    h = mix64(h ^ ((uint64_t)ev->src << 32 | ev->dst));
    h = mix64(h ^ ((uint64_t)ev->kind << 48 | (uint64_t)ev->flags << 32 | lat));
    h = mix64(h ^ ((uint64_t)load << 32 | ev->tokens));
    h = mix64(h ^ ev->trace ^ (ev->span << 1) ^ (ev->correlation << 2));
    return h | 1; /* 0 marks an empty slot */
}

/* 1 if the fingerprint was already seen this tick; -1 on allocation failure. */
static int dup_check(aura_monitor *m, uint64_t fp)
{
    if ((m->n_dup + 1) * 2 > m->cap_dup) {
        size_t c = m->cap_dup ? m->cap_dup * 2 : 1024;
        uint64_t *t = aura__calloc(m->alloc, c, sizeof *t);
        if (!t) {
            return -1;
        }
        for (size_t i = 0; i < m->cap_dup; i++) {
            if (m->dup[i]) {
                size_t h = mix64(m->dup[i]) & (c - 1);
                while (t[h]) {
                    h = (h + 1) & (c - 1);
                }
                t[h] = m->dup[i];
            }
        }
        aura__free(m->alloc, m->dup);
        m->dup = t;
        m->cap_dup = c;
    }
    size_t h = mix64(fp) & (m->cap_dup - 1);
    while (m->dup[h]) {
        if (m->dup[h] == fp) {
            return 1;
        }
        h = (h + 1) & (m->cap_dup - 1);
    }
    m->dup[h] = fp;
    m->n_dup++;
    return 0;
}

/* ---- ingest ---- */

static void record_call(aura_monitor *m, const aura_events_event *ev, int failed, mon_edge *e)
{
    mon_acc *src = &m->acc[ev->src], *dst = &m->acc[ev->dst];
    src->out_calls++;
    src->out_fail += (uint32_t)failed;
    dst->in_calls++;
    dst->in_fail += (uint32_t)failed;
    if ((ev->flags & AURA_EVENTS_F_HAS_LATENCY) && isfinite(ev->latency_ms) &&
        ev->latency_ms >= 0.0f) {
        dst->n_lat++;
        dst->lat_sum += ev->latency_ms;
    }
    if (!failed) {
        dst->alive = 1;
    }
    e->calls++;
    e->fails += (uint32_t)failed;
}

static aura_status take_event(aura_monitor *m, const aura_events_event *ev)
{
    int has_dst = ev->dst != AURA_EVENTS_NO_AGENT && ev->dst != ev->src;
    uint32_t need = (has_dst && ev->dst > ev->src ? ev->dst : ev->src) + 1;
    aura_status st = ensure_agents(m, need);
    if (st != AURA_OK) {
        return st;
    }
    m->seen[ev->src] = 1;
    mon_acc *a = &m->acc[ev->src];
    a->alive = 1;
    a->own = 1;
    mon_edge *e = NULL;
    if (has_dst) {
        m->seen[ev->dst] = 1;
        e = edge_get(m, ev->src, ev->dst);
        if (!e) {
            return AURA_E_NOMEM;
        }
        e->last_tick = m->open_tick;
    }
    int ok = !(ev->flags & AURA_EVENTS_F_HAS_OK) || (ev->flags & AURA_EVENTS_F_OK);
    switch (ev->kind) {
    case AURA_EVENTS_REPLY:
        if (e) {
            record_call(m, ev, !ok, e);
        }
        break;
    case AURA_EVENTS_TIMEOUT:
        if (e) {
            record_call(m, ev, 1, e);
        }
        break;
    case AURA_EVENTS_ERROR:
        a->errors++;
        if (e) {
            record_call(m, ev, 1, e);
        }
        break;
    case AURA_EVENTS_LOAD:
        if ((ev->flags & AURA_EVENTS_F_HAS_LOAD) && isfinite(ev->load) && ev->load >= 0.0f) {
            a->has_load = 1;
            a->load = ev->load < 10.0f ? ev->load : 10.0f;
        }
        break;
    default:
        break; /* calls, heartbeats, states: activity and edges only */
    }
    return AURA_OK;
}

aura_status aura_monitor_ingest(aura_monitor *m, const aura_events_event *ev, size_t n,
                                size_t *n_used)
{
    AURA_CHECK_ARG(m && n_used && (ev || n == 0));
    double tick_us = m->o.tick_ms * 1000.0;
    size_t k = 0;
    for (; k < n; k++) {
        const aura_events_event *e = &ev[k];
        if (e->ts_us < 0) {
            m->st.bad_time++;
            continue;
        }
        if (e->src >= m->o.max_agents ||
            (e->dst != AURA_EVENTS_NO_AGENT && e->dst >= m->o.max_agents)) {
            m->st.unknown++;
            continue;
        }
        if (e->kind == AURA_EVENTS_DECISION || e->kind == AURA_EVENTS_INTERVENTION) {
            continue; /* a monitor's own output (--events-out), not agent activity */
        }
        int64_t tick = (int64_t)floor((double)e->ts_us / tick_us);
        if (m->open_tick < 0) {
            m->open_tick = tick;
        }
        if (tick > m->open_tick) {
            break;
        }
        int d = dup_check(m, fingerprint(e));
        if (d < 0) {
            *n_used = k;
            return AURA_E_NOMEM;
        }
        if (d) {
            m->st.duplicates++;
            continue;
        }
        m->st.late += tick < m->open_tick;
        aura_status st = take_event(m, e);
        if (st != AURA_OK) {
            *n_used = k;
            return st;
        }
        m->st.events++;
        m->tick_events++;
    }
    *n_used = k;
    return AURA_OK;
}

int64_t aura_monitor_open_tick(const aura_monitor *m)
{
    return m ? m->open_tick : -1;
}

/* ---- window update ---- */

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

static float ema(float old, float x, float a)
{
    return old + a * (x - old);
}

static void update_agents(aura_monitor *m)
{
    float a = 2.0f / (float)(m->o.window_ticks + 1);
    /* a tick without any event is a gap in the stream (the collector, not
     * every agent, went quiet): it counts as no one's silence */
    int gap = m->tick_events == 0;
    for (uint32_t i = 0; i < m->n; i++) {
        mon_agent *g = &m->ag[i];
        mon_acc *c = &m->acc[i];
        if (!m->seen[i]) {
            continue;
        }
        g->prev_util = g->util;
        g->prev_in_err = g->in_err_now;
        if (c->n_lat > 0) {
            float l = c->lat_sum / (float)c->n_lat;
            if (!g->has_lat) {
                g->lat_now = g->lat_base = l;
                g->has_lat = 1;
            }
            g->lat_now = ema(g->lat_now, l, FAST);
            /* baseline follows drops quickly and rises slowly */
            g->lat_base = l < g->lat_base ? ema(g->lat_base, l, 0.3f) : ema(g->lat_base, l, 0.01f);
        }
        float load = c->load;
        int has_load = c->has_load;
        g->reports_load |= c->has_load;
        if (!has_load && !g->reports_load && c->n_lat > 0 && g->lat_now > 0.0f) {
            /* A stream without load reports (another source than the
             * simulator): utilisation estimated from the queueing delay,
             * M/M/1 (latency = service time / (1 - rho)) around an assumed
             * baseline utilisation of 0.5 at the latency baseline:
             * rho = 1 - 0.5 * baseline / now (0.75 at twice the baseline). */
            load = clampf(1.0f - 0.5f * g->lat_base / g->lat_now, 0.0f, 0.99f);
            has_load = 1;
        }
        if (has_load) {
            g->util = g->has_util ? ema(g->util, load, FAST) : load;
            g->prev_util = g->has_util ? g->prev_util : g->util;
            g->has_util = 1;
            g->rising = g->util > g->prev_util + 0.005f ? g->rising + 1.0f : 0.0f;
            g->util_slow = ema(g->util_slow, g->util, SLOW(a));
        }
        if (c->in_calls > 0) {
            float r = (float)c->in_fail / (float)c->in_calls;
            g->in_err = ema(g->in_err, r, a);
            g->in_err_now = ema(g->in_err_now, r, FAST);
            g->err_slow = ema(g->err_slow, r, SLOW(a));
        } else if (!c->alive) {
            g->in_err_now = ema(g->in_err_now, 0.0f, a); /* nothing observed */
        }
        if (c->out_calls > 0) {
            g->out_err = ema(g->out_err, (float)c->out_fail / (float)c->out_calls, FAST);
        }
        float own = c->errors < 3 ? (float)c->errors / 3.0f : 1.0f;
        g->own_err = ema(g->own_err, own, FAST);
        /* Silence means something for an agent that sends events of its
         * own (heartbeats, loads), or that was called and answered nothing
         * in time; an agent only ever seen as a callee and not called this
         * tick is simply not observed, and a gap is no one's silence. */
        g->emits |= c->own;
        int quiet = !c->alive && !gap && (g->emits || c->in_calls > 0);
        g->silence = c->alive ? 0.0f
                              : (quiet ? (g->silence < 30.0f ? g->silence + 1.0f : 30.0f)
                                       : g->silence);
        /* The failure definition as the events show it: a bad tick is one
         * in which more than half the calls to it failed (with at least
         * MIN_CALLS calls), or a silent one; failed after two bad ticks in
         * a row, recovered after three good ones. */
        int bad = (c->in_calls >= MIN_CALLS && 2 * c->in_fail > c->in_calls) || quiet;
        if (!gap) {
            g->bad_run = bad ? (uint8_t)(g->bad_run < 255 ? g->bad_run + 1 : 255) : 0;
            g->good_run = bad ? 0 : (uint8_t)(g->good_run < 255 ? g->good_run + 1 : 255);
            g->failed = g->bad_run >= 2 ? 1 : (g->good_run >= 3 ? 0 : g->failed);
        }
        /* trust: an agent that reports low load while calls to it fail is lying */
        int mismatch = c->has_load && c->load < 0.5f && c->in_calls >= 2 &&
                       (float)c->in_fail > 0.3f * (float)c->in_calls;
        if (c->has_load && c->in_calls >= 2) {
            g->trust = ema(g->trust, mismatch ? 0.0f : 1.0f, a);
        }
        g->seen = 1;
        memset(c, 0, sizeof *c);
    }
}

static aura_status update_edges(aura_monitor *m)
{
    float a = 2.0f / (float)(m->o.window_ticks + 1);
    size_t live = 0;
    for (size_t i = 0; i < m->cap_edges; i++) {
        mon_edge *e = &m->edges[i];
        if (!e->used) {
            continue;
        }
        if (e->last_tick < m->open_tick - m->o.window_ticks) {
            e->used = 0;
            continue;
        }
        e->rate = ema(e->rate, (float)e->calls, a);
        if (e->calls) {
            e->err = ema(e->err, (float)e->fails / (float)e->calls, FAST);
        }
        e->calls = e->fails = 0;
        live++;
    }
    if (live != m->n_edges) {
        m->n_edges = live;
        return edges_rehash(m, m->cap_edges); /* drop tombstones */
    }
    return AURA_OK;
}

/* ---- the graph of the window ---- */

/* Error rate of the calls src makes to dst (0 if there is no such edge). */
static float edge_err(const aura_monitor *m, uint32_t src, uint32_t dst)
{
    if (m->cap_edges == 0) {
        return 0.0f;
    }
    uint64_t key = (uint64_t)src << 32 | dst;
    size_t h = mix64(key) & (m->cap_edges - 1);
    while (m->edges[h].used && m->edges[h].key != key) {
        h = (h + 1) & (m->cap_edges - 1);
    }
    return m->edges[h].used ? m->edges[h].err : 0.0f;
}

static int u32pair_cmp(const void *x, const void *y)
{
    const uint32_t *a = x, *b = y;
    if (a[0] != b[0]) {
        return a[0] < b[0] ? -1 : 1;
    }
    return (a[1] > b[1]) - (a[1] < b[1]);
}

/* The live edges as sorted, deduplicated undirected pairs; counts callers. */
static aura_status collect_pairs(aura_monitor *m)
{
    size_t need = m->n_edges ? m->n_edges : 1;
    if (need > m->cap_pairs) {
        if (!grow(m->alloc, (void **)&m->pairs, need, 2 * sizeof(uint32_t)) ||
            !grow(m->alloc, (void **)&m->pair_err, need, sizeof(float))) {
            return AURA_E_NOMEM;
        }
        m->cap_pairs = need;
    }
    if (2 * need > m->cap_adj) {
        if (!grow(m->alloc, (void **)&m->adj, 2 * need, sizeof(uint32_t)) ||
            !grow(m->alloc, (void **)&m->wadj, 2 * need, sizeof(float))) {
            return AURA_E_NOMEM;
        }
        m->cap_adj = 2 * need;
    }
    size_t k = 0;
    memset(m->callers, 0, sizeof(uint32_t) * m->n);
    for (size_t i = 0; i < m->cap_edges; i++) {
        const mon_edge *e = &m->edges[i];
        if (!e->used) {
            continue;
        }
        uint32_t s = (uint32_t)(e->key >> 32), d = (uint32_t)e->key;
        m->callers[d]++;
        m->pairs[2 * k] = s < d ? s : d;
        m->pairs[2 * k + 1] = s < d ? d : s;
        k++;
    }
    qsort(m->pairs, k, 2 * sizeof(uint32_t), u32pair_cmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++) {
        if (u == 0 || u32pair_cmp(&m->pairs[2 * i], &m->pairs[2 * (u - 1)]) != 0) {
            m->pairs[2 * u] = m->pairs[2 * i];
            m->pairs[2 * u + 1] = m->pairs[2 * i + 1];
            u++;
        }
    }
    m->n_pairs = u;
    return AURA_OK;
}

/* CSR adjacency of the deduplicated pairs, then the graph measures. */
static aura_status build_graph(aura_monitor *m)
{
    aura_status st = collect_pairs(m);
    if (st != AURA_OK) {
        return st;
    }
    size_t u = m->n_pairs;
    memset(m->off, 0, sizeof(uint32_t) * (m->n + 1));
    for (size_t i = 0; i < u; i++) {
        m->off[m->pairs[2 * i] + 1]++;
        m->off[m->pairs[2 * i + 1] + 1]++;
    }
    for (uint32_t v = 0; v < m->n; v++) {
        m->off[v + 1] += m->off[v];
    }
    uint32_t *fill = m->bdeg; /* scratch until Tarjan overwrites it */
    memcpy(fill, m->off, sizeof(uint32_t) * m->n);
    for (size_t i = 0; i < u; i++) {
        uint32_t a = m->pairs[2 * i], b = m->pairs[2 * i + 1];
        float ea = edge_err(m, a, b), eb = edge_err(m, b, a);
        float err = ea > eb ? ea : eb;
        m->pair_err[i] = err;
        m->wadj[fill[a]] = m->wadj[fill[b]] = 1.0f + 4.0f * err; /* failing links are long */
        m->adj[fill[a]++] = b;
        m->adj[fill[b]++] = a;
    }
    aura_monitor_graph_measures gm;
    st = aura_monitor_graph_tarjan(m->alloc, m->n, m->off, m->adj, m->is_ap, m->bdeg,
                                               m->comp, &gm);
    if (st == AURA_OK) {
        st = aura_monitor_graph_clustering(m->alloc, m->n, m->off, m->adj, m->clust);
    }
    if (st == AURA_OK) {
        /* a few BFS sources per tick, smoothed over ticks (alpha 0.3):
         * about 3x the sources over the window at a third of the cost */
        st = aura_monitor_graph_betweenness(m->alloc, m->n, m->off, m->adj,
                                            (uint32_t)m->o.betweenness_samples,
                                            m->o.seed + (uint64_t)m->open_tick, m->betw_now);
        for (uint32_t i = 0; st == AURA_OK && i < m->n; i++) {
            m->betw[i] += 0.3f * (m->betw_now[i] - m->betw[i]);
        }
    }
    if (st == AURA_OK) {
        m->sys[S_COMP] = (float)gm.components;
        m->sys[S_AP] = (float)gm.articulation;
        m->sys[S_BRIDGES] = (float)gm.bridges;
    }
    return st;
}

/* ---- features ---- */

/* healthy / degraded / failing / failed / isolated, from what the events
 * show (docs/monitor.md, "Agent state"). */
static uint8_t agent_state(const aura_monitor *m, uint32_t i, const float *f)
{
    const mon_agent *g = &m->ag[i];
    if (m->open_tick < g->isolated_until) {
        return AURA_EVENTS_STATE_ISOLATED;
    }
    if (g->failed) {
        return AURA_EVENTS_STATE_FAILED;
    }
    if (g->bad_run > 0) {
        return AURA_EVENTS_STATE_FAILING;
    }
    if (f[F_INERR_NOW] > 0.1f || f[F_OUTERR] > 0.3f || f[F_LAT] > 1.0f || f[F_UTIL] > 0.9f ||
        f[F_TRUST] < 0.6f || f[F_SILENCE] > 0.0f) {
        return AURA_EVENTS_STATE_DEGRADED;
    }
    return AURA_EVENTS_STATE_HEALTHY;
}

static void agent_features(aura_monitor *m, uint32_t i)
{
    const mon_agent *g = &m->ag[i];
    float *f = &m->feat[(size_t)i * AURA_MONITOR_AGENT_FEATURES];
    float lat_ratio = 0.0f;
    if (g->has_lat && g->lat_base > 1e-3f) {
        lat_ratio = clampf(log2f(g->lat_now / g->lat_base), -4.0f, 8.0f);
    }
    float dep_err = 0.0f, nb_fail = 0.0f;
    for (uint32_t e = m->off[i]; e < m->off[i + 1]; e++) {
        uint32_t j = m->adj[e];
        /* a neighbour i calls: its failing shows in i's calls to it */
        if (j != i && m->ag[j].in_err_now > dep_err) {
            dep_err = m->ag[j].in_err_now;
        }
        nb_fail += j != i && (m->ag[j].in_err_now > 0.5f || m->ag[j].silence >= 2.0f);
    }
    f[F_UTIL] = clampf(g->util, 0.0f, 10.0f);
    f[F_DUTIL] = g->util - g->prev_util;
    f[F_INERR] = g->in_err;
    f[F_INERR_NOW] = g->in_err_now;
    f[F_DINERR] = g->in_err_now - g->prev_in_err;
    f[F_DLAT] = lat_ratio - f[F_LAT];
    f[F_LAT] = lat_ratio;
    f[F_OUTERR] = g->out_err;
    f[F_OWNERR] = g->own_err;
    f[F_SILENCE] = g->silence;
    f[F_DEG] = (float)(m->off[i + 1] - m->off[i]);
    f[F_CALLERS] = (float)m->callers[i];
    f[F_AP] = (float)m->is_ap[i];
    f[F_BRIDGES] = (float)m->bdeg[i];
    f[F_CLUST] = m->clust[i];
    f[F_BETW] = m->betw[i];
    f[F_DEPERR] = dep_err;
    f[F_TRUST] = g->trust;
    /* trends: fast average minus one over about three windows */
    f[F_UTILTREND] = g->util - g->util_slow;
    f[F_LATTREND] = lat_ratio - g->lat_slow;
    f[F_ERRTREND] = g->in_err_now - g->err_slow;
    f[F_NBFAIL] = nb_fail;
    m->state[i] = agent_state(m, i, f);
    m->ag[i].lat_slow = ema(g->lat_slow, lat_ratio, SLOW(2.0f / (float)(m->o.window_ticks + 1)));
}

static void system_features(aura_monitor *m)
{
    float *s = m->sys;
    float prev_fail = s[S_FAILING], prev_load = s[S_LOADMEAN];
    double cnt = 0, sum = 0, sum2 = 0, mx = 0, over = 0, lowt = 0, lap = 0, failing = 0, err = 0;
    double mb = 0;
    for (uint32_t i = 0; i < m->n; i++) {
        if (!m->seen[i]) {
            continue;
        }
        const float *f = &m->feat[(size_t)i * AURA_MONITOR_AGENT_FEATURES];
        cnt++;
        sum += f[F_UTIL];
        sum2 += (double)f[F_UTIL] * f[F_UTIL];
        mx = f[F_UTIL] > mx ? f[F_UTIL] : mx;
        over += f[F_UTIL] > 0.9f;
        lowt += f[F_TRUST] < 0.5f;
        lap += f[F_AP] > 0.0f && f[F_UTIL] > 0.8f;
        failing += f[F_INERR_NOW] > 0.5f || f[F_SILENCE] >= 2.0f;
        err += f[F_INERR_NOW];
        mb = f[F_BETW] > mb ? f[F_BETW] : mb;
    }
    double c = cnt > 0 ? cnt : 1;
    s[S_AGENTS] = (float)cnt;
    s[S_MEANDEG] = (float)(2.0 * (double)m->n_pairs / c);
    s[S_LOADMEAN] = (float)(sum / c);
    s[S_LOADSTD] = (float)sqrt(fmax(0.0, sum2 / c - (sum / c) * (sum / c)));
    s[S_LOADMAX] = (float)mx;
    s[S_OVER] = (float)(over / c);
    s[S_LOWTRUST] = (float)(lowt / c);
    s[S_LOADEDAP] = (float)(lap / c);
    s[S_FAILING] = (float)(failing / c);
    s[S_MEANERR] = (float)(err / c);
    s[S_MAXBETW] = (float)mb;
    s[S_DFAILING] = s[S_FAILING] - prev_fail;
    s[S_DLOAD] = s[S_LOADMEAN] - prev_load;
}

/* The topological system features (tda_feat.c) from the live graph and
 * the agents' states. */
static aura_status tda_features(aura_monitor *m)
{
    if (m->n == 0) {
        return AURA_OK;
    }
    aura__monitor_tda_graph g = {
        .n = m->n, .seen = m->seen, .off = m->off, .adj = m->adj, .w = m->wadj,
        .pairs = m->pairs, .pair_err = m->pair_err, .n_pairs = m->n_pairs, .feat = m->feat,
        .stride = AURA_MONITOR_AGENT_FEATURES,
        .state_idx = {F_UTIL, F_INERR_NOW, F_LAT, F_OUTERR, F_OWNERR},
        .state_scale = {1.0f, 1.0f, 0.25f, 1.0f, 1.0f}};
    return aura__monitor_tda_compute(&m->tda, &g, &m->sys[S_TDA]);
}

/* ---- the rule baseline ---- */

/* The original design's system score: share of overloaded agents, of
 * low-trust agents, loaded articulation points, fragmentation, sparsity. */
static float rule_system_risk(const float *s)
{
    double frag = s[S_AGENTS] > 0 ? (s[S_COMP] - 1.0) / (0.05 * s[S_AGENTS] + 1.0) : 0.0;
    double sparse = s[S_MEANDEG] < 2.0f ? (2.0 - s[S_MEANDEG]) / 2.0 : 0.0;
    double ap = s[S_AP] > 0 ? s[S_LOADEDAP] * s[S_AGENTS] / s[S_AP] : 0.0;
    double r = 0.30 * fmin(1.0, 4.0 * s[S_OVER]) + 0.20 * fmin(1.0, 4.0 * s[S_LOWTRUST]) +
               0.20 * fmin(1.0, ap) + 0.15 * fmin(1.0, fmax(0.0, frag)) + 0.15 * sparse;
    return (float)fmin(1.0, r);
}

/* Per-agent logistic score over the features.  The weights are rounded
 * from a class-weighted logistic fit on simulator seeds 101..108 (BA, 200
 * agents; evaluation uses other seeds), then kept fixed and readable:
 * load and its excess over 0.75 dominate, then errors (own, of calls to
 * it, of its calls out), latency growth, rising trends, low trust, and
 * how many callers depend on it.  docs/monitor.md lists them. */
static float rule_agent_risk(const float *f, float sys_risk)
{
    float u = clampf(f[F_UTIL], 0.0f, 3.0f);
    float z = -8.5f;
    z += 5.0f * u + 48.0f * clampf(u - 0.75f, 0.0f, 1.0f);
    z += 3.0f * clampf(f[F_DUTIL], 0.0f, 1.0f);
    z += 1.0f * f[F_INERR] + 5.0f * clampf(f[F_DINERR], 0.0f, 1.0f);
    z += 0.3f * clampf(f[F_LAT], 0.0f, 8.0f);
    z += 4.3f * f[F_OUTERR] + 2.8f * f[F_OWNERR];
    z += 1.0f * clampf(f[F_SILENCE], 0.0f, 3.0f);
    z += 0.45f * log1pf(f[F_CALLERS]);
    z += 1.9f * f[F_DEPERR];
    z += 2.5f * (1.0f - f[F_TRUST]);
    z += f[F_AP] > 0.0f && u > 0.7f ? 0.7f : 0.0f;
    z += 1.0f * sys_risk;
    return 1.0f / (1.0f + expf(-z));
}

/* Failure probability flows up the call graph (one step per tick):
 * out[i] = 1 - (1 - risk[i]) (1 - half of the largest risk among i's
 * callees), a caller of a failing agent being at risk with it.  out may be
 * risk. */
static void add_callee_risk(aura_monitor *m, const float *risk, float *out)
{
    for (size_t k = 0; k < m->cap_edges; k++) {
        const mon_edge *e = &m->edges[k];
        if (!e->used) {
            continue;
        }
        uint32_t src = (uint32_t)(e->key >> 32), dst = (uint32_t)e->key;
        float inherited = 0.5f * risk[dst];
        if (src < m->n && dst < m->n && inherited > m->tmp[src]) {
            m->tmp[src] = inherited;
        }
    }
    for (uint32_t i = 0; i < m->n; i++) {
        out[i] = 1.0f - (1.0f - risk[i]) * (1.0f - m->tmp[i]);
        m->tmp[i] = 0.0f;
    }
}

static void propagate_risk(aura_monitor *m)
{
    add_callee_risk(m, m->risk, m->risk);
}

static aura_status score(aura_monitor *m)
{
    if (m->o.model) {
        float sr = 0.0f;
        aura_status st = m->o.model->score(m->o.model->ctx, m->feat, m->n, m->sys, m->risk, &sr);
        if (st != AURA_OK) {
            return st;
        }
        for (uint32_t i = 0; i < m->n; i++) {
            if (!isfinite(m->risk[i])) {
                return AURA_E_NUMERIC;
            }
            m->risk[i] = clampf(m->risk[i], 0.0f, 1.0f);
        }
        m->sys_risk = isfinite(sr) ? clampf(sr, 0.0f, 1.0f) : 0.0f;
        return AURA_OK;
    }
    m->sys_risk = rule_system_risk(m->sys);
    for (uint32_t i = 0; i < m->n; i++) {
        m->risk[i] = m->seen[i] ? rule_agent_risk(&m->feat[(size_t)i * AURA_MONITOR_AGENT_FEATURES],
                                                  m->sys_risk)
                                : 0.0f;
    }
    propagate_risk(m);
    return AURA_OK;
}

/* ---- decisions ---- */

static aura_monitor_decision *dec_push(aura_monitor *m)
{
    if (m->n_dec == m->cap_dec) {
        size_t c = m->cap_dec ? m->cap_dec * 2 : 16;
        if (!grow(m->alloc, (void **)&m->dec, c, sizeof *m->dec)) {
            return NULL;
        }
        m->cap_dec = c;
    }
    aura_monitor_decision *d = &m->dec[m->n_dec++];
    memset(d, 0, sizeof *d);
    return d;
}

/* The callee of i with the worst current error rate (calls i makes), or NONE. */
static uint32_t worst_callee(const aura_monitor *m, uint32_t i, float *err)
{
    uint32_t best = NONE;
    *err = 0.0f;
    for (uint32_t e = m->off[i]; e < m->off[i + 1]; e++) {
        uint32_t j = m->adj[e];
        uint64_t key = (uint64_t)i << 32 | j;
        size_t h = mix64(key) & (m->cap_edges - 1);
        while (m->edges[h].used && m->edges[h].key != key) {
            h = (h + 1) & (m->cap_edges - 1);
        }
        if (m->edges[h].used && m->edges[h].err > *err) {
            *err = m->edges[h].err;
            best = j;
        }
    }
    return best;
}

/* A healthy, lightly loaded agent two hops from i (a peer: another
 * provider for i's callers) that is not much smaller than i (by callers),
 * or NONE.  Draining a hub onto small peers spreads its overload. */
static uint32_t spare_peer(const aura_monitor *m, uint32_t i)
{
    uint32_t best = NONE;
    float best_u = 0.5f;
    for (uint32_t e = m->off[i]; e < m->off[i + 1]; e++) {
        uint32_t c = m->adj[e];
        for (uint32_t f = m->off[c]; f < m->off[c + 1]; f++) {
            uint32_t p = m->adj[f];
            const float *pf = &m->feat[(size_t)p * AURA_MONITOR_AGENT_FEATURES];
            if (p != i && m->risk[p] < 0.2f && pf[F_UTIL] < best_u &&
                2u * m->callers[p] + 2u >= m->callers[i]) {
                best_u = pf[F_UTIL];
                best = p;
            }
        }
    }
    return best;
}

/* 1 if i calls someone besides `dep` and all those others have headroom
 * (load < 0.6, low risk): rerouting away from dep will not overload them. */
static int alternatives_ok(const aura_monitor *m, uint32_t i, uint32_t dep)
{
    int n_alt = 0;
    for (uint32_t e = m->off[i]; e < m->off[i + 1]; e++) {
        uint32_t k = m->adj[e];
        uint64_t key = (uint64_t)i << 32 | k;
        size_t h = mix64(key) & (m->cap_edges - 1);
        while (m->edges[h].used && m->edges[h].key != key) {
            h = (h + 1) & (m->cap_edges - 1);
        }
        if (k == dep || !m->edges[h].used) {
            continue; /* not a callee of i */
        }
        if (m->feat[(size_t)k * AURA_MONITOR_AGENT_FEATURES + F_UTIL] >= 0.6f ||
            m->risk[k] >= 0.3f) {
            return 0;
        }
        n_alt++;
    }
    return n_alt > 0;
}

/* 1 if i has an edge to k in the live graph (i calls k). */
static int calls(const aura_monitor *m, uint32_t i, uint32_t k)
{
    if (m->cap_edges == 0) {
        return 0;
    }
    uint64_t key = (uint64_t)i << 32 | k;
    size_t h = mix64(key) & (m->cap_edges - 1);
    while (m->edges[h].used && m->edges[h].key != key) {
        h = (h + 1) & (m->cap_edges - 1);
    }
    return m->edges[h].used;
}

/* 1 if every caller of i can do without it (has another callee with
 * headroom): only then may i be taken out of routing. */
static int callers_can_do_without(const aura_monitor *m, uint32_t i)
{
    for (uint32_t e = m->off[i]; e < m->off[i + 1]; e++) {
        uint32_t c = m->adj[e];
        if (calls(m, c, i) && !alternatives_ok(m, c, i)) {
            return 0;
        }
    }
    return 1;
}

/* The rule policy.  Moving load is only done towards spare capacity:
 * rebalancing onto loaded peers spreads an overload (and a naive version
 * of this policy did exactly that in the simulator). */
static void choose_action(aura_monitor *m, uint32_t i, aura_monitor_decision *d)
{
    const float *f = &m->feat[(size_t)i * AURA_MONITOR_AGENT_FEATURES];
    float derr = 0.0f;
    uint32_t dep = worst_callee(m, i, &derr);
    uint32_t peer = spare_peer(m, i);
    int can_drain = callers_can_do_without(m, i);
    d->target = AURA_EVENTS_NO_AGENT;
    if (f[F_TRUST] < 0.6f && can_drain) {
        d->action = AURA_MONITOR_ISOLATE;
        snprintf(d->reason, sizeof d->reason,
                 "low trust %.2f: reports load %.2f while %.0f%% of calls to it fail",
                 (double)f[F_TRUST], (double)f[F_UTIL], 100.0 * f[F_INERR_NOW]);
    } else if (f[F_SILENCE] >= 2.0f) {
        d->action = AURA_MONITOR_REBALANCE;
        snprintf(d->reason, sizeof d->reason, "silent for %.0f ticks: drain its callers",
                 (double)f[F_SILENCE]);
    } else if (dep != NONE && derr > 0.5f && derr > f[F_INERR_NOW] &&
               alternatives_ok(m, i, dep) && m->tmp[dep] < 2.0f) {
        d->action = AURA_MONITOR_REROUTE;
        d->target = dep;
        m->tmp[dep] += 1.0f; /* at most 2 reroutes off one agent a tick */
        snprintf(d->reason, sizeof d->reason, "%.0f%% of its calls to a dependency fail",
                 100.0 * derr);
    } else if (f[F_UTIL] > 0.8f && f[F_AP] > 0.0f && peer != NONE) {
        d->action = AURA_MONITOR_ADD_LINK;
        d->target = peer;
        snprintf(d->reason, sizeof d->reason,
                 "loaded articulation point (load %.2f): add a redundant provider",
                 (double)f[F_UTIL]);
    } else if (m->ag[i].rising >= RISING_TICKS && f[F_UTIL] > 0.8f && can_drain) {
        d->action = AURA_MONITOR_ISOLATE;
        snprintf(d->reason, sizeof d->reason,
                 "load rising for %.0f ticks to %.2f (a leak or drift): drain and restart",
                 (double)m->ag[i].rising, (double)f[F_UTIL]);
    } else if (f[F_UTIL] > 0.85f && f[F_CALLERS] > 0.0f && peer != NONE &&
               m->ag[i].last_action == AURA_MONITOR_THROTTLE + 1) {
        /* shedding at the source came first; still overloaded: spread */
        d->action = AURA_MONITOR_REBALANCE;
        snprintf(d->reason, sizeof d->reason,
                 "still overloaded after throttling (load %.2f, latency x%.1f): shift callers",
                 (double)f[F_UTIL], (double)exp2f(f[F_LAT]));
    } else if (f[F_INERR_NOW] > 0.5f && f[F_UTIL] < 0.7f && can_drain) {
        d->action = AURA_MONITOR_ISOLATE;
        snprintf(d->reason, sizeof d->reason, "%.0f%% of calls fail at load %.2f: restart it",
                 100.0 * f[F_INERR_NOW], (double)f[F_UTIL]);
    } else {
        d->action = AURA_MONITOR_THROTTLE;
        snprintf(d->reason, sizeof d->reason, "load %.2f, latency x%.1f, errors %.0f%%: shed load",
                 (double)f[F_UTIL], (double)exp2f(f[F_LAT]), 100.0 * f[F_INERR_NOW]);
    }
}

/* The graded policy below the threshold: an early, cheap action when a
 * gradual cause shows; 0 (no decision) otherwise. */
static int early_action(aura_monitor *m, uint32_t i, aura_monitor_decision *d)
{
    const float *f = &m->feat[(size_t)i * AURA_MONITOR_AGENT_FEATURES];
    d->target = AURA_EVENTS_NO_AGENT;
    if (f[F_SILENCE] >= 2.0f) {
        d->action = AURA_MONITOR_REBALANCE;
        snprintf(d->reason, sizeof d->reason, "silent for %.0f ticks: drain its callers early",
                 (double)f[F_SILENCE]);
        return 1;
    }
    if (m->ag[i].rising >= RISING_TICKS && f[F_UTIL] > 0.8f && callers_can_do_without(m, i)) {
        d->action = AURA_MONITOR_ISOLATE;
        snprintf(d->reason, sizeof d->reason,
                 "load rising for %.0f ticks to %.2f (a leak or drift): restart early",
                 (double)m->ag[i].rising, (double)f[F_UTIL]);
        return 1;
    }
    uint32_t peer;
    if (f[F_AP] > 0.0f && f[F_UTIL] > 0.8f && (peer = spare_peer(m, i)) != NONE) {
        d->action = AURA_MONITOR_ADD_LINK;
        d->target = peer;
        snprintf(d->reason, sizeof d->reason,
                 "articulation point at risk (load %.2f): add a redundant provider early",
                 (double)f[F_UTIL]);
        return 1;
    }
    return 0;
}

typedef struct cand {
    float risk;
    uint32_t agent;
} cand;

static int cand_cmp(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    if (a->risk != b->risk) {
        return a->risk > b->risk ? -1 : 1;
    }
    return (a->agent > b->agent) - (a->agent < b->agent);
}

static aura_status decide(aura_monitor *m)
{
    m->n_dec = 0;
    if (!m->o.act || m->o.max_actions == 0) {
        return AURA_OK;
    }
    /* The risk decisions act on.  The rule score already includes half of
     * each callee's risk (propagate_risk: a caller of a failing dependency
     * is at risk, and rerouting it is what helps); a model's risk gets the
     * same propagation here, for the decisions only (the risk it reports
     * is its own).  Without it the CfC's decisions were nearly all
     * throttles (425 of 475 on the demo seeds, 15 reroutes against the
     * rules' 124): it rates the loaded agent, not the callers that can
     * route around it. */
    const float *risk = m->risk;
    if (m->o.model) {
        add_callee_risk(m, m->risk, m->drisk);
        risk = m->drisk;
    }
    int graded = m->o.policy == AURA_MONITOR_POLICY_GRADED;
    float from = (float)(graded && m->o.early_threshold < m->o.threshold ? m->o.early_threshold
                                                                         : m->o.threshold);
    cand top[64];
    size_t nt = 0, lim = (size_t)m->o.max_actions < 64 ? (size_t)m->o.max_actions : 64;
    for (uint32_t i = 0; i < m->n; i++) {
        if (!m->seen[i] || risk[i] < from ||
            m->ag[i].cooldown_until > m->open_tick) {
            continue;
        }
        cand c = {risk[i], i};
        if (nt < lim) {
            top[nt++] = c;
            qsort(top, nt, sizeof *top, cand_cmp);
        } else if (cand_cmp(&c, &top[nt - 1]) < 0) {
            top[nt - 1] = c;
            qsort(top, nt, sizeof *top, cand_cmp);
        }
    }
    for (size_t k = 0; k < nt; k++) {
        aura_monitor_decision *d = dec_push(m);
        if (!d) {
            return AURA_E_NOMEM;
        }
        uint32_t i = top[k].agent;
        d->tick = m->open_tick;
        d->agent = i;
        d->risk = m->risk[i];
        d->confidence = m->risk[i];
        if (risk[i] >= (float)m->o.threshold) {
            choose_action(m, i, d);
        } else if (!early_action(m, i, d)) {
            m->n_dec--; /* below the threshold and no gradual cause: wait */
            continue;
        }
        m->ag[i].last_action = (uint8_t)(d->action + 1);
        if (d->action == AURA_MONITOR_ISOLATE) {
            m->ag[i].isolated_until = m->open_tick + 1 + m->o.cooldown;
        }
        m->ag[i].cooldown_until = m->open_tick + m->o.cooldown;
        m->st.decisions++;
    }
    for (size_t k = 0; k < m->n_dec; k++) {
        if (m->dec[k].target < m->n) {
            m->tmp[m->dec[k].target] = 0.0f;
        }
    }
    return AURA_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

aura_status aura_monitor_tick_close(aura_monitor *m)
{
    AURA_CHECK_ARG(m);
    if (m->open_tick < 0) {
        return AURA_E_STATE;
    }
    double t0 = now_ms();
    update_agents(m);
    aura_status st = update_edges(m);
    double t1 = now_ms();
    if (st == AURA_OK && m->n > 0) {
        st = build_graph(m);
    }
    double t2 = now_ms();
    if (st == AURA_OK) {
        for (uint32_t i = 0; i < m->n; i++) {
            if (m->seen[i]) {
                agent_features(m, i);
            }
        }
        system_features(m);
    }
    double t3a = now_ms();
    if (st == AURA_OK) {
        st = tda_features(m);
    }
    double t3 = now_ms();
    if (st == AURA_OK) {
        st = score(m);
    }
    double t4 = now_ms();
    /* recall (recall.c): similar past situations may lower this tick's
     * threshold and annotate its decisions */
    double thr_saved = m->o.threshold;
    int max_saved = m->o.max_actions;
    if (st == AURA_OK && m->o.recall) {
        st = aura__monitor_recall_observe(m->o.recall, m, m->open_tick, &m->o.threshold,
                                          &m->o.max_actions);
    }
    if (st == AURA_OK) {
        st = decide(m);
    }
    m->o.threshold = thr_saved;
    m->o.max_actions = max_saved;
    if (st == AURA_OK && m->o.recall) {
        aura__monitor_recall_annotate(m->o.recall, m->dec, m->n_dec);
    }
    double t5 = now_ms();
    if (st != AURA_OK) {
        return st;
    }
    const double lap[6] = {t1 - t0, t2 - t1, t3a - t2, t4 - t3, t5 - t4, t3 - t3a};
    for (int k = 0; k < 6; k++) {
        m->st.stage_ms[k] += lap[k];
    }
    m->st.ticks++;
    m->st.gap_ticks += m->tick_events == 0;
    m->tick_events = 0;
    if (m->cap_dup) {
        memset(m->dup, 0, sizeof(uint64_t) * m->cap_dup);
        m->n_dup = 0;
    }
    m->open_tick++;
    return AURA_OK;
}

/* ---- views ---- */

aura_status aura_monitor_states(const aura_monitor *m, const uint8_t **state, uint32_t *n_agents)
{
    AURA_CHECK_ARG(m && state && n_agents);
    *state = m->state;
    *n_agents = m->n;
    return AURA_OK;
}

aura_status aura_monitor_risk(const aura_monitor *m, const float **risk, const uint8_t **seen,
                              uint32_t *n_agents)
{
    AURA_CHECK_ARG(m && risk && n_agents);
    *risk = m->risk;
    if (seen) {
        *seen = m->seen;
    }
    *n_agents = m->n;
    return AURA_OK;
}

float aura_monitor_system_risk(const aura_monitor *m)
{
    return m ? m->sys_risk : 0.0f;
}

aura_status aura_monitor_decisions(const aura_monitor *m, const aura_monitor_decision **d,
                                   size_t *n)
{
    AURA_CHECK_ARG(m && d && n);
    *d = m->dec;
    *n = m->n_dec;
    return AURA_OK;
}

aura_status aura_monitor_features(const aura_monitor *m, const float **agent_features,
                                  const float **system_features, uint32_t *n_agents)
{
    AURA_CHECK_ARG(m && n_agents);
    if (agent_features) {
        *agent_features = m->feat;
    }
    if (system_features) {
        *system_features = m->sys;
    }
    *n_agents = m->n;
    return AURA_OK;
}

aura_status aura_monitor_edges(const aura_monitor *m, const uint32_t **pairs, size_t *n_edges)
{
    AURA_CHECK_ARG(m && pairs && n_edges);
    *pairs = m->pairs;
    *n_edges = m->n_pairs;
    return AURA_OK;
}

void aura_monitor_get_stats(const aura_monitor *m, aura_monitor_stats *st)
{
    if (m && st) {
        *st = m->st;
    }
}

/* Admission: approve when the requester is at risk for lack of capacity
 * and the budget allows; deny when it is untrusted or the request exceeds
 * the budget; defer while the system as a whole is at risk of a cascade
 * (capacity may be needed elsewhere) or the agent looks fine. */
aura_status aura_monitor_admit(const aura_monitor *m, uint32_t agent, double amount,
                               double budget_left, aura_monitor_decision *out)
{
    AURA_CHECK_ARG(m && out);
    if (agent >= m->n || !m->seen[agent]) {
        return AURA_E_RANGE;
    }
    if (!(amount > 0.0) || !isfinite(amount) || !isfinite(budget_left)) {
        return AURA_E_INVAL;
    }
    const float *f = &m->feat[(size_t)agent * AURA_MONITOR_AGENT_FEATURES];
    aura_monitor_decision d;
    memset(&d, 0, sizeof d);
    d.tick = m->open_tick - 1;
    d.agent = agent;
    d.target = AURA_EVENTS_NO_AGENT;
    d.risk = m->risk[agent];
    if (amount > budget_left) {
        d.action = AURA_MONITOR_DENY;
        d.confidence = 0.95f;
        snprintf(d.reason, sizeof d.reason, "request %.3g exceeds the budget left %.3g", amount,
                 budget_left);
    } else if (f[F_TRUST] < 0.5f) {
        d.action = AURA_MONITOR_DENY;
        d.confidence = 1.0f - f[F_TRUST];
        snprintf(d.reason, sizeof d.reason, "low trust %.2f", f[F_TRUST]);
    } else if (d.risk >= m->o.threshold && f[F_UTIL] > 0.75f) {
        d.action = AURA_MONITOR_APPROVE;
        d.confidence = d.risk;
        snprintf(d.reason, sizeof d.reason, "at risk %.2f from load %.2f: capacity helps", d.risk,
                 f[F_UTIL]);
    } else if (m->sys_risk >= 0.5f || amount > 0.5 * budget_left) {
        d.action = AURA_MONITOR_DEFER;
        d.confidence = 0.5f + 0.5f * m->sys_risk;
        snprintf(d.reason, sizeof d.reason, "system risk %.2f, %.0f%% of the budget: wait",
                 m->sys_risk, budget_left > 0 ? 100.0 * amount / budget_left : 100.0);
    } else {
        d.action = AURA_MONITOR_APPROVE;
        d.confidence = 1.0f - d.risk;
        snprintf(d.reason, sizeof d.reason, "low risk %.2f and budget available", d.risk);
    }
    *out = d;
    return AURA_OK;
}

/* For recall.c, journal.c and admission.c. */
struct aura_monitor_recall *aura__monitor_recall_of(const aura_monitor *m)
{
    return m ? m->o.recall : NULL;
}
