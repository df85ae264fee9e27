/* tda_extras.h -- extensions of the Vietoris-Rips engine (aura/tda.h):
 * edge collapse, graph inputs and batches of small point clouds.
 *
 * All of them reduce to the engine's public entry points
 * (aura_tda_compute_sparse/_matrix/_points) and return ordinary
 * aura_tda_result objects, so the result accessors of tda.h apply.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_TDA_EXTRAS_H
#define AURA_TDA_EXTRAS_H

#include <stddef.h>
#include <stdint.h>

#include "aura/tda.h"

/* ---- edge collapse ---- */

/* Collapses the filtered graph (n vertices, edges[0..n_edges), any order,
 * either orientation; entries with i == j or d > threshold are dropped;
 * a repeated pair keeps its smallest value) by the algorithm of Glisse and
 * Pritam ("Swap, shift and trim to edge collapse a filtration", SoCG 2022),
 * which builds on Boissonnat and Pritam ("Edge collapse and persistence of
 * flag complexes", SoCG 2020): walking the edges by decreasing value, an edge
 * dominated by a common neighbour is delayed to the next value at which it
 * may stop being dominated, and removed if it stays dominated to the end.
 * The flag filtration of the output has the same persistence barcode as that
 * of the input in every dimension (each step is a strong collapse, a homotopy
 * equivalence), though the engine may list pairs of equal values in another
 * order.  Values in the output are values of the input.
 *
 * out[0..n_edges) is caller storage (it may not alias edges); *n_out gets
 * the number of edges kept (i < j, by decreasing value).  Errors:
 * AURA_E_INVAL (NULL, NaN threshold, negative or NaN value), AURA_E_RANGE
 * (index >= n), AURA_E_NOMEM; outputs untouched on failure. */
AURA_API aura_status aura_tda_collapse_edges(const aura_allocator *alloc, size_t n,
                                             const aura_tda_edge *edges, size_t n_edges,
                                             float threshold, aura_tda_edge *out,
                                             size_t *n_out);

/* The barcode of a parsed input (aura_tda_input_read) after edge collapse:
 * the edges of the input under opts->threshold (dense inputs without a
 * threshold: under their enclosing radius, as the engine does) are
 * collapsed, then reduced as a sparse matrix.  *n_kept / *n_total (either
 * may be NULL) get the number of edges after / before the collapse.
 * Errors as aura_tda_input_compute and aura_tda_collapse_edges. */
AURA_API aura_status aura_tda_input_compute_collapsed(const aura_tda_opts *opts,
                                                      const aura_tda_input *in,
                                                      aura_tda_result **out, size_t *n_kept,
                                                      size_t *n_total);

/* The same on a point cloud (n*d row-major floats), a dense matrix or a
 * sparse matrix given directly. */
AURA_API aura_status aura_tda_compute_points_collapsed(const aura_tda_opts *opts,
                                                       const float *points, size_t n, size_t d,
                                                       aura_tda_result **out);
AURA_API aura_status aura_tda_compute_matrix_collapsed(const aura_tda_opts *opts,
                                                       const float *dist, size_t n,
                                                       aura_tda_layout layout,
                                                       aura_tda_result **out);
AURA_API aura_status aura_tda_compute_sparse_collapsed(const aura_tda_opts *opts, size_t n,
                                                       const aura_tda_edge *edges,
                                                       size_t n_edges, aura_tda_result **out);

/* ---- graphs ---- */

/* How a weighted graph becomes a filtration. */
typedef enum aura_tda_graph_mode {
    AURA_TDA_GRAPH_FLAG = 0,    /* flag (clique) complex of the graph, a simplex
                                   entering at its largest edge weight */
    AURA_TDA_GRAPH_DISTANCE = 1 /* Rips filtration of the shortest-path metric
                                   (Dijkstra from every vertex); vertices in
                                   different components are at infinite
                                   distance (no edge) */
} aura_tda_graph_mode;

/* Barcode of the graph on n vertices with edges[0..n_edges) (i, j, weight
 * d; weights finite and >= 0; self loops ignored; a repeated pair keeps its
 * smallest weight).  Vertices enter at 0.  opts->threshold applies to the
 * filtration values (weights or path lengths); `collapse` != 0 collapses
 * edges first (same barcode, faster on large graphs).  Errors: AURA_E_INVAL
 * (NULL, bad opts or mode, negative/NaN/Inf weight), AURA_E_RANGE (index
 * >= n), AURA_E_NOMEM, AURA_E_OVERFLOW as the engine. */
AURA_API aura_status aura_tda_compute_graph(const aura_tda_opts *opts, size_t n,
                                            const aura_tda_edge *edges, size_t n_edges,
                                            aura_tda_graph_mode mode, int collapse,
                                            aura_tda_result **out);

/* Shortest-path distances of the graph (as above): dist[0..n(n-1)/2) gets
 * the lower triangle (row i holds d(i, 0..i-1), rows 1..n-1, the layout
 * AURA_TDA_LOWER), INFINITY between components.  Cost O(n (m + n) log n).
 * Errors as aura_tda_compute_graph; dist untouched on failure. */
AURA_API aura_status aura_tda_graph_distances(const aura_allocator *alloc, size_t n,
                                              const aura_tda_edge *edges, size_t n_edges,
                                              float *dist);

/* A parsed edge list. */
typedef struct aura_tda_graph aura_tda_graph;

/* Parses an edge list: one edge a line, "i j" (weight 1) or "i j w",
 * fields separated by blanks, tabs or commas; blank lines and lines
 * starting with '#' are skipped.  If every vertex token is a non-negative
 * integer, vertices are those integers (0-based; n = largest + 1);
 * otherwise every token is a name and vertices are numbered in order of
 * first appearance.  Self loops are ignored, duplicate edges keep the
 * smallest weight.  Errors: AURA_E_FORMAT (wrong field count, bad number,
 * empty file), AURA_E_NUMERIC (NaN/Inf weight), AURA_E_RANGE (negative
 * weight, index too large), AURA_E_NOMEM, with a one-line message naming
 * `name`, the line and the value in err[0..err_len).  Integer vertices
 * must be below 2^24 (AURA_E_RANGE). */
AURA_API aura_status aura_tda_graph_read(const char *buf, size_t len, const char *name,
                                         const aura_allocator *alloc, aura_tda_graph **out,
                                         char *err, size_t err_len);

AURA_API void aura_tda_graph_destroy(aura_tda_graph *g);

/* Number of vertices and the (deduplicated, i < j) edges, borrowed. */
AURA_API size_t aura_tda_graph_n_vertices(const aura_tda_graph *g);
AURA_API const aura_tda_edge *aura_tda_graph_edges(const aura_tda_graph *g, size_t *n_edges);

/* 1 if the vertices were named (not integers). */
AURA_API int aura_tda_graph_named(const aura_tda_graph *g);

/* Name of vertex v (its decimal number for integer vertices), copied
 * NUL-terminated into buf[0..len) (truncated if longer).  Errors:
 * AURA_E_RANGE (v out of range), AURA_E_INVAL (NULL, len == 0). */
AURA_API aura_status aura_tda_graph_vertex_name(const aura_tda_graph *g, size_t v, char *buf,
                                                size_t len);

/* ---- batches ---- */

/* Barcodes of many point clouds (all in dimension d).  Built for many small
 * clouds (tens to a few hundred points): the engine runs in a per-thread
 * arena that is reset between clouds, so there is no allocation per cloud
 * after the first few, and clouds are split over n_threads threads (0: the
 * number of online processors).  The result depends neither on n_threads
 * nor on the order: cloud c gives exactly aura_tda_compute_points(opts,
 * points[c], sizes[c], d).  opts->alloc is used for the arenas and the
 * result; opts->threads is ignored (each cloud runs on one thread). */
typedef struct aura_tda_batch aura_tda_batch;

/* points[c] holds sizes[c]*d floats (borrowed).  collapse != 0 computes
 * each cloud as aura_tda_compute_points_collapsed (same barcode, pairs in
 * that call's order; faster on clouds of more than a few dozen points).
 * Errors: AURA_E_INVAL
 * (NULL, d == 0, bad opts), AURA_E_NUMERIC (NaN/Inf coordinate; *bad_cloud,
 * if not NULL, gets the first such cloud), AURA_E_NOMEM, AURA_E_OVERFLOW. */
AURA_API aura_status aura_tda_batch_compute_points(const aura_tda_opts *opts, size_t n_clouds,
                                                   const float *const *points,
                                                   const size_t *sizes, size_t d, int n_threads,
                                                   int collapse, aura_tda_batch **out,
                                                   size_t *bad_cloud);

AURA_API void aura_tda_batch_destroy(aura_tda_batch *b);

AURA_API size_t aura_tda_batch_n_clouds(const aura_tda_batch *b);

/* Highest dimension computed for cloud c (min(max_dim, n-2), at least 0;
 * -1 if c is out of range). */
AURA_API int aura_tda_batch_max_dim(const aura_tda_batch *b, size_t c);

/* The pairs of cloud c in dimension dim, in the engine's order, borrowed
 * (valid until aura_tda_batch_destroy); *count gets their number (0 and
 * NULL for an out-of-range c or dim). */
AURA_API const aura_tda_pair *aura_tda_batch_pairs(const aura_tda_batch *b, size_t c, int dim,
                                                   size_t *count);

#endif /* AURA_TDA_EXTRAS_H */
