/* test_util.c -- helpers shared by the tests: data paths, a temporary
 * directory, and the failure-injecting allocator.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

#ifndef AURA_TEST_SHARED_DIR
#define AURA_TEST_SHARED_DIR "../shared"
#endif
#ifndef AURA_TEST_BIN
#define AURA_TEST_BIN "build/aura"
#endif

const char *test_shared_dir(void)
{
    const char *e = getenv("AURA_SHARED");
    return e && *e ? e : AURA_TEST_SHARED_DIR;
}

const char *test_aura_bin(void)
{
    const char *e = getenv("AURA_BIN");
    return e && *e ? e : AURA_TEST_BIN;
}

const char *test_path(const char *fmt, ...)
{
    static char bufs[8][4096];
    static int k;
    char *b = bufs[k++ & 7];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

static char g_tmpdir[256];

static void remove_tmpdir(void)
{
    char cmd[300];
    if (g_tmpdir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmpdir);
        if (system(cmd) != 0) {
            fprintf(stderr, "warning: could not remove %s\n", g_tmpdir);
        }
    }
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) {
        buf[n] = '\0';
        if (len) {
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

const char *test_tmpdir(void)
{
    if (!g_tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(g_tmpdir, sizeof g_tmpdir, "%s/aura-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(g_tmpdir)) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(remove_tmpdir);
    }
    return g_tmpdir;
}

/* ---- failure-injecting allocator ---- */

static long g_fail_at = -1;
static long g_calls;
static long g_live;

static int should_fail(void)
{
    long c = g_calls++;
    return g_fail_at >= 0 && c >= g_fail_at;
}

static void *fail_malloc(void *ctx, size_t size)
{
    (void)ctx;
    if (should_fail()) {
        return NULL;
    }
    void *p = malloc(size ? size : 1);
    g_live += p != NULL;
    return p;
}

static void *fail_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (should_fail()) {
        return NULL;
    }
    void *p = realloc(ptr, size ? size : 1);
    g_live += (p != NULL && ptr == NULL);
    return p;
}

static void fail_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (ptr) {
        g_live--;
        free(ptr);
    }
}

static const aura_allocator g_failing = {fail_malloc, fail_realloc, fail_free, NULL};

const aura_allocator *test_failing_alloc(long fail_at)
{
    g_fail_at = fail_at;
    g_calls = 0;
    g_live = 0;
    return &g_failing;
}

long test_alloc_live_blocks(void)
{
    return g_live;
}

long test_alloc_calls(void)
{
    return g_calls;
}
