/* Internal: the process-wide list of backend plugins found on the search path. */
#ifndef SSMRT_PLUGIN_REGISTRY_H
#define SSMRT_PLUGIN_REGISTRY_H

#include "ssmrt.h"
#include "ssmrt_backend.h"

/* Fixed-size strings: the registry allocates nothing it could fail to free or fail
 * to get, beyond the arrays below (whose failure makes the plugin unusable). */
typedef struct ssmrt__plugin {
    char name[64];
    char path[4096];
    int loaded;
    char reason[1024];
    uint32_t abi_version;
    const ssmrt_backend_vtable *vt;
    void *backend;
    uint32_t device_count;
    ssmrt_backend_device_props *props; /* [device_count] */
    ssmrt_device_info *infos;          /* [device_count], strings point into props */
} ssmrt__plugin;

/* Loads everything once; later calls return the same list. */
void ssmrt__registry_get(ssmrt__plugin **plugins, uint32_t *count);
/* What the search looked at, for error messages ("dirs: /a (missing), /b"). */
const char *ssmrt__registry_search_report(void);
const ssmrt_host_api *ssmrt__host_api(void);

#endif
