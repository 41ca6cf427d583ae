/* SSMRT_OP_MATMUL (kernels/matmul.cl), weights f32/f16/bf16 selected at build time. */
#include "ocl.h"

int ssmrt_ocl_op_matmul(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *x = &op->src[0], *w = &op->src[1], *bias = &op->src[2];
    const ssmrt_tensor_desc *y = &op->dst[0];
    if (w->ndim != 2)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "matmul: weight must be 2-d [N, K]");
    int64_t N = w->shape[0], K = w->shape[1];
    int64_t M = K > 0 ? ssmrt_ocl_numel(x) / K : 0;
    if (M * K != ssmrt_ocl_numel(x) || ssmrt_ocl_numel(y) != M * N)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "matmul: x, w [%lld, %lld] and y do not fit",
                              (long long)N, (long long)K);
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "matmul: a dimension exceeds 2^31-1");
    if (M * N == 0)
        return SSMRT_OK;
    const char *defs = w->dtype == SSMRT_F16 ? "-DW_DTYPE=1"
                       : w->dtype == SSMRT_BF16 ? "-DW_DTYPE=2"
                                                : "-DW_DTYPE=0";
    /* The tiled kernel needs 256 work-items; small M or a smaller device takes the
     * row kernel, which works for any M. */
    ssmrt_ocl_kernel *k = NULL;
    int tiled = 0;
    if (M >= 8) {
        k = ssmrt_ocl_kernel_get(dev, "matmul", defs, "matmul_tiled");
        if (!k)
            return SSMRT_ERR_BACKEND;
        tiled = k->max_wg >= 256;
    }
    if (!tiled) {
        k = ssmrt_ocl_kernel_get(dev, "matmul", defs, "matmul_rows");
        if (!k)
            return SSMRT_ERR_BACKEND;
    }
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k);
    ssmrt_ocl_arg_tensor(&a, y);
    ssmrt_ocl_arg_tensor(&a, x);
    ssmrt_ocl_arg_tensor(&a, w);
    ssmrt_ocl_arg_tensor(&a, bias);
    ssmrt_ocl_arg_i32(&a, (int32_t)M);
    ssmrt_ocl_arg_i32(&a, (int32_t)N);
    ssmrt_ocl_arg_i32(&a, (int32_t)K);
    if (tiled) {
        size_t local[2] = {16, 16};
        size_t global[2] = {(size_t)(N + 63) / 64 * 16, (size_t)(M + 63) / 64 * 16};
        return ssmrt_ocl_launch(dev, &a, 2, global, local, NULL);
    }
    size_t want = K >= 256 ? 256 : K >= 128 ? 128 : 64;
    size_t local = ssmrt_ocl_wg_size(k, want), global = (size_t)N * local;
    ssmrt_ocl_arg_local(&a, local * sizeof(float));
    return ssmrt_ocl_launch(dev, &a, 1, &global, &local, NULL);
}
