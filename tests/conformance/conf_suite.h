/*
 * conf_suite.h: cases and the runner that turns them into verdicts.
 *
 * An op module (conf_ops_*.c) generates host inputs for a case, names it, picks its
 * tolerance and hands it to conf_suite_run with a build function that records the
 * op on a conf_exec. The runner uploads the same inputs to each context, builds,
 * computes and compares, according to the case's mode:
 *
 *   CONF_VS_REFERENCE  every output of the DUT against the same output of the
 *                      float64 reference device;
 *   CONF_DUT_PAIRS     an identity on the DUT alone: the build computes the same
 *                      quantities two ways and registers them in the same order
 *                      both times; output k must agree with output k + n/2 (e.g.
 *                      token-by-token vs parallel scan);
 *   CONF_VS_HOST       DUT outputs against values the harness computed in double
 *                      (e.g. the S4 recurrence).
 */
#ifndef CONF_SUITE_H
#define CONF_SUITE_H

#include <stdint.h>
#include <stdio.h>

#include "conf_exec.h"
#include "conf_host.h"
#include "conf_rng.h"
#include "conformance.h"

typedef enum conf_mode {
    CONF_VS_REFERENCE = 0,
    CONF_DUT_PAIRS = 1,
    CONF_VS_HOST = 2
} conf_mode;

/* Records the case's ops on x (inputs uploaded in the order of conf_case.in; absent
 * ones NULL) and registers outputs; may compute graphs itself. */
typedef void (*conf_build_fn)(conf_exec *x, ssmrt_tensor *const *in, const void *params);

typedef struct conf_case {
    const char *op;
    char dtype[16];
    char name[224];
    uint32_t need_dtypes;        /* dtype bits the DUT must claim, else SKIP */
    conf_mode mode;
    int n_in;
    conf_host *in[CONF_MAX_IN];
    conf_build_fn build;
    const void *params;
    double tol;                  /* bound for every output ... */
    double tols[CONF_MAX_OUT];   /* ... unless given per output (n_tols > 0) */
    int n_tols;
    const double *want[CONF_MAX_OUT]; /* CONF_VS_HOST */
    int64_t want_n[CONF_MAX_OUT];
    int n_want;
    int oom;                     /* an input allocation failed */
} conf_case;

typedef struct conf_suite {
    ssmrt_context *dut, *ref;
    const ssmrt_device_info *dut_info;
    int quick;
    uint64_t seed;
    FILE *progress;
    char filter[64][32];
    int n_filter;
    ssmrt_conformance_case *cases;
    size_t n_cases, cap_cases;
    int oom;
} conf_suite;

/* 1 if op is selected by the --ops filter. */
int conf_suite_wants(const conf_suite *s, const char *op);
/* A generator for case `index` of op (independent of the filter). */
void conf_suite_rng(const conf_suite *s, conf_rng *r, const char *op, uint64_t index);

void conf_case_init(conf_case *c, const char *op, const char *dtype, conf_mode mode);
void conf_case_name(conf_case *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Allocates input slot (zero-filled) and returns it (NULL on failure, remembered). */
conf_host *conf_case_in(conf_case *c, int slot, ssmrt_dtype dtype, int ndim,
                        const int64_t *shape);

/* Runs the case, appends its verdict, and frees its inputs. */
void conf_suite_run(conf_suite *s, conf_case *c);
/* Appends a verdict computed by a module itself (e.g. a skipped sweep). */
void conf_suite_record(conf_suite *s, const char *op, const char *dtype, const char *name,
                       ssmrt_conformance_verdict v, double err, double tol, double seconds,
                       const char *message);

/* Op modules; each runs the ops of its family that the filter selects. */
void conf_ops_data(conf_suite *s);        /* copy, view, concat */
void conf_ops_elementwise(conf_suite *s); /* add, mul, scale, silu, sigmoid, softplus, gelu, exp */
void conf_ops_norm(conf_suite *s);        /* softmax, rms_norm, rms_norm_gated, layer_norm */
void conf_ops_linear(conf_suite *s);      /* matmul, embedding, topk_route */
void conf_ops_scan(conf_suite *s);        /* selective_scan, scan_stepwise */
void conf_ops_conv(conf_suite *s);        /* conv1d_causal, conv_long, prefill_chunked, s4_recurrence */
void conf_ops_attention(conf_suite *s);   /* attention, kv_cache_decode */

/* Bytes of a contiguous tensor (for conf_exec_arena_guard). */
uint64_t conf_bytes(ssmrt_dtype dtype, int ndim, const int64_t *shape);

#endif
