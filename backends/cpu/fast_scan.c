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
 * recurrence then runs step by step with 8-lane vectors across the task's
 * channels when they share one group of B/C (the usual case), else across the
 * state dim per channel. Mamba-1 needs exp(dt * A[h, n]) for every state
 * element, which is the cost of the whole op, hence the vectorised exp. A last
 * pass per chunk adds D * u and applies the silu(z) gate, vectorised over the
 * run.
 */
#include <stdlib.h>

#include "fast_kernels.h"
#include "fast_math.h"
#include "fast_vc.h"

#define CW 16 /* channels per task */
#define LC 64 /* time steps per chunk */

typedef struct scan_args {
    const float *u, *delta, *A, *Bm, *Cm, *Dskip, *z, *bias, *state_in;
    float *y, *state_out;
    cpu_scan_dims d;
    int softplus;
} scan_args;

/* What a task knows about its channels, computed once so the time loops do no
 * index divisions. Arrays are padded to CW with zeros. */
typedef struct scan_task_info {
    int64_t b, c0, cw, h0, nh;
    int32_t hoff[CW];  /* head of channel i, minus h0 */
    int64_t boff[CW];  /* offset of channel i's group row within a B/C step: g * N */
    float hbias[CW];   /* delta_bias of head h0 + j */
    float hA[CW];      /* A[h0 + j] when A is per head */
    float Dc[CW];      /* Dskip of channel i */
} scan_task_info;

/* dt = softplus(delta + bias) (and dA = exp(dt * A[h]) for a per-head A) of the
 * task's heads for steps [l0, l0 + lc), into dt[l * CW + j] and dA[l * CW + j]. */
static void scan_dt_chunk(const scan_args *a, const scan_task_info *ti, int64_t l0, int64_t lc,
                          float *dt, float *dA) {
    const cpu_scan_dims *d = &a->d;
    for (int64_t l = 0; l < lc; l++) {
        const float *del = a->delta + (ti->b * d->L + l0 + l) * d->H + ti->h0;
        if (l + 8 < lc) __builtin_prefetch(del + 8 * d->H); /* steps lie H floats apart */
        for (int64_t j = 0; j < ti->nh; j += 8) {
            v8f v;
            if (j + 8 <= ti->nh) {
                v = v8_load(del + j);
            } else { /* last partial vector of heads */
                float tmp[8] = {0};
                for (int64_t k = 0; k < ti->nh - j; k++) tmp[k] = del[j + k];
                v = v8_load(tmp);
            }
            v += v8_load(ti->hbias + j);
            if (a->softplus) v = v8_softplus(v);
            v8_store(dt + l * CW + j, v);
            if (d->a_per_head) v8_store(dA + l * CW + j, v8_exp(v * v8_load(ti->hA + j)));
        }
    }
}

/* The recurrence of the task's channels over steps [l0, l0 + lc), vectorised
 * across the state dim n (any A form, any grouping); writes the bare
 * sum_n s*C of each step and channel to ys[l * CW + i]. State: st[i * N + n]. */
static void scan_recur_chunk(const scan_args *a, const scan_task_info *ti, int64_t l0, int64_t lc,
                             const float *dt, const float *dA, float *st, float *ys) {
    const cpu_scan_dims *d = &a->d;
    const int64_t N = d->N, Nv = N & ~(int64_t)7, HP = d->H * d->P;
    for (int64_t l = 0; l < lc; l++) {
        int64_t t = ti->b * d->L + l0 + l;
        const float *urow = a->u + t * HP + ti->c0;
        const float *Bt = a->Bm + t * d->G * N, *Ct = a->Cm + t * d->G * N;
        if (l + 8 < lc) __builtin_prefetch(urow + 8 * HP);
        for (int64_t i = 0; i < ti->cw; i++) {
            int64_t hj = ti->hoff[i];
            float dtv = dt[l * CW + hj], dtu = dtv * urow[i];
            const float *Bl = Bt + ti->boff[i], *Cl = Ct + ti->boff[i];
            float *s = st + i * N;
            v8f acc = v8_set1(0.0f), vdtu = v8_set1(dtu);
            float tail = 0.0f;
            if (d->a_per_head) {
                float e = dA[l * CW + hj];
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
                const float *Ah = a->A + (ti->h0 + hj) * N;
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

/* One state element n of the task's channels: s = decay * s + dt*u * B[n], and
 * acc += s * C[n]; decay is the per-head dA, or exp(dt * A[h, n]). */
#define CPU_VC_NV (CW / CPU_VC_WIDTH)
CPU_INLINE void scan_cv_update(float *s, float b, float c, const vcf *da, const vcf *du, vcf *acc) {
    vcf bn = vc_set1(b), cn = vc_set1(c);
    for (int k = 0; k < CPU_VC_NV; k++) {
        vcf sv = da[k] * vc_load(s + k * CPU_VC_WIDTH) + du[k] * bn;
        vc_store(s + k * CPU_VC_WIDTH, sv);
        acc[k] += sv * cn;
    }
}
CPU_INLINE void scan_cv_update_exp(float *s, const float *An, float b, float c, const vcf *dt,
                                   const vcf *du, vcf *acc) {
    vcf bn = vc_set1(b), cn = vc_set1(c);
    for (int k = 0; k < CPU_VC_NV; k++) {
        vcf decay = vc_exp_decay(dt[k] * vc_load(An + k * CPU_VC_WIDTH));
        vcf sv = decay * vc_load(s + k * CPU_VC_WIDTH) + du[k] * bn;
        vc_store(s + k * CPU_VC_WIDTH, sv);
        acc[k] += sv * cn;
    }
}

/* The same recurrence vectorised across channels instead, when all channels of
 * the task share one group (always for Mamba-1 with G = 1, and for Mamba-2
 * tasks, which lie within a head): B and C are then broadcast scalars and there
 * are no horizontal sums. State st[n * CW + i]; dtc[l * CW + i] is the dt of
 * channel i (zero past cw, which keeps those lanes' states at 0). For A per
 * (h, n), At[n * CW + i] = A[h(i), n] and each step costs N * CW/8 vector exps;
 * for A per head, dAc[l * CW + i] holds exp(dt * A[h(i)]) and the step is
 * multiply-adds only. */
static void scan_recur_chunk_cv(const scan_args *a, const scan_task_info *ti, int64_t l0,
                                int64_t lc, const float *dtc, const float *dAc, const float *At,
                                float *st, float *ys) {
    enum { NV = CPU_VC_NV }; /* channel vectors per task */
    const cpu_scan_dims *d = &a->d;
    const int64_t N = d->N, HP = d->H * d->P;
    for (int64_t l = 0; l < lc; l++) {
        int64_t t = ti->b * d->L + l0 + l;
        const float *urow = a->u + t * HP + ti->c0;
        if (l + 8 < lc) __builtin_prefetch(urow + 8 * HP);
        float uv[CW] = {0};
        if (ti->cw < CW) /* a short last run: pad with zeros */
            for (int64_t i = 0; i < ti->cw; i++) uv[i] = urow[i];
        const float *us = ti->cw == CW ? urow : uv;
        const float *Bl = a->Bm + t * d->G * N + ti->boff[0], *Cl = a->Cm + t * d->G * N + ti->boff[0];
        vcf dtv[NV], du[NV], da[NV], a0[NV], a1[NV], a2[NV], a3[NV];
        for (int k = 0; k < NV; k++) {
            dtv[k] = vc_load(dtc + l * CW + k * CPU_VC_WIDTH);
            du[k] = dtv[k] * vc_load(us + k * CPU_VC_WIDTH);
            da[k] = d->a_per_head ? vc_load(dAc + l * CW + k * CPU_VC_WIDTH) : vc_set1(0.0f);
            a0[k] = a1[k] = a2[k] = a3[k] = vc_set1(0.0f);
        }
        /* Four partial sums over n: one chain of dependent adds would hold the
         * Mamba-2 loop (no exp to hide it) to one FMA latency per n. */
        int64_t n = 0;
        if (d->a_per_head) {
            for (; n + 4 <= N; n += 4) {
                scan_cv_update(st + n * CW, Bl[n], Cl[n], da, du, a0);
                scan_cv_update(st + (n + 1) * CW, Bl[n + 1], Cl[n + 1], da, du, a1);
                scan_cv_update(st + (n + 2) * CW, Bl[n + 2], Cl[n + 2], da, du, a2);
                scan_cv_update(st + (n + 3) * CW, Bl[n + 3], Cl[n + 3], da, du, a3);
            }
            for (; n < N; n++) scan_cv_update(st + n * CW, Bl[n], Cl[n], da, du, a0);
        } else {
            for (; n + 2 <= N; n += 2) {
                scan_cv_update_exp(st + n * CW, At + n * CW, Bl[n], Cl[n], dtv, du, a0);
                scan_cv_update_exp(st + (n + 1) * CW, At + (n + 1) * CW, Bl[n + 1], Cl[n + 1], dtv, du, a1);
            }
            for (; n < N; n++) scan_cv_update_exp(st + n * CW, At + n * CW, Bl[n], Cl[n], dtv, du, a0);
        }
        for (int k = 0; k < NV; k++) a0[k] = (a0[k] + a1[k]) + (a2[k] + a3[k]);
        for (int k = 0; k < NV; k++) vc_store(ys + l * CW + k * CPU_VC_WIDTH, a0[k]);
    }
}

/* y = (ys + D * u) * silu(z) for the chunk, vectorised over the channel run. */
static void scan_output_chunk(const scan_args *a, const scan_task_info *ti, int64_t l0, int64_t lc,
                              const float *ys) {
    const cpu_scan_dims *d = &a->d;
    const int64_t HP = d->H * d->P;
    for (int64_t l = 0; l < lc; l++) {
        int64_t off = (ti->b * d->L + l0 + l) * HP + ti->c0;
        if (a->z && l + 8 < lc) __builtin_prefetch(a->z + off + 8 * HP);
        if (ti->cw == CW) {
            for (int i = 0; i < CW; i += 8) {
                v8f v = v8_load(ys + l * CW + i) + v8_load(ti->Dc + i) * v8_load(a->u + off + i);
                if (a->z) v *= v8_silu(v8_load(a->z + off + i));
                v8_store(a->y + off + i, v);
            }
        } else {
            for (int64_t i = 0; i < ti->cw; i++) {
                float v = ys[l * CW + i] + ti->Dc[i] * a->u[off + i];
                a->y[off + i] = a->z ? v * s_silu(a->z[off + i]) : v;
            }
        }
    }
}

static int scan_task(const scan_args *a, int64_t b, int64_t c0) {
    const cpu_scan_dims *d = &a->d;
    const int64_t HP = d->H * d->P, N = d->N, hpg = d->H / d->G;
    scan_task_info ti = {0};
    ti.b = b;
    ti.c0 = c0;
    ti.cw = HP - c0 < CW ? HP - c0 : CW;
    ti.h0 = c0 / d->P;
    ti.nh = (c0 + ti.cw - 1) / d->P - ti.h0 + 1;
    for (int64_t i = 0; i < ti.cw; i++) {
        int64_t h = (c0 + i) / d->P;
        ti.hoff[i] = (int32_t)(h - ti.h0);
        ti.boff[i] = (h / hpg) * N;
        ti.Dc[i] = a->Dskip ? a->Dskip[h] : 0.0f;
    }
    for (int64_t j = 0; j < ti.nh; j++) {
        ti.hbias[j] = a->bias ? a->bias[ti.h0 + j] : 0.0f;
        ti.hA[j] = d->a_per_head ? a->A[ti.h0 + j] : 0.0f;
    }
    /* Channels within one group: vectorise across channels. */
    int cv = ti.boff[ti.cw - 1] == ti.boff[0];
    float *st = malloc(sizeof(float) * (size_t)(2 * CW * N + 5 * LC * CW));
    if (!st) return SSMRT_ERR_OUT_OF_MEMORY;
    float *At = st + CW * N, *dt = At + CW * N, *dA = dt + LC * CW, *ys = dA + LC * CW;
    float *dtx = ys + LC * CW, *dAx = dtx + LC * CW; /* dt, dA expanded per channel */
    for (int64_t i = 0; i < LC * CW; i++) dt[i] = dA[i] = ys[i] = dtx[i] = dAx[i] = 0.0f;
    /* State (b, h, p, :) of channel c sits at (b * HP + c) * N. */
    for (int64_t i = 0; i < CW; i++)
        for (int64_t n = 0; n < N; n++) {
            float v = i < ti.cw && a->state_in ? a->state_in[(b * HP + c0 + i) * N + n] : 0.0f;
            st[cv ? n * CW + i : i * N + n] = v;
            if (cv && !d->a_per_head)
                At[n * CW + i] = i < ti.cw ? a->A[(ti.h0 + ti.hoff[i]) * N + n] : 0.0f;
        }
    for (int64_t l0 = 0; l0 < d->L; l0 += LC) {
        int64_t lc = d->L - l0 < LC ? d->L - l0 : LC;
        scan_dt_chunk(a, &ti, l0, lc, dt, dA);
        if (cv) {
            const float *dtc = dt, *dAc = dA;
            if (d->P != 1 || ti.cw != CW) { /* else channel i is head h0 + i already */
                for (int64_t l = 0; l < lc; l++)
                    for (int64_t i = 0; i < ti.cw; i++) {
                        dtx[l * CW + i] = dt[l * CW + ti.hoff[i]];
                        dAx[l * CW + i] = dA[l * CW + ti.hoff[i]];
                    }
                dtc = dtx;
                dAc = dAx;
            }
            scan_recur_chunk_cv(a, &ti, l0, lc, dtc, dAc, At, st, ys);
        } else {
            scan_recur_chunk(a, &ti, l0, lc, dt, dA, st, ys);
        }
        scan_output_chunk(a, &ti, l0, lc, ys);
    }
    /* Written only after the whole sequence, so state_out may alias state_in:
     * no other task touches these channels. */
    if (a->state_out)
        for (int64_t i = 0; i < ti.cw; i++)
            for (int64_t n = 0; n < N; n++)
                a->state_out[(b * HP + c0 + i) * N + n] = st[cv ? n * CW + i : i * N + n];
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
    /* A decode step (L = 1) is well under a millisecond on one thread; a thread
     * team could cost more than that when the machine is busy and the second
     * thread waits for a time slice before it reaches the closing barrier. */
    int64_t work = d->B * d->L * HP * d->N;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : failed) if (tasks > 1 && work >= (1 << 20))
    for (int64_t t = 0; t < tasks; t++) failed |= scan_task(&a, t / per_b, (t % per_b) * CW) != 0;
    if (failed) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: selective_scan: out of memory");
    return 0;
}
