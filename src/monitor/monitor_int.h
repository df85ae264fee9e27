/* monitor_int.h -- internals shared by the monitor's source files.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_MONITOR_INT_H
#define AURA_MONITOR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "aura/monitor.h"

/* A growable array of events (the simulator's per-tick output). */
typedef struct aura__monitor_evbuf {
    aura_events_event *ev;
    size_t n, cap;
} aura__monitor_evbuf;

/* The default fault durations (ticks) per kind. */
int32_t aura__monitor_fault_default_duration(aura_monitor_fault_kind k);

#endif /* AURA_MONITOR_INT_H */
