/* The OpenCL plugin's entry point, vtable, and device enumeration.
 *
 * Device indices cover every device of every platform the ICD loader reports, in
 * platform order and then device order, so an index is stable for a given set of
 * installed drivers. A platform that fails to list its devices is skipped with a
 * warning (a broken driver must not take the others down). */
#include <stdio.h>
#include <string.h>

#include "ocl.h"
#include "ocl_api.h"

/* ---------------------------------------------------------------------- */
/* Enumeration                                                             */
/* ---------------------------------------------------------------------- */

static int ocl_init(void **out_backend)
{
    *out_backend = NULL;
    cl_uint n_platforms = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &n_platforms);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && n_platforms == 0))
        return ssmrt_ocl_fail(SSMRT_ERR_NOT_FOUND,
                              "no OpenCL platform found (the ICD loader found no working driver "
                              "in /etc/OpenCL/vendors or OCL_ICD_VENDORS; install one, e.g. "
                              "pocl-opencl-icd)");
    if (err != CL_SUCCESS)
        return ssmrt_ocl_fail_cl(err, "clGetPlatformIDs");

    cl_platform_id *platforms = ssmrt_ocl_alloc(n_platforms * sizeof *platforms);
    if (!platforms)
        return ssmrt_ocl_fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory listing platforms");
    err = clGetPlatformIDs(n_platforms, platforms, NULL);
    if (err != CL_SUCCESS) {
        ssmrt_ocl_free(platforms);
        return ssmrt_ocl_fail_cl(err, "clGetPlatformIDs");
    }

    /* First count, then fill, so the arrays are allocated once. */
    cl_uint total = 0;
    cl_uint *counts = ssmrt_ocl_alloc(n_platforms * sizeof *counts);
    if (!counts) {
        ssmrt_ocl_free(platforms);
        return ssmrt_ocl_fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory listing devices");
    }
    for (cl_uint p = 0; p < n_platforms; p++) {
        counts[p] = 0;
        err = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &counts[p]);
        if (err != CL_SUCCESS && err != CL_DEVICE_NOT_FOUND) {
            SSMRT_OCL_LOG(SSMRT_LOG_WARN, "opencl: platform %u skipped: clGetDeviceIDs: %s",
                          p, ssmrt_ocl_error_name(err));
            counts[p] = 0;
        }
        if (err == CL_DEVICE_NOT_FOUND)
            counts[p] = 0;
        total += counts[p];
    }
    if (total == 0) {
        ssmrt_ocl_free(counts);
        ssmrt_ocl_free(platforms);
        return ssmrt_ocl_fail(SSMRT_ERR_NOT_FOUND, "%u OpenCL platform(s) but no device",
                              n_platforms);
    }

    ssmrt_ocl_backend *be = ssmrt_ocl_alloc(sizeof *be);
    cl_platform_id *dev_platforms = ssmrt_ocl_alloc(total * sizeof *dev_platforms);
    cl_device_id *devices = ssmrt_ocl_alloc(total * sizeof *devices);
    if (!be || !dev_platforms || !devices) {
        ssmrt_ocl_free(be);
        ssmrt_ocl_free(dev_platforms);
        ssmrt_ocl_free(devices);
        ssmrt_ocl_free(counts);
        ssmrt_ocl_free(platforms);
        return ssmrt_ocl_fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory listing devices");
    }
    cl_uint n = 0;
    for (cl_uint p = 0; p < n_platforms; p++) {
        if (counts[p] == 0)
            continue;
        cl_uint got = 0;
        err = clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, counts[p], devices + n, &got);
        if (err != CL_SUCCESS) {
            SSMRT_OCL_LOG(SSMRT_LOG_WARN, "opencl: platform %u skipped: clGetDeviceIDs: %s",
                          p, ssmrt_ocl_error_name(err));
            continue;
        }
        if (got > counts[p])
            got = counts[p];
        for (cl_uint i = 0; i < got; i++)
            dev_platforms[n + i] = platforms[p];
        n += got;
    }
    ssmrt_ocl_free(counts);
    ssmrt_ocl_free(platforms);
    if (n == 0) {
        ssmrt_ocl_free(be);
        ssmrt_ocl_free(dev_platforms);
        ssmrt_ocl_free(devices);
        return ssmrt_ocl_fail(SSMRT_ERR_NOT_FOUND, "no OpenCL device could be listed");
    }
    be->n_devices = n;
    be->platforms = dev_platforms;
    be->devices = devices;
    *out_backend = be;
    return SSMRT_OK;
}

static void ocl_shutdown(void *backend)
{
    ssmrt_ocl_backend *be = backend;
    if (!be)
        return;
    ssmrt_ocl_free(be->platforms);
    ssmrt_ocl_free(be->devices);
    ssmrt_ocl_free(be);
}

static int ocl_device_count(void *backend, uint32_t *out_count)
{
    *out_count = ((ssmrt_ocl_backend *)backend)->n_devices;
    return SSMRT_OK;
}

/* ---------------------------------------------------------------------- */
/* Properties                                                              */
/* ---------------------------------------------------------------------- */

static void info_string(cl_device_id d, cl_device_info what, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, cap, buf, NULL) != CL_SUCCESS)
        buf[0] = '\0';
    buf[cap - 1] = '\0';
}

static int ocl_device_props(void *backend, uint32_t index, ssmrt_backend_device_props *out)
{
    ssmrt_ocl_backend *be = backend;
    if (index >= be->n_devices)
        return ssmrt_ocl_fail(SSMRT_ERR_NOT_FOUND, "device %u does not exist (%u device(s))",
                              index, be->n_devices);
    cl_device_id d = be->devices[index];
    uint32_t size = out->struct_size ? out->struct_size : (uint32_t)sizeof *out;
    ssmrt_backend_device_props p;
    memset(&p, 0, sizeof p);
    p.struct_size = (uint32_t)sizeof p;

    char platform[256] = "", device[256] = "", version[256] = "";
    if (clGetPlatformInfo(be->platforms[index], CL_PLATFORM_NAME, sizeof platform, platform,
                          NULL) != CL_SUCCESS)
        platform[0] = '\0';
    platform[sizeof platform - 1] = '\0';
    info_string(d, CL_DEVICE_NAME, device, sizeof device);
    /* "platform: device", since ssmrt_device_info has no platform field. */
    snprintf(p.name, sizeof p.name, "%s: %s", platform, device);
    info_string(d, CL_DEVICE_VENDOR, p.vendor, sizeof p.vendor);
    info_string(d, CL_DRIVER_VERSION, p.driver_version, sizeof p.driver_version);
    /* CL_DEVICE_VERSION is "OpenCL <major.minor> <vendor text>"; keep the first two
     * words, and add the OpenCL C version, which is what kernels are compiled for. */
    info_string(d, CL_DEVICE_VERSION, version, sizeof version);
    char api[64] = "", cver[256] = "";
    if (sscanf(version, "OpenCL %63s", api) != 1)
        snprintf(api, sizeof api, "?");
    info_string(d, CL_DEVICE_OPENCL_C_VERSION, cver, sizeof cver);
    char cnum[64] = "";
    if (sscanf(cver, "OpenCL C %63s", cnum) != 1)
        snprintf(cnum, sizeof cnum, "?");
    snprintf(p.api_version, sizeof p.api_version, "OpenCL %s (OpenCL C %s)", api, cnum);

    cl_ulong mem = 0;
    cl_uint cu = 0;
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    p.memory_bytes = mem;
    p.compute_units = cu;
    p.subgroup_size = ssmrt_ocl_subgroup_size(d);
    /* Storage dtypes: f16 and bf16 are loaded with vload_half / 16-bit shifts, which
     * need no extension, so every device takes all four. */
    p.dtype_mask = (1u << SSMRT_F32) | (1u << SSMRT_F16) | (1u << SSMRT_BF16) | (1u << SSMRT_I32);
    p.is_reference = 0;
    p.host_memory = 0;

    if (size > sizeof p)
        size = (uint32_t)sizeof p;
    memcpy(out, &p, size);
    out->struct_size = size;
    return SSMRT_OK;
}

/* ---------------------------------------------------------------------- */
/* Entry                                                                   */
/* ---------------------------------------------------------------------- */

static const ssmrt_backend_vtable ocl_vtable = {
    .struct_size = sizeof(ssmrt_backend_vtable),
    .abi_version = SSMRT_BACKEND_ABI_VERSION,
    .name = "opencl",
    .init = ocl_init,
    .shutdown = ocl_shutdown,
    .device_count = ocl_device_count,
    .device_props = ocl_device_props,
    .device_open = ssmrt_ocl_api_device_open,
    .device_close = ssmrt_ocl_api_device_close,
    .buffer_alloc = ssmrt_ocl_api_buffer_alloc,
    .buffer_free = ssmrt_ocl_api_buffer_free,
    .buffer_upload = ssmrt_ocl_api_buffer_upload,
    .buffer_download = ssmrt_ocl_api_buffer_download,
    .buffer_copy = ssmrt_ocl_api_buffer_copy,
    .buffer_fill_zero = ssmrt_ocl_api_buffer_fill_zero,
    .supports = ssmrt_ocl_api_supports,
    .enqueue = ssmrt_ocl_api_enqueue,
    .synchronize = ssmrt_ocl_api_synchronize,
    .begin_batch = NULL,
    .end_batch = ssmrt_ocl_api_end_batch,
    .timer_mark = ssmrt_ocl_api_timer_mark,
    .timer_read = ssmrt_ocl_api_timer_read,
};

SSMRT_PLUGIN_EXPORT int ssmrt_backend_entry(const ssmrt_host_api *host, uint32_t host_max_version,
                                            uint32_t *out_version,
                                            const ssmrt_backend_vtable **out_vtable)
{
    if (!host || !out_version || !out_vtable)
        return SSMRT_ERR_INVALID_ARGUMENT;
    ssmrt_ocl_host = host;
    if (host_max_version < SSMRT_BACKEND_ABI_MIN_VERSION)
        return ssmrt_ocl_fail(SSMRT_ERR_ABI,
                              "host speaks plugin ABI %u, this plugin needs at least %u",
                              host_max_version, SSMRT_BACKEND_ABI_MIN_VERSION);
    *out_version = host_max_version < SSMRT_BACKEND_ABI_VERSION ? host_max_version
                                                                : SSMRT_BACKEND_ABI_VERSION;
    *out_vtable = &ocl_vtable;
    return SSMRT_OK;
}
