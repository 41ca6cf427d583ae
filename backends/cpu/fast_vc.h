/*
 * fast_vc.h: the widest vector of the build, for the loops bound by exp: 16
 * floats (one AVX-512 register) in the x86-64-v4 build of the kernels, else the
 * 8-lane v8f. The scan's channel-vectorised recurrence and conv1d's SiLU are
 * written over it; on AVX-512 the exp costs half the instructions (1.45x the
 * throughput measured on Zen 4, whose 8-lane code is front-end bound).
 */
#ifndef SSMRT_CPU_FAST_VC_H
#define SSMRT_CPU_FAST_VC_H

#include "fast_math.h"

#if defined(__AVX512F__)
#define CPU_VC_WIDTH 16
typedef float vcf __attribute__((vector_size(64)));
typedef int32_t vci __attribute__((vector_size(64)));
CPU_INLINE vcf vc_load(const float *p) {
    vcf v;
    memcpy(&v, p, sizeof v);
    return v;
}
CPU_INLINE void vc_store(float *p, vcf v) { memcpy(p, &v, sizeof v); }
CPU_INLINE vcf vc_set1(float x) { return (vcf)_mm512_set1_ps(x); }
CPU_INLINE vcf vc_exp_decay(vcf x) { /* as v8_exp_decay */
    vcf y;
    x = (vcf)_mm512_min_ps(_mm512_set1_ps(88.37626266f),
                           _mm512_max_ps(_mm512_set1_ps(-87.33654475f), (__m512)x));
    CPU_EXP_CLAMPED(vcf, vci, vc_set1, x, y);
    return y;
}
CPU_INLINE vcf vc_silu(vcf x) { /* as v8_silu: 14-bit reciprocal and one Newton step */
    vcf d = vc_set1(1.0f) + vc_exp_decay(-x);
    vcf r = (vcf)_mm512_rcp14_ps((__m512)d);
    return x * (r + r * (vc_set1(1.0f) - d * r));
}
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
#define vc_stream v8_stream
#define CPU_VC_ALIGN 32
#endif

#endif
