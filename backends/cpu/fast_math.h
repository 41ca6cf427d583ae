/*
 * fast_math.h: 8-lane f32 vectors (GCC vector extensions) and a vectorised exp
 * for the fast kernels.
 *
 * The build never uses -march for the whole plugin: on x86-64 these kernels are
 * compiled once for the baseline and once for x86-64-v3 (AVX2 + FMA), and the
 * copy is chosen at load time (fast_variant.h), so the binary runs on any
 * x86-64. On the baseline a v8f is two SSE registers.
 */
#ifndef SSMRT_CPU_FAST_MATH_H
#define SSMRT_CPU_FAST_MATH_H

#include <stdint.h>
#include <string.h>
#if defined(__SSE__)
#include <immintrin.h>
#endif

/* Every helper taking or returning a v8f is always_inline, so no vector crosses a
 * real call and the baseline's "AVX vector return without AVX changes the ABI"
 * note does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

#define CPU_INLINE static inline __attribute__((always_inline))

CPU_INLINE v8f v8_load(const float *p) {
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}
CPU_INLINE void v8_store(float *p, v8f v) { memcpy(p, &v, sizeof v); }
/* Non-temporal store of 8 floats to a 32-byte aligned address: for outputs far
 * larger than the caches, so writing them neither reads the lines first nor
 * evicts the inputs. Callers fence with v8_stream_fence() when done. */
CPU_INLINE void v8_stream(float *p, v8f v) {
#if defined(__AVX__)
    _mm256_stream_ps(p, (__m256)v);
#elif defined(__SSE__)
    _mm_stream_ps(p, (__m128){v[0], v[1], v[2], v[3]});
    _mm_stream_ps(p + 4, (__m128){v[4], v[5], v[6], v[7]});
#else
    v8_store(p, v);
#endif
}
CPU_INLINE void v8_stream_fence(void) {
#if defined(__SSE__)
    _mm_sfence();
#endif
}

CPU_INLINE v8f v8_set1(float x) { return (v8f){x, x, x, x, x, x, x, x}; }
CPU_INLINE v8f v8_select(v8i mask, v8f a, v8f b) { /* mask ? a : b, lane-wise */
    return (v8f)(((v8i)a & mask) | ((v8i)b & ~mask));
}
CPU_INLINE v8f v8_max(v8f a, v8f b) { return v8_select(a > b, a, b); }
/* min(hi, max(lo, x)) lane-wise; a NaN x stays NaN. One instruction each way on
 * AVX (maxps returns its second operand when either is NaN). */
CPU_INLINE v8f v8_clamp(v8f x, v8f lo, v8f hi) {
#if defined(__AVX__)
    return (v8f)_mm256_min_ps((__m256)hi, _mm256_max_ps((__m256)lo, (__m256)x));
#else
    return v8_select(x < lo, lo, v8_select(x > hi, hi, x));
#endif
}
CPU_INLINE float v8_hsum(v8f v) {
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}
CPU_INLINE float v8_hmax(v8f v) {
    float m = v[0];
    for (int i = 1; i < 8; i++) m = v[i] > m ? v[i] : m;
    return m;
}

/* exp(x), lane-wise, within 2 ulp of the correctly rounded f32 result: x = n*ln2
 * + r with |r| <= ln2/2 (ln2 split in two so n*ln2 is exact), e^r by a degree-6
 * polynomial (Cephes' expf coefficients), then the scale 2^n applied as two
 * exponent-field multiplies so n = 128 and n = -126 stay representable. Results
 * below FLT_MIN (x < -87.34) flush to 0, x > 88.72 gives +inf, NaN stays NaN. */
CPU_INLINE v8f v8_exp(v8f x) {
    const v8f lo = v8_set1(-87.33654475f), hi = v8_set1(88.72283935f);
    v8f xc = v8_clamp(x, lo, hi);
    const v8f magic = v8_set1(12582912.0f); /* 1.5 * 2^23: adding it rounds to an int */
    v8f t = xc * v8_set1(1.44269504088896341f) + magic;
    v8f n = t - magic;
    v8i ni = (v8i)t - (v8i)magic;
    v8f r = xc - n * v8_set1(0.693359375f) - n * v8_set1(-2.12194440e-4f);
    v8f p = v8_set1(1.9875691500E-4f);
    p = p * r + v8_set1(1.3981999507E-3f);
    p = p * r + v8_set1(8.3334519073E-3f);
    p = p * r + v8_set1(4.1665795894E-2f);
    p = p * r + v8_set1(1.6666665459E-1f);
    p = p * r + v8_set1(5.0000001201E-1f);
    v8f y = p * r * r + r + v8_set1(1.0f);
    v8i n1 = ni >> 1, n2 = ni - n1;
    y = y * (v8f)((n1 + 127) << 23) * (v8f)((n2 + 127) << 23);
    y = v8_select(x < lo, v8_set1(0.0f), y);
    return v8_select(x > hi, v8_set1(__builtin_inff()), y);
}

/* 1/d for normal finite d > 0 whose reciprocal is normal, within about 2 ulp: on AVX the 12-bit estimate refined
 * by one Newton step (division is the slowest vector instruction there), else a
 * division. */
CPU_INLINE v8f v8_recip(v8f d) {
#if defined(__AVX__)
    v8f r = (v8f)_mm256_rcp_ps((__m256)d);
    return r + r * (v8_set1(1.0f) - d * r);
#else
    return v8_set1(1.0f) / d;
#endif
}

/* log(x) for normal positive x, within 2 ulp (Cephes' logf: x = m * 2^e with m in
 * [sqrt(1/2), sqrt(2)), log(m) by a degree-9 polynomial in m - 1). Only used on
 * values >= 1 here (softplus), so zero, negative and subnormal inputs are not
 * handled. */
CPU_INLINE v8f v8_log(v8f x) {
    v8i bits = (v8i)x;
    v8i e = ((bits >> 23) & 0xff) - 126;
    v8f m = (v8f)((bits & 0x807fffff) | 0x3f000000); /* [0.5, 1) */
    v8i small = m < v8_set1(0.707106781186547524f);
    e = e + small; /* small lanes are all-ones (-1): one less */
    m = v8_select(small, m + m, m) - v8_set1(1.0f);
    v8f ef = __builtin_convertvector(e, v8f);
    v8f z = m * m;
    v8f p = v8_set1(7.0376836292E-2f);
    p = p * m + v8_set1(-1.1514610310E-1f);
    p = p * m + v8_set1(1.1676998740E-1f);
    p = p * m + v8_set1(-1.2420140846E-1f);
    p = p * m + v8_set1(1.4249322787E-1f);
    p = p * m + v8_set1(-1.6668057665E-1f);
    p = p * m + v8_set1(2.0000714765E-1f);
    p = p * m + v8_set1(-2.4999993993E-1f);
    p = p * m + v8_set1(3.3333331174E-1f);
    v8f y = p * m * z + ef * v8_set1(-2.12194440e-4f) - v8_set1(0.5f) * z;
    return m + y + ef * v8_set1(0.693359375f);
}

/* softplus(x) = log(1 + e^x), and x itself above 20 (PyTorch's threshold).
 * log1p(e) is computed as log(u) * e / (u - 1) with u = 1 + e rounded, which
 * cancels the rounding of u (Goldberg's trick); where u rounds to 1, e itself. */
CPU_INLINE v8f v8_softplus(v8f x) {
    v8f e = v8_exp(v8_select(x > v8_set1(20.0f), v8_set1(0.0f), x));
    v8f u = v8_set1(1.0f) + e;
    v8i one = u == v8_set1(1.0f);
    v8f den = v8_select(one, v8_set1(1.0f), u - v8_set1(1.0f));
    v8f l = v8_log(v8_select(one, v8_set1(2.0f), u)) * e * v8_recip(den);
    l = v8_select(one, e, l);
    return v8_select(x > v8_set1(20.0f), x, l);
}

/* e^x for x already clamped to [-87.34, 88.37], for any vector type T with
 * integer twin TI and broadcast SET1: v8_exp's polynomial, with 2^n built by one
 * exponent-field multiply (n <= 127 in that range). t's low mantissa bits hold
 * n + 2^22 + 2^23, so (t - magic + 127) << 23 works on its integer bits. */
#define CPU_EXP_CLAMPED(T, TI, SET1, x, out)                                              \
    do {                                                                                  \
        const T magic_ = SET1(12582912.0f);                                               \
        T t_ = (x) * SET1(1.44269504088896341f) + magic_;                                 \
        T n_ = t_ - magic_;                                                               \
        T r_ = (x) - n_ * SET1(0.693359375f) - n_ * SET1(-2.12194440e-4f);                \
        T p_ = SET1(1.9875691500E-4f);                                                    \
        p_ = p_ * r_ + SET1(1.3981999507E-3f);                                            \
        p_ = p_ * r_ + SET1(8.3334519073E-3f);                                            \
        p_ = p_ * r_ + SET1(4.1665795894E-2f);                                            \
        p_ = p_ * r_ + SET1(1.6666665459E-1f);                                            \
        p_ = p_ * r_ + SET1(5.0000001201E-1f);                                            \
        T y_ = p_ * r_ * r_ + r_ + SET1(1.0f);                                            \
        (out) = y_ * (T)(((TI)t_ - (TI)magic_ + 127) << 23);                              \
    } while (0)

/* exp(x) for the scan's decay factors exp(dt * A), where it is the whole cost of
 * Mamba-1's op, and inside sigmoid/silu: v8_exp's polynomial, but x is clamped
 * to [-87.34, 88.37] instead of masked, so an underflow comes out as about
 * FLT_MIN rather than 0 (absolute error < 1.2e-38), an overflow as 2.4e38
 * rather than inf, and 2^n needs a single multiply. Not for the EXP op. */
CPU_INLINE v8f v8_exp_decay(v8f x) {
    v8f y;
    x = v8_clamp(x, v8_set1(-87.33654475f), v8_set1(88.37626266f));
    CPU_EXP_CLAMPED(v8f, v8i, v8_set1, x, y);
    return y;
}

/* sigmoid(x) = 1 / (1 + e^-x). The clamped exp keeps 1 + e^-x finite (at most
 * 2.4e38), so where the true result is below 4e-39 it comes out as about that
 * or 0: an absolute error far below anything a float can carry next to 1. */
CPU_INLINE v8f v8_sigmoid(v8f x) {
    v8f r = v8_recip(v8_set1(1.0f) + v8_exp_decay(-x));
    /* Exactly 0 below -88.7, as the literal formula gives once e^-x overflows:
     * so silu(-inf) = -inf * 0 is NaN like the reference, not -inf * tiny. */
    return v8_select(x < v8_set1(-88.72f), v8_set1(0.0f), r);
}
CPU_INLINE v8f v8_silu(v8f x) { return x * v8_sigmoid(x); }

/* erfc(|x| / sqrt 2) with a relative error of a few ulp: erfc(z) =
 * t e^(g(t) - z^2) with t = 1 / (1 + z/2), where g, smooth on t in (0, 1], is a
 * degree-11 polynomial fitted for this plugin (Chebyshev fit in 40-digit
 * arithmetic, largest relative error of the fit 1.4e-8). z^2 = x^2 / 2 reaches
 * 87 before erfc underflows, so it is not rounded into one f32 argument (up to
 * 2^-24 * 87 relative, and z = x / sqrt 2 rounded would double that): x^2 is
 * split into hi + lo (exact with a fused multiply-add, in the x86-64-v3/v4
 * builds) and the result is exp(-hi/2) exp(g - lo/2). */
CPU_INLINE v8f v8_erfc_half(v8f x) {
    static const float c[12] = {-0.1893674557f, 1.050233522f, -2.346272392f, 2.590129191f,
                                -1.386666664f,  0.4228596556f, -0.2640958796f, -0.0681377039f,
                                0.08175679195f, 0.3750744848f, 0.999998553f,   -1.265512119f};
    v8i neg = x < v8_set1(0.0f);
    v8f ax = v8_select(neg, -x, x);
    /* erfc is 0 in f32 long before 1e4; capping keeps inf out of the reciprocal
     * (a NaN x stays NaN: the compare is false). */
    ax = v8_select(ax > v8_set1(1e4f), v8_set1(1e4f), ax);
    v8f t = v8_recip(v8_set1(1.0f) + v8_set1(0.35355339059327376f) * ax); /* 1 / (1 + z/2) */
    v8f p = v8_set1(c[0]);
    for (int i = 1; i < 12; i++) p = p * t + v8_set1(c[i]);
    v8f hi = ax * ax;
#if defined(__FMA__)
    v8f lo = (v8f)_mm256_fmsub_ps((__m256)ax, (__m256)ax, (__m256)hi);
#else
    v8f lo = v8_set1(0.0f); /* without a fused multiply-add the baseline keeps 2^-24 z^2 */
#endif
    return t * v8_exp(v8_set1(-0.5f) * hi) * v8_exp(p - v8_set1(0.5f) * lo);
}

/* Exact-form GELU, 0.5 x (1 + erf(x / sqrt 2)) = 0.5 x erfc(-x / sqrt 2), taken
 * as 0.5 x q for x < 0 and 0.5 x (2 - q) for x >= 0 with q = erfc(|x| / sqrt 2),
 * so no 1 + erf cancels and tiny negative outputs keep their relative accuracy. */
CPU_INLINE v8f v8_gelu(v8f x) {
    v8f q = v8_erfc_half(x);
    return v8_set1(0.5f) * x * v8_select(x < v8_set1(0.0f), q, v8_set1(2.0f) - q);
}

/* Scalar forms through the same code, for loop tails, so a value does not depend
 * on where it falls in the array. */
CPU_INLINE float s_exp(float x) { return v8_exp(v8_set1(x))[0]; }
CPU_INLINE float s_silu(float x) { return v8_silu(v8_set1(x))[0]; }
CPU_INLINE float s_sigmoid(float x) { return v8_sigmoid(v8_set1(x))[0]; }
CPU_INLINE float s_softplus(float x) { return v8_softplus(v8_set1(x))[0]; }
CPU_INLINE float s_gelu(float x) { return v8_gelu(v8_set1(x))[0]; }

#endif
