#version 450
// CONV1D_CAUSAL output: y[b,l,d] = bias[d] + sum_{j<W} w[d,j] * xx[b, l+j, d], where
// xx is the W-1 state steps followed by x along time; then SiLU if asked. The new
// state is written by conv1d_state.comp in a later dispatch (it may overwrite the
// state this pass reads).
// Each invocation computes T consecutive steps of one channel: it reads the T + W - 1
// inputs they need once into registers (neighbouring invocations take neighbouring
// channels, so every load and store is coalesced), so x is read (T + W - 1) / T times
// rather than W times and the divisions by D and L are paid once per T outputs (H100,
// W = 4, D = 4096, L = 4096: 69% of the copy bandwidth, 34% with one output per
// invocation).
// Specialization constants: 3 WS (taps, the op's W: a pipeline per W; 0 for wide
// filters, whose inputs would not fit in registers: one output per invocation, W
// from the push constants), 4 T.
#include "common.glsl"

layout(constant_id = 3) const uint WS = 4;
layout(constant_id = 4) const uint T = 16;
const uint WR = WS > 0u ? WS : 1u;           // taps held in registers
const uint S = WR - 1u;                      // state steps (WS > 0)

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

// xx[b, p, d]: the state's W - 1 steps, then x along time.
float xx_at(uint b, uint p, uint d, uint s) {
    if (p < s) return (pc.flags & 2u) != 0u ? state[pc.off_s + (b * pc.D + d) * s + p] : 0.0;
    return x[pc.off_x + (b * pc.L + p - s) * pc.D + d];
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    if (WS == 0u) {
        uint n = pc.Bsz * pc.L * pc.D;
        for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {
            uint d = i % pc.D, l = (i / pc.D) % pc.L, b = i / (pc.D * pc.L);
            float acc = (pc.flags & 1u) != 0u ? bias[pc.off_b + d] : 0.0;
            for (uint j = 0u; j < pc.W; j++) acc = fma(w[pc.off_w + d * pc.W + j], xx_at(b, l + j, d, pc.W - 1u), acc);
            if ((pc.flags & 4u) != 0u) acc = silu_f(acc);
            y[pc.off_y + i] = acc;
        }
        return;
    }
    uint chunks = (pc.L + T - 1u) / T, n = pc.Bsz * chunks * pc.D;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {
        uint d = i % pc.D, c = (i / pc.D) % chunks, b = i / (pc.D * chunks);
        uint t0 = c * T; // first output step; xx positions t0 .. t0 + T + S - 1 feed it
        float wv[WR], xv[T + S];
        [[unroll]] for (uint j = 0u; j < WR; j++) wv[j] = w[pc.off_w + d * WR + j];
        [[unroll]] for (uint k = 0u; k < T + S; k++) {
            uint p = t0 + k; // position in xx
            xv[k] = p < S || p - S < pc.L ? xx_at(b, p, d, S) : 0.0;
        }
        float bv = (pc.flags & 1u) != 0u ? bias[pc.off_b + d] : 0.0;
        [[unroll]] for (uint q = 0u; q < T; q++) {
            if (t0 + q < pc.L) {
                float acc = bv;
                [[unroll]] for (uint j = 0u; j < WR; j++) acc = fma(wv[j], xv[q + j], acc);
                if ((pc.flags & 4u) != 0u) acc = silu_f(acc);
                y[pc.off_y + (b * pc.L + t0 + q) * pc.D + d] = acc;
            }
        }
    }
}
