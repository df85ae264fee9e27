/* bench_monitor.c -- monitor throughput on simulated streams: ingest rate
 * (events/s, library call only, no JSON) and the cost of a full tick
 * (window + graph measures + features + risk + decisions), p50/p99, for
 * several agent counts.  Built and run by bench/bench_monitor.sh.
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aura/monitor.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int ticks = argc > 1 ? atoi(argv[1]) : 100;
    printf("%8s %10s %14s %12s %12s %12s\n", "agents", "events", "ingest ev/s", "tick p50 ms",
           "tick p99 ms", "ingest+tick");
    for (int a = 2; a < argc || a == 2; a++) {
        uint32_t n = argc > a ? (uint32_t)atoi(argv[a]) : 1000;
        if (a == 2 && argc > 2) {
            n = (uint32_t)atoi(argv[2]);
        }
        aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
        so.n_agents = n;
        so.ticks = ticks;
        aura_monitor_sim *sim;
        if (aura_monitor_sim_create(&so, &sim) != AURA_OK) {
            return 1;
        }
        /* the stream first, in memory, so only the monitor is timed */
        size_t cap = 1 << 20, total = 0;
        aura_events_event *all = malloc(cap * sizeof *all);
        const aura_events_event *ev;
        size_t k;
        while (aura_monitor_sim_step(sim, &ev, &k) == AURA_OK) {
            if (total + k > cap) {
                cap = 2 * (total + k);
                all = realloc(all, cap * sizeof *all);
            }
            memcpy(all + total, ev, k * sizeof *ev);
            total += k;
        }
        aura_monitor *m;
        aura_monitor_opts mo = aura_monitor_opts_default();
        aura_monitor_create(&mo, &m);
        double *tk = malloc(sizeof(double) * (size_t)(ticks + 1));
        int nt = 0;
        double t_ing = 0, t0 = now_s();
        size_t off = 0;
        while (off < total) {
            size_t used;
            double a0 = now_s();
            aura_monitor_ingest(m, all + off, total - off, &used);
            t_ing += now_s() - a0;
            off += used;
            double b0 = now_s();
            aura_monitor_tick_close(m);
            tk[nt++] = (now_s() - b0) * 1000.0;
        }
        double wall = now_s() - t0;
        qsort(tk, (size_t)nt, sizeof *tk, dcmp);
        printf("%8u %10zu %14.0f %12.3f %12.3f %11.2fs\n", n, total, (double)total / t_ing,
               tk[nt / 2], tk[(nt * 99) / 100 < nt ? (nt * 99) / 100 : nt - 1], wall);
        aura_monitor_stats st;
        aura_monitor_get_stats(m, &st);
        printf("         per tick, mean ms: window %.3f, graph %.3f, features %.3f, tda %.3f,"
               " risk %.3f, decisions %.3f\n",
               st.stage_ms[0] / nt, st.stage_ms[1] / nt, st.stage_ms[2] / nt, st.stage_ms[5] / nt,
               st.stage_ms[3] / nt, st.stage_ms[4] / nt);
        aura_monitor_destroy(m);
        aura_monitor_sim_destroy(sim);
        free(all);
        free(tk);
        if (argc <= 2) {
            break;
        }
    }
    return 0;
}
