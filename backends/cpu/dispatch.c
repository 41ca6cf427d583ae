/*
 * dispatch.c: the one table from (op kind, dtype signature) to kernels.
 *
 * supports() and enqueue() both call cpu_dispatch_lookup, so what the plugin
 * claims and what it runs come from the same row. A row lists, per source and
 * destination slot, the dtypes the kernel accepts (a bit mask); an absent
 * optional input (ndim == 0) matches any row, a present input in a slot the row
 * does not list matches none. Buffers play no part: supports() gets none.
 */
#include "cpu_internal.h"
#include "fast_kernels.h"

enum { /* short names for the table below */
    M_F32 = SSMRT_MASK_F32,
    M_F16 = SSMRT_MASK_F16,
    M_BF16 = SSMRT_MASK_BF16,
    M_I32 = SSMRT_MASK_I32,
    M_FLOAT = SSMRT_MASK_FLOAT,
    M_ANY = SSMRT_MASK_ANY
};

typedef struct cpu_dispatch_row {
    uint32_t kind;
    uint8_t min_src, min_dst;              /* leading slots that must be present */
    uint8_t src[SSMRT_OP_MAX_SRC];          /* accepted dtype masks */
    uint8_t dst[SSMRT_OP_MAX_DST];
    cpu_kernel_fn fast, reference;          /* device 0, device 1 */
} cpu_dispatch_row;

#define F32x9 {M_F32, M_F32, M_F32, M_F32, M_F32, M_F32, M_F32, M_F32, M_F32}
#define UNARY(kind, fast) {kind, 1, 1, {M_F32}, {M_F32}, fast, cpu_ref_unary}

static const cpu_dispatch_row k_table[] = {
    {SSMRT_OP_COPY, 1, 1, {M_ANY}, {M_ANY}, cpu_fast_copy, cpu_ref_copy},
    {SSMRT_OP_ADD, 2, 1, {M_F32, M_F32}, {M_F32}, cpu_fast_binary, cpu_ref_binary},
    {SSMRT_OP_MUL, 2, 1, {M_F32, M_F32}, {M_F32}, cpu_fast_binary, cpu_ref_binary},
    UNARY(SSMRT_OP_SCALE, cpu_fast_unary),
    UNARY(SSMRT_OP_SILU, cpu_fast_unary),
    UNARY(SSMRT_OP_SIGMOID, cpu_fast_unary),
    UNARY(SSMRT_OP_SOFTPLUS, cpu_fast_unary),
    UNARY(SSMRT_OP_GELU, cpu_fast_unary),
    UNARY(SSMRT_OP_EXP, cpu_fast_unary),
    {SSMRT_OP_SOFTMAX, 1, 1, {M_F32}, {M_F32}, cpu_fast_softmax, cpu_ref_softmax},
    {SSMRT_OP_RMS_NORM, 2, 1, {M_F32, M_F32}, {M_F32}, cpu_fast_rms_norm, cpu_ref_rms_norm},
    {SSMRT_OP_RMS_NORM_GATED, 3, 1, {M_F32, M_F32, M_F32}, {M_F32}, cpu_fast_rms_norm_gated,
     cpu_ref_rms_norm_gated},
    {SSMRT_OP_LAYER_NORM, 2, 1, {M_F32, M_F32, M_F32}, {M_F32}, cpu_fast_layer_norm,
     cpu_ref_layer_norm},
    {SSMRT_OP_MATMUL, 2, 1, {M_F32, M_FLOAT, M_F32}, {M_F32}, cpu_fast_matmul, cpu_ref_matmul},
    {SSMRT_OP_EMBEDDING, 2, 1, {M_FLOAT, M_I32}, {M_F32}, cpu_fast_embedding,
     cpu_ref_embedding},
    {SSMRT_OP_TOPK_ROUTE, 1, 1, {M_F32}, {M_F32}, cpu_fast_topk_route, cpu_ref_topk_route},
    {SSMRT_OP_SELECTIVE_SCAN, 5, 1, F32x9, {M_F32, M_F32}, cpu_fast_selective_scan,
     cpu_ref_selective_scan},
    {SSMRT_OP_CONV1D_CAUSAL, 2, 1, {M_F32, M_F32, M_F32, M_F32}, {M_F32, M_F32},
     cpu_fast_conv1d_causal, cpu_ref_conv1d_causal},
    {SSMRT_OP_CONV_LONG, 2, 1, {M_F32, M_F32}, {M_F32}, cpu_fast_conv_long, cpu_ref_conv_long},
    /* Attention: q, k, v and dst of one dtype (a row per dtype, so a mix matches none). */
    {SSMRT_OP_ATTENTION, 3, 1, {M_F32, M_F32, M_F32}, {M_F32}, cpu_fast_attention,
     cpu_ref_attention},
    {SSMRT_OP_ATTENTION, 3, 1, {M_F16, M_F16, M_F16}, {M_F16}, cpu_fast_attention,
     cpu_ref_attention},
    {SSMRT_OP_ATTENTION, 3, 1, {M_BF16, M_BF16, M_BF16}, {M_BF16}, cpu_fast_attention,
     cpu_ref_attention},
};

static int row_matches(const cpu_dispatch_row *r, const ssmrt_op *op) {
    return ssmrt_op_matches(op, r->kind, r->min_src, r->min_dst, r->src, r->dst);
}

cpu_kernel_fn cpu_dispatch_lookup(uint32_t device_index, const ssmrt_op *op) {
    for (size_t i = 0; i < sizeof k_table / sizeof k_table[0]; i++)
        if (row_matches(&k_table[i], op))
            return device_index == CPU_DEVICE_REFERENCE ? k_table[i].reference : k_table[i].fast;
    return NULL;
}

static int check_desc(const ssmrt_tensor_desc *d, const char *what, uint32_t i) {
    const cpu_buffer *b = d->buffer;
    if (!b) return cpu_error(SSMRT_ERR_INVALID_ARGUMENT, "cpu: %s[%u] has no buffer", what, i);
    if (d->ndim > SSMRT_MAX_DIMS)
        return cpu_error(SSMRT_ERR_INVALID_ARGUMENT, "cpu: %s[%u] has %u dims (max %d)", what,
                         i, d->ndim, SSMRT_MAX_DIMS);
    uint64_t bytes;
    uint32_t k = 0;
    ssmrt_desc_span_status span = ssmrt_desc_span_bytes(d, cpu_dtype_size(d->dtype), &bytes, &k);
    if (span == SSMRT_DESC_SPAN_NEGATIVE)
        return cpu_error(SSMRT_ERR_INVALID_ARGUMENT,
                         "cpu: %s[%u] dim %u has shape %lld stride %lld (negative)", what, i, k,
                         (long long)d->shape[k], (long long)d->stride[k]);
    if (span == SSMRT_DESC_SPAN_OVERFLOW)
        return cpu_error(SSMRT_ERR_INVALID_ARGUMENT, "cpu: %s[%u] extent overflows", what, i);
    if (bytes == 0) return 0; /* empty: touches nothing */
    if (d->offset > b->size || bytes > b->size - d->offset)
        return cpu_error(SSMRT_ERR_INVALID_ARGUMENT,
                         "cpu: %s[%u] reaches byte %llu + %llu of a %llu-byte buffer", what, i,
                         (unsigned long long)d->offset, (unsigned long long)bytes,
                         (unsigned long long)b->size);
    return 0;
}

int cpu_dispatch_check_bounds(const ssmrt_op *op) {
    int rc;
    for (uint32_t i = 0; i < op->n_src; i++)
        if (cpu_desc_present(&op->src[i]) && (rc = check_desc(&op->src[i], "src", i))) return rc;
    for (uint32_t i = 0; i < op->n_dst; i++)
        if (cpu_desc_present(&op->dst[i]) && (rc = check_desc(&op->dst[i], "dst", i))) return rc;
    return 0;
}
