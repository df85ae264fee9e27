/* test_events_bus.c -- the event bus: single-thread semantics, filters,
 * batching, the three backpressure policies and their counters, deferred
 * unsubscribe, close, OOM, and multi-producer stress with per-producer
 * sequence checks (no loss, no duplicate, order kept per producer).
 * SPDX-License-Identifier: MIT */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "aura/events_bus.h"
#include "test.h"

static aura_events_event mk(uint32_t src, int64_t seq, aura_events_kind kind)
{
    aura_events_event e;
    memset(&e, 0, sizeof e);
    e.src = src;
    e.dst = AURA_EVENTS_NO_AGENT;
    e.ts_us = seq;
    e.kind = (uint16_t)kind;
    return e;
}

static aura_events_bus *mkbus(size_t cap, size_t batch, aura_events_bus_policy pol, int tmo)
{
    aura_events_bus_opts o = aura_events_bus_opts_default();
    o.capacity = cap;
    o.batch = batch;
    o.policy = pol;
    o.publish_timeout_ms = tmo;
    aura_events_bus *bus = NULL;
    ASSERT_OK(aura_events_bus_create(&o, &bus));
    return bus;
}

static aura_events_bus_stats stats(aura_events_bus *bus)
{
    aura_events_bus_stats st;
    aura_events_bus_get_stats(bus, &st);
    return st;
}

/* A recording subscriber: every event's ts_us, and the batch sizes. */
typedef struct rec {
    int64_t seen[4096];
    size_t n, calls, max_batch;
} rec;

static void rec_fn(void *ctx, const aura_events_event *evs, size_t n)
{
    rec *r = ctx;
    ASSERT_TRUE(n >= 1);
    r->calls++;
    if (n > r->max_batch) {
        r->max_batch = n;
    }
    for (size_t i = 0; i < n; i++) {
        ASSERT_TRUE(r->n < 4096);
        r->seen[r->n++] = evs[i].ts_us;
    }
}

AURA_TEST(events_bus_destroy_null_defaults_and_bad_opts)
{
    aura_events_bus_destroy(NULL);
    aura_events_bus_close(NULL);
    aura_events_bus_opts o = aura_events_bus_opts_default();
    ASSERT_EQ(8192, o.capacity);
    ASSERT_EQ(AURA_EVENTS_BUS_BLOCK, o.policy);
    ASSERT_EQ(-1, o.publish_timeout_ms);
    aura_events_bus *bus = (aura_events_bus *)&o; /* must stay untouched */
    o.capacity = 0;
    ASSERT_STATUS(AURA_E_INVAL, aura_events_bus_create(&o, &bus));
    o = aura_events_bus_opts_default();
    o.batch = o.capacity + 1;
    ASSERT_STATUS(AURA_E_INVAL, aura_events_bus_create(&o, &bus));
    o = aura_events_bus_opts_default();
    o.policy = (aura_events_bus_policy)7;
    ASSERT_STATUS(AURA_E_INVAL, aura_events_bus_create(&o, &bus));
    ASSERT_TRUE(bus == (aura_events_bus *)&o);
    ASSERT_OK(aura_events_bus_create(NULL, &bus));
    ASSERT_EQ(8192, stats(bus).capacity);
    aura_events_bus_destroy(bus);
    /* capacity rounds up to a power of two, at least 16 */
    bus = mkbus(17, 4, AURA_EVENTS_BUS_BLOCK, -1);
    ASSERT_EQ(32, stats(bus).capacity);
    aura_events_bus_destroy(bus);
    bus = mkbus(3, 1, AURA_EVENTS_BUS_BLOCK, -1);
    ASSERT_EQ(16, stats(bus).capacity);
    aura_events_bus_destroy(bus);
}

AURA_TEST(events_bus_policy_names_round_trip)
{
    for (int p = 0; p <= AURA_EVENTS_BUS_REJECT; p++) {
        aura_events_bus_policy q;
        const char *name = aura_events_bus_policy_name((aura_events_bus_policy)p);
        ASSERT_TRUE(name != NULL);
        ASSERT_OK(aura_events_bus_policy_parse(name, &q));
        ASSERT_EQ(p, q);
    }
    aura_events_bus_policy q = AURA_EVENTS_BUS_REJECT;
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_events_bus_policy_parse("drop", &q));
    ASSERT_EQ(AURA_EVENTS_BUS_REJECT, q);
    ASSERT_TRUE(aura_events_bus_policy_name((aura_events_bus_policy)3) == NULL);
}

static void order_filters_and_counters(int single)
{
    aura_events_bus_opts o = aura_events_bus_opts_default();
    o.capacity = 64;
    o.batch = 8;
    o.single_producer = single;
    aura_events_bus *bus = NULL;
    ASSERT_OK(aura_events_bus_create(&o, &bus));
    static rec all, calls, custom;
    memset(&all, 0, sizeof all);
    memset(&calls, 0, sizeof calls);
    memset(&custom, 0, sizeof custom);
    uint64_t id1 = 0, id2 = 0, id3 = 0;
    ASSERT_STATUS(AURA_E_INVAL, aura_events_bus_subscribe(bus, 0, rec_fn, &all, &id1));
    ASSERT_STATUS(AURA_E_INVAL, aura_events_bus_subscribe(bus, 1, NULL, &all, &id1));
    ASSERT_EQ(0, id1);
    ASSERT_OK(aura_events_bus_subscribe(bus, AURA_EVENTS_BUS_ALL_KINDS, rec_fn, &all, &id1));
    ASSERT_OK(aura_events_bus_subscribe(
        bus, AURA_EVENTS_BUS_KIND(AURA_EVENTS_CALL) | AURA_EVENTS_BUS_KIND(AURA_EVENTS_ERROR),
        rec_fn, &calls, &id2));
    ASSERT_OK(aura_events_bus_subscribe(bus, AURA_EVENTS_BUS_KIND(40), rec_fn, &custom, &id3));
    ASSERT_TRUE(id1 >= 1 && id2 > id1 && id3 > id2);
    ASSERT_EQ(3, stats(bus).subscribers);

    /* 300 events through a 64-slot ring, in rounds, wrapping several times */
    size_t n_calls = 0, n_custom = 0;
    for (int round = 0; round < 5; round++) {
        aura_events_event evs[60];
        for (int i = 0; i < 60; i++) {
            int64_t seq = round * 60 + i;
            aura_events_kind k = (aura_events_kind)(seq % 4);
            evs[i] = mk(1, seq, k);
            if (seq % 7 == 0) {
                evs[i].kind = 33; /* custom numeric kind: bit 31 */
                n_custom++;
            } else if (k == AURA_EVENTS_CALL || k == AURA_EVENTS_ERROR) {
                n_calls++;
            }
        }
        size_t done = 0;
        ASSERT_OK(aura_events_bus_publish_batch(bus, evs, 60, &done));
        ASSERT_EQ(60, done);
        size_t got = 0, n = 0;
        while (got < 60) {
            ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
            ASSERT_TRUE(n > 0);
            got += n;
        }
        ASSERT_EQ(60, got);
    }
    ASSERT_EQ(300, all.n);
    for (size_t i = 0; i < all.n; i++) {
        ASSERT_EQ((int64_t)i, all.seen[i]);
    }
    ASSERT_TRUE(all.max_batch <= 8);
    ASSERT_EQ(n_calls, calls.n);
    for (size_t i = 1; i < calls.n; i++) {
        ASSERT_TRUE(calls.seen[i] > calls.seen[i - 1]);
        ASSERT_TRUE(calls.seen[i] % 7 != 0 && (calls.seen[i] % 4 == 0 || calls.seen[i] % 4 == 2));
    }
    ASSERT_EQ(n_custom, custom.n);
    aura_events_bus_stats st = stats(bus);
    ASSERT_EQ(300, st.published);
    ASSERT_EQ(300, st.dispatched);
    ASSERT_EQ(300 + n_calls + n_custom, st.delivered);
    ASSERT_EQ(0, st.dropped + st.rejected + st.waits + st.queued);

    /* poll on an empty bus; a short timed wait; max = 0 */
    size_t n = 99;
    ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
    ASSERT_EQ(0, n);
    n = 99;
    ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 5, &n));
    ASSERT_EQ(0, n);
    aura_events_event one = mk(1, 300, AURA_EVENTS_CALL);
    ASSERT_OK(aura_events_bus_publish(bus, &one));
    ASSERT_OK(aura_events_bus_dispatch(bus, 0, 0, &n));
    ASSERT_EQ(0, n);
    ASSERT_EQ(1, stats(bus).queued);
    ASSERT_OK(aura_events_bus_dispatch(bus, 1, -1, &n));
    ASSERT_EQ(1, n);
    aura_events_bus_destroy(bus);
}

AURA_TEST(events_bus_single_thread_order_filters_and_counters)
{
    order_filters_and_counters(0);
    order_filters_and_counters(1);
}

AURA_TEST(events_bus_events_without_subscribers_are_consumed)
{
    aura_events_bus *bus = mkbus(16, 16, AURA_EVENTS_BUS_REJECT, -1);
    aura_events_event evs[16];
    for (int i = 0; i < 16; i++) {
        evs[i] = mk(0, i, AURA_EVENTS_LOAD);
    }
    ASSERT_OK(aura_events_bus_publish_batch(bus, evs, 16, NULL));
    size_t n = 0;
    ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
    ASSERT_EQ(16, n);
    aura_events_bus_stats st = stats(bus);
    ASSERT_EQ(16, st.dispatched);
    ASSERT_EQ(0, st.delivered);
    ASSERT_EQ(0, st.queued);
    aura_events_bus_destroy(bus);
}

AURA_TEST(events_bus_reject_policy_is_all_or_nothing)
{
    aura_events_bus *bus = mkbus(16, 4, AURA_EVENTS_BUS_REJECT, -1);
    static rec r;
    memset(&r, 0, sizeof r);
    uint64_t id;
    ASSERT_OK(aura_events_bus_subscribe(bus, AURA_EVENTS_BUS_ALL_KINDS, rec_fn, &r, &id));
    aura_events_event evs[20];
    for (int i = 0; i < 20; i++) {
        evs[i] = mk(0, i, AURA_EVENTS_CALL);
    }
    size_t done = 99;
    ASSERT_STATUS(AURA_E_RANGE, aura_events_bus_publish_batch(bus, evs, 20, &done));
    ASSERT_EQ(0, done);
    ASSERT_OK(aura_events_bus_publish_batch(bus, evs, 14, &done));
    ASSERT_EQ(14, done);
    ASSERT_STATUS(AURA_E_FULL, aura_events_bus_publish_batch(bus, evs + 14, 5, &done));
    ASSERT_EQ(0, done);
    ASSERT_OK(aura_events_bus_publish_batch(bus, evs + 14, 2, &done));
    ASSERT_STATUS(AURA_E_FULL, aura_events_bus_publish(bus, evs + 16));
    aura_events_bus_stats st = stats(bus);
    ASSERT_EQ(16, st.published);
    ASSERT_EQ(6, st.rejected);
    ASSERT_EQ(16, st.queued);
    size_t n = 0;
    ASSERT_OK(aura_events_bus_dispatch(bus, 5, 0, &n));
    ASSERT_EQ(5, n);
    ASSERT_OK(aura_events_bus_publish_batch(bus, evs + 16, 4, &done));
    ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
    ASSERT_EQ(15, n);
    ASSERT_EQ(20, r.n);
    for (int i = 0; i < 20; i++) {
        ASSERT_EQ(i, r.seen[i]);
    }
    ASSERT_EQ(0, stats(bus).dropped);
    aura_events_bus_destroy(bus);
}

AURA_TEST(events_bus_drop_oldest_keeps_the_newest)
{
    aura_events_bus *bus = mkbus(16, 16, AURA_EVENTS_BUS_DROP_OLDEST, -1);
    static rec r;
    memset(&r, 0, sizeof r);
    uint64_t id;
    ASSERT_OK(aura_events_bus_subscribe(bus, AURA_EVENTS_BUS_ALL_KINDS, rec_fn, &r, &id));
    aura_events_event evs[100];
    for (int i = 0; i < 100; i++) {
        evs[i] = mk(0, i, AURA_EVENTS_HEARTBEAT);
    }
    for (int i = 0; i < 30; i++) {
        ASSERT_OK(aura_events_bus_publish(bus, &evs[i]));
    }
    size_t done = 0;
    ASSERT_OK(aura_events_bus_publish_batch(bus, evs + 30, 10, &done));
    ASSERT_EQ(10, done);
    aura_events_bus_stats st = stats(bus);
    ASSERT_EQ(40, st.published);
    ASSERT_EQ(24, st.dropped);
    ASSERT_EQ(16, st.queued);
    size_t n = 0;
    ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
    ASSERT_EQ(16, n);
    for (int i = 0; i < 16; i++) {
        ASSERT_EQ(24 + i, r.seen[i]);
    }
    /* a batch larger than the ring: only its newest 16 survive */
    ASSERT_OK(aura_events_bus_publish_batch(bus, evs + 40, 60, &done));
    ASSERT_EQ(60, done);
    ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
    ASSERT_EQ(16, n);
    for (int i = 0; i < 16; i++) {
        ASSERT_EQ(84 + i, r.seen[16 + i]);
    }
    st = stats(bus);
    ASSERT_EQ(100, st.published);
    ASSERT_EQ(68, st.dropped);
    ASSERT_EQ(32, st.dispatched);
    ASSERT_EQ(0, st.rejected);
    aura_events_bus_destroy(bus);
}

AURA_TEST(events_bus_block_policy_times_out_and_counts_waits)
{
    aura_events_bus *bus = mkbus(16, 16, AURA_EVENTS_BUS_BLOCK, 20);
    aura_events_event evs[20];
    for (int i = 0; i < 20; i++) {
        evs[i] = mk(0, i, AURA_EVENTS_CALL);
    }
    size_t done = 0;
    ASSERT_STATUS(AURA_E_TIMEOUT, aura_events_bus_publish_batch(bus, evs, 20, &done));
    ASSERT_EQ(16, done);
    aura_events_bus_stats st = stats(bus);
    ASSERT_EQ(16, st.published);
    ASSERT_EQ(1, st.waits);
    ASSERT_EQ(0, st.dropped + st.rejected);
    aura_events_bus_destroy(bus);

    bus = mkbus(16, 16, AURA_EVENTS_BUS_BLOCK, 0); /* 0: never wait */
    ASSERT_OK(aura_events_bus_publish_batch(bus, evs, 16, &done));
    ASSERT_STATUS(AURA_E_TIMEOUT, aura_events_bus_publish(bus, evs));
    ASSERT_EQ(16, stats(bus).published);
    aura_events_bus_destroy(bus);
}

/* ---- deferred unsubscribe and re-entrancy ---- */

typedef struct unsub_ctx {
    aura_events_bus *bus;
    uint64_t self, other;   /* ids to remove on the first call */
    size_t calls, events;
    aura_status st_self, st_other, st_nested, st_sub;
    uint64_t new_id;
    rec *late;              /* subscribed from inside the callback */
} unsub_ctx;

static void unsub_fn(void *ctx, const aura_events_event *evs, size_t n)
{
    (void)evs;
    unsub_ctx *c = ctx;
    c->calls++;
    c->events += n;
    if (c->calls == 1) {
        if (c->other) {
            c->st_other = aura_events_bus_unsubscribe(c->bus, c->other);
        }
        if (c->self) {
            c->st_self = aura_events_bus_unsubscribe(c->bus, c->self);
        }
        size_t k;
        c->st_nested = aura_events_bus_dispatch(c->bus, 1, 0, &k);
        if (c->late) {
            c->st_sub = aura_events_bus_subscribe(c->bus, AURA_EVENTS_BUS_ALL_KINDS, rec_fn,
                                                  c->late, &c->new_id);
        }
    }
}

AURA_TEST(events_bus_unsubscribe_from_inside_a_callback_is_deferred)
{
    aura_events_bus *bus = mkbus(64, 4, AURA_EVENTS_BUS_BLOCK, -1);
    static rec late;
    memset(&late, 0, sizeof late);
    unsub_ctx a = {.bus = bus}, b = {.bus = bus}, c = {.bus = bus};
    uint64_t ida, idb, idc;
    ASSERT_OK(aura_events_bus_subscribe(bus, AURA_EVENTS_BUS_ALL_KINDS, unsub_fn, &a, &ida));
    ASSERT_OK(aura_events_bus_subscribe(bus, AURA_EVENTS_BUS_ALL_KINDS, unsub_fn, &b, &idb));
    ASSERT_OK(aura_events_bus_subscribe(bus, AURA_EVENTS_BUS_ALL_KINDS, unsub_fn, &c, &idc));
    a.self = ida;        /* a removes itself */
    b.other = idc;       /* b removes c, which comes after it in this batch */
    b.late = &late;      /* and subscribes a newcomer */
    aura_events_event evs[12];
    for (int i = 0; i < 12; i++) {
        evs[i] = mk(0, i, AURA_EVENTS_REPLY);
    }
    ASSERT_OK(aura_events_bus_publish_batch(bus, evs, 12, NULL));
    size_t n = 0;
    ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
    ASSERT_EQ(12, n);
    ASSERT_OK(a.st_self);
    ASSERT_OK(b.st_other);
    ASSERT_STATUS(AURA_E_STATE, a.st_nested);
    ASSERT_OK(b.st_sub);
    ASSERT_EQ(1, a.calls);  /* nothing after its own unsubscribe */
    ASSERT_EQ(4, a.events);
    ASSERT_EQ(3, b.calls);
    ASSERT_EQ(12, b.events);
    ASSERT_EQ(0, c.calls);  /* removed before its turn in the first batch */
    ASSERT_EQ(8, late.n);   /* from the second batch on */
    ASSERT_EQ(4, late.seen[0]);
    ASSERT_EQ(2, stats(bus).subscribers);
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_events_bus_unsubscribe(bus, ida));
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_events_bus_unsubscribe(bus, idc));
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_events_bus_unsubscribe(bus, 12345));
    ASSERT_OK(aura_events_bus_unsubscribe(bus, idb));
    ASSERT_OK(aura_events_bus_unsubscribe(bus, b.new_id));
    ASSERT_EQ(0, stats(bus).subscribers);
    aura_events_bus_destroy(bus);
}

/* A lone producer that only calls publish_batch (the general claim path)
 * takes the bias too, after its fills, and keeps order through it. */
AURA_TEST(events_bus_batch_only_producer_takes_the_bias)
{
    long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    int avail = q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED);
    aura_events_bus_opts o = aura_events_bus_opts_default();
    o.capacity = 2048;
    o.lanes = 0; /* the shared ring: the bias is its own */
    aura_events_bus *bus = NULL;
    ASSERT_OK(aura_events_bus_create(&o, &bus));
    static rec r;
    memset(&r, 0, sizeof r);
    uint64_t id;
    ASSERT_OK(aura_events_bus_subscribe(bus, AURA_EVENTS_BUS_ALL_KINDS, rec_fn, &r, &id));
    for (int64_t seq = 0; seq < 1500; seq++) {
        aura_events_event e = mk(0, seq, AURA_EVENTS_CALL);
        size_t done = 0;
        ASSERT_OK(aura_events_bus_publish_batch(bus, &e, 1, &done));
        ASSERT_EQ(1, done);
        if (seq == 1000) {
            ASSERT_EQ(0, stats(bus).bias_changes); /* 1,024 claims in a row first */
        }
    }
    ASSERT_EQ(avail ? 1 : 0, stats(bus).bias_changes);
    size_t n = 0;
    ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
    ASSERT_EQ(1500, n);
    ASSERT_EQ(1500, r.n);
    for (size_t i = 0; i < r.n; i++) {
        ASSERT_EQ((int64_t)i, r.seen[i]);
    }
    aura_events_bus_destroy(bus);
}

/* ---- OOM ---- */

static void noop_fn(void *ctx, const aura_events_event *evs, size_t n)
{
    (void)ctx;
    (void)evs;
    (void)n;
}

/* One thread publishing alone takes the bias after 1024 claims in a row and
 * keeps publishing through the owner's path (one at a time, batches, a
 * full ring under REJECT, wrapping); owner_bias = 0 never takes it. */
AURA_TEST(events_bus_lone_producer_takes_the_bias)
{
    long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    int avail = q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED);
    for (int bias = 0; bias <= 1; bias++) {
        aura_events_bus_opts o = aura_events_bus_opts_default();
        o.capacity = 2048;
        o.batch = 512;
        o.policy = AURA_EVENTS_BUS_REJECT;
        o.owner_bias = bias;
        o.lanes = 0;
        aura_events_bus *bus = NULL;
        ASSERT_OK(aura_events_bus_create(&o, &bus));
        static rec r;
        memset(&r, 0, sizeof r);
        uint64_t id;
        ASSERT_OK(aura_events_bus_subscribe(bus, AURA_EVENTS_BUS_ALL_KINDS, rec_fn, &r, &id));
        int64_t seq = 0;
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 1500; i++, seq++) {
                aura_events_event e = mk(0, seq, AURA_EVENTS_CALL);
                ASSERT_OK(aura_events_bus_publish(bus, &e));
            }
            aura_events_event b[600];
            for (int i = 0; i < 600; i++) {
                b[i] = mk(0, seq + i, AURA_EVENTS_CALL);
            }
            size_t done = 99;
            ASSERT_STATUS(AURA_E_FULL, aura_events_bus_publish_batch(bus, b, 600, &done));
            ASSERT_EQ(0, done); /* all or nothing, also for the owner */
            ASSERT_OK(aura_events_bus_publish_batch(bus, b, 548, &done));
            ASSERT_EQ(548, done);
            seq += 548;
            aura_events_event e = mk(0, seq, AURA_EVENTS_CALL);
            ASSERT_STATUS(AURA_E_FULL, aura_events_bus_publish(bus, &e)); /* 2048 queued */
            size_t n = 0;
            ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
            ASSERT_EQ(2048, n);
            for (size_t i = 0; i < r.n; i++) {
                ASSERT_EQ((int64_t)i + round * 2048, r.seen[i]);
            }
            r.n = 0;
        }
        aura_events_bus_stats st = stats(bus);
        ASSERT_EQ(4096, st.published);
        ASSERT_EQ(4096, st.dispatched);
        ASSERT_EQ(2 * 601, st.rejected);
        ASSERT_EQ(bias && avail ? 1 : 0, st.bias_changes);
        aura_events_bus_destroy(bus);
    }
}

AURA_TEST(events_bus_create_and_subscribe_survive_oom)
{
    for (int pol = 0; pol <= AURA_EVENTS_BUS_REJECT; pol++) {
        int ok = 0;
        for (long fail_at = 0; fail_at < 12; fail_at++) {
            aura_events_bus_opts o = aura_events_bus_opts_default();
            o.capacity = 64;
            o.batch = 8;
            o.policy = (aura_events_bus_policy)pol;
            o.alloc = test_failing_alloc(fail_at);
            aura_events_bus *bus = NULL;
            aura_status st = aura_events_bus_create(&o, &bus);
            ASSERT_TRUE(st == AURA_OK || (st == AURA_E_NOMEM && bus == NULL));
            if (st == AURA_OK) {
                ok++;
                uint64_t id = 0;
                for (int i = 0; i < 10 && st == AURA_OK; i++) {
                    st = aura_events_bus_subscribe(bus, 1, noop_fn, NULL, &id);
                }
                ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
                aura_events_event e = mk(0, 1, AURA_EVENTS_CALL);
                ASSERT_OK(aura_events_bus_publish(bus, &e));
                size_t n = 0;
                ASSERT_OK(aura_events_bus_dispatch(bus, SIZE_MAX, 0, &n));
                ASSERT_EQ(1, n);
            }
            aura_events_bus_destroy(bus);
            ASSERT_EQ(0, test_alloc_live_blocks());
        }
        ASSERT_TRUE(ok > 0);
    }
}

/* One thread publishing to many buses in turn (more than the references
 * it keeps without allocating), and to a bus created after another was
 * destroyed (possibly at the same address): each bus gets its own lane,
 * the events their own order. */
AURA_TEST(events_bus_one_thread_many_buses)
{
    enum { NB = 12 };
    aura_events_bus *b[NB];
    static rec r[NB];
    for (int i = 0; i < NB; i++) {
        b[i] = mkbus(64, 64, AURA_EVENTS_BUS_REJECT, -1);
        memset(&r[i], 0, sizeof r[i]);
        uint64_t id;
        ASSERT_OK(aura_events_bus_subscribe(b[i], AURA_EVENTS_BUS_ALL_KINDS, rec_fn, &r[i], &id));
    }
    for (int seq = 0; seq < 40; seq++) {
        for (int j = 0; j < NB; j++) {
            int i = (j * 5 + seq) % NB; /* a different order of buses each round */
            aura_events_event e = mk(0, seq * 100 + i, AURA_EVENTS_CALL);
            ASSERT_OK(aura_events_bus_publish(b[i], &e));
        }
    }
    long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    uint32_t lanes = q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) ? 1 : 0;
    for (int i = 0; i < NB; i++) {
        size_t n = 0;
        ASSERT_OK(aura_events_bus_dispatch(b[i], SIZE_MAX, 0, &n));
        ASSERT_EQ(40, n);
        for (int seq = 0; seq < 40; seq++) {
            ASSERT_EQ(seq * 100 + i, r[i].seen[seq]);
        }
        ASSERT_EQ(lanes, stats(b[i]).lanes);
    }
    for (int k = 0; k < 3; k++) { /* destroy, create, publish */
        aura_events_bus_destroy(b[k]);
        b[k] = mkbus(16, 16, AURA_EVENTS_BUS_REJECT, -1);
        aura_events_event e = mk(0, k, AURA_EVENTS_CALL);
        for (int i = 0; i < 16; i++) {
            ASSERT_OK(aura_events_bus_publish(b[k], &e));
        }
        ASSERT_STATUS(AURA_E_FULL, aura_events_bus_publish(b[k], &e));
        ASSERT_EQ(lanes, stats(b[k]).lanes);
        ASSERT_EQ(16, stats(b[k]).queued);
    }
    for (int i = 0; i < NB; i++) {
        aura_events_bus_destroy(b[i]);
    }
}
