/* test_events_bus_mt.c -- the event bus under threads: several producers
 * against one dispatcher for each backpressure policy, with per-producer
 * sequence numbers (no loss, no duplicate, per-producer order) and payload
 * checks (no torn event); sleeping consumers woken by publishes; close
 * waking blocked producers and a sleeping dispatcher; the bias (one producer
 * publishing alone takes it, others take it away) under all of these.
 * SPDX-License-Identifier: MIT */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "aura/events_bus.h"
#include "test.h"

#define MAXP 4

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

/* Every field is a function of (producer, seq), so a torn copy shows. */
static aura_events_event make_event(uint32_t p, int64_t seq)
{
    aura_events_event e;
    memset(&e, 0, sizeof e);
    e.ts_us = seq;
    e.src = p;
    e.dst = (uint32_t)(seq * 7 + p);
    e.kind = (uint16_t)(seq % 3);
    e.trace = mix((uint64_t)seq * MAXP + p);
    e.span = ~e.trace;
    e.correlation = e.trace ^ 0x5555;
    e.tokens = (uint32_t)seq;
    e.latency_ms = (float)(seq & 1023);
    return e;
}

static int event_ok(const aura_events_event *e)
{
    aura_events_event w = make_event(e->src, e->ts_us);
    return memcmp(&w, e, sizeof w) == 0;
}

typedef struct stress {
    aura_events_bus *bus;
    aura_events_bus_policy policy;
    int n_prod;
    int64_t per_prod;
    _Atomic int finished;           /* producers done */
    int64_t last[MAXP];             /* consumer side: last seq seen per producer */
    int64_t got[MAXP];
    int64_t calls_seen;             /* filtered subscriber: CALL events */
    int bad;                        /* first failure code, 0 = none */
    int one_at_a_time;              /* publish only, never publish_batch */
    int stagger;                    /* producers > 0 start once producer 0 is half done */
    _Atomic int released;
} stress;

/* 1 if the bus can use its bias here (membarrier private expedited). */
static int bias_available(void)
{
    long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    return q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}

typedef struct prod_arg {
    stress *s;
    uint32_t id;
} prod_arg;

static void *producer(void *arg)
{
    prod_arg *pa = arg;
    stress *s = pa->s;
    aura_events_event buf[40];
    uint64_t rng = 0x1234567 + pa->id;
    int64_t seq = 0;
    while (s->stagger && pa->id > 0 && !atomic_load(&s->released)) {
        sched_yield();
    }
    while (seq < s->per_prod) {
        if (pa->id == 0 && seq >= s->per_prod / 2) {
            atomic_store(&s->released, 1);
        }
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = s->one_at_a_time ? 1 : 1 + (size_t)((rng >> 33) % 40);
        if ((int64_t)n > s->per_prod - seq) {
            n = (size_t)(s->per_prod - seq);
        }
        for (size_t i = 0; i < n; i++) {
            buf[i] = make_event(pa->id, seq + (int64_t)i);
        }
        aura_status st;
        size_t done = 0;
        if (n == 1) {
            st = aura_events_bus_publish(s->bus, buf);
            done = st == AURA_OK;
        } else {
            st = aura_events_bus_publish_batch(s->bus, buf, n, &done);
        }
        if (st == AURA_E_FULL) {
            sched_yield(); /* REJECT: nothing was published; try again */
            continue;
        }
        if (st != AURA_OK || done != n) {
            s->bad = 100 + (int)st;
            break;
        }
        seq += (int64_t)n;
    }
    atomic_store(&s->released, 1);
    atomic_fetch_add(&s->finished, 1);
    return NULL;
}

static void check_fn(void *ctx, const aura_events_event *evs, size_t n)
{
    stress *s = ctx;
    for (size_t i = 0; i < n && !s->bad; i++) {
        const aura_events_event *e = &evs[i];
        if (e->src >= (uint32_t)s->n_prod || !event_ok(e)) {
            s->bad = 1; /* torn or foreign event */
        } else if (s->policy == AURA_EVENTS_BUS_DROP_OLDEST ? e->ts_us <= s->last[e->src]
                                                             : e->ts_us != s->last[e->src] + 1) {
            s->bad = 2; /* lost, duplicated or reordered */
        } else {
            s->last[e->src] = e->ts_us;
            s->got[e->src]++;
        }
    }
}

static void calls_fn(void *ctx, const aura_events_event *evs, size_t n)
{
    stress *s = ctx;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].kind != AURA_EVENTS_CALL) {
            s->bad = 3;
        }
    }
    s->calls_seen += (int64_t)n;
}

/* Flags of run_stress_ex. */
enum { ONE_AT_A_TIME = 1, STAGGER = 2, SHARED = 4, TWO_LANES = 8 };

static void run_stress_ex(aura_events_bus_policy pol, size_t cap, int n_prod, int64_t per_prod,
                          int single, int flags, aura_events_bus_stats *out)
{
    static stress s;
    memset(&s, 0, sizeof s);
    s.one_at_a_time = (flags & ONE_AT_A_TIME) != 0;
    s.stagger = (flags & STAGGER) != 0;
    s.policy = pol;
    s.n_prod = n_prod;
    s.per_prod = per_prod;
    for (int p = 0; p < MAXP; p++) {
        s.last[p] = -1;
    }
    aura_events_bus_opts o = aura_events_bus_opts_default();
    o.capacity = cap;
    o.batch = 32;
    o.policy = pol;
    o.spin = 64;
    o.single_producer = single;
    if (flags & SHARED) {
        o.lanes = 0; /* every producer through the shared ring */
    } else if (flags & TWO_LANES) {
        o.lanes = 2; /* the others through the shared ring */
    }
    ASSERT_OK(aura_events_bus_create(&o, &s.bus));
    uint64_t id;
    ASSERT_OK(aura_events_bus_subscribe(s.bus, AURA_EVENTS_BUS_ALL_KINDS, check_fn, &s, &id));
    ASSERT_OK(aura_events_bus_subscribe(s.bus, AURA_EVENTS_BUS_KIND(AURA_EVENTS_CALL), calls_fn,
                                        &s, &id));
    pthread_t th[MAXP];
    prod_arg args[MAXP];
    for (int p = 0; p < n_prod; p++) {
        args[p] = (prod_arg){&s, (uint32_t)p};
        ASSERT_EQ(0, pthread_create(&th[p], NULL, producer, &args[p]));
    }
    for (;;) {
        int fin = atomic_load(&s.finished) == n_prod; /* before the drain */
        size_t n = 0;
        ASSERT_OK(aura_events_bus_dispatch(s.bus, SIZE_MAX, 10, &n));
        if (fin && n == 0) {
            break;
        }
    }
    for (int p = 0; p < n_prod; p++) {
        pthread_join(th[p], NULL);
    }
    ASSERT_EQ(0, s.bad);
    aura_events_bus_stats st;
    aura_events_bus_get_stats(s.bus, &st);
    int64_t total = n_prod * per_prod, got = 0;
    for (int p = 0; p < n_prod; p++) {
        got += s.got[p];
        if (pol != AURA_EVENTS_BUS_DROP_OLDEST) {
            ASSERT_EQ(per_prod, s.got[p]);
            ASSERT_EQ(per_prod - 1, s.last[p]);
        }
    }
    ASSERT_EQ(total, st.published);
    ASSERT_EQ(got, st.dispatched);
    ASSERT_EQ(total, st.dispatched + st.dropped);
    ASSERT_EQ(0, st.queued);
    ASSERT_EQ(got + s.calls_seen, st.delivered);
    if (pol != AURA_EVENTS_BUS_DROP_OLDEST) {
        ASSERT_EQ(0, st.dropped);
        ASSERT_EQ((per_prod + 2) / 3 * n_prod, s.calls_seen); /* seq % 3 == 0 */
    }
    if (pol != AURA_EVENTS_BUS_REJECT) {
        ASSERT_EQ(0, st.rejected);
    }
    if (single) {
        ASSERT_EQ(0, st.bias_changes);
    }
    if (single || (flags & SHARED) || !bias_available()) {
        ASSERT_EQ(0, st.lanes);
    } else {
        /* one per producer, at most (a lane is reused once its thread exits) */
        ASSERT_TRUE(st.lanes >= 1 && st.lanes <= (flags & TWO_LANES ? 2u : (uint32_t)n_prod));
    }
    if (out) {
        *out = st;
    }
    aura_events_bus_destroy(s.bus);
}

static void run_stress(aura_events_bus_policy pol, size_t cap, int n_prod, int64_t per_prod,
                       int single)
{
    run_stress_ex(pol, cap, n_prod, per_prod, single, 0, NULL);
}

/* Lanes (the default): one per producer. */
AURA_TEST(events_bus_mt_block_no_loss_no_dup_in_order)
{
    run_stress(AURA_EVENTS_BUS_BLOCK, 64, 4, 200000, 0);
    run_stress_ex(AURA_EVENTS_BUS_BLOCK, 64, 4, 100000, 0, ONE_AT_A_TIME, NULL);
}

AURA_TEST(events_bus_mt_reject_with_retry_no_loss)
{
    run_stress(AURA_EVENTS_BUS_REJECT, 64, 3, 100000, 0);
}

AURA_TEST(events_bus_mt_drop_oldest_no_dup_in_order)
{
    run_stress(AURA_EVENTS_BUS_DROP_OLDEST, 32, 4, 200000, 0);
    run_stress_ex(AURA_EVENTS_BUS_DROP_OLDEST, 32, 4, 100000, 0, ONE_AT_A_TIME, NULL);
}

/* The shared ring alone (lanes = 0), and lanes and the shared ring
 * together (2 lanes, 4 producers), each policy. */
AURA_TEST(events_bus_mt_shared_ring_and_mixed_each_policy)
{
    static const aura_events_bus_policy pols[] = {AURA_EVENTS_BUS_BLOCK, AURA_EVENTS_BUS_REJECT,
                                                  AURA_EVENTS_BUS_DROP_OLDEST};
    for (int i = 0; i < 3; i++) {
        size_t cap = pols[i] == AURA_EVENTS_BUS_DROP_OLDEST ? 32 : 64;
        run_stress_ex(pols[i], cap, 4, 60000, 0, SHARED, NULL);
        run_stress_ex(pols[i], cap, 4, 60000, 0, TWO_LANES, NULL);
        run_stress_ex(pols[i], cap, 4, 30000, 0, TWO_LANES | ONE_AT_A_TIME, NULL);
    }
}

AURA_TEST(events_bus_mt_one_producer_large_ring)
{
    run_stress(AURA_EVENTS_BUS_BLOCK, 4096, 1, 500000, 0);
}

/* Producer 0 publishes half its events alone (it takes the bias after
 * 1024 claims in a row), then the others start and take the bias away;
 * one-event publishes (the owner's fast path) and batches, each policy. */
AURA_TEST(events_bus_mt_bias_taken_and_revoked_each_policy)
{
    static const aura_events_bus_policy pols[] = {AURA_EVENTS_BUS_BLOCK, AURA_EVENTS_BUS_REJECT,
                                                  AURA_EVENTS_BUS_DROP_OLDEST};
    for (int flags = STAGGER; flags <= (STAGGER | ONE_AT_A_TIME); flags += ONE_AT_A_TIME) {
        for (int i = 0; i < 3; i++) {
            aura_events_bus_stats st;
            size_t cap = pols[i] == AURA_EVENTS_BUS_DROP_OLDEST ? 32 : 256;
            run_stress_ex(pols[i], cap, 3, 60000, 0, flags | SHARED, &st);
            if (bias_available() && pols[i] == AURA_EVENTS_BUS_BLOCK) {
                /* taken while producer 0 was alone; given up to the others
                 * at the latest when producer 0 finished */
                ASSERT_TRUE(st.bias_changes >= 1);
            }
        }
    }
}

AURA_TEST(events_bus_mt_single_producer_mode_each_policy)
{
    run_stress(AURA_EVENTS_BUS_BLOCK, 64, 1, 200000, 1);
    run_stress(AURA_EVENTS_BUS_DROP_OLDEST, 32, 1, 200000, 1);
    run_stress(AURA_EVENTS_BUS_REJECT, 64, 1, 100000, 1);
}

/* ---- a trickle: the consumer sleeps between events and is woken ---- */

typedef struct trickle {
    aura_events_bus *bus;
    int64_t next, total;
    int bad;
} trickle;

static void trickle_fn(void *ctx, const aura_events_event *evs, size_t n)
{
    trickle *t = ctx;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].ts_us != t->next++) {
            t->bad = 1;
        }
    }
}

static void *trickle_consumer(void *arg)
{
    trickle *t = arg;
    while (t->next < t->total) {
        size_t n;
        if (aura_events_bus_dispatch(t->bus, SIZE_MAX, -1, &n) != AURA_OK) {
            t->bad = 2;
            break;
        }
    }
    return NULL;
}

/* `burst` events at full speed first (enough claims in a row to take the
 * bias in multi-producer mode), then 200 with pauses, so that the consumer
 * sleeps between them. */
static void trickle_run(int single, int burst, size_t lanes)
{
    aura_events_bus_opts o = aura_events_bus_opts_default();
    o.capacity = 64;
    o.batch = 16;
    o.spin = 0; /* sleep at once */
    o.single_producer = single;
    o.lanes = lanes;
    static trickle t;
    memset(&t, 0, sizeof t);
    t.total = burst + 200;
    ASSERT_OK(aura_events_bus_create(&o, &t.bus));
    uint64_t id;
    ASSERT_OK(aura_events_bus_subscribe(t.bus, AURA_EVENTS_BUS_ALL_KINDS, trickle_fn, &t, &id));
    pthread_t th;
    ASSERT_EQ(0, pthread_create(&th, NULL, trickle_consumer, &t));
    for (int i = 0; i < t.total; i++) {
        aura_events_event e = make_event(0, i);
        ASSERT_OK(aura_events_bus_publish(t.bus, &e));
        if (i >= burst && i % 10 == 0) {
            struct timespec ts = {0, 200000};
            nanosleep(&ts, NULL);
        }
    }
    pthread_join(th, NULL); /* hangs (test timeout) if a wake-up is lost */
    ASSERT_EQ(0, t.bad);
    ASSERT_EQ(t.total, t.next);
    aura_events_bus_stats st;
    aura_events_bus_get_stats(t.bus, &st);
    ASSERT_EQ(t.total, st.published);
    if (!single && lanes == 0 && burst > 0 && bias_available()) {
        ASSERT_EQ(1, st.bias_changes); /* taken, never lost: the owned sleep was used */
    }
    aura_events_bus_destroy(t.bus);
}

AURA_TEST(events_bus_mt_sleeping_consumer_is_woken)
{
    trickle_run(0, 0, 16); /* a lane's owner (cons_sleeping, membarrier) */
    trickle_run(0, 0, 0); /* CAS claims on the shared ring (SLEEPING bit) */
    trickle_run(1, 0, 16); /* the membarrier handshake of single-producer mode */
    trickle_run(0, 5000, 0); /* the bias holder's handshake (cons_sleeping) */
}

/* ---- close ---- */

typedef struct closer {
    aura_events_bus *bus;
    aura_status st;
    size_t done;
    size_t n; /* events to publish in one batch */
} closer;

static void *blocked_producer(void *arg)
{
    closer *c = arg;
    aura_events_event e[20];
    for (size_t i = 0; i < c->n; i++) {
        e[i] = make_event(0, 100 + (int64_t)i);
    }
    c->st = aura_events_bus_publish_batch(c->bus, e, c->n, &c->done);
    return NULL;
}

static void *sleeping_dispatcher(void *arg)
{
    closer *c = arg;
    c->st = aura_events_bus_dispatch(c->bus, SIZE_MAX, -1, &c->done);
    return NULL;
}

/* lanes: each producer blocks on its own full lane (16 of its 20 events in);
 * shared ring: on the ring the test thread filled (none of its 4 in). */
static void close_run(size_t lanes)
{
    aura_events_bus_opts o = aura_events_bus_opts_default();
    o.capacity = 16;
    o.batch = 16;
    o.spin = 8;
    o.lanes = lanes;
    int own = lanes > 0 && bias_available(); /* lanes need membarrier */
    size_t n_each = own ? 20 : 4, in_each = own ? 16 : 0;
    aura_events_bus *bus = NULL;
    ASSERT_OK(aura_events_bus_create(&o, &bus));
    aura_events_event evs[16];
    for (int i = 0; i < 16; i++) {
        evs[i] = make_event(0, i);
    }
    ASSERT_OK(aura_events_bus_publish_batch(bus, evs, 16, NULL)); /* full */
    closer c1 = {bus, AURA_OK, 99, n_each}, c2 = {bus, AURA_OK, 99, n_each};
    pthread_t t1, t2;
    ASSERT_EQ(0, pthread_create(&t1, NULL, blocked_producer, &c1));
    ASSERT_EQ(0, pthread_create(&t2, NULL, blocked_producer, &c2));
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL); /* let them block (the test holds either way) */
    aura_events_bus_close(bus);
    aura_events_bus_close(bus);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    ASSERT_STATUS(AURA_E_STATE, c1.st);
    ASSERT_STATUS(AURA_E_STATE, c2.st);
    ASSERT_EQ(in_each, c1.done);
    ASSERT_EQ(in_each, c2.done);
    ASSERT_STATUS(AURA_E_STATE, aura_events_bus_publish(bus, evs));
    ASSERT_STATUS(AURA_E_STATE, aura_events_bus_publish_batch(bus, evs, 2, NULL));
    closer late = {bus, AURA_OK, 99, 1}; /* a thread whose lane is new after close */
    pthread_t tl;
    ASSERT_EQ(0, pthread_create(&tl, NULL, blocked_producer, &late));
    pthread_join(tl, NULL);
    ASSERT_STATUS(AURA_E_STATE, late.st);
    ASSERT_EQ(0, late.done);
    aura_events_bus_stats st;
    aura_events_bus_get_stats(bus, &st);
    ASSERT_EQ(16 + 2 * in_each, st.published);
    ASSERT_EQ(16 + 2 * in_each, st.queued);
    ASSERT_TRUE(own ? st.lanes >= 3 : st.lanes == 0);
    size_t n = 0;
    ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, -1, &n)); /* drains every lane */
    ASSERT_EQ(16 + 2 * in_each, n);
    ASSERT_STATUS(AURA_E_STATE, aura_events_bus_dispatch(bus, SIZE_MAX, -1, &n));
    ASSERT_EQ(0, n);
    aura_events_bus_destroy(bus);

    /* a dispatcher asleep on an empty bus */
    ASSERT_OK(aura_events_bus_create(&o, &bus));
    closer c3 = {bus, AURA_OK, 99, 0};
    pthread_t t3;
    ASSERT_EQ(0, pthread_create(&t3, NULL, sleeping_dispatcher, &c3));
    nanosleep(&ts, NULL);
    aura_events_bus_close(bus);
    pthread_join(t3, NULL);
    ASSERT_STATUS(AURA_E_STATE, c3.st);
    ASSERT_EQ(0, c3.done);
    aura_events_bus_destroy(bus);
}

AURA_TEST(events_bus_mt_close_wakes_producers_and_dispatcher)
{
    close_run(16);
    close_run(0);
}

/* ---- lanes come and go with threads ---- */

#define WAVE_THREADS 3
#define WAVE_EVENTS 100

typedef struct wave {
    aura_events_bus *bus;
    pthread_barrier_t *all_in; /* every thread of the wave holds a lane */
    uint32_t id;
    int bad;
} wave;

static void *wave_producer(void *arg)
{
    wave *w = arg;
    for (int64_t seq = 0; seq < WAVE_EVENTS && !w->bad; seq++) {
        if (seq == 1) {
            pthread_barrier_wait(w->all_in);
        }
        aura_events_event e = make_event(w->id, seq);
        if (aura_events_bus_publish(w->bus, &e) != AURA_OK) {
            w->bad = 1;
        }
    }
    return NULL;
}

typedef struct wave_check {
    int64_t last[3 * WAVE_THREADS];
    int64_t got;
    int bad;
} wave_check;

static void wave_fn(void *ctx, const aura_events_event *evs, size_t n)
{
    wave_check *c = ctx;
    for (size_t i = 0; i < n; i++) {
        uint32_t p = evs[i].src;
        if (p >= 3 * WAVE_THREADS || evs[i].ts_us != c->last[p] + 1) {
            c->bad = 1;
            return;
        }
        c->last[p] = evs[i].ts_us;
        c->got++;
    }
}

/* Three waves of three producer threads; each wave exits before the next
 * starts, the first wave's events still queued.  The lanes are handed back
 * at thread exit and reused (3 lanes in all), and every producer's events
 * arrive complete and in order. */
AURA_TEST(events_bus_mt_lanes_are_reused_when_threads_exit)
{
    aura_events_bus_opts o = aura_events_bus_opts_default();
    o.capacity = 1024;
    aura_events_bus *bus = NULL;
    ASSERT_OK(aura_events_bus_create(&o, &bus));
    static wave_check c;
    memset(&c, 0, sizeof c);
    for (int p = 0; p < 3 * WAVE_THREADS; p++) {
        c.last[p] = -1;
    }
    uint64_t id;
    ASSERT_OK(aura_events_bus_subscribe(bus, AURA_EVENTS_BUS_ALL_KINDS, wave_fn, &c, &id));
    for (int k = 0; k < 3; k++) {
        pthread_t th[WAVE_THREADS];
        wave w[WAVE_THREADS];
        pthread_barrier_t all_in;
        ASSERT_EQ(0, pthread_barrier_init(&all_in, NULL, WAVE_THREADS));
        for (int i = 0; i < WAVE_THREADS; i++) {
            w[i] = (wave){bus, &all_in, (uint32_t)(k * WAVE_THREADS + i), 0};
            ASSERT_EQ(0, pthread_create(&th[i], NULL, wave_producer, &w[i]));
        }
        for (int i = 0; i < WAVE_THREADS; i++) {
            pthread_join(th[i], NULL);
            ASSERT_EQ(0, w[i].bad);
        }
        pthread_barrier_destroy(&all_in);
        if (k > 0) { /* the first wave's events wait in the lanes the second reuses */
            size_t n = 0;
            ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
        }
    }
    ASSERT_EQ(0, c.bad);
    ASSERT_EQ(3 * WAVE_THREADS * WAVE_EVENTS, c.got);
    aura_events_bus_stats st;
    aura_events_bus_get_stats(bus, &st);
    ASSERT_EQ(bias_available() ? WAVE_THREADS : 0, st.lanes);
    ASSERT_EQ(3 * WAVE_THREADS * WAVE_EVENTS, st.published);
    ASSERT_EQ(0, st.queued);
    aura_events_bus_destroy(bus);
}

/* ---- backpressure per lane ---- */

typedef struct filler {
    aura_events_bus *bus;
    int ok, full;
} filler;

static void *fill_own_lane(void *arg)
{
    filler *f = arg;
    for (int i = 0; i < 20; i++) {
        aura_events_event e = make_event(1, i);
        aura_status st = aura_events_bus_publish(f->bus, &e);
        f->ok += st == AURA_OK;
        f->full += st == AURA_E_FULL;
    }
    return NULL;
}

/* REJECT: the test thread fills its lane (16 in, 4 rejected); another
 * thread still gets all the room of its own lane (16 in, 4 rejected). */
AURA_TEST(events_bus_mt_backpressure_is_per_lane)
{
    if (!bias_available()) {
        return; /* no membarrier: no lanes, one shared ring */
    }
    aura_events_bus_opts o = aura_events_bus_opts_default();
    o.capacity = 16;
    o.batch = 16;
    o.policy = AURA_EVENTS_BUS_REJECT;
    aura_events_bus *bus = NULL;
    ASSERT_OK(aura_events_bus_create(&o, &bus));
    filler mine = {bus, 0, 0}, other = {bus, 0, 0};
    fill_own_lane(&mine);
    pthread_t th;
    ASSERT_EQ(0, pthread_create(&th, NULL, fill_own_lane, &other));
    pthread_join(th, NULL);
    ASSERT_EQ(16, mine.ok);
    ASSERT_EQ(4, mine.full);
    ASSERT_EQ(16, other.ok);
    ASSERT_EQ(4, other.full);
    aura_events_bus_stats st;
    aura_events_bus_get_stats(bus, &st);
    ASSERT_EQ(32, st.published);
    ASSERT_EQ(8, st.rejected);
    ASSERT_EQ(32, st.queued);
    size_t n = 0;
    ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
    ASSERT_EQ(32, n);
    aura_events_bus_destroy(bus);
}
