/*
 * fast_matmul.c: f32 MATMUL, y = x w^T (+ bias), with w in f32, f16 or bf16.
 *
 * f32 weights go straight to the GEMM (cblas_sgemm when the build found a CBLAS,
 * else cpu_gemm_own). f16/bf16 weights are converted a block of rows at a time
 * into a scratch panel small enough to stay in cache, and each block's GEMM
 * writes its own columns of y.
 */
#include "fast_kernels.h"

#ifdef SSMRT_CPU_HAVE_CBLAS
#include <cblas.h>
#endif

/* Bytes of converted weight rows per block. */
#define PANEL_BYTES (1u << 20)

static void gemm_f32(int64_t M, int64_t N, int64_t K, const float *x, const float *w, int64_t ldw,
                     float *y, int64_t ldy) {
#ifdef SSMRT_CPU_HAVE_CBLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)M, (blasint)N, (blasint)K, 1.0f,
                x, (blasint)K, w, (blasint)ldw, 0.0f, y, (blasint)ldy);
#else
    cpu_gemm_own(M, N, K, x, K, w, ldw, y, ldy);
#endif
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
    const float *x = cpu_desc_ptr(&op->src[0]);
    const ssmrt_tensor_desc *W = &op->src[1];
    float *y = cpu_desc_ptr(&op->dst[0]);
    if (M == 0 || N == 0) return 0;
    if (K == 0) {
        for (int64_t i = 0; i < M * N; i++) y[i] = 0.0f;
    } else if (W->dtype == SSMRT_F32) {
        gemm_f32(M, N, K, x, cpu_desc_ptr(W), K, y, N);
    } else {
        int64_t nb = (int64_t)(PANEL_BYTES / (4 * (uint64_t)K));
        if (nb < 8) nb = 8;
        if (nb > N) nb = N;
        float *panel = cpu_scratch_alloc((uint64_t)nb * (uint64_t)K * 4);
        if (!panel) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: matmul: out of memory");
        const uint16_t *w16 = cpu_desc_ptr(W);
        for (int64_t n0 = 0; n0 < N; n0 += nb) {
            int64_t rows = N - n0 < nb ? N - n0 : nb;
#pragma omp parallel for schedule(static) if (rows * K >= 65536)
            for (int64_t r = 0; r < rows; r++)
                cpu_row_to_f32(W->dtype, w16 + (n0 + r) * K, panel + r * K, K);
            gemm_f32(M, rows, K, x, panel, K, y + n0, N);
        }
        cpu_scratch_free(panel);
    }
    if (op->n_src > 2 && cpu_desc_present(&op->src[2])) {
        const float *b = cpu_desc_ptr(&op->src[2]);
#pragma omp parallel for schedule(static) if (M * N >= 65536)
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) y[m * N + n] += b[n];
    }
    return 0;
}
