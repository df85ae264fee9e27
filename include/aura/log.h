/* log.h -- leveled logging with a replaceable sink.
 *
 * The library logs rarely (warnings about skipped input, progress of long
 * work).  By default messages at AURA_LOG_WARN and above go to stderr as
 * "aura: <level>: <message>".  The sink and level are process-wide: set
 * them once at start-up, before threads are started.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_LOG_H
#define AURA_LOG_H

#include "aura/config.h"

typedef enum aura_log_level {
    AURA_LOG_DEBUG = 0,
    AURA_LOG_INFO = 1,
    AURA_LOG_WARN = 2,
    AURA_LOG_ERROR = 3,
    AURA_LOG_OFF = 4
} aura_log_level;

typedef void (*aura_log_sink)(void *ctx, aura_log_level level, const char *msg);

/* Messages below `level` are dropped. */
AURA_API void aura_log_set_level(aura_log_level level);
AURA_API aura_log_level aura_log_get_level(void);

/* Replaces the sink; NULL restores the stderr sink. */
AURA_API void aura_log_set_sink(aura_log_sink sink, void *ctx);

/* printf-style message at `level`. */
AURA_API void aura_log(aura_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif /* AURA_LOG_H */
