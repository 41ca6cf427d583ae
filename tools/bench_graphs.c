/* One-op graphs over random persistent inputs, and what each op costs.
 *
 * bytes is the least an op can move: every input read once and every output written
 * once, at their storage dtypes (f32 activations, the weight dtype for matmul and
 * embedding tables). Intermediate traffic a kernel chooses (re-reading K/V per block
 * of queries, spilling a scan's state) is not counted, so bytes / time is a lower
 * bound on the bandwidth a kernel achieves and compares directly with a copy.
 *
 *   copy            n*4 + n*size(dtype)                     n = L*D
 *   add (b [D])     2*n*4 + D*4                             broadcast like a bias
 *   mul             3*n*4
 *   scale, silu, sigmoid, softplus, gelu, exp, softmax: 2*n*4
 *   rms_norm        2*n*4 + D*4          layer_norm  2*n*4 + 2*D*4
 *   rms_norm_gated  3*n*4 + D*4
 *   matmul          L*K*4 + N*K*size(w) + L*N*4 (+ N*4 bias)   flops 2*L*N*K
 *   embedding       L*4 (ids) + L*D*size(table) + L*D*4        only the rows gathered
 *   topk_route      2*L*E*4
 *   selective_scan  4*(2*B*L*H*P [u, y] + B*L*H [delta] + 2*B*L*G*N [B, C]
 *                      + |A| + B*L*H*P [z, if gated] + H [D, if skip] + H [delta bias]
 *                      + 2*B*H*P*N [state in and out, if given])
 *                   flops 6*B*L*H*P*N: per state element dt*a, dA*s, (dt*u)*B, the add,
 *                   s*C and the sum (the exponential is not counted)
 *   conv1d_causal   4*(2*B*L*D + D*W + D [bias] + 2*B*D*(W-1) [state])   flops 2*W*B*L*D
 *   conv_long       4*(2*B*L*D + D*L)                          (flops depend on FFT vs
 *                                                               direct: not reported)
 *   attention       size(dtype)*(2*B*L*H*K [q, out] + 2*B*Lk*G*K [k, v]), q, k, v
 *                   and out all of the shape's dtype (f32 unless set)
 *                   flops 4*B*H*K*pairs, pairs = L*(Lk-L) + L*(L+1)/2 causal (q.k and
 *                   p.v, 2 flops per multiply-add)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const char *const graphs_op_names[BENCH_OP_COUNT] = {
    "copy", "add", "mul", "scale", "silu", "sigmoid", "softplus", "gelu", "exp", "softmax",
    "rms_norm", "rms_norm_gated", "layer_norm", "matmul", "embedding", "topk_route",
    "selective_scan", "conv1d_causal", "conv_long", "attention"};

const char *bench_op_name(bench_op op)
{
    return (unsigned)op < BENCH_OP_COUNT ? graphs_op_names[op] : "?";
}

void bench_graph_init(bench_graph *bg, ssmrt_context *ctx, uint64_t seed)
{
    memset(bg, 0, sizeof *bg);
    bg->ctx = ctx;
    bg->seed = seed ? seed : 0x9e3779b97f4a7c15ull;
}

void bench_graph_release(bench_graph *bg)
{
    ssmrt_graph_destroy(bg->g);
    bg->g = NULL;
    for (int i = 0; i < bg->n_inputs; i++)
        ssmrt_tensor_destroy(bg->inputs[i]);
    bg->n_inputs = 0;
}

/* xorshift64*: fast, and the same inputs on every run and backend. */
static uint64_t graphs_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static float graphs_uniform(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)((graphs_next(s) >> 40) * (1.0 / 16777216.0));
}

static ssmrt_tensor *graphs_keep(bench_graph *bg, ssmrt_tensor *t)
{
    if (bg->n_inputs >= BENCH_GRAPH_MAX_INPUTS) {
        ssmrt_tensor_destroy(t);
        fprintf(stderr, "ssmrt bench: internal: more than %d inputs\n", BENCH_GRAPH_MAX_INPUTS);
        return NULL;
    }
    bg->inputs[bg->n_inputs++] = t;
    return t;
}

ssmrt_tensor *bench_graph_input(bench_graph *bg, ssmrt_dtype dtype, int ndim,
                                const int64_t *shape, float lo, float hi)
{
    ssmrt_tensor *t = NULL;
    if (ssmrt_tensor_create(bg->ctx, dtype, ndim, shape, &t) != SSMRT_OK)
        return NULL;
    size_t n = (size_t)ssmrt_tensor_nelements(t);
    float *host = malloc((n ? n : 1) * sizeof *host);
    if (!host) {
        ssmrt_tensor_destroy(t);
        fprintf(stderr, "ssmrt bench: out of host memory for a %zu-element input\n", n);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        host[i] = graphs_uniform(&bg->seed, lo, hi);
    ssmrt_status st = ssmrt_tensor_upload_f32(t, host, n);
    free(host);
    if (st) {
        ssmrt_tensor_destroy(t);
        return NULL;
    }
    return graphs_keep(bg, t);
}

ssmrt_tensor *bench_graph_ids(bench_graph *bg, int ndim, const int64_t *shape, int32_t range)
{
    ssmrt_tensor *t = NULL;
    if (ssmrt_tensor_create(bg->ctx, SSMRT_I32, ndim, shape, &t) != SSMRT_OK)
        return NULL;
    size_t n = (size_t)ssmrt_tensor_nelements(t);
    int32_t *host = malloc((n ? n : 1) * sizeof *host);
    if (!host) {
        ssmrt_tensor_destroy(t);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        host[i] = (int32_t)(graphs_next(&bg->seed) % (uint64_t)range);
    ssmrt_status st = ssmrt_tensor_upload(t, host, n * sizeof *host);
    free(host);
    if (st) {
        ssmrt_tensor_destroy(t);
        return NULL;
    }
    return graphs_keep(bg, t);
}

/* ---- builders: each returns the op's result (NULL on error) ----------------- */

#define SHP(...) ((const int64_t[]){__VA_ARGS__})
#define IN(nd, lo, hi, ...) bench_graph_input(bg, SSMRT_F32, nd, SHP(__VA_ARGS__), lo, hi)

static ssmrt_tensor *graphs_elementwise(bench_graph *bg, bench_op op, const bench_shape *s)
{
    const double n = (double)s->L * (double)s->D;
    ssmrt_tensor *x = IN(2, -1.f, 1.f, s->L, s->D);
    if (!x)
        return NULL;
    ssmrt_graph *g = bg->g;
    bg->bytes = 2 * n * 4;
    switch (op) {
    case BENCH_OP_COPY:
        bg->bytes = n * 4 + n * (double)ssmrt_dtype_size(s->dtype);
        return ssmrt_graph_copy(g, x, s->dtype);
    case BENCH_OP_ADD: {
        ssmrt_tensor *b = IN(1, -1.f, 1.f, s->D);
        bg->bytes = 2 * n * 4 + (double)s->D * 4;
        return b ? ssmrt_graph_add(g, x, b) : NULL;
    }
    case BENCH_OP_MUL: {
        ssmrt_tensor *b = IN(2, -1.f, 1.f, s->L, s->D);
        bg->bytes = 3 * n * 4;
        return b ? ssmrt_graph_mul(g, x, b) : NULL;
    }
    case BENCH_OP_SCALE: return ssmrt_graph_scale(g, x, 0.5f, 0.25f);
    case BENCH_OP_SILU: return ssmrt_graph_silu(g, x);
    case BENCH_OP_SIGMOID: return ssmrt_graph_sigmoid(g, x);
    case BENCH_OP_SOFTPLUS: return ssmrt_graph_softplus(g, x);
    case BENCH_OP_GELU: return ssmrt_graph_gelu(g, x);
    case BENCH_OP_EXP: return ssmrt_graph_exp(g, x);
    case BENCH_OP_SOFTMAX: return ssmrt_graph_softmax(g, x);
    case BENCH_OP_RMS_NORM: {
        ssmrt_tensor *w = IN(1, 0.5f, 1.5f, s->D);
        bg->bytes += (double)s->D * 4;
        return w ? ssmrt_graph_rms_norm(g, x, w, 1e-5f) : NULL;
    }
    case BENCH_OP_RMS_NORM_GATED: {
        ssmrt_tensor *z = IN(2, -1.f, 1.f, s->L, s->D);
        ssmrt_tensor *w = IN(1, 0.5f, 1.5f, s->D);
        bg->bytes = 3 * n * 4 + (double)s->D * 4;
        return z && w ? ssmrt_graph_rms_norm_gated(g, x, z, w, s->G ? s->G : s->D, 1e-5f) : NULL;
    }
    case BENCH_OP_LAYER_NORM: {
        ssmrt_tensor *w = IN(1, 0.5f, 1.5f, s->D);
        ssmrt_tensor *b = IN(1, -0.5f, 0.5f, s->D);
        bg->bytes += 2 * (double)s->D * 4;
        return w && b ? ssmrt_graph_layer_norm(g, x, w, b, 1e-5f) : NULL;
    }
    default: return NULL;
    }
}

static ssmrt_tensor *graphs_matmul(bench_graph *bg, const bench_shape *s)
{
    const double wsize = (double)ssmrt_dtype_size(s->dtype);
    ssmrt_tensor *x = IN(2, -1.f, 1.f, s->L, s->K);
    /* Weights of a trained layer are small; +-1/sqrt(K) keeps outputs O(1). */
    float r = 1.0f / sqrtf((float)s->K);
    ssmrt_tensor *w = bench_graph_input(bg, s->dtype, 2, SHP(s->N, s->K), -r, r);
    ssmrt_tensor *b = NULL;
    if (!x || !w)
        return NULL;
    bg->bytes = (double)s->L * s->K * 4 + (double)s->N * s->K * wsize + (double)s->L * s->N * 4;
    if (s->flags & BENCH_F_BIAS) {
        if (!(b = IN(1, -1.f, 1.f, s->N)))
            return NULL;
        bg->bytes += (double)s->N * 4;
    }
    bg->flops = 2.0 * s->L * s->N * s->K;
    return ssmrt_graph_matmul(bg->g, x, w, b);
}

static ssmrt_tensor *graphs_embedding(bench_graph *bg, const bench_shape *s)
{
    ssmrt_tensor *table = bench_graph_input(bg, s->dtype, 2, SHP(s->N, s->D), -1.f, 1.f);
    ssmrt_tensor *ids = bench_graph_ids(bg, 1, SHP(s->L), (int32_t)s->N);
    if (!table || !ids)
        return NULL;
    bg->bytes = (double)s->L * 4 + (double)s->L * s->D * ((double)ssmrt_dtype_size(s->dtype) + 4);
    return ssmrt_graph_embedding(bg->g, table, ids);
}

static ssmrt_tensor *graphs_topk(bench_graph *bg, const bench_shape *s)
{
    ssmrt_tensor *logits = IN(2, -2.f, 2.f, s->L, s->E);
    if (!logits)
        return NULL;
    bg->bytes = 2.0 * s->L * s->E * 4;
    return ssmrt_graph_topk_route(bg->g, logits, (int)s->topk, 1);
}

/* Inputs in the ranges a trained Mamba sees, so no path runs on denormals or
 * overflows: dt = softplus(delta + bias) in about [0.002, 0.13] (Mamba's dt_min..dt_max),
 * A in [-16, -1] (S4D-real init -1..-N), so exp(dt*A) is in (0.1, 1). */
static ssmrt_tensor *graphs_scan(bench_graph *bg, const bench_shape *s)
{
    const int64_t B = s->B, L = s->L, H = s->H, P = s->P, N = s->N, G = s->G;
    const int m2 = s->flags & BENCH_F_MAMBA2;
    ssmrt_tensor *u = IN(4, -1.f, 1.f, B, L, H, P);
    ssmrt_tensor *delta = IN(3, -1.f, 1.f, B, L, H);
    ssmrt_tensor *A = m2 ? IN(1, -16.f, -1.f, H) : IN(2, -16.f, -1.f, H, N);
    ssmrt_tensor *Bm = IN(4, -1.f, 1.f, B, L, G, N);
    ssmrt_tensor *Cm = IN(4, -1.f, 1.f, B, L, G, N);
    if (!u || !delta || !A || !Bm || !Cm)
        return NULL;
    ssmrt_tensor *Dskip = NULL, *z = NULL, *dt_bias = NULL, *state = NULL;
    double elems = 2.0 * B * L * H * P + (double)B * L * H + 2.0 * B * L * G * N +
                   (m2 ? (double)H : (double)H * N);
    if (s->flags & BENCH_F_DSKIP) {
        if (!(Dskip = IN(1, 0.f, 1.f, H)))
            return NULL;
        elems += (double)H;
    }
    if (s->flags & BENCH_F_Z) {
        if (!(z = IN(4, -1.f, 1.f, B, L, H, P)))
            return NULL;
        elems += (double)B * L * H * P;
    }
    if (s->flags & BENCH_F_DT_BIAS) {
        if (!(dt_bias = IN(1, -5.f, -3.f, H)))
            return NULL;
        elems += (double)H;
    }
    if (s->flags & BENCH_F_STATE) {
        if (!(state = IN(4, -0.1f, 0.1f, B, H, P, N)))
            return NULL;
        elems += 2.0 * B * H * P * N;
    }
    bg->bytes = 4 * elems;
    bg->flops = 6.0 * B * L * H * P * N;
    return ssmrt_graph_selective_scan(bg->g, u, delta, A, Bm, Cm, Dskip, z, dt_bias,
                                      (s->flags & BENCH_F_DT_BIAS) != 0, state, state);
}

static ssmrt_tensor *graphs_conv1d(bench_graph *bg, const bench_shape *s)
{
    const int64_t B = s->B, L = s->L, D = s->D, W = s->W;
    ssmrt_tensor *x = IN(3, -1.f, 1.f, B, L, D);
    ssmrt_tensor *w = IN(2, -0.5f, 0.5f, D, W);
    ssmrt_tensor *bias = NULL, *state = NULL;
    if (!x || !w)
        return NULL;
    double elems = 2.0 * B * L * D + (double)D * W;
    if (s->flags & BENCH_F_BIAS) {
        if (!(bias = IN(1, -0.5f, 0.5f, D)))
            return NULL;
        elems += (double)D;
    }
    if ((s->flags & BENCH_F_STATE) && W > 1) {
        if (!(state = IN(3, -1.f, 1.f, B, D, W - 1)))
            return NULL;
        elems += 2.0 * B * D * (W - 1);
    }
    bg->bytes = 4 * elems;
    bg->flops = 2.0 * W * B * L * D;
    return ssmrt_graph_conv1d_causal(bg->g, x, w, bias, (s->flags & BENCH_F_SILU) != 0, state,
                                     state);
}

static ssmrt_tensor *graphs_conv_long(bench_graph *bg, const bench_shape *s)
{
    ssmrt_tensor *x = IN(3, -1.f, 1.f, s->B, s->L, s->D);
    /* An S4 kernel decays along time; its magnitude does not matter for speed. */
    ssmrt_tensor *k = IN(2, -0.1f, 0.1f, s->D, s->L);
    if (!x || !k)
        return NULL;
    bg->bytes = 4 * (2.0 * s->B * s->L * s->D + (double)s->D * s->L);
    return ssmrt_graph_conv_long(bg->g, x, k);
}

static ssmrt_tensor *graphs_attention(bench_graph *bg, const bench_shape *s)
{
    const int64_t B = s->B, L = s->L, Lk = s->Lk ? s->Lk : s->L, H = s->H, G = s->G, K = s->K;
    ssmrt_tensor *q = bench_graph_input(bg, s->dtype, 4, SHP(B, L, H, K), -1.f, 1.f);
    ssmrt_tensor *k = bench_graph_input(bg, s->dtype, 4, SHP(B, Lk, G, K), -1.f, 1.f);
    ssmrt_tensor *v = bench_graph_input(bg, s->dtype, 4, SHP(B, Lk, G, K), -1.f, 1.f);
    if (!q || !k || !v)
        return NULL;
    double pairs = (double)L * (double)(Lk - L) + 0.5 * (double)L * (double)(L + 1);
    bg->bytes = (double)ssmrt_dtype_size(s->dtype) * (2.0 * B * L * H * K + 2.0 * B * Lk * G * K);
    bg->flops = 4.0 * B * H * K * pairs;
    return ssmrt_graph_attention(bg->g, q, k, v, 1.0f / sqrtf((float)K));
}

ssmrt_status bench_graph_build(bench_graph *bg, bench_op op, const bench_shape *s)
{
    ssmrt_status st = ssmrt_graph_create(bg->ctx, &bg->g);
    if (st)
        return st;
    bg->bytes = bg->flops = 0;
    ssmrt_tensor *y;
    switch (op) {
    case BENCH_OP_MATMUL: y = graphs_matmul(bg, s); break;
    case BENCH_OP_EMBEDDING: y = graphs_embedding(bg, s); break;
    case BENCH_OP_TOPK_ROUTE: y = graphs_topk(bg, s); break;
    case BENCH_OP_SELECTIVE_SCAN: y = graphs_scan(bg, s); break;
    case BENCH_OP_CONV1D_CAUSAL: y = graphs_conv1d(bg, s); break;
    case BENCH_OP_CONV_LONG: y = graphs_conv_long(bg, s); break;
    case BENCH_OP_ATTENTION: y = graphs_attention(bg, s); break;
    default: y = graphs_elementwise(bg, op, s); break;
    }
    /* Marked as a result so the planner keeps it: the op cannot be optimised away. */
    if (y)
        y = ssmrt_graph_output(bg->g, y);
    st = ssmrt_graph_status(bg->g);
    if (!y && !st)
        st = SSMRT_ERR_INVALID_ARGUMENT; /* an input failed; its message is already set */
    return st;
}

ssmrt_status bench_graph_prepare(bench_graph *bg)
{
    ssmrt_status st = ssmrt_graph_compute(bg->g);
    if (st)
        return st;
    uint64_t cur = 0;
    ssmrt_context_memory(bg->ctx, &cur, NULL);
    bg->device_bytes = cur;
    return SSMRT_OK;
}

static ssmrt_status graphs_run(void *arg)
{
    return ssmrt_graph_compute((ssmrt_graph *)arg);
}

static ssmrt_status graphs_run_timed(void *arg, double *device_ms)
{
    return ssmrt_graph_compute_timed((ssmrt_graph *)arg, device_ms);
}

/* The device clock where the backend has one: a 100 us GPU kernel measured by the
 * host clock would carry the launch and submission latency of its backend. */
ssmrt_status bench_graph_time(bench_graph *bg, const bench_timing *t, bench_stats *out)
{
    double probe;
    ssmrt_status st = ssmrt_graph_compute_timed(bg->g, &probe);
    if (st == SSMRT_ERR_UNSUPPORTED)
        return bench_time(t, NULL, graphs_run, bg->g, out);
    if (st)
        return st;
    return bench_time_device(t, graphs_run_timed, bg->g, out);
}

double bench_scan_state_bytes(const bench_shape *s)
{
    return 4.0 * s->B * s->H * s->P * s->N;
}

double bench_kv_cache_bytes(const bench_shape *s)
{
    return 4.0 * 2.0 * s->B * (s->Lk ? s->Lk : s->L) * s->G * s->K;
}
