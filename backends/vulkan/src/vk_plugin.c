/*
 * vk_plugin.c: the entry symbol and vtable of libssmrt-vulkan.so, backend start
 * (loader, instance, physical devices) and device properties.
 *
 * SSMRT_DEVICE indexes the physical devices in the order vkEnumeratePhysicalDevices
 * returns them. init fails with a reason (no loader, no driver, no device), never a
 * crash, so `ssmrt devices` can say why Vulkan is unavailable.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vk_internal.h"

const ssmrt_host_api *vk_host;

/* ===================================================================== */
/* Host services                                                          */
/* ===================================================================== */

int vk_error(int status, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (vk_host && vk_host->report_error) vk_host->report_error("%s", msg);
    return status;
}

void vk_log(ssmrt_log_level level, const char *fmt, ...) {
    if (!vk_host || !vk_host->log || (int)level > vk_host->log_level) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    vk_host->log(level, "%s", msg);
}

const char *vk_result_name(VkResult r) {
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VK_ERROR_UNKNOWN";
    }
}

int vk_fail(vk_device *d, VkResult r, const char *what) {
    if (r == VK_ERROR_DEVICE_LOST && d) d->lost = 1;
    int st = (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
              r == VK_ERROR_OUT_OF_POOL_MEMORY)
                 ? SSMRT_ERR_OUT_OF_MEMORY
                 : SSMRT_ERR_BACKEND;
    return vk_error(st, "vulkan: %s failed: %s (%d)", what, vk_result_name(r), (int)r);
}

/* ===================================================================== */
/* Backend start                                                          */
/* ===================================================================== */

static int has_instance_ext(vk_backend *be, const char *name) {
    uint32_t n = 0;
    if (be->fn.vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) != VK_SUCCESS || !n) return 0;
    VkExtensionProperties *p = vk_host->alloc(sizeof *p * n);
    if (!p) return 0;
    int found = 0;
    if (be->fn.vkEnumerateInstanceExtensionProperties(NULL, &n, p) >= 0)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].extensionName, name);
    vk_host->free(p);
    return found;
}

static void backend_release(vk_backend *be) {
    if (!be) return;
    vk_debug_stop(be);
    if (be->instance) be->fn.vkDestroyInstance(be->instance, NULL);
    if (be->phys) vk_host->free(be->phys);
    vk_loader_close(be);
    vk_host->free(be);
}

static int vk_init(void **out_backend) {
    *out_backend = NULL;
    vk_backend *be = vk_host->alloc(sizeof *be);
    if (!be) return vk_error(SSMRT_ERR_OUT_OF_MEMORY, "vulkan: out of memory starting the plugin");
    memset(be, 0, sizeof *be);
    atomic_init(&be->validation_errors, 0);
    atomic_flag_clear(&be->msg_taken);
    int rc = vk_loader_open(be);
    if (rc) {
        backend_release(be);
        return rc;
    }
    PFN_vkEnumerateInstanceVersion enum_version =
        (PFN_vkEnumerateInstanceVersion)be->fn.vkGetInstanceProcAddr(NULL,
                                                                     "vkEnumerateInstanceVersion");
    uint32_t loader_version = VK_API_VERSION_1_0;
    if (enum_version) enum_version(&loader_version);
    if (loader_version < VK_API_VERSION_1_1) {
        backend_release(be);
        return vk_error(SSMRT_ERR_BACKEND,
                        "vulkan: the Vulkan loader speaks %u.%u, ssmrt needs Vulkan 1.1",
                        VK_API_VERSION_MAJOR(loader_version), VK_API_VERSION_MINOR(loader_version));
    }

    const char *exts[4];
    uint32_t n_ext = 0;
    const char *dbg_ext = NULL;
    if (vk_debug_wanted(be, &dbg_ext)) exts[n_ext++] = dbg_ext;
    VkInstanceCreateFlags flags = 0;
#ifdef VK_KHR_portability_enumeration
    /* MoltenVK and other portability drivers are listed only when asked for. */
    if (has_instance_ext(be, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        exts[n_ext++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
#endif
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "ssmrt",
        .pEngineName = "ssmrt",
        .engineVersion = VK_MAKE_API_VERSION(0, SSMRT_VERSION_MAJOR, SSMRT_VERSION_MINOR,
                                             SSMRT_VERSION_PATCH),
        .apiVersion = loader_version >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : loader_version,
    };
    VkInstanceCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .flags = flags,
        .pApplicationInfo = &app,
        .enabledExtensionCount = n_ext,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = be->fn.vkCreateInstance(&ici, NULL, &be->instance);
    if (r != VK_SUCCESS) {
        be->instance = VK_NULL_HANDLE;
        backend_release(be);
        if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
            return vk_error(SSMRT_ERR_NOT_FOUND,
                            "vulkan: no Vulkan driver (ICD) is installed or none supports "
                            "Vulkan 1.1 (vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER)");
        return vk_fail(NULL, r, "vkCreateInstance");
    }
    vk_loader_instance(be);
#define CHECK_INSTANCE(f)                                                          \
    if (!be->fn.f) {                                                               \
        backend_release(be);                                                       \
        return vk_error(SSMRT_ERR_BACKEND, "vulkan: the loader lacks " #f);        \
    }
    VK_INSTANCE_FNS(CHECK_INSTANCE)
#undef CHECK_INSTANCE
    if (dbg_ext) vk_debug_start(be);

    uint32_t n = 0;
    r = be->fn.vkEnumeratePhysicalDevices(be->instance, &n, NULL);
    if (r != VK_SUCCESS || n == 0) {
        backend_release(be);
        if (r != VK_SUCCESS) return vk_fail(NULL, r, "vkEnumeratePhysicalDevices");
        return vk_error(SSMRT_ERR_NOT_FOUND,
                        "vulkan: no Vulkan device found (is a driver such as mesa-vulkan-drivers "
                        "or the GPU vendor's driver installed?)");
    }
    be->phys = vk_host->alloc(sizeof *be->phys * n);
    if (!be->phys) {
        backend_release(be);
        return vk_error(SSMRT_ERR_OUT_OF_MEMORY, "vulkan: out of memory listing devices");
    }
    r = be->fn.vkEnumeratePhysicalDevices(be->instance, &n, be->phys);
    if (r < 0) {
        backend_release(be);
        return vk_fail(NULL, r, "vkEnumeratePhysicalDevices");
    }
    be->n_phys = n;
    *out_backend = be;
    return 0;
}

static void vk_shutdown(void *backend) { backend_release(backend); }

static int vk_device_count(void *backend, uint32_t *out_count) {
    *out_count = ((vk_backend *)backend)->n_phys;
    return 0;
}

/* ===================================================================== */
/* Device properties                                                      */
/* ===================================================================== */

static const char *vendor_name(uint32_t id) {
    switch (id) {
    case 0x10DE: return "NVIDIA";
    case 0x1002: return "AMD";
    case 0x8086: return "Intel";
    case 0x13B5: return "ARM";
    case 0x5143: return "Qualcomm";
    case 0x1010: return "Imagination";
    case 0x106B: return "Apple";
    case 0x10005: return "Mesa";
    default: return NULL;
    }
}

/* driverVersion has a vendor-specific packing; NVIDIA's is 10.8.8.6 bits. */
static void driver_version_string(const VkPhysicalDeviceProperties *p, char *out, size_t cap) {
    uint32_t v = p->driverVersion;
    if (p->vendorID == 0x10DE)
        snprintf(out, cap, "%u.%u.%u", v >> 22, (v >> 14) & 0xFF, (v >> 6) & 0xFF);
    else
        snprintf(out, cap, "%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v),
                 VK_API_VERSION_PATCH(v));
}

static int vk_device_props(void *backend, uint32_t index, ssmrt_backend_device_props *out) {
    vk_backend *be = backend;
    if (index >= be->n_phys)
        return vk_error(SSMRT_ERR_NOT_FOUND, "vulkan: device %u does not exist (%u devices)", index,
                        be->n_phys);
    vk_caps c;
    vk_device_query_caps(be, be->phys[index], &c);
    uint32_t size = out->struct_size ? out->struct_size : sizeof *out;
    ssmrt_backend_device_props p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    snprintf(p.name, sizeof p.name, "%.127s", c.props.deviceName);
    const char *vn = vendor_name(c.props.vendorID);
    if (vn)
        snprintf(p.vendor, sizeof p.vendor, "%s", vn);
    else
        snprintf(p.vendor, sizeof p.vendor, "0x%04x", c.props.vendorID);
    char ver[32];
    driver_version_string(&c.props, ver, sizeof ver);
    if (c.has_driver_props && c.driver.driverName[0])
        snprintf(p.driver_version, sizeof p.driver_version, "%.24s %.36s", c.driver.driverName,
                 c.driver.driverInfo[0] ? c.driver.driverInfo : ver);
    else
        snprintf(p.driver_version, sizeof p.driver_version, "%s", ver);
    snprintf(p.api_version, sizeof p.api_version, "Vulkan %u.%u.%u",
             VK_API_VERSION_MAJOR(c.props.apiVersion), VK_API_VERSION_MINOR(c.props.apiVersion),
             VK_API_VERSION_PATCH(c.props.apiVersion));
    p.memory_bytes = c.device_local_bytes;
    p.compute_units = c.compute_units;
    p.subgroup_size = c.subgroup_size;
    /* f16/bf16 are read from 32-bit words where 16-bit storage is missing. */
    p.dtype_mask = (1u << SSMRT_F32) | (1u << SSMRT_F16) | (1u << SSMRT_BF16) | (1u << SSMRT_I32);
    p.is_reference = 0;
    p.host_memory = 0; /* buffers are VkBuffers, never host pointers */
    memcpy(out, &p, size < sizeof p ? size : sizeof p);
    out->struct_size = size < sizeof p ? size : sizeof p;
    return 0;
}

static int vk_abi_device_open(void *backend, uint32_t index, void **out_device) {
    vk_device *d = NULL;
    int rc = vk_device_open(backend, index, &d);
    *out_device = d;
    return rc;
}

static void vk_abi_device_close(void *device) { vk_device_close(device); }

/* ===================================================================== */
/* Entry                                                                  */
/* ===================================================================== */

static const ssmrt_backend_vtable k_vtable = {
    .struct_size = sizeof(ssmrt_backend_vtable),
    .abi_version = SSMRT_BACKEND_ABI_VERSION,
    .name = "vulkan",
    .init = vk_init,
    .shutdown = vk_shutdown,
    .device_count = vk_device_count,
    .device_props = vk_device_props,
    .device_open = vk_abi_device_open,
    .device_close = vk_abi_device_close,
    .buffer_alloc = vk_abi_buffer_alloc,
    .buffer_free = vk_abi_buffer_free,
    .buffer_upload = vk_abi_buffer_upload,
    .buffer_download = vk_abi_buffer_download,
    .buffer_copy = vk_abi_buffer_copy,
    .buffer_fill_zero = vk_abi_buffer_fill_zero,
    .supports = vk_abi_supports,
    .enqueue = vk_abi_enqueue,
    .synchronize = vk_abi_synchronize,
    .begin_batch = vk_abi_begin_batch,
    .end_batch = vk_abi_end_batch,
    .timer_mark = vk_abi_timer_mark,
    .timer_read = vk_abi_timer_read,
};

SSMRT_PLUGIN_EXPORT int ssmrt_backend_entry(const ssmrt_host_api *host, uint32_t host_max_version,
                                            uint32_t *out_version,
                                            const ssmrt_backend_vtable **out_vtable) {
    if (!host || host->struct_size < sizeof(ssmrt_host_api) || !host->alloc || !host->free ||
        !host->report_error)
        return SSMRT_ERR_ABI;
    vk_host = host;
    if (host_max_version < SSMRT_BACKEND_ABI_VERSION) {
        host->report_error("vulkan: the host speaks plugin ABI %u, this plugin needs %u",
                           host_max_version, SSMRT_BACKEND_ABI_VERSION);
        return SSMRT_ERR_ABI;
    }
    *out_version = SSMRT_BACKEND_ABI_VERSION;
    *out_vtable = &k_vtable;
    return 0;
}
