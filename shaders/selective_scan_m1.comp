#version 450
// SELECTIVE_SCAN prefill for Mamba-1 shapes: A [H, N] with N <= NPAD (16), B and C
// rows read as vec4 (N % 4 == 0). The recurrence (see ssmrt.h):
//   s[n] = exp(dt * a[n]) * s[n] + dt * B[t, n] * u[t];  y[t] = sum_n s[n] C[t, n] + D u[t]
//
// Why this shape: the subgroup-per-channel layout of selective_scan_runs.comp
// spends much of its time on shuffles: the run combine and the transposing
// reduction of y over the state lanes, every chunk of 32 steps. Here an
// invocation holds SPL-th of one channel's states for a chunk of LC consecutive
// steps. On the H100 this shader is bound by shared-memory traffic more than by
// arithmetic, so each chunk is scanned once: pass 1 keeps, per step and state, C
// times the decay product since the chunk's start (w), and the chunk's true start
// state enters y as one FMA per (step, state) in pass 3, with no second recurrence
// and no second read of B and C (0.137 -> 0.125 ms at D = 2048, N = 16, L =
// 4096); the states' shared rows are laid out so that no access has bank
// conflicts (another 4%).
//
// The workgroup is CH channels of one (batch, group) x K chunks x SPL state
// parts: invocation tid = s + SPL (cc + CH kc). The sequence goes by segments of
// S = K LC steps; per segment:
//   0. Stage: dt (after bias and softplus, once per step and channel) and u of
//      the CH channels, and the S rows of B and C, into shared memory. The next
//      segment's loads are issued into registers before this segment's math.
//   1. Each invocation scans its chunk from a zero state, keeping y's partial
//      sums from that zero start (yl) and the weights w = C dd (dd: the decay
//      product since the chunk's start); its end state and the chunk's summed dt
//      go to shared memory (the chunk's decay is exp(a[n] sum dt)).
//   2. CH NPAD invocations, one per (channel, state), walk the K chunks in order
//      from the carried state: each chunk's true start state replaces its end
//      state in shared memory, and the carry moves on to the next segment.
//   3. Each invocation forms y's partial sums over its states, yl + w h_start;
//      a transposing butterfly of SPL - 1 shuffles leaves each invocation whole
//      sums for every SPL-th step, which it finishes (D u, the z gate) and writes.
// Steps beyond L are identity steps (dt = u = 0, B = C = 0); states beyond N have
// a = 0 and B = C = 0, so they stay 0 and add nothing; channels beyond the group
// read zeros and write nothing.
//
// Specialization constants: 0 (local size x) = CH K SPL; 3 CH; 4 K; 5 LC (a
// multiple of 4: dt and u are read as vec4); 6 NPT (states per invocation, a
// multiple of 4); 7 SPL (1, 2 or 4; the host checks it divides the subgroup
// size); 8 ZS (z present).
#include "common.glsl"
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require

layout(constant_id = 3) const uint CH = 8;
layout(constant_id = 4) const uint K = 16;
layout(constant_id = 5) const uint LC = 4;
layout(constant_id = 6) const uint NPT = 8;
layout(constant_id = 7) const uint SPL = 2;
layout(constant_id = 8) const uint ZS = 0;
const uint NT = CH * K * SPL;                // invocations
const uint S = K * LC;                       // steps per segment
const uint NPAD = NPT * SPL;                 // padded state size
const uint NQ = NPAD / 4u;                   // vec4 per B or C row
const uint NPQ = NPT / 4u;                   // vec4 of a row per invocation
const uint SROW = S + 4u;                    // s_dt, s_u rows: staggered by 4 per channel
const uint EDU = (CH * S + NT - 1u) / NT;    // (step, channel) items staged per invocation
const uint EBC = (S * NQ + NT - 1u) / NT;    // vec4 of B (and C) staged per invocation
const uint EY = LC / SPL;                    // steps an invocation finishes
// States in shared memory: [chunk][quad][channel][part], each chunk-quad row padded
// by 4 vec4, so that pass 1's stores, pass 3's loads (a quarter-warp: 4 channels x
// 2 parts) and pass 2's scalar accesses (2 channels x 16 states) are all free of
// bank conflicts.
const uint HQ = CH * SPL + 4u;
uint hidx(uint kc, uint cc, uint s, uint q) { return (kc * NPQ + q) * HQ + cc * SPL + s; }

layout(std430, binding = 0) readonly buffer U { float u[]; };
layout(std430, binding = 1) readonly buffer Dl { float delta[]; };
layout(std430, binding = 2) readonly buffer Am { float A[]; };
layout(std430, binding = 3) readonly buffer Bm4 { vec4 Bv4[]; };
layout(std430, binding = 4) readonly buffer Cm4 { vec4 Cv4[]; };
layout(std430, binding = 5) readonly buffer Ds { float Dskip[]; };
layout(std430, binding = 6) readonly buffer Z { float z[]; };
layout(std430, binding = 7) readonly buffer DB { float dbias[]; };
layout(std430, binding = 8) readonly buffer S0 { float state_in[]; };
layout(std430, binding = 9) writeonly buffer Y { float y[]; };
layout(std430, binding = 10) writeonly buffer S1 { float state_out[]; };

layout(push_constant) uniform PC {
    uint off_u, off_delta, off_A, off_B, off_C, off_D, off_z, off_bias, off_s0, off_y, off_s1;
    uint Bsz, L, H, P, N, G;
    uint flags;
} pc;

const uint F_D = 1u, F_Z = 2u, F_BIAS = 4u, F_S0 = 8u, F_S1 = 16u, F_SOFTPLUS = 32u;
const float LOG2E = 1.4426950408889634;

shared vec4 s_dt4[CH * SROW / 4u];           // [channel][step] dt
shared vec4 s_u4[CH * SROW / 4u];            // [channel][step] u
shared vec4 s_B4[S * NQ];                    // [step][state quad]
shared vec4 s_C4[S * NQ];
shared vec4 s_h4[K * NPQ * HQ];              // end, then start states (hidx)
shared float s_sd[CH * K];                   // [channel][chunk] sum of dt

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint s = tid % SPL, cc = (tid / SPL) % CH, kc = tid / (SPL * CH);
    const uint HP = pc.H * pc.P, hpg = HP / pc.G;   // channels, channels per group
    const uint tiles = (hpg + CH - 1u) / CH, ngrp = pc.Bsz * pc.G * tiles;
    const uint rowg4 = pc.G * pc.N / 4u;             // B and C vec4 per step
    const uint nq = pc.N / 4u;                       // vec4 of a row that exist
    const bool f_sp = (pc.flags & F_SOFTPLUS) != 0u;
    // The combine role (pass 2 of the header): invocation tid < CH NPAD owns state
    // cn of channel slot ccn.
    const bool comb = tid < CH * NPAD;
    const uint ccn = tid / NPAD, cn = tid % NPAD;

    for (uint grp = gl_WorkGroupID.x; grp < ngrp; grp += gl_NumWorkGroups.x) {
        uint tile = grp % tiles, bg = grp / tiles, g = bg % pc.G, b = bg / pc.G;
        uint tile0 = tile * CH, c0 = g * hpg + tile0;   // first channel (h*P + p) of the tile
        bool my_ok = tile0 + cc < hpg;
        uint my_c = c0 + cc, my_h = my_ok ? my_c / pc.P : 0u;

        // Decay exponents a[n] log2(e) of this invocation's states.
        float a2[NPT];
        [[unroll]] for (uint i = 0u; i < NPT; i++) {
            uint n = s * NPT + i;
            a2[i] = (my_ok && n < pc.N) ? A[pc.off_A + my_h * pc.N + n] * LOG2E : 0.0;
        }
        float my_D = (my_ok && (pc.flags & F_D) != 0u) ? Dskip[pc.off_D + my_h] : 0.0;
        // The combine role's exponent and carried state.
        bool cn_ok = comb && tile0 + ccn < hpg && cn < pc.N;
        uint cn_c = c0 + ccn, cn_h = cn_ok ? cn_c / pc.P : 0u;
        float cn_a2 = cn_ok ? A[pc.off_A + cn_h * pc.N + cn] * LOG2E : 0.0;
        float carry = (cn_ok && (pc.flags & F_S0) != 0u) ? state_in[pc.off_s0 + (b * HP + cn_c) * pc.N + cn] : 0.0;

        uint bc4 = ((b * pc.L * pc.G + g) * pc.N) / 4u;  // + t rowg4 + q
        uint bb4 = pc.off_B / 4u + bc4, cb4 = pc.off_C / 4u + bc4;
        uint ub = pc.off_u + b * pc.L * HP, db = pc.off_delta + b * pc.L * pc.H;
        uint yb = pc.off_y + b * pc.L * HP + my_c, zb = pc.off_z + b * pc.L * HP + my_c;

        // Registers holding the next segment's raw inputs: this invocation stages
        // channel slot st_cc at steps st_t + i NT / CH of dt and u, and vec4 e = tid
        // + i NT of B and C (NT is a multiple of CH, so the slot is the same for all i).
        const uint st_cc = tid % CH, st_t = tid / CH;
        const bool st_ok = tile0 + st_cc < hpg;
        const uint st_c = c0 + st_cc, st_h = st_ok ? st_c / pc.P : 0u;
        const float st_bias = (st_ok && (pc.flags & F_BIAS) != 0u) ? dbias[pc.off_bias + st_h] : 0.0;
        float r_dt[EDU], r_u[EDU];
        vec4 r_B[EBC], r_C[EBC];
#define LOAD_SEGMENT(t0)                                                                   \
        [[unroll]] for (uint i = 0u; i < EDU; i++) {                                        \
            uint t = (t0) + st_t + i * (NT / CH);                                           \
            bool ok = st_t + i * (NT / CH) < S && t < pc.L && st_ok;                        \
            r_dt[i] = ok ? delta[db + t * pc.H + st_h] : 0.0;                               \
            r_u[i] = ok ? u[ub + t * HP + st_c] : 0.0;                                      \
        }                                                                                   \
        [[unroll]] for (uint i = 0u; i < EBC; i++) {                                        \
            uint e = tid + i * NT, t = (t0) + e / NQ, q = e % NQ;                            \
            bool ok = e < S * NQ && t < pc.L && q < nq;                                     \
            r_B[i] = ok ? Bv4[bb4 + t * rowg4 + q] : vec4(0.0);                             \
            r_C[i] = ok ? Cv4[cb4 + t * rowg4 + q] : vec4(0.0);                             \
        }

        LOAD_SEGMENT(0u)
        for (uint t0 = 0u; t0 < pc.L; t0 += S) {
            // The previous segment is fully consumed. (Double-buffering the staging
            // instead took 158 registers, one workgroup per SM: 0.178 ms.)
            barrier();
            [[unroll]] for (uint i = 0u; i < EDU; i++) {
                uint t = st_t + i * (NT / CH);
                if (t < S) {
                    // Identity steps (beyond L or the group) have dt = u = 0.
                    float dt = 0.0;
                    if (t0 + t < pc.L && st_ok) {
                        dt = r_dt[i] + st_bias;
                        if (f_sp) dt = softplus_f(dt);
                    }
                    uint xi = st_cc * SROW + t;
                    s_dt4[xi / 4u][xi & 3u] = dt;
                    s_u4[xi / 4u][xi & 3u] = r_u[i];
                }
            }
            [[unroll]] for (uint i = 0u; i < EBC; i++) {
                uint e = tid + i * NT;
                if (e < S * NQ) {
                    s_B4[e] = r_B[i];
                    s_C4[e] = r_C[i];
                }
            }
            barrier();
            if (t0 + S < pc.L) { LOAD_SEGMENT(t0 + S) } // in flight during the math
            float zv[EY];
            [[unroll]] for (uint j = 0u; j < EY; j++) {
                uint t = t0 + kc * LC + j * SPL + s;
                zv[j] = (ZS != 0u && my_ok && t < pc.L) ? z[zb + t * HP] : 0.0;
            }

            // dt and u of the chunk's LC steps.
            float dtv[LC], uv[LC];
            [[unroll]] for (uint q = 0u; q < LC / 4u; q++) {
                uint xq = (cc * SROW + kc * LC) / 4u + q;
                vec4 d4 = s_dt4[xq], u4 = s_u4[xq];
                dtv[4u * q] = d4.x; dtv[4u * q + 1u] = d4.y; dtv[4u * q + 2u] = d4.z; dtv[4u * q + 3u] = d4.w;
                uv[4u * q] = u4.x; uv[4u * q + 1u] = u4.y; uv[4u * q + 2u] = u4.z; uv[4u * q + 3u] = u4.w;
            }

            // 1. The chunk from a zero state: end state h, y's partial sums yl, and
            // the weights w = C dd that carry the true start state into y.
            float h[NPT], dd[NPT], w[LC][NPT], yl[LC];
            float sd = 0.0;
            [[unroll]] for (uint i = 0u; i < NPT; i++) {
                h[i] = 0.0;
                dd[i] = 1.0;
            }
            [[unroll]] for (uint j = 0u; j < LC; j++) {
                uint row = (kc * LC + j) * NQ + s * NPQ;
                float dtu = dtv[j] * uv[j];
                sd += dtv[j];
                float y0 = 0.0, y1 = 0.0;
                [[unroll]] for (uint q = 0u; q < NPQ; q++) {
                    vec4 b4 = s_B4[row + q], c4 = s_C4[row + q];
                    [[unroll]] for (uint e = 0u; e < 4u; e++) {
                        uint i = 4u * q + e;
                        float da = exp2(dtv[j] * a2[i]);
                        h[i] = fma(da, h[i], dtu * b4[e]);
                        dd[i] *= da;
                        w[j][i] = c4[e] * dd[i];
                        if ((e & 1u) == 0u) y0 = fma(c4[e], h[i], y0);
                        else y1 = fma(c4[e], h[i], y1);
                    }
                }
                yl[j] = y0 + y1;
            }
            [[unroll]] for (uint q = 0u; q < NPQ; q++)
                s_h4[hidx(kc, cc, s, q)] = vec4(h[4u * q], h[4u * q + 1u], h[4u * q + 2u], h[4u * q + 3u]);
            if (s == 0u) s_sd[cc * K + kc] = sd;
            barrier();

            // 2. The chunks in order from the carried state.
            if (comb) {
                [[unroll]] for (uint k = 0u; k < K; k++) {
                    uint hi = hidx(k, ccn, cn / NPT, (cn % NPT) / 4u);
                    float hl = s_h4[hi][cn & 3u];
                    float dk = exp2(cn_a2 * s_sd[ccn * K + k]);
                    s_h4[hi][cn & 3u] = carry;
                    carry = fma(dk, carry, hl);
                }
            }
            barrier();

            // 3. y's partial sums over this invocation's states.
            [[unroll]] for (uint q = 0u; q < NPQ; q++) {
                vec4 h4 = s_h4[hidx(kc, cc, s, q)];
                h[4u * q] = h4.x; h[4u * q + 1u] = h4.y; h[4u * q + 2u] = h4.z; h[4u * q + 3u] = h4.w;
            }
            float yp[LC];
            [[unroll]] for (uint j = 0u; j < LC; j++) {
                float y0 = yl[j], y1 = 0.0;
                [[unroll]] for (uint i = 0u; i < NPT; i += 2u) {
                    y0 = fma(w[j][i], h[i], y0);
                    y1 = fma(w[j][i + 1u], h[i + 1u], y1);
                }
                yp[j] = y0 + y1;
            }
            // Transposing butterfly over the SPL state parts, per group of SPL steps:
            // part s ends with the whole sum of step j SPL + s in yp[j SPL].
            [[unroll]] for (uint gq = 0u; gq < EY; gq++) {
                [[unroll]] for (uint lv = 0u; lv < 2u; lv++) {
                    uint o = SPL >> (lv + 1u);
                    if (o == 0u) break;
                    bool upper = (s & o) != 0u;
                    [[unroll]] for (uint i = 0u; i < 2u; i++) {
                        if (i >= o) break;
                        uint a = gq * SPL + i;
                        float send = upper ? yp[a] : yp[a + o];
                        float keep = upper ? yp[a + o] : yp[a];
                        yp[a] = keep + subgroupShuffleXor(send, o);
                    }
                }
            }
            [[unroll]] for (uint j = 0u; j < EY; j++) {
                uint tl = kc * LC + j * SPL + s;   // step inside the segment
                if (my_ok && t0 + tl < pc.L) {
                    uint xi = cc * SROW + tl;
                    float yv = yp[j * SPL] + my_D * s_u4[xi / 4u][xi & 3u];
                    if (ZS != 0u) yv *= silu_f(zv[j]);
                    y[yb + (t0 + tl) * HP] = yv;
                }
            }
        }

        // state_out may alias state_in: these invocations read their states above.
        if ((pc.flags & F_S1) != 0u && cn_ok) state_out[pc.off_s1 + (b * HP + cn_c) * pc.N + cn] = carry;
        barrier(); // the next channel group's staging must not meet this one's reads
    }
}
