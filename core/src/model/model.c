/* ssmrt_model_load: config.json -> hyperparameters -> weights on the device, with the
 * tensor names of each supported checkpoint layout. */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "model/model.h"

/* Where a layout keeps its tensors. */
typedef struct model_names {
    const char *embed;
    const char *layer;      /* printf format with the layer index */
    const char *norm;       /* pre-mixer norm, relative to the layer */
    const char *mamba;      /* mixer prefix for Mamba layers */
    const char *attention;  /* mixer prefix for attention layers */
    const char *ffn_norm;
    const char *ffn;
    const char *final_norm; /* without ".weight" */
} model_names;

static const model_names model_names_hf_mamba = {
    "backbone.embeddings.weight", "backbone.layers.%lld.", "norm", "mixer.", NULL, NULL, NULL,
    "backbone.norm_f"};
static const model_names model_names_state_spaces = {
    "backbone.embedding.weight", "backbone.layers.%lld.", "norm", "mixer.", NULL, NULL, NULL,
    "backbone.norm_f"};
static const model_names model_names_jamba = {
    "model.embed_tokens.weight", "model.layers.%lld.", "input_layernorm", "mamba.", "self_attn.",
    "pre_ff_layernorm", "feed_forward.", "model.final_layernorm"};

static const model_names *model_layout(const ssmrt__hparams *hp)
{
    if (hp->arch == SSMRT__ARCH_JAMBA)
        return &model_names_jamba;
    return hp->naming == SSMRT__NAMING_STATE_SPACES ? &model_names_state_spaces
                                                    : &model_names_hf_mamba;
}

static void model_free(ssmrt_model *m)
{
    if (!m)
        return;
    if (m->layers)
        for (int64_t i = 0; i < m->hp.n_layers; i++)
            ssmrt__free(m->layers[i].experts);
    ssmrt__free(m->layers);
    for (size_t i = 0; i < m->n_tensors; i++)
        ssmrt_tensor_destroy(m->tensors[i]);
    ssmrt__free(m->tensors);
    ssmrt__free(m);
}

static ssmrt_status model_load_weights(ssmrt_model *m, ssmrt__weights *w)
{
    const ssmrt__hparams *hp = &m->hp;
    const model_names *nm = model_layout(hp);
    const int64_t H = hp->hidden, V = hp->n_vocab;

    m->embed = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){V, H}, "%s", nm->embed);
    for (int64_t i = 0; i < hp->n_layers && !w->status; i++) {
        ssmrt__layer *ly = &m->layers[i];
        char lp[96], p[160];
        snprintf(lp, sizeof lp, nm->layer, (long long)i);
        ly->mixer = (ssmrt__mixer_kind)hp->mixer[i];
        ly->ffn = (ssmrt__ffn_kind)hp->ffn[i];
        ly->norm = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){H}, "%s%s.weight", lp,
                                      nm->norm);
        if (hp->layer_norm)
            ly->norm_b = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){H}, "%s%s.bias", lp,
                                            nm->norm);
        switch (ly->mixer) {
        case SSMRT__MIXER_MAMBA1:
            snprintf(p, sizeof p, "%s%s", lp, nm->mamba);
            ssmrt__mamba1_load(w, hp, p, &ly->m1);
            break;
        case SSMRT__MIXER_MAMBA2:
            snprintf(p, sizeof p, "%s%s", lp, nm->mamba);
            ssmrt__mamba2_load(w, hp, p, &ly->m2);
            break;
        case SSMRT__MIXER_ATTENTION:
            snprintf(p, sizeof p, "%s%s", lp, nm->attention);
            ssmrt__attention_load(w, hp, p, &ly->attn);
            break;
        }
        if (ly->ffn != SSMRT__FFN_NONE) {
            ly->ffn_norm = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){H}, "%s%s.weight",
                                              lp, nm->ffn_norm);
            snprintf(p, sizeof p, "%s%s", lp, nm->ffn);
            ssmrt_status st = ssmrt__ffn_load(w, hp, p, ly);
            if (st)
                return st;
        }
    }
    m->final_norm = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){H}, "%s.weight",
                                       nm->final_norm);
    if (hp->layer_norm)
        m->final_norm_b = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){H}, "%s.bias",
                                             nm->final_norm);
    /* A tied head reads the embedding table as its [V, H] weight; a file may still
     * carry a copy of it (state-spaces checkpoints do), which is then not uploaded. */
    if (hp->tie_embeddings)
        m->lm_head = m->embed;
    else
        m->lm_head = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){V, H}, "lm_head.weight");
    return w->status;
}

SSMRT_API ssmrt_status ssmrt_model_load(ssmrt_context *ctx, const char *dir, ssmrt_model **out)
{
    if (!out)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_model_load: out is NULL");
    *out = NULL;
    if (!ctx || !dir)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_model_load: %s is NULL",
                           !ctx ? "context" : "dir");

    size_t dl = strlen(dir);
    char *cfg_path = ssmrt__malloc(dl + 16);
    if (!cfg_path)
        return SSMRT_ERR_OUT_OF_MEMORY;
    snprintf(cfg_path, dl + 16, "%s/config.json", dir);

    ssmrt_model *m = ssmrt__calloc(1, sizeof *m);
    if (!m) {
        ssmrt__free(cfg_path);
        return SSMRT_ERR_OUT_OF_MEMORY;
    }
    m->ctx = ctx;

    ssmrt__cfg cfg;
    ssmrt_status st = ssmrt__cfg_open(cfg_path, cfg_path, &cfg);
    if (!st) {
        st = ssmrt__hparams_read(&cfg, &m->hp);
        ssmrt__cfg_close(&cfg);
    }
    if (st) {
        ssmrt__free(cfg_path);
        model_free(m);
        return st;
    }
    m->layers = ssmrt__calloc((size_t)m->hp.n_layers, sizeof *m->layers);
    if (!m->layers) {
        ssmrt__free(cfg_path);
        model_free(m);
        return SSMRT_ERR_OUT_OF_MEMORY;
    }

    ssmrt__weights w;
    st = ssmrt__weights_open(&w, ctx, dir);
    if (!st)
        st = model_load_weights(m, &w);
    ssmrt__weights_close(&w);
    if (st) {
        ssmrt__weights_destroy_tensors(&w);
        ssmrt__free(cfg_path);
        model_free(m);
        return st;
    }
    m->tensors = w.tensors;
    m->n_tensors = w.count;

    m->info.architecture = ssmrt__arch_name(m->hp.arch);
    m->info.vocab_size = m->hp.n_vocab;
    m->info.hidden_size = m->hp.hidden;
    m->info.n_layers = m->hp.n_layers;
    m->info.n_attention_layers = m->hp.n_attention_layers;
    m->info.weight_bytes = w.bytes;
    ssmrt__free(cfg_path);
    *out = m;
    return SSMRT_OK;
}

SSMRT_API void ssmrt_model_destroy(ssmrt_model *model)
{
    model_free(model);
}

SSMRT_API const ssmrt_model_info *ssmrt_model_get_info(const ssmrt_model *model)
{
    return model ? &model->info : NULL;
}
