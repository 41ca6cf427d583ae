/*
 * The safetensors handle: opening a file, a directory or a memory image, and looking
 * tensors up. Lookups go through an index sorted by name (binary search), since model
 * builders ask for hundreds of names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "error.h"
#include "safetensors/st_internal.h"

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

void ssmrt__st_destroy(ssmrt_safetensors *st)
{
    if (!st)
        return;
    for (uint32_t i = 0; i < st->nsources; i++)
        ssmrt__st_source_release(&st->sources[i]);
    ssmrt__free(st->sources);
    ssmrt__free(st->tensors);
    ssmrt__free(st->source_of);
    ssmrt__free(st->by_name);
    ssmrt__free(st->origin);
    ssmrt__free(st);
}

void ssmrt_safetensors_close(ssmrt_safetensors *st)
{
    ssmrt__st_destroy(st);
}

/* qsort has no context argument; the table being sorted is set just before the call
 * and the sort runs under the caller's thread only, so a thread-local is enough. */
static _Thread_local const ssmrt_st_tensor *sort_table;

static int by_name_cmp(const void *a, const void *b)
{
    return strcmp(sort_table[*(const uint32_t *)a].name, sort_table[*(const uint32_t *)b].name);
}

ssmrt_status ssmrt__st_index_tensors(ssmrt_safetensors *st)
{
    uint64_t total = 0;
    for (uint32_t s = 0; s < st->nsources; s++)
        total += st->sources[s].header.count;
    if (total > UINT32_MAX)
        return ssmrt__fail(SSMRT_ERR_FORMAT, "safetensors: %llu tensors is too many",
                           (unsigned long long)total);
    size_t n = total ? (size_t)total : 1;
    st->tensors = ssmrt__calloc(n, sizeof *st->tensors);
    st->source_of = ssmrt__calloc(n, sizeof *st->source_of);
    st->by_name = ssmrt__calloc(n, sizeof *st->by_name);
    if (!st->tensors || !st->source_of || !st->by_name)
        return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "safetensors");
    uint32_t k = 0;
    for (uint32_t s = 0; s < st->nsources; s++) {
        const st_source *src = &st->sources[s];
        for (uint32_t i = 0; i < src->header.count; i++, k++) {
            const st_entry *e = &src->header.entries[i];
            ssmrt_st_tensor *t = &st->tensors[k];
            t->name = e->name;
            t->dtype = e->dtype;
            t->ndim = e->ndim;
            memcpy(t->shape, e->shape, sizeof t->shape);
            /* begin <= end <= data section size was checked, so this stays inside */
            t->data = src->base + src->header.data_offset + e->begin;
            t->bytes = e->end - e->begin;
            st->source_of[k] = s;
            st->by_name[k] = k;
        }
    }
    st->count = k;
    sort_table = st->tensors;
    qsort(st->by_name, st->count, sizeof *st->by_name, by_name_cmp);
    sort_table = NULL;
    for (uint32_t i = 1; i < st->count; i++) {
        uint32_t a = st->by_name[i - 1], b = st->by_name[i];
        if (strcmp(st->tensors[a].name, st->tensors[b].name) == 0)
            /* Within one file json-c objects cannot repeat a key (checked), so this is
             * one name in two shards. */
            return ssmrt__fail(SSMRT_ERR_FORMAT,
                               "safetensors: tensor \"%s\" appears in both %s and %s",
                               st->tensors[a].name, st->sources[st->source_of[a]].path,
                               st->sources[st->source_of[b]].path);
    }
    return SSMRT_OK;
}

int64_t ssmrt__st_lookup(const ssmrt_safetensors *st, const char *name)
{
    size_t lo = 0, hi = st->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, st->tensors[st->by_name[mid]].name);
        if (c == 0)
            return st->by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

ssmrt_status ssmrt__st_new_handle(uint32_t nsources, ssmrt_safetensors **out)
{
    ssmrt_safetensors *st = ssmrt__calloc(1, sizeof *st);
    if (!st)
        return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "safetensors");
    st->sources = ssmrt__calloc(nsources ? nsources : 1, sizeof *st->sources);
    if (!st->sources) {
        ssmrt__free(st);
        return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "safetensors");
    }
    *out = st;
    return SSMRT_OK;
}

static ssmrt_status open_file(const char *path, ssmrt_safetensors **out)
{
    ssmrt_safetensors *st = NULL;
    ssmrt_status s = ssmrt__st_new_handle(1, &st);
    if (s)
        return s;
    s = ssmrt__st_source_open(path, &st->sources[0]);
    if (s == SSMRT_OK) {
        st->nsources = 1;
        s = ssmrt__st_index_tensors(st);
    }
    if (s) {
        ssmrt__st_destroy(st);
        return s;
    }
    *out = st;
    return SSMRT_OK;
}

static int is_regular(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A directory: model.safetensors if present (as transformers prefers), else the index. */
static ssmrt_status open_dir(const char *dir, ssmrt_safetensors **out)
{
    size_t n = strlen(dir) + sizeof "/model.safetensors.index.json";
    char *p = ssmrt__malloc(n);
    if (!p)
        return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "safetensors: %s", dir);
    ssmrt_status s;
    snprintf(p, n, "%s/model.safetensors", dir);
    if (is_regular(p)) {
        s = open_file(p, out);
    } else {
        snprintf(p, n, "%s/model.safetensors.index.json", dir);
        if (is_regular(p))
            s = ssmrt__st_open_index(p, out);
        else
            s = ssmrt__fail(SSMRT_ERR_NOT_FOUND,
                            "safetensors: directory %s holds neither model.safetensors nor "
                            "model.safetensors.index.json",
                            dir);
    }
    ssmrt__free(p);
    return s;
}

ssmrt_status ssmrt_safetensors_open(const char *path, ssmrt_safetensors **out)
{
    if (!out)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "safetensors_open: out is NULL");
    *out = NULL;
    if (!path)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "safetensors_open: path is NULL");
    if (!host_is_little_endian())
        return ssmrt__fail(SSMRT_ERR_UNSUPPORTED,
                           "safetensors: files are little-endian and zero-copy loading needs "
                           "a little-endian host");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int e = errno;
        return ssmrt__fail(e == ENOENT || e == ENOTDIR ? SSMRT_ERR_NOT_FOUND : SSMRT_ERR_IO,
                           "safetensors: cannot open %s: %s", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode))
        return open_dir(path, out);
    if (ends_with(path, ".json"))
        return ssmrt__st_open_index(path, out);
    return open_file(path, out);
}

ssmrt_status ssmrt_safetensors_open_memory(const void *data, size_t size, const char *name,
                                           ssmrt_safetensors **out)
{
    if (!out)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "safetensors_open_memory: out is NULL");
    *out = NULL;
    if (!data && size)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                           "safetensors_open_memory: data is NULL but size is %zu", size);
    if (!host_is_little_endian())
        return ssmrt__fail(SSMRT_ERR_UNSUPPORTED,
                           "safetensors: files are little-endian and zero-copy loading needs "
                           "a little-endian host");
    if (!name)
        name = "<memory>";
    ssmrt_safetensors *st = NULL;
    ssmrt_status s = ssmrt__st_new_handle(1, &st);
    if (s)
        return s;
    st_source *src = &st->sources[0];
    src->path = ssmrt__strdup(name);
    if (!src->path) {
        ssmrt__st_destroy(st);
        return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "safetensors: %s", name);
    }
    st->nsources = 1;
    src->base = data;
    src->size = size;
    s = ssmrt__st_header_parse(name, src->base, src->size, &src->header);
    if (s == SSMRT_OK)
        s = ssmrt__st_index_tensors(st);
    if (s) {
        ssmrt__st_destroy(st);
        return s;
    }
    *out = st;
    return SSMRT_OK;
}

uint32_t ssmrt_safetensors_count(const ssmrt_safetensors *st)
{
    return st ? st->count : 0;
}

ssmrt_status ssmrt_safetensors_at(const ssmrt_safetensors *st, uint32_t index,
                                  ssmrt_st_tensor *out)
{
    if (!st || !out)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "safetensors_at: NULL argument");
    if (index >= st->count)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                           "safetensors_at: index %u out of range (%u tensors)", index,
                           st->count);
    *out = st->tensors[index];
    return SSMRT_OK;
}

ssmrt_status ssmrt_safetensors_find(const ssmrt_safetensors *st, const char *name,
                                    ssmrt_st_tensor *out)
{
    if (!st || !name || !out)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "safetensors_find: NULL argument");
    int64_t i = ssmrt__st_lookup(st, name);
    if (i < 0) {
        const char *where = st->origin            ? st->origin
                            : st->nsources == 1 ? st->sources[0].path
                                                : "the checkpoint";
        return ssmrt__fail(SSMRT_ERR_NOT_FOUND, "safetensors: tensor \"%s\" not found in %s",
                           name, where);
    }
    *out = st->tensors[i];
    return SSMRT_OK;
}
