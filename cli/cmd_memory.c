/* cmd_memory.c -- `aura memory`: the context store from the command line.
 *   load   writes N records, printing each key once it is acknowledged
 *   dump   prints every record as JSON lines {"key":...,"value":...}
 *   check  quick_check (or --full integrity_check) plus every checksum
 * SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aura/memory.h"
#include "cli.h"

static const char *const usage_text =
    "usage: aura memory load  STORE --n N [--fsync always|everysec|no]\n"
    "                         [--prefix P] [--value-size BYTES] [--ttl-ms MS]\n"
    "       aura memory dump  STORE [--prefix P]\n"
    "       aura memory check STORE [--full]\n"
    "STORE is --db DIR (the SQLite database DIR/" AURA_MEMORY_DB_FILE ")\n"
    "or --redis HOST:PORT (durability is the server's appendfsync);\n"
    "layouts in docs/memory.md.\n"
    "load   writes N records P<i> (i = 0..N-1) and prints each key on its own\n"
    "       line, flushed, once the write is acknowledged under the fsync policy\n"
    "       (default always: fsynced before the key is printed).\n"
    "dump   prints every live record as a JSON line {\"key\":...,\"value\":...}\n"
    "       (plus \"scope\" and \"version\"; a value that is not UTF-8 is given as\n"
    "       \"value_hex\").  A damaged record stops the dump with exit code 3.\n"
    "check  runs PRAGMA quick_check (--full: integrity_check) and verifies the\n"
    "       checksum of every record.\n"
    "Exit codes: 0 ok, 1 failed, 2 usage, 3 I/O, format or corruption.\n";

typedef struct args {
    const char *db, *prefix, *redis;
    long long n, value_size, ttl_ms;
    aura_memory_fsync fsync;
    int full;
} args;

static int parse_ll(const char *opt, const char *s, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || end == s || *end || v < lo || v > hi) {
        cli_errorf("memory", "%s: expected an integer in [%lld, %lld], got '%s'", opt, lo, hi,
                   s);
        return 0;
    }
    *out = v;
    return 1;
}

/* Returns -1 on success, else the exit code. */
static int parse_args(const char *sub, int argc, char **argv, args *a)
{
    *a = (args){.n = -1, .value_size = 32, .fsync = AURA_MEMORY_FSYNC_ALWAYS};
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(o, "--full") == 0) {
            a->full = 1;
            continue;
        }
        if (i + 1 >= argc) {
            cli_errorf("memory", "%s %s: unknown option or missing value", sub, o);
            return CLI_EXIT_USAGE;
        }
        const char *v = argv[++i];
        if (strcmp(o, "--db") == 0) {
            a->db = v;
        } else if (strcmp(o, "--redis") == 0) {
            a->redis = v;
        } else if (strcmp(o, "--prefix") == 0) {
            a->prefix = v;
        } else if (strcmp(o, "--n") == 0) {
            if (!parse_ll(o, v, 0, 1000000000LL, &a->n)) return CLI_EXIT_USAGE;
        } else if (strcmp(o, "--value-size") == 0) {
            if (!parse_ll(o, v, 0, AURA_MEMORY_MAX_VALUE_LEN, &a->value_size))
                return CLI_EXIT_USAGE;
        } else if (strcmp(o, "--ttl-ms") == 0) {
            if (!parse_ll(o, v, 0, INT32_MAX, &a->ttl_ms)) return CLI_EXIT_USAGE;
        } else if (strcmp(o, "--fsync") == 0) {
            if (aura_memory_fsync_parse(v, &a->fsync) != AURA_OK) {
                cli_errorf("memory", "--fsync: expected always, everysec or no, got '%s'", v);
                return CLI_EXIT_USAGE;
            }
        } else {
            cli_errorf("memory", "%s: unknown option '%s'", sub, o);
            return CLI_EXIT_USAGE;
        }
    }
    if (!a->db == !a->redis) {
        cli_errorf("memory", "%s: exactly one of --db DIR and --redis HOST:PORT is required", sub);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static int open_redis(const args *a, aura_memory_store **s)
{
    char host[256];
    const char *colon = strrchr(a->redis, ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : 6379;
    size_t hl = colon ? (size_t)(colon - a->redis) : strlen(a->redis);
    if (hl == 0 || hl >= sizeof host || port <= 0 || port > 65535) {
        cli_errorf("memory", "--redis: expected HOST:PORT, got '%s'", a->redis);
        return CLI_EXIT_USAGE;
    }
    memcpy(host, a->redis, hl);
    host[hl] = 0;
    aura_status st = aura_memory_store_open_redis(host, (int)port, NULL, s);
    if (st != AURA_OK) {
        cli_errorf("memory", "%s: %s", aura_memory_last_open_error(), aura_status_str(st));
        return CLI_EXIT_INPUT;
    }
    return -1;
}

static int open_store(const args *a, int existing_only, aura_memory_store **s)
{
    if (a->redis) {
        return open_redis(a, s);
    }
    aura_memory_opts o = aura_memory_opts_default();
    o.fsync = a->fsync;
    /* dump/check open read-write (so SQLite can recover a WAL left by a
     * crash) but never create anything. */
    o.create = !existing_only;
    aura_status st = aura_memory_store_open(a->db, &o, s);
    if (st != AURA_OK) {
        cli_errorf("memory", "%s: %s", aura_memory_last_open_error(), aura_status_str(st));
        return cli_exit_code(st) == CLI_EXIT_USAGE ? CLI_EXIT_INPUT : cli_exit_code(st);
    }
    return -1;
}

static int fail(aura_memory_store *s, const char *what, aura_status st)
{
    cli_errorf("memory", "%s: %s: %s", what, aura_memory_store_errmsg(s), aura_status_str(st));
    int rc = cli_exit_code(st);
    aura_memory_store_destroy(s);
    return rc == CLI_EXIT_USAGE ? CLI_EXIT_FAIL : rc;
}

static int do_load(const args *a)
{
    if (a->n < 0) {
        cli_errorf("memory", "load: --n N is required");
        return CLI_EXIT_USAGE;
    }
    const char *prefix = a->prefix ? a->prefix : "key-";
    if (strlen(prefix) + 20 > AURA_MEMORY_MAX_KEY_LEN) {
        cli_errorf("memory", "load: --prefix longer than %u bytes", AURA_MEMORY_MAX_KEY_LEN - 20);
        return CLI_EXIT_USAGE;
    }
    aura_memory_store *s = NULL;
    int rc = open_store(a, 0, &s);
    if (rc >= 0) {
        return rc;
    }
    char *val = malloc((size_t)a->value_size + 1);
    char key[AURA_MEMORY_MAX_KEY_LEN + 1];
    if (!val) {
        aura_memory_store_destroy(s);
        cli_errorf("memory", "load: out of memory");
        return CLI_EXIT_FAIL;
    }
    for (long long i = 0; i < a->n; i++) {
        snprintf(key, sizeof key, "%s%lld", prefix, i);
        for (long long j = 0; j < a->value_size; j++) {
            val[j] = (char)('a' + (i * 7 + j) % 26);
        }
        aura_status st = aura_memory_kv_put(s, NULL, key, val, (size_t)a->value_size,
                                            a->ttl_ms, NULL);
        if (st != AURA_OK) {
            free(val);
            return fail(s, key, st);
        }
        /* Acknowledged: committed under the fsync policy.  Only now print. */
        if (printf("%s\n", key) < 0 || fflush(stdout) != 0) {
            free(val);
            aura_memory_store_destroy(s);
            cli_errorf("memory", "load: writing to stdout: %s", strerror(errno));
            return CLI_EXIT_INPUT;
        }
    }
    free(val);
    aura_memory_store_destroy(s);
    return CLI_EXIT_OK;
}

/* 1 if [p, p+n) is well-formed UTF-8 without NUL. */
static int is_utf8(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (c == 0 || len == 0 || i + len > n || (len == 2 && c < 0xc2)) {
            return 0;
        }
        for (size_t j = 1; j < len; j++) {
            if ((p[i + j] & 0xc0) != 0x80) {
                return 0;
            }
        }
        i += len;
    }
    return 1;
}

static void put_json_string(FILE *f, const unsigned char *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned c = p[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
        } else if (c == '\n') {
            fputs("\\n", f);
        } else if (c == '\t') {
            fputs("\\t", f);
        } else if (c == '\r') {
            fputs("\\r", f);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
        } else {
            fputc((int)c, f);
        }
    }
    fputc('"', f);
}

static int dump_one(void *ctx, const aura_memory_record *r)
{
    FILE *f = ctx;
    fputs("{\"key\":", f);
    put_json_string(f, (const unsigned char *)r->key, strlen(r->key));
    const unsigned char *v = r->value;
    if (is_utf8(v, r->value_len)) {
        fputs(",\"value\":", f);
        put_json_string(f, v, r->value_len);
    } else {
        fputs(",\"value_hex\":\"", f);
        for (size_t i = 0; i < r->value_len; i++) {
            fprintf(f, "%02x", v[i]);
        }
        fputc('"', f);
    }
    fputs(",\"scope\":", f);
    put_json_string(f, (const unsigned char *)r->scope, strlen(r->scope));
    fprintf(f, ",\"version\":%llu,\"expires_ms\":%lld}\n", (unsigned long long)r->version,
            (long long)r->expires_ms);
    return ferror(f) != 0;
}

static int do_dump(const args *a)
{
    aura_memory_store *s = NULL;
    int rc = open_store(a, 1, &s);
    if (rc >= 0) {
        return rc;
    }
    aura_status st = aura_memory_kv_scan(s, NULL, 1, a->prefix, dump_one, stdout);
    if (st != AURA_OK) {
        fflush(stdout);
        return fail(s, "dump", st);
    }
    aura_memory_store_destroy(s);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_errorf("memory", "dump: writing to stdout: %s", strerror(errno));
        return CLI_EXIT_INPUT;
    }
    return CLI_EXIT_OK;
}

static int do_check(const args *a)
{
    aura_memory_store *s = NULL;
    int rc = open_store(a, 1, &s);
    if (rc >= 0) {
        return rc;
    }
    aura_status st = aura_memory_store_check(s, a->full);
    if (st != AURA_OK) {
        return fail(s, "check", st);
    }
    aura_memory_store_destroy(s);
    printf("ok\n");
    return CLI_EXIT_OK;
}

int cmd_memory(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "load") != 0 && strcmp(sub, "dump") != 0 && strcmp(sub, "check") != 0) {
        cli_errorf("memory", "unknown subcommand '%s' (load, dump, check)", sub);
        return CLI_EXIT_USAGE;
    }
    args a;
    int rc = parse_args(sub, argc, argv, &a);
    if (rc >= 0) {
        return rc;
    }
    if (strcmp(sub, "load") == 0) {
        return do_load(&a);
    }
    return strcmp(sub, "dump") == 0 ? do_dump(&a) : do_check(&a);
}
