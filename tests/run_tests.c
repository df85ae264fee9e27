/* run_tests.c -- runs every AURA_TEST in a forked child with a timeout.
 *
 * Usage: run_tests [-j N] [-l] [--no-fork] [FILTER...]
 * A test runs if its name contains any FILTER.  Prints one line per test
 * and ends with "N passed, N failed, N skipped".
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

typedef struct test_entry {
    const char *name;
    aura_test_fn fn;
    const char *file;
} test_entry;

static test_entry *g_tests;
static size_t g_n_tests, g_cap_tests;

void aura_test_register(const char *name, aura_test_fn fn, const char *file)
{
    if (g_n_tests == g_cap_tests) {
        g_cap_tests = g_cap_tests ? 2 * g_cap_tests : 64;
        g_tests = realloc(g_tests, g_cap_tests * sizeof *g_tests);
        if (!g_tests) {
            abort();
        }
    }
    g_tests[g_n_tests++] = (test_entry){name, fn, file};
}

static int cmp_tests(const void *a, const void *b)
{
    const test_entry *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : strcmp(x->name, y->name);
}

static int matches(const char *name, char **filters, int n_filters)
{
    if (n_filters == 0) {
        return 1;
    }
    for (int i = 0; i < n_filters; i++) {
        if (strstr(name, filters[i])) {
            return 1;
        }
    }
    return 0;
}

typedef struct running {
    pid_t pid;
    size_t test;
    FILE *log;
    double t0;
} running;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int g_timeout_s = 600;

static pid_t start_test(size_t i, FILE *log)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = fileno(log);
        dup2(fd, 1);
        dup2(fd, 2);
        alarm((unsigned)g_timeout_s);
        srand(12345);
        g_tests[i].fn();
        fflush(NULL);
        _exit(0);
    }
    return pid;
}

static void dump_log(FILE *log)
{
    char buf[4096];
    size_t n;
    fflush(log);
    rewind(log);
    while ((n = fread(buf, 1, sizeof buf, log)) > 0) {
        fwrite(buf, 1, n, stdout);
    }
}

/* Returns 0 passed, 1 failed, 2 skipped. */
static int report(running *r, int wstatus)
{
    double dt = now_s() - r->t0;
    const char *name = g_tests[r->test].name;
    int result;
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
        printf("ok    %-50s %8.2fs\n", name, dt);
        result = 0;
    } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == AURA_TEST_SKIP_CODE) {
        printf("skip  %-50s %8.2fs\n", name, dt);
        dump_log(r->log);
        result = 2;
    } else {
        if (WIFSIGNALED(wstatus)) {
            printf("FAIL  %-50s %8.2fs (signal %d%s)\n", name, dt, WTERMSIG(wstatus),
                   WTERMSIG(wstatus) == SIGALRM ? ", timeout" : "");
        } else {
            printf("FAIL  %-50s %8.2fs (exit %d)\n", name, dt, WEXITSTATUS(wstatus));
        }
        dump_log(r->log);
        result = 1;
    }
    fclose(r->log);
    fflush(stdout);
    return result;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: run_tests [-j N] [-l] [--no-fork] [FILTER...]\n"
               "  -j N, -jN  run N tests at once (default 1)\n"
               "  -l         list the tests and exit\n"
               "  --no-fork  run in this process (for debuggers); stops at the first failure\n"
               "  FILTER     run only tests whose name contains one of these\n"
               "environment: AURA_SHARED (reference data), AURA_TEST_TIMEOUT (s, default 600)\n");
}

int main(int argc, char **argv)
{
    int jobs = 1, list = 0, no_fork = 0, n_filters = 0;
    char **filters = calloc((size_t)argc + 1, sizeof *filters);
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "-j", 2) == 0 && (argv[i][2] || i + 1 < argc)) {
            jobs = atoi(argv[i][2] ? argv[i] + 2 : argv[++i]); /* -j N or -jN */
            jobs = jobs < 1 ? 1 : jobs;
        } else if (strcmp(argv[i], "-l") == 0) {
            list = 1;
        } else if (strcmp(argv[i], "--no-fork") == 0) {
            no_fork = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            free(filters);
            return 0;
        } else if (argv[i][0] == '-') {
            usage(stderr);
            free(filters);
            return 2;
        } else {
            filters[n_filters++] = argv[i];
        }
    }
    if (getenv("AURA_TEST_TIMEOUT")) {
        g_timeout_s = atoi(getenv("AURA_TEST_TIMEOUT"));
    }
    qsort(g_tests, g_n_tests, sizeof *g_tests, cmp_tests);
    int passed = 0, failed = 0, skipped = 0;
    running *slots = calloc((size_t)jobs, sizeof *slots);
    int active = 0;
    size_t next = 0;
    for (;;) {
        while (active < jobs && next < g_n_tests) {
            size_t i = next++;
            if (!matches(g_tests[i].name, filters, n_filters)) {
                continue;
            }
            if (list) {
                printf("%s\n", g_tests[i].name);
                continue;
            }
            if (no_fork) {
                printf("run   %s\n", g_tests[i].name);
                g_tests[i].fn();
                passed++;
                continue;
            }
            for (int s = 0; s < jobs; s++) {
                if (slots[s].pid == 0) {
                    slots[s].log = tmpfile();
                    slots[s].test = i;
                    slots[s].t0 = now_s();
                    slots[s].pid = start_test(i, slots[s].log);
                    active++;
                    break;
                }
            }
        }
        if (active == 0) {
            break;
        }
        int wstatus;
        pid_t pid = wait(&wstatus);
        if (pid < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        for (int s = 0; s < jobs; s++) {
            if (slots[s].pid == pid) {
                int r = report(&slots[s], wstatus);
                passed += r == 0;
                failed += r == 1;
                skipped += r == 2;
                slots[s].pid = 0;
                active--;
            }
        }
    }
    if (!list) {
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    }
    free(slots);
    free(filters);
    free(g_tests);
    return failed ? 1 : 0;
}
