/* diagram_int.h -- internals shared by the diagram-distance files.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_TDA_DIAGRAM_INT_H
#define AURA_TDA_DIAGRAM_INT_H

#include <stddef.h>

#include "aura/tda_diagram.h"

/* Sum of cost^p of an optimal matching between the finite diagrams a and
 * b (every point to a point of the other diagram or to the diagonal), by
 * successive shortest paths on a sparse flow network; exact. */
aura_status aura__tda_wasserstein_exact(const aura_allocator *al, const aura_tda_interval *a,
                                        size_t na, const aura_tda_interval *b, size_t nb,
                                        double p, double *sum);

/* The same sum within a factor (1 + eps)^p, from below by the optimum:
 * opt <= *sum <= (1 + eps)^p opt (auction with epsilon scaling, stopped
 * once its dual lower bound certifies the factor). */
aura_status aura__tda_wasserstein_approx(const aura_allocator *al, const aura_tda_interval *a,
                                         size_t na, const aura_tda_interval *b, size_t nb,
                                         double p, double eps, double *sum);

#endif /* AURA_TDA_DIAGRAM_INT_H */
