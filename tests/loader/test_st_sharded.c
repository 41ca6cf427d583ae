/*
 * Sharded checkpoints built at run time: two shards written with
 * ssmrt_safetensors_write plus a model.safetensors.index.json. Opened through the
 * directory and the index path, every tensor is found in the right shard with the
 * right bytes. Then each way an index and its shards can disagree must fail naming
 * the index, the shard and the tensor.
 */
#include "st_test.h"

static float w1[6] = {1, 2, 3, 4, 5, 6};
static float w2[4] = {-1, -2, -3, -4};
static int64_t ids[3] = {7, 8, 9};

static ssmrt_st_tensor tensor(const char *name, ssmrt_st_dtype dt, int64_t n, const void *data)
{
    ssmrt_st_tensor t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.dtype = dt;
    t.ndim = 1;
    t.shape[0] = n;
    t.data = data;
    t.bytes = (uint64_t)n * ssmrt_st_dtype_size(dt);
    return t;
}

static void write_text(const char *path, const char *text)
{
    st_write_bytes(path, text, strlen(text));
}

/* A fresh checkpoint directory: shard 1 holds a.w and a.ids, shard 2 holds b.w. */
static const char *make_checkpoint(const char *root, const char *name, const char *index)
{
    const char *dir = st_path(root, name);
    mkdir(dir, 0755);
    static char d[4200];
    snprintf(d, sizeof d, "%s", dir);
    ssmrt_st_tensor s1[2] = {tensor("a.w", SSMRT_ST_F32, 6, w1),
                             tensor("a.ids", SSMRT_ST_I64, 3, ids)};
    ssmrt_st_tensor s2[1] = {tensor("b.w", SSMRT_ST_F32, 4, w2)};
    CHECK_OK(ssmrt_safetensors_write(st_path(d, "model-00001-of-00002.safetensors"), s1, 2));
    CHECK_OK(ssmrt_safetensors_write(st_path(d, "model-00002-of-00002.safetensors"), s2, 1));
    write_text(st_path(d, "model.safetensors.index.json"), index);
    return d;
}

#define GOOD_INDEX                                                                        \
    "{\"metadata\": {\"total_size\": 64},\n \"weight_map\": {\n"                          \
    "  \"b.w\": \"model-00002-of-00002.safetensors\",\n"                                  \
    "  \"a.w\": \"model-00001-of-00002.safetensors\",\n"                                  \
    "  \"a.ids\": \"model-00001-of-00002.safetensors\"}}\n"

static void check_good(const char *root)
{
    const char *dir = make_checkpoint(root, "good", GOOD_INDEX);
    const char *paths[2] = {dir, st_path(dir, "model.safetensors.index.json")};
    for (int k = 0; k < 2; k++) {
        ssmrt_safetensors *st = NULL;
        CHECK_OK(ssmrt_safetensors_open(paths[k], &st));
        if (!st)
            continue;
        CHECK(ssmrt_safetensors_count(st) == 3);
        ssmrt_st_tensor t;
        CHECK_OK(ssmrt_safetensors_find(st, "a.w", &t));
        CHECK(t.bytes == sizeof w1 && memcmp(t.data, w1, sizeof w1) == 0);
        CHECK_OK(ssmrt_safetensors_find(st, "b.w", &t));
        CHECK(t.bytes == sizeof w2 && memcmp(t.data, w2, sizeof w2) == 0);
        CHECK_OK(ssmrt_safetensors_find(st, "a.ids", &t));
        CHECK(t.dtype == SSMRT_ST_I64 && memcmp(t.data, ids, sizeof ids) == 0);
        /* Shards enumerate in file-name order, each in data order. */
        CHECK_OK(ssmrt_safetensors_at(st, 0, &t));
        CHECK(strcmp(t.name, "a.w") == 0);
        CHECK_OK(ssmrt_safetensors_at(st, 2, &t));
        CHECK(strcmp(t.name, "b.w") == 0);
        CHECK(ssmrt_safetensors_find(st, "c.w", &t) == SSMRT_ERR_NOT_FOUND);
        CHECK(strstr(ssmrt_last_error(), "c.w") && strstr(ssmrt_last_error(), "index.json"));
        ssmrt_safetensors_close(st);
    }
    /* A directory with both layouts prefers model.safetensors (as transformers does). */
    ssmrt_st_tensor one = tensor("single", SSMRT_ST_F32, 4, w2);
    CHECK_OK(ssmrt_safetensors_write(st_path(dir, "model.safetensors"), &one, 1));
    ssmrt_safetensors *st = NULL;
    CHECK_OK(ssmrt_safetensors_open(dir, &st));
    if (st) {
        CHECK(ssmrt_safetensors_count(st) == 1);
        ssmrt_safetensors_close(st);
    }
}

typedef struct bad_index {
    const char *what;
    const char *index;
    ssmrt_status expect;
    const char *must[3];
    const char *extra_shard; /* if set: also write this shard holding "a.w" and "x.extra" */
} bad_index;

static const bad_index bads[] = {
    {"index points at a missing shard file",
     "{\"weight_map\": {\"a.w\": \"model-00001-of-00002.safetensors\", \"a.ids\": "
     "\"model-00001-of-00002.safetensors\", \"b.w\": \"model-00003-of-00002.safetensors\"}}",
     SSMRT_ERR_NOT_FOUND, {"model-00003-of-00002.safetensors", "\"b.w\"", "index.json"}, NULL},
    {"index maps a tensor to a shard without it",
     "{\"weight_map\": {\"a.w\": \"model-00001-of-00002.safetensors\", \"a.ids\": "
     "\"model-00001-of-00002.safetensors\", \"b.w\": \"model-00002-of-00002.safetensors\", "
     "\"c.w\": \"model-00002-of-00002.safetensors\"}}",
     SSMRT_ERR_FORMAT, {"\"c.w\"", "model-00002-of-00002.safetensors", "does not contain"}, NULL},
    {"index maps a tensor to the wrong shard",
     "{\"weight_map\": {\"a.w\": \"model-00002-of-00002.safetensors\", \"a.ids\": "
     "\"model-00001-of-00002.safetensors\", \"b.w\": \"model-00002-of-00002.safetensors\"}}",
     SSMRT_ERR_FORMAT, {"\"a.w\"", "but is in shard \"model-00001-of-00002.safetensors\""}, NULL},
    {"a shard holds a tensor the index does not list",
     "{\"weight_map\": {\"a.w\": \"model-00001-of-00002.safetensors\", \"b.w\": "
     "\"model-00002-of-00002.safetensors\"}}",
     SSMRT_ERR_FORMAT, {"\"a.ids\"", "does not list", "model-00001-of-00002.safetensors"}, NULL},
    {"one name in two shards",
     "{\"weight_map\": {\"a.w\": \"model-00001-of-00002.safetensors\", \"a.ids\": "
     "\"model-00001-of-00002.safetensors\", \"b.w\": \"model-00002-of-00002.safetensors\", "
     "\"x.extra\": \"extra.safetensors\"}}",
     SSMRT_ERR_FORMAT, {"\"a.w\"", "appears in both", "extra.safetensors"}, "extra.safetensors"},
    {"duplicate name in weight_map",
     "{\"weight_map\": {\"a.w\": \"model-00001-of-00002.safetensors\", \"a.w\": "
     "\"model-00002-of-00002.safetensors\"}}",
     SSMRT_ERR_FORMAT, {"duplicate key \"a.w\"", "weight_map", "index.json"}, NULL},
    {"shard named by a path outside the directory",
     "{\"weight_map\": {\"a.w\": \"../good/model-00001-of-00002.safetensors\"}}",
     SSMRT_ERR_FORMAT, {"\"a.w\"", "../good", "not a file name"}, NULL},
    {"shard named by an absolute path", "{\"weight_map\": {\"a.w\": \"/etc/passwd\"}}",
     SSMRT_ERR_FORMAT, {"\"a.w\"", "/etc/passwd"}, NULL},
    {"shard name empty", "{\"weight_map\": {\"a.w\": \"\"}}", SSMRT_ERR_FORMAT, {"\"a.w\""}, NULL},
    {"shard name not a string", "{\"weight_map\": {\"a.w\": 1}}", SSMRT_ERR_FORMAT,
     {"\"a.w\"", "not a file name"}, NULL},
    {"weight_map missing", "{\"metadata\": {}}", SSMRT_ERR_FORMAT,
     {"missing field \"weight_map\""}, NULL},
    {"weight_map not an object", "{\"weight_map\": [1]}", SSMRT_ERR_FORMAT,
     {"weight_map", "not an object"}, NULL},
    {"index not JSON", "{\"weight_map\": {", SSMRT_ERR_FORMAT, {"index.json", "JSON"}, NULL},
    {"index not an object", "[]", SSMRT_ERR_FORMAT, {"index.json", "not an object"}, NULL},
    {"index not UTF-8", "{\"weight_map\": {\"a\xfe\": \"x\"}}", SSMRT_ERR_FORMAT,
     {"index.json", "UTF-8"}, NULL},
};

static void check_bad(const char *root)
{
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const bad_index *b = &bads[i];
        char name[32];
        snprintf(name, sizeof name, "bad%02zu", i);
        const char *dir = make_checkpoint(root, name, b->index);
        if (b->extra_shard) {
            ssmrt_st_tensor ex[2] = {tensor("a.w", SSMRT_ST_F32, 6, w1),
                                     tensor("x.extra", SSMRT_ST_F32, 4, w2)};
            CHECK_OK(ssmrt_safetensors_write(st_path(dir, b->extra_shard), ex, 2));
        }
        ssmrt_safetensors *st = (ssmrt_safetensors *)1;
        ssmrt_status s = ssmrt_safetensors_open(dir, &st);
        const char *msg = ssmrt_last_error();
        CHECK_MSG(s == b->expect, "%s: got %s, want %s (%s)", b->what, ssmrt_status_name(s),
                  ssmrt_status_name(b->expect), msg);
        CHECK_MSG(st == NULL, "%s: handle set on failure", b->what);
        for (int k = 0; k < 3; k++)
            CHECK_MSG(!b->must[k] || strstr(msg, b->must[k]), "%s: \"%s\" lacks \"%s\"", b->what,
                      msg, b->must[k]);
        if (s == SSMRT_OK)
            ssmrt_safetensors_close(st);
    }

    /* A shard that is itself malformed: the shard's own message, prefixed with the
     * index and the shard. */
    const char *dir = make_checkpoint(root, "badshard", GOOD_INDEX);
    st_craft(st_path(dir, "model-00002-of-00002.safetensors"),
             "{\"b.w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,12]}}", 16);
    ssmrt_safetensors *st = NULL;
    CHECK(ssmrt_safetensors_open(dir, &st) == SSMRT_ERR_FORMAT);
    const char *msg = ssmrt_last_error();
    CHECK_MSG(strstr(msg, "index.json") && strstr(msg, "model-00002-of-00002.safetensors") &&
                  strstr(msg, "\"b.w\"") && strstr(msg, "needs 16"),
              "%s", msg);
}

int main(void)
{
    const char *root = st_make_tmpdir();
    static char r[4096];
    snprintf(r, sizeof r, "%s", root);
    check_good(r);
    check_bad(r);
    st_rmtree(r);
    return st_test_finish("test_st_sharded");
}
