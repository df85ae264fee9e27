/* test_core.c -- status strings, allocator plumbing, RNG determinism.
 * SPDX-License-Identifier: MIT */
#include "test.h"

#include "../../src/core/core_int.h"

AURA_TEST(core_status_strings_are_never_null)
{
    ASSERT_STREQ("ok", aura_status_str(AURA_OK));
    ASSERT_STREQ("malformed input", aura_status_str(AURA_E_FORMAT));
    ASSERT_STREQ("AURA_E_NOMEM", aura_status_name(AURA_E_NOMEM));
    ASSERT_STREQ("unknown status", aura_status_str((aura_status)-999));
    for (int s = 0; s >= -16; s--) {
        ASSERT_TRUE(aura_status_str((aura_status)s) != NULL);
        ASSERT_TRUE(strncmp(aura_status_name((aura_status)s), "AURA_", 5) == 0);
    }
}

AURA_TEST(core_alloc_array_rejects_overflow)
{
    ASSERT_TRUE(aura__alloc_array(NULL, SIZE_MAX / 2, 4) == NULL);
    void *p = aura__alloc_array(NULL, 10, 4);
    ASSERT_TRUE(p != NULL);
    aura__free(NULL, p);
    aura__free(NULL, NULL);
}

AURA_TEST(core_failing_alloc_counts_and_fails)
{
    const aura_allocator *a = test_failing_alloc(2);
    void *p0 = aura__alloc(a, 8);
    void *p1 = aura__alloc(a, 8);
    void *p2 = aura__alloc(a, 8);
    ASSERT_TRUE(p0 && p1);
    ASSERT_TRUE(p2 == NULL);
    ASSERT_EQ(2, test_alloc_live_blocks());
    aura__free(a, p0);
    aura__free(a, p1);
    ASSERT_EQ(0, test_alloc_live_blocks());
}

AURA_TEST(core_rng_is_deterministic_and_uniform)
{
    aura_rng a, b;
    aura_rng_init(&a, 42);
    aura_rng_init(&b, 42);
    for (int i = 0; i < 1000; i++) {
        ASSERT_EQ(aura_rng_u64(&a), aura_rng_u64(&b));
    }
    aura_rng_init(&b, 43);
    ASSERT_NE(aura_rng_u64(&a), aura_rng_u64(&b));
    double sum = 0, sum2 = 0;
    int counts[10] = {0};
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = aura_rng_uniform(&a);
        ASSERT_TRUE(u >= 0.0 && u < 1.0);
        counts[aura_rng_below(&a, 10)]++;
        double z = aura_rng_normal(&a);
        sum += z;
        sum2 += z * z;
    }
    for (int k = 0; k < 10; k++) {
        ASSERT_NEAR(counts[k], n / 10, 5 * sqrt(n * 0.09));
    }
    ASSERT_NEAR(sum / n, 0.0, 0.02);
    ASSERT_NEAR(sum2 / n, 1.0, 0.02);
    ASSERT_EQ(0, aura_rng_below(&a, 0));
}

static int g_sink_calls;
static void count_sink(void *ctx, aura_log_level level, const char *msg)
{
    (void)ctx;
    (void)level;
    ASSERT_STREQ("x=3", msg);
    g_sink_calls++;
}

AURA_TEST(core_log_respects_level_and_sink)
{
    aura_log_set_sink(count_sink, NULL);
    aura_log_set_level(AURA_LOG_WARN);
    aura_log(AURA_LOG_INFO, "x=%d", 3);
    ASSERT_EQ(0, g_sink_calls);
    aura_log(AURA_LOG_ERROR, "x=%d", 3);
    ASSERT_EQ(1, g_sink_calls);
    aura_log_set_sink(NULL, NULL);
}
