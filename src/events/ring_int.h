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
 *   - producer sleep (BLOCK): increment prod_waiters (seq_cst), re-check room
 *     (seq_cst load), sleep on prod_futex.  The consumer loads prod_waiters
 *     (relaxed, cheap) after each release, and, at the end of each dispatch
 *     and before it sleeps, after a seq_cst fence: Dekker's pattern, so one
 *     of the two sides always sees the other and no producer sleeps while
 *     the consumer stops looking (at worst it is woken at the end of the
 *     dispatch call instead of at once).
 * SPDX-License-Identifier: MIT */
#ifndef AURA_EVENTS_RING_INT_H
#define AURA_EVENTS_RING_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

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

#endif /* AURA_EVENTS_RING_INT_H */
