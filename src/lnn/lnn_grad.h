/* lnn_grad.h -- internal double-precision forward/backward (grad.c),
 * shared by the public gradient API, the trainer and the tests.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_LNN_GRAD_H
#define AURA_LNN_GRAD_H

#include "lnn/lnn_int.h"

size_t aura__lnn_tape_step(const aura_lnn_model *m);
size_t aura__lnn_grad_ws(const aura_lnn_model *m);

/* With parameters P (pdata_len doubles, the model's layout): runs B
 * sequences of length L (x (B,L,C), dt (B,L) or NULL, h0 (B,H), c0 (B,H)
 * or NULL), writes y (B,L,O) if non-NULL and loss = sum(y * gy) if gy is
 * set.  If G is set (gy required), adds d loss / d P into G and writes
 * gx (B,L,C; must be zeroed by the caller), gh0, gc0 (B,H) when non-NULL. */
aura_status aura__lnn_grad_d(const aura_lnn_model *m, const double *P, size_t B, size_t L,
                             const double *x, const double *dt, const double *h0,
                             const double *c0, const double *gy, double *loss, double *y,
                             double *G, double *gx, double *gh0, double *gc0);

/* The loss: sum(y * gy) when target is NULL; otherwise the mean-squared
 * error scale * sum((y - target)^2) over every step (or only the last
 * one with last_only). */
typedef struct lnn_loss {
    const double *gy;     /* (B, L, O) */
    const double *target; /* (B, L, O) or NULL */
    double scale;
    int last_only;
} lnn_loss;

aura_status aura__lnn_grad_loss(const aura_lnn_model *m, const double *P, size_t B, size_t L,
                                const double *x, const double *dt, const double *h0,
                                const double *c0, const lnn_loss *ls, double *loss, double *y,
                                double *G, double *gx, double *gh0, double *gc0);

#endif /* AURA_LNN_GRAD_H */
