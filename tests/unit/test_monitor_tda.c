/* test_monitor_tda.c -- the monitor's topological features: hand-computed
 * barcodes of small graphs and point clouds through the feature code, and
 * the monitor filling them every tick of a simulated run.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "aura/monitor.h"
#include "monitor/monitor_int.h"
#include "test.h"

#define NA AURA_MONITOR_AGENT_FEATURES

/* CSR of a cycle on n vertices with error rate err[k] on edge (k, k+1). */
typedef struct cyc {
    uint32_t off[9], adj[16], pairs[16];
    float w[16], perr[8], feat[8 * NA];
    uint8_t seen[8];
} cyc;

static void make_cycle(cyc *c, uint32_t n, const float *err)
{
    memset(c, 0, sizeof *c);
    for (uint32_t v = 0; v < n; v++) {
        c->off[v + 1] = 2 * (v + 1);
        c->seen[v] = 1;
    }
    for (uint32_t v = 0; v < n; v++) {
        uint32_t prev = (v + n - 1) % n, next = (v + 1) % n;
        c->adj[2 * v] = prev;
        c->adj[2 * v + 1] = next;
        c->w[2 * v] = 1.0f + 4.0f * err[prev];
        c->w[2 * v + 1] = 1.0f + 4.0f * err[v];
        uint32_t a = v < next ? v : next, b = v < next ? next : v;
        c->pairs[2 * v] = a;
        c->pairs[2 * v + 1] = b;
        c->perr[v] = err[v];
    }
}

static aura__monitor_tda_graph view(const cyc *c, uint32_t n)
{
    return (aura__monitor_tda_graph){.n = n,
                                     .seen = c->seen,
                                     .off = c->off,
                                     .adj = c->adj,
                                     .w = c->w,
                                     .pairs = c->pairs,
                                     .pair_err = c->perr,
                                     .n_pairs = n,
                                     .feat = c->feat,
                                     .stride = NA,
                                     .state_idx = {0, 3, 5, 7, 8},
                                     .state_scale = {1, 1, 0.25f, 1, 1}};
}

AURA_TEST(monitor_tda_cycle_barcodes_by_hand)
{
    const float healthy[6] = {0, 0, 0, 0, 0, 0};
    cyc c;
    make_cycle(&c, 6, healthy);
    aura__monitor_tda t = {0};
    float f[AURA__MONITOR_TDA_FEATURES];
    aura__monitor_tda_graph g = view(&c, 6);
    ASSERT_OK(aura__monitor_tda_compute(&t, &g, f));
    /* health flag filtration: one component, the hexagon is a cycle (no
     * triangles) born at 0 that never dies */
    ASSERT_NEAR(f[0], 1.0, 1e-6);
    ASSERT_NEAR(f[1], 0.0, 1e-6);
    ASSERT_NEAR(f[2], 1.0, 1e-6);
    /* hop metric of C6: five H0 bars [0, 1), one H1 bar [1, 2) */
    ASSERT_NEAR(f[3], 5.0, 1e-5);
    ASSERT_NEAR(f[4], log(5.0), 1e-5); /* entropy of five equal bars */
    ASSERT_NEAR(f[5], 1.0, 1e-6);
    ASSERT_NEAR(f[6], 1.0, 1e-5);
    ASSERT_TRUE(f[7] > 0.4f && f[7] <= 0.5f); /* landscape peak 0.5, sampled */
    /* all agents in the same state: no persistence in the state cloud */
    ASSERT_NEAR(f[8], 0.0, 1e-6);
    ASSERT_NEAR(f[10], 0.0, 1e-6);
    ASSERT_NEAR(f[13], 0.0, 1e-6); /* no previous tick: no change */

    /* two failing links cut the hexagon in two pieces; the path lengths
     * grow, and one agent's state moves away from the others */
    const float cut[6] = {1, 0, 0, 1, 0, 0};
    make_cycle(&c, 6, cut);
    c.feat[2 * NA + 0] = 1.5f; /* agent 2 loaded */
    c.feat[2 * NA + 3] = 0.8f; /* and failing */
    g = view(&c, 6);
    ASSERT_OK(aura__monitor_tda_compute(&t, &g, f));
    ASSERT_NEAR(f[0], 2.0, 1e-6);
    ASSERT_NEAR(f[1], 1.0, 1e-6); /* the two pieces merge when err 1 enters */
    ASSERT_TRUE(f[3] > 5.0f);
    ASSERT_NEAR(f[8], sqrt(1.5 * 1.5 + 0.8 * 0.8), 1e-4); /* one bar: its distance */
    ASSERT_NEAR(f[13], f[3] - 5.0, 1e-4);                 /* change since the last tick */
    ASSERT_NEAR(f[14], f[8], 1e-5);
    aura__monitor_tda_free(&t);
}

AURA_TEST(monitor_tda_features_every_tick_of_a_run)
{
    aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
    so.n_agents = 120;
    so.ticks = 40;
    so.seed = 7;
    so.faults = "random:6";
    aura_monitor_sim *sim;
    ASSERT_OK(aura_monitor_sim_create(&so, &sim));
    aura_monitor_opts mo = aura_monitor_opts_default();
    mo.act = 0;
    aura_monitor *m;
    ASSERT_OK(aura_monitor_create(&mo, &m));
    for (size_t k = 0; k < AURA_MONITOR_SYSTEM_FEATURES; k++) {
        ASSERT_TRUE(aura_monitor_system_feature_name(k) != NULL);
    }
    for (size_t k = 0; k < AURA_MONITOR_AGENT_FEATURES; k++) {
        ASSERT_TRUE(aura_monitor_agent_feature_name(k) != NULL);
    }
    ASSERT_TRUE(aura_monitor_system_feature_name(AURA_MONITOR_SYSTEM_FEATURES) == NULL);
    const aura_events_event *ev;
    size_t n_ev;
    int ticks = 0, nonzero_path = 0;
    while (aura_monitor_sim_step(sim, &ev, &n_ev) == AURA_OK) {
        size_t off = 0;
        while (off < n_ev) {
            size_t used;
            ASSERT_OK(aura_monitor_ingest(m, ev + off, n_ev - off, &used));
            off += used;
            if (off < n_ev) {
                ASSERT_OK(aura_monitor_tick_close(m));
                ticks++;
            }
        }
        const float *af, *sf;
        uint32_t na;
        if (ticks > 0) {
            ASSERT_OK(aura_monitor_features(m, &af, &sf, &na));
            for (int k = 16; k < AURA_MONITOR_SYSTEM_FEATURES; k++) {
                ASSERT_TRUE(isfinite(sf[k]));
            }
            ASSERT_TRUE(sf[16] >= 1.0f); /* at least one component */
            nonzero_path += sf[19] > 0.0f;
        }
    }
    ASSERT_TRUE(ticks >= 30);
    ASSERT_TRUE(nonzero_path >= ticks - 2);
    aura_monitor_stats st;
    aura_monitor_get_stats(m, &st);
    ASSERT_TRUE(st.stage_ms[5] >= 0.0);
    aura_monitor_destroy(m);
    aura_monitor_sim_destroy(sim);
}
