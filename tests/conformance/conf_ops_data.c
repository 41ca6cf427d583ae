/* Conformance cases: copy between every pair of dtypes (contiguous and strided on
 * either side, into guarded destinations), views (slice, permute, reshape) and
 * concat. All exact: the header defines conversions as round-to-nearest-even. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "conf_suite.h"
#include "conf_tolerance.h"

static const ssmrt_dtype conf_all_dtypes[] = {SSMRT_F32, SSMRT_F16, SSMRT_BF16, SSMRT_I32};

/* Values that probe conversions: halfway cases of f16 and bf16 rounding (ties go
 * to even), f16 subnormals and underflow, the f16 maximum and a value that rounds
 * to it, signed zero. */
static const float conf_copy_specials[] = {
    1.0f + 0x1p-11f,  1.0f + 3 * 0x1p-11f, -(1.0f + 0x1p-11f), /* f16 ties */
    1.0f + 0x1p-8f,   1.0f + 3 * 0x1p-8f,  -(2.0f + 0x1p-7f),  /* bf16 ties */
    0x1p-20f,         3 * 0x1p-25f,        -0x1p-24f,          /* f16 subnormals, a tie */
    1e-8f,            65504.0f,            65519.0f,           /* underflow, f16 max */
    -0.0f,            0.0f,                1e30f,              /* bf16 keeps 1e30 */
};
#define CONF_NSPECIAL (sizeof conf_copy_specials / sizeof conf_copy_specials[0])

/* Fills values suitable for a copy from src to dst. Integers in [-256, 256] when
 * either side is i32 (exact in every dtype, so float -> i32 never rounds);
 * otherwise N(0, 100) and the specials that fit the narrower dtype's range. */
static void conf_copy_values(conf_rng *r, conf_host *h, ssmrt_dtype src, ssmrt_dtype dst)
{
    int ints = src == SSMRT_I32 || dst == SSMRT_I32;
    int f16 = src == SSMRT_F16 || dst == SSMRT_F16;
    size_t k = 0;
    for (int64_t i = 0; i < h->n; i++) {
        if (ints) {
            int32_t v = (int32_t)conf_rng_int(r, -256, 256);
            if (h->i)
                h->i[i] = v;
            else
                h->f[i] = (float)v;
            continue;
        }
        if (i % 7 == 3 && k < CONF_NSPECIAL) {
            float v = conf_copy_specials[k++];
            if (f16 && fabsf(v) > 65519.0f)
                v = -3e4f;
            h->f[i] = v;
        } else {
            h->f[i] = (float)(100.0 * conf_rng_normal(r));
        }
    }
}

/* ===================================================================== */
/* copy                                                                    */
/* ===================================================================== */

enum { CONF_COPY_CONTIG, CONF_COPY_SRC_STRIDED, CONF_COPY_DST_STRIDED, CONF_COPY_BOTH, CONF_COPY_N };

typedef struct conf_copy_params {
    int variant;
    ssmrt_dtype dst;
    int ndim;
    int64_t shape[4]; /* the copied (logical) shape */
} conf_copy_params;

static void conf_build_copy(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_copy_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    ssmrt_tensor *src = in[0];
    if (p->variant == CONF_COPY_SRC_STRIDED || p->variant == CONF_COPY_BOTH) {
        /* in[0] is [5, 7, 11] (or [4, 9, 13]); take a sub-box and permute it. */
        static const int perm[3] = {2, 0, 1};
        src = ssmrt_graph_slice(g, src, 2, 1, ssmrt_tensor_dim(src, 2) - 2);
        src = ssmrt_graph_permute(g, src, perm);
    }
    if (p->variant == CONF_COPY_CONTIG || p->variant == CONF_COPY_SRC_STRIDED) {
        conf_exec_arena_guard(x, conf_bytes(p->dst, p->ndim, p->shape));
        conf_exec_output(x, ssmrt_graph_copy(g, src, p->dst));
        return;
    }
    /* Into a strided view of a guarded tensor: guard gaps on every axis. */
    static const int64_t pad[4] = {1, 2, 3, 0};
    int id = conf_exec_guarded(x, p->dst, p->ndim, p->shape, pad, NULL);
    ssmrt_graph_copy_into(g, src, conf_exec_guarded_view(x, id));
    conf_exec_output_guarded(x, id);
}

static void conf_copy_sweep(conf_suite *s)
{
    for (int si = 0; si < 4; si++) {
        for (int di = 0; di < 4; di++) {
            ssmrt_dtype src = conf_all_dtypes[si], dst = conf_all_dtypes[di];
            for (int v = 0; v < CONF_COPY_N; v++) {
                if (s->quick && (v == CONF_COPY_SRC_STRIDED || v == CONF_COPY_DST_STRIDED))
                    continue;
                conf_rng r;
                conf_suite_rng(s, &r, "copy", (uint64_t)(si * 64 + di * 8 + v));
                conf_case c;
                conf_case_init(&c, "copy", ssmrt_dtype_name(src), CONF_VS_REFERENCE);
                c.need_dtypes = (1u << src) | (1u << dst);
                conf_copy_params p = {v, dst, 0, {0}};
                int64_t in_shape[4];
                int in_ndim;
                const char *what;
                switch (v) {
                case CONF_COPY_CONTIG:
                    in_ndim = 4;
                    /* 2943 elements: 127 mod 128, so f32 and f16 outputs end just
                     * under a 256-byte unit and an overrun shows. */
                    memcpy(in_shape, (int64_t[]){3, 3, 3, 109}, sizeof in_shape);
                    memcpy(p.shape, in_shape, sizeof in_shape);
                    p.ndim = 4;
                    what = "contiguous [3, 3, 3, 109]";
                    break;
                case CONF_COPY_SRC_STRIDED:
                    in_ndim = 3;
                    memcpy(in_shape, (int64_t[]){5, 7, 11, 0}, sizeof in_shape);
                    memcpy(p.shape, (int64_t[]){9, 5, 7, 0}, sizeof in_shape);
                    p.ndim = 3;
                    what = "src: slice [5, 7, 1:10] of [5, 7, 11] permuted (2, 0, 1)";
                    break;
                case CONF_COPY_DST_STRIDED:
                    in_ndim = 3;
                    memcpy(in_shape, (int64_t[]){4, 6, 10, 0}, sizeof in_shape);
                    memcpy(p.shape, in_shape, sizeof in_shape);
                    p.ndim = 3;
                    what = "dst: strided view [4, 6, 10] of a guarded [6, 10, 16]";
                    break;
                default:
                    in_ndim = 3;
                    memcpy(in_shape, (int64_t[]){4, 9, 13, 0}, sizeof in_shape);
                    memcpy(p.shape, (int64_t[]){11, 4, 9, 0}, sizeof in_shape);
                    p.ndim = 3;
                    what = "src: permuted slice of [4, 9, 13]; dst: strided guarded view";
                    break;
                }
                conf_host *h = conf_case_in(&c, 0, src, in_ndim, in_shape);
                if (h)
                    conf_copy_values(&r, h, src, dst);
                conf_case_name(&c, "%s -> %s, %s", ssmrt_dtype_name(src), ssmrt_dtype_name(dst), what);
                c.tol = conf_tol_exact();
                c.build = conf_build_copy;
                c.params = &p;
                conf_suite_run(s, &c);
            }
        }
    }
}

/* ===================================================================== */
/* views                                                                   */
/* ===================================================================== */

enum { CONF_VIEW_SLICE, CONF_VIEW_PERMUTE, CONF_VIEW_RESHAPE, CONF_VIEW_CHAIN, CONF_VIEW_N };

typedef struct conf_view_params {
    int variant;
} conf_view_params;

static void conf_build_view(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_view_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    ssmrt_tensor *v = in[0];
    switch (p->variant) {
    case CONF_VIEW_SLICE: /* [4, 9, 6] -> [4, 5, 6] */
        v = ssmrt_graph_slice(g, v, 1, 2, 5);
        break;
    case CONF_VIEW_PERMUTE: { /* [2, 3, 4, 5] -> [5, 3, 2, 4] */
        static const int perm[4] = {3, 1, 0, 2};
        v = ssmrt_graph_permute(g, v, perm);
        break;
    }
    case CONF_VIEW_RESHAPE: { /* [6, 35] -> [2, 3, 5, 7], then a strided slice */
        static const int64_t shape[4] = {2, 3, 5, 7};
        v = ssmrt_graph_reshape(g, v, 4, shape);
        v = ssmrt_graph_slice(g, v, 3, 1, 5);
        break;
    }
    default: { /* [3, 8, 10] permuted, sliced twice, reshaped after a copy */
        static const int perm[3] = {1, 2, 0};
        static const int64_t shape[2] = {5, 21};
        v = ssmrt_graph_permute(g, v, perm);    /* [8, 10, 3] */
        v = ssmrt_graph_slice(g, v, 0, 3, 5);   /* [5, 10, 3] */
        v = ssmrt_graph_slice(g, v, 1, 2, 7);   /* [5, 7, 3] */
        v = ssmrt_graph_copy(g, v, SSMRT_F32);
        v = ssmrt_graph_reshape(g, v, 2, shape);
        break;
    }
    }
    conf_exec_output(x, ssmrt_graph_copy(g, v, SSMRT_F32));
}

static void conf_view_sweep(conf_suite *s)
{
    static const struct {
        int ndim;
        int64_t shape[4];
        const char *what;
    } cases[CONF_VIEW_N] = {
        {3, {4, 9, 6}, "slice axis 1 [2, 7) of [4, 9, 6]"},
        {4, {2, 3, 4, 5}, "permute (3, 1, 0, 2) of [2, 3, 4, 5]"},
        {2, {6, 35}, "reshape [6, 35] -> [2, 3, 5, 7], slice axis 3 [1, 6)"},
        {3, {3, 8, 10}, "permute, two slices, copy, reshape of [3, 8, 10]"},
    };
    for (int v = 0; v < CONF_VIEW_N; v++) {
        conf_rng r;
        conf_suite_rng(s, &r, "view", (uint64_t)v);
        conf_case c;
        conf_case_init(&c, "view", "f32", CONF_VS_REFERENCE);
        conf_host *h = conf_case_in(&c, 0, SSMRT_F32, cases[v].ndim, cases[v].shape);
        if (h)
            conf_rng_fill_normal(&r, h->f, h->n, 0.0, 1.0);
        conf_case_name(&c, "%s", cases[v].what);
        conf_view_params p = {v};
        c.tol = conf_tol_exact();
        c.build = conf_build_view;
        c.params = &p;
        conf_suite_run(s, &c);
    }
}

/* ===================================================================== */
/* concat                                                                  */
/* ===================================================================== */

typedef struct conf_concat_params {
    int n, axis, permuted;
} conf_concat_params;

static void conf_build_concat(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_concat_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    ssmrt_tensor *xs[4];
    for (int i = 0; i < p->n; i++)
        xs[i] = in[i];
    if (p->permuted) {
        static const int perm[3] = {0, 2, 1};
        xs[1] = ssmrt_graph_permute(g, in[1], perm);
    }
    conf_exec_output(x, ssmrt_graph_concat(g, xs, p->n, p->axis));
}

static void conf_concat_sweep(conf_suite *s)
{
    static const struct {
        ssmrt_dtype dt;
        int n, axis, permuted;
        int64_t shapes[4][3]; /* each input [a, b, c] */
    } cases[] = {
        {SSMRT_F32, 1, 0, 0, {{3, 5, 7}}},
        {SSMRT_F32, 2, 0, 0, {{3, 5, 7}, {1, 5, 7}}},
        {SSMRT_F32, 3, 1, 0, {{2, 1, 7}, {2, 6, 7}, {2, 3, 7}}},
        {SSMRT_F32, 2, 2, 0, {{2, 5, 7}, {2, 5, 129}}},
        {SSMRT_F32, 2, 1, 1, {{2, 3, 9}, {2, 9, 4}}}, /* second input is a permuted view */
        {SSMRT_F16, 3, 2, 0, {{4, 3, 1}, {4, 3, 5}, {4, 3, 2}}},
        {SSMRT_I32, 2, 0, 0, {{2, 3, 5}, {3, 3, 5}}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conf_rng r;
        conf_suite_rng(s, &r, "concat", i);
        conf_case c;
        conf_case_init(&c, "concat", ssmrt_dtype_name(cases[i].dt), CONF_VS_REFERENCE);
        c.need_dtypes = 1u << cases[i].dt;
        char desc[160] = "";
        size_t used = 0;
        for (int k = 0; k < cases[i].n; k++) {
            conf_host *h = conf_case_in(&c, k, cases[i].dt, 3, cases[i].shapes[k]);
            if (h)
                conf_copy_values(&r, h, cases[i].dt, cases[i].dt);
            char sb[48];
            used += (size_t)snprintf(desc + used, sizeof desc - used, "%s%s", k ? " + " : "",
                                     conf_shape_str(3, cases[i].shapes[k], sb, sizeof sb));
            if (used >= sizeof desc)
                break;
        }
        conf_case_name(&c, "%s along axis %d%s", desc, cases[i].axis,
                       cases[i].permuted ? " (second permuted (0, 2, 1))" : "");
        conf_concat_params p = {cases[i].n, cases[i].axis, cases[i].permuted};
        c.tol = conf_tol_exact();
        c.build = conf_build_concat;
        c.params = &p;
        conf_suite_run(s, &c);
    }
}

void conf_ops_data(conf_suite *s)
{
    if (conf_suite_wants(s, "copy"))
        conf_copy_sweep(s);
    if (conf_suite_wants(s, "view"))
        conf_view_sweep(s);
    if (conf_suite_wants(s, "concat"))
        conf_concat_sweep(s);
}
