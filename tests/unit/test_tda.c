/* test_tda.c -- golden barcodes (Ripser's output, byte for byte, through
 * the CLI), CLI error handling, API argument checks, allocation-failure
 * sweeps and destroy(NULL).
 * SPDX-License-Identifier: MIT */
#include <float.h>
#include <stdint.h>
#include <sys/wait.h>

#include "aura/tda.h"
#include "test.h"

/* ---------------------------------------------------------------- helpers */

static void write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(len, fwrite(buf, 1, len, f));
    fclose(f);
}

/* Runs `aura tda ARGS` with stdout/stderr to files; returns exit code. */
static int run_cli(const char *args, const char *out, const char *err)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s tda %s >%s 2>%s", test_aura_bin(), args, out, err);
    int rc = system(cmd);
    ASSERT_TRUE(rc != -1 && WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

/* Looks up case `name` in cases.tsv, runs it, compares byte for byte. */
static void golden_case(const char *name)
{
    const char *sh = test_shared_dir();
    size_t len = 0;
    char *tsv = test_read_file(test_path("%s/golden/tda/cases.tsv", sh), &len);
    if (!tsv) {
        AURA_SKIP("no ../shared/golden/tda/cases.tsv");
    }
    char args[2048] = "";
    for (char *line = strtok(tsv, "\n"); line; line = strtok(NULL, "\n")) {
        char *t1 = strchr(line, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (line[0] == '#' || !t2) {
            continue;
        }
        *t1 = '\0';
        if (strcmp(line, name) != 0) {
            continue;
        }
        /* the last word is the input path, relative to tda-data */
        char *cmdline = t2 + 1;
        char *path = strrchr(cmdline, ' ');
        ASSERT_TRUE(path != NULL);
        *path++ = '\0';
        snprintf(args, sizeof args, "%s %s/tda-data/%s", cmdline, sh, path);
    }
    free(tsv);
    ASSERT_TRUE(args[0] != '\0');
    const char *dir = test_tmpdir();
    const char *out = test_path("%s/out.txt", dir), *err = test_path("%s/err.txt", dir);
    ASSERT_EQ(0, run_cli(args, out, err));
    size_t la = 0, lb = 0;
    char *got = test_read_file(out, &la);
    char *want = test_read_file(test_path("%s/golden/tda/%s.txt", sh, name), &lb);
    ASSERT_TRUE(got && want);
    if (la != lb || memcmp(got, want, la) != 0) {
        AURA_FAIL_("case %s: output differs from Ripser's (%zu vs %zu bytes); see %s", name, la,
                   lb, out);
    }
    free(got);
    free(want);
}

/* ---------------------------------------------------------------- golden */

AURA_TEST(tda_golden_small_cases)
{
    static const char *const names[] = {"pp_d2",       "pp_dipha_d2",    "pp_full_d2",
                                        "random16_d2", "random20_d3",    "random50_16_d2",
                                        "pp_d2_p3"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        golden_case(names[i]);
    }
}

AURA_TEST(tda_golden_sphere_3_192_d2)
{
    golden_case("sphere_3_192_d2");
}

AURA_TEST(tda_golden_sphere_3_192_d2_p5)
{
    golden_case("sphere_3_192_d2_p5");
}

AURA_TEST(tda_golden_o3_1024_t18_d3)
{
    golden_case("o3_1024_t1.8_d3");
}

AURA_TEST(tda_golden_klein400_d2)
{
    golden_case("klein400_d2");
}

AURA_TEST(tda_golden_dragon1000_d1)
{
    golden_case("dragon1000_d1");
}

/* Options cases.tsv lacks; expected outputs from Ripser in tests/tda/. */
AURA_TEST(tda_golden_extra_options)
{
    static const char *const cases[][2] = {
        {"pp_upper_d2", "--format upper-distance --dim 2 %T/pp.upper_distance_matrix"},
        {"pp_sparse_d2", "--format sparse --dim 2 %T/pp.sparse"},
        {"pp_t15_d2", "--format lower-distance --dim 2 --threshold 1.5 "
                      "%S/ripser/projective_plane.lower_distance_matrix"},
        {"random20_r12_d3", "--format lower-distance --dim 3 --ratio 1.2 "
                            "%S/ripser/random20.lower_distance_matrix"},
        {"random50_r11_d2", "--format point-cloud --dim 2 --ratio 1.1 "
                            "%S/ph-roadmap/random_point_cloud_50_16_.txt"},
        {"pp_p7_d2", "--format lower-distance --dim 2 --modulus 7 "
                     "%S/ripser/projective_plane.lower_distance_matrix"},
        {"random100_t05_r05_d1", "--format point-cloud --dim 1 --threshold 0.5 --ratio 0.5 "
                                 "%S/ph-roadmap/random_point_cloud_100_4_.txt"},
    };
    const char *tdir = AURA_TEST_SOURCE_DIR "/tests/tda";
    char sdir[512];
    snprintf(sdir, sizeof sdir, "%s/tda-data", test_shared_dir());
    FILE *probe = fopen(test_path("%s/ripser/random20.lower_distance_matrix", sdir), "r");
    if (!probe) {
        AURA_SKIP("no ../shared/tda-data");
    }
    fclose(probe);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char args[1024];
        size_t k = 0;
        for (const char *p = cases[c][1]; *p && k + 512 < sizeof args; p++) {
            if (p[0] == '%' && (p[1] == 'T' || p[1] == 'S')) {
                k += (size_t)snprintf(args + k, sizeof args - k, "%s", p[1] == 'T' ? tdir : sdir);
                p++;
            } else {
                args[k++] = *p;
            }
        }
        args[k] = '\0';
        const char *dir = test_tmpdir();
        const char *out = test_path("%s/x.txt", dir), *err = test_path("%s/xe.txt", dir);
        ASSERT_EQ(0, run_cli(args, out, err));
        size_t la = 0, lb = 0;
        char *got = test_read_file(out, &la);
        char *want = test_read_file(test_path("%s/%s.txt", tdir, cases[c][0]), &lb);
        ASSERT_TRUE(got && want);
        if (la != lb || memcmp(got, want, la) != 0) {
            AURA_FAIL_("case %s: output differs from Ripser's", cases[c][0]);
        }
        free(got);
        free(want);
    }
}

/* ---------------------------------------------------------------- CLI */

static void expect_cli_error(const char *args, const char *input, size_t in_len, int code,
                             const char *needle)
{
    const char *dir = test_tmpdir();
    const char *in = test_path("%s/in.dat", dir);
    write_file(in, input, in_len);
    char full[1024];
    snprintf(full, sizeof full, "%s %s", args, in);
    const char *out = test_path("%s/o.txt", dir), *err = test_path("%s/e.txt", dir);
    int rc = run_cli(full, out, err);
    size_t n = 0;
    char *msg = test_read_file(err, &n);
    ASSERT_TRUE(msg != NULL);
    if (rc != code || (needle && !strstr(msg, needle))) {
        AURA_FAIL_("aura tda %s: exit %d (want %d), stderr: %s (want '%s')", args, rc, code, msg,
                   needle ? needle : "");
    }
    free(msg);
}

AURA_TEST(tda_cli_rejects_bad_input)
{
    expect_cli_error("--format point-cloud", "0 0\n1 nan\n", 10, 3, "line 2");
    expect_cli_error("--format point-cloud", "0 0\n1 2 3\n", 10, 3, "ragged");
    expect_cli_error("--format point-cloud", "0 0\n1 x\n", 8, 3, "'x'");
    expect_cli_error("--format point-cloud", "0 0\n1 1e99\n", 11, 3, "1e99");
    expect_cli_error("--format lower-distance", "1\n2\n", 4, 3, "triangular");
    expect_cli_error("--format lower-distance", "1\n-2\n3\n", 7, 3, "negative");
    expect_cli_error("--format lower-distance", "1\ninf\n3\n", 8, 3, "inf");
    expect_cli_error("--format distance", "0 1 2\n1 0\n", 10, 3, "line 1");
    expect_cli_error("--format distance", "0\n1 0 4 5\n", 10, 3, "not square");
    expect_cli_error("--format distance", "", 0, 3, "no data");
    expect_cli_error("--format sparse", "0 1 1\n1 2\n", 11, 3, "line 2");
    expect_cli_error("--format sparse", "0 -1 1\n", 7, 3, "vertex index");
    expect_cli_error("--format binary", "\0\0\x80?\0\0", 6, 3, "truncated");
    expect_cli_error("--format dipha", "abc", 3, 3, "DIPHA");
    expect_cli_error("--modulus 4", "1\n", 2, 2, "prime");
    expect_cli_error("--modulus 65537", "1\n", 2, 2, "prime");
    expect_cli_error("--dim -1", "1\n", 2, 2, "--dim");
    expect_cli_error("--threshold abc", "1\n", 2, 2, "--threshold");
    expect_cli_error("--format nope", "1\n", 2, 2, "format");
    expect_cli_error("--bogus", "1\n", 2, 2, "unknown option");
    /* truncated DIPHA: header claims 3 points, no data */
    unsigned char d[24] = {0};
    uint64_t magic = 8067171840ull, type = 7, n = 3;
    for (int k = 0; k < 8; k++) {
        d[k] = (unsigned char)(magic >> (8 * k));
        d[8 + k] = (unsigned char)(type >> (8 * k));
        d[16 + k] = (unsigned char)(n >> (8 * k));
    }
    expect_cli_error("--format dipha", (const char *)d, 24, 3, "needs");
    /* 64-bit simplex indices overflow: 3000 points in dimension 40 */
    static char big[3000 * 12];
    size_t k = 0;
    for (int i = 0; i < 2999; i++) {
        k += (size_t)snprintf(big + k, sizeof big - k, "%d 0 1\n", i);
    }
    expect_cli_error("--format sparse --dim 40", big, k, 3, "overflow");
    expect_cli_error("--format lower-distance --dim 100", "1\n", 2, 0, NULL);
    const char *dir = test_tmpdir();
    int rc = run_cli(test_path("%s/does-not-exist", dir), test_path("%s/o", dir),
                     test_path("%s/e", dir));
    ASSERT_EQ(3, rc);
}

AURA_TEST(tda_cli_help_and_stdin)
{
    const char *dir = test_tmpdir();
    const char *out = test_path("%s/o.txt", dir), *err = test_path("%s/e.txt", dir);
    ASSERT_EQ(0, run_cli("--help", out, err));
    size_t n = 0;
    char *s = test_read_file(out, &n);
    ASSERT_TRUE(s && strstr(s, "--modulus") && strstr(s, "--format"));
    free(s);
    /* a square with side 1: one H1 class [1, sqrt 2) */
    const char *in = test_path("%s/sq.txt", dir);
    write_file(in, "0 0\n1 0\n1 1\n0 1\n", 16);
    char args[512];
    snprintf(args, sizeof args, "--format point-cloud --dim 1 < %s", in);
    ASSERT_EQ(0, run_cli(args, out, err));
    s = test_read_file(out, &n);
    ASSERT_STREQ("point cloud with 4 points in dimension 2\n"
                 "value range: [1,1.41421]\n"
                 "distance matrix with 4 points, using threshold at enclosing radius 1.41421\n"
                 "persistence intervals in dim 0:\n"
                 " [0,1)\n [0,1)\n [0,1)\n [0, )\n"
                 "persistence intervals in dim 1:\n"
                 " [1,1.41421)\n",
                 s);
    free(s);
    /* sparse input and an explicit threshold */
    write_file(in, "0 1 1\n1 2 1\n2 3 1\n3 0 1\n0 2 2\n", 30);
    snprintf(args, sizeof args, "--format sparse --threshold 1.5 %s", in);
    ASSERT_EQ(0, run_cli(args, out, err));
    s = test_read_file(out, &n);
    ASSERT_STREQ("sparse distance matrix with 4 points and 5/6 entries\n"
                 "persistence intervals in dim 0:\n"
                 " [0,1)\n [0,1)\n [0,1)\n [0, )\n"
                 "persistence intervals in dim 1:\n"
                 " [1, )\n",
                 s);
    free(s);
}

/* ---------------------------------------------------------------- API */

static const float square[] = {0, 0, 1, 0, 1, 1, 0, 1};

AURA_TEST(tda_api_square_pairs_and_simplices)
{
    aura_tda_result *r = NULL;
    ASSERT_OK(aura_tda_compute_points(NULL, square, 4, 2, &r));
    ASSERT_EQ(1, aura_tda_result_max_dim(r));
    ASSERT_EQ(4, aura_tda_result_count(r, 0));
    ASSERT_EQ(1, aura_tda_result_count(r, 1));
    ASSERT_EQ(0, aura_tda_result_count(r, 2));
    aura_tda_pair p[4];
    size_t n = 0;
    ASSERT_OK(aura_tda_result_pairs(r, 1, NULL, 0, &n));
    ASSERT_EQ(1, n);
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_result_pairs(r, 0, p, 2, &n));
    ASSERT_OK(aura_tda_result_pairs(r, 1, p, 4, &n));
    ASSERT_NEAR(1.0, p[0].birth, 0);
    ASSERT_NEAR(sqrtf(2.0f), p[0].death, 0);
    int64_t b[3], d[3];
    ASSERT_OK(aura_tda_result_simplices(r, 1, 0, b, d));
    ASSERT_TRUE(b[0] < b[1] && b[1] < 4);
    ASSERT_TRUE(d[0] < d[1] && d[1] < d[2] && d[2] < 4);
    ASSERT_OK(aura_tda_result_simplices(r, 0, 3, b, d));
    ASSERT_EQ(-1, d[0]);
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_result_simplices(r, 1, 1, b, d));
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_result_simplices(r, 2, 0, b, d));
    aura_tda_info info;
    ASSERT_OK(aura_tda_result_info(r, &info));
    ASSERT_EQ(4, info.n_points);
    ASSERT_EQ(1, info.dense);
    ASSERT_NEAR(sqrtf(2.0f), info.enclosing_radius, 0);
    aura_tda_result_destroy(r);
}

AURA_TEST(tda_api_rejects_bad_arguments)
{
    aura_tda_result *r = (aura_tda_result *)&r; /* must stay untouched */
    aura_tda_result *const sentinel = r;
    aura_tda_opts o = aura_tda_opts_default();
    o.modulus = 4;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_points(&o, square, 4, 2, &r));
    o.modulus = 65537;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_points(&o, square, 4, 2, &r));
    o = aura_tda_opts_default();
    o.max_dim = -1;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_points(&o, square, 4, 2, &r));
    o = aura_tda_opts_default();
    o.threshold = NAN;
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_points(&o, square, 4, 2, &r));
    float bad[] = {0, 0, 1, NAN};
    ASSERT_STATUS(AURA_E_NUMERIC, aura_tda_compute_points(NULL, bad, 2, 2, &r));
    bad[3] = INFINITY;
    ASSERT_STATUS(AURA_E_NUMERIC, aura_tda_compute_points(NULL, bad, 2, 2, &r));
    float neg[] = {0, -1, -1, 0};
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_matrix(NULL, neg, 2, AURA_TDA_FULL, &r));
    float nanm[] = {NAN};
    ASSERT_STATUS(AURA_E_NUMERIC, aura_tda_compute_matrix(NULL, nanm, 2, AURA_TDA_LOWER, &r));
    aura_tda_edge e[] = {{0, 5, 1.0f}};
    ASSERT_STATUS(AURA_E_RANGE, aura_tda_compute_sparse(NULL, 3, e, 1, &r));
    aura_tda_edge dup[] = {{0, 1, 1.0f}, {1, 0, 2.0f}};
    ASSERT_STATUS(AURA_E_INVAL, aura_tda_compute_sparse(NULL, 2, dup, 2, &r));
    /* simplex indices that do not fit 64 bits */
    o = aura_tda_opts_default();
    o.max_dim = 20;
    ASSERT_STATUS(AURA_E_OVERFLOW, aura_tda_compute_sparse(&o, 100000, NULL, 0, &r));
    ASSERT_TRUE(r == sentinel);
    aura_tda_result_destroy(NULL);
    aura_tda_input_destroy(NULL);
    ASSERT_EQ(1, aura_tda_is_prime(65521));
    ASSERT_EQ(0, aura_tda_is_prime(65535));
    ASSERT_EQ(0, aura_tda_is_prime(1));
}

AURA_TEST(tda_api_tiny_inputs)
{
    aura_tda_result *r = NULL;
    float one[] = {1, 2};
    ASSERT_OK(aura_tda_compute_points(NULL, one, 1, 2, &r));
    ASSERT_EQ(0, aura_tda_result_max_dim(r));
    ASSERT_EQ(1, aura_tda_result_count(r, 0));
    aura_tda_result_destroy(r);
    ASSERT_OK(aura_tda_compute_sparse(NULL, 0, NULL, 0, &r));
    ASSERT_EQ(0, aura_tda_result_count(r, 0));
    aura_tda_result_destroy(r);
    /* duplicate points: the zero-length H0 pair is not reported */
    float dup[] = {0, 0, 0, 0, 3, 4};
    ASSERT_OK(aura_tda_compute_points(NULL, dup, 3, 2, &r));
    ASSERT_EQ(2, aura_tda_result_count(r, 0));
    aura_tda_result_destroy(r);
}

/* ---------------------------------------------------------------- OOM */

static void oom_sweep(int which)
{
    /* a cloud with some H1 and H2, so every code path allocates */
    float pts[3 * 14];
    for (int i = 0; i < 14; i++) {
        pts[3 * i] = (float)((i * 7) % 5);
        pts[3 * i + 1] = (float)((i * 3) % 4);
        pts[3 * i + 2] = (float)((i * 5) % 3);
    }
    aura_tda_edge edges[40];
    for (int i = 0; i < 40; i++) {
        uint32_t a = (uint32_t)(i % 12), b = (uint32_t)((i * 5 + 1) % 12);
        edges[i] = (aura_tda_edge){a, b, (float)(1 + (a * b + a + b) % 9)};
    }
    int done = 0;
    long k = 0;
    for (; k < 100000 && !done; k++) {
        aura_tda_opts o = aura_tda_opts_default();
        o.max_dim = 2;
        o.modulus = 3;
        o.alloc = test_failing_alloc(k);
        aura_tda_result *r = NULL;
        aura_status st;
        if (which == 0) {
            st = aura_tda_compute_points(&o, pts, 14, 3, &r);
        } else if (which == 1) {
            o.threshold = 2.5f;
            st = aura_tda_compute_points(&o, pts, 14, 3, &r);
        } else {
            st = aura_tda_compute_sparse(&o, 12, edges, 40, &r);
        }
        ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
        ASSERT_TRUE((st == AURA_OK) == (r != NULL));
        done = st == AURA_OK;
        aura_tda_result_destroy(r);
        ASSERT_EQ(0, test_alloc_live_blocks());
    }
    ASSERT_TRUE(done);
    ASSERT_TRUE(k > 10); /* the sweep reached allocations deep in the engine */
}

AURA_TEST(tda_oom_sweep_dense)
{
    oom_sweep(0);
}

AURA_TEST(tda_oom_sweep_threshold)
{
    oom_sweep(1);
}

AURA_TEST(tda_oom_sweep_sparse)
{
    oom_sweep(2);
}

AURA_TEST(tda_oom_sweep_readers)
{
    static const char *const text[] = {"0 1\n2 3\n4 5\n", "1\n2 3\n", "0 1 2\n1 0 3\n2 3 0\n",
                                       "0 1 1\n1 2 2\n"};
    static const aura_tda_format fmt[] = {AURA_TDA_FMT_POINT_CLOUD, AURA_TDA_FMT_LOWER,
                                          AURA_TDA_FMT_DISTANCE, AURA_TDA_FMT_SPARSE};
    for (int f = 0; f < 4; f++) {
        int done = 0;
        for (long k = 0; k < 1000 && !done; k++) {
            const aura_allocator *a = test_failing_alloc(k);
            aura_tda_input *in = NULL;
            char err[128];
            aura_status st = aura_tda_input_read(fmt[f], text[f], strlen(text[f]), "t", a, &in,
                                                 err, sizeof err);
            ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
            done = st == AURA_OK;
            aura_tda_input_destroy(in);
            ASSERT_EQ(0, test_alloc_live_blocks());
        }
        ASSERT_TRUE(done);
    }
}
