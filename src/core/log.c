/* log.c -- leveled logging to a replaceable sink (stderr by default).
 * SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "aura/log.h"

static void stderr_sink(void *ctx, aura_log_level level, const char *msg)
{
    static const char *names[] = {"debug", "info", "warning", "error"};
    (void)ctx;
    fprintf(stderr, "aura: %s: %s\n", names[level < AURA_LOG_OFF ? level : AURA_LOG_ERROR], msg);
}

static aura_log_level g_level = AURA_LOG_WARN;
static aura_log_sink g_sink = stderr_sink;
static void *g_sink_ctx = NULL;

void aura_log_set_level(aura_log_level level)
{
    g_level = level;
}

aura_log_level aura_log_get_level(void)
{
    return g_level;
}

void aura_log_set_sink(aura_log_sink sink, void *ctx)
{
    g_sink = sink ? sink : stderr_sink;
    g_sink_ctx = sink ? ctx : NULL;
}

void aura_log(aura_log_level level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (level < g_level || level >= AURA_LOG_OFF) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_sink(g_sink_ctx, level, buf);
}
