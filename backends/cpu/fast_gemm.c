/*
 * fast_gemm.c: y[m, n] = sum_k x[m, k] * w[n, k] in f32, the GEMM used when no
 * CBLAS was found at configure time (CMake says which one the build uses).
 *
 * Both operands are read along k, so the kernel is a block of dot products: a
 * 2 x 4 tile of (rows of x) x (rows of w) keeps 8 accumulators of 8 lanes in
 * registers, and k is cut into panels so 64 rows of w stay in L2 while every
 * row of x passes over them. Single-threaded: fast_matmul.c gives each thread
 * its own slice.
 */
#include "fast_kernels.h"
#include "fast_math.h"

#define KC 512  /* k panel */
#define NC 64   /* rows of w per task */

static void tile_2x4(const float *x0, const float *x1, const float *w, int64_t ldw, int64_t kc,
                     float out[2][4]) {
    v8f a00 = v8_set1(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00,
        a13 = a00;
    const float *w0 = w, *w1 = w + ldw, *w2 = w + 2 * ldw, *w3 = w + 3 * ldw;
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) {
        v8f p = v8_load(x0 + k), q = v8_load(x1 + k);
        v8f b0 = v8_load(w0 + k), b1 = v8_load(w1 + k), b2 = v8_load(w2 + k), b3 = v8_load(w3 + k);
        a00 += p * b0; a01 += p * b1; a02 += p * b2; a03 += p * b3;
        a10 += q * b0; a11 += q * b1; a12 += q * b2; a13 += q * b3;
    }
    float r[2][4] = {{v8_hsum(a00), v8_hsum(a01), v8_hsum(a02), v8_hsum(a03)},
                     {v8_hsum(a10), v8_hsum(a11), v8_hsum(a12), v8_hsum(a13)}};
    for (; k < kc; k++)
        for (int j = 0; j < 4; j++) {
            r[0][j] += x0[k] * w[j * ldw + k];
            r[1][j] += x1[k] * w[j * ldw + k];
        }
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) out[i][j] = r[i][j];
}

static float dot(const float *a, const float *b, int64_t n) {
    v8f acc = v8_set1(0);
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) acc += v8_load(a + k) * v8_load(b + k);
    float s = v8_hsum(acc);
    for (; k < n; k++) s += a[k] * b[k];
    return s;
}

void cpu_gemm_own(int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const float *w,
                  int64_t ldw, float *y, int64_t ldy) {
    int64_t tasks = (N + NC - 1) / NC;
    for (int64_t t = 0; t < tasks; t++) {
        int64_t n0 = t * NC, n1 = n0 + NC < N ? n0 + NC : N;
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = n0; n < n1; n++) y[m * ldy + n] = 0.0f;
        for (int64_t k0 = 0; k0 < K; k0 += KC) {
            int64_t kc = K - k0 < KC ? K - k0 : KC;
            int64_t m = 0;
            for (; m + 2 <= M; m += 2) {
                const float *x0 = x + m * ldx + k0, *x1 = x0 + ldx;
                int64_t n = n0;
                for (; n + 4 <= n1; n += 4) {
                    float o[2][4];
                    tile_2x4(x0, x1, w + n * ldw + k0, ldw, kc, o);
                    for (int j = 0; j < 4; j++) {
                        y[m * ldy + n + j] += o[0][j];
                        y[(m + 1) * ldy + n + j] += o[1][j];
                    }
                }
                for (; n < n1; n++) {
                    y[m * ldy + n] += dot(x0, w + n * ldw + k0, kc);
                    y[(m + 1) * ldy + n] += dot(x1, w + n * ldw + k0, kc);
                }
            }
            for (; m < M; m++) /* odd last row (and every row when M == 1) */
                for (int64_t n = n0; n < n1; n++)
                    y[m * ldy + n] += dot(x + m * ldx + k0, w + n * ldw + k0, kc);
        }
    }
}
