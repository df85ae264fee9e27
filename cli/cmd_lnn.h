/* cmd_lnn.h -- helpers shared by cmd_lnn.c and cmd_lnn_train.c.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_CMD_LNN_H
#define AURA_CMD_LNN_H

#include <stdio.h>

#include "aura/lnn.h"

typedef struct cmd_lnn_io {
    const float *x, *ts, *h0, *c0;
    size_t B, L;
} cmd_lnn_io;

void cmd_lnn_usage(FILE *f);
int cmd_lnn_load_model(const char *path, aura_lnn_model **m);
/* Parses "MODEL --input IN --out OUT" for `aura lnn <verb>`; returns -1 to
 * go on, else the exit code (help printed, or a usage error). */
int cmd_lnn_parse_model_io(int argc, char **argv, const char *verb, const char **model,
                           const char **in_path, const char **out_path);
int cmd_lnn_read_inputs(const char *path, const aura_lnn_tensors *t, const aura_lnn_info *in,
                        cmd_lnn_io *io);
int cmd_lnn_grad(int argc, char **argv);
int cmd_lnn_train(int argc, char **argv);
int cmd_lnn_bench(int argc, char **argv);
int cmd_lnn_init(int argc, char **argv);

#endif /* AURA_CMD_LNN_H */
