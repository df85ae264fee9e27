/* store.c -- opening the SQLite context store, its pragmas and schema, the
 * group commit of concurrent writes, and the `everysec` syncer.
 * Durability and crash recovery are SQLite's (WAL mode); this file only
 * uses it correctly: one transaction per batch of writers, `synchronous`
 * set from the fsync policy, PRAGMA quick_check on open.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "memory_int.h"

#define AURA_MEMORY_APP_ID 0x41555241   /* "AURA" in PRAGMA application_id */
#define AURA_MEMORY_SCHEMA_VERSION 1    /* PRAGMA user_version */

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS kv("
    " scope TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
    " version INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL, crc INTEGER NOT NULL,"
    " PRIMARY KEY(scope, key)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS kv_expiry ON kv(expires_ms) WHERE expires_ms > 0;"
    "CREATE TABLE IF NOT EXISTS journal("
    " agent TEXT NOT NULL, ts_ms INTEGER NOT NULL, id INTEGER NOT NULL,"
    " kind INTEGER NOT NULL, summary TEXT NOT NULL, context BLOB NOT NULL,"
    " crc INTEGER NOT NULL, PRIMARY KEY(agent, ts_ms, id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS seq(name TEXT PRIMARY KEY, next INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS shape("
    " id INTEGER PRIMARY KEY, label TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL, dim INTEGER NOT NULL, vec BLOB NOT NULL,"
    " payload BLOB NOT NULL, crc INTEGER NOT NULL);";

static const char *const stmt_sql[ST_N] = {
    [ST_KV_GET] = "SELECT value, version, expires_ms, updated_ms, crc FROM kv"
                  " WHERE scope = ?1 AND key = ?2",
    [ST_KV_VER] = "SELECT version, expires_ms FROM kv WHERE scope = ?1 AND key = ?2",
    [ST_KV_PUT] = "INSERT OR REPLACE INTO kv(scope, key, value, version, expires_ms,"
                  " updated_ms, crc) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_KV_DEL] = "DELETE FROM kv WHERE scope = ?1 AND key = ?2",
    /* The index only proposes rows; the unary + makes SQLite re-check
     * expires_ms on the table row itself, so a damaged index entry can
     * never delete a live record. */
    [ST_KV_EXPIRE] = "DELETE FROM kv WHERE (scope, key) IN (SELECT scope, key FROM kv"
                     " WHERE expires_ms > 0 AND expires_ms <= ?1)"
                     " AND +expires_ms > 0 AND +expires_ms <= ?1",
    [ST_J_APPEND] = "INSERT INTO journal(id, kind, agent, ts_ms, summary, context, crc)"
                    " VALUES(?7, ?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SHAPE_PUT] = "INSERT INTO shape(id, label, ts_ms, dim, vec, payload, crc)"
                     " VALUES(?7, ?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_J_NEXT] = "INSERT INTO seq(name, next) VALUES('journal', 2) ON CONFLICT(name)"
                  " DO UPDATE SET next = next + 1 RETURNING next - 1",
    [ST_SHAPE_NEXT] = "SELECT coalesce(max(id), 0) + 1 FROM shape",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_SCAN_ONE] = "SELECT scope, key, value, version, expires_ms, updated_ms, crc FROM kv"
                    " WHERE scope = ?1 AND key >= ?2 AND key < ?3 ORDER BY key",
    [ST_SCAN_ALL] = "SELECT scope, key, value, version, expires_ms, updated_ms, crc FROM kv"
                    " WHERE key >= ?2 AND key < ?3 ORDER BY scope, key",
    /* No WHERE at all: a row whose key type was damaged (TEXT <-> BLOB)
     * falls outside any key range but is still visited, and reported. */
    [ST_SCAN_EVERY] = "SELECT scope, key, value, version, expires_ms, updated_ms, crc FROM kv"
                      " ORDER BY scope, key",
    /* By agent: a range of the primary b-tree (agent, ts_ms, id).  Across
     * agents: a full scan (no secondary index, whose damage quick_check
     * would not see and which could silently hide entries). */
    [ST_J_AGENT] = "SELECT id, kind, agent, ts_ms, summary, context, crc FROM journal"
                   " WHERE agent = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 AND (?4 = 0 OR kind = ?4)"
                   " ORDER BY ts_ms, id",
    [ST_J_ALL] = "SELECT id, kind, agent, ts_ms, summary, context, crc FROM journal"
                 " WHERE +ts_ms >= ?2 AND +ts_ms < ?3 AND (?4 = 0 OR kind = ?4)"
                 " ORDER BY ts_ms, id",
    [ST_SHAPE_ONE] = "SELECT id, label, ts_ms, dim, vec, payload, crc FROM shape WHERE id = ?1",
    [ST_SHAPE_ALL] = "SELECT id, label, ts_ms, dim, vec, payload, crc FROM shape ORDER BY id",
};

aura_memory_opts aura_memory_opts_default(void)
{
    aura_memory_opts o = {0};
    o.fsync = AURA_MEMORY_FSYNC_ALWAYS;
    o.create = 1;
    o.quick_check = 1;
    o.busy_timeout_ms = 5000;
    return o;
}

aura_status aura_memory_fsync_parse(const char *s, aura_memory_fsync *out)
{
    AURA_CHECK_ARG(s && out);
    static const char *const names[] = {"always", "everysec", "no"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (aura_memory_fsync)i;
            return AURA_OK;
        }
    }
    return AURA_E_INVAL;
}

/* ---- error messages ---- */

static _Thread_local char open_err[512];

void aura__memory_open_failed(const char *msg)
{
    snprintf(open_err, sizeof open_err, "%s", msg);
}

const char *aura_memory_last_open_error(void)
{
    return open_err;
}

const char *aura_memory_store_errmsg(const aura_memory_store *s)
{
    return s ? s->errmsg : "";
}

void aura__memory_setmsg(aura_memory_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
    va_end(ap);
}

static aura_status map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return AURA_OK;
    case SQLITE_NOMEM:
        return AURA_E_NOMEM;
    case SQLITE_CORRUPT:
        return AURA_E_CORRUPT;
    case SQLITE_NOTADB:
        return AURA_E_FORMAT;
    case SQLITE_FULL:
        return AURA_E_FULL;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return AURA_E_TIMEOUT;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return AURA_E_IO;
    case SQLITE_TOOBIG:
        return AURA_E_RANGE;
    default:
        return AURA_E_INTERNAL;
    }
}

int aura__memory_sql_write(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

aura_status aura__memory_sqlerr(aura_memory_store *s, int rc, const char *what)
{
    aura__memory_setmsg(s, "%s: %s (sqlite %d)", what,
                        s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), rc);
    return map_rc(rc);
}

int64_t aura__memory_now(const aura_memory_store *s)
{
    if (s->opts.clock) {
        return s->opts.clock(s->opts.clock_ctx);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

aura_status aura__memory_check_key(aura_memory_store *s, const char *scope, const char *key)
{
    if (!key || !*key) {
        aura__memory_setmsg(s, "key must be a non-empty string");
        return AURA_E_INVAL;
    }
    size_t kn = strlen(key), sn = scope ? strlen(scope) : 0;
    if (kn > AURA_MEMORY_MAX_KEY_LEN) {
        aura__memory_setmsg(s, "key of %zu bytes exceeds the limit of %u", kn,
                            AURA_MEMORY_MAX_KEY_LEN);
        return AURA_E_RANGE;
    }
    if (sn > AURA_MEMORY_MAX_SCOPE_LEN) {
        aura__memory_setmsg(s, "scope of %zu bytes exceeds the limit of %u", sn,
                            AURA_MEMORY_MAX_SCOPE_LEN);
        return AURA_E_RANGE;
    }
    return AURA_OK;
}

/* ---- opening ---- */

static int exec(aura_memory_store *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

static int pragma_int(aura_memory_store *s, const char *sql, long long *v)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* PRAGMA quick_check / integrity_check: "ok", or rows naming the damage. */
static aura_status run_check(aura_memory_store *s, int full)
{
    sqlite3_stmt *st = NULL;
    const char *sql = full ? "PRAGMA integrity_check(20)" : "PRAGMA quick_check(20)";
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return aura__memory_sqlerr(s, rc, sql);
    }
    aura_status res = AURA_OK;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *msg = (const char *)sqlite3_column_text(st, 0);
        if (!msg || strcmp(msg, "ok") != 0) {
            aura__memory_setmsg(s, "%s failed: %s", sql + 7, msg ? msg : "(null)");
            res = AURA_E_CORRUPT;
        }
    } else if (rc != SQLITE_DONE) {
        res = aura__memory_sqlerr(s, rc, sql);
    }
    sqlite3_finalize(st);
    return res;
}

/* The schema as SQLite records it: type, name, table and SQL text of every
 * object, one string. */
static int schema_text(sqlite3 *db, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_schema"
                                    " ORDER BY name", -1, &st, NULL);
    size_t n = 0;
    out[0] = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < 4; c++) {
            const char *t = (const char *)sqlite3_column_text(st, c);
            int w = snprintf(out + n, cap - n, "%s\x1f", t ? t : "(null)");
            if (w < 0 || (size_t)w >= cap - n) {
                sqlite3_finalize(st);
                return SQLITE_TOOBIG;
            }
            n += (size_t)w;
        }
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* A damaged byte in the stored schema text can change what a column means
 * (e.g. "PRIMARY KEY" -> "PRIMARI KEY" unbinds id from the rowid) without
 * any structural error, so the stored schema must equal the one we create,
 * compared with a fresh in-memory copy. */
static aura_status verify_schema(aura_memory_store *s)
{
    char want[4096], have[4096];
    sqlite3 *mem = NULL;
    int rc = sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(mem, schema_sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = schema_text(mem, want, sizeof want);
    sqlite3_close(mem);
    if (rc != SQLITE_OK) {
        aura__memory_setmsg(s, "building the reference schema: %s", sqlite3_errstr(rc));
        return rc == SQLITE_NOMEM ? AURA_E_NOMEM : AURA_E_INTERNAL;
    }
    rc = schema_text(s->db, have, sizeof have);
    if (rc != SQLITE_OK) {
        return aura__memory_sqlerr(s, rc, "reading the schema");
    }
    if (strcmp(want, have) != 0) {
        aura__memory_setmsg(s, "the stored schema differs from AURA's (damaged or altered)");
        return AURA_E_CORRUPT;
    }
    return AURA_OK;
}

static aura_status setup_schema(aura_memory_store *s)
{
    long long app = 0, ver = 0, n_tables = 0;
    int rc = pragma_int(s, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK) {
        rc = pragma_int(s, "PRAGMA user_version", &ver);
    }
    if (rc == SQLITE_OK) {
        rc = pragma_int(s, "SELECT count(*) FROM sqlite_schema", &n_tables);
    }
    if (rc != SQLITE_OK) {
        return aura__memory_sqlerr(s, rc, "reading the database header");
    }
    if (n_tables > 0 && (app != AURA_MEMORY_APP_ID || ver != AURA_MEMORY_SCHEMA_VERSION)) {
        aura__memory_setmsg(s, "not an AURA memory database (application_id %lld, "
                               "user_version %lld)", app, ver);
        return AURA_E_FORMAT;
    }
    if (n_tables == 0 && s->opts.read_only) {
        aura__memory_setmsg(s, "empty database opened read-only");
        return AURA_E_FORMAT;
    }
    if (n_tables == 0) {
        char sql[128];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d;",
                 AURA_MEMORY_APP_ID, AURA_MEMORY_SCHEMA_VERSION);
        rc = exec(s, "BEGIN IMMEDIATE");
        if (rc == SQLITE_OK) rc = exec(s, sql);
        if (rc == SQLITE_OK) rc = exec(s, schema_sql);
        if (rc == SQLITE_OK) rc = exec(s, "COMMIT");
        if (rc != SQLITE_OK) {
            aura_status st = aura__memory_sqlerr(s, rc, "creating the schema");
            exec(s, "ROLLBACK");
            return st;
        }
    }
    return AURA_OK;
}

static aura_status set_pragmas(aura_memory_store *s)
{
    static const char *const sync_sql[] = {
        [AURA_MEMORY_FSYNC_ALWAYS] = "PRAGMA synchronous=FULL",
        [AURA_MEMORY_FSYNC_EVERYSEC] = "PRAGMA synchronous=NORMAL",
        [AURA_MEMORY_FSYNC_NO] = "PRAGMA synchronous=OFF",
    };
    sqlite3_busy_timeout(s->db, s->opts.busy_timeout_ms);
    /* The first statement reads page 1: a file that is not a database
     * fails here with SQLITE_NOTADB. */
    int rc = s->opts.read_only ? exec(s, "SELECT count(*) FROM sqlite_schema")
                               : exec(s, "PRAGMA journal_mode=WAL");
    if (rc != SQLITE_OK) {
        return aura__memory_sqlerr(s, rc, "opening");
    }
    rc = exec(s, sync_sql[s->opts.fsync]);
    if (rc == SQLITE_OK && s->opts.max_bytes > 0) {
        long long page = 4096;
        rc = pragma_int(s, "PRAGMA page_size", &page);
        char sql[96];
        unsigned long long pages = s->opts.max_bytes / (unsigned long long)(page > 0 ? page : 4096);
        snprintf(sql, sizeof sql, "PRAGMA max_page_count=%llu", pages ? pages : 1);
        if (rc == SQLITE_OK) {
            rc = exec(s, sql);
        }
    }
    if (rc == SQLITE_OK) {
        rc = exec(s, "PRAGMA foreign_keys=OFF; PRAGMA cell_size_check=ON;");
    }
    return rc == SQLITE_OK ? AURA_OK : aura__memory_sqlerr(s, rc, "setting pragmas");
}

static aura_status prepare_all(aura_memory_store *s)
{
    for (int i = 0; i < ST_N; i++) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->st[i], NULL);
        if (rc != SQLITE_OK) {
            return aura__memory_sqlerr(s, rc, "preparing statements");
        }
    }
    return AURA_OK;
}

static aura_status open_db(aura_memory_store *s, const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, AURA_MEMORY_DB_FILE) >= (int)sizeof path) {
        aura__memory_setmsg(s, "path too long: %s", dir);
        return AURA_E_RANGE;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (!s->opts.create || errno != ENOENT || mkdir(dir, 0755) != 0) {
            aura__memory_setmsg(s, "%s: %s", dir, strerror(errno));
            return AURA_E_IO;
        }
    } else if (!S_ISDIR(sb.st_mode)) {
        aura__memory_setmsg(s, "%s: not a directory", dir);
        return AURA_E_IO;
    }
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (s->opts.read_only) {
        flags |= SQLITE_OPEN_READONLY;
    } else {
        flags |= SQLITE_OPEN_READWRITE | (s->opts.create ? SQLITE_OPEN_CREATE : 0);
    }
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        aura_status st = aura__memory_sqlerr(s, rc, path);
        return st == AURA_E_INTERNAL ? AURA_E_IO : st;
    }
    sqlite3_extended_result_codes(s->db, 1);
    aura_status st = set_pragmas(s);
    if (st == AURA_OK && s->opts.quick_check) {
        st = run_check(s, 0);
    }
    if (st == AURA_OK) st = setup_schema(s);
    if (st == AURA_OK) st = verify_schema(s);
    if (st == AURA_OK) st = prepare_all(s);
    if (st != AURA_OK) {
        char tmp[sizeof s->errmsg];
        snprintf(tmp, sizeof tmp, "%.200s: %.300s", path, s->errmsg);
        memcpy(s->errmsg, tmp, sizeof tmp);
    }
    return st;
}

static void *syncer_main(void *arg);

aura_status aura_memory_store_open(const char *dir, const aura_memory_opts *opts,
                                   aura_memory_store **out)
{
    open_err[0] = 0;
    AURA_CHECK_ARG(dir && out);
    aura_memory_opts o = opts ? *opts : aura_memory_opts_default();
    if ((unsigned)o.fsync > AURA_MEMORY_FSYNC_NO) {
        snprintf(open_err, sizeof open_err, "invalid fsync policy %d", (int)o.fsync);
        return AURA_E_INVAL;
    }
    aura_memory_store *s = aura__calloc(o.alloc, 1, sizeof *s);
    if (!s) {
        snprintf(open_err, sizeof open_err, "out of memory");
        return AURA_E_NOMEM;
    }
    s->alloc = o.alloc;
    s->opts = o;
    pthread_mutex_init(&s->db_mu, NULL);
    pthread_mutex_init(&s->q_mu, NULL);
    pthread_cond_init(&s->q_cv, NULL);
    pthread_cond_init(&s->sync_cv, NULL);
    aura_status st = open_db(s, dir);
    if (st == AURA_OK && o.fsync == AURA_MEMORY_FSYNC_EVERYSEC && !o.read_only) {
        if (pthread_create(&s->syncer, NULL, syncer_main, s) != 0) {
            aura__memory_setmsg(s, "cannot start the sync thread");
            st = AURA_E_INTERNAL;
        } else {
            s->syncer_running = 1;
        }
    }
    if (st != AURA_OK) {
        snprintf(open_err, sizeof open_err, "%s", s->errmsg);
        aura_memory_store_destroy(s);
        return st;
    }
    *out = s;
    return AURA_OK;
}

void aura_memory_store_destroy(aura_memory_store *s)
{
    if (!s) {
        return;
    }
    if (s->syncer_running) {
        pthread_mutex_lock(&s->q_mu);
        s->stopping = 1;
        pthread_cond_broadcast(&s->sync_cv);
        pthread_mutex_unlock(&s->q_mu);
        pthread_join(s->syncer, NULL);
    }
    aura__memory_redis_free(s);
    for (int i = 0; i < ST_N; i++) {
        sqlite3_finalize(s->st[i]);
    }
    /* Closing the last connection checkpoints the WAL into the database
     * file, fsyncs it and removes the WAL. */
    sqlite3_close_v2(s->db);
    pthread_cond_destroy(&s->sync_cv);
    pthread_cond_destroy(&s->q_cv);
    pthread_mutex_destroy(&s->q_mu);
    pthread_mutex_destroy(&s->db_mu);
    aura__free(s->alloc, s);
}

/* ---- group commit ---- */

/* The leader's work: one transaction for the whole batch.  On a SQLite
 * failure everything is rolled back and every op gets that error. */
static void commit_batch(aura_memory_store *s, wop *batch)
{
    pthread_mutex_lock(&s->db_mu);
    int rc = sqlite3_step(s->st[ST_BEGIN]);
    sqlite3_reset(s->st[ST_BEGIN]);
    rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    aura_status fail = AURA_OK;
    if (rc != SQLITE_OK) {
        fail = aura__memory_sqlerr(s, rc, "begin");
    }
    for (wop *op = batch; fail == AURA_OK && op; op = op->next) {
        rc = aura__memory_apply(s, op);
        if (rc != SQLITE_OK) {
            fail = aura__memory_sqlerr(s, rc, "write");
        }
    }
    if (fail == AURA_OK) {
        rc = sqlite3_step(s->st[ST_COMMIT]);
        sqlite3_reset(s->st[ST_COMMIT]);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        if (rc != SQLITE_OK) {
            fail = aura__memory_sqlerr(s, rc, "commit");
        }
    }
    if (fail != AURA_OK) {
        if (!sqlite3_get_autocommit(s->db)) {
            exec(s, "ROLLBACK");
        }
        for (wop *op = batch; op; op = op->next) {
            op->st = fail;
        }
    }
    pthread_mutex_unlock(&s->db_mu);
}

aura_status aura__memory_submit(aura_memory_store *s, wop *op)
{
    op->next = NULL;
    return aura__memory_submit_chain(s, op, op);
}

aura_status aura__memory_submit_chain(aura_memory_store *s, wop *first, wop *last)
{
    if (s->opts.read_only) {
        aura__memory_setmsg(s, "store is read-only");
        return AURA_E_STATE;
    }
    for (wop *o = first; o; o = o->next) {
        o->done = 0;
    }
    wop *op = last;
    pthread_mutex_lock(&s->q_mu);
    if (s->q_tail) {
        s->q_tail->next = first;
    } else {
        s->q_head = first;
    }
    s->q_tail = last;
    while (!op->done) {
        if (s->leader_active) {
            pthread_cond_wait(&s->q_cv, &s->q_mu);
            continue;
        }
        /* Become the leader: take everything queued so far. */
        wop *batch = s->q_head;
        s->q_head = s->q_tail = NULL;
        s->leader_active = 1;
        pthread_mutex_unlock(&s->q_mu);
        commit_batch(s, batch);
        pthread_mutex_lock(&s->q_mu);
        s->n_commits++;
        for (wop *b = batch; b;) {
            wop *next = b->next;  /* b may vanish once done is seen */
            s->n_writes++;
            b->done = 1;
            b = next;
        }
        s->leader_active = 0;
        s->dirty = 1;
        pthread_cond_broadcast(&s->q_cv);
    }
    pthread_mutex_unlock(&s->q_mu);
    for (wop *o = first;; o = o->next) {
        if (o->st != AURA_OK || o == last) {
            return o->st;
        }
    }
}

/* ---- everysec: checkpoint (which fsyncs the WAL first) once a second ---- */

static void *syncer_main(void *arg)
{
    aura_memory_store *s = arg;
    pthread_mutex_lock(&s->q_mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->sync_cv, &s->q_mu, &ts);
        if (s->stopping || !s->dirty) {
            continue;
        }
        s->dirty = 0;
        pthread_mutex_unlock(&s->q_mu);
        pthread_mutex_lock(&s->db_mu);
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_unlock(&s->db_mu);
        pthread_mutex_lock(&s->q_mu);
    }
    pthread_mutex_unlock(&s->q_mu);
    return NULL;
}

aura_status aura_memory_store_stats(aura_memory_store *s, aura_memory_stats *out)
{
    AURA_CHECK_ARG(s && out);
    pthread_mutex_lock(&s->q_mu);
    *out = (aura_memory_stats){s->n_writes, s->n_commits};
    pthread_mutex_unlock(&s->q_mu);
    return AURA_OK;
}

aura_status aura_memory_store_sync(aura_memory_store *s)
{
    AURA_CHECK_ARG(s);
    if (s->redis) {
        return AURA_OK;  /* durability is the server's appendfsync */
    }
    pthread_mutex_lock(&s->db_mu);
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_FULL, NULL, NULL);
    aura_status st = rc == SQLITE_OK ? AURA_OK : aura__memory_sqlerr(s, rc, "checkpoint");
    pthread_mutex_unlock(&s->db_mu);
    return st;
}

static int count_rec(void *ctx, const aura_memory_record *r)
{
    AURA_UNUSED(r);
    ++*(size_t *)ctx;
    return 0;
}

static int count_entry(void *ctx, const aura_memory_entry *e)
{
    AURA_UNUSED(e);
    ++*(size_t *)ctx;
    return 0;
}

static int count_shape(void *ctx, const aura_memory_shape *sh)
{
    AURA_UNUSED(sh);
    ++*(size_t *)ctx;
    return 0;
}

aura_status aura_memory_store_check(aura_memory_store *s, int full)
{
    AURA_CHECK_ARG(s);
    if (s->redis) {
        size_t n = 0;
        aura_status st = aura__memory_redis_ping(s);
        return st == AURA_OK ? aura_memory_kv_scan(s, NULL, 1, NULL, count_rec, &n) : st;
    }
    pthread_mutex_lock(&s->db_mu);
    aura_status st = run_check(s, full);
    pthread_mutex_unlock(&s->db_mu);
    size_t n = 0;
    if (st == AURA_OK) st = aura_memory_kv_scan(s, NULL, 1, NULL, count_rec, &n);
    if (st == AURA_OK) st = aura_memory_journal_query(s, 0, NULL, INT64_MIN, INT64_MAX,
                                                      count_entry, &n);
    if (st == AURA_OK) st = aura_memory_shape_scan(s, count_shape, &n);
    return st;
}
