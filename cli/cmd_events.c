/* cmd_events.c -- `aura events`: check, normalise or count JSON-lines
 * event streams (the events module's reader and formatter).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aura/events.h"
#include "cli.h"

#define BATCH 4096

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aura events <cat|check> [--strict] [--max-line BYTES] [FILE]\n"
            "\n"
            "Reads agent events as JSON lines (FILE or standard input).\n"
            "  cat     write the events back as normalised JSON lines on stdout\n"
            "  check   only validate; print counts and the parse rate on stderr\n"
            "\n"
            "  --strict          stop at the first malformed line (exit 3);\n"
            "                    by default malformed lines are skipped with a warning\n"
            "  --max-line BYTES  longest accepted line (default 1048576)\n"
            "\n"
            "The schema is described in docs/events.md.\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct events_args {
    int cat;
    const char *path;
    aura_events_jsonl_opts opts;
} events_args;

static int parse_args(int argc, char **argv, events_args *a)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return -1;
    }
    if (strcmp(argv[1], "cat") != 0 && strcmp(argv[1], "check") != 0) {
        cli_errorf("events", "unknown action '%s' (cat or check)", argv[1]);
        return CLI_EXIT_USAGE;
    }
    a->cat = strcmp(argv[1], "cat") == 0;
    a->opts = aura_events_jsonl_opts_default();
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--strict") == 0) {
            a->opts.strict = 1;
        } else if (strcmp(argv[i], "--max-line") == 0 && i + 1 < argc) {
            char *end;
            long long v = strtoll(argv[++i], &end, 10);
            if (*end || v <= 0 || v > (1 << 30)) {
                cli_errorf("events", "--max-line: expected 1..1073741824, got '%s'", argv[i]);
                return CLI_EXIT_USAGE;
            }
            a->opts.max_line = (size_t)v;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_errorf("events", "unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (a->path) {
            cli_errorf("events", "more than one input file");
            return CLI_EXIT_USAGE;
        } else {
            a->path = argv[i];
        }
    }
    return CLI_EXIT_OK;
}

static aura_status write_batch(const aura_events_reader *r, const aura_events_interner *agents,
                               const aura_events_event *ev, size_t n)
{
    static char line[1 << 21];
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *meta = aura_events_reader_meta(r, ev[i].meta, NULL);
        aura_status st = aura_events_event_format(&ev[i], agents, meta, line, sizeof line, &len);
        if (st != AURA_OK) {
            return st;
        }
        fwrite(line, 1, len, stdout);
    }
    return AURA_OK;
}

int cmd_events(int argc, char **argv)
{
    events_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    FILE *f = a.path ? fopen(a.path, "rb") : stdin;
    const char *name = a.path ? a.path : "<stdin>";
    if (!f) {
        cli_errorf("events", "%s: cannot open", name);
        return CLI_EXIT_INPUT;
    }
    aura_events_interner *agents = NULL;
    aura_events_reader *r = NULL;
    aura_events_event *batch = malloc(BATCH * sizeof *batch);
    aura_status st = batch ? aura_events_interner_create(NULL, &agents) : AURA_E_NOMEM;
    if (st == AURA_OK) {
        st = aura_events_reader_create(&a.opts, agents, &r);
    }
    double t0 = now_s();
    while (st == AURA_OK) {
        size_t n = 0;
        st = aura_events_reader_read(r, f, batch, BATCH, &n);
        if (a.cat && n) {
            aura_status ws = write_batch(r, agents, batch, n);
            st = st == AURA_OK ? ws : st;
        }
        if (n == 0) {
            break;
        }
    }
    double dt = now_s() - t0;
    if (r) {
        aura_events_reader_stats s;
        aura_events_reader_get_stats(r, &s);
        if (st != AURA_OK) {
            cli_errorf("events", "%s: %s", name, aura_events_reader_errmsg(r));
        }
        if (!a.cat || s.skipped) {
            fprintf(stderr,
                    "%s: %llu lines, %llu events, %llu skipped, %u agents, %.3f s (%.2f M "
                    "events/s)\n",
                    name, (unsigned long long)s.lines, (unsigned long long)s.events,
                    (unsigned long long)s.skipped, aura_events_interner_count(agents), dt,
                    dt > 0 ? (double)s.events / dt / 1e6 : 0.0);
        }
    } else {
        cli_errorf("events", "%s", aura_status_str(st));
    }
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(agents);
    free(batch);
    if (f != stdin) {
        fclose(f);
    }
    return cli_exit_code(st);
}
