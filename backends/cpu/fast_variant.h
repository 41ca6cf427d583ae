/*
 * fast_variant.h: names of the fast kernels per compiled variant.
 *
 * On x86-64 the fast_*.c files are compiled three times: for the baseline ISA,
 * with -march=x86-64-v3 (AVX2, FMA, F16C) and with -march=x86-64-v4 (AVX-512,
 * which only the scan's recurrence uses explicitly, fast_vc.h). GCC's target
 * attributes cannot do this job well: vectors built from a scalar come out as
 * chains of inserts instead of one broadcast. CMake passes -DCPU_VARIANT=_base,
 * _v3 or _v4 and the defines below give each copy's external functions their
 * own names; fast_dispatch.c binds the plain names to one copy at load time
 * (GNU ifunc) after asking the CPU. Without CPU_VARIANT (other architectures)
 * the kernels keep their plain names.
 */
#ifndef SSMRT_CPU_FAST_VARIANT_H
#define SSMRT_CPU_FAST_VARIANT_H

#ifdef CPU_VARIANT
#define CPU_VCAT2(a, b) a##b
#define CPU_VCAT(a, b) CPU_VCAT2(a, b)
#define cpu_fast_copy CPU_VCAT(cpu_fast_copy, CPU_VARIANT)
#define cpu_fast_binary CPU_VCAT(cpu_fast_binary, CPU_VARIANT)
#define cpu_fast_unary CPU_VCAT(cpu_fast_unary, CPU_VARIANT)
#define cpu_fast_softmax CPU_VCAT(cpu_fast_softmax, CPU_VARIANT)
#define cpu_fast_rms_norm CPU_VCAT(cpu_fast_rms_norm, CPU_VARIANT)
#define cpu_fast_rms_norm_gated CPU_VCAT(cpu_fast_rms_norm_gated, CPU_VARIANT)
#define cpu_fast_layer_norm CPU_VCAT(cpu_fast_layer_norm, CPU_VARIANT)
#define cpu_fast_matmul CPU_VCAT(cpu_fast_matmul, CPU_VARIANT)
#define cpu_fast_embedding CPU_VCAT(cpu_fast_embedding, CPU_VARIANT)
#define cpu_fast_topk_route CPU_VCAT(cpu_fast_topk_route, CPU_VARIANT)
#define cpu_fast_selective_scan CPU_VCAT(cpu_fast_selective_scan, CPU_VARIANT)
#define cpu_fast_conv1d_causal CPU_VCAT(cpu_fast_conv1d_causal, CPU_VARIANT)
#define cpu_fast_conv_long CPU_VCAT(cpu_fast_conv_long, CPU_VARIANT)
#define cpu_fast_attention CPU_VCAT(cpu_fast_attention, CPU_VARIANT)
#define cpu_gemm_own CPU_VCAT(cpu_gemm_own, CPU_VARIANT)
#define cpu_fast_conv_long_fft CPU_VCAT(cpu_fast_conv_long_fft, CPU_VARIANT)
#endif

/* The op kernels bound by fast_dispatch.c (helpers above are variant-internal). */
#define CPU_FAST_OPS(X)                                                                     \
    X(copy) X(binary) X(unary) X(softmax) X(rms_norm) X(rms_norm_gated) X(layer_norm)      \
    X(matmul) X(embedding) X(topk_route) X(selective_scan) X(conv1d_causal) X(conv_long)   \
    X(attention)

#endif
