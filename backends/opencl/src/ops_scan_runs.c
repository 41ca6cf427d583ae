/* Launch of kernels/scan_runs.cl: the layout per state size, the local-memory
 * check, one NDRange (channel tiles x groups x batch). */
#include <stdio.h>

#include "ops_scan.h"

/* Work-items per channel = nl * r (state slices x runs), ch channels per group of
 * 256. Every layout's work-group is 256; runs of tr steps, blocks of r * tr;
 * larger N shortens the block so B and C rows of the block fit in local memory.
 *
 * Per state-step, the cost beyond the recurrence itself is the fold over the r
 * runs (r / tr) and staging B and C (shared by the ch channels of a group). For
 * N = 16 the first row (4 runs of 16 steps, 8 channels: a 64-step block, so half
 * the barriers and fold work per step of 4 runs of 8; H100: 188 vs 202 us for
 * Mamba-1 D = 2048, L = 4096; 4 runs of 8 steps with 64 work-items per channel
 * took 220 us) is used when its groups give every compute
 * unit at least one, e.g. 256 groups for the 2048 channels of Mamba-1's D =
 * 2048 on an H100's 132 SMs; with fewer channels the second (64 work-items per
 * channel, twice the groups) keeps the device filled. For N = 128 (Mamba-2's
 * usual state), 8 states per work-item and 4 channels per group halve the
 * instructions per state-step of the second row (PTX of the block loop: 449
 * for 32 state-steps vs 429 for 16); with a per-state A (Mamba-1) its decay
 * products do not fit the local memory budget and the second row is used.
 *
 * Occupancy on NVIDIA: the compiler gives the N = 16 rows 128 registers, so an
 * SM holds 2 groups (16 warps); 2048 channels of 32 work-items are 15.5 warps
 * per SM anyway. The second row at 64 registers (4 groups, 32 warps per SM, one
 * wave of 512 groups on 132 SMs; 76 bytes of spills) took 0.242 ms against
 * 0.167 for the first: the extra fold and staging work outweighs the latency it
 * hides. (-cl-nv-maxrregcount=N does work, but only without
 * reqd_work_group_size: ptxas sizes registers from the .reqntid that becomes,
 * and ignores the option, which is why =64 seemed to give 128 registers.) */
typedef struct runs_layout {
    int max_n, npt, nl, r, tr, ch;
} runs_layout;

static const runs_layout k_layouts[] = {
    {1, 1, 1, 32, 4, 8},  {2, 1, 2, 16, 8, 8}, {4, 2, 2, 16, 8, 8},  {8, 2, 4, 16, 8, 4},
    {16, 2, 8, 4, 16, 8}, {16, 2, 8, 8, 8, 4}, {32, 4, 8, 4, 8, 8},  {64, 4, 16, 4, 4, 4},
    {128, 8, 16, 4, 4, 4}, {128, 4, 32, 4, 4, 2},
};
#define N_LAYOUTS (sizeof k_layouts / sizeof k_layouts[0])

#define RUNS_WG 256

/* Bytes of local memory the kernel declares (the same formulas as scan_runs.cl). */
static size_t runs_local_bytes(const runs_layout *l, int a_scalar, int bcv, int pev)
{
    size_t tc = (size_t)(l->r * l->tr), npad = (size_t)(l->nl * l->npt);
    size_t skew = l->npt <= 2, tcp = tc + 8, bstr = skew ? npad : npad + (size_t)l->npt;
    size_t yst = (size_t)l->ch + 1;
    size_t ysn = tc * yst + 1, pstr = a_scalar ? 1 : npad;
    size_t bc = bcv ? tc * 4 * (size_t)l->nl : 2 * (tc * bstr + skew * 32 * (size_t)l->r);
    size_t pe = (size_t)(l->ch * l->r) * (pev ? 4 * (size_t)l->nl : pstr + npad);
    size_t floats = 2 * (size_t)l->ch * tcp + bc + pe + (size_t)l->nl * ysn;
    return floats * sizeof(float);
}

/* B and C as float4 loads (BC4): every row start 16-byte aligned, no padding
 * states; then with 2 states per work-item they are kept per slice (BCV). */
static int runs_bc4(const ssmrt_op *op, const scan_shape *s, const runs_layout *l)
{
    return s->N % 4 == 0 && l->nl * l->npt == s->N && op->src[SSMRT_SCAN_B].offset % 16 == 0 &&
           op->src[SSMRT_SCAN_C].offset % 16 == 0;
}

/* Logs (at info level) the build log of the kernel's program, if any. */
static void runs_log_build(ssmrt_ocl_device *dev, const ssmrt_ocl_kernel *k, const char *defs)
{
    if (!ssmrt_ocl_host || ssmrt_ocl_host->log_level < SSMRT_LOG_INFO)
        return;
    char log[2048];
    size_t len = 0;
    if (clGetProgramBuildInfo(k->program->program, dev->device, CL_PROGRAM_BUILD_LOG,
                              sizeof log - 1, log, &len) != CL_SUCCESS)
        len = 0;
    log[len < sizeof log ? len : sizeof log - 1] = '\0';
    SSMRT_OCL_LOG(SSMRT_LOG_INFO, "opencl: %s: scan_runs built with '%s'%s%s", dev->name, defs,
                  log[0] ? "; build log:\n" : " (no build log)", log);
}

int ssmrt_ocl_scan_runs(ssmrt_ocl_device *dev, const ssmrt_op *op, const scan_shape *s,
                        int *done)
{
    *done = 0;
    if (dev->scan_runs_off)
        return SSMRT_OK;
    /* Step indices are 32-bit in the kernel, with a block of headroom. */
    if (s->L > INT32_MAX - 1024 || dev->max_wg < RUNS_WG)
        return SSMRT_OK;
    /* The rows of the smallest state size >= N, in order: the first whose local
     * memory fits (a quarter stays with the compiler: a kernel asking for all of
     * it fails to launch on NVIDIA) and whose groups give every compute unit at
     * least one; failing the second, the last that fits. */
    const runs_layout *l = NULL;
    int64_t hpg = s->H * s->P / s->G, max_n = 0;
    for (size_t i = 0; i < N_LAYOUTS; i++) {
        const runs_layout *c = &k_layouts[i];
        if (c->max_n < s->N || (max_n && c->max_n != max_n))
            continue;
        max_n = c->max_n;
        int bc4 = runs_bc4(op, s, c);
        if (runs_local_bytes(c, s->a_scalar, bc4 && c->npt == 2, !s->a_scalar && c->npt == 2) >
            dev->local_mem / 4 * 3)
            continue;
        l = c;
        if ((hpg + c->ch - 1) / c->ch * s->G * s->B >= (int64_t)dev->compute_units)
            break;
    }
    if (!l)
        return SSMRT_OK;
    int bc4 = runs_bc4(op, s, l);
    /* On NVIDIA (cl_nv_compiler_options: the program is PTX), the decays' exp2
     * is inline PTX (SCAN_PTX) and -cl-nv-verbose puts ptxas's register and
     * spill counts in the build log (SSMRT_LOG=info). */
    char defs[200];
    ssmrt_ocl_kernel *k = NULL;
    for (;;) {
        int nv = dev->nv_registers != 0;
        snprintf(defs, sizeof defs,
                 "-DNPT=%d -DNL=%d -DR=%d -DTR=%d -DCH=%d -DA_SCALAR=%d -DBC4=%d -DBCV=%d "
                 "-DPEV=%d -DSCAN_PTX=%d%s",
                 l->npt, l->nl, l->r, l->tr, l->ch, s->a_scalar, bc4, bc4 && l->npt == 2,
                 !s->a_scalar && l->npt == 2, nv, nv ? " -cl-nv-verbose" : "");
        k = ssmrt_ocl_kernel_get(dev, "scan_runs", defs, "scan_runs");
        if (k)
            break;
        if (nv) {
            /* A driver that lists the extension but refuses the option or the
             * inline PTX: the portable build, here and from now on. */
            SSMRT_OCL_LOG(SSMRT_LOG_WARN, "opencl: %s: scan_runs does not build with '%s'; "
                          "building it without the NVIDIA options", dev->name, defs);
            dev->nv_registers = 0;
            continue;
        }
        /* The build log is in the log already. scan.cl computes the same thing,
         * slower; a compiler that cannot take this kernel is no reason to fail
         * the op, and is not asked again. */
        SSMRT_OCL_LOG(SSMRT_LOG_WARN, "opencl: %s: scan_runs.cl (%s) does not build; the "
                      "selective scan falls back to scan.cl on this device", dev->name, defs);
        dev->scan_runs_off = 1;
        return SSMRT_OK;
    }
    if (k->max_wg < RUNS_WG)
        return SSMRT_OK; /* registers: the driver cannot run 256 of these together */
    if (!k->reported) {
        /* With -cl-nv-verbose the log holds ptxas's register and spill counts
         * (empty when the binary came from the cache). */
        k->reported = 1;
        runs_log_build(dev, k, defs);
    }

    static const ssmrt_tensor_desc absent;
    const ssmrt_tensor_desc *so = op->n_dst > 1 ? &op->dst[1] : &absent;
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k);
    ssmrt_ocl_arg_tensor(&a, &op->dst[0]);
    for (uint32_t i = SSMRT_SCAN_U; i <= SSMRT_SCAN_STATE; i++)
        ssmrt_ocl_arg_tensor(&a, ssmrt_ocl_scan_src(op, i)); /* u .. state, in index order */
    ssmrt_ocl_arg_tensor(&a, so);
    ssmrt_ocl_arg_i32(&a, (int32_t)s->L);
    ssmrt_ocl_arg_i32(&a, (int32_t)s->H);
    ssmrt_ocl_arg_i32(&a, (int32_t)s->P);
    ssmrt_ocl_arg_i32(&a, (int32_t)s->G);
    ssmrt_ocl_arg_i32(&a, (int32_t)s->N);
    ssmrt_ocl_arg_i32(&a, op->params.scan.delta_softplus);
    size_t global[3] = {(size_t)((hpg + l->ch - 1) / l->ch) * RUNS_WG, (size_t)s->G,
                        (size_t)s->B};
    size_t local[3] = {RUNS_WG, 1, 1};
    int st = ssmrt_ocl_launch(dev, &a, 3, global, local, NULL);
    if (st == SSMRT_OK)
        *done = 1;
    return st;
}
