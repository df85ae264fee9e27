/* memory_redis.h -- the context store's key-value records on Redis (the
 * shared, distributed case), with the semantics of aura_memory_kv_*:
 * versions, TTL, compare-and-set, prefix scans in key order, a checksum
 * per record.  Used by the store when it is opened on a redis:// URL.
 *
 * Key layout (docs/memory.md), with L(s) = decimal length of s:
 *   <ns>:r:<L(scope)>:<scope>:<key>   hash: v (value), ver, upd, exp, crc
 *   <ns>:i:<L(scope)>:<scope>         sorted set of the scope's keys (score 0,
 *                                     so ZRANGEBYLEX lists them in key order)
 *   <ns>:scopes                       set of scopes that have keys
 * Length prefixes keep scopes and keys with ':' unambiguous.  A TTL is a
 * PEXPIREAT on the record; index entries of expired records are dropped
 * when a scan meets them.  Writes run as Lua scripts, so a version check
 * and its write are atomic.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_MEMORY_REDIS_H
#define AURA_MEMORY_REDIS_H

#include "aura/memory.h"

typedef struct aura__memory_redis aura__memory_redis;

/* Parses "redis://HOST[:PORT][/NAMESPACE]" (default port 6379, namespace
 * "aura") and connects.  AURA_E_INVAL for a malformed URL, AURA_E_CONN
 * if Redis cannot be reached; err gets the message. */
aura_status aura__memory_redis_open(const char *url, const aura_memory_opts *opts,
                                    aura__memory_redis **out, char *err, size_t err_cap);
void aura__memory_redis_close(aura__memory_redis *r);
const char *aura__memory_redis_errmsg(const aura__memory_redis *r);

aura_status aura__memory_redis_put(aura__memory_redis *r, const char *scope, const char *key,
                                   const void *value, size_t value_len, int64_t ttl_ms,
                                   uint64_t *version_out);
aura_status aura__memory_redis_cas(aura__memory_redis *r, const char *scope, const char *key,
                                   uint64_t expected, const void *value, size_t value_len,
                                   int64_t ttl_ms, uint64_t *version_out);
aura_status aura__memory_redis_get(aura__memory_redis *r, const char *scope, const char *key,
                                   void *buf, size_t cap, size_t *len_out,
                                   aura_memory_record *meta);
aura_status aura__memory_redis_del(aura__memory_redis *r, const char *scope, const char *key);
aura_status aura__memory_redis_scan(aura__memory_redis *r, const char *scope, int all_scopes,
                                    const char *prefix, aura_memory_record_fn fn, void *ctx);

#endif /* AURA_MEMORY_REDIS_H */
