/* log_zstd.c -- the raw event log: JSON lines through zstd streaming
 * compression into rotated files, and a FILE* that decompresses .zst
 * input on the fly (fopencookie) so every reader of JSON lines can replay
 * a log.  Compression is libzstd's (Debian libzstd-dev).
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zstd.h>

#include "aura/events_log.h"
#include "core/core_int.h"

#define LINE_CAP (1u << 21)

struct aura_events_log {
    aura_events_log_opts opts;
    const aura_events_interner *agents; /* borrowed */
    char dir[1024];
    char path[1200];
    FILE *f;                            /* current file, NULL between files */
    ZSTD_CCtx *cctx;
    size_t written;                     /* uncompressed bytes in the current file */
    unsigned seq;
    char *line;                         /* one formatted event */
    char *out;                          /* compressed output buffer */
    size_t out_cap;
    char errmsg[1400];
};

aura_events_log_opts aura_events_log_opts_default(void)
{
    aura_events_log_opts o = {NULL, (size_t)64 << 20, 3};
    return o;
}

const char *aura_events_log_path(const aura_events_log *log)
{
    return log ? log->path : "";
}

const char *aura_events_log_errmsg(const aura_events_log *log)
{
    return log ? log->errmsg : "";
}

aura_status aura_events_log_open(const char *dir, const aura_events_log_opts *opts,
                                 const aura_events_interner *agents, aura_events_log **out)
{
    AURA_CHECK_ARG(dir && agents && out);
    aura_events_log_opts o = opts ? *opts : aura_events_log_opts_default();
    if (o.max_bytes < 4096 || o.level < 1 || o.level > 19 || strlen(dir) >= 1024) {
        return AURA_E_RANGE;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        return AURA_E_IO;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return AURA_E_IO;
    }
    aura_events_log *log = aura__calloc(o.alloc, 1, sizeof *log);
    if (!log) {
        return AURA_E_NOMEM;
    }
    log->opts = o;
    log->agents = agents;
    strcpy(log->dir, dir);
    log->out_cap = ZSTD_CStreamOutSize();
    log->line = aura__alloc(o.alloc, LINE_CAP);
    log->out = aura__alloc(o.alloc, log->out_cap);
    log->cctx = ZSTD_createCCtx();
    if (!log->line || !log->out || !log->cctx ||
        ZSTD_isError(ZSTD_CCtx_setParameter(log->cctx, ZSTD_c_compressionLevel, o.level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(log->cctx, ZSTD_c_checksumFlag, 1))) {
        aura_events_log_destroy(log);
        return AURA_E_NOMEM;
    }
    *out = log;
    return AURA_OK;
}

/* Compresses (in, n) with directive `op`, writing all output to the file. */
static aura_status pump(aura_events_log *log, const void *in, size_t n, ZSTD_EndDirective op)
{
    ZSTD_inBuffer ib = {in, n, 0};
    size_t left;
    do {
        ZSTD_outBuffer ob = {log->out, log->out_cap, 0};
        left = ZSTD_compressStream2(log->cctx, &ob, &ib, op);
        if (ZSTD_isError(left)) {
            snprintf(log->errmsg, sizeof log->errmsg, "zstd: %s", ZSTD_getErrorName(left));
            return AURA_E_INTERNAL;
        }
        if (ob.pos && fwrite(log->out, 1, ob.pos, log->f) != ob.pos) {
            snprintf(log->errmsg, sizeof log->errmsg, "%s: write failed: %s", log->path,
                     strerror(errno));
            return AURA_E_IO;
        }
    } while (op == ZSTD_e_continue ? ib.pos < ib.size : left != 0);
    return AURA_OK;
}

static aura_status start_file(aura_events_log *log)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(log->path, sizeof log->path, "%s/events-%s-%04u.jsonl.zst", log->dir, stamp,
             log->seq++);
    log->f = fopen(log->path, "wbx");
    if (!log->f) {
        snprintf(log->errmsg, sizeof log->errmsg, "%s: cannot create: %s", log->path,
                 strerror(errno));
        return AURA_E_IO;
    }
    ZSTD_CCtx_reset(log->cctx, ZSTD_reset_session_only);
    log->written = 0;
    return AURA_OK;
}

static aura_status finish_file(aura_events_log *log)
{
    if (!log->f) {
        return AURA_OK;
    }
    aura_status st = pump(log, NULL, 0, ZSTD_e_end);
    if (fclose(log->f) != 0 && st == AURA_OK) {
        snprintf(log->errmsg, sizeof log->errmsg, "%s: close failed: %s", log->path,
                 strerror(errno));
        st = AURA_E_IO;
    }
    log->f = NULL;
    return st;
}

void aura_events_log_destroy(aura_events_log *log)
{
    if (!log) {
        return;
    }
    finish_file(log);
    ZSTD_freeCCtx(log->cctx);
    aura__free(log->opts.alloc, log->line);
    aura__free(log->opts.alloc, log->out);
    aura__free(log->opts.alloc, log);
}

aura_status aura_events_log_append(aura_events_log *log, const aura_events_event *ev,
                                   const char *const *metas, size_t n)
{
    AURA_CHECK_ARG(log && (ev || n == 0));
    for (size_t i = 0; i < n; i++) {
        if (!log->f) {
            aura_status st = start_file(log);
            if (st != AURA_OK) {
                return st;
            }
        }
        size_t len;
        aura_status st = aura_events_event_format(&ev[i], log->agents, metas ? metas[i] : NULL,
                                                  log->line, LINE_CAP, &len);
        if (st == AURA_OK) {
            st = pump(log, log->line, len, ZSTD_e_continue);
        }
        if (st != AURA_OK) {
            return st;
        }
        log->written += len;
        if (log->written >= log->opts.max_bytes) {
            st = finish_file(log);
            if (st != AURA_OK) {
                return st;
            }
        }
    }
    return AURA_OK;
}

aura_status aura_events_log_flush(aura_events_log *log)
{
    AURA_CHECK_ARG(log);
    if (!log->f) {
        return AURA_OK;
    }
    aura_status st = pump(log, NULL, 0, ZSTD_e_flush);
    if (st == AURA_OK && fflush(log->f) != 0) {
        snprintf(log->errmsg, sizeof log->errmsg, "%s: flush failed: %s", log->path,
                 strerror(errno));
        st = AURA_E_IO;
    }
    return st;
}

aura_status aura_events_log_rotate(aura_events_log *log)
{
    AURA_CHECK_ARG(log);
    return finish_file(log);
}

/* ---- reading: a FILE that decompresses zstd on the fly ---- */

static _Thread_local char g_open_err[512];

const char *aura_events_open_errmsg(void)
{
    return g_open_err;
}

typedef struct zreader {
    FILE *src;
    ZSTD_DCtx *dctx;
    char *in;
    size_t in_cap;
    ZSTD_inBuffer ib;
    size_t last_ret;  /* 0 when the last frame ended cleanly */
    int failed;
    int eof;
    char name[256];
} zreader;

static ssize_t zread(void *cookie, char *buf, size_t size)
{
    zreader *z = cookie;
    ZSTD_outBuffer ob = {buf, size, 0};
    while (ob.pos == 0 && !z->failed && !z->eof) {
        if (z->ib.pos == z->ib.size) {
            size_t got = fread(z->in, 1, z->in_cap, z->src);
            z->ib.src = z->in;
            z->ib.size = got;
            z->ib.pos = 0;
            if (got == 0) {
                /* End of input: drain what the decoder still holds. */
                size_t ret = ZSTD_decompressStream(z->dctx, &ob, &z->ib);
                if (!ZSTD_isError(ret) && ob.pos > 0) {
                    break;
                }
                if (ZSTD_isError(ret) || z->last_ret != 0) {
                    snprintf(g_open_err, sizeof g_open_err,
                             "%s: truncated zstd stream (the log ends mid-frame)", z->name);
                    errno = EIO;
                    z->failed = 1;
                }
                z->eof = 1;
                break;
            }
        }
        size_t ret = ZSTD_decompressStream(z->dctx, &ob, &z->ib);
        if (ZSTD_isError(ret)) {
            snprintf(g_open_err, sizeof g_open_err, "%s: damaged zstd data: %s", z->name,
                     ZSTD_getErrorName(ret));
            errno = EIO;
            z->failed = 1;
            break;
        }
        z->last_ret = ret;
    }
    return (ssize_t)ob.pos;
}

/* Plain input read through a cookie: first the peeked bytes, then the rest. */
static ssize_t plain_read(void *cookie, char *buf, size_t size)
{
    zreader *z = cookie;
    size_t n = 0;
    if (z->ib.pos < z->ib.size) {
        n = z->ib.size - z->ib.pos < size ? z->ib.size - z->ib.pos : size;
        memcpy(buf, (const char *)z->ib.src + z->ib.pos, n);
        z->ib.pos += n;
        return (ssize_t)n;
    }
    n = fread(buf, 1, size, z->src);
    if (n == 0 && ferror(z->src)) {
        errno = EIO;
        return -1;
    }
    return (ssize_t)n;
}

static int zclose(void *cookie)
{
    zreader *z = cookie;
    int rc = z->src != stdin ? fclose(z->src) : 0;
    ZSTD_freeDCtx(z->dctx);
    free(z->in);
    free(z);
    return rc;
}

FILE *aura_events_open_file(const char *path)
{
    g_open_err[0] = '\0';
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(g_open_err, sizeof g_open_err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char magic[4];
    size_t got = fread(magic, 1, 4, f);
    int is_zstd = got == 4 && magic[0] == 0x28 && magic[1] == 0xB5 && magic[2] == 0x2F &&
                  magic[3] == 0xFD;
    if (!is_zstd && f != stdin && fseek(f, 0, SEEK_SET) == 0) {
        return f; /* a plain regular file: read it directly */
    }
    zreader *z = calloc(1, sizeof *z);
    if (z) {
        z->src = f;
        snprintf(z->name, sizeof z->name, "%s", path);
        z->in_cap = ZSTD_DStreamInSize();
        z->in = malloc(z->in_cap);
        z->dctx = is_zstd ? ZSTD_createDCtx() : NULL;
    }
    if (!z || !z->in || (is_zstd && !z->dctx)) {
        if (z) {
            zclose(z);
        } else if (f != stdin) {
            fclose(f);
        }
        errno = ENOMEM;
        return NULL;
    }
    memcpy(z->in, magic, got); /* the peeked bytes come first */
    z->ib.src = z->in;
    z->ib.size = got;
    cookie_io_functions_t io = {is_zstd ? zread : plain_read, NULL, NULL, zclose};
    FILE *out = fopencookie(z, "r", io);
    if (!out) {
        zclose(z);
    }
    return out;
}
