/* Contexts: choosing a backend and device, and device memory accounting. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "error.h"
#include "internal.h"
#include "log.h"

static const char *const ssmrt__known_backends[] = {"cpu", "cuda", "vulkan", "opencl"};
/* Preference of "auto": the most specialised API first, the CPU last. */
static const char *const ssmrt__auto_order = "cuda,vulkan,opencl,cpu";

static ssmrt__plugin *ssmrt__find_plugin(const char *name)
{
    ssmrt__plugin *p;
    uint32_t n;
    ssmrt__registry_get(&p, &n);
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(p[i].name, name))
            return &p[i];
    return NULL;
}

static int ssmrt__is_known_backend(const char *name)
{
    for (size_t i = 0; i < sizeof ssmrt__known_backends / sizeof *ssmrt__known_backends; i++)
        if (!strcmp(name, ssmrt__known_backends[i]))
            return 1;
    return 0;
}

/* Tries one backend; on failure leaves a message saying why. */
static ssmrt_status ssmrt__context_open(ssmrt_context *ctx, const char *name, int32_t device)
{
    ssmrt__plugin *p = ssmrt__find_plugin(name);
    if (!p) {
        if (!ssmrt__is_known_backend(name))
            return ssmrt__fail(SSMRT_ERR_NOT_FOUND,
                               "unknown backend '%s' (known: cpu, cuda, vulkan, opencl, auto) "
                               "and no plugin libssmrt-%s.so in the search path [%s]",
                               name, name, ssmrt__registry_search_report());
        return ssmrt__fail(SSMRT_ERR_NOT_FOUND,
                           "backend '%s' is not available: no plugin libssmrt-%s.so in the "
                           "search path [%s]", name, name, ssmrt__registry_search_report());
    }
    if (!p->loaded)
        return ssmrt__fail(SSMRT_ERR_NOT_FOUND, "backend '%s' cannot start: %s (plugin %s)", name,
                           p->reason, p->path);
    if (device < 0 || (uint32_t)device >= p->device_count)
        return ssmrt__fail(SSMRT_ERR_NOT_FOUND,
                           "backend '%s' has no device %d (it has %u: indices 0..%u)", name,
                           device, p->device_count, p->device_count - 1);
    void *dev = NULL;
    if (p->vt->device_open(p->backend, (uint32_t)device, &dev) != 0)
        return ssmrt__fail_prefix(SSMRT_ERR_BACKEND, "backend '%s' device %d failed to open",
                                  name, device);
    ctx->plugin = p;
    ctx->vt = p->vt;
    ctx->device = dev;
    ctx->info = p->infos[device];
    ctx->host_memory = p->props[device].host_memory != 0;
    ssmrt__log(SSMRT_LOG_INFO, "using %s device %d: %s", name, device, ctx->info.name);
    return SSMRT_OK;
}

ssmrt_status ssmrt_context_create(const ssmrt_context_options *options, ssmrt_context **out)
{
    if (!out)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_context_create: out_context is NULL");
    *out = NULL;
    if (options && options->struct_size < sizeof(uint32_t) + sizeof(const char *))
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                           "ssmrt_context_create: options->struct_size %u is too small",
                           options->struct_size);
    const ssmrt__config *cfg = ssmrt__config_get();
    const char *spec = options && options->backend ? options->backend : cfg->backend;
    const char *source = options && options->backend ? "backend option" : "SSMRT_BACKEND";
    if (!spec) {
        spec = "cpu";
        source = "default backend";
    }
    int32_t device = -1;
    if (options && options->struct_size >= offsetof(ssmrt_context_options, device) + sizeof(int32_t))
        device = options->device;
    if (device < 0) {
        if (cfg->device_text)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "SSMRT_DEVICE='%s' is not a device index (a number >= 0)",
                               cfg->device_text);
        device = cfg->device >= 0 ? cfg->device : 0;
    }
    if (cfg->log_text)
        ssmrt__log(SSMRT_LOG_WARN, "SSMRT_LOG='%s' is not one of error, warn, info, debug",
                   cfg->log_text);

    ssmrt_context *ctx = ssmrt__calloc(1, sizeof *ctx);
    if (!ctx)
        return SSMRT_ERR_OUT_OF_MEMORY;

    char list[512];
    snprintf(list, sizeof list, "%s", strcmp(spec, "auto") ? spec : ssmrt__auto_order);
    char reasons[2048] = "";
    ssmrt_status st = SSMRT_ERR_NOT_FOUND;
    int tried = 0;
    char *save = NULL;
    for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        while (*name == ' ')
            name++;
        if (!*name)
            continue;
        tried++;
        st = ssmrt__context_open(ctx, name, device);
        if (st == SSMRT_OK)
            break;
        size_t used = strlen(reasons);
        snprintf(reasons + used, sizeof reasons - used, "%s%s", used ? "; " : "", ssmrt_last_error());
    }
    if (st != SSMRT_OK) {
        ssmrt__free(ctx);
        if (!tried)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "%s='%s' names no backend", source, spec);
        return ssmrt__fail(st, "%s='%s': %s", source, spec, reasons);
    }
    *out = ctx;
    return SSMRT_OK;
}

void ssmrt_context_destroy(ssmrt_context *ctx)
{
    if (!ctx)
        return;
    int leaked = 0;
    while (ctx->tensors) {
        ssmrt_tensor *t = ctx->tensors;
        leaked++;
        ssmrt_tensor_destroy(t);
    }
    if (leaked)
        ssmrt__log(SSMRT_LOG_WARN, "context destroyed with %d live tensor(s); released them", leaked);
    ctx->vt->device_close(ctx->device);
    ssmrt__free(ctx);
}

const ssmrt_device_info *ssmrt_context_device(const ssmrt_context *ctx)
{
    return ctx ? &ctx->info : NULL;
}

void ssmrt_context_memory(const ssmrt_context *ctx, uint64_t *current, uint64_t *peak)
{
    if (current)
        *current = ctx ? ctx->mem_current : 0;
    if (peak)
        *peak = ctx ? ctx->mem_peak : 0;
}

ssmrt_status ssmrt__device_alloc(ssmrt_context *ctx, uint64_t bytes, void **out)
{
    *out = NULL;
    if (ctx->vt->buffer_alloc(ctx->device, bytes, out) != 0 || !*out) {
        *out = NULL;
        return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY,
                                  "%s device out of memory allocating %llu bytes",
                                  ctx->info.backend, (unsigned long long)bytes);
    }
    ctx->mem_current += bytes;
    if (ctx->mem_current > ctx->mem_peak)
        ctx->mem_peak = ctx->mem_current;
    return SSMRT_OK;
}

void ssmrt__device_free(ssmrt_context *ctx, void *buffer, uint64_t bytes)
{
    if (!buffer)
        return;
    ctx->vt->buffer_free(ctx->device, buffer);
    ctx->mem_current -= bytes;
}
