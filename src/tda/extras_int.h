/* extras_int.h -- internals shared by the tda extensions (collapse.c,
 * graph.c, batch.c).  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_TDA_EXTRAS_INT_H
#define AURA_TDA_EXTRAS_INT_H

#include "aura/tda_extras.h"

/* Copies edges[0..n_edges) with i != j and d <= threshold, oriented i < j,
 * one per pair (the smallest value), sorted by (i, j), into a new array
 * *out (free with aura__free(a, ...)).  Errors: AURA_E_RANGE (index >= n),
 * AURA_E_INVAL (negative, NaN or infinite value), AURA_E_NOMEM. */
aura_status aura__tda_edges_normalize(const aura_allocator *a, size_t n,
                                      const aura_tda_edge *edges, size_t n_edges, float threshold,
                                      aura_tda_edge **out, size_t *n_out);

/* aura_tda_collapse_edges with the implementation chosen by `mode`: 0 as
 * the public call (by size), 1 the dense bitset sweep (if n allows), 2 the
 * sparse neighbour-list sweep, 3 the bitset sweep on neighbour lists.  For
 * the tests. */
aura_status aura__tda_collapse_edges_mode(const aura_allocator *alloc, size_t n,
                                          const aura_tda_edge *edges, size_t n_edges,
                                          float threshold, aura_tda_edge *out, size_t *n_out,
                                          int mode);

/* The parsed data of an input (formats.c): points (kind 0) or the lower
 * matrix (kind 1) in *data, the sparse entries (kind 2) in *edges. */
void aura__tda_input_view(const aura_tda_input *in, const float **data,
                          const aura_tda_edge **edges);

#endif /* AURA_TDA_EXTRAS_INT_H */
