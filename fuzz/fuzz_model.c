/*
 * libFuzzer target: model-graph construction from a config. The input is config.json
 * text; when its hyperparameters are accepted and its weights are small (at most
 * FUZZ_MAX_ELEMS f32 elements, checked before anything is allocated), a folder with
 * that config and random weights of exactly the shapes the loader expects is written,
 * loaded on the CPU backend, and run: a prefill of two tokens and one decode step.
 * Properties: no crash or sanitizer report; every failure has a message; after the
 * model and session are destroyed the context holds no device memory.
 *
 * The CPU plugin is found through SSMRT_PLUGIN_PATH (default: the build's lib folder,
 * baked in at compile time as SSMRT_FUZZ_PLUGIN_DIR).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_model_weights.h"
#include "model/config.h"
#include "model/hparams.h"
#include "ssmrt.h"
#include "ssmrt_model.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ssmrt_context *fuzz_ctx;
static char fuzz_dir[64];
static float *fuzz_values; /* FUZZ_MAX_ELEMS values in +-0.5, shared by every tensor */

static void fuzz_cleanup(void);

static void must(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_model: property violated: %s (%s)\n", what, ssmrt_last_error());
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("SSMRT_PLUGIN_PATH", SSMRT_FUZZ_PLUGIN_DIR, 0);
    /* One kernel thread: executions per second matter more than speed per run. */
    setenv("OMP_NUM_THREADS", "1", 0);
    ssmrt_context_options o = {.struct_size = sizeof o, .backend = "cpu", .device = 0};
    if (ssmrt_context_create(&o, &fuzz_ctx)) {
        fprintf(stderr, "fuzz_model: no CPU backend: %s\n", ssmrt_last_error());
        exit(1);
    }
    snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/ssmrt-fuzz-model-XXXXXX");
    if (!mkdtemp(fuzz_dir)) {
        perror("mkdtemp");
        exit(1);
    }
    atexit(fuzz_cleanup);
    fuzz_values = malloc(FUZZ_MAX_ELEMS * sizeof(float));
    uint32_t s = 12345;
    for (uint32_t i = 0; i < FUZZ_MAX_ELEMS; i++) {
        s = s * 1664525u + 1013904223u;
        fuzz_values[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
    }
    return 0;
}

static void fuzz_cleanup(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/model.safetensors", fuzz_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/config.json", fuzz_dir);
    unlink(path);
    rmdir(fuzz_dir);
    ssmrt_context_destroy(fuzz_ctx);
    free(fuzz_values);
}

static int fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    int bad = fwrite(data, 1, size, f) != size;
    return fclose(f) != 0 || bad;
}

static void fuzz_run(void)
{
    ssmrt_model *m = NULL;
    ssmrt_session *s = NULL;
    ssmrt_status st = ssmrt_model_load(fuzz_ctx, fuzz_dir, &m);
    /* FUZZ_MODEL_VERBOSE=1: say how far each input got (to check the seeds run). */
    if (getenv("FUZZ_MODEL_VERBOSE"))
        fprintf(stderr, "fuzz_model: load: %s %s\n", ssmrt_status_name(st),
                st ? ssmrt_last_error() : "");
    if (st) {
        must(ssmrt_last_error()[0] != '\0', "a failed load has a message");
        return;
    }
    /* A short KV cache keeps attention configs small; two tokens need two slots. */
    ssmrt_session_options so = {.struct_size = sizeof so, .batch = 1, .max_context = 4};
    st = ssmrt_session_create(m, &so, &s);
    if (!st) {
        const int64_t V = ssmrt_model_get_info(m)->vocab_size;
        float *logits = malloc((size_t)V * 3 * sizeof(float));
        int32_t toks[3] = {0, (int32_t)(V - 1), (int32_t)(V / 2)};
        st = ssmrt_session_forward(s, toks, 2, logits, NULL);
        if (!st)
            st = ssmrt_session_forward(s, &toks[2], 1, NULL, logits);
        must(st || ssmrt_session_position(s) == 3, "position after 3 tokens");
        free(logits);
    }
    if (getenv("FUZZ_MODEL_VERBOSE"))
        fprintf(stderr, "fuzz_model: run: %s %s\n", ssmrt_status_name(st),
                st ? ssmrt_last_error() : "");
    if (st)
        must(ssmrt_last_error()[0] != '\0', "a failed session call has a message");
    ssmrt_session_destroy(s);
    ssmrt_model_destroy(m);
    uint64_t cur = 0, peak = 0;
    ssmrt_context_memory(fuzz_ctx, &cur, &peak);
    must(cur == 0, "device memory released with the model");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ssmrt__cfg cfg;
    if (ssmrt__cfg_parse((const char *)data, size, "config.json", &cfg) != SSMRT_OK)
        return 0;
    ssmrt__hparams *hp = calloc(1, sizeof *hp); /* large: per-layer tables */
    fuzz_wlist l = {0};
    if (ssmrt__hparams_read(&cfg, hp) == SSMRT_OK)
        fuzz_wlist_build(&l, hp);
    ssmrt__cfg_close(&cfg);
    if (l.n && !l.failed) {
        char path[128];
        for (uint32_t i = 0; i < l.n; i++) {
            l.t[i].dtype = SSMRT_ST_F32;
            l.t[i].data = fuzz_values;
            uint64_t n = 1;
            for (int d = 0; d < l.t[i].ndim; d++)
                n *= (uint64_t)l.t[i].shape[d];
            l.t[i].bytes = n * sizeof(float);
        }
        snprintf(path, sizeof path, "%s/model.safetensors", fuzz_dir);
        int ok = ssmrt_safetensors_write(path, l.t, l.n) == SSMRT_OK;
        snprintf(path, sizeof path, "%s/config.json", fuzz_dir);
        ok = ok && !fuzz_write_file(path, data, size);
        if (ok)
            fuzz_run();
    }
    fuzz_wlist_free(&l);
    free(hp);
    return 0;
}
