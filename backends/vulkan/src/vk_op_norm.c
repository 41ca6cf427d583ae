/*
 * vk_op_norm.c: host side of RMS_NORM, RMS_NORM_GATED and LAYER_NORM (norm.comp,
 * one workgroup per row and group) and of TOPK_ROUTE (topk_route.comp).
 */
#include "vk_internal.h"


static int shape_fail(const ssmrt_op *op, const char *what) {
    return vk_error(SSMRT_ERR_SHAPE, "vulkan: %s: %s", vk_op_name(op->kind), what);
}

static int64_t last_dim(const ssmrt_tensor_desc *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }

int vk_op_norm(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *x = &op->src[0], *y = &op->dst[0];
    int gated = op->kind == SSMRT_OP_RMS_NORM_GATED, layer = op->kind == SSMRT_OP_LAYER_NORM;
    const ssmrt_tensor_desc *w = &op->src[gated ? 2 : 1];
    int64_t n = vk_desc_numel(y), cols = last_dim(y);
    if (vk_desc_numel(x) != n || last_dim(x) != cols) return shape_fail(op, "src and dst shapes differ");
    if (vk_desc_numel(w) != cols) return shape_fail(op, "weight size is not the last dim");
    if (gated && vk_desc_numel(&op->src[1]) != n) return shape_fail(op, "z and x differ in size");
    int has_bias = layer && vk_opt_src(op, 2);
    if (has_bias && vk_desc_numel(&op->src[2]) != cols)
        return shape_fail(op, "bias size is not the last dim");
    int64_t group = cols;
    if (gated) {
        /* group_size 0 means one group over the whole row. */
        if (op->params.norm.group_size < 0 ||
            (op->params.norm.group_size > 0 && cols % op->params.norm.group_size != 0))
            return vk_error(SSMRT_ERR_SHAPE, "vulkan: rms_norm_gated: group_size %lld does not "
                            "divide %lld", (long long)op->params.norm.group_size, (long long)cols);
        if (op->params.norm.group_size > 0) group = op->params.norm.group_size;
    }
    if (n == 0 || cols == 0) return 0;
    vk_binding b[5];
    int rc = vk_bind_tensor(d, x, 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, gated ? &op->src[1] : NULL, 0, &b[1]);
    if (!rc) rc = vk_bind_tensor(d, w, 0, &b[2]);
    if (!rc) rc = vk_bind_tensor(d, has_bias ? &op->src[2] : NULL, 0, &b[3]);
    if (!rc) rc = vk_bind_tensor(d, y, 1, &b[4]);
    if (rc) return rc;
    struct {
        uint32_t rows, cols, group;
        float eps;
        uint32_t has_bias;
    } pc = {(uint32_t)(n / cols), (uint32_t)cols, (uint32_t)group, op->params.norm.eps,
            (uint32_t)has_bias};
    uint32_t mode = gated ? 1 : layer ? 2 : 0;
    vk_pipeline_key key = vk_key(VK_K_NORM, 128, 1, 1, 1, &mode); /* 128 threads: lavapipe runs 256-thread workgroups with barriers ~10x slower */
    uint64_t items = (uint64_t)pc.rows * (uint64_t)(cols / group);
    return vk_dispatch(d, &key, b, 5, &pc, sizeof pc, vk_groups(d, items, 1), 1, 1);
}

int vk_op_topk(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *x = &op->src[0], *y = &op->dst[0];
    int64_t n = vk_desc_numel(y), E = last_dim(y);
    if (vk_desc_numel(x) != n || last_dim(x) != E) return shape_fail(op, "src and dst shapes differ");
    if (op->params.topk.k < 1)
        return vk_error(SSMRT_ERR_INVALID_ARGUMENT, "vulkan: topk_route: k = %d, must be >= 1",
                        (int)op->params.topk.k);
    if (n == 0 || E == 0) return 0;
    vk_binding b[2];
    int rc = vk_bind_tensor(d, x, 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, y, 1, &b[1]);
    if (rc) return rc;
    struct {
        uint32_t T, E, k, renormalize;
    } pc = {(uint32_t)(n / E), (uint32_t)E,
            (uint32_t)(op->params.topk.k < E ? op->params.topk.k : E),
            op->params.topk.renormalize != 0};
    vk_pipeline_key key = vk_key(VK_K_TOPK, 64, 1, 1, 0, NULL);
    return vk_dispatch(d, &key, b, 2, &pc, sizeof pc, vk_groups(d, pc.T, 64), 1, 1);
}
