/* A fixture model against transformers' reference outputs, on the backend named by
 * SSMRT_BACKEND:
 *
 *  - full-forward logits of input_ids [B, L] in three modes: parallel (one graph),
 *    chunked prefill with the state carried (chunks of 5 and 16), and recurrent (one
 *    token at a time through the decode path); each within the tolerance of the
 *    reference, and the modes within the tolerance of each other;
 *  - generation: logits after the prompt and after each reference token compared at
 *    every step, and the greedy id compared wherever the reference's top-2 gap is
 *    wider than twice the tolerance (a narrower gap can flip with rounding);
 *  - session bookkeeping: position, constant state bytes, reset.
 *
 * usage: test_model_fixture MODEL_DIR [TOLERANCE]   (default 2e-3: the bound
 * for f32 weights; the reference is float64 and ssmrt accumulates in f32, whose
 * error over these few-layer models is ~1e-5 relative to logits of size ~1-10).
 * Prints "RESULT <model> <backend> <mode> max_abs=<err>" lines for the report. */
#include <time.h>

#include "model_test.h"

typedef struct mt_ref {
    int32_t *input_ids;
    float *logits;
    int32_t *prompt;
    int32_t *gen_ids;
    float *gen_logits;
    int64_t B, L, V, P, G;
} mt_ref;

static const char *mt_name(const char *dir)
{
    const char *s = strrchr(dir, '/');
    return s && s[1] ? s + 1 : dir;
}

static void mt_load_ref(const char *dir, mt_ref *r)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/reference.safetensors", dir);
    ssmrt_safetensors *st = NULL;
    MT_OK(ssmrt_safetensors_open(path, &st));
    int64_t shape[8];
    int nd;
    r->input_ids = mt_read(st, "input_ids", 1, shape, &nd);
    r->B = shape[0];
    r->L = shape[1];
    r->logits = mt_read(st, "logits", 0, shape, &nd);
    r->V = shape[2];
    r->prompt = mt_read(st, "prompt_ids", 1, shape, &nd);
    r->P = shape[0];
    r->gen_ids = mt_read(st, "generated_ids", 1, shape, &nd);
    r->G = shape[0];
    r->gen_logits = mt_read(st, "generated_logits", 0, shape, &nd);
    ssmrt_safetensors_close(st);
}

static double mt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Logits [B, L, V] of the whole input in one mode: chunk 0 = parallel, chunk > 0 =
 * chunked prefill, chunk < 0 = recurrent (one forward call per token). */
static float *mt_forward(ssmrt_model *model, const mt_ref *r, int64_t chunk)
{
    ssmrt_session_options o = {sizeof o, (int32_t)r->B, r->L, chunk > 0 ? chunk : 0};
    ssmrt_session *s = NULL;
    MT_OK(ssmrt_session_create(model, &o, &s));
    const uint64_t bytes0 = ssmrt_session_state_bytes(s);
    float *out = malloc((size_t)(r->B * r->L * r->V) * sizeof *out);
    if (chunk >= 0) {
        MT_OK(ssmrt_session_forward(s, r->input_ids, r->L, out, NULL));
    } else {
        int32_t *tok = malloc((size_t)r->B * sizeof *tok);
        float *step = malloc((size_t)(r->B * r->V) * sizeof *step);
        for (int64_t l = 0; l < r->L; l++) {
            for (int64_t b = 0; b < r->B; b++)
                tok[b] = r->input_ids[b * r->L + l];
            MT_OK(ssmrt_session_forward(s, tok, 1, NULL, step));
            for (int64_t b = 0; b < r->B; b++)
                memcpy(out + (b * r->L + l) * r->V, step + b * r->V, (size_t)r->V * sizeof *out);
        }
        free(tok);
        free(step);
    }
    MT_CHECK(ssmrt_session_position(s) == r->L, "position %lld after %lld tokens",
             (long long)ssmrt_session_position(s), (long long)r->L);
    MT_CHECK(ssmrt_session_state_bytes(s) == bytes0, "state bytes changed from %llu to %llu",
             (unsigned long long)bytes0, (unsigned long long)ssmrt_session_state_bytes(s));
    ssmrt_session_destroy(s);
    return out;
}

static void mt_generation(ssmrt_model *model, const mt_ref *r, double tol, const char *name,
                          const char *backend)
{
    ssmrt_session_options o = {sizeof o, 1, r->P + r->G, 0};
    ssmrt_session *s = NULL;
    MT_OK(ssmrt_session_create(model, &o, &s));
    float *step = malloc((size_t)r->V * sizeof *step);
    double worst = 0;
    int compared = 0, skipped = 0;
    double t0 = mt_now();
    MT_OK(ssmrt_session_forward(s, r->prompt, r->P, NULL, step));
    double t_prefill = mt_now() - t0;
    t0 = mt_now();
    for (int64_t i = 0; i < r->G; i++) {
        if (i > 0) /* teacher forcing keeps every step comparable with the reference */
            MT_OK(ssmrt_session_forward(s, &r->gen_ids[i - 1], 1, NULL, step));
        const float *ref = r->gen_logits + i * r->V;
        double err = mt_max_abs(step, ref, r->V);
        if (err > worst)
            worst = err;
        MT_CHECK(err <= tol, "generation step %lld: logits max-abs %.3g > %.3g", (long long)i, err,
                 tol);
        MT_CHECK(mt_argmax(ref, r->V) == r->gen_ids[i], "reference ids are not its argmax at %lld",
                 (long long)i);
        if (mt_top2_gap(ref, r->V) > 2 * tol) {
            compared++;
            MT_CHECK(mt_argmax(step, r->V) == r->gen_ids[i], "generation step %lld: id %lld, expected %d",
                     (long long)i, (long long)mt_argmax(step, r->V), r->gen_ids[i]);
        } else {
            skipped++;
        }
    }
    double t_decode = mt_now() - t0;
    printf("RESULT %s %s generation max_abs=%.3g ids_compared=%d ids_skipped_small_gap=%d "
           "prefill_tok_s=%.0f decode_tok_s=%.0f\n",
           name, backend, worst, compared, skipped, r->P / t_prefill, (r->G - 1) / t_decode);

    /* Reset really clears: the prompt gives the same logits again. */
    MT_OK(ssmrt_session_reset(s));
    MT_CHECK(ssmrt_session_position(s) == 0, "position after reset");
    MT_OK(ssmrt_session_forward(s, r->prompt, r->P, NULL, step));
    MT_CHECK(mt_max_abs(step, r->gen_logits, r->V) <= tol, "logits after reset differ");
    free(step);
    ssmrt_session_destroy(s);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL_DIR [TOLERANCE]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    const double tol = argc > 2 ? atof(argv[2]) : 2e-3;
    ssmrt_context *ctx = mt_context();
    const char *backend = mt_device_label(ctx);
    const char *name = mt_name(dir);

    mt_ref r;
    mt_load_ref(dir, &r);
    ssmrt_model *model = NULL;
    MT_OK(ssmrt_model_load(ctx, dir, &model));
    const ssmrt_model_info *info = ssmrt_model_get_info(model);
    MT_CHECK(info->vocab_size == r.V, "vocab %lld, reference %lld", (long long)info->vocab_size,
             (long long)r.V);
    printf("model %s: %s, %lld layers (%lld attention), hidden %lld, %llu weight bytes\n", name,
           info->architecture, (long long)info->n_layers, (long long)info->n_attention_layers,
           (long long)info->hidden_size, (unsigned long long)info->weight_bytes);

    const int64_t n = r.B * r.L * r.V;
    static const struct { const char *name; int64_t chunk; } modes[] = {
        {"parallel", 0}, {"chunked:5", 5}, {"chunked:16", 16}, {"recurrent", -1}};
    float *outs[4];
    for (int m = 0; m < 4; m++) {
        double t0 = mt_now();
        outs[m] = mt_forward(model, &r, modes[m].chunk);
        double err = mt_max_abs(outs[m], r.logits, n);
        printf("RESULT %s %s %s max_abs=%.3g (%.2f s)\n", name, backend, modes[m].name, err,
               mt_now() - t0);
        MT_CHECK(err <= tol, "%s: logits max-abs %.3g > %.3g", modes[m].name, err, tol);
        if (m > 0) {
            double d = mt_max_abs(outs[m], outs[0], n);
            printf("RESULT %s %s %s-vs-parallel max_abs=%.3g\n", name, backend, modes[m].name, d);
            MT_CHECK(d <= tol, "%s differs from parallel by %.3g", modes[m].name, d);
        }
    }
    for (int m = 0; m < 4; m++)
        free(outs[m]);

    mt_generation(model, &r, tol, name, backend);

    ssmrt_model_destroy(model);
    ssmrt_context_destroy(ctx);
    free(r.input_ids);
    free(r.logits);
    free(r.prompt);
    free(r.gen_ids);
    free(r.gen_logits);
    if (mt_failures) {
        printf("%d check(s) failed\n", mt_failures);
        return 1;
    }
    printf("PASS %s on %s\n", name, backend);
    return 0;
}
