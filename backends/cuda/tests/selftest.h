/*
 * selftest.h: shared declarations of the CUDA plugin's self-test.
 */
#ifndef SSMRT_CUDA_SELFTEST_H
#define SSMRT_CUDA_SELFTEST_H

#include <stdint.h>

typedef struct scan_case {
    int64_t B, L, H, P, G, N;
    int mamba2, softplus, with_d, with_z, with_bias, with_state;
} scan_case;

/* y [B, L, H, P] and state_out [B, H, P, N] in double. */
void ref_selective_scan(const scan_case *c, const float *u, const float *delta, const float *A,
                        const float *Bm, const float *Cm, const float *D, const float *z,
                        const float *bias, const float *state, double *y, double *state_out);

#endif
