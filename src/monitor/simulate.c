/* simulate.c -- a seeded discrete-time multi-agent system that produces
 * observable events and ground-truth labels.
 *
 * Agents form a dependency DAG (a caller always has a higher index than
 * its callees).  Each tick, in order:
 *   1. faults set per-agent capacity, error and ingress multipliers;
 *   2. demand flows down the DAG: D_i = ingress_i + sum of calls to i, where
 *      a caller sends pcall * D_c calls split over its dependencies by
 *      routing weight, times (1 + R (1 - P_j(t-1))) for the retries that
 *      last tick's timeouts at j provoke (R = 2), or 0.3 (probes only) once
 *      s_j(t-1) < 0.25 and the caller's circuit breaker is open;
 *   3. each agent queues: rho = D / C, a backlog q grows when rho > 1,
 *      latency L = lat0 / (1 - min(rho, .98)) + 1000 q / C ms, and a call
 *      finishes within the timeout T with P = 1 - exp(-T / L);
 *   4. success flows up: s_i = ok_i ((1 - pcall) + pcall sum_j share_j
 *      (1 - (1 - s_j)^(R+1))), ok_i = P (1 - err_i) (1 - drop_i);
 *   5. overload, bad dependencies and Byzantine behaviour raise the crash
 *      hazard; a crashed agent is down 6..11 ticks, then restarts empty;
 *   6. events: heartbeats, load reports, sampled calls with latency and
 *      outcome, errors -- and silence from an agent that is down.
 * bad[t][i] (down, or s_i < 1/2 with calls to serve) feeds the failure
 * definition in eval.c.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/rng.h"
#include "core/core_int.h"
#include "monitor/monitor_int.h"

#define RETRIES 2.0
#define TIMEOUT_MS 1000.0
#define MAX_AGENTS 10000u
#define NONE UINT32_MAX

typedef struct sim_edge {
    uint32_t src, dst;   /* caller -> callee (src > dst) */
    uint32_t next;       /* next out-edge of src */
    int32_t reroute_until;
    int32_t flap_from, flap_until; /* flapping-link fault window */
    double calls;        /* calls this tick */
    double share;        /* routing share this tick */
} sim_edge;

typedef struct sim_agent {
    double ingress0, cap, lat0, pcall, err0;
    double backlog, leak;
    double hazard; /* crash hazard of the last tick (0 while down) */
    double demand, rho, lat, ok, succ, prev_succ, in_time, prev_in_time;
    double cap_factor, err_extra, ingress_mult, lat_mult, spike;
    int byzantine;
    int32_t down_until, throttle_until, rebalance_until, isolated_until;
    uint32_t first_edge;
    float phase;
} sim_agent;

typedef struct sim_fault {
    int32_t tick, duration;
    uint32_t agent;
    uint8_t kind;
    uint8_t drawn; /* 1 = drawn by random:N (redrawn by a rollout copy) */
} sim_fault;

struct aura_monitor_sim {
    const aura_allocator *alloc;
    aura_monitor_sim_opts o;
    aura_rng rng;  /* set-up and dynamics: the same draws every tick */
    aura_rng erng; /* event sampling only */
    uint32_t n;
    sim_agent *a;
    sim_edge *e;
    size_t n_e, cap_e;
    sim_fault *f;
    size_t n_f;
    uint8_t *bad; /* ticks x n */
    int32_t t;
    double shed, total;
    aura__monitor_evbuf out;
    aura__monitor_sim_req req; /* resource requests (admission), see below */
    int quiet;                 /* a rollout copy: the same dynamics, no events */
};

static aura_status emit_requests(aura_monitor_sim *s);

static const char *const fault_names[AURA_MONITOR_FAULT_COUNT] = {
    "slow", "leak", "error-burst", "overload", "flapping-link", "byzantine"};
static const int32_t fault_dur[AURA_MONITOR_FAULT_COUNT] = {40, 60, 6, 12, 30, 40};
static const char *const topo_names[] = {"ba", "smallworld", "hier", "random"};

const char *aura_monitor_fault_name(aura_monitor_fault_kind k)
{
    return (unsigned)k < AURA_MONITOR_FAULT_COUNT ? fault_names[k] : NULL;
}

int32_t aura__monitor_fault_default_duration(aura_monitor_fault_kind k)
{
    return (unsigned)k < AURA_MONITOR_FAULT_COUNT ? fault_dur[k] : 0;
}

const char *aura_monitor_topology_name(aura_monitor_topology t)
{
    return (unsigned)t < 4 ? topo_names[t] : NULL;
}

aura_status aura_monitor_topology_parse(const char *s, aura_monitor_topology *out)
{
    AURA_CHECK_ARG(s && out);
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, topo_names[i]) == 0) {
            *out = (aura_monitor_topology)i;
            return AURA_OK;
        }
    }
    return AURA_E_NOTFOUND;
}

aura_monitor_sim_opts aura_monitor_sim_opts_default(void)
{
    return (aura_monitor_sim_opts){.n_agents = 200,
                                   .topology = AURA_MONITOR_TOPO_BA,
                                   .seed = 1,
                                   .ticks = 300,
                                   .faults = NULL,
                                   .utilisation = 0.55,
                                   .tick_offset_ms = 0.0,
                                   .samples_per_edge = 3};
}

/* ---- topology: undirected pairs, then oriented high -> low index ---- */

typedef struct pairs {
    uint32_t *p;
    size_t n, cap;
} pairs;

static int pairs_add(const aura_allocator *al, pairs *ps, uint32_t a, uint32_t b)
{
    if (a == b) {
        return 1;
    }
    if (ps->n == ps->cap) {
        size_t c = ps->cap ? ps->cap * 2 : 256;
        uint32_t *q = aura__realloc_array(al, ps->p, c, 2 * sizeof(uint32_t));
        if (!q) {
            return 0;
        }
        ps->p = q;
        ps->cap = c;
    }
    ps->p[2 * ps->n] = a > b ? a : b;
    ps->p[2 * ps->n + 1] = a > b ? b : a;
    ps->n++;
    return 1;
}

static int gen_ba(const aura_allocator *al, aura_rng *r, uint32_t n, pairs *ps)
{
    /* endpoint list for degree-proportional choice */
    uint32_t *ends = aura__alloc_array(al, (size_t)n * 4 + 4, sizeof(uint32_t));
    size_t ne = 0;
    int ok = ends != NULL && pairs_add(al, ps, 1, 0);
    if (ok) {
        ends[ne++] = 0;
        ends[ne++] = 1;
    }
    for (uint32_t i = 2; ok && i < n; i++) {
        uint32_t t1 = ends[aura_rng_below(r, ne)], t2 = t1;
        for (int k = 0; k < 8 && t2 == t1; k++) {
            t2 = ends[aura_rng_below(r, ne)];
        }
        ok = pairs_add(al, ps, i, t1) && (t2 == t1 || pairs_add(al, ps, i, t2));
        ends[ne++] = t1;
        ends[ne++] = i;
        if (t2 != t1) {
            ends[ne++] = t2;
            ends[ne++] = i;
        }
    }
    aura__free(al, ends);
    return ok;
}

static int gen_smallworld(const aura_allocator *al, aura_rng *r, uint32_t n, pairs *ps)
{
    int ok = 1;
    for (uint32_t i = 0; ok && i < n; i++) {
        for (uint32_t k = 1; ok && k <= 2; k++) {
            uint32_t j = (i + k) % n;
            if (aura_rng_uniform(r) < 0.1) {
                j = (uint32_t)aura_rng_below(r, n);
            }
            ok = pairs_add(al, ps, i, j);
        }
    }
    return ok;
}

/* tools [0, nt), workers [nt, nt + nw), orchestrators after. */
static int gen_hier(const aura_allocator *al, aura_rng *r, uint32_t n, pairs *ps)
{
    uint32_t no = n / 20 ? n / 20 : 1, nw = (uint32_t)(n * 0.45), nt = n - no - nw;
    int ok = 1;
    for (uint32_t w = nt; ok && w < nt + nw; w++) {
        uint32_t k = 1 + (uint32_t)aura_rng_below(r, 3);
        for (uint32_t j = 0; ok && j < k; j++) {
            ok = pairs_add(al, ps, w, (uint32_t)aura_rng_below(r, nt));
        }
        /* every worker has an orchestrator above it */
        ok = ok && pairs_add(al, ps, nt + nw + (uint32_t)aura_rng_below(r, no), w);
    }
    for (uint32_t o = nt + nw; ok && o < n; o++) {
        uint32_t k = 2 + (uint32_t)aura_rng_below(r, 4);
        for (uint32_t j = 0; ok && j < k; j++) {
            ok = pairs_add(al, ps, o, nt + (uint32_t)aura_rng_below(r, nw));
        }
    }
    for (uint32_t t = 0; ok && t < nt; t++) { /* no orphan tools */
        ok = pairs_add(al, ps, nt + (uint32_t)aura_rng_below(r, nw), t);
    }
    return ok;
}

static int gen_random(const aura_allocator *al, aura_rng *r, uint32_t n, pairs *ps)
{
    int ok = 1;
    for (size_t k = 0; ok && k < (size_t)n * 2; k++) {
        ok = pairs_add(al, ps, (uint32_t)aura_rng_below(r, n), (uint32_t)aura_rng_below(r, n));
    }
    for (uint32_t i = 1; ok && i < n; i++) { /* a spanning path keeps it connected */
        if (aura_rng_uniform(r) < 0.5) {
            ok = pairs_add(al, ps, i, (uint32_t)aura_rng_below(r, i));
        }
    }
    return ok;
}

static int pair_cmp(const void *x, const void *y)
{
    const uint32_t *a = x, *b = y;
    if (a[0] != b[0]) {
        return a[0] < b[0] ? -1 : 1;
    }
    return (a[1] > b[1]) - (a[1] < b[1]);
}

static aura_status add_edge(aura_monitor_sim *s, uint32_t src, uint32_t dst)
{
    if (s->n_e == s->cap_e) {
        size_t c = s->cap_e ? s->cap_e * 2 : 256;
        sim_edge *q = aura__realloc_array(s->alloc, s->e, c, sizeof *q);
        if (!q) {
            return AURA_E_NOMEM;
        }
        s->e = q;
        s->cap_e = c;
    }
    sim_edge *e = &s->e[s->n_e];
    *e = (sim_edge){src, dst, s->a[src].first_edge, -1, -1, -1, 0.0, 0.0};
    s->a[src].first_edge = (uint32_t)s->n_e++;
    return AURA_OK;
}

static aura_status build_topology(aura_monitor_sim *s)
{
    pairs ps = {0};
    int ok = 0;
    switch (s->o.topology) {
    case AURA_MONITOR_TOPO_BA:
        ok = gen_ba(s->alloc, &s->rng, s->n, &ps);
        break;
    case AURA_MONITOR_TOPO_SMALLWORLD:
        ok = gen_smallworld(s->alloc, &s->rng, s->n, &ps);
        break;
    case AURA_MONITOR_TOPO_HIER:
        ok = gen_hier(s->alloc, &s->rng, s->n, &ps);
        break;
    case AURA_MONITOR_TOPO_RANDOM:
        ok = gen_random(s->alloc, &s->rng, s->n, &ps);
        break;
    }
    /* no agent is left without a neighbour */
    uint8_t *deg = ok ? aura__calloc(s->alloc, s->n, 1) : NULL;
    ok = ok && deg;
    for (size_t k = 0; ok && k < ps.n; k++) {
        deg[ps.p[2 * k]] = deg[ps.p[2 * k + 1]] = 1;
    }
    for (uint32_t i = 0; ok && i < s->n; i++) {
        if (!deg[i]) {
            uint32_t j = (i + 1 + (uint32_t)aura_rng_below(&s->rng, s->n - 1)) % s->n;
            ok = pairs_add(s->alloc, &ps, i, j);
            deg[j] = 1;
        }
    }
    aura__free(s->alloc, deg);
    aura_status st = ok ? AURA_OK : AURA_E_NOMEM;
    if (ok) {
        qsort(ps.p, ps.n, 2 * sizeof(uint32_t), pair_cmp);
    }
    for (size_t k = 0; st == AURA_OK && k < ps.n; k++) {
        if (k > 0 && pair_cmp(&ps.p[2 * k], &ps.p[2 * k - 2]) == 0) {
            continue;
        }
        st = add_edge(s, ps.p[2 * k], ps.p[2 * k + 1]);
    }
    aura__free(s->alloc, ps.p);
    return st;
}

/* ---- faults ---- */

static aura_status push_fault(aura_monitor_sim *s, size_t *cap, sim_fault f)
{
    if (s->n_f == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        sim_fault *q = aura__realloc_array(s->alloc, s->f, c, sizeof *q);
        if (!q) {
            return AURA_E_NOMEM;
        }
        s->f = q;
        *cap = c;
    }
    s->f[s->n_f++] = f;
    return AURA_OK;
}

/* Half the random faults hit the busiest tenth of agents (the hubs of BA,
 * the orchestrators' dependencies), where cascades start in practice. */
static uint32_t random_agent(aura_monitor_sim *s)
{
    if (aura_rng_uniform(&s->rng) < 0.5) {
        return (uint32_t)aura_rng_below(&s->rng, s->n);
    }
    uint32_t best = (uint32_t)aura_rng_below(&s->rng, s->n);
    for (int k = 0; k < 3; k++) { /* best of four by capacity */
        uint32_t c = (uint32_t)aura_rng_below(&s->rng, s->n);
        best = s->a[c].cap > s->a[best].cap ? c : best;
    }
    return best;
}

/* The ticks random faults start in: [*lo, *hi), never empty. */
static void fault_window(const aura_monitor_sim *s, int32_t *lo, int32_t *hi)
{
    *lo = s->o.ticks / 20 + 5;
    *hi = s->o.ticks - 15;
    if (*hi <= *lo) {
        *hi = *lo + 1;
    }
}

/* The prior of a random fault: kind, agent, then a start in [lo, hi) (never,
 * if that is empty), with the kind's duration. */
static void draw_fault(aura_monitor_sim *s, int32_t lo, int32_t hi, sim_fault *f)
{
    f->kind = (uint8_t)aura_rng_below(&s->rng, AURA_MONITOR_FAULT_COUNT);
    f->agent = random_agent(s);
    f->tick = hi > lo ? lo + (int32_t)aura_rng_below(&s->rng, (uint64_t)(hi - lo)) : INT32_MAX / 2;
    f->duration = fault_dur[f->kind];
    f->drawn = 1;
}

static aura_status random_faults(aura_monitor_sim *s, size_t *cap, long count)
{
    int32_t lo, hi;
    fault_window(s, &lo, &hi);
    for (long k = 0; k < count; k++) {
        sim_fault f;
        draw_fault(s, lo, hi, &f);
        aura_status st = push_fault(s, cap, f);
        if (st != AURA_OK) {
            return st;
        }
    }
    return AURA_OK;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) {
        return 0;
    }
    *out = v;
    return 1;
}

static aura_status parse_item(aura_monitor_sim *s, size_t *cap, char *item)
{
    char *fld[5] = {0};
    int nf = 0;
    for (char *p = item; nf < 5;) {
        fld[nf++] = p;
        p = strchr(p, ':');
        if (!p) {
            break;
        }
        *p++ = '\0';
    }
    long v;
    if (nf == 2 && strcmp(fld[0], "random") == 0) {
        if (!parse_long(fld[1], 0, 100000, &v)) {
            aura_log(AURA_LOG_ERROR, "faults: bad count '%s' in random:N", fld[1]);
            return AURA_E_FORMAT;
        }
        return random_faults(s, cap, v);
    }
    if (nf < 3 || nf > 4) {
        aura_log(AURA_LOG_ERROR, "faults: '%s' is not KIND:AGENT:TICK[:DURATION]", fld[0]);
        return AURA_E_FORMAT;
    }
    sim_fault f = {0, 0, 0, AURA_MONITOR_FAULT_COUNT, 0};
    for (int k = 0; k < AURA_MONITOR_FAULT_COUNT; k++) {
        f.kind = strcmp(fld[0], fault_names[k]) == 0 ? (uint8_t)k : f.kind;
    }
    if (f.kind == AURA_MONITOR_FAULT_COUNT) {
        aura_log(AURA_LOG_ERROR, "faults: unknown fault kind '%s'", fld[0]);
        return AURA_E_FORMAT;
    }
    const char *ag = fld[1][0] == 'a' ? fld[1] + 1 : fld[1];
    if (strcmp(fld[1], "*") == 0) {
        f.agent = random_agent(s);
    } else if (parse_long(ag, 0, (long)s->n - 1, &v)) {
        f.agent = (uint32_t)v;
    } else {
        aura_log(AURA_LOG_ERROR, "faults: bad agent '%s' (0..%u, a<i> or *)", fld[1], s->n - 1);
        return AURA_E_FORMAT;
    }
    if (!parse_long(fld[2], 0, INT32_MAX / 2, &v)) {
        aura_log(AURA_LOG_ERROR, "faults: bad tick '%s'", fld[2]);
        return AURA_E_FORMAT;
    }
    f.tick = (int32_t)v;
    f.duration = fault_dur[f.kind];
    if (nf == 4) {
        if (!parse_long(fld[3], 1, INT32_MAX / 2, &v)) {
            aura_log(AURA_LOG_ERROR, "faults: bad duration '%s'", fld[3]);
            return AURA_E_FORMAT;
        }
        f.duration = (int32_t)v;
    }
    return push_fault(s, cap, f);
}

static aura_status parse_faults(aura_monitor_sim *s)
{
    size_t cap = 0;
    const char *spec = s->o.faults;
    if (!spec || !*spec) {
        return random_faults(s, &cap, 2 + (long)s->n / 40);
    }
    if (strcmp(spec, "none") == 0) {
        return AURA_OK;
    }
    char *copy = aura__strdup(s->alloc, spec);
    if (!copy) {
        return AURA_E_NOMEM;
    }
    aura_status st = AURA_OK;
    char *save = NULL;
    for (char *it = strtok_r(copy, ",", &save); it && st == AURA_OK;
         it = strtok_r(NULL, ",", &save)) {
        st = parse_item(s, &cap, it);
    }
    aura__free(s->alloc, copy);
    return st;
}

/* Flapping links pick one edge at the agent (an out-edge if it has one). */
static void place_flaps(aura_monitor_sim *s)
{
    for (size_t k = 0; k < s->n_f; k++) {
        const sim_fault *f = &s->f[k];
        if (f->kind != AURA_MONITOR_FAULT_FLAP) {
            continue;
        }
        size_t pick = SIZE_MAX;
        for (size_t e = 0; e < s->n_e && pick == SIZE_MAX; e++) {
            pick = s->e[e].src == f->agent ? e : pick;
        }
        for (size_t e = 0; e < s->n_e && pick == SIZE_MAX; e++) {
            pick = s->e[e].dst == f->agent ? e : pick;
        }
        if (pick != SIZE_MAX) {
            s->e[pick].flap_from = f->tick;
            s->e[pick].flap_until = f->tick + f->duration;
        }
    }
}

/* ---- set-up ---- */

static int callee_usable(const aura_monitor_sim *s, const sim_edge *e);

/* Nominal demand without noise or faults, then capacity C = D / u. */
static void size_capacities(aura_monitor_sim *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        s->a[i].demand = s->a[i].ingress0;
    }
    for (uint32_t i = s->n; i-- > 0;) {
        sim_agent *a = &s->a[i];
        uint32_t deg = 0;
        for (uint32_t e = a->first_edge; e != NONE; e = s->e[e].next) {
            deg++;
        }
        a->pcall = deg ? 0.8 : 0.0;
        for (uint32_t e = a->first_edge; e != NONE; e = s->e[e].next) {
            s->a[s->e[e].dst].demand += a->demand * a->pcall / deg;
        }
    }
    for (uint32_t i = 0; i < s->n; i++) {
        sim_agent *a = &s->a[i];
        double u = s->o.utilisation * (0.8 + 0.4 * aura_rng_uniform(&s->rng));
        a->cap = a->demand / u;
        a->demand = 0.0;
    }
}

static aura_status init_agents(aura_monitor_sim *s)
{
    uint32_t no = s->n / 20 ? s->n / 20 : 1;
    for (uint32_t i = 0; i < s->n; i++) {
        sim_agent *a = &s->a[i];
        memset(a, 0, sizeof *a);
        a->ingress0 = 20.0 * (0.5 + aura_rng_uniform(&s->rng));
        if (s->o.topology == AURA_MONITOR_TOPO_HIER && i < s->n - no) {
            a->ingress0 *= 0.1; /* workers and tools are mostly called */
        }
        a->lat0 = 20.0 + 40.0 * aura_rng_uniform(&s->rng);
        a->err0 = 0.002 + 0.01 * aura_rng_uniform(&s->rng);
        a->phase = (float)(6.2831853 * aura_rng_uniform(&s->rng));
        a->first_edge = NONE;
        a->prev_succ = a->succ = a->in_time = a->prev_in_time = 1.0;
        a->down_until = a->throttle_until = a->rebalance_until = a->isolated_until = -1;
    }
    aura_status st = build_topology(s);
    if (st == AURA_OK) {
        size_capacities(s);
    }
    return st;
}

aura_status aura_monitor_sim_create(const aura_monitor_sim_opts *opts, aura_monitor_sim **out)
{
    AURA_CHECK_ARG(out);
    aura_monitor_sim_opts o = opts ? *opts : aura_monitor_sim_opts_default();
    if (o.n_agents < 2 || o.n_agents > MAX_AGENTS || o.ticks < 1 || o.ticks > 100000 ||
        (unsigned)o.topology > AURA_MONITOR_TOPO_RANDOM || !(o.utilisation > 0.05) ||
        !(o.utilisation < 0.95) || o.samples_per_edge < 0 || o.samples_per_edge > 64 ||
        !(o.tick_offset_ms >= 0.0) || o.tick_offset_ms >= 1000.0) {
        return AURA_E_INVAL;
    }
    aura_monitor_sim *s = aura__calloc(o.alloc, 1, sizeof *s);
    if (!s) {
        return AURA_E_NOMEM;
    }
    s->alloc = o.alloc;
    s->o = o;
    s->o.faults = NULL; /* not kept: parsed now */
    s->n = o.n_agents;
    aura_rng_init(&s->rng, o.seed);
    aura_rng_init(&s->erng, o.seed ^ 0x5eed5eed5eed5eedULL);
    s->a = aura__calloc(s->alloc, s->n, sizeof *s->a);
    s->bad = aura__calloc(s->alloc, (size_t)o.ticks * s->n, 1);
    aura_status st = (s->a && s->bad) ? init_agents(s) : AURA_E_NOMEM;
    if (st == AURA_OK) {
        s->o.faults = o.faults;
        st = parse_faults(s);
        s->o.faults = NULL;
    }
    if (st != AURA_OK) {
        aura_monitor_sim_destroy(s);
        return st;
    }
    place_flaps(s);
    if ((st = aura__monitor_sim_req_init(&s->req, s->alloc, s->n, o.seed, o.requests,
                                         o.budget)) != AURA_OK) {
        aura_monitor_sim_destroy(s);
        return st;
    }
    *out = s;
    return AURA_OK;
}

void aura_monitor_sim_destroy(aura_monitor_sim *s)
{
    if (!s) {
        return;
    }
    aura__free(s->alloc, s->a);
    aura__free(s->alloc, s->e);
    aura__free(s->alloc, s->f);
    aura__free(s->alloc, s->bad);
    aura__free(s->alloc, s->out.ev);
    aura__monitor_sim_req_free(&s->req, s->alloc);
    aura__free(s->alloc, s);
}

/* ---- rollout copies (the Bayes ceiling, ceiling.c) ---- */

static void *dup_mem(const aura_allocator *al, const void *src, size_t n, size_t size)
{
    void *p = aura__alloc_array(al, n ? n : 1, size);
    if (p && n) {
        memcpy(p, src, n * size);
    }
    return p;
}

aura_status aura__monitor_sim_clone(const aura_monitor_sim *s, aura_monitor_sim **out)
{
    AURA_CHECK_ARG(s && out);
    aura_monitor_sim *c = aura__calloc(s->alloc, 1, sizeof *c);
    if (!c) {
        return AURA_E_NOMEM;
    }
    *c = *s;
    c->a = NULL;
    c->e = NULL;
    c->f = NULL;
    c->bad = NULL;
    memset(&c->out, 0, sizeof c->out);
    memset(&c->req, 0, sizeof c->req); /* a copy asks for no resources */
    c->quiet = 1;
    c->a = dup_mem(s->alloc, s->a, s->n, sizeof *s->a);
    c->e = dup_mem(s->alloc, s->e, s->cap_e, sizeof *s->e);
    c->f = dup_mem(s->alloc, s->f, s->n_f, sizeof *s->f);
    c->bad = dup_mem(s->alloc, s->bad, (size_t)s->o.ticks * s->n, 1);
    if (!c->a || !c->e || !c->f || !c->bad) {
        aura_monitor_sim_destroy(c);
        return AURA_E_NOMEM;
    }
    *out = c;
    return AURA_OK;
}

double aura__monitor_sim_hazard(const aura_monitor_sim *s, uint32_t i)
{
    return i < s->n ? s->a[i].hazard : 0.0;
}

int aura__monitor_sim_bad(const aura_monitor_sim *s, int32_t t, uint32_t i)
{
    return t >= 0 && t < s->t && i < s->n ? s->bad[(size_t)t * s->n + i] : 0;
}

/* Faults drawn by random:N that have not started yet get a fresh draw
 * from the same prior, starting at or after the current tick; faults given
 * explicitly are part of the scenario and stay. */
static void redraw_future_faults(aura_monitor_sim *s)
{
    int32_t lo, hi;
    fault_window(s, &lo, &hi);
    lo = lo > s->t ? lo : s->t;
    for (size_t j = 0; j < s->n_f; j++) {
        if (s->f[j].drawn && s->f[j].tick >= s->t) {
            draw_fault(s, lo, hi, &s->f[j]);
        }
    }
    for (size_t e = 0; e < s->n_e; e++) { /* flapping links not started: placed again */
        if (s->e[e].flap_until > s->e[e].flap_from && s->e[e].flap_from >= s->t) {
            s->e[e].flap_from = s->e[e].flap_until = 0;
        }
    }
    place_flaps(s);
}

aura_status aura__monitor_sim_rollout_copy(const aura_monitor_sim *s, uint64_t seed,
                                           aura_monitor_sim **out)
{
    aura_status st = aura__monitor_sim_clone(s, out);
    if (st == AURA_OK) {
        aura_rng_init(&(*out)->rng, seed);
        redraw_future_faults(*out);
    }
    return st;
}

/* ---- one tick ---- */

static void apply_faults(aura_monitor_sim *s)
{
    int32_t t = s->t;
    for (uint32_t i = 0; i < s->n; i++) {
        sim_agent *a = &s->a[i];
        a->cap_factor = a->ingress_mult = a->lat_mult = 1.0;
        a->err_extra = a->spike = 0.0;
        a->byzantine = 0;
    }
    for (size_t k = 0; k < s->n_f; k++) {
        const sim_fault *f = &s->f[k];
        if (t < f->tick || t >= f->tick + f->duration) {
            continue;
        }
        sim_agent *a = &s->a[f->agent];
        double age = (double)(t - f->tick);
        switch ((aura_monitor_fault_kind)f->kind) {
        case AURA_MONITOR_FAULT_SLOW: {
            double ramp = f->duration > 2 ? f->duration / 2.0 : 1.0;
            double x = age / ramp < 1.0 ? age / ramp : 1.0;
            a->cap_factor *= 1.0 - 0.65 * x;
            a->lat_mult *= 1.0 + x;
            break;
        }
        case AURA_MONITOR_FAULT_LEAK:
            a->leak += 0.022;
            break;
        case AURA_MONITOR_FAULT_ERRORS:
            a->err_extra += 0.6;
            break;
        case AURA_MONITOR_FAULT_OVERLOAD: /* a surge worth 0.9 of capacity, 5-tick ramp */
            a->spike += 0.9 * a->cap * (age < 4.0 ? (age + 1.0) / 5.0 : 1.0);
            break;
        case AURA_MONITOR_FAULT_FLAP:
            break; /* on the edge, see link_down */
        case AURA_MONITOR_FAULT_BYZANTINE:
            a->byzantine = 1;
            break;
        default:
            break;
        }
    }
    for (uint32_t i = 0; i < s->n; i++) {
        sim_agent *a = &s->a[i];
        double lf = 1.0 - a->leak;
        a->cap_factor *= lf > 0.15 ? lf : 0.15;
    }
}

static int link_down(const aura_monitor_sim *s, const sim_edge *e)
{
    return s->t >= e->flap_from && s->t < e->flap_until && ((s->t - e->flap_from) / 2) % 2 == 0;
}

static int is_down(const aura_monitor_sim *s, uint32_t i)
{
    return s->t < s->a[i].down_until;
}

/* A callee the caller's router will send to (not isolated, not drained). */
static int callee_usable(const aura_monitor_sim *s, const sim_edge *e)
{
    return s->t >= s->a[e->dst].isolated_until;
}

static double edge_weight(const aura_monitor_sim *s, const sim_edge *e)
{
    if (!callee_usable(s, e)) {
        return 0.0;
    }
    double w = 1.0;
    if (s->t < e->reroute_until) {
        w *= 0.02;
    }
    if (s->t < s->a[e->dst].rebalance_until) {
        w *= 0.4;
    }
    return w;
}

/* Demand flows from callers (high index) to callees (low index). */
static void flow_demand(aura_monitor_sim *s)
{
    int32_t t = s->t;
    for (uint32_t i = 0; i < s->n; i++) {
        sim_agent *a = &s->a[i];
        double noise = 1.0 + 0.05 * aura_rng_normal(&s->rng);
        double trend = 1.0 + 0.08 * sin(6.2831853 * t / 150.0 + a->phase);
        double in = a->ingress0 * (noise > 0.5 ? noise : 0.5) * trend * a->ingress_mult + a->spike;
        s->total += in;
        double admit = 1.0;
        if (t < a->isolated_until) {
            admit = 0.0;
        } else if (t < a->throttle_until) {
            admit = 0.6;
        }
        s->shed += in * (1.0 - admit);
        a->demand = in * admit;
    }
    for (uint32_t i = s->n; i-- > 0;) {
        sim_agent *a = &s->a[i];
        double wsum = 0.0;
        for (uint32_t k = a->first_edge; k != NONE; k = s->e[k].next) {
            wsum += edge_weight(s, &s->e[k]);
        }
        double out = is_down(s, i) ? 0.0 : a->demand * a->pcall * (a->byzantine ? 2.0 : 1.0);
        for (uint32_t k = a->first_edge; k != NONE; k = s->e[k].next) {
            sim_edge *e = &s->e[k];
            e->share = wsum > 0.0 ? edge_weight(s, e) / wsum : 0.0;
            /* retries multiply load on a struggling callee; once it mostly
             * fails, the caller's circuit breaker opens and only probes */
            const sim_agent *d = &s->a[e->dst];
            double ps = link_down(s, e) ? 0.0 : d->prev_succ;
            double pt = link_down(s, e) ? 0.0 : d->prev_in_time;
            double retry = ps >= 0.25 ? 1.0 + RETRIES * (1.0 - pt) : 0.3;
            e->calls = out * e->share * retry;
            s->a[e->dst].demand += e->calls;
        }
    }
}

/* Queueing at each agent: utilisation, backlog, latency, own success. */
static void queue_agents(aura_monitor_sim *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        sim_agent *a = &s->a[i];
        double c = a->cap * a->cap_factor;
        if (is_down(s, i)) {
            a->rho = 0.0;
            a->lat = TIMEOUT_MS;
            a->ok = a->in_time = 0.0;
            continue;
        }
        a->rho = a->demand / c;
        a->backlog += a->demand - c;
        a->backlog = a->backlog > 0.0 ? a->backlog : 0.0;
        double drop = 0.0, qmax = 3.0 * c;
        if (a->backlog > qmax) {
            drop = (a->backlog - qmax) / (a->demand > 1e-9 ? a->demand : 1e-9);
            drop = drop < 1.0 ? drop : 1.0;
            a->backlog = qmax;
        }
        double rho = a->rho < 0.98 ? a->rho : 0.98;
        a->lat = a->lat0 * a->lat_mult / (1.0 - rho) + 1000.0 * a->backlog / c;
        double in_time = 1.0 - exp(-TIMEOUT_MS / a->lat);
        a->in_time = in_time;
        double err = a->err0 + a->err_extra + (a->byzantine ? 0.45 : 0.0);
        err = err < 1.0 ? err : 1.0;
        a->ok = in_time * (1.0 - err) * (1.0 - drop);
    }
}

/* Success flows back up from callees (low index) to callers. */
static void flow_success(aura_monitor_sim *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        sim_agent *a = &s->a[i];
        double dep = 0.0, used = 0.0;
        for (uint32_t k = a->first_edge; k != NONE; k = s->e[k].next) {
            const sim_edge *e = &s->e[k];
            double sj = link_down(s, e) ? 0.0 : s->a[e->dst].succ;
            dep += e->share * (1.0 - pow(1.0 - sj, RETRIES + 1.0));
            used += e->share;
        }
        double via = a->pcall > 0.0 ? (used > 0.0 ? dep : 0.0) : 1.0;
        a->succ = a->ok * ((1.0 - a->pcall) + a->pcall * via);
    }
}

/* Crash hazard and restarts; the failure-definition flags. */
static void hazards(aura_monitor_sim *s)
{
    int32_t t = s->t;
    for (uint32_t i = 0; i < s->n; i++) {
        sim_agent *a = &s->a[i];
        double c = a->cap * a->cap_factor;
        uint8_t b = 0;
        if (is_down(s, i)) {
            b = 2;
        } else if (a->demand > 1e-6 && a->succ < 0.5) {
            b = 1;
        }
        s->bad[(size_t)t * s->n + i] = b;
        /* two draws per agent per tick whatever happens, so that arms of a
         * closed-loop A/B share their random numbers tick by tick */
        double u = aura_rng_uniform(&s->rng);
        int32_t dur = (int32_t)aura_rng_below(&s->rng, 6);
        if (!is_down(s, i)) {
            uint32_t bad_deps = 0;
            for (uint32_t k = a->first_edge; k != NONE; k = s->e[k].next) {
                bad_deps += s->a[s->e[k].dst].succ < 0.5;
            }
            double q = a->backlog / c;
            double h = 0.00001 + 0.12 * (q > 0.5 ? q - 0.5 : 0.0) + 0.01 * bad_deps +
                       (a->byzantine ? 0.01 : 0.0) + (a->leak > 0.6 ? 0.1 : 0.0);
            a->hazard = h;
            if (u < h) {
                a->down_until = t + 6 + dur;
                a->backlog = 0.0;
                a->leak = 0.0; /* a restart clears a leak */
                a->succ = 0.0;
            }
        } else {
            a->hazard = 0.0;
        }
        a->prev_succ = a->succ;
        a->prev_in_time = is_down(s, i) ? 0.0 : a->in_time;
    }
}

/* ---- events ---- */

static aura_events_event *ev_push(aura_monitor_sim *s)
{
    aura__monitor_evbuf *b = &s->out;
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 4096;
        aura_events_event *q = aura__realloc_array(s->alloc, b->ev, c, sizeof *q);
        if (!q) {
            return NULL;
        }
        b->ev = q;
        b->cap = c;
    }
    aura_events_event *e = &b->ev[b->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static int64_t ts_at(const aura_monitor_sim *s, double ms_in_tick)
{
    double ms = (double)s->t * 1000.0 + ms_in_tick;
    double hi = (double)s->t * 1000.0 + 999.0;
    return (int64_t)llround((ms < hi ? ms : hi) * 1000.0);
}

static aura_status emit_calls(aura_monitor_sim *s, uint32_t i)
{
    for (uint32_t k = s->a[i].first_edge; k != NONE; k = s->e[k].next) {
        const sim_edge *e = &s->e[k];
        if (e->calls <= 0.05) {
            continue;
        }
        const sim_agent *d = &s->a[e->dst];
        long n = lround(e->calls / 5.0 + 0.5);
        n = n < s->o.samples_per_edge ? n : s->o.samples_per_edge;
        int dead = link_down(s, e) || is_down(s, e->dst);
        double in_time = dead ? 0.0 : 1.0 - exp(-TIMEOUT_MS / d->lat);
        for (long j = 0; j < n; j++) {
            double start = 20.0 + 700.0 * aura_rng_uniform(&s->erng);
            double u = aura_rng_uniform(&s->erng);
            aura_events_event *ev = ev_push(s);
            if (!ev) {
                return AURA_E_NOMEM;
            }
            ev->src = i;
            ev->dst = e->dst;
            ev->flags = AURA_EVENTS_F_HAS_LATENCY | AURA_EVENTS_F_HAS_OK;
            ev->ts_us = ts_at(s, start);
            if (dead || u >= in_time) {
                ev->kind = AURA_EVENTS_TIMEOUT;
                ev->latency_ms = (float)TIMEOUT_MS;
            } else {
                /* latency of a call that made it: Exp(L) truncated at T */
                double v = aura_rng_uniform(&s->erng) * in_time;
                double lat = -d->lat * log(1.0 - v);
                ev->kind = AURA_EVENTS_REPLY;
                ev->latency_ms = (float)lat;
                double ok_p = d->ok / (in_time > 1e-9 ? in_time : 1e-9);
                ok_p *= d->succ / (d->ok > 1e-9 ? d->ok : 1e-9);
                if (aura_rng_uniform(&s->erng) < ok_p) {
                    ev->flags |= AURA_EVENTS_F_OK;
                }
            }
        }
    }
    return AURA_OK;
}

static aura_status emit_agent(aura_monitor_sim *s, uint32_t i)
{
    const sim_agent *a = &s->a[i];
    if (is_down(s, i)) {
        return AURA_OK; /* silence */
    }
    aura_events_event *hb = ev_push(s);
    if (!hb) {
        return AURA_E_NOMEM;
    }
    hb->kind = AURA_EVENTS_HEARTBEAT;
    hb->src = i;
    hb->dst = AURA_EVENTS_NO_AGENT;
    hb->ts_us = ts_at(s, 5.0 + 10.0 * aura_rng_uniform(&s->erng));
    aura_events_event *ld = ev_push(s);
    if (!ld) {
        return AURA_E_NOMEM;
    }
    ld->kind = AURA_EVENTS_LOAD;
    ld->src = i;
    ld->dst = AURA_EVENTS_NO_AGENT;
    ld->flags = AURA_EVENTS_F_HAS_LOAD;
    double rep = a->byzantine ? 0.15 + 0.05 * aura_rng_uniform(&s->erng) : a->rho;
    ld->load = (float)(rep < 9.99 ? rep : 9.99);
    ld->ts_us = ts_at(s, 950.0 + 40.0 * aura_rng_uniform(&s->erng));
    for (int k = 0; k < 3; k++) { /* sampled failures of its own requests */
        if (a->demand > 1e-6 && aura_rng_uniform(&s->erng) < 1.0 - a->succ) {
            aura_events_event *er = ev_push(s);
            if (!er) {
                return AURA_E_NOMEM;
            }
            er->kind = AURA_EVENTS_ERROR;
            er->src = i;
            er->dst = AURA_EVENTS_NO_AGENT;
            er->flags = AURA_EVENTS_F_HAS_OK;
            er->ts_us = ts_at(s, 100.0 + 800.0 * aura_rng_uniform(&s->erng));
        }
    }
    return emit_calls(s, i);
}

static int ev_cmp(const void *x, const void *y)
{
    const aura_events_event *a = x, *b = y;
    if (a->ts_us != b->ts_us) {
        return a->ts_us < b->ts_us ? -1 : 1;
    }
    if (a->src != b->src) {
        return a->src < b->src ? -1 : 1;
    }
    if (a->dst != b->dst) {
        return a->dst < b->dst ? -1 : 1;
    }
    return (int)a->kind - (int)b->kind;
}

aura_status aura_monitor_sim_step(aura_monitor_sim *s, const aura_events_event **ev,
                                  size_t *n_ev)
{
    AURA_CHECK_ARG(s && ev && n_ev);
    if (s->t >= s->o.ticks) {
        return AURA_E_STATE;
    }
    apply_faults(s);
    flow_demand(s);
    queue_agents(s);
    flow_success(s);
    s->out.n = 0;
    aura_status st = AURA_OK;
    for (uint32_t i = 0; i < s->n && st == AURA_OK && !s->quiet; i++) {
        st = emit_agent(s, i);
    }
    if (st == AURA_OK && s->req.rate > 0.0 && !s->quiet) {
        st = emit_requests(s);
    }
    hazards(s);
    if (st != AURA_OK) {
        return st;
    }
    if (s->out.n > 1) {
        qsort(s->out.ev, s->out.n, sizeof *s->out.ev, ev_cmp);
    }
    if (s->o.tick_offset_ms > 0.0) {
        for (size_t k = 0; k < s->out.n; k++) {
            int64_t base = (int64_t)s->t * 1000000;
            int64_t in = s->out.ev[k].ts_us - base;
            in = (int64_t)((double)in * (1000.0 - s->o.tick_offset_ms) / 1000.0);
            s->out.ev[k].ts_us = base + (int64_t)(s->o.tick_offset_ms * 1000.0) + in;
        }
    }
    s->t++;
    *ev = s->out.ev;
    *n_ev = s->out.n;
    return AURA_OK;
}

/* ---- resource requests (admission) ----
 *
 * An agent that runs hot asks for capacity: each tick a live agent with no
 * request pending asks with probability rate * (0.003 + 0.25 max(0, rho -
 * 0.85)) (a Byzantine one 0.03 more: it asks for what it does not need), for
 * 1 unit (2 w.p. 0.3).  The request goes out as a `custom` event.  The
 * answer comes through aura_monitor_sim_apply: approve adds 20 % of the
 * nominal capacity per unit while the budget lasts; deny drops the request
 * (the agent may ask again after 10 ticks); defer makes it ask again 3 ticks
 * later.  A request nobody answered by the next step is dropped.  Draws come
 * from their own stream, two per agent per tick. */

#define REQ_UNIT 0.2
#define REQ_RETRY 3
#define REQ_COOLDOWN 10

aura_status aura__monitor_sim_req_init(aura__monitor_sim_req *q, const aura_allocator *al,
                                       uint32_t n, uint64_t seed, double rate, double budget)
{
    memset(q, 0, sizeof *q);
    if (!(rate >= 0.0) || !isfinite(rate) || !(budget >= 0.0) || !isfinite(budget)) {
        return AURA_E_INVAL;
    }
    q->rate = rate;
    if (rate <= 0.0) {
        return AURA_OK;
    }
    q->left = budget > 0.0 ? budget : (double)n / 20.0;
    aura_rng_init(&q->rng, seed ^ 0x7265717565737473ULL);
    q->pend = aura__calloc(al, n, sizeof *q->pend);
    q->cap0 = aura__calloc(al, n, sizeof *q->cap0);
    if (!q->pend || !q->cap0) {
        aura__monitor_sim_req_free(q, al);
        return AURA_E_NOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        q->pend[i].state = 0;
        q->pend[i].next_ask = 0;
    }
    return AURA_OK;
}

void aura__monitor_sim_req_free(aura__monitor_sim_req *q, const aura_allocator *al)
{
    aura__free(al, q->pend);
    aura__free(al, q->cap0);
    aura__free(al, q->out);
    memset(q, 0, sizeof *q);
}

static aura_monitor_request *req_push(aura_monitor_sim *s)
{
    aura__monitor_sim_req *q = &s->req;
    if (q->n_out == q->cap_out) {
        size_t c = q->cap_out ? q->cap_out * 2 : 64;
        aura_monitor_request *r = aura__realloc_array(s->alloc, q->out, c, sizeof *r);
        if (!r) {
            return NULL;
        }
        q->out = r;
        q->cap_out = c;
    }
    aura_monitor_request *r = &q->out[q->n_out++];
    memset(r, 0, sizeof *r);
    return r;
}

static aura_status emit_requests(aura_monitor_sim *s)
{
    aura__monitor_sim_req *q = &s->req;
    int32_t t = s->t;
    q->n_out = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        sim_agent *a = &s->a[i];
        aura__monitor_sim_pending *p = &q->pend[i];
        if (q->cap0[i] == 0.0) {
            q->cap0[i] = a->cap;
        }
        double u = aura_rng_uniform(&q->rng), v = aura_rng_uniform(&q->rng);
        if (p->state == 1) { /* asked last step, nobody answered */
            p->state = 0;
            q->unanswered++;
        }
        int ask = 0;
        if (p->state == 2 && p->retry_at <= t) {
            ask = 1; /* deferred: asks again */
        } else if (p->state == 0 && t >= p->next_ask && !is_down(s, i)) {
            double hot = a->rho - 0.85 > 0.0 ? a->rho - 0.85 : 0.0;
            double pr = q->rate * (0.003 + 0.25 * (hot < 1.0 ? hot : 1.0) +
                                   (a->byzantine ? 0.03 : 0.0));
            if (u < pr) {
                ask = 1;
                p->amount = v < 0.3 ? 2.0f : 1.0f;
                p->id = ++q->next_id;
                p->attempt = 0;
            }
        }
        if (!ask || is_down(s, i)) {
            if (ask) {
                p->state = 0; /* went down while waiting */
            }
            continue;
        }
        aura_monitor_request *r = req_push(s);
        aura_events_event *ev = r ? ev_push(s) : NULL;
        if (!ev) {
            return AURA_E_NOMEM;
        }
        r->tick = t;
        r->agent = i;
        r->id = p->id;
        r->amount = p->amount;
        r->attempt = p->attempt;
        memcpy(r->resource, "gpu", 4);
        ev->kind = AURA_EVENTS_CUSTOM;
        ev->src = i;
        ev->dst = AURA_EVENTS_NO_AGENT;
        ev->flags = AURA_EVENTS_F_HAS_META;
        ev->meta = (uint32_t)(q->n_out - 1);
        ev->ts_us = ts_at(s, 500.0 + 400.0 * v);
        p->state = 1;
        q->asked++;
    }
    return AURA_OK;
}

static void answer_request(aura_monitor_sim *s, const aura_monitor_decision *d)
{
    aura__monitor_sim_req *q = &s->req;
    if (q->rate <= 0.0 || q->pend[d->agent].state != 1) {
        return; /* no request of this agent is waiting for an answer */
    }
    aura__monitor_sim_pending *p = &q->pend[d->agent];
    p->state = 0;
    p->next_ask = s->t + REQ_COOLDOWN;
    if (d->action == AURA_MONITOR_APPROVE && q->left >= p->amount) {
        s->a[d->agent].cap += REQ_UNIT * p->amount * q->cap0[d->agent];
        q->left -= p->amount;
        q->granted += p->amount;
        q->approved++;
    } else if (d->action == AURA_MONITOR_DEFER) {
        p->state = 2;
        p->retry_at = s->t + REQ_RETRY;
        p->attempt = (uint8_t)(p->attempt < 250 ? p->attempt + 1 : 250);
        q->deferred++;
    } else {
        q->denied++; /* a deny, or an approval beyond the budget */
    }
}

aura_status aura_monitor_sim_requests(const aura_monitor_sim *s, const aura_monitor_request **r,
                                      size_t *n)
{
    AURA_CHECK_ARG(s && r && n);
    *r = s->req.out;
    *n = s->req.n_out;
    return AURA_OK;
}

void aura_monitor_sim_budget_get(const aura_monitor_sim *s, aura_monitor_sim_budget *b)
{
    if (!s || !b) {
        return;
    }
    const aura__monitor_sim_req *q = &s->req;
    *b = (aura_monitor_sim_budget){q->left,     q->granted,  q->asked,     q->approved,
                                   q->denied,   q->deferred, q->unanswered};
}

/* ---- closed loop ---- */

static aura_status add_link(aura_monitor_sim *s, uint32_t ap, uint32_t target)
{
    /* a caller of `ap` gets `target` as an extra provider (DAG kept) */
    for (size_t k = 0; k < s->n_e; k++) {
        uint32_t c = s->e[k].src;
        if (s->e[k].dst != ap || c <= target || c == target) {
            continue;
        }
        int have = 0;
        for (uint32_t j = s->a[c].first_edge; j != NONE; j = s->e[j].next) {
            have |= s->e[j].dst == target;
        }
        if (!have) {
            return add_edge(s, c, target);
        }
    }
    return AURA_OK;
}

aura_status aura_monitor_sim_apply(aura_monitor_sim *s, const aura_monitor_decision *d)
{
    AURA_CHECK_ARG(s && d);
    if (d->action >= AURA_MONITOR_ACTION_COUNT) {
        return AURA_E_INVAL;
    }
    if (d->agent >= s->n) {
        return AURA_OK;
    }
    sim_agent *a = &s->a[d->agent];
    int32_t t = s->t;
    switch ((aura_monitor_action)d->action) {
    case AURA_MONITOR_THROTTLE:
        a->throttle_until = t + 12;
        break;
    case AURA_MONITOR_REBALANCE:
        a->rebalance_until = t + 12;
        break;
    case AURA_MONITOR_REROUTE:
        for (uint32_t k = a->first_edge; k != NONE; k = s->e[k].next) {
            if (s->e[k].dst == d->target) {
                s->e[k].reroute_until = t + 15;
            }
        }
        break;
    case AURA_MONITOR_ISOLATE:
        a->isolated_until = t + 10;
        a->backlog = 0.0;
        a->leak = 0.0; /* isolated and restarted */
        break;
    case AURA_MONITOR_ADD_LINK:
        if (d->target < s->n) {
            return add_link(s, d->agent, d->target);
        }
        break;
    case AURA_MONITOR_APPROVE:
    case AURA_MONITOR_DENY:
    case AURA_MONITOR_DEFER:
        answer_request(s, d);
        break;
    default:
        break;
    }
    return AURA_OK;
}

/* ---- accessors ---- */

uint32_t aura_monitor_sim_n_agents(const aura_monitor_sim *s)
{
    return s ? s->n : 0;
}

int32_t aura_monitor_sim_ticks_done(const aura_monitor_sim *s)
{
    return s ? s->t : 0;
}

void aura_monitor_sim_shed(const aura_monitor_sim *s, double *shed, double *total)
{
    if (shed) {
        *shed = s ? s->shed : 0.0;
    }
    if (total) {
        *total = s ? s->total : 0.0;
    }
}

aura_status aura_monitor_sim_edges(const aura_monitor_sim *s, uint32_t *pairs_out, size_t cap,
                                   size_t *n_out)
{
    AURA_CHECK_ARG(s && n_out);
    if (pairs_out && cap < s->n_e) {
        *n_out = s->n_e;
        return AURA_E_RANGE;
    }
    for (size_t k = 0; pairs_out && k < s->n_e; k++) {
        pairs_out[2 * k] = s->e[k].src;
        pairs_out[2 * k + 1] = s->e[k].dst;
    }
    *n_out = s->n_e;
    return AURA_OK;
}

aura_status aura_monitor_sim_labels(const aura_monitor_sim *s, aura_monitor_label *out, size_t cap,
                                    size_t *n_out)
{
    AURA_CHECK_ARG(s && n_out);
    size_t nl = 0;
    aura_status st = aura_monitor_labels_compute(s->bad, s->t, s->n, NULL, 0, &nl);
    if (st != AURA_OK) {
        return st;
    }
    size_t nf = 0;
    for (size_t k = 0; k < s->n_f; k++) {
        nf += s->f[k].tick < s->t;
    }
    size_t total = nl + nf;
    if (!out) {
        *n_out = total;
        return AURA_OK;
    }
    if (cap < total) {
        *n_out = total;
        return AURA_E_RANGE;
    }
    st = aura_monitor_labels_compute(s->bad, s->t, s->n, out, cap, &nl);
    if (st != AURA_OK) {
        return st;
    }
    size_t k = nl;
    for (size_t j = 0; j < s->n_f; j++) {
        if (s->f[j].tick < s->t) {
            out[k++] = (aura_monitor_label){s->f[j].tick, s->f[j].agent, AURA_MONITOR_LABEL_FAULT,
                                            s->f[j].kind};
        }
    }
    /* merge faults into the sorted fail/recover labels */
    for (size_t j = nl; j < total; j++) {
        aura_monitor_label x = out[j];
        size_t p = j;
        while (p > 0 && (out[p - 1].tick > x.tick ||
                         (out[p - 1].tick == x.tick && out[p - 1].agent > x.agent) ||
                         (out[p - 1].tick == x.tick && out[p - 1].agent == x.agent &&
                          out[p - 1].event > x.event))) {
            out[p] = out[p - 1];
            p--;
        }
        out[p] = x;
    }
    *n_out = total;
    return AURA_OK;
}
