/*
 * buffers.cu: device buffers and transfers.
 *
 * A buffer is plain cudaMalloc memory (never managed memory). Uploads and
 * downloads are ordered after all enqueued work (they go on the device stream);
 * downloads and large uploads wait for it, and the caller's source memory is free
 * to reuse when an upload returns. Copies and fills are enqueued only.
 */
#include <string.h>

#include "cuda_backend.h"

/* Uploads up to this size from pageable memory do not wait for the device. */
#define CUDA_UPLOAD_NOWAIT_BYTES (64u << 10)

static int range_ok(const cuda_buffer *b, uint64_t offset, uint64_t bytes, const char *what) {
    if (!b) return cuda_error(SSMRT_ERR_INVALID_ARGUMENT, "cuda: %s: no buffer", what);
    if (offset > b->size || bytes > b->size - offset)
        return cuda_error(SSMRT_ERR_INVALID_ARGUMENT,
                          "cuda: %s: bytes [%llu, %llu + %llu) outside a %llu-byte buffer", what,
                          (unsigned long long)offset, (unsigned long long)offset,
                          (unsigned long long)bytes, (unsigned long long)b->size);
    return 0;
}

int cuda_buffer_alloc(void *device, uint64_t bytes, void **out_buffer) {
    cuda_device *d = (cuda_device *)device;
    cuda_buffer *b = (cuda_buffer *)cuda_host_alloc(sizeof *b);
    if (!b) return cuda_error(SSMRT_ERR_OUT_OF_MEMORY, "cuda: out of host memory for a buffer");
    memset(b, 0, sizeof *b);
    b->size = bytes;
    if (bytes) {
        cudaError_t err = cudaSetDevice(d->ordinal);
        if (err == cudaSuccess) err = cudaMalloc((void **)&b->ptr, bytes);
        if (err != cudaSuccess) {
            cudaGetLastError(); /* an allocation failure is not sticky; clear it */
            cuda_host_free(b);
            if (err == cudaErrorMemoryAllocation) {
                size_t free_b = 0, total = 0;
                cudaMemGetInfo(&free_b, &total);
                return cuda_error(SSMRT_ERR_OUT_OF_MEMORY,
                                  "cuda: out of device memory allocating %llu bytes (%llu of "
                                  "%llu free)",
                                  (unsigned long long)bytes, (unsigned long long)free_b,
                                  (unsigned long long)total);
            }
            return cuda_check(err, "cudaMalloc");
        }
    }
    *out_buffer = b;
    return 0;
}

void cuda_buffer_free(void *device, void *buffer) {
    cuda_device *d = (cuda_device *)device;
    cuda_buffer *b = (cuda_buffer *)buffer;
    if (!b) return;
    if (b->ptr) {
        /* Ops held back by a batch may still read it: launch them first. cudaFree
         * itself waits for the device before releasing the memory. */
        cuda_batch_flush(d);
        cudaSetDevice(d->ordinal);
        cudaFree(b->ptr);
    }
    cuda_host_free(b);
}

int cuda_buffer_upload(void *device, void *buffer, uint64_t offset, const void *src,
                       uint64_t bytes) {
    cuda_device *d = (cuda_device *)device;
    cuda_buffer *b = (cuda_buffer *)buffer;
    int rc = range_ok(b, offset, bytes, "upload");
    if (rc || bytes == 0) return rc;
    if ((rc = cuda_batch_flush(d))) return rc;
    rc = cuda_check(cudaMemcpyAsync(b->ptr + offset, src, bytes, cudaMemcpyHostToDevice, d->stream),
                    "upload");
    if (rc) return rc;
    /* From pageable memory, cudaMemcpyAsync returns once src has been copied to
     * the driver's staging memory, so the caller may reuse src at once and the
     * stream orders the copy before later kernels: a decode step's token id
     * then costs no wait for the device. Pinned (or unknown) memory would be
     * read by the DMA later, and large uploads are rare: those still wait. */
    cudaPointerAttributes at;
    if (bytes <= CUDA_UPLOAD_NOWAIT_BYTES && cudaPointerGetAttributes(&at, src) == cudaSuccess &&
        at.type == cudaMemoryTypeUnregistered)
        return 0;
    cudaGetLastError(); /* cudaPointerGetAttributes may have set it */
    return cuda_check(cudaStreamSynchronize(d->stream), "upload: waiting for the device");
}

int cuda_buffer_download(void *device, void *buffer, uint64_t offset, void *dst,
                         uint64_t bytes) {
    cuda_device *d = (cuda_device *)device;
    cuda_buffer *b = (cuda_buffer *)buffer;
    int rc = range_ok(b, offset, bytes, "download");
    if (rc || bytes == 0) return rc;
    if ((rc = cuda_batch_flush(d))) return rc;
    /* Into pageable memory the driver copies through its own staging in pieces;
     * one DMA into pinned memory and a memcpy is quicker for what fits (a decode
     * step's logits). */
    const int staged = d->staging && bytes <= CUDA_STAGING_BYTES;
    rc = cuda_check(cudaMemcpyAsync(staged ? d->staging : dst, b->ptr + offset, bytes,
                                    cudaMemcpyDeviceToHost, d->stream),
                    "download");
    if (!rc) rc = cuda_check(cudaStreamSynchronize(d->stream), "download: waiting for the device");
    if (!rc && staged) memcpy(dst, d->staging, bytes);
    return rc;
}

int cuda_buffer_copy(void *device, void *src, uint64_t src_offset, void *dst,
                     uint64_t dst_offset, uint64_t bytes) {
    cuda_device *d = (cuda_device *)device;
    cuda_buffer *s = (cuda_buffer *)src, *t = (cuda_buffer *)dst;
    int rc = range_ok(s, src_offset, bytes, "copy source");
    if (!rc) rc = range_ok(t, dst_offset, bytes, "copy destination");
    if (rc || bytes == 0) return rc;
    if ((rc = cuda_batch_flush(d))) return rc;
    return cuda_check(cudaMemcpyAsync(t->ptr + dst_offset, s->ptr + src_offset, bytes,
                                      cudaMemcpyDeviceToDevice, d->stream),
                      "buffer copy");
}

int cuda_buffer_fill_zero(void *device, void *buffer, uint64_t offset, uint64_t bytes) {
    cuda_device *d = (cuda_device *)device;
    cuda_buffer *b = (cuda_buffer *)buffer;
    int rc = range_ok(b, offset, bytes, "fill");
    if (rc || bytes == 0) return rc;
    if ((rc = cuda_batch_flush(d))) return rc;
    return cuda_check(cudaMemsetAsync(b->ptr + offset, 0, bytes, d->stream), "fill zero");
}
