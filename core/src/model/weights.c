/* Persistent device tensors from safetensors entries, with the shape check that makes
 * a mis-shaped checkpoint an error naming the tensor. */
#include "model/weights.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

#define W_NAME_MAX 256

ssmrt_status ssmrt__weights_open(ssmrt__weights *w, ssmrt_context *ctx, const char *path)
{
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->label = path;
    ssmrt_status st = ssmrt_safetensors_open(path, &w->st);
    if (st)
        w->status = st;
    return st;
}

void ssmrt__weights_close(ssmrt__weights *w)
{
    ssmrt_safetensors_close(w->st);
    w->st = NULL;
}

void ssmrt__weights_destroy_tensors(ssmrt__weights *w)
{
    for (size_t i = 0; i < w->count; i++)
        ssmrt_tensor_destroy(w->tensors[i]);
    ssmrt__free(w->tensors);
    w->tensors = NULL;
    w->count = w->cap = 0;
    w->bytes = 0;
}

static int w_track(ssmrt__weights *w, ssmrt_tensor *t)
{
    if (w->count == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 64;
        ssmrt_tensor **nt = ssmrt__realloc(w->tensors, ncap * sizeof *nt);
        if (!nt)
            return 0;
        w->tensors = nt;
        w->cap = ncap;
    }
    w->tensors[w->count++] = t;
    return 1;
}

static void w_fail(ssmrt__weights *w, ssmrt_status st)
{
    if (!w->status)
        w->status = st;
}

static void w_shape_str(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t used = 0;
    used += (size_t)snprintf(buf + used, n - used, "[");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (used < n)
        snprintf(buf + used, n - used, "]");
}

/* Looks the entry up and checks its shape; the message names the tensor. */
static int w_find(ssmrt__weights *w, const char *name, int ndim, const int64_t *shape,
                  ssmrt_st_tensor *out)
{
    ssmrt_status st = ssmrt_safetensors_find(w->st, name, out);
    if (st) {
        if (st == SSMRT_ERR_NOT_FOUND)
            st = ssmrt__fail(SSMRT_ERR_FORMAT, "%s: required tensor '%s' is missing", w->label,
                             name);
        w_fail(w, st);
        return 0;
    }
    int same = out->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = out->shape[i] == shape[i];
    if (!same) {
        char got[160], want[160];
        w_shape_str(got, sizeof got, out->ndim, out->shape);
        w_shape_str(want, sizeof want, ndim, shape);
        w_fail(w, ssmrt__fail(SSMRT_ERR_SHAPE, "%s: tensor '%s' has shape %s, expected %s from config.json",
                              w->label, name, got, want));
        return 0;
    }
    return 1;
}

static int64_t w_count(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

/* Reads element i of a float entry as double. */
static double w_elem(const ssmrt_st_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case SSMRT_ST_F32: {
        float f;
        memcpy(&f, (const char *)t->data + i * 4, 4);
        return f;
    }
    case SSMRT_ST_F64: {
        double d;
        memcpy(&d, (const char *)t->data + i * 8, 8);
        return d;
    }
    case SSMRT_ST_F16: {
        uint16_t h;
        memcpy(&h, (const char *)t->data + i * 2, 2);
        return ssmrt_f16_to_f32(h);
    }
    case SSMRT_ST_BF16: {
        uint16_t h;
        memcpy(&h, (const char *)t->data + i * 2, 2);
        return ssmrt_bf16_to_f32(h);
    }
    default: return 0.0;
    }
}

static int w_is_float(ssmrt_st_dtype d)
{
    return d == SSMRT_ST_F32 || d == SSMRT_ST_F16 || d == SSMRT_ST_BF16 || d == SSMRT_ST_F64;
}

static ssmrt_tensor *w_new_tensor(ssmrt__weights *w, ssmrt_dtype dtype, int ndim,
                                  const int64_t *shape)
{
    ssmrt_tensor *t = NULL;
    ssmrt_status st = ssmrt_tensor_create(w->ctx, dtype, ndim, shape, &t);
    if (st) {
        w_fail(w, st);
        return NULL;
    }
    if (!w_track(w, t)) {
        ssmrt_tensor_destroy(t);
        w_fail(w, SSMRT_ERR_OUT_OF_MEMORY);
        return NULL;
    }
    w->bytes += (uint64_t)w_count(ndim, shape) * ssmrt_dtype_size(dtype);
    return t;
}

static ssmrt_tensor *w_get(ssmrt__weights *w, ssmrt__wconv conv, int ndim, const int64_t *shape,
                           int dev_ndim, const int64_t *dev_shape, const char *name)
{
    if (w->status)
        return NULL;
    ssmrt_st_tensor e;
    if (!w_find(w, name, ndim, shape, &e))
        return NULL;
    if (w_count(dev_ndim, dev_shape) != w_count(ndim, shape)) {
        w_fail(w, ssmrt__fail(SSMRT_ERR_INTERNAL, "weights: device shape of '%s' has another size",
                              name));
        return NULL;
    }
    if (!w_is_float(e.dtype) || (conv == SSMRT__W_NATIVE && e.dtype == SSMRT_ST_F64)) {
        w_fail(w, ssmrt__fail(SSMRT_ERR_FORMAT, "%s: tensor '%s' has dtype %s; expected F32, F16 or BF16",
                              w->label, name, ssmrt_st_dtype_name(e.dtype)));
        return NULL;
    }
    int64_t n = w_count(ndim, shape);

    if (conv == SSMRT__W_NATIVE) {
        /* Zero copy from the mapping straight into the device buffer. */
        ssmrt_dtype dt = e.dtype == SSMRT_ST_F32 ? SSMRT_F32
                         : e.dtype == SSMRT_ST_F16 ? SSMRT_F16 : SSMRT_BF16;
        ssmrt_tensor *t = w_new_tensor(w, dt, dev_ndim, dev_shape);
        if (!t)
            return NULL;
        ssmrt_status st = ssmrt_tensor_upload(t, e.data, (size_t)e.bytes);
        if (st) {
            w_fail(w, ssmrt__fail_prefix(st, "uploading '%s'", name));
            return NULL;
        }
        return t;
    }

    float *host = ssmrt__malloc((size_t)n * sizeof *host);
    if (!host) {
        w_fail(w, SSMRT_ERR_OUT_OF_MEMORY);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) {
        double v = w_elem(&e, i);
        host[i] = (float)(conv == SSMRT__W_NEG_EXP ? -exp(v) : v);
    }
    ssmrt_tensor *t = w_new_tensor(w, SSMRT_F32, dev_ndim, dev_shape);
    if (t) {
        ssmrt_status st = ssmrt_tensor_upload(t, host, (size_t)n * sizeof *host);
        if (st) {
            w_fail(w, ssmrt__fail_prefix(st, "uploading '%s'", name));
            t = NULL;
        }
    }
    ssmrt__free(host);
    return t;
}

static int w_name(ssmrt__weights *w, char *buf, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, W_NAME_MAX, fmt, ap);
    if (n < 0 || n >= W_NAME_MAX) {
        w_fail(w, ssmrt__fail(SSMRT_ERR_INTERNAL, "weights: tensor name too long"));
        return 0;
    }
    return 1;
}

int ssmrt__weights_has(ssmrt__weights *w, const char *fmt, ...)
{
    char name[W_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    int ok = vsnprintf(name, sizeof name, fmt, ap) < W_NAME_MAX;
    va_end(ap);
    if (!ok || !w->st)
        return 0;
    ssmrt_st_tensor e;
    /* A miss sets the thread's error message; that is harmless because nothing
     * failed from the caller's point of view and the next failure overwrites it. */
    return ssmrt_safetensors_find(w->st, name, &e) == SSMRT_OK;
}

ssmrt_tensor *ssmrt__weights_get(ssmrt__weights *w, ssmrt__wconv conv, int ndim,
                                 const int64_t *shape, const char *fmt, ...)
{
    char name[W_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    int ok = w_name(w, name, fmt, ap);
    va_end(ap);
    return ok ? w_get(w, conv, ndim, shape, ndim, shape, name) : NULL;
}

ssmrt_tensor *ssmrt__weights_get_as(ssmrt__weights *w, ssmrt__wconv conv, int ndim,
                                    const int64_t *shape, int dev_ndim, const int64_t *dev_shape,
                                    const char *fmt, ...)
{
    char name[W_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    int ok = w_name(w, name, fmt, ap);
    va_end(ap);
    return ok ? w_get(w, conv, ndim, shape, dev_ndim, dev_shape, name) : NULL;
}

double *ssmrt__weights_read_f64(ssmrt__weights *w, int ndim, const int64_t *shape,
                                const char *fmt, ...)
{
    char name[W_NAME_MAX];
    va_list ap;
    va_start(ap, fmt);
    int ok = w_name(w, name, fmt, ap);
    va_end(ap);
    if (!ok || w->status)
        return NULL;
    ssmrt_st_tensor e;
    if (!w_find(w, name, ndim, shape, &e))
        return NULL;
    if (!w_is_float(e.dtype)) {
        w_fail(w, ssmrt__fail(SSMRT_ERR_FORMAT, "%s: tensor '%s' has dtype %s; expected a float dtype",
                              w->label, name, ssmrt_st_dtype_name(e.dtype)));
        return NULL;
    }
    int64_t n = w_count(ndim, shape);
    double *out = ssmrt__malloc((size_t)(n ? n : 1) * sizeof *out);
    if (!out) {
        w_fail(w, SSMRT_ERR_OUT_OF_MEMORY);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++)
        out[i] = w_elem(&e, i);
    return out;
}

ssmrt_tensor *ssmrt__weights_upload_f32(ssmrt__weights *w, const float *data, int ndim,
                                        const int64_t *shape)
{
    if (w->status)
        return NULL;
    ssmrt_tensor *t = w_new_tensor(w, SSMRT_F32, ndim, shape);
    if (!t)
        return NULL;
    ssmrt_status st = ssmrt_tensor_upload(t, data, (size_t)w_count(ndim, shape) * sizeof(float));
    if (st) {
        w_fail(w, st);
        return NULL;
    }
    return t;
}
