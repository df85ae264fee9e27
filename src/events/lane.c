/* lane.c -- per-thread lanes of aura_events_bus: each publishing thread
 * gets a single-writer ring of its own (claims without a locked
 * instruction, cached indices on both sides), handed back when the thread
 * exits.  The protocol is described in ring_int.h.
 * SPDX-License-Identifier: MIT */
#include "events/ring_int.h"

#include <string.h>

#include "core/core_int.h"

#define POLL_BACKOFF_LOG2 4 /* an idle consumer polls at least every 2^4 pauses */
#define OWNED_NAP_NS 50000L /* the consumer's first sleep of a wait: a bounded nap */
#define TAB_INLINE 8        /* lane references a thread keeps without allocating */

_Thread_local aura__tls_last aura__tls_lane __attribute__((tls_model("initial-exec")));

/* ---- which lane this thread uses on which bus ----
 * A thread's table maps lane-set ids to lanes (NULL: the shared ring).  Ids
 * are never reused, so an entry of a destroyed bus never matches again; the
 * thread-exit destructor hands back the lanes of the buses still alive,
 * which it finds in the process's list of live lane sets (g_mu). */

typedef struct lane_ref {
    uint64_t id;
    aura__lane *lane;
} lane_ref;

typedef struct lane_tab {
    size_t n, cap;
    lane_ref *e;                  /* inl, or a heap array (default allocator) */
    lane_ref inl[TAB_INLINE];
    int keyed;                    /* the exit destructor is registered */
    int full;                     /* an entry could not be added: every bus not
                                     in the table uses the shared ring from now
                                     on, so that no thread's order can break */
} lane_tab;

static _Thread_local lane_tab tls_tab;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static aura__lanes *g_live;       /* live lane sets (g_mu) */
static _Atomic uint64_t g_next_id = 1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
static int g_key_ok;

static int live_locked(uint64_t id)
{
    for (aura__lanes *ls = g_live; ls; ls = ls->g_next) {
        if (ls->id == id) {
            return 1;
        }
    }
    return 0;
}

/* Thread exit: hands back this thread's lanes of live buses. */
static void tab_release(void *arg)
{
    lane_tab *t = arg;
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < t->n; i++) {
        if (t->e[i].lane && live_locked(t->e[i].id)) {
            atomic_store_explicit(&t->e[i].lane->owned, 0, memory_order_release);
        }
    }
    pthread_mutex_unlock(&g_mu);
    if (t->e != t->inl) {
        aura__free(NULL, t->e);
    }
    t->e = t->inl;
    t->n = 0;
    t->cap = TAB_INLINE;
    t->keyed = 0; /* a later destructor that publishes registers again */
    t->full = 0;
    aura__tls_lane.id = 0;
    aura__tls_lane.lane = NULL;
}

static void key_create(void)
{
    g_key_ok = pthread_key_create(&g_key, tab_release) == 0;
}

/* Drops the entries of destroyed buses. */
static void tab_prune(lane_tab *t)
{
    size_t j = 0;
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < t->n; i++) {
        if (live_locked(t->e[i].id)) {
            t->e[j++] = t->e[i];
        }
    }
    pthread_mutex_unlock(&g_mu);
    t->n = j;
}

/* Adds an entry; 0 if no room could be found (no memory). */
static int tab_add(lane_tab *t, uint64_t id, aura__lane *l)
{
    if (!t->e) {
        t->e = t->inl;
        t->cap = TAB_INLINE;
    }
    if (l && !t->keyed) {
        pthread_once(&g_once, key_create);
        if (!g_key_ok || pthread_setspecific(g_key, t) != 0) {
            return 0;
        }
        t->keyed = 1;
    }
    if (t->n == t->cap) {
        tab_prune(t);
    }
    if (t->n == t->cap) {
        lane_ref *e = aura__alloc(NULL, 2 * t->cap * sizeof(lane_ref));
        if (!e) {
            return 0;
        }
        memcpy(e, t->e, t->n * sizeof(lane_ref));
        if (t->e != t->inl) {
            aura__free(NULL, t->e);
        }
        t->e = e;
        t->cap *= 2;
    }
    t->e[t->n++] = (lane_ref){id, l};
    return 1;
}

/* ---- lane sets ---- */

aura_status aura__lanes_init(aura__lanes *ls, const aura_allocator *a, size_t max)
{
    ls->alloc = a;
    ls->max = max;
    atomic_init(&ls->n, 0);
    atomic_init(&ls->ring_used, max == 0);
    if (pthread_mutex_init(&ls->mu, NULL) != 0) {
        return AURA_E_NOMEM;
    }
    ls->mu_ok = 1;
    ls->id = AURA__LANES_OFF;
    if (max == 0) {
        return AURA_OK; /* every publish goes to the shared ring */
    }
    ls->lane = aura__alloc(a, max * sizeof(aura__lane *));
    if (!ls->lane) {
        return AURA_E_NOMEM;
    }
    ls->id = atomic_fetch_add(&g_next_id, 1);
    pthread_mutex_lock(&g_mu);
    ls->g_next = g_live;
    if (g_live) {
        g_live->g_prev = ls;
    }
    g_live = ls;
    ls->linked = 1;
    pthread_mutex_unlock(&g_mu);
    return AURA_OK;
}

void aura__lanes_fini(aura__lanes *ls)
{
    if (ls->linked) {
        ls->linked = 0;
        pthread_mutex_lock(&g_mu); /* no exit destructor touches these lanes after this */
        if (ls->g_prev) {
            ls->g_prev->g_next = ls->g_next;
        } else {
            g_live = ls->g_next;
        }
        if (ls->g_next) {
            ls->g_next->g_prev = ls->g_prev;
        }
        pthread_mutex_unlock(&g_mu);
    }
    size_t n = atomic_load(&ls->n);
    for (size_t i = 0; i < n; i++) {
        aura__free(ls->alloc, ls->lane[i]->slots_raw);
        aura__free(ls->alloc, ls->lane[i]->raw);
    }
    aura__free(ls->alloc, ls->lane);
    ls->lane = NULL;
    atomic_store(&ls->n, 0);
    if (ls->mu_ok) {
        pthread_mutex_destroy(&ls->mu);
        ls->mu_ok = 0;
    }
}

/* A free lane (taken), a new one, or NULL (all taken, or no memory). */
static aura__lane *lane_acquire(aura__lanes *ls, const aura__ring *r)
{
    aura__lane *got = NULL;
    pthread_mutex_lock(&ls->mu);
    size_t n = atomic_load_explicit(&ls->n, memory_order_relaxed);
    for (size_t i = 0; i < n && !got; i++) {
        int zero = 0;
        if (atomic_compare_exchange_strong(&ls->lane[i]->owned, &zero, 1)) {
            got = ls->lane[i];
        }
    }
    if (!got && n < ls->max) {
        void *raw;
        aura__lane *l = aura__ring_alloc_aligned(ls->alloc, sizeof(aura__lane), &raw);
        if (l) {
            memset(l, 0, sizeof *l);
            l->raw = raw;
            l->slots = aura__ring_alloc_aligned(ls->alloc, (size_t)r->cap * sizeof(aura_events_event),
                                                &l->slots_raw);
            l->cslots = l->slots;
            l->mask = r->mask;
            if (!l->slots) {
                aura__free(ls->alloc, raw);
                l = NULL;
            }
        }
        if (l) {
            atomic_init(&l->tail, 0);
            atomic_init(&l->read, 0);
            atomic_init(&l->free, 0);
            atomic_init(&l->owned, 1);
            /* under mu: aura__lanes_close either sees this lane or ran before */
            atomic_init(&l->limit, atomic_load(&r->closed) ? 0 : r->cap);
            ls->lane[n] = l;
            atomic_store_explicit(&ls->n, n + 1, memory_order_release);
            got = l;
        }
    }
    pthread_mutex_unlock(&ls->mu);
    return got;
}

aura__lane *aura__lanes_get(aura__lanes *ls, aura__ring *r)
{
    if (ls->id == AURA__LANES_OFF) {
        return NULL;
    }
    lane_tab *t = &tls_tab;
    for (size_t i = 0; i < t->n; i++) {
        if (t->e[i].id == ls->id) {
            if (t->e[i].lane) { /* the inline check takes it from now on */
                aura__tls_lane.id = ls->id;
                aura__tls_lane.lane = t->e[i].lane;
            }
            return t->e[i].lane;
        }
    }
    if (t->full) {
        atomic_store_explicit(&ls->ring_used, 1, memory_order_release);
        return NULL;
    }
    aura__lane *l = lane_acquire(ls, r);
    if (!tab_add(t, ls->id, l)) {
        /* no memory for the reference: the shared ring, now and for every
         * bus this thread meets later without a reference */
        t->full = 1;
        if (l) {
            atomic_store_explicit(&l->owned, 0, memory_order_release);
        }
        atomic_store_explicit(&ls->ring_used, 1, memory_order_release);
        return NULL;
    }
    if (!l) {
        atomic_store_explicit(&ls->ring_used, 1, memory_order_release);
        return NULL;
    }
    aura__tls_lane.id = ls->id;
    aura__tls_lane.lane = l;
    return l;
}

/* ---- producer side (the lane's owner) ---- */

aura_status aura__lane_wake(aura__ring *r)
{
    if (atomic_exchange(&r->cons_sleeping, 0)) {
        aura__ring_wake_consumer(r);
    }
    return AURA_OK;
}

static int lane_has_room(const aura__ring *r, aura__lane *l)
{
    return atomic_load(&l->free) + r->cap > atomic_load(&l->tail);
}

/* BLOCK: waits until the consumer may have freed a slot.  AURA_OK to retry. */
static aura_status lane_wait_room(aura__ring *r, aura__lane *l, aura__waiter *w)
{
    if (r->timeout_ms == 0) {
        return AURA_E_TIMEOUT;
    }
    if (!w->counted) {
        w->counted = 1;
        atomic_fetch_add_explicit(&r->waits, 1, memory_order_relaxed);
        aura__wait_deadline(w, r->timeout_ms);
    }
    if (aura__wait_backoff(r, w, 0)) {
        return AURA_OK;
    }
    struct timespec rel, *relp;
    if (!aura__wait_time_left(w, &rel, &relp)) {
        return AURA_E_TIMEOUT;
    }
    uint32_t key = atomic_load(&r->prod_futex);
    atomic_fetch_add(&r->prod_waiters, 1);
    aura__ring_heavy_fence(r); /* the consumer's side of the handshake is a compiler barrier */
    if (!lane_has_room(r, l) && !atomic_load(&r->closed)) {
        atomic_fetch_add_explicit(&r->sleeps, 1, memory_order_relaxed);
        aura__futex_wait(&r->prod_futex, key, relp);
    }
    atomic_fetch_sub(&r->prod_waiters, 1);
    return AURA_OK;
}

/* Releases [from, to) of the lane after the releases claimed before it. */
static void lane_release_in_order(const aura__ring *r, aura__lane *l, uint64_t from, uint64_t to)
{
    aura__waiter w = {0};
    while (atomic_load_explicit(&l->free, memory_order_acquire) != from) {
        aura__wait_short(r, &w);
    }
    atomic_store_explicit(&l->free, to, memory_order_release);
}

/* DROP_OLDEST: discards up to `want` of the lane's oldest events, or waits
 * for the consumer's copy in progress if that is what holds the slots. */
static void lane_drop(aura__ring *r, aura__lane *l, size_t want, aura__waiter *w)
{
    uint64_t rd = atomic_load_explicit(&l->read, memory_order_acquire);
    uint64_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);
    if (rd + r->cap > t) {
        if (!w->counted) {
            w->counted = 1;
            atomic_fetch_add_explicit(&r->waits, 1, memory_order_relaxed);
        }
        aura__wait_short(r, w);
        return;
    }
    uint64_t d = want < r->cap ? want : r->cap; /* rd + d <= t: all written, by us */
    if (!atomic_compare_exchange_strong_explicit(&l->read, &rd, rd + d, memory_order_acq_rel,
                                                 memory_order_relaxed)) {
        return; /* the consumer took them first: retry */
    }
    lane_release_in_order(r, l, rd, rd + d);
    atomic_fetch_add_explicit(&r->dropped, d, memory_order_relaxed);
}

aura_status aura__lane_publish(aura__ring *r, aura__lane *l, const aura_events_event *evs,
                               size_t n, size_t *n_done)
{
    size_t done = 0;
    aura_status st = AURA_OK;
    int reject = r->policy == AURA_EVENTS_BUS_REJECT;
    aura__waiter w = {0};
    if (reject && n > r->cap) {
        st = AURA_E_RANGE;
    }
    while (st == AURA_OK && done < n) {
        if (atomic_load_explicit(&r->closed, memory_order_relaxed)) {
            st = AURA_E_STATE;
            break;
        }
        uint64_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);
        size_t want = n - done;
        uint64_t room = r->cap - (t - l->free_cache);
        if (room < want) { /* the cache may be stale: look at free itself */
            l->free_cache = atomic_load_explicit(&l->free, memory_order_acquire);
            room = r->cap - (t - l->free_cache);
        }
        size_t m = room < want ? (size_t)room : want;
        if (m > 0 && !(reject && m < want)) {
            for (size_t i = 0; i < m; i++) {
                l->slots[(t + i) & r->mask] = evs[done + i];
            }
            atomic_store_explicit(&l->tail, t + m, memory_order_release);
            aura__ring_wake_check(r);
            done += m;
        } else if (reject) {
            atomic_fetch_add_explicit(&r->rejected, n, memory_order_relaxed);
            st = AURA_E_FULL;
        } else if (r->policy == AURA_EVENTS_BUS_DROP_OLDEST) {
            lane_drop(r, l, want, &w);
        } else {
            st = lane_wait_room(r, l, &w);
        }
    }
    if (n_done) {
        *n_done = done;
    }
    return st;
}

/* ---- consumer side ---- */

/* Events ready from h on (by the cached tail first). */
static inline uint64_t lane_avail(aura__lane *l, uint64_t h)
{
    uint64_t t = l->tail_cache;
    if (t <= h) { /* (a dropping owner may move read past the cached tail) */
        t = l->tail_cache = atomic_load_explicit(&l->tail, memory_order_acquire);
    }
    return t > h ? t - h : 0;
}

/* How many events from read position h can be taken in one piece: at most
 * max, those published, and not past the end of the slot array. */
static size_t lane_span(const aura__ring *r, aura__lane *l, uint64_t h, size_t max)
{
    uint64_t avail = lane_avail(l, h);
    uint64_t to_end = r->cap - (h & r->mask);
    uint64_t k = avail < to_end ? avail : to_end;
    return (uint64_t)max < k ? max : (size_t)k;
}

size_t aura__lane_take(aura__ring *r, aura__lane *l, size_t max, aura_events_event *scratch,
                       const aura_events_event **view)
{
    if (r->policy != AURA_EVENTS_BUS_DROP_OLDEST) {
        uint64_t h = atomic_load_explicit(&l->read, memory_order_relaxed);
        size_t k = lane_span(r, l, h, max);
        if (k == 0) {
            return 0;
        }
        *view = &l->cslots[h & r->mask];
        return k;
    }
    for (;;) {
        uint64_t h = atomic_load_explicit(&l->read, memory_order_acquire);
        size_t k = lane_span(r, l, h, max);
        if (k == 0) {
            return 0;
        }
        if (!atomic_compare_exchange_strong_explicit(&l->read, &h, h + k, memory_order_acq_rel,
                                                     memory_order_relaxed)) {
            continue; /* the owner dropped the oldest ones meanwhile */
        }
        memcpy(scratch, &l->cslots[h & r->mask], (size_t)k * sizeof(*scratch));
        lane_release_in_order(r, l, h, h + k);
        *view = scratch;
        return (size_t)k;
    }
}

void aura__lane_done(aura__ring *r, aura__lane *l, size_t k)
{
    if (r->policy == AURA_EVENTS_BUS_DROP_OLDEST || k == 0) {
        return;
    }
    uint64_t h = atomic_load_explicit(&l->read, memory_order_relaxed) + k;
    atomic_store_explicit(&l->read, h, memory_order_relaxed);
    atomic_store_explicit(&l->free, h, memory_order_release);
    if (r->policy == AURA_EVENTS_BUS_BLOCK) {
        aura__ring_wake_producers(r, 0);
    }
}

/* Some lane, or the shared ring, has an event ready. */
static int any_ready(aura__lanes *ls, const aura__ring *r)
{
    size_t n = atomic_load_explicit(&ls->n, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        aura__lane *l = ls->lane[i];
        if (atomic_load_explicit(&l->tail, memory_order_acquire) !=
            atomic_load_explicit(&l->read, memory_order_acquire)) {
            return 1;
        }
    }
    return aura__ring_ready(r);
}

/* The consumer's sleep: announced in cons_sleeping (lane owners and the
 * bias holder check it after each publish) and in the shared ring's tail
 * (its CAS claimers).  The first sleep of a wait is a bounded nap without
 * membarrier (an IPI to the other CPUs): usually a publish ends it. */
static void lanes_sleep(aura__lanes *ls, aura__ring *r, aura__waiter *w)
{
    struct timespec rel, *relp;
    if (!aura__wait_time_left(w, &rel, &relp)) {
        return;
    }
    aura__ring_wake_producers(r, 1); /* no producer may sleep on a release it missed */
    uint32_t key = atomic_load(&r->cons_futex);
    atomic_store(&r->cons_sleeping, 1);
    if (!w->napped) {
        w->napped = 1;
        struct timespec nap = {0, OWNED_NAP_NS};
        if (relp && (relp->tv_sec < nap.tv_sec ||
                     (relp->tv_sec == nap.tv_sec && relp->tv_nsec < nap.tv_nsec))) {
            nap = *relp;
        }
        if (!any_ready(ls, r) && !atomic_load(&r->closed)) {
            atomic_fetch_add_explicit(&r->sleeps, 1, memory_order_relaxed);
            aura__futex_wait(&r->cons_futex, key, &nap);
        }
        atomic_store(&r->cons_sleeping, 0);
        return;
    }
    aura__ring_heavy_fence(r);
    if (aura__ring_arm_sleep(r) && !any_ready(ls, r) && !atomic_load(&r->closed)) {
        atomic_fetch_add_explicit(&r->sleeps, 1, memory_order_relaxed);
        aura__futex_wait(&r->cons_futex, key, relp);
    }
    atomic_store(&r->cons_sleeping, 0);
}

aura_status aura__lanes_wait(aura__lanes *ls, aura__ring *r, int timeout_ms)
{
    aura__waiter w = {0};
    aura__waiter ww = {0}; /* a shared-ring slot being written: its own budget */
    aura__wait_deadline(&w, timeout_ms);
    for (;;) {
        if (any_ready(ls, r)) {
            return AURA_OK;
        }
        if (timeout_ms == 0) {
            return AURA_E_TIMEOUT;
        }
        if (aura__wait_backoff(r, &w, POLL_BACKOFF_LOG2)) {
            continue;
        }
        struct timespec rel, *relp;
        int expired = !aura__wait_time_left(&w, &rel, &relp);
        if (aura__ring_claimed_unwritten(r)) {
            if (expired) {
                return AURA_E_TIMEOUT;
            }
            aura__wait_short(r, &ww);
            continue;
        }
        if (atomic_load(&r->closed)) {
            return any_ready(ls, r) ? AURA_OK : AURA_E_STATE;
        }
        if (expired) {
            return AURA_E_TIMEOUT;
        }
        lanes_sleep(ls, r, &w);
    }
}

void aura__lanes_close(aura__lanes *ls)
{
    if (!ls->mu_ok) {
        return;
    }
    pthread_mutex_lock(&ls->mu);
    size_t n = atomic_load_explicit(&ls->n, memory_order_relaxed);
    for (size_t i = 0; i < n; i++) {
        atomic_store(&ls->lane[i]->limit, 0);
    }
    pthread_mutex_unlock(&ls->mu);
}

void aura__lanes_stats(const aura__lanes *ls, aura_events_bus_stats *st)
{
    size_t n = atomic_load_explicit(&ls->n, memory_order_acquire);
    st->lanes = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        aura__lane *l = ls->lane[i];
        uint64_t rd = atomic_load(&l->read);
        uint64_t t = atomic_load(&l->tail);
        st->published += t;
        st->queued += t >= rd ? t - rd : 0;
    }
}
