/* Programs are built per device on first use: the embedded source of one kernel file,
 * preceded by kernels/common.cl, with the device's feature options and the variant's
 * -D defines. Built programs come from (and go to) the on-disk binary cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl.h"
#include "ocl_sources.h"

static const ssmrt_ocl_source *find_source(const char *name)
{
    for (size_t i = 0; i < ssmrt_ocl_source_count; i++)
        if (strcmp(ssmrt_ocl_sources[i].name, name) == 0)
            return &ssmrt_ocl_sources[i];
    return NULL;
}

static char *dup_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = ssmrt_ocl_alloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* The compiler's log for dev, or NULL. */
static char *build_log(ssmrt_ocl_device *dev, cl_program prog)
{
    size_t len = 0;
    if (clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) !=
            CL_SUCCESS ||
        len == 0)
        return NULL;
    char *log = ssmrt_ocl_alloc(len + 1);
    if (!log)
        return NULL;
    if (clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, len, log, NULL) !=
        CL_SUCCESS)
        len = 0;
    log[len] = '\0';
    return log;
}

/* Builds from source; on failure reports the build log and returns NULL. */
static cl_program build_from_source(ssmrt_ocl_device *dev, const ssmrt_ocl_source *common,
                                    const ssmrt_ocl_source *src, const char *options,
                                    int quiet_failure)
{
    const char *texts[2] = {common->text, src->text};
    size_t lens[2] = {common->length, src->length};
    cl_int err;
    cl_program prog = clCreateProgramWithSource(dev->context, 2, texts, lens, &err);
    if (err != CL_SUCCESS) {
        ssmrt_ocl_fail_cl(err, "clCreateProgramWithSource");
        return NULL;
    }
    err = clBuildProgram(prog, 1, &dev->device, options, NULL, NULL);
    if (err == CL_SUCCESS)
        return prog;
    char *log = build_log(dev, prog);
    if (quiet_failure) {
        SSMRT_OCL_LOG(SSMRT_LOG_WARN, "opencl: building %s.cl with '%s' failed: %s", src->name,
                      options, log ? log : "(no build log)");
    } else {
        SSMRT_OCL_LOG(SSMRT_LOG_ERROR, "opencl: build log of %s.cl on %s:\n%s", src->name,
                      dev->name, log ? log : "(none)");
        ssmrt_ocl_fail(ssmrt_ocl_status_of(err) == SSMRT_ERR_OUT_OF_MEMORY
                           ? SSMRT_ERR_OUT_OF_MEMORY
                           : SSMRT_ERR_BACKEND,
                       "compiling kernels/%s.cl for %s (options '%s') failed: %s; build log: "
                       "%.600s",
                       src->name, dev->name, options, ssmrt_ocl_error_name(err),
                       log ? log : "(none)");
    }
    ssmrt_ocl_free(log);
    clReleaseProgram(prog);
    return NULL;
}

/* The cache key: everything the binary depends on. */
static char *cache_key(ssmrt_ocl_device *dev, const ssmrt_ocl_source *common,
                       const ssmrt_ocl_source *src, const char *options, size_t *out_len)
{
    size_t head = strlen(dev->name) + strlen(dev->driver_version) +
                  strlen(dev->platform_version) + strlen(options) + 16;
    size_t cap = head + common->length + src->length;
    char *key = ssmrt_ocl_alloc(cap);
    if (!key)
        return NULL;
    int n = snprintf(key, head, "%s\n%s\n%s\n%s\n", dev->name, dev->driver_version,
                     dev->platform_version, options);
    size_t len = n > 0 ? (size_t)n : 0;
    memcpy(key + len, common->text, common->length);
    len += common->length;
    memcpy(key + len, src->text, src->length);
    len += src->length;
    *out_len = len;
    return key;
}

static cl_program build_program(ssmrt_ocl_device *dev, const ssmrt_ocl_source *src,
                                const char *defines)
{
    const ssmrt_ocl_source *common = find_source("common");
    if (!common) {
        ssmrt_ocl_fail(SSMRT_ERR_INTERNAL, "kernels/common.cl is not embedded");
        return NULL;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        char options[768];
        snprintf(options, sizeof options, "%s %s", dev->build_options, defines);
        size_t key_len = 0;
        char *key = cache_key(dev, common, src, options, &key_len);
        cl_program prog = key ? ssmrt_ocl_cache_load(dev, key, key_len, options) : NULL;
        if (!prog) {
            /* A device whose optional features do not compile falls back to plain
             * OpenCL C 1.2 rather than failing. */
            int can_fall_back = attempt == 0 && dev->has_subgroups;
            prog = build_from_source(dev, common, src, options, can_fall_back);
            if (prog && key)
                ssmrt_ocl_cache_store(dev, key, key_len, prog);
            if (!prog && can_fall_back) {
                SSMRT_OCL_LOG(SSMRT_LOG_WARN,
                              "opencl: %s: sub-group kernels do not build; using OpenCL C 1.2",
                              dev->name);
                dev->has_subgroups = 0;
                snprintf(dev->build_options, sizeof dev->build_options, "-cl-std=CL1.2");
                ssmrt_ocl_free(key);
                continue;
            }
        }
        ssmrt_ocl_free(key);
        return prog;
    }
    return NULL;
}

static ssmrt_ocl_program *program_get(ssmrt_ocl_device *dev, const char *source,
                                      const char *defines)
{
    for (ssmrt_ocl_program *p = dev->programs; p; p = p->next)
        if (strcmp(p->source, source) == 0 && strcmp(p->defines, defines) == 0)
            return p;
    const ssmrt_ocl_source *src = find_source(source);
    if (!src) {
        ssmrt_ocl_fail(SSMRT_ERR_INTERNAL, "kernels/%s.cl is not embedded", source);
        return NULL;
    }
    ssmrt_ocl_program *p = ssmrt_ocl_alloc(sizeof *p);
    char *defs = dup_string(defines);
    if (!p || !defs) {
        ssmrt_ocl_free(p);
        ssmrt_ocl_free(defs);
        ssmrt_ocl_fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory for a program");
        return NULL;
    }
    cl_program prog = build_program(dev, src, defines);
    if (!prog) {
        ssmrt_ocl_free(p);
        ssmrt_ocl_free(defs);
        return NULL;
    }
    p->source = src->name;
    p->defines = defs;
    p->program = prog;
    p->next = dev->programs;
    dev->programs = p;
    return p;
}

ssmrt_ocl_kernel *ssmrt_ocl_kernel_get(ssmrt_ocl_device *dev, const char *source,
                                       const char *defines, const char *name)
{
    for (ssmrt_ocl_kernel *k = dev->kernels; k; k = k->next)
        if (strcmp(k->name, name) == 0 && strcmp(k->program->source, source) == 0 &&
            strcmp(k->program->defines, defines) == 0)
            return k;
    ssmrt_ocl_program *p = program_get(dev, source, defines);
    if (!p)
        return NULL;
    ssmrt_ocl_kernel *k = ssmrt_ocl_alloc(sizeof *k);
    char *kname = dup_string(name);
    if (!k || !kname) {
        ssmrt_ocl_free(k);
        ssmrt_ocl_free(kname);
        ssmrt_ocl_fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory for a kernel");
        return NULL;
    }
    cl_int err;
    k->kernel = clCreateKernel(p->program, name, &err);
    if (err != CL_SUCCESS) {
        ssmrt_ocl_free(k);
        ssmrt_ocl_free(kname);
        ssmrt_ocl_fail(SSMRT_ERR_INTERNAL, "clCreateKernel(%s from %s.cl): %s", name, source,
                       ssmrt_ocl_error_name(err));
        return NULL;
    }
    k->max_wg = dev->max_wg;
    k->reported = 0;
    size_t wg = 0;
    if (clGetKernelWorkGroupInfo(k->kernel, dev->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg,
                                 &wg, NULL) == CL_SUCCESS &&
        wg > 0 && wg < k->max_wg)
        k->max_wg = wg;
    k->program = p;
    k->name = kname;
    k->next = dev->kernels;
    dev->kernels = k;
    return k;
}

void ssmrt_ocl_programs_release(ssmrt_ocl_device *dev)
{
    for (ssmrt_ocl_kernel *k = dev->kernels, *next; k; k = next) {
        next = k->next;
        clReleaseKernel(k->kernel);
        ssmrt_ocl_free(k->name);
        ssmrt_ocl_free(k);
    }
    dev->kernels = NULL;
    for (ssmrt_ocl_program *p = dev->programs, *next; p; p = next) {
        next = p->next;
        clReleaseProgram(p->program);
        ssmrt_ocl_free(p->defines);
        ssmrt_ocl_free(p);
    }
    dev->programs = NULL;
}
