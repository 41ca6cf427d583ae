/*
 * k_scan_m1.cu: SELECTIVE_SCAN prefill for the Mamba-1 form (A [H, N]) with
 * N <= 16, the state size of every Mamba-1 model.
 *
 * The scan is bound by instruction issue, not by memory: D=2048, N=16, L=4096
 * is 134M (step, state) updates, each an exponential, and the f32 tensors move
 * in ~33 us. So the kernel is built to spend as few instructions as possible
 * around the update's 7 FP operations and one exponential (Nsight Compute on the
 * H100: 16 instructions per update at 64% issue, against 22 at 65% for the
 * general runs kernel in k_scan.cu):
 *
 *  - one warp per channel, lane (r, nl): state elements n = nl*NPT + i of the
 *    8*NPT, and the 16-step run r of each 64-step chunk (4 runs). Pass 1 scans
 *    the run from a zero state in registers (each exponential computed once),
 *    keeping per step the local output and, per state, C times the decay
 *    product since the run's start: with those, the run's true start state
 *    enters y as one FMA per (step, state), with no second recurrence (whose
 *    FMA chain and reloads of C left the warps waiting) and in 48 registers
 *    rather than the 64 that replaying the run would keep.
 *  - the four runs are combined through shared memory (each lane reads the
 *    four (product, end state) pairs of its state elements and chains them),
 *    not through rounds of shuffles; the chain's end is the carried state.
 *  - pass 2 stores y's partial sum over the lane's state elements; the thread
 *    that staged a (step, channel) sums the 8 partials with two 16-byte loads
 *    when it writes y.
 *  - staging: each thread handles two (step, channel) pairs per chunk (softplus,
 *    dt*log2e, dt*u, D*u, z kept in registers) and 16-byte loads of B and C;
 *    the next chunk's loads are in flight during the scan.
 * Shared-memory layouts are padded so that every warp access is conflict-free
 * (B and C, interleaved per lane so one load serves a step, get a spare row
 * after each run's 16 rows: the runs' rows would otherwise share banks).
 */
#include "scan.cuh"

namespace {

/* Two blocks (16 warps) per SM leave 128 registers a thread, 48 of them the run's
 * kept values; with three (80 registers) those spill, and the H100 took 187 us
 * against 107. */
constexpr int M1_MIN_BLOCKS = 2;

constexpr int M1_CH = 8;       /* channels (warps) per block */
constexpr int M1_R = 4;        /* runs per chunk */
constexpr int M1_TR = 16;      /* steps per run */
constexpr int M1_TC = M1_R * M1_TR; /* steps per chunk */
constexpr int M1_THREADS = 256;
constexpr int M1_XSTR = M1_TC + 4;          /* s_x / s_dtu row: staggers channels' banks */
constexpr int M1_BROWS = M1_TC + M1_R;      /* B/C rows incl. one spare per run */
constexpr int M1_YRUN = M1_TR * 8 + 8;      /* y partials of a run: [16 steps][8 lanes] + pad */
constexpr int M1_YCH = M1_R * M1_YRUN + 4;  /* y partials of a channel */

/* One of the two shared-memory buffers (offsets in floats, all multiples of 4):
 * chunk i is staged into buffer i % 2 while warps may still be scanning chunk
 * i - 1 in the other, and chunk i - 1's y partials are read after the barrier
 * of chunk i, so one barrier per chunk suffices. */
template <int NPAD> struct m1_buffer {
    static constexpr int X = 0;                            /* dt*log2e [CH][XSTR] */
    static constexpr int DTU = X + M1_CH * M1_XSTR;        /* dt*u [CH][XSTR] */
    /* B and C [BROWS][NPAD / NPT][B of NPT states, C of NPT states]: a lane
     * reads both for a step with one load */
    static constexpr int BC = DTU + M1_CH * M1_XSTR;
    static constexpr int Y = BC + 2 * M1_BROWS * NPAD;     /* y partials [CH][YCH] */
    static constexpr int SIZE = Y + M1_CH * M1_YCH;
    /* bytes of both buffers and the run-combine area */
    static constexpr size_t BYTES = sizeof(float) * (2 * SIZE + M1_CH * M1_R * 8 * 2 * (NPAD / 8));
};

/* n consecutive activations from global memory as floats (n = 2 or 4; the
 * address is aligned to n elements). */
template <int n> __device__ __forceinline__ void ld_vec(const float *p, float (&v)[n]) {
    if (n == 4) {
        float4 q = *(const float4 *)p;
        v[0] = q.x; v[1] = q.y; v[n > 2 ? 2 : 0] = q.z; v[n > 3 ? 3 : 0] = q.w;
    } else {
        float2 q = *(const float2 *)p;
        v[0] = q.x; v[1] = q.y;
    }
}
template <int n> __device__ __forceinline__ void ld_vec(const __nv_bfloat16 *p, float (&v)[n]) {
    if (n == 4) {
        uint2 q = *(const uint2 *)p;
        v[0] = __uint_as_float(q.x << 16); v[1] = __uint_as_float(q.x & 0xffff0000u);
        v[n > 2 ? 2 : 0] = __uint_as_float(q.y << 16); v[n > 3 ? 3 : 0] = __uint_as_float(q.y & 0xffff0000u);
    } else {
        uint32_t q = *(const uint32_t *)p;
        v[0] = __uint_as_float(q << 16); v[1] = __uint_as_float(q & 0xffff0000u);
    }
}

/* NPT state elements per lane (N <= 8*NPT); HZ: the z gate is present; the
 * vec argument says B and C rows can be read with aligned vector loads. */
template <typename T, int NPT, bool HZ>
__global__ void __launch_bounds__(M1_THREADS, M1_MIN_BLOCKS) scan_m1_kernel(const scan_args<T> a, const int vec) {
    cuda_pdl_enter();
    constexpr int NL = 8, NPAD = NL * NPT;
    constexpr int EBC = M1_TC * NPAD / M1_THREADS; /* B (and C) elements staged per thread */
    static_assert(EBC == 2 || EBC == 4, "B/C staging layout");

    using buf = m1_buffer<NPAD>;
    extern __shared__ float4 m1_smem4[];
    float *const smem = (float *)m1_smem4;
    float *const s_comb = smem + 2 * buf::SIZE; /* [CH][R][NL][2*NPT]: products, end states */

    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, nl = lane % NL, r = lane / NL;
    const int64_t HP = a.H * a.P, hpg = HP / a.G;
    const int64_t b = blockIdx.z, g = blockIdx.y;
    const int64_t tile0 = (int64_t)blockIdx.x * M1_CH, c0 = g * hpg + tile0;
    const bool my_valid = tile0 + warp < hpg;
    const int64_t my_c = c0 + warp, my_h = my_valid ? my_c / a.P : 0;

    float carry[NPT], A2[NPT];
#pragma unroll
    for (int i = 0; i < NPT; i++) {
        const int64_t n = (int64_t)nl * NPT + i;
        const bool ok = my_valid && n < a.N;
        carry[i] = (ok && a.state) ? a.state[(b * HP + my_c) * a.N + n] : 0.0f;
        A2[i] = ok ? a.A[my_h * a.N + n] : 0.0f;
    }

    /* Staged (step, channel) pairs of this thread: steps st_t and st_t + 32. */
    const int st_t = tid / M1_CH, st_cc = tid % M1_CH;
    const bool st_cok = tile0 + st_cc < hpg;
    const int64_t st_c = c0 + st_cc, st_h = st_cok ? st_c / a.P : 0;
    const float st_bias = (st_cok && a.bias) ? a.bias[st_h] : 0.0f;
    const float st_D = (st_cok && a.D) ? a.D[st_h] : 0.0f;
    const int64_t usub = 32 * HP, dsub = 32 * a.H, ustep = M1_TC * HP, dstep = M1_TC * a.H;
    const T *up = a.u + (b * a.L + st_t) * HP + st_c;
    const T *dp = a.delta + (b * a.L + st_t) * a.H + st_h;
    const T *zp = HZ ? a.z + (b * a.L + st_t) * HP + st_c : nullptr;
    T *yp = a.y + (b * a.L + st_t) * HP + st_c;
    /* B/C elements of this thread: row bc_t, states bc_n .. bc_n + EBC - 1. */
    const int bc_t = tid * EBC / NPAD, bc_n = tid * EBC % NPAD;
    const int64_t bc_stride = a.G * a.N, bcstep = M1_TC * bc_stride;
    const int64_t bc0 = (b * a.L * a.G + g) * a.N + bc_t * bc_stride + bc_n;
    const T *Bp = a.Bm + bc0, *Cp = a.Cm + bc0;
    const int bc_st = 2 * ((bc_t + bc_t / M1_TR) * NPAD + bc_n); /* where they are staged */

    float r_u[2], r_dt[2], r_z[2], r_B[EBC], r_C[EBC];
    /* left: steps from the chunk's start to L (an int: L < 2^31 - 64 is checked at launch). */
    auto load_chunk = [&](int left) {
        if (left >= M1_TC && st_cok && vec) { /* every chunk but the last: no predicates */
#pragma unroll
            for (int i = 0; i < 2; i++) {
                r_u[i] = ld(up + i * usub);
                r_dt[i] = ld(dp + i * dsub);
                r_z[i] = HZ ? ld(zp + i * usub) : 0.0f;
            }
            ld_vec<EBC>(Bp, r_B);
            ld_vec<EBC>(Cp, r_C);
            return;
        }
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const bool ok = st_t + 32 * i < left && st_cok;
            r_u[i] = ok ? ld(up + i * usub) : 0.0f;
            r_dt[i] = ok ? ld(dp + i * dsub) : 0.0f;
            r_z[i] = (HZ && ok) ? ld(zp + i * usub) : 0.0f;
        }
        if (vec && bc_t < left) {
            ld_vec<EBC>(Bp, r_B);
            ld_vec<EBC>(Cp, r_C);
        } else {
#pragma unroll
            for (int j = 0; j < EBC; j++) {
                const bool ok = bc_t < left && bc_n + j < a.N;
                r_B[j] = ok ? ld(Bp + j) : 0.0f;
                r_C[j] = ok ? ld(Cp + j) : 0.0f;
            }
        }
    };

    /* Lane views of a staged chunk (offsets into a buffer). */
    const int o_x = buf::X + warp * M1_XSTR + r * M1_TR, o_dtu = buf::DTU + warp * M1_XSTR + r * M1_TR;
    const int o_BC = buf::BC + 2 * ((r * (M1_TR + 1)) * NPAD + nl * NPT);
    const int o_y = buf::Y + warp * M1_YCH + r * M1_YRUN + nl;
    float *const comb = s_comb + ((warp * M1_R + r) * NL + nl) * 2 * NPT;

    /* y of the chunk in buffer sb: the sum of the 8 partials + D*u, gated;
     * coalesced along channels. */
    auto write_y = [&](const float *sb, int left, const float (&du)[2], const float (&zc)[2]) {
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int t = st_t + 32 * i;
            if (t < left && st_cok) {
                const float *p = sb + buf::Y + st_cc * M1_YCH + (t / M1_TR) * M1_YRUN + (t % M1_TR) * 8;
                const float4 p0 = *(const float4 *)p, p1 = *(const float4 *)(p + 4);
                float yv = ((p0.x + p0.y) + (p0.z + p0.w)) + ((p1.x + p1.y) + (p1.z + p1.w)) + du[i];
                if (HZ) yv *= cuda_silu(zc[i]);
                st(yp + i * usub, yv);
            }
        }
        yp += ustep;
    };

    const int L = (int)a.L;
    float du_prev[2] = {0.0f, 0.0f}, zc_prev[2] = {0.0f, 0.0f};
    load_chunk(L);
    for (int t0 = 0; t0 < L; t0 += M1_TC) {
        const int left = L - t0;
        float *const sb = smem + ((t0 / M1_TC) & 1) * buf::SIZE;
        /* Stage this chunk: every warp is past the scan of chunk - 2, which
         * used this buffer (it reached the barrier of chunk - 1). */
        float du[2], zc[2];
#pragma unroll
        for (int i = 0; i < 2; i++) {
            /* Branch-free: beyond L (or past the last channel) the loads gave
             * u = 0, so dt*u and D*u are 0 and x = 0 makes the step the identity. */
            const bool ok = st_t + 32 * i < left && st_cok;
            const float dt0 = r_dt[i] + st_bias, sp = cuda_softplus(dt0);
            const float dt = a.softplus ? sp : dt0;
            sb[buf::X + st_cc * M1_XSTR + st_t + 32 * i] = ok ? dt * CUDA_LOG2E : 0.0f;
            sb[buf::DTU + st_cc * M1_XSTR + st_t + 32 * i] = dt * r_u[i];
            du[i] = st_D * r_u[i];
            zc[i] = r_z[i];
        }
        if (NPT == 2) { /* states bc_n .. bc_n + 3: two lanes' pairs */
            *(float4 *)&sb[buf::BC + bc_st] = make_float4(r_B[0], r_B[1], r_C[0], r_C[1]);
            *(float4 *)&sb[buf::BC + bc_st + 4] =
                make_float4(r_B[EBC > 2 ? 2 : 0], r_B[EBC > 3 ? 3 : 0], r_C[EBC > 2 ? 2 : 0], r_C[EBC > 3 ? 3 : 0]);
        } else { /* states bc_n, bc_n + 1: two lanes' singles */
            *(float4 *)&sb[buf::BC + bc_st] = make_float4(r_B[0], r_C[0], r_B[1], r_C[1]);
        }
        if (left > M1_TC) { /* the next chunk's loads fly during the scan */
            up += ustep;
            dp += dstep;
            if (HZ) zp += ustep;
            Bp += bcstep;
            Cp += bcstep;
            load_chunk(left - M1_TC);
        }
        __syncthreads(); /* the chunk is staged; the previous one's partials are written */
        if (t0 > 0) write_y(smem + (((t0 / M1_TC) & 1) ^ 1) * buf::SIZE, left + M1_TC, du_prev, zc_prev);

        /* Pass 1: the run from a zero state hl, its decay product Dd, the
         * local output yl = sum_n C*hl and the weights w = C*Dd that carry the
         * run's true start state into y: y = yl + sum_n w*h_start. */
        const float *xr = sb + o_x, *dr = sb + o_dtu, *BCr = sb + o_BC;
        float w[M1_TR][NPT], yl[M1_TR], hl[NPT], Dd[NPT];
#pragma unroll
        for (int i = 0; i < NPT; i++) {
            hl[i] = 0.0f;
            Dd[i] = 1.0f;
        }
#pragma unroll
        for (int k4 = 0; k4 < M1_TR; k4 += 4) {
            const float4 xq = *(const float4 *)&xr[k4], dq = *(const float4 *)&dr[k4];
            const float xs[4] = {xq.x, xq.y, xq.z, xq.w}, ds[4] = {dq.x, dq.y, dq.z, dq.w};
#pragma unroll
            for (int kk = 0; kk < 4; kk++) {
                const int k = k4 + kk;
                float Bv[NPT], Cv[NPT];
                if (NPT == 2) {
                    const float4 q = *(const float4 *)&BCr[k * 2 * NPAD];
                    Bv[0] = q.x; Bv[NPT - 1] = q.y;
                    Cv[0] = q.z; Cv[NPT - 1] = q.w;
                } else {
                    const float2 q = *(const float2 *)&BCr[k * 2 * NPAD];
                    Bv[0] = q.x;
                    Cv[0] = q.y;
                }
                float yv = 0.0f;
#pragma unroll
                for (int i = 0; i < NPT; i++) {
                    const float da = cuda_ex2(xs[kk] * A2[i]);
                    hl[i] = fmaf(da, hl[i], ds[kk] * Bv[i]);
                    Dd[i] *= da;
                    w[k][i] = Cv[i] * Dd[i];
                    yv = fmaf(Cv[i], hl[i], yv);
                }
                yl[k] = yv;
            }
        }

        /* Combine the runs: chain the four (decay product, end state) pairs.
         * (The area is reused next chunk only after the barrier.) */
        if (NPT == 2)
            *(float4 *)comb = make_float4(Dd[0], Dd[NPT - 1], hl[0], hl[NPT - 1]);
        else
            *(float2 *)comb = make_float2(Dd[0], hl[0]);
        __syncwarp();
        float hin[NPT];
#pragma unroll
        for (int i = 0; i < NPT; i++) hin[i] = carry[i];
#pragma unroll
        for (int q = 0; q < M1_R; q++) {
            const float *cq = comb + (q - r) * NL * 2 * NPT;
            float Pq[NPT], Hq[NPT];
            if (NPT == 2) {
                const float4 v = *(const float4 *)cq;
                Pq[0] = v.x; Pq[NPT - 1] = v.y; Hq[0] = v.z; Hq[NPT - 1] = v.w;
            } else {
                const float2 v = *(const float2 *)cq;
                Pq[0] = v.x; Hq[0] = v.y;
            }
#pragma unroll
            for (int i = 0; i < NPT; i++) {
                if (q == r) hin[i] = carry[i];
                carry[i] = fmaf(Pq[i], carry[i], Hq[i]);
            }
        }

        /* Pass 2: y's partial sums over this lane's states, from registers. */
        float *const yw = sb + o_y;
#pragma unroll
        for (int k = 0; k < M1_TR; k++) {
            float yv = yl[k];
#pragma unroll
            for (int i = 0; i < NPT; i++) yv = fmaf(w[k][i], hin[i], yv);
            yw[k * 8] = yv;
        }
#pragma unroll
        for (int i = 0; i < 2; i++) {
            du_prev[i] = du[i];
            zc_prev[i] = zc[i];
        }
    }
    __syncthreads();
    if (L > 0) write_y(smem + (((L - 1) / M1_TC) & 1) * buf::SIZE, L - ((L - 1) / M1_TC) * M1_TC, du_prev, zc_prev);

    if (a.state_out && my_valid && r == 0) {
#pragma unroll
        for (int i = 0; i < NPT; i++) {
            const int64_t n = (int64_t)nl * NPT + i;
            if (n < a.N) a.state_out[(b * HP + my_c) * a.N + n] = carry[i];
        }
    }
}

template <typename T, int NPT>
void launch_npt(cuda_device *dev, const scan_args<T> &a, int vec) {
    dim3 grid((unsigned)((a.H * a.P / a.G + M1_CH - 1) / M1_CH), (unsigned)a.G, (unsigned)a.B);
    constexpr size_t smem = m1_buffer<8 * NPT>::BYTES;
    if (a.z)
        cuda_launch(dev, scan_m1_kernel<T, NPT, true>, grid, M1_THREADS, smem, a, vec);
    else
        cuda_launch(dev, scan_m1_kernel<T, NPT, false>, grid, M1_THREADS, smem, a, vec);
}


template <typename T, int NPT> int setup_npt(cuda_device *dev) {
    constexpr size_t smem = m1_buffer<8 * NPT>::BYTES;
    if (smem > dev->smem_optin) return 0; /* scan_m1_fits says no; the runs kernel is used */
    int rc = cuda_check(cudaFuncSetAttribute(scan_m1_kernel<T, NPT, true>,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem),
                        "cudaFuncSetAttribute (selective_scan)");
    if (!rc)
        rc = cuda_check(cudaFuncSetAttribute(scan_m1_kernel<T, NPT, false>,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem),
                        "cudaFuncSetAttribute (selective_scan)");
    return rc;
}

} /* namespace */

int cuda_scan_setup(cuda_device *dev) {
    int rc = setup_npt<float, 1>(dev);
    if (!rc) rc = setup_npt<float, 2>(dev);
    if (!rc) rc = setup_npt<__nv_bfloat16, 1>(dev);
    if (!rc) rc = setup_npt<__nv_bfloat16, 2>(dev);
    return rc;
}

size_t scan_m1_smem_bytes(int64_t N) {
    if (N < 1 || N > 16) return 0;
    return N <= 8 ? m1_buffer<8>::BYTES : m1_buffer<16>::BYTES;
}

int scan_m1_fits(const cuda_device *dev, int64_t N) {
    const size_t bytes = scan_m1_smem_bytes(N);
    return bytes && bytes <= dev->smem_optin;
}

/* Shapes, grid limits and scan_m1_fits are checked by the caller (k_scan.cu). */
template <typename T> void scan_m1_launch(cuda_device *dev, const scan_args<T> &a) {
    const int npad = a.N <= 8 ? 8 : 16, ebc = M1_TC * npad / M1_THREADS;
    /* Vector loads of B and C: whole padded rows, every row start aligned. */
    const uintptr_t align = (uintptr_t)ebc * sizeof(T);
    const int vec = a.N == npad && (a.G * a.N) % ebc == 0 && (uintptr_t)a.Bm % align == 0 &&
                    (uintptr_t)a.Cm % align == 0;
    if (npad == 8)
        launch_npt<T, 1>(dev, a, vec);
    else
        launch_npt<T, 2>(dev, a, vec);
}

template void scan_m1_launch<float>(cuda_device *, const scan_args<float> &);
template void scan_m1_launch<__nv_bfloat16>(cuda_device *, const scan_args<__nv_bfloat16> &);
