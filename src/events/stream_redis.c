/* stream_redis.c -- the event log on Redis Streams (events_stream.h).
 *
 * XADD with pipelining for producers; XREADGROUP / XACK / XAUTOCLAIM for
 * consumer groups.  The Redis protocol is hiredis's job; this file only
 * builds argument vectors and walks replies.  Every entry is one field,
 * "e", holding the event as a JSON line.
 * SPDX-License-Identifier: MIT */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aura/events_stream.h"
#include "core/core_int.h"
#include "core/redis_int.h"

#define PIPELINE_CHUNK 1024 /* commands in flight at once */
#define LINE_CAP 4096       /* a formatted event without meta fits easily */

struct aura_events_stream {
    aura_events_stream_opts opts; /* string fields point at the copies below */
    char *host, *key, *group, *consumer;
    aura_events_interner *agents; /* borrowed */
    aura_events_reader *reader;   /* parses entry payloads */
    aura__redis conn;
    char claim_cursor[48];
    aura_events_stream_stats stats;
    char line[LINE_CAP];
};

static _Thread_local char g_connect_error[512];

aura_events_stream_opts aura_events_stream_opts_default(void)
{
    aura_events_stream_opts o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.port = 6379;
    o.key = "aura:events";
    o.group = "aura";
    o.timeout_ms = 2000;
    o.block_ms = 100;
    return o;
}

const char *aura_events_stream_last_connect_error(void)
{
    return g_connect_error;
}

const char *aura_events_stream_errmsg(const aura_events_stream *s)
{
    return s ? s->conn.errmsg : "";
}

void aura_events_stream_get_stats(const aura_events_stream *s, aura_events_stream_stats *st)
{
    if (s && st) {
        *st = s->stats;
        st->reconnects = s->conn.reconnects;
    }
}

static aura_status ensure_group(aura_events_stream *s)
{
    const char *argv[] = {"XGROUP", "CREATE", s->key, s->group, "0", "MKSTREAM"};
    size_t lens[6];
    for (int i = 0; i < 6; i++) {
        lens[i] = strlen(argv[i]);
    }
    redisReply *r = aura__redis_run(&s->conn, 6, argv, lens);
    if (!r) {
        return AURA_E_CONN;
    }
    aura_status st = AURA_OK;
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "BUSYGROUP", 9) != 0) {
        st = aura__redis_reply_error(&s->conn, r, "XGROUP CREATE");
    }
    freeReplyObject(r);
    return st;
}

void aura_events_stream_destroy(aura_events_stream *s)
{
    if (!s) {
        return;
    }
    aura__redis_close(&s->conn);
    aura_events_reader_destroy(s->reader);
    aura__free(s->opts.alloc, s->host);
    aura__free(s->opts.alloc, s->key);
    aura__free(s->opts.alloc, s->group);
    aura__free(s->opts.alloc, s->consumer);
    aura__free(s->opts.alloc, s);
}

static aura_status copy_opts(aura_events_stream *s, const aura_events_stream_opts *o)
{
    char pidname[32];
    snprintf(pidname, sizeof pidname, "aura-%ld", (long)getpid());
    s->opts = *o;
    s->host = aura__strdup(o->alloc, o->host ? o->host : "127.0.0.1");
    s->key = aura__strdup(o->alloc, o->key ? o->key : "aura:events");
    s->group = aura__strdup(o->alloc, o->group ? o->group : "aura");
    s->consumer = aura__strdup(o->alloc, o->consumer ? o->consumer : pidname);
    if (!s->host || !s->key || !s->group || !s->consumer) {
        return AURA_E_NOMEM;
    }
    s->opts.host = s->host;
    s->opts.key = s->key;
    s->opts.group = s->group;
    s->opts.consumer = s->consumer;
    strcpy(s->claim_cursor, "0-0");
    return AURA_OK;
}

aura_status aura_events_stream_connect(const aura_events_stream_opts *opts,
                                       aura_events_interner *agents, aura_events_stream **out)
{
    AURA_CHECK_ARG(agents && out);
    aura_events_stream_opts o = opts ? *opts : aura_events_stream_opts_default();
    if (o.port <= 0 || o.port > 65535 || o.timeout_ms <= 0 || o.block_ms < 0 || o.maxlen < 0) {
        snprintf(g_connect_error, sizeof g_connect_error, "invalid options (port, timeouts)");
        return AURA_E_RANGE;
    }
    aura_events_stream *s = aura__calloc(o.alloc, 1, sizeof *s);
    if (!s) {
        return AURA_E_NOMEM;
    }
    s->agents = agents;
    aura_events_jsonl_opts jo = aura_events_jsonl_opts_default();
    jo.alloc = o.alloc;
    jo.strict = 1;
    aura_status st = copy_opts(s, &o);
    if (st == AURA_OK) {
        st = aura_events_reader_create(&jo, agents, &s->reader);
    }
    if (st == AURA_OK) {
        st = aura__redis_open(&s->conn, s->host, o.port, o.timeout_ms, o.block_ms);
    }
    if (st == AURA_OK) {
        st = ensure_group(s);
    }
    if (st != AURA_OK) {
        snprintf(g_connect_error, sizeof g_connect_error, "%s",
                 s->conn.errmsg[0] ? s->conn.errmsg : aura_status_str(st));
        aura_events_stream_destroy(s);
        return st;
    }
    g_connect_error[0] = '\0';
    *out = s;
    return AURA_OK;
}

/* ---- publish ---- */

static aura_status append_xadd(aura_events_stream *s, const aura_events_event *ev)
{
    size_t len;
    aura_status st = aura_events_event_format(ev, s->agents, NULL, s->line, sizeof s->line, &len);
    if (st != AURA_OK) {
        snprintf(s->conn.errmsg, sizeof s->conn.errmsg, "cannot format event: %s",
                 aura_status_str(st));
        return st;
    }
    char maxlen[24];
    const char *argv[8];
    size_t lens[8];
    int argc = 0;
    argv[argc++] = "XADD";
    argv[argc++] = s->key;
    if (s->opts.maxlen > 0) {
        snprintf(maxlen, sizeof maxlen, "%" PRId64, s->opts.maxlen);
        argv[argc++] = "MAXLEN";
        argv[argc++] = "~";
        argv[argc++] = maxlen;
    }
    argv[argc++] = "*";
    argv[argc++] = "e";
    for (int i = 0; i < argc; i++) {
        lens[i] = strlen(argv[i]);
    }
    argv[argc] = s->line;
    lens[argc++] = len - 1; /* without the newline */
    if (redisAppendCommandArgv(s->conn.c, argc, argv, lens) != REDIS_OK) {
        aura__redis_set_error(&s->conn, "cannot queue XADD");
        return AURA_E_CONN;
    }
    return AURA_OK;
}

/* One pipelined chunk: queue n XADDs, then read n replies. */
static aura_status publish_chunk(aura_events_stream *s, const aura_events_event *ev, size_t n)
{
    aura_status st = AURA_OK;
    for (size_t i = 0; i < n && st == AURA_OK; i++) {
        st = append_xadd(s, &ev[i]);
    }
    if (st != AURA_OK) {
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *r = aura__redis_pipe_reply(&s->conn, "connection lost during XADD");
        if (!r) {
            return AURA_E_CONN;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            st = aura__redis_reply_error(&s->conn, r, "XADD");
        } else {
            s->stats.published++;
        }
        freeReplyObject(r);
    }
    return st;
}

aura_status aura_events_stream_publish(aura_events_stream *s, const aura_events_event *events,
                                       size_t n)
{
    AURA_CHECK_ARG(s && (events || n == 0));
    for (size_t done = 0; done < n;) {
        size_t k = n - done < PIPELINE_CHUNK ? n - done : PIPELINE_CHUNK;
        aura_status st = AURA_E_CONN;
        int server_error = 0;
        if (s->conn.c && !s->conn.c->err) {
            st = publish_chunk(s, events + done, k);
            server_error = st != AURA_OK && s->conn.c && !s->conn.c->err;
        }
        if (st == AURA_E_CONN && !server_error) {
            /* Lost the connection: reconnect once and resend the chunk. */
            if (aura__redis_reconnect(&s->conn) != AURA_OK) {
                return AURA_E_CONN;
            }
            st = publish_chunk(s, events + done, k);
        }
        if (st != AURA_OK) {
            return st;
        }
        done += k;
    }
    return AURA_OK;
}

/* ---- read, claim, ack ---- */

static int parse_id(const char *str, size_t len, aura_events_stream_id *id)
{
    char buf[48];
    if (len == 0 || len >= sizeof buf) {
        return 0;
    }
    memcpy(buf, str, len);
    buf[len] = '\0';
    char *end;
    id->ms = strtoull(buf, &end, 10);
    if (*end != '-') {
        return 0;
    }
    id->seq = strtoull(end + 1, &end, 10);
    return *end == '\0';
}

static void format_id(const aura_events_stream_id *id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
}

static aura_status ack_ids(aura_events_stream *s, const aura_events_stream_id *ids, size_t n);

/* Decodes one entry [id, [field, value, ...]] into out[*n] if valid. */
static void take_entry(aura_events_stream *s, const redisReply *e, aura_events_event *out,
                       aura_events_stream_id *ids, size_t *n)
{
    aura_events_stream_id id;
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING ||
        !parse_id(e->element[0]->str, e->element[0]->len, &id)) {
        s->stats.bad_entries++;
        return;
    }
    const redisReply *fields = e->element[1];
    const redisReply *payload = NULL;
    for (size_t i = 0; fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i];
        if (k->type == REDIS_REPLY_STRING && k->len == 1 && k->str[0] == 'e') {
            payload = fields->element[i + 1];
        }
    }
    if (!payload || payload->type != REDIS_REPLY_STRING ||
        aura_events_reader_parse_line(s->reader, payload->str, payload->len, &out[*n]) !=
            AURA_OK) {
        s->stats.bad_entries++;
        ack_ids(s, &id, 1); /* a malformed entry would otherwise stay pending forever */
        return;
    }
    out[*n].meta = 0;
    out[*n].flags &= (uint16_t)~AURA_EVENTS_F_HAS_META;
    if (ids) {
        ids[*n] = id;
    }
    (*n)++;
}

static void take_entries(aura_events_stream *s, const redisReply *list, aura_events_event *out,
                         aura_events_stream_id *ids, size_t cap, size_t *n)
{
    for (size_t i = 0; list->type == REDIS_REPLY_ARRAY && i < list->elements && *n < cap; i++) {
        if (list->element[i]->type == REDIS_REPLY_NIL) {
            continue; /* an entry deleted from the stream while pending */
        }
        take_entry(s, list->element[i], out, ids, n);
    }
}

aura_status aura_events_stream_read(aura_events_stream *s, aura_events_event *out,
                                    aura_events_stream_id *ids, size_t cap, size_t *n_out)
{
    AURA_CHECK_ARG(s && out && n_out && cap > 0);
    char count[24], block[24];
    snprintf(count, sizeof count, "%zu", cap);
    snprintf(block, sizeof block, "%d", s->opts.block_ms);
    const char *argv[11];
    int argc = 0;
    argv[argc++] = "XREADGROUP";
    argv[argc++] = "GROUP";
    argv[argc++] = s->group;
    argv[argc++] = s->consumer;
    argv[argc++] = "COUNT";
    argv[argc++] = count;
    if (s->opts.block_ms > 0) {
        argv[argc++] = "BLOCK";
        argv[argc++] = block;
    }
    argv[argc++] = "STREAMS";
    argv[argc++] = s->key;
    argv[argc++] = ">";
    size_t lens[11];
    for (int i = 0; i < argc; i++) {
        lens[i] = strlen(argv[i]);
    }
    redisReply *r = aura__redis_run(&s->conn, argc, argv, lens);
    if (!r) {
        return AURA_E_CONN;
    }
    size_t n = 0;
    aura_status st = AURA_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        st = aura__redis_reply_error(&s->conn, r, "XREADGROUP");
    } else if (r->type == REDIS_REPLY_ARRAY) {
        /* [[key, [entries...]]] */
        for (size_t i = 0; i < r->elements; i++) {
            const redisReply *kv = r->element[i];
            if (kv->type == REDIS_REPLY_ARRAY && kv->elements == 2) {
                take_entries(s, kv->element[1], out, ids, cap, &n);
            }
        }
    }
    freeReplyObject(r);
    if (st == AURA_OK) {
        s->stats.read += n;
        *n_out = n;
    }
    return st;
}

aura_status aura_events_stream_claim(aura_events_stream *s, int64_t min_idle_ms,
                                     aura_events_event *out, aura_events_stream_id *ids,
                                     size_t cap, size_t *n_out)
{
    AURA_CHECK_ARG(s && out && n_out && cap > 0 && min_idle_ms >= 0);
    char idle[24], count[24];
    snprintf(idle, sizeof idle, "%" PRId64, min_idle_ms);
    snprintf(count, sizeof count, "%zu", cap);
    const char *argv[] = {"XAUTOCLAIM", s->key, s->group, s->consumer, idle,
                          s->claim_cursor, "COUNT", count};
    size_t lens[8];
    for (int i = 0; i < 8; i++) {
        lens[i] = strlen(argv[i]);
    }
    redisReply *r = aura__redis_run(&s->conn, 8, argv, lens);
    if (!r) {
        return AURA_E_CONN;
    }
    size_t n = 0;
    aura_status st = AURA_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        st = aura__redis_reply_error(&s->conn, r, "XAUTOCLAIM");
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
               r->element[0]->type == REDIS_REPLY_STRING) {
        /* [next-cursor, [entries...], (Redis 7: [deleted ids])] */
        size_t cl = r->element[0]->len < sizeof s->claim_cursor - 1 ? r->element[0]->len : 0;
        memcpy(s->claim_cursor, r->element[0]->str, cl);
        s->claim_cursor[cl] = '\0';
        if (cl == 0) {
            strcpy(s->claim_cursor, "0-0");
        }
        take_entries(s, r->element[1], out, ids, cap, &n);
    } else {
        snprintf(s->conn.errmsg, sizeof s->conn.errmsg, "redis XAUTOCLAIM: unexpected reply");
        st = AURA_E_CONN;
    }
    freeReplyObject(r);
    if (st == AURA_OK) {
        s->stats.read += n;
        *n_out = n;
    }
    return st;
}

static aura_status ack_ids(aura_events_stream *s, const aura_events_stream_id *ids, size_t n)
{
    enum { MAX_IDS = 512 };
    const char *argv[3 + MAX_IDS];
    size_t lens[3 + MAX_IDS];
    char idbuf[MAX_IDS][48];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < MAX_IDS ? n - done : MAX_IDS;
        argv[0] = "XACK";
        argv[1] = s->key;
        argv[2] = s->group;
        for (size_t i = 0; i < k; i++) {
            format_id(&ids[done + i], idbuf[i], sizeof idbuf[i]);
            argv[3 + i] = idbuf[i];
        }
        for (size_t i = 0; i < 3 + k; i++) {
            lens[i] = strlen(argv[i]);
        }
        redisReply *r = aura__redis_run(&s->conn, (int)(3 + k), argv, lens);
        if (!r) {
            return AURA_E_CONN;
        }
        aura_status st = AURA_OK;
        if (r->type == REDIS_REPLY_ERROR) {
            st = aura__redis_reply_error(&s->conn, r, "XACK");
        } else if (r->type == REDIS_REPLY_INTEGER) {
            s->stats.acked += (uint64_t)r->integer;
        }
        freeReplyObject(r);
        if (st != AURA_OK) {
            return st;
        }
        done += k;
    }
    return AURA_OK;
}

aura_status aura_events_stream_ack(aura_events_stream *s, const aura_events_stream_id *ids,
                                   size_t n)
{
    AURA_CHECK_ARG(s && (ids || n == 0));
    return ack_ids(s, ids, n);
}
