/*
 * fast_vc.h: the widest vector of the build, for the loops bound by exp: 16
 * floats (one AVX-512 register) in the x86-64-v4 build of the kernels, else the
 * 8-lane v8f. The scan's channel-vectorised recurrence, conv1d's SiLU and the
 * unary ops are written over it; on AVX-512 the exp costs half the instructions (1.45x the
 * throughput measured on Zen 4, whose 8-lane code is front-end bound).
 */
#ifndef SSMRT_CPU_FAST_VC_H
#define SSMRT_CPU_FAST_VC_H

#include "fast_math.h"

#if defined(__AVX512F__)
#define CPU_VC_WIDTH 16
typedef float vcf __attribute__((vector_size(64)));
CPU_INLINE vcf vc_load(const float *p) {
    vcf v;
    memcpy(&v, p, sizeof v);
    return v;
}
CPU_INLINE void vc_store(float *p, vcf v) { memcpy(p, &v, sizeof v); }
CPU_INLINE vcf vc_set1(float x) { return (vcf)_mm512_set1_ps(x); }
/* e^x with v8_exp's reduction and polynomial; AVX-512's scalef applies 2^n
 * (n kept as a float) and gives 0 / subnormals / inf at the ends of the range
 * by itself. x is clamped to [-104, 89] only so the reduction of a huge |x|
 * cannot turn into inf - inf; past those bounds the result is 0 or inf anyway,
 * and a NaN stays NaN (maxps/minps return their second operand). */
CPU_INLINE vcf vc_exp_decay(vcf x) {
    x = (vcf)_mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), (__m512)x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps((__m512)x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    vcf nf = (vcf)n;
    vcf r = x - nf * vc_set1(0.693359375f) - nf * vc_set1(-2.12194440e-4f);
    vcf p = vc_set1(1.9875691500E-4f);
    p = p * r + vc_set1(1.3981999507E-3f);
    p = p * r + vc_set1(8.3334519073E-3f);
    p = p * r + vc_set1(4.1665795894E-2f);
    p = p * r + vc_set1(1.6666665459E-1f);
    p = p * r + vc_set1(5.0000001201E-1f);
    p = p * r + vc_set1(1.0f);
    p = p * r + vc_set1(1.0f);
    return (vcf)_mm512_scalef_ps((__m512)p, n);
}
/* The scalef form is exact at both ends (0, subnormals, inf, NaN), so it serves
 * the EXP op too; the 8-lane builds use the masked v8_exp for that. */
#define vc_exp vc_exp_decay
/* As v8_sigmoid / v8_silu, with a 14-bit reciprocal and one Newton step. e^-x
 * is capped at e^88 so d stays finite: rcp14 of inf would make the Newton step
 * inf * 0. A NaN x stays NaN (minps returns its second operand). */
CPU_INLINE vcf vc_sigmoid(vcf x) {
    vcf d = vc_set1(1.0f) + vc_exp_decay((vcf)_mm512_min_ps(_mm512_set1_ps(88.0f), (__m512)-x));
    vcf r = (vcf)_mm512_rcp14_ps((__m512)d);
    r = r + r * (vc_set1(1.0f) - d * r);
    /* Exactly 0 below -88.7, as in v8_sigmoid. */
    return (vcf)_mm512_mask_mov_ps((__m512)r, _mm512_cmp_ps_mask((__m512)x, _mm512_set1_ps(-88.72f), _CMP_LT_OQ),
                                   _mm512_setzero_ps());
}
CPU_INLINE vcf vc_silu(vcf x) { return x * vc_sigmoid(x); }
/* Non-temporal store; p must be 64-byte aligned. */
CPU_INLINE void vc_stream(float *p, vcf v) { _mm512_stream_ps(p, (__m512)v); }
#define CPU_VC_ALIGN 64
#else
#define CPU_VC_WIDTH 8
typedef v8f vcf;
#define vc_load v8_load
#define vc_store v8_store
#define vc_set1 v8_set1
#define vc_exp_decay v8_exp_decay
#define vc_silu v8_silu
#define vc_sigmoid v8_sigmoid
#define vc_exp v8_exp
#define vc_stream v8_stream
#define CPU_VC_ALIGN 32
#endif

#endif
