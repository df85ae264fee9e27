/* graph.c -- persistent homology of weighted graphs: the flag complex of
 * the graph filtered by edge weight, or the Rips filtration of its
 * shortest-path metric, and the edge-list reader.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/tda_extras.h"
#include "core/core_int.h"
#include "tda/extras_int.h"
#include "tda/fheap.h"

/* Largest integer vertex id accepted by the reader, plus one. */
#define GRAPH_MAX_INT_VERTICES (1u << 24)

struct aura_tda_graph {
    const aura_allocator *alloc;
    size_t n;
    aura_tda_edge *edges; /* i < j, one per pair, smallest weight */
    size_t n_edges;
    char *names;        /* named graphs: the names, NUL-terminated, back to back */
    size_t *name_off;   /* offset of each vertex's name in names */
};

static aura_status check_opts(const aura_tda_opts *o)
{
    if (o->max_dim < 0 || isnan(o->threshold) || isnan(o->ratio) ||
        !aura_tda_is_prime(o->modulus) || o->modulus > AURA_TDA_MAX_MODULUS) {
        return AURA_E_INVAL;
    }
    return AURA_OK;
}

static aura_status check_edges(size_t n, const aura_tda_edge *edges, size_t m)
{
    for (size_t k = 0; k < m; k++) {
        if (edges[k].i >= n || edges[k].j >= n) {
            return AURA_E_RANGE;
        }
        if (!(edges[k].d >= 0) || isinf(edges[k].d)) {
            return AURA_E_INVAL;
        }
    }
    return AURA_OK;
}

/* ---- Dijkstra ---- */

typedef aura__fheap_item hitem; /* key: tentative distance */

/* Shortest paths of the normalised graph e[0..m) (i < j, one per pair) into
 * the lower triangle `dist`.  Path lengths are summed in double and rounded
 * to float once. */
static aura_status all_pairs(const aura_allocator *a, size_t n, const aura_tda_edge *e, size_t m,
                             float *dist)
{
    size_t *off = aura__calloc(a, n + 1, sizeof(size_t));
    uint32_t *adj = aura__alloc_array(a, m ? 2 * m : 1, sizeof(uint32_t));
    double *w = aura__alloc_array(a, m ? 2 * m : 1, sizeof(double));
    double *dd = aura__alloc_array(a, n ? n : 1, sizeof(double));
    hitem *heap = aura__alloc_array(a, m ? 2 * m + 1 : 1, sizeof(hitem));
    size_t *fill = aura__alloc_array(a, n ? n : 1, sizeof(size_t));
    aura_status st = AURA_OK;
    if (!off || !adj || !w || !dd || !heap || !fill) {
        st = AURA_E_NOMEM;
        goto done;
    }
    for (size_t k = 0; k < m; k++) {
        off[e[k].i + 1]++;
        off[e[k].j + 1]++;
    }
    for (size_t v = 0; v < n; v++) {
        off[v + 1] += off[v];
    }
    memcpy(fill, off, n * sizeof(size_t));
    for (size_t k = 0; k < m; k++) {
        adj[fill[e[k].i]] = e[k].j;
        w[fill[e[k].i]++] = e[k].d;
        adj[fill[e[k].j]] = e[k].i;
        w[fill[e[k].j]++] = e[k].d;
    }
    for (size_t s = 0; s < n; s++) {
        for (size_t v = 0; v < n; v++) {
            dd[v] = INFINITY;
        }
        /* Heap keys are float for compactness; exact distances are in dd. */
        size_t len = 0;
        dd[s] = 0;
        aura__fheap_push(heap, &len, (hitem){0.0f, (uint32_t)s});
        while (len > 0) {
            hitem x = aura__fheap_pop(heap, &len);
            if ((float)dd[x.v] < x.key) {
                continue; /* stale */
            }
            for (size_t q = off[x.v]; q < off[x.v + 1]; q++) {
                double nd = dd[x.v] + w[q];
                if (nd < dd[adj[q]]) {
                    dd[adj[q]] = nd;
                    aura__fheap_push(heap, &len, (hitem){(float)nd, adj[q]});
                }
            }
        }
        /* Row s of the lower triangle holds d(s, 0..s-1). */
        float *row = dist + s * (s ? s - 1 : 0) / 2;
        for (size_t v = 0; v < s; v++) {
            row[v] = (float)dd[v];
        }
    }
done:
    aura__free(a, off);
    aura__free(a, adj);
    aura__free(a, w);
    aura__free(a, dd);
    aura__free(a, heap);
    aura__free(a, fill);
    return st;
}

aura_status aura_tda_graph_distances(const aura_allocator *alloc, size_t n,
                                     const aura_tda_edge *edges, size_t n_edges, float *dist)
{
    AURA_CHECK_ARG(edges || n_edges == 0);
    AURA_CHECK_ARG(dist || n < 2);
    if (n > UINT32_MAX) {
        return AURA_E_INVAL;
    }
    aura_status st = check_edges(n, edges, n_edges);
    if (st != AURA_OK) {
        return st;
    }
    aura_tda_edge *e = NULL;
    size_t m = 0;
    st = aura__tda_edges_normalize(alloc, n, edges, n_edges, INFINITY, &e, &m);
    if (st != AURA_OK) {
        return st;
    }
    size_t len = n * (n ? n - 1 : 0) / 2;
    float *tmp = aura__alloc_array(alloc, len ? len : 1, sizeof(float));
    if (!tmp) {
        aura__free(alloc, e);
        return AURA_E_NOMEM;
    }
    st = all_pairs(alloc, n, e, m, tmp);
    if (st == AURA_OK && len) {
        memcpy(dist, tmp, len * sizeof(float));
    }
    aura__free(alloc, tmp);
    aura__free(alloc, e);
    return st;
}

/* Barcode of the shortest-path metric: a dense matrix when the graph is
 * connected (the engine then cuts at the enclosing radius), else the finite
 * pairs as a sparse matrix. */
static aura_status graph_distance_barcode(const aura_tda_opts *o, size_t n,
                                          const aura_tda_edge *e, size_t m, int collapse,
                                          aura_tda_result **out)
{
    size_t h = n ? n - 1 : 0;
    if (aura__mul_overflows(n, h) || aura__mul_overflows(n * h / 2, sizeof(float))) {
        return AURA_E_NOMEM;
    }
    size_t len = n * h / 2;
    float *lower = aura__alloc_array(o->alloc, len ? len : 1, sizeof(float));
    if (!lower) {
        return AURA_E_NOMEM;
    }
    aura_status st = all_pairs(o->alloc, n, e, m, lower);
    size_t finite = 0;
    for (size_t q = 0; q < len && st == AURA_OK; q++) {
        finite += isfinite(lower[q]) != 0;
    }
    if (st == AURA_OK && finite == len) {
        st = collapse ? aura_tda_compute_matrix_collapsed(o, lower, n, AURA_TDA_LOWER, out)
                      : aura_tda_compute_matrix(o, lower, n, AURA_TDA_LOWER, out);
    } else if (st == AURA_OK) {
        aura_tda_edge *s = aura__alloc_array(o->alloc, finite ? finite : 1, sizeof(*s));
        if (!s) {
            st = AURA_E_NOMEM;
        } else {
            size_t k = 0;
            for (size_t i = 1; i < n; i++) {
                const float *row = lower + i * (i - 1) / 2;
                for (size_t j = 0; j < i; j++) {
                    if (isfinite(row[j])) {
                        s[k++] = (aura_tda_edge){(uint32_t)j, (uint32_t)i, row[j]};
                    }
                }
            }
            st = collapse ? aura_tda_compute_sparse_collapsed(o, n, s, k, out)
                          : aura_tda_compute_sparse(o, n, s, k, out);
            aura__free(o->alloc, s);
        }
    }
    aura__free(o->alloc, lower);
    return st;
}

aura_status aura_tda_compute_graph(const aura_tda_opts *opts, size_t n,
                                   const aura_tda_edge *edges, size_t n_edges,
                                   aura_tda_graph_mode mode, int collapse, aura_tda_result **out)
{
    aura_tda_opts o = opts ? *opts : aura_tda_opts_default();
    AURA_CHECK_ARG(out);
    AURA_CHECK_ARG(edges || n_edges == 0);
    if (check_opts(&o) != AURA_OK || n > INT32_MAX ||
        (mode != AURA_TDA_GRAPH_FLAG && mode != AURA_TDA_GRAPH_DISTANCE)) {
        return AURA_E_INVAL;
    }
    aura_status st = check_edges(n, edges, n_edges);
    if (st != AURA_OK) {
        return st;
    }
    aura_tda_edge *e = NULL;
    size_t m = 0;
    st = aura__tda_edges_normalize(o.alloc, n, edges, n_edges, INFINITY, &e, &m);
    if (st != AURA_OK) {
        return st;
    }
    if (mode == AURA_TDA_GRAPH_DISTANCE) {
        st = graph_distance_barcode(&o, n, e, m, collapse, out);
    } else if (collapse) {
        st = aura_tda_compute_sparse_collapsed(&o, n, e, m, out);
    } else {
        st = aura_tda_compute_sparse(&o, n, e, m, out);
    }
    aura__free(o.alloc, e);
    return st;
}

/* ---- the edge-list reader ---- */

typedef struct greader {
    const char *p, *end;
    const char *name;
    size_t line;
    char *err;
    size_t err_len;
} greader;

static aura_status gfail(greader *r, aura_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static aura_status gfail(greader *r, aura_status st, const char *fmt, ...)
{
    if (r->err && r->err_len) {
        int k = snprintf(r->err, r->err_len, "%s:%zu: ", r->name, r->line);
        if (k >= 0 && (size_t)k < r->err_len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->err + k, r->err_len - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return st;
}

static int gsep(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == ',' || c == '\v' || c == '\f';
}

/* A token of the current line. */
typedef struct tok {
    const char *s;
    size_t len;
} tok;

/* Splits the next non-blank, non-comment line into up to 4 tokens; returns
 * the number of tokens (4 meaning "more than 3"), -1 at end of input. */
static int next_line(greader *r, tok *t)
{
    for (;;) {
        if (r->p >= r->end) {
            return -1;
        }
        r->line++;
        const char *eol = memchr(r->p, '\n', (size_t)(r->end - r->p));
        if (!eol) {
            eol = r->end;
        }
        const char *q = r->p;
        r->p = eol < r->end ? eol + 1 : eol;
        int k = 0;
        while (q < eol) {
            while (q < eol && gsep(*q)) {
                q++;
            }
            if (q == eol) {
                break;
            }
            if (k == 0 && *q == '#') {
                break;
            }
            const char *s = q;
            while (q < eol && !gsep(*q)) {
                q++;
            }
            if (k < 4) {
                t[k] = (tok){s, (size_t)(q - s)};
            }
            k += k < 4;
        }
        if (k > 0) {
            return k;
        }
    }
}

/* Shows a token in a message (at most 40 bytes). */
static const char *show(const tok *t, char *buf)
{
    size_t k = t->len < 40 ? t->len : 40;
    for (size_t q = 0; q < k; q++) {
        unsigned char c = (unsigned char)t->s[q];
        buf[q] = c >= 32 && c < 127 ? (char)c : '?';
    }
    buf[k] = '\0';
    return buf;
}

/* Non-negative decimal integer below GRAPH_MAX_INT_VERTICES: 1 and *v;
 * 2 if digits only but too large; 0 otherwise. */
static int parse_index(const tok *t, uint32_t *v)
{
    uint64_t x = 0;
    if (t->len == 0) {
        return 0;
    }
    for (size_t q = 0; q < t->len; q++) {
        char c = t->s[q];
        if (c < '0' || c > '9') {
            return 0;
        }
        if (x < GRAPH_MAX_INT_VERTICES) {
            x = x * 10 + (uint64_t)(c - '0');
        }
    }
    if (x >= GRAPH_MAX_INT_VERTICES) {
        return 2;
    }
    *v = (uint32_t)x;
    return 1;
}

static aura_status parse_weight(greader *r, const tok *t, float *w)
{
    char buf[64], shown[41];
    if (t->len >= sizeof buf) {
        return gfail(r, AURA_E_FORMAT, "weight too long: '%s'", show(t, shown));
    }
    memcpy(buf, t->s, t->len);
    buf[t->len] = '\0';
    char *endp = NULL;
    errno = 0;
    double x = strtod(buf, &endp);
    if (endp == buf || *endp != '\0') {
        return gfail(r, AURA_E_FORMAT, "not a number: '%s'", show(t, shown));
    }
    if (isnan(x) || isinf(x) || fabs(x) > 3.40282347e38) {
        return gfail(r, AURA_E_NUMERIC, "weight is NaN, infinite or out of range: '%s'",
                     show(t, shown));
    }
    if (x < 0) {
        return gfail(r, AURA_E_RANGE, "negative weight: '%s'", show(t, shown));
    }
    *w = (float)x;
    return AURA_OK;
}

/* Open-addressing table from names to vertex ids. */
typedef struct names {
    const aura_allocator *a;
    uint32_t *slot; /* vertex id + 1, 0 empty */
    size_t cap;     /* power of two */
    tok *key;       /* name of each vertex */
    size_t n, key_cap;
} names;

static uint64_t hash_tok(const tok *t)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t q = 0; q < t->len; q++) {
        h = (h ^ (unsigned char)t->s[q]) * 1099511628211ull;
    }
    return h;
}

static aura_status names_grow(names *nm)
{
    size_t cap = nm->cap ? nm->cap * 2 : 64;
    uint32_t *slot = aura__calloc(nm->a, cap, sizeof(uint32_t));
    if (!slot) {
        return AURA_E_NOMEM;
    }
    for (size_t v = 0; v < nm->n; v++) {
        size_t h = (size_t)hash_tok(&nm->key[v]) & (cap - 1);
        while (slot[h]) {
            h = (h + 1) & (cap - 1);
        }
        slot[h] = (uint32_t)v + 1;
    }
    aura__free(nm->a, nm->slot);
    nm->slot = slot;
    nm->cap = cap;
    return AURA_OK;
}

static aura_status names_get(names *nm, const tok *t, uint32_t *id)
{
    if (2 * (nm->n + 1) > nm->cap && names_grow(nm) != AURA_OK) {
        return AURA_E_NOMEM;
    }
    size_t h = (size_t)hash_tok(t) & (nm->cap - 1);
    while (nm->slot[h]) {
        const tok *k = &nm->key[nm->slot[h] - 1];
        if (k->len == t->len && memcmp(k->s, t->s, t->len) == 0) {
            *id = nm->slot[h] - 1;
            return AURA_OK;
        }
        h = (h + 1) & (nm->cap - 1);
    }
    if (nm->n == nm->key_cap) {
        size_t kc = nm->key_cap ? nm->key_cap * 2 : 64;
        tok *key = aura__realloc_array(nm->a, nm->key, kc, sizeof(tok));
        if (!key) {
            return AURA_E_NOMEM;
        }
        nm->key = key;
        nm->key_cap = kc;
    }
    nm->key[nm->n] = *t;
    nm->slot[h] = (uint32_t)nm->n + 1;
    *id = (uint32_t)nm->n++;
    return AURA_OK;
}

/* First pass: counts the edges, checks field counts and weights, and tells
 * whether every vertex token is an integer (a file of integers with one
 * too large is an error, not a file of names). */
static aura_status scan(greader *r, size_t *n_lines, int *all_int)
{
    tok t[4];
    int k;
    char shown[41] = "";
    size_t big_line = 0;
    *n_lines = 0;
    *all_int = 1;
    while ((k = next_line(r, t)) >= 0) {
        if (k < 2 || k > 3) {
            return gfail(r, AURA_E_FORMAT, "expected 'i j' or 'i j weight', got %s%d field%s",
                         k > 3 ? "more than " : "", k > 3 ? 3 : k, k == 1 ? "" : "s");
        }
        for (int q = 0; q < 2; q++) {
            uint32_t v;
            int pi = parse_index(&t[q], &v);
            if (pi == 0) {
                *all_int = 0;
            } else if (pi == 2 && big_line == 0) {
                big_line = r->line;
                (void)show(&t[q], shown);
            }
        }
        if (k == 3) {
            float w;
            aura_status st = parse_weight(r, &t[2], &w);
            if (st != AURA_OK) {
                return st;
            }
        }
        (*n_lines)++;
    }
    if (*all_int && big_line) {
        r->line = big_line;
        return gfail(r, AURA_E_RANGE, "vertex index too large (at most %u): '%s'",
                     GRAPH_MAX_INT_VERTICES - 1, shown);
    }
    return AURA_OK;
}

void aura_tda_graph_destroy(aura_tda_graph *g)
{
    if (!g) {
        return;
    }
    aura__free(g->alloc, g->edges);
    aura__free(g->alloc, g->names);
    aura__free(g->alloc, g->name_off);
    aura__free(g->alloc, g);
}

/* Copies the names of nm into g. */
static aura_status keep_names(aura_tda_graph *g, const names *nm)
{
    size_t total = 0;
    for (size_t v = 0; v < nm->n; v++) {
        total += nm->key[v].len + 1;
    }
    g->names = aura__alloc(g->alloc, total ? total : 1);
    g->name_off = aura__alloc_array(g->alloc, nm->n ? nm->n : 1, sizeof(size_t));
    if (!g->names || !g->name_off) {
        return AURA_E_NOMEM;
    }
    size_t at = 0;
    for (size_t v = 0; v < nm->n; v++) {
        g->name_off[v] = at;
        memcpy(g->names + at, nm->key[v].s, nm->key[v].len);
        at += nm->key[v].len;
        g->names[at++] = '\0';
    }
    return AURA_OK;
}

aura_status aura_tda_graph_read(const char *buf, size_t len, const char *name,
                                const aura_allocator *alloc, aura_tda_graph **out, char *err,
                                size_t err_len)
{
    if (err && err_len) {
        err[0] = '\0';
    }
    AURA_CHECK_ARG(buf || len == 0);
    AURA_CHECK_ARG(out);
    greader r = {buf, buf + len, name ? name : "<input>", 0, err, err_len};
    size_t n_lines = 0;
    int all_int = 1;
    aura_status st = scan(&r, &n_lines, &all_int);
    if (st != AURA_OK) {
        return st;
    }
    if (n_lines == 0) {
        r.line = 0;
        return gfail(&r, AURA_E_FORMAT, "no edges");
    }
    aura_tda_graph *g = aura__calloc(alloc, 1, sizeof(*g));
    aura_tda_edge *e = aura__alloc_array(alloc, n_lines, sizeof(*e));
    names nm = {.a = alloc};
    if (!g || !e) {
        aura__free(alloc, g);
        aura__free(alloc, e);
        return gfail(&r, AURA_E_NOMEM, "out of memory");
    }
    g->alloc = alloc;
    r = (greader){buf, buf + len, name ? name : "<input>", 0, err, err_len};
    tok t[4];
    size_t k = 0, n = 0;
    int fields;
    while (st == AURA_OK && (fields = next_line(&r, t)) >= 0) {
        uint32_t ij[2] = {0, 0};
        for (int q = 0; q < 2 && st == AURA_OK; q++) {
            if (all_int) {
                (void)parse_index(&t[q], &ij[q]);
                n = ij[q] + 1 > n ? ij[q] + 1 : n;
            } else {
                st = names_get(&nm, &t[q], &ij[q]);
            }
        }
        float w = 1.0f;
        if (st == AURA_OK && fields == 3) {
            st = parse_weight(&r, &t[2], &w);
        }
        e[k++] = (aura_tda_edge){ij[0], ij[1], w};
    }
    if (st == AURA_OK && !all_int) {
        n = nm.n;
        st = keep_names(g, &nm);
    }
    if (st == AURA_OK) {
        g->n = n;
        st = aura__tda_edges_normalize(alloc, n, e, k, INFINITY, &g->edges, &g->n_edges);
    }
    aura__free(alloc, e);
    aura__free(alloc, nm.slot);
    aura__free(alloc, nm.key);
    if (st != AURA_OK) {
        aura_tda_graph_destroy(g);
        if (st == AURA_E_NOMEM) {
            return gfail(&r, st, "out of memory");
        }
        return st;
    }
    *out = g;
    return AURA_OK;
}

size_t aura_tda_graph_n_vertices(const aura_tda_graph *g)
{
    return g ? g->n : 0;
}

const aura_tda_edge *aura_tda_graph_edges(const aura_tda_graph *g, size_t *n_edges)
{
    if (n_edges) {
        *n_edges = g ? g->n_edges : 0;
    }
    return g ? g->edges : NULL;
}

int aura_tda_graph_named(const aura_tda_graph *g)
{
    return g && g->names != NULL;
}

aura_status aura_tda_graph_vertex_name(const aura_tda_graph *g, size_t v, char *buf, size_t len)
{
    AURA_CHECK_ARG(g);
    AURA_CHECK_ARG(buf);
    if (len == 0) {
        return AURA_E_INVAL;
    }
    if (v >= g->n) {
        return AURA_E_RANGE;
    }
    if (g->names) {
        snprintf(buf, len, "%s", g->names + g->name_off[v]);
    } else {
        snprintf(buf, len, "%zu", v);
    }
    return AURA_OK;
}
