/* Internal: turning safetensors entries into persistent device tensors.
 *
 * Errors are sticky, like graph builders: after the first failure every getter returns
 * NULL and w->status keeps the first error (whose message names the tensor), so a
 * model loader can fetch all its weights and check once. */
#ifndef SSMRT_MODEL_WEIGHTS_H
#define SSMRT_MODEL_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "ssmrt.h"
#include "ssmrt_safetensors.h"

typedef enum ssmrt__wconv {
    /* Kept in the file's dtype (f32, f16 or bf16): matmul weights and embeddings. */
    SSMRT__W_NATIVE = 0,
    /* Converted to f32 (ops take their small parameters in f32): norms, biases, D,
     * dt_bias, conv weights. f16/bf16 -> f32 is exact. */
    SSMRT__W_F32 = 1,
    /* A = -exp(A_log), computed on the host in double from the stored values and
     * rounded once to f32 (the dtype transformers computes A in). */
    SSMRT__W_NEG_EXP = 2
} ssmrt__wconv;

typedef struct ssmrt__weights {
    ssmrt_context *ctx;
    ssmrt_safetensors *st;
    const char *label;        /* for messages: the directory */
    ssmrt_status status;      /* first error, sticky */
    uint64_t bytes;           /* device bytes of the tensors created */
    ssmrt_tensor **tensors;   /* every tensor created, in order */
    size_t count, cap;
} ssmrt__weights;

/* Opens path (a directory, a .safetensors file or a sharded index). */
ssmrt_status ssmrt__weights_open(ssmrt__weights *w, ssmrt_context *ctx, const char *path);
/* Closes the file. The tensors are not touched: take them with ssmrt__weights_take
 * or destroy them with ssmrt__weights_destroy_tensors. */
void ssmrt__weights_close(ssmrt__weights *w);
/* Destroys every tensor created and frees the list. */
void ssmrt__weights_destroy_tensors(ssmrt__weights *w);

/* 1 if the file holds a tensor of that name. */
int ssmrt__weights_has(ssmrt__weights *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The tensor named by fmt, which must have exactly the file shape (ndim, shape); the
 * device tensor gets that shape too. NULL on error (see above). */
ssmrt_tensor *ssmrt__weights_get(ssmrt__weights *w, ssmrt__wconv conv, int ndim,
                                 const int64_t *shape, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Same, with a different device shape of the same element count (a Conv1d weight
 * [D, 1, W] becomes [D, W]). */
ssmrt_tensor *ssmrt__weights_get_as(ssmrt__weights *w, ssmrt__wconv conv, int ndim,
                                    const int64_t *shape, int dev_ndim,
                                    const int64_t *dev_shape, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* A host copy in double of a float tensor of the given shape (for parameters that are
 * transformed on the host, such as the S4D kernel). Caller frees with ssmrt__free.
 * NULL on error (sticky, as above). */
double *ssmrt__weights_read_f64(ssmrt__weights *w, int ndim, const int64_t *shape,
                                const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Uploads host f32 data as a new persistent tensor counted with the weights. */
ssmrt_tensor *ssmrt__weights_upload_f32(ssmrt__weights *w, const float *data, int ndim,
                                        const int64_t *shape);

#endif
