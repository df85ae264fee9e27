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
#include "aura/memory.h"
#include "aura/monitor.h"
#include "cli.h"
#include "risk_cli.h"

static const char *const CMD = "monitor";
#define BATCH 4096

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aura monitor [--model rules|aura|FILE] [--tick-ms MS] [--window W] [--threshold P]\n"
            "                    [--observe] [--strict] [--budget UNITS] [--db DIR] [--recall]\n"
            "                    [--events-out FILE]\n"
            "                    < EVENTS.jsonl > RISK.jsonl\n\n"
            "Reads events (JSON lines, events schema) and writes, for every tick up to the\n"
            "last event's (tick T covers ts in [T*MS, (T+1)*MS), MS = 1000), one line per\n"
            "agent seen so far: {\"tick\":T,\"agent\":\"ID\",\"risk\":P}, P = probability of\n"
            "failing within 10 ticks, and \"state\" (degraded, failing, failed or isolated)\n"
            "when the agent is not healthy; then decision lines with a \"decision\" field.\n"
            "--model rules (the default) is the transparent rule baseline; aura is the\n"
            "trained CfC (models/risk_cfc.safetensors), FILE another one; --observe\n"
            "emits no decisions.  Malformed lines are skipped with a warning naming the\n"
            "line (rejected with exit 3 under --strict).\n"
            "Resource requests (custom events with meta {\"type\":\"request\",\"amount\":A,...})\n"
            "get an approve/deny/defer line after their tick's decisions, from a budget of\n"
            "--budget units (default 10).  --db DIR stores every decision with its context\n"
            "in the memory store's journal (SQLite in DIR, no server); --recall recalls\n"
            "similar past situations (kept in DIR with --db) to inform the decisions.\n"
            "--events-out FILE also writes every decision as an event (events schema:\n"
            "kind intervention or decision, meta with action, risk, confidence, reason).\n");
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

/* Admission, journal and recall around the monitor (all optional). */
typedef struct extras {
    aura_monitor_admission *adm;  /* NULL under --observe */
    aura_monitor_journal *journal; /* --db */
    aura_monitor_request *req;    /* requests waiting for their tick to close */
    size_t n_req, cap_req;
    uint64_t bad_requests, answered;
    int strict;
    FILE *events_out;             /* --events-out: decisions as events */
    double tick_ms;
} extras;

/* Writes a decision as an event of the events schema (--events-out). */
static aura_status put_event(extras *x, const aura_monitor_decision *d,
                             const aura_monitor_request *r, const aura_events_interner *names)
{
    if (!x->events_out) {
        return AURA_OK;
    }
    aura_events_event ev;
    char meta[1024], line[2048];
    size_t len;
    aura_status st = aura_monitor_decision_event(d, r, x->tick_ms, &ev, meta, sizeof meta);
    if (st == AURA_OK) {
        st = aura_events_event_format(&ev, names, meta, line, sizeof line, &len);
    }
    if (st == AURA_OK && fwrite(line, 1, len, x->events_out) != len) {
        st = AURA_E_IO;
    }
    return st;
}

static const char *name_of(void *ctx, uint32_t id)
{
    return aura_events_interner_name(ctx, id);
}

static void print_tick(FILE *out, const aura_monitor *mon, int64_t tick,
                       const aura_events_interner *names)
{
    const float *risk;
    const uint8_t *seen, *state;
    uint32_t n, ns;
    aura_monitor_risk(mon, &risk, &seen, &n);
    aura_monitor_states(mon, &state, &ns);
    for (uint32_t i = 0; i < n; i++) {
        if (!seen[i]) {
            continue;
        }
        fprintf(out, "{\"tick\":%lld,\"agent\":", (long long)tick);
        put_json_str(out, aura_events_interner_name(names, i));
        fprintf(out, ",\"risk\":%.4f", (double)risk[i]);
        if (i < ns && state[i] != AURA_EVENTS_STATE_HEALTHY && state[i] != AURA_EVENTS_STATE_UNKNOWN) {
            fprintf(out, ",\"state\":\"%s\"", aura_events_state_name((aura_events_state)state[i]));
        }
        fputs("}\n", out);
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

static void print_admission(FILE *out, const aura_monitor_decision *d,
                            const aura_monitor_request *r, double left,
                            const aura_events_interner *names)
{
    fprintf(out, "{\"tick\":%lld,\"agent\":", (long long)d->tick);
    put_json_str(out, aura_events_interner_name(names, d->agent));
    fprintf(out, ",\"decision\":\"%s\",\"request\":%u,\"resource\":",
            aura_monitor_action_name((aura_monitor_action)d->action), r->id);
    put_json_str(out, r->resource);
    fprintf(out, ",\"amount\":%.6g,\"budget_left\":%.6g,\"risk\":%.4f,\"confidence\":%.4f,"
                 "\"reason\":",
            (double)r->amount, left, (double)d->risk, (double)d->confidence);
    put_json_str(out, d->reason);
    fputs("}\n", out);
}

/* Answers the requests of ticks up to the one just closed. */
static aura_status answer_requests(extras *x, aura_monitor *mon, int64_t t,
                                   const aura_events_interner *names)
{
    size_t keep = 0;
    aura_status st = AURA_OK;
    for (size_t k = 0; k < x->n_req; k++) {
        aura_monitor_request *r = &x->req[k];
        if (r->tick > t || st != AURA_OK) {
            x->req[keep++] = *r;
            continue;
        }
        aura_monitor_decision d;
        st = aura_monitor_admission_decide(x->adm, mon, r, &d);
        if (st == AURA_OK) {
            print_admission(stdout, &d, r, aura_monitor_admission_budget_left(x->adm), names);
            x->answered++;
        }
        if (st == AURA_OK && x->journal) {
            st = aura_monitor_journal_decision(x->journal, mon, &d, r);
        }
        if (st == AURA_OK) {
            st = put_event(x, &d, r, names);
        }
    }
    x->n_req = keep;
    return st;
}

static aura_status close_tick(aura_monitor *mon, const aura_events_interner *names, extras *x)
{
    int64_t t = aura_monitor_open_tick(mon);
    aura_status st = aura_monitor_tick_close(mon);
    if (st == AURA_OK) {
        print_tick(stdout, mon, t, names);
    }
    if (st == AURA_OK && x->journal) {
        st = aura_monitor_journal_tick(x->journal, mon);
    }
    if (st == AURA_OK && x->events_out) {
        const aura_monitor_decision *d;
        size_t nd;
        aura_monitor_decisions(mon, &d, &nd);
        for (size_t k = 0; st == AURA_OK && k < nd; k++) {
            st = put_event(x, &d[k], NULL, names);
        }
    }
    if (st == AURA_OK && x->adm) {
        st = answer_requests(x, mon, t, names);
    }
    return st;
}

/* Picks the resource requests out of a batch (before the reader reuses the
 * meta texts); malformed ones are counted and named, or stop the run under
 * --strict. */
static aura_status take_requests(extras *x, const aura_events_reader *r,
                                 const aura_events_event *ev, size_t n, double tick_ms,
                                 const aura_events_interner *names)
{
    for (size_t k = 0; k < n; k++) {
        if (ev[k].kind != AURA_EVENTS_CUSTOM || !(ev[k].flags & AURA_EVENTS_F_HAS_META)) {
            continue;
        }
        size_t len = 0;
        const char *meta = aura_events_reader_meta(r, ev[k].meta, &len);
        aura_monitor_request q;
        const char *why = "";
        aura_status st = aura_monitor_request_parse(&ev[k], meta, len, tick_ms, &q, &why);
        if (st == AURA_E_NOTFOUND) {
            continue;
        }
        if (st != AURA_OK) {
            x->bad_requests++;
            fprintf(stderr, "aura: monitor: request event at ts %.3f ms from %s: %s (%s)\n",
                    (double)ev[k].ts_us / 1000.0, aura_events_interner_name(names, ev[k].src),
                    why, x->strict ? "stopping" : "skipped");
            if (x->strict) {
                return AURA_E_FORMAT;
            }
            continue;
        }
        if (!x->adm) {
            continue; /* --observe: nobody answers */
        }
        if (x->n_req == x->cap_req) {
            size_t c = x->cap_req ? 2 * x->cap_req : 64;
            aura_monitor_request *p = realloc(x->req, c * sizeof *p);
            if (!p) {
                return AURA_E_NOMEM;
            }
            x->req = p;
            x->cap_req = c;
        }
        x->req[x->n_req++] = q;
    }
    return AURA_OK;
}

/* Feeds one batch, closing ticks whenever an event belongs to a later one. */
static aura_status feed(aura_monitor *mon, const aura_events_event *ev, size_t n,
                        const aura_events_interner *names, extras *x)
{
    while (n > 0) {
        size_t used = 0;
        aura_status st = aura_monitor_ingest(mon, ev, n, &used);
        if (st != AURA_OK) {
            return st;
        }
        ev += used;
        n -= used;
        if (n > 0 && (st = close_tick(mon, names, x)) != AURA_OK) {
            return st;
        }
    }
    return AURA_OK;
}

static void report(const aura_monitor *mon, const aura_events_reader *r, const extras *x)
{
    if (x->bad_requests) {
        fprintf(stderr, "aura: monitor: %llu malformed request events skipped\n",
                (unsigned long long)x->bad_requests);
    }
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

typedef struct run_opts {
    int strict, recall;
    double budget;
    const char *db, *events_out;
} run_opts;

/* Opens the memory store, the recall and the journal for --db/--recall;
 * the exit code, and a message, on failure. */
static int open_extras(const run_opts *ro, aura_monitor_opts *mo, aura_events_interner *names,
                       aura_memory_store **store, aura_monitor_recall **rc, extras *x)
{
    if (ro->db) {
        aura_memory_opts so = aura_memory_opts_default();
        so.fsync = AURA_MEMORY_FSYNC_EVERYSEC;
        aura_status st = aura_memory_store_open(ro->db, &so, store);
        if (st != AURA_OK) {
            cli_errorf(CMD, "--db %s: %s", ro->db, aura_memory_last_open_error());
            return cli_exit_code(st);
        }
        aura_monitor_journal_opts jo = aura_monitor_journal_opts_default();
        jo.tick_ms = mo->tick_ms;
        jo.agent_name = name_of;
        jo.name_ctx = names;
        if ((st = aura_monitor_journal_create(*store, &jo, &x->journal)) != AURA_OK) {
            cli_errorf(CMD, "%s", aura_status_str(st));
            return cli_exit_code(st);
        }
    }
    if (ro->recall) {
        aura_monitor_recall_opts ro2 = aura_monitor_recall_opts_default();
        ro2.horizon = mo->horizon;
        ro2.store = *store;
        aura_status st = aura_monitor_recall_create(&ro2, rc);
        if (st != AURA_OK) {
            cli_errorf(CMD, "recall: %s", aura_status_str(st));
            return cli_exit_code(st);
        }
        mo->recall = *rc;
    }
    if (mo->act) {
        aura_monitor_admission_opts ao = aura_monitor_admission_opts_default();
        ao.budget = ro->budget;
        ao.threshold = mo->threshold;
        aura_status st = aura_monitor_admission_create(&ao, &x->adm);
        if (st != AURA_OK) {
            cli_errorf(CMD, "%s", aura_status_str(st));
            return cli_exit_code(st);
        }
    }
    return CLI_EXIT_OK;
}

static int run(const aura_monitor_opts *mo_in, aura_monitor_risk_cfc *cfc, const run_opts *ro)
{
    aura_events_interner *names = NULL;
    aura_events_reader *r = NULL;
    aura_monitor *mon = NULL;
    aura_memory_store *store = NULL;
    aura_monitor_recall *recall = NULL;
    aura_monitor_opts mo0 = *mo_in, *mo = &mo0;
    extras x = {.strict = ro->strict, .tick_ms = mo_in->tick_ms};
    if (ro->events_out && !(x.events_out = fopen(ro->events_out, "w"))) {
        cli_errorf(CMD, "cannot open %s: %s", ro->events_out, strerror(errno));
        return CLI_EXIT_INPUT;
    }
    aura_events_jsonl_opts jo = aura_events_jsonl_opts_default();
    jo.strict = ro->strict;
    aura_events_event *buf = malloc(sizeof *buf * BATCH);
    aura_status st = buf ? aura_events_interner_create(NULL, &names) : AURA_E_NOMEM;
    if (st == AURA_OK) {
        int xrc = open_extras(ro, mo, names, &store, &recall, &x);
        if (xrc != CLI_EXIT_OK) {
            aura_monitor_admission_destroy(x.adm);
            aura_monitor_journal_destroy(x.journal);
            aura_monitor_recall_destroy(recall);
            aura_memory_store_destroy(store);
            aura_events_interner_destroy(names);
            free(buf);
            if (x.events_out) {
                fclose(x.events_out);
            }
            return xrc;
        }
    }
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
        st = take_requests(&x, r, buf, n, mo->tick_ms, names);
        if (st == AURA_OK) {
            st = feed(mon, buf, n, names, &x);
        }
        if (st == AURA_OK && rs != AURA_OK) {
            cli_errorf(CMD, "stdin: %s", aura_events_reader_errmsg(r));
            st = rs;
        }
        if (n == 0 || st != AURA_OK) {
            break;
        }
    }
    if (st == AURA_OK && aura_monitor_open_tick(mon) >= 0) {
        st = close_tick(mon, names, &x);
    }
    int rc = CLI_EXIT_OK;
    if (mon && r) {
        report(mon, r, &x);
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
    if (x.events_out && fclose(x.events_out) != 0 && rc == CLI_EXIT_OK) {
        cli_errorf(CMD, "cannot write %s", ro->events_out);
        rc = CLI_EXIT_INPUT;
    }
    aura_monitor_destroy(mon);
    aura_monitor_admission_destroy(x.adm);
    aura_monitor_journal_destroy(x.journal);
    aura_monitor_recall_destroy(recall);
    aura_memory_store_destroy(store);
    free(x.req);
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(names);
    free(buf);
    return rc;
}

int cmd_monitor(int argc, char **argv)
{
    aura_monitor_opts o = aura_monitor_opts_default();
    run_opts ro = {.budget = 10.0};
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
        if (strcmp(a, "--recall") == 0) {
            ro.recall = 1;
            continue;
        }
        const char *v = cli_take_value(CMD, argc, argv, &i);
        if (!v) {
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
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
        } else if (strcmp(a, "--budget") == 0 && num && x >= 0.0 && x <= 1e12) {
            ro.budget = x;
        } else if (strcmp(a, "--db") == 0 && *v) {
            ro.db = v;
        } else if (strcmp(a, "--events-out") == 0 && *v) {
            ro.events_out = v;
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
    ro.strict = strict;
    rc = run(&o, cfc, &ro);
    aura_monitor_risk_cfc_destroy(cfc);
    return rc;
}
