/* cmd_tda_extras.h -- the parts of `aura tda` beyond Ripser's options:
 * --collapse, --format edge-list, --graph-distance (cmd_tda_extras.c).
 * SPDX-License-Identifier: MIT */
#ifndef AURA_CMD_TDA_EXTRAS_H
#define AURA_CMD_TDA_EXTRAS_H

#include "aura/tda.h"

typedef struct cmd_tda_extras {
    int collapse;       /* --collapse */
    int edge_list;      /* --format edge-list */
    int graph_distance; /* --graph-distance */
} cmd_tda_extras;

/* Reads `path` (NULL: stdin) and prints the barcode; returns the exit code. */
int cmd_tda_extras_run(const char *path, const aura_tda_opts *opts, aura_tda_format fmt,
                       const cmd_tda_extras *x);

/* Prints a result's intervals in Ripser's format (cmd_tda.c); 0 on an
 * allocation failure. */
int cli_tda_print_barcode(const aura_tda_result *r);

/* Prints the --cocycles section (cmd_tda.c, format in docs/tda.md): a
 * "representative cocycles:" line, then one "cocycle" line per interval of
 * dimension >= 1.  0 on an allocation failure. */
int cli_tda_print_cocycles(const aura_tda_result *r);

#endif /* AURA_CMD_TDA_EXTRAS_H */
