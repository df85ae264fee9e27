/* test_monitor_cli.c -- end-to-end contracts of `aura simulate`,
 * `aura monitor` and `aura demo`.
 * SPDX-License-Identifier: MIT */
#include <sys/wait.h>

#include "test.h"

static int run_sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ASSERT_TRUE(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ASSERT_TRUE(b != NULL);
    ASSERT_EQ(n, (long)fread(b, 1, (size_t)n, f));
    b[n] = '\0';
    fclose(f);
    if (len) {
        *len = (size_t)n;
    }
    return b;
}

AURA_TEST(monitor_cli_simulate_is_reproducible)
{
    const char *d = test_tmpdir(), *bin = test_aura_bin();
    for (int k = 0; k < 2; k++) {
        ASSERT_EQ(0, run_sh(test_path("%s simulate --agents 40 --topology hier --seed 9 --ticks 50"
                                      " --faults 'slow:3:5,error-burst:*:20' --events %s/e%d.jsonl"
                                      " --labels %s/l%d.jsonl",
                                      bin, d, k, d, k)));
    }
    size_t n0, n1;
    char *e0 = slurp(test_path("%s/e0.jsonl", d), &n0), *e1 = slurp(test_path("%s/e1.jsonl", d), &n1);
    ASSERT_EQ(n0, n1);
    ASSERT_TRUE(n0 > 1000 && memcmp(e0, e1, n0) == 0);
    ASSERT_TRUE(strstr(e0, "\"kind\":\"heartbeat\"") != NULL);
    char *l0 = slurp(test_path("%s/l0.jsonl", d), NULL);
    int faults = 0;
    for (char *line = strtok(l0, "\n"); line; line = strtok(NULL, "\n")) {
        int tick;
        unsigned agent;
        char ev[16];
        ASSERT_EQ(3, sscanf(line, "{\"tick\":%d,\"agent\":\"a%u\",\"event\":\"%15[a-z]\"", &tick,
                            &agent, ev));
        ASSERT_TRUE(tick >= 0 && tick < 50 && agent < 40);
        faults += strcmp(ev, "fault") == 0;
        ASSERT_TRUE(strcmp(ev, "fault") != 0 || strstr(line, "\"fault\":\"") != NULL);
    }
    ASSERT_EQ(2, faults);
    free(e0);
    free(e1);
    free(l0);
    ASSERT_EQ(2, run_sh(test_path("%s simulate --topology star --events %s/x 2>/dev/null", bin, d)));
    ASSERT_EQ(2, run_sh(test_path("%s simulate --agents 5 --events %s/x 2>/dev/null", bin, d)));
    ASSERT_EQ(2, run_sh(test_path("%s simulate --agents 20 2>/dev/null", bin)));
    ASSERT_EQ(2, run_sh(test_path("%s simulate --faults bogus:1:1 --events %s/x 2>/dev/null", bin,
                                  d)));
}

AURA_TEST(monitor_cli_risk_for_every_agent_every_tick)
{
    const char *d = test_tmpdir(), *bin = test_aura_bin();
    ASSERT_EQ(0, run_sh(test_path("%s simulate --agents 30 --seed 4 --ticks 40 --faults"
                                  " overload:0:10 --events %s/ev.jsonl",
                                  bin, d)));
    ASSERT_EQ(0, run_sh(test_path("%s monitor < %s/ev.jsonl > %s/risk.jsonl", bin, d, d)));
    char *out = slurp(test_path("%s/risk.jsonl", d), NULL);
    int per_tick[40] = {0}, last = -1, decisions = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        long long tick;
        char agent[64];
        double p;
        if (strstr(line, "\"decision\":")) {
            decisions++;
            ASSERT_TRUE(strstr(line, "\"reason\":\"") != NULL);
            continue;
        }
        ASSERT_EQ(3, sscanf(line, "{\"tick\":%lld,\"agent\":\"%63[^\"]\",\"risk\":%lf}", &tick,
                            agent, &p));
        ASSERT_TRUE(tick >= 0 && tick < 40 && tick >= last);
        ASSERT_TRUE(p >= 0.0 && p <= 1.0);
        last = (int)tick;
        per_tick[tick]++;
    }
    for (int t = 0; t < 40; t++) {
        ASSERT_EQ(30, per_tick[t]); /* all 30 agents speak in tick 0 */
    }
    free(out);
    /* half-second ticks: twice as many ticks over the same events */
    ASSERT_EQ(0, run_sh(test_path("%s monitor --tick-ms 500 --observe < %s/ev.jsonl > %s/r2.jsonl",
                                  bin, d, d)));
    char *out2 = slurp(test_path("%s/r2.jsonl", d), NULL);
    ASSERT_TRUE(strstr(out2, "{\"tick\":79,") != NULL && strstr(out2, "{\"tick\":80,") == NULL);
    ASSERT_TRUE(strstr(out2, "\"decision\"") == NULL);
    free(out2);
    /* a model file that does not exist: exit 3 (input), named (monitor_risk) */
    ASSERT_EQ(3, run_sh(test_path("%s monitor --model cfc.safetensors < /dev/null 2>/dev/null",
                                  bin)));
    ASSERT_EQ(2, run_sh(test_path("%s monitor --tick-ms 0 < /dev/null 2>/dev/null", bin)));
    ASSERT_EQ(0, run_sh(test_path("%s monitor < /dev/null > %s/empty.jsonl", bin, d)));
}

AURA_TEST(monitor_cli_bad_input_is_skipped_and_reported)
{
    const char *d = test_tmpdir(), *bin = test_aura_bin();
    FILE *f = fopen(test_path("%s/bad.jsonl", d), "w");
    ASSERT_TRUE(f != NULL);
    fputs("{\"ts\":10,\"kind\":\"reply\",\"src\":\"a\",\"dst\":\"b\",\"latency_ms\":5,\"ok\":true}\n"
          "{\"ts\":20,\"kind\":\"heartbeat\",\"src\":\"b\"}\n"
          "{\"ts\":30,\"kind\":\"reply\",\"src\":\n"                      /* malformed, line 3 */
          "{\"ts\":1500,\"kind\":\"load\",\"src\":\"c\",\"load\":0.4}\n"
          "{\"ts\":900,\"kind\":\"heartbeat\",\"src\":\"a\"}\n"        /* out of order: late */
          "{\"ts\":1500,\"kind\":\"load\",\"src\":\"c\",\"load\":0.4}\n" /* duplicate */
          "{\"ts\":5200,\"kind\":\"timeout\",\"src\":\"d\",\"dst\":\"b\",\"latency_ms\":1000}\n",
          f); /* ticks 2..4 are a gap; d and "new" agents appear late */
    fclose(f);
    ASSERT_EQ(0, run_sh(test_path("%s monitor < %s/bad.jsonl > %s/bad.out 2> %s/bad.err", bin, d, d,
                                  d)));
    char *err = slurp(test_path("%s/bad.err", d), NULL);
    ASSERT_TRUE(strstr(err, "line 3") != NULL);
    ASSERT_TRUE(strstr(err, "skipped 1 malformed") != NULL);
    ASSERT_TRUE(strstr(err, "1 duplicates") != NULL);
    ASSERT_TRUE(strstr(err, "1 late") != NULL);
    ASSERT_TRUE(strstr(err, "3 ticks without events") != NULL);
    char *out = slurp(test_path("%s/bad.out", d), NULL);
    ASSERT_TRUE(strstr(out, "{\"tick\":5,\"agent\":\"d\"") != NULL);
    int lines = 0; /* risk lines (decision lines carry a risk too) */
    for (char *p = strtok(out, "\n"); p; p = strtok(NULL, "\n")) {
        lines += strstr(p, "\"risk\":") && !strstr(p, "\"decision\"");
    }
    /* tick 0: a b; tick 1: a b c; ticks 2-4: a b c; tick 5: a b c d */
    ASSERT_EQ(2 + 3 + 9 + 4, lines);
    free(err);
    free(out);
    ASSERT_EQ(3, run_sh(test_path("%s monitor --strict < %s/bad.jsonl > /dev/null 2>&1", bin, d)));
}

AURA_TEST(monitor_cli_demo_writes_table_and_report)
{
    const char *d = test_tmpdir(), *bin = test_aura_bin();
    ASSERT_EQ(0, run_sh(test_path("%s demo --agents 40 --ticks 60 --seed 2 --report %s/r.html"
                                  " > %s/demo.txt",
                                  bin, d, d)));
    char *txt = slurp(test_path("%s/demo.txt", d), NULL);
    ASSERT_TRUE(strstr(txt, "largest cascade") != NULL);
    ASSERT_TRUE(strstr(txt, "risk AUROC") != NULL);
    ASSERT_TRUE(strstr(txt, "Report: ") != NULL);
    char *html = slurp(test_path("%s/r.html", d), NULL);
    ASSERT_TRUE(strstr(html, "<svg") != NULL && strstr(html, "</html>") != NULL);
    /* self-contained: no scripts, no external resources */
    ASSERT_TRUE(strstr(html, "<script") == NULL && strstr(html, "src=") == NULL &&
                strstr(html, "href=") == NULL);
    free(txt);
    free(html);
    ASSERT_EQ(2, run_sh(test_path("%s demo --agents 3 2>/dev/null", bin)));
}

AURA_TEST(monitor_cli_rules_reduce_failures_on_byzantine_faults)
{
    /* Closed loop on shared random numbers: isolating lying agents must
     * leave fewer failures than doing nothing (77 vs 23 over 10 seeds when
     * this test was written; here 3 seeds). */
    const char *d = test_tmpdir(), *bin = test_aura_bin();
    ASSERT_EQ(0, run_sh(test_path("%s demo --runs 3 --faults 'byzantine:*:40,byzantine:*:120,"
                                  "byzantine:*:200' --report %s/b.html > %s/b.txt",
                                  bin, d, d)));
    char *txt = slurp(test_path("%s/b.txt", d), NULL);
    const char *row = strstr(txt, "failures (fail events)");
    ASSERT_TRUE(row != NULL);
    unsigned none = 0, rules = 0;
    ASSERT_EQ(2, sscanf(row, "failures (fail events) %u %u", &none, &rules));
    ASSERT_TRUE(none > 0);
    ASSERT_TRUE(rules < none);
    free(txt);
}
