/* main.c -- the `aura` program: dispatches to the subcommands listed in
 * commands.def.  Each subcommand is a thin front door over library calls.
 * SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
#define CLI_COMMAND(name, fn, summary) {name, fn, summary},
#include "commands.def"
#undef CLI_COMMAND
};

static const size_t n_commands = sizeof commands / sizeof commands[0];

void cli_errorf(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "aura: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_exit_code(aura_status st)
{
    switch (st) {
    case AURA_OK:
        return CLI_EXIT_OK;
    case AURA_E_INVAL:
    case AURA_E_RANGE:
        return CLI_EXIT_USAGE;
    case AURA_E_IO:
    case AURA_E_FORMAT:
    case AURA_E_CORRUPT:
        return CLI_EXIT_INPUT;
    default:
        return CLI_EXIT_FAIL;
    }
}

const char *cli_take_value(const char *cmd, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        cli_errorf(cmd, "unknown option or missing value: %s", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        return 0;
    }
    *out = v;
    return 1;
}

int cli_stderr_is_tty(void)
{
    return isatty(2);
}

int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("aura %s\n", AURA_VERSION_STRING);
    return CLI_EXIT_OK;
}

static void usage(FILE *f)
{
    fprintf(f, "AURA: topological context intelligence for multi-agent systems.\n\n"
               "usage: aura <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < n_commands; i++) {
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(f, "\nRun 'aura <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        return cmd_version(argc - 1, argv + 1);
    }
    for (size_t i = 0; i < n_commands; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "aura: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
