/* cmd_demo.c -- `aura demo`, the main job: a closed-loop A/B on one
 * seeded scenario.  Arm "none" runs the simulator with the rule monitor in
 * shadow mode (it scores, nobody acts); arm "rules" feeds the rule
 * monitor's decisions back into the same simulation.  Prints a table and
 * writes a self-contained HTML report with inline SVG.
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aura/monitor.h"
#include "cli.h"
#include "risk_cli.h"

static const char *const CMD = "demo";

typedef struct arm {
    const char *name;
    int act;
    aura_monitor_risk_cfc *model; /* arm "aura": the CfC risk drives the policy */
    float *risk;          /* ticks x n, -1 = unseen */
    uint16_t *failed_now; /* agents failed per tick */
    aura_monitor_label *labels;
    size_t n_labels;
    uint32_t *edges;
    size_t n_edges;
    aura_monitor_eval ev;
    uint32_t interventions, by_action[AURA_MONITOR_ACTION_COUNT];
    double shed, total, tick_ms_p50, tick_ms_p99, seconds;
    uint64_t events;
    uint32_t failed_agents; /* distinct agents that failed */
    /* admission and recall (docs/monitor.md) */
    int admit;                    /* 0 requests unanswered, 1 the policy, 2 approve while
                                     the budget lasts (first come, first served) */
    aura_monitor_admission *adm;  /* per run */
    aura_monitor_recall *recall;  /* kept across the runs of the arm */
    aura_monitor_sim_budget bud;
} arm;

typedef struct demo {
    aura_monitor_sim_opts so;
    int ticks;
    uint32_t n;
    const char *report;
    int progress;
    int runs;          /* seeds so.seed .. so.seed + runs - 1 */
    double threshold;  /* the acting monitor's decision threshold */
    int trace;         /* print each intervention */
    const char *model; /* --model: the CfC of arm "aura" ("none" = no such arm,
                          NULL = the shipped one if present) */
    int recall;        /* --recall: arm "recall" (rules + shape recall) */
    double requests;   /* --requests: resource requests; arms "fcfs" and "admit" */
} demo;

/* One arm summed over runs. */
typedef struct summary {
    const char *name;
    uint32_t failures, failed_agents, cascades, largest, interventions, detected;
    int32_t first_cascade; /* earliest over runs, -1 = none */
    double shed, total, auroc, pr_auc, lead;
    int n_auroc, n_lead;
    uint32_t asked, approved, denied, deferred, unanswered;
    double granted;
} summary;

static void usage(FILE *f)
{
    fprintf(f, "usage: aura demo [--agents N] [--topology T] [--seed S] [--ticks T]\n"
               "                 [--faults SPEC] [--report FILE.html]\n\n"
               "Closed-loop A/B on one seeded scenario (default: 200 agents, ba, seed 1,\n"
               "300 ticks, random faults): no monitor vs the rule monitor acting.  Prints a\n"
               "table and writes an HTML report (default aura-demo.html).\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress(const demo *d, const arm *a, int t)
{
    if (!d->progress) {
        return;
    }
    int w = 30, k = (t * w) / d->ticks;
    fprintf(stderr, "\r  seed %-4llu %-6s [", (unsigned long long)d->so.seed, a->name);
    for (int i = 0; i < w; i++) {
        fputc(i < k ? '#' : '.', stderr);
    }
    fprintf(stderr, "] %d/%d", t, d->ticks);
    if (t == d->ticks) {
        fputc('\n', stderr);
    }
    fflush(stderr);
}

static int dbl_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Closes the monitor's ticks up to and including `t`, storing risk rows. */
static aura_status close_upto(aura_monitor_sim *sim, aura_monitor *mon, arm *a, const demo *d,
                              int64_t t, double *tick_cost, int *n_cost)
{
    while (aura_monitor_open_tick(mon) >= 0 && aura_monitor_open_tick(mon) <= t) {
        int64_t tk = aura_monitor_open_tick(mon);
        double t0 = now_s();
        aura_status st = aura_monitor_tick_close(mon);
        if (st != AURA_OK) {
            return st;
        }
        tick_cost[(*n_cost)++ % d->ticks] = (now_s() - t0) * 1000.0;
        const float *risk;
        const uint8_t *seen;
        uint32_t n;
        aura_monitor_risk(mon, &risk, &seen, &n);
        for (uint32_t i = 0; i < d->n && tk < d->ticks; i++) {
            a->risk[(size_t)tk * d->n + i] = i < n && seen[i] ? risk[i] : -1.0f;
        }
        const aura_monitor_decision *dec;
        size_t nd;
        aura_monitor_decisions(mon, &dec, &nd);
        for (size_t k = 0; a->act && k < nd; k++) {
            if ((st = aura_monitor_sim_apply(sim, &dec[k])) != AURA_OK) {
                return st;
            }
            a->interventions++;
            a->by_action[dec[k].action]++;
            if (d->trace) {
                fprintf(stderr, "%s seed %llu tick %lld: %s a%u", a->name, (unsigned long long)d->so.seed,
                        (long long)dec[k].tick,
                        aura_monitor_action_name((aura_monitor_action)dec[k].action),
                        dec[k].agent);
                if (dec[k].target != AURA_EVENTS_NO_AGENT) {
                    fprintf(stderr, " -> a%u", dec[k].target);
                }
                fprintf(stderr, " (risk %.2f): %s\n", (double)dec[k].risk, dec[k].reason);
            }
        }
    }
    return AURA_OK;
}

/* Answers the resource requests of the tick just closed: with the
 * admission policy, or first come, first served while the budget lasts. */
static aura_status answer_requests(aura_monitor_sim *sim, aura_monitor *mon, arm *a)
{
    const aura_monitor_request *req;
    size_t n;
    aura_status st = aura_monitor_sim_requests(sim, &req, &n);
    for (size_t k = 0; st == AURA_OK && k < n; k++) {
        aura_monitor_decision dec;
        if (a->admit == 1) {
            st = aura_monitor_admission_decide(a->adm, mon, &req[k], &dec);
        } else {
            aura_monitor_sim_budget b;
            aura_monitor_sim_budget_get(sim, &b);
            memset(&dec, 0, sizeof dec);
            dec.agent = req[k].agent;
            dec.action = b.left >= req[k].amount ? AURA_MONITOR_APPROVE : AURA_MONITOR_DENY;
        }
        if (st == AURA_OK) {
            st = aura_monitor_sim_apply(sim, &dec);
        }
    }
    return st;
}

static aura_status simulate_arm(const demo *d, arm *a, aura_monitor_sim *sim, aura_monitor *mon)
{
    double *cost = malloc(sizeof(double) * (size_t)d->ticks);
    int n_cost = 0;
    aura_status st = cost ? AURA_OK : AURA_E_NOMEM;
    double t0 = now_s();
    for (int t = 0; st == AURA_OK && t < d->ticks; t++) {
        const aura_events_event *ev;
        size_t n;
        st = aura_monitor_sim_step(sim, &ev, &n);
        a->events += n;
        while (st == AURA_OK && n > 0) {
            size_t used;
            st = aura_monitor_ingest(mon, ev, n, &used);
            ev += used;
            n -= used;
            if (st == AURA_OK && n > 0) {
                st = close_upto(sim, mon, a, d, aura_monitor_open_tick(mon), cost, &n_cost);
            }
        }
        if (st == AURA_OK) {
            st = close_upto(sim, mon, a, d, t, cost, &n_cost);
        }
        if (st == AURA_OK && a->admit) {
            st = answer_requests(sim, mon, a);
        }
        if (t % 10 == 9 || t + 1 == d->ticks) {
            progress(d, a, t + 1);
        }
    }
    a->seconds = now_s() - t0;
    if (st == AURA_OK && n_cost > 0) {
        int m = n_cost < d->ticks ? n_cost : d->ticks;
        qsort(cost, (size_t)m, sizeof *cost, dbl_cmp);
        a->tick_ms_p50 = cost[m / 2];
        a->tick_ms_p99 = cost[(m * 99) / 100 < m ? (m * 99) / 100 : m - 1];
    }
    free(cost);
    return st;
}

static aura_status collect(const demo *d, arm *a, aura_monitor_sim *sim)
{
    aura_status st = aura_monitor_sim_labels(sim, NULL, 0, &a->n_labels);
    a->labels = st == AURA_OK ? calloc(a->n_labels + 1, sizeof *a->labels) : NULL;
    st = st == AURA_OK && !a->labels ? AURA_E_NOMEM : st;
    if (st == AURA_OK) {
        st = aura_monitor_sim_labels(sim, a->labels, a->n_labels, &a->n_labels);
    }
    if (st == AURA_OK) {
        st = aura_monitor_sim_edges(sim, NULL, 0, &a->n_edges);
    }
    a->edges = st == AURA_OK ? calloc(2 * a->n_edges + 2, sizeof *a->edges) : NULL;
    st = st == AURA_OK && !a->edges ? AURA_E_NOMEM : st;
    if (st == AURA_OK) {
        st = aura_monitor_sim_edges(sim, a->edges, a->n_edges, &a->n_edges);
    }
    if (st == AURA_OK) {
        st = aura_monitor_eval_compute(NULL, a->risk, d->ticks, d->n, a->labels, a->n_labels,
                                       a->edges, a->n_edges, &a->ev);
    }
    aura_monitor_sim_shed(sim, &a->shed, &a->total);
    aura_monitor_sim_budget_get(sim, &a->bud);
    /* failed agents per tick, and distinct agents that failed */
    uint8_t *state = calloc(d->n, 1), *ever = calloc(d->n, 1);
    if (!state || !ever) {
        st = AURA_E_NOMEM;
    }
    size_t k = 0;
    int cur = 0;
    for (int t = 0; st == AURA_OK && t < d->ticks; t++) {
        for (; k < a->n_labels && a->labels[k].tick == t; k++) {
            const aura_monitor_label *l = &a->labels[k];
            if (l->event == AURA_MONITOR_LABEL_FAIL && !state[l->agent]) {
                state[l->agent] = 1;
                cur++;
                a->failed_agents += !ever[l->agent];
                ever[l->agent] = 1;
            } else if (l->event == AURA_MONITOR_LABEL_RECOVER && state[l->agent]) {
                state[l->agent] = 0;
                cur--;
            }
        }
        a->failed_now[t] = (uint16_t)cur;
    }
    free(state);
    free(ever);
    return st;
}

static aura_status run_arm(const demo *d, arm *a)
{
    aura_monitor_sim *sim = NULL;
    aura_monitor *mon = NULL;
    aura_monitor_opts mo = aura_monitor_opts_default();
    mo.act = a->act;
    mo.threshold = d->threshold;
    aura_monitor_model mm = aura_monitor_risk_cfc_model(a->model);
    if (a->model) {
        aura_monitor_risk_cfc_reset(a->model);
        mo.model = &mm;
    }
    if (a->recall) {
        aura_monitor_recall_reset(a->recall);
        mo.recall = a->recall;
    }
    a->risk = malloc(sizeof(float) * (size_t)d->ticks * d->n);
    a->failed_now = calloc((size_t)d->ticks, sizeof *a->failed_now);
    aura_status st = a->risk && a->failed_now ? AURA_OK : AURA_E_NOMEM;
    for (size_t c = 0; st == AURA_OK && c < (size_t)d->ticks * d->n; c++) {
        a->risk[c] = -1.0f;
    }
    if (st == AURA_OK) {
        st = aura_monitor_sim_create(&d->so, &sim);
    }
    if (st == AURA_OK) {
        st = aura_monitor_create(&mo, &mon);
    }
    if (st == AURA_OK && a->admit == 1) {
        aura_monitor_admission_opts ao = aura_monitor_admission_opts_default();
        ao.budget = d->so.budget > 0.0 ? d->so.budget : d->n / 20.0;
        ao.threshold = d->threshold;
        st = aura_monitor_admission_create(&ao, &a->adm);
    }
    aura_monitor_risk_cfc_attach(a->model, mon);
    if (st == AURA_OK) {
        st = simulate_arm(d, a, sim, mon);
    }
    if (st == AURA_OK) {
        st = collect(d, a, sim);
    }
    aura_monitor_admission_destroy(a->adm);
    a->adm = NULL;
    aura_monitor_destroy(mon);
    aura_monitor_sim_destroy(sim);
    return st;
}

/* ---- the table ---- */

static void fmt_num(char *b, size_t n, double x, const char *f)
{
    if (isnan(x)) {
        snprintf(b, n, "n/a");
    } else {
        snprintf(b, n, f, x);
    }
}

static void add_run(summary *sm, const arm *a)
{
    sm->failures += a->ev.failures;
    sm->failed_agents += a->failed_agents;
    sm->cascades += a->ev.cascades;
    sm->largest = a->ev.largest_cascade > sm->largest ? a->ev.largest_cascade : sm->largest;
    if (a->ev.first_cascade_tick >= 0 &&
        (sm->first_cascade < 0 || a->ev.first_cascade_tick < sm->first_cascade)) {
        sm->first_cascade = a->ev.first_cascade_tick;
    }
    sm->interventions += a->interventions;
    sm->detected += a->ev.detected;
    sm->shed += a->shed;
    sm->total += a->total;
    sm->asked += a->bud.asked;
    sm->approved += a->bud.approved;
    sm->denied += a->bud.denied;
    sm->deferred += a->bud.deferred;
    sm->unanswered += a->bud.unanswered;
    sm->granted += a->bud.granted;
    if (!isnan(a->ev.auroc)) {
        sm->auroc += a->ev.auroc;
        sm->pr_auc += a->ev.pr_auc;
        sm->n_auroc++;
    }
    if (!isnan(a->ev.lead_median)) {
        sm->lead += a->ev.lead_median;
        sm->n_lead++;
    }
}

static void print_table(const demo *d, const summary *sm, int n_arms, const arm *run0)
{
    printf("\nAURA demo: %u agents, %s topology, seeds %llu..%llu, %d ticks each, faults: %s\n\n",
           d->n, aura_monitor_topology_name(d->so.topology), (unsigned long long)d->so.seed,
           (unsigned long long)d->so.seed + (unsigned long long)d->runs - 1, d->ticks,
           d->so.faults ? d->so.faults : "random (default)");
    printf("%-30s", d->runs > 1 ? "summed over runs" : "");
    for (int k = 0; k < n_arms; k++) {
        printf("%14s", sm[k].name);
    }
    printf("\n");
    const char *rows[] = {"failures (fail events)", "agents that failed", "cascades (>=3 linked)",
                          "largest cascade", "first cascade (tick)", "interventions",
                          "ingress shed",  "risk AUROC (H=10, mean)", "risk PR-AUC (mean)",
                          "lead time (median, mean)", "failures warned ahead"};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        printf("%-30s", rows[r]);
        for (int k = 0; k < n_arms; k++) {
            const summary *a = &sm[k];
            char b[32];
            switch (r) {
            case 0: snprintf(b, sizeof b, "%u", a->failures); break;
            case 1: snprintf(b, sizeof b, "%u", a->failed_agents); break;
            case 2: snprintf(b, sizeof b, "%u", a->cascades); break;
            case 3: snprintf(b, sizeof b, "%u", a->largest); break;
            case 4:
                if (a->first_cascade < 0) {
                    snprintf(b, sizeof b, "none");
                } else {
                    snprintf(b, sizeof b, "%d", (int)a->first_cascade);
                }
                break;
            case 5: snprintf(b, sizeof b, "%u", a->interventions); break;
            case 6: fmt_num(b, sizeof b, a->total > 0 ? 100.0 * a->shed / a->total : NAN, "%.1f%%"); break;
            case 7: fmt_num(b, sizeof b, a->n_auroc ? a->auroc / a->n_auroc : NAN, "%.3f"); break;
            case 8: fmt_num(b, sizeof b, a->n_auroc ? a->pr_auc / a->n_auroc : NAN, "%.3f"); break;
            case 9: fmt_num(b, sizeof b, a->n_lead ? a->lead / a->n_lead : NAN, "%.1f ticks"); break;
            default:
                snprintf(b, sizeof b, "%u/%u", a->detected, a->failures);
                break;
            }
            printf("%14s", b);
        }
        printf("\n");
    }
    if (d->requests > 0.0) { /* admission: what each arm did with the requests */
        const char *arows[] = {"requests (retries included)", "approved / denied",
                               "deferred / unanswered", "capacity granted (units)"};
        for (int r = 0; r < 4; r++) {
            printf("%-30s", arows[r]);
            for (int k = 0; k < n_arms; k++) {
                const summary *a = &sm[k];
                char b[32];
                if (r == 0) {
                    snprintf(b, sizeof b, "%u", a->asked);
                } else if (r == 1) {
                    snprintf(b, sizeof b, "%u/%u", a->approved, a->denied);
                } else if (r == 2) {
                    snprintf(b, sizeof b, "%u/%u", a->deferred, a->unanswered);
                } else {
                    snprintf(b, sizeof b, "%.0f", a->granted);
                }
                printf("%14s", b);
            }
            printf("\n");
        }
    }
    if (d->requests > 0.0 || d->recall) {
        printf("\nArm aura is the whole system: the CfC risk driving the decision policy, the\n"
               "admission policy answering resource requests, and recall of similar past\n"
               "situations. The other arms take it apart: cfc (the CfC risk alone), fcfs and\n"
               "admit (the rules plus answers to the requests: approve while the budget lasts,\n"
               "or the admission policy), recall (the rules plus recall). See docs/monitor.md.\n");
    }
    printf("\nRisk rows score the rule monitor's risk: in arm \"none\" it runs in shadow\n"
           "(scores, never acts); in arm \"rules\" its own interventions change the outcomes;\n"
           "in arms \"aura\" and \"cfc\" the CfC risk model (aura train-risk) scores and\n"
           "drives the decision policy, and its risk is the one scored.\n"
           "Monitor cost per tick (%u agents, first run): p50 %.3f ms, p99 %.3f ms; %.0f events/s\n"
           "end to end (simulator included).\n",
           d->n, run0[0].tick_ms_p50, run0[0].tick_ms_p99,
           run0[0].seconds > 0 ? (double)run0[0].events / run0[0].seconds : 0.0);
}

/* ---- the HTML report ---- */

static const char *const arm_colour[] = {"#d62728", "#1f77b4", "#2ca02c",
                                         "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"};

static void svg_failures(FILE *f, const demo *d, const arm *arms, int n_arms)
{
    const double W = 720, H = 260, L = 50, B = 30, T = 15;
    int mx = 1;
    for (int k = 0; k < n_arms; k++) {
        for (int t = 0; t < d->ticks; t++) {
            mx = arms[k].failed_now[t] > mx ? arms[k].failed_now[t] : mx;
        }
    }
    fprintf(f, "<svg width='%g' height='%g' xmlns='http://www.w3.org/2000/svg'>\n", W, H);
    fprintf(f, "<rect x='%g' y='%g' width='%g' height='%g' fill='#fafafa' stroke='#ccc'/>\n", L, T,
            W - L - 10, H - T - B);
    for (int k = 0; k < n_arms; k++) {
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.6' points='",
                arm_colour[k]);
        for (int t = 0; t < d->ticks; t++) {
            double x = L + (W - L - 10) * t / (d->ticks - 1 > 0 ? d->ticks - 1 : 1);
            double y = H - B - (H - T - B) * arms[k].failed_now[t] / mx;
            fprintf(f, "%.1f,%.1f ", x, y);
        }
        fprintf(f, "'/>\n<text x='%g' y='%g' fill='%s' font-size='12'>%s</text>\n",
                L + 10 + 90.0 * k, T + 14, arm_colour[k], arms[k].name);
    }
    fprintf(f, "<text x='%g' y='%g' font-size='11'>0</text><text x='5' y='%g' font-size='11'>%d"
               "</text><text x='%g' y='%g' font-size='11'>tick %d</text>\n",
            L - 12, H - B, T + 10, mx, W - 70, H - 8, d->ticks);
    fprintf(f, "<text x='%g' y='%g' font-size='11'>failed agents per tick</text></svg>\n", L,
            H - 8);
}

/* Fruchterman-Reingold layout, seeded, O(n^2) per iteration. */
static void layout(uint32_t n, const uint32_t *edges, size_t ne, double *xy)
{
    aura_rng r;
    aura_rng_init(&r, 7);
    for (uint32_t i = 0; i < 2 * n; i++) {
        xy[i] = aura_rng_uniform(&r);
    }
    double k = sqrt(1.0 / n), temp = 0.1;
    double *disp = calloc(2 * (size_t)n, sizeof *disp);
    if (!disp) {
        return;
    }
    int iters = n > 800 ? 40 : 120;
    for (int it = 0; it < iters; it++) {
        memset(disp, 0, sizeof(double) * 2 * n);
        for (uint32_t i = 0; i < n; i++) {
            for (uint32_t j = i + 1; j < n; j++) {
                double dx = xy[2 * i] - xy[2 * j], dy = xy[2 * i + 1] - xy[2 * j + 1];
                double d2 = dx * dx + dy * dy + 1e-9, f = k * k / d2;
                disp[2 * i] += dx * f;
                disp[2 * i + 1] += dy * f;
                disp[2 * j] -= dx * f;
                disp[2 * j + 1] -= dy * f;
            }
        }
        for (size_t e = 0; e < ne; e++) {
            uint32_t a = edges[2 * e], b = edges[2 * e + 1];
            double dx = xy[2 * a] - xy[2 * b], dy = xy[2 * a + 1] - xy[2 * b + 1];
            double dd = sqrt(dx * dx + dy * dy) + 1e-9, f = dd / k;
            disp[2 * a] -= dx * f;
            disp[2 * a + 1] -= dy * f;
            disp[2 * b] += dx * f;
            disp[2 * b + 1] += dy * f;
        }
        for (uint32_t i = 0; i < n; i++) {
            double dx = disp[2 * i], dy = disp[2 * i + 1], dd = sqrt(dx * dx + dy * dy) + 1e-9;
            double s = dd < temp ? dd : temp;
            xy[2 * i] += dx / dd * s;
            xy[2 * i + 1] += dy / dd * s;
        }
        temp *= 0.97;
    }
    double lo[2] = {1e9, 1e9}, hi[2] = {-1e9, -1e9};
    for (uint32_t i = 0; i < 2 * n; i++) {
        lo[i % 2] = xy[i] < lo[i % 2] ? xy[i] : lo[i % 2];
        hi[i % 2] = xy[i] > hi[i % 2] ? xy[i] : hi[i % 2];
    }
    for (uint32_t i = 0; i < 2 * n; i++) {
        xy[i] = (xy[i] - lo[i % 2]) / (hi[i % 2] - lo[i % 2] + 1e-12);
    }
    free(disp);
}

static void risk_colour(float r, char *b, size_t n)
{
    if (r < 0.0f) {
        snprintf(b, n, "#bbbbbb");
        return;
    }
    int red = (int)(255 * (r < 0.5f ? 2 * r : 1.0f));
    int green = (int)(200 * (r < 0.5f ? 1.0f : 2 * (1.0f - r)));
    snprintf(b, n, "#%02x%02x30", red, green);
}

static void svg_graph(FILE *f, const demo *d, const arm *a, int worst)
{
    const double S = 560;
    if (d->n > 1500) { /* the O(n^2) layout would dominate the run */
        fprintf(f, "<p>(not drawn above 1,500 agents)</p>\n");
        return;
    }
    double *xy = malloc(sizeof(double) * 2 * d->n);
    uint8_t *failed = calloc(d->n, 1);
    if (!xy || !failed) {
        free(xy);
        free(failed);
        return;
    }
    layout(d->n, a->edges, a->n_edges, xy);
    for (size_t k = 0; k < a->n_labels && a->labels[k].tick <= worst; k++) {
        const aura_monitor_label *l = &a->labels[k];
        if (l->event == AURA_MONITOR_LABEL_FAIL) {
            failed[l->agent] = 1;
        } else if (l->event == AURA_MONITOR_LABEL_RECOVER) {
            failed[l->agent] = 0;
        }
    }
    fprintf(f, "<svg width='%g' height='%g' xmlns='http://www.w3.org/2000/svg'>\n", S + 20,
            S + 20);
    for (size_t e = 0; e < a->n_edges; e++) {
        uint32_t u = a->edges[2 * e], v = a->edges[2 * e + 1];
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ccc' "
                   "stroke-width='0.6'/>\n",
                10 + S * xy[2 * u], 10 + S * xy[2 * u + 1], 10 + S * xy[2 * v],
                10 + S * xy[2 * v + 1]);
    }
    int rt = worst > 0 ? worst - 1 : 0; /* risk as the monitor saw it just before */
    uint32_t *deg = calloc(d->n, sizeof *deg);
    for (size_t e = 0; deg && e < a->n_edges; e++) {
        deg[a->edges[2 * e]]++;
        deg[a->edges[2 * e + 1]]++;
    }
    for (uint32_t i = 0; i < d->n; i++) {
        char col[16];
        risk_colour(a->risk[(size_t)rt * d->n + i], col, sizeof col);
        double rad = 2.5 + (deg ? sqrt((double)deg[i]) : 1.0);
        fprintf(f, "<circle cx='%.1f' cy='%.1f' r='%.1f' fill='%s' stroke='%s' "
                   "stroke-width='%s'><title>a%u risk %.2f%s</title></circle>\n",
                10 + S * xy[2 * i], 10 + S * xy[2 * i + 1], rad, col,
                failed[i] ? "#000" : "#fff", failed[i] ? "2" : "0.5", i,
                (double)a->risk[(size_t)rt * d->n + i], failed[i] ? " (failed)" : "");
    }
    fprintf(f, "</svg>\n");
    free(deg);
    free(xy);
    free(failed);
}

/* Risk histogram of (agent, tick) samples that fail within H vs those that
 * do not (agents already failed excluded). */
static void svg_risk_outcome(FILE *f, const demo *d, const arm *a)
{
    enum { NB = 10, H = 10 };
    double pos[NB] = {0}, neg[NB] = {0}, np = 0, nn = 0;
    int32_t *next = malloc(sizeof(int32_t) * d->n);
    uint8_t *failed = calloc(d->n, 1);
    if (!next || !failed) {
        free(next);
        free(failed);
        return;
    }
    /* walk ticks backwards for "next fail", forwards for "failed now" would
     * need two passes; use the label list directly per sample instead */
    for (uint32_t i = 0; i < d->n; i++) {
        next[i] = INT32_MAX;
    }
    size_t k = a->n_labels;
    for (int t = d->ticks - 1; t >= 0; t--) {
        for (; k > 0 && a->labels[k - 1].tick > t; k--) {
            const aura_monitor_label *l = &a->labels[k - 1];
            if (l->event == AURA_MONITOR_LABEL_FAIL) {
                next[l->agent] = l->tick;
            }
        }
        for (uint32_t i = 0; i < d->n; i++) {
            float r = a->risk[(size_t)t * d->n + i];
            if (r < 0.0f) {
                continue;
            }
            int b = (int)(r * NB);
            b = b < NB ? b : NB - 1;
            if (next[i] <= t + H) {
                pos[b]++;
                np++;
            } else {
                neg[b]++;
                nn++;
            }
        }
    }
    const double W = 720, Hh = 240, L = 50, B = 30;
    fprintf(f, "<svg width='%g' height='%g' xmlns='http://www.w3.org/2000/svg'>\n", W, Hh);
    double bw = (W - L - 10) / NB;
    for (int b = 0; b < NB; b++) {
        double hp = np > 0 ? pos[b] / np : 0, hn = nn > 0 ? neg[b] / nn : 0;
        fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#1f77b4'/>\n",
                L + b * bw + 2, Hh - B - (Hh - B - 20) * hn, bw / 2 - 3, (Hh - B - 20) * hn);
        fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#d62728'/>\n",
                L + b * bw + bw / 2, Hh - B - (Hh - B - 20) * hp, bw / 2 - 3,
                (Hh - B - 20) * hp);
        fprintf(f, "<text x='%.1f' y='%g' font-size='10'>%.1f</text>\n", L + b * bw, Hh - 15,
                b / (double)NB);
    }
    fprintf(f, "<text x='%g' y='15' font-size='12' fill='#1f77b4'>no failure within 10 ticks"
               " (%.0f samples)</text><text x='%g' y='30' font-size='12' fill='#d62728'>fails"
               " within 10 ticks (%.0f samples)</text><text x='%g' y='%g' font-size='11'>risk"
               " (share of each class per bin)</text></svg>\n",
            W - 300, nn, W - 300, np, W - 220, Hh - 2);
    free(next);
    free(failed);
}

static int write_report(const demo *d, const summary *sm, const arm *arms, int n_arms)
{
    FILE *f = fopen(d->report, "w");
    if (!f) {
        cli_errorf(CMD, "cannot write %s: %s", d->report, strerror(errno));
        return CLI_EXIT_INPUT;
    }
    int worst = 0;
    for (int t = 0; t < d->ticks; t++) {
        worst = arms[0].failed_now[t] > arms[0].failed_now[worst] ? t : worst;
    }
    fprintf(f, "<!DOCTYPE html><html><head><meta charset='utf-8'><title>AURA demo</title>"
               "<style>body{font-family:sans-serif;max-width:800px;margin:2em auto}"
               "td,th{padding:2px 10px;text-align:right}th:first-child,td:first-child"
               "{text-align:left}</style></head><body>\n<h1>AURA demo</h1>\n");
    fprintf(f, "<p>%u agents, %s topology, seeds %llu..%llu, %d ticks each, faults: %s. Arm "
               "<b>none</b>: no monitor acts (the rule monitor scores in shadow). Arm "
               "<b>rules</b>: the rule monitor's interventions feed back into the same "
               "simulation (same seeds). Arm <b>aura</b> (when present): the whole system, the "
               "same policy driven by the CfC risk model (docs/monitor_risk.md), with the "
               "admission policy and recall when the run has requests and recall; arm "
               "<b>cfc</b>: the CfC risk alone.</p>\n"
               "<table><tr><th>summed over runs</th>",
            d->n, aura_monitor_topology_name(d->so.topology), (unsigned long long)d->so.seed,
            (unsigned long long)d->so.seed + (unsigned long long)d->runs - 1, d->ticks,
            d->so.faults ? d->so.faults : "random (default)");
    for (int k = 0; k < n_arms; k++) {
        fprintf(f, "<th>%s</th>", sm[k].name);
    }
    fprintf(f, "</tr>\n");
    const char *rows[] = {"failures", "agents that failed", "cascades (&ge;3 linked)",
                          "largest cascade", "first cascade (tick)", "interventions",
                          "risk AUROC (mean)", "risk PR-AUC (mean)",
                          "median lead time (ticks, mean)"};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        fprintf(f, "<tr><td>%s</td>", rows[r]);
        for (int k = 0; k < n_arms; k++) {
            const summary *a = &sm[k];
            double v[] = {a->failures,     a->failed_agents, a->cascades,
                          a->largest,      a->first_cascade, a->interventions,
                          a->n_auroc ? a->auroc / a->n_auroc : NAN,
                          a->n_auroc ? a->pr_auc / a->n_auroc : NAN,
                          a->n_lead ? a->lead / a->n_lead : NAN};
            if (isnan(v[r]) || (r == 4 && v[r] < 0)) {
                fprintf(f, "<td>%s</td>", r == 4 ? "none" : "n/a");
            } else {
                fprintf(f, r >= 6 ? "<td>%.3f</td>" : "<td>%.0f</td>", v[r]);
            }
        }
        fprintf(f, "</tr>\n");
    }
    if (d->requests > 0.0) { /* admission rows */
        const char *arows[] = {"resource requests (retries included)", "approved", "denied",
                               "deferred", "unanswered", "capacity granted (units)"};
        for (int r = 0; r < 6; r++) {
            fprintf(f, "<tr><td>%s</td>", arows[r]);
            for (int k = 0; k < n_arms; k++) {
                const summary *a = &sm[k];
                double v[] = {a->asked,    a->approved,   a->denied,
                              a->deferred, a->unanswered, a->granted};
                fprintf(f, "<td>%.0f</td>", v[r]);
            }
            fprintf(f, "</tr>\n");
        }
    }
    fprintf(f, "</table>\n<p>Arm <b>fcfs</b> (when present) approves resource requests "
               "while the budget lasts; arm <b>admit</b> answers them with the admission "
               "policy; arm <b>recall</b> adds recall of similar past situations to the rule "
               "monitor (docs/monitor.md).</p>\n");
    fprintf(f, "<h2>Failed agents over time (seed %llu)</h2>\n",
            (unsigned long long)d->so.seed);
    svg_failures(f, d, arms, n_arms);
    fprintf(f, "<h2>The agent graph at the worst moment (arm none, seed %llu, tick %d)</h2>\n"
               "<p>Colour: the monitor's risk one tick before (green low, red high); black "
               "ring: failed; size: degree.</p>\n",
            (unsigned long long)d->so.seed, worst);
    svg_graph(f, d, &arms[0], worst);
    fprintf(f, "<h2>Risk vs outcome (arm none, shadow monitor, seed %llu)</h2>\n",
            (unsigned long long)d->so.seed);
    svg_risk_outcome(f, d, &arms[0]);
    fprintf(f, "</body></html>\n");
    if (fclose(f) != 0) {
        cli_errorf(CMD, "cannot write %s", d->report);
        return CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}

static void usage_demo_extra(FILE *f)
{
    fprintf(f, "  --runs K        seeds S .. S+K-1, summed in the table (default 5)\n"
               "  --threshold P   the acting monitor's decision threshold (default 0.5)\n"
               "  --trace         print each intervention on stderr\n"
               "  --model M       the CfC risk model of arm \"aura\" (default\n"
               "                  " CLI_RISK_DEFAULT_MODEL ", skipped with a note if absent;\n"
               "                  none: no aura arm)\n"
               "  --requests R    agents ask for capacity (rate R, e.g. 1): arm \"aura\"\n"
               "                  answers them with the admission policy, and arms \"fcfs\"\n"
               "                  (rules, approve while the budget lasts), \"admit\" (rules\n"
               "                  and the admission policy) and \"cfc\" (the CfC risk alone)\n"
               "                  join; --budget UNITS (default N/20)\n"
               "  --recall        arm \"aura\" recalls similar past situations, and arm\n"
               "                  \"recall\" (rules + recall) joins (memory kept across the\n"
               "                  runs of an arm)\n");
}

static int parse_args(int argc, char **argv, demo *d)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            usage_demo_extra(stdout);
            return -1;
        }
        if (strcmp(a, "--trace") == 0) {
            d->trace = 1;
            continue;
        }
        if (strcmp(a, "--recall") == 0) {
            d->recall = 1;
            continue;
        }
        if (i + 1 >= argc) {
            cli_errorf(CMD, "unknown option or missing value: %s", a);
            return CLI_EXIT_USAGE;
        }
        const char *v = argv[++i];
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        int num = errno == 0 && end != v && *end == '\0' && v[0] != '-';
        errno = 0;
        double y = strtod(v, &end);
        int real = errno == 0 && end != v && *end == '\0';
        if (strcmp(a, "--agents") == 0 && num && x >= 10 && x <= 10000) {
            d->so.n_agents = (uint32_t)x;
        } else if (strcmp(a, "--ticks") == 0 && num && x >= 20 && x <= 100000) {
            d->so.ticks = (int32_t)x;
        } else if (strcmp(a, "--seed") == 0 && num) {
            d->so.seed = x;
        } else if (strcmp(a, "--runs") == 0 && num && x >= 1 && x <= 1000) {
            d->runs = (int)x;
        } else if (strcmp(a, "--threshold") == 0 && real && y >= 0.0 && y <= 1.0) {
            d->threshold = y;
        } else if (strcmp(a, "--topology") == 0 &&
                   aura_monitor_topology_parse(v, &d->so.topology) == AURA_OK) {
            continue;
        } else if (strcmp(a, "--faults") == 0) {
            d->so.faults = v;
        } else if (strcmp(a, "--report") == 0) {
            d->report = v;
        } else if (strcmp(a, "--requests") == 0 && real && y >= 0.0 && y <= 100.0) {
            d->requests = y;
            d->so.requests = y;
        } else if (strcmp(a, "--budget") == 0 && real && y > 0.0 && y <= 1e9) {
            d->so.budget = y;
        } else if (strcmp(a, "--model") == 0) {
            d->model = v;
        } else {
            cli_errorf(CMD, "bad option or value: %s %s", a, v);
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

static void free_arms(arm *arms, int n)
{
    for (int k = 0; k < n; k++) {
        free(arms[k].risk);
        free(arms[k].failed_now);
        free(arms[k].labels);
        free(arms[k].edges);
        memset(&arms[k], 0, sizeof arms[k]);
    }
}

int cmd_demo(int argc, char **argv)
{
    demo d = {.so = aura_monitor_sim_opts_default(),
              .report = "aura-demo.html",
              .runs = 5,
              .threshold = 0.5};
    int rc = parse_args(argc, argv, &d);
    if (rc != 0) {
        if (rc == CLI_EXIT_USAGE) {
            usage(stderr);
        }
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    d.ticks = d.so.ticks;
    d.n = d.so.n_agents;
    d.progress = cli_stderr_is_tty();
    /* kinds: 0 none, 1 rules, 2 cfc (the CfC risk driving the rule policy),
     * 3 fcfs, 4 admit, 5 recall (rules + recall), 6 aura: the whole system
     * (the CfC risk, plus the admission policy when there are requests and
     * recall when --recall) */
    static const char *const names[7] = {"none", "rules", "cfc",  "fcfs",
                                         "admit", "recall", "aura"};
    aura_monitor_risk_cfc *cfc = NULL;
    int n_arms = 2;
    if (!d.model) {
        FILE *probe = fopen(CLI_RISK_DEFAULT_MODEL, "rb");
        d.model = probe ? CLI_RISK_DEFAULT_MODEL : "none";
        if (probe) {
            fclose(probe);
        } else {
            fprintf(stderr, "aura: demo: " CLI_RISK_DEFAULT_MODEL " not found (run from the "
                            "repository, or train one\n  with aura train-risk): no \"aura\" arm\n");
        }
    }
    if (strcmp(d.model, "none") != 0) {
        if ((rc = cli_risk_model_open(CMD, d.model, &cfc)) != CLI_EXIT_OK) {
            return rc;
        }
        n_arms = 3;
    }
    /* arms beyond none, rules (and aura): admission, recall, and the CfC
     * alone when aura has more than the CfC */
    int kinds[7] = {0, 1, 6, 0, 0, 0, 0}, n_kinds = n_arms;
    if (cfc && (d.requests > 0.0 || d.recall)) {
        kinds[n_kinds++] = 2;
    }
    if (d.requests > 0.0) {
        kinds[n_kinds++] = 3;
        kinds[n_kinds++] = 4;
    }
    aura_monitor_recall *recall = NULL, *recall_aura = NULL;
    if (d.recall) {
        aura_monitor_recall_opts ro = aura_monitor_recall_opts_default();
        if (aura_monitor_recall_create(&ro, &recall) != AURA_OK ||
            (cfc && aura_monitor_recall_create(&ro, &recall_aura) != AURA_OK)) {
            aura_monitor_recall_destroy(recall);
            aura_monitor_risk_cfc_destroy(cfc);
            cli_errorf(CMD, "cannot create the recall");
            return CLI_EXIT_FAIL;
        }
        kinds[n_kinds++] = 5;
    }
    n_arms = n_kinds;
    arm run0[7], cur[7];
    summary sm[7];
    memset(run0, 0, sizeof run0);
    memset(sm, 0, sizeof sm);
    uint64_t seed0 = d.so.seed;
    aura_status st = AURA_OK;
    for (int r = 0; r < d.runs && st == AURA_OK; r++) {
        d.so.seed = seed0 + (uint64_t)r;
        memset(cur, 0, sizeof cur);
        for (int k = 0; k < n_arms && st == AURA_OK; k++) {
            cur[k].name = names[kinds[k]];
            cur[k].act = kinds[k] > 0;
            cur[k].model = kinds[k] == 2 || kinds[k] == 6 ? cfc : NULL;
            cur[k].admit = kinds[k] == 3 ? 2 : (kinds[k] == 4 || (kinds[k] == 6 && d.requests > 0.0));
            cur[k].recall = kinds[k] == 5 ? recall : kinds[k] == 6 ? recall_aura : NULL;
            st = run_arm(&d, &cur[k]);
        }
        for (int k = 0; k < n_arms && st == AURA_OK; k++) {
            sm[k].name = names[kinds[k]];
            if (r == 0) {
                sm[k].first_cascade = -1;
            }
            add_run(&sm[k], &cur[k]);
        }
        if (r == 0) {
            memcpy(run0, cur, sizeof cur);
        } else {
            free_arms(cur, n_arms);
        }
    }
    d.so.seed = seed0;
    if (st != AURA_OK) {
        cli_errorf(CMD, "%s", aura_status_str(st));
        rc = st == AURA_E_FORMAT ? CLI_EXIT_USAGE : cli_exit_code(st);
    } else {
        print_table(&d, sm, n_arms, run0);
        rc = write_report(&d, sm, run0, n_arms);
        if (rc == CLI_EXIT_OK) {
            printf("\nReport: %s\n", d.report);
        }
    }
    free_arms(run0, n_arms);
    aura_monitor_recall_destroy(recall);
    aura_monitor_recall_destroy(recall_aura);
    aura_monitor_risk_cfc_destroy(cfc);
    return rc;
}
