/* events_int.h -- internals of the events module shared by its files:
 * a growable byte buffer and the C view of the simdjson line parser
 * (json_simd.cpp).  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_EVENTS_INT_H
#define AURA_EVENTS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "aura/events.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes the JSON parser may read past the end of a line (simdjson's
 * SIMDJSON_PADDING); every line handed to the parser has this much
 * readable memory after it. */
#define AURA__EVENTS_JSON_PADDING 64

/* A growable byte buffer. */
typedef struct aura__events_buf {
    char *p;
    size_t len;
    size_t cap;
    const aura_allocator *alloc;
} aura__events_buf;

aura_status aura__events_buf_reserve(aura__events_buf *b, size_t extra);
aura_status aura__events_buf_append(aura__events_buf *b, const void *data, size_t n);
void aura__events_buf_fini(aura__events_buf *b);

/* Appends s (n bytes) as a quoted, escaped JSON string. */
aura_status aura__events_json_put_string(aura__events_buf *b, const char *s, size_t n);

/* A string view into the parser's memory, valid until its next parse. */
typedef struct aura__events_str {
    const char *p;
    size_t n;
} aura__events_str;

/* Which fields a line had (aura__events_fields.has). */
enum {
    AURA__EF_TS = 1u << 0,
    AURA__EF_TS_US = 1u << 1,
    AURA__EF_KIND = 1u << 2,
    AURA__EF_SRC = 1u << 3,
    AURA__EF_DST = 1u << 4,
    AURA__EF_LATENCY = 1u << 5,
    AURA__EF_OK = 1u << 6,
    AURA__EF_LOAD = 1u << 7,
    AURA__EF_TOKENS = 1u << 8,
    AURA__EF_PRIORITY = 1u << 9,
    AURA__EF_STATE = 1u << 10,
    AURA__EF_TRACE = 1u << 11,
    AURA__EF_SPAN = 1u << 12,
    AURA__EF_CORRELATION = 1u << 13,
    AURA__EF_META = 1u << 14
};

/* The typed fields of one JSON line, before validation of their values. */
typedef struct aura__events_fields {
    unsigned has;
    double ts_ms;
    int64_t ts_us;
    double latency_ms;
    double load;
    int ok;
    uint64_t tokens;
    int64_t priority;
    aura__events_str kind, src, dst, state, trace, span, correlation;
} aura__events_fields;

typedef struct aura__events_json aura__events_json; /* opaque simdjson parser */

aura__events_json *aura__events_json_create(size_t max_line);
void aura__events_json_destroy(aura__events_json *j);

/* Parses `line` (len bytes, AURA__EVENTS_JSON_PADDING readable bytes after
 * it) into *f.  The `meta` object and any unknown fields are appended to
 * *meta as one minified JSON object (nothing appended if neither exists).
 * On failure returns AURA_E_FORMAT (or _NOMEM) and writes a message to
 * err (and the 0-based byte offset of the problem to *err_off, or SIZE_MAX
 * if the parser cannot tell). */
aura_status aura__events_json_parse(aura__events_json *j, const char *line, size_t len,
                                    aura__events_fields *f, aura__events_buf *meta, char *err,
                                    size_t err_cap, size_t *err_off);

#ifdef __cplusplus
}
#endif

#endif /* AURA_EVENTS_INT_H */
