/*
 * fast_info.c: what the fast device reports about itself, and the contiguity
 * guard its kernels share.
 */
#include <stdio.h>
#include <string.h>

#include "fast_kernels.h"

#ifdef SSMRT_CPU_HAVE_CBLAS
/* OpenBLAS extensions; other BLAS libraries do not have them, so they are weak
 * and used only when present. */
extern char *openblas_get_config(void) __attribute__((weak));
extern void openblas_set_num_threads(int n) __attribute__((weak));
#endif

void cpu_fast_init(void) {
#ifdef SSMRT_CPU_HAVE_CBLAS
    /* OpenBLAS's pthread workers spin for a long while after each call; beside
     * the OpenMP team of the other kernels they would halve every op on a small
     * machine. The plugin threads GEMMs itself, so the BLAS runs on one. This
     * is process-wide: a host that uses the same OpenBLAS sees it too. */
    if (openblas_set_num_threads) openblas_set_num_threads(1);
#endif
}

void cpu_fast_api_version(char *out, size_t cap) {
    char threads[32] = "single-threaded";
#ifdef _OPENMP
    /* _OPENMP is the date of the spec: 201511 is 4.5, 201811 is 5.0. */
    snprintf(threads, sizeof threads, "OpenMP %s",
             _OPENMP >= 202011 ? "5.1" : _OPENMP >= 201811 ? "5.0" : _OPENMP >= 201511 ? "4.5"
                                                                                        : "4.0");
#endif
    char gemm[48] = "own GEMM";
#ifdef SSMRT_CPU_HAVE_CBLAS
    snprintf(gemm, sizeof gemm, "CBLAS");
    if (openblas_get_config) {
        /* "OpenBLAS 0.3.21 DYNAMIC_ARCH ...": keep the first two words. */
        const char *cfg = openblas_get_config();
        const char *sp = cfg ? strchr(cfg, ' ') : NULL;
        if (sp) sp = strchr(sp + 1, ' ');
        if (cfg) snprintf(gemm, sizeof gemm, "%.*s", sp ? (int)(sp - cfg) : 40, cfg);
    }
#endif
    const char *isa = "";
#ifdef SSMRT_CPU_VARIANTS
    isa = cpu_fast_has_v4() ? " + x86-64-v4" : cpu_fast_has_v3() ? " + x86-64-v3" : " + x86-64";
#endif
    snprintf(out, cap, "C11 + %s + %s%s", threads, gemm, isa);
}

uint32_t cpu_fast_simd_lanes(void) {
#ifdef SSMRT_CPU_VARIANTS
    /* AVX-512 (the scan's recurrence), AVX2 or SSE registers of f32 */
    return cpu_fast_has_v4() ? 16 : cpu_fast_has_v3() ? 8 : 4;
#else
    return 4;
#endif
}

int cpu_fast_require_contiguous(const ssmrt_op *op) {
    for (uint32_t i = 0; i < op->n_src; i++)
        if (cpu_desc_present(&op->src[i]) && !cpu_desc_contiguous(&op->src[i]))
            return cpu_error(SSMRT_ERR_INVALID_ARGUMENT,
                             "cpu: op kind %u: src[%u] is strided; this kernel needs it "
                             "contiguous (the host copies first)", op->kind, i);
    for (uint32_t i = 0; i < op->n_dst; i++)
        if (cpu_desc_present(&op->dst[i]) && !cpu_desc_contiguous(&op->dst[i]))
            return cpu_error(SSMRT_ERR_INVALID_ARGUMENT,
                             "cpu: op kind %u: dst[%u] is strided; this kernel needs it "
                             "contiguous", op->kind, i);
    return 0;
}
