/* redis.c -- the context store's key-value records on Redis, through
 * hiredis.  Same semantics as the SQLite store (versions, compare-and-set,
 * CRC-32C per record, TTL); Redis expires keys itself.  Key layout:
 *   <prefix>kv:<len(scope)>:<scope>:<key>  hash: val ver exp upd crc
 *   <prefix>idx:<scope>                    sorted set of keys (score 0),
 *                                          for ordered prefix scans
 *   <prefix>scopes                         set of scopes
 * A write reads the stored version, computes the new record and its CRC,
 * and commits with a Lua script that applies it only if the version is
 * still the one read (optimistic concurrency; retried for put).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/redis_int.h"
#include "memory_int.h"

struct aura__memory_redis {
    aura__redis conn; /* the shared connection helper (src/core/redis.c) */
    char prefix[64];
};

static const char *const put_script =
    "local cur = tonumber(redis.call('HGET', KEYS[1], 'ver') or '0')\n"
    "if cur ~= tonumber(ARGV[1]) then return -1 end\n"
    "redis.call('HSET', KEYS[1], 'val', ARGV[2], 'ver', cur + 1, 'exp', ARGV[3],"
    " 'upd', ARGV[4], 'crc', ARGV[5])\n"
    "if tonumber(ARGV[3]) > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[3])"
    " else redis.call('PERSIST', KEYS[1]) end\n"
    "redis.call('ZADD', KEYS[2], 0, ARGV[6])\n"
    "redis.call('SADD', KEYS[3], ARGV[7])\n"
    "return cur + 1\n";

/* ---- connection ---- */

static aura_status connect(aura_memory_store *s)
{
    aura_status st = aura__redis_ensure(&s->redis->conn);
    if (st != AURA_OK) {
        aura__memory_setmsg(s, "%s", s->redis->conn.errmsg);
    }
    return st;
}

/* One command, never retried (a write must not run twice); NULL (with *st
 * and the message set) on a lost connection, which the next call
 * re-establishes, or on a Redis error reply. */
static redisReply *cmd(aura_memory_store *s, int argc, const char **argv, const size_t *lens,
                       aura_status *st)
{
    aura__redis *c = &s->redis->conn;
    redisReply *rep = aura__redis_command(c, argc, argv, lens);
    if (!rep) {
        aura__memory_setmsg(s, "%s", c->errmsg);
        *st = AURA_E_CONN;
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        aura__memory_setmsg(s, "redis %s: %.300s", argv[0], rep->str);
        *st = strncmp(rep->str, "OOM", 3) == 0 ? AURA_E_FULL : AURA_E_INTERNAL;
        freeReplyObject(rep);
        return NULL;
    }
    *st = AURA_OK;
    return rep;
}

/* Reads one pipelined reply; NULL (connection dropped, message set) on
 * failure. */
static redisReply *pipe_reply(aura_memory_store *s, aura_status *st)
{
    redisReply *rep = aura__redis_pipe_reply(&s->redis->conn, "connection lost");
    if (!rep) {
        aura__memory_setmsg(s, "%s", s->redis->conn.errmsg);
        *st = AURA_E_CONN;
    }
    return rep;
}

static size_t rec_key(const aura__memory_redis *r, const char *scope, const char *key, char *out,
                      size_t cap)
{
    int n = snprintf(out, cap, "%skv:%zu:%s:%s", r->prefix, strlen(scope), scope, key);
    return n < 0 ? 0 : (size_t)n;
}

static size_t idx_key(const aura__memory_redis *r, const char *scope, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%sidx:%s", r->prefix, scope);
    return n < 0 ? 0 : (size_t)n;
}

#define KEYBUF (AURA_MEMORY_MAX_KEY_LEN + AURA_MEMORY_MAX_SCOPE_LEN + 96)

/* ---- open / close ---- */

aura_status aura_memory_store_open_redis(const char *host, int port, const aura_memory_opts *opts,
                                         aura_memory_store **out)
{
    aura__memory_open_failed("");
    AURA_CHECK_ARG(host && out);
    aura_memory_opts o = opts ? *opts : aura_memory_opts_default();
    const char *prefix = o.redis_prefix ? o.redis_prefix : "aura:";
    if (port <= 0 || port > 65535 || strlen(host) >= 256 || strlen(prefix) >= 64) {
        aura__memory_open_failed("redis: port outside 1..65535, or host/prefix too long");
        return AURA_E_RANGE;
    }
    aura_memory_store *s = aura__calloc(o.alloc, 1, sizeof *s);
    aura__memory_redis *r = aura__calloc(o.alloc, 1, sizeof *r);
    if (!s || !r) {
        aura__free(o.alloc, s);
        aura__free(o.alloc, r);
        aura__memory_open_failed("out of memory");
        return AURA_E_NOMEM;
    }
    s->alloc = o.alloc;
    s->opts = o;
    s->redis = r;
    pthread_mutex_init(&s->db_mu, NULL);
    pthread_mutex_init(&s->q_mu, NULL);
    pthread_cond_init(&s->q_cv, NULL);
    pthread_cond_init(&s->sync_cv, NULL);
    snprintf(r->prefix, sizeof r->prefix, "%s", prefix);
    aura_status st = aura__redis_init(&r->conn, host, port,
                                      o.redis_timeout_ms > 0 ? o.redis_timeout_ms : 2000, 0);
    if (st != AURA_OK) {
        aura__memory_setmsg(s, "%s", r->conn.errmsg);
    } else {
        st = aura__memory_redis_ping(s);
    }
    if (st != AURA_OK) {
        aura__memory_open_failed(s->errmsg);
        aura_memory_store_destroy(s);
        return st;
    }
    *out = s;
    return AURA_OK;
}

void aura__memory_redis_free(aura_memory_store *s)
{
    if (s->redis) {
        aura__redis_close(&s->redis->conn);
        aura__free(s->alloc, s->redis);
        s->redis = NULL;
    }
}

aura_status aura__memory_redis_ping(aura_memory_store *s)
{
    const char *argv[] = {"PING"};
    aura_status st;
    pthread_mutex_lock(&s->db_mu);
    redisReply *rep = cmd(s, 1, argv, NULL, &st);
    pthread_mutex_unlock(&s->db_mu);
    if (rep) {
        freeReplyObject(rep);
    }
    return st;
}

/* ---- records ---- */

typedef struct fields {
    const char *val;
    size_t val_len;
    uint64_t ver;
    int64_t exp, upd;
    int64_t crc;
    int present;
} fields;

static int64_t num(const redisReply *e)
{
    return e && e->type == REDIS_REPLY_STRING ? strtoll(e->str, NULL, 10) : 0;
}

/* HMGET val ver exp upd crc -> fields (pointers into rep). */
static aura_status parse_fields(aura_memory_store *s, const redisReply *rep, fields *f)
{
    *f = (fields){0};
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 5) {
        aura__memory_setmsg(s, "redis: unexpected reply to HMGET");
        return AURA_E_CORRUPT;
    }
    if (rep->element[1]->type == REDIS_REPLY_NIL) {
        return AURA_OK;  /* absent */
    }
    for (size_t i = 0; i < 5; i++) {
        if (rep->element[i]->type != REDIS_REPLY_STRING) {
            aura__memory_setmsg(s, "redis: record with a missing field");
            return AURA_E_CORRUPT;
        }
    }
    f->present = 1;
    f->val = rep->element[0]->str;
    f->val_len = rep->element[0]->len;
    f->ver = (uint64_t)num(rep->element[1]);
    f->exp = num(rep->element[2]);
    f->upd = num(rep->element[3]);
    f->crc = num(rep->element[4]);
    return AURA_OK;
}

static aura_status check_crc(aura_memory_store *s, const char *scope, const char *key,
                             const fields *f)
{
    uint32_t crc = aura__memory_kv_crc(scope, key, f->val, f->val_len, f->ver, f->exp, f->upd);
    if ((int64_t)crc != f->crc) {
        aura__memory_setmsg(s, "checksum mismatch in record scope='%.64s' key='%.128s'", scope,
                            key);
        return AURA_E_CORRUPT;
    }
    return AURA_OK;
}

static redisReply *hmget(aura_memory_store *s, const char *rk, size_t rkl, aura_status *st)
{
    const char *argv[] = {"HMGET", rk, "val", "ver", "exp", "upd", "crc"};
    size_t lens[] = {5, rkl, 3, 3, 3, 3, 3};
    return cmd(s, 7, argv, lens, st);
}

static aura_status put_locked(aura_memory_store *s, int cas, const char *scope, const char *key,
                              uint64_t expected, const void *value, size_t value_len,
                              int64_t ttl_ms, uint64_t *version_out)
{
    aura__memory_redis *r = s->redis;
    char rk[KEYBUF], ik[KEYBUF], sk[96];
    size_t rkl = rec_key(r, scope, key, rk, sizeof rk), ikl = idx_key(r, scope, ik, sizeof ik);
    int skl = snprintf(sk, sizeof sk, "%sscopes", r->prefix);
    for (int attempt = 0; attempt < 1000; attempt++) {
        aura_status st;
        redisReply *rep = hmget(s, rk, rkl, &st);
        if (!rep) {
            return st;
        }
        fields f;
        st = parse_fields(s, rep, &f);
        freeReplyObject(rep);
        if (st != AURA_OK) {
            return st;
        }
        int64_t now = aura__memory_now(s);
        uint64_t live = f.present && !(f.exp > 0 && f.exp <= now) ? f.ver : 0;
        if (cas && live != expected) {
            aura__memory_setmsg(s, "compare-and-set on '%s': version is %llu, expected %llu",
                                key, (unsigned long long)live, (unsigned long long)expected);
            return AURA_E_CONFLICT;
        }
        uint64_t stored = f.present ? f.ver : 0, ver = stored + 1;
        int64_t expires = ttl_ms > 0 ? now + ttl_ms : 0;
        uint32_t crc = aura__memory_kv_crc(scope, key, value_len ? value : "", value_len, ver,
                                           expires, now);
        char a_stored[24], a_exp[24], a_now[24], a_crc[24];
        snprintf(a_stored, sizeof a_stored, "%llu", (unsigned long long)stored);
        snprintf(a_exp, sizeof a_exp, "%lld", (long long)expires);
        snprintf(a_now, sizeof a_now, "%lld", (long long)now);
        snprintf(a_crc, sizeof a_crc, "%lu", (unsigned long)crc);
        const char *argv[] = {"EVAL", put_script, "3", rk, ik, sk, a_stored,
                              value_len ? (const char *)value : "", a_exp, a_now, a_crc, key,
                              scope};
        size_t lens[] = {4, strlen(put_script), 1, rkl, ikl, (size_t)skl, strlen(a_stored),
                         value_len, strlen(a_exp), strlen(a_now), strlen(a_crc), strlen(key),
                         strlen(scope)};
        rep = cmd(s, 13, argv, lens, &st);
        if (!rep) {
            return st;
        }
        long long v = rep->type == REDIS_REPLY_INTEGER ? rep->integer : -2;
        freeReplyObject(rep);
        if (v == -2) {
            aura__memory_setmsg(s, "redis: unexpected reply to the put script");
            return AURA_E_INTERNAL;
        }
        if (v > 0) {
            if (version_out) {
                *version_out = (uint64_t)v;
            }
            return AURA_OK;
        }
        /* raced with another writer: read again */
    }
    aura__memory_setmsg(s, "redis: '%s' kept changing under 1000 attempts", key);
    return AURA_E_CONFLICT;
}

aura_status aura__memory_redis_put(aura_memory_store *s, int cas, const char *scope,
                                   const char *key, uint64_t expected, const void *value,
                                   size_t value_len, int64_t ttl_ms, uint64_t *version_out)
{
    pthread_mutex_lock(&s->db_mu);
    aura_status st = put_locked(s, cas, scope ? scope : "", key, expected, value, value_len,
                                ttl_ms, version_out);
    pthread_mutex_unlock(&s->db_mu);
    return st;
}

aura_status aura__memory_redis_get(aura_memory_store *s, const char *scope, const char *key,
                                   void *buf, size_t cap, size_t *len_out,
                                   aura_memory_record *meta)
{
    scope = scope ? scope : "";
    char rk[KEYBUF];
    size_t rkl = rec_key(s->redis, scope, key, rk, sizeof rk);
    aura_status st;
    pthread_mutex_lock(&s->db_mu);
    redisReply *rep = hmget(s, rk, rkl, &st);
    fields f;
    if (rep) {
        st = parse_fields(s, rep, &f);
    }
    if (st == AURA_OK && (!f.present || (f.exp > 0 && f.exp <= aura__memory_now(s)))) {
        aura__memory_setmsg(s, "key '%.128s' not found", key);
        st = AURA_E_NOTFOUND;
    }
    if (st == AURA_OK) {
        st = check_crc(s, scope, key, &f);
    }
    if (st == AURA_OK && buf && cap < f.val_len) {
        aura__memory_setmsg(s, "buffer of %zu bytes too small for %zu", cap, f.val_len);
        st = AURA_E_RANGE;
    }
    if (st == AURA_OK) {
        if (buf && f.val_len) {
            memcpy(buf, f.val, f.val_len);
        }
        *len_out = f.val_len;
        if (meta) {
            *meta = (aura_memory_record){scope, key, NULL, f.val_len, f.ver, f.exp, f.upd};
        }
    }
    if (rep) {
        freeReplyObject(rep);
    }
    pthread_mutex_unlock(&s->db_mu);
    return st;
}

aura_status aura__memory_redis_del(aura_memory_store *s, const char *scope, const char *key)
{
    scope = scope ? scope : "";
    char rk[KEYBUF], ik[KEYBUF];
    size_t rkl = rec_key(s->redis, scope, key, rk, sizeof rk);
    size_t ikl = idx_key(s->redis, scope, ik, sizeof ik);
    const char *a1[] = {"DEL", rk};
    size_t l1[] = {3, rkl};
    const char *a2[] = {"ZREM", ik, key};
    size_t l2[] = {4, ikl, strlen(key)};
    aura_status st;
    pthread_mutex_lock(&s->db_mu);
    redisReply *rep = cmd(s, 2, a1, l1, &st);
    long long n = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
    if (rep) {
        freeReplyObject(rep);
        rep = cmd(s, 3, a2, l2, &st);
        if (rep) {
            freeReplyObject(rep);
        }
    }
    pthread_mutex_unlock(&s->db_mu);
    if (st == AURA_OK && n == 0) {
        aura__memory_setmsg(s, "key '%.128s' not found", key);
        st = AURA_E_NOTFOUND;
    }
    return st;
}

static int cmp_reply_str(const void *a, const void *b)
{
    const redisReply *x = *(redisReply *const *)a, *y = *(redisReply *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->str, y->str, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The sorted scopes (a SMEMBERS reply, sorted in place), or one scope. */
static redisReply *scopes_reply(aura_memory_store *s, aura_status *st)
{
    char sk[96];
    int skl = snprintf(sk, sizeof sk, "%sscopes", s->redis->prefix);
    const char *argv[] = {"SMEMBERS", sk};
    size_t lens[] = {8, (size_t)skl};
    redisReply *rep = cmd(s, 2, argv, lens, st);
    if (rep && rep->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(rep);
        aura__memory_setmsg(s, "redis: unexpected reply to SMEMBERS");
        *st = AURA_E_INTERNAL;
        return NULL;
    }
    if (rep && rep->elements > 1) {
        qsort(rep->element, rep->elements, sizeof *rep->element, cmp_reply_str);
    }
    return rep;
}

/* Scans one scope's index in key order, HMGET pipelined in chunks. */
static aura_status scan_scope(aura_memory_store *s, const char *scope, const char *prefix,
                              aura_memory_record_fn fn, void *ctx, int *stop)
{
    aura__memory_redis *r = s->redis;
    char ik[KEYBUF], lo[AURA_MEMORY_MAX_KEY_LEN + 2], hi[AURA_MEMORY_MAX_KEY_LEN + 2];
    size_t ikl = idx_key(r, scope, ik, sizeof ik);
    snprintf(lo, sizeof lo, "%s%s", *prefix ? "[" : "-", prefix);
    hi[0] = '(';
    if (!*prefix || !aura__memory_prefix_upper(prefix, hi + 1, sizeof hi - 1)) {
        snprintf(hi, sizeof hi, "+");
    }
    const char *argv[] = {"ZRANGEBYLEX", ik, lo, hi};
    size_t lens[] = {11, ikl, strlen(lo), strlen(hi)};
    aura_status st;
    redisReply *keys = cmd(s, 4, argv, lens, &st);
    if (!keys) {
        return st;
    }
    int64_t now = aura__memory_now(s);
    for (size_t i0 = 0; st == AURA_OK && !*stop && i0 < keys->elements; i0 += 256) {
        size_t i1 = i0 + 256 < keys->elements ? i0 + 256 : keys->elements;
        char rk[KEYBUF];
        for (size_t i = i0; i < i1; i++) {
            size_t rkl = rec_key(r, scope, keys->element[i]->str, rk, sizeof rk);
            const char *a[] = {"HMGET", rk, "val", "ver", "exp", "upd", "crc"};
            size_t l[] = {5, rkl, 3, 3, 3, 3, 3};
            redisAppendCommandArgv(r->conn.c, 7, a, l);
        }
        for (size_t i = i0; i < i1; i++) {
            redisReply *rep = pipe_reply(s, &st);
            if (!rep) {
                freeReplyObject(keys);
                return st;
            }
            fields f;
            const char *key = keys->element[i]->str;
            if (st == AURA_OK && !*stop) {
                st = parse_fields(s, rep, &f);
                if (st == AURA_OK && f.present && !(f.exp > 0 && f.exp <= now)) {
                    st = check_crc(s, scope, key, &f);
                    aura_memory_record rec = {scope, key, f.val, f.val_len, f.ver, f.exp, f.upd};
                    if (st == AURA_OK && fn(ctx, &rec)) {
                        *stop = 1;
                    }
                }
            }
            freeReplyObject(rep);  /* drain every reply of the chunk */
        }
    }
    freeReplyObject(keys);
    return st;
}

aura_status aura__memory_redis_scan(aura_memory_store *s, const char *scope, int all_scopes,
                                    const char *prefix, aura_memory_record_fn fn, void *ctx)
{
    prefix = prefix ? prefix : "";
    aura_status st = AURA_OK;
    int stop = 0;
    pthread_mutex_lock(&s->db_mu);
    if (!all_scopes) {
        st = scan_scope(s, scope ? scope : "", prefix, fn, ctx, &stop);
    } else {
        redisReply *sc = scopes_reply(s, &st);
        for (size_t i = 0; sc && st == AURA_OK && !stop && i < sc->elements; i++) {
            st = scan_scope(s, sc->element[i]->str, prefix, fn, ctx, &stop);
        }
        if (sc) {
            freeReplyObject(sc);
        }
    }
    pthread_mutex_unlock(&s->db_mu);
    return st;
}

/* Redis deletes expired records itself; this drops their stale entries
 * from the scope indexes and counts them. */
aura_status aura__memory_redis_expire(aura_memory_store *s, size_t *n_removed)
{
    aura__memory_redis *r = s->redis;
    aura_status st = AURA_OK;
    size_t removed = 0;
    pthread_mutex_lock(&s->db_mu);
    redisReply *sc = scopes_reply(s, &st);
    for (size_t i = 0; sc && st == AURA_OK && i < sc->elements; i++) {
        const char *scope = sc->element[i]->str;
        char ik[KEYBUF], rk[KEYBUF];
        size_t ikl = idx_key(r, scope, ik, sizeof ik);
        const char *a[] = {"ZRANGE", ik, "0", "-1"};
        size_t l[] = {6, ikl, 1, 2};
        redisReply *keys = cmd(s, 4, a, l, &st);
        for (size_t j = 0; keys && st == AURA_OK && j < keys->elements; j++) {
            const char *key = keys->element[j]->str;
            size_t rkl = rec_key(r, scope, key, rk, sizeof rk);
            const char *ae[] = {"EXISTS", rk};
            size_t le[] = {6, rkl};
            redisReply *ex = cmd(s, 2, ae, le, &st);
            if (ex && ex->type == REDIS_REPLY_INTEGER && ex->integer == 0) {
                const char *az[] = {"ZREM", ik, key};
                size_t lz[] = {4, ikl, keys->element[j]->len};
                redisReply *z = cmd(s, 3, az, lz, &st);
                removed += z != NULL;
                if (z) {
                    freeReplyObject(z);
                }
            }
            if (ex) {
                freeReplyObject(ex);
            }
        }
        if (keys) {
            freeReplyObject(keys);
        }
    }
    if (sc) {
        freeReplyObject(sc);
    }
    pthread_mutex_unlock(&s->db_mu);
    if (st == AURA_OK && n_removed) {
        *n_removed = removed;
    }
    return st;
}


/* Pipelined: every HMGET, then every version-checked EVAL; a record that
 * raced with another writer is retried on its own. */
static aura_status put_many_chunk(aura_memory_store *s, aura_memory_put *puts, size_t n)
{
    aura__memory_redis *r = s->redis;
    aura_status st = connect(s);
    if (st != AURA_OK) {
        return st;
    }
    uint64_t stored[256];
    char rk[KEYBUF];
    for (size_t i = 0; i < n; i++) {
        size_t rkl = rec_key(r, puts[i].scope ? puts[i].scope : "", puts[i].key, rk, sizeof rk);
        const char *a[] = {"HMGET", rk, "val", "ver", "exp", "upd", "crc"};
        size_t l[] = {5, rkl, 3, 3, 3, 3, 3};
        redisAppendCommandArgv(r->conn.c, 7, a, l);
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = pipe_reply(s, &st);
        if (!rep) {
            return st;
        }
        fields f;
        aura_status pst = parse_fields(s, rep, &f);
        freeReplyObject(rep);
        st = st == AURA_OK ? pst : st;
        stored[i] = f.present ? f.ver : 0;
    }
    if (st != AURA_OK) {
        return st;
    }
    int64_t now = aura__memory_now(s);
    char sk[96];
    int skl = snprintf(sk, sizeof sk, "%sscopes", r->prefix);
    for (size_t i = 0; i < n; i++) {
        const char *scope = puts[i].scope ? puts[i].scope : "";
        char ik[KEYBUF], a_stored[24], a_exp[24], a_now[24], a_crc[24];
        size_t rkl = rec_key(r, scope, puts[i].key, rk, sizeof rk);
        size_t ikl = idx_key(r, scope, ik, sizeof ik);
        int64_t expires = puts[i].ttl_ms > 0 ? now + puts[i].ttl_ms : 0;
        const char *val = puts[i].value_len ? (const char *)puts[i].value : "";
        uint32_t crc = aura__memory_kv_crc(scope, puts[i].key, val, puts[i].value_len,
                                           stored[i] + 1, expires, now);
        snprintf(a_stored, sizeof a_stored, "%llu", (unsigned long long)stored[i]);
        snprintf(a_exp, sizeof a_exp, "%lld", (long long)expires);
        snprintf(a_now, sizeof a_now, "%lld", (long long)now);
        snprintf(a_crc, sizeof a_crc, "%lu", (unsigned long)crc);
        const char *argv[] = {"EVAL", put_script, "3", rk, ik, sk, a_stored, val, a_exp, a_now,
                              a_crc, puts[i].key, scope};
        size_t lens[] = {4, strlen(put_script), 1, rkl, ikl, (size_t)skl, strlen(a_stored),
                         puts[i].value_len, strlen(a_exp), strlen(a_now), strlen(a_crc),
                         strlen(puts[i].key), strlen(scope)};
        redisAppendCommandArgv(r->conn.c, 13, argv, lens);
    }
    long long ver[256];
    for (size_t i = 0; i < n; i++) {
        redisReply *rep = pipe_reply(s, &st);
        if (!rep) {
            return st;
        }
        ver[i] = rep->type == REDIS_REPLY_INTEGER ? rep->integer : -2;
        if (rep->type == REDIS_REPLY_ERROR && st == AURA_OK) {
            aura__memory_setmsg(s, "redis EVAL: %.300s", rep->str);
            st = AURA_E_INTERNAL;
        }
        freeReplyObject(rep);
    }
    for (size_t i = 0; st == AURA_OK && i < n; i++) {
        if (ver[i] == -1) {  /* raced: once more on its own */
            st = put_locked(s, 0, puts[i].scope ? puts[i].scope : "", puts[i].key, 0,
                            puts[i].value, puts[i].value_len, puts[i].ttl_ms, &puts[i].version);
        } else if (ver[i] > 0) {
            puts[i].version = (uint64_t)ver[i];
        } else {
            aura__memory_setmsg(s, "redis: unexpected reply to the put script");
            st = AURA_E_INTERNAL;
        }
    }
    return st;
}

aura_status aura__memory_redis_put_many(aura_memory_store *s, aura_memory_put *puts, size_t n)
{
    aura_status st = AURA_OK;
    pthread_mutex_lock(&s->db_mu);
    for (size_t i = 0; st == AURA_OK && i < n; i += 256) {
        st = put_many_chunk(s, puts + i, n - i < 256 ? n - i : 256);
    }
    pthread_mutex_unlock(&s->db_mu);
    return st;
}

/* The next id of the counter <prefix><seq> (INCR); with db_mu held. */
static aura_status next_id(aura_memory_store *s, const char *seq, int64_t *id)
{
    char k_seq[96];
    int lseq = snprintf(k_seq, sizeof k_seq, "%s%s", s->redis->prefix, seq);
    const char *a1[] = {"INCR", k_seq};
    size_t l1[] = {4, (size_t)lseq};
    aura_status st;
    redisReply *rep = cmd(s, 2, a1, l1, &st);
    *id = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
    if (rep) {
        freeReplyObject(rep);
        if (*id <= 0) {
            aura__memory_setmsg(s, "redis: unexpected reply to INCR");
            st = AURA_E_INTERNAL;
        }
    }
    return st;
}

/* ---- journal on Redis ----
 *   <prefix>jseq                  counter of entry ids (INCR)
 *   <prefix>je:<id>               hash: kind agent ts sum ctx crc
 *   <prefix>ja:<agent>            sorted set of ids, score ts_ms
 *   <prefix>jall                  sorted set of every id, score ts_ms
 * Scores are doubles: exact for ms timestamps below 2^53. */

aura_status aura__memory_redis_append(aura_memory_store *s, const aura_memory_entry *e,
                                      int64_t *id_out)
{
    aura__memory_redis *r = s->redis;
    char k_e[128], k_a[AURA_MEMORY_MAX_SCOPE_LEN + 96], k_all[96];
    pthread_mutex_lock(&s->db_mu);
    int64_t id = 0;
    aura_status st = next_id(s, "jseq", &id);
    if (st == AURA_OK) {
        int64_t ts = e->ts_ms > 0 ? e->ts_ms : aura__memory_now(s);
        const char *ctx = e->context_len ? (const char *)e->context : "";
        uint32_t crc = aura__memory_entry_crc(id, (int)e->kind, e->agent, ts, e->summary, ctx,
                                              e->context_len);
        int le = snprintf(k_e, sizeof k_e, "%sje:%lld", r->prefix, (long long)id);
        int la = snprintf(k_a, sizeof k_a, "%sja:%s", r->prefix, e->agent);
        int lall = snprintf(k_all, sizeof k_all, "%sjall", r->prefix);
        char a_kind[8], a_ts[24], a_crc[24], a_id[24];
        snprintf(a_kind, sizeof a_kind, "%d", (int)e->kind);
        snprintf(a_ts, sizeof a_ts, "%lld", (long long)ts);
        snprintf(a_crc, sizeof a_crc, "%lu", (unsigned long)crc);
        snprintf(a_id, sizeof a_id, "%lld", (long long)id);
        static const char *const script =
            "redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'agent', ARGV[2], 'ts', ARGV[3],"
            " 'sum', ARGV[4], 'ctx', ARGV[5], 'crc', ARGV[6])\n"
            "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[7])\n"
            "redis.call('ZADD', KEYS[3], ARGV[3], ARGV[7])\n"
            "return 1\n";
        const char *a2[] = {"EVAL", script, "3", k_e, k_a, k_all, a_kind, e->agent, a_ts,
                            e->summary, ctx, a_crc, a_id};
        size_t l2[] = {4, strlen(script), 1, (size_t)le, (size_t)la, (size_t)lall,
                       strlen(a_kind), strlen(e->agent), strlen(a_ts), strlen(e->summary),
                       e->context_len, strlen(a_crc), strlen(a_id)};
        redisReply *rep = cmd(s, 13, a2, l2, &st);
        if (rep) {
            freeReplyObject(rep);
        }
    }
    pthread_mutex_unlock(&s->db_mu);
    if (st == AURA_OK && id_out) {
        *id_out = id;
    }
    return st;
}

typedef struct jrow {
    int64_t id, ts;
    redisReply *rep;  /* HMGET kind agent ts sum ctx crc */
} jrow;

static int cmp_jrow(const void *a, const void *b)
{
    const jrow *x = a, *y = b;
    if (x->ts != y->ts) {
        return x->ts < y->ts ? -1 : 1;
    }
    return (x->id > y->id) - (x->id < y->id);
}

/* One entry from its HMGET reply, checked; AURA_E_NOTFOUND if it vanished. */
static aura_status entry_of(aura_memory_store *s, const jrow *row, aura_memory_entry *e)
{
    const redisReply *rep = row->rep;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 6) {
        aura__memory_setmsg(s, "redis: unexpected reply to HMGET");
        return AURA_E_CORRUPT;
    }
    for (size_t i = 0; i < 6; i++) {
        if (rep->element[i]->type != REDIS_REPLY_STRING) {
            aura__memory_setmsg(s, "journal entry %lld has a missing field", (long long)row->id);
            return AURA_E_CORRUPT;
        }
    }
    *e = (aura_memory_entry){
        .id = row->id,
        .kind = (aura_memory_entry_kind)strtol(rep->element[0]->str, NULL, 10),
        .agent = rep->element[1]->str,
        .ts_ms = strtoll(rep->element[2]->str, NULL, 10),
        .summary = rep->element[3]->str,
        .context = rep->element[4]->str,
        .context_len = rep->element[4]->len,
    };
    int64_t crc = strtoll(rep->element[5]->str, NULL, 10);
    if ((int64_t)aura__memory_entry_crc(e->id, (int)e->kind, e->agent, e->ts_ms, e->summary,
                                        e->context, e->context_len) != crc ||
        e->ts_ms != row->ts) {
        aura__memory_setmsg(s, "checksum mismatch in journal entry %lld", (long long)row->id);
        return AURA_E_CORRUPT;
    }
    return AURA_OK;
}

static aura_status query_locked(aura_memory_store *s, int kind, const char *agent, int64_t from,
                                int64_t to, aura_memory_entry_fn fn, void *ctx)
{
    aura__memory_redis *r = s->redis;
    char zk[AURA_MEMORY_MAX_SCOPE_LEN + 96], a_from[32], a_to[32];
    int zl = agent ? snprintf(zk, sizeof zk, "%sja:%s", r->prefix, agent)
                   : snprintf(zk, sizeof zk, "%sjall", r->prefix);
    snprintf(a_from, sizeof a_from, "%lld", (long long)from);
    snprintf(a_to, sizeof a_to, "(%lld", (long long)to);
    const char *a[] = {"ZRANGEBYSCORE", zk, from == INT64_MIN ? "-inf" : a_from,
                       to == INT64_MAX ? "+inf" : a_to, "WITHSCORES"};
    size_t l[] = {13, (size_t)zl, strlen(a[2]), strlen(a[3]), 10};
    aura_status st;
    redisReply *ids = cmd(s, 5, a, l, &st);
    if (!ids) {
        return st;
    }
    size_t n = ids->type == REDIS_REPLY_ARRAY ? ids->elements / 2 : 0;
    jrow *rows = n ? aura__calloc(s->alloc, n, sizeof *rows) : NULL;
    if (n && !rows) {
        freeReplyObject(ids);
        aura__memory_setmsg(s, "out of memory for %zu journal entries", n);
        return AURA_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        char ek[128];
        rows[i].id = strtoll(ids->element[2 * i]->str, NULL, 10);
        rows[i].ts = (int64_t)strtod(ids->element[2 * i + 1]->str, NULL);
        int el = snprintf(ek, sizeof ek, "%sje:%lld", r->prefix, (long long)rows[i].id);
        const char *h[] = {"HMGET", ek, "kind", "agent", "ts", "sum", "ctx", "crc"};
        size_t hl[] = {5, (size_t)el, 4, 5, 2, 3, 3, 3};
        redisAppendCommandArgv(r->conn.c, 8, h, hl);
    }
    freeReplyObject(ids);
    for (size_t i = 0; i < n; i++) {
        rows[i].rep = pipe_reply(s, &st);
        if (!rows[i].rep) {
            break;
        }
    }
    if (st == AURA_OK) {
        qsort(rows, n, sizeof *rows, cmp_jrow);
    }
    for (size_t i = 0; st == AURA_OK && i < n; i++) {
        aura_memory_entry e;
        st = entry_of(s, &rows[i], &e);
        if (st == AURA_OK && (kind == 0 || (int)e.kind == kind) && fn(ctx, &e)) {
            break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (rows[i].rep) {
            freeReplyObject(rows[i].rep);
        }
    }
    aura__free(s->alloc, rows);
    return st;
}

aura_status aura__memory_redis_query(aura_memory_store *s, int kind, const char *agent,
                                     int64_t from_ms, int64_t to_ms, aura_memory_entry_fn fn,
                                     void *ctx)
{
    pthread_mutex_lock(&s->db_mu);
    aura_status st = query_locked(s, kind, agent, from_ms, to_ms, fn, ctx);
    pthread_mutex_unlock(&s->db_mu);
    return st;
}

/* ---- shapes on Redis ----
 *   <prefix>sseq        counter of shape ids
 *   <prefix>sh:<id>     hash: label ts dim vec (float32 LE) payload crc
 *   <prefix>shapes      sorted set of ids, score = id */

aura_status aura__memory_redis_shape_put(aura_memory_store *s, const char *label,
                                         const float *vec, size_t dim, const void *payload,
                                         size_t payload_len, int64_t *id_out)
{
    aura__memory_redis *r = s->redis;
    char k_sh[128], k_all[96];
    pthread_mutex_lock(&s->db_mu);
    int64_t id = 0;
    aura_status st = next_id(s, "sseq", &id);
    if (st == AURA_OK) {
        int64_t ts = aura__memory_now(s);
        const char *pl = payload_len ? (const char *)payload : "";
        size_t vbytes = dim * sizeof(float);
        uint32_t crc = aura__memory_shape_crc(id, label, vec, vbytes, pl, payload_len, ts);
        int lsh = snprintf(k_sh, sizeof k_sh, "%ssh:%lld", r->prefix, (long long)id);
        int lall = snprintf(k_all, sizeof k_all, "%sshapes", r->prefix);
        char a_ts[24], a_dim[24], a_crc[24], a_id[24];
        snprintf(a_ts, sizeof a_ts, "%lld", (long long)ts);
        snprintf(a_dim, sizeof a_dim, "%zu", dim);
        snprintf(a_crc, sizeof a_crc, "%lu", (unsigned long)crc);
        snprintf(a_id, sizeof a_id, "%lld", (long long)id);
        static const char *const script =
            "redis.call('HSET', KEYS[1], 'label', ARGV[1], 'ts', ARGV[2], 'dim', ARGV[3],"
            " 'vec', ARGV[4], 'payload', ARGV[5], 'crc', ARGV[6])\n"
            "redis.call('ZADD', KEYS[2], ARGV[7], ARGV[7])\n"
            "return 1\n";
        const char *a2[] = {"EVAL", script, "2", k_sh, k_all, label, a_ts, a_dim,
                            (const char *)vec, pl, a_crc, a_id};
        size_t l2[] = {4, strlen(script), 1, (size_t)lsh, (size_t)lall, strlen(label),
                       strlen(a_ts), strlen(a_dim), vbytes, payload_len, strlen(a_crc),
                       strlen(a_id)};
        redisReply *rep = cmd(s, 12, a2, l2, &st);
        if (rep) {
            freeReplyObject(rep);
        }
    }
    pthread_mutex_unlock(&s->db_mu);
    if (st == AURA_OK && id_out) {
        *id_out = id;
    }
    return st;
}

/* One shape from its HMGET reply (label ts dim vec payload crc), checked. */
static aura_status shape_of(aura_memory_store *s, int64_t id, const redisReply *rep,
                            aura_memory_shape_fn fn, void *ctx, int *stop)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 6) {
        aura__memory_setmsg(s, "redis: unexpected reply to HMGET");
        return AURA_E_CORRUPT;
    }
    for (size_t i = 0; i < 6; i++) {
        if (rep->element[i]->type != REDIS_REPLY_STRING) {
            aura__memory_setmsg(s, "shape %lld has a missing field", (long long)id);
            return AURA_E_CORRUPT;
        }
    }
    static _Thread_local float vec[AURA_MEMORY_MAX_DIM];
    size_t dim = (size_t)strtoull(rep->element[2]->str, NULL, 10);
    const redisReply *v = rep->element[3];
    if (dim == 0 || dim > AURA_MEMORY_MAX_DIM || v->len != dim * sizeof(float)) {
        aura__memory_setmsg(s, "shape %lld: vector of %zu bytes for dim %zu", (long long)id,
                            v->len, dim);
        return AURA_E_CORRUPT;
    }
    memcpy(vec, v->str, v->len);
    aura_memory_shape sh = {
        .id = id,
        .label = rep->element[0]->str,
        .vec = vec,
        .dim = dim,
        .payload = rep->element[4]->str,
        .payload_len = rep->element[4]->len,
        .ts_ms = strtoll(rep->element[1]->str, NULL, 10),
    };
    int64_t crc = strtoll(rep->element[5]->str, NULL, 10);
    if ((int64_t)aura__memory_shape_crc(id, sh.label, vec, v->len, sh.payload, sh.payload_len,
                                        sh.ts_ms) != crc) {
        aura__memory_setmsg(s, "checksum mismatch in shape %lld", (long long)id);
        return AURA_E_CORRUPT;
    }
    *stop = fn(ctx, &sh) != 0;
    return AURA_OK;
}

/* id >= 1: that shape (AURA_E_NOTFOUND if absent); id == 0: every shape. */
aura_status aura__memory_redis_shapes(aura_memory_store *s, int64_t id, aura_memory_shape_fn fn,
                                      void *ctx)
{
    aura__memory_redis *r = s->redis;
    aura_status st = AURA_OK;
    redisReply *ids = NULL;
    pthread_mutex_lock(&s->db_mu);
    if (id == 0) {
        char k_all[96];
        int lall = snprintf(k_all, sizeof k_all, "%sshapes", r->prefix);
        const char *a[] = {"ZRANGE", k_all, "0", "-1"};
        size_t l[] = {6, (size_t)lall, 1, 2};
        ids = cmd(s, 4, a, l, &st);
    } else {
        st = connect(s);
    }
    size_t n = id == 0 ? (ids && ids->type == REDIS_REPLY_ARRAY ? ids->elements : 0) : 1;
    int stop = 0;
    for (size_t i0 = 0; st == AURA_OK && !stop && i0 < n; i0 += 256) {
        size_t i1 = i0 + 256 < n ? i0 + 256 : n;
        for (size_t i = i0; i < i1; i++) {
            char k[128];
            long long sid = id ? (long long)id : strtoll(ids->element[i]->str, NULL, 10);
            int kl = snprintf(k, sizeof k, "%ssh:%lld", r->prefix, sid);
            const char *h[] = {"HMGET", k, "label", "ts", "dim", "vec", "payload", "crc"};
            size_t hl[] = {5, (size_t)kl, 5, 2, 3, 3, 7, 3};
            redisAppendCommandArgv(r->conn.c, 8, h, hl);
        }
        for (size_t i = i0; i < i1; i++) {
            redisReply *rep = pipe_reply(s, &st);
            if (!rep) {
                break;
            }
            int64_t sid = id ? id : strtoll(ids->element[i]->str, NULL, 10);
            int absent = rep->type == REDIS_REPLY_ARRAY && rep->elements == 6 &&
                         rep->element[0]->type == REDIS_REPLY_NIL;
            if (absent && id) {
                aura__memory_setmsg(s, "shape %lld not found", (long long)id);
                st = AURA_E_NOTFOUND;
            } else if (!absent && st == AURA_OK && !stop) {
                st = shape_of(s, sid, rep, fn, ctx, &stop);
            }
            freeReplyObject(rep);
        }
    }
    if (ids) {
        freeReplyObject(ids);
    }
    pthread_mutex_unlock(&s->db_mu);
    return st;
}
