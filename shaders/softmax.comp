#version 450
// Softmax over the last dim: one workgroup per row (rows looped by workgroup
// stride), max and sum reduced in shared memory.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_x, off_y;
    uint rows, cols;
} pc;

shared float red[gl_WorkGroupSize.x];

float reduce(float v, bool is_max) {
    uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
        if (t < s) red[t] = is_max ? max(red[t], red[t + s]) : red[t] + red[t + s];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

void main() {
    uint t = gl_LocalInvocationID.x, nt = gl_WorkGroupSize.x;
    for (uint row = gl_WorkGroupID.x; row < pc.rows; row += gl_NumWorkGroups.x) {
        uint base_x = pc.off_x + row * pc.cols, base_y = pc.off_y + row * pc.cols;
        float m = -1.0 / 0.0;
        for (uint c = t; c < pc.cols; c += nt) m = max(m, x[base_x + c]);
        m = reduce(m, true);
        float s = 0.0;
        for (uint c = t; c < pc.cols; c += nt) s += exp(x[base_x + c] - m);
        s = reduce(s, false);
        float inv = 1.0 / s;
        for (uint c = t; c < pc.cols; c += nt) y[base_y + c] = exp(x[base_x + c] - m) * inv;
    }
}
