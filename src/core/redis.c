/* redis.c -- the shared Redis connection helper (redis_int.h).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "redis_int.h"

static struct timeval tv_ms(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

void aura__redis_set_error(aura__redis *r, const char *what)
{
    int hi = r->c && r->c->err;
    snprintf(r->errmsg, sizeof r->errmsg, "redis %.255s:%d: %.80s%s%.150s", r->host, r->port,
             what, hi ? ": " : "", hi ? r->c->errstr : "");
}

static void drop(aura__redis *r)
{
    if (r->c) {
        redisFree(r->c);
        r->c = NULL;
    }
}

static aura_status connect_now(aura__redis *r)
{
    drop(r);
    r->c = redisConnectWithTimeout(r->host, r->port, tv_ms(r->timeout_ms));
    if (!r->c) {
        snprintf(r->errmsg, sizeof r->errmsg, "redis %.255s:%d: out of memory", r->host, r->port);
        return AURA_E_NOMEM;
    }
    if (r->c->err) {
        aura__redis_set_error(r, "cannot connect");
        drop(r);
        return AURA_E_CONN;
    }
    redisSetTimeout(r->c, tv_ms(r->timeout_ms + r->extra_read_ms));
    r->reconnects += r->ever_connected;
    r->ever_connected = 1;
    return AURA_OK;
}

aura_status aura__redis_init(aura__redis *r, const char *host, int port, int timeout_ms,
                             int extra_read_ms)
{
    memset(r, 0, sizeof *r);
    if (!host || strlen(host) >= sizeof r->host || port <= 0 || port > 65535 ||
        timeout_ms <= 0 || extra_read_ms < 0) {
        snprintf(r->errmsg, sizeof r->errmsg, "invalid Redis address or timeouts");
        return AURA_E_RANGE;
    }
    strcpy(r->host, host);
    r->port = port;
    r->timeout_ms = timeout_ms;
    r->extra_read_ms = extra_read_ms;
    return AURA_OK;
}

aura_status aura__redis_open(aura__redis *r, const char *host, int port, int timeout_ms,
                             int extra_read_ms)
{
    aura_status st = aura__redis_init(r, host, port, timeout_ms, extra_read_ms);
    return st == AURA_OK ? connect_now(r) : st;
}

void aura__redis_close(aura__redis *r)
{
    drop(r);
}

aura_status aura__redis_ensure(aura__redis *r)
{
    return r->c && !r->c->err ? AURA_OK : connect_now(r);
}

aura_status aura__redis_reconnect(aura__redis *r)
{
    return connect_now(r);
}

redisReply *aura__redis_command(aura__redis *r, int argc, const char **argv, const size_t *lens)
{
    if (aura__redis_ensure(r) != AURA_OK) {
        return NULL; /* errmsg says "cannot connect" */
    }
    redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
    if (!rep) {
        aura__redis_set_error(r, r->c->err ? argv[0] : "connection lost");
        drop(r);
    }
    return rep;
}

redisReply *aura__redis_run(aura__redis *r, int argc, const char **argv, const size_t *lens)
{
    if (r->c && !r->c->err) {
        redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
        if (rep) {
            return rep;
        }
    }
    /* Broken connection: one reconnect, one retry. */
    return aura__redis_command(r, argc, argv, lens);
}

redisReply *aura__redis_pipe_reply(aura__redis *r, const char *what)
{
    void *v = NULL;
    if (!r->c || redisGetReply(r->c, &v) != REDIS_OK || !v) {
        aura__redis_set_error(r, what);
        drop(r);
        return NULL;
    }
    return v;
}

aura_status aura__redis_reply_error(aura__redis *r, const redisReply *reply, const char *cmd)
{
    int n = reply && reply->str ? (int)(reply->len > 200 ? 200 : reply->len) : 0;
    snprintf(r->errmsg, sizeof r->errmsg, "redis %.40s: %.*s", cmd, n,
             reply && reply->str ? reply->str : "");
    return AURA_E_CONN;
}
