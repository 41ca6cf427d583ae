/* The Mamba-1 mixer: in_proj -> causal conv1d + SiLU -> x_proj -> (dt, B, C) ->
 * dt_proj -> selective scan (softplus(dt + dt_bias), D skip, silu(z) gate) -> out_proj.
 * Jamba's Mamba layers add RMSNorms on dt, B and C right after x_proj. */
#include "model/model.h"

void ssmrt__mamba1_load(ssmrt__weights *w, const ssmrt__hparams *hp, const char *prefix,
                        ssmrt__mamba1 *m)
{
    const int64_t H = hp->hidden, Di = hp->d_inner, N = hp->d_state, W = hp->d_conv,
                  R = hp->dt_rank;
    m->in_proj = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){2 * Di, H},
                                    "%sin_proj.weight", prefix);
    if (hp->proj_bias)
        m->in_proj_b = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){2 * Di},
                                          "%sin_proj.bias", prefix);
    /* torch Conv1d keeps a depthwise weight as [D, 1, W]; the op wants [D, W]. */
    m->conv_w = ssmrt__weights_get_as(w, SSMRT__W_F32, 3, (int64_t[]){Di, 1, W}, 2,
                                      (int64_t[]){Di, W}, "%sconv1d.weight", prefix);
    if (hp->conv_bias)
        m->conv_b = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){Di}, "%sconv1d.bias",
                                       prefix);
    m->x_proj = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){R + 2 * N, Di},
                                   "%sx_proj.weight", prefix);
    m->dt_proj = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){Di, R},
                                    "%sdt_proj.weight", prefix);
    m->dt_bias = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){Di}, "%sdt_proj.bias",
                                    prefix);
    m->A = ssmrt__weights_get(w, SSMRT__W_NEG_EXP, 2, (int64_t[]){Di, N}, "%sA_log", prefix);
    m->D = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){Di}, "%sD", prefix);
    m->out_proj = ssmrt__weights_get(w, SSMRT__W_NATIVE, 2, (int64_t[]){H, Di},
                                     "%sout_proj.weight", prefix);
    if (hp->proj_bias)
        m->out_proj_b = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){H},
                                           "%sout_proj.bias", prefix);
    if (hp->mamba_inner_norms) {
        m->dt_norm = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){R},
                                        "%sdt_layernorm.weight", prefix);
        m->b_norm = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){N},
                                       "%sb_layernorm.weight", prefix);
        m->c_norm = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){N},
                                       "%sc_layernorm.weight", prefix);
    }
}

ssmrt_tensor *ssmrt__mamba1_build(ssmrt_graph *g, const ssmrt__hparams *hp,
                                  const ssmrt__mamba1 *m, ssmrt_tensor *x,
                                  const ssmrt__layer_state *s)
{
    if (!x)
        return NULL;
    const int64_t B = ssmrt_tensor_dim(x, 0), L = ssmrt_tensor_dim(x, 1);
    const int64_t Di = hp->d_inner, N = hp->d_state, R = hp->dt_rank;
    const float eps = (float)hp->norm_eps;

    /* in_proj rows are [x (Di), z (Di)], x_proj rows [dt (R), B (N), C (N)]: taking
     * each part from its own rows keeps them contiguous for conv, scan and dt_proj
     * (no copies of strided halves). */
    ssmrt_tensor *xz[2], *dbc[3];
    if (!ssmrt__projections(g, x, m->in_proj, m->in_proj_b, 2, (int64_t[]){Di, Di}, xz))
        return NULL;
    ssmrt_tensor *xs = xz[0], *z = xz[1];
    ssmrt_tensor *xc = ssmrt_graph_conv1d_causal(g, xs, m->conv_w, m->conv_b, 1, s->conv, s->conv);

    if (!ssmrt__projections(g, xc, m->x_proj, NULL, 3, (int64_t[]){R, N, N}, dbc))
        return NULL;
    ssmrt_tensor *dt = dbc[0], *Bm = dbc[1], *Cm = dbc[2];
    if (hp->mamba_inner_norms) {
        dt = ssmrt_graph_rms_norm(g, dt, m->dt_norm, eps);
        Bm = ssmrt_graph_rms_norm(g, Bm, m->b_norm, eps);
        Cm = ssmrt_graph_rms_norm(g, Cm, m->c_norm, eps);
    }
    /* dt_proj without its bias: the scan adds it before the softplus (as mamba_ssm's
     * kernel does); softplus(W dt + b) is the same value either way. */
    ssmrt_tensor *delta = ssmrt_graph_matmul(g, dt, m->dt_proj, NULL);

    /* Mamba-1 is the scan's H = Di heads of P = 1 channel and one group. */
    ssmrt_tensor *y = ssmrt_graph_selective_scan(
        g, ssmrt__reshape4(g, xc, B, L, Di, 1), delta, m->A, ssmrt__reshape4(g, Bm, B, L, 1, N),
        ssmrt__reshape4(g, Cm, B, L, 1, N), m->D, ssmrt__reshape4(g, z, B, L, Di, 1), m->dt_bias,
        1, s->ssm, s->ssm);
    return ssmrt_graph_matmul(g, ssmrt__reshape3(g, y, B, L, Di), m->out_proj, m->out_proj_b);
}
