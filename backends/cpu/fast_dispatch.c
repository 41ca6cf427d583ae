/*
 * fast_dispatch.c: binds each cpu_fast_<op> to its x86-64-v3 or baseline copy
 * once, when the plugin is loaded (GNU ifunc), so every call afterwards is
 * direct. Built only when CMake compiled both variants (see fast_variant.h).
 */
#include "cpu_internal.h"

int cpu_fast_has_v3(void) {
    __builtin_cpu_init(); /* required before __builtin_cpu_supports in a resolver */
    return __builtin_cpu_supports("x86-64-v3") != 0;
}

#define CPU_BIND(op)                                                                       \
    int cpu_fast_##op##_base(const ssmrt_op *);                                            \
    int cpu_fast_##op##_v3(const ssmrt_op *);                                              \
    static cpu_kernel_fn cpu_fast_##op##_resolve(void) {                                   \
        return cpu_fast_has_v3() ? cpu_fast_##op##_v3 : cpu_fast_##op##_base;              \
    }                                                                                      \
    int cpu_fast_##op(const ssmrt_op *op) __attribute__((ifunc("cpu_fast_" #op "_resolve")));

#include "fast_variant.h"
CPU_FAST_OPS(CPU_BIND)
