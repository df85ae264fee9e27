/* test_monitor_graph.c -- graph measures against brute force on small
 * random graphs, and the evaluation scores on known cases.
 * SPDX-License-Identifier: MIT */
#include "test.h"

#include "aura/monitor.h"

enum { MAXN = 14 };

typedef struct small_graph {
    uint32_t n;
    uint8_t a[MAXN][MAXN];
    uint32_t off[MAXN + 1], adj[MAXN * MAXN];
} small_graph;

static void to_csr(small_graph *g)
{
    uint32_t k = 0;
    for (uint32_t v = 0; v < g->n; v++) {
        g->off[v] = k;
        for (uint32_t w = 0; w < g->n; w++) {
            if (g->a[v][w]) {
                g->adj[k++] = w;
            }
        }
    }
    g->off[g->n] = k;
}

static void random_graph(aura_rng *r, small_graph *g)
{
    memset(g, 0, sizeof *g);
    g->n = 1 + (uint32_t)aura_rng_below(r, MAXN);
    double p = 0.1 + 0.5 * aura_rng_uniform(r);
    for (uint32_t v = 0; v < g->n; v++) {
        for (uint32_t w = v + 1; w < g->n; w++) {
            if (aura_rng_uniform(r) < p) {
                g->a[v][w] = g->a[w][v] = 1;
            }
        }
    }
    to_csr(g);
}

/* Components of g without vertex `skip` and without edge (eu, ev). */
static int count_components(const small_graph *g, int skip, int eu, int ev)
{
    int seen[MAXN] = {0}, comps = 0, stack[MAXN];
    for (int s = 0; s < (int)g->n; s++) {
        if (s == skip || seen[s]) {
            continue;
        }
        comps++;
        int sp = 0;
        stack[sp++] = s;
        seen[s] = 1;
        while (sp) {
            int v = stack[--sp];
            for (int w = 0; w < (int)g->n; w++) {
                if (!g->a[v][w] || w == skip || seen[w] ||
                    ((v == eu && w == ev) || (v == ev && w == eu))) {
                    continue;
                }
                seen[w] = 1;
                stack[sp++] = w;
            }
        }
    }
    return comps;
}

AURA_TEST(monitor_graph_tarjan_matches_brute_force)
{
    aura_rng r;
    aura_rng_init(&r, 11);
    for (int trial = 0; trial < 300; trial++) {
        small_graph g;
        random_graph(&r, &g);
        uint8_t ap[MAXN];
        uint32_t bdeg[MAXN], comp[MAXN];
        aura_monitor_graph_measures m;
        ASSERT_OK(aura_monitor_graph_tarjan(NULL, g.n, g.off, g.adj, ap, bdeg, comp, &m));
        int base = count_components(&g, -1, -1, -1);
        ASSERT_EQ(base, m.components);
        uint32_t n_ap = 0, n_br = 0, bd[MAXN] = {0};
        for (int v = 0; v < (int)g.n; v++) {
            int is = count_components(&g, v, -1, -1) > base - (g.off[v + 1] == g.off[v]);
            ASSERT_EQ(is, ap[v]);
            n_ap += (uint32_t)is;
            for (int w = v + 1; w < (int)g.n; w++) {
                if (g.a[v][w] && count_components(&g, -1, v, w) > base) {
                    n_br++;
                    bd[v]++;
                    bd[w]++;
                }
            }
        }
        ASSERT_EQ(n_ap, m.articulation);
        ASSERT_EQ(n_br, m.bridges);
        for (uint32_t v = 0; v < g.n; v++) {
            ASSERT_EQ(bd[v], bdeg[v]);
            for (uint32_t w = 0; w < g.n; w++) {
                if (g.a[v][w]) {
                    ASSERT_EQ(comp[v], comp[w]);
                }
            }
        }
    }
}

AURA_TEST(monitor_graph_clustering_matches_brute_force)
{
    aura_rng r;
    aura_rng_init(&r, 12);
    for (int trial = 0; trial < 200; trial++) {
        small_graph g;
        random_graph(&r, &g);
        float c[MAXN];
        ASSERT_OK(aura_monitor_graph_clustering(NULL, g.n, g.off, g.adj, c));
        for (uint32_t v = 0; v < g.n; v++) {
            double deg = g.off[v + 1] - g.off[v], links = 0;
            for (uint32_t a = 0; a < g.n; a++) {
                for (uint32_t b = a + 1; b < g.n; b++) {
                    links += g.a[v][a] && g.a[v][b] && g.a[a][b];
                }
            }
            double want = deg < 2 ? 0.0 : links / (deg * (deg - 1) / 2.0);
            ASSERT_NEAR(want, c[v], 1e-6);
        }
    }
}

/* Brute-force betweenness: all-pairs BFS distances and path counts. */
static void brute_betweenness(const small_graph *g, double *bc)
{
    int d[MAXN][MAXN];
    double sg[MAXN][MAXN];
    for (uint32_t s = 0; s < g->n; s++) {
        for (uint32_t t = 0; t < g->n; t++) {
            d[s][t] = -1;
            sg[s][t] = 0;
        }
        int q[MAXN], h = 0, tl = 0;
        q[tl++] = (int)s;
        d[s][s] = 0;
        sg[s][s] = 1;
        while (h < tl) {
            int v = q[h++];
            for (uint32_t w = 0; w < g->n; w++) {
                if (!g->a[v][w]) {
                    continue;
                }
                if (d[s][w] < 0) {
                    d[s][w] = d[s][v] + 1;
                    q[tl++] = (int)w;
                }
                if (d[s][w] == d[s][v] + 1) {
                    sg[s][w] += sg[s][v];
                }
            }
        }
    }
    for (uint32_t v = 0; v < g->n; v++) {
        bc[v] = 0;
        for (uint32_t s = 0; s < g->n; s++) {
            for (uint32_t t = s + 1; t < g->n; t++) {
                if (s == v || t == v || d[s][t] < 0 || d[s][v] < 0 || d[v][t] < 0) {
                    continue;
                }
                if (d[s][v] + d[v][t] == d[s][t]) {
                    bc[v] += sg[s][v] * sg[v][t] / sg[s][t];
                }
            }
        }
        double n = g->n;
        bc[v] /= n > 2 ? (n - 1) * (n - 2) / 2.0 : 1.0;
    }
}

AURA_TEST(monitor_graph_betweenness_exact_matches_brute_force)
{
    aura_rng r;
    aura_rng_init(&r, 13);
    for (int trial = 0; trial < 200; trial++) {
        small_graph g;
        random_graph(&r, &g);
        float b[MAXN];
        double want[MAXN];
        ASSERT_OK(aura_monitor_graph_betweenness(NULL, g.n, g.off, g.adj, 1000, 1, b));
        brute_betweenness(&g, want);
        for (uint32_t v = 0; v < g.n; v++) {
            ASSERT_NEAR(want[v], b[v], 1e-5);
        }
    }
}

AURA_TEST(monitor_graph_tarjan_long_path_no_recursion)
{
    /* a 200,000-vertex path: every inner vertex is an articulation point */
    const uint32_t n = 200000;
    uint32_t *off = malloc(sizeof(uint32_t) * (n + 1)), *adj = malloc(sizeof(uint32_t) * 2 * n);
    ASSERT_TRUE(off && adj);
    uint32_t k = 0;
    for (uint32_t v = 0; v < n; v++) {
        off[v] = k;
        if (v > 0) {
            adj[k++] = v - 1;
        }
        if (v + 1 < n) {
            adj[k++] = v + 1;
        }
    }
    off[n] = k;
    aura_monitor_graph_measures m;
    ASSERT_OK(aura_monitor_graph_tarjan(NULL, n, off, adj, NULL, NULL, NULL, &m));
    ASSERT_EQ(1, m.components);
    ASSERT_EQ(n - 2, m.articulation);
    ASSERT_EQ(n - 1, m.bridges);
    free(off);
    free(adj);
}

AURA_TEST(monitor_auroc_known_cases)
{
    float s[] = {0.1f, 0.4f, 0.35f, 0.8f};
    uint8_t y[] = {0, 0, 1, 1};
    ASSERT_NEAR(0.75, aura_monitor_auroc(s, y, 4), 1e-12);
    ASSERT_NEAR(0.8333333333333333, aura_monitor_average_precision(s, y, 4), 1e-12);
    uint8_t perfect[] = {0, 1, 0, 1};
    ASSERT_NEAR(1.0, aura_monitor_auroc(s, perfect, 4), 1e-12);
    uint8_t reversed[] = {1, 0, 1, 0};
    ASSERT_NEAR(0.0, aura_monitor_auroc(s, reversed, 4), 1e-12);
    float ties[] = {0.5f, 0.5f, 0.5f, 0.5f};
    ASSERT_NEAR(0.5, aura_monitor_auroc(ties, y, 4), 1e-12);
    ASSERT_NEAR(0.5, aura_monitor_average_precision(ties, y, 4), 1e-12);
    uint8_t none[] = {0, 0, 0, 0};
    ASSERT_TRUE(isnan(aura_monitor_auroc(s, none, 4)));
}

AURA_TEST(monitor_labels_follow_the_failure_definition)
{
    /* one agent per column; 10 ticks */
    enum { T = 10, N = 6 };
    const char *cols[N] = {
        "0100000000", /* one bad tick: no failure */
        "0110001000", /* fail at 1; good 3,4,5 -> recover at 3; single bad 6: nothing */
        "2000000000", /* down: fails at once; good 1,2,3 -> recover at 1 */
        "1100100011", /* fail 0; good 2,3 broken by 4; good 5,6,7 -> recover 5; fail 8 */
        "0000000001", /* bad only at the last tick: not yet a failure */
        "0111111111", /* fail at 1, never recovers */
    };
    uint8_t bad[T * N];
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < N; i++) {
            bad[t * N + i] = (uint8_t)(cols[i][t] - '0');
        }
    }
    aura_monitor_label l[32];
    size_t n = 0;
    ASSERT_OK(aura_monitor_labels_compute(bad, T, N, l, 32, &n));
    const int want[][3] = {{0, 2, 0}, {0, 3, 0}, {1, 1, 0}, {1, 2, 1},
                           {1, 5, 0}, {3, 1, 1}, {5, 3, 1}, {8, 3, 0}};
    ASSERT_EQ(sizeof want / sizeof want[0], n);
    for (size_t k = 0; k < n; k++) {
        ASSERT_EQ(want[k][0], l[k].tick);
        ASSERT_EQ(want[k][1], l[k].agent);
        ASSERT_EQ(want[k][2], l[k].event);
    }
    ASSERT_STATUS(AURA_E_RANGE, aura_monitor_labels_compute(bad, T, N, l, 3, &n));
}

AURA_TEST(monitor_eval_lead_time_and_cascades)
{
    /* path 0 - 1 - 2 - 3; failures a0@10, a1@12, a2@14 link into one
     * cascade; a3@40 comes after a2 recovered (20) and H: apart */
    enum { T = 50, N = 4 };
    uint32_t edges[] = {0, 1, 1, 2, 2, 3};
    aura_monitor_label l[] = {{10, 0, 0, 0}, {12, 1, 0, 0}, {14, 2, 0, 0}, {20, 0, 1, 0},
                              {20, 2, 1, 0}, {40, 3, 0, 0}};
    float risk[T * N];
    for (int c = 0; c < T * N; c++) {
        risk[c] = 0.1f;
    }
    for (int t = 5; t < 10; t++) {
        risk[t * N + 0] = 0.9f; /* warned 5 ticks ahead */
    }
    risk[11 * N + 1] = 0.7f; /* warned 1 tick ahead */
    aura_monitor_eval ev;
    ASSERT_OK(aura_monitor_eval_compute(NULL, risk, T, N, l, 6, edges, 3, &ev));
    ASSERT_EQ(4, ev.failures);
    ASSERT_EQ(2, ev.detected);
    ASSERT_NEAR(3.0, ev.lead_median, 1e-12);     /* median of {5, 1} */
    ASSERT_NEAR(0.5, ev.lead_median_all, 1e-12); /* median of {5, 1, 0, 0} */
    ASSERT_EQ(1, ev.cascades);
    ASSERT_EQ(3, ev.largest_cascade);
    ASSERT_EQ(14, ev.first_cascade_tick);
    ASSERT_TRUE(ev.auroc > 0.5 && ev.auroc <= 1.0);
    /* without edges nothing links */
    ASSERT_OK(aura_monitor_eval_compute(NULL, NULL, T, N, l, 6, NULL, 0, &ev));
    ASSERT_EQ(0, ev.cascades);
    ASSERT_EQ(1, ev.largest_cascade);
    ASSERT_EQ(-1, ev.first_cascade_tick);
}

AURA_TEST(monitor_eval_samples_are_the_scored_cells)
{
    /* one agent fails at 10 and recovers at 20, another never; agent 2 is
     * unseen until tick 5 (risk -1).  H = 10. */
    enum { T = 30, N = 3 };
    aura_monitor_label l[] = {{10, 0, 0, 0}, {20, 0, 1, 0}};
    float risk[T * N];
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < N; i++) {
            risk[t * N + i] = (float)(t * N + i) / (T * N);
        }
        if (t < 5) {
            risk[t * N + 2] = -1.0f;
        }
    }
    float s[T * N];
    uint8_t y[T * N];
    size_t m = 0, pos = 0;
    ASSERT_OK(aura_monitor_eval_samples(NULL, risk, T, N, l, 2, s, y, &m));
    /* excluded: agent 0 failed at 10..19 (10 cells), agent 2 unseen 0..4 (5) */
    ASSERT_EQ(T * N - 10 - 5, (int)m);
    for (size_t k = 0; k < m; k++) {
        pos += y[k];
    }
    ASSERT_EQ(10, (int)pos); /* agent 0 at ticks 0..9: fails within 10 */
    ASSERT_NEAR(risk[0], s[0], 0.0);
    ASSERT_EQ(1, y[0]);
    /* the pooled AUROC of the samples equals eval_compute's on one run */
    aura_monitor_eval ev;
    ASSERT_OK(aura_monitor_eval_compute(NULL, risk, T, N, l, 2, NULL, 0, &ev));
    ASSERT_NEAR(ev.auroc, aura_monitor_auroc(s, y, m), 1e-12);
    ASSERT_EQ(AURA_E_INVAL, aura_monitor_eval_samples(NULL, risk, -1, N, l, 2, s, y, &m));
}
