/* ssmrt eval: logits for the input_ids of a safetensors file, in one of the three
 * ways a session can consume tokens, written to a safetensors file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ssmrt.h"
#include "ssmrt_model.h"
#include "ssmrt_safetensors.h"
#include "tool_args.h"
#include "tool_progress.h"

static void eval_help(FILE *f)
{
    fprintf(f,
            "usage: ssmrt eval --model DIR --input FILE --output FILE [--mode MODE]\n"
            "\n"
            "Computes logits for every position of 'input_ids' (I32 or I64, [B, L]) read\n"
            "from the safetensors FILE and writes 'logits' (F32, [B, L, vocab]) to the\n"
            "output safetensors file, on the backend chosen by SSMRT_BACKEND.\n"
            "\n"
            "  --model DIR     model folder (config.json + model.safetensors)\n"
            "  --input FILE    safetensors file holding input_ids\n"
            "  --output FILE   safetensors file to write (replaced atomically)\n"
            "  --mode MODE     parallel   the whole sequence as one graph (default)\n"
            "                  recurrent  one token at a time through the decode path\n"
            "                  chunked:N  prefill N tokens per graph, state carried over\n"
            "  --help          this text\n"
            "\n"
            "The three modes compute the same function; they differ in the order of\n"
            "floating-point work only. A progress line goes to stderr for long runs.\n");
}

typedef struct eval_opts {
    const char *model, *input, *output, *mode_text;
    int64_t step; /* tokens per forward call; 0 = all (parallel) */
} eval_opts;

static int eval_parse(int argc, char **argv, eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode_text = "parallel";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            eval_help(stdout);
            exit(0);
        }
        if (strncmp(a, "--", 2)) {
            fprintf(stderr, "ssmrt eval: unexpected argument '%s' (see --help)\n", a);
            return -1;
        }
        if (!(v = tool_arg_value("eval", argc, argv, &i)))
            return -1;
        if (!strcmp(a, "--model"))
            o->model = v;
        else if (!strcmp(a, "--input"))
            o->input = v;
        else if (!strcmp(a, "--output"))
            o->output = v;
        else if (!strcmp(a, "--mode"))
            o->mode_text = v;
        else {
            fprintf(stderr, "ssmrt eval: unknown option '%s' (see --help)\n", a);
            return -1;
        }
    }
    if (!o->model || !o->input || !o->output) {
        fprintf(stderr, "ssmrt eval: --model, --input and --output are required (see --help)\n");
        return -1;
    }
    if (!strcmp(o->mode_text, "parallel"))
        o->step = 0;
    else if (!strcmp(o->mode_text, "recurrent"))
        o->step = 1;
    else if (!strncmp(o->mode_text, "chunked:", 8)) {
        if (tool_arg_int("eval", "--mode chunked:N", o->mode_text + 8, 1, INT64_MAX, &o->step))
            return -1;
    } else {
        fprintf(stderr, "ssmrt eval: --mode: '%s' is not parallel, recurrent or chunked:N\n",
                o->mode_text);
        return -1;
    }
    return 0;
}

static int eval_fail(const char *what)
{
    fprintf(stderr, "ssmrt eval: %s: %s\n", what, ssmrt_last_error());
    return 1;
}

/* input_ids as int32 [B, L]. */
static int eval_read_ids(const char *path, int32_t **ids, int64_t *B, int64_t *L)
{
    ssmrt_safetensors *st = NULL;
    if (ssmrt_safetensors_open(path, &st))
        return eval_fail("reading the input");
    ssmrt_st_tensor t;
    int rc = 1;
    if (ssmrt_safetensors_find(st, "input_ids", &t)) {
        rc = eval_fail("reading the input");
        goto done;
    }
    if ((t.dtype != SSMRT_ST_I32 && t.dtype != SSMRT_ST_I64) || t.ndim != 2 || t.shape[0] < 1 ||
        t.shape[1] < 1) {
        fprintf(stderr, "ssmrt eval: %s: input_ids must be I32 or I64 [B, L] with B, L >= 1 "
                        "(got %s with %d dims)\n",
                path, ssmrt_st_dtype_name(t.dtype), t.ndim);
        goto done;
    }
    *B = t.shape[0];
    *L = t.shape[1];
    const int64_t n = *B * *L;
    *ids = malloc((size_t)n * sizeof **ids);
    if (!*ids) {
        fprintf(stderr, "ssmrt eval: out of memory\n");
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t v;
        if (t.dtype == SSMRT_ST_I32) {
            int32_t x;
            memcpy(&x, (const char *)t.data + i * 4, 4);
            v = x;
        } else {
            memcpy(&v, (const char *)t.data + i * 8, 8);
        }
        if (v < 0 || v > INT32_MAX) {
            fprintf(stderr, "ssmrt eval: %s: input_ids[%lld][%lld] = %lld is not a token id\n", path,
                    (long long)(i / *L), (long long)(i % *L), (long long)v);
            free(*ids);
            *ids = NULL;
            goto done;
        }
        (*ids)[i] = (int32_t)v;
    }
    rc = 0;
done:
    ssmrt_safetensors_close(st);
    return rc;
}

/* Feeds ids [B, L] in blocks of step tokens, gathering logits [B, L, V]. */
static int eval_run(ssmrt_session *s, const int32_t *ids, int64_t B, int64_t L, int64_t V,
                    int64_t step, float *logits)
{
    if (step == 0 || step >= L)
        return ssmrt_session_forward(s, ids, L, logits, NULL) ? eval_fail("forward") : 0;
    int32_t *tok = malloc((size_t)(B * step) * sizeof *tok);
    float *part = malloc((size_t)(B * step * V) * sizeof *part);
    int rc = 0;
    if (!tok || !part) {
        fprintf(stderr, "ssmrt eval: out of memory\n");
        rc = 1;
    }
    tool_progress p;
    tool_progress_start(&p, "eval", B * L);
    for (int64_t start = 0; !rc && start < L; start += step) {
        const int64_t c = L - start < step ? L - start : step;
        for (int64_t b = 0; b < B; b++)
            memcpy(tok + b * c, ids + b * L + start, (size_t)c * sizeof *tok);
        if (ssmrt_session_forward(s, tok, c, part, NULL)) {
            tool_progress_end(&p);
            rc = eval_fail("forward");
            break;
        }
        for (int64_t b = 0; b < B; b++)
            memcpy(logits + (b * L + start) * V, part + b * c * V, (size_t)(c * V) * sizeof *part);
        tool_progress_update(&p, B * (start + c));
    }
    tool_progress_end(&p);
    free(tok);
    free(part);
    return rc;
}

int ssmrt_cmd_eval(int argc, char **argv)
{
    eval_opts o;
    if (eval_parse(argc, argv, &o))
        return 2;
    int rc = 1;
    int32_t *ids = NULL;
    float *logits = NULL;
    ssmrt_context *ctx = NULL;
    ssmrt_model *model = NULL;
    ssmrt_session *s = NULL;
    int64_t B = 0, L = 0;
    if (eval_read_ids(o.input, &ids, &B, &L))
        goto done;
    if (ssmrt_context_create(NULL, &ctx)) {
        rc = eval_fail("opening the backend");
        goto done;
    }
    if (ssmrt_model_load(ctx, o.model, &model)) {
        rc = eval_fail("loading the model");
        goto done;
    }
    const int64_t V = ssmrt_model_get_info(model)->vocab_size;
    ssmrt_session_options so = {sizeof so, (int32_t)B, L, 0};
    if (B > INT32_MAX || ssmrt_session_create(model, &so, &s)) {
        rc = eval_fail("creating the session");
        goto done;
    }
    logits = malloc((size_t)(B * L * V) * sizeof *logits);
    if (!logits) {
        fprintf(stderr, "ssmrt eval: out of memory for %lld x %lld x %lld logits\n", (long long)B,
                (long long)L, (long long)V);
        goto done;
    }
    double t0 = tool_now();
    if (eval_run(s, ids, B, L, V, o.step, logits))
        goto done;
    double dt = tool_now() - t0;

    ssmrt_st_tensor out = {"logits", SSMRT_ST_F32, 3, {B, L, V}, logits,
                           (uint64_t)(B * L * V) * sizeof *logits};
    if (ssmrt_safetensors_write(o.output, &out, 1)) {
        rc = eval_fail("writing the output");
        goto done;
    }
    const ssmrt_device_info *dev = ssmrt_context_device(ctx);
    printf("eval: %lld x %lld tokens, mode %s, %s %u, %.4f s, %.1f tok/s -> %s\n", (long long)B,
           (long long)L, o.mode_text, dev->backend, dev->index, dt, dt > 0 ? B * L / dt : 0.0,
           o.output);
    rc = 0;
done:
    free(ids);
    free(logits);
    ssmrt_session_destroy(s);
    ssmrt_model_destroy(model);
    ssmrt_context_destroy(ctx);
    return rc;
}
