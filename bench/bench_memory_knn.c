/* bench_memory_knn.c -- times aura_memory_knn_search one query at a time.
 * Built and driven by bench_memory_knn.py, which writes the data:
 *   bench_memory_knn BASE.f32 QUERIES.f32 DIM K OUT_IDS.i64
 * BASE/QUERIES are raw little-endian float32 rows.  Prints one JSON line
 * with per-query latency percentiles (ms) and writes the result ids.
 * SPDX-License-Identifier: MIT */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aura/memory.h"

static float *read_f32(const char *path, size_t dim, size_t *rows)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(3);
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *p = malloc((size_t)sz);
    if (!p || fread(p, 1, (size_t)sz, f) != (size_t)sz) {
        fprintf(stderr, "%s: read failed\n", path);
        exit(3);
    }
    fclose(f);
    *rows = (size_t)sz / (dim * sizeof(float));
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this thread: excludes time the scheduler gave to others,
 * which dominates wall-clock percentiles on a shared 2-core machine. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s BASE.f32 QUERIES.f32 DIM K OUT_IDS.i64\n", argv[0]);
        return 2;
    }
    size_t dim = (size_t)atol(argv[3]), k = (size_t)atol(argv[4]), n = 0, nq = 0;
    float *base = read_f32(argv[1], dim, &n), *qs = read_f32(argv[2], dim, &nq);
    aura_memory_knn_opts o = aura_memory_knn_opts_default();
    o.dim = dim;
    aura_memory_knn *knn = NULL;
    if (aura_memory_knn_create(&o, &knn) != AURA_OK) {
        return 1;
    }
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        if (aura_memory_knn_add(knn, (int64_t)i, base + i * dim) != AURA_OK) {
            fprintf(stderr, "add %zu failed\n", i);
            return 1;
        }
    }
    double t_build = now_s() - t0;
    aura_memory_hit *hits = malloc(k * sizeof *hits);
    int64_t *ids = calloc(nq * k, sizeof *ids);
    double *lat = malloc(nq * sizeof *lat), *cpu = malloc(nq * sizeof *cpu);
    size_t got = 0;
    /* warm-up: touch the index once */
    aura_memory_knn_search(knn, qs, k, hits, &got);
    for (size_t q = 0; q < nq; q++) {
        double a = now_s(), c = cpu_s();
        if (aura_memory_knn_search(knn, qs + q * dim, k, hits, &got) != AURA_OK) {
            return 1;
        }
        lat[q] = (now_s() - a) * 1e3;
        cpu[q] = (cpu_s() - c) * 1e3;
        for (size_t i = 0; i < got; i++) {
            ids[q * k + i] = hits[i].id;
        }
    }
    double sum = 0;
    for (size_t q = 0; q < nq; q++) {
        sum += lat[q];
    }
    /* Batches of 16 queries: each block of the index read once for all. */
    enum { B = 16 };
    aura_memory_hit *bh = malloc(B * k * sizeof *bh);
    size_t bn[B];
    size_t nb = nq / B * B;
    double tb = now_s(), cb = cpu_s();
    for (size_t q = 0; q < nb; q += B) {
        if (aura_memory_knn_search_batch(knn, qs + q * dim, B, k, bh, bn) != AURA_OK) {
            return 1;
        }
        for (size_t b = 0; b < B; b++) {
            for (size_t i = 0; i < bn[b]; i++) {
                if (bh[b * k + i].id != ids[(q + b) * k + i]) {
                    fprintf(stderr, "batch result differs at query %zu\n", q + b);
                    return 1;
                }
            }
        }
    }
    double batch_ms = nb ? (now_s() - tb) * 1e3 / (double)nb : 0;
    double batch_cpu_ms = nb ? (cpu_s() - cb) * 1e3 / (double)nb : 0;
    free(bh);
    double csum = 0;
    for (size_t q = 0; q < nq; q++) {
        csum += cpu[q];
    }
    qsort(lat, nq, sizeof *lat, cmp_d);
    qsort(cpu, nq, sizeof *cpu, cmp_d);
    FILE *f = fopen(argv[5], "wb");
    if (!f || fwrite(ids, sizeof *ids, nq * k, f) != nq * k) {
        perror(argv[5]);
        return 3;
    }
    fclose(f);
    printf("{\"n\":%zu,\"dim\":%zu,\"k\":%zu,\"queries\":%zu,\"build_s\":%.3f,"
           "\"mean_ms\":%.4f,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"max_ms\":%.4f,"
           "\"cpu_mean_ms\":%.4f,\"cpu_p50_ms\":%.4f,\"cpu_p99_ms\":%.4f,"
           "\"batch16_ms\":%.4f,\"batch16_cpu_ms\":%.4f}\n",
           n, dim, k, nq, t_build, sum / (double)nq, lat[nq / 2], lat[(nq * 99) / 100],
           lat[nq - 1], csum / (double)nq, cpu[nq / 2], cpu[(nq * 99) / 100], batch_ms,
           batch_cpu_ms);
    aura_memory_knn_destroy(knn);
    free(base);
    free(qs);
    free(hits);
    free(ids);
    free(lat);
    free(cpu);
    return 0;
}
