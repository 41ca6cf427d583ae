/* Matmul (every weight dtype, both kernels), embedding (incl. a bad id), top-k. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_matmul(void)
{
    /* M < 8 takes the row kernel, M >= 8 the tiled one; sizes straddle the tiles. */
    int64_t cases[][3] = {{1, 33, 70}, {3, 130, 17}, {8, 64, 64}, {70, 67, 129}, {130, 5, 300}};
    uint32_t dts[3] = {SSMRT_F32, SSMRT_F16, SSMRT_BF16};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        int64_t M = cases[ci][0], N = cases[ci][1], K = cases[ci][2];
        float *x = malloc(sizeof(float) * M * K), *w = malloc(sizeof(float) * N * K);
        float *bias = malloc(sizeof(float) * N), *got = malloc(sizeof(float) * M * N);
        double *ref = malloc(sizeof(double) * M * N);
        t_rand(x, M * K, -1, 1);
        t_rand(w, N * K, -1, 1);
        t_rand(bias, N, -1, 1);
        int64_t xs[2] = {M, K}, ws[2] = {N, K}, bs[1] = {N}, ys[2] = {M, N};
        t_tensor tx = t_make(SSMRT_F32, 2, xs, x), tb = t_make(SSMRT_F32, 1, bs, bias);
        t_tensor ty = t_make(SSMRT_F32, 2, ys, NULL);
        for (int di = 0; di < 3; di++) {
            float *wr = malloc(sizeof(float) * N * K);
            for (int64_t i = 0; i < N * K; i++)
                wr[i] = dts[di] == SSMRT_F16 ? t_round_f16(w[i])
                        : dts[di] == SSMRT_BF16 ? t_round_bf16(w[i]) : w[i];
            t_tensor tw = t_make(dts[di], 2, ws, wr);
            for (int with_bias = 0; with_bias < 2; with_bias++) {
                const t_tensor *s[3] = {&tx, &tw, with_bias ? &tb : NULL}, *d[1] = {&ty};
                ssmrt_op op = t_op(SSMRT_OP_MATMUL, 3, s, 1, d);
                CHECK(t_run(&op) == 0, "matmul: %s", T_last_error);
                t_read(&ty, got);
                double worst = 0;
                for (int64_t m = 0; m < M; m++)
                    for (int64_t n = 0; n < N; n++) {
                        double acc = with_bias ? bias[n] : 0, mag = fabs(acc);
                        for (int64_t k = 0; k < K; k++) {
                            acc += (double)x[m * K + k] * wr[n * K + k];
                            mag += fabs((double)x[m * K + k] * wr[n * K + k]);
                        }
                        /* f32 accumulation of K terms: |error| <= K * 2^-24 * sum |terms|. */
                        double tol = (K + 1) * 6e-8 * mag + 1e-30;
                        double e = fabs(got[m * N + n] - acc) / tol;
                        if (!(e <= worst))
                            worst = e;
                    }
                CHECK(worst <= 1, "matmul M=%lld N=%lld K=%lld dtype %u bias %d: error %g",
                      (long long)M, (long long)N, (long long)K, dts[di], with_bias, worst);
            }
            t_free(&tw);
            free(wr);
        }
        t_free(&tx); t_free(&tb); t_free(&ty);
        free(x); free(w); free(bias); free(got); free(ref);
    }
}

static void test_embedding(void)
{
    int64_t V = 11, D = 13, M = 6;
    float table[143], got[78];
    t_rand(table, V * D, -2, 2);
    float ids[6] = {3, 0, 10, 3, 7, 1};
    int64_t ts[2] = {V, D}, is[2] = {2, 3}, ys[3] = {2, 3, D};
    uint32_t dts[3] = {SSMRT_F32, SSMRT_F16, SSMRT_BF16};
    t_tensor tid = t_make(SSMRT_I32, 2, is, ids), ty = t_make(SSMRT_F32, 3, ys, NULL);
    for (int di = 0; di < 3; di++) {
        t_tensor tt = t_make(dts[di], 2, ts, table);
        const t_tensor *s[2] = {&tt, &tid}, *d[1] = {&ty};
        ssmrt_op op = t_op(SSMRT_OP_EMBEDDING, 2, s, 1, d);
        CHECK(t_run(&op) == 0, "embedding: %s", T_last_error);
        t_read(&ty, got);
        int bad = 0;
        for (int64_t m = 0; m < M; m++)
            for (int64_t dd = 0; dd < D; dd++) {
                float v = table[(int)ids[m] * D + dd];
                if (dts[di] != SSMRT_F32)
                    v = dts[di] == SSMRT_F16 ? t_round_f16(v) : t_round_bf16(v);
                bad += got[m * D + dd] != v;
            }
        CHECK(bad == 0, "embedding dtype %u: %d wrong", dts[di], bad);
        t_free(&tt);
    }
    /* An id outside [0, V) gives a row of zeros (the ABI's rule). */
    float bad_ids[6] = {1, 2, 11, 0, -1, 4};
    t_tensor tb = t_make(SSMRT_I32, 2, is, bad_ids);
    t_tensor tt = t_make(SSMRT_F32, 2, ts, table);
    const t_tensor *s[2] = {&tt, &tb}, *d[1] = {&ty};
    ssmrt_op op = t_op(SSMRT_OP_EMBEDDING, 2, s, 1, d);
    CHECK(t_run(&op) == 0, "embedding with bad ids: %s", T_last_error);
    t_read(&ty, got);
    int bad = 0;
    for (int64_t m = 0; m < M; m++)
        for (int64_t dd = 0; dd < D; dd++) {
            int id = (int)bad_ids[m];
            bad += got[m * D + dd] != (id >= 0 && id < V ? table[id * D + dd] : 0.0f);
        }
    CHECK(bad == 0, "embedding with bad ids: %d wrong", bad);
    t_free(&tt); t_free(&tb); t_free(&tid); t_free(&ty);
}

static void test_topk(void)
{
    int64_t T = 9, E = 7;
    float x[63], got[63];
    double ref[63];
    t_rand(x, T * E, -3, 3);
    const float row7[7] = {2.9f, -1, 2.5f, 0.3f, -2, 2.5f, 1}; /* a tie: 2 wins over 5 */
    memcpy(x + 7 * E, row7, sizeof row7);
    int64_t shape[2] = {T, E};
    t_tensor tx = t_make(SSMRT_F32, 2, shape, x), ty = t_make(SSMRT_F32, 2, shape, NULL);
    for (int k = 1; k <= 3; k++)
        for (int renorm = 0; renorm < 2; renorm++) {
            const t_tensor *s[1] = {&tx}, *d[1] = {&ty};
            ssmrt_op op = t_op(SSMRT_OP_TOPK_ROUTE, 1, s, 1, d);
            op.params.topk.k = k;
            op.params.topk.renormalize = renorm;
            CHECK(t_run(&op) == 0, "topk: %s", T_last_error);
            t_read(&ty, got);
            for (int64_t t = 0; t < T; t++) {
                double m = -INFINITY, sum = 0, kept = 0;
                for (int64_t e = 0; e < E; e++)
                    m = fmax(m, x[t * E + e]);
                for (int64_t e = 0; e < E; e++)
                    sum += exp(x[t * E + e] - m);
                for (int64_t e = 0; e < E; e++) {
                    int rank = 0;
                    for (int64_t f = 0; f < E; f++)
                        rank += x[t * E + f] > x[t * E + e] ||
                                (x[t * E + f] == x[t * E + e] && f < e);
                    ref[t * E + e] = rank < k ? exp(x[t * E + e] - m) / sum : 0;
                    kept += ref[t * E + e];
                }
                if (renorm)
                    for (int64_t e = 0; e < E; e++)
                        ref[t * E + e] /= kept;
            }
            double e = t_err(got, ref, T * E, 1e-30, 1e-5);
            CHECK(e <= 1, "topk k=%d renorm=%d error %g", k, renorm, e);
            CHECK((got[7 * E + 2] != 0) == (k >= 2) && (got[7 * E + 5] != 0) == (k >= 3),
                  "topk tie order wrong at k=%d", k);
        }
    t_free(&tx);
    t_free(&ty);
}

void test_matmul_gather(void)
{
    test_matmul();
    test_embedding();
    test_topk();
}
