/*
 * fast_convert.h: rows of f16/bf16 to and from f32 for the fast kernels
 * (matmul weight panels, embedding rows, copies).
 *
 * Compiled into each ISA build: with F16C (x86-64-v3 and up) f16 goes through
 * vcvtph2ps / vcvtps2ph, eight at a time, rounding to nearest even like the
 * scalar code; the scalar code (dtype.c) is the fallback and the loop tail.
 * The only difference is NaN payloads, which IEEE 754 leaves open: F16C quiets
 * a signalling NaN. bf16 is a shift either way, and f32 -> bf16 rounds with
 * integer adds that the compiler vectorises.
 */
#ifndef SSMRT_CPU_FAST_CONVERT_H
#define SSMRT_CPU_FAST_CONVERT_H

#include <string.h>

#include "cpu_internal.h"
#include "fast_math.h"

CPU_INLINE void fast_f16_to_f32(const uint16_t *s, float *d, int64_t n) {
    int64_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8) {
        __m128i h;
        memcpy(&h, s + i, sizeof h);
        _mm256_storeu_ps(d + i, _mm256_cvtph_ps(h));
    }
#endif
    for (; i < n; i++) d[i] = cpu_f16_to_f32(s[i]);
}

CPU_INLINE void fast_f32_to_f16(const float *s, uint16_t *d, int64_t n) {
    int64_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        memcpy(d + i, &h, sizeof h);
    }
#endif
    for (; i < n; i++) d[i] = cpu_f32_to_f16(s[i]);
}

CPU_INLINE void fast_bf16_to_f32(const uint16_t *s, float *d, int64_t n) {
    uint32_t *o = (uint32_t *)d;
    for (int64_t i = 0; i < n; i++) o[i] = (uint32_t)s[i] << 16;
}

CPU_INLINE void fast_f32_to_bf16(const float *s, uint16_t *d, int64_t n) {
    const uint32_t *b = (const uint32_t *)s;
    for (int64_t i = 0; i < n; i++) {
        uint32_t x = b[i];
        /* NaN stays a (quiet) NaN; anything else rounds to nearest even. */
        uint32_t r = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
        d[i] = (uint16_t)((x & 0x7fffffffu) > 0x7f800000u ? (x >> 16) | 0x40u : r);
    }
}

#if defined(__AVX2__) && defined(__F16C__)
#define CPU_HAVE_V8_HALF 1
/* Eight f16 or bf16 values from p as f32, in registers. */
CPU_INLINE v8f v8_load_half(uint32_t dtype, const uint16_t *p) {
    __m128i h;
    memcpy(&h, p, sizeof h);
    if (dtype == SSMRT_F16) return (v8f)_mm256_cvtph_ps(h);
    return (v8f)_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
}
#endif

/* f32/f16/bf16 row -> f32 row. */
CPU_INLINE void fast_row_to_f32(uint32_t dtype, const void *src, float *dst, int64_t n) {
    if (dtype == SSMRT_F16)
        fast_f16_to_f32(src, dst, n);
    else if (dtype == SSMRT_BF16)
        fast_bf16_to_f32(src, dst, n);
    else
        memcpy(dst, src, (size_t)n * 4);
}

#endif
