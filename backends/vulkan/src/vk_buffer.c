/*
 * vk_buffer.c: buffers and transfers.
 *
 * Each ssmrt buffer is one VkBuffer with its own allocation. Uploads and downloads
 * are blocking and ordered after all enqueued work: they first wait for it, then
 * either copy through the persistent mapping (unified memory) or through the
 * staging buffer in chunks (discrete GPUs). Non-coherent memory is flushed and
 * invalidated over ranges rounded to nonCoherentAtomSize.
 */
#include <string.h>

#include "vk_internal.h"

/* ===================================================================== */
/* Creation                                                               */
/* ===================================================================== */

int vk_buffer_create(vk_device *d, uint64_t bytes, uint32_t mem_type, int map,
                     VkBufferUsageFlags usage, vk_buffer **out) {
    *out = NULL;
    if (bytes > UINT64_MAX - 16)
        return vk_error(SSMRT_ERR_OUT_OF_MEMORY, "vulkan: buffer of %llu bytes is too large",
                        (unsigned long long)bytes);
    vk_buffer *b = vk_host->alloc(sizeof *b);
    if (!b) return vk_error(SSMRT_ERR_OUT_OF_MEMORY, "vulkan: out of host memory");
    memset(b, 0, sizeof *b);
    b->size = bytes;
    /* At least 16 bytes and whole words: descriptors need a non-empty range and
     * the fill kernel writes whole words. */
    b->vk_size = bytes < 16 ? 16 : (bytes + 3) & ~(uint64_t)3;
    VkBufferCreateInfo bci = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                              .size = b->vk_size,
                              .usage = usage,
                              .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = d->fn.vkCreateBuffer(d->dev, &bci, NULL, &b->buf);
    if (r != VK_SUCCESS) {
        vk_host->free(b);
        return vk_fail(d, r, "vkCreateBuffer");
    }
    VkMemoryRequirements req;
    d->fn.vkGetBufferMemoryRequirements(d->dev, b->buf, &req);
    VkPhysicalDeviceMemoryProperties mp;
    d->be->fn.vkGetPhysicalDeviceMemoryProperties(d->phys, &mp);
    uint32_t type = mem_type;
    if (!(req.memoryTypeBits & (1u << type))) {
        /* Another type with the same properties, if the buffer cannot use ours. */
        VkMemoryPropertyFlags want = mp.memoryTypes[mem_type].propertyFlags;
        type = UINT32_MAX;
        for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; i++)
            if ((req.memoryTypeBits & (1u << i)) &&
                (mp.memoryTypes[i].propertyFlags & want) == want)
                type = i;
        if (type == UINT32_MAX) {
            d->fn.vkDestroyBuffer(d->dev, b->buf, NULL);
            vk_host->free(b);
            return vk_error(SSMRT_ERR_BACKEND, "vulkan: no memory type fits a storage buffer");
        }
    }
    VkMemoryAllocateInfo mai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                .allocationSize = req.size,
                                .memoryTypeIndex = type};
    r = d->fn.vkAllocateMemory(d->dev, &mai, NULL, &b->mem);
    if (r == VK_SUCCESS) r = d->fn.vkBindBufferMemory(d->dev, b->buf, b->mem, 0);
    if (r == VK_SUCCESS && map) r = d->fn.vkMapMemory(d->dev, b->mem, 0, VK_WHOLE_SIZE, 0, &b->mapped);
    if (r != VK_SUCCESS) {
        if (b->mem) d->fn.vkFreeMemory(d->dev, b->mem, NULL);
        d->fn.vkDestroyBuffer(d->dev, b->buf, NULL);
        vk_host->free(b);
        if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
            return vk_error(SSMRT_ERR_OUT_OF_MEMORY,
                            "vulkan: out of device memory allocating %llu bytes (%s)",
                            (unsigned long long)bytes, vk_result_name(r));
        return vk_fail(d, r, "allocating buffer memory");
    }
    b->coherent = (mp.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
    *out = b;
    return 0;
}

int vk_scratch(vk_device *d, uint64_t bytes, vk_buffer **out) {
    if (!d->scratch || d->scratch->size < bytes) {
        int rc = vk_submit_wait(d);
        if (rc) return rc;
        vk_buffer_destroy(d, d->scratch);
        d->scratch = NULL;
        /* Some headroom, so a slowly growing need does not wait each time. */
        rc = vk_buffer_create(d, bytes + bytes / 4, d->mem_buffers, d->buffers_mapped,
                              VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, &d->scratch);
        if (rc) return rc;
    }
    *out = d->scratch;
    return 0;
}

void vk_buffer_destroy(vk_device *d, vk_buffer *b) {
    if (!b) return;
    if (b->mapped) d->fn.vkUnmapMemory(d->dev, b->mem);
    d->fn.vkDestroyBuffer(d->dev, b->buf, NULL);
    d->fn.vkFreeMemory(d->dev, b->mem, NULL);
    vk_host->free(b);
}

/* ===================================================================== */
/* Mapped memory helpers                                                  */
/* ===================================================================== */

static VkMappedMemoryRange atom_range(vk_device *d, vk_buffer *b, uint64_t off, uint64_t bytes) {
    uint64_t atom = d->caps.props.limits.nonCoherentAtomSize;
    if (!atom) atom = 1;
    uint64_t lo = off / atom * atom;
    uint64_t hi = (off + bytes + atom - 1) / atom * atom;
    VkMappedMemoryRange mr = {.sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
                              .memory = b->mem,
                              .offset = lo,
                              .size = hi - lo};
    /* Up to the end of the allocation, VK_WHOLE_SIZE is the valid spelling. */
    VkMemoryRequirements req;
    d->fn.vkGetBufferMemoryRequirements(d->dev, b->buf, &req);
    if (hi >= req.size) mr.size = VK_WHOLE_SIZE;
    return mr;
}

static int flush(vk_device *d, vk_buffer *b, uint64_t off, uint64_t bytes) {
    if (b->coherent || !bytes) return 0;
    VkMappedMemoryRange mr = atom_range(d, b, off, bytes);
    VkResult r = d->fn.vkFlushMappedMemoryRanges(d->dev, 1, &mr);
    return r == VK_SUCCESS ? 0 : vk_fail(d, r, "vkFlushMappedMemoryRanges");
}

static int invalidate(vk_device *d, vk_buffer *b, uint64_t off, uint64_t bytes) {
    if (b->coherent || !bytes) return 0;
    VkMappedMemoryRange mr = atom_range(d, b, off, bytes);
    VkResult r = d->fn.vkInvalidateMappedMemoryRanges(d->dev, 1, &mr);
    return r == VK_SUCCESS ? 0 : vk_fail(d, r, "vkInvalidateMappedMemoryRanges");
}

/* ===================================================================== */
/* ABI                                                                    */
/* ===================================================================== */

int vk_abi_buffer_alloc(void *device, uint64_t bytes, void **out_buffer) {
    vk_device *d = device;
    vk_buffer *b = NULL;
    int rc = vk_buffer_create(d, bytes, d->mem_buffers, d->buffers_mapped,
                              VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                  VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                  VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                              &b);
    *out_buffer = b;
    if (vk_host->log_level >= SSMRT_LOG_DEBUG)
        vk_log(SSMRT_LOG_DEBUG, "vulkan: buffer_alloc %llu bytes -> %s", (unsigned long long)bytes,
               rc ? "failed" : "ok");
    return rc;
}

void vk_abi_buffer_free(void *device, void *buffer) {
    vk_device *d = device;
    if (!buffer) return;
    /* Work still queued may use the buffer: let it finish first. Errors of that
     * work stay reported by the next synchronize. */
    if (d->cur >= 0 || d->n_frames) {
        for (uint32_t i = 0; i < d->n_frames; i++)
            if (d->frames[i].state != VK_FRAME_FREE) {
                vk_submit_wait(d);
                break;
            }
    }
    vk_buffer_destroy(d, buffer);
}

static int check_range(const vk_buffer *b, uint64_t offset, uint64_t bytes, const char *what) {
    if (!b) return vk_error(SSMRT_ERR_INVALID_ARGUMENT, "vulkan: %s: NULL buffer", what);
    if (offset > b->size || bytes > b->size - offset)
        return vk_error(SSMRT_ERR_INVALID_ARGUMENT,
                        "vulkan: %s: bytes [%llu, %llu) outside a %llu-byte buffer", what,
                        (unsigned long long)offset, (unsigned long long)(offset + bytes),
                        (unsigned long long)b->size);
    return 0;
}

/* One staged chunk: record the copy in a fresh frame, submit and wait. */
static int staged_copy(vk_device *d, VkBuffer src, uint64_t src_off, VkBuffer dst,
                       uint64_t dst_off, uint64_t bytes) {
    VkCommandBuffer cb;
    int rc = vk_submit_recording(d, &cb);
    if (rc) return rc;
    vk_submit_barrier(d); /* orders the copy after earlier submissions */
    VkBufferCopy region = {.srcOffset = src_off, .dstOffset = dst_off, .size = bytes};
    d->fn.vkCmdCopyBuffer(cb, src, dst, 1, &region);
    return vk_submit_wait(d);
}

int vk_abi_buffer_upload(void *device, void *buffer, uint64_t offset, const void *src,
                         uint64_t bytes) {
    vk_device *d = device;
    vk_buffer *b = buffer;
    int rc = check_range(b, offset, bytes, "upload");
    if (rc || !bytes) return rc;
    if ((rc = vk_submit_wait(d))) return rc;
    if (b->mapped) {
        memcpy((char *)b->mapped + offset, src, (size_t)bytes);
        return flush(d, b, offset, bytes);
    }
    for (uint64_t done = 0; done < bytes;) {
        uint64_t n = bytes - done < d->staging->vk_size ? bytes - done : d->staging->vk_size;
        memcpy(d->staging->mapped, (const char *)src + done, (size_t)n);
        if ((rc = flush(d, d->staging, 0, n))) return rc;
        if ((rc = staged_copy(d, d->staging->buf, 0, b->buf, offset + done, n))) return rc;
        done += n;
    }
    return 0;
}

int vk_abi_buffer_download(void *device, void *buffer, uint64_t offset, void *dst,
                           uint64_t bytes) {
    vk_device *d = device;
    vk_buffer *b = buffer;
    int rc = check_range(b, offset, bytes, "download");
    if (rc || !bytes) return rc;
    if ((rc = vk_submit_wait(d))) return rc;
    if (b->mapped) {
        if ((rc = invalidate(d, b, offset, bytes))) return rc;
        memcpy(dst, (const char *)b->mapped + offset, (size_t)bytes);
        return 0;
    }
    for (uint64_t done = 0; done < bytes;) {
        uint64_t n = bytes - done < d->staging->vk_size ? bytes - done : d->staging->vk_size;
        if ((rc = staged_copy(d, b->buf, offset + done, d->staging->buf, 0, n))) return rc;
        if ((rc = invalidate(d, d->staging, 0, n))) return rc;
        memcpy((char *)dst + done, d->staging->mapped, (size_t)n);
        done += n;
    }
    return 0;
}

int vk_abi_buffer_copy(void *device, void *src, uint64_t src_offset, void *dst,
                       uint64_t dst_offset, uint64_t bytes) {
    vk_device *d = device;
    vk_buffer *s = src, *t = dst;
    int rc = check_range(s, src_offset, bytes, "copy source");
    if (!rc) rc = check_range(t, dst_offset, bytes, "copy destination");
    if (rc || !bytes) return rc;
    if (s == t && src_offset < dst_offset + bytes && dst_offset < src_offset + bytes)
        return vk_error(SSMRT_ERR_INVALID_ARGUMENT,
                        "vulkan: copy: source and destination ranges overlap");
    if ((rc = vk_debug_check(d, "buffer_copy"))) return rc;
    VkCommandBuffer cb;
    if ((rc = vk_submit_recording(d, &cb))) return rc;
    vk_range rd = {s->buf, src_offset, src_offset + bytes}, wr = {t->buf, dst_offset, dst_offset + bytes};
    vk_submit_track(d, &rd, 1, &wr, 1);
    VkBufferCopy region = {.srcOffset = src_offset, .dstOffset = dst_offset, .size = bytes};
    d->fn.vkCmdCopyBuffer(cb, s->buf, t->buf, 1, &region);
    return 0;
}

int vk_abi_buffer_fill_zero(void *device, void *buffer, uint64_t offset, uint64_t bytes) {
    vk_device *d = device;
    vk_buffer *b = buffer;
    int rc = check_range(b, offset, bytes, "fill_zero");
    if (rc || !bytes) return rc;
    if ((rc = vk_debug_check(d, "buffer_fill_zero"))) return rc;
    /* Whole words in the middle by vkCmdFillBuffer; a partial first or last word
     * by the fill kernel, which clears only the bytes inside the range. */
    uint64_t end = offset + bytes;
    uint64_t w_lo = offset / 4, w_hi = (end + 3) / 4; /* words touched */
    uint64_t a_lo = (offset + 3) / 4, a_hi = end / 4; /* words fully inside */
    if (a_hi > a_lo && (offset % 4 == 0) && (end % 4 == 0)) {
        VkCommandBuffer cb;
        if ((rc = vk_submit_recording(d, &cb))) return rc;
        vk_range wr = {b->buf, offset, end};
        vk_submit_track(d, NULL, 0, &wr, 1);
        d->fn.vkCmdFillBuffer(cb, b->buf, offset, bytes, 0);
        return 0;
    }
    uint32_t head = 0xFFFFFFFFu, tail = 0xFFFFFFFFu;
    if (offset % 4) head = 0xFFFFFFFFu << (8 * (offset % 4));
    if (end % 4) tail = 0xFFFFFFFFu >> (8 * (4 - end % 4));
    if (w_hi - w_lo == 1) head = tail = head & tail;
    return vk_op_fill_words(d, b, w_lo, w_hi - w_lo, head, tail);
}
