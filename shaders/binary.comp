#version 450
// ADD / MUL (OP = specialization constant 3: 0 add, 1 mul) with broadcasting:
// y and a have the 4-d shape dshape; b has bshape, each dim equal to dshape's or 1.
#include "common.glsl"

layout(constant_id = 3) const uint OP = 0;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_a, off_b, off_y;
    uint n, nb;
    uint dshape[4], bshape[4];
} pc;

uint b_index(uint i) {
    if (pc.nb == pc.n) return i; // no broadcast
    uint j = 0u, mul = 1u;
    [[unroll]] for (int k = 3; k >= 0; k--) {
        uint c = i % pc.dshape[k];
        i /= pc.dshape[k];
        if (pc.bshape[k] != 1u) j += c * mul;
        mul *= pc.bshape[k];
    }
    return j;
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += step) {
        float u = a[pc.off_a + i], v = b[pc.off_b + b_index(i)];
        y[pc.off_y + i] = OP == 0u ? u + v : u * v;
    }
}
