/*
 * k_norm.cu: row-wise ops over the last dim: SOFTMAX, RMS_NORM, RMS_NORM_GATED
 * (Mamba-2), LAYER_NORM and TOPK_ROUTE.
 *
 * One block per row (per group for the gated norm); rows are read two or three
 * times, the repeats from L1/L2. Reductions are in f32 with a tree over the
 * block, whose rounding error grows like log2(cols) ulps, not cols.
 */
#include "common.cuh"

/* Threads per row: a power of two from 32 to 512, about one per 4 columns. */
static int row_threads(int64_t cols) {
    int t = 32;
    while (t < 512 && (int64_t)t * 4 < cols) t *= 2;
    return t;
}

/* ===================================================================== */
/* SOFTMAX                                                                */
/* ===================================================================== */

__global__ void softmax_kernel(const float *__restrict__ x, float *__restrict__ y, int64_t cols) {
    cuda_pdl_enter();
    __shared__ float scratch[32];
    const float *xr = x + blockIdx.x * cols;
    float *yr = y + blockIdx.x * cols;
    float m = -INFINITY;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = cuda_block_max(m, scratch);
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) s += expf(xr[i] - m);
    s = cuda_block_sum(s, scratch);
    float inv = 1.0f / s;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) yr[i] = expf(xr[i] - m) * inv;
}

int cuda_op_softmax(cuda_device *dev, const ssmrt_op *op) {
    int64_t rows, cols;
    int rc = cuda_shape_rows(op, &rows, &cols);
    if (rc || rows == 0) return rc;
    if (rows > 0x7fffffff) return cuda_error(SSMRT_ERR_SHAPE, "cuda: softmax: %lld rows", (long long)rows);
    cuda_launch(dev, softmax_kernel, (unsigned)rows, row_threads(cols), 0,
        (const float *)cuda_desc_ptr(&op->src[0]), (float *)cuda_desc_ptr(&op->dst[0]), cols);
    return CUDA_LAUNCH_CHECK("softmax");
}

/* ===================================================================== */
/* RMS_NORM and RMS_NORM_GATED                                            */
/* ===================================================================== */

/* One block per (row, group). GATED: v = x * silu(z) first. */
template <bool GATED>
__global__ void rms_norm_kernel(const float *__restrict__ x, const float *__restrict__ z,
                                const float *__restrict__ w, float *__restrict__ y, int64_t cols,
                                int64_t group, int64_t groups_per_row, float eps) {
    cuda_pdl_enter();
    __shared__ float scratch[32];
    int64_t row = blockIdx.x / groups_per_row, g = blockIdx.x % groups_per_row;
    int64_t base = row * cols + g * group;
    const float *xr = x + base;
    const float *zr = GATED ? z + base : nullptr;
    const float *wr = w + g * group;
    float *yr = y + base;
    float inv;
    if (GATED) {
        float s = 0.0f;
        for (int64_t i = threadIdx.x; i < group; i += blockDim.x) {
            float v = xr[i] * cuda_silu(zr[i]);
            s = fmaf(v, v, s);
        }
        s = cuda_block_sum(s, scratch);
        inv = 1.0f / sqrtf(s / (float)group + eps);
    } else {
        inv = cuda_rms_inv(xr, group, eps, scratch); /* blockDim == CUDA_RMS_THREADS */
    }
    for (int64_t i = threadIdx.x; i < group; i += blockDim.x) {
        float v = xr[i];
        if (GATED) v *= cuda_silu(zr[i]);
        yr[i] = v * inv * wr[i];
    }
}

int cuda_op_rms_norm(cuda_device *dev, const ssmrt_op *op) {
    int64_t rows, cols;
    int rc = cuda_shape_rows(op, &rows, &cols);
    if (rc || rows == 0) return rc;
    if (rows > 0x7fffffff) return cuda_error(SSMRT_ERR_SHAPE, "cuda: rms_norm: %lld rows", (long long)rows);
    /* The fixed block size of cuda_rms_inv: a matvec that fuses this norm in a
     * replayed decode batch (k_matmul.cu) then gives the same bits. */
    cuda_launch(dev, rms_norm_kernel<false>, (unsigned)rows, (int)CUDA_RMS_THREADS, 0,
        (const float *)cuda_desc_ptr(&op->src[0]), nullptr,
        (const float *)cuda_desc_ptr(&op->src[1]), (float *)cuda_desc_ptr(&op->dst[0]), cols, cols,
        1, op->params.norm.eps);
    return CUDA_LAUNCH_CHECK("rms_norm");
}

int cuda_op_rms_norm_gated(cuda_device *dev, const ssmrt_op *op) {
    int64_t rows, cols, group;
    int rc = cuda_shape_rows(op, &rows, &cols);
    if (!rc) rc = cuda_shape_norm_group(op, cols, &group);
    if (rc || rows == 0) return rc;
    int64_t groups = cols / group, blocks = rows * groups;
    if (blocks > 0x7fffffff)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: rms_norm_gated: %lld row groups", (long long)blocks);
    cuda_launch(dev, rms_norm_kernel<true>, (unsigned)blocks, row_threads(group), 0,
        (const float *)cuda_desc_ptr(&op->src[0]), (const float *)cuda_desc_ptr(&op->src[1]),
        (const float *)cuda_desc_ptr(&op->src[2]), (float *)cuda_desc_ptr(&op->dst[0]), cols,
        group, groups, op->params.norm.eps);
    return CUDA_LAUNCH_CHECK("rms_norm_gated");
}

/* ===================================================================== */
/* LAYER_NORM                                                             */
/* ===================================================================== */

/* Two-pass variance (mean first, then mean of squared deviations): no
 * cancellation when the mean is large against the spread. */
__global__ void layer_norm_kernel(const float *__restrict__ x, const float *__restrict__ w,
                                  const float *__restrict__ b, float *__restrict__ y, int64_t cols,
                                  float eps) {
    cuda_pdl_enter();
    __shared__ float scratch[32];
    const float *xr = x + blockIdx.x * cols;
    float *yr = y + blockIdx.x * cols;
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) s += xr[i];
    float mean = cuda_block_sum(s, scratch) / (float)cols;
    float v = 0.0f;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) {
        float d = xr[i] - mean;
        v = fmaf(d, d, v);
    }
    float inv = 1.0f / sqrtf(cuda_block_sum(v, scratch) / (float)cols + eps);
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x)
        yr[i] = (xr[i] - mean) * inv * w[i] + (b ? b[i] : 0.0f);
}

int cuda_op_layer_norm(cuda_device *dev, const ssmrt_op *op) {
    int64_t rows, cols;
    int rc = cuda_shape_rows(op, &rows, &cols);
    if (rc || rows == 0) return rc;
    if (rows > 0x7fffffff) return cuda_error(SSMRT_ERR_SHAPE, "cuda: layer_norm: %lld rows", (long long)rows);
    cuda_launch(dev, layer_norm_kernel, (unsigned)rows, row_threads(cols), 0,
        (const float *)cuda_desc_ptr(&op->src[0]), (const float *)cuda_desc_ptr(&op->src[1]),
        cuda_opt_f32(op, 2), (float *)cuda_desc_ptr(&op->dst[0]), cols, op->params.norm.eps);
    return CUDA_LAUNCH_CHECK("layer_norm");
}

/* ===================================================================== */
/* TOPK_ROUTE                                                             */
/* ===================================================================== */

/* p = softmax(logits); keep the k largest (ties: lower index first), zero the
 * rest, optionally divide the kept ones by their sum. The rank of an element is
 * counted on the logits, not on p: exp is monotonic, so the order is the exact
 * one, with no ties made by rounding p. */
__global__ void topk_kernel(const float *__restrict__ x, float *__restrict__ y, int64_t E,
                            int64_t k, int renormalize) {
    cuda_pdl_enter();
    __shared__ float scratch[32];
    const float *xr = x + blockIdx.x * E;
    float *yr = y + blockIdx.x * E;
    float m = -INFINITY;
    for (int64_t i = threadIdx.x; i < E; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = cuda_block_max(m, scratch);
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < E; i += blockDim.x) s += expf(xr[i] - m);
    s = cuda_block_sum(s, scratch);
    float kept = 0.0f;
    for (int64_t i = threadIdx.x; i < E; i += blockDim.x) {
        float xi = xr[i];
        int64_t rank = 0;
        for (int64_t j = 0; j < E && rank < k; j++) {
            float xj = xr[j];
            rank += (xj > xi) || (xj == xi && j < i);
        }
        float p = rank < k ? expf(xi - m) / s : 0.0f;
        kept += p;
        yr[i] = p;
    }
    if (!renormalize) return;
    kept = cuda_block_sum(kept, scratch);
    float inv = kept > 0.0f ? 1.0f / kept : 0.0f;
    for (int64_t i = threadIdx.x; i < E; i += blockDim.x) yr[i] *= inv;
}

int cuda_op_topk_route(cuda_device *dev, const ssmrt_op *op) {
    int64_t T, E, k;
    int rc = cuda_shape_topk(op, &T, &E, &k);
    if (rc || T == 0) return rc;
    if (T > 0x7fffffff) return cuda_error(SSMRT_ERR_SHAPE, "cuda: topk_route: %lld rows", (long long)T);
    cuda_launch(dev, topk_kernel, (unsigned)T, row_threads(E), 0,
        (const float *)cuda_desc_ptr(&op->src[0]), (float *)cuda_desc_ptr(&op->dst[0]), E, k,
        op->params.topk.renormalize);
    return CUDA_LAUNCH_CHECK("topk_route");
}
