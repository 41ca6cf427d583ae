/* Data type sizes, names and the f16/bf16 conversions (round to nearest even). */
#include <string.h>

#include "internal.h"

size_t ssmrt_dtype_size(ssmrt_dtype dtype)
{
    switch (dtype) {
    case SSMRT_F32: return 4;
    case SSMRT_F16: return 2;
    case SSMRT_BF16: return 2;
    case SSMRT_I32: return 4;
    default: return 0;
    }
}

const char *ssmrt_dtype_name(ssmrt_dtype dtype)
{
    switch (dtype) {
    case SSMRT_F32: return "f32";
    case SSMRT_F16: return "f16";
    case SSMRT_BF16: return "bf16";
    case SSMRT_I32: return "i32";
    default: return "invalid";
    }
}

static uint32_t ssmrt__f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float ssmrt__bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t ssmrt_f32_to_bf16(float f)
{
    uint32_t u = ssmrt__f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it a quiet NaN */
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float ssmrt_bf16_to_f32(uint16_t h)
{
    return ssmrt__bits_f32((uint32_t)h << 16);
}

uint16_t ssmrt_f32_to_f16(float f)
{
    uint32_t u = ssmrt__f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t absu = u & 0x7fffffffu;
    if (absu > 0x7f800000u) /* NaN */
        return (uint16_t)(sign | 0x7e00u);
    if (absu >= 0x477ff000u) /* rounds to >= 65520: infinity */
        return (uint16_t)(sign | 0x7c00u);
    if (absu < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
        if (absu < 0x33000000u) /* below half the smallest subnormal */
            return (uint16_t)sign;
        uint32_t exp = absu >> 23;
        uint32_t mant = (absu & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - exp; /* 14 + (112 - exp) + ... : bits to drop */
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1u)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t r = absu + 0xfffu + ((absu >> 13) & 1u) - 0x38000000u;
    return (uint16_t)(sign | (r >> 13));
}

float ssmrt_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        if (mant == 0)
            return ssmrt__bits_f32(sign);
        float v = (float)mant * (1.0f / 16777216.0f); /* mant * 2^-24 */
        return sign ? -v : v;
    }
    if (exp == 31)
        return ssmrt__bits_f32(sign | 0x7f800000u | (mant << 13));
    return ssmrt__bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

void ssmrt__convert_to_f32(ssmrt_dtype dtype, const void *src, float *dst, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        switch (dtype) {
        case SSMRT_F32: dst[i] = ((const float *)src)[i]; break;
        case SSMRT_I32: dst[i] = (float)((const int32_t *)src)[i]; break;
        case SSMRT_F16: dst[i] = ssmrt_f16_to_f32(((const uint16_t *)src)[i]); break;
        default: dst[i] = ssmrt_bf16_to_f32(((const uint16_t *)src)[i]); break;
        }
    }
}
