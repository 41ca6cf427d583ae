/* Conformance cases: add, mul (with broadcasting), scale, silu, sigmoid, softplus,
 * gelu, exp. */
#include <stdio.h>

#include "conf_suite.h"
#include "conf_tolerance.h"

typedef ssmrt_tensor *(*conf_unary_fn)(ssmrt_graph *, ssmrt_tensor *);

typedef struct conf_unary_params {
    conf_unary_fn fn;   /* NULL: scale */
    float alpha, beta;
    int permute;        /* input is a transposed view of a 2-d tensor */
} conf_unary_params;

static void conf_build_unary(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_unary_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    ssmrt_tensor *a = in[0];
    if (p->permute) {
        static const int perm[2] = {1, 0};
        a = ssmrt_graph_permute(g, a, perm);
    }
    conf_exec_arena_guard(x, (uint64_t)ssmrt_tensor_nelements(in[0]) * 4u);
    ssmrt_tensor *y = p->fn ? p->fn(g, a) : ssmrt_graph_scale(g, a, p->alpha, p->beta);
    conf_exec_output(x, y);
}

typedef struct conf_unary_op {
    const char *name;
    conf_unary_fn fn;
    double range; /* inputs uniform in [-range, range] */
} conf_unary_op;

static void conf_unary_sweep(conf_suite *s, const conf_unary_op *op)
{
    static const struct {
        int ndim;
        int64_t shape[4];
        int permute;
        int full_only;
    } shapes[] = {
        {1, {1}, 0, 1},
        {1, {7}, 0, 0},
        {2, {3, 64}, 0, 0}, /* 192 elements: one past the end leaves its last 256-byte unit */
        {2, {3, 129}, 0, 0},
        {4, {2, 5, 33, 17}, 0, 0},
        {1, {4099}, 0, 1},
        {2, {64, 1001}, 0, 1},
        {2, {5, 33}, 1, 0}, /* a transposed (strided) input */
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (s->quick && shapes[i].full_only)
            continue;
        conf_rng r;
        conf_suite_rng(s, &r, op->name, i);
        conf_case c;
        conf_case_init(&c, op->name, "f32", CONF_VS_REFERENCE);
        conf_host *h = conf_case_in(&c, 0, SSMRT_F32, shapes[i].ndim, shapes[i].shape);
        if (h)
            conf_rng_fill_uniform(&r, h->f, h->n, -op->range, op->range);
        char sb[64];
        conf_case_name(&c, "x %s%s in [-%g, %g]",
                       conf_shape_str(shapes[i].ndim, shapes[i].shape, sb, sizeof sb),
                       shapes[i].permute ? " transposed view" : "", op->range, op->range);
        conf_unary_params p = {op->fn, 0.0f, 0.0f, shapes[i].permute};
        if (!op->fn) {
            /* scale: alpha and beta chosen so neither term dominates. */
            p.alpha = 0.37f;
            p.beta = -1.25f;
            c.tol = conf_tol_scale(op->range * 0.37, 1.25);
        } else {
            c.tol = conf_tol_unary(op->range);
        }
        c.build = conf_build_unary;
        c.params = &p;
        conf_suite_run(s, &c);
    }
}

/* ===================================================================== */
/* add, mul                                                                */
/* ===================================================================== */

typedef struct conf_binary_params {
    int mul;
} conf_binary_params;

static void conf_build_binary(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_binary_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    conf_exec_arena_guard(x, (uint64_t)ssmrt_tensor_nelements(in[0]) * 4u);
    conf_exec_output(x, p->mul ? ssmrt_graph_mul(g, in[0], in[1]) : ssmrt_graph_add(g, in[0], in[1]));
}

static void conf_binary_sweep(conf_suite *s, const char *name, int mul)
{
    static const struct {
        int na;
        int64_t a[4];
        int nb;
        int64_t b[4];
        int full_only;
    } shapes[] = {
        {1, {1}, 1, {1}, 1},
        {1, {7}, 1, {7}, 0},
        {2, {3, 64}, 1, {64}, 0}, /* 192 elements */
        {2, {3, 129}, 1, {129}, 0},
        {2, {3, 129}, 2, {3, 1}, 0},
        {4, {2, 5, 33, 17}, 3, {5, 1, 17}, 0},
        {4, {2, 5, 33, 17}, 4, {2, 1, 33, 1}, 1},
        {4, {2, 5, 33, 17}, 1, {1}, 1},
        {3, {3, 7, 11}, 3, {3, 7, 11}, 1},
        {1, {4099}, 1, {4099}, 1},
        {2, {64, 1001}, 2, {64, 1}, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (s->quick && shapes[i].full_only)
            continue;
        conf_rng r;
        conf_suite_rng(s, &r, name, i);
        conf_case c;
        conf_case_init(&c, name, "f32", CONF_VS_REFERENCE);
        conf_host *a = conf_case_in(&c, 0, SSMRT_F32, shapes[i].na, shapes[i].a);
        conf_host *b = conf_case_in(&c, 1, SSMRT_F32, shapes[i].nb, shapes[i].b);
        if (a)
            conf_rng_fill_normal(&r, a->f, a->n, 0.0, 1.0);
        if (b)
            conf_rng_fill_normal(&r, b->f, b->n, 0.0, 1.0);
        char sa[64], sb[64];
        conf_case_name(&c, "a %s, b %s", conf_shape_str(shapes[i].na, shapes[i].a, sa, sizeof sa),
                       conf_shape_str(shapes[i].nb, shapes[i].b, sb, sizeof sb));
        conf_binary_params p = {mul};
        c.tol = conf_tol_binary();
        c.build = conf_build_binary;
        c.params = &p;
        conf_suite_run(s, &c);
    }
}

void conf_ops_elementwise(conf_suite *s)
{
    if (conf_suite_wants(s, "add"))
        conf_binary_sweep(s, "add", 0);
    if (conf_suite_wants(s, "mul"))
        conf_binary_sweep(s, "mul", 1);
    const conf_unary_op unary[] = {
        {"scale", NULL, 8.0},
        {"silu", ssmrt_graph_silu, 8.0},
        {"sigmoid", ssmrt_graph_sigmoid, 8.0},
        {"softplus", ssmrt_graph_softplus, 25.0}, /* crosses the x > 20 threshold */
        {"gelu", ssmrt_graph_gelu, 8.0},
        {"exp", ssmrt_graph_exp, 10.0},
    };
    for (size_t i = 0; i < sizeof unary / sizeof unary[0]; i++)
        if (conf_suite_wants(s, unary[i].name))
            conf_unary_sweep(s, &unary[i]);
}
