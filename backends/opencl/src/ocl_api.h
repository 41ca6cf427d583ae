/* The vtable's device-level entries (ocl_device.c, ocl_buffer.c, ocl_dispatch.c). */
#ifndef SSMRT_OCL_API_H
#define SSMRT_OCL_API_H

#include "ocl.h"

int ssmrt_ocl_api_device_open(void *backend, uint32_t index, void **out_device);
void ssmrt_ocl_api_device_close(void *device);
int ssmrt_ocl_api_buffer_alloc(void *device, uint64_t bytes, void **out_buffer);
void ssmrt_ocl_api_buffer_free(void *device, void *buffer);
int ssmrt_ocl_api_buffer_upload(void *device, void *buffer, uint64_t offset, const void *src,
                                uint64_t bytes);
int ssmrt_ocl_api_buffer_download(void *device, void *buffer, uint64_t offset, void *dst,
                                  uint64_t bytes);
int ssmrt_ocl_api_buffer_copy(void *device, void *src, uint64_t src_offset, void *dst,
                              uint64_t dst_offset, uint64_t bytes);
int ssmrt_ocl_api_buffer_fill_zero(void *device, void *buffer, uint64_t offset, uint64_t bytes);
int ssmrt_ocl_api_supports(void *device, const ssmrt_op *op);
int ssmrt_ocl_api_enqueue(void *device, const ssmrt_op *op);
int ssmrt_ocl_api_synchronize(void *device);
int ssmrt_ocl_api_end_batch(void *device);
int ssmrt_ocl_api_timer_mark(void *device, uint32_t slot);
int ssmrt_ocl_api_timer_read(void *device, uint32_t slot_begin, uint32_t slot_end,
                             double *out_ns);

/* Hardware SIMD width where the driver says (NVIDIA warp, AMD wavefront), else 0. */
uint32_t ssmrt_ocl_subgroup_size(cl_device_id d);

#endif
