/*
 * selftest_attention.cuh: the CUDA self-test's attention cases, included by
 * selftest.cu (it uses that file's CHECK, frand and plugin host).
 *
 * Every kernel path through the op entry, against a float64 reference computed
 * from the inputs as stored (after rounding to f16/bf16): the tensor-core
 * prefill (Dh 64 and 128, query tiles cut by Lq, a cache offset Lk > Lq,
 * grouped heads, k and v interleaved in one cache buffer, keys split across
 * blocks when there are few query tiles), the tensor-core
 * split-KV decode (one query and a short chunk of queries, several splits
 * merged), the SIMT kernels that take what the tensor-core ones do not (Dh
 * 80, rows not 16-byte aligned, Dh 32, f32), and the wide-head kernel (Dh 300,
 * 320, 1100).
 *
 * Tolerance (absolute; |v| <= 1, so |y| <= 1). With u the unit roundoff of the
 * type (2^-11 f16, 2^-8 bf16): the output is rounded once (u |y|), and the
 * tensor-core kernels round P to the type before P V, which moves y by at most
 * u sum_j p_j |v_j| / l <= u max |v|. So 2u (2^-10 f16, 2^-7 bf16) plus 1e-5
 * for the f32 work (scores below 10 in size, ex2 to 2^-22, f32 sums of a few
 * thousand terms), which is also the f32 tolerance.
 */
#ifndef SSMRT_CUDA_SELFTEST_ATTENTION_CUH
#define SSMRT_CUDA_SELFTEST_ATTENTION_CUH

typedef struct attn_case {
    int64_t B, Lq, Lk, Hq, Hk, Dh;
    uint32_t dtype;
    int interleave; /* k and v in one [B, Lk, 2, Hk, Dh] buffer */
    int pad;        /* extra elements per kv row (rows no longer 16-byte aligned) */
    float range;    /* q and k in [-range, range] */
    const char *path;
} attn_case;

static double g_attn_worst[3]; /* largest error per dtype: f32, f16, bf16 */

static float attn_round(float x, uint32_t dtype) {
    if (dtype == SSMRT_F16) return __half2float(__float2half_rn(x));
    if (dtype == SSMRT_BF16) return __bfloat162float(__float2bfloat16_rn(x));
    return x;
}

/* n floats stored as dtype into a new buffer. */
static void *attn_upload(const float *x, int64_t n, uint32_t dtype) {
    size_t es = dtype == SSMRT_F32 ? 4 : 2;
    void *buf = NULL;
    CHECK(vt->buffer_alloc(g_dev, (uint64_t)n * es, &buf) == 0, "buffer_alloc");
    void *h = malloc(es * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        if (dtype == SSMRT_F16) ((__half *)h)[i] = __float2half_rn(x[i]);
        else if (dtype == SSMRT_BF16) ((__nv_bfloat16 *)h)[i] = __float2bfloat16_rn(x[i]);
        else ((float *)h)[i] = x[i];
    }
    vt->buffer_upload(g_dev, buf, 0, h, (uint64_t)n * es);
    free(h);
    return buf;
}

static void attn_download(void *buf, int64_t n, uint32_t dtype, float *out) {
    size_t es = dtype == SSMRT_F32 ? 4 : 2;
    void *h = malloc(es * (size_t)n);
    vt->buffer_download(g_dev, buf, 0, h, (uint64_t)n * es);
    for (int64_t i = 0; i < n; i++)
        out[i] = dtype == SSMRT_F16    ? __half2float(((__half *)h)[i])
                 : dtype == SSMRT_BF16 ? __bfloat162float(((__nv_bfloat16 *)h)[i])
                                       : ((float *)h)[i];
    free(h);
}

static void attn_test(const attn_case *c) {
    const int64_t B = c->B, Lq = c->Lq, Lk = c->Lk, Hq = c->Hq, Hk = c->Hk, Dh = c->Dh;
    const int64_t row = Dh + c->pad;                        /* kv row length */
    const int64_t pos_stride = (c->interleave ? 2 : 1) * Hk * row; /* per key */
    const int64_t nq = B * Lq * Hq * Dh, nkv = B * Lk * pos_stride;
    float *q = rand_vec(nq, -c->range, c->range);
    float *kbuf = rand_vec(nkv, -c->range, c->range);
    float *vbuf = c->interleave ? kbuf : rand_vec(nkv, -1.0f, 1.0f);
    /* In the interleaved layout the v half of each position holds values in [-1, 1]. */
    if (c->interleave)
        for (int64_t p = 0; p < B * Lk; p++)
            for (int64_t e = 0; e < Hk * row; e++) kbuf[p * pos_stride + Hk * row + e] = frand(-1, 1);
    for (int64_t i = 0; i < nq; i++) q[i] = attn_round(q[i], c->dtype);
    for (int64_t i = 0; i < nkv; i++) kbuf[i] = attn_round(kbuf[i], c->dtype);
    if (!c->interleave)
        for (int64_t i = 0; i < nkv; i++) vbuf[i] = attn_round(vbuf[i], c->dtype);
    void *bq = attn_upload(q, nq, c->dtype), *bk = attn_upload(kbuf, nkv, c->dtype);
    void *bv = c->interleave ? bk : attn_upload(vbuf, nkv, c->dtype), *by = NULL;
    size_t es = c->dtype == SSMRT_F32 ? 4 : 2;
    vt->buffer_alloc(g_dev, (uint64_t)nq * es, &by);

    ssmrt_op op;
    memset(&op, 0, sizeof op);
    op.struct_size = sizeof op;
    op.kind = SSMRT_OP_ATTENTION;
    op.n_src = 3;
    op.n_dst = 1;
    int64_t sq[4] = {B, Lq, Hq, Dh}, skv[4] = {B, Lk, Hk, Dh};
    desc(&op.src[0], bq, c->dtype, 4, sq);
    desc(&op.src[1], bk, c->dtype, 4, skv);
    desc(&op.src[2], bv, c->dtype, 4, skv);
    for (int s = 1; s <= 2; s++) {
        op.src[s].stride[0] = Lk * pos_stride;
        op.src[s].stride[1] = pos_stride;
        op.src[s].stride[2] = row;
    }
    if (c->interleave) op.src[2].offset = (uint64_t)(Hk * row) * es;
    desc(&op.dst[0], by, c->dtype, 4, sq);
    const float scale = 1.0f / sqrtf((float)Dh);
    op.params.attention.scale = scale;
    CHECK(vt->supports(g_dev, &op) == 1, "attention %s not supported", c->path);
    int rc = vt->enqueue(g_dev, &op);
    if (!rc) rc = vt->synchronize(g_dev);
    CHECK(rc == 0, "attention %s run", c->path);

    /* Reference: query i at position Lk - Lq + i sees keys 0 .. Lk - Lq + i. */
    double *ref = (double *)malloc(sizeof(double) * (size_t)nq);
    double *w = (double *)malloc(sizeof(double) * (size_t)Lk);
    const float *vb = c->interleave ? kbuf + Hk * row : vbuf;
    for (int64_t b = 0; b < B; b++)
        for (int64_t i = 0; i < Lq; i++)
            for (int64_t h = 0; h < Hq; h++) {
                const int64_t kh = h / (Hq / Hk), last = Lk - Lq + i;
                const float *qr = q + ((b * Lq + i) * Hq + h) * Dh;
                double mx = -INFINITY, sum = 0.0;
                for (int64_t j = 0; j <= last; j++) {
                    const float *kr = kbuf + (b * Lk + j) * pos_stride + kh * row;
                    double s = 0.0;
                    for (int64_t d = 0; d < Dh; d++) s += (double)qr[d] * kr[d];
                    w[j] = s * scale;
                    if (w[j] > mx) mx = w[j];
                }
                for (int64_t j = 0; j <= last; j++) sum += (w[j] = exp(w[j] - mx));
                double *out = ref + ((b * Lq + i) * Hq + h) * Dh;
                for (int64_t d = 0; d < Dh; d++) out[d] = 0.0;
                for (int64_t j = 0; j <= last; j++) {
                    const float *vr = vb + (b * Lk + j) * pos_stride + kh * row;
                    for (int64_t d = 0; d < Dh; d++) out[d] += w[j] / sum * vr[d];
                }
            }
    float *got = (float *)malloc(sizeof(float) * (size_t)nq);
    attn_download(by, nq, c->dtype, got);
    const double err = rel_err(got, ref, nq);
    const int di = c->dtype == SSMRT_F16 ? 1 : c->dtype == SSMRT_BF16 ? 2 : 0;
    const double tol = (di == 1 ? ldexp(1.0, -10) : di == 2 ? ldexp(1.0, -7) : 0.0) + 1e-5;
    if (!(err <= g_attn_worst[di])) g_attn_worst[di] = err;
    printf("attention %-4s %s B=%lld Lq=%lld Lk=%lld Hq=%lld Hk=%lld Dh=%lld%s%s: err %.2e (tol %.2e)\n",
           di == 1 ? "f16" : di == 2 ? "bf16" : "f32", c->path, (long long)B, (long long)Lq,
           (long long)Lk, (long long)Hq, (long long)Hk, (long long)Dh,
           c->interleave ? " kv-interleaved" : "", c->pad ? " kv-padded" : "", err, tol);
    CHECK(err <= tol, "attention %s error %.2e above %.2e", c->path, err, tol);

    vt->buffer_free(g_dev, bq);
    vt->buffer_free(g_dev, bk);
    if (!c->interleave) vt->buffer_free(g_dev, bv);
    vt->buffer_free(g_dev, by);
    free(q);
    free(kbuf);
    if (!c->interleave) free(vbuf);
    free(ref);
    free(w);
    free(got);
}

static void attention_tests(void) {
    static const attn_case cases[] = {
        /* tensor-core prefill */
        {2, 200, 200, 4, 2, 64, SSMRT_F16, 0, 0, 1.0f, "mma"},
        {1, 300, 333, 4, 1, 128, SSMRT_BF16, 1, 0, 1.0f, "mma"},
        {1, 1024, 1024, 2, 2, 128, SSMRT_F16, 0, 0, 2.0f, "mma"},
        {1, 257, 257, 2, 1, 64, SSMRT_BF16, 0, 0, 2.0f, "mma"},
        /* ... with the keys split too (few blocks): 9 splits; 2 with empty ones */
        {1, 100, 5000, 4, 4, 128, SSMRT_F16, 0, 0, 2.0f, "mma-split"},
        {1, 1200, 1200, 2, 2, 128, SSMRT_BF16, 0, 0, 2.0f, "mma-split"},
        {1, 300, 2000, 2, 1, 64, SSMRT_F16, 1, 0, 2.0f, "mma-split"},
        /* tensor-core split-KV decode: one query, several splits, and a chunk */
        {2, 1, 3000, 8, 2, 128, SSMRT_F16, 0, 0, 2.0f, "split"},
        {1, 1, 777, 16, 1, 64, SSMRT_BF16, 1, 0, 1.0f, "split"},
        {1, 3, 500, 4, 1, 128, SSMRT_F16, 0, 0, 1.0f, "split"},
        {1, 1, 20000, 4, 4, 128, SSMRT_BF16, 0, 0, 2.0f, "split"},
        /* SIMT kernels */
        {1, 70, 70, 2, 2, 80, SSMRT_F16, 0, 0, 1.0f, "simt"},
        {1, 90, 100, 4, 2, 128, SSMRT_BF16, 0, 1, 1.0f, "simt"},
        {1, 1, 300, 4, 2, 32, SSMRT_F16, 0, 0, 1.0f, "simt"},
        {1, 40, 1000, 32, 2, 64, SSMRT_F16, 0, 0, 1.0f, "mma"},
        {1, 65, 65, 2, 1, 64, SSMRT_F32, 1, 0, 1.0f, "simt"},
        {1, 1, 900, 4, 1, 128, SSMRT_F32, 0, 0, 1.0f, "simt"},
        /* heads wider than 256: one or two column chunks */
        {1, 20, 50, 2, 1, 320, SSMRT_F16, 1, 0, 1.0f, "wide"},
        {1, 1, 100, 4, 1, 300, SSMRT_BF16, 0, 0, 1.0f, "wide"},
        {2, 5, 40, 2, 2, 1100, SSMRT_F32, 0, 0, 1.0f, "wide"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) attn_test(&cases[i]);
    printf("attention: largest error f32 %.2e, f16 %.2e, bf16 %.2e\n", g_attn_worst[0],
           g_attn_worst[1], g_attn_worst[2]);
}

#endif /* SSMRT_CUDA_SELFTEST_ATTENTION_CUH */
