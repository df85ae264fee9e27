/* bench_events_stream.c -- end-to-end rate of the event log on Redis
 * Streams: one producer process publishing pipelined batches, one consumer
 * process reading through a consumer group and acknowledging, on a private
 * redis-server.  Target: >= 150k events/s end to end.
 * usage: bench_events_stream PORT N [BATCH]
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aura/events_stream.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static aura_events_stream *open_stream(int port, const char *consumer,
                                       aura_events_interner **agents)
{
    aura_events_stream_opts o = aura_events_stream_opts_default();
    o.port = port;
    o.consumer = consumer;
    o.key = "bench:events";
    aura_events_stream *s = NULL;
    if (aura_events_interner_create(NULL, agents) != AURA_OK ||
        aura_events_stream_connect(&o, *agents, &s) != AURA_OK) {
        fprintf(stderr, "connect: %s\n", aura_events_stream_last_connect_error());
        exit(1);
    }
    return s;
}

static void produce(int port, long n, size_t batch)
{
    aura_events_interner *agents;
    aura_events_stream *s = open_stream(port, "producer", &agents);
    aura_events_event *ev = calloc(batch, sizeof *ev);
    uint32_t ids[100];
    char name[32];
    for (int i = 0; i < 100; i++) {
        int k = snprintf(name, sizeof name, "agent-%d", i);
        aura_events_interner_intern(agents, name, (size_t)k, &ids[i]);
    }
    for (long done = 0; done < n;) {
        size_t k = (size_t)(n - done) < batch ? (size_t)(n - done) : batch;
        for (size_t i = 0; i < k; i++) {
            long j = done + (long)i;
            ev[i] = (aura_events_event){.ts_us = j * 1000, .kind = AURA_EVENTS_REPLY,
                                        .src = ids[j % 100], .dst = ids[(j * 7) % 100],
                                        .latency_ms = 12.5f,
                                        .flags = AURA_EVENTS_F_HAS_LATENCY |
                                                 AURA_EVENTS_F_HAS_OK | AURA_EVENTS_F_OK};
        }
        if (aura_events_stream_publish(s, ev, k) != AURA_OK) {
            fprintf(stderr, "publish: %s\n", aura_events_stream_errmsg(s));
            exit(1);
        }
        done += (long)k;
    }
    free(ev);
    aura_events_stream_destroy(s);
    aura_events_interner_destroy(agents);
}

static long consume(int port, long n, size_t batch)
{
    aura_events_interner *agents;
    aura_events_stream *s = open_stream(port, "consumer", &agents);
    aura_events_event *ev = calloc(batch, sizeof *ev);
    aura_events_stream_id *ids = calloc(batch, sizeof *ids);
    long got = 0;
    int idle = 0;
    while (got < n && idle < 50) {
        size_t k = 0;
        if (aura_events_stream_read(s, ev, ids, batch, &k) != AURA_OK ||
            aura_events_stream_ack(s, ids, k) != AURA_OK) {
            fprintf(stderr, "read: %s\n", aura_events_stream_errmsg(s));
            exit(1);
        }
        got += (long)k;
        idle = k ? 0 : idle + 1;
    }
    free(ev);
    free(ids);
    aura_events_stream_destroy(s);
    aura_events_interner_destroy(agents);
    return got;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_events_stream PORT N [BATCH]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    long n = atol(argv[2]);
    size_t batch = argc > 3 ? (size_t)atol(argv[3]) : 512;
    /* Create the group first so that the consumer sees every entry. */
    aura_events_interner *agents;
    aura_events_stream_destroy(open_stream(port, "setup", &agents));
    aura_events_interner_destroy(agents);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        produce(port, n, batch);
        _exit(0);
    }
    long got = consume(port, n, batch);
    int st;
    waitpid(pid, &st, 0);
    double dt = now_s() - t0;
    printf("redis streams end to end: %ld of %ld events in %.3f s = %.0f events/s "
           "(batch %zu; producer and consumer are separate processes)\n",
           got, n, dt, (double)got / dt, batch);
    return got == n && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
