/* Jamba's attention mixer: grouped-query heads, no positional encoding, no biases,
 * scale 1/sqrt(head_dim), over a KV cache that holds every past token. */
#include <math.h>

#include "model/model.h"

void ssmrt__attention_load(ssmrt__weights *w, const ssmrt__hparams *hp, const char *prefix,
                           ssmrt__attention *a)
{
    const int64_t H = hp->hidden, Dh = hp->attn_head_dim, q = hp->n_q_heads * Dh,
                  kv = hp->n_kv_heads * Dh;
    a->q = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){q, H}, "%sq_proj.weight", prefix);
    a->k = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){kv, H}, "%sk_proj.weight", prefix);
    a->v = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){kv, H}, "%sv_proj.weight", prefix);
    a->o = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){H, q}, "%so_proj.weight", prefix);
}

ssmrt_tensor *ssmrt__attention_build(ssmrt_graph *g, const ssmrt__hparams *hp,
                                     const ssmrt__attention *a, ssmrt_tensor *x,
                                     const ssmrt__layer_state *s, int64_t pos)
{
    if (!x)
        return NULL;
    const int64_t B = ssmrt_tensor_dim(x, 0), L = ssmrt_tensor_dim(x, 1);
    const int64_t Hq = hp->n_q_heads, Hk = hp->n_kv_heads, Dh = hp->attn_head_dim;

    ssmrt_tensor *q = ssmrt__reshape4(g, ssmrt_graph_matmul(g, x, a->q, NULL), B, L, Hq, Dh);
    ssmrt_tensor *k = ssmrt__reshape4(g, ssmrt_graph_matmul(g, x, a->k, NULL), B, L, Hk, Dh);
    ssmrt_tensor *v = ssmrt__reshape4(g, ssmrt_graph_matmul(g, x, a->v, NULL), B, L, Hk, Dh);

    /* Append the new keys/values at [pos, pos+L), then attend over [0, pos+L). The
     * graph runs its ops in the order recorded, so the attention reads the appended
     * entries. */
    ssmrt_graph_copy_into(g, k, ssmrt_graph_slice(g, s->k, 1, pos, L));
    ssmrt_graph_copy_into(g, v, ssmrt_graph_slice(g, s->v, 1, pos, L));
    ssmrt_tensor *kc = ssmrt_graph_slice(g, s->k, 1, 0, pos + L);
    ssmrt_tensor *vc = ssmrt_graph_slice(g, s->v, 1, 0, pos + L);

    ssmrt_tensor *o = ssmrt_graph_attention(g, q, kc, vc, (float)(1.0 / sqrt((double)Dh)));
    return ssmrt_graph_matmul(g, ssmrt__reshape3(g, o, B, L, Hq * Dh), a->o, NULL);
}
