/*
 * bench.cu: timings of the CUDA plugin's kernels against issue 6's targets, with
 * the device's copy bandwidth measured in the same run as the reference.
 *
 * Device time comes from the plugin's timers (CUDA events around reps runs,
 * after warm-up runs); the figure is the mean per run. The scan's prefill kernels
 * are both timed through the internal launcher, so the default choice can be
 * checked, and bf16 activations too.
 * Output: one line per case on stdout (and the same as JSON lines with --json).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "plugin_host.cuh"

static double g_copy_gbps;

static void die(const char *what) {
    fprintf(stderr, "bench: %s: %s\n", what, g_err);
    exit(1);
}

/* A device buffer of n elements of es bytes filled with values in [lo, hi]. */
static void *buf_rand(int64_t n, uint32_t dtype, float lo, float hi) {
    void *b = NULL;
    size_t es = dtype == SSMRT_F32 || dtype == SSMRT_I32 ? 4 : 2;
    if (vt->buffer_alloc(g_dev, (uint64_t)n * es, &b)) die("alloc");
    float *h = (float *)malloc(sizeof(float) * (size_t)n);
    uint32_t s = 777;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        h[i] = lo + (hi - lo) * (float)((s >> 8) & 0xffffff) / 16777216.0f;
    }
    if (dtype == SSMRT_F32) {
        vt->buffer_upload(g_dev, b, 0, h, (uint64_t)n * 4);
    } else {
        uint16_t *x = (uint16_t *)malloc(2 * (size_t)n);
        for (int64_t i = 0; i < n; i++) {
            if (dtype == SSMRT_BF16) {
                __nv_bfloat16 v = __float2bfloat16_rn(h[i]);
                memcpy(&x[i], &v, 2);
            } else {
                __half v = __float2half_rn(h[i]);
                memcpy(&x[i], &v, 2);
            }
        }
        vt->buffer_upload(g_dev, b, 0, x, (uint64_t)n * 2);
        free(x);
    }
    free(h);
    return b;
}


typedef int (*run_fn)(void *ctx);

/* Mean device microseconds per run. */
static double time_us(run_fn fn, void *ctx, int reps) {
    for (int i = 0; i < 2; i++)
        if (fn(ctx)) die("warm-up run");
    if (vt->synchronize(g_dev)) die("sync");
    vt->timer_mark(g_dev, 0);
    for (int i = 0; i < reps; i++)
        if (fn(ctx)) die("run");
    vt->timer_mark(g_dev, 1);
    double ns = 0;
    if (vt->timer_read(g_dev, 0, 1, &ns)) die("timer");
    return ns / 1e3 / reps;
}

/* ---- cases ------------------------------------------------------------------- */

typedef struct copy_ctx {
    void *a, *b;
    uint64_t bytes;
} copy_ctx;
static int run_copy(void *p) {
    copy_ctx *c = (copy_ctx *)p;
    return vt->buffer_copy(g_dev, c->a, 0, c->b, 0, c->bytes);
}

static void bench_copy(void) {
    copy_ctx c;
    c.bytes = 512ull << 20;
    c.a = buf_rand((int64_t)(c.bytes / 4), SSMRT_F32, 0, 1);
    vt->buffer_alloc(g_dev, c.bytes, &c.b);
    double us = time_us(run_copy, &c, 20);
    g_copy_gbps = 2.0 * (double)c.bytes / (us * 1e3);
    printf("copy: %llu MiB device-to-device: %.1f us, %.0f GB/s (read + write)\n",
           (unsigned long long)(c.bytes >> 20), us, g_copy_gbps);
    vt->buffer_free(g_dev, c.a);
    vt->buffer_free(g_dev, c.b);
}

typedef struct scan_ctx {
    ssmrt_op op;
    int kernel, bf16;
} scan_ctx;
static int run_scan(void *p) {
    scan_ctx *c = (scan_ctx *)p;
    return c->bf16 ? cuda_scan_run_bf16((cuda_device *)g_dev, &c->op, c->kernel)
                   : cuda_scan_run_f32((cuda_device *)g_dev, &c->op, c->kernel);
}

/* Mamba-1 (P = 1, A [D, N]) or Mamba-2 (A [H]) scan with D skip and delta bias;
 * z optional. Returns microseconds. */
static double bench_scan(int64_t B, int64_t L, int64_t H, int64_t P, int64_t N, int mamba2,
                         int with_z, uint32_t act, int kernel, const char *label) {
    scan_ctx c;
    memset(&c, 0, sizeof c);
    c.kernel = kernel;
    c.bf16 = act == SSMRT_BF16;
    ssmrt_op *op = &c.op;
    op->struct_size = sizeof *op;
    op->kind = SSMRT_OP_SELECTIVE_SCAN;
    op->n_src = SSMRT_SCAN_NSRC;
    op->n_dst = 2;
    int64_t su[4] = {B, L, H, P}, sd[3] = {B, L, H}, sbc[4] = {B, L, 1, N}, sa[2] = {H, N};
    int64_t sh[1] = {H};
    void *bufs[9];
    bufs[0] = buf_rand(B * L * H * P, act, -1, 1);
    bufs[1] = buf_rand(B * L * H, act, -3, 0);
    bufs[2] = buf_rand(mamba2 ? H : H * N, SSMRT_F32, -4, -0.5f);
    bufs[3] = buf_rand(B * L * N, act, -1, 1);
    bufs[4] = buf_rand(B * L * N, act, -1, 1);
    bufs[5] = buf_rand(H, SSMRT_F32, -1, 1);
    bufs[6] = with_z ? buf_rand(B * L * H * P, act, -2, 2) : NULL;
    bufs[7] = buf_rand(H, SSMRT_F32, -0.5f, 0.5f);
    vt->buffer_alloc(g_dev, (uint64_t)(B * L * H * P) * (act == SSMRT_F32 ? 4 : 2), &bufs[8]);
    desc(&op->src[SSMRT_SCAN_U], bufs[0], act, 4, su);
    desc(&op->src[SSMRT_SCAN_DELTA], bufs[1], act, 3, sd);
    desc(&op->src[SSMRT_SCAN_A], bufs[2], SSMRT_F32, mamba2 ? 1 : 2, sa);
    desc(&op->src[SSMRT_SCAN_B], bufs[3], act, 4, sbc);
    desc(&op->src[SSMRT_SCAN_C], bufs[4], act, 4, sbc);
    desc(&op->src[SSMRT_SCAN_D], bufs[5], SSMRT_F32, 1, sh);
    if (with_z) desc(&op->src[SSMRT_SCAN_Z], bufs[6], act, 4, su);
    desc(&op->src[SSMRT_SCAN_DELTA_BIAS], bufs[7], SSMRT_F32, 1, sh);
    desc(&op->dst[0], bufs[8], act, 4, su);
    op->params.scan.delta_softplus = 1;
    int reps = L >= 65536 ? 5 : L == 1 ? 200 : 20;
    double us = time_us(run_scan, &c, reps);
    double es = act == SSMRT_F32 ? 4 : 2;
    double bytes = es * (double)(B * L) * (2.0 * H * P + H + 2.0 * N + (with_z ? H * P : 0));
    printf("scan %s %s B=%lld L=%lld H=%lld P=%lld N=%lld%s kernel %d: %.1f us, %.2f ns/token, "
           "%.0f GB/s (%.0f%% of copy)\n",
           label, act == SSMRT_F32 ? "f32" : "bf16", (long long)B, (long long)L, (long long)H,
           (long long)P, (long long)N, with_z ? " +z" : "", kernel, us, us * 1e3 / (double)(B * L),
           bytes / (us * 1e3), 100.0 * bytes / (us * 1e3) / g_copy_gbps);
    for (int i = 0; i < 9; i++)
        if (bufs[i]) vt->buffer_free(g_dev, bufs[i]);
    return us;
}

typedef struct op_ctx {
    ssmrt_op op;
} op_ctx;
static int run_op(void *p) { return vt->enqueue(g_dev, &((op_ctx *)p)->op); }

static void bench_attention(int64_t B, int64_t Lq, int64_t Lk, int64_t Hq, int64_t Hk, int64_t Dh,
                            uint32_t dt) {
    op_ctx c;
    memset(&c, 0, sizeof c);
    ssmrt_op *op = &c.op;
    op->struct_size = sizeof *op;
    op->kind = SSMRT_OP_ATTENTION;
    op->n_src = 3;
    op->n_dst = 1;
    int64_t sq[4] = {B, Lq, Hq, Dh}, sk[4] = {B, Lk, Hk, Dh};
    const double es = dt == SSMRT_F32 ? 4 : 2;
    const char *tn = dt == SSMRT_F32 ? "f32" : dt == SSMRT_F16 ? "f16" : "bf16";
    void *q = buf_rand(B * Lq * Hq * Dh, dt, -1, 1);
    void *k = buf_rand(B * Lk * Hk * Dh, dt, -1, 1);
    void *v = buf_rand(B * Lk * Hk * Dh, dt, -1, 1);
    void *y = NULL;
    vt->buffer_alloc(g_dev, (uint64_t)((double)(B * Lq * Hq * Dh) * es), &y);
    desc(&op->src[0], q, dt, 4, sq);
    desc(&op->src[1], k, dt, 4, sk);
    desc(&op->src[2], v, dt, 4, sk);
    desc(&op->dst[0], y, dt, 4, sq);
    op->params.attention.scale = 1.0f / sqrtf((float)Dh);
    double us = time_us(run_op, &c, Lq == 1 ? 50 : dt == SSMRT_F32 ? 5 : 20);
    if (Lq == 1) {
        double bytes = 2.0 * es * (double)(B * Lk * Hk * Dh);
        printf("attention decode %s B=%lld Lk=%lld Hq=%lld Hk=%lld Dh=%lld: %.1f us, %.0f GB/s "
               "(%.0f%% of copy)\n",
               tn, (long long)B, (long long)Lk, (long long)Hq, (long long)Hk, (long long)Dh, us,
               bytes / (us * 1e3), 100.0 * bytes / (us * 1e3) / g_copy_gbps);
    } else {
        /* causal: 4 Dh flops per visible (query, key) pair, Lq (Lk - Lq/2) pairs
         * per head (2 L^2 Dh when Lq = Lk = L) */
        double flops = 4.0 * (double)(B * Hq) * (double)Dh * (double)Lq * ((double)Lk - 0.5 * (double)Lq);
        printf("attention prefill %s causal B=%lld Lq=%lld Lk=%lld Hq=%lld Hk=%lld Dh=%lld: %.1f us, "
               "%.1f TFLOP/s\n",
               tn, (long long)B, (long long)Lq, (long long)Lk, (long long)Hq, (long long)Hk, (long long)Dh,
               us, flops / (us * 1e6));
    }
    vt->buffer_free(g_dev, q);
    vt->buffer_free(g_dev, k);
    vt->buffer_free(g_dev, v);
    vt->buffer_free(g_dev, y);
}

static void bench_matmul(int64_t M, int64_t N, int64_t K, uint32_t wt) {
    op_ctx c;
    memset(&c, 0, sizeof c);
    ssmrt_op *op = &c.op;
    op->struct_size = sizeof *op;
    op->kind = SSMRT_OP_MATMUL;
    op->n_src = 3;
    op->n_dst = 1;
    int64_t sx[2] = {M, K}, sw[2] = {N, K}, sy[2] = {M, N};
    void *x = buf_rand(M * K, SSMRT_F32, -1, 1), *w = buf_rand(N * K, wt, -0.1f, 0.1f), *y = NULL;
    vt->buffer_alloc(g_dev, (uint64_t)(M * N) * 4, &y);
    desc(&op->src[0], x, SSMRT_F32, 2, sx);
    desc(&op->src[1], w, wt, 2, sw);
    desc(&op->dst[0], y, SSMRT_F32, 2, sy);
    double us = time_us(run_op, &c, 20);
    double es = wt == SSMRT_F32 ? 4 : 2;
    printf("matmul %s M=%lld N=%lld K=%lld: %.1f us, %.1f TFLOP/s, weights at %.0f GB/s\n",
           wt == SSMRT_F32 ? "f32" : wt == SSMRT_F16 ? "f16" : "bf16", (long long)M, (long long)N,
           (long long)K, us, 2.0 * M * N * K / (us * 1e6), es * N * K / (us * 1e3));
    vt->buffer_free(g_dev, x);
    vt->buffer_free(g_dev, w);
    vt->buffer_free(g_dev, y);
}

int main(int argc, char **argv) {
    /* --quick: skip the L = 65536 scans; --scan: the copy reference and the scans only. */
    int quick = 0, scan_only = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        if (strcmp(argv[i], "--scan") == 0) scan_only = 1;
    }
    void *be = NULL;
    int rc = plugin_host_open(SSMRT_LOG_ERROR, &be);
    if (rc) return rc;

    bench_copy();
    /* Issue 6's headline: Mamba-1, D=2048, N=16, L=4096, batch 1, D skip + delta bias. */
    for (int a = 0; a < 2; a++)
        for (int k = 1; k <= 3; k++)
            bench_scan(1, 4096, 2048, 1, 16, 0, 0, a ? SSMRT_BF16 : SSMRT_F32, k, "mamba1");
    bench_scan(1, 4096, 2048, 1, 16, 0, 1, SSMRT_F32, -1, "mamba1");
    if (!quick) {
        bench_scan(1, 65536, 2048, 1, 16, 0, 0, SSMRT_F32, -1, "mamba1");
        bench_scan(1, 65536, 2048, 1, 16, 0, 0, SSMRT_BF16, -1, "mamba1");
    }
    bench_scan(1, 1, 2048, 1, 16, 0, 1, SSMRT_F32, -1, "mamba1-decode");
    bench_scan(1, 4096, 24, 64, 128, 1, 1, SSMRT_F32, -1, "mamba2");
    bench_scan(1, 1, 24, 64, 128, 1, 1, SSMRT_F32, -1, "mamba2-decode");
    if (scan_only) {
        vt->device_close(g_dev);
        vt->shutdown(be);
        return 0;
    }
    bench_attention(1, 4096, 4096, 16, 16, 128, SSMRT_F32);
    /* Issue 6's attention targets: f16 causal Dh=128 L=4096 (32 heads), and
     * decode over a 64K cache with 4:1 grouped heads. */
    bench_attention(1, 4096, 4096, 32, 32, 128, SSMRT_F16);
    bench_attention(1, 4096, 4096, 32, 32, 128, SSMRT_BF16);
    bench_attention(1, 4096, 4096, 32, 32, 64, SSMRT_F16);
    bench_attention(1, 512, 16384, 32, 8, 128, SSMRT_F16); /* a prompt chunk on a cache */
    bench_attention(1, 1, 65536, 32, 8, 128, SSMRT_F32);
    bench_attention(1, 1, 65536, 32, 8, 128, SSMRT_F16);
    bench_attention(1, 1, 65536, 32, 8, 128, SSMRT_BF16);
    bench_matmul(2048, 3072, 768, SSMRT_F32);
    bench_matmul(2048, 3072, 768, SSMRT_F16);
    bench_matmul(2048, 3072, 768, SSMRT_BF16);
    bench_matmul(1, 50280, 768, SSMRT_F16);
    bench_matmul(1, 3072, 768, SSMRT_F16);
    vt->device_close(g_dev);
    vt->shutdown(be);
    return 0;
}
