/*
 * ssmrt_backend_contract.h: header-only helpers for plugins, so every backend reads
 * the kernel contract of ssmrt_backend.h the same way: which slots of an op are
 * present, whether an op's dtypes match a dispatch-table row, and how many bytes a
 * (possibly strided) descriptor reaches. Plugins cannot link libssmrt, so these are
 * static inline; they allocate nothing and have no state.
 */
#ifndef SSMRT_BACKEND_CONTRACT_H
#define SSMRT_BACKEND_CONTRACT_H

#include "ssmrt_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Dtype masks for dispatch-table rows: bit (1 << ssmrt_dtype). */
enum {
    SSMRT_MASK_F32 = 1u << SSMRT_F32,
    SSMRT_MASK_F16 = 1u << SSMRT_F16,
    SSMRT_MASK_BF16 = 1u << SSMRT_BF16,
    SSMRT_MASK_I32 = 1u << SSMRT_I32,
    SSMRT_MASK_FLOAT = SSMRT_MASK_F32 | SSMRT_MASK_F16 | SSMRT_MASK_BF16,
    SSMRT_MASK_ANY = SSMRT_MASK_FLOAT | SSMRT_MASK_I32
};

/* An input or output slot is present when it has dims (supports() sees no buffers). */
static inline int ssmrt_desc_present(const ssmrt_tensor_desc *d)
{
    return d->ndim != 0;
}

static inline int ssmrt__slot_matches(const ssmrt_tensor_desc *d, unsigned mask, int required)
{
    if (!ssmrt_desc_present(d))
        return !required;
    return d->dtype < SSMRT_DTYPE_COUNT && (mask & (1u << d->dtype));
}

/* 1 if op is of `kind`, its first min_src sources and min_dst destinations are
 * present, and every present slot's dtype is in that slot's mask (a present input
 * in a slot whose mask is 0 matches nothing). The op's header is checked too, so a
 * table lookup is safe on any op the host hands over. */
static inline int ssmrt_op_matches(const ssmrt_op *op, uint32_t kind, unsigned min_src,
                                   unsigned min_dst, const uint8_t *src_masks,
                                   const uint8_t *dst_masks)
{
    if (!op || op->struct_size < sizeof(ssmrt_op) || op->kind != kind ||
        op->n_src > SSMRT_OP_MAX_SRC || op->n_dst > SSMRT_OP_MAX_DST || op->n_src < min_src ||
        op->n_dst < min_dst)
        return 0;
    for (uint32_t i = 0; i < op->n_src; i++)
        if (!ssmrt__slot_matches(&op->src[i], src_masks[i], i < min_src))
            return 0;
    for (uint32_t i = 0; i < op->n_dst; i++)
        if (!ssmrt__slot_matches(&op->dst[i], dst_masks[i], i < min_dst))
            return 0;
    return 1;
}

typedef enum ssmrt_desc_span_status {
    SSMRT_DESC_SPAN_OK = 0,
    SSMRT_DESC_SPAN_NDIM,     /* more than SSMRT_MAX_DIMS dims */
    SSMRT_DESC_SPAN_NEGATIVE, /* a negative shape or stride (in *bad_dim) */
    SSMRT_DESC_SPAN_OVERFLOW  /* the extent does not fit 64 bits */
} ssmrt_desc_span_status;

/* Bytes from a descriptor's first element to one past its last, for elements of
 * elem_size bytes: 0 for an empty tensor. Callers compare offset + bytes with their
 * buffer's size. */
static inline ssmrt_desc_span_status ssmrt_desc_span_bytes(const ssmrt_tensor_desc *d,
                                                           uint64_t elem_size, uint64_t *bytes,
                                                           uint32_t *bad_dim)
{
    *bytes = 0;
    if (d->ndim > SSMRT_MAX_DIMS)
        return SSMRT_DESC_SPAN_NDIM;
    uint64_t extent = 1; /* elements from the first to one past the last */
    for (uint32_t k = 0; k < d->ndim; k++) {
        if (d->shape[k] < 0 || d->stride[k] < 0) {
            *bad_dim = k;
            return SSMRT_DESC_SPAN_NEGATIVE;
        }
        if (d->shape[k] == 0)
            return SSMRT_DESC_SPAN_OK; /* empty: touches nothing */
        uint64_t span;
        if (__builtin_mul_overflow((uint64_t)(d->shape[k] - 1), (uint64_t)d->stride[k], &span) ||
            __builtin_add_overflow(extent, span, &extent))
            return SSMRT_DESC_SPAN_OVERFLOW;
    }
    if (__builtin_mul_overflow(extent, elem_size, bytes)) {
        *bytes = 0;
        return SSMRT_DESC_SPAN_OVERFLOW;
    }
    return SSMRT_DESC_SPAN_OK;
}

#ifdef __cplusplus
}
#endif
#endif /* SSMRT_BACKEND_CONTRACT_H */
