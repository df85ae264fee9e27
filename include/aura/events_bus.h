/* events_bus.h -- a bounded multi-producer event bus for aura_events_event.
 *
 * Producers copy 64-byte events into bounded rings: by default each
 * publishing thread gets a ring of its own (a lane, written without atomic
 * read-modify-writes); threads beyond opts.lanes share one multi-producer
 * ring.  One consumer thread drains them with aura_events_bus_dispatch(),
 * which hands each subscriber the events whose kind matches its filter, in
 * batches.  When the ring is full the bus applies its backpressure policy:
 * block the producer, drop the oldest queued events, or reject the publish
 * with AURA_E_FULL.  Waiting threads spin briefly, then sleep on a futex, so
 * the bus stays usable when other work shares the cores.
 *
 * Thread safety (the bus is MPSC):
 *   - aura_events_bus_publish*, aura_events_bus_close and
 *     aura_events_bus_get_stats may be called from any thread, concurrently
 *     (publish from one thread at a time if opts.single_producer is set).
 *   - aura_events_bus_dispatch, _subscribe and _unsubscribe are consumer-side
 *     calls: one thread at a time, the one that dispatches (or any thread
 *     while nobody dispatches).  From inside a subscriber callback,
 *     _unsubscribe is deferred (see below) and _subscribe takes effect from
 *     the next batch; a nested _dispatch returns AURA_E_STATE.
 *   - _create and _destroy are not concurrent with anything on that bus.
 *
 * Ordering: events from one producer thread are delivered in the order that
 * thread published them; events of different producers interleave, and
 * with lanes (the default) there is no total order across producers: an
 * event published after another thread's event (even one it waited for)
 * may be delivered before it.  Set lanes = 0 for one shared ring, where
 * events are delivered in the order their publishes claimed slots.  Every
 * published event is delivered exactly once to each matching subscriber,
 * unless the drop-oldest policy discarded it (counted in `dropped`).
 * See docs/events_bus.md for the design and the measured rates.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_EVENTS_BUS_H
#define AURA_EVENTS_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "aura/alloc.h"
#include "aura/events.h"
#include "aura/status.h"

/* What a publish does when the ring has no room. */
typedef enum aura_events_bus_policy {
    AURA_EVENTS_BUS_BLOCK = 0,       /* wait for room (up to publish_timeout_ms) */
    AURA_EVENTS_BUS_DROP_OLDEST = 1, /* discard the oldest queued events; never waits
                                        for subscribers (only, briefly, for the
                                        consumer's copy of its current batch) */
    AURA_EVENTS_BUS_REJECT = 2       /* return AURA_E_FULL, publish nothing */
} aura_events_bus_policy;

typedef struct aura_events_bus_opts {
    const aura_allocator *alloc;   /* NULL = default */
    size_t capacity;               /* ring slots, rounded up to a power of two,
                                      16 .. 2^26 (default 8192 = 512 KiB) */
    size_t batch;                  /* most events per subscriber callback,
                                      1 .. capacity (default 256) */
    aura_events_bus_policy policy; /* default AURA_EVENTS_BUS_BLOCK */
    int publish_timeout_ms;        /* BLOCK only: longest wait for room; -1 =
                                      forever (default), 0 = do not wait */
    unsigned spin;                 /* cpu pauses a waiting thread spends before it
                                      sleeps on a futex (default 64, a few us;
                                      0 = sleep at once) */
    int single_producer;           /* 1: the caller guarantees that only one thread
                                      publishes at a time (the thread may change,
                                      with a happens-before between them), and
                                      events keep one order across such hand-
                                      overs.  Uses the shared ring (no lanes),
                                      claiming with plain stores: as fast as a
                                      lane (docs/events_bus.md).  Default 0. */
    int owner_bias;                /* 1 (default): a producer that publishes alone
                                      for a while (1024 claims in a row) takes
                                      the ring's bias and then publishes without
                                      atomic read-modify-writes until another
                                      producer takes it away (one membarrier(2)
                                      call).  0: every claim is a CAS.  Needs
                                      Linux membarrier; off without it.  Only
                                      the shared ring has a bias (see lanes). */
    size_t lanes;                  /* most per-thread lanes (default 16, at most
                                      65536; 0 = off): each thread that publishes
                                      gets a ring of `capacity` slots of its own
                                      on its first publish, written without
                                      atomic read-modify-writes, handed back when
                                      the thread exits and reused by the next
                                      new thread.  Threads beyond `lanes` publish
                                      through the shared ring.  Backpressure is
                                      per lane.  Lanes are allocated with `alloc`
                                      on the publishing thread, under a lock that
                                      _subscribe also takes.  Off with
                                      single_producer, and without Linux
                                      membarrier(2). */
} aura_events_bus_opts;

AURA_API aura_events_bus_opts aura_events_bus_opts_default(void);

/* Subscriber callback.  `evs[0..n)` is a read-only view owned by the bus and
 * valid only until the callback returns (copy what you keep); n >= 1.  Runs
 * on the dispatching thread.  A callback may publish to the same bus, but
 * under BLOCK with publish_timeout_ms = -1 that waits forever if the ring is
 * full (the only thread that frees slots is the one waiting). */
typedef void (*aura_events_bus_fn)(void *ctx, const aura_events_event *evs, size_t n);

/* Kind filters: bit k selects kind k (aura_events_kind) for k < 31; bit 31
 * selects every kind >= 31 (custom numeric kinds). */
#define AURA_EVENTS_BUS_KIND(k) ((uint32_t)1u << ((unsigned)(k) < 31u ? (unsigned)(k) : 31u))
#define AURA_EVENTS_BUS_ALL_KINDS UINT32_MAX

/* Counters since creation; each is read atomically, but the set is not one
 * snapshot while producers run.  published = dispatched + dropped + queued. */
typedef struct aura_events_bus_stats {
    uint64_t published;  /* events accepted into the ring */
    uint64_t dispatched; /* events taken out of the ring by dispatch */
    uint64_t delivered;  /* events handed to callbacks, summed over subscribers */
    uint64_t dropped;    /* events discarded by DROP_OLDEST */
    uint64_t rejected;   /* events refused with AURA_E_FULL (REJECT) */
    uint64_t waits;      /* publish calls that had to wait for room (BLOCK,
                            and DROP_OLDEST waiting on the consumer's copy) */
    uint64_t sleeps;     /* futex sleeps, producers and consumer together */
    uint64_t bias_changes; /* times a producer took or lost the ring's bias */
    uint64_t queued;     /* events in the ring now (published, not yet taken) */
    size_t capacity;     /* ring slots */
    uint32_t subscribers; /* live subscriptions */
    uint32_t lanes;      /* per-thread lanes created (opts.lanes) */
} aura_events_bus_stats;

typedef struct aura_events_bus aura_events_bus;

/* Creates a bus (opts NULL = defaults).  AURA_E_INVAL for options out of
 * range, AURA_E_NOMEM.  Memory: capacity * 68 bytes + 2 * batch * 64, plus
 * capacity * 64 bytes per lane, allocated on a thread's first publish (a
 * lane that cannot be allocated sends that thread to the shared ring). */
AURA_API aura_status aura_events_bus_create(const aura_events_bus_opts *opts,
                                            aura_events_bus **out);
/* Frees the bus; NULL is a no-op.  Queued events are discarded.  No thread
 * may use the bus any more (close it and join producers first). */
AURA_API void aura_events_bus_destroy(aura_events_bus *bus);

/* Copies one event into this thread's lane (or the shared ring).
 * Thread-safe.  Returns AURA_OK, or
 *   AURA_E_FULL    REJECT policy and no room (counted in `rejected`);
 *   AURA_E_TIMEOUT BLOCK policy and no room within publish_timeout_ms;
 *   AURA_E_STATE   the bus is closed (also wakes a blocked publish).
 * "No room" is per lane: a thread's lane holds `capacity` events.
 * Cost in a lane: about 35 instructions, plain loads and stores (no atomic
 * read-modify-write, no fence), a 64-byte copy.  In the shared ring: one
 * compare-and-swap (plain stores in single-producer mode, and for a
 * producer that holds the bias, see owner_bias). */
AURA_API aura_status aura_events_bus_publish(aura_events_bus *bus, const aura_events_event *ev);

/* Copies evs[0..n) into the ring, in order, with one claim per run of free
 * slots.  Sets *n_done (may be NULL) to the number accepted, also on error
 * (the one exception to "outputs untouched on failure").
 *   BLOCK:       waits as needed; on AURA_E_TIMEOUT/AURA_E_STATE the first
 *                *n_done events were published.
 *   DROP_OLDEST: always publishes all n.
 *   REJECT:      all or nothing: AURA_E_FULL (n counted in `rejected`) if
 *                fewer than n slots are free; AURA_E_RANGE if n > capacity. */
AURA_API aura_status aura_events_bus_publish_batch(aura_events_bus *bus,
                                                   const aura_events_event *evs, size_t n,
                                                   size_t *n_done);

/* Adds a subscriber for the kinds in `kinds` (AURA_EVENTS_BUS_KIND bits) and
 * sets *id (>= 1).  `fn` and `ctx` are kept until unsubscribe or destroy.
 * Consumer-side call.  AURA_E_INVAL (fn NULL or kinds 0), AURA_E_NOMEM. */
AURA_API aura_status aura_events_bus_subscribe(aura_events_bus *bus, uint32_t kinds,
                                               aura_events_bus_fn fn, void *ctx, uint64_t *id);

/* Removes subscription `id`.  Consumer-side call.  Safe from inside any
 * callback (its own included): the subscription receives nothing more, and
 * its record is freed when the current dispatch returns.  AURA_E_NOTFOUND
 * for an unknown or already removed id. */
AURA_API aura_status aura_events_bus_unsubscribe(aura_events_bus *bus, uint64_t id);

/* Takes up to `max` events out of the ring (in batches of at most opts.batch)
 * and delivers each batch to the matching subscribers, in subscription
 * order.  Events nobody subscribed to are consumed and counted only.
 * Waits for the first event for up to timeout_ms (0 = poll, -1 = until an
 * event arrives or the bus is closed); returns once the ring is empty or
 * `max` events were taken.  Sets *n_out (may be NULL) to the events taken.
 * Returns AURA_OK (*n_out == 0 on timeout); AURA_E_STATE when the bus is
 * closed and empty, or when called from a callback or while another thread
 * dispatches. */
AURA_API aura_status aura_events_bus_dispatch(aura_events_bus *bus, size_t max, int timeout_ms,
                                              size_t *n_out);

/* Closes the bus: later publishes return AURA_E_STATE, blocked producers and
 * a sleeping dispatcher wake up; dispatch still drains what is queued.
 * Thread-safe, idempotent. */
AURA_API void aura_events_bus_close(aura_events_bus *bus);

/* Reads the counters (thread-safe). */
AURA_API void aura_events_bus_get_stats(const aura_events_bus *bus, aura_events_bus_stats *st);

/* "block", "drop-oldest", "reject"; NULL if out of range. */
AURA_API const char *aura_events_bus_policy_name(aura_events_bus_policy policy);
/* Parses those names; AURA_E_NOTFOUND if unknown. */
AURA_API aura_status aura_events_bus_policy_parse(const char *s, aura_events_bus_policy *out);

#endif /* AURA_EVENTS_BUS_H */
