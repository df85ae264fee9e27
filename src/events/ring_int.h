/* ring_int.h -- the bounded multi-producer ring under aura_events_bus.
 *
 * Positions are 64-bit counters that never wrap in practice; slot = pos &
 * mask.  Four counters, each on its own cache line:
 *   tail  next position to claim, stored as pos << 2 | OWNED | SLEEPING.
 *         Producers claim runs of slots with one CAS; the consumer sets
 *         SLEEPING (CAS) before it sleeps, and the producer whose CAS
 *         clears it wakes it.  OWNED: one producer holds the ring's bias
 *         (below) and claims with plain stores; nobody else CASes tail.
 *   read  next position the consumer (or, under DROP_OLDEST, a dropping
 *         producer) takes.  Plain consumer-owned counter unless DROP_OLDEST,
 *         where takers claim [read, read+k) by CAS.
 *   free  positions below it may be overwritten: free <= read <= tail.
 *         Releases happen in claim order (each releaser waits for free ==
 *         its start), so free only ever moves forward contiguously.
 *   seq[] one 32-bit mark per slot: (uint32_t)(pos + 1) once the event for
 *         pos is written.  Lap-specific, so no reset is needed; 32 bits are
 *         enough because a slot cannot fall 2^32 positions behind (the ring
 *         cannot move past an unpublished slot).
 *
 * Bias (multi-producer mode, when membarrier(2) is available): a producer
 * that made AURA__RING_REBIAS claims in a row with nobody else claiming
 * (twice as many after each revocation by another thread, up to 2^12
 * times as many, so that producers taking turns stop paying for it)
 * takes the ring's bias (bias = its thread token, OWNED set in tail).
 * While it holds it, its claims are plain loads and stores, as in an SPSC
 * ring: no locked instruction per publish.  It brackets each claim-and-fill
 * with busy = 1 ... busy = 0 and checks bias in between (a compiler barrier
 * only).  Any other producer that finds OWNED revokes: it sets bias to
 * AURA__RING_BIAS_MOVING (CAS; one revoker at a time), runs membarrier(2)
 * (a full barrier on every running thread, so the owner has either left
 * the section with busy visible or will see the revocation), waits for
 * busy == 0 (acquire: the owner's last tail store is then visible),
 * clears OWNED (CAS) and sets bias = 0.  Asymmetric Dekker: the owner pays
 * no fence, the rare revoker pays the syscall.  Taking the bias goes
 * through AURA__RING_BIAS_MOVING too (bias 0 -> MOVING, OWNED set by CAS,
 * bias = token), and a claimer that finds OWNED with bias 0 or MOVING
 * waits for the move to finish.  The consumer sees no difference: it reads
 * the marks in both cases.
 *
 * Memory ordering (C11):
 *   - producer: room is computed from free (acquire), pairing with the
 *     releaser's free store (release): the consumer's reads of the old event
 *     happen before the producer overwrites it.  free_seen caches a value of
 *     free on the producers' line (stored with release after an acquire
 *     load of free, loaded with acquire), so the chain of happens-before
 *     still runs from the consumer to every producer that trusts it.  The event is written, then
 *     seq is stored with release; the consumer loads seq with acquire before
 *     reading the event.
 *   - claim CAS on tail is acq_rel: a producer that sees SLEEPING also sees
 *     the consumer's earlier load of the futex key, so its later increment
 *     of that key cannot be missed (no lost wake-up).
 *   - single-producer mode: no seq marks and no CAS; as in an SPSC ring the
 *     producer writes the events, then stores tail with release, and the
 *     consumer loads tail with acquire.  The consumer announces its sleep
 *     in cons_sleeping instead of a tail bit.  Consumer: store
 *     cons_sleeping, membarrier(2) (a full barrier on every running thread),
 *     re-check tail, sleep.  Producer: store tail, compiler barrier, load
 *     cons_sleeping.  Asymmetric Dekker: the producer pays no fence (a
 *     seq_cst fence on both sides if membarrier is unavailable).
 *   - consumer sleep while OWNED: the owner's plain tail store may wipe
 *     the SLEEPING bit, so the consumer first stores cons_sleeping and runs
 *     membarrier(2), then sets SLEEPING (CAS, fails if anything was claimed
 *     meanwhile); the owner, after writing its marks, checks cons_sleeping
 *     behind a compiler barrier (the single-producer handshake).  Before
 *     the first such sleep of a wait it naps 50 us with cons_sleeping set
 *     and no membarrier (bounded, so a missed wake costs the nap).  Taking
 *     the bias sets OWNED by CAS and so sees a SLEEPING bit set without it,
 *     and wakes the consumer, which then sleeps again the owned way.
 *   - producer sleep (BLOCK): increment prod_waiters (seq_cst), heavy_fence
 *     (membarrier), re-check room (seq_cst load), sleep on prod_futex.  The
 *     consumer loads prod_waiters (relaxed, behind a compiler barrier) after
 *     each release: asymmetric Dekker, so one of the two sides always sees
 *     the other and no producer sleeps while the consumer stops looking.
 *     Without membarrier, heavy_fence is a seq_cst fence and the consumer
 *     also fences at the end of each dispatch and before it sleeps (at
 *     worst the producer is then woken at the end of the dispatch call).
 * SPDX-License-Identifier: MIT */
#ifndef AURA_EVENTS_RING_INT_H
#define AURA_EVENTS_RING_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aura/events.h"
#include "aura/events_bus.h"

#define AURA__RING_SLEEPING ((uint64_t)1) /* tail bit: the consumer sleeps */
#define AURA__RING_OWNED ((uint64_t)2)    /* tail bit: a producer holds the bias */
#define AURA__RING_POS(t) ((t) >> 2)      /* tail word -> position */
#define AURA__RING_TAIL(pos) ((pos) << 2) /* position -> tail word, no bits */
#define AURA__RING_BIAS_MOVING ((uintptr_t)1) /* bias being taken or revoked */
#define AURA__RING_REBIAS 1024            /* claims in a row that earn the bias, */
#define AURA__RING_REBIAS_MAX_SHIFT 12    /* doubled by each revocation, to 4M */
#define AURA__RING_LINE 64

typedef struct aura__ring {
    /* configuration, read-only after init (and `closed`, written once) */
    aura_events_event *slots;     /* cap events, 64-byte aligned */
    _Atomic uint32_t *seq;        /* cap publication marks */
    void *slots_raw, *seq_raw;    /* the allocations behind them */
    uint64_t cap, mask;
    aura_events_bus_policy policy;
    int timeout_ms;               /* BLOCK: longest wait for room, -1 = none */
    unsigned spin;                /* pause budget before sleeping */
    int single;                   /* single-producer mode: claims are plain stores */
    int membarrier_ok;            /* membarrier(2) registered */
    int bias_ok;                  /* multi-producer mode with membarrier: bias on */
    _Atomic int closed;
    /* producers' line */
    _Alignas(AURA__RING_LINE) _Atomic uint64_t tail;
    _Atomic uint64_t free_seen;   /* some value free had: a lower bound that
                                     producers share, so that they read the
                                     consumer's line only when it shows no room */
    _Atomic uintptr_t bias;       /* 0, BIAS_MOVING, or the owner's thread token */
    _Atomic uint32_t busy;        /* the owner is inside a claim-and-fill */
    _Atomic uint32_t streak;      /* claims in a row by last_claimer (a hint) */
    _Atomic uintptr_t last_claimer; /* token of the last CAS claimer (a hint) */
    _Atomic uint32_t rebias_shift;  /* the bias takes REBIAS << this claims in a row */
    /* releasers' line (consumer; droppers under DROP_OLDEST) */
    _Alignas(AURA__RING_LINE) _Atomic uint64_t free;
    /* takers' line */
    _Alignas(AURA__RING_LINE) _Atomic uint64_t read;
    /* sleeping and waking */
    _Alignas(AURA__RING_LINE) _Atomic uint32_t cons_futex; /* bumped to wake the consumer */
    _Atomic uint32_t cons_sleeping; /* single mode: the consumer sleeps (or is about to) */
    _Atomic uint32_t prod_futex;   /* bumped to wake producers waiting for room */
    _Atomic uint32_t prod_waiters; /* producers about to sleep or sleeping */
    /* slow-path counters */
    _Alignas(AURA__RING_LINE) _Atomic uint64_t dropped;
    _Atomic uint64_t rejected;
    _Atomic uint64_t waits;
    _Atomic uint64_t sleeps;
    _Atomic uint64_t bias_changes;
} aura__ring;

/* `size` bytes aligned to a cache line; *raw is what to free (NULL on
 * failure, when NULL is returned). */
void *aura__ring_alloc_aligned(const aura_allocator *a, size_t size, void **raw);

/* Allocates the slots; `r` must be zeroed and 64-byte aligned. */
aura_status aura__ring_init(aura__ring *r, const aura_allocator *a, const aura_events_bus_opts *o);
void aura__ring_fini(aura__ring *r, const aura_allocator *a);

/* Producer side (thread-safe): see aura_events_bus_publish_batch. */
aura_status aura__ring_publish(aura__ring *r, const aura_events_event *evs, size_t n,
                               size_t *n_done);

/* The same for one event, with a short fast path. */
aura_status aura__ring_publish1(aura__ring *r, const aura_events_event *ev);

/* Consumer side (one thread).  take: up to `max` published events, at most
 * up to the end of the slot array, as a view (*view) that stays valid until
 * aura__ring_done(k).  Under DROP_OLDEST the events are copied into
 * `scratch` (room for max) and their slots released at once.  Returns k,
 * 0 if nothing is ready. */
size_t aura__ring_take(aura__ring *r, size_t max, aura_events_event *scratch,
                       const aura_events_event **view);
void aura__ring_done(aura__ring *r, size_t k);
/* Ends a dispatch: wakes producers that went to sleep meanwhile. */
void aura__ring_flush(aura__ring *r);

/* Waits until an event may be ready: AURA_OK, AURA_E_TIMEOUT, or
 * AURA_E_STATE (closed and empty). */
aura_status aura__ring_wait(aura__ring *r, int timeout_ms);

void aura__ring_close(aura__ring *r);

/* Fills the ring's counters in *st (published, dropped, rejected, waits,
 * sleeps, queued, capacity). */
void aura__ring_stats(const aura__ring *r, aura_events_bus_stats *st);

/* ---- waiting helpers (ring.c), shared with lane.c ---- */

static inline void aura__cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

typedef struct aura__waiter {
    unsigned round;        /* rounds waited so far */
    unsigned paused;       /* cpu pauses spent */
    int counted;           /* this wait is already in `waits` */
    int timed;             /* deadline is set */
    int napped;            /* consumer: took its short nap before a full sleep */
    struct timespec deadline;
} aura__waiter;

void aura__wait_deadline(aura__waiter *w, int timeout_ms);
/* Time left into *rel (or *relp = NULL without a deadline); 0 once passed. */
int aura__wait_time_left(const aura__waiter *w, struct timespec *rel, struct timespec **relp);
/* One round of spinning (2^round pauses, at most 2^max_log2); 0 once the
 * spin budget is spent. */
int aura__wait_backoff(const aura__ring *r, aura__waiter *w, unsigned max_log2);
/* Spin, then nap 50 us: for something another thread finishes at once. */
void aura__wait_short(const aura__ring *r, aura__waiter *w);
void aura__futex_wait(_Atomic uint32_t *addr, uint32_t key, const struct timespec *rel);
void aura__ring_wake_consumer(aura__ring *r);
/* After a release: wakes producers sleeping for room (fenced: with the
 * seq_cst fence of the Dekker handshake, see above). */
void aura__ring_wake_producers(aura__ring *r, int fenced);
/* membarrier(2), or a seq_cst fence without it. */
void aura__ring_heavy_fence(const aura__ring *r);
/* The shared ring's next event is published. */
int aura__ring_ready(const aura__ring *r);
/* Its next slot is claimed but not yet written. */
int aura__ring_claimed_unwritten(const aura__ring *r);
/* Consumer, about to sleep, after cons_sleeping = 1 and heavy_fence: makes
 * sure a producer of the shared ring will wake it (SLEEPING bit).  0 if an
 * event arrived or is being written (do not sleep). */
int aura__ring_arm_sleep(aura__ring *r);

/* A producer that publishes without a locked instruction (single-producer
 * mode, the bias holder, a lane's owner), after its release store: wakes
 * the consumer if it announced a sleep.  The compiler barrier pairs with
 * the consumer's heavy_fence (asymmetric Dekker, see above). */
static inline void aura__ring_wake_check(aura__ring *r)
{
    if (r->membarrier_ok) {
        atomic_signal_fence(memory_order_seq_cst);
    } else {
        atomic_thread_fence(memory_order_seq_cst);
    }
    if (atomic_load_explicit(&r->cons_sleeping, memory_order_relaxed) &&
        atomic_exchange(&r->cons_sleeping, 0)) {
        aura__ring_wake_consumer(r);
    }
}

/* ---- lanes: one single-writer ring per publishing thread (lane.c) ----
 *
 * Unless opts.lanes is 0 or single_producer is set, each thread that
 * publishes gets a lane of its own on its first publish: a Lamport SPSC
 * ring of `cap` slots with cached indices on both sides.  The thread is
 * its only writer until it exits (a pthread key destructor hands the lane
 * back; the next new thread reuses it) or the bus is destroyed.  Threads
 * beyond opts.lanes (or whose lane could not be allocated) publish through
 * the shared ring above, for good on that bus (so their order holds).
 * The one consumer polls the lanes (and the shared ring once any thread
 * uses it) round robin, a batch at a time.
 *
 * Memory ordering of a lane: the owner writes the events, then stores tail
 * with release; the consumer loads tail with acquire (only when its cached
 * copy shows no event) and, after the subscribers return, stores free with
 * release; the owner loads free with acquire only when its cached copy
 * shows no room.  DROP_OLDEST: the consumer and the owner (dropping) both
 * take from `read` by CAS, and release into `free` in claim order, as in
 * the shared ring.  A lane changes hands through `owned` (release store by
 * the old owner at its exit, CAS acq_rel by the new one), so the new owner
 * sees tail and free_cache as the old one left them.  The consumer sleeps
 * as in single-producer mode (cons_sleeping + membarrier; the owner checks
 * cons_sleeping after each publish behind a compiler barrier) and also sets
 * the shared ring's SLEEPING bit.  Producers waiting for room use the
 * shared prod_waiters / prod_futex handshake. */

typedef struct aura__lane {
    /* the owner's line (its own copies of the ring's geometry) */
    _Alignas(AURA__RING_LINE) _Atomic uint64_t tail; /* next position to write */
    uint64_t free_cache;            /* owner: a value free had */
    aura_events_event *slots;       /* cap events, 64-byte aligned */
    uint64_t mask;
    _Atomic uint64_t limit;         /* cap; 0 once the bus is closed, so that the
                                       fast path's room check also catches close */
    /* the consumer's line */
    _Alignas(AURA__RING_LINE) _Atomic uint64_t read; /* next position to take */
    _Atomic uint64_t free;          /* positions below it may be overwritten */
    uint64_t tail_cache;            /* consumer: a value tail had */
    aura_events_event *cslots;      /* = slots */
    /* rarely written */
    _Alignas(AURA__RING_LINE) void *slots_raw;
    void *raw;
    _Atomic int owned;              /* a live thread publishes through it */
} aura__lane;

#define AURA__LANES_OFF UINT64_MAX  /* the id of a bus without lanes: no thread matches */

typedef struct aura__lanes {
    /* read-mostly (producers read id and max on every publish) */
    uint64_t id;                    /* process-unique, >= 1; AURA__LANES_OFF when off */
    size_t max;                     /* opts.lanes (0: off) */
    aura__lane **lane;              /* max entries, the first n created */
    _Atomic size_t n;
    _Atomic int ring_used;          /* some thread publishes through the shared ring */
    const aura_allocator *alloc;
    struct aura__lanes *g_prev, *g_next; /* the process's live lane sets */
    pthread_mutex_t mu;             /* creating lanes; the allocator */
    int mu_ok;
    int linked;                     /* in the process's list of live lane sets */
} aura__lanes;

/* This thread's last bus: its lane set's id and its lane.  Checked inline
 * on every publish. */
typedef struct aura__tls_last {
    uint64_t id;
    aura__lane *lane;
} aura__tls_last;
extern _Thread_local aura__tls_last aura__tls_lane __attribute__((tls_model("initial-exec")));

aura_status aura__lanes_init(aura__lanes *ls, const aura_allocator *a, size_t max);
void aura__lanes_fini(aura__lanes *ls);
/* This thread's lane on `ls` (NULL: the shared ring), creating or taking
 * one on first use; also sets the two thread-locals above. */
aura__lane *aura__lanes_get(aura__lanes *ls, aura__ring *r);

/* Producer side: the lane's owner only. */
aura_status aura__lane_publish(aura__ring *r, aura__lane *l, const aura_events_event *evs,
                               size_t n, size_t *n_done);

/* Wakes the consumer that announced a sleep; returns AURA_OK. */
aura_status aura__lane_wake(aura__ring *r);

/* The owner's one-event publish.  Only tail calls leave the fast path, so
 * it needs no stack frame.  Lanes exist only with membarrier(2), so the
 * wake check needs only a compiler barrier (see above). */
static inline aura_status aura__lane_publish1(aura__ring *r, aura__lane *l,
                                              const aura_events_event *ev)
{
    uint64_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);
    if (__builtin_expect(t - l->free_cache >= atomic_load_explicit(&l->limit, memory_order_relaxed),
                         0)) {
        return aura__lane_publish(r, l, ev, 1, NULL); /* full by the cache, or closed */
    }
    l->slots[t & l->mask] = *ev;
    atomic_store_explicit(&l->tail, t + 1, memory_order_release);
    atomic_signal_fence(memory_order_seq_cst);
    if (__builtin_expect(atomic_load_explicit(&r->cons_sleeping, memory_order_relaxed) != 0, 0)) {
        return aura__lane_wake(r);
    }
    return AURA_OK;
}

/* Consumer side, as aura__ring_take / _done. */
size_t aura__lane_take(aura__ring *r, aura__lane *l, size_t max, aura_events_event *scratch,
                       const aura_events_event **view);
void aura__lane_done(aura__ring *r, aura__lane *l, size_t k);

/* Waits until an event may be ready in a lane or the shared ring. */
aura_status aura__lanes_wait(aura__lanes *ls, aura__ring *r, int timeout_ms);

/* After aura__ring_close: sets every lane's limit to 0. */
void aura__lanes_close(aura__lanes *ls);

/* Adds the lanes' published and queued counts to *st. */
void aura__lanes_stats(const aura__lanes *ls, aura_events_bus_stats *st);

#endif /* AURA_EVENTS_RING_INT_H */
