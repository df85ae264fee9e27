/* redis_kv.c -- the context store's key-value records on Redis
 * (memory_redis.h has the key layout).  Writes are Lua scripts so that a
 * version check and its write are one atomic step; reads verify a
 * CRC-32C of scope, key, value, update time and expiry, so a damaged
 * value is reported, never served.
 * SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core_int.h"
#include "core/redis_int.h"
#include "memory_int.h"
#include "memory_redis.h"

#define NS_MAX 64
#define KEY_BUF (NS_MAX + AURA_MEMORY_MAX_SCOPE_LEN + AURA_MEMORY_MAX_KEY_LEN + 48)
#define SCAN_PAGE 256

struct aura__memory_redis {
    aura_memory_opts opts;
    aura__redis conn;
    char ns[NS_MAX + 1];
};

/* KEYS: record, index, scopes.  ARGV: value, upd, exp, ttl_ms, crc,
 * mode ("put" | "cas"), expected, key, scope, now.
 * Returns {1, new_version} or {-1, live_version} on a CAS mismatch. */
static const char WRITE_LUA[] =
    "local cur = redis.call('HMGET', KEYS[1], 'ver', 'exp')\n"
    "local ver = tonumber(cur[1]) or 0\n"
    "local exp = tonumber(cur[2]) or 0\n"
    "if exp > 0 and exp <= tonumber(ARGV[10]) then ver = 0 end\n"
    "if ARGV[6] == 'cas' and ver ~= tonumber(ARGV[7]) then return {-1, ver} end\n"
    "ver = ver + 1\n"
    "redis.call('HSET', KEYS[1], 'v', ARGV[1], 'ver', ver, 'upd', ARGV[2], 'exp', ARGV[3],"
    " 'crc', ARGV[5])\n"
    "if tonumber(ARGV[4]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "else redis.call('PERSIST', KEYS[1]) end\n"
    "redis.call('ZADD', KEYS[2], 0, ARGV[8])\n"
    "redis.call('SADD', KEYS[3], ARGV[9])\n"
    "return {1, ver}\n";

/* KEYS: record, index.  ARGV: key.  Returns {deleted, exp}. */
static const char DEL_LUA[] = "local e = redis.call('HGET', KEYS[1], 'exp')\n"
                              "local n = redis.call('DEL', KEYS[1])\n"
                              "redis.call('ZREM', KEYS[2], ARGV[1])\n"
                              "return {n, e or '0'}\n";

static int64_t now_ms(const aura__memory_redis *r)
{
    if (r->opts.clock) {
        return r->opts.clock(r->opts.clock_ctx);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *aura__memory_redis_errmsg(const aura__memory_redis *r)
{
    return r ? r->conn.errmsg : "";
}

/* "redis://HOST[:PORT][/NS]" */
static aura_status parse_url(const char *url, char *host, size_t host_cap, int *port, char *ns)
{
    static const char scheme[] = "redis://";
    if (strncmp(url, scheme, sizeof scheme - 1) != 0) {
        return AURA_E_INVAL;
    }
    const char *h = url + sizeof scheme - 1, *slash = strchr(h, '/');
    const char *end = slash ? slash : h + strlen(h), *colon = memchr(h, ':', (size_t)(end - h));
    const char *hend = colon ? colon : end;
    if (hend == h || (size_t)(hend - h) >= host_cap) {
        return AURA_E_INVAL;
    }
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    *port = 6379;
    if (colon) {
        char *pe;
        long p = strtol(colon + 1, &pe, 10);
        if (pe != end || p <= 0 || p > 65535) {
            return AURA_E_INVAL;
        }
        *port = (int)p;
    }
    const char *n = slash && slash[1] ? slash + 1 : "aura";
    if (strlen(n) > NS_MAX || strchr(n, '/')) {
        return AURA_E_INVAL;
    }
    strcpy(ns, n);
    return AURA_OK;
}

aura_status aura__memory_redis_open(const char *url, const aura_memory_opts *opts,
                                    aura__memory_redis **out, char *err, size_t err_cap)
{
    AURA_CHECK_ARG(url && out);
    aura_memory_opts o = opts ? *opts : aura_memory_opts_default();
    char host[128];
    int port;
    aura__memory_redis *r = aura__calloc(o.alloc, 1, sizeof *r);
    if (!r) {
        return AURA_E_NOMEM;
    }
    r->opts = o;
    aura_status st = parse_url(url, host, sizeof host, &port, r->ns);
    if (st != AURA_OK) {
        snprintf(err, err_cap, "%s: expected redis://HOST[:PORT][/NAMESPACE]", url);
    } else {
        int timeout = o.busy_timeout_ms > 0 ? o.busy_timeout_ms : 5000;
        st = aura__redis_open(&r->conn, host, port, timeout, 0);
        if (st != AURA_OK) {
            snprintf(err, err_cap, "%s", r->conn.errmsg);
        }
    }
    if (st != AURA_OK) {
        aura__memory_redis_close(r);
        return st;
    }
    *out = r;
    return AURA_OK;
}

void aura__memory_redis_close(aura__memory_redis *r)
{
    if (!r) {
        return;
    }
    aura__redis_close(&r->conn);
    aura__free(r->opts.alloc, r);
}

/* ---- keys and checks ---- */

static aura_status check_names(aura__memory_redis *r, const char *scope, const char *key)
{
    size_t sl = scope ? strlen(scope) : 0, kl = key ? strlen(key) : 0;
    if (!key || kl == 0 || kl > AURA_MEMORY_MAX_KEY_LEN || sl > AURA_MEMORY_MAX_SCOPE_LEN) {
        snprintf(r->conn.errmsg, sizeof r->conn.errmsg,
                 "key must be 1..%u bytes and scope at most %u", AURA_MEMORY_MAX_KEY_LEN,
                 AURA_MEMORY_MAX_SCOPE_LEN);
        return AURA_E_RANGE;
    }
    return AURA_OK;
}

static size_t record_key(const aura__memory_redis *r, char *buf, const char *scope, const char *key)
{
    scope = scope ? scope : "";
    return (size_t)snprintf(buf, KEY_BUF, "%s:r:%zu:%s:%s", r->ns, strlen(scope), scope, key);
}

static size_t index_key(const aura__memory_redis *r, char *buf, const char *scope)
{
    scope = scope ? scope : "";
    return (size_t)snprintf(buf, KEY_BUF, "%s:i:%zu:%s", r->ns, strlen(scope), scope);
}

static uint32_t record_crc(const char *scope, const char *key, const void *v, size_t n,
                           int64_t upd, int64_t exp)
{
    scope = scope ? scope : "";
    uint32_t c = aura__memory_crc32c(0, scope, strlen(scope) + 1);
    c = aura__memory_crc32c(c, key, strlen(key) + 1);
    c = aura__memory_crc32c(c, v, n);
    c = aura__memory_crc32c(c, &upd, sizeof upd);
    return aura__memory_crc32c(c, &exp, sizeof exp);
}

/* ---- writes ---- */

static aura_status write_record(aura__memory_redis *r, const char *scope, const char *key,
                                int cas, uint64_t expected, const void *value, size_t len,
                                int64_t ttl_ms, uint64_t *version_out)
{
    aura_status st = check_names(r, scope, key);
    if (st != AURA_OK) {
        return st;
    }
    if (len > AURA_MEMORY_MAX_VALUE_LEN || (!value && len)) {
        snprintf(r->conn.errmsg, sizeof r->conn.errmsg, "value larger than %u bytes",
                 AURA_MEMORY_MAX_VALUE_LEN);
        return AURA_E_RANGE;
    }
    int64_t now = now_ms(r), exp = ttl_ms > 0 ? now + ttl_ms : 0;
    char rk[KEY_BUF], ik[KEY_BUF], sk[NS_MAX + 16];
    char upd_s[24], exp_s[24], ttl_s[24], crc_s[16], exp_v[24], now_s[24];
    size_t rl = record_key(r, rk, scope, key), il = index_key(r, ik, scope);
    size_t sl = (size_t)snprintf(sk, sizeof sk, "%s:scopes", r->ns);
    snprintf(upd_s, sizeof upd_s, "%" PRId64, now);
    snprintf(exp_s, sizeof exp_s, "%" PRId64, exp);
    snprintf(ttl_s, sizeof ttl_s, "%" PRId64, ttl_ms > 0 ? ttl_ms : 0);
    snprintf(crc_s, sizeof crc_s, "%" PRIu32, record_crc(scope, key, value, len, now, exp));
    snprintf(exp_v, sizeof exp_v, "%" PRIu64, expected);
    snprintf(now_s, sizeof now_s, "%" PRId64, now);
    const char *sc = scope ? scope : "";
    const char *argv[] = {"EVAL", WRITE_LUA, "3", rk, ik, sk, value ? value : "", upd_s, exp_s,
                          ttl_s, crc_s, cas ? "cas" : "put", exp_v, key, sc, now_s};
    size_t lens[16] = {4, sizeof WRITE_LUA - 1, 1, rl, il, sl, len};
    for (int i = 7; i < 16; i++) {
        lens[i] = strlen(argv[i]);
    }
    redisReply *rep = aura__redis_run(&r->conn, 16, argv, lens);
    if (!rep) {
        return AURA_E_CONN;
    }
    st = AURA_OK;
    if (rep->type == REDIS_REPLY_ERROR) {
        st = aura__redis_reply_error(&r->conn, rep, "EVAL");
    } else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        snprintf(r->conn.errmsg, sizeof r->conn.errmsg, "redis: unexpected reply to a write");
        st = AURA_E_CONN;
    } else if (rep->element[0]->integer < 0) {
        snprintf(r->conn.errmsg, sizeof r->conn.errmsg,
                 "version mismatch: expected %" PRIu64 ", found %lld", expected,
                 rep->element[1]->integer);
        st = AURA_E_CONFLICT;
    } else if (version_out) {
        *version_out = (uint64_t)rep->element[1]->integer;
    }
    freeReplyObject(rep);
    return st;
}

aura_status aura__memory_redis_put(aura__memory_redis *r, const char *scope, const char *key,
                                   const void *value, size_t value_len, int64_t ttl_ms,
                                   uint64_t *version_out)
{
    AURA_CHECK_ARG(r);
    return write_record(r, scope, key, 0, 0, value, value_len, ttl_ms, version_out);
}

aura_status aura__memory_redis_cas(aura__memory_redis *r, const char *scope, const char *key,
                                   uint64_t expected, const void *value, size_t value_len,
                                   int64_t ttl_ms, uint64_t *version_out)
{
    AURA_CHECK_ARG(r);
    return write_record(r, scope, key, 1, expected, value, value_len, ttl_ms, version_out);
}

aura_status aura__memory_redis_del(aura__memory_redis *r, const char *scope, const char *key)
{
    AURA_CHECK_ARG(r);
    aura_status st = check_names(r, scope, key);
    if (st != AURA_OK) {
        return st;
    }
    char rk[KEY_BUF], ik[KEY_BUF];
    size_t rl = record_key(r, rk, scope, key), il = index_key(r, ik, scope);
    const char *argv[] = {"EVAL", DEL_LUA, "2", rk, ik, key};
    size_t lens[] = {4, sizeof DEL_LUA - 1, 1, rl, il, strlen(key)};
    redisReply *rep = aura__redis_run(&r->conn, 6, argv, lens);
    if (!rep) {
        return AURA_E_CONN;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        st = aura__redis_reply_error(&r->conn, rep, "EVAL");
    } else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
        st = AURA_E_CONN;
    } else {
        int64_t exp = rep->element[1]->str ? strtoll(rep->element[1]->str, NULL, 10) : 0;
        int live = rep->element[0]->integer > 0 && !(exp > 0 && exp <= now_ms(r));
        st = live ? AURA_OK : AURA_E_NOTFOUND;
    }
    freeReplyObject(rep);
    return st;
}

/* ---- reads ---- */

/* Decodes an HMGET v ver upd exp crc reply into rec (value points into the
 * reply).  AURA_E_NOTFOUND if absent or expired, AURA_E_CORRUPT if the
 * fields are damaged. */
static aura_status decode(aura__memory_redis *r, const redisReply *rep, const char *scope,
                          const char *key, aura_memory_record *rec)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 5) {
        return AURA_E_CONN;
    }
    if (rep->element[0]->type == REDIS_REPLY_NIL && rep->element[1]->type == REDIS_REPLY_NIL) {
        return AURA_E_NOTFOUND;
    }
    for (int i = 0; i < 5; i++) {
        if (rep->element[i]->type != REDIS_REPLY_STRING) {
            snprintf(r->conn.errmsg, sizeof r->conn.errmsg, "record %s: missing fields", key);
            return AURA_E_CORRUPT;
        }
    }
    char *e1, *e2, *e3, *e4;
    uint64_t ver = strtoull(rep->element[1]->str, &e1, 10);
    int64_t upd = strtoll(rep->element[2]->str, &e2, 10);
    int64_t exp = strtoll(rep->element[3]->str, &e3, 10);
    unsigned long crc = strtoul(rep->element[4]->str, &e4, 10);
    if (*e1 || *e2 || *e3 || *e4 ||
        crc != record_crc(scope, key, rep->element[0]->str, rep->element[0]->len, upd, exp)) {
        snprintf(r->conn.errmsg, sizeof r->conn.errmsg,
                 "record \"%.200s\": checksum mismatch (damaged value)", key);
        return AURA_E_CORRUPT;
    }
    if (exp > 0 && exp <= now_ms(r)) {
        return AURA_E_NOTFOUND;
    }
    rec->scope = scope ? scope : "";
    rec->key = key;
    rec->value = rep->element[0]->str;
    rec->value_len = rep->element[0]->len;
    rec->version = ver;
    rec->expires_ms = exp;
    rec->updated_ms = upd;
    return AURA_OK;
}

static redisReply *hmget(aura__memory_redis *r, const char *scope, const char *key)
{
    char rk[KEY_BUF];
    size_t rl = record_key(r, rk, scope, key);
    const char *argv[] = {"HMGET", rk, "v", "ver", "upd", "exp", "crc"};
    size_t lens[] = {5, rl, 1, 3, 3, 3, 3};
    return aura__redis_run(&r->conn, 7, argv, lens);
}

aura_status aura__memory_redis_get(aura__memory_redis *r, const char *scope, const char *key,
                                   void *buf, size_t cap, size_t *len_out,
                                   aura_memory_record *meta)
{
    AURA_CHECK_ARG(r && len_out);
    aura_status st = check_names(r, scope, key);
    if (st != AURA_OK) {
        return st;
    }
    redisReply *rep = hmget(r, scope, key);
    if (!rep) {
        return AURA_E_CONN;
    }
    aura_memory_record rec;
    st = rep->type == REDIS_REPLY_ERROR ? aura__redis_reply_error(&r->conn, rep, "HMGET")
                                        : decode(r, rep, scope, key, &rec);
    if (st == AURA_OK && buf && cap < rec.value_len) {
        st = AURA_E_RANGE;
    }
    if (st == AURA_OK) {
        if (buf && rec.value_len) {
            memcpy(buf, rec.value, rec.value_len);
        }
        *len_out = rec.value_len;
        if (meta) {
            *meta = rec;
            meta->value = NULL;
        }
    }
    freeReplyObject(rep);
    return st;
}

/* ---- scans ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Visits one scope's keys with the prefix, in key order, a page at a time. */
static aura_status scan_scope(aura__memory_redis *r, const char *scope, const char *prefix,
                              aura_memory_record_fn fn, void *ctx, int *stop)
{
    char ik[KEY_BUF], min[AURA_MEMORY_MAX_KEY_LEN + 2];
    size_t il = index_key(r, ik, scope), pl = strlen(prefix);
    snprintf(min, sizeof min, "[%s", prefix);
    aura_status st = AURA_OK;
    while (st == AURA_OK && !*stop) {
        const char *argv[] = {"ZRANGEBYLEX", ik, min, "+", "LIMIT", "0", "256"};
        size_t lens[] = {11, il, strlen(min), 1, 5, 1, 3};
        redisReply *page = aura__redis_run(&r->conn, 7, argv, lens);
        if (!page) {
            return AURA_E_CONN;
        }
        if (page->type != REDIS_REPLY_ARRAY) {
            st = aura__redis_reply_error(&r->conn, page, "ZRANGEBYLEX");
        }
        size_t n = page->type == REDIS_REPLY_ARRAY ? page->elements : 0;
        for (size_t i = 0; st == AURA_OK && !*stop && i < n; i++) {
            const char *key = page->element[i]->str;
            if (strncmp(key, prefix, pl) != 0) {
                *stop = 2; /* past the prefix range */
                break;
            }
            redisReply *rep = hmget(r, scope, key);
            if (!rep) {
                st = AURA_E_CONN;
                break;
            }
            aura_memory_record rec;
            aura_status ds = decode(r, rep, scope, key, &rec);
            if (ds == AURA_OK) {
                *stop = fn(ctx, &rec) ? 1 : 0;
            } else if (ds == AURA_E_NOTFOUND) {
                /* Expired: drop its index entry (best effort). */
                const char *zargv[] = {"ZREM", ik, key};
                size_t zlens[] = {4, il, strlen(key)};
                redisReply *z = aura__redis_run(&r->conn, 3, zargv, zlens);
                if (z) {
                    freeReplyObject(z);
                }
            } else {
                st = ds;
            }
            freeReplyObject(rep);
        }
        if (n > 0) {
            snprintf(min, sizeof min, "(%s", page->element[n - 1]->str);
        }
        freeReplyObject(page);
        if (n < SCAN_PAGE) {
            break;
        }
    }
    if (*stop == 2) {
        *stop = 0;
    }
    return st;
}

aura_status aura__memory_redis_scan(aura__memory_redis *r, const char *scope, int all_scopes,
                                    const char *prefix, aura_memory_record_fn fn, void *ctx)
{
    AURA_CHECK_ARG(r && fn);
    prefix = prefix ? prefix : "";
    if (strlen(prefix) > AURA_MEMORY_MAX_KEY_LEN) {
        return AURA_E_RANGE;
    }
    int stop = 0;
    if (!all_scopes) {
        return scan_scope(r, scope ? scope : "", prefix, fn, ctx, &stop);
    }
    char sk[NS_MAX + 16];
    size_t sl = (size_t)snprintf(sk, sizeof sk, "%s:scopes", r->ns);
    const char *argv[] = {"SMEMBERS", sk};
    size_t lens[] = {8, sl};
    redisReply *set = aura__redis_run(&r->conn, 2, argv, lens);
    if (!set) {
        return AURA_E_CONN;
    }
    aura_status st = set->type == REDIS_REPLY_ARRAY
                         ? AURA_OK
                         : aura__redis_reply_error(&r->conn, set, "SMEMBERS");
    size_t n = st == AURA_OK ? set->elements : 0;
    const char **names = aura__alloc_array(r->opts.alloc, n ? n : 1, sizeof *names);
    if (!names) {
        st = AURA_E_NOMEM;
    }
    for (size_t i = 0; st == AURA_OK && i < n; i++) {
        names[i] = set->element[i]->str;
    }
    if (st == AURA_OK) {
        qsort(names, n, sizeof *names, cmp_str); /* "" (global) sorts first */
    }
    for (size_t i = 0; st == AURA_OK && !stop && i < n; i++) {
        st = scan_scope(r, names[i], prefix, fn, ctx, &stop);
    }
    aura__free(r->opts.alloc, names);
    freeReplyObject(set);
    return st;
}
