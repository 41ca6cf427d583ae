/* Test plugin: negotiates ABI 1 but hands over a vtable whose struct_size is smaller
 * than the version-1 layout (a truncated or corrupted table). The host must refuse
 * it from struct_size alone. */
#include "ssmrt_backend.h"

static const ssmrt_backend_vtable short_vtable = {
    .struct_size = 16,
    .abi_version = SSMRT_BACKEND_ABI_VERSION,
    .name = "shortvtable",
};

SSMRT_PLUGIN_EXPORT int ssmrt_backend_entry(const ssmrt_host_api *host, uint32_t host_max_version,
                                            uint32_t *out_version,
                                            const ssmrt_backend_vtable **out_vtable)
{
    (void)host;
    (void)host_max_version;
    *out_version = SSMRT_BACKEND_ABI_VERSION;
    *out_vtable = &short_vtable;
    return 0;
}
