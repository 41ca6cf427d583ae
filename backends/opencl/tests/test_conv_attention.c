/* Causal conv1d (state in/out, aliased, L shorter than the window), long
 * convolution, and attention (GQA, KV prefix, strided views, big head dims). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_conv1d(void)
{
    int64_t cfg[][4] = {{2, 9, 5, 4}, {1, 1, 6, 4}, {1, 2, 3, 5}, {3, 33, 17, 1}, {1, 64, 40, 3}};
    for (size_t ci = 0; ci < sizeof cfg / sizeof cfg[0]; ci++) {
        int64_t B = cfg[ci][0], L = cfg[ci][1], D = cfg[ci][2], W = cfg[ci][3];
        int64_t NX = B * L * D, NS = B * D * (W - 1);
        float *x = malloc(4 * NX), *w = malloc(4 * D * W), *bias = malloc(4 * D);
        float *s0 = malloc(4 * (NS + 1)), *got = malloc(4 * NX), *gs = malloc(4 * (NS + 1));
        double *ref = malloc(8 * NX), *rs = malloc(8 * (NS + 1));
        t_rand(x, NX, -1, 1);
        t_rand(w, D * W, -1, 1);
        t_rand(bias, D, -1, 1);
        t_rand(s0, NS, -1, 1);
        for (int silu = 0; silu < 2; silu++) {
            for (int64_t b = 0; b < B; b++)
                for (int64_t d = 0; d < D; d++) {
                    /* xx = state then x along time. */
                    double *xx = malloc(8 * (W - 1 + L));
                    for (int64_t t = 0; t < W - 1; t++)
                        xx[t] = s0[(b * D + d) * (W - 1) + t];
                    for (int64_t t = 0; t < L; t++)
                        xx[W - 1 + t] = x[(b * L + t) * D + d];
                    for (int64_t l = 0; l < L; l++) {
                        double acc = bias[d];
                        for (int64_t j = 0; j < W; j++)
                            acc += w[d * W + j] * xx[l + j];
                        ref[(b * L + l) * D + d] = silu ? acc / (1 + exp(-acc)) : acc;
                    }
                    for (int64_t i = 0; i < W - 1; i++)
                        rs[(b * D + d) * (W - 1) + i] = xx[L + i];
                    free(xx);
                }
            int64_t xs[3] = {B, L, D}, wsh[2] = {D, W}, bs[1] = {D}, ss[3] = {B, D, W - 1};
            t_tensor tx = t_make(SSMRT_F32, 3, xs, x), tw = t_make(SSMRT_F32, 2, wsh, w);
            t_tensor tb = t_make(SSMRT_F32, 1, bs, bias), ty = t_make(SSMRT_F32, 3, xs, NULL);
            t_tensor ts = t_make(SSMRT_F32, 3, ss, s0);
            const t_tensor *src[4] = {&tx, &tw, &tb, W > 1 ? &ts : NULL};
            const t_tensor *dst[2] = {&ty, &ts};
            ssmrt_op op = t_op(SSMRT_OP_CONV1D_CAUSAL, 4, src, W > 1 ? 2 : 1, dst);
            op.params.conv.silu = silu;
            CHECK(t_run(&op) == 0, "conv1d: %s", T_last_error);
            t_read(&ty, got);
            double e = t_err(got, ref, NX, 1e-6, 1e-5);
            CHECK(e <= 1, "conv1d B=%lld L=%lld D=%lld W=%lld silu=%d: error %g", (long long)B,
                  (long long)L, (long long)D, (long long)W, silu, e);
            if (W > 1) {
                t_read(&ts, gs);
                e = t_err(gs, rs, NS, 0, 1e-7);
                CHECK(e <= 1, "conv1d L=%lld W=%lld: state (in place) error %g", (long long)L,
                      (long long)W, e);
            }
            t_free(&tx); t_free(&tw); t_free(&tb); t_free(&ty); t_free(&ts);
        }
        free(x); free(w); free(bias); free(s0); free(got); free(gs); free(ref); free(rs);
    }
}

static void test_conv_long(void)
{
    int64_t cfg[][4] = {{1, 1, 3, 1}, {2, 37, 5, 40}, {1, 200, 19, 200}};
    for (size_t ci = 0; ci < sizeof cfg / sizeof cfg[0]; ci++) {
        int64_t B = cfg[ci][0], L = cfg[ci][1], D = cfg[ci][2], Lk = cfg[ci][3];
        float *x = malloc(4 * B * L * D), *k = malloc(4 * D * Lk), *got = malloc(4 * B * L * D);
        double *ref = malloc(8 * B * L * D);
        t_rand(x, B * L * D, -1, 1);
        t_rand(k, D * Lk, -1, 1);
        double worst = 0;
        int64_t xs[3] = {B, L, D}, ks[2] = {D, Lk};
        t_tensor tx = t_make(SSMRT_F32, 3, xs, x), tk = t_make(SSMRT_F32, 2, ks, k);
        t_tensor ty = t_make(SSMRT_F32, 3, xs, NULL);
        const t_tensor *src[2] = {&tx, &tk}, *dst[1] = {&ty};
        ssmrt_op op = t_op(SSMRT_OP_CONV_LONG, 2, src, 1, dst);
        CHECK(t_run(&op) == 0, "conv_long: %s", T_last_error);
        t_read(&ty, got);
        for (int64_t b = 0; b < B; b++)
            for (int64_t l = 0; l < L; l++)
                for (int64_t d = 0; d < D; d++) {
                    double acc = 0, mag = 0;
                    for (int64_t j = 0; j <= l; j++) {
                        double t = (double)k[d * Lk + j] * x[(b * L + l - j) * D + d];
                        acc += t;
                        mag += fabs(t);
                    }
                    double tol = (l + 2) * 6e-8 * mag + 1e-30; /* l+1 f32 roundings */
                    double e = fabs(got[(b * L + l) * D + d] - acc) / tol;
                    if (!(e <= worst))
                        worst = e;
                }
        CHECK(worst <= 1, "conv_long B=%lld L=%lld D=%lld: error %g", (long long)B, (long long)L,
              (long long)D, worst);
        t_free(&tx); t_free(&tk); t_free(&ty);
        free(x); free(k); free(got); free(ref);
    }
}

/* q [B, Lq, Hq, Dh]; k, v are the first Lk positions of a cache of Lc >= Lk. */
static void test_attention_case(int64_t B, int64_t Lq, int64_t Lk, int64_t Hq, int64_t Hk,
                                int64_t Dh, int64_t Lc)
{
    int64_t NQ = B * Lq * Hq * Dh, NC = B * Lc * Hk * Dh;
    float *q = malloc(4 * NQ), *k = malloc(4 * NC), *v = malloc(4 * NC), *got = malloc(4 * NQ);
    double *ref = malloc(8 * NQ);
    t_rand(q, NQ, -1, 1);
    t_rand(k, NC, -1, 1);
    t_rand(v, NC, -1, 1);
    double scale = 1 / sqrt((double)Dh);
    double *p = malloc(8 * Lk);
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < Lq; i++)
            for (int64_t h = 0; h < Hq; h++) {
                int64_t hk = h / (Hq / Hk), pos = Lk - Lq + i;
                double m = -INFINITY, sum = 0;
                for (int64_t j = 0; j <= pos; j++) {
                    double s = 0;
                    for (int64_t d = 0; d < Dh; d++)
                        s += (double)q[((b * Lq + i) * Hq + h) * Dh + d] *
                             k[((b * Lc + j) * Hk + hk) * Dh + d];
                    p[j] = s * scale;
                    m = fmax(m, p[j]);
                }
                for (int64_t j = 0; j <= pos; j++)
                    sum += (p[j] = exp(p[j] - m));
                for (int64_t d = 0; d < Dh; d++) {
                    double acc = 0;
                    for (int64_t j = 0; j <= pos; j++)
                        acc += p[j] * v[((b * Lc + j) * Hk + hk) * Dh + d];
                    ref[((b * Lq + i) * Hq + h) * Dh + d] = acc / sum;
                }
            }
    int64_t qs[4] = {B, Lq, Hq, Dh}, cs[4] = {B, Lc, Hk, Dh};
    t_tensor tq = t_make(SSMRT_F32, 4, qs, q), tk = t_make(SSMRT_F32, 4, cs, k);
    t_tensor tv = t_make(SSMRT_F32, 4, cs, v), to = t_make(SSMRT_F32, 4, qs, NULL);
    tk.d.shape[1] = Lk; /* a prefix view of the cache: strides unchanged */
    tv.d.shape[1] = Lk;
    const t_tensor *src[3] = {&tq, &tk, &tv}, *dst[1] = {&to};
    ssmrt_op op = t_op(SSMRT_OP_ATTENTION, 3, src, 1, dst);
    op.params.attention.scale = (float)scale;
    CHECK(t_run(&op) == 0, "attention: %s", T_last_error);
    t_read(&to, got);
    /* Outputs are convex combinations of v in [-1, 1]; scores have O(Dh) f32 terms. */
    double e = t_err(got, ref, NQ, 2e-6 * sqrt((double)Dh), 1e-5);
    CHECK(e <= 1, "attention B=%lld Lq=%lld Lk=%lld Hq=%lld Hk=%lld Dh=%lld: error %g",
          (long long)B, (long long)Lq, (long long)Lk, (long long)Hq, (long long)Hk, (long long)Dh,
          e);
    t_free(&tq); t_free(&tk); t_free(&tv); t_free(&to);
    free(q); free(k); free(v); free(got); free(ref); free(p);
}

void test_conv_attention(void)
{
    test_conv1d();
    test_conv_long();
    test_attention_case(1, 1, 1, 1, 1, 8, 1);
    test_attention_case(2, 37, 37, 4, 2, 24, 37);  /* prefill, GQA, odd head dim */
    test_attention_case(1, 1, 50, 6, 3, 64, 80);   /* decode against a cache prefix */
    test_attention_case(1, 5, 130, 2, 1, 128, 140);
    test_attention_case(1, 70, 100, 2, 2, 16, 100);
    test_attention_case(1, 3, 9, 2, 1, 300, 12);   /* head dim beyond the tiled kernel */
}
