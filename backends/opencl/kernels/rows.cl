/* rows.cl: reductions over the last dim, one work-group per row (or row group):
 * softmax, RMSNorm (plain and Mamba-2's gated, grouped form) and LayerNorm.
 * Each work-item reads and writes only its own columns, so y may alias x. */

__kernel void softmax_rows(__global float *y, long y_off, __global const float *x, long x_off,
                           long cols, __local float *scratch)
{
    long row = get_group_id(0);
    uint lid = get_local_id(0), wg = get_local_size(0);
    __global const float *xr = x + x_off + row * cols;
    __global float *yr = y + y_off + row * cols;
    float m = -INFINITY;
    for (long c = lid; c < cols; c += wg)
        m = fmax(m, xr[c]);
    m = wg_max(m, scratch);
    float s = 0.0f;
    for (long c = lid; c < cols; c += wg)
        s += exp(xr[c] - m);
    s = wg_sum(s, scratch);
    float inv = 1.0f / s;
    for (long c = lid; c < cols; c += wg)
        yr[c] = exp(xr[c] - m) * inv;
}

/* One work-group per (row, group) of `group` consecutive columns. With z (the gate
 * of Mamba-2's gated RMSNorm) the normalised value is v = x * silu(z). */
__kernel void rms_norm_groups(__global float *y, long y_off, __global const float *x,
                              long x_off, __global const float *z, long z_off,
                              __global const float *w, long w_off, long cols, long group,
                              float eps, __local float *scratch)
{
    long ngroups = cols / group;
    long row = get_group_id(0) / ngroups, g = get_group_id(0) % ngroups;
    uint lid = get_local_id(0), wg = get_local_size(0);
    long base = row * cols + g * group;
    __global const float *xr = x + x_off + base;
    __global const float *zr = z ? z + z_off + base : 0;
    __global const float *wr = w + w_off + g * group;
    __global float *yr = y + y_off + base;
    float ss = 0.0f;
    for (long c = lid; c < group; c += wg) {
        float v = zr ? xr[c] * silu_f32(zr[c]) : xr[c];
        ss += v * v;
    }
    ss = wg_sum(ss, scratch);
    float r = 1.0f / sqrt(ss / (float)group + eps);
    for (long c = lid; c < group; c += wg) {
        float v = zr ? xr[c] * silu_f32(zr[c]) : xr[c];
        yr[c] = v * r * wr[c];
    }
}

/* Two passes (mean, then the mean of squared deviations) for accuracy when the
 * mean is large against the spread. */
__kernel void layer_norm_rows(__global float *y, long y_off, __global const float *x,
                              long x_off, __global const float *w, long w_off,
                              __global const float *b, long b_off, long cols, float eps,
                              __local float *scratch)
{
    long row = get_group_id(0);
    uint lid = get_local_id(0), wg = get_local_size(0);
    __global const float *xr = x + x_off + row * cols;
    __global float *yr = y + y_off + row * cols;
    float s = 0.0f;
    for (long c = lid; c < cols; c += wg)
        s += xr[c];
    float mean = wg_sum(s, scratch) / (float)cols;
    float q = 0.0f;
    for (long c = lid; c < cols; c += wg) {
        float d = xr[c] - mean;
        q += d * d;
    }
    float var = wg_sum(q, scratch) / (float)cols;
    float r = 1.0f / sqrt(var + eps);
    for (long c = lid; c < cols; c += wg) {
        float v = (xr[c] - mean) * r * w[w_off + c];
        yr[c] = b ? v + b[b_off + c] : v;
    }
}
