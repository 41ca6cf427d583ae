#version 450
// ATTENTION, one query row per workgroup (used where attention.comp's blocked
// tiles do not fit shared memory: head dims above 128): causal scaled dot-product
// with grouped-query heads, online softmax
// (flash-style): no Lq x Lk matrix exists, memory is O(Dv) per query.
// One workgroup per (b, i, h) query row (looped by workgroup stride). Keys are
// taken in tiles of one key per thread: scores, tile max, rescale of the running
// sum and output, then the tile's softmax-weighted V rows added to the output;
// each thread owns output elements d = t, t + WG, ... (at most OMAX of them).
// q, k, v are strided [B, L, H, D] views (element strides in the push block).
// Split over keys (SPLITK, for few rows over long caches: decode): workgroup item
// (row, s) takes the keys s chunk .. (s + 1) chunk - 1 of the row and writes its
// running max, sum and unnormalised output to part[] (Dv + 2 floats per item);
// attention_combine.comp merges a row's items into y.
// Specialization constants: 3: DT, the dtype of q, k, v and y (f32, f16, bf16: loaded
// as f32, everything in f32, y rounded once; see attention_io.glsl); 4: SPLITK.
#include "common.glsl"

layout(constant_id = 3) const uint DT = DT_F32;
layout(constant_id = 4) const uint SPLITK = 0;
const uint OMAX = 8u;

#include "attention_io.glsl"

layout(push_constant) uniform PC {
    uint off_q, off_k, off_v, off_y, off_part; // off_part: binding 4, SPLITK only
    uint qs[4], ks_[4], vs[4];
    uint Bsz, Lq, Lk, Hq, Hk, Dh, Dv;
    float scale;
    uint nsplit, chunk; // SPLITK: items per row, keys per item (a multiple of WG)
} pc;

layout(std430, binding = 4) writeonly buffer Part { float part[]; };

const uint WG = gl_WorkGroupSize.x;
shared float red[WG];
shared float ps[WG];

float reduce(float val, bool is_max) {
    uint t = gl_LocalInvocationID.x;
    red[t] = val;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (t < s) red[t] = is_max ? max(red[t], red[t + s]) : red[t] + red[t + s];
        barrier();
    }
    float r = red[0];
    barrier();
    return r;
}

void main() {
    uint t = gl_LocalInvocationID.x;
    uint rows = pc.Bsz * pc.Lq * pc.Hq;
    uint group = pc.Hq / pc.Hk;
    uint ns = SPLITK != 0u ? pc.nsplit : 1u;
    for (uint it = gl_WorkGroupID.x; it < rows * ns; it += gl_NumWorkGroups.x) {
        uint r = it / ns, sp = it % ns;
        uint h = r % pc.Hq, i = (r / pc.Hq) % pc.Lq, b = r / (pc.Hq * pc.Lq);
        uint kh = h / group;
        uint last = pc.Lk - pc.Lq + i; // attends keys 0..last
        uint jbeg = SPLITK != 0u ? sp * pc.chunk : 0u;
        if (SPLITK != 0u) last = min(last, jbeg + pc.chunk - 1u);
        uint qbase = pc.off_q + b * pc.qs[0] + i * pc.qs[1] + h * pc.qs[2];
        float m = -1.0 / 0.0, l = 0.0;
        float o[OMAX];
        [[unroll]] for (uint e = 0u; e < OMAX; e++) o[e] = 0.0;
        for (uint j0 = jbeg; j0 <= last; j0 += WG) {
            uint j = j0 + t;
            float s = -1.0 / 0.0;
            if (j <= last) {
                uint kbase = pc.off_k + b * pc.ks_[0] + j * pc.ks_[1] + kh * pc.ks_[2];
                float dot = 0.0;
                for (uint e = 0u; e < pc.Dh; e++) dot = fma(ld_q(qbase + e * pc.qs[3]), ld_k(kbase + e * pc.ks_[3]), dot);
                s = dot * pc.scale;
            }
            float mt = reduce(s, true);
            float mn = max(m, mt);
            float alpha = exp(m - mn); // 0 on the first tile (m = -inf)
            float pj = j <= last ? exp(s - mn) : 0.0;
            ps[t] = pj;
            float st = reduce(pj, false); // also orders the ps writes before the reads
            l = l * alpha + st;
            m = mn;
            uint nk = min(WG, last + 1u - j0);
            [[unroll]] for (uint e = 0u; e < OMAX; e++) {
                uint dcol = t + e * WG;
                if (dcol >= pc.Dv) break;
                float acc = o[e] * alpha;
                for (uint jj = 0u; jj < nk; jj++)
                    acc = fma(ps[jj], ld_v(pc.off_v + b * pc.vs[0] + (j0 + jj) * pc.vs[1] + kh * pc.vs[2] + dcol * pc.vs[3]), acc);
                o[e] = acc;
            }
            barrier(); // ps is rewritten by the next tile
        }
        if (SPLITK != 0u) {
            // An item past the row's last key keeps m = -inf, l = 0, o = 0.
            uint pb = pc.off_part + it * (pc.Dv + 2u);
            if (t == 0u) {
                part[pb] = m;
                part[pb + 1u] = l;
            }
            [[unroll]] for (uint e = 0u; e < OMAX; e++) {
                uint dcol = t + e * WG;
                if (dcol < pc.Dv) part[pb + 2u + dcol] = o[e];
            }
            continue;
        }
        uint ybase = pc.off_y + ((b * pc.Lq + i) * pc.Hq + h) * pc.Dv;
        [[unroll]] for (uint e = 0u; e < OMAX; e++) {
            uint dcol = t + e * WG;
            if (dcol < pc.Dv) st_y(ybase + dcol, o[e] / l);
        }
    }
}
