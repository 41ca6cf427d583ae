/*
 * fast_matmul.c: f32 MATMUL, y = x w^T (+ bias), with w in f32, f16 or bf16.
 *
 * The plugin's OpenMP threads split the work (along N, or along M when M is the
 * larger side) and each runs a single-threaded GEMM on its slice: cblas_sgemm
 * when the build found a CBLAS (its own threads are turned off, fast_info.c:
 * two thread pools spinning on two cores starve each other), else
 * cpu_gemm_own. f16/bf16 weights are converted by each thread a panel of rows
 * at a time into scratch small enough to stay in cache.
 */
#include <stdlib.h>

#include "fast_convert.h"
#include "fast_kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef SSMRT_CPU_HAVE_CBLAS
#include <cblas.h>
#endif

/* Bytes of converted weight rows per panel, for few and for many rows of x. */
#define PANEL_BYTES (256u << 10)
#define BIG_PANEL_BYTES (16u << 20)
/* Below this many multiply-adds one thread does the whole product. */
#define PAR_MIN_MACS (1u << 18)

static void gemm_f32(int64_t M, int64_t N, int64_t K, const float *x, const float *w, float *y,
                     int64_t ldy) {
#ifdef SSMRT_CPU_HAVE_CBLAS
    if (M == 1) { /* decode: a matrix-vector product, without sgemm's packing */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)N, (blasint)K, 1.0f, w, (blasint)K, x,
                    1, 0.0f, y, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)M, (blasint)N, (blasint)K, 1.0f,
                x, (blasint)K, w, (blasint)K, 0.0f, y, (blasint)ldy);
#else
    cpu_gemm_own(M, N, K, x, K, w, K, y, ldy);
#endif
}

#ifdef CPU_HAVE_V8_HALF
static float half_at(uint32_t dtype, const uint16_t *p, int64_t k) {
    return dtype == SSMRT_F16 ? cpu_f16_to_f32(p[k]) : cpu_bf16_to_f32(p[k]);
}

/* Decode with half-precision weights (M <= 4): dot products that convert w in
 * registers, so the weights cross memory once, at half the bytes of f32, and
 * nothing is written back. */
static void gemv_half(uint32_t dtype, int64_t M, int64_t K, const float *x, const uint16_t *w,
                      float *y, int64_t ldy, int64_t n0, int64_t n1) {
    const int64_t Kv = K & ~(int64_t)7;
    int64_t n = n0;
    /* Four rows of w at a time: four independent sums per row of x keep the
     * FMA pipes busy (one sum would wait an FMA latency per 8 elements). */
    for (; n + 4 <= n1; n += 4) {
        const uint16_t *w0 = w + n * K;
        v8f acc[4][4];
        for (int r = 0; r < 4; r++)
            for (int64_t m = 0; m < M; m++) acc[r][m] = v8_set1(0.0f);
        for (int64_t k = 0; k < Kv; k += 8) {
            v8f wv[4];
            for (int r = 0; r < 4; r++) wv[r] = v8_load_half(dtype, w0 + r * K + k);
            for (int64_t m = 0; m < M; m++) {
                v8f xv = v8_load(x + m * K + k);
                for (int r = 0; r < 4; r++) acc[r][m] += wv[r] * xv;
            }
        }
        for (int r = 0; r < 4; r++)
            for (int64_t m = 0; m < M; m++) {
                float t = v8_hsum(acc[r][m]);
                for (int64_t k = Kv; k < K; k++) t += x[m * K + k] * half_at(dtype, w0 + r * K, k);
                y[m * ldy + n + r] = t;
            }
    }
    for (; n < n1; n++) /* the last rows, one at a time */
        for (int64_t m = 0; m < M; m++) {
            const uint16_t *wr = w + n * K;
            v8f acc = v8_set1(0.0f);
            for (int64_t k = 0; k < Kv; k += 8) acc += v8_load_half(dtype, wr + k) * v8_load(x + m * K + k);
            float t = v8_hsum(acc);
            for (int64_t k = Kv; k < K; k++) t += x[m * K + k] * half_at(dtype, wr, k);
            y[m * ldy + n] = t;
        }
}
#endif

/* Rows [m0, m1) x columns [n0, n1) of y, on the calling thread. */
static int matmul_slice(const ssmrt_op *op, int64_t m0, int64_t m1, int64_t n0, int64_t n1,
                        int64_t N, int64_t K) {
    const float *x = (const float *)cpu_desc_ptr(&op->src[0]) + m0 * K;
    const ssmrt_tensor_desc *W = &op->src[1];
    float *y = (float *)cpu_desc_ptr(&op->dst[0]) + m0 * N;
    int64_t M = m1 - m0;
    if (M <= 0 || n1 <= n0) return 0;
    if (W->dtype == SSMRT_F32) {
        gemm_f32(M, n1 - n0, K, x, (const float *)cpu_desc_ptr(W) + n0 * K, y + n0, N);
        return 0;
    }
#ifdef CPU_HAVE_V8_HALF
    if (M <= 4) {
        gemv_half(W->dtype, M, K, x, cpu_desc_ptr(W), y, N, n0, n1);
        return 0;
    }
#endif
    /* Each GEMM call re-packs x, so with many rows of x the panel is as wide as
     * the slice allows (up to BIG_PANEL_BYTES) for that to be paid rarely; a
     * few rows of x (decode) take small panels that stay in cache. */
    uint64_t bytes = M >= 64 ? BIG_PANEL_BYTES : PANEL_BYTES;
    int64_t nb = (int64_t)(bytes / (4 * (uint64_t)K));
    if (nb < 4) nb = 4;
    if (nb > n1 - n0) nb = n1 - n0;
    float *panel = malloc((size_t)(nb * K) * sizeof(float));
    if (!panel) return -1;
    const uint16_t *w16 = cpu_desc_ptr(W);
    for (int64_t p0 = n0; p0 < n1; p0 += nb) {
        int64_t rows = n1 - p0 < nb ? n1 - p0 : nb;
        for (int64_t r = 0; r < rows; r++) fast_row_to_f32(W->dtype, w16 + (p0 + r) * K, panel + r * K, K);
        gemm_f32(M, rows, K, x, panel, y + p0, N);
    }
    free(panel);
    return 0;
}

int cpu_fast_matmul(const ssmrt_op *op) {
    int64_t M, N, K;
    int rc = cpu_shape_matmul(op, &M, &N, &K);
    if (!rc) rc = cpu_fast_require_contiguous(op);
    if (rc) return rc;
#ifdef SSMRT_CPU_HAVE_CBLAS
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
        return cpu_error(SSMRT_ERR_UNSUPPORTED, "cpu: matmul: a dim exceeds the BLAS int range");
#endif
    float *y = cpu_desc_ptr(&op->dst[0]);
    if (M == 0 || N == 0) return 0;
    if (K == 0) {
        for (int64_t i = 0; i < M * N; i++) y[i] = 0.0f;
    } else {
        int threads = 1;
#ifdef _OPENMP
        if ((uint64_t)M * (uint64_t)N * (uint64_t)K >= PAR_MIN_MACS) threads = omp_get_max_threads();
#endif
        int split_m = M > N; /* split the larger side */
        int64_t span = split_m ? M : N;
        if (threads > span) threads = (int)span;
        int failed = 0;
#pragma omp parallel num_threads(threads) reduction(| : failed) if (threads > 1)
        {
            int t = 0, nt = 1;
#ifdef _OPENMP
            t = omp_get_thread_num();
            nt = omp_get_num_threads();
#endif
            /* Contiguous slices; along N they start on a multiple of 16 columns. */
            int64_t a = span * t / nt, b = span * (t + 1) / nt;
            if (!split_m) {
                a = t ? (a + 15) & ~(int64_t)15 : 0;
                b = t + 1 < nt ? (b + 15) & ~(int64_t)15 : N;
                if (b > N) b = N;
            }
            failed |= split_m ? matmul_slice(op, a, b, 0, N, N, K) != 0
                              : matmul_slice(op, 0, M, a, b, N, K) != 0;
        }
        if (failed) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: matmul: out of memory");
    }
    if (op->n_src > 2 && cpu_desc_present(&op->src[2])) {
        const float *bias = cpu_desc_ptr(&op->src[2]);
#pragma omp parallel for schedule(static) if (M * N >= 65536)
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) y[m * N + n] += bias[n];
    }
    return 0;
}
