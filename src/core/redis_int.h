/* redis_int.h -- one Redis connection with timeouts, reconnection, and
 * error messages that name the server: the one connection helper shared
 * by the event log on Redis Streams (events) and the context store on
 * Redis (memory).  The protocol itself is hiredis's.  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_REDIS_INT_H
#define AURA_REDIS_INT_H

#include <hiredis/hiredis.h>
#include <stdint.h>

#include "aura/status.h"

typedef struct aura__redis {
    redisContext *c;    /* NULL while not connected */
    char host[256];
    int port;
    int timeout_ms;     /* connect and command timeout */
    int extra_read_ms;  /* added to the read timeout (blocking commands) */
    uint64_t reconnects;
    int ever_connected; /* a later connect counts as a reconnect */
    char errmsg[512];
} aura__redis;

/* Records the address and timeouts without connecting.  AURA_E_RANGE
 * (errmsg set) for an invalid host, port or timeout. */
aura_status aura__redis_init(aura__redis *r, const char *host, int port, int timeout_ms,
                             int extra_read_ms);

/* aura__redis_init, then connects.  AURA_E_CONN with errmsg if it cannot;
 * aura__redis_close is needed in both cases. */
aura_status aura__redis_open(aura__redis *r, const char *host, int port, int timeout_ms,
                             int extra_read_ms);
void aura__redis_close(aura__redis *r);

/* Connects unless the connection is up and unbroken (AURA_OK at once).
 * AURA_E_CONN / AURA_E_NOMEM with errmsg if it cannot. */
aura_status aura__redis_ensure(aura__redis *r);

/* Drops the connection and connects again. */
aura_status aura__redis_reconnect(aura__redis *r);

/* Runs one command (argv with lengths) once, connecting first if needed.
 * On a lost connection the connection is dropped (the next call connects
 * again) and NULL is returned with errmsg set: for commands that must not
 * run twice.  Error replies are returned like any other reply. */
redisReply *aura__redis_command(aura__redis *r, int argc, const char **argv, const size_t *lens);

/* Like aura__redis_command, but on a broken connection it reconnects once
 * and retries: for idempotent commands.  Returns the reply (free it with
 * freeReplyObject) or NULL with errmsg set. */
redisReply *aura__redis_run(aura__redis *r, int argc, const char **argv, const size_t *lens);

/* Reads the next reply of a pipeline (commands queued with
 * redisAppendCommandArgv on r->c).  On failure the connection is dropped
 * and NULL is returned, errmsg "redis HOST:PORT: <what>: <hiredis error>". */
redisReply *aura__redis_pipe_reply(aura__redis *r, const char *what);

/* Sets errmsg from an error reply ("redis CMD: <error>"); returns
 * AURA_E_CONN. */
aura_status aura__redis_reply_error(aura__redis *r, const redisReply *reply, const char *cmd);

/* Sets errmsg to "redis HOST:PORT: what[: hiredis error]". */
void aura__redis_set_error(aura__redis *r, const char *what);

#endif /* AURA_REDIS_INT_H */
