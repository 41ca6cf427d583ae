/*
 * vk_loader.c: opens the Vulkan loader with dlopen and fills the function tables.
 *
 * Loading at run time (instead of linking libvulkan) lets the plugin itself load on
 * a machine without Vulkan and say why it is unavailable, the way the OpenCL ICD
 * loader keeps a broken driver from taking the host down. Device functions come
 * from vkGetDeviceProcAddr, which skips the loader's dispatch trampoline.
 */
#include <dlfcn.h>
#include <string.h>

#include "vk_internal.h"

int vk_loader_open(vk_backend *be) {
    static const char *const names[] = {"libvulkan.so.1", "libvulkan.so"};
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !be->lib; i++)
        be->lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!be->lib)
        return vk_error(SSMRT_ERR_NOT_FOUND,
                        "vulkan: the Vulkan loader libvulkan.so.1 is not installed (%s)",
                        dlerror());
    /* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
    void *sym = dlsym(be->lib, "vkGetInstanceProcAddr");
    memcpy(&be->fn.vkGetInstanceProcAddr, &sym, sizeof sym);
    if (!be->fn.vkGetInstanceProcAddr) {
        dlclose(be->lib);
        be->lib = NULL;
        return vk_error(SSMRT_ERR_BACKEND, "vulkan: libvulkan.so.1 has no vkGetInstanceProcAddr");
    }
#define LOAD_GLOBAL(f) be->fn.f = (PFN_##f)be->fn.vkGetInstanceProcAddr(NULL, #f);
    VK_GLOBAL_FNS(LOAD_GLOBAL)
#undef LOAD_GLOBAL
#define CHECK_GLOBAL(f) \
    if (!be->fn.f) return vk_error(SSMRT_ERR_BACKEND, "vulkan: the loader lacks " #f);
    VK_GLOBAL_FNS(CHECK_GLOBAL)
#undef CHECK_GLOBAL
    return 0;
}

void vk_loader_close(vk_backend *be) {
    if (be->lib) dlclose(be->lib);
    be->lib = NULL;
}

/* After vkCreateInstance: instance-level functions. Optional ones stay NULL when
 * their extension is absent; required ones are core 1.1 and checked by the caller
 * through vk_loader_instance_ok. */
void vk_loader_instance(vk_backend *be) {
#define LOAD_INSTANCE(f) be->fn.f = (PFN_##f)be->fn.vkGetInstanceProcAddr(be->instance, #f);
    VK_INSTANCE_FNS(LOAD_INSTANCE)
    VK_INSTANCE_OPT_FNS(LOAD_INSTANCE)
#undef LOAD_INSTANCE
}

int vk_loader_device(vk_backend *be, VkDevice dev, vk_device_fns *fn) {
#define LOAD_DEVICE(f)                                               \
    fn->f = (PFN_##f)be->fn.vkGetDeviceProcAddr(dev, #f);            \
    if (!fn->f) return vk_error(SSMRT_ERR_BACKEND, "vulkan: the driver lacks " #f);
    VK_DEVICE_FNS(LOAD_DEVICE)
#undef LOAD_DEVICE
    return 0;
}
