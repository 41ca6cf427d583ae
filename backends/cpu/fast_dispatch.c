/*
 * fast_dispatch.c: binds each cpu_fast_<op> to its x86-64-v4, x86-64-v3 or
 * baseline copy once, when the plugin is loaded (GNU ifunc), so every call
 * afterwards is direct. Built only when CMake compiled the variants (see
 * fast_variant.h); SSMRT_CPU_HAVE_V4 says whether the v4 copy exists.
 */
#include "cpu_internal.h"

/* GCC 12 knows the level names; clang 14 (the fuzz and sanitizer builds) only
 * individual features, so there each level is spelled as its main features (clang 14
 * cannot query F16C, LZCNT or MOVBE; no CPU with AVX2 + FMA + BMI2 lacks them). */
#if defined(__clang__)
#define CPU_HAS_V3()                                                                    \
    (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&                 \
     __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2"))
#define CPU_HAS_V4()                                                                    \
    (CPU_HAS_V3() && __builtin_cpu_supports("avx512f") &&                               \
     __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512cd") &&        \
     __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
#else
#define CPU_HAS_V3() __builtin_cpu_supports("x86-64-v3")
#define CPU_HAS_V4() __builtin_cpu_supports("x86-64-v4")
#endif

int cpu_fast_has_v3(void) {
    __builtin_cpu_init(); /* required before __builtin_cpu_supports in a resolver */
    return CPU_HAS_V3() != 0;
}

int cpu_fast_has_v4(void) {
#ifdef SSMRT_CPU_HAVE_V4
    __builtin_cpu_init();
    return CPU_HAS_V4() != 0;
#else
    return 0;
#endif
}

#ifdef SSMRT_CPU_HAVE_V4
#define CPU_V4(op) int cpu_fast_##op##_v4(const ssmrt_op *);
#define CPU_PICK_V4(op) cpu_fast_has_v4() ? cpu_fast_##op##_v4:
#else
#define CPU_V4(op)
#define CPU_PICK_V4(op)
#endif

#define CPU_BIND(op)                                                                       \
    int cpu_fast_##op##_base(const ssmrt_op *);                                            \
    int cpu_fast_##op##_v3(const ssmrt_op *);                                              \
    CPU_V4(op)                                                                             \
    /* used: clang does not count the ifunc reference as a use */                         \
    __attribute__((used)) static cpu_kernel_fn cpu_fast_##op##_resolve(void) {             \
        return CPU_PICK_V4(op) cpu_fast_has_v3() ? cpu_fast_##op##_v3 : cpu_fast_##op##_base; \
    }                                                                                      \
    int cpu_fast_##op(const ssmrt_op *op) __attribute__((ifunc("cpu_fast_" #op "_resolve")));

#include "fast_variant.h"
CPU_FAST_OPS(CPU_BIND)
