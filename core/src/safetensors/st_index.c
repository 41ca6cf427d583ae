/*
 * Sharded checkpoints: model.safetensors.index.json maps each tensor name to the shard
 * file holding it ({"metadata": {...}, "weight_map": {"name": "model-00001-of-00002.
 * safetensors", ...}}). Each shard is opened once; the index and the shards must agree
 * exactly (every listed tensor in its shard, nothing unlisted, no name twice), since a
 * mismatch means a mixed or half-copied checkpoint.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "safetensors/st_internal.h"
#include "safetensors/st_json.h"

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Shards live next to the index: a plain file name, never a path that could point
 * elsewhere on the machine. */
static ssmrt_status check_shard_name(const char *index, const char *tensor, json_object *v)
{
    if (!json_object_is_type(v, json_type_string))
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: weight_map: tensor \"%s\" maps to " SSMRT_JSON_REPR_FMT
                           ", not a file name",
                           index, tensor, ssmrt__json_repr(v));
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (n == 0 || strlen(s) != n || strchr(s, '/') || strcmp(s, ".") == 0 ||
        strcmp(s, "..") == 0)
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: weight_map: tensor \"%s\" maps to " SSMRT_JSON_REPR_FMT
                           ", which is not a file name in the index's directory",
                           index, tensor, ssmrt__json_repr(v));
    return SSMRT_OK;
}

/* Parses the index and returns the weight_map object (owned by *root). */
static ssmrt_status read_index(const char *path, json_object **root, json_object **wm)
{
    const unsigned char *base;
    size_t size;
    ssmrt_status st = ssmrt__st_map(path, &base, &size);
    if (st)
        return st;
    if (size > SSMRT_ST_MAX_HEADER) {
        ssmrt__st_unmap(base, size);
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: index of %zu bytes is over the limit of %llu",
                           path, size, (unsigned long long)SSMRT_ST_MAX_HEADER);
    }
    st = ssmrt__json_parse_strict(path, (const char *)base, size, root);
    ssmrt__st_unmap(base, size);
    if (st)
        return st;
    if (!json_object_is_type(*root, json_type_object))
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: index is a JSON %s, not an object", path,
                           json_type_to_name(json_object_get_type(*root)));
    if (!json_object_object_get_ex(*root, "weight_map", wm))
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: missing field \"weight_map\"", path);
    if (!json_object_is_type(*wm, json_type_object))
        return ssmrt__fail(SSMRT_ERR_FORMAT,
                           "%s: weight_map is " SSMRT_JSON_REPR_FMT ", not an object", path,
                           ssmrt__json_repr(*wm));
    json_object_object_foreach(*wm, name, file) {
        if ((st = check_shard_name(path, name, file)))
            return st;
    }
    return SSMRT_OK;
}

/* Opens shards[0..n) from dir into st, one source each, in that order. */
static ssmrt_status open_shards(const char *index, json_object *wm, const char *const *shards,
                                uint32_t n, ssmrt_safetensors *st)
{
    const char *slash = strrchr(index, '/');
    size_t dirlen = slash ? (size_t)(slash - index) + 1 : 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = dirlen + strlen(shards[i]) + 1;
        char *p = ssmrt__malloc(len);
        if (!p)
            return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "%s", index);
        memcpy(p, index, dirlen);
        memcpy(p + dirlen, shards[i], strlen(shards[i]) + 1);
        ssmrt_status s = ssmrt__st_source_open(p, &st->sources[i]);
        ssmrt__free(p);
        if (s) {
            /* Name one tensor that needs the shard, so the user sees why it matters. */
            const char *who = "?";
            json_object_object_foreach(wm, name, file) {
                if (strcmp(json_object_get_string(file), shards[i]) == 0) {
                    who = name;
                    break;
                }
            }
            return ssmrt__fail_prefix(s, "%s: shard \"%s\" (holding tensor \"%s\")", index,
                                      shards[i], who);
        }
        st->nsources = i + 1;
    }
    return SSMRT_OK;
}

/* The index and the shards must describe the same set of tensors. */
static ssmrt_status check_agreement(const char *index, json_object *wm,
                                    const char *const *shards, const ssmrt_safetensors *st)
{
    json_object_object_foreach(wm, name, file) {
        const char *want = json_object_get_string(file);
        int64_t k = ssmrt__st_lookup(st, name);
        if (k < 0)
            return ssmrt__fail(SSMRT_ERR_FORMAT,
                               "%s: weight_map: tensor \"%s\" is mapped to shard \"%s\", which "
                               "does not contain it",
                               index, name, want);
        const char *have = shards[st->source_of[k]];
        if (strcmp(have, want) != 0)
            return ssmrt__fail(SSMRT_ERR_FORMAT,
                               "%s: weight_map: tensor \"%s\" is mapped to shard \"%s\" but is "
                               "in shard \"%s\"",
                               index, name, want, have);
    }
    /* Every listed name was found in its own shard and names are unique, so a count
     * above the listing means some shard holds an unlisted tensor: find it. */
    if ((size_t)st->count != (size_t)json_object_object_length(wm)) {
        for (uint32_t i = 0; i < st->count; i++) {
            json_object *unused;
            if (!json_object_object_get_ex(wm, st->tensors[i].name, &unused))
                return ssmrt__fail(SSMRT_ERR_FORMAT,
                                   "%s: shard \"%s\" holds tensor \"%s\", which weight_map "
                                   "does not list",
                                   index, shards[st->source_of[i]], st->tensors[i].name);
        }
    }
    return SSMRT_OK;
}

ssmrt_status ssmrt__st_open_index(const char *path, ssmrt_safetensors **out)
{
    json_object *root = NULL, *wm = NULL;
    const char **shards = NULL;
    ssmrt_safetensors *st = NULL;
    ssmrt_status s = read_index(path, &root, &wm);
    if (s)
        goto done;

    /* The distinct shard names, sorted so that tensors enumerate shard by shard in
     * file-name order (model-00001-of-N first). */
    size_t n = (size_t)json_object_object_length(wm);
    shards = ssmrt__malloc((n ? n : 1) * sizeof *shards);
    if (!shards) {
        s = ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "%s", path);
        goto done;
    }
    size_t k = 0;
    json_object_object_foreach(wm, name, file) {
        (void)name;
        shards[k++] = json_object_get_string(file);
    }
    qsort(shards, n, sizeof *shards, str_cmp);
    uint32_t nshards = 0;
    for (size_t i = 0; i < n; i++)
        if (nshards == 0 || strcmp(shards[nshards - 1], shards[i]) != 0)
            shards[nshards++] = shards[i];

    if ((s = ssmrt__st_new_handle(nshards, &st)))
        goto done;
    st->origin = ssmrt__strdup(path);
    if (!st->origin) {
        s = ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "%s", path);
        goto done;
    }
    if ((s = open_shards(path, wm, shards, nshards, st)) || (s = ssmrt__st_index_tensors(st)) ||
        (s = check_agreement(path, wm, shards, st)))
        goto done;
    *out = st;
    st = NULL;
done:
    ssmrt__st_destroy(st);
    ssmrt__free(shards);
    json_object_put(root);
    return s;
}
