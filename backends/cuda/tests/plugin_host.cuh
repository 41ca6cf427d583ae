/*
 * plugin_host.cuh: the host side shared by the CUDA plugin's self-test and
 * benchmark, which drive the plugin's vtable directly (no libssmrt): callbacks
 * that keep the plugin's last error message, dense descriptors, and opening
 * device 0 through the plugin's entry point. Included by one .cu file each.
 */
#ifndef SSMRT_CUDA_PLUGIN_HOST_CUH
#define SSMRT_CUDA_PLUGIN_HOST_CUH

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cuda_backend.h"

extern "C" int ssmrt_backend_entry(const ssmrt_host_api *, uint32_t, uint32_t *,
                                   const ssmrt_backend_vtable **);

static char g_err[1024]; /* the plugin's last reported error */
static const ssmrt_backend_vtable *vt;
static void *g_dev;

static void host_log(ssmrt_log_level level, const char *fmt, ...) {
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
static void host_report(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
}
static void *host_alloc(size_t n) { return malloc(n ? n : 1); }
static void host_free(void *p) { free(p); }

/* A contiguous descriptor of shape[ndim] in buf. */
static void desc(ssmrt_tensor_desc *d, void *buf, uint32_t dtype, int ndim, const int64_t *shape) {
    memset(d, 0, sizeof *d);
    d->buffer = buf;
    d->dtype = dtype;
    d->ndim = (uint32_t)ndim;
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        d->shape[i] = shape[i];
        d->stride[i] = s;
        s *= shape[i];
    }
}

/* Sets vt and g_dev to the plugin's device 0 and prints its name. Returns 0, 77
 * (printing "SKIP: reason") when no CUDA device starts, or 1 after printing the
 * error. */
static int plugin_host_open(ssmrt_log_level level, void **out_backend) {
    static ssmrt_host_api host; /* the plugin keeps this pointer for good */
    memset(&host, 0, sizeof host);
    host.struct_size = sizeof host;
    host.abi_version = SSMRT_BACKEND_ABI_VERSION;
    host.log = host_log;
    host.report_error = host_report;
    host.alloc = host_alloc;
    host.free = host_free;
    host.log_level = level;
    uint32_t ver = 0;
    if (ssmrt_backend_entry(&host, SSMRT_BACKEND_ABI_VERSION, &ver, &vt)) {
        fprintf(stderr, "entry refused: %s\n", g_err);
        return 1;
    }
    if (vt->init(out_backend)) {
        printf("SKIP: %s\n", g_err);
        return 77;
    }
    ssmrt_backend_device_props props;
    memset(&props, 0, sizeof props);
    props.struct_size = sizeof props;
    vt->device_props(*out_backend, 0, &props);
    printf("device: %s, %s, %s\n", props.name, props.driver_version, props.api_version);
    if (vt->device_open(*out_backend, 0, &g_dev)) {
        fprintf(stderr, "device_open: %s\n", g_err);
        return 1;
    }
    return 0;
}

#endif /* SSMRT_CUDA_PLUGIN_HOST_CUH */
