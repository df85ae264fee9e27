/* tda_feat.c -- the monitor's topological features (system level), from the
 * `tda` module's public API, computed once per tick:
 *
 *  - health filtration of the live graph: the flag filtration of the
 *    undirected call graph with edge value = error rate of the calls over
 *    it (aura_tda_compute_graph, AURA_TDA_GRAPH_FLAG): healthy links enter
 *    first, so H0 counts the pieces the failing links cut the graph into;
 *  - shortest-path filtration of the weighted graph (edge length 1 + 4 x
 *    error rate, rounded to quarters) on up to AURA__MONITOR_TDA_LANDMARKS landmark agents
 *    (every k-th seen agent, so the sample is stable from tick to tick):
 *    shortest paths from each landmark (Dial's bucket queue), then the Rips barcode of the landmarks'
 *    path metric (aura_tda_compute_sparse; other components at infinity);
 *  - the agents' state-space point cloud (load, error rate of calls to it,
 *    latency growth, error rate of its calls out, own errors) sub-sampled
 *    the same way to AURA__MONITOR_TDA_POINTS agents
 *    (aura_tda_compute_points).
 *
 * Each barcode (H0 and H1) is vectorised with aura/tda_diagram.h: Betti
 * curve, total persistence, persistence entropy, the peak of the first
 * persistence landscape; plus changes since the last tick.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "aura/tda.h"
#include "aura/tda_diagram.h"
#include "aura/tda_extras.h"
#include "core/core_int.h"
#include "monitor/monitor_int.h"

static const char *const names[AURA__MONITOR_TDA_FEATURES] = {
    "tda_health_b0",      "tda_health_h0_tp",  "tda_health_h1",       "tda_path_h0_tp",
    "tda_path_h0_entropy", "tda_path_h1",       "tda_path_h1_tp",      "tda_path_h1_landscape",
    "tda_state_h0_tp",    "tda_state_h0_entropy", "tda_state_h1",     "tda_state_h1_tp",
    "tda_state_h1_landscape", "d_tda_path_h0_tp", "d_tda_state_h0_tp", "d_tda_state_h1_tp"};

const char *aura__monitor_tda_feature_name(size_t i)
{
    return i < AURA__MONITOR_TDA_FEATURES ? names[i] : NULL;
}

void aura__monitor_tda_free(aura__monitor_tda *t)
{
    if (!t) {
        return;
    }
    void *p[] = {t->edges, t->pairs, t->iv,     t->pts,    t->dist,
                 t->land,  t->q_node, t->q_next, t->q_dist};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        aura__free(t->alloc, p[i]);
    }
    memset(t, 0, sizeof *t);
}

static int need(const aura_allocator *al, void **p, size_t *cap, size_t n, size_t size)
{
    if (n <= *cap) {
        return 1;
    }
    size_t c = *cap ? *cap : 64;
    while (c < n) {
        c *= 2;
    }
    void *q = aura__realloc_array(al, *p, c, size);
    if (!q) {
        return 0;
    }
    *p = q;
    *cap = c;
    return 1;
}

/* Copies the pairs of dimension dim of r into t->iv (as doubles); returns
 * the count, or (size_t)-1 on allocation failure. */
static size_t take_pairs(aura__monitor_tda *t, const aura_tda_result *r, int dim)
{
    size_t n = aura_tda_result_count(r, dim);
    if (!need(t->alloc, (void **)&t->pairs, &t->cap_pairs, n + 1, sizeof(aura_tda_pair)) ||
        !need(t->alloc, (void **)&t->iv, &t->cap_iv, n + 1, sizeof(aura_tda_interval))) {
        return (size_t)-1;
    }
    size_t got = 0;
    if (n && aura_tda_result_pairs(r, dim, t->pairs, n, &got) != AURA_OK) {
        got = 0;
    }
    for (size_t k = 0; k < got; k++) {
        t->iv[k].birth = t->pairs[k].birth;
        t->iv[k].death = t->pairs[k].death;
    }
    return got;
}

/* Summary of the intervals in t->iv[0..n): total persistence, entropy,
 * and the peak of the first landscape over [0, max finite death]. */
static void vectorise(aura__monitor_tda *t, size_t n, float *tp, float *ent, float *land_peak)
{
    aura_tda_summary s;
    memset(&s, 0, sizeof s);
    if (n && aura_tda_diagram_summary(t->iv, n, &s) != AURA_OK) {
        memset(&s, 0, sizeof s);
    }
    if (tp) {
        *tp = (float)s.total_persistence;
    }
    if (ent) {
        *ent = (float)s.entropy;
    }
    if (land_peak) {
        double hi = 0.0, lam[AURA__MONITOR_TDA_SAMPLES];
        for (size_t k = 0; k < n; k++) {
            hi = isfinite(t->iv[k].death) && t->iv[k].death > hi ? t->iv[k].death : hi;
        }
        float peak = 0.0f;
        if (n && hi > 0.0 &&
            aura_tda_landscape(t->iv, n, 1, 0.0, hi, AURA__MONITOR_TDA_SAMPLES, lam) == AURA_OK) {
            for (int k = 0; k < AURA__MONITOR_TDA_SAMPLES; k++) {
                peak = (float)lam[k] > peak ? (float)lam[k] : peak;
            }
        }
        *land_peak = peak;
    }
}

/* ---- shortest paths from one landmark on the weighted CSR graph ----
 *
 * Edge lengths are 1 + 4 x error rate, in [1, 5]; they are rounded to
 * quarters (integers 4..20), so Dial's bucket queue (DIAL_SLOTS circular
 * buckets, lazy deletion) gives exact shortest paths of the rounded
 * lengths in O(n + m) per landmark. */

#define DIAL_Q 4.0f     /* units per length 1 */
#define DIAL_SLOTS 21u  /* > the largest rounded length (20) */

static uint32_t qlen(float w)
{
    float q = w * DIAL_Q + 0.5f;
    return q < DIAL_Q ? (uint32_t)DIAL_Q : (q > 20.0f ? 20u : (uint32_t)q);
}

/* d: n distances (UINT32_MAX = unreached); node/next/dist: a pool of
 * off[n] + 1 queue entries. */
static void shortest(const aura__monitor_tda_graph *g, uint32_t src, uint32_t *d, uint32_t *node,
                     uint32_t *next, uint32_t *ent_d)
{
    uint32_t head[DIAL_SLOTS];
    for (uint32_t k = 0; k < DIAL_SLOTS; k++) {
        head[k] = UINT32_MAX;
    }
    for (uint32_t v = 0; v < g->n; v++) {
        d[v] = UINT32_MAX;
    }
    uint32_t used = 0, pending = 1, cur = 0;
    d[src] = 0;
    node[0] = src;
    ent_d[0] = 0;
    next[0] = UINT32_MAX;
    head[0] = used++;
    while (pending > 0) {
        uint32_t slot = cur % DIAL_SLOTS;
        while (head[slot] != UINT32_MAX) {
            uint32_t e = head[slot];
            head[slot] = next[e];
            pending--;
            uint32_t u = node[e];
            if (ent_d[e] != d[u]) {
                continue; /* stale: u was reached by a shorter path */
            }
            for (uint32_t k = g->off[u]; k < g->off[u + 1]; k++) {
                uint32_t v = g->adj[k], nd = d[u] + qlen(g->w[k]);
                if (nd < d[v]) {
                    d[v] = nd;
                    node[used] = v;
                    ent_d[used] = nd;
                    next[used] = head[nd % DIAL_SLOTS];
                    head[nd % DIAL_SLOTS] = used++;
                    pending++;
                }
            }
        }
        cur++;
    }
}

/* Stable sub-sample of the seen agents: every k-th, at most cap. */
static uint32_t sample(const aura__monitor_tda_graph *g, uint32_t cap, uint32_t *out)
{
    uint32_t seen = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        seen += g->seen[i] != 0;
    }
    uint32_t stride = seen > cap ? (seen + cap - 1) / cap : 1, k = 0, c = 0;
    for (uint32_t i = 0; i < g->n && c < cap; i++) {
        if (g->seen[i] && k++ % stride == 0) {
            out[c++] = i;
        }
    }
    return c;
}

aura_status aura__monitor_tda_compute(aura__monitor_tda *t, const aura__monitor_tda_graph *g,
                                      float *out)
{
    float f[AURA__MONITOR_TDA_FEATURES];
    memset(f, 0, sizeof f);
    aura_status st = AURA_OK;
    aura_tda_opts to = aura_tda_opts_default();
    to.alloc = t->alloc;
    to.max_dim = 1;
    to.threads = 1; /* small complexes, every tick: a thread pool would cost more */
    aura_tda_result *r = NULL;
    size_t n;

    /* 1. health flag filtration of the whole live graph */
    if (!need(t->alloc, (void **)&t->edges, &t->cap_edges, g->n_pairs + 1, sizeof(aura_tda_edge))) {
        return AURA_E_NOMEM;
    }
    for (size_t k = 0; k < g->n_pairs; k++) {
        float e = g->pair_err[k];
        t->edges[k] = (aura_tda_edge){g->pairs[2 * k], g->pairs[2 * k + 1],
                                      isfinite(e) && e > 0.0f ? (e < 1.0f ? e : 1.0f) : 0.0f};
    }
    if (g->n > 0) {
        st = aura_tda_compute_graph(&to, g->n, t->edges, g->n_pairs, AURA_TDA_GRAPH_FLAG, 0, &r);
    }
    if (st == AURA_OK && r) {
        if ((n = take_pairs(t, r, 0)) == (size_t)-1) {
            st = AURA_E_NOMEM;
        } else {
            double b0 = 0.0;
            /* vertices never seen are isolated (essential) classes: leave them out */
            if (n && aura_tda_betti_curve(t->iv, n, 0.5, 0.5, 1, &b0) == AURA_OK) {
                uint32_t unseen = 0;
                for (uint32_t i = 0; i < g->n; i++) {
                    unseen += !g->seen[i] && g->off[i + 1] == g->off[i];
                }
                f[0] = (float)(b0 - unseen > 0 ? b0 - unseen : 0.0);
            }
            vectorise(t, n, &f[1], NULL, NULL);
            if ((n = take_pairs(t, r, 1)) == (size_t)-1) {
                st = AURA_E_NOMEM;
            } else {
                f[2] = (float)n;
            }
        }
    }
    aura_tda_result_destroy(r);
    r = NULL;

    /* 2. shortest-path filtration on landmarks */
    uint32_t L = AURA__MONITOR_TDA_LANDMARKS, P = AURA__MONITOR_TDA_POINTS;
    size_t cap_pts = (size_t)P * AURA__MONITOR_TDA_DIM;
    if (st == AURA_OK &&
        (!need(t->alloc, (void **)&t->land, &t->cap_land, (L > P ? L : P) + 1, sizeof(uint32_t)) ||
         !need(t->alloc, (void **)&t->dist, &t->cap_dist, (size_t)g->n + 1, sizeof(uint32_t)) ||
         !need(t->alloc, (void **)&t->q_node, &t->cap_q_node, (size_t)g->off[g->n] + 1,
               sizeof(uint32_t)) ||
         !need(t->alloc, (void **)&t->q_next, &t->cap_q_next, (size_t)g->off[g->n] + 1,
               sizeof(uint32_t)) ||
         !need(t->alloc, (void **)&t->q_dist, &t->cap_q_dist, (size_t)g->off[g->n] + 1,
               sizeof(uint32_t)) ||
         !need(t->alloc, (void **)&t->edges, &t->cap_edges, (size_t)L * L / 2 + 1,
               sizeof(aura_tda_edge)) ||
         !need(t->alloc, (void **)&t->pts, &t->cap_pts, cap_pts + 1, sizeof(float)))) {
        st = AURA_E_NOMEM;
    }
    if (st == AURA_OK) {
        uint32_t nl = sample(g, L, t->land);
        size_t ne = 0;
        for (uint32_t a = 0; a < nl; a++) {
            shortest(g, t->land[a], t->dist, t->q_node, t->q_next, t->q_dist);
            for (uint32_t b = 0; b < a; b++) {
                uint32_t d = t->dist[t->land[b]];
                if (d != UINT32_MAX) {
                    t->edges[ne++] = (aura_tda_edge){a, b, (float)d / DIAL_Q};
                }
            }
        }
        if (nl > 0) {
            st = aura_tda_compute_sparse(&to, nl, t->edges, ne, &r);
        }
        if (st == AURA_OK && r) {
            if ((n = take_pairs(t, r, 0)) == (size_t)-1) {
                st = AURA_E_NOMEM;
            } else {
                vectorise(t, n, &f[3], &f[4], NULL);
            }
            if (st == AURA_OK && (n = take_pairs(t, r, 1)) == (size_t)-1) {
                st = AURA_E_NOMEM;
            } else if (st == AURA_OK) {
                f[5] = (float)n;
                vectorise(t, n, &f[6], NULL, &f[7]);
            }
        }
        aura_tda_result_destroy(r);
        r = NULL;
    }

    /* 3. state-space point cloud */
    if (st == AURA_OK) {
        uint32_t np = sample(g, P, t->land);
        for (uint32_t a = 0; a < np; a++) {
            const float *fi = &g->feat[(size_t)t->land[a] * g->stride];
            float *p = &t->pts[(size_t)a * AURA__MONITOR_TDA_DIM];
            for (int q = 0; q < AURA__MONITOR_TDA_DIM; q++) {
                float v = fi[g->state_idx[q]] * g->state_scale[q];
                p[q] = isfinite(v) ? (v > 4.0f ? 4.0f : (v < -4.0f ? -4.0f : v)) : 0.0f;
            }
        }
        if (np > 0) {
            st = aura_tda_compute_points(&to, t->pts, np, AURA__MONITOR_TDA_DIM, &r);
        }
        if (st == AURA_OK && r) {
            if ((n = take_pairs(t, r, 0)) == (size_t)-1) {
                st = AURA_E_NOMEM;
            } else {
                vectorise(t, n, &f[8], &f[9], NULL);
            }
            if (st == AURA_OK && (n = take_pairs(t, r, 1)) == (size_t)-1) {
                st = AURA_E_NOMEM;
            } else if (st == AURA_OK) {
                f[10] = (float)n;
                vectorise(t, n, &f[11], NULL, &f[12]);
            }
        }
        aura_tda_result_destroy(r);
    }
    if (st != AURA_OK) {
        return st;
    }
    f[13] = t->has_prev ? f[3] - t->prev[0] : 0.0f;
    f[14] = t->has_prev ? f[8] - t->prev[1] : 0.0f;
    f[15] = t->has_prev ? f[11] - t->prev[2] : 0.0f;
    t->prev[0] = f[3];
    t->prev[1] = f[8];
    t->prev[2] = f[11];
    t->has_prev = 1;
    memcpy(out, f, sizeof f);
    return AURA_OK;
}
