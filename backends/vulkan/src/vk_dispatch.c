/*
 * vk_dispatch.c: records one compute dispatch.
 *
 * Tensors may start anywhere in a buffer (views, arena offsets), but storage
 * buffer descriptors must start at a multiple of minStorageBufferOffsetAlignment
 * and may span at most maxStorageBufferRange bytes. So each binding starts at the
 * tensor's offset rounded down to the alignment, and the kernel receives the
 * remainder as an element offset in the first push constants (one uint per
 * binding, in binding order). Because a binding never exceeds
 * maxStorageBufferRange (< 4 GiB), 32-bit element indices inside kernels cannot
 * overflow; a tensor that would need more is refused with a message.
 */
#include <string.h>

#include "vk_internal.h"

static uint32_t dtype_size(uint32_t dt) { return dt == SSMRT_F16 || dt == SSMRT_BF16 ? 2 : 4; }

int vk_bind_tensor(vk_device *d, const ssmrt_tensor_desc *t, int write, vk_binding *out) {
    (void)d;
    memset(out, 0, sizeof *out);
    if (!vk_desc_present(t)) return 0;
    if (!t->buffer) return vk_error(SSMRT_ERR_INVALID_ARGUMENT, "vulkan: a tensor has no buffer");
    if (t->dtype >= SSMRT_DTYPE_COUNT || t->ndim > SSMRT_MAX_DIMS)
        return vk_error(SSMRT_ERR_INVALID_ARGUMENT, "vulkan: tensor with dtype %u and %u dims",
                        t->dtype, t->ndim);
    uint64_t bytes;
    uint32_t k = 0;
    ssmrt_desc_span_status span = ssmrt_desc_span_bytes(t, dtype_size(t->dtype), &bytes, &k);
    if (span == SSMRT_DESC_SPAN_NEGATIVE)
        return vk_error(SSMRT_ERR_INVALID_ARGUMENT,
                        "vulkan: tensor dim %u has shape %lld stride %lld", k,
                        (long long)t->shape[k], (long long)t->stride[k]);
    if (span == SSMRT_DESC_SPAN_OVERFLOW)
        return vk_error(SSMRT_ERR_INVALID_ARGUMENT, "vulkan: tensor extent overflows");
    if (bytes == 0) return 0; /* empty: nothing to bind */
    vk_buffer *b = t->buffer;
    if (t->offset > b->size || bytes > b->size - t->offset)
        return vk_error(SSMRT_ERR_INVALID_ARGUMENT,
                        "vulkan: tensor reaches byte %llu + %llu of a %llu-byte buffer",
                        (unsigned long long)t->offset, (unsigned long long)bytes,
                        (unsigned long long)b->size);
    out->buf = b;
    out->offset = t->offset;
    out->bytes = bytes;
    out->esize = dtype_size(t->dtype);
    out->write = write;
    return 0;
}

uint32_t vk_groups(const vk_device *d, uint64_t items, uint32_t per_group) {
    uint64_t g = (items + per_group - 1) / per_group;
    uint64_t cap = d->caps.props.limits.maxComputeWorkGroupCount[0];
    if (g > cap) g = cap;
    return g ? (uint32_t)g : 1;
}

int vk_dispatch(vk_device *d, const vk_pipeline_key *key, const vk_binding *b, uint32_t nb,
                const void *push, uint32_t push_bytes, uint32_t gx, uint32_t gy, uint32_t gz) {
    if (nb > VK_MAX_BINDINGS || 4u * nb + push_bytes > VK_PUSH_BYTES)
        return vk_error(SSMRT_ERR_INTERNAL, "vulkan: dispatch with %u bindings and %u push bytes",
                        nb, push_bytes);
    const uint32_t *lim = d->caps.props.limits.maxComputeWorkGroupCount;
    if (gx > lim[0] || gy > lim[1] || gz > lim[2])
        return vk_error(SSMRT_ERR_UNSUPPORTED,
                        "vulkan: %u x %u x %u workgroups exceed the device limit %u x %u x %u", gx,
                        gy, gz, lim[0], lim[1], lim[2]);
    int rc = vk_debug_check(d, "enqueue");
    if (rc) return rc;
    if (!gx || !gy || !gz) return 0;

    uint64_t align = d->caps.props.limits.minStorageBufferOffsetAlignment;
    if (align < 16) align = 16;
    uint64_t max_range = d->caps.props.limits.maxStorageBufferRange;
    VkDescriptorBufferInfo info[VK_MAX_BINDINGS];
    uint32_t pc[VK_PUSH_BYTES / 4];
    memset(pc, 0, sizeof pc);
    vk_range reads[VK_MAX_BINDINGS], writes[VK_MAX_BINDINGS];
    uint32_t n_reads = 0, n_writes = 0;
    for (uint32_t i = 0; i < VK_MAX_BINDINGS; i++) {
        if (i >= nb || !b[i].buf) {
            info[i] = (VkDescriptorBufferInfo){d->dummy->buf, 0, VK_WHOLE_SIZE};
            if (i < nb) pc[i] = 0;
            continue;
        }
        const vk_binding *x = &b[i];
        uint64_t base = x->offset / align * align, delta = x->offset - base;
        uint64_t range = x->buf->vk_size - base;
        if (range > max_range) range = max_range;
        if (delta % x->esize)
            return vk_error(SSMRT_ERR_INVALID_ARGUMENT,
                            "vulkan: tensor offset %llu is not a multiple of its element size",
                            (unsigned long long)x->offset);
        if (delta + x->bytes > range)
            return vk_error(SSMRT_ERR_UNSUPPORTED,
                            "vulkan: a tensor of %llu bytes exceeds what one descriptor can bind "
                            "on %s (maxStorageBufferRange %llu bytes)",
                            (unsigned long long)x->bytes, d->caps.props.deviceName,
                            (unsigned long long)max_range);
        info[i] = (VkDescriptorBufferInfo){x->buf->buf, base, range};
        pc[i] = (uint32_t)(delta / x->esize);
        vk_range r = {x->buf->buf, x->offset, x->offset + x->bytes};
        if (x->write)
            writes[n_writes++] = r;
        else
            reads[n_reads++] = r;
    }
    if (push_bytes) memcpy(&pc[nb], push, push_bytes);

    VkPipeline pipe;
    if ((rc = vk_pipeline_get(d, key, &pipe))) return rc;
    VkCommandBuffer cb;
    if ((rc = vk_submit_recording(d, &cb))) return rc;
    VkDescriptorSet set;
    if ((rc = vk_submit_alloc_set(d, &set))) return rc;
    VkWriteDescriptorSet w = {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                              .dstSet = set,
                              .dstBinding = 0,
                              .descriptorCount = VK_MAX_BINDINGS,
                              .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                              .pBufferInfo = info};
    d->fn.vkUpdateDescriptorSets(d->dev, 1, &w, 0, NULL);

    vk_submit_track(d, reads, n_reads, writes, n_writes);
    d->fn.vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
    d->fn.vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, d->layout, 0, 1, &set, 0,
                                  NULL);
    /* The whole block, so no member a kernel reads is ever left unset. */
    d->fn.vkCmdPushConstants(cb, d->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, VK_PUSH_BYTES, pc);
    d->fn.vkCmdDispatch(cb, gx, gy, gz);
    if (vk_host->log_level >= SSMRT_LOG_DEBUG)
        vk_log(SSMRT_LOG_DEBUG, "vulkan: dispatch %s local %ux%ux%u groups %ux%ux%u",
               vk_kernel_name(key->kernel), key->spec[0], key->spec[1], key->spec[2], gx, gy, gz);
    d->frames[d->cur].n_dispatches++;
    return 0;
}
