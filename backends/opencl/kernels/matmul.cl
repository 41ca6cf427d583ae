/* matmul.cl: y[m, n] = sum_k x[m, k] * w[n, k] (+ bias[n]); x f32 [M, K], w [N, K] in
 * the dtype the host selects with -DW_DTYPE (0 f32, 1 f16, 2 bf16), accumulation in
 * f32. Two kernels: a 64x64-tiled one for M >= 8 and a row-reduction one for
 * small M (decode), which reads each weight once. */

#ifndef W_DTYPE
#define W_DTYPE 0
#endif
#if W_DTYPE == 1
#define W_T half
#define LOAD_W(p, i) vload_half((size_t)(i), (p))
#elif W_DTYPE == 2
#define W_T ushort
#define LOAD_W(p, i) bf16_to_f32((p)[(i)])
#else
#define W_T float
#define LOAD_W(p, i) ((p)[(i)])
#endif

#define TS 64 /* output tile edge */
#define TK 16 /* depth of a k step */
#define RT 4  /* outputs per work-item along each edge: TS = 16 * RT */

/* Work-group 16x16; work-item (tx, ty) owns rows m0 + ty + 16 i and columns
 * n0 + tx + 16 j (strided, so local reads are conflict-free). Local tiles are
 * stored k-major with one float of padding against bank conflicts on the store. */
__kernel __attribute__((reqd_work_group_size(16, 16, 1)))
void matmul_tiled(__global float *y, long y_off, __global const float *x, long x_off,
                  __global const W_T *w, long w_off, __global const float *bias, long b_off,
                  int M, int N, int K)
{
    __local float xs[TK][TS + 1];
    __local float ws[TK][TS + 1];
    int tx = get_local_id(0), ty = get_local_id(1);
    int tid = ty * 16 + tx;
    int n0 = get_group_id(0) * TS, m0 = get_group_id(1) * TS;
    x += x_off;
    w += w_off;
    float acc[RT][RT];
    for (int i = 0; i < RT; i++)
        for (int j = 0; j < RT; j++)
            acc[i][j] = 0.0f;
    for (int k0 = 0; k0 < K; k0 += TK) {
        for (int r = 0; r < (TS * TK) / 256; r++) {
            int idx = tid + 256 * r;
            int row = idx / TK, kk = idx % TK;
            int gk = k0 + kk;
            int gm = m0 + row, gn = n0 + row;
            xs[kk][row] = (gm < M && gk < K) ? x[(long)gm * K + gk] : 0.0f;
            ws[kk][row] = (gn < N && gk < K) ? LOAD_W(w, (long)gn * K + gk) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TK; kk++) {
            float a[RT], b[RT];
            for (int i = 0; i < RT; i++)
                a[i] = xs[kk][ty + 16 * i];
            for (int j = 0; j < RT; j++)
                b[j] = ws[kk][tx + 16 * j];
            for (int i = 0; i < RT; i++)
                for (int j = 0; j < RT; j++)
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < RT; i++) {
        int m = m0 + ty + 16 * i;
        if (m >= M)
            continue;
        for (int j = 0; j < RT; j++) {
            int n = n0 + tx + 16 * j;
            if (n < N)
                y[y_off + (long)m * N + n] = acc[i][j] + (bias ? bias[b_off + n] : 0.0f);
        }
    }
}

#define MB 4 /* rows of x per pass of matmul_rows */

/* One work-group per output column n: its work-items stride over k, then reduce. */
__kernel void matmul_rows(__global float *y, long y_off, __global const float *x, long x_off,
                          __global const W_T *w, long w_off, __global const float *bias,
                          long b_off, int M, int N, int K, __local float *scratch)
{
    int n = get_group_id(0);
    int lid = get_local_id(0), wg = get_local_size(0);
    __global const W_T *wr = w + w_off + (long)n * K;
    x += x_off;
    float b = bias ? bias[b_off + n] : 0.0f;
    for (int m0 = 0; m0 < M; m0 += MB) {
        int mb = min(MB, M - m0);
        float acc[MB];
        for (int i = 0; i < MB; i++)
            acc[i] = 0.0f;
        for (int k = lid; k < K; k += wg) {
            float wv = LOAD_W(wr, k);
            for (int i = 0; i < MB; i++)
                if (i < mb)
                    acc[i] = fma(wv, x[(long)(m0 + i) * K + k], acc[i]);
        }
        for (int i = 0; i < mb; i++) {
            float s = wg_sum(acc[i], scratch);
            if (lid == 0)
                y[y_off + (long)(m0 + i) * N + n] = s + b;
        }
    }
}
