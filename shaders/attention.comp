#version 450
// ATTENTION: causal scaled dot-product with grouped-query heads and online softmax
// (flash-style): no Lq x Lk matrix exists; a workgroup holds one 16 x 16 tile of
// scores at a time.
//
// A workgroup of 64 threads owns BQ = 16 consecutive queries of one (b, h) (looped
// by workgroup stride) and walks the keys they can see in tiles of BK = 16: the K
// and V rows of the tile are staged in shared memory once for all 16 queries;
// each thread computes 4 scores, one thread per query row updates the running max
// and sum and turns scores into probabilities, and each thread rescales and
// accumulates DP/4 output elements of one query (d = t%4 + 4e). q, k, v are
// strided [B, L, H, D] views (element strides in the push block); y is contiguous.
// Specialization constants: 3: DP, the head dim rounded up to a multiple of 4;
// 4: DT, the dtype of q, k, v and y (f32, f16, bf16: converted to f32 as they are
// staged, everything else in f32, y rounded once; see attention_io.glsl).
#include "common.glsl"

layout(constant_id = 3) const uint DP = 64;
layout(constant_id = 4) const uint DT = DT_F32;
const uint BQ = 16u, BK = 16u;

#include "attention_io.glsl"

layout(push_constant) uniform PC {
    uint off_q, off_k, off_v, off_y;
    uint qs[4], ks_[4], vs[4];
    uint Bsz, Lq, Lk, Hq, Hk, Dh, Dv;
    float scale;
} pc;

shared float qsh[BQ * DP];
shared float ksh[BK * (DP + 1u)];   // +1: score loops read rows at different banks
shared float vsh[BK * DP];
shared float pr[BQ * BK];           // scores, then probabilities
shared float m_s[BQ], l_s[BQ], alpha_s[BQ];

void main() {
    uint t = gl_LocalInvocationID.x, nt = gl_WorkGroupSize.x;
    uint qblocks = (pc.Lq + BQ - 1u) / BQ;
    uint items = pc.Bsz * pc.Hq * qblocks;
    uint group = pc.Hq / pc.Hk;
    uint oq = t / 4u;                 // this thread's output query row
    for (uint it = gl_WorkGroupID.x; it < items; it += gl_NumWorkGroups.x) {
        uint qb = it % qblocks, h = (it / qblocks) % pc.Hq, b = it / (qblocks * pc.Hq);
        uint kh = h / group, q0 = qb * BQ;
        uint nq = min(BQ, pc.Lq - q0);
        uint last_max = pc.Lk - pc.Lq + q0 + nq - 1u; // the last key any row here sees
        for (uint e = t; e < BQ * DP; e += nt) {
            uint r = e / DP, dd = e % DP;
            qsh[e] = (r < nq && dd < pc.Dh)
                         ? ld_q(pc.off_q + b * pc.qs[0] + (q0 + r) * pc.qs[1] + h * pc.qs[2] + dd * pc.qs[3])
                         : 0.0;
        }
        if (t < BQ) {
            m_s[t] = -1.0 / 0.0;
            l_s[t] = 0.0;
        }
        float o[DP / 4u];
        [[unroll]] for (uint e = 0u; e < DP / 4u; e++) o[e] = 0.0;

        for (uint k0 = 0u; k0 <= last_max; k0 += BK) {
            for (uint e = t; e < BK * DP; e += nt) {
                uint j = e / DP, dd = e % DP, key = k0 + j;
                bool ok = key <= last_max && dd < pc.Dh;
                ksh[j * (DP + 1u) + dd] =
                    ok ? ld_k(pc.off_k + b * pc.ks_[0] + key * pc.ks_[1] + kh * pc.ks_[2] + dd * pc.ks_[3]) : 0.0;
                vsh[e] = ok ? ld_v(pc.off_v + b * pc.vs[0] + key * pc.vs[1] + kh * pc.vs[2] + dd * pc.vs[3]) : 0.0;
            }
            barrier();
            // Scores: thread t computes (row t/4, keys t%4 + 4r).
            [[unroll]] for (uint r = 0u; r < 4u; r++) {
                uint qi = t / 4u, kj = t % 4u + 4u * r;
                uint key = k0 + kj, pos = pc.Lk - pc.Lq + q0 + qi;
                float s = -1.0 / 0.0;
                if (qi < nq && key <= pos) {
                    float dot = 0.0;
                    for (uint dd = 0u; dd < pc.Dh; dd++) dot = fma(qsh[qi * DP + dd], ksh[kj * (DP + 1u) + dd], dot);
                    s = dot * pc.scale;
                }
                pr[qi * BK + kj] = s;
            }
            barrier();
            // Online softmax bookkeeping, one thread per query row.
            if (t < BQ) {
                float mt = -1.0 / 0.0;
                for (uint j = 0u; j < BK; j++) mt = max(mt, pr[t * BK + j]);
                float mo = m_s[t], mn = max(mo, mt);
                float alpha = 1.0, sum = 0.0;
                if (mn != -1.0 / 0.0) {
                    alpha = exp(mo - mn); // 0 on the first tile (mo = -inf)
                    for (uint j = 0u; j < BK; j++) {
                        float p = exp(pr[t * BK + j] - mn);
                        pr[t * BK + j] = p;
                        sum += p;
                    }
                } else {
                    for (uint j = 0u; j < BK; j++) pr[t * BK + j] = 0.0;
                }
                m_s[t] = mn;
                l_s[t] = l_s[t] * alpha + sum;
                alpha_s[t] = alpha;
            }
            barrier();
            float al = alpha_s[oq];
            [[unroll]] for (uint e = 0u; e < DP / 4u; e++) {
                uint dd = t % 4u + 4u * e;
                float acc = o[e] * al;
                [[unroll]] for (uint j = 0u; j < BK; j++) acc = fma(pr[oq * BK + j], vsh[j * DP + dd], acc);
                o[e] = acc;
            }
            barrier(); // the next tile overwrites ksh, vsh, pr
        }
        if (oq < nq) {
            float inv = 1.0 / l_s[oq];
            uint ybase = pc.off_y + ((b * pc.Lq + q0 + oq) * pc.Hq + h) * pc.Dv;
            [[unroll]] for (uint e = 0u; e < DP / 4u; e++) {
                uint dd = t % 4u + 4u * e;
                if (dd < pc.Dv) st_y(ybase + dd, o[e] * inv);
            }
        }
        barrier(); // qsh, m_s, l_s are rewritten by the next item
    }
}
