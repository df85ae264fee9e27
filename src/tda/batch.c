/* batch.c -- barcodes of many small point clouds in one call.
 *
 * Each worker thread runs the engine (aura_tda_compute_points) with an arena
 * allocator that is reset after every cloud, so after the first few clouds
 * nothing is allocated from the system per cloud; the pairs are copied into
 * a per-thread buffer and gathered at the end.  Clouds are handed out in
 * blocks from an atomic counter.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aura/tda_extras.h"
#include "core/core_int.h"

/* ---- a resettable arena ---- */

#define ARENA_ALIGN 16u
#define ARENA_HDR 16u /* each block is preceded by its size */

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
    /* the data follows, ARENA_ALIGN-aligned */
} chunk;

#define CHUNK_HDR ((sizeof(chunk) + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN)

typedef struct arena {
    const aura_allocator *parent;
    chunk *head;     /* chunk in use (most recent first) */
    size_t total;    /* bytes of all chunks */
    void *last;      /* most recent block, which realloc may grow in place */
    aura_allocator self;
} arena;

static unsigned char *chunk_data(chunk *c)
{
    return (unsigned char *)c + CHUNK_HDR;
}

static void *arena_malloc(void *ctx, size_t size)
{
    arena *a = ctx;
    if (size > SIZE_MAX / 2) {
        return NULL;
    }
    size_t need = (size + ARENA_HDR + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    chunk *c = a->head;
    if (!c || c->cap - c->used < need) {
        size_t cap = need > (1u << 16) ? need : (1u << 16);
        if (c && cap < 2 * c->cap) {
            cap = 2 * c->cap;
        }
        chunk *nc = aura__alloc(a->parent, CHUNK_HDR + cap);
        if (!nc) {
            return NULL;
        }
        nc->next = c;
        nc->cap = cap;
        nc->used = 0;
        a->head = nc;
        a->total += cap;
        c = nc;
    }
    unsigned char *p = chunk_data(c) + c->used;
    c->used += need;
    memcpy(p, &size, sizeof size);
    a->last = p + ARENA_HDR;
    return p + ARENA_HDR;
}

static size_t block_size(const void *p)
{
    size_t s;
    memcpy(&s, (const unsigned char *)p - ARENA_HDR, sizeof s);
    return s;
}

static void *arena_realloc(void *ctx, void *ptr, size_t size)
{
    arena *a = ctx;
    if (!ptr) {
        return arena_malloc(ctx, size);
    }
    size_t old = block_size(ptr);
    if (ptr == a->last && size <= SIZE_MAX / 2) {
        /* The newest block: grow or shrink in place if the chunk allows. */
        chunk *c = a->head;
        size_t start = (size_t)((unsigned char *)ptr - ARENA_HDR - chunk_data(c));
        size_t need = (size + ARENA_HDR + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
        if (start + need <= c->cap) {
            c->used = start + need;
            memcpy((unsigned char *)ptr - ARENA_HDR, &size, sizeof size);
            return ptr;
        }
    }
    if (size <= old) {
        memcpy((unsigned char *)ptr - ARENA_HDR, &size, sizeof size);
        return ptr;
    }
    void *q = arena_malloc(ctx, size);
    if (q) {
        memcpy(q, ptr, old);
    }
    return q;
}

static void arena_free(void *ctx, void *ptr)
{
    arena *a = ctx;
    if (ptr && ptr == a->last) {
        chunk *c = a->head;
        c->used = (size_t)((unsigned char *)ptr - ARENA_HDR - chunk_data(c));
        a->last = NULL;
    }
}

static void arena_init(arena *a, const aura_allocator *parent)
{
    memset(a, 0, sizeof(*a));
    a->parent = parent;
    a->self = (aura_allocator){arena_malloc, arena_realloc, arena_free, a};
}

static void arena_release(arena *a)
{
    chunk *c = a->head;
    while (c) {
        chunk *next = c->next;
        aura__free(a->parent, c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
    a->last = NULL;
}

/* Empties the arena; if it grew to several chunks, keeps one chunk as large
 * as all of them, so the next cloud of the same size fits in one. */
static void arena_reset(arena *a)
{
    a->last = NULL;
    if (a->head && a->head->next) {
        size_t total = a->total;
        arena_release(a);
        chunk *nc = aura__alloc(a->parent, CHUNK_HDR + total);
        if (nc) {
            nc->next = NULL;
            nc->cap = total;
            nc->used = 0;
            a->head = nc;
            a->total = total;
        }
        return;
    }
    if (a->head) {
        a->head->used = 0;
    }
}

/* ---- the batch ---- */

struct aura_tda_batch {
    const aura_allocator *alloc;
    size_t n_clouds;
    int dims;              /* opts.max_dim + 1: count slots per cloud */
    int *max_dim;          /* per cloud */
    size_t *start;         /* per cloud: first pair in pairs */
    uint32_t *count;       /* per cloud and dimension (n_clouds * dims) */
    aura_tda_pair *pairs;  /* all pairs, cloud by cloud */
};

typedef struct worker {
    struct job *job;
    arena ar;
    aura_tda_pair *pairs; /* this worker's pairs */
    size_t n_pairs, cap;
    aura_status st;
    pthread_t tid;
} worker;

typedef struct job {
    aura_tda_opts opts; /* alloc replaced per worker */
    const float *const *points;
    const size_t *sizes;
    size_t d, n_clouds;
    int collapse;
    aura_tda_batch *b;
    size_t *thread_start; /* per cloud: first pair in its worker's buffer */
    int *owner;           /* per cloud: worker index */
    atomic_size_t next;
    atomic_int failed;
    worker *w;
} job;

#define BLOCK 8

static aura_status add_pairs(worker *w, const aura_allocator *a, const aura_tda_result *r,
                             int dim, uint32_t *count)
{
    size_t k = aura_tda_result_count(r, dim);
    if (k > UINT32_MAX) {
        return AURA_E_OVERFLOW;
    }
    if (w->n_pairs + k > w->cap) {
        size_t cap = w->cap ? w->cap : 1024;
        while (cap < w->n_pairs + k) {
            cap *= 2;
        }
        aura_tda_pair *p = aura__realloc_array(a, w->pairs, cap, sizeof(*p));
        if (!p) {
            return AURA_E_NOMEM;
        }
        w->pairs = p;
        w->cap = cap;
    }
    size_t got = 0;
    aura_status st = aura_tda_result_pairs(r, dim, w->pairs + w->n_pairs, k, &got);
    if (st == AURA_OK) {
        w->n_pairs += got;
        *count = (uint32_t)got;
    }
    return st;
}

static aura_status one_cloud(job *j, worker *w, size_t c)
{
    aura_tda_batch *b = j->b;
    aura_tda_opts o = j->opts;
    o.alloc = &w->ar.self;
    o.threads = 1; /* the clouds are what runs in parallel */
    aura_tda_result *r = NULL;
    aura_status st =
        j->collapse ? aura_tda_compute_points_collapsed(&o, j->points[c], j->sizes[c], j->d, &r)
                    : aura_tda_compute_points(&o, j->points[c], j->sizes[c], j->d, &r);
    if (st == AURA_OK) {
        int md = aura_tda_result_max_dim(r);
        b->max_dim[c] = md;
        j->owner[c] = (int)(w - j->w);
        j->thread_start[c] = w->n_pairs;
        for (int dim = 0; dim <= md && st == AURA_OK; dim++) {
            st = add_pairs(w, j->opts.alloc, r, dim, &b->count[c * (size_t)b->dims + dim]);
        }
        aura_tda_result_destroy(r);
    }
    arena_reset(&w->ar);
    return st;
}

static void *work(void *arg)
{
    worker *w = arg;
    job *j = w->job;
    while (!atomic_load(&j->failed)) {
        size_t c0 = atomic_fetch_add(&j->next, BLOCK);
        if (c0 >= j->n_clouds) {
            break;
        }
        size_t c1 = c0 + BLOCK < j->n_clouds ? c0 + BLOCK : j->n_clouds;
        for (size_t c = c0; c < c1; c++) {
            aura_status st = one_cloud(j, w, c);
            if (st != AURA_OK) {
                w->st = st;
                atomic_store(&j->failed, 1);
                return NULL;
            }
        }
    }
    return NULL;
}

void aura_tda_batch_destroy(aura_tda_batch *b)
{
    if (!b) {
        return;
    }
    aura__free(b->alloc, b->max_dim);
    aura__free(b->alloc, b->start);
    aura__free(b->alloc, b->count);
    aura__free(b->alloc, b->pairs);
    aura__free(b->alloc, b);
}

static aura_tda_batch *batch_new(const aura_allocator *a, size_t n_clouds, int dims)
{
    aura_tda_batch *b = aura__calloc(a, 1, sizeof(*b));
    if (!b) {
        return NULL;
    }
    b->alloc = a;
    b->n_clouds = n_clouds;
    b->dims = dims;
    size_t nc = n_clouds ? n_clouds : 1;
    b->max_dim = aura__alloc_array(a, nc, sizeof(int));
    b->start = aura__alloc_array(a, nc, sizeof(size_t));
    b->count = aura__calloc(a, nc, (size_t)dims * sizeof(uint32_t));
    if (!b->max_dim || !b->start || !b->count || aura__mul_overflows(nc, (size_t)dims)) {
        aura_tda_batch_destroy(b);
        return NULL;
    }
    return b;
}

/* Concatenates the workers' pairs into b->pairs, cloud by cloud. */
static aura_status gather(job *j, int nw)
{
    aura_tda_batch *b = j->b;
    size_t total = 0;
    for (int t = 0; t < nw; t++) {
        total += j->w[t].n_pairs;
    }
    b->pairs = aura__alloc_array(b->alloc, total ? total : 1, sizeof(aura_tda_pair));
    if (!b->pairs) {
        return AURA_E_NOMEM;
    }
    size_t at = 0;
    for (size_t c = 0; c < j->n_clouds; c++) {
        size_t k = 0;
        for (int dim = 0; dim <= b->max_dim[c]; dim++) {
            k += b->count[c * (size_t)b->dims + dim];
        }
        const worker *w = &j->w[j->owner[c]];
        if (k) {
            memcpy(b->pairs + at, w->pairs + j->thread_start[c], k * sizeof(aura_tda_pair));
        }
        b->start[c] = at;
        at += k;
    }
    return AURA_OK;
}

static int pick_threads(int n_threads, size_t n_clouds)
{
    long t = n_threads;
    if (t <= 0) {
        t = sysconf(_SC_NPROCESSORS_ONLN);
        t = t < 1 ? 1 : t;
    }
    t = t > 256 ? 256 : t;
    size_t blocks = (n_clouds + BLOCK - 1) / BLOCK;
    if ((size_t)t > blocks) {
        t = blocks ? (long)blocks : 1;
    }
    return (int)t;
}

aura_status aura_tda_batch_compute_points(const aura_tda_opts *opts, size_t n_clouds,
                                          const float *const *points, const size_t *sizes,
                                          size_t d, int n_threads, int collapse,
                                          aura_tda_batch **out, size_t *bad_cloud)
{
    aura_tda_opts o = opts ? *opts : aura_tda_opts_default();
    o.cocycles = 0; /* a batch keeps only the barcodes */
    AURA_CHECK_ARG(out);
    AURA_CHECK_ARG((points && sizes) || n_clouds == 0);
    if (d == 0 || o.max_dim < 0 || o.max_dim > 1000 || isnan(o.threshold) || isnan(o.ratio) ||
        !aura_tda_is_prime(o.modulus) || o.modulus > AURA_TDA_MAX_MODULUS) {
        return AURA_E_INVAL;
    }
    for (size_t c = 0; c < n_clouds; c++) {
        if ((!points[c] && sizes[c] > 0) || aura__mul_overflows(sizes[c], d)) {
            return AURA_E_INVAL;
        }
        for (size_t q = 0; q < sizes[c] * d; q++) {
            if (!isfinite(points[c][q])) {
                if (bad_cloud) {
                    *bad_cloud = c;
                }
                return AURA_E_NUMERIC;
            }
        }
    }
    aura_tda_batch *b = batch_new(o.alloc, n_clouds, o.max_dim + 1);
    if (!b) {
        return AURA_E_NOMEM;
    }
    int nw = pick_threads(n_threads, n_clouds);
    job j = {.opts = o, .points = points, .sizes = sizes, .d = d, .n_clouds = n_clouds,
             .collapse = collapse, .b = b};
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    size_t nc = n_clouds ? n_clouds : 1;
    j.thread_start = aura__alloc_array(o.alloc, nc, sizeof(size_t));
    j.owner = aura__alloc_array(o.alloc, nc, sizeof(int));
    j.w = aura__calloc(o.alloc, (size_t)nw, sizeof(worker));
    aura_status st = AURA_OK;
    if (!j.thread_start || !j.owner || !j.w) {
        st = AURA_E_NOMEM;
        nw = 0;
    }
    int started = 0;
    for (int t = 0; t < nw; t++) {
        j.w[t].job = &j;
        arena_init(&j.w[t].ar, o.alloc);
    }
    /* Worker 0 runs on the calling thread. */
    for (int t = 1; t < nw; t++) {
        if (pthread_create(&j.w[t].tid, NULL, work, &j.w[t]) != 0) {
            break;
        }
        started = t;
    }
    if (nw > 0) {
        work(&j.w[0]);
    }
    for (int t = 1; t <= started; t++) {
        pthread_join(j.w[t].tid, NULL);
    }
    for (int t = 0; t < nw && st == AURA_OK; t++) {
        st = j.w[t].st;
    }
    if (st == AURA_OK) {
        st = gather(&j, nw);
    }
    for (int t = 0; t < nw; t++) {
        arena_release(&j.w[t].ar);
        aura__free(o.alloc, j.w[t].pairs);
    }
    aura__free(o.alloc, j.w);
    aura__free(o.alloc, j.thread_start);
    aura__free(o.alloc, j.owner);
    if (st != AURA_OK) {
        aura_tda_batch_destroy(b);
        return st;
    }
    *out = b;
    return AURA_OK;
}

size_t aura_tda_batch_n_clouds(const aura_tda_batch *b)
{
    return b ? b->n_clouds : 0;
}

int aura_tda_batch_max_dim(const aura_tda_batch *b, size_t c)
{
    return b && c < b->n_clouds ? b->max_dim[c] : -1;
}

const aura_tda_pair *aura_tda_batch_pairs(const aura_tda_batch *b, size_t c, int dim,
                                          size_t *count)
{
    if (count) {
        *count = 0;
    }
    if (!b || c >= b->n_clouds || dim < 0 || dim > b->max_dim[c]) {
        return NULL;
    }
    size_t at = b->start[c];
    for (int k = 0; k < dim; k++) {
        at += b->count[c * (size_t)b->dims + k];
    }
    if (count) {
        *count = b->count[c * (size_t)b->dims + dim];
    }
    return b->pairs + at;
}
