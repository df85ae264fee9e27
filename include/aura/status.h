/* status.h -- the one error type of the AURA library.
 *
 * Every fallible function returns an aura_status: AURA_OK (0) on success,
 * a negative code otherwise.  Outputs are left untouched on failure.
 * One X-macro generates both the enum and aura_status_str().
 * SPDX-License-Identifier: MIT */
#ifndef AURA_STATUS_H
#define AURA_STATUS_H

#include "aura/config.h"

/*        name            value  message */
#define AURA_STATUS_MAP(X)                                          \
    X(AURA_OK,            0,   "ok")                                \
    X(AURA_E_INVAL,      -1,   "invalid argument")                  \
    X(AURA_E_NOMEM,      -2,   "out of memory")                     \
    X(AURA_E_RANGE,      -3,   "value out of range")                \
    X(AURA_E_IO,         -4,   "input/output error")                \
    X(AURA_E_FORMAT,     -5,   "malformed input")                   \
    X(AURA_E_FULL,       -6,   "full")                              \
    X(AURA_E_NOTFOUND,   -7,   "not found")                         \
    X(AURA_E_STATE,      -8,   "invalid state for this call")       \
    X(AURA_E_NUMERIC,    -9,   "numerical error (NaN, Inf or divergence)") \
    X(AURA_E_OVERFLOW,   -10,  "problem too large (index overflow)") \
    X(AURA_E_CONFLICT,   -11,  "conflict (version mismatch)")       \
    X(AURA_E_CORRUPT,    -12,  "data corruption detected")          \
    X(AURA_E_TIMEOUT,    -13,  "timed out")                         \
    X(AURA_E_CONN,       -14,  "connection error")                  \
    X(AURA_E_UNSUPPORTED,-15,  "unsupported")                       \
    X(AURA_E_INTERNAL,   -16,  "internal error")

typedef enum aura_status {
#define AURA_STATUS_ENUM_(name, value, msg) name = value,
    AURA_STATUS_MAP(AURA_STATUS_ENUM_)
#undef AURA_STATUS_ENUM_
} aura_status;

/* A static, human-readable description of `st`; never NULL (unknown codes
 * give "unknown status"). */
AURA_API const char *aura_status_str(aura_status st);

/* The enumerator's name ("AURA_E_FORMAT"); never NULL. */
AURA_API const char *aura_status_name(aura_status st);

#endif /* AURA_STATUS_H */
