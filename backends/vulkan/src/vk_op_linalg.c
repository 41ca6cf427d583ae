/*
 * vk_op_linalg.c: host side of MATMUL (matmul.comp tiled, matmul_coopmat_nv.comp for
 * f16 weights where the device has NV cooperative matrices, matvec_sg.comp or
 * matvec.comp for at most 8 rows) and EMBEDDING (embedding.comp).
 */
#include "vk_internal.h"

static int shape_fail(const ssmrt_op *op, const char *what) {
    return vk_error(SSMRT_ERR_SHAPE, "vulkan: %s: %s", vk_op_name(op->kind), what);
}

static int64_t last_dim(const ssmrt_tensor_desc *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }

#define MATVEC_MAX_ROWS 8

/* Elements of size es one binding may span on this device (the binding starts up
 * to one alignment unit below the tensor). */
static uint64_t bind_limit(const vk_device *d, uint32_t es) {
    uint64_t align = d->caps.props.limits.minStorageBufferOffsetAlignment;
    if (align < 16) align = 16;
    uint64_t range = d->caps.props.limits.maxStorageBufferRange;
    return range > align ? (range - align) / es : 0;
}

static uint32_t dsize(uint32_t dt) { return dt == SSMRT_F16 || dt == SSMRT_BF16 ? 2 : 4; }

/* One dispatch of y[m0 : m0+Mc, n0 : n0+Nc]. */
static int matmul_part(vk_device *d, const ssmrt_op *op, int64_t N, int64_t K,
                       int64_t m0, int64_t Mc, int64_t n0, int64_t Nc, int has_bias) {
    ssmrt_tensor_desc x = op->src[0], w = op->src[1], bias = op->src[2], y = op->dst[0];
    uint32_t wes = dsize(w.dtype);
    /* Each part as a 2-d contiguous view of its rows/columns. */
    x.offset += (uint64_t)(m0 * K) * 4;
    x.ndim = 2, x.shape[0] = Mc, x.shape[1] = K, x.stride[0] = K, x.stride[1] = 1;
    w.offset += (uint64_t)(n0 * K) * wes;
    w.shape[0] = Nc;
    bias.offset += (uint64_t)n0 * 4;
    bias.ndim = 1, bias.shape[0] = Nc, bias.stride[0] = 1;
    y.offset += (uint64_t)(m0 * N + n0) * 4;
    y.ndim = 2, y.shape[0] = Mc, y.shape[1] = Nc, y.stride[0] = N, y.stride[1] = 1;
    vk_binding b[4];
    int rc = vk_bind_tensor(d, K ? &x : NULL, 0, &b[0]);
    if (!rc) rc = vk_bind_tensor(d, K ? &w : NULL, 0, &b[1]);
    if (!rc) rc = vk_bind_tensor(d, has_bias ? &bias : NULL, 0, &b[2]);
    if (!rc) rc = vk_bind_tensor(d, &y, 1, &b[3]);
    if (rc) return rc;
    struct {
        uint32_t M, N, K, has_bias, ldy;
    } pc = {(uint32_t)Mc, (uint32_t)Nc, (uint32_t)K, (uint32_t)has_bias, (uint32_t)N};
    uint32_t wt = w.dtype;
    if (Mc <= MATVEC_MAX_ROWS) {
        /* A subgroup per column with 16-byte loads (matvec_sg.comp) where the device
         * has subgroup arithmetic and the rows are 16-byte vectors; else a
         * workgroup per column. */
        uint32_t per = wt == SSMRT_F32 ? 4 : 8, sg = d->caps.subgroup_size;
        if (d->caps.subgroup_compute && (d->caps.subgroup_ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
            sg >= 4 && sg <= 256 && 256 % sg == 0 && K % per == 0 && b[0].offset % 16 == 0 &&
            b[1].offset % 16 == 0) {
            vk_pipeline_key key = vk_key(VK_K_MATVEC_SG, 256, 1, 1, 1, &wt);
            return vk_dispatch(d, &key, b, 4, &pc, sizeof pc, vk_groups(d, (uint64_t)Nc, 256 / sg), 1, 1);
        }
        vk_pipeline_key key = vk_key(vk_kernel16(d, VK_K_MATVEC, VK_K_MATVEC_S16), 64, 1, 1, 1, &wt);
        return vk_dispatch(d, &key, b, 4, &pc, sizeof pc, vk_groups(d, (uint64_t)Nc, 1), 1, 1);
    }
    /* Tensor cores (see matmul_coopmat_nv.comp): 8 subgroups of 32, 128 x 128
     * tiles, x rows read as 16-byte and w rows as 8-byte vectors; 48 KiB of shared
     * memory. Other f16 shapes take the SIMT kernel. */
    if (wt == SSMRT_F16 && d->caps.coopmat_nv && K % 4 == 0 && b[0].offset % 16 == 0 &&
        b[1].offset % 8 == 0 && d->caps.props.limits.maxComputeSharedMemorySize >= 49152 &&
        d->caps.props.limits.maxComputeWorkGroupInvocations >= 256) {
        vk_pipeline_key key = vk_key(VK_K_MATMUL_CM, 256, 1, 1, 0, NULL);
        return vk_dispatch(d, &key, b, 4, &pc, sizeof pc, (uint32_t)((Nc + 127) / 128),
                           (uint32_t)((Mc + 127) / 128), 1);
    }
    vk_pipeline_key key = vk_key(vk_kernel16(d, VK_K_MATMUL, VK_K_MATMUL_S16), 16, 8, 1, 1, &wt);
    return vk_dispatch(d, &key, b, 4, &pc, sizeof pc, (uint32_t)((Nc + 63) / 64),
                       (uint32_t)((Mc + 63) / 64), 1);
}

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
    /* Tensors larger than one descriptor can bind (a vocabulary projection on a
     * device with a 128 MiB maxStorageBufferRange) run as parts: columns so the
     * weight part fits, then rows so the x and y parts fit. */
    uint64_t lim_w = bind_limit(d, dsize(w->dtype)), lim_f = bind_limit(d, 4);
    if ((uint64_t)K > lim_w || (uint64_t)K > lim_f)
        return vk_error(SSMRT_ERR_UNSUPPORTED, "vulkan: matmul: one row of K = %lld exceeds what "
                        "one descriptor can bind on %s", (long long)K, d->caps.props.deviceName);
    int64_t Nc = N;
    if (K && (uint64_t)(N * K) > lim_w) Nc = (int64_t)(lim_w / (uint64_t)K) / 64 * 64;
    if (Nc < 1) Nc = 1;
    int64_t Mc = M;
    if (K && (uint64_t)(M * K) > lim_f) Mc = (int64_t)(lim_f / (uint64_t)K);
    if ((uint64_t)((Mc - 1) * N + Nc) > lim_f) Mc = (int64_t)((lim_f - (uint64_t)Nc) / (uint64_t)N) + 1;
    if (Mc < 1) Mc = 1;
    for (int64_t m0 = 0; m0 < M; m0 += Mc)
        for (int64_t n0 = 0; n0 < N; n0 += Nc) {
            int rc = matmul_part(d, op, N, K, m0, M - m0 < Mc ? M - m0 : Mc, n0,
                                 N - n0 < Nc ? N - n0 : Nc, has_bias);
            if (rc) return rc;
        }
    return 0;
}

int vk_op_embedding(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *t = &op->src[0], *ids = &op->src[1], *y = &op->dst[0];
    if (t->ndim != 2) return shape_fail(op, "table must be 2-d [V, D]");
    int64_t V = t->shape[0], D = t->shape[1], M = vk_desc_numel(ids);
    if (vk_desc_numel(y) != M * D) return shape_fail(op, "dst is not [M, D]");
    if (M == 0 || D == 0) return 0;
    if (V > INT32_MAX) return shape_fail(op, "table has more rows than an i32 id can index");
    /* Row ranges of the table that one descriptor can bind (one range on most GPUs). */
    uint64_t lim = bind_limit(d, dsize(t->dtype));
    if ((uint64_t)D > lim)
        return vk_error(SSMRT_ERR_UNSUPPORTED, "vulkan: embedding: one row of D = %lld exceeds what "
                        "one descriptor can bind on %s", (long long)D, d->caps.props.deviceName);
    int64_t Vc = (uint64_t)(V * D) > lim ? (int64_t)(lim / (uint64_t)D) : V;
    int64_t r0 = 0;
    do {
        int64_t n = V - r0 < Vc ? V - r0 : Vc;
        ssmrt_tensor_desc part = *t;
        part.offset += (uint64_t)(r0 * D) * dsize(t->dtype);
        part.shape[0] = n;
        vk_binding b[3];
        int rc = vk_bind_tensor(d, n ? &part : NULL, 0, &b[0]);
        if (!rc) rc = vk_bind_tensor(d, ids, 0, &b[1]);
        if (!rc) rc = vk_bind_tensor(d, y, 1, &b[2]);
        if (rc) return rc;
        struct {
            uint32_t M, D, V, r0, Vc, first;
        } pc = {(uint32_t)M, (uint32_t)D, (uint32_t)V, (uint32_t)r0, (uint32_t)n, r0 == 0};
        uint32_t tt = t->dtype;
        vk_pipeline_key key = vk_key(vk_kernel16(d, VK_K_EMBED, VK_K_EMBED_S16), 256, 1, 1, 1, &tt);
        rc = vk_dispatch(d, &key, b, 3, &pc, sizeof pc, vk_groups(d, (uint64_t)(M * D), 256), 1, 1);
        if (rc) return rc;
        r0 += n;
    } while (r0 < V);
    return 0;
}
