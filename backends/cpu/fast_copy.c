/*
 * fast_copy.c: COPY between any strides, with conversion among f32, f16, bf16
 * and i32.
 *
 * Floating conversions go through f32, which is exact for every f16 and bf16
 * value, so each result is rounded once. Conversions that involve i32 go through
 * double (exact for every i32), matching the reference bit for bit.
 */
#include <string.h>

#include "fast_convert.h"
#include "fast_kernels.h"

#define PAR_MIN 32768

static float load_f(uint32_t dt, const char *p, int64_t i) {
    switch (dt) {
    case SSMRT_F32: return ((const float *)p)[i];
    case SSMRT_F16: return cpu_f16_to_f32(((const uint16_t *)p)[i]);
    default: return cpu_bf16_to_f32(((const uint16_t *)p)[i]);
    }
}

static void store_f(uint32_t dt, char *p, int64_t i, float v) {
    switch (dt) {
    case SSMRT_F32: ((float *)p)[i] = v; break;
    case SSMRT_F16: ((uint16_t *)p)[i] = cpu_f32_to_f16(v); break;
    default: ((uint16_t *)p)[i] = cpu_f32_to_bf16(v); break;
    }
}

static double load_d(uint32_t dt, const char *p, int64_t i) {
    return dt == SSMRT_I32 ? (double)((const int32_t *)p)[i] : (double)load_f(dt, p, i);
}

static void store_d(uint32_t dt, char *p, int64_t i, double v) {
    switch (dt) {
    case SSMRT_I32: ((int32_t *)p)[i] = cpu_double_to_i32(v); break;
    case SSMRT_F32: ((float *)p)[i] = (float)v; break;
    case SSMRT_F16: ((uint16_t *)p)[i] = cpu_double_to_f16(v); break;
    default: ((uint16_t *)p)[i] = cpu_double_to_bf16(v); break;
    }
}

/* n elements from s (stride ss, in elements) to d (stride ds). */
static void copy_run(uint32_t sdt, const char *s, int64_t ss, uint32_t ddt, char *d, int64_t ds,
                     int64_t n) {
    uint32_t es = cpu_dtype_size(sdt);
    if (sdt == ddt) {
        if (ss == 1 && ds == 1) {
            memcpy(d, s, (size_t)(n * es));
        } else if (es == 4) {
            for (int64_t i = 0; i < n; i++) ((uint32_t *)d)[i * ds] = ((const uint32_t *)s)[i * ss];
        } else {
            for (int64_t i = 0; i < n; i++) ((uint16_t *)d)[i * ds] = ((const uint16_t *)s)[i * ss];
        }
    } else if (sdt == SSMRT_F32 && ss == 1 && ds == 1 && ddt == SSMRT_F16) {
        fast_f32_to_f16((const float *)s, (uint16_t *)d, n);
    } else if (sdt == SSMRT_F32 && ss == 1 && ds == 1 && ddt == SSMRT_BF16) {
        fast_f32_to_bf16((const float *)s, (uint16_t *)d, n);
    } else if (ddt == SSMRT_F32 && ss == 1 && ds == 1 && sdt != SSMRT_I32) {
        fast_row_to_f32(sdt, s, (float *)d, n);
    } else if (sdt != SSMRT_I32 && ddt != SSMRT_I32) {
        for (int64_t i = 0; i < n; i++) store_f(ddt, d, i * ds, load_f(sdt, s, i * ss));
    } else {
        for (int64_t i = 0; i < n; i++) store_d(ddt, d, i * ds, load_d(sdt, s, i * ss));
    }
}

/* Element offset of row-major index i within a descriptor's own shape. */
static int64_t elem_offset(const ssmrt_tensor_desc *t, int64_t i) {
    int64_t off = 0;
    for (int k = (int)t->ndim - 1; k >= 0; k--) {
        off += (i % t->shape[k]) * t->stride[k];
        i /= t->shape[k];
    }
    return off;
}

int cpu_fast_copy(const ssmrt_op *op) {
    int64_t n;
    int rc = cpu_shape_unary(op, &n);
    if (rc || n == 0) return rc;
    const ssmrt_tensor_desc *S = &op->src[0], *D = &op->dst[0];
    const char *s = cpu_desc_ptr(S);
    char *d = cpu_desc_ptr(D);
    uint32_t sdt = S->dtype, ddt = D->dtype, es = cpu_dtype_size(sdt), ed = cpu_dtype_size(ddt);
    int64_t sh[4], sst[4], dsh[4], dst[4];
    cpu_desc_shape4(S, sh, sst);
    cpu_desc_shape4(D, dsh, dst);
    int same_shape = memcmp(sh, dsh, sizeof sh) == 0;

    if (!same_shape || (cpu_desc_contiguous(S) && cpu_desc_contiguous(D))) {
        if (cpu_desc_contiguous(S) && cpu_desc_contiguous(D)) {
            /* One flat run, split across threads. */
            const int64_t chunk = 65536;
            int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
            for (int64_t c = 0; c < chunks; c++) {
                int64_t i0 = c * chunk, len = n - i0 < chunk ? n - i0 : chunk;
                copy_run(sdt, s + i0 * es, 1, ddt, d + i0 * ed, 1, len);
            }
        } else {
            /* Equal element counts under different strided shapes: element i of
             * src goes to element i of dst, both row-major in their own shape. */
            for (int64_t i = 0; i < n; i++)
                copy_run(sdt, s + elem_offset(S, i) * es, 1, ddt, d + elem_offset(D, i) * ed, 1, 1);
        }
        return 0;
    }
    /* Same 4-d shape, some strides: one run per innermost row. */
    int64_t rows = sh[0] * sh[1] * sh[2], len = sh[3];
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c0 = r / (sh[1] * sh[2]), c1 = (r / sh[2]) % sh[1], c2 = r % sh[2];
        int64_t so = c0 * sst[0] + c1 * sst[1] + c2 * sst[2];
        int64_t dof = c0 * dst[0] + c1 * dst[1] + c2 * dst[2];
        copy_run(sdt, s + so * es, sst[3], ddt, d + dof * ed, dst[3], len);
    }
    return 0;
}
