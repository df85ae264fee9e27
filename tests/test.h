/* test.h -- AURA's small test harness (after libuv's task.h).
 *
 * AURA_TEST(name) { ... } defines and registers a test; run_tests runs each
 * one in a forked child with a timeout, so a crash fails only that test.
 * Assertions print both operands and the location, then end the child.
 * AURA_SKIP("why") ends a test as skipped (exit 77).
 * SPDX-License-Identifier: MIT */
#ifndef AURA_TEST_H
#define AURA_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "aura/aura.h"

typedef void (*aura_test_fn)(void);
void aura_test_register(const char *name, aura_test_fn fn, const char *file);

#define AURA_TEST(name)                                                \
    static void aura_test_##name(void);                                \
    __attribute__((constructor)) static void aura_test_reg_##name(void) \
    {                                                                  \
        aura_test_register(#name, aura_test_##name, __FILE__);         \
    }                                                                  \
    static void aura_test_##name(void)

#define AURA_TEST_SKIP_CODE 77

#define AURA_FAIL_(...)                                             \
    do {                                                            \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);             \
        fprintf(stderr, __VA_ARGS__);                               \
        fputc('\n', stderr);                                        \
        exit(1);                                                    \
    } while (0)

#define AURA_SKIP(why)                                              \
    do {                                                            \
        fprintf(stderr, "skipped: %s\n", (why));                    \
        exit(AURA_TEST_SKIP_CODE);                                  \
    } while (0)

#define ASSERT_TRUE(x)                                              \
    do {                                                            \
        if (!(x)) AURA_FAIL_("assertion failed: %s", #x);           \
    } while (0)

#define ASSERT_EQ(a, b)                                                        \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_) AURA_FAIL_("%s == %s failed: %lld != %lld", #a, #b, a_, b_); \
    } while (0)

#define ASSERT_NE(a, b)                                                        \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ == b_) AURA_FAIL_("%s != %s failed: both %lld", #a, #b, a_);    \
    } while (0)

#define ASSERT_NEAR(a, b, tol)                                                 \
    do {                                                                       \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);         \
        if (!(fabs(a_ - b_) <= t_))                                            \
            AURA_FAIL_("|%s - %s| <= %g failed: %.17g vs %.17g", #a, #b, t_, a_, b_); \
    } while (0)

#define ASSERT_STREQ(a, b)                                                     \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                 \
            AURA_FAIL_("%s == %s failed: \"%s\" != \"%s\"", #a, #b,            \
                       a_ ? a_ : "(null)", b_ ? b_ : "(null)");                \
    } while (0)

#define ASSERT_STATUS(expected, expr)                                          \
    do {                                                                       \
        aura_status e_ = (expected), s_ = (expr);                              \
        if (e_ != s_)                                                          \
            AURA_FAIL_("%s returned %s (%s), expected %s", #expr,              \
                       aura_status_name(s_), aura_status_str(s_), aura_status_name(e_)); \
    } while (0)

#define ASSERT_OK(expr) ASSERT_STATUS(AURA_OK, expr)

/* Where the shared reference data lives: $AURA_SHARED, else ../shared
 * beside the source tree. */
const char *test_shared_dir(void);

/* The release CLI binary for end-to-end tests: $AURA_BIN, else the one
 * built beside the tests. */
const char *test_aura_bin(void);

/* snprintf into a static rotating buffer; handy for paths. */
const char *test_path(const char *fmt, ...);

/* A fresh temporary directory, removed at exit of the test process. */
const char *test_tmpdir(void);

/* The whole file at path, NUL-terminated, malloc'd (the caller frees);
 * its length in *len if len is not NULL.  NULL if it cannot be read. */
char *test_read_file(const char *path, size_t *len);

/* Failure injection: an allocator whose `fail_at`-th call (0-based) and
 * every later one fail when `fail_all_after` is set, or only that one
 * call otherwise; -1 never fails.  Counts live blocks. */
const aura_allocator *test_failing_alloc(long fail_at);
long test_alloc_live_blocks(void);
long test_alloc_calls(void);

/* A private redis-server on 127.0.0.1:port with its files in dir (AOF
 * with appendfsync always if aof_always); fails the test if it does not
 * listen within 5 s.  $AURA_REDIS_SERVER overrides the binary.  Stop it
 * with test_redis_stop (SIGTERM, or SIGKILL if hard) before the test ends. */
int test_free_port(void);
int test_redis_start(int port, const char *dir, int aof_always);
void test_redis_stop(int pid, int hard);

#endif /* AURA_TEST_H */
