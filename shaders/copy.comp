#version 450
// COPY: element i of src (row-major in src's own 4-d shape) goes to element i of
// dst (row-major in dst's shape); both may be strided; dtype conversion between
// f32, f16, bf16 and i32 with one rounding (as the float64 reference does).
// CONTIG (specialization constant 5) skips the 4-d index arithmetic (eight integer
// divisions per element, which made a plain copy instruction-bound): 1 when src
// and dst are both row-major contiguous, 2 when they are also the same 32-bit
// dtype with 16-byte aligned starts, copied as uvec4 (one 16-byte load and store
// per invocation, the widest the memory system serves per request).
#include "common.glsl"

layout(constant_id = 3) const uint SRC_T = 0;
layout(constant_id = 4) const uint DST_T = 0;
layout(constant_id = 5) const uint CONTIG = 0;

layout(std430, binding = 0) readonly buffer S32 { uint s32[]; };
layout(std430, binding = 1) buffer D32 { uint d32[]; };
layout(std430, binding = 0) readonly buffer S128 { uvec4 s128[]; };
layout(std430, binding = 1) buffer D128 { uvec4 d128[]; };
#ifdef STORAGE16
layout(std430, binding = 0) readonly buffer S16 { uint16_t s16[]; };
layout(std430, binding = 1) buffer D16 { uint16_t d16[]; };
#endif

layout(push_constant) uniform PC {
    uint off_s, off_d;
    uint n;
    uint sshape[4], sstride[4];
    uint dshape[4], dstride[4];
} pc;

uint load_bits(uint i) { // i: element index from the binding start
    if (SRC_T == DT_F16 || SRC_T == DT_BF16) {
#ifdef STORAGE16
        return uint(s16[i]);
#else
        return (s32[i >> 1] >> ((i & 1u) * 16u)) & 0xFFFFu;
#endif
    }
    return s32[i];
}

void store_bits(uint i, uint v) {
    if (DST_T == DT_F16 || DST_T == DT_BF16) {
#ifdef STORAGE16
        d16[i] = uint16_t(v);
#else
        // Two threads may own the two halves of one word: clear and set only ours.
        uint sh = (i & 1u) * 16u;
        atomicAnd(d32[i >> 1], ~(0xFFFFu << sh));
        atomicOr(d32[i >> 1], (v & 0xFFFFu) << sh);
#endif
        return;
    }
    d32[i] = v;
}

uint convert(uint b) {
    if (SRC_T == DST_T) return b;
    if (SRC_T == DT_I32) {
        int v = int(b);
        if (DST_T == DT_F32) return floatBitsToUint(float(v));
        if (DST_T == DT_F16) return i32_to_f16(v);
        return i32_to_bf16(v);
    }
    float f = SRC_T == DT_F32 ? uintBitsToFloat(b) : half_to_f32(b, SRC_T);
    if (DST_T == DT_F32) return floatBitsToUint(f);
    if (DST_T == DT_F16) return f32_to_f16(f);
    if (DST_T == DT_BF16) return f32_to_bf16(f);
    return uint(f32_to_i32(f));
}

uint offset_of(uint i, uint shape[4], uint stride[4]) {
    uint o = 0u;
    [[unroll]] for (int k = 3; k >= 0; k--) {
        o += (i % shape[k]) * stride[k];
        i /= shape[k];
    }
    return o;
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (CONTIG == 2u) {
        uint n4 = pc.n >> 2, s4 = pc.off_s >> 2, d4 = pc.off_d >> 2;
        for (uint i = gl_GlobalInvocationID.x; i < n4; i += step) d128[d4 + i] = s128[s4 + i];
        for (uint i = 4u * n4 + gl_GlobalInvocationID.x; i < pc.n; i += step)
            d32[pc.off_d + i] = s32[pc.off_s + i];
        return;
    }
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += step) {
        uint so = CONTIG != 0u ? i : offset_of(i, pc.sshape, pc.sstride);
        uint dof = CONTIG != 0u ? i : offset_of(i, pc.dshape, pc.dstride);
        store_bits(pc.off_d + dof, convert(load_bits(pc.off_s + so)));
    }
}
