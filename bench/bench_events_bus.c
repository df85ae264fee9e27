/* bench_events_bus.c -- throughput of aura_events_bus against two queues
 * written here for comparison, a plain SPSC ring (Lamport, cached indices,
 * busy-waiting) and a bounded mutex+condvar queue, and against Concurrency
 * Kit's ck_ring (SPSC and MPSC, busy-waiting; Debian libck-dev, compiled in
 * when <ck_ring.h> is present).  64-byte events; the consumer reads every
 * event (sums a field) in all of them.
 *
 * Cases:  1p1c   one producer, one consumer, pinned to CPUs 0 and 1
 *         2p1c   two producers, one consumer (not pinned)
 *         hog    1p1c not pinned, with a CPU-bound process sharing the cores
 *         hogpin (only when asked for) the producer and the CPU-bound process
 *                pinned to CPU 0, the consumer to CPU 1
 * Each figure is the best of --runs runs (the machine is shared).
 * Usage: bench_events_bus [--n EVENTS] [--runs R] [--case 1p1c|2p1c|hog|hogpin|all]
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aura/events_bus.h"

#if defined(__has_include)
#if __has_include(<ck_ring.h>)
#include <ck_ring.h>
#define HAVE_CK 1
#endif
#endif
#ifndef HAVE_CK
#define HAVE_CK 0
#endif

#define CAP 8192      /* slots in every queue */
#define PUB_BATCH 32  /* events per publish_batch call */
#define MAXP 2

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void pin(int cpu)
{
    if (cpu < 0) {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static aura_events_event g_src[PUB_BATCH]; /* what producers send */

/* ---- the plain SPSC ring ---- */

typedef struct spsc {
    _Alignas(64) _Atomic uint64_t head; /* consumer's line */
    uint64_t tail_cache;
    _Alignas(64) _Atomic uint64_t tail; /* producer's line */
    uint64_t head_cache;
    _Alignas(64) aura_events_event buf[CAP];
} spsc;

static void spsc_push(spsc *q, const aura_events_event *ev)
{
    uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    while (t - q->head_cache == CAP) {
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        if (t - q->head_cache == CAP) {
            cpu_pause();
        }
    }
    q->buf[t & (CAP - 1)] = *ev;
    atomic_store_explicit(&q->tail, t + 1, memory_order_release);
}

/* Processes one event in place; 0 if empty. */
static int spsc_pop(spsc *q, uint64_t *sum)
{
    uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (h == q->tail_cache) {
        q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (h == q->tail_cache) {
            return 0;
        }
    }
    *sum += (uint64_t)q->buf[h & (CAP - 1)].ts_us;
    atomic_store_explicit(&q->head, h + 1, memory_order_release);
    return 1;
}

/* ---- the mutex + condvar queue ---- */

typedef struct mq {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    int ne_waiters, nf_waiters;
    uint64_t head, tail;
    aura_events_event buf[CAP];
} mq;

static void mq_push(mq *q, const aura_events_event *ev)
{
    pthread_mutex_lock(&q->mu);
    while (q->tail - q->head == CAP) {
        q->nf_waiters++;
        pthread_cond_wait(&q->not_full, &q->mu);
        q->nf_waiters--;
    }
    q->buf[q->tail++ & (CAP - 1)] = *ev;
    if (q->ne_waiters) {
        pthread_cond_signal(&q->not_empty);
    }
    pthread_mutex_unlock(&q->mu);
}

/* Takes up to 256 events at once (one lock per batch), then processes them. */
static size_t mq_pop(mq *q, uint64_t *sum)
{
    aura_events_event local[256];
    pthread_mutex_lock(&q->mu);
    while (q->tail == q->head) {
        q->ne_waiters++;
        pthread_cond_wait(&q->not_empty, &q->mu);
        q->ne_waiters--;
    }
    size_t n = 0;
    while (n < 256 && q->head != q->tail) {
        local[n++] = q->buf[q->head++ & (CAP - 1)];
    }
    if (q->nf_waiters) {
        pthread_cond_broadcast(&q->not_full);
    }
    pthread_mutex_unlock(&q->mu);
    for (size_t i = 0; i < n; i++) {
        *sum += (uint64_t)local[i].ts_us;
    }
    return n;
}

/* ---- Concurrency Kit's ring (typed: 64-byte entries in the buffer) ---- */

#if HAVE_CK
struct ckev {
    aura_events_event e;
};
CK_RING_PROTOTYPE(ev, ckev)

typedef struct ckq {
    struct ck_ring ring;
    _Alignas(64) struct ckev buf[CAP];
} ckq;

static void ck_push(ckq *q, const aura_events_event *ev, int mp)
{
    struct ckev e = {*ev};
    while (!(mp ? ck_ring_enqueue_mpsc_ev(&q->ring, q->buf, &e)
                : ck_ring_enqueue_spsc_ev(&q->ring, q->buf, &e))) {
        cpu_pause();
    }
}

static int ck_pop(ckq *q, uint64_t *sum)
{
    struct ckev e;
    if (!ck_ring_dequeue_spsc_ev(&q->ring, q->buf, &e)) { /* single consumer: same code */
        return 0;
    }
    *sum += (uint64_t)e.e.ts_us;
    return 1;
}
#endif

/* ---- one run ---- */

enum impl {
    SPSC,
    MUTEX,
    BUS_ONE,
    BUS_BATCH,
    BUS_SP_ONE,
    BUS_ONE_NOBIAS,
    BUS_ONE_RING,
    CK_SPSC,
    CK_MPSC,
    N_IMPL
};
static const char *const impl_names[] = {
    "spsc ring (bench)",          "mutex+condvar (bench)",       "aura bus, publish 1/call",
    "aura bus, publish_batch 32", "aura bus single-prod., 1/call", "aura bus 1/call, ring no bias",
    "aura bus 1/call, ring + bias", "ck_ring spsc (libck)",        "ck_ring mpsc (libck)"};

static int is_ck(enum impl k)
{
    return k == CK_SPSC || k == CK_MPSC;
}

typedef struct run {
    enum impl impl;
    int n_prod;
    int pinned;
    uint64_t per_prod;
    spsc *sq;
    mq *mq;
    void *ck;
    aura_events_bus *bus;
    _Atomic int ready;
    _Atomic int go;
    uint64_t got, sum;
    uint64_t calls, dcalls; /* bus: callbacks, dispatch calls */
} run;

typedef struct parg {
    run *r;
    int id;
} parg;

static void start_line(run *r)
{
    atomic_fetch_add(&r->ready, 1);
    while (!atomic_load(&r->go)) {
        cpu_pause();
    }
}

static void *producer(void *arg)
{
    parg *pa = arg;
    run *r = pa->r;
    pin(r->pinned ? 0 : -1);
    start_line(r);
    uint64_t n = r->per_prod;
    switch (r->impl) {
    case SPSC:
        for (uint64_t i = 0; i < n; i++) {
            spsc_push(r->sq, &g_src[i & (PUB_BATCH - 1)]);
        }
        break;
    case MUTEX:
        for (uint64_t i = 0; i < n; i++) {
            mq_push(r->mq, &g_src[i & (PUB_BATCH - 1)]);
        }
        break;
#if HAVE_CK
    case CK_SPSC:
    case CK_MPSC:
        for (uint64_t i = 0; i < n; i++) {
            ck_push(r->ck, &g_src[i & (PUB_BATCH - 1)], r->impl == CK_MPSC);
        }
        break;
#endif
    case BUS_ONE:
    case BUS_SP_ONE:
    case BUS_ONE_NOBIAS:
    case BUS_ONE_RING:
        for (uint64_t i = 0; i < n; i++) {
            aura_events_bus_publish(r->bus, &g_src[i & (PUB_BATCH - 1)]);
        }
        break;
    case BUS_BATCH:
        for (uint64_t i = 0; i < n; i += PUB_BATCH) {
            aura_events_bus_publish_batch(r->bus, g_src, PUB_BATCH, NULL);
        }
        break;
    default:
        break;
    }
    return NULL;
}

static void sub_fn(void *ctx, const aura_events_event *evs, size_t n)
{
    run *r = ctx;
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) {
        s += (uint64_t)evs[i].ts_us;
    }
    r->sum += s;
    r->got += n;
    r->calls++;
}

static void consume(run *r, uint64_t total)
{
    switch (r->impl) {
    case SPSC:
        while (r->got < total) {
            if (spsc_pop(r->sq, &r->sum)) {
                r->got++;
            } else {
                cpu_pause();
            }
        }
        break;
    case MUTEX:
        while (r->got < total) {
            r->got += mq_pop(r->mq, &r->sum);
        }
        break;
#if HAVE_CK
    case CK_SPSC:
    case CK_MPSC:
        while (r->got < total) {
            if (ck_pop(r->ck, &r->sum)) {
                r->got++;
            } else {
                cpu_pause();
            }
        }
        break;
#endif
    default:
        while (r->got < total) {
            aura_events_bus_dispatch(r->bus, SIZE_MAX, -1, NULL);
            r->dcalls++;
        }
        break;
    }
}

/* Creates the queue of r->impl; 0 on success. */
static int setup(run *r)
{
    enum impl impl = r->impl;
    if (impl == SPSC) {
        r->sq = aligned_alloc(64, sizeof(spsc));
        memset(r->sq, 0, sizeof(spsc));
    } else if (impl == MUTEX) {
        r->mq = calloc(1, sizeof(mq));
        pthread_mutex_init(&r->mq->mu, NULL);
        pthread_cond_init(&r->mq->not_empty, NULL);
        pthread_cond_init(&r->mq->not_full, NULL);
    } else if (is_ck(impl)) {
#if HAVE_CK
        ckq *q = aligned_alloc(64, sizeof(ckq));
        memset(q, 0, sizeof(ckq));
        ck_ring_init(&q->ring, CAP);
        r->ck = q;
#else
        return 1;
#endif
    } else {
        aura_events_bus_opts o = aura_events_bus_opts_default();
        o.capacity = CAP;
        o.single_producer = impl == BUS_SP_ONE;
        o.owner_bias = impl != BUS_ONE_NOBIAS;
        if (impl == BUS_ONE_NOBIAS || impl == BUS_ONE_RING) {
            o.lanes = 0; /* the shared ring, as before lanes */
        }
        uint64_t id;
        if (aura_events_bus_create(&o, &r->bus) != AURA_OK ||
            aura_events_bus_subscribe(r->bus, AURA_EVENTS_BUS_ALL_KINDS, sub_fn, r, &id) !=
                AURA_OK) {
            return 1;
        }
    }
    return 0;
}

static void teardown(run *r)
{
    aura_events_bus_destroy(r->bus);
    free(r->sq);
    free(r->ck);
    if (r->mq) {
        pthread_mutex_destroy(&r->mq->mu);
        pthread_cond_destroy(&r->mq->not_empty);
        pthread_cond_destroy(&r->mq->not_full);
        free(r->mq);
    }
}

/* Events per second of one run, or 0 on a failure. */
static double one_run(enum impl impl, int n_prod, int pinned, uint64_t n_total)
{
    static run r;
    memset(&r, 0, sizeof r);
    r.impl = impl;
    r.n_prod = n_prod;
    r.pinned = pinned;
    r.per_prod = (n_total / (uint64_t)n_prod) / PUB_BATCH * PUB_BATCH;
    uint64_t total = r.per_prod * (uint64_t)n_prod;
    if (setup(&r) != 0) {
        return 0;
    }
    pin(pinned ? 1 : -1);
    pthread_t th[MAXP];
    parg pa[MAXP];
    for (int p = 0; p < n_prod; p++) {
        pa[p] = (parg){&r, p};
        pthread_create(&th[p], NULL, producer, &pa[p]);
    }
    while (atomic_load(&r.ready) < n_prod) {
        sched_yield();
    }
    double t0 = now_s();
    atomic_store(&r.go, 1);
    consume(&r, total);
    double dt = now_s() - t0;
    for (int p = 0; p < n_prod; p++) {
        pthread_join(th[p], NULL);
    }
    uint64_t want = 0;
    for (uint64_t i = 0; i < total; i++) {
        want += (uint64_t)g_src[i & (PUB_BATCH - 1)].ts_us;
    }
    int ok = r.got == total && r.sum == want;
    if (r.bus) {
        aura_events_bus_stats st;
        aura_events_bus_get_stats(r.bus, &st);
        ok = ok && st.published == total && st.dispatched == total;
        if (getenv("BENCH_VERBOSE")) {
            fprintf(stderr,
                    "  [%s: waits %llu sleeps %llu bias changes %llu lanes %u;"
                    " events per callback %.1f, per dispatch call %.1f]\n",
                    impl_names[impl], (unsigned long long)st.waits,
                    (unsigned long long)st.sleeps, (unsigned long long)st.bias_changes,
                    st.lanes, (double)r.got / (double)(r.calls ? r.calls : 1),
                    (double)r.got / (double)(r.dcalls ? r.dcalls : 1));
        }
    }
    teardown(&r);
    pin(-1);
    if (!ok) {
        fprintf(stderr, "bench: %s lost or corrupted events\n", impl_names[impl]);
        return 0;
    }
    return (double)total / dt;
}

static cpu_set_t g_start_cpus; /* the affinity the benchmark started with (taskset) */

static void unpin_main(void)
{
    pthread_setaffinity_np(pthread_self(), sizeof g_start_cpus, &g_start_cpus);
}

/* Single-threaded round trips (32 in, 32 out) for instruction counts under
 * callgrind: the path length of each queue without cache effects. */
static int single_thread(enum impl impl, uint64_t n)
{
    static run r;
    memset(&r, 0, sizeof r);
    r.impl = impl;
    if (setup(&r) != 0) {
        return 1;
    }
    for (uint64_t i = 0; i < n; i += PUB_BATCH) {
        for (int j = 0; j < PUB_BATCH; j++) {
            if (impl == SPSC) {
                spsc_push(r.sq, &g_src[j]);
            } else if (impl == MUTEX) {
                mq_push(r.mq, &g_src[j]);
#if HAVE_CK
            } else if (is_ck(impl)) {
                ck_push(r.ck, &g_src[j], impl == CK_MPSC);
#endif
            } else if (impl != BUS_BATCH) {
                aura_events_bus_publish(r.bus, &g_src[j]);
            }
        }
        if (impl == BUS_BATCH) {
            aura_events_bus_publish_batch(r.bus, g_src, PUB_BATCH, NULL);
        }
        if (impl == SPSC) {
            for (int j = 0; j < PUB_BATCH; j++) {
                r.got += (uint64_t)spsc_pop(r.sq, &r.sum);
            }
        } else if (impl == MUTEX) {
            r.got += mq_pop(r.mq, &r.sum);
#if HAVE_CK
        } else if (is_ck(impl)) {
            for (int j = 0; j < PUB_BATCH; j++) {
                r.got += (uint64_t)ck_pop(r.ck, &r.sum);
            }
#endif
        } else {
            aura_events_bus_dispatch(r.bus, SIZE_MAX, 0, NULL);
        }
    }
    printf("%s: %llu events, checksum %llu", impl_names[impl], (unsigned long long)r.got,
           (unsigned long long)r.sum);
    if (r.bus) {
        aura_events_bus_stats st;
        aura_events_bus_get_stats(r.bus, &st);
        printf(", bias changes %llu", (unsigned long long)st.bias_changes);
    }
    printf("\n");
    teardown(&r);
    return 0;
}

/* A CPU-bound child process; on CPU `cpu` if cpu >= 0. */
static pid_t start_hog(int cpu)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
        if (getppid() != parent) {
            _exit(0);
        }
        pin(cpu);
        volatile uint64_t x = 0;
        for (;;) {
            x++;
        }
    }
    return pid;
}

static void stop_hog(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

static const char *const st_names[] = {"st-spsc",   "st-mutex",  "st-bus1",   "st-busbatch",
                                       "st-bussp1", "st-bus1nb", "st-bus1rb", "st-ckspsc",
                                       "st-ckmpsc"};

/* BENCH_ONLY=bus1,bus1nb,mutex (names of --case st-*, without "st-"):
 * runs only those queues (profiling one at a time). */
static int selected(enum impl k)
{
    const char *only = getenv("BENCH_ONLY");
    if (!only || !*only) {
        return 1;
    }
    const char *name = st_names[k] + 3;
    size_t len = strlen(name);
    for (const char *p = only; *p;) {
        size_t w = strcspn(p, ",");
        if (w == len && strncmp(p, name, len) == 0) {
            return 1;
        }
        p += w + (p[w] == ',');
    }
    return 0;
}

static void report(const char *label, const enum impl *impls, int n_impl, int n_prod, int pinned,
                   uint64_t n, int runs, enum impl ref)
{
    double rate[N_IMPL] = {0};
    /* round robin, so that every implementation sees the same noise */
    for (int r = 0; r < runs; r++) {
        for (int i = 0; i < n_impl; i++) {
            if ((is_ck(impls[i]) && !HAVE_CK) || !selected(impls[i])) {
                continue;
            }
            double v = one_run(impls[i], n_prod, pinned, n);
            if (getenv("BENCH_VERBOSE")) {
                fprintf(stderr, "  %s run %d %-28s %8.2f M/s\n", label, r, impl_names[impls[i]],
                        v / 1e6);
            }
            unpin_main();
            rate[impls[i]] = v > rate[impls[i]] ? v : rate[impls[i]];
        }
    }
    for (int i = 0; i < n_impl; i++) {
        enum impl k = impls[i];
        if (!selected(k)) {
            continue;
        }
        if (is_ck(k) && !HAVE_CK) {
            printf("%-5s  %-28s (not built: no <ck_ring.h>; apt-get install libck-dev)\n", label,
                   impl_names[k]);
            continue;
        }
        printf("%-5s  %-28s %8.2f M/s", label, impl_names[k], rate[k] / 1e6);
        if (k != ref && rate[ref] > 0) {
            printf("   %5.2fx %s", rate[k] / rate[ref], ref == SPSC ? "spsc" : "mutex");
        }
        printf("\n");
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    uint64_t n = 20000000;
    int runs = 5;
    const char *which = "all";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--n") == 0) {
            n = strtoull(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--runs") == 0) {
            runs = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--case") == 0) {
            which = argv[i + 1];
        } else {
            fprintf(stderr, "usage: %s [--n EVENTS] [--runs R] [--case 1p1c|2p1c|hog|hogpin|all]\n",
                    argv[0]);
            return 2;
        }
    }
    pthread_getaffinity_np(pthread_self(), sizeof g_start_cpus, &g_start_cpus);
    if (n < 1000 || runs < 1) {
        fprintf(stderr, "bench: --n must be >= 1000 and --runs >= 1\n");
        return 2;
    }
    for (int i = 0; i < PUB_BATCH; i++) {
        g_src[i].ts_us = 1000 + i;
        g_src[i].kind = (uint16_t)(i % AURA_EVENTS_KIND_COUNT);
        g_src[i].src = (uint32_t)i;
    }
    printf("# 64-byte events, ring of %d slots, best of %d runs, %llu events a run\n", CAP, runs,
           (unsigned long long)n);
    for (int k = 0; k < N_IMPL; k++) {
        if (strcmp(which, st_names[k]) == 0) {
            return single_thread((enum impl)k, n);
        }
    }
    int all = strcmp(which, "all") == 0;
    if (!all && strcmp(which, "1p1c") != 0 && strcmp(which, "2p1c") != 0 &&
        strcmp(which, "hog") != 0 && strcmp(which, "hogpin") != 0) {
        fprintf(stderr, "bench: unknown case '%s'\n", which);
        return 2;
    }
    if (all || strcmp(which, "1p1c") == 0) {
        enum impl im[] = {SPSC,      CK_SPSC,    CK_MPSC,      MUTEX,         BUS_ONE,
                          BUS_BATCH, BUS_SP_ONE, BUS_ONE_RING, BUS_ONE_NOBIAS};
        report("1p1c", im, 9, 1, 1, n, runs, SPSC);
    }
    if (all || strcmp(which, "2p1c") == 0) {
        enum impl im[] = {MUTEX, CK_MPSC, BUS_ONE, BUS_BATCH, BUS_ONE_RING, BUS_ONE_NOBIAS};
        report("2p1c", im, 6, 2, 0, n, runs, MUTEX);
    }
    if (all || strcmp(which, "hog") == 0) {
        pid_t hog = start_hog(-1);
        enum impl im[] = {MUTEX,      SPSC,         CK_MPSC,       BUS_ONE,
                          BUS_BATCH,  BUS_SP_ONE,   BUS_ONE_RING,  BUS_ONE_NOBIAS};
        report("hog", im, 8, 1, 0, n / 4, runs, MUTEX);
        stop_hog(hog);
    }
    if (strcmp(which, "hogpin") == 0) { /* the hog case's worst placement, fixed */
        pid_t hog = start_hog(0);
        enum impl im[] = {MUTEX,      SPSC,         CK_MPSC,       BUS_ONE,
                          BUS_BATCH,  BUS_SP_ONE,   BUS_ONE_RING,  BUS_ONE_NOBIAS};
        report("hogp", im, 8, 1, 1, n / 4, runs, MUTEX);
        stop_hog(hog);
    }
    return 0;
}
