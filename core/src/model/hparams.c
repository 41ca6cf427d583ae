/* Reads config.json into ssmrt__hparams and checks that the values fit together, so
 * a broken config fails here naming its field instead of as a shape error deep in a
 * graph. Field names and defaults follow transformers' MambaConfig, Mamba2Config and
 * JambaConfig, and mamba_ssm's MambaConfig for the original state-spaces checkpoints. */
#include "model/hparams.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

#define CHECK(expr)                      \
    do {                                 \
        ssmrt_status st_ = (expr);       \
        if (st_ != SSMRT_OK)             \
            return st_;                  \
    } while (0)

const char *ssmrt__arch_name(ssmrt__arch arch)
{
    switch (arch) {
    case SSMRT__ARCH_MAMBA: return "mamba";
    case SSMRT__ARCH_MAMBA2: return "mamba2";
    case SSMRT__ARCH_JAMBA: return "jamba";
    }
    return "unknown";
}

/* Sizes are bounded so that every product of them below (shapes, element counts)
 * stays far inside int64: no dimension of a supported model comes near 2^24, and
 * token ids are int32. */
#define HP_MAX_DIM ((int64_t)1 << 24)
#define HP_MAX_VOCAB ((int64_t)INT32_MAX)

static ssmrt_status hp_positive_max(const ssmrt__cfg *cfg, const char *key, int64_t v,
                                    int64_t max)
{
    if (v <= 0)
        return ssmrt__cfg_invalid(cfg, key, "must be a positive integer");
    if (v > max)
        return ssmrt__cfg_invalid(cfg, key, "is implausibly large (more than %lld)",
                                  (long long)max);
    return SSMRT_OK;
}

static ssmrt_status hp_positive(const ssmrt__cfg *cfg, const char *key, int64_t v)
{
    return hp_positive_max(cfg, key, v, HP_MAX_DIM);
}

static ssmrt_status hp_pos_int(const ssmrt__cfg *cfg, const char *key, int64_t *out)
{
    CHECK(ssmrt__cfg_int(cfg, key, out));
    return hp_positive(cfg, key, *out);
}

static ssmrt_status hp_pos_int_or(const ssmrt__cfg *cfg, const char *key, int64_t def,
                                  int64_t *out)
{
    CHECK(ssmrt__cfg_int_or(cfg, key, def, out));
    return hp_positive(cfg, key, *out);
}

/* time_step_rank / dt_rank / mamba_dt_rank: an integer or "auto" = ceil(hidden / 16). */
static ssmrt_status hp_dt_rank(const ssmrt__cfg *cfg, const char *key, int64_t hidden,
                               int64_t *out)
{
    const char *s = NULL;
    if (!ssmrt__cfg_has(cfg, key) ||
        (ssmrt__cfg_string(cfg, key, &s) == SSMRT_OK && !strcmp(s, "auto"))) {
        *out = (hidden + 15) / 16;
        return SSMRT_OK;
    }
    return hp_pos_int(cfg, key, out);
}

/* The only activation these architectures use; anything else would be silently wrong. */
static ssmrt_status hp_require_silu(const ssmrt__cfg *cfg, const char *key)
{
    const char *act = NULL;
    CHECK(ssmrt__cfg_string_or(cfg, key, "silu", &act));
    if (strcmp(act, "silu") && strcmp(act, "swish"))
        return ssmrt__cfg_invalid(cfg, key, "only \"silu\" is supported");
    return SSMRT_OK;
}

static ssmrt_status hp_common_sizes(const ssmrt__cfg *cfg, ssmrt__hparams *hp,
                                    const char *hidden_key, const char *layers_key)
{
    CHECK(hp_pos_int(cfg, hidden_key, &hp->hidden));
    CHECK(hp_pos_int(cfg, layers_key, &hp->n_layers));
    if (hp->n_layers > SSMRT__MAX_LAYERS)
        return ssmrt__cfg_invalid(cfg, layers_key, "at most %d layers are supported",
                                  SSMRT__MAX_LAYERS);
    CHECK(ssmrt__cfg_int(cfg, "vocab_size", &hp->vocab_size));
    CHECK(hp_positive_max(cfg, "vocab_size", hp->vocab_size, HP_MAX_VOCAB - HP_MAX_DIM));
    return SSMRT_OK;
}

/* d_inner = expand * hidden, and intermediate_size (when given) must agree. */
static ssmrt_status hp_inner(const ssmrt__cfg *cfg, ssmrt__hparams *hp, const char *expand_key,
                             const char *inter_key)
{
    double expand = 2.0;
    CHECK(ssmrt__cfg_float_or(cfg, expand_key, 2.0, &expand));
    double inner = expand * (double)hp->hidden;
    if (!(expand > 0) || inner != floor(inner) || inner > (double)HP_MAX_DIM)
        return ssmrt__cfg_invalid(cfg, expand_key,
                                  "expand * hidden size must be a positive integer");
    hp->d_inner = (int64_t)inner;
    if (inter_key && ssmrt__cfg_has(cfg, inter_key)) {
        int64_t given = 0;
        CHECK(ssmrt__cfg_int(cfg, inter_key, &given));
        if (given != hp->d_inner)
            return ssmrt__cfg_invalid(cfg, inter_key,
                                      "must equal %s * hidden size = %lld", expand_key,
                                      (long long)hp->d_inner);
    }
    return SSMRT_OK;
}

static void hp_all_layers(ssmrt__hparams *hp, ssmrt__mixer_kind mixer)
{
    for (int64_t i = 0; i < hp->n_layers; i++) {
        hp->mixer[i] = (uint8_t)mixer;
        hp->ffn[i] = SSMRT__FFN_NONE;
    }
}

/* ---- transformers MambaConfig ----------------------------------------------------- */

static ssmrt_status hp_mamba_hf(const ssmrt__cfg *cfg, ssmrt__hparams *hp)
{
    CHECK(hp_common_sizes(cfg, hp, "hidden_size", "num_hidden_layers"));
    CHECK(hp_pos_int_or(cfg, "state_size", 16, &hp->d_state));
    CHECK(hp_pos_int_or(cfg, "conv_kernel", 4, &hp->d_conv));
    CHECK(hp_inner(cfg, hp, "expand", "intermediate_size"));
    CHECK(hp_dt_rank(cfg, "time_step_rank", hp->hidden, &hp->dt_rank));
    CHECK(ssmrt__cfg_bool_or(cfg, "use_conv_bias", 1, &hp->conv_bias));
    CHECK(ssmrt__cfg_bool_or(cfg, "use_bias", 0, &hp->proj_bias));
    CHECK(ssmrt__cfg_float_or(cfg, "layer_norm_epsilon", 1e-5, &hp->norm_eps));
    CHECK(ssmrt__cfg_bool_or(cfg, "tie_word_embeddings", 1, &hp->tie_embeddings));
    CHECK(hp_require_silu(cfg, "hidden_act"));
    return SSMRT_OK;
}

/* ---- transformers Mamba2Config -------------------------------------------------------- */

static ssmrt_status hp_time_step_limit(const ssmrt__cfg *cfg, const char *key)
{
    /* transformers clamps dt to this range after the softplus. The default (0, inf) is a
     * no-op because softplus > 0; the scan op has no clamp, so any other range would be
     * silently wrong. */
    if (!ssmrt__cfg_has(cfg, key))
        return SSMRT_OK;
    double lim[2];
    CHECK(ssmrt__cfg_float_array(cfg, key, lim, 2));
    if (!(lim[0] <= 0.0) || !isinf(lim[1]) || lim[1] < 0)
        return ssmrt__cfg_invalid(cfg, key,
                                  "only the default [0.0, Infinity] is supported (no dt clamp)");
    return SSMRT_OK;
}

static ssmrt_status hp_mamba2_heads(const ssmrt__cfg *cfg, ssmrt__hparams *hp,
                                    const char *heads_key, const char *hdim_key,
                                    const char *groups_key)
{
    if (hp->n_heads * hp->head_dim != hp->d_inner)
        return ssmrt__cfg_invalid(cfg, hdim_key, "%s * %s = %lld * %lld must equal the inner size %lld",
                                  heads_key, hdim_key, (long long)hp->n_heads,
                                  (long long)hp->head_dim, (long long)hp->d_inner);
    if (hp->n_heads % hp->n_groups)
        return ssmrt__cfg_invalid(cfg, groups_key, "must divide %s = %lld", heads_key,
                                  (long long)hp->n_heads);
    hp->conv_dim = hp->d_inner + 2 * hp->n_groups * hp->d_state;
    return SSMRT_OK;
}

static ssmrt_status hp_mamba2_hf(const ssmrt__cfg *cfg, ssmrt__hparams *hp)
{
    CHECK(hp_common_sizes(cfg, hp, "hidden_size", "num_hidden_layers"));
    CHECK(hp_pos_int_or(cfg, "state_size", 128, &hp->d_state));
    CHECK(hp_pos_int_or(cfg, "conv_kernel", 4, &hp->d_conv));
    CHECK(hp_inner(cfg, hp, "expand", "intermediate_size"));
    CHECK(hp_pos_int_or(cfg, "num_heads", 128, &hp->n_heads));
    CHECK(hp_pos_int_or(cfg, "head_dim", 64, &hp->head_dim));
    CHECK(hp_pos_int_or(cfg, "n_groups", 8, &hp->n_groups));
    CHECK(hp_mamba2_heads(cfg, hp, "num_heads", "head_dim", "n_groups"));
    CHECK(ssmrt__cfg_bool_or(cfg, "use_conv_bias", 1, &hp->conv_bias));
    CHECK(ssmrt__cfg_bool_or(cfg, "use_bias", 0, &hp->proj_bias));
    CHECK(ssmrt__cfg_float_or(cfg, "layer_norm_epsilon", 1e-5, &hp->norm_eps));
    CHECK(ssmrt__cfg_bool_or(cfg, "tie_word_embeddings", 1, &hp->tie_embeddings));
    CHECK(hp_require_silu(cfg, "hidden_act"));
    CHECK(hp_time_step_limit(cfg, "time_step_limit"));
    /* transformers' MambaRMSNormGated normalises over the whole inner dimension whatever
     * n_groups is (mamba_ssm uses d_inner / ngroups); HF checkpoints are run the HF way. */
    hp->norm_group = hp->d_inner;
    hp->mixer_norm_eps = hp->norm_eps;
    return SSMRT_OK;
}

/* ---- mamba_ssm (state-spaces) MambaConfig ------------------------------------------- */

static ssmrt_status hp_state_spaces(const ssmrt__cfg *cfg, ssmrt__hparams *hp)
{
    CHECK(hp_common_sizes(cfg, hp, "d_model", "n_layer"));
    int64_t d_intermediate = 0;
    CHECK(ssmrt__cfg_int_or(cfg, "d_intermediate", 0, &d_intermediate));
    if (d_intermediate != 0)
        return ssmrt__cfg_invalid(cfg, "d_intermediate",
                                  "MLP blocks in state-spaces models are not supported");
    int64_t n_attn = 0;
    CHECK(ssmrt__cfg_array_length(cfg, "attn_layer_idx", &n_attn));
    if (n_attn > 0)
        return ssmrt__cfg_invalid(cfg, "attn_layer_idx",
                                  "attention layers in state-spaces models are not supported");
    int rms = 1;
    CHECK(ssmrt__cfg_bool_or(cfg, "rms_norm", 1, &rms));
    hp->layer_norm = !rms;
    CHECK(ssmrt__cfg_bool_or(cfg, "tie_embeddings", 1, &hp->tie_embeddings));
    hp->norm_eps = 1e-5; /* mamba_ssm create_block's norm_epsilon default */
    int64_t pad = 8;
    CHECK(hp_pos_int_or(cfg, "pad_vocab_size_multiple", 8, &pad));
    hp->n_vocab = (hp->vocab_size + pad - 1) / pad * pad;

    ssmrt__cfg ssm;
    CHECK(ssmrt__cfg_child(cfg, "ssm_cfg", &ssm));
    const char *layer = NULL;
    CHECK(ssmrt__cfg_string_or(&ssm, "layer", "Mamba1", &layer));
    if (!strcmp(layer, "Mamba1")) {
        hp->arch = SSMRT__ARCH_MAMBA;
        CHECK(hp_pos_int_or(&ssm, "d_state", 16, &hp->d_state));
        CHECK(hp_pos_int_or(&ssm, "d_conv", 4, &hp->d_conv));
        CHECK(hp_inner(&ssm, hp, "expand", NULL));
        CHECK(hp_dt_rank(&ssm, "dt_rank", hp->hidden, &hp->dt_rank));
        CHECK(ssmrt__cfg_bool_or(&ssm, "conv_bias", 1, &hp->conv_bias));
        CHECK(ssmrt__cfg_bool_or(&ssm, "bias", 0, &hp->proj_bias));
        return SSMRT_OK;
    }
    if (!strcmp(layer, "Mamba2")) {
        hp->arch = SSMRT__ARCH_MAMBA2;
        CHECK(hp_pos_int_or(&ssm, "d_state", 128, &hp->d_state));
        CHECK(hp_pos_int_or(&ssm, "d_conv", 4, &hp->d_conv));
        CHECK(hp_inner(&ssm, hp, "expand", NULL));
        if (ssmrt__cfg_has(&ssm, "d_ssm")) {
            int64_t d_ssm = 0;
            CHECK(ssmrt__cfg_int(&ssm, "d_ssm", &d_ssm));
            if (d_ssm != hp->d_inner)
                return ssmrt__cfg_invalid(&ssm, "d_ssm",
                                          "only d_ssm = expand * d_model is supported");
        }
        CHECK(hp_pos_int_or(&ssm, "headdim", 64, &hp->head_dim));
        CHECK(hp_pos_int_or(&ssm, "ngroups", 1, &hp->n_groups));
        if (hp->d_inner % hp->head_dim)
            return ssmrt__cfg_invalid(&ssm, "headdim", "must divide the inner size %lld",
                                      (long long)hp->d_inner);
        hp->n_heads = hp->d_inner / hp->head_dim;
        CHECK(hp_mamba2_heads(&ssm, hp, "nheads", "headdim", "ngroups"));
        int rmsnorm = 1, before = 0, dhd = 0;
        CHECK(ssmrt__cfg_bool_or(&ssm, "rmsnorm", 1, &rmsnorm));
        CHECK(ssmrt__cfg_bool_or(&ssm, "norm_before_gate", 0, &before));
        CHECK(ssmrt__cfg_bool_or(&ssm, "D_has_hdim", 0, &dhd));
        if (!rmsnorm)
            return ssmrt__cfg_invalid(&ssm, "rmsnorm", "only rmsnorm = true is supported");
        if (before)
            return ssmrt__cfg_invalid(&ssm, "norm_before_gate", "only false is supported");
        if (dhd)
            return ssmrt__cfg_invalid(&ssm, "D_has_hdim", "only false is supported");
        CHECK(hp_time_step_limit(&ssm, "dt_limit"));
        CHECK(ssmrt__cfg_bool_or(&ssm, "conv_bias", 1, &hp->conv_bias));
        CHECK(ssmrt__cfg_bool_or(&ssm, "bias", 0, &hp->proj_bias));
        /* mamba_ssm's Mamba2 normalises each of the ngroups groups separately. */
        hp->norm_group = hp->d_inner / hp->n_groups;
        hp->mixer_norm_eps = 1e-5;
        hp->conv_dim = hp->d_inner + 2 * hp->n_groups * hp->d_state;
        return SSMRT_OK;
    }
    return ssmrt__cfg_invalid(&ssm, "layer", "unknown layer type (supported: \"Mamba1\", \"Mamba2\")");
}

/* ---- transformers JambaConfig ------------------------------------------------------- */

static ssmrt_status hp_jamba(const ssmrt__cfg *cfg, ssmrt__hparams *hp)
{
    CHECK(hp_common_sizes(cfg, hp, "hidden_size", "num_hidden_layers"));
    CHECK(ssmrt__cfg_float_or(cfg, "rms_norm_eps", 1e-6, &hp->norm_eps));
    CHECK(ssmrt__cfg_bool_or(cfg, "tie_word_embeddings", 0, &hp->tie_embeddings));
    CHECK(hp_require_silu(cfg, "hidden_act"));
    if (ssmrt__cfg_has(cfg, "sliding_window"))
        return ssmrt__cfg_invalid(cfg, "sliding_window",
                                  "sliding-window attention is not supported (use null)");

    /* Mamba layers. */
    CHECK(hp_pos_int_or(cfg, "mamba_d_state", 16, &hp->d_state));
    CHECK(hp_pos_int_or(cfg, "mamba_d_conv", 4, &hp->d_conv));
    CHECK(hp_inner(cfg, hp, "mamba_expand", NULL));
    CHECK(hp_dt_rank(cfg, "mamba_dt_rank", hp->hidden, &hp->dt_rank));
    CHECK(ssmrt__cfg_bool_or(cfg, "mamba_conv_bias", 1, &hp->conv_bias));
    CHECK(ssmrt__cfg_bool_or(cfg, "mamba_proj_bias", 0, &hp->proj_bias));
    hp->mamba_inner_norms = 1;

    /* Attention layers. */
    CHECK(hp_pos_int_or(cfg, "num_attention_heads", 32, &hp->n_q_heads));
    CHECK(hp_pos_int_or(cfg, "num_key_value_heads", 8, &hp->n_kv_heads));
    if (hp->hidden % hp->n_q_heads)
        return ssmrt__cfg_invalid(cfg, "num_attention_heads", "must divide hidden_size = %lld",
                                  (long long)hp->hidden);
    if (hp->n_q_heads % hp->n_kv_heads)
        return ssmrt__cfg_invalid(cfg, "num_key_value_heads",
                                  "must divide num_attention_heads = %lld",
                                  (long long)hp->n_q_heads);
    hp->attn_head_dim = hp->hidden / hp->n_q_heads;

    /* Feed-forward layers. */
    CHECK(hp_pos_int(cfg, "intermediate_size", &hp->ffn_size));
    CHECK(hp_pos_int_or(cfg, "num_experts", 16, &hp->n_experts));
    CHECK(hp_pos_int_or(cfg, "num_experts_per_tok", 2, &hp->top_k));
    if (hp->top_k > hp->n_experts)
        return ssmrt__cfg_invalid(cfg, "num_experts_per_tok", "must be at most num_experts = %lld",
                                  (long long)hp->n_experts);

    int64_t ap, ao, ep, eo;
    CHECK(hp_pos_int_or(cfg, "attn_layer_period", 8, &ap));
    CHECK(ssmrt__cfg_int_or(cfg, "attn_layer_offset", 4, &ao));
    CHECK(hp_pos_int_or(cfg, "expert_layer_period", 2, &ep));
    CHECK(ssmrt__cfg_int_or(cfg, "expert_layer_offset", 1, &eo));
    if (ao < 0 || ao >= ap)
        return ssmrt__cfg_invalid(cfg, "attn_layer_offset", "must be in [0, attn_layer_period)");
    if (eo < 0 || eo >= ep)
        return ssmrt__cfg_invalid(cfg, "expert_layer_offset",
                                  "must be in [0, expert_layer_period)");
    hp->n_attention_layers = 0;
    for (int64_t i = 0; i < hp->n_layers; i++) {
        int attn = i % ap == ao;
        hp->mixer[i] = attn ? SSMRT__MIXER_ATTENTION : SSMRT__MIXER_MAMBA1;
        hp->n_attention_layers += attn;
        /* JambaConfig.layers_num_experts: num_experts on expert layers, 1 elsewhere; a
         * layer with one expert is a plain MLP. */
        hp->ffn[i] = (i % ep == eo && hp->n_experts > 1) ? SSMRT__FFN_MOE : SSMRT__FFN_MLP;
    }
    return SSMRT_OK;
}

/* ---- dispatch ---------------------------------------------------------------------- */

typedef struct hp_known {
    const char *model_type;
    const char *class_name;
    ssmrt__arch arch;
} hp_known;

static const hp_known hp_known_types[] = {
    {"mamba", "MambaForCausalLM", SSMRT__ARCH_MAMBA},
    {"mamba2", "Mamba2ForCausalLM", SSMRT__ARCH_MAMBA2},
    {"jamba", "JambaForCausalLM", SSMRT__ARCH_JAMBA},
};
#define HP_N_KNOWN (sizeof hp_known_types / sizeof hp_known_types[0])

ssmrt_status ssmrt__hparams_read(const ssmrt__cfg *cfg, ssmrt__hparams *hp)
{
    memset(hp, 0, sizeof *hp);
    hp->head_dim = 1;
    hp->n_groups = 1;

    const char *model_type = NULL, *cls = NULL;
    CHECK(ssmrt__cfg_string_or(cfg, "model_type", NULL, &model_type));
    CHECK(ssmrt__cfg_string_at(cfg, "architectures", 0, &cls));

    const hp_known *by_type = NULL, *by_class = NULL;
    for (size_t i = 0; i < HP_N_KNOWN; i++) {
        if (model_type && !strcmp(model_type, hp_known_types[i].model_type))
            by_type = &hp_known_types[i];
        if (cls && !strcmp(cls, hp_known_types[i].class_name))
            by_class = &hp_known_types[i];
    }
    if (model_type && !by_type)
        return ssmrt__cfg_invalid(cfg, "model_type",
                                  "unknown model type (supported: mamba, mamba2, jamba)");
    if (cls && !by_class)
        return ssmrt__fail(SSMRT_ERR_UNSUPPORTED,
                           "%s: field 'architectures' names \"%s\", which is not supported "
                           "(supported: MambaForCausalLM, Mamba2ForCausalLM, JambaForCausalLM)",
                           cfg->file, cls);
    if (by_type && by_class && by_type != by_class)
        return ssmrt__cfg_invalid(cfg, "model_type", "disagrees with architectures[0] \"%s\"",
                                  cls);
    const hp_known *k = by_type ? by_type : by_class;

    ssmrt_status st;
    if (!k) {
        /* No model_type and no architectures: the original state-spaces checkpoints
         * (config with d_model, n_layer, ssm_cfg). */
        if (!ssmrt__cfg_has(cfg, "d_model"))
            return ssmrt__fail(SSMRT_ERR_FORMAT,
                               "%s: cannot tell the architecture: no 'model_type', no "
                               "'architectures' and no 'd_model' (state-spaces) field",
                               cfg->file);
        hp->naming = SSMRT__NAMING_STATE_SPACES;
        st = hp_state_spaces(cfg, hp);
    } else {
        hp->arch = k->arch;
        hp->naming = SSMRT__NAMING_HF;
        switch (k->arch) {
        case SSMRT__ARCH_MAMBA: st = hp_mamba_hf(cfg, hp); break;
        case SSMRT__ARCH_MAMBA2: st = hp_mamba2_hf(cfg, hp); break;
        default: st = hp_jamba(cfg, hp); break;
        }
    }
    if (st)
        return st;
    if (hp->naming == SSMRT__NAMING_HF)
        hp->n_vocab = hp->vocab_size;

    if (hp->arch == SSMRT__ARCH_MAMBA) {
        hp->n_heads = hp->d_inner;
        hp->head_dim = 1;
        hp->n_groups = 1;
        hp->conv_dim = hp->d_inner;
        hp_all_layers(hp, SSMRT__MIXER_MAMBA1);
    } else if (hp->arch == SSMRT__ARCH_MAMBA2) {
        hp_all_layers(hp, SSMRT__MIXER_MAMBA2);
    } else {
        hp->n_heads = hp->d_inner;
        hp->conv_dim = hp->d_inner;
    }
    if (!(hp->norm_eps >= 0) || !isfinite(hp->norm_eps))
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: the norm epsilon %g is not a finite number >= 0",
                           cfg->file, hp->norm_eps);
    return SSMRT_OK;
}
