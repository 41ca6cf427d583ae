/*
 * k_attention_wide.cu: attention for head dims beyond the other kernels (> 256),
 * any dtype, no limit on Dh or Dv. Correct rather than fast: such heads are
 * rare, and the API accepts them, so they must run.
 *
 * A block of 256 threads owns one query row (b, i, hq) and one chunk of up to
 * 1024 output columns (4 per thread, in registers). Keys go in tiles of 32:
 * each warp computes 4 scores with its lanes across Dh (any length, from
 * global memory), the block shares them through shared memory, and every
 * thread updates the online softmax state (m, l, identical in all threads) and
 * its own output columns. A second column chunk recomputes the scores, which
 * only happens for Dv > 1024.
 */
#include "k_attention.cuh"

enum { AW_THREADS = 256, AW_COLS = 4, AW_KEYS = 32, AW_KPW = AW_KEYS / (AW_THREADS / 32) };

template <typename T> __global__ void __launch_bounds__(AW_THREADS) attn_wide_kernel(const attn_args a) {
    cuda_pdl_enter();
    __shared__ float sp[AW_KEYS];
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int64_t row = blockIdx.x; /* (b * Lq + i) * Hq + hq, the row of y */
    const int64_t hq = row % a.Hq, i = (row / a.Hq) % a.Lq, b = row / (a.Hq * a.Lq);
    const int64_t kh = hq / (a.Hq / a.Hk), last = a.Lk - a.Lq + i; /* keys 0 .. last */
    const int64_t d0 = (int64_t)blockIdx.y * AW_THREADS * AW_COLS + tid;
    const T *qr = (const T *)a.q + b * a.qs[0] + i * a.qs[1] + hq * a.qs[2];
    const T *kb = (const T *)a.k + b * a.ks[0] + kh * a.ks[2];
    const T *vb = (const T *)a.v + b * a.vs[0] + kh * a.vs[2];

    float m = -INFINITY, l = 0.0f, o[AW_COLS];
#pragma unroll
    for (int c = 0; c < AW_COLS; c++) o[c] = 0.0f;
    for (int64_t k0 = 0; k0 <= last; k0 += AW_KEYS) {
#pragma unroll
        for (int kk = 0; kk < AW_KPW; kk++) {
            const int64_t j = k0 + warp * AW_KPW + kk;
            float s = -INFINITY;
            if (j <= last) { /* warp-uniform */
                float acc = 0.0f;
                for (int64_t d = lane; d < a.Dh; d += 32)
                    acc = fmaf(cuda_to_f32(qr[d * a.qs[3]]), cuda_to_f32(kb[j * a.ks[1] + d * a.ks[3]]), acc);
                s = cuda_warp_sum(acc) * a.scale2;
            }
            if (lane == 0) sp[warp * AW_KPW + kk] = s;
        }
        __syncthreads();
        /* Key 0 is in the first tile and visible to every row, so mn is finite. */
        float mx = -INFINITY;
#pragma unroll
        for (int jj = 0; jj < AW_KEYS; jj++) mx = fmaxf(mx, sp[jj]);
        const float mn = fmaxf(m, mx), corr = cuda_ex2(m - mn);
        l *= corr;
#pragma unroll
        for (int c = 0; c < AW_COLS; c++) o[c] *= corr;
        for (int jj = 0; jj < AW_KEYS && k0 + jj <= last; jj++) {
            const float p = cuda_ex2(sp[jj] - mn);
            l += p;
            const T *vr = vb + (k0 + jj) * a.vs[1];
#pragma unroll
            for (int c = 0; c < AW_COLS; c++) {
                const int64_t d = d0 + c * AW_THREADS;
                if (d < a.Dv) o[c] = fmaf(p, cuda_to_f32(vr[d * a.vs[3]]), o[c]);
            }
        }
        m = mn;
        __syncthreads(); /* sp is rewritten by the next tile */
    }
    const float inv = 1.0f / l;
#pragma unroll
    for (int c = 0; c < AW_COLS; c++) {
        const int64_t d = d0 + c * AW_THREADS;
        if (d < a.Dv) attn_store((T *)a.y + row * a.Dv + d, o[c] * inv);
    }
}

int cuda_attention_wide_launch(cuda_device *dev, const attn_args *a, uint32_t dtype) {
    const int64_t rows = a->B * a->Lq * a->Hq;
    const int64_t chunks = (a->Dv + AW_THREADS * AW_COLS - 1) / (AW_THREADS * AW_COLS);
    if (rows > 0x7fffffff || chunks > 65535)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: attention: %lld rows x %lld column chunks exceed the grid",
                          (long long)rows, (long long)chunks);
    dim3 grid((unsigned)rows, (unsigned)chunks);
    if (dtype == SSMRT_F16)
        cuda_launch(dev, attn_wide_kernel<__half>, grid, AW_THREADS, 0, *a);
    else if (dtype == SSMRT_BF16)
        cuda_launch(dev, attn_wide_kernel<__nv_bfloat16>, grid, AW_THREADS, 0, *a);
    else
        cuda_launch(dev, attn_wide_kernel<float>, grid, AW_THREADS, 0, *a);
    return CUDA_LAUNCH_CHECK("attention (wide heads)");
}
