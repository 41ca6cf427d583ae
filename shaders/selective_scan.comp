#version 450
// SELECTIVE_SCAN (Mamba-1 and Mamba-2), see ssmrt.h for the recurrence:
//   s[n] = exp(dt * a[n]) * s[n] + dt * B[t, n] * u[t];  y[t] = sum_n s[n] C[t, n] + D u[t]
//
// One workgroup per channel (b, h, p), looped by workgroup stride. Its NL x NC
// threads are NL state lanes (n = lane + NL*k, k < NK) by NC time chunks of T
// steps. The workgroup marches over time in blocks of NC*T steps:
//   1. dt (bias, softplus) and dt*u of the block are computed once per step into
//      shared memory (not once per state).
//   2. Each thread scans its chunk from a zero state, keeping dA and dt*B*u of its
//      T steps in registers, and publishes the chunk's aggregate (prod dA, state).
//   3. Chunk carries are combined with the associative operator
//      (a1, b1) o (a2, b2) = (a1 a2, a2 b1 + b2) starting from the block's carry;
//      each thread replays its T steps from its true initial state (no second
//      exp), accumulating y[t] partial sums over its states.
//   4. The partial sums are reduced over the NL lanes in shared memory, D*u and
//      the silu(z) gate are applied, y is written; the last chunk's state becomes
//      the carry of the next block.
// Specialization constants: 3 NL (= local size x, a power of two), 4 NC (= local
// size y), 5 NK (state slices per lane: ceil(N / NL)).
#include "common.glsl"

layout(constant_id = 3) const uint NL = 16;
layout(constant_id = 4) const uint NC = 16;
layout(constant_id = 5) const uint NK = 1;
#define T 8u

layout(std430, binding = 0) readonly buffer U { float u[]; };
layout(std430, binding = 1) readonly buffer Dl { float delta[]; };
layout(std430, binding = 2) readonly buffer Am { float A[]; };
layout(std430, binding = 3) readonly buffer Bm { float Bv[]; };
layout(std430, binding = 4) readonly buffer Cm { float Cv[]; };
layout(std430, binding = 5) readonly buffer Ds { float Dskip[]; };
layout(std430, binding = 6) readonly buffer Z { float z[]; };
layout(std430, binding = 7) readonly buffer DB { float dbias[]; };
layout(std430, binding = 8) readonly buffer S0 { float state_in[]; };
layout(std430, binding = 9) writeonly buffer Y { float y[]; };
layout(std430, binding = 10) writeonly buffer S1 { float state_out[]; };

layout(push_constant) uniform PC {
    uint off_u, off_delta, off_A, off_B, off_C, off_D, off_z, off_bias, off_s0, off_y, off_s1;
    uint Bsz, L, H, P, N, G;
    uint flags; // 1 D, 2 z, 4 delta_bias, 8 state in, 16 state out, 32 softplus, 64 A per head
} pc;

const uint F_D = 1u, F_Z = 2u, F_BIAS = 4u, F_S0 = 8u, F_S1 = 16u, F_SOFTPLUS = 32u, F_AHEAD = 64u;

shared float dt_s[NC * T];
shared float du_s[NC * T];
shared float agg_a[NC * NL];
shared float agg_b[NC * NL];
shared float ys[NC * T * NL];
shared float carry[NL * NK];

void main() {
    uint lane = gl_LocalInvocationID.x, c = gl_LocalInvocationID.y;
    uint tid = c * NL + lane, nthreads = NL * NC;
    uint TB = NC * T;
    uint channels = pc.Bsz * pc.H * pc.P;
    uint heads_per_group = pc.H / pc.G;

    for (uint ch = gl_WorkGroupID.x; ch < channels; ch += gl_NumWorkGroups.x) {
        uint p = ch % pc.P, h = (ch / pc.P) % pc.H, b = ch / (pc.P * pc.H);
        uint g = h / heads_per_group;
        uint sbase = ch * pc.N; // state [B, H, P, N]: ch = (b*H + h)*P + p
        if (c == 0u)
            for (uint k = 0u; k < NK; k++) {
                uint n = lane + NL * k;
                carry[n] = (n < pc.N && (pc.flags & F_S0) != 0u) ? state_in[pc.off_s0 + sbase + n] : 0.0;
            }
        float dbv = (pc.flags & F_BIAS) != 0u ? dbias[pc.off_bias + h] : 0.0;
        float dskip = (pc.flags & F_D) != 0u ? Dskip[pc.off_D + h] : 0.0;
        barrier();

        for (uint t0 = 0u; t0 < pc.L; t0 += TB) {
            // 1. dt and dt*u of the block.
            for (uint j = tid; j < TB; j += nthreads) {
                uint t = t0 + j;
                float dt = 0.0, du = 0.0;
                if (t < pc.L) {
                    uint bl = b * pc.L + t;
                    dt = delta[pc.off_delta + bl * pc.H + h] + dbv;
                    if ((pc.flags & F_SOFTPLUS) != 0u) dt = softplus_f(dt);
                    du = dt * u[pc.off_u + (bl * pc.H + h) * pc.P + p];
                }
                dt_s[j] = dt;
                du_s[j] = du;
            }
            barrier();

            float ysum[T];
            [[unroll]] for (uint i = 0u; i < T; i++) ysum[i] = 0.0;
            for (uint k = 0u; k < NK; k++) {
                uint n = lane + NL * k;
                bool valid = n < pc.N;
                float a = 0.0;
                if (valid) a = A[pc.off_A + ((pc.flags & F_AHEAD) != 0u ? h : h * pc.N + n)];
                // 2. Local scan of the chunk from zero.
                float dA[T], dBu[T];
                float pa = 1.0, hs = 0.0;
                [[unroll]] for (uint i = 0u; i < T; i++) {
                    uint j = c * T + i, t = t0 + j;
                    dA[i] = 1.0;
                    dBu[i] = 0.0;
                    if (valid && t < pc.L) {
                        dA[i] = exp(dt_s[j] * a);
                        dBu[i] = du_s[j] * Bv[pc.off_B + ((b * pc.L + t) * pc.G + g) * pc.N + n];
                    }
                    hs = dA[i] * hs + dBu[i];
                    pa *= dA[i];
                }
                agg_a[c * NL + lane] = pa;
                agg_b[c * NL + lane] = hs;
                barrier();
                // 3. The chunk's true initial state, then replay and accumulate y.
                float st = carry[n];
                for (uint q = 0u; q < c; q++) st = agg_a[q * NL + lane] * st + agg_b[q * NL + lane];
                [[unroll]] for (uint i = 0u; i < T; i++) {
                    uint t = t0 + c * T + i;
                    st = dA[i] * st + dBu[i];
                    if (valid && t < pc.L)
                        ysum[i] += st * Cv[pc.off_C + ((b * pc.L + t) * pc.G + g) * pc.N + n];
                }
                barrier(); // every thread has read carry and agg_* of this slice
                if (c == NC - 1u && valid) carry[n] = st;
            }
            // 4. Reduce over lanes, finish and write y.
            [[unroll]] for (uint i = 0u; i < T; i++) ys[(c * T + i) * NL + lane] = ysum[i];
            barrier();
            for (uint j = tid; j < TB; j += nthreads) {
                uint t = t0 + j;
                if (t >= pc.L) continue;
                float s = 0.0;
                for (uint l = 0u; l < NL; l++) s += ys[j * NL + l];
                uint iu = ((b * pc.L + t) * pc.H + h) * pc.P + p;
                float uv = u[pc.off_u + iu];
                s += dskip * uv;
                if ((pc.flags & F_Z) != 0u) s *= silu_f(z[pc.off_z + iu]);
                y[pc.off_y + iu] = s;
            }
            barrier();
        }
        if (c == 0u && (pc.flags & F_S1) != 0u)
            for (uint k = 0u; k < NK; k++) {
                uint n = lane + NL * k;
                if (n < pc.N) state_out[pc.off_s1 + sbase + n] = carry[n];
            }
        barrier();
    }
}
