#version 450
// MATMUL: y[m, n] = sum_k x[m, k] * w[n, k] (+ bias[n]); x f32 [M, K], w [N, K] in
// WT (specialization constant 3: f32, f16 or bf16), y f32 [M, N].
// Tiled: a 16x8 workgroup computes a 64x64 tile of y, each thread 8x4 outputs
// (rows ty + 8 i, columns tx + 16 j, so shared-memory reads are conflict-free),
// stepping over K in slices of 16 staged in shared memory. 128 threads, not 256:
// lavapipe runs 256-thread workgroups with barriers an order of magnitude slower.
#include "common.glsl"

layout(constant_id = 3) const uint WT = 0;

const uint BM = 64u, BN = 64u, BK = 16u, TM = 8u, TN = 4u; // local size 16 x 8

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W32 { uint w32[]; };
#ifdef STORAGE16
layout(std430, binding = 1) readonly buffer W16 { uint16_t w16[]; };
#endif
layout(std430, binding = 2) readonly buffer Bi { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_x, off_w, off_b, off_y;
    uint M, N, K;
    uint has_bias;
    uint ldy; // row stride of y (N, or the full N when a column chunk runs)
} pc;

float load_w(uint i) {
    if (WT == DT_F32) return uintBitsToFloat(w32[i]);
#ifdef STORAGE16
    uint h = uint(w16[i]);
#else
    uint h = (w32[i >> 1] >> ((i & 1u) * 16u)) & 0xFFFFu;
#endif
    return half_to_f32(h, WT);
}

shared float xs[BK][BM + 1u];
shared float ws[BK][BN + 1u];

void main() {
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = ty * 16u + tx;
    uint n0 = gl_WorkGroupID.x * BN, m0 = gl_WorkGroupID.y * BM;
    float acc[TM][TN];
    [[unroll]] for (uint i = 0u; i < TM; i++)
        [[unroll]] for (uint j = 0u; j < TN; j++) acc[i][j] = 0.0;

    for (uint k0 = 0u; k0 < pc.K; k0 += BK) {
        // Stage a 64x16 slice of x and of w: 1024 elements each, 8 per thread,
        // consecutive threads on consecutive k.
        [[unroll]] for (uint r = 0u; r < 8u; r++) {
            uint e = tid + 128u * r;
            uint row = e / BK, kk = e % BK;
            uint m = m0 + row, n = n0 + row, k = k0 + kk;
            xs[kk][row] = (m < pc.M && k < pc.K) ? x[pc.off_x + m * pc.K + k] : 0.0;
            ws[kk][row] = (n < pc.N && k < pc.K) ? load_w(pc.off_w + n * pc.K + k) : 0.0;
        }
        barrier();
        [[unroll]] for (uint kk = 0u; kk < BK; kk++) {
            float a[TM], b[TN];
            [[unroll]] for (uint i = 0u; i < TM; i++) a[i] = xs[kk][ty + 8u * i];
            [[unroll]] for (uint j = 0u; j < TN; j++) b[j] = ws[kk][tx + 16u * j];
            [[unroll]] for (uint i = 0u; i < TM; i++)
                [[unroll]] for (uint j = 0u; j < TN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier();
    }
    [[unroll]] for (uint i = 0u; i < TM; i++) {
        uint m = m0 + ty + 8u * i;
        if (m >= pc.M) continue;
        [[unroll]] for (uint j = 0u; j < TN; j++) {
            uint n = n0 + tx + 16u * j;
            if (n >= pc.N) continue;
            float v = acc[i][j];
            if (pc.has_bias != 0u) v += bias[pc.off_b + n];
            y[pc.off_y + m * pc.ldy + n] = v;
        }
    }
}
