/* Shared helpers of the model tests: opening the context named by SSMRT_BACKEND
 * (exit 77 = CTest "skipped" when that backend cannot start, so an absent backend is
 * never counted as a pass), reading reference tensors, comparing arrays. */
#ifndef SSMRT_MODEL_TEST_H
#define SSMRT_MODEL_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssmrt.h"
#include "ssmrt_model.h"
#include "ssmrt_safetensors.h"

#define MT_SKIP 77

static int mt_failures;

#define MT_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
            mt_failures++;                                                     \
        }                                                                      \
    } while (0)

#define MT_OK(expr)                                                                     \
    do {                                                                                \
        ssmrt_status st_ = (expr);                                                      \
        if (st_ != SSMRT_OK) {                                                          \
            fprintf(stderr, "FAIL %s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr,    \
                    ssmrt_status_name(st_), ssmrt_last_error());                        \
            exit(1);                                                                    \
        }                                                                               \
    } while (0)

/* The context of SSMRT_BACKEND; exits 77 when that backend is not available. */
static inline ssmrt_context *mt_context(void)
{
    ssmrt_context *ctx = NULL;
    ssmrt_status st = ssmrt_context_create(NULL, &ctx);
    if (st) {
        const char *b = getenv("SSMRT_BACKEND");
        printf("SKIP: backend '%s' is not available: %s: %s\n", b ? b : "(default)",
               ssmrt_status_name(st), ssmrt_last_error());
        exit(MT_SKIP);
    }
    const ssmrt_device_info *d = ssmrt_context_device(ctx);
    printf("device: %s %u: %s (%s)\n", d->backend, d->index, d->name, d->api_version);
    return ctx;
}

/* "cpu", "vulkan", ... and "cpu-reference" for a float64 reference device. */
static inline const char *mt_device_label(ssmrt_context *ctx)
{
    static char label[96];
    const ssmrt_device_info *d = ssmrt_context_device(ctx);
    snprintf(label, sizeof label, "%s%s", d->backend, d->is_reference ? "-reference" : "");
    return label;
}

/* A host copy of a reference tensor as float (F32) or int32 (I32/I64). */
static inline void *mt_read(const ssmrt_safetensors *st, const char *name, int want_int, int64_t *shape,
                     int *ndim)
{
    ssmrt_st_tensor t;
    MT_OK(ssmrt_safetensors_find(st, name, &t));
    int64_t n = 1;
    for (int i = 0; i < t.ndim; i++) {
        n *= t.shape[i];
        if (shape)
            shape[i] = t.shape[i];
    }
    if (ndim)
        *ndim = t.ndim;
    void *out = malloc((size_t)(n ? n : 1) * 4);
    if (!out)
        exit(1);
    if (want_int && t.dtype == SSMRT_ST_I64) {
        for (int64_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, (const char *)t.data + i * 8, 8);
            ((int32_t *)out)[i] = (int32_t)v;
        }
    } else if ((want_int && t.dtype == SSMRT_ST_I32) || (!want_int && t.dtype == SSMRT_ST_F32)) {
        memcpy(out, t.data, (size_t)n * 4);
    } else {
        fprintf(stderr, "FAIL: reference tensor '%s' has dtype %s\n", name,
                ssmrt_st_dtype_name(t.dtype));
        exit(1);
    }
    return out;
}

static inline double mt_max_abs(const float *a, const float *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) /* NaN counts as infinitely wrong */
            m = isnan(d) ? INFINITY : d;
    }
    return m;
}

static inline int64_t mt_argmax(const float *x, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

/* Gap between the largest and second largest entry. */
static inline double mt_top2_gap(const float *x, int64_t n)
{
    double a = -INFINITY, b = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        if (x[i] > a) {
            b = a;
            a = x[i];
        } else if (x[i] > b) {
            b = x[i];
        }
    }
    return a - b;
}

#endif
