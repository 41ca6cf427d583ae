/* ssmrt devices: every plugin found on the search path, its status (and why it is
 * unavailable), and the properties of each device of the loaded ones. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ssmrt.h"

static void devices_usage(FILE *f)
{
    fprintf(f,
            "usage: ssmrt devices\n\n"
            "Lists every backend plugin (libssmrt-<name>.so) found on the plugin search path\n"
            "with its status: loaded, or unavailable with the reason (no driver, no device,\n"
            "another ABI version, a missing entry symbol, ...). For each loaded plugin, lists\n"
            "its devices with the index to put in SSMRT_DEVICE.\n\n"
            "The search path is SSMRT_PLUGIN_PATH (colon-separated directories) if set, else\n"
            "the directory holding libssmrt and the install libdir.\n\n"
            "Exit status: 0 if at least one plugin loaded, 1 if none did.\n");
}

static void devices_print_memory(uint64_t bytes)
{
    if (!bytes)
        printf("unknown");
    else if (bytes >= (1ull << 30))
        printf("%.1f GiB", (double)bytes / (double)(1ull << 30));
    else
        printf("%.0f MiB", (double)bytes / (double)(1ull << 20));
}

int ssmrt_cmd_devices(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            devices_usage(stdout);
            return 0;
        }
        fprintf(stderr, "ssmrt devices: unknown option '%s'\n\n", argv[i]);
        devices_usage(stderr);
        return 2;
    }
    uint32_t n = ssmrt_plugin_count();
    if (n == 0) {
        printf("no plugins found on the search path (set SSMRT_PLUGIN_PATH to the folder "
               "holding libssmrt-<backend>.so)\n");
        return 1;
    }
    int loaded = 0;
    for (uint32_t p = 0; p < n; p++) {
        ssmrt_plugin_info pi;
        if (ssmrt_plugin_get(p, &pi) != SSMRT_OK) {
            printf("plugin %u: %s\n", p, ssmrt_last_error());
            continue;
        }
        loaded += pi.loaded != 0;
        printf("plugin %s: %s", pi.name, pi.loaded ? "loaded" : "unavailable");
        if (pi.loaded)
            printf(" (ABI %u, %u device%s)", pi.abi_version, pi.device_count,
                   pi.device_count == 1 ? "" : "s");
        printf("\n  path: %s\n", pi.path);
        if (!pi.loaded || (pi.reason && *pi.reason))
            printf("  reason: %s\n", pi.reason && *pi.reason ? pi.reason : "(none given)");
        for (uint32_t d = 0; pi.loaded && d < pi.device_count; d++) {
            ssmrt_device_info di;
            if (ssmrt_plugin_device_info(p, d, &di) != SSMRT_OK) {
                printf("  device %u: %s\n", d, ssmrt_last_error());
                continue;
            }
            printf("  device %u: %s%s\n", d, di.name, di.is_reference ? " (float64 reference)" : "");
            printf("    vendor: %s\n    driver: %s\n    api: %s\n    memory: ", di.vendor,
                   di.driver_version, di.api_version);
            devices_print_memory(di.memory_bytes);
            printf("\n    compute units: %u\n    subgroup size: %u\n    dtypes:", di.compute_units,
                   di.subgroup_size);
            for (int t = 0; t < SSMRT_DTYPE_COUNT; t++)
                if (di.dtype_mask & (1u << t))
                    printf(" %s", ssmrt_dtype_name((ssmrt_dtype)t));
            printf("\n");
        }
    }
    return loaded ? 0 : 1;
}
