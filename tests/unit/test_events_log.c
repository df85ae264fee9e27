/* test_events_log.c -- the raw event log: rotation, replay in order,
 * flush-before-crash, truncated and damaged files, plain inputs.
 * SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aura/events_log.h"
#include "test.h"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The log files in dir, sorted; returns how many. */
static int list_logs(const char *dir, char names[][512], int cap)
{
    DIR *d = opendir(dir);
    ASSERT_TRUE(d != NULL);
    char *ptrs[64];
    static char buf[64][512];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap && n < 64) {
        if (strstr(e->d_name, ".jsonl.zst")) {
            snprintf(buf[n], sizeof buf[n], "%s/%s", dir, e->d_name);
            ptrs[n] = buf[n];
            n++;
        }
    }
    closedir(d);
    qsort(ptrs, (size_t)n, sizeof ptrs[0], cmp_names);
    for (int i = 0; i < n; i++) {
        snprintf(names[i], 512, "%s", ptrs[i]);
    }
    return n;
}

static aura_events_event ev_at(aura_events_interner *agents, int i)
{
    aura_events_event e;
    char name[32];
    memset(&e, 0, sizeof e);
    e.ts_us = 1000LL * i;
    e.kind = AURA_EVENTS_REPLY;
    int n = snprintf(name, sizeof name, "agent-%d", i % 50);
    ASSERT_OK(aura_events_interner_intern(agents, name, (size_t)n, &e.src));
    e.dst = AURA_EVENTS_NO_AGENT;
    e.latency_ms = (float)(i % 1000) * 0.5f;
    e.flags = AURA_EVENTS_F_HAS_LATENCY;
    return e;
}

/* Reads every event of the files in order; returns the count, checking
 * ts == 1000 * index. */
static int replay(char names[][512], int n_files, aura_events_interner *agents, int *truncated)
{
    aura_events_event batch[512];
    int total = 0;
    *truncated = 0;
    for (int k = 0; k < n_files; k++) {
        aura_events_reader *r = NULL; /* a reader reads one stream to its end */
        ASSERT_OK(aura_events_reader_create(NULL, agents, &r));
        FILE *f = aura_events_open_file(names[k]);
        ASSERT_TRUE(f != NULL);
        size_t n;
        do {
            ASSERT_OK(aura_events_reader_read(r, f, batch, 512, &n));
            for (size_t i = 0; i < n; i++, total++) {
                ASSERT_EQ(1000LL * total, batch[i].ts_us);
            }
        } while (n);
        aura_events_reader_stats rs;
        aura_events_reader_get_stats(r, &rs);
        ASSERT_EQ(0, rs.skipped);
        *truncated |= aura_events_open_errmsg()[0] != '\0';
        fclose(f);
        aura_events_reader_destroy(r);
    }
    return total;
}

AURA_TEST(events_log_rotates_and_replays_in_order)
{
    const char *dir = test_path("%s/log", test_tmpdir());
    aura_events_interner *agents;
    ASSERT_OK(aura_events_interner_create(NULL, &agents));
    aura_events_log_opts o = aura_events_log_opts_default();
    o.max_bytes = 100000;
    aura_events_log *log = NULL;
    ASSERT_OK(aura_events_log_open(dir, &o, agents, &log));
    ASSERT_STREQ("", aura_events_log_path(log));
    enum { N = 20000 };
    for (int i = 0; i < N; i += 100) {
        aura_events_event ev[100];
        for (int j = 0; j < 100; j++) {
            ev[j] = ev_at(agents, i + j);
        }
        ASSERT_OK(aura_events_log_append(log, ev, NULL, 100));
    }
    aura_events_log_destroy(log);
    aura_events_log_destroy(NULL);
    char names[64][512];
    int n_files = list_logs(dir, names, 64);
    ASSERT_TRUE(n_files >= 10); /* ~1.2 MB of JSON in files of 100 kB */
    int truncated;
    ASSERT_EQ(N, replay(names, n_files, agents, &truncated));
    ASSERT_EQ(0, truncated);
    aura_events_interner_destroy(agents);
}

AURA_TEST(events_log_flush_survives_a_crash_and_truncation_is_reported)
{
    const char *dir = test_path("%s/crash", test_tmpdir());
    aura_events_interner *agents;
    ASSERT_OK(aura_events_interner_create(NULL, &agents));
    pid_t pid = fork();
    if (pid == 0) {
        aura_events_log *log = NULL;
        if (aura_events_log_open(dir, NULL, agents, &log) != AURA_OK) {
            _exit(1);
        }
        for (int i = 0; i < 5000; i++) {
            aura_events_event e = ev_at(agents, i);
            if (aura_events_log_append(log, &e, NULL, 1) != AURA_OK) {
                _exit(1);
            }
        }
        if (aura_events_log_flush(log) != AURA_OK) {
            _exit(1);
        }
        _exit(0); /* a crash: the frame is never finished */
    }
    int st;
    waitpid(pid, &st, 0);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char names[4][512];
    ASSERT_EQ(1, list_logs(dir, names, 4));
    int truncated;
    ASSERT_EQ(5000, replay(names, 1, agents, &truncated));
    ASSERT_EQ(1, truncated);
    ASSERT_TRUE(strstr(aura_events_open_errmsg(), "truncated") != NULL);
    aura_events_interner_destroy(agents);
}

AURA_TEST(events_log_damage_is_detected)
{
    const char *dir = test_path("%s/dmg", test_tmpdir());
    aura_events_interner *agents;
    ASSERT_OK(aura_events_interner_create(NULL, &agents));
    aura_events_log *log = NULL;
    ASSERT_OK(aura_events_log_open(dir, NULL, agents, &log));
    for (int i = 0; i < 3000; i++) {
        aura_events_event e = ev_at(agents, i);
        ASSERT_OK(aura_events_log_append(log, &e, NULL, 1));
    }
    aura_events_log_destroy(log);
    char names[4][512];
    ASSERT_EQ(1, list_logs(dir, names, 4));
    aura_rng rng;
    aura_rng_init(&rng, 3);
    FILE *f = fopen(names[0], "r+b");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    for (int trial = 0; trial < 20; trial++) {
        long pos = 8 + (long)aura_rng_below(&rng, (uint64_t)(size - 8));
        fseek(f, pos, SEEK_SET);
        int c = fgetc(f);
        fseek(f, pos, SEEK_SET);
        fputc(c ^ 0x10, f);
        fflush(f);
        /* Reading must report the damage: a zstd error or skipped lines. */
        FILE *in = aura_events_open_file(names[0]);
        aura_events_reader *r = NULL;
        aura_log_set_level(AURA_LOG_OFF);
        ASSERT_OK(aura_events_reader_create(NULL, agents, &r));
        aura_events_event batch[512];
        size_t n;
        int total = 0;
        while (aura_events_reader_read(r, in, batch, 512, &n) == AURA_OK && n) {
            total += (int)n;
        }
        aura_events_reader_stats rs;
        aura_events_reader_get_stats(r, &rs);
        ASSERT_TRUE(aura_events_open_errmsg()[0] != '\0' || rs.skipped > 0 || total != 3000);
        aura_events_reader_destroy(r);
        fclose(in);
        fseek(f, pos, SEEK_SET);
        fputc(c, f); /* repair for the next trial */
        fflush(f);
    }
    fclose(f);
    aura_events_interner_destroy(agents);
}

AURA_TEST(events_log_open_file_reads_plain_input_and_rejects_bad_dirs)
{
    const char *path = test_path("%s/plain.jsonl", test_tmpdir());
    FILE *w = fopen(path, "w");
    fprintf(w, "{\"ts\":0,\"kind\":\"heartbeat\",\"src\":\"a\"}\n");
    fclose(w);
    FILE *f = aura_events_open_file(path);
    ASSERT_TRUE(f != NULL);
    char line[128];
    ASSERT_TRUE(fgets(line, sizeof line, f) != NULL);
    ASSERT_TRUE(strncmp(line, "{\"ts\":0", 7) == 0);
    fclose(f);
    ASSERT_TRUE(aura_events_open_file("/nonexistent/x") == NULL);
    ASSERT_TRUE(strstr(aura_events_open_errmsg(), "cannot open") != NULL);
    aura_events_interner *agents;
    ASSERT_OK(aura_events_interner_create(NULL, &agents));
    aura_events_log *log = NULL;
    ASSERT_STATUS(AURA_E_IO, aura_events_log_open(path, NULL, agents, &log)); /* a file */
    aura_events_log_opts o = aura_events_log_opts_default();
    o.level = 42;
    ASSERT_STATUS(AURA_E_RANGE, aura_events_log_open(test_tmpdir(), &o, agents, &log));
    ASSERT_TRUE(log == NULL);
    aura_events_interner_destroy(agents);
}
