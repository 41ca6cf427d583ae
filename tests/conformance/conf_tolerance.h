/*
 * conf_tolerance.h: per-op error bounds, in the metric of conf_compare.h (error
 * relative to max(|want|, rms(want))), derived from the arithmetic each op does.
 *
 * Units. eps = 2^-23 is the spacing of f32 numbers at 1 (one ulp); the unit
 * roundoff is u = eps/2. The reference computes in float64 and rounds its result
 * to f32 once, which costs it at most u; everything else is the device's error.
 *
 * Sums. A sum of n terms computed in f32 makes n-1 roundings. The worst case
 * bound is (n-1) u times the sum of |terms|, reached only when every rounding
 * goes the same way; rounding errors of a sequential, pairwise or tree reduction
 * are in practice independent and add like a random walk, so the error relative to
 * the result's magnitude (for inputs of random sign, |sum| ~ sqrt(sum of squares))
 * is about sqrt(n) u. We allow 4 sqrt(n) u = 2 sqrt(n) eps: several standard
 * deviations of that walk, taken as the max over up to ~10^5 outputs.
 *
 * Elementary functions. Vulkan (GLSL.std.450) only promises exp to 3 + 2|x| ulp,
 * log to 3 ulp (absolute 2^-21 on [0.5, 2]), division to 2.5 ulp and inversesqrt
 * to 2 ulp; OpenCL's full profile exp and log to 3 ulp; CUDA's expf to 2 ulp. Where
 * an op applies such functions we add their bound for the input range used.
 *
 * Weights. f16/bf16 weights are rounded by the upload on both sides, so that
 * quantisation cancels. But a backend may also round the f32 activation to the
 * weight dtype to use tensor cores / cooperative matrices (cuBLAS, ggml do): each
 * product then has a relative error up to u_w (2^-11 for f16, 2^-8 for bf16),
 * independent across k; the dot product's error is about u_w/sqrt(3) times its
 * rms, and we allow 3 u_w. Accumulating in f16 would be far outside that and fails.
 *
 * Exact ops (copy, views, concat, embedding gathers, f16/bf16 <-> f32 conversions,
 * which the header defines as round-to-nearest-even) must match bit for bit.
 */
#ifndef CONF_TOLERANCE_H
#define CONF_TOLERANCE_H

#include <stdint.h>

#include "ssmrt.h"

#define CONF_EPS 1.1920928955078125e-07 /* 2^-23 */

/* Data movement and conversions: 0. */
double conf_tol_exact(void);
/* add, mul: one correctly rounded f32 operation on exact inputs. */
double conf_tol_binary(void);
/* scale: x*alpha + beta, two roundings (or one fused). */
double conf_tol_scale(double max_abs_x_alpha, double max_abs_beta);
/* silu, sigmoid, softplus, gelu, exp on inputs with |x| <= xmax. */
double conf_tol_unary(double xmax);
/* softmax over n with inputs spanning range (max - min). */
double conf_tol_softmax(int64_t n);
/* rms_norm over d elements. */
double conf_tol_rms_norm(int64_t d);
/* rms_norm_gated with groups of group_size. */
double conf_tol_rms_norm_gated(int64_t group_size);
/* layer_norm over d elements whose mean/std ratio is at most mean_over_std. */
double conf_tol_layer_norm(int64_t d, double mean_over_std);
/* matmul with inner dimension k and weights of dtype wdt. */
double conf_tol_matmul(int64_t k, ssmrt_dtype wdt);
/* topk_route over e experts (softmax, selection, optional renormalisation). */
double conf_tol_topk(int64_t e);
/* selective scan with state size n, inner head dim p (y sums n terms) and memory
 * length leff (see conf_scan_memory). */
double conf_tol_scan(int64_t n, double leff, int gated);
/* causal conv1d of width w. */
double conf_tol_conv1d(int64_t w, int silu);
/* long convolution over l steps. */
double conf_tol_conv_long(int64_t l);
/* attention over lk keys with head dim dh and scores of magnitude up to smax. */
double conf_tol_attention(int64_t dh, int64_t lk, double smax);
/* The same with q, k, v and the output of dtype dt (f32: conf_tol_attention). */
double conf_tol_attention_dtype(int64_t dh, int64_t lk, double smax, ssmrt_dtype dt);

#endif
