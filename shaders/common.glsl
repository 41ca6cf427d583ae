// common.glsl: shared prelude of every ssmrt compute shader.
//
// Conventions (the host side is backends/vulkan/src/vk_dispatch.c):
//  - Workgroup size comes from specialization constants 0, 1, 2; a kernel's own
//    specialization constants start at id 3.
//  - Set 0 binding i is the i-th buffer the host passes. The push constant block
//    starts with one uint per binding: the tensor's first element inside the
//    binding (bindings start at an aligned offset at or below the tensor).
//  - f16 and bf16 tensors are read as 16-bit values: through uint16_t arrays when
//    the shader is built with -DSTORAGE16 (device has 16-bit storage), else from
//    the 32-bit word holding them. bf16 is the high half of an f32.
#extension GL_EXT_control_flow_attributes : enable
#ifdef STORAGE16
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_int16 : require
#endif

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

const uint DT_F32 = 0u;
const uint DT_F16 = 1u;
const uint DT_BF16 = 2u;
const uint DT_I32 = 3u;

// Exact f16 -> f32 (subnormals included; unpackHalf2x16 may flush them).
float f16_to_f32(uint h) {
    uint s = (h & 0x8000u) << 16;
    uint e = (h >> 10) & 0x1Fu;
    uint m = h & 0x3FFu;
    if (e == 0u) return uintBitsToFloat(s) + (s != 0u ? -1.0 : 1.0) * float(m) * 5.9604644775390625e-8;
    if (e == 31u) return uintBitsToFloat(s | 0x7F800000u | (m << 13));
    return uintBitsToFloat(s | ((e + 112u) << 23) | (m << 13));
}

float bf16_to_f32(uint h) { return uintBitsToFloat(h << 16); }

float half_to_f32(uint h, uint dtype) { return dtype == DT_BF16 ? bf16_to_f32(h) : f16_to_f32(h); }

// Round-to-nearest-even helper: q is the kept part, r the dropped bits, s their count.
uint rne(uint q, uint r, uint s) {
    uint half_ = 1u << (s - 1u);
    return q + ((r > half_ || (r == half_ && (q & 1u) != 0u)) ? 1u : 0u);
}

// f32 -> f16 bits, round to nearest even, overflow to infinity.
uint f32_to_f16(float f) {
    uint x = floatBitsToUint(f);
    uint sign = (x >> 16) & 0x8000u;
    uint e = (x >> 23) & 0xFFu;
    uint m = x & 0x7FFFFFu;
    if (e == 255u) return sign | 0x7C00u | (m != 0u ? 0x200u : 0u);
    int E = int(e) - 112; // f16 biased exponent
    if (E >= 31) return sign | 0x7C00u;
    if (E <= 0) {
        uint s = uint(14 - E);
        if (s > 24u) return sign;
        uint M = m | 0x800000u;
        return sign | rne(M >> s, M & ((1u << s) - 1u), s);
    }
    // The carry of rounding may step into the next binade or to infinity: both right.
    return sign | rne((uint(E) << 10) | (m >> 13), m & 0x1FFFu, 13u);
}

// f32 -> bf16 bits, round to nearest even; NaN stays NaN.
uint f32_to_bf16(float f) {
    uint x = floatBitsToUint(f);
    if ((x & 0x7F800000u) == 0x7F800000u && (x & 0x7FFFFFu) != 0u) return (x >> 16) | 0x40u;
    return (x + 0x7FFFu + ((x >> 16) & 1u)) >> 16;
}

// |v| of an int as uint, INT_MIN included.
uint iabs_u(int v) { return v < 0 ? (~uint(v) + 1u) : uint(v); }

// i32 -> f16/bf16 with one rounding (not through f32, which would round twice).
uint i32_to_f16(int v) {
    uint sign = v < 0 ? 0x8000u : 0u;
    uint a = iabs_u(v);
    if (a == 0u) return 0u;
    if (a >= 65520u) return sign | 0x7C00u;
    int p = findMSB(a);
    if (p <= 10) return sign | ((uint(p + 15) << 10) + ((a << uint(10 - p)) & 0x3FFu));
    uint s = uint(p - 10);
    uint q = rne(a >> s, a & ((1u << s) - 1u), s); // 1024..2048
    return sign | ((uint(p + 15) << 10) + q - 1024u);
}

uint i32_to_bf16(int v) {
    uint sign = v < 0 ? 0x8000u : 0u;
    uint a = iabs_u(v);
    if (a == 0u) return 0u;
    int p = findMSB(a);
    if (p <= 7) return sign | ((uint(p + 127) << 7) + ((a << uint(7 - p)) & 0x7Fu));
    uint s = uint(p - 7);
    uint q = rne(a >> s, a & ((1u << s) - 1u), s); // 128..256
    return sign | ((uint(p + 127) << 7) + q - 128u);
}

// f32 -> i32: truncation toward zero, saturating, NaN -> 0 (as the reference).
int f32_to_i32(float f) {
    if (isnan(f)) return 0;
    if (f >= 2147483647.0) return 2147483647;
    if (f <= -2147483648.0) return -2147483647 - 1;
    return int(f);
}

float sigmoid_f(float x) { return 1.0 / (1.0 + exp(-x)); }
float silu_f(float x) { return x / (1.0 + exp(-x)); }

// log(1 + exp(x)), and x above 20 (PyTorch's threshold), as max(x, 0) + log1p(t)
// with t = exp(-|x|) in (0, 1]. log1p comes from its atanh series, not from log():
// GLSL only bounds log's absolute error near 1 (2^-21), which NVIDIA's driver uses,
// and that is a large relative error on a small softplus (a small time step dt).
// log1p(t) = 2 atanh(s), s = t / (2 + t) <= 1/3; the terms to s^15 leave a
// truncation below 2e-9 relative.
float softplus_f(float x) {
    if (x > 20.0) return x;
    float t = exp(-abs(x));
    float s = t / (2.0 + t);
    float s2 = s * s;
    float p = 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    p = p * s2 + 1.0;
    return max(x, 0.0) + 2.0 * s * p;
}
