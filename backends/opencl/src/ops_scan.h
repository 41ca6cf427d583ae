/* Shared by the selective scan's host files: the op's sizes, and the one-launch
 * prefill kernel (ops_scan_runs.c) that ops_scan.c prefers when it applies. */
#ifndef SSMRT_OCL_OPS_SCAN_H
#define SSMRT_OCL_OPS_SCAN_H

#include "ocl.h"

typedef struct scan_shape {
    int64_t B, L, H, P, G, N;
    int a_scalar;
} scan_shape;

/* The tensor in slot i, or an absent one. */
const ssmrt_tensor_desc *ssmrt_ocl_scan_src(const ssmrt_op *op, uint32_t i);

/* Enqueues the scan as scan_runs.cl when the shape and device allow it and sets
 * *done; leaves *done 0 (and enqueues nothing) when they do not (N beyond the
 * layouts, too little local memory or too small a work-group). */
int ssmrt_ocl_scan_runs(ssmrt_ocl_device *dev, const ssmrt_op *op, const scan_shape *s,
                        int *done);

#endif
