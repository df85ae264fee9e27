/* cmd_eval_risk.c -- `aura eval-risk`: the learned risk model against the
 * rule baseline on simulations not used in training (held-out seeds, and
 * unseen sizes and topologies): AUROC, PR-AUC and lead time of per-agent
 * failure within H ticks (open loop, both monitors in shadow on the same
 * run), and the closed-loop A/B none / rules / aura on the same seeds.
 * Prints a markdown table.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/monitor_risk.h"
#include "cli.h"

static const char *const CMD = "eval-risk";

typedef struct scenario {
    const char *label;
    uint32_t agents;
    aura_monitor_topology topo;
} scenario;

/* Training covers ba / smallworld / random with 50..300 agents. */
static const scenario SCENARIOS[] = {
    {"ba 200 (seen kind)", 200, AURA_MONITOR_TOPO_BA},
    {"smallworld 150 (seen kind)", 150, AURA_MONITOR_TOPO_SMALLWORLD},
    {"random 250 (seen kind)", 250, AURA_MONITOR_TOPO_RANDOM},
    {"hier 200 (unseen topology)", 200, AURA_MONITOR_TOPO_HIER},
    {"ba 30 (unseen size)", 30, AURA_MONITOR_TOPO_BA},
    {"ba 1000 (unseen size)", 1000, AURA_MONITOR_TOPO_BA},
};
#define N_SCEN (sizeof SCENARIOS / sizeof SCENARIOS[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: aura eval-risk [--model FILE] [--seeds N] [--ticks T]\n"
               "                      [--threshold P] [--rules-threshold P] [--seed-base S]\n"
               "                      [--policy graded|rules] [--early-threshold P] [--quick]\n"
               "                      [--ceiling K] [--oracle]\n\n"
               "Evaluates the CfC risk model (default models/risk_cfc.safetensors) against the\n"
               "rule baseline on held-out simulations (seeds 900000+, never used in training)\n"
               "of seen and unseen sizes/topologies; prints a markdown table.  Defaults: 3 seeds\n"
               "per scenario, 300 ticks, thresholds 0.5.  --quick: 1 seed, 150 ticks, no\n"
               "1000-agent scenario.  --seed-base: first seed (default 900000, the evaluation\n"
               "seeds; tuning used 700000).  --policy: the aura arm's decision policy (default rules:\n"
               "the rule policy driven by the CfC risk; graded: plus early actions from\n"
               "--early-threshold, default 0.3).  --ceiling K: also the Bayes ceiling of the\n"
               "AUROC (aura_monitor_sim_ceiling, K copies per tick; 32 is a good start; slow:\n"
               "about K x 11 simulator ticks per tick).  --oracle: also a planning oracle on top\n"
               "of the rules (aura_monitor_oracle_run: how many failures the actions could\n"
               "prevent with the simulator's state known; slow).\n");
}

typedef struct acc {
    double auroc[2], pr[2], lead[2], lead_all[2];
    int n_auroc[2], n_lead[2];
    double auroc_p[2];
    int n_auroc_p[2];
    uint32_t failed[4], largest[4], cascades[4], inter[4], failures, sudden; /* [3]: oracle */
    double pooled[2]; /* AUROC over all seeds' samples together */
    double sys_auroc[2], sys_pr[2];
    int n_sys[2];
    uint32_t sys_pos, sys_ticks; /* cascade-ahead ticks, ticks (open loop) */
    double ceil[2]; /* Bayes ceiling AUROC: alone, ties broken by the CfC */
    int n_ceil;
    double ceil_lead[2]; /* its median lead at 0.5: warned, misses = 0 */
    int n_ceil_lead;
} acc;

/* Pooled samples of one scenario: per model, the scored cells of every seed. */
typedef struct pool {
    float *s[2];
    uint8_t *y[2];
    size_t n[2];
    float *risk;               /* ticks x agents of one run */
    aura_monitor_label *lab;   /* of one run */
} pool;

/* Ground-truth labels of the open-loop run (the shadow runs do not act, so
 * theirs are the same). */
static aura_status open_loop_labels(const aura_monitor_sim_opts *so, aura_monitor_label **lab,
                                    size_t *nl)
{
    aura_monitor_sim *sim = NULL;
    aura_status st = aura_monitor_sim_create(so, &sim);
    for (int32_t t = 0; st == AURA_OK && t < so->ticks; t++) {
        const aura_events_event *ev;
        size_t n;
        st = aura_monitor_sim_step(sim, &ev, &n);
    }
    if (st == AURA_OK) {
        st = aura_monitor_sim_labels(sim, NULL, 0, nl);
    }
    if (st == AURA_OK) {
        aura_monitor_label *l = realloc(*lab, (*nl + 1) * sizeof *l);
        st = l ? aura_monitor_sim_labels(sim, l, *nl, nl) : AURA_E_NOMEM;
        *lab = l ? l : *lab;
    }
    aura_monitor_sim_destroy(sim);
    return st;
}

static aura_status pool_add(pool *p, int k, const aura_monitor_sim_opts *so, size_t nl)
{
    size_t m;
    aura_status st = aura_monitor_eval_samples(NULL, p->risk, so->ticks, so->n_agents, p->lab, nl,
                                               p->s[k] + p->n[k], p->y[k] + p->n[k], &m);
    p->n[k] += st == AURA_OK ? m : 0;
    return st;
}

/* AUROC of a score over the cells the risk array scores (risk >= 0). */
/* The scored samples (aura_monitor_eval_samples) of a ticks x agents score
 * array: *sc and *y malloc'ed, *m of them. */
static aura_status samples_of(const pool *p, const float *score, const aura_monitor_sim_opts *so,
                              size_t nl, float **sc, uint8_t **y, size_t *m)
{
    size_t cells = (size_t)so->ticks * so->n_agents;
    *sc = malloc(cells * sizeof **sc);
    *y = malloc(cells);
    *m = 0;
    return *sc && *y ? aura_monitor_eval_samples(NULL, score, so->ticks, so->n_agents, p->lab, nl,
                                                 *sc, *y, m)
                     : AURA_E_NOMEM;
}

static int desc_cmp(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a < b) - (a > b);
}

/* The Bayes ceiling of the open-loop run (aura_monitor_sim_ceiling), scored
 * on the cells the CfC scored (p->risk): its AUROC alone, and with its ties
 * (the many samples where no copy failed) broken by the CfC's risk; and
 * the median lead of the latter at the threshold that raises as many
 * alarms (samples at or above it) as the CfC raises at thr. */
static aura_status add_ceiling(acc *a, const pool *p, const aura_monitor_sim_opts *so, size_t nl,
                               int rollouts, double thr)
{
    size_t cells = (size_t)so->ticks * so->n_agents, m = 0, mc = 0;
    float *q = malloc(cells * sizeof *q), *tb = malloc(cells * sizeof *tb), *s = NULL, *sc = NULL;
    uint8_t *y = NULL, *yc = NULL;
    aura_monitor_ceiling_opts co = aura_monitor_ceiling_opts_default();
    co.rollouts = rollouts;
    aura_status st = q && tb ? aura_monitor_sim_ceiling(so, &co, q) : AURA_E_NOMEM;
    double au[2] = {NAN, NAN};
    if (st == AURA_OK) {
        for (size_t c = 0; c < cells; c++) {
            int seen = p->risk[c] >= 0.0f;
            tb[c] = seen ? q[c] + 1e-3f * p->risk[c] : -1.0f; /* < 1 / rollouts */
            q[c] = seen ? q[c] : -1.0f;
        }
        st = samples_of(p, q, so, nl, &s, &y, &m);
    }
    if (st == AURA_OK) {
        au[0] = aura_monitor_auroc(s, y, m);
        free(s);
        free(y);
        s = NULL;
        y = NULL;
        st = samples_of(p, tb, so, nl, &s, &y, &m);
    }
    if (st == AURA_OK) {
        au[1] = aura_monitor_auroc(s, y, m);
        st = samples_of(p, p->risk, so, nl, &sc, &yc, &mc);
    }
    size_t alarms = 0;
    for (size_t k = 0; st == AURA_OK && k < mc; k++) {
        alarms += sc[k] >= (float)thr;
    }
    aura_monitor_eval ev;
    if (st == AURA_OK && alarms > 0 && m > 0) {
        qsort(s, m, sizeof *s, desc_cmp);
        aura_monitor_eval_opts eo = aura_monitor_eval_opts_default();
        eo.threshold = s[(alarms < m ? alarms : m) - 1];
        st = aura_monitor_eval_compute(&eo, tb, so->ticks, so->n_agents, p->lab, nl, NULL, 0, &ev);
        if (st == AURA_OK && !isnan(ev.lead_median)) {
            a->ceil_lead[0] += ev.lead_median;
            a->ceil_lead[1] += ev.lead_median_all;
            a->n_ceil_lead++;
        }
    }
    if (st == AURA_OK && !isnan(au[0]) && !isnan(au[1])) {
        a->ceil[0] += au[0];
        a->ceil[1] += au[1];
        a->n_ceil++;
    }
    free(q);
    free(tb);
    free(s);
    free(y);
    free(sc);
    free(yc);
    return st;
}

static void add_shadow(acc *a, int k, const aura_monitor_risk_run *r)
{
    if (!isnan(r->ev.auroc)) {
        a->auroc[k] += r->ev.auroc;
        a->pr[k] += r->ev.pr_auc;
        a->n_auroc[k]++;
    }
    if (!isnan(r->sys_auroc)) {
        a->sys_auroc[k] += r->sys_auroc;
        a->sys_pr[k] += r->sys_pr_auc;
        a->n_sys[k]++;
    }
    if (!isnan(r->auroc_predictable)) {
        a->auroc_p[k] += r->auroc_predictable;
        a->n_auroc_p[k]++;
    }
    if (!isnan(r->ev.lead_median)) {
        a->lead[k] += r->ev.lead_median;
        a->lead_all[k] += r->ev.lead_median_all;
        a->n_lead[k]++;
    }
}

static void add_loop(acc *a, int k, const aura_monitor_risk_run *r)
{
    a->failed[k] += r->failed_agents;
    a->largest[k] = r->ev.largest_cascade > a->largest[k] ? r->ev.largest_cascade : a->largest[k];
    a->cascades[k] += r->ev.cascades;
    a->inter[k] += r->interventions;
}

static double avg(double s, int n)
{
    return n ? s / n : NAN;
}

static aura_status eval_scenario(const scenario *sc, int si, int seeds, int ticks,
                                 unsigned base, aura_monitor_risk_cfc *model, double thr,
                                 double rthr, const aura_monitor_opts *amo, int ceiling,
                                 int oracle, acc *a)
{
    memset(a, 0, sizeof *a);
    size_t cells = (size_t)ticks * sc->agents;
    pool p = {.risk = malloc(cells * sizeof(float))};
    for (int k = 0; k < 2; k++) {
        p.s[k] = malloc((size_t)seeds * cells * sizeof(float));
        p.y[k] = malloc((size_t)seeds * cells);
    }
    aura_status st = p.risk && p.s[0] && p.s[1] && p.y[0] && p.y[1] ? AURA_OK : AURA_E_NOMEM;
    for (int s = 0; st == AURA_OK && s < seeds; s++) {
        aura_monitor_sim_opts so = aura_monitor_sim_opts_default();
        so.n_agents = sc->agents;
        so.topology = sc->topo;
        so.ticks = ticks;
        so.seed = base + 1000u * (unsigned)si + (unsigned)s;
        aura_monitor_risk_run r;
        size_t nl = 0;
        if ((st = open_loop_labels(&so, &p.lab, &nl)) != AURA_OK ||
            (st = aura_monitor_risk_run_sim(&so, NULL, 0, rthr, p.risk, &r)) != AURA_OK ||
            (st = pool_add(&p, 0, &so, nl)) != AURA_OK) {
            break;
        }
        add_shadow(a, 0, &r);
        add_loop(a, 0, &r); /* shadow = no monitor acting */
        a->sys_pos += r.sys_positives;
        a->sys_ticks += (uint32_t)ticks;
        a->failures += r.ev.failures;
        a->sudden += r.sudden;
        if ((st = aura_monitor_risk_run_sim(&so, model, 0, thr, p.risk, &r)) != AURA_OK ||
            (st = pool_add(&p, 1, &so, nl)) != AURA_OK) {
            break;
        }
        add_shadow(a, 1, &r);
        if (ceiling > 0 && (st = add_ceiling(a, &p, &so, nl, ceiling, thr)) != AURA_OK) {
            break;
        }
        if ((st = aura_monitor_risk_run_sim(&so, NULL, 1, rthr, NULL, &r)) != AURA_OK) {
            break;
        }
        add_loop(a, 1, &r);
        if ((st = aura_monitor_risk_run_sim_opts(&so, model, amo, NULL, &r)) != AURA_OK) {
            break;
        }
        add_loop(a, 2, &r);
        if (oracle && (st = aura_monitor_oracle_run(&so, NULL, &r)) != AURA_OK) {
            break;
        }
        if (oracle) {
            add_loop(a, 3, &r);
        }
    }
    for (int k = 0; k < 2; k++) {
        a->pooled[k] = st == AURA_OK ? aura_monitor_auroc(p.s[k], p.y[k], p.n[k]) : NAN;
        free(p.s[k]);
        free(p.y[k]);
    }
    free(p.risk);
    free(p.lab);
    return st;
}

static void print_row(const scenario *sc, const acc *a)
{
    printf("| %s | %.3f / **%.3f** | %.3f / **%.3f** | %.1f / **%.1f** | %.1f / **%.1f** |"
           " %u / %u / **%u** | %u / %u / **%u** | %u / **%u** |\n",
           sc->label, avg(a->auroc[0], a->n_auroc[0]), avg(a->auroc[1], a->n_auroc[1]),
           avg(a->pr[0], a->n_auroc[0]), avg(a->pr[1], a->n_auroc[1]),
           avg(a->lead[0], a->n_lead[0]), avg(a->lead[1], a->n_lead[1]),
           avg(a->lead_all[0], a->n_lead[0]), avg(a->lead_all[1], a->n_lead[1]), a->failed[0],
           a->failed[1], a->failed[2], a->largest[0], a->largest[1], a->largest[2], a->inter[1],
           a->inter[2]);
    fflush(stdout);
}

int cmd_eval_risk(int argc, char **argv)
{
    const char *path = "models/risk_cfc.safetensors";
    int seeds = 3, ticks = 300, quick = 0, ceiling = 0, oracle = 0;
    unsigned base = 900000u;
    aura_monitor_opts amo = aura_monitor_opts_default(); /* the acting aura arm */
    double thr = 0.5, rthr = 0.5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(a, "--quick") == 0 || strcmp(a, "--oracle") == 0) {
            quick |= a[2] == 'q';
            oracle |= a[2] == 'o';
            continue;
        }
        const char *v = cli_take_value(CMD, argc, argv, &i);
        if (!v) {
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        double x;
        if (strcmp(a, "--model") == 0) {
            path = v;
        } else if (strcmp(a, "--seeds") == 0 && cli_parse_num(v, 1, 1000, &x)) {
            seeds = (int)x;
        } else if (strcmp(a, "--early-threshold") == 0 && cli_parse_num(v, 0.0, 1.0, &x)) {
            amo.early_threshold = x;
        } else if (strcmp(a, "--policy") == 0 &&
                   (strcmp(v, "graded") == 0 || strcmp(v, "rules") == 0)) {
            amo.policy = v[0] == 'g' ? AURA_MONITOR_POLICY_GRADED : AURA_MONITOR_POLICY_RULES;
        } else if (strcmp(a, "--seed-base") == 0 && cli_parse_num(v, 0, 4e9, &x) && x == floor(x)) {
            base = (unsigned)x;
        } else if (strcmp(a, "--ceiling") == 0 && cli_parse_num(v, 0, 100000, &x) && x == floor(x)) {
            ceiling = (int)x;
        } else if (strcmp(a, "--ticks") == 0 && cli_parse_num(v, 20, 100000, &x)) {
            ticks = (int)x;
        } else if (strcmp(a, "--threshold") == 0 && cli_parse_num(v, 1e-6, 1.0, &x)) {
            thr = x;
        } else if (strcmp(a, "--rules-threshold") == 0 && cli_parse_num(v, 1e-6, 1.0, &x)) {
            rthr = x;
        } else {
            cli_errorf(CMD, "bad option or value: %s %s", a, v);
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (quick) {
        seeds = 1;
        ticks = ticks < 150 ? ticks : 150;
    }
    char err[512] = "";
    aura_monitor_risk_cfc *model = NULL;
    aura_status st = aura_monitor_risk_cfc_load(NULL, path, &model, err, sizeof err);
    if (st != AURA_OK) {
        cli_errorf(CMD, "%s", err[0] ? err : aura_status_str(st));
        return cli_exit_code(st);
    }
    printf("Held-out simulations (seeds %u+), %d seed(s) x %d ticks per scenario, H = %d,\n"
           "thresholds rules %.2f / aura %.2f.  Cells: rules / **aura** (risk columns: mean over\n"
           "seeds, open loop, both in shadow on the same run); none / rules / **aura**\n"
           "(closed loop, summed over seeds; largest cascade: max).\n\n",
           base, seeds, ticks, aura_monitor_risk_cfc_horizon(model), rthr, thr);
    printf("| scenario | AUROC | PR-AUC | median lead (warned) | median lead (misses = 0) |"
           " failed agents | largest cascade | interventions |\n");
    printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    acc all[N_SCEN];
    int done[N_SCEN] = {0};
    for (size_t k = 0; k < N_SCEN && st == AURA_OK; k++) {
        if (quick && SCENARIOS[k].agents > 300) {
            continue;
        }
        amo.act = 1;
        amo.threshold = thr;
        st = eval_scenario(&SCENARIOS[k], (int)k, seeds, ticks, base, model, thr, rthr, &amo,
                           ceiling, oracle, &all[k]);
        if (st == AURA_OK) {
            print_row(&SCENARIOS[k], &all[k]);
            done[k] = 1;
        }
    }
    if (st == AURA_OK) {
        printf("\nAUROC pooled over the scenario's seeds (one AUROC over all their (agent, tick)\n"
               "samples, rules / **aura**), beside the mean of the per-seed AUROCs above:\n\n"
               "| scenario | pooled AUROC | mean per-seed AUROC |\n| --- | --- | --- |\n");
        for (size_t k = 0; k < N_SCEN; k++) {
            if (done[k]) {
                printf("| %s | %.3f / **%.3f** | %.3f / **%.3f** |\n", SCENARIOS[k].label,
                       all[k].pooled[0], all[k].pooled[1], avg(all[k].auroc[0], all[k].n_auroc[0]),
                       avg(all[k].auroc[1], all[k].n_auroc[1]));
            }
        }
        printf("\nSystem cascade prediction: the system risk of each tick against \"at least 3\n"
               "agents fail within the next H ticks\" (open loop, mean over the seeds that have\n"
               "both kinds of tick; rules / **aura**):\n\n"
               "| scenario | ticks with a cascade ahead | AUROC | PR-AUC |\n| --- | --- | --- | --- |\n");
        for (size_t k = 0; k < N_SCEN; k++) {
            if (done[k]) {
                printf("| %s | %u of %u | %.3f / **%.3f** | %.3f / **%.3f** |\n",
                       SCENARIOS[k].label, all[k].sys_pos, all[k].sys_ticks,
                       avg(all[k].sys_auroc[0], all[k].n_sys[0]),
                       avg(all[k].sys_auroc[1], all[k].n_sys[1]),
                       avg(all[k].sys_pr[0], all[k].n_sys[0]), avg(all[k].sys_pr[1], all[k].n_sys[1]));
            }
        }
        printf("\nFailures with no precursor in the events (the agent's features normal in all H\n"
               "ticks before), and the AUROC without them (open loop, rules / **aura**):\n\n"
               "| scenario | failures | sudden | AUROC on predictable failures |\n"
               "| --- | --- | --- | --- |\n");
        for (size_t k = 0; k < N_SCEN; k++) {
            if (done[k]) {
                printf("| %s | %u | %u (%.0f%%) | %.3f / **%.3f** |\n", SCENARIOS[k].label,
                       all[k].failures, all[k].sudden,
                       all[k].failures ? 100.0 * all[k].sudden / all[k].failures : 0.0,
                       avg(all[k].auroc_p[0], all[k].n_auroc_p[0]),
                       avg(all[k].auroc_p[1], all[k].n_auroc_p[1]));
            }
        }
    }
    if (st == AURA_OK && ceiling > 0) {
        printf("\nBayes ceiling (--ceiling %d): the AUROC of P(fail within H | the simulator's\n"
               "whole hidden state), estimated by %d copies per tick run on with random numbers\n"
               "of their own and the faults not started yet drawn again from their prior (a copy\n"
               "in which the agent does not fail scores its chance of a crash under the hazards\n"
               "it ran under); alone, and with ties broken by the CfC's risk.  No monitor that\n"
               "sees only the events can rank better than the true ceiling; these estimates are\n"
               "lower bounds of it (open loop, mean over seeds):\n\n"
               "| scenario | ceiling | ceiling, ties by the CfC | rules | **aura** |"
               " ceiling's median lead at aura's alarm rate (warned, misses = 0) |"
               " **aura**'s |\n"
               "| --- | --- | --- | --- | --- | --- | --- |\n",
               ceiling, ceiling);
        for (size_t k = 0; k < N_SCEN; k++) {
            if (done[k]) {
                printf("| %s | %.3f | %.3f | %.3f | **%.3f** | %.1f, %.1f | **%.1f, %.1f** |\n",
                       SCENARIOS[k].label,
                       avg(all[k].ceil[0], all[k].n_ceil), avg(all[k].ceil[1], all[k].n_ceil),
                       avg(all[k].auroc[0], all[k].n_auroc[0]),
                       avg(all[k].auroc[1], all[k].n_auroc[1]),
                       avg(all[k].ceil_lead[0], all[k].n_ceil_lead),
                       avg(all[k].ceil_lead[1], all[k].n_ceil_lead),
                       avg(all[k].lead[1], all[k].n_lead[1]),
                       avg(all[k].lead_all[1], all[k].n_lead[1]));
            }
        }
    }
    if (st == AURA_OK && oracle) {
        printf("\nPlanning oracle (--oracle): the rule monitor acting and, on top, up to 8\n"
               "actions a tick chosen on 4 copies of the simulator (its state known, random\n"
               "numbers of their own, faults not started yet drawn again), 10 ticks ahead\n"
               "(aura_monitor_oracle_run; a yardstick, not a policy; closed loop, summed over\n"
               "seeds):\n\n"
               "| scenario | failed agents: none / rules / **aura** / oracle | oracle vs none |"
               " largest cascade (oracle) | interventions: rules / **aura** / oracle |\n"
               "| --- | --- | --- | --- | --- |\n");
        for (size_t k = 0; k < N_SCEN; k++) {
            if (done[k]) {
                const acc *x = &all[k];
                printf("| %s | %u / %u / **%u** / %u | %+.0f%% | %u | %u / **%u** / %u |\n",
                       SCENARIOS[k].label, x->failed[0], x->failed[1], x->failed[2], x->failed[3],
                       x->failed[0] ? 100.0 * ((double)x->failed[3] - x->failed[0]) / x->failed[0]
                                    : 0.0,
                       x->largest[3], x->inter[1], x->inter[2], x->inter[3]);
            }
        }
    }
    aura_monitor_risk_cfc_destroy(model);
    if (st != AURA_OK) {
        cli_errorf(CMD, "evaluation failed: %s", aura_status_str(st));
        return cli_exit_code(st);
    }
    return CLI_EXIT_OK;
}
