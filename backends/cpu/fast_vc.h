/*
 * fast_vc.h: the "channel vector" of the scan's channel-vectorised recurrence:
 * 16 floats as one AVX-512 register in the x86-64-v4 build of the kernels, else
 * two 8-lane vectors. The recurrence is written once over CPU_VC_PER_CW
 * vectors; on AVX-512 the exp that dominates Mamba-1 costs half the
 * instructions (1.45x the throughput measured on Zen 4).
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
CPU_INLINE vcf vc_exp_decay(vcf x) {
    vcf y;
    x = (vcf)_mm512_min_ps(_mm512_set1_ps(88.37626266f),
                           _mm512_max_ps(_mm512_set1_ps(-87.33654475f), (__m512)x));
    CPU_EXP_CLAMPED(vcf, vci, vc_set1, x, y);
    return y;
}
#else
#define CPU_VC_WIDTH 8
typedef v8f vcf;
#define vc_load v8_load
#define vc_store v8_store
#define vc_set1 v8_set1
#define vc_exp_decay v8_exp_decay
#endif

#endif
