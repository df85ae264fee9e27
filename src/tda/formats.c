/* formats.c -- readers for Ripser's input formats (text matrices, point
 * clouds, sparse triplets, DIPHA and raw float32 binaries).
 *
 * Stricter than Ripser: every token must be a number, rows must not be
 * ragged, values must be finite and non-negative, binary files must not be
 * truncated; each error names the source, line (or byte offset) and value.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tda/tda_int.h"
#include "tda/extras_int.h"

struct aura_tda_input {
    const aura_allocator *alloc;
    aura_tda_input_shape shape;
    float *data;          /* points (n*dim) or lower matrix (n(n-1)/2) */
    aura_tda_edge *edges; /* sparse entries with i != j */
};

typedef struct reader {
    const char *buf, *end, *p;
    const char *name;
    size_t line;
    const aura_allocator *a;
    char *err;
    size_t err_len;
    float *vals; /* growable value buffer */
    size_t nv, cap;
    size_t *lines; /* sparse: line of each edge */
} reader;

#define MAX_TOKEN 128

static aura_status fail(reader *r, aura_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static aura_status fail(reader *r, aura_status st, const char *fmt, ...)
{
    if (r->err && r->err_len) {
        int k = snprintf(r->err, r->err_len, "%s: ", r->name);
        if (k >= 0 && (size_t)k < r->err_len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->err + k, r->err_len - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return st;
}

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == ',' || c == ';' || c == '\v' || c == '\f';
}

/* Next token on the current line into tok (NUL-terminated); 0 at end of
 * line (the newline is not consumed), -1 if the token is too long. */
static int next_token(reader *r, char *tok)
{
    while (r->p < r->end && is_sep(*r->p)) {
        r->p++;
    }
    if (r->p == r->end || *r->p == '\n') {
        return 0;
    }
    size_t k = 0;
    while (r->p < r->end && !is_sep(*r->p) && *r->p != '\n') {
        if (k + 1 >= MAX_TOKEN) {
            return -1;
        }
        tok[k++] = *r->p++;
    }
    tok[k] = '\0';
    return 1;
}

/* Moves past the newline; 0 at end of input. */
static int next_line(reader *r)
{
    while (r->p < r->end && *r->p != '\n') {
        r->p++;
    }
    if (r->p == r->end) {
        return 0;
    }
    r->p++;
    r->line++;
    return r->p < r->end;
}

static aura_status parse_float(reader *r, const char *tok, float *out, int distance)
{
    char *endp = NULL;
    if (tok[0] == '\0' || strchr(tok, 'x') || strchr(tok, 'X')) {
        return fail(r, AURA_E_FORMAT, "line %zu: not a number: '%s'", r->line, tok);
    }
    errno = 0;
    float x = strtof(tok, &endp);
    if (*endp != '\0' || endp == tok) {
        return fail(r, AURA_E_FORMAT, "line %zu: not a number: '%s'", r->line, tok);
    }
    if (!isfinite(x) || (errno == ERANGE && fabsf(x) > 1.0f)) {
        return fail(r, AURA_E_NUMERIC, "line %zu: value is NaN, infinite or out of range: '%s'",
                    r->line, tok);
    }
    if (distance && x < 0) {
        return fail(r, AURA_E_RANGE, "line %zu: negative distance: '%s'", r->line, tok);
    }
    *out = x;
    return AURA_OK;
}

static aura_status push_val(reader *r, float x)
{
    if (r->nv == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        float *v = aura__realloc_array(r->a, r->vals, cap, sizeof(float));
        if (!v) {
            return fail(r, AURA_E_NOMEM, "out of memory");
        }
        r->vals = v;
        r->cap = cap;
    }
    r->vals[r->nv++] = x;
    return AURA_OK;
}

static int blank_line(const reader *r)
{
    for (const char *q = r->p; q < r->end && *q != '\n'; q++) {
        if (!is_sep(*q)) {
            return 0;
        }
    }
    return 1;
}

/* Reads every value on the current line (pushing them if keep); *count
 * gets their number. */
static aura_status read_line_values(reader *r, size_t keep_first, size_t *count, int distance)
{
    char tok[MAX_TOKEN];
    size_t c = 0;
    int t;
    while ((t = next_token(r, tok)) != 0) {
        if (t < 0) {
            return fail(r, AURA_E_FORMAT, "line %zu: token too long", r->line);
        }
        float x = 0.0f;
        aura_status st = parse_float(r, tok, &x, distance);
        if (st == AURA_OK && c < keep_first) {
            st = push_val(r, x);
        }
        if (st != AURA_OK) {
            return st;
        }
        c++;
    }
    *count = c;
    return AURA_OK;
}

/* n with n(n-1)/2 == m, or 0 if m is not triangular. */
static size_t tri_root(size_t m)
{
    size_t n = (size_t)((1.0 + sqrt(1.0 + 8.0 * (double)m)) / 2.0);
    while (n > 1 && n * (n - 1) / 2 > m) {
        n--;
    }
    while (n * (n - 1) / 2 < m) {
        n++;
    }
    return n * (n - 1) / 2 == m ? n : 0;
}

static aura_status read_distance(reader *r, aura_tda_input *in)
{
    size_t row = 0, widest = 0, widest_line = 0;
    do {
        if (blank_line(r)) {
            continue;
        }
        size_t count = 0;
        size_t line = r->line;
        aura_status st = read_line_values(r, row, &count, 1);
        if (st != AURA_OK) {
            return st;
        }
        if (count < row) {
            return fail(r, AURA_E_FORMAT,
                        "line %zu: row %zu of the distance matrix has %zu values, needs at "
                        "least %zu",
                        line, row + 1, count, row);
        }
        if (count > widest) {
            widest = count;
            widest_line = line;
        }
        row++;
    } while (next_line(r));
    if (row == 0) {
        return fail(r, AURA_E_FORMAT, "no data");
    }
    if (widest > row) {
        return fail(r, AURA_E_FORMAT,
                    "line %zu: %zu values in a row of a %zu x %zu distance matrix (not square)",
                    widest_line, widest, row, row);
    }
    in->shape.n = row;
    in->shape.n_entries = r->nv;
    return AURA_OK;
}

static aura_status read_all_values(reader *r)
{
    do {
        size_t count = 0;
        aura_status st = read_line_values(r, (size_t)-1, &count, 1);
        if (st != AURA_OK) {
            return st;
        }
    } while (next_line(r));
    if (r->nv == 0) {
        return fail(r, AURA_E_FORMAT, "no data");
    }
    return AURA_OK;
}

static aura_status read_triangular(reader *r, aura_tda_input *in, int upper)
{
    aura_status st = read_all_values(r);
    if (st != AURA_OK) {
        return st;
    }
    size_t n = tri_root(r->nv);
    if (n == 0) {
        return fail(r, AURA_E_FORMAT,
                    "%zu values is not a triangular number n(n-1)/2 (truncated matrix?)", r->nv);
    }
    in->shape.n = n;
    in->shape.n_entries = r->nv;
    if (upper) {
        float *low = aura__alloc_array(r->a, r->nv, sizeof(float));
        if (!low) {
            return fail(r, AURA_E_NOMEM, "out of memory");
        }
        size_t q = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            for (size_t j = i + 1; j < n; j++) {
                low[j * (j - 1) / 2 + i] = r->vals[q++];
            }
        }
        aura__free(r->a, r->vals);
        r->vals = low;
    }
    return AURA_OK;
}

static aura_status read_points(reader *r, aura_tda_input *in)
{
    size_t n = 0, d = 0, first_line = 0;
    do {
        if (blank_line(r)) {
            continue;
        }
        size_t count = 0, line = r->line;
        aura_status st = read_line_values(r, (size_t)-1, &count, 0);
        if (st != AURA_OK) {
            return st;
        }
        if (n == 0) {
            d = count;
            first_line = line;
        } else if (count != d) {
            return fail(r, AURA_E_FORMAT,
                        "line %zu: point has %zu coordinates, line %zu has %zu (ragged)", line,
                        count, first_line, d);
        }
        n++;
    } while (next_line(r));
    if (n == 0) {
        return fail(r, AURA_E_FORMAT, "no data");
    }
    in->shape.n = n;
    in->shape.dim = d;
    in->shape.n_entries = n;
    return AURA_OK;
}

static aura_status parse_index(reader *r, const char *tok, uint32_t *out)
{
    char *endp = NULL;
    if (tok[0] < '0' || tok[0] > '9') {
        return fail(r, AURA_E_FORMAT, "line %zu: not a vertex index: '%s'", r->line, tok);
    }
    errno = 0;
    unsigned long long v = strtoull(tok, &endp, 10);
    if (*endp != '\0') {
        return fail(r, AURA_E_FORMAT, "line %zu: not a vertex index: '%s'", r->line, tok);
    }
    if (errno == ERANGE || v >= (unsigned long long)INT32_MAX) {
        return fail(r, AURA_E_RANGE, "line %zu: vertex index too large: '%s'", r->line, tok);
    }
    *out = (uint32_t)v;
    return AURA_OK;
}

typedef struct keyed_edge {
    uint64_t key; /* min(i,j) << 32 | max(i,j) */
    float d;
    size_t line;
} keyed_edge;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed_edge *x = a, *y = b;
    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    return x->line < y->line ? -1 : x->line > y->line;
}

/* A pair given twice must repeat its distance. */
static aura_status check_repeats(reader *r, const aura_tda_edge *e, size_t m)
{
    keyed_edge *k = aura__alloc_array(r->a, m, sizeof(*k));
    if (!k) {
        return fail(r, AURA_E_NOMEM, "out of memory");
    }
    for (size_t q = 0; q < m; q++) {
        uint64_t lo = e[q].i < e[q].j ? e[q].i : e[q].j, hi = e[q].i ^ e[q].j ^ lo;
        k[q] = (keyed_edge){lo << 32 | hi, e[q].d, r->lines[q]};
    }
    aura_status st = AURA_OK;
    qsort(k, m, sizeof(*k), keyed_cmp);
    for (size_t q = 1; q < m && st == AURA_OK; q++) {
        if (k[q].key == k[q - 1].key && k[q].d != k[q - 1].d) {
            st = fail(r, AURA_E_FORMAT,
                      "line %zu: distance %g between %u and %u contradicts line %zu (%g)",
                      k[q].line, (double)k[q].d, (unsigned)(k[q].key >> 32),
                      (unsigned)(k[q].key & 0xffffffffu), k[q - 1].line, (double)k[q - 1].d);
        }
    }
    aura__free(r->a, k);
    return st;
}

static aura_status read_sparse(reader *r, aura_tda_input *in)
{
    size_t n = 0, m = 0, cap = 0;
    aura_tda_edge *e = NULL;
    aura_status st = AURA_OK;
    char tok[MAX_TOKEN];
    do {
        if (blank_line(r)) {
            continue;
        }
        aura_tda_edge x = {0, 0, 0};
        int t;
        for (int f = 0; f < 3 && st == AURA_OK; f++) {
            t = next_token(r, tok);
            if (t <= 0) {
                st = fail(r, AURA_E_FORMAT, "line %zu: expected 'i j distance'", r->line);
            } else if (f < 2) {
                st = parse_index(r, tok, f == 0 ? &x.i : &x.j);
            } else {
                st = parse_float(r, tok, &x.d, 1);
            }
        }
        if (st == AURA_OK && next_token(r, tok) != 0) {
            st = fail(r, AURA_E_FORMAT, "line %zu: extra value after 'i j distance': '%s'",
                      r->line, tok);
        }
        if (st != AURA_OK) {
            break;
        }
        if (x.i == x.j) {
            continue;
        }
        if (m == cap) {
            cap = cap ? 2 * cap : 256;
            aura_tda_edge *ne = aura__realloc_array(r->a, e, cap, sizeof(*e));
            if (!ne) {
                st = fail(r, AURA_E_NOMEM, "out of memory");
                break;
            }
            e = ne;
            size_t *nl = aura__realloc_array(r->a, r->lines, cap, sizeof(size_t));
            if (!nl) {
                st = fail(r, AURA_E_NOMEM, "out of memory");
                break;
            }
            r->lines = nl;
        }
        r->lines[m] = r->line;
        e[m++] = x;
        size_t top = (x.i > x.j ? x.i : x.j) + (size_t)1;
        n = top > n ? top : n;
    } while (next_line(r));
    if (st == AURA_OK && m == 0) {
        st = fail(r, AURA_E_FORMAT, "no edges");
    }
    if (st == AURA_OK) {
        st = check_repeats(r, e, m);
    }
    if (st != AURA_OK) {
        aura__free(r->a, e);
        return st;
    }
    in->edges = e;
    in->shape.n = n;
    in->shape.n_entries = m;
    return AURA_OK;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--) {
        v = (v << 8) | p[k];
    }
    return v;
}

static aura_status binary_value(reader *r, float x, size_t offset)
{
    if (!isfinite(x)) {
        return fail(r, AURA_E_NUMERIC, "byte %zu: value is NaN or infinite", offset);
    }
    if (x < 0) {
        return fail(r, AURA_E_RANGE, "byte %zu: negative distance %g", offset, (double)x);
    }
    return AURA_OK;
}

static aura_status read_dipha(reader *r, aura_tda_input *in)
{
    const unsigned char *b = (const unsigned char *)r->buf;
    size_t len = (size_t)(r->end - r->buf);
    if (len < 24) {
        return fail(r, AURA_E_FORMAT, "truncated DIPHA header (%zu bytes)", len);
    }
    if (le64(b) != 8067171840ull) {
        return fail(r, AURA_E_FORMAT, "not a DIPHA file (magic number 8067171840)");
    }
    if (le64(b + 8) != 7) {
        return fail(r, AURA_E_FORMAT, "not a DIPHA distance matrix (file type %llu, need 7)",
                    (unsigned long long)le64(b + 8));
    }
    uint64_t n = le64(b + 16);
    if (n == 0 || n > INT32_MAX || n * n > (len - 24) / 8) {
        return fail(r, AURA_E_FORMAT, "DIPHA matrix of %llu points needs %llu bytes, file has %zu",
                    (unsigned long long)n,
                    n <= INT32_MAX ? (unsigned long long)(24 + 8 * n * n) : 0ull, len);
    }
    if (24 + 8 * n * n != len) {
        return fail(r, AURA_E_FORMAT, "%zu trailing bytes after the DIPHA matrix",
                    (size_t)(len - 24 - 8 * n * n));
    }
    for (uint64_t i = 0; i < n; i++) {
        for (uint64_t j = 0; j < n; j++) {
            size_t at = (size_t)(24 + 8 * (i * n + j));
            uint64_t u = le64(b + at);
            double dv;
            memcpy(&dv, &u, sizeof dv);
            float x = (float)dv;
            aura_status st = isfinite(dv) ? binary_value(r, x, at)
                                          : fail(r, AURA_E_NUMERIC,
                                                 "byte %zu: value is NaN or infinite", at);
            if (st == AURA_OK && i > j) {
                st = push_val(r, x);
            }
            if (st != AURA_OK) {
                return st;
            }
        }
    }
    in->shape.n = (size_t)n;
    in->shape.n_entries = r->nv;
    return AURA_OK;
}

static aura_status read_binary(reader *r, aura_tda_input *in)
{
    size_t len = (size_t)(r->end - r->buf);
    if (len % 4 != 0) {
        return fail(r, AURA_E_FORMAT, "truncated: %zu bytes is not a whole number of floats",
                    len);
    }
    size_t m = len / 4;
    size_t n = tri_root(m);
    if (m == 0 || n == 0) {
        return fail(r, AURA_E_FORMAT,
                    "%zu values is not a triangular number n(n-1)/2 (truncated matrix?)", m);
    }
    const unsigned char *b = (const unsigned char *)r->buf;
    for (size_t q = 0; q < m; q++) {
        uint32_t u = (uint32_t)b[4 * q] | (uint32_t)b[4 * q + 1] << 8 |
                     (uint32_t)b[4 * q + 2] << 16 | (uint32_t)b[4 * q + 3] << 24;
        float x;
        memcpy(&x, &u, sizeof x);
        aura_status st = binary_value(r, x, 4 * q);
        if (st == AURA_OK) {
            st = push_val(r, x);
        }
        if (st != AURA_OK) {
            return st;
        }
    }
    in->shape.n = n;
    in->shape.n_entries = m;
    return AURA_OK;
}

aura_status aura_tda_input_read(aura_tda_format fmt, const char *buf, size_t len,
                                const char *name, const aura_allocator *alloc,
                                aura_tda_input **out, char *err, size_t err_len)
{
    AURA_CHECK_ARG(out);
    AURA_CHECK_ARG(buf || len == 0);
    reader r = {.buf = buf, .end = buf + len, .p = buf, .name = name ? name : "input",
                .line = 1, .a = alloc, .err = err, .err_len = err_len};
    if (err && err_len) {
        err[0] = '\0';
    }
    aura_tda_input *in = aura__calloc(alloc, 1, sizeof(*in));
    if (!in) {
        return fail(&r, AURA_E_NOMEM, "out of memory");
    }
    in->alloc = alloc;
    aura_status st;
    switch (fmt) {
    case AURA_TDA_FMT_DISTANCE:
        in->shape.kind = 1;
        st = read_distance(&r, in);
        break;
    case AURA_TDA_FMT_LOWER:
    case AURA_TDA_FMT_UPPER:
        in->shape.kind = 1;
        st = read_triangular(&r, in, fmt == AURA_TDA_FMT_UPPER);
        break;
    case AURA_TDA_FMT_POINT_CLOUD:
        in->shape.kind = 0;
        st = read_points(&r, in);
        break;
    case AURA_TDA_FMT_DIPHA:
        in->shape.kind = 1;
        st = read_dipha(&r, in);
        break;
    case AURA_TDA_FMT_SPARSE:
        in->shape.kind = 2;
        st = read_sparse(&r, in);
        break;
    case AURA_TDA_FMT_BINARY:
        in->shape.kind = 1;
        st = read_binary(&r, in);
        break;
    default:
        st = fail(&r, AURA_E_INVAL, "unknown format");
        break;
    }
    aura__free(alloc, r.lines);
    if (st != AURA_OK) {
        aura__free(alloc, r.vals);
        aura__free(alloc, in);
        return st;
    }
    in->data = r.vals;
    *out = in;
    return AURA_OK;
}

void aura_tda_input_destroy(aura_tda_input *in)
{
    if (!in) {
        return;
    }
    aura__free(in->alloc, in->data);
    aura__free(in->alloc, in->edges);
    aura__free(in->alloc, in);
}

aura_tda_input_shape aura_tda_input_get_shape(const aura_tda_input *in)
{
    aura_tda_input_shape s = {0, 0, 0, 0};
    return in ? in->shape : s;
}

aura_status aura_tda_input_compute(const aura_tda_opts *opts, const aura_tda_input *in,
                                   aura_tda_result **out)
{
    AURA_CHECK_ARG(in);
    static const float none = 0.0f;
    const float *data = in->data ? in->data : &none;
    switch (in->shape.kind) {
    case 0:
        return aura_tda_compute_points(opts, data, in->shape.n, in->shape.dim, out);
    case 1:
        return aura_tda_compute_matrix(opts, data, in->shape.n, AURA_TDA_LOWER, out);
    default:
        return aura_tda_compute_sparse(opts, in->shape.n, in->edges, in->shape.n_entries, out);
    }
}

/* For the tda extensions (extras_int.h): the parsed data, borrowed. */
void aura__tda_input_view(const aura_tda_input *in, const float **data,
                          const aura_tda_edge **edges)
{
    static const float none = 0.0f;
    *data = in->data ? in->data : &none;
    *edges = in->edges;
}
