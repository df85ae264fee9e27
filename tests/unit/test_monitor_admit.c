/* test_monitor_admit.c -- resource requests (simulator and parser), the
 * admission controller's branches, the journal round trip into the memory
 * store, and recall of similar past situations feeding a decision.
 * SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>
#include <sys/wait.h>

#include "test.h"

#include "aura/memory.h"
#include "aura/monitor.h"

/* ---- a monitor driven by hand-made events and a fixed risk ---- */

typedef struct fixed_risk {
    float risk[16];
} fixed_risk;

static aura_status fixed_score(void *ctx, const float *af, uint32_t n, const float *sf,
                               float *risk, float *sys_risk)
{
    (void)af;
    (void)sf;
    const fixed_risk *fr = ctx;
    for (uint32_t i = 0; i < n; i++) {
        risk[i] = i < 16 ? fr->risk[i] : 0.0f;
    }
    *sys_risk = 0.1f;
    return AURA_OK;
}

static aura_events_event ev_load(int64_t tick, uint32_t a, float load)
{
    aura_events_event e;
    memset(&e, 0, sizeof e);
    e.ts_us = tick * 1000000 + 900000 + a;
    e.kind = AURA_EVENTS_LOAD;
    e.src = a;
    e.dst = AURA_EVENTS_NO_AGENT;
    e.flags = AURA_EVENTS_F_HAS_LOAD;
    e.load = load;
    return e;
}

static aura_events_event ev_call(int64_t tick, uint32_t src, uint32_t dst, int ok, int j)
{
    aura_events_event e;
    memset(&e, 0, sizeof e);
    e.ts_us = tick * 1000000 + 100000 + src * 1000 + dst * 10 + j;
    e.kind = ok ? AURA_EVENTS_REPLY : AURA_EVENTS_TIMEOUT;
    e.src = src;
    e.dst = dst;
    e.flags = AURA_EVENTS_F_HAS_LATENCY | AURA_EVENTS_F_HAS_OK | (ok ? AURA_EVENTS_F_OK : 0);
    e.latency_ms = ok ? 30.0f : 1000.0f;
    return e;
}

/* Agents 0..5: 0 overloaded, 1 lies about its load (low trust), 2 fails
 * at moderate load, 3 loaded (0.8), 4 and 5 idle.  Agent 5 calls 0..4. */
static void feed_tick(aura_monitor *m, int64_t t)
{
    aura_events_event ev[64];
    size_t n = 0;
    float loads[6] = {1.3f, 0.2f, 0.6f, 0.8f, 0.3f, 0.3f};
    for (uint32_t a = 0; a < 6; a++) {
        ev[n++] = ev_load(t, a, loads[a]);
    }
    for (int j = 0; j < 3; j++) {
        ev[n++] = ev_call(t, 5, 0, 1, j);
        ev[n++] = ev_call(t, 5, 1, 0, j); /* calls to 1 fail while it reports 0.2 */
        ev[n++] = ev_call(t, 5, 2, 0, j);
        ev[n++] = ev_call(t, 5, 3, 1, j);
        ev[n++] = ev_call(t, 5, 4, 1, j);
    }
    /* sorted by ts: calls (100 ms + ...) before loads (900 ms) */
    for (size_t i = 1; i < n; i++) {
        for (size_t k = i; k > 0 && ev[k - 1].ts_us > ev[k].ts_us; k--) {
            aura_events_event x = ev[k];
            ev[k] = ev[k - 1];
            ev[k - 1] = x;
        }
    }
    size_t used;
    ASSERT_OK(aura_monitor_ingest(m, ev, n, &used));
    ASSERT_EQ(n, used);
    ASSERT_OK(aura_monitor_tick_close(m));
}

static aura_monitor_request req_of(uint32_t agent, float amount, uint8_t attempt)
{
    aura_monitor_request r;
    memset(&r, 0, sizeof r);
    r.agent = agent;
    r.amount = amount;
    r.attempt = attempt;
    r.id = 100 + agent;
    strcpy(r.resource, "gpu");
    return r;
}

AURA_TEST(monitor_admission_decides_each_branch)
{
    fixed_risk fr = {{0.9f, 0.2f, 0.8f, 0.2f, 0.1f, 0.1f}};
    aura_monitor_model model = {&fr, fixed_score};
    aura_monitor_opts mo = aura_monitor_opts_default();
    mo.model = &model;
    mo.act = 0;
    aura_monitor *m;
    ASSERT_OK(aura_monitor_create(&mo, &m));
    aura_monitor_admission *adm;
    aura_monitor_admission_opts ao = aura_monitor_admission_opts_default();
    ao.budget = 10.0;
    ASSERT_OK(aura_monitor_admission_create(&ao, &adm));
    aura_monitor_decision d;
    aura_monitor_request r = req_of(0, 1.0f, 0);
    ASSERT_STATUS(AURA_E_STATE, aura_monitor_admission_decide(adm, m, &r, &d));
    for (int64_t t = 0; t < 8; t++) {
        feed_tick(m, t);
    }
    const float *feat;
    uint32_t n;
    ASSERT_OK(aura_monitor_features(m, &feat, NULL, &n));
    ASSERT_EQ(6, n);
    ASSERT_TRUE(feat[1 * AURA_MONITOR_AGENT_FEATURES + 17] < 0.5f); /* agent 1: low trust */

    /* unknown agent */
    r = req_of(9, 1.0f, 0);
    ASSERT_OK(aura_monitor_admission_decide(adm, m, &r, &d));
    ASSERT_EQ(AURA_MONITOR_DENY, d.action);
    ASSERT_TRUE(strstr(d.reason, "unknown agent") != NULL);
    /* over the budget */
    r = req_of(0, 11.0f, 0);
    ASSERT_OK(aura_monitor_admission_decide(adm, m, &r, &d));
    ASSERT_EQ(AURA_MONITOR_DENY, d.action);
    ASSERT_TRUE(strstr(d.reason, "exceeds the budget") != NULL);
    /* low trust */
    r = req_of(1, 1.0f, 0);
    ASSERT_OK(aura_monitor_admission_decide(adm, m, &r, &d));
    ASSERT_EQ(AURA_MONITOR_DENY, d.action);
    ASSERT_TRUE(strstr(d.reason, "low trust") != NULL);
    /* at risk from load: approved, the budget shrinks */
    r = req_of(0, 2.0f, 0);
    ASSERT_OK(aura_monitor_admission_decide(adm, m, &r, &d));
    ASSERT_EQ(AURA_MONITOR_APPROVE, d.action);
    ASSERT_EQ(0, d.agent);
    ASSERT_NEAR(0.9, d.risk, 1e-6);
    ASSERT_TRUE(d.confidence > 0.5f && d.confidence <= 1.0f);
    ASSERT_NEAR(8.0, aura_monitor_admission_budget_left(adm), 1e-9);
    ASSERT_EQ(7, d.tick);
    /* at risk from errors at moderate load: capacity will not help */
    r = req_of(2, 1.0f, 0);
    ASSERT_OK(aura_monitor_admission_decide(adm, m, &r, &d));
    ASSERT_EQ(AURA_MONITOR_DENY, d.action);
    ASSERT_TRUE(strstr(d.reason, "will not help") != NULL);
    /* loaded, not at risk, budget above the reserve (3): approved */
    r = req_of(3, 1.0f, 0);
    ASSERT_OK(aura_monitor_admission_decide(adm, m, &r, &d));
    ASSERT_EQ(AURA_MONITOR_APPROVE, d.action);
    ASSERT_NEAR(7.0, aura_monitor_admission_budget_left(adm), 1e-9);
    /* the same when it would eat into the reserve: deferred */
    r = req_of(3, 4.5f, 0);
    ASSERT_OK(aura_monitor_admission_decide(adm, m, &r, &d));
    ASSERT_EQ(AURA_MONITOR_DEFER, d.action);
    /* idle: deferred, then denied after max_attempts deferrals */
    r = req_of(4, 1.0f, 0);
    ASSERT_OK(aura_monitor_admission_decide(adm, m, &r, &d));
    ASSERT_EQ(AURA_MONITOR_DEFER, d.action);
    ASSERT_TRUE(strstr(d.reason, "kept for agents at risk") != NULL);
    r = req_of(4, 1.0f, 3);
    ASSERT_OK(aura_monitor_admission_decide(adm, m, &r, &d));
    ASSERT_EQ(AURA_MONITOR_DENY, d.action);
    ASSERT_NEAR(7.0, aura_monitor_admission_budget_left(adm), 1e-9);
    /* bad options */
    ao.reserve = 2.0;
    aura_monitor_admission *bad = NULL;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_admission_create(&ao, &bad));
    ASSERT_TRUE(bad == NULL);
    aura_monitor_admission_destroy(adm);
    aura_monitor_destroy(m);
}

/* ---- the request event ---- */

AURA_TEST(monitor_request_parse_and_bad_input)
{
    aura_events_event e;
    memset(&e, 0, sizeof e);
    e.kind = AURA_EVENTS_CUSTOM;
    e.src = 7;
    e.ts_us = 5500000;
    aura_monitor_request r, keep;
    memset(&keep, 0x5a, sizeof keep);
    r = keep;
    const char *why = NULL;
    const char *ok = "{\"type\":\"request\",\"resource\":\"gpu\",\"amount\":2.5,\"id\":17,\"attempt\":1}";
    ASSERT_OK(aura_monitor_request_parse(&e, ok, strlen(ok), 1000.0, &r, &why));
    ASSERT_EQ(5, r.tick);
    ASSERT_EQ(7, r.agent);
    ASSERT_EQ(17, r.id);
    ASSERT_EQ(1, r.attempt);
    ASSERT_NEAR(2.5, r.amount, 1e-6);
    ASSERT_STREQ("gpu", r.resource);
    /* meta -> parse round trip */
    char buf[256];
    size_t len;
    ASSERT_OK(aura_monitor_request_meta(&r, buf, sizeof buf, &len));
    aura_monitor_request r2;
    ASSERT_OK(aura_monitor_request_parse(&e, buf, len, 1000.0, &r2, NULL));
    ASSERT_EQ(0, memcmp(&r, &r2, sizeof r));
    ASSERT_STATUS(AURA_E_RANGE, aura_monitor_request_meta(&r, buf, 10, &len));
    /* not requests */
    const char *other[] = {"{\"type\":\"note\",\"amount\":1}", "{\"amount\":1}", "[1,2]", "{"};
    for (size_t k = 0; k < 4; k++) {
        r = keep;
        ASSERT_STATUS(AURA_E_NOTFOUND,
                      aura_monitor_request_parse(&e, other[k], strlen(other[k]), 1000.0, &r, &why));
        ASSERT_EQ(0, memcmp(&r, &keep, sizeof r));
    }
    e.kind = AURA_EVENTS_LOAD;
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_monitor_request_parse(&e, ok, strlen(ok), 1000.0, &r, &why));
    e.kind = AURA_EVENTS_CUSTOM;
    /* malformed requests: named, output untouched */
    const char *bad[] = {
        "{\"type\":\"request\"}",
        "{\"type\":\"request\",\"amount\":\"2\"}",
        "{\"type\":\"request\",\"amount\":0}",
        "{\"type\":\"request\",\"amount\":-1}",
        "{\"type\":\"request\",\"amount\":1e300}",
        "{\"type\":\"request\",\"amount\":1,\"resource\":5}",
        "{\"type\":\"request\",\"amount\":1,\"resource\":\"\"}",
        "{\"type\":\"request\",\"amount\":1,\"resource\":\"abcdefghijklmnopqrstuvwxyz\"}",
        "{\"type\":\"request\",\"amount\":1,\"id\":-3}",
        "{\"type\":\"request\",\"amount\":1,\"id\":1.5}",
        "{\"type\":\"request\",\"amount\":1,\"attempt\":300}",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        r = keep;
        why = NULL;
        ASSERT_STATUS(AURA_E_FORMAT,
                      aura_monitor_request_parse(&e, bad[k], strlen(bad[k]), 1000.0, &r, &why));
        ASSERT_TRUE(why != NULL && *why);
        ASSERT_EQ(0, memcmp(&r, &keep, sizeof r));
    }
    /* seeded random mutations of a good request: never a crash, and either
     * parsed with sane values or rejected */
    aura_rng rng;
    aura_rng_init(&rng, 99);
    char mut[128];
    size_t n_ok = 0;
    for (int it = 0; it < 3000; it++) {
        size_t L = strlen(ok);
        memcpy(mut, ok, L + 1);
        int flips = 1 + (int)aura_rng_below(&rng, 4);
        for (int f = 0; f < flips; f++) {
            mut[aura_rng_below(&rng, L)] = (char)(32 + aura_rng_below(&rng, 95));
        }
        aura_status st = aura_monitor_request_parse(&e, mut, L, 1000.0, &r, &why);
        ASSERT_TRUE(st == AURA_OK || st == AURA_E_FORMAT || st == AURA_E_NOTFOUND);
        if (st == AURA_OK) {
            n_ok++;
            ASSERT_TRUE(r.amount > 0.0f && r.amount <= 1e6f && r.resource[0] != '\0');
        }
    }
    ASSERT_TRUE(n_ok > 0);
}

/* ---- the simulator's requests ---- */

static uint64_t req_digest(uint64_t seed, double rate, int answer, aura_monitor_sim_budget *bud)
{
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 80;
    o.ticks = 120;
    o.seed = seed;
    o.requests = rate;
    o.budget = 6;
    o.faults = "overload:*:20,overload:*:50,leak:*:30";
    aura_monitor_sim *s;
    ASSERT_OK(aura_monitor_sim_create(&o, &s));
    uint64_t h = 1469598103934665603ULL;
    const aura_events_event *ev;
    size_t n;
    int k = 0;
    while (aura_monitor_sim_step(s, &ev, &n) == AURA_OK) {
        const aura_monitor_request *r;
        size_t nr;
        ASSERT_OK(aura_monitor_sim_requests(s, &r, &nr));
        size_t seen = 0;
        for (size_t j = 0; j < n; j++) {
            if (ev[j].kind == AURA_EVENTS_CUSTOM) {
                ASSERT_TRUE(ev[j].meta < nr && r[ev[j].meta].agent == ev[j].src);
                ASSERT_TRUE(ev[j].flags & AURA_EVENTS_F_HAS_META);
                seen++;
                continue;
            }
            const unsigned char *p = (const unsigned char *)&ev[j];
            for (size_t b = 0; b < sizeof ev[j]; b++) {
                h = (h ^ p[b]) * 1099511628211ULL;
            }
        }
        ASSERT_EQ(nr, seen);
        for (size_t j = 0; j < nr; j++) {
            h = (h ^ (r[j].agent * 31u + r[j].id + (uint64_t)(r[j].amount * 8))) * 1099511628211ULL;
            if (answer) { /* approve, defer and deny in turn */
                aura_monitor_decision d;
                memset(&d, 0, sizeof d);
                d.agent = r[j].agent;
                d.action = (uint8_t)(k % 3 == 0   ? AURA_MONITOR_APPROVE
                                     : k % 3 == 1 ? AURA_MONITOR_DEFER
                                                  : AURA_MONITOR_DENY);
                k++;
                ASSERT_OK(aura_monitor_sim_apply(s, &d));
            }
        }
    }
    aura_monitor_sim_budget_get(s, bud);
    aura_monitor_sim_destroy(s);
    return h;
}

AURA_TEST(monitor_sim_requests_reproducible_and_answered)
{
    aura_monitor_sim_budget b1, b2, b0, ba;
    uint64_t a = req_digest(5, 1.0, 0, &b1), b = req_digest(5, 1.0, 0, &b2);
    ASSERT_EQ(a, b);
    ASSERT_TRUE(b1.asked > 5);
    ASSERT_EQ(b1.asked, b2.asked);
    ASSERT_TRUE(b1.unanswered + 2 >= b1.asked); /* open loop: nobody answers */
    ASSERT_NE(a, req_digest(6, 1.0, 0, &b0));
    /* requests do not change the other events (own random stream) */
    aura_monitor_sim_budget bn;
    uint64_t none = req_digest(5, 0.0, 0, &bn);
    ASSERT_EQ(0, bn.asked);
    (void)none;
    /* closed loop: approvals consume the budget, defers come back */
    req_digest(5, 1.0, 1, &ba);
    ASSERT_TRUE(ba.approved > 0 && ba.deferred > 0 && ba.denied > 0);
    ASSERT_NEAR(6.0, ba.left + ba.granted, 1e-9);
    ASSERT_TRUE(ba.granted <= 6.0);
    ASSERT_EQ(0, ba.unanswered);
    /* bad option */
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.requests = -1;
    aura_monitor_sim *s = NULL;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_sim_create(&o, &s));
}

AURA_TEST(monitor_sim_requests_leave_other_events_alone)
{
    /* with and without requests, the other events are byte for byte equal */
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 50;
    o.ticks = 60;
    aura_monitor_sim *s0, *s1;
    ASSERT_OK(aura_monitor_sim_create(&o, &s0));
    o.requests = 3.0;
    ASSERT_OK(aura_monitor_sim_create(&o, &s1));
    size_t customs = 0;
    for (int t = 0; t < 60; t++) {
        const aura_events_event *e0, *e1;
        size_t n0, n1;
        ASSERT_OK(aura_monitor_sim_step(s0, &e0, &n0));
        ASSERT_OK(aura_monitor_sim_step(s1, &e1, &n1));
        size_t j = 0;
        for (size_t i = 0; i < n1; i++) {
            if (e1[i].kind == AURA_EVENTS_CUSTOM) {
                customs++;
                continue;
            }
            ASSERT_TRUE(j < n0);
            ASSERT_EQ(0, memcmp(&e0[j], &e1[i], sizeof e0[j]));
            j++;
        }
        ASSERT_EQ(n0, j);
    }
    ASSERT_TRUE(customs > 0);
    aura_monitor_sim_destroy(s0);
    aura_monitor_sim_destroy(s1);
}

/* ---- journal: decisions into the memory store and back ---- */

typedef struct jq {
    int n, n_admit, bad;
    int64_t last_ts;
} jq;

static int on_entry(void *ctx, const aura_memory_entry *e)
{
    jq *q = ctx;
    cJSON *c = cJSON_ParseWithLength(e->context, e->context_len);
    const cJSON *tick = cJSON_GetObjectItemCaseSensitive(c, "tick");
    const cJSON *feat = cJSON_GetObjectItemCaseSensitive(c, "features");
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(c, "action");
    if (!cJSON_IsNumber(tick) || !cJSON_IsObject(feat) || !cJSON_IsString(action) ||
        !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(feat, "util")) ||
        !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, "risk")) ||
        e->ts_ms != ((int64_t)tick->valuedouble + 1) * 1000 ||
        strncmp(e->summary, action->valuestring, strlen(action->valuestring)) != 0 ||
        e->ts_ms < q->last_ts) {
        q->bad++;
    }
    q->n_admit += cJSON_GetObjectItemCaseSensitive(c, "request") != NULL;
    q->last_ts = e->ts_ms;
    q->n++;
    cJSON_Delete(c);
    return 0;
}

AURA_TEST(monitor_journal_round_trip)
{
    aura_memory_opts so = aura_memory_opts_default();
    so.fsync = AURA_MEMORY_FSYNC_NO;
    aura_memory_store *store;
    ASSERT_OK(aura_memory_store_open(test_path("%s/journal", test_tmpdir()), &so, &store));
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    o.n_agents = 60;
    o.ticks = 80;
    o.seed = 3;
    o.faults = "overload:*:10,leak:*:15,slow:*:20";
    o.requests = 1.0;
    aura_monitor_sim *sim;
    ASSERT_OK(aura_monitor_sim_create(&o, &sim));
    aura_monitor *m;
    ASSERT_OK(aura_monitor_create(NULL, &m));
    aura_monitor_journal *j;
    ASSERT_OK(aura_monitor_journal_create(store, NULL, &j));
    aura_monitor_admission *adm;
    ASSERT_OK(aura_monitor_admission_create(NULL, &adm));
    size_t decisions = 0, admissions = 0;
    uint32_t agent_counts[60] = {0};
    const aura_events_event *ev;
    size_t n;
    while (aura_monitor_sim_step(sim, &ev, &n) == AURA_OK) {
        size_t used;
        ASSERT_OK(aura_monitor_ingest(m, ev, n, &used));
        ASSERT_EQ(n, used);
        ASSERT_OK(aura_monitor_tick_close(m));
        ASSERT_OK(aura_monitor_journal_tick(j, m));
        const aura_monitor_decision *d;
        size_t nd;
        ASSERT_OK(aura_monitor_decisions(m, &d, &nd));
        for (size_t k = 0; k < nd; k++) {
            agent_counts[d[k].agent]++;
            ASSERT_OK(aura_monitor_sim_apply(sim, &d[k]));
        }
        decisions += nd;
        const aura_monitor_request *r;
        size_t nr;
        ASSERT_OK(aura_monitor_sim_requests(sim, &r, &nr));
        for (size_t k = 0; k < nr; k++) {
            aura_monitor_decision a;
            ASSERT_OK(aura_monitor_admission_decide(adm, m, &r[k], &a));
            ASSERT_OK(aura_monitor_journal_decision(j, m, &a, &r[k]));
            ASSERT_OK(aura_monitor_sim_apply(sim, &a));
            agent_counts[a.agent]++;
            admissions++;
        }
    }
    ASSERT_TRUE(decisions > 0 && admissions > 0);
    ASSERT_EQ(decisions + admissions, aura_monitor_journal_count(j));
    /* everything, in time order */
    jq q = {0};
    ASSERT_OK(aura_memory_journal_query(store, AURA_MEMORY_DECISION, NULL, 0, INT64_MAX, on_entry, &q));
    ASSERT_EQ(0, q.bad);
    ASSERT_EQ(decisions + admissions, q.n);
    ASSERT_EQ(admissions, q.n_admit);
    /* by agent */
    uint32_t busiest = 0;
    for (uint32_t i = 1; i < 60; i++) {
        busiest = agent_counts[i] > agent_counts[busiest] ? i : busiest;
    }
    char name[16];
    snprintf(name, sizeof name, "a%u", busiest);
    jq qa = {0};
    ASSERT_OK(aura_memory_journal_query(store, 0, name, 0, INT64_MAX, on_entry, &qa));
    ASSERT_EQ(agent_counts[busiest], qa.n);
    ASSERT_EQ(0, qa.bad);
    /* by time: ticks 20..39 are ts (21..40) * 1000 */
    jq qt = {0}, qall = {0};
    ASSERT_OK(aura_memory_journal_query(store, AURA_MEMORY_DECISION, NULL, 21000, 41000, on_entry, &qt));
    ASSERT_OK(aura_memory_journal_query(store, AURA_MEMORY_DECISION, NULL, 0, 21000, on_entry, &qall));
    ASSERT_TRUE(qt.n > 0 && qt.n < q.n);
    ASSERT_EQ(0, qt.bad);
    aura_monitor_admission_destroy(adm);
    aura_monitor_journal_destroy(j);
    aura_monitor_destroy(m);
    aura_monitor_sim_destroy(sim);
    aura_memory_store_destroy(store);
}

/* ---- recall ---- */

/* Runs `ticks` hand-made ticks; returns 1 if a tick decided on agent 3
 * (risk 0.4 by the fixed model: below the 0.5 threshold), with the first
 * such decision's reason and confidence; the signature of the last tick. */
static int decided_on_3(aura_monitor_recall *rc, int ticks, float *signature_out,
                        char *reason, float *confidence)
{
    fixed_risk fr = {{0.1f, 0.1f, 0.1f, 0.4f, 0.1f, 0.1f}};
    aura_monitor_model model = {&fr, fixed_score};
    aura_monitor_opts mo = aura_monitor_opts_default();
    mo.model = &model;
    mo.recall = rc;
    aura_monitor *m;
    ASSERT_OK(aura_monitor_create(&mo, &m));
    int found = 0;
    for (int t = 0; t < ticks; t++) {
        feed_tick(m, t);
        const aura_monitor_decision *d;
        size_t nd;
        ASSERT_OK(aura_monitor_decisions(m, &d, &nd));
        for (size_t k = 0; k < nd; k++) {
            if (d[k].agent == 3 && !found) {
                found = 1;
                snprintf(reason, 112, "%s", d[k].reason);
                *confidence = d[k].confidence;
            }
        }
    }
    if (signature_out) {
        ASSERT_OK(aura_monitor_recall_features(m, signature_out));
    }
    aura_monitor_destroy(m);
    return found;
}

AURA_TEST(monitor_recall_of_cascades_changes_the_decision)
{
    size_t nf = aura_monitor_recall_n_features();
    ASSERT_TRUE(nf >= 8);
    float *sig = calloc(nf, sizeof(float));
    char reason[112] = "";
    float conf = 0.0f;
    /* no recall: risk 0.4 < threshold 0.5, no decision on agent 3 */
    ASSERT_EQ(0, decided_on_3(NULL, 4, sig, reason, &conf));
    /* a history where this very situation ended in cascades */
    aura_monitor_recall_opts ro = aura_monitor_recall_opts_default();
    ro.horizon = 10; /* longer than the run: it adds nothing of its own */
    aura_monitor_recall *rc;
    ASSERT_OK(aura_monitor_recall_create(&ro, &rc));
    for (int k = 0; k < 4; k++) {
        ASSERT_OK(aura_monitor_recall_add(rc, sig, 100 + k, AURA_MONITOR_OUTCOME_CASCADE));
    }
    ASSERT_OK(aura_monitor_recall_add(rc, sig, 200, AURA_MONITOR_OUTCOME_CALM));
    /* far-away situations that ended calm (cascades are the exception: the
     * base rate stays low): never recalled */
    float *other = calloc(nf, sizeof(float));
    for (int k = 0; k < 20; k++) {
        memset(other, 0, nf * sizeof(float));
        other[0] = 1.0f;
        other[1 + k % (nf - 1)] = k % 2 ? -5.0f : 5.0f;
        other[1 + (k + 3) % (nf - 1)] = 4.0f;
        ASSERT_OK(aura_monitor_recall_add(rc, other, 300 + k, AURA_MONITOR_OUTCOME_CALM));
    }
    ASSERT_EQ(25, aura_monitor_recall_size(rc));
    size_t counts[3];
    aura_monitor_recall_counts(rc, counts);
    ASSERT_EQ(21, counts[AURA_MONITOR_OUTCOME_CALM]);
    ASSERT_EQ(4, counts[AURA_MONITOR_OUTCOME_CASCADE]);
    ASSERT_EQ(1, decided_on_3(rc, 4, NULL, reason, &conf));
    ASSERT_TRUE(strstr(reason, "recall 4/5 cascaded: #") != NULL);
    ASSERT_TRUE(conf >= 0.5f + 0.5f * 0.79f);
    const aura_monitor_recall_hit *h;
    size_t nh;
    float share;
    ASSERT_OK(aura_monitor_recall_last(rc, &h, &nh, &share));
    ASSERT_EQ(5, nh);
    ASSERT_NEAR(0.8, share, 1e-3);
    for (size_t k = 0; k < nh; k++) {
        ASSERT_TRUE(h[k].similarity > 0.999f);
        ASSERT_TRUE(h[k].tick < 300);
    }
    aura_monitor_recall_destroy(rc);
    /* a history where it ended calm: no decision */
    ASSERT_OK(aura_monitor_recall_create(&ro, &rc));
    for (int k = 0; k < 5; k++) {
        ASSERT_OK(aura_monitor_recall_add(rc, sig, 100 + k, AURA_MONITOR_OUTCOME_CALM));
    }
    ASSERT_EQ(0, decided_on_3(rc, 4, NULL, reason, &conf));
    ASSERT_OK(aura_monitor_recall_last(rc, &h, &nh, &share));
    ASSERT_EQ(5, nh);
    ASSERT_NEAR(0.0, share, 1e-6);
    aura_monitor_recall_destroy(rc);
    /* cascades everywhere (base rate 0.8): recalling them is no news */
    ASSERT_OK(aura_monitor_recall_create(&ro, &rc));
    for (int k = 0; k < 5; k++) {
        ASSERT_OK(aura_monitor_recall_add(rc, sig, 100 + k, k ? AURA_MONITOR_OUTCOME_CASCADE
                                                              : AURA_MONITOR_OUTCOME_CALM));
    }
    ASSERT_EQ(0, decided_on_3(rc, 4, NULL, reason, &conf));
    aura_monitor_recall_destroy(rc);
    free(sig);
    free(other);
}

static int on_incident_count(void *ctx, const aura_memory_entry *e)
{
    int *n = ctx;
    *n += e->kind == AURA_MEMORY_INCIDENT && strstr(e->summary, "cascade") != NULL;
    return 0;
}

typedef struct shape_count {
    int calm, failure, cascade, other;
} shape_count;

static int count_shape(void *ctx, const aura_memory_shape *s)
{
    shape_count *c = ctx;
    if (strcmp(s->label, "monitor/calm") == 0) {
        c->calm++;
    } else if (strcmp(s->label, "monitor/failure") == 0) {
        c->failure++;
    } else if (strcmp(s->label, "monitor/cascade") == 0) {
        c->cascade++;
    } else {
        c->other++;
    }
    return 0;
}

/* Outcomes come from what the monitor observes: four agents go silent at
 * tick 6; the situations before are labelled "cascade" H ticks later and
 * stored; a new recall loads them from the store. */
AURA_TEST(monitor_recall_labels_outcomes_from_observation)
{
    aura_memory_opts so = aura_memory_opts_default();
    so.fsync = AURA_MEMORY_FSYNC_NO;
    aura_memory_store *store;
    ASSERT_OK(aura_memory_store_open(test_path("%s/recall", test_tmpdir()), &so, &store));
    aura_monitor_recall_opts ro = aura_monitor_recall_opts_default();
    ro.horizon = 3;
    ro.store = store;
    aura_monitor_recall *rc;
    ASSERT_OK(aura_monitor_recall_create(&ro, &rc));
    aura_monitor_opts mo = aura_monitor_opts_default();
    mo.recall = rc;
    mo.act = 0;
    aura_monitor *m;
    ASSERT_OK(aura_monitor_create(&mo, &m));
    aura_monitor_journal *j;
    ASSERT_OK(aura_monitor_journal_create(store, NULL, &j));
    for (int64_t t = 0; t < 20; t++) {
        aura_events_event ev[10];
        size_t n = 0;
        for (uint32_t a = 0; a < 10; a++) {
            if (t >= 6 && a < 4) {
                continue; /* silent from tick 6 */
            }
            ev[n] = ev_load(t, a, 0.5f);
            ev[n].ts_us = t * 1000000 + a;
            n++;
        }
        size_t used;
        ASSERT_OK(aura_monitor_ingest(m, ev, n, &used));
        ASSERT_OK(aura_monitor_tick_close(m));
        ASSERT_OK(aura_monitor_journal_tick(j, m));
    }
    /* ticks 0..16 have known outcomes (H = 3 after them) */
    ASSERT_EQ(17, aura_monitor_recall_size(rc));
    shape_count c = {0};
    ASSERT_OK(aura_memory_shape_scan(store, count_shape, &c));
    ASSERT_EQ(17, c.calm + c.failure + c.cascade);
    ASSERT_EQ(0, c.other);
    ASSERT_TRUE(c.cascade >= 1 && c.cascade <= 3); /* silence reaches 2 at tick 7 */
    ASSERT_TRUE(c.calm >= 13);
    /* the cascade is journaled once, as an incident */
    int n_inc = 0;
    ASSERT_OK(aura_memory_journal_query(store, AURA_MEMORY_INCIDENT, "system", 0, INT64_MAX,
                                        on_incident_count, &n_inc));
    ASSERT_EQ(1, n_inc);
    aura_monitor_journal_destroy(j);
    aura_monitor_destroy(m);
    aura_monitor_recall_destroy(rc);
    /* a new recall on the same store starts with those situations */
    ASSERT_OK(aura_monitor_recall_create(&ro, &rc));
    ASSERT_EQ(17, aura_monitor_recall_size(rc));
    aura_monitor_recall_destroy(rc);
    aura_memory_store_destroy(store);
}

/* ---- end to end: aura simulate --requests | aura monitor --db --recall ---- */

static int run_sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int count_in_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    ASSERT_TRUE(f != NULL);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        n += strstr(line, needle) != NULL;
    }
    fclose(f);
    return n;
}

AURA_TEST(monitor_cli_requests_answered_and_journaled)
{
    const char *d = test_tmpdir(), *bin = test_aura_bin();
    ASSERT_EQ(0, run_sh(test_path("%s simulate --agents 60 --ticks 60 --seed 4 --requests 2"
                                  " --faults 'overload:*:10,leak:*:12' --events %s/req.jsonl",
                                  bin, d)));
    int asked = count_in_file(test_path("%s/req.jsonl", d), "\"type\":\"request\"");
    ASSERT_TRUE(asked > 3);
    ASSERT_EQ(0, run_sh(test_path("%s monitor --budget 4 --db %s/mdb --recall < %s/req.jsonl"
                                  " > %s/out.jsonl --events-out %s/dec.jsonl",
                                  bin, d, d, d, d)));
    const char *out = test_path("%s/out.jsonl", d);
    ASSERT_EQ(asked, count_in_file(out, "\"request\":"));
    int approved = count_in_file(out, "\"decision\":\"approve\"");
    int answers = approved + count_in_file(out, "\"decision\":\"deny\"") +
                  count_in_file(out, "\"decision\":\"defer\"");
    ASSERT_EQ(asked, answers);
    /* the journal holds every decision line: interventions and admissions */
    int decisions = count_in_file(out, "\"decision\":");
    aura_memory_opts so = aura_memory_opts_default();
    so.read_only = 1;
    aura_memory_store *store;
    ASSERT_OK(aura_memory_store_open(test_path("%s/mdb", d), &so, &store));
    jq q = {0};
    ASSERT_OK(aura_memory_journal_query(store, AURA_MEMORY_DECISION, NULL, 0, INT64_MAX, on_entry, &q));
    ASSERT_EQ(decisions, q.n);
    ASSERT_EQ(asked, q.n_admit);
    ASSERT_EQ(0, q.bad);
    aura_memory_store_destroy(store);
    /* every decision also as an event of the events schema */
    const char *dec = test_path("%s/dec.jsonl", d);
    ASSERT_EQ(decisions, count_in_file(dec, "\"meta\":{\"action\":"));
    ASSERT_EQ(asked, count_in_file(dec, "\"kind\":\"decision\""));
    ASSERT_EQ(0, run_sh(test_path("%s events check --strict %s/dec.jsonl > /dev/null 2>&1", bin, d)));
    /* --observe answers nothing */
    ASSERT_EQ(0, run_sh(test_path("%s monitor --observe < %s/req.jsonl > %s/obs.jsonl", bin, d, d)));
    ASSERT_EQ(0, count_in_file(test_path("%s/obs.jsonl", d), "\"decision\":"));
}

AURA_TEST(monitor_cli_malformed_requests_counted_and_skipped)
{
    const char *d = test_tmpdir(), *bin = test_aura_bin();
    char path[1024];
    snprintf(path, sizeof path, "%s", test_path("%s/badreq.jsonl", d));
    FILE *f = fopen(path, "w");
    ASSERT_TRUE(f != NULL);
    fputs("{\"ts\":10,\"kind\":\"load\",\"src\":\"a1\",\"load\":0.9}\n"
          "{\"ts\":20,\"kind\":\"custom\",\"src\":\"a1\",\"meta\":{\"type\":\"request\",\"amount\":\"lots\"}}\n"
          "{\"ts\":30,\"kind\":\"custom\",\"src\":\"a2\",\"meta\":{\"type\":\"request\",\"amount\":-2}}\n"
          "{\"ts\":40,\"kind\":\"custom\",\"src\":\"a2\",\"meta\":{\"type\":\"note\"}}\n"
          "{\"ts\":50,\"kind\":\"custom\",\"src\":\"a1\",\"meta\":{\"type\":\"request\",\"amount\":1,\"id\":3}}\n"
          "{\"ts\":1010,\"kind\":\"load\",\"src\":\"a1\",\"load\":0.9}\n",
          f);
    fclose(f);
    ASSERT_EQ(0, run_sh(test_path("%s monitor < %s > %s/br.out 2> %s/br.err", bin, path, d, d)));
    ASSERT_EQ(1, count_in_file(test_path("%s/br.out", d), "\"request\":3"));
    ASSERT_EQ(1, count_in_file(test_path("%s/br.err", d), "\"amount\" must be a number"));
    ASSERT_EQ(1, count_in_file(test_path("%s/br.err", d), "\"amount\" must be in (0, 1e6]"));
    ASSERT_EQ(1, count_in_file(test_path("%s/br.err", d), "2 malformed request events skipped"));
    ASSERT_EQ(3, run_sh(test_path("%s monitor --strict < %s > /dev/null 2> %s/br2.err", bin, path, d)));
    ASSERT_EQ(1, count_in_file(test_path("%s/br2.err", d), "stopping"));
    /* a database path that is not a directory: exit 3 with a message */
    ASSERT_EQ(3, run_sh(test_path("%s monitor --db %s < %s > /dev/null 2> %s/br3.err", bin, path,
                                  path, d)));
    ASSERT_EQ(1, count_in_file(test_path("%s/br3.err", d), "--db"));
}

AURA_TEST(monitor_cli_demo_admission_and_recall_arms)
{
    const char *d = test_tmpdir(), *bin = test_aura_bin();
    ASSERT_EQ(0, run_sh(test_path("%s demo --agents 40 --ticks 60 --runs 2 --model none"
                                  " --requests 2 --recall --report %s/ab.html > %s/ab.txt",
                                  bin, d, d)));
    const char *t = test_path("%s/ab.txt", d);
    ASSERT_TRUE(count_in_file(t, "admit") >= 1);
    ASSERT_EQ(1, count_in_file(t, "fcfs         admit        recall")); /* the header */
    ASSERT_EQ(1, count_in_file(t, "capacity granted"));
    ASSERT_TRUE(count_in_file(t, "recall") >= 1);
}

/* A decision event fed back into a monitor is the monitor's output, not the
 * agent's activity: the agent stays unseen, and a silent agent silent. */
AURA_TEST(monitor_decision_events_are_not_activity)
{
    aura_monitor_decision d;
    memset(&d, 0, sizeof d);
    d.tick = 2;
    d.agent = 4;
    d.target = 1;
    d.action = AURA_MONITOR_REROUTE;
    d.risk = 0.7f;
    d.confidence = 0.6f;
    snprintf(d.reason, sizeof d.reason, "a \"quoted\" reason\\with a backslash");
    aura_events_event ev;
    char meta[512];
    ASSERT_OK(aura_monitor_decision_event(&d, NULL, 1000.0, &ev, meta, sizeof meta));
    ASSERT_EQ(AURA_EVENTS_INTERVENTION, ev.kind);
    ASSERT_EQ(2999999, ev.ts_us);
    ASSERT_EQ(1, ev.dst);
    cJSON *c = cJSON_Parse(meta);
    ASSERT_TRUE(c != NULL);
    ASSERT_STREQ(d.reason, cJSON_GetObjectItemCaseSensitive(c, "reason")->valuestring);
    ASSERT_STREQ("reroute", cJSON_GetObjectItemCaseSensitive(c, "action")->valuestring);
    cJSON_Delete(c);
    ASSERT_STATUS(AURA_E_RANGE, aura_monitor_decision_event(&d, NULL, 1000.0, &ev, meta, 8));
    d.action = AURA_MONITOR_DEFER;
    aura_monitor_request r = req_of(4, 2.0f, 1);
    ASSERT_OK(aura_monitor_decision_event(&d, &r, 1000.0, &ev, meta, sizeof meta));
    ASSERT_EQ(AURA_EVENTS_DECISION, ev.kind);
    ASSERT_TRUE(strstr(meta, "\"request\":104") != NULL);
    /* into a monitor: agent 4 only has decision events */
    aura_monitor *m;
    ASSERT_OK(aura_monitor_create(NULL, &m));
    aura_events_event in[2] = {ev_load(2, 0, 0.5f), ev};
    in[1].ts_us = in[0].ts_us + 1;
    size_t used;
    ASSERT_OK(aura_monitor_ingest(m, in, 2, &used));
    ASSERT_EQ(2, used);
    ASSERT_OK(aura_monitor_tick_close(m));
    const float *risk;
    const uint8_t *seen;
    uint32_t n;
    ASSERT_OK(aura_monitor_risk(m, &risk, &seen, &n));
    ASSERT_EQ(1, n);
    aura_monitor_stats st;
    aura_monitor_get_stats(m, &st);
    ASSERT_EQ(1, st.events);
    aura_monitor_destroy(m);
}

/* The index is bounded: past max_situations the older half is forgotten,
 * and recall still finds the newer ones. */
AURA_TEST(monitor_recall_forgets_the_older_half_when_full)
{
    aura_monitor_recall_opts ro = aura_monitor_recall_opts_default();
    ro.max_situations = 40;
    aura_monitor_recall *rc;
    ASSERT_OK(aura_monitor_recall_create(&ro, &rc));
    size_t nf = aura_monitor_recall_n_features();
    float *f = calloc(nf, sizeof(float));
    for (int k = 0; k < 100; k++) {
        memset(f, 0, nf * sizeof(float));
        f[0] = 1.0f;
        f[1 + k % (nf - 1)] = (float)(k % 7) - 3.0f;
        ASSERT_OK(aura_monitor_recall_add(rc, f, k, k >= 90 ? AURA_MONITOR_OUTCOME_CASCADE
                                                            : AURA_MONITOR_OUTCOME_CALM));
        ASSERT_TRUE(aura_monitor_recall_size(rc) <= 40);
    }
    size_t c[3];
    aura_monitor_recall_counts(rc, c);
    ASSERT_EQ(aura_monitor_recall_size(rc), c[0] + c[1] + c[2]);
    ASSERT_EQ(10, c[AURA_MONITOR_OUTCOME_CASCADE]);
    ASSERT_TRUE(aura_monitor_recall_size(rc) >= 20);
    ro.max_situations = 1;
    aura_monitor_recall *bad = NULL;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_recall_create(&ro, &bad));
    free(f);
    aura_monitor_recall_destroy(rc);
}

/* A model's risk: the decisions also weigh half of a callee's risk (as the
 * rule score does), so the caller of a failing agent is acted on, while
 * the risk reported stays the model's own. */
AURA_TEST(monitor_model_decisions_weigh_callee_risk)
{
    fixed_risk fr = {{0.1f, 0.1f, 0.95f, 0.1f, 0.1f, 0.3f}};
    aura_monitor_model model = {.ctx = &fr, .score = fixed_score};
    aura_monitor_opts mo = aura_monitor_opts_default();
    mo.model = &model;
    aura_monitor *m;
    ASSERT_OK(aura_monitor_create(&mo, &m));
    feed_tick(m, 0);
    const aura_monitor_decision *d;
    size_t nd;
    ASSERT_OK(aura_monitor_decisions(m, &d, &nd));
    int on5 = 0, on2 = 0;
    for (size_t k = 0; k < nd; k++) {
        if (d[k].agent == 5) {
            on5 = 1;
            ASSERT_NEAR(0.3, d[k].risk, 1e-6); /* its own risk, not the weighed one */
        }
        on2 |= d[k].agent == 2;
    }
    ASSERT_TRUE(on2);
    ASSERT_TRUE(on5); /* 1 - 0.7 * (1 - 0.5 * 0.95) = 0.63 >= 0.5 */
    const float *risk;
    const uint8_t *seen;
    uint32_t n;
    ASSERT_OK(aura_monitor_risk(m, &risk, &seen, &n));
    ASSERT_NEAR(0.3, risk[5], 1e-6);
    aura_monitor_destroy(m);
    /* below: a caller whose callees are all calm is not acted on */
    fr.risk[2] = 0.1f;
    ASSERT_OK(aura_monitor_create(&mo, &m));
    feed_tick(m, 0);
    ASSERT_OK(aura_monitor_decisions(m, &d, &nd));
    ASSERT_EQ(0, (int)nd);
    aura_monitor_destroy(m);
}
