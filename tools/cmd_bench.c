/* `ssmrt bench`: dispatches to the ops, model and scaling benchmarks (bench_*.c). */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "commands.h"

static void bench_usage(FILE *f)
{
    fprintf(f,
            "usage: ssmrt bench <ops|model|scaling> [options]\n"
            "\n"
            "  ops      each op over shape sweeps, with the device's copy bandwidth and a\n"
            "           GEMM peak as references (GB/s, GFLOP/s, fractions of both)\n"
            "  model    prefill and decode tokens/s of a model or a random-weight preset,\n"
            "           state/KV memory per sequence, peak device memory\n"
            "  scaling  selective scan vs attention at equal width as the sequence grows,\n"
            "           time and memory, with a log-log SVG plot\n"
            "\n"
            "The backend comes from SSMRT_BACKEND / SSMRT_DEVICE (or --backend/--device);\n"
            "--all runs every backend that loads. ops and scaling report the median device\n"
            "time of ssmrt_graph_compute_timed (the backend's own clock: CUDA events, Vulkan\n"
            "timestamps, OpenCL profiling) over repeated runs after warm-up runs, and the\n"
            "wall-clock median beside it; model reports wall-clock tokens/s, as an\n"
            "application sees them.\n"
            "`ssmrt bench <sub> --help` lists the options of each.\n");
}

int ssmrt_cmd_bench(int argc, char **argv)
{
    if (argc < 2) {
        bench_usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        bench_usage(stdout);
        return 0;
    }
    if (!strcmp(sub, "ops"))
        return bench_ops_main(argc - 1, argv + 1);
    if (!strcmp(sub, "model"))
        return bench_model_main(argc - 1, argv + 1);
    if (!strcmp(sub, "scaling"))
        return bench_scaling_main(argc - 1, argv + 1);
    fprintf(stderr, "ssmrt bench: unknown benchmark '%s'\n\n", sub);
    bench_usage(stderr);
    return 2;
}
