/* fuzz_events_jsonl.c -- libFuzzer target for the JSON-lines event reader:
 * any bytes, read as a stream, must give events or located errors, and
 * every accepted event must format and re-parse to itself.
 * Build and run: make fuzz (FUZZ_SECONDS=60 by default).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/events.h"
#include "aura/log.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        aura_log_set_level(AURA_LOG_OFF);
        quiet = 1;
    }
    if (size == 0) {
        return 0;
    }
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) {
        return 0;
    }
    aura_events_interner *agents = NULL;
    aura_events_reader *r = NULL, *r2 = NULL;
    aura_events_jsonl_opts o = aura_events_jsonl_opts_default();
    o.max_line = 4096;
    if (aura_events_interner_create(NULL, &agents) != AURA_OK ||
        aura_events_reader_create(&o, agents, &r) != AURA_OK ||
        aura_events_reader_create(&o, agents, &r2) != AURA_OK) {
        abort();
    }
    aura_events_event ev[16];
    size_t n;
    char line[8192];
    while (aura_events_reader_read(r, f, ev, 16, &n) == AURA_OK && n > 0) {
        for (size_t i = 0; i < n; i++) {
            size_t len;
            aura_events_event back;
            const char *meta = aura_events_reader_meta(r, ev[i].meta, NULL);
            if (aura_events_event_format(&ev[i], agents, meta, line, sizeof line, &len) != AURA_OK) {
                continue; /* meta larger than the buffer */
            }
            if (aura_events_reader_parse_line(r2, line, len - 1, &back) != AURA_OK) {
                abort();
            }
            back.meta = ev[i].meta;
            if (memcmp(&back, &ev[i], sizeof back) != 0) {
                abort();
            }
        }
    }
    aura_events_reader_destroy(r2);
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(agents);
    fclose(f);
    return 0;
}
