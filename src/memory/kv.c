/* kv.c -- key-value records: put, compare-and-set, get, delete, prefix
 * scans and TTL expiry, plus the per-record checksum (CRC-32C) that
 * catches damage to values, which SQLite does not checksum.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "memory_int.h"

/* ---- CRC-32C, bytewise table (Castagnoli polynomial, reflected) ---- */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int j = 0; j < 8; j++) {
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        }
        crc_table[i] = c;
    }
}

uint32_t aura__memory_crc32c(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc_once, crc_init);
    const unsigned char *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

static uint32_t crc_i64(uint32_t crc, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)((uint64_t)v >> (8 * i));
    }
    return aura__memory_crc32c(crc, b, 8);
}

/* Strings are hashed with their NUL so that ("ab","c") != ("a","bc"). */
static uint32_t crc_str(uint32_t crc, const char *s)
{
    return aura__memory_crc32c(crc, s, strlen(s) + 1);
}

uint32_t aura__memory_kv_crc(const char *scope, const char *key, const void *v, size_t n,
                             uint64_t version, int64_t expires_ms, int64_t updated_ms)
{
    uint32_t c = crc_str(0, scope);
    c = crc_str(c, key);
    c = crc_i64(c, (int64_t)n);
    c = aura__memory_crc32c(c, v, n);
    c = crc_i64(c, (int64_t)version);
    c = crc_i64(c, expires_ms);
    return crc_i64(c, updated_ms);
}

uint32_t aura__memory_entry_crc(int64_t id, int kind, const char *agent, int64_t ts_ms,
                                const char *summary, const void *ctx, size_t ctx_len)
{
    uint32_t c = crc_i64(crc_i64(0, id), kind);
    c = crc_str(c, agent);
    c = crc_i64(c, ts_ms);
    c = crc_str(c, summary);
    c = crc_i64(c, (int64_t)ctx_len);
    return aura__memory_crc32c(c, ctx, ctx_len);
}

uint32_t aura__memory_shape_crc(int64_t id, const char *label, const void *vec,
                                size_t vec_bytes, const void *payload, size_t payload_len,
                                int64_t ts_ms)
{
    uint32_t c = crc_str(crc_i64(0, id), label);
    c = crc_i64(c, (int64_t)vec_bytes);
    c = aura__memory_crc32c(c, vec, vec_bytes);
    c = crc_i64(c, (int64_t)payload_len);
    c = aura__memory_crc32c(c, payload, payload_len);
    return crc_i64(c, ts_ms);
}

/* ---- writes (run by the group-commit leader) ---- */

static const char *scope_or_global(const char *scope)
{
    return scope ? scope : "";
}

static void bind_sk(sqlite3_stmt *st, const char *scope, const char *key)
{
    sqlite3_bind_text(st, 1, scope_or_global(scope), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
}

/* The live version of (scope, key): 0 if absent or expired; *stored gets
 * the stored version even if expired (versions never go back). */
static int live_version(aura_memory_store *s, const char *scope, const char *key, int64_t now,
                        uint64_t *live, uint64_t *stored)
{
    sqlite3_stmt *st = s->st[ST_KV_VER];
    bind_sk(st, scope, key);
    int rc = sqlite3_step(st);
    *live = *stored = 0;
    if (rc == SQLITE_ROW) {
        *stored = (uint64_t)sqlite3_column_int64(st, 0);
        int64_t exp = sqlite3_column_int64(st, 1);
        *live = (exp > 0 && exp <= now) ? 0 : *stored;
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_reset(st);
    return rc;
}

static int apply_put(aura_memory_store *s, wop *op)
{
    int64_t now = aura__memory_now(s);
    uint64_t live, stored;
    int rc = live_version(s, op->scope, op->key, now, &live, &stored);
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (op->type == OP_CAS && live != op->expected) {
        aura__memory_setmsg(s, "compare-and-set on '%s': version is %llu, expected %llu",
                            op->key, (unsigned long long)live,
                            (unsigned long long)op->expected);
        op->st = AURA_E_CONFLICT;
        return SQLITE_OK;
    }
    uint64_t version = stored + 1;
    int64_t expires = op->ttl_ms > 0 ? now + op->ttl_ms : 0;
    const char *scope = scope_or_global(op->scope);
    uint32_t crc = aura__memory_kv_crc(scope, op->key, op->value, op->value_len, version,
                                       expires, now);
    sqlite3_stmt *st = s->st[ST_KV_PUT];
    bind_sk(st, scope, op->key);
    sqlite3_bind_blob64(st, 3, op->value_len ? op->value : "", op->value_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)version);
    sqlite3_bind_int64(st, 5, expires);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_int64(st, 7, crc);
    rc = aura__memory_sql_write(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }
    op->version = version;
    op->st = AURA_OK;
    return SQLITE_OK;
}

static int apply_del(aura_memory_store *s, wop *op)
{
    sqlite3_stmt *st = s->st[ST_KV_DEL];
    bind_sk(st, op->scope, op->key);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }
    op->st = sqlite3_changes(s->db) > 0 ? AURA_OK : AURA_E_NOTFOUND;
    return SQLITE_OK;
}

static int apply_expire(aura_memory_store *s, wop *op)
{
    sqlite3_stmt *st = s->st[ST_KV_EXPIRE];
    sqlite3_bind_int64(st, 1, aura__memory_now(s));
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }
    op->count = (size_t)sqlite3_changes(s->db);
    op->st = AURA_OK;
    return SQLITE_OK;
}

int aura__memory_next_id(aura_memory_store *s, int stmt, int64_t *id)
{
    sqlite3_stmt *st = s->st[stmt];
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);  /* RETURNING: finish the statement */
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_CORRUPT;   /* an id query always yields a row */
    }
    sqlite3_reset(st);
    return rc;
}

int aura__memory_apply_journal(aura_memory_store *s, wop *op);
int aura__memory_apply_shape(aura_memory_store *s, wop *op);

int aura__memory_apply(aura_memory_store *s, wop *op)
{
    switch (op->type) {
    case OP_PUT:
    case OP_CAS:
        return apply_put(s, op);
    case OP_DEL:
        return apply_del(s, op);
    case OP_EXPIRE:
        return apply_expire(s, op);
    case OP_APPEND:
        return aura__memory_apply_journal(s, op);
    case OP_SHAPE:
        return aura__memory_apply_shape(s, op);
    }
    op->st = AURA_E_INTERNAL;
    return SQLITE_OK;
}

/* ---- public API ---- */

static aura_status put_common(aura_memory_store *s, op_type type, const char *scope,
                              const char *key, uint64_t expected, const void *value,
                              size_t value_len, int64_t ttl_ms, uint64_t *version_out)
{
    AURA_CHECK_ARG(s && (value || value_len == 0));
    aura_status st = aura__memory_check_key(s, scope, key);
    if (st != AURA_OK) {
        return st;
    }
    if (value_len > AURA_MEMORY_MAX_VALUE_LEN) {
        aura__memory_setmsg(s, "value of %zu bytes exceeds the limit of %u", value_len,
                            AURA_MEMORY_MAX_VALUE_LEN);
        return AURA_E_RANGE;
    }
    if (s->redis) {
        return aura__memory_redis_put(s, type == OP_CAS, scope, key, expected, value, value_len,
                                      ttl_ms, version_out);
    }
    wop op = {.type = type, .scope = scope, .key = key, .value = value,
              .value_len = value_len, .ttl_ms = ttl_ms, .expected = expected};
    st = aura__memory_submit(s, &op);
    if (st == AURA_OK && version_out) {
        *version_out = op.version;
    }
    return st;
}

aura_status aura_memory_kv_put(aura_memory_store *s, const char *scope, const char *key,
                               const void *value, size_t value_len, int64_t ttl_ms,
                               uint64_t *version_out)
{
    return put_common(s, OP_PUT, scope, key, 0, value, value_len, ttl_ms, version_out);
}

aura_status aura_memory_kv_put_many(aura_memory_store *s, aura_memory_put *puts, size_t n)
{
    AURA_CHECK_ARG(s && (puts || n == 0));
    for (size_t i = 0; i < n; i++) {
        aura_status st = aura__memory_check_key(s, puts[i].scope, puts[i].key);
        if (st == AURA_OK && !puts[i].value && puts[i].value_len) {
            aura__memory_setmsg(s, "put %zu: NULL value with a length", i);
            st = AURA_E_INVAL;
        }
        if (st == AURA_OK && puts[i].value_len > AURA_MEMORY_MAX_VALUE_LEN) {
            aura__memory_setmsg(s, "put %zu: value of %zu bytes exceeds the limit of %u", i,
                                puts[i].value_len, AURA_MEMORY_MAX_VALUE_LEN);
            st = AURA_E_RANGE;
        }
        if (st != AURA_OK) {
            return st;
        }
    }
    if (n == 0) {
        return AURA_OK;
    }
    if (s->redis) {
        return aura__memory_redis_put_many(s, puts, n);
    }
    wop *ops = aura__alloc_array(s->alloc, n, sizeof *ops);
    if (!ops) {
        aura__memory_setmsg(s, "out of memory for %zu puts", n);
        return AURA_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        ops[i] = (wop){.type = OP_PUT, .scope = puts[i].scope, .key = puts[i].key,
                       .value = puts[i].value, .value_len = puts[i].value_len,
                       .ttl_ms = puts[i].ttl_ms, .next = i + 1 < n ? &ops[i + 1] : NULL};
    }
    aura_status st = aura__memory_submit_chain(s, &ops[0], &ops[n - 1]);
    if (st == AURA_OK) {
        for (size_t i = 0; i < n; i++) {
            puts[i].version = ops[i].version;
        }
    }
    aura__free(s->alloc, ops);
    return st;
}

aura_status aura_memory_kv_cas(aura_memory_store *s, const char *scope, const char *key,
                               uint64_t expected, const void *value, size_t value_len,
                               int64_t ttl_ms, uint64_t *version_out)
{
    return put_common(s, OP_CAS, scope, key, expected, value, value_len, ttl_ms, version_out);
}

aura_status aura_memory_kv_del(aura_memory_store *s, const char *scope, const char *key)
{
    AURA_CHECK_ARG(s);
    aura_status st = aura__memory_check_key(s, scope, key);
    if (st != AURA_OK) {
        return st;
    }
    if (s->redis) {
        return aura__memory_redis_del(s, scope, key);
    }
    wop op = {.type = OP_DEL, .scope = scope, .key = key};
    return aura__memory_submit(s, &op);
}

aura_status aura_memory_kv_expire(aura_memory_store *s, size_t *n_removed)
{
    AURA_CHECK_ARG(s);
    if (s->redis) {
        return aura__memory_redis_expire(s, n_removed);
    }
    wop op = {.type = OP_EXPIRE};
    aura_status st = aura__memory_submit(s, &op);
    if (st == AURA_OK && n_removed) {
        *n_removed = op.count;
    }
    return st;
}

/* Reads the current row of a kv SELECT into `r`, checking its checksum.
 * Columns from `c0`: value, version, expires_ms, updated_ms, crc. */
static aura_status read_row(aura_memory_store *s, sqlite3_stmt *st, int c0,
                            aura_memory_record *r)
{
    /* A damaged record header can turn a column's type (TEXT <-> BLOB,
     * integer -> real) without changing its bytes; the checksum would
     * not see that, so check the types too. */
    if (sqlite3_column_type(st, c0) != SQLITE_BLOB ||
        sqlite3_column_type(st, c0 + 1) != SQLITE_INTEGER ||
        sqlite3_column_type(st, c0 + 2) != SQLITE_INTEGER ||
        sqlite3_column_type(st, c0 + 3) != SQLITE_INTEGER ||
        sqlite3_column_type(st, c0 + 4) != SQLITE_INTEGER) {
        aura__memory_setmsg(s, "record scope='%.64s' key='%.128s' has a damaged column type",
                            r->scope, r->key);
        return AURA_E_CORRUPT;
    }
    r->value = sqlite3_column_blob(st, c0);
    r->value_len = (size_t)sqlite3_column_bytes(st, c0);
    r->version = (uint64_t)sqlite3_column_int64(st, c0 + 1);
    r->expires_ms = sqlite3_column_int64(st, c0 + 2);
    r->updated_ms = sqlite3_column_int64(st, c0 + 3);
    uint32_t stored = (uint32_t)sqlite3_column_int64(st, c0 + 4);
    if (!r->value) {
        r->value = "";
    }
    uint32_t crc = aura__memory_kv_crc(r->scope, r->key, r->value, r->value_len, r->version,
                                       r->expires_ms, r->updated_ms);
    if (crc != stored || sqlite3_column_int64(st, c0 + 4) != (sqlite3_int64)stored) {
        aura__memory_setmsg(s, "checksum mismatch in record scope='%.64s' key='%.128s' "
                               "(stored %08x, computed %08x)", r->scope, r->key,
                            (unsigned)stored, (unsigned)crc);
        return AURA_E_CORRUPT;
    }
    return AURA_OK;
}

aura_status aura_memory_kv_get(aura_memory_store *s, const char *scope, const char *key,
                               void *buf, size_t cap, size_t *len_out,
                               aura_memory_record *meta)
{
    AURA_CHECK_ARG(s && len_out);
    aura_status res = aura__memory_check_key(s, scope, key);
    if (res != AURA_OK) {
        return res;
    }
    if (s->redis) {
        return aura__memory_redis_get(s, scope, key, buf, cap, len_out, meta);
    }
    pthread_mutex_lock(&s->db_mu);
    sqlite3_stmt *st = s->st[ST_KV_GET];
    bind_sk(st, scope, key);
    int rc = sqlite3_step(st);
    aura_memory_record r = {.scope = scope_or_global(scope), .key = key};
    if (rc == SQLITE_DONE) {
        aura__memory_setmsg(s, "key '%.128s' not found", key);
        res = AURA_E_NOTFOUND;
    } else if (rc != SQLITE_ROW) {
        res = aura__memory_sqlerr(s, rc, "get");
    } else {
        res = read_row(s, st, 0, &r);
    }
    if (res == AURA_OK && r.expires_ms > 0 && r.expires_ms <= aura__memory_now(s)) {
        aura__memory_setmsg(s, "key '%.128s' expired", key);
        res = AURA_E_NOTFOUND;
    }
    if (res == AURA_OK && buf && cap < r.value_len) {
        aura__memory_setmsg(s, "buffer of %zu bytes too small for %zu", cap, r.value_len);
        res = AURA_E_RANGE;
    }
    if (res == AURA_OK) {
        if (buf && r.value_len) {
            memcpy(buf, r.value, r.value_len);
        }
        *len_out = r.value_len;
        if (meta) {
            *meta = r;
            meta->value = NULL;
        }
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->db_mu);
    return res;
}

/* The smallest string greater than every string starting with p (same
 * length, last non-0xff byte incremented); 0 if there is none. */
int aura__memory_prefix_upper(const char *p, char *out, size_t cap)
{
    size_t n = strlen(p);
    if (n + 1 > cap) {
        return 0;
    }
    memcpy(out, p, n + 1);
    while (n > 0 && (unsigned char)out[n - 1] == 0xff) {
        out[--n] = 0;
    }
    if (n == 0) {
        return 0;
    }
    out[n - 1] = (char)((unsigned char)out[n - 1] + 1);
    return 1;
}

aura_status aura_memory_kv_scan(aura_memory_store *s, const char *scope, int all_scopes,
                                const char *prefix, aura_memory_record_fn fn, void *ctx)
{
    AURA_CHECK_ARG(s && fn);
    prefix = prefix ? prefix : "";
    if (strlen(prefix) > AURA_MEMORY_MAX_KEY_LEN) {
        aura__memory_setmsg(s, "prefix longer than the key limit %u", AURA_MEMORY_MAX_KEY_LEN);
        return AURA_E_RANGE;
    }
    char upper[AURA_MEMORY_MAX_KEY_LEN + 1];
    if (s->redis) {
        return aura__memory_redis_scan(s, scope, all_scopes, prefix, fn, ctx);
    }
    int has_upper = aura__memory_prefix_upper(prefix, upper, sizeof upper);
    pthread_mutex_lock(&s->db_mu);
    int every = all_scopes && !*prefix;
    sqlite3_stmt *st = s->st[every ? ST_SCAN_EVERY : all_scopes ? ST_SCAN_ALL : ST_SCAN_ONE];
    aura_status res = AURA_OK;
    int rc;
    if (every) {
        /* no parameters */
    } else if (!all_scopes) {
        sqlite3_bind_text(st, 1, scope_or_global(scope), -1, SQLITE_STATIC);
    }
    if (!every) {
        sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
    }
    if (every) {
        /* no bounds */
    } else if (has_upper) {
        sqlite3_bind_text(st, 3, upper, -1, SQLITE_STATIC);
    } else {
        /* No upper bound: every TEXT sorts before any BLOB in SQLite, and
         * a bound (rather than "?3 IS NULL OR") keeps the range seek. */
        sqlite3_bind_zeroblob(st, 3, 0);
    }
    int64_t now = aura__memory_now(s);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Types first: sqlite3_column_text converts a BLOB in place. */
        if (sqlite3_column_type(st, 0) != SQLITE_TEXT || sqlite3_column_type(st, 1) != SQLITE_TEXT) {
            aura__memory_setmsg(s, "a record's scope or key has a damaged column type");
            res = AURA_E_CORRUPT;
            break;
        }
        aura_memory_record r = {.scope = (const char *)sqlite3_column_text(st, 0),
                                .key = (const char *)sqlite3_column_text(st, 1)};
        if (!r.scope || !r.key) {
            aura__memory_setmsg(s, "record with a NULL scope or key");
            res = AURA_E_CORRUPT;
            break;
        }
        res = read_row(s, st, 2, &r);
        if (res != AURA_OK) {
            break;
        }
        if (r.expires_ms > 0 && r.expires_ms <= now) {
            continue;
        }
        if (fn(ctx, &r)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (res == AURA_OK && rc != SQLITE_DONE) {
        res = aura__memory_sqlerr(s, rc, "scan");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->db_mu);
    return res;
}
