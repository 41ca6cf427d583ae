/* Conformance cases: conv1d_causal and conv_long against the reference, and two
 * identities on the device alone: chunked prefill (conv1d + scan with both states
 * carried across graphs) == one-shot, and the S4 long convolution == its complex
 * diagonal recurrence computed in double by the harness. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf_ssm.h"
#include "conf_tolerance.h"

/* ===================================================================== */
/* conv1d_causal                                                           */
/* ===================================================================== */

enum { CONF_CONV_X = 0, CONF_CONV_W, CONF_CONV_BIAS, CONF_CONV_STATE, CONF_CONV_NSLOTS };

typedef struct conf_conv_opts {
    int bias, silu, state_in, state_out, alias;
} conf_conv_opts;

typedef struct conf_conv_params {
    int64_t b, l, d, w;
    conf_conv_opts o;
    const float *state_init;
} conf_conv_params;

static void conf_build_conv1d(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_conv_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    int64_t sshape[3] = {p->b, p->d, p->w - 1}, yshape[3] = {p->b, p->l, p->d};
    ssmrt_tensor *state = p->o.state_in && !p->o.alias ? in[CONF_CONV_STATE] : NULL;
    ssmrt_tensor *state_out = NULL;
    int id = -1;
    if (p->o.state_out) {
        id = conf_exec_guarded(x, SSMRT_F32, 3, sshape, NULL, p->o.alias ? p->state_init : NULL);
        state_out = conf_exec_guarded_view(x, id);
        if (p->o.alias)
            state = state_out;
    }
    conf_exec_arena_guard(x, conf_bytes(SSMRT_F32, 3, yshape));
    conf_exec_output(x, ssmrt_graph_conv1d_causal(g, in[CONF_CONV_X], in[CONF_CONV_W],
                                                  in[CONF_CONV_BIAS], p->o.silu, state, state_out));
    if (id >= 0)
        conf_exec_output_guarded(x, id);
}

static void conf_conv1d_case(conf_suite *s, uint64_t index, int64_t b, int64_t l, int64_t d,
                             int64_t w, const conf_conv_opts *o)
{
    conf_rng r;
    conf_suite_rng(s, &r, "conv1d_causal", index);
    conf_case c;
    conf_case_init(&c, "conv1d_causal", "f32", CONF_VS_REFERENCE);
    int64_t xs[3] = {b, l, d}, ws[2] = {d, w}, ss[3] = {b, d, w - 1};
    conf_host *xh = conf_case_in(&c, CONF_CONV_X, SSMRT_F32, 3, xs);
    conf_host *wh = conf_case_in(&c, CONF_CONV_W, SSMRT_F32, 2, ws);
    conf_host *bh = o->bias ? conf_case_in(&c, CONF_CONV_BIAS, SSMRT_F32, 1, &d) : NULL;
    conf_host *sh = o->state_in ? conf_case_in(&c, CONF_CONV_STATE, SSMRT_F32, 3, ss) : NULL;
    c.n_in = CONF_CONV_NSLOTS;
    if (xh && wh) {
        conf_rng_fill_normal(&r, xh->f, xh->n, 0.0, 1.0);
        conf_rng_fill_normal(&r, wh->f, wh->n, 0.0, 1.0 / sqrt((double)w));
    }
    if (bh)
        conf_rng_fill_normal(&r, bh->f, bh->n, 0.0, 0.5);
    if (sh)
        conf_rng_fill_normal(&r, sh->f, sh->n, 0.0, 1.0);
    conf_case_name(&c, "B=%lld L=%lld D=%lld W=%lld%s%s%s%s%s", (long long)b, (long long)l,
                   (long long)d, (long long)w, o->bias ? " bias" : "", o->silu ? " silu" : "",
                   o->state_in ? " state-in" : "", o->state_out ? " state-out" : "",
                   o->alias ? "(in place)" : "");
    conf_conv_params p = {b, l, d, w, *o, sh ? sh->f : NULL};
    /* The state out is a copy of inputs: exact. */
    c.tols[0] = conf_tol_conv1d(w, o->silu);
    c.tols[1] = conf_tol_exact();
    c.n_tols = 2;
    c.build = conf_build_conv1d;
    c.params = &p;
    conf_suite_run(s, &c);
}

static void conf_conv1d_sweep(conf_suite *s)
{
    static const struct {
        int64_t b, l, d, w;
        conf_conv_opts o;
        int full_only;
    } cases[] = {
        {1, 1, 1, 1, {1, 1, 0, 0, 0}, 1},     /* W = 1: no state at all */
        {1, 1, 37, 4, {1, 1, 1, 1, 1}, 0},    /* decode step, state in place */
        {2, 17, 5, 4, {1, 1, 1, 1, 0}, 0},
        {1, 3, 64, 4, {1, 1, 1, 0, 0}, 0},    /* y: 192 elements */
        {1, 33, 13, 3, {1, 0, 0, 1, 0}, 0},
        {3, 7, 6, 5, {0, 1, 1, 0, 0}, 0},
        {1, 3, 4, 7, {1, 1, 1, 1, 1}, 0},     /* W - 1 > L: the state outlives x */
        {1, 2049, 24, 4, {1, 1, 1, 1, 0}, 1},
        {2, 300, 64, 4, {1, 1, 0, 0, 0}, 1},
        {1, 5, 3, 2, {0, 0, 1, 1, 1}, 1},
        /* Appended (the cases above keep their inputs): GPU kernels hold a step
         * block's inputs in registers up to 32 taps, T = 16 up to 16; wider is one
         * output per work-item. */
        {2, 45, 7, 20, {1, 1, 1, 1, 0}, 0},
        {1, 50, 6, 40, {1, 1, 1, 1, 1}, 0},
    };
    uint64_t index = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++, index++)
        if (!s->quick || !cases[i].full_only)
            conf_conv1d_case(s, index, cases[i].b, cases[i].l, cases[i].d, cases[i].w, &cases[i].o);
    for (unsigned bits = 0; bits < 16; bits++) {
        if (s->quick && bits % 5 != 0)
            continue;
        conf_conv_opts o = {bits & 1, (bits >> 1) & 1, (bits >> 2) & 1, (bits >> 3) & 1, 0};
        o.alias = o.state_in && o.state_out && o.bias;
        conf_conv1d_case(s, 100 + bits, 2, 9, 5, 4, &o);
    }
}

/* ===================================================================== */
/* conv_long                                                               */
/* ===================================================================== */

static void conf_build_conv_long(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    (void)params;
    ssmrt_graph *g = conf_exec_graph(x);
    conf_exec_arena_guard(x, (uint64_t)ssmrt_tensor_nelements(in[0]) * 4u);
    conf_exec_output(x, ssmrt_graph_conv_long(g, in[0], in[1]));
}

static void conf_conv_long_sweep(conf_suite *s)
{
    static const struct {
        int64_t b, l, d, lk;
        int full_only;
    } cases[] = {
        {1, 1, 1, 1, 1},
        {1, 7, 3, 7, 0},
        {1, 64, 3, 64, 0},   /* y: 192 elements */
        {2, 33, 5, 40, 0},   /* kernel longer than the input */
        {1, 257, 4, 300, 0},
        {1, 2048, 4, 2048, 1},
        {1, 2049, 3, 2049, 1},
        {2, 4099, 2, 4099, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (s->quick && cases[i].full_only)
            continue;
        conf_rng r;
        conf_suite_rng(s, &r, "conv_long", i);
        conf_case c;
        conf_case_init(&c, "conv_long", "f32", CONF_VS_REFERENCE);
        int64_t xs[3] = {cases[i].b, cases[i].l, cases[i].d}, ks[2] = {cases[i].d, cases[i].lk};
        conf_host *xh = conf_case_in(&c, 0, SSMRT_F32, 3, xs);
        conf_host *kh = conf_case_in(&c, 1, SSMRT_F32, 2, ks);
        if (xh && kh) {
            conf_rng_fill_normal(&r, xh->f, xh->n, 0.0, 1.0);
            /* A random kernel decaying over tau steps, tau spread from 4 to L per
             * channel, as S4 kernels do. */
            for (int64_t d = 0; d < cases[i].d; d++) {
                double tau = 4.0 + conf_rng_uniform(&r, 0.0, (double)cases[i].lk);
                for (int64_t j = 0; j < cases[i].lk; j++)
                    kh->f[d * cases[i].lk + j] =
                        (float)(conf_rng_normal(&r) * exp(-(double)j / tau) / sqrt(tau));
            }
        }
        conf_case_name(&c, "x [%lld, %lld, %lld], kernel [%lld, %lld] decaying", (long long)xs[0],
                       (long long)xs[1], (long long)xs[2], (long long)ks[0], (long long)ks[1]);
        c.tol = conf_tol_conv_long(cases[i].l);
        c.build = conf_build_conv_long;
        conf_suite_run(s, &c);
    }
}

/* ===================================================================== */
/* Identity: S4 convolution == recurrence                                  */
/* ===================================================================== */

/* S4D with ZOH discretisation and B = 1: for each channel h and complex mode n
 * (the conjugate half is implied by the factor 2 Re):
 *   dA = exp(dt A_n),  dB = (dA - 1) / A_n,
 *   kernel   K[l] = 2 Re( sum_n C_n dB dA^l )
 *   recurrence  s_n[l] = dA s_n[l-1] + dB x[l],   y[l] = 2 Re( sum_n C_n s_n[l] ).
 * Unrolling the recurrence gives y = K * x (causal), so conv_long(x, K) on the
 * device must equal the recurrence, which the harness runs in double. */
typedef struct conf_s4 {
    int64_t b, h, modes, l;
    double *dt;             /* [h] */
    double complex *a, *cc; /* [h, modes] */
    double *want;           /* [b, l, h] */
} conf_s4;

static void conf_s4_free(conf_s4 *m)
{
    free(m->dt);
    free(m->a);
    free(m->cc);
    free(m->want);
}

static void conf_s4_recurrence(conf_s4 *m, const float *x)
{
    for (int64_t b = 0; b < m->b; b++)
        for (int64_t h = 0; h < m->h; h++)
            for (int64_t n = 0; n < m->modes; n++) {
                double complex an = m->a[h * m->modes + n], da = cexp(m->dt[h] * an);
                double complex db = (da - 1.0) / an, cn = m->cc[h * m->modes + n], st = 0;
                for (int64_t l = 0; l < m->l; l++) {
                    int64_t at = (b * m->l + l) * m->h + h;
                    st = da * st + db * (double)x[at];
                    if (n == 0)
                        m->want[at] = 0.0;
                    m->want[at] += 2.0 * creal(cn * st);
                }
            }
}

static void conf_s4_kernel(const conf_s4 *m, float *k)
{
    for (int64_t h = 0; h < m->h; h++)
        for (int64_t l = 0; l < m->l; l++) {
            double sum = 0.0;
            for (int64_t n = 0; n < m->modes; n++) {
                double complex an = m->a[h * m->modes + n], da = cexp(m->dt[h] * an);
                sum += 2.0 * creal(m->cc[h * m->modes + n] * (da - 1.0) / an *
                                   cexp(m->dt[h] * an * (double)l));
            }
            k[h * m->l + l] = (float)sum;
        }
}

static void conf_s4_sweep(conf_suite *s)
{
    const struct {
        int64_t b, h, modes, l;
    } cases[] = {
        {2, 4, 32, s->quick ? 256 : 1024},
        {1, 2, 32, s->quick ? 515 : 4099},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conf_rng r;
        conf_suite_rng(s, &r, "s4_recurrence", i);
        conf_case c;
        conf_case_init(&c, "s4_recurrence", "f32", CONF_VS_HOST);
        conf_s4 m = {cases[i].b, cases[i].h, cases[i].modes, cases[i].l, NULL, NULL, NULL, NULL};
        m.dt = malloc((size_t)m.h * sizeof *m.dt);
        m.a = malloc((size_t)(m.h * m.modes) * sizeof *m.a);
        m.cc = malloc((size_t)(m.h * m.modes) * sizeof *m.cc);
        m.want = malloc((size_t)(m.b * m.l * m.h) * sizeof *m.want);
        int64_t xs[3] = {m.b, m.l, m.h}, ks[2] = {m.h, m.l};
        conf_host *xh = conf_case_in(&c, 0, SSMRT_F32, 3, xs);
        conf_host *kh = conf_case_in(&c, 1, SSMRT_F32, 2, ks);
        if (!m.dt || !m.a || !m.cc || !m.want || !xh || !kh) {
            c.oom = 1;
        } else {
            /* S4D-Lin initialisation: A_n = -1/2 + i pi n, log dt uniform in
             * [log 0.001, log 0.1], C complex normal with variance 1/2. */
            for (int64_t h = 0; h < m.h; h++) {
                m.dt[h] = exp(conf_rng_uniform(&r, log(0.001), log(0.1)));
                for (int64_t n = 0; n < m.modes; n++) {
                    m.a[h * m.modes + n] = -0.5 + I * M_PI * (double)n;
                    m.cc[h * m.modes + n] = sqrt(0.5) * (conf_rng_normal(&r) + I * conf_rng_normal(&r));
                }
            }
            conf_rng_fill_normal(&r, xh->f, xh->n, 0.0, 1.0);
            conf_s4_kernel(&m, kh->f);
            conf_s4_recurrence(&m, xh->f);
            c.want[0] = m.want;
            c.want_n[0] = m.b * m.l * m.h;
            c.n_want = 1;
        }
        conf_case_name(&c, "S4D-Lin B=%lld H=%lld N=%lld (complex modes) L=%lld: conv_long == recurrence",
                       (long long)m.b, (long long)m.h, (long long)m.modes, (long long)m.l);
        /* The kernel is rounded to f32 per tap before the device sees it: another
         * l-term random walk of relative-u errors, as large as the summation's. */
        c.tol = 2.0 * conf_tol_conv_long(m.l);
        c.build = conf_build_conv_long;
        conf_suite_run(s, &c);
        conf_s4_free(&m);
    }
}

/* ===================================================================== */
/* Identity: chunked prefill == one-shot                                   */
/* ===================================================================== */

/* A Mamba-1 mixer core: conv1d (SiLU, state) feeding the selective scan (state),
 * run once over L and then in chunks of 1, 6, 17, 3, ... tokens, each chunk its own
 * graph, both states carried in guarded persistent tensors. */
enum { CONF_PF_CONV_W = CONF_SCAN_NSLOTS, CONF_PF_CONV_BIAS, CONF_PF_CONV_STATE };

typedef struct conf_prefill_params {
    conf_scan_dims d;
    conf_scan_opts o;
    int64_t w;
    const float *conv_init, *scan_init;
} conf_prefill_params;

/* Records conv + scan over tokens [t0, t0+len) into graph g. */
static void conf_prefill_chunk(conf_exec *x, ssmrt_tensor *const *in, const conf_prefill_params *p,
                               int64_t t0, int64_t len, int cs, int ss, int yb)
{
    ssmrt_graph *g = conf_exec_graph(x);
    if (!g)
        return;
    int64_t xshape[3] = {p->d.b, p->d.l, p->d.h}, ushape[4] = {p->d.b, len, p->d.h, 1};
    ssmrt_tensor *xx = ssmrt_graph_reshape(g, in[CONF_SCAN_U], 3, xshape);
    ssmrt_tensor *csv = conf_exec_guarded_view(x, cs), *ssv = conf_exec_guarded_view(x, ss);
    ssmrt_tensor *yc = ssmrt_graph_conv1d_causal(g, ssmrt_graph_slice(g, xx, 1, t0, len),
                                                 in[CONF_PF_CONV_W], in[CONF_PF_CONV_BIAS], 1, csv,
                                                 csv);
    ssmrt_tensor *step[CONF_SCAN_NSLOTS];
    for (int k = 0; k < CONF_SCAN_NSLOTS; k++) {
        int per_token = k == CONF_SCAN_DELTA || k == CONF_SCAN_B || k == CONF_SCAN_C ||
                        k == CONF_SCAN_Z;
        step[k] = in[k] && per_token && len != p->d.l ? ssmrt_graph_slice(g, in[k], 1, t0, len) : in[k];
    }
    step[CONF_SCAN_U] = ssmrt_graph_reshape(g, yc, 4, ushape);
    ssmrt_tensor *y = ssmrt_graph_selective_scan(
        g, step[CONF_SCAN_U], step[CONF_SCAN_DELTA], step[CONF_SCAN_A], step[CONF_SCAN_B],
        step[CONF_SCAN_C], step[CONF_SCAN_D], step[CONF_SCAN_Z], step[CONF_SCAN_DBIAS],
        p->o.softplus, ssv, ssv);
    ssmrt_graph_copy_into(g, y, ssmrt_graph_slice(g, conf_exec_guarded_view(x, yb), 1, t0, len));
}

static void conf_build_prefill(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_prefill_params *p = params;
    int64_t cshape[3] = {p->d.b, p->d.h, p->w - 1}, sshape[4], yshape[4] = {p->d.b, p->d.l, p->d.h, 1};
    conf_scan_state_shape(&p->d, sshape);
    static const int64_t chunks[] = {1, 6, 17, 3};
    for (int run = 0; run < 2; run++) {
        int cs = conf_exec_guarded(x, SSMRT_F32, 3, cshape, NULL, p->conv_init);
        int ss = conf_exec_guarded(x, SSMRT_F32, 4, sshape, NULL, p->scan_init);
        int yb = conf_exec_guarded(x, SSMRT_F32, 4, yshape, NULL, NULL);
        int64_t t = 0;
        for (int k = 0; t < p->d.l && conf_exec_ok(x); k++) {
            int64_t len = run == 0 ? p->d.l : chunks[k % 4];
            if (len > p->d.l - t)
                len = p->d.l - t;
            conf_prefill_chunk(x, in, p, t, len, cs, ss, yb);
            t += len;
            if (t == p->d.l) {
                conf_exec_output_guarded(x, yb);
                conf_exec_output_guarded(x, cs);
                conf_exec_output_guarded(x, ss);
            }
            conf_exec_compute(x);
        }
    }
}

static void conf_prefill_sweep(conf_suite *s)
{
    const conf_scan_dims d = {2, s->quick ? 24 : 61, 6, 1, 1, 8, 0};
    const conf_scan_opts o = {1, 1, 1, 1, 1, 1, 1, 0};
    const int64_t w = 4;
    conf_rng r;
    conf_suite_rng(s, &r, "prefill_chunked", 0);
    conf_case c;
    conf_case_init(&c, "prefill_chunked", "f32", CONF_DUT_PAIRS);
    conf_scan_fill(&r, &c, &d, &o);
    int64_t ws[2] = {d.h, w}, cs[3] = {d.b, d.h, w - 1};
    conf_host *wh = conf_case_in(&c, CONF_PF_CONV_W, SSMRT_F32, 2, ws);
    conf_host *bh = conf_case_in(&c, CONF_PF_CONV_BIAS, SSMRT_F32, 1, &d.h);
    conf_host *sh = conf_case_in(&c, CONF_PF_CONV_STATE, SSMRT_F32, 3, cs);
    if (wh && bh && sh) {
        conf_rng_fill_normal(&r, wh->f, wh->n, 0.0, 0.5);
        conf_rng_fill_normal(&r, bh->f, bh->n, 0.0, 0.5);
        conf_rng_fill_normal(&r, sh->f, sh->n, 0.0, 1.0);
    }
    char desc[160];
    conf_case_name(&c, "conv1d W=4 + %s: chunks 1, 6, 17, 3, ... == one shot",
                   conf_scan_describe(&d, &o, desc, sizeof desc));
    conf_prefill_params p = {d, o, w, sh ? sh->f : NULL,
                             c.in[CONF_SCAN_STATE] ? c.in[CONF_SCAN_STATE]->f : NULL};
    /* Each way is within conv1d + scan error of the exact result; the conv state
     * is a copy of inputs and must match exactly. */
    double t = 2.0 * (conf_tol_conv1d(w, 1) + conf_tol_scan(d.n, conf_scan_memory(&c, &d, &o), 1));
    c.tols[0] = t;
    c.tols[1] = conf_tol_exact();
    c.tols[2] = t;
    c.n_tols = 3;
    c.build = conf_build_prefill;
    c.params = &p;
    conf_suite_run(s, &c);
}

void conf_ops_conv(conf_suite *s)
{
    if (conf_suite_wants(s, "conv1d_causal"))
        conf_conv1d_sweep(s);
    if (conf_suite_wants(s, "conv_long"))
        conf_conv_long_sweep(s);
    if (conf_suite_wants(s, "prefill_chunked"))
        conf_prefill_sweep(s);
    if (conf_suite_wants(s, "s4_recurrence"))
        conf_s4_sweep(s);
}
