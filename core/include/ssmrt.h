/*
 * ssmrt.h: the public C API of ssmrt, a portable runtime for state-space sequence
 * models (Mamba-1, Mamba-2, S4/S4D) and hybrids with attention (Jamba).
 *
 * This header is the documentation. Conventions:
 *
 *  - Every function that can fail returns an ssmrt_status; SSMRT_OK (0) is success.
 *    On failure a message naming the problem is stored per thread and can be read
 *    with ssmrt_last_error() until the next failing call on the same thread.
 *  - Every _create has a _destroy. Objects returned through an out-parameter are
 *    owned by the caller. Destroy functions accept NULL.
 *  - Thread safety: distinct contexts may be used from distinct threads at the same
 *    time. One context and everything created from it (tensors, graphs, models,
 *    sessions) must be used by one thread at a time. Plugin discovery
 *    (ssmrt_plugins_*) is internally synchronised and may be called from any thread.
 *  - Shapes are listed outermost first; the last dimension is contiguous.
 *    Row-major "[B, L, D]" means element (b, l, d) sits at ((b*L)+l)*D+d.
 */
#ifndef SSMRT_H
#define SSMRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SSMRT_API __attribute__((visibility("default")))
#else
#define SSMRT_API
#endif

#define SSMRT_VERSION_MAJOR 0
#define SSMRT_VERSION_MINOR 1
#define SSMRT_VERSION_PATCH 0

/* ===================================================================== */
/* Status and errors                                                      */
/* ===================================================================== */

typedef enum ssmrt_status {
    SSMRT_OK = 0,
    SSMRT_ERR_INVALID_ARGUMENT = 1, /* a caller-supplied value is wrong */
    SSMRT_ERR_SHAPE = 2,            /* tensor shapes do not fit the operation */
    SSMRT_ERR_UNSUPPORTED = 3,      /* the backend does not implement this op/dtype */
    SSMRT_ERR_OUT_OF_MEMORY = 4,    /* host or device allocation failed */
    SSMRT_ERR_BACKEND = 5,          /* the backend or its driver reported an error */
    SSMRT_ERR_NOT_FOUND = 6,        /* a plugin, device, file or tensor does not exist */
    SSMRT_ERR_IO = 7,               /* reading or writing a file failed */
    SSMRT_ERR_FORMAT = 8,           /* a file is malformed */
    SSMRT_ERR_ABI = 9,              /* a plugin speaks another ABI version */
    SSMRT_ERR_INTERNAL = 10         /* a bug in ssmrt; please report it */
} ssmrt_status;

/* The message of the last failure on this thread ("" if none). Valid until the next
 * ssmrt call on this thread that fails. Never NULL. */
SSMRT_API const char *ssmrt_last_error(void);

/* A short constant name for a status ("SSMRT_ERR_SHAPE"). */
SSMRT_API const char *ssmrt_status_name(ssmrt_status status);

/* ===================================================================== */
/* Data types                                                             */
/* ===================================================================== */

typedef enum ssmrt_dtype {
    SSMRT_F32 = 0,
    SSMRT_F16 = 1,
    SSMRT_BF16 = 2,
    SSMRT_I32 = 3,
    SSMRT_DTYPE_COUNT = 4
} ssmrt_dtype;

SSMRT_API size_t ssmrt_dtype_size(ssmrt_dtype dtype);
SSMRT_API const char *ssmrt_dtype_name(ssmrt_dtype dtype); /* "f32", "f16", ... */

/* Round-to-nearest-even conversions, exported because loaders and tests need them. */
SSMRT_API uint16_t ssmrt_f32_to_f16(float f);
SSMRT_API float ssmrt_f16_to_f32(uint16_t h);
SSMRT_API uint16_t ssmrt_f32_to_bf16(float f);
SSMRT_API float ssmrt_bf16_to_f32(uint16_t h);

#define SSMRT_MAX_DIMS 4

/* ===================================================================== */
/* Plugins and devices                                                    */
/* ===================================================================== */

/* One plugin file found on the search path, loaded or not. */
typedef struct ssmrt_plugin_info {
    const char *name;        /* "cpu", "cuda", ... (from the file name) */
    const char *path;        /* full path of libssmrt-<name>.so */
    int loaded;              /* 1 if it initialised and is usable */
    const char *reason;      /* why it is not usable, or "" */
    uint32_t abi_version;    /* negotiated ABI version, 0 if none */
    uint32_t device_count;
} ssmrt_plugin_info;

/* Device properties as reported by the backend. Strings are owned by the runtime
 * and stay valid until the process exits (plugins are never unloaded). */
typedef struct ssmrt_device_info {
    const char *backend;        /* "cpu", "cuda", "vulkan", "opencl" */
    uint32_t index;             /* index within the backend (SSMRT_DEVICE) */
    const char *name;           /* "NVIDIA H100 80GB HBM3", "llvmpipe (LLVM 15...)" */
    const char *vendor;
    const char *driver_version;
    const char *api_version;    /* "CUDA 13.0", "Vulkan 1.3.255", "OpenCL 3.0" */
    uint64_t memory_bytes;      /* device-local memory, 0 if unknown */
    uint32_t compute_units;
    uint32_t subgroup_size;     /* 0 if not meaningful */
    uint32_t dtype_mask;        /* bit (1 << ssmrt_dtype) for each storage dtype */
    uint32_t is_reference;      /* 1 for the float64 reference device */
} ssmrt_device_info;

/* Scan the plugin search path (SSMRT_PLUGIN_PATH, else the directory holding
 * libssmrt and the install libdir; never the working directory) and load every
 * libssmrt-<name>.so found. Idempotent; safe from any thread. */
SSMRT_API uint32_t ssmrt_plugin_count(void);
/* info->strings stay valid for the life of the process. */
SSMRT_API ssmrt_status ssmrt_plugin_get(uint32_t index, ssmrt_plugin_info *info);
/* Properties of device `device` of loaded plugin `plugin`. */
SSMRT_API ssmrt_status ssmrt_plugin_device_info(uint32_t plugin, uint32_t device,
                                                ssmrt_device_info *info);

/* ===================================================================== */
/* Contexts                                                               */
/* ===================================================================== */

typedef struct ssmrt_context ssmrt_context;

typedef struct ssmrt_context_options {
    uint32_t struct_size;  /* sizeof(ssmrt_context_options) */
    /* "cpu", "cuda", "vulkan", "opencl", "auto", or a comma list of preference.
     * NULL: the SSMRT_BACKEND variable, else "cpu". */
    const char *backend;
    /* Device index within the backend; -1: SSMRT_DEVICE, else 0. */
    int32_t device;
} ssmrt_context_options;

/* Opens a device. options may be NULL (environment defaults). Naming a backend that
 * cannot start is an error that says why; there is no silent fallback, except that
 * within a comma list or "auto" the next entry is tried. */
SSMRT_API ssmrt_status ssmrt_context_create(const ssmrt_context_options *options,
                                            ssmrt_context **out_context);
/* Destroy every tensor, graph, model and session of a context before the context.
 * Tensors still alive at this point are reported (SSMRT_LOG=warn) and their device
 * memory is released; they must not be used afterwards. */
SSMRT_API void ssmrt_context_destroy(ssmrt_context *context);
SSMRT_API const ssmrt_device_info *ssmrt_context_device(const ssmrt_context *context);
/* Peak and current bytes of device memory allocated through this context. */
SSMRT_API void ssmrt_context_memory(const ssmrt_context *context, uint64_t *current,
                                    uint64_t *peak);

/* ===================================================================== */
/* Tensors                                                                */
/* ===================================================================== */

/* A tensor is a typed view over device memory: dtype, up to 4 dims and strides in
 * elements. Tensors made by ssmrt_tensor_create own their memory ("persistent");
 * tensors returned by graph builders live in the graph's planned arena and are
 * valid only for reading/writing between ssmrt_graph_compute and the next
 * compute/destroy of that graph. */
typedef struct ssmrt_tensor ssmrt_tensor;

SSMRT_API ssmrt_status ssmrt_tensor_create(ssmrt_context *context, ssmrt_dtype dtype,
                                           int ndim, const int64_t *shape,
                                           ssmrt_tensor **out_tensor);
/* Destroying a persistent tensor that views of it still reference is allowed: the
 * memory is released when the last view is gone. Graph tensors are owned by the
 * graph and must not be destroyed. */
SSMRT_API void ssmrt_tensor_destroy(ssmrt_tensor *tensor);

SSMRT_API ssmrt_dtype ssmrt_tensor_dtype(const ssmrt_tensor *t);
SSMRT_API int ssmrt_tensor_ndim(const ssmrt_tensor *t);
SSMRT_API int64_t ssmrt_tensor_dim(const ssmrt_tensor *t, int axis); /* axis < 0 counts from the end */
SSMRT_API int64_t ssmrt_tensor_nelements(const ssmrt_tensor *t);
SSMRT_API int ssmrt_tensor_is_contiguous(const ssmrt_tensor *t);

/* Copy between host memory and a contiguous tensor. bytes must equal
 * nelements * dtype size. */
SSMRT_API ssmrt_status ssmrt_tensor_upload(ssmrt_tensor *t, const void *src, size_t bytes);
SSMRT_API ssmrt_status ssmrt_tensor_download(const ssmrt_tensor *t, void *dst, size_t bytes);
/* Upload f32 host data converting to the tensor's dtype (f32, f16 or bf16). */
SSMRT_API ssmrt_status ssmrt_tensor_upload_f32(ssmrt_tensor *t, const float *src, size_t count);
/* Download converting f32/f16/bf16 to f32 (and i32 to f32). */
SSMRT_API ssmrt_status ssmrt_tensor_download_f32(const ssmrt_tensor *t, float *dst, size_t count);
/* Sets every byte to zero. */
SSMRT_API ssmrt_status ssmrt_tensor_zero(ssmrt_tensor *t);

/* ===================================================================== */
/* Graphs                                                                 */
/* ===================================================================== */

/* A graph records operations in order; ssmrt_graph_compute plans memory for the
 * intermediates (reusing buffers whose last reader has run), enqueues every op on
 * the device and waits for completion.
 *
 * Builder functions return a new graph tensor, or NULL on error. Errors are sticky:
 * after the first failure every builder returns NULL and ssmrt_graph_status() and
 * ssmrt_graph_compute() return the first error, whose message names the op and
 * the offending shape. So a model can be built without checking every call.
 *
 * Inputs may be persistent tensors of the same context or tensors of this graph.
 * Activations are f32. Weights given to matmul and embedding may be f32, f16 or
 * bf16. Unless stated, inputs may be any strided view: the graph inserts a copy
 * to a contiguous buffer when a backend kernel needs one. */
typedef struct ssmrt_graph ssmrt_graph;

SSMRT_API ssmrt_status ssmrt_graph_create(ssmrt_context *context, ssmrt_graph **out_graph);
SSMRT_API void ssmrt_graph_destroy(ssmrt_graph *graph);
SSMRT_API ssmrt_status ssmrt_graph_status(const ssmrt_graph *graph);
/* Run the recorded ops; may be called repeatedly (e.g. after re-uploading
 * persistent inputs). */
SSMRT_API ssmrt_status ssmrt_graph_compute(ssmrt_graph *graph);
/* Like ssmrt_graph_compute, and reports in *out_device_ms the time the device
 * spent between the start of the first op and the end of the last, measured with
 * the backend's own clock (CUDA events, Vulkan timestamp queries, OpenCL
 * profiling events; the CPU's monotonic clock) rather than the host's: it leaves
 * out launch and submission latency, which at the 100 us scale of a GPU kernel is
 * a large share of a wall-clock measurement. SSMRT_ERR_UNSUPPORTED (and no
 * compute) when the backend has no timer. For benchmarks; costs one or two extra
 * device commands. */
SSMRT_API ssmrt_status ssmrt_graph_compute_timed(ssmrt_graph *graph, double *out_device_ms);
/* Number of ops recorded and bytes of the planned intermediate arena (after the
 * first compute), and the bytes the intermediates would need without reuse. */
SSMRT_API void ssmrt_graph_stats(const ssmrt_graph *graph, uint32_t *n_ops,
                                 uint64_t *arena_bytes, uint64_t *unplanned_bytes);

/* Marks a graph tensor as a result: its memory is not reused for later ops, and it
 * can be read after compute with ssmrt_graph_read (until the next compute or
 * destroy). Returns x (NULL on error). */
SSMRT_API ssmrt_tensor *ssmrt_graph_output(ssmrt_graph *g, ssmrt_tensor *x);
/* Copies a result (marked with ssmrt_graph_output; contiguous) to host memory as
 * f32, converting f16/bf16/i32. count must equal its number of elements. */
SSMRT_API ssmrt_status ssmrt_graph_read_f32(ssmrt_graph *g, const ssmrt_tensor *x, float *dst,
                                            size_t count);
/* Raw bytes of a result, in its dtype. */
SSMRT_API ssmrt_status ssmrt_graph_read(ssmrt_graph *g, const ssmrt_tensor *x, void *dst,
                                        size_t bytes);

/* ---- views (no data movement) --------------------------------------- */

/* Elements [start, start+len) along axis. */
SSMRT_API ssmrt_tensor *ssmrt_graph_slice(ssmrt_graph *g, ssmrt_tensor *x, int axis,
                                          int64_t start, int64_t len);
/* New shape with the same number of elements; x must be contiguous (copy first). */
SSMRT_API ssmrt_tensor *ssmrt_graph_reshape(ssmrt_graph *g, ssmrt_tensor *x, int ndim,
                                            const int64_t *shape);
/* Output axis i is input axis perm[i]. */
SSMRT_API ssmrt_tensor *ssmrt_graph_permute(ssmrt_graph *g, ssmrt_tensor *x,
                                            const int *perm);

/* ---- data movement --------------------------------------------------- */

/* A contiguous copy of x in dtype (conversion between f32/f16/bf16 rounds to
 * nearest even). */
SSMRT_API ssmrt_tensor *ssmrt_graph_copy(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_dtype dtype);
/* Copies src into dst (same shape; dst may be a view of a persistent tensor, e.g. a
 * slice of a KV cache). Returns dst. */
SSMRT_API ssmrt_tensor *ssmrt_graph_copy_into(ssmrt_graph *g, ssmrt_tensor *src,
                                              ssmrt_tensor *dst);
/* Concatenate tensors of equal shape but along axis. */
SSMRT_API ssmrt_tensor *ssmrt_graph_concat(ssmrt_graph *g, ssmrt_tensor *const *xs, int n,
                                           int axis);

/* ---- elementwise ------------------------------------------------------- */

/* a + b and a * b with broadcasting: b's shape, right-aligned against a's, has each
 * dim equal to a's or 1. The result has a's shape. */
SSMRT_API ssmrt_tensor *ssmrt_graph_add(ssmrt_graph *g, ssmrt_tensor *a, ssmrt_tensor *b);
SSMRT_API ssmrt_tensor *ssmrt_graph_mul(ssmrt_graph *g, ssmrt_tensor *a, ssmrt_tensor *b);
/* x * alpha + beta */
SSMRT_API ssmrt_tensor *ssmrt_graph_scale(ssmrt_graph *g, ssmrt_tensor *x, float alpha,
                                          float beta);
SSMRT_API ssmrt_tensor *ssmrt_graph_silu(ssmrt_graph *g, ssmrt_tensor *x);     /* x*sigmoid(x) */
SSMRT_API ssmrt_tensor *ssmrt_graph_sigmoid(ssmrt_graph *g, ssmrt_tensor *x);
/* log(1+exp(x)), and x itself where x > 20 (PyTorch's threshold) */
SSMRT_API ssmrt_tensor *ssmrt_graph_softplus(ssmrt_graph *g, ssmrt_tensor *x);
/* exact GELU: 0.5*x*(1+erf(x/sqrt(2))) */
SSMRT_API ssmrt_tensor *ssmrt_graph_gelu(ssmrt_graph *g, ssmrt_tensor *x);
SSMRT_API ssmrt_tensor *ssmrt_graph_exp(ssmrt_graph *g, ssmrt_tensor *x);

/* ---- normalisation and reductions ------------------------------------------ */

/* Softmax over the last dimension. */
SSMRT_API ssmrt_tensor *ssmrt_graph_softmax(ssmrt_graph *g, ssmrt_tensor *x);
/* y = x / sqrt(mean(x^2) + eps) * weight, over the last dim; weight [D]. */
SSMRT_API ssmrt_tensor *ssmrt_graph_rms_norm(ssmrt_graph *g, ssmrt_tensor *x,
                                             ssmrt_tensor *weight, float eps);
/* Mamba-2's gated RMSNorm: v = x * silu(z); then RMSNorm of v over groups of
 * group_size consecutive elements of the last dim (group_size must divide it),
 * times weight [D]. */
SSMRT_API ssmrt_tensor *ssmrt_graph_rms_norm_gated(ssmrt_graph *g, ssmrt_tensor *x,
                                                   ssmrt_tensor *z, ssmrt_tensor *weight,
                                                   int64_t group_size, float eps);
/* y = (x - mean) / sqrt(var + eps) * weight + bias over the last dim; bias may be NULL. */
SSMRT_API ssmrt_tensor *ssmrt_graph_layer_norm(ssmrt_graph *g, ssmrt_tensor *x,
                                               ssmrt_tensor *weight, ssmrt_tensor *bias,
                                               float eps);

/* ---- linear algebra ---------------------------------------------------------- */

/* y[..., n] = sum_k x[..., k] * w[n, k] (+ bias[n]); w [N, K] in f32, f16 or bf16 (the
 * layout of torch.nn.Linear), x f32 [..., K], bias f32 [N] or NULL. */
SSMRT_API ssmrt_tensor *ssmrt_graph_matmul(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_tensor *w,
                                           ssmrt_tensor *bias);
/* y[i, :] = table[ids[i], :] as f32; table [V, D] f32/f16/bf16, ids i32 of any shape
 * S (at most 3 dims); result [S..., D]. An id outside [0, V) gives a row of zeros
 * (GPU kernels cannot raise errors cheaply; model sessions validate ids first). */
SSMRT_API ssmrt_tensor *ssmrt_graph_embedding(ssmrt_graph *g, ssmrt_tensor *table,
                                              ssmrt_tensor *ids);

/* Mixture-of-experts routing. logits [T, E] -> dense gates [T, E]: p = softmax(logits)
 * over E; the k largest p per row are kept (ties: lower expert index first), the rest
 * set to 0; if renormalize, the kept ones are divided by their sum. */
SSMRT_API ssmrt_tensor *ssmrt_graph_topk_route(ssmrt_graph *g, ssmrt_tensor *logits, int k,
                                               int renormalize);

/* ---- state-space and sequence ops ------------------------------------------- */

/* Selective scan (Mamba-1 and Mamba-2). Shapes, with H heads of P channels each,
 * G groups (H % G == 0; head h uses group h / (H/G)) and state size N:
 *
 *   u      [B, L, H, P]  input (Mamba-1: H = D channels, P = 1)
 *   delta  [B, L, H]     time step before bias/softplus
 *   A      [H, N]  (Mamba-1, one row per channel)  or  [H]  (Mamba-2, scalar per head)
 *   Bm, Cm [B, L, G, N]
 *   Dskip  [H]      or NULL
 *   z      [B, L, H, P] or NULL (gate)
 *   delta_bias [H]  or NULL
 *   state  [B, H, P, N] f32 or NULL: initial state in (NULL = zeros). If state_out is
 *          given the final state is written there; it may be the same tensor as state.
 *
 * For each b, h, p, n with dt = delta[b,l,h] + delta_bias[h], then softplus(dt) if
 * delta_softplus (threshold 20), and a = A[h,n] (or A[h]):
 *   s[n] = exp(dt * a) * s[n] + dt * Bm[b,l,g,n] * u[b,l,h,p]
 *   y[b,l,h,p] = sum_n s[n] * Cm[b,l,g,n] + Dskip[h] * u[b,l,h,p]
 *   y *= silu(z[b,l,h,p])  when z is given
 * Returns y [B, L, H, P]. */
SSMRT_API ssmrt_tensor *ssmrt_graph_selective_scan(
    ssmrt_graph *g, ssmrt_tensor *u, ssmrt_tensor *delta, ssmrt_tensor *A, ssmrt_tensor *Bm,
    ssmrt_tensor *Cm, ssmrt_tensor *Dskip, ssmrt_tensor *z, ssmrt_tensor *delta_bias,
    int delta_softplus, ssmrt_tensor *state, ssmrt_tensor *state_out);

/* Causal depthwise conv1d as Mamba uses it. x [B, L, D], weight [D, W], bias [D] or
 * NULL, state [B, D, W-1] or NULL: the W-1 inputs that precede x[:, 0] (oldest
 * first; NULL = zeros). y[b,l,d] = bias[d] + sum_{j<W} weight[d,j] * xx[b, l+j, d]
 * where xx is state followed by x along time; then SiLU if silu. If state_out is
 * given, the last W-1 entries of xx are written there (may equal state). */
SSMRT_API ssmrt_tensor *ssmrt_graph_conv1d_causal(ssmrt_graph *g, ssmrt_tensor *x,
                                                  ssmrt_tensor *weight, ssmrt_tensor *bias,
                                                  int silu, ssmrt_tensor *state,
                                                  ssmrt_tensor *state_out);

/* Long causal convolution (S4). x [B, L, D], kernel [D, Lk] with Lk >= L:
 * y[b,l,d] = sum_{j=0..l} kernel[d,j] * x[b,l-j,d]. */
SSMRT_API ssmrt_tensor *ssmrt_graph_conv_long(ssmrt_graph *g, ssmrt_tensor *x,
                                              ssmrt_tensor *kernel);

/* Causal scaled dot-product attention with grouped-query heads.
 * q [B, Lq, Hq, Dh]; k, v [B, Lk, Hk, Dh] with Lk >= Lq and Hq % Hk == 0 (query head
 * h reads kv head h / (Hq/Hk)). Query i sits at absolute position Lk - Lq + i and
 * attends keys 0..Lk-Lq+i (so with a KV cache, k and v are the cache slice holding
 * the past followed by the new tokens; append with ssmrt_graph_copy_into first).
 * scale multiplies q.k (pass 1/sqrt(Dh) for the usual). k and v may be strided
 * views (a prefix of a longer cache). Softmax is computed online (flash-style):
 * memory stays O(L), no Lq x Lk matrix exists. Returns [B, Lq, Hq, Dh].
 * Dtypes: q, k and v share ONE dtype, f32, f16 or bf16 (a mix, or any other dtype,
 * is refused naming the tensors and their dtypes), and the result has that dtype.
 * Scores, softmax and the weighted sum of v are computed in (at least) f32 from the
 * stored values; the output is rounded to the dtype once, at the end. Kernels that
 * use f16/bf16 tensor cores may also round the softmax weights to the dtype before
 * multiplying by v (an error of at most the dtype's unit roundoff times max|v|). */
SSMRT_API ssmrt_tensor *ssmrt_graph_attention(ssmrt_graph *g, ssmrt_tensor *q,
                                              ssmrt_tensor *k, ssmrt_tensor *v, float scale);

#ifdef __cplusplus
}
#endif
#endif /* SSMRT_H */
