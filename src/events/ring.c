/* ring.c -- the bounded multi-producer ring of 64-byte events: claim,
 * publish, take, release, and the spin-then-sleep waits (Linux futex).
 * Subscribers and dispatch live in bus.c; the protocol and its memory
 * ordering are described in ring_int.h.
 * SPDX-License-Identifier: MIT */
#include "events/ring_int.h"

#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/core_int.h"

#define PREFETCH_AHEAD 8    /* a producer asks for the slot 8 ahead of its write */
#define OWNED AURA__RING_OWNED
#define SLEEPING AURA__RING_SLEEPING
#define POS AURA__RING_POS
#define TAIL AURA__RING_TAIL
#define POLL_BACKOFF_LOG2 4 /* an idle consumer polls at least every 2^4 pauses */

/* ---- small platform helpers ---- */

static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t key, const struct timespec *rel)
{
    /* EAGAIN (value changed), EINTR and ETIMEDOUT all mean: look again. */
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, key, rel, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr, int n)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

void *aura__ring_alloc_aligned(const aura_allocator *a, size_t size, void **raw)
{
    *raw = aura__alloc(a, size + AURA__RING_LINE - 1);
    if (!*raw) {
        return NULL;
    }
    uintptr_t p = ((uintptr_t)*raw + AURA__RING_LINE - 1) & ~(uintptr_t)(AURA__RING_LINE - 1);
    return (void *)p;
}

/* ---- waiting: spin briefly, then sleep ----
 * No sched_yield() phase: when another process shares the core, a yield
 * hands it a whole time slice, which measured far worse than sleeping on a
 * futex at once (docs/events_bus.md). */

typedef aura__waiter waiter;

#define OWNED_NAP_NS 50000L /* consumer, ring owned: a nap before membarrier */

static void deadline_set(waiter *w, int timeout_ms)
{
    if (w->timed || timeout_ms < 0) {
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &w->deadline);
    w->deadline.tv_sec += timeout_ms / 1000;
    w->deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (w->deadline.tv_nsec >= 1000000000L) {
        w->deadline.tv_sec++;
        w->deadline.tv_nsec -= 1000000000L;
    }
    w->timed = 1;
}

/* Time left until the deadline into *rel; 0 if it has passed.  Without a
 * deadline, *rel is NULLed (sleep without limit) and 1 is returned. */
static int time_left(const waiter *w, struct timespec *rel, struct timespec **relp)
{
    if (!w->timed) {
        *relp = NULL;
        return 1;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    rel->tv_sec = w->deadline.tv_sec - now.tv_sec;
    rel->tv_nsec = w->deadline.tv_nsec - now.tv_nsec;
    if (rel->tv_nsec < 0) {
        rel->tv_sec--;
        rel->tv_nsec += 1000000000L;
    }
    *relp = rel;
    return rel->tv_sec >= 0 && (rel->tv_sec > 0 || rel->tv_nsec > 0);
}

/* One round of the busy part of a wait: 2^round pauses, at most 2^max_log2
 * and at most what is left of the budget of r->spin pauses.  0 once the
 * budget is spent (the caller then sleeps). */
static int backoff_pow(const aura__ring *r, waiter *w, unsigned max_log2)
{
    if (w->paused >= r->spin) {
        return 0;
    }
    unsigned k = 1u << (w->round < max_log2 ? w->round : max_log2);
    if (k > r->spin - w->paused) {
        k = r->spin - w->paused;
    }
    w->round++;
    w->paused += k;
    for (unsigned i = 0; i < k; i++) {
        cpu_pause();
    }
    return 1;
}

static int backoff(const aura__ring *r, waiter *w)
{
    return backoff_pow(r, w, 0);
}

/* Waits on something that another thread finishes without sleeping (a
 * producer writing its claimed slot, a release in claim order): spin, then
 * nap briefly in case that thread was preempted. */
static void short_wait(const aura__ring *r, waiter *w)
{
    if (!backoff(r, w)) {
        struct timespec nap = {0, 50000};
        nanosleep(&nap, NULL);
    }
}

/* ---- init, fini, close ---- */

aura_status aura__ring_init(aura__ring *r, const aura_allocator *a, const aura_events_bus_opts *o)
{
    uint64_t cap = 16;
    while (cap < o->capacity) {
        cap <<= 1;
    }
    r->slots = aura__ring_alloc_aligned(a, (size_t)cap * sizeof(aura_events_event), &r->slots_raw);
    r->seq = aura__ring_alloc_aligned(a, (size_t)cap * sizeof(uint32_t), &r->seq_raw);
    if (!r->slots || !r->seq) {
        return AURA_E_NOMEM;
    }
    r->cap = cap;
    r->mask = cap - 1;
    r->policy = o->policy;
    r->timeout_ms = o->publish_timeout_ms;
    r->spin = o->spin;
    r->single = o->single_producer != 0;
    r->membarrier_ok =
        (r->single || o->owner_bias || o->lanes > 0) &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    r->bias_ok = !r->single && o->owner_bias && r->membarrier_ok;
    for (uint64_t i = 0; i < cap; i++) {
        /* slot i first holds position i: anything but i + 1 means unwritten */
        atomic_init(&r->seq[i], (uint32_t)i);
    }
    atomic_init(&r->closed, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->free, 0);
    atomic_init(&r->read, 0);
    return AURA_OK;
}

void aura__ring_fini(aura__ring *r, const aura_allocator *a)
{
    aura__free(a, r->slots_raw);
    aura__free(a, r->seq_raw);
    r->slots_raw = r->seq_raw = NULL;
    r->slots = NULL;
    r->seq = NULL;
}

void aura__ring_close(aura__ring *r)
{
    atomic_store(&r->closed, 1);
    atomic_fetch_add(&r->cons_futex, 1);
    futex_wake(&r->cons_futex, INT_MAX);
    atomic_fetch_add(&r->prod_futex, 1);
    futex_wake(&r->prod_futex, INT_MAX);
}

/* ---- release (consumer and droppers) ---- */

/* After a release: wakes sleeping producers.  `fenced` orders the free
 * store before the waiters load (needed once per dispatch, see ring_int.h). */
static void wake_producers(aura__ring *r, int fenced)
{
    if (fenced) {
        atomic_thread_fence(memory_order_seq_cst);
    } else {
        atomic_signal_fence(memory_order_seq_cst);
    }
    if (atomic_load_explicit(&r->prod_waiters, memory_order_relaxed) != 0) {
        atomic_fetch_add(&r->prod_futex, 1);
        futex_wake(&r->prod_futex, INT_MAX);
    }
}

void aura__ring_flush(aura__ring *r)
{
    if (r->policy == AURA_EVENTS_BUS_BLOCK) {
        /* with membarrier, a producer about to sleep runs it after raising
         * prod_waiters (asymmetric Dekker), so no fence is needed here */
        wake_producers(r, !r->membarrier_ok);
    }
}

/* Releases [from, to): waits for the releases claimed before it, so that
 * free advances contiguously. */
static void release_in_order(aura__ring *r, uint64_t from, uint64_t to)
{
    waiter w = {0};
    while (atomic_load_explicit(&r->free, memory_order_acquire) != from) {
        short_wait(r, &w);
    }
    atomic_store_explicit(&r->free, to, memory_order_release);
}

static inline int is_published(const aura__ring *r, uint64_t pos)
{
    if (r->single) { /* the producer stores tail after writing the events */
        return pos < POS(atomic_load_explicit(&r->tail, memory_order_acquire));
    }
    return atomic_load_explicit(&r->seq[pos & r->mask], memory_order_acquire) == (uint32_t)(pos + 1);
}

/* ---- producer side ---- */

/* Free slots for a claim at pos: up to `want`, by the shared cache of free,
 * or by free itself when the cache shows too little room. */
static inline size_t room_for(aura__ring *r, uint64_t pos, size_t want)
{
    /* free_seen may be far behind (a producer stored an old value late):
     * pos - free_seen can exceed cap, so never compute free_seen + cap -
     * pos directly */
    uint64_t used = pos - atomic_load_explicit(&r->free_seen, memory_order_acquire);
    uint64_t room = used < r->cap ? r->cap - used : 0;
    if (room < want && room < r->cap) { /* stale cache? look at the real one */
        uint64_t f = atomic_load_explicit(&r->free, memory_order_acquire);
        atomic_store_explicit(&r->free_seen, f, memory_order_release);
        room = f + r->cap - pos; /* free <= read <= pos, and pos - free <= cap */
    }
    return (uint64_t)want < room ? want : (size_t)room;
}

/* ---- the bias: one producer claims without locked instructions ---- */

static _Thread_local char tls_token; /* its address names this thread */

static inline uintptr_t my_token(void)
{
    return (uintptr_t)&tls_token;
}

static void wake_consumer(aura__ring *r);
static void heavy_fence(const aura__ring *r);

/* The bias holder's way in: 1 if this thread holds the bias; it may then
 * claim with plain stores until owner_exit.  A compiler barrier only: a
 * revoker's membarrier(2) orders the busy store before the bias load. */
static inline int owner_enter(aura__ring *r, uintptr_t tok)
{
    if (atomic_load_explicit(&r->bias, memory_order_relaxed) != tok) {
        return 0;
    }
    atomic_store_explicit(&r->busy, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->bias, memory_order_relaxed) == tok) {
        return 1;
    }
    atomic_store_explicit(&r->busy, 0, memory_order_release);
    return 0;
}

static inline void owner_exit(aura__ring *r)
{
    atomic_store_explicit(&r->busy, 0, memory_order_release);
}

/* Sets or clears OWNED in tail (CAS: the consumer may set SLEEPING). */
static uint64_t tail_owned(aura__ring *r, int owned)
{
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t want;
    do {
        want = owned ? t | OWNED : t & ~OWNED;
    } while (!atomic_compare_exchange_weak_explicit(&r->tail, &t, want, memory_order_acq_rel,
                                                    memory_order_relaxed));
    return t;
}

/* Called with tail showing OWNED: takes the bias from its holder (another
 * thread, or this one before a claim by CAS), or waits for a move in
 * progress.  On return the caller reloads tail and retries its claim. */
static void unbias(aura__ring *r, uintptr_t tok)
{
    waiter w = {0};
    uintptr_t b;
    for (;;) {
        b = atomic_load_explicit(&r->bias, memory_order_acquire);
        if (b == 0) {
            return; /* a stale OWNED: the move finished */
        }
        if (b == AURA__RING_BIAS_MOVING) {
            short_wait(r, &w);
            continue;
        }
        if (atomic_compare_exchange_strong_explicit(&r->bias, &b, AURA__RING_BIAS_MOVING,
                                                    memory_order_acq_rel, memory_order_relaxed)) {
            break;
        }
    }
    if (b != tok) {
        heavy_fence(r); /* the holder has left its section or will see MOVING */
        /* producers take turns: earning the bias back gets harder each time */
        uint32_t sh = atomic_load_explicit(&r->rebias_shift, memory_order_relaxed);
        if (sh < AURA__RING_REBIAS_MAX_SHIFT) {
            atomic_store_explicit(&r->rebias_shift, sh + 1, memory_order_relaxed);
        }
    }
    waiter bw = {0};
    while (atomic_load_explicit(&r->busy, memory_order_acquire)) {
        short_wait(r, &bw); /* the holder is between claim and fill */
    }
    tail_owned(r, 0);
    atomic_store_explicit(&r->streak, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bias_changes, 1, memory_order_relaxed);
    atomic_store_explicit(&r->bias, 0, memory_order_release);
}

/* After a claim by CAS: counts claims in a row by this thread (a hint,
 * racy on purpose), and at AURA__RING_REBIAS takes the bias.  Returns
 * AURA_OK; out of line, so that publish1's fast path stays a leaf (it
 * tail-calls this). */
__attribute__((noinline)) static aura_status note_claim(aura__ring *r)
{
    uintptr_t tok = my_token();
    if (atomic_load_explicit(&r->last_claimer, memory_order_relaxed) != tok) {
        atomic_store_explicit(&r->last_claimer, tok, memory_order_relaxed);
        atomic_store_explicit(&r->streak, 0, memory_order_relaxed);
        return AURA_OK;
    }
    uint32_t k = atomic_load_explicit(&r->streak, memory_order_relaxed) + 1;
    atomic_store_explicit(&r->streak, k, memory_order_relaxed);
    if (k < (uint32_t)AURA__RING_REBIAS
                 << atomic_load_explicit(&r->rebias_shift, memory_order_relaxed)) {
        return AURA_OK;
    }
    uintptr_t zero = 0;
    if (!atomic_compare_exchange_strong_explicit(&r->bias, &zero, AURA__RING_BIAS_MOVING,
                                                 memory_order_acq_rel, memory_order_relaxed)) {
        return AURA_OK;
    }
    uint64_t t = tail_owned(r, 1);
    atomic_fetch_add_explicit(&r->bias_changes, 1, memory_order_relaxed);
    atomic_store_explicit(&r->bias, tok, memory_order_release);
    if (t & SLEEPING) {
        wake_consumer(r); /* it slept the unowned way: let it sleep again the owned way */
    }
    return AURA_OK;
}

/* Claims up to `want` free slots (exactly `want` if all_or_nothing): by
 * one CAS on tail, or, for the bias holder, by plain loads (then *owned is
 * set and the caller is inside owner_enter until fill).  Returns the count
 * (0: no room), the first position and the tail value replaced (for its
 * SLEEPING bit). */
static inline size_t claim(aura__ring *r, size_t want, int all_or_nothing, uint64_t *pos_out,
                           uint64_t *old_tail, int *owned)
{
    *owned = 0;
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    for (;;) {
        if (t & OWNED) {
            uintptr_t tok = my_token();
            if (owner_enter(r, tok)) {
                t = atomic_load_explicit(&r->tail, memory_order_relaxed);
                size_t m = room_for(r, POS(t), want);
                if (m == 0 || (all_or_nothing && m < want)) {
                    owner_exit(r);
                    return 0;
                }
                *pos_out = POS(t);
                *old_tail = t;
                *owned = 1;
                return m;
            }
            unbias(r, tok);
            t = atomic_load_explicit(&r->tail, memory_order_relaxed);
            continue;
        }
        uint64_t pos = POS(t);
        size_t m = room_for(r, pos, want);
        if (m == 0 || (all_or_nothing && m < want)) {
            return 0;
        }
        if (r->single) { /* the only producer: fill() publishes by storing tail */
            *pos_out = pos;
            *old_tail = 0;
            return m;
        }
        if (atomic_compare_exchange_weak_explicit(&r->tail, &t, TAIL(pos + m),
                                                  memory_order_acq_rel, memory_order_relaxed)) {
            *pos_out = pos;
            *old_tail = t;
            return m; /* the caller fills, then calls note_claim */
        }
    }
}

static void wake_consumer(aura__ring *r)
{
    atomic_fetch_add(&r->cons_futex, 1);
    futex_wake(&r->cons_futex, 1);
}

/* A full barrier on every running thread of the process, so that the
 * single producer's side of the sleep handshake needs only a compiler
 * barrier (asymmetric Dekker; membarrier(2)).  A seq_cst fence here and in
 * the producer when membarrier is unavailable. */
static void heavy_fence(const aura__ring *r)
{
    if (!r->membarrier_ok ||
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
        atomic_thread_fence(memory_order_seq_cst);
    }
}

#define sp_wake_check aura__ring_wake_check

/* Writes the claimed run [pos, pos+m) and marks each slot published. */
static inline void fill(aura__ring *r, uint64_t pos, const aura_events_event *evs, size_t m,
                        uint64_t old_tail, int owned)
{
    if (r->single) { /* like an SPSC ring: write, then publish the new tail */
        for (size_t i = 0; i < m; i++) {
            r->slots[(pos + i) & r->mask] = evs[i];
        }
        atomic_store_explicit(&r->tail, TAIL(pos + m), memory_order_release);
        sp_wake_check(r);
        return;
    }
    if (owned) { /* the bias holder: marks, then a plain store of tail */
        for (size_t i = 0; i < m; i++) {
            uint64_t p = pos + i;
            r->slots[p & r->mask] = evs[i];
            atomic_store_explicit(&r->seq[p & r->mask], (uint32_t)(p + 1), memory_order_release);
        }
        atomic_store_explicit(&r->tail, TAIL(pos + m) | OWNED, memory_order_relaxed);
        owner_exit(r);
        sp_wake_check(r); /* the consumer sleeps the owned way: cons_sleeping */
        return;
    }
    for (size_t i = 0; i < m; i++) {
        uint64_t p = pos + i;
        /* ask for the lines a few claims ahead now: they were last read by
         * the consumer, and the next locked CAS waits for pending stores */
        __builtin_prefetch(&r->slots[(p + PREFETCH_AHEAD) & r->mask], 1);
        __builtin_prefetch(&r->seq[(p + 4 * PREFETCH_AHEAD) & r->mask], 1);
        r->slots[p & r->mask] = evs[i];
        atomic_store_explicit(&r->seq[p & r->mask], (uint32_t)(p + 1), memory_order_release);
    }
    if (old_tail & SLEEPING) {
        wake_consumer(r);
    }
}

static int has_room(aura__ring *r)
{
    uint64_t pos = POS(atomic_load(&r->tail));
    return atomic_load(&r->free) + r->cap > pos;
}

/* BLOCK: waits until a slot may be free.  AURA_OK to retry the claim. */
static aura_status wait_room(aura__ring *r, waiter *w)
{
    if (r->timeout_ms == 0) {
        return AURA_E_TIMEOUT;
    }
    if (!w->counted) {
        w->counted = 1;
        atomic_fetch_add_explicit(&r->waits, 1, memory_order_relaxed);
        deadline_set(w, r->timeout_ms);
    }
    if (backoff(r, w)) {
        return AURA_OK;
    }
    struct timespec rel, *relp;
    if (!time_left(w, &rel, &relp)) {
        return AURA_E_TIMEOUT;
    }
    uint32_t key = atomic_load(&r->prod_futex);
    atomic_fetch_add(&r->prod_waiters, 1);
    heavy_fence(r); /* pairs with the consumer's compiler barrier (flush) */
    if (!has_room(r) && !atomic_load(&r->closed)) {
        atomic_fetch_add_explicit(&r->sleeps, 1, memory_order_relaxed);
        futex_wait(&r->prod_futex, key, relp);
    }
    atomic_fetch_sub(&r->prod_waiters, 1);
    return AURA_OK;
}

/* DROP_OLDEST: discards up to `want` of the oldest queued events so that
 * the caller can claim slots.  If slots are only held by the consumer's
 * copy in progress, waits for it instead. */
static void drop_oldest(aura__ring *r, size_t want, waiter *w)
{
    uint64_t rd = atomic_load_explicit(&r->read, memory_order_acquire);
    uint64_t pos = POS(atomic_load_explicit(&r->tail, memory_order_relaxed));
    if (rd + r->cap > pos) {
        if (!w->counted) {
            w->counted = 1;
            atomic_fetch_add_explicit(&r->waits, 1, memory_order_relaxed);
        }
        short_wait(r, w);
        return;
    }
    uint64_t d = want < r->cap ? want : r->cap; /* rd + d <= pos: only claimed slots */
    if (!atomic_compare_exchange_strong_explicit(&r->read, &rd, rd + d, memory_order_acq_rel,
                                                 memory_order_relaxed)) {
        return; /* the consumer or another dropper moved first: retry */
    }
    for (uint64_t p = rd; p < rd + d; p++) {
        waiter pw = {0};
        while (!is_published(r, p)) { /* its producer is still writing it */
            short_wait(r, &pw);
        }
    }
    release_in_order(r, rd, rd + d);
    atomic_fetch_add_explicit(&r->dropped, d, memory_order_relaxed);
}

aura_status aura__ring_publish1(aura__ring *r, const aura_events_event *ev)
{
    /* fast path: room by the shared cache of free, one claim, one copy */
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t pos = POS(t);
    if (pos - atomic_load_explicit(&r->free_seen, memory_order_acquire) < r->cap &&
        !atomic_load_explicit(&r->closed, memory_order_relaxed)) {
        if (r->single) {
            fill(r, pos, ev, 1, 0, 0);
            return AURA_OK;
        }
        if (t & OWNED) {
            /* Entering proves that nobody revoked since this thread took
             * the bias (only it can set bias to its token), so pos, read
             * above, is still the one it stored last. */
            if (owner_enter(r, my_token())) {
                fill(r, pos, ev, 1, 0, 1);
                return AURA_OK;
            }
        } else if (atomic_compare_exchange_strong_explicit(&r->tail, &t, TAIL(pos + 1),
                                                           memory_order_acq_rel,
                                                           memory_order_relaxed)) {
            fill(r, pos, ev, 1, t, 0);
            return r->bias_ok ? note_claim(r) : AURA_OK;
        }
    }
    return aura__ring_publish(r, ev, 1, NULL);
}

aura_status aura__ring_publish(aura__ring *r, const aura_events_event *evs, size_t n,
                               size_t *n_done)
{
    size_t done = 0;
    aura_status st = AURA_OK;
    int reject = r->policy == AURA_EVENTS_BUS_REJECT;
    waiter w = {0};
    if (reject && n > r->cap) {
        st = AURA_E_RANGE;
    }
    while (st == AURA_OK && done < n) {
        if (atomic_load_explicit(&r->closed, memory_order_relaxed)) {
            st = AURA_E_STATE;
            break;
        }
        uint64_t pos, old_tail;
        int owned;
        size_t m = claim(r, n - done, reject, &pos, &old_tail, &owned);
        if (m > 0) {
            fill(r, pos, evs + done, m, old_tail, owned);
            done += m;
            if (!owned && !r->single && r->bias_ok) {
                /* after the fill: taking the bias (a CAS, maybe a wake-up
                 * system call) between claim and fill would leave a claimed
                 * slot unwritten meanwhile, and the consumer waiting on it */
                note_claim(r);
            }
        } else if (reject) {
            atomic_fetch_add_explicit(&r->rejected, n, memory_order_relaxed);
            st = AURA_E_FULL;
        } else if (r->policy == AURA_EVENTS_BUS_DROP_OLDEST) {
            drop_oldest(r, n - done, &w);
        } else {
            st = wait_room(r, &w);
        }
    }
    if (n_done) {
        *n_done = done;
    }
    return st;
}

/* ---- consumer side ---- */

/* Published events from h on, at most max and not past the array's end. */
static size_t count_ready(const aura__ring *r, uint64_t h, size_t max)
{
    uint64_t to_end = r->cap - (h & r->mask);
    size_t lim = (uint64_t)max < to_end ? max : (size_t)to_end;
    if (r->single) {
        uint64_t avail = POS(atomic_load_explicit(&r->tail, memory_order_acquire)) - h;
        return avail < lim ? (size_t)avail : lim;
    }
    size_t k = 0;
    while (k < lim && is_published(r, h + k)) {
        k++;
    }
    return k;
}

size_t aura__ring_take(aura__ring *r, size_t max, aura_events_event *scratch,
                       const aura_events_event **view)
{
    if (r->policy != AURA_EVENTS_BUS_DROP_OLDEST) {
        uint64_t h = atomic_load_explicit(&r->read, memory_order_relaxed);
        *view = &r->slots[h & r->mask];
        return count_ready(r, h, max);
    }
    for (;;) {
        uint64_t h = atomic_load_explicit(&r->read, memory_order_acquire);
        size_t k = count_ready(r, h, max);
        if (k == 0) {
            return 0;
        }
        if (!atomic_compare_exchange_strong_explicit(&r->read, &h, h + k, memory_order_acq_rel,
                                                     memory_order_relaxed)) {
            continue; /* a dropper took the oldest ones meanwhile */
        }
        memcpy(scratch, &r->slots[h & r->mask], k * sizeof(*scratch));
        release_in_order(r, h, h + k); /* droppers need not wait for subscribers */
        *view = scratch;
        return k;
    }
}

void aura__ring_done(aura__ring *r, size_t k)
{
    if (r->policy == AURA_EVENTS_BUS_DROP_OLDEST || k == 0) {
        return;
    }
    uint64_t h = atomic_load_explicit(&r->read, memory_order_relaxed) + k;
    atomic_store_explicit(&r->read, h, memory_order_relaxed);
    atomic_store_explicit(&r->free, h, memory_order_release);
    wake_producers(r, 0);
}

/* The consumer's sleep: announce it in tail (only if the ring is empty, so
 * that the next claim sees the bit), then sleep on cons_futex. */
static void consumer_sleep(aura__ring *r, uint64_t t, waiter *w)
{
    struct timespec rel, *relp;
    if (!time_left(w, &rel, &relp)) {
        return;
    }
    aura__ring_flush(r); /* no producer may sleep on a release it missed */
    uint32_t key = atomic_load(&r->cons_futex);
    if (r->single) {
        uint64_t h = POS(t);
        atomic_store(&r->cons_sleeping, 1);
        heavy_fence(r);
        if (!is_published(r, h) && POS(atomic_load(&r->tail)) == h && !atomic_load(&r->closed)) {
            atomic_fetch_add_explicit(&r->sleeps, 1, memory_order_relaxed);
            futex_wait(&r->cons_futex, key, relp);
        }
        atomic_store(&r->cons_sleeping, 0);
        return;
    }
    if (t & OWNED) {
        /* the holder's plain tail stores may wipe SLEEPING: announce the
         * sleep in cons_sleeping, which it checks after each fill */
        atomic_store(&r->cons_sleeping, 1);
        if (!w->napped) {
            /* First a short nap without membarrier (an IPI to the CPU
             * running the holder): usually the holder sees cons_sleeping
             * and wakes us, and if its check raced with our store, the
             * nap ends by itself.  The full handshake comes next time. */
            w->napped = 1;
            struct timespec nap = {0, OWNED_NAP_NS};
            if (relp && (relp->tv_sec < nap.tv_sec ||
                         (relp->tv_sec == nap.tv_sec && relp->tv_nsec < nap.tv_nsec))) {
                nap = *relp;
            }
            if (!is_published(r, POS(t)) && !atomic_load(&r->closed)) {
                atomic_fetch_add_explicit(&r->sleeps, 1, memory_order_relaxed);
                futex_wait(&r->cons_futex, key, &nap);
            }
            atomic_store(&r->cons_sleeping, 0);
            return;
        }
        heavy_fence(r);
        if (atomic_compare_exchange_strong_explicit(&r->tail, &t, t | SLEEPING,
                                                    memory_order_acq_rel, memory_order_relaxed) &&
            !is_published(r, POS(t)) && !atomic_load(&r->closed)) {
            atomic_fetch_add_explicit(&r->sleeps, 1, memory_order_relaxed);
            futex_wait(&r->cons_futex, key, relp);
        }
        atomic_store(&r->cons_sleeping, 0);
        return;
    }
    if (!(t & SLEEPING) &&
        !atomic_compare_exchange_strong_explicit(&r->tail, &t, t | SLEEPING,
                                                 memory_order_acq_rel, memory_order_relaxed)) {
        return; /* a producer claimed meanwhile */
    }
    if (atomic_load(&r->closed)) {
        return;
    }
    atomic_fetch_add_explicit(&r->sleeps, 1, memory_order_relaxed);
    futex_wait(&r->cons_futex, key, relp);
}

aura_status aura__ring_wait(aura__ring *r, int timeout_ms)
{
    waiter w = {0};
    waiter ww = {0}; /* for a slot being written: its own spin budget */
    deadline_set(&w, timeout_ms);
    for (;;) {
        uint64_t h = atomic_load_explicit(&r->read, memory_order_acquire);
        if (is_published(r, h)) {
            return AURA_OK;
        }
        if (timeout_ms == 0) {
            return AURA_E_TIMEOUT;
        }
        /* Poll only the slot's mark, and less and less often: every poll
         * takes the line a producer is writing, and its next claim (a
         * locked CAS) has to wait until that line comes back. */
        if (backoff_pow(r, &w, POLL_BACKOFF_LOG2)) {
            continue;
        }
        uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
        struct timespec rel, *relp;
        int expired = !time_left(&w, &rel, &relp);
        if (POS(t) != h) { /* claimed: written meanwhile, or being written */
            if (is_published(r, h)) {
                return AURA_OK; /* the bias holder stores tail after the mark */
            }
            if (expired) {
                return AURA_E_TIMEOUT;
            }
            /* its producer writes it within nanoseconds unless preempted:
             * spin first (the polling above spent w's budget), then nap */
            short_wait(r, &ww);
            continue;
        }
        if (atomic_load(&r->closed)) {
            return AURA_E_STATE;
        }
        if (expired) {
            return AURA_E_TIMEOUT;
        }
        consumer_sleep(r, t, &w);
    }
}

void aura__ring_stats(const aura__ring *r, aura_events_bus_stats *st)
{
    uint64_t rd = atomic_load(&r->read);
    uint64_t pos = POS(atomic_load(&r->tail));
    st->published = pos;
    st->queued = pos >= rd ? pos - rd : 0;
    st->dropped = atomic_load(&r->dropped);
    st->rejected = atomic_load(&r->rejected);
    st->waits = atomic_load(&r->waits);
    st->sleeps = atomic_load(&r->sleeps);
    st->bias_changes = atomic_load(&r->bias_changes);
    st->capacity = (size_t)r->cap;
}

/* ---- helpers shared with lane.c (see ring_int.h) ---- */

void aura__wait_deadline(aura__waiter *w, int timeout_ms)
{
    deadline_set(w, timeout_ms);
}

int aura__wait_time_left(const aura__waiter *w, struct timespec *rel, struct timespec **relp)
{
    return time_left(w, rel, relp);
}

int aura__wait_backoff(const aura__ring *r, aura__waiter *w, unsigned max_log2)
{
    return backoff_pow(r, w, max_log2);
}

void aura__wait_short(const aura__ring *r, aura__waiter *w)
{
    short_wait(r, w);
}

void aura__futex_wait(_Atomic uint32_t *addr, uint32_t key, const struct timespec *rel)
{
    futex_wait(addr, key, rel);
}

void aura__ring_wake_consumer(aura__ring *r)
{
    wake_consumer(r);
}

void aura__ring_wake_producers(aura__ring *r, int fenced)
{
    wake_producers(r, fenced);
}

void aura__ring_heavy_fence(const aura__ring *r)
{
    heavy_fence(r);
}

int aura__ring_ready(const aura__ring *r)
{
    return is_published(r, atomic_load_explicit(&r->read, memory_order_acquire));
}

int aura__ring_claimed_unwritten(const aura__ring *r)
{
    uint64_t h = atomic_load_explicit(&r->read, memory_order_acquire);
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    return POS(t) != h && !is_published(r, h);
}

int aura__ring_arm_sleep(aura__ring *r)
{
    uint64_t h = atomic_load_explicit(&r->read, memory_order_acquire);
    if (is_published(r, h)) {
        return 0;
    }
    uint64_t t = atomic_load(&r->tail);
    if (POS(t) != h) {
        return 0; /* claimed meanwhile: it is being written */
    }
    if (r->single || (t & SLEEPING)) {
        return 1; /* the single producer checks cons_sleeping */
    }
    /* CAS claimers see the bit (the bias holder checks cons_sleeping, and a
     * revoker keeps the bit when it clears OWNED) */
    return atomic_compare_exchange_strong_explicit(&r->tail, &t, t | SLEEPING,
                                                   memory_order_acq_rel, memory_order_relaxed);
}
