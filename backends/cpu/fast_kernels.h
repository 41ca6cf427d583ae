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

/* "C11 + OpenMP 4.5 + OpenBLAS 0.3.21" for the device props. */
void cpu_fast_api_version(char *out, size_t cap);
/* f32 lanes of the widest SIMD path the kernels take on this CPU. */
uint32_t cpu_fast_simd_lanes(void);

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

/* Returns 0 if every listed descriptor is contiguous, else reports which is not. */
int cpu_fast_require_contiguous(const ssmrt_op *op);

#endif
