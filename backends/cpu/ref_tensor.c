/*
 * ref_tensor.c: element access and scalar functions of the float64 reference.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ref_tensor.h"

void ref_view_init(ref_view *v, const ssmrt_tensor_desc *d) {
    memset(v, 0, sizeof *v);
    v->base = cpu_desc_ptr(d);
    v->dtype = d->dtype;
    v->ndim = d->ndim;
    v->contiguous = cpu_desc_contiguous(d);
    for (uint32_t i = 0; i < d->ndim; i++) {
        v->shape[i] = d->shape[i];
        v->stride[i] = d->stride[i];
    }
}

int64_t ref_view_offset(const ref_view *v, int64_t i) {
    if (v->contiguous) return i;
    int64_t off = 0;
    for (int k = (int)v->ndim - 1; k >= 0; k--) {
        off += (i % v->shape[k]) * v->stride[k];
        i /= v->shape[k];
    }
    return off;
}

double ref_load(const ref_view *v, int64_t i) {
    int64_t o = ref_view_offset(v, i);
    switch (v->dtype) {
    case SSMRT_F32: return ((const float *)v->base)[o];
    case SSMRT_F16: return cpu_f16_to_double(((const uint16_t *)v->base)[o]);
    case SSMRT_BF16: return cpu_bf16_to_double(((const uint16_t *)v->base)[o]);
    default: return ((const int32_t *)v->base)[o];
    }
}

void ref_store(const ref_view *v, int64_t i, double x) {
    int64_t o = ref_view_offset(v, i);
    switch (v->dtype) {
    case SSMRT_F32: ((float *)v->base)[o] = (float)x; break;
    case SSMRT_F16: ((uint16_t *)v->base)[o] = cpu_double_to_f16(x); break;
    case SSMRT_BF16: ((uint16_t *)v->base)[o] = cpu_double_to_bf16(x); break;
    default: ((int32_t *)v->base)[o] = cpu_double_to_i32(x); break;
    }
}

double ref_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
double ref_silu(double x) { return x * ref_sigmoid(x); }
double ref_softplus(double x) { return x > 20.0 ? x : log1p(exp(x)); }
