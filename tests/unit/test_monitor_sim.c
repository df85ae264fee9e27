/* test_monitor_sim.c -- the simulator (determinism, topologies, faults,
 * labels) and the monitor's library contract and bad-input handling.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "test.h"

#include "aura/monitor.h"

/* Runs a whole simulation; returns a 64-bit digest of every event byte. */
static uint64_t run_digest(const aura_monitor_sim_opts *o, size_t *n_events)
{
    aura_monitor_sim *s = NULL;
    ASSERT_OK(aura_monitor_sim_create(o, &s));
    uint64_t h = 1469598103934665603ULL;
    const aura_events_event *ev;
    size_t n;
    *n_events = 0;
    while (aura_monitor_sim_step(s, &ev, &n) == AURA_OK) {
        const unsigned char *p = (const unsigned char *)ev;
        for (size_t k = 0; k < n * sizeof *ev; k++) {
            h = (h ^ p[k]) * 1099511628211ULL;
        }
        *n_events += n;
    }
    ASSERT_EQ(o->ticks, aura_monitor_sim_ticks_done(s));
    aura_monitor_sim_destroy(s);
    return h;
}

AURA_TEST(monitor_sim_same_seed_same_bytes)
{
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 60;
    o.ticks = 80;
    o.seed = 42;
    size_t n1, n2, n3;
    uint64_t a = run_digest(&o, &n1), b = run_digest(&o, &n2);
    ASSERT_EQ(a, b);
    ASSERT_EQ(n1, n2);
    ASSERT_TRUE(n1 > 60 * 80);
    o.seed = 43;
    ASSERT_NE(a, run_digest(&o, &n3));
}

AURA_TEST(monitor_sim_topologies_are_call_dags)
{
    for (int topo = 0; topo < 4; topo++) {
        uint32_t sizes[] = {10, 1000};
        for (int k = 0; k < 2; k++) {
            aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
            o.topology = (aura_monitor_topology)topo;
            o.n_agents = sizes[k];
            o.ticks = 5;
            aura_monitor_sim *s = NULL;
            ASSERT_OK(aura_monitor_sim_create(&o, &s));
            size_t ne = 0;
            ASSERT_OK(aura_monitor_sim_edges(s, NULL, 0, &ne));
            ASSERT_TRUE(ne >= sizes[k] - 1);
            uint32_t *p = malloc(sizeof(uint32_t) * 2 * ne);
            ASSERT_OK(aura_monitor_sim_edges(s, p, ne, &ne));
            uint8_t *touched = calloc(sizes[k], 1);
            for (size_t e = 0; e < ne; e++) {
                ASSERT_TRUE(p[2 * e] > p[2 * e + 1]); /* callers above callees */
                ASSERT_TRUE(p[2 * e] < sizes[k]);
                touched[p[2 * e]] = touched[p[2 * e + 1]] = 1;
            }
            for (uint32_t i = 0; i < sizes[k]; i++) {
                ASSERT_TRUE(touched[i]); /* nobody is isolated */
            }
            const aura_events_event *ev;
            size_t n;
            ASSERT_OK(aura_monitor_sim_step(s, &ev, &n));
            for (size_t j = 0; j < n; j++) {
                ASSERT_TRUE(ev[j].ts_us >= 0 && ev[j].ts_us < 1000000);
                ASSERT_TRUE(j == 0 || ev[j - 1].ts_us <= ev[j].ts_us);
            }
            free(p);
            free(touched);
            aura_monitor_sim_destroy(s);
        }
    }
}

AURA_TEST(monitor_sim_rejects_bad_options)
{
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    aura_monitor_sim *s = NULL;
    o.n_agents = 1;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_sim_create(&o, &s));
    o = aura_monitor_sim_opts_default();
    const char *bad[] = {"slow", "nope:1:2", "slow:999:2", "slow:1:x", "slow:1:2:0", "random:x",
                         "slow:1:2:3:4", "error-burst:a-1:5"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        o.faults = bad[k];
        aura_log_set_level(AURA_LOG_OFF);
        ASSERT_STATUS(AURA_E_FORMAT, aura_monitor_sim_create(&o, &s));
        aura_log_set_level(AURA_LOG_WARN);
        ASSERT_TRUE(s == NULL);
    }
    o.faults = "slow:a3:10:20,leak:*:5,random:2,none:1:1";
    aura_log_set_level(AURA_LOG_OFF);
    ASSERT_STATUS(AURA_E_FORMAT, aura_monitor_sim_create(&o, &s)); /* "none" is not a kind */
    aura_log_set_level(AURA_LOG_WARN);
    o.faults = "slow:a3:10:20,leak:*:5,random:2";
    ASSERT_OK(aura_monitor_sim_create(&o, &s));
    aura_monitor_sim_destroy(s);
}

static aura_monitor_label *all_labels(aura_monitor_sim *s, size_t *n)
{
    ASSERT_OK(aura_monitor_sim_labels(s, NULL, 0, n));
    aura_monitor_label *l = calloc(*n + 1, sizeof *l);
    ASSERT_OK(aura_monitor_sim_labels(s, l, *n, n));
    return l;
}

AURA_TEST(monitor_sim_error_burst_fails_at_its_first_bad_tick)
{
    /* An error burst of 60% on a leaf: fewer than half its calls succeed
     * from the burst's first tick for 6 ticks, so by the definition it
     * fails at tick 20 and recovers at 26 (first of three good ticks). */
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 30;
    o.ticks = 60;
    o.seed = 3;
    o.faults = "error-burst:a29:20:6";
    aura_monitor_sim *s = NULL;
    ASSERT_OK(aura_monitor_sim_create(&o, &s));
    const aura_events_event *ev;
    size_t n;
    while (aura_monitor_sim_step(s, &ev, &n) == AURA_OK) {
    }
    size_t nl;
    aura_monitor_label *l = all_labels(s, &nl);
    int fault = 0, fail = 0, recover = 0;
    for (size_t k = 0; k < nl; k++) {
        ASSERT_TRUE(k == 0 || l[k - 1].tick <= l[k].tick); /* sorted */
        if (l[k].agent != 29) {
            continue;
        }
        if (l[k].event == AURA_MONITOR_LABEL_FAULT) {
            ASSERT_EQ(20, l[k].tick);
            ASSERT_EQ(AURA_MONITOR_FAULT_ERRORS, l[k].fault);
            fault++;
        } else if (l[k].event == AURA_MONITOR_LABEL_FAIL) {
            ASSERT_EQ(20, l[k].tick);
            fail++;
        } else {
            ASSERT_EQ(26, l[k].tick);
            recover++;
        }
    }
    ASSERT_EQ(1, fault);
    ASSERT_EQ(1, fail);
    ASSERT_EQ(1, recover);
    free(l);
    aura_monitor_sim_destroy(s);
}

AURA_TEST(monitor_sim_labels_alternate_and_silence_means_failed)
{
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 200;
    o.ticks = 200;
    o.seed = 8;
    aura_monitor_sim *s = NULL;
    ASSERT_OK(aura_monitor_sim_create(&o, &s));
    /* heartbeats per (tick, agent) */
    uint8_t *hb = calloc((size_t)o.ticks * o.n_agents, 1);
    const aura_events_event *ev;
    size_t n;
    for (int t = 0; aura_monitor_sim_step(s, &ev, &n) == AURA_OK; t++) {
        for (size_t k = 0; k < n; k++) {
            ASSERT_TRUE(ev[k].ts_us / 1000000 == t); /* tick t at t*1000 ms + offset */
            ASSERT_TRUE(ev[k].kind != AURA_EVENTS_STATE); /* no announced failures */
            if (ev[k].kind == AURA_EVENTS_HEARTBEAT) {
                hb[(size_t)t * o.n_agents + ev[k].src] = 1;
            }
        }
    }
    size_t nl;
    aura_monitor_label *l = all_labels(s, &nl);
    int *state = calloc(o.n_agents, sizeof(int));
    size_t fails = 0, silent = 0, k = 0;
    for (int t = 0; t < o.ticks; t++) {
        for (; k < nl && l[k].tick == t; k++) {
            if (l[k].event == AURA_MONITOR_LABEL_FAULT) {
                continue;
            }
            int want = l[k].event == AURA_MONITOR_LABEL_FAIL ? 0 : 1;
            ASSERT_EQ(want, state[l[k].agent]); /* fail, recover, fail, ... */
            state[l[k].agent] = !want;
            fails += want == 0;
        }
        for (uint32_t i = 0; i < o.n_agents; i++) {
            if (!hb[(size_t)t * o.n_agents + i]) {
                ASSERT_TRUE(state[i]); /* a silent (down) agent is failed */
                silent++;
            }
        }
    }
    ASSERT_EQ(nl, k);
    ASSERT_TRUE(fails > 0);
    ASSERT_TRUE(silent > 0);
    free(state);
    free(l);
    free(hb);
    aura_monitor_sim_destroy(s);
}

/* ---- the monitor's library contract ---- */

static aura_events_event mk(int64_t ts_ms, uint16_t kind, uint32_t src, uint32_t dst, int ok)
{
    aura_events_event e;
    memset(&e, 0, sizeof e);
    e.ts_us = ts_ms * 1000;
    e.kind = kind;
    e.src = src;
    e.dst = dst;
    if (kind == AURA_EVENTS_REPLY) {
        e.flags = AURA_EVENTS_F_HAS_OK | AURA_EVENTS_F_HAS_LATENCY | (ok ? AURA_EVENTS_F_OK : 0);
        e.latency_ms = 20.0f;
    }
    return e;
}

/* Feeds all events, closing ticks as needed, then closes the last one;
 * counts ticks closed and checks every seen agent has a risk in [0, 1]. */
static int64_t feed_all(aura_monitor *m, const aura_events_event *ev, size_t n)
{
    int64_t closed = 0;
    while (n > 0) {
        size_t used;
        ASSERT_OK(aura_monitor_ingest(m, ev, n, &used));
        ev += used;
        n -= used;
        if (n > 0) {
            ASSERT_OK(aura_monitor_tick_close(m));
            closed++;
        }
    }
    ASSERT_OK(aura_monitor_tick_close(m));
    return closed + 1;
}

AURA_TEST(monitor_every_seen_agent_every_tick_with_gaps)
{
    aura_monitor *m = NULL;
    ASSERT_OK(aura_monitor_create(NULL, &m));
    ASSERT_STATUS(AURA_E_STATE, aura_monitor_tick_close(m));
    aura_events_event ev[] = {
        mk(10, AURA_EVENTS_REPLY, 0, 1, 1), mk(20, AURA_EVENTS_HEARTBEAT, 1, UINT32_MAX, 1),
        /* ticks 1..3 have no events: a gap */
        mk(4500, AURA_EVENTS_REPLY, 2, 1, 0), mk(4600, AURA_EVENTS_TIMEOUT, 2, 1, 0)};
    ASSERT_EQ(5, feed_all(m, ev, 4));
    const float *risk;
    const uint8_t *seen;
    uint32_t n;
    ASSERT_OK(aura_monitor_risk(m, &risk, &seen, &n));
    ASSERT_EQ(3, n);
    for (uint32_t i = 0; i < n; i++) {
        ASSERT_TRUE(seen[i]);
        ASSERT_TRUE(risk[i] >= 0.0f && risk[i] <= 1.0f);
    }
    aura_monitor_stats st;
    aura_monitor_get_stats(m, &st);
    ASSERT_EQ(5, st.ticks);
    ASSERT_EQ(3, st.gap_ticks);
    ASSERT_EQ(4, st.events);
    ASSERT_EQ(5, aura_monitor_open_tick(m));
    aura_monitor_destroy(m);
    aura_monitor_destroy(NULL);
}

/* A stream without load reports (another source than the simulator): the
 * callee's utilisation is estimated from its queueing delay, so a callee
 * whose latency grows is seen as loaded and at risk; an agent that reports
 * its load keeps the reported value. */
static float util_after_slowdown(int report_load, float *risk_out)
{
    aura_monitor *m = NULL;
    ASSERT_OK(aura_monitor_create(NULL, &m));
    aura_events_event ev[41 * 11];
    size_t n = 0;
    for (int t = 0; t < 40; t++) {
        float lat = t < 20 ? 20.0f : 20.0f * (1.0f + 0.5f * (float)(t - 19));
        for (int k = 0; k < 10; k++) {
            ev[n] = mk((int64_t)t * 1000 + 10 + k, AURA_EVENTS_REPLY, 0, 1, 1);
            ev[n++].latency_ms = lat * (k % 2 ? 1.1f : 0.9f);
        }
        if (report_load) {
            ev[n] = mk((int64_t)t * 1000 + 900, AURA_EVENTS_LOAD, 1, AURA_EVENTS_NO_AGENT, 1);
            ev[n].flags = AURA_EVENTS_F_HAS_LOAD;
            ev[n++].load = 0.3f;
        }
    }
    feed_all(m, ev, n);
    const float *f, *sys, *risk;
    const uint8_t *seen;
    uint32_t na;
    ASSERT_OK(aura_monitor_features(m, &f, &sys, &na));
    ASSERT_OK(aura_monitor_risk(m, &risk, &seen, &na));
    ASSERT_EQ(2, na);
    float u = f[1 * AURA_MONITOR_AGENT_FEATURES + 0];
    *risk_out = risk[1];
    aura_monitor_destroy(m);
    return u;
}

AURA_TEST(monitor_load_estimated_from_latency_without_load_reports)
{
    ASSERT_TRUE(strcmp(aura_monitor_agent_feature_name(0), "util") == 0);
    float risk, u = util_after_slowdown(0, &risk);
    ASSERT_TRUE(u > 0.9f);     /* latency x10 over its baseline: near saturation */
    ASSERT_TRUE(risk > 0.5f);  /* and the rule score sees it */
    u = util_after_slowdown(1, &risk);
    ASSERT_TRUE(fabsf(u - 0.3f) < 0.01f); /* reported load wins */
}

AURA_TEST(monitor_counts_late_duplicate_unknown_and_bad_time)
{
    aura_monitor_opts o = aura_monitor_opts_default();
    o.max_agents = 100;
    aura_monitor *m = NULL;
    ASSERT_OK(aura_monitor_create(&o, &m));
    aura_events_event ev[] = {
        mk(1000, AURA_EVENTS_REPLY, 0, 1, 1),  /* opens tick 1 */
        mk(1000, AURA_EVENTS_REPLY, 0, 1, 1),  /* exact duplicate */
        mk(500, AURA_EVENTS_REPLY, 0, 1, 1),   /* tick 0 is before the open one: late */
        mk(1200, AURA_EVENTS_REPLY, 0, 500, 1), /* agent id beyond max_agents */
        mk(-5, AURA_EVENTS_HEARTBEAT, 3, UINT32_MAX, 1), /* negative time */
        mk(1300, AURA_EVENTS_LOAD, 2, UINT32_MAX, 1),
    };
    ev[5].flags = AURA_EVENTS_F_HAS_LOAD;
    ev[5].load = 0.5f;
    feed_all(m, ev, 6);
    aura_monitor_stats st;
    aura_monitor_get_stats(m, &st);
    ASSERT_EQ(3, st.events);
    ASSERT_EQ(1, st.duplicates);
    ASSERT_EQ(1, st.late);
    ASSERT_EQ(1, st.unknown);
    ASSERT_EQ(1, st.bad_time);
    const float *risk;
    const uint8_t *seen;
    uint32_t n;
    ASSERT_OK(aura_monitor_risk(m, &risk, &seen, &n));
    ASSERT_EQ(3, n);
    ASSERT_TRUE(seen[0] && seen[1] && seen[2]);
    aura_monitor_destroy(m);
}

AURA_TEST(monitor_rejects_bad_options_and_survives_oom)
{
    aura_monitor_opts o = aura_monitor_opts_default();
    aura_monitor *m = NULL;
    o.tick_ms = 0.0;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_create(&o, &m));
    o = aura_monitor_opts_default();
    o.threshold = 2.0;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_create(&o, &m));
    aura_events_event ev[] = {mk(10, AURA_EVENTS_REPLY, 0, 1, 1),
                              mk(1010, AURA_EVENTS_REPLY, 1, 2, 0)};
    for (long fail_at = 0; fail_at < 60; fail_at++) {
        o = aura_monitor_opts_default();
        o.alloc = test_failing_alloc(fail_at);
        aura_status st = aura_monitor_create(&o, &m);
        if (st != AURA_OK) {
            ASSERT_STATUS(AURA_E_NOMEM, st);
            ASSERT_EQ(0, test_alloc_live_blocks());
            continue;
        }
        size_t used = 0, off = 0;
        while (st == AURA_OK && off < 2) {
            st = aura_monitor_ingest(m, ev + off, 2 - off, &used);
            off += used;
            if (st == AURA_OK) {
                st = aura_monitor_tick_close(m);
            }
        }
        ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
        aura_monitor_destroy(m);
        ASSERT_EQ(0, test_alloc_live_blocks());
    }
    for (long fail_at = 0; fail_at < 12; fail_at++) {
        aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
        so.n_agents = 20;
        so.alloc = test_failing_alloc(fail_at);
        aura_monitor_sim *s = NULL;
        aura_status st = aura_monitor_sim_create(&so, &s);
        ASSERT_TRUE(st == AURA_OK || (st == AURA_E_NOMEM && s == NULL));
        aura_monitor_sim_destroy(s);
        ASSERT_EQ(0, test_alloc_live_blocks());
    }
}

/* The monitor's agent states against the simulator's ground truth: its
 * FAILED (or FAILING) follows the failure definition as the events show it
 * -- the monitor sees sampled calls, and knows a failure one tick late (at
 * its second bad tick, and a recovery two ticks late, at the third good
 * one) -- and an isolation it decides shows as ISOLATED. */
AURA_TEST(monitor_states_follow_the_failure_definition)
{
    aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
    so.n_agents = 150;
    so.ticks = 200;
    so.seed = 2;
    for (int act = 0; act < 2; act++) {
        aura_monitor_sim *s = NULL;
        aura_monitor *m = NULL;
        aura_monitor_opts mo = aura_monitor_opts_default();
        mo.act = act;
        ASSERT_OK(aura_monitor_sim_create(&so, &s));
        ASSERT_OK(aura_monitor_create(&mo, &m));
        uint8_t *st = calloc((size_t)so.ticks * so.n_agents, 1);
        size_t counts[AURA_EVENTS_STATE_COUNT] = {0}, isolations = 0, shown = 0;
        const aura_events_event *ev;
        size_t n;
        for (int32_t t = 0; aura_monitor_sim_step(s, &ev, &n) == AURA_OK; t++) {
            size_t used;
            ASSERT_OK(aura_monitor_ingest(m, ev, n, &used));
            ASSERT_OK(aura_monitor_tick_close(m));
            const uint8_t *state;
            uint32_t na;
            ASSERT_OK(aura_monitor_states(m, &state, &na));
            for (uint32_t i = 0; i < na && i < so.n_agents; i++) {
                ASSERT_TRUE(state[i] < AURA_EVENTS_STATE_COUNT);
                st[(size_t)t * so.n_agents + i] = state[i];
                counts[state[i]]++;
                shown += act && t > 0 && st[(size_t)(t - 1) * so.n_agents + i] != 0 &&
                         state[i] == AURA_EVENTS_STATE_ISOLATED;
            }
            const aura_monitor_decision *d;
            size_t nd;
            ASSERT_OK(aura_monitor_decisions(m, &d, &nd));
            for (size_t k = 0; k < nd; k++) {
                isolations += d[k].action == AURA_MONITOR_ISOLATE;
                ASSERT_OK(aura_monitor_sim_apply(s, &d[k]));
            }
        }
        size_t nl;
        aura_monitor_label *l = all_labels(s, &nl);
        uint8_t *truth = calloc((size_t)so.ticks * so.n_agents, 1);
        for (size_t k = 0; k < nl; k++) {
            if (l[k].event != AURA_MONITOR_LABEL_FAIL) {
                continue;
            }
            int32_t end = so.ticks;
            for (size_t q = k + 1; q < nl; q++) {
                if (l[q].agent == l[k].agent && l[q].event == AURA_MONITOR_LABEL_RECOVER) {
                    end = l[q].tick;
                    break;
                }
            }
            for (int32_t t = l[k].tick; t < end; t++) {
                truth[(size_t)t * so.n_agents + l[k].agent] = 1;
            }
        }
        /* recall: failed agent-ticks the monitor calls failing or failed
         * (at t or t + 1); precision: FAILED agent-ticks failed at t .. t - 3 */
        size_t tp = 0, pos = 0, fp_ok = 0, said = 0;
        for (int32_t t = 0; t < so.ticks; t++) {
            for (uint32_t i = 0; i < so.n_agents; i++) {
                size_t c = (size_t)t * so.n_agents + i;
                int mon = st[c] == AURA_EVENTS_STATE_FAILED || st[c] == AURA_EVENTS_STATE_FAILING;
                int mon1 = t + 1 < so.ticks && (st[c + so.n_agents] == AURA_EVENTS_STATE_FAILED ||
                                                st[c + so.n_agents] == AURA_EVENTS_STATE_FAILING);
                if (truth[c] && st[c] != AURA_EVENTS_STATE_ISOLATED) {
                    pos++;
                    tp += mon || mon1;
                }
                if (st[c] == AURA_EVENTS_STATE_FAILED) {
                    said++;
                    int lag = 0; /* failed now, or in the last 3 ticks (it recovers at the
                                    first of three good ticks: known at the third) */
                    for (int32_t u = t; u >= 0 && u >= t - 3 && !lag; u--) {
                        lag = truth[(size_t)u * so.n_agents + i];
                    }
                    fp_ok += lag;
                }
            }
        }
        printf("act %d: recall %zu/%zu precision %zu/%zu healthy %zu degraded %zu failing %zu "
               "failed %zu isolated %zu (isolations %zu, shown %zu)\n",
               act, tp, pos, fp_ok, said, counts[1], counts[2], counts[3], counts[4], counts[5],
               isolations, shown);
        ASSERT_TRUE(pos > 50 && said > 50);
        ASSERT_TRUE(tp >= 0.8 * (double)pos);
        /* the rest are agents serving just over half their calls whose
         * sampled calls (3 per edge) fell under half two ticks running */
        ASSERT_TRUE(fp_ok >= 0.6 * (double)said);
        ASSERT_TRUE(counts[AURA_EVENTS_STATE_HEALTHY] > counts[AURA_EVENTS_STATE_DEGRADED]);
        ASSERT_TRUE(counts[AURA_EVENTS_STATE_DEGRADED] > 0);
        if (act) {
            ASSERT_TRUE(isolations > 0 && counts[AURA_EVENTS_STATE_ISOLATED] > 0);
        } else {
            ASSERT_EQ(0, counts[AURA_EVENTS_STATE_ISOLATED]);
        }
        free(l);
        free(st);
        free(truth);
        aura_monitor_destroy(m);
        aura_monitor_sim_destroy(s);
    }
}

AURA_TEST(monitor_closed_loop_decisions_apply)
{
    /* a surge on a hub: the acting monitor decides, and every decision is
     * accepted by the simulator; admission answers for a seen agent */
    aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
    so.n_agents = 100;
    so.ticks = 80;
    so.faults = "overload:0:20:30,byzantine:5:30:30";
    aura_monitor_sim *s = NULL;
    aura_monitor *m = NULL;
    ASSERT_OK(aura_monitor_sim_create(&so, &s));
    ASSERT_OK(aura_monitor_create(NULL, &m));
    size_t decisions = 0;
    const aura_events_event *ev;
    size_t n;
    while (aura_monitor_sim_step(s, &ev, &n) == AURA_OK) {
        size_t used;
        ASSERT_OK(aura_monitor_ingest(m, ev, n, &used));
        ASSERT_EQ(n, used);
        ASSERT_OK(aura_monitor_tick_close(m));
        const aura_monitor_decision *d;
        size_t nd;
        ASSERT_OK(aura_monitor_decisions(m, &d, &nd));
        for (size_t k = 0; k < nd; k++) {
            ASSERT_TRUE(d[k].reason[0] != '\0');
            ASSERT_TRUE(d[k].action < AURA_MONITOR_APPROVE);
            ASSERT_OK(aura_monitor_sim_apply(s, &d[k]));
        }
        decisions += nd;
    }
    ASSERT_TRUE(decisions > 0);
    aura_monitor_decision a;
    ASSERT_OK(aura_monitor_admit(m, 0, 1.0, 10.0, &a));
    ASSERT_TRUE(a.action >= AURA_MONITOR_APPROVE && a.action <= AURA_MONITOR_DEFER);
    ASSERT_OK(aura_monitor_admit(m, 0, 20.0, 10.0, &a));
    ASSERT_EQ(AURA_MONITOR_DENY, a.action);
    ASSERT_STATUS(AURA_E_RANGE, aura_monitor_admit(m, 5000, 1.0, 10.0, &a));
    aura_monitor_decision bad = a;
    bad.action = 99;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_sim_apply(s, &bad));
    aura_monitor_destroy(m);
    aura_monitor_sim_destroy(s);
}

AURA_TEST(monitor_ingest_fuzz_random_events)
{
    /* random and hostile field values: the monitor never crashes, and
     * every risk stays in [0, 1] */
    aura_rng r;
    aura_rng_init(&r, 99);
    aura_monitor_opts o = aura_monitor_opts_default();
    o.max_agents = 64;
    aura_monitor *m = NULL;
    ASSERT_OK(aura_monitor_create(&o, &m));
    aura_events_event ev[256];
    for (int round = 0; round < 200; round++) {
        for (int k = 0; k < 256; k++) {
            aura_events_event *e = &ev[k];
            memset(e, 0, sizeof *e);
            e->ts_us = (int64_t)aura_rng_below(&r, 400000000) - 1000000;
            e->kind = (uint16_t)aura_rng_below(&r, 12);
            e->src = (uint32_t)aura_rng_below(&r, 80);
            e->dst = aura_rng_below(&r, 4) ? (uint32_t)aura_rng_below(&r, 80) : UINT32_MAX;
            e->flags = (uint16_t)aura_rng_u64(&r);
            const float odd[] = {NAN, INFINITY, -1.0f, 0.0f, 1e30f, 0.5f};
            e->latency_ms = odd[aura_rng_below(&r, 6)];
            e->load = odd[aura_rng_below(&r, 6)];
        }
        size_t off = 0;
        while (off < 256) {
            size_t used;
            ASSERT_OK(aura_monitor_ingest(m, ev + off, 256 - off, &used));
            off += used;
            if (aura_monitor_open_tick(m) >= 0) {
                ASSERT_OK(aura_monitor_tick_close(m));
            }
        }
        const float *risk;
        const uint8_t *seen;
        uint32_t n;
        ASSERT_OK(aura_monitor_risk(m, &risk, &seen, &n));
        ASSERT_TRUE(n <= 64);
        for (uint32_t i = 0; i < n; i++) {
            ASSERT_TRUE(risk[i] >= 0.0f && risk[i] <= 1.0f);
        }
    }
    aura_monitor_destroy(m);
}
