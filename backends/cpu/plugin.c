/*
 * plugin.c: the entry symbol, the vtable, devices, buffers and timers of the CPU
 * plugin (libssmrt-cpu.so).
 *
 * Devices: index 0 "cpu" runs the fast f32 kernels (threads, SIMD, BLAS); index 1
 * "cpu-reference" runs the float64 reference kernels, the conformance oracle.
 * Buffers are 64-byte aligned host memory, so props.host_memory = 1. Enqueue
 * runs a kernel at once, in order, on the calling thread (and its worker
 * threads); when it returns the results are written, so synchronize has nothing
 * to wait for and errors are reported by enqueue itself.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpu_internal.h"
#include "fast_kernels.h"

static const ssmrt_host_api *g_host;

/* ===================================================================== */
/* Host services                                                          */
/* ===================================================================== */

int cpu_error(int status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (g_host && g_host->report_error) g_host->report_error("%s", msg);
    return status;
}

void *cpu_scratch_alloc(uint64_t bytes) {
    if (bytes > SIZE_MAX - 64) return NULL;
    return aligned_alloc(64, (size_t)((bytes + 63) & ~(uint64_t)63) + 64 * (bytes == 0));
}

void cpu_scratch_free(void *p) { free(p); }

/* ===================================================================== */
/* Backend and devices                                                    */
/* ===================================================================== */

/* The backend object only marks a successful init; devices carry the state. */
typedef struct cpu_backend {
    uint32_t device_count;
} cpu_backend;

static int cpu_init(void **out_backend) {
    cpu_backend *b = g_host->alloc(sizeof *b);
    if (!b) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: out of memory starting the plugin");
    b->device_count = CPU_DEVICE_COUNT;
    cpu_fast_init();
    *out_backend = b;
    return 0;
}

static void cpu_shutdown(void *backend) {
    if (backend) g_host->free(backend);
}

static int cpu_device_count(void *backend, uint32_t *out_count) {
    (void)backend;
    *out_count = CPU_DEVICE_COUNT;
    return 0;
}

/* The value of "key : value" in /proc/cpuinfo, or fallback. */
static void cpuinfo_field(const char *key, char *out, size_t cap, const char *fallback) {
    snprintf(out, cap, "%s", fallback);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) != 0) continue;
        const char *colon = strchr(line, ':');
        if (!colon) continue;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        size_t n = strcspn(colon, "\n");
        if (n == 0) continue;
        snprintf(out, cap, "%.*s", (int)n, colon);
        break;
    }
    fclose(f);
}

static int cpu_device_props(void *backend, uint32_t index, ssmrt_backend_device_props *out) {
    (void)backend;
    if (index >= CPU_DEVICE_COUNT)
        return cpu_error(SSMRT_ERR_NOT_FOUND, "cpu: no device %u (the plugin has %d)", index,
                         CPU_DEVICE_COUNT);
    ssmrt_backend_device_props p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    char model[96];
    cpuinfo_field("model name", model, sizeof model, "unknown CPU");
    if (index == CPU_DEVICE_REFERENCE) {
        snprintf(p.name, sizeof p.name, "cpu-reference (%s)", model);
        snprintf(p.api_version, sizeof p.api_version, "C11 float64 reference");
    } else {
        snprintf(p.name, sizeof p.name, "%s", model);
        cpu_fast_api_version(p.api_version, sizeof p.api_version);
    }
    cpuinfo_field("vendor_id", p.vendor, sizeof p.vendor, "unknown");
    snprintf(p.driver_version, sizeof p.driver_version, "ssmrt-cpu %d.%d.%d",
             SSMRT_VERSION_MAJOR, SSMRT_VERSION_MINOR, SSMRT_VERSION_PATCH);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    p.memory_bytes = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    p.compute_units = cores > 0 ? (uint32_t)cores : 1;
    p.subgroup_size = index == CPU_DEVICE_REFERENCE ? 1 : cpu_fast_simd_lanes();
    p.dtype_mask = (1u << SSMRT_F32) | (1u << SSMRT_F16) | (1u << SSMRT_BF16) | (1u << SSMRT_I32);
    p.is_reference = index == CPU_DEVICE_REFERENCE;
    p.host_memory = 1;
    /* Copy no more than the host's struct holds (it may be an older, shorter one). */
    uint32_t n = out->struct_size && out->struct_size < sizeof p ? out->struct_size : sizeof p;
    memcpy(out, &p, n);
    out->struct_size = n;
    return 0;
}

/* Each open gets its own device object (timer slots), so contexts used from
 * different threads share nothing but the read-only kernels. */
static int cpu_device_open(void *backend, uint32_t index, void **out_device) {
    (void)backend;
    if (index >= CPU_DEVICE_COUNT)
        return cpu_error(SSMRT_ERR_NOT_FOUND, "cpu: no device %u (the plugin has %d)", index,
                         CPU_DEVICE_COUNT);
    cpu_device *dev = g_host->alloc(sizeof *dev);
    if (!dev) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: out of memory opening device %u", index);
    memset(dev, 0, sizeof *dev);
    dev->index = index;
    *out_device = dev;
    return 0;
}

static void cpu_device_close(void *device) {
    if (device) g_host->free(device);
}

/* ===================================================================== */
/* Buffers                                                                */
/* ===================================================================== */

static int cpu_buffer_alloc(void *device, uint64_t bytes, void **out_buffer) {
    (void)device;
    cpu_buffer *b = g_host->alloc(sizeof *b);
    if (!b) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: out of memory for a buffer handle");
    b->data = cpu_scratch_alloc(bytes);
    if (!b->data) {
        g_host->free(b);
        return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: cannot allocate %llu bytes",
                         (unsigned long long)bytes);
    }
    b->size = bytes;
    *out_buffer = b;
    return 0;
}

static void cpu_buffer_free(void *device, void *buffer) {
    (void)device;
    cpu_buffer *b = buffer;
    if (!b) return;
    cpu_scratch_free(b->data);
    g_host->free(b);
}

static int check_range(const cpu_buffer *b, uint64_t offset, uint64_t bytes, const char *what) {
    if (!b) return cpu_error(SSMRT_ERR_INVALID_ARGUMENT, "cpu: %s: NULL buffer", what);
    if (offset > b->size || bytes > b->size - offset)
        return cpu_error(SSMRT_ERR_INVALID_ARGUMENT,
                         "cpu: %s of %llu bytes at offset %llu overruns a %llu-byte buffer", what,
                         (unsigned long long)bytes, (unsigned long long)offset,
                         (unsigned long long)b->size);
    return 0;
}

static int cpu_buffer_upload(void *device, void *buffer, uint64_t offset, const void *src,
                             uint64_t bytes) {
    (void)device;
    int rc = check_range(buffer, offset, bytes, "upload");
    if (rc) return rc;
    if (bytes) memcpy((char *)((cpu_buffer *)buffer)->data + offset, src, bytes);
    return 0;
}

static int cpu_buffer_download(void *device, void *buffer, uint64_t offset, void *dst,
                               uint64_t bytes) {
    (void)device;
    int rc = check_range(buffer, offset, bytes, "download");
    if (rc) return rc;
    if (bytes) memcpy(dst, (char *)((cpu_buffer *)buffer)->data + offset, bytes);
    return 0;
}

static int cpu_buffer_copy(void *device, void *src, uint64_t src_offset, void *dst,
                           uint64_t dst_offset, uint64_t bytes) {
    (void)device;
    int rc = check_range(src, src_offset, bytes, "buffer copy (source)");
    if (!rc) rc = check_range(dst, dst_offset, bytes, "buffer copy (destination)");
    if (rc) return rc;
    if (bytes)
        memmove((char *)((cpu_buffer *)dst)->data + dst_offset,
                (char *)((cpu_buffer *)src)->data + src_offset, bytes);
    return 0;
}

static int cpu_buffer_fill_zero(void *device, void *buffer, uint64_t offset, uint64_t bytes) {
    (void)device;
    int rc = check_range(buffer, offset, bytes, "fill");
    if (rc) return rc;
    if (bytes) memset((char *)((cpu_buffer *)buffer)->data + offset, 0, bytes);
    return 0;
}

/* ===================================================================== */
/* Ops                                                                    */
/* ===================================================================== */

static int cpu_supports(void *device, const ssmrt_op *op) {
    return cpu_dispatch_lookup(((cpu_device *)device)->index, op) != NULL;
}

static int cpu_enqueue(void *device, const ssmrt_op *op) {
    cpu_device *dev = device;
    cpu_kernel_fn fn = cpu_dispatch_lookup(dev->index, op);
    if (!fn) {
        if (op->struct_size < sizeof(ssmrt_op))
            return cpu_error(SSMRT_ERR_ABI, "cpu: op struct of %u bytes, expected %zu",
                             op->struct_size, sizeof(ssmrt_op));
        return cpu_error(SSMRT_ERR_UNSUPPORTED,
                         "cpu: no kernel for op kind %u with these dtypes (src0 dtype %u)",
                         op->kind, op->n_src ? op->src[0].dtype : 0u);
    }
    int rc = cpu_dispatch_check_bounds(op);
    return rc ? rc : fn(op);
}

static int cpu_synchronize(void *device) {
    (void)device; /* enqueue has already run the work */
    return 0;
}

/* ===================================================================== */
/* Timers                                                                 */
/* ===================================================================== */

static int cpu_timer_mark(void *device, uint32_t slot) {
    cpu_device *dev = device;
    if (slot >= CPU_TIMER_SLOTS)
        return cpu_error(SSMRT_ERR_INVALID_ARGUMENT, "cpu: timer slot %u (max %d)", slot,
                         CPU_TIMER_SLOTS - 1);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    dev->timer_ns[slot] = (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
    dev->timer_set[slot] = 1;
    return 0;
}

static int cpu_timer_read(void *device, uint32_t slot_begin, uint32_t slot_end, double *out_ns) {
    cpu_device *dev = device;
    if (slot_begin >= CPU_TIMER_SLOTS || slot_end >= CPU_TIMER_SLOTS ||
        !dev->timer_set[slot_begin] || !dev->timer_set[slot_end])
        return cpu_error(SSMRT_ERR_INVALID_ARGUMENT, "cpu: timer slots %u, %u not both marked",
                         slot_begin, slot_end);
    *out_ns = dev->timer_ns[slot_end] - dev->timer_ns[slot_begin];
    return 0;
}

/* ===================================================================== */
/* Entry                                                                  */
/* ===================================================================== */

static const ssmrt_backend_vtable k_vtable = {
    .struct_size = sizeof(ssmrt_backend_vtable),
    .abi_version = SSMRT_BACKEND_ABI_VERSION,
    .name = "cpu",
    .init = cpu_init,
    .shutdown = cpu_shutdown,
    .device_count = cpu_device_count,
    .device_props = cpu_device_props,
    .device_open = cpu_device_open,
    .device_close = cpu_device_close,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .buffer_upload = cpu_buffer_upload,
    .buffer_download = cpu_buffer_download,
    .buffer_copy = cpu_buffer_copy,
    .buffer_fill_zero = cpu_buffer_fill_zero,
    .supports = cpu_supports,
    .enqueue = cpu_enqueue,
    .synchronize = cpu_synchronize,
    .begin_batch = NULL,
    .end_batch = NULL,
    .timer_mark = cpu_timer_mark,
    .timer_read = cpu_timer_read,
};

SSMRT_PLUGIN_EXPORT int ssmrt_backend_entry(const ssmrt_host_api *host, uint32_t host_max_version,
                                            uint32_t *out_version,
                                            const ssmrt_backend_vtable **out_vtable) {
    if (!host || host->struct_size < sizeof(ssmrt_host_api) || !host->alloc || !host->free ||
        !host->report_error)
        return SSMRT_ERR_ABI; /* nothing to report through */
    g_host = host;
    if (host_max_version < SSMRT_BACKEND_ABI_MIN_VERSION)
        return cpu_error(SSMRT_ERR_ABI, "cpu: host speaks ABI %u, the plugin needs >= %u",
                         host_max_version, SSMRT_BACKEND_ABI_MIN_VERSION);
    *out_version = SSMRT_BACKEND_ABI_VERSION < host_max_version ? SSMRT_BACKEND_ABI_VERSION
                                                                : host_max_version;
    *out_vtable = &k_vtable;
    return 0;
}
