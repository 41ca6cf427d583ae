/* Test plugin: answers an ABI version the host does not speak (99). The host must
 * refuse it before touching the vtable, so the vtable here is deliberately
 * empty apart from its header. */
#include "ssmrt_backend.h"

static const ssmrt_backend_vtable bad_abi_vtable = {
    .struct_size = sizeof(ssmrt_backend_vtable),
    .abi_version = 99,
    .name = "badabi",
};

SSMRT_PLUGIN_EXPORT int ssmrt_backend_entry(const ssmrt_host_api *host, uint32_t host_max_version,
                                            uint32_t *out_version,
                                            const ssmrt_backend_vtable **out_vtable)
{
    (void)host;
    (void)host_max_version;
    *out_version = 99;
    *out_vtable = &bad_abi_vtable;
    return 0;
}
