/* Model presets for `ssmrt bench model --preset`: the shapes of published checkpoints
 * (and one small Jamba) written as a Hugging Face folder (config.json +
 * model.safetensors) with random weights, so the model is then loaded exactly like a
 * real one. Speed does not depend on the values, only on the shapes, as long as the
 * values are in a trained model's range (no overflow, no denormals):
 *
 *  - matrices (projections, embeddings, experts): uniform +-0.05, in the chosen dtype;
 *  - A_log = log(1..16) (A = -1..-16, the S4D-real initialisation);
 *  - dt bias = softplus^-1(dt) for dt log-uniform in [0.001, 0.1] (Mamba's init);
 *  - D and all norm weights 1; conv weights and biases uniform +-0.5.
 *
 * Tensors of one kind share one host buffer (the file gets a copy each): a 1.4B model
 * needs only its largest matrix in host memory while being written. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "ssmrt_safetensors.h"

typedef enum preset_arch { PRESET_MAMBA, PRESET_MAMBA2, PRESET_JAMBA } preset_arch;

struct bench_preset {
    const char *name;
    preset_arch arch;
    const char *about;
    int64_t hidden, layers, vocab, state, conv, expand;
    int64_t heads, head_dim, groups;                   /* Mamba-2 */
    int64_t q_heads, kv_heads, ffn, experts, top_k;    /* Jamba */
    int64_t attn_period, attn_offset, expert_period, expert_offset;
};

static const bench_preset preset_table[] = {
    {.name = "mamba-130m", .arch = PRESET_MAMBA,
     .about = "state-spaces/mamba-130m-hf: 24 layers, hidden 768",
     .hidden = 768, .layers = 24, .vocab = 50280, .state = 16, .conv = 4, .expand = 2},
    {.name = "mamba-370m", .arch = PRESET_MAMBA,
     .about = "state-spaces/mamba-370m-hf: 48 layers, hidden 1024",
     .hidden = 1024, .layers = 48, .vocab = 50280, .state = 16, .conv = 4, .expand = 2},
    {.name = "mamba-1.4b", .arch = PRESET_MAMBA,
     .about = "state-spaces/mamba-1.4b-hf: 48 layers, hidden 2048",
     .hidden = 2048, .layers = 48, .vocab = 50280, .state = 16, .conv = 4, .expand = 2},
    {.name = "mamba2-130m", .arch = PRESET_MAMBA2,
     .about = "state-spaces/mamba2-130m: 24 layers, hidden 768, 24 heads of 64, N 128",
     .hidden = 768, .layers = 24, .vocab = 50288, .state = 128, .conv = 4, .expand = 2,
     .heads = 24, .head_dim = 64, .groups = 1},
    {.name = "jamba-tiny", .arch = PRESET_JAMBA,
     .about = "small Jamba: 8 layers, hidden 512, attention at layers 2 and 6 (8 heads, "
              "2 KV), 8 experts top-2 on odd layers",
     .hidden = 512, .layers = 8, .vocab = 65536, .state = 16, .conv = 4, .expand = 2,
     .q_heads = 8, .kv_heads = 2, .ffn = 1024, .experts = 8, .top_k = 2, .attn_period = 4,
     .attn_offset = 2, .expert_period = 2, .expert_offset = 1},
};
#define PRESET_COUNT ((int)(sizeof preset_table / sizeof preset_table[0]))

const bench_preset *bench_preset_find(const char *name)
{
    for (int i = 0; i < PRESET_COUNT; i++)
        if (!strcmp(preset_table[i].name, name))
            return &preset_table[i];
    return NULL;
}

const char *bench_preset_name(const bench_preset *p)
{
    return p->name;
}

void bench_presets_help(FILE *f)
{
    for (int i = 0; i < PRESET_COUNT; i++)
        fprintf(f, "                   %-12s %s\n", preset_table[i].name, preset_table[i].about);
}

/* ---- the tensor list ------------------------------------------------------------ */

typedef enum preset_kind {
    PK_MATRIX, /* weight dtype, random +-0.05 */
    PK_ALOG,   /* f32 log(1..16) */
    PK_ONES,   /* f32 1 */
    PK_DTBIAS, /* f32 inverse softplus of dt */
    PK_RAND,   /* f32 random +-0.5 */
    PK_COUNT
} preset_kind;

typedef struct preset_list {
    ssmrt_st_tensor *t;
    preset_kind *kind;
    uint32_t n, cap;
    int64_t max_elems[PK_COUNT];
    int failed;
} preset_list;

static void preset_add(preset_list *l, preset_kind kind, int ndim, const int64_t *shape,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void preset_add(preset_list *l, preset_kind kind, int ndim, const int64_t *shape,
                       const char *fmt, ...)
{
    if (l->failed)
        return;
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 256;
        ssmrt_st_tensor *t = realloc(l->t, cap * sizeof *t);
        if (t)
            l->t = t;
        preset_kind *k = realloc(l->kind, cap * sizeof *k);
        if (k)
            l->kind = k;
        if (!t || !k) {
            l->failed = 1;
            return;
        }
        l->cap = cap;
    }
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    ssmrt_st_tensor *t = &l->t[l->n];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name) {
        l->failed = 1;
        return;
    }
    t->ndim = ndim;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= (t->shape[i] = shape[i]);
    l->kind[l->n] = kind;
    if (n > l->max_elems[kind])
        l->max_elems[kind] = n;
    l->n++;
}

#define S(...) ((const int64_t[]){__VA_ARGS__})

/* The Mamba-1 mixer's tensors (MambaForCausalLM and Jamba's Mamba layers). */
static void preset_mamba1(preset_list *l, const bench_preset *p, const char *pre, int jamba)
{
    const int64_t H = p->hidden, Di = p->expand * p->hidden, N = p->state, W = p->conv,
                  R = (p->hidden + 15) / 16;
    preset_add(l, PK_ALOG, 2, S(Di, N), "%sA_log", pre);
    preset_add(l, PK_ONES, 1, S(Di), "%sD", pre);
    preset_add(l, PK_RAND, 1, S(Di), "%sconv1d.bias", pre);
    preset_add(l, PK_RAND, 3, S(Di, 1, W), "%sconv1d.weight", pre);
    preset_add(l, PK_DTBIAS, 1, S(Di), "%sdt_proj.bias", pre);
    preset_add(l, PK_MATRIX, 2, S(Di, R), "%sdt_proj.weight", pre);
    preset_add(l, PK_MATRIX, 2, S(2 * Di, H), "%sin_proj.weight", pre);
    preset_add(l, PK_MATRIX, 2, S(H, Di), "%sout_proj.weight", pre);
    preset_add(l, PK_MATRIX, 2, S(R + 2 * N, Di), "%sx_proj.weight", pre);
    if (jamba) {
        preset_add(l, PK_ONES, 1, S(R), "%sdt_layernorm.weight", pre);
        preset_add(l, PK_ONES, 1, S(N), "%sb_layernorm.weight", pre);
        preset_add(l, PK_ONES, 1, S(N), "%sc_layernorm.weight", pre);
    }
}

static void preset_mamba2(preset_list *l, const bench_preset *p, const char *pre)
{
    const int64_t H = p->hidden, Di = p->expand * p->hidden, N = p->state, W = p->conv,
                  nh = p->heads, conv_dim = Di + 2 * p->groups * N;
    preset_add(l, PK_ALOG, 1, S(nh), "%sA_log", pre);
    preset_add(l, PK_ONES, 1, S(nh), "%sD", pre);
    preset_add(l, PK_RAND, 1, S(conv_dim), "%sconv1d.bias", pre);
    preset_add(l, PK_RAND, 3, S(conv_dim, 1, W), "%sconv1d.weight", pre);
    preset_add(l, PK_DTBIAS, 1, S(nh), "%sdt_bias", pre);
    preset_add(l, PK_MATRIX, 2, S(2 * Di + 2 * p->groups * N + nh, H), "%sin_proj.weight", pre);
    preset_add(l, PK_ONES, 1, S(Di), "%snorm.weight", pre);
    preset_add(l, PK_MATRIX, 2, S(H, Di), "%sout_proj.weight", pre);
}

static void preset_jamba_layer(preset_list *l, const bench_preset *p, int64_t i)
{
    const int64_t H = p->hidden, Dh = p->hidden / p->q_heads, F = p->ffn;
    char pre[96];
    preset_add(l, PK_ONES, 1, S(H), "model.layers.%lld.input_layernorm.weight", (long long)i);
    preset_add(l, PK_ONES, 1, S(H), "model.layers.%lld.pre_ff_layernorm.weight", (long long)i);
    if (i % p->attn_period == p->attn_offset) {
        snprintf(pre, sizeof pre, "model.layers.%lld.self_attn.", (long long)i);
        preset_add(l, PK_MATRIX, 2, S(p->q_heads * Dh, H), "%sq_proj.weight", pre);
        preset_add(l, PK_MATRIX, 2, S(p->kv_heads * Dh, H), "%sk_proj.weight", pre);
        preset_add(l, PK_MATRIX, 2, S(p->kv_heads * Dh, H), "%sv_proj.weight", pre);
        preset_add(l, PK_MATRIX, 2, S(H, p->q_heads * Dh), "%so_proj.weight", pre);
    } else {
        snprintf(pre, sizeof pre, "model.layers.%lld.mamba.", (long long)i);
        preset_mamba1(l, p, pre, 1);
    }
    snprintf(pre, sizeof pre, "model.layers.%lld.feed_forward.", (long long)i);
    if (i % p->expert_period == p->expert_offset && p->experts > 1) {
        preset_add(l, PK_MATRIX, 2, S(p->experts, H), "%srouter.weight", pre);
        for (int64_t e = 0; e < p->experts; e++) {
            preset_add(l, PK_MATRIX, 2, S(F, H), "%sexperts.%lld.gate_proj.weight", pre, (long long)e);
            preset_add(l, PK_MATRIX, 2, S(F, H), "%sexperts.%lld.up_proj.weight", pre, (long long)e);
            preset_add(l, PK_MATRIX, 2, S(H, F), "%sexperts.%lld.down_proj.weight", pre, (long long)e);
        }
    } else {
        preset_add(l, PK_MATRIX, 2, S(F, H), "%sgate_proj.weight", pre);
        preset_add(l, PK_MATRIX, 2, S(F, H), "%sup_proj.weight", pre);
        preset_add(l, PK_MATRIX, 2, S(H, F), "%sdown_proj.weight", pre);
    }
}

static void preset_tensors(preset_list *l, const bench_preset *p, int64_t layers)
{
    const int64_t H = p->hidden, V = p->vocab;
    if (p->arch == PRESET_JAMBA) {
        preset_add(l, PK_MATRIX, 2, S(V, H), "model.embed_tokens.weight");
        for (int64_t i = 0; i < layers; i++)
            preset_jamba_layer(l, p, i);
        preset_add(l, PK_ONES, 1, S(H), "model.final_layernorm.weight");
        preset_add(l, PK_MATRIX, 2, S(V, H), "lm_head.weight");
        return;
    }
    preset_add(l, PK_MATRIX, 2, S(V, H), "backbone.embeddings.weight");
    for (int64_t i = 0; i < layers; i++) {
        char pre[96];
        snprintf(pre, sizeof pre, "backbone.layers.%lld.mixer.", (long long)i);
        if (p->arch == PRESET_MAMBA)
            preset_mamba1(l, p, pre, 0);
        else
            preset_mamba2(l, p, pre);
        preset_add(l, PK_ONES, 1, S(H), "backbone.layers.%lld.norm.weight", (long long)i);
    }
    preset_add(l, PK_ONES, 1, S(H), "backbone.norm_f.weight");
}

/* ---- data --------------------------------------------------------------------------- */

static uint64_t preset_rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static double preset_uniform(uint64_t *s)
{
    return (double)(preset_rng(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Fills one kind's shared buffer. Returns NULL when out of memory. */
static void *preset_fill(preset_kind kind, int64_t n, ssmrt_dtype wdt, uint64_t *seed)
{
    size_t esize = kind == PK_MATRIX ? ssmrt_dtype_size(wdt) : 4;
    void *buf = malloc((size_t)(n ? n : 1) * esize);
    if (!buf)
        return NULL;
    float *f = buf;
    uint16_t *h = buf;
    for (int64_t i = 0; i < n; i++) {
        double u = preset_uniform(seed);
        switch (kind) {
        case PK_MATRIX: {
            float v = (float)(0.1 * u - 0.05);
            if (wdt == SSMRT_F16)
                h[i] = ssmrt_f32_to_f16(v);
            else if (wdt == SSMRT_BF16)
                h[i] = ssmrt_f32_to_bf16(v);
            else
                f[i] = v;
            break;
        }
        case PK_ALOG: f[i] = (float)log(1.0 + (double)(i % 16)); break;
        case PK_ONES: f[i] = 1.0f; break;
        case PK_DTBIAS: {
            double dt = exp(log(0.001) + u * (log(0.1) - log(0.001)));
            f[i] = (float)(dt + log(-expm1(-dt))); /* softplus(f) == dt */
            break;
        }
        default: f[i] = (float)(u - 0.5); break;
        }
    }
    return buf;
}

static ssmrt_st_dtype preset_st_dtype(ssmrt_dtype d)
{
    return d == SSMRT_F16 ? SSMRT_ST_F16 : d == SSMRT_BF16 ? SSMRT_ST_BF16 : SSMRT_ST_F32;
}

/* ---- config.json ------------------------------------------------------------------- */

static int preset_config(const bench_preset *p, const char *path, int64_t layers,
                         ssmrt_dtype dtype)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    const char *torch_dtype = dtype == SSMRT_F16    ? "float16"
                              : dtype == SSMRT_BF16 ? "bfloat16"
                                                    : "float32";
    const long long H = p->hidden, V = p->vocab, N = p->state, W = p->conv, E = p->expand,
                    R = (p->hidden + 15) / 16, nl = layers;
    switch (p->arch) {
    case PRESET_MAMBA:
        fprintf(f,
                "{\"architectures\": [\"MambaForCausalLM\"], \"model_type\": \"mamba\",\n"
                " \"hidden_size\": %lld, \"num_hidden_layers\": %lld, \"vocab_size\": %lld,\n"
                " \"state_size\": %lld, \"conv_kernel\": %lld, \"expand\": %lld,\n"
                " \"intermediate_size\": %lld, \"time_step_rank\": %lld,\n"
                " \"use_conv_bias\": true, \"use_bias\": false, \"layer_norm_epsilon\": 1e-05,\n"
                " \"tie_word_embeddings\": true, \"hidden_act\": \"silu\", \"torch_dtype\": \"%s\"}\n",
                H, nl, V, N, W, E, E * H, R, torch_dtype);
        break;
    case PRESET_MAMBA2:
        fprintf(f,
                "{\"architectures\": [\"Mamba2ForCausalLM\"], \"model_type\": \"mamba2\",\n"
                " \"hidden_size\": %lld, \"num_hidden_layers\": %lld, \"vocab_size\": %lld,\n"
                " \"state_size\": %lld, \"conv_kernel\": %lld, \"expand\": %lld,\n"
                " \"num_heads\": %lld, \"head_dim\": %lld, \"n_groups\": %lld,\n"
                " \"use_conv_bias\": true, \"use_bias\": false, \"layer_norm_epsilon\": 1e-05,\n"
                " \"tie_word_embeddings\": true, \"hidden_act\": \"silu\", \"torch_dtype\": \"%s\"}\n",
                H, nl, V, N, W, E, (long long)p->heads, (long long)p->head_dim,
                (long long)p->groups, torch_dtype);
        break;
    case PRESET_JAMBA:
        fprintf(f,
                "{\"architectures\": [\"JambaForCausalLM\"], \"model_type\": \"jamba\",\n"
                " \"hidden_size\": %lld, \"num_hidden_layers\": %lld, \"vocab_size\": %lld,\n"
                " \"intermediate_size\": %lld, \"num_attention_heads\": %lld,\n"
                " \"num_key_value_heads\": %lld, \"num_experts\": %lld,\n"
                " \"num_experts_per_tok\": %lld, \"attn_layer_period\": %lld,\n"
                " \"attn_layer_offset\": %lld, \"expert_layer_period\": %lld,\n"
                " \"expert_layer_offset\": %lld, \"mamba_d_state\": %lld, \"mamba_d_conv\": %lld,\n"
                " \"mamba_expand\": %lld, \"mamba_dt_rank\": %lld, \"mamba_conv_bias\": true,\n"
                " \"mamba_proj_bias\": false, \"rms_norm_eps\": 1e-06,\n"
                " \"tie_word_embeddings\": false, \"hidden_act\": \"silu\", \"torch_dtype\": \"%s\"}\n",
                H, nl, V, (long long)p->ffn, (long long)p->q_heads, (long long)p->kv_heads,
                (long long)p->experts, (long long)p->top_k, (long long)p->attn_period,
                (long long)p->attn_offset, (long long)p->expert_period,
                (long long)p->expert_offset, N, W, E, R, torch_dtype);
        break;
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad;
}

int bench_preset_write(const bench_preset *p, const char *dir, ssmrt_dtype dtype,
                       int64_t layers)
{
    if (layers <= 0)
        layers = p->layers;
    size_t dl = strlen(dir);
    char *path = malloc(dl + 32);
    if (!path) {
        fprintf(stderr, "ssmrt bench: out of host memory\n");
        return 1;
    }
    snprintf(path, dl + 32, "%s/config.json", dir);
    if (preset_config(p, path, layers, dtype)) {
        fprintf(stderr, "ssmrt bench: cannot write %s\n", path);
        free(path);
        return 1;
    }

    preset_list l;
    memset(&l, 0, sizeof l);
    preset_tensors(&l, p, layers);
    void *bufs[PK_COUNT] = {0};
    uint64_t seed = 0x0123456789abcdefull;
    int rc = l.failed;
    for (int k = 0; k < PK_COUNT && !rc; k++)
        if (l.max_elems[k] && !(bufs[k] = preset_fill((preset_kind)k, l.max_elems[k], dtype, &seed)))
            rc = 1;
    if (rc) {
        fprintf(stderr, "ssmrt bench: out of host memory writing the %s preset\n", p->name);
    } else {
        for (uint32_t i = 0; i < l.n; i++) {
            ssmrt_st_tensor *t = &l.t[i];
            int64_t n = 1;
            for (int d = 0; d < t->ndim; d++)
                n *= t->shape[d];
            t->dtype = l.kind[i] == PK_MATRIX ? preset_st_dtype(dtype) : SSMRT_ST_F32;
            t->bytes = (uint64_t)n * ssmrt_st_dtype_size(t->dtype);
            t->data = bufs[l.kind[i]];
        }
        snprintf(path, dl + 32, "%s/model.safetensors", dir);
        if (ssmrt_safetensors_write(path, l.t, l.n) != SSMRT_OK)
            rc = bench_fail("writing the preset's weights");
    }
    for (int k = 0; k < PK_COUNT; k++)
        free(bufs[k]);
    for (uint32_t i = 0; i < l.n; i++)
        free((char *)l.t[i].name);
    free(l.t);
    free(l.kind);
    free(path);
    return rc;
}
