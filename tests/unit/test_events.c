/* test_events.c -- event schema, interner, JSON-lines reader and writer:
 * round trips, located errors, strict mode, chunk boundaries, a seeded
 * mutation fuzz of the reader, OOM sweeps.
 * SPDX-License-Identifier: MIT */
#include <stdint.h>

#include "aura/events.h"
#include "test.h"

static aura_events_reader *new_reader(aura_events_interner **agents, int strict)
{
    aura_events_reader *r = NULL;
    aura_events_jsonl_opts o = aura_events_jsonl_opts_default();
    o.strict = strict;
    ASSERT_OK(aura_events_interner_create(NULL, agents));
    ASSERT_OK(aura_events_reader_create(&o, *agents, &r));
    return r;
}

static aura_status parse(aura_events_reader *r, const char *line, aura_events_event *ev)
{
    return aura_events_reader_parse_line(r, line, strlen(line), ev);
}

AURA_TEST(events_kind_and_state_names_round_trip)
{
    for (int k = 0; k < AURA_EVENTS_KIND_COUNT; k++) {
        const char *name = aura_events_kind_name((aura_events_kind)k);
        aura_events_kind back;
        ASSERT_TRUE(name != NULL);
        ASSERT_OK(aura_events_kind_parse(name, strlen(name), &back));
        ASSERT_EQ(k, back);
    }
    aura_events_kind k;
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_events_kind_parse("calls", 5, &k));
    ASSERT_TRUE(aura_events_kind_name(AURA_EVENTS_KIND_COUNT) == NULL);
    for (int s = 0; s < AURA_EVENTS_STATE_COUNT; s++) {
        const char *name = aura_events_state_name((aura_events_state)s);
        aura_events_state back;
        ASSERT_OK(aura_events_state_parse(name, strlen(name), &back));
        ASSERT_EQ(s, back);
    }
    ASSERT_EQ(64, sizeof(aura_events_event));
}

AURA_TEST(events_id_hash_keeps_16_hex_digit_ids)
{
    ASSERT_EQ(0xffULL, aura_events_id_hash("00000000000000ff", 16));
    ASSERT_EQ(0, aura_events_id_hash("", 0));
    ASSERT_NE(0, aura_events_id_hash("0000000000000000", 16));
    ASSERT_NE(aura_events_id_hash("abc", 3), aura_events_id_hash("abd", 3));
}

AURA_TEST(events_interner_assigns_dense_stable_ids)
{
    aura_events_interner *in = NULL;
    ASSERT_OK(aura_events_interner_create(NULL, &in));
    char name[32];
    const char *first = NULL;
    for (uint32_t i = 0; i < 20000; i++) {
        uint32_t id;
        int n = snprintf(name, sizeof name, "agent-%u", i);
        ASSERT_OK(aura_events_interner_intern(in, name, (size_t)n, &id));
        ASSERT_EQ(i, id);
        if (i == 0) {
            first = aura_events_interner_name(in, 0);
        }
    }
    ASSERT_EQ(20000, aura_events_interner_count(in));
    ASSERT_TRUE(first == aura_events_interner_name(in, 0)); /* pointers stay valid */
    for (uint32_t i = 0; i < 20000; i += 997) {
        uint32_t id;
        int n = snprintf(name, sizeof name, "agent-%u", i);
        ASSERT_OK(aura_events_interner_find(in, name, (size_t)n, &id));
        ASSERT_EQ(i, id);
        ASSERT_STREQ(name, aura_events_interner_name(in, id));
    }
    uint32_t id;
    ASSERT_STATUS(AURA_E_NOTFOUND, aura_events_interner_find(in, "nobody", 6, &id));
    ASSERT_STATUS(AURA_E_RANGE, aura_events_interner_intern(in, "", 0, &id));
    ASSERT_TRUE(aura_events_interner_name(in, 20000) == NULL);
    aura_events_interner_destroy(in);
    aura_events_interner_destroy(NULL);
    aura_events_reader_destroy(NULL);
}

AURA_TEST(events_interner_survives_oom)
{
    for (long fail_at = 0; fail_at < 40; fail_at++) {
        const aura_allocator *a = test_failing_alloc(fail_at);
        aura_events_interner *in = NULL;
        aura_status st = aura_events_interner_create(a, &in);
        ASSERT_TRUE(st == AURA_OK || (st == AURA_E_NOMEM && in == NULL));
        char name[32];
        for (int i = 0; st == AURA_OK && i < 100; i++) {
            uint32_t id;
            int n = snprintf(name, sizeof name, "a%d", i);
            st = aura_events_interner_intern(in, name, (size_t)n, &id);
            ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
            if (st == AURA_OK) {
                ASSERT_EQ(i, id);
            }
        }
        aura_events_interner_destroy(in);
        ASSERT_EQ(0, test_alloc_live_blocks());
    }
}

AURA_TEST(events_reader_parses_every_field)
{
    aura_events_interner *agents;
    aura_events_reader *r = new_reader(&agents, 0);
    aura_events_event ev;
    ASSERT_OK(parse(r, "{\"ts\":1234.5,\"kind\":\"reply\",\"src\":\"a\",\"dst\":\"b\","
                       "\"latency_ms\":12.25,\"ok\":false,\"load\":0.75,\"tokens\":99,"
                       "\"priority\":-2,\"state\":\"degraded\",\"trace\":\"t1\","
                       "\"span\":\"00000000000000aa\",\"correlation\":\"c\",\"extra\":1}",
                    &ev));
    ASSERT_EQ(1234500, ev.ts_us);
    ASSERT_EQ(AURA_EVENTS_REPLY, ev.kind);
    ASSERT_STREQ("a", aura_events_interner_name(agents, ev.src));
    ASSERT_STREQ("b", aura_events_interner_name(agents, ev.dst));
    ASSERT_NEAR(12.25, ev.latency_ms, 0);
    ASSERT_TRUE((ev.flags & AURA_EVENTS_F_HAS_OK) && !(ev.flags & AURA_EVENTS_F_OK));
    ASSERT_NEAR(0.75, ev.load, 0);
    ASSERT_EQ(99, ev.tokens);
    ASSERT_EQ(-2, ev.priority);
    ASSERT_EQ(AURA_EVENTS_STATE_DEGRADED, ev.state);
    ASSERT_EQ(aura_events_id_hash("t1", 2), ev.trace);
    ASSERT_EQ(0xaa, ev.span);
    ASSERT_STREQ("{\"extra\":1}", aura_events_reader_meta(r, ev.meta, NULL));
    ASSERT_OK(parse(r, "{\"ts_us\":7,\"kind\":\"heartbeat\",\"src\":\"a\",\"dst\":null}", &ev));
    ASSERT_EQ(7, ev.ts_us);
    ASSERT_EQ(AURA_EVENTS_NO_AGENT, ev.dst);
    ASSERT_EQ(0, ev.flags);
    ASSERT_EQ(2, aura_events_interner_count(agents));
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(agents);
}

static void expect_error(aura_events_reader *r, const char *line, const char *msg_part)
{
    aura_events_event ev;
    memset(&ev, 0xAB, sizeof ev);
    aura_events_event before = ev;
    ASSERT_STATUS(AURA_E_FORMAT, parse(r, line, &ev));
    ASSERT_TRUE(memcmp(&ev, &before, sizeof ev) == 0); /* output untouched */
    const char *msg = aura_events_reader_errmsg(r);
    if (!strstr(msg, msg_part)) {
        AURA_FAIL_("message \"%s\" lacks \"%s\" (line %s)", msg, msg_part, line);
    }
}

AURA_TEST(events_reader_errors_name_line_and_column)
{
    aura_events_interner *agents;
    aura_events_reader *r = new_reader(&agents, 1);
    expect_error(r, "{\"ts\":1,\"kind\":\"nope\",\"src\":\"a\"}", "line 1, column 9: field \"kind\"");
    expect_error(r, "{\"ts\":1,\"kind\":\"call\" \"src\":\"a\"}", "line 2, column");
    expect_error(r, "{\"kind\":\"call\",\"src\":\"a\"}", "missing field \"ts\"");
    expect_error(r, "{\"ts\":1,\"src\":\"a\"}", "missing field \"kind\"");
    expect_error(r, "{\"ts\":1,\"kind\":\"call\"}", "missing field \"src\"");
    expect_error(r, "{\"ts\":1,\"kind\":\"call\",\"src\":\"\"}", "agent id");
    expect_error(r, "{\"ts\":1,\"kind\":\"call\",\"src\":\"a\",\"load\":-0.5}", "negative");
    expect_error(r, "{\"ts\":1e300,\"kind\":\"call\",\"src\":\"a\"}", "out of range");
    expect_error(r, "{\"ts\":1,\"kind\":\"call\",\"src\":\"a\",\"tokens\":1.5}", "tokens");
    expect_error(r, "{\"ts\":1,\"kind\":\"call\",\"src\":\"a\",\"priority\":40000}", "priority");
    expect_error(r, "{\"ts\":1,\"kind\":\"call\",\"src\":\"a\",\"ok\":1}", "true or false");
    expect_error(r, "{\"ts\":1,\"kind\":\"call\",\"src\":\"a\",\"meta\":3}", "meta");
    expect_error(r, "[1,2]", "expected a JSON object");
    expect_error(r, "{\"ts\":1,\"kind\":\"call\",\"src\":\"a\"", "line 14");
    expect_error(r, "{\"ts\":NaN,\"kind\":\"call\",\"src\":\"a\"}", "invalid JSON");
    ASSERT_EQ(0, aura_events_interner_count(agents)); /* rejected lines add no agents */
    aura_events_event ev;
    ASSERT_STATUS(AURA_E_NOTFOUND, parse(r, "  \r", &ev));
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(agents);
}

static aura_events_event random_event(aura_rng *rng, aura_events_interner *agents)
{
    aura_events_event e;
    char name[32];
    memset(&e, 0, sizeof e);
    e.ts_us = (int64_t)aura_rng_below(rng, 1000000000000ULL) - 1000;
    e.kind = (uint16_t)aura_rng_below(rng, AURA_EVENTS_KIND_COUNT);
    int n = snprintf(name, sizeof name, "ag\"ent\\%u", (unsigned)aura_rng_below(rng, 50));
    ASSERT_OK(aura_events_interner_intern(agents, name, (size_t)n, &e.src));
    e.dst = AURA_EVENTS_NO_AGENT;
    if (aura_rng_below(rng, 2)) {
        n = snprintf(name, sizeof name, "b-%u\t", (unsigned)aura_rng_below(rng, 50));
        ASSERT_OK(aura_events_interner_intern(agents, name, (size_t)n, &e.dst));
    }
    unsigned flags = (unsigned)aura_rng_below(rng, 1u << 10);
    if (flags & AURA_EVENTS_F_HAS_LATENCY) {
        e.latency_ms = (float)(aura_rng_uniform(rng) * 1e4);
    }
    if (flags & AURA_EVENTS_F_HAS_LOAD) {
        e.load = (float)aura_rng_uniform(rng) * 3.0f;
    }
    if (flags & AURA_EVENTS_F_HAS_TOKENS) {
        e.tokens = (uint32_t)aura_rng_u64(rng);
    }
    if (flags & AURA_EVENTS_F_HAS_PRIORITY) {
        e.priority = (int16_t)(aura_rng_below(rng, 65536) - 32768);
    }
    if (flags & AURA_EVENTS_F_HAS_STATE) {
        e.state = (uint8_t)aura_rng_below(rng, AURA_EVENTS_STATE_COUNT);
    }
    if (flags & AURA_EVENTS_F_HAS_TRACE) {
        e.trace = aura_rng_u64(rng) | 1;
    }
    if (flags & AURA_EVENTS_F_HAS_SPAN) {
        e.span = aura_rng_u64(rng) | 1;
    }
    if (flags & AURA_EVENTS_F_HAS_CORRELATION) {
        e.correlation = aura_rng_u64(rng) | 1;
    }
    if (!(flags & AURA_EVENTS_F_HAS_OK)) {
        flags &= ~(unsigned)AURA_EVENTS_F_OK;
    }
    e.flags = (uint16_t)flags;
    return e;
}

AURA_TEST(events_format_then_parse_round_trips_exactly)
{
    aura_events_interner *agents;
    aura_events_reader *r = new_reader(&agents, 1);
    aura_rng rng;
    aura_rng_init(&rng, 7);
    char line[4096];
    for (int i = 0; i < 5000; i++) {
        aura_events_event e = random_event(&rng, agents), back;
        size_t len;
        ASSERT_OK(aura_events_event_format(&e, agents, NULL, line, sizeof line, &len));
        ASSERT_EQ(strlen(line), len);
        ASSERT_TRUE(line[len - 1] == '\n');
        ASSERT_OK(aura_events_reader_parse_line(r, line, len - 1, &back));
        if (memcmp(&e, &back, sizeof e) != 0) {
            AURA_FAIL_("round trip changed the event: %s", line);
        }
    }
    aura_events_event e = random_event(&rng, agents);
    size_t len = 0;
    ASSERT_STATUS(AURA_E_RANGE, aura_events_event_format(&e, agents, NULL, line, 10, &len));
    ASSERT_OK(aura_events_event_format(&e, agents, "{\"k\":[1]}", line, sizeof line, &len));
    ASSERT_TRUE(strstr(line, ",\"meta\":{\"k\":[1]}}\n") != NULL);
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(agents);
}

/* Writes `text` to a temporary file opened for reading. */
static FILE *file_with(const char *text, size_t len)
{
    FILE *f = tmpfile();
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(len, fwrite(text, 1, len, f));
    rewind(f);
    return f;
}

AURA_TEST(events_reader_reads_files_across_chunks)
{
    /* ~3 MiB of lines so that lines straddle the 1 MiB read chunks; CRLF
     * endings, blank lines, a bad line and a final line without newline. */
    size_t cap = 4u << 20, len = 0;
    char *text = malloc(cap);
    int n_events = 0;
    for (int i = 0; len < (3u << 20); i++) {
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"ts\":%d,\"kind\":\"call\",\"src\":\"a%d\",\"dst\":\"b%d\"}%s",
                                i, i % 97, i % 89, i % 3 ? "\n" : "\r\n");
        n_events++;
        if (i % 1000 == 0) {
            len += (size_t)snprintf(text + len, cap - len, "\n{\"ts\":1,\"kind\":\n");
        }
    }
    len += (size_t)snprintf(text + len, cap - len, "{\"ts\":5,\"kind\":\"load\",\"src\":\"z\"}");
    n_events++;
    FILE *f = file_with(text, len);
    aura_events_interner *agents;
    aura_events_reader *r = new_reader(&agents, 0);
    aura_events_event batch[1000];
    size_t n, total = 0;
    int64_t expect_ts = 0;
    aura_log_set_level(AURA_LOG_ERROR); /* the skipped lines would warn */
    do {
        ASSERT_OK(aura_events_reader_read(r, f, batch, 1000, &n));
        for (size_t i = 0; i < n; i++, total++) {
            if ((int)total < n_events - 1) {
                ASSERT_EQ(expect_ts * 1000, batch[i].ts_us);
                expect_ts++;
            } else {
                ASSERT_EQ(AURA_EVENTS_LOAD, batch[i].kind);
            }
        }
    } while (n);
    aura_events_reader_stats st;
    aura_events_reader_get_stats(r, &st);
    ASSERT_EQ(n_events, total);
    ASSERT_EQ(n_events, st.events);
    ASSERT_EQ((n_events - 1 + 999) / 1000, st.skipped);
    ASSERT_EQ(97 + 89 + 1, aura_events_interner_count(agents));
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(agents);
    fclose(f);
    free(text);
}

AURA_TEST(events_reader_strict_mode_stops_at_the_bad_line)
{
    const char *text = "{\"ts\":1,\"kind\":\"call\",\"src\":\"a\"}\n"
                       "{\"ts\":2,\"kind\":\"call\",\"src\":\"a\"}\n"
                       "{\"ts\":3,\"kind\":\"call\",\"src\":}\n"
                       "{\"ts\":4,\"kind\":\"call\",\"src\":\"a\"}\n";
    FILE *f = file_with(text, strlen(text));
    aura_events_interner *agents;
    aura_events_reader *r = new_reader(&agents, 1);
    aura_events_event batch[10];
    size_t n = 99;
    ASSERT_STATUS(AURA_E_FORMAT, aura_events_reader_read(r, f, batch, 10, &n));
    ASSERT_EQ(2, n);
    ASSERT_TRUE(strstr(aura_events_reader_errmsg(r), "line 3, column") != NULL);
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(agents);
    fclose(f);
}

AURA_TEST(events_reader_skips_over_long_lines)
{
    aura_events_interner *agents;
    aura_events_reader *r = NULL;
    aura_events_jsonl_opts o = aura_events_jsonl_opts_default();
    o.max_line = 100;
    ASSERT_OK(aura_events_interner_create(NULL, &agents));
    ASSERT_OK(aura_events_reader_create(&o, agents, &r));
    size_t big = 3u << 20;
    char *text = malloc(big + 200);
    int k = snprintf(text, 200, "{\"ts\":1,\"kind\":\"call\",\"src\":\"a\"}\n{\"ts\":2,\"x\":\"");
    memset(text + k, 'x', big);
    int k2 = snprintf(text + k + big, 200, "\"}\n{\"ts\":3,\"kind\":\"call\",\"src\":\"a\"}\n");
    FILE *f = file_with(text, (size_t)k + big + (size_t)k2);
    aura_events_event batch[10];
    size_t n, total = 0;
    aura_log_set_level(AURA_LOG_ERROR);
    do {
        ASSERT_OK(aura_events_reader_read(r, f, batch + total, 10 - total, &n));
        total += n;
    } while (n);
    ASSERT_EQ(2, total);
    ASSERT_EQ(3000, batch[1].ts_us);
    aura_events_reader_stats st;
    aura_events_reader_get_stats(r, &st);
    ASSERT_EQ(1, st.skipped);
    ASSERT_EQ(3, st.lines);
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(agents);
    fclose(f);
    free(text);
}

AURA_TEST(events_reader_fuzz_never_crashes)
{
    static const char *seeds[] = {
        "{\"ts\":1234.5,\"kind\":\"reply\",\"src\":\"a\",\"dst\":\"b\",\"latency_ms\":12.25,"
        "\"ok\":false,\"load\":0.75,\"tokens\":99,\"priority\":-2,\"state\":\"degraded\"}",
        "{\"ts_us\":7,\"kind\":\"heartbeat\",\"src\":\"a\",\"meta\":{\"k\":[1,{\"z\":null}]}}",
        "{\"ts\":1,\"kind\":\"custom\",\"src\":\"\\u00e9\",\"x\":\"\\n\",\"trace\":\"abc\"}"};
    static const char alphabet[] = "{}[]\":,.-+eE0123456789truefalsn\\u \t\x01\xff";
    aura_events_interner *agents;
    aura_events_reader *r = new_reader(&agents, 0);
    aura_rng rng;
    aura_rng_init(&rng, 2024);
    char line[512], out[4096];
    int ok = 0;
    for (int it = 0; it < 30000; it++) {
        const char *seed = seeds[it % 3];
        size_t len = strlen(seed);
        memcpy(line, seed, len);
        int muts = 1 + (int)aura_rng_below(&rng, 4);
        for (int m = 0; m < muts; m++) {
            size_t pos = aura_rng_below(&rng, len);
            switch (aura_rng_below(&rng, 3)) {
            case 0: /* replace */
                line[pos] = alphabet[aura_rng_below(&rng, sizeof alphabet - 1)];
                break;
            case 1: /* delete */
                memmove(line + pos, line + pos + 1, len - pos - 1);
                len--;
                break;
            default: /* truncate */
                len = pos;
                break;
            }
            if (len == 0) {
                break;
            }
        }
        aura_events_event ev, back;
        aura_status st = aura_events_reader_parse_line(r, line, len, &ev);
        ASSERT_TRUE(st == AURA_OK || st == AURA_E_FORMAT || st == AURA_E_NOTFOUND);
        if (st == AURA_OK) {
            ok++;
            /* What was accepted must format and re-parse to the same event. */
            size_t n;
            const char *meta = aura_events_reader_meta(r, ev.meta, NULL);
            ASSERT_OK(aura_events_event_format(&ev, agents, meta, out, sizeof out, &n));
            ASSERT_OK(aura_events_reader_parse_line(r, out, n - 1, &back));
            ev.meta = back.meta; /* handles are reader-local */
            ASSERT_TRUE(memcmp(&ev, &back, sizeof ev) == 0);
        } else {
            ASSERT_TRUE(strlen(aura_events_reader_errmsg(r)) > 0);
        }
    }
    ASSERT_TRUE(ok > 100); /* the fuzz also exercised the accepting path */
    aura_events_reader_destroy(r);
    aura_events_interner_destroy(agents);
}

AURA_TEST(events_reader_survives_oom)
{
    const char *text = "{\"ts\":1,\"kind\":\"call\",\"src\":\"a\",\"meta\":{\"m\":1}}\n"
                       "{\"ts\":2,\"kind\":\"call\",\"src\":\"b\",\"dst\":\"c\"}\n";
    for (long fail_at = 0; fail_at < 30; fail_at++) {
        const aura_allocator *a = test_failing_alloc(fail_at);
        aura_events_interner *agents = NULL;
        aura_events_reader *r = NULL;
        aura_events_jsonl_opts o = aura_events_jsonl_opts_default();
        o.alloc = a;
        o.strict = 1;
        aura_status st = aura_events_interner_create(a, &agents);
        if (st == AURA_OK) {
            st = aura_events_reader_create(&o, agents, &r);
        }
        if (st == AURA_OK) {
            FILE *f = file_with(text, strlen(text));
            aura_events_event ev[4];
            size_t n = 0;
            st = aura_events_reader_read(r, f, ev, 4, &n);
            ASSERT_TRUE(st == AURA_OK || st == AURA_E_NOMEM);
            if (st == AURA_OK) {
                ASSERT_EQ(2, n);
            }
            fclose(f);
        } else {
            ASSERT_EQ(AURA_E_NOMEM, st);
        }
        aura_events_reader_destroy(r);
        aura_events_interner_destroy(agents);
        ASSERT_EQ(0, test_alloc_live_blocks());
    }
}

AURA_TEST(events_cli_reports_located_errors)
{
    const char *dir = test_tmpdir();
    const char *in = test_path("%s/in.jsonl", dir);
    FILE *f = fopen(in, "w");
    fprintf(f, "{\"ts\":1,\"kind\":\"call\",\"src\":\"a\"}\n{\"ts\":2,\"kind\":\"bogus\",\"src\":\"a\"}\n");
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s events cat --strict %s >%s/out 2>%s/err", test_aura_bin(), in,
             dir, dir);
    int rc = system(cmd);
    ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 3);
    FILE *e = fopen(test_path("%s/err", dir), "r");
    char msg[512] = {0};
    ASSERT_TRUE(fread(msg, 1, sizeof msg - 1, e) > 0);
    fclose(e);
    ASSERT_TRUE(strstr(msg, "line 2, column 9: field \"kind\"") != NULL);
    snprintf(cmd, sizeof cmd, "%s events check %s 2>/dev/null", test_aura_bin(), in);
    rc = system(cmd);
    ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    snprintf(cmd, sizeof cmd, "%s events check /nonexistent 2>/dev/null", test_aura_bin());
    rc = system(cmd);
    ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 3);
}
