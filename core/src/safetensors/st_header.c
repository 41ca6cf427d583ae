/*
 * Validation of one safetensors file image: the 8-byte little-endian header length,
 * the JSON header, and every tensor entry against the data section.
 *
 * Layout: [u64 N][N bytes of JSON][data section]. Each entry is
 *   "name": {"dtype": "F32", "shape": [d0, ...], "data_offsets": [begin, end]}
 * with offsets relative to the data section. Every size is computed with overflow
 * checks before it is compared, so no later pointer arithmetic can leave the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "safetensors/st_internal.h"
#include "safetensors/st_json.h"

typedef unsigned long long ull;

static uint64_t read_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Reads shape[i] or data_offsets[i] as a non-negative integer no larger than max. */
static ssmrt_status get_uint_field(const char *label, const char *name, const char *field,
                                   size_t i, json_object *v, uint64_t max, uint64_t *out)
{
    int64_t neg = 0;
    int r = ssmrt__json_get_u64(v, out, &neg);
    if (r == -1)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": %s[%zu] is " SSMRT_JSON_REPR_FMT
                           ", not an integer",
                           label, name, field, i, ssmrt__json_repr(v));
    if (r == -2)
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: tensor \"%s\": %s[%zu] is negative (%lld)",
                           label, name, field, i, (long long)neg);
    if (*out > max)
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: tensor \"%s\": %s[%zu] = %llu is too large",
                           label, name, field, i, (ull)*out);
    return SSMRT_OK;
}

static ssmrt_status parse_dtype(const char *label, const char *name, json_object *v,
                                ssmrt_st_dtype *out)
{
    if (!json_object_is_type(v, json_type_string))
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": dtype is " SSMRT_JSON_REPR_FMT ", not a string",
                           label, name, ssmrt__json_repr(v));
    const char *s = json_object_get_string(v);
    int r = (strlen(s) == (size_t)json_object_get_string_len(v)) ? ssmrt__st_dtype_parse(s, out)
                                                                  : -1;
    if (r == -2)
        return ssmrt__fail(SSMRT_ERR_UNSUPPORTED,
                           "%s: tensor \"%s\": dtype \"%s\" is not supported by ssmrt", label,
                           name, s);
    if (r != 0)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": unknown dtype " SSMRT_JSON_REPR_FMT, label, name,
                           ssmrt__json_repr(v));
    return SSMRT_OK;
}

static ssmrt_status parse_shape(const char *label, const char *name, json_object *v, st_entry *e)
{
    if (!json_object_is_type(v, json_type_array))
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": shape is " SSMRT_JSON_REPR_FMT ", not an array",
                           label, name, ssmrt__json_repr(v));
    size_t n = json_object_array_length(v);
    if (n > SSMRT_ST_MAX_NDIM)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": shape has %zu dimensions, more than %d", label,
                           name, n, SSMRT_ST_MAX_NDIM);
    e->ndim = (int)n;
    for (size_t i = 0; i < n; i++) {
        uint64_t d;
        ssmrt_status st = get_uint_field(label, name, "shape", i,
                                         json_object_array_get_idx(v, i), INT64_MAX, &d);
        if (st)
            return st;
        e->shape[i] = (int64_t)d;
    }
    if (ssmrt__st_nelements(e->ndim, e->shape) < 0)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": shape " SSMRT_JSON_REPR_FMT
                           " has more than 2^63-1 elements",
                           label, name, ssmrt__json_repr(v));
    return SSMRT_OK;
}

static ssmrt_status parse_offsets(const char *label, const char *name, json_object *v,
                                  uint64_t data_size, st_entry *e, json_object *shape)
{
    if (!json_object_is_type(v, json_type_array))
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": data_offsets is " SSMRT_JSON_REPR_FMT
                           ", not an array",
                           label, name, ssmrt__json_repr(v));
    size_t n = json_object_array_length(v);
    if (n != 2)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": data_offsets has %zu entries, not 2", label, name,
                           n);
    ssmrt_status st;
    if ((st = get_uint_field(label, name, "data_offsets", 0, json_object_array_get_idx(v, 0),
                             UINT64_MAX, &e->begin)) ||
        (st = get_uint_field(label, name, "data_offsets", 1, json_object_array_get_idx(v, 1),
                             UINT64_MAX, &e->end)))
        return st;
    if (e->begin > e->end)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": data_offsets: begin %llu is after end %llu",
                           label, name, (ull)e->begin, (ull)e->end);
    if (e->end > data_size)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": data_offsets: end %llu is past the end of the "
                           "data section (%llu bytes)",
                           label, name, (ull)e->end, (ull)data_size);
    uint64_t bytes;
    size_t esize = ssmrt_st_dtype_size(e->dtype);
    if (__builtin_mul_overflow((uint64_t)ssmrt__st_nelements(e->ndim, e->shape), esize, &bytes))
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": shape " SSMRT_JSON_REPR_FMT
                           " of %s needs more than 2^64 bytes",
                           label, name, ssmrt__json_repr(shape), ssmrt_st_dtype_name(e->dtype));
    if (e->end - e->begin != bytes)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": data_offsets [%llu, %llu] hold %llu bytes but "
                           "shape " SSMRT_JSON_REPR_FMT " of %s needs %llu",
                           label, name, (ull)e->begin, (ull)e->end, (ull)(e->end - e->begin),
                           ssmrt__json_repr(shape), ssmrt_st_dtype_name(e->dtype), (ull)bytes);
    return SSMRT_OK;
}

static ssmrt_status parse_entry(const char *label, const char *name, json_object *v,
                                uint64_t data_size, st_entry *e)
{
    if (!json_object_is_type(v, json_type_object))
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: tensor \"%s\": entry is " SSMRT_JSON_REPR_FMT ", not an object",
                           label, name, ssmrt__json_repr(v));
    json_object_object_foreach(v, key, val) {
        (void)val;
        if (strcmp(key, "dtype") != 0 && strcmp(key, "shape") != 0 &&
            strcmp(key, "data_offsets") != 0)
            return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: tensor \"%s\": unexpected field \"%s\"",
                               label, name, key);
    }
    static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
    json_object *f[3];
    for (int i = 0; i < 3; i++)
        if (!json_object_object_get_ex(v, fields[i], &f[i]))
            return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: tensor \"%s\": missing field \"%s\"",
                               label, name, fields[i]);
    ssmrt_status st;
    if ((st = parse_dtype(label, name, f[0], &e->dtype)) ||
        (st = parse_shape(label, name, f[1], e)) ||
        (st = parse_offsets(label, name, f[2], data_size, e, f[1])))
        return st;
    return SSMRT_OK;
}

static ssmrt_status check_metadata(const char *label, json_object *v)
{
    if (!json_object_is_type(v, json_type_object))
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: __metadata__ is " SSMRT_JSON_REPR_FMT ", not an object", label,
                           ssmrt__json_repr(v));
    json_object_object_foreach(v, key, val) {
        if (!json_object_is_type(val, json_type_string))
            return ssmrt__fail(SSMRT_ERR_FORMAT,
                               "%s: __metadata__: \"%s\" is " SSMRT_JSON_REPR_FMT
                               ", not a string",
                               label, key, ssmrt__json_repr(val));
    }
    return SSMRT_OK;
}

static int entry_cmp(const void *a, const void *b)
{
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Entries sorted by begin: a non-empty range must start at or after the furthest end
 * seen so far. Empty tensors occupy no bytes and may share an offset with anything. */
static ssmrt_status check_overlap(const char *label, const st_header *h)
{
    uint64_t max_end = 0;
    const st_entry *owner = NULL;
    for (uint32_t i = 0; i < h->count; i++) {
        const st_entry *e = &h->entries[i];
        if (e->begin == e->end)
            continue;
        if (owner && e->begin < max_end)
            return ssmrt__fail(SSMRT_ERR_FORMAT,
                               "%s: tensor \"%s\": data_offsets [%llu, %llu] overlap tensor "
                               "\"%s\" [%llu, %llu]",
                               label, e->name, (ull)e->begin, (ull)e->end, owner->name,
                               (ull)owner->begin, (ull)owner->end);
        if (e->end > max_end) {
            max_end = e->end;
            owner = e;
        }
    }
    return SSMRT_OK;
}

static ssmrt_status parse_root(const char *label, json_object *root, uint64_t data_size,
                               st_header *h)
{
    if (!json_object_is_type(root, json_type_object))
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: header is a JSON %s, not an object", label,
                           json_type_to_name(json_object_get_type(root)));
    size_t count = 0, name_bytes = 0;
    json_object_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            ssmrt_status st = check_metadata(label, val);
            if (st)
                return st;
            continue;
        }
        count++;
        name_bytes += strlen(key) + 1;
    }
    if (count > UINT32_MAX)
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: %zu tensors is too many", label, count);
    h->entries = ssmrt__calloc(count ? count : 1, sizeof *h->entries);
    h->names = ssmrt__malloc(name_bytes ? name_bytes : 1);
    if (!h->entries || !h->names)
        return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "%s", label);
    char *np = h->names;
    json_object_object_foreach(root, key2, val2) {
        if (strcmp(key2, "__metadata__") == 0)
            continue;
        st_entry *e = &h->entries[h->count];
        ssmrt_status st = parse_entry(label, key2, val2, data_size, e);
        if (st)
            return st;
        size_t n = strlen(key2) + 1;
        memcpy(np, key2, n);
        e->name = np;
        np += n;
        h->count++;
    }
    qsort(h->entries, h->count, sizeof *h->entries, entry_cmp);
    return check_overlap(label, h);
}

ssmrt_status ssmrt__st_header_parse(const char *label, const unsigned char *file, size_t size,
                                    st_header *out)
{
    memset(out, 0, sizeof *out);
    if (size < 8)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: file is %zu bytes, too short for the 8-byte header length",
                           label, size);
    uint64_t n = read_le64(file);
    if (n > SSMRT_ST_MAX_HEADER)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: header length %llu is over the limit of %llu bytes", label,
                           (ull)n, (ull)SSMRT_ST_MAX_HEADER);
    if (n > size - 8)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: header length %llu runs past the end of the file (%zu bytes "
                           "follow the length field)",
                           label, (ull)n, size - 8);
    out->data_offset = 8 + n;

    char hlabel[4200]; /* a path plus ": header" */
    snprintf(hlabel, sizeof hlabel, "%s: header", label);
    json_object *root = NULL;
    ssmrt_status st = ssmrt__json_parse_strict(hlabel, (const char *)file + 8, (size_t)n, &root);
    if (st == SSMRT_OK)
        st = parse_root(label, root, (uint64_t)size - out->data_offset, out);
    json_object_put(root);
    if (st)
        ssmrt__st_header_free(out);
    return st;
}

void ssmrt__st_header_free(st_header *h)
{
    ssmrt__free(h->entries);
    ssmrt__free(h->names);
    h->entries = NULL;
    h->names = NULL;
    h->count = 0;
}
