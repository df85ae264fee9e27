/* events.h -- typed agent events: the schema, agent-id interning, and
 * JSON-lines input and output.
 *
 * An event is a fixed-size 64-byte record (aura_events_event) so that it can
 * travel through rings and arrays without allocation.  Strings are kept out
 * of it: agent ids are interned to dense integers by an
 * aura_events_interner, trace/span/correlation ids are stored as 64-bit
 * hashes, and the free-form `meta` object stays as JSON text in the reader.
 *
 * JSON-lines form (one object per line; see docs/events.md):
 *   {"ts":12034.5,"kind":"call","src":"a1","dst":"a7","latency_ms":12.5,
 *    "ok":true,"load":0.7,"tokens":120,"priority":1,"trace":"t-9",
 *    "span":"s-3","correlation":"c-1","state":"degraded","meta":{...}}
 * `ts` is milliseconds (may be fractional) on any clock; `ts_us` may be
 * given instead, in microseconds.  Unknown fields are kept in `meta`.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_EVENTS_H
#define AURA_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "aura/alloc.h"
#include "aura/status.h"

/* ---- schema ---- */

#define AURA_EVENTS_NO_AGENT UINT32_MAX /* dst of events that have none */

typedef enum aura_events_kind {
    AURA_EVENTS_CALL = 0,         /* src called dst (request sent) */
    AURA_EVENTS_REPLY = 1,        /* dst answered src: latency_ms, ok */
    AURA_EVENTS_ERROR = 2,        /* src saw an error (from dst if set) */
    AURA_EVENTS_TIMEOUT = 3,      /* src's call to dst timed out */
    AURA_EVENTS_HEARTBEAT = 4,    /* src is alive */
    AURA_EVENTS_LOAD = 5,         /* src reports its load (utilisation) */
    AURA_EVENTS_STATE = 6,        /* src reports a state change */
    AURA_EVENTS_DECISION = 7,     /* a monitor decision (admission) */
    AURA_EVENTS_INTERVENTION = 8, /* a monitor intervention on src */
    AURA_EVENTS_CUSTOM = 9,       /* anything else; see meta */
    AURA_EVENTS_KIND_COUNT = 10
} aura_events_kind;

/* Agent states carried by STATE events (and used by the monitor). */
typedef enum aura_events_state {
    AURA_EVENTS_STATE_UNKNOWN = 0,
    AURA_EVENTS_STATE_HEALTHY = 1,
    AURA_EVENTS_STATE_DEGRADED = 2,
    AURA_EVENTS_STATE_FAILING = 3,
    AURA_EVENTS_STATE_FAILED = 4,
    AURA_EVENTS_STATE_ISOLATED = 5,
    AURA_EVENTS_STATE_COUNT = 6
} aura_events_state;

/* Which optional fields an event carries (aura_events_event.flags). */
enum {
    AURA_EVENTS_F_OK = 1u << 0,          /* value of "ok" (valid if F_HAS_OK) */
    AURA_EVENTS_F_HAS_OK = 1u << 1,
    AURA_EVENTS_F_HAS_LATENCY = 1u << 2,
    AURA_EVENTS_F_HAS_LOAD = 1u << 3,
    AURA_EVENTS_F_HAS_TOKENS = 1u << 4,
    AURA_EVENTS_F_HAS_PRIORITY = 1u << 5,
    AURA_EVENTS_F_HAS_STATE = 1u << 6,
    AURA_EVENTS_F_HAS_TRACE = 1u << 7,
    AURA_EVENTS_F_HAS_SPAN = 1u << 8,
    AURA_EVENTS_F_HAS_CORRELATION = 1u << 9,
    AURA_EVENTS_F_HAS_META = 1u << 10
};

/* The compact binary form: 64 bytes, plain data. */
typedef struct aura_events_event {
    int64_t ts_us;           /* timestamp, microseconds (JSON "ts" is ms) */
    uint64_t trace;          /* 64-bit hash of the trace id, 0 = none */
    uint64_t span;           /* hash of the span id, 0 = none */
    uint64_t correlation;    /* hash of the correlation id, 0 = none */
    uint32_t src;            /* interned source agent */
    uint32_t dst;            /* interned destination agent or AURA_EVENTS_NO_AGENT */
    uint16_t kind;           /* aura_events_kind */
    uint16_t flags;          /* AURA_EVENTS_F_* */
    float latency_ms;        /* call latency (F_HAS_LATENCY) */
    float load;              /* utilisation, 1.0 = at capacity (F_HAS_LOAD) */
    uint32_t tokens;         /* tokens used (F_HAS_TOKENS) */
    int16_t priority;        /* request priority (F_HAS_PRIORITY) */
    uint8_t state;           /* aura_events_state (F_HAS_STATE) */
    uint8_t reserved;        /* zero */
    uint32_t meta;           /* reader-local handle of the meta JSON (F_HAS_META) */
} aura_events_event;

/* "call", "reply", ... ; NULL for an out-of-range kind. */
AURA_API const char *aura_events_kind_name(aura_events_kind kind);
/* Parses a kind name (exact, lower case). AURA_E_NOTFOUND if unknown. */
AURA_API aura_status aura_events_kind_parse(const char *s, size_t len, aura_events_kind *out);
/* "healthy", "degraded", ... ; NULL if out of range. */
AURA_API const char *aura_events_state_name(aura_events_state state);
AURA_API aura_status aura_events_state_parse(const char *s, size_t len, aura_events_state *out);

/* 64-bit hash used for trace/span/correlation ids (never 0 for a
 * non-empty string). */
AURA_API uint64_t aura_events_id_hash(const char *s, size_t len);

/* ---- agent-id interning: strings <-> dense integers 0, 1, 2, ... ---- */

typedef struct aura_events_interner aura_events_interner;

AURA_API aura_status aura_events_interner_create(const aura_allocator *alloc,
                                                 aura_events_interner **out);
AURA_API void aura_events_interner_destroy(aura_events_interner *in);
/* The id of `name` (len bytes, need not be NUL-terminated), adding it if new.
 * Names are 1..AURA_EVENTS_MAX_ID_LEN bytes (AURA_E_RANGE otherwise). */
AURA_API aura_status aura_events_interner_intern(aura_events_interner *in, const char *name,
                                                 size_t len, uint32_t *id);
/* Looks a name up without adding it; AURA_E_NOTFOUND if absent. */
AURA_API aura_status aura_events_interner_find(const aura_events_interner *in, const char *name,
                                               size_t len, uint32_t *id);
/* The NUL-terminated name of `id`, owned by the interner and valid until it
 * is destroyed; NULL if id is unknown. */
AURA_API const char *aura_events_interner_name(const aura_events_interner *in, uint32_t id);
AURA_API uint32_t aura_events_interner_count(const aura_events_interner *in);

#define AURA_EVENTS_MAX_ID_LEN 256

/* ---- JSON lines ---- */

typedef struct aura_events_jsonl_opts {
    const aura_allocator *alloc; /* NULL = default */
    int strict;                  /* 1: a malformed line is an error; 0: skip and count it */
    size_t max_line;             /* longest accepted line in bytes (default 1 MiB) */
} aura_events_jsonl_opts;

AURA_API aura_events_jsonl_opts aura_events_jsonl_opts_default(void);

typedef struct aura_events_reader aura_events_reader;

typedef struct aura_events_reader_stats {
    uint64_t lines;       /* lines seen (blank lines included) */
    uint64_t events;      /* events returned */
    uint64_t skipped;     /* malformed lines skipped (non-strict mode) */
    uint64_t last_error_line; /* 1-based line of the last skipped/bad line, 0 = none */
} aura_events_reader_stats;

/* A reader of JSON lines that interns agent ids into `agents` (borrowed and
 * kept: it must outlive the reader). */
AURA_API aura_status aura_events_reader_create(const aura_events_jsonl_opts *opts,
                                               aura_events_interner *agents,
                                               aura_events_reader **out);
AURA_API void aura_events_reader_destroy(aura_events_reader *r);

/* Parses one line (without its newline) into *ev.  Returns AURA_E_FORMAT
 * with a message naming the column (aura_events_reader_errmsg) if the line
 * is malformed, AURA_E_NOTFOUND for a blank line.  The line counter advances
 * by one per call. */
AURA_API aura_status aura_events_reader_parse_line(aura_events_reader *r, const char *line,
                                                   size_t len, aura_events_event *ev);

/* Reads up to `cap` events from `f`.  *n_out == 0 with AURA_OK means end of
 * input.  In non-strict mode malformed lines are skipped, counted and
 * logged with their line number; in strict mode the first one returns
 * AURA_E_FORMAT (events parsed before it in this call are still in out[0..
 * *n_out)).  The meta handles of returned events stay valid until the next
 * call of read (or parse_line).  A reader follows one stream: once it has
 * seen the end of `f` it stays there; read another stream with a new
 * reader (the interner can be shared). */
AURA_API aura_status aura_events_reader_read(aura_events_reader *r, FILE *f,
                                             aura_events_event *out, size_t cap, size_t *n_out);

/* The meta JSON text of an event returned by the latest read, or NULL. */
AURA_API const char *aura_events_reader_meta(const aura_events_reader *r, uint32_t meta,
                                             size_t *len);
AURA_API void aura_events_reader_get_stats(const aura_events_reader *r,
                                           aura_events_reader_stats *st);
/* "line 12, column 5: expected ..." for the last error; never NULL. */
AURA_API const char *aura_events_reader_errmsg(const aura_events_reader *r);

/* Formats `ev` as one JSON line (with trailing '\n') into buf.  Agent names
 * come from `agents`; `meta_json` (may be NULL) is emitted verbatim as the
 * "meta" value.  Trace/span/correlation hashes are written as 16-digit hex
 * strings.  Sets *n_out to the length (without NUL); AURA_E_RANGE if cap is
 * too small (then nothing useful is in buf). */
AURA_API aura_status aura_events_event_format(const aura_events_event *ev,
                                              const aura_events_interner *agents,
                                              const char *meta_json, char *buf, size_t cap,
                                              size_t *n_out);

#endif /* AURA_EVENTS_H */
