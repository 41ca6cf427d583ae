#version 450
// MATMUL with f16 weights on tensor cores through VK_NV_cooperative_matrix:
// y[m, n] = sum_k f16(x[m, k]) * w[n, k] (+ bias[n]), accumulated in f32. Rounding x
// to the weight's precision is within the tolerance the conformance suite grants
// 16-bit weights (3 units of f16 rounding relative to rms(y)).
//
// A workgroup of 8 subgroups of 32 (the host uses this kernel only where the
// subgroup size is 32) computes a 128 x 128 tile of y, each subgroup 32 rows x 64
// columns as 2 x 4 fragments of 16 x 16. K is walked in slices of 32, staged in
// shared memory as f16 (x converted on the way), zero outside the matrix, so
// fragments need no bounds logic. The staging is double-buffered and the next
// slice's global loads (16-byte x, 8-byte w, four of each per invocation) are in
// flight during this slice's multiplies, so a slice costs one barrier. The host
// uses it where x rows are 16-byte and w rows 8-byte aligned (K % 4 == 0, aligned
// offsets). H100, M = 512, N = 8192, K = 2048: the earlier 64 x 64 tile, staged
// element by element with a barrier either side of each slice, ran at 11-15
// TFLOP/s, below the f32 SIMT kernel (25).
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define STORAGE16
#include "common.glsl"

const uint BM = 128u, BN = 128u, BK = 32u;
const uint NTH = 256u;
// Staged tiles are arrays of uvec2, four f16 each (coopMatLoadNV takes integer
// arrays as raw memory, offsets and strides in their elements; not f16vec4).
const uint SA = (BK + 8u) / 4u;   // uvec2 per staged row: 80 bytes, a multiple of 16
const uint TILE = BM * SA;        // uvec2 of one staged tile (BM == BN)
const uint V4 = BM * BK / 4u / NTH; // 4-vectors of x (and of w) staged per invocation

layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer W16 { uvec2 w4[]; };  // four f16 each
layout(std430, binding = 2) readonly buffer Bi { float bias[]; };
layout(std430, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform PC {
    uint off_x, off_w, off_b, off_y; // element offsets: x, w multiples of 4 (host)
    uint M, N, K;                    // K % 4 == 0 (host)
    uint has_bias;
    uint ldy; // row stride of y (N, or the full N when a column chunk runs)
} pc;

shared uvec2 xs[2u * TILE];
shared uvec2 ws[2u * TILE];
shared float ysh[8u * 16u * 16u]; // a 16 x 16 result fragment per subgroup

void main() {
    uint tid = gl_LocalInvocationID.x;
    uint sg = gl_SubgroupID;                   // 0..7
    uint sm = (sg >> 1) * 32u, sn = (sg & 1u) * 64u;
    uint n0 = gl_WorkGroupID.x * BN, m0 = gl_WorkGroupID.y * BM;
    uint k4 = pc.K / 4u;

    fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[2][4];
    [[unroll]] for (uint i = 0u; i < 2u; i++)
        [[unroll]] for (uint j = 0u; j < 4u; j++) acc[i][j] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);

    // Invocation tid stages 4-vectors e = tid + i NTH: row e / 8, columns 4 (e % 8).
    vec4 rx[V4];
    uvec2 rw[V4];
    uint xb = pc.off_x / 4u, wb = pc.off_w / 4u;
#define LOAD_SLICE(k0)                                                                      \
    [[unroll]] for (uint i = 0u; i < V4; i++) {                                             \
        uint e = tid + i * NTH, row = e >> 3, c = (k0) / 4u + (e & 7u);                     \
        rx[i] = (m0 + row < pc.M && c < k4) ? x4[xb + (m0 + row) * k4 + c] : vec4(0.0);     \
        rw[i] = (n0 + row < pc.N && c < k4) ? w4[wb + (n0 + row) * k4 + c] : uvec2(0u);     \
    }

    LOAD_SLICE(0u)
    uint buf = 0u;
    for (uint k0 = 0u; k0 < pc.K; k0 += BK) {
        // This buffer was last read two slices ago: every invocation has since
        // passed the barrier below, so one barrier per slice suffices.
        [[unroll]] for (uint i = 0u; i < V4; i++) {
            uint e = tid + i * NTH, at = buf + (e >> 3) * SA + (e & 7u);
            xs[at] = uvec2(packFloat2x16(f16vec2(rx[i].xy)), packFloat2x16(f16vec2(rx[i].zw)));
            ws[at] = rw[i];
        }
        barrier();
        if (k0 + BK < pc.K) { LOAD_SLICE(k0 + BK) }
        [[unroll]] for (uint kk = 0u; kk < BK / 4u; kk += 4u) {
            fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> fa[2], fb[4];
            [[unroll]] for (uint i = 0u; i < 2u; i++)
                coopMatLoadNV(fa[i], xs, buf + (sm + 16u * i) * SA + kk, SA, false);
            // w is [N, K] row-major, so w^T (K x N) is column-major with stride SA.
            [[unroll]] for (uint j = 0u; j < 4u; j++)
                coopMatLoadNV(fb[j], ws, buf + (sn + 16u * j) * SA + kk, SA, true);
            [[unroll]] for (uint i = 0u; i < 2u; i++)
                [[unroll]] for (uint j = 0u; j < 4u; j++) acc[i][j] = coopMatMulAddNV(fa[i], fb[j], acc[i][j]);
        }
        buf ^= TILE;
    }

    // Each fragment through this subgroup's 16 x 16 of shared memory, so the bias
    // and the edge checks are applied per element.
    uint lane = gl_SubgroupInvocationID, yo = sg * 256u;
    [[unroll]] for (uint i = 0u; i < 2u; i++)
        [[unroll]] for (uint j = 0u; j < 4u; j++) {
            coopMatStoreNV(acc[i][j], ysh, yo, 16u, false);
            subgroupMemoryBarrierShared();
            subgroupBarrier();
            [[unroll]] for (uint r = 0u; r < 8u; r++) {
                uint e = lane + 32u * r, row = e >> 4, col = e & 15u;
                uint m = m0 + sm + 16u * i + row, n = n0 + sn + 16u * j + col;
                if (m < pc.M && n < pc.N) {
                    float v = ysh[yo + e];
                    if (pc.has_bias != 0u) v += bias[pc.off_b + n];
                    y[pc.off_y + m * pc.ldy + n] = v;
                }
            }
            subgroupMemoryBarrierShared();
            subgroupBarrier();
        }
}
