/* test_monitor_ceiling.c -- rollout copies of the simulator and the Bayes
 * ceiling of failure prediction (aura_monitor_sim_ceiling), and the planning
 * oracle (aura_monitor_oracle_run).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aura/monitor.h"
#include "aura/monitor_risk.h"
#include "monitor/monitor_int.h"
#include "test.h"

static void step_to(aura_monitor_sim *s, int32_t t)
{
    const aura_events_event *ev;
    size_t n;
    while (aura_monitor_sim_ticks_done(s) < t) {
        ASSERT_OK(aura_monitor_sim_step(s, &ev, &n));
    }
}

static aura_monitor_label *faults_of(aura_monitor_sim *s, size_t *n)
{
    size_t nl = 0, k = 0;
    ASSERT_OK(aura_monitor_sim_labels(s, NULL, 0, &nl));
    aura_monitor_label *l = calloc(nl + 1, sizeof *l);
    ASSERT_OK(aura_monitor_sim_labels(s, l, nl, &nl));
    for (size_t j = 0; j < nl; j++) {
        if (l[j].event == AURA_MONITOR_LABEL_FAULT) {
            l[k++] = l[j];
        }
    }
    *n = k;
    return l;
}

AURA_TEST(monitor_sim_clone_goes_on_exactly_as_the_original)
{
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 80;
    o.ticks = 120;
    o.faults = "random:10";
    aura_monitor_sim *s = NULL, *c = NULL;
    ASSERT_OK(aura_monitor_sim_create(&o, &s));
    step_to(s, 40);
    ASSERT_OK(aura__monitor_sim_clone(s, &c));
    step_to(s, 120);
    step_to(c, 120);
    int bad = 0;
    for (int32_t t = 0; t < 120; t++) {
        for (uint32_t i = 0; i < o.n_agents; i++) {
            ASSERT_EQ(aura__monitor_sim_bad(s, t, i), aura__monitor_sim_bad(c, t, i));
            bad += aura__monitor_sim_bad(s, t, i) != 0;
        }
    }
    ASSERT_TRUE(bad > 0); /* the comparison saw trouble, not only calm */
    ASSERT_EQ(0, aura__monitor_sim_bad(s, 120, 0)); /* not run */
    aura_monitor_sim_destroy(c);
    aura_monitor_sim_destroy(s);
}

AURA_TEST(monitor_sim_redraw_keeps_past_and_given_faults)
{
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 60;
    o.ticks = 200;
    o.faults = "error-burst:a7:150,random:40";
    aura_monitor_sim *s = NULL, *c = NULL;
    ASSERT_OK(aura_monitor_sim_create(&o, &s));
    step_to(s, 60);
    ASSERT_OK(aura__monitor_sim_rollout_copy(s, 99, &c));
    step_to(s, 200);
    step_to(c, 200);
    size_t ns, nc;
    aura_monitor_label *fs = faults_of(s, &ns), *fc = faults_of(c, &nc);
    ASSERT_EQ(41, ns);
    ASSERT_EQ(ns, nc); /* as many faults */
    int past_s = 0, past_c = 0, given = 0, same_future = 0, future = 0;
    for (size_t k = 0; k < ns; k++) {
        past_s += fs[k].tick < 60;
        future += fs[k].tick >= 60;
        given += fs[k].tick == 150 && fs[k].agent == 7 && fs[k].fault == AURA_MONITOR_FAULT_ERRORS;
    }
    for (size_t k = 0; k < nc; k++) {
        past_c += fc[k].tick < 60;
        given += fc[k].tick == 150 && fc[k].agent == 7 && fc[k].fault == AURA_MONITOR_FAULT_ERRORS;
        for (size_t j = 0; j < ns && fc[k].tick >= 60; j++) {
            same_future += fs[j].tick == fc[k].tick && fs[j].agent == fc[k].agent &&
                           fs[j].fault == fc[k].fault;
        }
    }
    ASSERT_EQ(past_s, past_c);
    for (size_t k = 0; k < (size_t)past_s; k++) { /* sorted by tick: the past ones first */
        ASSERT_EQ(fs[k].tick, fc[k].tick);
        ASSERT_EQ(fs[k].agent, fc[k].agent);
        ASSERT_EQ(fs[k].fault, fc[k].fault);
    }
    ASSERT_TRUE(past_s > 0 && future > 10);
    ASSERT_TRUE(given >= 2);             /* the given fault is in both */
    ASSERT_TRUE(same_future < future / 2); /* the drawn ones were drawn again */
    free(fs);
    free(fc);
    aura_monitor_sim_destroy(c);
    aura_monitor_sim_destroy(s);
}

AURA_TEST(monitor_ceiling_knows_the_state_not_the_next_faults)
{
    /* A given error burst on agent 9 at tick 60 is part of the scenario:
     * the ceiling sees it coming (a failure at 60, so every copy fails it
     * in (t, t + 10] for t = 50..59).  A burst drawn by random:N is not
     * known before it starts. */
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 40;
    o.ticks = 90;
    o.seed = 4;
    o.faults = "error-burst:a9:60";
    aura_monitor_ceiling_opts co = aura_monitor_ceiling_opts_default();
    co.rollouts = 8;
    size_t cells = (size_t)o.ticks * o.n_agents;
    float *p = malloc(cells * sizeof *p), *q = malloc(cells * sizeof *q);
    ASSERT_OK(aura_monitor_sim_ceiling(&o, &co, p));
    for (int32_t t = 50; t < 60; t++) {
        ASSERT_TRUE(p[(size_t)t * o.n_agents + 9] == 1.0f);
    }
    ASSERT_TRUE(p[(size_t)45 * o.n_agents + 9] < 0.5f); /* 15 ticks ahead: out of H */
    for (size_t c = 0; c < cells; c++) {
        ASSERT_TRUE(p[c] >= 0.0f && p[c] <= 1.0f);
    }
    /* The same simulation with the fault drawn: find a seed whose one
     * random fault is an error burst, then compare the ceiling before it. */
    aura_monitor_sim_opts r = o;
    r.faults = "random:1";
    aura_monitor_label f = {0};
    for (r.seed = 1; r.seed < 200 && f.event != AURA_MONITOR_LABEL_FAULT; r.seed++) {
        aura_monitor_sim *s = NULL;
        ASSERT_OK(aura_monitor_sim_create(&r, &s));
        step_to(s, r.ticks);
        size_t nf;
        aura_monitor_label *l = faults_of(s, &nf);
        if (nf == 1 && l[0].fault == AURA_MONITOR_FAULT_ERRORS && l[0].tick >= 20 &&
            l[0].tick + 15 < r.ticks) {
            f = l[0];
        }
        free(l);
        aura_monitor_sim_destroy(s);
    }
    ASSERT_EQ(AURA_MONITOR_LABEL_FAULT, f.event);
    r.seed--;
    ASSERT_OK(aura_monitor_sim_ceiling(&r, &co, q));
    double before = 0.0;
    for (int32_t t = f.tick - 8; t < f.tick - 1; t++) {
        before += q[(size_t)t * r.n_agents + f.agent];
    }
    ASSERT_TRUE(before / 7.0 < 0.5); /* not known before it starts */
    ASSERT_TRUE(q[(size_t)(f.tick + 1) * r.n_agents + f.agent] >= 0.0f);
    /* bad options: refused, output untouched */
    memcpy(q, p, cells * sizeof *p);
    co.rollouts = 0;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_sim_ceiling(&o, &co, q));
    co.rollouts = 4;
    co.horizon = 0;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_sim_ceiling(&o, &co, q));
    ASSERT_TRUE(memcmp(q, p, cells * sizeof *p) == 0);
    free(p);
    free(q);
}

AURA_TEST(monitor_oracle_prevents_failures_the_rules_do_not)
{
    /* a smallworld ring where failures spread: the oracle, planning on
     * copies of the simulator, ends with fewer failed agents than the rule
     * monitor alone, and its actions count as interventions */
    aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
    so.n_agents = 100;
    so.topology = AURA_MONITOR_TOPO_SMALLWORLD;
    so.ticks = 120;
    so.seed = 3;
    so.faults = "random:8";
    aura_monitor_risk_run rules, orc;
    ASSERT_OK(aura_monitor_risk_run_sim(&so, NULL, 1, 0.5, NULL, &rules));
    aura_monitor_oracle_opts oo = aura_monitor_oracle_opts_default();
    oo.copies = 2;
    ASSERT_OK(aura_monitor_oracle_run(&so, &oo, &orc));
    printf("failed agents: rules %u (%u interventions), oracle %u (%u)\n", rules.failed_agents,
           rules.interventions, orc.failed_agents, orc.interventions);
    ASSERT_TRUE(rules.failed_agents >= 4);
    ASSERT_TRUE(orc.failed_agents < rules.failed_agents);
    ASSERT_TRUE(orc.interventions > 0);
    /* with no actions allowed it is the rule monitor, exactly */
    oo.max_actions = 0;
    ASSERT_OK(aura_monitor_oracle_run(&so, &oo, &orc));
    ASSERT_EQ(rules.failed_agents, orc.failed_agents);
    ASSERT_EQ(rules.interventions, orc.interventions);
    oo = aura_monitor_oracle_opts_default();
    oo.copies = 0;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_oracle_run(&so, &oo, &orc));
    oo = aura_monitor_oracle_opts_default();
    oo.min_risk = NAN;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_oracle_run(&so, &oo, &orc));
}

AURA_TEST(monitor_ceiling_survives_oom)
{
    /* every allocation of the run and of its copies fails in turn: each
     * run returns OK or AURA_E_NOMEM, leaves the output alone on failure
     * and frees everything */
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 20;
    o.ticks = 12;
    o.faults = "random:2";
    aura_monitor_ceiling_opts co = aura_monitor_ceiling_opts_default();
    co.rollouts = 2;
    co.horizon = 3;
    float p[12 * 20], ref[12 * 20];
    ASSERT_OK(aura_monitor_sim_ceiling(&o, &co, ref));
    int ok = 0;
    long fail_at;
    for (fail_at = 0; fail_at < 2000 && !ok; fail_at++) {
        for (size_t k = 0; k < 12 * 20; k++) {
            p[k] = -7.0f;
        }
        o.alloc = test_failing_alloc(fail_at);
        aura_status st = aura_monitor_sim_ceiling(&o, &co, p);
        ASSERT_EQ(0, test_alloc_live_blocks());
        if (st == AURA_OK) {
            ok = 1;
            ASSERT_TRUE(memcmp(p, ref, sizeof p) == 0); /* the same as without failures */
        } else {
            ASSERT_STATUS(AURA_E_NOMEM, st);
            for (size_t k = 0; k < 12 * 20; k++) {
                ASSERT_TRUE(p[k] == -7.0f);
            }
        }
    }
    ASSERT_TRUE(ok && fail_at > 20); /* the sweep went through the copies */
}

AURA_TEST(monitor_ceiling_smoothing_only_adds_crash_chances)
{
    /* the same copies (same seed) scored plainly and smoothed: a copy in
     * which the agent fails scores 1 either way, one in which it does not
     * scores its crash chance instead of 0, so smoothed >= plain, and more
     * on some cells (overloaded agents run under hazards) */
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 60;
    o.ticks = 80;
    o.faults = "overload:0:20:30,random:4";
    aura_monitor_ceiling_opts co = aura_monitor_ceiling_opts_default();
    co.rollouts = 4;
    size_t cells = (size_t)o.ticks * o.n_agents;
    float *plain = malloc(cells * sizeof *plain), *sm = malloc(cells * sizeof *sm);
    co.smooth = 0;
    ASSERT_OK(aura_monitor_sim_ceiling(&o, &co, plain));
    co.smooth = 1;
    ASSERT_OK(aura_monitor_sim_ceiling(&o, &co, sm));
    size_t more = 0;
    for (size_t c = 0; c < cells; c++) {
        ASSERT_TRUE(sm[c] >= plain[c] - 1e-6f && sm[c] <= 1.0f);
        more += sm[c] > plain[c] + 1e-4f;
        ASSERT_TRUE(plain[c] * (float)co.rollouts == floorf(plain[c] * (float)co.rollouts + 0.5f));
    }
    ASSERT_TRUE(more > cells / 100);
    free(plain);
    free(sm);
}
