/*
 * ref_linalg.c: float64 reference of MATMUL, EMBEDDING and TOPK_ROUTE.
 */
#include <math.h>
#include <stdlib.h>

#include "ref_tensor.h"

int cpu_ref_matmul(const ssmrt_op *op) {
    int64_t M, N, K;
    int rc = cpu_shape_matmul(op, &M, &N, &K);
    if (rc) return rc;
    int has_bias = op->n_src > 2 && cpu_desc_present(&op->src[2]);
    ref_view x, w, b, y;
    ref_view_init(&x, &op->src[0]);
    ref_view_init(&w, &op->src[1]);
    if (has_bias) ref_view_init(&b, &op->src[2]);
    ref_view_init(&y, &op->dst[0]);
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double acc = has_bias ? ref_load(&b, n) : 0.0;
            for (int64_t k = 0; k < K; k++) acc += ref_load(&x, m * K + k) * ref_load(&w, n * K + k);
            ref_store(&y, m * N + n, acc);
        }
    return 0;
}

int cpu_ref_embedding(const ssmrt_op *op) {
    int64_t M, V, D;
    int rc = cpu_shape_embedding(op, &M, &V, &D);
    if (rc) return rc;
    ref_view t, ids, y;
    ref_view_init(&t, &op->src[0]);
    ref_view_init(&ids, &op->src[1]);
    ref_view_init(&y, &op->dst[0]);
    for (int64_t m = 0; m < M; m++) {
        /* An id outside [0, V) gives a row of zeros (ssmrt.h); sessions check ids. */
        double id = ref_load(&ids, m);
        int valid = id >= 0 && id < (double)V;
        for (int64_t d = 0; d < D; d++)
            ref_store(&y, m * D + d, valid ? ref_load(&t, (int64_t)id * D + d) : 0.0);
    }
    return 0;
}

int cpu_ref_topk_route(const ssmrt_op *op) {
    int64_t T, E, k;
    int rc = cpu_shape_topk(op, &T, &E, &k);
    if (rc) return rc;
    ref_view x, y;
    ref_view_init(&x, &op->src[0]);
    ref_view_init(&y, &op->dst[0]);
    double *p = malloc(sizeof(double) * (size_t)(E ? E : 1));
    unsigned char *keep = malloc((size_t)(E ? E : 1));
    if (!p || !keep) {
        free(p);
        free(keep);
        return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: topk_route: out of memory");
    }
    for (int64_t t = 0; t < T; t++) {
        int64_t base = t * E;
        double m = -INFINITY, sum = 0.0;
        for (int64_t e = 0; e < E; e++) m = fmax(m, ref_load(&x, base + e));
        for (int64_t e = 0; e < E; e++) sum += (p[e] = exp(ref_load(&x, base + e) - m));
        for (int64_t e = 0; e < E; e++) {
            p[e] /= sum;
            keep[e] = 0;
        }
        /* k rounds of "largest not yet kept"; the strict > keeps the lower index
         * on ties. Softmax is monotone, so the k largest p are the k largest
         * logits: comparing the logits themselves means two distinct logits can
         * never tie through rounding of p. */
        double kept_sum = 0.0;
        for (int64_t r = 0; r < k; r++) {
            int64_t best = -1;
            for (int64_t e = 0; e < E; e++)
                if (!keep[e] && (best < 0 || ref_load(&x, base + e) > ref_load(&x, base + best)))
                    best = e;
            if (best < 0) break; /* E == 0 */
            keep[best] = 1;
            kept_sum += p[best];
        }
        int renorm = op->params.topk.renormalize != 0;
        for (int64_t e = 0; e < E; e++)
            ref_store(&y, base + e, keep[e] ? (renorm ? p[e] / kept_sum : p[e]) : 0.0);
    }
    free(p);
    free(keep);
    return 0;
}
