/* Graphs: creation, sticky errors, graph tensors, views, results. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "graph.h"

ssmrt_status ssmrt_graph_create(ssmrt_context *ctx, ssmrt_graph **out)
{
    if (!out)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_graph_create: out_graph is NULL");
    *out = NULL;
    if (!ctx)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_graph_create: context is NULL");
    ssmrt_graph *g = ssmrt__calloc(1, sizeof *g);
    if (!g)
        return SSMRT_ERR_OUT_OF_MEMORY;
    g->ctx = ctx;
    *out = g;
    return SSMRT_OK;
}

void ssmrt_graph_destroy(ssmrt_graph *g)
{
    if (!g)
        return;
    for (uint32_t i = 0; i < g->n_tensors; i++) {
        ssmrt__storage_release(g->tensors[i]->storage);
        ssmrt__free(g->tensors[i]);
    }
    ssmrt__free(g->tensors);
    ssmrt__free(g->nodes);
    ssmrt__free(g->values);
    ssmrt__device_free(g->ctx, g->arena, g->arena_bytes);
    ssmrt__free(g);
}

ssmrt_status ssmrt_graph_status(const ssmrt_graph *g)
{
    if (!g)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "graph is NULL");
    if (g->status)
        ssmrt__fail(g->status, "%s", g->message);
    return g->status;
}

void ssmrt_graph_stats(const ssmrt_graph *g, uint32_t *n_ops, uint64_t *arena_bytes,
                       uint64_t *unplanned_bytes)
{
    if (n_ops)
        *n_ops = g ? g->n_nodes : 0;
    if (arena_bytes)
        *arena_bytes = g ? g->arena_need : 0;
    if (unplanned_bytes)
        *unplanned_bytes = g ? g->unplanned_bytes : 0;
}

ssmrt_tensor *ssmrt__graph_fail(ssmrt_graph *g, ssmrt_status st, const char *fmt, ...)
{
    if (g->status)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    ssmrt__failv(st, fmt, ap);
    va_end(ap);
    g->status = st;
    snprintf(g->message, sizeof g->message, "%s", ssmrt_last_error());
    return NULL;
}

int ssmrt__graph_check_input(ssmrt_graph *g, const ssmrt_tensor *t, const char *op, const char *arg)
{
    if (!t) {
        ssmrt__graph_fail(g, SSMRT_ERR_INVALID_ARGUMENT, "%s: %s is NULL", op, arg);
        return 0;
    }
    if (t->ctx != g->ctx) {
        ssmrt__graph_fail(g, SSMRT_ERR_INVALID_ARGUMENT, "%s: %s belongs to another context", op, arg);
        return 0;
    }
    if (t->graph && t->graph != g) {
        ssmrt__graph_fail(g, SSMRT_ERR_INVALID_ARGUMENT, "%s: %s belongs to another graph", op, arg);
        return 0;
    }
    return 1;
}

static int ssmrt__graph_grow(ssmrt_graph *g, void **array, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return 1;
    uint32_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *grown = ssmrt__realloc(*array, (size_t)ncap * elem);
    if (!grown) {
        ssmrt__graph_fail(g, SSMRT_ERR_OUT_OF_MEMORY, "%s", ssmrt_last_error());
        return 0;
    }
    *array = grown;
    *cap = ncap;
    return 1;
}

static ssmrt_tensor *ssmrt__graph_adopt(ssmrt_graph *g)
{
    if (!ssmrt__graph_grow(g, (void **)&g->tensors, &g->cap_tensors, g->n_tensors + 1, sizeof(ssmrt_tensor *)))
        return NULL;
    ssmrt_tensor *t = ssmrt__calloc(1, sizeof *t);
    if (!t)
        return ssmrt__graph_fail(g, SSMRT_ERR_OUT_OF_MEMORY, "%s", ssmrt_last_error());
    t->ctx = g->ctx;
    t->graph = g;
    t->value = -1;
    g->tensors[g->n_tensors++] = t;
    return t;
}

ssmrt_tensor *ssmrt__graph_new_tensor(ssmrt_graph *g, ssmrt_dtype dtype, int ndim, const int64_t *shape)
{
    if (g->status)
        return NULL;
    uint64_t bytes = ssmrt_dtype_size(dtype);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || __builtin_mul_overflow(bytes, (uint64_t)shape[i], &bytes) || bytes > (1ull << 62))
            return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "graph tensor size overflows");
    if (!ssmrt__graph_grow(g, (void **)&g->values, &g->cap_values, g->n_values + 1, sizeof(ssmrt__value)))
        return NULL;
    ssmrt_tensor *t = ssmrt__graph_adopt(g);
    if (!t)
        return NULL;
    ssmrt__value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->bytes = bytes;
    v->first = (int32_t)g->n_nodes;
    v->last = (int32_t)g->n_nodes;
    t->value = (int32_t)g->n_values++;
    t->dtype = dtype;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    ssmrt__contiguous_strides(ndim, t->shape, t->stride);
    g->planned = 0;
    return t;
}

ssmrt_tensor *ssmrt__graph_view(ssmrt_graph *g, ssmrt_tensor *src)
{
    ssmrt_tensor *t = ssmrt__graph_adopt(g);
    if (!t)
        return NULL;
    t->storage = src->storage;
    if (t->storage)
        t->storage->refs++;
    t->value = src->value;
    t->offset = src->offset;
    t->dtype = src->dtype;
    t->ndim = src->ndim;
    memcpy(t->shape, src->shape, sizeof t->shape);
    memcpy(t->stride, src->stride, sizeof t->stride);
    return t;
}

/* ---- views ------------------------------------------------------------------ */

ssmrt_tensor *ssmrt_graph_slice(ssmrt_graph *g, ssmrt_tensor *x, int axis, int64_t start, int64_t len)
{
    if (!g || g->status || !ssmrt__graph_check_input(g, x, "slice", "x"))
        return NULL;
    int a = axis < 0 ? axis + x->ndim : axis;
    if (a < 0 || a >= x->ndim)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "slice: axis %d out of range for %d dims", axis, x->ndim);
    if (start < 0 || len < 0 || start > x->shape[a] || len > x->shape[a] - start)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE,
                                 "slice: [%lld, %lld) out of range for axis %d of size %lld",
                                 (long long)start, (long long)(start + len), a, (long long)x->shape[a]);
    ssmrt_tensor *t = ssmrt__graph_view(g, x);
    if (!t)
        return NULL;
    t->offset += (uint64_t)(start * x->stride[a]) * ssmrt_dtype_size(x->dtype);
    t->shape[a] = len;
    return t;
}

ssmrt_tensor *ssmrt_graph_reshape(ssmrt_graph *g, ssmrt_tensor *x, int ndim, const int64_t *shape)
{
    if (!g || g->status || !ssmrt__graph_check_input(g, x, "reshape", "x"))
        return NULL;
    if (ndim < 1 || ndim > SSMRT_MAX_DIMS || !shape)
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "reshape: ndim %d not in 1..%d", ndim, SSMRT_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "reshape: dim %d is negative", i);
        n *= shape[i];
    }
    char buf[96];
    if (n != ssmrt_tensor_nelements(x))
        return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "reshape: %lld elements cannot view %s",
                                 (long long)n, ssmrt__shape_str(x, buf, sizeof buf));
    ssmrt_tensor *c = ssmrt__graph_contiguous(g, x);
    if (!c)
        return NULL;
    ssmrt_tensor *t = ssmrt__graph_view(g, c);
    if (!t)
        return NULL;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    ssmrt__contiguous_strides(ndim, t->shape, t->stride);
    return t;
}

ssmrt_tensor *ssmrt_graph_permute(ssmrt_graph *g, ssmrt_tensor *x, const int *perm)
{
    if (!g || g->status || !ssmrt__graph_check_input(g, x, "permute", "x"))
        return NULL;
    if (!perm)
        return ssmrt__graph_fail(g, SSMRT_ERR_INVALID_ARGUMENT, "permute: perm is NULL");
    int seen[SSMRT_MAX_DIMS] = {0};
    for (int i = 0; i < x->ndim; i++) {
        if (perm[i] < 0 || perm[i] >= x->ndim || seen[perm[i]]++)
            return ssmrt__graph_fail(g, SSMRT_ERR_SHAPE, "permute: perm is not a permutation of %d axes", x->ndim);
    }
    ssmrt_tensor *t = ssmrt__graph_view(g, x);
    if (!t)
        return NULL;
    for (int i = 0; i < x->ndim; i++) {
        t->shape[i] = x->shape[perm[i]];
        t->stride[i] = x->stride[perm[i]];
    }
    return t;
}

/* ---- kernel descriptors ---------------------------------------------------------- */

void ssmrt__desc_flat(ssmrt_tensor_desc *d, const ssmrt_tensor *t, int ndim, const int64_t *shape)
{
    memset(d, 0, sizeof *d);
    if (!t)
        return;
    d->dtype = (uint32_t)t->dtype;
    d->ndim = (uint32_t)ndim;
    memcpy(d->shape, shape, (size_t)ndim * sizeof *shape);
    ssmrt__contiguous_strides(ndim, d->shape, d->stride);
}

void ssmrt__desc_strided(ssmrt_tensor_desc *d, const ssmrt_tensor *t)
{
    memset(d, 0, sizeof *d);
    int pad = SSMRT_MAX_DIMS - t->ndim;
    d->dtype = (uint32_t)t->dtype;
    d->ndim = SSMRT_MAX_DIMS;
    for (int i = 0; i < SSMRT_MAX_DIMS; i++) {
        d->shape[i] = i < pad ? 1 : t->shape[i - pad];
        d->stride[i] = i < pad ? 0 : t->stride[i - pad];
    }
}

static const char *const ssmrt__op_names[SSMRT_OP_KIND_COUNT] = {
    "copy", "add", "mul", "scale", "silu", "sigmoid", "softplus", "gelu", "exp", "softmax",
    "rms_norm", "rms_norm_gated", "layer_norm", "matmul", "embedding", "topk_route",
    "selective_scan", "conv1d_causal", "conv_long", "attention"};

int ssmrt__graph_commit(ssmrt_graph *g, ssmrt__node *node)
{
    if (g->status)
        return 0;
    node->op.struct_size = sizeof(ssmrt_op);
    if (!g->ctx->vt->supports(g->ctx->device, &node->op)) {
        char types[128] = "";
        size_t used = 0;
        for (uint32_t i = 0; i < node->op.n_src && used < sizeof types; i++)
            if (node->src[i])
                used += (size_t)snprintf(types + used, sizeof types - used, "%s%s", used ? "," : "",
                                         ssmrt_dtype_name(node->src[i]->dtype));
        ssmrt__graph_fail(g, SSMRT_ERR_UNSUPPORTED, "%s: backend %s (%s) has no kernel for dtypes (%s)",
                          ssmrt__op_names[node->op.kind], g->ctx->info.backend, g->ctx->info.name, types);
        return 0;
    }
    if (!ssmrt__graph_grow(g, (void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof(ssmrt__node)))
        return 0;
    int32_t idx = (int32_t)g->n_nodes;
    node->name = ssmrt__op_names[node->op.kind];
    for (uint32_t i = 0; i < SSMRT_OP_MAX_SRC; i++)
        if (node->src[i] && node->src[i]->value >= 0) {
            ssmrt__value *v = &g->values[node->src[i]->value];
            if (v->last < idx)
                v->last = idx;
        }
    for (uint32_t i = 0; i < SSMRT_OP_MAX_DST; i++)
        if (node->dst[i] && node->dst[i]->value >= 0) {
            ssmrt__value *v = &g->values[node->dst[i]->value];
            if (v->first > idx)
                v->first = idx;
            if (v->last < idx)
                v->last = idx;
        }
    g->nodes[g->n_nodes++] = *node;
    g->planned = 0;
    return 1;
}

const char *ssmrt__op_name(uint32_t kind)
{
    return kind < SSMRT_OP_KIND_COUNT ? ssmrt__op_names[kind] : "invalid";
}

/* ---- results ------------------------------------------------------------------ */

ssmrt_tensor *ssmrt_graph_output(ssmrt_graph *g, ssmrt_tensor *x)
{
    if (!g || g->status || !ssmrt__graph_check_input(g, x, "output", "x"))
        return NULL;
    if (x->value >= 0)
        g->values[x->value].output = 1;
    return x;
}

ssmrt_status ssmrt_graph_read(ssmrt_graph *g, const ssmrt_tensor *x, void *dst, size_t bytes)
{
    if (!g || !x || (bytes && !dst))
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_graph_read: NULL argument");
    if (x->graph != g && x->graph)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_graph_read: tensor of another graph");
    if (!ssmrt__is_contiguous(x))
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_graph_read: tensor is a strided view");
    uint64_t need = (uint64_t)ssmrt_tensor_nelements(x) * ssmrt_dtype_size(x->dtype);
    if (bytes != need)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_graph_read: %zu bytes given, tensor holds %llu",
                           bytes, (unsigned long long)need);
    void *buffer;
    uint64_t offset = x->offset;
    if (x->storage) {
        buffer = x->storage->buffer;
    } else {
        if (!g->computed)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_graph_read: the graph has not been computed");
        if (!g->values[x->value].output)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "ssmrt_graph_read: tensor was not marked with ssmrt_graph_output "
                               "before compute, so its memory may have been reused");
        buffer = g->arena;
        offset += g->values[x->value].offset;
    }
    if (g->ctx->vt->buffer_download(g->ctx->device, buffer, offset, dst, bytes) != 0)
        return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "ssmrt_graph_read");
    return SSMRT_OK;
}

ssmrt_status ssmrt_graph_read_f32(ssmrt_graph *g, const ssmrt_tensor *x, float *dst, size_t count)
{
    if (!x)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_graph_read_f32: tensor is NULL");
    if (x->dtype == SSMRT_F32)
        return ssmrt_graph_read(g, x, dst, count * sizeof(float));
    size_t es = ssmrt_dtype_size(x->dtype);
    void *tmp = ssmrt__malloc(count * es + 1);
    if (!tmp)
        return SSMRT_ERR_OUT_OF_MEMORY;
    ssmrt_status st = ssmrt_graph_read(g, x, tmp, count * es);
    if (st == SSMRT_OK)
        ssmrt__convert_to_f32(x->dtype, tmp, dst, count);
    ssmrt__free(tmp);
    return st;
}
