#version 450
// Normalisations over groups of the last dim, one workgroup per (row, group):
// MODE (specialization constant 3) 0 RMSNorm, 1 gated RMSNorm (v = x*silu(z),
// groups of `group` elements), 2 LayerNorm (two passes: mean, then the biased
// variance of x - mean, so large means do not cancel).
#include "common.glsl"

layout(constant_id = 3) const uint MODE = 0;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Z { float z[]; };
layout(std430, binding = 2) readonly buffer W { float w[]; };
layout(std430, binding = 3) readonly buffer Bi { float bias[]; };
layout(std430, binding = 4) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_x, off_z, off_w, off_b, off_y;
    uint rows, cols, group;
    float eps;
    uint has_bias;
} pc;

shared float red[gl_WorkGroupSize.x];

float reduce_sum(float v) {
    uint t = gl_LocalInvocationID.x;
    red[t] = v;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
        if (t < s) red[t] += red[t + s];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

float value(uint i) { // i: element index within the tensor
    float v = x[pc.off_x + i];
    if (MODE == 1u) v *= silu_f(z[pc.off_z + i]);
    return v;
}

void main() {
    uint t = gl_LocalInvocationID.x, nt = gl_WorkGroupSize.x;
    uint groups_per_row = pc.cols / pc.group;
    uint items = pc.rows * groups_per_row;
    for (uint it = gl_WorkGroupID.x; it < items; it += gl_NumWorkGroups.x) {
        uint row = it / groups_per_row, g0 = (it % groups_per_row) * pc.group;
        uint base = row * pc.cols + g0;
        float inv, mean = 0.0;
        if (MODE == 2u) {
            float s = 0.0;
            for (uint c = t; c < pc.group; c += nt) s += value(base + c);
            mean = reduce_sum(s) / float(pc.group);
            float v2 = 0.0;
            for (uint c = t; c < pc.group; c += nt) {
                float dv = value(base + c) - mean;
                v2 += dv * dv;
            }
            inv = inversesqrt(reduce_sum(v2) / float(pc.group) + pc.eps);
        } else {
            float s2 = 0.0;
            for (uint c = t; c < pc.group; c += nt) {
                float v = value(base + c);
                s2 += v * v;
            }
            inv = inversesqrt(reduce_sum(s2) / float(pc.group) + pc.eps);
        }
        for (uint c = t; c < pc.group; c += nt) {
            float v = (value(base + c) - mean) * inv * w[pc.off_w + g0 + c];
            if (MODE == 2u && pc.has_bias != 0u) v += bias[pc.off_b + g0 + c];
            y[pc.off_y + base + c] = v;
        }
    }
}
