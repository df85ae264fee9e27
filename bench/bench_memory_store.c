/* bench_memory_store.c -- the context-store workload on SQLite (AURA's
 * store, as shipped) and on LMDB (a minimal equivalent written here: same
 * record header with version, expiry and CRC, same key layout), to choose
 * the embedded engine.  Workload: puts with TTL (each its own durable
 * commit, and batched), gets, prefix scans, journal appends.
 *   bench_memory_store DIR N_DURABLE N_FAST
 *   bench_memory_store DIR --lmdb-flips   (LMDB under flipped bytes)
 *   bench_memory_store --redis PORT N     (the Redis backend)
 * Prints one line per engine and operation: ops/s.
 * SPDX-License-Identifier: MIT */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <lmdb.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>
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

/* Each phase is its own function so that callgrind's inclusive costs
 * give instructions per phase (bench_memory_store.sh --callgrind). */
#define PHASE __attribute__((noinline)) static void

PHASE sq_puts(aura_memory_store *s, size_t n)
{
    char scope[32], key[64], val[VAL_LEN];
    memset(val, 'v', sizeof val);
    for (size_t i = 0; i < n; i++) {
        key_of(i, scope, key);
        check(aura_memory_kv_put(s, scope, key, val, sizeof val, 3600000, NULL), "put");
    }
}

PHASE sq_gets(aura_memory_store *s, size_t n)
{
    char scope[32], key[64], buf[VAL_LEN];
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        key_of((i * 7919) % n, scope, key);
        check(aura_memory_kv_get(s, scope, key, buf, sizeof buf, &len, NULL), "get");
    }
}

PHASE sq_scans(aura_memory_store *s, size_t n, size_t scans)
{
    char scope[32], key[64];
    size_t seen = 0;
    for (size_t i = 0; i < scans; i++) {
        snprintf(scope, sizeof scope, "agent-%zu", i % 50);
        snprintf(key, sizeof key, "ctx/%04zu", (i * 13) % (n / 100 + 1));
        check(aura_memory_kv_scan(s, scope, 0, key, count_cb, &seen), "scan");
    }
}

PHASE sq_appends(aura_memory_store *s, size_t n)
{
    char val[VAL_LEN];
    memset(val, 'c', sizeof val);
    for (size_t i = 0; i < n; i++) {
        aura_memory_entry e = {.kind = AURA_MEMORY_DECISION, .agent = "agent-1",
                               .ts_ms = (int64_t)i + 1, .summary = "deny: risk 0.8",
                               .context = val, .context_len = sizeof val};
        check(aura_memory_journal_append(s, &e, NULL), "append");
    }
}

static void run_sqlite(const char *dir, aura_memory_fsync fs, size_t n, const char *mode)
{
    aura_memory_opts o = aura_memory_opts_default();
    o.fsync = fs;
    aura_memory_store *s = NULL;
    check(aura_memory_store_open(dir, &o, &s), "open");
    double t = now_s();
    sq_puts(s, n);
    report("sqlite", "put+ttl", mode, n, now_s() - t);
    t = now_s();
    sq_gets(s, n);
    report("sqlite", "get", mode, n, now_s() - t);
    size_t scans = n / 10 + 1;
    t = now_s();
    sq_scans(s, n, scans);
    report("sqlite", "prefix-scan", mode, scans, now_s() - t);
    t = now_s();
    sq_appends(s, n);
    report("sqlite", "append", mode, n, now_s() - t);
    aura_memory_store_destroy(s);
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

/* CRC-32C with a byte table, as AURA's store computes it. */
static uint32_t crc32c(const void *p, size_t n)
{
    static uint32_t tab[256];
    if (!tab[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) {
                c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
            }
            tab[i] = c;
        }
    }
    uint32_t c = ~0u;
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        c = tab[(c ^ b[i]) & 0xff] ^ (c >> 8);
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

typedef struct lm {
    MDB_env *env;
    MDB_dbi kv, jr;
} lm;

static int lm_key(size_t i, char *k2)
{
    char scope[32], key[64];
    key_of(i, scope, key);
    return snprintf(k2, 128, "%s%c%s", scope, 0, key);
}

PHASE lm_puts(lm *m, size_t n)
{
    char k2[128], val[VAL_LEN], rec[sizeof(rec_hdr) + VAL_LEN];
    memset(val, 'v', sizeof val);
    for (size_t i = 0; i < n; i++) {
        MDB_txn *txn;
        MDB_val mk = {(size_t)lm_key(i, k2), k2}, mv;
        mdb_check(mdb_txn_begin(m->env, NULL, 0, &txn), "txn");
        uint64_t ver = 1;
        if (mdb_get(txn, m->kv, &mk, &mv) == 0) {
            rec_hdr old;
            memcpy(&old, mv.mv_data, sizeof old);
            ver = old.version + 1;
        }
        rec_hdr h = {ver, wall_ms() + 3600000, crc32c(val, sizeof val), VAL_LEN};
        memcpy(rec, &h, sizeof h);
        memcpy(rec + sizeof h, val, sizeof val);
        mv = (MDB_val){sizeof rec, rec};
        mdb_check(mdb_put(txn, m->kv, &mk, &mv, 0), "put");
        mdb_check(mdb_txn_commit(txn), "commit");
    }
}

PHASE lm_gets(lm *m, size_t n)
{
    char k2[128];
    MDB_txn *txn;
    mdb_check(mdb_txn_begin(m->env, NULL, MDB_RDONLY, &txn), "txn");
    for (size_t i = 0; i < n; i++) {
        MDB_val mk = {(size_t)lm_key((i * 7919) % n, k2), k2}, mv;
        mdb_check(mdb_get(txn, m->kv, &mk, &mv), "get");
        rec_hdr h;
        memcpy(&h, mv.mv_data, sizeof h);
        if (h.expires_ms <= wall_ms() ||
            crc32c((const char *)mv.mv_data + sizeof h, h.len) != h.crc) {
            fprintf(stderr, "lmdb get: bad record\n");
            exit(1);
        }
    }
    mdb_txn_abort(txn);
}

PHASE lm_scans(lm *m, size_t n, size_t scans)
{
    char k2[128];
    size_t seen = 0;
    MDB_txn *txn;
    MDB_cursor *cur;
    mdb_check(mdb_txn_begin(m->env, NULL, MDB_RDONLY, &txn), "txn");
    mdb_check(mdb_cursor_open(txn, m->kv, &cur), "cursor");
    for (size_t i = 0; i < scans; i++) {
        int kl = snprintf(k2, sizeof k2, "agent-%zu%cctx/%04zu", i % 50, 0,
                          (i * 13) % (n / 100 + 1));
        MDB_val mk = {(size_t)kl, k2}, mv;
        int rc = mdb_cursor_get(cur, &mk, &mv, MDB_SET_RANGE);
        while (rc == 0 && mk.mv_size >= (size_t)kl && memcmp(mk.mv_data, k2, (size_t)kl) == 0) {
            rec_hdr h;
            memcpy(&h, mv.mv_data, sizeof h);
            seen += h.expires_ms > wall_ms() &&
                    crc32c((const char *)mv.mv_data + sizeof h, h.len) == h.crc;
            rc = mdb_cursor_get(cur, &mk, &mv, MDB_NEXT);
        }
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    (void)seen;
}

PHASE lm_appends(lm *m, size_t n)
{
    char val[VAL_LEN];
    memset(val, 'c', sizeof val);
    for (size_t i = 0; i < n; i++) {
        size_t id = i + 1;
        char e[256];
        int el = snprintf(e, sizeof e, "%d|agent-1|%zu|deny: risk 0.8|%.*s", 1, id, VAL_LEN, val);
        uint32_t crc = crc32c(e, (size_t)el);
        memcpy(e + el, &crc, sizeof crc);
        MDB_val mk = {sizeof id, &id}, mv = {(size_t)el + sizeof crc, e};
        MDB_txn *txn;
        mdb_check(mdb_txn_begin(m->env, NULL, 0, &txn), "txn");
        mdb_check(mdb_put(txn, m->jr, &mk, &mv, MDB_APPEND), "append");
        mdb_check(mdb_txn_commit(txn), "commit");
    }
}

static void run_lmdb(const char *dir, int nosync, size_t n, const char *mode)
{
    lm m;
    MDB_txn *txn;
    mdb_check(mdb_env_create(&m.env), "create");
    mdb_check(mdb_env_set_mapsize(m.env, (size_t)1 << 32), "mapsize");
    mdb_check(mdb_env_set_maxdbs(m.env, 4), "maxdbs");
    mdb_check(mdb_env_open(m.env, dir, nosync ? MDB_NOSYNC : 0, 0644), "open");
    mdb_check(mdb_txn_begin(m.env, NULL, 0, &txn), "txn");
    mdb_check(mdb_dbi_open(txn, "kv", MDB_CREATE, &m.kv), "dbi");
    mdb_check(mdb_dbi_open(txn, "journal", MDB_CREATE | MDB_INTEGERKEY, &m.jr), "dbi");
    mdb_check(mdb_txn_commit(txn), "commit");
    double t = now_s();
    lm_puts(&m, n);
    report("lmdb", "put+ttl", mode, n, now_s() - t);
    t = now_s();
    lm_gets(&m, n);
    report("lmdb", "get", mode, n, now_s() - t);
    size_t scans = n / 10 + 1;
    t = now_s();
    lm_scans(&m, n, scans);
    report("lmdb", "prefix-scan", mode, scans, now_s() - t);
    t = now_s();
    lm_appends(&m, n);
    report("lmdb", "append", mode, n, now_s() - t);
    mdb_env_close(m.env);
}

/* Flip one random byte of an LMDB file (after a clean close), read every
 * record in a child process, and classify: error reported, crash (signal),
 * silently different data, or intact.  LMDB has no page checksums; the
 * values carry the same CRC as AURA's records. */
static void lmdb_flips(const char *dir, int trials)
{
    char fdir[4096], path[4200], cmd[8300];
    snprintf(fdir, sizeof fdir, "%s/flip", dir);
    snprintf(path, sizeof path, "%s/data.mdb", fdir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", fdir);
    if (system(cmd) != 0) exit(3);
    lm m;
    MDB_txn *txn;
    mdb_check(mdb_env_create(&m.env), "create");
    mdb_check(mdb_env_set_maxdbs(m.env, 4), "maxdbs");
    mdb_check(mdb_env_open(m.env, fdir, 0, 0644), "open");
    mdb_check(mdb_txn_begin(m.env, NULL, 0, &txn), "txn");
    mdb_check(mdb_dbi_open(txn, "kv", MDB_CREATE, &m.kv), "dbi");
    mdb_check(mdb_dbi_open(txn, "journal", MDB_CREATE | MDB_INTEGERKEY, &m.jr), "dbi");
    mdb_check(mdb_txn_commit(txn), "commit");
    lm_puts(&m, 2000);
    mdb_env_close(m.env);
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    unsigned char *orig = malloc((size_t)n);
    fseek(f, 0, SEEK_SET);
    if (fread(orig, 1, (size_t)n, f) != (size_t)n) exit(3);
    fclose(f);
    int reported = 0, crashed = 0, silent = 0, same = 0;
    srand(7);
    for (int t = 0; t < trials; t++) {
        long pos = rand() % n;
        unsigned char mask = (unsigned char)(1u << (rand() % 8));
        orig[pos] ^= mask;
        f = fopen(path, "wb");
        fwrite(orig, 1, (size_t)n, f);
        fclose(f);
        orig[pos] ^= mask;
        pid_t pid = fork();
        if (pid == 0) {
            /* exit 0: all records present and intact; 1: an error was
             * reported; 2: different data without an error */
            lm c;
            MDB_txn *tx;
            MDB_cursor *cur;
            if (mdb_env_create(&c.env) || mdb_env_set_maxdbs(c.env, 4) ||
                mdb_env_open(c.env, fdir, MDB_RDONLY, 0644) ||
                mdb_txn_begin(c.env, NULL, MDB_RDONLY, &tx) || mdb_dbi_open(tx, "kv", 0, &c.kv) ||
                mdb_cursor_open(tx, c.kv, &cur)) {
                _exit(1);
            }
            MDB_val k, v;
            size_t cnt = 0;
            int rc;
            while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
                rec_hdr h;
                if (v.mv_size != sizeof h + VAL_LEN) _exit(2);
                memcpy(&h, v.mv_data, sizeof h);
                if (crc32c((const char *)v.mv_data + sizeof h, h.len) != h.crc) _exit(1);
                cnt++;
            }
            _exit(rc != MDB_NOTFOUND ? 1 : cnt == 2000 ? 0 : 2);
        }
        int ws = 0;
        waitpid(pid, &ws, 0);
        if (WIFSIGNALED(ws)) crashed++;
        else if (WEXITSTATUS(ws) == 1) reported++;
        else if (WEXITSTATUS(ws) == 2) silent++;
        else same++;
    }
    printf("lmdb flips: %d trials: %d reported (incl. value CRC), %d crashed the reader, "
           "%d served different data silently, %d read back intact\n",
           trials, reported, crashed, silent, same);
    free(orig);
}

/* The Redis backend: single puts (2 round trips each), pipelined
 * put_many in batches of 256, gets. */
static void run_redis(int port, size_t n)
{
    aura_memory_store *s = NULL;
    check(aura_memory_store_open_redis("127.0.0.1", port, NULL, &s), "open redis");
    char scope[32], key[64], val[VAL_LEN];
    memset(val, 'r', sizeof val);
    double t = now_s();
    for (size_t i = 0; i < n; i++) {
        key_of(i, scope, key);
        check(aura_memory_kv_put(s, scope, key, val, sizeof val, 3600000, NULL), "put");
    }
    report("redis", "put+ttl", "single", n, now_s() - t);
    static aura_memory_put batch[256];
    static char sc[256][32], ke[256][64];
    t = now_s();
    for (size_t i0 = 0; i0 < n; i0 += 256) {
        size_t m = n - i0 < 256 ? n - i0 : 256;
        for (size_t j = 0; j < m; j++) {
            key_of(i0 + j, sc[j], ke[j]);
            batch[j] = (aura_memory_put){sc[j], ke[j], val, sizeof val, 3600000, 0};
        }
        check(aura_memory_kv_put_many(s, batch, m), "put_many");
    }
    report("redis", "put+ttl", "pipelined", n, now_s() - t);
    char buf[VAL_LEN];
    t = now_s();
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        key_of((i * 7919) % n, scope, key);
        check(aura_memory_kv_get(s, scope, key, buf, sizeof buf, &len, NULL), "get");
    }
    report("redis", "get", "single", n, now_s() - t);
    aura_memory_store_destroy(s);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--redis") == 0) {
        run_redis(atoi(argv[2]), (size_t)atol(argv[3]));
        return 0;
    }
    if (argc == 3 && strcmp(argv[2], "--lmdb-flips") == 0) {
        lmdb_flips(argv[1], 400);
        return 0;
    }
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
    if (nd > 0) {  /* N_DURABLE = 0 skips the fsync-bound part */
        snprintf(d, sizeof d, "%s/sq-always", argv[1]);
        run_sqlite(d, AURA_MEMORY_FSYNC_ALWAYS, nd, "fsync");
        snprintf(d, sizeof d, "%s/sq-threads", argv[1]);
        run_sqlite_threads(d, nd);
        snprintf(d, sizeof d, "%s/lm-always", argv[1]);
        run_lmdb(d, 0, nd, "fsync");
    }
    snprintf(d, sizeof d, "%s/sq-no", argv[1]);
    run_sqlite(d, AURA_MEMORY_FSYNC_NO, nf, "no-fsync");
    snprintf(d, sizeof d, "%s/lm-no", argv[1]);
    run_lmdb(d, 1, nf, "no-fsync");
    return 0;
}
