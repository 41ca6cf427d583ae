/*
 * vk_ops.c: the one table from (op kind, dtype signature) to the host function
 * that records the op's kernels. supports() and enqueue() both look up a row
 * here, so the claim and the implementation cannot drift apart.
 *
 * A row lists per source/destination slot the dtypes accepted (bit mask); an
 * absent optional input (buffer == NULL) matches any row, a present input in a
 * slot the row does not list matches none.
 */
#include <string.h>

#include "vk_internal.h"

typedef int (*vk_op_fn)(vk_device *d, const ssmrt_op *op);

enum { /* short names for the table below */
    M_F32 = SSMRT_MASK_F32,
    M_F16 = SSMRT_MASK_F16,
    M_BF16 = SSMRT_MASK_BF16,
    M_I32 = SSMRT_MASK_I32,
    M_FLOAT = SSMRT_MASK_FLOAT,
    M_ANY = SSMRT_MASK_ANY
};

typedef struct vk_op_row {
    uint32_t kind;
    uint8_t min_src, min_dst;
    uint8_t src[SSMRT_OP_MAX_SRC];
    uint8_t dst[SSMRT_OP_MAX_DST];
    vk_op_fn fn;
} vk_op_row;

#define F32x9 {M_F32, M_F32, M_F32, M_F32, M_F32, M_F32, M_F32, M_F32, M_F32}
#define UNARY(kind) {kind, 1, 1, {M_F32}, {M_F32}, vk_op_unary}

static const vk_op_row k_table[] = {
    {SSMRT_OP_COPY, 1, 1, {M_ANY}, {M_ANY}, vk_op_copy},
    {SSMRT_OP_ADD, 2, 1, {M_F32, M_F32}, {M_F32}, vk_op_binary},
    {SSMRT_OP_MUL, 2, 1, {M_F32, M_F32}, {M_F32}, vk_op_binary},
    UNARY(SSMRT_OP_SCALE),
    UNARY(SSMRT_OP_SILU),
    UNARY(SSMRT_OP_SIGMOID),
    UNARY(SSMRT_OP_SOFTPLUS),
    UNARY(SSMRT_OP_GELU),
    UNARY(SSMRT_OP_EXP),
    {SSMRT_OP_SOFTMAX, 1, 1, {M_F32}, {M_F32}, vk_op_softmax},
    {SSMRT_OP_RMS_NORM, 2, 1, {M_F32, M_F32}, {M_F32}, vk_op_norm},
    {SSMRT_OP_RMS_NORM_GATED, 3, 1, {M_F32, M_F32, M_F32}, {M_F32}, vk_op_norm},
    {SSMRT_OP_LAYER_NORM, 2, 1, {M_F32, M_F32, M_F32}, {M_F32}, vk_op_norm},
    {SSMRT_OP_MATMUL, 2, 1, {M_F32, M_FLOAT, M_F32}, {M_F32}, vk_op_matmul},
    {SSMRT_OP_EMBEDDING, 2, 1, {M_FLOAT, M_I32}, {M_F32}, vk_op_embedding},
    {SSMRT_OP_TOPK_ROUTE, 1, 1, {M_F32}, {M_F32}, vk_op_topk},
    {SSMRT_OP_SELECTIVE_SCAN, 5, 1, F32x9, {M_F32, M_F32}, vk_op_scan},
    {SSMRT_OP_CONV1D_CAUSAL, 2, 1, {M_F32, M_F32, M_F32, M_F32}, {M_F32, M_F32}, vk_op_conv1d},
    {SSMRT_OP_CONV_LONG, 2, 1, {M_F32, M_F32}, {M_F32}, vk_op_conv_long},
    /* Attention: q, k, v and y of one dtype (a row each, so a mix matches none). */
    {SSMRT_OP_ATTENTION, 3, 1, {M_F32, M_F32, M_F32}, {M_F32}, vk_op_attention},
    {SSMRT_OP_ATTENTION, 3, 1, {M_F16, M_F16, M_F16}, {M_F16}, vk_op_attention},
    {SSMRT_OP_ATTENTION, 3, 1, {M_BF16, M_BF16, M_BF16}, {M_BF16}, vk_op_attention},
};

/* Present: a buffer (at enqueue) or dims (the host asks supports() while building
 * a graph, before intermediates have buffers). Absent inputs are all zero. */
int vk_desc_present(const ssmrt_tensor_desc *t) { return t && (t->buffer != NULL || t->ndim != 0); }

int vk_opt_src(const ssmrt_op *op, uint32_t i) { return op->n_src > i && vk_desc_present(&op->src[i]); }
int vk_opt_dst(const ssmrt_op *op, uint32_t i) { return op->n_dst > i && vk_desc_present(&op->dst[i]); }

int64_t vk_desc_numel(const ssmrt_tensor_desc *t) {
    int64_t n = 1;
    for (uint32_t i = 0; i < t->ndim && i < SSMRT_MAX_DIMS; i++) n *= t->shape[i];
    return n;
}

void vk_desc_shape4(const ssmrt_tensor_desc *t, uint32_t shape[4], uint32_t stride[4]) {
    int pad = 4 - (int)t->ndim;
    for (int i = 0; i < 4; i++) {
        shape[i] = i < pad ? 1u : (uint32_t)t->shape[i - pad];
        stride[i] = i < pad ? 0u : (uint32_t)t->stride[i - pad];
    }
}

static const char *const k_names[SSMRT_OP_KIND_COUNT] = {
    "copy", "add", "mul", "scale", "silu", "sigmoid", "softplus", "gelu", "exp",
    "softmax", "rms_norm", "rms_norm_gated", "layer_norm", "matmul", "embedding",
    "topk_route", "selective_scan", "conv1d_causal", "conv_long", "attention"};

const char *vk_op_name(uint32_t kind) { return kind < SSMRT_OP_KIND_COUNT ? k_names[kind] : "?"; }

vk_pipeline_key vk_key(uint32_t kernel, uint32_t lx, uint32_t ly, uint32_t lz, uint32_t n_extra,
                       const uint32_t *extra) {
    vk_pipeline_key k;
    memset(&k, 0, sizeof k);
    k.kernel = kernel;
    k.spec[0] = lx;
    k.spec[1] = ly;
    k.spec[2] = lz;
    for (uint32_t i = 0; i < n_extra && i < 13; i++) k.spec[3 + i] = extra[i];
    k.n_spec = 3 + (n_extra < 13 ? n_extra : 13);
    return k;
}

uint32_t vk_kernel16(const vk_device *d, uint32_t kernel_plain, uint32_t kernel_s16) {
    return d->caps.storage16 ? kernel_s16 : kernel_plain;
}

static const vk_op_row *lookup(const ssmrt_op *op) {
    for (size_t r = 0; r < sizeof k_table / sizeof k_table[0]; r++) {
        const vk_op_row *row = &k_table[r];
        if (ssmrt_op_matches(op, row->kind, row->min_src, row->min_dst, row->src, row->dst))
            return row;
    }
    return NULL;
}

int vk_abi_supports(void *device, const ssmrt_op *op) {
    (void)device;
    return lookup(op) != NULL;
}

int vk_abi_enqueue(void *device, const ssmrt_op *op) {
    vk_device *d = device;
    const vk_op_row *row = lookup(op);
    if (!row)
        return vk_error(SSMRT_ERR_UNSUPPORTED, "vulkan: no kernel for %s with these dtypes",
                        op ? vk_op_name(op->kind) : "(null op)");
    if (d->lost) return vk_error(SSMRT_ERR_BACKEND, "vulkan: the device was lost");
    return row->fn(d, op);
}
