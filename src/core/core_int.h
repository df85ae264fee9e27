/* core_int.h -- internals shared by every module: allocation helpers,
 * assertions in the SQLite manner, small utilities.  Not installed.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_CORE_INT_H
#define AURA_CORE_INT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "aura/alloc.h"
#include "aura/log.h"
#include "aura/status.h"

/* AURA_ALWAYS(x)/AURA_NEVER(x): assert in debug builds, stay as a safety
 * net in release builds (SQLite's ALWAYS/NEVER). */
#ifdef NDEBUG
#define AURA_ALWAYS(x) (x)
#define AURA_NEVER(x) (x)
#else
#define AURA_ALWAYS(x) ((x) ? 1 : (assert(0 && #x), 0))
#define AURA_NEVER(x) ((x) ? (assert(!#x), 1) : 0)
#endif

/* A NULL where a value is required: assert in debug, AURA_E_INVAL in
 * release. */
#define AURA_CHECK_ARG(x)                 \
    do {                                  \
        if (AURA_NEVER(!(x))) {           \
            return AURA_E_INVAL;          \
        }                                 \
    } while (0)

#define AURA_UNUSED(x) ((void)(x))

/* Allocation through an aura_allocator; `a` may be NULL (default). */
void *aura__alloc(const aura_allocator *a, size_t size);
void *aura__calloc(const aura_allocator *a, size_t n, size_t size);
void *aura__realloc(const aura_allocator *a, void *ptr, size_t size);
void aura__free(const aura_allocator *a, void *ptr);

/* n * size bytes, or NULL if that overflows or allocation fails. */
void *aura__alloc_array(const aura_allocator *a, size_t n, size_t size);
void *aura__realloc_array(const aura_allocator *a, void *ptr, size_t n, size_t size);

/* Copy of a NUL-terminated string, or NULL. */
char *aura__strdup(const aura_allocator *a, const char *s);

/* 1 if n * size overflows size_t. */
static inline int aura__mul_overflows(size_t n, size_t size)
{
    return size != 0 && n > SIZE_MAX / size;
}

#endif /* AURA_CORE_INT_H */
