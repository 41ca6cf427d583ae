/*
 * ref_attention.c: float64 reference of causal grouped-query ATTENTION.
 *
 * Query i of Lq sits at absolute position Lk - Lq + i and attends keys
 * 0..Lk-Lq+i; query head h reads kv head h / (Hq / Hk). Plain two passes per
 * query (scores, then the softmax-weighted sum of v) in double, with O(Lk)
 * memory for one query's scores: the oracle for the fast online-softmax kernel.
 */
#include <math.h>
#include <stdlib.h>

#include "ref_tensor.h"

int cpu_ref_attention(const ssmrt_op *op) {
    cpu_attn_dims d;
    int rc = cpu_shape_attention(op, &d);
    if (rc) return rc;
    ref_view q, k, v, y;
    ref_view_init(&q, &op->src[0]);
    ref_view_init(&k, &op->src[1]);
    ref_view_init(&v, &op->src[2]);
    ref_view_init(&y, &op->dst[0]);
    double scale = op->params.attention.scale;
    double *sc = malloc(sizeof(double) * (size_t)(d.Lk > 0 ? d.Lk : 1));
    if (!sc) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: attention: out of memory");
    int64_t group = d.Hq / d.Hk;
    for (int64_t b = 0; b < d.B; b++)
        for (int64_t i = 0; i < d.Lq; i++)
            for (int64_t h = 0; h < d.Hq; h++) {
                int64_t kh = h / group, last = d.Lk - d.Lq + i;
                int64_t qbase = ((b * d.Lq + i) * d.Hq + h) * d.Dh;
                double m = -INFINITY;
                for (int64_t j = 0; j <= last; j++) {
                    int64_t kbase = ((b * d.Lk + j) * d.Hk + kh) * d.Dh;
                    double dot = 0.0;
                    for (int64_t e = 0; e < d.Dh; e++) dot += ref_load(&q, qbase + e) * ref_load(&k, kbase + e);
                    sc[j] = dot * scale;
                    m = fmax(m, sc[j]);
                }
                double sum = 0.0;
                for (int64_t j = 0; j <= last; j++) sum += (sc[j] = exp(sc[j] - m));
                int64_t ybase = ((b * d.Lq + i) * d.Hq + h) * d.Dv;
                for (int64_t e = 0; e < d.Dv; e++) {
                    double acc = 0.0;
                    for (int64_t j = 0; j <= last; j++)
                        acc += sc[j] * ref_load(&v, ((b * d.Lk + j) * d.Hk + kh) * d.Dv + e);
                    ref_store(&y, ybase + e, acc / sum);
                }
            }
    free(sc);
    return 0;
}
