/* risk_cli.h -- choosing the monitor's risk model on the command line
 * (`--model rules|aura|FILE`), shared by `aura monitor` and `aura demo`.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_CLI_RISK_H
#define AURA_CLI_RISK_H

#include "aura/monitor_risk.h"

/* The shipped model, relative to the working directory (the repository). */
#define CLI_RISK_DEFAULT_MODEL "models/risk_cfc.safetensors"

/* "rules" -> *out = NULL; "aura" -> CLI_RISK_DEFAULT_MODEL; anything else is
 * a model file.  On error prints "aura: CMD: FILE: why" and returns the exit
 * code (3 for an unreadable or bad file); 0 on success. */
int cli_risk_model_open(const char *cmd, const char *spec, aura_monitor_risk_cfc **out);

#endif /* AURA_CLI_RISK_H */
