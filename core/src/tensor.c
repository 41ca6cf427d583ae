/* Persistent tensors: creation, host transfers, shape helpers. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "internal.h"

int64_t ssmrt__nelements(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

void ssmrt__contiguous_strides(int ndim, const int64_t *shape, int64_t *stride)
{
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        stride[i] = s;
        s *= shape[i];
    }
}

int ssmrt__is_contiguous(const ssmrt_tensor *t)
{
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != s)
            return 0;
        s *= t->shape[i];
    }
    return 1;
}

const char *ssmrt__shape_str(const ssmrt_tensor *t, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (used < n)
        snprintf(buf + used, n - used, "]");
    return buf;
}

void ssmrt__storage_release(ssmrt__storage *s)
{
    if (!s || --s->refs > 0)
        return;
    ssmrt__device_free(s->ctx, s->buffer, s->bytes);
    ssmrt__free(s);
}

ssmrt_status ssmrt_tensor_create(ssmrt_context *ctx, ssmrt_dtype dtype, int ndim,
                                 const int64_t *shape, ssmrt_tensor **out)
{
    if (!out)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_tensor_create: out_tensor is NULL");
    *out = NULL;
    if (!ctx)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_tensor_create: context is NULL");
    if ((unsigned)dtype >= SSMRT_DTYPE_COUNT)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_tensor_create: invalid dtype %d", (int)dtype);
    if (ndim < 1 || ndim > SSMRT_MAX_DIMS || !shape)
        return ssmrt__fail(SSMRT_ERR_SHAPE, "ssmrt_tensor_create: ndim %d not in 1..%d", ndim,
                           SSMRT_MAX_DIMS);
    uint64_t bytes = ssmrt_dtype_size(dtype);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return ssmrt__fail(SSMRT_ERR_SHAPE, "ssmrt_tensor_create: dim %d is negative (%lld)", i,
                               (long long)shape[i]);
        if (__builtin_mul_overflow(bytes, (uint64_t)shape[i], &bytes) || bytes > (1ull << 62))
            return ssmrt__fail(SSMRT_ERR_SHAPE, "ssmrt_tensor_create: tensor size overflows");
    }
    ssmrt_tensor *t = ssmrt__calloc(1, sizeof *t);
    ssmrt__storage *s = ssmrt__calloc(1, sizeof *s);
    if (!t || !s) {
        ssmrt__free(t);
        ssmrt__free(s);
        return SSMRT_ERR_OUT_OF_MEMORY;
    }
    ssmrt_status st = ssmrt__device_alloc(ctx, bytes, &s->buffer);
    if (st) {
        ssmrt__free(t);
        ssmrt__free(s);
        return st;
    }
    s->ctx = ctx;
    s->bytes = bytes;
    s->refs = 1;
    t->ctx = ctx;
    t->storage = s;
    t->value = -1;
    t->dtype = dtype;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    ssmrt__contiguous_strides(ndim, t->shape, t->stride);
    t->next = ctx->tensors;
    if (ctx->tensors)
        ctx->tensors->prev = t;
    ctx->tensors = t;
    *out = t;
    return SSMRT_OK;
}

void ssmrt_tensor_destroy(ssmrt_tensor *t)
{
    if (!t || t->graph)
        return; /* graph tensors belong to their graph */
    ssmrt_context *ctx = t->ctx;
    if (t->prev)
        t->prev->next = t->next;
    else
        ctx->tensors = t->next;
    if (t->next)
        t->next->prev = t->prev;
    ssmrt__storage_release(t->storage);
    ssmrt__free(t);
}

ssmrt_dtype ssmrt_tensor_dtype(const ssmrt_tensor *t) { return t->dtype; }
int ssmrt_tensor_ndim(const ssmrt_tensor *t) { return t->ndim; }

int64_t ssmrt_tensor_dim(const ssmrt_tensor *t, int axis)
{
    if (axis < 0)
        axis += t->ndim;
    return (axis >= 0 && axis < t->ndim) ? t->shape[axis] : 0;
}

int64_t ssmrt_tensor_nelements(const ssmrt_tensor *t) { return ssmrt__nelements(t->ndim, t->shape); }
int ssmrt_tensor_is_contiguous(const ssmrt_tensor *t) { return ssmrt__is_contiguous(t); }

/* The buffer and byte offset of a tensor's first element, when it has memory now. */
static ssmrt_status ssmrt__tensor_locate(const ssmrt_tensor *t, const char *what, size_t bytes,
                                         void **buffer, uint64_t *offset)
{
    if (!t)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", what);
    if (!ssmrt__is_contiguous(t))
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "%s: tensor is a strided view; copy it first", what);
    uint64_t need = (uint64_t)ssmrt_tensor_nelements(t) * ssmrt_dtype_size(t->dtype);
    if (bytes != need)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "%s: %zu bytes given, the %s tensor holds %llu",
                           what, bytes, ssmrt_dtype_name(t->dtype), (unsigned long long)need);
    if (t->storage) {
        *buffer = t->storage->buffer;
        *offset = t->offset;
        return SSMRT_OK;
    }
    return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                       "%s: a graph intermediate has no memory outside compute; read graph results "
                       "through ssmrt_graph_read", what);
}

ssmrt_status ssmrt_tensor_upload(ssmrt_tensor *t, const void *src, size_t bytes)
{
    void *buf;
    uint64_t off;
    ssmrt_status st = ssmrt__tensor_locate(t, "ssmrt_tensor_upload", bytes, &buf, &off);
    if (st)
        return st;
    if (bytes && !src)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_tensor_upload: src is NULL");
    if (t->ctx->vt->buffer_upload(t->ctx->device, buf, off, src, bytes) != 0)
        return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "ssmrt_tensor_upload");
    return SSMRT_OK;
}

ssmrt_status ssmrt_tensor_download(const ssmrt_tensor *t, void *dst, size_t bytes)
{
    void *buf;
    uint64_t off;
    ssmrt_status st = ssmrt__tensor_locate(t, "ssmrt_tensor_download", bytes, &buf, &off);
    if (st)
        return st;
    if (bytes && !dst)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_tensor_download: dst is NULL");
    if (t->ctx->vt->buffer_download(t->ctx->device, buf, off, dst, bytes) != 0)
        return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "ssmrt_tensor_download");
    return SSMRT_OK;
}

ssmrt_status ssmrt_tensor_upload_f32(ssmrt_tensor *t, const float *src, size_t count)
{
    if (!t)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_tensor_upload_f32: tensor is NULL");
    if (t->dtype == SSMRT_F32)
        return ssmrt_tensor_upload(t, src, count * sizeof(float));
    if (t->dtype == SSMRT_I32)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_tensor_upload_f32: tensor is i32");
    uint16_t *tmp = ssmrt__malloc(count * sizeof *tmp + 1);
    if (!tmp)
        return SSMRT_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < count; i++)
        tmp[i] = t->dtype == SSMRT_F16 ? ssmrt_f32_to_f16(src[i]) : ssmrt_f32_to_bf16(src[i]);
    ssmrt_status st = ssmrt_tensor_upload(t, tmp, count * sizeof *tmp);
    ssmrt__free(tmp);
    return st;
}

ssmrt_status ssmrt_tensor_download_f32(const ssmrt_tensor *t, float *dst, size_t count)
{
    if (!t)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_tensor_download_f32: tensor is NULL");
    if (t->dtype == SSMRT_F32)
        return ssmrt_tensor_download(t, dst, count * sizeof(float));
    size_t es = ssmrt_dtype_size(t->dtype);
    void *tmp = ssmrt__malloc(count * es + 1);
    if (!tmp)
        return SSMRT_ERR_OUT_OF_MEMORY;
    ssmrt_status st = ssmrt_tensor_download(t, tmp, count * es);
    if (st == SSMRT_OK)
        ssmrt__convert_to_f32(t->dtype, tmp, dst, count);
    ssmrt__free(tmp);
    return st;
}

ssmrt_status ssmrt_tensor_zero(ssmrt_tensor *t)
{
    if (!t || !t->storage)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_tensor_zero: not a persistent tensor");
    uint64_t bytes = (uint64_t)ssmrt_tensor_nelements(t) * ssmrt_dtype_size(t->dtype);
    ssmrt_context *ctx = t->ctx;
    if (ctx->vt->buffer_fill_zero(ctx->device, t->storage->buffer, t->offset, bytes) != 0 ||
        ctx->vt->synchronize(ctx->device) != 0)
        return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "ssmrt_tensor_zero");
    return SSMRT_OK;
}
