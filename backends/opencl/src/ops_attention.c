/* SSMRT_OP_ATTENTION (kernels/attention.cl). Head dims up to 256 keep q and the
 * accumulator in registers: few queries (decode) split each query's keys over a
 * work-group, more queries share K/V tiles in local memory. Larger head dims take
 * the generic kernel. q, k, v and o share one dtype (f32, f16 or bf16; the op
 * table admits no mix), compiled in with -DATT_DTYPE; the arithmetic is f32. */
#include <stdio.h>

#include "ocl.h"

static cl_long4 strides4(const ssmrt_tensor_desc *t)
{
    cl_long4 s = {{t->stride[0], t->stride[1], t->stride[2], t->stride[3]}};
    return s;
}

int ssmrt_ocl_op_attention(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *q = &op->src[0], *k = &op->src[1], *v = &op->src[2];
    const ssmrt_tensor_desc *o = &op->dst[0];
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "attention: q, k, v must be 4-d");
    int64_t B = q->shape[0], Lq = q->shape[1], Hq = q->shape[2], Dh = q->shape[3];
    int64_t Lk = k->shape[1], Hk = k->shape[2];
    if (k->shape[0] != B || k->shape[3] != Dh || v->shape[0] != B || v->shape[1] != Lk ||
        v->shape[2] != Hk || v->shape[3] != Dh || Hk <= 0 || Hq % Hk != 0 || Lk < Lq ||
        ssmrt_ocl_numel(o) != B * Lq * Hq * Dh)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "attention: shapes of q, k, v, o do not fit");
    if (Lk > INT32_MAX || Hq > INT32_MAX || Dh > INT32_MAX)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "attention: a dimension exceeds 2^31-1");
    if (B * Lq * Hq * Dh == 0)
        return SSMRT_OK;

    int dhv = 16;
    while (dhv < Dh && dhv < 256)
        dhv *= 2;
    int tiled = Dh <= 256;
    /* Keys per tile: as many as fit in half the local memory (two tiles, K and V). */
    int bk = 16;
    while (bk > 1 && (cl_ulong)(2 * bk * dhv) * sizeof(float) > dev->local_mem / 2)
        bk /= 2;
    char defs[80];
    int dt = q->dtype == SSMRT_F16 ? 1 : q->dtype == SSMRT_BF16 ? 2 : 0;
    snprintf(defs, sizeof defs, "-DDHV=%d -DBK=%d -DATT_DTYPE=%d", tiled ? dhv : 16,
             tiled ? bk : 16, dt);
    /* Below 16 queries a work-group per query keeps the device busy on long caches. */
    int split = tiled && Lq < 16;
    const char *name = split ? "attention_split" : tiled ? "attention_tiled" : "attention_generic";
    ssmrt_ocl_kernel *kern = ssmrt_ocl_kernel_get(dev, "attention", defs, name);
    if (!kern)
        return SSMRT_ERR_BACKEND;
    cl_long4 qs = strides4(q), ks = strides4(k), vs = strides4(v);
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, kern);
    ssmrt_ocl_arg_tensor(&a, o);
    ssmrt_ocl_arg_tensor(&a, q);
    ssmrt_ocl_arg_raw(&a, sizeof qs, &qs);
    ssmrt_ocl_arg_tensor(&a, k);
    ssmrt_ocl_arg_raw(&a, sizeof ks, &ks);
    ssmrt_ocl_arg_tensor(&a, v);
    ssmrt_ocl_arg_raw(&a, sizeof vs, &vs);
    ssmrt_ocl_arg_i32(&a, (int32_t)Lq);
    ssmrt_ocl_arg_i32(&a, (int32_t)Lk);
    ssmrt_ocl_arg_i32(&a, (int32_t)Hq);
    ssmrt_ocl_arg_i32(&a, (int32_t)Hk);
    ssmrt_ocl_arg_i32(&a, (int32_t)Dh);
    ssmrt_ocl_arg_f32(&a, op->params.attention.scale);
    if (split) {
        /* Work-items per query: up to 64, while wg * DHV partial sums fit in half
         * the local memory. */
        size_t wg = ssmrt_ocl_wg_size(kern, 64);
        while (wg > 1 && (cl_ulong)(wg * dhv * sizeof(float)) > dev->local_mem / 2)
            wg /= 2;
        ssmrt_ocl_arg_local(&a, wg * (size_t)dhv * sizeof(float));
        ssmrt_ocl_arg_local(&a, (size_t)dhv * sizeof(float));
        size_t local[3] = {wg, 1, 1};
        size_t global[3] = {(size_t)Lq * wg, (size_t)Hq, (size_t)B};
        return ssmrt_ocl_launch(dev, &a, 3, global, local, NULL);
    }
    size_t want = 1;
    while ((int64_t)want < Lq && want < 64)
        want *= 2;
    size_t wg = ssmrt_ocl_wg_size(kern, want);
    if (tiled) {
        /* K and V tiles plus the group's queries must fit in local memory, with a
         * quarter left for what the compiler places there itself: NVIDIA's driver
         * refuses (CL_OUT_OF_RESOURCES) a launch that asks for all 48 KiB. */
        cl_ulong budget = dev->local_mem - dev->local_mem / 4;
        while (wg > 1 && (cl_ulong)((2 * (size_t)bk + wg) * dhv * sizeof(float)) > budget)
            wg /= 2;
        ssmrt_ocl_arg_local(&a, (size_t)bk * dhv * sizeof(float));
        ssmrt_ocl_arg_local(&a, (size_t)bk * dhv * sizeof(float));
        ssmrt_ocl_arg_local(&a, wg * (size_t)dhv * sizeof(float));
    }
    size_t local[3] = {wg, 1, 1};
    size_t global[3] = {(size_t)Lq, (size_t)Hq, (size_t)B};
    return ssmrt_ocl_launch(dev, &a, 3, global, local, NULL);
}
