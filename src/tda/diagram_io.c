/* diagram_io.c -- validity checks of diagrams and the reader of
 * Ripser-format barcodes ("persistence intervals in dim k:" blocks).
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/tda_diagram.h"
#include "core/core_int.h"

#define MAX_DIM 63 /* highest dimension accepted in a barcode file */

aura_status aura_tda_diagram_check(const aura_tda_interval *d, size_t n, size_t *bad)
{
    AURA_CHECK_ARG(d || n == 0);
    for (size_t i = 0; i < n; i++) {
        double b = d[i].birth, e = d[i].death;
        aura_status st = AURA_OK;
        if (isnan(b) || isnan(e) || !isfinite(b) || e == -INFINITY) {
            st = AURA_E_NUMERIC;
        } else if (b > e) {
            st = AURA_E_INVAL;
        }
        if (st != AURA_OK) {
            if (bad) {
                *bad = i;
            }
            return st;
        }
    }
    return AURA_OK;
}

typedef struct dim_list {
    aura_tda_interval *v;
    size_t n, cap;
} dim_list;

struct aura_tda_barcode {
    const aura_allocator *alloc;
    int max_dim;
    dim_list dims[MAX_DIM + 1];
};

void aura_tda_barcode_destroy(aura_tda_barcode *b)
{
    if (!b) {
        return;
    }
    for (int k = 0; k <= MAX_DIM; k++) {
        aura__free(b->alloc, b->dims[k].v);
    }
    aura__free(b->alloc, b);
}

int aura_tda_barcode_max_dim(const aura_tda_barcode *b)
{
    return b ? b->max_dim : -1;
}

const aura_tda_interval *aura_tda_barcode_intervals(const aura_tda_barcode *b, int dim, size_t *n)
{
    if (!b || dim < 0 || dim > MAX_DIM || b->dims[dim].n == 0) {
        if (n) {
            *n = 0;
        }
        return NULL;
    }
    if (n) {
        *n = b->dims[dim].n;
    }
    return b->dims[dim].v;
}

static aura_status push(aura_tda_barcode *b, int dim, aura_tda_interval iv)
{
    dim_list *l = &b->dims[dim];
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        aura_tda_interval *v = aura__realloc_array(b->alloc, l->v, cap, sizeof *v);
        if (!v) {
            return AURA_E_NOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = iv;
    return AURA_OK;
}

static aura_status fail(char *err, size_t cap, size_t line, const char *fmt, ...)
{
    if (cap) {
        int k = snprintf(err, cap, "line %zu: ", line);
        va_list ap;
        va_start(ap, fmt);
        if (k >= 0 && (size_t)k < cap) {
            vsnprintf(err + k, cap - (size_t)k, fmt, ap);
        }
        va_end(ap);
    }
    return AURA_E_FORMAT;
}

/* Parses a number at *p (strtod, no leading space skipping beyond blanks). */
static int parse_num(const char **p, const char *end, double *v)
{
    char buf[64];
    size_t n = 0;
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t')) {
        s++;
    }
    while (s + n < end && n < sizeof buf - 1 && strchr("0123456789+-.eEinfINFa", s[n]) && s[n]) {
        buf[n] = s[n];
        n++;
    }
    buf[n] = '\0';
    if (n == 0) {
        return 0;
    }
    char *e;
    errno = 0;
    *v = strtod(buf, &e);
    if ((size_t)(e - buf) != n) {
        return 0;
    }
    *p = s + n;
    return 1;
}

/* One interval line " [b,d)" or " [b, )"; 0 if the line is not one. */
static aura_status parse_interval(const char *s, const char *end, aura_tda_interval *iv,
                                  char *err, size_t cap, size_t line)
{
    while (s < end && (*s == ' ' || *s == '\t')) {
        s++;
    }
    if (s == end || *s != '[') {
        return fail(err, cap, line, "expected an interval \" [birth,death)\"");
    }
    s++;
    double b, d = INFINITY;
    if (!parse_num(&s, end, &b)) {
        return fail(err, cap, line, "bad birth value");
    }
    if (s == end || *s != ',') {
        return fail(err, cap, line, "expected ',' after the birth value");
    }
    s++;
    const char *t = s;
    while (t < end && *t == ' ') {
        t++;
    }
    if (t < end && *t == ')') {
        s = t; /* " [b, )": essential */
    } else if (!parse_num(&s, end, &d)) {
        return fail(err, cap, line, "bad death value");
    }
    if (s == end || *s != ')') {
        return fail(err, cap, line, "expected ')' to close the interval");
    }
    for (s++; s < end; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\r') {
            return fail(err, cap, line, "unexpected text after the interval");
        }
    }
    if (isnan(b) || isnan(d) || !isfinite(b)) {
        return fail(err, cap, line, "birth must be finite and values not NaN");
    }
    if (b > d) {
        return fail(err, cap, line, "birth %g is greater than death %g", b, d);
    }
    iv->birth = b;
    iv->death = d;
    return AURA_OK;
}

static int is_blank(const char *s, const char *end)
{
    for (; s < end; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\r') {
            return 0;
        }
    }
    return 1;
}

aura_status aura_tda_barcode_parse(const char *text, size_t len, const aura_allocator *alloc,
                                   aura_tda_barcode **out, char *err, size_t err_cap)
{
    AURA_CHECK_ARG((text || len == 0) && out);
    static const char header[] = "persistence intervals in dim ";
    aura_tda_barcode *b = aura__calloc(alloc, 1, sizeof *b);
    if (!b) {
        return AURA_E_NOMEM;
    }
    b->alloc = alloc;
    b->max_dim = -1;
    aura_status st = AURA_OK;
    int dim = -1;
    size_t line = 0;
    for (const char *p = text, *end = text + len; st == AURA_OK && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if ((size_t)(e - p) >= sizeof header - 1 && memcmp(p, header, sizeof header - 1) == 0) {
            char *after;
            long k = strtol(p + sizeof header - 1, &after, 10);
            if (after == p + sizeof header - 1 || k < 0 || k > MAX_DIM || *after != ':') {
                st = fail(err, err_cap, line + 1, "bad dimension header");
            } else {
                dim = (int)k;
                b->max_dim = dim > b->max_dim ? dim : b->max_dim;
            }
        } else if (dim >= 0 && !is_blank(p, e)) {
            aura_tda_interval iv = {0.0, 0.0};
            st = parse_interval(p, e, &iv, err, err_cap, line + 1);
            if (st == AURA_OK) {
                st = push(b, dim, iv);
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (st != AURA_OK) {
        aura_tda_barcode_destroy(b);
        return st;
    }
    *out = b;
    return AURA_OK;
}
