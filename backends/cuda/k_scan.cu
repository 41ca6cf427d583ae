/*
 * k_scan.cu: SELECTIVE_SCAN, Mamba-1 (A [H, N]) and Mamba-2 (A [H]) forms.
 *
 * Work split. A "channel" is one (b, h, p); each has N independent state
 * elements s[n]. LANES consecutive threads own one channel, NPT state elements
 * each, and walk time sequentially with the state in registers: the recurrence
 * s = a*s + b is then one FMA per step on the critical path, and exp(dt*A[n])
 * is computed exactly once per (channel, step, n) as ex2 of dt*log2(e) (scaled
 * once per step) times A[n]. y[t] = sum_n s[n]*C[t,n] needs a sum across the
 * LANES threads of a channel; instead of a shuffle tree per step, each thread
 * keeps its partial sums of LANES consecutive steps and one transposing
 * butterfly (LANES-1 shuffles) leaves lane j with the total of step j.
 *
 * Time is processed in chunks of TC steps staged in shared memory: the block's
 * channels are contiguous in memory ([B, L, H, P] with (h, p) fastest), so a
 * chunk of u, delta and z is read with coalesced loads, once; B and C of the
 * channels' group are staged once per chunk for all channels of the block. The
 * next chunk's loads are issued into registers before the current chunk's
 * scan, so memory latency overlaps the math. softplus, the D skip and the silu
 * gate are done once per (channel, step) outside the state loop.
 *
 * Mamba-2 (scalar A per head): exp(dt*A) is one value per (channel, step),
 * computed in the staging pass, and the state loop is pure FMA.
 *
 * Short sequences (decode, L <= SCAN_SHORT_L) use scan_short_kernel: the same
 * lane layout without staging, a shuffle reduction per step.
 *
 * The final state is written by the thread that read the initial state, after
 * its last read, so state_out may alias state.
 */
#include "common.cuh"

enum { SCAN_SHORT_L = 8 };

template <typename T> struct scan_args {
    const T *u, *delta, *Bm, *Cm, *z;
    const float *A, *D, *bias, *state;
    T *y;
    float *state_out;
    int64_t B, L, H, P, G, N;
    int softplus;
};

__device__ __forceinline__ float ld(const float *p) { return *p; }
__device__ __forceinline__ float ld(const __nv_bfloat16 *p) { return __bfloat162float(*p); }
__device__ __forceinline__ void st(float *p, float v) { *p = v; }
__device__ __forceinline__ void st(__nv_bfloat16 *p, float v) { *p = __float2bfloat16_rn(v); }

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
/* Launch                                                                  */
/* ===================================================================== */

/* Lane layouts: NPT states per thread, LANES threads per channel, THREADS per
 * block. Large N gets many channels per block, because every block stages the
 * B and C of its group: the staging traffic per channel falls as 1/channels. */
typedef struct scan_config {
    int max_n, npt, lanes, threads;
} scan_config;

static const scan_config k_configs[] = {
    {8, 1, 8, 128},    {16, 2, 8, 128},   {32, 4, 8, 128}, {64, 8, 8, 256},
    {128, 16, 8, 512}, {256, 16, 16, 512},
    /* alternatives for the benchmark driver */
    {16, 1, 16, 128},  {16, 4, 4, 128},   {16, 2, 8, 256},
};
enum { SCAN_DEFAULT_CONFIGS = 6, SCAN_CONFIGS = sizeof k_configs / sizeof k_configs[0] };

template <typename T, int NPT, int LANES, int THREADS, bool SA>
static void launch_one(cuda_device *dev, const scan_args<T> &a, bool chunked) {
    constexpr int CH = THREADS / LANES;
    if (chunked) {
        dim3 grid((unsigned)((a.H * a.P / a.G + CH - 1) / CH), (unsigned)a.G, (unsigned)a.B);
        scan_chunked_kernel<T, NPT, LANES, THREADS, SA><<<grid, THREADS, 0, dev->stream>>>(a);
    } else {
        int64_t blocks = (a.B * a.H * a.P + CH - 1) / CH;
        scan_short_kernel<T, NPT, LANES, THREADS, SA><<<(unsigned)blocks, THREADS, 0, dev->stream>>>(a);
    }
}

template <typename T, bool SA>
static void launch_config(cuda_device *dev, const scan_args<T> &a, int cfg, bool chunked) {
    switch (cfg) {
    case 0: launch_one<T, 1, 8, 128, SA>(dev, a, chunked); break;
    case 1: launch_one<T, 2, 8, 128, SA>(dev, a, chunked); break;
    case 2: launch_one<T, 4, 8, 128, SA>(dev, a, chunked); break;
    case 3: launch_one<T, 8, 8, 256, SA>(dev, a, chunked); break;
    case 4: launch_one<T, 16, 8, 512, SA>(dev, a, chunked); break;
    case 5: launch_one<T, 16, 16, 512, SA>(dev, a, chunked); break;
    case 6: launch_one<T, 1, 16, 128, SA>(dev, a, chunked); break;
    case 7: launch_one<T, 4, 4, 128, SA>(dev, a, chunked); break;
    default: launch_one<T, 2, 8, 256, SA>(dev, a, chunked); break;
    }
}

/* Picks the layout (cfg < 0: by N) and the kernel (chunked: -1 by L). Also the
 * entry of the benchmark driver, which sweeps layouts. */
template <typename T>
static int scan_run(cuda_device *dev, const ssmrt_op *op, int cfg, int chunked) {
    cuda_scan_dims d;
    int rc = cuda_shape_scan(op, &d);
    if (rc || d.B * d.L * d.H * d.P == 0) return rc;
    if (cfg < 0) {
        for (int i = 0; i < SCAN_DEFAULT_CONFIGS && cfg < 0; i++)
            if (d.N <= k_configs[i].max_n) cfg = i;
        if (cfg < 0)
            return cuda_error(SSMRT_ERR_SHAPE, "cuda: selective_scan: state size N=%lld exceeds %d",
                              (long long)d.N, k_configs[SCAN_DEFAULT_CONFIGS - 1].max_n);
    }
    if (cfg >= SCAN_CONFIGS || d.N > k_configs[cfg].max_n)
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT, "cuda: selective_scan: layout %d does not hold N=%lld",
                          cfg, (long long)d.N);
    if (chunked < 0) chunked = d.L > SCAN_SHORT_L;
    int64_t ch = k_configs[cfg].threads / k_configs[cfg].lanes;
    if (d.B > 65535 || d.G > 65535 || (d.H * d.P / d.G + ch - 1) / ch > 0x7fffffff ||
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
        launch_config<T, true>(dev, a, cfg, chunked != 0);
    else
        launch_config<T, false>(dev, a, cfg, chunked != 0);
    return CUDA_LAUNCH_CHECK("selective_scan");
}

int cuda_scan_run_f32(cuda_device *dev, const ssmrt_op *op, int cfg, int chunked) {
    return scan_run<float>(dev, op, cfg, chunked);
}

int cuda_scan_run_bf16(cuda_device *dev, const ssmrt_op *op, int cfg, int chunked) {
    return scan_run<__nv_bfloat16>(dev, op, cfg, chunked);
}

int cuda_op_selective_scan(cuda_device *dev, const ssmrt_op *op) {
    if (op->src[SSMRT_SCAN_U].dtype == SSMRT_BF16) return scan_run<__nv_bfloat16>(dev, op, -1, -1);
    return scan_run<float>(dev, op, -1, -1);
}

int cuda_scan_setup(cuda_device *dev) {
    (void)dev;
    return 0;
}
