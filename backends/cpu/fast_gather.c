/*
 * fast_gather.c: f32 EMBEDDING (row gather with dtype conversion) and
 * TOPK_ROUTE (softmax, keep the k largest, optional renormalisation).
 */
#include <string.h>

#include "fast_convert.h"
#include "fast_kernels.h"
#include "fast_math.h"

int cpu_fast_embedding(const ssmrt_op *op) {
    int64_t M, V, D;
    int rc = cpu_shape_embedding(op, &M, &V, &D);
    if (!rc) rc = cpu_fast_require_contiguous(op);
    if (rc) return rc;
    const char *table = cpu_desc_ptr(&op->src[0]);
    const int32_t *ids = cpu_desc_ptr(&op->src[1]);
    float *y = cpu_desc_ptr(&op->dst[0]);
    uint32_t dt = op->src[0].dtype, es = cpu_dtype_size(dt);
#pragma omp parallel for schedule(static) if (M * D >= 65536)
    for (int64_t m = 0; m < M; m++) {
        if (ids[m] < 0 || ids[m] >= V) /* a row of zeros, as ssmrt.h says */
            memset(y + m * D, 0, (size_t)D * 4);
        else
            fast_row_to_f32(dt, table + (int64_t)ids[m] * D * es, y + m * D, D);
    }
    return 0;
}

/* One row: softmax of x into y, then zero all but the k largest. */
static void topk_row(const float *x, float *y, int64_t E, int64_t k, int renorm,
                     unsigned char *keep) {
    float m = x[0];
    for (int64_t e = 1; e < E; e++) m = x[e] > m ? x[e] : m;
    float sum = 0.0f;
    for (int64_t e = 0; e < E; e++) sum += (y[e] = s_exp(x[e] - m));
    memset(keep, 0, (size_t)E);
    /* Largest logits first (softmax is monotone); strict > keeps the lower index
     * on ties, as the reference does. */
    float kept = 0.0f;
    for (int64_t r = 0; r < k; r++) {
        int64_t best = -1;
        for (int64_t e = 0; e < E; e++)
            if (!keep[e] && (best < 0 || x[e] > x[best])) best = e;
        keep[best] = 1;
        kept += y[best];
    }
    float scale = renorm ? 1.0f / kept : 1.0f / sum;
    for (int64_t e = 0; e < E; e++) y[e] = keep[e] ? y[e] * scale : 0.0f;
}

int cpu_fast_topk_route(const ssmrt_op *op) {
    int64_t T, E, k;
    int rc = cpu_shape_topk(op, &T, &E, &k);
    if (!rc) rc = cpu_fast_require_contiguous(op);
    if (rc || T == 0 || E == 0) return rc;
    const float *x = cpu_desc_ptr(&op->src[0]);
    float *y = cpu_desc_ptr(&op->dst[0]);
    unsigned char *keep = cpu_scratch_alloc((uint64_t)T * (uint64_t)E);
    if (!keep) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: topk_route: out of memory");
    int renorm = op->params.topk.renormalize != 0;
#pragma omp parallel for schedule(static) if (T * E * k >= 65536)
    for (int64_t t = 0; t < T; t++) topk_row(x + t * E, y + t * E, E, k, renorm, keep + t * E);
    cpu_scratch_free(keep);
    return 0;
}
