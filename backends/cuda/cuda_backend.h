/*
 * cuda_backend.h: what the files of the CUDA plugin (libssmrt-cuda.so) share.
 *
 * Execution model. Every device owns one CUDA stream; kernels and device copies
 * are enqueued on it in order and synchronize waits for it. Nothing in an
 * enqueue path allocates memory or synchronises: scratch space (cuBLAS workspace,
 * split-KV partials, converted GEMM operands) is allocated once at device_open.
 * That keeps every op capturable into a CUDA graph (see batch.cu).
 *
 * Host code is C-style C++ compiled by nvcc; only ssmrt_backend_entry is exported.
 */
#ifndef SSMRT_CUDA_BACKEND_H
#define SSMRT_CUDA_BACKEND_H

#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "ssmrt_backend.h"
#include "ssmrt_backend_contract.h"

enum { CUDA_TIMER_SLOTS = 64 };

/* Scratch sizes fixed at device_open (bytes). The GEMM scratch holds the f16/bf16
 * split of activations for tensor-core matmuls (processed in row blocks that fit);
 * the attention scratch holds split-KV partial results. */
#define CUDA_CUBLAS_WORKSPACE_BYTES (32ull << 20)
#define CUDA_GEMM_SCRATCH_BYTES (64ull << 20)
#define CUDA_ATTN_SCRATCH_BYTES (32ull << 20)
/* Pinned staging for downloads: a decode step's logits (50K floats) fit. */
#define CUDA_STAGING_BYTES (1ull << 20)

/* A buffer handle: the host sees it as an opaque pointer in tensor descriptors. */
typedef struct cuda_buffer {
    char *ptr;      /* device memory (NULL for a 0-byte buffer) */
    uint64_t size;  /* bytes the caller asked for */
} cuda_buffer;

struct cuda_batch; /* batch.cu */

typedef struct cuda_device {
    int ordinal;               /* CUDA device index */
    int cc_major, cc_minor;    /* compute capability */
    int sm_count;
    size_t smem_optin;         /* max dynamic shared memory per block */
    cudaStream_t stream;
    cublasHandle_t cublas;
    void *cublas_workspace;
    void *gemm_scratch;
    void *attn_scratch;
    unsigned *fuse_counter;    /* device word for fused decode matvecs (k_matmul.cu), 0 between uses */
    void *staging;             /* pinned host memory for downloads (buffers.cu), or NULL */
    cudaEvent_t timers[CUDA_TIMER_SLOTS];
    uint8_t timer_set[CUDA_TIMER_SLOTS];
    struct cuda_batch *batch;  /* graph capture state, NULL when not batching */
} cuda_device;

typedef int (*cuda_kernel_fn)(cuda_device *dev, const ssmrt_op *op);

/* ---- host services (plugin.cu) ------------------------------------------- */

/* Reports an error through the host and returns status, so a kernel can write
 * `return cuda_error(SSMRT_ERR_SHAPE, "...")`. */
int cuda_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Maps a CUDA runtime error to SSMRT_ERR_BACKEND (or OUT_OF_MEMORY) with a message
 * "cuda: <what>: <cuda error name>: <string>". */
int cuda_check(cudaError_t err, const char *what);
int cuda_check_cublas(cublasStatus_t st, const char *what);
void *cuda_host_alloc(size_t bytes);
void cuda_host_free(void *p);
void cuda_log(ssmrt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- buffers (buffers.cu) -------------------------------------------------- */

int cuda_buffer_alloc(void *device, uint64_t bytes, void **out_buffer);
void cuda_buffer_free(void *device, void *buffer);
int cuda_buffer_upload(void *device, void *buffer, uint64_t offset, const void *src,
                       uint64_t bytes);
int cuda_buffer_download(void *device, void *buffer, uint64_t offset, void *dst,
                         uint64_t bytes);
int cuda_buffer_copy(void *device, void *src, uint64_t src_offset, void *dst,
                     uint64_t dst_offset, uint64_t bytes);
int cuda_buffer_fill_zero(void *device, void *buffer, uint64_t offset, uint64_t bytes);

/* ---- dispatch (dispatch.cu) -------------------------------------------------- */

/* The kernel for this op, or NULL: the single source of supports() and enqueue(). */
cuda_kernel_fn cuda_dispatch_lookup(const ssmrt_op *op);
/* Every present descriptor has a buffer and lies inside it. */
int cuda_dispatch_check_bounds(const ssmrt_op *op);
int cuda_supports(void *device, const ssmrt_op *op);
int cuda_enqueue(void *device, const ssmrt_op *op);
/* Runs the kernel of a validated op on the stream (no batching logic). */
int cuda_dispatch_launch(cuda_device *dev, const ssmrt_op *op);

/* ---- batches, sync, timers (batch.cu) ---------------------------------------- */

int cuda_begin_batch(void *device);
int cuda_end_batch(void *device);
/* Called by every entry point that must see the stream in program order
 * (transfers, synchronize, timers): launches ops a batch has held back. */
int cuda_batch_flush(cuda_device *dev);
/* The fast path of enqueue inside a batch, before any validation: returns 1 if
 * op equals the next op of the remembered batch and is now held back. */
int cuda_batch_replay_next(cuda_device *dev, const ssmrt_op *op);
/* Records a validated op enqueued inside a batch; returns 1 if it was held back
 * or failed (*status), 0 if the caller must launch it now. */
int cuda_batch_record(cuda_device *dev, const ssmrt_op *op, int *status);
void cuda_batch_destroy(cuda_device *dev);
int cuda_synchronize(void *device);
int cuda_timer_mark(void *device, uint32_t slot);
int cuda_timer_read(void *device, uint32_t slot_begin, uint32_t slot_end, double *out_ns);

/* ---- descriptors ---------------------------------------------------------------- */

static inline int cuda_desc_present(const ssmrt_tensor_desc *d) { return ssmrt_desc_present(d); }
static inline void *cuda_desc_ptr(const ssmrt_tensor_desc *d) {
    return ((const cuda_buffer *)d->buffer)->ptr + d->offset;
}
/* Pointer of an optional input, NULL when absent. */
static inline const float *cuda_opt_f32(const ssmrt_op *op, uint32_t i) {
    return (op->n_src > i && cuda_desc_present(&op->src[i])) ? (const float *)cuda_desc_ptr(&op->src[i])
                                                            : (const float *)0;
}
int64_t cuda_desc_numel(const ssmrt_tensor_desc *d);
int64_t cuda_desc_last_dim(const ssmrt_tensor_desc *d);
uint32_t cuda_dtype_size(uint32_t dtype);
const char *cuda_op_name(uint32_t kind);

/* ---- per-op dimensions (shapes.cu) -------------------------------------------- */

/* The host checks shapes before enqueueing; these are the plugin's own guard so
 * a host bug is an SSMRT_ERR_SHAPE naming the op, never an out-of-bounds access.
 * Kernels index by row-major logical layout, so only element counts and the
 * named dims must agree (u may arrive as [B, L, D] for Mamba-1). */
typedef struct cuda_scan_dims {
    int64_t B, L, H, P, G, N;
    int a_per_head; /* A is [H] (Mamba-2) rather than [H, N] */
} cuda_scan_dims;
typedef struct cuda_conv_dims {
    int64_t B, L, D, W;
} cuda_conv_dims;
typedef struct cuda_attn_dims {
    int64_t B, Lq, Lk, Hq, Hk, Dh, Dv;
} cuda_attn_dims;

int cuda_shape_binary(const ssmrt_op *op, int64_t dshape[4], int64_t bshape[4]);
int cuda_shape_unary(const ssmrt_op *op, int64_t *n);
int cuda_shape_rows(const ssmrt_op *op, int64_t *rows, int64_t *cols); /* softmax, norms */
int cuda_shape_norm_group(const ssmrt_op *op, int64_t cols, int64_t *group);
int cuda_shape_matmul(const ssmrt_op *op, int64_t *M, int64_t *N, int64_t *K);
int cuda_shape_embedding(const ssmrt_op *op, int64_t *M, int64_t *V, int64_t *D);
int cuda_shape_topk(const ssmrt_op *op, int64_t *T, int64_t *E, int64_t *k);
int cuda_shape_scan(const ssmrt_op *op, cuda_scan_dims *d);
int cuda_shape_conv(const ssmrt_op *op, cuda_conv_dims *d);
int cuda_shape_conv_long(const ssmrt_op *op, int64_t *B, int64_t *L, int64_t *D, int64_t *Lk);
int cuda_shape_attention(const ssmrt_op *op, cuda_attn_dims *d);
/* Whether optional slot i of an op is present. */
static inline int cuda_has_src(const ssmrt_op *op, uint32_t i) {
    return op->n_src > i && cuda_desc_present(&op->src[i]);
}
static inline int cuda_has_dst(const ssmrt_op *op, uint32_t i) {
    return op->n_dst > i && cuda_desc_present(&op->dst[i]);
}

/* ---- kernels, one file per op family ---------------------------------------------- */

int cuda_op_copy(cuda_device *dev, const ssmrt_op *op);          /* k_elementwise.cu */
int cuda_op_binary(cuda_device *dev, const ssmrt_op *op);        /* ADD, MUL */
int cuda_op_unary(cuda_device *dev, const ssmrt_op *op);         /* SCALE..EXP */
int cuda_op_softmax(cuda_device *dev, const ssmrt_op *op);       /* k_norm.cu */
int cuda_op_rms_norm(cuda_device *dev, const ssmrt_op *op);
int cuda_op_rms_norm_gated(cuda_device *dev, const ssmrt_op *op);
int cuda_op_layer_norm(cuda_device *dev, const ssmrt_op *op);
int cuda_op_topk_route(cuda_device *dev, const ssmrt_op *op);
int cuda_op_matmul(cuda_device *dev, const ssmrt_op *op);        /* k_matmul.cu */
/* Fusion for replayed batches: if a (and b, c after it; NULL past the end) start
 * [RMS_NORM,] MATMUL with one row [, ADD of its output], launches them as one
 * matvec and sets *used to the number of ops it covered; else *used = 0 and
 * nothing is launched. Ops are validated already; results are bit-identical to
 * launching them one by one. */
int cuda_matmul_try_fuse(cuda_device *dev, const ssmrt_op *a, const ssmrt_op *b, const ssmrt_op *c,
                         int *used);
int cuda_op_embedding(cuda_device *dev, const ssmrt_op *op);     /* k_gather.cu */
int cuda_op_selective_scan(cuda_device *dev, const ssmrt_op *op); /* k_scan.cu */
int cuda_op_conv1d_causal(cuda_device *dev, const ssmrt_op *op); /* k_conv.cu */
int cuda_op_conv_long(cuda_device *dev, const ssmrt_op *op);
int cuda_op_attention(cuda_device *dev, const ssmrt_op *op);     /* k_attention.cu */
/* One-time kernel attributes (opt-in shared memory) at device_open. */
int cuda_attention_setup(cuda_device *dev);
int cuda_scan_setup(cuda_device *dev); /* k_scan_m1.cu */

/* Internal scan launchers with an explicit kernel (-1: chosen by L and N, as
 * the op entry does), for the self-test and the benchmark driver. */
enum { SCAN_KERNEL_SHORT = 0, SCAN_KERNEL_CHUNKED = 1, SCAN_KERNEL_RUNS = 2, SCAN_KERNEL_M1 = 3 };
int cuda_scan_run_f32(cuda_device *dev, const ssmrt_op *op, int kernel);
int cuda_scan_run_bf16(cuda_device *dev, const ssmrt_op *op, int kernel);

/* Launch-error check after a kernel launch: "cuda: <op>: launch: ..." */
#define CUDA_LAUNCH_CHECK(what) cuda_check(cudaGetLastError(), what)

#endif /* SSMRT_CUDA_BACKEND_H */
