/* Device buffers: cl_mem wrapped with its size, so 0-byte buffers (which OpenCL
 * cannot create) are still distinct handles and ranges can be checked. */
#include <string.h>

#include "ocl.h"
#include "ocl_api.h"

static int check_range(const ssmrt_ocl_buffer *b, uint64_t offset, uint64_t bytes,
                       const char *what)
{
    if (offset > b->bytes || bytes > b->bytes - offset)
        return ssmrt_ocl_fail(SSMRT_ERR_INVALID_ARGUMENT,
                              "%s: range [%llu, +%llu) outside a buffer of %llu bytes", what,
                              (unsigned long long)offset, (unsigned long long)bytes,
                              (unsigned long long)b->bytes);
    return SSMRT_OK;
}

int ssmrt_ocl_api_buffer_alloc(void *device, uint64_t bytes, void **out_buffer)
{
    ssmrt_ocl_device *dev = device;
    *out_buffer = NULL;
    if (bytes > dev->max_alloc)
        return ssmrt_ocl_fail(SSMRT_ERR_OUT_OF_MEMORY,
                              "buffer of %llu bytes exceeds %s's largest allocation (%llu bytes)",
                              (unsigned long long)bytes, dev->name,
                              (unsigned long long)dev->max_alloc);
    ssmrt_ocl_buffer *b = ssmrt_ocl_alloc(sizeof *b);
    if (!b)
        return ssmrt_ocl_fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory for a buffer handle");
    b->mem = NULL;
    b->bytes = bytes;
    if (bytes > 0) {
        cl_int err;
        b->mem = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, (size_t)bytes, NULL, &err);
        if (err != CL_SUCCESS) {
            ssmrt_ocl_free(b);
            return ssmrt_ocl_fail(ssmrt_ocl_status_of(err) == SSMRT_ERR_BACKEND
                                      ? SSMRT_ERR_OUT_OF_MEMORY
                                      : ssmrt_ocl_status_of(err),
                                  "allocating %llu bytes on %s: %s",
                                  (unsigned long long)bytes, dev->name,
                                  ssmrt_ocl_error_name(err));
        }
    }
    *out_buffer = b;
    return SSMRT_OK;
}

void ssmrt_ocl_api_buffer_free(void *device, void *buffer)
{
    (void)device;
    ssmrt_ocl_buffer *b = buffer;
    if (!b)
        return;
    if (b->mem)
        clReleaseMemObject(b->mem); /* deferred by OpenCL until enqueued users finish */
    ssmrt_ocl_free(b);
}

int ssmrt_ocl_api_buffer_upload(void *device, void *buffer, uint64_t offset, const void *src,
                                uint64_t bytes)
{
    ssmrt_ocl_device *dev = device;
    ssmrt_ocl_buffer *b = buffer;
    int st = check_range(b, offset, bytes, "upload");
    if (st != SSMRT_OK || bytes == 0)
        return st;
    cl_int err = clEnqueueWriteBuffer(dev->queue, b->mem, CL_TRUE, (size_t)offset, (size_t)bytes,
                                      src, 0, NULL, NULL);
    return err == CL_SUCCESS ? SSMRT_OK : ssmrt_ocl_fail_cl(err, "clEnqueueWriteBuffer");
}

int ssmrt_ocl_api_buffer_download(void *device, void *buffer, uint64_t offset, void *dst,
                                  uint64_t bytes)
{
    ssmrt_ocl_device *dev = device;
    ssmrt_ocl_buffer *b = buffer;
    int st = check_range(b, offset, bytes, "download");
    if (st != SSMRT_OK || bytes == 0)
        return st;
    cl_int err = clEnqueueReadBuffer(dev->queue, b->mem, CL_TRUE, (size_t)offset, (size_t)bytes,
                                     dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? SSMRT_OK : ssmrt_ocl_fail_cl(err, "clEnqueueReadBuffer");
}

int ssmrt_ocl_api_buffer_copy(void *device, void *src, uint64_t src_offset, void *dst,
                              uint64_t dst_offset, uint64_t bytes)
{
    ssmrt_ocl_device *dev = device;
    ssmrt_ocl_buffer *s = src, *d = dst;
    int st = check_range(s, src_offset, bytes, "copy source");
    if (st == SSMRT_OK)
        st = check_range(d, dst_offset, bytes, "copy destination");
    if (st != SSMRT_OK || bytes == 0)
        return st;
    if (s == d && src_offset == dst_offset)
        return SSMRT_OK;
    if (s == d && src_offset < dst_offset + bytes && dst_offset < src_offset + bytes)
        return ssmrt_ocl_fail(SSMRT_ERR_INVALID_ARGUMENT,
                              "copy: overlapping ranges in one buffer");
    cl_int err = clEnqueueCopyBuffer(dev->queue, s->mem, d->mem, (size_t)src_offset,
                                     (size_t)dst_offset, (size_t)bytes, 0, NULL, NULL);
    return err == CL_SUCCESS ? SSMRT_OK : ssmrt_ocl_fail_cl(err, "clEnqueueCopyBuffer");
}

int ssmrt_ocl_api_buffer_fill_zero(void *device, void *buffer, uint64_t offset, uint64_t bytes)
{
    ssmrt_ocl_device *dev = device;
    ssmrt_ocl_buffer *b = buffer;
    int st = check_range(b, offset, bytes, "fill");
    if (st != SSMRT_OK || bytes == 0)
        return st;
    /* A wider pattern where alignment allows: some drivers fill bytewise slowly. */
    const cl_uint zero4 = 0;
    const cl_uchar zero1 = 0;
    int wide = offset % 4 == 0 && bytes % 4 == 0;
    cl_int err = clEnqueueFillBuffer(dev->queue, b->mem, wide ? (const void *)&zero4 : &zero1,
                                     wide ? 4 : 1, (size_t)offset, (size_t)bytes, 0, NULL, NULL);
    return err == CL_SUCCESS ? SSMRT_OK : ssmrt_ocl_fail_cl(err, "clEnqueueFillBuffer");
}
