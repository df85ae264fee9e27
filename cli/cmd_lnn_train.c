/* cmd_lnn_train.c -- `aura lnn grad` (BPTT gradients of a model on one
 * batch) and `aura lnn train` (Adam on sequence data in CSV or JSON lines).
 * SPDX-License-Identifier: MIT */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aura/lnn.h"
#include "cli.h"
#include "cmd_lnn.h"

/* ---- aura lnn grad ---- */

static const float *get_io(const aura_lnn_tensors *t, const char *name, size_t sh[4], int *nd)
{
    const float *p = aura_lnn_tensors_get(t, name, sh, nd);
    if (!p) {
        char io[80];
        snprintf(io, sizeof io, "io.%s", name);
        p = aura_lnn_tensors_get(t, io, sh, nd);
    }
    return p;
}

static int write_grads(aura_lnn_model *m, const char *out, size_t B, size_t L, const float *y,
                       const float *gp, const float *gx, const float *gh, const float *gc)
{
    aura_lnn_info in;
    aura_lnn_model_get_info(m, &in);
    size_t np = aura_lnn_model_param_count(m), k = 0;
    aura_lnn_tensor *ts = calloc(np + 4, sizeof(*ts));
    char(*names)[96] = calloc(np + 1, sizeof(*names));
    if (!ts || !names) {
        free(ts);
        free(names);
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < np; i++) {
        const char *pn = aura_lnn_model_param_name(m, i);
        if (strstr(pn, "sparsity_mask")) {
            continue; /* not trainable */
        }
        size_t off, n;
        aura_lnn_model_param_offset(m, pn, &off, &n);
        snprintf(names[i], sizeof names[i], "grad.%s", pn);
        size_t shp[2];
        int nd = 1;
        aura_lnn_model_param_shape(m, pn, shp, &nd);
        ts[k++] = (aura_lnn_tensor){names[i], nd, {shp[0], shp[1], 0, 0}, gp + off};
    }
    size_t H = (size_t)in.state_size;
    ts[k++] = (aura_lnn_tensor){"grad.input", 3, {B, L, (size_t)in.input_size, 0}, gx};
    ts[k++] = (aura_lnn_tensor){"grad.h0", 2, {B, H, 0, 0}, gh};
    if (in.has_cell_state) {
        ts[k++] = (aura_lnn_tensor){"grad.c0", 2, {B, H, 0, 0}, gc};
    }
    ts[k++] = (aura_lnn_tensor){"output", 3, {B, L, (size_t)in.output_size, 0}, y};
    aura_status st = aura_lnn_tensors_save(out, ts, k, NULL);
    free(ts);
    free(names);
    if (st != AURA_OK) {
        cli_errorf("lnn", "%s: cannot write: %s", out, aura_status_str(st));
        return CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}

int cmd_lnn_grad(int argc, char **argv)
{
    const char *model, *in_path, *out;
    int prc = cmd_lnn_parse_model_io(argc, argv, "grad", &model, &in_path, &out);
    if (prc >= 0) {
        return prc;
    }
    aura_lnn_model *m = NULL;
    int rc = cmd_lnn_load_model(model, &m);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    char err[512] = "";
    aura_lnn_tensors *t = NULL;
    aura_status st = aura_lnn_tensors_load(NULL, in_path, &t, err, sizeof err);
    if (st != AURA_OK) {
        cli_errorf("lnn", "%s", err);
        aura_lnn_model_destroy(m);
        return cli_exit_code(st);
    }
    aura_lnn_info in;
    aura_lnn_model_get_info(m, &in);
    cmd_lnn_io io;
    rc = cmd_lnn_read_inputs(in_path, t, &in, &io);
    size_t sh[4];
    int nd = 0;
    const float *gy = rc == CLI_EXIT_OK ? get_io(t, "grad_output", sh, &nd) : NULL;
    if (rc == CLI_EXIT_OK && (!gy || nd != 3 || sh[0] != io.B || sh[1] != io.L ||
                              sh[2] != (size_t)in.output_size)) {
        cli_errorf("lnn", "%s: needs 'grad_output' of shape (%zu, %zu, %d)", in_path, io.B, io.L,
                   in.output_size);
        rc = CLI_EXIT_INPUT;
    }
    if (rc == CLI_EXIT_OK) {
        size_t B = io.B, L = io.L, H = (size_t)in.state_size;
        float *gp = calloc(in.n_params + 1, 4), *gx = calloc(B * L * (size_t)in.input_size + 1, 4);
        float *gh = calloc(B * H + 1, 4), *gc = calloc(B * H + 1, 4);
        float *y = calloc(B * L * (size_t)in.output_size + 1, 4);
        st = gp && gx && gh && gc && y
                 ? aura_lnn_model_grad(m, B, L, io.x, io.ts, io.h0, io.c0, gy, y, gp, gx, gh, gc)
                 : AURA_E_NOMEM;
        if (st != AURA_OK) {
            cli_errorf("lnn", "grad: %s: %s", aura_status_str(st), aura_lnn_model_errmsg(m));
            rc = CLI_EXIT_FAIL;
        } else {
            rc = write_grads(m, out, B, L, y, gp, gx, gh, gc);
        }
        free(gp);
        free(gx);
        free(gh);
        free(gc);
        free(y);
    }
    aura_lnn_tensors_destroy(t);
    aura_lnn_model_destroy(m);
    return rc;
}

/* ---- data sets ---- */

typedef struct dataset {
    size_t n, L, C, O; /* sequences, steps, inputs, targets */
    int has_dt;
    float *x, *y, *dt; /* (n, L, C), (n, L, O), (n, L) */
    size_t cap;        /* sequences allocated */
} dataset;

static void ds_free(dataset *d)
{
    free(d->x);
    free(d->y);
    free(d->dt);
}

static int ds_grow(dataset *d)
{
    if (d->n < d->cap) {
        return 1;
    }
    size_t cap = d->cap ? 2 * d->cap : 64;
    float *x = realloc(d->x, cap * d->L * d->C * 4);
    if (x) {
        d->x = x;
    }
    float *y = realloc(d->y, cap * d->L * d->O * 4);
    if (y) {
        d->y = y;
    }
    float *t = realloc(d->dt, cap * d->L * 4);
    if (t) {
        d->dt = t;
    }
    if (!x || !y || !t) {
        return 0;
    }
    d->cap = cap;
    return 1;
}

/* A JSON array of L entries, each a number (width 1) or an array of w numbers. */
static int json_steps(const cJSON *a, size_t *L, size_t *w, float *out)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1) {
        return 0;
    }
    size_t n = (size_t)cJSON_GetArraySize(a), width = 0, s = 0;
    for (const cJSON *e = a->child; e; e = e->next, s++) {
        size_t ew = cJSON_IsNumber(e) ? 1 : cJSON_IsArray(e) ? (size_t)cJSON_GetArraySize(e) : 0;
        if (ew == 0 || (width && ew != width) || (*w && ew != *w)) {
            return 0;
        }
        width = ew;
        if (out) {
            if (cJSON_IsNumber(e)) {
                out[s] = (float)e->valuedouble;
            } else {
                size_t k = 0;
                for (const cJSON *v = e->child; v; v = v->next, k++) {
                    if (!cJSON_IsNumber(v)) {
                        return 0;
                    }
                    out[s * width + k] = (float)v->valuedouble;
                }
            }
        }
    }
    if (*L && n != *L) {
        return 0;
    }
    *L = n;
    *w = width;
    return 1;
}

static int jsonl_line(dataset *d, const char *line, const char *path, long lineno)
{
    cJSON *o = cJSON_Parse(line);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "x");
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(o, "y");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "dt");
    size_t L = d->L, C = d->C, O = d->O, one = 1;
    int ok = cJSON_IsObject(o) && json_steps(x, &L, &C, NULL) && json_steps(y, &L, &O, NULL) &&
             (!t || json_steps(t, &L, &one, NULL)) && (d->n == 0 || (t != NULL) == d->has_dt);
    if (ok) {
        d->L = L;
        d->C = C;
        d->O = O;
        d->has_dt = t != NULL;
        ok = ds_grow(d);
    }
    if (ok) {
        json_steps(x, &L, &C, d->x + d->n * L * C);
        json_steps(y, &L, &O, d->y + d->n * L * O);
        if (t) {
            json_steps(t, &L, &one, d->dt + d->n * L);
        } else {
            for (size_t s = 0; s < L; s++) {
                d->dt[d->n * L + s] = 1.0f;
            }
        }
        d->n++;
    }
    cJSON_Delete(o);
    if (!ok) {
        cli_errorf("lnn", "%s:%ld: expected {\"x\": [[...], ...], \"y\": [[...], ...], \"dt\": [...]}"
                   " with the same length and widths as earlier lines", path, lineno);
    }
    return ok;
}

/* CSV: a header naming `seq`, optional `dt`, inputs x..., targets y...;
 * one row per step, the rows of a sequence consecutive. */
typedef struct csv_cols {
    int seq, dt, ncol;
    int kind[256]; /* 0 other, 1 x, 2 y */
} csv_cols;

static int csv_header(char *line, csv_cols *cc, dataset *d)
{
    cc->seq = cc->dt = -1;
    cc->ncol = 0;
    for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n")) {
        while (*tok == ' ') {
            tok++;
        }
        if (cc->ncol >= 256) {
            return 0;
        }
        int k = 0;
        if (strcmp(tok, "seq") == 0) {
            cc->seq = cc->ncol;
        } else if (strcmp(tok, "dt") == 0) {
            cc->dt = cc->ncol;
        } else if (tok[0] == 'x') {
            k = 1;
            d->C++;
        } else if (tok[0] == 'y') {
            k = 2;
            d->O++;
        }
        cc->kind[cc->ncol++] = k;
    }
    d->has_dt = cc->dt >= 0;
    return cc->seq >= 0 && d->C > 0 && d->O > 0;
}

static int csv_row(char *line, const csv_cols *cc, double *vals)
{
    int c = 0;
    char *p = line;
    while (c < cc->ncol) {
        char *end;
        vals[c] = strtod(p, &end);
        if (end == p) {
            return 0;
        }
        while (*end == ' ') {
            end++;
        }
        c++;
        if (c < cc->ncol && *end != ',') {
            return 0;
        }
        if (c == cc->ncol && *end && *end != '\n' && *end != '\r') {
            return 0;
        }
        p = end + 1;
    }
    return 1;
}

/* Reads the data rows as (seq, dt, x..., y...) into *out (rows x w). */
static int csv_rows(FILE *f, const char *path, const csv_cols *cc, const dataset *d,
                    double **out, size_t *n_rows)
{
    static char line[1 << 14];
    size_t rows = 0, cap = 0, w = 2 + d->C + d->O;
    double *buf = NULL, vals[256];
    long lineno = 1;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '\n' || line[0] == '\r') {
            continue;
        }
        if (!csv_row(line, cc, vals)) {
            cli_errorf("lnn", "%s:%ld: expected %d numbers", path, lineno, cc->ncol);
            free(buf);
            return 0;
        }
        if (rows == cap) {
            cap = cap ? 2 * cap : 1024;
            double *nb = realloc(buf, cap * w * sizeof(double));
            if (!nb) {
                free(buf);
                return 0;
            }
            buf = nb;
        }
        double *r = buf + rows * w;
        size_t xi = 0, yi = 0;
        r[0] = vals[cc->seq];
        r[1] = cc->dt >= 0 ? vals[cc->dt] : 1.0;
        for (int c = 0; c < cc->ncol; c++) {
            if (cc->kind[c] == 1) {
                r[2 + xi++] = vals[c];
            } else if (cc->kind[c] == 2) {
                r[2 + d->C + yi++] = vals[c];
            }
        }
        rows++;
    }
    *out = buf;
    *n_rows = rows;
    return 1;
}

/* Sequences are runs of rows with one seq id, all of one length. */
static int csv_group(const char *path, const double *buf, size_t rows, dataset *d)
{
    size_t start = 0, w = 2 + d->C + d->O;
    while (start < rows) {
        size_t end = start;
        while (end < rows && buf[end * w] == buf[start * w]) {
            end++;
        }
        if (d->L == 0) {
            d->L = end - start;
        }
        if (end - start != d->L) {
            cli_errorf("lnn", "%s: sequence %g has %zu steps, the first one %zu", path,
                       buf[start * w], end - start, d->L);
            return 0;
        }
        if (!ds_grow(d)) {
            return 0;
        }
        for (size_t s = 0; s < d->L; s++) {
            const double *r = buf + (start + s) * w;
            d->dt[d->n * d->L + s] = (float)r[1];
            for (size_t k = 0; k < d->C; k++) {
                d->x[(d->n * d->L + s) * d->C + k] = (float)r[2 + k];
            }
            for (size_t k = 0; k < d->O; k++) {
                d->y[(d->n * d->L + s) * d->O + k] = (float)r[2 + d->C + k];
            }
        }
        d->n++;
        start = end;
    }
    return 1;
}

static int read_csv(FILE *f, const char *path, dataset *d)
{
    char line[1 << 14];
    csv_cols cc;
    if (!fgets(line, sizeof line, f) || !csv_header(line, &cc, d)) {
        cli_errorf("lnn", "%s:1: header must name 'seq', inputs 'x...' and targets 'y...'", path);
        return 0;
    }
    double *buf = NULL;
    size_t rows = 0;
    if (!csv_rows(f, path, &cc, d, &buf, &rows)) {
        return 0;
    }
    int ok = rows > 0 && csv_group(path, buf, rows, d);
    if (rows == 0) {
        cli_errorf("lnn", "%s: no data rows", path);
    }
    free(buf);
    return ok;
}

static int read_dataset(const char *path, dataset *d)
{
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_errorf("lnn", "%s: cannot open", path);
        return 0;
    }
    size_t len = strlen(path);
    int ok;
    if (len > 4 && strcmp(path + len - 4, ".csv") == 0) {
        ok = read_csv(f, path, d);
    } else {
        static char line[1 << 20];
        long lineno = 0;
        ok = 1;
        while (ok && fgets(line, sizeof line, f)) {
            lineno++;
            if (line[0] != '\n' && line[0] != '\r') {
                ok = jsonl_line(d, line, path, lineno);
            }
        }
        if (ok && d->n == 0) {
            cli_errorf("lnn", "%s: no sequences", path);
            ok = 0;
        }
    }
    fclose(f);
    size_t nv[3] = {d->n * d->L * d->C, d->n * d->L * d->O, d->n * d->L};
    const float *vv[3] = {d->x, d->y, d->dt};
    for (int k = 0; ok && k < (d->has_dt ? 3 : 2); k++) {
        for (size_t i = 0; i < nv[k]; i++) {
            if (!isfinite(vv[k][i]) || (k == 2 && vv[k][i] < 0.0f)) {
                cli_errorf("lnn", "%s: sequence %zu holds %s", path, i / (nv[k] / d->n),
                           k == 2 ? "a NaN/Inf or negative dt" : "NaN/Inf (or a number too "
                                                                 "large for float)");
                ok = 0;
                break;
            }
        }
    }
    return ok;
}

/* ---- aura lnn train ---- */

typedef struct train_args {
    const char *data, *out, *init;
    aura_lnn_config cfg;
    int epochs, batch;
    uint64_t seed;
    aura_lnn_train_opts o;
} train_args;

static int parse_enum(const char *v, const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(v, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static int parse_train(int argc, char **argv, train_args *a)
{
    static const char *const modes[] = {"default", "pure", "no_gate"};
    static const char *const acts[] = {"lecun_tanh", "tanh", "relu", "silu", "gelu"};
    a->cfg = aura_lnn_config_default();
    a->cfg.units = 16;
    a->cfg.backbone_units = 32;
    a->epochs = 50;
    a->batch = 16;
    a->seed = 1;
    a->o = aura_lnn_train_opts_default();
    int ltc = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 1, bad = 0;
        if (strcmp(o, "--out") == 0 && v) {
            a->out = v;
        } else if (strcmp(o, "--init") == 0 && v) {
            a->init = v;
        } else if (strcmp(o, "--model") == 0 && v) {
            ltc = strcmp(v, "ltc") == 0;
            bad = !ltc && strcmp(v, "cfc") != 0;
        } else if (strcmp(o, "--units") == 0 && v) {
            a->cfg.units = atoi(v);
        } else if (strcmp(o, "--mode") == 0 && v) {
            int k = parse_enum(v, modes, 3);
            bad = k < 0;
            a->cfg.mode = (aura_lnn_mode)(k < 0 ? 0 : k);
        } else if (strcmp(o, "--activation") == 0 && v) {
            int k = parse_enum(v, acts, 5);
            bad = k < 0;
            a->cfg.activation = (aura_lnn_act)(k < 0 ? 0 : k);
        } else if (strcmp(o, "--backbone-layers") == 0 && v) {
            a->cfg.backbone_layers = atoi(v);
        } else if (strcmp(o, "--backbone-units") == 0 && v) {
            a->cfg.backbone_units = atoi(v);
        } else if (strcmp(o, "--epochs") == 0 && v) {
            a->epochs = atoi(v);
            bad = a->epochs < 1;
        } else if (strcmp(o, "--batch") == 0 && v) {
            a->batch = atoi(v);
            bad = a->batch < 1;
        } else if (strcmp(o, "--lr") == 0 && v) {
            a->o.lr = atof(v);
        } else if (strcmp(o, "--clip") == 0 && v) {
            a->o.clip_norm = atof(v);
        } else if (strcmp(o, "--seed") == 0 && v) {
            a->seed = strtoull(v, NULL, 10);
        } else if (strcmp(o, "--mixed-memory") == 0) {
            a->cfg.mixed_memory = 1;
            used = 0;
        } else if (strcmp(o, "--last-only") == 0) {
            a->o.last_step_only = 1;
            used = 0;
        } else if (o[0] != '-' && !a->data) {
            a->data = o;
            used = 0;
        } else {
            cli_errorf("lnn", "unexpected argument '%s' (see aura lnn --help)", o);
            return 0;
        }
        if (bad) {
            cli_errorf("lnn", "bad value '%s' for %s", v, o);
            return 0;
        }
        i += used;
    }
    if (ltc) {
        aura_lnn_config c = aura_lnn_config_default_ltc(1, a->cfg.units);
        c.mixed_memory = a->cfg.mixed_memory;
        a->cfg = c;
    }
    if (!a->data || !a->out) {
        cli_errorf("lnn", "train needs DATA and --out MODEL (see aura lnn --help)");
        return 0;
    }
    return 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int make_model(train_args *a, const dataset *d, aura_lnn_model **m)
{
    if (a->init) {
        int rc = cmd_lnn_load_model(a->init, m);
        if (rc != CLI_EXIT_OK) {
            return rc;
        }
    } else {
        a->cfg.input_size = (int)d->C;
        if (a->cfg.kind == AURA_LNN_LTC) {
            a->cfg.wiring.output_size = (int)d->O;
        } else {
            a->cfg.proj_size = (int)d->O;
        }
        aura_status st = aura_lnn_model_create(NULL, &a->cfg, a->seed, m);
        if (st != AURA_OK) {
            cli_errorf("lnn", "cannot create the model: %s", aura_status_str(st));
            return cli_exit_code(st);
        }
    }
    aura_lnn_info in;
    aura_lnn_model_get_info(*m, &in);
    if ((size_t)in.input_size != d->C || (size_t)in.output_size != d->O) {
        cli_errorf("lnn", "the model maps %d inputs to %d outputs, the data %zu to %zu",
                   in.input_size, in.output_size, d->C, d->O);
        aura_lnn_model_destroy(*m);
        return CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}

/* One epoch over a shuffled order; returns the mean batch loss or -1. */
static double epoch(aura_lnn_trainer *tr, const dataset *d, const train_args *a, size_t *order,
                    aura_rng *r, float *bx, float *by, float *bt)
{
    for (size_t i = d->n; i > 1; i--) {
        size_t j = (size_t)aura_rng_below(r, i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    double sum = 0;
    size_t nb = 0, L = d->L;
    for (size_t s = 0; s < d->n; s += (size_t)a->batch) {
        size_t B = d->n - s < (size_t)a->batch ? d->n - s : (size_t)a->batch;
        for (size_t b = 0; b < B; b++) {
            size_t q = order[s + b];
            memcpy(bx + b * L * d->C, d->x + q * L * d->C, L * d->C * 4);
            memcpy(by + b * L * d->O, d->y + q * L * d->O, L * d->O * 4);
            memcpy(bt + b * L, d->dt + q * L, L * 4);
        }
        double l = 0;
        aura_status st = aura_lnn_trainer_step(tr, B, L, bx, d->has_dt ? bt : NULL, by, &l);
        if (st != AURA_OK) {
            return -1.0;
        }
        sum += l;
        nb++;
    }
    return sum / (double)nb;
}

static int train_loop(aura_lnn_model *m, const dataset *d, const train_args *a)
{
    aura_lnn_trainer *tr = NULL;
    if (aura_lnn_trainer_create(m, &a->o, &tr) != AURA_OK) {
        cli_errorf("lnn", "bad training options (lr, clip)");
        return CLI_EXIT_USAGE;
    }
    size_t B = (size_t)a->batch, L = d->L;
    size_t *order = malloc(d->n * sizeof(size_t));
    float *bx = malloc(B * L * d->C * 4), *by = malloc(B * L * d->O * 4), *bt = malloc(B * L * 4);
    int rc = order && bx && by && bt ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    for (size_t i = 0; order && i < d->n; i++) {
        order[i] = i;
    }
    aura_rng r;
    aura_rng_init(&r, a->seed ^ 0x5eedULL);
    double t0 = now_s(), first = -1, last = -1;
    int tty = cli_stderr_is_tty();
    for (int e = 0; rc == CLI_EXIT_OK && e < a->epochs; e++) {
        last = epoch(tr, d, a, order, &r, bx, by, bt);
        if (last < 0) {
            cli_errorf("lnn", "training diverged: %s", aura_lnn_model_errmsg(m));
            rc = CLI_EXIT_FAIL;
            break;
        }
        first = e == 0 ? last : first;
        if (tty) {
            fprintf(stderr, "epoch %d/%d  loss %.6g  %.2fs\n", e + 1, a->epochs, last,
                    now_s() - t0);
        }
    }
    if (rc == CLI_EXIT_OK) {
        fprintf(stderr, "aura: lnn: trained %d epochs on %zu sequences: loss %.6g -> %.6g in %.2fs\n",
                a->epochs, d->n, first, last, now_s() - t0);
    }
    free(order);
    free(bx);
    free(by);
    free(bt);
    aura_lnn_trainer_destroy(tr);
    return rc;
}

int cmd_lnn_train(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            cmd_lnn_usage(stdout);
            return CLI_EXIT_OK;
        }
    }
    train_args a;
    memset(&a, 0, sizeof a);
    if (!parse_train(argc, argv, &a)) {
        return CLI_EXIT_USAGE;
    }
    dataset d;
    if (!read_dataset(a.data, &d)) {
        ds_free(&d);
        return CLI_EXIT_INPUT;
    }
    aura_lnn_model *m = NULL;
    int rc = make_model(&a, &d, &m);
    if (rc == CLI_EXIT_OK) {
        rc = train_loop(m, &d, &a);
        if (rc == CLI_EXIT_OK && aura_lnn_model_save(m, a.out) != AURA_OK) {
            cli_errorf("lnn", "%s: cannot write", a.out);
            rc = CLI_EXIT_INPUT;
        }
        aura_lnn_model_destroy(m);
    }
    ds_free(&d);
    return rc;
}

/* ---- aura lnn bench ---- */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times model steps (--seq 1) or whole sequences on random inputs and
 * prints median and p99 latency per call and throughput. */
int cmd_lnn_bench(int argc, char **argv)
{
    const char *model = NULL;
    long B = 1, L = 1, iters = 2000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            B = atol(argv[++i]);
        } else if (strcmp(argv[i], "--seq") == 0 && i + 1 < argc) {
            L = atol(argv[++i]);
        } else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
            iters = atol(argv[++i]);
        } else if (argv[i][0] != '-' && !model) {
            model = argv[i];
        } else {
            cli_errorf("lnn", "usage: aura lnn bench MODEL [--batch B] [--seq L] [--iters N]");
            return CLI_EXIT_USAGE;
        }
    }
    if (!model || B < 1 || L < 1 || iters < 1 || B > 100000 || L > 100000) {
        cli_errorf("lnn", "usage: aura lnn bench MODEL [--batch B] [--seq L] [--iters N]");
        return CLI_EXIT_USAGE;
    }
    aura_lnn_model *m = NULL;
    int rc = cmd_lnn_load_model(model, &m);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    aura_lnn_info in;
    aura_lnn_model_get_info(m, &in);
    size_t nx = (size_t)(B * L * in.input_size), ns = (size_t)B * (size_t)in.state_size;
    float *x = malloc(nx * 4), *h = calloc(ns, 4), *c = calloc(ns, 4);
    float *y = malloc((size_t)(B * L * in.output_size) * 4);
    double *t = malloc((size_t)iters * sizeof(double));
    aura_rng r;
    aura_rng_init(&r, 1);
    for (size_t i = 0; x && i < nx; i++) {
        x[i] = (float)aura_rng_normal(&r);
    }
    aura_status st = x && h && c && y && t ? AURA_OK : AURA_E_NOMEM;
    for (long k = -iters / 10; st == AURA_OK && k < iters; k++) {
        memset(h, 0, ns * 4);
        memset(c, 0, ns * 4);
        double t0 = now_s();
        st = aura_lnn_model_run(m, (size_t)B, (size_t)L, x, NULL, h, c, y);
        if (k >= 0) {
            t[k] = now_s() - t0;
        }
    }
    if (st == AURA_OK) {
        qsort(t, (size_t)iters, sizeof(double), cmp_d);
        double med = t[iters / 2], p99 = t[(size_t)((double)iters * 0.99)];
        printf("batch %ld seq %ld: median %.3f us, p99 %.3f us, %.4g sample-steps/s\n", B, L,
               med * 1e6, p99 * 1e6, (double)(B * L) / med);
    } else {
        cli_errorf("lnn", "bench: %s", aura_status_str(st));
        rc = CLI_EXIT_FAIL;
    }
    free(x);
    free(h);
    free(c);
    free(y);
    free(t);
    aura_lnn_model_destroy(m);
    return rc;
}

/* ---- aura lnn init ---- */

/* A fresh, seeded model from a config JSON (inline or @FILE). */
int cmd_lnn_init(int argc, char **argv)
{
    const char *cfg = NULL, *out = NULL;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            cmd_lnn_usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            cfg = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else {
            cli_errorf("lnn", "unexpected argument '%s' (see aura lnn --help)", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!cfg || !out) {
        cli_errorf("lnn", "init needs --config JSON|@FILE and --out MODEL");
        return CLI_EXIT_USAGE;
    }
    char *text = NULL;
    if (cfg[0] == '@') {
        FILE *f = fopen(cfg + 1, "rb");
        long n = -1;
        if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            text = calloc((size_t)n + 1, 1);
            if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
                free(text);
                text = NULL;
            }
        }
        if (f) {
            fclose(f);
        }
        if (!text) {
            cli_errorf("lnn", "%s: cannot read", cfg + 1);
            return CLI_EXIT_INPUT;
        }
    }
    aura_lnn_config c;
    char err[256] = "";
    aura_status st = aura_lnn_config_parse(text ? text : cfg, &c, err, sizeof err);
    free(text);
    if (st != AURA_OK) {
        cli_errorf("lnn", "%s", err);
        return CLI_EXIT_INPUT;
    }
    aura_lnn_model *m = NULL;
    st = aura_lnn_model_create(NULL, &c, seed, &m);
    if (st == AURA_OK) {
        st = aura_lnn_model_save(m, out);
    }
    aura_lnn_model_destroy(m);
    if (st != AURA_OK) {
        cli_errorf("lnn", "init: %s", aura_status_str(st));
        return cli_exit_code(st);
    }
    return CLI_EXIT_OK;
}
