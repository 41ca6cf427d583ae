/*
 * vk_submit.c: command recording and submission.
 *
 * Enqueued work is recorded into the current frame's command buffer; nothing is
 * submitted until end_batch, synchronize, or a blocking transfer. A whole graph
 * therefore becomes one vkQueueSubmit. Frames (command buffer + fence + the
 * descriptor pools their sets came from) are recycled after their fence signals.
 *
 * Barriers: the byte ranges each dispatch reads and writes since the last barrier
 * are remembered; a new dispatch that reads what was written (RAW), or writes
 * what was read or written (WAR, WAW), first records one global memory barrier
 * (compute and transfer, both ways). Independent dispatches (the two input
 * projections of a Mamba block) stay free to overlap.
 */
#include <string.h>

#include "vk_internal.h"

#define VK_SETS_PER_POOL 256u

static const VkPipelineStageFlags k_stages =
    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;

/* ===================================================================== */
/* Frames                                                                 */
/* ===================================================================== */

static int frame_new(vk_device *d, uint32_t *out) {
    for (uint32_t i = 0; i < d->n_frames; i++)
        if (d->frames[i].state == VK_FRAME_FREE) {
            *out = i;
            return 0;
        }
    vk_frame *nf = vk_host->alloc(sizeof *nf * (d->n_frames + 1));
    if (!nf) return vk_error(SSMRT_ERR_OUT_OF_MEMORY, "vulkan: out of host memory");
    if (d->n_frames) memcpy(nf, d->frames, sizeof *nf * d->n_frames);
    vk_host->free(d->frames);
    d->frames = nf;
    vk_frame *f = &d->frames[d->n_frames];
    memset(f, 0, sizeof *f);
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = d->cmd_pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    VkResult r = d->fn.vkAllocateCommandBuffers(d->dev, &ai, &f->cb);
    if (r != VK_SUCCESS) return vk_fail(d, r, "vkAllocateCommandBuffers");
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    r = d->fn.vkCreateFence(d->dev, &fci, NULL, &f->fence);
    if (r != VK_SUCCESS) {
        d->fn.vkFreeCommandBuffers(d->dev, d->cmd_pool, 1, &f->cb);
        return vk_fail(d, r, "vkCreateFence");
    }
    *out = d->n_frames++;
    return 0;
}

int vk_submit_recording(vk_device *d, VkCommandBuffer *out_cb) {
    if (d->lost) return vk_error(SSMRT_ERR_BACKEND, "vulkan: the device was lost");
    if (d->cur < 0) {
        uint32_t i = 0;
        int rc = frame_new(d, &i);
        if (rc) return rc;
        vk_frame *f = &d->frames[i];
        VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                       .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
        VkResult r = d->fn.vkBeginCommandBuffer(f->cb, &bi);
        if (r != VK_SUCCESS) return vk_fail(d, r, "vkBeginCommandBuffer");
        f->state = VK_FRAME_RECORDING;
        f->n_dispatches = 0;
        f->cur_pool = 0;
        d->cur = (int32_t)i;
        /* Work of earlier submissions may still run: order against it. */
        memset(&d->hz, 0, sizeof d->hz);
        vk_submit_barrier(d);
    }
    *out_cb = d->frames[d->cur].cb;
    return 0;
}

void vk_submit_barrier(vk_device *d) {
    if (d->cur < 0) return;
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                           VK_ACCESS_TRANSFER_READ_BIT |
                                           VK_ACCESS_TRANSFER_WRITE_BIT};
    d->fn.vkCmdPipelineBarrier(d->frames[d->cur].cb, k_stages, k_stages, 0, 1, &mb, 0, NULL, 0,
                               NULL);
    d->hz.n_reads = d->hz.n_writes = 0;
}

static int overlaps(const vk_range *set, uint32_t n, const vk_range *r) {
    for (uint32_t i = 0; i < n; i++)
        if (set[i].buf == r->buf && set[i].lo < r->hi && r->lo < set[i].hi) return 1;
    return 0;
}

void vk_submit_track(vk_device *d, const vk_range *reads, uint32_t n_reads,
                     const vk_range *writes, uint32_t n_writes) {
    vk_hazard *h = &d->hz;
    int conflict = h->n_reads + n_reads > VK_HAZARD_MAX || h->n_writes + n_writes > VK_HAZARD_MAX;
    for (uint32_t i = 0; i < n_reads && !conflict; i++)
        conflict = overlaps(h->writes, h->n_writes, &reads[i]);
    for (uint32_t i = 0; i < n_writes && !conflict; i++)
        conflict = overlaps(h->writes, h->n_writes, &writes[i]) ||
                   overlaps(h->reads, h->n_reads, &writes[i]);
    if (conflict) vk_submit_barrier(d);
    for (uint32_t i = 0; i < n_reads; i++) h->reads[h->n_reads++] = reads[i];
    for (uint32_t i = 0; i < n_writes; i++) h->writes[h->n_writes++] = writes[i];
}

int vk_submit_alloc_set(vk_device *d, VkDescriptorSet *out) {
    vk_frame *f = &d->frames[d->cur];
    for (;;) {
        if (f->cur_pool < f->n_pools) {
            VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                              .descriptorPool = f->pools[f->cur_pool],
                                              .descriptorSetCount = 1,
                                              .pSetLayouts = &d->dsl};
            VkResult r = d->fn.vkAllocateDescriptorSets(d->dev, &ai, out);
            if (r == VK_SUCCESS) return 0;
            if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
                return vk_fail(d, r, "vkAllocateDescriptorSets");
            f->cur_pool++;
            continue;
        }
        if (f->n_pools == f->cap_pools) {
            uint32_t cap = f->cap_pools ? f->cap_pools * 2 : 4;
            VkDescriptorPool *np = vk_host->alloc(sizeof *np * cap);
            if (!np) return vk_error(SSMRT_ERR_OUT_OF_MEMORY, "vulkan: out of host memory");
            if (f->n_pools) memcpy(np, f->pools, sizeof *np * f->n_pools);
            vk_host->free(f->pools);
            f->pools = np;
            f->cap_pools = cap;
        }
        VkDescriptorPoolSize ps = {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                   .descriptorCount = VK_SETS_PER_POOL * VK_MAX_BINDINGS};
        VkDescriptorPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                          .maxSets = VK_SETS_PER_POOL,
                                          .poolSizeCount = 1,
                                          .pPoolSizes = &ps};
        VkResult r = d->fn.vkCreateDescriptorPool(d->dev, &pci, NULL, &f->pools[f->n_pools]);
        if (r != VK_SUCCESS) return vk_fail(d, r, "vkCreateDescriptorPool");
        f->cur_pool = f->n_pools++;
    }
}

/* ===================================================================== */
/* Submit and wait                                                        */
/* ===================================================================== */

int vk_submit_flush(vk_device *d) {
    if (d->cur < 0) return 0;
    vk_frame *f = &d->frames[d->cur];
    d->cur = -1;
    d->timer_in_recording = 0;
    /* Make every write available to the host before the fence signals, so that
     * mapped reads after the wait see them. */
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    d->fn.vkCmdPipelineBarrier(f->cb, k_stages, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0,
                               NULL);
    VkResult r = d->fn.vkEndCommandBuffer(f->cb);
    if (r == VK_SUCCESS) {
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &f->cb};
        r = d->fn.vkQueueSubmit(d->queue, 1, &si, f->fence);
    }
    if (r != VK_SUCCESS) {
        /* Not submitted: recycle the frame now. */
        d->fn.vkResetCommandBuffer(f->cb, 0);
        for (uint32_t i = 0; i < f->n_pools; i++) d->fn.vkResetDescriptorPool(d->dev, f->pools[i], 0);
        f->state = VK_FRAME_FREE;
        return vk_fail(d, r, "vkQueueSubmit");
    }
    f->state = VK_FRAME_SUBMITTED;
    return 0;
}

int vk_submit_wait(vk_device *d) {
    int rc = vk_submit_flush(d);
    for (uint32_t i = 0; i < d->n_frames; i++) {
        vk_frame *f = &d->frames[i];
        if (f->state != VK_FRAME_SUBMITTED) continue;
        VkResult r = d->fn.vkWaitForFences(d->dev, 1, &f->fence, VK_TRUE, UINT64_MAX);
        if (r != VK_SUCCESS && !rc) rc = vk_fail(d, r, "vkWaitForFences");
        if (r == VK_ERROR_DEVICE_LOST) continue; /* nothing can be reused now */
        d->fn.vkResetFences(d->dev, 1, &f->fence);
        d->fn.vkResetCommandBuffer(f->cb, 0);
        for (uint32_t k = 0; k < f->n_pools; k++) d->fn.vkResetDescriptorPool(d->dev, f->pools[k], 0);
        f->state = VK_FRAME_FREE;
    }
    return rc;
}

void vk_submit_destroy(vk_device *d) {
    if (d->cur >= 0) {
        d->fn.vkEndCommandBuffer(d->frames[d->cur].cb);
        d->cur = -1;
    }
    for (uint32_t i = 0; i < d->n_frames; i++) {
        vk_frame *f = &d->frames[i];
        for (uint32_t k = 0; k < f->n_pools; k++) d->fn.vkDestroyDescriptorPool(d->dev, f->pools[k], NULL);
        vk_host->free(f->pools);
        d->fn.vkDestroyFence(d->dev, f->fence, NULL);
        d->fn.vkFreeCommandBuffers(d->dev, d->cmd_pool, 1, &f->cb);
    }
    vk_host->free(d->frames);
    d->frames = NULL;
    d->n_frames = 0;
}

/* ===================================================================== */
/* ABI: synchronisation, batches, timers                                  */
/* ===================================================================== */

int vk_abi_synchronize(void *device) {
    vk_device *d = device;
    int rc = vk_submit_wait(d);
    int vrc = vk_debug_check(d, "synchronize");
    return rc ? rc : vrc;
}

int vk_abi_begin_batch(void *device) {
    vk_device *d = device;
    return vk_debug_check(d, "begin_batch");
}

/* A batch recorded after a timer mark is not submitted at its end: the mark that
 * closes the span goes into the same command buffer, and the synchronize that
 * must come before the reading submits both. Stamps in two submissions would
 * time the boundary between them too (8 us of idle GPU on an H100 that a graph
 * run, one submission, never pays). */
int vk_abi_end_batch(void *device) {
    vk_device *d = device;
    int rc = d->timer_in_recording ? 0 : vk_submit_flush(d);
    int vrc = vk_debug_check(d, "end_batch");
    return rc ? rc : vrc;
}

/* Timer slots: a query is written by a mark (PENDING), its stamp read once and
 * kept (READ). A query must be reset before it is written again; with host query
 * reset that happens when it is read, otherwise (or when a slot is marked again
 * before being read) the mark records the reset, which then falls inside the
 * span it ends (3 us on an H100). */
enum { VK_SLOT_EMPTY = 0, VK_SLOT_PENDING, VK_SLOT_READ };

int vk_abi_timer_mark(void *device, uint32_t slot) {
    vk_device *d = device;
    if (!d->queries)
        return vk_error(SSMRT_ERR_UNSUPPORTED, "vulkan: the compute queue of %s has no timestamps",
                        d->caps.props.deviceName);
    if (slot >= VK_TIMER_SLOTS)
        return vk_error(SSMRT_ERR_INVALID_ARGUMENT, "vulkan: timer slot %u (max %u)", slot,
                        VK_TIMER_SLOTS - 1);
    VkCommandBuffer cb;
    int rc = vk_submit_recording(d, &cb);
    if (rc) return rc;
    /* Barriers on both sides: the stamp then falls between the work before and
     * the work after instead of overlapping either. */
    vk_submit_barrier(d);
    if (!d->fn_reset_queries || d->slot_state[slot] == VK_SLOT_PENDING)
        d->fn.vkCmdResetQueryPool(cb, d->queries, slot, 1);
    d->fn.vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, d->queries, slot);
    vk_submit_barrier(d);
    d->slot_state[slot] = VK_SLOT_PENDING;
    d->timer_in_recording = 1;
    return 0;
}

int vk_abi_timer_read(void *device, uint32_t slot_begin, uint32_t slot_end, double *out_ns) {
    vk_device *d = device;
    if (slot_begin >= VK_TIMER_SLOTS || slot_end >= VK_TIMER_SLOTS ||
        d->slot_state[slot_begin] == VK_SLOT_EMPTY || d->slot_state[slot_end] == VK_SLOT_EMPTY)
        return vk_error(SSMRT_ERR_INVALID_ARGUMENT, "vulkan: timer slots %u and %u were not marked",
                        slot_begin, slot_end);
    int rc = vk_submit_wait(d);
    if (rc) return rc;
    uint64_t t[2];
    uint32_t slots[2] = {slot_begin, slot_end};
    for (int i = 0; i < 2; i++) {
        uint32_t sl = slots[i];
        if (d->slot_state[sl] == VK_SLOT_PENDING) {
            VkResult r = d->fn.vkGetQueryPoolResults(d->dev, d->queries, sl, 1, sizeof d->slot_ticks[sl],
                                                     &d->slot_ticks[sl], sizeof d->slot_ticks[sl],
                                                     VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
            if (r != VK_SUCCESS) return vk_fail(d, r, "vkGetQueryPoolResults");
            /* Nothing in flight uses it now (the wait above). */
            if (d->fn_reset_queries) d->fn_reset_queries(d->dev, d->queries, sl, 1);
            d->slot_state[sl] = VK_SLOT_READ;
        }
        t[i] = d->slot_ticks[sl];
    }
    uint64_t mask = d->timestamp_bits >= 64 ? UINT64_MAX : ((uint64_t)1 << d->timestamp_bits) - 1;
    uint64_t ticks = (t[1] - t[0]) & mask; /* wraps within the valid bits */
    *out_ns = (double)ticks * (double)d->caps.props.limits.timestampPeriod;
    return 0;
}
