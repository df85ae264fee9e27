/* intern.c -- agent ids: strings <-> dense integers.
 *
 * Open addressing with linear probing over a power-of-two table of ids;
 * names live in chunked storage so their pointers stay valid as the
 * interner grows.  Lookups hash the bytes once (FNV-1a).
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "aura/events.h"
#include "core/core_int.h"

#define CHUNK_BYTES 65536

typedef struct chunk {
    struct chunk *next;
    size_t used;
    size_t cap;
    char data[];
} chunk;

struct aura_events_interner {
    const aura_allocator *alloc;
    const char **names;   /* id -> NUL-terminated name */
    uint32_t *lens;       /* id -> length */
    uint64_t *hashes;     /* id -> hash */
    uint32_t count, names_cap;
    uint32_t *table;      /* slot -> id + 1 (0 = empty) */
    uint32_t table_cap;   /* power of two */
    chunk *chunks;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

aura_status aura_events_interner_create(const aura_allocator *alloc, aura_events_interner **out)
{
    AURA_CHECK_ARG(out);
    aura_events_interner *in = aura__calloc(alloc, 1, sizeof *in);
    if (!in) {
        return AURA_E_NOMEM;
    }
    in->alloc = alloc;
    in->table_cap = 64;
    in->table = aura__calloc(alloc, in->table_cap, sizeof *in->table);
    if (!in->table) {
        aura_events_interner_destroy(in);
        return AURA_E_NOMEM;
    }
    *out = in;
    return AURA_OK;
}

void aura_events_interner_destroy(aura_events_interner *in)
{
    if (!in) {
        return;
    }
    for (chunk *c = in->chunks; c;) {
        chunk *next = c->next;
        aura__free(in->alloc, c);
        c = next;
    }
    aura__free(in->alloc, in->names);
    aura__free(in->alloc, in->lens);
    aura__free(in->alloc, in->hashes);
    aura__free(in->alloc, in->table);
    aura__free(in->alloc, in);
}

static uint32_t *probe(const aura_events_interner *in, const char *name, size_t len, uint64_t h)
{
    uint32_t mask = in->table_cap - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        uint32_t slot = in->table[i];
        if (slot == 0) {
            return &in->table[i];
        }
        uint32_t id = slot - 1;
        if (in->hashes[id] == h && in->lens[id] == len && memcmp(in->names[id], name, len) == 0) {
            return &in->table[i];
        }
    }
}

aura_status aura_events_interner_find(const aura_events_interner *in, const char *name, size_t len,
                                      uint32_t *id)
{
    AURA_CHECK_ARG(in && name && id);
    uint32_t *slot = probe(in, name, len, hash_bytes(name, len));
    if (*slot == 0) {
        return AURA_E_NOTFOUND;
    }
    *id = *slot - 1;
    return AURA_OK;
}

static aura_status grow_table(aura_events_interner *in)
{
    uint32_t new_cap = in->table_cap * 2;
    uint32_t *t = aura__calloc(in->alloc, new_cap, sizeof *t);
    if (!t) {
        return AURA_E_NOMEM;
    }
    for (uint32_t id = 0; id < in->count; id++) {
        uint32_t i = (uint32_t)in->hashes[id] & (new_cap - 1);
        while (t[i]) {
            i = (i + 1) & (new_cap - 1);
        }
        t[i] = id + 1;
    }
    aura__free(in->alloc, in->table);
    in->table = t;
    in->table_cap = new_cap;
    return AURA_OK;
}

static aura_status grow_names(aura_events_interner *in)
{
    uint32_t cap = in->names_cap ? in->names_cap * 2 : 64;
    const char **names = aura__realloc_array(in->alloc, in->names, cap, sizeof *names);
    if (!names) {
        return AURA_E_NOMEM;
    }
    in->names = names;
    uint32_t *lens = aura__realloc_array(in->alloc, in->lens, cap, sizeof *lens);
    if (!lens) {
        return AURA_E_NOMEM;
    }
    in->lens = lens;
    uint64_t *hashes = aura__realloc_array(in->alloc, in->hashes, cap, sizeof *hashes);
    if (!hashes) {
        return AURA_E_NOMEM;
    }
    in->hashes = hashes;
    in->names_cap = cap;
    return AURA_OK;
}

static char *store_name(aura_events_interner *in, const char *name, size_t len)
{
    chunk *c = in->chunks;
    if (!c || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > CHUNK_BYTES ? len + 1 : CHUNK_BYTES;
        c = aura__alloc(in->alloc, sizeof *c + cap);
        if (!c) {
            return NULL;
        }
        c->next = in->chunks;
        c->used = 0;
        c->cap = cap;
        in->chunks = c;
    }
    char *p = c->data + c->used;
    memcpy(p, name, len);
    p[len] = '\0';
    c->used += len + 1;
    return p;
}

aura_status aura_events_interner_intern(aura_events_interner *in, const char *name, size_t len,
                                        uint32_t *id)
{
    AURA_CHECK_ARG(in && name && id);
    if (len == 0 || len > AURA_EVENTS_MAX_ID_LEN || memchr(name, '\0', len)) {
        return AURA_E_RANGE;
    }
    uint64_t h = hash_bytes(name, len);
    uint32_t *slot = probe(in, name, len, h);
    if (*slot) {
        *id = *slot - 1;
        return AURA_OK;
    }
    if (in->count == AURA_EVENTS_NO_AGENT - 1) {
        return AURA_E_FULL;
    }
    /* Keep the load factor under 1/2; re-probe after growing. */
    if ((in->count + 1) * 2 > in->table_cap) {
        aura_status st = grow_table(in);
        if (st != AURA_OK) {
            return st;
        }
        slot = probe(in, name, len, h);
    }
    if (in->count == in->names_cap) {
        aura_status st = grow_names(in);
        if (st != AURA_OK) {
            return st;
        }
    }
    char *copy = store_name(in, name, len);
    if (!copy) {
        return AURA_E_NOMEM;
    }
    uint32_t new_id = in->count++;
    in->names[new_id] = copy;
    in->lens[new_id] = (uint32_t)len;
    in->hashes[new_id] = h;
    *slot = new_id + 1;
    *id = new_id;
    return AURA_OK;
}

const char *aura_events_interner_name(const aura_events_interner *in, uint32_t id)
{
    if (!in || id >= in->count) {
        return NULL;
    }
    return in->names[id];
}

uint32_t aura_events_interner_count(const aura_events_interner *in)
{
    return in ? in->count : 0;
}
