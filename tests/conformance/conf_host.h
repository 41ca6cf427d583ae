/* Host-side tensors of the harness: the values a case uploads, kept as f32 (or i32)
 * so the same numbers reach the device under test and the reference. A float dtype
 * narrower than f32 (f16/bf16 weights) is rounded by ssmrt_tensor_upload_f32 on both
 * sides identically, so weight quantisation never shows up as a difference. */
#ifndef CONF_HOST_H
#define CONF_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "ssmrt.h"

typedef struct conf_host {
    ssmrt_dtype dtype;     /* storage dtype on the device */
    int ndim;
    int64_t shape[SSMRT_MAX_DIMS];
    int64_t n;             /* elements */
    float *f;              /* values for f32/f16/bf16 */
    int32_t *i;            /* values for i32 */
} conf_host;

/* Zero-filled; NULL when out of memory. */
conf_host *conf_host_new(ssmrt_dtype dtype, int ndim, const int64_t *shape);
void conf_host_free(conf_host *h);

/* The value element i has on the device (f16/bf16 rounded), in double. */
double conf_host_value(const conf_host *h, int64_t i);
/* f32 value rounded to a storage dtype and back (i32: truncation is never needed,
 * the harness only stores integers there). */
double conf_dtype_round(ssmrt_dtype dtype, float v);
/* Encodes/decodes one element of dtype at p. */
void conf_dtype_store(ssmrt_dtype dtype, void *p, int64_t i, float v);
double conf_dtype_load(ssmrt_dtype dtype, const void *p, int64_t i);

int64_t conf_shape_count(int ndim, const int64_t *shape);
/* "[2, 3, 5]" into buf. */
const char *conf_shape_str(int ndim, const int64_t *shape, char *buf, size_t n);

#endif
