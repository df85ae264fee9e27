/* journal.c -- the monitor's decisions (interventions and admissions) with
 * their context into the memory store's journal, and the cascades its
 * recall observed as incidents.  Data flows monitor -> memory only: the
 * monitor never reads the journal back.
 * SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/memory.h"
#include "aura/monitor.h"
#include "core/core_int.h"
#include "monitor/monitor_int.h"

struct aura_monitor_journal {
    aura_monitor_journal_opts o;
    aura_memory_store *store;
    uint64_t count;
    char name[32];
};

aura_monitor_journal_opts aura_monitor_journal_opts_default(void)
{
    return (aura_monitor_journal_opts){
        .alloc = NULL, .tick_ms = 1000.0, .agent_name = NULL, .name_ctx = NULL};
}

aura_status aura_monitor_journal_create(aura_memory_store *store,
                                        const aura_monitor_journal_opts *opts,
                                        aura_monitor_journal **out)
{
    AURA_CHECK_ARG(store && out);
    aura_monitor_journal_opts o = opts ? *opts : aura_monitor_journal_opts_default();
    if (!(o.tick_ms > 0.0) || !isfinite(o.tick_ms)) {
        return AURA_E_INVAL;
    }
    aura_monitor_journal *j = aura__calloc(o.alloc, 1, sizeof *j);
    if (!j) {
        return AURA_E_NOMEM;
    }
    j->o = o;
    j->store = store;
    *out = j;
    return AURA_OK;
}

void aura_monitor_journal_destroy(aura_monitor_journal *j)
{
    if (j) {
        aura__free(j->o.alloc, j);
    }
}

uint64_t aura_monitor_journal_count(const aura_monitor_journal *j)
{
    return j ? j->count : 0;
}

static const char *agent_name(aura_monitor_journal *j, uint32_t id)
{
    const char *s = j->o.agent_name ? j->o.agent_name(j->o.name_ctx, id) : NULL;
    if (s && *s) {
        return s;
    }
    snprintf(j->name, sizeof j->name, "a%u", id);
    return j->name;
}

static int64_t tick_end_ms(const aura_monitor_journal *j, int64_t tick)
{
    double ms = ((double)tick + 1.0) * j->o.tick_ms;
    return ms >= 1.0 ? (int64_t)ms : 1; /* ts_ms <= 0 would take the store's clock */
}

static void add_num(cJSON *o, const char *k, double v)
{
    char b[32];
    snprintf(b, sizeof b, "%.6g", isfinite(v) ? v : 0.0); /* 6 digits are plenty */
    cJSON_AddNumberToObject(o, k, strtod(b, NULL));
}

static aura_status append(aura_monitor_journal *j, aura_memory_entry_kind kind, const char *agent,
                          int64_t ts_ms, const char *summary, cJSON *ctx)
{
    char *text = cJSON_PrintUnformatted(ctx);
    cJSON_Delete(ctx);
    if (!text) {
        return AURA_E_NOMEM;
    }
    aura_memory_entry e = {.kind = kind,
                           .agent = agent,
                           .ts_ms = ts_ms,
                           .summary = summary,
                           .context = text,
                           .context_len = strlen(text)};
    aura_status st = aura_memory_journal_append(j->store, &e, NULL);
    cJSON_free(text);
    j->count += st == AURA_OK;
    return st;
}

aura_status aura_monitor_journal_decision(aura_monitor_journal *j, const aura_monitor *mon,
                                          const aura_monitor_decision *d,
                                          const aura_monitor_request *req)
{
    AURA_CHECK_ARG(j && mon && d);
    const char *action = aura_monitor_action_name((aura_monitor_action)d->action);
    if (!action) {
        return AURA_E_INVAL;
    }
    cJSON *c = cJSON_CreateObject();
    cJSON *feat = c ? cJSON_AddObjectToObject(c, "features") : NULL;
    if (!feat) {
        cJSON_Delete(c);
        return AURA_E_NOMEM;
    }
    add_num(c, "tick", (double)d->tick);
    cJSON_AddStringToObject(c, "action", action);
    if (d->target != AURA_EVENTS_NO_AGENT) {
        cJSON_AddStringToObject(c, "target", agent_name(j, d->target));
    }
    add_num(c, "risk", d->risk);
    add_num(c, "confidence", d->confidence);
    add_num(c, "system_risk", aura_monitor_system_risk(mon));
    cJSON_AddStringToObject(c, "reason", d->reason);
    const float *af;
    uint32_t n;
    aura_monitor_features(mon, &af, NULL, &n);
    if (d->agent < n) {
        for (size_t i = 0; i < AURA_MONITOR_AGENT_FEATURES; i++) {
            const char *fname = aura_monitor_agent_feature_name(i);
            if (fname) {
                add_num(feat, fname, af[(size_t)d->agent * AURA_MONITOR_AGENT_FEATURES + i]);
            }
        }
    }
    if (req) {
        cJSON *r = cJSON_AddObjectToObject(c, "request");
        if (r) {
            add_num(r, "id", req->id);
            cJSON_AddStringToObject(r, "resource", req->resource);
            add_num(r, "amount", req->amount);
            add_num(r, "attempt", req->attempt);
        }
    }
    const aura_monitor_recall *rc = aura__monitor_recall_of(mon);
    if (rc) {
        const aura_monitor_recall_hit *h;
        size_t nh;
        float share;
        aura_monitor_recall_last(rc, &h, &nh, &share);
        cJSON *arr = cJSON_AddArrayToObject(c, "recall");
        static const char *const oc[3] = {"calm", "failure", "cascade"};
        for (size_t k = 0; arr && k < nh; k++) {
            cJSON *x = cJSON_CreateObject();
            if (x) {
                add_num(x, "situation", (double)h[k].id);
                add_num(x, "tick", (double)h[k].tick);
                add_num(x, "similarity", h[k].similarity);
                cJSON_AddStringToObject(x, "outcome", oc[h[k].outcome < 3 ? h[k].outcome : 0]);
                cJSON_AddItemToArray(arr, x);
            }
        }
    }
    char summary[160];
    snprintf(summary, sizeof summary, "%s: %s", action, d->reason);
    return append(j, AURA_MEMORY_DECISION, agent_name(j, d->agent), tick_end_ms(j, d->tick),
                  summary, c);
}

aura_status aura_monitor_journal_tick(aura_monitor_journal *j, const aura_monitor *mon)
{
    AURA_CHECK_ARG(j && mon);
    const aura_monitor_decision *d;
    size_t n;
    aura_status st = aura_monitor_decisions(mon, &d, &n);
    for (size_t k = 0; st == AURA_OK && k < n; k++) {
        st = aura_monitor_journal_decision(j, mon, &d[k], NULL);
    }
    aura_monitor_recall *rc = aura__monitor_recall_of(mon);
    while (st == AURA_OK && rc) {
        int64_t tick[16];
        uint32_t agents[16];
        size_t m = aura__monitor_recall_take_incidents(rc, tick, agents, 16);
        for (size_t k = 0; st == AURA_OK && k < m; k++) {
            cJSON *c = cJSON_CreateObject();
            if (!c) {
                return AURA_E_NOMEM;
            }
            add_num(c, "tick", (double)tick[k]);
            add_num(c, "new_failures", agents[k]);
            char summary[96];
            snprintf(summary, sizeof summary,
                     "cascade: %u agents newly failing in the ticks after tick %lld", agents[k],
                     (long long)tick[k]);
            st = append(j, AURA_MEMORY_INCIDENT, "system", tick_end_ms(j, tick[k]), summary, c);
        }
        if (m < 16) {
            break;
        }
    }
    return st;
}

/* ---- decisions as events ---- */

aura_status aura_monitor_decision_event(const aura_monitor_decision *d,
                                        const aura_monitor_request *req, double tick_ms,
                                        aura_events_event *ev, char *meta_buf, size_t meta_cap)
{
    AURA_CHECK_ARG(d && ev && meta_buf && tick_ms > 0.0 && d->tick >= 0);
    const char *action = aura_monitor_action_name((aura_monitor_action)d->action);
    if (!action) {
        return AURA_E_INVAL;
    }
    cJSON *c = cJSON_CreateObject();
    if (!c) {
        return AURA_E_NOMEM;
    }
    cJSON_AddStringToObject(c, "action", action);
    add_num(c, "risk", d->risk);
    add_num(c, "confidence", d->confidence);
    cJSON_AddStringToObject(c, "reason", d->reason);
    if (req) {
        add_num(c, "request", req->id);
        cJSON_AddStringToObject(c, "resource", req->resource);
        add_num(c, "amount", req->amount);
    }
    char *text = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    if (!text) {
        return AURA_E_NOMEM;
    }
    size_t len = strlen(text);
    aura_status st = len < meta_cap ? AURA_OK : AURA_E_RANGE;
    if (st == AURA_OK) {
        memcpy(meta_buf, text, len + 1);
        memset(ev, 0, sizeof *ev);
        ev->ts_us = (int64_t)(((double)d->tick + 1.0) * tick_ms * 1000.0) - 1;
        ev->kind = d->action >= AURA_MONITOR_APPROVE ? AURA_EVENTS_DECISION
                                                     : AURA_EVENTS_INTERVENTION;
        ev->src = d->agent;
        ev->dst = d->target;
        ev->flags = AURA_EVENTS_F_HAS_META;
    }
    cJSON_free(text);
    return st;
}
