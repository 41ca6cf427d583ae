/*
 * vk_device.c: what a physical device offers (capabilities read once), and
 * opening/closing a logical device: one compute queue, the memory types for
 * buffers and staging, the shared descriptor/pipeline layout, the command pool,
 * the timestamp query pool and the small internal buffers.
 *
 * Memory policy: on integrated GPUs and CPU drivers (lavapipe) device memory is
 * host visible, so buffers are mapped and uploads are a memcpy; on discrete GPUs
 * buffers are device-local and transfers go through a staging buffer.
 */
#include <string.h>

#include "vk_internal.h"

#define VK_STAGING_BYTES (32u << 20)

/* ===================================================================== */
/* Capabilities                                                           */
/* ===================================================================== */

static int has_device_ext(vk_backend *be, VkPhysicalDevice phys, const char *name) {
    uint32_t n = 0;
    if (be->fn.vkEnumerateDeviceExtensionProperties(phys, NULL, &n, NULL) != VK_SUCCESS || !n)
        return 0;
    VkExtensionProperties *p = vk_host->alloc(sizeof *p * n);
    if (!p) return 0;
    int found = 0;
    if (be->fn.vkEnumerateDeviceExtensionProperties(phys, NULL, &n, p) >= 0)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].extensionName, name);
    vk_host->free(p);
    return found;
}

/* Picks the cooperative matrix shape the matmul kernel uses: f16 x f16 + f32 ->
 * f32 at subgroup scope, 16 x 16 x 16 preferred (what the kernel is tiled for). */
static void query_coopmat(vk_backend *be, VkPhysicalDevice phys, vk_caps *c) {
    PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV get =
        be->fn.vkGetPhysicalDeviceCooperativeMatrixPropertiesNV;
    if (!get || !has_device_ext(be, phys, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME)) return;
    uint32_t n = 0;
    if (get(phys, &n, NULL) != VK_SUCCESS || !n) return;
    VkCooperativeMatrixPropertiesNV *p = vk_host->alloc(sizeof *p * n);
    if (!p) return;
    for (uint32_t i = 0; i < n; i++) {
        memset(&p[i], 0, sizeof p[i]);
        p[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
    }
    if (get(phys, &n, p) >= 0)
        for (uint32_t i = 0; i < n; i++)
            if (p[i].AType == VK_COMPONENT_TYPE_FLOAT16_NV &&
                p[i].BType == VK_COMPONENT_TYPE_FLOAT16_NV &&
                p[i].CType == VK_COMPONENT_TYPE_FLOAT32_NV &&
                p[i].DType == VK_COMPONENT_TYPE_FLOAT32_NV && p[i].scope == VK_SCOPE_SUBGROUP_NV &&
                p[i].MSize == 16 && p[i].NSize == 16 && p[i].KSize == 16) {
                c->coopmat_nv = 1;
                c->cm_m = c->cm_n = c->cm_k = 16;
            }
    vk_host->free(p);
}

void vk_device_query_caps(vk_backend *be, VkPhysicalDevice phys, vk_caps *c) {
    memset(c, 0, sizeof *c);
    be->fn.vkGetPhysicalDeviceProperties(phys, &c->props);
    uint32_t api = c->props.apiVersion;

    VkPhysicalDeviceSubgroupProperties sub = {.sType =
                                                  VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    if (api >= VK_API_VERSION_1_1) {
        p2.pNext = &sub;
        /* Chaining the driver properties is valid only where they exist. */
        if (api >= VK_API_VERSION_1_2 || has_device_ext(be, phys, "VK_KHR_driver_properties")) {
            sub.pNext = &drv;
            c->has_driver_props = 1;
        }
        /* Core Vulkan has no count of compute units; NVIDIA and AMD say it through
         * extensions (properties only, nothing to enable). */
        VkPhysicalDeviceShaderSMBuiltinsPropertiesNV sm = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_SM_BUILTINS_PROPERTIES_NV};
        VkPhysicalDeviceShaderCorePropertiesAMD amd = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_CORE_PROPERTIES_AMD};
        int has_sm = has_device_ext(be, phys, VK_NV_SHADER_SM_BUILTINS_EXTENSION_NAME);
        int has_amd = has_device_ext(be, phys, VK_AMD_SHADER_CORE_PROPERTIES_EXTENSION_NAME);
        if (has_sm) {
            sm.pNext = p2.pNext;
            p2.pNext = &sm;
        }
        if (has_amd) {
            amd.pNext = p2.pNext;
            p2.pNext = &amd;
        }
        be->fn.vkGetPhysicalDeviceProperties2(phys, &p2);
        if (has_sm) c->compute_units = sm.shaderSMCount;
        if (has_amd)
            c->compute_units = amd.shaderEngineCount * amd.shaderArraysPerEngineCount *
                               amd.computeUnitsPerShaderArray;
        c->subgroup_size = sub.subgroupSize;
        c->subgroup_ops = sub.supportedOperations;
        c->subgroup_compute = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
        if (c->has_driver_props) c->driver = drv;

        VkPhysicalDevice16BitStorageFeatures s16 = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
        VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                        .pNext = &s16};
        be->fn.vkGetPhysicalDeviceFeatures2(phys, &f2);
        c->storage16 = s16.storageBuffer16BitAccess == VK_TRUE;
        query_coopmat(be, phys, c);
    }

    VkPhysicalDeviceMemoryProperties mp;
    be->fn.vkGetPhysicalDeviceMemoryProperties(phys, &mp);
    for (uint32_t i = 0; i < mp.memoryHeapCount; i++)
        if (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
            c->device_local_bytes += mp.memoryHeaps[i].size;
    int mapped_local = 0;
    for (uint32_t i = 0; i < mp.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = mp.memoryTypes[i].propertyFlags;
        if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))
            mapped_local = 1;
    }
    /* A discrete GPU with resizable BAR also has mapped device memory, but going
     * through it for every buffer would be slow to read from the host. */
    c->unified = mapped_local && (c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ||
                                  c->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU);
}

/* ===================================================================== */
/* Open / close                                                           */
/* ===================================================================== */

static int pick_queue(vk_device *d) {
    vk_backend *be = d->be;
    uint32_t n = 0;
    be->fn.vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &n, NULL);
    if (!n) return vk_error(SSMRT_ERR_BACKEND, "vulkan: device %u has no queue families", d->index);
    VkQueueFamilyProperties *q = vk_host->alloc(sizeof *q * n);
    if (!q) return vk_error(SSMRT_ERR_OUT_OF_MEMORY, "vulkan: out of memory");
    be->fn.vkGetPhysicalDeviceQueueFamilyProperties(d->phys, &n, q);
    int best = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || !q[i].queueCount) continue;
        /* Prefer a family with timestamps; among those the first. */
        if (best < 0 || (!q[best].timestampValidBits && q[i].timestampValidBits)) best = (int)i;
    }
    if (best >= 0) {
        d->qfam = (uint32_t)best;
        d->timestamp_bits = q[best].timestampValidBits;
    }
    vk_host->free(q);
    if (best < 0)
        return vk_error(SSMRT_ERR_BACKEND, "vulkan: device %u has no compute queue", d->index);
    return 0;
}

/* The features the cooperative-matrix kernel needs besides the extension: f16
 * arithmetic, the Vulkan memory model (the NV extension's scope constants come from
 * it), 16-bit storage, and subgroups of 32 (its 4-subgroup tiling). */
static int coopmat_usable(vk_device *d) {
    if (!d->caps.coopmat_nv || !d->caps.storage16 || d->caps.subgroup_size != 32 ||
        d->caps.props.apiVersion < VK_API_VERSION_1_2)
        return 0;
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES, .pNext = &cm};
    VkPhysicalDeviceVulkanMemoryModelFeatures mm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES, .pNext = &f16};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &mm};
    d->be->fn.vkGetPhysicalDeviceFeatures2(d->phys, &f2);
    return cm.cooperativeMatrix && f16.shaderFloat16 && mm.vulkanMemoryModel;
}

/* VK_KHR_pipeline_executable_properties with its one feature (vk_pipeline_stats.c). */
static int exec_stats_usable(vk_device *d) {
    if (d->caps.props.apiVersion < VK_API_VERSION_1_1 ||
        !has_device_ext(d->be, d->phys, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME))
        return 0;
    VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR ex = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &ex};
    d->be->fn.vkGetPhysicalDeviceFeatures2(d->phys, &f2);
    return ex.pipelineExecutableInfo == VK_TRUE;
}

/* Host query reset (core in Vulkan 1.2): timer slots are reset by the host after
 * they are read, so no reset command falls inside a timed span (vk_submit.c). */
static int host_reset_usable(vk_device *d) {
    if (d->caps.props.apiVersion < VK_API_VERSION_1_2) return 0;
    VkPhysicalDeviceHostQueryResetFeatures hr = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_QUERY_RESET_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &hr};
    d->be->fn.vkGetPhysicalDeviceFeatures2(d->phys, &f2);
    return hr.hostQueryReset == VK_TRUE;
}

static int create_logical(vk_device *d) {
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                   .queueFamilyIndex = d->qfam,
                                   .queueCount = 1,
                                   .pQueuePriorities = &prio};
    const char *cm_ext = VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME;
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
        .cooperativeMatrix = VK_TRUE};
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        .pNext = &cm,
        .shaderFloat16 = VK_TRUE};
    VkPhysicalDeviceVulkanMemoryModelFeatures mm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES,
        .pNext = &f16,
        .vulkanMemoryModel = VK_TRUE};
    VkPhysicalDevice16BitStorageFeatures s16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
        .storageBuffer16BitAccess = d->caps.storage16 ? VK_TRUE : VK_FALSE};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                    .pNext = &s16};
    d->caps.coopmat_nv = coopmat_usable(d);
    /* Pipeline statistics only when someone reads them (SSMRT_LOG=debug). */
    VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR ex = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR,
        .pipelineExecutableInfo = VK_TRUE};
    int want_stats = vk_host->log_level >= SSMRT_LOG_DEBUG && exec_stats_usable(d);
    VkPhysicalDeviceHostQueryResetFeatures hr = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_HOST_QUERY_RESET_FEATURES,
        .hostQueryReset = VK_TRUE};
    int want_reset = host_reset_usable(d);
    if (want_reset) {
        hr.pNext = f2.pNext;
        f2.pNext = &hr;
    }
    const char *ext[2];
    uint32_t n_ext = 0;
    if (want_stats) {
        ext[n_ext++] = VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME;
        ex.pNext = f2.pNext;
        f2.pNext = &ex;
    }
    VkResult r = VK_ERROR_FEATURE_NOT_PRESENT;
    if (d->caps.coopmat_nv) {
        s16.pNext = &mm;
        ext[n_ext] = cm_ext;
        VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                  .pNext = &f2,
                                  .queueCreateInfoCount = 1,
                                  .pQueueCreateInfos = &qci,
                                  .enabledExtensionCount = n_ext + 1,
                                  .ppEnabledExtensionNames = ext};
        r = d->be->fn.vkCreateDevice(d->phys, &dci, NULL, &d->dev);
        if (r != VK_SUCCESS) {
            /* Never let the optional path cost the device: retry without it. */
            vk_log(SSMRT_LOG_WARN, "vulkan: device with cooperative matrices failed (%s); "
                   "continuing without them", vk_result_name(r));
            d->caps.coopmat_nv = 0;
            s16.pNext = NULL;
        }
    }
    if (r != VK_SUCCESS) {
        VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                  .pNext = &f2,
                                  .queueCreateInfoCount = 1,
                                  .pQueueCreateInfos = &qci,
                                  .enabledExtensionCount = n_ext,
                                  .ppEnabledExtensionNames = n_ext ? ext : NULL};
        r = d->be->fn.vkCreateDevice(d->phys, &dci, NULL, &d->dev);
    }
    if (r != VK_SUCCESS) {
        d->dev = VK_NULL_HANDLE;
        return vk_fail(d, r, "vkCreateDevice");
    }
    int rc = vk_loader_device(d->be, d->dev, &d->fn);
    if (rc) {
        /* The table is incomplete: destroy through the loader and forget it. */
        PFN_vkDestroyDevice destroy =
            (PFN_vkDestroyDevice)d->be->fn.vkGetDeviceProcAddr(d->dev, "vkDestroyDevice");
        if (destroy) destroy(d->dev, NULL);
        d->dev = VK_NULL_HANDLE;
        return rc;
    }
    d->fn.vkGetDeviceQueue(d->dev, d->qfam, 0, &d->queue);
    if (want_stats) {
        d->fn_exec_props = (PFN_vkGetPipelineExecutablePropertiesKHR)d->be->fn.vkGetDeviceProcAddr(
            d->dev, "vkGetPipelineExecutablePropertiesKHR");
        d->fn_exec_stats = (PFN_vkGetPipelineExecutableStatisticsKHR)d->be->fn.vkGetDeviceProcAddr(
            d->dev, "vkGetPipelineExecutableStatisticsKHR");
        d->exec_stats = d->fn_exec_props && d->fn_exec_stats;
    }
    if (want_reset)
        d->fn_reset_queries = (PFN_vkResetQueryPool)d->be->fn.vkGetDeviceProcAddr(d->dev, "vkResetQueryPool");
    return 0;
}

/* The memory type index for buffers: flags required, flags preferred. */
static int find_type(vk_device *d, VkMemoryPropertyFlags need, VkMemoryPropertyFlags want,
                     VkMemoryPropertyFlags avoid, uint32_t *out) {
    VkPhysicalDeviceMemoryProperties mp;
    d->be->fn.vkGetPhysicalDeviceMemoryProperties(d->phys, &mp);
    int best = -1, best_score = -1;
    for (uint32_t i = 0; i < mp.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = mp.memoryTypes[i].propertyFlags;
        if ((f & need) != need) continue;
        int score = __builtin_popcount(f & want) * 2 + !(f & avoid);
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    if (best < 0) return 0;
    *out = (uint32_t)best;
    return 1;
}

static int pick_memory(vk_device *d) {
    const VkMemoryPropertyFlags LOCAL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                VISIBLE = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                                COHERENT = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                CACHED = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    if (d->caps.unified && find_type(d, LOCAL | VISIBLE, COHERENT | CACHED, 0, &d->mem_buffers)) {
        d->buffers_mapped = 1;
    } else if (!find_type(d, LOCAL, 0, VISIBLE, &d->mem_buffers) &&
               !find_type(d, 0, 0, 0, &d->mem_buffers)) {
        return vk_error(SSMRT_ERR_BACKEND, "vulkan: device %u has no memory types", d->index);
    }
    /* Staging is read back by the host: cached memory makes downloads fast. */
    if (!find_type(d, VISIBLE, CACHED | COHERENT, LOCAL, &d->mem_staging))
        return vk_error(SSMRT_ERR_BACKEND, "vulkan: device %u has no host-visible memory",
                        d->index);
    return 0;
}

static int create_pools(vk_device *d) {
    VkCommandPoolCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = d->qfam};
    VkResult r = d->fn.vkCreateCommandPool(d->dev, &pci, NULL, &d->cmd_pool);
    if (r != VK_SUCCESS) return vk_fail(d, r, "vkCreateCommandPool");
    if (d->timestamp_bits) {
        VkQueryPoolCreateInfo qci = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                     .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                     .queryCount = VK_TIMER_SLOTS};
        r = d->fn.vkCreateQueryPool(d->dev, &qci, NULL, &d->queries);
        if (r != VK_SUCCESS) return vk_fail(d, r, "vkCreateQueryPool");
        if (d->fn_reset_queries) d->fn_reset_queries(d->dev, d->queries, 0, VK_TIMER_SLOTS);
    }
    return 0;
}

static int create_internal_buffers(vk_device *d) {
    const VkBufferUsageFlags usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                     VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                                     VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    int rc = vk_buffer_create(d, 16, d->mem_buffers, d->buffers_mapped, usage, &d->dummy);
    if (!rc && !d->buffers_mapped)
        rc = vk_buffer_create(d, VK_STAGING_BYTES, d->mem_staging, 1, usage, &d->staging);
    return rc;
}

int vk_device_open(vk_backend *be, uint32_t index, vk_device **out) {
    *out = NULL;
    if (index >= be->n_phys)
        return vk_error(SSMRT_ERR_NOT_FOUND, "vulkan: device %u does not exist (%u devices)", index,
                        be->n_phys);
    vk_device *d = vk_host->alloc(sizeof *d);
    if (!d) return vk_error(SSMRT_ERR_OUT_OF_MEMORY, "vulkan: out of memory opening a device");
    memset(d, 0, sizeof *d);
    d->be = be;
    d->index = index;
    d->phys = be->phys[index];
    d->cur = -1;
    d->validation_seen = atomic_load(&be->validation_errors);
    vk_device_query_caps(be, d->phys, &d->caps);
    int rc = 0;
    if (d->caps.props.apiVersion < VK_API_VERSION_1_1)
        rc = vk_error(SSMRT_ERR_UNSUPPORTED, "vulkan: device %u (%s) supports Vulkan %u.%u, ssmrt "
                      "needs 1.1", index, d->caps.props.deviceName,
                      VK_API_VERSION_MAJOR(d->caps.props.apiVersion),
                      VK_API_VERSION_MINOR(d->caps.props.apiVersion));
    if (!rc) rc = pick_queue(d);
    if (!rc) rc = create_logical(d);
    if (!rc) rc = pick_memory(d);
    if (!rc) rc = vk_pipeline_layout_create(d);
    if (!rc) rc = create_pools(d);
    if (!rc) rc = create_internal_buffers(d);
    if (!rc) rc = vk_debug_check(d, "opening the device");
    if (rc) {
        vk_device_close(d);
        return rc;
    }
    vk_log(SSMRT_LOG_INFO,
           "vulkan: opened %s (subgroup %u, 16-bit storage %s, cooperative matrix %s, %s memory)",
           d->caps.props.deviceName, d->caps.subgroup_size, d->caps.storage16 ? "yes" : "no",
           d->caps.coopmat_nv ? "NV 16x16x16" : "no", d->buffers_mapped ? "unified" : "staged");
    *out = d;
    return 0;
}

void vk_device_close(vk_device *d) {
    if (!d) return;
    if (d->dev) {
        d->fn.vkDeviceWaitIdle(d->dev);
        vk_submit_destroy(d);
        vk_pipeline_destroy_all(d);
        vk_buffer_destroy(d, d->staging);
        vk_buffer_destroy(d, d->dummy);
        vk_buffer_destroy(d, d->scratch);
        if (d->queries) d->fn.vkDestroyQueryPool(d->dev, d->queries, NULL);
        if (d->cmd_pool) d->fn.vkDestroyCommandPool(d->dev, d->cmd_pool, NULL);
        if (d->layout) d->fn.vkDestroyPipelineLayout(d->dev, d->layout, NULL);
        if (d->dsl) d->fn.vkDestroyDescriptorSetLayout(d->dev, d->dsl, NULL);
        d->fn.vkDestroyDevice(d->dev, NULL);
    }
    vk_host->free(d);
}
