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
#define LNN_BLOCK 8 /* samples advanced together (weights reused from cache) */

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
    /* packed (pack.c): transposed backbone layers, and all heads side by
     * side [f1 | f2 | time_a | time_b] (masks applied) with their biases */
    float *bbT[AURA_LNN_MAX_BACKBONE];
    float *hT, *hb;
    int nh;                  /* head columns: 4n, or n in pure mode */
    /* gated modes at dt = 1: [f1 | f2 | time_a + time_b] (3n columns),
     * the gate's pre-activation from one set of weights; NULL in pure mode */
    float *h1T, *h1b;
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
    float *ws;               /* workspace of LNN_BLOCK samples */
    size_t ws_len;           /* floats per sample */
    float *pk;               /* packed parameters (pack.c) */
    size_t pk_len;
    int dirty;               /* parameters changed since the last pack */
    float *wiT, *wrT, *fcT;  /* LSTM input/recurrent maps, projection, transposed */
    /* LTC, rows padded to l_np = N rounded up to 16 columns (zero weight in
     * the padding): P(w) * mask, sigma, mu, erev (N, l_np) and the sensory
     * ones (C, l_np); P(cm), P(gleak) (N) */
    int l_np;
    float *l_wm, *l_sig, *l_mu, *l_erev, *l_swm, *l_ssig, *l_smu, *l_serev;
    float *l_cm, *l_gl;
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

/* Config <-> JSON (cJSON inside). */
aura_status aura__lnn_config_from_json(const char *json, aura_lnn_config *cfg, char *err,
                                       size_t cap);
/* The optional size keys of a config JSON (state_size, output_size, units
 * of a wired model, layer_sizes) against the model built from it. */
aura_status aura__lnn_config_check_sizes(const char *json, const aura_lnn_model *m, char *err,
                                         size_t cap);
char *aura__lnn_config_to_json(const aura_lnn_model *m); /* malloc'd by cJSON; free() */

/* Wiring generators (Appendix A of the golden README). */
aura_status aura__lnn_wiring_sizes(const aura_lnn_wiring_config *wc, int *n_units, int *n_motor,
                                   int layer_sizes[AURA_LNN_MAX_LAYERS], int *n_layers,
                                   aura_lnn_wiring_config *resolved);



/* aura_lnn_wiring_generate with an allocator for its scratch memory. */
aura_status aura__lnn_wiring_generate(const aura_allocator *a, const aura_lnn_wiring_config *wc,
                                      int input_size, int *n_units, float *adj, float *sensory,
                                      int *layer_sizes, int *n_layers);

/* snprintf into err (if any). */
void aura__lnn_errf(char *err, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif /* AURA_LNN_INT_H */

/* ---- kernels (kernels.c) and packed weights (pack.c) ---- */
/* Caps the instruction set of the hand-written kernels (default: the
 * widest the CPU has).  For tests, so that one machine checks every path;
 * not thread-safe: set it before any model runs.  Results agree across
 * caps to float rounding (the plain paths fuse no multiply-adds). */
enum { AURA__LNN_ISA_GENERIC = 0, AURA__LNN_ISA_AVX2 = 1, AURA__LNN_ISA_AVX512 = 2 };
void aura__lnn_set_isa_cap(int cap);

void aura__lnn_gemm_t(const float *restrict WT, const float *restrict b, const float *restrict Z,
                      int S, int K, int ldz, int n, float *restrict Y, int acc);
/* LTC synapses of S samples (v[s] -> num[s], den[s], accumulated). */
void aura__lnn_ltc_syn(const float *restrict wm, const float *restrict sigma,
                       const float *restrict mu, const float *restrict erev,
                       const float *const *v, int S, int n_src, int N, float *const *num,
                       float *const *den);

void aura__lnn_ltc_update(const float *restrict cm, const float *restrict gl,
                          const float *restrict vleak, const float *restrict num,
                          const float *restrict num_s, const float *restrict den,
                          const float *restrict den_s, float eps, int N, float *restrict v);
void aura__lnn_tanh_array(float *restrict v, size_t n, int lecun);
void aura__lnn_cfc_gate(const float *restrict F, int n, float dt, int gated, float *restrict out);
/* As aura__lnn_cfc_gate with F = [f1 | f2 | gate pre-activation]. */
void aura__lnn_cfc_gate_pre(const float *restrict F, int n, int gated, float *restrict out);
void aura__lnn_lstm_gates(const float *restrict q, const float *restrict c, int H,
                          float *restrict c_new, float *restrict hh);
double aura__lnn_dot_d(const double *restrict a, const double *restrict m,
                       const double *restrict b, int k);
void aura__lnn_outer_acc_d(double *restrict dW, const double *restrict M, int n, int k, int cnt,
                           const double *const *dy, const double *const *z);
void aura__lnn_gemv_d(const double *restrict W, const double *restrict b,
                      const double *restrict M, const double *restrict z, int n, int k,
                      double *restrict y);
void aura__lnn_gemv_t_d(const double *restrict W, const double *restrict M,
                        const double *restrict dy, int n, int k, double *restrict dz);
void aura__lnn_axpy_d(double g, const double *restrict x, const double *restrict m,
                      double *restrict y, int k);

/* exp(x) for x in [-87, 87], vectorisable (no calls, no float compares):
 * Cephes-style range reduction and a degree-6 polynomial; relative error
 * about 2e-7. */
static inline float aura__lnn_exp_clamped(float x)
{
    float fx = x * 1.44269504088896341f + 0.5f;
    int k = (int)(fx + 256.0f) - 256; /* floor, fx >= -126 */
    float n = (float)k;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int bits = (k + 127) << 23;
    float scale;
    __builtin_memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* z clamped to [-87, 87] with integer operations only (|z| through its bit
 * pattern, then the sign put back); NaN never reaches these kernels. */
static inline float aura__lnn_clamp87(float z)
{
    int zb;
    __builtin_memcpy(&zb, &z, sizeof zb);
    int ab = zb & 0x7fffffff;
    ab = ab < 0x42ae0000 ? ab : 0x42ae0000;
    ab |= zb & (int)0x80000000u;
    float r;
    __builtin_memcpy(&r, &ab, sizeof r);
    return r;
}

static inline float aura__lnn_exp_neg(float x) /* x <= 0 */
{
    return aura__lnn_exp_clamped(aura__lnn_clamp87(x));
}

/* 1 / (1 + exp(-z)), vectorisable. */
static inline float aura__lnn_sigmoidf(float z)
{
    return 1.0f / (1.0f + aura__lnn_exp_clamped(-aura__lnn_clamp87(z)));
}

/* tanh(x), vectorisable: x - x^3/3 + 2x^5/15 - 17x^7/315 for |x| < 1/16,
 * else sign(x) (1 - e) / (1 + e) with e = exp(-2|x|); relative error
 * below about 1e-6. */
static inline float aura__lnn_tanhf(float x)
{
    int xb, ab, pb, qb;
    __builtin_memcpy(&xb, &x, sizeof xb);
    ab = xb & 0x7fffffff;
    int small = -(ab < 0x3d800000); /* all ones when |x| < 1/16 */
    int cb = ab < 0x42200000 ? ab : 0x42200000; /* |x| <= 40 */
    float a;
    __builtin_memcpy(&a, &cb, sizeof a);
    float e = aura__lnn_exp_neg(-2.0f * a), q = (1.0f - e) / (1.0f + e);
    float x2 = x * x;
    float p = x + x * x2 * (-0.333333333f + x2 * (0.133333333f + x2 * -0.053968254f));
    __builtin_memcpy(&pb, &p, sizeof pb);
    __builtin_memcpy(&qb, &q, sizeof qb);
    qb |= xb & (int)0x80000000u; /* sign of x */
    int rb = (pb & small) | (qb & ~small);
    float r;
    __builtin_memcpy(&r, &rb, sizeof r);
    return r;
}

/* Packed, transposed copies of the parameters for the forward pass;
 * rebuilt when m->dirty is set (parameters may have changed). */
size_t aura__lnn_pack_len(const aura_lnn_model *m);
void aura__lnn_pack(aura_lnn_model *m);
