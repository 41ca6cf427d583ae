/* Internal: the hyperparameters of a supported model, read from config.json and
 * checked for consistency. Every architecture is described as a stack of blocks:
 *
 *   h = embed(ids)
 *   per layer:  h = h + mixer(norm(h))          mixer: Mamba-1, Mamba-2 or attention
 *               h = h + ffn(ffn_norm(h))         only when the layer has an ffn
 *   logits = lm_head(final_norm(h))
 *
 * which is exactly MambaForCausalLM / Mamba2ForCausalLM (no ffn) and
 * JambaForCausalLM (every layer has an ffn, a SwiGLU MLP or a mixture of experts). */
#ifndef SSMRT_MODEL_HPARAMS_H
#define SSMRT_MODEL_HPARAMS_H

#include <stdint.h>

#include "model/config.h"
#include "ssmrt.h"

typedef enum ssmrt__arch {
    SSMRT__ARCH_MAMBA = 0,  /* MambaForCausalLM and the state-spaces Mamba-1 checkpoints */
    SSMRT__ARCH_MAMBA2 = 1, /* Mamba2ForCausalLM */
    SSMRT__ARCH_JAMBA = 2   /* JambaForCausalLM */
} ssmrt__arch;

typedef enum ssmrt__naming {
    SSMRT__NAMING_HF = 0,          /* backbone.embeddings / model.embed_tokens */
    SSMRT__NAMING_STATE_SPACES = 1 /* backbone.embedding, config d_model / n_layer / ssm_cfg */
} ssmrt__naming;

typedef enum ssmrt__mixer_kind {
    SSMRT__MIXER_MAMBA1 = 0,
    SSMRT__MIXER_MAMBA2 = 1,
    SSMRT__MIXER_ATTENTION = 2
} ssmrt__mixer_kind;

typedef enum ssmrt__ffn_kind {
    SSMRT__FFN_NONE = 0,
    SSMRT__FFN_MLP = 1, /* down(silu(gate(x)) * up(x)) */
    SSMRT__FFN_MOE = 2  /* router softmax, top-k (no renormalisation), SwiGLU experts */
} ssmrt__ffn_kind;

#define SSMRT__MAX_LAYERS 4096

typedef struct ssmrt__hparams {
    ssmrt__arch arch;
    ssmrt__naming naming;
    int64_t vocab_size;   /* from config */
    int64_t n_vocab;      /* rows of the embedding = logits width: vocab_size, rounded up
                           * to pad_vocab_size_multiple for state-spaces checkpoints */
    int64_t hidden;
    int64_t n_layers;
    double norm_eps;      /* block norms and the final norm */
    int layer_norm;       /* state-spaces rms_norm = false: LayerNorm with bias */
    int tie_embeddings;

    /* Mamba mixers (Mamba-1 and Mamba-2). */
    int64_t d_inner;      /* expand * hidden */
    int64_t d_state;      /* N */
    int64_t d_conv;       /* W */
    int64_t dt_rank;      /* Mamba-1 */
    int conv_bias;
    int proj_bias;        /* in_proj / out_proj bias */
    int mamba_inner_norms; /* Jamba: RMSNorm on dt, B and C (eps = norm_eps) */
    int64_t n_heads;      /* Mamba-2 heads (Mamba-1: d_inner) */
    int64_t head_dim;     /* Mamba-2 P (Mamba-1: 1) */
    int64_t n_groups;     /* Mamba-2 B/C groups (Mamba-1: 1) */
    int64_t norm_group;   /* Mamba-2 gated RMSNorm group size */
    double mixer_norm_eps; /* Mamba-2 gated RMSNorm eps */
    int64_t conv_dim;     /* channels through conv1d (Mamba-2: d_inner + 2*G*N) */

    /* Attention (Jamba): no positional encoding, no bias. */
    int64_t n_q_heads;
    int64_t n_kv_heads;
    int64_t attn_head_dim;

    /* Feed-forward (Jamba). */
    int64_t ffn_size;
    int64_t n_experts;
    int64_t top_k;

    /* Per layer. */
    uint8_t mixer[SSMRT__MAX_LAYERS];
    uint8_t ffn[SSMRT__MAX_LAYERS];
    int64_t n_attention_layers;
} ssmrt__hparams;

/* Reads and validates the hyperparameters. Errors name the file and field. */
ssmrt_status ssmrt__hparams_read(const ssmrt__cfg *cfg, ssmrt__hparams *hp);
const char *ssmrt__arch_name(ssmrt__arch arch);

#endif
