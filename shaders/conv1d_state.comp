#version 450
// CONV1D_CAUSAL new state: state_out[b, d, j] = xx[b, L + j, d] for j < W-1 (the last
// W-1 steps of state-then-x). One thread per (b, d) walks j upwards: it reads
// position L+j > j before any later step writes there, so state_out may be the
// same memory as state.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer S0 { float state[]; };
layout(std430, binding = 2) buffer S1 { float state_out[]; };

layout(push_constant) uniform PC {
    uint off_x, off_s, off_o;
    uint Bsz, L, D, W;
    uint has_state;
} pc;

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint n = pc.Bsz * pc.D, S = pc.W - 1u;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {
        uint d = i % pc.D, b = i / pc.D;
        for (uint j = 0u; j < S; j++) {
            uint t = pc.L + j;
            float v;
            if (t < S)
                v = pc.has_state != 0u ? state[pc.off_s + i * S + t] : 0.0;
            else
                v = x[pc.off_x + (b * pc.L + t - S) * pc.D + d];
            state_out[pc.off_o + i * S + j] = v;
        }
    }
}
