/*
 * k_gather.cu: EMBEDDING, y[m, :] = table[ids[m], :] as f32.
 *
 * An id outside [0, V) gives a row of zeros (the ABI's rule: sessions validate
 * ids on the host, and a kernel must never read outside the table).
 */
#include "common.cuh"

template <typename T>
__global__ void embedding_kernel(const T *__restrict__ table, const int32_t *__restrict__ ids,
                                 float *__restrict__ y, int64_t M, int64_t V, int64_t D) {
    cuda_pdl_enter();
    for (int64_t m = blockIdx.x; m < M; m += gridDim.x) {
        int32_t id = ids[m];
        bool ok = id >= 0 && (int64_t)id < V;
        const T *row = table + (ok ? (int64_t)id : 0) * D;
        float *out = y + m * D;
        for (int64_t d = threadIdx.x; d < D; d += blockDim.x) out[d] = ok ? cuda_to_f32(row[d]) : 0.0f;
    }
}

int cuda_op_embedding(cuda_device *dev, const ssmrt_op *op) {
    int64_t M, V, D;
    int rc = cuda_shape_embedding(op, &M, &V, &D);
    if (rc || M == 0 || D == 0) return rc;
    const void *t = cuda_desc_ptr(&op->src[0]);
    const int32_t *ids = (const int32_t *)cuda_desc_ptr(&op->src[1]);
    float *y = (float *)cuda_desc_ptr(&op->dst[0]);
    unsigned grid = (unsigned)(M < 65535 ? M : 65535);
    int threads = D >= 256 ? 256 : D > 64 ? 128 : 64;
    switch (op->src[0].dtype) {
    case SSMRT_F32:
        cuda_launch(dev, embedding_kernel<float>, grid, threads, 0, (const float *)t, ids, y, M, V, D);
        break;
    case SSMRT_F16:
        cuda_launch(dev, embedding_kernel<__half>, grid, threads, 0, (const __half *)t, ids, y, M, V, D);
        break;
    default:
        cuda_launch(dev, embedding_kernel<__nv_bfloat16>, grid, threads, 0, (const __nv_bfloat16 *)t,
                                                                          ids, y, M, V, D);
        break;
    }
    return CUDA_LAUNCH_CHECK("embedding");
}
