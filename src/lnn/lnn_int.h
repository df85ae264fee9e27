/* lnn_int.h -- internals of the lnn module: the model layout (named
 * parameters in one float block), cell descriptors, safetensors and wiring
 * helpers.  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_LNN_INT_H
#define AURA_LNN_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "aura/lnn.h"
#include "core/core_int.h"

#define LNN_NAME_MAX 64
#define LNN_MAX_PARAMS 256

/* One named parameter: a slice of model->pdata. */
typedef struct lnn_param {
    char name[LNN_NAME_MAX]; /* state_dict key */
    int ndim;                /* 1 or 2 */
    size_t shape[2];
    size_t off, n;           /* offset and length in floats */
    int trainable;           /* 0 for sparsity masks */
} lnn_param;

/* A CfC cell (unwired: with backbone; wired: one per layer, with mask). */
typedef struct lnn_cfc {
    int in, n;               /* input width (C, or previous layer), neurons */
    int n_bb, bb_units;      /* backbone layers and width */
    const float *bb_w[AURA_LNN_MAX_BACKBONE], *bb_b[AURA_LNN_MAX_BACKBONE];
    const float *ff1_w, *ff1_b, *ff2_w, *ff2_b, *ta_w, *ta_b, *tb_w, *tb_b;
    const float *w_tau, *A;  /* pure mode, (1, n) */
    const float *mask;       /* (n, in + n) or NULL */
    int state_off;           /* where this cell's neurons sit in h */
} lnn_cfc;

typedef struct lnn_ltc {
    int n, c, m;             /* neurons, inputs, motor (output) */
    const float *gleak, *vleak, *cm, *w, *sigma, *mu, *erev;
    const float *s_w, *s_sigma, *s_mu, *s_erev, *mask, *s_mask;
    const float *in_w, *in_b, *out_w, *out_b; /* NULL when the mapping omits them */
} lnn_ltc;

struct aura_lnn_model {
    const aura_allocator *alloc;
    aura_lnn_config cfg;
    int C, H, O;             /* input, state, output sizes */
    int n_layers;            /* CfC cells (1 unwired) */
    int layer_sizes[AURA_LNN_MAX_LAYERS];
    lnn_cfc cell[AURA_LNN_MAX_LAYERS];
    lnn_ltc ltc;
    const float *lstm_wi, *lstm_bi, *lstm_wr; /* mixed memory */
    const float *fc_w, *fc_b;                 /* projection */
    size_t n_params;
    lnn_param params[LNN_MAX_PARAMS];
    float *pdata;            /* all parameters */
    size_t pdata_len;
    float *ws;               /* per-sample workspace */
    size_t ws_len;
    char errmsg[256];
};

/* Model layout: builds the parameter list from m->cfg (pdata == NULL) or
 * binds the cell pointers (pdata set).  AURA_E_INVAL on a bad config with
 * a message in m->errmsg. */
aura_status aura__lnn_layout(aura_lnn_model *m);
aura_status aura__lnn_bind(aura_lnn_model *m);
aura_status aura__lnn_check_config(const aura_lnn_config *cfg, char *err, size_t cap);

/* Workspace floats needed per sample. */
size_t aura__lnn_ws_len(const aura_lnn_model *m);

/* One sample, one step: x (C), dt, h (H) and c (H) read; the new state in
 * h_new (H), c_new (H), output y (O).  ws has aura__lnn_ws_len floats. */
void aura__lnn_step1(const aura_lnn_model *m, const float *x, float dt, const float *h,
                     const float *c, float *h_new, float *c_new, float *y, float *ws);

/* Config <-> JSON (cJSON inside). */
aura_status aura__lnn_config_from_json(const char *json, aura_lnn_config *cfg, char *err,
                                       size_t cap);
char *aura__lnn_config_to_json(const aura_lnn_model *m); /* malloc'd by cJSON; free() */

/* Wiring generators (Appendix A of the golden README). */
aura_status aura__lnn_wiring_sizes(const aura_lnn_wiring_config *wc, int *n_units, int *n_motor,
                                   int layer_sizes[AURA_LNN_MAX_LAYERS], int *n_layers,
                                   aura_lnn_wiring_config *resolved);



/* snprintf into err (if any). */
void aura__lnn_errf(char *err, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif /* AURA_LNN_INT_H */
