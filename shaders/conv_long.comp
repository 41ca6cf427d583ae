#version 450
// CONV_LONG (S4): y[b,l,d] = sum_{j=0..l} k[d,j] * x[b,l-j,d], computed directly.
// A workgroup owns one (b, d) and a tile of TL consecutive l; it walks j in tiles
// of TL, staging k[d, j-tile] and the 2*TL x values that tile can touch in shared
// memory, so each global value is read once per tile pair.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer K { float kern[]; };
layout(std430, binding = 2) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_x, off_k, off_y;
    uint Bsz, L, D, Lk;
} pc;

const uint TL = gl_WorkGroupSize.x;
shared float ks[TL];
shared float xs[2u * TL];

void main() {
    uint t = gl_LocalInvocationID.x;
    uint ltiles = (pc.L + TL - 1u) / TL;
    uint items = pc.Bsz * pc.D * ltiles;
    for (uint it = gl_WorkGroupID.x; it < items; it += gl_NumWorkGroups.x) {
        uint lt = it % ltiles, d = (it / ltiles) % pc.D, b = it / (ltiles * pc.D);
        uint l0 = lt * TL, l = l0 + t;
        float acc = 0.0;
        // j tiles [j0, j0 + TL) with j0 <= l0 + TL - 1 (only those reach some l <= l).
        for (uint j0 = 0u; j0 <= l0; j0 += TL) {
            uint jj = j0 + t;
            ks[t] = jj < pc.Lk ? kern[pc.off_k + d * pc.Lk + jj] : 0.0;
            // x positions l - j for l in the tile and j in the j tile:
            // from l0 - j0 - (TL-1) to l0 + TL - 1 - j0; xs[q] holds position
            // l0 - j0 - TL + 1 + q (q < 2 TL - 1), zero where negative or past L.
            for (uint q = t; q < 2u * TL; q += TL) {
                int pos = int(l0) - int(j0) - int(TL) + 1 + int(q);
                xs[q] = (pos >= 0 && uint(pos) < pc.L) ? x[pc.off_x + (b * pc.L + uint(pos)) * pc.D + d] : 0.0;
            }
            barrier();
            if (l < pc.L)
                for (uint j = 0u; j < TL; j++) {
                    uint jg = j0 + j;
                    if (jg > l) break;
                    // position l - jg  ->  q = (l - jg) - (l0 - j0 - TL + 1) = t - j + TL - 1
                    acc = fma(ks[j], xs[t + TL - 1u - j], acc);
                }
            barrier();
        }
        if (l < pc.L) y[pc.off_y + (b * pc.L + l) * pc.D + d] = acc;
    }
}
