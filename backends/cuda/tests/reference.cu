/*
 * reference.cu: float64 host reference of the selective scan for the CUDA
 * self-test, written from the semantics in ssmrt.h (not from the kernels).
 */
#include <math.h>
#include <string.h>

#include "selftest.h"

void ref_selective_scan(const scan_case *c, const float *u, const float *delta, const float *A,
                        const float *Bm, const float *Cm, const float *D, const float *z,
                        const float *bias, const float *state, double *y, double *state_out) {
    int64_t HP = c->H * c->P, hpg = c->H / c->G;
    for (int64_t b = 0; b < c->B; b++)
        for (int64_t h = 0; h < c->H; h++)
            for (int64_t p = 0; p < c->P; p++) {
                int64_t g = h / hpg, ch = h * c->P + p;
                double s[512];
                for (int64_t n = 0; n < c->N; n++)
                    s[n] = state ? state[(b * HP + ch) * c->N + n] : 0.0;
                for (int64_t t = 0; t < c->L; t++) {
                    double dt = delta[(b * c->L + t) * c->H + h] + (bias ? bias[h] : 0.0);
                    if (c->softplus) dt = dt > 20.0 ? dt : log1p(exp(dt));
                    double uu = u[(b * c->L + t) * HP + ch], acc = 0.0;
                    for (int64_t n = 0; n < c->N; n++) {
                        double a = c->mamba2 ? A[h] : A[h * c->N + n];
                        int64_t bc = ((b * c->L + t) * c->G + g) * c->N + n;
                        s[n] = exp(dt * a) * s[n] + dt * Bm[bc] * uu;
                        acc += s[n] * Cm[bc];
                    }
                    acc += (D ? D[h] : 0.0) * uu;
                    if (z) {
                        double zz = z[(b * c->L + t) * HP + ch];
                        acc *= zz / (1.0 + exp(-zz));
                    }
                    y[(b * c->L + t) * HP + ch] = acc;
                }
                for (int64_t n = 0; n < c->N; n++) state_out[(b * HP + ch) * c->N + n] = s[n];
            }
}
