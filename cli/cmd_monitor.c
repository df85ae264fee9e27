/* cmd_monitor.c -- `aura monitor`: events (JSON lines) on stdin, one risk
 * line per agent seen so far per tick, plus decision lines, on stdout.
 * A thin layer: aura_events_reader_read -> aura_monitor_ingest /
 * aura_monitor_tick_close.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/events.h"
#include "aura/monitor.h"
#include "cli.h"
#include "risk_cli.h"

static const char *const CMD = "monitor";
#define BATCH 4096

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aura monitor [--model rules|aura|FILE] [--tick-ms MS] [--window W] [--threshold P]\n"
            "                    [--observe] [--strict] < EVENTS.jsonl > RISK.jsonl\n\n"
            "Reads events (JSON lines, events schema) and writes, for every tick up to the\n"
            "last event's (tick T covers ts in [T*MS, (T+1)*MS), MS = 1000), one line per\n"
            "agent seen so far: {\"tick\":T,\"agent\":\"ID\",\"risk\":P}, P = probability of\n"
            "failing within 10 ticks; then decision lines with a \"decision\" field.\n"
            "--model rules (the default) is the transparent rule baseline; aura is the\n"
            "trained CfC (models/risk_cfc.safetensors), FILE another one; --observe\n"
            "emits no decisions.  Malformed lines are skipped with a warning naming the\n"
            "line (rejected with exit 3 under --strict).\n");
}

/* JSON string body of s (quotes, backslashes and control bytes escaped). */
static void put_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', f);
            fputc(*p, f);
        } else if (*p < 0x20) {
            fprintf(f, "\\u%04x", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

static void print_tick(FILE *out, const aura_monitor *mon, int64_t tick,
                       const aura_events_interner *names)
{
    const float *risk;
    const uint8_t *seen;
    uint32_t n;
    aura_monitor_risk(mon, &risk, &seen, &n);
    for (uint32_t i = 0; i < n; i++) {
        if (!seen[i]) {
            continue;
        }
        fprintf(out, "{\"tick\":%lld,\"agent\":", (long long)tick);
        put_json_str(out, aura_events_interner_name(names, i));
        fprintf(out, ",\"risk\":%.4f}\n", (double)risk[i]);
    }
    const aura_monitor_decision *d;
    size_t nd;
    aura_monitor_decisions(mon, &d, &nd);
    for (size_t k = 0; k < nd; k++) {
        fprintf(out, "{\"tick\":%lld,\"agent\":", (long long)d[k].tick);
        put_json_str(out, aura_events_interner_name(names, d[k].agent));
        fprintf(out, ",\"decision\":\"%s\"",
                aura_monitor_action_name((aura_monitor_action)d[k].action));
        if (d[k].target != AURA_EVENTS_NO_AGENT) {
            fputs(",\"target\":", out);
            put_json_str(out, aura_events_interner_name(names, d[k].target));
        }
        fprintf(out, ",\"risk\":%.4f,\"confidence\":%.4f,\"reason\":", (double)d[k].risk,
                (double)d[k].confidence);
        put_json_str(out, d[k].reason);
        fputs("}\n", out);
    }
}

static aura_status close_tick(aura_monitor *mon, const aura_events_interner *names)
{
    int64_t t = aura_monitor_open_tick(mon);
    aura_status st = aura_monitor_tick_close(mon);
    if (st == AURA_OK) {
        print_tick(stdout, mon, t, names);
    }
    return st;
}

/* Feeds one batch, closing ticks whenever an event belongs to a later one. */
static aura_status feed(aura_monitor *mon, const aura_events_event *ev, size_t n,
                        const aura_events_interner *names)
{
    while (n > 0) {
        size_t used = 0;
        aura_status st = aura_monitor_ingest(mon, ev, n, &used);
        if (st != AURA_OK) {
            return st;
        }
        ev += used;
        n -= used;
        if (n > 0 && (st = close_tick(mon, names)) != AURA_OK) {
            return st;
        }
    }
    return AURA_OK;
}

static void report(const aura_monitor *mon, const aura_events_reader *r)
{
    aura_monitor_stats ms;
    aura_events_reader_stats rs;
    aura_monitor_get_stats(mon, &ms);
    aura_events_reader_get_stats(r, &rs);
    if (rs.skipped || ms.late || ms.duplicates || ms.unknown || ms.bad_time || ms.gap_ticks) {
        fprintf(stderr,
                "aura: monitor: %llu events, %lld ticks; skipped %llu malformed lines"
                " (last at line %llu), %llu duplicates, %llu unknown agents, %llu bad"
                " timestamps; %llu late events counted into the open tick; %lld ticks"
                " without events\n",
                (unsigned long long)ms.events, (long long)ms.ticks,
                (unsigned long long)rs.skipped, (unsigned long long)rs.last_error_line,
                (unsigned long long)ms.duplicates, (unsigned long long)ms.unknown,
                (unsigned long long)ms.bad_time, (unsigned long long)ms.late,
                (long long)ms.gap_ticks);
    }
}

static int run(const aura_monitor_opts *mo, aura_monitor_risk_cfc *cfc, int strict)
{
    aura_events_interner *names = NULL;
    aura_events_reader *r = NULL;
    aura_monitor *mon = NULL;
    aura_events_jsonl_opts jo = aura_events_jsonl_opts_default();
    jo.strict = strict;
    aura_events_event *buf = malloc(sizeof *buf * BATCH);
    aura_status st = buf ? aura_events_interner_create(NULL, &names) : AURA_E_NOMEM;
    if (st == AURA_OK) {
        st = aura_events_reader_create(&jo, names, &r);
    }
    if (st == AURA_OK) {
        st = aura_monitor_create(mo, &mon);
    }
    aura_monitor_risk_cfc_attach(cfc, mon);
    while (st == AURA_OK) {
        size_t n = 0;
        aura_status rs = aura_events_reader_read(r, stdin, buf, BATCH, &n);
        st = feed(mon, buf, n, names);
        if (st == AURA_OK && rs != AURA_OK) {
            cli_errorf(CMD, "stdin: %s", aura_events_reader_errmsg(r));
            st = rs;
        }
        if (n == 0 || st != AURA_OK) {
            break;
        }
    }
    if (st == AURA_OK && aura_monitor_open_tick(mon) >= 0) {
        st = close_tick(mon, names);
    }
    int rc = CLI_EXIT_OK;
    if (mon && r) {
        report(mon, r);
    }
    if (fflush(stdout) != 0 && st == AURA_OK) {
        st = AURA_E_IO;
    }
    if (st != AURA_OK) {
        if (st != AURA_E_FORMAT) {
            cli_errorf(CMD, "%s", aura_status_str(st));
        }
        rc = cli_exit_code(st);
    }
    aura_monitor_destroy(mon);
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(names);
    free(buf);
    return rc;
}

int cmd_monitor(int argc, char **argv)
{
    aura_monitor_opts o = aura_monitor_opts_default();
    int strict = 0;
    const char *model = "rules";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(a, "--strict") == 0) {
            strict = 1;
            continue;
        }
        if (strcmp(a, "--observe") == 0) {
            o.act = 0;
            continue;
        }
        if (i + 1 >= argc) {
            cli_errorf(CMD, "unknown option or missing value: %s", a);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        const char *v = argv[++i];
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        int num = errno == 0 && end != v && *end == '\0';
        if (strcmp(a, "--model") == 0) {
            model = v;
        } else if (strcmp(a, "--tick-ms") == 0 && num && x > 0.0 && x <= 1e9) {
            o.tick_ms = x;
        } else if (strcmp(a, "--window") == 0 && num && x >= 1 && x <= 10000) {
            o.window_ticks = (int)x;
        } else if (strcmp(a, "--threshold") == 0 && num && x >= 0.0 && x <= 1.0) {
            o.threshold = x;
        } else {
            cli_errorf(CMD, "bad option or value: %s %s", a, v);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    aura_monitor_risk_cfc *cfc = NULL;
    int rc = cli_risk_model_open(CMD, model, &cfc);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    aura_monitor_model mm = aura_monitor_risk_cfc_model(cfc);
    o.model = cfc ? &mm : NULL;
    rc = run(&o, cfc, strict);
    aura_monitor_risk_cfc_destroy(cfc);
    return rc;
}
