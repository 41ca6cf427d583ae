/* The Mamba-2 mixer: in_proj -> [z | xBC | dt]; causal conv1d + SiLU over xBC; the
 * SSD scan (A scalar per head, grouped B/C, softplus(dt + dt_bias), D skip); gated
 * RMSNorm with z; out_proj.
 *
 * transformers' chunked SSD algorithm is an exact reformulation of the recurrence
 * h = exp(dt*A) h + dt B x, y = C h + D x, which is what the scan op computes, so the
 * chunk_size of the config does not change the result and is not used. */
#include "model/model.h"

void ssmrt__mamba2_load(ssmrt__weights *w, const ssmrt__hparams *hp, const char *prefix,
                        ssmrt__mamba2 *m)
{
    const int64_t H = hp->hidden, Di = hp->d_inner, W = hp->d_conv, heads = hp->n_heads,
                  conv_dim = hp->conv_dim, proj = Di + conv_dim + heads;
    m->in_proj = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){proj, H},
                                    "%sin_proj.weight", prefix);
    if (hp->proj_bias)
        m->in_proj_b = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){proj},
                                          "%sin_proj.bias", prefix);
    m->conv_w = ssmrt__weights_get_as(w, SSMRT__W_F32, 3, (int64_t[]){conv_dim, 1, W}, 2,
                                      (int64_t[]){conv_dim, W}, "%sconv1d.weight", prefix);
    if (hp->conv_bias)
        m->conv_b = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){conv_dim},
                                       "%sconv1d.bias", prefix);
    m->dt_bias = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){heads}, "%sdt_bias", prefix);
    m->A = ssmrt__weights_get(w, SSMRT__W_NEG_EXP, 1, (int64_t[]){heads}, "%sA_log", prefix);
    m->D = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){heads}, "%sD", prefix);
    m->norm = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){Di}, "%snorm.weight", prefix);
    m->out_proj = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){H, Di},
                                     "%sout_proj.weight", prefix);
    if (hp->proj_bias)
        m->out_proj_b = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){H},
                                           "%sout_proj.bias", prefix);
}

ssmrt_tensor *ssmrt__mamba2_build(ssmrt_graph *g, const ssmrt__hparams *hp,
                                  const ssmrt__mamba2 *m, ssmrt_tensor *x,
                                  const ssmrt__layer_state *s)
{
    if (!x)
        return NULL;
    const int64_t B = ssmrt_tensor_dim(x, 0), L = ssmrt_tensor_dim(x, 1);
    const int64_t Di = hp->d_inner, N = hp->d_state, G = hp->n_groups, heads = hp->n_heads,
                  P = hp->head_dim, conv_dim = hp->conv_dim;

    /* z, xBC and dt from their own rows of in_proj, so conv, scan and the gated norm
     * read them without copies. x, B and C are still slices of the conv output (one
     * conv over xBC, whose state is one tensor). */
    ssmrt_tensor *parts[3];
    if (!ssmrt__projections(g, x, m->in_proj, m->in_proj_b, 3,
                            (int64_t[]){Di, conv_dim, heads}, parts))
        return NULL;
    ssmrt_tensor *z = parts[0], *xbc = parts[1], *dt = parts[2];
    xbc = ssmrt_graph_conv1d_causal(g, xbc, m->conv_w, m->conv_b, 1, s->conv, s->conv);

    ssmrt_tensor *xs = ssmrt__reshape4(g, ssmrt_graph_slice(g, xbc, 2, 0, Di), B, L, heads, P);
    ssmrt_tensor *Bm = ssmrt__reshape4(g, ssmrt_graph_slice(g, xbc, 2, Di, G * N), B, L, G, N);
    ssmrt_tensor *Cm =
        ssmrt__reshape4(g, ssmrt_graph_slice(g, xbc, 2, Di + G * N, G * N), B, L, G, N);
    ssmrt_tensor *y = ssmrt_graph_selective_scan(g, xs, dt, m->A, Bm, Cm, m->D, NULL, m->dt_bias,
                                                 1, s->ssm, s->ssm);
    y = ssmrt_graph_rms_norm_gated(g, ssmrt__reshape3(g, y, B, L, Di), z, m->norm, hp->norm_group,
                                   (float)hp->mixer_norm_eps);
    return ssmrt_graph_matmul(g, y, m->out_proj, m->out_proj_b);
}
