/*
 * vk_op_scan.c: host side of SELECTIVE_SCAN (selective_scan.comp): shape checks
 * as the CPU reference makes them, and the workgroup shape.
 */
#include "vk_internal.h"

static int shape_fail(const char *what) {
    return vk_error(SSMRT_ERR_SHAPE, "vulkan: selective_scan: %s", what);
}

static int64_t last_dim(const ssmrt_tensor_desc *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }

int vk_op_scan(vk_device *d, const ssmrt_op *op) {
    const ssmrt_tensor_desc *u = &op->src[SSMRT_SCAN_U];
    if (u->ndim != 3 && u->ndim != 4) return shape_fail("u must be [B, L, H, P] or [B, L, D]");
    int64_t B = u->shape[0], L = u->shape[1], H = u->shape[2], P = u->ndim == 4 ? u->shape[3] : 1;
    int64_t BL = B * L, BLH = BL * H, n_u = BLH * P;
    int64_t N = last_dim(&op->src[SSMRT_SCAN_B]);
    int64_t nb = vk_desc_numel(&op->src[SSMRT_SCAN_B]);
    int64_t G = (BL != 0 && N != 0) ? nb / (BL * N) : 0;
    if (BL == 0 || H == 0 || P == 0) return 0; /* nothing to compute (and no state to move) */
    if (N <= 0 || G <= 0 || nb != BL * G * N || H % G != 0)
        return shape_fail("B is not [B, L, G, N] with G dividing H");
    if (vk_desc_numel(&op->src[SSMRT_SCAN_C]) != nb) return shape_fail("C and B differ in size");
    if (vk_desc_numel(&op->src[SSMRT_SCAN_DELTA]) != BLH) return shape_fail("delta is not [B, L, H]");
    int64_t na = vk_desc_numel(&op->src[SSMRT_SCAN_A]);
    int a_per_head = na == H;
    if (na != H && na != H * N) return shape_fail("A is neither [H, N] nor [H]");
    int has_d = vk_opt_src(op, SSMRT_SCAN_D), has_z = vk_opt_src(op, SSMRT_SCAN_Z);
    int has_bias = vk_opt_src(op, SSMRT_SCAN_DELTA_BIAS), has_s0 = vk_opt_src(op, SSMRT_SCAN_STATE);
    int has_s1 = vk_opt_dst(op, 1);
    int64_t ns = B * H * P * N;
    if ((has_d && vk_desc_numel(&op->src[SSMRT_SCAN_D]) != H) ||
        (has_bias && vk_desc_numel(&op->src[SSMRT_SCAN_DELTA_BIAS]) != H))
        return shape_fail("D and delta_bias must have H elements");
    if (has_z && vk_desc_numel(&op->src[SSMRT_SCAN_Z]) != n_u) return shape_fail("z and u differ in size");
    if ((has_s0 && vk_desc_numel(&op->src[SSMRT_SCAN_STATE]) != ns) ||
        (has_s1 && vk_desc_numel(&op->dst[1]) != ns))
        return shape_fail("state is not [B, H, P, N]");
    if (vk_desc_numel(&op->dst[0]) != n_u) return shape_fail("y and u differ in size");

    vk_binding b[11];
    int rc = 0;
    for (uint32_t i = 0; i < SSMRT_SCAN_NSRC && !rc; i++)
        rc = vk_bind_tensor(d, vk_opt_src(op, i) ? &op->src[i] : NULL, 0, &b[i]);
    if (!rc) rc = vk_bind_tensor(d, &op->dst[0], 1, &b[9]);
    if (!rc) rc = vk_bind_tensor(d, has_s1 ? &op->dst[1] : NULL, 1, &b[10]);
    if (rc) return rc;

    /* Workgroup shape (see selective_scan.comp): QL lanes of 4 states each (the next
     * power of two of N/4, at most 32), NC chunks of T = 8 steps (8, fewer for short
     * sequences), and as many channels CW as fit 128 threads (at most 16) and the
     * shared memory. 128, not 256: lavapipe runs 256-thread workgroups with
     * barriers about 10x slower, and on GPUs the 100-register threads of this
     * kernel reach the same occupancy either way. */
    /* Short sequences (decode: L = 1) get fewer chunks, so no thread scans steps
     * that do not exist. */
    const uint32_t T = 8, THREADS = 128;
    uint32_t ql = 1;
    while (ql * 4 < N && ql < 32) ql <<= 1;
    uint32_t NC = 1;
    while (NC < 8 && ql * NC * 2 <= THREADS && (int64_t)NC * T < L) NC <<= 1;
    const uint32_t TB = NC * T;
    uint32_t nks = (uint32_t)((N + 4 * ql - 1) / (4 * ql));
    uint32_t cw = THREADS / (ql * NC);
    if (cw > 16) cw = 16;
    if (cw < 1) cw = 1;
    uint64_t channels = (uint64_t)(B * H * P);
    while (cw > 1 && cw / 2 >= channels) cw /= 2; /* few channels (decode): no idle rows */
    for (;;) {
        uint64_t shared = (uint64_t)cw * (TB * 4 * 4 + NC * ql * 16 * 2 + ql * TB * 4 + nks * ql * 16);
        if (shared <= d->caps.props.limits.maxComputeSharedMemorySize) break;
        if (cw == 1)
            return vk_error(SSMRT_ERR_UNSUPPORTED, "vulkan: selective_scan: N = %lld needs %llu bytes "
                            "of shared memory, the device has %u", (long long)N,
                            (unsigned long long)shared, d->caps.props.limits.maxComputeSharedMemorySize);
        cw /= 2;
    }
    /* vec4 rows of B and C need 16-byte aligned rows: N % 4 == 0 and aligned starts. */
    uint32_t vec = N % 4 == 0 && op->src[SSMRT_SCAN_B].offset % 16 == 0 &&
                   op->src[SSMRT_SCAN_C].offset % 16 == 0;
    struct {
        uint32_t B, L, H, P, N, G, flags;
    } pc = {(uint32_t)B, (uint32_t)L, (uint32_t)H, (uint32_t)P, (uint32_t)N, (uint32_t)G,
            (has_d ? 1u : 0u) | (has_z ? 2u : 0u) | (has_bias ? 4u : 0u) | (has_s0 ? 8u : 0u) |
                (has_s1 ? 16u : 0u) | (op->params.scan.delta_softplus ? 32u : 0u) |
                (a_per_head ? 64u : 0u)};
    /* The lane reduction by subgroup shuffles needs the QL lanes of a chunk inside
     * one subgroup (consecutive invocations) and at most T of them. */
    uint32_t sg = d->caps.subgroup_size;
    int use_sg = d->caps.subgroup_compute && (d->caps.subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) &&
                 ql <= T && sg >= ql && sg % ql == 0;
    uint32_t spec[5] = {ql, NC, cw, nks, vec};
    vk_pipeline_key key = vk_key(use_sg ? VK_K_SCAN_SG : VK_K_SCAN, ql, NC, cw, 5, spec);
    return vk_dispatch(d, &key, b, 11, &pc, sizeof pc, vk_groups(d, channels, cw), 1, 1);
}
