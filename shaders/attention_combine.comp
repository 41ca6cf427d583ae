#version 450
// ATTENTION, the second pass of attention_row.comp split over keys: the items of a
// query row (each a running max m, sum l and unnormalised output o over its keys)
// merge as y = sum_s o_s e^(m_s - M) / sum_s l_s e^(m_s - M), M = max_s m_s. One
// workgroup per row (looped by workgroup stride); items with no keys (m = -inf)
// weigh 0. Specialization constant 3: DT, the dtype of y (see attention_io.glsl).
#include "common.glsl"

layout(constant_id = 3) const uint DT = DT_F32;

#include "attention_io.glsl"

layout(push_constant) uniform PC {
    uint off_q, off_k, off_v, off_y, off_part; // off_part: binding 4, SPLITK only
    uint qs[4], ks_[4], vs[4];
    uint Bsz, Lq, Lk, Hq, Hk, Dh, Dv;
    float scale;
    uint nsplit, chunk;
} pc;

layout(std430, binding = 4) readonly buffer Part { float part[]; };

const uint MAX_SPLIT = 1024u;   // the host splits a row into at most this many parts
shared float wt[MAX_SPLIT];     // e^(m_s - M) of the row's parts

void main() {
    uint t = gl_LocalInvocationID.x, nt = gl_WorkGroupSize.x;
    uint rows = pc.Bsz * pc.Lq * pc.Hq, stride = pc.Dv + 2u;
    for (uint r = gl_WorkGroupID.x; r < rows; r += gl_NumWorkGroups.x) {
        uint pb = pc.off_part + r * pc.nsplit * stride;
        float mx = -1.0 / 0.0;
        for (uint s = 0u; s < pc.nsplit; s++) mx = max(mx, part[pb + s * stride]);
        // Each part's weight once per row, not once per output element.
        for (uint s = t; s < pc.nsplit; s += nt) {
            float ms = part[pb + s * stride];
            wt[s] = ms != -1.0 / 0.0 ? exp(ms - mx) : 0.0;
        }
        barrier();
        float l = 0.0;
        for (uint s = 0u; s < pc.nsplit; s++) l += part[pb + s * stride + 1u] * wt[s];
        // y is contiguous [B, Lq, Hq, Dv]: row r starts at r Dv.
        for (uint dcol = t; dcol < pc.Dv; dcol += nt) {
            float acc = 0.0;
            for (uint s = 0u; s < pc.nsplit; s++) acc += part[pb + s * stride + 2u + dcol] * wt[s];
            st_y(pc.off_y + r * pc.Dv + dcol, acc / l);
        }
        barrier(); // wt is rewritten for the next row
    }
}
