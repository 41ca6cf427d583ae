/* gather.cl: embedding lookup and mixture-of-experts top-k routing. */

/* y[m, d] = table[ids[m], d] as f32; an id outside [0, V) gives a row of zeros
 * (the ABI's rule: sessions validate ids on the host). */
__kernel void embedding(__global float *y, long y_off, __global const uchar *table, long t_off,
                        int tdt, __global const int *ids, long ids_off, long M, long D, int V)
{
    long i = get_global_id(0);
    if (i >= M * D)
        return;
    long d, m = div_mod(i, D, &d);
    int id = ids[ids_off + m];
    y[y_off + i] = id >= 0 && id < V ? load_as_f32(table, t_off + (long)id * D + d, tdt) : 0.0f;
}

/* One work-item per row of logits [T, E]: softmax over E, keep the k largest (ties:
 * the lower expert index wins), optionally renormalise the kept ones. Ranks compare
 * logits, which order like the probabilities, so rounding of exp cannot reorder
 * them. O(E^2) per row, fine for the expert counts of real models. */
__kernel void topk_route(__global float *y, long y_off, __global const float *x, long x_off,
                         long T, int E, int k, int renormalize)
{
    long t = get_global_id(0);
    if (t >= T)
        return;
    __global const float *xr = x + x_off + t * E;
    __global float *yr = y + y_off + t * E;
    float m = -INFINITY;
    for (int e = 0; e < E; e++)
        m = fmax(m, xr[e]);
    float sum = 0.0f;
    for (int e = 0; e < E; e++)
        sum += exp(xr[e] - m);
    float kept = 0.0f;
    for (int e = 0; e < E; e++) {
        float v = xr[e];
        int rank = 0;
        for (int f = 0; f < E; f++) {
            float u = xr[f];
            rank += (u > v) || (u == v && f < e);
        }
        float p = rank < k ? exp(v - m) / sum : 0.0f;
        kept += p;
        yr[e] = p;
    }
    if (renormalize && kept > 0.0f) {
        float inv = 1.0f / kept;
        for (int e = 0; e < E; e++)
            yr[e] *= inv;
    }
}
