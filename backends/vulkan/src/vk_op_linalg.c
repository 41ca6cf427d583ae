/*
 * vk_op_linalg.c: host side of MATMUL (matmul.comp tiled, matmul_coopmat_nv.comp for
 * f16 weights where the device has NV cooperative matrices, matvec.comp for at most
 * 8 rows) and EMBEDDING (embedding.comp).
 */
#include "vk_internal.h"

static int shape_fail(const ssmrt_op *op, const char *what) {
    return vk_error(SSMRT_ERR_SHAPE, "vulkan: %s: %s", vk_op_name(op->kind), what);
}

static int64_t last_dim(const ssmrt_tensor_desc *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }

#define MATVEC_MAX_ROWS 8

int vk_op_matmul(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *x = &op->src[0], *w = &op->src[1], *y = &op->dst[0];
    if (w->ndim != 2) return shape_fail(op, "weight must be 2-d [N, K]");
    int64_t N = w->shape[0], K = w->shape[1];
    if (last_dim(x) != K) return shape_fail(op, "x last dim differs from the weight's K");
    int64_t M = K ? vk_desc_numel(x) / K : 0;
    if (vk_desc_numel(y) != M * N || last_dim(y) != N) return shape_fail(op, "dst is not [M, N]");
    int has_bias = vk_opt_src(op, 2);
    if (has_bias && vk_desc_numel(&op->src[2]) != N) return shape_fail(op, "bias size is not N");
    if (M == 0 || N == 0) return 0;
    vk_binding b[4];
    int rc = 0;
    if (K == 0) /* y = bias or 0: the kernels handle an empty K with no x bound */
        rc = vk_bind_tensor(d, NULL, 0, &b[0]);
    else
        rc = vk_bind_tensor(d, x, 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, K ? w : NULL, 0, &b[1]);
    if (!rc) rc = vk_bind_tensor(d, has_bias ? &op->src[2] : NULL, 0, &b[2]);
    if (!rc) rc = vk_bind_tensor(d, y, 1, &b[3]);
    if (rc) return rc;
    struct {
        uint32_t M, N, K, has_bias;
    } pc = {(uint32_t)M, (uint32_t)N, (uint32_t)K, (uint32_t)has_bias};
    uint32_t wt = w->dtype;
    if (M <= MATVEC_MAX_ROWS) {
        vk_pipeline_key key = vk_key(vk_kernel16(d, VK_K_MATVEC, VK_K_MATVEC_S16), 64, 1, 1, 1, &wt);
        return vk_dispatch(d, &key, b, 4, &pc, sizeof pc, vk_groups(d, (uint64_t)N, 1), 1, 1);
    }
    if (wt == SSMRT_F16 && d->caps.coopmat_nv) {
        /* Tensor cores (see matmul_coopmat_nv.comp): 4 subgroups of 32. */
        vk_pipeline_key key = vk_key(VK_K_MATMUL_CM, 128, 1, 1, 0, NULL);
        return vk_dispatch(d, &key, b, 4, &pc, sizeof pc, (uint32_t)((N + 63) / 64),
                           (uint32_t)((M + 63) / 64), 1);
    }
    vk_pipeline_key key = vk_key(vk_kernel16(d, VK_K_MATMUL, VK_K_MATMUL_S16), 16, 16, 1, 1, &wt);
    return vk_dispatch(d, &key, b, 4, &pc, sizeof pc, (uint32_t)((N + 63) / 64),
                       (uint32_t)((M + 63) / 64), 1);
}

int vk_op_embedding(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *t = &op->src[0], *ids = &op->src[1], *y = &op->dst[0];
    if (t->ndim != 2) return shape_fail(op, "table must be 2-d [V, D]");
    int64_t V = t->shape[0], D = t->shape[1], M = vk_desc_numel(ids);
    if (vk_desc_numel(y) != M * D) return shape_fail(op, "dst is not [M, D]");
    if (M == 0 || D == 0) return 0;
    if (V > INT32_MAX) return shape_fail(op, "table has more rows than an i32 id can index");
    vk_binding b[3];
    int rc = vk_bind_tensor(d, V ? t : NULL, 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, ids, 0, &b[1]);
    if (!rc) rc = vk_bind_tensor(d, y, 1, &b[2]);
    if (rc) return rc;
    struct {
        uint32_t M, D, V;
    } pc = {(uint32_t)M, (uint32_t)D, (uint32_t)V};
    uint32_t tt = t->dtype;
    vk_pipeline_key key = vk_key(vk_kernel16(d, VK_K_EMBED, VK_K_EMBED_S16), 256, 1, 1, 1, &tt);
    return vk_dispatch(d, &key, b, 3, &pc, sizeof pc, vk_groups(d, (uint64_t)(M * D), 256), 1, 1);
}
