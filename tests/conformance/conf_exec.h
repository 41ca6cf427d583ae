/*
 * conf_exec.h: running one case on one context through the public API, with the
 * checks that catch writes outside an op's output.
 *
 * A case's build function records ops on conf_exec_graph(), registers what it wants
 * compared with conf_exec_output*(), and may call conf_exec_compute() itself (to run
 * several graphs in a row, e.g. token-by-token decode with state carried in
 * persistent tensors); the runner computes whatever graph is left at the end.
 *
 * Three guard mechanisms, all through the public API:
 *
 *  1. Guarded destinations (conf_exec_guarded). Ops that write into caller memory
 *     (scan and conv1d state_out, copy_into, a KV cache) get a view into a larger
 *     persistent "backing" tensor, padded on chosen axes and filled with a NaN
 *     sentinel bit pattern. After compute the whole backing tensor is downloaded:
 *     every element outside the view must still hold the sentinel bits (padding on
 *     axis 0 puts guards before and after in memory; padding on inner axes leaves
 *     guard gaps between the rows of a strided view). Elements inside the view that
 *     were not written stay NaN and fail the comparison.
 *
 *  2. Arena canaries (conf_exec_arena_guard), for outputs the graph planner places
 *     in its arena. Just before the op under test the harness records
 *        canary_lo = fill(S)  (output)   hole = fill(S)   canary_hi = fill(S) (output)
 *        tiny read of hole (its last use)
 *     so when the op runs, the hole (sized like the op's output) is free and lies
 *     between two canaries that are kept alive to the end. A planner that reuses
 *     freed ranges first-fit (or best-fit) puts the output into the hole, so a
 *     kernel writing past either end of its output hits a canary, which is read
 *     back and must still be all S. With other placements (e.g. when the graph
 *     inserts a copy of a strided input, which takes the hole first) the canaries
 *     still guard whatever live memory lies next to them. Limitation: the planner
 *     aligns every buffer to 256 bytes, so a write just past the end of an output
 *     lands in padding unless the output fills its last 256-byte unit; every sweep
 *     has a case with 192 f32 outputs so that one-element overruns show.
 *
 *  3. Input integrity. Every persistent input is downloaded right after upload and
 *     again after each compute; any change means a kernel wrote into an input.
 */
#ifndef CONF_EXEC_H
#define CONF_EXEC_H

#include <stdint.h>

#include "conf_host.h"
#include "ssmrt.h"

#define CONF_MAX_IN 12
#define CONF_MAX_OUT 24
#define CONF_MAX_GUARDED 8
#define CONF_MAX_READS 48

/* The f32 value the arena canaries hold; exactly representable, and not a value any
 * op of the suite produces by accident from the harness's inputs. */
#define CONF_CANARY_VALUE 1234.5f

typedef struct conf_output {
    double *v;
    int64_t n;
} conf_output;

typedef struct conf_guarded {
    ssmrt_tensor *backing;
    ssmrt_dtype dtype;
    int ndim;
    int64_t shape[SSMRT_MAX_DIMS];   /* the view */
    int64_t pad[SSMRT_MAX_DIMS];     /* guard elements before and after, per axis */
    int64_t bshape[SSMRT_MAX_DIMS];  /* the backing tensor */
    ssmrt_tensor *view;              /* in the current graph, or NULL */
} conf_guarded;

typedef struct conf_read {
    ssmrt_tensor *t;   /* graph tensor marked as output */
    int guarded;       /* index into guarded[], or -1 */
    int canary;        /* 1: must read back as all CONF_CANARY_VALUE; 2: likewise (above) */
} conf_read;

typedef struct conf_exec {
    ssmrt_context *ctx;
    ssmrt_graph *g;
    int n_computes;

    ssmrt_tensor *inputs[CONF_MAX_IN];
    void *input_bytes[CONF_MAX_IN];  /* downloaded right after upload */
    size_t input_size[CONF_MAX_IN];
    int n_inputs;

    conf_guarded guarded[CONF_MAX_GUARDED];
    int n_guarded;

    conf_read reads[CONF_MAX_READS];
    int n_reads;

    ssmrt_tensor *zeros;      /* persistent f32 zeros, the source of canary fills */
    int64_t zeros_n;

    conf_output out[CONF_MAX_OUT];
    int n_out;

    /* First failure. status != OK: an API call failed (message from the runtime).
     * violation: a guard or an input was overwritten. */
    ssmrt_status status;
    int violation;
    char message[400];
} conf_exec;

void conf_exec_init(conf_exec *x, ssmrt_context *ctx);
/* Releases every tensor and graph (and the outputs). */
void conf_exec_free(conf_exec *x);
/* 1 if nothing has failed so far. */
int conf_exec_ok(const conf_exec *x);
/* Records a harness-side failure (e.g. a missing output) with status st. */
void conf_exec_fail(conf_exec *x, ssmrt_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Uploads h into a new persistent tensor (integrity checked); NULL h gives NULL
 * (an absent optional input). NULL on failure (recorded). */
ssmrt_tensor *conf_exec_input(conf_exec *x, const conf_host *h);

/* The current graph (created on first use after each compute). */
ssmrt_graph *conf_exec_graph(conf_exec *x);

/* A guarded destination of the given shape, padded by pad[axis] sentinel elements
 * on both sides of each axis (pad NULL: one slab before and after along axis 0).
 * init: f32 values for the view (e.g. an initial state), or NULL to leave it
 * sentinel. Returns an id for conf_exec_guarded_view / conf_exec_output_guarded,
 * or -1 on failure. */
int conf_exec_guarded(conf_exec *x, ssmrt_dtype dtype, int ndim, const int64_t *shape,
                      const int64_t *pad, const float *init);
/* The view of guarded id in the current graph (a slice per padded axis). */
ssmrt_tensor *conf_exec_guarded_view(conf_exec *x, int id);

/* Arms the arena canaries for an op whose output occupies out_bytes; call right
 * before recording the op. */
void conf_exec_arena_guard(conf_exec *x, uint64_t out_bytes);

/* Compares t (a graph tensor; marked as output here) after the next compute. */
void conf_exec_output(conf_exec *x, ssmrt_tensor *t);
/* Compares the contents of guarded id's view after the next compute (and checks
 * its guards). */
void conf_exec_output_guarded(conf_exec *x, int id);

/* Computes the current graph, reads the registered outputs, checks canaries,
 * guards and inputs, and destroys the graph. Returns the first failure status. */
ssmrt_status conf_exec_compute(conf_exec *x);

#endif
