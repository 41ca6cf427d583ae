/* Conformance cases: matmul (f32/f16/bf16 weights), embedding (f32/f16/bf16
 * tables), topk_route. */
#include <math.h>
#include <stdio.h>

#include "conf_suite.h"
#include "conf_tolerance.h"

static const ssmrt_dtype conf_weight_dtypes[] = {SSMRT_F32, SSMRT_F16, SSMRT_BF16};

/* ===================================================================== */
/* matmul                                                                  */
/* ===================================================================== */

typedef struct conf_matmul_params {
    int bias;
    int64_t out_bytes;
} conf_matmul_params;

static void conf_build_matmul(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_matmul_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    conf_exec_arena_guard(x, (uint64_t)p->out_bytes);
    conf_exec_output(x, ssmrt_graph_matmul(g, in[0], in[1], p->bias ? in[2] : NULL));
}

static void conf_matmul_sweep(conf_suite *s)
{
    static const struct {
        int xdim;
        int64_t x[3]; /* leading dims of x; K and N below */
        int64_t k, n;
        int bias;
        int full_only;
    } cases[] = {
        {2, {1}, 1, 1, 0, 1},
        {2, {1}, 7, 3, 1, 0},
        {2, {5}, 33, 17, 0, 0},
        {2, {3}, 33, 64, 1, 0},  /* 192 outputs: one past the end leaves its last 256-byte unit */
        {2, {5}, 33, 17, 1, 1},
        {2, {7}, 129, 65, 1, 0},
        {2, {1}, 4099, 7, 0, 1},  /* decode GEMV with a long, odd K */
        {2, {64}, 256, 129, 1, 1},
        {2, {130}, 515, 97, 0, 1},
        {3, {2, 3}, 40, 24, 1, 0}, /* batched leading dims */
        {4, {2, 3, 5}, 19, 11, 0, 1},
        {2, {257}, 1024, 256, 1, 1},
    };
    for (size_t d = 0; d < 3; d++) {
        ssmrt_dtype wdt = conf_weight_dtypes[d];
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            if (s->quick && cases[i].full_only)
                continue;
            conf_rng r;
            conf_suite_rng(s, &r, "matmul", d * 100 + i);
            conf_case c;
            conf_case_init(&c, "matmul", ssmrt_dtype_name(wdt), CONF_VS_REFERENCE);
            c.need_dtypes = 1u << wdt;
            int64_t xs[4], ws[2] = {cases[i].n, cases[i].k}, m = 1;
            for (int a = 0; a < cases[i].xdim - 1; a++) {
                xs[a] = cases[i].x[a];
                m *= xs[a];
            }
            xs[cases[i].xdim - 1] = cases[i].k;
            conf_host *xh = conf_case_in(&c, 0, SSMRT_F32, cases[i].xdim, xs);
            conf_host *wh = conf_case_in(&c, 1, wdt, 2, ws);
            conf_host *bh = cases[i].bias ? conf_case_in(&c, 2, SSMRT_F32, 1, &ws[0]) : NULL;
            if (xh && wh) {
                conf_rng_fill_normal(&r, xh->f, xh->n, 0.0, 1.0);
                conf_rng_fill_normal(&r, wh->f, wh->n, 0.0, 1.0 / sqrt((double)cases[i].k));
            }
            if (bh)
                conf_rng_fill_normal(&r, bh->f, bh->n, 0.0, 1.0);
            char sb[64];
            conf_case_name(&c, "x %s, w [%lld, %lld] %s%s",
                           conf_shape_str(cases[i].xdim, xs, sb, sizeof sb), (long long)ws[0],
                           (long long)ws[1], ssmrt_dtype_name(wdt), cases[i].bias ? ", bias" : "");
            conf_matmul_params p = {cases[i].bias, m * cases[i].n * 4};
            c.tol = conf_tol_matmul(cases[i].k, wdt);
            c.build = conf_build_matmul;
            c.params = &p;
            conf_suite_run(s, &c);
        }
    }
}

/* ===================================================================== */
/* embedding                                                               */
/* ===================================================================== */

typedef struct conf_embedding_params {
    int64_t out_bytes;
} conf_embedding_params;

static void conf_build_embedding(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_embedding_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    conf_exec_arena_guard(x, (uint64_t)p->out_bytes);
    conf_exec_output(x, ssmrt_graph_embedding(g, in[0], in[1]));
}

static void conf_embedding_sweep(conf_suite *s)
{
    static const struct {
        int64_t v, d;
        int idim;
        int64_t ids[3];
        int out_of_range;
        int full_only;
    } cases[] = {
        {1, 1, 1, {1}, 0, 1},
        {7, 5, 1, {7}, 0, 0},
        {50, 64, 1, {3}, 0, 0}, /* 192 outputs */
        {513, 64, 2, {2, 3}, 0, 0},
        {513, 129, 3, {2, 2, 3}, 0, 1},
        {50, 33, 1, {11}, 1, 0}, /* ids -1, V, V+7 among them: zero rows */
        {4099, 17, 1, {64}, 0, 1},
    };
    for (size_t d = 0; d < 3; d++) {
        ssmrt_dtype tdt = conf_weight_dtypes[d];
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            if (s->quick && cases[i].full_only)
                continue;
            conf_rng r;
            conf_suite_rng(s, &r, "embedding", d * 100 + i);
            conf_case c;
            conf_case_init(&c, "embedding", ssmrt_dtype_name(tdt), CONF_VS_REFERENCE);
            c.need_dtypes = 1u << tdt;
            int64_t ts[2] = {cases[i].v, cases[i].d};
            conf_host *th = conf_case_in(&c, 0, tdt, 2, ts);
            conf_host *ih = conf_case_in(&c, 1, SSMRT_I32, cases[i].idim, cases[i].ids);
            if (th && ih) {
                conf_rng_fill_normal(&r, th->f, th->n, 0.0, 1.0);
                for (int64_t k = 0; k < ih->n; k++)
                    ih->i[k] = (int32_t)conf_rng_int(&r, 0, cases[i].v - 1);
                if (cases[i].out_of_range) {
                    ih->i[1] = -1;
                    ih->i[4] = (int32_t)cases[i].v;
                    ih->i[8] = (int32_t)cases[i].v + 7;
                }
            }
            char sb[64];
            conf_case_name(&c, "table [%lld, %lld] %s, ids %s%s", (long long)ts[0], (long long)ts[1],
                           ssmrt_dtype_name(tdt), conf_shape_str(cases[i].idim, cases[i].ids, sb, sizeof sb),
                           cases[i].out_of_range ? " with ids -1, V, V+7 (zero rows)" : "");
            conf_embedding_params p = {conf_shape_count(cases[i].idim, cases[i].ids) * cases[i].d * 4};
            c.tol = conf_tol_exact();
            c.build = conf_build_embedding;
            c.params = &p;
            conf_suite_run(s, &c);
        }
    }
}

/* ===================================================================== */
/* topk_route                                                              */
/* ===================================================================== */

typedef struct conf_topk_params {
    int k, renormalize;
} conf_topk_params;

static void conf_build_topk(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_topk_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    conf_exec_arena_guard(x, (uint64_t)ssmrt_tensor_nelements(in[0]) * 4u);
    conf_exec_output(x, ssmrt_graph_topk_route(g, in[0], p->k, p->renormalize));
}

static void conf_topk_sweep(conf_suite *s)
{
    static const struct {
        int64_t t, e;
        int k, renorm, ties, full_only;
    } cases[] = {
        {1, 4, 2, 1, 0, 0},
        {7, 8, 2, 1, 0, 0},
        {3, 64, 2, 1, 0, 0}, /* 192 outputs */
        {5, 16, 1, 0, 0, 0},
        {3, 7, 3, 0, 0, 0},
        {2, 1, 1, 1, 0, 1},
        {9, 16, 16, 0, 0, 1},
        {33, 64, 6, 1, 0, 1},
        {6, 8, 3, 1, 1, 0}, /* exact ties: the lower expert index wins */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (s->quick && cases[i].full_only)
            continue;
        conf_rng r;
        conf_suite_rng(s, &r, "topk_route", i);
        conf_case c;
        conf_case_init(&c, "topk_route", "f32", CONF_VS_REFERENCE);
        int64_t shape[2] = {cases[i].t, cases[i].e};
        conf_host *h = conf_case_in(&c, 0, SSMRT_F32, 2, shape);
        /* Each row is a shuffled ladder of values 0.3 apart (plus noise below 0.05),
         * so the k-th and (k+1)-th probabilities differ by a factor e^0.2 and the
         * selection cannot flip with rounding; with ties, rungs come in equal pairs. */
        for (int64_t row = 0; h && row < cases[i].t; row++) {
            float *v = h->f + row * cases[i].e;
            for (int64_t j = 0; j < cases[i].e; j++)
                v[j] = cases[i].ties ? (float)(0.3 * (double)(j / 2))
                                     : (float)(0.3 * (double)j + conf_rng_uniform(&r, -0.05, 0.05));
            for (int64_t j = cases[i].e - 1; j > 0; j--) {
                int64_t o = conf_rng_int(&r, 0, j);
                float t = v[j];
                v[j] = v[o];
                v[o] = t;
            }
        }
        conf_case_name(&c, "logits [%lld, %lld] k=%d%s%s", (long long)shape[0], (long long)shape[1],
                       cases[i].k, cases[i].renorm ? " renormalize" : "",
                       cases[i].ties ? " with exact ties" : "");
        conf_topk_params p = {cases[i].k, cases[i].renorm};
        c.tol = conf_tol_topk(cases[i].e);
        c.build = conf_build_topk;
        c.params = &p;
        conf_suite_run(s, &c);
    }
}

void conf_ops_linear(conf_suite *s)
{
    if (conf_suite_wants(s, "matmul"))
        conf_matmul_sweep(s);
    if (conf_suite_wants(s, "embedding"))
        conf_embedding_sweep(s);
    if (conf_suite_wants(s, "topk_route"))
        conf_topk_sweep(s);
}
