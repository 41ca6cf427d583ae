/* Conformance cases: causal grouped-query attention against the reference (with
 * strided q/k/v views: a KV cache prefix, permuted layouts) in f32, f16 and bf16,
 * and the identity "prefill + token-by-token decode through a KV cache == full
 * causal attention". */
#include <math.h>
#include <stdio.h>

#include "conf_suite.h"
#include "conf_tolerance.h"

enum {
    CONF_ATT_Q_PERMUTED = 1,  /* q stored [B, Hq, Lq, Dh] and permuted */
    CONF_ATT_KV_PREFIX = 2,   /* k, v are the first Lk rows of a longer cache */
    CONF_ATT_KV_PERMUTED = 4, /* k, v stored [B, Hk, Lk, Dh] and permuted */
};

typedef struct conf_att_params {
    int64_t b, lq, lk, hq, hk, dh;
    int layout;
    float scale;
    ssmrt_dtype dtype; /* of q, k, v and the output */
} conf_att_params;

/* Inputs 0, 1, 2 of a case: q of shape qs, k and v of shape ks, all of dtype dt,
 * drawn from N(0, 1) in that order. */
static void conf_attention_inputs(conf_case *c, conf_rng *r, ssmrt_dtype dt, const int64_t qs[4],
                                  const int64_t ks[4])
{
    conf_host *q = conf_case_in(c, 0, dt, 4, qs);
    conf_host *k = conf_case_in(c, 1, dt, 4, ks);
    conf_host *v = conf_case_in(c, 2, dt, 4, ks);
    if (q && k && v) {
        conf_rng_fill_normal(r, q->f, q->n, 0.0, 1.0);
        conf_rng_fill_normal(r, k->f, k->n, 0.0, 1.0);
        conf_rng_fill_normal(r, v->f, v->n, 0.0, 1.0);
    }
}

static void conf_build_attention(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_att_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    static const int perm[4] = {0, 2, 1, 3};
    ssmrt_tensor *q = in[0], *k = in[1], *v = in[2];
    if (p->layout & CONF_ATT_Q_PERMUTED)
        q = ssmrt_graph_permute(g, q, perm);
    if (p->layout & CONF_ATT_KV_PERMUTED) {
        k = ssmrt_graph_permute(g, k, perm);
        v = ssmrt_graph_permute(g, v, perm);
    }
    if (p->layout & CONF_ATT_KV_PREFIX) {
        k = ssmrt_graph_slice(g, k, 1, 0, p->lk);
        v = ssmrt_graph_slice(g, v, 1, 0, p->lk);
    }
    int64_t oshape[4] = {p->b, p->lq, p->hq, p->dh};
    conf_exec_arena_guard(x, conf_bytes(p->dtype, 4, oshape));
    conf_exec_output(x, ssmrt_graph_attention(g, q, k, v, p->scale));
}

/* Scores are scale * q.k with q, k ~ N(0, 1): |q.k| stays below 5 sqrt(dh) (five
 * standard deviations), which bounds the score magnitude for the tolerance. */
static double conf_att_smax(double scale, int64_t dh)
{
    return 5.0 * fabs(scale) * sqrt((double)dh);
}

/* One attention case of dtype dt: inputs N(0, 1) (rounded to dt by the upload, on
 * both sides alike), stored in the layout the flags ask for. */
typedef struct conf_att_case {
    int64_t b, lq, lk, hq, hk, dh;
    int layout;
    double scale; /* 0: 1/sqrt(dh) */
    int full_only;
} conf_att_case;

static void conf_attention_run(conf_suite *s, const conf_att_case *a, ssmrt_dtype dt,
                               uint64_t index)
{
    conf_rng r;
    conf_suite_rng(s, &r, "attention", index);
    conf_case c;
    conf_case_init(&c, "attention", ssmrt_dtype_name(dt), CONF_VS_REFERENCE);
    if (dt != SSMRT_F32)
        c.need_dtypes = 1u << dt;
    int layout = a->layout;
    int64_t lcache = layout & CONF_ATT_KV_PREFIX ? a->lk + 13 : a->lk;
    int64_t qs[4] = {a->b, a->lq, a->hq, a->dh};
    int64_t ks[4] = {a->b, lcache, a->hk, a->dh};
    if (layout & CONF_ATT_Q_PERMUTED) {
        qs[1] = a->hq;
        qs[2] = a->lq;
    }
    if (layout & CONF_ATT_KV_PERMUTED) {
        ks[1] = a->hk;
        ks[2] = lcache;
    }
    conf_attention_inputs(&c, &r, dt, qs, ks);
    double scale = a->scale ? a->scale : 1.0 / sqrt((double)a->dh);
    conf_case_name(&c, "B=%lld Lq=%lld Lk=%lld Hq=%lld Hk=%lld Dh=%lld scale %.3g%s%s%s",
                   (long long)a->b, (long long)a->lq, (long long)a->lk, (long long)a->hq,
                   (long long)a->hk, (long long)a->dh, scale,
                   layout & CONF_ATT_Q_PERMUTED ? ", q permuted" : "",
                   layout & CONF_ATT_KV_PERMUTED ? ", k/v permuted" : "",
                   layout & CONF_ATT_KV_PREFIX ? ", k/v a cache prefix" : "");
    conf_att_params p = {a->b, a->lq, a->lk, a->hq, a->hk, a->dh, layout, (float)scale, dt};
    c.tol = conf_tol_attention_dtype(a->dh, a->lk, conf_att_smax(scale, a->dh), dt);
    c.build = conf_build_attention;
    c.params = &p;
    conf_suite_run(s, &c);
}

static void conf_attention_sweep(conf_suite *s)
{
    static const conf_att_case cases[] = {
        {1, 1, 1, 1, 1, 1, 0, 0, 1},
        {1, 1, 37, 4, 2, 16, CONF_ATT_KV_PREFIX, 0, 0},    /* decode over a cache prefix */
        {2, 17, 17, 4, 4, 8, 0, 0, 0},
        {1, 3, 5, 4, 2, 16, 0, 0, 0},                     /* 192 outputs */
        {1, 33, 40, 6, 2, 13, CONF_ATT_Q_PERMUTED | CONF_ATT_KV_PREFIX, 0, 0},
        {3, 5, 9, 8, 1, 32, CONF_ATT_KV_PERMUTED, 0, 0},   /* multi-query */
        {2, 7, 7, 2, 1, 5, 0, 0.3, 0},                    /* a custom scale */
        {1, 65, 65, 4, 2, 128, 0, 0, 1},
        {1, 300, 300, 3, 3, 7, CONF_ATT_Q_PERMUTED | CONF_ATT_KV_PERMUTED, 0, 1},
        {1, 2048, 2048, 2, 1, 64, 0, 0, 1},
        {2, 1, 2049, 4, 1, 64, CONF_ATT_KV_PREFIX, 0, 1}, /* decode over a long cache */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!s->quick || !cases[i].full_only)
            conf_attention_run(s, &cases[i], SSMRT_F32, i);
}

/* f16 and bf16 q, k, v and output, at the head dims models use (64, 128), in the
 * shapes a tensor-core kernel must get right: lengths off its tile sizes, grouped
 * heads, one decode query against a cache, strided views. */
static void conf_attention_half_sweep(conf_suite *s)
{
    static const conf_att_case cases[] = {
        {1, 1, 1, 2, 1, 64, 0, 0, 0},                     /* one key; 256-byte output */
        {1, 77, 77, 4, 4, 64, 0, 0, 0},                   /* prefill, causal */
        {2, 130, 130, 8, 2, 128, 0, 0, 0},                /* prefill, 4:1 grouped heads */
        {2, 1, 1000, 8, 2, 128, CONF_ATT_KV_PREFIX, 0, 0}, /* decode over a cache prefix */
        {1, 1, 517, 4, 1, 64, CONF_ATT_KV_PERMUTED | CONF_ATT_KV_PREFIX, 0, 0},
        {1, 40, 100, 6, 2, 64, CONF_ATT_Q_PERMUTED | CONF_ATT_KV_PERMUTED | CONF_ATT_KV_PREFIX, 0, 0},
        {1, 65, 65, 2, 1, 64, 0, 0.25, 0},                /* a custom scale: sharper softmax */
        {1, 19, 45, 4, 2, 80, 0, 0, 0},                   /* a head dim off the tile sizes */
        {1, 600, 600, 2, 1, 128, 0, 0, 1},
        {1, 1, 4100, 8, 1, 128, CONF_ATT_KV_PREFIX, 0, 1}, /* decode over a long cache */
        {1, 20, 50, 2, 1, 320, CONF_ATT_KV_PREFIX, 0, 1}, /* head dim > 256: generic kernels */
    };
    static const ssmrt_dtype dts[2] = {SSMRT_F16, SSMRT_BF16};
    for (int d = 0; d < 2; d++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            if (!s->quick || !cases[i].full_only)
                conf_attention_run(s, &cases[i], dts[d], 100 * (uint64_t)(d + 1) + i);
}

/* ===================================================================== */
/* Identity: KV-cache decode == full causal attention                      */
/* ===================================================================== */

typedef struct conf_kv_params {
    int64_t b, prompt, steps, hq, hk, dh;
    float scale;
} conf_kv_params;

static void conf_build_kv_decode(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_kv_params *p = params;
    int64_t lt = p->prompt + p->steps;
    ssmrt_tensor *q = in[0], *k = in[1], *v = in[2];

    /* Full causal attention, and plain copies of k and v (what the cache must hold). */
    ssmrt_graph *g = conf_exec_graph(x);
    conf_exec_output(x, ssmrt_graph_attention(g, q, k, v, p->scale));
    conf_exec_output(x, ssmrt_graph_copy(g, k, SSMRT_F32));
    conf_exec_output(x, ssmrt_graph_copy(g, v, SSMRT_F32));
    if (conf_exec_compute(x) != SSMRT_OK)
        return;

    /* The cache: guarded views [B, Lt, Hk, Dh] with guard slabs around every axis
     * but the last, so appends that overrun a row or a batch are caught. */
    int64_t kvshape[4] = {p->b, lt, p->hk, p->dh}, oshape[4] = {p->b, lt, p->hq, p->dh};
    static const int64_t pad[4] = {1, 3, 1, 0};
    int kc = conf_exec_guarded(x, SSMRT_F32, 4, kvshape, pad, NULL);
    int vc = conf_exec_guarded(x, SSMRT_F32, 4, kvshape, pad, NULL);
    int ob = conf_exec_guarded(x, SSMRT_F32, 4, oshape, NULL, NULL);
    for (int64_t t = p->prompt; conf_exec_ok(x) && t <= lt; t++) {
        /* Graph 1 appends the prompt and attends over it; each later graph appends one
         * token and attends with one query over the cache prefix [0, t]. */
        int64_t t0 = t == p->prompt ? 0 : t - 1, n = t == p->prompt ? p->prompt : 1;
        if (n == 0)
            continue;
        g = conf_exec_graph(x);
        ssmrt_tensor *kcv = conf_exec_guarded_view(x, kc), *vcv = conf_exec_guarded_view(x, vc);
        ssmrt_graph_copy_into(g, ssmrt_graph_slice(g, k, 1, t0, n), ssmrt_graph_slice(g, kcv, 1, t0, n));
        ssmrt_graph_copy_into(g, ssmrt_graph_slice(g, v, 1, t0, n), ssmrt_graph_slice(g, vcv, 1, t0, n));
        ssmrt_tensor *o = ssmrt_graph_attention(g, ssmrt_graph_slice(g, q, 1, t0, n),
                                                ssmrt_graph_slice(g, kcv, 1, 0, t0 + n),
                                                ssmrt_graph_slice(g, vcv, 1, 0, t0 + n), p->scale);
        ssmrt_graph_copy_into(g, o, ssmrt_graph_slice(g, conf_exec_guarded_view(x, ob), 1, t0, n));
        if (t == lt) {
            conf_exec_output_guarded(x, ob);
            conf_exec_output_guarded(x, kc);
            conf_exec_output_guarded(x, vc);
        }
        conf_exec_compute(x);
    }
}

static void conf_kv_sweep(conf_suite *s)
{
    const conf_kv_params cases[] = {
        {2, s->quick ? 5 : 13, s->quick ? 4 : 9, 4, 2, 16, 0.25f},
        {1, 1, s->quick ? 6 : 20, 3, 1, 7, (float)(1.0 / sqrt(7.0))},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const conf_kv_params *p = &cases[i];
        conf_rng r;
        conf_suite_rng(s, &r, "kv_cache_decode", i);
        conf_case c;
        conf_case_init(&c, "kv_cache_decode", "f32", CONF_DUT_PAIRS);
        int64_t lt = p->prompt + p->steps;
        int64_t qs[4] = {p->b, lt, p->hq, p->dh}, ks[4] = {p->b, lt, p->hk, p->dh};
        conf_attention_inputs(&c, &r, SSMRT_F32, qs, ks);
        conf_case_name(&c, "B=%lld prompt %lld + %lld decode steps, Hq=%lld Hk=%lld Dh=%lld: "
                       "cache appends == full causal attention",
                       (long long)p->b, (long long)p->prompt, (long long)p->steps, (long long)p->hq,
                       (long long)p->hk, (long long)p->dh);
        /* Both ways are within the attention bound of the exact result; the caches
         * are copies and exact. */
        c.tols[0] = 2.0 * conf_tol_attention(p->dh, lt, conf_att_smax(p->scale, p->dh));
        c.tols[1] = c.tols[2] = conf_tol_exact();
        c.n_tols = 3;
        c.build = conf_build_kv_decode;
        c.params = p;
        conf_suite_run(s, &c);
    }
}

void conf_ops_attention(conf_suite *s)
{
    if (conf_suite_wants(s, "attention")) {
        conf_attention_sweep(s);
        conf_attention_half_sweep(s);
    }
    if (conf_suite_wants(s, "kv_cache_decode"))
        conf_kv_sweep(s);
}
