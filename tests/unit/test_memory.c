/* test_memory.c -- context store semantics: versions, TTL with an injected
 * clock, compare-and-set (also under concurrency), prefix scans, limits,
 * the journal by agent/kind/time, shapes, reopening, and OOM.
 * SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <sqlite3.h>

#include "aura/memory.h"
#include "test.h"

static int64_t fake_now = 1000000;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static aura_memory_store *open_fake(const char *name, aura_memory_fsync fs)
{
    aura_memory_opts o = aura_memory_opts_default();
    o.clock = fake_clock;
    o.fsync = fs;
    aura_memory_store *s = NULL;
    aura_status st = aura_memory_store_open(test_path("%s/%s", test_tmpdir(), name), &o, &s);
    if (st != AURA_OK) {
        fprintf(stderr, "open: %s\n", aura_memory_last_open_error());
    }
    ASSERT_OK(st);
    return s;
}

static const char *get_str(aura_memory_store *s, const char *scope, const char *key,
                           aura_status *st)
{
    static char buf[256];
    size_t n = 0;
    *st = aura_memory_kv_get(s, scope, key, buf, sizeof buf - 1, &n, NULL);
    if (*st != AURA_OK) {
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

AURA_TEST(memory_destroy_null_is_noop)
{
    aura_memory_store_destroy(NULL);
    aura_memory_knn_destroy(NULL);
    ASSERT_STREQ("", aura_memory_store_errmsg(NULL));
}

AURA_TEST(memory_fsync_parse)
{
    aura_memory_fsync f;
    ASSERT_OK(aura_memory_fsync_parse("always", &f));
    ASSERT_EQ(AURA_MEMORY_FSYNC_ALWAYS, f);
    ASSERT_OK(aura_memory_fsync_parse("everysec", &f));
    ASSERT_EQ(AURA_MEMORY_FSYNC_EVERYSEC, f);
    ASSERT_OK(aura_memory_fsync_parse("no", &f));
    ASSERT_EQ(AURA_MEMORY_FSYNC_NO, f);
    ASSERT_STATUS(AURA_E_INVAL, aura_memory_fsync_parse("sometimes", &f));
    ASSERT_EQ(AURA_MEMORY_FSYNC_NO, f);
}

AURA_TEST(memory_kv_put_get_versions_and_scopes)
{
    aura_memory_store *s = open_fake("kv", AURA_MEMORY_FSYNC_ALWAYS);
    uint64_t v = 0;
    ASSERT_OK(aura_memory_kv_put(s, NULL, "k", "one", 3, 0, &v));
    ASSERT_EQ(1, v);
    ASSERT_OK(aura_memory_kv_put(s, NULL, "k", "two", 3, 0, &v));
    ASSERT_EQ(2, v);
    ASSERT_OK(aura_memory_kv_put(s, "agent-7", "k", "mine", 4, 0, &v));
    ASSERT_EQ(1, v);
    aura_status st;
    ASSERT_STREQ("two", get_str(s, NULL, "k", &st));
    ASSERT_STREQ("two", get_str(s, "", "k", &st));
    ASSERT_STREQ("mine", get_str(s, "agent-7", "k", &st));
    ASSERT_TRUE(get_str(s, "agent-8", "k", &st) == NULL);
    ASSERT_STATUS(AURA_E_NOTFOUND, st);
    /* size query, too-small buffer leaves outputs alone */
    size_t n = 99;
    aura_memory_record meta;
    ASSERT_OK(aura_memory_kv_get(s, "agent-7", "k", NULL, 0, &n, &meta));
    ASSERT_EQ(4, n);
    ASSERT_EQ(1, meta.version);
    ASSERT_EQ(0, meta.expires_ms);
    ASSERT_EQ(fake_now, meta.updated_ms);
    char small[2] = {'x', 'y'};
    n = 99;
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_kv_get(s, "agent-7", "k", small, 2, &n, NULL));
    ASSERT_EQ(99, n);
    ASSERT_EQ('x', small[0]);
    /* empty values are fine */
    ASSERT_OK(aura_memory_kv_put(s, NULL, "empty", NULL, 0, 0, NULL));
    ASSERT_OK(aura_memory_kv_get(s, NULL, "empty", small, 2, &n, NULL));
    ASSERT_EQ(0, n);
    /* delete */
    ASSERT_OK(aura_memory_kv_del(s, NULL, "k"));
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_memory_kv_del(s, NULL, "k"));
    ASSERT_TRUE(get_str(s, NULL, "k", &st) == NULL);
    ASSERT_STATUS(AURA_E_NOTFOUND, st);
    aura_memory_store_destroy(s);
}

AURA_TEST(memory_kv_ttl_expires_with_injected_clock)
{
    fake_now = 5000;
    aura_memory_store *s = open_fake("ttl", AURA_MEMORY_FSYNC_NO);
    ASSERT_OK(aura_memory_kv_put(s, NULL, "short", "x", 1, 100, NULL));
    ASSERT_OK(aura_memory_kv_put(s, NULL, "long", "y", 1, 10000, NULL));
    ASSERT_OK(aura_memory_kv_put(s, NULL, "forever", "z", 1, 0, NULL));
    aura_status st;
    fake_now = 5099;
    ASSERT_STREQ("x", get_str(s, NULL, "short", &st));
    fake_now = 5100;
    ASSERT_TRUE(get_str(s, NULL, "short", &st) == NULL);
    ASSERT_STATUS(AURA_E_NOTFOUND, st);
    ASSERT_STREQ("y", get_str(s, NULL, "long", &st));
    size_t removed = 99;
    ASSERT_OK(aura_memory_kv_expire(s, &removed));
    ASSERT_EQ(1, removed);
    fake_now = 20000;
    ASSERT_OK(aura_memory_kv_expire(s, &removed));
    ASSERT_EQ(1, removed);
    ASSERT_STREQ("z", get_str(s, NULL, "forever", &st));
    ASSERT_OK(aura_memory_kv_expire(s, &removed));
    ASSERT_EQ(0, removed);
    aura_memory_store_destroy(s);
}

AURA_TEST(memory_kv_cas_semantics)
{
    fake_now = 1000;
    aura_memory_store *s = open_fake("cas", AURA_MEMORY_FSYNC_NO);
    uint64_t v = 77;
    ASSERT_OK(aura_memory_kv_cas(s, "a", "lock", 0, "v1", 2, 0, &v));
    ASSERT_EQ(1, v);
    v = 77;
    ASSERT_STATUS(AURA_E_CONFLICT, aura_memory_kv_cas(s, "a", "lock", 0, "v?", 2, 0, &v));
    ASSERT_EQ(77, v);
    ASSERT_OK(aura_memory_kv_cas(s, "a", "lock", 1, "v2", 2, 50, &v));
    ASSERT_EQ(2, v);
    ASSERT_STATUS(AURA_E_CONFLICT, aura_memory_kv_cas(s, "a", "lock", 1, "v3", 2, 0, &v));
    aura_status st;
    ASSERT_STREQ("v2", get_str(s, "a", "lock", &st));
    /* once expired, the key counts as absent (expected 0), and the
     * version still grows (no ABA) */
    fake_now = 1050;
    ASSERT_STATUS(AURA_E_CONFLICT, aura_memory_kv_cas(s, "a", "lock", 2, "v3", 2, 0, &v));
    ASSERT_OK(aura_memory_kv_cas(s, "a", "lock", 0, "v3", 2, 0, &v));
    ASSERT_EQ(3, v);
    aura_memory_store_destroy(s);
}

typedef struct counter_arg {
    aura_memory_store *s;
    int n;
    int conflicts;
} counter_arg;

/* Read-modify-write with CAS, retried on conflict. */
static void *counter_thread(void *p)
{
    counter_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        for (;;) {
            long long val = 0;
            char buf[32];
            size_t n = 0;
            aura_memory_record meta = {0};
            aura_status st = aura_memory_kv_get(a->s, NULL, "counter", buf, sizeof buf - 1, &n,
                                                &meta);
            uint64_t expected = 0;
            if (st == AURA_OK) {
                buf[n] = 0;
                val = atoll(buf);
                expected = meta.version;
            } else if (st != AURA_E_NOTFOUND) {
                return (void *)1;
            }
            int len = snprintf(buf, sizeof buf, "%lld", val + 1);
            st = aura_memory_kv_cas(a->s, NULL, "counter", expected, buf, (size_t)len, 0, NULL);
            if (st == AURA_OK) {
                break;
            }
            if (st != AURA_E_CONFLICT) {
                return (void *)1;
            }
            a->conflicts++;
        }
    }
    return NULL;
}

static void *writer_thread(void *p)
{
    counter_arg *a = p;
    char key[64];
    for (int i = 0; i < a->n; i++) {
        snprintf(key, sizeof key, "w%d-%d", a->conflicts, i);
        if (aura_memory_kv_put(a->s, NULL, key, key, strlen(key), 0, NULL) != AURA_OK) {
            return (void *)1;
        }
    }
    return NULL;
}

AURA_TEST(memory_kv_concurrent_writers_group_commit)
{
    aura_memory_store *s = open_fake("conc", AURA_MEMORY_FSYNC_ALWAYS);
    enum { T = 4, N = 150 };
    pthread_t th[T];
    counter_arg args[T];
    for (int t = 0; t < T; t++) {
        args[t] = (counter_arg){s, N, t};
        ASSERT_EQ(0, pthread_create(&th[t], NULL, writer_thread, &args[t]));
    }
    for (int t = 0; t < T; t++) {
        void *r;
        pthread_join(th[t], &r);
        ASSERT_TRUE(r == NULL);
    }
    char key[64];
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < N; i++) {
            snprintf(key, sizeof key, "w%d-%d", t, i);
            aura_status st;
            ASSERT_STREQ(key, get_str(s, NULL, key, &st));
        }
    }
    /* CAS increments from several threads add up exactly. */
    for (int t = 0; t < T; t++) {
        args[t] = (counter_arg){s, 50, 0};
        ASSERT_EQ(0, pthread_create(&th[t], NULL, counter_thread, &args[t]));
    }
    for (int t = 0; t < T; t++) {
        void *r;
        pthread_join(th[t], &r);
        ASSERT_TRUE(r == NULL);
    }
    aura_status st;
    ASSERT_STREQ("200", get_str(s, NULL, "counter", &st));
    aura_memory_stats stats;
    ASSERT_OK(aura_memory_store_stats(s, &stats));
    ASSERT_TRUE(stats.writes >= T * N + 200);
    ASSERT_TRUE(stats.commits >= 1 && stats.commits <= stats.writes);
    fprintf(stderr, "group commit: %llu writes in %llu commits\n",
            (unsigned long long)stats.writes, (unsigned long long)stats.commits);
    aura_memory_store_destroy(s);
}

static int collect_keys(void *ctx, const aura_memory_record *r)
{
    char *out = ctx;
    strcat(out, r->scope);
    strcat(out, ":");
    strcat(out, r->key);
    strcat(out, " ");
    return 0;
}

static int stop_after_one(void *ctx, const aura_memory_record *r)
{
    (void)r;
    ++*(int *)ctx;
    return 1;
}

AURA_TEST(memory_kv_prefix_scan)
{
    fake_now = 1000;
    aura_memory_store *s = open_fake("scan", AURA_MEMORY_FSYNC_NO);
    const char *keys[] = {"b", "ab", "a", "abd", "abc", "ac", "a\xff", "a\xff\xff", "aba"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        ASSERT_OK(aura_memory_kv_put(s, NULL, keys[i], "v", 1, 0, NULL));
    }
    ASSERT_OK(aura_memory_kv_put(s, "x", "abz", "v", 1, 0, NULL));
    ASSERT_OK(aura_memory_kv_put(s, NULL, "abq", "v", 1, 10, NULL)); /* expires */
    fake_now = 2000;
    char out[512] = "";
    ASSERT_OK(aura_memory_kv_scan(s, NULL, 0, "ab", collect_keys, out));
    ASSERT_STREQ(":ab :aba :abc :abd ", out);
    out[0] = 0;
    ASSERT_OK(aura_memory_kv_scan(s, NULL, 0, "a\xff", collect_keys, out));
    ASSERT_STREQ(":a\xff :a\xff\xff ", out);
    out[0] = 0;
    ASSERT_OK(aura_memory_kv_scan(s, NULL, 1, "ab", collect_keys, out));
    ASSERT_STREQ(":ab :aba :abc :abd x:abz ", out);
    out[0] = 0;
    ASSERT_OK(aura_memory_kv_scan(s, "x", 0, NULL, collect_keys, out));
    ASSERT_STREQ("x:abz ", out);
    out[0] = 0;
    ASSERT_OK(aura_memory_kv_scan(s, NULL, 0, "zz", collect_keys, out));
    ASSERT_STREQ("", out);
    int calls = 0;
    ASSERT_OK(aura_memory_kv_scan(s, NULL, 1, NULL, stop_after_one, &calls));
    ASSERT_EQ(1, calls);
    aura_memory_store_destroy(s);
}

AURA_TEST(memory_kv_limits_are_enforced)
{
    aura_memory_store *s = open_fake("limits", AURA_MEMORY_FSYNC_NO);
    char *big = calloc(1, AURA_MEMORY_MAX_VALUE_LEN + 2);
    ASSERT_TRUE(big != NULL);
    memset(big, 'k', AURA_MEMORY_MAX_KEY_LEN + 1);
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_kv_put(s, NULL, big, "v", 1, 0, NULL));
    ASSERT_TRUE(strstr(aura_memory_store_errmsg(s), "exceeds the limit") != NULL);
    big[AURA_MEMORY_MAX_KEY_LEN] = 0;
    ASSERT_OK(aura_memory_kv_put(s, NULL, big, "v", 1, 0, NULL)); /* exactly the limit */
    big[AURA_MEMORY_MAX_SCOPE_LEN + 1] = 0;
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_kv_put(s, big, "k", "v", 1, 0, NULL));
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_kv_put(s, NULL, "k", big,
                                                   AURA_MEMORY_MAX_VALUE_LEN + 1, 0, NULL));
    ASSERT_OK(aura_memory_kv_put(s, NULL, "k", big, AURA_MEMORY_MAX_VALUE_LEN, 0, NULL));
    ASSERT_STATUS(AURA_E_INVAL, aura_memory_kv_put(s, NULL, "", "v", 1, 0, NULL));
    ASSERT_STATUS(AURA_E_INVAL, aura_memory_kv_put(s, NULL, NULL, "v", 1, 0, NULL));
    free(big);
    aura_memory_store_destroy(s);
}

typedef struct jcol {
    char buf[1024];
    int n;
} jcol;

static int collect_entry(void *ctx, const aura_memory_entry *e)
{
    jcol *c = ctx;
    char one[128];
    snprintf(one, sizeof one, "%s@%lld:%s ", e->agent, (long long)e->ts_ms, e->summary);
    strcat(c->buf, one);
    c->n++;
    return 0;
}

AURA_TEST(memory_journal_by_agent_kind_and_time)
{
    fake_now = 9999;
    aura_memory_store *s = open_fake("journal", AURA_MEMORY_FSYNC_ALWAYS);
    struct { int kind; const char *agent; int64_t ts; const char *sum; } in[] = {
        {AURA_MEMORY_DECISION, "a1", 100, "approve"}, {AURA_MEMORY_INCIDENT, "a1", 150, "timeout"},
        {AURA_MEMORY_DECISION, "a2", 120, "deny"},    {AURA_MEMORY_DECISION, "a1", 200, "isolate"},
        {AURA_MEMORY_INCIDENT, "a2", 300, "cascade"}, {AURA_MEMORY_DECISION, "a1", 0, "now"},
    };
    int64_t last = 0;
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        const char *ctx = "{\"risk\":0.7}";
        aura_memory_entry e = {.kind = (aura_memory_entry_kind)in[i].kind, .agent = in[i].agent,
                               .ts_ms = in[i].ts, .summary = in[i].sum, .context = ctx,
                               .context_len = strlen(ctx)};
        int64_t id = 0;
        ASSERT_OK(aura_memory_journal_append(s, &e, &id));
        ASSERT_TRUE(id > last);
        last = id;
    }
    jcol c = {"", 0};
    ASSERT_OK(aura_memory_journal_query(s, 0, "a1", 0, 10000, collect_entry, &c));
    ASSERT_STREQ("a1@100:approve a1@150:timeout a1@200:isolate a1@9999:now ", c.buf);
    c = (jcol){"", 0};
    ASSERT_OK(aura_memory_journal_query(s, AURA_MEMORY_DECISION, "a1", 100, 200, collect_entry,
                                        &c));
    ASSERT_STREQ("a1@100:approve ", c.buf);
    c = (jcol){"", 0};
    ASSERT_OK(aura_memory_journal_query(s, AURA_MEMORY_INCIDENT, NULL, INT64_MIN, INT64_MAX,
                                        collect_entry, &c));
    ASSERT_STREQ("a1@150:timeout a2@300:cascade ", c.buf);
    c = (jcol){"", 0};
    ASSERT_OK(aura_memory_journal_query(s, 0, NULL, 110, 160, collect_entry, &c));
    ASSERT_STREQ("a2@120:deny a1@150:timeout ", c.buf);
    aura_memory_entry bad = {.kind = (aura_memory_entry_kind)9, .agent = "a", .summary = "s"};
    ASSERT_STATUS(AURA_E_INVAL, aura_memory_journal_append(s, &bad, NULL));
    aura_memory_store_destroy(s);
}

typedef struct shape_col {
    int n;
    char label[64];
    float v0;
    size_t dim, plen;
} shape_col;

static int collect_shape(void *ctx, const aura_memory_shape *sh)
{
    shape_col *c = ctx;
    c->n++;
    snprintf(c->label, sizeof c->label, "%s", sh->label);
    c->v0 = sh->vec[0];
    c->dim = sh->dim;
    c->plen = sh->payload_len;
    return 0;
}

AURA_TEST(memory_shapes_persist_and_reload_into_knn)
{
    const char *dir = test_path("%s/shapes", test_tmpdir());
    aura_memory_store *s = NULL;
    ASSERT_OK(aura_memory_store_open(dir, NULL, &s));
    aura_rng rng;
    aura_rng_init(&rng, 7);
    float v[AURA_MEMORY_DEFAULT_DIM];
    int64_t ids[20];
    for (int i = 0; i < 20; i++) {
        for (size_t j = 0; j < AURA_MEMORY_DEFAULT_DIM; j++) {
            v[j] = (float)aura_rng_normal(&rng);
        }
        ASSERT_OK(aura_memory_shape_put(s, i % 2 ? "cascade" : "calm", v,
                                        AURA_MEMORY_DEFAULT_DIM, "pl", 2, &ids[i]));
    }
    float other[3] = {1, 2, 3};
    ASSERT_OK(aura_memory_shape_put(s, "3d", other, 3, NULL, 0, NULL));
    float zero[4] = {0};
    ASSERT_STATUS(AURA_E_INVAL, aura_memory_shape_put(s, "z", zero, 4, NULL, 0, NULL));
    other[1] = NAN;
    ASSERT_STATUS(AURA_E_NUMERIC, aura_memory_shape_put(s, "n", other, 3, NULL, 0, NULL));
    aura_memory_store_destroy(s);

    ASSERT_OK(aura_memory_store_open(dir, NULL, &s));
    shape_col c = {0};
    ASSERT_OK(aura_memory_shape_get(s, ids[19], collect_shape, &c));
    ASSERT_EQ(1, c.n);
    ASSERT_STREQ("cascade", c.label);
    ASSERT_NEAR(v[0], c.v0, 0);
    ASSERT_EQ(2, c.plen);
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_memory_shape_get(s, 12345, collect_shape, &c));
    aura_memory_knn *knn = NULL;
    ASSERT_OK(aura_memory_knn_create(NULL, &knn));
    size_t added = 0;
    ASSERT_OK(aura_memory_knn_load(knn, s, &added));
    ASSERT_EQ(20, added);
    aura_memory_hit hits[3];
    size_t n = 0;
    ASSERT_OK(aura_memory_knn_search(knn, v, 3, hits, &n));
    ASSERT_EQ(3, n);
    ASSERT_EQ(ids[19], hits[0].id);
    ASSERT_NEAR(1.0, hits[0].score, 1e-5);
    aura_memory_knn_destroy(knn);
    aura_memory_store_destroy(s);
}

AURA_TEST(memory_everysec_and_reopen_keep_data)
{
    const char *dir = test_path("%s/everysec", test_tmpdir());
    aura_memory_opts o = aura_memory_opts_default();
    o.fsync = AURA_MEMORY_FSYNC_EVERYSEC;
    aura_memory_store *s = NULL;
    ASSERT_OK(aura_memory_store_open(dir, &o, &s));
    /* Keep writing for a little over a second, so the syncer's passive
     * checkpoint runs beside the writers. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int i = 0;
    do {
        char k[16];
        snprintf(k, sizeof k, "k%d", i % 50);
        ASSERT_OK(aura_memory_kv_put(s, NULL, k, k, strlen(k), 0, NULL));
        i++;
        if (i % 20 == 0) {
            nanosleep(&(struct timespec){0, 5000000}, NULL);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
    } while (i < 50 || (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1300);
    ASSERT_OK(aura_memory_store_sync(s));
    ASSERT_OK(aura_memory_store_check(s, 1));
    aura_memory_store_destroy(s);
    s = NULL;
    ASSERT_OK(aura_memory_store_open(dir, NULL, &s));
    aura_status st;
    ASSERT_STREQ("k49", get_str(s, NULL, "k49", &st));
    aura_memory_store_destroy(s);
}

AURA_TEST(memory_checksum_catches_value_damage)
{
    const char *dir = test_path("%s/crc", test_tmpdir());
    aura_memory_store *s = NULL;
    ASSERT_OK(aura_memory_store_open(dir, NULL, &s));
    ASSERT_OK(aura_memory_kv_put(s, "a", "k1", "hello", 5, 0, NULL));
    ASSERT_OK(aura_memory_kv_put(s, "a", "k2", "world", 5, 0, NULL));
    aura_memory_entry e = {.kind = AURA_MEMORY_DECISION, .agent = "a", .ts_ms = 5,
                           .summary = "deny", .context = "{}", .context_len = 2};
    ASSERT_OK(aura_memory_journal_append(s, &e, NULL));
    aura_memory_store_destroy(s);
    /* Damage the value behind the library's back, as a bad disk would. */
    sqlite3 *db = NULL;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(test_path("%s/%s", dir, AURA_MEMORY_DB_FILE), &db));
    ASSERT_EQ(SQLITE_OK, sqlite3_exec(db, "UPDATE kv SET value = CAST('hellp' AS BLOB) WHERE key = 'k1';"
                                          "UPDATE journal SET summary = 'approve';",
                                      NULL, NULL, NULL));
    sqlite3_close(db);
    ASSERT_OK(aura_memory_store_open(dir, NULL, &s));
    char buf[16];
    size_t n = 0;
    ASSERT_STATUS(AURA_E_CORRUPT, aura_memory_kv_get(s, "a", "k1", buf, sizeof buf, &n, NULL));
    ASSERT_TRUE(strstr(aura_memory_store_errmsg(s), "checksum mismatch") != NULL);
    ASSERT_OK(aura_memory_kv_get(s, "a", "k2", buf, sizeof buf, &n, NULL));
    int calls = 0;
    ASSERT_STATUS(AURA_E_CORRUPT, aura_memory_kv_scan(s, "a", 0, NULL, stop_after_one, &calls));
    ASSERT_EQ(0, calls);
    jcol c = {"", 0};
    ASSERT_STATUS(AURA_E_CORRUPT, aura_memory_journal_query(s, 0, NULL, INT64_MIN, INT64_MAX,
                                                            collect_entry, &c));
    ASSERT_EQ(0, c.n);
    ASSERT_STATUS(AURA_E_CORRUPT, aura_memory_store_check(s, 0));
    aura_memory_store_destroy(s);
    /* Same bytes, other type (a damaged record header): also reported. */
    ASSERT_EQ(SQLITE_OK, sqlite3_open(test_path("%s/%s", dir, AURA_MEMORY_DB_FILE), &db));
    ASSERT_EQ(SQLITE_OK, sqlite3_exec(db, "UPDATE kv SET value = CAST(value AS TEXT) WHERE key = 'k2';"
                                          "UPDATE kv SET key = CAST(key AS BLOB) WHERE key = 'k1';",
                                      NULL, NULL, NULL));
    sqlite3_close(db);
    ASSERT_OK(aura_memory_store_open(dir, NULL, &s));
    ASSERT_STATUS(AURA_E_CORRUPT, aura_memory_kv_get(s, "a", "k2", buf, sizeof buf, &n, NULL));
    ASSERT_TRUE(strstr(aura_memory_store_errmsg(s), "column type") != NULL);
    ASSERT_STATUS(AURA_E_CORRUPT, aura_memory_kv_scan(s, NULL, 1, NULL, stop_after_one, &calls));
    aura_memory_store_destroy(s);
}

AURA_TEST(memory_open_rejects_non_databases)
{
    /* garbage */
    const char *dir = test_path("%s/garbage", test_tmpdir());
    aura_memory_store *s = NULL;
    ASSERT_OK(aura_memory_store_open(dir, NULL, &s));
    aura_memory_store_destroy(s);
    s = NULL;
    /* overwrite the valid store with text */
    FILE *f = fopen(test_path("%s/%s", dir, AURA_MEMORY_DB_FILE), "w");
    ASSERT_TRUE(f != NULL);
    for (int i = 0; i < 400; i++) {
        fputs("this is not a database at all\n", f);
    }
    fclose(f);
    remove(test_path("%s/%s-wal", dir, AURA_MEMORY_DB_FILE));
    remove(test_path("%s/%s-shm", dir, AURA_MEMORY_DB_FILE));
    ASSERT_STATUS(AURA_E_FORMAT, aura_memory_store_open(dir, NULL, &s));
    ASSERT_TRUE(s == NULL);
    ASSERT_TRUE(strstr(aura_memory_last_open_error(), "not a database") != NULL);
    /* a SQLite database of some other application */
    const char *dir2 = test_path("%s/other", test_tmpdir());
    ASSERT_OK(aura_memory_store_open(dir2, NULL, &s));
    aura_memory_store_destroy(s);
    s = NULL;
    sqlite3 *db = NULL;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(test_path("%s/%s", dir2, AURA_MEMORY_DB_FILE), &db));
    ASSERT_EQ(SQLITE_OK, sqlite3_exec(db, "PRAGMA application_id=7", NULL, NULL, NULL));
    sqlite3_close(db);
    ASSERT_STATUS(AURA_E_FORMAT, aura_memory_store_open(dir2, NULL, &s));
    ASSERT_TRUE(strstr(aura_memory_last_open_error(), "not an AURA memory database") != NULL);
    /* a path that is a file, and a missing directory without create */
    ASSERT_STATUS(AURA_E_IO, aura_memory_store_open(test_path("%s/%s", dir, AURA_MEMORY_DB_FILE),
                                                    NULL, &s));
    aura_memory_opts o = aura_memory_opts_default();
    o.create = 0;
    ASSERT_STATUS(AURA_E_IO, aura_memory_store_open(test_path("%s/missing", test_tmpdir()), &o,
                                                    &s));
    ASSERT_TRUE(s == NULL);
}

AURA_TEST(memory_open_survives_oom)
{
    for (long fail_at = 0; fail_at < 4; fail_at++) {
        aura_memory_opts o = aura_memory_opts_default();
        o.alloc = test_failing_alloc(fail_at);
        aura_memory_store *s = NULL;
        aura_status st = aura_memory_store_open(test_path("%s/oom", test_tmpdir()), &o, &s);
        ASSERT_TRUE(st == AURA_OK || (st == AURA_E_NOMEM && s == NULL));
        if (st == AURA_OK) {
            ASSERT_OK(aura_memory_kv_put(s, NULL, "k", "v", 1, 0, NULL));
        }
        aura_memory_store_destroy(s);
        ASSERT_EQ(0, test_alloc_live_blocks());
    }
}

AURA_TEST(memory_full_disk_reports_and_keeps_acknowledged_writes)
{
    const char *dir = test_path("%s/full", test_tmpdir());
    aura_memory_opts o = aura_memory_opts_default();
    o.max_bytes = 256 * 1024;  /* a 256 KiB "disk" */
    aura_memory_store *s = NULL;
    ASSERT_OK(aura_memory_store_open(dir, &o, &s));
    char val[2000];
    memset(val, 'x', sizeof val);
    int acked = 0;
    aura_status st = AURA_OK;
    for (int i = 0; i < 10000 && st == AURA_OK; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%05d", i);
        st = aura_memory_kv_put(s, NULL, key, val, sizeof val, 0, NULL);
        acked += st == AURA_OK;
    }
    ASSERT_STATUS(AURA_E_FULL, st);
    ASSERT_TRUE(strstr(aura_memory_store_errmsg(s), "full") != NULL);
    ASSERT_TRUE(acked > 10);
    /* Everything acknowledged is readable; the store still works. */
    for (int i = 0; i < acked; i++) {
        char key[32];
        size_t n = 0;
        snprintf(key, sizeof key, "k%05d", i);
        ASSERT_OK(aura_memory_kv_get(s, NULL, key, NULL, 0, &n, NULL));
        ASSERT_EQ(sizeof val, n);
    }
    ASSERT_OK(aura_memory_kv_del(s, NULL, "k00000"));
    ASSERT_OK(aura_memory_kv_put(s, NULL, "small", "v", 1, 0, NULL));
    aura_memory_store_destroy(s);
    s = NULL;
    ASSERT_OK(aura_memory_store_open(dir, NULL, &s));
    ASSERT_OK(aura_memory_store_check(s, 1));
    aura_memory_store_destroy(s);
}

static int run_cli(const char *args, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s' memory %s 2>&1", test_aura_bin(), args);
    FILE *p = popen(cmd, "r");
    ASSERT_TRUE(p != NULL);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

AURA_TEST(memory_cli_usage_and_errors)
{
    static char out[65536];
    ASSERT_EQ(0, run_cli("--help", out, sizeof out));
    ASSERT_TRUE(strstr(out, "aura memory load") != NULL);
    ASSERT_EQ(0, run_cli("load --help", out, sizeof out));
    ASSERT_EQ(2, run_cli("", out, sizeof out));
    ASSERT_EQ(2, run_cli("frobnicate", out, sizeof out));
    ASSERT_TRUE(strstr(out, "unknown subcommand 'frobnicate'") != NULL);
    ASSERT_EQ(2, run_cli("load --n 5", out, sizeof out));
    ASSERT_TRUE(strstr(out, "exactly one of --db DIR and --redis HOST:PORT") != NULL);
    ASSERT_EQ(2, run_cli("dump --redis nohost:99999", out, sizeof out));
    ASSERT_EQ(3, run_cli("dump --redis 127.0.0.1:1", out, sizeof out));
    ASSERT_TRUE(strstr(out, "redis 127.0.0.1:1") != NULL);
    const char *dir = test_path("%s/cli", test_tmpdir());
    char args[1024];
    snprintf(args, sizeof args, "load --db '%s' --n -3", dir);
    ASSERT_EQ(2, run_cli(args, out, sizeof out));
    ASSERT_TRUE(strstr(out, "--n: expected an integer") != NULL);
    snprintf(args, sizeof args, "load --db '%s' --n 3 --fsync sometimes", dir);
    ASSERT_EQ(2, run_cli(args, out, sizeof out));
    ASSERT_TRUE(strstr(out, "--fsync: expected always, everysec or no") != NULL);
    snprintf(args, sizeof args, "load --db '%s' --n 3 --bogus 1", dir);
    ASSERT_EQ(2, run_cli(args, out, sizeof out));
    snprintf(args, sizeof args, "load --db '%s' --n 3 --fsync everysec", dir);
    ASSERT_EQ(0, run_cli(args, out, sizeof out));
    ASSERT_STREQ("key-0\nkey-1\nkey-2\n", out);
    snprintf(args, sizeof args, "dump --db '%s' --prefix key-1", dir);
    ASSERT_EQ(0, run_cli(args, out, sizeof out));
    ASSERT_TRUE(strncmp(out, "{\"key\":\"key-1\",\"value\":\"", 24) == 0);
    ASSERT_TRUE(strchr(out, '\n') == out + strlen(out) - 1);
    snprintf(args, sizeof args, "check --db '%s' --full", dir);
    ASSERT_EQ(0, run_cli(args, out, sizeof out));
    /* missing store: dump does not create one */
    snprintf(args, sizeof args, "dump --db '%s/nothing-here'", test_tmpdir());
    ASSERT_EQ(3, run_cli(args, out, sizeof out));
    ASSERT_TRUE(strstr(out, "No such file or directory") != NULL);
    /* not a database */
    FILE *f = fopen(test_path("%s/%s", dir, AURA_MEMORY_DB_FILE), "w");
    ASSERT_TRUE(f != NULL);
    fputs("{\"this\": \"is JSON, not SQLite\"}\n", f);
    fclose(f);
    remove(test_path("%s/%s-wal", dir, AURA_MEMORY_DB_FILE));
    remove(test_path("%s/%s-shm", dir, AURA_MEMORY_DB_FILE));
    snprintf(args, sizeof args, "dump --db '%s'", dir);
    ASSERT_EQ(3, run_cli(args, out, sizeof out));
    ASSERT_TRUE(strstr(out, "not a database") != NULL);
}

AURA_TEST(memory_cli_dump_escapes_json)
{
    const char *dir = test_path("%s/esc", test_tmpdir());
    aura_memory_store *s = NULL;
    ASSERT_OK(aura_memory_store_open(dir, NULL, &s));
    ASSERT_OK(aura_memory_kv_put(s, NULL, "q\"uote\\back", "line\nbreak\t\x01", 12, 0, NULL));
    ASSERT_OK(aura_memory_kv_put(s, "a", "bin", "\xff\x00\x10", 3, 0, NULL));
    ASSERT_OK(aura_memory_kv_put(s, NULL, "utf8", "caf\xc3\xa9", 5, 0, NULL));
    aura_memory_store_destroy(s);
    static char out[4096];
    char args[1024];
    snprintf(args, sizeof args, "dump --db '%s'", dir);
    ASSERT_EQ(0, run_cli(args, out, sizeof out));
    ASSERT_TRUE(strstr(out, "{\"key\":\"q\\\"uote\\\\back\",\"value\":\"line\\nbreak\\t\\u0001\"")
                != NULL);
    ASSERT_TRUE(strstr(out, "{\"key\":\"bin\",\"value_hex\":\"ff0010\",\"scope\":\"a\"") != NULL);
    ASSERT_TRUE(strstr(out, "\"value\":\"caf\xc3\xa9\"") != NULL);
}

AURA_TEST(memory_kv_put_many_is_one_transaction)
{
    aura_memory_store *s = open_fake("many", AURA_MEMORY_FSYNC_ALWAYS);
    enum { N = 500 };
    static aura_memory_put puts[N];
    static char keys[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "m%03d", i);
        puts[i] = (aura_memory_put){.scope = i % 2 ? "a" : NULL, .key = keys[i],
                                    .value = keys[i], .value_len = strlen(keys[i])};
    }
    ASSERT_OK(aura_memory_kv_put_many(s, puts, N));
    ASSERT_EQ(1, puts[0].version);
    ASSERT_EQ(1, puts[N - 1].version);
    ASSERT_OK(aura_memory_kv_put_many(s, puts, N));
    ASSERT_EQ(2, puts[7].version);
    aura_memory_stats st;
    ASSERT_OK(aura_memory_store_stats(s, &st));
    ASSERT_EQ(2 * N, st.writes);
    ASSERT_EQ(2, st.commits);  /* one transaction each */
    aura_status gst;
    ASSERT_STREQ("m499", get_str(s, "a", "m499", &gst));
    /* one invalid element: nothing is written */
    puts[3].value_len = AURA_MEMORY_MAX_VALUE_LEN + 1;
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_kv_put_many(s, puts, N));
    ASSERT_TRUE(strstr(aura_memory_store_errmsg(s), "put 3") != NULL);
    ASSERT_EQ(2, puts[7].version);
    ASSERT_OK(aura_memory_store_stats(s, &st));
    ASSERT_EQ(2 * N, st.writes);
    ASSERT_OK(aura_memory_kv_put_many(s, puts, 0));
    aura_memory_store_destroy(s);
}

AURA_TEST(memory_kv_put_many_full_disk_is_all_or_nothing)
{
    const char *dir = test_path("%s/many-full", test_tmpdir());
    aura_memory_opts o = aura_memory_opts_default();
    o.max_bytes = 128 * 1024;
    aura_memory_store *s = NULL;
    ASSERT_OK(aura_memory_store_open(dir, &o, &s));
    enum { N = 200 };
    static aura_memory_put puts[N];
    static char keys[N][16], val[2000];
    memset(val, 'z', sizeof val);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "f%03d", i);
        puts[i] = (aura_memory_put){.key = keys[i], .value = val, .value_len = sizeof val};
    }
    ASSERT_STATUS(AURA_E_FULL, aura_memory_kv_put_many(s, puts, N));
    size_t n = 0;
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_memory_kv_get(s, NULL, "f000", NULL, 0, &n, NULL));
    ASSERT_OK(aura_memory_kv_put_many(s, puts, 10));
    ASSERT_OK(aura_memory_kv_get(s, NULL, "f009", NULL, 0, &n, NULL));
    aura_memory_store_destroy(s);
}
