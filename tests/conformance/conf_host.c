#include "conf_host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t conf_shape_count(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

const char *conf_shape_str(int ndim, const int64_t *shape, char *buf, size_t n)
{
    size_t used = 0;
    used += (size_t)snprintf(buf + used, n - used, "[");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "",
                                 (long long)shape[i]);
    if (used < n)
        snprintf(buf + used, n - used, "]");
    return buf;
}

conf_host *conf_host_new(ssmrt_dtype dtype, int ndim, const int64_t *shape)
{
    conf_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->dtype = dtype;
    h->ndim = ndim;
    memcpy(h->shape, shape, (size_t)ndim * sizeof shape[0]);
    h->n = conf_shape_count(ndim, shape);
    size_t count = h->n > 0 ? (size_t)h->n : 1;
    if (dtype == SSMRT_I32)
        h->i = calloc(count, sizeof *h->i);
    else
        h->f = calloc(count, sizeof *h->f);
    if (!h->i && !h->f) {
        free(h);
        return NULL;
    }
    return h;
}

void conf_host_free(conf_host *h)
{
    if (!h)
        return;
    free(h->f);
    free(h->i);
    free(h);
}

double conf_dtype_round(ssmrt_dtype dtype, float v)
{
    switch (dtype) {
    case SSMRT_F16:
        return ssmrt_f16_to_f32(ssmrt_f32_to_f16(v));
    case SSMRT_BF16:
        return ssmrt_bf16_to_f32(ssmrt_f32_to_bf16(v));
    default:
        return v;
    }
}

double conf_host_value(const conf_host *h, int64_t i)
{
    if (h->dtype == SSMRT_I32)
        return h->i[i];
    return conf_dtype_round(h->dtype, h->f[i]);
}

void conf_dtype_store(ssmrt_dtype dtype, void *p, int64_t i, float v)
{
    switch (dtype) {
    case SSMRT_F16:
        ((uint16_t *)p)[i] = ssmrt_f32_to_f16(v);
        break;
    case SSMRT_BF16:
        ((uint16_t *)p)[i] = ssmrt_f32_to_bf16(v);
        break;
    case SSMRT_I32:
        ((int32_t *)p)[i] = (int32_t)v;
        break;
    default:
        ((float *)p)[i] = v;
        break;
    }
}

double conf_dtype_load(ssmrt_dtype dtype, const void *p, int64_t i)
{
    switch (dtype) {
    case SSMRT_F16:
        return ssmrt_f16_to_f32(((const uint16_t *)p)[i]);
    case SSMRT_BF16:
        return ssmrt_bf16_to_f32(((const uint16_t *)p)[i]);
    case SSMRT_I32:
        return ((const int32_t *)p)[i];
    default:
        return ((const float *)p)[i];
    }
}
