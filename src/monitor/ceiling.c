/* ceiling.c -- the Bayes ceiling of per-agent failure prediction on a
 * simulated run (aura_monitor_sim_ceiling, include/aura/monitor.h).
 *
 * After each tick of the open-loop run, copies of the simulator (its whole
 * hidden state) are run on with random numbers of their own and the faults
 * not started yet drawn again from their prior; the share of copies in
 * which an agent fails within H ticks estimates P(fail within H | the
 * state).  Ranking by it is what the best possible monitor could do: it
 * sees more than the events show, and knows the dynamics exactly.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/core_int.h"
#include "monitor/monitor_int.h"

aura_monitor_ceiling_opts aura_monitor_ceiling_opts_default(void)
{
    return (aura_monitor_ceiling_opts){.rollouts = 32, .horizon = 10, .seed = 1, .smooth = 1};
}

/* Adds each agent's score in copy c (whose last tick run is `last`) to
 * hits[i]: 1 if it fails in (t, t + H]; otherwise, when smoothing, the
 * chance that it would have crashed given the hazards it ran under in the
 * copy, 1 - surv[i]. */
static void count_failures(const aura_monitor_sim *c, int32_t t, int32_t last, int H, uint32_t n,
                           const double *surv, double *hits)
{
    for (uint32_t i = 0; i < n; i++) {
        int f = 0;
        for (int32_t u = t + 1; u <= t + H && u <= last && !f; u++) {
            int b = aura__monitor_sim_bad(c, u, i);
            f = b == 2 || (b && u + 1 <= last && aura__monitor_sim_bad(c, u + 1, i));
        }
        hits[i] += f ? 1.0 : (surv ? 1.0 - surv[i] : 0.0);
    }
}

aura_status aura_monitor_sim_ceiling(const aura_monitor_sim_opts *so,
                                     const aura_monitor_ceiling_opts *opts, float *p_out)
{
    AURA_CHECK_ARG(so && p_out);
    aura_monitor_ceiling_opts o = opts ? *opts : aura_monitor_ceiling_opts_default();
    if (o.rollouts < 1 || o.rollouts > 100000 || o.horizon < 1 || o.horizon > 1000) {
        return AURA_E_INVAL;
    }
    aura_monitor_sim *sim = NULL;
    aura_status st = aura_monitor_sim_create(so, &sim);
    if (st != AURA_OK) {
        return st;
    }
    uint32_t n = so->n_agents;
    int32_t T = so->ticks;
    float *p = aura__alloc_array(so->alloc, (size_t)T * n, sizeof(float));
    double *hits = aura__alloc_array(so->alloc, n, sizeof(double));
    double *surv = o.smooth ? aura__alloc_array(so->alloc, n, sizeof(double)) : NULL;
    st = p && hits && (surv || !o.smooth) ? AURA_OK : AURA_E_NOMEM;
    for (int32_t t = 0; st == AURA_OK && t < T; t++) {
        const aura_events_event *ev;
        size_t ne;
        st = aura_monitor_sim_step(sim, &ev, &ne);
        memset(hits, 0, (size_t)n * sizeof *hits);
        int32_t last = t + o.horizon + 1 < T - 1 ? t + o.horizon + 1 : T - 1;
        for (int k = 0; st == AURA_OK && k < o.rollouts; k++) {
            aura_monitor_sim *c = NULL;
            st = aura__monitor_sim_rollout_copy(
                sim, o.seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)t << 20 | (uint64_t)k), &c);
            if (st != AURA_OK) {
                break;
            }
            for (uint32_t i = 0; surv && i < n; i++) {
                surv[i] = 1.0;
            }
            for (int32_t u = t + 1; st == AURA_OK && u <= last; u++) {
                st = aura_monitor_sim_step(c, &ev, &ne);
                /* a crash drawn at tick u shows from u + 1 */
                for (uint32_t i = 0; surv && st == AURA_OK && u < t + o.horizon && i < n; i++) {
                    surv[i] *= 1.0 - aura__monitor_sim_hazard(c, i);
                }
            }
            if (st == AURA_OK) {
                count_failures(c, t, last, o.horizon, n, surv, hits);
            }
            aura_monitor_sim_destroy(c);
        }
        for (uint32_t i = 0; st == AURA_OK && i < n; i++) {
            p[(size_t)t * n + i] = (float)(hits[i] / o.rollouts);
        }
    }
    if (st == AURA_OK) {
        memcpy(p_out, p, (size_t)T * n * sizeof(float));
    }
    aura__free(so->alloc, p);
    aura__free(so->alloc, hits);
    aura__free(so->alloc, surv);
    aura_monitor_sim_destroy(sim);
    return st;
}
