/* wiring.c -- ncps wirings generated from a seed, bit-exactly as ncps
 * does it (golden README, Appendix A): NCP/AutoNCP draw from numpy's
 * legacy MT19937 RandomState, FullyConnected from numpy's default_rng
 * (SeedSequence + PCG64).  Neuron ids: motor 0..M-1, then command, then
 * inter.  Adjacency entries are -1/0/+1, row = source, column = target.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "lnn/lnn_int.h"

/* ---- MT19937 (numpy RandomState) ---- */
typedef struct mt {
    uint32_t s[624];
    int i;
} mt;

static void mt_seed(mt *r, uint32_t seed)
{
    r->s[0] = seed;
    for (int i = 1; i < 624; i++) {
        r->s[i] = 1812433253u * (r->s[i - 1] ^ (r->s[i - 1] >> 30)) + (uint32_t)i;
    }
    r->i = 624;
}

static uint32_t mt_next(mt *r)
{
    if (r->i >= 624) {
        for (int k = 0; k < 624; k++) {
            uint32_t y = (r->s[k] & 0x80000000u) | (r->s[(k + 1) % 624] & 0x7fffffffu);
            r->s[k] = r->s[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
        }
        r->i = 0;
    }
    uint32_t y = r->s[r->i++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* Uniform integer in [0, m] by masked rejection (numpy rk_interval). */
static uint32_t mt_interval(mt *r, uint32_t m)
{
    if (m == 0) {
        return 0;
    }
    uint32_t mask = m;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    uint32_t v;
    while ((v = mt_next(r) & mask) > m) {
    }
    return v;
}

static float mt_sign(mt *r)
{
    return mt_interval(r, 1) ? 1.0f : -1.0f;
}

/* k distinct elements of list[0..n) in numpy's permutation order. */
static void mt_sample(mt *r, const int *list, int n, int k, int *out, int *perm)
{
    for (int i = 0; i < n; i++) {
        perm[i] = i;
    }
    for (int i = n - 1; i >= 1; i--) {
        int j = (int)mt_interval(r, (uint32_t)i);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int i = 0; i < k; i++) {
        out[i] = list[perm[i]];
    }
}

/* ---- SeedSequence + PCG64 (numpy default_rng) ---- */
__extension__ typedef unsigned __int128 u128;

typedef struct pcg {
    u128 state, inc;
    uint32_t half;
    int has_half;
} pcg;

static uint32_t hashmix(uint32_t v, uint32_t *h)
{
    v ^= *h;
    *h *= 0x931E8875u;
    v *= *h;
    v ^= v >> 16;
    return v;
}

static uint32_t mixw(uint32_t x, uint32_t y)
{
    uint32_t r = 0xCA01F9DDu * x - 0x4973F715u * y;
    return r ^ (r >> 16);
}

static void pcg_step(pcg *p)
{
    const u128 mult = ((u128)0x2360ED051FC65DA4ull << 64) | 0x4385DF649FCCF645ull;
    p->state = p->state * mult + p->inc;
}

static void pcg_seed(pcg *p, uint64_t seed)
{
    uint32_t words[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    int nw = words[1] ? 2 : 1;
    uint32_t pool[4], h = 0x43B0D7E5u;
    for (int i = 0; i < 4; i++) {
        pool[i] = hashmix(i < nw ? words[i] : 0u, &h);
    }
    for (int s = 0; s < 4; s++) {
        for (int d = 0; d < 4; d++) {
            if (s != d) {
                pool[d] = mixw(pool[d], hashmix(pool[s], &h));
            }
        }
    }
    uint32_t out[8], hb = 0x8B51F9DDu;
    for (int i = 0; i < 8; i++) {
        uint32_t v = pool[i % 4] ^ hb;
        hb *= 0x58F38DEDu;
        v *= hb;
        v ^= v >> 16;
        out[i] = v;
    }
    uint64_t w[4];
    for (int k = 0; k < 4; k++) {
        w[k] = (uint64_t)out[2 * k] | (uint64_t)out[2 * k + 1] << 32;
    }
    p->inc = ((((u128)w[2] << 64) | w[3]) << 1) | 1u;
    p->state = 0;
    pcg_step(p);
    p->state += ((u128)w[0] << 64) | w[1];
    pcg_step(p);
    p->has_half = 0;
    p->half = 0;
}

static uint64_t pcg_next64(pcg *p)
{
    pcg_step(p);
    uint64_t hi = (uint64_t)(p->state >> 64), lo = (uint64_t)p->state;
    unsigned rot = (unsigned)(p->state >> 122);
    uint64_t x = hi ^ lo;
    return (x >> rot) | (x << ((64 - rot) & 63));
}

static uint32_t pcg_next32(pcg *p)
{
    if (p->has_half) {
        p->has_half = 0;
        return p->half;
    }
    uint64_t v = pcg_next64(p);
    p->half = (uint32_t)(v >> 32);
    p->has_half = 1;
    return (uint32_t)v;
}

/* Lemire's bounded integer in [0, m]. */
static uint32_t pcg_bounded(pcg *p, uint32_t m)
{
    uint32_t r = m + 1;
    uint64_t prod = (uint64_t)pcg_next32(p) * r;
    uint32_t left = (uint32_t)prod;
    if (left < r) {
        uint32_t t = (UINT32_MAX - m) % r;
        while (left < t) {
            prod = (uint64_t)pcg_next32(p) * r;
            left = (uint32_t)prod;
        }
    }
    return (uint32_t)(prod >> 32);
}

/* ---- sizes ---- */

aura_status aura__lnn_wiring_sizes(const aura_lnn_wiring_config *wc, int *n_units, int *n_motor,
                                   int layer_sizes[AURA_LNN_MAX_LAYERS], int *n_layers,
                                   aura_lnn_wiring_config *resolved)
{
    aura_lnn_wiring_config w = *wc;
    if (w.type == AURA_LNN_WIRING_FULL) {
        if (w.units < 1 || w.units > AURA_LNN_MAX_UNITS) {
            return AURA_E_INVAL;
        }
        if (w.output_size <= 0) {
            w.output_size = w.units;
        }
        if (w.output_size > w.units) {
            return AURA_E_INVAL;
        }
        *n_units = w.units;
        *n_motor = w.output_size;
        layer_sizes[0] = w.units;
        *n_layers = 1;
        *resolved = w;
        return AURA_OK;
    }
    if (w.type == AURA_LNN_WIRING_AUTONCP) {
        if (w.units < 3 || w.units > AURA_LNN_MAX_UNITS || w.output_size < 1 ||
            w.output_size >= w.units - 2 || !(w.sparsity_level >= 0.1 && w.sparsity_level <= 1.0)) {
            return AURA_E_INVAL;
        }
        double d = 1.0 - w.sparsity_level;
        int ic = w.units - w.output_size;
        int cmd = (int)(0.4 * ic);
        cmd = cmd < 1 ? 1 : cmd;
        int inter = ic - cmd;
        w.inter_neurons = inter;
        w.command_neurons = cmd;
        w.motor_neurons = w.output_size;
        w.sensory_fanout = (int)(inter * d) < 1 ? 1 : (int)(inter * d);
        w.inter_fanout = (int)(cmd * d) < 1 ? 1 : (int)(cmd * d);
        w.recurrent_command_synapses = (int)(cmd * d * 2) < 1 ? 1 : (int)(cmd * d * 2);
        w.motor_fanin = (int)(cmd * d) < 1 ? 1 : (int)(cmd * d);
        w.type = AURA_LNN_WIRING_NCP;
    } else if (w.type != AURA_LNN_WIRING_NCP) {
        return AURA_E_INVAL;
    }
    if (w.inter_neurons < 1 || w.command_neurons < 1 || w.motor_neurons < 1 ||
        w.inter_neurons > AURA_LNN_MAX_UNITS || w.command_neurons > AURA_LNN_MAX_UNITS ||
        w.motor_neurons > AURA_LNN_MAX_UNITS || w.sensory_fanout < 1 ||
        w.sensory_fanout > w.inter_neurons || w.inter_fanout < 1 ||
        w.inter_fanout > w.command_neurons || w.motor_fanin < 1 ||
        w.motor_fanin > w.command_neurons || w.recurrent_command_synapses < 0 ||
        w.recurrent_command_synapses > AURA_LNN_MAX_UNITS) {
        return AURA_E_INVAL;
    }
    *n_units = w.inter_neurons + w.command_neurons + w.motor_neurons;
    *n_motor = w.motor_neurons;
    layer_sizes[0] = w.inter_neurons;
    layer_sizes[1] = w.command_neurons;
    layer_sizes[2] = w.motor_neurons;
    *n_layers = 3;
    if (wc->type == AURA_LNN_WIRING_AUTONCP) {
        w.type = AURA_LNN_WIRING_AUTONCP; /* keep the user's type, with derived sizes */
    }
    *resolved = w;
    return AURA_OK;
}

/* ---- generators ---- */

static void gen_full(const aura_lnn_wiring_config *w, int C, float *adj, float *sens)
{
    static const float signs[3] = {-1.0f, 1.0f, 1.0f};
    pcg p;
    pcg_seed(&p, w->seed);
    int N = w->units;
    for (int s = 0; s < N; s++) {
        for (int d = 0; d < N; d++) {
            if (s == d && !w->self_connections) {
                continue;
            }
            adj[(size_t)s * N + d] = signs[pcg_bounded(&p, 2)];
        }
    }
    for (int s = 0; s < C; s++) {
        for (int d = 0; d < N; d++) {
            sens[(size_t)s * N + d] = signs[pcg_bounded(&p, 2)];
        }
    }
}

static int clipi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

typedef struct ncp_ids {
    int *sensory, *inter, *command, *motor, *pick, *perm, *reached;
} ncp_ids;

static void ncp_sensory_layer(mt *r, const aura_lnn_wiring_config *w, int C, int N, float *sens,
                              ncp_ids *id)
{
    int ni = w->inter_neurons;
    memset(id->reached, 0, sizeof(int) * (size_t)N);
    for (int s = 0; s < C; s++) {
        mt_sample(r, id->inter, ni, w->sensory_fanout, id->pick, id->perm);
        for (int k = 0; k < w->sensory_fanout; k++) {
            sens[(size_t)s * N + id->pick[k]] = mt_sign(r);
            id->reached[id->pick[k]] = 1;
        }
    }
    int fanin = clipi((int)((double)C * w->sensory_fanout / ni), 1, C);
    for (int i = 0; i < ni; i++) {
        int t = id->inter[i];
        if (id->reached[t]) {
            continue;
        }
        mt_sample(r, id->sensory, C, fanin, id->pick, id->perm);
        for (int k = 0; k < fanin; k++) {
            sens[(size_t)id->pick[k] * N + t] = mt_sign(r);
        }
    }
}

static void ncp_inter_layer(mt *r, const aura_lnn_wiring_config *w, int N, float *adj, ncp_ids *id)
{
    int ni = w->inter_neurons, nc = w->command_neurons;
    memset(id->reached, 0, sizeof(int) * (size_t)N);
    for (int i = 0; i < ni; i++) {
        int s = id->inter[i];
        mt_sample(r, id->command, nc, w->inter_fanout, id->pick, id->perm);
        for (int k = 0; k < w->inter_fanout; k++) {
            adj[(size_t)s * N + id->pick[k]] = mt_sign(r);
            id->reached[id->pick[k]] = 1;
        }
    }
    int fanin = clipi((int)((double)ni * w->inter_fanout / nc), 1, nc);
    for (int i = 0; i < nc; i++) {
        int t = id->command[i];
        if (id->reached[t]) {
            continue;
        }
        mt_sample(r, id->inter, ni, fanin, id->pick, id->perm);
        for (int k = 0; k < fanin; k++) {
            adj[(size_t)id->pick[k] * N + t] = mt_sign(r);
        }
    }
}

static void ncp_motor_layer(mt *r, const aura_lnn_wiring_config *w, int N, float *adj, ncp_ids *id)
{
    int nc = w->command_neurons, nm = w->motor_neurons;
    memset(id->reached, 0, sizeof(int) * (size_t)N);
    for (int i = 0; i < nm; i++) {
        int t = id->motor[i];
        mt_sample(r, id->command, nc, w->motor_fanin, id->pick, id->perm);
        for (int k = 0; k < w->motor_fanin; k++) {
            adj[(size_t)id->pick[k] * N + t] = mt_sign(r);
            id->reached[id->pick[k]] = 1;
        }
    }
    int fanout = clipi((int)((double)nm * w->motor_fanin / nc), 1, nm);
    for (int i = 0; i < nc; i++) {
        int s = id->command[i];
        if (id->reached[s]) {
            continue;
        }
        mt_sample(r, id->motor, nm, fanout, id->pick, id->perm);
        for (int k = 0; k < fanout; k++) {
            adj[(size_t)s * N + id->pick[k]] = mt_sign(r);
        }
    }
}

static aura_status gen_ncp(const aura_allocator *a, const aura_lnn_wiring_config *w, int C, int N,
                           float *adj, float *sens)
{
    int big = N > C ? N : C;
    int *buf = aura__alloc_array(a, (size_t)big * 3 + (size_t)N + (size_t)C + 1, sizeof(int));
    if (!buf) {
        return AURA_E_NOMEM;
    }
    ncp_ids id;
    id.sensory = buf;
    id.motor = buf + C; /* motor, command, inter are consecutive ids */
    id.command = id.motor + w->motor_neurons;
    id.inter = id.command + w->command_neurons;
    for (int i = 0; i < C; i++) {
        id.sensory[i] = i;
    }
    for (int i = 0; i < N; i++) {
        id.motor[i] = i;
    }
    id.pick = buf + C + N;
    id.perm = id.pick + big;
    id.reached = id.perm + big;
    mt r;
    mt_seed(&r, (uint32_t)w->seed);
    ncp_sensory_layer(&r, w, C, N, sens, &id);
    ncp_inter_layer(&r, w, N, adj, &id);
    for (int i = 0; i < w->recurrent_command_synapses; i++) {
        int s = id.command[mt_interval(&r, (uint32_t)w->command_neurons - 1)];
        int d = id.command[mt_interval(&r, (uint32_t)w->command_neurons - 1)];
        adj[(size_t)s * N + d] = mt_sign(&r);
    }
    ncp_motor_layer(&r, w, N, adj, &id);
    aura__free(a, buf);
    return AURA_OK;
}

aura_status aura_lnn_wiring_generate(const aura_lnn_wiring_config *wc, int input_size, int *n_units,
                                     float *adj, float *sensory, int *layer_sizes, int *n_layers)
{
    return aura__lnn_wiring_generate(NULL, wc, input_size, n_units, adj, sensory, layer_sizes,
                                     n_layers);
}

aura_status aura__lnn_wiring_generate(const aura_allocator *a, const aura_lnn_wiring_config *wc,
                                      int input_size, int *n_units, float *adj, float *sensory,
                                      int *layer_sizes, int *n_layers)
{
    AURA_CHECK_ARG(wc && n_units);
    if (input_size < 1 || input_size > AURA_LNN_MAX_UNITS) {
        return AURA_E_INVAL;
    }
    aura_lnn_wiring_config w;
    int N, M, ls[AURA_LNN_MAX_LAYERS], nl;
    aura_status st = aura__lnn_wiring_sizes(wc, &N, &M, ls, &nl, &w);
    if (st != AURA_OK) {
        return st;
    }
    if (adj && sensory) {
        memset(adj, 0, sizeof(float) * (size_t)N * (size_t)N);
        memset(sensory, 0, sizeof(float) * (size_t)input_size * (size_t)N);
        if (w.type == AURA_LNN_WIRING_FULL) {
            gen_full(&w, input_size, adj, sensory);
        } else {
            st = gen_ncp(a, &w, input_size, N, adj, sensory);
            if (st != AURA_OK) {
                return st;
            }
        }
    }
    *n_units = N;
    if (layer_sizes) {
        memcpy(layer_sizes, ls, sizeof(int) * (size_t)nl);
    }
    if (n_layers) {
        *n_layers = nl;
    }
    return AURA_OK;
}
