/* lnn.h -- liquid neural networks: CfC, wired CfC (NCP) and LTC inference,
 * compatible with the ncps library (Lechner, Hasani et al., "Neural circuit
 * policies", NMI 2020; "Closed-form continuous-time neural networks", NMI
 * 2022).  Models load from and save to safetensors files holding the ncps
 * PyTorch state_dict keys plus a `config` JSON string in the metadata
 * (see ../shared/golden/lnn/README.md and docs/lnn.md).
 *
 * Typical use (risk scoring, one sample at a time):
 *
 *   aura_lnn_config cfg = aura_lnn_config_default();   // CfC 8 -> 32
 *   cfg.input_size = 6; cfg.units = 16; cfg.proj_size = 1;
 *   aura_lnn_model *m;
 *   aura_lnn_model_create(NULL, &cfg, 42, &m);
 *   float h[16] = {0}, y[1];
 *   aura_lnn_model_step(m, 1, x, NULL, h, NULL, y);     // h advanced in place
 *   aura_lnn_model_destroy(m);
 *
 * Layouts are row-major float32: inputs (B, C) per step or (B, L, C) per
 * sequence, states (B, H), outputs (B, O) or (B, L, O).
 * A model is single-threaded: it owns a small workspace used by step/run.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_LNN_H
#define AURA_LNN_H

#include <stddef.h>
#include <stdint.h>

#include "aura/alloc.h"
#include "aura/status.h"

#define AURA_LNN_MAX_BACKBONE 16 /* backbone layers at most */
#define AURA_LNN_MAX_LAYERS 3    /* wiring layers at most (inter, command, motor) */
#define AURA_LNN_MAX_UNITS 65536 /* any one dimension at most */

typedef enum aura_lnn_kind {
    AURA_LNN_CFC = 0, /* closed-form continuous-time RNN */
    AURA_LNN_LTC = 1  /* liquid time-constant RNN (always wired) */
} aura_lnn_kind;

typedef enum aura_lnn_mode { /* CfC only */
    AURA_LNN_MODE_DEFAULT = 0,
    AURA_LNN_MODE_PURE = 1,
    AURA_LNN_MODE_NO_GATE = 2
} aura_lnn_mode;

typedef enum aura_lnn_act { /* CfC backbone activation */
    AURA_LNN_ACT_LECUN_TANH = 0, /* 1.7159 tanh(0.666 z), the ncps default */
    AURA_LNN_ACT_TANH = 1,
    AURA_LNN_ACT_RELU = 2,
    AURA_LNN_ACT_SILU = 3,
    AURA_LNN_ACT_GELU = 4 /* exact erf form */
} aura_lnn_act;

typedef enum aura_lnn_map { /* LTC input/output mapping */
    AURA_LNN_MAP_AFFINE = 0, /* x*w + b */
    AURA_LNN_MAP_LINEAR = 1, /* x*w */
    AURA_LNN_MAP_NONE = 2
} aura_lnn_map;

typedef enum aura_lnn_wiring_type {
    AURA_LNN_WIRING_FULL = 0,    /* ncps FullyConnected */
    AURA_LNN_WIRING_NCP = 1,     /* ncps NCP, explicit sizes */
    AURA_LNN_WIRING_AUTONCP = 2  /* ncps AutoNCP(units, output_size, sparsity) */
} aura_lnn_wiring_type;

/* The constructor arguments of an ncps wiring.  Fields not used by `type`
 * are ignored. */
typedef struct aura_lnn_wiring_config {
    aura_lnn_wiring_type type;
    int units;              /* FULL, AUTONCP: number of neurons */
    int output_size;        /* FULL (output_dim, 0 = units), AUTONCP: motor neurons */
    int self_connections;   /* FULL: 1 (default) keeps the diagonal */
    double sparsity_level;  /* AUTONCP: default 0.5 */
    uint64_t seed;          /* NCP/AUTONCP: default 22222; FULL: erev_init_seed, default 1111 */
    /* NCP only (AUTONCP derives them): */
    int inter_neurons, command_neurons, motor_neurons;
    int sensory_fanout, inter_fanout, recurrent_command_synapses, motor_fanin;
} aura_lnn_wiring_config;

typedef struct aura_lnn_config {
    aura_lnn_kind kind;
    int input_size;            /* C */
    int units;                 /* H for an unwired CfC */
    int wired;                 /* CfC: 1 = wired CfC on `wiring` (LTC is always wired) */
    aura_lnn_wiring_config wiring;
    int mixed_memory;          /* 1: an LSTM runs in front of the cell, state (h, c) */
    /* CfC */
    aura_lnn_mode mode;
    aura_lnn_act activation;
    int backbone_layers;       /* 0..AURA_LNN_MAX_BACKBONE (unwired only) */
    int backbone_units;
    double backbone_dropout;   /* only shifts state_dict indices; identity at inference */
    int proj_size;             /* 0 = no output projection */
    /* LTC */
    int ode_unfolds;           /* default 6 */
    double epsilon;            /* default 1e-8 */
    int implicit_param_constraints; /* default 1: softplus on w, sensory_w, cm, gleak */
    aura_lnn_map input_mapping, output_mapping; /* default affine */
} aura_lnn_config;

/* ncps defaults: CfC, 8 inputs, 32 units, default mode, backbone 1x128
 * lecun_tanh; the LTC fields at the LTC defaults; wiring AutoNCP-ready. */
AURA_API aura_lnn_config aura_lnn_config_default(void);

/* A default LTC config on FullyConnected(units). */
AURA_API aura_lnn_config aura_lnn_config_default_ltc(int input_size, int units);

/* Parses a config from the JSON of the safetensors `config` metadata
 * (keys as in the golden README §3: "model", "input_size", "units",
 * "mode", "activation", "backbone_*", "proj_size", "mixed_memory",
 * "wired", "wiring" {...}, "ode_unfolds", "epsilon",
 * "implicit_param_constraints", "input_mapping", "output_mapping").
 * AURA_E_FORMAT with a message for bad JSON or an impossible config. */
AURA_API aura_status aura_lnn_config_parse(const char *json, aura_lnn_config *out, char *err,
                                           size_t err_cap);

typedef struct aura_lnn_opts {
    const aura_allocator *alloc; /* NULL = default */
} aura_lnn_opts;

AURA_API aura_lnn_opts aura_lnn_opts_default(void);

typedef struct aura_lnn_model aura_lnn_model;

/* Sizes of a model. */
typedef struct aura_lnn_info {
    int input_size;    /* C */
    int state_size;    /* H (the h state; c has the same size with mixed memory) */
    int output_size;   /* O */
    int has_cell_state;/* 1 with mixed memory */
    size_t n_params;   /* trainable + fixed float parameters in total */
} aura_lnn_info;

/* A fresh model with seeded initialisation (ncps-style: xavier-uniform
 * weights, PyTorch-default biases, orthogonal LSTM recurrent map, LTC ranges
 * of ncps).  Wirings are generated from their seeds exactly as ncps does.
 * AURA_E_INVAL for an impossible config. */
AURA_API aura_status aura_lnn_model_create(const aura_lnn_opts *opts, const aura_lnn_config *cfg,
                                           uint64_t seed, aura_lnn_model **out);

/* Loads a model from a safetensors file (or a buffer of `len` bytes).  The
 * config comes from the `config` metadata; every parameter the config
 * implies must be present with the right shape.  Errors: AURA_E_IO (cannot
 * read), AURA_E_FORMAT (bad file, missing or mismatched tensors, bad config),
 * AURA_E_NUMERIC (NaN/Inf in a parameter).  A message naming the problem is
 * written to err (err_cap bytes, may be NULL/0). */
AURA_API aura_status aura_lnn_model_load(const aura_lnn_opts *opts, const char *path,
                                         aura_lnn_model **out, char *err, size_t err_cap);
AURA_API aura_status aura_lnn_model_load_buffer(const aura_lnn_opts *opts, const void *buf,
                                                size_t len, aura_lnn_model **out, char *err,
                                                size_t err_cap);

/* Writes the model as safetensors (state_dict keys + config metadata),
 * loadable by ncps' load_state_dict and by aura_lnn_model_load. */
AURA_API aura_status aura_lnn_model_save(const aura_lnn_model *m, const char *path);

AURA_API void aura_lnn_model_destroy(aura_lnn_model *m);

AURA_API void aura_lnn_model_get_info(const aura_lnn_model *m, aura_lnn_info *info);
AURA_API const aura_lnn_config *aura_lnn_model_config(const aura_lnn_model *m);

/* The last error message of `m`; never NULL. */
AURA_API const char *aura_lnn_model_errmsg(const aura_lnn_model *m);

/* One step for a batch of B samples: x (B, C); dt (B) elapsed times or
 * NULL for 1.0; h (B, H) advanced in place; c (B, H) the LSTM cell state,
 * advanced in place (required with mixed memory, else ignored); y (B, O)
 * receives the outputs (may be NULL).  No allocation.
 * AURA_E_NUMERIC if an input, dt or state is NaN/Inf or dt < 0 (nothing
 * is written), or if a result is not finite: samples are advanced in
 * blocks of 8, and the blocks before the failing one keep their new
 * states; the failing block and later ones are untouched. */
AURA_API aura_status aura_lnn_model_step(aura_lnn_model *m, size_t batch, const float *x,
                                         const float *dt, float *h, float *c, float *y);

/* A whole sequence: x (B, L, C); dt (B, L) or NULL; h, c as for step
 * (final states on return); y (B, L, O) or NULL.  No allocation. */
AURA_API aura_status aura_lnn_model_run(aura_lnn_model *m, size_t batch, size_t len,
                                        const float *x, const float *dt, float *h, float *c,
                                        float *y);

/* Named parameter access (state_dict keys, e.g. "rnn_cell.ff1.weight").
 * Returns a pointer into the model (valid until destroy) and its element
 * count, or NULL.  The pointer is writable: the call marks the model's
 * packed weights stale, and the next step or run rebuilds them (without
 * allocating), so write through it before stepping again. */
AURA_API float *aura_lnn_model_param(aura_lnn_model *m, const char *name, size_t *n_elems);
/* The name of parameter i (0 <= i < count), or NULL. */
AURA_API const char *aura_lnn_model_param_name(const aura_lnn_model *m, size_t i);
AURA_API size_t aura_lnn_model_param_count(const aura_lnn_model *m);

/* Offset of parameter `name` in the flat parameter layout used by
 * aura_lnn_model_grad (and its element count), or AURA_E_NOTFOUND. */
AURA_API aura_status aura_lnn_model_param_offset(const aura_lnn_model *m, const char *name,
                                                 size_t *offset, size_t *n_elems);

/* The shape of parameter `name` (ndim 1 or 2 into shape), or AURA_E_NOTFOUND. */
AURA_API aura_status aura_lnn_model_param_shape(const aura_lnn_model *m, const char *name,
                                                size_t shape[2], int *ndim);

/* ---- training ---- */

/* Back-propagation through time of loss = sum(y * gy) over a batch of
 * sequences (computed in double precision, returned as float).
 * x (B, L, C), dt (B, L) or NULL, h0 (B, H) (NULL = zeros), c0 (B, H)
 * (mixed memory; NULL = zeros), gy (B, L, O).  Outputs, each may be NULL:
 * y (B, L, O) the forward outputs, g_params (info.n_params floats, the
 * flat layout of aura_lnn_model_param_offset; gradients w.r.t. the stored
 * parameters, masks get 0), g_x (B, L, C), g_h0 (B, H), g_c0 (B, H).
 * Allocates a tape of O(B L H) doubles.  AURA_E_NUMERIC on NaN/Inf. */
AURA_API aura_status aura_lnn_model_grad(aura_lnn_model *m, size_t batch, size_t len,
                                         const float *x, const float *dt, const float *h0,
                                         const float *c0, const float *gy, float *y,
                                         float *g_params, float *g_x, float *g_h0, float *g_c0);

/* Training with Adam on the mean-squared error. */
typedef struct aura_lnn_train_opts {
    double lr;            /* learning rate, default 0.01 */
    double beta1, beta2;  /* Adam moments, default 0.9, 0.999 */
    double eps;           /* Adam epsilon, default 1e-8 */
    double clip_norm;     /* clip gradients to this global L2 norm; 0 = off (default 1.0) */
    int last_step_only;   /* 1: the loss uses only each sequence's last output */
} aura_lnn_train_opts;

AURA_API aura_lnn_train_opts aura_lnn_train_opts_default(void);

typedef struct aura_lnn_trainer aura_lnn_trainer;

/* A trainer for `m` (borrowed and kept: m must outlive the trainer; the
 * trainer changes m's parameters). */
AURA_API aura_status aura_lnn_trainer_create(aura_lnn_model *m, const aura_lnn_train_opts *opts,
                                             aura_lnn_trainer **out);
AURA_API void aura_lnn_trainer_destroy(aura_lnn_trainer *tr);

/* One optimiser step on a batch: x (B, L, C), dt (B, L) or NULL, target
 * (B, L, O); states start at zero.  Loss = mean over the used outputs of
 * (y - target)^2, before the update, into *loss (may be NULL).  After the
 * step, an LTC in explicit mode has w, sensory_w, cm, gleak clipped at 0
 * (as ncps' apply_weight_constraints).  AURA_E_NUMERIC on NaN/Inf (the
 * parameters are then left unchanged). */
AURA_API aura_status aura_lnn_trainer_step(aura_lnn_trainer *tr, size_t batch, size_t len,
                                           const float *x, const float *dt, const float *target,
                                           double *loss);

/* The loss of the model on a batch without training (same definition). */
AURA_API aura_status aura_lnn_trainer_eval(aura_lnn_trainer *tr, size_t batch, size_t len,
                                           const float *x, const float *dt, const float *target,
                                           double *loss);

/* ---- wirings ---- */

/* Generates the signed adjacency of a wiring exactly as ncps does from its
 * seed: adj (N, N) [source, target] and sensory (C, N) [input, target],
 * entries -1/0/+1.  n_units receives N; adj/sensory may be NULL to query
 * it.  Layer sizes in CfC order (inter, command, motor) go to layer_sizes
 * (AURA_LNN_MAX_LAYERS entries, may be NULL) and their count to n_layers. */
AURA_API aura_status aura_lnn_wiring_generate(const aura_lnn_wiring_config *wc, int input_size,
                                              int *n_units, float *adj, float *sensory,
                                              int *layer_sizes, int *n_layers);

/* ---- safetensors files (float32 tensors) ---- */

typedef struct aura_lnn_tensors aura_lnn_tensors;

/* Reads and validates a safetensors file (dtype F32 only, shapes up to 4
 * dimensions, offsets in range and not overlapping).  AURA_E_IO/FORMAT
 * with a message in err. */
AURA_API aura_status aura_lnn_tensors_load(const aura_lnn_opts *opts, const char *path,
                                           aura_lnn_tensors **out, char *err, size_t err_cap);
AURA_API aura_status aura_lnn_tensors_load_buffer(const aura_lnn_opts *opts, const void *buf,
                                                  size_t len, aura_lnn_tensors **out, char *err,
                                                  size_t err_cap);
AURA_API void aura_lnn_tensors_destroy(aura_lnn_tensors *t);

/* A tensor by name: its data (owned by t), dimensions (up to 4 into
 * shape) and number of dimensions.  NULL if absent. */
AURA_API const float *aura_lnn_tensors_get(const aura_lnn_tensors *t, const char *name,
                                           size_t shape[4], int *ndim);
/* A metadata string value, or NULL. */
AURA_API const char *aura_lnn_tensors_meta(const aura_lnn_tensors *t, const char *key);

/* One tensor to write. */
typedef struct aura_lnn_tensor {
    const char *name;
    int ndim;          /* 0..4 */
    size_t shape[4];
    const float *data; /* prod(shape) floats */
} aura_lnn_tensor;

/* Writes n tensors and optional metadata (a `config` string value, may be
 * NULL) to a safetensors file. */
AURA_API aura_status aura_lnn_tensors_save(const char *path, const aura_lnn_tensor *tensors,
                                           size_t n, const char *config_json);

#endif /* AURA_LNN_H */
