#version 450
// SELECTIVE_SCAN (Mamba-1 and Mamba-2), see ssmrt.h for the recurrence:
//   s[n] = exp(dt * a[n]) * s[n] + dt * B[t, n] * u[t];  y[t] = sum_n s[n] C[t, n] + D u[t]
//
// Work split. A channel is one (b, h, p). A workgroup is QL x CL x NC threads
// (local x, y, z): QL state lanes, each owning 4 consecutive states (a vec4) of
// NKS slices, times CL channels of one (batch, group) pair, times NC time chunks
// of T steps. Consecutive invocations are the QL lanes of one channel, then the
// next channel: with QL * CL = 32 a subgroup of 32 is one chunk of CL channels,
// so every B and C row a subgroup reads at a step is the same few vec4 for all
// its channels (a broadcast, B and C are per group, not per channel), and the
// per-channel inputs u, delta, z, y of a step are CL consecutive floats.
// The workgroup marches over time in blocks of TB = NC*T steps:
//   1. The per-channel inputs of the block (dt after bias and softplus, u, z)
//      and, with STAGE, the B and C rows of the block are stored into shared
//      memory from registers, where they were loaded earlier; then later
//      blocks' loads are issued, so their latency hides behind this block's
//      work. The per-channel inputs (from DRAM, 2-3 registers per block) are
//      loaded two blocks ahead: with short blocks one block did not cover
//      their latency on an H100; B and C (shared by every workgroup, from L2)
//      one block ahead. Barrier.
//   2. Each thread scans its chunk from a zero state, keeping the local state
//      h_i and the running decay product P_i = prod_{j<=i} exp(dt_j a) of each
//      step in registers, and publishes the chunk's aggregate (P_T, h_T). Barrier.
//   3. The chunk's true initial state s0 is the block carry combined with the
//      aggregates of the chunks before it by (a1, b1) o (a2, b2) = (a1 a2, a2 b1 + b2);
//      the true state of step i is then h_i + P_i s0, so y_i = C_i . (P_i s0 + h_i):
//      two FMAs per state and step, no second exp and no replay of the
//      recurrence. The last chunk publishes the next block's carry
//      (double-buffered, so no third barrier).
// So every exp is computed once (once per step for a per-head A), the state
// stays in registers, and global traffic is one read of u, delta, z, B, C per
// workgroup and one write of y. Shared buffers written in block k are read only
// in block k (and the block's barriers order them), so with two copies the
// writes of block k+1 never meet the reads of block k.
// States beyond N have a = 0 and B = C = 0: they stay 0 and add nothing, so the
// hot loops carry no bounds checks on n; steps beyond L have dt = 0 (an identity
// step).
//
// Specialization constants: 3 QL (= local size x), 4 CL (= local size y), 5 NC
// (= local size z), 6 NKS (state slices per lane: ceil(N / (4 QL))), 7 VEC (B and
// C rows are vec4-aligned: N % 4 == 0 and their element offsets % 4 == 0), 8 T
// (steps per chunk), 9 STAGE (B and C rows go through shared memory), 10 ZS (z
// is present: its shared buffer exists), 11 AHEAD (A is per head: one exp per
// step serves every state; a constant, so the hot loop has no branch on it).
#include "common.glsl"
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_shuffle : require
#endif

layout(constant_id = 3) const uint QL = 4;
layout(constant_id = 4) const uint CL = 8;
layout(constant_id = 5) const uint NC = 8;
layout(constant_id = 6) const uint NKS = 1;
layout(constant_id = 7) const uint VEC = 1;
layout(constant_id = 8) const uint T = 8;
layout(constant_id = 9) const uint STAGE = 1;
layout(constant_id = 10) const uint ZS = 0;
layout(constant_id = 11) const uint AHEAD = 0;
const uint TB = NC * T;                      // steps per block
const uint NQ = QL * NKS;                    // vec4 quads per (padded) state row
const uint NT = QL * CL * NC;                // threads
const uint TB4 = (TB + 3u) / 4u;             // vec4 groups of steps
const uint SE = (TB * CL + NT - 1u) / NT;    // per-channel staged values per thread
const uint SB = (TB * NQ + NT - 1u) / NT;    // staged B (and C) quads per thread
const uint LEN = T >= QL ? T / QL : 1u;      // step sums a lane holds after the lane reduction

layout(std430, binding = 0) readonly buffer U { float u[]; };
layout(std430, binding = 1) readonly buffer Dl { float delta[]; };
layout(std430, binding = 2) readonly buffer Am { float A[]; };
layout(std430, binding = 3) readonly buffer Bm { float Bv[]; };
layout(std430, binding = 3) readonly buffer Bm4 { vec4 B4[]; };
layout(std430, binding = 4) readonly buffer Cm { float Cv[]; };
layout(std430, binding = 4) readonly buffer Cm4 { vec4 C4[]; };
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

// [buffer][step / 4][channel] with 4 steps per vec4: a thread's T steps are T/4
// vec4 loads, and the CL channels of a subgroup read CL consecutive vec4.
shared vec4 dt_s[2u * TB4 * CL];
shared vec4 u_s[2u * TB4 * CL];
shared vec4 z_s[ZS != 0u ? 2u * TB4 * CL : 1u];
// [buffer][step][quad]: the B and C rows of the block.
shared vec4 b_s[STAGE != 0u ? 2u * TB * NQ : 1u];
shared vec4 c_s[STAGE != 0u ? 2u * TB * NQ : 1u];
shared vec4 agg_a[2u * NC * CL * NQ];        // [buffer][chunk][channel][quad] decay product
shared vec4 agg_b[2u * NC * CL * NQ];        // [buffer][chunk][channel][quad] end state from 0
shared vec4 carry[2u * CL * NQ];             // [buffer][channel][quad] state at block start
#ifndef SUBGROUP
shared float ys[NT * T];                     // [thread][step] partial y
#endif

// 4 consecutive values of a B or C row starting at element e (state n0); zero
// past N or when the step is outside [0, L).
vec4 load_row(bool is_b, uint e, uint n0, bool ok) {
    if (!ok) return vec4(0.0);
    if (VEC != 0u && n0 + 3u < pc.N) return is_b ? B4[e >> 2] : C4[e >> 2];
    vec4 r = vec4(0.0);
    [[unroll]] for (uint s = 0u; s < 4u; s++)
        if (n0 + s < pc.N) r[s] = is_b ? Bv[e + s] : Cv[e + s];
    return r;
}

// Raw per-channel inputs of one step: delta, u, z.
struct Raw { float d, u, z; };

// Per invocation, set once per channel group in main() (private globals, so the
// block functions below take no long parameter lists).
uint lane, cl, c, tid, HP, nblk;
uint b, g, hp0, nlive, hp, h, rowg;
bool live, f_sp, f_d;
uint sk, sj, du0, uu0;                       // staged channel slot, first staged step
bool slive;
float sbias, dsk;
vec4 a[NKS];                                 // A * log2(e) of this lane's states

// Raw inputs of per-channel staged values and B, C quads of step j of the block
// starting at t0 (zero outside [0, L) and for idle channel slots).
Raw load_raw(uint t) {
    Raw r = Raw(0.0, 0.0, 0.0);
    if (slive && t < pc.L) {
        r.d = delta[du0 + t * pc.H];
        r.u = u[pc.off_u + uu0 + t * HP];
        if (ZS != 0u) r.z = z[pc.off_z + uu0 + t * HP];
    }
    return r;
}

vec4 load_quad(bool is_b, uint t, uint q) {
    uint row = (b * pc.L + t) * rowg + g * pc.N + 4u * q;
    return load_row(is_b, (is_b ? pc.off_B : pc.off_C) + row, 4u * q, t < pc.L);
}

// 1. Stages block blk into shared memory from the registers pf, pfb, pfc, then
// moves block blk + 1's per-channel inputs from pf2 to pf, loads block blk + 2's
// into pf2 and block blk + 1's B and C rows into pfb, pfc.
void stage(uint blk, inout Raw pf[SE], inout Raw pf2[SE], inout vec4 pfb[SB], inout vec4 pfc[SB]) {
    uint t0 = blk * TB, buf = blk & 1u;
    uint sb = buf * TB4 * CL, bb = buf * TB * NQ;
    [[unroll]] for (uint r = 0u; r < SE; r++) {
        uint j = sj + r * (NT / CL);
        if (j >= TB) continue;
        float dt = 0.0;
        if (slive && t0 + j < pc.L) {
            dt = pf[r].d + sbias;
            if (f_sp) dt = softplus_f(dt);
        }
        uint si = sb + (j >> 2) * CL + sk;
        dt_s[si][j & 3u] = dt;
        u_s[si][j & 3u] = pf[r].u;
        if (ZS != 0u) z_s[si][j & 3u] = pf[r].z;
        pf[r] = pf2[r];
        pf2[r] = load_raw(t0 + 2u * TB + j);
    }
    if (STAGE != 0u)
        [[unroll]] for (uint r = 0u; r < SB; r++) {
            uint e = tid + NT * r;
            if (e >= TB * NQ) continue;
            b_s[bb + e] = pfb[r];
            c_s[bb + e] = pfc[r];
            pfb[r] = load_quad(true, t0 + TB + e / NQ, e % NQ);
            pfc[r] = load_quad(false, t0 + TB + e / NQ, e % NQ);
        }
}

// B (or C) quad k of step j of the block at t0, from shared memory or memory.
vec4 row_quad(bool is_b, uint bb, uint t0, uint j, uint k) {
    if (STAGE != 0u) return is_b ? b_s[bb + j * NQ + k * QL + lane] : c_s[bb + j * NQ + k * QL + lane];
    return load_quad(is_b, t0 + j, k * QL + lane);
}

// 2.-4. Scan, combine and output of block blk (staged by stage()).
void compute(uint blk) {
    uint t0 = blk * TB, buf = blk & 1u;
    uint sb = buf * TB4 * CL, bb = buf * TB * NQ, ab = buf * NC * CL * NQ, cb = buf * CL * NQ;
    barrier();

    // 2. Local scan of the chunk from zero: local states h_i and decay products P_i.
    vec4 hl[NKS][T], pp[NKS][T];
    [[unroll]] for (uint k = 0u; k < NKS; k++) {
        vec4 hs = vec4(0.0), pr = vec4(1.0);
        vec4 dt4 = vec4(0.0), u4 = vec4(0.0);
        [[unroll]] for (uint i = 0u; i < T; i++) {
            uint j = c * T + i;              // step within the block
            uint q4 = T % 4u == 0u ? (i & 3u) : (j & 3u);
            if (T % 4u != 0u || q4 == 0u) {
                dt4 = dt_s[sb + (j >> 2) * CL + cl];
                u4 = u_s[sb + (j >> 2) * CL + cl];
            }
            float dt = dt4[q4];
            vec4 bv = row_quad(true, bb, t0, j, k);
            vec4 dA;
            if (AHEAD != 0u)
                dA = vec4(exp2(dt * a[k].x));
            else
                dA = exp2(dt * a[k]);
            hs = dA * hs + (dt * u4[q4]) * bv;
            pr *= dA;
            hl[k][i] = hs;
            pp[k][i] = pr;
        }
        agg_a[ab + (c * CL + cl) * NQ + k * QL + lane] = pr;
        agg_b[ab + (c * CL + cl) * NQ + k * QL + lane] = hs;
    }
    barrier();

    // 3. True initial state s0 of the chunk; the true state is h_i + P_i s0.
    float yl[T];
    [[unroll]] for (uint i = 0u; i < T; i++) yl[i] = 0.0;
    [[unroll]] for (uint k = 0u; k < NKS; k++) {
        uint qi = k * QL + lane;
        vec4 st = carry[cb + cl * NQ + qi];
        for (uint q = 0u; q < c; q++)
            st = agg_a[ab + (q * CL + cl) * NQ + qi] * st + agg_b[ab + (q * CL + cl) * NQ + qi];
        [[unroll]] for (uint i = 0u; i < T; i++)
            yl[i] += dot(row_quad(false, bb, t0, c * T + i, k), pp[k][i] * st + hl[k][i]);
        if (c == NC - 1u) {
            st = pp[k][T - 1u] * st + hl[k][T - 1u];
            carry[(cb ^ (CL * NQ)) + cl * NQ + qi] = st;
            if (blk == nblk - 1u && live && (pc.flags & F_S1) != 0u) {
                uint n0 = 4u * qi;
                [[unroll]] for (uint q = 0u; q < 4u; q++)
                    if (n0 + q < pc.N) state_out[pc.off_s1 + (b * HP + hp) * pc.N + n0 + q] = st[q];
            }
        }
    }

    // 4. Reduce over lanes, finish, write y.
#ifdef SUBGROUP
    // Level lv pairs lanes m = QL / 2^(lv+1) apart: each keeps half of its
    // T >> lv sums and adds the partner's half. Written with loop bounds and
    // indices that are constants once specialized (no loop-carried length), so
    // the driver unrolls it and yl stays in registers.
    [[unroll]] for (uint lv = 0u; lv < 5u; lv++) {
        uint m = QL >> (lv + 1u);
        if (m == 0u) break;
        uint hw = (T >> lv) >> 1;            // sums kept by each lane at this level
        if (hw >= 1u) {
            bool upper = (lane & m) != 0u;
            [[unroll]] for (uint i = 0u; i < T / 2u; i++) {
                if (i >= hw) break;
                float send = upper ? yl[i] : yl[i + hw];
                float keep = upper ? yl[i + hw] : yl[i];
                yl[i] = keep + subgroupShuffleXor(send, m);
            }
        } else {
            yl[0] += subgroupShuffleXor(yl[0], m);
        }
    }
    // The lane holds the sums of steps c*T + lane*T/QL + i, i < LEN; when QL > T,
    // QL/T lanes hold each sum and the first of them writes it.
    if (live && (lane * T) % QL == 0u)
        [[unroll]] for (uint i = 0u; i < T; i++) {
            if (i >= LEN) break;
            uint j = c * T + (lane * T) / QL + i, t = t0 + j;
            if (t >= pc.L) break;
            float s = yl[i];
            uint si = sb + (j >> 2) * CL + cl;
            if (f_d) s += dsk * u_s[si][j & 3u];
            if (ZS != 0u) s *= silu_f(z_s[si][j & 3u]);
            y[pc.off_y + (b * pc.L + t) * HP + hp] = s;
        }
#else
    [[unroll]] for (uint i = 0u; i < T; i++) ys[tid * T + i] = yl[i];
    barrier();
    for (uint e = tid; e < TB * CL; e += NT) {
        uint k = e % CL, j = e / CL, t = t0 + j;
        if (k >= nlive || t >= pc.L) continue;
        uint cc = j / T, i = j % T;
        float s = 0.0;
        for (uint l = 0u; l < QL; l++) s += ys[(l + QL * (k + CL * cc)) * T + i];
        uint si = sb + (j >> 2) * CL + k;
        if (f_d) s += Dskip[pc.off_D + (hp0 + k) / pc.P] * u_s[si][j & 3u];
        if (ZS != 0u) s *= silu_f(z_s[si][j & 3u]);
        y[pc.off_y + (b * pc.L + t) * HP + hp0 + k] = s;
    }
#endif
}

void main() {
    lane = gl_LocalInvocationID.x;
    cl = gl_LocalInvocationID.y;
    c = gl_LocalInvocationID.z;
    tid = lane + QL * (cl + CL * c);
    uint hpg = pc.H / pc.G;                  // heads per group
    uint chg = hpg * pc.P;                   // channels per (batch, group)
    uint tiles = (chg + CL - 1u) / CL;
    uint ngrp = pc.Bsz * pc.G * tiles;
    HP = pc.H * pc.P;
    bool f_s0 = (pc.flags & F_S0) != 0u, f_bias = (pc.flags & F_BIAS) != 0u;
    f_sp = (pc.flags & F_SOFTPLUS) != 0u;
    f_d = (pc.flags & F_D) != 0u;            // z presence is ZS: no z registers without z
    nblk = (pc.L + TB - 1u) / TB;
    rowg = pc.G * pc.N;                      // B/C elements per step

    for (uint grp = gl_WorkGroupID.x; grp < ngrp; grp += gl_NumWorkGroups.x) {
        uint tile = grp % tiles, bg = grp / tiles;
        g = bg % pc.G;
        b = bg / pc.G;
        hp0 = g * chg + tile * CL;           // h*P + p of channel slot 0
        nlive = min(CL, chg - tile * CL);
        live = cl < nlive;
        hp = hp0 + (live ? cl : 0u);
        h = hp / pc.P;
        dsk = f_d ? Dskip[pc.off_D + h] : 0.0;
        [[unroll]] for (uint k = 0u; k < NKS; k++) {
            uint n0 = 4u * (lane + QL * k);
            a[k] = vec4(0.0);
            if (AHEAD != 0u) {
                a[k] = vec4(A[pc.off_A + h]);
            } else {
                [[unroll]] for (uint q = 0u; q < 4u; q++)
                    if (n0 + q < pc.N) a[k][q] = A[pc.off_A + h * pc.N + n0 + q];
            }
            a[k] *= LOG2E;                   // exp(x) = exp2(x log2 e)
        }
        if (c == 0u)
            [[unroll]] for (uint k = 0u; k < NKS; k++) {
                uint n0 = 4u * (lane + QL * k);
                vec4 s = vec4(0.0);
                if (live && f_s0)
                    [[unroll]] for (uint q = 0u; q < 4u; q++)
                        if (n0 + q < pc.N) s[q] = state_in[pc.off_s0 + (b * HP + hp) * pc.N + n0 + q];
                carry[cl * NQ + k * QL + lane] = s;
            }
        // A thread always stages channel slot sk (NT is a multiple of CL) at steps
        // sj + r*NT/CL of each block, so its head, bias and index bases are fixed.
        sk = tid % CL;
        sj = tid / CL;
        slive = sk < nlive;
        uint shp = hp0 + sk, sh = shp / pc.P;
        sbias = f_bias ? dbias[pc.off_bias + sh] : 0.0;
        du0 = pc.off_delta + b * pc.L * pc.H + sh;
        uu0 = b * pc.L * HP + shp;

        // Registers holding the next block's raw inputs.
        Raw pf[SE], pf2[SE];
        vec4 pfb[SB], pfc[SB];
        [[unroll]] for (uint r = 0u; r < SE; r++) {
            uint j = sj + r * (NT / CL);
            pf[r] = j < TB ? load_raw(j) : Raw(0.0, 0.0, 0.0);
            pf2[r] = j < TB ? load_raw(TB + j) : Raw(0.0, 0.0, 0.0);
        }
        [[unroll]] for (uint r = 0u; r < SB; r++) {
            uint e = tid + NT * r;
            bool ok = STAGE != 0u && e < TB * NQ;
            pfb[r] = ok ? load_quad(true, e / NQ, e % NQ) : vec4(0.0);
            pfc[r] = ok ? load_quad(false, e / NQ, e % NQ) : vec4(0.0);
        }

        for (uint blk = 0u; blk < nblk; blk++) {
            stage(blk, pf, pf2, pfb, pfc);
            compute(blk);
        }
        barrier(); // the next channel group's staging must not meet this one's reads
    }
}
