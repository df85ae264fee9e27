/* safetensors.c -- reading and writing safetensors files of float32
 * tensors: an 8-byte little-endian header length N, N bytes of JSON
 * (parsed with cJSON), then the raw data.  Every offset, shape and size is
 * checked before use; anything odd is AURA_E_FORMAT with a message.
 * SPDX-License-Identifier: MIT */
#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lnn/lnn_int.h"

#define ST_MAX_HEADER (64u << 20) /* a header larger than 64 MiB is refused */
#define ST_MAX_DIMS 4

typedef struct st_entry {
    char *name;
    int ndim;
    size_t shape[ST_MAX_DIMS];
    size_t begin, end; /* byte offsets in the data section */
    float *data;       /* into blob */
} st_entry;

struct aura_lnn_tensors {
    const aura_allocator *alloc;
    size_t n;
    st_entry *e;
    float *blob;
    size_t n_meta;
    char **meta_key, **meta_val;
};

void aura__lnn_errf(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || cap == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

void aura_lnn_tensors_destroy(aura_lnn_tensors *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        aura__free(t->alloc, t->e[i].name);
    }
    for (size_t i = 0; i < t->n_meta; i++) {
        aura__free(t->alloc, t->meta_key[i]);
        aura__free(t->alloc, t->meta_val[i]);
    }
    aura__free(t->alloc, t->meta_key);
    aura__free(t->alloc, t->meta_val);
    aura__free(t->alloc, t->e);
    aura__free(t->alloc, t->blob);
    aura__free(t->alloc, t);
}

/* A JSON number that is a non-negative integer below 2^53. */
static int json_size(const cJSON *v, size_t *out)
{
    if (!cJSON_IsNumber(v)) {
        return 0;
    }
    double d = v->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || floor(d) != d) {
        return 0;
    }
    *out = (size_t)d;
    return 1;
}

static aura_status parse_entry(const cJSON *it, st_entry *e, size_t data_len, char *err,
                               size_t cap)
{
    const char *nm = it->string;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
    const cJSON *of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
    if (!cJSON_IsObject(it) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of)) {
        aura__lnn_errf(err, cap, "tensor '%s': needs dtype, shape and data_offsets", nm);
        return AURA_E_FORMAT;
    }
    if (strcmp(dt->valuestring, "F32") != 0) {
        aura__lnn_errf(err, cap, "tensor '%s': dtype '%.16s' not supported (only F32)", nm,
                       dt->valuestring);
        return AURA_E_FORMAT;
    }
    int nd = cJSON_GetArraySize(sh);
    if (nd > ST_MAX_DIMS) {
        aura__lnn_errf(err, cap, "tensor '%s': %d dimensions (at most %d)", nm, nd, ST_MAX_DIMS);
        return AURA_E_FORMAT;
    }
    size_t elems = 1;
    for (int i = 0; i < nd; i++) {
        size_t d;
        if (!json_size(cJSON_GetArrayItem(sh, i), &d) || (d && elems > SIZE_MAX / 8 / d)) {
            aura__lnn_errf(err, cap, "tensor '%s': bad shape entry %d", nm, i);
            return AURA_E_FORMAT;
        }
        e->shape[i] = d;
        elems *= d;
    }
    e->ndim = nd;
    if (cJSON_GetArraySize(of) != 2 || !json_size(cJSON_GetArrayItem(of, 0), &e->begin) ||
        !json_size(cJSON_GetArrayItem(of, 1), &e->end) || e->begin > e->end ||
        e->end > data_len) {
        aura__lnn_errf(err, cap, "tensor '%s': data_offsets out of range (data section %zu bytes)",
                       nm, data_len);
        return AURA_E_FORMAT;
    }
    if (e->end - e->begin != 4 * elems) {
        aura__lnn_errf(err, cap, "tensor '%s': %zu bytes for %zu float32 values", nm,
                       e->end - e->begin, elems);
        return AURA_E_FORMAT;
    }
    return AURA_OK;
}

static aura_status parse_meta(aura_lnn_tensors *t, const cJSON *md, char *err, size_t cap)
{
    if (!cJSON_IsObject(md)) {
        aura__lnn_errf(err, cap, "__metadata__ is not an object");
        return AURA_E_FORMAT;
    }
    size_t n = (size_t)cJSON_GetArraySize(md);
    t->meta_key = aura__calloc(t->alloc, n ? n : 1, sizeof(char *));
    t->meta_val = aura__calloc(t->alloc, n ? n : 1, sizeof(char *));
    if (!t->meta_key || !t->meta_val) {
        return AURA_E_NOMEM;
    }
    for (const cJSON *it = md->child; it; it = it->next) {
        if (!cJSON_IsString(it)) {
            aura__lnn_errf(err, cap, "__metadata__ value '%s' is not a string", it->string);
            return AURA_E_FORMAT;
        }
        t->meta_key[t->n_meta] = aura__strdup(t->alloc, it->string);
        t->meta_val[t->n_meta] = aura__strdup(t->alloc, it->valuestring);
        t->n_meta++;
        if (!t->meta_key[t->n_meta - 1] || !t->meta_val[t->n_meta - 1]) {
            return AURA_E_NOMEM;
        }
    }
    return AURA_OK;
}

static int cmp_begin(const void *a, const void *b)
{
    const st_entry *x = *(st_entry *const *)a, *y = *(st_entry *const *)b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

/* Overlap and duplicate-name checks. */
static aura_status check_layout(aura_lnn_tensors *t, char *err, size_t cap)
{
    st_entry **order = aura__alloc_array(t->alloc, t->n ? t->n : 1, sizeof(*order));
    if (!order) {
        return AURA_E_NOMEM;
    }
    for (size_t i = 0; i < t->n; i++) {
        order[i] = &t->e[i];
    }
    qsort(order, t->n, sizeof(*order), cmp_begin);
    aura_status st = AURA_OK;
    size_t last_end = 0;
    const char *last = NULL;
    for (size_t i = 0; i < t->n && st == AURA_OK; i++) {
        if (order[i]->begin == order[i]->end) {
            continue; /* empty tensors take no space */
        }
        if (last && order[i]->begin < last_end) {
            aura__lnn_errf(err, cap, "tensors '%s' and '%s' overlap in the data section", last,
                           order[i]->name);
            st = AURA_E_FORMAT;
        }
        last_end = order[i]->end;
        last = order[i]->name;
    }
    aura__free(t->alloc, order);
    for (size_t i = 0; i < t->n && st == AURA_OK; i++) {
        for (size_t j = i + 1; j < t->n; j++) {
            if (strcmp(t->e[i].name, t->e[j].name) == 0) {
                aura__lnn_errf(err, cap, "tensor '%s' appears twice", t->e[i].name);
                st = AURA_E_FORMAT;
                break;
            }
        }
    }
    return st;
}

static aura_status parse_header(aura_lnn_tensors *t, const cJSON *root, const unsigned char *data,
                                size_t data_len, char *err, size_t cap)
{
    size_t n = 0, total = 0;
    for (const cJSON *it = root->child; it; it = it->next) {
        n += strcmp(it->string, "__metadata__") != 0;
    }
    t->e = aura__calloc(t->alloc, n ? n : 1, sizeof(st_entry));
    if (!t->e) {
        return AURA_E_NOMEM;
    }
    aura_status st = AURA_OK;
    for (const cJSON *it = root->child; it && st == AURA_OK; it = it->next) {
        if (strcmp(it->string, "__metadata__") == 0) {
            st = t->meta_key ? AURA_E_FORMAT : parse_meta(t, it, err, cap);
            continue;
        }
        st_entry *e = &t->e[t->n];
        st = parse_entry(it, e, data_len, err, cap);
        if (st == AURA_OK) {
            e->name = aura__strdup(t->alloc, it->string);
            st = e->name ? AURA_OK : AURA_E_NOMEM;
            t->n++;
            total += (e->end - e->begin) / 4;
        }
    }
    if (st == AURA_OK) {
        st = check_layout(t, err, cap);
    }
    if (st != AURA_OK) {
        return st;
    }
    t->blob = aura__alloc_array(t->alloc, total ? total : 1, sizeof(float));
    if (!t->blob) {
        return AURA_E_NOMEM;
    }
    size_t pos = 0;
    for (size_t i = 0; i < t->n; i++) {
        st_entry *e = &t->e[i];
        e->data = t->blob + pos;
        memcpy(e->data, data + e->begin, e->end - e->begin);
        pos += (e->end - e->begin) / 4;
    }
    return AURA_OK;
}

aura_status aura_lnn_tensors_load_buffer(const aura_lnn_opts *opts, const void *buf, size_t len,
                                         aura_lnn_tensors **out, char *err, size_t err_cap)
{
    AURA_CHECK_ARG(out);
    AURA_CHECK_ARG(buf || len == 0);
    const unsigned char *b = buf;
    if (len < 8) {
        aura__lnn_errf(err, err_cap, "file of %zu bytes is too short for a safetensors header",
                       len);
        return AURA_E_FORMAT;
    }
    uint64_t hn = 0;
    for (int i = 7; i >= 0; i--) {
        hn = hn << 8 | b[i];
    }
    if (hn > len - 8 || hn > ST_MAX_HEADER) {
        aura__lnn_errf(err, err_cap, "header length %llu runs past the end of the file (%zu bytes)",
                       (unsigned long long)hn, len);
        return AURA_E_FORMAT;
    }
    const aura_allocator *a = opts ? opts->alloc : NULL;
    aura_lnn_tensors *t = aura__calloc(a, 1, sizeof(*t));
    char *hdr = aura__alloc(a, (size_t)hn + 1);
    if (!t || !hdr) {
        aura__free(a, t);
        aura__free(a, hdr);
        return AURA_E_NOMEM;
    }
    t->alloc = a;
    memcpy(hdr, b + 8, (size_t)hn);
    hdr[hn] = 0;
    cJSON *root = cJSON_ParseWithLength(hdr, (size_t)hn);
    aura_status st = AURA_OK;
    if (!root || !cJSON_IsObject(root)) {
        aura__lnn_errf(err, err_cap, "header is not a JSON object");
        st = AURA_E_FORMAT;
    } else {
        st = parse_header(t, root, b + 8 + hn, len - 8 - (size_t)hn, err, err_cap);
        if (st == AURA_E_NOMEM) {
            aura__lnn_errf(err, err_cap, "out of memory");
        }
    }
    cJSON_Delete(root);
    aura__free(a, hdr);
    if (st != AURA_OK) {
        aura_lnn_tensors_destroy(t);
        return st;
    }
    *out = t;
    return AURA_OK;
}

aura_status aura_lnn_tensors_load(const aura_lnn_opts *opts, const char *path,
                                  aura_lnn_tensors **out, char *err, size_t err_cap)
{
    AURA_CHECK_ARG(path && out);
    const aura_allocator *a = opts ? opts->alloc : NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        aura__lnn_errf(err, err_cap, "%s: %s", path, strerror(errno));
        return AURA_E_IO;
    }
    long sz = -1;
    if (fseek(f, 0, SEEK_END) == 0) {
        sz = ftell(f);
    }
    if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        aura__lnn_errf(err, err_cap, "%s: cannot determine the file size", path);
        return AURA_E_IO;
    }
    unsigned char *buf = aura__alloc(a, (size_t)sz + 1);
    if (!buf) {
        fclose(f);
        return AURA_E_NOMEM;
    }
    size_t got = fread(buf, 1, (size_t)sz, f);
    fclose(f);
    if (got != (size_t)sz) {
        aura__free(a, buf);
        aura__lnn_errf(err, err_cap, "%s: short read", path);
        return AURA_E_IO;
    }
    char sub[200] = "";
    aura_status st = aura_lnn_tensors_load_buffer(opts, buf, got, out, sub, sizeof sub);
    aura__free(a, buf);
    if (st != AURA_OK) {
        aura__lnn_errf(err, err_cap, "%s: %s", path, sub[0] ? sub : aura_status_str(st));
    }
    return st;
}

const float *aura_lnn_tensors_get(const aura_lnn_tensors *t, const char *name, size_t shape[4],
                                  int *ndim)
{
    if (!t || !name) {
        return NULL;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->e[i].name, name) == 0) {
            if (shape) {
                memcpy(shape, t->e[i].shape, sizeof(t->e[i].shape));
            }
            if (ndim) {
                *ndim = t->e[i].ndim;
            }
            return t->e[i].data;
        }
    }
    return NULL;
}

const char *aura_lnn_tensors_meta(const aura_lnn_tensors *t, const char *key)
{
    if (!t || !key) {
        return NULL;
    }
    for (size_t i = 0; i < t->n_meta; i++) {
        if (strcmp(t->meta_key[i], key) == 0) {
            return t->meta_val[i];
        }
    }
    return NULL;
}

static cJSON *header_json(const aura_lnn_tensor *ts, size_t n, const char *config_json)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        return NULL;
    }
    cJSON *md = cJSON_AddObjectToObject(root, "__metadata__");
    int ok = md && cJSON_AddStringToObject(md, "format", "pt");
    if (ok && config_json) {
        ok = cJSON_AddStringToObject(md, "config", config_json) != NULL;
    }
    size_t off = 0;
    for (size_t i = 0; ok && i < n; i++) {
        size_t elems = 1;
        double shp[4];
        for (int d = 0; d < ts[i].ndim; d++) {
            elems *= ts[i].shape[d];
            shp[d] = (double)ts[i].shape[d];
        }
        cJSON *e = cJSON_AddObjectToObject(root, ts[i].name);
        double offs[2] = {(double)off, (double)(off + 4 * elems)};
        ok = e && cJSON_AddStringToObject(e, "dtype", "F32") &&
             cJSON_AddItemToObject(e, "shape", cJSON_CreateDoubleArray(shp, ts[i].ndim)) &&
             cJSON_AddItemToObject(e, "data_offsets", cJSON_CreateDoubleArray(offs, 2));
        off += 4 * elems;
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

aura_status aura_lnn_tensors_save(const char *path, const aura_lnn_tensor *ts, size_t n,
                                  const char *config_json)
{
    AURA_CHECK_ARG(path && (ts || n == 0));
    for (size_t i = 0; i < n; i++) {
        if (!ts[i].name || ts[i].ndim < 0 || ts[i].ndim > 4) {
            return AURA_E_INVAL;
        }
    }
    cJSON *root = header_json(ts, n, config_json);
    char *txt = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!txt) {
        return AURA_E_NOMEM;
    }
    size_t hl = strlen(txt), pad = (8 - hl % 8) % 8;
    uint64_t hn = hl + pad;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) {
        len8[i] = (unsigned char)(hn >> (8 * i));
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(txt);
        return AURA_E_IO;
    }
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(txt, 1, hl, f) == hl;
    for (size_t i = 0; ok && i < pad; i++) {
        ok = fputc(' ', f) != EOF;
    }
    free(txt);
    for (size_t i = 0; ok && i < n; i++) {
        size_t elems = 1;
        for (int d = 0; d < ts[i].ndim; d++) {
            elems *= ts[i].shape[d];
        }
        ok = elems == 0 || fwrite(ts[i].data, sizeof(float), elems, f) == elems;
    }
    if (fclose(f) != 0) {
        ok = 0;
    }
    return ok ? AURA_OK : AURA_E_IO;
}
