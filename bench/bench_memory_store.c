/* bench_memory_store.c -- the context-store workload on SQLite (AURA's
 * store, as shipped) and on LMDB (a minimal equivalent written here: same
 * record header with version, expiry and CRC, same key layout), to choose
 * the embedded engine.  Workload: puts with TTL (each its own durable
 * commit, and batched), gets, prefix scans, journal appends.
 *   bench_memory_store DIR N_DURABLE N_FAST
 * Prints one line per engine and operation: ops/s.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aura/memory.h"

#define VAL_LEN 64

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void report(const char *engine, const char *op, const char *mode, size_t n, double s)
{
    printf("%-7s %-14s %-9s %8zu ops %9.0f ops/s\n", engine, op, mode, n, (double)n / s);
    fflush(stdout);
}

static void key_of(size_t i, char *scope, char *key)
{
    snprintf(scope, 32, "agent-%zu", i % 50);
    snprintf(key, 64, "ctx/%06zu", i);
}

/* ---- SQLite: AURA's store ---- */

static int count_cb(void *ctx, const aura_memory_record *r)
{
    (void)r;
    ++*(size_t *)ctx;
    return 0;
}

static void check(aura_status st, const char *what)
{
    if (st != AURA_OK) {
        fprintf(stderr, "%s: %s\n", what, aura_status_str(st));
        exit(1);
    }
}

static void run_sqlite(const char *dir, aura_memory_fsync fs, size_t n, const char *mode)
{
    aura_memory_opts o = aura_memory_opts_default();
    o.fsync = fs;
    aura_memory_store *s = NULL;
    check(aura_memory_store_open(dir, &o, &s), "open");
    char scope[32], key[64], val[VAL_LEN];
    memset(val, 'v', sizeof val);
    double t = now_s();
    for (size_t i = 0; i < n; i++) {
        key_of(i, scope, key);
        check(aura_memory_kv_put(s, scope, key, val, sizeof val, 3600000, NULL), "put");
    }
    report("sqlite", "put+ttl", mode, n, now_s() - t);
    t = now_s();
    char buf[VAL_LEN];
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        key_of((i * 7919) % n, scope, key);
        check(aura_memory_kv_get(s, scope, key, buf, sizeof buf, &len, NULL), "get");
    }
    report("sqlite", "get", mode, n, now_s() - t);
    size_t scans = n / 10 + 1, seen = 0;
    t = now_s();
    for (size_t i = 0; i < scans; i++) {
        snprintf(scope, sizeof scope, "agent-%zu", i % 50);
        snprintf(key, sizeof key, "ctx/%04zu", (i * 13) % (n / 100 + 1));
        check(aura_memory_kv_scan(s, scope, 0, key, count_cb, &seen), "scan");
    }
    report("sqlite", "prefix-scan", mode, scans, now_s() - t);
    t = now_s();
    for (size_t i = 0; i < n; i++) {
        aura_memory_entry e = {.kind = AURA_MEMORY_DECISION, .agent = "agent-1",
                               .ts_ms = (int64_t)i + 1, .summary = "deny: risk 0.8",
                               .context = val, .context_len = sizeof val};
        check(aura_memory_journal_append(s, &e, NULL), "append");
    }
    report("sqlite", "append", mode, n, now_s() - t);
    aura_memory_store_destroy(s);
    (void)seen;
}

typedef struct thr_arg {
    aura_memory_store *s;
    size_t from, to;
} thr_arg;

static void *put_thread(void *p)
{
    thr_arg *a = p;
    char scope[32], key[64], val[VAL_LEN];
    memset(val, 'w', sizeof val);
    for (size_t i = a->from; i < a->to; i++) {
        key_of(i, scope, key);
        check(aura_memory_kv_put(a->s, scope, key, val, sizeof val, 3600000, NULL), "put");
    }
    return NULL;
}

/* Group commit: 4 writer threads share transactions and fsyncs. */
static void run_sqlite_threads(const char *dir, size_t n)
{
    aura_memory_store *s = NULL;
    check(aura_memory_store_open(dir, NULL, &s), "open");
    pthread_t th[4];
    thr_arg a[4];
    double t = now_s();
    for (int i = 0; i < 4; i++) {
        a[i] = (thr_arg){s, n * (size_t)i / 4, n * (size_t)(i + 1) / 4};
        pthread_create(&th[i], NULL, put_thread, &a[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    double dt = now_s() - t;
    aura_memory_stats st;
    check(aura_memory_store_stats(s, &st), "stats");
    report("sqlite", "put+ttl x4thr", "fsync", n, dt);
    printf("        (group commit: %llu writes in %llu transactions)\n",
           (unsigned long long)st.writes, (unsigned long long)st.commits);
    aura_memory_store_destroy(s);
}

/* ---- LMDB ---- */

typedef struct rec_hdr {
    uint64_t version;
    int64_t expires_ms;
    uint32_t crc;
    uint32_t len;
} rec_hdr;

static uint32_t crc32c(const void *p, size_t n)
{
    uint32_t c = ~0u;
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        }
    }
    return ~c;
}

static void mdb_check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "lmdb %s: %s\n", what, mdb_strerror(rc));
        exit(1);
    }
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_lmdb(const char *dir, int nosync, size_t n, const char *mode)
{
    MDB_env *env;
    MDB_dbi kv, jr;
    MDB_txn *txn;
    mdb_check(mdb_env_create(&env), "create");
    mdb_check(mdb_env_set_mapsize(env, (size_t)1 << 32), "mapsize");
    mdb_check(mdb_env_set_maxdbs(env, 4), "maxdbs");
    mdb_check(mdb_env_open(env, dir, nosync ? MDB_NOSYNC : 0, 0644), "open");
    mdb_check(mdb_txn_begin(env, NULL, 0, &txn), "txn");
    mdb_check(mdb_dbi_open(txn, "kv", MDB_CREATE, &kv), "dbi");
    mdb_check(mdb_dbi_open(txn, "journal", MDB_CREATE | MDB_INTEGERKEY, &jr), "dbi");
    mdb_check(mdb_txn_commit(txn), "commit");
    char scope[32], key[64], k2[128], val[VAL_LEN], rec[sizeof(rec_hdr) + VAL_LEN];
    memset(val, 'v', sizeof val);
    double t = now_s();
    for (size_t i = 0; i < n; i++) {
        key_of(i, scope, key);
        int kl = snprintf(k2, sizeof k2, "%s%c%s", scope, 0, key);
        MDB_val mk = {(size_t)kl, k2}, mv;
        mdb_check(mdb_txn_begin(env, NULL, 0, &txn), "txn");
        uint64_t ver = 1;
        if (mdb_get(txn, kv, &mk, &mv) == 0) {
            ver = ((const rec_hdr *)mv.mv_data)->version + 1;
        }
        rec_hdr h = {ver, wall_ms() + 3600000, crc32c(val, sizeof val), VAL_LEN};
        memcpy(rec, &h, sizeof h);
        memcpy(rec + sizeof h, val, sizeof val);
        mv = (MDB_val){sizeof rec, rec};
        mdb_check(mdb_put(txn, kv, &mk, &mv, 0), "put");
        mdb_check(mdb_txn_commit(txn), "commit");
    }
    report("lmdb", "put+ttl", mode, n, now_s() - t);
    t = now_s();
    mdb_check(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "txn");
    for (size_t i = 0; i < n; i++) {
        key_of((i * 7919) % n, scope, key);
        int kl = snprintf(k2, sizeof k2, "%s%c%s", scope, 0, key);
        MDB_val mk = {(size_t)kl, k2}, mv;
        mdb_check(mdb_get(txn, kv, &mk, &mv), "get");
        rec_hdr h;
        memcpy(&h, mv.mv_data, sizeof h);
        if (h.expires_ms <= wall_ms() || crc32c((const char *)mv.mv_data + sizeof h, h.len) != h.crc) {
            fprintf(stderr, "lmdb get: bad record\n");
            exit(1);
        }
    }
    mdb_txn_abort(txn);
    report("lmdb", "get", mode, n, now_s() - t);
    size_t scans = n / 10 + 1, seen = 0;
    t = now_s();
    mdb_check(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "txn");
    MDB_cursor *cur;
    mdb_check(mdb_cursor_open(txn, kv, &cur), "cursor");
    for (size_t i = 0; i < scans; i++) {
        snprintf(scope, sizeof scope, "agent-%zu", i % 50);
        snprintf(key, sizeof key, "ctx/%04zu", (i * 13) % (n / 100 + 1));
        int kl = snprintf(k2, sizeof k2, "%s%c%s", scope, 0, key);
        MDB_val mk = {(size_t)kl, k2}, mv;
        int rc = mdb_cursor_get(cur, &mk, &mv, MDB_SET_RANGE);
        while (rc == 0 && mk.mv_size >= (size_t)kl && memcmp(mk.mv_data, k2, (size_t)kl) == 0) {
            rec_hdr h;
            memcpy(&h, mv.mv_data, sizeof h);
            seen += crc32c((const char *)mv.mv_data + sizeof h, h.len) == h.crc;
            rc = mdb_cursor_get(cur, &mk, &mv, MDB_NEXT);
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    report("lmdb", "prefix-scan", mode, scans, now_s() - t);
    t = now_s();
    for (size_t i = 0; i < n; i++) {
        size_t id = i + 1;
        char e[256];
        int el = snprintf(e, sizeof e, "%d|agent-1|%zu|deny: risk 0.8|%.*s", 1, id, VAL_LEN, val);
        MDB_val mk = {sizeof id, &id}, mv = {(size_t)el, e};
        mdb_check(mdb_txn_begin(env, NULL, 0, &txn), "txn");
        mdb_check(mdb_put(txn, jr, &mk, &mv, MDB_APPEND), "append");
        mdb_check(mdb_txn_commit(txn), "commit");
    }
    report("lmdb", "append", mode, n, now_s() - t);
    mdb_env_close(env);
    (void)seen;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s DIR N_DURABLE N_FAST\n", argv[0]);
        return 2;
    }
    size_t nd = (size_t)atol(argv[2]), nf = (size_t)atol(argv[3]);
    char d[4096];
    const char *names[] = {"sq-always", "lm-always", "sq-no", "lm-no"};
    for (int i = 0; i < 4; i++) {
        snprintf(d, sizeof d, "mkdir -p '%s/%s'", argv[1], names[i]);
        if (system(d) != 0) {
            return 3;
        }
    }
    snprintf(d, sizeof d, "%s/sq-always", argv[1]);
    run_sqlite(d, AURA_MEMORY_FSYNC_ALWAYS, nd, "fsync");
    snprintf(d, sizeof d, "%s/sq-threads", argv[1]);
    run_sqlite_threads(d, nd);
    snprintf(d, sizeof d, "%s/lm-always", argv[1]);
    run_lmdb(d, 0, nd, "fsync");
    snprintf(d, sizeof d, "%s/sq-no", argv[1]);
    run_sqlite(d, AURA_MEMORY_FSYNC_NO, nf, "no-fsync");
    snprintf(d, sizeof d, "%s/lm-no", argv[1]);
    run_lmdb(d, 1, nf, "no-fsync");
    return 0;
}
