/* bench_monitor_risk.c -- cost of the risk stage per tick: the rule
 * baseline vs the CfC risk model (models/risk_cfc.safetensors, or argv[1]),
 * on simulated streams of 100, 1,000 and 10,000 agents (100 ticks).
 * Usage: bench_monitor_risk [MODEL] [TICKS]
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/monitor_risk.h"

static double risk_ms(aura_monitor_risk_cfc *cfc, const aura_events_event *all, size_t total,
                      double *tick_ms)
{
    aura_monitor *m = NULL;
    aura_monitor_opts mo = aura_monitor_opts_default();
    aura_monitor_model mm = aura_monitor_risk_cfc_model(cfc);
    mo.model = cfc ? &mm : NULL;
    if (aura_monitor_create(&mo, &m) != AURA_OK) {
        return -1.0;
    }
    aura_monitor_risk_cfc_reset(cfc);
    aura_monitor_risk_cfc_attach(cfc, m);
    size_t off = 0;
    while (off < total) {
        size_t used;
        if (aura_monitor_ingest(m, all + off, total - off, &used) != AURA_OK ||
            aura_monitor_tick_close(m) != AURA_OK) {
            aura_monitor_destroy(m);
            return -1.0;
        }
        off += used;
    }
    aura_monitor_stats st;
    aura_monitor_get_stats(m, &st);
    double nt = st.ticks > 0 ? (double)st.ticks : 1.0;
    *tick_ms =
        (st.stage_ms[0] + st.stage_ms[1] + st.stage_ms[2] + st.stage_ms[3] + st.stage_ms[4] +
         st.stage_ms[5]) / nt;
    aura_monitor_risk_cfc_attach(cfc, NULL);
    aura_monitor_destroy(m);
    return st.stage_ms[3] / nt;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "models/risk_cfc.safetensors";
    int ticks = argc > 2 ? atoi(argv[2]) : 100;
    char err[256] = "";
    aura_monitor_risk_cfc *cfc = NULL;
    if (aura_monitor_risk_cfc_load(NULL, path, &cfc, err, sizeof err) != AURA_OK) {
        fprintf(stderr, "bench_monitor_risk: %s\n", err);
        return 1;
    }
    printf("%8s %16s %16s %18s %18s\n", "agents", "rules risk ms", "cfc risk ms",
           "rules full tick ms", "cfc full tick ms");
    const uint32_t sizes[3] = {100, 1000, 10000};
    for (int s = 0; s < 3; s++) {
        aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
        so.n_agents = sizes[s];
        so.ticks = ticks;
        aura_monitor_sim *sim;
        if (aura_monitor_sim_create(&so, &sim) != AURA_OK) {
            return 1;
        }
        size_t cap = 1 << 16, total = 0, k;
        aura_events_event *all = malloc(cap * sizeof *all);
        const aura_events_event *ev;
        while (all && aura_monitor_sim_step(sim, &ev, &k) == AURA_OK) {
            if (total + k > cap) {
                cap = 2 * (total + k);
                aura_events_event *g = realloc(all, cap * sizeof *all);
                if (!g) {
                    free(all);
                    return 1;
                }
                all = g;
            }
            memcpy(all + total, ev, k * sizeof *ev);
            total += k;
        }
        double tr = 0, tc = 0;
        double rr = risk_ms(NULL, all, total, &tr), rc = risk_ms(cfc, all, total, &tc);
        printf("%8u %16.3f %16.3f %18.3f %18.3f\n", sizes[s], rr, rc, tr, tc);
        aura_monitor_sim_destroy(sim);
        free(all);
    }
    aura_monitor_risk_cfc_destroy(cfc);
    return 0;
}
