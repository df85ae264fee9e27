/* admission.c -- resource requests (the `custom` "request" event) and the
 * admission controller: approve, deny or defer a request for capacity
 * given the budget, the requester's features and risk, and (with a recall
 * attached to the monitor) how similar past situations ended.
 * SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aura/monitor.h"
#include "core/core_int.h"
#include "monitor/monitor_int.h"

/* ---- the request event ---- */

aura_status aura_monitor_request_parse(const aura_events_event *ev, const char *meta,
                                       size_t meta_len, double tick_ms,
                                       aura_monitor_request *out, const char **why)
{
    AURA_CHECK_ARG(ev && out && tick_ms > 0.0);
    const char *w = NULL;
    if (ev->kind != AURA_EVENTS_CUSTOM || !meta) {
        return AURA_E_NOTFOUND;
    }
    cJSON *j = cJSON_ParseWithLength(meta, meta_len);
    if (!j) {
        return AURA_E_NOTFOUND; /* the reader only hands over valid JSON */
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    if (!cJSON_IsObject(j) || !cJSON_IsString(type) || strcmp(type->valuestring, "request") != 0) {
        cJSON_Delete(j);
        return AURA_E_NOTFOUND;
    }
    aura_monitor_request r;
    memset(&r, 0, sizeof r);
    const cJSON *amount = cJSON_GetObjectItemCaseSensitive(j, "amount");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(j, "resource");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *att = cJSON_GetObjectItemCaseSensitive(j, "attempt");
    if (!cJSON_IsNumber(amount)) {
        w = "\"amount\" must be a number";
    } else if (!(amount->valuedouble > 0.0) || !(amount->valuedouble <= 1e6)) {
        w = "\"amount\" must be in (0, 1e6]";
    } else if (res && !cJSON_IsString(res)) {
        w = "\"resource\" must be a string";
    } else if (res && (res->valuestring[0] == '\0' ||
                       strlen(res->valuestring) >= sizeof r.resource)) {
        w = "\"resource\" must be 1..23 bytes";
    } else if (id && (!cJSON_IsNumber(id) || !(id->valuedouble >= 0.0) ||
                      id->valuedouble > 4294967295.0 || floor(id->valuedouble) != id->valuedouble)) {
        w = "\"id\" must be an integer in 0..2^32-1";
    } else if (att && (!cJSON_IsNumber(att) || !(att->valuedouble >= 0.0) ||
                       att->valuedouble > 255.0 || floor(att->valuedouble) != att->valuedouble)) {
        w = "\"attempt\" must be an integer in 0..255";
    } else if (ev->ts_us < 0) {
        w = "negative timestamp";
    }
    if (w) {
        cJSON_Delete(j);
        if (why) {
            *why = w;
        }
        return AURA_E_FORMAT;
    }
    r.tick = (int64_t)floor((double)ev->ts_us / (tick_ms * 1000.0));
    r.agent = ev->src;
    r.amount = (float)amount->valuedouble;
    r.id = id ? (uint32_t)id->valuedouble : 0;
    r.attempt = att ? (uint8_t)att->valuedouble : 0;
    snprintf(r.resource, sizeof r.resource, "%s", res ? res->valuestring : "gpu");
    cJSON_Delete(j);
    *out = r;
    return AURA_OK;
}

aura_status aura_monitor_request_meta(const aura_monitor_request *r, char *buf, size_t cap,
                                      size_t *len_out)
{
    AURA_CHECK_ARG(r && buf);
    /* resource names come from the simulator or a parsed request: no
     * quotes or control bytes are allowed through */
    for (const char *p = r->resource; *p; p++) {
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) {
            return AURA_E_INVAL;
        }
    }
    int n = snprintf(buf, cap,
                     "{\"type\":\"request\",\"resource\":\"%s\",\"amount\":%.9g,\"id\":%u,"
                     "\"attempt\":%u}",
                     r->resource[0] ? r->resource : "gpu", (double)r->amount, r->id,
                     (unsigned)r->attempt);
    if (n < 0 || (size_t)n >= cap) {
        return AURA_E_RANGE;
    }
    if (len_out) {
        *len_out = (size_t)n;
    }
    return AURA_OK;
}

/* ---- the controller ---- */

struct aura_monitor_admission {
    aura_monitor_admission_opts o;
    double left;
};

aura_monitor_admission_opts aura_monitor_admission_opts_default(void)
{
    return (aura_monitor_admission_opts){
        .alloc = NULL, .budget = 10.0, .reserve = 0.3, .threshold = 0.5, .max_attempts = 3};
}

aura_status aura_monitor_admission_create(const aura_monitor_admission_opts *opts,
                                          aura_monitor_admission **out)
{
    AURA_CHECK_ARG(out);
    aura_monitor_admission_opts o = opts ? *opts : aura_monitor_admission_opts_default();
    if (!(o.budget >= 0.0) || !isfinite(o.budget) || !(o.reserve >= 0.0 && o.reserve <= 1.0) ||
        !(o.threshold >= 0.0 && o.threshold <= 1.0) || o.max_attempts < 0) {
        return AURA_E_INVAL;
    }
    aura_monitor_admission *a = aura__calloc(o.alloc, 1, sizeof *a);
    if (!a) {
        return AURA_E_NOMEM;
    }
    a->o = o;
    a->left = o.budget;
    *out = a;
    return AURA_OK;
}

void aura_monitor_admission_destroy(aura_monitor_admission *a)
{
    if (a) {
        aura__free(a->o.alloc, a);
    }
}

double aura_monitor_admission_budget_left(const aura_monitor_admission *a)
{
    return a ? a->left : 0.0;
}

/* Index of a named agent feature, or -1 (robust to features added later). */
static int feature_index(const char *name)
{
    for (size_t i = 0; i < AURA_MONITOR_AGENT_FEATURES; i++) {
        const char *f = aura_monitor_agent_feature_name(i);
        if (f && strcmp(f, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static float feature(const float *row, int idx, float dflt)
{
    return idx >= 0 ? row[idx] : dflt;
}

aura_status aura_monitor_admission_decide(aura_monitor_admission *a, const aura_monitor *mon,
                                          const aura_monitor_request *req,
                                          aura_monitor_decision *out)
{
    AURA_CHECK_ARG(a && mon && req && out);
    int64_t tick = aura_monitor_open_tick(mon) - 1;
    aura_monitor_stats ms;
    aura_monitor_get_stats(mon, &ms);
    if (ms.ticks == 0) {
        return AURA_E_STATE;
    }
    const float *risk, *feat;
    const uint8_t *seen;
    uint32_t n;
    aura_monitor_risk(mon, &risk, &seen, &n);
    aura_monitor_features(mon, &feat, NULL, &n);
    float sys_risk = aura_monitor_system_risk(mon);
    /* recall: how similar situations ended */
    const aura_monitor_recall_hit *hits = NULL;
    size_t n_hits = 0;
    float share = NAN;
    const aura_monitor_recall *rc = aura__monitor_recall_of(mon);
    if (rc) {
        aura_monitor_recall_last(rc, &hits, &n_hits, &share);
    }
    int cascade_like = n_hits > 0 && share >= 0.5f;

    aura_monitor_decision d;
    memset(&d, 0, sizeof d);
    d.tick = tick;
    d.agent = req->agent;
    d.target = AURA_EVENTS_NO_AGENT;
    double amt = (double)req->amount;
    if (req->agent >= n || !seen[req->agent]) {
        d.action = AURA_MONITOR_DENY;
        d.confidence = 0.9f;
        snprintf(d.reason, sizeof d.reason, "unknown agent: no observations to judge the request");
        *out = d;
        return AURA_OK;
    }
    const float *f = &feat[(size_t)req->agent * AURA_MONITOR_AGENT_FEATURES];
    float util = feature(f, feature_index("util"), 0.0f);
    float trust = feature(f, feature_index("trust"), 1.0f);
    float err = feature(f, feature_index("in_err_now"), 0.0f);
    float r = risk[req->agent];
    d.risk = r;
    double reserve = a->o.reserve * a->o.budget * (cascade_like ? 2.0 : 1.0);
    int at_risk = r >= (float)a->o.threshold;
    if (!(amt > 0.0) || amt > a->left) {
        d.action = AURA_MONITOR_DENY;
        d.confidence = 0.95f;
        snprintf(d.reason, sizeof d.reason, "request %.3g exceeds the budget left %.3g", amt,
                 a->left);
    } else if (trust < 0.5f) {
        d.action = AURA_MONITOR_DENY;
        d.confidence = 1.0f - 0.5f * trust;
        snprintf(d.reason, sizeof d.reason,
                 "low trust %.2f: reports load %.2f while %.0f%% of calls to it fail",
                 (double)trust, (double)util, 100.0 * err);
    } else if (at_risk && util > 0.75f) {
        d.action = AURA_MONITOR_APPROVE;
        d.confidence = cascade_like ? 0.5f + 0.5f * fmaxf(r, share) : r;
        snprintf(d.reason, sizeof d.reason, "at risk %.2f from load %.2f: capacity relieves it%s",
                 (double)r, (double)util, cascade_like ? "; similar past situations cascaded" : "");
    } else if (at_risk) {
        d.action = AURA_MONITOR_DENY;
        d.confidence = 0.6f;
        snprintf(d.reason, sizeof d.reason,
                 "at risk %.2f from errors (%.0f%%) at load %.2f: capacity will not help",
                 (double)r, 100.0 * err, (double)util);
    } else if (util > 0.7f && a->left - amt >= reserve) {
        d.action = AURA_MONITOR_APPROVE;
        d.confidence = 0.5f + 0.5f * fminf(1.0f, (util - 0.7f) / 0.3f);
        snprintf(d.reason, sizeof d.reason, "load %.2f rising, budget %.3g above the reserve %.3g",
                 (double)util, a->left, reserve);
    } else if ((int)req->attempt >= a->o.max_attempts) {
        d.action = AURA_MONITOR_DENY;
        d.confidence = 0.7f;
        snprintf(d.reason, sizeof d.reason, "load %.2f, risk %.2f after %u deferrals: not needed",
                 (double)util, (double)r, (unsigned)req->attempt);
    } else {
        d.action = AURA_MONITOR_DEFER;
        d.confidence = 0.5f + 0.5f * (1.0f - r) * (cascade_like ? 1.0f : 0.8f);
        snprintf(d.reason, sizeof d.reason,
                 "load %.2f, risk %.2f, system risk %.2f: budget %.3g kept for agents at risk%s",
                 (double)util, (double)r, (double)sys_risk, a->left,
                 cascade_like ? " (similar situations cascaded)" : "");
    }
    if (d.action == AURA_MONITOR_APPROVE) {
        a->left -= amt;
    }
    *out = d;
    return AURA_OK;
}
