/* Host allocation with fault injection and live-byte accounting.
 *
 * Each block carries a small header with its size so ssmrt_testing_live_bytes can
 * prove that every failure path frees what it took. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "ssmrt_testing.h"

typedef struct ssmrt__alloc_header {
    size_t bytes;
    size_t pad; /* keeps the payload 16-byte aligned */
} ssmrt__alloc_header;

static atomic_llong ssmrt__alloc_count;
static atomic_llong ssmrt__alloc_fail_at;  /* absolute count that fails; 0 = never */
static atomic_int ssmrt__alloc_fail_sticky;
static atomic_llong ssmrt__alloc_live;

static int ssmrt__alloc_should_fail(void)
{
    long long n = atomic_fetch_add(&ssmrt__alloc_count, 1) + 1;
    long long at = atomic_load(&ssmrt__alloc_fail_at);
    if (at == 0)
        return 0;
    return n == at || (atomic_load(&ssmrt__alloc_fail_sticky) && n > at);
}

void *ssmrt__malloc(size_t bytes)
{
    if (ssmrt__alloc_should_fail() || bytes > SIZE_MAX - sizeof(ssmrt__alloc_header)) {
        ssmrt__fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory allocating %zu bytes", bytes);
        return NULL;
    }
    ssmrt__alloc_header *h = malloc(sizeof *h + bytes);
    if (!h) {
        ssmrt__fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory allocating %zu bytes", bytes);
        return NULL;
    }
    h->bytes = bytes;
    atomic_fetch_add(&ssmrt__alloc_live, (long long)bytes);
    return h + 1;
}

void *ssmrt__calloc(size_t count, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes)) {
        ssmrt__fail(SSMRT_ERR_OUT_OF_MEMORY, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = ssmrt__malloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void *ssmrt__realloc(void *ptr, size_t bytes)
{
    if (!ptr)
        return ssmrt__malloc(bytes);
    if (ssmrt__alloc_should_fail() || bytes > SIZE_MAX - sizeof(ssmrt__alloc_header)) {
        ssmrt__fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory growing to %zu bytes", bytes);
        return NULL;
    }
    ssmrt__alloc_header *old = (ssmrt__alloc_header *)ptr - 1;
    size_t old_bytes = old->bytes;
    ssmrt__alloc_header *h = realloc(old, sizeof *h + bytes);
    if (!h) {
        ssmrt__fail(SSMRT_ERR_OUT_OF_MEMORY, "out of host memory growing to %zu bytes", bytes);
        return NULL;
    }
    h->bytes = bytes;
    atomic_fetch_add(&ssmrt__alloc_live, (long long)bytes - (long long)old_bytes);
    return h + 1;
}

void ssmrt__free(void *ptr)
{
    if (!ptr)
        return;
    ssmrt__alloc_header *h = (ssmrt__alloc_header *)ptr - 1;
    atomic_fetch_sub(&ssmrt__alloc_live, (long long)h->bytes);
    free(h);
}

char *ssmrt__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = ssmrt__malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void ssmrt_testing_fail_alloc(int64_t n, int sticky)
{
    atomic_store(&ssmrt__alloc_fail_sticky, sticky ? 1 : 0);
    atomic_store(&ssmrt__alloc_fail_at, n > 0 ? atomic_load(&ssmrt__alloc_count) + n : 0);
}

int64_t ssmrt_testing_alloc_count(void)
{
    return atomic_load(&ssmrt__alloc_count);
}

int64_t ssmrt_testing_live_bytes(void)
{
    return atomic_load(&ssmrt__alloc_live);
}
