/* cmd_tda.c -- `aura tda`: Vietoris-Rips persistence barcodes, a drop-in
 * replacement for Ripser's command line (same options, same output).
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/tda.h"
#include "cli.h"
#include "cmd_tda_extras.h"

static const char *const CMD = "tda";

static void help(FILE *f)
{
    fprintf(f,
            "Usage: aura tda [options] [filename]\n"
            "\n"
            "Vietoris-Rips persistence barcodes (Ripser-compatible input and output).\n"
            "Reads the file, or standard input without one.\n"
            "\n"
            "Options:\n"
            "\n"
            "  --help           print this screen\n"
            "  --format         use the specified file format for the input. Options are:\n"
            "                     lower-distance (lower triangular distance matrix)\n"
            "                     upper-distance (upper triangular distance matrix)\n"
            "         (default:)  distance       (distance matrix; only lower triangular part "
            "is read)\n"
            "                     point-cloud    (point cloud in Euclidean space)\n"
            "                     dipha          (distance matrix in DIPHA file format)\n"
            "                     sparse         (sparse distance matrix in sparse triplet "
            "format)\n"
            "                     binary         (lower triangular distance matrix in binary "
            "format)\n"
            "                     edge-list      (graph: 'i j [weight]' lines, flag complex "
            "filtered by weight)\n"
            "  --graph-distance with edge-list: Rips filtration of the shortest-path metric\n"
            "  --collapse       remove dominated edges first (edge collapse; same barcode)\n"
            "  --dim <k>        compute persistent homology up to dimension k\n"
            "  --threshold <t>  compute Rips complexes up to diameter t\n"
            "  --modulus <p>    compute homology with coefficients in the prime field Z/pZ\n"
            "                   (p prime, 2 <= p <= %u; default 2)\n"
            "  --ratio <r>      only show persistence pairs with death/birth ratio > r\n"
            "  --cocycles       after the intervals, print a representative cocycle of each\n"
            "                   interval of dim >= 1: a line 'cocycle DIM [BIRTH,DEATH): '\n"
            "                   then 'v0,..,vDIM:COEF' terms (vertices from 0, COEF in\n"
            "                   1..p-1; see docs/tda.md); not with --collapse\n"
            "  --threads <n>    threads for the computation, 1..%u (default: all online\n"
            "                   processors); the output is the same for any n\n"
            "\n"
            "Exit status: 0 ok, 1 computation failed, 2 usage error, 3 bad input.\n",
            AURA_TDA_MAX_MODULUS, AURA_TDA_MAX_THREADS);
}

static int parse_format(const char *s, aura_tda_format *f)
{
    if (strncmp(s, "lower", 5) == 0) {
        *f = AURA_TDA_FMT_LOWER;
    } else if (strncmp(s, "upper", 5) == 0) {
        *f = AURA_TDA_FMT_UPPER;
    } else if (strncmp(s, "dist", 4) == 0) {
        *f = AURA_TDA_FMT_DISTANCE;
    } else if (strncmp(s, "point", 5) == 0) {
        *f = AURA_TDA_FMT_POINT_CLOUD;
    } else if (strcmp(s, "dipha") == 0) {
        *f = AURA_TDA_FMT_DIPHA;
    } else if (strcmp(s, "sparse") == 0) {
        *f = AURA_TDA_FMT_SPARSE;
    } else if (strcmp(s, "binary") == 0) {
        *f = AURA_TDA_FMT_BINARY;
    } else {
        return 0;
    }
    return 1;
}

static int parse_float_arg(const char *s, float *out)
{
    char *end = NULL;
    errno = 0;
    float x = strtof(s, &end);
    if (end == s || *end != '\0' || isnan(x)) {
        return 0;
    }
    *out = x;
    return 1;
}

static int parse_ulong_arg(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    if (*s < '0' || *s > '9') {
        return 0;
    }
    errno = 0;
    unsigned long x = strtoul(s, &end, 10);
    if (*end != '\0' || errno == ERANGE || x > max) {
        return 0;
    }
    *out = x;
    return 1;
}

/* Whole file (or stdin) into a malloc'd buffer. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = path ? fopen(path, "rb") : stdin;
    if (!f) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (n < cap) {
            if (ferror(f)) {
                free(buf);
                buf = NULL;
            }
            break;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
        }
        buf = nb;
        cap *= 2;
    }
    if (path) {
        fclose(f);
    }
    *len = n;
    return buf;
}

static void print_value(float x)
{
    printf("%g", (double)x);
}

static void print_header(const aura_tda_input_shape *sh, const aura_tda_info *info)
{
    unsigned long long total = (unsigned long long)sh->n * (sh->n ? sh->n - 1 : 0) / 2;
    if (sh->kind == 0) {
        printf("point cloud with %zu points in dimension %zu\n", sh->n, sh->dim);
        if (!info->dense) {
            return;
        }
    }
    if (sh->kind == 2) {
        printf("sparse distance matrix with %zu points and %zu/%llu entries\n", sh->n,
               sh->n_entries, total);
        return;
    }
    printf("value range: [");
    print_value(info->min_value);
    printf(",");
    print_value(info->max_value);
    printf("]\n");
    if (info->dense) {
        printf("distance matrix with %zu points, using threshold at enclosing radius ", sh->n);
        print_value(info->enclosing_radius);
        printf("\n");
    } else {
        printf("sparse distance matrix with %zu points and %llu/%llu entries\n", sh->n,
               (unsigned long long)info->n_edges, total);
    }
}

int cli_tda_print_barcode(const aura_tda_result *r)
{
    int dmax = aura_tda_result_max_dim(r);
    for (int d = 0; d <= dmax; d++) {
        size_t n = aura_tda_result_count(r, d), got = 0;
        aura_tda_pair *p = malloc((n ? n : 1) * sizeof(*p));
        if (!p || aura_tda_result_pairs(r, d, p, n, &got) != AURA_OK) {
            free(p);
            return 0;
        }
        printf("persistence intervals in dim %d:\n", d);
        for (size_t i = 0; i < got; i++) {
            printf(" [");
            print_value(p[i].birth);
            if (isinf(p[i].death)) {
                printf(", )\n");
            } else {
                printf(",");
                print_value(p[i].death);
                printf(")\n");
            }
        }
        free(p);
    }
    return 1;
}

/* One interval's bounds as in the barcode: "[b,d)" or "[b, )". */
static void print_interval(aura_tda_pair p)
{
    printf("[");
    print_value(p.birth);
    if (isinf(p.death)) {
        printf(", )");
    } else {
        printf(",");
        print_value(p.death);
        printf(")");
    }
}

/* One "cocycle" line for pair i of dimension d; 0 on an allocation or
 * API failure. */
static int print_cocycle(const aura_tda_result *r, int d, size_t i, aura_tda_pair p)
{
    size_t n = 0;
    if (aura_tda_result_cocycle(r, d, i, NULL, NULL, 0, &n) != AURA_OK) {
        return 0;
    }
    int64_t *v = malloc((n ? n : 1) * (size_t)(d + 1) * sizeof(*v));
    uint32_t *c = malloc((n ? n : 1) * sizeof(*c));
    int ok = v && c && aura_tda_result_cocycle(r, d, i, v, c, n, &n) == AURA_OK;
    if (ok) {
        printf("cocycle %d ", d);
        print_interval(p);
        printf(":");
        for (size_t t = 0; t < n; t++) {
            for (int k = 0; k <= d; k++) {
                printf("%c%lld", k ? ',' : ' ', (long long)v[t * (size_t)(d + 1) + (size_t)k]);
            }
            printf(":%u", c[t]);
        }
        printf("\n");
    }
    free(v);
    free(c);
    return ok;
}

int cli_tda_print_cocycles(const aura_tda_result *r)
{
    int dmax = aura_tda_result_max_dim(r);
    printf("representative cocycles:\n");
    for (int d = 1; d <= dmax; d++) {
        size_t n = aura_tda_result_count(r, d), got = 0;
        aura_tda_pair *p = malloc((n ? n : 1) * sizeof(*p));
        int ok = p && aura_tda_result_pairs(r, d, p, n, &got) == AURA_OK;
        for (size_t i = 0; ok && i < got; i++) {
            ok = print_cocycle(r, d, i, p[i]);
        }
        free(p);
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "aura: %s: ", CMD);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see 'aura tda --help')\n");
    return CLI_EXIT_USAGE;
}

/* Ripser's options into opts/fmt/path; returns -1 to go on, else an exit
 * code. */
static int parse_args(int argc, char **argv, aura_tda_opts *opts, aura_tda_format *fmt,
                      const char **path, cmd_tda_extras *extras)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int takes = !strcmp(arg, "--dim") || !strcmp(arg, "--threshold") ||
                    !strcmp(arg, "--ratio") || !strcmp(arg, "--format") ||
                    !strcmp(arg, "--modulus") || !strcmp(arg, "--threads");
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            help(stdout);
            return CLI_EXIT_OK;
        }
        if (takes && i + 1 >= argc) {
            return usage_error("option %s needs a value", arg);
        }
        const char *val = takes ? argv[++i] : NULL;
        unsigned long u = 0;
        if (!strcmp(arg, "--dim")) {
            if (!parse_ulong_arg(val, INT_MAX, &u)) {
                return usage_error("--dim: not a dimension >= 0: '%s'", val);
            }
            opts->max_dim = (int)u;
        } else if (!strcmp(arg, "--threshold")) {
            if (!parse_float_arg(val, &opts->threshold)) {
                return usage_error("--threshold: not a number: '%s'", val);
            }
        } else if (!strcmp(arg, "--ratio")) {
            if (!parse_float_arg(val, &opts->ratio)) {
                return usage_error("--ratio: not a number: '%s'", val);
            }
        } else if (!strcmp(arg, "--cocycles")) {
            opts->cocycles = 1;
        } else if (!strcmp(arg, "--collapse")) {
            extras->collapse = 1;
        } else if (!strcmp(arg, "--graph-distance")) {
            extras->graph_distance = 1;
        } else if (!strcmp(arg, "--format")) {
            extras->edge_list = !strcmp(val, "edge-list");
            if (!extras->edge_list && !parse_format(val, fmt)) {
                return usage_error("--format: unknown format '%s'", val);
            }
        } else if (!strcmp(arg, "--modulus")) {
            if (!parse_ulong_arg(val, ULONG_MAX, &u) || u > AURA_TDA_MAX_MODULUS ||
                !aura_tda_is_prime((uint32_t)u)) {
                return usage_error("--modulus: not a prime between 2 and 65521: '%s'", val);
            }
            opts->modulus = (uint32_t)u;
        } else if (!strcmp(arg, "--threads")) {
            if (!parse_ulong_arg(val, AURA_TDA_MAX_THREADS, &u) || u == 0) {
                return usage_error("--threads: not a number between 1 and 1024: '%s'", val);
            }
            opts->threads = (int)u;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return usage_error("unknown option '%s'", arg);
        } else if (*path) {
            return usage_error("more than one input file: '%s'", arg);
        } else {
            *path = arg;
        }
    }
    return -1;
}

int cmd_tda(int argc, char **argv)
{
    aura_tda_opts opts = aura_tda_opts_default();
    aura_tda_format fmt = AURA_TDA_FMT_DISTANCE;
    const char *path = NULL;
    cmd_tda_extras extras = {0, 0, 0};
    int rc = parse_args(argc, argv, &opts, &fmt, &path, &extras);
    if (rc >= 0) {
        return rc;
    }
    if (opts.cocycles && extras.collapse) {
        return usage_error("%s: the collapsed complex's cocycles are not the input's",
                           "--cocycles cannot be used with --collapse");
    }
    if (extras.collapse || extras.edge_list || extras.graph_distance) {
        return cmd_tda_extras_run(path, &opts, fmt, &extras);
    }
    const char *name = path ? path : "<stdin>";
    size_t len = 0;
    char *buf = slurp(path, &len);
    if (!buf) {
        cli_errorf(CMD, "%s: cannot read: %s", name, strerror(errno ? errno : EIO));
        return CLI_EXIT_INPUT;
    }
    char err[512];
    aura_tda_input *in = NULL;
    aura_status st = aura_tda_input_read(fmt, buf, len, name, NULL, &in, err, sizeof err);
    free(buf);
    if (st != AURA_OK) {
        cli_errorf(CMD, "%s", err[0] ? err : aura_status_str(st));
        return st == AURA_E_NOMEM ? CLI_EXIT_FAIL : CLI_EXIT_INPUT;
    }
    aura_tda_result *res = NULL;
    st = aura_tda_input_compute(&opts, in, &res);
    aura_tda_input_shape sh = aura_tda_input_get_shape(in);
    aura_tda_input_destroy(in);
    if (st == AURA_E_RANGE) {
        cli_errorf(CMD, "--dim %d: at most 60 dimensions are supported", opts.max_dim);
        return CLI_EXIT_USAGE;
    }
    if (st == AURA_E_OVERFLOW) {
        cli_errorf(CMD, "%s: %zu points up to dimension %d: simplex indices overflow 64 bits",
                   name, sh.n, opts.max_dim);
        return CLI_EXIT_INPUT;
    }
    if (st != AURA_OK) {
        cli_errorf(CMD, "%s: %s", name, aura_status_str(st));
        return CLI_EXIT_FAIL;
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    aura_tda_info info;
    aura_tda_result_info(res, &info);
    print_header(&sh, &info);
    int ok = cli_tda_print_barcode(res);
    ok = ok && (!opts.cocycles || cli_tda_print_cocycles(res));
    aura_tda_result_destroy(res);
    if (fflush(stdout) != 0 || !ok) {
        cli_errorf(CMD, "cannot write the barcode");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
