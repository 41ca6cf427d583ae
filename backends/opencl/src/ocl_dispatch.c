/* The op table: one row per kernel family with the dtypes it accepts. supports()
 * and enqueue() both look ops up here, so a claim cannot drift from a kernel. */
#include <string.h>

#include "ocl.h"
#include "ocl_api.h"

#define F SSMRT_MASK_F32
#define H SSMRT_MASK_F16
#define BH SSMRT_MASK_BF16
#define W SSMRT_MASK_FLOAT
#define I SSMRT_MASK_I32
#define ANY (W | I)

typedef struct op_entry {
    uint32_t kind;
    uint8_t min_src, min_dst;      /* leading slots that must be present */
    uint8_t src[SSMRT_OP_MAX_SRC]; /* accepted dtypes per slot */
    uint8_t dst[SSMRT_OP_MAX_DST];
    ssmrt_ocl_op_fn fn;
} op_entry;

static const op_entry op_table[] = {
    {SSMRT_OP_COPY, 1, 1, {ANY}, {ANY}, ssmrt_ocl_op_copy},
    {SSMRT_OP_ADD, 2, 1, {F, F}, {F}, ssmrt_ocl_op_binary},
    {SSMRT_OP_MUL, 2, 1, {F, F}, {F}, ssmrt_ocl_op_binary},
    {SSMRT_OP_SCALE, 1, 1, {F}, {F}, ssmrt_ocl_op_unary},
    {SSMRT_OP_SILU, 1, 1, {F}, {F}, ssmrt_ocl_op_unary},
    {SSMRT_OP_SIGMOID, 1, 1, {F}, {F}, ssmrt_ocl_op_unary},
    {SSMRT_OP_SOFTPLUS, 1, 1, {F}, {F}, ssmrt_ocl_op_unary},
    {SSMRT_OP_GELU, 1, 1, {F}, {F}, ssmrt_ocl_op_unary},
    {SSMRT_OP_EXP, 1, 1, {F}, {F}, ssmrt_ocl_op_unary},
    {SSMRT_OP_SOFTMAX, 1, 1, {F}, {F}, ssmrt_ocl_op_softmax},
    {SSMRT_OP_RMS_NORM, 2, 1, {F, F}, {F}, ssmrt_ocl_op_norm},
    {SSMRT_OP_RMS_NORM_GATED, 3, 1, {F, F, F}, {F}, ssmrt_ocl_op_norm},
    {SSMRT_OP_LAYER_NORM, 2, 1, {F, F, F}, {F}, ssmrt_ocl_op_norm},
    {SSMRT_OP_MATMUL, 2, 1, {F, W, F}, {F}, ssmrt_ocl_op_matmul},
    {SSMRT_OP_EMBEDDING, 2, 1, {W, I}, {F}, ssmrt_ocl_op_embedding},
    {SSMRT_OP_TOPK_ROUTE, 1, 1, {F}, {F}, ssmrt_ocl_op_topk_route},
    {SSMRT_OP_SELECTIVE_SCAN, 5, 1, {F, F, F, F, F, F, F, F, F}, {F, F},
     ssmrt_ocl_op_selective_scan},
    {SSMRT_OP_CONV1D_CAUSAL, 2, 1, {F, F, F, F}, {F, F}, ssmrt_ocl_op_conv1d_causal},
    {SSMRT_OP_CONV_LONG, 2, 1, {F, F}, {F}, ssmrt_ocl_op_conv_long},
    /* Attention: q, k, v and o of one dtype (a row each, so a mix matches none). */
    {SSMRT_OP_ATTENTION, 3, 1, {F, F, F}, {F}, ssmrt_ocl_op_attention},
    {SSMRT_OP_ATTENTION, 3, 1, {H, H, H}, {H}, ssmrt_ocl_op_attention},
    {SSMRT_OP_ATTENTION, 3, 1, {BH, BH, BH}, {BH}, ssmrt_ocl_op_attention},
};

static const op_entry *lookup(const ssmrt_op *op)
{
    for (size_t e = 0; e < sizeof op_table / sizeof op_table[0]; e++) {
        const op_entry *en = &op_table[e];
        if (ssmrt_op_matches(op, en->kind, en->min_src, en->min_dst, en->src, en->dst))
            return en;
    }
    return NULL;
}

int ssmrt_ocl_supports(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    (void)dev;
    return lookup(op) != NULL;
}

int ssmrt_ocl_enqueue(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const op_entry *en = lookup(op);
    if (!en)
        return ssmrt_ocl_fail(SSMRT_ERR_UNSUPPORTED, "no kernel for op kind %u with these dtypes",
                              op->kind);
    for (uint32_t i = 0; i < op->n_src; i++) {
        int st = ssmrt_ocl_check_tensor(&op->src[i], "input");
        if (st != SSMRT_OK)
            return st;
    }
    for (uint32_t i = 0; i < op->n_dst; i++) {
        int st = ssmrt_ocl_check_tensor(&op->dst[i], "output");
        if (st != SSMRT_OK)
            return st;
    }
    return en->fn(dev, op);
}

int ssmrt_ocl_api_supports(void *device, const ssmrt_op *op)
{
    return ssmrt_ocl_supports(device, op);
}

int ssmrt_ocl_api_enqueue(void *device, const ssmrt_op *op)
{
    return ssmrt_ocl_enqueue(device, op);
}

/* ---------------------------------------------------------------------- */
/* Tensor helpers                                                          */
/* ---------------------------------------------------------------------- */

int64_t ssmrt_ocl_numel(const ssmrt_tensor_desc *t)
{
    int64_t n = 1;
    for (uint32_t i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

void ssmrt_ocl_rows(const ssmrt_tensor_desc *t, int64_t *rows, int64_t *cols)
{
    int64_t c = t->ndim > 0 ? t->shape[t->ndim - 1] : 1;
    int64_t n = ssmrt_ocl_numel(t);
    *cols = c;
    *rows = c > 0 ? n / c : 0;
}

int ssmrt_ocl_check_tensor(const ssmrt_tensor_desc *t, const char *what)
{
    if (t->ndim == 0)
        return SSMRT_OK; /* absent */
    if (!t->buffer)
        return ssmrt_ocl_fail(SSMRT_ERR_INVALID_ARGUMENT, "%s has a shape but no buffer", what);
    if (t->ndim > SSMRT_MAX_DIMS || t->dtype >= SSMRT_DTYPE_COUNT)
        return ssmrt_ocl_fail(SSMRT_ERR_INVALID_ARGUMENT, "%s: bad descriptor (ndim %u, dtype %u)",
                              what, t->ndim, t->dtype);
    uint64_t es = t->dtype == SSMRT_F16 || t->dtype == SSMRT_BF16 ? 2 : 4;
    if (t->offset % es != 0)
        return ssmrt_ocl_fail(SSMRT_ERR_INVALID_ARGUMENT,
                              "%s: byte offset %llu is not a multiple of the element size %llu",
                              what, (unsigned long long)t->offset, (unsigned long long)es);
    /* The furthest element a kernel may touch must lie inside the buffer. */
    const ssmrt_ocl_buffer *b = t->buffer;
    uint64_t last = 0;
    for (uint32_t i = 0; i < t->ndim; i++) {
        if (t->shape[i] <= 0)
            return SSMRT_OK; /* empty: no element is touched */
        if (t->stride[i] < 0)
            return ssmrt_ocl_fail(SSMRT_ERR_INVALID_ARGUMENT, "%s: negative stride", what);
        last += (uint64_t)(t->shape[i] - 1) * (uint64_t)t->stride[i];
    }
    if (t->offset + (last + 1) * es > b->bytes)
        return ssmrt_ocl_fail(SSMRT_ERR_INVALID_ARGUMENT,
                              "%s: a view reaching byte %llu of a %llu-byte buffer", what,
                              (unsigned long long)(t->offset + (last + 1) * es),
                              (unsigned long long)b->bytes);
    return SSMRT_OK;
}
