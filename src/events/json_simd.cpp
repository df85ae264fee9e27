/* json_simd.cpp -- the one C++ file of the events module: parses one JSON
 * line into aura__events_fields with simdjson's DOM parser.
 *
 * simdjson was chosen over cJSON and json-c after measuring the three on
 * AURA's event shape (docs/events.md): about 3x cJSON's and 6x json-c's
 * parse rate, with full validation of every line.  It is C++, so this
 * shim exposes a C interface (events_int.h) and keeps exceptions inside.
 * SPDX-License-Identifier: MIT */
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "events_int.h"

static_assert(AURA__EVENTS_JSON_PADDING >= simdjson::SIMDJSON_PADDING,
              "lines need simdjson's padding");

struct aura__events_json {
    simdjson::dom::parser parser;
    explicit aura__events_json(size_t max_line) : parser(max_line) {}
};

extern "C" aura__events_json *aura__events_json_create(size_t max_line)
{
    try {
        return new (std::nothrow) aura__events_json(max_line);
    } catch (...) {
        return nullptr;
    }
}

extern "C" void aura__events_json_destroy(aura__events_json *j)
{
    delete j;
}

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

struct parse_error {
    const char *key; /* field the error is about, or nullptr */
    std::string msg;
};

/* Byte offset of "key" in the line, or SIZE_MAX. */
size_t key_offset(const char *line, size_t len, const char *key)
{
    size_t kn = std::strlen(key);
    for (size_t i = 0; i + kn + 2 <= len; i++) {
        if (line[i] == '"' && std::memcmp(line + i + 1, key, kn) == 0 && line[i + 1 + kn] == '"') {
            return i;
        }
    }
    return SIZE_MAX;
}

bool get_str(element v, aura__events_str *out)
{
    std::string_view s;
    if (v.get_string().get(s)) {
        return false;
    }
    out->p = s.data();
    out->n = s.size();
    return true;
}

bool get_num(element v, double *out)
{
    return !v.get_double().get(*out);
}

/* Integral JSON number (written as an integer or as x.0). */
bool get_int(element v, int64_t *out)
{
    if (v.is_int64()) {
        return !v.get_int64().get(*out);
    }
    double d;
    if (v.get_double().get(d) || !std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9e18) {
        return false;
    }
    *out = (int64_t)d;
    return true;
}

struct meta_writer {
    aura__events_buf *buf;
    bool open = false;
    aura_status st = AURA_OK;

    void raw(const char *p, size_t n)
    {
        if (st == AURA_OK) {
            st = aura__events_buf_append(buf, p, n);
        }
    }
    void member(std::string_view key, element v)
    {
        raw(open ? "," : "{", 1);
        open = true;
        if (st == AURA_OK) {
            st = aura__events_json_put_string(buf, key.data(), key.size());
        }
        raw(":", 1);
        std::string val = simdjson::to_string(v);
        raw(val.data(), val.size());
    }
    void close()
    {
        if (open) {
            raw("}", 1);
        }
    }
};

bool set_field(std::string_view key, element v, aura__events_fields *f, meta_writer &meta,
               parse_error &e)
{
#define FIELD_IS(name) (key == name)
    if (v.is_null()) {
        return true; /* null = absent */
    }
    if (FIELD_IS("ts")) {
        f->has |= AURA__EF_TS;
        if (get_num(v, &f->ts_ms)) return true;
        e = {"ts", "expected a number (milliseconds)"};
    } else if (FIELD_IS("ts_us")) {
        f->has |= AURA__EF_TS_US;
        if (get_int(v, &f->ts_us)) return true;
        e = {"ts_us", "expected an integer (microseconds)"};
    } else if (FIELD_IS("kind")) {
        f->has |= AURA__EF_KIND;
        if (get_str(v, &f->kind)) return true;
        e = {"kind", "expected a string"};
    } else if (FIELD_IS("src")) {
        f->has |= AURA__EF_SRC;
        if (get_str(v, &f->src)) return true;
        e = {"src", "expected a string (agent id)"};
    } else if (FIELD_IS("dst")) {
        f->has |= AURA__EF_DST;
        if (get_str(v, &f->dst)) return true;
        e = {"dst", "expected a string (agent id)"};
    } else if (FIELD_IS("latency_ms")) {
        f->has |= AURA__EF_LATENCY;
        if (get_num(v, &f->latency_ms)) return true;
        e = {"latency_ms", "expected a number"};
    } else if (FIELD_IS("ok")) {
        bool b;
        f->has |= AURA__EF_OK;
        if (!v.get_bool().get(b)) {
            f->ok = b;
            return true;
        }
        e = {"ok", "expected true or false"};
    } else if (FIELD_IS("load")) {
        f->has |= AURA__EF_LOAD;
        if (get_num(v, &f->load)) return true;
        e = {"load", "expected a number"};
    } else if (FIELD_IS("tokens")) {
        int64_t t;
        f->has |= AURA__EF_TOKENS;
        if (get_int(v, &t) && t >= 0 && t <= (int64_t)UINT32_MAX) {
            f->tokens = (uint64_t)t;
            return true;
        }
        e = {"tokens", "expected an integer in [0, 4294967295]"};
    } else if (FIELD_IS("priority")) {
        f->has |= AURA__EF_PRIORITY;
        if (get_int(v, &f->priority) && f->priority >= -32768 && f->priority <= 32767) return true;
        e = {"priority", "expected an integer in [-32768, 32767]"};
    } else if (FIELD_IS("state")) {
        f->has |= AURA__EF_STATE;
        if (get_str(v, &f->state)) return true;
        e = {"state", "expected a string"};
    } else if (FIELD_IS("trace")) {
        f->has |= AURA__EF_TRACE;
        if (get_str(v, &f->trace)) return true;
        e = {"trace", "expected a string"};
    } else if (FIELD_IS("span")) {
        f->has |= AURA__EF_SPAN;
        if (get_str(v, &f->span)) return true;
        e = {"span", "expected a string"};
    } else if (FIELD_IS("correlation")) {
        f->has |= AURA__EF_CORRELATION;
        if (get_str(v, &f->correlation)) return true;
        e = {"correlation", "expected a string"};
    } else if (FIELD_IS("meta")) {
        object m;
        if (v.get_object().get(m)) {
            e = {"meta", "expected an object"};
            return false;
        }
        for (auto mf : m) {
            meta.member(mf.key, mf.value);
        }
        return true;
    } else {
        meta.member(key, v); /* unknown fields are kept in meta */
        return true;
    }
#undef FIELD_IS
    return false;
}

} // namespace

extern "C" aura_status aura__events_json_parse(aura__events_json *j, const char *line, size_t len,
                                               aura__events_fields *f, aura__events_buf *meta,
                                               char *err, size_t err_cap, size_t *err_off)
{
    try {
        element doc;
        *f = aura__events_fields{};
        auto code = j->parser.parse(line, len, false).get(doc);
        if (code) {
            std::snprintf(err, err_cap, "invalid JSON: %s", simdjson::error_message(code));
            *err_off = SIZE_MAX;
            return code == simdjson::MEMALLOC ? AURA_E_NOMEM : AURA_E_FORMAT;
        }
        object obj;
        if (doc.get_object().get(obj)) {
            std::snprintf(err, err_cap, "expected a JSON object");
            *err_off = 0;
            return AURA_E_FORMAT;
        }
        meta_writer mw{meta};
        parse_error e{nullptr, {}};
        for (auto field : obj) {
            if (!set_field(field.key, field.value, f, mw, e)) {
                std::snprintf(err, err_cap, "field \"%s\": %s", e.key, e.msg.c_str());
                *err_off = key_offset(line, len, e.key);
                return AURA_E_FORMAT;
            }
        }
        mw.close();
        if (mw.open) {
            f->has |= AURA__EF_META;
        }
        return mw.st;
    } catch (const std::bad_alloc &) {
        std::snprintf(err, err_cap, "out of memory");
        *err_off = SIZE_MAX;
        return AURA_E_NOMEM;
    } catch (...) {
        std::snprintf(err, err_cap, "internal error in the JSON parser");
        *err_off = SIZE_MAX;
        return AURA_E_INTERNAL;
    }
}
