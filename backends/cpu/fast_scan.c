/*
 * fast_scan.c: f32 SELECTIVE_SCAN (Mamba-1 and Mamba-2 forms).
 *
 * Channels c = h * P + p are independent recurrences over time. A task is one
 * batch row and a run of CW consecutive channels; at a fixed time step those
 * channels are CW consecutive floats of u, z and y, so every cache line fetched
 * is used in full even though consecutive steps lie H*P floats apart. Threads
 * split the tasks.
 *
 * Within a task, time is cut into chunks of LC steps. Per chunk, vectorised
 * passes compute dt = softplus(delta + bias) for the heads of the task (and, for
 * Mamba-2's scalar A, dA = exp(dt * A[h]) once per head and step). The
 * recurrence then runs per step and channel with the state vector of N floats
 * in 8-lane vectors: Mamba-1 needs exp(dt * A[h, n]) for every state element,
 * which is the cost of the whole op, hence the vectorised exp. A last pass per
 * chunk adds D * u and applies the silu(z) gate, vectorised over the run.
 */
#include <stdlib.h>

#include "fast_kernels.h"
#include "fast_math.h"

#define CW 16 /* channels per task */
#define LC 64 /* time steps per chunk */

typedef struct scan_args {
    const float *u, *delta, *A, *Bm, *Cm, *Dskip, *z, *bias, *state_in;
    float *y, *state_out;
    cpu_scan_dims d;
    int softplus;
} scan_args;

/* dt (and dA for a per-head A) of heads [h0, h0 + nh) for steps [l0, l0 + lc). */
CPU_SIMD_CLONES
static void scan_dt_chunk(const scan_args *a, int64_t b, int64_t l0, int64_t lc, int64_t h0,
                          int64_t nh, float *dt, float *dA) {
    const cpu_scan_dims *d = &a->d;
    for (int64_t l = 0; l < lc; l++) {
        const float *del = a->delta + (b * d->L + l0 + l) * d->H + h0;
        float *o = dt + l * CW, *oa = dA + l * CW;
        for (int64_t j = 0; j < nh; j += 8) {
            float tmp[8] = {0}, bias[8] = {0}, Ah[8] = {0};
            int64_t n = nh - j < 8 ? nh - j : 8;
            for (int64_t k = 0; k < n; k++) {
                tmp[k] = del[j + k];
                if (a->bias) bias[k] = a->bias[h0 + j + k];
                if (d->a_per_head) Ah[k] = a->A[h0 + j + k];
            }
            v8f v = v8_load(tmp) + v8_load(bias);
            if (a->softplus) v = v8_softplus(v);
            v8f e = v8_exp(v * v8_load(Ah));
            for (int64_t k = 0; k < n; k++) {
                o[j + k] = v[k];
                oa[j + k] = e[k];
            }
        }
    }
}

/* The recurrence of channels [c0, c0 + cw) over steps [l0, l0 + lc); writes the
 * bare sum_n s*C of each step and channel to ys[l * CW + i]. */
CPU_SIMD_CLONES
static void scan_recur_chunk(const scan_args *a, int64_t b, int64_t l0, int64_t lc, int64_t c0,
                             int64_t cw, const float *dt, const float *dA, float *st, float *ys) {
    const cpu_scan_dims *d = &a->d;
    const int64_t N = d->N, Nv = N & ~(int64_t)7, HP = d->H * d->P, hpg = d->H / d->G;
    const int64_t h0 = c0 / d->P;
    for (int64_t l = 0; l < lc; l++) {
        int64_t t = b * d->L + l0 + l;
        const float *urow = a->u + t * HP + c0;
        if (l + 8 < lc) __builtin_prefetch(urow + 8 * HP);
        for (int64_t i = 0; i < cw; i++) {
            int64_t c = c0 + i, h = c / d->P, g = h / hpg;
            float dtv = dt[l * CW + (h - h0)], dtu = dtv * urow[i];
            const float *Bl = a->Bm + (t * d->G + g) * N, *Cl = a->Cm + (t * d->G + g) * N;
            float *s = st + i * N;
            v8f acc = v8_set1(0.0f), vdtu = v8_set1(dtu);
            float tail = 0.0f;
            if (d->a_per_head) {
                float e = dA[l * CW + (h - h0)];
                v8f ve = v8_set1(e);
                int64_t n = 0;
                for (; n < Nv; n += 8) {
                    v8f sv = ve * v8_load(s + n) + vdtu * v8_load(Bl + n);
                    v8_store(s + n, sv);
                    acc += sv * v8_load(Cl + n);
                }
                for (; n < N; n++) {
                    s[n] = e * s[n] + dtu * Bl[n];
                    tail += s[n] * Cl[n];
                }
            } else {
                const float *Ah = a->A + h * N;
                v8f vdt = v8_set1(dtv);
                int64_t n = 0;
                for (; n < Nv; n += 8) {
                    v8f sv = v8_exp(vdt * v8_load(Ah + n)) * v8_load(s + n) + vdtu * v8_load(Bl + n);
                    v8_store(s + n, sv);
                    acc += sv * v8_load(Cl + n);
                }
                for (; n < N; n++) {
                    s[n] = s_exp(dtv * Ah[n]) * s[n] + dtu * Bl[n];
                    tail += s[n] * Cl[n];
                }
            }
            ys[l * CW + i] = v8_hsum(acc) + tail;
        }
    }
}

/* y = (ys + D * u) * silu(z) for the chunk, vectorised over the channel run. */
CPU_SIMD_CLONES
static void scan_output_chunk(const scan_args *a, int64_t b, int64_t l0, int64_t lc, int64_t c0,
                              int64_t cw, const float *Dc, const float *ys) {
    const cpu_scan_dims *d = &a->d;
    const int64_t HP = d->H * d->P;
    for (int64_t l = 0; l < lc; l++) {
        int64_t off = (b * d->L + l0 + l) * HP + c0;
        float yv[CW], uv[CW] = {0}, zv[CW] = {0};
        for (int64_t i = 0; i < cw; i++) {
            uv[i] = a->u[off + i];
            if (a->z) zv[i] = a->z[off + i];
        }
        for (int i = 0; i < CW; i += 8) {
            v8f v = v8_load(ys + l * CW + i) + v8_load(Dc + i) * v8_load(uv + i);
            if (a->z) v *= v8_silu(v8_load(zv + i));
            v8_store(yv + i, v);
        }
        for (int64_t i = 0; i < cw; i++) a->y[off + i] = yv[i];
    }
}

static int scan_task(const scan_args *a, int64_t b, int64_t c0) {
    const cpu_scan_dims *d = &a->d;
    const int64_t HP = d->H * d->P, N = d->N;
    int64_t cw = HP - c0 < CW ? HP - c0 : CW;
    int64_t h0 = c0 / d->P, nh = (c0 + cw - 1) / d->P - h0 + 1;
    float *st = malloc(sizeof(float) * (size_t)(CW * N) + 4 * LC * CW * sizeof(float));
    if (!st) return SSMRT_ERR_OUT_OF_MEMORY;
    float *dt = st + CW * N, *dA = dt + LC * CW, *ys = dA + LC * CW, *Dc = ys + LC * CW;
    for (int64_t i = 0; i < CW; i++) Dc[i] = (i < cw && a->Dskip) ? a->Dskip[(c0 + i) / d->P] : 0.0f;
    for (int64_t i = 0; i < LC * CW; i++) ys[i] = 0.0f;
    /* State (b, h, p, :) of channel c sits at (b * HP + c) * N. */
    for (int64_t i = 0; i < cw; i++)
        for (int64_t n = 0; n < N; n++)
            st[i * N + n] = a->state_in ? a->state_in[(b * HP + c0 + i) * N + n] : 0.0f;
    for (int64_t l0 = 0; l0 < d->L; l0 += LC) {
        int64_t lc = d->L - l0 < LC ? d->L - l0 : LC;
        scan_dt_chunk(a, b, l0, lc, h0, nh, dt, dA);
        scan_recur_chunk(a, b, l0, lc, c0, cw, dt, dA, st, ys);
        scan_output_chunk(a, b, l0, lc, c0, cw, Dc, ys);
    }
    /* Written only after the whole sequence, so state_out may alias state_in:
     * no other task touches these channels. */
    if (a->state_out)
        for (int64_t i = 0; i < cw; i++)
            for (int64_t n = 0; n < N; n++) a->state_out[(b * HP + c0 + i) * N + n] = st[i * N + n];
    free(st);
    return 0;
}

int cpu_fast_selective_scan(const ssmrt_op *op) {
    scan_args a = {0};
    int rc = cpu_shape_scan(op, &a.d);
    if (!rc) rc = cpu_fast_require_contiguous(op);
    if (rc) return rc;
    const cpu_scan_dims *d = &a.d;
    a.u = cpu_desc_ptr(&op->src[SSMRT_SCAN_U]);
    a.delta = cpu_desc_ptr(&op->src[SSMRT_SCAN_DELTA]);
    a.A = cpu_desc_ptr(&op->src[SSMRT_SCAN_A]);
    a.Bm = cpu_desc_ptr(&op->src[SSMRT_SCAN_B]);
    a.Cm = cpu_desc_ptr(&op->src[SSMRT_SCAN_C]);
    a.Dskip = d->has_d ? cpu_desc_ptr(&op->src[SSMRT_SCAN_D]) : NULL;
    a.z = d->has_z ? cpu_desc_ptr(&op->src[SSMRT_SCAN_Z]) : NULL;
    a.bias = d->has_bias ? cpu_desc_ptr(&op->src[SSMRT_SCAN_DELTA_BIAS]) : NULL;
    a.state_in = d->has_state ? cpu_desc_ptr(&op->src[SSMRT_SCAN_STATE]) : NULL;
    a.y = cpu_desc_ptr(&op->dst[0]);
    a.state_out = d->has_state_out ? cpu_desc_ptr(&op->dst[1]) : NULL;
    a.softplus = op->params.scan.delta_softplus != 0;

    int64_t HP = d->H * d->P, per_b = (HP + CW - 1) / CW, tasks = d->B * per_b;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : failed) if (tasks > 1)
    for (int64_t t = 0; t < tasks; t++) failed |= scan_task(&a, t / per_b, (t % per_b) * CW) != 0;
    if (failed) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: selective_scan: out of memory");
    return 0;
}
