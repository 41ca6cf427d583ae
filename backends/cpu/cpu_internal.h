/*
 * cpu_internal.h: what the files of the CPU plugin share.
 *
 * The plugin has two devices: CPU_DEVICE_FAST (index 0, f32 kernels, threads, SIMD,
 * BLAS) and CPU_DEVICE_REFERENCE (index 1, "cpu-reference": a literal float64
 * implementation of every op, the conformance oracle). Both share the buffer code,
 * the dispatch table (dispatch.c) and the shape derivation (shapes.c), so the two
 * cannot disagree on what an op's descriptors mean.
 */
#ifndef SSMRT_CPU_INTERNAL_H
#define SSMRT_CPU_INTERNAL_H

#include <stdint.h>

#include "ssmrt_backend.h"
#include "ssmrt_backend_contract.h"

enum { CPU_DEVICE_FAST = 0, CPU_DEVICE_REFERENCE = 1, CPU_DEVICE_COUNT = 2 };
enum { CPU_TIMER_SLOTS = 64 };

/* A buffer handle: the host sees it as an opaque pointer in tensor descriptors. */
typedef struct cpu_buffer {
    void *data;     /* 64-byte aligned host memory */
    uint64_t size;  /* bytes the caller asked for */
} cpu_buffer;

typedef struct cpu_device {
    uint32_t index;
    double timer_ns[CPU_TIMER_SLOTS];
    uint8_t timer_set[CPU_TIMER_SLOTS];
} cpu_device;

/* ---- host services (plugin.c) ----------------------------------------- */

/* Reports an error through the host and returns status, so a kernel can write
 * `return cpu_error(SSMRT_ERR_SHAPE, "...")`. */
int cpu_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Scratch memory for kernels; NULL on failure (caller reports OUT_OF_MEMORY). */
void *cpu_scratch_alloc(uint64_t bytes);
void cpu_scratch_free(void *p);

/* ---- dtypes (dtype.c) ---------------------------------------------------- */

uint32_t cpu_dtype_size(uint32_t dtype);
double cpu_f16_to_double(uint16_t h);
double cpu_bf16_to_double(uint16_t h);
/* Round-to-nearest-even straight from double (no double rounding through f32). */
uint16_t cpu_double_to_f16(double x);
uint16_t cpu_double_to_bf16(double x);
/* Float (f32) paths used by the fast kernels; exact for every f32 input. */
float cpu_f16_to_f32(uint16_t h);
float cpu_bf16_to_f32(uint16_t h);
uint16_t cpu_f32_to_f16(float f);
uint16_t cpu_f32_to_bf16(float f);
/* float -> i32 the way a C cast does, with saturation and NaN -> 0 (a C cast
 * of an out-of-range value is undefined). */
int32_t cpu_double_to_i32(double x);

/* ---- descriptors ---------------------------------------------------------- */

/* An absent optional input has ndim 0 (and buffer NULL); supports() sees every
 * buffer NULL, so presence is told by ndim alone. */
static inline int cpu_desc_present(const ssmrt_tensor_desc *d) { return ssmrt_desc_present(d); }
static inline void *cpu_desc_ptr(const ssmrt_tensor_desc *d) {
    return (char *)((const cpu_buffer *)d->buffer)->data + d->offset;
}
int64_t cpu_desc_numel(const ssmrt_tensor_desc *d);
int cpu_desc_contiguous(const ssmrt_tensor_desc *d);
/* Pads shape/stride to 4-d, right-aligned (leading dims of 1). */
void cpu_desc_shape4(const ssmrt_tensor_desc *d, int64_t shape[4], int64_t stride[4]);

/* ---- per-op dimensions (shapes.c) ----------------------------------------- */

typedef struct cpu_scan_dims {
    int64_t B, L, H, P, G, N;
    int a_per_head;   /* A is [H] (Mamba-2) rather than [H, N] */
    int has_d, has_z, has_bias, has_state, has_state_out;
} cpu_scan_dims;
typedef struct cpu_conv_dims {
    int64_t B, L, D, W;
    int has_bias, has_state, has_state_out;
} cpu_conv_dims;
typedef struct cpu_attn_dims {
    int64_t B, Lq, Lk, Hq, Hk, Dh, Dv;
} cpu_attn_dims;

int cpu_shape_binary(const ssmrt_op *op, int64_t dshape[4], int64_t bshape[4]);
int cpu_shape_unary(const ssmrt_op *op, int64_t *n);
int cpu_shape_rows(const ssmrt_op *op, int64_t *rows, int64_t *cols); /* softmax, norms */
int cpu_shape_norm_group(const ssmrt_op *op, int64_t cols, int64_t *group);
int cpu_shape_matmul(const ssmrt_op *op, int64_t *M, int64_t *N, int64_t *K);
int cpu_shape_embedding(const ssmrt_op *op, int64_t *M, int64_t *V, int64_t *D);
int cpu_shape_topk(const ssmrt_op *op, int64_t *T, int64_t *E, int64_t *k);
int cpu_shape_scan(const ssmrt_op *op, cpu_scan_dims *d);
int cpu_shape_conv(const ssmrt_op *op, cpu_conv_dims *d);
int cpu_shape_conv_long(const ssmrt_op *op, int64_t *B, int64_t *L, int64_t *D, int64_t *Lk);
int cpu_shape_attention(const ssmrt_op *op, cpu_attn_dims *d);

/* ---- dispatch (dispatch.c) ----------------------------------------------- */

typedef int (*cpu_kernel_fn)(const ssmrt_op *op);

/* The kernel for this op on this device, or NULL: the single source of both
 * supports() and enqueue(). */
cpu_kernel_fn cpu_dispatch_lookup(uint32_t device_index, const ssmrt_op *op);
/* Checks that every present descriptor has a buffer and lies inside it, so a
 * wrong offset or stride from the host is an error, never an out-of-bounds
 * access. */
int cpu_dispatch_check_bounds(const ssmrt_op *op);

/* ---- reference kernels (ref_*.c), float64 ---------------------------------- */

int cpu_ref_copy(const ssmrt_op *op);
int cpu_ref_binary(const ssmrt_op *op);   /* ADD, MUL */
int cpu_ref_unary(const ssmrt_op *op);    /* SCALE, SILU, SIGMOID, SOFTPLUS, GELU, EXP */
int cpu_ref_softmax(const ssmrt_op *op);
int cpu_ref_rms_norm(const ssmrt_op *op);
int cpu_ref_rms_norm_gated(const ssmrt_op *op);
int cpu_ref_layer_norm(const ssmrt_op *op);
int cpu_ref_matmul(const ssmrt_op *op);
int cpu_ref_embedding(const ssmrt_op *op);
int cpu_ref_topk_route(const ssmrt_op *op);
int cpu_ref_selective_scan(const ssmrt_op *op);
int cpu_ref_conv1d_causal(const ssmrt_op *op);
int cpu_ref_conv_long(const ssmrt_op *op);
int cpu_ref_attention(const ssmrt_op *op);

#endif /* SSMRT_CPU_INTERNAL_H */
