/* elementwise.cl: f32 binary ops with broadcasting and unary ops, contiguous. */

#define OP_ADD 0
#define OP_MUL 1

/* b has a's shape. */
__kernel void binary_same(__global float *y, long y_off, __global const float *a, long a_off,
                          __global const float *b, long b_off, int op, long n)
{
    long i = get_global_id(0);
    if (i >= n)
        return;
    float x = a[a_off + i], z = b[b_off + i];
    y[y_off + i] = op == OP_ADD ? x + z : x * z;
}

/* b broadcasts: bstride is 0 along dims where b has size 1 (shapes padded to 4-d). */
__kernel void binary_bcast(__global float *y, long y_off, __global const float *a, long a_off,
                           __global const float *b, long b_off, int op, long n, long4 shape,
                           long4 bstride)
{
    long i = get_global_id(0);
    if (i >= n)
        return;
    long4 c = unflatten4(i, shape);
    long bi = c.x * bstride.x + c.y * bstride.y + c.z * bstride.z + c.w * bstride.w;
    float x = a[a_off + i], z = b[b_off + bi];
    y[y_off + i] = op == OP_ADD ? x + z : x * z;
}

#define UN_SCALE 0
#define UN_SILU 1
#define UN_SIGMOID 2
#define UN_SOFTPLUS 3
#define UN_GELU 4
#define UN_EXP 5

__kernel void unary(__global float *y, long y_off, __global const float *x, long x_off, int op,
                    float alpha, float beta, long n)
{
    long i = get_global_id(0);
    if (i >= n)
        return;
    float v = x[x_off + i], r;
    switch (op) {
    case UN_SCALE: r = v * alpha + beta; break;
    case UN_SILU: r = silu_f32(v); break;
    case UN_SIGMOID: r = 1.0f / (1.0f + exp(-v)); break;
    case UN_SOFTPLUS: r = softplus_f32(v); break;
    case UN_GELU: r = 0.5f * v * (1.0f + erf(v * 0.70710678118654752f)); break;
    default: r = exp(v); break;
    }
    y[y_off + i] = r;
}
