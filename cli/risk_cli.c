/* risk_cli.c -- `--model rules|aura|FILE` for the monitor commands.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "cli.h"
#include "risk_cli.h"

int cli_risk_model_open(const char *cmd, const char *spec, aura_monitor_risk_cfc **out)
{
    *out = NULL;
    if (!spec || strcmp(spec, "rules") == 0) {
        return CLI_EXIT_OK;
    }
    const char *path = strcmp(spec, "aura") == 0 ? CLI_RISK_DEFAULT_MODEL : spec;
    char err[512] = "";
    aura_status st = aura_monitor_risk_cfc_load(NULL, path, out, err, sizeof err);
    if (st != AURA_OK) {
        cli_errorf(cmd, "--model %s: %s", spec, err[0] ? err : aura_status_str(st));
        return st == AURA_E_INVAL ? CLI_EXIT_USAGE : CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}
