/* memory.h -- AURA's context and shape memory.
 *
 * A context store on embedded SQLite (WAL mode) in one directory:
 *  - key-value records, global or per agent ("scope"), with a TTL, a
 *    version that grows on every write, and compare-and-set;
 *  - an append-only journal of decisions and incidents with their context,
 *    queryable by agent and time range;
 *  - shape signatures (fixed-size float vectors with a label and payload).
 * Every record carries a CRC-32C of its fields, checked on every read, so
 * damage to a value is reported (AURA_E_CORRUPT), never served; SQLite's
 * own checks (and PRAGMA quick_check on open) catch structural damage.
 * The schema is documented in docs/memory.md.  The same API also runs on
 * Redis (aura_memory_store_open_redis).
 *
 * Threads: an aura_memory_store may be used from several threads at once;
 * concurrent writes are committed together (group commit: one transaction
 * and one fsync for all writers waiting at that moment).  Callbacks run
 * with the store locked and must not call back into the store.
 * The kNN index (aura_memory_knn) is single-threaded.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_MEMORY_H
#define AURA_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "aura/alloc.h"
#include "aura/status.h"
#include "aura/tda_diagram.h"

/* Limits (bytes, without the terminating NUL).  Longer gives AURA_E_RANGE. */
#define AURA_MEMORY_MAX_KEY_LEN 1024u            /* keys: non-empty */
#define AURA_MEMORY_MAX_SCOPE_LEN 256u           /* agent ids */
#define AURA_MEMORY_MAX_VALUE_LEN (1u << 20)     /* values, contexts, payloads */
#define AURA_MEMORY_MAX_SUMMARY_LEN 4096u        /* journal summaries, labels */
#define AURA_MEMORY_MAX_DIM 4096u                /* shape signature dimension */
#define AURA_MEMORY_DEFAULT_DIM 128u

/* The database file inside the store's directory. */
#define AURA_MEMORY_DB_FILE "aura-memory.db"

/* When a commit reaches the disk (mapped to SQLite's `synchronous`):
 *  ALWAYS   synchronous=FULL: the WAL is fsynced before a write returns.
 *  EVERYSEC synchronous=NORMAL: a background thread checkpoints (which
 *           fsyncs the WAL) once a second; a power loss may lose ~1 s.
 *  NO       synchronous=OFF: the OS decides.
 * A crashed process (kill -9) loses nothing acknowledged in any mode;
 * the modes differ on power loss. */
typedef enum aura_memory_fsync {
    AURA_MEMORY_FSYNC_ALWAYS = 0,
    AURA_MEMORY_FSYNC_EVERYSEC = 1,
    AURA_MEMORY_FSYNC_NO = 2
} aura_memory_fsync;

/* Milliseconds since the epoch; injectable for tests. */
typedef int64_t (*aura_memory_clock_fn)(void *ctx);

typedef struct aura_memory_opts {
    const aura_allocator *alloc;  /* NULL = default */
    aura_memory_fsync fsync;      /* default ALWAYS */
    aura_memory_clock_fn clock;   /* NULL = CLOCK_REALTIME */
    void *clock_ctx;              /* passed to clock */
    int create;                   /* create dir and database if missing (default 1) */
    int quick_check;              /* PRAGMA quick_check on open (default 1) */
    int read_only;                /* open read-only (default 0) */
    int busy_timeout_ms;          /* wait for other processes' locks (default 5000) */
    uint64_t max_bytes;           /* cap on the database file (0 = none); writes past
                                     it fail with AURA_E_FULL, as on a full disk */
    const char *redis_prefix;     /* Redis backend: key prefix (default "aura:") */
    int redis_timeout_ms;         /* Redis backend: connect/command timeout (default 2000) */
} aura_memory_opts;

AURA_API aura_memory_opts aura_memory_opts_default(void);

/* Parses "always", "everysec" or "no"; AURA_E_INVAL otherwise. */
AURA_API aura_status aura_memory_fsync_parse(const char *s, aura_memory_fsync *out);

typedef struct aura_memory_store aura_memory_store;

/* Opens (or creates) the store in directory `dir`.  Errors:
 * AURA_E_IO (cannot open/create), AURA_E_FORMAT (the file is not a
 * database, or not an AURA memory database), AURA_E_CORRUPT (quick_check
 * failed), AURA_E_NOMEM.  `*out` is set only on success; on failure a
 * message is available from aura_memory_last_open_error(). */
AURA_API aura_status aura_memory_store_open(const char *dir, const aura_memory_opts *opts,
                                            aura_memory_store **out);

/* The same context store on Redis (>= 4) through hiredis, for state
 * shared by several processes.  Key-value records (put, put_many, cas,
 * get, del, scan, expire: versions, CAS, checksums, TTL through Redis's
 * own expiry), the journal and shapes behave as on SQLite.  Durability is the server's (appendfsync).  Key
 * layout in docs/memory.md.  A lost connection gives AURA_E_CONN; the
 * next call reconnects.  opts: alloc, clock (must be wall time: Redis
 * expires keys by its own clock), redis_prefix, redis_timeout_ms. */
AURA_API aura_status aura_memory_store_open_redis(const char *host, int port,
                                                  const aura_memory_opts *opts,
                                                  aura_memory_store **out);

/* Closes the store (checkpoints the WAL).  NULL is a no-op. */
AURA_API void aura_memory_store_destroy(aura_memory_store *s);

/* The last error message on `s` (library-owned, valid until the next call
 * on `s`); "" if none. */
AURA_API const char *aura_memory_store_errmsg(const aura_memory_store *s);

/* The message of this thread's last failed aura_memory_store_open; "" if none. */
AURA_API const char *aura_memory_last_open_error(void);

/* Runs PRAGMA quick_check (full = 0) or integrity_check (full = 1) and
 * verifies every record's checksum.  AURA_E_CORRUPT names the damage. */
AURA_API aura_status aura_memory_store_check(aura_memory_store *s, int full);

/* Counters since open: writes (put, cas, del, append, shape, expire) and
 * the transactions that committed them (fewer under group commit). */
typedef struct aura_memory_stats {
    uint64_t writes;
    uint64_t commits;
} aura_memory_stats;

AURA_API aura_status aura_memory_store_stats(aura_memory_store *s, aura_memory_stats *out);

/* Forces the WAL into the database file and fsyncs it. */
AURA_API aura_status aura_memory_store_sync(aura_memory_store *s);

/* ---- key-value records ------------------------------------------------ */

/* `scope` is an agent id, or NULL/"" for the global scope.  `ttl_ms` <= 0
 * means no expiry; an expired record reads as absent. */

typedef struct aura_memory_record {
    const char *scope;   /* "" = global */
    const char *key;
    const void *value;
    size_t value_len;
    uint64_t version;    /* 1 for a new key, +1 on every write */
    int64_t expires_ms;  /* 0 = never */
    int64_t updated_ms;
} aura_memory_record;

/* Writes key = value (copied).  `*version_out` (may be NULL) receives the
 * new version.  Returns once the write is committed under the fsync
 * policy.  AURA_E_RANGE on oversized key/scope/value. */
AURA_API aura_status aura_memory_kv_put(aura_memory_store *s, const char *scope, const char *key,
                                        const void *value, size_t value_len, int64_t ttl_ms,
                                        uint64_t *version_out);

/* Many puts at once.  SQLite: one transaction (all or nothing, one fsync);
 * Redis: two pipelined round trips for the whole batch (each record
 * applied atomically, the batch not).  Each element's `version` receives
 * its new version on success.  Validation errors (AURA_E_RANGE, _INVAL)
 * are reported before anything is written. */
typedef struct aura_memory_put {
    const char *scope;   /* NULL or "" = global */
    const char *key;
    const void *value;
    size_t value_len;
    int64_t ttl_ms;      /* <= 0: no expiry */
    uint64_t version;    /* out */
} aura_memory_put;

AURA_API aura_status aura_memory_kv_put_many(aura_memory_store *s, aura_memory_put *puts,
                                             size_t n);

/* Compare-and-set: writes only if the live version equals `expected`
 * (0 = the key must be absent or expired); else AURA_E_CONFLICT. */
AURA_API aura_status aura_memory_kv_cas(aura_memory_store *s, const char *scope, const char *key,
                                        uint64_t expected, const void *value, size_t value_len,
                                        int64_t ttl_ms, uint64_t *version_out);

/* Reads a value into (buf, cap); `*len_out` gets its length.  buf == NULL
 * only asks for the length.  AURA_E_RANGE if cap is too small (nothing
 * written), AURA_E_NOTFOUND if absent or expired, AURA_E_CORRUPT if the
 * checksum does not match.  `meta` (may be NULL) gets the record with
 * value == NULL and scope/key pointing at the caller's strings. */
AURA_API aura_status aura_memory_kv_get(aura_memory_store *s, const char *scope, const char *key,
                                        void *buf, size_t cap, size_t *len_out,
                                        aura_memory_record *meta);

/* Deletes a key; AURA_E_NOTFOUND if it was absent. */
AURA_API aura_status aura_memory_kv_del(aura_memory_store *s, const char *scope, const char *key);

/* Calls fn on every live record whose key starts with `prefix` (NULL or
 * "" = all), in key order, in `scope`, or in every scope (global first)
 * if all_scopes is set.  The record is a view valid during the call.  fn
 * returns non-zero to stop.  AURA_E_CORRUPT (after the good records
 * before it) on a damaged record. */
typedef int (*aura_memory_record_fn)(void *ctx, const aura_memory_record *rec);
AURA_API aura_status aura_memory_kv_scan(aura_memory_store *s, const char *scope, int all_scopes,
                                         const char *prefix, aura_memory_record_fn fn, void *ctx);

/* Deletes expired records; `*n_removed` (may be NULL) gets their count. */
AURA_API aura_status aura_memory_kv_expire(aura_memory_store *s, size_t *n_removed);

/* ---- journal: decisions and incidents --------------------------------- */

typedef enum aura_memory_entry_kind {
    AURA_MEMORY_DECISION = 1,
    AURA_MEMORY_INCIDENT = 2
} aura_memory_entry_kind;

typedef struct aura_memory_entry {
    int64_t id;                   /* grows with every append */
    aura_memory_entry_kind kind;
    const char *agent;
    int64_t ts_ms;
    const char *summary;          /* e.g. "deny: trust 0.2 < 0.5" */
    const void *context;          /* e.g. a JSON object */
    size_t context_len;
} aura_memory_entry;

/* Appends an entry (copied; e->id is ignored).  ts_ms <= 0 takes the
 * store's clock.  `*id_out` (may be NULL) receives its id. */
AURA_API aura_status aura_memory_journal_append(aura_memory_store *s, const aura_memory_entry *e,
                                                int64_t *id_out);

/* Calls fn on entries with from_ms <= ts_ms < to_ms, of `kind` (0 = any),
 * of `agent` (NULL = any), in (ts_ms, id) order. */
typedef int (*aura_memory_entry_fn)(void *ctx, const aura_memory_entry *e);
AURA_API aura_status aura_memory_journal_query(aura_memory_store *s, int kind, const char *agent,
                                               int64_t from_ms, int64_t to_ms,
                                               aura_memory_entry_fn fn, void *ctx);

/* ---- shape memory ----------------------------------------------------- */

typedef struct aura_memory_shape {
    int64_t id;
    const char *label;      /* e.g. "preceded a cascade" */
    const float *vec;       /* dim floats */
    size_t dim;
    const void *payload;
    size_t payload_len;
    int64_t ts_ms;
} aura_memory_shape;

/* Stores a signature (copied; finite values, 1 <= dim <= MAX_DIM, not all
 * zero).  `*id_out` (may be NULL) receives its id. */
AURA_API aura_status aura_memory_shape_put(aura_memory_store *s, const char *label,
                                           const float *vec, size_t dim, const void *payload,
                                           size_t payload_len, int64_t *id_out);

/* Reads signature `id` into a callback (view valid during the call). */
typedef int (*aura_memory_shape_fn)(void *ctx, const aura_memory_shape *shape);
AURA_API aura_status aura_memory_shape_get(aura_memory_store *s, int64_t id,
                                           aura_memory_shape_fn fn, void *ctx);

/* Calls fn on every stored signature, in id order. */
AURA_API aura_status aura_memory_shape_scan(aura_memory_store *s, aura_memory_shape_fn fn,
                                            void *ctx);

/* Embeds a feature vector of any length (persistence-diagram summaries,
 * graph measures, ...) into `dim` floats with a seeded sparse random
 * projection (Achlioptas 2003): out = R x with R[i][j] = sqrt(3/dim) *
 * {+1 w.p. 1/6, 0 w.p. 2/3, -1 w.p. 1/6}, R never stored (each entry is a
 * hash of seed, i, j).  Linear, and preserves norms and inner products in
 * expectation (Johnson-Lindenstrauss), so signatures built with the same
 * seed and feature layout compare by cosine.  AURA_E_NUMERIC on NaN/Inf,
 * AURA_E_RANGE if dim is 0 or > AURA_MEMORY_MAX_DIM; out untouched on
 * failure.  Cost O(n_features * dim). */
AURA_API aura_status aura_memory_signature_project(const float *features, size_t n_features,
                                                   uint64_t seed, float *out, size_t dim);

/* ---- exact cosine kNN over signatures (in memory) --------------------- */

typedef struct aura_memory_knn aura_memory_knn;

typedef struct aura_memory_knn_opts {
    const aura_allocator *alloc;  /* NULL = default */
    size_t dim;                   /* default AURA_MEMORY_DEFAULT_DIM */
} aura_memory_knn_opts;

AURA_API aura_memory_knn_opts aura_memory_knn_opts_default(void);

typedef struct aura_memory_hit {
    int64_t id;
    float score;  /* cosine similarity, exact (float32 arithmetic) */
} aura_memory_hit;

AURA_API aura_status aura_memory_knn_create(const aura_memory_knn_opts *opts,
                                            aura_memory_knn **out);
AURA_API void aura_memory_knn_destroy(aura_memory_knn *knn);

/* Adds a vector of opts.dim floats (copied).  AURA_E_NUMERIC on NaN/Inf,
 * AURA_E_INVAL on an all-zero vector. */
AURA_API aura_status aura_memory_knn_add(aura_memory_knn *knn, int64_t id, const float *vec);

/* Adds every stored signature of the index's dimension; others are
 * skipped.  `*n_added` (may be NULL) gets the count. */
AURA_API aura_status aura_memory_knn_load(aura_memory_knn *knn, aura_memory_store *s,
                                          size_t *n_added);

AURA_API size_t aura_memory_knn_size(const aura_memory_knn *knn);

/* The k most cosine-similar vectors to `query`, best first, into
 * (out, k); `*n_out` = min(k, size).  Exact: an int8 scan with a proven
 * error bound picks the candidates and an exact float re-rank orders
 * them, so the result equals a brute-force float scan (ties by lower
 * index first).  Cost: reads ~n*(dim+8) bytes plus the candidates. */
AURA_API aura_status aura_memory_knn_search(aura_memory_knn *knn, const float *query, size_t k,
                                            aura_memory_hit *out, size_t *n_out);

/* nq queries at once (queries: nq x dim floats): each block of the index
 * is read from memory once for all of them.  Query i's hits go to
 * out[i*k .. i*k+k) and their count to n_out[i]; results equal nq calls
 * of aura_memory_knn_search.  Allocates O(nq * size) scratch. */
AURA_API aura_status aura_memory_knn_search_batch(aura_memory_knn *knn, const float *queries,
                                                  size_t nq, size_t k, aura_memory_hit *out,
                                                  size_t *n_out);

/* The same with a plain float scan over all vectors (reference/tests). */
AURA_API aura_status aura_memory_knn_search_brute(aura_memory_knn *knn, const float *query,
                                                  size_t k, aura_memory_hit *out, size_t *n_out);

/* ---- re-ranking by diagram distance ----------------------------------- */

/* Persistence diagrams travel in shape payloads in a small binary form:
 * "AURAPD1\0", a little-endian uint32 count, then count (birth, death)
 * pairs of little-endian float64 (death = +inf for essential classes).
 * encode: buf == NULL asks for the size in *len_out; AURA_E_RANGE if cap
 * is too small.  decode: AURA_E_FORMAT if the bytes are not such a
 * diagram; out == NULL asks for the count. */
AURA_API aura_status aura_memory_diagram_encode(const aura_tda_interval *d, size_t n, void *buf,
                                                size_t cap, size_t *len_out);
AURA_API aura_status aura_memory_diagram_decode(const void *buf, size_t len,
                                                aura_tda_interval *out, size_t cap,
                                                size_t *n_out);

/* One kNN candidate to re-rank: its diagram (borrowed) and, on return,
 * its distance to the query diagram. */
typedef struct aura_memory_rerank_item {
    int64_t id;                          /* e.g. the shape id of a kNN hit */
    const aura_tda_interval *diagram;    /* borrowed */
    size_t n;
    double distance;                     /* out */
} aura_memory_rerank_item;

/* The optional second stage of shape search: computes each candidate's
 * diagram distance to `query` (bottleneck or p-Wasserstein, exact; opts
 * NULL = bottleneck) and sorts items by it, nearest first (ties: the
 * earlier item first, so kNN order breaks ties).  Items are untouched on
 * failure. */
AURA_API aura_status aura_memory_rerank_by_diagram(const aura_tda_distance_opts *opts,
                                                   const aura_tda_interval *query, size_t nq,
                                                   aura_memory_rerank_item *items, size_t n_items);

#endif /* AURA_MEMORY_H */
