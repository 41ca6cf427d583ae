/*
 * k_scan.cu: SELECTIVE_SCAN, Mamba-1 (A [H, N]) and Mamba-2 (A [H]) forms.
 *
 * A "channel" is one (b, h, p) with N independent state elements s[n]; the
 * recurrence is s = exp(dt*A)*s + dt*B*u, y = sum_n s*C (+ D*u, * silu(z)).
 * Four kernels, chosen by L, N and the form of A:
 *
 *  - scan_m1_kernel (k_scan_m1.cu; prefill, Mamba-1 form, N <= 16): the runs
 *    kernel's structure with 16-step runs, cut down to what that case needs.
 *  - scan_runs_kernel (prefill, other N <= 128): one warp per channel; the 32 lanes
 *    split the state and the steps of each 32-step chunk (runs of 8 or 16 steps
 *    scanned sequentially in registers, combined across lanes with the
 *    associative operator). Exponentials are computed once per (channel, step,
 *    n) as ex2 of dt*log2(e) times A[n]. See the kernel's comment.
 *  - scan_chunked_kernel (prefill, 128 < N <= 256): LANES threads per channel,
 *    each walking all steps sequentially for its NPT states; y's sum across the
 *    lanes is one transposing butterfly per LANES steps.
 *  - scan_short_kernel (decode, L <= SCAN_SHORT_L): the same lane layout without
 *    staging, a shuffle reduction per step; for L = 1 its cost is the state.
 *
 * The prefill kernels stage 32-step chunks of u, delta and z for a block of
 * channels (contiguous in memory: [B, L, H, P] with (h, p) fastest) with
 * coalesced loads, and B and C of the channels' group once per chunk; the next
 * chunk's loads are issued into registers before the current chunk's math.
 * softplus, the D skip and the silu gate are done once per (channel, step).
 * Mamba-2 (scalar A per head): exp(dt*A) is one value per (channel, step),
 * computed while staging, and the state loop is pure FMA.
 *
 * Activations may be f32 or bf16 (T); A, D, delta_bias and the state are f32.
 * The final state is written by threads that read the initial state, after
 * their last read, so state_out may alias state.
 */
#include "scan.cuh"

enum { SCAN_SHORT_L = 8 };

/* Leaves lane j (of LANES) with the sum over the LANES lanes of v[j]. */
template <int LANES> __device__ __forceinline__ float transpose_reduce(float (&v)[LANES], int lane) {
#pragma unroll
    for (int o = LANES / 2; o >= 1; o /= 2) {
        bool upper = (lane & o) != 0;
#pragma unroll
        for (int i = 0; i < o; i++) {
            float send = upper ? v[i] : v[i + o];
            float keep = upper ? v[i + o] : v[i];
            v[i] = keep + __shfl_xor_sync(0xffffffffu, send, o);
        }
    }
    return v[0];
}

/* ===================================================================== */
/* Chunked kernel                                                          */
/* ===================================================================== */

/* grid: x = channel tiles of one group, y = group, z = batch. */
template <typename T, int NPT, int LANES, int THREADS, bool SCALAR_A>
__global__ void __launch_bounds__(THREADS) scan_chunked_kernel(const scan_args<T> a) {
    cuda_pdl_enter();
    constexpr int CH = THREADS / LANES;  /* channels per block */
    constexpr int NPAD = NPT * LANES;    /* padded state size */
    constexpr int TC = NPAD >= 128 ? 16 : 32; /* steps per chunk: shared memory < 48 KiB */
    constexpr int E = TC * CH / THREADS;      /* staged (t, channel) elements per thread */
    constexpr int EBC = TC * NPAD / THREADS;  /* staged (t, n) elements of B (and C) */
    static_assert(TC % LANES == 0 && E * THREADS == TC * CH && EBC * THREADS == TC * NPAD,
                  "scan layout must tile the chunk exactly");
    static_assert(EBC <= 8, "B/C prefetch registers");

    __shared__ float2 s_pair[TC][CH]; /* (dt*log2e, dt*u) or (exp(dt*A), dt*u) */
    __shared__ float s_du[TC][CH];     /* D*u */
    __shared__ float s_y[TC][CH];      /* sum_n s*C */
    __shared__ __align__(16) float s_B[TC][NPAD];
    __shared__ __align__(16) float s_C[TC][NPAD];

    const int tid = threadIdx.x, ch = tid / LANES, lane = tid % LANES;
    const int64_t HP = a.H * a.P, hpg = HP / a.G; /* channels per group */
    const int64_t b = blockIdx.z, g = blockIdx.y;
    const int64_t c0 = g * hpg + (int64_t)blockIdx.x * CH; /* first (h, p) of the block */
    const int64_t my_c = c0 + ch;
    const bool my_valid = (int64_t)blockIdx.x * CH + ch < hpg;
    const int64_t my_h = my_valid ? my_c / a.P : 0;

    /* Registers: state and A (log2e is folded into dt). */
    float s[NPT], A2[NPT];
#pragma unroll
    for (int i = 0; i < NPT; i++) {
        int64_t n = (int64_t)lane * NPT + i;
        bool ok = my_valid && n < a.N;
        s[i] = (ok && a.state) ? a.state[(b * HP + my_c) * a.N + n] : 0.0f;
        A2[i] = (!SCALAR_A && ok) ? a.A[my_h * a.N + n] : 0.0f;
    }

    /* Staged element e = tid + i*THREADS of a chunk: step e / CH, channel e % CH. */
    float r_u[E], r_dt[E], r_z[E], z_cur[E];
    float r_B[EBC], r_C[EBC];
    const T *ub = a.u + b * a.L * HP, *zb = a.z ? a.z + b * a.L * HP : nullptr;
    const T *db = a.delta + b * a.L * a.H;
    const T *Bb = a.Bm + (b * a.L * a.G + g) * a.N, *Cb = a.Cm + (b * a.L * a.G + g) * a.N;
    const int64_t bc_stride = a.G * a.N; /* between time steps in B and C */

    auto load_chunk = [&](int64_t t0) {
#pragma unroll
        for (int i = 0; i < E; i++) {
            int e = tid + i * THREADS, t = e / CH, cc = e % CH;
            int64_t c = c0 + cc, tt = t0 + t;
            bool ok = tt < a.L && (int64_t)blockIdx.x * CH + cc < hpg;
            r_u[i] = ok ? ld(ub + tt * HP + c) : 0.0f;
            r_dt[i] = ok ? ld(db + tt * a.H + c / a.P) : 0.0f;
            r_z[i] = (ok && zb) ? ld(zb + tt * HP + c) : 0.0f;
        }
#pragma unroll
        for (int i = 0; i < EBC; i++) {
            int e = tid + i * THREADS, t = e / NPAD, n = e % NPAD;
            int64_t tt = t0 + t;
            bool ok = tt < a.L && n < a.N;
            r_B[i] = ok ? ld(Bb + tt * bc_stride + n) : 0.0f;
            r_C[i] = ok ? ld(Cb + tt * bc_stride + n) : 0.0f;
        }
    };

    load_chunk(0);
    for (int64_t t0 = 0; t0 < a.L; t0 += TC) {
        __syncthreads(); /* the previous chunk is fully consumed */
        /* Stage: softplus, products and exp once per (step, channel). */
#pragma unroll
        for (int i = 0; i < E; i++) {
            int e = tid + i * THREADS, t = e / CH, cc = e % CH;
            int64_t c = c0 + cc, tt = t0 + t;
            bool ok = tt < a.L && (int64_t)blockIdx.x * CH + cc < hpg;
            float2 pr = make_float2(0.0f, 0.0f); /* identity step: s unchanged */
            float du = 0.0f;
            if (ok) {
                int64_t h = c / a.P;
                float dt = r_dt[i] + (a.bias ? a.bias[h] : 0.0f);
                if (a.softplus) dt = cuda_softplus(dt);
                pr.y = dt * r_u[i];
                pr.x = SCALAR_A ? cuda_ex2(dt * a.A[h] * CUDA_LOG2E) : dt * CUDA_LOG2E;
                du = a.D ? a.D[h] * r_u[i] : 0.0f;
            } else if (SCALAR_A) {
                pr.x = 1.0f;
            }
            s_pair[t][cc] = pr;
            s_du[t][cc] = du;
            z_cur[i] = r_z[i];
        }
#pragma unroll
        for (int i = 0; i < EBC; i++) {
            int e = tid + i * THREADS;
            s_B[e / NPAD][e % NPAD] = r_B[i];
            s_C[e / NPAD][e % NPAD] = r_C[i];
        }
        if (t0 + TC < a.L) load_chunk(t0 + TC); /* in flight during the scan */
        __syncthreads();

        /* Scan the chunk: LANES steps at a time, then one transposing reduce. */
#pragma unroll 1
        for (int tg = 0; tg < TC; tg += LANES) {
            float acc[LANES];
#pragma unroll
            for (int k = 0; k < LANES; k++) {
                const int t = tg + k;
                const float2 pr = s_pair[t][ch];
                float Bv[NPT], Cv[NPT];
                if (NPT % 4 == 0) {
#pragma unroll
                    for (int i = 0; i < NPT; i += 4) {
                        float4 bq = *(const float4 *)&s_B[t][lane * NPT + i];
                        float4 cq = *(const float4 *)&s_C[t][lane * NPT + i];
                        Bv[i] = bq.x; Bv[i + 1] = bq.y; Bv[i + 2] = bq.z; Bv[i + 3] = bq.w;
                        Cv[i] = cq.x; Cv[i + 1] = cq.y; Cv[i + 2] = cq.z; Cv[i + 3] = cq.w;
                    }
                } else if (NPT == 2) {
                    float2 bq = *(const float2 *)&s_B[t][lane * 2];
                    float2 cq = *(const float2 *)&s_C[t][lane * 2];
                    Bv[0] = bq.x; Bv[NPT - 1] = bq.y;
                    Cv[0] = cq.x; Cv[NPT - 1] = cq.y;
                } else {
#pragma unroll
                    for (int i = 0; i < NPT; i++) {
                        Bv[i] = s_B[t][lane * NPT + i];
                        Cv[i] = s_C[t][lane * NPT + i];
                    }
                }
                float yv = 0.0f;
#pragma unroll
                for (int i = 0; i < NPT; i++) {
                    float da = SCALAR_A ? pr.x : cuda_ex2(pr.x * A2[i]);
                    s[i] = fmaf(da, s[i], pr.y * Bv[i]);
                    yv = fmaf(s[i], Cv[i], yv);
                }
                acc[k] = yv;
            }
            float tot = transpose_reduce<LANES>(acc, lane);
            s_y[tg + lane][ch] = tot;
        }
        __syncthreads();

        /* Output: y = (sum + D*u) * silu(z), coalesced along channels. */
#pragma unroll
        for (int i = 0; i < E; i++) {
            int e = tid + i * THREADS, t = e / CH, cc = e % CH;
            int64_t tt = t0 + t;
            if (tt < a.L && (int64_t)blockIdx.x * CH + cc < hpg) {
                float yv = s_y[t][cc] + s_du[t][cc];
                if (zb) yv *= cuda_silu(z_cur[i]);
                st(a.y + (b * a.L + tt) * HP + c0 + cc, yv);
            }
        }
    }

    if (a.state_out && my_valid) {
#pragma unroll
        for (int i = 0; i < NPT; i++) {
            int64_t n = (int64_t)lane * NPT + i;
            if (n < a.N) a.state_out[(b * HP + my_c) * a.N + n] = s[i];
        }
    }
}

/* ===================================================================== */
/* Short kernel (decode)                                                   */
/* ===================================================================== */

/* One channel per LANES threads over all B*H*P channels; per step a shuffle
 * reduction. Reads every input once; for L = 1 the cost is the state itself. */
template <typename T, int NPT, int LANES, int THREADS, bool SCALAR_A>
__global__ void __launch_bounds__(THREADS) scan_short_kernel(const scan_args<T> a) {
    cuda_pdl_enter();
    constexpr int CH = THREADS / LANES;
    const int lane = threadIdx.x % LANES;
    const int64_t HP = a.H * a.P;
    const int64_t cg = (int64_t)blockIdx.x * CH + threadIdx.x / LANES;
    const bool valid = cg < a.B * HP;
    const int64_t b = valid ? cg / HP : 0, c = valid ? cg % HP : 0, h = c / a.P;
    const int64_t g = h / (a.H / a.G);
    float s[NPT], A2[NPT];
#pragma unroll
    for (int i = 0; i < NPT; i++) {
        int64_t n = (int64_t)lane * NPT + i;
        bool ok = valid && n < a.N;
        s[i] = (ok && a.state) ? a.state[(b * HP + c) * a.N + n] : 0.0f;
        A2[i] = (!SCALAR_A && ok) ? a.A[h * a.N + n] : 0.0f;
    }
    const float bias = (valid && a.bias) ? a.bias[h] : 0.0f;
    const float Dh = (valid && a.D) ? a.D[h] : 0.0f;
    const float Ah = (valid && SCALAR_A) ? a.A[h] * CUDA_LOG2E : 0.0f;
    for (int64_t t = 0; t < a.L; t++) {
        float u = 0.0f, dt = 0.0f;
        const T *Bt = a.Bm + ((b * a.L + t) * a.G + g) * a.N;
        const T *Ct = a.Cm + ((b * a.L + t) * a.G + g) * a.N;
        if (valid) {
            u = ld(a.u + (b * a.L + t) * HP + c);
            dt = ld(a.delta + (b * a.L + t) * a.H + h) + bias;
            if (a.softplus) dt = cuda_softplus(dt);
        }
        const float dtu = dt * u, dtl = dt * CUDA_LOG2E;
        const float dA = SCALAR_A ? cuda_ex2(dt * Ah) : 0.0f;
        float yv = 0.0f;
#pragma unroll
        for (int i = 0; i < NPT; i++) {
            int64_t n = (int64_t)lane * NPT + i;
            bool ok = valid && n < a.N;
            float Bv = ok ? ld(Bt + n) : 0.0f, Cv = ok ? ld(Ct + n) : 0.0f;
            float da = SCALAR_A ? dA : cuda_ex2(dtl * A2[i]);
            s[i] = fmaf(da, s[i], dtu * Bv);
            yv = fmaf(s[i], Cv, yv);
        }
#pragma unroll
        for (int o = LANES / 2; o >= 1; o /= 2) yv += __shfl_xor_sync(0xffffffffu, yv, o);
        if (valid && lane == 0) {
            yv += Dh * u;
            if (a.z) yv *= cuda_silu(ld(a.z + (b * a.L + t) * HP + c));
            st(a.y + (b * a.L + t) * HP + c, yv);
        }
    }
    if (a.state_out && valid) {
#pragma unroll
        for (int i = 0; i < NPT; i++) {
            int64_t n = (int64_t)lane * NPT + i;
            if (n < a.N) a.state_out[(b * HP + c) * a.N + n] = s[i];
        }
    }
}

/* ===================================================================== */
/* Runs kernel: time-parallel within a chunk                               */
/* ===================================================================== */

/* One warp per channel. Lane (r, nl) = (lane / NL, lane % NL) owns NPT state
 * elements n = nl*NPT + i and a run of TR = NL steps r*TR .. r*TR+TR-1 of the
 * 32-step chunk (R = 32/NL runs). Pass 1 scans its run from a zero state in
 * registers, keeping the decays exp(dt*A[n]) (computed once, as ex2 of
 * dt*log2e times A[n]), the products dt*u*B and the decays' product P. The runs
 * are then combined with the associative operator
 * (P1, H1) o (P2, H2) = (P1 P2, P2 H1 + H2) in log2(R) shuffle rounds, giving
 * each run its true initial state (and the chunk's final state, carried to the
 * next chunk). Pass 2 replays the run from that state with the stored values
 * and forms y's partial sums, which one transposing butterfly over the NL state
 * lanes turns into y of step r*TR + nl. So a channel's chunk is processed by 32
 * threads at once, the exponentials are computed once, and each input is read
 * from global memory once (staged for the block's 8 channels in shared memory,
 * in layouts where a warp's reads are broadcasts or conflict-free). For N <= 16
 * a block iteration stages two chunks and each warp scans them one after the
 * other, halving the barriers and pointer updates per step. HZ: z is present
 * (a template flag, so the common no-gate case carries no z registers). */
template <typename T, int NL, int NPT, bool SA, bool HZ>
__global__ void __launch_bounds__(256) scan_runs_kernel(const scan_args<T> a) {
    cuda_pdl_enter();
    constexpr int TR = NL, R = 32 / NL, TC = 32, CH = 8, THREADS = 256, NPAD = NL * NPT;
    /* Sub-chunks per block iteration: staging, barriers and pointer updates are
     * paid once per SUB*32 steps (two where B and C of 64 steps fit registers). */
    constexpr int SUB = NPAD <= 16 ? 2 : 1, TB = TC * SUB;
    /* Row padding of B and C: with NL = 8 the four runs' rows would share banks. */
    constexpr int BSTR = NPAD + (NL == 8 && NPT == 1 ? 1 : NL == 8 && NPT == 2 ? 2 : 0);
    constexpr int XSTR = TB + 4;               /* s_x/s_dtu row: 16-byte aligned, staggered */
    constexpr int EBC = TB * NPAD / THREADS;   /* B (and C) elements staged per thread */
    constexpr bool PREF = EBC <= 4;            /* prefetch B/C in registers */
    constexpr bool STORE_A = !SA && NPT * TR <= 32;
    constexpr bool STORE_B = NPT * TR <= 16;
    constexpr int NP = SA ? 1 : NPT;           /* decay products per thread */
    static_assert(TC * CH == THREADS && R * TR == TC && EBC * THREADS == TB * NPAD, "layout");

    __shared__ __align__(16) float s_x[CH][XSTR];   /* dt*log2e (Mamba-1) or exp(dt*A) */
    __shared__ __align__(16) float s_dtu[CH][XSTR]; /* dt*u */
    __shared__ float s_du[TB][CH];                  /* D*u */
    __shared__ float s_y[TB][CH];                   /* sum_n s*C */
    __shared__ __align__(16) float s_B[TB * BSTR];
    __shared__ __align__(16) float s_C[TB * BSTR];

    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, nl = lane % NL, r = lane / NL;
    const int64_t HP = a.H * a.P, hpg = HP / a.G;
    const int64_t b = blockIdx.z, g = blockIdx.y;
    const int64_t tile0 = (int64_t)blockIdx.x * CH;
    const int64_t c0 = g * hpg + tile0;
    const bool my_valid = tile0 + warp < hpg;
    const int64_t my_c = c0 + warp, my_h = my_valid ? my_c / a.P : 0;

    float carry[NPT], A2[NPT];
#pragma unroll
    for (int i = 0; i < NPT; i++) {
        int64_t n = (int64_t)nl * NPT + i;
        bool ok = my_valid && n < a.N;
        carry[i] = (ok && a.state) ? a.state[(b * HP + my_c) * a.N + n] : 0.0f;
        A2[i] = (!SA && ok) ? a.A[my_h * a.N + n] : 0.0f;
    }

    /* This thread's staged elements: steps st_t + 32 i (i < SUB), channel st_cc. */
    const int st_t = tid / CH, st_cc = tid % CH;
    const bool st_cok = tile0 + st_cc < hpg;
    const int64_t st_c = c0 + st_cc, st_h = st_cok ? st_c / a.P : 0;
    const float st_bias = (st_cok && a.bias) ? a.bias[st_h] : 0.0f;
    const float st_D = (st_cok && a.D) ? a.D[st_h] : 0.0f;
    const float st_A = (st_cok && SA) ? a.A[st_h] * CUDA_LOG2E : 0.0f;
    /* Pointers to this thread's elements of chunk 0, advanced by a chunk each
     * iteration: the loop then needs no 64-bit index arithmetic. */
    const int64_t cstep = (int64_t)TB * HP, bc_stride = a.G * a.N;
    const int64_t usub = (int64_t)TC * HP, dsub = (int64_t)TC * a.H; /* between sub-chunks */
    const T *up = a.u + (b * a.L + st_t) * HP + st_c;
    const T *zp = HZ ? a.z + (b * a.L + st_t) * HP + st_c : nullptr;
    const T *dp = a.delta + (b * a.L + st_t) * a.H + st_h;
    T *yp = a.y + (b * a.L + st_t) * HP + st_c;
    const int64_t dstep = (int64_t)TB * a.H, bcstep = (int64_t)TB * bc_stride;
    const T *Bp[PREF ? EBC : 1], *Cp[PREF ? EBC : 1];
    int bc_t[PREF ? EBC : 1];
    bool bc_nok[PREF ? EBC : 1];
    if (PREF) {
#pragma unroll
        for (int i = 0; i < EBC; i++) {
            int e = tid + i * THREADS, t = e / NPAD, n = e % NPAD;
            bc_t[i] = t;
            bc_nok[i] = n < a.N;
            Bp[i] = a.Bm + (b * a.L * a.G + g) * a.N + t * bc_stride + n;
            Cp[i] = a.Cm + (b * a.L * a.G + g) * a.N + t * bc_stride + n;
        }
    }
    const T *Bb = a.Bm + (b * a.L * a.G + g) * a.N, *Cb = a.Cm + (b * a.L * a.G + g) * a.N;

    /* left: steps from this chunk's start to L (at most L, an int: checked at launch). */
    float r_u[SUB], r_dt[SUB], r_z[SUB], r_B[PREF ? EBC : 1], r_C[PREF ? EBC : 1];
    auto load_chunk = [&](int left) {
#pragma unroll
        for (int i = 0; i < SUB; i++) {
            bool ok = st_t + TC * i < left && st_cok;
            r_u[i] = ok ? ld(up + i * usub) : 0.0f;
            r_dt[i] = ok ? ld(dp + i * dsub) : 0.0f;
            r_z[i] = (HZ && ok) ? ld(zp + i * usub) : 0.0f;
        }
        if (PREF) {
#pragma unroll
            for (int i = 0; i < EBC; i++) {
                bool okb = bc_t[i] < left && bc_nok[i];
                r_B[i] = okb ? ld(Bp[i]) : 0.0f;
                r_C[i] = okb ? ld(Cp[i]) : 0.0f;
            }
        }
    };
    auto advance = [&]() {
        up += cstep;
        dp += dstep;
        if (HZ) zp += cstep;
        if (PREF) {
#pragma unroll
            for (int i = 0; i < EBC; i++) {
                Bp[i] += bcstep;
                Cp[i] += bcstep;
            }
        }
    };

    const int L = (int)a.L;
    load_chunk(L);
    for (int t0 = 0; t0 < L; t0 += TB) {
        __syncthreads(); /* the previous chunk is fully consumed */
        float z_cur[SUB];
#pragma unroll
        for (int i = 0; i < SUB; i++) {
            const int t = st_t + TC * i;
            bool ok = t < L - t0 && st_cok;
            float x = SA ? 1.0f : 0.0f, dtu = 0.0f, du = 0.0f; /* identity step */
            if (ok) {
                float dt = r_dt[i] + st_bias;
                if (a.softplus) dt = cuda_softplus(dt);
                x = SA ? cuda_ex2(dt * st_A) : dt * CUDA_LOG2E;
                dtu = dt * r_u[i];
                du = st_D * r_u[i];
            }
            s_x[st_cc][t] = x;
            s_dtu[st_cc][t] = dtu;
            s_du[t][st_cc] = du;
            z_cur[i] = r_z[i];
        }
        if (PREF) {
#pragma unroll
            for (int i = 0; i < EBC; i++) {
                int e = tid + i * THREADS;
                s_B[(e / NPAD) * BSTR + e % NPAD] = r_B[i];
                s_C[(e / NPAD) * BSTR + e % NPAD] = r_C[i];
            }
        } else {
            for (int e = tid; e < TB * NPAD; e += THREADS) {
                int t = e / NPAD, n = e % NPAD;
                bool okb = t < L - t0 && n < a.N;
                int64_t off = (int64_t)(t0 + t) * bc_stride + n;
                s_B[t * BSTR + n] = okb ? ld(Bb + off) : 0.0f;
                s_C[t * BSTR + n] = okb ? ld(Cb + off) : 0.0f;
            }
        }
        if (t0 + TB < L) { /* in flight during the scan */
            advance();
            load_chunk(L - t0 - TB);
        }
        __syncthreads();

#pragma unroll 1
        for (int j = 0; j < SUB; j++) {
            const int row0 = j * TC; /* this sub-chunk's first staged step */

            /* The run's dt (or decay) and dt*u: broadcast reads of TR consecutive steps. */
            float ax[TR], dtu[TR];
#pragma unroll
            for (int k = 0; k < TR; k += 4) {
                float4 xv = *(const float4 *)&s_x[warp][row0 + r * TR + k];
                float4 dv = *(const float4 *)&s_dtu[warp][row0 + r * TR + k];
                ax[k] = xv.x; ax[k + 1] = xv.y; ax[k + 2] = xv.z; ax[k + 3] = xv.w;
                dtu[k] = dv.x; dtu[k + 1] = dv.y; dtu[k + 2] = dv.z; dtu[k + 3] = dv.w;
            }

            /* Pass 1: the run from a zero state. */
            float av[STORE_A ? TR : 1][STORE_A ? NPT : 1], bv[STORE_B ? TR : 1][STORE_B ? NPT : 1];
            float hl[NPT], P[NP];
#pragma unroll
            for (int i = 0; i < NPT; i++) hl[i] = 0.0f;
#pragma unroll
            for (int i = 0; i < NP; i++) P[i] = 1.0f;
#pragma unroll
            for (int k = 0; k < TR; k++) {
                const float *Brow = &s_B[(row0 + r * TR + k) * BSTR + nl * NPT];
                float Bv[NPT];
#pragma unroll
                for (int i = 0; i < NPT; i++) Bv[i] = Brow[i];
#pragma unroll
                for (int i = 0; i < NPT; i++) {
                    float da = SA ? ax[k] : cuda_ex2(ax[k] * A2[i]);
                    float bb = dtu[k] * Bv[i];
                    if (STORE_A) av[STORE_A ? k : 0][STORE_A ? i : 0] = da;
                    if (STORE_B) bv[STORE_B ? k : 0][STORE_B ? i : 0] = bb;
                    hl[i] = fmaf(da, hl[i], bb);
                    if (!SA) P[SA ? 0 : i] *= da;
                }
                if (SA) P[0] *= ax[k];
            }
            /* Combine the runs: inclusive scan over r, then shift by one run. */
#pragma unroll
            for (int d = 1; d < R; d *= 2) {
#pragma unroll
                for (int i = 0; i < NPT; i++) {
                    float Hp = __shfl_up_sync(0xffffffffu, hl[i], NL * d);
                    if (r >= d) hl[i] = fmaf(P[SA ? 0 : i], Hp, hl[i]);
                }
#pragma unroll
                for (int i = 0; i < NP; i++) {
                    float Pp = __shfl_up_sync(0xffffffffu, P[i], NL * d);
                    if (r >= d) P[i] *= Pp;
                }
            }
            float hin[NPT];
#pragma unroll
            for (int i = 0; i < NPT; i++) {
                float He = __shfl_up_sync(0xffffffffu, hl[i], NL);
                float Pe = __shfl_up_sync(0xffffffffu, P[SA ? 0 : i], NL);
                if (r == 0) {
                    He = 0.0f;
                    Pe = 1.0f;
                }
                hin[i] = fmaf(Pe, carry[i], He);
                float Hl = __shfl_sync(0xffffffffu, hl[i], (R - 1) * NL + nl);
                float Pl = __shfl_sync(0xffffffffu, P[SA ? 0 : i], (R - 1) * NL + nl);
                carry[i] = fmaf(Pl, carry[i], Hl);
            }
            /* Pass 2: replay the run from its true initial state. */
            float ypart[TR];
#pragma unroll
            for (int k = 0; k < TR; k++) {
                const int row = (row0 + r * TR + k) * BSTR + nl * NPT;
                float Cv[NPT];
#pragma unroll
                for (int i = 0; i < NPT; i++) Cv[i] = s_C[row + i];
                float yv = 0.0f;
#pragma unroll
                for (int i = 0; i < NPT; i++) {
                    float da = SA ? ax[k] : STORE_A ? av[STORE_A ? k : 0][STORE_A ? i : 0]
                                                    : cuda_ex2(ax[k] * A2[i]);
                    float bb = STORE_B ? bv[STORE_B ? k : 0][STORE_B ? i : 0] : dtu[k] * s_B[row + i];
                    hin[i] = fmaf(da, hin[i], bb);
                    yv = fmaf(hin[i], Cv[i], yv);
                }
                ypart[k] = yv;
            }
            float tot = transpose_reduce<NL>(ypart, nl);
            s_y[row0 + r * TR + nl][warp] = tot;
        } /* sub-chunks */
        __syncthreads();

        /* Output: y = (sum + D*u) * silu(z), coalesced along channels. */
#pragma unroll
        for (int i = 0; i < SUB; i++) {
            const int t = st_t + TC * i;
            if (t < L - t0 && st_cok) {
                float yv = s_y[t][st_cc] + s_du[t][st_cc];
                if (HZ) yv *= cuda_silu(z_cur[i]);
                st(yp + i * usub, yv);
            }
        }
        yp += cstep;
    }

    if (a.state_out && my_valid && r == 0) {
#pragma unroll
        for (int i = 0; i < NPT; i++) {
            int64_t n = (int64_t)nl * NPT + i;
            if (n < a.N) a.state_out[(b * HP + my_c) * a.N + n] = carry[i];
        }
    }
}

/* ===================================================================== */
/* Launch                                                                  */
/* ===================================================================== */

/* Lane layouts of the short kernel (decode) by state size: NPT states per
 * thread, LANES threads per channel. The chunked kernel runs only in the last
 * layout (N <= 256), for state sizes beyond the runs kernel's 128. */
typedef struct scan_config {
    int max_n, npt, lanes, threads;
} scan_config;

static const scan_config k_configs[] = {
    {8, 1, 8, 128}, {16, 2, 8, 128}, {32, 4, 8, 128}, {64, 8, 8, 256}, {128, 16, 8, 512},
    {256, 16, 16, 512},
};
enum { SCAN_CONFIGS = sizeof k_configs / sizeof k_configs[0] };

template <typename T, int NPT, int LANES, int THREADS, bool SA>
static void launch_short(cuda_device *dev, const scan_args<T> &a) {
    constexpr int CH = THREADS / LANES;
    int64_t blocks = (a.B * a.H * a.P + CH - 1) / CH;
    cuda_launch(dev, scan_short_kernel<T, NPT, LANES, THREADS, SA>, (unsigned)blocks, THREADS, 0, a);
}

template <typename T, int NL, int NPT, bool SA>
static void launch_runs(cuda_device *dev, const scan_args<T> &a) {
    dim3 grid((unsigned)((a.H * a.P / a.G + 7) / 8), (unsigned)a.G, (unsigned)a.B);
    if (a.z)
        cuda_launch(dev, scan_runs_kernel<T, NL, NPT, SA, true>, grid, 256, 0, a);
    else
        cuda_launch(dev, scan_runs_kernel<T, NL, NPT, SA, false>, grid, 256, 0, a);
}

template <typename T, bool SA>
static void launch(cuda_device *dev, const scan_args<T> &a, int cfg, int kernel) {
    if (kernel == SCAN_KERNEL_M1) {
        scan_m1_launch<T>(dev, a); /* scan_run checked that it fits */
    } else if (kernel == SCAN_KERNEL_RUNS) {
        /* 8 state lanes up to N = 32, then 16 (register budget of the runs). */
        if (a.N <= 8) launch_runs<T, 8, 1, SA>(dev, a);
        else if (a.N <= 16) launch_runs<T, 8, 2, SA>(dev, a);
        else if (a.N <= 32) launch_runs<T, 8, 4, SA>(dev, a);
        else if (a.N <= 64) launch_runs<T, 16, 4, SA>(dev, a);
        else launch_runs<T, 16, 8, SA>(dev, a);
    } else if (kernel == SCAN_KERNEL_CHUNKED) {
        dim3 grid((unsigned)((a.H * a.P / a.G + 31) / 32), (unsigned)a.G, (unsigned)a.B);
        cuda_launch(dev, scan_chunked_kernel<T, 16, 16, 512, SA>, grid, 512, 0, a);
    } else {
        switch (cfg) {
        case 0: launch_short<T, 1, 8, 128, SA>(dev, a); break;
        case 1: launch_short<T, 2, 8, 128, SA>(dev, a); break;
        case 2: launch_short<T, 4, 8, 128, SA>(dev, a); break;
        case 3: launch_short<T, 8, 8, 256, SA>(dev, a); break;
        case 4: launch_short<T, 16, 8, 512, SA>(dev, a); break;
        default: launch_short<T, 16, 16, 512, SA>(dev, a); break;
        }
    }
}

/* Picks the kernel (kernel < 0: short for L <= SCAN_SHORT_L, else runs, or
 * chunked for N > 128) and the short kernel's layout (by N). The self-test and
 * the benchmark force a kernel. */
template <typename T>
static int scan_run(cuda_device *dev, const ssmrt_op *op, int kernel) {
    cuda_scan_dims d;
    int rc = cuda_shape_scan(op, &d);
    if (rc || d.B * d.L * d.H * d.P == 0) return rc;
    int cfg = -1;
    for (int i = 0; i < SCAN_CONFIGS && cfg < 0; i++)
        if (d.N <= k_configs[i].max_n) cfg = i;
    if (cfg < 0)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: selective_scan: state size N=%lld exceeds %d",
                          (long long)d.N, k_configs[SCAN_CONFIGS - 1].max_n);
    if (kernel < 0) kernel = d.L <= SCAN_SHORT_L                ? SCAN_KERNEL_SHORT
                           : !d.a_per_head && scan_m1_fits(dev, d.N) ? SCAN_KERNEL_M1
                           : d.N <= 128                       ? SCAN_KERNEL_RUNS
                                                              : SCAN_KERNEL_CHUNKED;
    if (kernel == SCAN_KERNEL_RUNS && d.N > 128)
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT, "cuda: selective_scan: runs kernel needs N <= 128");
    if (kernel == SCAN_KERNEL_M1 && (d.a_per_head || !scan_m1_fits(dev, d.N)))
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT,
                          "cuda: selective_scan: Mamba-1 kernel needs A [H, N], N <= 16 and "
                          "%zu bytes of shared memory per block (N=%lld, device allows %zu)",
                          scan_m1_smem_bytes(d.N <= 8 ? 8 : 16), (long long)d.N, dev->smem_optin);
    int64_t ch = k_configs[cfg].threads / k_configs[cfg].lanes;
    if (d.L > 0x7fffffff - 64)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: selective_scan: L=%lld exceeds 2^31 - 64 steps",
                          (long long)d.L);
    if (d.B > 65535 || d.G > 65535 || (d.H * d.P / d.G + 7) / 8 > 0x7fffffff ||
        (d.B * d.H * d.P + ch - 1) / ch > 0x7fffffff)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: selective_scan: B=%lld H=%lld P=%lld exceeds the grid",
                          (long long)d.B, (long long)d.H, (long long)d.P);
    scan_args<T> a;
    a.u = (const T *)cuda_desc_ptr(&op->src[SSMRT_SCAN_U]);
    a.delta = (const T *)cuda_desc_ptr(&op->src[SSMRT_SCAN_DELTA]);
    a.Bm = (const T *)cuda_desc_ptr(&op->src[SSMRT_SCAN_B]);
    a.Cm = (const T *)cuda_desc_ptr(&op->src[SSMRT_SCAN_C]);
    a.z = cuda_has_src(op, SSMRT_SCAN_Z) ? (const T *)cuda_desc_ptr(&op->src[SSMRT_SCAN_Z]) : nullptr;
    a.A = (const float *)cuda_desc_ptr(&op->src[SSMRT_SCAN_A]);
    a.D = cuda_opt_f32(op, SSMRT_SCAN_D);
    a.bias = cuda_opt_f32(op, SSMRT_SCAN_DELTA_BIAS);
    a.state = cuda_opt_f32(op, SSMRT_SCAN_STATE);
    a.y = (T *)cuda_desc_ptr(&op->dst[0]);
    a.state_out = cuda_has_dst(op, 1) ? (float *)cuda_desc_ptr(&op->dst[1]) : nullptr;
    a.B = d.B;
    a.L = d.L;
    a.H = d.H;
    a.P = d.P;
    a.G = d.G;
    a.N = d.N;
    a.softplus = op->params.scan.delta_softplus;
    if (d.a_per_head)
        launch<T, true>(dev, a, cfg, kernel);
    else
        launch<T, false>(dev, a, cfg, kernel);
    return CUDA_LAUNCH_CHECK("selective_scan");
}

int cuda_scan_run_f32(cuda_device *dev, const ssmrt_op *op, int kernel) {
    return scan_run<float>(dev, op, kernel);
}

int cuda_scan_run_bf16(cuda_device *dev, const ssmrt_op *op, int kernel) {
    return scan_run<__nv_bfloat16>(dev, op, kernel);
}

/* The dispatch table claims f32 activations (the graph API's); the bf16
 * instantiation is reached through cuda_scan_run_bf16 (self-test, benchmark). */
int cuda_op_selective_scan(cuda_device *dev, const ssmrt_op *op) { return scan_run<float>(dev, op, -1); }
