/* par.c -- a fixed pool of worker threads for the tda engine: one parallel
 * run at a time, every thread runs the same function with its own id, the
 * caller takes part as thread 0.  Workers sleep on a condition variable
 * between runs, so a run costs a wake-up, not a thread start.
 * SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "tda/par_int.h"

struct tda_pool {
    const aura_allocator *a;  /* the caller's allocator */
    aura_allocator locked;    /* a behind alloc_mu */
    int use_locked;
    pthread_mutex_t alloc_mu;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    tda_pool_fn fn;
    void *ctx;
    uint64_t gen;   /* bumped by each run */
    int pending;    /* workers still in the current run */
    int quit;
    int n;          /* threads counting the caller */
    struct tda_worker {
        tda_pool *pool;
        pthread_t tid;
        int id;
    } *w;
};

int aura__tda_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 1024 ? 1024 : (int)n);
}

static void *locked_malloc(void *ctx, size_t size)
{
    tda_pool *p = ctx;
    pthread_mutex_lock(&p->alloc_mu);
    void *r = aura__alloc(p->a, size);
    pthread_mutex_unlock(&p->alloc_mu);
    return r;
}

static void *locked_realloc(void *ctx, void *ptr, size_t size)
{
    tda_pool *p = ctx;
    pthread_mutex_lock(&p->alloc_mu);
    void *r = aura__realloc(p->a, ptr, size);
    pthread_mutex_unlock(&p->alloc_mu);
    return r;
}

static void locked_free(void *ctx, void *ptr)
{
    tda_pool *p = ctx;
    pthread_mutex_lock(&p->alloc_mu);
    aura__free(p->a, ptr);
    pthread_mutex_unlock(&p->alloc_mu);
}

static void *worker_main(void *arg)
{
    struct tda_worker *me = arg;
    tda_pool *p = me->pool;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->quit) {
            pthread_cond_wait(&p->go, &p->mu);
        }
        if (p->quit) {
            break;
        }
        seen = p->gen;
        tda_pool_fn fn = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->mu);
        fn(ctx, me->id);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) {
            pthread_cond_signal(&p->done);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

aura_status aura__tda_pool_create(const aura_allocator *a, int threads, tda_pool **out)
{
    tda_pool *p = aura__calloc(a, 1, sizeof(*p));
    struct tda_worker *w = aura__calloc(a, (size_t)(threads > 1 ? threads : 1), sizeof(*w));
    if (!p || !w) {
        aura__free(a, p);
        aura__free(a, w);
        return AURA_E_NOMEM;
    }
    p->a = a;
    p->use_locked = a != NULL && a != aura_allocator_default();
    p->locked = (aura_allocator){locked_malloc, locked_realloc, locked_free, p};
    p->w = w;
    pthread_mutex_init(&p->alloc_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->n = 1;
    for (int t = 1; t < threads; t++) {
        w[t] = (struct tda_worker){.pool = p, .id = t};
        if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0) {
            break;
        }
        p->n = t + 1;
    }
    *out = p;
    return AURA_OK;
}

int aura__tda_pool_size(const tda_pool *p)
{
    return p->n;
}

const aura_allocator *aura__tda_pool_alloc(const tda_pool *p)
{
    return p->use_locked ? &p->locked : p->a;
}

void aura__tda_pool_run(tda_pool *p, tda_pool_fn fn, void *ctx)
{
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->pending = p->n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) {
        pthread_cond_wait(&p->done, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
}

void aura__tda_pool_destroy(tda_pool *p)
{
    if (!p) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int t = 1; t < p->n; t++) {
        pthread_join(p->w[t].tid, NULL);
    }
    pthread_mutex_destroy(&p->alloc_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    const aura_allocator *a = p->a;
    aura__free(a, p->w);
    aura__free(a, p);
}
