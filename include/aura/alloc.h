/* alloc.h -- the pluggable allocator every AURA allocation goes through.
 *
 * Pass an aura_allocator in a module's options to route its memory
 * elsewhere (arenas, accounting, failure injection in tests).  A NULL
 * allocator pointer anywhere in the API means aura_allocator_default().
 * SPDX-License-Identifier: MIT */
#ifndef AURA_ALLOC_H
#define AURA_ALLOC_H

#include <stddef.h>

#include "aura/config.h"

typedef struct aura_allocator {
    void *(*malloc_fn)(void *ctx, size_t size);             /* NULL on failure */
    void *(*realloc_fn)(void *ctx, void *ptr, size_t size); /* NULL on failure, ptr kept */
    void (*free_fn)(void *ctx, void *ptr);                  /* ptr may be NULL */
    void *ctx;                                              /* passed to each hook */
} aura_allocator;

/* The C library's malloc/realloc/free.  Static storage; never NULL. */
AURA_API const aura_allocator *aura_allocator_default(void);

#endif /* AURA_ALLOC_H */
