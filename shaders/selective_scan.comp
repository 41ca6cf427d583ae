#version 450
// SELECTIVE_SCAN (Mamba-1 and Mamba-2), see ssmrt.h for the recurrence:
//   s[n] = exp(dt * a[n]) * s[n] + dt * B[t, n] * u[t];  y[t] = sum_n s[n] C[t, n] + D u[t]
//
// Work split. A channel is one (b, h, p). A workgroup holds CW channels; each
// channel has QL x NC threads: QL state lanes, each owning 4 consecutive states
// (a vec4: B and C rows are read as vec4, the y sum over those 4 states stays in the
// thread), times NC time chunks of T steps. The workgroup marches over time in
// blocks of NC*T steps:
//   1. dt (bias, softplus) and dt*u of the block are computed once per step and
//      channel into shared memory (not once per state), with u and z for the
//      output step. The raw delta, u and z of the next block are loaded into
//      registers right after, so their memory latency overlaps this block's work.
//   2. Each thread scans its chunk from a zero state, keeping exp(dt*a) and
//      dt*B*u of its T steps in registers, and publishes the chunk's aggregate
//      (prod exp(dt*a), end state).
//   3. The chunk's true initial state is the block carry combined with the
//      aggregates of the chunks before it by (a1, b1) o (a2, b2) = (a1 a2, a2 b1 + b2);
//      the thread replays its T steps from it (FMAs only: the exps are kept), adding
//      C . s to its partial y of each step. The last chunk's end state is the next
//      block's carry.
//   4. Partial y sums are reduced over the QL lanes, D*u and the silu(z) gate
//      applied, and y written. Built with -DSUBGROUP (used where the device has
//      subgroup shuffles, QL <= T and QL <= the subgroup size), the reduction is a
//      reduce-scatter of subgroup shuffles: at each of log2(QL) stages a lane sends
//      the half of its partial sums its partner keeps and adds the half it keeps,
//      so it ends with the full sums of T/QL steps and writes those y itself; no
//      shared memory, no barrier. Otherwise the sums go through shared memory.
// So every exp is computed once, the state never leaves registers within a block,
// and global traffic is one read of u, delta, z, B, C and one write of y.
// States beyond N have a = 0 and B = C = 0: they stay 0 and add nothing, so the
// hot loops carry no bounds checks on n; steps beyond L have dt = dt*u = 0 (an
// identity step).
//
// Specialization constants: 3 QL (= local size x), 4 NC (= local size y), 5 CW
// (= local size z), 6 NKS (state slices per lane: ceil(N / (4 QL))), 7 VEC (B and C
// rows are vec4-aligned: N % 4 == 0 and their element offsets % 4 == 0).
#include "common.glsl"
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_shuffle : require
#endif

layout(constant_id = 3) const uint QL = 4;
layout(constant_id = 4) const uint NC = 8;
layout(constant_id = 5) const uint CW = 8;
layout(constant_id = 6) const uint NKS = 1;
layout(constant_id = 7) const uint VEC = 1;
#define T 8u
const uint TB = NC * T;

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

const uint F_D = 1u, F_Z = 2u, F_BIAS = 4u, F_S0 = 8u, F_S1 = 16u, F_SOFTPLUS = 32u, F_AHEAD = 64u;
const float LOG2E = 1.4426950408889634;

shared vec4 dt_s[CW * TB / 4u];      // [w][step] dt, 4 steps per vec4
shared vec4 du_s[CW * TB / 4u];      // [w][step] dt*u
shared float u_s[CW * TB];           // [w][step] u, for D*u
shared float z_s[CW * TB];           // [w][step] z, for the gate
const uint SI = (TB + QL * NC - 1u) / (QL * NC); // staged steps per thread
shared vec4 agg_a[CW * NC * QL];     // [w][chunk][lane] prod exp(dt*a)
shared vec4 agg_b[CW * NC * QL];     // [w][chunk][lane] chunk end state from zero
#ifndef SUBGROUP
shared float ys[CW * QL * TB];       // [w][lane][step] partial y
#endif
shared vec4 carry[CW * NKS * QL];    // [w][slice*QL + lane] state at the block start

// 4 consecutive values of a B or C row starting at element e (state n0); zero
// past N or when the step is outside [0, L).
vec4 load_row(uint binding, uint e, uint n0, bool ok) {
    if (!ok) return vec4(0.0);
    if (VEC != 0u && n0 + 3u < pc.N) return binding == 3u ? B4[e >> 2] : C4[e >> 2];
    vec4 r = vec4(0.0);
    [[unroll]] for (uint s = 0u; s < 4u; s++)
        if (n0 + s < pc.N) r[s] = binding == 3u ? Bv[e + s] : Cv[e + s];
    return r;
}

void main() {
    uint lane = gl_LocalInvocationID.x, c = gl_LocalInvocationID.y, w = gl_LocalInvocationID.z;
    uint ctid = c * QL + lane;           // thread index within its channel
    uint cthreads = QL * NC;
    uint channels = pc.Bsz * pc.H * pc.P;
    uint heads_per_group = pc.H / pc.G;
    uint groups = (channels + CW - 1u) / CW;
    bool f_s0 = (pc.flags & F_S0) != 0u, f_bias = (pc.flags & F_BIAS) != 0u;
    bool f_sp = (pc.flags & F_SOFTPLUS) != 0u, f_ahead = (pc.flags & F_AHEAD) != 0u;

    for (uint grp = gl_WorkGroupID.x; grp < groups; grp += gl_NumWorkGroups.x) {
        uint ch = grp * CW + w;
        bool live = ch < channels;
        uint chc = live ? ch : 0u;     // keeps every index in range for idle threads
        uint p = chc % pc.P, h = (chc / pc.P) % pc.H, b = chc / (pc.P * pc.H);
        uint g = h / heads_per_group;
        uint sbase = chc * pc.N;         // state [B, H, P, N]: ch = (b*H + h)*P + p
        if (c == 0u)
            for (uint k = 0u; k < NKS; k++) {
                uint n0 = 4u * (lane + QL * k);
                vec4 s = vec4(0.0);
                if (live && f_s0)
                    [[unroll]] for (uint q = 0u; q < 4u; q++)
                        if (n0 + q < pc.N) s[q] = state_in[pc.off_s0 + sbase + n0 + q];
                carry[w * NKS * QL + k * QL + lane] = s;
            }
        float dbv = f_bias ? dbias[pc.off_bias + h] : 0.0;
        bool f_z = (pc.flags & F_Z) != 0u;
        // Raw inputs of the block about to be staged (steps ctid + cthreads*r).
        float pf_d[SI], pf_u[SI], pf_z[SI];
        [[unroll]] for (uint r = 0u; r < SI; r++) {
            uint j = ctid + cthreads * r, t = j;
            pf_d[r] = pf_u[r] = pf_z[r] = 0.0;
            if (live && j < TB && t < pc.L) {
                uint bl = b * pc.L + t, iu = (bl * pc.H + h) * pc.P + p;
                pf_d[r] = delta[pc.off_delta + bl * pc.H + h];
                pf_u[r] = u[pc.off_u + iu];
                if (f_z) pf_z[r] = z[pc.off_z + iu];
            }
        }
        barrier();

        for (uint t0 = 0u; t0 < pc.L; t0 += TB) {
            // 1. dt and dt*u of the block for this channel, from the prefetched
            // registers; then the next block's loads are issued.
            [[unroll]] for (uint r = 0u; r < SI; r++) {
                uint j = ctid + cthreads * r;
                if (j >= TB) continue;
                float dt = 0.0, du = 0.0;
                if (live && t0 + j < pc.L) {
                    dt = pf_d[r] + dbv;
                    if (f_sp) dt = softplus_f(dt);
                    du = dt * pf_u[r];
                }
                dt_s[(w * TB + j) >> 2][j & 3u] = dt;
                du_s[(w * TB + j) >> 2][j & 3u] = du;
                u_s[w * TB + j] = pf_u[r];
                z_s[w * TB + j] = pf_z[r];
                uint t = t0 + TB + j;
                if (live && t < pc.L) {
                    uint bl = b * pc.L + t, iu = (bl * pc.H + h) * pc.P + p;
                    pf_d[r] = delta[pc.off_delta + bl * pc.H + h];
                    pf_u[r] = u[pc.off_u + iu];
                    if (f_z) pf_z[r] = z[pc.off_z + iu];
                }
            }
            barrier();

            float ysum[T];
            [[unroll]] for (uint i = 0u; i < T; i++) ysum[i] = 0.0;
            for (uint k = 0u; k < NKS; k++) {
                uint n0 = 4u * (lane + QL * k);
                vec4 a = vec4(0.0);
                if (f_ahead) {
                    a = vec4(A[pc.off_A + h]);
                } else {
                    [[unroll]] for (uint q = 0u; q < 4u; q++)
                        if (n0 + q < pc.N) a[q] = A[pc.off_A + h * pc.N + n0 + q];
                }
                a *= LOG2E; // exp(x) = exp2(x log2 e)
                // 2. Local scan of the chunk from zero.
                vec4 dA[T], dBu[T];
                vec4 pa = vec4(1.0), hs = vec4(0.0);
                [[unroll]] for (uint i = 0u; i < T; i += 4u) {
                    uint j = c * T + i;
                    vec4 dt4 = dt_s[(w * TB + j) >> 2], du4 = du_s[(w * TB + j) >> 2];
                    [[unroll]] for (uint q = 0u; q < 4u; q++) {
                        uint t = t0 + j + q;
                        uint e = pc.off_B + ((b * pc.L + t) * pc.G + g) * pc.N + n0;
                        vec4 bv = load_row(3u, e, n0, live && t < pc.L);
                        dA[i + q] = exp2(dt4[q] * a);
                        dBu[i + q] = du4[q] * bv;
                        hs = dA[i + q] * hs + dBu[i + q];
                        pa *= dA[i + q];
                    }
                }
                agg_a[(w * NC + c) * QL + lane] = pa;
                agg_b[(w * NC + c) * QL + lane] = hs;
                barrier();
                // 3. True initial state, replay, partial y.
                vec4 st = carry[w * NKS * QL + k * QL + lane];
                for (uint q = 0u; q < c; q++)
                    st = agg_a[(w * NC + q) * QL + lane] * st + agg_b[(w * NC + q) * QL + lane];
                [[unroll]] for (uint i = 0u; i < T; i++) {
                    uint t = t0 + c * T + i;
                    uint e = pc.off_C + ((b * pc.L + t) * pc.G + g) * pc.N + n0;
                    vec4 cv = load_row(4u, e, n0, live && t < pc.L);
                    st = dA[i] * st + dBu[i];
                    ysum[i] += dot(st, cv);
                }
                barrier(); // every thread has read carry and agg_* of this slice
                if (c == NC - 1u) carry[w * NKS * QL + k * QL + lane] = st;
            }
            // 4. Reduce over lanes, finish, write y.
#ifdef SUBGROUP
            uint len = T;
            [[unroll]] for (uint m = QL / 2u; m >= 1u; m >>= 1) {
                len >>= 1;
                bool upper = (lane & m) != 0u;
                [[unroll]] for (uint i = 0u; i < T / 2u; i++) {
                    if (i >= len) break;
                    float send = upper ? ysum[i] : ysum[i + len];
                    float keep = upper ? ysum[i + len] : ysum[i];
                    ysum[i] = keep + subgroupShuffleXor(send, m);
                }
            }
            // Lane holds the sums of steps c*T + lane*len + i, i < len.
            [[unroll]] for (uint i = 0u; i < T; i++) {
                if (i >= len) break;
                uint j = c * T + lane * len + i, t = t0 + j;
                if (!live || t >= pc.L) continue;
                float s = ysum[i];
                uint iu = ((b * pc.L + t) * pc.H + h) * pc.P + p;
                if ((pc.flags & F_D) != 0u) s += Dskip[pc.off_D + h] * u_s[w * TB + j];
                if (f_z) s *= silu_f(z_s[w * TB + j]);
                y[pc.off_y + iu] = s;
            }
#else
            [[unroll]] for (uint i = 0u; i < T; i++) ys[(w * QL + lane) * TB + c * T + i] = ysum[i];
            barrier();
            for (uint j = ctid; j < TB; j += cthreads) {
                uint t = t0 + j;
                if (!live || t >= pc.L) continue;
                float s = 0.0;
                for (uint l = 0u; l < QL; l++) s += ys[(w * QL + l) * TB + j];
                uint iu = ((b * pc.L + t) * pc.H + h) * pc.P + p;
                if ((pc.flags & F_D) != 0u) s += Dskip[pc.off_D + h] * u_s[w * TB + j];
                if (f_z) s *= silu_f(z_s[w * TB + j]);
                y[pc.off_y + iu] = s;
            }
#endif
            barrier();
        }
        if (c == 0u && live && (pc.flags & F_S1) != 0u)
            for (uint k = 0u; k < NKS; k++) {
                uint n0 = 4u * (lane + QL * k);
                vec4 s = carry[w * NKS * QL + k * QL + lane];
                [[unroll]] for (uint q = 0u; q < 4u; q++)
                    if (n0 + q < pc.N) state_out[pc.off_s1 + sbase + n0 + q] = s[q];
            }
        barrier();
    }
}
