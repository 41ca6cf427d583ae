/*
 * k_matmul.cu: MATMUL y[M, N] = x[M, K] . w[N, K]^T (+ bias[N]); x f32, w f32,
 * f16 or bf16.
 *
 * M == 1 (decode): gemv_kernel, below. 1 < M <= 8: a bandwidth-bound kernel in
 * which each warp owns one output column, streams its weight row once in the
 * stored dtype (16-byte loads) and accumulates in f32 for up to 8 rows of x at a
 * time. Exact up to f32 rounding, whatever the weight dtype.
 *
 * Large M: cuBLAS. f32 weights: cublasSgemm (no TF32: the handle keeps the
 * default math mode). f16/bf16 weights: tensor cores through cublasGemmEx,
 * which needs both operands in the weight dtype; converting x to it would cost
 * 11 (f16) or 8 (bf16) bits of x's precision, so x is split into hi + lo, both in
 * the weight dtype, and y = w.hi + w.lo (two GEMMs, the second accumulating).
 * Products of 16-bit values are exact in the f32 accumulator, and the residual
 * x - hi - lo is below 2^-22 |x| (f16) or 2^-17 |x| (bf16's 8-bit significand
 * twice), so the result is about as accurate as an f32 GEMM of the stored
 * weights, at twice the tensor-core work. Limits of f16: |x| above 65504
 * overflows hi (as it would in any f16 model), and elements of x below f16's
 * normal range (6e-5) keep an absolute, not relative, precision of 6e-8.
 */
#include "common.cuh"

enum { MM_ROWS = 8, MM_WARPS = 8 };

/* 16 bytes of weights as 8 or 4 floats. */
__device__ __forceinline__ void unpack16(const uint4 &v, const __half *, float *o) {
    const __half2 *h = (const __half2 *)&v;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float2 f = __half22float2(h[i]);
        o[2 * i] = f.x;
        o[2 * i + 1] = f.y;
    }
}
__device__ __forceinline__ void unpack16(const uint4 &v, const __nv_bfloat16 *, float *o) {
    const __nv_bfloat162 *h = (const __nv_bfloat162 *)&v;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float2 f = __bfloat1622float2(h[i]);
        o[2 * i] = f.x;
        o[2 * i + 1] = f.y;
    }
}
__device__ __forceinline__ void unpack16(const uint4 &v, const float *, float *o) {
    const float *f = (const float *)&v;
#pragma unroll
    for (int i = 0; i < 4; i++) o[i] = f[i];
}

/* grid.x: columns / MM_WARPS, grid.y: row blocks of MM_ROWS. VEC: K is a
 * multiple of the 16-byte vector width and both x and w rows are aligned. */
template <typename TW, bool VEC>
__global__ void __launch_bounds__(MM_WARPS * 32)
    matmul_rows_kernel(const float *__restrict__ x, const TW *__restrict__ w,
                       const float *__restrict__ bias, float *__restrict__ y, int64_t M,
                       int64_t N, int64_t K) {
    cuda_pdl_trigger();
    constexpr int V = 16 / sizeof(TW); /* weights per 16-byte load */
    constexpr int PF = 4;              /* 16-byte weight loads issued before the wait */
    int lane = threadIdx.x & 31;
    int64_t n = (int64_t)blockIdx.x * MM_WARPS + (threadIdx.x >> 5);
    int64_t m0 = (int64_t)blockIdx.y * MM_ROWS;
    if (n >= N) return;
    int rows = (int)(M - m0 < MM_ROWS ? M - m0 : MM_ROWS);
    const TW *wr = w + n * K;
    const float *xr = x + m0 * K;
    float acc[MM_ROWS];
#pragma unroll
    for (int r = 0; r < MM_ROWS; r++) acc[r] = 0.0f;
    if (VEC) {
        auto step = [&](const uint4 &wv, int64_t k) {
            float wf[V];
            unpack16(wv, (const TW *)nullptr, wf);
#pragma unroll
            for (int r = 0; r < MM_ROWS; r++) {
                if (r < rows) {
#pragma unroll
                    for (int j = 0; j < V; j += 4) {
                        float4 xv = __ldg((const float4 *)(xr + r * K + k + j));
                        acc[r] = fmaf(wf[j], xv.x, acc[r]);
                        acc[r] = fmaf(wf[j + 1], xv.y, acc[r]);
                        acc[r] = fmaf(wf[j + 2], xv.z, acc[r]);
                        acc[r] = fmaf(wf[j + 3], xv.w, acc[r]);
                    }
                }
            }
        };
        /* Weights are never written by a kernel: their first loads go out before
         * the wait for the kernel that produces x. */
        uint4 pre[PF];
#pragma unroll
        for (int p = 0; p < PF; p++) {
            int64_t k = ((int64_t)p * 32 + lane) * V;
            if (k < K) pre[p] = __ldg((const uint4 *)(wr + k));
        }
        cuda_pdl_wait();
#pragma unroll
        for (int p = 0; p < PF; p++) {
            int64_t k = ((int64_t)p * 32 + lane) * V;
            if (k < K) step(pre[p], k);
        }
        for (int64_t k = ((int64_t)PF * 32 + lane) * V; k < K; k += 32 * V)
            step(__ldg((const uint4 *)(wr + k)), k);
    } else {
        cuda_pdl_wait();
        for (int64_t k = lane; k < K; k += 32) {
            float wf = cuda_to_f32(wr[k]);
#pragma unroll
            for (int r = 0; r < MM_ROWS; r++)
                if (r < rows) acc[r] = fmaf(wf, xr[r * K + k], acc[r]);
        }
    }
    float b = bias ? bias[n] : 0.0f;
#pragma unroll
    for (int r = 0; r < MM_ROWS; r++) {
        float s = cuda_warp_sum(acc[r]);
        if (lane == 0 && r < rows) y[(m0 + r) * N + n] = s + b;
    }
}

template <typename TW>
static int launch_rows(cuda_device *dev, const float *x, const void *w, const float *bias,
                       float *y, int64_t M, int64_t N, int64_t K) {
    int64_t gy = (M + MM_ROWS - 1) / MM_ROWS, gx = (N + MM_WARPS - 1) / MM_WARPS;
    if (gx > 0x7fffffff || gy > 65535)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: matmul: M=%lld N=%lld too large for the row kernel",
                          (long long)M, (long long)N);
    constexpr int V = 16 / sizeof(TW);
    bool vec = K % V == 0 && ((uintptr_t)x & 15) == 0 && ((uintptr_t)w & 15) == 0;
    dim3 grid((unsigned)gx, (unsigned)gy);
    if (vec)
        cuda_launch(dev, matmul_rows_kernel<TW, true>, grid, MM_WARPS * 32, 0, x, (const TW *)w, bias,
                                                                             y, M, N, K);
    else
        cuda_launch(dev, matmul_rows_kernel<TW, false>, grid, MM_WARPS * 32, 0, x, (const TW *)w,
                                                                              bias, y, M, N, K);
    return CUDA_LAUNCH_CHECK("matmul");
}


/* ---- decode matvec (M == 1) ---------------------------------------------------- */

/* A decode step is ~120 dependent kernels of a few microseconds, so what a
 * matvec costs is mostly latency: every weight load of the block's first rows
 * goes out before the wait for the previous kernel (weights are never written
 * by a kernel), x is staged once in shared memory, and a row is split over S
 * warps (S a power of two, each lane at most GV_LOADS 16-byte loads) so that
 * short rows use all lanes and few-row matrices (x_proj: 80 rows) still spread
 * over many SMs. Blocks loop over row groups with the next group's weights
 * loaded while the current one is summed (the LM head: 50K rows).
 *
 * Fusions used by replayed decode batches (batch.cu), each giving the same bits
 * as the ops run one by one:
 *  - GV_NORM, a prologue: every block computes x = RMS_NORM(norm_x) * norm_w
 *    itself, with the norm kernel's own reduction (cuda_rms_inv) and
 *    expression. The norm's output is written by the last block to finish its
 *    prologue, found with a counter in device memory (dev->fuse_counter, back
 *    to 0 after each use): by then no block reads norm_x any more, so the output
 *    may overwrite it (an in-place norm).
 *  - ADD, an epilogue: add_out = add_other + y, the residual add after a
 *    projection; y is written too.
 * (A one-step conv as a prologue of x_proj was tried: every block recomputing
 * all 1536 channels made x_proj 11.6-12 us against 3.6 + 4.4 us for the two
 * kernels, and decode slower, 0.59-0.63 against 0.48-0.49 ms.) */
enum { GV_THREADS = 256, GV_WARPS = 8, GV_LOADS = 4, GV_BLOCKS_PER_SM = 4 };
enum { GEMV_NA = -1 }; /* not an ssmrt_status: "use another kernel" */
enum { GV_PLAIN = 0, GV_NORM = 1 };

struct gemv_fuse {
    int pro;                      /* GV_* */
    const float *norm_x, *norm_w; /* GV_NORM */
    float *norm_out;
    float eps;
    unsigned *counter;            /* GV_NORM */
    const float *add_other;       /* ADD */
    float *add_out;
};

template <typename TW, int S, int PRO, bool ADD>
__global__ void __launch_bounds__(GV_THREADS)
    gemv_kernel(const float *__restrict__ x, const TW *__restrict__ w, const float *__restrict__ bias,
                float *y, int N, int K, gemv_fuse f) {
    constexpr int V = 16 / sizeof(TW), RB = GV_WARPS / S; /* rows per group */
    extern __shared__ float4 gv_smem[];
    float *xs = (float *)gv_smem;
    __shared__ float part[GV_WARPS];
    __shared__ float scratch[32];
    __shared__ int s_last;
    cuda_pdl_trigger();
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, seg = warp % S, rw = warp / S;
    const int kv = K / V, groups = (N + RB - 1) / RB;
    auto load = [&](int grp, uint4 *buf) {
        const int n = grp * RB + rw;
        const uint4 *wr = (const uint4 *)(w + (int64_t)n * K);
#pragma unroll
        for (int p = 0; p < GV_LOADS; p++) {
            const int v = (seg * GV_LOADS + p) * 32 + lane;
            buf[p] = n < N && v < kv ? __ldg(wr + v) : make_uint4(0, 0, 0, 0);
        }
    };
    int g = blockIdx.x;
    uint4 cur[GV_LOADS];
    load(g, cur);
    cuda_pdl_wait();
    if (PRO == GV_NORM) {
        const float inv = cuda_rms_inv(f.norm_x, K, f.eps, scratch);
        for (int i = threadIdx.x; i < K; i += GV_THREADS)
            xs[i] = f.norm_x[i] * inv * f.norm_w[i]; /* as rms_norm_kernel */
    } else {
        for (int i = threadIdx.x; i < K / 4; i += GV_THREADS) gv_smem[i] = ((const float4 *)x)[i];
    }
    __syncthreads();
    unsigned arrived = 0;
    if (PRO != GV_PLAIN && threadIdx.x == 0) {
        __threadfence();
        arrived = atomicAdd(f.counter, 1u); /* its value is needed only at the end */
    }
    for (; g < groups; g += gridDim.x) {
        uint4 nxt[GV_LOADS];
        if (g + (int)gridDim.x < groups) load(g + gridDim.x, nxt);
        float acc = 0.0f;
#pragma unroll
        for (int p = 0; p < GV_LOADS; p++) {
            const int v = (seg * GV_LOADS + p) * 32 + lane;
            if (v < kv) {
                float wf[V];
                unpack16(cur[p], (const TW *)nullptr, wf);
                const float4 *xv = (const float4 *)(xs + v * V);
#pragma unroll
                for (int j = 0; j < V / 4; j++) {
                    const float4 xx = xv[j];
                    acc = fmaf(wf[4 * j], xx.x, acc);
                    acc = fmaf(wf[4 * j + 1], xx.y, acc);
                    acc = fmaf(wf[4 * j + 2], xx.z, acc);
                    acc = fmaf(wf[4 * j + 3], xx.w, acc);
                }
            }
        }
        acc = cuda_warp_sum(acc);
        if (S > 1) { /* the row's segments, summed in a fixed order */
            if (lane == 0) part[warp] = acc;
            __syncthreads();
            if (seg == 0)
                for (int s2 = 1; s2 < S; s2++) acc += part[warp + s2];
            __syncthreads(); /* part is rewritten by the next group */
        }
        const int n = g * RB + rw;
        if (seg == 0 && lane == 0 && n < N) {
            const float v = acc + (bias ? bias[n] : 0.0f);
            y[n] = v;
            if (ADD) f.add_out[n] = f.add_other[n] + v; /* ADD's a + b, either order */
        }
#pragma unroll
        for (int p = 0; p < GV_LOADS; p++) cur[p] = nxt[p];
    }
    if (PRO == GV_PLAIN) return;
    if (threadIdx.x == 0) s_last = arrived == gridDim.x - 1;
    __syncthreads();
    if (!s_last) return;
    if (threadIdx.x == 0) *f.counter = 0; /* the next fused kernel starts after this grid ends */
    for (int i = threadIdx.x; i < K; i += GV_THREADS) f.norm_out[i] = xs[i];
}

/* Warps per row for gemv_kernel, or 0 when it does not apply (K too long, not a
 * multiple of the vector width, or unaligned). */
template <typename TW>
static int gemv_split(const cuda_device *dev, const float *x, const void *w, int64_t N, int64_t K) {
    constexpr int V = 16 / sizeof(TW);
    if (K % V || N > 0x7fffffff || K > (int64_t)GV_WARPS * GV_LOADS * 32 * V ||
        ((uintptr_t)x & 15) || ((uintptr_t)w & 15))
        return 0;
    const int64_t kv = K / V;
    int S = 1;
    while (kv > (int64_t)S * GV_LOADS * 32) S *= 2;
    /* Few rows: split them further while every lane still has a load. */
    while (S < GV_WARPS && (N + GV_WARPS / S - 1) / (GV_WARPS / S) < dev->sm_count && kv > S * 32) S *= 2;
    return S;
}

template <typename TW, int S, int PRO, bool ADD>
static void gemv_go(cuda_device *dev, unsigned grid, const float *x, const void *w,
                    const float *bias, float *y, int64_t N, int64_t K, const gemv_fuse &f) {
    cuda_launch(dev, gemv_kernel<TW, S, PRO, ADD>, grid, GV_THREADS, (size_t)K * sizeof(float), x,
                (const TW *)w, bias, y, (int)N, (int)K, f);
}

template <typename TW, int PRO, bool ADD>
static void gemv_by_split(cuda_device *dev, int S, unsigned grid, const float *x, const void *w,
                          const float *bias, float *y, int64_t N, int64_t K, const gemv_fuse &f) {
    switch (S) {
    case 1: gemv_go<TW, 1, PRO, ADD>(dev, grid, x, w, bias, y, N, K, f); break;
    case 2: gemv_go<TW, 2, PRO, ADD>(dev, grid, x, w, bias, y, N, K, f); break;
    case 4: gemv_go<TW, 4, PRO, ADD>(dev, grid, x, w, bias, y, N, K, f); break;
    default: gemv_go<TW, 8, PRO, ADD>(dev, grid, x, w, bias, y, N, K, f); break;
    }
}

/* Launches y = w . x (+ bias) with the fusions f asks for (NULL pointers: none).
 * Returns GEMV_NA without launching when gemv_kernel does not apply. */
template <typename TW>
static int launch_gemv(cuda_device *dev, const float *x, const void *w, const float *bias, float *y,
                       int64_t N, int64_t K, const gemv_fuse &f) {
    /* x's alignment matters only where it is staged with 16-byte loads. */
    const int S = gemv_split<TW>(dev, f.pro == GV_PLAIN ? x : nullptr, w, N, K);
    if (!S) return GEMV_NA;
    const int64_t groups = (N + GV_WARPS / S - 1) / (GV_WARPS / S);
    const int64_t cap = (int64_t)dev->sm_count * GV_BLOCKS_PER_SM;
    const unsigned grid = (unsigned)(groups < cap ? groups : cap);
    const bool add = f.add_out != nullptr;
    switch (f.pro * 2 + add) {
    case GV_NORM * 2 + 1: gemv_by_split<TW, GV_NORM, true>(dev, S, grid, x, w, bias, y, N, K, f); break;
    case GV_NORM * 2: gemv_by_split<TW, GV_NORM, false>(dev, S, grid, x, w, bias, y, N, K, f); break;
    case 1: gemv_by_split<TW, GV_PLAIN, true>(dev, S, grid, x, w, bias, y, N, K, f); break;
    default: gemv_by_split<TW, GV_PLAIN, false>(dev, S, grid, x, w, bias, y, N, K, f); break;
    }
    return CUDA_LAUNCH_CHECK("matmul (gemv)");
}

static int launch_gemv_any(cuda_device *dev, uint32_t wt, const float *x, const void *w,
                           const float *bias, float *y, int64_t N, int64_t K, const gemv_fuse &f) {
    switch (wt) {
    case SSMRT_F32: return launch_gemv<float>(dev, x, w, bias, y, N, K, f);
    case SSMRT_F16: return launch_gemv<__half>(dev, x, w, bias, y, N, K, f);
    default: return launch_gemv<__nv_bfloat16>(dev, x, w, bias, y, N, K, f);
    }
}

/* ---- tensor-core path ------------------------------------------------------ */

template <typename T> __device__ __forceinline__ T round_to(float x);
template <> __device__ __forceinline__ __half round_to<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 round_to<__nv_bfloat16>(float x) {
    return __float2bfloat16_rn(x);
}

template <typename T, bool VEC>
__global__ void split_kernel(const float *__restrict__ x, T *__restrict__ hi, T *__restrict__ lo,
                             int64_t n) {
    cuda_pdl_enter();
    const int64_t i0 = blockIdx.x * (int64_t)blockDim.x + threadIdx.x, stride = (int64_t)gridDim.x * blockDim.x;
    int64_t done = 0;
    if (VEC) { /* 16-byte loads, 8-byte stores: the split is a pure bandwidth kernel */
        const int64_t n4 = n >> 2;
        for (int64_t i = i0; i < n4; i += stride) {
            const float4 v = ((const float4 *)x)[i];
            const float f[4] = {v.x, v.y, v.z, v.w};
            uint2 ph, pl;
            T *th = reinterpret_cast<T *>(&ph), *tl = reinterpret_cast<T *>(&pl);
#pragma unroll
            for (int k = 0; k < 4; k++) {
                th[k] = round_to<T>(f[k]);
                tl[k] = round_to<T>(f[k] - cuda_to_f32(th[k]));
            }
            ((uint2 *)hi)[i] = ph;
            ((uint2 *)lo)[i] = pl;
        }
        done = n4 << 2;
    }
    for (int64_t i = done + i0; i < n; i += stride) {
        float v = x[i];
        T h = round_to<T>(v);
        hi[i] = h;
        lo[i] = round_to<T>(v - cuda_to_f32(h));
    }
}

__global__ void add_bias_kernel(float *__restrict__ y, const float *__restrict__ b, int64_t n,
                                int64_t N) {
    cuda_pdl_enter();
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] += b[i % N];
}

template <typename T>
static int gemm_split(cuda_device *dev, const float *x, const void *w, float *y, int64_t M,
                      int64_t N, int64_t K, cudaDataType_t type) {
    /* Rows per pass so that hi and lo fit the scratch. */
    int64_t per_row = 2 * K * (int64_t)sizeof(T);
    int64_t chunk = (int64_t)(CUDA_GEMM_SCRATCH_BYTES / (uint64_t)per_row);
    if (chunk > 0x7fffffff) chunk = 0x7fffffff;
    if (chunk < 1)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: matmul: K=%lld too large for the GEMM scratch",
                          (long long)K);
    T *hi = (T *)dev->gemm_scratch;
    const float one = 1.0f, zero = 0.0f;
    for (int64_t m0 = 0; m0 < M; m0 += chunk) {
        int64_t mc = M - m0 < chunk ? M - m0 : chunk;
        T *lo = hi + mc * K;
        const float *xc = x + m0 * K;
        if (((uintptr_t)xc & 15) == 0 && ((uintptr_t)hi & 7) == 0 && ((uintptr_t)lo & 7) == 0)
            cuda_launch(dev, split_kernel<T, true>, cuda_grid_for(mc * K / 4 + 1, 256), 256, 0, xc, hi, lo, mc * K);
        else
            cuda_launch(dev, split_kernel<T, false>, cuda_grid_for(mc * K, 256), 256, 0, xc, hi, lo, mc * K);
        int rc = CUDA_LAUNCH_CHECK("matmul: split");
        if (rc) return rc;
        float *yc = y + m0 * N;
        rc = cuda_check_cublas(cublasGemmEx(dev->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)N, (int)mc,
                                            (int)K, &one, w, type, (int)K, hi, type, (int)K, &zero,
                                            yc, CUDA_R_32F, (int)N, CUBLAS_COMPUTE_32F,
                                            CUBLAS_GEMM_DEFAULT),
                               "matmul");
        if (!rc)
            rc = cuda_check_cublas(cublasGemmEx(dev->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)N, (int)mc,
                                                (int)K, &one, w, type, (int)K, lo, type, (int)K,
                                                &one, yc, CUDA_R_32F, (int)N, CUBLAS_COMPUTE_32F,
                                                CUBLAS_GEMM_DEFAULT),
                                   "matmul");
        if (rc) return rc;
    }
    return 0;
}

int cuda_op_matmul(cuda_device *dev, const ssmrt_op *op) {
    int64_t M, N, K;
    int rc = cuda_shape_matmul(op, &M, &N, &K);
    if (rc || M == 0 || N == 0) return rc;
    const float *x = (const float *)cuda_desc_ptr(&op->src[0]);
    const void *w = cuda_desc_ptr(&op->src[1]);
    const float *bias = cuda_opt_f32(op, 2);
    float *y = (float *)cuda_desc_ptr(&op->dst[0]);
    uint32_t wt = op->src[1].dtype;
    /* Tensor cores: f16 from sm_70, bf16 from sm_80; the row kernel otherwise. */
    bool tc_ok = wt == SSMRT_F32 || (wt == SSMRT_F16 && dev->cc_major >= 7) ||
                 (wt == SSMRT_BF16 && dev->cc_major >= 8);
    bool blas = M > MM_ROWS && tc_ok && N <= 0x7fffffff && K <= 0x7fffffff;
    if (M == 1) {
        const gemv_fuse none = {};
        rc = launch_gemv_any(dev, wt, x, w, bias, y, N, K, none);
        if (rc != GEMV_NA) return rc;
    }
    if (!blas) {
        switch (wt) {
        case SSMRT_F32: return launch_rows<float>(dev, x, w, bias, y, M, N, K);
        case SSMRT_F16: return launch_rows<__half>(dev, x, w, bias, y, M, N, K);
        default: return launch_rows<__nv_bfloat16>(dev, x, w, bias, y, M, N, K);
        }
    }
    if (wt == SSMRT_F32) {
        const float one = 1.0f, zero = 0.0f;
        for (int64_t m0 = 0; m0 < M && !rc; m0 += 0x40000000) {
            int64_t mc = M - m0 < 0x40000000 ? M - m0 : 0x40000000;
            rc = cuda_check_cublas(cublasSgemm(dev->cublas, CUBLAS_OP_T, CUBLAS_OP_N, (int)N, (int)mc,
                                               (int)K, &one, (const float *)w, (int)K, x + m0 * K,
                                               (int)K, &zero, y + m0 * N, (int)N),
                                   "matmul");
        }
    } else if (wt == SSMRT_F16) {
        rc = gemm_split<__half>(dev, x, w, y, M, N, K, CUDA_R_16F);
    } else {
        rc = gemm_split<__nv_bfloat16>(dev, x, w, y, M, N, K, CUDA_R_16BF);
    }
    if (rc || !bias) return rc;
    cuda_launch(dev, add_bias_kernel, cuda_grid_for(M * N, 256), 256, 0, y, bias, M * N, N);
    return CUDA_LAUNCH_CHECK("matmul: bias");
}

/* ---- fusion of decode op sequences (called by batch.cu) ------------------------ */

/* Bytes [lo, hi) a descriptor touches. */
typedef struct fuse_range {
    uintptr_t lo, hi;
} fuse_range;

static fuse_range fuse_span(const ssmrt_tensor_desc *d) {
    uint64_t bytes = 0;
    uint32_t k = 0;
    ssmrt_desc_span_bytes(d, cuda_dtype_size(d->dtype), &bytes, &k);
    const uintptr_t lo = (uintptr_t)cuda_desc_ptr(d);
    return fuse_range{lo, lo + (uintptr_t)bytes};
}
static bool fuse_apart(fuse_range a, fuse_range b) { return a.hi <= b.lo || b.hi <= a.lo; }
static bool fuse_same(fuse_range a, fuse_range b) { return a.lo == b.lo && a.hi == b.hi; }
static bool fuse_f32(const ssmrt_tensor_desc *d) { return d->dtype == SSMRT_F32; }

/* An ADD that consumes the matvec output y (one operand exactly y, the other
 * the same size, no broadcast): its other operand and destination, else false. */
static bool fuse_add_of(const ssmrt_op *add, fuse_range y, int64_t N, const float **other,
                        float **out) {
    if (!add || add->kind != SSMRT_OP_ADD || add->n_src != 2 || add->n_dst != 1) return false;
    const ssmrt_tensor_desc *a = &add->src[0], *b = &add->src[1], *d = &add->dst[0];
    if (!fuse_f32(a) || !fuse_f32(b) || !fuse_f32(d) || cuda_desc_numel(a) != N ||
        cuda_desc_numel(b) != N || cuda_desc_numel(d) != N)
        return false;
    const bool ay = fuse_same(fuse_span(a), y), by = fuse_same(fuse_span(b), y);
    if (ay == by) return false; /* neither, or y + y */
    const ssmrt_tensor_desc *o = ay ? b : a;
    *other = (const float *)cuda_desc_ptr(o);
    *out = (float *)cuda_desc_ptr(d);
    return true;
}

/* Whether r overlaps none of the n ranges in set (empty ranges overlap nothing). */
static bool fuse_apart_all(fuse_range r, const fuse_range *set, int n) {
    for (int i = 0; i < n; i++)
        if (!fuse_apart(r, set[i])) return false;
    return true;
}

int cuda_matmul_try_fuse(cuda_device *dev, const ssmrt_op *a, const ssmrt_op *b, const ssmrt_op *c,
                         int *used) {
    *used = 0;
    const ssmrt_op *pro = nullptr, *mm = a, *add = b;
    if (a->kind == SSMRT_OP_RMS_NORM) {
        pro = a;
        mm = b;
        add = c;
    }
    if (!mm || mm->kind != SSMRT_OP_MATMUL || !dev->fuse_counter) return 0;
    int64_t M, N, K;
    if (cuda_shape_matmul(mm, &M, &N, &K) || M != 1 || N == 0 || !fuse_f32(&mm->src[0])) return 0;
    const ssmrt_tensor_desc *xd = &mm->src[0], *wd = &mm->src[1], *yd = &mm->dst[0];
    const fuse_range x = fuse_span(xd), y = fuse_span(yd);
    /* Read by every block until it ends: weights and bias (and add_other, below). */
    fuse_range late[3] = {fuse_span(wd), cuda_has_src(mm, 2) ? fuse_span(&mm->src[2]) : fuse_range{0, 0},
                          {0, 0}};
    /* Read by every block in its prologue: x, or the norm's inputs. */
    fuse_range early[2] = {x, {0, 0}};
    /* Written by the last block after every prologue: the norm's output. */
    fuse_range last[1] = {{0, 0}};
    gemv_fuse f = {};
    if (pro) {
        int64_t rows, cols;
        if (pro->n_src != 2 || pro->n_dst != 1 || cuda_shape_rows(pro, &rows, &cols) || rows != 1 ||
            cols != K || !fuse_f32(&pro->src[0]) || !fuse_f32(&pro->src[1]) || !fuse_f32(&pro->dst[0]) ||
            !fuse_same(fuse_span(&pro->dst[0]), x))
            return 0;
        early[0] = fuse_span(&pro->src[0]);
        early[1] = fuse_span(&pro->src[1]);
        last[0] = x;
        /* The last block writes the output over the input (in place) or apart. */
        if (!fuse_same(x, early[0]) && !fuse_apart(x, early[0])) return 0;
        if (!fuse_apart(x, early[1])) return 0;
        f.pro = GV_NORM;
        f.norm_x = (const float *)cuda_desc_ptr(&pro->src[0]);
        f.norm_w = (const float *)cuda_desc_ptr(&pro->src[1]);
        f.norm_out = (float *)cuda_desc_ptr(&pro->dst[0]);
        f.eps = pro->params.norm.eps;
    }
    /* y is written while blocks still read their prologue inputs and weights. */
    if (!fuse_apart_all(y, early, 2) || !fuse_apart_all(y, late, 2) || !fuse_apart_all(y, last, 1))
        return 0;
    if (!fuse_apart_all(last[0], late, 2)) return 0;
    const float *other = nullptr;
    float *out = nullptr;
    if (fuse_add_of(add, y, N, &other, &out)) {
        const fuse_range o = fuse_span(&add->src[fuse_same(fuse_span(&add->src[0]), y) ? 1 : 0]);
        const fuse_range d = fuse_span(&add->dst[0]);
        late[2] = o;
        /* out[n] is written by the lane that has just read other[n] and written
         * y[n]: it may be either of them exactly, else apart from everything. */
        const bool ok = fuse_apart(o, y) && fuse_apart_all(o, last, 1) && fuse_apart_all(d, early, 2) &&
                        fuse_apart_all(d, late, 2) && fuse_apart_all(d, last, 1) &&
                        (fuse_same(d, o) || fuse_apart(d, o)) && (fuse_same(d, y) || fuse_apart(d, y));
        if (ok) {
            f.add_other = other;
            f.add_out = out;
        }
    }
    if (!pro && !f.add_out) return 0; /* nothing to fuse */
    f.counter = dev->fuse_counter;
    const int rc = launch_gemv_any(dev, wd->dtype, (const float *)cuda_desc_ptr(xd), cuda_desc_ptr(wd),
                                   cuda_opt_f32(mm, 2), (float *)cuda_desc_ptr(yd), N, K, f);
    if (rc == GEMV_NA) return 0;
    *used = (pro ? 2 : 1) + (f.add_out ? 1 : 0);
    return rc;
}
