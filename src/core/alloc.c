/* alloc.c -- the default allocator and the aura__alloc family every module
 * allocates through, so that tests can inject failures anywhere.
 * SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "core_int.h"

static void *std_malloc(void *ctx, size_t size)
{
    AURA_UNUSED(ctx);
    return malloc(size ? size : 1);
}

static void *std_realloc(void *ctx, void *ptr, size_t size)
{
    AURA_UNUSED(ctx);
    return realloc(ptr, size ? size : 1);
}

static void std_free(void *ctx, void *ptr)
{
    AURA_UNUSED(ctx);
    free(ptr);
}

static const aura_allocator default_allocator = {std_malloc, std_realloc, std_free, NULL};

const aura_allocator *aura_allocator_default(void)
{
    return &default_allocator;
}

static const aura_allocator *pick(const aura_allocator *a)
{
    return a ? a : &default_allocator;
}

void *aura__alloc(const aura_allocator *a, size_t size)
{
    a = pick(a);
    return a->malloc_fn(a->ctx, size);
}

void *aura__calloc(const aura_allocator *a, size_t n, size_t size)
{
    void *p = aura__alloc_array(a, n, size);
    if (p) {
        memset(p, 0, n * size);
    }
    return p;
}

void *aura__realloc(const aura_allocator *a, void *ptr, size_t size)
{
    a = pick(a);
    return a->realloc_fn(a->ctx, ptr, size);
}

void aura__free(const aura_allocator *a, void *ptr)
{
    if (ptr) {
        a = pick(a);
        a->free_fn(a->ctx, ptr);
    }
}

void *aura__alloc_array(const aura_allocator *a, size_t n, size_t size)
{
    if (aura__mul_overflows(n, size)) {
        return NULL;
    }
    return aura__alloc(a, n * size);
}

void *aura__realloc_array(const aura_allocator *a, void *ptr, size_t n, size_t size)
{
    if (aura__mul_overflows(n, size)) {
        return NULL;
    }
    return aura__realloc(a, ptr, n * size);
}

char *aura__strdup(const aura_allocator *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = aura__alloc(a, n);
    if (d) {
        memcpy(d, s, n);
    }
    return d;
}
