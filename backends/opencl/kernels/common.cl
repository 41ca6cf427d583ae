/* common.cl: prepended to every program. OpenCL C 1.2; sub-group functions only
 * when the host defines SSMRT_HAS_SUBGROUPS (the device reported cl_khr_subgroups
 * and OpenCL C 2.0, and the program is built with -cl-std=CL2.0). */
#if defined(SSMRT_HAS_SUBGROUPS) && SSMRT_HAS_SUBGROUPS
#pragma OPENCL EXTENSION cl_khr_subgroups : enable
#define SSMRT_USE_SUBGROUPS 1
#else
#define SSMRT_USE_SUBGROUPS 0
#endif

/* Storage dtypes, as ssmrt_dtype numbers them. */
#define DT_F32 0
#define DT_F16 1
#define DT_BF16 2
#define DT_I32 3

/* bf16 is the high half of an f32. */
float bf16_to_f32(ushort h)
{
    return as_float((uint)h << 16);
}

/* Round to nearest even; NaN stays a (quiet) NaN. */
ushort f32_to_bf16(float f)
{
    uint u = as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (ushort)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (ushort)(u >> 16);
}

/* Element i (in elements) of a tensor stored in dtype dt, as f32. The switch is
 * uniform across a launch. half pointers need no cl_khr_fp16 for vload_half. */
float load_as_f32(__global const uchar *base, long i, int dt)
{
    switch (dt) {
    case DT_F16: return vload_half((size_t)i, (__global const half *)base);
    case DT_BF16: return bf16_to_f32(((__global const ushort *)base)[i]);
    case DT_I32: return convert_float_rte(((__global const int *)base)[i]);
    default: return ((__global const float *)base)[i];
    }
}

/* a / b, with a % b in *r: in 32 bits when both fit, since 64-bit division is
 * emulated (tens of instructions) on GPUs. The branch is uniform in practice. */
long div_mod(long a, long b, long *r)
{
    if (((a | b) >> 32) == 0) {
        uint q = (uint)a / (uint)b;
        *r = (long)((uint)a - q * (uint)b);
        return (long)q;
    }
    long q = a / b;
    *r = a - q * b;
    return q;
}

/* Coordinates of flat index i in a 4-d shape (outermost first). */
long4 unflatten4(long i, long4 shape)
{
    long4 c;
    long r;
    i = div_mod(i, shape.w, &r);
    c.w = r;
    i = div_mod(i, shape.z, &r);
    c.z = r;
    c.x = div_mod(i, shape.y, &r);
    c.y = r;
    return c;
}

float silu_f32(float x)
{
    return x / (1.0f + exp(-x));
}

/* log(1 + exp(x)) = max(x, 0) + log1p(e), e = exp(-|x|) in (0, 1], with log1p(e)
 * = 2 atanh(s), s = e / (2 + e) <= 1/3: an odd series whose terms beyond s^15 / 15
 * are below 2^-26 of the sum (the CUDA backend's cuda_softplus, the same formula).
 * The exponent -|x| log2(e) is split into its rounded product and the FMA
 * remainder (a first-order correction of e, times ln 2), since the rounding alone
 * would cost 2^-24 |x log2 e| of relative error. No log1p: with the library's
 * exp and log1p it was ~50 instructions (CUDA's count; ~20 this way), and the
 * scans compute one per (step, channel). Shared by the elementwise op and every
 * scan kernel, so prefill and decode compute the same dt. Above x = 20 the log1p
 * term is below half an ulp of x, so the result is x, as with PyTorch's threshold. */
float softplus_f32(float x)
{
    const float a = -fabs(x), t = a * 1.44269504f;
    /* log2(e) - (float)log2(e); no correction where e underflows anyway. */
    const float tl = a > -104.0f ? fma(a, 1.92596299e-8f, fma(a, 1.44269504f, -t)) : 0.0f;
    float e = exp2(t);
    e = fma(e, tl * 0.693147181f, e);
    const float s = e / (2.0f + e), w = s * s;
    float p = fma(w, 1.0f / 15, 1.0f / 13);
    p = fma(p, w, 1.0f / 11);
    p = fma(p, w, 1.0f / 9);
    p = fma(p, w, 1.0f / 7);
    p = fma(p, w, 1.0f / 5);
    p = fma(p, w, 1.0f / 3);
    p = fma(p, w, 1.0f);
    return fmax(x, 0.0f) + (s + s) * p;
}

/* Work-group reductions; every work-item receives the result. scratch holds one
 * float per work-item; the local size is a power of two. */
float wg_sum(float v, __local float *scratch)
{
    float total;
#if SSMRT_USE_SUBGROUPS
    float s = sub_group_reduce_add(v);
    if (get_sub_group_local_id() == 0)
        scratch[get_sub_group_id()] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    total = 0.0f;
    for (uint i = 0; i < get_num_sub_groups(); i++)
        total += scratch[i];
#else
    uint lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    total = scratch[0];
#endif
    barrier(CLK_LOCAL_MEM_FENCE); /* scratch may be reused right after */
    return total;
}

float wg_max(float v, __local float *scratch)
{
    float total;
#if SSMRT_USE_SUBGROUPS
    float s = sub_group_reduce_max(v);
    if (get_sub_group_local_id() == 0)
        scratch[get_sub_group_id()] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    total = -INFINITY;
    for (uint i = 0; i < get_num_sub_groups(); i++)
        total = fmax(total, scratch[i]);
#else
    uint lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = get_local_size(0) / 2; s > 0; s >>= 1) {
        if (lid < s)
            scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    total = scratch[0];
#endif
    barrier(CLK_LOCAL_MEM_FENCE);
    return total;
}
