/* SSMRT_OP_SELECTIVE_SCAN. Prefill (L > SCAN_SHORT_L) with N <= 128 is one launch
 * of kernels/scan_runs.cl (ops_scan_runs.c). Otherwise kernels/scan.cl: decode
 * and short L are its pass 3 alone (one chunk, no barrier, no scratch); longer L
 * with larger N, or on a device the runs kernel does not fit, chunks time and runs
 * pass 1-2-3 through the device scratch.
 *
 * Nothing here costs more than argument setting per call: no buffer or
 * sub-buffer is created (the chunk carries live at fixed offsets of the scratch,
 * which grows once), the device facts come from device open, and nothing waits. */
#include <stdio.h>

#include "ops_scan.h"

/* Up to this many steps, one work-item per (channel, state slice) walking all the
 * steps beats staging blocks of steps through local memory. */
#define SCAN_SHORT_L 16

static int scan_shapes(const ssmrt_op *op, scan_shape *s)
{
    const ssmrt_tensor_desc *u = &op->src[SSMRT_SCAN_U], *delta = &op->src[SSMRT_SCAN_DELTA];
    const ssmrt_tensor_desc *A = &op->src[SSMRT_SCAN_A], *Bm = &op->src[SSMRT_SCAN_B];
    const ssmrt_tensor_desc *Cm = &op->src[SSMRT_SCAN_C], *y = &op->dst[0];
    if (op->n_src < SSMRT_SCAN_C + 1 || delta->ndim != 3 || Bm->ndim != 4)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE,
                              "selective_scan: delta must be [B, L, H] and Bm [B, L, G, N]");
    s->B = delta->shape[0];
    s->L = delta->shape[1];
    s->H = delta->shape[2];
    s->G = Bm->shape[2];
    s->N = Bm->shape[3];
    int64_t BLH = s->B * s->L * s->H;
    s->P = BLH > 0 ? ssmrt_ocl_numel(u) / BLH : 1;
    if (s->H <= 0 || s->G <= 0 || s->N <= 0 || s->P <= 0 || s->H % s->G != 0)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "selective_scan: H=%lld, G=%lld, N=%lld, P=%lld",
                              (long long)s->H, (long long)s->G, (long long)s->N,
                              (long long)s->P);
    if (ssmrt_ocl_numel(u) != BLH * s->P || ssmrt_ocl_numel(y) != BLH * s->P ||
        Bm->shape[0] != s->B || Bm->shape[1] != s->L || ssmrt_ocl_numel(Cm) != ssmrt_ocl_numel(Bm))
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "selective_scan: u, y, Bm, Cm do not fit delta");
    /* [H, N] (Mamba-1, ndim 2) or [H] (Mamba-2, ndim 1). */
    s->a_scalar = A->ndim == 1;
    if (ssmrt_ocl_numel(A) != (s->a_scalar ? s->H : s->H * s->N))
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "selective_scan: A has %lld elements, not %s",
                              (long long)ssmrt_ocl_numel(A), s->a_scalar ? "H" : "H*N");
    if (s->H * s->P > INT32_MAX || s->N > 65536 || s->L > INT32_MAX)
        return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "selective_scan: sizes beyond the kernel's range");
    return SSMRT_OK;
}

/* How one scan is cut up. */
typedef struct scan_plan {
    scan_shape s;
    int ns, nsl, chw;        /* states per work-item, slices per channel, channels per group */
    size_t local;            /* chw * nsl */
    int64_t T, nchunks;      /* chunk length and count */
    char defs[96];           /* program variant */
} scan_plan;

static int scan_make_plan(ssmrt_ocl_device *dev, const ssmrt_op *op, scan_plan *p,
                          ssmrt_ocl_kernel **kout)
{
    /* States per work-item: all of them up to 16 (no cross-item sum), else 16. */
    p->ns = 1;
    while (p->ns < p->s.N && p->ns < 16)
        p->ns *= 2;
    p->nsl = (int)((p->s.N + p->ns - 1) / p->ns);
    /* float4 loads of B and C rows need every row start 16-byte aligned. */
    int vec4 = p->ns % 4 == 0 && p->s.N % 4 == 0 && op->src[SSMRT_SCAN_B].offset % 16 == 0 &&
               op->src[SSMRT_SCAN_C].offset % 16 == 0;
    snprintf(p->defs, sizeof p->defs, "-DNS=%d -DA_SCALAR=%d -DMULTI=%d -DVEC4=%d", p->ns,
             p->s.a_scalar, p->nsl > 1, vec4);
    *kout = ssmrt_ocl_kernel_get(dev, "scan", p->defs, "scan_output");
    if (!*kout)
        return SSMRT_ERR_BACKEND;
    size_t wg = ssmrt_ocl_wg_size(*kout, 128);
    if ((size_t)p->nsl > wg)
        return ssmrt_ocl_fail(SSMRT_ERR_UNSUPPORTED,
                              "selective_scan: N = %lld needs %d work-items per channel, the "
                              "device groups at most %zu",
                              (long long)p->s.N, p->nsl, wg);
    int64_t HP = p->s.H * p->s.P;
    p->chw = (int)(wg / (size_t)p->nsl);
    if ((int64_t)p->chw > HP)
        p->chw = (int)HP;
    p->local = (size_t)p->chw * (size_t)p->nsl;

    /* Enough chunks to fill the device (about 1024 work-items per compute unit), but
     * at least 16 steps each: shorter chunks let pass 2 and the scratch dominate. */
    int64_t cus = dev->compute_units;
    int64_t items = p->s.B * HP * p->nsl;
    int64_t want = ((int64_t)cus * 1024 + items - 1) / items;
    /* At most 4096 chunks: pass 2 walks them in sequence, and some drivers cap the
     * group count of the second and third NDRange dimensions at 65535. */
    int64_t max_chunks = p->s.L / 16 > 0 ? p->s.L / 16 : 1;
    if (max_chunks > 4096)
        max_chunks = 4096;
    int64_t n = want < 1 ? 1 : want > max_chunks ? max_chunks : want;
    p->T = (p->s.L + n - 1) / n;
    p->nchunks = (p->s.L + p->T - 1) / p->T;
    return SSMRT_OK;
}

/* The sizes pass 1 and pass 3 take last (SCAN_DIM_ARGS in scan.cl). */
static void scan_dim_args(ssmrt_ocl_args *a, const scan_plan *p, int softplus)
{
    ssmrt_ocl_arg_i64(a, p->s.B);
    ssmrt_ocl_arg_i64(a, p->s.L);
    ssmrt_ocl_arg_i32(a, (int32_t)p->s.H);
    ssmrt_ocl_arg_i32(a, (int32_t)p->s.P);
    ssmrt_ocl_arg_i32(a, (int32_t)p->s.G);
    ssmrt_ocl_arg_i32(a, (int32_t)p->s.N);
    ssmrt_ocl_arg_i32(a, p->nsl);
    ssmrt_ocl_arg_i32(a, p->chw);
    ssmrt_ocl_arg_i32(a, (int32_t)p->T);
    ssmrt_ocl_arg_i32(a, (int32_t)p->nchunks);
    ssmrt_ocl_arg_i32(a, softplus);
}

/* The scratch holds the carries, floats [B][nchunks][HP][N], then the chunks' sums
 * of dt [B][nchunks][HP] from float *dt_at. The kernels take the one buffer and
 * the offset: a sub-buffer per call would be a driver object created and
 * destroyed for every scan. */
static int scan_scratch(ssmrt_ocl_device *dev, const scan_plan *p, int64_t *dt_at)
{
    int64_t HP = p->s.H * p->s.P;
    int64_t carry_floats = p->s.B * p->nchunks * HP * p->s.N;
    *dt_at = (carry_floats + 31) / 32 * 32; /* 128-byte aligned */
    return ssmrt_ocl_scratch(dev, (size_t)(*dt_at + p->s.B * p->nchunks * HP) * sizeof(float));
}

static const ssmrt_tensor_desc scan_absent;

const ssmrt_tensor_desc *ssmrt_ocl_scan_src(const ssmrt_op *op, uint32_t i)
{
    return op->n_src > i ? &op->src[i] : &scan_absent;
}

/* Passes 1 and 2: each chunk's start state into carry. */
static int scan_carries(ssmrt_ocl_device *dev, const ssmrt_op *op, const scan_plan *p,
                        int64_t dt_at, const size_t *global3, const size_t *local3)
{
    ssmrt_ocl_kernel *k1 = ssmrt_ocl_kernel_get(dev, "scan", p->defs, "scan_chunk_state");
    ssmrt_ocl_kernel *k2 = ssmrt_ocl_kernel_get(dev, "scan", p->defs, "scan_carry");
    if (!k1 || !k2)
        return SSMRT_ERR_BACKEND;
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k1);
    ssmrt_ocl_arg_tensor(&a, ssmrt_ocl_scan_src(op, SSMRT_SCAN_U));
    ssmrt_ocl_arg_tensor(&a, ssmrt_ocl_scan_src(op, SSMRT_SCAN_DELTA));
    ssmrt_ocl_arg_tensor(&a, ssmrt_ocl_scan_src(op, SSMRT_SCAN_A));
    ssmrt_ocl_arg_tensor(&a, ssmrt_ocl_scan_src(op, SSMRT_SCAN_B));
    ssmrt_ocl_arg_tensor(&a, ssmrt_ocl_scan_src(op, SSMRT_SCAN_DELTA_BIAS));
    ssmrt_ocl_arg_mem(&a, dev->scratch);
    ssmrt_ocl_arg_i64(&a, dt_at);
    scan_dim_args(&a, p, op->params.scan.delta_softplus);
    size_t g1[3] = {global3[0], global3[1], (size_t)(p->nchunks - 1)}; /* not the last */
    int st = ssmrt_ocl_launch(dev, &a, 3, g1, local3, NULL);
    if (st != SSMRT_OK)
        return st;

    int64_t HP = p->s.H * p->s.P;
    ssmrt_ocl_args_begin(&a, k2);
    ssmrt_ocl_arg_tensor(&a, ssmrt_ocl_scan_src(op, SSMRT_SCAN_A));
    ssmrt_ocl_arg_tensor(&a, ssmrt_ocl_scan_src(op, SSMRT_SCAN_STATE));
    ssmrt_ocl_arg_mem(&a, dev->scratch);
    ssmrt_ocl_arg_i64(&a, dt_at);
    ssmrt_ocl_arg_i64(&a, p->s.B);
    ssmrt_ocl_arg_i32(&a, (int32_t)HP);
    ssmrt_ocl_arg_i32(&a, (int32_t)p->s.P);
    ssmrt_ocl_arg_i32(&a, (int32_t)p->s.N);
    ssmrt_ocl_arg_i32(&a, (int32_t)p->nchunks);
    size_t l2 = ssmrt_ocl_wg_size(k2, 128), g2 = (size_t)(p->s.B * HP * p->s.N);
    return ssmrt_ocl_launch(dev, &a, 1, &g2, &l2, NULL);
}

int ssmrt_ocl_op_selective_scan(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    scan_plan p;
    int st = scan_shapes(op, &p.s);
    if (st != SSMRT_OK)
        return st;
    const ssmrt_tensor_desc *so = op->n_dst > 1 ? &op->dst[1] : &scan_absent;
    int64_t HP = p.s.H * p.s.P;
    if (p.s.B * HP == 0)
        return SSMRT_OK;
    if (p.s.L == 0) /* no step: the final state is the initial one */
        return so->buffer ? ssmrt_ocl_fail(SSMRT_ERR_SHAPE,
                                           "selective_scan: L = 0 with a state output")
                          : SSMRT_OK;
    if (p.s.L > SCAN_SHORT_L) {
        int done = 0;
        st = ssmrt_ocl_scan_runs(dev, op, &p.s, &done);
        if (st != SSMRT_OK || done)
            return st;
    }
    ssmrt_ocl_kernel *kout;
    st = scan_make_plan(dev, op, &p, &kout);
    if (st != SSMRT_OK)
        return st;

    size_t global3[3] = {(size_t)((HP + p.chw - 1) / p.chw) * p.local, (size_t)p.s.B,
                         (size_t)p.nchunks};
    size_t local3[3] = {p.local, 1, 1};
    int64_t dt_at = 0;
    if (p.nchunks > 1) {
        st = scan_scratch(dev, &p, &dt_at);
        if (st == SSMRT_OK)
            st = scan_carries(dev, op, &p, dt_at, global3, local3);
    }
    if (st == SSMRT_OK) {
        ssmrt_ocl_args a;
        ssmrt_ocl_args_begin(&a, kout);
        ssmrt_ocl_arg_tensor(&a, &op->dst[0]);
        for (uint32_t i = SSMRT_SCAN_U; i <= SSMRT_SCAN_STATE; i++)
            ssmrt_ocl_arg_tensor(&a, ssmrt_ocl_scan_src(op, i)); /* u .. state, in index order */
        ssmrt_ocl_arg_tensor(&a, so);
        ssmrt_ocl_arg_mem(&a, p.nchunks > 1 ? dev->scratch : NULL);
        ssmrt_ocl_arg_local(&a, p.nsl > 1 ? 16 * p.local * sizeof(float) : sizeof(float));
        scan_dim_args(&a, &p, op->params.scan.delta_softplus);
        st = ssmrt_ocl_launch(dev, &a, 3, global3, local3, NULL);
    }
    return st;
}
