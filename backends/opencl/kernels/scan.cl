/* scan.cl: the selective scan (Mamba-1 and Mamba-2), chunked over time.
 *
 * Shapes (ssmrt.h): u, z, y [B, L, H, P]; delta [B, L, H]; A [H, N] or, with
 * A_SCALAR, [H]; Bm, Cm [B, L, G, N]; Dskip, delta_bias [H]; state [B, H, P, N].
 * A "channel" is c = h * P + p, HP = H * P of them.
 *
 * Parallelism: batch x channel x state x time chunk. A work-item holds NS states
 * (n0 .. n0+NS-1 of one channel; NSL = ceil(N / NS) slices per channel) in
 * registers and runs one time chunk sequentially. The recurrence
 * h_t = a_t h_{t-1} + b_t is affine, so chunks compose:
 *   (a1, b1) then (a2, b2) = (a1 a2, a2 b1 + b2).
 * Pass 1 (scan_chunk_state) runs each chunk but the last from h = 0, giving b of
 * the chunk, and the chunk's sum of dt, from which pass 2 gets a = exp(A sum dt)
 * (the product of the per-step exp(dt A)). Pass 2 (scan_carry) walks the chunks
 * per (b, c, n) and stores each chunk's true start state. Pass 3 (scan_output)
 * reruns every chunk from its start state and produces y; the last chunk writes
 * the final state. A single chunk (decode, short L) is pass 3 alone, starting from
 * the state input.
 *
 * y sums over all N states of a channel: with NSL == 1 one work-item has them all;
 * otherwise (the MULTI variant, a separate build so the single-slice kernel has no
 * barriers at all) the NSL slices of a channel share a work-group and add partial
 * sums through local memory, TS time steps at a time.
 *
 * Work-group layout: lid = slice * CHW + chl, channel c = group * CHW + chl, so
 * neighbouring work-items touch neighbouring channels (coalesced u, z, y). */

#ifndef NS
#define NS 16
#endif
#ifndef A_SCALAR
#define A_SCALAR 0
#endif
#ifndef MULTI
#define MULTI 0 /* 1: NSL > 1 slices per channel, summed through local memory */
#endif
#define TS 16

/* Sizes shared by passes 1 and 3: NSL slices per channel, CHW channels per
 * work-group, chunks of T steps. */
#define SCAN_DIM_ARGS                                                                    \
    long B, long L, int H, int P, int G, int N, int NSL, int CHW, int T, int nchunks,      \
        int softplus

/* dt for (b, l, h) with bias and softplus. */
float scan_dt(__global const float *delta, __global const float *dbias, long row, int H, int h,
              int softplus)
{
    float dt = delta[row * H + h] + (dbias ? dbias[h] : 0.0f);
    return softplus ? softplus_f32(dt) : dt;
}

/* Loads this work-item's A values (NS of them, or one with A_SCALAR). */
void scan_load_a(__global const float *A, int h, int n0, int N, float *a)
{
#if A_SCALAR
    a[0] = A[h];
#else
    for (int k = 0; k < NS; k++)
        a[k] = n0 + k < N ? A[(long)h * N + n0 + k] : 0.0f;
#endif
}

/* One step of the recurrence for NS states; returns sum_k h_k C_k. */
float scan_step(float *hs, const float *a, float dt, float du, __global const float *Br,
                __global const float *Cr, int nvalid)
{
    float yp = 0.0f;
#if A_SCALAR
    float dA = exp(dt * a[0]);
#endif
    for (int k = 0; k < NS; k++) {
        if (k < nvalid) {
#if !A_SCALAR
            float dA = exp(dt * a[k]);
#endif
            hs[k] = fma(dA, hs[k], du * Br[k]);
            yp = fma(hs[k], Cr[k], yp);
        }
    }
    return yp;
}

/* Pass 1: chunk `chunk` from a zero state; writes its final state to carry and
 * its sum of dt to dtsum. */
__kernel void scan_chunk_state(__global const float *u, long u_off, __global const float *delta,
                               long d_off, __global const float *A, long a_off,
                               __global const float *Bm, long b_off,
                               __global const float *dbias, long db_off,
                               __global float *carry, __global float *dtsum, SCAN_DIM_ARGS)
{
    int lid = get_local_id(0);
    int slice = lid / CHW, chl = lid % CHW;
    int HP = H * P;
    int c = get_group_id(0) * CHW + chl;
    if (c >= HP)
        return; /* no barriers in this kernel */
    long b = get_group_id(1);
    int chunk = get_group_id(2);
    int h = c / P, g = h / (H / G), n0 = slice * NS;
    int nvalid = min(NS, N - n0);
    u += u_off;
    delta += d_off;
    A += a_off;
    Bm += b_off;
    if (dbias)
        dbias += db_off;
    float a[NS], hs[NS];
    scan_load_a(A, h, n0, N, a);
    for (int k = 0; k < NS; k++)
        hs[k] = 0.0f;
    float sdt = 0.0f;
    long t0 = (long)chunk * T, t1 = min(t0 + T, L);
    for (long l = t0; l < t1; l++) {
        long row = b * L + l;
        float dt = scan_dt(delta, dbias, row, H, h, softplus);
        sdt += dt;
        float du = dt * u[row * HP + c];
        __global const float *Br = Bm + (row * G + g) * N + n0;
        (void)scan_step(hs, a, dt, du, Br, Br, nvalid);
    }
    long base = ((b * nchunks + chunk) * HP + c) * N + n0;
    for (int k = 0; k < nvalid; k++)
        carry[base + k] = hs[k];
    if (slice == 0)
        dtsum[(b * nchunks + chunk) * HP + c] = sdt;
}

/* Pass 2: one work-item per (b, c, n); replaces each chunk's zero-start final state
 * in carry by the chunk's true start state. Reads state_in, writes only scratch. */
__kernel void scan_carry(__global const float *A, long a_off, __global const float *st,
                         long st_off, __global float *carry, __global const float *dtsum,
                         long B, int HP, int P, int N, int nchunks)
{
    long i = get_global_id(0);
    if (i >= B * HP * N)
        return;
    int n = i % N;
    int c = (i / N) % HP;
    long b = i / ((long)N * HP);
    int h = c / P;
#if A_SCALAR
    float a = A[a_off + h];
#else
    float a = A[a_off + (long)h * N + n];
#endif
    float hv = st ? st[st_off + i] : 0.0f;
    for (int ch = 0; ch < nchunks; ch++) {
        long idx = ((b * nchunks + ch) * HP + c) * N + n;
        float bz = carry[idx];
        carry[idx] = hv;
        if (ch + 1 < nchunks)
            hv = fma(exp(a * dtsum[(b * nchunks + ch) * HP + c]), hv, bz);
    }
}

/* Pass 3 (or the only pass): y for one chunk from its start state (carry, or the
 * state input when carry is NULL); the last chunk writes the final state. part is
 * TS * local size floats when NSL > 1. */
__kernel void scan_output(__global float *y, long y_off, __global const float *u, long u_off,
                          __global const float *delta, long d_off, __global const float *A,
                          long a_off, __global const float *Bm, long b_off,
                          __global const float *Cm, long c_off, __global const float *Dsk,
                          long dk_off, __global const float *z, long z_off,
                          __global const float *dbias, long db_off, __global const float *st,
                          long st_off, __global float *so, long so_off,
                          __global const float *carry, __local float *part, SCAN_DIM_ARGS)
{
    int lid = get_local_id(0), wg = get_local_size(0);
    int slice = lid / CHW, chl = lid % CHW;
    int HP = H * P;
    int cbase = get_group_id(0) * CHW;
    int c = cbase + chl;
    int active = c < HP;
    long b = get_group_id(1);
    int chunk = get_group_id(2);
    int h = min(c, HP - 1) / P, g = h / (H / G), n0 = slice * NS;
    int nvalid = min(NS, N - n0);
    y += y_off;
    u += u_off;
    delta += d_off;
    A += a_off;
    Bm += b_off;
    Cm += c_off;
    if (Dsk)
        Dsk += dk_off;
    if (z)
        z += z_off;
    if (dbias)
        dbias += db_off;
    float a[NS], hs[NS];
    scan_load_a(A, h, n0, N, a);
    long sbase = (b * HP + c) * N + n0;
    for (int k = 0; k < NS; k++) {
        float v = 0.0f;
        if (active && k < nvalid) {
            if (carry)
                v = carry[((b * nchunks + chunk) * HP + c) * N + n0 + k];
            else if (st)
                v = st[st_off + sbase + k];
        }
        hs[k] = v;
    }
    long t0 = (long)chunk * T, t1 = min(t0 + T, L);
    for (long t = t0; t < t1; t += TS) {
        for (int tt = 0; tt < TS; tt++) {
            long l = t + tt;
            float yp = 0.0f;
            if (active && l < t1) {
                long row = b * L + l;
                float dt = scan_dt(delta, dbias, row, H, h, softplus);
                float uv = u[row * HP + c];
                long bc = (row * G + g) * N + n0;
                yp = scan_step(hs, a, dt, dt * uv, Bm + bc, Cm + bc, nvalid);
                if (!MULTI) {
                    float yv = yp + (Dsk ? Dsk[h] * uv : 0.0f);
                    if (z)
                        yv *= silu_f32(z[row * HP + c]);
                    y[row * HP + c] = yv;
                }
            }
#if MULTI
            part[tt * wg + lid] = yp;
#endif
        }
#if MULTI
        {
            barrier(CLK_LOCAL_MEM_FENCE);
            for (int o = lid; o < TS * CHW; o += wg) {
                int tt = o / CHW, cl = o % CHW, cc = cbase + cl;
                long l = t + tt;
                if (l >= t1 || cc >= HP)
                    continue;
                float s = 0.0f;
                for (int sl = 0; sl < NSL; sl++)
                    s += part[tt * wg + sl * CHW + cl];
                long idx = (b * L + l) * HP + cc;
                float yv = s + (Dsk ? Dsk[cc / P] * u[idx] : 0.0f);
                if (z)
                    yv *= silu_f32(z[idx]);
                y[idx] = yv;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
#endif
    }
    if (so && active && chunk == nchunks - 1)
        for (int k = 0; k < nvalid; k++)
            so[so_off + sbase + k] = hs[k];
}
