/* jsonl.c -- events as JSON lines: a buffered line reader that validates
 * each line into an aura_events_event, and the formatter that writes them.
 * Parsing itself is simdjson's (json_simd.cpp); cJSON is used only on the
 * slow path, to locate the column of a syntax error for the message.
 * SPDX-License-Identifier: MIT */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "events_int.h"

#define READ_CHUNK (1u << 20) /* bytes read from the FILE at a time */
#define DEFAULT_MAX_LINE (1u << 20)
#define MAX_ABS_TS_US 9.0e15  /* |ts| in microseconds that fits an int64 comfortably */

struct aura_events_reader {
    aura_events_jsonl_opts opts;
    aura_events_interner *agents; /* borrowed */
    aura__events_json *json;
    aura__events_buf in;          /* unconsumed input in [start, in.len), padded */
    size_t start;
    int eof;
    int discarding;               /* inside an over-long line: drop to its end */
    aura__events_buf meta;        /* meta JSON of the current batch */
    aura__events_buf scratch;     /* padded copy for parse_line */
    aura_events_reader_stats stats;
    char errmsg[320];
};

aura_events_jsonl_opts aura_events_jsonl_opts_default(void)
{
    aura_events_jsonl_opts o = {NULL, 0, DEFAULT_MAX_LINE};
    return o;
}

aura_status aura_events_reader_create(const aura_events_jsonl_opts *opts,
                                      aura_events_interner *agents, aura_events_reader **out)
{
    AURA_CHECK_ARG(agents && out);
    aura_events_jsonl_opts o = opts ? *opts : aura_events_jsonl_opts_default();
    if (o.max_line == 0 || o.max_line > ((size_t)1 << 30)) {
        return AURA_E_RANGE;
    }
    aura_events_reader *r = aura__calloc(o.alloc, 1, sizeof *r);
    if (!r) {
        return AURA_E_NOMEM;
    }
    r->opts = o;
    r->agents = agents;
    r->in.alloc = r->meta.alloc = r->scratch.alloc = o.alloc;
    r->json = aura__events_json_create(o.max_line);
    if (!r->json) {
        aura_events_reader_destroy(r);
        return AURA_E_NOMEM;
    }
    snprintf(r->errmsg, sizeof r->errmsg, "no error");
    *out = r;
    return AURA_OK;
}

void aura_events_reader_destroy(aura_events_reader *r)
{
    if (!r) {
        return;
    }
    aura__events_json_destroy(r->json);
    aura__events_buf_fini(&r->in);
    aura__events_buf_fini(&r->meta);
    aura__events_buf_fini(&r->scratch);
    aura__free(r->opts.alloc, r);
}

/* ---- one line -> one event ---- */

static aura_status fail_at(aura_events_reader *r, size_t col, const char *msg)
{
    if (col == SIZE_MAX) {
        snprintf(r->errmsg, sizeof r->errmsg, "line %" PRIu64 ": %s", r->stats.lines, msg);
    } else {
        snprintf(r->errmsg, sizeof r->errmsg, "line %" PRIu64 ", column %zu: %s",
                 r->stats.lines, col + 1, msg);
    }
    return AURA_E_FORMAT;
}

/* Column of a JSON syntax error, found by cJSON (slow path only). */
static size_t syntax_error_offset(const char *line, size_t len)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    if (j) {
        cJSON_Delete(j);
        return SIZE_MAX;
    }
    return end && end >= line && end <= line + len ? (size_t)(end - line) : SIZE_MAX;
}

static size_t key_col(const char *line, size_t len, const char *key)
{
    size_t kn = strlen(key);
    for (size_t i = 0; i + kn + 2 <= len; i++) {
        if (line[i] == '"' && memcmp(line + i + 1, key, kn) == 0 && line[i + 1 + kn] == '"') {
            return i;
        }
    }
    return SIZE_MAX;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            return 0;
        }
    }
    return 1;
}

static aura_status check_number(aura_events_reader *r, const char *line, size_t len,
                                const char *key, double v, int nonneg)
{
    if (!isfinite(v) || (nonneg && v < 0)) {
        char msg[96];
        snprintf(msg, sizeof msg, "field \"%s\": %s", key,
                 isfinite(v) ? "must not be negative" : "must be finite");
        return fail_at(r, key_col(line, len, key), msg);
    }
    return AURA_OK;
}

static aura_status agent_id(aura_events_reader *r, const char *line, size_t len, const char *key,
                            aura__events_str s, uint32_t *id)
{
    aura_status st = aura_events_interner_intern(r->agents, s.p, s.n, id);
    if (st == AURA_E_RANGE) {
        char msg[128];
        snprintf(msg, sizeof msg, "field \"%s\": agent id must be 1..%d bytes without NUL", key,
                 AURA_EVENTS_MAX_ID_LEN);
        return fail_at(r, key_col(line, len, key), msg);
    }
    return st;
}

/* Checks the values of *f and fills *ev (interning agents last, so that a
 * rejected line adds none). */
static aura_status build_event(aura_events_reader *r, const char *line, size_t len,
                               const aura__events_fields *f, size_t meta_start,
                               aura_events_event *ev)
{
    aura_events_event e;
    memset(&e, 0, sizeof e);
    e.dst = AURA_EVENTS_NO_AGENT;
    if (f->has & AURA__EF_TS_US) {
        e.ts_us = f->ts_us;
    } else if (f->has & AURA__EF_TS) {
        double us = f->ts_ms * 1000.0;
        if (!isfinite(us) || fabs(us) > MAX_ABS_TS_US) {
            return fail_at(r, key_col(line, len, "ts"), "field \"ts\": out of range");
        }
        e.ts_us = (int64_t)llround(us);
    } else {
        return fail_at(r, SIZE_MAX, "missing field \"ts\" (or \"ts_us\")");
    }
    if (!(f->has & AURA__EF_KIND)) {
        return fail_at(r, SIZE_MAX, "missing field \"kind\"");
    }
    aura_events_kind kind;
    if (aura_events_kind_parse(f->kind.p, f->kind.n, &kind) != AURA_OK) {
        return fail_at(r, key_col(line, len, "kind"),
                       "field \"kind\": unknown kind (call, reply, error, timeout, heartbeat, "
                       "load, state, decision, intervention, custom)");
    }
    e.kind = (uint16_t)kind;
    if (!(f->has & AURA__EF_SRC)) {
        return fail_at(r, SIZE_MAX, "missing field \"src\"");
    }
    aura_status st = AURA_OK;
    if (f->has & AURA__EF_LATENCY) {
        st = check_number(r, line, len, "latency_ms", f->latency_ms, 1);
        e.latency_ms = (float)f->latency_ms;
        e.flags |= AURA_EVENTS_F_HAS_LATENCY;
    }
    if (st == AURA_OK && (f->has & AURA__EF_LOAD)) {
        st = check_number(r, line, len, "load", f->load, 1);
        e.load = (float)f->load;
        e.flags |= AURA_EVENTS_F_HAS_LOAD;
    }
    if (st != AURA_OK) {
        return st;
    }
    if (f->has & AURA__EF_OK) {
        e.flags |= AURA_EVENTS_F_HAS_OK | (f->ok ? AURA_EVENTS_F_OK : 0);
    }
    if (f->has & AURA__EF_TOKENS) {
        e.tokens = (uint32_t)f->tokens;
        e.flags |= AURA_EVENTS_F_HAS_TOKENS;
    }
    if (f->has & AURA__EF_PRIORITY) {
        e.priority = (int16_t)f->priority;
        e.flags |= AURA_EVENTS_F_HAS_PRIORITY;
    }
    if (f->has & AURA__EF_STATE) {
        aura_events_state state;
        if (aura_events_state_parse(f->state.p, f->state.n, &state) != AURA_OK) {
            return fail_at(r, key_col(line, len, "state"),
                           "field \"state\": unknown state (unknown, healthy, degraded, failing, "
                           "failed, isolated)");
        }
        e.state = (uint8_t)state;
        e.flags |= AURA_EVENTS_F_HAS_STATE;
    }
    if (f->has & AURA__EF_TRACE) {
        e.trace = aura_events_id_hash(f->trace.p, f->trace.n);
        e.flags |= e.trace ? AURA_EVENTS_F_HAS_TRACE : 0;
    }
    if (f->has & AURA__EF_SPAN) {
        e.span = aura_events_id_hash(f->span.p, f->span.n);
        e.flags |= e.span ? AURA_EVENTS_F_HAS_SPAN : 0;
    }
    if (f->has & AURA__EF_CORRELATION) {
        e.correlation = aura_events_id_hash(f->correlation.p, f->correlation.n);
        e.flags |= e.correlation ? AURA_EVENTS_F_HAS_CORRELATION : 0;
    }
    if (f->has & AURA__EF_META) {
        /* Stored as the text then a NUL; the handle is offset + 1. */
        st = aura__events_buf_append(&r->meta, "", 1);
        if (st != AURA_OK) {
            return st;
        }
        if (meta_start >= UINT32_MAX - 1) {
            return fail_at(r, SIZE_MAX, "too much meta data in one batch");
        }
        e.meta = (uint32_t)meta_start + 1;
        e.flags |= AURA_EVENTS_F_HAS_META;
    }
    st = agent_id(r, line, len, "src", f->src, &e.src);
    if (st == AURA_OK && (f->has & AURA__EF_DST)) {
        st = agent_id(r, line, len, "dst", f->dst, &e.dst);
    }
    if (st == AURA_OK) {
        *ev = e;
    }
    return st;
}

/* Parses a line that has AURA__EVENTS_JSON_PADDING readable bytes after it.
 * The line counter must already count it. */
static aura_status parse_padded(aura_events_reader *r, const char *line, size_t len,
                                aura_events_event *ev)
{
    if (len && line[len - 1] == '\r') {
        len--;
    }
    if (is_blank(line, len)) {
        return AURA_E_NOTFOUND;
    }
    if (len > r->opts.max_line) {
        char msg[96];
        snprintf(msg, sizeof msg, "line longer than the limit of %zu bytes", r->opts.max_line);
        return fail_at(r, SIZE_MAX, msg);
    }
    aura__events_fields f;
    char err[200];
    size_t off = SIZE_MAX, meta_start = r->meta.len;
    aura_status st = aura__events_json_parse(r->json, line, len, &f, &r->meta, err, sizeof err,
                                             &off);
    if (st == AURA_OK) {
        st = build_event(r, line, len, &f, meta_start, ev);
    } else if (st == AURA_E_FORMAT) {
        if (off == SIZE_MAX && strncmp(err, "invalid JSON", 12) == 0) {
            off = syntax_error_offset(line, len);
        }
        fail_at(r, off, err);
    } else {
        snprintf(r->errmsg, sizeof r->errmsg, "line %" PRIu64 ": %s", r->stats.lines, err);
    }
    if (st != AURA_OK) {
        r->meta.len = meta_start; /* drop meta of a rejected line */
    }
    return st;
}

aura_status aura_events_reader_parse_line(aura_events_reader *r, const char *line, size_t len,
                                          aura_events_event *ev)
{
    AURA_CHECK_ARG(r && (line || len == 0) && ev);
    r->stats.lines++;
    r->scratch.len = 0;
    r->meta.len = 0;
    if (len > r->opts.max_line + 1) {
        return fail_at(r, SIZE_MAX, "line longer than the limit");
    }
    aura_status st = aura__events_buf_reserve(&r->scratch, len + AURA__EVENTS_JSON_PADDING);
    if (st != AURA_OK) {
        return st;
    }
    if (len) {
        memcpy(r->scratch.p, line, len);
    }
    memset(r->scratch.p + len, 0, AURA__EVENTS_JSON_PADDING);
    st = parse_padded(r, r->scratch.p, len, ev);
    if (st == AURA_OK) {
        r->stats.events++;
    } else if (st == AURA_E_FORMAT) {
        r->stats.last_error_line = r->stats.lines;
    }
    return st;
}

/* ---- buffered reading ---- */

/* Reads more input after the unconsumed bytes; sets r->eof at the end. */
static aura_status fill(aura_events_reader *r, FILE *f)
{
    size_t rest = r->in.len - r->start;
    if (r->start) {
        memmove(r->in.p, r->in.p + r->start, rest);
        r->in.len = rest;
        r->start = 0;
    }
    aura_status st = aura__events_buf_reserve(&r->in, READ_CHUNK + AURA__EVENTS_JSON_PADDING);
    if (st != AURA_OK) {
        return st;
    }
    size_t got = fread(r->in.p + r->in.len, 1, READ_CHUNK, f);
    r->in.len += got;
    memset(r->in.p + r->in.len, 0, AURA__EVENTS_JSON_PADDING);
    if (got < READ_CHUNK) {
        if (ferror(f)) {
            snprintf(r->errmsg, sizeof r->errmsg, "read error after line %" PRIu64,
                     r->stats.lines);
            return AURA_E_IO;
        }
        r->eof = 1;
    }
    return AURA_OK;
}

/* Handles a bad line: counted and logged, or an error in strict mode. */
static aura_status bad_line(aura_events_reader *r, aura_status st)
{
    r->stats.last_error_line = r->stats.lines;
    if (st != AURA_E_FORMAT || r->opts.strict) {
        return st;
    }
    r->stats.skipped++;
    aura_log(AURA_LOG_WARN, "events: skipped %s", r->errmsg);
    return AURA_OK;
}

/* Next complete line in line and len, or len == SIZE_MAX when more input is
 * needed (or at the end). */
static void next_line(aura_events_reader *r, const char **line, size_t *len)
{
    size_t avail = r->in.len - r->start;
    if (avail == 0) {
        *len = SIZE_MAX; /* also before the first fill, when in.p is NULL */
        return;
    }
    const char *p = r->in.p + r->start;
    const char *nl = memchr(p, '\n', avail);
    if (nl) {
        *line = p;
        *len = (size_t)(nl - p);
        r->start += *len + 1;
    } else if (r->eof && avail) {
        *line = p; /* last line without a newline */
        *len = avail;
        r->start = r->in.len;
    } else {
        *len = SIZE_MAX;
    }
}

aura_status aura_events_reader_read(aura_events_reader *r, FILE *f, aura_events_event *out,
                                    size_t cap, size_t *n_out)
{
    AURA_CHECK_ARG(r && f && (out || cap == 0) && n_out);
    size_t n = 0;
    aura_status st = AURA_OK;
    r->meta.len = 0;
    while (n < cap && st == AURA_OK) {
        const char *line;
        size_t len;
        next_line(r, &line, &len);
        if (len == SIZE_MAX) {
            if (r->eof) {
                break;
            }
            size_t pending = r->in.len - r->start;
            if (pending > r->opts.max_line + 1) {
                /* An over-long line: report it once, then drop its bytes. */
                if (!r->discarding) {
                    r->stats.lines++;
                    fail_at(r, SIZE_MAX, "line longer than the limit; skipped");
                    r->discarding = 1;
                    st = bad_line(r, AURA_E_FORMAT);
                }
                r->start = r->in.len;
            }
            if (st == AURA_OK) {
                st = fill(r, f);
            }
            continue;
        }
        if (r->discarding) {
            r->discarding = 0; /* this was the tail of the over-long line */
            continue;
        }
        r->stats.lines++;
        aura_status ls = parse_padded(r, line, len, &out[n]);
        if (ls == AURA_OK) {
            n++;
            r->stats.events++;
        } else if (ls != AURA_E_NOTFOUND) {
            st = bad_line(r, ls);
        }
    }
    *n_out = n;
    return st;
}

const char *aura_events_reader_meta(const aura_events_reader *r, uint32_t meta, size_t *len)
{
    if (!r || meta == 0 || meta > r->meta.len) {
        return NULL;
    }
    const char *s = r->meta.p + (meta - 1);
    if (len) {
        *len = strlen(s);
    }
    return s;
}

void aura_events_reader_get_stats(const aura_events_reader *r, aura_events_reader_stats *st)
{
    if (r && st) {
        *st = r->stats;
    }
}

const char *aura_events_reader_errmsg(const aura_events_reader *r)
{
    return r ? r->errmsg : "no reader";
}

/* ---- formatting ---- */

typedef struct out_cursor {
    char *p;
    size_t len, cap;
    int overflow;
} out_cursor;

static void put(out_cursor *o, const char *s, size_t n)
{
    if (o->overflow || o->cap - o->len < n + 1) {
        o->overflow = 1;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void puts_(out_cursor *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_string(out_cursor *o, const char *s)
{
    char tmp[6 * AURA_EVENTS_MAX_ID_LEN + 8];
    aura__events_buf b = {tmp, 0, sizeof tmp, NULL};
    size_t n = strlen(s);
    if (n > AURA_EVENTS_MAX_ID_LEN) {
        n = AURA_EVENTS_MAX_ID_LEN;
    }
    /* The reserve cannot fail: tmp holds the worst case. */
    if (aura__events_json_put_string(&b, s, n) == AURA_OK) {
        put(o, b.p, b.len);
    } else {
        o->overflow = 1;
    }
}

/* Values with at most three decimals (milliseconds with microsecond
 * resolution, loads in thousandths) are the common case: print them with
 * integer arithmetic when that reads back as the same float. */
static int put_float_fast(out_cursor *o, float v)
{
    double k = nearbyint((double)v * 1000.0);
    if (!(fabs(k) < 1e12) || (float)(k / 1000.0) != v) {
        return 0;
    }
    char tmp[32];
    long long q = (long long)k;
    unsigned long long m = (unsigned long long)(q < 0 ? -q : q);
    int n = snprintf(tmp, sizeof tmp, "%s%llu", q < 0 ? "-" : "", m / 1000);
    unsigned frac = (unsigned)(m % 1000);
    if (frac) {
        n += snprintf(tmp + n, sizeof tmp - (size_t)n, ".%03u", frac);
        while (tmp[n - 1] == '0') {
            tmp[--n] = '\0';
        }
    }
    puts_(o, tmp);
    return 1;
}

/* Shortest decimal that reads back as the same float. */
static void put_float(out_cursor *o, float v)
{
    char tmp[32];
    if (put_float_fast(o, v)) {
        return;
    }
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, (double)v);
        if (strtof(tmp, NULL) == v) {
            break;
        }
    }
    puts_(o, tmp);
}

static void put_ts(out_cursor *o, int64_t ts_us)
{
    char tmp[40];
    uint64_t mag = ts_us < 0 ? (uint64_t)0 - (uint64_t)ts_us : (uint64_t)ts_us;
    uint64_t whole = mag / 1000, frac = mag % 1000;
    int k = snprintf(tmp, sizeof tmp, "%s%" PRIu64, ts_us < 0 ? "-" : "", whole);
    if (frac) {
        k += snprintf(tmp + k, sizeof tmp - (size_t)k, ".%03" PRIu64, frac);
        while (tmp[k - 1] == '0') {
            tmp[--k] = '\0';
        }
    }
    puts_(o, tmp);
}

static void put_agent(out_cursor *o, const char *key, const aura_events_interner *agents,
                      uint32_t id)
{
    const char *name = aura_events_interner_name(agents, id);
    puts_(o, key);
    if (name) {
        put_string(o, name);
    } else {
        char tmp[24];
        snprintf(tmp, sizeof tmp, "\"#%" PRIu32 "\"", id);
        puts_(o, tmp);
    }
}

aura_status aura_events_event_format(const aura_events_event *ev,
                                     const aura_events_interner *agents, const char *meta_json,
                                     char *buf, size_t cap, size_t *n_out)
{
    AURA_CHECK_ARG(ev && buf && n_out);
    const char *kind = aura_events_kind_name((aura_events_kind)ev->kind);
    if (!kind) {
        return AURA_E_INVAL;
    }
    char tmp[64];
    out_cursor o = {buf, 0, cap, cap == 0};
    puts_(&o, "{\"ts\":");
    put_ts(&o, ev->ts_us);
    puts_(&o, ",\"kind\":\"");
    puts_(&o, kind);
    puts_(&o, "\"");
    put_agent(&o, ",\"src\":", agents, ev->src);
    if (ev->dst != AURA_EVENTS_NO_AGENT) {
        put_agent(&o, ",\"dst\":", agents, ev->dst);
    }
    if (ev->flags & AURA_EVENTS_F_HAS_LATENCY) {
        puts_(&o, ",\"latency_ms\":");
        put_float(&o, ev->latency_ms);
    }
    if (ev->flags & AURA_EVENTS_F_HAS_OK) {
        puts_(&o, (ev->flags & AURA_EVENTS_F_OK) ? ",\"ok\":true" : ",\"ok\":false");
    }
    if (ev->flags & AURA_EVENTS_F_HAS_LOAD) {
        puts_(&o, ",\"load\":");
        put_float(&o, ev->load);
    }
    if (ev->flags & AURA_EVENTS_F_HAS_TOKENS) {
        snprintf(tmp, sizeof tmp, ",\"tokens\":%" PRIu32, ev->tokens);
        puts_(&o, tmp);
    }
    if (ev->flags & AURA_EVENTS_F_HAS_PRIORITY) {
        snprintf(tmp, sizeof tmp, ",\"priority\":%d", (int)ev->priority);
        puts_(&o, tmp);
    }
    if (ev->flags & AURA_EVENTS_F_HAS_STATE) {
        const char *s = aura_events_state_name((aura_events_state)ev->state);
        puts_(&o, ",\"state\":\"");
        puts_(&o, s ? s : "unknown");
        puts_(&o, "\"");
    }
    static const struct {
        unsigned flag;
        const char *key;
        size_t off;
    } ids[] = {{AURA_EVENTS_F_HAS_TRACE, ",\"trace\":", offsetof(aura_events_event, trace)},
               {AURA_EVENTS_F_HAS_SPAN, ",\"span\":", offsetof(aura_events_event, span)},
               {AURA_EVENTS_F_HAS_CORRELATION, ",\"correlation\":",
                offsetof(aura_events_event, correlation)}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if (ev->flags & ids[i].flag) {
            uint64_t v;
            memcpy(&v, (const char *)ev + ids[i].off, sizeof v);
            snprintf(tmp, sizeof tmp, "%s\"%016" PRIx64 "\"", ids[i].key, v);
            puts_(&o, tmp);
        }
    }
    if (meta_json && *meta_json) {
        puts_(&o, ",\"meta\":");
        puts_(&o, meta_json);
    }
    puts_(&o, "}\n");
    if (o.overflow) {
        return AURA_E_RANGE;
    }
    *n_out = o.len;
    return AURA_OK;
}
