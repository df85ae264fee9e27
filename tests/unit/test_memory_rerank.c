/* test_memory_rerank.c -- diagrams in shape payloads and the re-ranking of
 * kNN candidates by diagram distance.
 * SPDX-License-Identifier: MIT */
#include <math.h>

#include "aura/memory.h"
#include "test.h"

AURA_TEST(memory_diagram_payload_round_trip_and_bad_bytes)
{
    aura_tda_interval d[] = {{0, 1.5}, {0.25, INFINITY}, {2, 2}};
    size_t need = 0, n = 0;
    ASSERT_OK(aura_memory_diagram_encode(d, 3, NULL, 0, &need));
    ASSERT_EQ(12 + 3 * 16, need);
    unsigned char buf[64];
    ASSERT_STATUS(AURA_E_RANGE, aura_memory_diagram_encode(d, 3, buf, 10, &need));
    ASSERT_OK(aura_memory_diagram_encode(d, 3, buf, sizeof buf, &need));
    aura_tda_interval back[3];
    ASSERT_OK(aura_memory_diagram_decode(buf, need, NULL, 0, &n));
    ASSERT_EQ(3, n);
    ASSERT_OK(aura_memory_diagram_decode(buf, need, back, 3, &n));
    ASSERT_TRUE(memcmp(d, back, sizeof d) == 0);
    ASSERT_STATUS(AURA_E_FORMAT, aura_memory_diagram_decode(buf, need - 1, back, 3, &n));
    ASSERT_STATUS(AURA_E_FORMAT, aura_memory_diagram_decode("nope", 4, back, 3, &n));
    aura_tda_interval bad[] = {{3, 1}};
    ASSERT_STATUS(AURA_E_INVAL, aura_memory_diagram_encode(bad, 1, buf, sizeof buf, &need));
    /* A flipped byte never decodes into an invalid diagram. */
    aura_rng rng;
    aura_rng_init(&rng, 8);
    ASSERT_OK(aura_memory_diagram_encode(d, 3, buf, sizeof buf, &need));
    for (int i = 0; i < 2000; i++) {
        unsigned char m[64];
        memcpy(m, buf, need);
        m[aura_rng_below(&rng, need)] ^= (unsigned char)(1u << aura_rng_below(&rng, 8));
        aura_status st = aura_memory_diagram_decode(m, need, back, 3, &n);
        ASSERT_TRUE(st == AURA_OK || st == AURA_E_FORMAT);
        if (st == AURA_OK) {
            ASSERT_OK(aura_tda_diagram_check(back, n, NULL));
        }
    }
}

AURA_TEST(memory_rerank_orders_by_diagram_distance)
{
    aura_tda_interval q[] = {{0, 4}};
    aura_tda_interval far[] = {{0, 10}}, near[] = {{0, 4.5}}, same[] = {{0, 4}};
    aura_memory_rerank_item items[] = {{11, far, 1, -1}, {12, near, 1, -1}, {13, same, 1, -1},
                                       {14, NULL, 0, -1}, {15, same, 1, -1}};
    ASSERT_OK(aura_memory_rerank_by_diagram(NULL, q, 1, items, 5));
    static const int64_t order[] = {13, 15, 12, 14, 11};
    static const double dist[] = {0, 0, 0.5, 2, 5}; /* far: both to the diagonal, max(2, 5) */
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(order[i], items[i].id);
        ASSERT_NEAR(dist[i], items[i].distance, 1e-15);
    }
    aura_tda_distance_opts o = aura_tda_distance_opts_default();
    o.metric = AURA_TDA_WASSERSTEIN;
    o.order = 2;
    ASSERT_OK(aura_memory_rerank_by_diagram(&o, q, 1, items, 5));
    ASSERT_EQ(13, items[0].id);
    /* A bad diagram: an error, and the items stay as they were. */
    aura_tda_interval broken[] = {{5, 1}};
    aura_memory_rerank_item before[5];
    memcpy(before, items, sizeof items);
    items[4].diagram = broken;
    items[4].n = 1;
    before[4] = items[4];
    ASSERT_STATUS(AURA_E_INVAL, aura_memory_rerank_by_diagram(NULL, q, 1, items, 5));
    ASSERT_TRUE(memcmp(before, items, sizeof items) == 0);
    ASSERT_OK(aura_memory_rerank_by_diagram(NULL, q, 1, NULL, 0));
}
