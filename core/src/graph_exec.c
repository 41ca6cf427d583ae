/* Memory planning and execution of graphs.
 *
 * Planning walks the nodes in order. Before node i runs, the values it writes
 * first are placed in the arena; after it, the values whose last reader is i are
 * returned to a free list (outputs never are). Placement is best-fit over the free
 * blocks, merging neighbours, so buffers are reused by lifetime and the arena is
 * the peak of live intermediates rather than their sum. Inputs and outputs of one
 * node never share memory, since frees happen after the node's own allocations. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "graph.h"
#include "log.h"

#define SSMRT__ARENA_ALIGN 256u

typedef struct ssmrt__block {
    uint64_t offset, bytes;
} ssmrt__block;

typedef struct ssmrt__free_list {
    ssmrt__block *blocks;
    uint32_t n, cap;
    uint64_t end; /* the arena's high-water mark */
} ssmrt__free_list;

static uint64_t ssmrt__align(uint64_t x) { return (x + SSMRT__ARENA_ALIGN - 1) & ~(uint64_t)(SSMRT__ARENA_ALIGN - 1); }

static uint64_t ssmrt__take(ssmrt__free_list *fl, uint64_t bytes)
{
    bytes = ssmrt__align(bytes ? bytes : 1);
    int best = -1;
    for (uint32_t i = 0; i < fl->n; i++)
        if (fl->blocks[i].bytes >= bytes && (best < 0 || fl->blocks[i].bytes < fl->blocks[best].bytes))
            best = (int)i;
    if (best < 0) {
        /* Grow the arena, absorbing a free block that ends at the top. */
        for (uint32_t i = 0; i < fl->n; i++)
            if (fl->blocks[i].offset + fl->blocks[i].bytes == fl->end) {
                uint64_t off = fl->blocks[i].offset;
                fl->end = off + bytes;
                fl->blocks[i] = fl->blocks[--fl->n];
                return off;
            }
        uint64_t off = fl->end;
        fl->end += bytes;
        return off;
    }
    uint64_t off = fl->blocks[best].offset;
    fl->blocks[best].offset += bytes;
    fl->blocks[best].bytes -= bytes;
    if (!fl->blocks[best].bytes)
        fl->blocks[best] = fl->blocks[--fl->n];
    return off;
}

static int ssmrt__give_back(ssmrt__free_list *fl, uint64_t offset, uint64_t bytes)
{
    bytes = ssmrt__align(bytes ? bytes : 1);
    for (uint32_t i = 0; i < fl->n; i++) { /* merge with neighbours */
        ssmrt__block *b = &fl->blocks[i];
        if (b->offset + b->bytes == offset) {
            offset = b->offset;
            bytes += b->bytes;
            fl->blocks[i--] = fl->blocks[--fl->n];
        } else if (offset + bytes == b->offset) {
            bytes += b->bytes;
            fl->blocks[i--] = fl->blocks[--fl->n];
        }
    }
    if (fl->n == fl->cap) {
        uint32_t ncap = fl->cap ? fl->cap * 2 : 32;
        ssmrt__block *grown = ssmrt__realloc(fl->blocks, ncap * sizeof *grown);
        if (!grown)
            return 0;
        fl->blocks = grown;
        fl->cap = ncap;
    }
    fl->blocks[fl->n].offset = offset;
    fl->blocks[fl->n].bytes = bytes;
    fl->n++;
    return 1;
}

static ssmrt_status ssmrt__graph_plan(ssmrt_graph *g)
{
    ssmrt__free_list fl = {0};
    /* values in order of first write; a value list per node start keeps this linear */
    uint32_t nv = g->n_values;
    uint64_t unplanned = 0;
    int32_t *order = ssmrt__malloc((size_t)nv * sizeof *order + 1);
    if (!order)
        return SSMRT_ERR_OUT_OF_MEMORY;
    for (uint32_t i = 0; i < nv; i++)
        order[i] = (int32_t)i;
    /* values are created in node order already, except views made before their writer;
     * an insertion sort on first is near-linear here */
    for (uint32_t i = 1; i < nv; i++)
        for (uint32_t j = i; j > 0 && g->values[order[j - 1]].first > g->values[order[j]].first; j--) {
            int32_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    int32_t *by_last = ssmrt__malloc((size_t)nv * sizeof *by_last + 1);
    if (!by_last) {
        ssmrt__free(order);
        return SSMRT_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < nv; i++)
        by_last[i] = (int32_t)i;
    for (uint32_t i = 1; i < nv; i++)
        for (uint32_t j = i; j > 0 && g->values[by_last[j - 1]].last > g->values[by_last[j]].last; j--) {
            int32_t t = by_last[j];
            by_last[j] = by_last[j - 1];
            by_last[j - 1] = t;
        }
    uint32_t next_alloc = 0, next_free = 0;
    int ok = 1;
    for (int32_t node = 0; node <= (int32_t)g->n_nodes && ok; node++) {
        while (next_alloc < nv && g->values[order[next_alloc]].first <= node) {
            ssmrt__value *v = &g->values[order[next_alloc++]];
            v->offset = ssmrt__take(&fl, v->bytes);
            unplanned += ssmrt__align(v->bytes ? v->bytes : 1);
        }
        while (next_free < nv && g->values[by_last[next_free]].last <= node) {
            ssmrt__value *v = &g->values[by_last[next_free++]];
            if (!v->output && !ssmrt__give_back(&fl, v->offset, v->bytes))
                ok = 0;
        }
    }
    ssmrt__free(order);
    ssmrt__free(by_last);
    ssmrt__free(fl.blocks);
    if (!ok)
        return SSMRT_ERR_OUT_OF_MEMORY;
    g->arena_need = fl.end;
    g->unplanned_bytes = unplanned;
    g->planned = 1;
    return SSMRT_OK;
}

const char *ssmrt__op_name(uint32_t kind);

/* Resolves a descriptor's buffer and offset for tensor t now that the arena exists. */
static void ssmrt__bind(ssmrt_graph *g, ssmrt_tensor_desc *d, const ssmrt_tensor *t)
{
    if (!t)
        return;
    if (t->storage) {
        d->buffer = t->storage->buffer;
        d->offset = t->offset;
    } else {
        d->buffer = g->arena;
        d->offset = g->values[t->value].offset + t->offset;
    }
}

/* Enqueues every op in one batch and waits. With timed, device timer marks go
 * outside the batch (slot 0 before begin_batch, slot 1 after end_batch): inside
 * it a mark would split the batch, and the CUDA plugin could no longer replay a
 * repeated batch as one graph, so the time measured would not be the time run. */
static ssmrt_status ssmrt__graph_run(ssmrt_graph *g, int timed, double *out_ms)
{
    if (!g)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_graph_compute: graph is NULL");
    if (g->status)
        return ssmrt__fail(g->status, "%s", g->message);
    ssmrt_context *ctx = g->ctx;
    const ssmrt_backend_vtable *vt = ctx->vt;
    if (timed && (!vt->timer_mark || !vt->timer_read))
        return ssmrt__fail(SSMRT_ERR_UNSUPPORTED, "ssmrt_graph_compute_timed: backend %s has no device timer",
                           ctx->info.backend);
    g->computed = 0;
    if (!g->planned) {
        ssmrt_status st = ssmrt__graph_plan(g);
        if (st)
            return st;
    }
    if (!g->arena || g->arena_bytes < g->arena_need) {
        ssmrt__device_free(ctx, g->arena, g->arena_bytes);
        g->arena = NULL;
        g->arena_bytes = 0;
        ssmrt_status st = ssmrt__device_alloc(ctx, g->arena_need, &g->arena);
        if (st)
            return ssmrt__fail_prefix(st, "graph of %u ops needs a %llu-byte arena", g->n_nodes,
                                      (unsigned long long)g->arena_need);
        g->arena_bytes = g->arena_need;
    }
    if (timed && vt->timer_mark(ctx->device, 0) != 0)
        return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "%s: timer", ctx->info.backend);
    int batched = vt->begin_batch && vt->end_batch;
    if (batched && vt->begin_batch(ctx->device) != 0)
        return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "%s: begin_batch", ctx->info.backend);
    for (uint32_t i = 0; i < g->n_nodes; i++) {
        ssmrt__node *n = &g->nodes[i];
        ssmrt_op op = n->op;
        for (uint32_t s = 0; s < op.n_src; s++)
            ssmrt__bind(g, &op.src[s], n->src[s]);
        for (uint32_t s = 0; s < op.n_dst; s++)
            ssmrt__bind(g, &op.dst[s], n->dst[s]);
        if (vt->enqueue(ctx->device, &op) != 0) {
            ssmrt_status st = ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "%s: op %u (%s)", ctx->info.backend, i,
                                                 ssmrt__op_name(op.kind));
            if (batched) {
                char saved[1024];
                snprintf(saved, sizeof saved, "%s", ssmrt_last_error());
                vt->end_batch(ctx->device);
                vt->synchronize(ctx->device);
                ssmrt__fail(st, "%s", saved);
            }
            return st;
        }
    }
    if (batched && vt->end_batch(ctx->device) != 0)
        return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "%s: end_batch", ctx->info.backend);
    if (timed && vt->timer_mark(ctx->device, 1) != 0) {
        vt->synchronize(ctx->device);
        return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "%s: timer", ctx->info.backend);
    }
    if (vt->synchronize(ctx->device) != 0)
        return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "%s: synchronize", ctx->info.backend);
    g->computed = 1;
    if (timed) {
        double ns = 0.0;
        if (vt->timer_read(ctx->device, 0, 1, &ns) != 0)
            return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "%s: timer", ctx->info.backend);
        *out_ms = ns * 1e-6;
    }
    return SSMRT_OK;
}

ssmrt_status ssmrt_graph_compute(ssmrt_graph *g)
{
    return ssmrt__graph_run(g, 0, NULL);
}

ssmrt_status ssmrt_graph_compute_timed(ssmrt_graph *g, double *out_device_ms)
{
    if (!out_device_ms)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_graph_compute_timed: out_device_ms is NULL");
    *out_device_ms = 0.0;
    return ssmrt__graph_run(g, 1, out_device_ms);
}
