/*
 * fast_elementwise.c: f32 ADD, MUL (with broadcast), the unary ops and SOFTMAX.
 *
 * Work is cut into chunks run by OpenMP threads; each chunk calls a cloned
 * (AVX2 or baseline) leaf, because GCC outlines an omp region into a function of
 * its own that would not inherit the clone's instruction set.
 */
#include <math.h>
#include <string.h>

#include "fast_kernels.h"
#include "fast_math.h"
#include "fast_vc.h"

/* Below this many elements a thread team costs more than it saves. */
#define PAR_MIN 32768
#define CHUNK 16384

/* ---- binary -------------------------------------------------------------- */

static void binary_row(int mul, const float *a, const float *b, int b_scalar, float *y,
                       int64_t n) {
    if (b_scalar) {
        float s = b[0];
        if (mul)
            for (int64_t i = 0; i < n; i++) y[i] = a[i] * s;
        else
            for (int64_t i = 0; i < n; i++) y[i] = a[i] + s;
    } else if (mul) {
        for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
    } else {
        for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
    }
}

int cpu_fast_binary(const ssmrt_op *op) {
    int64_t ds[4], bs[4];
    int rc = cpu_shape_binary(op, ds, bs);
    if (!rc) rc = cpu_fast_require_contiguous(op);
    if (rc) return rc;
    const float *a = cpu_desc_ptr(&op->src[0]), *b = cpu_desc_ptr(&op->src[1]);
    float *y = cpu_desc_ptr(&op->dst[0]);
    int mul = op->kind == SSMRT_OP_MUL;
    int64_t rows = ds[0] * ds[1] * ds[2], n = ds[3];
    int b_scalar = bs[3] == 1 && n != 1;
    if (rows == 1) { /* one long row: split it */
        int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
        for (int64_t c = 0; c < chunks; c++) {
            int64_t i0 = c * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
            binary_row(mul, a + i0, b_scalar ? b : b + i0, b_scalar, y + i0, len);
        }
        return 0;
    }
#pragma omp parallel for schedule(static) if (rows * n >= PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c0 = r / (ds[1] * ds[2]), c1 = (r / ds[2]) % ds[1], c2 = r % ds[2];
        int64_t br = ((bs[0] == 1 ? 0 : c0) * bs[1] + (bs[1] == 1 ? 0 : c1)) * bs[2] +
                     (bs[2] == 1 ? 0 : c2);
        binary_row(mul, a + r * n, b + br * bs[3], b_scalar, y + r * n, n);
    }
    return 0;
}

/* ---- unary ----------------------------------------------------------------- */

/* y = F(x) over n floats, WIDTH at a time with vector type T; the last partial
 * vector goes through the same code on a zero-padded copy, so a value never
 * depends on where it falls in the array. exp, sigmoid and silu run on the
 * widest vector (fast_vc.h), softplus and gelu on 8 lanes. */
#define UNARY_LOOP(T, WIDTH, LOAD, STORE, F)                                               \
    do {                                                                                   \
        for (; i + (WIDTH) <= n; i += (WIDTH)) STORE(y + i, F(LOAD(x + i)));               \
        if (i < n) {                                                                       \
            float buf[WIDTH] = {0};                                                        \
            memcpy(buf, x + i, (size_t)(n - i) * sizeof(float));                           \
            STORE(buf, F(LOAD(buf)));                                                      \
            memcpy(y + i, buf, (size_t)(n - i) * sizeof(float));                           \
        }                                                                                  \
    } while (0)
#define UNARY_WIDE(F) UNARY_LOOP(vcf, CPU_VC_WIDTH, vc_load, vc_store, F)
#define UNARY_8(F) UNARY_LOOP(v8f, 8, v8_load, v8_store, F)

static void unary_chunk(uint32_t kind, float alpha, float beta, const float *x, float *y,
                        int64_t n) {
    int64_t i = 0;
    switch (kind) {
    case SSMRT_OP_SCALE:
        for (; i < n; i++) y[i] = x[i] * alpha + beta;
        break;
    case SSMRT_OP_EXP: UNARY_WIDE(vc_exp); break;
    case SSMRT_OP_SILU: UNARY_WIDE(vc_silu); break;
    case SSMRT_OP_SIGMOID: UNARY_WIDE(vc_sigmoid); break;
    case SSMRT_OP_SOFTPLUS: UNARY_8(v8_softplus); break;
    default: UNARY_8(v8_gelu); break; /* SSMRT_OP_GELU, exact (erf) form */
    }
}

int cpu_fast_unary(const ssmrt_op *op) {
    int64_t n;
    int rc = cpu_shape_unary(op, &n);
    if (!rc) rc = cpu_fast_require_contiguous(op);
    if (rc) return rc;
    const float *x = cpu_desc_ptr(&op->src[0]);
    float *y = cpu_desc_ptr(&op->dst[0]);
    int64_t chunks = (n + CHUNK - 1) / CHUNK;
    float alpha = op->params.scale.alpha, beta = op->params.scale.beta;
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t i0 = c * CHUNK, len = n - i0 < CHUNK ? n - i0 : CHUNK;
        unary_chunk(op->kind, alpha, beta, x + i0, y + i0, len);
    }
    return 0;
}

/* ---- softmax ------------------------------------------------------------- */

static void softmax_row(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    v8f vm = v8_set1(-__builtin_inff());
    for (; i + 8 <= n; i += 8) vm = v8_max(vm, v8_load(x + i));
    float m = v8_hmax(vm);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    v8f vs = v8_set1(0.0f), vmx = v8_set1(m);
    float s = 0.0f;
    for (i = 0; i + 8 <= n; i += 8) {
        v8f e = v8_exp(v8_load(x + i) - vmx);
        vs += e;
        v8_store(y + i, e);
    }
    for (; i < n; i++) s += (y[i] = s_exp(x[i] - m));
    float inv = 1.0f / (v8_hsum(vs) + s);
    for (i = 0; i < n; i++) y[i] *= inv;
}

int cpu_fast_softmax(const ssmrt_op *op) {
    int64_t rows, cols;
    int rc = cpu_shape_rows(op, &rows, &cols);
    if (!rc) rc = cpu_fast_require_contiguous(op);
    if (rc) return rc;
    const float *x = cpu_desc_ptr(&op->src[0]);
    float *y = cpu_desc_ptr(&op->dst[0]);
#pragma omp parallel for schedule(static) if (rows * cols >= PAR_MIN)
    for (int64_t r = 0; r < rows; r++) softmax_row(x + r * cols, y + r * cols, cols);
    return 0;
}
