/* buf.c -- the growable byte buffer of the events module, and JSON string
 * escaping for the writers (output only; parsing is simdjson's job).
 * SPDX-License-Identifier: MIT */
#include <string.h>

#include "core/core_int.h"
#include "events_int.h"

aura_status aura__events_buf_reserve(aura__events_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra) {
        return AURA_OK;
    }
    if (extra > SIZE_MAX / 2 - b->len) {
        return AURA_E_NOMEM;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        cap *= 2;
    }
    char *p = aura__realloc(b->alloc, b->p, cap);
    if (!p) {
        return AURA_E_NOMEM;
    }
    b->p = p;
    b->cap = cap;
    return AURA_OK;
}

aura_status aura__events_buf_append(aura__events_buf *b, const void *data, size_t n)
{
    aura_status st = aura__events_buf_reserve(b, n);
    if (st == AURA_OK && n) {
        memcpy(b->p + b->len, data, n);
        b->len += n;
    }
    return st;
}

void aura__events_buf_fini(aura__events_buf *b)
{
    aura__free(b->alloc, b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

aura_status aura__events_json_put_string(aura__events_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case: every byte becomes \u00XX. */
    if (n > (SIZE_MAX - 2) / 6) {
        return AURA_E_NOMEM;
    }
    aura_status st = aura__events_buf_reserve(b, 6 * n + 2);
    if (st != AURA_OK) {
        return st;
    }
    char *o = b->p + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            *o++ = '\\';
            switch (c) {
            case '\n': *o++ = 'n'; break;
            case '\t': *o++ = 't'; break;
            case '\r': *o++ = 'r'; break;
            default:
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 15];
            }
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
    return AURA_OK;
}
