/* Graph builders: shape checks and node construction for every op of ssmrt.h.
 *
 * Each builder checks its arguments (naming the op and the offending shape), makes
 * inputs contiguous where the kernel needs it, describes them with the flat shapes
 * of the kernel contract (ssmrt_backend.h) and commits one node. */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "graph.h"

#define SHAPE(t) ssmrt__shape_str((t), shape_buf, sizeof shape_buf)

/* Checks an input and returns it contiguous (copying if needed), or NULL. */
static ssmrt_tensor *ssmrt__in(ssmrt_graph *g, ssmrt_tensor *t, const char *op, const char *arg)
{
    if (!g || g->status || !ssmrt__graph_check_input(g, t, op, arg))
        return NULL;
    return ssmrt__graph_contiguous(g, t);
}

/* Optional inputs: NULL stays NULL without error. ok is cleared on failure. */
static ssmrt_tensor *ssmrt__in_opt(ssmrt_graph *g, ssmrt_tensor *t, const char *op, const char *arg, int *ok)
{
    if (!t)
        return NULL;
    ssmrt_tensor *c = ssmrt__in(g, t, op, arg);
    if (!c)
        *ok = 0;
    return c;
}

static int ssmrt__is_float(ssmrt_dtype d) { return d == SSMRT_F32 || d == SSMRT_F16 || d == SSMRT_BF16; }

static ssmrt_tensor *ssmrt__need_f32(ssmrt_graph *g, const ssmrt_tensor *t, const char *op, const char *arg)
{
    if (t->dtype != SSMRT_F32)
        return ssmrt__graph_fail(g, SSMRT_ERR_INVALID_ARGUMENT, "%s: %s must be f32, got %s", op, arg,
                                 ssmrt_dtype_name(t->dtype));
    return (ssmrt_tensor *)t;
}

static void ssmrt__node_init(ssmrt__node *n, ssmrt_op_kind kind, uint32_t n_src, uint32_t n_dst)
{
    memset(n, 0, sizeof *n);
    n->op.kind = (uint32_t)kind;
    n->op.n_src = n_src;
    n->op.n_dst = n_dst;
}

static void ssmrt__node_src(ssmrt__node *n, int i, ssmrt_tensor *t, int ndim, const int64_t *shape)
{
    n->src[i] = t;
    ssmrt__desc_flat(&n->op.src[i], t, ndim, shape);
}

static void ssmrt__node_dst(ssmrt__node *n, int i, ssmrt_tensor *t, int ndim, const int64_t *shape)
{
    n->dst[i] = t;
    ssmrt__desc_flat(&n->op.dst[i], t, ndim, shape);
}

static int64_t ssmrt__rows(const ssmrt_tensor *t)
{
    int64_t r = 1;
    for (int i = 0; i < t->ndim - 1; i++)
        r *= t->shape[i];
    return r;
}

/* ---- data movement ----------------------------------------------------------- */

static ssmrt_tensor *ssmrt__copy_node(ssmrt_graph *g, ssmrt_tensor *src, ssmrt_tensor *dst)
{
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_COPY, 1, 1);
    n.src[0] = src;
    n.dst[0] = dst;
    ssmrt__desc_strided(&n.op.src[0], src);
    ssmrt__desc_strided(&n.op.dst[0], dst);
    return ssmrt__graph_commit(g, &n) ? dst : NULL;
}

ssmrt_tensor *ssmrt__graph_contiguous(ssmrt_graph *g, ssmrt_tensor *t)
{
    if (g->status)
        return NULL;
    if (ssmrt__is_contiguous(t))
        return t;
    ssmrt_tensor *c = ssmrt__graph_new_tensor(g, t->dtype, t->ndim, t->shape);
    return c ? ssmrt__copy_node(g, t, c) : NULL;
}

ssmrt_tensor *ssmrt_graph_copy(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_dtype dtype)
{
    if (!g || g->status || !ssmrt__graph_check_input(g, x, "copy", "x"))
        return NULL;
    if ((unsigned)dtype >= SSMRT_DTYPE_COUNT)
        return ssmrt__graph_fail(g, SSMRT_ERR_INVALID_ARGUMENT, "copy: invalid dtype %d", (int)dtype);
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, dtype, x->ndim, x->shape);
    return y ? ssmrt__copy_node(g, x, y) : NULL;
}

ssmrt_tensor *ssmrt_graph_copy_into(ssmrt_graph *g, ssmrt_tensor *src, ssmrt_tensor *dst)
{
    if (!g || g->status || !ssmrt__graph_check_input(g, src, "copy_into", "src") ||
        !ssmrt__graph_check_input(g, dst, "copy_into", "dst"))
        return NULL;
    char shape_buf[96], b2[96];
    if (src->ndim != dst->ndim || memcmp(src->shape, dst->shape, (size_t)src->ndim * sizeof(int64_t)))
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "copy_into: src %s and dst %s differ in shape",
                                 SHAPE(src), ssmrt__shape_str(dst, b2, sizeof b2));
    return ssmrt__copy_node(g, src, dst);
}

ssmrt_tensor *ssmrt_graph_concat(ssmrt_graph *g, ssmrt_tensor *const *xs, int n, int axis)
{
    if (!g || g->status)
        return NULL;
    if (!xs || n < 1)
        return ssmrt__graph_fail(g, SSMRT_ERR_INVALID_ARGUMENT, "concat: no inputs");
    for (int i = 0; i < n; i++)
        if (!ssmrt__graph_check_input(g, xs[i], "concat", "input"))
            return NULL;
    int nd = xs[0]->ndim;
    int a = axis < 0 ? axis + nd : axis;
    if (a < 0 || a >= nd)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "concat: axis %d out of range for %d dims", axis, nd);
    int64_t shape[SSMRT_MAX_DIMS];
    memcpy(shape, xs[0]->shape, sizeof shape);
    shape[a] = 0;
    char shape_buf[96], b2[96];
    for (int i = 0; i < n; i++) {
        const ssmrt_tensor *x = xs[i];
        int same = x->ndim == nd && x->dtype == xs[0]->dtype;
        for (int d = 0; same && d < nd; d++)
            same = d == a || x->shape[d] == xs[0]->shape[d];
        if (!same)
            return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "concat: input %d %s %s does not fit input 0 %s %s on axis %d",
                                     i, ssmrt_dtype_name(x->dtype), SHAPE(x), ssmrt_dtype_name(xs[0]->dtype),
                                     ssmrt__shape_str(xs[0], b2, sizeof b2), a);
        shape[a] += x->shape[a];
    }
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, xs[0]->dtype, nd, shape);
    int64_t at = 0;
    for (int i = 0; y && i < n; i++) {
        ssmrt_tensor *part = ssmrt_graph_slice(g, y, a, at, xs[i]->shape[a]);
        if (!part || !ssmrt__copy_node(g, xs[i], part))
            return NULL;
        at += xs[i]->shape[a];
    }
    return g->status ? NULL : y;
}

/* ---- elementwise --------------------------------------------------------------- */

static void ssmrt__pad4(const ssmrt_tensor *t, int64_t *out)
{
    int pad = SSMRT_MAX_DIMS - t->ndim;
    for (int i = 0; i < SSMRT_MAX_DIMS; i++)
        out[i] = i < pad ? 1 : t->shape[i - pad];
}

static ssmrt_tensor *ssmrt__binary(ssmrt_graph *g, ssmrt_op_kind kind, const char *name, ssmrt_tensor *a,
                                   ssmrt_tensor *b)
{
    a = ssmrt__in(g, a, name, "a");
    b = a ? ssmrt__in(g, b, name, "b") : NULL;
    if (!a || !b || !ssmrt__need_f32(g, a, name, "a") || !ssmrt__need_f32(g, b, name, "b"))
        return NULL;
    char shape_buf[96], b2[96];
    if (b->ndim > a->ndim)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: b %s has more dims than a %s", name, SHAPE(b),
                                 ssmrt__shape_str(a, b2, sizeof b2));
    int64_t sa[4], sb[4];
    ssmrt__pad4(a, sa);
    ssmrt__pad4(b, sb);
    for (int i = 0; i < 4; i++)
        if (sb[i] != sa[i] && sb[i] != 1)
            return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: b %s does not broadcast to a %s", name, SHAPE(b),
                                     ssmrt__shape_str(a, b2, sizeof b2));
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, a->ndim, a->shape);
    if (!y)
        return NULL;
    ssmrt__node n;
    ssmrt__node_init(&n, kind, 2, 1);
    ssmrt__node_src(&n, 0, a, 4, sa);
    ssmrt__node_src(&n, 1, b, 4, sb);
    ssmrt__node_dst(&n, 0, y, 4, sa);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

ssmrt_tensor *ssmrt_graph_add(ssmrt_graph *g, ssmrt_tensor *a, ssmrt_tensor *b)
{
    return ssmrt__binary(g, SSMRT_OP_ADD, "add", a, b);
}

ssmrt_tensor *ssmrt_graph_mul(ssmrt_graph *g, ssmrt_tensor *a, ssmrt_tensor *b)
{
    return ssmrt__binary(g, SSMRT_OP_MUL, "mul", a, b);
}

static ssmrt_tensor *ssmrt__unary(ssmrt_graph *g, ssmrt_op_kind kind, const char *name, ssmrt_tensor *x,
                                  ssmrt__node *n)
{
    x = ssmrt__in(g, x, name, "x");
    if (!x || !ssmrt__need_f32(g, x, name, "x"))
        return NULL;
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, x->ndim, x->shape);
    if (!y)
        return NULL;
    int64_t count = ssmrt_tensor_nelements(x);
    ssmrt_op_params params = n->op.params;
    ssmrt__node_init(n, kind, 1, 1);
    n->op.params = params;
    ssmrt__node_src(n, 0, x, 1, &count);
    ssmrt__node_dst(n, 0, y, 1, &count);
    return ssmrt__graph_commit(g, n) ? y : NULL;
}

#define SSMRT__UNARY(fn, kind, name)                                   \
    ssmrt_tensor *fn(ssmrt_graph *g, ssmrt_tensor *x)                  \
    {                                                                  \
        ssmrt__node n;                                                 \
        memset(&n, 0, sizeof n);                                       \
        return ssmrt__unary(g, kind, name, x, &n);                     \
    }
SSMRT__UNARY(ssmrt_graph_silu, SSMRT_OP_SILU, "silu")
SSMRT__UNARY(ssmrt_graph_sigmoid, SSMRT_OP_SIGMOID, "sigmoid")
SSMRT__UNARY(ssmrt_graph_softplus, SSMRT_OP_SOFTPLUS, "softplus")
SSMRT__UNARY(ssmrt_graph_gelu, SSMRT_OP_GELU, "gelu")
SSMRT__UNARY(ssmrt_graph_exp, SSMRT_OP_EXP, "exp")

ssmrt_tensor *ssmrt_graph_scale(ssmrt_graph *g, ssmrt_tensor *x, float alpha, float beta)
{
    ssmrt__node n;
    memset(&n, 0, sizeof n);
    n.op.params.scale.alpha = alpha;
    n.op.params.scale.beta = beta;
    return ssmrt__unary(g, SSMRT_OP_SCALE, "scale", x, &n);
}

/* ---- normalisation ------------------------------------------------------------------ */

/* Checks a per-feature vector (weight or bias) of length d. */
static int ssmrt__check_vec(ssmrt_graph *g, const ssmrt_tensor *v, int64_t d, const char *op, const char *arg)
{
    char shape_buf[96];
    if (v->dtype != SSMRT_F32 || ssmrt_tensor_nelements(v) != d || v->ndim != 1) {
        ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: %s must be f32 [%lld], got %s %s", op, arg, (long long)d,
                          ssmrt_dtype_name(v->dtype), SHAPE(v));
        return 0;
    }
    return 1;
}

ssmrt_tensor *ssmrt_graph_softmax(ssmrt_graph *g, ssmrt_tensor *x)
{
    x = ssmrt__in(g, x, "softmax", "x");
    if (!x || !ssmrt__need_f32(g, x, "softmax", "x"))
        return NULL;
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, x->ndim, x->shape);
    if (!y)
        return NULL;
    int64_t s[2] = {ssmrt__rows(x), x->shape[x->ndim - 1]};
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_SOFTMAX, 1, 1);
    ssmrt__node_src(&n, 0, x, 2, s);
    ssmrt__node_dst(&n, 0, y, 2, s);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

ssmrt_tensor *ssmrt_graph_rms_norm(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_tensor *weight, float eps)
{
    x = ssmrt__in(g, x, "rms_norm", "x");
    weight = x ? ssmrt__in(g, weight, "rms_norm", "weight") : NULL;
    if (!weight || !ssmrt__need_f32(g, x, "rms_norm", "x"))
        return NULL;
    int64_t d = x->shape[x->ndim - 1];
    if (!ssmrt__check_vec(g, weight, d, "rms_norm", "weight"))
        return NULL;
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, x->ndim, x->shape);
    if (!y)
        return NULL;
    int64_t s[2] = {ssmrt__rows(x), d};
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_RMS_NORM, 2, 1);
    n.op.params.norm.eps = eps;
    ssmrt__node_src(&n, 0, x, 2, s);
    ssmrt__node_src(&n, 1, weight, 1, &d);
    ssmrt__node_dst(&n, 0, y, 2, s);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

ssmrt_tensor *ssmrt_graph_rms_norm_gated(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_tensor *z, ssmrt_tensor *weight,
                                         int64_t group_size, float eps)
{
    x = ssmrt__in(g, x, "rms_norm_gated", "x");
    z = x ? ssmrt__in(g, z, "rms_norm_gated", "z") : NULL;
    weight = z ? ssmrt__in(g, weight, "rms_norm_gated", "weight") : NULL;
    if (!weight || !ssmrt__need_f32(g, x, "rms_norm_gated", "x") || !ssmrt__need_f32(g, z, "rms_norm_gated", "z"))
        return NULL;
    char shape_buf[96], b2[96];
    if (z->ndim != x->ndim || memcmp(z->shape, x->shape, (size_t)x->ndim * sizeof(int64_t)))
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "rms_norm_gated: z %s differs from x %s", SHAPE(z),
                                 ssmrt__shape_str(x, b2, sizeof b2));
    int64_t d = x->shape[x->ndim - 1];
    if (!ssmrt__check_vec(g, weight, d, "rms_norm_gated", "weight"))
        return NULL;
    if (group_size <= 0 || d % group_size)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "rms_norm_gated: group_size %lld does not divide %lld",
                                 (long long)group_size, (long long)d);
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, x->ndim, x->shape);
    if (!y)
        return NULL;
    int64_t s[2] = {ssmrt__rows(x), d};
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_RMS_NORM_GATED, 3, 1);
    n.op.params.norm.eps = eps;
    n.op.params.norm.group_size = group_size;
    ssmrt__node_src(&n, 0, x, 2, s);
    ssmrt__node_src(&n, 1, z, 2, s);
    ssmrt__node_src(&n, 2, weight, 1, &d);
    ssmrt__node_dst(&n, 0, y, 2, s);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

ssmrt_tensor *ssmrt_graph_layer_norm(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_tensor *weight, ssmrt_tensor *bias,
                                     float eps)
{
    int ok = 1;
    x = ssmrt__in(g, x, "layer_norm", "x");
    weight = x ? ssmrt__in(g, weight, "layer_norm", "weight") : NULL;
    bias = weight ? ssmrt__in_opt(g, bias, "layer_norm", "bias", &ok) : NULL;
    if (!weight || !ok || !ssmrt__need_f32(g, x, "layer_norm", "x"))
        return NULL;
    int64_t d = x->shape[x->ndim - 1];
    if (!ssmrt__check_vec(g, weight, d, "layer_norm", "weight") ||
        (bias && !ssmrt__check_vec(g, bias, d, "layer_norm", "bias")))
        return NULL;
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, x->ndim, x->shape);
    if (!y)
        return NULL;
    int64_t s[2] = {ssmrt__rows(x), d};
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_LAYER_NORM, 3, 1);
    n.op.params.norm.eps = eps;
    ssmrt__node_src(&n, 0, x, 2, s);
    ssmrt__node_src(&n, 1, weight, 1, &d);
    ssmrt__node_src(&n, 2, bias, 1, &d);
    ssmrt__node_dst(&n, 0, y, 2, s);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

/* ---- linear algebra ------------------------------------------------------------------- */

ssmrt_tensor *ssmrt_graph_matmul(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_tensor *w, ssmrt_tensor *bias)
{
    int ok = 1;
    x = ssmrt__in(g, x, "matmul", "x");
    w = x ? ssmrt__in(g, w, "matmul", "w") : NULL;
    bias = w ? ssmrt__in_opt(g, bias, "matmul", "bias", &ok) : NULL;
    if (!w || !ok || !ssmrt__need_f32(g, x, "matmul", "x"))
        return NULL;
    char shape_buf[96], b2[96];
    if (w->ndim != 2 || !ssmrt__is_float(w->dtype))
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "matmul: w must be a 2-d f32/f16/bf16 [N, K], got %s %s",
                                 ssmrt_dtype_name(w->dtype), SHAPE(w));
    int64_t k = x->shape[x->ndim - 1], nout = w->shape[0];
    if (w->shape[1] != k)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "matmul: x %s has K=%lld but w %s has K=%lld", SHAPE(x),
                                 (long long)k, ssmrt__shape_str(w, b2, sizeof b2), (long long)w->shape[1]);
    if (bias && !ssmrt__check_vec(g, bias, nout, "matmul", "bias"))
        return NULL;
    int64_t shape[SSMRT_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 1] = nout;
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, x->ndim, shape);
    if (!y)
        return NULL;
    int64_t m = ssmrt__rows(x);
    int64_t sx[2] = {m, k}, sy[2] = {m, nout};
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_MATMUL, 3, 1);
    ssmrt__node_src(&n, 0, x, 2, sx);
    ssmrt__node_src(&n, 1, w, 2, w->shape);
    ssmrt__node_src(&n, 2, bias, 1, &nout);
    ssmrt__node_dst(&n, 0, y, 2, sy);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

ssmrt_tensor *ssmrt_graph_embedding(ssmrt_graph *g, ssmrt_tensor *table, ssmrt_tensor *ids)
{
    table = ssmrt__in(g, table, "embedding", "table");
    ids = table ? ssmrt__in(g, ids, "embedding", "ids") : NULL;
    if (!ids)
        return NULL;
    char shape_buf[96];
    if (table->ndim != 2 || !ssmrt__is_float(table->dtype))
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "embedding: table must be 2-d f32/f16/bf16 [V, D], got %s %s",
                                 ssmrt_dtype_name(table->dtype), SHAPE(table));
    if (ids->dtype != SSMRT_I32 || ids->ndim > 3)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "embedding: ids must be i32 with at most 3 dims, got %s %s",
                                 ssmrt_dtype_name(ids->dtype), SHAPE(ids));
    int64_t shape[SSMRT_MAX_DIMS];
    memcpy(shape, ids->shape, (size_t)ids->ndim * sizeof *shape);
    shape[ids->ndim] = table->shape[1];
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, ids->ndim + 1, shape);
    if (!y)
        return NULL;
    int64_t m = ssmrt_tensor_nelements(ids);
    int64_t sy[2] = {m, table->shape[1]};
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_EMBEDDING, 2, 1);
    ssmrt__node_src(&n, 0, table, 2, table->shape);
    ssmrt__node_src(&n, 1, ids, 1, &m);
    ssmrt__node_dst(&n, 0, y, 2, sy);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

ssmrt_tensor *ssmrt_graph_topk_route(ssmrt_graph *g, ssmrt_tensor *logits, int k, int renormalize)
{
    logits = ssmrt__in(g, logits, "topk_route", "logits");
    if (!logits || !ssmrt__need_f32(g, logits, "topk_route", "logits"))
        return NULL;
    int64_t e = logits->shape[logits->ndim - 1];
    if (k < 1 || k > e)
        return ssmrt__graph_fail(g, SSMRT_ERR_INVALID_ARGUMENT, "topk_route: k=%d not in 1..%lld experts", k,
                                 (long long)e);
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, logits->ndim, logits->shape);
    if (!y)
        return NULL;
    int64_t s[2] = {ssmrt__rows(logits), e};
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_TOPK_ROUTE, 1, 1);
    n.op.params.topk.k = k;
    n.op.params.topk.renormalize = renormalize ? 1 : 0;
    ssmrt__node_src(&n, 0, logits, 2, s);
    ssmrt__node_dst(&n, 0, y, 2, s);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

/* ---- state-space and sequence ops ----------------------------------------------------------- */

/* Checks t is f32 with exactly the given shape; names arg and both shapes. */
static int ssmrt__expect(ssmrt_graph *g, const ssmrt_tensor *t, int ndim, const int64_t *shape, const char *op,
                         const char *arg)
{
    int same = t->ndim == ndim && t->dtype == SSMRT_F32;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char shape_buf[96], want[96];
        size_t used = (size_t)snprintf(want, sizeof want, "[");
        for (int i = 0; i < ndim; i++)
            used += (size_t)snprintf(want + used, sizeof want - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
        snprintf(want + used, sizeof want - used, "]");
        ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: %s must be f32 %s, got %s %s", op, arg, want,
                          ssmrt_dtype_name(t->dtype), SHAPE(t));
        return 0;
    }
    return 1;
}

ssmrt_tensor *ssmrt_graph_selective_scan(ssmrt_graph *g, ssmrt_tensor *u, ssmrt_tensor *delta, ssmrt_tensor *A,
                                         ssmrt_tensor *Bm, ssmrt_tensor *Cm, ssmrt_tensor *Dskip, ssmrt_tensor *z,
                                         ssmrt_tensor *delta_bias, int delta_softplus, ssmrt_tensor *state,
                                         ssmrt_tensor *state_out)
{
    const char *op = "selective_scan";
    int ok = 1;
    u = ssmrt__in(g, u, op, "u");
    delta = u ? ssmrt__in(g, delta, op, "delta") : NULL;
    A = delta ? ssmrt__in(g, A, op, "A") : NULL;
    Bm = A ? ssmrt__in(g, Bm, op, "B") : NULL;
    Cm = Bm ? ssmrt__in(g, Cm, op, "C") : NULL;
    if (!Cm)
        return NULL;
    Dskip = ssmrt__in_opt(g, Dskip, op, "D", &ok);
    z = ssmrt__in_opt(g, z, op, "z", &ok);
    delta_bias = ssmrt__in_opt(g, delta_bias, op, "delta_bias", &ok);
    state = ssmrt__in_opt(g, state, op, "state", &ok);
    if (!ok)
        return NULL;
    if (state_out && (!ssmrt__graph_check_input(g, state_out, op, "state_out")))
        return NULL;
    char shape_buf[96];
    if (u->ndim != 4)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: u must be [B, L, H, P], got %s", op, SHAPE(u));
    int64_t b = u->shape[0], l = u->shape[1], h = u->shape[2], p = u->shape[3];
    if (!ssmrt__need_f32(g, u, op, "u"))
        return NULL;
    if (Bm->ndim != 4 || Bm->shape[0] != b || Bm->shape[1] != l)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: B must be [%lld, %lld, G, N], got %s", op, (long long)b,
                                 (long long)l, SHAPE(Bm));
    int64_t grp = Bm->shape[2], nst = Bm->shape[3];
    if (grp < 1 || h % grp)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: %lld groups do not divide %lld heads", op,
                                 (long long)grp, (long long)h);
    int64_t s_delta[3] = {b, l, h}, s_bc[4] = {b, l, grp, nst}, s_a2[2] = {h, nst}, s_h[1] = {h},
            s_state[4] = {b, h, p, nst};
    if (!ssmrt__expect(g, delta, 3, s_delta, op, "delta") || !ssmrt__expect(g, Bm, 4, s_bc, op, "B") ||
        !ssmrt__expect(g, Cm, 4, s_bc, op, "C"))
        return NULL;
    if (A->ndim == 2 ? !ssmrt__expect(g, A, 2, s_a2, op, "A") : !ssmrt__expect(g, A, 1, s_h, op, "A"))
        return NULL;
    if ((Dskip && !ssmrt__expect(g, Dskip, 1, s_h, op, "D")) || (z && !ssmrt__expect(g, z, 4, u->shape, op, "z")) ||
        (delta_bias && !ssmrt__expect(g, delta_bias, 1, s_h, op, "delta_bias")) ||
        (state && !ssmrt__expect(g, state, 4, s_state, op, "state")) ||
        (state_out && !ssmrt__expect(g, state_out, 4, s_state, op, "state_out")))
        return NULL;
    if (state_out && !ssmrt__is_contiguous(state_out))
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: state_out must be contiguous", op);
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, 4, u->shape);
    if (!y)
        return NULL;
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_SELECTIVE_SCAN, SSMRT_SCAN_NSRC, 2);
    n.op.params.scan.delta_softplus = delta_softplus ? 1 : 0;
    ssmrt__node_src(&n, SSMRT_SCAN_U, u, 4, u->shape);
    ssmrt__node_src(&n, SSMRT_SCAN_DELTA, delta, 3, s_delta);
    ssmrt__node_src(&n, SSMRT_SCAN_A, A, A->ndim, A->shape);
    ssmrt__node_src(&n, SSMRT_SCAN_B, Bm, 4, s_bc);
    ssmrt__node_src(&n, SSMRT_SCAN_C, Cm, 4, s_bc);
    ssmrt__node_src(&n, SSMRT_SCAN_D, Dskip, 1, s_h);
    ssmrt__node_src(&n, SSMRT_SCAN_Z, z, 4, u->shape);
    ssmrt__node_src(&n, SSMRT_SCAN_DELTA_BIAS, delta_bias, 1, s_h);
    ssmrt__node_src(&n, SSMRT_SCAN_STATE, state, 4, s_state);
    ssmrt__node_dst(&n, 0, y, 4, u->shape);
    ssmrt__node_dst(&n, 1, state_out, 4, s_state);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

ssmrt_tensor *ssmrt_graph_conv1d_causal(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_tensor *weight, ssmrt_tensor *bias,
                                        int silu, ssmrt_tensor *state, ssmrt_tensor *state_out)
{
    const char *op = "conv1d_causal";
    int ok = 1;
    x = ssmrt__in(g, x, op, "x");
    weight = x ? ssmrt__in(g, weight, op, "weight") : NULL;
    if (!weight)
        return NULL;
    bias = ssmrt__in_opt(g, bias, op, "bias", &ok);
    state = ssmrt__in_opt(g, state, op, "state", &ok);
    if (!ok || (state_out && !ssmrt__graph_check_input(g, state_out, op, "state_out")))
        return NULL;
    char shape_buf[96];
    if (x->ndim != 3 || !ssmrt__need_f32(g, x, op, "x"))
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: x must be f32 [B, L, D], got %s", op, SHAPE(x));
    int64_t b = x->shape[0], d = x->shape[2];
    if (weight->ndim != 2 || weight->shape[0] != d || weight->shape[1] < 1 || weight->dtype != SSMRT_F32)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: weight must be f32 [%lld, W], got %s %s", op,
                                 (long long)d, ssmrt_dtype_name(weight->dtype), SHAPE(weight));
    int64_t w = weight->shape[1];
    int64_t s_state[3] = {b, d, w - 1}, s_d[1] = {d};
    if ((bias && !ssmrt__expect(g, bias, 1, s_d, op, "bias")) ||
        (state && !ssmrt__expect(g, state, 3, s_state, op, "state")) ||
        (state_out && !ssmrt__expect(g, state_out, 3, s_state, op, "state_out")))
        return NULL;
    if (state_out && !ssmrt__is_contiguous(state_out))
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: state_out must be contiguous", op);
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, 3, x->shape);
    if (!y)
        return NULL;
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_CONV1D_CAUSAL, SSMRT_CONV_NSRC, 2);
    n.op.params.conv.silu = silu ? 1 : 0;
    ssmrt__node_src(&n, SSMRT_CONV_X, x, 3, x->shape);
    ssmrt__node_src(&n, SSMRT_CONV_W, weight, 2, weight->shape);
    ssmrt__node_src(&n, SSMRT_CONV_BIAS, bias, 1, s_d);
    ssmrt__node_src(&n, SSMRT_CONV_STATE, state, 3, s_state);
    ssmrt__node_dst(&n, 0, y, 3, x->shape);
    ssmrt__node_dst(&n, 1, state_out, 3, s_state);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

ssmrt_tensor *ssmrt_graph_conv_long(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_tensor *kernel)
{
    const char *op = "conv_long";
    x = ssmrt__in(g, x, op, "x");
    kernel = x ? ssmrt__in(g, kernel, op, "kernel") : NULL;
    if (!kernel)
        return NULL;
    char shape_buf[96];
    if (x->ndim != 3 || !ssmrt__need_f32(g, x, op, "x"))
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: x must be f32 [B, L, D], got %s", op, SHAPE(x));
    if (kernel->ndim != 2 || kernel->shape[0] != x->shape[2] || kernel->shape[1] < x->shape[1] ||
        kernel->dtype != SSMRT_F32)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: kernel must be f32 [%lld, Lk >= %lld], got %s %s", op,
                                 (long long)x->shape[2], (long long)x->shape[1], ssmrt_dtype_name(kernel->dtype),
                                 SHAPE(kernel));
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, SSMRT_F32, 3, x->shape);
    if (!y)
        return NULL;
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_CONV_LONG, 2, 1);
    ssmrt__node_src(&n, 0, x, 3, x->shape);
    ssmrt__node_src(&n, 1, kernel, 2, kernel->shape);
    ssmrt__node_dst(&n, 0, y, 3, x->shape);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}

ssmrt_tensor *ssmrt_graph_attention(ssmrt_graph *g, ssmrt_tensor *q, ssmrt_tensor *k, ssmrt_tensor *v, float scale)
{
    const char *op = "attention";
    if (!g || g->status || !ssmrt__graph_check_input(g, q, op, "q") || !ssmrt__graph_check_input(g, k, op, "k") ||
        !ssmrt__graph_check_input(g, v, op, "v"))
        return NULL;
    char shape_buf[96], b2[96];
    /* One dtype for q, k, v and the output (f32, f16 or bf16): kernels load all
     * three the same way, and a mix would be a silent precision choice. */
    if (!ssmrt__is_float(q->dtype))
        return ssmrt__graph_fail(g, SSMRT_ERR_INVALID_ARGUMENT, "%s: q must be f32, f16 or bf16, got %s", op,
                                 ssmrt_dtype_name(q->dtype));
    if (k->dtype != q->dtype || v->dtype != q->dtype)
        return ssmrt__graph_fail(g, SSMRT_ERR_INVALID_ARGUMENT,
                                 "%s: q, k and v must share one dtype, got q %s, k %s, v %s", op,
                                 ssmrt_dtype_name(q->dtype), ssmrt_dtype_name(k->dtype), ssmrt_dtype_name(v->dtype));
    if (q->ndim != 4)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: q must be [B, Lq, Hq, Dh], got %s", op, SHAPE(q));
    if (k->ndim != 4)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: k must be [B, Lk, Hk, Dh], got %s", op, SHAPE(k));
    if (v->ndim != 4 || memcmp(k->shape, v->shape, sizeof k->shape))
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "%s: v %s differs from k %s", op, SHAPE(v),
                                 ssmrt__shape_str(k, b2, sizeof b2));
    if (k->shape[0] != q->shape[0] || k->shape[3] != q->shape[3] || k->shape[1] < q->shape[1] || k->shape[2] < 1 ||
        q->shape[2] % k->shape[2])
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE,
                                 "%s: k %s does not fit q %s (need same B and Dh, Lk >= Lq, Hk dividing Hq)", op,
                                 SHAPE(k), ssmrt__shape_str(q, b2, sizeof b2));
    ssmrt_tensor *y = ssmrt__graph_new_tensor(g, q->dtype, 4, q->shape);
    if (!y)
        return NULL;
    ssmrt__node n;
    ssmrt__node_init(&n, SSMRT_OP_ATTENTION, 3, 1);
    n.op.params.attention.scale = scale;
    n.src[0] = q;
    n.src[1] = k;
    n.src[2] = v;
    ssmrt__desc_strided(&n.op.src[0], q);
    ssmrt__desc_strided(&n.op.src[1], k);
    ssmrt__desc_strided(&n.op.src[2], v);
    ssmrt__node_dst(&n, 0, y, 4, q->shape);
    return ssmrt__graph_commit(g, &n) ? y : NULL;
}
