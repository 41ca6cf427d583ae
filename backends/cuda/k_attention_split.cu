/*
 * k_attention_split.cu: split-KV decode attention for f16/bf16 caches on tensor
 * cores, for few query rows per kv head (a decode step, or a short chunk).
 *
 * Decode reads the whole cache once and does little arithmetic per byte, so it
 * is bound by memory bandwidth; the design serves that:
 *  - The rows of one kv head (Lq queries x Hq/Hk heads, at most 16) form one
 *    m16 tile, so K and V are read once per kv head, not once per query head.
 *  - The keys are cut into splits, one block each, about two blocks per SM in
 *    total, each streaming its range through a 3-stage cp.async ring of 64-key
 *    K and V tiles (two tiles in flight per block while one is computed).
 *  - Each of the 4 warps takes 16 keys of a tile: S = Q K^T by mma (Q
 *    fragments held in registers), an online softmax in f32 as in the prefill
 *    kernel, O += P V by mma with P packed in registers.
 * The warps' (m, l, O) merge through shared memory at the end; with several
 * splits the block writes its partial to the attention scratch and the merge
 * kernel of k_attention.cu combines them.
 */
#include "k_attention.cuh"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#define ATTN_SPLIT_ARCH 1
#endif

enum { AS_BK = 64, AS_STAGES = 3, AS_WARPS = 4, AS_THREADS = 128, AS_ROWS = 16, AS_MIN_KEYS = 256 };

template <int DH> static constexpr size_t as_smem_bytes() {
    return (size_t)(AS_ROWS + AS_STAGES * 2 * AS_BK) * DH * 2;
}

template <int DH, typename T>
__global__ void __launch_bounds__(AS_THREADS, 2)
    attn_split_kernel(const attn_args a, int64_t per, int nsplit, float *__restrict__ part) {
#ifdef ATTN_SPLIT_ARCH
    cuda_pdl_enter();
    extern __shared__ __align__(128) unsigned char as_smem[];
    constexpr int CH = DH / 8, TILE = AS_BK * DH * 2;
    const uint32_t sq = (uint32_t)__cvta_generic_to_shared(as_smem);
    const uint32_t skv = sq + AS_ROWS * DH * 2; /* stage s: K at skv + 2s TILE, V after */
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, t = lane & 3, g = lane >> 2;
    const int64_t split = blockIdx.x, kh = blockIdx.y, b = blockIdx.z;
    const int64_t G = a.Hq / a.Hk, R = a.Lq * G, off = a.Lk - a.Lq;
    const int64_t j0 = split * per, j1 = j0 + per < a.Lk ? j0 + per : a.Lk;
    const T *kb = (const T *)a.k + b * a.ks[0] + kh * a.ks[2];
    const T *vb = (const T *)a.v + b * a.vs[0] + kh * a.vs[2];

    /* Row r = query (r / G), head kh*G + r % G. */
    for (int i = tid; i < AS_ROWS * CH; i += AS_THREADS) {
        int r = i / CH, c = i % CH;
        bool in = r < R;
        const T *src = (const T *)a.q + b * a.qs[0] + (in ? (r / G) * a.qs[1] + (kh * G + r % G) * a.qs[2] + c * 8 : 0);
        attn_cp16(sq + attn_swz<CH>(r, c), src, in ? 16 : 0);
    }
    const int ntiles = (int)((j1 - j0 + AS_BK - 1) / AS_BK);
    auto load_tile = [&](int tile) {
        constexpr int RSTEP = AS_THREADS / CH;
        const int c = tid % CH, r0 = tid / CH;
        const uint32_t sk = skv + (tile % AS_STAGES) * 2 * TILE, sv = sk + TILE;
#pragma unroll
        for (int n = 0; n < AS_BK / RSTEP; n++) {
            int r = r0 + n * RSTEP;
            int64_t j = j0 + (int64_t)tile * AS_BK + r;
            bool in = j < j1;
            uint32_t o = attn_swz<CH>(r, c);
            attn_cp16(sk + o, in ? kb + j * a.ks[1] + c * 8 : kb, in ? 16 : 0);
            attn_cp16(sv + o, in ? vb + j * a.vs[1] + c * 8 : vb, in ? 16 : 0);
        }
    };
#pragma unroll
    for (int s = 0; s < AS_STAGES - 1; s++) {
        if (s < ntiles) load_tile(s);
        attn_cp_commit(); /* Q rides in the first group */
    }

    /* Last visible key of rows g and g + 8 (causal, and the split's end). */
    int64_t kmax[2];
#pragma unroll
    for (int h = 0; h < 2; h++) {
        int64_t r = g + 8 * h, pos = r < R ? off + r / G : a.Lk - 1;
        kmax[h] = pos < j1 - 1 ? pos : j1 - 1;
    }
    float o[DH / 8][4], m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
#pragma unroll
    for (int dn = 0; dn < DH / 8; dn++)
#pragma unroll
        for (int e = 0; e < 4; e++) o[dn][e] = 0.0f;
    uint32_t qa[DH / 16][4];

    const int krow = 16 * warp + (lane & 7) + ((lane >> 4) << 3), vrow = 16 * warp + (lane & 15);
    uint32_t xq[4], xk[4]; /* V rows follow the Q pattern */
    attn_swz_lane(xq, lane, lane >> 4);
    attn_swz_lane(xk, lane, (lane >> 3) & 1);
    for (int tile = 0; tile < ntiles; tile++) {
        attn_cp_wait<AS_STAGES - 2>();
        __syncthreads();
        if (tile == 0) {
#pragma unroll
            for (int ks = 0; ks < DH / 16; ks++)
                attn_ldsm4(qa[ks], attn_frag<CH>(sq, lane & 15, ks, xq));
        }
        if (tile + AS_STAGES - 1 < ntiles) load_tile(tile + AS_STAGES - 1);
        attn_cp_commit();
        const int64_t kw = j0 + (int64_t)tile * AS_BK + 16 * warp; /* this warp's first key */
        if (kw >= j1) continue;
        const uint32_t sk = skv + (tile % AS_STAGES) * 2 * TILE, sv = sk + TILE;

        float s[2][4] = {{0.0f, 0.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 0.0f, 0.0f}};
#pragma unroll
        for (int ks = 0; ks < DH / 16; ks++) {
            uint32_t kf[4];
            attn_ldsm4(kf, attn_frag<CH>(sk, krow, ks, xk));
            attn_mma(s[0], qa[ks], kf[0], kf[1], T());
            attn_mma(s[1], qa[ks], kf[2], kf[3], T());
        }
#pragma unroll
        for (int h = 0; h < 2; h++) {
            const int64_t lim = kmax[h] - kw;
            float mx = -INFINITY;
#pragma unroll
            for (int n = 0; n < 2; n++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    float v = s[n][2 * h + e] * a.scale2;
                    if (8 * n + 2 * t + e > lim) v = -INFINITY;
                    s[n][2 * h + e] = v;
                    mx = fmaxf(mx, v);
                }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            const float mn = fmaxf(m[h], mx), mu = mn == -INFINITY ? 0.0f : mn;
            const float corr = cuda_ex2(m[h] - mu);
            m[h] = mn;
            float sum = 0.0f;
#pragma unroll
            for (int n = 0; n < 2; n++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    float p = cuda_ex2(s[n][2 * h + e] - mu);
                    s[n][2 * h + e] = p;
                    sum += p;
                }
            l[h] = l[h] * corr + sum;
#pragma unroll
            for (int dn = 0; dn < DH / 8; dn++) {
                o[dn][2 * h] *= corr;
                o[dn][2 * h + 1] *= corr;
            }
        }
        uint32_t pa[4] = {attn_pack(s[0][0], s[0][1], T()), attn_pack(s[0][2], s[0][3], T()),
                          attn_pack(s[1][0], s[1][1], T()), attn_pack(s[1][2], s[1][3], T())};
#pragma unroll
        for (int dp = 0; dp < DH / 16; dp++) {
            uint32_t vf[4];
            attn_ldsm4_t(vf, attn_frag<CH>(sv, vrow, dp, xq));
            attn_mma(o[2 * dp], pa, vf[0], vf[1], T());
            attn_mma(o[2 * dp + 1], pa, vf[2], vf[3], T());
        }
    }

    /* Merge the warps through shared memory (the K/V ring is free now). */
    attn_cp_wait<0>();
    __syncthreads();
    float *sm_o = (float *)(as_smem + AS_ROWS * DH * 2); /* [warp][row][DH] */
    float *sm_ml = sm_o + AS_WARPS * AS_ROWS * DH;        /* [warp][row][2] */
#pragma unroll
    for (int h = 0; h < 2; h++) {
        float sum = l[h];
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        const int r = g + 8 * h;
        if (t == 0) {
            sm_ml[(warp * AS_ROWS + r) * 2] = m[h];
            sm_ml[(warp * AS_ROWS + r) * 2 + 1] = sum;
        }
        float *orow = sm_o + (warp * AS_ROWS + r) * DH + 2 * t;
#pragma unroll
        for (int dn = 0; dn < DH / 8; dn++) {
            orow[8 * dn] = o[dn][2 * h];
            orow[8 * dn + 1] = o[dn][2 * h + 1];
        }
    }
    __syncthreads();
    for (int e = tid; e < R * DH && e < AS_ROWS * DH; e += AS_THREADS) {
        const int r = e / DH, d = e % DH;
        float M = -INFINITY;
#pragma unroll
        for (int w = 0; w < AS_WARPS; w++) M = fmaxf(M, sm_ml[(w * AS_ROWS + r) * 2]);
        const float Mu = M == -INFINITY ? 0.0f : M;
        float L = 0.0f, O = 0.0f;
#pragma unroll
        for (int w = 0; w < AS_WARPS; w++) {
            const float f = cuda_ex2(sm_ml[(w * AS_ROWS + r) * 2] - Mu);
            L += sm_ml[(w * AS_ROWS + r) * 2 + 1] * f;
            O += sm_o[(w * AS_ROWS + r) * DH + d] * f;
        }
        const int64_t row = (b * a.Lq + r / G) * a.Hq + kh * G + r % G; /* row of y */
        if (nsplit == 1) {
            attn_store((T *)a.y + row * DH + d, L > 0.0f ? O / L : 0.0f);
        } else {
            float *pp = part + (row * nsplit + split) * (DH + 2);
            if (d == 0) {
                pp[0] = M;
                pp[1] = L;
            }
            pp[2 + d] = O;
        }
    }
#endif
}

/* ===================================================================== */
/* Host side                                                               */
/* ===================================================================== */

static int as_aligned(const void *p, const int64_t s[4]) {
    return ((uintptr_t)p & 15) == 0 && s[3] == 1 && s[0] % 8 == 0 && s[1] % 8 == 0 && s[2] % 8 == 0;
}

int cuda_attention_split_fits(const cuda_device *dev, const attn_args *a, uint32_t dtype) {
    return dev->cc_major >= 8 && (dtype == SSMRT_F16 || dtype == SSMRT_BF16) && a->Dh == a->Dv &&
           (a->Dh == 64 || a->Dh == 128) && as_smem_bytes<128>() <= dev->smem_optin &&
           a->Lq * (a->Hq / a->Hk) <= AS_ROWS && as_aligned(a->q, a->qs) && as_aligned(a->k, a->ks) &&
           as_aligned(a->v, a->vs) && a->Hk <= 65535 && a->B <= 65535;
}

template <int DH, typename T>
static int as_launch(cuda_device *dev, const attn_args &a, uint32_t dtype) {
    /* About two blocks per SM in all (one wave), each at least AS_MIN_KEYS keys,
     * a multiple of the tile, and no more partials than the scratch holds. */
    const int64_t base = a.B * a.Hk, rows = a.B * a.Lq * a.Hq;
    int64_t nsplit = (2 * (int64_t)dev->sm_count + base - 1) / base;
    const int64_t by_keys = (a.Lk + AS_MIN_KEYS - 1) / AS_MIN_KEYS;
    const int64_t by_scratch = (int64_t)(CUDA_ATTN_SCRATCH_BYTES / sizeof(float)) / (rows * (DH + 2));
    if (nsplit > by_keys) nsplit = by_keys;
    if (nsplit > by_scratch) nsplit = by_scratch;
    if (nsplit > 65535) nsplit = 65535;
    if (nsplit < 1) nsplit = 1;
    int64_t per = (a.Lk + nsplit - 1) / nsplit;
    per = (per + AS_BK - 1) / AS_BK * AS_BK;
    nsplit = (a.Lk + per - 1) / per;
    if (nsplit < 1) nsplit = 1;
    float *part = (float *)dev->attn_scratch;
    dim3 grid((unsigned)nsplit, (unsigned)a.Hk, (unsigned)a.B);
    cuda_launch(dev, attn_split_kernel<DH, T>, grid, AS_THREADS, as_smem_bytes<DH>(), a, per,
                (int)nsplit, part);
    int rc = CUDA_LAUNCH_CHECK("attention: split-KV decode (tensor cores)");
    if (rc || nsplit == 1) return rc;
    return cuda_attention_merge_launch(dev, part, a.y, dtype, rows, (int)nsplit, DH, DH);
}

int cuda_attention_split_launch(cuda_device *dev, const attn_args *a, uint32_t dtype) {
    if (dtype == SSMRT_F16)
        return a->Dh == 64 ? as_launch<64, __half>(dev, *a, dtype) : as_launch<128, __half>(dev, *a, dtype);
    return a->Dh == 64 ? as_launch<64, __nv_bfloat16>(dev, *a, dtype)
                       : as_launch<128, __nv_bfloat16>(dev, *a, dtype);
}

template <int DH, typename T> static int as_set_smem(cuda_device *dev) {
    if (as_smem_bytes<DH>() > dev->smem_optin) return 0; /* fits() refuses it there */
    return cuda_check(cudaFuncSetAttribute(attn_split_kernel<DH, T>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           (int)as_smem_bytes<DH>()),
                      "attention (split-KV): setting shared memory");
}

int cuda_attention_split_setup(cuda_device *dev) {
    int rc = as_set_smem<64, __half>(dev);
    if (!rc) rc = as_set_smem<64, __nv_bfloat16>(dev);
    if (!rc) rc = as_set_smem<128, __half>(dev);
    if (!rc) rc = as_set_smem<128, __nv_bfloat16>(dev);
    return rc;
}
