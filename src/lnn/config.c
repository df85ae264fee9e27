/* config.c -- the model configuration: defaults, validation, and the
 * `config` JSON string of the safetensors metadata (parsed and written
 * with cJSON).  Key names follow the golden README §3.
 * SPDX-License-Identifier: MIT */
#include <cJSON.h>
#include <math.h>
#include <string.h>

#include "lnn/lnn_int.h"

static const char *const mode_names[] = {"default", "pure", "no_gate"};
static const char *const act_names[] = {"lecun_tanh", "tanh", "relu", "silu", "gelu"};
static const char *const map_names[] = {"affine", "linear", "none"};
static const char *const wiring_names[] = {"FullyConnected", "NCP", "AutoNCP"};

aura_lnn_config aura_lnn_config_default(void)
{
    aura_lnn_config c;
    memset(&c, 0, sizeof c);
    c.kind = AURA_LNN_CFC;
    c.input_size = 8;
    c.units = 32;
    c.mode = AURA_LNN_MODE_DEFAULT;
    c.activation = AURA_LNN_ACT_LECUN_TANH;
    c.backbone_layers = 1;
    c.backbone_units = 128;
    c.ode_unfolds = 6;
    c.epsilon = 1e-8;
    c.implicit_param_constraints = 1;
    c.input_mapping = AURA_LNN_MAP_AFFINE;
    c.output_mapping = AURA_LNN_MAP_AFFINE;
    c.wiring.type = AURA_LNN_WIRING_AUTONCP;
    c.wiring.units = 32;
    c.wiring.output_size = 4;
    c.wiring.sparsity_level = 0.5;
    c.wiring.self_connections = 1;
    c.wiring.seed = 22222;
    return c;
}

aura_lnn_config aura_lnn_config_default_ltc(int input_size, int units)
{
    aura_lnn_config c = aura_lnn_config_default();
    c.kind = AURA_LNN_LTC;
    c.input_size = input_size;
    c.units = units;
    c.wiring.type = AURA_LNN_WIRING_FULL;
    c.wiring.units = units;
    c.wiring.output_size = units;
    c.wiring.seed = 1111;
    return c;
}

aura_status aura__lnn_check_config(const aura_lnn_config *c, char *err, size_t cap)
{
#define BAD(...)                                \
    do {                                        \
        aura__lnn_errf(err, cap, __VA_ARGS__);  \
        return AURA_E_INVAL;                    \
    } while (0)
    if (c->kind != AURA_LNN_CFC && c->kind != AURA_LNN_LTC) {
        BAD("unknown model kind %d", (int)c->kind);
    }
    if (c->input_size < 1 || c->input_size > AURA_LNN_MAX_UNITS) {
        BAD("input_size %d out of range", c->input_size);
    }
    int wired = c->kind == AURA_LNN_LTC || c->wired;
    if (wired) {
        int n, m, ls[AURA_LNN_MAX_LAYERS], nl;
        aura_lnn_wiring_config r;
        if (aura__lnn_wiring_sizes(&c->wiring, &n, &m, ls, &nl, &r) != AURA_OK) {
            BAD("invalid wiring (type %d, units %d, outputs %d)", (int)c->wiring.type,
                c->wiring.units, c->wiring.output_size);
        }
    } else if (c->units < 1 || c->units > AURA_LNN_MAX_UNITS) {
        BAD("units %d out of range", c->units);
    }
    if (c->kind == AURA_LNN_CFC) {
        if ((unsigned)c->mode > AURA_LNN_MODE_NO_GATE) {
            BAD("unknown mode %d", (int)c->mode);
        }
        if ((unsigned)c->activation > AURA_LNN_ACT_GELU) {
            BAD("unknown activation %d", (int)c->activation);
        }
        if (!wired && (c->backbone_layers < 0 || c->backbone_layers > AURA_LNN_MAX_BACKBONE)) {
            BAD("backbone_layers %d out of range 0..%d", c->backbone_layers,
                AURA_LNN_MAX_BACKBONE);
        }
        if (!wired && c->backbone_layers > 0 &&
            (c->backbone_units < 1 || c->backbone_units > AURA_LNN_MAX_UNITS)) {
            BAD("backbone_units %d out of range", c->backbone_units);
        }
        if (!(c->backbone_dropout >= 0.0 && c->backbone_dropout < 1.0)) {
            BAD("backbone_dropout must be in [0, 1)");
        }
        if (c->proj_size < 0 || c->proj_size > AURA_LNN_MAX_UNITS) {
            BAD("proj_size %d out of range", c->proj_size);
        }
    } else {
        if (c->ode_unfolds < 1 || c->ode_unfolds > 1000) {
            BAD("ode_unfolds %d out of range 1..1000", c->ode_unfolds);
        }
        if (!(c->epsilon >= 0.0 && c->epsilon < 1.0)) {
            BAD("epsilon must be in [0, 1)");
        }
        if ((unsigned)c->input_mapping > AURA_LNN_MAP_NONE ||
            (unsigned)c->output_mapping > AURA_LNN_MAP_NONE) {
            BAD("unknown input/output mapping");
        }
        if (c->proj_size != 0) {
            BAD("LTC has no output projection (proj_size)");
        }
    }
    return AURA_OK;
#undef BAD
}

/* ---- JSON ---- */

static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

typedef struct jctx {
    const cJSON *obj;
    char *err;
    size_t cap;
    int bad;
} jctx;

/* An optional integer key; returns 1 if present and valid. */
static int jint(jctx *j, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j->obj, key);
    if (!v || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsNumber(v) || floor(v->valuedouble) != v->valuedouble ||
        fabs(v->valuedouble) > 1e9) {
        if (!j->bad) {
            aura__lnn_errf(j->err, j->cap, "config: '%s' must be an integer", key);
        }
        j->bad = 1;
        return 0;
    }
    *out = (int)v->valuedouble;
    return 1;
}

static int jnum(jctx *j, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j->obj, key);
    if (!v || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsNumber(v)) {
        if (!j->bad) {
            aura__lnn_errf(j->err, j->cap, "config: '%s' must be a number", key);
        }
        j->bad = 1;
        return 0;
    }
    *out = v->valuedouble;
    return 1;
}

static void jbool(jctx *j, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j->obj, key);
    if (!v || cJSON_IsNull(v)) {
        return;
    }
    if (!cJSON_IsBool(v)) {
        if (!j->bad) {
            aura__lnn_errf(j->err, j->cap, "config: '%s' must be true or false", key);
        }
        j->bad = 1;
        return;
    }
    *out = cJSON_IsTrue(v);
}

static void jenum(jctx *j, const char *key, const char *const *names, int n, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j->obj, key);
    if (!v || cJSON_IsNull(v)) {
        return;
    }
    int k = cJSON_IsString(v) ? lookup(v->valuestring, names, n) : -1;
    if (k < 0) {
        if (!j->bad) {
            aura__lnn_errf(j->err, j->cap, "config: unknown %s '%.40s'", key,
                           cJSON_IsString(v) ? v->valuestring : "?");
        }
        j->bad = 1;
        return;
    }
    *out = k;
}

static void parse_wiring(jctx *j, const cJSON *w, aura_lnn_wiring_config *wc)
{
    jctx k = {w, j->err, j->cap, j->bad};
    int t = -1, v;
    double d;
    jenum(&k, "type", wiring_names, 3, &t);
    if (t < 0 && !k.bad) {
        aura__lnn_errf(j->err, j->cap, "config: wiring needs a type");
        k.bad = 1;
    }
    wc->type = (aura_lnn_wiring_type)(t < 0 ? 0 : t);
    jint(&k, "units", &wc->units);
    wc->self_connections = 1;
    if (wc->type == AURA_LNN_WIRING_FULL) {
        wc->output_size = 0;
        jint(&k, "output_dim", &wc->output_size);
        wc->seed = 1111;
        if (jint(&k, "erev_init_seed", &v)) {
            wc->seed = (uint64_t)(uint32_t)v;
        }
        jbool(&k, "self_connections", &wc->self_connections);
    } else {
        wc->seed = 22222;
        if (jint(&k, "seed", &v)) {
            wc->seed = (uint64_t)(uint32_t)v;
        }
        jint(&k, "output_size", &wc->output_size);
        wc->sparsity_level = 0.5;
        if (jnum(&k, "sparsity_level", &d)) {
            wc->sparsity_level = d;
        }
        jint(&k, "inter_neurons", &wc->inter_neurons);
        jint(&k, "command_neurons", &wc->command_neurons);
        jint(&k, "motor_neurons", &wc->motor_neurons);
        jint(&k, "sensory_fanout", &wc->sensory_fanout);
        jint(&k, "inter_fanout", &wc->inter_fanout);
        jint(&k, "recurrent_command_synapses", &wc->recurrent_command_synapses);
        jint(&k, "motor_fanin", &wc->motor_fanin);
    }
    j->bad = k.bad;
}

static void parse_fields(jctx *j, aura_lnn_config *c)
{
    int model = -1;
    static const char *const kinds[] = {"CfC", "LTC"};
    jenum(j, "model", kinds, 2, &model);
    if (model < 0 && !j->bad) {
        aura__lnn_errf(j->err, j->cap, "config: 'model' must be \"CfC\" or \"LTC\"");
        j->bad = 1;
    }
    c->kind = (aura_lnn_kind)(model < 0 ? 0 : model);
    if (!jint(j, "input_size", &c->input_size) && !j->bad) {
        aura__lnn_errf(j->err, j->cap, "config: 'input_size' missing");
        j->bad = 1;
    }
    jint(j, "units", &c->units);
    int m = 0, a = 0, im = 0, om = 0;
    jenum(j, "mode", mode_names, 3, &m);
    jenum(j, "activation", act_names, 5, &a);
    jenum(j, "input_mapping", map_names, 3, &im);
    jenum(j, "output_mapping", map_names, 3, &om);
    c->mode = (aura_lnn_mode)m;
    c->activation = (aura_lnn_act)a;
    c->input_mapping = (aura_lnn_map)im;
    c->output_mapping = (aura_lnn_map)om;
    jint(j, "backbone_layers", &c->backbone_layers);
    jint(j, "backbone_units", &c->backbone_units);
    jnum(j, "backbone_dropout", &c->backbone_dropout);
    jint(j, "proj_size", &c->proj_size);
    jbool(j, "mixed_memory", &c->mixed_memory);
    jbool(j, "wired", &c->wired);
    jint(j, "ode_unfolds", &c->ode_unfolds);
    jnum(j, "epsilon", &c->epsilon);
    jbool(j, "implicit_param_constraints", &c->implicit_param_constraints);
}

aura_status aura__lnn_config_from_json(const char *json, aura_lnn_config *out, char *err,
                                       size_t cap)
{
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        aura__lnn_errf(err, cap, "config metadata is not a JSON object");
        return AURA_E_FORMAT;
    }
    aura_lnn_config c = aura_lnn_config_default();
    c.backbone_layers = 1;
    jctx j = {root, err, cap, 0};
    parse_fields(&j, &c);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "wiring");
    if (cJSON_IsObject(w)) {
        parse_wiring(&j, w, &c.wiring);
        if (c.kind == AURA_LNN_CFC && !cJSON_GetObjectItemCaseSensitive(root, "wired")) {
            c.wired = 1;
        }
    } else if (c.kind == AURA_LNN_LTC) {
        c.wiring.type = AURA_LNN_WIRING_FULL; /* ncps LTC(units=int) */
        c.wiring.units = c.units;
        c.wiring.output_size = c.units;
        c.wiring.seed = 1111;
    } else if (c.wired && !j.bad) {
        aura__lnn_errf(err, cap, "config: wired model without a 'wiring' object");
        j.bad = 1;
    }
    cJSON_Delete(root);
    if (j.bad) {
        return AURA_E_FORMAT;
    }
    if (aura__lnn_check_config(&c, err, cap) != AURA_OK) {
        return AURA_E_FORMAT;
    }
    *out = c;
    return AURA_OK;
}

static void add_wiring(cJSON *o, const aura_lnn_wiring_config *w)
{
    cJSON_AddStringToObject(o, "type", wiring_names[w->type]);
    if (w->type == AURA_LNN_WIRING_FULL) {
        cJSON_AddNumberToObject(o, "units", w->units);
        cJSON_AddNumberToObject(o, "output_dim", w->output_size > 0 ? w->output_size : w->units);
        cJSON_AddNumberToObject(o, "erev_init_seed", (double)w->seed);
        cJSON_AddBoolToObject(o, "self_connections", w->self_connections);
    } else if (w->type == AURA_LNN_WIRING_AUTONCP) {
        cJSON_AddNumberToObject(o, "units", w->units);
        cJSON_AddNumberToObject(o, "output_size", w->output_size);
        cJSON_AddNumberToObject(o, "sparsity_level", w->sparsity_level);
        cJSON_AddNumberToObject(o, "seed", (double)w->seed);
    } else {
        cJSON_AddNumberToObject(o, "inter_neurons", w->inter_neurons);
        cJSON_AddNumberToObject(o, "command_neurons", w->command_neurons);
        cJSON_AddNumberToObject(o, "motor_neurons", w->motor_neurons);
        cJSON_AddNumberToObject(o, "sensory_fanout", w->sensory_fanout);
        cJSON_AddNumberToObject(o, "inter_fanout", w->inter_fanout);
        cJSON_AddNumberToObject(o, "recurrent_command_synapses", w->recurrent_command_synapses);
        cJSON_AddNumberToObject(o, "motor_fanin", w->motor_fanin);
        cJSON_AddNumberToObject(o, "seed", (double)w->seed);
    }
}

char *aura__lnn_config_to_json(const aura_lnn_model *m)
{
    const aura_lnn_config *c = &m->cfg;
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        return NULL;
    }
    int ltc = c->kind == AURA_LNN_LTC;
    cJSON_AddStringToObject(o, "model", ltc ? "LTC" : "CfC");
    cJSON_AddNumberToObject(o, "input_size", c->input_size);
    cJSON_AddNumberToObject(o, "units", m->H);
    cJSON_AddNumberToObject(o, "state_size", m->H);
    cJSON_AddNumberToObject(o, "output_size", m->O);
    cJSON_AddBoolToObject(o, "mixed_memory", c->mixed_memory);
    if (ltc) {
        cJSON_AddNumberToObject(o, "ode_unfolds", c->ode_unfolds);
        cJSON_AddNumberToObject(o, "epsilon", c->epsilon);
        cJSON_AddBoolToObject(o, "implicit_param_constraints", c->implicit_param_constraints);
        cJSON_AddStringToObject(o, "input_mapping", map_names[c->input_mapping]);
        cJSON_AddStringToObject(o, "output_mapping", map_names[c->output_mapping]);
    } else {
        cJSON_AddStringToObject(o, "mode", mode_names[c->mode]);
        cJSON_AddStringToObject(o, "activation", act_names[c->activation]);
        cJSON_AddNumberToObject(o, "backbone_layers", c->wired ? 0 : c->backbone_layers);
        cJSON_AddNumberToObject(o, "backbone_units", c->backbone_units);
        cJSON_AddNumberToObject(o, "backbone_dropout", c->backbone_dropout);
        if (c->proj_size > 0) {
            cJSON_AddNumberToObject(o, "proj_size", c->proj_size);
        } else {
            cJSON_AddNullToObject(o, "proj_size");
        }
        cJSON_AddBoolToObject(o, "wired", c->wired);
    }
    if (ltc || c->wired) {
        cJSON *ls = cJSON_CreateIntArray(m->layer_sizes, m->n_layers);
        cJSON_AddItemToObject(o, "layer_sizes", ls);
        cJSON *w = cJSON_AddObjectToObject(o, "wiring");
        if (w) {
            add_wiring(w, &c->wiring);
        }
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

aura_status aura_lnn_config_parse(const char *json, aura_lnn_config *out, char *err,
                                  size_t err_cap)
{
    AURA_CHECK_ARG(json && out);
    return aura__lnn_config_from_json(json, out, err, err_cap);
}

/* An integer key of `o` that, when present, must equal `want`. */
static int size_matches(const cJSON *o, const char *key, int want, char *err, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        return 1;
    }
    if (cJSON_IsNumber(v) && v->valuedouble == (double)want) {
        return 1;
    }
    aura__lnn_errf(err, cap, "config: '%s' contradicts the model (which has %d)", key, want);
    return 0;
}

aura_status aura__lnn_config_check_sizes(const char *json, const aura_lnn_model *m, char *err,
                                         size_t cap)
{
    cJSON *o = cJSON_Parse(json);
    int ok = o != NULL;
    int wired = m->cfg.kind == AURA_LNN_LTC || m->cfg.wired;
    ok = ok && size_matches(o, "state_size", m->H, err, cap) &&
         size_matches(o, "output_size", m->O, err, cap) &&
         (!wired || size_matches(o, "units", m->H, err, cap));
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(o, "layer_sizes");
    if (ok && wired && cJSON_IsArray(ls)) {
        int k = 0;
        ok = cJSON_GetArraySize(ls) == m->n_layers;
        for (const cJSON *e = ls->child; ok && e; e = e->next, k++) {
            ok = cJSON_IsNumber(e) && e->valuedouble == (double)m->layer_sizes[k];
        }
        if (!ok) {
            aura__lnn_errf(err, cap, "config: 'layer_sizes' contradicts the wiring");
        }
    }
    cJSON_Delete(o);
    return ok ? AURA_OK : AURA_E_FORMAT;
}
