/* The whole model as one graph: embedding, the residual blocks, final norm, head. */
#include "model/model.h"

static ssmrt_tensor *fwd_contiguous(ssmrt_graph *g, ssmrt_tensor *x)
{
    if (!x || ssmrt_tensor_is_contiguous(x))
        return x;
    return ssmrt_graph_copy(g, x, ssmrt_tensor_dtype(x));
}

ssmrt_tensor *ssmrt__reshape3(ssmrt_graph *g, ssmrt_tensor *x, int64_t a, int64_t b, int64_t c)
{
    x = fwd_contiguous(g, x);
    return x ? ssmrt_graph_reshape(g, x, 3, (int64_t[]){a, b, c}) : NULL;
}

ssmrt_tensor *ssmrt__reshape4(ssmrt_graph *g, ssmrt_tensor *x, int64_t a, int64_t b, int64_t c,
                              int64_t d)
{
    x = fwd_contiguous(g, x);
    return x ? ssmrt_graph_reshape(g, x, 4, (int64_t[]){a, b, c, d}) : NULL;
}

int ssmrt__projections(ssmrt_graph *g, ssmrt_tensor *x, ssmrt_tensor *w, ssmrt_tensor *bias, int n,
                       const int64_t *len, ssmrt_tensor **out)
{
    if (!x)
        return 0;
    const int nd = ssmrt_tensor_ndim(x);
    int64_t rows = 1;
    for (int i = 0; i < nd - 1; i++)
        rows *= ssmrt_tensor_dim(x, i);
    ssmrt_tensor *y = rows == 1 ? ssmrt_graph_matmul(g, x, w, bias) : NULL;
    int64_t start = 0;
    for (int i = 0; i < n; i++) {
        if (rows == 1) {
            /* One row: every slice of the last axis is contiguous, so one matmul and
             * free views beat one matmul per part. */
            out[i] = ssmrt_graph_slice(g, y, nd - 1, start, len[i]);
        } else {
            /* Rows [start, start+len) of a row-major [N, K] weight are contiguous: a
             * view, no copy of the weight; the output comes out contiguous. */
            ssmrt_tensor *wi = ssmrt_graph_slice(g, w, 0, start, len[i]);
            ssmrt_tensor *bi = bias ? ssmrt_graph_slice(g, bias, 0, start, len[i]) : NULL;
            out[i] = ssmrt_graph_matmul(g, x, wi, bi);
        }
        if (!out[i])
            return 0;
        start += len[i];
    }
    return 1;
}

static ssmrt_tensor *fwd_norm(ssmrt_graph *g, const ssmrt__hparams *hp, ssmrt_tensor *x,
                              ssmrt_tensor *w, ssmrt_tensor *b)
{
    if (hp->layer_norm)
        return ssmrt_graph_layer_norm(g, x, w, b, (float)hp->norm_eps);
    return ssmrt_graph_rms_norm(g, x, w, (float)hp->norm_eps);
}

ssmrt_tensor *ssmrt__forward_build(ssmrt_graph *g, const ssmrt_model *model, ssmrt_tensor *ids,
                                   const ssmrt__layer_state *states, int64_t pos, int all_logits)
{
    const ssmrt__hparams *hp = &model->hp;
    ssmrt_tensor *h = ssmrt_graph_embedding(g, model->embed, ids);
    for (int64_t i = 0; i < hp->n_layers && h; i++) {
        const ssmrt__layer *ly = &model->layers[i];
        /* Pre-norm residual block. Activations are f32 throughout, which is what
         * residual_in_fp32 asks for. */
        ssmrt_tensor *x = fwd_norm(g, hp, h, ly->norm, ly->norm_b);
        switch (ly->mixer) {
        case SSMRT__MIXER_MAMBA1: x = ssmrt__mamba1_build(g, hp, &ly->m1, x, &states[i]); break;
        case SSMRT__MIXER_MAMBA2: x = ssmrt__mamba2_build(g, hp, &ly->m2, x, &states[i]); break;
        case SSMRT__MIXER_ATTENTION:
            x = ssmrt__attention_build(g, hp, &ly->attn, x, &states[i], pos);
            break;
        }
        h = ssmrt_graph_add(g, h, x);
        if (ly->ffn != SSMRT__FFN_NONE && h) {
            x = ssmrt_graph_rms_norm(g, h, ly->ffn_norm, (float)hp->norm_eps);
            h = ssmrt_graph_add(g, h, ssmrt__ffn_build(g, hp, ly, x));
        }
    }
    if (h && !all_logits)
        h = ssmrt_graph_slice(g, h, 1, ssmrt_tensor_dim(h, 1) - 1, 1);
    h = fwd_norm(g, hp, h, model->final_norm, model->final_norm_b);
    return ssmrt_graph_matmul(g, h, model->lm_head, NULL);
}
