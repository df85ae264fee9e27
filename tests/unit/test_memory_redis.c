/* test_memory_redis.c -- the context store's records on a private
 * redis-server: versions, CAS, TTL with an injected clock, prefix scans in
 * key order across scopes, damaged values detected, and Redis killed and
 * restarted without losing an acknowledged write (appendfsync always).
 * SPDX-License-Identifier: MIT */
#include <hiredis/hiredis.h>

#include "memory/memory_redis.h"
#include "test.h"

static int64_t g_now = 1000000;
static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return g_now;
}

typedef struct fixture {
    int port, pid;
    char dir[512], url[128];
    aura__memory_redis *r;
} fixture;

static void setup(fixture *f, int aof)
{
    snprintf(f->dir, sizeof f->dir, "%s", test_tmpdir());
    f->port = test_free_port();
    f->pid = test_redis_start(f->port, f->dir, aof);
    snprintf(f->url, sizeof f->url, "redis://127.0.0.1:%d/t", f->port);
    aura_memory_opts o = aura_memory_opts_default();
    o.clock = fake_clock;
    char err[256];
    ASSERT_OK(aura__memory_redis_open(f->url, &o, &f->r, err, sizeof err));
}

static void teardown(fixture *f)
{
    aura__memory_redis_close(f->r);
    test_redis_stop(f->pid, 0);
}

static const char *get_str(aura__memory_redis *r, const char *scope, const char *key,
                           aura_status *st)
{
    static char buf[256];
    size_t n = 0;
    *st = aura__memory_redis_get(r, scope, key, buf, sizeof buf - 1, &n, NULL);
    buf[*st == AURA_OK ? n : 0] = '\0';
    return buf;
}

AURA_TEST(memory_redis_versions_cas_and_ttl)
{
    fixture f;
    setup(&f, 0);
    uint64_t v = 0;
    aura_status st;
    ASSERT_OK(aura__memory_redis_put(f.r, "a1", "k", "one", 3, 0, &v));
    ASSERT_EQ(1, v);
    ASSERT_OK(aura__memory_redis_put(f.r, "a1", "k", "two", 3, 0, &v));
    ASSERT_EQ(2, v);
    ASSERT_STREQ("two", get_str(f.r, "a1", "k", &st));
    get_str(f.r, NULL, "k", &st); /* other scope */
    ASSERT_EQ(AURA_E_NOTFOUND, st);
    ASSERT_STATUS(AURA_E_CONFLICT, aura__memory_redis_cas(f.r, "a1", "k", 1, "x", 1, 0, &v));
    ASSERT_OK(aura__memory_redis_cas(f.r, "a1", "k", 2, "three", 5, 0, &v));
    ASSERT_EQ(3, v);
    ASSERT_OK(aura__memory_redis_cas(f.r, "a1", "new", 0, "n", 1, 0, &v));
    ASSERT_STATUS(AURA_E_CONFLICT, aura__memory_redis_cas(f.r, "a1", "new", 0, "n", 1, 0, &v));
    /* TTL against the injected clock. */
    ASSERT_OK(aura__memory_redis_put(f.r, NULL, "t", "live", 4, 60000, &v));
    ASSERT_STREQ("live", get_str(f.r, NULL, "t", &st));
    g_now += 60001;
    get_str(f.r, NULL, "t", &st);
    ASSERT_EQ(AURA_E_NOTFOUND, st);
    ASSERT_OK(aura__memory_redis_cas(f.r, NULL, "t", 0, "again", 5, 0, &v)); /* expired = absent */
    ASSERT_EQ(1, v);
    ASSERT_OK(aura__memory_redis_del(f.r, "a1", "k"));
    ASSERT_STATUS(AURA_E_NOTFOUND, aura__memory_redis_del(f.r, "a1", "k"));
    char big[8];
    size_t n = 0;
    ASSERT_STATUS(AURA_E_RANGE, aura__memory_redis_get(f.r, NULL, "t", big, 2, &n, NULL));
    ASSERT_STATUS(AURA_E_RANGE, aura__memory_redis_put(f.r, NULL, "", "x", 1, 0, NULL));
    teardown(&f);
}

typedef struct seen {
    char keys[64][64];
    int n;
    int stop_after;
} seen;

static int collect(void *ctx, const aura_memory_record *rec)
{
    seen *s = ctx;
    snprintf(s->keys[s->n++], 64, "%s/%s=%.*s", rec->scope, rec->key, (int)rec->value_len,
             (const char *)rec->value);
    return s->stop_after && s->n >= s->stop_after;
}

/* Counts records and checks they arrive as p0000, p0001, ... */
static int count_in_order(void *ctx, const aura_memory_record *rec)
{
    int *count = ctx;
    char want[32];
    snprintf(want, sizeof want, "p%04d", *count);
    ASSERT_STREQ(want, rec->key);
    (*count)++;
    return 0;
}

AURA_TEST(memory_redis_scans_in_key_order)
{
    fixture f;
    setup(&f, 0);
    const char *keys[] = {"b:2", "a:1", "b:1", "c", "b:10", "b"};
    for (int i = 0; i < 6; i++) {
        ASSERT_OK(aura__memory_redis_put(f.r, "s1", keys[i], "v", 1, 0, NULL));
    }
    ASSERT_OK(aura__memory_redis_put(f.r, NULL, "b:0", "g", 1, 0, NULL));
    ASSERT_OK(aura__memory_redis_put(f.r, "s1", "b:9", "x", 1, 1, NULL)); /* expires */
    g_now += 10;
    seen s = {0};
    ASSERT_OK(aura__memory_redis_scan(f.r, "s1", 0, "b:", collect, &s));
    ASSERT_EQ(3, s.n);
    ASSERT_STREQ("s1/b:1=v", s.keys[0]);
    ASSERT_STREQ("s1/b:10=v", s.keys[1]);
    ASSERT_STREQ("s1/b:2=v", s.keys[2]);
    memset(&s, 0, sizeof s);
    ASSERT_OK(aura__memory_redis_scan(f.r, NULL, 1, "b", collect, &s));
    ASSERT_EQ(5, s.n);
    ASSERT_STREQ("/b:0=g", s.keys[0]); /* global scope first */
    ASSERT_STREQ("s1/b=v", s.keys[1]);
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    ASSERT_OK(aura__memory_redis_scan(f.r, NULL, 1, NULL, collect, &s));
    ASSERT_EQ(2, s.n);
    /* Many keys: the scan pages through them. */
    char k[32];
    for (int i = 0; i < 700; i++) {
        snprintf(k, sizeof k, "p%04d", i);
        ASSERT_OK(aura__memory_redis_put(f.r, "big", k, "v", 1, 0, NULL));
    }
    int count = 0;
    ASSERT_OK(aura__memory_redis_scan(f.r, "big", 0, "p0", count_in_order, &count));
    ASSERT_EQ(700, count);
    teardown(&f);
}

AURA_TEST(memory_redis_detects_damaged_values)
{
    fixture f;
    setup(&f, 0);
    ASSERT_OK(aura__memory_redis_put(f.r, "a", "k", "precious", 8, 0, NULL));
    ASSERT_OK(aura__memory_redis_put(f.r, "a", "k2", "fine", 4, 0, NULL));
    redisContext *raw = redisConnect("127.0.0.1", f.port);
    ASSERT_TRUE(raw && !raw->err);
    freeReplyObject(redisCommand(raw, "HSET t:r:1:a:k v precioUs"));
    aura_status st;
    get_str(f.r, "a", "k", &st);
    ASSERT_EQ(AURA_E_CORRUPT, st);
    ASSERT_TRUE(strstr(aura__memory_redis_errmsg(f.r), "checksum") != NULL);
    seen s = {0};
    ASSERT_STATUS(AURA_E_CORRUPT, aura__memory_redis_scan(f.r, "a", 0, NULL, collect, &s));
    ASSERT_EQ(0, s.n); /* the damaged record comes first in key order */
    freeReplyObject(redisCommand(raw, "HDEL t:r:1:a:k2 crc"));
    get_str(f.r, "a", "k2", &st);
    ASSERT_EQ(AURA_E_CORRUPT, st);
    redisFree(raw);
    teardown(&f);
}

AURA_TEST(memory_redis_survives_redis_going_away)
{
    fixture f;
    setup(&f, 1);
    char k[32];
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "k%d", i);
        ASSERT_OK(aura__memory_redis_put(f.r, "a", k, k, strlen(k), 0, NULL));
    }
    test_redis_stop(f.pid, 1); /* kill -9 */
    ASSERT_STATUS(AURA_E_CONN, aura__memory_redis_put(f.r, "a", "x", "y", 1, 0, NULL));
    ASSERT_TRUE(strstr(aura__memory_redis_errmsg(f.r), "cannot connect") != NULL);
    f.pid = test_redis_start(f.port, f.dir, 1);
    aura_status st;
    for (int i = 0; i < 200; i++) {
        snprintf(k, sizeof k, "k%d", i);
        ASSERT_STREQ(k, get_str(f.r, "a", k, &st));
    }
    uint64_t v = 0;
    ASSERT_OK(aura__memory_redis_put(f.r, "a", "k0", "z", 1, 0, &v));
    ASSERT_EQ(2, v);
    teardown(&f);
}

AURA_TEST(memory_redis_bad_urls_and_unreachable_servers)
{
    aura__memory_redis *r = NULL;
    char err[256], url[64];
    ASSERT_STATUS(AURA_E_INVAL, aura__memory_redis_open("http://x", NULL, &r, err, sizeof err));
    ASSERT_TRUE(strstr(err, "redis://HOST") != NULL);
    ASSERT_STATUS(AURA_E_INVAL, aura__memory_redis_open("redis://h:99999", NULL, &r, err,
                                                        sizeof err));
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", test_free_port());
    ASSERT_STATUS(AURA_E_CONN, aura__memory_redis_open(url, NULL, &r, err, sizeof err));
    ASSERT_TRUE(strstr(err, "cannot connect") != NULL);
    ASSERT_TRUE(r == NULL);
    aura__memory_redis_close(NULL);
}
