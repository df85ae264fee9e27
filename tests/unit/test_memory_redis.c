/* test_memory_redis.c -- the context store on Redis: same semantics as on
 * SQLite, and Redis going away and coming back (clear errors, reconnect,
 * nothing acknowledged lost under appendfsync always).  Each test starts
 * its own redis-server (AOF, appendfsync always) on a free loopback port
 * in a temporary directory with the shared helpers of tests/test_redis.c,
 * and stops it by process id.
 * SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aura/memory.h"
#include "test.h"

static void sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static int collect(void *ctx, const aura_memory_record *r)
{
    char *out = ctx;
    strcat(out, r->scope);
    strcat(out, ":");
    strcat(out, r->key);
    strcat(out, " ");
    return 0;
}

static int count_shape(void *ctx, const aura_memory_shape *sh)
{
    (void)sh;
    ++*(size_t *)ctx;
    return 0;
}

static int collect_entry(void *ctx, const aura_memory_entry *e)
{
    char one[128];
    snprintf(one, sizeof one, "%s@%lld:%s ", e->agent, (long long)e->ts_ms, e->summary);
    strcat(ctx, one);
    return 0;
}

AURA_TEST(memory_redis_same_semantics_as_sqlite)
{
    int port = test_free_port();
    char dir[512];
    snprintf(dir, sizeof dir, "%s/redis-a", test_tmpdir());
    ASSERT_EQ(0, mkdir(dir, 0755));
    int pid = test_redis_start(port, dir, 1);
    aura_memory_store *s = NULL;
    ASSERT_OK(aura_memory_store_open_redis("127.0.0.1", port, NULL, &s));
    uint64_t v = 0;
    ASSERT_OK(aura_memory_kv_put(s, NULL, "k", "one", 3, 0, &v));
    ASSERT_EQ(1, v);
    ASSERT_OK(aura_memory_kv_put(s, NULL, "k", "two", 3, 0, &v));
    ASSERT_EQ(2, v);
    ASSERT_OK(aura_memory_kv_put(s, "agent-7", "k", "bin\0ary", 7, 0, &v));
    ASSERT_EQ(1, v);
    char buf[16];
    size_t n = 0;
    aura_memory_record meta;
    ASSERT_OK(aura_memory_kv_get(s, NULL, "k", buf, sizeof buf, &n, &meta));
    ASSERT_EQ(3, n);
    ASSERT_TRUE(memcmp(buf, "two", 3) == 0);
    ASSERT_EQ(2, meta.version);
    ASSERT_OK(aura_memory_kv_get(s, "agent-7", "k", buf, sizeof buf, &n, NULL));
    ASSERT_EQ(7, n);
    ASSERT_TRUE(memcmp(buf, "bin\0ary", 7) == 0);
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_kv_get(s, "agent-7", "k", buf, 2, &n, NULL));
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_memory_kv_get(s, "agent-8", "k", buf, 16, &n, NULL));
    /* CAS */
    ASSERT_STATUS(AURA_E_CONFLICT, aura_memory_kv_cas(s, NULL, "k", 1, "x", 1, 0, &v));
    ASSERT_OK(aura_memory_kv_cas(s, NULL, "k", 2, "three", 5, 0, &v));
    ASSERT_EQ(3, v);
    ASSERT_OK(aura_memory_kv_cas(s, NULL, "new", 0, "n", 1, 0, &v));
    ASSERT_STATUS(AURA_E_CONFLICT, aura_memory_kv_cas(s, NULL, "new", 0, "n", 1, 0, &v));
    /* prefix scans, in key order, across scopes */
    const char *keys[] = {"b", "ab", "a", "abd", "abc", "ac", "a\xff", "a\xff\xff"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        ASSERT_OK(aura_memory_kv_put(s, "s1", keys[i], "v", 1, 0, NULL));
    }
    ASSERT_OK(aura_memory_kv_put(s, "s2", "abz", "v", 1, 0, NULL));
    char out[512] = "";
    ASSERT_OK(aura_memory_kv_scan(s, "s1", 0, "ab", collect, out));
    ASSERT_STREQ("s1:ab s1:abc s1:abd ", out);
    out[0] = 0;
    ASSERT_OK(aura_memory_kv_scan(s, "s1", 0, "a\xff", collect, out));
    ASSERT_STREQ("s1:a\xff s1:a\xff\xff ", out);
    out[0] = 0;
    ASSERT_OK(aura_memory_kv_scan(s, NULL, 1, "ab", collect, out));
    ASSERT_STREQ("s1:ab s1:abc s1:abd s2:abz ", out);
    /* TTL: Redis expires by wall time */
    ASSERT_OK(aura_memory_kv_put(s, "s1", "abe", "t", 1, 60, NULL));
    ASSERT_OK(aura_memory_kv_get(s, "s1", "abe", buf, sizeof buf, &n, NULL));
    sleep_ms(150);
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_memory_kv_get(s, "s1", "abe", buf, sizeof buf, &n, NULL));
    out[0] = 0;
    ASSERT_OK(aura_memory_kv_scan(s, "s1", 0, "ab", collect, out));
    ASSERT_STREQ("s1:ab s1:abc s1:abd ", out);
    size_t removed = 0;
    ASSERT_OK(aura_memory_kv_expire(s, &removed));
    ASSERT_EQ(1, removed);
    /* pipelined batches, across the 256-record chunk boundary */
    static aura_memory_put puts[600];
    static char mkeys[600][16];
    for (int i = 0; i < 600; i++) {
        snprintf(mkeys[i], sizeof mkeys[i], "m%03d", i);
        puts[i] = (aura_memory_put){.scope = "batch", .key = mkeys[i], .value = mkeys[i],
                                    .value_len = strlen(mkeys[i]), .ttl_ms = i == 5 ? 100000 : 0};
    }
    ASSERT_OK(aura_memory_kv_put_many(s, puts, 600));
    ASSERT_EQ(1, puts[599].version);
    ASSERT_OK(aura_memory_kv_put_many(s, puts, 600));
    ASSERT_EQ(2, puts[300].version);
    ASSERT_OK(aura_memory_kv_get(s, "batch", "m599", buf, sizeof buf, &n, &meta));
    ASSERT_EQ(2, meta.version);
    ASSERT_TRUE(n == 4 && memcmp(buf, "m599", 4) == 0);
    ASSERT_OK(aura_memory_kv_get(s, "batch", "m005", buf, sizeof buf, &n, &meta));
    ASSERT_TRUE(meta.expires_ms > 0);
    /* delete, limits, unsupported parts */
    ASSERT_OK(aura_memory_kv_del(s, "s1", "b"));
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_memory_kv_del(s, "s1", "b"));
    char big[AURA_MEMORY_MAX_KEY_LEN + 2];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_kv_put(s, NULL, big, "v", 1, 0, NULL));
    /* the journal, as on SQLite */
    struct { int kind; const char *agent; int64_t ts; const char *sum; } in[] = {
        {AURA_MEMORY_DECISION, "a1", 100, "approve"}, {AURA_MEMORY_INCIDENT, "a1", 150, "timeout"},
        {AURA_MEMORY_DECISION, "a2", 120, "deny"},    {AURA_MEMORY_DECISION, "a1", 200, "isolate"},
        {AURA_MEMORY_INCIDENT, "a2", 300, "cascade"}, {AURA_MEMORY_DECISION, "a1", 100, "again"},
    };
    int64_t last = 0;
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        aura_memory_entry e = {.kind = (aura_memory_entry_kind)in[i].kind, .agent = in[i].agent,
                               .ts_ms = in[i].ts, .summary = in[i].sum, .context = "{\"r\":1}",
                               .context_len = 7};
        int64_t id = 0;
        ASSERT_OK(aura_memory_journal_append(s, &e, &id));
        ASSERT_TRUE(id > last);
        last = id;
    }
    char jb[512] = "";
    ASSERT_OK(aura_memory_journal_query(s, 0, "a1", 0, 1000, collect_entry, jb));
    ASSERT_STREQ("a1@100:approve a1@100:again a1@150:timeout a1@200:isolate ", jb);
    jb[0] = 0;
    ASSERT_OK(aura_memory_journal_query(s, AURA_MEMORY_DECISION, "a1", 100, 200, collect_entry, jb));
    ASSERT_STREQ("a1@100:approve a1@100:again ", jb);
    jb[0] = 0;
    ASSERT_OK(aura_memory_journal_query(s, AURA_MEMORY_INCIDENT, NULL, INT64_MIN, INT64_MAX,
                                        collect_entry, jb));
    ASSERT_STREQ("a1@150:timeout a2@300:cascade ", jb);
    /* shapes, loaded into a kNN index from Redis */
    aura_rng rng;
    aura_rng_init(&rng, 5);
    float sv[AURA_MEMORY_DEFAULT_DIM];
    int64_t sid = 0;
    for (int i = 0; i < 300; i++) {
        for (size_t j = 0; j < AURA_MEMORY_DEFAULT_DIM; j++) {
            sv[j] = (float)aura_rng_normal(&rng);
        }
        ASSERT_OK(aura_memory_shape_put(s, i % 2 ? "cascade" : "calm", sv,
                                        AURA_MEMORY_DEFAULT_DIM, "pl", 2, &sid));
    }
    float other[3] = {1, 2, 3};
    ASSERT_OK(aura_memory_shape_put(s, "3d", other, 3, NULL, 0, NULL));
    aura_memory_knn *knn = NULL;
    ASSERT_OK(aura_memory_knn_create(NULL, &knn));
    size_t added = 0;
    ASSERT_OK(aura_memory_knn_load(knn, s, &added));
    ASSERT_EQ(300, added);
    aura_memory_hit hit;
    ASSERT_OK(aura_memory_knn_search(knn, sv, 1, &hit, &n));
    ASSERT_EQ(sid, hit.id);
    aura_memory_knn_destroy(knn);
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_memory_shape_get(s, 99999, count_shape, &n));
    ASSERT_OK(aura_memory_store_check(s, 0));
    aura_memory_store_destroy(s);
    /* the CLI on the same server */
    char cmd[1024], line[512];
    snprintf(cmd, sizeof cmd, "'%s' memory load --redis 127.0.0.1:%d --n 3 --prefix cli- && "
             "'%s' memory dump --redis 127.0.0.1:%d --prefix cli-", test_aura_bin(), port,
             test_aura_bin(), port);
    FILE *p = popen(cmd, "r");
    ASSERT_TRUE(p != NULL);
    int lines = 0, dumped = 0;
    while (fgets(line, sizeof line, p)) {
        lines++;
        dumped += strncmp(line, "{\"key\":\"cli-", 12) == 0;
    }
    ASSERT_EQ(0, pclose(p));
    ASSERT_EQ(6, lines);
    ASSERT_EQ(3, dumped);
    test_redis_stop(pid, 0);
}

typedef struct inc_arg {
    int port, n, fails;
} inc_arg;

/* Read-modify-write with CAS on its own connection, retried on conflict. */
static void *inc_thread(void *p)
{
    inc_arg *a = p;
    aura_memory_store *s = NULL;
    if (aura_memory_store_open_redis("127.0.0.1", a->port, NULL, &s) != AURA_OK) {
        a->fails++;
        return NULL;
    }
    for (int i = 0; i < a->n; i++) {
        for (;;) {
            char buf[32];
            size_t n = 0;
            aura_memory_record meta = {0};
            aura_status st = aura_memory_kv_get(s, NULL, "counter", buf, sizeof buf - 1, &n, &meta);
            long long val = 0;
            uint64_t expected = 0;
            if (st == AURA_OK) {
                buf[n] = 0;
                val = atoll(buf);
                expected = meta.version;
            } else if (st != AURA_E_NOTFOUND) {
                a->fails++;
                break;
            }
            int len = snprintf(buf, sizeof buf, "%lld", val + 1);
            st = aura_memory_kv_cas(s, NULL, "counter", expected, buf, (size_t)len, 0, NULL);
            if (st == AURA_OK) {
                break;
            }
            if (st != AURA_E_CONFLICT) {
                a->fails++;
                break;
            }
        }
    }
    aura_memory_store_destroy(s);
    return NULL;
}

AURA_TEST(memory_redis_cas_across_connections)
{
    int port = test_free_port();
    char dir[512];
    snprintf(dir, sizeof dir, "%s/redis-c", test_tmpdir());
    ASSERT_EQ(0, mkdir(dir, 0755));
    int pid = test_redis_start(port, dir, 1);
    enum { T = 3, N = 40 };
    pthread_t th[T];
    inc_arg args[T];
    for (int t = 0; t < T; t++) {
        args[t] = (inc_arg){port, N, 0};
        ASSERT_EQ(0, pthread_create(&th[t], NULL, inc_thread, &args[t]));
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        ASSERT_EQ(0, args[t].fails);
    }
    aura_memory_store *s = NULL;
    ASSERT_OK(aura_memory_store_open_redis("127.0.0.1", port, NULL, &s));
    char buf[32];
    size_t n = 0;
    ASSERT_OK(aura_memory_kv_get(s, NULL, "counter", buf, sizeof buf - 1, &n, NULL));
    buf[n] = 0;
    ASSERT_STREQ("120", buf);
    aura_memory_store_destroy(s);
    test_redis_stop(pid, 0);
}

AURA_TEST(memory_redis_goes_away_and_comes_back)
{
    int port = test_free_port();
    char dir[512];
    snprintf(dir, sizeof dir, "%s/redis-b", test_tmpdir());
    ASSERT_EQ(0, mkdir(dir, 0755));
    int pid = test_redis_start(port, dir, 1);
    aura_memory_opts o = aura_memory_opts_default();
    o.redis_timeout_ms = 500;
    aura_memory_store *s = NULL;
    ASSERT_OK(aura_memory_store_open_redis("127.0.0.1", port, &o, &s));
    int acked = 0;
    for (int i = 0; i < 300; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", i);
        ASSERT_OK(aura_memory_kv_put(s, "a", key, key, strlen(key), 0, NULL));
        acked++;
    }
    for (int i = 0; i < 20; i++) {
        aura_memory_entry e = {.kind = AURA_MEMORY_DECISION, .agent = "a", .ts_ms = 1000 + i,
                               .summary = "deny", .context = "{}", .context_len = 2};
        ASSERT_OK(aura_memory_journal_append(s, &e, NULL));
    }
    /* The server dies (SIGKILL: no clean shutdown, only the AOF). */
    test_redis_stop(pid, 1);
    aura_status st = aura_memory_kv_put(s, "a", "lost", "x", 1, 0, NULL);
    ASSERT_STATUS(AURA_E_CONN, st);
    ASSERT_TRUE(strstr(aura_memory_store_errmsg(s), "redis 127.0.0.1:") != NULL);
    size_t n = 0;
    ASSERT_STATUS(AURA_E_CONN, aura_memory_kv_get(s, "a", "k0", NULL, 0, &n, NULL));
    /* It comes back on the same port and directory: the same store object
     * reconnects, and every acknowledged write is there. */
    pid = test_redis_start(port, dir, 1);
    for (int i = 0; i < acked; i++) {
        char key[32], buf[32];
        snprintf(key, sizeof key, "k%d", i);
        ASSERT_OK(aura_memory_kv_get(s, "a", key, buf, sizeof buf, &n, NULL));
        ASSERT_EQ(strlen(key), n);
    }
    ASSERT_OK(aura_memory_kv_put(s, "a", "after", "y", 1, 0, NULL));
    char jb[1024] = "";
    ASSERT_OK(aura_memory_journal_query(s, 0, "a", 0, 2000, collect_entry, jb));
    ASSERT_TRUE(strstr(jb, "a@1000:deny ") == jb);
    ASSERT_TRUE(strstr(jb, "a@1019:deny ") != NULL);
    aura_memory_store_destroy(s);
    test_redis_stop(pid, 0);
    /* nobody listening at all: a clear error at open */
    s = NULL;
    ASSERT_STATUS(AURA_E_CONN, aura_memory_store_open_redis("127.0.0.1", port, &o, &s));
    ASSERT_TRUE(s == NULL);
    ASSERT_TRUE(strstr(aura_memory_last_open_error(), "Connection refused") != NULL);
}

