#version 450
// TOPK_ROUTE: per row of logits [T, E], p = softmax; keep the k largest p (ties:
// lower index first; ranked by logit, which orders p the same way), zero the rest,
// renormalise the kept ones if asked. One thread per row; kept entries are marked
// in y with -1 (no probability is negative) until the final pass.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_x, off_y;
    uint T, E, k;
    uint renormalize;
} pc;

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    for (uint t = gl_GlobalInvocationID.x; t < pc.T; t += step) {
        uint bx = pc.off_x + t * pc.E, by = pc.off_y + t * pc.E;
        float m = -1.0 / 0.0;
        for (uint e = 0u; e < pc.E; e++) m = max(m, x[bx + e]);
        float sum = 0.0;
        for (uint e = 0u; e < pc.E; e++) {
            sum += exp(x[bx + e] - m);
            y[by + e] = 0.0;
        }
        float kept = 0.0;
        for (uint r = 0u; r < pc.k; r++) {
            int best = -1;
            float bv = 0.0;
            for (uint e = 0u; e < pc.E; e++) {
                if (y[by + e] < 0.0) continue;
                float v = x[bx + e];
                if (best < 0 || v > bv) {
                    best = int(e);
                    bv = v;
                }
            }
            y[by + uint(best)] = -1.0;
            kept += exp(bv - m) / sum;
        }
        float scale = pc.renormalize != 0u ? 1.0 / (sum * kept) : 1.0 / sum;
        for (uint e = 0u; e < pc.E; e++)
            y[by + e] = y[by + e] < 0.0 ? exp(x[bx + e] - m) * scale : 0.0;
    }
}
