/* A Mamba decode step must cost the same at any position and its state must not
 * grow: prefill to 1K tokens, time decode steps; prefill on to 64K, time again.
 * Checks that the state bytes and the device memory in use are equal, and prints the
 * median step speed at both positions. Speed is evidence for the notes, not an
 * assertion: timings on a shared machine are noise (`ssmrt bench model` measures it).
 * usage: test_decode_scaling MODEL_DIR [CONTEXT_SMALL CONTEXT_LARGE STEPS] */
#include <time.h>

#include "model_test.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Advances the session to `target` tokens with chunked prefill. */
static void fill_to(ssmrt_session *s, int64_t target, int64_t V, int32_t *ids, int64_t chunk)
{
    float *last = malloc((size_t)V * sizeof *last);
    while (ssmrt_session_position(s) < target) {
        int64_t pos = ssmrt_session_position(s), n = target - pos < chunk ? target - pos : chunk;
        for (int64_t i = 0; i < n; i++)
            ids[i] = (int32_t)((pos + i) * 7919 % V);
        MT_OK(ssmrt_session_forward(s, ids, n, NULL, last));
    }
    free(last);
}

/* Median seconds per decode step over `steps` steps. */
static double decode_median(ssmrt_session *s, int64_t V, int steps)
{
    float *last = malloc((size_t)V * sizeof *last);
    double *t = malloc((size_t)steps * sizeof *t);
    int32_t tok = 1;
    for (int i = 0; i < steps; i++) {
        double t0 = now();
        MT_OK(ssmrt_session_forward(s, &tok, 1, NULL, last));
        t[i] = now() - t0;
        tok = (int32_t)mt_argmax(last, V);
    }
    qsort(t, (size_t)steps, sizeof *t, cmp_double);
    double m = t[steps / 2];
    free(t);
    free(last);
    return m;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL_DIR [SMALL LARGE STEPS]\n", argv[0]);
        return 2;
    }
    const int64_t small = argc > 2 ? atoll(argv[2]) : 1024, large = argc > 3 ? atoll(argv[3]) : 65536;
    const int steps = argc > 4 ? atoi(argv[4]) : 256;
    const int64_t chunk = 2048;
    ssmrt_context *ctx = mt_context();
    ssmrt_model *m = NULL;
    MT_OK(ssmrt_model_load(ctx, argv[1], &m));
    const ssmrt_model_info *info = ssmrt_model_get_info(m);
    if (info->n_attention_layers) {
        printf("SKIP: %s has attention layers, whose decode cost grows with the context\n", argv[1]);
        return MT_SKIP;
    }
    ssmrt_session_options o = {sizeof o, 1, 0, chunk};
    ssmrt_session *s = NULL;
    MT_OK(ssmrt_session_create(m, &o, &s));
    int32_t *ids = malloc((size_t)chunk * sizeof *ids);

    fill_to(s, small, info->vocab_size, ids, chunk);
    const uint64_t bytes_small = ssmrt_session_state_bytes(s);
    uint64_t mem_small, mem_large, peak;
    double t_small = decode_median(s, info->vocab_size, steps);
    ssmrt_context_memory(ctx, &mem_small, &peak);

    double t0 = now();
    fill_to(s, large, info->vocab_size, ids, chunk);
    double t_fill = now() - t0;
    const uint64_t bytes_large = ssmrt_session_state_bytes(s);
    double t_large = decode_median(s, info->vocab_size, steps);
    ssmrt_context_memory(ctx, &mem_large, &peak);

    printf("RESULT decode %s context=%lld tok_s=%.0f state_bytes=%llu\n", info->architecture,
           (long long)small, 1.0 / t_small, (unsigned long long)bytes_small);
    printf("RESULT decode %s context=%lld tok_s=%.0f state_bytes=%llu (prefill %lld tokens: %.0f tok/s)\n",
           info->architecture, (long long)large, 1.0 / t_large, (unsigned long long)bytes_large,
           (long long)(large - small), (large - small) / t_fill);
    printf("device memory in use: %llu bytes at %lld, %llu at %lld\n", (unsigned long long)mem_small,
           (long long)small, (unsigned long long)mem_large, (long long)large);
    MT_CHECK(bytes_small == bytes_large, "state grew from %llu to %llu bytes",
             (unsigned long long)bytes_small, (unsigned long long)bytes_large);
    MT_CHECK(mem_small == mem_large, "device memory grew from %llu to %llu bytes",
             (unsigned long long)mem_small, (unsigned long long)mem_large);

    free(ids);
    ssmrt_session_destroy(s);
    ssmrt_model_destroy(m);
    ssmrt_context_destroy(ctx);
    return mt_failures ? 1 : 0;
}
