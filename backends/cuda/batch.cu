/*
 * batch.cu: CUDA-graph replay of repeated batches, synchronize and timers.
 *
 * The host brackets a graph's ops with begin_batch / end_batch. A decode step
 * enqueues the same ops on the same device addresses every token, and launching
 * a few hundred small kernels one by one costs more host time than the GPU
 * spends on them. So the plugin remembers the op list of the last batch; when a
 * batch repeats it op for op (same kinds, dtypes, shapes, strides, params and
 * resolved device addresses), the ops are held back instead of launched, and at
 * end_batch the batch is captured once into a CUDA graph (stream capture) and
 * from then on replayed with a single cudaGraphLaunch.
 *
 * Holding back is safe because everything that must observe the stream in
 * order (transfers, buffer copies and fills, synchronize, timers, frees) first
 * flushes the held ops, which also ends matching for the rest of that batch.
 * A batch that differs from the last one (a growing KV cache, another shape)
 * runs its ops directly as they are enqueued and becomes the list remembered.
 * Comparing resolved addresses rather than buffer handles means a replayed graph
 * can only ever touch memory that the current batch names.
 *
 * Host time per op matters (a decode step enqueues ~200 and the GPU waits for
 * the last): an op that matches the remembered one is compared before any
 * validation and not copied. Matching compares the buffer handle, its size and
 * the offset as well, so a matching op passed the same bounds and shape checks
 * when it was recorded.
 *
 * Held ops are launched through launch_list, which fuses [RMS_NORM,] MATMUL
 * [, ADD] runs of a decode step into one matvec (k_matmul.cu): held ops are the
 * only place where the plugin sees the ops that follow one. Fused and unfused
 * give the same bits.
 */
#include <string.h>

#include "cuda_backend.h"

enum { REC_DESCS = SSMRT_OP_MAX_SRC + SSMRT_OP_MAX_DST };

/* An op as recorded for replay: the op itself (to launch it later), the device
 * address each descriptor resolved to when it was recorded (handles alone could
 * name freed and reallocated memory) and the size of its buffer then. */
typedef struct cuda_rec {
    ssmrt_op op;
    uint64_t addr[REC_DESCS];
    uint64_t buf_size[REC_DESCS];
} cuda_rec;

typedef struct cuda_batch {
    int active;        /* between begin_batch and end_batch */
    int matching;      /* ops 0..n_rec-1 equal prev's and are held (not in rec) */
    int graphs_off;    /* a capture failed once: run batches directly from then on */
    uint32_t n_rec, cap_rec;
    cuda_rec *rec;     /* this batch, once it stopped matching */
    uint32_t n_prev, cap_prev;
    cuda_rec *prev;    /* the last batch */
    cudaGraphExec_t exec; /* graph of prev, once it has repeated */
} cuda_batch;

static const ssmrt_tensor_desc *rec_desc(const ssmrt_op *op, uint32_t i) {
    return i < op->n_src ? &op->src[i] : &op->dst[i - op->n_src];
}

static void rec_make(cuda_rec *r, const ssmrt_op *op) {
    r->op = *op;
    for (uint32_t i = 0; i < op->n_src + op->n_dst; i++) {
        const ssmrt_tensor_desc *d = rec_desc(op, i);
        const int present = cuda_desc_present(d);
        r->addr[i] = present ? (uint64_t)(uintptr_t)cuda_desc_ptr(d) : 0;
        r->buf_size[i] = present ? ((const cuda_buffer *)d->buffer)->size : 0;
    }
}

/* Whether op equals the recorded one: same kind and params, and per descriptor
 * the same buffer handle, offset, resolved address, buffer size, dtype, shape
 * and strides. Only the dimensions in use are compared. op is not validated
 * yet: a present descriptor is only dereferenced after its handle matched the
 * recorded (validated) one. */
static int rec_matches(const cuda_rec *r, const ssmrt_op *op) {
    const ssmrt_op *a = &r->op;
    if (a->kind != op->kind || a->n_src != op->n_src || a->n_dst != op->n_dst ||
        op->n_src > SSMRT_OP_MAX_SRC || op->n_dst > SSMRT_OP_MAX_DST ||
        memcmp(&a->params, &op->params, sizeof a->params) != 0)
        return 0;
    for (uint32_t i = 0; i < op->n_src + op->n_dst; i++) {
        const ssmrt_tensor_desc *da = rec_desc(a, i), *db = rec_desc(op, i);
        if (!cuda_desc_present(db)) {
            if (r->addr[i]) return 0;
            continue;
        }
        if (!r->addr[i] || da->buffer != db->buffer || da->offset != db->offset ||
            da->dtype != db->dtype || da->ndim != db->ndim || db->ndim > SSMRT_MAX_DIMS)
            return 0;
        const cuda_buffer *buf = (const cuda_buffer *)db->buffer;
        if (buf->size != r->buf_size[i] || (uint64_t)(uintptr_t)(buf->ptr + db->offset) != r->addr[i])
            return 0;
        for (uint32_t j = 0; j < db->ndim; j++)
            if (da->shape[j] != db->shape[j] || da->stride[j] != db->stride[j]) return 0;
    }
    return 1;
}

/* Launches recorded ops in order, fusing what cuda_matmul_try_fuse takes. */
static int launch_list(cuda_device *dev, const cuda_rec *r, uint32_t n) {
    int rc = 0;
    for (uint32_t i = 0; i < n && !rc;) {
        const ssmrt_op *a = &r[i].op;
        int used = 0;
        if (a->kind == SSMRT_OP_RMS_NORM || a->kind == SSMRT_OP_MATMUL)
            rc = cuda_matmul_try_fuse(dev, a, i + 1 < n ? &r[i + 1].op : NULL,
                                      i + 2 < n ? &r[i + 2].op : NULL, &used);
        if (rc) break;
        if (used) {
            i += (uint32_t)used;
            continue;
        }
        rc = cuda_dispatch_launch(dev, a);
        i++;
    }
    return rc;
}

static int ensure_cap(cuda_rec **arr, uint32_t *cap, uint32_t need) {
    if (need <= *cap) return 0;
    uint32_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    cuda_rec *n = (cuda_rec *)cuda_host_alloc((size_t)ncap * sizeof *n);
    if (!n) return -1;
    if (*arr) {
        memcpy(n, *arr, (size_t)*cap * sizeof *n);
        cuda_host_free(*arr);
    }
    *arr = n;
    *cap = ncap;
    return 0;
}

/* Ends matching: launches the held prefix (prev[0..n_rec)) and copies it into
 * rec, which the rest of the batch is appended to. Without memory to remember
 * the batch, it runs directly and is forgotten. */
static int unmatch(cuda_device *dev, cuda_batch *b) {
    b->matching = 0;
    /* Held ops skipped enqueue's cudaSetDevice. */
    int rc = cuda_check(cudaSetDevice(dev->ordinal), "cudaSetDevice");
    if (!rc) rc = launch_list(dev, b->prev, b->n_rec);
    if (ensure_cap(&b->rec, &b->cap_rec, b->n_rec + 1)) {
        b->n_prev = 0;
        b->n_rec = 0;
        b->active = 0;
        return rc;
    }
    memcpy(b->rec, b->prev, (size_t)b->n_rec * sizeof *b->rec);
    return rc;
}

int cuda_batch_flush(cuda_device *dev) {
    cuda_batch *b = dev->batch;
    if (!b || !b->active || !b->matching) return 0;
    return unmatch(dev, b);
}

int cuda_batch_replay_next(cuda_device *dev, const ssmrt_op *op) {
    cuda_batch *b = dev->batch;
    if (!b || !b->active || !b->matching || b->n_rec >= b->n_prev ||
        !rec_matches(&b->prev[b->n_rec], op))
        return 0;
    b->n_rec++;
    return 1;
}

int cuda_batch_record(cuda_device *dev, const ssmrt_op *op, int *status) {
    cuda_batch *b = dev->batch;
    *status = 0;
    if (!b || !b->active) return 0;
    if (b->matching) {
        /* cuda_batch_replay_next did not take it: the batch differs from here
         * on. The earlier ops were held; the caller launches this one after them. */
        *status = unmatch(dev, b);
        if (*status || !b->active) return *status != 0;
    }
    if (ensure_cap(&b->rec, &b->cap_rec, b->n_rec + 1)) {
        /* No memory to remember the batch: run it directly and forget it. */
        b->n_prev = 0;
        b->n_rec = 0;
        b->active = 0;
        return 0;
    }
    rec_make(&b->rec[b->n_rec++], op);
    return 0;
}

int cuda_begin_batch(void *device) {
    cuda_device *dev = (cuda_device *)device;
    if (!dev->batch) {
        dev->batch = (cuda_batch *)cuda_host_alloc(sizeof(cuda_batch));
        if (!dev->batch) return 0; /* batching is an optimisation: run without it */
        memset(dev->batch, 0, sizeof(cuda_batch));
    }
    cuda_batch *b = dev->batch;
    if (b->active) {
        int rc = cuda_end_batch(device);
        if (rc) return rc;
    }
    b->active = 1;
    b->n_rec = 0;
    b->matching = !b->graphs_off && b->n_prev > 0;
    return 0;
}

/* Captures ops r[0..n) into b->exec. Returns 0 on success; on failure the ops
 * are not launched and the capture state is cleaned up. */
static int capture(cuda_device *dev, cuda_batch *b, const cuda_rec *r, uint32_t n) {
    cudaGraph_t graph = NULL;
    cudaError_t err = cudaStreamBeginCapture(dev->stream, cudaStreamCaptureModeThreadLocal);
    if (err != cudaSuccess) return cuda_check(err, "cudaStreamBeginCapture");
    int rc = launch_list(dev, r, n);
    err = cudaStreamEndCapture(dev->stream, &graph);
    if (!rc && err != cudaSuccess) rc = cuda_check(err, "cudaStreamEndCapture");
    if (!rc) rc = cuda_check(cudaGraphInstantiate(&b->exec, graph, 0), "cudaGraphInstantiate");
    if (graph) cudaGraphDestroy(graph);
    if (rc) {
        b->exec = NULL;
        cudaGetLastError();
    }
    return rc;
}

int cuda_end_batch(void *device) {
    cuda_device *dev = (cuda_device *)device;
    cuda_batch *b = dev->batch;
    if (!b || !b->active) return 0;
    b->active = 0;
    if (b->matching && b->n_rec == b->n_prev) {
        /* The same batch again: replay it as one graph; prev stays remembered. */
        b->matching = 0;
        int rc = cuda_check(cudaSetDevice(dev->ordinal), "cudaSetDevice");
        if (rc) return rc;
        if (!b->exec && capture(dev, b, b->prev, b->n_prev)) {
            cuda_log(SSMRT_LOG_WARN, "cuda: graph capture failed, running batches op by op");
            b->graphs_off = 1;
            return launch_list(dev, b->prev, b->n_prev);
        }
        return cuda_check(cudaGraphLaunch(b->exec, dev->stream), "cudaGraphLaunch");
    }
    int rc = 0;
    if (b->matching) rc = unmatch(dev, b); /* a shorter batch: a prefix matched */
    b->matching = 0;
    /* Remember this batch; the graph of the old one is of no further use. */
    if (b->exec) {
        cudaGraphExecDestroy(b->exec);
        b->exec = NULL;
    }
    cuda_rec *t = b->prev;
    uint32_t tc = b->cap_prev;
    b->prev = b->rec;
    b->cap_prev = b->cap_rec;
    b->n_prev = b->n_rec;
    b->rec = t;
    b->cap_rec = tc;
    b->n_rec = 0;
    return rc;
}

void cuda_batch_destroy(cuda_device *dev) {
    cuda_batch *b = dev->batch;
    if (!b) return;
    if (b->exec) cudaGraphExecDestroy(b->exec);
    cuda_host_free(b->rec);
    cuda_host_free(b->prev);
    cuda_host_free(b);
    dev->batch = NULL;
}

/* ===================================================================== */
/* Synchronize and timers                                                 */
/* ===================================================================== */

int cuda_synchronize(void *device) {
    cuda_device *dev = (cuda_device *)device;
    int rc = cuda_batch_flush(dev);
    if (rc) return rc;
    rc = cuda_check(cudaStreamSynchronize(dev->stream), "synchronize");
    if (!rc) rc = cuda_check(cudaGetLastError(), "synchronize");
    return rc;
}

int cuda_timer_mark(void *device, uint32_t slot) {
    cuda_device *dev = (cuda_device *)device;
    if (slot >= CUDA_TIMER_SLOTS)
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT, "cuda: timer slot %u (max %d)", slot,
                          CUDA_TIMER_SLOTS - 1);
    int rc = cuda_batch_flush(dev);
    if (rc) return rc;
    rc = cuda_check(cudaEventRecord(dev->timers[slot], dev->stream), "timer mark");
    if (!rc) dev->timer_set[slot] = 1;
    return rc;
}

int cuda_timer_read(void *device, uint32_t slot_begin, uint32_t slot_end, double *out_ns) {
    cuda_device *dev = (cuda_device *)device;
    if (slot_begin >= CUDA_TIMER_SLOTS || slot_end >= CUDA_TIMER_SLOTS ||
        !dev->timer_set[slot_begin] || !dev->timer_set[slot_end])
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT, "cuda: timer slots %u..%u not marked",
                          slot_begin, slot_end);
    int rc = cuda_check(cudaEventSynchronize(dev->timers[slot_end]), "timer read");
    float ms = 0.0f;
    if (!rc) rc = cuda_check(cudaEventElapsedTime(&ms, dev->timers[slot_begin], dev->timers[slot_end]),
                             "timer read");
    if (!rc) *out_ns = (double)ms * 1e6;
    return rc;
}
