#version 450
// Zeroes bytes of whole 32-bit words: every word of [first, first + n) except that
// the first and last words keep the bytes outside the masks (buffer_fill_zero of a
// range that does not start or end on a word boundary).
#include "common.glsl"

layout(std430, binding = 0) buffer W { uint w[]; };

layout(push_constant) uniform PC {
    uint off_w;
    uint n;
    uint head_mask, tail_mask;
} pc;

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += step) {
        uint mask = 0xFFFFFFFFu;
        if (i == 0u) mask &= pc.head_mask;
        if (i == pc.n - 1u) mask &= pc.tail_mask;
        w[pc.off_w + i] &= ~mask;
    }
}
