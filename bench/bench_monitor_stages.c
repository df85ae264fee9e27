/* bench_monitor_stages.c -- the monitor's cost per stage and per tick,
 * p50 / p99, at 100, 1,000 and 10,000 agents, with the rule risk and the
 * CfC risk (and with recall on), plus ingest rates: monitor ingest alone
 * and JSON-lines parse + ingest.  Wall time and thread CPU time are both
 * reported: on a shared machine the wall tail is mostly preemption.
 * Usage: bench_monitor_stages [REPEATS] [MODEL]   (run by bench_monitor_stages.sh)
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aura/monitor.h"
#include "aura/monitor_risk.h"

static double now_ms(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec * 1e3 + 1e-6 * (double)ts.tv_nsec;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, int p)
{
    qsort(v, (size_t)n, sizeof *v, dcmp);
    int k = (n * p) / 100;
    return v[k < n ? k : n - 1];
}

typedef struct stream {
    aura_events_event *ev;
    size_t n;
    int ticks;
} stream;

static int make_stream(uint32_t n_agents, int ticks, stream *s)
{
    aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
    so.n_agents = n_agents;
    so.ticks = ticks;
    aura_monitor_sim *sim;
    if (aura_monitor_sim_create(&so, &sim) != AURA_OK) {
        return 0;
    }
    size_t cap = 1 << 16;
    s->ev = malloc(cap * sizeof *s->ev);
    s->n = 0;
    s->ticks = ticks;
    const aura_events_event *ev;
    size_t k;
    while (s->ev && aura_monitor_sim_step(sim, &ev, &k) == AURA_OK) {
        if (s->n + k > cap) {
            cap = 2 * (s->n + k);
            aura_events_event *g = realloc(s->ev, cap * sizeof *g);
            if (!g) {
                return 0;
            }
            s->ev = g;
        }
        memcpy(s->ev + s->n, ev, k * sizeof *ev);
        s->n += k;
    }
    aura_monitor_sim_destroy(sim);
    return s->ev != NULL;
}

/* One pass of the monitor over the stream; per-tick stage and total times. */
static void run_ticks(const stream *s, aura_monitor_risk_cfc *cfc, int recall, double *ingest_s,
                      double *wall, double *cpu, double *stage[5], int *nt)
{
    aura_monitor_opts mo = aura_monitor_opts_default();
    aura_monitor_model mm = aura_monitor_risk_cfc_model(cfc);
    mo.model = cfc ? &mm : NULL;
    aura_monitor_recall *rc = NULL;
    if (recall) {
        aura_monitor_recall_create(NULL, &rc);
        mo.recall = rc;
    }
    aura_monitor *m;
    aura_monitor_create(&mo, &m);
    aura_monitor_risk_cfc_reset(cfc);
    aura_monitor_risk_cfc_attach(cfc, m);
    size_t off = 0;
    double prev[5] = {0};
    *nt = 0;
    *ingest_s = 0;
    while (off < s->n) {
        size_t used;
        double a = now_ms(CLOCK_MONOTONIC);
        aura_monitor_ingest(m, s->ev + off, s->n - off, &used);
        *ingest_s += (now_ms(CLOCK_MONOTONIC) - a) / 1e3;
        off += used;
        double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
        aura_monitor_tick_close(m);
        wall[*nt] = now_ms(CLOCK_MONOTONIC) - w0;
        cpu[*nt] = now_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
        aura_monitor_stats st;
        aura_monitor_get_stats(m, &st);
        for (int k = 0; k < 5; k++) {
            stage[k][*nt] = st.stage_ms[k] - prev[k];
            prev[k] = st.stage_ms[k];
        }
        (*nt)++;
    }
    aura_monitor_risk_cfc_attach(cfc, NULL);
    aura_monitor_destroy(m);
    aura_monitor_recall_destroy(rc);
}

/* JSON lines of the stream in memory, then read + ingest (no tick work). */
static double jsonl_rate(const stream *s, uint32_t n_agents)
{
    aura_events_interner *names;
    aura_events_interner_create(NULL, &names);
    for (uint32_t i = 0; i < n_agents; i++) {
        char nm[16];
        uint32_t id;
        int len = snprintf(nm, sizeof nm, "a%u", i);
        aura_events_interner_intern(names, nm, (size_t)len, &id);
    }
    size_t cap = s->n * 128 + 1, used = 0;
    char *text = malloc(cap);
    for (size_t k = 0; k < s->n; k++) {
        size_t len;
        if (aura_events_event_format(&s->ev[k], names, NULL, text + used, cap - used, &len) !=
            AURA_OK) {
            break;
        }
        used += len;
    }
    FILE *f = fmemopen(text, used, "r");
    aura_events_reader *r;
    aura_events_reader_create(NULL, names, &r);
    aura_monitor_opts mo = aura_monitor_opts_default();
    mo.act = 0;
    aura_monitor *m;
    aura_monitor_create(&mo, &m);
    aura_events_event *buf = malloc(4096 * sizeof *buf);
    size_t total = 0;
    double t0 = now_ms(CLOCK_MONOTONIC), in_tick = 0;
    for (;;) {
        size_t n = 0;
        aura_events_reader_read(r, f, buf, 4096, &n);
        if (n == 0) {
            break;
        }
        total += n;
        const aura_events_event *p = buf;
        while (n > 0) {
            size_t u;
            aura_monitor_ingest(m, p, n, &u);
            p += u;
            n -= u;
            if (n > 0) {
                double a = now_ms(CLOCK_MONOTONIC);
                aura_monitor_tick_close(m);
                in_tick += now_ms(CLOCK_MONOTONIC) - a;
            }
        }
    }
    double sec = (now_ms(CLOCK_MONOTONIC) - t0 - in_tick) / 1e3;
    fclose(f);
    free(text);
    free(buf);
    aura_monitor_destroy(m);
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(names);
    return (double)total / sec;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    const char *path = argc > 2 ? argv[2] : "models/risk_cfc.safetensors";
    char err[256] = "";
    aura_monitor_risk_cfc *cfc = NULL;
    if (aura_monitor_risk_cfc_load(NULL, path, &cfc, err, sizeof err) != AURA_OK) {
        fprintf(stderr, "bench_monitor_stages: %s (CfC rows skipped)\n", err);
    }
    const uint32_t sizes[3] = {100, 1000, 10000};
    const int ticks[3] = {300, 300, 100};
    static const char *const stage_names[5] = {"window", "graph", "features", "risk", "decide"};
    printf("# ms per tick, p50/p99 over ticks (median of %d repeats); cpu = thread CPU time\n",
           reps);
    printf("%6s %-12s %15s %15s", "agents", "risk", "tick wall", "tick cpu");
    for (int k = 0; k < 5; k++) {
        printf(" %15s", stage_names[k]);
    }
    printf(" %12s %12s\n", "ingest ev/s", "jsonl ev/s");
    for (int si = 0; si < 3; si++) {
        stream s;
        if (!make_stream(sizes[si], ticks[si], &s)) {
            return 1;
        }
        for (int variant = 0; variant < 3; variant++) {
            if (variant == 1 && !cfc) {
                continue;
            }
            double res[16][32]; /* [rep][metric] */
            int nm = 0;
            for (int r = 0; r < reps; r++) {
                int cap = ticks[si] + 8, nt;
                double *wall = malloc(sizeof(double) * (size_t)cap);
                double *cpu = malloc(sizeof(double) * (size_t)cap);
                double *stg[5];
                for (int k = 0; k < 5; k++) {
                    stg[k] = malloc(sizeof(double) * (size_t)cap);
                }
                double ing;
                run_ticks(&s, variant == 1 ? cfc : NULL, variant == 2, &ing, wall, cpu, stg, &nt);
                nm = 0;
                res[r][nm++] = pct(wall, nt, 50);
                res[r][nm++] = pct(wall, nt, 99);
                res[r][nm++] = pct(cpu, nt, 50);
                res[r][nm++] = pct(cpu, nt, 99);
                for (int k = 0; k < 5; k++) {
                    res[r][nm++] = pct(stg[k], nt, 50);
                    res[r][nm++] = pct(stg[k], nt, 99);
                }
                res[r][nm++] = (double)s.n / ing;
                res[r][nm++] = variant == 0 ? jsonl_rate(&s, sizes[si]) : 0.0;
                free(wall);
                free(cpu);
                for (int k = 0; k < 5; k++) {
                    free(stg[k]);
                }
            }
            double med[32];
            for (int k = 0; k < nm; k++) {
                double col[16];
                for (int r = 0; r < reps; r++) {
                    col[r] = res[r][k];
                }
                med[k] = pct(col, reps, 50);
            }
            const char *vname = variant == 0 ? "rules" : variant == 1 ? "cfc" : "rules+recall";
            printf("%6u %-12s", sizes[si], vname);
            for (int k = 0; k < 14; k += 2) {
                char b[40];
                snprintf(b, sizeof b, "%.3f/%.3f", med[k], med[k + 1]);
                printf(" %15s", b);
            }
            printf(" %12.3g", med[14]);
            if (variant == 0) {
                printf(" %12.3g", med[15]);
            }
            printf("\n");
            fflush(stdout);
        }
        free(s.ev);
    }
    aura_monitor_risk_cfc_destroy(cfc);
    return 0;
}
