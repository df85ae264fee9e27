/* fheap.h -- a binary min-heap of (float key, vertex) pairs, shared by the
 * edge collapse (common neighbours that appear later) and the graph
 * input's Dijkstra.  Internal to src/tda.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_TDA_FHEAP_H
#define AURA_TDA_FHEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct aura__fheap_item {
    float key;
    uint32_t v;
} aura__fheap_item;

/* Moves x down from slot k of h[0..len) to its place. */
static inline void aura__fheap_sift_down(aura__fheap_item *h, size_t len, size_t k,
                                         aura__fheap_item x)
{
    for (;;) {
        size_t l = 2 * k + 1;
        if (l >= len) {
            break;
        }
        if (l + 1 < len && h[l + 1].key < h[l].key) {
            l++;
        }
        if (x.key <= h[l].key) {
            break;
        }
        h[k] = h[l];
        k = l;
    }
    h[k] = x;
}

/* Floyd's bottom-up construction of a heap from h[0..len), O(len). */
static inline void aura__fheap_build(aura__fheap_item *h, size_t len)
{
    for (size_t k = len / 2; k-- > 0;) {
        aura__fheap_sift_down(h, len, k, h[k]);
    }
}

/* Pushes x; h must have room for *len + 1 items. */
static inline void aura__fheap_push(aura__fheap_item *h, size_t *len, aura__fheap_item x)
{
    size_t k = (*len)++;
    while (k > 0) {
        size_t p = (k - 1) / 2;
        if (h[p].key <= x.key) {
            break;
        }
        h[k] = h[p];
        k = p;
    }
    h[k] = x;
}

/* Removes and returns the smallest item; *len must be > 0. */
static inline aura__fheap_item aura__fheap_pop(aura__fheap_item *h, size_t *len)
{
    aura__fheap_item top = h[0], x = h[--*len];
    if (*len > 0) {
        aura__fheap_sift_down(h, *len, 0, x);
    }
    return top;
}

#endif
