/* Selective scan, Mamba-1 and Mamba-2 forms, against a float64 recurrence:
 * optional inputs present and absent, state in/out (aliased), single and multiple
 * chunks, and the identity "two halves with the state carried = one pass". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct scan_case {
    int64_t B, L, H, P, G, N;
    int a_scalar, with_d, with_z, with_bias, softplus, with_state;
} scan_case;

/* Float64 reference; state is [B, H, P, N] in/out (may be NULL). */
static void ref_scan(const scan_case *c, const float *u, const float *delta, const float *A,
                     const float *Bm, const float *Cm, const float *D, const float *z,
                     const float *db, double *state, double *y)
{
    int64_t HP = c->H * c->P;
    for (int64_t b = 0; b < c->B; b++)
        for (int64_t h = 0; h < c->H; h++)
            for (int64_t p = 0; p < c->P; p++) {
                int64_t ch = h * c->P + p, g = h / (c->H / c->G);
                double *s = state + (b * HP + ch) * c->N;
                for (int64_t l = 0; l < c->L; l++) {
                    int64_t row = b * c->L + l;
                    double dt = delta[row * c->H + h] + (db ? db[h] : 0);
                    if (c->softplus)
                        dt = dt > 20 ? dt : log1p(exp(dt));
                    double uv = u[row * HP + ch], acc = 0;
                    for (int64_t n = 0; n < c->N; n++) {
                        double a = c->a_scalar ? A[h] : A[h * c->N + n];
                        int64_t bi = (row * c->G + g) * c->N + n;
                        s[n] = exp(dt * a) * s[n] + dt * Bm[bi] * uv;
                        acc += s[n] * Cm[bi];
                    }
                    double yv = acc + (D ? D[h] * uv : 0);
                    if (z) {
                        double zv = z[row * HP + ch];
                        yv *= zv / (1 + exp(-zv));
                    }
                    y[row * HP + ch] = yv;
                }
            }
}

static float *rnd(int64_t n, float lo, float hi)
{
    float *x = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    t_rand(x, n, lo, hi);
    return x;
}

/* Runs the op on steps [l0, l0+len) of the full inputs with the device state. */
static int run_scan(const scan_case *c, int64_t l0, int64_t len, float *const in[8],
                    t_tensor *state, float *y_out)
{
    int64_t HP = c->H * c->P;
    int64_t us[4] = {c->B, len, c->H, c->P}, ds[3] = {c->B, len, c->H};
    int64_t as[2] = {c->H, c->N}, bs[4] = {c->B, len, c->G, c->N}, hs[1] = {c->H};
    /* Slice the time range out of the full host arrays. */
    size_t nu = (size_t)(c->B * len * HP), nd = (size_t)(c->B * len * c->H);
    size_t nbc = (size_t)(c->B * len * c->G * c->N);
    float *u = malloc(4 * nu + 4), *dl = malloc(4 * nd + 4), *z = malloc(4 * nu + 4);
    float *Bm = malloc(4 * nbc + 4), *Cm = malloc(4 * nbc + 4);
    for (int64_t b = 0; b < c->B; b++)
        for (int64_t l = 0; l < len; l++) {
            int64_t src = b * c->L + l0 + l, dst = b * len + l;
            memcpy(u + dst * HP, in[0] + src * HP, sizeof(float) * HP);
            memcpy(z + dst * HP, in[6] + src * HP, sizeof(float) * HP);
            memcpy(dl + dst * c->H, in[1] + src * c->H, sizeof(float) * c->H);
            memcpy(Bm + dst * c->G * c->N, in[3] + src * c->G * c->N, sizeof(float) * c->G * c->N);
            memcpy(Cm + dst * c->G * c->N, in[4] + src * c->G * c->N, sizeof(float) * c->G * c->N);
        }
    t_tensor tu = t_make(SSMRT_F32, 4, us, u), td = t_make(SSMRT_F32, 3, ds, dl);
    t_tensor ta = t_make(SSMRT_F32, c->a_scalar ? 1 : 2, as, in[2]);
    t_tensor tb = t_make(SSMRT_F32, 4, bs, Bm), tc = t_make(SSMRT_F32, 4, bs, Cm);
    t_tensor tD = t_make(SSMRT_F32, 1, hs, in[5]), tz = t_make(SSMRT_F32, 4, us, z);
    t_tensor tdb = t_make(SSMRT_F32, 1, hs, in[7]), ty = t_make(SSMRT_F32, 4, us, NULL);
    const t_tensor *src[9] = {&tu, &td, &ta, &tb, &tc, c->with_d ? &tD : NULL,
                              c->with_z ? &tz : NULL, c->with_bias ? &tdb : NULL, state};
    const t_tensor *dst[2] = {&ty, state};
    ssmrt_op op = t_op(SSMRT_OP_SELECTIVE_SCAN, 9, src, state ? 2 : 1, dst);
    op.params.scan.delta_softplus = c->softplus;
    int st = t_run(&op);
    if (st == 0)
        t_read(&ty, y_out);
    t_free(&tu); t_free(&td); t_free(&ta); t_free(&tb); t_free(&tc);
    t_free(&tD); t_free(&tz); t_free(&tdb); t_free(&ty);
    free(u); free(dl); free(Bm); free(Cm); free(z);
    return st;
}

static void check_case(const scan_case *c)
{
    int64_t HP = c->H * c->P, NY = c->B * c->L * HP, NS = c->B * HP * c->N;
    float *in[8];
    in[0] = rnd(NY, -1, 1);                                  /* u */
    in[1] = rnd(c->B * c->L * c->H, c->softplus ? -3 : 0.01f, c->softplus ? 1 : 0.3f);
    in[2] = rnd(c->a_scalar ? c->H : c->H * c->N, -2, -0.05f); /* A < 0: decaying */
    in[3] = rnd(c->B * c->L * c->G * c->N, -1, 1);
    in[4] = rnd(c->B * c->L * c->G * c->N, -1, 1);
    in[5] = rnd(c->H, -1, 1);
    in[6] = rnd(NY, -2, 2);
    in[7] = rnd(c->H, -0.5f, 0.5f);
    float *s0 = rnd(NS, -1, 1);
    double *state = malloc(sizeof(double) * NS), *ref = malloc(sizeof(double) * NY);
    float *got = malloc(sizeof(float) * NY), *got_state = malloc(sizeof(float) * NS);
    for (int64_t i = 0; i < NS; i++)
        state[i] = c->with_state ? s0[i] : 0;
    ref_scan(c, in[0], in[1], in[2], in[3], in[4], c->with_d ? in[5] : NULL,
             c->with_z ? in[6] : NULL, c->with_bias ? in[7] : NULL, state, ref);

    int64_t ss[4] = {c->B, c->H, c->P, c->N};
    t_tensor tst = t_make(SSMRT_F32, 4, ss, c->with_state ? s0 : NULL);
    /* One pass, then the same in two pieces with the state carried. */
    for (int pieces = 1; pieces <= 2; pieces++) {
        if (pieces == 2) {
            T_vt->buffer_upload(T_dev, tst.buf, 0, s0, sizeof(float) * NS);
            if (!c->with_state)
                T_vt->buffer_fill_zero(T_dev, tst.buf, 0, sizeof(float) * NS);
        }
        int64_t cut = pieces == 1 ? c->L : c->L / 3 + 1;
        float *gy = got;
        int st = run_scan(c, 0, cut, in, c->with_state || pieces == 2 ? &tst : NULL, gy);
        float *tmp = malloc(sizeof(float) * (NY + 1));
        if (st == 0 && cut < c->L) {
            st = run_scan(c, cut, c->L - cut, in, &tst, tmp);
            /* Interleave back: [B, L, HP] from two time ranges. */
            float *first = malloc(sizeof(float) * (NY + 1));
            memcpy(first, got, sizeof(float) * c->B * cut * HP);
            for (int64_t b = 0; b < c->B; b++) {
                memcpy(got + (b * c->L) * HP, first + b * cut * HP, sizeof(float) * cut * HP);
                memcpy(got + (b * c->L + cut) * HP, tmp + b * (c->L - cut) * HP,
                       sizeof(float) * (c->L - cut) * HP);
            }
            free(first);
        }
        free(tmp);
        CHECK(st == 0, "scan: %s", T_last_error);
        /* Each step adds f32 rounding of O(N) terms to a state that decays; 1e-4
         * relative to the output scale (~sqrt(N)) covers it with margin. */
        double e = t_err(got, ref, NY, 2e-4 * sqrt((double)c->N), 1e-4);
        CHECK(e <= 1,
              "scan B=%lld L=%lld H=%lld P=%lld G=%lld N=%lld scalarA=%d D=%d z=%d bias=%d sp=%d "
              "state=%d pieces=%d: y error %g",
              (long long)c->B, (long long)c->L, (long long)c->H, (long long)c->P, (long long)c->G,
              (long long)c->N, c->a_scalar, c->with_d, c->with_z, c->with_bias, c->softplus,
              c->with_state, pieces, e);
        if (c->with_state || pieces == 2) {
            t_read(&tst, got_state);
            e = t_err(got_state, state, NS, 2e-4, 1e-4);
            CHECK(e <= 1, "scan N=%lld L=%lld pieces=%d: state error %g", (long long)c->N,
                  (long long)c->L, pieces, e);
        }
    }
    t_free(&tst);
    for (int i = 0; i < 8; i++)
        free(in[i]);
    free(s0); free(state); free(ref); free(got); free(got_state);
}

void test_scan(void)
{
    const scan_case cases[] = {
        /* B  L    H   P  G  N  aS D  z  bias sp state */
        {1, 1, 5, 1, 1, 16, 0, 1, 1, 1, 1, 1},    /* decode */
        {2, 37, 7, 1, 1, 5, 0, 1, 0, 0, 1, 0},    /* odd N */
        {1, 300, 24, 1, 1, 16, 0, 1, 1, 1, 1, 1}, /* several chunks */
        {2, 130, 3, 1, 1, 1, 0, 0, 0, 0, 0, 1},   /* N = 1 */
        {1, 200, 4, 6, 2, 40, 1, 1, 1, 1, 1, 1},  /* Mamba-2: heads, groups, N > 16 */
        {2, 70, 6, 3, 3, 16, 1, 1, 0, 1, 1, 0},   /* Mamba-2, N = 16 */
        {1, 1000, 2, 1, 1, 16, 0, 1, 1, 1, 1, 1}, /* long */
        /* Each state-size layout of scan_runs.cl, block-unaligned L, channel
         * tiles cut by the group boundary, and N beyond it (the chunked path). */
        {2, 45, 9, 1, 1, 2, 0, 1, 1, 1, 1, 1},    /* N = 2 */
        {1, 77, 5, 1, 1, 17, 0, 1, 1, 0, 1, 0},   /* N = 17 */
        {1, 150, 3, 4, 3, 64, 1, 1, 1, 1, 1, 1},  /* Mamba-2 N = 64, G = 3 */
        {1, 90, 2, 3, 1, 128, 0, 1, 0, 1, 1, 1},  /* N = 128 */
        {1, 70, 3, 8, 1, 128, 1, 1, 1, 1, 1, 1},  /* Mamba-2 N = 128 */
        {1, 100, 3, 1, 1, 200, 0, 1, 1, 1, 1, 1}, /* N = 200: three passes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
}
