/*
 * fast_kernels.h: the f32 kernels of device 0 (threads, SIMD, BLAS).
 *
 * Inputs are contiguous except COPY and ATTENTION's q, k, v (as the ABI says);
 * each kernel checks what it relies on and reports an error otherwise.
 */
#ifndef SSMRT_CPU_FAST_KERNELS_H
#define SSMRT_CPU_FAST_KERNELS_H

#include <stddef.h>

#include "cpu_internal.h"
#include "fast_variant.h"

/* "C11 + OpenMP 4.5 + OpenBLAS 0.3.21" for the device props. */
void cpu_fast_api_version(char *out, size_t cap);
/* f32 lanes of the widest SIMD path the kernels take on this CPU. */
uint32_t cpu_fast_simd_lanes(void);
/* Once per process, before any kernel: keeps the BLAS single-threaded, since
 * the plugin's own threads split every GEMM (fast_matmul.c). */
void cpu_fast_init(void);
/* 1 if the CPU runs the x86-64-v3 / -v4 copy of the kernels (fast_dispatch.c). */
int cpu_fast_has_v3(void);
int cpu_fast_has_v4(void);

int cpu_fast_copy(const ssmrt_op *op);
int cpu_fast_binary(const ssmrt_op *op);
int cpu_fast_unary(const ssmrt_op *op);
int cpu_fast_softmax(const ssmrt_op *op);
int cpu_fast_rms_norm(const ssmrt_op *op);
int cpu_fast_rms_norm_gated(const ssmrt_op *op);
int cpu_fast_layer_norm(const ssmrt_op *op);
int cpu_fast_matmul(const ssmrt_op *op);
int cpu_fast_embedding(const ssmrt_op *op);
int cpu_fast_topk_route(const ssmrt_op *op);
int cpu_fast_selective_scan(const ssmrt_op *op);
int cpu_fast_conv1d_causal(const ssmrt_op *op);
int cpu_fast_conv_long(const ssmrt_op *op);
int cpu_fast_attention(const ssmrt_op *op);

/* y[m, n] = sum_k x[m, k] * w[n, k] with the plugin's own blocked kernel
 * (fast_gemm.c), single-threaded; used for matmul when the build has no CBLAS. */
void cpu_gemm_own(int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const float *w,
                  int64_t ldw, float *y, int64_t ldy);

/* conv_long switches from the direct O(L^2) sum to FFTs at this length. */
#define CPU_CONV_LONG_FFT_MIN 1024
/* conv_long through FFTs (fast_fft.c); x, y [B, L, D], kernel [D, Lk]. */
int cpu_fast_conv_long_fft(const float *x, const float *k, float *y, int64_t B, int64_t L,
                           int64_t D, int64_t Lk);

/* Returns 0 if every listed descriptor is contiguous, else reports which is not. */
int cpu_fast_require_contiguous(const ssmrt_op *op);

#endif
