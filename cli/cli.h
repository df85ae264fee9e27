/* cli.h -- shared plumbing of the `aura` command-line program.
 *
 * Each subcommand is a function `int cmd_<name>(int argc, char **argv)`
 * (argv[0] is the subcommand's name) listed once in commands.def.
 * Exit codes (STYLE.md): 0 success, 1 the analysis failed, 2 usage error,
 * 3 I/O or input-format error.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_CLI_H
#define AURA_CLI_H

#include "aura/aura.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_INPUT = 3
};

#define CLI_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef CLI_COMMAND

/* "aura: <cmd>: <msg>" on stderr, printf-style. */
void cli_errorf(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The exit code for a library status: usage errors 2, I/O and format
 * errors 3, the rest 1. */
int cli_exit_code(aura_status st);

/* Option loops.  cli_take_value: argv[*i] is an option that takes a
 * value; returns argv[*i + 1] and advances *i, or NULL after "unknown
 * option or missing value" on stderr (the caller prints its usage and
 * returns CLI_EXIT_USAGE).  cli_parse_num: 1 and *out = the number if s is
 * a whole decimal number in [lo, hi], else 0 (*out untouched). */
const char *cli_take_value(const char *cmd, int argc, char **argv, int *i);
int cli_parse_num(const char *s, double lo, double hi, double *out);

/* 1 if stderr is a terminal (progress bars are drawn only then). */
int cli_stderr_is_tty(void);

#endif /* AURA_CLI_H */
