/* A small harness that drives libssmrt-opencl.so's vtable directly (no libssmrt),
 * comparing each op with a float64 host computation of ssmrt.h's semantics. */
#ifndef SSMRT_OCL_TEST_HARNESS_H
#define SSMRT_OCL_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "ssmrt_backend.h"

extern const ssmrt_backend_vtable *T_vt;
extern void *T_dev;
extern char T_last_error[1024];
extern int T_failures;

#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                         \
            fprintf(stderr, __VA_ARGS__);                                                \
            fprintf(stderr, "\n");                                                       \
            T_failures++;                                                                \
        }                                                                                \
    } while (0)

/* A device tensor: buffer plus descriptor (contiguous unless strides are edited). */
typedef struct t_tensor {
    void *buf;
    ssmrt_tensor_desc d;
} t_tensor;

/* Contiguous tensor of dtype with the given shape; data (f32 values, converted to
 * the dtype; i32 given as floats) may be NULL for zeros. */
t_tensor t_make(uint32_t dtype, int ndim, const int64_t *shape, const float *data);
void t_free(t_tensor *t);
/* Reads a contiguous f32 tensor into out (numel floats). */
void t_read(const t_tensor *t, float *out);
int64_t t_numel(const t_tensor *t);

/* Builds an op from descriptors; absent sources are NULL. */
ssmrt_op t_op(uint32_t kind, int n_src, const t_tensor *const *src, int n_dst,
              const t_tensor *const *dst);
/* enqueue + synchronize; returns the status. */
int t_run(const ssmrt_op *op);

/* Max over i of |got - ref| / (atol + rtol * |ref|); <= 1 passes. */
double t_err(const float *got, const double *ref, int64_t n, double atol, double rtol);
/* Deterministic uniform floats in [lo, hi). */
void t_rand(float *x, int64_t n, float lo, float hi);
float t_round_f16(float x);
float t_round_bf16(float x);

void test_basic_ops(void);
void test_matmul_gather(void);
void test_scan(void);
void test_conv_attention(void);

#endif
