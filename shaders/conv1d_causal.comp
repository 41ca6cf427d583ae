#version 450
// CONV1D_CAUSAL output: y[b,l,d] = bias[d] + sum_{j<W} w[d,j] * xx[b, l+j, d], where
// xx is the W-1 state steps followed by x along time; then SiLU if asked. The new
// state is written by conv1d_state.comp in a later dispatch (it may overwrite the
// state this pass reads).
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Wt { float w[]; };
layout(std430, binding = 2) readonly buffer Bi { float bias[]; };
layout(std430, binding = 3) readonly buffer S0 { float state[]; };
layout(std430, binding = 4) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_x, off_w, off_b, off_s, off_y;
    uint Bsz, L, D, W;
    uint flags; // 1 bias, 2 state, 4 silu
} pc;

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint n = pc.Bsz * pc.L * pc.D, S = pc.W - 1u;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {
        uint d = i % pc.D, l = (i / pc.D) % pc.L, b = i / (pc.D * pc.L);
        float acc = (pc.flags & 1u) != 0u ? bias[pc.off_b + d] : 0.0;
        for (uint j = 0u; j < pc.W; j++) {
            uint t = l + j; // position in xx
            float v;
            if (t < S)
                v = (pc.flags & 2u) != 0u ? state[pc.off_s + (b * pc.D + d) * S + t] : 0.0;
            else
                v = x[pc.off_x + (b * pc.L + t - S) * pc.D + d];
            acc = fma(w[pc.off_w + d * pc.W + j], v, acc);
        }
        if ((pc.flags & 4u) != 0u) acc = silu_f(acc);
        y[pc.off_y + i] = acc;
    }
}
