/* scan_runs.cl: the selective scan for prefill (L > a few steps, N <= 128), one
 * launch, no scratch. Shapes as in scan.cl: u, z, y [B, L, H, P]; delta
 * [B, L, H]; A [H, N] or, with A_SCALAR, [H]; Bm, Cm [B, L, G, N]; Dskip,
 * delta_bias [H]; state [B, H, P, N]. Channel c = h * P + p.
 *
 * A work-group holds CH channels of one group g (so they share B and C) and
 * marches over time in blocks of TC = R * TR steps, carrying the state. Each
 * channel has WPC = NL * R work-items: work-item (nl, r) owns the NPT states
 * n = nl * NPT .. nl * NPT + NPT - 1 and the run of TR steps r * TR .. r * TR +
 * TR - 1 of the block. Each block goes through two phases, each ended by a
 * barrier:
 *   phase 1: y of the previous block (the NL partials summed, plus D u, gated
 *      with silu(z)) is written for the staged (step, channel) pairs; each
 *      work-item scans its run from a zero state in registers (the decays
 *      exp2(dt log2(e) A) computed once), forming for each step k its y term
 *      from the zero start, sum_n C hl, and the weights C cum, where cum is
 *      the decay product since the run's start: the true state is
 *      hl + cum h_in, so y_k = sum_n C hl + sum_n (C cum) h_in. It publishes
 *      the run's aggregate (decay product P = cum at the end, end state E).
 *   phase 2: every work-item folds the aggregates of its channel's runs
 *      0 .. R-1 onto the carried state with (P1, E1) o (P2, E2) =
 *      (P1 P2, P2 E1 + E2), taking its own run's true start state h_in on the
 *      way and the next block's carry at the end (all work-items of a state
 *      slice compute the same carry in the same order, so no exchange is
 *      needed); y's partial sums over its NPT states are one dot product per
 *      step (no replay), written to local memory. Then the next block is
 *      staged: dt (bias, softplus), dt log2(e) (or, Mamba-2, exp(dt A)) and
 *      dt u for every (step, channel) and the block's B and C rows, from
 *      registers loaded a block earlier, and the block after it is loaded
 *      (rows past L read row L-1 and are zeroed: no branch around a load).
 *      Neighbouring work-items stage neighbouring channels: u, delta, z and y
 *      are read and written along the contiguous (h, p) axis.
 * Two barriers per block and one copy of each local array: the staged inputs
 * are read only in phase 1 and written only in phase 2, the aggregates written
 * in phase 1 and read in phase 2, the y partials written in phase 2 and read
 * in the next phase 1.
 *
 * Compile-time layout: NPT, NL, R, TR, CH (CH * NL * R = the work-group size),
 * A_SCALAR, and the host's choices BC4, BCV, PEV and SCAN_PTX (below). The host
 * (ops_scan_runs.c) picks them from N and the device and checks the local
 * memory. Padding: rows of the staged per-channel arrays are TC + 8 floats (16-
 * byte aligned, different channels on different banks); B and C rows NPAD
 * with each run's rows skewed (RSK), or NPAD + NPT, or with BCV one float4 per
 * (step, slice); y partials are laid out so one run's TR writes and the
 * output's reads fall on distinct banks for the common shapes. */

#ifndef NPT
#define NPT 2
#endif
#ifndef NL
#define NL 8
#endif
#ifndef R
#define R 8
#endif
#ifndef TR
#define TR 8
#endif
#ifndef CH
#define CH 4
#endif
#ifndef A_SCALAR
#define A_SCALAR 0
#endif

#define TC (R * TR)
#if TR % 4
#error "TR must be a multiple of 4 (the runs' inputs are read as float4)"
#endif
#define WPC (NL * R)
#define WG (CH * WPC)
#define NPAD (NL * NPT)
#define TCP (TC + 8)
/* Start of run rr's B and C rows, past rr * TR full rows: phase 1 reads state
 * nl * NPT + i of step k of every run of a warp at once, and with plain rows the
 * runs sit a multiple of 32 words apart (a 4-way bank conflict for N = 16, TR =
 * 16, 2-way for TR = 8). Shifted, run rr starts on bank rr % NPT + NL * NPT *
 * (rr / NPT) (mod 32), so the runs' states interleave and fill the 32 banks;
 * each run gets 32 words of room, keeping the runs in order and apart. H100,
 * N = 16: 190 -> 178 us. Only for NPT <= 2: wider slices are read as vectors,
 * which the shift would misalign (N = 128: 1.26 -> 1.96 ms), and keep rows of
 * NPAD + NPT. */
#define SKEW (NPT <= 2)
#define BSTR (SKEW ? NPAD : NPAD + NPT)
#define RSK(rr) \
    (SKEW ? (((rr) % NPT + NL * NPT * ((rr) / NPT) - (rr) * TR * BSTR) & 31) + 32 * (rr) : 0)
#define YST (CH + 1)
#define YSN (TC * YST + 1)
#define EPT ((TC * CH + WG - 1) / WG)   /* staged (step, channel) pairs per work-item */
#ifndef BC4
#define BC4 0 /* 1: B and C rows staged as float4 (N % 4 == 0, no padding, aligned) */
#endif
#if BC4
/* float4s of B then of C per block, and per work-item (f = lid + i * WG). */
#define E4 (TC * NPAD / 4)
#define EBC ((2 * E4 + WG - 1) / WG)
#else
#define EBC ((TC * NPAD + WG - 1) / WG) /* staged B (and C) values per work-item */
#endif
#define NP (A_SCALAR ? 1 : NPT)

#define PSTR (A_SCALAR ? 1 : NPAD)
#define LOG2E 1.4426950408889634f

/* With NPT = 2 (and BC4), BCV keeps a slice's B and C of a step as one float4
 * {B n, B n+1, C n, C n+1}: phase 1 reads it with one 16-byte load instead of
 * four scalar ones, and a warp's eight slices of a step are 128 contiguous
 * bytes (no bank conflict, no skew). PEV does the same for a run's aggregate
 * {P n, P n+1, E n, E n+1} (per-state A). H100, Mamba-1 N = 16: 0.176 -> 0.172
 * ms, 186 -> 93 shared-memory instructions in the PTX. */
#ifndef BCV
#define BCV 0
#endif
#ifndef PEV
#define PEV 0
#endif
#if BCV && !(BC4 && NPT == 2)
#error "BCV needs BC4 and NPT == 2"
#endif
#if PEV && (A_SCALAR || NPT != 2)
#error "PEV needs NPT == 2 and a per-state A"
#endif

#ifndef SCAN_PTX
#define SCAN_PTX 0
#endif
/* 2^x for the decays. On NVIDIA (SCAN_PTX, set by the host) native_exp2 becomes
 * ex2.approx.f32, which ptxas expands to four instructions (a rescale around
 * MUFU.EX2 for results below 2^-126, even with -cl-denorms-are-zero); the .ftz
 * form is the MUFU alone, and a decay below 2^-126 flushed to 0 changes the
 * state by less than 2^-126 times the previous state. 96 of the kernel's 1608
 * SASS instructions (N = 16); H100 Mamba-1: 0.174 -> 0.167 ms. */
inline float scan_exp2(float x)
{
#if SCAN_PTX
    float y;
    __asm__("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
    return y;
#else
    return native_exp2(x);
#endif
}

/* Issues the global loads of block t0 into this work-item's staging registers.
 * Rows past L (and padding states past N) read a clamped, valid address and are
 * zeroed by the staging: no branch around a load. */
#define SCAN_LOAD_BLOCK(t0)                                                              \
    do {                                                                                 \
        _Pragma("unroll") for (int i_ = 0; i_ < EPT; i_++)                               \
        {                                                                                \
            int ok_ = (t0) + e_t[i_] < L;                                                \
            r_u[i_] = ok_ ? u[e_u0[i_]] : 0.0f;                                          \
            r_dt[i_] = ok_ ? delta[e_d0[i_]] : 0.0f;                                     \
            r_z[i_] = z && ok_ ? z[e_u0[i_]] : 0.0f;                                     \
            e_u0[i_] += TC * (long)HP;                                                   \
            e_d0[i_] += TC * (long)H;                                                    \
        }                                                                                \
        SCAN_LOAD_BC(t0);                                                                \
    } while (0)

#if BC4
#define SCAN_LOAD_BC(t0)                                                                 \
    _Pragma("unroll") for (int i_ = 0; i_ < EBC; i_++)                                   \
    {                                                                                    \
        r_BC[i_] = (t0) + bc_row[i_] < L ? *p_bc[i_] : (float4)(0.0f);                   \
        p_bc[i_] += TC * (long)GN / 4;                                                   \
    }
#else
#define SCAN_LOAD_BC(t0)                                                                 \
    _Pragma("unroll") for (int i_ = 0; i_ < EBC; i_++)                                   \
    {                                                                                    \
        long at_ = bc0 + (long)min((t0) + bc_t + i_ * (WG / NPAD), Lm1) * GN;            \
        r_B[i_] = Bm[at_];                                                               \
        r_C[i_] = Cm[at_];                                                               \
    }
#endif

/* Stages block t0 from the registers into local memory. Steps past L are
 * identity steps (decay 1, input 0). */
#if BCV
#define SCAN_STAGE_BC(t0)                                                                \
    _Pragma("unroll") for (int i = 0; i < EBC; i++)                                      \
    {                                                                                    \
        int f = lid + i * WG, f4 = f % E4, t = f4 / (NPAD / 4);                          \
        if (f < 2 * E4) {                                                                \
            __local float *dst =                                                         \
                s_BC + t * (4 * NL) + f4 % (NPAD / 4) * 8 + (f < E4 ? 0 : 2);            \
            float4 v = r_BC[i];                                                          \
            *(__local float2 *)dst = v.xy;                                               \
            *(__local float2 *)(dst + 4) = v.zw;                                         \
        }                                                                                \
    }
#elif BC4
#define SCAN_STAGE_BC(t0)                                                                \
    _Pragma("unroll") for (int i = 0; i < EBC; i++)                                      \
    {                                                                                    \
        int f = lid + i * WG, f4 = f % E4, t = f4 / (NPAD / 4);                          \
        if (f < 2 * E4) {                                                                \
            __local float *dst = (f < E4 ? s_B : s_C) + t * BSTR + RSK(t / TR) +         \
                                 f4 % (NPAD / 4) * 4;                                     \
            float4 v = r_BC[i]; /* zero past L (the load) */                             \
            dst[0] = v.x;                                                                \
            dst[1] = v.y;                                                                \
            dst[2] = v.z;                                                                \
            dst[3] = v.w;                                                                \
        }                                                                                \
    }
#else
#define SCAN_STAGE_BC(t0)                                                                \
    _Pragma("unroll") for (int i = 0; i < EBC; i++)                                      \
    {                                                                                    \
        int t = bc_t + i * (WG / NPAD);                                                  \
        if (t < TC) {                                                                    \
            int keep = (t0) + t < L && bc_nraw < N;                                      \
            s_B[t * BSTR + RSK(t / TR) + bc_nraw] = keep ? r_B[i] : 0.0f;                \
            s_C[t * BSTR + RSK(t / TR) + bc_nraw] = keep ? r_C[i] : 0.0f;                \
        }                                                                                \
    }
#endif
#define SCAN_STAGE(t0)                                                                   \
    do {                                                                                 \
        _Pragma("unroll") for (int i = 0; i < EPT; i++)                                  \
        {                                                                                \
            int ok = e_ok[i] && (t0) + e_t[i] < L;                                       \
            float dt = r_dt[i] + e_bias[i];                                              \
            if (softplus)                                                                \
                dt = softplus_f32(dt);                                                   \
            dt = ok ? dt : 0.0f;                                                         \
            float x = A_SCALAR ? native_exp2(dt * e_A[i]) : dt * LOG2E;                         \
            if (lid + i * WG < TC * CH) {                                                \
                s_x[e_cc[i] * TCP + e_t[i]] = x;                                         \
                s_dtu[e_cc[i] * TCP + e_t[i]] = ok ? dt * r_u[i] : 0.0f;                 \
            }                                                                            \
            du_pend[i] = e_D[i] * r_u[i];                                                \
            z_pend[i] = r_z[i];                                                          \
        }                                                                                \
        SCAN_STAGE_BC(t0);                                                               \
    } while (0)

/* y of block t0 for the staged pairs, from the partials in s_y. */
#define SCAN_OUTPUT(t0)                                                                  \
    do {                                                                                 \
        _Pragma("unroll") for (int i = 0; i < EPT; i++)                                  \
        {                                                                                \
            int tt = (t0) + e_t[i];                                                      \
            if (e_ok[i] && tt < L) {                                                     \
                float s = 0.0f;                                                          \
                _Pragma("unroll") for (int j = 0; j < NL; j++)                           \
                    s += s_y[j * YSN + e_t[i] * YST + e_cc[i]];                          \
                float yv = s + du_out[i];                                                \
                y[e_y0[i]] = z ? yv * silu_f32(z_out[i]) : yv;                          \
            }                                                                            \
            e_y0[i] += TC * (long)HP;                                                    \
        }                                                                                \
    } while (0)

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void
scan_runs(__global float *y, long y_off, __global const float *u, long u_off,
          __global const float *delta, long d_off, __global const float *A, long a_off,
          __global const float *Bm, long b_off, __global const float *Cm, long c_off,
          __global const float *Dsk, long dk_off, __global const float *z, long z_off,
          __global const float *dbias, long db_off, __global const float *st, long st_off,
          __global float *so, long so_off, int L, int H, int P, int G, int N, int softplus)
{
    /* 16-byte aligned so a run's consecutive reads can be vector loads. */
    __local float s_x[CH * TCP] __attribute__((aligned(16)));
    __local float s_dtu[CH * TCP] __attribute__((aligned(16)));
#if BCV
    __local float s_BC[TC * 4 * NL] __attribute__((aligned(16)));
#else
    __local float s_B[TC * BSTR + SKEW * 32 * R] __attribute__((aligned(16)));
    __local float s_C[TC * BSTR + SKEW * 32 * R] __attribute__((aligned(16)));
#endif
#if PEV
    __local float s_PE[CH * R * 4 * NL] __attribute__((aligned(16)));
#else
    __local float s_P[CH * R * PSTR] __attribute__((aligned(16)));
    __local float s_E[CH * R * NPAD] __attribute__((aligned(16)));
#endif
    __local float s_y[NL * YSN];

    /* Unsigned, so the divisions by the (power of two) layout constants are shifts. */
    const uint lid = get_local_id(0);
    const int cc = lid / WPC, nl = lid % NL, r = lid % WPC / NL;
    const int HP = H * P, hpg = HP / G;
    const long b = get_group_id(2), bL = b * L;
    const int Lm1 = L - 1, GN = G * N;
    y += y_off;
    u += u_off;
    delta += d_off;
    Bm += b_off;
    Cm += c_off;
    if (z)
        z += z_off;
    const int g = get_group_id(1);
    const int tile0 = get_group_id(0) * CH;
    const int c0 = g * hpg + tile0;

    /* This work-item's channel and states. */
    const int my_ok = tile0 + cc < hpg;
    const int my_c = c0 + cc, my_h = (my_ok ? my_c : c0) / P;
    float carry[NPT], a2[NPT];
    #pragma unroll
    for (int i = 0; i < NPT; i++) {
        int n = nl * NPT + i;
        int ok = my_ok && n < N;
        carry[i] = ok && st ? st[st_off + (b * HP + my_c) * N + n] : 0.0f;
        /* The staged dt already carries log2(e). */
        a2[i] = !A_SCALAR && ok ? A[a_off + (long)my_h * N + n] : 0.0f;
    }

    /* The (step, channel) pairs this work-item stages and outputs, fixed for all
     * blocks: pair e = lid + i * WG is step e / CH of channel e % CH. Channels
     * past the group's end are clamped to a valid one and never written. */
    int e_t[EPT], e_cc[EPT], e_c[EPT], e_h[EPT], e_ok[EPT];
    /* elements of the pair in the next block to load in [B, L, HP] and in delta */
    long e_u0[EPT], e_d0[EPT];
    long e_y0[EPT]; /* and in the next block to write in y */
    float e_bias[EPT], e_D[EPT], e_A[EPT];
    #pragma unroll
    for (int i = 0; i < EPT; i++) {
        uint e = lid + i * WG;
        e_t[i] = e / CH;
        e_cc[i] = e % CH;
        e_ok[i] = e < TC * CH && tile0 + e_cc[i] < hpg;
        e_c[i] = e_ok[i] ? c0 + e_cc[i] : c0;
        e_h[i] = e_c[i] / P;
        e_u0[i] = (bL + e_t[i]) * HP + e_c[i];
        e_d0[i] = (bL + e_t[i]) * H + e_h[i];
        e_y0[i] = e_u0[i];
        e_bias[i] = dbias ? dbias[db_off + e_h[i]] : 0.0f;
        e_D[i] = Dsk ? Dsk[dk_off + e_h[i]] : 0.0f;
        e_A[i] = A_SCALAR ? A[a_off + e_h[i]] * LOG2E : 0.0f;
    }
    /* The B and C values this work-item stages: with BC4, float4 f of the
     * block's B rows then C rows; else state bc_nraw of steps bc_t + i * (WG /
     * NPAD) (WG is a multiple of NPAD). */
#if BC4
    const long bc0 = (bL * G + g) * N;
    float4 r_BC[EBC];
    int bc_row[EBC];
    __global const float4 *p_bc[EBC];
    #pragma unroll
    for (int i = 0; i < EBC; i++) {
        int f = min((int)lid + i * WG, 2 * E4 - 1), f4 = f % E4;
        bc_row[i] = f4 / (NPAD / 4);
        p_bc[i] = (__global const float4 *)((f < E4 ? Bm : Cm) + bc0 + (long)bc_row[i] * GN +
                                            f4 % (NPAD / 4) * 4);
    }
#else
    const int bc_t = lid / NPAD, bc_nraw = lid % NPAD;
    const long bc0 = (bL * G + g) * N + min(bc_nraw, N - 1);
    float r_B[EBC], r_C[EBC];
#endif
    float r_u[EPT], r_dt[EPT], r_z[EPT];
    /* D u and z of the last block staged (pend) and of the block whose y is
     * written next (out). */
    float du_pend[EPT], z_pend[EPT], du_out[EPT], z_out[EPT];

    SCAN_LOAD_BLOCK(0);
    SCAN_STAGE(0);
    if (TC < L)
        SCAN_LOAD_BLOCK(TC);
    barrier(CLK_LOCAL_MEM_FENCE);
    int t_last = 0;
    for (int t0 = 0; t0 < L; t0 += TC) {
        t_last = t0;
        /* Phase 1: y of the previous block; this block's runs from a zero
         * state. With cum the decay product since the run's start, the true
         * state is h = hl + cum * h_in, so
         *   y_k = sum_n C hl  +  sum_n (C cum) h_in:
         * the first term and the weights C cum are formed now, and once h_in is
         * known (phase 2) y is a dot product; nothing of the run is replayed. */
        if (t0 > 0)
            SCAN_OUTPUT(t0 - TC);
        /* The run's dt log2(e) (or decays) and dt u: TR consecutive floats, 16-byte
         * aligned (TCP and TR are multiples of 4), read as float4s. */
        float ax[TR], dtu[TR];
        #pragma unroll
        for (int k = 0; k < TR; k += 4) {
            float4 xv = *(__local const float4 *)(s_x + cc * TCP + r * TR + k);
            float4 dv = *(__local const float4 *)(s_dtu + cc * TCP + r * TR + k);
            ax[k] = xv.x;
            ax[k + 1] = xv.y;
            ax[k + 2] = xv.z;
            ax[k + 3] = xv.w;
            dtu[k] = dv.x;
            dtu[k + 1] = dv.y;
            dtu[k + 2] = dv.z;
            dtu[k + 3] = dv.w;
        }
        float hl[NPT], cum[NP], w[TR][NPT], yl[TR];
        #pragma unroll
        for (int i = 0; i < NPT; i++)
            hl[i] = 0.0f;
        #pragma unroll
        for (int i = 0; i < NP; i++)
            cum[i] = 1.0f;
        #pragma unroll
        for (int k = 0; k < TR; k++) {
#if BCV
            float4 bc = *(__local const float4 *)(s_BC + (r * TR + k) * (4 * NL) + nl * 4);
            float bk[2] = {bc.x, bc.y}, ck[2] = {bc.z, bc.w};
#else
            int row = (r * TR + k) * BSTR + RSK(r) + nl * NPT;
#endif
            float yk = 0.0f;
            if (A_SCALAR)
                cum[0] *= ax[k];
            #pragma unroll
            for (int i = 0; i < NPT; i++) {
                float da = A_SCALAR ? ax[k] : scan_exp2(ax[k] * a2[i]);
#if BCV
                float cv = ck[i], bv = bk[i];
#else
                float cv = s_C[row + i], bv = s_B[row + i];
#endif
                hl[i] = fma(da, hl[i], dtu[k] * bv);
                if (!A_SCALAR)
                    cum[A_SCALAR ? 0 : i] *= da;
                w[k][i] = cv * cum[A_SCALAR ? 0 : i];
                yk = fma(cv, hl[i], yk);
            }
            yl[k] = yk;
        }
        const int agg = cc * R + r;
#if PEV
        *(__local float4 *)(s_PE + agg * (4 * NL) + nl * 4) =
            (float4)(cum[0], cum[1], hl[0], hl[1]);
#else
        #pragma unroll
        for (int i = 0; i < NPT; i++)
            s_E[agg * NPAD + nl * NPT + i] = hl[i];
        if (A_SCALAR) {
            if (nl == 0)
                s_P[agg] = cum[0];
        } else {
            #pragma unroll
            for (int i = 0; i < NP; i++)
                s_P[agg * PSTR + nl * NPT + i] = cum[i];
        }
#endif
        barrier(CLK_LOCAL_MEM_FENCE);

        /* Phase 2: start state of this run and carry of the next block; y
         * partials; the next block staged (its loads were issued a block ago)
         * and the one after it loaded. */
        float hin[NPT];
        #pragma unroll
        for (int i = 0; i < NPT; i++)
            hin[i] = 0.0f;
        #pragma unroll
        for (int j = 0; j < R; j++) {
            int aj = cc * R + j;
#if PEV
            float4 pe = *(__local const float4 *)(s_PE + aj * (4 * NL) + nl * 4);
            float pjv[2] = {pe.x, pe.y}, ejv[2] = {pe.z, pe.w};
#endif
            #pragma unroll
            for (int i = 0; i < NPT; i++) {
#if PEV
                float pj = pjv[i], ej = ejv[i];
#else
                float pj = A_SCALAR ? s_P[aj] : s_P[aj * PSTR + nl * NPT + i];
                float ej = s_E[aj * NPAD + nl * NPT + i];
#endif
                if (j == r)
                    hin[i] = carry[i];
                carry[i] = fma(pj, carry[i], ej);
            }
        }
        #pragma unroll
        for (int k = 0; k < TR; k++) {
            float yv = yl[k];
            #pragma unroll
            for (int i = 0; i < NPT; i++)
                yv = fma(w[k][i], hin[i], yv);
            s_y[nl * YSN + (r * TR + k) * YST + cc] = yv;
        }
        #pragma unroll
        for (int i = 0; i < EPT; i++) {
            du_out[i] = du_pend[i];
            z_out[i] = z_pend[i];
        }
        if (t0 + TC < L) {
            SCAN_STAGE(t0 + TC);
            if (t0 + 2 * TC < L)
                SCAN_LOAD_BLOCK(t0 + 2 * TC);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    SCAN_OUTPUT(t_last);
    /* Every work-item of a state slice holds the same final state; one writes it.
     * The initial state was read before the first barrier, so so may alias st. */
    if (so && my_ok && r == 0) {
        #pragma unroll
        for (int i = 0; i < NPT; i++) {
            int n = nl * NPT + i;
            if (n < N)
                so[so_off + (b * HP + my_c) * N + n] = carry[i];
        }
    }
}
