/* cmd_tda_extras.c -- `aura tda --collapse`, `--format edge-list` and
 * `--graph-distance`: same output as the rest of `aura tda` (the
 * "persistence intervals in dim k:" sections), after a header saying what
 * was read and, with --collapse, how many edges the collapse kept.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/tda_extras.h"
#include "cli.h"
#include "cmd_tda_extras.h"

static const char *const CMD = "tda";

/* Whole file (or stdin) into a malloc'd buffer. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = path ? fopen(path, "rb") : stdin;
    if (!f) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
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

static int compute_status_exit(aura_status st, const char *name, const aura_tda_opts *o)
{
    if (st == AURA_E_RANGE) {
        cli_errorf(CMD, "--dim %d: at most 60 dimensions are supported", o->max_dim);
        return CLI_EXIT_USAGE;
    }
    if (st == AURA_E_OVERFLOW) {
        cli_errorf(CMD, "%s: up to dimension %d: simplex indices overflow 64 bits", name,
                   o->max_dim);
        return CLI_EXIT_INPUT;
    }
    cli_errorf(CMD, "%s: %s", name, aura_status_str(st));
    return CLI_EXIT_FAIL;
}

/* Computes from the read buffer; prints the header into hdr. */
static aura_status compute(const char *buf, size_t len, const char *name,
                           const aura_tda_opts *opts, aura_tda_format fmt,
                           const cmd_tda_extras *x, aura_tda_result **res, char *hdr,
                           size_t hdr_len, char *err, size_t err_len, int *input_error)
{
    aura_status st;
    *input_error = 0;
    if (x->edge_list) {
        aura_tda_graph *g = NULL;
        st = aura_tda_graph_read(buf, len, name, NULL, &g, err, err_len);
        if (st != AURA_OK) {
            *input_error = 1;
            return st;
        }
        size_t m = 0;
        const aura_tda_edge *e = aura_tda_graph_edges(g, &m);
        size_t n = aura_tda_graph_n_vertices(g);
        int k = snprintf(hdr, hdr_len, "graph with %zu vertices and %zu edges%s\n", n, m,
                         x->graph_distance ? ", shortest-path distances" : "");
        size_t kept = 0, total = 0;
        if (x->collapse && !x->graph_distance) {
            /* The flag complex of the graph: collapse here to report counts. */
            aura_tda_edge *ke = malloc((m ? m : 1) * sizeof(*ke));
            st = ke ? aura_tda_collapse_edges(NULL, n, e, m, opts->threshold, ke, &kept)
                    : AURA_E_NOMEM;
            for (size_t q = 0; q < m; q++) {
                total += e[q].d <= opts->threshold;
            }
            if (st == AURA_OK) {
                st = aura_tda_compute_sparse(opts, n, ke, kept, res);
            }
            free(ke);
        } else {
            st = aura_tda_compute_graph(opts, n, e, m,
                                        x->graph_distance ? AURA_TDA_GRAPH_DISTANCE
                                                          : AURA_TDA_GRAPH_FLAG,
                                        x->collapse, res);
        }
        aura_tda_graph_destroy(g);
        if (x->collapse && st == AURA_OK && k >= 0 && (size_t)k < hdr_len) {
            if (x->graph_distance) {
                snprintf(hdr + k, hdr_len - (size_t)k, "edge collapse: on\n");
            } else {
                snprintf(hdr + k, hdr_len - (size_t)k, "edge collapse: %zu of %zu edges kept\n",
                         kept, total);
            }
        }
        return st;
    }
    aura_tda_input *in = NULL;
    st = aura_tda_input_read(fmt, buf, len, name, NULL, &in, err, err_len);
    if (st != AURA_OK) {
        *input_error = 1;
        return st;
    }
    aura_tda_input_shape sh = aura_tda_input_get_shape(in);
    size_t kept = 0, total = 0;
    st = aura_tda_input_compute_collapsed(opts, in, res, &kept, &total);
    aura_tda_input_destroy(in);
    int k = 0;
    if (sh.kind == 0) {
        k = snprintf(hdr, hdr_len, "point cloud with %zu points in dimension %zu\n", sh.n,
                     sh.dim);
    } else if (sh.kind == 1) {
        k = snprintf(hdr, hdr_len, "distance matrix with %zu points\n", sh.n);
    } else {
        k = snprintf(hdr, hdr_len, "sparse distance matrix with %zu points and %zu entries\n",
                     sh.n, sh.n_entries);
    }
    if (k >= 0 && (size_t)k < hdr_len) {
        snprintf(hdr + k, hdr_len - (size_t)k, "edge collapse: %zu of %zu edges kept\n", kept,
                 total);
    }
    return st;
}

int cmd_tda_extras_run(const char *path, const aura_tda_opts *opts, aura_tda_format fmt,
                       const cmd_tda_extras *x)
{
    if (x->graph_distance && !x->edge_list) {
        fprintf(stderr, "aura: %s: --graph-distance needs --format edge-list (see 'aura tda "
                        "--help')\n", CMD);
        return CLI_EXIT_USAGE;
    }
    const char *name = path ? path : "<stdin>";
    size_t len = 0;
    char *buf = read_all(path, &len);
    if (!buf) {
        cli_errorf(CMD, "%s: cannot read: %s", name, strerror(errno ? errno : EIO));
        return CLI_EXIT_INPUT;
    }
    char err[512] = "", hdr[256] = "";
    int input_error = 0;
    aura_tda_result *res = NULL;
    aura_status st = compute(buf, len, name, opts, fmt, x, &res, hdr, sizeof hdr, err,
                             sizeof err, &input_error);
    free(buf);
    if (st != AURA_OK && input_error) {
        cli_errorf(CMD, "%s", err[0] ? err : aura_status_str(st));
        return st == AURA_E_NOMEM ? CLI_EXIT_FAIL : CLI_EXIT_INPUT;
    }
    if (st != AURA_OK) {
        return compute_status_exit(st, name, opts);
    }
    fputs(hdr, stdout);
    int ok = cli_tda_print_barcode(res);
    ok = ok && (!opts->cocycles || cli_tda_print_cocycles(res));
    aura_tda_result_destroy(res);
    if (fflush(stdout) != 0 || !ok) {
        cli_errorf(CMD, "cannot write the barcode");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
