/*
 * Write then read: every dtype, scalars, empty tensors, names that need JSON escapes
 * or are non-ASCII, and a large tensor; the file layout matches the format (length
 * field, header padded with spaces to 8 bytes, data back to back); the writer refuses
 * bad input and never leaves a half-written file. Also valid edge cases the reader
 * must accept (empty header, holes, zero-size tensors sharing an offset).
 */
#include "st_test.h"

#define NT 16

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 131u + seed * 17u) >> 1);
}

static void roundtrip(const char *dir)
{
    static const char *const names[NT] = {
        "f32",  "f16",  "bf16", "i32",          "i64",     "f64",   "i8",     "u8",
        "i16",  "u16",  "u32",  "u64",          "bool",    "scalar", "empty",
        "q\"uote\\back/slash \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\t"};
    ssmrt_st_tensor t[NT];
    unsigned char *bufs[NT];
    memset(t, 0, sizeof t);
    for (int i = 0; i < NT; i++) {
        t[i].name = names[i];
        t[i].dtype = (ssmrt_st_dtype)(i < SSMRT_ST_DTYPE_COUNT ? i : SSMRT_ST_F32);
        t[i].ndim = 1 + i % 4;
        for (int d = 0; d < t[i].ndim; d++)
            t[i].shape[d] = 1 + (i + d) % 5;
    }
    t[13].ndim = 0;                     /* scalar */
    t[14].ndim = 3;                     /* empty: a zero dimension */
    t[14].shape[0] = 4, t[14].shape[1] = 0, t[14].shape[2] = 7;
    t[15].ndim = 8;                     /* the most dimensions allowed */
    for (int d = 0; d < 8; d++)
        t[15].shape[d] = d == 3 ? 3 : 1;
    t[0].ndim = 2, t[0].shape[0] = 333, t[0].shape[1] = 1001; /* larger, odd sizes */
    for (int i = 0; i < NT; i++) {
        int64_t n = 1;
        for (int d = 0; d < t[i].ndim; d++)
            n *= t[i].shape[d];
        t[i].bytes = (uint64_t)n * ssmrt_st_dtype_size(t[i].dtype);
        bufs[i] = malloc(t[i].bytes ? t[i].bytes : 1);
        fill(bufs[i], t[i].bytes, (unsigned)i);
        t[i].data = t[i].bytes ? bufs[i] : NULL;
    }
    const char *path = st_path(dir, "rt.safetensors");
    CHECK_OK(ssmrt_safetensors_write(path, t, NT));
    CHECK(!st_file_exists(st_path(dir, "rt.safetensors.tmp")));

    /* Layout: 8-byte LE length, JSON padded with spaces so the data starts at a
     * multiple of 8, data back to back in the order given. */
    size_t size;
    unsigned char *img = st_read_file(path, &size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | img[i];
    CHECK((8 + hlen) % 8 == 0);
    CHECK(img[8] == '{');
    uint64_t total = 0;
    for (int i = 0; i < NT; i++)
        total += t[i].bytes;
    CHECK(size == 8 + hlen + total);
    size_t last = 8 + (size_t)hlen - 1;
    while (img[last] == ' ')
        last--;
    CHECK(img[last] == '}');

    ssmrt_safetensors *st = NULL;
    CHECK_OK(ssmrt_safetensors_open(path, &st));
    if (st) {
        CHECK(ssmrt_safetensors_count(st) == NT);
        uint64_t off = 0;
        for (int i = 0; i < NT; i++) {
            ssmrt_st_tensor r;
            CHECK_OK(ssmrt_safetensors_find(st, names[i], &r));
            CHECK_MSG(strcmp(r.name, names[i]) == 0, "name %s", names[i]);
            CHECK_MSG(r.dtype == t[i].dtype && r.ndim == t[i].ndim && r.bytes == t[i].bytes,
                      "%s", names[i]);
            CHECK(memcmp(r.shape, t[i].shape, sizeof(int64_t) * (size_t)r.ndim) == 0);
            CHECK_MSG(r.bytes == 0 || memcmp(r.data, bufs[i], r.bytes) == 0, "%s data",
                      names[i]);
            CHECK(r.bytes == 0 || memcmp(img + 8 + hlen + off, bufs[i], r.bytes) == 0);
            off += t[i].bytes;
        }
        ssmrt_safetensors_close(st);
    }
    free(img);

    /* Overwriting an existing file replaces it. */
    CHECK_OK(ssmrt_safetensors_write(path, t + 3, 1));
    CHECK_OK(ssmrt_safetensors_open(path, &st));
    if (st) {
        CHECK(ssmrt_safetensors_count(st) == 1);
        ssmrt_safetensors_close(st);
    }
    /* No tensors at all is a valid file. */
    CHECK_OK(ssmrt_safetensors_write(st_path(dir, "none.safetensors"), NULL, 0));
    CHECK_OK(ssmrt_safetensors_open(st_path(dir, "none.safetensors"), &st));
    if (st) {
        CHECK(ssmrt_safetensors_count(st) == 0);
        ssmrt_safetensors_close(st);
    }

    /* Writer input checks: nothing is written on a refusal. */
    const char *bad = st_path(dir, "bad.safetensors");
    ssmrt_st_tensor b[2];
    b[0] = t[3], b[1] = t[3];
    CHECK(ssmrt_safetensors_write(bad, b, 2) == SSMRT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ssmrt_last_error(), "appears twice") != NULL);
    b[0].bytes += 1;
    CHECK(ssmrt_safetensors_write(bad, b, 1) == SSMRT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ssmrt_last_error(), "i32") != NULL);
    b[0] = t[3], b[0].shape[0] = -1;
    CHECK(ssmrt_safetensors_write(bad, b, 1) == SSMRT_ERR_INVALID_ARGUMENT);
    b[0] = t[3], b[0].name = "__metadata__";
    CHECK(ssmrt_safetensors_write(bad, b, 1) == SSMRT_ERR_INVALID_ARGUMENT);
    b[0] = t[3], b[0].name = "bad\xff";
    CHECK(ssmrt_safetensors_write(bad, b, 1) == SSMRT_ERR_INVALID_ARGUMENT);
    b[0] = t[3], b[0].dtype = SSMRT_ST_DTYPE_COUNT;
    CHECK(ssmrt_safetensors_write(bad, b, 1) == SSMRT_ERR_INVALID_ARGUMENT);
    b[0] = t[3], b[0].ndim = 9;
    CHECK(ssmrt_safetensors_write(bad, b, 1) == SSMRT_ERR_INVALID_ARGUMENT);
    b[0] = t[3], b[0].data = NULL;
    CHECK(ssmrt_safetensors_write(bad, b, 1) == SSMRT_ERR_INVALID_ARGUMENT);
    b[0] = t[3], b[0].name = NULL;
    CHECK(ssmrt_safetensors_write(bad, b, 1) == SSMRT_ERR_INVALID_ARGUMENT);
    CHECK(!st_file_exists(bad) && !st_file_exists(st_path(dir, "bad.safetensors.tmp")));
    /* A directory that does not exist: an error naming the path, nothing left over. */
    ssmrt_status s = ssmrt_safetensors_write(st_path(dir, "nodir/x.safetensors"), t + 3, 1);
    CHECK(s == SSMRT_ERR_NOT_FOUND || s == SSMRT_ERR_IO);
    CHECK(strstr(ssmrt_last_error(), "nodir/x.safetensors") != NULL);

    for (int i = 0; i < NT; i++)
        free(bufs[i]);
}

/* Hand-made files that are unusual but valid. */
static void valid_edges(const char *dir)
{
    ssmrt_safetensors *st = NULL;
    ssmrt_st_tensor r;

    st_craft(st_path(dir, "e1.safetensors"), "{}", 0);
    CHECK_OK(ssmrt_safetensors_open(st_path(dir, "e1.safetensors"), &st));
    if (st) {
        CHECK(ssmrt_safetensors_count(st) == 0);
        ssmrt_safetensors_close(st);
    }

    /* Metadata, whitespace, a hole between tensors, empty tensors sharing offsets with
     * real ones, a scalar, an escaped name, the entry fields in another order. */
    st_craft(st_path(dir, "e2.safetensors"),
             " {\n\t\"__metadata__\": {\"format\": \"pt\"},\n"
             "  \"b\": {\"data_offsets\": [8, 16], \"shape\": [2], \"dtype\": \"F32\"},\n"
             "  \"e0\": {\"dtype\": \"F32\", \"shape\": [0, 3], \"data_offsets\": [8, 8]},\n"
             "  \"e1\": {\"dtype\": \"I64\", \"shape\": [5, 0], \"data_offsets\": [0, 0]},\n"
             "  \"s\": {\"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [24, 32]},\n"
             "  \"a\\/\\u00e9\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]}\n"
             "}   ",
             40);
    CHECK_OK(ssmrt_safetensors_open(st_path(dir, "e2.safetensors"), &st));
    if (st) {
        CHECK(ssmrt_safetensors_count(st) == 5);
        CHECK_OK(ssmrt_safetensors_find(st, "a/\xc3\xa9", &r));
        CHECK(r.bytes == 4 && ((const unsigned char *)r.data)[3] == 3);
        CHECK_OK(ssmrt_safetensors_find(st, "s", &r));
        CHECK(r.ndim == 0 && r.bytes == 8 && r.dtype == SSMRT_ST_I64);
        CHECK(((const unsigned char *)r.data)[0] == 24); /* data bytes are i & 0xff */
        CHECK_OK(ssmrt_safetensors_find(st, "e0", &r));
        CHECK(r.bytes == 0 && r.ndim == 2 && r.shape[1] == 3);
        /* at() enumerates in data order: a(0..4) and e1(0..0) first, s last. */
        CHECK_OK(ssmrt_safetensors_at(st, 4, &r));
        CHECK(strcmp(r.name, "s") == 0);
        ssmrt_safetensors_close(st);
    }
}

int main(void)
{
    const char *dir = st_make_tmpdir();
    CHECK(ssmrt_st_dtype_size(SSMRT_ST_BF16) == 2 && ssmrt_st_dtype_size(SSMRT_ST_I64) == 8 &&
          ssmrt_st_dtype_size(SSMRT_ST_BOOL) == 1 && ssmrt_st_dtype_size(SSMRT_ST_DTYPE_COUNT) == 0);
    CHECK(strcmp(ssmrt_st_dtype_name(SSMRT_ST_BF16), "BF16") == 0);
    roundtrip(dir);
    valid_edges(dir);
    st_rmtree(dir);
    return st_test_finish("test_st_roundtrip");
}
