/*
 * ssmrt_model.h: loading Hugging Face model folders (config.json + safetensors)
 * and running them: prefill and constant-memory decode. Also one S4D layer.
 *
 * Supported architectures (config.json "model_type" / "architectures"):
 *
 *   mamba  / MambaForCausalLM   Mamba-1: RMSNorm pre-norm residual blocks, in_proj,
 *                               causal conv1d + SiLU, x_proj, dt_proj, selective scan
 *                               (D skip, silu(z) gate), out_proj; tied or untied head.
 *                               Also the original state-spaces checkpoints (no
 *                               model_type; d_model, n_layer, ssm_cfg, tensors under
 *                               backbone.embedding), with ssm_cfg.layer "Mamba1" or
 *                               "Mamba2", RMSNorm or LayerNorm (rms_norm), padded vocab.
 *   mamba2 / Mamba2ForCausalLM  Mamba-2 (SSD): heads, groups, gated RMSNorm (over the
 *                               whole inner dimension, as transformers computes it).
 *   jamba  / JambaForCausalLM   Mamba layers with dt/B/C RMSNorms, grouped-query
 *                               attention layers without positional encoding (by
 *                               attn_layer_period/offset), SwiGLU MLPs and
 *                               mixture-of-experts layers (by expert_layer_period/
 *                               offset; softmax router, top-k without renormalisation).
 *
 * Expected folder layout:  DIR/config.json  and  DIR/model.safetensors  (or a sharded
 * DIR/model.safetensors.index.json with its shards). Tensor names are those written by
 * transformers' save_pretrained (or mamba_ssm for state-spaces checkpoints). Weights
 * may be F32, F16 or BF16; matmul weights and embeddings stay in their file dtype on
 * the device, small parameters (norms, biases, conv weights, D, dt_bias) become f32,
 * and A = -exp(A_log) is computed once on the host at load. Activations and
 * recurrent state are f32.
 *
 * Errors: an unknown model type, a missing or mistyped config field, inconsistent
 * values (intermediate_size != expand * hidden_size, heads that do not divide, ...), a
 * missing tensor or one with the wrong shape or dtype fail ssmrt_model_load with
 * SSMRT_ERR_FORMAT / SSMRT_ERR_SHAPE / SSMRT_ERR_UNSUPPORTED and a message naming the
 * file and the field or tensor.
 *
 * Ownership and threading: a model and its sessions belong to their context (one
 * thread at a time). Destroy sessions before their model, and models before their
 * context. Several sessions of one model may exist; each owns its recurrent state.
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
    int64_t vocab_size;        /* logits per position (embedding rows) */
    int64_t hidden_size;
    int64_t n_layers;
    int64_t n_attention_layers;
    uint64_t weight_bytes;     /* device bytes held by weights */
} ssmrt_model_info;

/* dir holds config.json and model.safetensors (or a sharded index). Weights are
 * uploaded to the context's device once. On failure nothing is left allocated. */
SSMRT_API ssmrt_status ssmrt_model_load(ssmrt_context *ctx, const char *dir, ssmrt_model **out);
SSMRT_API void ssmrt_model_destroy(ssmrt_model *model);
/* Valid until the model is destroyed. */
SSMRT_API const ssmrt_model_info *ssmrt_model_get_info(const ssmrt_model *model);

typedef struct ssmrt_session_options {
    uint32_t struct_size;     /* sizeof(ssmrt_session_options) */
    int32_t batch;            /* sequences decoded together (>= 1) */
    /* KV cache capacity in tokens for attention layers, allocated at create
     * ([batch, max_context, kv_heads, head_dim] f32 per attention layer, K and V).
     * 0: 4096. Ignored by models without attention, whose state has a fixed size
     * and whose position is unbounded. */
    int64_t max_context;
    /* Prefill at most this many tokens per graph, carrying the state from chunk to
     * chunk (bounds the activation memory of long prompts); 0: all at once. */
    int64_t prefill_chunk;
} ssmrt_session_options;

/* opt may be NULL: batch 1, max_context 4096, prefill_chunk 0. The state starts at
 * zero (position 0). */
SSMRT_API ssmrt_status ssmrt_session_create(ssmrt_model *model, const ssmrt_session_options *opt,
                                            ssmrt_session **out);
SSMRT_API void ssmrt_session_destroy(ssmrt_session *s);
/* Clears the recurrent state and KV cache (position 0). */
SSMRT_API ssmrt_status ssmrt_session_reset(ssmrt_session *s);
/* Feeds tokens [batch, n] (row-major; all sequences advance by n) through the model,
 * appending to the state. Prefill and decode are the same call: decode is n = 1.
 * If logits is non-NULL it receives [batch, n, vocab] f32 logits (all positions);
 * if last_logits is non-NULL it receives [batch, vocab] for the last position (with
 * logits NULL, the head runs on the last position only). A token outside
 * [0, vocab) or a KV cache overflow is refused before anything runs; if a device
 * error interrupts a call, the state is undefined until ssmrt_session_reset.
 *
 * For models without attention a decode step re-runs one cached graph: its cost and
 * memory do not depend on the position. */
SSMRT_API ssmrt_status ssmrt_session_forward(ssmrt_session *s, const int32_t *tokens, int64_t n,
                                             float *logits, float *last_logits);
/* Tokens processed so far, and bytes of recurrent state + KV cache per sequence
 * (constant for a session: the KV cache is allocated at create). */
SSMRT_API int64_t ssmrt_session_position(const ssmrt_session *s);
SSMRT_API uint64_t ssmrt_session_state_bytes(const ssmrt_session *s);

/* ===================================================================== */
/* S4D layer                                                              */
/* ===================================================================== */

/* One S4D layer of the state-spaces/s4 reference module (models/s4/s4d.py), H
 * channels and N/2 complex modes. The safetensors file holds kernel.log_dt [H],
 * kernel.log_A_real [H, N/2], kernel.A_imag [H, N/2], kernel.C [H, N/2, 2] (real,
 * imag), D [H], output_linear.weight [2H, H] (or [2H, H, 1]) and output_linear.bias
 * [2H]. With dt = exp(log_dt), A = -exp(log_A_real) + i A_imag, C' = C (exp(dt A) -
 * 1) / A, the layer maps u [B, L, H] to
 *
 *   s[l]   = 2 Re(sum_n C'_n x_n[l]),  x_n[l] = exp(dt A_n) x_n[l-1] + u[l]
 *          = sum_{j<=l} K[j] u[l-j],   K[l] = 2 Re(sum_n C'_n exp(dt A_n l))
 *   y      = GLU(W GELU(s + D u) + b)   (GLU: first half * sigmoid(second half))
 *
 * Note the layout: u and y are [B, L, H], channels last (the s4 module's default
 * transposed layout is [B, H, L]). */
typedef struct ssmrt_s4d ssmrt_s4d;

typedef enum ssmrt_s4d_mode {
    /* K generated on the host in float64 and rounded to f32; conv_long, the D skip,
     * GELU, the output matmul and the GLU run on the device as one graph. */
    SSMRT_S4D_CONVOLUTION = 0,
    /* The complex diagonal recurrence, one token per graph run with the state in
     * device tensors (real and imaginary parts, f32): there is no complex scan op, so
     * it is expressed with elementwise ops and a matmul summing over the modes.
     * exp(dt A) and C' are computed once on the host in float64 at load. Costs L
     * graph runs; meant for checking the identity and for streaming use. */
    SSMRT_S4D_RECURRENT = 1
} ssmrt_s4d_mode;

/* path: an s4d safetensors file, or a directory holding s4d.safetensors. */
SSMRT_API ssmrt_status ssmrt_s4d_load(ssmrt_context *ctx, const char *path, ssmrt_s4d **out);
SSMRT_API void ssmrt_s4d_destroy(ssmrt_s4d *layer);
SSMRT_API int64_t ssmrt_s4d_channels(const ssmrt_s4d *layer);   /* H */
SSMRT_API int64_t ssmrt_s4d_state_size(const ssmrt_s4d *layer); /* N (= 2 x complex modes) */
/* The convolution kernel K [H, L] (host, float64 rounded to f32). */
SSMRT_API ssmrt_status ssmrt_s4d_kernel(const ssmrt_s4d *layer, int64_t L, float *K);
/* y [batch, L, H] = the layer applied to u [batch, L, H], from a zero state. */
SSMRT_API ssmrt_status ssmrt_s4d_forward(ssmrt_s4d *layer, ssmrt_s4d_mode mode, const float *u,
                                         int64_t batch, int64_t L, float *y);

#ifdef __cplusplus
}
#endif
#endif
