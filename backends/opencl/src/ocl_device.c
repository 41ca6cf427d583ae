/* Opening a device: context, in-order profiling queue, the feature facts kernels are
 * built for; synchronisation and device timers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl.h"
#include "ocl_api.h"

#define CL_DEVICE_REGISTERS_PER_BLOCK_NV_ 0x4002
#define CL_DEVICE_WARP_SIZE_NV_ 0x4003
#define CL_DEVICE_WAVEFRONT_WIDTH_AMD_ 0x4043

static int has_extension(const char *exts, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = exts; (p = strstr(p, name)) != NULL; p += n) {
        int starts = p == exts || p[-1] == ' ';
        int ends = p[n] == '\0' || p[n] == ' ';
        if (starts && ends)
            return 1;
    }
    return 0;
}

static char *device_extensions(cl_device_id d)
{
    size_t len = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &len) != CL_SUCCESS)
        return NULL;
    char *s = ssmrt_ocl_alloc(len + 1);
    if (!s)
        return NULL;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, len, s, NULL) != CL_SUCCESS)
        len = 0;
    s[len] = '\0';
    return s;
}

uint32_t ssmrt_ocl_subgroup_size(cl_device_id d)
{
    char *exts = device_extensions(d);
    cl_uint w = 0;
    if (exts && has_extension(exts, "cl_nv_device_attribute_query"))
        clGetDeviceInfo(d, CL_DEVICE_WARP_SIZE_NV_, sizeof w, &w, NULL);
    else if (exts && has_extension(exts, "cl_amd_device_attribute_query"))
        clGetDeviceInfo(d, CL_DEVICE_WAVEFRONT_WIDTH_AMD_, sizeof w, &w, NULL);
    ssmrt_ocl_free(exts);
    return w;
}

/* Reads what the kernels depend on and derives the build options. */
static int device_facts(ssmrt_ocl_device *dev)
{
    cl_device_id d = dev->device;
    char cver[256] = "";
    clGetDeviceInfo(d, CL_DEVICE_NAME, sizeof dev->name, dev->name, NULL);
    dev->name[sizeof dev->name - 1] = '\0';
    clGetDeviceInfo(d, CL_DRIVER_VERSION, sizeof dev->driver_version, dev->driver_version, NULL);
    dev->driver_version[sizeof dev->driver_version - 1] = '\0';
    clGetPlatformInfo(dev->platform, CL_PLATFORM_VERSION, sizeof dev->platform_version,
                      dev->platform_version, NULL);
    dev->platform_version[sizeof dev->platform_version - 1] = '\0';
    clGetDeviceInfo(d, CL_DEVICE_OPENCL_C_VERSION, sizeof cver, cver, NULL);
    cver[sizeof cver - 1] = '\0';
    int major = 0, minor = 0;
    if (sscanf(cver, "OpenCL C %d.%d", &major, &minor) != 2)
        return ssmrt_ocl_fail(SSMRT_ERR_BACKEND, "%s: cannot parse OpenCL C version '%s'",
                              dev->name, cver);
    dev->c_version = major * 100 + minor * 10;
    if (dev->c_version < 120)
        return ssmrt_ocl_fail(SSMRT_ERR_UNSUPPORTED,
                              "%s: OpenCL C %d.%d, but ssmrt needs OpenCL C 1.2", dev->name,
                              major, minor);
    cl_bool compiler = CL_FALSE;
    clGetDeviceInfo(d, CL_DEVICE_COMPILER_AVAILABLE, sizeof compiler, &compiler, NULL);
    if (!compiler)
        return ssmrt_ocl_fail(SSMRT_ERR_UNSUPPORTED,
                              "%s: the driver has no OpenCL C compiler (kernels ship as source)",
                              dev->name);
    dev->max_wg = 1;
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof dev->max_wg, &dev->max_wg, NULL);
    dev->compute_units = 1;
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof dev->compute_units,
                    &dev->compute_units, NULL);
    if (dev->compute_units == 0)
        dev->compute_units = 1;
    dev->local_mem = 0;
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof dev->local_mem, &dev->local_mem, NULL);
    dev->max_alloc = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof dev->max_alloc, &dev->max_alloc,
                    NULL);

    char *exts = device_extensions(d);
    dev->has_fp16 = exts && has_extension(exts, "cl_khr_fp16");
    /* NVIDIA's compiler takes -cl-nv-maxrregcount (kernels that must keep several
     * work-groups per SM ask for it); the register file size bounds the request. */
    dev->nv_registers = 0;
    if (exts && has_extension(exts, "cl_nv_compiler_options")) {
        cl_uint regs = 0;
        if (!has_extension(exts, "cl_nv_device_attribute_query") ||
            clGetDeviceInfo(d, CL_DEVICE_REGISTERS_PER_BLOCK_NV_, sizeof regs, &regs, NULL) !=
                CL_SUCCESS ||
            regs == 0)
            regs = 65536;
        dev->nv_registers = regs;
    }
    /* Sub-group functions are OpenCL C 2.0 (with cl_khr_subgroups); compile with
     * -cl-std=CL2.0 only where the compiler reports 2.0 or later. */
    dev->has_subgroups = exts && dev->c_version >= 200 && has_extension(exts, "cl_khr_subgroups");
    ssmrt_ocl_free(exts);
    if (dev->has_subgroups)
        snprintf(dev->build_options, sizeof dev->build_options,
                 "-cl-std=CL2.0 -DSSMRT_HAS_SUBGROUPS=1");
    else
        snprintf(dev->build_options, sizeof dev->build_options, "-cl-std=CL1.2");
    return SSMRT_OK;
}

int ssmrt_ocl_device_open(ssmrt_ocl_backend *be, uint32_t index, ssmrt_ocl_device **out)
{
    *out = NULL;
    if (index >= be->n_devices)
        return ssmrt_ocl_fail(SSMRT_ERR_NOT_FOUND, "device %u does not exist (%u device(s))",
                              index, be->n_devices);
    ssmrt_ocl_device *dev = ssmrt_ocl_alloc(sizeof *dev);
    if (!dev)
        return ssmrt_ocl_fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory opening a device");
    memset(dev, 0, sizeof *dev);
    dev->platform = be->platforms[index];
    dev->device = be->devices[index];

    int st = device_facts(dev);
    if (st != SSMRT_OK) {
        ssmrt_ocl_free(dev);
        return st;
    }
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform,
                                     0};
    dev->context = clCreateContext(props, 1, &dev->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        ssmrt_ocl_free(dev);
        return ssmrt_ocl_fail_cl(err, "clCreateContext");
    }
    /* In order (ops see their predecessors' writes), with profiling for timers. */
    dev->queue = clCreateCommandQueue(dev->context, dev->device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS) {
        st = ssmrt_ocl_fail_cl(err, "opening the command queue");
        ssmrt_ocl_device_close(dev);
        return st;
    }
    SSMRT_OCL_LOG(SSMRT_LOG_INFO, "opencl: opened %s (driver %s, OpenCL C %d.%d, %s)", dev->name,
                  dev->driver_version, dev->c_version / 100, dev->c_version / 10 % 10,
                  dev->has_subgroups ? "sub-groups" : "no sub-groups");
    *out = dev;
    return SSMRT_OK;
}

static void release_event(cl_event *ev)
{
    if (*ev)
        clReleaseEvent(*ev);
    *ev = NULL;
}

void ssmrt_ocl_device_close(ssmrt_ocl_device *dev)
{
    if (!dev)
        return;
    if (dev->queue)
        clFinish(dev->queue);
    for (int i = 0; i < SSMRT_OCL_TIMER_SLOTS; i++) {
        release_event(&dev->timers[i]);
        release_event(&dev->timer_next[i]);
        release_event(&dev->timer_prev[i]);
    }
    release_event(&dev->last_launch);
    ssmrt_ocl_programs_release(dev);
    if (dev->scratch)
        clReleaseMemObject(dev->scratch);
    if (dev->queue)
        clReleaseCommandQueue(dev->queue);
    if (dev->context)
        clReleaseContext(dev->context);
    ssmrt_ocl_free(dev);
}

int ssmrt_ocl_scratch(ssmrt_ocl_device *dev, size_t bytes)
{
    if (bytes <= dev->scratch_bytes)
        return SSMRT_OK;
    if (bytes > dev->max_alloc)
        return ssmrt_ocl_fail(SSMRT_ERR_OUT_OF_MEMORY,
                              "scratch of %zu bytes exceeds the device's largest allocation "
                              "(%llu bytes)", bytes, (unsigned long long)dev->max_alloc);
    cl_int err;
    cl_mem m = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS)
        return ssmrt_ocl_fail_cl(err, "allocating scratch");
    if (dev->scratch)
        clReleaseMemObject(dev->scratch); /* freed once enqueued users finish */
    dev->scratch = m;
    dev->scratch_bytes = bytes;
    return SSMRT_OK;
}

/* ---------------------------------------------------------------------- */
/* vtable entries                                                          */
/* ---------------------------------------------------------------------- */

int ssmrt_ocl_api_device_open(void *backend, uint32_t index, void **out_device)
{
    ssmrt_ocl_device *dev = NULL;
    int st = ssmrt_ocl_device_open(backend, index, &dev);
    *out_device = dev;
    return st;
}

void ssmrt_ocl_api_device_close(void *device)
{
    ssmrt_ocl_device_close(device);
}

/* Waits for everything enqueued; an asynchronous failure surfaces here. */
int ssmrt_ocl_api_synchronize(void *device)
{
    ssmrt_ocl_device *dev = device;
    cl_int err = clFinish(dev->queue);
    return err == CL_SUCCESS ? SSMRT_OK : ssmrt_ocl_fail_cl(err, "clFinish");
}

/* Submits what is queued so the device starts while the host goes on. */
int ssmrt_ocl_api_end_batch(void *device)
{
    ssmrt_ocl_device *dev = device;
    cl_int err = clFlush(dev->queue);
    return err == CL_SUCCESS ? SSMRT_OK : ssmrt_ocl_fail_cl(err, "clFlush");
}

void ssmrt_ocl_timer_track(ssmrt_ocl_device *dev, cl_event ev)
{
    uint64_t seq = ++dev->launch_seq;
    if (dev->timer_waiting) {
        int w = dev->timer_waiting - 1;
        clRetainEvent(ev);
        release_event(&dev->timer_next[w]);
        dev->timer_next[w] = ev;
        dev->timer_next_seq[w] = seq;
        dev->timer_waiting = 0;
    }
    release_event(&dev->last_launch);
    dev->last_launch = ev; /* takes the caller's reference */
    dev->last_launch_seq = seq;
}

/* A timer mark is a one-work-item kernel: unlike markers, kernels carry profiling
 * timestamps on every implementation. It also notes the last kernel before it and
 * asks for the first after it (see ssmrt_ocl_api_timer_read). */
int ssmrt_ocl_api_timer_mark(void *device, uint32_t slot)
{
    ssmrt_ocl_device *dev = device;
    if (slot >= SSMRT_OCL_TIMER_SLOTS)
        return ssmrt_ocl_fail(SSMRT_ERR_INVALID_ARGUMENT, "timer slot %u >= %d", slot,
                              SSMRT_OCL_TIMER_SLOTS);
    ssmrt_ocl_kernel *k = ssmrt_ocl_kernel_get(dev, "timer", "", "timer_mark");
    if (!k)
        return SSMRT_ERR_BACKEND;
    ssmrt_ocl_args a;
    ssmrt_ocl_args_begin(&a, k);
    size_t one = 1;
    cl_event ev = NULL;
    dev->in_mark = 1;
    int st = ssmrt_ocl_launch(dev, &a, 1, &one, &one, &ev);
    dev->in_mark = 0;
    if (st != SSMRT_OK)
        return st;
    release_event(&dev->timers[slot]);
    dev->timers[slot] = ev;
    dev->timer_seq[slot] = ++dev->launch_seq;
    release_event(&dev->timer_prev[slot]);
    dev->timer_prev[slot] = dev->last_launch; /* NULL if no kernel since the last mark */
    dev->timer_prev_seq[slot] = dev->last_launch_seq;
    dev->last_launch = NULL;
    release_event(&dev->timer_next[slot]);
    dev->timer_waiting = (int)slot + 1;
    dev->timing = 1;
    return SSMRT_OK;
}

/* The work enqueued between two marks: from the start of its first kernel to the
 * end of its last, so the launch gaps around the marks (microseconds on NVIDIA)
 * are not counted; with no kernel in between, from the end of the begin mark to
 * the start of the end mark. */
int ssmrt_ocl_api_timer_read(void *device, uint32_t slot_begin, uint32_t slot_end,
                             double *out_ns)
{
    ssmrt_ocl_device *dev = device;
    if (slot_begin >= SSMRT_OCL_TIMER_SLOTS || slot_end >= SSMRT_OCL_TIMER_SLOTS ||
        !dev->timers[slot_begin] || !dev->timers[slot_end])
        return ssmrt_ocl_fail(SSMRT_ERR_INVALID_ARGUMENT, "timer slots %u..%u were not marked",
                              slot_begin, slot_end);
    uint32_t b = slot_begin, e = slot_end;
    /* A kernel ran after the begin mark and before the end mark. */
    int spans = dev->timer_next[b] && dev->timer_prev[e] && dev->timer_seq[b] < dev->timer_seq[e] &&
                dev->timer_next_seq[b] <= dev->timer_prev_seq[e];
    cl_profiling_info from = spans ? CL_PROFILING_COMMAND_START : CL_PROFILING_COMMAND_END;
    cl_profiling_info to = spans ? CL_PROFILING_COMMAND_END : CL_PROFILING_COMMAND_START;
    cl_event evs[2] = {spans ? dev->timer_next[b] : dev->timers[b],
                       spans ? dev->timer_prev[e] : dev->timers[e]};
    cl_int err = clWaitForEvents(2, evs);
    cl_ulong t0 = 0, t1 = 0;
    if (err == CL_SUCCESS)
        err = clGetEventProfilingInfo(evs[0], from, sizeof t0, &t0, NULL);
    if (err == CL_SUCCESS)
        err = clGetEventProfilingInfo(evs[1], to, sizeof t1, &t1, NULL);
    if (err != CL_SUCCESS)
        return ssmrt_ocl_fail_cl(err, "reading timer events");
    *out_ns = (double)t1 - (double)t0;
    return SSMRT_OK;
}
