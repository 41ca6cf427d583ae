/* SSMRT_OP_COPY: copy with dtype conversion (kernels/copy.cl). A contiguous copy in
 * one dtype goes to the driver's buffer copy; a contiguous conversion skips the
 * index arithmetic of the strided kernel. */
#include "ocl.h"

/* Pads shape and strides to 4 dims with leading 1s (stride 0). */
static void pad4(const ssmrt_tensor_desc *t, cl_long shape[4], cl_long stride[4])
{
    int lead = 4 - (int)t->ndim;
    for (int i = 0; i < 4; i++) {
        int j = i - lead;
        shape[i] = j >= 0 ? t->shape[j] : 1;
        stride[i] = j >= 0 ? t->stride[j] : 0;
    }
}

/* Row-major contiguous (dims of size 1 may have any stride). */
static int contiguous(const cl_long shape[4], const cl_long stride[4])
{
    cl_long want = 1;
    for (int i = 3; i >= 0; i--) {
        if (shape[i] != 1 && stride[i] != want)
            return 0;
        want *= shape[i];
    }
    return 1;
}

int ssmrt_ocl_op_copy(ssmrt_ocl_device *dev, const ssmrt_op *op)
{
    const ssmrt_tensor_desc *src = &op->src[0], *dst = &op->dst[0];
    int64_t n = ssmrt_ocl_numel(dst);
    cl_long shape[4], ss[4], ds[4], sshape[4];
    pad4(dst, shape, ds);
    pad4(src, sshape, ss);
    for (int i = 0; i < 4; i++)
        if (sshape[i] != shape[i])
            return ssmrt_ocl_fail(SSMRT_ERR_SHAPE, "copy: source and destination shapes differ");
    if (n == 0)
        return SSMRT_OK;
    int contig = contiguous(shape, ss) && contiguous(shape, ds);
    if (contig && src->dtype == dst->dtype) {
        size_t es = src->dtype == SSMRT_F16 || src->dtype == SSMRT_BF16 ? 2 : 4;
        const ssmrt_ocl_buffer *sb = src->buffer, *db = dst->buffer;
        if (sb == db && src->offset == dst->offset)
            return SSMRT_OK;
        cl_int err = clEnqueueCopyBuffer(dev->queue, sb->mem, db->mem, (size_t)src->offset,
                                         (size_t)dst->offset, (size_t)n * es, 0, NULL, NULL);
        return err == CL_SUCCESS ? SSMRT_OK : ssmrt_ocl_fail_cl(err, "copy: clEnqueueCopyBuffer");
    }
    ssmrt_ocl_kernel *k =
        ssmrt_ocl_kernel_get(dev, "copy", "", contig ? "copy_contiguous" : "copy_strided");
    if (!k)
        return SSMRT_ERR_BACKEND;
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k);
    ssmrt_ocl_arg_tensor(&a, dst);
    ssmrt_ocl_arg_tensor(&a, src);
    if (!contig) {
        cl_long4 vshape = {{shape[0], shape[1], shape[2], shape[3]}};
        cl_long4 vss = {{ss[0], ss[1], ss[2], ss[3]}};
        cl_long4 vds = {{ds[0], ds[1], ds[2], ds[3]}};
        ssmrt_ocl_arg_raw(&a, sizeof vshape, &vshape);
        ssmrt_ocl_arg_raw(&a, sizeof vss, &vss);
        ssmrt_ocl_arg_raw(&a, sizeof vds, &vds);
    }
    ssmrt_ocl_arg_i32(&a, (int32_t)src->dtype);
    ssmrt_ocl_arg_i32(&a, (int32_t)dst->dtype);
    ssmrt_ocl_arg_i64(&a, n);
    size_t local = ssmrt_ocl_wg_size(k, 256), global = (size_t)n;
    return ssmrt_ocl_launch(dev, &a, 1, &global, &local, NULL);
}
