/* test_monitor_policy.c -- the graded policy: below the threshold it acts
 * only early, on a gradual cause; the rule policy (the default) does not
 * act at all there.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "aura/monitor.h"
#include "test.h"

/* A model that gives every agent the same risk. */
static aura_status flat_score(void *ctx, const float *af, uint32_t n, const float *sf, float *risk,
                              float *sys_risk)
{
    (void)af;
    (void)sf;
    for (uint32_t i = 0; i < n; i++) {
        risk[i] = *(const float *)ctx;
    }
    *sys_risk = 0.0f;
    return AURA_OK;
}

/* Runs an overloaded hub for 60 ticks; returns the decisions taken and
 * checks each one. */
static size_t run(int policy, float risk, int *all_early)
{
    aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
    so.n_agents = 80;
    so.ticks = 60;
    so.faults = "leak:0:5:50,leak:3:5:50,overload:1:10:40";
    aura_monitor_sim *s = NULL;
    aura_monitor *m = NULL;
    ASSERT_OK(aura_monitor_sim_create(&so, &s));
    aura_monitor_model mm = {.ctx = &risk, .score = flat_score};
    aura_monitor_opts mo = aura_monitor_opts_default();
    mo.model = &mm;
    mo.policy = policy;
    ASSERT_OK(aura_monitor_create(&mo, &m));
    size_t decisions = 0;
    *all_early = 1;
    const aura_events_event *ev;
    size_t n;
    while (aura_monitor_sim_step(s, &ev, &n) == AURA_OK) {
        size_t used;
        ASSERT_OK(aura_monitor_ingest(m, ev, n, &used));
        ASSERT_OK(aura_monitor_tick_close(m));
        const aura_monitor_decision *d;
        size_t nd;
        ASSERT_OK(aura_monitor_decisions(m, &d, &nd));
        for (size_t k = 0; k < nd; k++) {
            ASSERT_NEAR(d[k].risk, risk, 1e-6);
            *all_early &= strstr(d[k].reason, "early") != NULL;
            ASSERT_OK(aura_monitor_sim_apply(s, &d[k]));
        }
        decisions += nd;
    }
    aura_monitor_destroy(m);
    aura_monitor_sim_destroy(s);
    return decisions;
}

AURA_TEST(monitor_policy_graded_acts_early_only_on_a_cause)
{
    int early;
    /* decisions weigh half a callee's risk too: a flat 0.35 acts as at most
     * 1 - 0.65 * (1 - 0.175) = 0.46, under the threshold 0.5; a flat 0.2
     * as at most 0.28, under early_threshold 0.3 */
    size_t graded = run(AURA_MONITOR_POLICY_GRADED, 0.35f, &early);
    ASSERT_TRUE(graded > 0);
    ASSERT_TRUE(early); /* below the threshold: only the early actions */
    ASSERT_EQ(0, run(AURA_MONITOR_POLICY_RULES, 0.35f, &early));
    ASSERT_EQ(AURA_MONITOR_POLICY_RULES, aura_monitor_opts_default().policy);
    ASSERT_EQ(0, run(AURA_MONITOR_POLICY_GRADED, 0.2f, &early)); /* under early_threshold */
    /* far fewer than one decision per agent and tick: a cause is needed */
    ASSERT_TRUE(graded < 80 * 60 / 8);
    aura_monitor_opts bad = aura_monitor_opts_default();
    aura_monitor *m = NULL;
    bad.policy = 7;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_create(&bad, &m));
    bad = aura_monitor_opts_default();
    bad.early_threshold = 1.5;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_create(&bad, &m));
}
