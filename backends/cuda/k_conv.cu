/*
 * k_conv.cu: CONV1D_CAUSAL (Mamba's depthwise conv with state) and CONV_LONG
 * (S4's causal convolution with a kernel as long as the input).
 */
#include "common.cuh"

/* ===================================================================== */
/* CONV1D_CAUSAL                                                          */
/* ===================================================================== */

/* xx is the conv state ([B, D, W-1], oldest first; zeros when absent) followed
 * by x along time. */
__device__ __forceinline__ float conv_xx(const float *__restrict__ x, const float *__restrict__ st,
                                         int64_t b, int64_t i, int64_t d, int64_t L, int64_t D,
                                         int64_t W) {
    if (i < W - 1) return st ? st[(b * D + d) * (W - 1) + i] : 0.0f;
    return x[(b * L + i - (W - 1)) * D + d];
}

/* One thread per output (b, l, d); d fastest, so x reads are coalesced and the
 * W-fold reuse of each input comes from L1. */
__global__ void conv1d_kernel(const float *__restrict__ x, const float *__restrict__ w,
                              const float *__restrict__ bias, const float *__restrict__ st,
                              float *__restrict__ y, int64_t B, int64_t L, int64_t D, int64_t W,
                              int silu) {
    cuda_pdl_enter();
    int64_t n = B * L * D;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t d = i % D, l = (i / D) % L, b = i / (D * L);
        float acc = bias ? bias[d] : 0.0f;
        const float *wr = w + d * W;
        for (int64_t j = 0; j < W; j++) acc = fmaf(wr[j], conv_xx(x, st, b, l + j, d, L, D, W), acc);
        y[i] = silu ? cuda_silu(acc) : acc;
    }
}

/* Mamba's widths (W <= 4, the usual 4): a thread owns one channel d for LT
 * consecutive steps and slides a window of the last W-1 inputs in registers,
 * so every input is read once and no index needs a 64-bit division. grid: x =
 * channel blocks, y = step tiles, z = batch. */
template <int W>
__global__ void conv1d_window_kernel(const float *__restrict__ x, const float *__restrict__ w,
                                     const float *__restrict__ bias, const float *st,
                                     float *__restrict__ y, float *st_out, int L, int D, int LT,
                                     int silu) {
    cuda_pdl_enter();
    const int d = blockIdx.x * blockDim.x + threadIdx.x;
    if (d >= D) return;
    const int l0 = blockIdx.y * LT, l1 = min(l0 + LT, L);
    const int64_t b = blockIdx.z;
    float wr[W], win[W > 1 ? W - 1 : 1];
#pragma unroll
    for (int j = 0; j < W; j++) wr[j] = w[(int64_t)d * W + j];
    /* win[j] = xx[l0 + j]: the state for the first W-1 steps of the sequence. */
#pragma unroll
    for (int j = 0; j < W - 1; j++) {
        int i = l0 + j - (W - 1); /* time index of x */
        win[j] = i >= 0 ? x[(b * L + i) * D + d] : st ? st[(b * D + d) * (W - 1) + (i + W - 1)] : 0.0f;
    }
    const float b0 = bias ? bias[d] : 0.0f;
    const float *xp = x + (b * L + l0) * D + d;
    float *yp = y + (b * L + l0) * D + d;
    for (int l = l0; l < l1; l++, xp += D, yp += D) {
        const float xn = *xp;
        float acc = fmaf(wr[W - 1], xn, b0);
#pragma unroll
        for (int j = 0; j < W - 1; j++) acc = fmaf(wr[j], win[j], acc);
#pragma unroll
        for (int j = 0; j + 1 < W - 1; j++) win[j] = win[j + 1];
        if (W > 1) win[W > 1 ? W - 2 : 0] = xn;
        *yp = silu ? cuda_silu(acc) : acc;
    }
    /* st_out (only with a single step tile, L <= LT): the window now holds
     * xx[L .. L+W-2], the new state. The thread that read this channel's old
     * state writes the new one, so st_out may alias st; decode then needs no
     * second kernel. */
    if (st_out) {
#pragma unroll
        for (int j = 0; j < W - 1; j++) st_out[(b * D + d) * (W - 1) + j] = win[j];
    }
}

/* state_out[k] = xx[L + k], k < W-1, one thread per (b, d) in increasing k: the
 * read index L + k is never below the write index k, so state_out may alias the
 * input state. Launched after conv1d_kernel, which reads the old state. */
__global__ void conv1d_state_kernel(const float *__restrict__ x, const float *st, float *st_out,
                                    int64_t B, int64_t L, int64_t D, int64_t W) {
    cuda_pdl_enter();
    int64_t n = B * D;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t d = i % D, b = i / D;
        for (int64_t k = 0; k < W - 1; k++)
            st_out[i * (W - 1) + k] = conv_xx(x, st, b, L + k, d, L, D, W);
    }
}

int cuda_op_conv1d_causal(cuda_device *dev, const ssmrt_op *op) {
    cuda_conv_dims cd;
    int rc = cuda_shape_conv(op, &cd);
    if (rc) return rc;
    const float *x = (const float *)cuda_desc_ptr(&op->src[SSMRT_CONV_X]);
    const float *w = (const float *)cuda_desc_ptr(&op->src[SSMRT_CONV_W]);
    const float *bias = cuda_opt_f32(op, SSMRT_CONV_BIAS);
    const float *st = cuda_opt_f32(op, SSMRT_CONV_STATE);
    int64_t n = cd.B * cd.L * cd.D;
    const int LT = 16; /* steps per thread of the window kernel */
    int fused_state = 0;
    if (n > 0 && cd.W <= 4 && cd.L <= 0x7fffffff && cd.D <= 0x7fffffff && cd.B <= 65535 &&
        (cd.L + LT - 1) / LT <= 65535) {
        dim3 grid((unsigned)((cd.D + 127) / 128), (unsigned)((cd.L + LT - 1) / LT), (unsigned)cd.B);
        float *y = (float *)cuda_desc_ptr(&op->dst[0]);
        int L = (int)cd.L, D = (int)cd.D, silu = op->params.conv.silu;
        fused_state = cd.L <= LT && cd.W > 1 && cuda_has_dst(op, 1);
        float *so = fused_state ? (float *)cuda_desc_ptr(&op->dst[1]) : nullptr;
        switch (cd.W) {
#define CONV_WINDOW(WW) \
    cuda_launch(dev, conv1d_window_kernel<WW>, grid, 128, 0, x, w, bias, st, y, so, L, D, LT, silu)
        case 1: CONV_WINDOW(1); break;
        case 2: CONV_WINDOW(2); break;
        case 3: CONV_WINDOW(3); break;
        default: CONV_WINDOW(4); break;
#undef CONV_WINDOW
        }
        if ((rc = CUDA_LAUNCH_CHECK("conv1d_causal"))) return rc;
    } else if (n > 0) {
        cuda_launch(dev, conv1d_kernel, cuda_grid_for(n, 256), 256, 0,
            x, w, bias, st, (float *)cuda_desc_ptr(&op->dst[0]), cd.B, cd.L, cd.D, cd.W,
            op->params.conv.silu);
        if ((rc = CUDA_LAUNCH_CHECK("conv1d_causal"))) return rc;
    }
    if (!fused_state && cuda_has_dst(op, 1) && cd.W > 1 && cd.B * cd.D > 0) {
        cuda_launch(dev, conv1d_state_kernel, cuda_grid_for(cd.B * cd.D, 256), 256, 0,
            x, st, (float *)cuda_desc_ptr(&op->dst[1]), cd.B, cd.L, cd.D, cd.W);
        rc = CUDA_LAUNCH_CHECK("conv1d_causal: state");
    }
    return rc;
}

/* ===================================================================== */
/* CONV_LONG                                                              */
/* ===================================================================== */

/* Direct causal convolution, y[b,l,d] = sum_{j<=l} k[d,j] x[b,l-j,d], O(L^2 D).
 * A block computes 32 channels x 32 outputs; for each chunk of 32 taps it stages
 * the kernel chunk (transposed, so the channel is fastest) and the 63 input rows
 * those taps reach in shared memory. Inputs before time 0 are staged as zeros,
 * which is what makes taps j > l contribute nothing. */
enum { CL_TD = 32, CL_TL = 32, CL_TJ = 32, CL_THREADS = 256 };

__global__ void __launch_bounds__(CL_THREADS)
    conv_long_kernel(const float *__restrict__ x, const float *__restrict__ k, float *__restrict__ y,
                     int64_t L, int64_t D, int64_t Lk) {
    cuda_pdl_enter();
    __shared__ float ks[CL_TJ][CL_TD + 1];
    __shared__ float xs[CL_TL + CL_TJ - 1][CL_TD];
    int tid = threadIdx.x, dd = tid % CL_TD, ly = tid / CL_TD; /* ly in 0..7 */
    int64_t d0 = (int64_t)blockIdx.x * CL_TD, l0 = (int64_t)blockIdx.y * CL_TL, b = blockIdx.z;
    const float *xb = x + b * L * D;
    float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    int64_t lmax = l0 + CL_TL - 1 < L - 1 ? l0 + CL_TL - 1 : L - 1;
    for (int64_t j0 = 0; j0 <= lmax; j0 += CL_TJ) {
        __syncthreads();
        for (int e = tid; e < CL_TD * CL_TJ; e += CL_THREADS) {
            int r = e / CL_TJ, c = e % CL_TJ; /* channel r, tap c: coalesced along taps */
            int64_t d = d0 + r, j = j0 + c;
            ks[c][r] = (d < D && j < Lk) ? k[d * Lk + j] : 0.0f;
        }
        int64_t tbase = l0 - j0 - (CL_TJ - 1); /* time of xs row 0 */
        for (int e = tid; e < (CL_TL + CL_TJ - 1) * CL_TD; e += CL_THREADS) {
            int r = e / CL_TD, c = e % CL_TD;
            int64_t t = tbase + r, d = d0 + c;
            xs[r][c] = (t >= 0 && t < L && d < D) ? xb[t * D + d] : 0.0f;
        }
        __syncthreads();
#pragma unroll 8
        for (int jj = 0; jj < CL_TJ; jj++) {
            float kv = ks[jj][dd];
#pragma unroll
            for (int i = 0; i < 4; i++) acc[i] = fmaf(kv, xs[ly + 8 * i - jj + CL_TJ - 1][dd], acc[i]);
        }
    }
    int64_t d = d0 + dd;
    if (d >= D) return;
    for (int i = 0; i < 4; i++) {
        int64_t l = l0 + ly + 8 * i;
        if (l < L) y[(b * L + l) * D + d] = acc[i];
    }
}

int cuda_op_conv_long(cuda_device *dev, const ssmrt_op *op) {
    int64_t B, L, D, Lk;
    int rc = cuda_shape_conv_long(op, &B, &L, &D, &Lk);
    if (rc || B * L * D == 0) return rc;
    int64_t gx = (D + CL_TD - 1) / CL_TD, gy = (L + CL_TL - 1) / CL_TL;
    if (gx > 0x7fffffff || gy > 65535 || B > 65535)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: conv_long: [%lld, %lld, %lld] exceeds the grid",
                          (long long)B, (long long)L, (long long)D);
    dim3 grid((unsigned)gx, (unsigned)gy, (unsigned)B);
    cuda_launch(dev, conv_long_kernel, grid, CL_THREADS, 0,
        (const float *)cuda_desc_ptr(&op->src[0]), (const float *)cuda_desc_ptr(&op->src[1]),
        (float *)cuda_desc_ptr(&op->dst[0]), L, D, Lk);
    return CUDA_LAUNCH_CHECK("conv_long");
}
