/* par_int.h -- the tda module's small thread pool (par.c), used by the
 * engine to run its parallel phases (engine.c, "parallel phases").
 * SPDX-License-Identifier: MIT */
#ifndef AURA_TDA_PAR_INT_H
#define AURA_TDA_PAR_INT_H

#include "core/core_int.h"

typedef struct tda_pool tda_pool;

/* One thread's share of a parallel run: tid is 0 (the calling thread) ..
 * size-1. */
typedef void (*tda_pool_fn)(void *ctx, int tid);

/* Number of online processors (at least 1). */
int aura__tda_online_cpus(void);

/* Starts a pool of `threads` (>= 2) threads counting the caller; if the
 * system refuses some, the pool is smaller (aura__tda_pool_size).  Errors:
 * AURA_E_NOMEM. */
aura_status aura__tda_pool_create(const aura_allocator *a, int threads, tda_pool **out);

int aura__tda_pool_size(const tda_pool *p);

/* An allocator safe to call from several threads at once: `a` itself when
 * it is the C library's, else `a` behind a mutex.  Valid while p lives. */
const aura_allocator *aura__tda_pool_alloc(const tda_pool *p);

/* Runs fn(ctx, tid) on every thread of the pool (tid 0 on the caller) and
 * returns once all have returned. */
void aura__tda_pool_run(tda_pool *p, tda_pool_fn fn, void *ctx);

/* Stops and joins the threads; NULL is a no-op. */
void aura__tda_pool_destroy(tda_pool *p);

#endif /* AURA_TDA_PAR_INT_H */
