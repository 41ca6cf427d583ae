/* SSMRT_OP_CONV1D_CAUSAL and SSMRT_OP_CONV_LONG (kernels/conv.cl). */
#include <stdio.h>

#include "ocl.h"

/* Steps per work-item of conv1d_causal (CONV_TS in conv.cl): fewer for wide filters,
 * so the TS + W - 1 inputs a work-item keeps stay in registers (one beyond 32 taps,
 * where the program is built with CONV_W = 0), and for short sequences (decode), so
 * no work-item loads steps that do not exist. */
static int64_t conv1d_steps(int64_t W, int64_t L)
{
    int64_t t = W <= 16 ? 16 : W <= 32 ? 4 : 1;
    while (t > 1 && t / 2 >= L)
        t /= 2;
    return t;
}

/* The conv program's one variant: the conv_long tile edge the device can run. */
static const char *conv_defines(const ssmrt_ocl_device *dev)
{
    return dev->max_wg >= 256 ? "-DCONV_T=16" : "-DCONV_T=8";
}

int ssmrt_ocl_op_conv1d_causal(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *x = &op->src[SSMRT_CONV_X], *w = &op->src[SSMRT_CONV_W];
    const ssmrt_tensor_desc *bias = &op->src[SSMRT_CONV_BIAS];
    const ssmrt_tensor_desc *st = &op->src[SSMRT_CONV_STATE];
    const ssmrt_tensor_desc *y = &op->dst[0];
    static const ssmrt_tensor_desc absent = {0};
    const ssmrt_tensor_desc *so = op->n_dst > 1 ? &op->dst[1] : &absent;
    if (op->n_src <= SSMRT_CONV_STATE)
        st = &absent;
    if (op->n_src <= SSMRT_CONV_BIAS)
        bias = &absent;
    if (x->ndim != 3 || w->ndim != 2)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "conv1d_causal: x must be [B, L, D], w [D, W]");
    int64_t B = x->shape[0], L = x->shape[1], D = x->shape[2], W = w->shape[1];
    if (w->shape[0] != D || W < 1 || W > INT32_MAX)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "conv1d_causal: weight must be [%lld, W>=1]",
                              (long long)D);
    if (B * L * D > 0) {
        /* conv1d_causal is built per filter width (CONV_W). */
        int64_t ts = conv1d_steps(W, L);
        char defs[64];
        snprintf(defs, sizeof defs, "%s -DCONV_W=%d -DCONV_TS=%d", conv_defines(dev),
                 W <= 32 ? (int)W : 0, (int)ts);
        ssmrt_ocl_kernel *k = ssmrt_ocl_kernel_get(dev, "conv", defs, "conv1d_causal");
        if (!k)
            return SSMRT_ERR_BACKEND;
        ssmrt_ocl_args a;
        ssmrt_ocl_args_begin(&a, k);
        ssmrt_ocl_arg_tensor(&a, y);
        ssmrt_ocl_arg_tensor(&a, x);
        ssmrt_ocl_arg_tensor(&a, w);
        ssmrt_ocl_arg_tensor(&a, bias);
        ssmrt_ocl_arg_tensor(&a, st);
        ssmrt_ocl_arg_i64(&a, B);
        ssmrt_ocl_arg_i64(&a, L);
        ssmrt_ocl_arg_i64(&a, D);
        ssmrt_ocl_arg_i32(&a, (int32_t)W);
        ssmrt_ocl_arg_i32(&a, op->params.conv.silu);
        size_t local = ssmrt_ocl_wg_size(k, 256);
        size_t global = (size_t)(B * ((L + ts - 1) / ts) * D);
        int s = ssmrt_ocl_launch(dev, &a, 1, &global, &local, NULL);
        if (s != SSMRT_OK)
            return s;
    }
    /* After y in queue order: y reads the old state, which state_out may overwrite. */
    if (so->buffer && W > 1 && B * D > 0) {
        ssmrt_ocl_kernel *k =
            ssmrt_ocl_kernel_get(dev, "conv", conv_defines(dev), "conv1d_causal_state");
        if (!k)
            return SSMRT_ERR_BACKEND;
        ssmrt_ocl_args a;
        ssmrt_ocl_args_begin(&a, k);
        ssmrt_ocl_arg_tensor(&a, so);
        ssmrt_ocl_arg_tensor(&a, x);
        ssmrt_ocl_arg_tensor(&a, st);
        ssmrt_ocl_arg_i64(&a, B);
        ssmrt_ocl_arg_i64(&a, L);
        ssmrt_ocl_arg_i64(&a, D);
        ssmrt_ocl_arg_i32(&a, (int32_t)W);
        size_t local = ssmrt_ocl_wg_size(k, 64), global = (size_t)(B * D);
        return ssmrt_ocl_launch(dev, &a, 1, &global, &local, NULL);
    }
    return SSMRT_OK;
}

int ssmrt_ocl_op_conv_long(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *x = &op->src[0], *ker = &op->src[1], *y = &op->dst[0];
    if (x->ndim != 3 || ker->ndim != 2)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "conv_long: x must be [B, L, D], kernel [D, Lk]");
    int64_t B = x->shape[0], L = x->shape[1], D = x->shape[2], Lk = ker->shape[1];
    if (ker->shape[0] != D || Lk < L)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "conv_long: kernel must be [%lld, >= %lld]",
                              (long long)D, (long long)L);
    if (B * L * D == 0)
        return SSMRT_OK;
    ssmrt_ocl_kernel *k = ssmrt_ocl_kernel_get(dev, "conv", conv_defines(dev), "conv_long");
    if (!k)
        return SSMRT_ERR_BACKEND;
    size_t t = dev->max_wg >= 256 ? 16 : 8;
    if (k->max_wg < t * t)
        return ssmrt_ocl_fail(SSMRT_ERR_BACKEND,
                              "conv_long: the kernel runs at most %zu work-items per group on "
                              "this device, it needs %zu", k->max_wg, t * t);
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k);
    ssmrt_ocl_arg_tensor(&a, y);
    ssmrt_ocl_arg_tensor(&a, x);
    ssmrt_ocl_arg_tensor(&a, ker);
    ssmrt_ocl_arg_i64(&a, B);
    ssmrt_ocl_arg_i64(&a, L);
    ssmrt_ocl_arg_i64(&a, D);
    ssmrt_ocl_arg_i64(&a, Lk);
    size_t local[3] = {t, t, 1};
    size_t global[3] = {(size_t)D, (size_t)L, (size_t)B};
    return ssmrt_ocl_launch(dev, &a, 3, global, local, NULL);
}
