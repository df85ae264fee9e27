/* schema.c -- names of event kinds and states, and the 64-bit id hash.
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "aura/events.h"
#include "core/core_int.h"

static const char *const kind_names[AURA_EVENTS_KIND_COUNT] = {
    "call", "reply", "error", "timeout", "heartbeat",
    "load", "state", "decision", "intervention", "custom"};

static const char *const state_names[AURA_EVENTS_STATE_COUNT] = {
    "unknown", "healthy", "degraded", "failing", "failed", "isolated"};

static int find_name(const char *const *names, int count, const char *s, size_t len)
{
    for (int i = 0; i < count; i++) {
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
            return i;
        }
    }
    return -1;
}

const char *aura_events_kind_name(aura_events_kind kind)
{
    return (unsigned)kind < AURA_EVENTS_KIND_COUNT ? kind_names[kind] : NULL;
}

aura_status aura_events_kind_parse(const char *s, size_t len, aura_events_kind *out)
{
    AURA_CHECK_ARG(s && out);
    int k = find_name(kind_names, AURA_EVENTS_KIND_COUNT, s, len);
    if (k < 0) {
        return AURA_E_NOTFOUND;
    }
    *out = (aura_events_kind)k;
    return AURA_OK;
}

const char *aura_events_state_name(aura_events_state state)
{
    return (unsigned)state < AURA_EVENTS_STATE_COUNT ? state_names[state] : NULL;
}

aura_status aura_events_state_parse(const char *s, size_t len, aura_events_state *out)
{
    AURA_CHECK_ARG(s && out);
    int k = find_name(state_names, AURA_EVENTS_STATE_COUNT, s, len);
    if (k < 0) {
        return AURA_E_NOTFOUND;
    }
    *out = (aura_events_state)k;
    return AURA_OK;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* An id of exactly 16 hex digits (an OpenTelemetry span id, or what
 * aura_events_event_format writes) is its own value, so such ids survive
 * a round trip; anything else is hashed (FNV-1a, then a splitmix64
 * finaliser to spread the bits). */
uint64_t aura_events_id_hash(const char *s, size_t len)
{
    uint64_t h = 0;
    if (len == 16) {
        size_t i = 0;
        for (; i < 16; i++) {
            int v = hex_value(s[i]);
            if (v < 0) {
                break;
            }
            h = (h << 4) | (uint64_t)v;
        }
        if (i == 16 && h != 0) {
            return h;
        }
    }
    if (len == 0) {
        return 0;
    }
    h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    }
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
    h ^= h >> 31;
    return h ? h : 1;
}
