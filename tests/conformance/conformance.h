/*
 * conformance.h: the ssmrt conformance harness (library ssmrt_conformance).
 *
 * Every op of ssmrt.h is run through the public graph API on a device under test
 * (DUT) and on the float64 reference device ("cpu-reference", CPU plugin device 1)
 * with the same random inputs, over shape sweeps that include odd sizes, L = 1,
 * long L, batch > 1, grouped heads, every optional input and every dtype the DUT
 * claims. Outputs are compared with per-op tolerances derived from the arithmetic of
 * the op (see conf_tolerance.h). Identities that must hold on the DUT alone are
 * checked as well: token-by-token scan == parallel scan, chunked prefill with state
 * carried == one-shot, S4 long convolution == its complex diagonal recurrence
 * (computed in double by the harness), KV-cache decode == full causal attention.
 *
 * Each case ends as PASS, FAIL, NOT_SUPPORTED (the DUT answered
 * SSMRT_ERR_UNSUPPORTED) or SKIP (with the reason, e.g. a dtype the device does not
 * claim). Guard checks: see conf_exec.h.
 *
 * Thread safety: one run at a time per pair of contexts (as for any context).
 */
#ifndef SSMRT_CONFORMANCE_H
#define SSMRT_CONFORMANCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ssmrt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ssmrt_conformance_verdict {
    SSMRT_CONFORMANCE_PASS = 0,
    SSMRT_CONFORMANCE_FAIL = 1,
    SSMRT_CONFORMANCE_NOT_SUPPORTED = 2,
    SSMRT_CONFORMANCE_SKIP = 3,
    SSMRT_CONFORMANCE_VERDICT_COUNT = 4
} ssmrt_conformance_verdict;

/* One case: one op (or identity) with one set of shapes, options and dtypes. */
typedef struct ssmrt_conformance_case {
    char op[32];          /* row of the matrix: "matmul", "selective_scan", ... */
    char dtype[16];       /* column: the dtype the case exercises ("f16", ...) */
    char name[224];       /* shapes and options, e.g. "M=5 K=33 N=17 bias" */
    ssmrt_conformance_verdict verdict;
    double max_error;     /* the error metric of conf_compare.h; < 0 if not measured */
    double tolerance;     /* the bound it was held to */
    double seconds;       /* wall time of DUT + reference */
    char message[512];    /* why it failed / was skipped / is unsupported */
} ssmrt_conformance_case;

typedef struct ssmrt_conformance_options {
    const char *ops;      /* comma list of op names to run; NULL or "" = all */
    int quick;            /* smaller sweeps (a few seconds on the CPU) */
    uint64_t seed;        /* input generator seed; 0 = the fixed default */
    FILE *progress;       /* one line per case while running, or NULL */
} ssmrt_conformance_options;

typedef struct ssmrt_conformance_report {
    ssmrt_device_info device;     /* the DUT (strings owned by the runtime) */
    ssmrt_device_info reference;  /* the oracle */
    ssmrt_conformance_case *cases;
    size_t n_cases;
    size_t counts[SSMRT_CONFORMANCE_VERDICT_COUNT];
    double seconds;
} ssmrt_conformance_report;

/* Runs the suite on dut against ref (which must be a device with is_reference set).
 * On success *out is a report owned by the caller (a FAIL verdict is still
 * success); an error means the harness itself could not run (out of memory, an
 * unknown op name in options->ops, a non-reference ref). */
ssmrt_status ssmrt_conformance_run(ssmrt_context *dut, ssmrt_context *ref,
                                   const ssmrt_conformance_options *options,
                                   ssmrt_conformance_report **out);
void ssmrt_conformance_report_destroy(ssmrt_conformance_report *report);

/* Markdown: a device header (name, vendor, driver and API version) and a matrix of
 * op x dtype with verdict counts and the largest error, then every non-PASS case. */
void ssmrt_conformance_print_markdown(const ssmrt_conformance_report *report, FILE *f);
/* With several devices (--all): one table op x device, each cell the verdict counts
 * and the largest error over all dtypes, under a list of the devices with their
 * drivers and API versions. */
void ssmrt_conformance_print_summary(const ssmrt_conformance_report *const *reports,
                                     size_t n_reports, FILE *f);
/* JSON with every case of every report (one entry per device). */
ssmrt_status ssmrt_conformance_write_json(const ssmrt_conformance_report *const *reports,
                                          size_t n_reports, const char *path);

const char *ssmrt_conformance_verdict_name(ssmrt_conformance_verdict v);
/* The op names accepted by options->ops, in matrix order (NULL-terminated). */
const char *const *ssmrt_conformance_op_names(void);

#ifdef __cplusplus
}
#endif
#endif
