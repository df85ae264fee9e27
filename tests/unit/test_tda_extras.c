/* test_tda_extras.c -- edge collapse, graph input and the batch API
 * (aura/tda_extras.h): barcodes against the plain engine on golden inputs
 * and hundreds of random inputs, hand cases, bad input, allocation
 * failures, and a seeded fuzz of the edge-list reader.
 * SPDX-License-Identifier: MIT */
#include <float.h>
#include <stdint.h>
#include <sys/wait.h>

#include "aura/rng.h"
#include "aura/tda_extras.h"
#include "tda/extras_int.h"
#include "test.h"

/* ---------------------------------------------------------------- helpers */

/* Pairs of one dimension, sorted by (birth, death). */
typedef struct bars {
    size_t n;
    aura_tda_pair *p;
} bars;

static int cmp_pair(const void *a, const void *b)
{
    const aura_tda_pair *x = a, *y = b;
    if (x->birth != y->birth) {
        return x->birth < y->birth ? -1 : 1;
    }
    if (x->death != y->death) {
        return x->death < y->death ? -1 : 1;
    }
    return 0;
}

static bars sorted_pairs(const aura_tda_result *r, int dim)
{
    bars b = {aura_tda_result_count(r, dim), NULL};
    b.p = malloc((b.n ? b.n : 1) * sizeof(aura_tda_pair));
    ASSERT_TRUE(b.p != NULL);
    size_t got = 0;
    ASSERT_STATUS(AURA_OK, aura_tda_result_pairs(r, dim, b.p, b.n, &got));
    ASSERT_EQ(b.n, got);
    qsort(b.p, b.n, sizeof(aura_tda_pair), cmp_pair);
    return b;
}

/* Same barcode (as multisets) in dimensions from..max_dim. */
static void assert_same_barcode(const aura_tda_result *a, const aura_tda_result *b, int from,
                                const char *what, long trial)
{
    ASSERT_EQ(aura_tda_result_max_dim(a), aura_tda_result_max_dim(b));
    for (int d = from; d <= aura_tda_result_max_dim(a); d++) {
        bars x = sorted_pairs(a, d), y = sorted_pairs(b, d);
        int same = x.n == y.n;
        for (size_t i = 0; same && i < x.n; i++) {
            same = x.p[i].birth == y.p[i].birth && x.p[i].death == y.p[i].death;
        }
        if (!same) {
            AURA_FAIL_("%s, trial %ld, dim %d: %zu vs %zu pairs differ", what, trial, d, x.n,
                       y.n);
        }
        free(x.p);
        free(y.p);
    }
}

static void random_cloud(aura_rng *g, float *pts, size_t n, size_t d)
{
    for (size_t q = 0; q < n * d; q++) {
        pts[q] = (float)aura_rng_uniform(g);
    }
}

static void spit_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(strlen(s), fwrite(s, 1, strlen(s), f));
    fclose(f);
}

static int run_tda(const char *args, const char *out, const char *err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s tda %s >%s 2>%s", test_aura_bin(), args, out, err);
    int rc = system(cmd);
    ASSERT_TRUE(rc != -1 && WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The interval lines of a Ripser-format output, each prefixed with its
 * dimension, sorted; *n gets their number.  Modifies text. */
static char **interval_lines(char *text, size_t *n)
{
    size_t cap = 1024, k = 0;
    char **v = malloc(cap * sizeof(char *));
    ASSERT_TRUE(v != NULL);
    int dim = -1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (sscanf(line, "persistence intervals in dim %d:", &dim) == 1) {
            continue;
        }
        if (line[0] != ' ' || line[1] != '[') {
            continue;
        }
        if (k == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof(char *));
            ASSERT_TRUE(v != NULL);
        }
        char *s = malloc(strlen(line) + 8);
        ASSERT_TRUE(s != NULL);
        sprintf(s, "%d%s", dim, line);
        v[k++] = s;
    }
    qsort(v, k, sizeof(char *), cmp_str);
    *n = k;
    return v;
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]);
    }
    free(v);
}

/* ------------------------------------------------------- collapse: hand */

AURA_TEST(tda_collapse_hand_cases)
{
    /* A triangle: the last edge is dominated by the third vertex for ever. */
    aura_tda_edge tri[3] = {{0, 1, 1.0f}, {1, 2, 2.0f}, {2, 0, 3.0f}};
    aura_tda_edge out[8];
    size_t k = 99;
    ASSERT_STATUS(AURA_OK, aura_tda_collapse_edges(NULL, 3, tri, 3, INFINITY, out, &k));
    ASSERT_EQ(2, k);
    for (size_t i = 0; i < k; i++) {
        ASSERT_TRUE(out[i].d != 3.0f);
        ASSERT_TRUE(out[i].i < out[i].j);
    }
    /* A 4-cycle: no edge has a common neighbour, all stay. */
    aura_tda_edge sq[4] = {{0, 1, 1.0f}, {1, 2, 1.0f}, {2, 3, 1.0f}, {3, 0, 1.0f}};
    ASSERT_STATUS(AURA_OK, aura_tda_collapse_edges(NULL, 4, sq, 4, INFINITY, out, &k));
    ASSERT_EQ(4, k);
    /* The 4-cycle with both diagonals at 3: 02 (swept first) is dominated
     * by 1 and goes; 13 then has no dominator (02 is gone) and stays, so
     * the cycle still dies at 3: H1 [1,3). */
    aura_tda_edge sqd[6] = {{0, 1, 1}, {1, 2, 1}, {2, 3, 1}, {3, 0, 1}, {0, 2, 3}, {1, 3, 3}};
    aura_tda_opts o = aura_tda_opts_default();
    aura_tda_result *a = NULL, *b = NULL;
    ASSERT_STATUS(AURA_OK, aura_tda_compute_sparse(&o, 4, sqd, 6, &a));
    ASSERT_STATUS(AURA_OK, aura_tda_compute_sparse_collapsed(&o, 4, sqd, 6, &b));
    ASSERT_EQ(1, aura_tda_result_count(b, 1));
    assert_same_barcode(a, b, 0, "square with diagonals", 0);
    aura_tda_result_destroy(a);
    aura_tda_result_destroy(b);
    ASSERT_STATUS(AURA_OK, aura_tda_collapse_edges(NULL, 4, sqd, 6, INFINITY, out, &k));
    ASSERT_EQ(5, k);
    /* Threshold, self loops and duplicates (smallest kept). */
    aura_tda_edge dup[4] = {{0, 1, 2.0f}, {1, 0, 1.0f}, {1, 1, 0.5f}, {1, 2, 9.0f}};
    ASSERT_STATUS(AURA_OK, aura_tda_collapse_edges(NULL, 3, dup, 4, 5.0f, out, &k));
    ASSERT_EQ(1, k);
    ASSERT_EQ(0, out[0].i);
    ASSERT_EQ(1, out[0].j);
    ASSERT_TRUE(out[0].d == 1.0f);
    /* Negative zero sorts as zero. */
    aura_tda_edge nz[3] = {{0, 1, -0.0f}, {1, 2, 1.0f}, {0, 2, 0.0f}};
    ASSERT_STATUS(AURA_OK, aura_tda_collapse_edges(NULL, 3, nz, 3, INFINITY, out, &k));
    ASSERT_EQ(2, k);
    ASSERT_TRUE(out[0].d == 0.0f && out[1].d == 0.0f);
    /* Bad arguments leave the outputs alone. */
    aura_tda_edge bad[1] = {{0, 5, 1.0f}};
    k = 77;
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_collapse_edges(NULL, 3, bad, 1, INFINITY, out, &k));
    bad[0] = (aura_tda_edge){0, 1, -1.0f};
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_collapse_edges(NULL, 3, bad, 1, INFINITY, out, &k));
    bad[0] = (aura_tda_edge){0, 1, NAN};
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_collapse_edges(NULL, 3, bad, 1, INFINITY, out, &k));
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_collapse_edges(NULL, 3, tri, 3, NAN, out, &k));
    ASSERT_EQ(77, k);
    ASSERT_STATUS(AURA_OK, aura_tda_collapse_edges(NULL, 0, NULL, 0, INFINITY, NULL, &k));
    ASSERT_EQ(0, k);
    float pts[4] = {0, 0, 1, 1};
    aura_tda_result *r = NULL;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_points_collapsed(&o, pts, 2, 0, &r));
    pts[1] = NAN;
    ASSERT_STATUS(AURA_E_NUMERIC, aura_tda_compute_points_collapsed(&o, pts, 2, 2, &r));
    ASSERT_TRUE(r == NULL);
}

/* ----------------------------------------------------- collapse: random */

AURA_TEST(tda_collapse_random_clouds)
{
    aura_rng g;
    aura_rng_init(&g, 4242);
    float pts[40 * 4];
    for (long trial = 0; trial < 300; trial++) {
        size_t n = 4 + aura_rng_below(&g, 25), d = 1 + aura_rng_below(&g, 4);
        random_cloud(&g, pts, n, d);
        if (trial % 5 == 0) { /* coarse grid: many equal distances */
            for (size_t q = 0; q < n * d; q++) {
                pts[q] = (float)(int)(pts[q] * 4);
            }
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 1 + (int)aura_rng_below(&g, 3);
        o.modulus = trial % 7 == 0 ? 3 : 2;
        if (trial % 2) {
            o.threshold = (float)(0.2 + 0.8 * aura_rng_uniform(&g));
        }
        aura_tda_result *a = NULL, *b = NULL;
        ASSERT_STATUS(AURA_OK, aura_tda_compute_points(&o, pts, n, d, &a));
        ASSERT_STATUS(AURA_OK, aura_tda_compute_points_collapsed(&o, pts, n, d, &b));
        assert_same_barcode(a, b, 0, "random cloud", trial);
        aura_tda_result_destroy(a);
        aura_tda_result_destroy(b);
    }
}

AURA_TEST(tda_collapse_random_graphs)
{
    /* Sparse graphs with small integer weights: many ties. */
    aura_rng g;
    aura_rng_init(&g, 777);
    aura_tda_edge e[200];
    for (long trial = 0; trial < 300; trial++) {
        size_t n = 3 + aura_rng_below(&g, 14);
        size_t m = aura_rng_below(&g, n * (n - 1) / 2 + 1), k = 0;
        for (size_t q = 0; q < m && k < 200; q++) {
            uint32_t i = (uint32_t)aura_rng_below(&g, n), j = (uint32_t)aura_rng_below(&g, n);
            if (i == j) {
                continue;
            }
            int seen = 0;
            for (size_t r = 0; r < k && !seen; r++) {
                seen = (e[r].i == i && e[r].j == j) || (e[r].i == j && e[r].j == i);
            }
            if (!seen) {
                e[k++] = (aura_tda_edge){i, j, (float)aura_rng_below(&g, 5)};
            }
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 1 + (int)aura_rng_below(&g, 3);
        if (trial % 3 == 0) {
            o.threshold = 2.5f;
        }
        aura_tda_result *a = NULL, *b = NULL;
        ASSERT_STATUS(AURA_OK, aura_tda_compute_sparse(&o, n, e, k, &a));
        ASSERT_STATUS(AURA_OK, aura_tda_compute_sparse_collapsed(&o, n, e, k, &b));
        assert_same_barcode(a, b, 0, "random graph", trial);
        aura_tda_result_destroy(b);
        /* Both sweeps (bitsets on the dense matrix, sorted lists). */
        for (int mode = 1; mode <= 3; mode++) {
            aura_tda_edge kept[200];
            size_t nk = 0;
            ASSERT_STATUS(AURA_OK, aura__tda_collapse_edges_mode(NULL, n, e, k, o.threshold, kept,
                                                                 &nk, mode));
            ASSERT_STATUS(AURA_OK, aura_tda_compute_sparse(&o, n, kept, nk, &b));
            static const char *const what[] = {"", "random graph, dense", "random graph, lists",
                                               "random graph, bits"};
            assert_same_barcode(a, b, 0, what[mode], trial);
            aura_tda_result_destroy(b);
        }
        aura_tda_result_destroy(a);
    }
}

AURA_TEST(tda_collapse_random_matrices)
{
    aura_rng g;
    aura_rng_init(&g, 99);
    float full[30 * 30];
    for (long trial = 0; trial < 100; trial++) {
        size_t n = 3 + aura_rng_below(&g, 28);
        for (size_t i = 0; i < n; i++) {
            full[i * n + i] = 0;
            for (size_t j = 0; j < i; j++) {
                float x = (float)aura_rng_below(&g, trial % 2 ? 6 : 1000);
                full[i * n + j] = full[j * n + i] = x;
            }
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 2;
        aura_tda_result *a = NULL, *b = NULL;
        ASSERT_STATUS(AURA_OK, aura_tda_compute_matrix(&o, full, n, AURA_TDA_FULL, &a));
        ASSERT_STATUS(AURA_OK, aura_tda_compute_matrix_collapsed(&o, full, n, AURA_TDA_FULL, &b));
        assert_same_barcode(a, b, 0, "random matrix", trial);
        aura_tda_result_destroy(a);
        aura_tda_result_destroy(b);
    }
}

/* ----------------------------------------------------- collapse: golden */

/* `aura tda --collapse ARGS` against Ripser's golden output, interval by
 * interval in every dimension (the order within a dimension may differ). */
static void collapse_golden(const char *golden, const char *args_fmt)
{
    const char *sh = test_shared_dir();
    size_t lw = 0, lg = 0;
    char *want = test_read_file(test_path("%s/golden/tda/%s.txt", sh, golden), &lw);
    if (!want) {
        AURA_SKIP("no golden barcodes in ../shared/golden/tda");
    }
    char args[2048];
    snprintf(args, sizeof args, args_fmt, sh);
    char full[2100];
    snprintf(full, sizeof full, "--collapse %s", args);
    const char *dir = test_tmpdir();
    const char *out = test_path("%s/collapse.txt", dir), *err = test_path("%s/err.txt", dir);
    ASSERT_EQ(0, run_tda(full, out, err));
    char *got = test_read_file(out, &lg);
    ASSERT_TRUE(got != NULL);
    ASSERT_TRUE(strstr(got, "edge collapse: ") != NULL);
    size_t nw = 0, ng = 0;
    char **w = interval_lines(want, &nw), **gl = interval_lines(got, &ng);
    ASSERT_TRUE(nw > 0);
    if (nw != ng) {
        AURA_FAIL_("%s: %zu intervals with --collapse, %zu in Ripser's output", golden, ng, nw);
    }
    for (size_t i = 0; i < nw; i++) {
        if (strcmp(w[i], gl[i]) != 0) {
            AURA_FAIL_("%s: interval '%s' vs Ripser's '%s'", golden, gl[i], w[i]);
        }
    }
    free_lines(w, nw);
    free_lines(gl, ng);
    free(want);
    free(got);
}

AURA_TEST(tda_collapse_golden_small)
{
    collapse_golden("pp_d2", "--format lower-distance --dim 2 "
                             "%s/tda-data/ripser/projective_plane.lower_distance_matrix");
    collapse_golden("pp_d2_p3", "--modulus 3 --format lower-distance --dim 2 "
                                "%s/tda-data/ripser/projective_plane.lower_distance_matrix");
    collapse_golden("random16_d2", "--format lower-distance --dim 2 "
                                   "%s/tda-data/ripser/random16.lower_distance_matrix");
    collapse_golden("random20_d3", "--format lower-distance --dim 3 "
                                   "%s/tda-data/ripser/random20.lower_distance_matrix");
    collapse_golden("random50_16_d2",
                    "--format point-cloud --dim 2 "
                    "%s/tda-data/ph-roadmap/random_point_cloud_50_16_.txt");
}

AURA_TEST(tda_collapse_golden_sphere_klein_o3)
{
    collapse_golden("sphere_3_192_d2", "--format lower-distance --dim 2 "
                                       "%s/tda-data/ripser/sphere_3_192.lower_distance_matrix");
    collapse_golden("klein400_d2", "--format point-cloud --dim 2 "
                                   "%s/tda-data/ph-roadmap/klein_bottle_pointcloud_new_400.txt");
    collapse_golden("o3_1024_t1.8_d3",
                    "--format point-cloud --dim 3 --threshold 1.8 %s/tda-data/ripser/o3_1024.txt");
    collapse_golden("dragon1000_d1", "--format point-cloud --dim 1 "
                                     "%s/tda-data/ph-roadmap/dragon_vrip.ply.txt_1000_.txt");
}

/* ------------------------------------------------------------- graphs */

static aura_tda_graph *read_graph(const char *text, aura_status want, const char *msg_part)
{
    aura_tda_graph *g = NULL;
    char err[256] = "";
    aura_status st = aura_tda_graph_read(text, strlen(text), "g.txt", NULL, &g, err, sizeof err);
    if (st != want) {
        AURA_FAIL_("graph read: status %d, want %d (%s)", (int)st, (int)want, err);
    }
    if (msg_part && !strstr(err, msg_part)) {
        AURA_FAIL_("graph read: message '%s' lacks '%s'", err, msg_part);
    }
    ASSERT_TRUE((st == AURA_OK) == (g != NULL));
    return g;
}

AURA_TEST(tda_graph_hand_cases)
{
    /* Unweighted 4-cycle: flag complex has an essential H1 class born at 1;
     * as a metric (opposite vertices at 2) the cycle dies at 2. */
    aura_tda_graph *g = read_graph("# a square\n0 1\n1 2\n\n2 3\n3 0\n", AURA_OK, NULL);
    size_t m = 0;
    const aura_tda_edge *e = aura_tda_graph_edges(g, &m);
    ASSERT_EQ(4, aura_tda_graph_n_vertices(g));
    ASSERT_EQ(4, m);
    ASSERT_EQ(0, aura_tda_graph_named(g));
    aura_tda_opts o = aura_tda_opts_default();
    aura_tda_result *r = NULL;
    ASSERT_STATUS(AURA_OK, aura_tda_compute_graph(&o, 4, e, m, AURA_TDA_GRAPH_FLAG, 0, &r));
    bars b = sorted_pairs(r, 1);
    ASSERT_EQ(1, b.n);
    ASSERT_TRUE(b.p[0].birth == 1.0f && isinf(b.p[0].death));
    free(b.p);
    aura_tda_result_destroy(r);
    for (int collapse = 0; collapse < 2; collapse++) {
        ASSERT_STATUS(AURA_OK,
                      aura_tda_compute_graph(&o, 4, e, m, AURA_TDA_GRAPH_DISTANCE, collapse, &r));
        b = sorted_pairs(r, 1);
        ASSERT_EQ(1, b.n);
        ASSERT_TRUE(b.p[0].birth == 1.0f && b.p[0].death == 2.0f);
        free(b.p);
        aura_tda_result_destroy(r);
    }
    aura_tda_graph_destroy(g);

    /* Names, weights, self loop, duplicate keeps the smallest, commas. */
    g = read_graph("alice bob 0.5\nbob carol\ncarol carol 7\nbob,alice,0.25\ndave alice 2\n",
                   AURA_OK, NULL);
    ASSERT_EQ(4, aura_tda_graph_n_vertices(g));
    ASSERT_EQ(1, aura_tda_graph_named(g));
    char name[16];
    ASSERT_STATUS(AURA_OK, aura_tda_graph_vertex_name(g, 2, name, sizeof name));
    ASSERT_STREQ("carol", name);
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_graph_vertex_name(g, 4, name, sizeof name));
    e = aura_tda_graph_edges(g, &m);
    ASSERT_EQ(3, m);
    ASSERT_TRUE(e[0].i == 0 && e[0].j == 1 && e[0].d == 0.25f);
    /* Shortest paths: dave-carol = 2 + 0.25 + 1. */
    float dist[6];
    ASSERT_STATUS(AURA_OK, aura_tda_graph_distances(NULL, 4, e, m, dist));
    ASSERT_TRUE(dist[0] == 0.25f);        /* d(1,0) */
    ASSERT_TRUE(dist[3 + 2] == 3.25f);    /* d(3,2) */
    aura_tda_graph_destroy(g);

    /* Integer vertices with a gap: vertex 5 exists, 3 and 4 are isolated;
     * two components: shortest-path mode keeps them apart. */
    g = read_graph("0 1 1\n1 2 1\n5 2 10\n", AURA_OK, NULL);
    ASSERT_EQ(6, aura_tda_graph_n_vertices(g));
    ASSERT_STATUS(AURA_OK, aura_tda_graph_vertex_name(g, 5, name, sizeof name));
    ASSERT_STREQ("5", name);
    aura_tda_graph_destroy(g);
    g = read_graph("0 1 1\n2 3 1\n", AURA_OK, NULL);
    e = aura_tda_graph_edges(g, &m);
    ASSERT_STATUS(AURA_OK, aura_tda_graph_distances(NULL, 4, e, m, dist));
    ASSERT_TRUE(dist[0] == 1.0f && isinf(dist[1]) && dist[5] == 1.0f);
    ASSERT_STATUS(AURA_OK, aura_tda_compute_graph(&o, 4, e, m, AURA_TDA_GRAPH_DISTANCE, 0, &r));
    ASSERT_EQ(4, aura_tda_result_count(r, 0)); /* [0,1) twice, two essential classes */
    aura_tda_result_destroy(r);
    aura_tda_graph_destroy(g);

    /* Bad input: file and line in the message; nothing returned. */
    read_graph("0 1\n1 2 -3\n", AURA_E_RANGE, "g.txt:2: negative weight: '-3'");
    read_graph("0 1\n\n1 2 nan\n", AURA_E_NUMERIC, "g.txt:3:");
    read_graph("0 1 inf\n", AURA_E_NUMERIC, "g.txt:1:");
    read_graph("0 1 2 3\n", AURA_E_FORMAT, "g.txt:1: expected");
    read_graph("0\n", AURA_E_FORMAT, "g.txt:1:");
    read_graph("0 1 x2\n", AURA_E_FORMAT, "not a number: 'x2'");
    read_graph("# nothing\n\n", AURA_E_FORMAT, "no edges");
    read_graph("", AURA_E_FORMAT, "no edges");
    read_graph("0 1\n1 99999999999\n", AURA_E_RANGE, "g.txt:2: vertex index too large");
    aura_tda_edge bad[1] = {{0, 1, -1.0f}};
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_graph(&o, 2, bad, 1, AURA_TDA_GRAPH_FLAG, 0, &r));
    bad[0] = (aura_tda_edge){0, 3, 1.0f};
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_compute_graph(&o, 2, bad, 1, AURA_TDA_GRAPH_FLAG, 0, &r));
    ASSERT_STATUS(AURA_E_INVAL,
                  aura_tda_compute_graph(&o, 2, bad, 0, (aura_tda_graph_mode)7, 0, &r));
}

/* Floyd-Warshall in double on integer weights (exact). */
static void floyd(size_t n, const aura_tda_edge *e, size_t m, double *d)
{
    for (size_t i = 0; i < n * n; i++) {
        d[i] = INFINITY;
    }
    for (size_t i = 0; i < n; i++) {
        d[i * n + i] = 0;
    }
    for (size_t k = 0; k < m; k++) {
        if (e[k].i == e[k].j) {
            continue;
        }
        double w = e[k].d;
        if (w < d[e[k].i * n + e[k].j]) {
            d[e[k].i * n + e[k].j] = d[e[k].j * n + e[k].i] = w;
        }
    }
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++) {
                if (d[i * n + k] + d[k * n + j] < d[i * n + j]) {
                    d[i * n + j] = d[i * n + k] + d[k * n + j];
                }
            }
        }
    }
}

AURA_TEST(tda_graph_random_vs_engine)
{
    aura_rng g;
    aura_rng_init(&g, 31337);
    aura_tda_edge e[120], s[120];
    double d[20 * 20];
    float lower[20 * 19 / 2];
    aura_tda_edge fin[20 * 19 / 2];
    for (long trial = 0; trial < 200; trial++) {
        size_t n = 2 + aura_rng_below(&g, 19), m = aura_rng_below(&g, 120);
        for (size_t k = 0; k < m; k++) { /* loops and duplicates included */
            e[k] = (aura_tda_edge){(uint32_t)aura_rng_below(&g, n),
                                   (uint32_t)aura_rng_below(&g, n),
                                   (float)(1 + aura_rng_below(&g, 9))};
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 2;
        /* Flag mode == the engine on the deduplicated edges. */
        size_t k = 0;
        for (size_t q = 0; q < m; q++) {
            if (e[q].i == e[q].j) {
                continue;
            }
            uint32_t i = e[q].i < e[q].j ? e[q].i : e[q].j, j = e[q].i ^ e[q].j ^ i;
            size_t r = 0;
            while (r < k && !(s[r].i == i && s[r].j == j)) {
                r++;
            }
            if (r == k) {
                s[k++] = (aura_tda_edge){i, j, e[q].d};
            } else if (e[q].d < s[r].d) {
                s[r].d = e[q].d;
            }
        }
        aura_tda_result *a = NULL, *b = NULL;
        int collapse = (int)(trial % 2);
        ASSERT_STATUS(AURA_OK, aura_tda_compute_sparse(&o, n, s, k, &a));
        ASSERT_STATUS(AURA_OK,
                      aura_tda_compute_graph(&o, n, e, m, AURA_TDA_GRAPH_FLAG, collapse, &b));
        assert_same_barcode(a, b, 0, "graph flag", trial);
        aura_tda_result_destroy(a);
        aura_tda_result_destroy(b);
        /* Distance mode == the engine on the Floyd-Warshall matrix. */
        floyd(n, e, m, d);
        float got[20 * 19 / 2];
        ASSERT_STATUS(AURA_OK, aura_tda_graph_distances(NULL, n, e, m, got));
        size_t nf = 0, connected = 1;
        for (size_t i = 1; i < n; i++) {
            for (size_t j = 0; j < i; j++) {
                float x = (float)d[i * n + j];
                lower[i * (i - 1) / 2 + j] = x;
                ASSERT_TRUE(got[i * (i - 1) / 2 + j] == x);
                if (isinf(x)) {
                    connected = 0;
                } else {
                    fin[nf++] = (aura_tda_edge){(uint32_t)i, (uint32_t)j, x};
                }
            }
        }
        if (connected) {
            ASSERT_STATUS(AURA_OK, aura_tda_compute_matrix(&o, lower, n, AURA_TDA_LOWER, &a));
        } else {
            ASSERT_STATUS(AURA_OK, aura_tda_compute_sparse(&o, n, fin, nf, &a));
        }
        ASSERT_STATUS(AURA_OK,
                      aura_tda_compute_graph(&o, n, e, m, AURA_TDA_GRAPH_DISTANCE, collapse, &b));
        assert_same_barcode(a, b, 0, "graph distance", trial);
        aura_tda_result_destroy(a);
        aura_tda_result_destroy(b);
    }
}

AURA_TEST(tda_graph_cli)
{
    const char *dir = test_tmpdir();
    const char *in = test_path("%s/g.txt", dir), *out = test_path("%s/out.txt", dir),
               *err = test_path("%s/err.txt", dir);
    spit_file(in, "a b\nb c\nc d\nd a\n");
    char args[1024];
    snprintf(args, sizeof args, "--format edge-list %s", in);
    ASSERT_EQ(0, run_tda(args, out, err));
    size_t len = 0;
    char *text = test_read_file(out, &len);
    ASSERT_TRUE(text != NULL);
    ASSERT_TRUE(strstr(text, "graph with 4 vertices and 4 edges\n") != NULL);
    ASSERT_TRUE(strstr(text, "persistence intervals in dim 1:\n [1, )\n") != NULL);
    free(text);
    snprintf(args, sizeof args, "--format edge-list --collapse %s", in);
    ASSERT_EQ(0, run_tda(args, out, err));
    text = test_read_file(out, &len);
    ASSERT_TRUE(text && strstr(text, "edge collapse: 4 of 4 edges kept\n") != NULL);
    ASSERT_TRUE(strstr(text, "persistence intervals in dim 1:\n [1, )\n") != NULL);
    free(text);
    snprintf(args, sizeof args, "--format edge-list --graph-distance --collapse %s", in);
    ASSERT_EQ(0, run_tda(args, out, err));
    text = test_read_file(out, &len);
    ASSERT_TRUE(text && strstr(text, "persistence intervals in dim 1:\n [1,2)\n") != NULL);
    free(text);
    /* Errors: bad weight (3, with file:line), --graph-distance alone (2). */
    spit_file(in, "0 1 1\n1 2 -0.5\n");
    snprintf(args, sizeof args, "--format edge-list %s", in);
    ASSERT_EQ(3, run_tda(args, out, err));
    text = test_read_file(err, &len);
    ASSERT_TRUE(text && strstr(text, "g.txt:2: negative weight: '-0.5'") != NULL);
    free(text);
    snprintf(args, sizeof args, "--graph-distance %s", in);
    ASSERT_EQ(2, run_tda(args, out, err));
    snprintf(args, sizeof args, "--collapse --format point-cloud %s/nonexistent.txt", dir);
    ASSERT_EQ(3, run_tda(args, out, err));
}

/* Seeded random mutations of a valid edge list: never a crash, a status
 * from the documented set, and a message on failure. */
AURA_TEST(tda_graph_reader_fuzz)
{
    const char *seed = "0 1 0.5\n1 2\n# c\n2 0 1e3\nx y 2\n3,4,5\n";
    const char alphabet[] = "0123456789 .,-+#\nxeEnaif\t\r";
    aura_rng g;
    aura_rng_init(&g, 5150);
    char buf[128];
    for (int t = 0; t < 3000; t++) {
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        int muts = 1 + (int)aura_rng_below(&g, 6);
        for (int k = 0; k < muts; k++) {
            size_t at = aura_rng_below(&g, len + 1);
            int op = (int)aura_rng_below(&g, 3);
            char c = alphabet[aura_rng_below(&g, sizeof alphabet - 1)];
            if (op == 0 && at < len) {
                buf[at] = c;
            } else if (op == 1 && len < sizeof buf - 1) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = c;
                len++;
            } else if (at < len) {
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            }
        }
        aura_tda_graph *gr = NULL;
        char err[256] = "";
        aura_status st = aura_tda_graph_read(buf, len, "fuzz", NULL, &gr, err, sizeof err);
        ASSERT_TRUE(st == AURA_OK || st == AURA_E_FORMAT || st == AURA_E_NUMERIC ||
                    st == AURA_E_RANGE);
        if (st == AURA_OK) {
            size_t m = 0;
            const aura_tda_edge *e = aura_tda_graph_edges(gr, &m);
            aura_tda_opts o = aura_tda_opts_default();
            aura_tda_result *r = NULL;
            size_t n = aura_tda_graph_n_vertices(gr);
            if (n < 1000) {
                ASSERT_STATUS(AURA_OK,
                              aura_tda_compute_graph(&o, n, e, m, AURA_TDA_GRAPH_FLAG, 1, &r));
                aura_tda_result_destroy(r);
            }
            aura_tda_graph_destroy(gr);
        } else {
            ASSERT_TRUE(err[0] != '\0');
        }
    }
}

/* ------------------------------------------------------------- batches */

AURA_TEST(tda_batch_matches_single_calls)
{
    aura_rng g;
    aura_rng_init(&g, 2024);
    enum { NC = 120 };
    float *pts[NC];
    size_t sizes[NC];
    for (int c = 0; c < NC; c++) {
        sizes[c] = c % 17 == 0 ? (size_t)(c % 3) : 5 + aura_rng_below(&g, 40);
        pts[c] = malloc((sizes[c] ? sizes[c] : 1) * 3 * sizeof(float));
        ASSERT_TRUE(pts[c] != NULL);
        random_cloud(&g, pts[c], sizes[c], 3);
    }
    for (int pass = 0; pass < 4; pass++) {
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = pass >= 2 ? 2 : 1;
        o.threshold = pass == 1 ? 0.5f : INFINITY;
        aura_tda_batch *b = NULL;
        int threads = pass == 0 ? 1 : 3, collapse = pass == 3;
        const float *const *cp = (const float *const *)pts;
        ASSERT_STATUS(AURA_OK, aura_tda_batch_compute_points(&o, NC, cp, sizes, 3, threads,
                                                             collapse, &b, NULL));
        ASSERT_EQ(NC, aura_tda_batch_n_clouds(b));
        for (int c = 0; c < NC; c++) {
            aura_tda_result *r = NULL;
            ASSERT_STATUS(AURA_OK, collapse ? aura_tda_compute_points_collapsed(&o, pts[c],
                                                                                sizes[c], 3, &r)
                                            : aura_tda_compute_points(&o, pts[c], sizes[c], 3, &r));
            ASSERT_EQ(aura_tda_result_max_dim(r), aura_tda_batch_max_dim(b, c));
            for (int d = 0; d <= aura_tda_result_max_dim(r); d++) {
                size_t k = 0;
                const aura_tda_pair *p = aura_tda_batch_pairs(b, c, d, &k);
                ASSERT_EQ(aura_tda_result_count(r, d), k);
                aura_tda_pair q[64];
                size_t got = 0;
                ASSERT_TRUE(k <= 64);
                ASSERT_STATUS(AURA_OK, aura_tda_result_pairs(r, d, q, 64, &got));
                for (size_t i = 0; i < k; i++) { /* same pairs, same order */
                    ASSERT_TRUE(p[i].birth == q[i].birth);
                    ASSERT_TRUE(p[i].death == q[i].death ||
                                (isinf(p[i].death) && isinf(q[i].death)));
                }
            }
            aura_tda_result_destroy(r);
        }
        size_t k = 5;
        ASSERT_TRUE(aura_tda_batch_pairs(b, NC, 0, &k) == NULL && k == 0);
        ASSERT_TRUE(aura_tda_batch_pairs(b, 0, 9, &k) == NULL);
        ASSERT_EQ(-1, aura_tda_batch_max_dim(b, NC));
        aura_tda_batch_destroy(b);
    }
    /* A NaN in cloud 7: AURA_E_NUMERIC, *bad_cloud = 7, nothing returned. */
    pts[7][1] = NAN;
    aura_tda_batch *b = NULL;
    size_t bad = 0;
    ASSERT_STATUS(AURA_E_NUMERIC, aura_tda_batch_compute_points(NULL, NC, (const float *const *)pts,
                                                                sizes, 3, 2, 0, &b, &bad));
    ASSERT_EQ(7, bad);
    ASSERT_TRUE(b == NULL);
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_batch_compute_points(NULL, NC, (const float *const *)pts,
                                                              sizes, 0, 2, 0, &b, &bad));
    ASSERT_STATUS(AURA_OK, aura_tda_batch_compute_points(NULL, 0, NULL, NULL, 3, 0, 0, &b, NULL));
    ASSERT_EQ(0, aura_tda_batch_n_clouds(b));
    aura_tda_batch_destroy(b);
    aura_tda_batch_destroy(NULL);
    aura_tda_graph_destroy(NULL);
    for (int c = 0; c < NC; c++) {
        free(pts[c]);
    }
}

/* ------------------------------------------------------------------ OOM */

AURA_TEST(tda_extras_oom_sweep)
{
    float pts[3 * 14];
    for (int i = 0; i < 14; i++) {
        pts[3 * i] = (float)((i * 7) % 5);
        pts[3 * i + 1] = (float)((i * 3) % 4);
        pts[3 * i + 2] = (float)((i * 5) % 3);
    }
    const float *clouds[3] = {pts, pts + 3, pts + 6};
    size_t sizes[3] = {14, 10, 7};
    const char *text = "a b 1\nb c 2\nc d 1\nd a 2\na c 3\nd e 1\n";
    for (int which = 0; which < 4; which++) {
        int done = 0;
        for (long k = 0; k < 100000 && !done; k++) {
            aura_tda_opts o = aura_tda_opts_default();
            o.max_dim = 2;
            o.alloc = test_failing_alloc(k);
            aura_tda_result *r = NULL;
            aura_tda_batch *b = NULL;
            aura_tda_graph *g = NULL;
            aura_status st;
            if (which == 0) {
                st = aura_tda_compute_points_collapsed(&o, pts, 14, 3, &r);
            } else if (which == 1) {
                st = aura_tda_batch_compute_points(&o, 3, clouds, sizes, 3, 2, (int)(k % 2), &b,
                                                   NULL);
            } else if (which == 2) {
                st = aura_tda_graph_read(text, strlen(text), "g", o.alloc, &g, NULL, 0);
            } else {
                aura_tda_edge e[4] = {{0, 1, 1}, {1, 2, 2}, {2, 3, 1}, {3, 0, 5}};
                st = aura_tda_compute_graph(&o, 4, e, 4, AURA_TDA_GRAPH_DISTANCE, 1, &r);
            }
            ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
            done = st == AURA_OK;
            ASSERT_TRUE(!done || r || b || g);
            aura_tda_result_destroy(r);
            aura_tda_batch_destroy(b);
            aura_tda_graph_destroy(g);
            ASSERT_EQ(0, test_alloc_live_blocks());
        }
        ASSERT_TRUE(done);
    }
}

/* Random clouds as complete weighted graphs through both sweeps. */
AURA_TEST(tda_collapse_both_sweeps_on_clouds)
{
    aura_rng g;
    aura_rng_init(&g, 8080);
    float pts[30 * 3];
    aura_tda_edge e[30 * 29 / 2], kept[30 * 29 / 2];
    for (long trial = 0; trial < 150; trial++) {
        size_t n = 4 + aura_rng_below(&g, 27), m = 0;
        random_cloud(&g, pts, n, 3);
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < i; j++) {
                float s = 0;
                for (int q = 0; q < 3; q++) {
                    float t = pts[3 * i + q] - pts[3 * j + q];
                    s += t * t;
                }
                e[m++] = (aura_tda_edge){(uint32_t)i, (uint32_t)j,
                                         trial % 3 ? sqrtf(s) : (float)(int)(4 * sqrtf(s))};
            }
        }
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 2;
        aura_tda_result *a = NULL, *b = NULL;
        ASSERT_STATUS(AURA_OK, aura_tda_compute_sparse(&o, n, e, m, &a));
        for (int mode = 1; mode <= 3; mode++) {
            size_t nk = 0;
            ASSERT_STATUS(AURA_OK, aura__tda_collapse_edges_mode(NULL, n, e, m, INFINITY, kept,
                                                                 &nk, mode));
            ASSERT_TRUE(nk <= m);
            ASSERT_STATUS(AURA_OK, aura_tda_compute_sparse(&o, n, kept, nk, &b));
            static const char *const what[] = {"", "cloud graph, dense", "cloud graph, lists",
                                               "cloud graph, bits"};
            assert_same_barcode(a, b, 0, what[mode], trial);
            aura_tda_result_destroy(b);
        }
        aura_tda_result_destroy(a);
    }
}
