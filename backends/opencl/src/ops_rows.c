/* Row reductions: softmax, RMSNorm (plain and gated), LayerNorm (kernels/rows.cl).
 * One work-group per row; the local size is a power of two no larger than the row
 * needs, since the tree reduction in common.cl assumes one. */
#include "ocl.h"

static size_t row_wg(const ssmrt_ocl_kernel *k, int64_t cols)
{
    size_t want = 256;
    while (want > 32 && (int64_t)want / 2 >= cols)
        want /= 2;
    return ssmrt_ocl_wg_size(k, want);
}

int ssmrt_ocl_op_softmax(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *x = &op->src[0], *y = &op->dst[0];
    int64_t rows, cols;
    ssmrt_ocl_rows(x, &rows, &cols);
    if (rows * cols == 0)
        return SSMRT_OK;
    ssmrt_ocl_kernel *k = ssmrt_ocl_kernel_get(dev, "rows", "", "softmax_rows");
    if (!k)
        return SSMRT_ERR_BACKEND;
    size_t local = row_wg(k, cols), global = (size_t)rows * local;
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k);
    ssmrt_ocl_arg_tensor(&a, y);
    ssmrt_ocl_arg_tensor(&a, x);
    ssmrt_ocl_arg_i64(&a, cols);
    ssmrt_ocl_arg_local(&a, local * sizeof(float));
    return ssmrt_ocl_launch(dev, &a, 1, &global, &local, NULL);
}

int ssmrt_ocl_op_norm(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *x = &op->src[0], *y = &op->dst[0];
    int64_t rows, cols;
    ssmrt_ocl_rows(x, &rows, &cols);
    if (rows * cols == 0)
        return SSMRT_OK;
    const char *name = op->kind == SSMRT_OP_LAYER_NORM ? "layer_norm_rows" : "rms_norm_groups";
    ssmrt_ocl_kernel *k = ssmrt_ocl_kernel_get(dev, "rows", "", name);
    if (!k)
        return SSMRT_ERR_BACKEND;
    const ssmrt_tensor_desc *w = &op->src[op->kind == SSMRT_OP_RMS_NORM_GATED ? 2 : 1];
    if (!w->buffer || ssmrt_ocl_numel(w) != cols)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "norm: weight must have %lld elements",
                              (long long)cols);
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k);
    ssmrt_ocl_arg_tensor(&a, y);
    ssmrt_ocl_arg_tensor(&a, x);
    size_t local, global;
    if (op->kind == SSMRT_OP_LAYER_NORM) {
        local = row_wg(k, cols);
        global = (size_t)rows * local;
        ssmrt_ocl_arg_tensor(&a, w);
        ssmrt_ocl_arg_tensor(&a, &op->src[2]); /* bias, may be absent */
        ssmrt_ocl_arg_i64(&a, cols);
        ssmrt_ocl_arg_f32(&a, op->params.norm.eps);
    } else {
        int gated = op->kind == SSMRT_OP_RMS_NORM_GATED;
        int64_t group = gated && op->params.norm.group_size > 0 ? op->params.norm.group_size : cols;
        if (cols % group != 0)
            return ssmrt_ocl_fail(SSMRT_ERR_SHAPE,
                                  "rms_norm_gated: group size %lld does not divide %lld",
                                  (long long)group, (long long)cols);
        local = row_wg(k, group);
        global = (size_t)(rows * (cols / group)) * local;
        static const ssmrt_tensor_desc absent = {0};
        ssmrt_ocl_arg_tensor(&a, gated ? &op->src[1] : &absent);
        ssmrt_ocl_arg_tensor(&a, w);
        ssmrt_ocl_arg_i64(&a, cols);
        ssmrt_ocl_arg_i64(&a, group);
        ssmrt_ocl_arg_f32(&a, op->params.norm.eps);
    }
    ssmrt_ocl_arg_local(&a, local * sizeof(float));
    return ssmrt_ocl_launch(dev, &a, 1, &global, &local, NULL);
}
