/*
 * fast_conv.c: f32 CONV1D_CAUSAL and the direct path of CONV_LONG.
 *
 * Both are depthwise, so they vectorise across channels d, which are contiguous
 * in x [B, L, D]; the weights are transposed once to [W, D] (or [L, D]) so each
 * tap is a contiguous vector too.
 *
 * conv1d_causal is memory-bound (W multiply-adds per element read), so a task is
 * a run of LT time steps over all channels: the W-1 rows a step re-reads are
 * still in cache from the steps before, and x and y each cross memory once. For
 * the usual width 4, four output rows are made per pass from the seven x rows
 * they need, each loaded once into registers: a row at a time loaded every x
 * element four times from L2, which made the kernel slower than memory.
 */
#include <stdlib.h>

#include "fast_kernels.h"
#include "fast_math.h"
#include "fast_vc.h"

#define LT 32 /* conv1d time steps per task */
/* Outputs larger than this are written with non-temporal stores: they cannot
 * stay in cache anyway, and a plain store would first read every line. */
#define STREAM_MIN_BYTES (8u << 20)

typedef struct conv_args {
    const float *x, *wt, *bias, *state;
    float *y;
    cpu_conv_dims d;
    int silu, stream;
} conv_args;

CPU_INLINE void conv1d_put(const conv_args *a, float *p, vcf v, int stream) {
    if (a->silu) v = vc_silu(v);
    if (stream)
        vc_stream(p, v);
    else
        vc_store(p, v);
}

/* Width 4, steps l .. l+3 (all >= 3): x rows l-3 .. l+3 feed the four outputs. */
static void conv1d_rows4(const conv_args *a, int64_t b, int64_t l) {
    const int64_t D = a->d.D, L = a->d.L;
    const int64_t Dv = D & ~(int64_t)(CPU_VC_WIDTH - 1);
    const float *x0 = a->x + (b * L + l - 3) * D;
    float *y0 = a->y + (b * L + l) * D;
    int stream = a->stream && ((uintptr_t)y0 & (CPU_VC_ALIGN - 1)) == 0;
    for (int64_t c = 0; c < Dv; c += CPU_VC_WIDTH) {
        vcf w0 = vc_load(a->wt + c), w1 = vc_load(a->wt + D + c), w2 = vc_load(a->wt + 2 * D + c),
            w3 = vc_load(a->wt + 3 * D + c);
        vcf bias = a->bias ? vc_load(a->bias + c) : vc_set1(0.0f);
        vcf r[7];
        for (int k = 0; k < 7; k++) r[k] = vc_load(x0 + k * D + c);
        for (int o = 0; o < 4; o++)
            conv1d_put(a, y0 + o * D + c, bias + w0 * r[o] + w1 * r[o + 1] + w2 * r[o + 2] + w3 * r[o + 3],
                       stream);
    }
    for (int64_t c = Dv; c < D; c++)
        for (int o = 0; o < 4; o++) {
            float acc = a->bias ? a->bias[c] : 0.0f;
            for (int j = 0; j < 4; j++) acc += a->wt[j * D + c] * x0[(o + j) * D + c];
            y0[o * D + c] = a->silu ? s_silu(acc) : acc;
        }
}

/* Steps [l0, l1) of batch row b; each step reads xx rows l .. l+W-1, where xx is
 * the W-1 state steps followed by x (so x row l-W+1+j is tap j). */
static void conv1d_rows(const conv_args *a, int64_t b, int64_t l0, int64_t l1) {
    const int64_t D = a->d.D, W = a->d.W, S = W - 1, L = a->d.L;
    const int64_t Dv = D & ~(int64_t)(CPU_VC_WIDTH - 1);
    for (int64_t l = l0; l < l1; l++) {
        if (W == 4 && l >= S && l + 4 <= l1) {
            conv1d_rows4(a, b, l);
            l += 3;
            continue;
        }
        float *yr = a->y + (b * L + l) * D;
        if (l >= S) {
            const float *x0 = a->x + (b * L + l - S) * D; /* tap 0 */
            int64_t c = 0;
            int stream = a->stream && ((uintptr_t)yr & (CPU_VC_ALIGN - 1)) == 0;
            for (; c < Dv; c += CPU_VC_WIDTH) {
                vcf acc = a->bias ? vc_load(a->bias + c) : vc_set1(0.0f);
                for (int64_t j = 0; j < W; j++) acc += vc_load(a->wt + j * D + c) * vc_load(x0 + j * D + c);
                if (a->silu) acc = vc_silu(acc);
                if (stream)
                    vc_stream(yr + c, acc);
                else
                    vc_store(yr + c, acc);
            }
            for (; c < D; c++) {
                float acc = a->bias ? a->bias[c] : 0.0f;
                for (int64_t j = 0; j < W; j++) acc += a->wt[j * D + c] * x0[j * D + c];
                yr[c] = a->silu ? s_silu(acc) : acc;
            }
        } else {
            /* The first W-1 steps reach back into the state [B, D, W-1]. */
            for (int64_t c = 0; c < D; c++) {
                float acc = a->bias ? a->bias[c] : 0.0f;
                for (int64_t j = 0; j < W; j++) {
                    int64_t t = l + j - S; /* time index in x; < 0 is state */
                    float v = t >= 0 ? a->x[(b * L + t) * D + c]
                                     : (a->state ? a->state[(b * D + c) * S + S + t] : 0.0f);
                    acc += a->wt[j * D + c] * v;
                }
                yr[c] = a->silu ? s_silu(acc) : acc;
            }
        }
    }
}

int cpu_fast_conv1d_causal(const ssmrt_op *op) {
    conv_args a = {0};
    int rc = cpu_shape_conv(op, &a.d);
    if (!rc) rc = cpu_fast_require_contiguous(op);
    if (rc) return rc;
    const cpu_conv_dims *d = &a.d;
    const int64_t D = d->D, W = d->W, S = W - 1, L = d->L;
    const float *w = cpu_desc_ptr(&op->src[SSMRT_CONV_W]);
    float *wt = cpu_scratch_alloc((uint64_t)(D * W) * 4);
    if (!wt) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: conv1d_causal: out of memory");
    for (int64_t c = 0; c < D; c++)
        for (int64_t j = 0; j < W; j++) wt[j * D + c] = w[c * W + j];
    a.x = cpu_desc_ptr(&op->src[SSMRT_CONV_X]);
    a.wt = wt;
    a.bias = d->has_bias ? cpu_desc_ptr(&op->src[SSMRT_CONV_BIAS]) : NULL;
    a.state = d->has_state ? cpu_desc_ptr(&op->src[SSMRT_CONV_STATE]) : NULL;
    a.y = cpu_desc_ptr(&op->dst[0]);
    a.silu = op->params.conv.silu != 0;
    /* Streaming needs every row aligned to a full vector, so D % width == 0. */
    a.stream = (uint64_t)(d->B * L * D) * 4 >= STREAM_MIN_BYTES && D % CPU_VC_WIDTH == 0;

    int64_t per_b = (L + LT - 1) / LT, tasks = d->B * per_b;
#pragma omp parallel for schedule(static) if (tasks > 1 && d->B * L * D >= 32768)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t b = t / per_b, l0 = (t % per_b) * LT, l1 = l0 + LT < L ? l0 + LT : L;
        conv1d_rows(&a, b, l0, l1);
        v8_stream_fence(); /* this thread's streamed rows are visible after the loop */
    }
    cpu_scratch_free(wt);

    /* The new state is the last W-1 steps of xx, written after every output has
     * read the old one (state_out may alias state). Ascending t reads xx[L + t],
     * never an entry already overwritten, even in place. */
    if (d->has_state_out) {
        float *so = cpu_desc_ptr(&op->dst[1]);
        for (int64_t b = 0; b < d->B; b++)
            for (int64_t c = 0; c < D; c++)
                for (int64_t t = 0; t < S; t++) {
                    int64_t xt = L + t - S; /* time index in x */
                    so[(b * D + c) * S + t] =
                        xt >= 0 ? a.x[(b * L + xt) * D + c]
                                : (a.state ? a.state[(b * D + c) * S + L + t] : 0.0f);
                }
    }
    return 0;
}

/* ---- conv_long, direct ------------------------------------------------------ */

#define DB 64 /* channels per conv_long task: 8 vectors of accumulators */

/* Channels [c0, c0 + DB) of batch row b (c0 + DB <= D): y[l] = sum_{j<=l} k[j] x[l-j]. */
static void conv_long_block(const float *x, const float *kt, float *y, int64_t L, int64_t D,
                            int64_t c0) {
    for (int64_t l = 0; l < L; l++) {
        v8f acc[DB / 8];
        for (int i = 0; i < DB / 8; i++) acc[i] = v8_set1(0.0f);
        for (int64_t j = 0; j <= l; j++) {
            const float *kr = kt + j * D + c0, *xr = x + (l - j) * D + c0;
            for (int i = 0; i < DB / 8; i++) acc[i] += v8_load(kr + 8 * i) * v8_load(xr + 8 * i);
        }
        for (int i = 0; i < DB / 8; i++) v8_store(y + l * D + c0 + 8 * i, acc[i]);
    }
}

/* Channels [c0, D) when fewer than DB remain. */
static void conv_long_tail(const float *x, const float *kt, float *y, int64_t L, int64_t D,
                           int64_t c0) {
    for (int64_t l = 0; l < L; l++)
        for (int64_t c = c0; c < D; c++) {
            float acc = 0.0f;
            for (int64_t j = 0; j <= l; j++) acc += kt[j * D + c] * x[(l - j) * D + c];
            y[l * D + c] = acc;
        }
}

int cpu_fast_conv_long(const ssmrt_op *op) {
    int64_t B, L, D, Lk;
    int rc = cpu_shape_conv_long(op, &B, &L, &D, &Lk);
    if (!rc) rc = cpu_fast_require_contiguous(op);
    if (rc) return rc;
    const float *x = cpu_desc_ptr(&op->src[0]), *k = cpu_desc_ptr(&op->src[1]);
    float *y = cpu_desc_ptr(&op->dst[0]);
    if (L >= CPU_CONV_LONG_FFT_MIN) return cpu_fast_conv_long_fft(x, k, y, B, L, D, Lk);
    /* Only taps j < L can reach an output; transpose them to [L, D]. */
    float *kt = cpu_scratch_alloc((uint64_t)(L * D) * 4);
    if (!kt) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: conv_long: out of memory");
    for (int64_t c = 0; c < D; c++)
        for (int64_t j = 0; j < L; j++) kt[j * D + c] = k[c * Lk + j];
    int64_t per_b = (D + DB - 1) / DB, tasks = B * per_b;
#pragma omp parallel for schedule(dynamic, 1) if (tasks > 1 && B * L * L * D >= 65536)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t b = t / per_b, c0 = (t % per_b) * DB;
        const float *xb = x + b * L * D;
        float *yb = y + b * L * D;
        if (c0 + DB <= D)
            conv_long_block(xb, kt, yb, L, D, c0);
        else
            conv_long_tail(xb, kt, yb, L, D, c0);
    }
    cpu_scratch_free(kt);
    return 0;
}
