/* Internal: the structures behind the public handles of ssmrt.h. */
#ifndef SSMRT_INTERNAL_H
#define SSMRT_INTERNAL_H

#include "plugin_registry.h"
#include "ssmrt.h"
#include "ssmrt_backend.h"

/* Device memory shared by a persistent tensor and the graph views of it; freed when
 * the last reference goes. */
typedef struct ssmrt__storage {
    ssmrt_context *ctx;
    void *buffer;
    uint64_t bytes;
    int32_t refs;
} ssmrt__storage;

struct ssmrt_tensor {
    ssmrt_context *ctx;
    ssmrt_graph *graph;       /* NULL: persistent, owned by the caller */
    ssmrt__storage *storage;  /* set when backed by persistent memory */
    int32_t value;            /* graph arena value, -1 when storage-backed */
    uint64_t offset;          /* bytes into the storage or the value */
    ssmrt_dtype dtype;
    int ndim;
    int64_t shape[SSMRT_MAX_DIMS];
    int64_t stride[SSMRT_MAX_DIMS]; /* elements */
    ssmrt_tensor *prev, *next;       /* the context's list of persistent tensors */
};

struct ssmrt_context {
    ssmrt__plugin *plugin;
    const ssmrt_backend_vtable *vt;
    void *device;
    ssmrt_device_info info;
    int host_memory;          /* buffers are host pointers (props.host_memory) */
    uint64_t mem_current, mem_peak;
    ssmrt_tensor *tensors;    /* live persistent tensors */
};

/* Device memory through the context, with accounting. */
ssmrt_status ssmrt__device_alloc(ssmrt_context *ctx, uint64_t bytes, void **out);
void ssmrt__device_free(ssmrt_context *ctx, void *buffer, uint64_t bytes);

void ssmrt__storage_release(ssmrt__storage *s);

/* Row-major strides for shape. */
void ssmrt__contiguous_strides(int ndim, const int64_t *shape, int64_t *stride);
int64_t ssmrt__nelements(int ndim, const int64_t *shape);
int ssmrt__is_contiguous(const ssmrt_tensor *t);
/* count elements of dtype at src to f32 at dst. */
void ssmrt__convert_to_f32(ssmrt_dtype dtype, const void *src, float *dst, size_t count);
/* "[2, 3, 4]" into buf. */
const char *ssmrt__shape_str(const ssmrt_tensor *t, char *buf, size_t n);

#endif
