/* cmd_simulate.c -- `aura simulate`: runs the seeded cascade simulator
 * open loop and writes its events (JSON lines, events schema) and the
 * ground-truth labels.  A thin layer over aura_monitor_sim_*.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/events.h"
#include "aura/monitor.h"
#include "cli.h"

static const char *const CMD = "simulate";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aura simulate [--agents N] [--topology ba|smallworld|hier|random]\n"
            "                     [--seed S] [--ticks T] [--faults SPEC] [--requests R]\n"
            "                     [--budget UNITS]\n"
            "                     --events EVENTS.jsonl [--labels LABELS.jsonl]\n\n"
            "Runs the cascade simulator (open loop) and writes observable events and\n"
            "ground-truth labels ({\"tick\":T,\"agent\":\"ID\",\"event\":\"fail\"|\"recover\"|\"fault\"}).\n"
            "Defaults: 200 agents, ba, seed 1, 300 ticks, faults random:(2 + N/40).\n"
            "SPEC: none | random:N | KIND:AGENT:TICK[:DURATION],... with KIND one of\n"
            "slow, leak, error-burst, overload, flapping-link, byzantine; AGENT an index,\n"
            "a name a<i>, or * (seeded random pick).  Use - for stdout.\n"
            "--requests R: agents that run hot ask for capacity (rate multiplier, 0 = none;\n"
            "1 is a good start), as custom events with meta {\"type\":\"request\",...};\n"
            "--budget: units the simulator can grant (default N/20; used in closed loop).\n");
}

static int parse_u64(const char *s, unsigned long long lo, unsigned long long hi,
                     unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || *s == '-') {
        return 0;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_real(const char *s, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0) || v > hi) {
        return 0;
    }
    *out = v;
    return 1;
}

static FILE *open_out(const char *path)
{
    return strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
}

static int close_out(FILE *f)
{
    if (f == stdout) {
        return fflush(f);
    }
    return fclose(f);
}

static aura_status write_tick(FILE *f, const aura_events_event *ev, size_t n,
                              const aura_events_interner *names, const aura_monitor_sim *sim)
{
    char buf[1024], meta[256];
    const aura_monitor_request *req;
    size_t n_req;
    aura_monitor_sim_requests(sim, &req, &n_req);
    for (size_t k = 0; k < n; k++) {
        size_t len = 0;
        const char *mj = NULL;
        if (ev[k].kind == AURA_EVENTS_CUSTOM && (ev[k].flags & AURA_EVENTS_F_HAS_META) &&
            ev[k].meta < n_req) { /* a resource request */
            aura_status ms = aura_monitor_request_meta(&req[ev[k].meta], meta, sizeof meta, NULL);
            if (ms != AURA_OK) {
                return ms;
            }
            mj = meta;
        }
        aura_status st = aura_events_event_format(&ev[k], names, mj, buf, sizeof buf, &len);
        if (st != AURA_OK) {
            return st;
        }
        if (fwrite(buf, 1, len, f) != len) {
            return AURA_E_IO;
        }
    }
    return AURA_OK;
}

static aura_status write_labels(FILE *f, const aura_monitor_sim *sim)
{
    size_t n = 0;
    aura_status st = aura_monitor_sim_labels(sim, NULL, 0, &n);
    aura_monitor_label *l = st == AURA_OK ? calloc(n ? n : 1, sizeof *l) : NULL;
    if (st == AURA_OK && !l) {
        st = AURA_E_NOMEM;
    }
    if (st == AURA_OK) {
        st = aura_monitor_sim_labels(sim, l, n, &n);
    }
    static const char *const ev_names[] = {"fail", "recover", "fault"};
    for (size_t k = 0; st == AURA_OK && k < n; k++) {
        int r;
        if (l[k].event == AURA_MONITOR_LABEL_FAULT) {
            r = fprintf(f, "{\"tick\":%d,\"agent\":\"a%u\",\"event\":\"fault\",\"fault\":\"%s\"}\n",
                        (int)l[k].tick, l[k].agent,
                        aura_monitor_fault_name((aura_monitor_fault_kind)l[k].fault));
        } else {
            r = fprintf(f, "{\"tick\":%d,\"agent\":\"a%u\",\"event\":\"%s\"}\n", (int)l[k].tick,
                        l[k].agent, ev_names[l[k].event]);
        }
        st = r < 0 ? AURA_E_IO : AURA_OK;
    }
    free(l);
    return st;
}

static int run(const aura_monitor_sim_opts *o, const char *events_path, const char *labels_path)
{
    aura_monitor_sim *sim = NULL;
    aura_events_interner *names = NULL;
    FILE *fe = NULL, *fl = NULL;
    aura_status st = aura_monitor_sim_create(o, &sim);
    if (st != AURA_OK) {
        cli_errorf(CMD, "cannot create the simulation: %s", aura_status_str(st));
        return st == AURA_E_FORMAT ? CLI_EXIT_USAGE : cli_exit_code(st);
    }
    st = aura_events_interner_create(NULL, &names);
    for (uint32_t i = 0; st == AURA_OK && i < o->n_agents; i++) {
        char nm[16];
        uint32_t id;
        int len = snprintf(nm, sizeof nm, "a%u", i);
        st = aura_events_interner_intern(names, nm, (size_t)len, &id);
    }
    int rc = CLI_EXIT_OK;
    if (st == AURA_OK && !(fe = open_out(events_path))) {
        cli_errorf(CMD, "cannot open %s: %s", events_path, strerror(errno));
        rc = CLI_EXIT_INPUT;
    }
    if (rc == CLI_EXIT_OK && st == AURA_OK && labels_path && !(fl = open_out(labels_path))) {
        cli_errorf(CMD, "cannot open %s: %s", labels_path, strerror(errno));
        rc = CLI_EXIT_INPUT;
    }
    while (rc == CLI_EXIT_OK && st == AURA_OK) {
        const aura_events_event *ev;
        size_t n;
        st = aura_monitor_sim_step(sim, &ev, &n);
        if (st == AURA_E_STATE) {
            st = AURA_OK;
            break;
        }
        if (st == AURA_OK) {
            st = write_tick(fe, ev, n, names, sim);
        }
    }
    if (rc == CLI_EXIT_OK && st == AURA_OK && fl) {
        st = write_labels(fl, sim);
    }
    if (fe && close_out(fe) != 0 && st == AURA_OK) {
        st = AURA_E_IO;
    }
    if (fl && close_out(fl) != 0 && st == AURA_OK) {
        st = AURA_E_IO;
    }
    if (rc == CLI_EXIT_OK && st != AURA_OK) {
        cli_errorf(CMD, "%s", aura_status_str(st));
        rc = cli_exit_code(st);
    }
    aura_events_interner_destroy(names);
    aura_monitor_sim_destroy(sim);
    return rc;
}

int cmd_simulate(int argc, char **argv)
{
    aura_monitor_sim_opts o = aura_monitor_sim_opts_default();
    const char *events = NULL, *labels = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (i + 1 >= argc) {
            cli_errorf(CMD, "unknown option or missing value: %s", a);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        const char *v = argv[++i];
        unsigned long long x;
        if (strcmp(a, "--agents") == 0 && parse_u64(v, 10, 10000, &x)) {
            o.n_agents = (uint32_t)x;
        } else if (strcmp(a, "--seed") == 0 && parse_u64(v, 0, UINT64_MAX, &x)) {
            o.seed = x;
        } else if (strcmp(a, "--ticks") == 0 && parse_u64(v, 1, 100000, &x)) {
            o.ticks = (int32_t)x;
        } else if (strcmp(a, "--topology") == 0 &&
                   aura_monitor_topology_parse(v, &o.topology) == AURA_OK) {
            continue;
        } else if (strcmp(a, "--faults") == 0) {
            o.faults = v;
        } else if ((strcmp(a, "--requests") == 0 || strcmp(a, "--budget") == 0) &&
                   parse_real(v, strcmp(a, "--requests") == 0 ? 100.0 : 1e9,
                              strcmp(a, "--requests") == 0 ? &o.requests : &o.budget)) {
            continue;
        } else if (strcmp(a, "--events") == 0) {
            events = v;
        } else if (strcmp(a, "--labels") == 0) {
            labels = v;
        } else {
            cli_errorf(CMD, "bad option or value: %s %s", a, v);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (!events) {
        cli_errorf(CMD, "--events FILE is required");
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return run(&o, events, labels);
}
