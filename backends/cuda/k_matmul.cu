/*
 * k_matmul.cu: MATMUL y[M, N] = x[M, K] . w[N, K]^T (+ bias[N]); x f32, w f32,
 * f16 or bf16.
 *
 * Small M (decode: M <= 8): a bandwidth-bound kernel in which each warp owns one
 * output column, streams its weight row once in the stored dtype (16-byte loads)
 * and accumulates in f32 for up to 8 rows of x at a time. Exact up to f32
 * rounding, whatever the weight dtype.
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
