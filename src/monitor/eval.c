/* eval.c -- ground-truth labels from the failure definition, and the
 * scores the monitor is judged by: AUROC and average precision of per-agent
 * failure within H ticks, lead time, and cascades (failures linked through
 * neighbours in time).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aura/monitor.h"
#include "core/core_int.h"

static int label_cmp(const void *a, const void *b)
{
    const aura_monitor_label *x = a, *y = b;
    if (x->tick != y->tick) {
        return x->tick < y->tick ? -1 : 1;
    }
    if (x->agent != y->agent) {
        return x->agent < y->agent ? -1 : 1;
    }
    return (int)x->event - (int)y->event;
}

/* Walks one agent's bad flags through the failure definition; calls
 * emit(tick, kind) for each fail/recover.  Returns the number emitted. */
static size_t agent_labels(const uint8_t *bad, int32_t n_ticks, uint32_t n_agents, uint32_t i,
                           aura_monitor_label *out, size_t cap, size_t k)
{
    int failed = 0, good_run = 0;
    int32_t good_start = 0;
    for (int32_t t = 0; t < n_ticks; t++) {
        uint8_t b = bad[(size_t)t * n_agents + i];
        if (!failed) {
            int next_bad = t + 1 < n_ticks && bad[(size_t)(t + 1) * n_agents + i];
            if (b == 2 || (b && next_bad)) {
                if (out && k < cap) {
                    out[k] = (aura_monitor_label){t, i, AURA_MONITOR_LABEL_FAIL, 0};
                }
                k++;
                failed = 1;
                good_run = 0;
            }
            continue;
        }
        if (b) {
            good_run = 0;
            continue;
        }
        if (good_run++ == 0) {
            good_start = t;
        }
        if (good_run == 3) {
            if (out && k < cap) {
                out[k] = (aura_monitor_label){good_start, i, AURA_MONITOR_LABEL_RECOVER, 0};
            }
            k++;
            failed = 0;
            good_run = 0;
        }
    }
    return k;
}

aura_status aura_monitor_labels_compute(const uint8_t *bad, int32_t n_ticks, uint32_t n_agents,
                                        aura_monitor_label *out, size_t cap, size_t *n_out)
{
    AURA_CHECK_ARG(n_out && (bad || n_ticks == 0 || n_agents == 0));
    if (n_ticks < 0) {
        return AURA_E_INVAL;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < n_agents; i++) {
        k = agent_labels(bad, n_ticks, n_agents, i, NULL, 0, k);
    }
    if (out && cap < k) {
        *n_out = k;
        return AURA_E_RANGE;
    }
    if (out) {
        size_t j = 0;
        for (uint32_t i = 0; i < n_agents; i++) {
            j = agent_labels(bad, n_ticks, n_agents, i, out, cap, j);
        }
        qsort(out, k, sizeof *out, label_cmp);
    }
    *n_out = k;
    return AURA_OK;
}

/* ---- ranking scores ---- */

typedef struct scored {
    float s;
    uint8_t y;
} scored;

static int scored_desc(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x < y) - (x > y);
}

static scored *sorted_copy(const float *score, const uint8_t *label, size_t n)
{
    scored *v = aura__alloc_array(NULL, n ? n : 1, sizeof *v);
    if (!v) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        v[i].s = score[i];
        v[i].y = label[i] ? 1 : 0;
    }
    qsort(v, n, sizeof *v, scored_desc);
    return v;
}

/* Mann-Whitney U from a descending sort; tied groups share half credit. */
static double auroc_sorted(const scored *v, size_t n)
{
    double pos = 0, neg = 0, u = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double gp = 0, gn = 0;
        while (j < n && v[j].s == v[i].s) {
            gp += v[j].y;
            gn += !v[j].y;
            j++;
        }
        /* each positive in the group beats negatives seen after it */
        u += gp * 0.5 * gn; /* ties: half credit */
        u += gn * pos;      /* earlier (higher-scored) positives beat these negatives */
        pos += gp;
        neg += gn;
        i = j;
    }
    if (pos == 0 || neg == 0) {
        return NAN;
    }
    return u / (pos * neg);
}

static double ap_sorted(const scored *v, size_t n)
{
    double tp = 0, seen = 0, total = 0, ap = 0;
    for (size_t i = 0; i < n; i++) {
        total += v[i].y;
    }
    if (total == 0) {
        return NAN;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double gp = 0;
        while (j < n && v[j].s == v[i].s) {
            gp += v[j].y;
            j++;
        }
        tp += gp;
        seen += (double)(j - i);
        ap += (gp / total) * (tp / seen);
        i = j;
    }
    return ap;
}

double aura_monitor_auroc(const float *score, const uint8_t *label, size_t n)
{
    if (!score || !label) {
        return NAN;
    }
    scored *v = sorted_copy(score, label, n);
    if (!v) {
        return NAN;
    }
    double r = auroc_sorted(v, n);
    aura__free(NULL, v);
    return r;
}

double aura_monitor_average_precision(const float *score, const uint8_t *label, size_t n)
{
    if (!score || !label) {
        return NAN;
    }
    scored *v = sorted_copy(score, label, n);
    if (!v) {
        return NAN;
    }
    double r = ap_sorted(v, n);
    aura__free(NULL, v);
    return r;
}

aura_monitor_eval_opts aura_monitor_eval_opts_default(void)
{
    return (aura_monitor_eval_opts){.horizon = 10, .threshold = 0.5, .cascade_k = 3};
}

/* ---- the full evaluation ---- */

typedef struct failure {
    int32_t start, end; /* end: recover tick, or n_ticks */
    uint32_t agent;
} failure;

typedef struct eval_work {
    uint8_t *failed;    /* [t*n + i]: agent failed at tick t */
    int32_t *next_fail; /* [t*n + i]: next fail tick strictly after t, or INT32_MAX */
    failure *fails;
    uint32_t n_fails;
} eval_work;

static aura_status build_failures(eval_work *w, int32_t T, uint32_t n,
                                  const aura_monitor_label *labels, size_t n_labels)
{
    size_t cells = (size_t)T * n;
    w->failed = aura__calloc(NULL, cells ? cells : 1, 1);
    w->next_fail = aura__alloc_array(NULL, cells ? cells : 1, sizeof(int32_t));
    w->fails = aura__alloc_array(NULL, n_labels ? n_labels : 1, sizeof(failure));
    if (!w->failed || !w->next_fail || !w->fails) {
        return AURA_E_NOMEM;
    }
    int32_t *open = aura__alloc_array(NULL, n ? n : 1, sizeof(int32_t));
    if (!open) {
        return AURA_E_NOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        open[i] = -1;
    }
    for (size_t k = 0; k < n_labels; k++) {
        const aura_monitor_label *l = &labels[k];
        if (l->agent >= n || l->tick < 0 || l->tick >= T) {
            continue;
        }
        if (l->event == AURA_MONITOR_LABEL_FAIL && open[l->agent] < 0) {
            open[l->agent] = (int32_t)w->n_fails;
            w->fails[w->n_fails++] = (failure){l->tick, T, l->agent};
        } else if (l->event == AURA_MONITOR_LABEL_RECOVER && open[l->agent] >= 0) {
            w->fails[open[l->agent]].end = l->tick;
            open[l->agent] = -1;
        }
    }
    aura__free(NULL, open);
    for (size_t c = 0; c < cells; c++) {
        w->next_fail[c] = INT32_MAX;
    }
    for (uint32_t f = 0; f < w->n_fails; f++) {
        const failure *x = &w->fails[f];
        for (int32_t t = x->start; t < x->end; t++) {
            w->failed[(size_t)t * n + x->agent] = 1;
        }
        for (int32_t t = x->start - 1; t >= 0; t--) {
            int32_t *nf = &w->next_fail[(size_t)t * n + x->agent];
            if (*nf <= x->start) {
                break;
            }
            *nf = x->start;
        }
    }
    return AURA_OK;
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    if (n == 0) {
        return NAN;
    }
    qsort(v, n, sizeof *v, double_cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The scored cells: risk given and the agent not failed; y = fails within
 * H.  Returns the count. */
static size_t scored_cells(const aura_monitor_eval_opts *o, const float *risk, int32_t T,
                           uint32_t n, const eval_work *w, float *s, uint8_t *y)
{
    size_t cells = (size_t)T * n, m = 0;
    for (size_t c = 0; c < cells; c++) {
        if (risk[c] < 0.0f || w->failed[c]) {
            continue;
        }
        int32_t t = (int32_t)(c / n);
        s[m] = risk[c];
        y[m] = w->next_fail[c] <= t + o->horizon;
        m++;
    }
    return m;
}

static aura_status score_risk(const aura_monitor_eval_opts *o, const float *risk, int32_t T,
                              uint32_t n, const eval_work *w, aura_monitor_eval *ev)
{
    size_t cells = (size_t)T * n, m = 0;
    float *s = aura__alloc_array(NULL, cells ? cells : 1, sizeof(float));
    uint8_t *y = aura__alloc(NULL, cells ? cells : 1);
    double *leads = aura__alloc_array(NULL, w->n_fails ? w->n_fails : 1, 2 * sizeof(double));
    if (!s || !y || !leads) {
        aura__free(NULL, s);
        aura__free(NULL, y);
        aura__free(NULL, leads);
        return AURA_E_NOMEM;
    }
    m = scored_cells(o, risk, T, n, w, s, y);
    for (size_t k = 0; k < m; k++) {
        ev->positives += y[k];
        ev->negatives += !y[k];
    }
    ev->auroc = aura_monitor_auroc(s, y, m);
    ev->pr_auc = aura_monitor_average_precision(s, y, m);
    ev->base_rate = m ? (double)ev->positives / (double)m : NAN;
    size_t nd = 0;
    double *all = leads + w->n_fails;
    for (uint32_t f = 0; f < w->n_fails; f++) {
        const failure *x = &w->fails[f];
        int32_t t0 = x->start - o->horizon > 0 ? x->start - o->horizon : 0;
        all[f] = 0.0;
        for (int32_t t = t0; t < x->start; t++) {
            size_t c = (size_t)t * n + x->agent;
            if (!w->failed[c] && risk[c] >= (float)o->threshold) {
                leads[nd++] = all[f] = (double)(x->start - t);
                break;
            }
        }
    }
    ev->detected = (uint32_t)nd;
    ev->lead_median = median(leads, nd);
    ev->lead_median_all = median(all, w->n_fails);
    aura__free(NULL, s);
    aura__free(NULL, y);
    aura__free(NULL, leads);
    return AURA_OK;
}

static uint32_t uf_find(uint32_t *p, uint32_t x)
{
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

static int tick_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Joins failures i and j (of two neighbours) when the later one starts
 * while the earlier is failed or within H ticks of its start. */
static void link_pair(const aura_monitor_eval_opts *o, const eval_work *w, uint32_t *p, uint32_t i,
                      uint32_t j)
{
    const failure *x = &w->fails[i], *z = &w->fails[j];
    if (x->start > z->start) {
        const failure *t = x;
        x = z;
        z = t;
    }
    int32_t until = x->end > x->start + o->horizon ? x->end : x->start + o->horizon;
    if (z->start <= until) {
        uint32_t ri = uf_find(p, i), rj = uf_find(p, j);
        if (ri != rj) {
            p[ri] = rj;
        }
    }
}

/* Links failure b to failure a of a neighbour when b starts while a is
 * failed or within H ticks of a's start. */
static aura_status cascades(const aura_monitor_eval_opts *o, uint32_t n, const uint32_t *edges,
                            size_t n_edges, const eval_work *w, aura_monitor_eval *ev)
{
    uint32_t F = w->n_fails;
    uint32_t *p = aura__alloc_array(NULL, (size_t)F + 1, sizeof(uint32_t));
    /* size[]: per-agent counter while grouping, then per-group size */
    size_t n_size = ((size_t)n > F ? n : F) + 1;
    uint32_t *size = aura__calloc(NULL, n_size, sizeof(uint32_t));
    int32_t *ticks = aura__alloc_array(NULL, (size_t)F + 1, sizeof(int32_t));
    uint32_t *first = NULL, *idx = NULL;
    if (!p || !size || !ticks) {
        goto nomem;
    }
    /* failures grouped by agent: idx[first[a] .. first[a+1]) */
    first = aura__calloc(NULL, (size_t)n + 2, sizeof(uint32_t));
    idx = aura__alloc_array(NULL, (size_t)F + 1, sizeof(uint32_t));
    if (!first || !idx) {
        goto nomem;
    }
    for (uint32_t f = 0; f < F; f++) {
        p[f] = f;
        first[w->fails[f].agent + 1]++;
    }
    for (uint32_t a = 0; a < n; a++) {
        first[a + 1] += first[a];
    }
    for (uint32_t f = 0; f < F; f++) {
        idx[first[w->fails[f].agent] + size[w->fails[f].agent]++] = f;
    }
    memset(size, 0, sizeof(uint32_t) * n_size);
    for (size_t e = 0; e < n_edges; e++) {
        uint32_t a = edges[2 * e], b = edges[2 * e + 1];
        if (a >= n || b >= n || a == b) {
            continue;
        }
        for (uint32_t u = first[a]; u < first[a + 1]; u++) {
            for (uint32_t v = first[b]; v < first[b + 1]; v++) {
                link_pair(o, w, p, idx[u], idx[v]);
            }
        }
    }
    ev->first_cascade_tick = -1;
    for (uint32_t f = 0; f < F; f++) {
        size[uf_find(p, f)]++;
    }
    for (uint32_t r = 0; r < F; r++) {
        if (size[r] == 0 || uf_find(p, r) != r) {
            continue;
        }
        if (size[r] > ev->largest_cascade) {
            ev->largest_cascade = size[r];
        }
        if ((int)size[r] < o->cascade_k) {
            continue;
        }
        ev->cascades++;
        uint32_t k = 0;
        for (uint32_t f = 0; f < F; f++) {
            if (uf_find(p, f) == r) {
                ticks[k++] = w->fails[f].start;
            }
        }
        qsort(ticks, k, sizeof *ticks, tick_cmp);
        int32_t t = ticks[o->cascade_k - 1];
        if (ev->first_cascade_tick < 0 || t < ev->first_cascade_tick) {
            ev->first_cascade_tick = t;
        }
    }
    aura__free(NULL, p);
    aura__free(NULL, size);
    aura__free(NULL, ticks);
    aura__free(NULL, first);
    aura__free(NULL, idx);
    return AURA_OK;
nomem:
    aura__free(NULL, p);
    aura__free(NULL, size);
    aura__free(NULL, ticks);
    aura__free(NULL, first);
    aura__free(NULL, idx);
    return AURA_E_NOMEM;
}

aura_status aura_monitor_eval_compute(const aura_monitor_eval_opts *opts, const float *risk,
                                      int32_t n_ticks, uint32_t n_agents,
                                      const aura_monitor_label *labels, size_t n_labels,
                                      const uint32_t *edges, size_t n_edges,
                                      aura_monitor_eval *out)
{
    AURA_CHECK_ARG(out && (labels || n_labels == 0) && (edges || n_edges == 0));
    aura_monitor_eval_opts o = opts ? *opts : aura_monitor_eval_opts_default();
    if (n_ticks < 0 || o.horizon < 1 || o.cascade_k < 1) {
        return AURA_E_INVAL;
    }
    aura_monitor_eval ev;
    memset(&ev, 0, sizeof ev);
    ev.auroc = ev.pr_auc = ev.base_rate = ev.lead_median = ev.lead_median_all = NAN;
    eval_work w = {0};
    aura_status st = build_failures(&w, n_ticks, n_agents, labels, n_labels);
    ev.failures = w.n_fails;
    if (st == AURA_OK && risk) {
        st = score_risk(&o, risk, n_ticks, n_agents, &w, &ev);
    }
    if (st == AURA_OK) {
        st = cascades(&o, n_agents, edges, n_edges, &w, &ev);
    }
    aura__free(NULL, w.failed);
    aura__free(NULL, w.next_fail);
    aura__free(NULL, w.fails);
    if (st == AURA_OK) {
        *out = ev;
    }
    return st;
}

aura_status aura_monitor_eval_samples(const aura_monitor_eval_opts *opts, const float *risk,
                                      int32_t n_ticks, uint32_t n_agents,
                                      const aura_monitor_label *labels, size_t n_labels,
                                      float *score_out, uint8_t *label_out, size_t *n_out)
{
    AURA_CHECK_ARG(risk && score_out && label_out && n_out && (labels || n_labels == 0));
    aura_monitor_eval_opts o = opts ? *opts : aura_monitor_eval_opts_default();
    if (n_ticks < 0 || o.horizon < 1) {
        return AURA_E_INVAL;
    }
    eval_work w = {0};
    aura_status st = build_failures(&w, n_ticks, n_agents, labels, n_labels);
    if (st == AURA_OK) {
        *n_out = scored_cells(&o, risk, n_ticks, n_agents, &w, score_out, label_out);
    }
    aura__free(NULL, w.failed);
    aura__free(NULL, w.next_fail);
    aura__free(NULL, w.fails);
    return st;
}
