/*
 * dtype.c: element sizes and conversions between f32, f16, bf16, i32 and double.
 *
 * The reference device converts a double result straight to f16/bf16 with one
 * rounding (round to nearest, ties to even); going through f32 first would round
 * twice and can differ in the last bit (e.g. for large i32 values copied to bf16).
 */
#include <math.h>
#include <string.h>

#include "cpu_internal.h"

uint32_t cpu_dtype_size(uint32_t dtype) {
    switch (dtype) {
    case SSMRT_F32: return 4;
    case SSMRT_F16: return 2;
    case SSMRT_BF16: return 2;
    case SSMRT_I32: return 4;
    default: return 0;
    }
}

/* ---- half formats from/to double ------------------------------------------ */

/* A binary format with `mant` fraction bits, exponent bias `bias` and no
 * implicit-bit surprises: f16 (10, 15, 5 exponent bits), bf16 (7, 127, 8). */
typedef struct half_format { int mant, bias, exp_bits; } half_format;
static const half_format k_f16 = {10, 15, 5};
static const half_format k_bf16 = {7, 127, 8};

static double half_decode(uint16_t h, half_format f) {
    int sign = h >> 15;
    int e = (h >> f.mant) & ((1 << f.exp_bits) - 1);
    int m = h & ((1 << f.mant) - 1);
    int emax_field = (1 << f.exp_bits) - 1;
    double v;
    if (e == emax_field)
        v = m ? NAN : INFINITY;
    else if (e == 0)
        v = ldexp((double)m, 1 - f.bias - f.mant);            /* subnormal */
    else
        v = ldexp((double)(m | (1 << f.mant)), e - f.bias - f.mant);
    return sign ? -v : v;
}

static uint16_t half_encode(double x, half_format f) {
    uint16_t sign = signbit(x) ? (uint16_t)0x8000 : 0;
    int emax_field = (1 << f.exp_bits) - 1;
    if (isnan(x)) return (uint16_t)(sign | (emax_field << f.mant) | (1 << (f.mant - 1)));
    double a = fabs(x);
    if (isinf(a)) return (uint16_t)(sign | (emax_field << f.mant));
    if (a == 0.0) return sign;
    int emin = 1 - f.bias; /* exponent of the smallest normal */
    int e = ilogb(a);
    if (e < emin) e = emin; /* subnormals share the quantum of the smallest normal */
    /* Scaling by a power of two is exact; nearbyint rounds half to even in the
     * default rounding mode. */
    double q = nearbyint(ldexp(a, f.mant - e));
    if (q >= ldexp(1.0, f.mant + 1)) { /* rounded up into the next binade */
        q = ldexp(q, -1);
        e += 1;
    }
    if (e > emax_field - 1 - f.bias) return (uint16_t)(sign | (emax_field << f.mant));
    int64_t qi = (int64_t)q;
    if (qi < (1 << f.mant)) /* subnormal (or rounded to zero) */
        return (uint16_t)(sign | qi);
    return (uint16_t)(sign | ((e + f.bias) << f.mant) | (qi & ((1 << f.mant) - 1)));
}

double cpu_f16_to_double(uint16_t h) { return half_decode(h, k_f16); }
double cpu_bf16_to_double(uint16_t h) { return half_decode(h, k_bf16); }
uint16_t cpu_double_to_f16(double x) { return half_encode(x, k_f16); }
uint16_t cpu_double_to_bf16(double x) { return half_encode(x, k_bf16); }

/* ---- f32 paths (fast device) ----------------------------------------------- */

float cpu_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13);
    } else if (e == 0) {
        /* subnormal f16 is normal in f32; m * 2^-24 is exact in float */
        float v = (float)m * 0x1p-24f;
        return sign ? -v : v;
    } else {
        bits = sign | ((e + 112) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float cpu_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t cpu_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);  /* NaN */
    if (x >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (x < 0x38800000u) {
        /* Below 2^-14 the result is subnormal: adding 0.5 leaves the value in a
         * binade whose f32 quantum is 2^-24, the f16 subnormal quantum, so the
         * float addition does the rounding (ties to even). */
        float a, sum;
        memcpy(&a, &x, 4);
        sum = a + 0.5f;
        uint32_t sb;
        memcpy(&sb, &sum, 4);
        return (uint16_t)(sign | (sb - 0x3f000000u));
    }
    /* Normal: rebias the exponent (127 -> 15) and round the 13 dropped bits to
     * nearest even; a carry moves into the exponent as it should. */
    x += 0xc8000fffu + ((x >> 13) & 1u);
    return (uint16_t)(sign | (x >> 13));
}

uint16_t cpu_f32_to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet and a NaN */
        return (uint16_t)((bits >> 16) | 0x40);
    bits += 0x7fffu + ((bits >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(bits >> 16);
}

int32_t cpu_double_to_i32(double x) {
    if (isnan(x)) return 0;
    if (x >= 2147483647.0) return INT32_MAX;
    if (x <= -2147483648.0) return INT32_MIN;
    return (int32_t)x; /* truncation toward zero, as a C cast */
}
