/* `ssmrt bench ops`: every op over a sweep of shapes, read against two references
 * measured on the same device in the same run: the copy bandwidth (a large f32 copy,
 * bytes moved / time) for memory-bound ops, and a large square f32 GEMM for matmul.
 *
 * The full sweep holds the headline shapes of issue 7: Mamba-1 selective scan with
 * D = 2048 (H = 2048 heads of P = 1), N = 16, L = 4096, B = 1, D skip, delta bias and
 * softplus; causal conv1d width 4, D = 4096, L = 4096. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct ops_case {
    bench_op op;
    const char *variant;
    bench_shape s;
} ops_case;

#define SCAN_M1 (BENCH_F_DSKIP | BENCH_F_DT_BIAS)
#define SCAN_M2 (BENCH_F_MAMBA2 | BENCH_F_DSKIP | BENCH_F_DT_BIAS)
#define F32 SSMRT_F32

static const ops_case ops_full[] = {
    {BENCH_OP_COPY, NULL, {.L = 4096, .D = 4096, .dtype = F32}},
    {BENCH_OP_COPY, "f32->f16", {.L = 4096, .D = 4096, .dtype = SSMRT_F16}},
    {BENCH_OP_ADD, "bias", {.L = 4096, .D = 4096}},
    {BENCH_OP_MUL, NULL, {.L = 4096, .D = 4096}},
    {BENCH_OP_SCALE, NULL, {.L = 4096, .D = 4096}},
    {BENCH_OP_SILU, NULL, {.L = 4096, .D = 4096}},
    {BENCH_OP_SIGMOID, NULL, {.L = 4096, .D = 4096}},
    {BENCH_OP_SOFTPLUS, NULL, {.L = 4096, .D = 4096}},
    {BENCH_OP_GELU, NULL, {.L = 4096, .D = 4096}},
    {BENCH_OP_EXP, NULL, {.L = 4096, .D = 4096}},
    {BENCH_OP_SOFTMAX, NULL, {.L = 4096, .D = 4096}},
    {BENCH_OP_RMS_NORM, NULL, {.L = 4096, .D = 2048}},
    {BENCH_OP_RMS_NORM_GATED, NULL, {.L = 4096, .D = 2048, .G = 2048}},
    {BENCH_OP_LAYER_NORM, NULL, {.L = 4096, .D = 2048}},
    /* Mamba-1.4b's in_proj (2048 -> 2*4096): one token, and a prompt. */
    {BENCH_OP_MATMUL, "decode", {.L = 1, .K = 2048, .N = 8192, .dtype = F32}},
    {BENCH_OP_MATMUL, "decode", {.L = 1, .K = 2048, .N = 8192, .dtype = SSMRT_F16}},
    {BENCH_OP_MATMUL, "decode", {.L = 1, .K = 2048, .N = 8192, .dtype = SSMRT_BF16}},
    {BENCH_OP_MATMUL, "prefill", {.L = 512, .K = 2048, .N = 8192, .dtype = F32}},
    {BENCH_OP_MATMUL, "prefill", {.L = 512, .K = 2048, .N = 8192, .dtype = SSMRT_F16}},
    {BENCH_OP_MATMUL, "prefill", {.L = 512, .K = 2048, .N = 8192, .dtype = SSMRT_BF16}},
    {BENCH_OP_EMBEDDING, NULL, {.L = 4096, .N = 50280, .D = 2048, .dtype = F32}},
    {BENCH_OP_EMBEDDING, NULL, {.L = 4096, .N = 50280, .D = 2048, .dtype = SSMRT_F16}},
    {BENCH_OP_TOPK_ROUTE, NULL, {.L = 4096, .E = 16, .topk = 2}},
    {BENCH_OP_SELECTIVE_SCAN, "mamba1",
     {.B = 1, .L = 4096, .D = 2048, .H = 2048, .P = 1, .N = 16, .G = 1, .flags = SCAN_M1}},
    {BENCH_OP_SELECTIVE_SCAN, "mamba1+z+state",
     {.B = 1, .L = 4096, .D = 2048, .H = 2048, .P = 1, .N = 16, .G = 1,
      .flags = SCAN_M1 | BENCH_F_Z | BENCH_F_STATE}},
    {BENCH_OP_SELECTIVE_SCAN, "mamba1 decode",
     {.B = 1, .L = 1, .D = 2048, .H = 2048, .P = 1, .N = 16, .G = 1,
      .flags = SCAN_M1 | BENCH_F_Z | BENCH_F_STATE}},
    {BENCH_OP_SELECTIVE_SCAN, "mamba2",
     {.B = 1, .L = 4096, .D = 2048, .H = 32, .P = 64, .N = 128, .G = 1, .flags = SCAN_M2}},
    {BENCH_OP_SELECTIVE_SCAN, "mamba2 decode",
     {.B = 1, .L = 1, .D = 2048, .H = 32, .P = 64, .N = 128, .G = 1,
      .flags = SCAN_M2 | BENCH_F_STATE}},
    {BENCH_OP_CONV1D_CAUSAL, "plain", {.B = 1, .L = 4096, .D = 4096, .W = 4}},
    {BENCH_OP_CONV1D_CAUSAL, "bias+silu",
     {.B = 1, .L = 4096, .D = 4096, .W = 4, .flags = BENCH_F_BIAS | BENCH_F_SILU}},
    {BENCH_OP_CONV1D_CAUSAL, "decode",
     {.B = 1, .L = 1, .D = 4096, .W = 4, .flags = BENCH_F_BIAS | BENCH_F_SILU | BENCH_F_STATE}},
    {BENCH_OP_CONV_LONG, NULL, {.B = 1, .L = 1024, .D = 256}},
    {BENCH_OP_CONV_LONG, NULL, {.B = 1, .L = 4096, .D = 256}},
    /* Width 2048 as 32 query heads of 64, 8 KV heads (grouped-query, as Jamba). */
    {BENCH_OP_ATTENTION, "prefill", {.B = 1, .L = 512, .D = 2048, .H = 32, .G = 8, .K = 64}},
    {BENCH_OP_ATTENTION, "prefill", {.B = 1, .L = 4096, .D = 2048, .H = 32, .G = 8, .K = 64}},
    {BENCH_OP_ATTENTION, "decode",
     {.B = 1, .L = 1, .Lk = 4096, .D = 2048, .H = 32, .G = 8, .K = 64}},
    /* Issue 6's tensor-core shapes: causal f16/bf16 prefill, 32 heads of 128, L = 4096
     * (GFLOP/s counts the causal half: 2*2*B*H*L*L*Dh/2); f16 decode over a 64K cache
     * with 4:1 grouped-query heads (read against the copy bandwidth). */
    {BENCH_OP_ATTENTION, "causal",
     {.B = 1, .L = 4096, .H = 32, .G = 32, .K = 128, .dtype = SSMRT_F16}},
    {BENCH_OP_ATTENTION, "causal",
     {.B = 1, .L = 4096, .H = 32, .G = 32, .K = 128, .dtype = SSMRT_BF16}},
    {BENCH_OP_ATTENTION, "decode",
     {.B = 1, .L = 1, .Lk = 65536, .H = 32, .G = 8, .K = 128, .dtype = SSMRT_F16}},
};

/* --quick: every op once or twice at sizes that run in milliseconds anywhere (odd
 * lengths on purpose: they take the kernels' tail paths). */
static const ops_case ops_quick[] = {
    {BENCH_OP_COPY, NULL, {.L = 33, .D = 64, .dtype = F32}},
    {BENCH_OP_COPY, "f32->f16", {.L = 33, .D = 64, .dtype = SSMRT_F16}},
    {BENCH_OP_ADD, "bias", {.L = 33, .D = 64}},
    {BENCH_OP_MUL, NULL, {.L = 33, .D = 64}},
    {BENCH_OP_SCALE, NULL, {.L = 33, .D = 64}},
    {BENCH_OP_SILU, NULL, {.L = 33, .D = 64}},
    {BENCH_OP_SIGMOID, NULL, {.L = 33, .D = 64}},
    {BENCH_OP_SOFTPLUS, NULL, {.L = 33, .D = 64}},
    {BENCH_OP_GELU, NULL, {.L = 33, .D = 64}},
    {BENCH_OP_EXP, NULL, {.L = 33, .D = 64}},
    {BENCH_OP_SOFTMAX, NULL, {.L = 33, .D = 64}},
    {BENCH_OP_RMS_NORM, NULL, {.L = 33, .D = 64}},
    {BENCH_OP_RMS_NORM_GATED, NULL, {.L = 33, .D = 64, .G = 32}},
    {BENCH_OP_LAYER_NORM, NULL, {.L = 33, .D = 64}},
    {BENCH_OP_MATMUL, "decode", {.L = 1, .K = 64, .N = 96, .dtype = F32}},
    {BENCH_OP_MATMUL, "prefill", {.L = 17, .K = 64, .N = 96, .dtype = SSMRT_F16}},
    {BENCH_OP_MATMUL, "prefill", {.L = 17, .K = 64, .N = 96, .dtype = SSMRT_BF16}},
    {BENCH_OP_EMBEDDING, NULL, {.L = 17, .N = 100, .D = 32, .dtype = F32}},
    {BENCH_OP_TOPK_ROUTE, NULL, {.L = 17, .E = 8, .topk = 2}},
    {BENCH_OP_SELECTIVE_SCAN, "mamba1",
     {.B = 1, .L = 33, .D = 64, .H = 64, .P = 1, .N = 16, .G = 1, .flags = SCAN_M1}},
    {BENCH_OP_SELECTIVE_SCAN, "mamba1 decode",
     {.B = 1, .L = 1, .D = 64, .H = 64, .P = 1, .N = 16, .G = 1,
      .flags = SCAN_M1 | BENCH_F_Z | BENCH_F_STATE}},
    {BENCH_OP_SELECTIVE_SCAN, "mamba2",
     {.B = 1, .L = 33, .D = 64, .H = 4, .P = 16, .N = 16, .G = 1, .flags = SCAN_M2}},
    {BENCH_OP_CONV1D_CAUSAL, "plain", {.B = 1, .L = 33, .D = 64, .W = 4}},
    {BENCH_OP_CONV1D_CAUSAL, "decode",
     {.B = 1, .L = 1, .D = 64, .W = 4, .flags = BENCH_F_BIAS | BENCH_F_SILU | BENCH_F_STATE}},
    {BENCH_OP_CONV_LONG, NULL, {.B = 1, .L = 65, .D = 16}},
    {BENCH_OP_ATTENTION, "prefill", {.B = 1, .L = 33, .D = 64, .H = 4, .G = 2, .K = 16}},
    {BENCH_OP_ATTENTION, "decode", {.B = 1, .L = 1, .Lk = 33, .D = 64, .H = 4, .G = 2, .K = 16}},
    {BENCH_OP_ATTENTION, "causal", {.B = 1, .L = 33, .H = 4, .G = 2, .K = 64, .dtype = SSMRT_F16}},
};

#define OPS_N(a) ((int)(sizeof a / sizeof a[0]))

void bench_ops_help(FILE *f)
{
    fprintf(f,
            "usage: ssmrt bench ops [--op NAME[,NAME...]] [--json FILE] [--quick] [options]\n"
            "\n"
            "Times each op over a sweep of shapes (issue 7's headline shapes included:\n"
            "Mamba-1 selective scan D=2048 N=16 L=4096 and causal conv1d width 4 D=4096\n"
            "L=4096). Each run first measures the device's copy bandwidth (a large f32\n"
            "copy) and, when matmul is swept, a large square f32 GEMM, and reports each op\n"
            "as a fraction of them. GB/s counts the least bytes the op must move (each input\n"
            "read once, each output written once); GFLOP/s uses the op's arithmetic count.\n"
            "\n"
            "  --op NAMES       only these ops (comma list), one of:\n"
            "                   ");
    int col = 19;
    for (int i = 0; i < BENCH_OP_COUNT; i++) {
        const char *name = bench_op_name((bench_op)i);
        if (col + (int)strlen(name) > 86) {
            fprintf(f, "\n                   ");
            col = 19;
        }
        col += fprintf(f, "%s ", name);
    }
    fprintf(f, "\n");
    bench_common_help(f);
    fprintf(f,
            "\nJSON: an array of records {op, variant, backend, device, dtype, B, L, D, N, H,\n"
            "P, ..., ms, bytes, gbps, gflops, copy_fraction, peak_fraction}; fields that do\n"
            "not apply are left out. The references are op \"copy\" / \"matmul\" with\n"
            "variant \"bandwidth-reference\" / \"peak-reference\".\n");
}

/* ---- option handling ------------------------------------------------------------ */

typedef struct ops_opts {
    bench_common c;
    int want[BENCH_OP_COUNT];
    int filtered;
} ops_opts;

static int ops_parse_filter(ops_opts *o, const char *list)
{
    o->filtered = 1;
    while (list && *list) {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        int found = 0;
        for (int i = 0; i < BENCH_OP_COUNT; i++) {
            const char *name = bench_op_name((bench_op)i);
            if (strlen(name) == len && !strncmp(name, list, len))
                o->want[i] = found = 1;
        }
        if (!found) {
            fprintf(stderr, "ssmrt bench ops: unknown op '%.*s' (see --help)\n", (int)len, list);
            return -1;
        }
        list = comma ? comma + 1 : NULL;
    }
    return 0;
}

/* ---- one case --------------------------------------------------------------------- */

typedef struct ops_refs {
    double copy_gbps;   /* NAN until measured */
    double peak_gflops;
} ops_refs;

static void ops_shape_str(bench_op op, const bench_shape *s, char *buf, size_t cap)
{
    switch (op) {
    case BENCH_OP_MATMUL:
        snprintf(buf, cap, "L=%lld K=%lld N=%lld", (long long)s->L, (long long)s->K,
                 (long long)s->N);
        break;
    case BENCH_OP_EMBEDDING:
        snprintf(buf, cap, "L=%lld V=%lld D=%lld", (long long)s->L, (long long)s->N,
                 (long long)s->D);
        break;
    case BENCH_OP_TOPK_ROUTE:
        snprintf(buf, cap, "L=%lld E=%lld k=%lld", (long long)s->L, (long long)s->E,
                 (long long)s->topk);
        break;
    case BENCH_OP_SELECTIVE_SCAN:
        snprintf(buf, cap, "B=%lld L=%lld H=%lld P=%lld N=%lld", (long long)s->B,
                 (long long)s->L, (long long)s->H, (long long)s->P, (long long)s->N);
        break;
    case BENCH_OP_CONV1D_CAUSAL:
        snprintf(buf, cap, "B=%lld L=%lld D=%lld W=%lld", (long long)s->B, (long long)s->L,
                 (long long)s->D, (long long)s->W);
        break;
    case BENCH_OP_ATTENTION:
        snprintf(buf, cap, "B=%lld L=%lld Lk=%lld H=%lld/%lld Dh=%lld", (long long)s->B,
                 (long long)s->L, (long long)(s->Lk ? s->Lk : s->L), (long long)s->H,
                 (long long)s->G, (long long)s->K);
        break;
    case BENCH_OP_CONV_LONG:
        snprintf(buf, cap, "B=%lld L=%lld D=%lld", (long long)s->B, (long long)s->L,
                 (long long)s->D);
        break;
    default:
        snprintf(buf, cap, "%lld x %lld", (long long)s->L, (long long)s->D);
        break;
    }
}

static void ops_json_shape(bench_json *j, const bench_shape *s)
{
    static const char *const keys[] = {"B", "L", "D", "N", "H", "P", "G", "W", "K", "Lk", "E", "topk"};
    const int64_t vals[] = {s->B, s->L, s->D, s->N, s->H, s->P, s->G, s->W, s->K, s->Lk, s->E, s->topk};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        if (vals[i])
            bench_json_int(j, keys[i], vals[i]);
}

static void ops_print_header(void)
{
    printf("%-15s %-20s %-34s %-5s %10s %9s %6s %9s %6s %5s %9s\n", "op", "variant", "shape",
           "dtype", "ms", "GB/s", "%copy", "GFLOP/s", "%peak", "reps", "wall ms");
}

/* Measures one case; returns 0 on success, 1 on a failure other than "unsupported". */
static int ops_run_case(const bench_target *t, const bench_timing *tm, bench_progress *pr,
                        bench_op op, const char *variant, const bench_shape *s, ops_refs *refs,
                        bench_json *j, double *gbps_out, double *gflops_out)
{
    char shape[96];
    ops_shape_str(op, s, shape, sizeof shape);
    const char *dtype = ssmrt_dtype_name(s->dtype);
    bench_graph bg;
    bench_graph_init(&bg, t->ctx, 0x5eed0000ull + (uint64_t)op);
    bench_stats st = {0};
    ssmrt_status rc = bench_graph_build(&bg, op, s);
    if (!rc)
        rc = bench_graph_prepare(&bg);
    if (!rc)
        rc = bench_graph_time(&bg, tm, &st);
    bench_progress_clear(pr);
    if (rc) {
        const char *why = ssmrt_last_error();
        printf("%-15s %-20s %-34s %-5s %s: %s\n", bench_op_name(op), variant ? variant : "",
               shape, dtype, rc == SSMRT_ERR_UNSUPPORTED ? "unsupported" : "FAILED", why);
        if (j) {
            bench_json_begin(j);
            bench_json_str(j, "op", bench_op_name(op));
            bench_json_str(j, "variant", variant);
            bench_json_target(j, t);
            bench_json_str(j, "dtype", dtype);
            ops_json_shape(j, s);
            bench_json_str(j, "status", ssmrt_status_name(rc));
            bench_json_str(j, "error", why);
            bench_json_end(j);
        }
        bench_graph_release(&bg);
        return rc == SSMRT_ERR_UNSUPPORTED ? 0 : 1;
    }
    double sec = st.median_ms * 1e-3;
    double gbps = bg.bytes / sec * 1e-9;
    double gflops = bg.flops > 0 ? bg.flops / sec * 1e-9 : NAN;
    double copy_frac = gbps / refs->copy_gbps;
    double peak_frac = gflops / refs->peak_gflops;
    printf("%-15s %-20s %-34s %-5s %10.3f %9.2f", bench_op_name(op), variant ? variant : "",
           shape, dtype, st.median_ms, gbps);
    if (isfinite(copy_frac))
        printf(" %5.0f%%", 100 * copy_frac);
    else
        printf(" %6s", "");
    if (isfinite(gflops))
        printf(" %9.2f", gflops);
    else
        printf(" %9s", "");
    if (isfinite(peak_frac) && op == BENCH_OP_MATMUL)
        printf(" %5.0f%%", 100 * peak_frac);
    else
        printf(" %6s", "");
    printf(" %5d %9.3f\n", st.reps, st.wall_ms);
    fflush(stdout);
    if (j) {
        bench_json_begin(j);
        bench_json_str(j, "op", bench_op_name(op));
        bench_json_str(j, "variant", variant);
        bench_json_target(j, t);
        bench_json_str(j, "dtype", dtype);
        ops_json_shape(j, s);
        bench_json_num(j, "ms", st.median_ms);
        bench_json_num(j, "min_ms", st.min_ms);
        bench_json_num(j, "max_ms", st.max_ms);
        bench_json_int(j, "reps", st.reps);
        bench_json_str(j, "clock", st.device_clock ? "device" : "wall");
        bench_json_num(j, "wall_ms", st.wall_ms);
        bench_json_num(j, "bytes", bg.bytes);
        bench_json_num(j, "gbps", gbps);
        bench_json_num(j, "gflops", gflops);
        bench_json_num(j, "copy_fraction", copy_frac);
        if (op == BENCH_OP_MATMUL)
            bench_json_num(j, "peak_fraction", peak_frac);
        bench_json_num(j, "device_bytes", (double)bg.device_bytes);
        bench_json_end(j);
    }
    if (gbps_out)
        *gbps_out = gbps;
    if (gflops_out)
        *gflops_out = gflops;
    bench_graph_release(&bg);
    return 0;
}

/* ---- one device ------------------------------------------------------------------- */

static int ops_run_target(const ops_opts *o, const bench_target *t, bench_json *j)
{
    const ops_case *cases = o->c.quick ? ops_quick : ops_full;
    int n_cases = o->c.quick ? OPS_N(ops_quick) : OPS_N(ops_full);
    const int cpu = bench_target_is_cpu(t);
    const int want_peak = !o->filtered || o->want[BENCH_OP_MATMUL];
    bench_timing tm;
    bench_timing_from_common(&o->c, &tm);

    printf("\n== %s device %u: %s (%s, driver %s)\n", t->info->backend, t->info->index,
           t->info->name, t->info->api_version, t->info->driver_version);
    ops_print_header();

    /* References: 128 MiB each way on a CPU (beyond its caches), 512 MiB on a GPU. */
    bench_shape copy_ref = {.L = cpu ? 8192 : 16384, .D = cpu ? 4096 : 8192, .dtype = SSMRT_F32};
    int64_t gemm = cpu ? 2048 : 8192;
    if (o->c.quick) {
        copy_ref.L = copy_ref.D = 256;
        gemm = 128;
    }
    bench_shape peak_ref = {.L = gemm, .K = gemm, .N = gemm, .dtype = SSMRT_F32};

    int total = 1 + want_peak, failures = 0;
    for (int i = 0; i < n_cases; i++)
        total += !o->filtered || o->want[cases[i].op];
    bench_progress pr;
    bench_progress_begin(&pr, total);

    ops_refs refs = {NAN, NAN};
    double gbps = NAN, gflops = NAN;
    bench_progress_step(&pr, "copy bandwidth reference");
    failures += ops_run_case(t, &tm, &pr, BENCH_OP_COPY, "bandwidth-reference", &copy_ref, &refs, j,
                             &gbps, NULL);
    refs.copy_gbps = gbps;
    if (want_peak) {
        bench_progress_step(&pr, "matmul peak reference");
        failures += ops_run_case(t, &tm, &pr, BENCH_OP_MATMUL, "peak-reference", &peak_ref, &refs, j,
                                 NULL, &gflops);
        refs.peak_gflops = gflops;
    }
    for (int i = 0; i < n_cases; i++) {
        const ops_case *c = &cases[i];
        if (o->filtered && !o->want[c->op])
            continue;
        char label[128], shape[96];
        ops_shape_str(c->op, &c->s, shape, sizeof shape);
        snprintf(label, sizeof label, "%s %s", bench_op_name(c->op), shape);
        bench_progress_step(&pr, label);
        failures += ops_run_case(t, &tm, &pr, c->op, c->variant, &c->s, &refs, j, NULL, NULL);
    }
    bench_progress_end(&pr);
    printf("copy bandwidth %.2f GB/s", refs.copy_gbps);
    if (want_peak)
        printf(", f32 GEMM %lldx%lldx%lld %.2f GFLOP/s", (long long)gemm, (long long)gemm,
               (long long)gemm, refs.peak_gflops);
    printf("\n");
    return failures;
}

int bench_ops_main(int argc, char **argv)
{
    ops_opts o;
    memset(&o, 0, sizeof o);
    bench_common_init(&o.c);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            bench_ops_help(stdout);
            return 0;
        }
        int r = bench_common_parse(&o.c, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r)
            continue;
        if (!strcmp(argv[i], "--op") && i + 1 < argc) {
            if (ops_parse_filter(&o, argv[++i]))
                return 2;
            continue;
        }
        fprintf(stderr, "ssmrt bench ops: unknown option '%s' (see --help)\n", argv[i]);
        return 2;
    }
    bench_target *targets = NULL;
    int n = bench_targets_open(&o.c, &targets);
    if (n == 0)
        return 1;
    bench_json *j = o.c.json_path ? bench_json_create() : NULL;
    if (o.c.json_path && !j) {
        bench_targets_close(targets, n);
        fprintf(stderr, "ssmrt bench: out of host memory\n");
        return 1;
    }
    int failures = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        failures += ops_run_target(&o, &targets[i], j);
        /* Written after every device, so a run cut short keeps what it measured. */
        if (j && bench_json_write(j, o.c.json_path))
            rc = 1;
    }
    rc |= failures ? 1 : 0;
    bench_json_destroy(j);
    bench_targets_close(targets, n);
    if (failures)
        fprintf(stderr, "ssmrt bench ops: %d case(s) failed\n", failures);
    return rc;
}
