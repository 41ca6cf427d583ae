/*
 * vk_op_scan.c: host side of SELECTIVE_SCAN: shape checks as the CPU reference
 * makes them, the choice between the two shaders and their workgroup shapes.
 * selective_scan_m1.comp (Mamba-1 prefill: A [H, N], N <= 16, N % 4 == 0),
 * selective_scan_runs.comp (other prefill on devices with 8-, 16- or 32-wide
 * subgroups and shuffles: one subgroup per channel) and selective_scan.comp
 * (decode, other devices, wide states).
 */
#include "vk_internal.h"

static int shape_fail(const char *what) {
    return vk_error(SSMRT_ERR_SHAPE, "vulkan: selective_scan: %s", what);
}

static int64_t last_dim(const ssmrt_tensor_desc *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }

/* Steps up to which the scan counts as decode and keeps selective_scan.comp (it
 * shrinks its chunks to L; the runs shader's chunks are a subgroup of steps). */
enum { SCAN_DECODE_L = 8 };

typedef struct scan_dims {
    uint32_t B, L, H, P, N, G, flags;
} scan_dims;

/* The Mamba-1 shader (see selective_scan_m1.comp) where the shape and device allow
 * it: returns 1 (and *rc) when dispatched, 0 to try the other shaders. */
static int scan_m1(vk_device *d, const vk_binding *b, const scan_dims *pc, int a_per_head, int has_z, int *rc) {
    const VkPhysicalDeviceLimits *lim = &d->caps.props.limits;
    uint32_t sg = d->caps.subgroup_size;
    if (pc->L <= SCAN_DECODE_L || a_per_head || pc->N > 16 || pc->N % 4 != 0 || b[3].offset % 16 != 0 ||
        b[4].offset % 16 != 0 || !d->caps.subgroup_compute ||
        !(d->caps.subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT))
        return 0;
    /* Two invocations per (channel, chunk), 8 or 16 states between them, 8
     * channels, 16 chunks of 4 steps: 128 registers, two workgroups per SM.
     * Measured on the H100 (D = 2048, N = 16, L = 4096), same run each:
     * 0.125 ms; the same shape replaying each chunk with its decays kept, 0.137;
     * 16 channels x 16 chunks (512 invocations) 0.158; a subgroup per channel
     * (its 16 chunks x 2 parts: B and C reads no longer shared by 8 channels)
     * 0.19. Earlier (replaying): 8 steps per chunk 186 registers, one workgroup
     * per SM, 0.168 vs 0.147; 8 chunks of 8 steps 0.146.
     * Devices of the CPU type get 8 chunks (128 invocations): lavapipe runs
     * barriers of wide workgroups much slower. */
    int cpu = d->caps.props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    uint32_t spl = 2, npt = pc->N <= 8 ? 4 : 8, ch = 8, lc = 4, k = cpu ? 8 : 16;
    uint32_t nt = ch * k * spl, S = k * lc, npad = npt * spl;
    /* The combine needs an invocation per (channel, state): nt >= ch npad. */
    if (sg == 0 || sg % spl != 0 || nt < ch * npad || lim->maxComputeWorkGroupInvocations < nt ||
        lim->maxComputeWorkGroupSize[0] < nt)
        return 0;
    uint64_t shared = 4ull * (2ull * ch * (S + 4) + 2ull * S * npad + ch * k) +
                      16ull * k * (npt / 4) * (ch * spl + 4);
    if (shared > lim->maxComputeSharedMemorySize) return 0;
    uint32_t spec[6] = {ch, k, lc, npt, spl, (uint32_t)has_z};
    vk_pipeline_key key = vk_key(VK_K_SCAN_M1, nt, 1, 1, 6, spec);
    uint64_t tiles = ((uint64_t)pc->H * pc->P / pc->G + ch - 1) / ch;
    *rc = vk_dispatch(d, &key, b, 11, pc, sizeof *pc, vk_groups(d, (uint64_t)pc->B * pc->G * tiles, 1), 1, 1);
    return 1;
}

/* The runs shader (see selective_scan_runs.comp) where the device and shape
 * allow it: returns 1 (and *rc) when dispatched, 0 to use selective_scan.comp. */
static int scan_runs(vk_device *d, const vk_binding *b, const scan_dims *pc, int a_per_head, int has_z,
                     int *rc) {
    uint32_t sg = d->caps.subgroup_size;
    VkSubgroupFeatureFlags need = VK_SUBGROUP_FEATURE_SHUFFLE_BIT | VK_SUBGROUP_FEATURE_SHUFFLE_RELATIVE_BIT;
    if (pc->L <= SCAN_DECODE_L || !d->caps.subgroup_compute || (d->caps.subgroup_ops & need) != need ||
        (sg != 8 && sg != 16 && sg != 32))
        return 0;
    /* NL state lanes (also the run length) of NPT states: 8 lanes (4 runs) on
     * 32-wide subgroups as far as N = 32, 16 lanes beyond, at most 8 states per
     * lane (registers); narrower subgroups start at SG / 2 lanes so there are
     * still two runs to combine (lavapipe's 8 lanes: 4 x 2 up to N = 16). */
    uint32_t nl = sg >= 32 ? 8 : sg / 2;
    while (pc->N > 4 * nl && nl < 16 && nl * 2 <= sg) nl *= 2;
    uint32_t npt = (pc->N + nl - 1) / nl;
    if (npt > 8) return 0;
    uint32_t npad = nl * npt, sub = npad <= 16 ? 2 : 1, nt = 8 * sg, tb = sub * sg;
    uint32_t ebc = (tb * npad + nt - 1) / nt;
    /* B and C rows as vec4 loads: whole rows (no padded states) at 16-byte aligned starts. */
    uint32_t vec = pc->N % 4 == 0 && npad == pc->N && b[3].offset % 16 == 0 && b[4].offset % 16 == 0;
    uint32_t pref = ebc <= 4;                         /* next block's B, C in registers */
    uint32_t keepa = !a_per_head && npt * nl <= 32;   /* pass 1's decays kept for pass 2 */
    uint32_t keepb = npt * nl <= 16;                  /* and dt u B */
    uint32_t bstr = npad + (nl == 8 && npt <= 2 ? 2 : 0); /* even: rows are read as state pairs */
    uint64_t shared = 4ull * (2ull * 8 * (tb + 4) + 2ull * tb * 8 + 2ull * tb * bstr);
    if (shared > d->caps.props.limits.maxComputeSharedMemorySize) return 0;
    uint32_t spec[10] = {sg, nl, npt, sub, pref, (uint32_t)has_z, (uint32_t)a_per_head, keepa, keepb, vec};
    vk_pipeline_key key = vk_key(VK_K_SCAN_RUNS, nt, 1, 1, 10, spec);
    uint64_t tiles = ((uint64_t)pc->H * pc->P / pc->G + 7) / 8;
    *rc = vk_dispatch(d, &key, b, 11, pc, sizeof *pc, vk_groups(d, (uint64_t)pc->B * pc->G * tiles, 1), 1, 1);
    return 1;
}

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
    scan_dims pc = {(uint32_t)B, (uint32_t)L, (uint32_t)H, (uint32_t)P, (uint32_t)N, (uint32_t)G,
                    (has_d ? 1u : 0u) | (has_z ? 2u : 0u) | (has_bias ? 4u : 0u) | (has_s0 ? 8u : 0u) |
                        (has_s1 ? 16u : 0u) | (op->params.scan.delta_softplus ? 32u : 0u) |
                        (a_per_head ? 64u : 0u)};
    if (scan_m1(d, b, &pc, a_per_head, has_z, &rc)) return rc;
    if (scan_runs(d, b, &pc, a_per_head, has_z, &rc)) return rc;

    /* selective_scan.comp. The lane reduction by subgroup shuffles needs the QL lanes of a chunk inside
     * one subgroup: QL consecutive invocations, QL dividing the subgroup size. */
    uint32_t sgz = d->caps.subgroup_size;
    int use_sg = d->caps.subgroup_compute && (d->caps.subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
    /* Workgroup shape (see selective_scan.comp): QL lanes of 4 states each (the next
     * power of two of N/4, at most 32) times CL channels of one (batch, group) (a row
     * of W = 32 invocations, the subgroup size where that is larger, so a subgroup's
     * B and C reads are one row shared by its CL channels) times NC time chunks of T
     * steps. Measured on an H100 (device timestamps), the time goes into the
     * workgroup's barriers and the serial chunk combine, not into arithmetic or
     * memory, so time chunks are used only as far as the GPU needs threads:
     *  - NC doubles while 2 NC times the channels' lanes (B*H*P*QL) stays within
     *    256 invocations per compute unit (Mamba-1 D = 2048, N = 16: 8192 lanes,
     *    NC = 4, 128 threads: 0.23 ms with z and state where NC = 8 took 0.38 ms).
     *  - Without chunks (NC = 1: Mamba-2, N = 128, 65536 lanes) there is no combine
     *    and no local state to keep: T = 8 and CL fills the workgroup (8 channels x
     *    32 lanes) while there stay a workgroup per compute unit: 1.39 ms where
     *    NC = 8 chunks of one channel took 2.44 ms.
     * Wide states keep T * NKS (the local states a thread keeps) at 4 (8 without
     * chunks). Devices of the CPU type (lavapipe) get at most 128 threads: they run
     * barriers of wide workgroups much slower. Short sequences (decode: L = 1) get T
     * and NC shrunk to L, so no thread scans steps that do not exist. */
    uint32_t W = sgz > 32 && sgz <= 128 ? sgz : 32;
    uint32_t threads = d->caps.props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ? 128 : 256;
    uint32_t ql = 1;
    while (ql * 4 < N && ql < 32) ql <<= 1;
    if (use_sg && (ql > sgz || sgz % ql != 0)) use_sg = 0;
    uint32_t nks = (uint32_t)((N + 4 * ql - 1) / (4 * ql));
    uint64_t chg = (uint64_t)(H / G) * (uint64_t)P; /* channels per (batch, group) */
    uint32_t cl = W / ql > 0 ? W / ql : 1;
    while (cl > 1 && cl / 2 >= chg) cl /= 2; /* few channels (decode): no idle rows */
    uint64_t lanes = (uint64_t)B * (uint64_t)H * (uint64_t)P * ql;
    uint64_t units = d->caps.compute_units ? d->caps.compute_units : 16;
    uint32_t nc = 1;
    while (nc * 2 * ql * cl <= threads && (int64_t)nc * 4 < L && lanes * 2 * nc <= units * 256) nc <<= 1;
    uint32_t T = nc == 1 ? 8 : 4;
    while (T > 1 && T * nks > (nc == 1 ? 8u : 4u)) T /= 2;
    while (T > 1 && T / 2 >= L) T /= 2;
    if (nc == 1)
        while (cl * 2 * ql <= threads && cl * 2 <= chg &&
               (uint64_t)B * G * ((chg + 2 * cl - 1) / (2 * cl)) >= units)
            cl *= 2;
    /* B and C rows go through shared memory when each thread prefetches at most two
     * quads of each (CL >= T*NKS/2): the rows are shared by CL >= 4 channels then;
     * otherwise (wide N, one or two channels) each lane reads its own from memory. */
    uint32_t stage = 0, zs = (uint32_t)has_z;
    uint64_t shared;
    for (;;) {
        uint32_t tb = nc * T, tb4 = (tb + 3) / 4, nq = ql * nks, nt = ql * cl * nc;
        stage = (T * nks + cl - 1) / cl <= 2;
        shared = 16ull * (2ull * tb4 * cl * (2 + zs) + (zs ? 0 : 1) +
                          (stage ? 4ull * tb * nq : 2) + 4ull * nc * cl * nq + 2ull * cl * nq);
        if (!use_sg) shared += 4ull * nt * T;
        if (shared <= d->caps.props.limits.maxComputeSharedMemorySize) break;
        if (nc > 1)
            nc /= 2;
        else if (cl > 1)
            cl /= 2;
        else if (T > 1)
            T /= 2;
        else
            return vk_error(SSMRT_ERR_UNSUPPORTED, "vulkan: selective_scan: N = %lld needs %llu bytes "
                            "of shared memory, the device has %u", (long long)N,
                            (unsigned long long)shared, d->caps.props.limits.maxComputeSharedMemorySize);
    }
    /* vec4 rows of B and C need 16-byte aligned rows: N % 4 == 0 and aligned starts. */
    uint32_t vec = N % 4 == 0 && op->src[SSMRT_SCAN_B].offset % 16 == 0 &&
                   op->src[SSMRT_SCAN_C].offset % 16 == 0;
    uint32_t spec[9] = {ql, cl, nc, nks, vec, T, stage, zs, (uint32_t)a_per_head};
    vk_pipeline_key key = vk_key(use_sg ? VK_K_SCAN_SG : VK_K_SCAN, ql, cl, nc, 9, spec);
    uint64_t groups = (uint64_t)B * (uint64_t)G * ((chg + cl - 1) / cl);
    return vk_dispatch(d, &key, b, 11, &pc, sizeof pc, vk_groups(d, groups, 1), 1, 1);
}
