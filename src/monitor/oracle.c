/* oracle.c -- a planning oracle on top of the rule monitor
 * (aura_monitor_oracle_run, include/aura/monitor_risk.h): a yardstick for
 * how many failures the action set could prevent with the simulator's
 * state known.  It plans on copies of the simulator (random numbers of
 * their own, faults not started yet drawn again), so it is not a policy a
 * monitor could run; it is what one would aim for.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/core_int.h"
#include "monitor/monitor_int.h"
#include "monitor/risk_int.h"

#define SHED_PRICE 0.2 /* bad agent-ticks per request shed */

typedef struct oracle {
    aura_monitor_oracle_opts o;
    int32_t ticks;
    uint32_t n;
    uint32_t *pairs; /* (caller, callee) of the simulator at the start */
    size_t n_pairs;
    uint32_t *cand;
} oracle;

aura_monitor_oracle_opts aura_monitor_oracle_opts_default(void)
{
    return (aura_monitor_oracle_opts){
        .copies = 4, .lookahead = 10, .candidates = 16, .min_risk = 0.1, .max_actions = 8, .seed = 1};
}

/* Bad agent-ticks (and shed ingress) over the lookahead of one copy with
 * the actions d applied; *st set on failure. */
static double rollout(const oracle *or, const aura_monitor_sim *sim, const aura_monitor_decision *d,
                      int nd, int copy, int64_t tick, aura_status *st)
{
    aura_monitor_sim *c = NULL;
    uint64_t seed = or->o.seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)tick << 16 | (uint64_t)copy);
    if ((*st = aura__monitor_sim_rollout_copy(sim, seed, &c)) != AURA_OK) {
        return 0.0;
    }
    for (int k = 0; k < nd && *st == AURA_OK; k++) {
        *st = aura_monitor_sim_apply(c, &d[k]);
    }
    double shed0, shed1, total;
    aura_monitor_sim_shed(c, &shed0, &total);
    int32_t t0 = aura_monitor_sim_ticks_done(c), t1 = t0;
    for (int r = 0; *st == AURA_OK && r < or->o.lookahead && t1 < or->ticks; r++, t1++) {
        const aura_events_event *ev;
        size_t ne;
        *st = aura_monitor_sim_step(c, &ev, &ne);
    }
    double cost = 0.0;
    for (int32_t t = t0; t < t1; t++) {
        for (uint32_t i = 0; i < or->n; i++) {
            cost += aura__monitor_sim_bad(c, t, i) != 0;
        }
    }
    aura_monitor_sim_shed(c, &shed1, &total);
    aura_monitor_sim_destroy(c);
    return cost + SHED_PRICE * (shed1 - shed0);
}

static double mean_cost(const oracle *or, const aura_monitor_sim *sim,
                        const aura_monitor_decision *d, int nd, int64_t tick, aura_status *st)
{
    double s = 0.0;
    for (int k = 0; k < or->o.copies && *st == AURA_OK; k++) {
        s += rollout(or, sim, d, nd, k, tick, st);
    }
    return s / or->o.copies;
}

/* The riskiest agents (rule risk >= min_risk), at most o.candidates,
 * riskiest first (ties: lower id first). */
static int pick_candidates(oracle *or, const aura_monitor *mon)
{
    const float *risk;
    const uint8_t *seen;
    uint32_t n;
    aura_monitor_risk(mon, &risk, &seen, &n);
    int nc = 0, cap = or->o.candidates;
    for (uint32_t i = 0; i < n && i < or->n; i++) {
        int pos;
        if (!seen[i] || risk[i] < or->o.min_risk) {
            continue;
        }
        if (nc < cap) {
            pos = nc++;
        } else if (risk[i] > risk[or->cand[cap - 1]]) {
            pos = cap - 1;
        } else {
            continue;
        }
        while (pos > 0 && risk[or->cand[pos - 1]] < risk[i]) {
            or->cand[pos] = or->cand[pos - 1];
            pos--;
        }
        or->cand[pos] = i;
    }
    return nc;
}

static aura_status plan(void *ctx, int64_t tick, aura_monitor *mon, aura_monitor_sim *sim,
                        uint32_t *interventions)
{
    oracle *or = ctx;
    aura_status st = AURA_OK;
    int nc = pick_candidates(or, mon);
    if (nc == 0) {
        return AURA_OK;
    }
    double base = mean_cost(or, sim, NULL, 0, tick, &st);
    enum { MAXA = 64 };
    aura_monitor_decision chosen[MAXA];
    double gain[MAXA];
    int nch = 0, lim = or->o.max_actions < MAXA ? or->o.max_actions : MAXA;
    for (int c = 0; c < nc && st == AURA_OK; c++) {
        aura_monitor_decision x, best;
        memset(&x, 0, sizeof x);
        x.agent = or->cand[c];
        x.tick = tick;
        snprintf(x.reason, sizeof x.reason, "oracle: spares the most failures in copies");
        double best_gain = 0.5; /* at least half a bad agent-tick */
        int have = 0;
        static const aura_monitor_action acts[] = {AURA_MONITOR_THROTTLE, AURA_MONITOR_REBALANCE,
                                                   AURA_MONITOR_ISOLATE, AURA_MONITOR_REROUTE};
        for (int a = 0; a < 4 && st == AURA_OK; a++) {
            x.action = acts[a];
            for (size_t e = 0; e < (a == 3 ? or->n_pairs : 1) && st == AURA_OK; e++) {
                if (a == 3 && or->pairs[2 * e] != x.agent) {
                    continue;
                }
                x.target = a == 3 ? or->pairs[2 * e + 1] : AURA_EVENTS_NO_AGENT;
                double g = base - mean_cost(or, sim, &x, 1, tick, &st);
                if (g > best_gain) {
                    best_gain = g;
                    best = x;
                    have = 1;
                }
            }
        }
        if (!have) {
            continue;
        }
        if (nch < lim) {
            chosen[nch] = best;
            gain[nch++] = best_gain;
        } else if (lim > 0) {
            int w = 0;
            for (int k = 1; k < nch; k++) {
                w = gain[k] < gain[w] ? k : w;
            }
            if (best_gain > gain[w]) {
                chosen[w] = best;
                gain[w] = best_gain;
            }
        }
    }
    for (int k = 0; k < nch && st == AURA_OK; k++) {
        st = aura_monitor_sim_apply(sim, &chosen[k]);
        *interventions += st == AURA_OK;
    }
    return st;
}

aura_status aura_monitor_oracle_run(const aura_monitor_sim_opts *so,
                                    const aura_monitor_oracle_opts *opts,
                                    aura_monitor_risk_run *out)
{
    AURA_CHECK_ARG(so && out);
    oracle or = {.o = opts ? *opts : aura_monitor_oracle_opts_default()};
    if (or.o.copies < 1 || or.o.copies > 1000 || or.o.lookahead < 1 || or.o.lookahead > 1000 ||
        or.o.candidates < 1 || or.o.candidates > 100000 || !(or.o.min_risk >= 0.0) ||
        or.o.min_risk > 1.0 || or.o.max_actions < 0 || or.o.max_actions > 64) {
        return AURA_E_INVAL;
    }
    /* the simulator's dependency pairs, for the reroute candidates */
    aura_monitor_sim *sim = NULL;
    aura_status st = aura_monitor_sim_create(so, &sim);
    if (st == AURA_OK) {
        st = aura_monitor_sim_edges(sim, NULL, 0, &or.n_pairs);
    }
    if (st == AURA_OK) {
        or.pairs = aura__alloc_array(NULL, 2 * or.n_pairs + 2, sizeof(uint32_t));
        or.cand = aura__alloc_array(NULL, (size_t)or.o.candidates, sizeof(uint32_t));
        st = or.pairs && or.cand ? aura_monitor_sim_edges(sim, or.pairs, or.n_pairs, &or.n_pairs)
                                 : AURA_E_NOMEM;
    }
    aura_monitor_sim_destroy(sim);
    if (st == AURA_OK) {
        or.ticks = so->ticks;
        or.n = so->n_agents;
        aura_monitor_opts mo = aura_monitor_opts_default();
        st = aura__monitor_risk_run_planned(so, NULL, &mo, plan, &or, NULL, out);
    }
    aura__free(NULL, or.pairs);
    aura__free(NULL, or.cand);
    return st;
}
