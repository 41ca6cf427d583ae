/* scan_runs.cl: the selective scan for prefill (L > a few steps, N <= 128), one
 * launch, no scratch. Shapes as in scan.cl: u, z, y [B, L, H, P]; delta
 * [B, L, H]; A [H, N] or, with A_SCALAR, [H]; Bm, Cm [B, L, G, N]; Dskip,
 * delta_bias [H]; state [B, H, P, N]. Channel c = h * P + p.
 *
 * A work-group holds CH channels of one group g (so they share B and C) and
 * marches over time in blocks of TC = R * TR steps, carrying the state. Each
 * channel has WPC = NL * R work-items: work-item (nl, r) owns the NPT states
 * n = nl * NPT .. nl * NPT + NPT - 1 and the run of TR steps r * TR .. r * TR +
 * TR - 1 of the block. Per block:
 *   1. staging: dt (bias, softplus), dt log2(e) (or, Mamba-2, exp(dt A)) and
 *      dt u for every (step, channel) and the block's B and C rows go to local
 *      memory, from registers loaded during the previous block (so global
 *      latency hides behind a block of math); the next block's loads are issued.
 *      Neighbouring work-items stage neighbouring channels: u, delta, z and y
 *      are read and written along the contiguous (h, p) axis.
 *   -- barrier 1
 *   2. each work-item scans its run from a zero state in registers, keeping
 *      the decays exp2(dt log2(e) A) (computed once) and dt u B; it publishes
 *      the run's aggregate (decay product P, end state E) in local memory.
 *   -- barrier 2
 *   3. every work-item folds the aggregates of its channel's runs 0 .. R-1
 *      onto the carried state with (P1, E1) o (P2, E2) = (P1 P2, P2 E1 + E2),
 *      taking its own run's true start state on the way and the next block's
 *      carry at the end (all work-items of a state slice compute the same
 *      carry in the same order, so no extra exchange is needed); it replays its
 *      run from that start state and writes the run's y partial sums (over its
 *      NPT states) to local memory.
 *   -- barrier 3
 *   4. each staged (step, channel) sums the NL partials, adds D u, gates with
 *      silu(z) and writes y.
 * Three barriers per block. The next block's staging overwrites what steps 2-3
 * read only after barrier 3, and step 4's reads finish before the next barrier
 * 1, so one copy of each local array suffices.
 *
 * Compile-time layout: NPT, NL, R, TR, CH (CH * NL * R = the work-group size),
 * A_SCALAR. The host (ops_scan_runs.c) picks them from N and checks the local
 * memory. Padding: rows of the staged per-channel arrays are TC + 8 floats (16-
 * byte aligned, different channels on different banks); B and C rows NPAD +
 * NPT; y partials are laid out so one run's TR writes and the output's reads
 * fall on distinct banks for the common shapes. */

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
#define WPC (NL * R)
#define WG (CH * WPC)
#define NPAD (NL * NPT)
#define TCP (TC + 8)
#define BSTR (NPAD + NPT)
#define YST (CH + 1)
#define YSN (TC * YST + 1)
#define EPT ((TC * CH + WG - 1) / WG)   /* staged (step, channel) pairs per work-item */
#define EBC ((TC * NPAD + WG - 1) / WG) /* staged B (and C) values per work-item */
/* Keep the run's decays and dt u B in registers for the replay when they fit. */
#define STORE (TR * NPT <= 32)
#define NP (A_SCALAR ? 1 : NPT)
#define PSTR (A_SCALAR ? 1 : NPAD)
#define LOG2E 1.4426950408889634f

/* Issues the global loads of block t0 into this work-item's staging registers. */
#define SCAN_LOAD_BLOCK(t0)                                                              \
    do {                                                                                 \
        _Pragma("unroll") for (int i_ = 0; i_ < EPT; i_++)                               \
        {                                                                                \
            long tt_ = (t0) + e_t[i_];                                                   \
            int ok_ = e_ok[i_] && tt_ < L;                                               \
            long row_ = b * L + tt_;                                                     \
            r_u[i_] = ok_ ? u[row_ * HP + e_c[i_]] : 0.0f;                               \
            r_dt[i_] = ok_ ? delta[row_ * H + e_h[i_]] : 0.0f;                           \
            r_z[i_] = ok_ && z ? z[row_ * HP + e_c[i_]] : 0.0f;                          \
        }                                                                                \
        _Pragma("unroll") for (int i_ = 0; i_ < EBC; i_++)                               \
        {                                                                                \
            int e_ = lid + i_ * WG, t_ = e_ / NPAD, n_ = e_ % NPAD;                      \
            long t2_ = (t0) + t_;                                                        \
            int ok_ = e_ < TC * NPAD && t2_ < L && n_ < N;                               \
            long at_ = ((b * L + t2_) * G + g) * N + n_;                                 \
            r_B[i_] = ok_ ? Bm[at_] : 0.0f;                                              \
            r_C[i_] = ok_ ? Cm[at_] : 0.0f;                                              \
        }                                                                                \
    } while (0)

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void
scan_runs(__global float *y, long y_off, __global const float *u, long u_off,
          __global const float *delta, long d_off, __global const float *A, long a_off,
          __global const float *Bm, long b_off, __global const float *Cm, long c_off,
          __global const float *Dsk, long dk_off, __global const float *z, long z_off,
          __global const float *dbias, long db_off, __global const float *st, long st_off,
          __global float *so, long so_off, long L, int H, int P, int G, int N, int softplus)
{
    __local float s_x[CH * TCP], s_dtu[CH * TCP];
    __local float s_B[TC * BSTR], s_C[TC * BSTR];
    __local float s_P[CH * R * PSTR], s_E[CH * R * NPAD];
    __local float s_y[NL * YSN];

    const int lid = get_local_id(0);
    const int cc = lid / WPC, q = lid % WPC, nl = q % NL, r = q / NL;
    const int HP = H * P, hpg = HP / G;
    const long b = get_group_id(2);
    const int g = get_group_id(1);
    const int tile0 = get_group_id(0) * CH;
    const int c0 = g * hpg + tile0;
    y += y_off;
    u += u_off;
    delta += d_off;
    A += a_off;
    Bm += b_off;
    Cm += c_off;
    if (z)
        z += z_off;

    /* This work-item's channel and states. */
    const int my_ok = tile0 + cc < hpg;
    const int my_c = c0 + cc, my_h = (my_ok ? my_c : c0) / P;
    float carry[NPT], a2[NPT];
    #pragma unroll
    for (int i = 0; i < NPT; i++) {
        int n = nl * NPT + i;
        int ok = my_ok && n < N;
        carry[i] = ok && st ? st[st_off + (b * HP + my_c) * N + n] : 0.0f;
        a2[i] = !A_SCALAR && ok ? A[(long)my_h * N + n] : 0.0f; /* staged dt has log2 e */
    }

    /* The (step, channel) pairs this work-item stages and outputs, fixed for all
     * blocks: pair e = lid + i * WG is step e / CH of channel e % CH. */
    int e_t[EPT], e_cc[EPT], e_c[EPT], e_h[EPT], e_ok[EPT];
    float e_bias[EPT], e_D[EPT], e_A[EPT];
    #pragma unroll
    for (int i = 0; i < EPT; i++) {
        int e = lid + i * WG;
        e_t[i] = e / CH;
        e_cc[i] = e % CH;
        e_ok[i] = e < TC * CH && tile0 + e_cc[i] < hpg;
        e_c[i] = c0 + e_cc[i];
        e_h[i] = (e_ok[i] ? e_c[i] : c0) / P;
        e_bias[i] = dbias ? dbias[db_off + e_h[i]] : 0.0f;
        e_D[i] = Dsk ? Dsk[dk_off + e_h[i]] : 0.0f;
        e_A[i] = A_SCALAR ? A[e_h[i]] * LOG2E : 0.0f;
    }

    float r_u[EPT], r_dt[EPT], r_z[EPT], r_B[EBC], r_C[EBC];
    SCAN_LOAD_BLOCK(0);
    for (long t0 = 0; t0 < L; t0 += TC) {
        /* 1. Staging. Steps past L are identity steps (decay 1, input 0). */
        float z_cur[EPT], du_cur[EPT];
        #pragma unroll
        for (int i = 0; i < EPT; i++) {
            int ok = e_ok[i] && t0 + e_t[i] < L;
            float x = A_SCALAR ? 1.0f : 0.0f, dtu = 0.0f, du = 0.0f;
            if (ok) {
                float dt = r_dt[i] + e_bias[i];
                if (softplus)
                    dt = softplus_f32(dt);
                x = A_SCALAR ? exp2(dt * e_A[i]) : dt * LOG2E;
                dtu = dt * r_u[i];
                du = e_D[i] * r_u[i];
            }
            if (lid + i * WG < TC * CH) {
                s_x[e_cc[i] * TCP + e_t[i]] = x;
                s_dtu[e_cc[i] * TCP + e_t[i]] = dtu;
            }
            du_cur[i] = du;
            z_cur[i] = r_z[i];
        }
        #pragma unroll
        for (int i = 0; i < EBC; i++) {
            int e = lid + i * WG;
            if (e < TC * NPAD) {
                s_B[(e / NPAD) * BSTR + e % NPAD] = r_B[i];
                s_C[(e / NPAD) * BSTR + e % NPAD] = r_C[i];
            }
        }
        if (t0 + TC < L)
            SCAN_LOAD_BLOCK(t0 + TC); /* in flight during this block's math */
        barrier(CLK_LOCAL_MEM_FENCE);

        /* 2. The run from a zero state. */
        float ax[TR], dtu[TR];
        #pragma unroll
        for (int k = 0; k < TR; k++) {
            ax[k] = s_x[cc * TCP + r * TR + k];
            dtu[k] = s_dtu[cc * TCP + r * TR + k];
        }
        float hl[NPT], Pr[NP];
        float av[STORE ? TR : 1][STORE ? NPT : 1], bv[STORE ? TR : 1][STORE ? NPT : 1];
        #pragma unroll
        for (int i = 0; i < NPT; i++)
            hl[i] = 0.0f;
        #pragma unroll
        for (int i = 0; i < NP; i++)
            Pr[i] = 1.0f;
        #pragma unroll
        for (int k = 0; k < TR; k++) {
            int row = (r * TR + k) * BSTR + nl * NPT;
            #pragma unroll
            for (int i = 0; i < NPT; i++) {
                float da = A_SCALAR ? ax[k] : exp2(ax[k] * a2[i]);
                float bb = dtu[k] * s_B[row + i];
                if (STORE) {
                    av[STORE ? k : 0][STORE ? i : 0] = da;
                    bv[STORE ? k : 0][STORE ? i : 0] = bb;
                }
                hl[i] = fma(da, hl[i], bb);
                if (!A_SCALAR)
                    Pr[A_SCALAR ? 0 : i] *= da;
            }
            if (A_SCALAR)
                Pr[0] *= ax[k];
        }
        const int agg = cc * R + r;
        #pragma unroll
        for (int i = 0; i < NPT; i++)
            s_E[agg * NPAD + nl * NPT + i] = hl[i];
        if (A_SCALAR) {
            if (nl == 0)
                s_P[agg] = Pr[0];
        } else {
            #pragma unroll
            for (int i = 0; i < NP; i++)
                s_P[agg * PSTR + nl * NPT + i] = Pr[i];
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        /* 3. Start state of this run, carry of the next block, replay. */
        float hin[NPT];
        #pragma unroll
        for (int i = 0; i < NPT; i++)
            hin[i] = 0.0f;
        #pragma unroll
        for (int j = 0; j < R; j++) {
            int aj = cc * R + j;
            #pragma unroll
            for (int i = 0; i < NPT; i++) {
                float pj = A_SCALAR ? s_P[aj] : s_P[aj * PSTR + nl * NPT + i];
                float ej = s_E[aj * NPAD + nl * NPT + i];
                if (j == r)
                    hin[i] = carry[i];
                carry[i] = fma(pj, carry[i], ej);
            }
        }
        float yp[TR];
        #pragma unroll
        for (int k = 0; k < TR; k++) {
            int row = (r * TR + k) * BSTR + nl * NPT;
            float yv = 0.0f;
            #pragma unroll
            for (int i = 0; i < NPT; i++) {
                float da, bb;
                if (STORE) {
                    da = av[STORE ? k : 0][STORE ? i : 0];
                    bb = bv[STORE ? k : 0][STORE ? i : 0];
                } else {
                    da = A_SCALAR ? ax[k] : exp2(ax[k] * a2[i]);
                    bb = dtu[k] * s_B[row + i];
                }
                hin[i] = fma(da, hin[i], bb);
                yv = fma(hin[i], s_C[row + i], yv);
            }
            yp[k] = yv;
        }
        #pragma unroll
        for (int k = 0; k < TR; k++)
            s_y[nl * YSN + (r * TR + k) * YST + cc] = yp[k];
        barrier(CLK_LOCAL_MEM_FENCE);

        /* 4. y for the staged pairs. */
        #pragma unroll
        for (int i = 0; i < EPT; i++) {
            long tt = t0 + e_t[i];
            if (e_ok[i] && tt < L) {
                float s = 0.0f;
                #pragma unroll
                for (int j = 0; j < NL; j++)
                    s += s_y[j * YSN + e_t[i] * YST + e_cc[i]];
                float yv = s + du_cur[i];
                long idx = (b * L + tt) * HP + e_c[i];
                y[idx] = z ? yv * silu_f32(z_cur[i]) : yv;
            }
        }
    }
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
