/* Internal: every host allocation of libssmrt goes through these, so tests can make
 * the Nth one fail (see ssmrt_testing.h) and prove each failure path is clean. A
 * failed allocation sets an SSMRT_ERR_OUT_OF_MEMORY message. */
#ifndef SSMRT_ALLOC_H
#define SSMRT_ALLOC_H

#include <stddef.h>

void *ssmrt__malloc(size_t bytes);
void *ssmrt__calloc(size_t count, size_t size);
void *ssmrt__realloc(void *ptr, size_t bytes);
void ssmrt__free(void *ptr);
char *ssmrt__strdup(const char *s);

#endif
