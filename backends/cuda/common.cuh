/*
 * common.cuh: device-side helpers shared by the kernel files: element loads and
 * stores per dtype, warp and block reductions, launch geometry.
 */
#ifndef SSMRT_CUDA_COMMON_CUH
#define SSMRT_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#include "cuda_backend.h"

#define CUDA_LOG2E 1.4426950408889634f

/* Grid size for a grid-stride loop over n elements: enough blocks to fill the
 * GPU a few times over, never more than the hardware allows. */
static inline unsigned cuda_grid_for(int64_t n, int threads) {
    int64_t blocks = (n + threads - 1) / threads;
    if (blocks > 65535 * 8) blocks = 65535 * 8;
    return (unsigned)(blocks < 1 ? 1 : blocks);
}

/* ---- programmatic dependent launch ------------------------------------------ */

/* On sm_90 every kernel is launched with programmatic stream serialization
 * (cuda_launch), so the next kernel's blocks may start before this one ends.
 * Each kernel therefore opens with cuda_pdl_enter(): it lets its own dependents
 * launch at once and then waits until every kernel before it has completed and
 * its writes are visible. A kernel reads or writes device memory only after the
 * wait, except loads of read-only weights (cuda_pdl_trigger, loads, then
 * cuda_pdl_wait), which is what hides their DRAM latency behind the previous
 * kernel in a decode step of a few hundred small kernels. No-ops before sm_90. */
__device__ __forceinline__ void cuda_pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
__device__ __forceinline__ void cuda_pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void cuda_pdl_enter() {
    cuda_pdl_trigger();
    cuda_pdl_wait();
}

/* Launches kernel on the device's stream, with programmatic stream
 * serialization on devices that have it (see cuda_pdl_enter). */
template <typename... Params, typename... Args>
static inline void cuda_launch(const cuda_device *dev, void (*kernel)(Params...), dim3 grid, dim3 block,
                               size_t smem, Args... args) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = dev->stream;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = dev->cc_major >= 9 ? 1 : 0;
    cudaLaunchKernelEx(&cfg, kernel, ((Params)args)...);
}

/* ---- element conversion ------------------------------------------------ */

__device__ __forceinline__ float cuda_to_f32(float x) { return x; }
__device__ __forceinline__ float cuda_to_f32(__half x) { return __half2float(x); }
__device__ __forceinline__ float cuda_to_f32(__nv_bfloat16 x) { return __bfloat162float(x); }

/* ---- reductions --------------------------------------------------------- */

__device__ __forceinline__ float cuda_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float cuda_warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread
 * gets the result. scratch: 32 floats of shared memory. */
__device__ __forceinline__ float cuda_block_sum(float v, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = cuda_warp_sum(v);
    __syncthreads(); /* scratch may still be read by a previous reduction */
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0.0f;
    return cuda_warp_sum(v);
}

__device__ __forceinline__ float cuda_block_max(float v, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = cuda_warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : -INFINITY;
    return cuda_warp_max(v);
}

/* 1 / rms(x) over n floats for RMS_NORM, with CUDA_RMS_THREADS threads. The
 * standalone norm kernel and the matvec that fuses a norm (k_matmul.cu) both call
 * this with that block size, so the sum runs in the same order and the fused
 * norm gives the same bits as the unfused one. scratch: 32 floats of shared
 * memory. */
enum { CUDA_RMS_THREADS = 256 };
__device__ __forceinline__ float cuda_rms_inv(const float *__restrict__ x, int64_t n, float eps,
                                              float *scratch) {
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < n; i += CUDA_RMS_THREADS) {
        float v = x[i];
        s = fmaf(v, v, s);
    }
    s = cuda_block_sum(s, scratch);
    return 1.0f / sqrtf(s / (float)n + eps);
}

/* ---- math ------------------------------------------------------------------ */

/* 2^x on the special-function unit (MUFU.EX2): relative error ~2^-22. */
__device__ __forceinline__ float cuda_ex2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
}


/* log(1 + exp(x)) in about 20 instructions instead of ~50 (expf + log1pf); the
 * scan computes one per (step, channel) in its hot loop, and the elementwise op
 * uses the same so that both give the same dt:
 * softplus(x) = max(x, 0) + log1p(e), e = exp(-|x|) in (0, 1], and
 * log1p(e) = 2 atanh(s) with s = e / (2 + e) <= 1/3, an odd series whose terms
 * beyond s^15 / 15 are below 2^-26 of the sum. The exponent -|x| log2(e) is split
 * into a rounded product and its FMA remainder (times ln 2, a first-order
 * correction of e), since its rounding alone would cost 2^-24 |x log2 e| of
 * relative error. log2 is avoided: MUFU.LG2 is only absolutely accurate near 1,
 * where log1p of a small e is itself small. Max relative error ~6 ulp; above
 * x = 20 the correction is below half an ulp of x, so the result is x, as with
 * PyTorch's threshold. */
__device__ __forceinline__ float cuda_softplus(float x) {
    const float a = -fabsf(x), t = a * CUDA_LOG2E;
    /* log2e - (float)log2e; no correction where e underflows anyway (x = inf
     * would make the remainder inf - inf). */
    const float tl = a > -104.0f ? fmaf(a, 1.92596299e-8f, fmaf(a, CUDA_LOG2E, -t)) : 0.0f;
    float e;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(e) : "f"(t));
    e = fmaf(e, tl * 0.693147181f, e);
    /* 2 + e is in [2, 3]: a plain reciprocal, without __fdividef's guards for
     * denominators near the limits of the range. */
    float rd;
    asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(rd) : "f"(2.0f + e));
    const float s = e * rd, w = s * s;
    float p = fmaf(w, 1.0f / 15, 1.0f / 13);
    p = fmaf(p, w, 1.0f / 11);
    p = fmaf(p, w, 1.0f / 9);
    p = fmaf(p, w, 1.0f / 7);
    p = fmaf(p, w, 1.0f / 5);
    p = fmaf(p, w, 1.0f / 3);
    p = fmaf(p, w, 1.0f);
    return fmaxf(x, 0.0f) + (s + s) * p;
}

__device__ __forceinline__ float cuda_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ __forceinline__ float cuda_silu(float x) { return x / (1.0f + expf(-x)); }

#endif /* SSMRT_CUDA_COMMON_CUH */
