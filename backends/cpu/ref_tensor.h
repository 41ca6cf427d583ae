/*
 * ref_tensor.h: element access for the float64 reference kernels.
 *
 * A ref_view reads and writes one tensor descriptor by its row-major logical
 * index, honouring the descriptor's own shape, strides, offset and dtype. Every
 * load gives a double and every store rounds once from double to the storage
 * dtype. Slow on purpose: the reference is written to be obviously right.
 */
#ifndef SSMRT_CPU_REF_TENSOR_H
#define SSMRT_CPU_REF_TENSOR_H

#include "cpu_internal.h"

typedef struct ref_view {
    char *base;
    uint32_t dtype;
    uint32_t ndim;
    int contiguous;
    int64_t shape[SSMRT_MAX_DIMS];
    int64_t stride[SSMRT_MAX_DIMS];
} ref_view;

void ref_view_init(ref_view *v, const ssmrt_tensor_desc *d);
/* Element offset (in elements) of row-major logical index i. */
int64_t ref_view_offset(const ref_view *v, int64_t i);
double ref_load(const ref_view *v, int64_t i);
void ref_store(const ref_view *v, int64_t i, double x);

/* Scalar functions shared by several reference kernels. */
double ref_sigmoid(double x);
double ref_silu(double x);
double ref_softplus(double x); /* log(1 + exp(x)), x where x > 20 */

#endif
