#version 450
// MATMUL for few rows (M <= 8, decode) on devices with subgroup arithmetic: one
// subgroup per output column n, its lanes striding over K with 16-byte loads of
// the weight row (4 f32 or 8 f16/bf16 weights) and of the x rows, so each weight
// row is read once, coalesced; the lanes' partial sums meet in subgroupAdd, with
// no shared memory and no barriers. matvec.comp (a workgroup per column, a
// shared-memory tree of 6 barriers) remains for other devices and for rows that
// are not 16-byte vectors. H100, K = 2048, N = 8192, f16: 0.068 ms with
// matvec.comp (16% of the copy bandwidth).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"

layout(constant_id = 3) const uint WT = 0;
const uint MMAX = 8u;

layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer W { uvec4 w4[]; }; // 4 f32 or 8 16-bit weights
layout(std430, binding = 2) readonly buffer Bi { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_x, off_w, off_b, off_y; // off_x a multiple of 4, off_w of 16 bytes (host)
    uint M, N, K;                    // K a multiple of 4 (f32) or 8 (16-bit) (host)
    uint has_bias;
    uint ldy; // row stride of y (N, or the full N when a column chunk runs)
} pc;

vec4 halves(uint a, uint b) {
    return vec4(half_to_f32(a & 0xFFFFu, WT), half_to_f32(a >> 16, WT), half_to_f32(b & 0xFFFFu, WT),
                half_to_f32(b >> 16, WT));
}

void main() {
    uint lane = gl_SubgroupInvocationID, ns = gl_SubgroupSize;
    uint k4 = pc.K / 4u, xb = pc.off_x / 4u;
    const uint per = WT == DT_F32 ? 4u : 8u;            // weights per 16-byte load
    uint kv = pc.K / per, wb = pc.off_w / per;
    for (uint n = gl_WorkGroupID.x * gl_NumSubgroups + gl_SubgroupID; n < pc.N;
         n += gl_NumWorkGroups.x * gl_NumSubgroups) {
        float acc[MMAX];
        [[unroll]] for (uint m = 0u; m < MMAX; m++) acc[m] = 0.0;
        for (uint c = lane; c < kv; c += ns) {
            uvec4 q = w4[wb + n * kv + c];
            if (WT == DT_F32) {
                vec4 wv = uintBitsToFloat(q);
                [[unroll]] for (uint m = 0u; m < MMAX; m++)
                    if (m < pc.M) acc[m] += dot(x4[xb + m * k4 + c], wv);
            } else {
                vec4 lo = halves(q.x, q.y), hi = halves(q.z, q.w);
                [[unroll]] for (uint m = 0u; m < MMAX; m++)
                    if (m < pc.M) acc[m] += dot(x4[xb + m * k4 + 2u * c], lo) + dot(x4[xb + m * k4 + 2u * c + 1u], hi);
            }
        }
        [[unroll]] for (uint m = 0u; m < MMAX; m++) {
            if (m >= pc.M) break;
            float v = subgroupAdd(acc[m]);
            if (lane == 0u) {
                if (pc.has_bias != 0u) v += bias[pc.off_b + n];
                y[pc.off_y + m * pc.ldy + n] = v;
            }
        }
    }
}
