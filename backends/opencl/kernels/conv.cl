/* conv.cl: Mamba's causal depthwise conv1d (with conv state) and S4's long causal
 * convolution, both direct. */

/* xx[b, t, d] for t in [0, W-1+L): the W-1 state entries, then x along time. */
float conv_xx(__global const float *x, __global const float *st, long b, long t, long d,
              long L, long D, int W)
{
    if (t >= W - 1)
        return x[(b * L + t - (W - 1)) * D + d];
    return st ? st[(b * D + d) * (W - 1) + t] : 0.0f;
}

/* y[b, l, d] = bias[d] + sum_j w[d, j] * xx[b, l + j, d], then SiLU if silu. A
 * work-item computes CONV_TS consecutive steps of one channel from the CONV_TS + W - 1
 * inputs they need, read once into registers; neighbouring work-items take
 * neighbouring channels, so loads and stores coalesce. The host builds the program
 * per filter width and step count (CONV_W = W, CONV_TS); CONV_W = 0 (filters wider
 * than 32 taps, whose inputs would not fit in registers) is one output per
 * work-item. With one output per work-item (W reads each and 64-bit divisions) it
 * ran at 29% of the copy bandwidth on the H100 (W = 4, D = 4096, L = 4096), this
 * way at 88%. */
#ifndef CONV_W
#define CONV_W 4
#endif
#ifndef CONV_TS
#define CONV_TS 16 /* steps per work-item: the host passes fewer for wide filters or short L */
#endif
__kernel void conv1d_causal(__global float *y, long y_off, __global const float *x, long x_off,
                            __global const float *w, long w_off, __global const float *bias,
                            long b_off, __global const float *st, long st_off, long B, long L,
                            long D, int W, int silu)
{
    const long chunks = (L + CONV_TS - 1) / CONV_TS, n = B * chunks * D;
    const long i = get_global_id(0);
    if (i >= n)
        return;
    long d, c, b;
    if (n <= (long)UINT_MAX) { /* 32-bit divisions where the range allows */
        uint ui = (uint)i, q = ui / (uint)D;
        d = ui - q * (uint)D;
        b = q / (uint)chunks;
        c = q - (uint)b * (uint)chunks;
    } else {
        long bc = div_mod(i, D, &d);
        b = div_mod(bc, chunks, &c);
    }
    x += x_off;
    if (st)
        st += st_off;
#if CONV_W == 0
    float acc = bias ? bias[b_off + d] : 0.0f;
    for (int j = 0; j < W; j++)
        acc = fma(w[w_off + d * W + j], conv_xx(x, st, b, c + j, d, L, D, W), acc);
    y[y_off + (b * L + c) * D + d] = silu ? silu_f32(acc) : acc;
#else
    const int S = CONV_W - 1;
    const long t0 = c * CONV_TS; /* first output step; xx positions t0 .. t0 + TS + S - 1 */
    float wv[CONV_W], xv[CONV_TS + CONV_W - 1];
    #pragma unroll
    for (int j = 0; j < CONV_W; j++)
        wv[j] = w[w_off + d * CONV_W + j];
    /* Position p = t0 + k of xx, from a pointer stepped along time rather than
     * conv_xx's index arithmetic per load (H100: 0.053 against 0.058 ms). */
    __global const float *xt0 = x + (b * L + t0) * D + d; /* x[b, t0, d] */
    #pragma unroll
    for (int k = 0; k < CONV_TS + CONV_W - 1; k++) {
        long p = t0 + k;
        float v = 0.0f;
        if (p < S)
            v = st ? st[(b * D + d) * S + p] : 0.0f;
        else if (p - S < L)
            v = xt0[(long)(k - S) * D];
        xv[k] = v;
    }
    const float bv = bias ? bias[b_off + d] : 0.0f;
    #pragma unroll
    for (int q = 0; q < CONV_TS; q++) {
        if (t0 + q < L) {
            float acc = bv;
            #pragma unroll
            for (int j = 0; j < CONV_W; j++)
                acc = fma(wv[j], xv[q + j], acc);
            y[y_off + (b * L + t0 + q) * D + d] = silu ? silu_f32(acc) : acc;
        }
    }
#endif
}

/* state_out[b, d, i] = xx[b, L + i, d], i < W-1. One work-item per (b, d) walking i
 * upwards: with state_out == state it reads entry L + i before anything at or past
 * it is written, so the update in place is safe. */
__kernel void conv1d_causal_state(__global float *so, long so_off, __global const float *x,
                                  long x_off, __global const float *st, long st_off, long B,
                                  long L, long D, int W)
{
    long i = get_global_id(0);
    if (i >= B * D)
        return;
    long d, b = div_mod(i, D, &d);
    x += x_off;
    if (st)
        st += st_off;
    for (int k = 0; k < W - 1; k++)
        so[so_off + (b * D + d) * (W - 1) + k] = conv_xx(x, st, b, L + k, d, L, D, W);
}

/* y[b, l, d] = sum_{j <= l} ker[d, j] * x[b, l - j, d]. Work-groups cover a tile of
 * TL times x TD channels; kernel taps are staged through local memory in blocks of
 * TJ, so each tap is read from global memory once per tile instead of per output. */
#ifndef CONV_T
#define CONV_T 16 /* the host passes 8 for devices with fewer than 256 work-items */
#endif
#define TD CONV_T
#define TL CONV_T
#define TJ 64
__kernel __attribute__((reqd_work_group_size(TD, TL, 1)))
void conv_long(__global float *y, long y_off, __global const float *x, long x_off,
               __global const float *ker, long k_off, long B, long L, long D, long Lk)
{
    __local float taps[TJ][TD];
    int td = get_local_id(0), tl = get_local_id(1);
    long d = get_group_id(0) * TD + td;
    long l = get_group_id(1) * TL + tl;
    long b = get_group_id(2);
    long lmax = min((long)(get_group_id(1) + 1) * TL, L) - 1; /* last time in the tile */
    x += x_off + b * L * D;
    ker += k_off;
    float acc = 0.0f;
    for (long j0 = 0; j0 <= lmax; j0 += TJ) {
        for (int r = tl; r < TJ; r += TL) {
            long dd = get_group_id(0) * TD + td;
            taps[r][td] = (dd < D && j0 + r < Lk) ? ker[dd * Lk + j0 + r] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        if (d < D && l < L) {
            long jend = min((long)TJ, l - j0 + 1);
            for (long j = 0; j < jend; j++)
                acc = fma(taps[j][td], x[(l - j0 - j) * D + d], acc);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (d < D && l < L)
        y[y_off + (b * L + l) * D + d] = acc;
}
