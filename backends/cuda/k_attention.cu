/*
 * k_attention.cu: ATTENTION, causal scaled dot-product with grouped-query heads
 * and strided q, k, v, in f32.
 *
 * Prefill (Lq > 1): flash-style. A block owns 32 queries of one head and walks
 * the keys in tiles of 32 up to the causal limit, keeping a running max m, sum l
 * and output o per query (online softmax), so no Lq x Lk matrix exists. q is
 * staged pre-multiplied by scale*log2(e), so probabilities are ex2(s - m).
 * Thread layout: 8 lanes share two query rows; each computes 2x4 scores and
 * owns 2 x Dp/8 output columns. Probabilities move from the score layout to the
 * output layout through shuffles within the 8 lanes, never through memory.
 *
 * Decode (Lq == 1): split-KV. The keys are cut into splits processed by
 * separate blocks (enough to fill the GPU even for one sequence), each block
 * serving every query head of one kv head, so K and V are read once per kv
 * head; a second kernel merges the splits' (m, l, o) partials. Partials live in
 * the device's attention scratch, allocated at device_open.
 *
 * Dh and Dv up to 256 (padded to 32, 64, 128 or 256 in shared memory); wider
 * heads go to k_attention_wide.cu.
 */
#include "k_attention.cuh"

template <typename T> struct cuda_is_bf16 { static const bool value = false; };
template <> struct cuda_is_bf16<__nv_bfloat16> { static const bool value = true; };


/* ===================================================================== */
/* Prefill: flash-style                                                    */
/* ===================================================================== */

enum { FA_BQ = 32, FA_BK = 32, FA_THREADS = 128 };

template <int DP> static constexpr size_t fa_smem_bytes() {
    return sizeof(float) * (size_t)(FA_BQ * (DP + 4) + FA_BK * (DP + 4) + FA_BK * DP);
}

template <int DP, typename T>
__global__ void __launch_bounds__(FA_THREADS) flash_attn_kernel(const attn_args a) {
    cuda_pdl_enter();
    const T *aq = (const T *)a.q, *ak = (const T *)a.k, *av = (const T *)a.v;
    extern __shared__ __align__(16) float smem[];
    float *Qs = smem;                      /* [BQ][DP+4] */
    float *Ks = Qs + FA_BQ * (DP + 4);     /* [BK][DP+4] */
    float *Vs = Ks + FA_BK * (DP + 4);     /* [BK][DP] */
    constexpr int NG = DP / 32;            /* float4 output groups per thread and row */

    const int tid = threadIdx.x, r0 = tid / 8, c0 = tid % 8;
    const int lane = tid & 31, lane_base = lane & ~7;
    const int64_t q0 = (int64_t)blockIdx.x * FA_BQ, hq = blockIdx.y, b = blockIdx.z;
    const int64_t kh = hq / (a.Hq / a.Hk);
    const int64_t off = a.Lk - a.Lq; /* absolute position of query 0 */

    for (int e = tid; e < FA_BQ * DP; e += FA_THREADS) {
        int r = e / DP, d = e % DP;
        int64_t qi = q0 + r;
        float v = 0.0f;
        if (qi < a.Lq && d < a.Dh)
            v = cuda_to_f32(aq[b * a.qs[0] + qi * a.qs[1] + hq * a.qs[2] + d * a.qs[3]]) * a.scale2;
        Qs[r * (DP + 4) + d] = v;
    }

    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};
    float4 o[2][NG];
#pragma unroll
    for (int r = 0; r < 2; r++)
#pragma unroll
        for (int g = 0; g < NG; g++) o[r][g] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);

    const int64_t qlast = (q0 + FA_BQ - 1 < a.Lq - 1 ? q0 + FA_BQ - 1 : a.Lq - 1) + off;
    const int64_t kend = qlast + 1 < a.Lk ? qlast + 1 : a.Lk; /* keys this block needs */
    const T *kb = ak + b * a.ks[0] + kh * a.ks[2];
    const T *vb = av + b * a.vs[0] + kh * a.vs[2];

    for (int64_t k0 = 0; k0 < kend; k0 += FA_BK) {
        __syncthreads();
        for (int e = tid; e < FA_BK * DP; e += FA_THREADS) {
            int r = e / DP, d = e % DP;
            int64_t j = k0 + r;
            bool in = j < a.Lk;
            Ks[r * (DP + 4) + d] = (in && d < a.Dh) ? cuda_to_f32(kb[j * a.ks[1] + d * a.ks[3]]) : 0.0f;
            Vs[r * DP + d] = (in && d < a.Dv) ? cuda_to_f32(vb[j * a.vs[1] + d * a.vs[3]]) : 0.0f;
        }
        __syncthreads();

        /* Scores: rows r0, r0+16; keys c0 + 8*c. */
        float s[2][4];
#pragma unroll
        for (int r = 0; r < 2; r++)
#pragma unroll
            for (int c = 0; c < 4; c++) s[r][c] = 0.0f;
#pragma unroll 4
        for (int d = 0; d < DP; d += 4) {
            float4 qv[2], kv[4];
#pragma unroll
            for (int r = 0; r < 2; r++) qv[r] = *(const float4 *)&Qs[(r0 + 16 * r) * (DP + 4) + d];
#pragma unroll
            for (int c = 0; c < 4; c++) kv[c] = *(const float4 *)&Ks[(c0 + 8 * c) * (DP + 4) + d];
#pragma unroll
            for (int r = 0; r < 2; r++)
#pragma unroll
                for (int c = 0; c < 4; c++) {
                    s[r][c] = fmaf(qv[r].x, kv[c].x, s[r][c]);
                    s[r][c] = fmaf(qv[r].y, kv[c].y, s[r][c]);
                    s[r][c] = fmaf(qv[r].z, kv[c].z, s[r][c]);
                    s[r][c] = fmaf(qv[r].w, kv[c].w, s[r][c]);
                }
        }

        /* Online softmax per row across the 8 lanes that share it. */
        float corr[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            int64_t qpos = off + q0 + r0 + 16 * r;
            float mx = -INFINITY;
#pragma unroll
            for (int c = 0; c < 4; c++) {
                int64_t j = k0 + c0 + 8 * c;
                if (j > qpos || j >= a.Lk) s[r][c] = -INFINITY;
                mx = fmaxf(mx, s[r][c]);
            }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
            float mn = fmaxf(m[r], mx);
            float mu = mn == -INFINITY ? 0.0f : mn; /* no key yet: keep everything 0 */
            float sum = 0.0f;
#pragma unroll
            for (int c = 0; c < 4; c++) {
                s[r][c] = cuda_ex2(s[r][c] - mu);
                sum += s[r][c];
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            sum += __shfl_xor_sync(0xffffffffu, sum, 4);
            corr[r] = cuda_ex2(m[r] - mu);
            l[r] = l[r] * corr[r] + sum;
            m[r] = mn;
        }
#pragma unroll
        for (int r = 0; r < 2; r++)
#pragma unroll
            for (int g = 0; g < NG; g++) {
                o[r][g].x *= corr[r];
                o[r][g].y *= corr[r];
                o[r][g].z *= corr[r];
                o[r][g].w *= corr[r];
            }

        /* o += p . V; p of key jj lives in lane jj % 8, slot jj / 8. */
#pragma unroll
        for (int jj = 0; jj < FA_BK; jj++) {
            float p0 = __shfl_sync(0xffffffffu, s[0][jj / 8], lane_base | (jj % 8));
            float p1 = __shfl_sync(0xffffffffu, s[1][jj / 8], lane_base | (jj % 8));
#pragma unroll
            for (int g = 0; g < NG; g++) {
                float4 vv = *(const float4 *)&Vs[jj * DP + 4 * (c0 + 8 * g)];
                o[0][g].x = fmaf(p0, vv.x, o[0][g].x);
                o[0][g].y = fmaf(p0, vv.y, o[0][g].y);
                o[0][g].z = fmaf(p0, vv.z, o[0][g].z);
                o[0][g].w = fmaf(p0, vv.w, o[0][g].w);
                o[1][g].x = fmaf(p1, vv.x, o[1][g].x);
                o[1][g].y = fmaf(p1, vv.y, o[1][g].y);
                o[1][g].z = fmaf(p1, vv.z, o[1][g].z);
                o[1][g].w = fmaf(p1, vv.w, o[1][g].w);
            }
        }
    }

#pragma unroll
    for (int r = 0; r < 2; r++) {
        int64_t qi = q0 + r0 + 16 * r;
        if (qi >= a.Lq) continue;
        float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        T *yr = (T *)a.y + ((b * a.Lq + qi) * a.Hq + hq) * a.Dv;
#pragma unroll
        for (int g = 0; g < NG; g++) {
            int d = 4 * (c0 + 8 * g);
            float vals[4] = {o[r][g].x, o[r][g].y, o[r][g].z, o[r][g].w};
#pragma unroll
            for (int i = 0; i < 4; i++)
                if (d + i < a.Dv) attn_store(&yr[d + i], vals[i] * inv);
        }
    }
}

/* ===================================================================== */
/* Decode: split-KV                                                        */
/* ===================================================================== */

enum { DEC_WARPS = 4, DEC_ROWS = 8, DEC_MIN_KEYS = 128 };

/* grid: x = split, y = kv head x row chunk, z = batch. Each warp walks keys
 * split_start + warp + DEC_WARPS*i with lanes across the head dim. Partials
 * (m, l, o[Dv]) per (b, hq, split) go to part when nsplit > 1, else the output
 * is written directly. */
template <int DP, typename T>
__global__ void __launch_bounds__(DEC_WARPS * 32)
    decode_attn_kernel(const attn_args a, int nsplit, int64_t keys_per_split, int row_chunks,
                       float *__restrict__ part) {
    cuda_pdl_enter();
    const T *aq = (const T *)a.q, *ak = (const T *)a.k, *av = (const T *)a.v;
    constexpr int NK = DP / 32;
    __shared__ float sm_m[DEC_WARPS][DEC_ROWS], sm_l[DEC_WARPS][DEC_ROWS];
    __shared__ float sm_o[DEC_WARPS][DEC_ROWS][DP];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int64_t split = blockIdx.x, b = blockIdx.z;
    const int64_t kh = blockIdx.y / row_chunks, rc = blockIdx.y % row_chunks;
    const int64_t group = a.Hq / a.Hk;
    const int64_t h0 = kh * group + rc * DEC_ROWS;
    const int rows = (int)(group - rc * DEC_ROWS < DEC_ROWS ? group - rc * DEC_ROWS : DEC_ROWS);

    float q[DEC_ROWS][NK], o[DEC_ROWS][NK], m[DEC_ROWS], l[DEC_ROWS];
#pragma unroll
    for (int r = 0; r < DEC_ROWS; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
#pragma unroll
        for (int k = 0; k < NK; k++) {
            int d = lane + 32 * k;
            q[r][k] = (r < rows && d < a.Dh)
                          ? cuda_to_f32(aq[b * a.qs[0] + (h0 + r) * a.qs[2] + d * a.qs[3]]) * a.scale2
                          : 0.0f;
            o[r][k] = 0.0f;
        }
    }
    const int64_t j0 = split * keys_per_split;
    const int64_t j1 = j0 + keys_per_split < a.Lk ? j0 + keys_per_split : a.Lk;
    const T *kb = ak + b * a.ks[0] + kh * a.ks[2];
    const T *vb = av + b * a.vs[0] + kh * a.vs[2];
    /* Each warp loads its next key while it computes this one: the loop is
     * latency-bound (a chain of shuffles per key), so the prefetch doubles the
     * bytes in flight. */
    auto load = [&](int64_t j, float *kx, float *vx) {
#pragma unroll
        for (int k = 0; k < NK; k++) {
            int d = lane + 32 * k;
            kx[k] = d < a.Dh ? cuda_to_f32(kb[j * a.ks[1] + d * a.ks[3]]) : 0.0f;
            vx[k] = d < a.Dv ? cuda_to_f32(vb[j * a.vs[1] + d * a.vs[3]]) : 0.0f;
        }
    };
    float kn[NK], vn[NK];
    if (j0 + warp < j1) load(j0 + warp, kn, vn);
    for (int64_t j = j0 + warp; j < j1; j += DEC_WARPS) {
        float kv[NK], vv[NK];
#pragma unroll
        for (int k = 0; k < NK; k++) {
            kv[k] = kn[k];
            vv[k] = vn[k];
        }
        if (j + DEC_WARPS < j1) load(j + DEC_WARPS, kn, vn);
#pragma unroll
        for (int r = 0; r < DEC_ROWS; r++) {
            if (r >= rows) break;
            float sdot = 0.0f;
#pragma unroll
            for (int k = 0; k < NK; k++) sdot = fmaf(q[r][k], kv[k], sdot);
            sdot = cuda_warp_sum(sdot);
            float mn = fmaxf(m[r], sdot);
            float corr = cuda_ex2(m[r] - mn), p = cuda_ex2(sdot - mn);
            l[r] = l[r] * corr + p;
            m[r] = mn;
#pragma unroll
            for (int k = 0; k < NK; k++) o[r][k] = fmaf(p, vv[k], o[r][k] * corr);
        }
    }
    /* Merge the warps. */
#pragma unroll
    for (int r = 0; r < DEC_ROWS; r++) {
        if (lane == 0) {
            sm_m[warp][r] = m[r];
            sm_l[warp][r] = l[r];
        }
#pragma unroll
        for (int k = 0; k < NK; k++) sm_o[warp][r][lane + 32 * k] = o[r][k];
    }
    __syncthreads();
    for (int e = threadIdx.x; e < rows * DP; e += DEC_WARPS * 32) {
        int r = e / DP, d = e % DP;
        float M = -INFINITY;
        for (int w = 0; w < DEC_WARPS; w++) M = fmaxf(M, sm_m[w][r]);
        float Mu = M == -INFINITY ? 0.0f : M, L = 0.0f, O = 0.0f;
        for (int w = 0; w < DEC_WARPS; w++) {
            float f = cuda_ex2(sm_m[w][r] - Mu);
            L += sm_l[w][r] * f;
            O += sm_o[w][r][d] * f;
        }
        int64_t hq = h0 + r;
        if (nsplit == 1) {
            if (d < a.Dv) attn_store((T *)a.y + (b * a.Hq + hq) * a.Dv + d, L > 0.0f ? O / L : 0.0f);
        } else {
            float *pp = part + ((b * a.Hq + hq) * nsplit + split) * (DP + 2);
            if (d == 0) {
                pp[0] = M;
                pp[1] = L;
            }
            pp[2 + d] = O;
        }
    }
}

/* y[b, hq, :] = sum_s 2^(m_s - M) o_s / sum_s 2^(m_s - M) l_s */
template <typename T>
__global__ void decode_merge_kernel(const float *__restrict__ part, T *__restrict__ y, int nsplit,
                                    int dp, int64_t Dv) {
    cuda_pdl_enter();
    const float *pp = part + (int64_t)blockIdx.x * nsplit * (dp + 2);
    float M = -INFINITY;
    for (int s = 0; s < nsplit; s++) M = fmaxf(M, pp[s * (dp + 2)]);
    float Mu = M == -INFINITY ? 0.0f : M;
    float L = 0.0f;
    for (int s = 0; s < nsplit; s++) L += pp[s * (dp + 2) + 1] * cuda_ex2(pp[s * (dp + 2)] - Mu);
    float inv = L > 0.0f ? 1.0f / L : 0.0f;
    for (int64_t d = threadIdx.x; d < Dv; d += blockDim.x) {
        float O = 0.0f;
        for (int s = 0; s < nsplit; s++) O += pp[s * (dp + 2) + 2 + d] * cuda_ex2(pp[s * (dp + 2)] - Mu);
        attn_store(&y[(int64_t)blockIdx.x * Dv + d], O * inv);
    }
}

/* ===================================================================== */
/* Launch                                                                  */
/* ===================================================================== */

template <typename T> static uint32_t dtype_of() {
    return sizeof(T) == 4 ? SSMRT_F32 : cuda_is_bf16<T>::value ? SSMRT_BF16 : SSMRT_F16;
}

int cuda_attention_merge_launch(cuda_device *dev, const float *part, void *y, uint32_t dtype,
                                int64_t rows, int nsplit, int dp, int64_t Dv) {
    if (rows > 0x7fffffff)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: attention: %lld output rows exceed the grid",
                          (long long)rows);
    if (dtype == SSMRT_F16)
        cuda_launch(dev, decode_merge_kernel<__half>, (unsigned)rows, 128, 0, part, (__half *)y, nsplit, dp, Dv);
    else if (dtype == SSMRT_BF16)
        cuda_launch(dev, decode_merge_kernel<__nv_bfloat16>, (unsigned)rows, 128, 0, part,
                    (__nv_bfloat16 *)y, nsplit, dp, Dv);
    else
        cuda_launch(dev, decode_merge_kernel<float>, (unsigned)rows, 128, 0, part, (float *)y, nsplit, dp, Dv);
    return CUDA_LAUNCH_CHECK("attention: split merge");
}

template <int DP, typename T> static int setup_one(cuda_device *dev) {
    size_t bytes = fa_smem_bytes<DP>();
    if (bytes > dev->smem_optin) return 0; /* this head size is refused at launch */
    return cuda_check(cudaFuncSetAttribute(flash_attn_kernel<DP, T>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes),
                      "attention: setting shared memory");
}

template <typename T> static int setup_type(cuda_device *dev) {
    int rc = setup_one<32, T>(dev);
    if (!rc) rc = setup_one<64, T>(dev);
    if (!rc) rc = setup_one<128, T>(dev);
    if (!rc) rc = setup_one<256, T>(dev);
    return rc;
}

int cuda_attention_setup(cuda_device *dev) {
    int rc = setup_type<float>(dev);
    if (!rc) rc = setup_type<__half>(dev);
    if (!rc) rc = setup_type<__nv_bfloat16>(dev);
    if (!rc && dev->cc_major >= 8) rc = cuda_attention_mma_setup(dev);
    if (!rc && dev->cc_major >= 8) rc = cuda_attention_split_setup(dev);
    return rc;
}

template <int DP, typename T> static int launch_flash(cuda_device *dev, const attn_args &a) {
    size_t bytes = fa_smem_bytes<DP>();
    if (bytes > dev->smem_optin)
        return cuda_error(SSMRT_ERR_UNSUPPORTED,
                          "cuda: attention: head dim %lld needs %zu bytes of shared memory, the "
                          "device has %zu",
                          (long long)(a.Dh > a.Dv ? a.Dh : a.Dv), bytes, dev->smem_optin);
    dim3 grid((unsigned)((a.Lq + FA_BQ - 1) / FA_BQ), (unsigned)a.Hq, (unsigned)a.B);
    cuda_launch(dev, flash_attn_kernel<DP, T>, grid, FA_THREADS, bytes, a);
    return CUDA_LAUNCH_CHECK("attention");
}

template <int DP, typename T> static int launch_decode(cuda_device *dev, const attn_args &a) {
    int64_t group = a.Hq / a.Hk, row_chunks = (group + DEC_ROWS - 1) / DEC_ROWS;
    int64_t base_blocks = a.B * a.Hk * row_chunks;
    /* Splits: about four blocks per SM (each warp's loop is latency-bound, so
     * bandwidth needs many in flight), at least DEC_MIN_KEYS keys each, and no
     * more partials than the scratch holds. */
    int64_t want = (4 * (int64_t)dev->sm_count + base_blocks - 1) / base_blocks;
    int64_t max_by_keys = (a.Lk + DEC_MIN_KEYS - 1) / DEC_MIN_KEYS;
    int64_t max_by_scratch =
        (int64_t)(CUDA_ATTN_SCRATCH_BYTES / sizeof(float)) / (a.B * a.Hq * (DP + 2));
    int64_t nsplit = want < max_by_keys ? want : max_by_keys;
    if (nsplit > max_by_scratch) nsplit = max_by_scratch;
    if (nsplit > 1024) nsplit = 1024;
    if (nsplit < 1) nsplit = 1;
    int64_t per = (a.Lk + nsplit - 1) / nsplit;
    nsplit = (a.Lk + per - 1) / per;
    if (nsplit < 1) nsplit = 1;
    if (a.Hk * row_chunks > 65535 || a.B > 65535)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: attention: B=%lld Hq=%lld exceeds the grid",
                          (long long)a.B, (long long)a.Hq);
    dim3 grid((unsigned)nsplit, (unsigned)(a.Hk * row_chunks), (unsigned)a.B);
    float *part = (float *)dev->attn_scratch;
    cuda_launch(dev, decode_attn_kernel<DP, T>, grid, DEC_WARPS * 32, 0, a, (int)nsplit, per,
                                                                        (int)row_chunks, part);
    int rc = CUDA_LAUNCH_CHECK("attention: decode");
    if (rc || nsplit == 1) return rc;
    return cuda_attention_merge_launch(dev, part, a.y, dtype_of<T>(), a.B * a.Hq, (int)nsplit, DP, a.Dv);
}

template <typename T> static int launch_simt(cuda_device *dev, const attn_args &a, int64_t dmax) {
    if (a.Lq == 1) {
        if (dmax <= 32) return launch_decode<32, T>(dev, a);
        if (dmax <= 64) return launch_decode<64, T>(dev, a);
        if (dmax <= 128) return launch_decode<128, T>(dev, a);
        return launch_decode<256, T>(dev, a);
    }
    if (dmax <= 32) return launch_flash<32, T>(dev, a);
    if (dmax <= 64) return launch_flash<64, T>(dev, a);
    if (dmax <= 128) return launch_flash<128, T>(dev, a);
    return launch_flash<256, T>(dev, a);
}

int cuda_op_attention(cuda_device *dev, const ssmrt_op *op) {
    cuda_attn_dims d;
    int rc = cuda_shape_attention(op, &d);
    if (rc || d.B * d.Lq * d.Hq * d.Dv == 0) return rc;
    const uint32_t dtype = op->src[0].dtype;
    if (op->src[1].dtype != dtype || op->src[2].dtype != dtype || op->dst[0].dtype != dtype)
        return cuda_error(SSMRT_ERR_UNSUPPORTED, "cuda: attention: q, k, v and y must share one dtype");
    attn_args a;
    a.q = cuda_desc_ptr(&op->src[0]);
    a.k = cuda_desc_ptr(&op->src[1]);
    a.v = cuda_desc_ptr(&op->src[2]);
    a.y = cuda_desc_ptr(&op->dst[0]);
    for (int i = 0; i < 4; i++) {
        a.qs[i] = op->src[0].stride[i];
        a.ks[i] = op->src[1].stride[i];
        a.vs[i] = op->src[2].stride[i];
    }
    a.B = d.B;
    a.Lq = d.Lq;
    a.Lk = d.Lk;
    a.Hq = d.Hq;
    a.Hk = d.Hk;
    a.Dh = d.Dh;
    a.Dv = d.Dv;
    a.scale2 = op->params.attention.scale * CUDA_LOG2E;
    int64_t dmax = d.Dh > d.Dv ? d.Dh : d.Dv;
    if (dmax > 256) return cuda_attention_wide_launch(dev, &a, dtype);
    if (d.Hq > 65535 || d.B > 65535 || (d.Lq + FA_BQ - 1) / FA_BQ > 0x7fffffff)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: attention: B=%lld Hq=%lld exceeds the grid",
                          (long long)d.B, (long long)d.Hq);
    if (cuda_attention_split_fits(dev, &a, dtype)) return cuda_attention_split_launch(dev, &a, dtype);
    if (d.Lq > 1 && cuda_attention_mma_fits(dev, &a, dtype))
        return cuda_attention_mma_launch(dev, &a, dtype);
    if (dtype == SSMRT_F16) return launch_simt<__half>(dev, a, dmax);
    if (dtype == SSMRT_BF16) return launch_simt<__nv_bfloat16>(dev, a, dmax);
    return launch_simt<float>(dev, a, dmax);
}
