/* recall.c -- shape memory for the monitor: every closed tick becomes a
 * signature of the system's situation; H ticks later its outcome (did a
 * cascade follow, as the monitor itself observed it) is known and the
 * situation joins a cosine kNN index (and the memory store, if one is
 * given).  The k most similar past situations feed the tick's decisions.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "aura/memory.h"
#include "aura/monitor.h"
#include "core/core_int.h"
#include "monitor/monitor_int.h"

#define LABEL_PREFIX "monitor/"

static const char *const outcome_names[3] = {"calm", "failure", "cascade"};

/* The signature's features: a constant (so that calm situations resemble
 * each other), system features centred on a healthy system and scaled,
 * and aggregates of the agents' risk.  Looked up by name, so that
 * features added to the monitor later do not shift them. */
typedef struct sig_feature {
    const char *name; /* a system feature; NULL for the computed ones below */
    float centre, scale;
} sig_feature;

static const sig_feature sig_features[] = {
    {"load_mean", 0.55f, 0.2f},     {"load_std", 0.15f, 0.2f},
    {"load_max", 1.0f, 0.5f},       {"frac_overloaded", 0.0f, 0.05f},
    {"frac_low_trust", 0.0f, 0.05f}, {"frac_loaded_ap", 0.0f, 0.05f},
    {"frac_failing", 0.0f, 0.05f},  {"mean_in_err", 0.02f, 0.05f},
    {"d_frac_failing", 0.0f, 0.02f}, {"d_load_mean", 0.0f, 0.05f},
    /* the shape of the situation (tda_feat.c), from the size-free ones:
     * components of the live graph filtered by error rate and their
     * persistence, and persistence of the agents' state-space cloud (a
     * fixed-size sample); centres and scales from calm runs */
    {"tda_health_b0", 1.0f, 2.0f},  {"tda_health_h0_tp", 0.02f, 0.1f},
    {"tda_state_h0_tp", 1.93f, 0.5f}, {"tda_state_h1_tp", 0.045f, 0.05f},
    {"d_tda_state_h0_tp", 0.0f, 0.5f},
};
#define N_SYS (sizeof sig_features / sizeof sig_features[0])
#define N_SIG (1 + N_SYS + 4) /* bias, system, risk mean/share/max, system risk */

typedef struct situation {
    int64_t tick, shape_id; /* shape_id: in the store, or -1 */
    uint8_t outcome;
} situation;

typedef struct pending {
    int64_t tick;
    uint32_t new_fail;
    float *vec; /* dim */
} pending;

struct aura_monitor_recall {
    aura_monitor_recall_opts o;
    const aura_allocator *alloc;
    aura_memory_knn *knn;
    situation *sit;
    float *vecs; /* cap_sit x dim: the signatures, to rebuild the index */
    size_t n_sit, cap_sit;
    pending *pend; /* ring of horizon entries */
    size_t n_pend, head;
    uint8_t *failing; /* per agent, last tick */
    uint32_t cap_agents;
    float *query;
    aura_memory_hit *raw;
    aura_monitor_recall_hit *hits;
    size_t n_hits;
    float share;
    int64_t *inc_tick;
    uint32_t *inc_agents;
    size_t n_inc, cap_inc;
    size_t counts[3];      /* situations by outcome */
    int escalated;         /* this tick's decisions were escalated */
    int64_t last_incident; /* tick of the last cascade recorded as an incident */
};

aura_monitor_recall_opts aura_monitor_recall_opts_default(void)
{
    return (aura_monitor_recall_opts){.alloc = NULL,
                                      .k = 5,
                                      .horizon = 10,
                                      .cascade_k = 3,
                                      .min_similarity = 0.9f,
                                      .escalate = 0.5f,
                                      .lift = 0.2f,
                                      .threshold_drop = 0.7f,
                                      .extra_actions = 4,
                                      .dim = 128,
                                      .max_situations = 50000,
                                      .seed = 7,
                                      .store = NULL};
}

size_t aura_monitor_recall_n_features(void)
{
    return N_SIG;
}

static int sys_index(const char *name)
{
    for (size_t i = 0; i < AURA_MONITOR_SYSTEM_FEATURES; i++) {
        const char *f = aura_monitor_system_feature_name(i);
        if (f && strcmp(f, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int agent_index(const char *name)
{
    for (size_t i = 0; i < AURA_MONITOR_AGENT_FEATURES; i++) {
        const char *f = aura_monitor_agent_feature_name(i);
        if (f && strcmp(f, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static float clamp5(float x)
{
    return x < -5.0f ? -5.0f : (x > 5.0f ? 5.0f : x);
}

aura_status aura_monitor_recall_features(const aura_monitor *mon, float *out)
{
    AURA_CHECK_ARG(mon && out);
    const float *sys, *risk;
    const uint8_t *seen;
    uint32_t n;
    aura_monitor_features(mon, NULL, &sys, &n);
    aura_monitor_risk(mon, &risk, &seen, &n);
    float v[N_SIG];
    size_t k = 0;
    v[k++] = 1.0f;
    for (size_t i = 0; i < N_SYS; i++) {
        int idx = sys_index(sig_features[i].name);
        float x = idx >= 0 && isfinite(sys[idx]) ? sys[idx] : sig_features[i].centre;
        v[k++] = clamp5((x - sig_features[i].centre) / sig_features[i].scale);
    }
    double sum = 0.0, cnt = 0.0, hot = 0.0, mx = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        if (seen[i]) {
            sum += risk[i];
            hot += risk[i] >= 0.5f;
            mx = risk[i] > mx ? risk[i] : mx;
            cnt++;
        }
    }
    double c = cnt > 0 ? cnt : 1.0;
    v[k++] = clamp5((float)((sum / c - 0.05) / 0.1));
    v[k++] = clamp5((float)(hot / c / 0.05));
    v[k++] = clamp5((float)((mx - 0.3) / 0.5));
    v[k++] = clamp5((aura_monitor_system_risk(mon) - 0.1f) / 0.2f);
    memcpy(out, v, sizeof v);
    return AURA_OK;
}

/* ---- the index ---- */

/* Keeps the newer half of the situations: a new index over them. */
static aura_status forget_older_half(aura_monitor_recall *rc)
{
    size_t keep = rc->n_sit / 2, drop = rc->n_sit - keep, dim = rc->o.dim;
    aura_memory_knn_opts ko = aura_memory_knn_opts_default();
    ko.alloc = rc->alloc;
    ko.dim = dim;
    aura_memory_knn *knn;
    aura_status st = aura_memory_knn_create(&ko, &knn);
    for (size_t i = 0; st == AURA_OK && i < keep; i++) {
        st = aura_memory_knn_add(knn, (int64_t)i, &rc->vecs[(drop + i) * dim]);
    }
    if (st != AURA_OK) {
        aura_memory_knn_destroy(knn);
        return st;
    }
    aura_memory_knn_destroy(rc->knn);
    rc->knn = knn;
    memmove(rc->sit, rc->sit + drop, keep * sizeof *rc->sit);
    memmove(rc->vecs, rc->vecs + drop * dim, keep * dim * sizeof(float));
    rc->n_sit = keep;
    memset(rc->counts, 0, sizeof rc->counts);
    for (size_t i = 0; i < keep; i++) {
        rc->counts[rc->sit[i].outcome < 3 ? rc->sit[i].outcome : 0]++;
    }
    return AURA_OK;
}

static aura_status sit_push(aura_monitor_recall *rc, int64_t tick, int64_t shape_id,
                            uint8_t outcome, const float *vec)
{
    aura_status st;
    if (rc->n_sit >= rc->o.max_situations && (st = forget_older_half(rc)) != AURA_OK) {
        return st;
    }
    if (rc->n_sit == rc->cap_sit) {
        size_t c = rc->cap_sit ? rc->cap_sit * 2 : 256;
        situation *s = aura__realloc_array(rc->alloc, rc->sit, c, sizeof *s);
        if (!s) {
            return AURA_E_NOMEM;
        }
        rc->sit = s;
        float *v = aura__realloc_array(rc->alloc, rc->vecs, c * rc->o.dim, sizeof(float));
        if (!v) {
            return AURA_E_NOMEM;
        }
        rc->vecs = v;
        rc->cap_sit = c;
    }
    st = aura_memory_knn_add(rc->knn, (int64_t)rc->n_sit, vec);
    if (st != AURA_OK) {
        return st;
    }
    memcpy(&rc->vecs[rc->n_sit * rc->o.dim], vec, rc->o.dim * sizeof(float));
    rc->sit[rc->n_sit++] = (situation){tick, shape_id, outcome};
    rc->counts[outcome < 3 ? outcome : 0]++;
    return AURA_OK;
}

typedef struct load_ctx {
    aura_monitor_recall *rc;
    aura_status st;
} load_ctx;

static int load_one(void *ctx, const aura_memory_shape *sh)
{
    load_ctx *lc = ctx;
    if (!sh->label || strncmp(sh->label, LABEL_PREFIX, strlen(LABEL_PREFIX)) != 0 ||
        sh->dim != lc->rc->o.dim) {
        return 0; /* someone else's shapes */
    }
    const char *oc = sh->label + strlen(LABEL_PREFIX);
    int outcome = -1;
    for (int k = 0; k < 3; k++) {
        outcome = strcmp(oc, outcome_names[k]) == 0 ? k : outcome;
    }
    if (outcome < 0) {
        return 0;
    }
    long long tick = -1;
    if (sh->payload && sh->payload_len > 0 && sh->payload_len < 32) {
        char b[32];
        memcpy(b, sh->payload, sh->payload_len);
        b[sh->payload_len] = '\0';
        if (sscanf(b, "%lld", &tick) != 1) {
            tick = -1;
        }
    }
    lc->st = sit_push(lc->rc, tick, sh->id, (uint8_t)outcome, sh->vec);
    return lc->st != AURA_OK;
}

aura_status aura_monitor_recall_create(const aura_monitor_recall_opts *opts,
                                       aura_monitor_recall **out)
{
    AURA_CHECK_ARG(out);
    aura_monitor_recall_opts o = opts ? *opts : aura_monitor_recall_opts_default();
    if (o.k < 1 || o.k > 64 || o.horizon < 1 || o.horizon > 10000 || o.cascade_k < 1 ||
        !(o.min_similarity >= -1.0f && o.min_similarity <= 1.0f) ||
        !(o.escalate >= 0.0f && o.escalate <= 1.0f) || !(o.lift >= 0.0f && o.lift <= 1.0f) ||
        !(o.threshold_drop > 0.0f && o.threshold_drop <= 1.0f) || o.extra_actions < 0 ||
        o.dim < 1 || o.dim > AURA_MEMORY_MAX_DIM || o.max_situations < 2) {
        return AURA_E_INVAL;
    }
    aura_monitor_recall *rc = aura__calloc(o.alloc, 1, sizeof *rc);
    if (!rc) {
        return AURA_E_NOMEM;
    }
    rc->o = o;
    rc->alloc = o.alloc;
    rc->share = NAN;
    rc->last_incident = INT64_MIN;
    aura_memory_knn_opts ko = aura_memory_knn_opts_default();
    ko.alloc = o.alloc;
    ko.dim = o.dim;
    aura_status st = aura_memory_knn_create(&ko, &rc->knn);
    rc->pend = st == AURA_OK ? aura__calloc(o.alloc, (size_t)o.horizon, sizeof *rc->pend) : NULL;
    rc->query = rc->pend ? aura__calloc(o.alloc, o.dim, sizeof(float)) : NULL;
    rc->raw = rc->query ? aura__calloc(o.alloc, (size_t)o.k, sizeof *rc->raw) : NULL;
    rc->hits = rc->raw ? aura__calloc(o.alloc, (size_t)o.k, sizeof *rc->hits) : NULL;
    if (st == AURA_OK && !rc->hits) {
        st = AURA_E_NOMEM;
    }
    for (int i = 0; st == AURA_OK && i < o.horizon; i++) {
        rc->pend[i].vec = aura__calloc(o.alloc, o.dim, sizeof(float));
        st = rc->pend[i].vec ? AURA_OK : AURA_E_NOMEM;
    }
    if (st == AURA_OK && o.store) {
        load_ctx lc = {rc, AURA_OK};
        st = aura_memory_shape_scan(o.store, load_one, &lc);
        st = st == AURA_OK ? lc.st : st;
    }
    if (st != AURA_OK) {
        aura_monitor_recall_destroy(rc);
        return st;
    }
    *out = rc;
    return AURA_OK;
}

void aura_monitor_recall_destroy(aura_monitor_recall *rc)
{
    if (!rc) {
        return;
    }
    const aura_allocator *al = rc->alloc;
    aura_memory_knn_destroy(rc->knn);
    for (int i = 0; rc->pend && i < rc->o.horizon; i++) {
        aura__free(al, rc->pend[i].vec);
    }
    void *ptrs[] = {rc->pend, rc->sit, rc->vecs, rc->failing, rc->query, rc->raw, rc->hits, rc->inc_tick,
                    rc->inc_agents};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
        aura__free(al, ptrs[i]);
    }
    aura__free(al, rc);
}

void aura_monitor_recall_reset(aura_monitor_recall *rc)
{
    if (!rc) {
        return;
    }
    rc->n_pend = rc->head = 0;
    rc->n_hits = 0;
    rc->share = NAN;
    rc->last_incident = INT64_MIN;
    if (rc->failing) {
        memset(rc->failing, 0, rc->cap_agents);
    }
}

size_t aura_monitor_recall_size(const aura_monitor_recall *rc)
{
    return rc ? rc->n_sit : 0;
}

void aura_monitor_recall_counts(const aura_monitor_recall *rc, size_t counts[3])
{
    for (int k = 0; counts && k < 3; k++) {
        counts[k] = rc ? rc->counts[k] : 0;
    }
}

static aura_status add_labelled(aura_monitor_recall *rc, int64_t tick, const float *vec,
                                int outcome)
{
    int64_t shape_id = -1;
    if (rc->o.store) {
        char label[32], payload[32];
        snprintf(label, sizeof label, LABEL_PREFIX "%s", outcome_names[outcome]);
        int len = snprintf(payload, sizeof payload, "%lld", (long long)tick);
        aura_status st = aura_memory_shape_put(rc->o.store, label, vec, rc->o.dim, payload,
                                               (size_t)len, &shape_id);
        if (st != AURA_OK) {
            return st;
        }
    }
    return sit_push(rc, tick, shape_id, (uint8_t)outcome, vec);
}

aura_status aura_monitor_recall_add(aura_monitor_recall *rc, const float *features, int64_t tick,
                                    int outcome)
{
    AURA_CHECK_ARG(rc && features);
    if (outcome < 0 || outcome > 2) {
        return AURA_E_INVAL;
    }
    aura_status st = aura_memory_signature_project(features, N_SIG, rc->o.seed, rc->query,
                                                   rc->o.dim);
    return st == AURA_OK ? add_labelled(rc, tick, rc->query, outcome) : st;
}

aura_status aura_monitor_recall_last(const aura_monitor_recall *rc,
                                     const aura_monitor_recall_hit **hits, size_t *n,
                                     float *cascade_share)
{
    AURA_CHECK_ARG(rc && hits && n);
    *hits = rc->hits;
    *n = rc->n_hits;
    if (cascade_share) {
        *cascade_share = rc->share;
    }
    return AURA_OK;
}

/* ---- the hooks in tick_close ---- */

static aura_status incident_push(aura_monitor_recall *rc, int64_t tick, uint32_t agents)
{
    if (rc->n_inc >= 1024) {
        return AURA_OK; /* nobody takes them (no journal): keep the first ones only */
    }
    if (rc->n_inc == rc->cap_inc) {
        size_t c = rc->cap_inc ? rc->cap_inc * 2 : 16;
        int64_t *t = aura__realloc_array(rc->alloc, rc->inc_tick, c, sizeof *t);
        if (!t) {
            return AURA_E_NOMEM;
        }
        rc->inc_tick = t;
        uint32_t *a = aura__realloc_array(rc->alloc, rc->inc_agents, c, sizeof *a);
        if (!a) {
            return AURA_E_NOMEM;
        }
        rc->inc_agents = a;
        rc->cap_inc = c;
    }
    rc->inc_tick[rc->n_inc] = tick;
    rc->inc_agents[rc->n_inc++] = agents;
    return AURA_OK;
}

/* Agents newly failing this tick, as the monitor sees it: most calls to it
 * fail, or it has gone silent. */
static aura_status count_new_failures(aura_monitor_recall *rc, const aura_monitor *m,
                                      uint32_t *count)
{
    const float *feat;
    const uint8_t *seen;
    const float *risk;
    uint32_t n;
    aura_monitor_features(m, &feat, NULL, &n);
    aura_monitor_risk(m, &risk, &seen, &n);
    if (n > rc->cap_agents) {
        uint8_t *f = aura__realloc_array(rc->alloc, rc->failing, n, 1);
        if (!f) {
            return AURA_E_NOMEM;
        }
        memset(f + rc->cap_agents, 0, n - rc->cap_agents);
        rc->failing = f;
        rc->cap_agents = n;
    }
    int ie = agent_index("in_err_now"), si = agent_index("silence");
    uint32_t c = 0;
    for (uint32_t i = 0; i < n; i++) {
        const float *f = &feat[(size_t)i * AURA_MONITOR_AGENT_FEATURES];
        uint8_t now = seen[i] && ((ie >= 0 && f[ie] > 0.5f) || (si >= 0 && f[si] >= 2.0f));
        c += now && !rc->failing[i];
        rc->failing[i] = now;
    }
    *count = c;
    return AURA_OK;
}

aura_status aura__monitor_recall_observe(aura_monitor_recall *rc, const aura_monitor *m,
                                         int64_t tick, double *threshold, int *max_actions)
{
    uint32_t nf = 0;
    aura_status st = count_new_failures(rc, m, &nf);
    if (st != AURA_OK) {
        return st;
    }
    size_t H = (size_t)rc->o.horizon;
    /* older situations: their outcome window grows by this tick */
    for (size_t k = 0; k < rc->n_pend; k++) {
        rc->pend[(rc->head + k) % H].new_fail += nf;
    }
    /* the oldest is complete once H ticks have followed it */
    if (rc->n_pend == H) {
        pending *p = &rc->pend[rc->head];
        int outcome = p->new_fail >= (uint32_t)rc->o.cascade_k ? AURA_MONITOR_OUTCOME_CASCADE
                      : p->new_fail > 0                         ? AURA_MONITOR_OUTCOME_FAILURE
                                                                : AURA_MONITOR_OUTCOME_CALM;
        if ((st = add_labelled(rc, p->tick, p->vec, outcome)) != AURA_OK) {
            return st;
        }
        /* one incident per cascade: not again while its window overlaps */
        if (outcome == AURA_MONITOR_OUTCOME_CASCADE &&
            (rc->last_incident == INT64_MIN || p->tick > rc->last_incident + rc->o.horizon)) {
            rc->last_incident = p->tick;
            if ((st = incident_push(rc, p->tick, p->new_fail)) != AURA_OK) {
                return st;
            }
        }
        rc->head = (rc->head + 1) % H;
        rc->n_pend--;
    }
    /* this tick's signature: recall, then wait for its outcome */
    float feat[N_SIG];
    aura_monitor_recall_features(m, feat);
    if ((st = aura_memory_signature_project(feat, N_SIG, rc->o.seed, rc->query, rc->o.dim)) !=
        AURA_OK) {
        return st;
    }
    pending *p = &rc->pend[(rc->head + rc->n_pend) % H];
    p->tick = tick;
    p->new_fail = 0;
    memcpy(p->vec, rc->query, sizeof(float) * rc->o.dim);
    rc->n_pend++;
    rc->n_hits = 0;
    rc->share = NAN;
    rc->escalated = 0;
    if (rc->n_sit == 0) {
        return AURA_OK;
    }
    size_t nr = 0;
    if ((st = aura_memory_knn_search(rc->knn, rc->query, (size_t)rc->o.k, rc->raw, &nr)) !=
        AURA_OK) {
        return st;
    }
    double w = 0.0, wc = 0.0;
    for (size_t k = 0; k < nr; k++) {
        if (rc->raw[k].score < rc->o.min_similarity) {
            break;
        }
        const situation *s = &rc->sit[rc->raw[k].id];
        rc->hits[rc->n_hits++] = (aura_monitor_recall_hit){
            s->shape_id >= 0 ? s->shape_id : rc->raw[k].id, s->tick, rc->raw[k].score,
            s->outcome};
        w += rc->raw[k].score;
        wc += s->outcome == AURA_MONITOR_OUTCOME_CASCADE ? rc->raw[k].score : 0.0;
    }
    if (rc->n_hits == 0) {
        return AURA_OK;
    }
    rc->share = (float)(wc / w);
    float base = (float)rc->counts[AURA_MONITOR_OUTCOME_CASCADE] / (float)rc->n_sit;
    if (rc->share >= rc->o.escalate && rc->share >= base + rc->o.lift) {
        rc->escalated = 1;
        *threshold *= rc->o.threshold_drop;
        *max_actions += rc->o.extra_actions;
    }
    return AURA_OK;
}

void aura__monitor_recall_annotate(const aura_monitor_recall *rc, aura_monitor_decision *d,
                                   size_t n)
{
    if (rc->n_hits == 0) {
        return;
    }
    int cascade = rc->escalated;
    size_t nc = 0;
    for (size_t k = 0; k < rc->n_hits; k++) {
        nc += rc->hits[k].outcome == AURA_MONITOR_OUTCOME_CASCADE;
    }
    char note[64];
    int len = snprintf(note, sizeof note, "; recall %zu/%zu cascaded", nc, rc->n_hits);
    for (size_t k = 0; k < rc->n_hits && k < 2 && len > 0 && (size_t)len < sizeof note; k++) {
        len += snprintf(note + len, sizeof note - (size_t)len, "%s#%lld %.2f",
                        k ? ", " : ": ", (long long)rc->hits[k].id,
                        (double)rc->hits[k].similarity);
    }
    for (size_t k = 0; k < n; k++) {
        if (cascade) {
            float c = 0.5f + 0.5f * rc->share;
            d[k].confidence = d[k].confidence > c ? d[k].confidence : c;
        } else if (nc == 0) {
            d[k].confidence *= 0.8f; /* similar situations all passed without a cascade */
        }
        size_t used = strlen(d[k].reason);
        /* keep the note whole: shorten the reason if needed */
        size_t room = sizeof d[k].reason - 1, nl = strlen(note);
        if (used + nl > room) {
            used = room > nl ? room - nl : 0;
        }
        snprintf(d[k].reason + used, sizeof d[k].reason - used, "%s", note);
    }
}

size_t aura__monitor_recall_take_incidents(aura_monitor_recall *rc, int64_t *tick,
                                           uint32_t *agents, size_t cap)
{
    size_t n = rc->n_inc < cap ? rc->n_inc : cap;
    if (n == 0) {
        return 0;
    }
    memcpy(tick, rc->inc_tick, n * sizeof *tick);
    memcpy(agents, rc->inc_agents, n * sizeof *agents);
    memmove(rc->inc_tick, rc->inc_tick + n, (rc->n_inc - n) * sizeof *tick);
    memmove(rc->inc_agents, rc->inc_agents + n, (rc->n_inc - n) * sizeof *agents);
    rc->n_inc -= n;
    return n;
}
