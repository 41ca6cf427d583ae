/* Internal: the loaded model (weights on the device) and the graph builders of its
 * parts. One file per part: mamba1.c, mamba2.c, attention.c, ffn.c load their weights
 * and emit their ops; forward.c stacks them; session.c owns the recurrent state. */
#ifndef SSMRT_MODEL_MODEL_H
#define SSMRT_MODEL_MODEL_H

#include "model/hparams.h"
#include "model/weights.h"
#include "ssmrt_model.h"

/* Mamba-1 mixer (MambaForCausalLM, state-spaces Mamba, Jamba's Mamba layers). */
typedef struct ssmrt__mamba1 {
    ssmrt_tensor *in_proj, *in_proj_b;   /* [2*Di, H] (file dtype), [2*Di] or NULL */
    ssmrt_tensor *conv_w, *conv_b;       /* [Di, W] f32, [Di] or NULL */
    ssmrt_tensor *x_proj;                /* [R + 2N, Di] */
    ssmrt_tensor *dt_proj, *dt_bias;     /* [Di, R], [Di] f32 */
    ssmrt_tensor *A, *D;                 /* [Di, N] = -exp(A_log), [Di] */
    ssmrt_tensor *out_proj, *out_proj_b; /* [H, Di], [H] or NULL */
    ssmrt_tensor *dt_norm, *b_norm, *c_norm; /* Jamba only: [R], [N], [N] */
} ssmrt__mamba1;

/* Mamba-2 mixer. in_proj rows are [z (Di), xBC (Di + 2GN), dt (heads)]. */
typedef struct ssmrt__mamba2 {
    ssmrt_tensor *in_proj, *in_proj_b;
    ssmrt_tensor *conv_w, *conv_b;       /* [Di + 2GN, W] */
    ssmrt_tensor *dt_bias, *A, *D;       /* [heads] each, A = -exp(A_log) */
    ssmrt_tensor *norm;                  /* [Di] gated RMSNorm weight */
    ssmrt_tensor *out_proj, *out_proj_b;
} ssmrt__mamba2;

/* Grouped-query attention without positional encoding (Jamba). */
typedef struct ssmrt__attention {
    ssmrt_tensor *q, *k, *v, *o;
} ssmrt__attention;

typedef struct ssmrt__mlp {
    ssmrt_tensor *gate, *up, *down;
} ssmrt__mlp;

typedef struct ssmrt__layer {
    ssmrt__mixer_kind mixer;
    ssmrt__ffn_kind ffn;
    ssmrt_tensor *norm, *norm_b;         /* pre-mixer norm (norm_b: LayerNorm only) */
    ssmrt__mamba1 m1;
    ssmrt__mamba2 m2;
    ssmrt__attention attn;
    ssmrt_tensor *ffn_norm;              /* pre_ff_layernorm */
    ssmrt__mlp mlp;                      /* FFN_MLP */
    ssmrt_tensor *router;                /* FFN_MOE: [E, H] */
    ssmrt__mlp *experts;                 /* FFN_MOE: E experts */
} ssmrt__layer;

struct ssmrt_model {
    ssmrt_context *ctx;
    ssmrt__hparams hp;
    ssmrt_model_info info;
    ssmrt_tensor *embed;                 /* [V, H] */
    ssmrt_tensor *lm_head;               /* [V, H]; == embed when tied */
    ssmrt_tensor *final_norm, *final_norm_b;
    ssmrt__layer *layers;
    ssmrt_tensor **tensors;              /* every weight tensor, for destroy */
    size_t n_tensors;
};

/* Per-layer recurrent state of one session (tensors NULL where the layer has none). */
typedef struct ssmrt__layer_state {
    ssmrt_tensor *conv;  /* [B, conv_dim, W-1] */
    ssmrt_tensor *ssm;   /* [B, heads, P, N] f32 */
    ssmrt_tensor *k, *v; /* [B, max_context, Hkv, Dh] */
} ssmrt__layer_state;

/* ---- loading (sticky errors in w) ---------------------------------------------- */

void ssmrt__mamba1_load(ssmrt__weights *w, const ssmrt__hparams *hp, const char *prefix,
                        ssmrt__mamba1 *m);
void ssmrt__mamba2_load(ssmrt__weights *w, const ssmrt__hparams *hp, const char *prefix,
                        ssmrt__mamba2 *m);
void ssmrt__attention_load(ssmrt__weights *w, const ssmrt__hparams *hp, const char *prefix,
                           ssmrt__attention *a);
/* prefix ends with "feed_forward." */
ssmrt_status ssmrt__ffn_load(ssmrt__weights *w, const ssmrt__hparams *hp, const char *prefix,
                             ssmrt__layer *layer);

/* ---- graph building (sticky errors in the graph) ----------------------------------- */

/* x [B, L, H] -> [B, L, H]. The state tensors are read and updated in place. */
ssmrt_tensor *ssmrt__mamba1_build(ssmrt_graph *g, const ssmrt__hparams *hp,
                                  const ssmrt__mamba1 *m, ssmrt_tensor *x,
                                  const ssmrt__layer_state *s);
ssmrt_tensor *ssmrt__mamba2_build(ssmrt_graph *g, const ssmrt__hparams *hp,
                                  const ssmrt__mamba2 *m, ssmrt_tensor *x,
                                  const ssmrt__layer_state *s);
/* pos: tokens already in the KV cache; the new L keys/values are appended there. */
ssmrt_tensor *ssmrt__attention_build(ssmrt_graph *g, const ssmrt__hparams *hp,
                                     const ssmrt__attention *a, ssmrt_tensor *x,
                                     const ssmrt__layer_state *s, int64_t pos);
ssmrt_tensor *ssmrt__ffn_build(ssmrt_graph *g, const ssmrt__hparams *hp,
                               const ssmrt__layer *layer, ssmrt_tensor *x);

/* The whole model over ids [B, L] (i32) starting at position pos. all_logits: logits
 * [B, L, V] for every position, else [B, 1, V] for the last one only (prefill skips the
 * head on the others). */
ssmrt_tensor *ssmrt__forward_build(ssmrt_graph *g, const ssmrt_model *model,
                                   ssmrt_tensor *ids, const ssmrt__layer_state *states,
                                   int64_t pos, int all_logits);

/* Convenience for builders: a reshape with the dims listed inline. */
ssmrt_tensor *ssmrt__reshape3(ssmrt_graph *g, ssmrt_tensor *x, int64_t a, int64_t b, int64_t c);
ssmrt_tensor *ssmrt__reshape4(ssmrt_graph *g, ssmrt_tensor *x, int64_t a, int64_t b, int64_t c,
                              int64_t d);

/* x [..., K] times the row blocks of one fused projection w [sum(len), K] (bias
 * [sum(len)] or NULL): out[i] = x W[rows of part i]^T (+ bias part), each contiguous
 * whenever x has more than one row, so the ops that read the parts need no copies.
 * Returns 0 on error (sticky in g). */
int ssmrt__projections(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_tensor *w, ssmrt_tensor *bias, int n,
                       const int64_t *len, ssmrt_tensor **out);

#endif
