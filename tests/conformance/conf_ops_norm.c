/* Conformance cases: softmax, rms_norm, rms_norm_gated, layer_norm. */
#include <math.h>
#include <stdio.h>

#include "conf_suite.h"
#include "conf_tolerance.h"

enum { CONF_SOFTMAX, CONF_RMS, CONF_RMS_GATED, CONF_LAYER };

typedef struct conf_norm_params {
    int kind;
    float eps;
    int64_t group;
    int bias;
} conf_norm_params;

static void conf_build_norm(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_norm_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    conf_exec_arena_guard(x, (uint64_t)ssmrt_tensor_nelements(in[0]) * 4u);
    ssmrt_tensor *y = NULL;
    switch (p->kind) {
    case CONF_SOFTMAX:
        y = ssmrt_graph_softmax(g, in[0]);
        break;
    case CONF_RMS:
        y = ssmrt_graph_rms_norm(g, in[0], in[1], p->eps);
        break;
    case CONF_RMS_GATED:
        y = ssmrt_graph_rms_norm_gated(g, in[0], in[2], in[1], p->group, p->eps);
        break;
    default:
        y = ssmrt_graph_layer_norm(g, in[0], in[1], p->bias ? in[2] : NULL, p->eps);
        break;
    }
    conf_exec_output(x, y);
}

typedef struct conf_rows {
    int ndim;
    int64_t shape[3]; /* rows..., D */
    int full_only;
} conf_rows;

static const conf_rows conf_norm_shapes[] = {
    {1, {1}, 1},
    {2, {3, 7}, 0},
    {2, {3, 64}, 0}, /* 192 elements: one past the end leaves its last 256-byte unit */
    {2, {5, 33}, 0},
    {3, {2, 3, 129}, 0},
    {2, {4, 1000}, 1},
    {2, {2, 4099}, 1},
    {2, {1, 4096}, 1},
};
#define CONF_NORM_NSHAPES (sizeof conf_norm_shapes / sizeof conf_norm_shapes[0])

static void conf_softmax_sweep(conf_suite *s)
{
    for (size_t i = 0; i < CONF_NORM_NSHAPES; i++) {
        const conf_rows *sh = &conf_norm_shapes[i];
        if (s->quick && sh->full_only)
            continue;
        /* Two input distributions: ordinary logits, and logits far above zero
         * (exp(90) overflows f32: the max must be subtracted first). */
        for (int shifted = 0; shifted < 2; shifted++) {
            conf_rng r;
            conf_suite_rng(s, &r, "softmax", 2 * i + (size_t)shifted);
            conf_case c;
            conf_case_init(&c, "softmax", "f32", CONF_VS_REFERENCE);
            conf_host *h = conf_case_in(&c, 0, SSMRT_F32, sh->ndim, sh->shape);
            if (h)
                conf_rng_fill_normal(&r, h->f, h->n, shifted ? 90.0 : 0.0, 3.0);
            char sb[64];
            conf_case_name(&c, "x %s ~ N(%d, 3)", conf_shape_str(sh->ndim, sh->shape, sb, sizeof sb),
                           shifted ? 90 : 0);
            conf_norm_params p = {CONF_SOFTMAX, 0.0f, 0, 0};
            c.tol = conf_tol_softmax(sh->shape[sh->ndim - 1]);
            c.build = conf_build_norm;
            c.params = &p;
            conf_suite_run(s, &c);
        }
    }
}

static void conf_rms_sweep(conf_suite *s)
{
    for (size_t i = 0; i < CONF_NORM_NSHAPES; i++) {
        const conf_rows *sh = &conf_norm_shapes[i];
        if (s->quick && sh->full_only)
            continue;
        conf_rng r;
        conf_suite_rng(s, &r, "rms_norm", i);
        conf_case c;
        conf_case_init(&c, "rms_norm", "f32", CONF_VS_REFERENCE);
        int64_t d = sh->shape[sh->ndim - 1];
        conf_host *x = conf_case_in(&c, 0, SSMRT_F32, sh->ndim, sh->shape);
        conf_host *w = conf_case_in(&c, 1, SSMRT_F32, 1, &d);
        if (x && w) {
            conf_rng_fill_normal(&r, x->f, x->n, 0.0, 2.0);
            conf_rng_fill_uniform(&r, w->f, w->n, 0.5, 1.5);
        }
        char sb[64];
        conf_case_name(&c, "x %s eps 1e-5", conf_shape_str(sh->ndim, sh->shape, sb, sizeof sb));
        conf_norm_params p = {CONF_RMS, 1e-5f, 0, 0};
        c.tol = conf_tol_rms_norm(d);
        c.build = conf_build_norm;
        c.params = &p;
        conf_suite_run(s, &c);
    }
}

static void conf_rms_gated_sweep(conf_suite *s)
{
    static const struct {
        int64_t rows, d, group;
        int full_only;
    } cases[] = {
        {1, 1, 1, 1},
        {3, 7, 7, 0},
        {3, 64, 16, 0},   /* 192 elements */
        {5, 48, 16, 0},   /* Mamba-2 with 3 groups */
        {2, 129, 129, 0}, /* one group, odd size */
        {4, 256, 64, 1},
        {7, 1024, 1024, 1},
        {2, 4098, 2049, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (s->quick && cases[i].full_only)
            continue;
        conf_rng r;
        conf_suite_rng(s, &r, "rms_norm_gated", i);
        conf_case c;
        conf_case_init(&c, "rms_norm_gated", "f32", CONF_VS_REFERENCE);
        int64_t shape[2] = {cases[i].rows, cases[i].d};
        conf_host *x = conf_case_in(&c, 0, SSMRT_F32, 2, shape);
        conf_host *w = conf_case_in(&c, 1, SSMRT_F32, 1, &shape[1]);
        conf_host *z = conf_case_in(&c, 2, SSMRT_F32, 2, shape);
        if (x && w && z) {
            conf_rng_fill_normal(&r, x->f, x->n, 0.0, 1.0);
            conf_rng_fill_uniform(&r, w->f, w->n, 0.5, 1.5);
            conf_rng_fill_uniform(&r, z->f, z->n, -4.0, 4.0);
        }
        conf_case_name(&c, "x, z [%lld, %lld] group %lld eps 1e-6", (long long)shape[0],
                       (long long)shape[1], (long long)cases[i].group);
        conf_norm_params p = {CONF_RMS_GATED, 1e-6f, cases[i].group, 0};
        c.tol = conf_tol_rms_norm_gated(cases[i].group);
        c.build = conf_build_norm;
        c.params = &p;
        conf_suite_run(s, &c);
    }
}

static void conf_layer_sweep(conf_suite *s)
{
    for (size_t i = 0; i < CONF_NORM_NSHAPES; i++) {
        const conf_rows *sh = &conf_norm_shapes[i];
        if (s->quick && sh->full_only)
            continue;
        for (int bias = 0; bias < 2; bias++) {
            conf_rng r;
            conf_suite_rng(s, &r, "layer_norm", 2 * i + (size_t)bias);
            conf_case c;
            conf_case_init(&c, "layer_norm", "f32", CONF_VS_REFERENCE);
            int64_t d = sh->shape[sh->ndim - 1];
            conf_host *x = conf_case_in(&c, 0, SSMRT_F32, sh->ndim, sh->shape);
            conf_host *w = conf_case_in(&c, 1, SSMRT_F32, 1, &d);
            conf_host *b = bias ? conf_case_in(&c, 2, SSMRT_F32, 1, &d) : NULL;
            /* mean/std = 2: a one-pass variance would lose a factor 5. */
            const double mean = 2.0, sd = 1.0;
            if (x && w) {
                conf_rng_fill_normal(&r, x->f, x->n, mean, sd);
                conf_rng_fill_uniform(&r, w->f, w->n, 0.5, 1.5);
            }
            if (b)
                conf_rng_fill_normal(&r, b->f, b->n, 0.0, 0.5);
            char sb[64];
            conf_case_name(&c, "x %s ~ N(2, 1)%s eps 1e-5",
                           conf_shape_str(sh->ndim, sh->shape, sb, sizeof sb), bias ? " bias" : "");
            conf_norm_params p = {CONF_LAYER, 1e-5f, 0, bias};
            /* d = 1: x - mean is exactly 0 and the output is the bias (or 0). */
            c.tol = conf_tol_layer_norm(d, mean / sd);
            c.build = conf_build_norm;
            c.params = &p;
            conf_suite_run(s, &c);
        }
    }
}

void conf_ops_norm(conf_suite *s)
{
    if (conf_suite_wants(s, "softmax"))
        conf_softmax_sweep(s);
    if (conf_suite_wants(s, "rms_norm"))
        conf_rms_sweep(s);
    if (conf_suite_wants(s, "rms_norm_gated"))
        conf_rms_gated_sweep(s);
    if (conf_suite_wants(s, "layer_norm"))
        conf_layer_sweep(s);
}
