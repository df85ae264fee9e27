/* cmd_events.c -- `aura events`: check, normalise or count JSON-lines
 * event streams, and write them to the compressed raw event log.  Inputs
 * may be plain or zstd-compressed (a log written by `aura events log`).
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aura/events.h"
#include "aura/events_log.h"
#include "cli.h"

#define BATCH 4096

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aura events cat   [--strict] [--max-line BYTES] [FILE...]\n"
            "       aura events check [--strict] [--max-line BYTES] [FILE...]\n"
            "       aura events log --dir DIR [--max-bytes N] [--level L] [--strict] [FILE...]\n"
            "\n"
            "Reads agent events as JSON lines from the FILEs (plain or .zst; - or none =\n"
            "standard input), in order.\n"
            "  cat     write the events back as normalised JSON lines on stdout\n"
            "  check   only validate; print counts and the parse rate on stderr\n"
            "  log     append them to the raw event log in DIR: rotated, zstd-compressed\n"
            "          JSON-lines files (replay: aura events cat DIR/*.zst | aura monitor)\n"
            "\n"
            "  --strict          stop at the first malformed line (exit 3);\n"
            "                    by default malformed lines are skipped with a warning\n"
            "  --max-line BYTES  longest accepted line (default 1048576)\n"
            "  --max-bytes N     log: start a new file after N bytes of JSON (default 64 MiB)\n"
            "  --level L         log: zstd level 1..19 (default 3)\n"
            "\n"
            "The schema is described in docs/events.md.\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum action { ACT_CAT, ACT_CHECK, ACT_LOG };

typedef struct events_args {
    enum action act;
    char **paths;
    int n_paths;
    const char *dir;
    aura_events_jsonl_opts opts;
    aura_events_log_opts log;
} events_args;

static int parse_size(const char *opt, const char *s, long long lo, long long hi, long long *v)
{
    char *end;
    *v = strtoll(s, &end, 10);
    if (*end || end == s || *v < lo || *v > hi) {
        cli_errorf("events", "%s: expected %lld..%lld, got '%s'", opt, lo, hi, s);
        return 0;
    }
    return 1;
}

static int parse_option(int argc, char **argv, int *i, events_args *a)
{
    const char *o = argv[*i];
    long long v;
    if (strcmp(o, "--strict") == 0) {
        a->opts.strict = 1;
        return 1;
    }
    if (*i + 1 >= argc) {
        return 0;
    }
    if (strcmp(o, "--max-line") == 0 && parse_size(o, argv[++*i], 1, 1 << 30, &v)) {
        a->opts.max_line = (size_t)v;
    } else if (strcmp(o, "--max-bytes") == 0 && parse_size(o, argv[++*i], 4096, 1LL << 40, &v)) {
        a->log.max_bytes = (size_t)v;
    } else if (strcmp(o, "--level") == 0 && parse_size(o, argv[++*i], 1, 19, &v)) {
        a->log.level = (int)v;
    } else if (strcmp(o, "--dir") == 0) {
        a->dir = argv[++*i];
    } else {
        return 0;
    }
    return 1;
}

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
    static const char *names[] = {"cat", "check", "log"};
    int act = -1;
    for (int k = 0; k < 3; k++) {
        act = strcmp(argv[1], names[k]) == 0 ? k : act;
    }
    if (act < 0) {
        cli_errorf("events", "unknown action '%s' (cat, check or log)", argv[1]);
        return CLI_EXIT_USAGE;
    }
    a->act = (enum action)act;
    a->opts = aura_events_jsonl_opts_default();
    a->log = aura_events_log_opts_default();
    a->paths = calloc((size_t)argc, sizeof *a->paths);
    for (int i = 2; a->paths && i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            if (!parse_option(argc, argv, &i, a)) {
                cli_errorf("events", "bad option '%s' (see --help)", argv[i]);
                return CLI_EXIT_USAGE;
            }
        } else {
            a->paths[a->n_paths++] = argv[i];
        }
    }
    if (a->act == ACT_LOG && !a->dir) {
        cli_errorf("events", "log needs --dir DIR");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

typedef struct sink {
    enum action act;
    aura_events_interner *agents;
    aura_events_log *log;
} sink;

static aura_status emit(const sink *s, const aura_events_reader *r, const aura_events_event *ev,
                        size_t n)
{
    static char line[1 << 21];
    static const char *metas[BATCH];
    if (s->act == ACT_LOG) {
        for (size_t i = 0; i < n; i++) {
            metas[i] = aura_events_reader_meta(r, ev[i].meta, NULL);
        }
        return aura_events_log_append(s->log, ev, metas, n);
    }
    for (size_t i = 0; s->act == ACT_CAT && i < n; i++) {
        size_t len;
        const char *meta = aura_events_reader_meta(r, ev[i].meta, NULL);
        aura_status st = aura_events_event_format(&ev[i], s->agents, meta, line, sizeof line, &len);
        if (st != AURA_OK) {
            return st;
        }
        fwrite(line, 1, len, stdout);
    }
    return AURA_OK;
}

/* Reads one input to its end; reports its counts on stderr. */
static aura_status run_one(const events_args *a, const sink *s, const char *path,
                           aura_events_event *batch)
{
    FILE *f = aura_events_open_file(path);
    if (!f) {
        cli_errorf("events", "%s", aura_events_open_errmsg());
        return AURA_E_IO;
    }
    aura_events_reader *r = NULL;
    aura_status st = aura_events_reader_create(&a->opts, s->agents, &r);
    double t0 = now_s();
    while (st == AURA_OK) {
        size_t n = 0;
        errno = 0;
        st = aura_events_reader_read(r, f, batch, BATCH, &n);
        aura_status ws = emit(s, r, batch, n);
        st = st == AURA_OK ? ws : st;
        if (n == 0) {
            break;
        }
    }
    if (st == AURA_OK && aura_events_open_errmsg()[0]) {
        cli_errorf("events", "%s", aura_events_open_errmsg()); /* truncated or damaged .zst */
        st = AURA_E_FORMAT;
    }
    double dt = now_s() - t0;
    if (r) {
        aura_events_reader_stats rs;
        aura_events_reader_get_stats(r, &rs);
        if (st != AURA_OK && st != AURA_E_FORMAT) {
            cli_errorf("events", "%s: %s", path,
                       s->log && aura_events_log_errmsg(s->log)[0] ? aura_events_log_errmsg(s->log)
                                                                  : aura_status_str(st));
        } else if (st == AURA_E_FORMAT && !aura_events_open_errmsg()[0]) {
            cli_errorf("events", "%s: %s", path, aura_events_reader_errmsg(r));
        }
        if (a->act != ACT_CAT || rs.skipped) {
            fprintf(stderr, "%s: %llu lines, %llu events, %llu skipped, %.3f s (%.2f M events/s)\n",
                    path, (unsigned long long)rs.lines, (unsigned long long)rs.events,
                    (unsigned long long)rs.skipped, dt,
                    dt > 0 ? (double)rs.events / dt / 1e6 : 0.0);
        }
    }
    aura_events_reader_destroy(r);
    fclose(f);
    return st;
}

int cmd_events(int argc, char **argv)
{
    events_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK) {
        free(a.paths);
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    static char *stdin_path[] = {"-"};
    char **paths = a.n_paths ? a.paths : stdin_path;
    int n_paths = a.n_paths ? a.n_paths : 1;
    sink s = {a.act, NULL, NULL};
    aura_events_event *batch = malloc(BATCH * sizeof *batch);
    aura_status st = batch ? aura_events_interner_create(NULL, &s.agents) : AURA_E_NOMEM;
    if (st == AURA_OK && a.act == ACT_LOG) {
        st = aura_events_log_open(a.dir, &a.log, s.agents, &s.log);
        if (st != AURA_OK) {
            cli_errorf("events", "%s: cannot open the log: %s", a.dir, aura_status_str(st));
        }
    }
    for (int i = 0; st == AURA_OK && i < n_paths; i++) {
        st = run_one(&a, &s, paths[i], batch);
    }
    if (s.log) {
        if (st == AURA_OK) {
            fprintf(stderr, "log: %s\n", aura_events_log_path(s.log));
        }
        aura_events_log_destroy(s.log);
    }
    aura_events_interner_destroy(s.agents);
    free(batch);
    free(a.paths);
    return cli_exit_code(st);
}
