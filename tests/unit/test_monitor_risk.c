/* test_monitor_risk.c -- the learned risk model: save/load round trip,
 * probabilities under adversarial features, training lowers the loss, a
 * trained model beats a constant predictor on held-out simulations, bad
 * model files give clear errors, and the CLI wiring.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "aura/lnn.h"
#include "aura/monitor_risk.h"
#include "test.h"

#define NA AURA_MONITOR_AGENT_FEATURES
#define NS AURA_MONITOR_SYSTEM_FEATURES

static uint64_t rs = 12345;
static float frand(void)
{
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rs >> 40) & 0xFFFFFF) / (float)0x1000000;
}

/* n agents x ticks of features (a drifting load and errors), scored by r. */
static void score_seq(aura_monitor_risk_cfc *r, uint32_t n, int ticks, uint64_t seed, float *out)
{
    rs = seed;
    aura_monitor_model mm = aura_monitor_risk_cfc_model(r);
    float *f = calloc((size_t)n * NA, sizeof(float)), sys[NS];
    ASSERT_TRUE(f != NULL);
    for (int t = 0; t < ticks; t++) {
        for (size_t k = 0; k < (size_t)n * NA; k++) {
            f[k] = frand() * (1.0f + 0.05f * (float)t);
        }
        for (int k = 0; k < NS; k++) {
            sys[k] = frand() * 3.0f;
        }
        sys[0] = (float)n;
        float sr = -1.0f;
        ASSERT_OK(mm.score(mm.ctx, f, n, sys, &out[(size_t)t * n], &sr));
        ASSERT_TRUE(sr >= 0.0f && sr <= 1.0f);
    }
    free(f);
}

AURA_TEST(monitor_risk_save_load_roundtrip_identical)
{
    aura_monitor_risk_cfc *a = NULL, *b = NULL;
    ASSERT_OK(aura_monitor_risk_cfc_create(NULL, NULL, 7, &a));
    const char *path = test_path("%s/risk.safetensors", test_tmpdir());
    ASSERT_OK(aura_monitor_risk_cfc_save(a, path));
    char err[256] = "";
    ASSERT_OK(aura_monitor_risk_cfc_load(NULL, path, &b, err, sizeof err));
    ASSERT_EQ(aura_monitor_risk_cfc_horizon(b), 10);
    ASSERT_EQ(aura_monitor_risk_cfc_n_params(a), aura_monitor_risk_cfc_n_params(b));
    enum { N = 13, T = 12 };
    float ra[N * T], rb[N * T];
    score_seq(a, N, T, 99, ra);
    score_seq(b, N, T, 99, rb);
    ASSERT_TRUE(memcmp(ra, rb, sizeof ra) == 0);
    /* reset gives the same sequence again; a different model differs */
    aura_monitor_risk_cfc_reset(b);
    score_seq(b, N, T, 99, rb);
    ASSERT_TRUE(memcmp(ra, rb, sizeof ra) == 0);
    aura_monitor_risk_cfc *c = NULL;
    ASSERT_OK(aura_monitor_risk_cfc_create(NULL, NULL, 8, &c));
    score_seq(c, N, T, 99, rb);
    ASSERT_TRUE(memcmp(ra, rb, sizeof ra) != 0);
    aura_monitor_risk_cfc_destroy(a);
    aura_monitor_risk_cfc_destroy(b);
    aura_monitor_risk_cfc_destroy(c);
}

AURA_TEST(monitor_risk_probabilities_under_adversarial_features)
{
    aura_monitor_risk_cfc *r = NULL;
    ASSERT_OK(aura_monitor_risk_cfc_create(NULL, NULL, 3, &r));
    aura_monitor_model mm = aura_monitor_risk_cfc_model(r);
    const float bad[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 1e-40f, -0.0f, 3.4e38f};
    enum { N = 40 };
    float f[N * NA], sys[NS], risk[N];
    for (int t = 0; t < 30; t++) {
        for (int k = 0; k < N * NA; k++) {
            f[k] = bad[(k * 7 + t) % 8];
        }
        for (int k = 0; k < NA; k++) {
            f[(N - 1) * NA + k] = 0.0f; /* an agent not seen yet */
        }
        for (int k = 0; k < NS; k++) {
            sys[k] = bad[(k + t) % 8];
        }
        float sr = -1.0f;
        ASSERT_OK(mm.score(mm.ctx, f, t < 10 ? N / 2 : N, sys, risk, &sr));
        for (int i = 0; i < (t < 10 ? N / 2 : N); i++) {
            ASSERT_TRUE(risk[i] >= 0.0f && risk[i] <= 1.0f); /* false for NaN */
        }
        ASSERT_TRUE(risk[N - 1] == 0.0f || t < 10);
        ASSERT_TRUE(sr >= 0.0f && sr <= 1.0f);
    }
    aura_monitor_risk_cfc_destroy(r);
}

static aura_monitor_risk_train_opts tiny_opts(void)
{
    aura_monitor_risk_train_opts o = aura_monitor_risk_train_opts_default();
    o.seed = 5;
    o.runs = 4;
    o.val_runs = 1;
    o.ticks = 80;
    o.min_agents = 30;
    o.max_agents = 50;
    o.max_seq_per_run = 16;
    o.epochs = 4;
    o.batch = 8;
    o.chunk = 20;
    o.model.units = 8;
    o.model.backbone_units = 16;
    return o;
}

AURA_TEST(monitor_risk_training_reduces_loss_and_roundtrips)
{
    aura_monitor_risk_train_opts o = tiny_opts();
    aura_monitor_risk_cfc *r = NULL;
    aura_monitor_risk_train_result res;
    ASSERT_OK(aura_monitor_risk_train(&o, &r, &res));
    ASSERT_TRUE(res.samples > 1000);
    ASSERT_TRUE(res.positive_share > 0.0 && res.positive_share < 0.5);
    ASSERT_TRUE(isfinite(res.first_loss) && isfinite(res.last_loss));
    ASSERT_TRUE(res.last_loss < 0.9 * res.first_loss);
    /* a trained model (with normalisation statistics) round-trips exactly */
    const char *path = test_path("%s/trained.safetensors", test_tmpdir());
    ASSERT_OK(aura_monitor_risk_cfc_save(r, path));
    aura_monitor_risk_cfc *b = NULL;
    ASSERT_OK(aura_monitor_risk_cfc_load(NULL, path, &b, NULL, 0));
    enum { N = 9, T = 8 };
    float ra[N * T], rb[N * T];
    aura_monitor_risk_cfc_reset(r);
    score_seq(r, N, T, 4, ra);
    score_seq(b, N, T, 4, rb);
    ASSERT_TRUE(memcmp(ra, rb, sizeof ra) == 0);
    aura_monitor_risk_cfc_destroy(b);
    aura_monitor_risk_cfc_destroy(r);
    /* same seed, same model */
    aura_monitor_risk_cfc *r2 = NULL;
    aura_monitor_risk_train_result res2;
    ASSERT_OK(aura_monitor_risk_train(&o, &r2, &res2));
    ASSERT_TRUE(res2.first_loss == res.first_loss && res2.last_loss == res.last_loss);
    aura_monitor_risk_cfc_destroy(r2);
    o.epochs = 0;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_risk_train(&o, &r2, NULL));
}

AURA_TEST(monitor_risk_training_closed_loop_and_dagger)
{
    /* half the runs with the rule monitor acting, then a round with the
     * model itself acting: seeded (same result twice), and the data differ
     * from the open-loop runs' (the interventions change the outcomes) */
    aura_monitor_risk_train_opts o = tiny_opts();
    o.epochs = 2;
    aura_monitor_risk_train_result open, cl, cl2;
    aura_monitor_risk_cfc *r = NULL, *r2 = NULL;
    ASSERT_OK(aura_monitor_risk_train(&o, &r, &open));
    aura_monitor_risk_cfc_destroy(r);
    o.closed_loop = 0.5;
    o.dagger_epochs = 2;
    ASSERT_OK(aura_monitor_risk_train(&o, &r, &cl));
    ASSERT_OK(aura_monitor_risk_train(&o, &r2, &cl2));
    ASSERT_TRUE(isfinite(cl.first_loss) && isfinite(cl.last_loss));
    ASSERT_TRUE(cl.best_epoch >= 0 && cl.best_epoch <= 4);
    ASSERT_TRUE(cl.first_loss != open.first_loss || cl.samples != open.samples);
    ASSERT_TRUE(cl2.first_loss == cl.first_loss && cl2.last_loss == cl.last_loss &&
                cl2.samples == cl.samples && cl2.best_epoch == cl.best_epoch);
    enum { N = 9, T = 8 };
    float ra[N * T], rb[N * T];
    score_seq(r, N, T, 4, ra);
    score_seq(r2, N, T, 4, rb);
    ASSERT_TRUE(memcmp(ra, rb, sizeof ra) == 0);
    aura_monitor_risk_cfc_destroy(r);
    aura_monitor_risk_cfc_destroy(r2);
    o.closed_loop = 1.5;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_risk_train(&o, &r, NULL));
    o.closed_loop = 0.5;
    o.dagger_epochs = -1;
    ASSERT_STATUS(AURA_E_INVAL, aura_monitor_risk_train(&o, &r, NULL));
}

AURA_TEST(monitor_risk_trained_beats_constant_on_heldout)
{
    aura_monitor_risk_train_opts o = tiny_opts();
    o.runs = 10;
    o.ticks = 150;
    o.min_agents = 60;
    o.max_agents = 120;
    o.max_seq_per_run = 24;
    o.epochs = 5;
    aura_monitor_risk_cfc *r = NULL;
    ASSERT_OK(aura_monitor_risk_train(&o, &r, NULL));
    /* held-out: other seeds, and a topology not trained on */
    const aura_monitor_topology topo[2] = {AURA_MONITOR_TOPO_BA, AURA_MONITOR_TOPO_HIER};
    double sum = 0.0;
    int n = 0;
    for (int k = 0; k < 2; k++) {
        aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
        so.n_agents = 120;
        so.topology = topo[k];
        so.ticks = 200;
        so.seed = 424242u + (unsigned)k;
        aura_monitor_risk_run run;
        ASSERT_OK(aura_monitor_risk_run_sim(&so, r, 0, 0.5, NULL, &run));
        ASSERT_TRUE(run.ev.positives > 0 && run.ev.negatives > 0);
        fprintf(stderr, "held-out %s: AUROC %.3f PR-AUC %.3f (base rate %.3f)\n",
                aura_monitor_topology_name(topo[k]), run.ev.auroc, run.ev.pr_auc, run.ev.base_rate);
        /* a constant predictor has AUROC 0.5 and PR-AUC = base rate */
        ASSERT_TRUE(run.ev.pr_auc > run.ev.base_rate);
        /* failures without a precursor are a subset; scoring without them
         * keeps every negative sample */
        ASSERT_TRUE(run.sudden <= run.ev.failures);
        ASSERT_TRUE(run.sudden < run.ev.failures ? !isnan(run.auroc_predictable) : 1);
        sum += run.ev.auroc;
        n++;
    }
    ASSERT_TRUE(sum / n > 0.62);
    aura_monitor_risk_cfc_destroy(r);
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(n, fwrite(b, 1, n, f));
    fclose(f);
}

AURA_TEST(monitor_risk_bad_files_give_clear_errors)
{
    const char *d = test_tmpdir();
    aura_monitor_risk_cfc *r = NULL;
    char err[512];
    const char *missing = test_path("%s/nope.safetensors", d);
    ASSERT_STATUS(AURA_E_IO, aura_monitor_risk_cfc_load(NULL, missing, &r, err, sizeof err));
    ASSERT_TRUE(strstr(err, "nope.safetensors") != NULL);
    ASSERT_TRUE(r == NULL);
    const char *junk = test_path("%s/junk.safetensors", d);
    write_bytes(junk, "hello, not a model", 18);
    ASSERT_STATUS(AURA_E_FORMAT, aura_monitor_risk_cfc_load(NULL, junk, &r, err, sizeof err));
    ASSERT_TRUE(strstr(err, "junk.safetensors") != NULL);
    /* a valid lnn model that is not a risk model */
    aura_lnn_config lc = aura_lnn_config_default();
    lc.input_size = 4;
    lc.units = 4;
    lc.proj_size = 1;
    aura_lnn_model *m = NULL;
    ASSERT_OK(aura_lnn_model_create(NULL, &lc, 1, &m));
    const char *plain = test_path("%s/plain.safetensors", d);
    ASSERT_OK(aura_lnn_model_save(m, plain));
    aura_lnn_model_destroy(m);
    err[0] = '\0';
    ASSERT_STATUS(AURA_E_FORMAT, aura_monitor_risk_cfc_load(NULL, plain, &r, err, sizeof err));
    ASSERT_TRUE(strstr(err, "plain.safetensors") != NULL && strstr(err, "risk") != NULL);
    /* a risk model whose normalisation holds NaN / zero */
    aura_monitor_risk_cfc *ok = NULL;
    ASSERT_OK(aura_monitor_risk_cfc_create(NULL, NULL, 1, &ok));
    const char *good = test_path("%s/good.safetensors", d);
    ASSERT_OK(aura_monitor_risk_cfc_save(ok, good));
    aura_monitor_risk_cfc_destroy(ok);
    FILE *f = fopen(good, "rb");
    ASSERT_TRUE(f != NULL);
    static unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ASSERT_TRUE(n > 100 && n < sizeof buf);
    /* truncated */
    const char *trunc = test_path("%s/trunc.safetensors", d);
    write_bytes(trunc, buf, n / 2);
    ASSERT_STATUS(AURA_E_FORMAT, aura_monitor_risk_cfc_load(NULL, trunc, &r, err, sizeof err));
    /* the std vector (float 1.0 = 00 00 80 3f) is the last float-1.0 run
     * before risk.meta; overwrite every 1.0 in the data with 0 */
    size_t hdr = (size_t)buf[0] | (size_t)buf[1] << 8 | (size_t)buf[2] << 16;
    int zapped = 0;
    for (size_t k = 8 + hdr; k + 4 <= n; k += 4) {
        if (buf[k] == 0 && buf[k + 1] == 0 && buf[k + 2] == 0x80 && buf[k + 3] == 0x3f) {
            memset(&buf[k], 0, 4);
            zapped++;
        }
    }
    ASSERT_TRUE(zapped >= AURA_MONITOR_RISK_INPUTS);
    const char *zero = test_path("%s/zero.safetensors", d);
    write_bytes(zero, buf, n);
    aura_status st = aura_monitor_risk_cfc_load(NULL, zero, &r, err, sizeof err);
    ASSERT_TRUE(st == AURA_E_FORMAT || st == AURA_E_NUMERIC);
    ASSERT_TRUE(strstr(err, "zero.safetensors") != NULL);
    ASSERT_TRUE(r == NULL);
}

static int run_sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

AURA_TEST(monitor_risk_cli_model_option)
{
    const char *d = test_tmpdir(), *bin = test_aura_bin();
    aura_monitor_risk_cfc *r = NULL;
    ASSERT_OK(aura_monitor_risk_cfc_create(NULL, NULL, 2, &r));
    const char *model = test_path("%s/m.safetensors", d);
    ASSERT_OK(aura_monitor_risk_cfc_save(r, model));
    aura_monitor_risk_cfc_destroy(r);
    ASSERT_EQ(0, run_sh(test_path("%s simulate --agents 30 --seed 3 --ticks 40 --events %s/e.jsonl",
                                  bin, d)));
    ASSERT_EQ(0, run_sh(test_path("%s monitor --model %s < %s/e.jsonl > %s/r.jsonl 2>/dev/null",
                                  bin, model, d, d)));
    FILE *f = fopen(test_path("%s/r.jsonl", d), "r");
    ASSERT_TRUE(f != NULL);
    char line[512];
    int risks = 0;
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "\"risk\":");
        if (p && !strstr(line, "decision")) {
            double v = atof(p + 7);
            ASSERT_TRUE(v >= 0.0 && v <= 1.0);
            risks++;
        }
    }
    fclose(f);
    ASSERT_EQ(risks, 30 * 40);
    ASSERT_EQ(3, run_sh(test_path("%s monitor --model %s/missing.safetensors < %s/e.jsonl "
                                  "> /dev/null 2> %s/err.txt",
                                  bin, d, d, d)));
    ASSERT_EQ(2, run_sh(test_path("%s train-risk --epochs 0 2>/dev/null", bin)));
    ASSERT_EQ(3, run_sh(test_path("%s eval-risk --model %s/e.jsonl > /dev/null 2>&1", bin, d)));
}

AURA_TEST(monitor_risk_shipped_model_loads)
{
    const char *path = "models/risk_cfc.safetensors";
    FILE *f = fopen(path, "rb");
    if (!f) {
        AURA_SKIP("models/risk_cfc.safetensors not found from the working directory");
    }
    fclose(f);
    aura_monitor_risk_cfc *r = NULL;
    char err[256] = "";
    ASSERT_OK(aura_monitor_risk_cfc_load(NULL, path, &r, err, sizeof err));
    ASSERT_EQ(aura_monitor_risk_cfc_horizon(r), 10);
    ASSERT_TRUE(aura_monitor_risk_cfc_n_params(r) < 20000); /* tens of KB */
    aura_monitor_risk_cfc_destroy(r);
}

AURA_TEST(monitor_risk_fuzz_model_file)
{
    /* seeded random mutations of a valid model file: load either fails
     * with a status, or gives a model whose risks are probabilities */
    aura_monitor_risk_cfc *r = NULL;
    ASSERT_OK(aura_monitor_risk_cfc_create(NULL, NULL, 11, &r));
    const char *d = test_tmpdir();
    const char *good = test_path("%s/fz.safetensors", d);
    ASSERT_OK(aura_monitor_risk_cfc_save(r, good));
    aura_monitor_risk_cfc_destroy(r);
    FILE *f = fopen(good, "rb");
    ASSERT_TRUE(f != NULL);
    static unsigned char orig[1 << 16], buf[1 << 16];
    size_t n = fread(orig, 1, sizeof orig, f);
    fclose(f);
    ASSERT_TRUE(n > 100 && n < sizeof orig);
    const char *bad = test_path("%s/fz_bad.safetensors", d);
    int loaded = 0, refused = 0;
    rs = 777;
    for (int it = 0; it < 300; it++) {
        memcpy(buf, orig, n);
        int flips = 1 + (int)(frand() * 4.0f);
        size_t len = n;
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)(frand() * (float)n) % n;
            buf[at] = (unsigned char)(frand() * 256.0f);
        }
        if (frand() < 0.1f) {
            len = (size_t)(frand() * (float)n);
        }
        FILE *w = fopen(bad, "wb");
        ASSERT_TRUE(w != NULL);
        ASSERT_EQ(len, fwrite(buf, 1, len, w));
        fclose(w);
        char err[256] = "";
        aura_status st = aura_monitor_risk_cfc_load(NULL, bad, &r, err, sizeof err);
        if (st != AURA_OK) {
            ASSERT_TRUE(err[0] != '\0');
            refused++;
            continue;
        }
        loaded++;
        enum { N = 6, T = 5 };
        float risk[N * T];
        uint64_t keep = rs; /* score_seq reseeds the generator: keep mutating */
        score_seq(r, N, T, 3, risk);
        rs = keep;
        for (int k = 0; k < N * T; k++) {
            ASSERT_TRUE(risk[k] >= 0.0f && risk[k] <= 1.0f);
        }
        aura_monitor_risk_cfc_destroy(r);
        r = NULL;
    }
    ASSERT_TRUE(refused > 0);
    fprintf(stderr, "fuzz: %d loaded, %d refused\n", loaded, refused);
}

/* System cascade prediction: the positives are the ticks with >= 3 fail
 * labels in the next H ticks, recounted here from the simulator's labels. */
AURA_TEST(monitor_risk_run_scores_system_cascades)
{
    aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
    so.n_agents = 150;
    so.ticks = 200;
    so.seed = 3;
    so.faults = "random:14";
    aura_monitor_risk_run run;
    ASSERT_OK(aura_monitor_risk_run_sim(&so, NULL, 0, 0.5, NULL, &run));
    aura_monitor_sim *sim;
    ASSERT_OK(aura_monitor_sim_create(&so, &sim));
    const aura_events_event *ev;
    size_t ne;
    for (int t = 0; t < so.ticks; t++) {
        ASSERT_OK(aura_monitor_sim_step(sim, &ev, &ne));
    }
    size_t nl;
    ASSERT_OK(aura_monitor_sim_labels(sim, NULL, 0, &nl));
    aura_monitor_label *l = malloc((nl + 1) * sizeof *l);
    ASSERT_TRUE(l != NULL);
    ASSERT_OK(aura_monitor_sim_labels(sim, l, nl, &nl));
    uint32_t pos = 0;
    for (int t = 0; t < so.ticks; t++) {
        int c = 0;
        for (size_t k = 0; k < nl; k++) {
            c += l[k].event == AURA_MONITOR_LABEL_FAIL && l[k].tick > t && l[k].tick <= t + 10;
        }
        pos += c >= 3;
    }
    free(l);
    aura_monitor_sim_destroy(sim);
    ASSERT_EQ(pos, run.sys_positives);
    ASSERT_TRUE(pos > 0 && pos < (uint32_t)so.ticks); /* this scenario has cascades */
    ASSERT_TRUE(run.sys_auroc >= 0.0 && run.sys_auroc <= 1.0);
    ASSERT_TRUE(run.sys_pr_auc > 0.0 && run.sys_pr_auc <= 1.0);
}
