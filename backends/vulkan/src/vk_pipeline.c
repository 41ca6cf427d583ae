/*
 * vk_pipeline.c: the one descriptor-set layout and pipeline layout every kernel
 * shares, and compute pipelines created on first use and cached by (kernel,
 * specialization constants).
 *
 * Every kernel sees up to VK_MAX_BINDINGS storage buffers in set 0 and a 128-byte
 * push constant block (the minimum every device offers). Sharing one layout keeps
 * the dispatch path free of per-kernel layout bookkeeping; bindings a kernel does
 * not use are bound to a small dummy buffer.
 */
#include <string.h>

#include "vk_internal.h"
#include "vk_spirv.h"

static const char *const k_kernel_names[VK_KERNEL_COUNT] = {
#define VK_KERNEL(id, name) name,
#include "vk_kernels.def"
#undef VK_KERNEL
};

int vk_pipeline_layout_create(vk_device *d) {
    VkDescriptorSetLayoutBinding b[VK_MAX_BINDINGS];
    for (uint32_t i = 0; i < VK_MAX_BINDINGS; i++)
        b[i] = (VkDescriptorSetLayoutBinding){.binding = i,
                                              .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                              .descriptorCount = 1,
                                              .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                           .bindingCount = VK_MAX_BINDINGS,
                                           .pBindings = b};
    VkResult r = d->fn.vkCreateDescriptorSetLayout(d->dev, &dci, NULL, &d->dsl);
    if (r != VK_SUCCESS) return vk_fail(d, r, "vkCreateDescriptorSetLayout");
    VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = VK_PUSH_BYTES};
    VkPipelineLayoutCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                      .setLayoutCount = 1,
                                      .pSetLayouts = &d->dsl,
                                      .pushConstantRangeCount = 1,
                                      .pPushConstantRanges = &pr};
    r = d->fn.vkCreatePipelineLayout(d->dev, &pci, NULL, &d->layout);
    if (r != VK_SUCCESS) return vk_fail(d, r, "vkCreatePipelineLayout");
    return 0;
}

const char *vk_kernel_name(uint32_t kernel) {
    return kernel < VK_KERNEL_COUNT ? k_kernel_names[kernel] : "?";
}

static const vk_spirv_blob *find_blob(const char *name) {
    for (uint32_t i = 0; i < vk_spirv_blob_count; i++)
        if (!strcmp(vk_spirv_blobs[i].name, name)) return &vk_spirv_blobs[i];
    return NULL;
}

static int create(vk_device *d, const vk_pipeline_key *key, VkPipeline *out) {
    const char *name = key->kernel < VK_KERNEL_COUNT ? k_kernel_names[key->kernel] : "?";
    const vk_spirv_blob *blob = find_blob(name);
    if (!blob)
        return vk_error(SSMRT_ERR_INTERNAL, "vulkan: kernel %s is not embedded in the plugin", name);
    VkShaderModuleCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                    .codeSize = (size_t)blob->n_words * 4,
                                    .pCode = blob->words};
    VkShaderModule mod;
    VkResult r = d->fn.vkCreateShaderModule(d->dev, &sci, NULL, &mod);
    if (r != VK_SUCCESS) return vk_fail(d, r, "vkCreateShaderModule");
    VkSpecializationMapEntry map[sizeof key->spec / sizeof key->spec[0]];
    for (uint32_t i = 0; i < key->n_spec; i++)
        map[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
    VkSpecializationInfo spec = {.mapEntryCount = key->n_spec,
                                 .pMapEntries = map,
                                 .dataSize = 4u * key->n_spec,
                                 .pData = key->spec};
    VkComputePipelineCreateInfo cpi = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .flags = d->exec_stats ? VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR : 0,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = mod,
                  .pName = "main",
                  .pSpecializationInfo = &spec},
        .layout = d->layout};
    r = d->fn.vkCreateComputePipelines(d->dev, VK_NULL_HANDLE, 1, &cpi, NULL, out);
    d->fn.vkDestroyShaderModule(d->dev, mod, NULL);
    if (r != VK_SUCCESS) return vk_fail(d, r, "vkCreateComputePipelines");
    vk_log(SSMRT_LOG_DEBUG, "vulkan: created pipeline %s (local %ux%ux%u)", name, key->spec[0],
           key->spec[1], key->spec[2]);
    vk_pipeline_log_stats(d, *out, name);
    return 0;
}

int vk_pipeline_get(vk_device *d, const vk_pipeline_key *key, VkPipeline *out) {
    for (uint32_t i = 0; i < d->n_pipes; i++) {
        const vk_pipeline_key *k = &d->pipes[i].key;
        if (k->kernel == key->kernel && k->n_spec == key->n_spec &&
            !memcmp(k->spec, key->spec, 4u * key->n_spec)) {
            *out = d->pipes[i].pipeline;
            return 0;
        }
    }
    if (d->n_pipes == d->cap_pipes) {
        uint32_t cap = d->cap_pipes ? d->cap_pipes * 2 : 32;
        vk_pipeline_entry *np = vk_host->alloc(sizeof *np * cap);
        if (!np) return vk_error(SSMRT_ERR_OUT_OF_MEMORY, "vulkan: out of host memory");
        if (d->n_pipes) memcpy(np, d->pipes, sizeof *np * d->n_pipes);
        vk_host->free(d->pipes);
        d->pipes = np;
        d->cap_pipes = cap;
    }
    int rc = create(d, key, out);
    if (rc) return rc;
    d->pipes[d->n_pipes].key = *key;
    d->pipes[d->n_pipes].pipeline = *out;
    d->n_pipes++;
    return 0;
}

void vk_pipeline_destroy_all(vk_device *d) {
    for (uint32_t i = 0; i < d->n_pipes; i++) d->fn.vkDestroyPipeline(d->dev, d->pipes[i].pipeline, NULL);
    vk_host->free(d->pipes);
    d->pipes = NULL;
    d->n_pipes = d->cap_pipes = 0;
}
