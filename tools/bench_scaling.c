/* `ssmrt bench scaling`: the selective scan against causal attention at equal width as
 * the sequence grows. The scan does O(L) work and keeps O(1) state per sequence;
 * attention does O(L^2) work and keeps an O(L) KV cache. The time exponent is fitted
 * from the measurements (log-log least squares over the longest lengths, where fixed
 * per-call costs no longer matter); the memory panel is the per-sequence memory a
 * decoder keeps at context L (f32 state vs f32 KV cache), computed from the shapes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define SCALING_MAX_POINTS 32
#define SCALING_MEM_CONTEXT (1 << 20) /* the memory panel reaches 1M tokens */

void bench_scaling_help(FILE *f)
{
    fprintf(f,
            "usage: ssmrt bench scaling [--plot FILE.svg] [--json FILE] [--max-len N] [options]\n"
            "\n"
            "Times the Mamba-1 selective scan (H = width channels, P = 1, N state, D skip,\n"
            "delta bias, softplus) and causal attention (width = heads x head dim, as many KV\n"
            "heads as query heads) at lengths min-len, 2*min-len, ... max-len, batch 1, and\n"
            "fits the exponent k of time ~ L^k. Memory is what a decoder keeps per sequence\n"
            "at context L: the scan's state B*H*P*N*4 bytes, attention's KV cache\n"
            "2*L*H*Dh*4 bytes.\n"
            "\n"
            "  --plot FILE.svg  write the plot: time vs length (log-log) and memory vs context,\n"
            "                   one line per op and backend\n"
            "  --min-len N      first length (default 512; --quick 16)\n"
            "  --max-len N      last length (default 8192 on CPUs, 65536 on GPUs; --quick 256)\n"
            "  --width D        model width (default 2048; --quick 64)\n"
            "  --state N        scan state size (default 16)\n"
            "  --heads H        attention heads, head dim = width / H (default 32; --quick 4)\n"
            "  --budget S       skip lengths whose estimated time per run exceeds S seconds\n"
            "                   (default 60)\n");
    bench_common_help(f);
    fprintf(f, "\nJSON: records {op, backend, device, L, D, N or H/K, ms, reps, state_bytes or\n"
               "kv_bytes, device_bytes, bytes, gbps, gflops}.\n");
}

typedef struct scaling_opts {
    bench_common c;
    const char *plot;
    int64_t min_len, max_len, width, state, heads;
    double budget;
} scaling_opts;

/* Measured points of one op on one target. */
typedef struct scaling_curve {
    bench_op op;
    char label[96];
    int n;
    double L[SCALING_MAX_POINTS], ms[SCALING_MAX_POINTS];
} scaling_curve;

static void scaling_shapes(const scaling_opts *o, int64_t L, bench_shape *scan,
                           bench_shape *attn)
{
    memset(scan, 0, sizeof *scan);
    memset(attn, 0, sizeof *attn);
    *scan = (bench_shape){.B = 1, .L = L, .D = o->width, .H = o->width, .P = 1, .N = o->state,
                          .G = 1, .flags = BENCH_F_DSKIP | BENCH_F_DT_BIAS};
    *attn = (bench_shape){.B = 1, .L = L, .D = o->width, .H = o->heads, .G = o->heads,
                          .K = o->width / o->heads};
}

/* Runs one point; returns 0 on success (appending to the curve), 1 on failure. */
static int scaling_point(const bench_target *t, const bench_timing *tm, bench_progress *pr,
                         bench_op op, const bench_shape *s, scaling_curve *cv, bench_json *j)
{
    bench_graph bg;
    bench_graph_init(&bg, t->ctx, 0x5ca1e000ull + (uint64_t)op);
    bench_stats st;
    ssmrt_status rc = bench_graph_build(&bg, op, s);
    if (!rc)
        rc = bench_graph_prepare(&bg);
    if (!rc)
        rc = bench_graph_time(&bg, tm, &st);
    bench_progress_clear(pr);
    if (rc) {
        printf("%-15s L=%-8lld %s: %s\n", bench_op_name(op), (long long)s->L,
               rc == SSMRT_ERR_UNSUPPORTED ? "unsupported" : "FAILED", ssmrt_last_error());
        bench_graph_release(&bg);
        return rc == SSMRT_ERR_UNSUPPORTED ? 0 : 1;
    }
    const int scan = op == BENCH_OP_SELECTIVE_SCAN;
    double mem = scan ? bench_scan_state_bytes(s) : bench_kv_cache_bytes(s);
    double sec = st.median_ms * 1e-3;
    printf("%-15s L=%-8lld %10.3f ms %9.2f GB/s %9.2f GFLOP/s  %s %.0f B  device %.1f MiB\n",
           bench_op_name(op), (long long)s->L, st.median_ms, bg.bytes / sec * 1e-9,
           bg.flops / sec * 1e-9, scan ? "state" : "KV", mem,
           (double)bg.device_bytes / 1048576.0);
    fflush(stdout);
    if (j) {
        bench_json_begin(j);
        bench_json_str(j, "op", bench_op_name(op));
        bench_json_target(j, t);
        bench_json_str(j, "dtype", "f32");
        bench_json_int(j, "B", s->B);
        bench_json_int(j, "L", s->L);
        bench_json_int(j, "D", s->D);
        if (scan) {
            bench_json_int(j, "N", s->N);
            bench_json_int(j, "H", s->H);
            bench_json_int(j, "P", s->P);
        } else {
            bench_json_int(j, "H", s->H);
            bench_json_int(j, "K", s->K);
        }
        bench_json_num(j, "ms", st.median_ms);
        bench_json_num(j, "min_ms", st.min_ms);
        bench_json_num(j, "max_ms", st.max_ms);
        bench_json_int(j, "reps", st.reps);
        bench_json_str(j, "clock", st.device_clock ? "device" : "wall");
        bench_json_num(j, "wall_ms", st.wall_ms);
        bench_json_num(j, "bytes", bg.bytes);
        bench_json_num(j, "gbps", bg.bytes / sec * 1e-9);
        bench_json_num(j, "gflops", bg.flops / sec * 1e-9);
        bench_json_num(j, scan ? "state_bytes" : "kv_bytes", mem);
        bench_json_num(j, "device_bytes", (double)bg.device_bytes);
        bench_json_end(j);
    }
    if (cv->n < SCALING_MAX_POINTS) {
        cv->L[cv->n] = (double)s->L;
        cv->ms[cv->n] = st.median_ms;
        cv->n++;
    }
    bench_graph_release(&bg);
    return 0;
}

/* Exponent over the longest lengths: the last four points (at least two), where the
 * op's own work dominates fixed costs. */
static double scaling_exponent(const scaling_curve *cv, int *first)
{
    int k = cv->n < 4 ? 0 : cv->n - 4;
    *first = k;
    return bench_loglog_slope(cv->L + k, cv->ms + k, cv->n - k);
}

static int scaling_run_target(const scaling_opts *o, const bench_target *t, bench_json *j,
                              scaling_curve *curves /* [2] */)
{
    bench_timing tm;
    bench_timing_from_common(&o->c, &tm);
    int64_t max_len = o->max_len > 0 ? o->max_len
                      : o->c.quick              ? 256
                      : bench_target_is_cpu(t)  ? 8192
                                                : 65536;
    printf("\n== %s device %u: %s (%s)\n", t->info->backend, t->info->index, t->info->name,
           t->info->api_version);
    static const bench_op ops[2] = {BENCH_OP_SELECTIVE_SCAN, BENCH_OP_ATTENTION};
    static const double expected_exp[2] = {1.0, 2.0};
    for (int k = 0; k < 2; k++) {
        memset(&curves[k], 0, sizeof curves[k]);
        curves[k].op = ops[k];
        /* "attention (cpu)", or "attention (cuda:1)" past the first device. */
        if (t->info->index)
            snprintf(curves[k].label, sizeof curves[k].label, "%s (%s:%u)",
                     bench_op_name(ops[k]), t->info->backend, t->info->index);
        else
            snprintf(curves[k].label, sizeof curves[k].label, "%s (%s)", bench_op_name(ops[k]),
                     t->info->backend);
    }
    int n_points = 0;
    for (int64_t L = o->min_len; L <= max_len; L *= 2)
        n_points += 2;
    bench_progress pr;
    bench_progress_begin(&pr, n_points);
    int failures = 0;
    int stopped[2] = {0, 0};
    for (int64_t L = o->min_len; L <= max_len; L *= 2) {
        bench_shape shapes[2];
        scaling_shapes(o, L, &shapes[0], &shapes[1]);
        for (int k = 0; k < 2; k++) {
            char label[96];
            snprintf(label, sizeof label, "%s L=%lld", bench_op_name(ops[k]), (long long)L);
            if (stopped[k]) {
                bench_progress_skip(&pr);
                continue;
            }
            scaling_curve *cv = &curves[k];
            if (cv->n > 0) {
                /* Predict from the last point with the op's known complexity. */
                double est = cv->ms[cv->n - 1] * 1e-3 *
                             pow((double)L / cv->L[cv->n - 1], expected_exp[k]);
                if (est > o->budget) {
                    bench_progress_clear(&pr);
                    printf("%-15s L=%-8lld skipped: about %.3g s per run, over --budget %g s\n",
                           bench_op_name(ops[k]), (long long)L, est, o->budget);
                    if (j) {
                        bench_json_begin(j);
                        bench_json_str(j, "op", bench_op_name(ops[k]));
                        bench_json_target(j, t);
                        bench_json_int(j, "L", L);
                        bench_json_str(j, "status", "skipped");
                        bench_json_num(j, "estimated_s", est);
                        bench_json_end(j);
                    }
                    stopped[k] = 1;
                    bench_progress_skip(&pr);
                    continue;
                }
            }
            bench_progress_step(&pr, label);
            failures += scaling_point(t, &tm, &pr, ops[k], &shapes[k], cv, j);
        }
    }
    bench_progress_end(&pr);
    for (int k = 0; k < 2; k++) {
        int first = 0;
        double e = scaling_exponent(&curves[k], &first);
        if (isfinite(e))
            printf("%s: time ~ L^%.2f (fit over L = %.0f..%.0f)\n", curves[k].label, e,
                   curves[k].L[first], curves[k].L[curves[k].n - 1]);
    }
    return failures;
}

/* The plot: time panel from the measurements, memory panel from the shapes. */
static int scaling_plot(const scaling_opts *o, const scaling_curve *curves, int n_curves,
                        int64_t max_len_measured)
{
    bench_series *time_s = calloc((size_t)(n_curves ? n_curves : 1), sizeof *time_s);
    bench_series mem_s[2];
    double mL[64], mstate[64], mkv[64];
    int nm = 0;
    int64_t top = max_len_measured > SCALING_MEM_CONTEXT ? max_len_measured : SCALING_MEM_CONTEXT;
    for (int64_t L = o->min_len; L <= top && nm < 64; L *= 2) {
        bench_shape scan, attn;
        scaling_shapes(o, L, &scan, &attn);
        mL[nm] = (double)L;
        mstate[nm] = bench_scan_state_bytes(&scan);
        mkv[nm] = bench_kv_cache_bytes(&attn);
        nm++;
    }
    if (!time_s) {
        fprintf(stderr, "ssmrt bench: out of host memory\n");
        return 1;
    }
    for (int i = 0; i < n_curves; i++) {
        snprintf(time_s[i].label, sizeof time_s[i].label, "%s", curves[i].label);
        time_s[i].n = curves[i].n;
        time_s[i].x = (double *)curves[i].L;
        time_s[i].y = (double *)curves[i].ms;
        time_s[i].dashed = curves[i].op == BENCH_OP_ATTENTION;
    }
    memset(mem_s, 0, sizeof mem_s);
    snprintf(mem_s[0].label, sizeof mem_s[0].label, "selective_scan state (H=%lld, N=%lld)",
             (long long)o->width, (long long)o->state);
    mem_s[0].n = nm, mem_s[0].x = mL, mem_s[0].y = mstate;
    snprintf(mem_s[1].label, sizeof mem_s[1].label, "attention KV cache (%lld heads x %lld)",
             (long long)o->heads, (long long)(o->width / o->heads));
    mem_s[1].n = nm, mem_s[1].x = mL, mem_s[1].y = mkv, mem_s[1].dashed = 1;

    char title[160];
    snprintf(title, sizeof title, "selective scan vs attention, width %lld, batch 1, f32",
             (long long)o->width);
    bench_panel panels[2] = {
        {"time per forward pass", "sequence length L", "median time", BENCH_UNIT_COUNT,
         BENCH_UNIT_MS, time_s, n_curves},
        {"decode memory per sequence", "context length", "bytes", BENCH_UNIT_COUNT,
         BENCH_UNIT_BYTES, mem_s, 2},
    };
    int rc = bench_svg_write(o->plot, title, panels, 2);
    free(time_s);
    return rc;
}

static int scaling_opt_int(int argc, char **argv, int *i, int64_t lo, int64_t *out)
{
    if (*i + 1 >= argc || bench_parse_int(argv[*i + 1], out) || *out < lo) {
        fprintf(stderr, "ssmrt bench scaling: %s needs an integer >= %lld\n", argv[*i],
                (long long)lo);
        return -1;
    }
    ++*i;
    return 0;
}

int bench_scaling_main(int argc, char **argv)
{
    scaling_opts o;
    memset(&o, 0, sizeof o);
    bench_common_init(&o.c);
    o.budget = 60.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            bench_scaling_help(stdout);
            return 0;
        }
        int r = bench_common_parse(&o.c, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r)
            continue;
        if (!strcmp(a, "--plot") && i + 1 < argc) {
            o.plot = argv[++i];
        } else if (!strcmp(a, "--min-len")) {
            if (scaling_opt_int(argc, argv, &i, 1, &o.min_len))
                return 2;
        } else if (!strcmp(a, "--max-len")) {
            if (scaling_opt_int(argc, argv, &i, 1, &o.max_len))
                return 2;
        } else if (!strcmp(a, "--width")) {
            if (scaling_opt_int(argc, argv, &i, 1, &o.width))
                return 2;
        } else if (!strcmp(a, "--state")) {
            if (scaling_opt_int(argc, argv, &i, 1, &o.state))
                return 2;
        } else if (!strcmp(a, "--heads")) {
            if (scaling_opt_int(argc, argv, &i, 1, &o.heads))
                return 2;
        } else if (!strcmp(a, "--budget") && i + 1 < argc) {
            char *end = NULL;
            o.budget = strtod(argv[++i], &end);
            if (*end || !(o.budget > 0)) {
                fprintf(stderr, "ssmrt bench scaling: --budget needs seconds > 0\n");
                return 2;
            }
        } else {
            fprintf(stderr, "ssmrt bench scaling: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!o.min_len)
        o.min_len = o.c.quick ? 16 : 512;
    if (!o.width)
        o.width = o.c.quick ? 64 : 2048;
    if (!o.state)
        o.state = 16;
    if (!o.heads)
        o.heads = o.c.quick ? 4 : 32;
    if (o.width % o.heads) {
        fprintf(stderr, "ssmrt bench scaling: --heads %lld must divide --width %lld\n",
                (long long)o.heads, (long long)o.width);
        return 2;
    }
    if (o.max_len && o.max_len < o.min_len) {
        fprintf(stderr, "ssmrt bench scaling: --max-len is below --min-len %lld\n",
                (long long)o.min_len);
        return 2;
    }

    bench_target *targets = NULL;
    int n = bench_targets_open(&o.c, &targets);
    if (n == 0)
        return 1;
    bench_json *j = o.c.json_path ? bench_json_create() : NULL;
    scaling_curve *curves = calloc((size_t)n * 2, sizeof *curves);
    if ((o.c.json_path && !j) || !curves) {
        fprintf(stderr, "ssmrt bench: out of host memory\n");
        bench_json_destroy(j);
        free(curves);
        bench_targets_close(targets, n);
        return 1;
    }
    int failures = 0, rc = 0;
    double longest = 0;
    for (int i = 0; i < n; i++) {
        failures += scaling_run_target(&o, &targets[i], j, &curves[2 * i]);
        for (int k = 0; k < 2; k++)
            if (curves[2 * i + k].n)
                longest = fmax(longest, curves[2 * i + k].L[curves[2 * i + k].n - 1]);
        /* Written after every device, so a run cut short keeps what it measured. */
        if (j && bench_json_write(j, o.c.json_path))
            rc = 1;
        if (o.plot && scaling_plot(&o, curves, 2 * (i + 1), (int64_t)longest))
            rc = 1;
    }
    rc |= failures ? 1 : 0;
    if (failures)
        fprintf(stderr, "ssmrt bench scaling: %d point(s) failed\n", failures);
    bench_json_destroy(j);
    free(curves);
    bench_targets_close(targets, n);
    return rc;
}
