/*
 * ssmrt_testing.h: hooks for tests of failure paths. Not for production use.
 */
#ifndef SSMRT_TESTING_H
#define SSMRT_TESTING_H

#include "ssmrt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Make the n-th host allocation of libssmrt from now (1-based) fail, and every one
 * after it if sticky; n = 0 disables. Process-wide. */
SSMRT_API void ssmrt_testing_fail_alloc(int64_t n, int sticky);
/* Host allocations made by libssmrt since the process started. */
SSMRT_API int64_t ssmrt_testing_alloc_count(void);
/* Bytes currently allocated through libssmrt's host allocator (leak checks). */
SSMRT_API int64_t ssmrt_testing_live_bytes(void);

#ifdef __cplusplus
}
#endif
#endif
