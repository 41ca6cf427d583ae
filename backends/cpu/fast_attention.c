/*
 * fast_attention.c: f32 causal grouped-query ATTENTION with online (flash-style)
 * softmax: no Lq x Lk matrix ever exists.
 *
 * A task is (batch row, kv head, block of queries) and holds the rows of every
 * query head of the group (Hq / Hk heads read the same keys), about QB rows in
 * all, so each block of KB keys is gathered once for all of them. Keys and
 * values are visited in blocks of KB rows, which stay in cache while every row
 * of the task uses them (keys transposed, so scores come 8 at a time); per row
 * the running max m, running sum l and the unnormalised output acc are rescaled
 * by exp(m_old - m_new) whenever the max grows. Memory per task is
 * O(rows * (Dh + Dv) + KB * (Dh + Dv)).
 *
 * q, k and v may be strided (a prefix of a longer KV cache, a permuted view): an
 * f32 q or v row with unit stride in its last dim is read in place, any other is
 * gathered; k is gathered into the transposed block either way.
 *
 * q, k, v and y share one dtype (f32, f16 or bf16). The same kernel serves all
 * three: every row goes through row_of, which converts f16/bf16 to f32 exactly as
 * it gathers (the loads are the only dtype-specific part), all arithmetic is f32,
 * and a 16-bit output row is rounded once from the final f32 values.
 */
#include <stdlib.h>

#include "fast_convert.h"
#include "fast_kernels.h"
#include "fast_math.h"

#define QB 16 /* rows (query x head of the group) per task, about */
#define KB 64

/* One strided [B, T, H, n] input: base, element strides, dtype. */
typedef struct attn_src {
    const void *base;
    int64_t s[4];
    uint32_t dtype;
} attn_src;

typedef struct attn_args {
    attn_src q, k, v;
    void *y;
    uint32_t dtype; /* of y (and of q, k, v) */
    cpu_attn_dims d;
    float scale;
} attn_args;

/* Element i of a row of dtype dt, as f32 (exact: f32 holds every f16/bf16). */
static inline float elem_f32(uint32_t dt, const void *row, int64_t i) {
    if (dt == SSMRT_F16) return cpu_f16_to_f32(((const uint16_t *)row)[i]);
    if (dt == SSMRT_BF16) return cpu_bf16_to_f32(((const uint16_t *)row)[i]);
    return ((const float *)row)[i];
}

/* Row (b, t, h) of x as f32: in place for a unit-stride f32 row, otherwise
 * converted (vectorised when the row is unit-stride) or gathered into buf. */
static const float *row_of(const attn_src *x, int64_t b, int64_t t, int64_t h, int64_t n, float *buf) {
    const int64_t *s = x->s;
    int64_t off = b * s[0] + t * s[1] + h * s[2];
    size_t esz = x->dtype == SSMRT_F32 ? 4 : 2;
    const void *r = (const char *)x->base + (size_t)off * esz;
    if (s[3] == 1) {
        if (x->dtype == SSMRT_F32) return r;
        fast_row_to_f32(x->dtype, r, buf, n);
        return buf;
    }
    for (int64_t e = 0; e < n; e++) buf[e] = elem_f32(x->dtype, r, e * s[3]);
    return buf;
}

/* Scores of one query against a block of KB keys held transposed (kt[e * KB + j]):
 * broadcasting q[e] against a row of 8 keys accumulates 8 scores per multiply-
 * add with no horizontal sums. Keys past the block's end are zero columns. */
static void scores_block(const float *q, const float *kt, int64_t Dh, float *s) {
    v8f acc[KB / 8];
    for (int c = 0; c < KB / 8; c++) acc[c] = v8_set1(0.0f);
    for (int64_t e = 0; e < Dh; e++) {
        v8f qe = v8_set1(q[e]);
        for (int c = 0; c < KB / 8; c++) acc[c] += qe * v8_load(kt + e * KB + 8 * c);
    }
    for (int c = 0; c < KB / 8; c++) v8_store(s + 8 * c, acc[c]);
}

/* Online-softmax update of one query with n scores s[] against value rows vr[]. */
static void attn_update(float *s, int64_t n, const float *const *vr, int64_t Dv, float *m,
                        float *l, float *acc) {
    float bm = s[0];
    for (int64_t j = 1; j < n; j++) bm = s[j] > bm ? s[j] : bm;
    float mn = bm > *m ? bm : *m;
    float corr = s_exp(*m - mn); /* 0 on the first block, where *m = -inf */
    v8f vmn = v8_set1(mn), vsum = v8_set1(0.0f);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        v8f p = v8_exp(v8_load(s + j) - vmn);
        v8_store(s + j, p);
        vsum += p;
    }
    float sum = v8_hsum(vsum);
    for (; j < n; j++) sum += (s[j] = s_exp(s[j] - mn));
    *l = *l * corr + sum;
    *m = mn;
    /* acc = acc * corr + sum_j p_j v_j, 64 columns at a time held in registers. */
    v8f vc = v8_set1(corr);
    int64_t e0 = 0;
    for (; e0 + 64 <= Dv; e0 += 64) {
        v8f r[8];
        for (int c = 0; c < 8; c++) r[c] = v8_load(acc + e0 + 8 * c) * vc;
        for (j = 0; j < n; j++) {
            v8f p = v8_set1(s[j]);
            const float *v = vr[j] + e0;
            for (int c = 0; c < 8; c++) r[c] += p * v8_load(v + 8 * c);
        }
        for (int c = 0; c < 8; c++) v8_store(acc + e0 + 8 * c, r[c]);
    }
    for (int64_t e = e0; e < Dv; e++) acc[e] *= corr;
    for (j = 0; j < n && e0 < Dv; j++) {
        const float *v = vr[j];
        float p = s[j];
        for (int64_t e = e0; e < Dv; e++) acc[e] += p * v[e];
    }
}

/* Queries [i0, i1) of all query heads of kv head kh; row r is query i0 + r / G
 * of head kh * G + r % G (G = Hq / Hk). */
static int attn_task(const attn_args *a, int64_t b, int64_t kh, int64_t i0, int64_t i1) {
    const cpu_attn_dims *d = &a->d;
    const int64_t Dh = d->Dh, Dv = d->Dv, G = d->Hq / d->Hk, off = d->Lk - d->Lq;
    const int64_t R = (i1 - i0) * G;
    /* Row pointers first (so they are aligned), then the float buffers. */
    const int64_t W = Dh > Dv ? Dh : Dv; /* one key row, or one output row */
    const float **vr = malloc(sizeof(float *) * KB +
                              sizeof(float) * (size_t)(R * (Dh + Dv + 2) + KB * (Dh + Dv + 1) + W));
    if (!vr) return -1;
    float *qb = (float *)(vr + KB), *acc = qb + R * Dh, *m = acc + R * Dv, *l = m + R;
    float *kt = l + R, *vbuf = kt + KB * Dh, *s = vbuf + KB * Dv, *row = s + KB;
    for (int64_t r = 0; r < R; r++) {
        const float *qr = row_of(&a->q, b, i0 + r / G, kh * G + r % G, Dh, qb + r * Dh);
        for (int64_t e = 0; e < Dh; e++) qb[r * Dh + e] = qr[e] * a->scale;
        for (int64_t e = 0; e < Dv; e++) acc[r * Dv + e] = 0.0f;
        m[r] = -__builtin_inff();
        l[r] = 0.0f;
    }
    int64_t jend = off + i1; /* keys [0, jend) are seen by the last query */
    for (int64_t j0 = 0; j0 < jend; j0 += KB) {
        int64_t j1 = j0 + KB < jend ? j0 + KB : jend;
        /* The block's keys transposed once for all rows; its value rows are read
         * in place (or gathered when strided). */
        for (int64_t j = j0; j < j0 + KB; j++) {
            if (j < j1) {
                const float *kr = row_of(&a->k, b, j, kh, Dh, row);
                for (int64_t e = 0; e < Dh; e++) kt[e * KB + (j - j0)] = kr[e];
                vr[j - j0] = row_of(&a->v, b, j, kh, Dv, vbuf + (j - j0) * Dv);
            } else {
                for (int64_t e = 0; e < Dh; e++) kt[e * KB + (j - j0)] = 0.0f;
            }
        }
        for (int64_t r = 0; r < R; r++) {
            int64_t lim = off + i0 + r / G + 1; /* the row's query sees keys [0, lim) */
            int64_t n = (lim < j1 ? lim : j1) - j0;
            if (n <= 0) continue;
            scores_block(qb + r * Dh, kt, Dh, s);
            attn_update(s, n, vr, Dv, &m[r], &l[r], acc + r * Dv);
        }
    }
    for (int64_t r = 0; r < R; r++) {
        int64_t yoff = ((b * d->Lq + i0 + r / G) * d->Hq + kh * G + r % G) * Dv;
        float inv = 1.0f / l[r];
        float *yr = a->dtype == SSMRT_F32 ? (float *)a->y + yoff : row;
        for (int64_t e = 0; e < Dv; e++) yr[e] = acc[r * Dv + e] * inv;
        if (a->dtype == SSMRT_F16) fast_f32_to_f16(row, (uint16_t *)a->y + yoff, Dv);
        if (a->dtype == SSMRT_BF16) fast_f32_to_bf16(row, (uint16_t *)a->y + yoff, Dv);
    }
    free(vr);
    return 0;
}

int cpu_fast_attention(const ssmrt_op *op) {
    attn_args a = {0};
    int rc = cpu_shape_attention(op, &a.d);
    if (rc) return rc;
    if (!cpu_desc_contiguous(&op->dst[0]))
        return cpu_error(SSMRT_ERR_INVALID_ARGUMENT, "cpu: attention: dst must be contiguous");
    attn_src *in[3] = {&a.q, &a.k, &a.v};
    for (int t = 0; t < 3; t++) {
        in[t]->base = cpu_desc_ptr(&op->src[t]);
        in[t]->dtype = op->src[t].dtype;
        for (int i = 0; i < 4; i++) in[t]->s[i] = op->src[t].stride[i];
    }
    a.y = cpu_desc_ptr(&op->dst[0]);
    a.dtype = op->dst[0].dtype;
    a.scale = op->params.attention.scale;
    const cpu_attn_dims *d = &a.d;
    const int64_t G = d->Hq / d->Hk, qpt = G < QB ? QB / G : 1; /* queries per task */
    int64_t qblocks = (d->Lq + qpt - 1) / qpt, tasks = d->B * d->Hk * qblocks;
    /* Small problems (a decode step over a short cache) stay on one thread. */
    int64_t work = d->B * d->Hq * d->Lq * d->Lk * (d->Dh + d->Dv);
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : failed) if (tasks > 1 && work >= (1 << 20))
    for (int64_t t = 0; t < tasks; t++) {
        /* Late query blocks see the most keys: hand them out first. */
        int64_t qb = qblocks - 1 - t % qblocks, kh = (t / qblocks) % d->Hk, b = t / (qblocks * d->Hk);
        int64_t i0 = qb * qpt, i1 = i0 + qpt < d->Lq ? i0 + qpt : d->Lq;
        failed |= attn_task(&a, b, kh, i0, i1) != 0;
    }
    if (failed) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: attention: out of memory");
    return 0;
}
