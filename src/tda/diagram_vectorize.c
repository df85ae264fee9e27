/* diagram_vectorize.c -- fixed-size summaries of persistence diagrams:
 * statistics and persistence entropy, Betti curves, persistence
 * landscapes (Bubenik 2015) and persistence images (Adams et al. 2017).
 * SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aura/tda_diagram.h"
#include "core/core_int.h"

/* The k-th of n equally spaced samples of [t_min, t_max], computed as
 * numpy.linspace does (k * step + t_min, the last one exactly t_max), so
 * that grids agree bit for bit with Python tools. */
static double sample(double t_min, double t_max, size_t k, size_t n)
{
    if (n == 1) {
        return t_min;
    }
    if (k == n - 1) {
        return t_max;
    }
    double step = (t_max - t_min) / (double)(n - 1);
    return (double)k * step + t_min;
}

static aura_status check_grid(double t_min, double t_max, size_t n_samples)
{
    if (n_samples == 0 || !isfinite(t_min) || !isfinite(t_max) || t_max < t_min) {
        return AURA_E_INVAL;
    }
    return AURA_OK;
}

aura_status aura_tda_diagram_summary(const aura_tda_interval *d, size_t n, aura_tda_summary *out)
{
    AURA_CHECK_ARG((d || n == 0) && out);
    aura_status st = aura_tda_diagram_check(d, n, NULL);
    if (st != AURA_OK) {
        return st;
    }
    aura_tda_summary s;
    memset(&s, 0, sizeof s);
    s.count = n;
    double sum_b = 0, sum_d = 0, sum_p2 = 0;
    size_t n_fin = 0;
    for (size_t i = 0; i < n; i++) {
        sum_b += d[i].birth;
        if (isinf(d[i].death)) {
            s.essential++;
            continue;
        }
        double p = d[i].death - d[i].birth;
        n_fin++;
        sum_d += d[i].death;
        s.total_persistence += p;
        sum_p2 += p * p;
        s.max_persistence = p > s.max_persistence ? p : s.max_persistence;
    }
    if (n) {
        s.mean_birth = sum_b / (double)n;
    }
    if (n_fin) {
        s.mean_death = sum_d / (double)n_fin;
        s.mean_persistence = s.total_persistence / (double)n_fin;
        double var = sum_p2 / (double)n_fin - s.mean_persistence * s.mean_persistence;
        s.std_persistence = var > 0 ? sqrt(var) : 0.0;
    }
    if (s.total_persistence > 0) {
        for (size_t i = 0; i < n; i++) {
            double p = d[i].death - d[i].birth;
            if (isfinite(p) && p > 0) {
                double q = p / s.total_persistence;
                s.entropy -= q * log(q);
            }
        }
    }
    *out = s;
    return AURA_OK;
}

aura_status aura_tda_betti_curve(const aura_tda_interval *d, size_t n, double t_min,
                                 double t_max, size_t n_samples, double *out)
{
    AURA_CHECK_ARG((d || n == 0) && out);
    aura_status st = check_grid(t_min, t_max, n_samples);
    if (st == AURA_OK) {
        st = aura_tda_diagram_check(d, n, NULL);
    }
    if (st != AURA_OK) {
        return st;
    }
    for (size_t k = 0; k < n_samples; k++) {
        double t = sample(t_min, t_max, k, n_samples);
        size_t c = 0;
        for (size_t i = 0; i < n; i++) {
            c += d[i].birth <= t && t < d[i].death;
        }
        out[k] = (double)c;
    }
    return AURA_OK;
}

/* Inserts v into the descending top-k list top[0..k). */
static void keep_top(double *top, size_t k, double v)
{
    if (k == 0 || v <= top[k - 1]) {
        return;
    }
    size_t i = k - 1;
    while (i > 0 && top[i - 1] < v) {
        top[i] = top[i - 1];
        i--;
    }
    top[i] = v;
}

aura_status aura_tda_landscape(const aura_tda_interval *d, size_t n, size_t n_layers,
                               double t_min, double t_max, size_t n_samples, double *out)
{
    AURA_CHECK_ARG((d || n == 0) && out);
    aura_status st = check_grid(t_min, t_max, n_samples);
    if (st == AURA_OK && (n_layers == 0 || n_layers > 4096)) {
        st = AURA_E_INVAL;
    }
    if (st == AURA_OK) {
        st = aura_tda_diagram_check(d, n, NULL);
    }
    if (st != AURA_OK) {
        return st;
    }
    double top[4096];
    for (size_t k = 0; k < n_samples; k++) {
        double t = sample(t_min, t_max, k, n_samples);
        for (size_t j = 0; j < n_layers; j++) {
            top[j] = 0.0;
        }
        for (size_t i = 0; i < n; i++) {
            if (isinf(d[i].death)) {
                continue;
            }
            double up = t - d[i].birth, down = d[i].death - t;
            keep_top(top, n_layers, up < down ? up : down);
        }
        for (size_t j = 0; j < n_layers; j++) {
            out[j * n_samples + k] = top[j];
        }
    }
    return AURA_OK;
}

aura_tda_image_opts aura_tda_image_opts_default(void)
{
    aura_tda_image_opts o;
    memset(&o, 0, sizeof o);
    o.res_birth = 20;
    o.res_pers = 20;
    o.sigma = 1.0;
    o.weight = AURA_TDA_WEIGHT_PERSISTENCE;
    o.ramp_end = 1.0;
    return o;
}

static double weight(const aura_tda_image_opts *o, double p)
{
    switch (o->weight) {
    case AURA_TDA_WEIGHT_CONSTANT:
        return 1.0;
    case AURA_TDA_WEIGHT_RAMP:
        return p >= o->ramp_end ? 1.0 : p / o->ramp_end;
    default:
        return p;
    }
}

/* Grid ranges from the data where the options leave them open. */
static void image_ranges(const aura_tda_interval *d, size_t n, aura_tda_image_opts *o)
{
    double bmin = INFINITY, bmax = -INFINITY, pmin = INFINITY, pmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isinf(d[i].death)) {
            continue;
        }
        double p = d[i].death - d[i].birth;
        bmin = fmin(bmin, d[i].birth);
        bmax = fmax(bmax, d[i].birth);
        pmin = fmin(pmin, p);
        pmax = fmax(pmax, p);
    }
    if (o->birth_min == o->birth_max && isfinite(bmin)) {
        o->birth_min = bmin;
        o->birth_max = bmax;
    }
    if (o->pers_min == o->pers_max && isfinite(pmin)) {
        o->pers_min = pmin;
        o->pers_max = pmax;
    }
}

aura_status aura_tda_persistence_image(const aura_tda_interval *d, size_t n,
                                       const aura_tda_image_opts *opts, double *out)
{
    AURA_CHECK_ARG((d || n == 0) && out);
    aura_tda_image_opts o = opts ? *opts : aura_tda_image_opts_default();
    if (o.res_birth == 0 || o.res_pers == 0 || o.res_birth > 65536 || o.res_pers > 65536 ||
        !(o.sigma > 0) || !isfinite(o.sigma) || !(o.ramp_end > 0) ||
        o.birth_max < o.birth_min || o.pers_max < o.pers_min ||
        (unsigned)o.weight > AURA_TDA_WEIGHT_RAMP) {
        return AURA_E_INVAL;
    }
    aura_status st = aura_tda_diagram_check(d, n, NULL);
    if (st != AURA_OK) {
        return st;
    }
    image_ranges(d, n, &o);
    if (!isfinite(o.birth_min) || !isfinite(o.birth_max) || !isfinite(o.pers_min) ||
        !isfinite(o.pers_max)) {
        return AURA_E_INVAL;
    }
    double two_s2 = 2.0 * o.sigma * o.sigma, norm = 1.0 / (M_PI * two_s2);
    for (size_t j = 0; j < o.res_pers; j++) {
        double y = sample(o.pers_min, o.pers_max, j, o.res_pers);
        for (size_t i = 0; i < o.res_birth; i++) {
            double x = sample(o.birth_min, o.birth_max, i, o.res_birth), acc = 0.0;
            for (size_t k = 0; k < n; k++) {
                if (isinf(d[k].death)) {
                    continue;
                }
                double p = d[k].death - d[k].birth, dx = x - d[k].birth, dy = y - p;
                acc += weight(&o, p) * exp(-(dx * dx + dy * dy) / two_s2);
            }
            out[j * o.res_birth + i] = acc * norm;
        }
    }
    return AURA_OK;
}
