/* test_tda_fuzz.c -- seeded random-mutation fuzzing of every tda reader:
 * valid seeds are mutated (byte flips, insertions of interesting bytes and
 * tokens, deletions, truncations, duplications); each reader must either
 * fail cleanly with a message or return an input the engine can compute.
 * SPDX-License-Identifier: MIT */
#include <stdint.h>

#include "aura/tda.h"
#include "test.h"

static const char *const tokens[] = {"nan", "inf", "-1", "1e99", "0x10", ",", " ", "\n",
                                     "\r\n", "99999999999", "2147483647", "-0", "1e-45", "#",
                                     "3.5", "\t", "", "0"};

static size_t mutate(aura_rng *rng, char *buf, size_t len, size_t cap)
{
    int rounds = 1 + (int)aura_rng_below(rng, 4);
    for (int r = 0; r < rounds; r++) {
        uint64_t what = aura_rng_below(rng, 6);
        size_t at = len ? (size_t)aura_rng_below(rng, len) : 0;
        if (what == 0 && len) { /* flip a byte */
            buf[at] = (char)aura_rng_below(rng, 256);
        } else if (what == 1) { /* insert a token */
            const char *t = tokens[aura_rng_below(rng, sizeof tokens / sizeof tokens[0])];
            size_t k = strlen(t);
            if (len + k < cap) {
                memmove(buf + at + k, buf + at, len - at);
                memcpy(buf + at, t, k);
                len += k;
            }
        } else if (what == 2 && len) { /* delete a run */
            size_t k = 1 + (size_t)aura_rng_below(rng, 8);
            k = k > len - at ? len - at : k;
            memmove(buf + at, buf + at + k, len - at - k);
            len -= k;
        } else if (what == 3) { /* truncate */
            len = at;
        } else if (what == 4 && len && 2 * len < cap) { /* duplicate */
            memcpy(buf + len, buf, len);
            len *= 2;
        } else if (len) { /* flip a bit */
            buf[at] = (char)(buf[at] ^ (1 << aura_rng_below(rng, 8)));
        }
    }
    return len;
}

static size_t seed_input(aura_tda_format f, char *buf)
{
    switch (f) {
    case AURA_TDA_FMT_DISTANCE:
        strcpy(buf, "0,1,2,3\n1,0,1.5,2\n2,1.5,0,1\n3,2,1,0\n");
        break;
    case AURA_TDA_FMT_LOWER:
        strcpy(buf, "1\n2 1.5\n3 2 1\n");
        break;
    case AURA_TDA_FMT_UPPER:
        strcpy(buf, "1 2 3\n1.5 2\n1\n");
        break;
    case AURA_TDA_FMT_POINT_CLOUD:
        strcpy(buf, "0 0\n1 0\n1 1\n0 1\n0.5 0.5\n");
        break;
    case AURA_TDA_FMT_SPARSE:
        strcpy(buf, "0 1 1\n1 2 1\n2 3 1\n3 0 1\n0 2 1.5\n");
        break;
    case AURA_TDA_FMT_BINARY: {
        float v[6] = {1, 2, 1.5f, 3, 2, 1};
        memcpy(buf, v, sizeof v);
        return sizeof v;
    }
    case AURA_TDA_FMT_DIPHA: {
        int64_t h[3] = {8067171840LL, 7, 3};
        double d[9] = {0, 1, 2, 1, 0, 1.5, 2, 1.5, 0};
        memcpy(buf, h, sizeof h);
        memcpy(buf + sizeof h, d, sizeof d);
        return sizeof h + sizeof d;
    }
    }
    return strlen(buf);
}

AURA_TEST(tda_fuzz_readers)
{
    aura_rng rng;
    aura_rng_init(&rng, 20261124);
    static char buf[1 << 14], err[256];
    long ok = 0, bad = 0;
    for (int f = 0; f <= (int)AURA_TDA_FMT_BINARY; f++) {
        for (int iter = 0; iter < 3000; iter++) {
            size_t len = seed_input((aura_tda_format)f, buf);
            len = mutate(&rng, buf, len, sizeof buf);
            aura_tda_input *in = NULL;
            err[0] = 'x';
            aura_status st =
                aura_tda_input_read((aura_tda_format)f, buf, len, "fuzz", NULL, &in, err, sizeof err);
            if (st != AURA_OK) {
                ASSERT_TRUE(in == NULL);
                ASSERT_TRUE(strncmp(err, "fuzz: ", 6) == 0); /* a message naming the source */
                bad++;
                continue;
            }
            ok++;
            aura_tda_input_shape sh = aura_tda_input_get_shape(in);
            if (sh.n <= 64 && sh.dim <= 64) {
                aura_tda_opts o = aura_tda_opts_default();
                o.max_dim = 2;
                aura_tda_result *r = NULL;
                st = aura_tda_input_compute(&o, in, &r);
                if (st != AURA_OK && st != AURA_E_NUMERIC) { /* NUMERIC: overflowing distances */
                    fwrite(buf, 1, len, stderr);
                    AURA_FAIL_("format %d: compute failed: %s", f, aura_status_name(st));
                }
                if (st == AURA_OK) {
                    size_t n = 0;
                    ASSERT_OK(aura_tda_result_pairs(r, 0, NULL, 0, &n));
                    ASSERT_TRUE(n >= 1 || sh.n == 0);
                }
                aura_tda_result_destroy(r);
            }
            aura_tda_input_destroy(in);
        }
    }
    ASSERT_TRUE(ok > 100 && bad > 100);
}
