/* The OpenCL C sources embedded at build time (see cmake/embed_kernels.cmake). */
#ifndef SSMRT_OCL_SOURCES_H
#define SSMRT_OCL_SOURCES_H

#include <stddef.h>

typedef struct ssmrt_ocl_source {
    const char *name; /* file stem: "scan" for kernels/scan.cl */
    const char *text; /* NUL-terminated */
    size_t length;    /* bytes, without the NUL */
} ssmrt_ocl_source;

extern const ssmrt_ocl_source ssmrt_ocl_sources[];
extern const size_t ssmrt_ocl_source_count;

#endif
