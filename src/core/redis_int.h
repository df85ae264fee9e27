/* redis_int.h -- one Redis connection with timeouts, one reconnect per
 * command, and error messages that name the server: the plumbing shared
 * by the event log on Redis Streams and the context store on Redis.  The
 * protocol itself is hiredis's.  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_REDIS_INT_H
#define AURA_REDIS_INT_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "aura/status.h"

typedef struct aura__redis {
    redisContext *c;
    char host[128];
    int port;
    int timeout_ms;     /* connect and command timeout */
    int extra_read_ms;  /* added to the read timeout (blocking commands) */
    uint64_t reconnects;
    char errmsg[512];
} aura__redis;

/* Connects (caller's storage).  AURA_E_CONN with errmsg if it cannot;
 * aura__redis_close is needed in both cases. */
aura_status aura__redis_open(aura__redis *r, const char *host, int port, int timeout_ms,
                             int extra_read_ms);
void aura__redis_close(aura__redis *r);

/* Drops the connection and connects again (counts a reconnect on success). */
aura_status aura__redis_reconnect(aura__redis *r);

/* Runs one command (argv with lengths).  On a broken connection it
 * reconnects once and retries.  Returns the reply (free it with
 * freeReplyObject) or NULL with errmsg set. */
redisReply *aura__redis_run(aura__redis *r, int argc, const char **argv, const size_t *lens);

/* Sets errmsg from an error reply ("redis CMD: <error>"); returns
 * AURA_E_CONN. */
aura_status aura__redis_reply_error(aura__redis *r, const redisReply *reply, const char *cmd);

/* Sets errmsg to "redis HOST:PORT: what[: hiredis error]". */
void aura__redis_set_error(aura__redis *r, const char *what);

#endif /* AURA_REDIS_INT_H */
