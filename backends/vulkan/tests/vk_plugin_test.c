/*
 * vk_plugin_test.c: drives libssmrt-vulkan.so through its vtable alone (no
 * libssmrt) and compares every op with plain double-precision host code.
 *
 * Usage: vk_plugin_test [plugin.so]. Exit 0 when every case passes; prints
 * "N passed, N failed". Run it under the Khronos validation layer
 * (VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation): a layer error makes the
 * plugin's synchronize fail, which fails the case.
 *
 * Tolerances: results are f32 computed by the device; the reference is double.
 * Elementwise ops get 2e-6 relative (a few ulps of exp/log); reductions over K
 * terms of size ~1 get 1e-5 * sqrt(K)-ish absolute slack, written per case.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssmrt_backend.h"

static const ssmrt_backend_vtable *vt;
static void *dev;
static int n_pass, n_fail;
static char last_error[1024];

static void host_log(ssmrt_log_level level, const char *fmt, ...) {
    if (level > SSMRT_LOG_WARN) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[plugin] ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static void host_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

static const ssmrt_host_api host = {
    .struct_size = sizeof(ssmrt_host_api),
    .abi_version = SSMRT_BACKEND_ABI_VERSION,
    .log = host_log,
    .report_error = host_error,
    .alloc = malloc,
    .free = free,
    .log_level = SSMRT_LOG_WARN,
};

/* ---- small helpers ------------------------------------------------------ */

static unsigned rng_state = 12345u;
static float frand(void) { /* uniform in [-1, 1) */
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

static uint16_t f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}
static float bf16_to_f32(uint16_t h) {
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}
static float f16_to_f32(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}
/* f32 -> f16, round to nearest even, for finite values below 65520 in magnitude
 * (what the tests make); checked against f32_to_f16_search in test_f16_helper. */
static uint16_t f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    int e = (int)((x >> 23) & 0xFF) - 127 + 15;
    uint32_t m = (x & 0x7FFFFF) | 0x800000; /* with the implicit bit */
    if ((x & 0x7FFFFFFF) == 0) return sign;
    /* Bits dropped: 13 for a normal f16, more for a subnormal one (e <= 0). */
    int drop = e > 0 ? 13 : 14 - e;
    if (drop > 24) return sign; /* below half the smallest subnormal */
    uint32_t q = m >> drop, r = m & ((1u << drop) - 1), half = 1u << (drop - 1);
    if (r > half || (r == half && (q & 1))) q++;
    /* A normal result keeps its implicit bit in q (bit 10), which the exponent field
     * absorbs: (e - 1) << 10 plus q; a carry out of the mantissa moves the exponent. */
    uint32_t h = e > 0 ? ((uint32_t)(e - 1) << 10) + q : q;
    return (uint16_t)(sign | h);
}
/* The reference it is checked against: the nearest f16 by search (ties to even). */
static uint16_t f32_to_f16_search(float f) {
    uint16_t best = 0;
    double bd = INFINITY;
    for (uint32_t h = 0; h < 0x7C00; h++) {
        double dd = fabs((double)f16_to_f32((uint16_t)h) - fabs((double)f));
        if (dd < bd || (dd == bd && !(h & 1))) {
            bd = dd;
            best = (uint16_t)h;
        }
    }
    return (uint16_t)(best | (f < 0 ? 0x8000 : 0));
}

typedef struct tens {
    void *buf;
    ssmrt_tensor_desc d;
    size_t n;
} tens;

static void test_f16_helper(void) {
    static const float edge[] = {0.0f, 1.0f, -1.0f, 0.5f, 65504.0f, 6.103515625e-5f, 5.9604645e-8f,
                                 2.9802322e-8f, 2.99e-8f, 1.00048828125f, 1.000732421875f, 2047.5f,
                                 2048.5f, -3.0517578e-5f, 0.33333334f};
    int bad = 0;
    for (int i = 0; i < 1000 + (int)(sizeof edge / sizeof edge[0]) && bad < 3; i++) {
        float v = i < 1000 ? ldexpf(frand(), i % 40 - 30) : edge[i - 1000];
        if (f32_to_f16(v) != f32_to_f16_search(v)) {
            printf("  f32_to_f16(%.9g) = 0x%04x, search 0x%04x\n", v, f32_to_f16(v), f32_to_f16_search(v));
            bad++;
        }
    }
    printf("%s %-40s\n", bad ? "FAIL" : "PASS", "test helper f32 -> f16 (vs search)");
    bad ? n_fail++ : n_pass++;
}

static tens make(uint32_t dtype, int ndim, const int64_t *shape) {
    tens t;
    memset(&t, 0, sizeof t);
    t.n = 1;
    for (int i = 0; i < ndim; i++) t.n *= (size_t)shape[i];
    size_t es = dtype == SSMRT_F16 || dtype == SSMRT_BF16 ? 2 : 4;
    /* A 64-byte guard before and after catches stray writes. */
    if (vt->buffer_alloc(dev, t.n * es + 128, &t.buf)) {
        fprintf(stderr, "alloc failed: %s\n", last_error);
        exit(2);
    }
    t.d.buffer = t.buf;
    t.d.offset = 64;
    t.d.dtype = dtype;
    t.d.ndim = (uint32_t)ndim;
    int64_t st = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        t.d.shape[i] = shape[i];
        t.d.stride[i] = st;
        st *= shape[i];
    }
    return t;
}

static void put(tens *t, const void *data, size_t bytes) { vt->buffer_upload(dev, t->buf, 64, data, bytes); }
static void putf(tens *t, const float *v) { put(t, v, t->n * 4); }
static void getf(tens *t, float *v) {
    if (vt->buffer_download(dev, t->buf, 64, v, t->n * 4)) fprintf(stderr, "download: %s\n", last_error);
}
static void drop(tens *t) { vt->buffer_free(dev, t->buf); }

static float *rnd(size_t n, float scale) {
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = frand() * scale;
    return v;
}

static ssmrt_op new_op(uint32_t kind, uint32_t n_src, uint32_t n_dst) {
    ssmrt_op op;
    memset(&op, 0, sizeof op);
    op.struct_size = sizeof op;
    op.kind = kind;
    op.n_src = n_src;
    op.n_dst = n_dst;
    return op;
}

static int run(const ssmrt_op *op) {
    if (!vt->supports(dev, op)) {
        snprintf(last_error, sizeof last_error, "not supported");
        return 1;
    }
    if (vt->enqueue(dev, op)) return 1;
    return vt->synchronize(dev);
}

/* Compares got with want: |got - want| <= atol + rtol |want|. */
static void check(const char *name, int rc, const float *got, const double *want, size_t n,
                  double atol, double rtol) {
    double worst = 0;
    size_t bad = 0, first_bad = 0;
    if (rc) {
        printf("FAIL %-40s error: %s\n", name, last_error);
        n_fail++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        double lim = atol + rtol * fabs(want[i]);
        if (!(e <= lim) && !bad++) first_bad = i;
        if (!(e <= worst)) worst = e;
    }
    if (bad) {
        printf("FAIL %-40s %zu/%zu out of tolerance; first at %zu: got %.9g want %.9g\n", name, bad,
               n, first_bad, got[first_bad], want[first_bad]);
        n_fail++;
    } else {
        printf("PASS %-40s max abs err %.3g\n", name, worst);
        n_pass++;
    }
}

static double sig(double x) { return 1.0 / (1.0 + exp(-x)); }
static double silu(double x) { return x * sig(x); }
static double softplus(double x) { return x > 20 ? x : log1p(exp(x)); }

/* ---- cases --------------------------------------------------------------- */

static void test_unary(void) {
    const uint32_t kinds[] = {SSMRT_OP_SCALE, SSMRT_OP_SILU, SSMRT_OP_SIGMOID,
                              SSMRT_OP_SOFTPLUS, SSMRT_OP_GELU, SSMRT_OP_EXP};
    const char *names[] = {"scale", "silu", "sigmoid", "softplus", "gelu", "exp"};
    int64_t shape[2] = {37, 129};
    tens x = make(SSMRT_F32, 2, shape), y = make(SSMRT_F32, 2, shape);
    float *xv = rnd(x.n, 12.0f), *yv = malloc(x.n * 4);
    xv[0] = 25.0f;
    xv[1] = -30.0f;
    xv[2] = 0.0f;
    for (int i = 0; i < 8; i++) xv[3 + i] = -12.0f + 1.5f * (float)i; /* tails of gelu/softplus */
    putf(&x, xv);
    double *want = malloc(x.n * sizeof *want);
    for (int k = 0; k < 6; k++) {
        ssmrt_op op = new_op(kinds[k], 1, 1);
        op.src[0] = x.d;
        op.dst[0] = y.d;
        op.params.scale.alpha = 0.5f;
        op.params.scale.beta = -2.0f;
        int rc = run(&op);
        getf(&y, yv);
        for (size_t i = 0; i < x.n; i++) {
            double v = xv[i];
            switch (kinds[k]) {
            case SSMRT_OP_SCALE: want[i] = v * 0.5 - 2.0; break;
            case SSMRT_OP_SILU: want[i] = silu(v); break;
            case SSMRT_OP_SIGMOID: want[i] = sig(v); break;
            case SSMRT_OP_SOFTPLUS: want[i] = softplus(v); break;
            case SSMRT_OP_GELU: want[i] = 0.5 * v * (1 + erf(v / sqrt(2.0))); break;
            default: want[i] = exp(v); break;
            }
        }
        char nm[64];
        snprintf(nm, sizeof nm, "unary %s [37,129]", names[k]);
        /* exp of |x| <= 12 in f32: the argument rounding alone gives ~|x| ulp. */
        if (getenv("VK_TEST_VERBOSE"))
            for (int i = 0; i < 11; i++) printf("  %s(%g) = %.9g, want %.9g\n", names[k], xv[i], yv[i], want[i]);
        /* gelu: the reference's 1 + erf(x/sqrt2) is exactly 0 in double below x ~ -8.3
         * while the true tail is not, and for |x/sqrt2| < 2 the kernel's erfc = 1 - erf
         * loses a few bits to cancellation: both are below 1e-7 absolute. */
        double atol = kinds[k] == SSMRT_OP_GELU ? 1e-7 : 1e-30;
        check(nm, rc, yv, want, x.n, atol, kinds[k] == SSMRT_OP_EXP ? 4e-6 : 2e-6);
    }
    free(xv);
    free(yv);
    free(want);
    drop(&x);
    drop(&y);
}

static void test_binary(void) {
    int64_t ds[4] = {2, 3, 5, 7}, bs[3] = {3, 1, 7};
    tens a = make(SSMRT_F32, 4, ds), b = make(SSMRT_F32, 3, bs), y = make(SSMRT_F32, 4, ds);
    float *av = rnd(a.n, 1), *bv = rnd(b.n, 1), *yv = malloc(a.n * 4);
    putf(&a, av);
    putf(&b, bv);
    double *want = malloc(a.n * sizeof *want);
    for (int mul = 0; mul < 2; mul++) {
        ssmrt_op op = new_op(mul ? SSMRT_OP_MUL : SSMRT_OP_ADD, 2, 1);
        op.src[0] = a.d;
        op.src[1] = b.d;
        op.dst[0] = y.d;
        int rc = run(&op);
        getf(&y, yv);
        for (int i0 = 0; i0 < 2; i0++)
            for (int i1 = 0; i1 < 3; i1++)
                for (int i2 = 0; i2 < 5; i2++)
                    for (int i3 = 0; i3 < 7; i3++) {
                        size_t i = ((size_t)(i0 * 3 + i1) * 5 + i2) * 7 + i3;
                        double u = av[i], v = bv[i1 * 7 + i3];
                        want[i] = mul ? u * v : u + v;
                    }
        check(mul ? "mul broadcast [2,3,5,7]x[3,1,7]" : "add broadcast [2,3,5,7]+[3,1,7]", rc, yv,
              want, a.n, 0, 1e-7);
    }
    free(av);
    free(bv);
    free(yv);
    free(want);
    drop(&a);
    drop(&b);
    drop(&y);
}

/* Contiguous f32 copies: 16-byte aligned starts (uvec4 kernel, 1001 % 4 leaves a
 * scalar tail) and a start 4 bytes in (element-wise kernel). */
static void test_copy_contiguous(void) {
    int64_t sx[1] = {1002}, sy[1] = {1001};
    tens x = make(SSMRT_F32, 1, sx), y = make(SSMRT_F32, 1, sy);
    float *xv = rnd(x.n, 10), *yv = malloc(y.n * 4);
    putf(&x, xv);
    for (int shift = 0; shift < 2; shift++) {
        ssmrt_op op = new_op(SSMRT_OP_COPY, 1, 1);
        op.src[0] = x.d;
        op.src[0].shape[0] = 1001;
        op.src[0].offset += 4u * (uint64_t)shift;
        op.dst[0] = y.d;
        int rc = run(&op);
        getf(&y, yv);
        double *want = malloc(y.n * sizeof *want);
        for (size_t i = 0; i < y.n; i++) want[i] = xv[i + (size_t)shift];
        check(shift ? "copy contiguous f32, start 4 bytes in" : "copy contiguous f32, aligned", rc, yv,
              want, y.n, 0, 0);
        free(want);
    }
    free(xv);
    free(yv);
    drop(&x);
    drop(&y);
}

static void test_copy(void) {
    /* A strided (transposed) f32 view into f16, bf16, i32 and back. */
    int64_t s[2] = {19, 33};
    tens x = make(SSMRT_F32, 2, s);
    float *xv = rnd(x.n, 100);
    putf(&x, xv);
    const uint32_t dts[] = {SSMRT_F32, SSMRT_F16, SSMRT_BF16, SSMRT_I32};
    const char *nm[] = {"f32", "f16", "bf16", "i32"};
    for (int k = 0; k < 4; k++) {
        int64_t ts[2] = {33, 19};
        tens y = make(dts[k], 2, ts);
        ssmrt_op op = new_op(SSMRT_OP_COPY, 1, 1);
        op.src[0] = x.d;
        op.src[0].shape[0] = 33; /* transpose view */
        op.src[0].shape[1] = 19;
        op.src[0].stride[0] = 1;
        op.src[0].stride[1] = 33;
        op.dst[0] = y.d;
        int rc = run(&op);
        /* back to f32 contiguous */
        tens z = make(SSMRT_F32, 2, ts);
        ssmrt_op op2 = new_op(SSMRT_OP_COPY, 1, 1);
        op2.src[0] = y.d;
        op2.dst[0] = z.d;
        if (!rc) rc = run(&op2);
        float *zv = malloc(z.n * 4);
        getf(&z, zv);
        double *want = malloc(z.n * sizeof *want);
        for (int i = 0; i < 33; i++)
            for (int j = 0; j < 19; j++) {
                float v = xv[j * 33 + i];
                double w = v;
                if (dts[k] == SSMRT_F16) w = f16_to_f32(f32_to_f16(v));
                if (dts[k] == SSMRT_BF16) w = bf16_to_f32(f32_to_bf16(v));
                if (dts[k] == SSMRT_I32) w = trunc(v);
                want[i * 19 + j] = w;
            }
        char name[64];
        snprintf(name, sizeof name, "copy transposed f32 -> %s -> f32", nm[k]);
        check(name, rc, zv, want, z.n, 0, 0);
        free(zv);
        free(want);
        drop(&y);
        drop(&z);
    }
    free(xv);
    drop(&x);
}

static void test_rows(void) {
    int64_t s[2] = {7, 301};
    tens x = make(SSMRT_F32, 2, s), z = make(SSMRT_F32, 2, s), y = make(SSMRT_F32, 2, s);
    int64_t ws[1] = {301};
    tens w = make(SSMRT_F32, 1, ws), bb = make(SSMRT_F32, 1, ws);
    float *xv = rnd(x.n, 3), *zv = rnd(x.n, 2), *wv = rnd(301, 1), *bv = rnd(301, 1), *yv = malloc(x.n * 4);
    for (size_t i = 0; i < x.n; i++) xv[i] += 5.0f; /* a mean for LayerNorm to remove */
    putf(&x, xv);
    putf(&z, zv);
    putf(&w, wv);
    putf(&bb, bv);
    double *want = malloc(x.n * sizeof *want);
    for (int mode = 0; mode < 4; mode++) {
        ssmrt_op op;
        const char *name;
        if (mode == 0) {
            op = new_op(SSMRT_OP_SOFTMAX, 1, 1);
            op.src[0] = x.d;
            name = "softmax [7,301]";
        } else if (mode == 1) {
            op = new_op(SSMRT_OP_RMS_NORM, 2, 1);
            op.src[0] = x.d;
            op.src[1] = w.d;
            name = "rms_norm [7,301]";
        } else if (mode == 2) {
            op = new_op(SSMRT_OP_RMS_NORM_GATED, 3, 1);
            op.src[0] = x.d;
            op.src[1] = z.d;
            op.src[2] = w.d;
            op.params.norm.group_size = 43;
            name = "rms_norm_gated [7,301] group 43";
        } else {
            op = new_op(SSMRT_OP_LAYER_NORM, 3, 1);
            op.src[0] = x.d;
            op.src[1] = w.d;
            op.src[2] = bb.d;
            name = "layer_norm [7,301] bias";
        }
        op.params.norm.eps = 1e-5f;
        op.dst[0] = y.d;
        int rc = run(&op);
        getf(&y, yv);
        for (int r = 0; r < 7; r++) {
            const float *xr = xv + r * 301, *zr = zv + r * 301;
            double *o = want + r * 301;
            if (mode == 0) {
                double m = -INFINITY, sum = 0;
                for (int c = 0; c < 301; c++) m = fmax(m, xr[c]);
                for (int c = 0; c < 301; c++) sum += exp(xr[c] - m);
                for (int c = 0; c < 301; c++) o[c] = exp(xr[c] - m) / sum;
            } else if (mode == 1) {
                double ss = 0;
                for (int c = 0; c < 301; c++) ss += (double)xr[c] * xr[c];
                double inv = 1 / sqrt(ss / 301 + 1e-5);
                for (int c = 0; c < 301; c++) o[c] = xr[c] * inv * wv[c];
            } else if (mode == 2) {
                for (int g0 = 0; g0 < 301; g0 += 43) {
                    double ss = 0;
                    for (int c = g0; c < g0 + 43; c++) {
                        double v = xr[c] * silu(zr[c]);
                        ss += v * v;
                    }
                    double inv = 1 / sqrt(ss / 43 + 1e-5);
                    for (int c = g0; c < g0 + 43; c++) o[c] = xr[c] * silu(zr[c]) * inv * wv[c];
                }
            } else {
                double mean = 0, var = 0;
                for (int c = 0; c < 301; c++) mean += xr[c];
                mean /= 301;
                for (int c = 0; c < 301; c++) var += (xr[c] - mean) * (xr[c] - mean);
                double inv = 1 / sqrt(var / 301 + 1e-5);
                for (int c = 0; c < 301; c++) o[c] = (xr[c] - mean) * inv * wv[c] + bv[c];
            }
        }
        check(name, rc, yv, want, x.n, 2e-6, 2e-5);
    }
    free(xv);
    free(zv);
    free(wv);
    free(bv);
    free(yv);
    free(want);
    drop(&x);
    drop(&z);
    drop(&y);
    drop(&w);
    drop(&bb);
}

static void test_matmul(int M, int N, int K, uint32_t wdt, int bias) {
    int64_t xs[2] = {M, K}, wsh[2] = {N, K}, ys[2] = {M, N}, bs[1] = {N};
    tens x = make(SSMRT_F32, 2, xs), w = make(wdt, 2, wsh), y = make(SSMRT_F32, 2, ys),
         b = make(SSMRT_F32, 1, bs);
    float *xv = rnd(x.n, 1), *wv = rnd(w.n, 1), *bv = rnd(N, 1), *yv = malloc(y.n * 4);
    putf(&x, xv);
    putf(&b, bv);
    if (wdt == SSMRT_F32) {
        putf(&w, wv);
    } else {
        uint16_t *h = malloc(w.n * 2);
        for (size_t i = 0; i < w.n; i++) {
            h[i] = wdt == SSMRT_BF16 ? f32_to_bf16(wv[i]) : f32_to_f16(wv[i]);
            wv[i] = wdt == SSMRT_BF16 ? bf16_to_f32(h[i]) : f16_to_f32(h[i]);
        }
        put(&w, h, w.n * 2);
        free(h);
    }
    ssmrt_op op = new_op(SSMRT_OP_MATMUL, 3, 1);
    op.src[0] = x.d;
    op.src[1] = w.d;
    if (bias) op.src[2] = b.d;
    op.dst[0] = y.d;
    int rc = run(&op);
    getf(&y, yv);
    double *want = malloc(y.n * sizeof *want);
    double abs_max = 0; /* the largest sum of |x| |w| over an output */
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double acc = bias ? bv[n] : 0, abs_sum = 0;
            for (int k = 0; k < K; k++) {
                acc += (double)xv[m * K + k] * wv[n * K + k];
                abs_sum += fabs((double)xv[m * K + k] * wv[n * K + k]);
            }
            want[m * N + n] = acc;
            if (abs_sum > abs_max) abs_max = abs_sum;
        }
    char name[80];
    snprintf(name, sizeof name, "matmul M%d N%d K%d w%s%s", M, N, K,
             wdt == SSMRT_F32 ? "f32" : wdt == SSMRT_F16 ? "f16" : "bf16", bias ? " bias" : "");
    /* f32 accumulation of K products of size <= 1: error ~ K * 2^-24 worst case.
     * With f16 weights the device may multiply on f16 tensor cores
     * (VK_NV_cooperative_matrix, the H100): x is rounded to f16 first, which adds
     * at most 2^-11 sum |x| |w|. */
    double atol = K * 1.2e-7 + (wdt == SSMRT_F16 ? abs_max * 0x1p-11 : 0.0);
    check(name, rc, yv, want, y.n, atol, 1e-6);
    free(xv);
    free(wv);
    free(bv);
    free(yv);
    free(want);
    drop(&x);
    drop(&w);
    drop(&y);
    drop(&b);
}

static void test_embedding(uint32_t tdt) {
    int64_t ts[2] = {50, 37}, is[2] = {3, 5}, ys[2] = {15, 37};
    tens t = make(tdt, 2, ts), ids = make(SSMRT_I32, 2, is), y = make(SSMRT_F32, 2, ys);
    float *tv = rnd(t.n, 1), *yv = malloc(y.n * 4);
    if (tdt == SSMRT_F32) {
        putf(&t, tv);
    } else {
        uint16_t *h = malloc(t.n * 2);
        for (size_t i = 0; i < t.n; i++) {
            h[i] = f32_to_bf16(tv[i]);
            tv[i] = bf16_to_f32(h[i]);
        }
        put(&t, h, t.n * 2);
        free(h);
    }
    int32_t idv[15];
    for (int i = 0; i < 15; i++) idv[i] = (i * 7 + 3) % 50;
    put(&ids, idv, sizeof idv);
    ssmrt_op op = new_op(SSMRT_OP_EMBEDDING, 2, 1);
    op.src[0] = t.d;
    op.src[1] = ids.d;
    op.dst[0] = y.d;
    int rc = run(&op);
    getf(&y, yv);
    double want[15 * 37];
    for (int i = 0; i < 15; i++)
        for (int d = 0; d < 37; d++) want[i * 37 + d] = tv[idv[i] * 37 + d];
    check(tdt == SSMRT_F32 ? "embedding f32" : "embedding bf16", rc, yv, want, y.n, 0, 0);
    /* Ids outside [0, V) give rows of zeros (ssmrt.h). */
    idv[4] = 50;
    idv[7] = -1;
    put(&ids, idv, sizeof idv);
    rc = run(&op);
    getf(&y, yv);
    for (int d = 0; d < 37; d++) want[4 * 37 + d] = want[7 * 37 + d] = 0;
    check(tdt == SSMRT_F32 ? "embedding f32 ids -1, V" : "embedding bf16 ids -1, V", rc, yv, want,
          y.n, 0, 0);
    free(tv);
    free(yv);
    drop(&t);
    drop(&ids);
    drop(&y);
}

/* A table of 50003 x 700 f32 (140 MB): larger than lavapipe's 128 MiB
 * maxStorageBufferRange, so the plugin splits it into row ranges. */
static void test_embedding_large(void) {
    int64_t ts[2] = {50003, 700}, is[1] = {9}, ys[2] = {9, 700};
    tens t = make(SSMRT_F32, 2, ts), ids = make(SSMRT_I32, 1, is), y = make(SSMRT_F32, 2, ys);
    float *tv = rnd(t.n, 1), *yv = malloc(y.n * 4);
    putf(&t, tv);
    int32_t idv[9] = {0, 50002, 25000, 49000, -3, 1, 50003, 47000, 12};
    put(&ids, idv, sizeof idv);
    ssmrt_op op = new_op(SSMRT_OP_EMBEDDING, 2, 1);
    op.src[0] = t.d;
    op.src[1] = ids.d;
    op.dst[0] = y.d;
    int rc = run(&op);
    getf(&y, yv);
    double *want = malloc(y.n * sizeof *want);
    for (int i = 0; i < 9; i++)
        for (int d = 0; d < 700; d++)
            want[i * 700 + d] = idv[i] >= 0 && idv[i] < 50003 ? tv[(size_t)idv[i] * 700 + d] : 0.0;
    check("embedding [50003, 700] f32 (split)", rc, yv, want, y.n, 0, 0);
    free(tv), free(yv), free(want);
    drop(&t), drop(&ids), drop(&y);
}

static void test_topk(void) {
    int64_t s[2] = {9, 6};
    tens x = make(SSMRT_F32, 2, s), y = make(SSMRT_F32, 2, s);
    float *xv = rnd(x.n, 3), yv[54];
    xv[6 + 1] = xv[6 + 4]; /* a tie in row 1 */
    putf(&x, xv);
    for (int renorm = 0; renorm < 2; renorm++) {
        ssmrt_op op = new_op(SSMRT_OP_TOPK_ROUTE, 1, 1);
        op.src[0] = x.d;
        op.dst[0] = y.d;
        op.params.topk.k = 2;
        op.params.topk.renormalize = renorm;
        int rc = run(&op);
        getf(&y, yv);
        double want[54];
        for (int t = 0; t < 9; t++) {
            double p[6], m = -INFINITY, sum = 0, kept = 0;
            int keep[6] = {0};
            for (int e = 0; e < 6; e++) m = fmax(m, xv[t * 6 + e]);
            for (int e = 0; e < 6; e++) sum += (p[e] = exp(xv[t * 6 + e] - m));
            for (int e = 0; e < 6; e++) p[e] /= sum;
            for (int r = 0; r < 2; r++) {
                int best = -1;
                for (int e = 0; e < 6; e++)
                    if (!keep[e] && (best < 0 || p[e] > p[best])) best = e;
                keep[best] = 1;
                kept += p[best];
            }
            for (int e = 0; e < 6; e++) want[t * 6 + e] = keep[e] ? (renorm ? p[e] / kept : p[e]) : 0;
        }
        check(renorm ? "topk_route k2 renormalize" : "topk_route k2", rc, yv, want, 54, 1e-7, 2e-6);
    }
    free(xv);
    drop(&x);
    drop(&y);
}

/* Selective scan against the literal recurrence. mamba2: A per head, P > 1.
 * scan_gate = 0: no z (the shaders specialize on its presence). */
static int scan_gate = 1;
static void test_scan(int B, int L, int H, int P, int G, int N, int mamba2, int with_state) {
    int64_t us[4] = {B, L, H, P}, ds[3] = {B, L, H}, as[2] = {H, mamba2 ? 1 : N}, bs[4] = {B, L, G, N},
            hs[1] = {H}, ss[4] = {B, H, P, N};
    tens u = make(SSMRT_F32, 4, us), dl = make(SSMRT_F32, 3, ds), A = make(SSMRT_F32, mamba2 ? 1 : 2, as),
         Bm = make(SSMRT_F32, 4, bs), Cm = make(SSMRT_F32, 4, bs), D = make(SSMRT_F32, 1, hs),
         z = make(SSMRT_F32, 4, us), db = make(SSMRT_F32, 1, hs), s0 = make(SSMRT_F32, 4, ss),
         y = make(SSMRT_F32, 4, us), s1 = make(SSMRT_F32, 4, ss);
    float *uv = rnd(u.n, 1), *dv = rnd(dl.n, 1), *av = rnd(A.n, 1), *bv = rnd(Bm.n, 1), *cv = rnd(Cm.n, 1),
          *Dv = rnd(H, 1), *zv = rnd(u.n, 2), *dbv = rnd(H, 1), *s0v = rnd(s0.n, 1);
    for (size_t i = 0; i < A.n; i++) av[i] = -1.0f - 3.0f * fabsf(av[i]); /* decaying */
    putf(&u, uv);
    putf(&dl, dv);
    putf(&A, av);
    putf(&Bm, bv);
    putf(&Cm, cv);
    putf(&D, Dv);
    putf(&z, zv);
    putf(&db, dbv);
    putf(&s0, s0v);
    ssmrt_op op = new_op(SSMRT_OP_SELECTIVE_SCAN, 9, 2);
    op.src[SSMRT_SCAN_U] = u.d;
    op.src[SSMRT_SCAN_DELTA] = dl.d;
    op.src[SSMRT_SCAN_A] = A.d;
    op.src[SSMRT_SCAN_B] = Bm.d;
    op.src[SSMRT_SCAN_C] = Cm.d;
    op.src[SSMRT_SCAN_D] = D.d;
    if (scan_gate) op.src[SSMRT_SCAN_Z] = z.d;
    op.src[SSMRT_SCAN_DELTA_BIAS] = db.d;
    if (with_state) op.src[SSMRT_SCAN_STATE] = s0.d;
    op.params.scan.delta_softplus = 1;
    op.dst[0] = y.d;
    op.dst[1] = with_state == 2 ? s0.d : s1.d; /* 2: state updated in place */
    int rc = run(&op);
    float *yv = malloc(y.n * 4), *s1v = malloc(s1.n * 4);
    getf(&y, yv);
    getf(with_state == 2 ? &s0 : &s1, s1v);
    double *want = calloc(y.n, sizeof *want), *wst = calloc(s1.n, sizeof *wst), *s = calloc(N, sizeof *s);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int p = 0; p < P; p++) {
                int g = h / (H / G);
                size_t sb = (((size_t)b * H + h) * P + p) * N;
                for (int n = 0; n < N; n++) s[n] = with_state ? s0v[sb + n] : 0;
                for (int l = 0; l < L; l++) {
                    size_t iu = (((size_t)b * L + l) * H + h) * P + p, ib = (((size_t)b * L + l) * G + g) * N;
                    double dt = softplus((double)dv[((size_t)b * L + l) * H + h] + dbv[h]);
                    double acc = 0;
                    for (int n = 0; n < N; n++) {
                        double a = mamba2 ? av[h] : av[h * N + n];
                        s[n] = exp(dt * a) * s[n] + dt * bv[ib + n] * uv[iu];
                        acc += s[n] * cv[ib + n];
                    }
                    acc += Dv[h] * uv[iu];
                    want[iu] = scan_gate ? acc * silu(zv[iu]) : acc;
                }
                for (int n = 0; n < N; n++) wst[sb + n] = s[n];
            }
    char name[96];
    snprintf(name, sizeof name, "scan %s B%d L%d H%d P%d G%d N%d%s%s", mamba2 ? "m2" : "m1", B, L, H, P, G,
             N, with_state == 2 ? " state in-place" : with_state ? " state" : "", scan_gate ? "" : " no z");
    /* States stay O(1); y sums N terms: a few 1e-6 relative per step, not growing with L
     * because the decay forgets old rounding. */
    check(name, rc, yv, want, y.n, 2e-5 * sqrt((double)N), 1e-4);
    snprintf(name + strlen(name), sizeof name - strlen(name), " (state out)");
    check(name, rc, s1v, wst, s1.n, 2e-5, 1e-4);
    free(uv), free(dv), free(av), free(bv), free(cv), free(Dv), free(zv), free(dbv), free(s0v);
    free(yv), free(s1v), free(want), free(wst), free(s);
    drop(&u), drop(&dl), drop(&A), drop(&Bm), drop(&Cm), drop(&D), drop(&z), drop(&db), drop(&s0);
    drop(&y), drop(&s1);
}

static void test_conv1d(int B, int L, int D, int W, int with_state) {
    int64_t xs[3] = {B, L, D}, ws[2] = {D, W}, bs[1] = {D}, ss[3] = {B, D, W - 1};
    tens x = make(SSMRT_F32, 3, xs), w = make(SSMRT_F32, 2, ws), bi = make(SSMRT_F32, 1, bs),
         st = make(SSMRT_F32, 3, ss), y = make(SSMRT_F32, 3, xs);
    float *xv = rnd(x.n, 1), *wv = rnd(w.n, 1), *bv = rnd(D, 1), *sv = rnd(st.n, 1);
    putf(&x, xv);
    putf(&w, wv);
    putf(&bi, bv);
    putf(&st, sv);
    ssmrt_op op = new_op(SSMRT_OP_CONV1D_CAUSAL, 4, 2);
    op.src[SSMRT_CONV_X] = x.d;
    op.src[SSMRT_CONV_W] = w.d;
    op.src[SSMRT_CONV_BIAS] = bi.d;
    if (with_state) op.src[SSMRT_CONV_STATE] = st.d;
    op.dst[0] = y.d;
    op.dst[1] = st.d; /* in place */
    op.params.conv.silu = 1;
    int rc = run(&op);
    float *yv = malloc(y.n * 4), *s1v = malloc(st.n * 4);
    getf(&y, yv);
    getf(&st, s1v);
    double *want = malloc(y.n * sizeof *want), *wst = malloc(st.n * sizeof *wst + 8);
    int S = W - 1;
    double *xx = malloc(sizeof *xx * (size_t)(S + L));
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            for (int t = 0; t < S; t++) xx[t] = with_state ? sv[(b * D + d) * S + t] : 0;
            for (int l = 0; l < L; l++) xx[S + l] = xv[(b * L + l) * D + d];
            for (int l = 0; l < L; l++) {
                double acc = bv[d];
                for (int j = 0; j < W; j++) acc += wv[d * W + j] * xx[l + j];
                want[(b * L + l) * D + d] = silu(acc);
            }
            for (int t = 0; t < S; t++) wst[(b * D + d) * S + t] = xx[L + t];
        }
    char name[80];
    snprintf(name, sizeof name, "conv1d B%d L%d D%d W%d%s", B, L, D, W, with_state ? " state" : "");
    check(name, rc, yv, want, y.n, 1e-6, 1e-5);
    strcat(name, " (state out)");
    check(name, rc, s1v, wst, st.n, 0, 0);
    free(xv), free(wv), free(bv), free(sv), free(yv), free(s1v), free(want), free(wst), free(xx);
    drop(&x), drop(&w), drop(&bi), drop(&st), drop(&y);
}

static void test_conv_long(int B, int L, int D, int Lk) {
    int64_t xs[3] = {B, L, D}, ks[2] = {D, Lk};
    tens x = make(SSMRT_F32, 3, xs), k = make(SSMRT_F32, 2, ks), y = make(SSMRT_F32, 3, xs);
    float *xv = rnd(x.n, 1), *kv = rnd(k.n, 1), *yv = malloc(y.n * 4);
    putf(&x, xv);
    putf(&k, kv);
    ssmrt_op op = new_op(SSMRT_OP_CONV_LONG, 2, 1);
    op.src[0] = x.d;
    op.src[1] = k.d;
    op.dst[0] = y.d;
    int rc = run(&op);
    getf(&y, yv);
    double *want = malloc(y.n * sizeof *want);
    for (int b = 0; b < B; b++)
        for (int l = 0; l < L; l++)
            for (int d = 0; d < D; d++) {
                double acc = 0;
                for (int j = 0; j <= l; j++) acc += (double)kv[d * Lk + j] * xv[(b * L + l - j) * D + d];
                want[(b * L + l) * D + d] = acc;
            }
    char name[80];
    snprintf(name, sizeof name, "conv_long B%d L%d D%d Lk%d", B, L, D, Lk);
    check(name, rc, yv, want, y.n, L * 1.2e-7, 1e-5);
    free(xv), free(kv), free(yv), free(want);
    drop(&x), drop(&k), drop(&y);
}

/* k and v are prefixes of a longer cache [B, Lc, Hk, D] (strided views). */
static void test_attention(int B, int Lq, int Lk, int Hq, int Hk, int Dh) {
    int Lc = Lk + 3;
    int64_t qs[4] = {B, Lq, Hq, Dh}, cs[4] = {B, Lc, Hk, Dh};
    tens q = make(SSMRT_F32, 4, qs), kc = make(SSMRT_F32, 4, cs), vc = make(SSMRT_F32, 4, cs),
         y = make(SSMRT_F32, 4, qs);
    float *qv = rnd(q.n, 1), *kv = rnd(kc.n, 1), *vv = rnd(vc.n, 1), *yv = malloc(y.n * 4);
    putf(&q, qv);
    putf(&kc, kv);
    putf(&vc, vv);
    ssmrt_op op = new_op(SSMRT_OP_ATTENTION, 3, 1);
    op.src[0] = q.d;
    op.src[1] = kc.d;
    op.src[1].shape[1] = Lk;
    op.src[2] = vc.d;
    op.src[2].shape[1] = Lk;
    op.dst[0] = y.d;
    double scale = 1 / sqrt((double)Dh);
    op.params.attention.scale = (float)scale;
    scale = (float)scale;
    int rc = run(&op);
    getf(&y, yv);
    double *want = malloc(y.n * sizeof *want), *sc = malloc(sizeof *sc * Lk);
    for (int b = 0; b < B; b++)
        for (int i = 0; i < Lq; i++)
            for (int h = 0; h < Hq; h++) {
                int kh = h / (Hq / Hk), last = Lk - Lq + i;
                double m = -INFINITY, sum = 0;
                for (int j = 0; j <= last; j++) {
                    double dot = 0;
                    for (int e = 0; e < Dh; e++)
                        dot += (double)qv[((b * Lq + i) * Hq + h) * Dh + e] * kv[((b * Lc + j) * Hk + kh) * Dh + e];
                    sc[j] = dot * scale;
                    m = fmax(m, sc[j]);
                }
                for (int j = 0; j <= last; j++) sum += (sc[j] = exp(sc[j] - m));
                for (int e = 0; e < Dh; e++) {
                    double acc = 0;
                    for (int j = 0; j <= last; j++) acc += sc[j] * vv[((b * Lc + j) * Hk + kh) * Dh + e];
                    want[((b * Lq + i) * Hq + h) * Dh + e] = acc / sum;
                }
            }
    char name[80];
    snprintf(name, sizeof name, "attention B%d Lq%d Lk%d Hq%d Hk%d D%d", B, Lq, Lk, Hq, Hk, Dh);
    check(name, rc, yv, want, y.n, 2e-6, 1e-5);
    free(qv), free(kv), free(vv), free(yv), free(want), free(sc);
    drop(&q), drop(&kc), drop(&vc), drop(&y);
}

static void test_fill_and_copy(void) {
    void *a, *b;
    vt->buffer_alloc(dev, 103, &a);
    vt->buffer_alloc(dev, 103, &b);
    unsigned char src[103], got[103];
    for (int i = 0; i < 103; i++) src[i] = (unsigned char)(i * 7 + 1);
    vt->buffer_upload(dev, a, 0, src, 103);
    int rc = vt->buffer_fill_zero(dev, a, 5, 90); /* unaligned both ends */
    if (!rc) rc = vt->buffer_copy(dev, a, 3, b, 1, 100);
    if (!rc) rc = vt->synchronize(dev);
    if (!rc) rc = vt->buffer_download(dev, b, 1, got, 100);
    int bad = rc != 0;
    for (int i = 0; i < 100 && !bad; i++) {
        int s = i + 3;
        unsigned char w = (s >= 5 && s < 95) ? 0 : src[s];
        bad = got[i] != w;
    }
    printf("%s %-40s\n", bad ? "FAIL" : "PASS", "fill_zero unaligned + buffer_copy");
    bad ? n_fail++ : n_pass++;
    vt->buffer_free(dev, a);
    vt->buffer_free(dev, b);
}

static void test_timer(void) {
    if (!vt->timer_mark) return;
    int rc = vt->timer_mark(dev, 0);
    int64_t s[1] = {1 << 16};
    tens x = make(SSMRT_F32, 1, s), y = make(SSMRT_F32, 1, s);
    ssmrt_op op = new_op(SSMRT_OP_EXP, 1, 1);
    op.src[0] = x.d;
    op.dst[0] = y.d;
    if (!rc) rc = vt->enqueue(dev, &op);
    if (!rc) rc = vt->timer_mark(dev, 1);
    double ns = -1;
    if (!rc) rc = vt->timer_read(dev, 0, 1, &ns);
    int ok = !rc && ns > 0 && ns < 10e9;
    printf("%s %-40s %.1f us\n", ok ? "PASS" : "FAIL", "timestamps around exp of 64k", ns / 1e3);
    ok ? n_pass++ : n_fail++;

    /* A reading is kept: the same pair reads the same again. */
    double again = -1;
    rc = vt->timer_read(dev, 0, 1, &again);
    ok = !rc && again == ns;
    printf("%s %-40s\n", ok ? "PASS" : "FAIL", "timer read twice gives the same span");
    ok ? n_pass++ : n_fail++;

    /* Slots reused run after run (reset after reading where the device resets
     * queries from the host), a batch between the marks (its submission waits
     * for the closing mark), and a slot marked again before it was read (the
     * mark resets it in the command buffer). */
    int runs_ok = 1;
    for (int run = 0; run < 4 && runs_ok; run++) {
        rc = vt->timer_mark(dev, 0);
        if (!rc && run == 3) rc = vt->timer_mark(dev, 0);
        if (!rc && vt->begin_batch) rc = vt->begin_batch(dev);
        if (!rc) rc = vt->enqueue(dev, &op);
        if (!rc && vt->end_batch) rc = vt->end_batch(dev);
        if (!rc) rc = vt->timer_mark(dev, 1);
        ns = -1;
        if (!rc) rc = vt->timer_read(dev, 0, 1, &ns);
        runs_ok = !rc && ns > 0 && ns < 10e9;
    }
    if (runs_ok) {
        /* The last run's work ran: x = 0 was uploaded after the earlier runs. */
        float *zero = calloc(x.n, sizeof *zero), *back = malloc(x.n * sizeof *back);
        if (!zero || !back) exit(2);
        putf(&x, zero);
        runs_ok = vt->timer_mark(dev, 0) == 0 && vt->enqueue(dev, &op) == 0 &&
                  vt->timer_mark(dev, 1) == 0 && vt->timer_read(dev, 0, 1, &ns) == 0;
        getf(&y, back);
        for (size_t i = 0; i < x.n && runs_ok; i++) runs_ok = back[i] == 1.0f;
        free(zero);
        free(back);
    }
    printf("%s %-40s\n", runs_ok ? "PASS" : "FAIL", "timer slots reused, batch between marks");
    runs_ok ? n_pass++ : n_fail++;

    /* A slot never marked is an error, not a hang. */
    rc = vt->timer_read(dev, 2, 3, &ns);
    ok = rc != 0;
    printf("%s %-40s\n", ok ? "PASS" : "FAIL", "timer read of unmarked slots fails");
    ok ? n_pass++ : n_fail++;
    drop(&x);
    drop(&y);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : SSMRT_VK_PLUGIN_PATH;
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
        return 2;
    }
    ssmrt_backend_entry_fn entry;
    void *sym = dlsym(lib, SSMRT_BACKEND_ENTRY_SYMBOL);
    memcpy(&entry, &sym, sizeof sym);
    uint32_t ver;
    void *be;
    if (!entry || entry(&host, SSMRT_BACKEND_ABI_VERSION, &ver, &vt) || vt->init(&be)) {
        printf("SKIP: the Vulkan plugin cannot start: %s\n", last_error);
        return 77;
    }
    ssmrt_backend_device_props props = {.struct_size = sizeof props};
    vt->device_props(be, 0, &props);
    printf("device: %s | %s | %s | %s | %llu MiB | subgroup %u\n", props.name, props.vendor,
           props.driver_version, props.api_version, (unsigned long long)(props.memory_bytes >> 20),
           props.subgroup_size);
    if (vt->device_open(be, 0, &dev)) {
        printf("FAIL device_open: %s\n", last_error);
        return 1;
    }
    test_f16_helper();
    test_fill_and_copy();
    test_unary();
    test_binary();
    test_copy();
    test_copy_contiguous();
    test_rows();
    test_matmul(1, 33, 77, SSMRT_F32, 1);
    test_matmul(5, 70, 129, SSMRT_F16, 0);
    test_matmul(67, 131, 45, SSMRT_F32, 1);
    test_matmul(100, 65, 300, SSMRT_BF16, 1);
    test_matmul(70, 64, 64, SSMRT_F16, 0);
    /* Tensor-core tiles of 128 x 128 (where the device has them): partial tiles on
     * both edges, a last K slice of 4 of 32, and many slices. */
    test_matmul(200, 300, 100, SSMRT_F16, 1);
    test_matmul(130, 257, 1028, SSMRT_F16, 0);
    /* Few rows with 16-byte weight rows: a subgroup per column where the device
     * has subgroup arithmetic. */
    test_matmul(4, 300, 520, SSMRT_BF16, 1);
    test_matmul(1, 257, 1024, SSMRT_F16, 0);
    test_matmul(8, 100, 64, SSMRT_F32, 1);
    test_embedding(SSMRT_F32);
    test_embedding(SSMRT_BF16);
    test_embedding_large();
    test_matmul(3, 50003, 700, SSMRT_F32, 1);  /* 140 MB of weights: split by columns */
    test_matmul(70, 50003, 700, SSMRT_F32, 0);
    test_topk();
    test_scan(1, 1, 3, 1, 1, 16, 0, 1);
    test_scan(2, 37, 5, 1, 1, 16, 0, 0);
    test_scan(1, 300, 4, 1, 2, 16, 0, 2);
    test_scan(2, 129, 3, 1, 3, 5, 0, 1);
    test_scan(1, 70, 4, 3, 2, 40, 1, 1);
    test_scan(2, 1, 4, 4, 1, 64, 1, 2);
    test_scan(1, 200, 19, 1, 1, 16, 0, 1);
    test_scan(2, 65, 3, 1, 1, 1, 0, 1);
    test_scan(1, 33, 2, 8, 1, 128, 1, 1);
    test_scan(1, 20, 2, 2, 2, 200, 1, 2);
    /* Many blocks of both buffer parities, rows not vec4 (N = 17), channel tiles
     * cut by group ends (G = 3, 2 heads x 2 per group), the shared-memory y
     * reduction over many blocks (N = 64 > 4 x lavapipe's subgroup of 8). */
    test_scan(1, 1000, 9, 1, 1, 17, 0, 1);
    test_scan(2, 515, 6, 2, 3, 4, 0, 0);
    test_scan(1, 300, 4, 16, 2, 64, 1, 2);
    /* The runs shader (selective_scan_runs.comp: L > 8 on subgroups of 8, 16 or 32
     * with shuffles, lavapipe's included): L not a multiple of its blocks, state
     * lanes x runs 4 x 2 on lavapipe (N <= 16: a padded lane at N = 1, 4 states
     * per lane at N = 16) and 8 x 1 (N = 17, 32), channel tiles cut by group ends
     * and heads (G = 3, 11 channels per group), more channels than one workgroup,
     * state in, out and in place, with and without z, Mamba-2 (A per head). */
    test_scan(2, 77, 6, 1, 2, 1, 0, 1);
    test_scan(1, 150, 9, 1, 3, 4, 0, 2);
    test_scan(2, 201, 33, 1, 3, 16, 0, 1);
    test_scan(1, 99, 12, 1, 1, 17, 0, 0);
    test_scan(1, 130, 10, 1, 2, 32, 0, 2);
    test_scan(1, 90, 4, 3, 2, 16, 1, 1);
    scan_gate = 0;
    test_scan(1, 300, 20, 1, 1, 16, 0, 1);
    test_scan(2, 45, 6, 2, 3, 32, 1, 2);
    scan_gate = 1;
    test_conv1d(2, 9, 13, 4, 1);
    test_conv1d(1, 2, 5, 4, 1);
    test_conv1d(3, 1, 7, 4, 0);
    test_conv_long(2, 300, 3, 310);
    test_conv_long(1, 1, 4, 1);
    test_attention(2, 5, 9, 4, 2, 16);
    test_attention(1, 1, 70, 3, 1, 33);
    test_attention(1, 67, 67, 2, 2, 64);
    test_attention(2, 33, 40, 4, 1, 128);
    test_attention(1, 20, 20, 2, 1, 200); /* head dim above the blocked kernel's tiles */
    test_timer();
    vt->device_close(dev);
    vt->shutdown(be);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
