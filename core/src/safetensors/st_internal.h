/*
 * st_internal.h (internal): pieces of the safetensors reader shared between its files.
 */
#ifndef SSMRT_ST_INTERNAL_H
#define SSMRT_ST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ssmrt_safetensors.h"

/* The same cap the reference implementation uses: a header is a few KB per hundred
 * tensors, so anything larger is hostile or corrupt and not worth allocating for. */
#define SSMRT_ST_MAX_HEADER 100000000ull
#define SSMRT_ST_MAX_NDIM 8

/* 0 and *out on success; -1 for a name the format does not have, -2 for a dtype of the
 * format that ssmrt does not handle (F8 and smaller floats). */
int ssmrt__st_dtype_parse(const char *name, ssmrt_st_dtype *out);

/* One validated header entry. */
typedef struct st_entry {
    const char *name; /* in st_header.names */
    ssmrt_st_dtype dtype;
    int ndim;
    int64_t shape[SSMRT_ST_MAX_NDIM];
    uint64_t begin, end; /* byte range inside the data section */
} st_entry;

/* A parsed file: entries sorted by begin (the order of the data in the file). */
typedef struct st_header {
    st_entry *entries;
    uint32_t count;
    char *names;          /* every name, NUL-terminated, back to back */
    uint64_t data_offset; /* 8 + header length: where the data section starts */
} st_header;

/* Validates the whole file image (length field, JSON header, every entry against the
 * data section) and fills *out. label names the file in messages. */
ssmrt_status ssmrt__st_header_parse(const char *label, const unsigned char *file, size_t size,
                                    st_header *out);
void ssmrt__st_header_free(st_header *h);

/* One opened file (or memory image) and its parsed header. */
typedef struct st_source {
    char *path;                /* for messages */
    const unsigned char *base; /* the file image */
    size_t size;
    int mapped;                /* 1: munmap(base, size) on release */
    st_header header;
} st_source;

struct ssmrt_safetensors {
    char *origin;             /* the index path for a sharded checkpoint, else NULL */
    st_source *sources;
    uint32_t nsources;
    ssmrt_st_tensor *tensors; /* source by source, each in data order */
    uint32_t *source_of;      /* tensors[i] comes from sources[source_of[i]] */
    uint32_t count;
    uint32_t *by_name;        /* indices into tensors, sorted by name (strcmp) */
};

/* Maps path read-only. A missing file is SSMRT_ERR_NOT_FOUND, anything else that stops
 * the mapping SSMRT_ERR_IO; an empty file gives base NULL and size 0. */
ssmrt_status ssmrt__st_map(const char *path, const unsigned char **base, size_t *size);
void ssmrt__st_unmap(const unsigned char *base, size_t size);

/* Maps path and parses its header into *src (src->path owned). */
ssmrt_status ssmrt__st_source_open(const char *path, st_source *src);
void ssmrt__st_source_release(st_source *src);

/* An empty handle with room for nsources sources, and its release. */
ssmrt_status ssmrt__st_new_handle(uint32_t nsources, ssmrt_safetensors **out);
void ssmrt__st_destroy(ssmrt_safetensors *st);

/* Fills st->tensors, source_of and by_name from st->sources; a name present in two
 * sources is SSMRT_ERR_FORMAT naming both files. */
ssmrt_status ssmrt__st_index_tensors(ssmrt_safetensors *st);
/* Index into st->tensors of name, or -1. */
int64_t ssmrt__st_lookup(const ssmrt_safetensors *st, const char *name);

/* Opens a sharded checkpoint from its model.safetensors.index.json. */
ssmrt_status ssmrt__st_open_index(const char *path, ssmrt_safetensors **out);

/* Number of elements of a shape, or -1 if the product overflows int64. */
int64_t ssmrt__st_nelements(int ndim, const int64_t *shape);

#endif
