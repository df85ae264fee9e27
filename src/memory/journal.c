/* journal.c -- the append-only journal of decisions and incidents, with
 * their context, queryable by agent, kind and time range.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "memory_int.h"

int aura__memory_apply_journal(aura_memory_store *s, wop *op);

int aura__memory_apply_journal(aura_memory_store *s, wop *op)
{
    const aura_memory_entry *e = op->entry;
    int64_t ts = e->ts_ms > 0 ? e->ts_ms : aura__memory_now(s);
    const void *ctx = e->context_len ? e->context : "";
    int64_t id = 0;
    int rc = aura__memory_next_id(s, ST_J_NEXT, &id);
    if (rc != SQLITE_OK) {
        return rc;
    }
    uint32_t crc = aura__memory_entry_crc(id, (int)e->kind, e->agent, ts, e->summary, ctx,
                                          e->context_len);
    sqlite3_stmt *st = s->st[ST_J_APPEND];
    sqlite3_bind_int(st, 1, (int)e->kind);
    sqlite3_bind_text(st, 2, e->agent, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ts);
    sqlite3_bind_text(st, 4, e->summary, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 5, ctx, e->context_len, SQLITE_STATIC);
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

aura_status aura_memory_journal_append(aura_memory_store *s, const aura_memory_entry *e,
                                       int64_t *id_out)
{
    AURA_CHECK_ARG(s && e);
    if (e->kind != AURA_MEMORY_DECISION && e->kind != AURA_MEMORY_INCIDENT) {
        aura__memory_setmsg(s, "journal entry kind %d is neither decision nor incident",
                            (int)e->kind);
        return AURA_E_INVAL;
    }
    if (!e->agent || !e->summary || (!e->context && e->context_len)) {
        aura__memory_setmsg(s, "journal entry needs an agent and a summary");
        return AURA_E_INVAL;
    }
    if (strlen(e->agent) > AURA_MEMORY_MAX_SCOPE_LEN ||
        strlen(e->summary) > AURA_MEMORY_MAX_SUMMARY_LEN ||
        e->context_len > AURA_MEMORY_MAX_VALUE_LEN) {
        aura__memory_setmsg(s, "journal entry exceeds a limit (agent %u, summary %u, "
                               "context %u bytes)", AURA_MEMORY_MAX_SCOPE_LEN,
                            AURA_MEMORY_MAX_SUMMARY_LEN, AURA_MEMORY_MAX_VALUE_LEN);
        return AURA_E_RANGE;
    }
    if (s->redis) {
        return aura__memory_redis_append(s, e, id_out);
    }
    wop op = {.type = OP_APPEND, .entry = e};
    aura_status st = aura__memory_submit(s, &op);
    if (st == AURA_OK && id_out) {
        *id_out = op.id;
    }
    return st;
}

aura_status aura_memory_journal_query(aura_memory_store *s, int kind, const char *agent,
                                      int64_t from_ms, int64_t to_ms,
                                      aura_memory_entry_fn fn, void *ctx)
{
    AURA_CHECK_ARG(s && fn);
    if (s->redis) {
        return aura__memory_redis_query(s, kind, agent, from_ms, to_ms, fn, ctx);
    }
    pthread_mutex_lock(&s->db_mu);
    sqlite3_stmt *st = s->st[agent ? ST_J_AGENT : ST_J_ALL];
    aura_status res = AURA_OK;
    int rc;
    if (agent) {
        sqlite3_bind_text(st, 1, agent, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 2, from_ms);
    sqlite3_bind_int64(st, 3, to_ms);
    sqlite3_bind_int(st, 4, kind);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* Types first: sqlite3_column_text converts a BLOB in place. */
        int types_ok = sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
                       sqlite3_column_type(st, 1) == SQLITE_INTEGER &&
                       sqlite3_column_type(st, 2) == SQLITE_TEXT &&
                       sqlite3_column_type(st, 3) == SQLITE_INTEGER &&
                       sqlite3_column_type(st, 4) == SQLITE_TEXT &&
                       sqlite3_column_type(st, 5) == SQLITE_BLOB &&
                       sqlite3_column_type(st, 6) == SQLITE_INTEGER;
        aura_memory_entry e = {
            .id = sqlite3_column_int64(st, 0),
            .kind = (aura_memory_entry_kind)sqlite3_column_int(st, 1),
            .agent = (const char *)sqlite3_column_text(st, 2),
            .ts_ms = sqlite3_column_int64(st, 3),
            .summary = (const char *)sqlite3_column_text(st, 4),
            .context = sqlite3_column_blob(st, 5),
            .context_len = (size_t)sqlite3_column_bytes(st, 5),
        };
        sqlite3_int64 stored = sqlite3_column_int64(st, 6);
        if (!e.context) {
            e.context = "";
        }
        if (!types_ok || !e.agent || !e.summary ||
            aura__memory_entry_crc(e.id, (int)e.kind, e.agent, e.ts_ms, e.summary, e.context,
                                   e.context_len) != stored) {
            aura__memory_setmsg(s, "checksum mismatch in journal entry %lld", (long long)e.id);
            res = AURA_E_CORRUPT;
            break;
        }
        if (fn(ctx, &e)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (res == AURA_OK && rc != SQLITE_DONE) {
        res = aura__memory_sqlerr(s, rc, "journal query");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&s->db_mu);
    return res;
}
