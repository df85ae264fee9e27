/* test_lnn.c -- the lnn module against the ncps golden files
 * (../shared/golden/lnn): outputs and states within 1e-5, wirings
 * bit-exact, save/reload round trips, and bad input.
 * SPDX-License-Identifier: MIT */
#include <cJSON.h>

#include "aura/lnn.h"
#include "test.h"

#define MAX_FILES 64

/* The golden file names listed in index.json. */
static int golden_files(char names[MAX_FILES][128])
{
    const char *p = test_path("%s/golden/lnn/index.json", test_shared_dir());
    FILE *f = fopen(p, "rb");
    if (!f) {
        AURA_SKIP("no golden lnn files");
    }
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *root = cJSON_Parse(buf);
    ASSERT_TRUE(cJSON_IsArray(root));
    int k = 0;
    for (cJSON *it = root->child; it && k < MAX_FILES; it = it->next) {
        cJSON *fn = cJSON_GetObjectItem(it, "file");
        ASSERT_TRUE(cJSON_IsString(fn));
        snprintf(names[k++], 128, "%s", fn->valuestring);
    }
    cJSON_Delete(root);
    ASSERT_TRUE(k >= 16);
    return k;
}

static const char *golden(const char *file)
{
    return test_path("%s/golden/lnn/%s", test_shared_dir(), file);
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) {
            m = d;
        }
    }
    return m;
}

/* Runs `m` on the io.* tensors of `t`; checks outputs, final states and
 * the per-step states of debug.h_seq/c_seq; returns the largest error. */
static double check_against(aura_lnn_model *m, const aura_lnn_tensors *t, const char *file)
{
    size_t sh[4], so[4], sd[4];
    int nd;
    const float *x = aura_lnn_tensors_get(t, "io.input", sh, &nd);
    const float *h0 = aura_lnn_tensors_get(t, "io.h0", NULL, NULL);
    const float *c0 = aura_lnn_tensors_get(t, "io.c0", NULL, NULL);
    const float *ts = aura_lnn_tensors_get(t, "io.timespans", NULL, NULL);
    const float *yo = aura_lnn_tensors_get(t, "io.output", so, NULL);
    const float *hn = aura_lnn_tensors_get(t, "io.hn", NULL, NULL);
    const float *cn = aura_lnn_tensors_get(t, "io.cn", NULL, NULL);
    const float *hseq = aura_lnn_tensors_get(t, "debug.h_seq", sd, NULL);
    ASSERT_TRUE(x && h0 && yo && hn && hseq && nd == 3);
    aura_lnn_info info;
    aura_lnn_model_get_info(m, &info);
    size_t B = sh[0], L = sh[1], H = (size_t)info.state_size, O = (size_t)info.output_size;
    ASSERT_EQ(sh[2], info.input_size);
    ASSERT_EQ(so[2], O);
    ASSERT_EQ(sd[2], H);
    float *h = malloc(B * H * 4), *c = malloc(B * H * 4), *y = malloc(B * L * O * 4);
    memcpy(h, h0, B * H * 4);
    if (c0) {
        memcpy(c, c0, B * H * 4);
    }
    ASSERT_OK(aura_lnn_model_run(m, B, L, x, ts, h, c0 ? c : NULL, y));
    double e = max_diff(y, yo, B * L * O);
    double eh = max_diff(h, hn, B * H);
    e = eh > e ? eh : e;
    if (cn) {
        double ec = max_diff(c, cn, B * H);
        e = ec > e ? ec : e;
    }
    /* step by step against debug.h_seq (batch at once, dt per sample) */
    memcpy(h, h0, B * H * 4);
    if (c0) {
        memcpy(c, c0, B * H * 4);
    }
    float *xs = malloc(B * sh[2] * 4), dts[64], *ys = malloc(B * O * 4);
    for (size_t s = 0; s < L; s++) {
        for (size_t b = 0; b < B; b++) {
            memcpy(xs + b * sh[2], x + (b * L + s) * sh[2], sh[2] * 4);
            dts[b] = ts ? ts[b * L + s] : 1.0f;
        }
        ASSERT_OK(aura_lnn_model_step(m, B, xs, dts, h, c0 ? c : NULL, ys));
        for (size_t b = 0; b < B; b++) {
            double d = max_diff(h + b * H, hseq + (b * L + s) * H, H);
            e = d > e ? d : e;
            d = max_diff(ys + b * O, yo + (b * L + s) * O, O);
            e = d > e ? d : e;
        }
    }
    fprintf(stderr, "%-28s max |diff| %.3g\n", file, e);
    free(h);
    free(c);
    free(y);
    free(xs);
    free(ys);
    return e;
}

AURA_TEST(lnn_golden_outputs_match_ncps)
{
    char names[MAX_FILES][128];
    int n = golden_files(names);
    for (int i = 0; i < n; i++) {
        char err[256] = "";
        aura_lnn_tensors *t = NULL;
        aura_lnn_model *m = NULL;
        ASSERT_OK(aura_lnn_tensors_load(NULL, golden(names[i]), &t, err, sizeof err));
        aura_status st = aura_lnn_model_load(NULL, golden(names[i]), &m, err, sizeof err);
        if (st != AURA_OK) {
            AURA_FAIL_("%s: %s", names[i], err);
        }
        double e = check_against(m, t, names[i]);
        ASSERT_TRUE(e <= 1e-5);
        aura_lnn_model_destroy(m);
        aura_lnn_tensors_destroy(t);
    }
}

AURA_TEST(lnn_wirings_match_ncps_bit_exactly)
{
    char names[MAX_FILES][128];
    int n = golden_files(names), checked = 0;
    for (int i = 0; i < n; i++) {
        char err[256] = "";
        aura_lnn_tensors *t = NULL;
        ASSERT_OK(aura_lnn_tensors_load(NULL, golden(names[i]), &t, err, sizeof err));
        size_t sa[4], ss[4];
        const float *adj = aura_lnn_tensors_get(t, "wiring.adjacency_matrix", sa, NULL);
        const float *sens = aura_lnn_tensors_get(t, "wiring.sensory_adjacency_matrix", ss, NULL);
        if (!adj) {
            aura_lnn_tensors_destroy(t);
            continue;
        }
        aura_lnn_model *m = NULL;
        ASSERT_OK(aura_lnn_model_load(NULL, golden(names[i]), &m, err, sizeof err));
        const aura_lnn_config *cfg = aura_lnn_model_config(m);
        int N = 0, ls[AURA_LNN_MAX_LAYERS], nl = 0;
        ASSERT_OK(aura_lnn_wiring_generate(&cfg->wiring, cfg->input_size, &N, NULL, NULL, ls, &nl));
        ASSERT_EQ(N, sa[0]);
        ASSERT_EQ(cfg->input_size, ss[0]);
        float *a = calloc((size_t)N * N, 4), *s = calloc(ss[0] * (size_t)N, 4);
        ASSERT_OK(aura_lnn_wiring_generate(&cfg->wiring, cfg->input_size, &N, a, s, NULL, NULL));
        ASSERT_TRUE(memcmp(a, adj, (size_t)N * N * 4) == 0);
        ASSERT_TRUE(memcmp(s, sens, ss[0] * (size_t)N * 4) == 0);
        /* a freshly created model carries the same masks as the file */
        aura_lnn_model *f = NULL;
        ASSERT_OK(aura_lnn_model_create(NULL, cfg, 7, &f));
        for (size_t k = 0; k < aura_lnn_model_param_count(m); k++) {
            const char *pn = aura_lnn_model_param_name(m, k);
            if (!strstr(pn, "sparsity_mask")) {
                continue;
            }
            size_t n1 = 0, n2 = 0;
            const float *p1 = aura_lnn_model_param(m, pn, &n1);
            const float *p2 = aura_lnn_model_param(f, pn, &n2);
            ASSERT_TRUE(p1 && p2 && n1 == n2);
            ASSERT_TRUE(memcmp(p1, p2, n1 * 4) == 0);
        }
        free(a);
        free(s);
        checked++;
        aura_lnn_model_destroy(f);
        aura_lnn_model_destroy(m);
        aura_lnn_tensors_destroy(t);
    }
    ASSERT_TRUE(checked >= 5);
}
