/* bench_tda_batch.c -- many small point clouds: aura_tda_batch_compute_points
 * (1 thread and all cores) against aura_tda_compute_points in a loop.
 * With an output directory it also writes every cloud as a point-cloud text
 * file (cloud_NNNNN.txt) so bench_tda_batch.sh can time Ripser, one process
 * per cloud, on the same data.
 *
 * Usage: bench_tda_batch [n_clouds [dim [out_dir [what]]]]   (default 10000 1)
 * what: all (default) or one variant's name (see V below; for instruction
 * counts under callgrind); out_dir "-" writes no files.  Every variant must
 * give the same number of pairs (checked).
 * Clouds: 50-200 points (uniform), noisy circles in R^3 with random
 * radius, seeded, so every cloud has some H1.
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aura/rng.h"
#include "aura/tda_extras.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    size_t nc = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 10000;
    int max_dim = argc > 2 ? atoi(argv[2]) : 1;
    const char *dir = argc > 3 && strcmp(argv[3], "-") != 0 ? argv[3] : NULL;
    const char *what = argc > 4 ? argv[4] : "all";
    aura_rng g;
    aura_rng_init(&g, 12345);
    float **pts = malloc(nc * sizeof(float *));
    size_t *sizes = malloc(nc * sizeof(size_t));
    size_t total_pts = 0;
    for (size_t c = 0; c < nc; c++) {
        sizes[c] = 50 + aura_rng_below(&g, 151);
        total_pts += sizes[c];
        pts[c] = malloc(sizes[c] * 3 * sizeof(float));
        double r = 0.5 + aura_rng_uniform(&g);
        for (size_t i = 0; i < sizes[c]; i++) {
            double t = 2 * M_PI * aura_rng_uniform(&g);
            pts[c][3 * i] = (float)(r * cos(t) + 0.15 * aura_rng_normal(&g));
            pts[c][3 * i + 1] = (float)(r * sin(t) + 0.15 * aura_rng_normal(&g));
            pts[c][3 * i + 2] = (float)(0.15 * aura_rng_normal(&g));
        }
        if (dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/cloud_%05zu.txt", dir, c);
            FILE *f = fopen(path, "w");
            if (!f) {
                perror(path);
                return 1;
            }
            for (size_t i = 0; i < sizes[c]; i++) {
                fprintf(f, "%.9g,%.9g,%.9g\n", (double)pts[c][3 * i], (double)pts[c][3 * i + 1],
                        (double)pts[c][3 * i + 2]);
            }
            fclose(f);
        }
    }
    aura_tda_opts o = aura_tda_opts_default();
    o.max_dim = max_dim;
    printf("clouds: %zu, points: %zu (50-200 each, R^3), max dim %d\n", nc, total_pts, max_dim);

    /* name, batch?, threads (0 = all cores), collapse? */
    static const struct {
        const char *name;
        int batch, threads, collapse;
    } V[] = {{"loop_compute_points", 0, 1, 0},  {"loop_compute_points_collapsed", 0, 1, 1},
             {"batch_1_thread", 1, 1, 0},       {"batch_all_threads", 1, 0, 0},
             {"batch_1_thread_collapse", 1, 1, 1}, {"batch_all_threads_collapse", 1, 0, 1}};
    size_t want_pairs = 0;
    for (size_t v = 0; v < sizeof V / sizeof V[0]; v++) {
        if (strcmp(what, "all") != 0 && strcmp(what, V[v].name) != 0) {
            continue;
        }
        double t0 = now();
        size_t pairs = 0;
        if (!V[v].batch) {
            for (size_t c = 0; c < nc; c++) {
                aura_tda_result *r = NULL;
                aura_status st =
                    V[v].collapse ? aura_tda_compute_points_collapsed(&o, pts[c], sizes[c], 3, &r)
                                  : aura_tda_compute_points(&o, pts[c], sizes[c], 3, &r);
                if (st != AURA_OK) {
                    fprintf(stderr, "%s failed on cloud %zu\n", V[v].name, c);
                    return 1;
                }
                for (int d = 0; d <= aura_tda_result_max_dim(r); d++) {
                    pairs += aura_tda_result_count(r, d);
                }
                aura_tda_result_destroy(r);
            }
        } else {
            aura_tda_batch *b = NULL;
            if (aura_tda_batch_compute_points(&o, nc, (const float *const *)pts, sizes, 3,
                                              V[v].threads, V[v].collapse, &b,
                                              NULL) != AURA_OK) {
                fprintf(stderr, "%s failed\n", V[v].name);
                return 1;
            }
            for (size_t c = 0; c < nc; c++) {
                for (int d = 0; d <= aura_tda_batch_max_dim(b, c); d++) {
                    size_t n = 0;
                    (void)aura_tda_batch_pairs(b, c, d, &n);
                    pairs += n;
                }
            }
            aura_tda_batch_destroy(b);
        }
        double t = now() - t0;
        if (want_pairs && pairs != want_pairs) {
            fprintf(stderr, "%s: %zu pairs, expected %zu\n", V[v].name, pairs, want_pairs);
            return 1;
        }
        want_pairs = pairs;
        printf("%-32s %8.3f s  (%zu pairs)\n", V[v].name, t, pairs);
        fflush(stdout);
    }
    for (size_t c = 0; c < nc; c++) {
        free(pts[c]);
    }
    free(pts);
    free(sizes);
    return 0;
}
