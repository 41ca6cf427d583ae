/*
 * k_attention.cuh: what the attention kernel files share: the launch arguments
 * (one struct for every dtype; the kernels cast the pointers) and the tensor-core
 * launchers of k_attention_mma.cu, which k_attention.cu picks when they fit.
 */
#ifndef SSMRT_CUDA_K_ATTENTION_CUH
#define SSMRT_CUDA_K_ATTENTION_CUH

#include "common.cuh"

/* Rounds an f32 result to the output type. */
__device__ __forceinline__ void attn_store(float *p, float v) { *p = v; }
__device__ __forceinline__ void attn_store(__half *p, float v) { *p = __float2half_rn(v); }
__device__ __forceinline__ void attn_store(__nv_bfloat16 *p, float v) { *p = __float2bfloat16_rn(v); }

/* ---- tensor-core primitives (sm_80+; callers guard by __CUDA_ARCH__) -------- */

/* 16 bytes global -> shared without registers; src_bytes 0 zero-fills (rows past
 * the end of q, k or v). */
__device__ __forceinline__ void attn_cp16(uint32_t dst, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
                 "r"(src_bytes)
                 : "memory");
}
__device__ __forceinline__ void attn_cp_commit() {
    asm volatile("cp.async.commit_group;\n" ::: "memory");
}
template <int N> __device__ __forceinline__ void attn_cp_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

/* Four 8x8 b16 matrices; lane l gives the row address of matrix l / 8. Volatile:
 * the same address holds a new tile after each barrier. */
__device__ __forceinline__ void attn_ldsm4(uint32_t r[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
__device__ __forceinline__ void attn_ldsm4_t(uint32_t r[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

/* c += a (16x16, row) * b (16x8, col) with f32 accumulation. */
__device__ __forceinline__ void attn_mma(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1,
                                         __half) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ void attn_mma(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1,
                                         __nv_bfloat16) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* Two floats rounded to the 16-bit type, lo in the low half (the mma's column
 * order). */
__device__ __forceinline__ uint32_t attn_pack(float lo, float hi, __half) {
    __half2 h = __floats2half2_rn(lo, hi);
    return *(uint32_t *)&h;
}
__device__ __forceinline__ uint32_t attn_pack(float lo, float hi, __nv_bfloat16) {
    __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *(uint32_t *)&h;
}

/* Byte offset of 16-byte chunk c of row r in a tile of rows of CH chunks, the
 * chunk index XORed with r % 8: the 8 rows an ldmatrix reads at one logical
 * chunk then sit in 8 different bank groups. */
template <int CH> __device__ __forceinline__ uint32_t attn_swz(int r, int c) {
    return (uint32_t)(r * CH * 16 + ((c ^ (r & 7)) << 4));
}

/* The same for the fragment loads, split so that unrolled loops need few
 * registers: a lane's ldmatrix rows all have r % 8 == lane % 8 and chunk
 * 2 ks + hi (hi = 0 or 1 by lane); chunk bit 3 passes the XOR unchanged, so
 * the offset is an immediate (row, ks / 4) plus one of 4 per-lane values
 * x[ks % 4] = ((2 (ks % 4) + hi) ^ (lane % 8)) * 16. */
__device__ __forceinline__ void attn_swz_lane(uint32_t x[4], int lane, int hi) {
#pragma unroll
    for (int i = 0; i < 4; i++) x[i] = (uint32_t)(((2 * i + hi) ^ (lane & 7)) << 4);
}
template <int CH>
__device__ __forceinline__ uint32_t attn_frag(uint32_t base, int row, int ks, const uint32_t x[4]) {
    return base + (uint32_t)(row * CH * 16 + (ks >> 2) * 128) + x[ks & 3];
}

typedef struct attn_args {
    const void *q, *k, *v; /* f32, f16 or bf16, all three the same */
    void *y;               /* [B, Lq, Hq, Dv] contiguous, the same dtype */
    int64_t qs[4], ks[4], vs[4]; /* element strides of [B, L, H, D] */
    int64_t B, Lq, Lk, Hq, Hk, Dh, Dv;
    float scale2; /* scale * log2(e) */
} attn_args;

/* Tensor-core (mma.sync) flash attention for f16/bf16 prefill: whether it takes
 * these arguments (sm_80+, Dh == Dv in {64, 128}, unit stride along D, rows
 * 16-byte aligned), and its launch. */
int cuda_attention_mma_fits(const cuda_device *dev, const attn_args *a, uint32_t dtype);
int cuda_attention_mma_launch(cuda_device *dev, const attn_args *a, uint32_t dtype);
/* Split-KV tensor-core decode (few query rows per kv head, long caches). */
int cuda_attention_split_fits(const cuda_device *dev, const attn_args *a, uint32_t dtype);
int cuda_attention_split_launch(cuda_device *dev, const attn_args *a, uint32_t dtype);
/* Any head dim (k_attention_wide.cu), for those beyond 256. */
int cuda_attention_wide_launch(cuda_device *dev, const attn_args *a, uint32_t dtype);
/* Opt-in shared memory of the mma kernels (device_open, sm_80+ only). */
int cuda_attention_mma_setup(cuda_device *dev);
int cuda_attention_split_setup(cuda_device *dev);
/* Combines nsplit partials (m, l, o[dp]) per row of y (k_attention.cu):
 * y[row, :Dv] = sum_s 2^(m_s - M) o_s / sum_s 2^(m_s - M) l_s. */
int cuda_attention_merge_launch(cuda_device *dev, const float *part, void *y, uint32_t dtype,
                                int64_t rows, int nsplit, int dp, int64_t Dv);

#endif /* SSMRT_CUDA_K_ATTENTION_CUH */
