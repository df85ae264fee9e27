/* events_stream.h -- the event log on Redis Streams, so that several AURA
 * processes can share one stream of agent events.
 *
 * Producers append events with XADD (pipelined: a batch of n events costs
 * one round trip); consumers in a consumer group read with XREADGROUP,
 * acknowledge with XACK, and take over a dead consumer's pending entries
 * with XAUTOCLAIM.  Each entry holds one field, "e", whose value is the
 * event as a JSON line (docs/events.md), so entries are readable with
 * redis-cli and carry agent names, not process-local ids.
 *
 * Needs Redis >= 6.2 (XAUTOCLAIM).  Uses hiredis (Debian libhiredis-dev).
 * Threads: one aura_events_stream per thread.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_EVENTS_STREAM_H
#define AURA_EVENTS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "aura/events.h"

typedef struct aura_events_stream_opts {
    const aura_allocator *alloc; /* NULL = default */
    const char *host;            /* default "127.0.0.1" */
    int port;                    /* default 6379 */
    const char *key;             /* stream key, default "aura:events" */
    const char *group;           /* consumer group, default "aura"; created if missing */
    const char *consumer;        /* this consumer's name, default "aura-<pid>" */
    int timeout_ms;              /* connect and command timeout, default 2000 */
    int block_ms;                /* how long a read waits for new entries, default 100; 0 = no wait */
    int64_t maxlen;              /* approximate length cap (XADD MAXLEN ~), 0 = none */
} aura_events_stream_opts;

AURA_API aura_events_stream_opts aura_events_stream_opts_default(void);

/* A stream entry id "<ms>-<seq>". */
typedef struct aura_events_stream_id {
    uint64_t ms;
    uint64_t seq;
} aura_events_stream_id;

typedef struct aura_events_stream aura_events_stream;

/* Connects and creates the consumer group (at the stream's start) if it
 * does not exist.  `agents` (borrowed and kept; must outlive the stream)
 * names the agents of published events and interns those of read ones.
 * AURA_E_CONN if Redis cannot be reached (message in
 * aura_events_stream_last_connect_error()). */
AURA_API aura_status aura_events_stream_connect(const aura_events_stream_opts *opts,
                                                aura_events_interner *agents,
                                                aura_events_stream **out);
AURA_API void aura_events_stream_destroy(aura_events_stream *s);

/* Message of this thread's last failed connect; "" if none. */
AURA_API const char *aura_events_stream_last_connect_error(void);

/* Appends n events (their meta is not sent) in one pipelined round trip and
 * returns once Redis has acknowledged every one.  On a lost connection it
 * reconnects once and resends the batch; AURA_E_CONN if that fails too (an
 * error may leave a prefix of the batch appended). */
AURA_API aura_status aura_events_stream_publish(aura_events_stream *s,
                                                const aura_events_event *events, size_t n);

/* Reads up to cap new entries for this consumer (XREADGROUP ... >), waiting
 * up to block_ms.  ids (may be NULL) receives their ids for ack.  Entries
 * whose payload is not a valid event are acknowledged, counted (see
 * aura_events_stream_get_stats) and skipped, never returned. */
AURA_API aura_status aura_events_stream_read(aura_events_stream *s, aura_events_event *out,
                                             aura_events_stream_id *ids, size_t cap,
                                             size_t *n_out);

/* Acknowledges processed entries (XACK). */
AURA_API aura_status aura_events_stream_ack(aura_events_stream *s,
                                            const aura_events_stream_id *ids, size_t n);

/* Takes over up to cap entries that other consumers of the group read but
 * did not acknowledge for at least min_idle_ms (XAUTOCLAIM), and returns
 * them like aura_events_stream_read. */
AURA_API aura_status aura_events_stream_claim(aura_events_stream *s, int64_t min_idle_ms,
                                              aura_events_event *out,
                                              aura_events_stream_id *ids, size_t cap,
                                              size_t *n_out);

typedef struct aura_events_stream_stats {
    uint64_t published;   /* events acknowledged by XADD */
    uint64_t read;        /* events returned by read and claim */
    uint64_t acked;       /* entries acknowledged */
    uint64_t bad_entries; /* entries skipped because their payload was malformed */
    uint64_t reconnects;  /* successful reconnections */
} aura_events_stream_stats;

AURA_API void aura_events_stream_get_stats(const aura_events_stream *s,
                                           aura_events_stream_stats *st);

/* The last error message on s ("" if none); valid until the next call. */
AURA_API const char *aura_events_stream_errmsg(const aura_events_stream *s);

#endif /* AURA_EVENTS_STREAM_H */
