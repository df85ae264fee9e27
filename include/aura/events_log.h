/* events_log.h -- the raw event log: agent events appended as JSON lines to
 * rotated, zstd-compressed files, replayable with `aura events cat` (which
 * reads .zst transparently) into `aura monitor`.  Off by default; the
 * monitor and the CLI enable it on request.
 *
 * Files: <dir>/events-<UTC yyyymmdd-HHMMSS>-<seq>.jsonl.zst, each a complete
 * zstd frame with a content checksum, so damage is detected on replay.  A file is finished (its frame closed) when it reaches
 * max_bytes of uncompressed JSON, on aura_events_log_rotate and on destroy.
 * After a crash the file being written ends mid-frame: its complete blocks
 * are still readable (the reader reports the truncation) — call
 * aura_events_log_flush to bound what a crash can lose.
 * Threads: one writer per log object.
 * SPDX-License-Identifier: MIT */
#ifndef AURA_EVENTS_LOG_H
#define AURA_EVENTS_LOG_H

#include <stddef.h>
#include <stdio.h>

#include "aura/events.h"

typedef struct aura_events_log_opts {
    const aura_allocator *alloc; /* NULL = default */
    size_t max_bytes;            /* rotate after this much JSON (default 64 MiB) */
    int level;                   /* zstd level 1..19 (default 3) */
} aura_events_log_opts;

AURA_API aura_events_log_opts aura_events_log_opts_default(void);

typedef struct aura_events_log aura_events_log;

/* Opens a log in `dir` (created if missing).  `agents` (borrowed and kept)
 * names the agents of appended events.  AURA_E_IO if dir cannot be used. */
AURA_API aura_status aura_events_log_open(const char *dir, const aura_events_log_opts *opts,
                                          const aura_events_interner *agents,
                                          aura_events_log **out);

/* Finishes the current file and frees the log.  NULL is a no-op. */
AURA_API void aura_events_log_destroy(aura_events_log *log);

/* Appends n events (meta text per event may be given in metas, or NULL). */
AURA_API aura_status aura_events_log_append(aura_events_log *log, const aura_events_event *ev,
                                            const char *const *metas, size_t n);

/* Flushes compressed data written so far to the file (a zstd block
 * boundary), so a crash loses nothing appended before it. */
AURA_API aura_status aura_events_log_flush(aura_events_log *log);

/* Finishes the current file; the next append starts a new one. */
AURA_API aura_status aura_events_log_rotate(aura_events_log *log);

/* Path of the file being written, or "" before the first append. */
AURA_API const char *aura_events_log_path(const aura_events_log *log);
AURA_API const char *aura_events_log_errmsg(const aura_events_log *log);

/* Opens `path` for reading ("-" = stdin), decompressing on the fly when the
 * file starts with the zstd magic number; plain files are read as they
 * are.  The FILE is read-only; fclose() it.  A damaged or truncated zstd
 * stream reads as end of file after its last complete block, with errno
 * set to EIO and a message in aura_events_open_errmsg().  NULL with errno
 * on failure to open. */
AURA_API FILE *aura_events_open_file(const char *path);
AURA_API const char *aura_events_open_errmsg(void);

#endif /* AURA_EVENTS_LOG_H */
