/* Error reporting for the OpenCL plugin: CL error names and their ssmrt status. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ocl.h"

const ssmrt_host_api *ssmrt_ocl_host;

int ssmrt_ocl_fail(int st, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ssmrt_ocl_host && ssmrt_ocl_host->report_error)
        ssmrt_ocl_host->report_error("opencl: %s", msg);
    return st;
}

const char *ssmrt_ocl_error_name(cl_int err)
{
    switch (err) {
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE)
    E(CL_COMPILER_NOT_AVAILABLE) E(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY) E(CL_PROFILING_INFO_NOT_AVAILABLE)
    E(CL_MEM_COPY_OVERLAP) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
    E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM)
    E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT) E(CL_INVALID_QUEUE_PROPERTIES)
    E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_HOST_PTR) E(CL_INVALID_MEM_OBJECT)
    E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM)
    E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME)
    E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX)
    E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS)
    E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE)
    E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET)
    E(CL_INVALID_EVENT_WAIT_LIST) E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION)
    E(CL_INVALID_BUFFER_SIZE) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown OpenCL error";
    }
}

int ssmrt_ocl_status_of(cl_int err)
{
    switch (err) {
    case CL_SUCCESS: return SSMRT_OK;
    case CL_MEM_OBJECT_ALLOCATION_FAILURE:
    case CL_OUT_OF_HOST_MEMORY:
    case CL_INVALID_BUFFER_SIZE:
        return SSMRT_ERR_OUT_OF_MEMORY;
    default: return SSMRT_ERR_BACKEND;
    }
}

int ssmrt_ocl_fail_cl(cl_int err, const char *what)
{
    return ssmrt_ocl_fail(ssmrt_ocl_status_of(err), "%s: %s (%d)", what,
                          ssmrt_ocl_error_name(err), (int)err);
}

/* Bookkeeping memory goes through the host so its fault injection reaches us. */
void *ssmrt_ocl_alloc(size_t bytes)
{
    if (ssmrt_ocl_host && ssmrt_ocl_host->alloc)
        return ssmrt_ocl_host->alloc(bytes);
    return malloc(bytes);
}

void ssmrt_ocl_free(void *p)
{
    if (!p)
        return;
    if (ssmrt_ocl_host && ssmrt_ocl_host->free)
        ssmrt_ocl_host->free(p);
    else
        free(p);
}
