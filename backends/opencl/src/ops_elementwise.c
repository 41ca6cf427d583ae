/* Element-wise ops: ADD/MUL with broadcasting, and the unary activations
 * (kernels/elementwise.cl). */
#include "ocl.h"

int ssmrt_ocl_op_binary(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *a = &op->src[0], *b = &op->src[1], *y = &op->dst[0];
    int64_t n = ssmrt_ocl_numel(y);
    if (ssmrt_ocl_numel(a) != n)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "add/mul: input and output sizes differ");
    if (n == 0)
        return SSMRT_OK;
    /* Right-align b against y; a dim of b must equal y's or be 1. */
    cl_long shape[4], bstride[4];
    int same = 1;
    int64_t run = 1;
    for (int i = 3; i >= 0; i--) {
        int yi = (int)y->ndim - 4 + i, bi = (int)b->ndim - 4 + i;
        shape[i] = yi >= 0 ? y->shape[yi] : 1;
        int64_t bd = bi >= 0 ? b->shape[bi] : 1;
        if (bd != shape[i] && bd != 1)
            return ssmrt_ocl_fail(SSMRT_ERR_SHAPE,
                                  "add/mul: dim %d of the second input is %lld, not %lld or 1", i,
                                  (long long)bd, (long long)shape[i]);
        if (bd != shape[i])
            same = 0;
        bstride[i] = bd == 1 ? 0 : run;
        run *= bd;
    }
    ssmrt_ocl_kernel *k =
        ssmrt_ocl_kernel_get(dev, "elementwise", "", same ? "binary_same" : "binary_bcast");
    if (!k)
        return SSMRT_ERR_BACKEND;
    ssmrt_ocl_args args;
    ssmrt_ocl_args_begin(&args, k);
    ssmrt_ocl_arg_tensor(&args, y);
    ssmrt_ocl_arg_tensor(&args, a);
    ssmrt_ocl_arg_tensor(&args, b);
    ssmrt_ocl_arg_i32(&args, op->kind == SSMRT_OP_ADD ? 0 : 1);
    ssmrt_ocl_arg_i64(&args, n);
    if (!same) {
        cl_long4 vs = {{shape[0], shape[1], shape[2], shape[3]}};
        cl_long4 vb = {{bstride[0], bstride[1], bstride[2], bstride[3]}};
        ssmrt_ocl_arg_raw(&args, sizeof vs, &vs);
        ssmrt_ocl_arg_raw(&args, sizeof vb, &vb);
    }
    size_t local = ssmrt_ocl_wg_size(k, 256), global = (size_t)n;
    return ssmrt_ocl_launch(dev, &args, 1, &global, &local, NULL);
}

int ssmrt_ocl_op_unary(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *x = &op->src[0], *y = &op->dst[0];
    int64_t n = ssmrt_ocl_numel(y);
    if (ssmrt_ocl_numel(x) != n)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "unary op: input and output sizes differ");
    if (n == 0)
        return SSMRT_OK;
    int code;
    switch (op->kind) { /* numbering of kernels/elementwise.cl */
    case SSMRT_OP_SCALE: code = 0; break;
    case SSMRT_OP_SILU: code = 1; break;
    case SSMRT_OP_SIGMOID: code = 2; break;
    case SSMRT_OP_SOFTPLUS: code = 3; break;
    case SSMRT_OP_GELU: code = 4; break;
    case SSMRT_OP_EXP: code = 5; break;
    default: return ssmrt_ocl_fail(SSMRT_ERR_INTERNAL, "unary op: kind %u", op->kind);
    }
    ssmrt_ocl_kernel *k = ssmrt_ocl_kernel_get(dev, "elementwise", "", "unary");
    if (!k)
        return SSMRT_ERR_BACKEND;
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k);
    ssmrt_ocl_arg_tensor(&a, y);
    ssmrt_ocl_arg_tensor(&a, x);
    ssmrt_ocl_arg_i32(&a, code);
    ssmrt_ocl_arg_f32(&a, op->kind == SSMRT_OP_SCALE ? op->params.scale.alpha : 1.0f);
    ssmrt_ocl_arg_f32(&a, op->kind == SSMRT_OP_SCALE ? op->params.scale.beta : 0.0f);
    ssmrt_ocl_arg_i64(&a, n);
    size_t local = ssmrt_ocl_wg_size(k, 256), global = (size_t)n;
    return ssmrt_ocl_launch(dev, &a, 1, &global, &local, NULL);
}
