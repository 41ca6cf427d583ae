/* Internal: graph structures shared by the builders (graph_ops.c), the views
 * (graph.c) and the planner/executor (graph_exec.c). */
#ifndef SSMRT_GRAPH_H
#define SSMRT_GRAPH_H

#include "internal.h"

/* One arena allocation: the memory of a graph tensor that an op writes. */
typedef struct ssmrt__value {
    uint64_t bytes;
    int32_t first;   /* node that writes it */
    int32_t last;    /* last node that reads it */
    int32_t output;  /* kept alive to the end (ssmrt_graph_output) */
    uint64_t offset; /* in the arena, once planned */
} ssmrt__value;

typedef struct ssmrt__node {
    ssmrt_op op;                             /* descriptors without buffers */
    ssmrt_tensor *src[SSMRT_OP_MAX_SRC];     /* NULL for absent inputs */
    ssmrt_tensor *dst[SSMRT_OP_MAX_DST];
    const char *name;                        /* the builder, for messages */
} ssmrt__node;

struct ssmrt_graph {
    ssmrt_context *ctx;
    ssmrt_status status;                     /* first builder error (sticky) */
    char message[1024];                      /* its message */
    ssmrt_tensor **tensors;                  /* owned graph tensors */
    uint32_t n_tensors, cap_tensors;
    ssmrt__node *nodes;
    uint32_t n_nodes, cap_nodes;
    ssmrt__value *values;
    uint32_t n_values, cap_values;
    int planned;
    uint64_t arena_need, unplanned_bytes;
    void *arena;
    uint64_t arena_bytes;
    int computed;                            /* results readable */
};

/* Records a builder failure (sticky) and returns NULL for the builder to return. */
ssmrt_tensor *ssmrt__graph_fail(ssmrt_graph *g, ssmrt_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Checks a builder input belongs to g's context (and to g if a graph tensor). */
int ssmrt__graph_check_input(ssmrt_graph *g, const ssmrt_tensor *t, const char *op,
                             const char *arg);
/* A new graph tensor, with its own arena value, contiguous. */
ssmrt_tensor *ssmrt__graph_new_tensor(ssmrt_graph *g, ssmrt_dtype dtype, int ndim,
                                      const int64_t *shape);
/* A graph tensor viewing the memory of t (shape/strides/offset set by the caller). */
ssmrt_tensor *ssmrt__graph_view(ssmrt_graph *g, ssmrt_tensor *t);
/* t if contiguous, else a contiguous copy of it (same dtype). */
ssmrt_tensor *ssmrt__graph_contiguous(ssmrt_graph *g, ssmrt_tensor *t);
/* Fills a kernel descriptor for t with the given kernel-side shape (t contiguous
 * and of the same element count), or an absent descriptor for NULL. */
void ssmrt__desc_flat(ssmrt_tensor_desc *d, const ssmrt_tensor *t, int ndim, const int64_t *shape);
/* A 4-d descriptor with t's own strides (leading dims padded with 1). */
void ssmrt__desc_strided(ssmrt_tensor_desc *d, const ssmrt_tensor *t);
/* Asks the backend, then appends the node and updates lifetimes. */
int ssmrt__graph_commit(ssmrt_graph *g, ssmrt__node *node);

#endif
