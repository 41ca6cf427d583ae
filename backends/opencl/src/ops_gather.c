/* SSMRT_OP_EMBEDDING and SSMRT_OP_TOPK_ROUTE (kernels/gather.cl). */
#include "ocl.h"

int ssmrt_ocl_op_embedding(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *table = &op->src[0], *ids = &op->src[1], *y = &op->dst[0];
    if (table->ndim != 2)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "embedding: table must be 2-d [V, D]");
    int64_t V = table->shape[0], D = table->shape[1], M = ssmrt_ocl_numel(ids);
    if (ssmrt_ocl_numel(y) != M * D)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "embedding: output must hold %lld x %lld",
                              (long long)M, (long long)D);
    if (V > INT32_MAX)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "embedding: more than 2^31-1 rows");
    if (M * D == 0)
        return SSMRT_OK;
    ssmrt_ocl_kernel *k = ssmrt_ocl_kernel_get(dev, "gather", "", "embedding");
    if (!k)
        return SSMRT_ERR_BACKEND;
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k);
    ssmrt_ocl_arg_tensor(&a, y);
    ssmrt_ocl_arg_tensor(&a, table);
    ssmrt_ocl_arg_i32(&a, (int32_t)table->dtype);
    ssmrt_ocl_arg_tensor(&a, ids);
    ssmrt_ocl_arg_i64(&a, M);
    ssmrt_ocl_arg_i64(&a, D);
    ssmrt_ocl_arg_i32(&a, (int32_t)V);
    size_t local = ssmrt_ocl_wg_size(k, 256), global = (size_t)(M * D);
    return ssmrt_ocl_launch(dev, &a, 1, &global, &local, NULL);
}

int ssmrt_ocl_op_topk_route(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *x = &op->src[0], *y = &op->dst[0];
    int64_t T, E;
    ssmrt_ocl_rows(x, &T, &E);
    if (ssmrt_ocl_numel(y) != T * E)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "topk_route: output and logits differ in size");
    if (E > INT32_MAX)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "topk_route: too many experts");
    if (T * E == 0)
        return SSMRT_OK;
    ssmrt_ocl_kernel *k = ssmrt_ocl_kernel_get(dev, "gather", "", "topk_route");
    if (!k)
        return SSMRT_ERR_BACKEND;
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k);
    ssmrt_ocl_arg_tensor(&a, y);
    ssmrt_ocl_arg_tensor(&a, x);
    ssmrt_ocl_arg_i64(&a, T);
    ssmrt_ocl_arg_i32(&a, (int32_t)E);
    ssmrt_ocl_arg_i32(&a, op->params.topk.k);
    ssmrt_ocl_arg_i32(&a, op->params.topk.renormalize);
    size_t local = ssmrt_ocl_wg_size(k, 64), global = (size_t)T;
    return ssmrt_ocl_launch(dev, &a, 1, &global, &local, NULL);
}
