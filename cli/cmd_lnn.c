/* cmd_lnn.c -- `aura lnn`: run CfC/LTC models stored as safetensors.
 *   aura lnn run MODEL.safetensors --input IN.safetensors --out OUT.safetensors
 *   aura lnn info MODEL.safetensors
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/lnn.h"
#include "cli.h"
#include "cmd_lnn.h"

void cmd_lnn_usage(FILE *f)
{
    fprintf(f,
            "usage: aura lnn run MODEL.safetensors --input IN.safetensors --out OUT.safetensors\n"
            "       aura lnn grad MODEL.safetensors --input IN.safetensors --out OUT.safetensors\n"
            "       aura lnn train DATA.csv|DATA.jsonl --out MODEL.safetensors [options]\n"
            "       aura lnn init --config JSON|@FILE [--seed N] --out MODEL.safetensors\n"
            "       aura lnn info MODEL.safetensors\n"
            "       aura lnn bench MODEL.safetensors [--batch B] [--seq L] [--iters N]\n\n"
            "Runs a CfC, wired CfC or LTC model (ncps state_dict + `config` metadata).\n"
            "IN holds `input` (B, L, C) and optionally `timespans` (B, L), `h0` (B, H) and\n"
            "`c0` (B, H) (`io.`-prefixed names are accepted too); missing states start at 0.\n"
            "OUT receives `output` (B, L, O), `hn` (B, H) and, with mixed memory, `cn`.\n\n"
            "grad: IN also holds `grad_output` (B, L, O); OUT receives `grad.<param>`,\n"
            "`grad.input`, `grad.h0`, `grad.c0` (mixed memory) and `output`; the loss is\n"
            "sum(output * grad_output).\n\n"
            "init: a fresh model with seeded initialisation from a config (the JSON of\n"
            "the `config` metadata); wirings are generated from their seeds as in ncps.\n\n"
            "train: DATA is CSV (header: seq, optional dt, inputs x..., targets y...; one row\n"
            "per step, a sequence's rows consecutive) or JSON lines ({\"x\": [[..], ..],\n"
            "\"y\": [[..], ..], \"dt\": [..]} per sequence); all sequences of one length.\n"
            "Loss: mean squared error over every step (--last-only: the last step).\n"
            "  --model cfc|ltc         (cfc)        --units N            (16)\n"
            "  --mode default|pure|no_gate          --activation lecun_tanh|tanh|relu|silu|gelu\n"
            "  --backbone-layers N     (1)          --backbone-units N   (32)\n"
            "  --mixed-memory          LSTM memory  --init MODEL         start from a model\n"
            "  --epochs N (50)  --batch N (16)  --lr X (0.01)  --clip X (1.0, 0 = off)\n"
            "  --seed N (1)  --last-only\n"
            "A progress line per epoch (loss, time) goes to stderr on a terminal.\n\n"
            "exit codes: 0 ok, 1 numerical failure, 2 usage, 3 bad file\n");
}

static const float *get(const aura_lnn_tensors *t, const char *name, size_t sh[4], int *nd)
{
    const float *p = aura_lnn_tensors_get(t, name, sh, nd);
    if (!p) {
        char io[80];
        snprintf(io, sizeof io, "io.%s", name);
        p = aura_lnn_tensors_get(t, io, sh, nd);
    }
    return p;
}

typedef cmd_lnn_io run_io;

/* The first NaN/Inf (or negative value when nonneg) of v, or -1. */
static long bad_value(const float *v, size_t n, int nonneg)
{
    for (size_t i = 0; v && i < n; i++) {
        if (!isfinite(v[i]) || (nonneg && v[i] < 0.0f)) {
            return (long)i;
        }
    }
    return -1;
}

static int check_finite(const char *path, const cmd_lnn_io *io, const aura_lnn_info *in)
{
    size_t ns = io->B * (size_t)in->state_size;
    const char *names[4] = {"input", "timespans", "h0", "c0"};
    const float *vals[4] = {io->x, io->ts, io->h0, io->c0};
    size_t lens[4] = {io->B * io->L * (size_t)in->input_size, io->B * io->L, ns, ns};
    for (int k = 0; k < 4; k++) {
        long i = bad_value(vals[k], lens[k], k == 1);
        if (i >= 0) {
            cli_errorf("lnn", "%s: '%s' holds %s at flat index %ld", path, names[k],
                       k == 1 ? "a NaN/Inf or negative time" : "NaN/Inf", i);
            return CLI_EXIT_INPUT;
        }
    }
    return CLI_EXIT_OK;
}

int cmd_lnn_read_inputs(const char *path, const aura_lnn_tensors *t, const aura_lnn_info *in,
                       run_io *io)
{
    size_t sh[4];
    int nd = 0;
    io->x = get(t, "input", sh, &nd);
    if (!io->x) {
        cli_errorf("lnn", "%s: no tensor 'input'", path);
        return CLI_EXIT_INPUT;
    }
    if (nd != 3 || sh[2] != (size_t)in->input_size) {
        cli_errorf("lnn", "%s: 'input' must be (B, L, %d)", path, in->input_size);
        return CLI_EXIT_INPUT;
    }
    io->B = sh[0];
    io->L = sh[1];
    io->ts = get(t, "timespans", sh, &nd);
    if (io->ts && (nd != 2 || sh[0] != io->B || sh[1] != io->L)) {
        cli_errorf("lnn", "%s: 'timespans' must be (%zu, %zu)", path, io->B, io->L);
        return CLI_EXIT_INPUT;
    }
    const char *names[2] = {"h0", "c0"};
    const float **dst[2] = {&io->h0, &io->c0};
    for (int k = 0; k < 2; k++) {
        *dst[k] = get(t, names[k], sh, &nd);
        if (*dst[k] && (nd != 2 || sh[0] != io->B || sh[1] != (size_t)in->state_size)) {
            cli_errorf("lnn", "%s: '%s' must be (%zu, %d)", path, names[k], io->B,
                       in->state_size);
            return CLI_EXIT_INPUT;
        }
    }
    return check_finite(path, io, in);
}

static int run_and_write(aura_lnn_model *m, const aura_lnn_info *in, const run_io *io,
                         const char *out_path)
{
    size_t B = io->B, H = (size_t)in->state_size, O = (size_t)in->output_size;
    float *h = calloc(B * H + 1, sizeof(float)), *c = calloc(B * H + 1, sizeof(float));
    float *y = calloc(B * io->L * O + 1, sizeof(float));
    int rc = CLI_EXIT_OK;
    if (!h || !c || !y) {
        cli_errorf("lnn", "out of memory");
        rc = CLI_EXIT_FAIL;
        goto done;
    }
    if (io->h0) {
        memcpy(h, io->h0, B * H * sizeof(float));
    }
    if (io->c0) {
        memcpy(c, io->c0, B * H * sizeof(float));
    }
    aura_status st = aura_lnn_model_run(m, B, io->L, io->x, io->ts, h, c, y);
    if (st != AURA_OK) {
        cli_errorf("lnn", "run: %s: %s", aura_status_str(st), aura_lnn_model_errmsg(m));
        rc = st == AURA_E_NUMERIC ? CLI_EXIT_FAIL : cli_exit_code(st);
        goto done;
    }
    aura_lnn_tensor outs[3] = {
        {"output", 3, {B, io->L, O, 0}, y},
        {"hn", 2, {B, H, 0, 0}, h},
        {"cn", 2, {B, H, 0, 0}, c},
    };
    st = aura_lnn_tensors_save(out_path, outs, in->has_cell_state ? 3 : 2, NULL);
    if (st != AURA_OK) {
        cli_errorf("lnn", "%s: cannot write: %s", out_path, aura_status_str(st));
        rc = CLI_EXIT_INPUT;
    }
done:
    free(h);
    free(c);
    free(y);
    return rc;
}

int cmd_lnn_load_model(const char *path, aura_lnn_model **m)
{
    char err[512] = "";
    aura_status st = aura_lnn_model_load(NULL, path, m, err, sizeof err);
    if (st != AURA_OK) {
        cli_errorf("lnn", "%s (%s)", err, aura_status_name(st));
        return st == AURA_E_NUMERIC ? CLI_EXIT_INPUT : cli_exit_code(st);
    }
    return CLI_EXIT_OK;
}

int cmd_lnn_parse_model_io(int argc, char **argv, const char *verb, const char **model,
                           const char **in_path, const char **out_path)
{
    *model = *in_path = *out_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cmd_lnn_usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--input") == 0 && i + 1 < argc) {
            *in_path = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            *out_path = argv[++i];
        } else if (argv[i][0] == '-' || *model) {
            cli_errorf("lnn", "unexpected argument '%s' (see aura lnn --help)", argv[i]);
            return CLI_EXIT_USAGE;
        } else {
            *model = argv[i];
        }
    }
    if (!*model || !*in_path || !*out_path) {
        cli_errorf("lnn", "%s needs MODEL, --input IN and --out OUT (see aura lnn --help)", verb);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static int cmd_run(int argc, char **argv)
{
    const char *model, *in_path, *out_path;
    int prc = cmd_lnn_parse_model_io(argc, argv, "run", &model, &in_path, &out_path);
    if (prc >= 0) {
        return prc;
    }
    aura_lnn_model *m = NULL;
    int rc = cmd_lnn_load_model(model, &m);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    aura_lnn_tensors *t = NULL;
    char err[512] = "";
    aura_status st = aura_lnn_tensors_load(NULL, in_path, &t, err, sizeof err);
    if (st != AURA_OK) {
        cli_errorf("lnn", "%s", err);
        aura_lnn_model_destroy(m);
        return cli_exit_code(st);
    }
    aura_lnn_info info;
    aura_lnn_model_get_info(m, &info);
    run_io io;
    rc = cmd_lnn_read_inputs(in_path, t, &info, &io);
    if (rc == CLI_EXIT_OK) {
        rc = run_and_write(m, &info, &io, out_path);
    }
    aura_lnn_tensors_destroy(t);
    aura_lnn_model_destroy(m);
    return rc;
}

static int cmd_info(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        cmd_lnn_usage(argc == 2 ? stdout : stderr);
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    aura_lnn_model *m = NULL;
    int rc = cmd_lnn_load_model(argv[1], &m);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    aura_lnn_info in;
    aura_lnn_model_get_info(m, &in);
    const aura_lnn_config *c = aura_lnn_model_config(m);
    printf("model %s, input %d, state %d, output %d, mixed memory %s, %zu parameters\n",
           c->kind == AURA_LNN_LTC ? "LTC" : (c->wired ? "wired CfC" : "CfC"), in.input_size,
           in.state_size, in.output_size, in.has_cell_state ? "yes" : "no", in.n_params);
    for (size_t i = 0; i < aura_lnn_model_param_count(m); i++) {
        size_t n = 0;
        const char *name = aura_lnn_model_param_name(m, i);
        aura_lnn_model_param(m, name, &n);
        printf("  %-40s %zu\n", name, n);
    }
    aura_lnn_model_destroy(m);
    return CLI_EXIT_OK;
}

int cmd_lnn(int argc, char **argv)
{
    if (argc < 2) {
        cmd_lnn_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        cmd_lnn_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "run") == 0) {
        return cmd_run(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "grad") == 0) {
        return cmd_lnn_grad(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "train") == 0) {
        return cmd_lnn_train(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "init") == 0) {
        return cmd_lnn_init(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "bench") == 0) {
        return cmd_lnn_bench(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "info") == 0) {
        return cmd_info(argc - 1, argv + 1);
    }
    cli_errorf("lnn", "unknown subcommand '%s' (run, grad, train, init, info, bench)", argv[1]);
    return CLI_EXIT_USAGE;
}
