/* `ssmrt bench model`: prefill and decode speed of a whole model, with its memory.
 *
 * Prefill: a fresh sequence of P tokens (the session reset before each run, untimed),
 * last-position logits only, median over repetitions.
 * Decode: one token per ssmrt_session_forward with last-position logits, median over
 * --decode-steps steps, at each context length c. A sequence gets to position c by
 * prefilling c tokens in chunks; the lengths that would take longer than --budget
 * seconds to reach (estimated from the measured prefill speed) are skipped and
 * reported. For a pure Mamba model the recurrent state does not grow, so decode time
 * and state bytes at position p do not depend on p: the measured positions show it
 * (the summary prints the spread), and a step after 1M tokens costs what a step
 * after 1K costs. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "ssmrt_model.h"

#define MODEL_MAX_LENS 16

void bench_model_help(FILE *f)
{
    fprintf(f,
            "usage: ssmrt bench model (--preset NAME | --model DIR) [options]\n"
            "\n"
            "Prefill tokens/s at several prompt lengths, decode tokens/s at several context\n"
            "lengths, recurrent state + KV cache bytes per sequence, peak device memory.\n"
            "\n"
            "  --preset NAME    random weights in a named shape, written to a temporary\n"
            "                   folder (config.json + model.safetensors), loaded, deleted:\n");
    bench_presets_help(f);
    fprintf(f,
            "  --model DIR      a Hugging Face model folder instead\n"
            "  --save DIR       write the preset into DIR (created if needed) and keep it\n"
            "  --dtype T        preset matrix dtype: f16 (default), bf16 or f32\n"
            "  --layers N       preset with N layers instead of the published count\n"
            "  --prompt-lens L  prompt lengths, comma list (default 128,512 on CPUs,\n"
            "                   512,2048,8192 on GPUs; k/M suffixes allowed)\n"
            "  --contexts L     decode context lengths (default 1K,4K,16K,64K,256K,1M)\n"
            "  --decode-steps N timed decode steps per context (default 16)\n"
            "  --chunk N        tokens per forward call while prefilling to a context\n"
            "                   (default 1024 on CPUs, 8192 on GPUs)\n"
            "  --budget S       seconds allowed for prefilling up to the contexts; longer\n"
            "                   contexts are skipped and reported (default 300)\n");
    bench_common_help(f);
    fprintf(f,
            "\nJSON: records with op \"load\", \"prefill\" (L = prompt length, ms, tokens_per_s),\n"
            "\"decode\" (L = position, ms per token, tokens_per_s, state_bytes) and \"memory\"\n"
            "(weight_bytes, state_bytes, peak_bytes), each with model, backend, device.\n");
}

typedef struct model_opts {
    bench_common c;
    const char *preset, *dir, *save;
    ssmrt_dtype dtype;
    int64_t layers;
    int64_t prompt[MODEL_MAX_LENS], ctx[MODEL_MAX_LENS];
    int n_prompt, n_ctx;
    int64_t steps, chunk;
    double budget;
} model_opts;

/* ---- runs the timing loop calls -------------------------------------------------------- */

typedef struct model_run {
    ssmrt_session *s;
    const int32_t *tokens;
    int64_t n;
    float *logits; /* [vocab] */
} model_run;

static ssmrt_status model_reset(void *arg)
{
    return ssmrt_session_reset(((model_run *)arg)->s);
}

static ssmrt_status model_forward(void *arg)
{
    model_run *r = arg;
    return ssmrt_session_forward(r->s, r->tokens, r->n, NULL, r->logits);
}

/* ---- one target ------------------------------------------------------------------------ */

typedef struct model_env {
    const model_opts *o;
    const bench_target *t;
    const char *name;
    ssmrt_model *m;
    const ssmrt_model_info *info;
    int32_t *tokens;  /* random ids, as many as the longest prompt or chunk */
    int64_t n_tokens;
    float *logits;
    bench_json *j;
    bench_progress pr;
} model_env;

static void model_json_head(model_env *e, const char *op)
{
    bench_json_begin(e->j);
    bench_json_str(e->j, "op", op);
    bench_json_str(e->j, "model", e->name);
    bench_json_target(e->j, e->t);
    if (e->o->preset)
        bench_json_str(e->j, "dtype", ssmrt_dtype_name(e->o->dtype));
    bench_json_int(e->j, "B", 1);
}

static ssmrt_status model_session(model_env *e, int64_t max_context, int64_t chunk,
                                  ssmrt_session **out)
{
    ssmrt_session_options so = {sizeof so, 1, max_context, chunk};
    return ssmrt_session_create(e->m, &so, out);
}

/* Prefill speed at each prompt length. Returns tokens/s of the longest prompt measured
 * (0 if none), for estimating how long reaching a decode context takes. */
static double model_prefill(model_env *e, int *failures)
{
    const model_opts *o = e->o;
    int64_t longest = 0;
    for (int i = 0; i < o->n_prompt; i++)
        longest = o->prompt[i] > longest ? o->prompt[i] : longest;
    ssmrt_session *s = NULL;
    if (model_session(e, longest + 1, 0, &s)) {
        ++*failures;
        bench_fail("creating a prefill session");
        return 0;
    }
    bench_timing tm;
    bench_timing_from_common(&o->c, &tm);
    if (o->c.warmup < 0)
        tm.warmup = 1;
    double rate = 0;
    for (int i = 0; i < o->n_prompt; i++) {
        model_run r = {s, e->tokens, o->prompt[i], e->logits};
        bench_stats st;
        char label[64];
        snprintf(label, sizeof label, "prefill L=%lld", (long long)o->prompt[i]);
        bench_progress_step(&e->pr, label);
        ssmrt_status rc = bench_time(&tm, model_reset, model_forward, &r, &st);
        bench_progress_clear(&e->pr);
        if (rc) {
            ++*failures;
            printf("prefill  L=%-8lld FAILED: %s\n", (long long)o->prompt[i], ssmrt_last_error());
            continue;
        }
        double tps = (double)o->prompt[i] / (st.median_ms * 1e-3);
        printf("prefill  L=%-8lld %10.2f ms %10.1f tokens/s   (%d reps)\n",
               (long long)o->prompt[i], st.median_ms, tps, st.reps);
        fflush(stdout);
        if (e->j) {
            model_json_head(e, "prefill");
            bench_json_int(e->j, "L", o->prompt[i]);
            bench_json_num(e->j, "ms", st.median_ms);
            bench_json_num(e->j, "min_ms", st.min_ms);
            bench_json_num(e->j, "max_ms", st.max_ms);
            bench_json_int(e->j, "reps", st.reps);
            bench_json_num(e->j, "tokens_per_s", tps);
            bench_json_end(e->j);
        }
        if (o->prompt[i] == longest)
            rate = tps;
    }
    ssmrt_session_destroy(s);
    return rate;
}

/* Feeds tokens until the session is at position target (in chunks). Returns 0, or the
 * error status. */
static ssmrt_status model_reach(model_env *e, ssmrt_session *s, int64_t target)
{
    while (ssmrt_session_position(s) < target) {
        char label[96];
        snprintf(label, sizeof label, "decode L=%lld: prefilling, at %lld", (long long)target,
                 (long long)ssmrt_session_position(s));
        bench_progress_note(&e->pr, label);
        int64_t n = target - ssmrt_session_position(s);
        n = n < e->o->chunk ? n : e->o->chunk;
        ssmrt_status st = ssmrt_session_forward(s, e->tokens, n, NULL, NULL);
        if (st)
            return st;
    }
    return SSMRT_OK;
}

static void model_decode_reached(model_env *e, const int64_t *reach, int n, int *failures);

static void model_decode(model_env *e, double prefill_rate, int *failures)
{
    const model_opts *o = e->o;
    /* Which contexts fit the budget, at the measured prefill speed: a prefix, since the
     * contexts are sorted. The others are reported after the measured ones. */
    const int64_t *reach = o->ctx;
    int n = 0;
    while (n < o->n_ctx && prefill_rate > 0 && (double)o->ctx[n] / prefill_rate <= o->budget)
        n++;
    if (n)
        model_decode_reached(e, reach, n, failures);
    for (int i = n; i < o->n_ctx; i++) {
        double est = prefill_rate > 0 ? (double)o->ctx[i] / prefill_rate : INFINITY;
        bench_progress_skip(&e->pr);
        bench_progress_clear(&e->pr);
        printf("decode   L=%-8lld skipped: prefilling to it takes about %.3g s at %.0f tokens/s, "
               "over --budget %g s\n", (long long)o->ctx[i], est, prefill_rate, o->budget);
        if (e->j) {
            model_json_head(e, "decode");
            bench_json_int(e->j, "L", o->ctx[i]);
            bench_json_str(e->j, "status", "skipped");
            bench_json_num(e->j, "estimated_prefill_s", est);
            bench_json_end(e->j);
        }
    }
}

/* Decode speed at each of the n reachable contexts, in one sequence that grows. */
static void model_decode_reached(model_env *e, const int64_t *reach, int n, int *failures)
{
    const model_opts *o = e->o;
    const int warm = o->c.warmup >= 0 ? o->c.warmup : 2;
    /* Every measurement moves the sequence warm + steps tokens further. */
    int64_t cap = reach[n - 1] + (int64_t)n * (warm + o->steps) + 1;
    ssmrt_session *s = NULL;
    if (model_session(e, cap, o->chunk, &s)) {
        ++*failures;
        bench_fail("creating a decode session");
        return;
    }
    /* A fixed warm-up count: each run moves the sequence on, and cap counts them. */
    bench_timing tm = {.warmup = warm,
                       .warmup_seconds = 0.0,
                       .min_reps = (int)o->steps,
                       .max_reps = (int)o->steps,
                       .min_seconds = 0.0,
                       .max_seconds = INFINITY};
    double lo = INFINITY, hi = 0;
    uint64_t state_lo = UINT64_MAX, state_hi = 0;
    int64_t p_lo = 0, p_hi = 0;
    int measured = 0;
    double t_start = bench_now_seconds();
    for (int i = 0; i < n; i++) {
        char label[64];
        snprintf(label, sizeof label, "decode L=%lld", (long long)reach[i]);
        bench_progress_step(&e->pr, label);
        if (bench_now_seconds() - t_start > 2 * o->budget) {
            bench_progress_clear(&e->pr);
            printf("decode   L=%-8lld skipped: the budget ran out while prefilling\n",
                   (long long)reach[i]);
            continue;
        }
        if (model_reach(e, s, reach[i])) {
            bench_progress_clear(&e->pr);
            ++*failures;
            printf("decode   L=%-8lld FAILED prefilling: %s\n", (long long)reach[i],
                   ssmrt_last_error());
            break;
        }
        int64_t pos = ssmrt_session_position(s);
        model_run r = {s, e->tokens, 1, e->logits};
        bench_stats st;
        ssmrt_status rc = bench_time(&tm, NULL, model_forward, &r, &st);
        bench_progress_clear(&e->pr);
        if (rc) {
            ++*failures;
            printf("decode   L=%-8lld FAILED: %s\n", (long long)pos, ssmrt_last_error());
            break;
        }
        uint64_t sb = ssmrt_session_state_bytes(s);
        double tps = 1e3 / st.median_ms;
        printf("decode   L=%-8lld %10.3f ms %10.1f tokens/s   state+KV %.2f MiB\n",
               (long long)pos, st.median_ms, tps, (double)sb / 1048576.0);
        fflush(stdout);
        if (e->j) {
            model_json_head(e, "decode");
            bench_json_int(e->j, "L", pos);
            bench_json_num(e->j, "ms", st.median_ms);
            bench_json_num(e->j, "min_ms", st.min_ms);
            bench_json_num(e->j, "max_ms", st.max_ms);
            bench_json_int(e->j, "reps", st.reps);
            bench_json_num(e->j, "tokens_per_s", tps);
            bench_json_num(e->j, "state_bytes", (double)sb);
            bench_json_end(e->j);
        }
        if (st.median_ms < lo)
            lo = st.median_ms, p_lo = pos;
        if (st.median_ms > hi)
            hi = st.median_ms, p_hi = pos;
        measured++;
        state_lo = sb < state_lo ? sb : state_lo;
        state_hi = sb > state_hi ? sb : state_hi;
    }
    ssmrt_session_destroy(s);
    if (measured < 2)
        return;
    if (e->info->n_attention_layers == 0)
        printf("decode: %.3f ms/token at position %lld .. %.3f at %lld (max/min %.2f); state "
               "per sequence %s (%llu bytes) at every position measured\n",
               lo, (long long)p_lo, hi, (long long)p_hi, hi / lo,
               state_lo == state_hi ? "constant" : "varies", (unsigned long long)state_hi);
    else
        printf("decode: %.3f ms/token at position %lld .. %.3f at %lld; the KV cache of %lld "
               "attention layer(s) grows with the context\n",
               lo, (long long)p_lo, hi, (long long)p_hi, (long long)e->info->n_attention_layers);
}

static int model_run_target(const model_opts *o, const bench_target *t, const char *dir,
                            const char *name, bench_json *j)
{
    printf("\n== %s device %u: %s (%s)\n", t->info->backend, t->info->index, t->info->name,
           t->info->api_version);
    model_env e = {.o = o, .t = t, .name = name, .j = j};
    double t0 = bench_now_seconds();
    if (ssmrt_model_load(t->ctx, dir, &e.m) != SSMRT_OK)
        return bench_fail("loading the model");
    double load_s = bench_now_seconds() - t0;
    e.info = ssmrt_model_get_info(e.m);
    printf("model %s (%s, %lld layers, %lld attention, hidden %lld, vocab %lld): weights "
           "%.1f MiB, loaded in %.2f s\n", name, e.info->architecture, (long long)e.info->n_layers,
           (long long)e.info->n_attention_layers, (long long)e.info->hidden_size,
           (long long)e.info->vocab_size, (double)e.info->weight_bytes / 1048576.0, load_s);
    if (j) {
        model_json_head(&e, "load");
        bench_json_int(j, "layers", e.info->n_layers);
        bench_json_num(j, "weight_bytes", (double)e.info->weight_bytes);
        bench_json_num(j, "ms", load_s * 1e3);
        bench_json_end(j);
    }

    int failures = 0;
    e.n_tokens = o->chunk;
    for (int i = 0; i < o->n_prompt; i++)
        e.n_tokens = o->prompt[i] > e.n_tokens ? o->prompt[i] : e.n_tokens;
    e.tokens = malloc((size_t)e.n_tokens * sizeof *e.tokens);
    e.logits = malloc((size_t)e.info->vocab_size * sizeof *e.logits);
    if (!e.tokens || !e.logits) {
        fprintf(stderr, "ssmrt bench: out of host memory\n");
        failures++;
    } else {
        uint64_t seed = 0x70c3e5ull;
        for (int64_t i = 0; i < e.n_tokens; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            e.tokens[i] = (int32_t)((seed >> 33) % (uint64_t)e.info->vocab_size);
        }
        bench_progress_begin(&e.pr, o->n_prompt + o->n_ctx);
        double rate = model_prefill(&e, &failures);
        model_decode(&e, rate, &failures);
        bench_progress_end(&e.pr);
    }

    uint64_t cur = 0, peak = 0, state = 0;
    ssmrt_session *s = NULL;
    if (model_session(&e, 1, 0, &s) == SSMRT_OK) {
        state = ssmrt_session_state_bytes(s);
        ssmrt_session_destroy(s);
    }
    ssmrt_context_memory(t->ctx, &cur, &peak);
    printf("memory: weights %.1f MiB, state per sequence %.3f MiB (a session of context 1), "
           "peak device memory %.1f MiB\n", (double)e.info->weight_bytes / 1048576.0,
           (double)state / 1048576.0, (double)peak / 1048576.0);
    if (j) {
        model_json_head(&e, "memory");
        bench_json_num(j, "weight_bytes", (double)e.info->weight_bytes);
        bench_json_num(j, "state_bytes", (double)state);
        bench_json_num(j, "peak_bytes", (double)peak);
        bench_json_end(j);
    }
    free(e.tokens);
    free(e.logits);
    ssmrt_model_destroy(e.m);
    return failures;
}

/* ---- options and the temporary preset folder ------------------------------------------- */

static int model_parse(model_opts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = bench_common_parse(&o->c, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r)
            continue;
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t x = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            bench_model_help(stdout);
            return 1;
        } else if (!strcmp(a, "--preset") && v) {
            if (!bench_preset_find(v)) {
                fprintf(stderr, "ssmrt bench model: unknown preset '%s' (see --help)\n", v);
                return 2;
            }
            o->preset = v;
        } else if (!strcmp(a, "--save") && v) {
            o->save = v;
        } else if (!strcmp(a, "--model") && v) {
            o->dir = v;
        } else if (!strcmp(a, "--dtype") && v) {
            if (!strcmp(v, "f16"))
                o->dtype = SSMRT_F16;
            else if (!strcmp(v, "bf16"))
                o->dtype = SSMRT_BF16;
            else if (!strcmp(v, "f32"))
                o->dtype = SSMRT_F32;
            else {
                fprintf(stderr, "ssmrt bench model: --dtype must be f16, bf16 or f32\n");
                return 2;
            }
        } else if (!strcmp(a, "--prompt-lens") && v) {
            if ((o->n_prompt = bench_parse_int_list(v, o->prompt, MODEL_MAX_LENS)) < 0) {
                fprintf(stderr, "ssmrt bench model: bad --prompt-lens '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--contexts") && v) {
            if ((o->n_ctx = bench_parse_int_list(v, o->ctx, MODEL_MAX_LENS)) < 0) {
                fprintf(stderr, "ssmrt bench model: bad --contexts '%s'\n", v);
                return 2;
            }
        } else if ((!strcmp(a, "--layers") || !strcmp(a, "--decode-steps") ||
                    !strcmp(a, "--chunk")) && v) {
            if (bench_parse_int(v, &x) || x < 1 || x > (1 << 30)) {
                fprintf(stderr, "ssmrt bench model: %s needs a positive integer\n", a);
                return 2;
            }
            *(!strcmp(a, "--layers") ? &o->layers : !strcmp(a, "--chunk") ? &o->chunk : &o->steps) = x;
        } else if (!strcmp(a, "--budget") && v) {
            char *end = NULL;
            o->budget = strtod(v, &end);
            if (*end || !(o->budget >= 0)) {
                fprintf(stderr, "ssmrt bench model: --budget needs seconds >= 0\n");
                return 2;
            }
        } else {
            fprintf(stderr, "ssmrt bench model: unknown option or missing value '%s' (see --help)\n", a);
            return 2;
        }
        i++;
    }
    if (!o->preset == !o->dir) {
        fprintf(stderr, "ssmrt bench model: give exactly one of --preset NAME and --model DIR\n");
        return 2;
    }
    if (o->save && !o->preset) {
        fprintf(stderr, "ssmrt bench model: --save needs --preset\n");
        return 2;
    }
    return 0;
}

static int model_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Defaults that depend on the device class, filled per target. */
static void model_defaults(model_opts *o, const model_opts *given, int cpu)
{
    *o = *given;
    static const int64_t cpu_prompt[] = {128, 512}, gpu_prompt[] = {512, 2048, 8192};
    static const int64_t ctx[] = {1024, 4096, 16384, 65536, 262144, 1048576};
    if (!o->n_prompt) {
        const int64_t *src = o->c.quick ? (const int64_t[]){4, 16} : cpu ? cpu_prompt : gpu_prompt;
        o->n_prompt = o->c.quick ? 2 : cpu ? 2 : 3;
        memcpy(o->prompt, src, (size_t)o->n_prompt * sizeof *src);
    }
    if (!o->n_ctx) {
        o->n_ctx = o->c.quick ? 2 : 6;
        memcpy(o->ctx, o->c.quick ? (const int64_t[]){32, 64} : ctx, (size_t)o->n_ctx * sizeof *ctx);
    }
    qsort(o->ctx, (size_t)o->n_ctx, sizeof *o->ctx, model_cmp_i64);
    if (!o->steps)
        o->steps = o->c.quick ? 2 : 16;
    if (!o->chunk)
        o->chunk = o->c.quick ? 16 : cpu ? 1024 : 8192;
}

static void model_remove_dir(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    remove(path);
    if (rmdir(dir) != 0)
        fprintf(stderr, "ssmrt bench: cannot remove %s: %s\n", dir, strerror(errno));
}

int bench_model_main(int argc, char **argv)
{
    model_opts given;
    memset(&given, 0, sizeof given);
    bench_common_init(&given.c);
    given.dtype = SSMRT_F16;
    given.budget = 300.0;
    int r = model_parse(&given, argc, argv);
    if (r)
        return r == 1 ? 0 : r;
    if (given.c.quick && given.budget == 300.0)
        given.budget = 60.0;

    char tmpdir[4096] = {0};
    const char *dir = given.dir, *name = given.dir;
    /* A preset is written to --save DIR, else to a temporary folder removed at the end. */
    const int temporary = given.preset && !given.save;
    if (given.preset) {
        if (temporary) {
            const char *base = getenv("TMPDIR");
            snprintf(tmpdir, sizeof tmpdir, "%s/ssmrt-bench-XXXXXX",
                     base && *base ? base : "/tmp");
            if (!mkdtemp(tmpdir)) {
                fprintf(stderr, "ssmrt bench: cannot create a temporary folder %s: %s\n",
                        tmpdir, strerror(errno));
                return 1;
            }
        } else {
            snprintf(tmpdir, sizeof tmpdir, "%s", given.save);
            if (mkdir(tmpdir, 0777) != 0 && errno != EEXIST) {
                fprintf(stderr, "ssmrt bench: cannot create %s: %s\n", tmpdir, strerror(errno));
                return 1;
            }
        }
        const bench_preset *p = bench_preset_find(given.preset);
        fprintf(stderr, "bench: writing %s with random %s weights to %s\n", given.preset,
                ssmrt_dtype_name(given.dtype), tmpdir);
        if (bench_preset_write(p, tmpdir, given.dtype, given.layers)) {
            if (temporary)
                model_remove_dir(tmpdir);
            return 1;
        }
        dir = tmpdir;
        name = bench_preset_name(p);
    }

    int rc = 1;
    bench_target *targets = NULL;
    int n = bench_targets_open(&given.c, &targets);
    bench_json *j = given.c.json_path ? bench_json_create() : NULL;
    if (n > 0 && (!given.c.json_path || j)) {
        int failures = 0;
        rc = 0;
        for (int i = 0; i < n; i++) {
            model_opts o;
            model_defaults(&o, &given, bench_target_is_cpu(&targets[i]));
            failures += model_run_target(&o, &targets[i], dir, name, j);
            /* Written after every device, so a run cut short keeps what it measured. */
            if (j && bench_json_write(j, given.c.json_path))
                rc = 1;
        }
        rc |= failures ? 1 : 0;
    }
    bench_json_destroy(j);
    if (n > 0)
        bench_targets_close(targets, n);
    if (temporary)
        model_remove_dir(tmpdir);
    return rc;
}
