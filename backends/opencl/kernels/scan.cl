/* scan.cl: the selective scan (Mamba-1 and Mamba-2), chunked over time. Used for
 * decode and short L (pass 3 alone), and for prefill where scan_runs.cl does not
 * apply (N > 128, or a device without room for its work-groups).
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
 * the chunk, and the chunk's sum of dt (carry and dtsum share the host's scratch
 * buffer, dtsum from float dt_at), from which pass 2 gets a = exp(A sum dt)
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
 * neighbouring work-items touch neighbouring channels (coalesced u, z, y).
 *
 * Throughput notes (the target is a large GPU): exp(dt A) is computed as
 * exp2(dt * A log2 e) with A pre-scaled once per work-item, which on GPUs is one
 * special-function instruction; with VEC4 (N % 4 == 0 and B, C 16-byte aligned,
 * checked by the host) B and C rows are read as float4; each step's dt, u and z
 * are loaded one step ahead so their latency hides behind the current step. Loops
 * over a work-item's states are fully unrolled (#pragma unroll, constant trip
 * counts with guards) so the per-state arrays stay in registers. */

#ifndef NS
#define NS 16
#endif
#ifndef A_SCALAR
#define A_SCALAR 0
#endif
#ifndef MULTI
#define MULTI 0 /* 1: NSL > 1 slices per channel, summed through local memory */
#endif
#ifndef VEC4
#define VEC4 0
#endif
#define TS 16
#define LOG2E 1.4426950408889634f

/* Sizes shared by passes 1 and 3: NSL slices per channel, CHW channels per
 * work-group, chunks of T steps. */
#define SCAN_DIM_ARGS                                                                    \
    long B, long L, int H, int P, int G, int N, int NSL, int CHW, int T, int nchunks,      \
        int softplus

/* dt for (b, l, h) with bias and softplus. */
float scan_dt(__global const float *delta, float bias, long row, int H, int h, int softplus)
{
    float dt = delta[row * H + h] + bias;
    return softplus ? softplus_f32(dt) : dt;
}

/* This work-item's A values times log2(e) (NS of them, or one with A_SCALAR). */
void scan_load_a(__global const float *A, int h, int n0, int N, float *a2)
{
#if A_SCALAR
    a2[0] = A[h] * LOG2E;
#else
    #pragma unroll
    for (int k = 0; k < NS; k++)
        a2[k] = n0 + k < N ? A[(long)h * N + n0 + k] * LOG2E : 0.0f;
#endif
}

/* State k's update: h = exp(dt A) h + dt u B; returns y's term h C. */
#define SCAN_UPDATE(k, bval, cval)                                                       \
    do {                                                                                 \
        hs[k] = fma(SCAN_DA(k), hs[k], du * (bval));                                     \
        yp = fma(hs[k], (cval), yp);                                                     \
    } while (0)

/* One step for NS states; returns sum_k h_k C_k (Cr NULL: 0, pass 1). */
float scan_step(float *hs, const float *a2, float dt, float du, __global const float *Br,
                __global const float *Cr, int nvalid)
{
    float yp = 0.0f;
#if A_SCALAR
    float dA = exp2(dt * a2[0]);
#define SCAN_DA(k) dA
#else
#define SCAN_DA(k) exp2(dt * a2[k])
#endif
#if VEC4
    #pragma unroll
    for (int k4 = 0; k4 < NS / 4; k4++) {
        if (4 * k4 < nvalid) {
            float4 bv = ((__global const float4 *)Br)[k4];
            float4 cv = Cr ? ((__global const float4 *)Cr)[k4] : (float4)(0.0f);
            SCAN_UPDATE(4 * k4 + 0, bv.x, cv.x);
            SCAN_UPDATE(4 * k4 + 1, bv.y, cv.y);
            SCAN_UPDATE(4 * k4 + 2, bv.z, cv.z);
            SCAN_UPDATE(4 * k4 + 3, bv.w, cv.w);
        }
    }
#else
    #pragma unroll
    for (int k = 0; k < NS; k++)
        if (k < nvalid)
            SCAN_UPDATE(k, Br[k], Cr ? Cr[k] : 0.0f);
#endif
#undef SCAN_DA
    return yp;
}

/* Pass 1: chunk `chunk` from a zero state; writes its final state to carry and
 * its sum of dt to dtsum. */
__kernel void scan_chunk_state(__global const float *u, long u_off, __global const float *delta,
                               long d_off, __global const float *A, long a_off,
                               __global const float *Bm, long b_off,
                               __global const float *dbias, long db_off,
                               __global float *carry, long dt_at, SCAN_DIM_ARGS)
{
    __global float *dtsum = carry + dt_at;
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
    Bm += b_off;
    float bias = dbias ? dbias[db_off + h] : 0.0f;
    float a2[NS], hs[NS];
    scan_load_a(A + a_off, h, n0, N, a2);
    #pragma unroll
    for (int k = 0; k < NS; k++)
        hs[k] = 0.0f;
    float sdt = 0.0f;
    long t0 = (long)chunk * T, t1 = min(t0 + T, L);
    long row = b * L + t0;
    float dt_next = scan_dt(delta, bias, row, H, h, softplus), u_next = u[row * HP + c];
    for (long l = t0; l < t1; l++, row++) {
        float dt = dt_next, uv = u_next;
        if (l + 1 < t1) {
            dt_next = scan_dt(delta, bias, row + 1, H, h, softplus);
            u_next = u[(row + 1) * HP + c];
        }
        sdt += dt;
        (void)scan_step(hs, a2, dt, dt * uv, Bm + (row * G + g) * N + n0, 0, nvalid);
    }
    /* Constant trip counts with a guard (here and below): a loop bounded by nvalid
     * would index hs dynamically, which moves it from registers to memory. */
    long base = ((b * nchunks + chunk) * HP + c) * N + n0;
    #pragma unroll
    for (int k = 0; k < NS; k++)
        if (k < nvalid)
            carry[base + k] = hs[k];
    if (slice == 0)
        dtsum[(b * nchunks + chunk) * HP + c] = sdt;
}

#define CARRY_BATCH 16 /* chunks whose loads are issued together */

/* Pass 2: one work-item per (b, c, n); replaces each chunk's zero-start final state
 * in carry by the chunk's true start state. Reads state_in, writes only scratch.
 * The loads of a batch of chunks go out before the dependent arithmetic, so the
 * walk costs a few memory latencies, not one per chunk. */
__kernel void scan_carry(__global const float *A, long a_off, __global const float *st,
                         long st_off, __global float *carry, long dt_at, long B, int HP, int P,
                         int N, int nchunks)
{
    __global const float *dtsum = carry + dt_at;
    long i = get_global_id(0);
    if (i >= B * HP * N)
        return;
    int n = i % N;
    int c = (i / N) % HP;
    long b = i / ((long)N * HP);
    int h = c / P;
#if A_SCALAR
    float a2 = A[a_off + h] * LOG2E;
#else
    float a2 = A[a_off + (long)h * N + n] * LOG2E;
#endif
    float hv = st ? st[st_off + i] : 0.0f;
    for (int ch0 = 0; ch0 < nchunks; ch0 += CARRY_BATCH) {
        float bz[CARRY_BATCH], sd[CARRY_BATCH];
        #pragma unroll
        for (int j = 0; j < CARRY_BATCH; j++) {
            int ch = ch0 + j;
            int has = ch + 1 < nchunks; /* the last chunk has no summary */
            bz[j] = has ? carry[((b * nchunks + ch) * HP + c) * N + n] : 0.0f;
            sd[j] = has ? dtsum[(b * nchunks + ch) * HP + c] : 0.0f;
        }
        #pragma unroll
        for (int j = 0; j < CARRY_BATCH; j++) {
            if (ch0 + j < nchunks) {
                carry[((b * nchunks + ch0 + j) * HP + c) * N + n] = hv;
                hv = fma(exp2(a2 * sd[j]), hv, bz[j]);
            }
        }
    }
}

/* Pass 3 (or the only pass): y for one chunk from its start state (carry, or the
 * state input when carry is NULL); the last chunk writes the final state. part is
 * TS * local size floats in the MULTI variant. */
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
    int cc0 = min(c, HP - 1); /* inactive work-items read a valid channel */
    int h = cc0 / P, g = h / (H / G), n0 = slice * NS;
    int nvalid = min(NS, N - n0);
    y += y_off;
    u += u_off;
    delta += d_off;
    Bm += b_off;
    Cm += c_off;
    if (z)
        z += z_off;
    float bias = dbias ? dbias[db_off + h] : 0.0f;
    float dskip = Dsk ? Dsk[dk_off + h] : 0.0f;
    float a2[NS], hs[NS];
    scan_load_a(A + a_off, h, n0, N, a2);
    long sbase = (b * HP + c) * N + n0;
    #pragma unroll
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
    long row0 = b * L + t0;
    float dt_next = scan_dt(delta, bias, row0, H, h, softplus);
    float u_next = u[row0 * HP + cc0];
    float z_next = z ? z[row0 * HP + cc0] : 0.0f;
    for (long t = t0; t < t1; t += TS) {
        for (int tt = 0; tt < TS; tt++) {
            long l = t + tt, row = b * L + l;
            float yp = 0.0f;
            if (l < t1) {
                float dt = dt_next, uv = u_next, zv = z_next;
                if (l + 1 < t1) {
                    dt_next = scan_dt(delta, bias, row + 1, H, h, softplus);
                    u_next = u[(row + 1) * HP + cc0];
                    z_next = z ? z[(row + 1) * HP + cc0] : 0.0f;
                }
                long bc = (row * G + g) * N + n0;
                yp = scan_step(hs, a2, dt, dt * uv, Bm + bc, Cm + bc, nvalid);
                if (!MULTI && active) {
                    float yv = yp + dskip * uv;
                    y[row * HP + c] = z ? yv * silu_f32(zv) : yv;
                }
            }
#if MULTI
            part[tt * wg + lid] = yp;
#endif
        }
#if MULTI
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
            float yv = s + (Dsk ? Dsk[dk_off + cc / P] * u[idx] : 0.0f);
            y[idx] = z ? yv * silu_f32(z[idx]) : yv;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
#endif
    }
    if (so && active && chunk == nchunks - 1)
        #pragma unroll
        for (int k = 0; k < NS; k++)
            if (k < nvalid)
                so[so_off + sbase + k] = hs[k];
}
