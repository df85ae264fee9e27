/* rerank.c -- the optional second stage of shape search: re-rank kNN
 * candidates by the distance between persistence diagrams (tda), and the
 * payload form that carries a diagram inside a shape record.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aura/memory.h"
#include "core/core_int.h"

static const char MAGIC[8] = {'A', 'U', 'R', 'A', 'P', 'D', '1', '\0'};
#define HEADER 12u /* magic + uint32 count */

static void put_le64(unsigned char *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    for (int i = 0; i < 8; i++) {
        p[i] = (unsigned char)(u >> (8 * i));
    }
}

static double get_le64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) {
        u |= (uint64_t)p[i] << (8 * i);
    }
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

aura_status aura_memory_diagram_encode(const aura_tda_interval *d, size_t n, void *buf,
                                       size_t cap, size_t *len_out)
{
    AURA_CHECK_ARG((d || n == 0) && len_out);
    if (n > UINT32_MAX || n > (SIZE_MAX - HEADER) / 16) {
        return AURA_E_RANGE;
    }
    aura_status st = aura_tda_diagram_check(d, n, NULL);
    if (st != AURA_OK) {
        return st;
    }
    size_t need = HEADER + 16 * n;
    if (buf && cap < need) {
        return AURA_E_RANGE;
    }
    if (buf) {
        unsigned char *p = buf;
        memcpy(p, MAGIC, 8);
        for (int i = 0; i < 4; i++) {
            p[8 + i] = (unsigned char)((uint32_t)n >> (8 * i));
        }
        for (size_t i = 0; i < n; i++) {
            put_le64(p + HEADER + 16 * i, d[i].birth);
            put_le64(p + HEADER + 16 * i + 8, d[i].death);
        }
    }
    *len_out = need;
    return AURA_OK;
}

aura_status aura_memory_diagram_decode(const void *buf, size_t len, aura_tda_interval *out,
                                       size_t cap, size_t *n_out)
{
    AURA_CHECK_ARG((buf || len == 0) && n_out);
    const unsigned char *p = buf;
    if (len < HEADER || memcmp(p, MAGIC, 8) != 0) {
        return AURA_E_FORMAT;
    }
    uint32_t n = 0;
    for (int i = 0; i < 4; i++) {
        n |= (uint32_t)p[8 + i] << (8 * i);
    }
    if ((len - HEADER) / 16 != n || (len - HEADER) % 16 != 0) {
        return AURA_E_FORMAT;
    }
    if (out && cap < n) {
        return AURA_E_RANGE;
    }
    for (uint32_t i = 0; i < n; i++) {
        aura_tda_interval iv = {get_le64(p + HEADER + 16 * i), get_le64(p + HEADER + 16 * i + 8)};
        if (aura_tda_diagram_check(&iv, 1, NULL) != AURA_OK) {
            return AURA_E_FORMAT;
        }
        if (out) {
            out[i] = iv;
        }
    }
    *n_out = n;
    return AURA_OK;
}

typedef struct ranked {
    double distance;
    size_t index;
} ranked;

static int cmp_ranked(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->distance != b->distance) {
        return a->distance < b->distance ? -1 : 1;
    }
    return (a->index > b->index) - (a->index < b->index);
}

aura_status aura_memory_rerank_by_diagram(const aura_tda_distance_opts *opts,
                                          const aura_tda_interval *query, size_t nq,
                                          aura_memory_rerank_item *items, size_t n_items)
{
    AURA_CHECK_ARG((query || nq == 0) && (items || n_items == 0));
    const aura_allocator *al = opts ? opts->alloc : NULL;
    ranked *r = aura__alloc_array(al, n_items ? n_items : 1, sizeof *r);
    aura_memory_rerank_item *copy = aura__alloc_array(al, n_items ? n_items : 1, sizeof *copy);
    aura_status st = r && copy ? AURA_OK : AURA_E_NOMEM;
    for (size_t i = 0; st == AURA_OK && i < n_items; i++) {
        r[i].index = i;
        st = aura_tda_diagram_distance(opts, query, nq, items[i].diagram, items[i].n,
                                       &r[i].distance);
    }
    if (st == AURA_OK) {
        qsort(r, n_items, sizeof *r, cmp_ranked);
        for (size_t i = 0; i < n_items; i++) {
            copy[i] = items[r[i].index];
            copy[i].distance = r[i].distance;
        }
        if (n_items) {
            memcpy(items, copy, n_items * sizeof *items);
        }
    }
    aura__free(al, r);
    aura__free(al, copy);
    return st;
}
