/*
 * ref_conv.c: float64 reference of CONV1D_CAUSAL and CONV_LONG.
 */
#include <stdlib.h>

#include "ref_tensor.h"

/* conv1d_causal: xx = state (W-1 steps, oldest first) followed by x along time;
 * y[b,l,d] = bias[d] + sum_{j<W} w[d,j] * xx[b, l+j, d], then SiLU if asked;
 * state_out gets the last W-1 steps of xx. */
int cpu_ref_conv1d_causal(const ssmrt_op *op) {
    cpu_conv_dims d;
    int rc = cpu_shape_conv(op, &d);
    if (rc) return rc;
    ref_view x, w, bias, st, y, st_out;
    ref_view_init(&x, &op->src[SSMRT_CONV_X]);
    ref_view_init(&w, &op->src[SSMRT_CONV_W]);
    if (d.has_bias) ref_view_init(&bias, &op->src[SSMRT_CONV_BIAS]);
    if (d.has_state) ref_view_init(&st, &op->src[SSMRT_CONV_STATE]);
    ref_view_init(&y, &op->dst[0]);
    if (d.has_state_out) ref_view_init(&st_out, &op->dst[1]);

    int64_t S = d.W - 1, T = S + d.L;
    double *xx = malloc(sizeof(double) * (size_t)(T > 0 ? T : 1));
    if (!xx) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: conv1d_causal: out of memory");
    for (int64_t b = 0; b < d.B; b++)
        for (int64_t c = 0; c < d.D; c++) {
            /* Gather the whole padded sequence first: state_out may alias state. */
            for (int64_t t = 0; t < S; t++) xx[t] = d.has_state ? ref_load(&st, (b * d.D + c) * S + t) : 0.0;
            for (int64_t l = 0; l < d.L; l++) xx[S + l] = ref_load(&x, (b * d.L + l) * d.D + c);
            for (int64_t l = 0; l < d.L; l++) {
                double acc = d.has_bias ? ref_load(&bias, c) : 0.0;
                for (int64_t j = 0; j < d.W; j++) acc += ref_load(&w, c * d.W + j) * xx[l + j];
                if (op->params.conv.silu) acc = ref_silu(acc);
                ref_store(&y, (b * d.L + l) * d.D + c, acc);
            }
            if (d.has_state_out)
                for (int64_t t = 0; t < S; t++) ref_store(&st_out, (b * d.D + c) * S + t, xx[d.L + t]);
        }
    free(xx);
    return 0;
}

/* conv_long: y[b,l,d] = sum_{j=0..l} kernel[d,j] * x[b,l-j,d]. */
int cpu_ref_conv_long(const ssmrt_op *op) {
    int64_t B, L, D, Lk;
    int rc = cpu_shape_conv_long(op, &B, &L, &D, &Lk);
    if (rc) return rc;
    ref_view x, k, y;
    ref_view_init(&x, &op->src[0]);
    ref_view_init(&k, &op->src[1]);
    ref_view_init(&y, &op->dst[0]);
    for (int64_t b = 0; b < B; b++)
        for (int64_t l = 0; l < L; l++)
            for (int64_t c = 0; c < D; c++) {
                double acc = 0.0;
                for (int64_t j = 0; j <= l; j++)
                    acc += ref_load(&k, c * Lk + j) * ref_load(&x, (b * L + l - j) * D + c);
                ref_store(&y, (b * L + l) * D + c, acc);
            }
    return 0;
}
