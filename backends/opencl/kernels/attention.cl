/* attention.cl: causal scaled dot-product attention with grouped-query heads and
 * online (flash-style) softmax: per query a running max m, running sum l and an
 * unnormalised output; no Lq x Lk matrix exists.
 *
 * q [B, Lq, Hq, Dh], k and v [B, Lk, Hk, Dh] with element strides (x: batch,
 * y: position, z: head, w: dim); o [B, Lq, Hq, Dh] contiguous. Query i sits at
 * position Lk - Lq + i and attends keys 0 ..= that position; query head h reads kv
 * head h / (Hq / Hk).
 *
 * q, k, v and o share the dtype the host selects with -DATT_DTYPE (0 f32, 1 f16,
 * 2 bf16). LOAD gives the stored value as f32 (exact), all arithmetic is f32 and
 * STORE rounds the final value once, to nearest even. f16 goes through vload_half
 * and vstore_half_rte, core OpenCL C that needs no cl_khr_fp16 (half pointers are
 * only passed to them, never dereferenced or offset); bf16 is bit manipulation.
 * Tensors are addressed by element indices from their base pointer for that reason. */

#ifndef ATT_DTYPE
#define ATT_DTYPE 0
#endif
#if ATT_DTYPE == 1
#define ATT_T half
#define LOAD(p, i) vload_half((size_t)(i), (p))
#define STORE(p, i, x) vstore_half_rte((x), (size_t)(i), (p))
#elif ATT_DTYPE == 2
#define ATT_T ushort
#define LOAD(p, i) bf16_to_f32((p)[(i)])
#define STORE(p, i, x) ((p)[(i)] = f32_to_bf16(x))
#else
#define ATT_T float
#define LOAD(p, i) ((p)[(i)])
#define STORE(p, i, x) ((p)[(i)] = (x))
#endif

#ifndef DHV
#define DHV 64 /* head dim rounded up; the accumulator lives in registers */
#endif
#ifndef BK
#define BK 16 /* keys per local-memory tile */
#endif
#define GC 32 /* output dims per pass of attention_generic's 16-bit form */

/* One work-item per query; the work-group's queries share K/V tiles staged in
 * local memory. Dims past Dh are zero in q and the tiles, so they add nothing. The
 * queries also sit in local memory (ql, DHV x wg, transposed so neighbours read
 * neighbouring banks), leaving the registers to the accumulator. */
__kernel void attention_tiled(__global ATT_T *o, long o_off, __global const ATT_T *q,
                              long q_off, long4 qs, __global const ATT_T *k, long k_off,
                              long4 ks, __global const ATT_T *v, long v_off, long4 vs,
                              int Lq, int Lk, int Hq, int Hk, int Dh, float scale,
                              __local float *kt, __local float *vt, __local float *ql)
{
    int lid = get_local_id(0), wg = get_local_size(0);
    int i = get_group_id(0) * wg + lid;
    int hq = get_group_id(1);
    long b = get_group_id(2);
    int hk = hq / (Hq / Hk);
    int active = i < Lq;
    int pos = Lk - Lq + i;
    int last_q = min((int)(get_group_id(0) + 1) * wg, Lq) - 1;
    int kend = Lk - Lq + last_q + 1; /* keys any query of the group needs */
    float acc[DHV];
#pragma unroll
    for (int d = 0; d < DHV; d++) {
        ql[d * wg + lid] =
            active && d < Dh ? LOAD(q, q_off + b * qs.x + i * qs.y + hq * qs.z + d * qs.w) * scale
                             : 0.0f;
        acc[d] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    long kbase = k_off + b * ks.x + hk * ks.z, vbase = v_off + b * vs.x + hk * vs.z;
    for (int j0 = 0; j0 < kend; j0 += BK) {
        for (int idx = lid; idx < BK * DHV; idx += wg) {
            int jj = idx / DHV, d = idx % DHV, j = j0 + jj;
            int ok = j < kend && d < Dh;
            kt[idx] = ok ? LOAD(k, kbase + j * ks.y + d * ks.w) : 0.0f;
            vt[idx] = ok ? LOAD(v, vbase + j * vs.y + d * vs.w) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE); /* also orders the ql stores before their loads */
        if (active) {
            int jn = min(BK, pos - j0 + 1);
            for (int jj = 0; jj < jn; jj++) {
                float s = 0.0f;
                for (int d = 0; d < DHV; d++)
                    s = fma(ql[d * wg + lid], kt[jj * DHV + d], s);
                float mn = fmax(m, s);
                float corr = exp(m - mn); /* 0 for the first key (m = -inf) */
                float p = exp(s - mn);
                l = fma(l, corr, p);
#pragma unroll
                for (int d = 0; d < DHV; d++)
                    acc[d] = fma(p, vt[jj * DHV + d], acc[d] * corr);
                m = mn;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (active) {
        float inv = 1.0f / l;
        long obase = o_off + ((b * Lq + i) * Hq + hq) * Dh;
#pragma unroll
        for (int d = 0; d < DHV; d++)
            if (d < Dh)
                STORE(o, obase + d, acc[d] * inv);
    }
}

/* Few queries (decode): one work-group per query, its work-items splitting the keys
 * (key j goes to work-item j mod wg), each with its own running max, sum and
 * accumulator; the partial softmaxes are then merged: with M the largest max, each
 * part is scaled by exp(m_w - M). The query, the same for the whole group, sits in
 * local memory (ql, DHV floats, read as a broadcast), which leaves the registers
 * to the accumulator. red holds wg * DHV floats. */
__kernel void attention_split(__global ATT_T *o, long o_off, __global const ATT_T *q,
                              long q_off, long4 qs, __global const ATT_T *k, long k_off,
                              long4 ks, __global const ATT_T *v, long v_off, long4 vs,
                              int Lq, int Lk, int Hq, int Hk, int Dh, float scale,
                              __local float *red, __local float *ql)
{
    int lid = get_local_id(0), wg = get_local_size(0);
    int i = get_group_id(0), hq = get_group_id(1);
    long b = get_group_id(2);
    int hk = hq / (Hq / Hk);
    int pos = Lk - Lq + i;
    for (int d = lid; d < DHV; d += wg)
        ql[d] = d < Dh ? LOAD(q, q_off + b * qs.x + i * qs.y + hq * qs.z + d * qs.w) * scale : 0.0f;
    barrier(CLK_LOCAL_MEM_FENCE);
    float acc[DHV];
#pragma unroll
    for (int d = 0; d < DHV; d++)
        acc[d] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    long kbase = k_off + b * ks.x + hk * ks.z, vbase = v_off + b * vs.x + hk * vs.z;
    for (int j = lid; j <= pos; j += wg) {
        long kr = kbase + j * ks.y, vr = vbase + j * vs.y;
        float s = 0.0f;
        for (int d = 0; d < Dh; d++)
            s = fma(ql[d], LOAD(k, kr + d * ks.w), s);
        float mn = fmax(m, s);
        float corr = exp(m - mn), p = exp(s - mn);
        l = fma(l, corr, p);
#pragma unroll
        for (int d = 0; d < DHV; d++)
            acc[d] = fma(p, d < Dh ? LOAD(v, vr + d * vs.w) : 0.0f, acc[d] * corr);
        m = mn;
    }
    float M = wg_max(m, red);
    float f = m == -INFINITY ? 0.0f : exp(m - M); /* work-items that saw no key */
    float total = wg_sum(l * f, red);
#pragma unroll
    for (int d = 0; d < DHV; d++)
        red[d * wg + lid] = acc[d] * f;
    barrier(CLK_LOCAL_MEM_FENCE);
    long obase = o_off + ((b * Lq + i) * Hq + hq) * Dh;
    for (int d = lid; d < Dh; d += wg) {
        float s = 0.0f;
        for (int w = 0; w < wg; w++)
            s += red[d * wg + w];
        STORE(o, obase + d, s / total);
    }
}

/* Any head dim: q read from global memory. An f32 output row, which this
 * work-item alone owns, holds the accumulator (memory stays O(L)). A 16-bit one
 * cannot (each step would round it), so then the row is done GC dims at a time with
 * the accumulator in registers, recomputing the scores per pass: this kernel only
 * serves head dims above 256, where that costs Dh / GC times the score work. */
__kernel void attention_generic(__global ATT_T *o, long o_off, __global const ATT_T *q,
                                long q_off, long4 qs, __global const ATT_T *k, long k_off,
                                long4 ks, __global const ATT_T *v, long v_off, long4 vs,
                                int Lq, int Lk, int Hq, int Hk, int Dh, float scale)
{
    int i = get_global_id(0), hq = get_global_id(1);
    long b = get_global_id(2);
    if (i >= Lq)
        return;
    int hk = hq / (Hq / Hk);
    int pos = Lk - Lq + i;
    long qbase = q_off + b * qs.x + i * qs.y + hq * qs.z;
    long kbase = k_off + b * ks.x + hk * ks.z, vbase = v_off + b * vs.x + hk * vs.z;
    long obase = o_off + ((b * Lq + i) * Hq + hq) * Dh;
#if ATT_DTYPE == 0
    for (int d = 0; d < Dh; d++)
        o[obase + d] = 0.0f;
    float m = -INFINITY, l = 0.0f;
    for (int j = 0; j <= pos; j++) {
        float s = 0.0f;
        for (int d = 0; d < Dh; d++)
            s = fma(q[qbase + d * qs.w], k[kbase + j * ks.y + d * ks.w], s);
        s *= scale;
        float mn = fmax(m, s);
        float corr = exp(m - mn), p = exp(s - mn);
        l = fma(l, corr, p);
        for (int d = 0; d < Dh; d++)
            o[obase + d] = fma(p, v[vbase + j * vs.y + d * vs.w], o[obase + d] * corr);
        m = mn;
    }
    float inv = 1.0f / l;
    for (int d = 0; d < Dh; d++)
        o[obase + d] *= inv;
#else
    for (int d0 = 0; d0 < Dh; d0 += GC) {
        float acc[GC];
        for (int c = 0; c < GC; c++)
            acc[c] = 0.0f;
        float m = -INFINITY, l = 0.0f;
        for (int j = 0; j <= pos; j++) {
            float s = 0.0f;
            for (int d = 0; d < Dh; d++)
                s = fma(LOAD(q, qbase + d * qs.w), LOAD(k, kbase + j * ks.y + d * ks.w), s);
            s *= scale;
            float mn = fmax(m, s);
            float corr = exp(m - mn), p = exp(s - mn);
            l = fma(l, corr, p);
            for (int c = 0; c < GC; c++)
                acc[c] = fma(p, d0 + c < Dh ? LOAD(v, vbase + j * vs.y + (d0 + c) * vs.w) : 0.0f,
                             acc[c] * corr);
            m = mn;
        }
        float inv = 1.0f / l;
        for (int c = 0; c < GC && d0 + c < Dh; c++)
            STORE(o, obase + d0 + c, acc[c] * inv);
    }
#endif
}
