/* Conformance cases: selective_scan in both forms against the reference, and the
 * identity "token-by-token recurrence (L = 1 steps carrying the state) == parallel
 * scan" on the device alone. */
#include <stdio.h>
#include <string.h>

#include "conf_ssm.h"
#include "conf_tolerance.h"

typedef struct conf_scan_params {
    conf_scan_dims d;
    conf_scan_opts o;
    const float *state_init; /* for an in-place state */
} conf_scan_params;

static ssmrt_tensor *conf_scan_op(ssmrt_graph *g, ssmrt_tensor *const *in, const conf_scan_opts *o,
                                  ssmrt_tensor *state, ssmrt_tensor *state_out)
{
    return ssmrt_graph_selective_scan(g, in[CONF_SCAN_U], in[CONF_SCAN_DELTA], in[CONF_SCAN_A],
                                      in[CONF_SCAN_B], in[CONF_SCAN_C], in[CONF_SCAN_D],
                                      in[CONF_SCAN_Z], in[CONF_SCAN_DBIAS], o->softplus, state,
                                      state_out);
}

static void conf_build_scan(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_scan_params *p = params;
    ssmrt_graph *g = conf_exec_graph(x);
    int64_t sshape[4];
    conf_scan_state_shape(&p->d, sshape);
    ssmrt_tensor *state = p->o.state_in && !p->o.alias ? in[CONF_SCAN_STATE] : NULL;
    ssmrt_tensor *state_out = NULL;
    int id = -1;
    if (p->o.state_out) {
        id = conf_exec_guarded(x, SSMRT_F32, 4, sshape, NULL, p->o.alias ? p->state_init : NULL);
        state_out = conf_exec_guarded_view(x, id);
        if (p->o.alias)
            state = state_out;
    }
    int64_t yshape[4] = {p->d.b, p->d.l, p->d.h, p->d.p};
    conf_exec_arena_guard(x, conf_bytes(SSMRT_F32, 4, yshape));
    conf_exec_output(x, conf_scan_op(g, in, &p->o, state, state_out));
    if (id >= 0)
        conf_exec_output_guarded(x, id);
}

static void conf_scan_case(conf_suite *s, uint64_t index, const conf_scan_dims *d,
                           const conf_scan_opts *o)
{
    conf_rng r;
    conf_suite_rng(s, &r, "selective_scan", index);
    conf_case c;
    conf_case_init(&c, "selective_scan", "f32", CONF_VS_REFERENCE);
    conf_scan_fill(&r, &c, d, o);
    conf_scan_describe(d, o, c.name, sizeof c.name);
    conf_scan_params p = {*d, *o, c.in[CONF_SCAN_STATE] ? c.in[CONF_SCAN_STATE]->f : NULL};
    double leff = conf_scan_memory(&c, d, o);
    /* y and the final state carry the same accumulated error. */
    c.tol = conf_tol_scan(d->n, leff, o->z);
    c.build = conf_build_scan;
    c.params = &p;
    conf_suite_run(s, &c);
}

static void conf_scan_sweep(conf_suite *s)
{
    static const struct {
        conf_scan_dims d;
        conf_scan_opts o;
        int full_only;
    } cases[] = {
        /* Mamba-1 (P = 1, A [D, N]) */
        {{1, 1, 1, 1, 1, 1, 0}, {1, 1, 1, 1, 1, 1, 0, 0}, 1},
        {{1, 1, 37, 1, 1, 16, 0}, {1, 1, 1, 1, 1, 1, 1, 0}, 0},  /* decode step in place */
        {{2, 17, 5, 1, 1, 16, 0}, {1, 1, 1, 1, 0, 1, 0, 0}, 0},
        {{1, 3, 64, 1, 1, 16, 0}, {1, 1, 1, 1, 1, 0, 0, 0}, 0}, /* y: 192 elements */
        {{1, 64, 24, 1, 1, 16, 0}, {1, 0, 1, 1, 1, 0, 0, 0}, 0},
        {{3, 33, 10, 1, 2, 7, 0}, {1, 1, 0, 1, 1, 1, 0, 0}, 0}, /* two groups of B/C */
        {{2, 300, 64, 1, 1, 16, 0}, {1, 1, 1, 1, 0, 0, 0, 0}, 1},
        {{1, 2049, 16, 1, 1, 16, 0}, {1, 1, 1, 1, 1, 1, 0, 0}, 1},
        {{1, 2048, 8, 1, 1, 16, 0}, {1, 0, 1, 1, 0, 1, 0, 1}, 1}, /* dt ~ 0.002 */
        /* Mamba-2 (A [H], head dim P, grouped B/C) */
        {{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 0, 0}, 1},
        {{1, 1, 8, 16, 1, 16, 1}, {1, 0, 1, 1, 1, 1, 1, 0}, 0},  /* decode step in place */
        {{2, 33, 6, 5, 3, 16, 1}, {1, 1, 1, 1, 1, 1, 0, 0}, 0},
        {{1, 3, 4, 16, 1, 8, 1}, {1, 1, 1, 1, 0, 1, 0, 0}, 0},  /* y: 192 elements */
        {{2, 19, 4, 3, 4, 7, 1}, {0, 1, 0, 1, 0, 1, 0, 0}, 0},   /* G == H */
        {{1, 130, 8, 64, 2, 128, 1}, {1, 0, 1, 1, 0, 1, 0, 0}, 1}, /* mamba2-130m-like */
        {{1, 2048, 4, 8, 1, 16, 1}, {1, 1, 1, 1, 1, 1, 0, 0}, 1},
        {{1, 2048, 2, 4, 1, 16, 1}, {1, 0, 1, 1, 0, 1, 0, 1}, 1}, /* long memory */
        /* Mamba-1 again (appended, so the cases above keep their inputs): the
         * GPU kernels' Mamba-1 paths with half-width (N = 8) and padded (N = 12)
         * states, two groups, a state in and out, L past their segment edges. */
        {{2, 70, 12, 1, 2, 8, 0}, {1, 1, 1, 1, 1, 1, 0, 0}, 0},
        {{1, 45, 9, 1, 1, 12, 0}, {1, 1, 1, 1, 1, 1, 0, 0}, 0},
    };
    uint64_t index = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++, index++)
        if (!s->quick || !cases[i].full_only)
            conf_scan_case(s, index, &cases[i].d, &cases[i].o);

    /* Every combination of the optional inputs, in both forms, at a small size
     * (8 representative ones with --quick). */
    static const conf_scan_dims small[2] = {{2, 9, 3, 1, 1, 4, 0}, {1, 7, 4, 3, 2, 5, 1}};
    for (int form = 0; form < 2; form++) {
        for (unsigned bits = 0; bits < 64; bits++) {
            if (s->quick && bits % 9 != 0)
                continue;
            conf_scan_opts o = {bits & 1, (bits >> 1) & 1, (bits >> 2) & 1, (bits >> 3) & 1,
                                (bits >> 4) & 1, (bits >> 5) & 1, 0, 0};
            o.alias = o.state_in && o.state_out && (bits & 8);
            conf_scan_case(s, 1000 + (uint64_t)form * 64 + bits, &small[form], &o);
        }
    }
}

/* ===================================================================== */
/* Identity: token by token == parallel                                    */
/* ===================================================================== */

/* One graph with the whole sequence, then one graph of L single-token scans that
 * carry the state in a persistent (guarded) tensor, each step's y copied into a
 * slice of a guarded [B, L, H, P] buffer. Registers (y, final state) twice. */
static void conf_build_stepwise(conf_exec *x, ssmrt_tensor *const *in, const void *params)
{
    const conf_scan_params *p = params;
    int64_t sshape[4], yshape[4] = {p->d.b, p->d.l, p->d.h, p->d.p};
    conf_scan_state_shape(&p->d, sshape);
    const float *init = p->state_init;

    /* Parallel. */
    int full_state = conf_exec_guarded(x, SSMRT_F32, 4, sshape, NULL, init);
    ssmrt_graph *g = conf_exec_graph(x);
    ssmrt_tensor *sv = conf_exec_guarded_view(x, full_state);
    conf_exec_output(x, conf_scan_op(g, in, &p->o, sv, sv));
    conf_exec_output_guarded(x, full_state);
    if (conf_exec_compute(x) != SSMRT_OK)
        return;

    /* Token by token. */
    int step_state = conf_exec_guarded(x, SSMRT_F32, 4, sshape, NULL, init);
    int ybuf = conf_exec_guarded(x, SSMRT_F32, 4, yshape, NULL, NULL);
    g = conf_exec_graph(x);
    sv = conf_exec_guarded_view(x, step_state);
    ssmrt_tensor *yv = conf_exec_guarded_view(x, ybuf);
    for (int64_t t = 0; t < p->d.l && g; t++) {
        ssmrt_tensor *step[CONF_SCAN_NSLOTS];
        for (int k = 0; k < CONF_SCAN_NSLOTS; k++) {
            /* Per-token inputs are sliced along L (axis 1); parameters are not. */
            int per_token = k == CONF_SCAN_U || k == CONF_SCAN_DELTA || k == CONF_SCAN_B ||
                            k == CONF_SCAN_C || k == CONF_SCAN_Z;
            step[k] = in[k] && per_token ? ssmrt_graph_slice(g, in[k], 1, t, 1) : in[k];
        }
        ssmrt_tensor *y = conf_scan_op(g, step, &p->o, sv, sv);
        ssmrt_graph_copy_into(g, y, ssmrt_graph_slice(g, yv, 1, t, 1));
    }
    conf_exec_output_guarded(x, ybuf);
    conf_exec_output_guarded(x, step_state);
}

static void conf_stepwise_sweep(conf_suite *s)
{
    const struct {
        conf_scan_dims d;
        conf_scan_opts o;
    } cases[] = {
        {{2, s->quick ? 12 : 40, 6, 1, 1, 8, 0}, {1, 1, 1, 1, 1, 1, 1, 0}},
        {{1, s->quick ? 10 : 24, 4, 3, 2, 8, 1}, {1, 1, 1, 1, 1, 1, 1, 0}},
        {{3, s->quick ? 5 : 17, 5, 1, 1, 16, 0}, {0, 0, 0, 1, 1, 1, 1, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        conf_rng r;
        conf_suite_rng(s, &r, "scan_stepwise", i);
        conf_case c;
        conf_case_init(&c, "scan_stepwise", "f32", CONF_DUT_PAIRS);
        conf_scan_fill(&r, &c, &cases[i].d, &cases[i].o);
        char desc[160];
        conf_case_name(&c, "%s: L steps of L=1 == one scan",
                       conf_scan_describe(&cases[i].d, &cases[i].o, desc, sizeof desc));
        conf_scan_params p = {cases[i].d, cases[i].o,
                              c.in[CONF_SCAN_STATE] ? c.in[CONF_SCAN_STATE]->f : NULL};
        /* Both ways are within conf_tol_scan of the exact result. */
        c.tol = 2.0 * conf_tol_scan(cases[i].d.n, conf_scan_memory(&c, &cases[i].d, &cases[i].o),
                                    cases[i].o.z);
        c.build = conf_build_stepwise;
        c.params = &p;
        conf_suite_run(s, &c);
    }
}

void conf_ops_scan(conf_suite *s)
{
    if (conf_suite_wants(s, "selective_scan"))
        conf_scan_sweep(s);
    if (conf_suite_wants(s, "scan_stepwise"))
        conf_stepwise_sweep(s);
}
