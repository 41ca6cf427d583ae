/* Test plugin: a well-formed plugin whose init fails with a reason, as a GPU plugin
 * does on a machine without its driver. Every other slot reports that the plugin
 * is not initialised; the host must never call them. */
#include "ssmrt_backend.h"

static const ssmrt_host_api *g_host;

static int initfail_init(void **out_backend)
{
    *out_backend = NULL;
    g_host->report_error("initfail: the frobnicator driver (libfrob.so.3) is not installed");
    return SSMRT_ERR_BACKEND;
}

static int initfail_refuse(void)
{
    g_host->report_error("initfail: called although init failed");
    return SSMRT_ERR_INTERNAL;
}

static void initfail_shutdown(void *backend) { (void)backend; }
static int initfail_device_count(void *b, uint32_t *n) { (void)b; *n = 0; return initfail_refuse(); }
static int initfail_device_props(void *b, uint32_t i, ssmrt_backend_device_props *p)
{ (void)b; (void)i; (void)p; return initfail_refuse(); }
static int initfail_device_open(void *b, uint32_t i, void **d) { (void)b; (void)i; *d = NULL; return initfail_refuse(); }
static void initfail_device_close(void *d) { (void)d; }
static int initfail_buffer_alloc(void *d, uint64_t n, void **b) { (void)d; (void)n; *b = NULL; return initfail_refuse(); }
static void initfail_buffer_free(void *d, void *b) { (void)d; (void)b; }
static int initfail_buffer_upload(void *d, void *b, uint64_t o, const void *s, uint64_t n)
{ (void)d; (void)b; (void)o; (void)s; (void)n; return initfail_refuse(); }
static int initfail_buffer_download(void *d, void *b, uint64_t o, void *s, uint64_t n)
{ (void)d; (void)b; (void)o; (void)s; (void)n; return initfail_refuse(); }
static int initfail_buffer_copy(void *d, void *s, uint64_t so, void *t, uint64_t to, uint64_t n)
{ (void)d; (void)s; (void)so; (void)t; (void)to; (void)n; return initfail_refuse(); }
static int initfail_buffer_fill_zero(void *d, void *b, uint64_t o, uint64_t n)
{ (void)d; (void)b; (void)o; (void)n; return initfail_refuse(); }
static int initfail_supports(void *d, const ssmrt_op *op) { (void)d; (void)op; return 0; }
static int initfail_enqueue(void *d, const ssmrt_op *op) { (void)d; (void)op; return initfail_refuse(); }
static int initfail_synchronize(void *d) { (void)d; return initfail_refuse(); }

static const ssmrt_backend_vtable initfail_vtable = {
    .struct_size = sizeof(ssmrt_backend_vtable),
    .abi_version = SSMRT_BACKEND_ABI_VERSION,
    .name = "initfail",
    .init = initfail_init,
    .shutdown = initfail_shutdown,
    .device_count = initfail_device_count,
    .device_props = initfail_device_props,
    .device_open = initfail_device_open,
    .device_close = initfail_device_close,
    .buffer_alloc = initfail_buffer_alloc,
    .buffer_free = initfail_buffer_free,
    .buffer_upload = initfail_buffer_upload,
    .buffer_download = initfail_buffer_download,
    .buffer_copy = initfail_buffer_copy,
    .buffer_fill_zero = initfail_buffer_fill_zero,
    .supports = initfail_supports,
    .enqueue = initfail_enqueue,
    .synchronize = initfail_synchronize,
};

SSMRT_PLUGIN_EXPORT int ssmrt_backend_entry(const ssmrt_host_api *host, uint32_t host_max_version,
                                            uint32_t *out_version,
                                            const ssmrt_backend_vtable **out_vtable)
{
    if (host_max_version < SSMRT_BACKEND_ABI_VERSION) {
        host->report_error("initfail: needs ABI %u", SSMRT_BACKEND_ABI_VERSION);
        return 1;
    }
    g_host = host;
    *out_version = SSMRT_BACKEND_ABI_VERSION;
    *out_vtable = &initfail_vtable;
    return 0;
}
