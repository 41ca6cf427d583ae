#version 450
// EMBEDDING: y[m, :] = table[ids[m], :] as f32 (TT, specialization constant 3, is the
// table dtype); an id outside [0, V) gives a row of zeros (ssmrt.h). A table larger
// than one descriptor can bind runs as several dispatches over row ranges
// [r0, r0 + Vc): each writes the rows whose id falls in its range, the first one
// also the zero rows.
#include "common.glsl"

layout(constant_id = 3) const uint TT = 0;

layout(std430, binding = 0) readonly buffer T32 { uint t32[]; };
#ifdef STORAGE16
layout(std430, binding = 0) readonly buffer T16 { uint16_t t16[]; };
#endif
layout(std430, binding = 1) readonly buffer Ids { int ids[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_t, off_ids, off_y;
    uint M, D, V;
    uint r0, Vc, first;
} pc;

float load_t(uint i) {
    if (TT == DT_F32) return uintBitsToFloat(t32[i]);
#ifdef STORAGE16
    uint h = uint(t16[i]);
#else
    uint h = (t32[i >> 1] >> ((i & 1u) * 16u)) & 0xFFFFu;
#endif
    return half_to_f32(h, TT);
}

void main() {
    uint step = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint n = pc.M * pc.D;
    for (uint i = gl_GlobalInvocationID.x; i < n; i += step) {
        uint m = i / pc.D, d = i % pc.D;
        int id = ids[pc.off_ids + m];
        if (id >= 0 && uint(id) >= pc.r0 && uint(id) - pc.r0 < pc.Vc)
            y[pc.off_y + i] = load_t(pc.off_t + (uint(id) - pc.r0) * pc.D + d);
        else if (pc.first != 0u && (id < 0 || uint(id) >= pc.V))
            y[pc.off_y + i] = 0.0;
    }
}
