/*
 * dispatch.cu: the one table from (op kind, dtype signature) to kernels.
 *
 * supports() and enqueue() both call cuda_dispatch_lookup, so what the plugin
 * claims and what it runs come from the same row. A row lists, per source and
 * destination slot, the dtypes the kernel accepts (a bit mask); an absent
 * optional input (ndim == 0) matches any row, a present input in a slot the row
 * does not list matches none.
 */
#include "cuda_backend.h"

enum { /* short names for the table below */
    M_F32 = SSMRT_MASK_F32,
    M_F16 = SSMRT_MASK_F16,
    M_BF16 = SSMRT_MASK_BF16,
    M_I32 = SSMRT_MASK_I32,
    M_FLOAT = SSMRT_MASK_FLOAT,
    M_ANY = SSMRT_MASK_ANY
};

typedef struct cuda_dispatch_row {
    uint32_t kind;
    uint8_t min_src, min_dst; /* leading slots that must be present */
    uint8_t src[SSMRT_OP_MAX_SRC];
    uint8_t dst[SSMRT_OP_MAX_DST];
    cuda_kernel_fn fn;
} cuda_dispatch_row;

#define F32x9 {M_F32, M_F32, M_F32, M_F32, M_F32, M_F32, M_F32, M_F32, M_F32}
#define UNARY(kind) {kind, 1, 1, {M_F32}, {M_F32}, cuda_op_unary}

static const cuda_dispatch_row k_table[] = {
    {SSMRT_OP_COPY, 1, 1, {M_ANY}, {M_ANY}, cuda_op_copy},
    {SSMRT_OP_ADD, 2, 1, {M_F32, M_F32}, {M_F32}, cuda_op_binary},
    {SSMRT_OP_MUL, 2, 1, {M_F32, M_F32}, {M_F32}, cuda_op_binary},
    UNARY(SSMRT_OP_SCALE),
    UNARY(SSMRT_OP_SILU),
    UNARY(SSMRT_OP_SIGMOID),
    UNARY(SSMRT_OP_SOFTPLUS),
    UNARY(SSMRT_OP_GELU),
    UNARY(SSMRT_OP_EXP),
    {SSMRT_OP_SOFTMAX, 1, 1, {M_F32}, {M_F32}, cuda_op_softmax},
    {SSMRT_OP_RMS_NORM, 2, 1, {M_F32, M_F32}, {M_F32}, cuda_op_rms_norm},
    {SSMRT_OP_RMS_NORM_GATED, 3, 1, {M_F32, M_F32, M_F32}, {M_F32}, cuda_op_rms_norm_gated},
    {SSMRT_OP_LAYER_NORM, 2, 1, {M_F32, M_F32, M_F32}, {M_F32}, cuda_op_layer_norm},
    {SSMRT_OP_MATMUL, 2, 1, {M_F32, M_FLOAT, M_F32}, {M_F32}, cuda_op_matmul},
    {SSMRT_OP_EMBEDDING, 2, 1, {M_FLOAT, M_I32}, {M_F32}, cuda_op_embedding},
    {SSMRT_OP_TOPK_ROUTE, 1, 1, {M_F32}, {M_F32}, cuda_op_topk_route},
    {SSMRT_OP_SELECTIVE_SCAN, 5, 1, F32x9, {M_F32, M_F32}, cuda_op_selective_scan},
    {SSMRT_OP_CONV1D_CAUSAL, 2, 1, {M_F32, M_F32, M_F32, M_F32}, {M_F32, M_F32},
     cuda_op_conv1d_causal},
    {SSMRT_OP_CONV_LONG, 2, 1, {M_F32, M_F32}, {M_F32}, cuda_op_conv_long},
    /* q, k, v and y share one dtype */
    {SSMRT_OP_ATTENTION, 3, 1, {M_F32, M_F32, M_F32}, {M_F32}, cuda_op_attention},
    {SSMRT_OP_ATTENTION, 3, 1, {M_F16, M_F16, M_F16}, {M_F16}, cuda_op_attention},
    {SSMRT_OP_ATTENTION, 3, 1, {M_BF16, M_BF16, M_BF16}, {M_BF16}, cuda_op_attention},
};

cuda_kernel_fn cuda_dispatch_lookup(const ssmrt_op *op) {
    for (size_t i = 0; i < sizeof k_table / sizeof k_table[0]; i++) {
        const cuda_dispatch_row *r = &k_table[i];
        if (ssmrt_op_matches(op, r->kind, r->min_src, r->min_dst, r->src, r->dst)) return r->fn;
    }
    return NULL;
}

static int check_desc(const ssmrt_tensor_desc *d, const char *what, uint32_t i) {
    const cuda_buffer *b = (const cuda_buffer *)d->buffer;
    if (!b) return cuda_error(SSMRT_ERR_INVALID_ARGUMENT, "cuda: %s[%u] has no buffer", what, i);
    if (d->ndim > SSMRT_MAX_DIMS)
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT, "cuda: %s[%u] has %u dims (max %d)", what,
                          i, d->ndim, SSMRT_MAX_DIMS);
    uint64_t bytes;
    uint32_t k = 0;
    ssmrt_desc_span_status span = ssmrt_desc_span_bytes(d, cuda_dtype_size(d->dtype), &bytes, &k);
    if (span == SSMRT_DESC_SPAN_NEGATIVE)
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT,
                          "cuda: %s[%u] dim %u has shape %lld stride %lld (negative)", what, i, k,
                          (long long)d->shape[k], (long long)d->stride[k]);
    if (span == SSMRT_DESC_SPAN_OVERFLOW)
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT, "cuda: %s[%u] extent overflows", what, i);
    if (bytes == 0) return 0; /* empty: touches nothing */
    if (d->offset > b->size || bytes > b->size - d->offset)
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT,
                          "cuda: %s[%u] reaches byte %llu + %llu of a %llu-byte buffer", what, i,
                          (unsigned long long)d->offset, (unsigned long long)bytes,
                          (unsigned long long)b->size);
    return 0;
}

int cuda_dispatch_check_bounds(const ssmrt_op *op) {
    int rc;
    for (uint32_t i = 0; i < op->n_src; i++)
        if (cuda_desc_present(&op->src[i]) && (rc = check_desc(&op->src[i], "src", i))) return rc;
    for (uint32_t i = 0; i < op->n_dst; i++)
        if (cuda_desc_present(&op->dst[i]) && (rc = check_desc(&op->dst[i], "dst", i))) return rc;
    return 0;
}

int cuda_supports(void *device, const ssmrt_op *op) {
    (void)device;
    return cuda_dispatch_lookup(op) != NULL;
}

int cuda_dispatch_launch(cuda_device *dev, const ssmrt_op *op) {
    cuda_kernel_fn fn = cuda_dispatch_lookup(op);
    if (!fn) return cuda_error(SSMRT_ERR_UNSUPPORTED, "cuda: no kernel for %s", cuda_op_name(op->kind));
    return fn(dev, op);
}

/* The shape checks of the op's kernel, without launching it. */
static int check_shapes(const ssmrt_op *op) {
    int64_t a, b, c, e, s4a[4], s4b[4];
    cuda_scan_dims sd;
    cuda_conv_dims cd;
    cuda_attn_dims ad;
    switch (op->kind) {
    case SSMRT_OP_ADD:
    case SSMRT_OP_MUL: return cuda_shape_binary(op, s4a, s4b);
    case SSMRT_OP_SOFTMAX:
    case SSMRT_OP_RMS_NORM:
    case SSMRT_OP_LAYER_NORM: return cuda_shape_rows(op, &a, &b);
    case SSMRT_OP_RMS_NORM_GATED: {
        int rc = cuda_shape_rows(op, &a, &b);
        return rc ? rc : cuda_shape_norm_group(op, b, &c);
    }
    case SSMRT_OP_MATMUL: return cuda_shape_matmul(op, &a, &b, &c);
    case SSMRT_OP_EMBEDDING: return cuda_shape_embedding(op, &a, &b, &c);
    case SSMRT_OP_TOPK_ROUTE: return cuda_shape_topk(op, &a, &b, &c);
    case SSMRT_OP_SELECTIVE_SCAN: return cuda_shape_scan(op, &sd);
    case SSMRT_OP_CONV1D_CAUSAL: return cuda_shape_conv(op, &cd);
    case SSMRT_OP_CONV_LONG: return cuda_shape_conv_long(op, &a, &b, &c, &e);
    case SSMRT_OP_ATTENTION: return cuda_shape_attention(op, &ad);
    default: return cuda_shape_unary(op, &a); /* COPY and the unary ops */
    }
}

int cuda_enqueue(void *device, const ssmrt_op *op) {
    cuda_device *dev = (cuda_device *)device;
    /* A replayed decode step: the same op as last time, validated then. */
    if (op && dev->batch && cuda_batch_replay_next(dev, op)) return 0;
    if (!cuda_dispatch_lookup(op))
        return cuda_error(SSMRT_ERR_UNSUPPORTED, "cuda: no kernel for %s with these dtypes",
                          op ? cuda_op_name(op->kind) : "(null op)");
    int rc = cuda_dispatch_check_bounds(op);
    if (rc) return rc;
    /* Inside a batch an op may be held back and launched at end_batch; its shape
     * errors must still surface here, so check them before recording. (The
     * kernels check again when they launch.) */
    if (dev->batch && (rc = check_shapes(op))) return rc;
    if ((rc = cuda_check(cudaSetDevice(dev->ordinal), "cudaSetDevice"))) return rc;
    if (dev->batch) {
        int held = cuda_batch_record(dev, op, &rc);
        if (held || rc) return rc;
    }
    return cuda_dispatch_launch(dev, op);
}
