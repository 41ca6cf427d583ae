/*
 * Writing safetensors files. The header is built with json-c (so names are escaped
 * correctly), padded with spaces to a multiple of 8 bytes so the data section starts
 * aligned as the reference writer does, and the file is written to "<path>.tmp" and
 * renamed into place: a reader never sees a half-written file, and a failed write
 * leaves any previous file untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "alloc.h"
#include "error.h"
#include "safetensors/st_internal.h"
#include "safetensors/st_json.h"

static int name_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Checks every tensor the caller passes; the file must be readable back by our own
 * strict reader. */
static ssmrt_status check_tensors(const char *path, const ssmrt_st_tensor *t, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        const char *name = t[i].name;
        if (!name)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "safetensors_write %s: tensor %u has no name", path, i);
        size_t nl = strlen(name);
        if (ssmrt__utf8_invalid_at((const unsigned char *)name, nl) != nl)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "safetensors_write %s: tensor %u: name is not valid UTF-8", path,
                               i);
        if (strcmp(name, "__metadata__") == 0)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "safetensors_write %s: \"__metadata__\" is reserved", path);
        if ((unsigned)t[i].dtype >= SSMRT_ST_DTYPE_COUNT)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "safetensors_write %s: tensor \"%s\": invalid dtype %d", path,
                               name, (int)t[i].dtype);
        if (t[i].ndim < 0 || t[i].ndim > SSMRT_ST_MAX_NDIM)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "safetensors_write %s: tensor \"%s\": ndim %d is not in 0..%d",
                               path, name, t[i].ndim, SSMRT_ST_MAX_NDIM);
        int64_t nel = ssmrt__st_nelements(t[i].ndim, t[i].shape);
        uint64_t bytes;
        if (nel < 0 ||
            __builtin_mul_overflow((uint64_t)nel, ssmrt_st_dtype_size(t[i].dtype), &bytes))
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "safetensors_write %s: tensor \"%s\": shape has a negative "
                               "dimension or overflows",
                               path, name);
        if (bytes != t[i].bytes)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "safetensors_write %s: tensor \"%s\": bytes is %llu but the "
                               "shape of %s needs %llu",
                               path, name, (unsigned long long)t[i].bytes,
                               ssmrt_st_dtype_name(t[i].dtype), (unsigned long long)bytes);
        if (bytes && !t[i].data)
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "safetensors_write %s: tensor \"%s\": data is NULL", path, name);
    }
    if (count < 2)
        return SSMRT_OK;
    const char **names = ssmrt__malloc(count * sizeof *names);
    if (!names)
        return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "safetensors_write %s", path);
    for (uint32_t i = 0; i < count; i++)
        names[i] = t[i].name;
    qsort(names, count, sizeof *names, name_ptr_cmp);
    ssmrt_status st = SSMRT_OK;
    for (uint32_t i = 1; i < count && !st; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            st = ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                             "safetensors_write %s: tensor name \"%s\" appears twice", path,
                             names[i]);
    ssmrt__free(names);
    return st;
}

/* Adds v under key (or to the end of an array); on failure v is released, so the
 * caller only ever owns the root. */
static int put_key(json_object *obj, const char *key, json_object *v)
{
    if (!v)
        return -1;
    if (json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

static int put_elem(json_object *arr, json_object *v)
{
    if (!v)
        return -1;
    if (json_object_array_add(arr, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

/* {"name": {"dtype": ..., "shape": [...], "data_offsets": [b, e]}, ...} in the order
 * given, tensors back to back from offset 0. */
static ssmrt_status build_header(const char *path, const ssmrt_st_tensor *t, uint32_t count,
                                 json_object **out)
{
    json_object *root = json_object_new_object();
    if (!root)
        goto oom;
    uint64_t offset = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t end;
        if (__builtin_add_overflow(offset, t[i].bytes, &end)) {
            json_object_put(root);
            return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                               "safetensors_write %s: total size overflows 64 bits", path);
        }
        json_object *e = json_object_new_object();
        if (put_key(root, t[i].name, e))
            goto oom;
        json_object *shape = json_object_new_array();
        if (put_key(e, "dtype", json_object_new_string(ssmrt_st_dtype_name(t[i].dtype))) ||
            put_key(e, "shape", shape))
            goto oom;
        for (int d = 0; d < t[i].ndim; d++)
            if (put_elem(shape, json_object_new_int64(t[i].shape[d])))
                goto oom;
        json_object *offs = json_object_new_array();
        if (put_key(e, "data_offsets", offs) ||
            put_elem(offs, json_object_new_uint64(offset)) ||
            put_elem(offs, json_object_new_uint64(end)))
            goto oom;
        offset = end;
    }
    *out = root;
    return SSMRT_OK;
oom:
    json_object_put(root);
    return ssmrt__fail(SSMRT_ERR_OUT_OF_MEMORY,
                       "safetensors_write %s: out of memory building the header", path);
}

static ssmrt_status write_all(int fd, const char *tmp, const void *buf, uint64_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        size_t chunk = n > (1u << 30) ? (1u << 30) : (size_t)n;
        ssize_t w = write(fd, p, chunk);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return ssmrt__fail(SSMRT_ERR_IO, "safetensors_write: writing %s: %s", tmp,
                               w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (uint64_t)w;
    }
    return SSMRT_OK;
}

static ssmrt_status write_file(int fd, const char *tmp, const char *json, size_t jlen,
                               const ssmrt_st_tensor *t, uint32_t count)
{
    /* Pad so that 8 + header length is a multiple of 8. */
    size_t hlen = (jlen + 7) & ~(size_t)7;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    static const char spaces[8] = "        ";
    ssmrt_status st;
    if ((st = write_all(fd, tmp, len8, 8)) || (st = write_all(fd, tmp, json, jlen)) ||
        (st = write_all(fd, tmp, spaces, hlen - jlen)))
        return st;
    for (uint32_t i = 0; i < count; i++)
        if ((st = write_all(fd, tmp, t[i].data, t[i].bytes)))
            return st;
    if (fsync(fd) != 0)
        return ssmrt__fail(SSMRT_ERR_IO, "safetensors_write: syncing %s: %s", tmp,
                           strerror(errno));
    return SSMRT_OK;
}

ssmrt_status ssmrt_safetensors_write(const char *path, const ssmrt_st_tensor *tensors,
                                     uint32_t count)
{
    if (!path || (!tensors && count))
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "safetensors_write: NULL argument");
    ssmrt_status st = check_tensors(path, tensors, count);
    if (st)
        return st;
    json_object *root = NULL;
    if ((st = build_header(path, tensors, count, &root)))
        return st;
    size_t jlen = 0;
    const char *json = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &jlen);
    if (!json) {
        json_object_put(root);
        return ssmrt__fail(SSMRT_ERR_OUT_OF_MEMORY,
                           "safetensors_write %s: out of memory printing the header", path);
    }

    size_t plen = strlen(path);
    char *tmp = ssmrt__malloc(plen + sizeof ".tmp");
    if (!tmp) {
        json_object_put(root);
        return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "safetensors_write %s", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", sizeof ".tmp");

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        st = ssmrt__fail(errno == ENOENT ? SSMRT_ERR_NOT_FOUND : SSMRT_ERR_IO,
                         "safetensors_write: cannot create %s: %s", tmp, strerror(errno));
    } else {
        st = write_file(fd, tmp, json, jlen, tensors, count);
        if (close(fd) != 0 && !st)
            st = ssmrt__fail(SSMRT_ERR_IO, "safetensors_write: closing %s: %s", tmp,
                             strerror(errno));
        if (!st && rename(tmp, path) != 0)
            st = ssmrt__fail(SSMRT_ERR_IO, "safetensors_write: renaming %s to %s: %s", tmp,
                             path, strerror(errno));
        if (st)
            unlink(tmp);
    }
    ssmrt__free(tmp);
    json_object_put(root);
    return st;
}
