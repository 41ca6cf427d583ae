/*
 * ref_scan.c: float64 reference of SELECTIVE_SCAN, literally the recurrence of
 * ssmrt.h, one (b, h, p) at a time:
 *
 *   dt = delta[b,l,h] + delta_bias[h]; dt = softplus(dt) if delta_softplus
 *   s[n] = exp(dt * A[h,n]) * s[n] + dt * Bm[b,l,g,n] * u[b,l,h,p]
 *   y[b,l,h,p] = sum_n s[n] * Cm[b,l,g,n] + Dskip[h] * u[b,l,h,p]; y *= silu(z)
 *
 * The state of one (b, h, p) is read before and written after its sequence, so
 * state_out may be the same memory as state.
 */
#include <math.h>
#include <stdlib.h>

#include "ref_tensor.h"

int cpu_ref_selective_scan(const ssmrt_op *op) {
    cpu_scan_dims d;
    int rc = cpu_shape_scan(op, &d);
    if (rc) return rc;
    ref_view u, delta, A, Bm, Cm, Ds, z, bias, st, y, st_out;
    ref_view_init(&u, &op->src[SSMRT_SCAN_U]);
    ref_view_init(&delta, &op->src[SSMRT_SCAN_DELTA]);
    ref_view_init(&A, &op->src[SSMRT_SCAN_A]);
    ref_view_init(&Bm, &op->src[SSMRT_SCAN_B]);
    ref_view_init(&Cm, &op->src[SSMRT_SCAN_C]);
    if (d.has_d) ref_view_init(&Ds, &op->src[SSMRT_SCAN_D]);
    if (d.has_z) ref_view_init(&z, &op->src[SSMRT_SCAN_Z]);
    if (d.has_bias) ref_view_init(&bias, &op->src[SSMRT_SCAN_DELTA_BIAS]);
    if (d.has_state) ref_view_init(&st, &op->src[SSMRT_SCAN_STATE]);
    ref_view_init(&y, &op->dst[0]);
    if (d.has_state_out) ref_view_init(&st_out, &op->dst[1]);

    double *s = malloc(sizeof(double) * (size_t)d.N);
    if (!s) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: selective_scan: out of memory");
    int64_t heads_per_group = d.H / d.G;
    for (int64_t b = 0; b < d.B; b++)
        for (int64_t h = 0; h < d.H; h++)
            for (int64_t p = 0; p < d.P; p++) {
                int64_t g = h / heads_per_group;
                int64_t sbase = ((b * d.H + h) * d.P + p) * d.N;
                for (int64_t n = 0; n < d.N; n++) s[n] = d.has_state ? ref_load(&st, sbase + n) : 0.0;
                for (int64_t l = 0; l < d.L; l++) {
                    int64_t iu = ((b * d.L + l) * d.H + h) * d.P + p;
                    int64_t ibc = ((b * d.L + l) * d.G + g) * d.N;
                    double dt = ref_load(&delta, (b * d.L + l) * d.H + h);
                    if (d.has_bias) dt += ref_load(&bias, h);
                    if (op->params.scan.delta_softplus) dt = ref_softplus(dt);
                    double uv = ref_load(&u, iu), acc = 0.0;
                    for (int64_t n = 0; n < d.N; n++) {
                        double a = ref_load(&A, d.a_per_head ? h : h * d.N + n);
                        s[n] = exp(dt * a) * s[n] + dt * ref_load(&Bm, ibc + n) * uv;
                        acc += s[n] * ref_load(&Cm, ibc + n);
                    }
                    if (d.has_d) acc += ref_load(&Ds, h) * uv;
                    if (d.has_z) acc *= ref_silu(ref_load(&z, iu));
                    ref_store(&y, iu, acc);
                }
                if (d.has_state_out)
                    for (int64_t n = 0; n < d.N; n++) ref_store(&st_out, sbase + n, s[n]);
            }
    free(s);
    return 0;
}
