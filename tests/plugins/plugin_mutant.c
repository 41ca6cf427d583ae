/* Test plugin "mutant": the CPU plugin with deliberate bugs, one per op kind, to
 * prove that the conformance harness catches each class of bug it claims to catch.
 * It loads the real CPU plugin (path fixed at build time) and forwards everything,
 * except that after enqueueing:
 *
 *   SCALE           with alpha != 0, writes one element past the end of its output
 *                   (arena canary after; the harness's own canary fills use alpha 0)
 *   SIGMOID         writes one element before the start of its output (arena canary before)
 *   SELECTIVE_SCAN  writes one element past the end of state_out     (guarded destination)
 *   COPY            into a strided destination, writes into the gap after its first row
 *   ADD             perturbs its first output element by 1e-3 relative (tolerance)
 *   MUL             writes into its second input                       (input integrity)
 *   GELU            is not supported                                   (NOT_SUPPORTED)
 *
 * Every other op (e.g. SILU) is untouched and must still pass. Writes go through the
 * CPU plugin's own buffer_upload, which range-checks against the buffer, so the bugs
 * stay inside the allocations as real out-of-bounds writes of a kernel would. */
#include <dlfcn.h>
#include <stdio.h>

#include "ssmrt_backend.h"

#ifndef SSMRT_MUTANT_CPU_PLUGIN
#error "SSMRT_MUTANT_CPU_PLUGIN must name the CPU plugin's path"
#endif

static const ssmrt_host_api *g_host;
static const ssmrt_backend_vtable *g_cpu;
static ssmrt_backend_vtable g_vt;

static uint64_t mutant_esize(uint32_t dtype)
{
    return dtype == SSMRT_F16 || dtype == SSMRT_BF16 ? 2 : 4;
}

static int64_t mutant_count(const ssmrt_tensor_desc *d)
{
    int64_t n = 1;
    for (uint32_t i = 0; i < d->ndim; i++)
        n *= d->shape[i];
    return n;
}

static int mutant_contiguous(const ssmrt_tensor_desc *d)
{
    int64_t expect = 1;
    for (int i = (int)d->ndim - 1; i >= 0; i--) {
        if (d->shape[i] != 1 && d->stride[i] != expect)
            return 0;
        expect *= d->shape[i];
    }
    return 1;
}

/* Writes 0x42 bytes over one element at byte offset `at`. */
static int mutant_poke(void *device, void *buffer, uint64_t at, uint64_t esize)
{
    static const unsigned char junk[4] = {0x42, 0x42, 0x42, 0x42};
    return g_cpu->buffer_upload(device, buffer, at, junk, esize);
}

static int mutant_supports(void *device, const ssmrt_op *op)
{
    if (op->kind == SSMRT_OP_GELU)
        return 0;
    return g_cpu->supports(device, op);
}

static int mutant_enqueue(void *device, const ssmrt_op *op)
{
    if (op->kind == SSMRT_OP_GELU) {
        g_host->report_error("mutant: GELU is not supported");
        return SSMRT_ERR_UNSUPPORTED;
    }
    int rc = g_cpu->enqueue(device, op);
    if (rc)
        return rc;
    const ssmrt_tensor_desc *y = &op->dst[0];
    uint64_t es = mutant_esize(y->dtype);
    switch (op->kind) {
    case SSMRT_OP_SCALE:
        if (op->params.scale.alpha == 0.0f)
            return 0;
        return mutant_poke(device, y->buffer, y->offset + (uint64_t)mutant_count(y) * es, es);
    case SSMRT_OP_SIGMOID:
        return y->offset >= es ? mutant_poke(device, y->buffer, y->offset - es, es) : 0;
    case SSMRT_OP_SELECTIVE_SCAN: {
        const ssmrt_tensor_desc *s = &op->dst[1];
        return s->buffer ? mutant_poke(device, s->buffer, s->offset + (uint64_t)mutant_count(s) * 4, 4)
                         : 0;
    }
    case SSMRT_OP_COPY: {
        int last = (int)y->ndim - 1;
        if (last < 1 || mutant_contiguous(y) || y->stride[last - 1] <= y->shape[last] * y->stride[last])
            return 0;
        return mutant_poke(device, y->buffer,
                           y->offset + (uint64_t)(y->shape[last] * y->stride[last]) * es, es);
    }
    case SSMRT_OP_ADD: {
        float v;
        rc = g_cpu->buffer_download(device, y->buffer, y->offset, &v, sizeof v);
        v *= 1.001f;
        return rc ? rc : g_cpu->buffer_upload(device, y->buffer, y->offset, &v, sizeof v);
    }
    case SSMRT_OP_MUL:
        return mutant_poke(device, op->src[1].buffer, op->src[1].offset, 4);
    default:
        return 0;
    }
}

SSMRT_PLUGIN_EXPORT int ssmrt_backend_entry(const ssmrt_host_api *host, uint32_t host_max_version,
                                            uint32_t *out_version,
                                            const ssmrt_backend_vtable **out_vtable)
{
    g_host = host;
    void *dl = dlopen(SSMRT_MUTANT_CPU_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        host->report_error("mutant: cannot load the CPU plugin %s: %s", SSMRT_MUTANT_CPU_PLUGIN,
                           dlerror());
        return 1;
    }
    ssmrt_backend_entry_fn entry;
    *(void **)&entry = dlsym(dl, SSMRT_BACKEND_ENTRY_SYMBOL);
    if (!entry || entry(host, host_max_version, out_version, &g_cpu) != 0) {
        host->report_error("mutant: the CPU plugin refused to start");
        return 1;
    }
    g_vt = *g_cpu;
    g_vt.name = "mutant";
    g_vt.supports = mutant_supports;
    g_vt.enqueue = mutant_enqueue;
    /* Batching would let the CPU plugin defer work past our pokes' ordering
     * assumptions; plain enqueue is what the ABI guarantees. */
    g_vt.begin_batch = NULL;
    g_vt.end_batch = NULL;
    *out_vtable = &g_vt;
    return 0;
}
