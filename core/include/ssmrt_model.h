/*
 * ssmrt_model.h: loading Hugging Face model folders (config.json + safetensors)
 * and running them: prefill and constant-memory decode.
 *
 * Supported: MambaForCausalLM (and the state-spaces naming), Mamba2ForCausalLM,
 * JambaForCausalLM (with mixture-of-experts).
 *
 * Threading: a model and its sessions belong to their context (one thread at a
 * time). Several sessions of one model may exist; each owns its recurrent state.
 */
#ifndef SSMRT_MODEL_H
#define SSMRT_MODEL_H

#include "ssmrt.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ssmrt_model ssmrt_model;
typedef struct ssmrt_session ssmrt_session;

typedef struct ssmrt_model_info {
    const char *architecture;  /* "mamba", "mamba2", "jamba" */
    int64_t vocab_size;
    int64_t hidden_size;
    int64_t n_layers;
    int64_t n_attention_layers;
    uint64_t weight_bytes;     /* device bytes held by weights */
} ssmrt_model_info;

/* dir holds config.json and model.safetensors (or a sharded index). Weights are
 * uploaded to the context's device in their file dtype (f32, f16 or bf16). */
SSMRT_API ssmrt_status ssmrt_model_load(ssmrt_context *ctx, const char *dir, ssmrt_model **out);
SSMRT_API void ssmrt_model_destroy(ssmrt_model *model);
SSMRT_API const ssmrt_model_info *ssmrt_model_get_info(const ssmrt_model *model);

typedef struct ssmrt_session_options {
    uint32_t struct_size;
    int32_t batch;            /* sequences decoded together (>= 1) */
    int64_t max_context;      /* KV cache capacity for attention layers (tokens) */
    int64_t prefill_chunk;    /* prefill at most this many tokens per graph; 0: all */
} ssmrt_session_options;

SSMRT_API ssmrt_status ssmrt_session_create(ssmrt_model *model, const ssmrt_session_options *opt,
                                            ssmrt_session **out);
SSMRT_API void ssmrt_session_destroy(ssmrt_session *s);
/* Clears the recurrent state and KV cache. */
SSMRT_API ssmrt_status ssmrt_session_reset(ssmrt_session *s);
/* Feeds tokens [batch, n] (row-major) through the model, appending to the state.
 * If logits is non-NULL it receives [batch, n, vocab] f32 logits (all positions);
 * if last_logits is non-NULL it receives [batch, vocab] for the last position. */
SSMRT_API ssmrt_status ssmrt_session_forward(ssmrt_session *s, const int32_t *tokens, int64_t n,
                                             float *logits, float *last_logits);
/* Tokens processed so far, and bytes of recurrent state + KV cache per sequence. */
SSMRT_API int64_t ssmrt_session_position(const ssmrt_session *s);
SSMRT_API uint64_t ssmrt_session_state_bytes(const ssmrt_session *s);

#ifdef __cplusplus
}
#endif
#endif
