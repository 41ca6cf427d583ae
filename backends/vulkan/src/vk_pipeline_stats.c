/*
 * vk_pipeline_stats.c: what the driver compiled a pipeline into, through
 * VK_KHR_pipeline_executable_properties, logged at debug level when the pipeline
 * is created (SSMRT_LOG=debug). Drivers name their own statistics: NVIDIA's
 * include the register count, shared and local (spill) memory; Mesa's the
 * instruction and register counts. Knowing them answers "why is this kernel
 * slower than its design" (spills, occupancy) without a vendor profiler.
 *
 * The extension is enabled only when debug logging is on (vk_device.c), so the
 * normal path never asks the driver to keep statistics.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vk_internal.h"

/* One statistic as "name=value" into buf. */
static void format_stat(const VkPipelineExecutableStatisticKHR *s, char *buf, size_t n) {
    switch (s->format) {
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR:
        snprintf(buf, n, "%s=%s", s->name, s->value.b32 ? "yes" : "no");
        break;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR:
        snprintf(buf, n, "%s=%" PRId64, s->name, s->value.i64);
        break;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR:
        snprintf(buf, n, "%s=%" PRIu64, s->name, s->value.u64);
        break;
    case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR:
        snprintf(buf, n, "%s=%g", s->name, s->value.f64);
        break;
    default:
        snprintf(buf, n, "%s=?", s->name);
        break;
    }
}

void vk_pipeline_log_stats(vk_device *d, VkPipeline pipeline, const char *name) {
    if (!d->exec_stats) return;
    VkPipelineInfoKHR pi = {.sType = VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR, .pipeline = pipeline};
    uint32_t ne = 0;
    if (d->fn_exec_props(d->dev, &pi, &ne, NULL) != VK_SUCCESS || !ne) return;
    if (ne > 8) ne = 8; /* a compute pipeline has one; keep the stack bounded */
    VkPipelineExecutablePropertiesKHR props[8];
    for (uint32_t i = 0; i < ne; i++)
        props[i] = (VkPipelineExecutablePropertiesKHR){
            .sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR};
    if (d->fn_exec_props(d->dev, &pi, &ne, props) < 0) return;
    for (uint32_t e = 0; e < ne; e++) {
        VkPipelineExecutableInfoKHR ei = {.sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR,
                                          .pipeline = pipeline,
                                          .executableIndex = e};
        uint32_t ns = 0;
        if (d->fn_exec_stats(d->dev, &ei, &ns, NULL) != VK_SUCCESS || !ns) continue;
        VkPipelineExecutableStatisticKHR *st = vk_host->alloc(sizeof *st * ns);
        if (!st) return;
        for (uint32_t i = 0; i < ns; i++)
            st[i] = (VkPipelineExecutableStatisticKHR){
                .sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR};
        char line[2048];
        size_t len = 0;
        line[0] = 0;
        if (d->fn_exec_stats(d->dev, &ei, &ns, st) >= 0)
            for (uint32_t i = 0; i < ns; i++) {
                char one[320]; /* a name is at most 256 bytes */
                format_stat(&st[i], one, sizeof one);
                int w = snprintf(line + len, sizeof line - len, "%s%s", len ? ", " : "", one);
                if (w < 0 || (size_t)w >= sizeof line - len) break;
                len += (size_t)w;
            }
        vk_log(SSMRT_LOG_DEBUG, "vulkan: pipeline %s executable %u (%s) statistics: %s", name, e,
               props[e].name, line);
        vk_host->free(st);
    }
}
