/* graph.c -- graph measures on an undirected CSR graph: connected
 * components, articulation points and bridges (Tarjan's low-link, iterative
 * so 10,000-agent chains do not overflow the stack), local clustering, and
 * Brandes betweenness from a sample of sources.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "aura/monitor.h"
#include "aura/rng.h"
#include "core/core_int.h"

#define NONE UINT32_MAX

/* Iterative DFS keeping disc/low times; stack frames are (vertex, next
 * neighbour position, parent edge position). */
aura_status aura_monitor_graph_tarjan(const aura_allocator *alloc, uint32_t n, const uint32_t *off,
                                      const uint32_t *adj, uint8_t *is_ap, uint32_t *bridge_deg,
                                      uint32_t *comp, aura_monitor_graph_measures *out)
{
    AURA_CHECK_ARG(off && (adj || off[n] == 0));
    uint32_t *disc = aura__alloc_array(alloc, (size_t)n * 6 + 1, sizeof(uint32_t));
    if (!disc) {
        return AURA_E_NOMEM;
    }
    uint32_t *low = disc + n, *stk = low + n, *pos = stk + n, *pedge = pos + n;
    uint8_t *own_ap = (uint8_t *)(pedge + n);
    if (!is_ap) {
        is_ap = own_ap;
    }
    aura_monitor_graph_measures m = {0, 0, 0};
    uint32_t timer = 0;
    for (uint32_t v = 0; v < n; v++) {
        disc[v] = NONE;
        is_ap[v] = 0;
        if (bridge_deg) {
            bridge_deg[v] = 0;
        }
    }
    for (uint32_t root = 0; root < n; root++) {
        if (disc[root] != NONE) {
            continue;
        }
        uint32_t sp = 0, root_children = 0;
        stk[sp++] = root;
        disc[root] = low[root] = timer++;
        pos[root] = off[root];
        pedge[root] = NONE;
        if (comp) {
            comp[root] = m.components;
        }
        while (sp > 0) {
            uint32_t v = stk[sp - 1];
            if (pos[v] < off[v + 1]) {
                uint32_t e = pos[v]++, w = adj[e];
                if (disc[w] == NONE) {
                    disc[w] = low[w] = timer++;
                    pos[w] = off[w];
                    pedge[w] = v;
                    if (comp) {
                        comp[w] = m.components;
                    }
                    stk[sp++] = w;
                    root_children += (v == root);
                } else if (w != pedge[v]) {
                    low[v] = low[v] < disc[w] ? low[v] : disc[w];
                }
                continue;
            }
            sp--;
            uint32_t p = pedge[v];
            if (p == NONE) {
                continue;
            }
            low[p] = low[p] < low[v] ? low[p] : low[v];
            if (low[v] > disc[p]) {
                m.bridges++;
                if (bridge_deg) {
                    bridge_deg[v]++;
                    bridge_deg[p]++;
                }
            }
            if (p != root && low[v] >= disc[p]) {
                is_ap[p] = 1;
            }
        }
        if (root_children > 1) {
            is_ap[root] = 1;
        }
        m.components++;
    }
    for (uint32_t v = 0; v < n; v++) {
        m.articulation += is_ap[v];
    }
    aura__free(alloc, disc);
    if (out) {
        *out = m;
    }
    return AURA_OK;
}

/* Triangles through v: mark v's neighbours, then count marked neighbours
 * of each neighbour.  O(sum of deg^2). */
aura_status aura_monitor_graph_clustering(const aura_allocator *alloc, uint32_t n,
                                          const uint32_t *off, const uint32_t *adj, float *out)
{
    AURA_CHECK_ARG(off && out);
    uint32_t *mark = aura__alloc_array(alloc, (size_t)n + 1, sizeof(uint32_t));
    if (!mark) {
        return AURA_E_NOMEM;
    }
    for (uint32_t v = 0; v < n; v++) {
        mark[v] = NONE;
    }
    for (uint32_t v = 0; v < n; v++) {
        uint32_t d = off[v + 1] - off[v];
        if (d < 2) {
            out[v] = 0.0f;
            continue;
        }
        for (uint32_t e = off[v]; e < off[v + 1]; e++) {
            mark[adj[e]] = v;
        }
        uint64_t links = 0;
        for (uint32_t e = off[v]; e < off[v + 1]; e++) {
            uint32_t w = adj[e];
            for (uint32_t f = off[w]; f < off[w + 1]; f++) {
                links += (mark[adj[f]] == v);
            }
        }
        /* each triangle edge among neighbours is seen twice */
        out[v] = (float)((double)links / ((double)d * (double)(d - 1)));
    }
    aura__free(alloc, mark);
    return AURA_OK;
}

/* Brandes' accumulation from one BFS source. */
static void brandes_from(uint32_t s, uint32_t n, const uint32_t *off, const uint32_t *adj,
                         uint32_t *order, int32_t *dist, double *sigma, double *delta, double *bc)
{
    for (uint32_t v = 0; v < n; v++) {
        dist[v] = -1;
        sigma[v] = 0.0;
        delta[v] = 0.0;
    }
    uint32_t head = 0, tail = 0;
    order[tail++] = s;
    dist[s] = 0;
    sigma[s] = 1.0;
    while (head < tail) {
        uint32_t v = order[head++];
        for (uint32_t e = off[v]; e < off[v + 1]; e++) {
            uint32_t w = adj[e];
            if (dist[w] < 0) {
                dist[w] = dist[v] + 1;
                order[tail++] = w;
            }
            if (dist[w] == dist[v] + 1) {
                sigma[w] += sigma[v];
            }
        }
    }
    for (uint32_t k = tail; k-- > 1;) {
        uint32_t w = order[k];
        for (uint32_t e = off[w]; e < off[w + 1]; e++) {
            uint32_t v = adj[e];
            if (dist[v] == dist[w] - 1) {
                delta[v] += sigma[v] / sigma[w] * (1.0 + delta[w]);
            }
        }
        bc[w] += delta[w];
    }
}

aura_status aura_monitor_graph_betweenness(const aura_allocator *alloc, uint32_t n,
                                           const uint32_t *off, const uint32_t *adj,
                                           uint32_t samples, uint64_t seed, float *out)
{
    AURA_CHECK_ARG(off && out);
    if (n == 0) {
        return AURA_OK;
    }
    uint32_t *order = aura__alloc_array(alloc, n, sizeof(uint32_t) + sizeof(int32_t));
    double *work = aura__alloc_array(alloc, (size_t)n * 3, sizeof(double));
    if (!order || !work) {
        aura__free(alloc, order);
        aura__free(alloc, work);
        return AURA_E_NOMEM;
    }
    int32_t *dist = (int32_t *)(order + n);
    double *sigma = work, *delta = work + n, *bc = work + 2 * (size_t)n;
    memset(bc, 0, sizeof(double) * n);
    if (samples >= n) {
        for (uint32_t s = 0; s < n; s++) {
            brandes_from(s, n, off, adj, order, dist, sigma, delta, bc);
        }
        samples = n;
    } else {
        aura_rng rng;
        aura_rng_init(&rng, seed);
        for (uint32_t k = 0; k < samples; k++) {
            uint32_t s = (uint32_t)aura_rng_below(&rng, n);
            brandes_from(s, n, off, adj, order, dist, sigma, delta, bc);
        }
    }
    /* Each unordered pair is counted from both ends over all n sources. */
    double scale = (double)n / (double)samples / 2.0;
    double norm = n > 2 ? ((double)(n - 1) * (double)(n - 2)) / 2.0 : 1.0;
    for (uint32_t v = 0; v < n; v++) {
        out[v] = (float)(bc[v] * scale / norm);
    }
    aura__free(alloc, order);
    aura__free(alloc, work);
    return AURA_OK;
}
