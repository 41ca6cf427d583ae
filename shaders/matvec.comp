#version 450
// MATMUL for few rows (M <= 8, decode): one workgroup per output column n (looped
// by workgroup stride), its threads striding over K so each weight row is read
// once, coalesced; partial sums reduced in shared memory.
#include "common.glsl"

layout(constant_id = 3) const uint WT = 0;
const uint MMAX = 8u;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W32 { uint w32[]; };
#ifdef STORAGE16
layout(std430, binding = 1) readonly buffer W16 { uint16_t w16[]; };
#endif
layout(std430, binding = 2) readonly buffer Bi { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_x, off_w, off_b, off_y;
    uint M, N, K;
    uint has_bias;
    uint ldy; // row stride of y (N, or the full N when a column chunk runs)
} pc;

float load_w(uint i) {
    if (WT == DT_F32) return uintBitsToFloat(w32[i]);
#ifdef STORAGE16
    uint h = uint(w16[i]);
#else
    uint h = (w32[i >> 1] >> ((i & 1u) * 16u)) & 0xFFFFu;
#endif
    return half_to_f32(h, WT);
}

shared float red[MMAX][gl_WorkGroupSize.x];

void main() {
    uint t = gl_LocalInvocationID.x, nt = gl_WorkGroupSize.x;
    for (uint n = gl_WorkGroupID.x; n < pc.N; n += gl_NumWorkGroups.x) {
        float acc[MMAX];
        [[unroll]] for (uint m = 0u; m < MMAX; m++) acc[m] = 0.0;
        for (uint k = t; k < pc.K; k += nt) {
            float wv = load_w(pc.off_w + n * pc.K + k);
            [[unroll]] for (uint m = 0u; m < MMAX; m++)
                if (m < pc.M) acc[m] = fma(x[pc.off_x + m * pc.K + k], wv, acc[m]);
        }
        [[unroll]] for (uint m = 0u; m < MMAX; m++) red[m][t] = acc[m];
        barrier();
        for (uint s = nt / 2u; s > 0u; s >>= 1) {
            if (t < s)
                [[unroll]] for (uint m = 0u; m < MMAX; m++) red[m][t] += red[m][t + s];
            barrier();
        }
        if (t < pc.M) {
            float v = red[t][0];
            if (pc.has_bias != 0u) v += bias[pc.off_b + n];
            y[pc.off_y + t * pc.ldy + n] = v;
        }
        barrier();
    }
}
