/* bench.h: the pieces shared by the `ssmrt bench` subcommands (cmd_bench.c).
 *
 *   bench_common.c    options every subcommand takes, the devices to run on
 *   bench_timing.c    wall clock, warm-up + repetitions + median, log-log fits
 *   bench_json.c      JSON record lists written at the end of a run
 *   bench_progress.c  progress on stderr
 *   bench_graphs.c    random inputs and one-op graphs with their byte/flop counts
 *   bench_ops.c       `bench ops`
 *   bench_scaling.c   `bench scaling`
 *   bench_svg.c       the log-log SVG plot
 *   bench_presets.c   random-weight model folders for `bench model --preset`
 *   bench_model.c     `bench model`
 *
 * Timing is the wall clock around ssmrt_graph_compute (which waits for the device),
 * on a graph built once and computed repeatedly, so it includes the executor's
 * per-compute cost, as an application would see it. */
#ifndef SSMRT_TOOL_BENCH_H
#define SSMRT_TOOL_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "ssmrt.h"

/* ===================================================================== */
/* Common options and targets                                             */
/* ===================================================================== */

typedef struct bench_common {
    int all;                /* --all: every loaded plugin and device but the reference */
    const char *devices;    /* --devices LIST: "backend:index,..." to run on, or NULL */
    const char *backend;    /* --backend LIST; NULL: SSMRT_BACKEND */
    int32_t device;         /* --device N; -1: SSMRT_DEVICE */
    const char *json_path;  /* --json FILE or NULL */
    int quick;              /* --quick: tiny sizes, few repetitions */
    int warmup;             /* --warmup N; -1: default */
    int reps;               /* --reps N; -1: adaptive */
    double min_seconds;     /* --min-time S: measure at least this long per case */
    double warmup_seconds;  /* --warmup-time S: warm up at least this long; -1: default */
} bench_common;

void bench_common_init(bench_common *c);
/* Consumes argv[*i] (and its value) if it is a common option. Returns 1 if consumed,
 * 0 if not a common option, -1 on a bad value (message printed). */
int bench_common_parse(bench_common *c, int argc, char **argv, int *i);
/* The help lines of the common options. */
void bench_common_help(FILE *f);

/* One device to benchmark, with its own context. */
typedef struct bench_target {
    ssmrt_context *ctx;
    const ssmrt_device_info *info;
} bench_target;

/* The contexts to run on: with --all every loaded plugin's devices (skipping float64
 * reference devices), with --devices the listed ones, else the one the options or
 * environment select. Targets that
 * fail to open are reported and skipped under --all. Returns the number opened (0
 * means error, already printed). Free with bench_targets_close. */
int bench_targets_open(const bench_common *c, bench_target **out);
void bench_targets_close(bench_target *t, int n);
/* 1 for a CPU backend (smaller default sweeps). */
int bench_target_is_cpu(const bench_target *t);

/* Prints "ssmrt bench: <what>: <ssmrt_last_error()>" and returns 1. */
int bench_fail(const char *what);
/* Parses "a,b,c" integers (k/K = *1024, m/M = *1024^2 suffixes). Returns the count
 * (<= cap), or -1 on malformed input. */
int bench_parse_int_list(const char *s, int64_t *out, int cap);
/* Parses one integer with the same suffixes; returns 0 on success. */
int bench_parse_int(const char *s, int64_t *out);

/* ===================================================================== */
/* Timing and statistics                                                  */
/* ===================================================================== */

double bench_now_seconds(void); /* CLOCK_MONOTONIC */

typedef struct bench_timing {
    int warmup;          /* untimed runs first */
    double warmup_seconds; /* and untimed runs until this much time went by */
    int min_reps;        /* timed runs at least */
    int max_reps;        /* and at most */
    double min_seconds;  /* keep repeating until this much was timed (up to max_reps) */
    double max_seconds;  /* fewer than min_reps when one run is this slow (at least 1) */
} bench_timing;

/* The timing plan from the options: defaults, or tiny with --quick. */
void bench_timing_from_common(const bench_common *c, bench_timing *t);

/* median/min/max are of the device clock when every timed run reported one
 * (device_clock = 1), else of the wall clock; wall_ms is always the wall-clock
 * median, launch and submission latency included. */
typedef struct bench_stats {
    double median_ms, min_ms, max_ms;
    double wall_ms;
    int device_clock;
    int reps;
} bench_stats;

typedef ssmrt_status (*bench_run_fn)(void *arg);
/* Runs fn warmup times, then times it repeatedly; median of the timed runs. setup (may
 * be NULL) runs before every run of fn, untimed (e.g. resetting a session). */
ssmrt_status bench_time(const bench_timing *t, bench_run_fn setup, bench_run_fn fn, void *arg,
                        bench_stats *out);

/* fn runs once and reports the device time of that run in *device_ms (NAN or an
 * error when it has none); the statistics then use the device clock. */
typedef ssmrt_status (*bench_device_run_fn)(void *arg, double *device_ms);
ssmrt_status bench_time_device(const bench_timing *t, bench_device_run_fn fn, void *arg,
                               bench_stats *out);

double bench_median(double *v, int n); /* sorts v */
/* Least-squares slope of log(y) against log(x): the exponent k of y ~ x^k. NAN if
 * fewer than 2 usable points. */
double bench_loglog_slope(const double *x, const double *y, int n);

/* ===================================================================== */
/* JSON records                                                            */
/* ===================================================================== */

/* A list of flat records, kept in memory and written as one JSON array. */
typedef struct bench_json bench_json;

bench_json *bench_json_create(void);
void bench_json_destroy(bench_json *j);
void bench_json_begin(bench_json *j);
void bench_json_str(bench_json *j, const char *key, const char *value); /* NULL: omitted */
void bench_json_int(bench_json *j, const char *key, int64_t value);
void bench_json_num(bench_json *j, const char *key, double value);      /* non-finite: omitted */
void bench_json_end(bench_json *j);
/* The backend/device fields every record carries. */
void bench_json_target(bench_json *j, const bench_target *t);
/* Writes the array to path (via a temporary file and rename). 0 on success; on
 * failure prints why and returns 1. */
int bench_json_write(const bench_json *j, const char *path);

/* ===================================================================== */
/* Progress                                                               */
/* ===================================================================== */

typedef struct bench_progress {
    int total, done;
    int tty;
    double start;
} bench_progress;

void bench_progress_begin(bench_progress *p, int total);
/* Announces the item about to run (label: "selective_scan L=4096"). */
void bench_progress_step(bench_progress *p, const char *label);
/* Counts an item that will not run. */
void bench_progress_skip(bench_progress *p);
/* Redraws the current item with a new label (terminals only: no log spam). */
void bench_progress_note(bench_progress *p, const char *label);
/* Erases the bar (on a terminal) before a result line is printed to stdout. */
void bench_progress_clear(bench_progress *p);
void bench_progress_end(bench_progress *p);

/* ===================================================================== */
/* One-op graphs                                                          */
/* ===================================================================== */

#define BENCH_GRAPH_MAX_INPUTS 16

/* A graph of one op over persistent random inputs, and what the op must move. */
typedef struct bench_graph {
    ssmrt_context *ctx;
    ssmrt_graph *g;
    ssmrt_tensor *inputs[BENCH_GRAPH_MAX_INPUTS];
    int n_inputs;
    uint64_t seed;
    double bytes;      /* minimal bytes the op reads and writes */
    double flops;      /* 0 when not meaningful */
    uint64_t device_bytes; /* device memory of inputs + arena after the first compute */
} bench_graph;

void bench_graph_init(bench_graph *bg, ssmrt_context *ctx, uint64_t seed);
/* Destroys the graph and the inputs. */
void bench_graph_release(bench_graph *bg);
/* A persistent tensor filled with uniform values in [lo, hi) (f32/f16/bf16). NULL on
 * error (ssmrt_last_error says why). */
ssmrt_tensor *bench_graph_input(bench_graph *bg, ssmrt_dtype dtype, int ndim,
                                const int64_t *shape, float lo, float hi);
/* An i32 tensor of uniform ids in [0, range). */
ssmrt_tensor *bench_graph_ids(bench_graph *bg, int ndim, const int64_t *shape, int32_t range);
/* Computes once (planning the arena) and records device_bytes. */
ssmrt_status bench_graph_prepare(bench_graph *bg);
ssmrt_status bench_graph_time(bench_graph *bg, const bench_timing *t, bench_stats *out);

/* Shape of one op case. Fields that do not apply are 0. */
typedef struct bench_shape {
    int64_t B, L, D, N, H, P, G, W, K, Lk; /* K: matmul input width / attention head dim */
    int64_t E, topk;                        /* routing */
    ssmrt_dtype dtype;                      /* weight / table / copy destination / attention dtype */
    int flags;                              /* BENCH_F_* */
} bench_shape;

enum {
    BENCH_F_Z = 1,         /* scan: silu(z) gate */
    BENCH_F_STATE = 2,     /* scan/conv: state in and out */
    BENCH_F_DSKIP = 4,     /* scan: D skip */
    BENCH_F_DT_BIAS = 8,   /* scan: delta bias + softplus */
    BENCH_F_BIAS = 16,     /* conv1d / matmul: bias */
    BENCH_F_SILU = 32,     /* conv1d: SiLU */
    BENCH_F_MAMBA2 = 64    /* scan: A scalar per head */
};

typedef enum bench_op {
    BENCH_OP_COPY, BENCH_OP_ADD, BENCH_OP_MUL, BENCH_OP_SCALE, BENCH_OP_SILU,
    BENCH_OP_SIGMOID, BENCH_OP_SOFTPLUS, BENCH_OP_GELU, BENCH_OP_EXP, BENCH_OP_SOFTMAX,
    BENCH_OP_RMS_NORM, BENCH_OP_RMS_NORM_GATED, BENCH_OP_LAYER_NORM, BENCH_OP_MATMUL,
    BENCH_OP_EMBEDDING, BENCH_OP_TOPK_ROUTE, BENCH_OP_SELECTIVE_SCAN,
    BENCH_OP_CONV1D_CAUSAL, BENCH_OP_CONV_LONG, BENCH_OP_ATTENTION, BENCH_OP_COUNT
} bench_op;

const char *bench_op_name(bench_op op);
/* Builds the graph of op over shape s into bg (inputs random, result marked as an
 * output) and sets bg->bytes and bg->flops. */
ssmrt_status bench_graph_build(bench_graph *bg, bench_op op, const bench_shape *s);

/* Bytes a decoder keeps per sequence: the scan's recurrent state [B, H, P, N] f32,
 * and attention's KV cache for Lk positions [2, B, Lk, Hk, Dh] f32. */
double bench_scan_state_bytes(const bench_shape *s);
double bench_kv_cache_bytes(const bench_shape *s);

/* ===================================================================== */
/* SVG plot                                                               */
/* ===================================================================== */

typedef enum bench_axis_unit {
    BENCH_UNIT_COUNT, /* 512, 1K, 64K, 1M (powers of two when the data are) */
    BENCH_UNIT_MS,    /* 10 us, 1 ms, 1 s */
    BENCH_UNIT_BYTES  /* 1 KiB, 1 MiB */
} bench_axis_unit;

typedef struct bench_series {
    char label[96];
    int n;
    double *x, *y;     /* n points; non-positive values are skipped (log axes) */
    int dashed;
} bench_series;

typedef struct bench_panel {
    const char *title, *xlabel, *ylabel;
    bench_axis_unit xunit, yunit;
    const bench_series *series;
    int n_series;
} bench_panel;

/* Writes a standalone SVG with the panels side by side. 0 on success, 1 on failure
 * (printed). */
int bench_svg_write(const char *path, const char *title, const bench_panel *panels,
                    int n_panels);

/* ===================================================================== */
/* Model presets                                                          */
/* ===================================================================== */

/* Named model shapes realised with random weights (bench_presets.c). */
typedef struct bench_preset bench_preset;

const bench_preset *bench_preset_find(const char *name);
void bench_presets_help(FILE *f); /* one line per preset */
const char *bench_preset_name(const bench_preset *p);
/* Writes config.json and model.safetensors (matrices in dtype, small parameters in
 * f32) into the existing directory dir. layers > 0 overrides the layer count. 0 on
 * success; 1 on failure (printed). */
int bench_preset_write(const bench_preset *p, const char *dir, ssmrt_dtype dtype,
                       int64_t layers);

/* ===================================================================== */
/* Subcommands                                                            */
/* ===================================================================== */

int bench_ops_main(int argc, char **argv);
int bench_model_main(int argc, char **argv);
int bench_scaling_main(int argc, char **argv);
void bench_ops_help(FILE *f);
void bench_model_help(FILE *f);
void bench_scaling_help(FILE *f);

#endif
