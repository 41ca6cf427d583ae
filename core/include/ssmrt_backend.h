/*
 * ssmrt_backend.h: the plugin ABI between libssmrt (the host) and a backend plugin
 * (libssmrt-<name>.so).
 *
 * Negotiation. A plugin exports exactly one symbol, SSMRT_BACKEND_ENTRY_SYMBOL, of
 * type ssmrt_backend_entry_fn. The host calls it with its host API and the highest
 * ABI version it speaks. The plugin answers with the version it will use (<= the
 * host's, >= SSMRT_BACKEND_ABI_MIN_VERSION) and its vtable, or returns non-zero
 * (with a message through host->report_error) to refuse. The host checks the
 * answered version and the vtable's struct_size before touching anything else, so
 * a plugin of another ABI is a clear error, never a crash.
 *
 * Append-only. Every struct here starts with struct_size. Later ABI versions only
 * append members; a reader must check struct_size (or the negotiated version)
 * before reading a member that came later. Optional vtable slots may be NULL.
 *
 * Execution model. Kernels are enqueued (a CUDA stream, a Vulkan command buffer, an
 * OpenCL queue, a CPU work list); synchronize waits for all enqueued work and
 * reports the first asynchronous error. Ops enqueued on one device execute in
 * order: an op sees the writes of every op enqueued before it. begin_batch /
 * end_batch (optional) bracket a whole graph so a backend may record it into one
 * submission.
 *
 * Ops. enqueue receives an ssmrt_op: the op kind, tensor descriptors of inputs and
 * outputs (device buffer + byte offset + dtype + shape + strides in elements),
 * and op parameters. supports() must answer from the same table enqueue dispatches
 * from, so a claim and its kernel cannot drift apart. The semantics of every op are
 * those of the graph builder of the same name in ssmrt.h.
 *
 * Tensor descriptors given to a kernel are contiguous except where a kind says
 * otherwise (COPY: src and dst strided; ATTENTION: q, k, v strided). The host
 * inserts copies for other strided inputs. An absent optional input has
 * buffer == NULL and ndim == 0 (supports() sees the same, with every buffer NULL).
 *
 * Shapes as kernels see them (the host flattens leading dims, so kernels need no
 * rank logic):
 *   COPY                 src/dst 4-d (leading 1s), same shape, any strides
 *   ADD, MUL             dst, src[0] 4-d [d0,d1,d2,d3]; src[1] 4-d, each dim equal or 1
 *   SCALE, SILU, SIGMOID, SOFTPLUS, GELU, EXP
 *                        1-d [n] (dst and src[0])
 *   SOFTMAX              [rows, D]
 *   RMS_NORM             x [rows, D], weight [D]
 *   RMS_NORM_GATED       x, z [rows, D], weight [D]
 *   LAYER_NORM           x [rows, D], weight [D], bias [D]?
 *   MATMUL               x [M, K], w [N, K], bias [N]? -> dst [M, N]
 *   EMBEDDING            table [V, D], ids [M] i32 -> dst [M, D]; an id outside [0, V)
 *                        gives a row of zeros (sessions validate ids on the host)
 *   TOPK_ROUTE           logits [T, E] -> dst [T, E]
 *   SELECTIVE_SCAN       as ssmrt_graph_selective_scan: u [B,L,H,P], delta [B,L,H],
 *                        A [H,N] (ndim 2) or [H] (ndim 1), B/C [B,L,G,N], D [H]?,
 *                        z [B,L,H,P]?, delta_bias [H]?, state [B,H,P,N]?;
 *                        dst[0] y [B,L,H,P]; dst[1] final state [B,H,P,N]? (may alias
 *                        src state: read it fully before writing)
 *   CONV1D_CAUSAL        x [B,L,D], w [D,W], bias [D]?, state [B,D,W-1]?; dst[0] y
 *                        [B,L,D]; dst[1] state out [B,D,W-1]? (may alias src state)
 *   CONV_LONG            x [B,L,D], kernel [D,Lk] -> dst [B,L,D]
 *   ATTENTION            q [B,Lq,Hq,Dh], k/v [B,Lk,Hk,Dh] (strided) -> dst [B,Lq,Hq,Dh];
 *                        q, k, v and dst all f32, all f16 or all bf16 (math in f32)
 * n_src counts every slot of the kind including absent optional ones (SCAN: 9,
 * CONV1D: 4, LAYER_NORM: 3, MATMUL: 3); n_dst likewise (SCAN, CONV1D: 2).
 */
#ifndef SSMRT_BACKEND_H
#define SSMRT_BACKEND_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ssmrt.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SSMRT_BACKEND_ABI_VERSION 1u     /* the version this header describes */
#define SSMRT_BACKEND_ABI_MIN_VERSION 1u /* the oldest the host still accepts */
#define SSMRT_BACKEND_ENTRY_SYMBOL "ssmrt_backend_entry"

/* ===================================================================== */
/* Ops                                                                    */
/* ===================================================================== */

typedef enum ssmrt_op_kind {
    SSMRT_OP_COPY = 0,          /* src[0] -> dst[0], any strides, dtype conversion */
    SSMRT_OP_ADD,               /* src[0] + src[1] (broadcast, see below) */
    SSMRT_OP_MUL,               /* src[0] * src[1] (broadcast) */
    SSMRT_OP_SCALE,             /* src[0] * p.scale.alpha + p.scale.beta */
    SSMRT_OP_SILU,
    SSMRT_OP_SIGMOID,
    SSMRT_OP_SOFTPLUS,
    SSMRT_OP_GELU,
    SSMRT_OP_EXP,
    SSMRT_OP_SOFTMAX,           /* over the last dim */
    SSMRT_OP_RMS_NORM,          /* src: x, weight; p.norm.eps */
    SSMRT_OP_RMS_NORM_GATED,    /* src: x, z, weight; p.norm.eps, p.norm.group_size */
    SSMRT_OP_LAYER_NORM,        /* src: x, weight, bias?; p.norm.eps */
    SSMRT_OP_MATMUL,            /* src: x [M, K], w [N, K], bias? [N] -> dst [M, N] */
    SSMRT_OP_EMBEDDING,         /* src: table [V, D], ids i32 [M] -> dst [M, D] */
    SSMRT_OP_TOPK_ROUTE,        /* src: logits [T, E] -> dst gates [T, E]; p.topk */
    SSMRT_OP_SELECTIVE_SCAN,    /* see SSMRT_SCAN_* indices; dst[0] y, dst[1] state out? */
    SSMRT_OP_CONV1D_CAUSAL,     /* see SSMRT_CONV_*; dst[0] y, dst[1] state out? */
    SSMRT_OP_CONV_LONG,         /* src: x [B, L, D], kernel [D, Lk] -> dst [B, L, D] */
    SSMRT_OP_ATTENTION,         /* src: q, k, v (strided); p.attention.scale */
    SSMRT_OP_KIND_COUNT
} ssmrt_op_kind;

/* Element-wise binary ops: dst and src[0] have the same shape (4-d, leading dims
 * padded with 1); src[1] has each dim equal to dst's or 1 (broadcast). */

enum { /* SSMRT_OP_SELECTIVE_SCAN sources */
    SSMRT_SCAN_U = 0,          /* [B, L, H, P] */
    SSMRT_SCAN_DELTA = 1,      /* [B, L, H] */
    SSMRT_SCAN_A = 2,          /* [H, N] or [H] */
    SSMRT_SCAN_B = 3,          /* [B, L, G, N] */
    SSMRT_SCAN_C = 4,          /* [B, L, G, N] */
    SSMRT_SCAN_D = 5,          /* [H] optional */
    SSMRT_SCAN_Z = 6,          /* [B, L, H, P] optional */
    SSMRT_SCAN_DELTA_BIAS = 7, /* [H] optional */
    SSMRT_SCAN_STATE = 8,      /* [B, H, P, N] optional (zeros) */
    SSMRT_SCAN_NSRC = 9
};
enum { /* SSMRT_OP_CONV1D_CAUSAL sources */
    SSMRT_CONV_X = 0,      /* [B, L, D] */
    SSMRT_CONV_W = 1,      /* [D, W] */
    SSMRT_CONV_BIAS = 2,   /* [D] optional */
    SSMRT_CONV_STATE = 3,  /* [B, D, W-1] optional (zeros) */
    SSMRT_CONV_NSRC = 4
};

#define SSMRT_OP_MAX_SRC 10
#define SSMRT_OP_MAX_DST 2

typedef struct ssmrt_tensor_desc {
    void *buffer;                   /* backend buffer handle; NULL = absent */
    uint64_t offset;                /* bytes from the buffer start */
    uint32_t dtype;                 /* ssmrt_dtype */
    uint32_t ndim;
    int64_t shape[SSMRT_MAX_DIMS];  /* shape[i] for i < ndim */
    int64_t stride[SSMRT_MAX_DIMS]; /* in elements */
} ssmrt_tensor_desc;

typedef union ssmrt_op_params {
    struct { float alpha, beta; } scale;
    struct { float eps; int64_t group_size; } norm;
    struct { int32_t k; int32_t renormalize; } topk;
    struct { int32_t delta_softplus; } scan;
    struct { int32_t silu; } conv;
    struct { float scale; } attention;
    uint8_t reserved[64];
} ssmrt_op_params;

typedef struct ssmrt_op {
    uint32_t struct_size;           /* sizeof(ssmrt_op) */
    uint32_t kind;                  /* ssmrt_op_kind */
    uint32_t n_src;
    uint32_t n_dst;
    ssmrt_tensor_desc src[SSMRT_OP_MAX_SRC];
    ssmrt_tensor_desc dst[SSMRT_OP_MAX_DST];
    ssmrt_op_params params;
} ssmrt_op;

/* ===================================================================== */
/* Host API: what libssmrt offers the plugin                              */
/* ===================================================================== */

typedef enum ssmrt_log_level {
    SSMRT_LOG_ERROR = 0,
    SSMRT_LOG_WARN = 1,
    SSMRT_LOG_INFO = 2,
    SSMRT_LOG_DEBUG = 3
} ssmrt_log_level;

typedef struct ssmrt_host_api {
    uint32_t struct_size;
    uint32_t abi_version;           /* highest the host speaks */
    /* Logging, filtered by SSMRT_LOG. */
    void (*log)(ssmrt_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
    /* Sets this thread's error message (what ssmrt_last_error returns). Call it
     * before returning a non-zero status. */
    void (*report_error)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
    /* Host memory for the plugin's own bookkeeping (subject to fault injection). */
    void *(*alloc)(size_t bytes);
    void (*free)(void *ptr);
    /* Configuration the host read once (plugins never call getenv for ssmrt
     * variables): log level. */
    int32_t log_level;
} ssmrt_host_api;

/* ===================================================================== */
/* Backend vtable: what the plugin offers the host                        */
/* ===================================================================== */

typedef struct ssmrt_backend_device_props {
    uint32_t struct_size;
    char name[128];
    char vendor[64];
    char driver_version[64];
    char api_version[64];
    uint64_t memory_bytes;
    uint32_t compute_units;
    uint32_t subgroup_size;
    uint32_t dtype_mask;            /* bit (1 << ssmrt_dtype) per storage dtype */
    uint32_t is_reference;          /* 1: computes in float64 (conformance oracle) */
    uint32_t host_memory;           /* 1: buffers are host memory (zero-copy upload) */
} ssmrt_backend_device_props;

/* All functions return 0 on success or an ssmrt_status (with report_error). */
typedef struct ssmrt_backend_vtable {
    uint32_t struct_size;           /* sizeof(ssmrt_backend_vtable) of the plugin */
    uint32_t abi_version;
    const char *name;               /* "cpu", "cuda", ... */

    /* Global start: load the driver, count devices. Failure (no driver, no
     * device) makes the plugin "unavailable" with the reported reason. */
    int (*init)(void **out_backend);
    void (*shutdown)(void *backend);
    int (*device_count)(void *backend, uint32_t *out_count);
    int (*device_props)(void *backend, uint32_t index, ssmrt_backend_device_props *out);
    int (*device_open)(void *backend, uint32_t index, void **out_device);
    void (*device_close)(void *device);

    /* Buffers. alloc of 0 bytes is valid and returns a distinct handle. */
    int (*buffer_alloc)(void *device, uint64_t bytes, void **out_buffer);
    void (*buffer_free)(void *device, void *buffer);
    /* Blocking transfers; they are ordered after all enqueued work. */
    int (*buffer_upload)(void *device, void *buffer, uint64_t offset, const void *src,
                         uint64_t bytes);
    int (*buffer_download)(void *device, void *buffer, uint64_t offset, void *dst,
                           uint64_t bytes);
    /* Enqueued device-side copy and fill. */
    int (*buffer_copy)(void *device, void *src, uint64_t src_offset, void *dst,
                       uint64_t dst_offset, uint64_t bytes);
    int (*buffer_fill_zero)(void *device, void *buffer, uint64_t offset, uint64_t bytes);

    /* 1 if enqueue has a kernel for this op's kind and dtypes, 0 if not. Shapes
     * are checked by the host before. */
    int (*supports)(void *device, const ssmrt_op *op);
    int (*enqueue)(void *device, const ssmrt_op *op);
    int (*synchronize)(void *device);

    /* Optional (may be NULL): bracket a graph for one submission. */
    int (*begin_batch)(void *device);
    int (*end_batch)(void *device);
    /* Optional: device timestamps for benchmarks, in nanoseconds. */
    int (*timer_mark)(void *device, uint32_t slot);
    int (*timer_read)(void *device, uint32_t slot_begin, uint32_t slot_end, double *out_ns);
} ssmrt_backend_vtable;

/* The one exported entry. Returns 0 and fills the outputs, or non-zero to refuse
 * (after host->report_error). */
typedef int (*ssmrt_backend_entry_fn)(const ssmrt_host_api *host, uint32_t host_max_version,
                                      uint32_t *out_version,
                                      const ssmrt_backend_vtable **out_vtable);

#if defined(__GNUC__)
#define SSMRT_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SSMRT_PLUGIN_EXPORT
#endif

#ifdef __cplusplus
}
#endif
#endif /* SSMRT_BACKEND_H */
