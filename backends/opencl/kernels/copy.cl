/* copy.cl: copies with dtype conversion (f32, f16, bf16, i32); strided 4-d (shapes
 * and strides padded to 4 dims by the host, strides in elements) or contiguous. */

/* dst[di] = src[si] converted from sdt to ddt, rounding once to nearest even. */
void copy_one(__global uchar *dst, long di, __global const uchar *src, long si, int sdt, int ddt)
{
    if (sdt == ddt) { /* bit-exact, NaN payloads included */
        if (sdt == DT_F16 || sdt == DT_BF16)
            ((__global ushort *)dst)[di] = ((__global const ushort *)src)[si];
        else
            ((__global uint *)dst)[di] = ((__global const uint *)src)[si];
        return;
    }
    float v;
    if (sdt == DT_I32 && ddt != DT_F32) {
        /* i32 -> f16/bf16 must round once. Convert toward zero and, if that was
         * inexact, set the lowest bit ("round to odd"): f32 keeps 13+ bits more than
         * either half format, so the one RNE rounding below is then exact. */
        int iv = ((__global const int *)src)[si];
        v = convert_float_rtz(iv);
        if ((long)v != (long)iv)
            v = as_float(as_uint(v) | 1u);
    } else {
        v = load_as_f32(src, si, sdt);
    }
    switch (ddt) {
    case DT_F16:
        if (isnan(v)) /* the quiet NaN ssmrt's converters produce */
            ((__global ushort *)dst)[di] = (ushort)(((as_uint(v) >> 16) & 0x8000u) | 0x7e00u);
        else
            vstore_half_rte(v, (size_t)di, (__global half *)dst);
        break;
    case DT_BF16: ((__global ushort *)dst)[di] = f32_to_bf16(v); break;
    case DT_I32: ((__global int *)dst)[di] = convert_int_sat_rtz(v); break;
    default: ((__global float *)dst)[di] = v; break;
    }
}

__kernel void copy_strided(__global uchar *dst, long dst_off, __global const uchar *src,
                           long src_off, long4 shape, long4 sstride, long4 dstride,
                           int sdt, int ddt, long n)
{
    long i = get_global_id(0);
    if (i >= n)
        return;
    long4 c = unflatten4(i, shape);
    long si = src_off + c.x * sstride.x + c.y * sstride.y + c.z * sstride.z + c.w * sstride.w;
    long di = dst_off + c.x * dstride.x + c.y * dstride.y + c.z * dstride.z + c.w * dstride.w;
    copy_one(dst, di, src, si, sdt, ddt);
}

/* Both sides contiguous (a dtype conversion; same-dtype copies use the driver's). */
__kernel void copy_contiguous(__global uchar *dst, long dst_off, __global const uchar *src,
                              long src_off, int sdt, int ddt, long n)
{
    long i = get_global_id(0);
    if (i < n)
        copy_one(dst, dst_off + i, src, src_off + i, sdt, ddt);
}
