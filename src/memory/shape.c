/* shape.c -- persisted shape signatures: a fixed-size float vector with a
 * label and a payload, stored in the `shape` table (vector as a float32
 * little-endian blob).  Search lives in knn.c.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>

#include "memory_int.h"

int aura__memory_apply_shape(aura_memory_store *s, wop *op);

int aura__memory_apply_shape(aura_memory_store *s, wop *op)
{
    int64_t ts = aura__memory_now(s);
    size_t vbytes = op->dim * sizeof(float);
    const void *payload = op->value_len ? op->value : "";
    int64_t id = 0;
    int rc = aura__memory_next_id(s, ST_SHAPE_NEXT, &id);
    if (rc != SQLITE_OK) {
        return rc;
    }
    uint32_t crc = aura__memory_shape_crc(id, op->label, op->vec, vbytes, payload, op->value_len,
                                          ts);
    sqlite3_stmt *st = s->st[ST_SHAPE_PUT];
    sqlite3_bind_text(st, 1, op->label, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, ts);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)op->dim);
    sqlite3_bind_blob64(st, 4, op->vec, vbytes, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 5, payload, op->value_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, crc);
    sqlite3_bind_int64(st, 7, id);
    rc = aura__memory_sql_write(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }
    op->id = id;
    op->st = AURA_OK;
    return SQLITE_OK;
}

aura_status aura_memory_shape_put(aura_memory_store *s, const char *label, const float *vec,
                                  size_t dim, const void *payload, size_t payload_len,
                                  int64_t *id_out)
{
    AURA_CHECK_ARG(s && label && vec && (payload || payload_len == 0));
    if (dim == 0 || dim > AURA_MEMORY_MAX_DIM || strlen(label) > AURA_MEMORY_MAX_SUMMARY_LEN ||
        payload_len > AURA_MEMORY_MAX_VALUE_LEN) {
        aura__memory_setmsg(s, "shape exceeds a limit (dim 1..%u, label %u, payload %u bytes)",
                            AURA_MEMORY_MAX_DIM, AURA_MEMORY_MAX_SUMMARY_LEN,
                            AURA_MEMORY_MAX_VALUE_LEN);
        return AURA_E_RANGE;
    }
    int nonzero = 0;
    for (size_t i = 0; i < dim; i++) {
        if (!isfinite(vec[i])) {
            aura__memory_setmsg(s, "signature component %zu is not finite", i);
            return AURA_E_NUMERIC;
        }
        nonzero |= vec[i] != 0.0f;
    }
    if (!nonzero) {
        aura__memory_setmsg(s, "signature is all zero (no direction for cosine)");
        return AURA_E_INVAL;
    }
    if (s->redis) {
        return aura__memory_redis_shape_put(s, label, vec, dim, payload, payload_len, id_out);
    }
    wop op = {.type = OP_SHAPE, .label = label, .vec = vec, .dim = dim, .value = payload,
              .value_len = payload_len};
    aura_status st = aura__memory_submit(s, &op);
    if (st == AURA_OK && id_out) {
        *id_out = op.id;
    }
    return st;
}

static aura_status shape_query(aura_memory_store *s, int64_t id, int want_one,
                               aura_memory_shape_fn fn, void *ctx)
{
    if (s->redis) {
        return aura__memory_redis_shapes(s, want_one ? (id > 0 ? id : -1) : 0, fn, ctx);
    }
    pthread_mutex_lock(&s->db_mu);
    sqlite3_stmt *st = s->st[want_one ? ST_SHAPE_ONE : ST_SHAPE_ALL];
    aura_status res = AURA_OK;
    int rc;
    if (want_one) {
        sqlite3_bind_int64(st, 1, id);
    }
    int seen = 0;
    static _Thread_local float vec[AURA_MEMORY_MAX_DIM];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Types first: sqlite3_column_text converts a BLOB in place. */
        int types_ok = sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
                       sqlite3_column_type(st, 1) == SQLITE_TEXT &&
                       sqlite3_column_type(st, 2) == SQLITE_INTEGER &&
                       sqlite3_column_type(st, 3) == SQLITE_INTEGER &&
                       sqlite3_column_type(st, 4) == SQLITE_BLOB &&
                       sqlite3_column_type(st, 5) == SQLITE_BLOB &&
                       sqlite3_column_type(st, 6) == SQLITE_INTEGER;
        aura_memory_shape sh = {
            .id = sqlite3_column_int64(st, 0),
            .label = (const char *)sqlite3_column_text(st, 1),
            .ts_ms = sqlite3_column_int64(st, 2),
            .dim = (size_t)sqlite3_column_int64(st, 3),
            .vec = sqlite3_column_blob(st, 4),
            .payload = sqlite3_column_blob(st, 5),
            .payload_len = (size_t)sqlite3_column_bytes(st, 5),
        };
        size_t vbytes = (size_t)sqlite3_column_bytes(st, 4);
        sqlite3_int64 stored = sqlite3_column_int64(st, 6);
        if (!sh.payload) {
            sh.payload = "";
        }
        if (!types_ok || !sh.label || !sh.vec || sh.dim == 0 || sh.dim > AURA_MEMORY_MAX_DIM ||
            vbytes != sh.dim * sizeof(float) ||
            aura__memory_shape_crc(sh.id, sh.label, sh.vec, vbytes, sh.payload, sh.payload_len,
                                   sh.ts_ms) != stored) {
            aura__memory_setmsg(s, "checksum mismatch in shape %lld", (long long)sh.id);
            res = AURA_E_CORRUPT;
            break;
        }
        /* A blob may sit unaligned in a page buffer: hand out a copy. */
        memcpy(vec, sh.vec, vbytes);
        sh.vec = vec;
        seen = 1;
        if (fn(ctx, &sh)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (res == AURA_OK && rc != SQLITE_DONE) {
        res = aura__memory_sqlerr(s, rc, "shape query");
    }
    if (res == AURA_OK && want_one && !seen) {
        aura__memory_setmsg(s, "shape %lld not found", (long long)id);
        res = AURA_E_NOTFOUND;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->db_mu);
    return res;
}

aura_status aura_memory_shape_get(aura_memory_store *s, int64_t id, aura_memory_shape_fn fn,
                                  void *ctx)
{
    AURA_CHECK_ARG(s && fn);
    return shape_query(s, id, 1, fn, ctx);
}

aura_status aura_memory_shape_scan(aura_memory_store *s, aura_memory_shape_fn fn, void *ctx)
{
    AURA_CHECK_ARG(s && fn);
    return shape_query(s, 0, 0, fn, ctx);
}
