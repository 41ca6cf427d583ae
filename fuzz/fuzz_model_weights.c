/* Tensor lists for fuzz_model (see fuzz_model_weights.h). Names mirror
 * core/src/model/model.c, mamba1.c, mamba2.c, attention.c and ffn.c. */
#include "fuzz_model_weights.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void wl_add(fuzz_wlist *l, int ndim, const int64_t *shape, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void wl_add(fuzz_wlist *l, int ndim, const int64_t *shape, const char *fmt, ...)
{
    if (l->failed)
        return;
    uint64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        /* Dimensions come from a fuzzed config: refuse instead of overflowing. */
        if (shape[i] <= 0 || __builtin_mul_overflow(n, (uint64_t)shape[i], &n) ||
            n > FUZZ_MAX_ELEMS) {
            l->failed = 1;
            return;
        }
    }
    if (l->n >= FUZZ_MAX_TENSORS || (l->elems += n) > FUZZ_MAX_ELEMS) {
        l->failed = 1;
        return;
    }
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 64;
        ssmrt_st_tensor *t = realloc(l->t, cap * sizeof *t);
        if (!t) {
            l->failed = 1;
            return;
        }
        l->t = t;
        l->cap = cap;
    }
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    ssmrt_st_tensor *t = &l->t[l->n];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name))) {
        l->failed = 1;
        return;
    }
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    if (n > l->max_elems)
        l->max_elems = n;
    l->n++;
}

#define S(...) ((const int64_t[]){__VA_ARGS__})

static void wl_mamba1(fuzz_wlist *l, const ssmrt__hparams *hp, const char *p)
{
    const int64_t H = hp->hidden, Di = hp->d_inner, N = hp->d_state, W = hp->d_conv,
                  R = hp->dt_rank;
    wl_add(l, 2, S(2 * Di, H), "%sin_proj.weight", p);
    if (hp->proj_bias)
        wl_add(l, 1, S(2 * Di), "%sin_proj.bias", p);
    wl_add(l, 3, S(Di, 1, W), "%sconv1d.weight", p);
    if (hp->conv_bias)
        wl_add(l, 1, S(Di), "%sconv1d.bias", p);
    wl_add(l, 2, S(R + 2 * N, Di), "%sx_proj.weight", p);
    wl_add(l, 2, S(Di, R), "%sdt_proj.weight", p);
    wl_add(l, 1, S(Di), "%sdt_proj.bias", p);
    wl_add(l, 2, S(Di, N), "%sA_log", p);
    wl_add(l, 1, S(Di), "%sD", p);
    wl_add(l, 2, S(H, Di), "%sout_proj.weight", p);
    if (hp->proj_bias)
        wl_add(l, 1, S(H), "%sout_proj.bias", p);
    if (hp->mamba_inner_norms) {
        wl_add(l, 1, S(R), "%sdt_layernorm.weight", p);
        wl_add(l, 1, S(N), "%sb_layernorm.weight", p);
        wl_add(l, 1, S(N), "%sc_layernorm.weight", p);
    }
}

static void wl_mamba2(fuzz_wlist *l, const ssmrt__hparams *hp, const char *p)
{
    const int64_t H = hp->hidden, Di = hp->d_inner, heads = hp->n_heads, W = hp->d_conv,
                  proj = 2 * Di + 2 * hp->n_groups * hp->d_state + heads;
    wl_add(l, 2, S(proj, H), "%sin_proj.weight", p);
    if (hp->proj_bias)
        wl_add(l, 1, S(proj), "%sin_proj.bias", p);
    wl_add(l, 3, S(hp->conv_dim, 1, W), "%sconv1d.weight", p);
    if (hp->conv_bias)
        wl_add(l, 1, S(hp->conv_dim), "%sconv1d.bias", p);
    wl_add(l, 1, S(heads), "%sdt_bias", p);
    wl_add(l, 1, S(heads), "%sA_log", p);
    wl_add(l, 1, S(heads), "%sD", p);
    wl_add(l, 1, S(Di), "%snorm.weight", p);
    wl_add(l, 2, S(H, Di), "%sout_proj.weight", p);
    if (hp->proj_bias)
        wl_add(l, 1, S(H), "%sout_proj.bias", p);
}

static void wl_attention(fuzz_wlist *l, const ssmrt__hparams *hp, const char *p)
{
    const int64_t H = hp->hidden, q = hp->n_q_heads * hp->attn_head_dim,
                  kv = hp->n_kv_heads * hp->attn_head_dim;
    wl_add(l, 2, S(q, H), "%sq_proj.weight", p);
    wl_add(l, 2, S(kv, H), "%sk_proj.weight", p);
    wl_add(l, 2, S(kv, H), "%sv_proj.weight", p);
    wl_add(l, 2, S(H, q), "%so_proj.weight", p);
}

static void wl_mlp(fuzz_wlist *l, const ssmrt__hparams *hp, const char *p)
{
    wl_add(l, 2, S(hp->ffn_size, hp->hidden), "%sgate_proj.weight", p);
    wl_add(l, 2, S(hp->ffn_size, hp->hidden), "%sup_proj.weight", p);
    wl_add(l, 2, S(hp->hidden, hp->ffn_size), "%sdown_proj.weight", p);
}

void fuzz_wlist_build(fuzz_wlist *l, const ssmrt__hparams *hp)
{
    memset(l, 0, sizeof *l);
    const int jamba = hp->arch == SSMRT__ARCH_JAMBA;
    const int ss = hp->naming == SSMRT__NAMING_STATE_SPACES;
    const int64_t H = hp->hidden;
    const char *layer = jamba ? "model.layers.%lld." : "backbone.layers.%lld.";
    wl_add(l, 2, S(hp->n_vocab, H), "%s",
           jamba ? "model.embed_tokens.weight"
           : ss  ? "backbone.embedding.weight"
                 : "backbone.embeddings.weight");
    for (int64_t i = 0; i < hp->n_layers && !l->failed; i++) {
        char lp[64], p[128];
        snprintf(lp, sizeof lp, layer, (long long)i);
        const char *norm = jamba ? "input_layernorm" : "norm";
        wl_add(l, 1, S(H), "%s%s.weight", lp, norm);
        if (hp->layer_norm)
            wl_add(l, 1, S(H), "%s%s.bias", lp, norm);
        snprintf(p, sizeof p, "%s%s", lp, hp->mixer[i] == SSMRT__MIXER_ATTENTION ? "self_attn."
                                          : jamba ? "mamba." : "mixer.");
        if (hp->mixer[i] == SSMRT__MIXER_MAMBA1)
            wl_mamba1(l, hp, p);
        else if (hp->mixer[i] == SSMRT__MIXER_MAMBA2)
            wl_mamba2(l, hp, p);
        else
            wl_attention(l, hp, p);
        if (hp->ffn[i] == SSMRT__FFN_NONE)
            continue;
        wl_add(l, 1, S(H), "%spre_ff_layernorm.weight", lp);
        snprintf(p, sizeof p, "%sfeed_forward.", lp);
        if (hp->ffn[i] == SSMRT__FFN_MLP) {
            wl_mlp(l, hp, p);
            continue;
        }
        wl_add(l, 2, S(hp->n_experts, H), "%srouter.weight", p);
        for (int64_t e = 0; e < hp->n_experts && !l->failed; e++) {
            char ep[160];
            snprintf(ep, sizeof ep, "%sexperts.%lld.", p, (long long)e);
            wl_mlp(l, hp, ep);
        }
    }
    const char *fin = jamba ? "model.final_layernorm" : "backbone.norm_f";
    wl_add(l, 1, S(H), "%s.weight", fin);
    if (hp->layer_norm)
        wl_add(l, 1, S(H), "%s.bias", fin);
    if (!hp->tie_embeddings)
        wl_add(l, 2, S(hp->n_vocab, H), "lm_head.weight");
}

void fuzz_wlist_free(fuzz_wlist *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        free((char *)l->t[i].name);
    free(l->t);
    memset(l, 0, sizeof *l);
}
