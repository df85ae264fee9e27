/* stream.c -- a shared event log on Redis Streams: pipelined XADD,
 * consumer groups (XGROUP CREATE, XREADGROUP, XACK) and taking over a
 * dead consumer's pending records (XAUTOCLAIM, Redis >= 6.2).  Each
 * stream entry has one field, "e", holding the record.
 * SPDX-License-Identifier: MIT */
#include <hiredis.h>
#include <string.h>

#include "memory_int.h"

#define PIPE_CHUNK 1024

static aura_status need_redis(aura_memory_store *s)
{
    if (!s->redis) {
        aura__memory_setmsg(s, "streams need a Redis store (aura_memory_store_open_redis)");
        return AURA_E_UNSUPPORTED;
    }
    return AURA_OK;
}

static aura_status check_names(aura_memory_store *s, const char *a, const char *b,
                               const char *c)
{
    const char *names[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        if (names[i] && (!*names[i] || strlen(names[i]) > AURA_MEMORY_MAX_KEY_LEN)) {
            aura__memory_setmsg(s, "stream, group and consumer names must be 1..%u bytes",
                                AURA_MEMORY_MAX_KEY_LEN);
            return AURA_E_RANGE;
        }
    }
    return AURA_OK;
}

aura_status aura_memory_stream_publish(aura_memory_store *s, const char *stream,
                                       const void *const *recs, const size_t *lens, size_t n,
                                       size_t maxlen)
{
    AURA_CHECK_ARG(s && stream && ((recs && lens) || n == 0));
    aura_status st = need_redis(s);
    if (st == AURA_OK) st = check_names(s, stream, NULL, NULL);
    for (size_t i = 0; st == AURA_OK && i < n; i++) {
        if ((!recs[i] && lens[i]) || lens[i] > AURA_MEMORY_MAX_VALUE_LEN) {
            aura__memory_setmsg(s, "record %zu: NULL or longer than %u bytes", i,
                                AURA_MEMORY_MAX_VALUE_LEN);
            st = AURA_E_RANGE;
        }
    }
    if (st != AURA_OK) {
        return st;
    }
    char ml[24];
    snprintf(ml, sizeof ml, "%zu", maxlen);
    pthread_mutex_lock(&s->db_mu);
    for (size_t i0 = 0; st == AURA_OK && i0 < n; i0 += PIPE_CHUNK) {
        size_t i1 = i0 + PIPE_CHUNK < n ? i0 + PIPE_CHUNK : n;
        st = aura__memory_redis_connect(s);
        for (size_t i = i0; st == AURA_OK && i < i1; i++) {
            const char *rec = lens[i] ? (const char *)recs[i] : "";
            const char *a[] = {"XADD", stream, "MAXLEN", "~", ml, "*", "e", rec};
            size_t l[] = {4, strlen(stream), 6, 1, strlen(ml), 1, 1, lens[i]};
            if (maxlen > 0) {
                redisAppendCommandArgv(aura__memory_redis_ctx(s), 8, a, l);
            } else {
                const char *b[] = {"XADD", stream, "*", "e", rec};
                size_t bl[] = {4, strlen(stream), 1, 1, lens[i]};
                redisAppendCommandArgv(aura__memory_redis_ctx(s), 5, b, bl);
            }
        }
        for (size_t i = i0; st == AURA_OK && i < i1; i++) {
            redisReply *rep = aura__memory_redis_pipe_reply(s, &st);
            if (rep) {
                if (rep->type == REDIS_REPLY_ERROR) {
                    aura__memory_setmsg(s, "redis XADD: %.300s", rep->str);
                    st = AURA_E_INTERNAL;
                }
                freeReplyObject(rep);
            }
        }
    }
    pthread_mutex_unlock(&s->db_mu);
    return st;
}

aura_status aura_memory_stream_group(aura_memory_store *s, const char *stream, const char *group)
{
    AURA_CHECK_ARG(s && stream && group);
    aura_status st = need_redis(s);
    if (st == AURA_OK) st = check_names(s, stream, group, NULL);
    if (st != AURA_OK) {
        return st;
    }
    const char *a[] = {"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"};
    size_t l[] = {6, 6, strlen(stream), strlen(group), 1, 8};
    pthread_mutex_lock(&s->db_mu);
    redisReply *rep = aura__memory_redis_cmd(s, 6, a, l, &st);
    pthread_mutex_unlock(&s->db_mu);
    if (rep) {
        freeReplyObject(rep);
    } else if (st == AURA_E_INTERNAL && strstr(s->errmsg, "BUSYGROUP")) {
        st = AURA_OK;  /* the group exists already */
    }
    return st;
}

/* Calls fn on each [id, [field, value, ...]] entry of `entries`. */
static aura_status deliver(aura_memory_store *s, const redisReply *entries,
                           aura_memory_stream_fn fn, void *ctx, size_t *n)
{
    if (entries->type != REDIS_REPLY_ARRAY) {
        aura__memory_setmsg(s, "redis: unexpected stream reply");
        return AURA_E_INTERNAL;
    }
    int stop = 0;
    for (size_t i = 0; i < entries->elements; i++) {
        const redisReply *e = entries->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
            e->element[0]->type != REDIS_REPLY_STRING) {
            aura__memory_setmsg(s, "redis: malformed stream entry");
            return AURA_E_INTERNAL;
        }
        const redisReply *f = e->element[1];
        if (f->type == REDIS_REPLY_NIL) {
            continue;  /* deleted (trimmed) while pending */
        }
        if (f->type != REDIS_REPLY_ARRAY || f->elements != 2 ||
            f->element[1]->type != REDIS_REPLY_STRING) {
            aura__memory_setmsg(s, "stream entry %s is not an AURA record", e->element[0]->str);
            return AURA_E_FORMAT;
        }
        aura_memory_stream_msg m = {e->element[0]->str, f->element[1]->str, f->element[1]->len};
        ++*n;
        if (!stop && fn(ctx, &m)) {
            stop = 1;  /* the rest stays pending: delivered, not processed */
        }
    }
    return AURA_OK;
}

aura_status aura_memory_stream_read(aura_memory_store *s, const char *stream, const char *group,
                                    const char *consumer, size_t count, int block_ms,
                                    aura_memory_stream_fn fn, void *ctx, size_t *n_read)
{
    AURA_CHECK_ARG(s && stream && group && consumer && fn);
    aura_status st = need_redis(s);
    if (st == AURA_OK) st = check_names(s, stream, group, consumer);
    if (st != AURA_OK) {
        return st;
    }
    char c[24], b[24];
    snprintf(c, sizeof c, "%zu", count ? count : 1);
    snprintf(b, sizeof b, "%d", block_ms > 0 ? block_ms : 0);
    /* Without BLOCK, XREADGROUP returns at once. */
    const char *a[11] = {"XREADGROUP", "GROUP", group, consumer, "COUNT", c};
    size_t l[11] = {10, 5, strlen(group), strlen(consumer), 5, strlen(c)};
    int argc = 6;
    if (block_ms > 0) {
        a[argc] = "BLOCK", l[argc++] = 5;
        a[argc] = b, l[argc++] = strlen(b);
    }
    a[argc] = "STREAMS", l[argc++] = 7;
    a[argc] = stream, l[argc++] = strlen(stream);
    a[argc] = ">", l[argc++] = 1;
    size_t n = 0;
    pthread_mutex_lock(&s->db_mu);
    redisReply *rep = aura__memory_redis_cmd(s, argc, a, l, &st);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2) {
        st = deliver(s, rep->element[0]->element[1], fn, ctx, &n);
    } else if (rep && rep->type != REDIS_REPLY_NIL) {
        aura__memory_setmsg(s, "redis: unexpected reply to XREADGROUP");
        st = AURA_E_INTERNAL;
    }
    if (rep) {
        freeReplyObject(rep);
    }
    pthread_mutex_unlock(&s->db_mu);
    if (st == AURA_OK && n_read) {
        *n_read = n;
    }
    return st;
}

aura_status aura_memory_stream_ack(aura_memory_store *s, const char *stream, const char *group,
                                   const char *const *ids, size_t n)
{
    AURA_CHECK_ARG(s && stream && group && (ids || n == 0));
    aura_status st = need_redis(s);
    if (st == AURA_OK) st = check_names(s, stream, group, NULL);
    if (st != AURA_OK || n == 0) {
        return st;
    }
    const char **a = aura__alloc_array(s->alloc, n + 3, sizeof *a);
    size_t *l = aura__alloc_array(s->alloc, n + 3, sizeof *l);
    if (!a || !l) {
        aura__free(s->alloc, a);
        aura__free(s->alloc, l);
        aura__memory_setmsg(s, "out of memory for %zu ids", n);
        return AURA_E_NOMEM;
    }
    a[0] = "XACK", l[0] = 4;
    a[1] = stream, l[1] = strlen(stream);
    a[2] = group, l[2] = strlen(group);
    for (size_t i = 0; i < n; i++) {
        a[i + 3] = ids[i];
        l[i + 3] = strlen(ids[i]);
    }
    pthread_mutex_lock(&s->db_mu);
    redisReply *rep = aura__memory_redis_cmd(s, (int)(n + 3), a, l, &st);
    pthread_mutex_unlock(&s->db_mu);
    if (rep) {
        freeReplyObject(rep);
    }
    aura__free(s->alloc, a);
    aura__free(s->alloc, l);
    return st;
}

aura_status aura_memory_stream_claim(aura_memory_store *s, const char *stream, const char *group,
                                     const char *consumer, int64_t min_idle_ms, size_t count,
                                     aura_memory_stream_fn fn, void *ctx, size_t *n_claimed)
{
    AURA_CHECK_ARG(s && stream && group && consumer && fn);
    aura_status st = need_redis(s);
    if (st == AURA_OK) st = check_names(s, stream, group, consumer);
    if (st != AURA_OK) {
        return st;
    }
    char idle[24], c[24];
    snprintf(idle, sizeof idle, "%lld", (long long)(min_idle_ms > 0 ? min_idle_ms : 0));
    snprintf(c, sizeof c, "%zu", count ? count : 1);
    const char *a[] = {"XAUTOCLAIM", stream, group, consumer, idle, "0-0", "COUNT", c};
    size_t l[] = {10, strlen(stream), strlen(group), strlen(consumer), strlen(idle), 3, 5,
                  strlen(c)};
    size_t n = 0;
    pthread_mutex_lock(&s->db_mu);
    redisReply *rep = aura__memory_redis_cmd(s, 8, a, l, &st);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2) {
        st = deliver(s, rep->element[1], fn, ctx, &n);
    } else if (rep) {
        aura__memory_setmsg(s, "redis: unexpected reply to XAUTOCLAIM");
        st = AURA_E_INTERNAL;
    }
    if (rep) {
        freeReplyObject(rep);
    }
    pthread_mutex_unlock(&s->db_mu);
    if (st == AURA_OK && n_claimed) {
        *n_claimed = n;
    }
    return st;
}
