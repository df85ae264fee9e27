/* bus.c -- aura_events_bus: options, create/destroy, subscribers with kind
 * filters, and batched dispatch.  The ring itself (claims, waits, the
 * backpressure policies) is in ring.c.
 * SPDX-License-Identifier: MIT */
#include "aura/events_bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "core/core_int.h"
#include "events/ring_int.h"

#define MAX_CAPACITY ((size_t)1 << 26)
#define MAX_LANES ((size_t)1 << 16)
/* After taking k < LAG_EVENTS events (from a lane or the shared ring), the
 * consumer spends LAG_EVENTS - k cpu pauses before it looks again, so that
 * it reads the producer's index (a lane's tail, the ring's marks) about
 * once per LAG_EVENTS events instead of once per event or two.  Each such
 * read takes the producer's cache line away, and the producer's next store
 * to it must wait to get it back: a consumer that kept up too eagerly held
 * one-event publishes to about half the plain SPSC ring's rate (see
 * docs/events_bus.md).  64 measured better than 16 or 32 and no worse than
 * 128; it costs at most a couple of microseconds of latency. */
#define LAG_EVENTS 64

typedef struct sub {
    uint64_t id;            /* >= 1 */
    uint32_t kinds;         /* AURA_EVENTS_BUS_KIND bits */
    int live;               /* 0: unsubscribed during a dispatch, reaped after it */
    aura_events_bus_fn fn;
    void *ctx;
} sub;

struct aura_events_bus {
    aura__ring ring;               /* first member: 64-byte aligned */
    void *raw;                     /* the allocation holding this struct */
    const aura_allocator *alloc;
    size_t batch;                  /* most events per callback */
    aura_events_event *scratch;    /* DROP_OLDEST copy of the batch (batch events) */
    void *scratch_raw;
    aura_events_event *filt;       /* one subscriber's filtered batch (batch events) */
    void *filt_raw;
    sub *subs;                     /* in subscription order */
    size_t n_subs, cap_subs;
    size_t n_dead;                 /* !live entries awaiting the reap */
    size_t n_filtered;             /* live entries with kinds != ALL */
    uint64_t next_id;
    aura__lanes lanes;             /* per-thread lanes (ring_int.h) */
    /* the dispatching thread's line */
    _Alignas(AURA__RING_LINE) _Atomic int in_dispatch; /* a dispatch runs (guards re-entry) */
    size_t cursor;                 /* the source the next take tries first */
    _Atomic uint64_t dispatched;   /* written by the dispatching thread only */
    _Atomic uint64_t delivered;
    _Atomic uint32_t n_live;       /* live subscriptions, for get_stats */
};

aura_events_bus_opts aura_events_bus_opts_default(void)
{
    aura_events_bus_opts o;
    memset(&o, 0, sizeof o);
    o.alloc = NULL;
    o.capacity = 8192;
    o.batch = 256;
    o.policy = AURA_EVENTS_BUS_BLOCK;
    o.publish_timeout_ms = -1;
    o.spin = 64;
    o.owner_bias = 1;
    o.lanes = 16;
    return o;
}

static const char *const policy_names[] = {"block", "drop-oldest", "reject"};

const char *aura_events_bus_policy_name(aura_events_bus_policy policy)
{
    if ((unsigned)policy >= sizeof policy_names / sizeof policy_names[0]) {
        return NULL;
    }
    return policy_names[policy];
}

aura_status aura_events_bus_policy_parse(const char *s, aura_events_bus_policy *out)
{
    AURA_CHECK_ARG(s && out);
    for (unsigned i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++) {
        if (strcmp(s, policy_names[i]) == 0) {
            *out = (aura_events_bus_policy)i;
            return AURA_OK;
        }
    }
    return AURA_E_NOTFOUND;
}

/* ---- create / destroy ---- */

static int opts_valid(const aura_events_bus_opts *o)
{
    return o->capacity >= 1 && o->capacity <= MAX_CAPACITY && o->batch >= 1 &&
           o->batch <= o->capacity && (unsigned)o->policy <= AURA_EVENTS_BUS_REJECT &&
           o->publish_timeout_ms >= -1 && o->lanes <= MAX_LANES;
}

static aura_events_event *alloc_events(const aura_allocator *a, size_t n, void **raw)
{
    return aura__ring_alloc_aligned(a, n * sizeof(aura_events_event), raw);
}

aura_status aura_events_bus_create(const aura_events_bus_opts *opts, aura_events_bus **out)
{
    AURA_CHECK_ARG(out);
    aura_events_bus_opts o = opts ? *opts : aura_events_bus_opts_default();
    if (!opts_valid(&o)) {
        return AURA_E_INVAL;
    }
    void *raw;
    aura_events_bus *bus = aura__ring_alloc_aligned(o.alloc, sizeof(aura_events_bus), &raw);
    if (!bus) {
        return AURA_E_NOMEM;
    }
    memset(bus, 0, sizeof *bus);
    bus->raw = raw;
    bus->alloc = o.alloc;
    bus->batch = o.batch;
    bus->next_id = 1;
    aura_status st = aura__ring_init(&bus->ring, o.alloc, &o);
    if (st == AURA_OK) {
        /* lanes need membarrier(2): their owners' wake check is a compiler barrier */
        st = aura__lanes_init(&bus->lanes, o.alloc,
                              o.single_producer || !bus->ring.membarrier_ok ? 0 : o.lanes);
    }
    if (st == AURA_OK) {
        bus->filt = alloc_events(o.alloc, o.batch, &bus->filt_raw);
        if (o.policy == AURA_EVENTS_BUS_DROP_OLDEST) {
            bus->scratch = alloc_events(o.alloc, o.batch, &bus->scratch_raw);
        }
        if (!bus->filt || (o.policy == AURA_EVENTS_BUS_DROP_OLDEST && !bus->scratch)) {
            st = AURA_E_NOMEM;
        }
    }
    if (st != AURA_OK) {
        aura_events_bus_destroy(bus);
        return st;
    }
    *out = bus;
    return AURA_OK;
}

void aura_events_bus_destroy(aura_events_bus *bus)
{
    if (!bus) {
        return;
    }
    const aura_allocator *a = bus->alloc;
    aura__lanes_fini(&bus->lanes);
    aura__ring_fini(&bus->ring, a);
    aura__free(a, bus->filt_raw);
    aura__free(a, bus->scratch_raw);
    aura__free(a, bus->subs);
    aura__free(a, bus->raw);
}

/* ---- publish (thread-safe; the work is in lane.c and ring.c) ---- */

/* Another bus than this thread's last one, or no lane: look it up. */
__attribute__((noinline)) static aura_status publish1_slow(aura_events_bus *bus,
                                                           const aura_events_event *ev)
{
    aura__lane *l = aura__lanes_get(&bus->lanes, &bus->ring);
    if (!l) {
        return aura__ring_publish1(&bus->ring, ev);
    }
    return aura__lane_publish1(&bus->ring, l, ev);
}

aura_status aura_events_bus_publish(aura_events_bus *bus, const aura_events_event *ev)
{
    AURA_CHECK_ARG(bus && ev);
    if (__builtin_expect(aura__tls_lane.id == bus->lanes.id, 1)) { /* this thread's last lane */
        return aura__lane_publish1(&bus->ring, aura__tls_lane.lane, ev);
    }
    if (bus->lanes.id == AURA__LANES_OFF) {
        return aura__ring_publish1(&bus->ring, ev);
    }
    return publish1_slow(bus, ev);
}

aura_status aura_events_bus_publish_batch(aura_events_bus *bus, const aura_events_event *evs,
                                          size_t n, size_t *n_done)
{
    AURA_CHECK_ARG(bus && (evs || n == 0));
    aura__lane *l = aura__tls_lane.lane;
    if (aura__tls_lane.id != bus->lanes.id) {
        l = aura__lanes_get(&bus->lanes, &bus->ring);
        if (!l) {
            return aura__ring_publish(&bus->ring, evs, n, n_done);
        }
    }
    return aura__lane_publish(&bus->ring, l, evs, n, n_done);
}

void aura_events_bus_close(aura_events_bus *bus)
{
    if (bus) {
        aura__ring_close(&bus->ring);
        aura__lanes_close(&bus->lanes);
    }
}

/* ---- subscribers (consumer side) ---- */

static int dispatching(const aura_events_bus *bus)
{
    return atomic_load_explicit(&bus->in_dispatch, memory_order_relaxed) != 0;
}

aura_status aura_events_bus_subscribe(aura_events_bus *bus, uint32_t kinds,
                                      aura_events_bus_fn fn, void *ctx, uint64_t *id)
{
    AURA_CHECK_ARG(bus && id);
    if (!fn || kinds == 0) {
        return AURA_E_INVAL;
    }
    if (bus->n_subs == bus->cap_subs) {
        size_t cap = bus->cap_subs ? 2 * bus->cap_subs : 4;
        pthread_mutex_lock(&bus->lanes.mu); /* producers may allocate lanes meanwhile */
        sub *s = aura__realloc_array(bus->alloc, bus->subs, cap, sizeof(sub));
        pthread_mutex_unlock(&bus->lanes.mu);
        if (!s) {
            return AURA_E_NOMEM;
        }
        bus->subs = s;
        bus->cap_subs = cap;
    }
    sub *s = &bus->subs[bus->n_subs++];
    *s = (sub){.id = bus->next_id++, .kinds = kinds, .live = 1, .fn = fn, .ctx = ctx};
    bus->n_filtered += kinds != AURA_EVENTS_BUS_ALL_KINDS;
    atomic_fetch_add_explicit(&bus->n_live, 1, memory_order_relaxed);
    *id = s->id;
    return AURA_OK;
}

/* Drops the entries marked dead, keeping the order of the others. */
static void reap(aura_events_bus *bus)
{
    size_t j = 0;
    for (size_t i = 0; i < bus->n_subs; i++) {
        if (bus->subs[i].live) {
            bus->subs[j++] = bus->subs[i];
        }
    }
    bus->n_subs = j;
    bus->n_dead = 0;
}

aura_status aura_events_bus_unsubscribe(aura_events_bus *bus, uint64_t id)
{
    AURA_CHECK_ARG(bus);
    for (size_t i = 0; i < bus->n_subs; i++) {
        sub *s = &bus->subs[i];
        if (s->id != id || !s->live) {
            continue;
        }
        s->live = 0; /* a running dispatch skips it from now on */
        bus->n_filtered -= s->kinds != AURA_EVENTS_BUS_ALL_KINDS;
        bus->n_dead++;
        atomic_fetch_sub_explicit(&bus->n_live, 1, memory_order_relaxed);
        if (!dispatching(bus)) {
            reap(bus);
        }
        return AURA_OK;
    }
    return AURA_E_NOTFOUND;
}

/* ---- dispatch (consumer side) ---- */

static uint32_t kinds_present(const aura_events_event *evs, size_t k)
{
    uint32_t m = 0;
    for (size_t i = 0; i < k; i++) {
        m |= AURA_EVENTS_BUS_KIND(evs[i].kind);
    }
    return m;
}

static size_t gather(aura_events_event *dst, const aura_events_event *evs, size_t k,
                     uint32_t kinds)
{
    size_t j = 0;
    for (size_t i = 0; i < k; i++) {
        if (kinds & AURA_EVENTS_BUS_KIND(evs[i].kind)) {
            dst[j++] = evs[i];
        }
    }
    return j;
}

/* Hands one batch to every live subscriber, whole or filtered.  Entries are
 * re-read on each step because a callback may subscribe (realloc) or
 * unsubscribe; subscriptions added here start with the next batch. */
static void deliver(aura_events_bus *bus, const aura_events_event *evs, size_t k)
{
    uint32_t present = bus->n_filtered ? kinds_present(evs, k) : AURA_EVENTS_BUS_ALL_KINDS;
    size_t n = bus->n_subs;
    uint64_t delivered = 0;
    for (size_t i = 0; i < n; i++) {
        sub s = bus->subs[i];
        if (!s.live || !(present & s.kinds)) {
            continue;
        }
        if ((present & ~s.kinds) == 0) {
            s.fn(s.ctx, evs, k);
            delivered += k;
        } else {
            size_t j = gather(bus->filt, evs, k, s.kinds);
            if (j > 0) {
                s.fn(s.ctx, bus->filt, j);
                delivered += j;
            }
        }
    }
    atomic_store_explicit(&bus->delivered,
                          atomic_load_explicit(&bus->delivered, memory_order_relaxed) + delivered,
                          memory_order_relaxed);
}

/* Takes the next batch: from the source after the last one that gave
 * events (the lanes, then the shared ring once some thread uses it), so
 * that one busy producer cannot starve the others.  Sets *lane (NULL: the
 * shared ring) for the release. */
static size_t take_next(aura_events_bus *bus, size_t want, const aura_events_event **view,
                        aura__lane **lane)
{
    aura__ring *r = &bus->ring;
    aura__lanes *ls = &bus->lanes;
    size_t n = atomic_load_explicit(&ls->n, memory_order_acquire);
    size_t n_src = n + (atomic_load_explicit(&ls->ring_used, memory_order_acquire) != 0);
    size_t s = bus->cursor;
    for (size_t j = 0; j < n_src; j++, s++) {
        if (s >= n_src) {
            s = 0;
        }
        size_t k;
        if (s < n) {
            *lane = ls->lane[s];
            k = aura__lane_take(r, *lane, want, bus->scratch, view);
        } else {
            *lane = NULL;
            k = aura__ring_take(r, want, bus->scratch, view);
        }
        if (k > 0) {
            bus->cursor = s + 1;
            return k;
        }
    }
    return 0;
}

aura_status aura_events_bus_dispatch(aura_events_bus *bus, size_t max, int timeout_ms,
                                     size_t *n_out)
{
    AURA_CHECK_ARG(bus);
    if (atomic_exchange(&bus->in_dispatch, 1)) {
        return AURA_E_STATE;
    }
    aura__ring *r = &bus->ring;
    size_t total = 0;
    aura_status st = AURA_OK;
    while (total < max) {
        size_t want = max - total < bus->batch ? max - total : bus->batch;
        const aura_events_event *view = NULL;
        aura__lane *lane = NULL;
        size_t k = take_next(bus, want, &view, &lane);
        if (k == 0) {
            if (total > 0) {
                break;
            }
            st = bus->lanes.id != AURA__LANES_OFF ? aura__lanes_wait(&bus->lanes, r, timeout_ms)
                                                  : aura__ring_wait(r, timeout_ms);
            if (st != AURA_OK) {
                break;
            }
            continue;
        }
        deliver(bus, view, k);
        if (lane) {
            aura__lane_done(r, lane, k);
        } else {
            aura__ring_done(r, k);
        }
        if (k < LAG_EVENTS && total + k < max) {
            for (size_t i = k; i < LAG_EVENTS; i++) {
                aura__cpu_pause();
            }
        }
        total += k;
        atomic_store_explicit(&bus->dispatched,
                              atomic_load_explicit(&bus->dispatched, memory_order_relaxed) + k,
                              memory_order_relaxed);
    }
    if (st == AURA_E_TIMEOUT) {
        st = AURA_OK;
    }
    aura__ring_flush(r);
    if (bus->n_dead) {
        reap(bus);
    }
    atomic_store_explicit(&bus->in_dispatch, 0, memory_order_release);
    if (n_out) {
        *n_out = total;
    }
    return st;
}

void aura_events_bus_get_stats(const aura_events_bus *bus, aura_events_bus_stats *st)
{
    if (!bus || !st) {
        return;
    }
    aura_events_bus_stats s;
    memset(&s, 0, sizeof s);
    s.dispatched = atomic_load_explicit(&bus->dispatched, memory_order_relaxed);
    s.delivered = atomic_load_explicit(&bus->delivered, memory_order_relaxed);
    aura__ring_stats(&bus->ring, &s);
    aura__lanes_stats(&bus->lanes, &s);
    s.subscribers = atomic_load_explicit(&bus->n_live, memory_order_relaxed);
    *st = s;
}
