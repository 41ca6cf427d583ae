/*
 * scan.cuh: what the selective-scan kernel files share: the kernel arguments,
 * element loads and stores per activation type, and the launchers of each file.
 */
#ifndef SSMRT_CUDA_SCAN_CUH
#define SSMRT_CUDA_SCAN_CUH

#include "common.cuh"

/* Channel c = (h, p) of HP = H*P; u, z, y [B, L, H, P]; delta [B, L, H];
 * B, C [B, L, G, N]; A [H, N] (Mamba-1) or [H] (Mamba-2); state [B, H, P, N]. */
template <typename T> struct scan_args {
    const T *u, *delta, *Bm, *Cm, *z;
    const float *A, *D, *bias, *state;
    T *y;
    float *state_out;
    int64_t B, L, H, P, G, N;
    int softplus;
};

__device__ __forceinline__ float ld(const float *p) { return *p; }
__device__ __forceinline__ float ld(const __nv_bfloat16 *p) { return __bfloat162float(*p); }
__device__ __forceinline__ void st(float *p, float v) { *p = v; }
__device__ __forceinline__ void st(__nv_bfloat16 *p, float v) { *p = __float2bfloat16_rn(v); }

/* k_scan_m1.cu: the Mamba-1 prefill kernel for N <= 16, where the device has
 * the shared memory it needs per block (scan_m1_smem_bytes; 0 for other N).
 * Launch only where scan_m1_fits. */
size_t scan_m1_smem_bytes(int64_t N);
int scan_m1_fits(const cuda_device *dev, int64_t N);
template <typename T> void scan_m1_launch(cuda_device *dev, const scan_args<T> &a);

#endif /* SSMRT_CUDA_SCAN_CUH */
