/*
 * k_attention_mma.cu: causal attention prefill for f16/bf16 on tensor cores
 * (mma.sync m16n8k16, f32 accumulation), flash-attention-2 style.
 *
 * A block of 4 warps owns 128 queries of one head; each warp owns 32 query rows
 * (two m16 tiles), so every K or V fragment read from shared memory feeds two
 * mmas. The keys are walked in tiles of 64 up to the causal limit, K and V tiles
 * double-buffered in shared memory by cp.async (the next tile loads while this
 * one is computed). Per tile and warp:
 *   S = Q K^T      Q and K fragments by ldmatrix from XOR-swizzled rows;
 *   online softmax running row max m (of S * scale*log2(e)) and partial row
 *                  sums l stay in registers (the 4 lanes of a row combine l
 *                  only at the end), P = ex2(S * scale*log2(e) - m) as one
 *                  FFMA and one ex2; O is rescaled only when some row's max
 *                  moved (a warp vote), which late tiles of long rows skip;
 *   O += P V       P is rounded to f16/bf16 in registers: the accumulator
 *                  layout of S is the A-operand layout of the next mma, so P
 *                  never goes through memory; V fragments by ldmatrix.trans.
 * Only tiles crossing a warp's diagonal are masked, and a warp skips tiles
 * wholly above its rows. The grid puts the query tiles of the most keys first
 * (longest jobs first), heads across x. When that grid is too small to fill
 * the GPU, the keys are split across blocks as well, and the partial (m, l, O)
 * merged by the merge kernel of k_attention.cu.
 *
 * Accuracy: scores, softmax and the output accumulate in f32; P is rounded to
 * the input type (relative 2^-11 for f16, 2^-8 for bf16, per term, bounded by
 * that fraction of max |v|) and the output once at the end.
 */
#include "k_attention.cuh"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#define ATTN_MMA_ARCH 1
#endif

enum { AM_BQ = 128, AM_BK = 64, AM_WARPS = 4, AM_THREADS = 128 };

template <int DH> static constexpr size_t am_smem_bytes() {
    return (size_t)(AM_BQ + 4 * AM_BK) * DH * 2; /* Q, 2 x K, 2 x V */
}

#ifdef ATTN_MMA_ARCH
/* One K/V tile (keys j0 .. j0+63) into stage buffers sk, sv. Thread tid moves
 * chunk tid % CH of rows tid / CH + n * (128 / CH). */
template <int DH, typename T>
__device__ __forceinline__ void am_load_kv(uint32_t sk, uint32_t sv, const T *kb, const T *vb,
                                           int64_t ks1, int64_t vs1, int64_t j0, int64_t lk,
                                           int tid) {
    constexpr int CH = DH / 8, RSTEP = AM_THREADS / CH;
    const int c = tid % CH, r0 = tid / CH;
#pragma unroll
    for (int n = 0; n < AM_BK / RSTEP; n++) {
        int r = r0 + n * RSTEP;
        int64_t j = j0 + r;
        bool in = j < lk;
        const T *ks = in ? kb + j * ks1 + c * 8 : kb;
        const T *vs = in ? vb + j * vs1 + c * 8 : vb;
        uint32_t o = attn_swz<CH>(r, c);
        attn_cp16(sk + o, ks, in ? 16 : 0);
        attn_cp16(sv + o, vs, in ? 16 : 0);
    }
}

/* One 64-key tile for one warp: S, softmax update, O += P V. lim[mi][h] is the
 * last visible key of row (mi, h) relative to the tile start (MASK only). */
template <int DH, typename T, bool MASK>
__device__ __forceinline__ void am_tile(uint32_t sq, uint32_t sk, uint32_t sv, int warp, int lane,
                                        float scale2, const int lim[2][2], const uint32_t xq[4],
                                        const uint32_t xk[4], float o[2][DH / 8][4], float m[2][2],
                                        float l[2][2]) {
    constexpr int CH = DH / 8;
    const int t = lane & 3;
    float s[2][AM_BK / 8][4];
#pragma unroll
    for (int mi = 0; mi < 2; mi++)
#pragma unroll
        for (int n = 0; n < AM_BK / 8; n++)
#pragma unroll
            for (int e = 0; e < 4; e++) s[mi][n][e] = 0.0f;

    /* S = Q K^T over DH in steps of 16. */
    const int qrow = warp * 32 + (lane & 15), krow = (lane & 7) + ((lane >> 4) << 3);
#pragma unroll
    for (int ks = 0; ks < DH / 16; ks++) {
        uint32_t qa[2][4];
#pragma unroll
        for (int mi = 0; mi < 2; mi++) attn_ldsm4(qa[mi], attn_frag<CH>(sq, qrow + 16 * mi, ks, xq));
#pragma unroll
        for (int np = 0; np < AM_BK / 16; np++) {
            uint32_t kf[4];
            attn_ldsm4(kf, attn_frag<CH>(sk, krow + 16 * np, ks, xk));
#pragma unroll
            for (int mi = 0; mi < 2; mi++) {
                attn_mma(s[mi][2 * np], qa[mi], kf[0], kf[1], T());
                attn_mma(s[mi][2 * np + 1], qa[mi], kf[2], kf[3], T());
            }
        }
    }

    /* Online softmax; this thread holds rows g (h = 0) and g + 8 (h = 1) of each
     * m tile, columns 8n + 2t + {0, 1}. scale2 > 0 (fits), so the row max of
     * the raw scores gives the scaled max, and each probability is one FFMA and
     * one ex2; masked scores are -inf and give 0. */
    float corr[2][2];
#pragma unroll
    for (int mi = 0; mi < 2; mi++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float mx = -INFINITY;
#pragma unroll
            for (int n = 0; n < AM_BK / 8; n++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    if (MASK && 8 * n + 2 * t + e > lim[mi][h]) s[mi][n][2 * h + e] = -INFINITY;
                    mx = fmaxf(mx, s[mi][n][2 * h + e]);
                }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            const float mn = fmaxf(m[mi][h], mx * scale2);
            const float mu = mn == -INFINITY ? 0.0f : mn; /* no visible key yet */
            corr[mi][h] = cuda_ex2(m[mi][h] - mu);
            m[mi][h] = mn;
            float sum = 0.0f;
#pragma unroll
            for (int n = 0; n < AM_BK / 8; n++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    float p = cuda_ex2(fmaf(s[mi][n][2 * h + e], scale2, -mu));
                    s[mi][n][2 * h + e] = p;
                    sum += p;
                }
            l[mi][h] = l[mi][h] * corr[mi][h] + sum;
        }
    /* Once the row maxima settle (most tiles of a long row), every factor is
     * exactly 1: skip the rescale of O when the whole warp agrees. */
    const bool unchanged = corr[0][0] == 1.0f && corr[0][1] == 1.0f && corr[1][0] == 1.0f &&
                           corr[1][1] == 1.0f;
    if (!__all_sync(0xffffffffu, unchanged)) {
#pragma unroll
        for (int mi = 0; mi < 2; mi++)
#pragma unroll
            for (int dn = 0; dn < DH / 8; dn++) {
                o[mi][dn][0] *= corr[mi][0];
                o[mi][dn][1] *= corr[mi][0];
                o[mi][dn][2] *= corr[mi][1];
                o[mi][dn][3] *= corr[mi][1];
            }
    }

    /* O += P V over the 64 keys in steps of 16. */
    const int vrow = lane & 15; /* V rows: the Q pattern (hi = lane / 16) */
#pragma unroll
    for (int kk = 0; kk < AM_BK / 16; kk++) {
        uint32_t pa[2][4];
#pragma unroll
        for (int mi = 0; mi < 2; mi++) {
            pa[mi][0] = attn_pack(s[mi][2 * kk][0], s[mi][2 * kk][1], T());
            pa[mi][1] = attn_pack(s[mi][2 * kk][2], s[mi][2 * kk][3], T());
            pa[mi][2] = attn_pack(s[mi][2 * kk + 1][0], s[mi][2 * kk + 1][1], T());
            pa[mi][3] = attn_pack(s[mi][2 * kk + 1][2], s[mi][2 * kk + 1][3], T());
        }
#pragma unroll
        for (int dp = 0; dp < DH / 16; dp++) {
            uint32_t vf[4];
            attn_ldsm4_t(vf, attn_frag<CH>(sv, vrow + 16 * kk, dp, xq));
#pragma unroll
            for (int mi = 0; mi < 2; mi++) {
                attn_mma(o[mi][2 * dp], pa[mi], vf[0], vf[1], T());
                attn_mma(o[mi][2 * dp + 1], pa[mi], vf[2], vf[3], T());
            }
        }
    }
}
#endif

/* Two blocks per SM (255 registers). Dh = 64 with three (168 registers, a few
 * spills) measured slower on the H100: 263 against 278 TFLOP/s. */
template <int DH, typename T>
__global__ void __launch_bounds__(AM_THREADS, 2)
    attn_mma_kernel(const attn_args a, int64_t per, int nsplit, float *__restrict__ part) {
#ifdef ATTN_MMA_ARCH
    cuda_pdl_enter();
    extern __shared__ __align__(128) unsigned char am_smem[];
    constexpr int CH = DH / 8;
    const uint32_t sq = (uint32_t)__cvta_generic_to_shared(am_smem);
    const uint32_t sk0 = sq + AM_BQ * DH * 2, sv0 = sk0 + 2 * AM_BK * DH * 2;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int64_t hq = blockIdx.x, b = blockIdx.z / nsplit, split = blockIdx.z % nsplit;
    const int64_t q0 = (int64_t)(gridDim.y - 1 - blockIdx.y) * AM_BQ; /* most keys first */
    const int64_t kh = hq / (a.Hq / a.Hk), off = a.Lk - a.Lq;
    const T *qb = (const T *)a.q + b * a.qs[0] + hq * a.qs[2];
    const T *kb = (const T *)a.k + b * a.ks[0] + kh * a.ks[2];
    const T *vb = (const T *)a.v + b * a.vs[0] + kh * a.vs[2];

    for (int i = tid; i < AM_BQ * CH; i += AM_THREADS) {
        int r = i / CH, c = i % CH;
        bool in = q0 + r < a.Lq;
        attn_cp16(sq + attn_swz<CH>(r, c), in ? qb + (q0 + r) * a.qs[1] + c * 8 : qb, in ? 16 : 0);
    }
    const int64_t qend = q0 + AM_BQ < a.Lq ? q0 + AM_BQ : a.Lq;
    const int64_t kend = off + qend; /* keys 0 .. kend-1 are visible to some row */
    /* This split's tiles (per is a multiple of the tile; a split past kend has none). */
    const int64_t kstop = split * per + per < kend ? split * per + per : kend;
    const int jt0 = (int)(split * per / AM_BK), jt1 = (int)((kstop + AM_BK - 1) / AM_BK);
    /* Tile j lives in stage j % 2, also the first (jt0 is odd for some splits). */
    if (jt0 < jt1)
        am_load_kv<DH, T>(sk0 + (jt0 & 1) * AM_BK * DH * 2, sv0 + (jt0 & 1) * AM_BK * DH * 2, kb, vb,
                          a.ks[1], a.vs[1], (int64_t)jt0 * AM_BK, a.Lk, tid);
    attn_cp_commit();

    float o[2][DH / 8][4], m[2][2], l[2][2];
#pragma unroll
    for (int mi = 0; mi < 2; mi++) {
#pragma unroll
        for (int h = 0; h < 2; h++) {
            m[mi][h] = -INFINITY;
            l[mi][h] = 0.0f;
        }
#pragma unroll
        for (int dn = 0; dn < DH / 8; dn++)
#pragma unroll
            for (int e = 0; e < 4; e++) o[mi][dn][e] = 0.0f;
    }
    /* Absolute position of this warp's first and last rows. */
    const int64_t wpos0 = off + q0 + warp * 32, wpos1 = wpos0 + 31;
    uint32_t xq[4], xk[4];
    attn_swz_lane(xq, lane, lane >> 4);
    attn_swz_lane(xk, lane, (lane >> 3) & 1);

    for (int j = jt0; j < jt1; j++) {
        if (j + 1 < jt1)
            am_load_kv<DH, T>(sk0 + ((j + 1) & 1) * AM_BK * DH * 2, sv0 + ((j + 1) & 1) * AM_BK * DH * 2,
                              kb, vb, a.ks[1], a.vs[1], (int64_t)(j + 1) * AM_BK, a.Lk, tid);
        attn_cp_commit();
        attn_cp_wait<1>();
        __syncthreads();
        const int64_t k0 = (int64_t)j * AM_BK;
        const uint32_t sk = sk0 + (j & 1) * AM_BK * DH * 2, sv = sv0 + (j & 1) * AM_BK * DH * 2;
        if (k0 + AM_BK - 1 <= wpos0) {
            am_tile<DH, T, false>(sq, sk, sv, warp, lane, a.scale2, NULL, xq, xk, o, m, l);
        } else if (k0 <= wpos1) {
            int lim[2][2];
#pragma unroll
            for (int mi = 0; mi < 2; mi++)
#pragma unroll
                for (int h = 0; h < 2; h++) {
                    int64_t d = wpos0 + 16 * mi + 8 * h + (lane >> 2) - k0;
                    lim[mi][h] = (int)(d < AM_BK ? d : AM_BK);
                }
            am_tile<DH, T, true>(sq, sk, sv, warp, lane, a.scale2, lim, xq, xk, o, m, l);
        }
        __syncthreads();
    }
    attn_cp_wait<0>(); /* a split without tiles still has Q in flight */

#pragma unroll
    for (int mi = 0; mi < 2; mi++)
#pragma unroll
        for (int h = 0; h < 2; h++) {
            float sum = l[mi][h];
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
            const int64_t qi = q0 + warp * 32 + 16 * mi + 8 * h + (lane >> 2);
            if (qi >= a.Lq) continue;
            if (nsplit > 1) { /* partial (m, l, unnormalised o) for the merge kernel */
                float *pp = part + (((b * a.Lq + qi) * a.Hq + hq) * nsplit + split) * (DH + 2);
                if ((lane & 3) == 0) {
                    pp[0] = m[mi][h];
                    pp[1] = sum;
                }
#pragma unroll
                for (int dn = 0; dn < DH / 8; dn++) {
                    pp[2 + 8 * dn + 2 * (lane & 3)] = o[mi][dn][2 * h];
                    pp[3 + 8 * dn + 2 * (lane & 3)] = o[mi][dn][2 * h + 1];
                }
                continue;
            }
            uint32_t *yr = (uint32_t *)((T *)a.y + ((b * a.Lq + qi) * a.Hq + hq) * DH) + (lane & 3);
#pragma unroll
            for (int dn = 0; dn < DH / 8; dn++)
                yr[4 * dn] = attn_pack(o[mi][dn][2 * h] * inv, o[mi][dn][2 * h + 1] * inv, T());
        }
#endif
}

/* ===================================================================== */
/* Host side                                                               */
/* ===================================================================== */

static int am_aligned(const void *p, const int64_t s[4]) {
    return ((uintptr_t)p & 15) == 0 && s[3] == 1 && s[0] % 8 == 0 && s[1] % 8 == 0 && s[2] % 8 == 0;
}

int cuda_attention_mma_fits(const cuda_device *dev, const attn_args *a, uint32_t dtype) {
    return dev->cc_major >= 8 && (dtype == SSMRT_F16 || dtype == SSMRT_BF16) && a->Dh == a->Dv &&
           a->scale2 > 0.0f && /* the softmax takes row maxima of unscaled scores */
           (a->Dh == 64 || a->Dh == 128) && am_smem_bytes<128>() <= dev->smem_optin &&
           am_aligned(a->q, a->qs) && am_aligned(a->k, a->ks) && am_aligned(a->v, a->vs) &&
           ((uintptr_t)a->y & 15) == 0 && a->Hq <= 0x7fffffff && a->B <= 65535 &&
           (a->Lq + AM_BQ - 1) / AM_BQ <= 65535;
}

template <int DH, typename T>
static int am_launch(cuda_device *dev, const attn_args &a, uint32_t dtype) {
    /* Few blocks (a short chunk of queries on a long cache, or few heads) would
     * leave SMs idle while each walks all its keys: then the keys are split too,
     * up to about two blocks per SM, at least 8 tiles per split, partials within
     * the scratch, and merged afterwards. */
    const int64_t qtiles = (a.Lq + AM_BQ - 1) / AM_BQ, blocks = a.Hq * qtiles * a.B;
    const int64_t rows = a.B * a.Lq * a.Hq;
    int64_t nsplit = 1, per = a.Lk;
    if (blocks < 2 * (int64_t)dev->sm_count) {
        nsplit = (2 * (int64_t)dev->sm_count + blocks - 1) / blocks;
        const int64_t by_keys = a.Lk / (8 * AM_BK);
        const int64_t by_scratch = (int64_t)(CUDA_ATTN_SCRATCH_BYTES / sizeof(float)) / (rows * (DH + 2));
        if (nsplit > by_keys) nsplit = by_keys;
        if (nsplit > by_scratch) nsplit = by_scratch;
        if (a.B * nsplit > 65535) nsplit = 65535 / a.B;
        if (nsplit < 1) nsplit = 1;
        per = (a.Lk + nsplit - 1) / nsplit;
        per = (per + AM_BK - 1) / AM_BK * AM_BK;
        nsplit = (a.Lk + per - 1) / per;
        if (nsplit < 1) nsplit = 1;
    }
    float *part = (float *)dev->attn_scratch;
    dim3 grid((unsigned)a.Hq, (unsigned)qtiles, (unsigned)(a.B * nsplit));
    cuda_launch(dev, attn_mma_kernel<DH, T>, grid, AM_THREADS, am_smem_bytes<DH>(), a, per, (int)nsplit,
                part);
    int rc = CUDA_LAUNCH_CHECK("attention (tensor cores)");
    if (rc || nsplit == 1) return rc;
    return cuda_attention_merge_launch(dev, part, a.y, dtype, rows, (int)nsplit, DH, DH);
}

int cuda_attention_mma_launch(cuda_device *dev, const attn_args *a, uint32_t dtype) {
    if (dtype == SSMRT_F16)
        return a->Dh == 64 ? am_launch<64, __half>(dev, *a, dtype) : am_launch<128, __half>(dev, *a, dtype);
    return a->Dh == 64 ? am_launch<64, __nv_bfloat16>(dev, *a, dtype)
                       : am_launch<128, __nv_bfloat16>(dev, *a, dtype);
}

template <typename K> static int am_set_smem(K kernel, size_t bytes) {
    return cuda_check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes),
                      "attention (tensor cores): setting shared memory");
}

int cuda_attention_mma_setup(cuda_device *dev) {
    if (dev->cc_major < 8 || am_smem_bytes<128>() > dev->smem_optin) return 0; /* not used there */
    int rc = am_set_smem(attn_mma_kernel<64, __half>, am_smem_bytes<64>());
    if (!rc) rc = am_set_smem(attn_mma_kernel<64, __nv_bfloat16>, am_smem_bytes<64>());
    if (!rc) rc = am_set_smem(attn_mma_kernel<128, __half>, am_smem_bytes<128>());
    if (!rc) rc = am_set_smem(attn_mma_kernel<128, __nv_bfloat16>, am_smem_bytes<128>());
    return rc;
}
