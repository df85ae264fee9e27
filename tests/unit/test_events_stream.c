/* test_events_stream.c -- the event log on Redis Streams against a private
 * redis-server: round trip, consumer groups and claiming, malformed
 * entries, and Redis going away and coming back without losing anything
 * acknowledged (appendfsync always).
 * SPDX-License-Identifier: MIT */
#include <hiredis/hiredis.h>
#include <unistd.h>

#include "aura/events_stream.h"
#include "test.h"

typedef struct fixture {
    int port, pid;
    char dir[512];
    aura_events_interner *agents;
} fixture;

static void setup(fixture *f, int aof)
{
    snprintf(f->dir, sizeof f->dir, "%s", test_tmpdir());
    f->port = test_free_port();
    f->pid = test_redis_start(f->port, f->dir, aof);
    ASSERT_OK(aura_events_interner_create(NULL, &f->agents));
}

static void teardown(fixture *f)
{
    test_redis_stop(f->pid, 0);
    aura_events_interner_destroy(f->agents);
}

static aura_events_stream *connect_as(fixture *f, const char *consumer)
{
    aura_events_stream_opts o = aura_events_stream_opts_default();
    o.port = f->port;
    o.consumer = consumer;
    o.block_ms = 20;
    aura_events_stream *s = NULL;
    ASSERT_OK(aura_events_stream_connect(&o, f->agents, &s));
    return s;
}

static aura_events_event make_event(fixture *f, int i)
{
    aura_events_event e;
    char name[32];
    memset(&e, 0, sizeof e);
    e.ts_us = 1000LL * i + 7;
    e.kind = (uint16_t)(i % AURA_EVENTS_KIND_COUNT);
    int n = snprintf(name, sizeof name, "agent-%d", i % 37);
    ASSERT_OK(aura_events_interner_intern(f->agents, name, (size_t)n, &e.src));
    n = snprintf(name, sizeof name, "agent-%d", (i * 7) % 37);
    ASSERT_OK(aura_events_interner_intern(f->agents, name, (size_t)n, &e.dst));
    e.latency_ms = (float)i * 0.25f;
    e.flags = AURA_EVENTS_F_HAS_LATENCY | AURA_EVENTS_F_HAS_OK | (i % 2 ? AURA_EVENTS_F_OK : 0);
    return e;
}

/* Reads everything available to this consumer into out[*n]; acks if asked. */
static void drain(aura_events_stream *s, aura_events_event *out, size_t cap, size_t *n, int ack)
{
    aura_events_stream_id ids[256];
    for (;;) {
        size_t k = 0, want = cap - *n < 256 ? cap - *n : 256;
        if (want == 0) {
            return;
        }
        ASSERT_OK(aura_events_stream_read(s, out + *n, ids, want, &k));
        if (k == 0) {
            return;
        }
        if (ack) {
            ASSERT_OK(aura_events_stream_ack(s, ids, k));
        }
        *n += k;
    }
}

AURA_TEST(events_stream_round_trip_through_a_consumer_group)
{
    fixture f;
    setup(&f, 0);
    aura_events_stream *s = connect_as(&f, "c1");
    enum { N = 3000 };
    static aura_events_event sent[N], got[N + 10];
    for (int i = 0; i < N; i++) {
        sent[i] = make_event(&f, i);
    }
    ASSERT_OK(aura_events_stream_publish(s, sent, N));
    size_t n = 0;
    drain(s, got, N + 10, &n, 1);
    ASSERT_EQ(N, n);
    for (int i = 0; i < N; i++) {
        ASSERT_TRUE(memcmp(&sent[i], &got[i], sizeof sent[i]) == 0);
    }
    aura_events_stream_stats st;
    aura_events_stream_get_stats(s, &st);
    ASSERT_EQ(N, st.published);
    ASSERT_EQ(N, st.read);
    ASSERT_EQ(N, st.acked);
    /* Everything acknowledged: nothing left to claim. */
    size_t k = 99;
    ASSERT_OK(aura_events_stream_claim(s, 0, got, NULL, 10, &k));
    ASSERT_EQ(0, k);
    aura_events_stream_destroy(s);
    aura_events_stream_destroy(NULL);
    teardown(&f);
}

AURA_TEST(events_stream_claims_a_dead_consumers_entries)
{
    fixture f;
    setup(&f, 0);
    aura_events_stream *a = connect_as(&f, "a"), *b = connect_as(&f, "b");
    enum { N = 500 };
    static aura_events_event sent[N], got[2 * N];
    for (int i = 0; i < N; i++) {
        sent[i] = make_event(&f, i);
    }
    ASSERT_OK(aura_events_stream_publish(a, sent, N));
    /* a reads 100 and dies without acknowledging them. */
    aura_events_stream_id ids[100];
    size_t ka = 0, nb = 0;
    ASSERT_OK(aura_events_stream_read(a, got, ids, 100, &ka));
    ASSERT_EQ(100, ka);
    aura_events_stream_destroy(a);
    drain(b, got, 2 * N, &nb, 1);
    ASSERT_EQ(N - 100, nb);
    size_t kc = 0;
    aura_events_stream_id cids[200];
    ASSERT_OK(aura_events_stream_claim(b, 0, got + nb, cids, 200, &kc));
    ASSERT_EQ(100, kc);
    ASSERT_OK(aura_events_stream_ack(b, cids, kc));
    /* Between them, every event exactly once. */
    static int seen[N];
    for (size_t i = 0; i < nb + kc; i++) {
        int idx = (int)(got[i].ts_us / 1000);
        ASSERT_TRUE(idx >= 0 && idx < N);
        ASSERT_TRUE(memcmp(&got[i], &sent[idx], sizeof got[i]) == 0);
        seen[idx]++;
    }
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(1, seen[i]);
    }
    aura_events_stream_destroy(b);
    teardown(&f);
}

AURA_TEST(events_stream_skips_and_acks_malformed_entries)
{
    fixture f;
    setup(&f, 0);
    aura_events_stream *s = connect_as(&f, "c");
    redisContext *raw = redisConnect("127.0.0.1", f.port);
    ASSERT_TRUE(raw && !raw->err);
    freeReplyObject(redisCommand(raw, "XADD aura:events * e %s", "{\"ts\":1,\"kind\":\"nope\"}"));
    freeReplyObject(redisCommand(raw, "XADD aura:events * other x"));
    aura_events_event ev = make_event(&f, 3), got[4];
    ASSERT_OK(aura_events_stream_publish(s, &ev, 1));
    size_t n = 0;
    drain(s, got, 4, &n, 1);
    ASSERT_EQ(1, n);
    ASSERT_TRUE(memcmp(&ev, &got[0], sizeof ev) == 0);
    aura_events_stream_stats st;
    aura_events_stream_get_stats(s, &st);
    ASSERT_EQ(2, st.bad_entries);
    redisReply *r = redisCommand(raw, "XPENDING aura:events aura");
    ASSERT_TRUE(r && r->type == REDIS_REPLY_ARRAY && r->element[0]->integer == 0);
    freeReplyObject(r);
    redisFree(raw);
    aura_events_stream_destroy(s);
    teardown(&f);
}

AURA_TEST(events_stream_survives_redis_going_away)
{
    fixture f;
    setup(&f, 1);
    aura_events_stream *s = connect_as(&f, "c");
    enum { N = 1000 };
    static aura_events_event sent[2 * N], got[2 * N + 10];
    for (int i = 0; i < 2 * N; i++) {
        sent[i] = make_event(&f, i);
    }
    ASSERT_OK(aura_events_stream_publish(s, sent, N));
    test_redis_stop(f.pid, 1); /* kill -9: acknowledged entries must survive */
    ASSERT_STATUS(AURA_E_CONN, aura_events_stream_publish(s, sent + N, N));
    ASSERT_TRUE(strstr(aura_events_stream_errmsg(s), "cannot connect") != NULL);
    f.pid = test_redis_start(f.port, f.dir, 1);
    aura_status st2 = aura_events_stream_publish(s, sent + N, N);
    if (st2 != AURA_OK) {
        AURA_FAIL_("publish after restart: %s", aura_events_stream_errmsg(s));
    }
    size_t n = 0;
    drain(s, got, 2 * N + 10, &n, 1);
    ASSERT_EQ(2 * N, n);
    for (int i = 0; i < 2 * N; i++) {
        ASSERT_TRUE(memcmp(&sent[i], &got[i], sizeof sent[i]) == 0);
    }
    aura_events_stream_stats st;
    aura_events_stream_get_stats(s, &st);
    ASSERT_TRUE(st.reconnects >= 1);
    aura_events_stream_destroy(s);
    teardown(&f);
}

AURA_TEST(events_stream_connect_errors_are_clear)
{
    aura_events_interner *agents;
    ASSERT_OK(aura_events_interner_create(NULL, &agents));
    aura_events_stream_opts o = aura_events_stream_opts_default();
    o.port = test_free_port(); /* nobody listens there */
    aura_events_stream *s = NULL;
    ASSERT_STATUS(AURA_E_CONN, aura_events_stream_connect(&o, agents, &s));
    ASSERT_TRUE(s == NULL);
    ASSERT_TRUE(strstr(aura_events_stream_last_connect_error(), "cannot connect") != NULL);
    o.port = 70000;
    ASSERT_STATUS(AURA_E_RANGE, aura_events_stream_connect(&o, agents, &s));
    aura_events_interner_destroy(agents);
}
