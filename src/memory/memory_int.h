/* memory_int.h -- internals of the memory module: the store object, the
 * group-commit queue and the record checksum.  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_MEMORY_INT_H
#define AURA_MEMORY_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "aura/memory.h"
#include "core/core_int.h"

/* Prepared statements, compiled once at open. */
enum {
    ST_KV_GET,      /* value, version, expires, updated, crc by (scope,key) */
    ST_KV_VER,      /* version, expires by (scope,key) */
    ST_KV_PUT,      /* upsert */
    ST_KV_DEL,
    ST_KV_EXPIRE,
    ST_J_APPEND,
    ST_SHAPE_PUT,
    ST_J_NEXT,      /* next journal id, from the seq table */
    ST_SHAPE_NEXT,  /* max(id) + 1 of shape */
    ST_BEGIN,
    ST_COMMIT,
    ST_SCAN_ONE,    /* kv prefix scan in one scope */
    ST_SCAN_ALL,    /* kv prefix scan in every scope */
    ST_SCAN_EVERY,  /* every kv row, no filter (dump, check) */
    ST_J_AGENT,     /* journal query of one agent */
    ST_J_ALL,       /* journal query across agents */
    ST_SHAPE_ONE,
    ST_SHAPE_ALL,
    ST_N
};

/* One write waiting for the group commit.  Lives on the writer's stack:
 * the writer blocks until the leader has committed it. */
typedef enum op_type { OP_PUT, OP_CAS, OP_DEL, OP_APPEND, OP_SHAPE, OP_EXPIRE } op_type;

typedef struct wop {
    op_type type;
    const char *scope, *key;
    const void *value;
    size_t value_len;
    int64_t ttl_ms;
    uint64_t expected;              /* OP_CAS */
    const aura_memory_entry *entry; /* OP_APPEND */
    const char *label;              /* OP_SHAPE */
    const float *vec;
    size_t dim;
    /* results */
    aura_status st;
    uint64_t version;
    int64_t id;
    size_t count;
    int done;
    struct wop *next;
} wop;

struct aura_memory_store {
    const aura_allocator *alloc;
    aura_memory_opts opts;
    sqlite3 *db;
    sqlite3_stmt *st[ST_N];
    pthread_mutex_t db_mu;   /* guards db and errmsg; held by the leader during a commit */
    pthread_mutex_t q_mu;    /* guards the queue below */
    pthread_cond_t q_cv;     /* signalled when a batch is committed */
    wop *q_head, *q_tail;
    int leader_active;
    uint64_t n_writes, n_commits; /* guarded by q_mu */
    /* everysec: the background syncer */
    pthread_t syncer;
    int syncer_running, stopping, dirty;
    pthread_cond_t sync_cv;
    char errmsg[512];
    struct aura__memory_redis *redis;  /* non-NULL: the Redis backend */
};

/* ---- the Redis backend (redis.c); s->db_mu serializes the connection ---- */
typedef struct aura__memory_redis aura__memory_redis;
void aura__memory_redis_free(aura_memory_store *s);
aura_status aura__memory_redis_put(aura_memory_store *s, int cas, const char *scope,
                                   const char *key, uint64_t expected, const void *value,
                                   size_t value_len, int64_t ttl_ms, uint64_t *version_out);
aura_status aura__memory_redis_get(aura_memory_store *s, const char *scope, const char *key,
                                   void *buf, size_t cap, size_t *len_out,
                                   aura_memory_record *meta);
aura_status aura__memory_redis_del(aura_memory_store *s, const char *scope, const char *key);
aura_status aura__memory_redis_scan(aura_memory_store *s, const char *scope, int all_scopes,
                                    const char *prefix, aura_memory_record_fn fn, void *ctx);
aura_status aura__memory_redis_expire(aura_memory_store *s, size_t *n_removed);
aura_status aura__memory_redis_ping(aura_memory_store *s);
aura_status aura__memory_redis_shape_put(aura_memory_store *s, const char *label,
                                         const float *vec, size_t dim, const void *payload,
                                         size_t payload_len, int64_t *id_out);
aura_status aura__memory_redis_shapes(aura_memory_store *s, int64_t id, aura_memory_shape_fn fn,
                                      void *ctx);
aura_status aura__memory_redis_append(aura_memory_store *s, const aura_memory_entry *e,
                                      int64_t *id_out);
aura_status aura__memory_redis_query(aura_memory_store *s, int kind, const char *agent,
                                     int64_t from_ms, int64_t to_ms, aura_memory_entry_fn fn,
                                     void *ctx);
aura_status aura__memory_redis_put_many(aura_memory_store *s, aura_memory_put *puts, size_t n);
int aura__memory_prefix_upper(const char *p, char *out, size_t cap);
void aura__memory_open_failed(const char *msg);

/* CRC-32C (Castagnoli) of a buffer, continuing from `crc` (0 to start). */
uint32_t aura__memory_crc32c(uint32_t crc, const void *buf, size_t len);

/* The checksum stored with a kv record / journal entry / shape. */
uint32_t aura__memory_kv_crc(const char *scope, const char *key, const void *v, size_t n,
                             uint64_t version, int64_t expires_ms, int64_t updated_ms);
uint32_t aura__memory_entry_crc(int64_t id, int kind, const char *agent, int64_t ts_ms,
                                const char *summary, const void *ctx, size_t ctx_len);
uint32_t aura__memory_shape_crc(int64_t id, const char *label, const void *vec,
                                size_t vec_bytes, const void *payload, size_t payload_len,
                                int64_t ts_ms);

/* The next id of `table` (max(id) + 1), inside the write transaction, so
 * that the checksum can cover the id. */
int aura__memory_next_id(aura_memory_store *s, int stmt, int64_t *id);

/* Maps a SQLite result code to an aura_status and records the message. */
aura_status aura__memory_sqlerr(aura_memory_store *s, int rc, const char *what);
/* Steps a bound write statement once, then resets it and clears its
 * bindings: SQLITE_DONE on success, else the SQLite error code. */
int aura__memory_sql_write(sqlite3_stmt *st);
void aura__memory_setmsg(aura_memory_store *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

int64_t aura__memory_now(const aura_memory_store *s);

/* Queues `op` and returns once it is committed (group commit). */
aura_status aura__memory_submit(aura_memory_store *s, wop *op);

/* Queues the chain first..last (linked by next) as one unit: all of it
 * lands in the same transaction.  Returns the first op's error, if any. */
aura_status aura__memory_submit_chain(aura_memory_store *s, wop *first, wop *last);

/* Applies one op inside the leader's open transaction (db_mu held) and
 * sets op->st.  Returns a SQLite result code: anything but SQLITE_OK makes
 * the leader roll the whole batch back. */
int aura__memory_apply(aura_memory_store *s, wop *op);

/* Forces the kNN int8 scan kernel (tests, benchmarks); returns 0 if this
 * CPU lacks it.  AUTO picks the best available. */
enum {
    AURA__KNN_KERNEL_AUTO,
    AURA__KNN_KERNEL_SCALAR,
    AURA__KNN_KERNEL_AVX2,
    AURA__KNN_KERNEL_VNNI
};
int aura__memory_knn_set_kernel(int kernel);

/* Validates scope/key lengths. */
aura_status aura__memory_check_key(aura_memory_store *s, const char *scope, const char *key);

#endif /* AURA_MEMORY_INT_H */
