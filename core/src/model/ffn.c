/* Jamba's feed-forward blocks: the SwiGLU MLP down(silu(gate(x)) * up(x)), and the
 * sparse mixture of experts (router -> softmax -> top-k, no renormalisation ->
 * gate-weighted sum of SwiGLU experts).
 *
 * The experts are evaluated densely: every expert runs on every token and its output
 * is scaled by the dense gate, which is 0 for the experts a token was not routed to.
 * That is exactly the sparse result (x*0 adds nothing) at E/k times the expert FLOPs;
 * the graph API has no gather/scatter to send each token only to its experts. */
#include <stdio.h>

#include "alloc.h"
#include "error.h"
#include "model/model.h"

static void ffn_load_mlp(ssmrt__weights *w, const ssmrt__hparams *hp, const char *prefix,
                         ssmrt__mlp *mlp)
{
    const int64_t H = hp->hidden, F = hp->ffn_size;
    mlp->gate = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){F, H}, "%sgate_proj.weight",
                                   prefix);
    mlp->up = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){F, H}, "%sup_proj.weight",
                                 prefix);
    mlp->down = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){H, F}, "%sdown_proj.weight",
                                   prefix);
}

ssmrt_status ssmrt__ffn_load(ssmrt__weights *w, const ssmrt__hparams *hp, const char *prefix,
                             ssmrt__layer *layer)
{
    if (layer->ffn == SSMRT__FFN_MLP) {
        ffn_load_mlp(w, hp, prefix, &layer->mlp);
        return SSMRT_OK;
    }
    const int64_t E = hp->n_experts;
    layer->router = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){E, hp->hidden},
                                       "%srouter.weight", prefix);
    layer->experts = ssmrt__calloc((size_t)E, sizeof *layer->experts);
    if (!layer->experts)
        return SSMRT_ERR_OUT_OF_MEMORY;
    for (int64_t e = 0; e < E; e++) {
        char p[256];
        snprintf(p, sizeof p, "%sexperts.%lld.", prefix, (long long)e);
        ffn_load_mlp(w, hp, p, &layer->experts[e]);
    }
    return SSMRT_OK;
}

static ssmrt_tensor *ffn_mlp(ssmrt_graph *g, const ssmrt__mlp *mlp, ssmrt_tensor *x)
{
    ssmrt_tensor *gate = ssmrt_graph_silu(g, ssmrt_graph_matmul(g, x, mlp->gate, NULL));
    ssmrt_tensor *up = ssmrt_graph_matmul(g, x, mlp->up, NULL);
    return ssmrt_graph_matmul(g, ssmrt_graph_mul(g, gate, up), mlp->down, NULL);
}

ssmrt_tensor *ssmrt__ffn_build(ssmrt_graph *g, const ssmrt__hparams *hp,
                               const ssmrt__layer *layer, ssmrt_tensor *x)
{
    if (!x)
        return NULL;
    if (layer->ffn == SSMRT__FFN_MLP)
        return ffn_mlp(g, &layer->mlp, x);

    const int64_t B = ssmrt_tensor_dim(x, 0), L = ssmrt_tensor_dim(x, 1), H = hp->hidden;
    const int64_t T = B * L;
    ssmrt_tensor *xt = ssmrt__reshape3(g, x, 1, T, H);
    ssmrt_tensor *logits = ssmrt_graph_matmul(g, xt, layer->router, NULL); /* [1, T, E] */
    ssmrt_tensor *gates = ssmrt_graph_topk_route(
        g, ssmrt_graph_reshape(g, logits, 2, (int64_t[]){T, hp->n_experts}), (int)hp->top_k, 0);
    /* Column e of gates [T, E] is strided when T > 1, and every per-expert MUL would
     * copy it: one transposed copy [E, T] makes each expert's gates a contiguous row,
     * viewed as [T, 1]. */
    ssmrt_tensor *gates_t = T > 1 && gates
        ? ssmrt_graph_copy(g, ssmrt_graph_permute(g, gates, (int[]){1, 0}), SSMRT_F32)
        : NULL;
    ssmrt_tensor *sum = NULL;
    for (int64_t e = 0; e < hp->n_experts; e++) {
        ssmrt_tensor *ye = ffn_mlp(g, &layer->experts[e], xt);           /* [1, T, H] */
        ssmrt_tensor *ge = gates_t                                       /* [T, 1] */
            ? ssmrt_graph_reshape(g, ssmrt_graph_slice(g, gates_t, 0, e, 1), 2, (int64_t[]){T, 1})
            : ssmrt_graph_slice(g, gates, 1, e, 1);
        ye = ssmrt_graph_mul(g, ye, ge);
        sum = sum ? ssmrt_graph_add(g, sum, ye) : ye;
    }
    return ssmrt__reshape3(g, sum, B, L, H);
}
