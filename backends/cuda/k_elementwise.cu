/*
 * k_elementwise.cu: COPY (strided, with dtype conversion), ADD/MUL with
 * broadcasting, and the unary ops (SCALE, SILU, SIGMOID, SOFTPLUS, GELU, EXP).
 *
 * All are memory-bound; grid-stride loops with 64-bit indices. Conversions round
 * to nearest even (__float2half_rn, __float2bfloat16_rn, __int2half_rn, ...) and
 * float -> i32 truncates toward zero with saturation and NaN -> 0 (PTX cvt.rzi),
 * the same rules as the CPU reference.
 */
#include <string.h>

#include "common.cuh"

/* ===================================================================== */
/* COPY                                                                   */
/* ===================================================================== */

typedef struct copy_view {
    int64_t shape[4], stride[4];
} copy_view;

/* Element i in row-major order of the view's shape -> element offset. */
__device__ __forceinline__ int64_t view_offset(const copy_view &v, int64_t i) {
    int64_t off = 0;
#pragma unroll
    for (int k = 3; k >= 0; k--) {
        int64_t c = i % v.shape[k];
        i /= v.shape[k];
        off += c * v.stride[k];
    }
    return off;
}

template <typename TD> __device__ __forceinline__ TD from_f32(float x);
template <> __device__ __forceinline__ float from_f32<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_f32<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_f32<__nv_bfloat16>(float x) {
    return __float2bfloat16_rn(x);
}
template <> __device__ __forceinline__ int32_t from_f32<int32_t>(float x) { return __float2int_rz(x); }

template <typename TD> __device__ __forceinline__ TD from_i32(int32_t x);
template <> __device__ __forceinline__ float from_i32<float>(int32_t x) { return __int2float_rn(x); }
template <> __device__ __forceinline__ __half from_i32<__half>(int32_t x) { return __int2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_i32<__nv_bfloat16>(int32_t x) {
    return __int2bfloat16_rn(x);
}
template <> __device__ __forceinline__ int32_t from_i32<int32_t>(int32_t x) { return x; }

template <typename TS, typename TD> __device__ __forceinline__ TD convert(TS x) {
    return from_f32<TD>(cuda_to_f32(x));
}
template <> __device__ __forceinline__ float convert<int32_t, float>(int32_t x) { return from_i32<float>(x); }
template <> __device__ __forceinline__ __half convert<int32_t, __half>(int32_t x) { return from_i32<__half>(x); }
template <> __device__ __forceinline__ __nv_bfloat16 convert<int32_t, __nv_bfloat16>(int32_t x) {
    return from_i32<__nv_bfloat16>(x);
}
template <> __device__ __forceinline__ int32_t convert<int32_t, int32_t>(int32_t x) { return x; }

template <typename TS, typename TD>
__global__ void copy_kernel(const TS *__restrict__ src, TD *__restrict__ dst, int64_t n,
                            copy_view sv, copy_view dv, int contiguous) {
    cuda_pdl_enter();
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t so = contiguous ? i : view_offset(sv, i);
        int64_t d = contiguous ? i : view_offset(dv, i);
        dst[d] = convert<TS, TD>(src[so]);
    }
}

static void make_view(const ssmrt_tensor_desc *d, copy_view *v) {
    int pad = 4 - (int)d->ndim;
    for (int i = 0; i < 4; i++) {
        v->shape[i] = i < pad ? 1 : d->shape[i - pad];
        v->stride[i] = i < pad ? 0 : d->stride[i - pad];
    }
}

static int view_contiguous(const copy_view *v) {
    int64_t expect = 1;
    for (int i = 3; i >= 0; i--) {
        if (v->shape[i] != 1 && v->stride[i] != expect) return 0;
        expect *= v->shape[i];
    }
    return 1;
}

template <typename TS, typename TD>
static void launch_copy(cuda_device *dev, const void *s, void *d, int64_t n, const copy_view &sv,
                        const copy_view &dv, int contiguous) {
    cuda_launch(dev, copy_kernel<TS, TD>, cuda_grid_for(n, 256), 256, 0,
        (const TS *)s, (TD *)d, n, sv, dv, contiguous);
}

template <typename TS>
static void launch_copy_to(cuda_device *dev, uint32_t dt, const void *s, void *d, int64_t n,
                           const copy_view &sv, const copy_view &dv, int contiguous) {
    switch (dt) {
    case SSMRT_F32: launch_copy<TS, float>(dev, s, d, n, sv, dv, contiguous); break;
    case SSMRT_F16: launch_copy<TS, __half>(dev, s, d, n, sv, dv, contiguous); break;
    case SSMRT_BF16: launch_copy<TS, __nv_bfloat16>(dev, s, d, n, sv, dv, contiguous); break;
    default: launch_copy<TS, int32_t>(dev, s, d, n, sv, dv, contiguous); break;
    }
}

int cuda_op_copy(cuda_device *dev, const ssmrt_op *op) {
    int64_t n;
    int rc = cuda_shape_unary(op, &n);
    if (rc || n == 0) return rc;
    if (op->src[0].ndim > 4 || op->dst[0].ndim > 4)
        return cuda_error(SSMRT_ERR_SHAPE, "cuda: copy: more than 4 dims");
    copy_view sv, dv;
    make_view(&op->src[0], &sv);
    make_view(&op->dst[0], &dv);
    const void *s = cuda_desc_ptr(&op->src[0]);
    void *d = cuda_desc_ptr(&op->dst[0]);
    uint32_t st = op->src[0].dtype, dt = op->dst[0].dtype;
    int contiguous = view_contiguous(&sv) && view_contiguous(&dv);
    if (contiguous && st == dt)
        return cuda_check(cudaMemcpyAsync(d, s, (size_t)n * cuda_dtype_size(st),
                                          cudaMemcpyDeviceToDevice, dev->stream),
                          "copy");
    switch (st) {
    case SSMRT_F32: launch_copy_to<float>(dev, dt, s, d, n, sv, dv, contiguous); break;
    case SSMRT_F16: launch_copy_to<__half>(dev, dt, s, d, n, sv, dv, contiguous); break;
    case SSMRT_BF16: launch_copy_to<__nv_bfloat16>(dev, dt, s, d, n, sv, dv, contiguous); break;
    default: launch_copy_to<int32_t>(dev, dt, s, d, n, sv, dv, contiguous); break;
    }
    return CUDA_LAUNCH_CHECK("copy");
}

/* ===================================================================== */
/* ADD, MUL                                                               */
/* ===================================================================== */

typedef struct bcast {
    int64_t dshape[4];
    int64_t bstride[4]; /* src1 strides in dst coordinates: 0 where broadcast */
} bcast;

/* mode: 0 same shape, 1 scalar, 2 last-dim vector, 3 general. */
template <bool MUL, int MODE>
__global__ void binary_kernel(const float *__restrict__ a, const float *__restrict__ b,
                              float *__restrict__ y, int64_t n, bcast bc) {
    cuda_pdl_enter();
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t j;
        if (MODE == 0) {
            j = i;
        } else if (MODE == 1) {
            j = 0;
        } else if (MODE == 2) {
            j = i % bc.dshape[3];
        } else {
            int64_t r = i;
            j = 0;
#pragma unroll
            for (int k = 3; k >= 0; k--) {
                j += (r % bc.dshape[k]) * bc.bstride[k];
                r /= bc.dshape[k];
            }
        }
        float x = a[i], z = b[j];
        y[i] = MUL ? x * z : x + z;
    }
}

template <bool MUL>
static void launch_binary(cuda_device *dev, int mode, const float *a, const float *b, float *y,
                          int64_t n, const bcast &bc) {
    unsigned g = cuda_grid_for(n, 256);
    switch (mode) {
    case 0: cuda_launch(dev, binary_kernel<MUL, 0>, g, 256, 0, a, b, y, n, bc); break;
    case 1: cuda_launch(dev, binary_kernel<MUL, 1>, g, 256, 0, a, b, y, n, bc); break;
    case 2: cuda_launch(dev, binary_kernel<MUL, 2>, g, 256, 0, a, b, y, n, bc); break;
    default: cuda_launch(dev, binary_kernel<MUL, 3>, g, 256, 0, a, b, y, n, bc); break;
    }
}

int cuda_op_binary(cuda_device *dev, const ssmrt_op *op) {
    int64_t ds[4], bs[4];
    int rc = cuda_shape_binary(op, ds, bs);
    if (rc) return rc;
    int64_t n = ds[0] * ds[1] * ds[2] * ds[3], nb = bs[0] * bs[1] * bs[2] * bs[3];
    if (n == 0) return 0;
    bcast bc;
    int64_t s = 1;
    for (int k = 3; k >= 0; k--) {
        bc.dshape[k] = ds[k];
        bc.bstride[k] = bs[k] == 1 ? 0 : s;
        s *= bs[k];
    }
    int mode = nb == n ? 0 : nb == 1 ? 1 : (bs[0] == 1 && bs[1] == 1 && bs[2] == 1) ? 2 : 3;
    const float *a = (const float *)cuda_desc_ptr(&op->src[0]);
    const float *b = (const float *)cuda_desc_ptr(&op->src[1]);
    float *y = (float *)cuda_desc_ptr(&op->dst[0]);
    if (op->kind == SSMRT_OP_MUL)
        launch_binary<true>(dev, mode, a, b, y, n, bc);
    else
        launch_binary<false>(dev, mode, a, b, y, n, bc);
    return CUDA_LAUNCH_CHECK(cuda_op_name(op->kind));
}

/* ===================================================================== */
/* Unary ops                                                              */
/* ===================================================================== */

template <int KIND> __device__ __forceinline__ float unary_apply(float x, float alpha, float beta) {
    switch (KIND) {
    case SSMRT_OP_SCALE: return fmaf(x, alpha, beta);
    case SSMRT_OP_SILU: return cuda_silu(x);
    case SSMRT_OP_SIGMOID: return cuda_sigmoid(x);
    case SSMRT_OP_SOFTPLUS: return cuda_softplus(x);
    case SSMRT_OP_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    default: return expf(x);
    }
}

template <int KIND>
__global__ void unary_kernel(const float *__restrict__ x, float *__restrict__ y, int64_t n,
                             float alpha, float beta) {
    cuda_pdl_enter();
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        y[i] = unary_apply<KIND>(x[i], alpha, beta);
}

int cuda_op_unary(cuda_device *dev, const ssmrt_op *op) {
    int64_t n;
    int rc = cuda_shape_unary(op, &n);
    if (rc || n == 0) return rc;
    const float *x = (const float *)cuda_desc_ptr(&op->src[0]);
    float *y = (float *)cuda_desc_ptr(&op->dst[0]);
    float alpha = op->params.scale.alpha, beta = op->params.scale.beta;
    unsigned g = cuda_grid_for(n, 256);
    switch (op->kind) {
    case SSMRT_OP_SCALE: cuda_launch(dev, unary_kernel<SSMRT_OP_SCALE>, g, 256, 0, x, y, n, alpha, beta); break;
    case SSMRT_OP_SILU: cuda_launch(dev, unary_kernel<SSMRT_OP_SILU>, g, 256, 0, x, y, n, alpha, beta); break;
    case SSMRT_OP_SIGMOID: cuda_launch(dev, unary_kernel<SSMRT_OP_SIGMOID>, g, 256, 0, x, y, n, alpha, beta); break;
    case SSMRT_OP_SOFTPLUS: cuda_launch(dev, unary_kernel<SSMRT_OP_SOFTPLUS>, g, 256, 0, x, y, n, alpha, beta); break;
    case SSMRT_OP_GELU: cuda_launch(dev, unary_kernel<SSMRT_OP_GELU>, g, 256, 0, x, y, n, alpha, beta); break;
    case SSMRT_OP_EXP: cuda_launch(dev, unary_kernel<SSMRT_OP_EXP>, g, 256, 0, x, y, n, alpha, beta); break;
    default: return cuda_error(SSMRT_ERR_UNSUPPORTED, "cuda: op %u is not unary", op->kind);
    }
    return CUDA_LAUNCH_CHECK(cuda_op_name(op->kind));
}
