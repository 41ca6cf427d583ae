/* ssmrt run: prefill a prompt of token ids and generate, printing the ids, the
 * prefill and decode speed and the memory the session state takes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ssmrt.h"
#include "ssmrt_model.h"
#include "tool_args.h"
#include "tool_progress.h"
#include "tool_sample.h"

static void run_help(FILE *f)
{
    fprintf(f,
            "usage: ssmrt run --model DIR --prompt-ids IDS [options]\n"
            "\n"
            "Generates tokens with a model folder (config.json + model.safetensors) on the\n"
            "backend chosen by SSMRT_BACKEND / SSMRT_DEVICE.\n"
            "\n"
            "  --model DIR           model folder (Mamba, Mamba-2 or Jamba)\n"
            "  --prompt-ids IDS      prompt token ids, comma separated: 1,2,3\n"
            "  --max-new-tokens N    tokens to generate (default 16)\n"
            "  --temperature T       0 = greedy (default); > 0 samples from softmax(logits/T)\n"
            "  --top-k K             sample among the K most likely tokens (0 = all)\n"
            "  --top-p P             sample among the smallest set with mass >= P (default 1)\n"
            "  --seed S              sampling seed (default 0)\n"
            "  --prefill-chunk N     prefill at most N tokens per graph, carrying the state\n"
            "                        (bounds memory for long prompts; 0 = all; default 2048)\n"
            "  --max-context N       KV cache tokens for attention layers\n"
            "                        (default: prompt + new tokens)\n"
            "  --help                this text\n"
            "\n"
            "Output (stdout): 'generated:' the new ids, comma separated; 'prefill:' and\n"
            "'decode:' token counts, seconds and tokens/s (decode: the steps after the\n"
            "first new token, one token each); 'state:' bytes of recurrent state and KV\n"
            "cache per sequence. A progress line goes to stderr for long runs.\n");
}

typedef struct run_opts {
    const char *model;
    int32_t *prompt;
    int64_t n_prompt;
    int64_t max_new;
    double temperature, top_p;
    int64_t top_k, seed, prefill_chunk, max_context;
} run_opts;

static int run_parse(int argc, char **argv, run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_new = 16;
    o->top_p = 1.0;
    o->prefill_chunk = 2048;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            run_help(stdout);
            exit(0);
        }
        if (strncmp(a, "--", 2)) {
            fprintf(stderr, "ssmrt run: unexpected argument '%s' (see --help)\n", a);
            return -1;
        }
        if (!(v = tool_arg_value("run", argc, argv, &i)))
            return -1;
        int bad;
        if (!strcmp(a, "--model"))
            o->model = v, bad = 0;
        else if (!strcmp(a, "--prompt-ids"))
            free(o->prompt), bad = tool_arg_ids("run", a, v, &o->prompt, &o->n_prompt);
        else if (!strcmp(a, "--max-new-tokens"))
            bad = tool_arg_int("run", a, v, 0, INT32_MAX, &o->max_new);
        else if (!strcmp(a, "--temperature"))
            bad = tool_arg_double("run", a, v, 0, 1e6, &o->temperature);
        else if (!strcmp(a, "--top-k"))
            bad = tool_arg_int("run", a, v, 0, INT32_MAX, &o->top_k);
        else if (!strcmp(a, "--top-p"))
            bad = tool_arg_double("run", a, v, 1e-9, 1, &o->top_p);
        else if (!strcmp(a, "--seed"))
            bad = tool_arg_int("run", a, v, 0, INT64_MAX, &o->seed);
        else if (!strcmp(a, "--prefill-chunk"))
            bad = tool_arg_int("run", a, v, 0, INT64_MAX, &o->prefill_chunk);
        else if (!strcmp(a, "--max-context"))
            bad = tool_arg_int("run", a, v, 1, INT64_MAX, &o->max_context);
        else {
            fprintf(stderr, "ssmrt run: unknown option '%s' (see --help)\n", a);
            return -1;
        }
        if (bad)
            return -1;
    }
    if (!o->model || !o->prompt) {
        fprintf(stderr, "ssmrt run: --model and --prompt-ids are required (see --help)\n");
        return -1;
    }
    return 0;
}

static int run_fail(const char *what)
{
    fprintf(stderr, "ssmrt run: %s: %s\n", what, ssmrt_last_error());
    return 1;
}

/* Prefill, then decode one token at a time, sampling from the last logits. */
static int run_generate(ssmrt_session *s, const run_opts *o, int64_t vocab, int32_t *out,
                        double *t_prefill, double *t_decode)
{
    tool_sampler smp;
    float *logits = malloc((size_t)vocab * sizeof *logits);
    if (!logits || tool_sampler_init(&smp, vocab, o->temperature, o->top_k, o->top_p,
                                     (uint64_t)o->seed)) {
        free(logits);
        fprintf(stderr, "ssmrt run: out of memory\n");
        return 1;
    }
    int rc = 0;
    double t0 = tool_now();
    if (ssmrt_session_forward(s, o->prompt, o->n_prompt, NULL, logits)) {
        rc = run_fail("prefill");
        goto done;
    }
    *t_prefill = tool_now() - t0;
    t0 = tool_now();
    tool_progress p;
    tool_progress_start(&p, "decode", o->max_new);
    for (int64_t i = 0; i < o->max_new; i++) {
        out[i] = tool_sampler_next(&smp, logits);
        if (i + 1 < o->max_new && ssmrt_session_forward(s, &out[i], 1, NULL, logits)) {
            tool_progress_end(&p);
            rc = run_fail("decode");
            goto done;
        }
        tool_progress_update(&p, i + 1);
    }
    tool_progress_end(&p);
    *t_decode = tool_now() - t0;
done:
    tool_sampler_free(&smp);
    free(logits);
    return rc;
}

int ssmrt_cmd_run(int argc, char **argv)
{
    run_opts o;
    if (run_parse(argc, argv, &o)) {
        free(o.prompt);
        return 2;
    }
    int rc = 1;
    ssmrt_context *ctx = NULL;
    ssmrt_model *model = NULL;
    ssmrt_session *s = NULL;
    int32_t *out = NULL;
    if (ssmrt_context_create(NULL, &ctx)) {
        rc = run_fail("opening the backend");
        goto done;
    }
    if (ssmrt_model_load(ctx, o.model, &model)) {
        rc = run_fail("loading the model");
        goto done;
    }
    const ssmrt_model_info *info = ssmrt_model_get_info(model);
    const ssmrt_device_info *dev = ssmrt_context_device(ctx);
    printf("model: %s (%s, %lld layers, %lld attention, vocab %lld, %llu weight bytes)\n", o.model,
           info->architecture, (long long)info->n_layers, (long long)info->n_attention_layers,
           (long long)info->vocab_size, (unsigned long long)info->weight_bytes);
    printf("device: %s %u: %s\n", dev->backend, dev->index, dev->name);

    ssmrt_session_options so = {sizeof so, 1,
                                o.max_context ? o.max_context : o.n_prompt + o.max_new,
                                o.prefill_chunk};
    if (ssmrt_session_create(model, &so, &s)) {
        rc = run_fail("creating the session");
        goto done;
    }
    out = malloc((size_t)(o.max_new ? o.max_new : 1) * sizeof *out);
    double tp = 0, td = 0;
    if (!out || run_generate(s, &o, info->vocab_size, out, &tp, &td))
        goto done;
    printf("generated:");
    for (int64_t i = 0; i < o.max_new; i++)
        printf("%s%d", i ? "," : " ", out[i]);
    printf("\n");
    printf("prefill: %lld tokens, %.4f s, %.1f tok/s\n", (long long)o.n_prompt, tp,
           tp > 0 ? o.n_prompt / tp : 0.0);
    const int64_t steps = o.max_new > 1 ? o.max_new - 1 : 0;
    printf("decode: %lld tokens, %.4f s, %.1f tok/s\n", (long long)steps, td,
           td > 0 && steps ? steps / td : 0.0);
    printf("state: %llu bytes per sequence (recurrent state + KV cache for %lld tokens)\n",
           (unsigned long long)ssmrt_session_state_bytes(s),
           info->n_attention_layers ? (long long)so.max_context : 0LL);
    rc = 0;
done:
    free(out);
    free(o.prompt);
    ssmrt_session_destroy(s);
    ssmrt_model_destroy(model);
    ssmrt_context_destroy(ctx);
    return rc;
}
