/* cmd_tda_diagram.c -- `aura tda-distance` and `aura tda-features`: diagram
 * distances and vectorisations of barcodes in Ripser's output format.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/tda_diagram.h"
#include "cli.h"

#define MAX_INPUT (1u << 30)

/* Reads a whole file ("-" = stdin) into a malloc'd buffer. */
static char *slurp(const char *cmd, const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        cli_errorf(cmd, "%s: cannot open", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *nb = cap < MAX_INPUT ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                cli_errorf(cmd, "%s: too large or out of memory", path);
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                cli_errorf(cmd, "%s: read error", path);
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (f != stdin) {
        fclose(f);
    }
    *len = n;
    return buf;
}

static aura_tda_barcode *load(const char *cmd, const char *path)
{
    size_t len;
    char *text = slurp(cmd, path, &len);
    if (!text) {
        return NULL;
    }
    aura_tda_barcode *b = NULL;
    char err[256];
    aura_status st = aura_tda_barcode_parse(text, len, NULL, &b, err, sizeof err);
    free(text);
    if (st != AURA_OK) {
        cli_errorf(cmd, "%s: %s", path, st == AURA_E_FORMAT ? err : aura_status_str(st));
        return NULL;
    }
    return b;
}

static int parse_double(const char *cmd, const char *opt, const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    if (*end || end == s || !isfinite(*v)) {
        cli_errorf(cmd, "%s: expected a number, got '%s'", opt, s);
        return 0;
    }
    return 1;
}

static int parse_count(const char *cmd, const char *opt, const char *s, long lo, long hi, long *v)
{
    char *end;
    *v = strtol(s, &end, 10);
    if (*end || end == s || *v < lo || *v > hi) {
        cli_errorf(cmd, "%s: expected an integer in [%ld, %ld], got '%s'", opt, lo, hi, s);
        return 0;
    }
    return 1;
}

static void distance_usage(FILE *f)
{
    fprintf(f, "usage: aura tda-distance [--dim K] [--metric bottleneck|wasserstein] [--order P] A B\n"
               "\n"
               "Distance between the dimension-K diagrams of two barcodes in Ripser's output\n"
               "format (files, or - for standard input).  Exact; L-infinity ground metric;\n"
               "essential classes matched by birth (different counts give inf).\n"
               "  --dim K       homology dimension (default 0)\n"
               "  --metric M    bottleneck (default) or wasserstein\n"
               "  --order P     order of the Wasserstein distance, >= 1 (default 1)\n");
}

int cmd_tda_distance(int argc, char **argv)
{
    const char *cmd = "tda-distance", *paths[2] = {NULL, NULL};
    aura_tda_distance_opts o = aura_tda_distance_opts_default();
    long dim = 0;
    int n_paths = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            distance_usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--dim") == 0 && i + 1 < argc) {
            if (!parse_count(cmd, a, argv[++i], 0, 63, &dim)) {
                return CLI_EXIT_USAGE;
            }
        } else if (strcmp(a, "--metric") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            if (strcmp(m, "bottleneck") == 0) {
                o.metric = AURA_TDA_BOTTLENECK;
            } else if (strcmp(m, "wasserstein") == 0) {
                o.metric = AURA_TDA_WASSERSTEIN;
            } else {
                cli_errorf(cmd, "--metric: expected bottleneck or wasserstein, got '%s'", m);
                return CLI_EXIT_USAGE;
            }
        } else if (strcmp(a, "--order") == 0 && i + 1 < argc) {
            if (!parse_double(cmd, a, argv[++i], &o.order) || o.order < 1) {
                cli_errorf(cmd, "--order must be a number >= 1");
                return CLI_EXIT_USAGE;
            }
        } else if (strcmp(a, "--approx") == 0 && i + 1 < argc) {
            if (!parse_double(cmd, a, argv[++i], &o.approx)) {
                return CLI_EXIT_USAGE;
            }
            if (!(o.approx > 0)) {
                cli_errorf(cmd, "--approx must be > 0, got '%s'", argv[i]);
                return CLI_EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1]) {
            cli_errorf(cmd, "unknown option '%s' (see --help)", a);
            return CLI_EXIT_USAGE;
        } else if (n_paths < 2) {
            paths[n_paths++] = a;
        } else {
            cli_errorf(cmd, "expected two input files");
            return CLI_EXIT_USAGE;
        }
    }
    if (n_paths != 2) {
        distance_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    aura_tda_barcode *a = load(cmd, paths[0]);
    aura_tda_barcode *b = a ? load(cmd, paths[1]) : NULL;
    if (!b) {
        aura_tda_barcode_destroy(a);
        return CLI_EXIT_INPUT;
    }
    size_t na, nb;
    const aura_tda_interval *da = aura_tda_barcode_intervals(a, (int)dim, &na);
    const aura_tda_interval *db = aura_tda_barcode_intervals(b, (int)dim, &nb);
    double d = 0;
    aura_status st = aura_tda_diagram_distance(&o, da, na, db, nb, &d);
    if (st == AURA_OK) {
        printf("%.17g\n", d);
    } else {
        cli_errorf(cmd, "%s", aura_status_str(st));
    }
    aura_tda_barcode_destroy(a);
    aura_tda_barcode_destroy(b);
    return cli_exit_code(st);
}

/* ---- tda-features ---- */

typedef struct features_opts {
    long samples, layers;
    int have_range;
    double t_min, t_max;
    aura_tda_image_opts image;
} features_opts;

static void features_usage(FILE *f)
{
    fprintf(f, "usage: aura tda-features [options] [FILE]\n"
               "\n"
               "Vectorises the diagrams of a barcode in Ripser's output format (FILE or\n"
               "standard input) and writes one JSON object: per dimension the summary\n"
               "statistics and persistence entropy, the Betti curve, persistence landscapes\n"
               "and a persistence image.  Definitions: docs/tda_diagram.md.\n"
               "  --samples N       samples of the curves (default 50)\n"
               "  --layers L        landscape layers (default 3)\n"
               "  --range T0 T1     curve range (default: smallest birth to largest finite death)\n"
               "  --image-res R     persistence image R x R (default 20)\n"
               "  --sigma S         persistence image Gaussian bandwidth (default 1)\n");
}

static void print_array(const double *v, size_t n)
{
    putchar('[');
    for (size_t i = 0; i < n; i++) {
        printf(i ? ",%.17g" : "%.17g", v[i]);
    }
    putchar(']');
}

static void curve_range(const aura_tda_interval *d, size_t n, const features_opts *fo,
                        double *t0, double *t1)
{
    if (fo->have_range) {
        *t0 = fo->t_min;
        *t1 = fo->t_max;
        return;
    }
    *t0 = INFINITY;
    *t1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        *t0 = fmin(*t0, d[i].birth);
        *t1 = fmax(*t1, isinf(d[i].death) ? d[i].birth : d[i].death);
    }
    if (n == 0) {
        *t0 = *t1 = 0;
    }
}

static aura_status print_dim(int dim, const aura_tda_interval *d, size_t n,
                             const features_opts *fo, double *work)
{
    aura_tda_summary s;
    aura_status st = aura_tda_diagram_summary(d, n, &s);
    if (st != AURA_OK) {
        return st;
    }
    double t0, t1;
    curve_range(d, n, fo, &t0, &t1);
    size_t ns = (size_t)fo->samples, nl = (size_t)fo->layers;
    printf("{\"dim\":%d,\"summary\":{\"count\":%zu,\"essential\":%zu,\"total_persistence\":%.17g,"
           "\"max_persistence\":%.17g,\"mean_persistence\":%.17g,\"std_persistence\":%.17g,"
           "\"entropy\":%.17g,\"mean_birth\":%.17g,\"mean_death\":%.17g},",
           dim, s.count, s.essential, s.total_persistence, s.max_persistence,
           s.mean_persistence, s.std_persistence, s.entropy, s.mean_birth, s.mean_death);
    printf("\"range\":[%.17g,%.17g],\"betti_curve\":", t0, t1);
    st = aura_tda_betti_curve(d, n, t0, t1, ns, work);
    if (st != AURA_OK) {
        return st;
    }
    print_array(work, ns);
    printf(",\"landscapes\":[");
    st = aura_tda_landscape(d, n, nl, t0, t1, ns, work);
    for (size_t j = 0; st == AURA_OK && j < nl; j++) {
        if (j) {
            putchar(',');
        }
        print_array(work + j * ns, ns);
    }
    if (st != AURA_OK) {
        return st;
    }
    printf("],\"image\":{\"res\":[%zu,%zu],\"sigma\":%.17g,\"values\":", fo->image.res_birth,
           fo->image.res_pers, fo->image.sigma);
    st = aura_tda_persistence_image(d, n, &fo->image, work);
    if (st == AURA_OK) {
        print_array(work, fo->image.res_birth * fo->image.res_pers);
        printf("}}");
    }
    return st;
}

static int parse_features_args(int argc, char **argv, features_opts *fo, const char **path)
{
    const char *cmd = "tda-features";
    long res = 20;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int ok = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            features_usage(stdout);
            return -1;
        } else if (strcmp(a, "--samples") == 0 && i + 1 < argc) {
            ok = parse_count(cmd, a, argv[++i], 1, 100000, &fo->samples);
        } else if (strcmp(a, "--layers") == 0 && i + 1 < argc) {
            ok = parse_count(cmd, a, argv[++i], 1, 4096, &fo->layers);
        } else if (strcmp(a, "--image-res") == 0 && i + 1 < argc) {
            ok = parse_count(cmd, a, argv[++i], 1, 1000, &res);
        } else if (strcmp(a, "--sigma") == 0 && i + 1 < argc) {
            ok = parse_double(cmd, a, argv[++i], &fo->image.sigma) && fo->image.sigma > 0;
        } else if (strcmp(a, "--range") == 0 && i + 2 < argc) {
            ok = parse_double(cmd, a, argv[i + 1], &fo->t_min) &&
                 parse_double(cmd, a, argv[i + 2], &fo->t_max) && fo->t_min <= fo->t_max;
            fo->have_range = 1;
            i += 2;
        } else if (a[0] == '-' && a[1]) {
            cli_errorf(cmd, "unknown option '%s' (see --help)", a);
            return CLI_EXIT_USAGE;
        } else if (*path) {
            cli_errorf(cmd, "more than one input file");
            return CLI_EXIT_USAGE;
        } else {
            *path = a;
        }
        if (!ok) {
            cli_errorf(cmd, "bad value for %s", a);
            return CLI_EXIT_USAGE;
        }
    }
    fo->image.res_birth = fo->image.res_pers = (size_t)res;
    return CLI_EXIT_OK;
}

int cmd_tda_features(int argc, char **argv)
{
    features_opts fo = {50, 3, 0, 0, 0, aura_tda_image_opts_default()};
    const char *path = NULL;
    int rc = parse_features_args(argc, argv, &fo, &path);
    if (rc != CLI_EXIT_OK) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    aura_tda_barcode *b = load("tda-features", path ? path : "-");
    if (!b) {
        return CLI_EXIT_INPUT;
    }
    size_t need = (size_t)(fo.samples * fo.layers);
    size_t img = fo.image.res_birth * fo.image.res_pers;
    double *work = malloc((need > img ? need : img) * sizeof *work);
    aura_status st = work ? AURA_OK : AURA_E_NOMEM;
    printf("{\"dims\":[");
    for (int k = 0; st == AURA_OK && k <= aura_tda_barcode_max_dim(b); k++) {
        size_t n;
        const aura_tda_interval *d = aura_tda_barcode_intervals(b, k, &n);
        if (k) {
            putchar(',');
        }
        st = print_dim(k, d, n, &fo, work);
    }
    printf("]}\n");
    if (st != AURA_OK) {
        cli_errorf("tda-features", "%s", aura_status_str(st));
    }
    free(work);
    aura_tda_barcode_destroy(b);
    return cli_exit_code(st);
}
