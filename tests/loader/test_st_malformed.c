/*
 * Malformed safetensors files: one crafted file per check the reader makes. Each must
 * fail with the expected status and a message naming the file, the tensor and the
 * field at fault; the same bytes opened from memory must fail the same way.
 */
#include "st_test.h"

/* One tensor entry of a header. */
#define ENT(n, dt, shape, offs)                                                           \
    "\"" n "\":{\"dtype\":\"" dt "\",\"shape\":" shape ",\"data_offsets\":" offs "}"

enum { LEN_OK = 0, LEN_GIVEN = 1 };

typedef struct st_case {
    const char *what;
    const char *header;
    size_t hlen;        /* 0: strlen(header) */
    int len_mode;       /* LEN_GIVEN: write len_field instead of the true length */
    uint64_t len_field;
    size_t data_len;
    ssmrt_status expect;
    const char *must[3]; /* substrings the message must contain */
} st_case;

static const st_case cases[] = {
    /* --- the length field --- */
    {"header length past end of file", "{}", 0, LEN_GIVEN, 1000, 0, SSMRT_ERR_FORMAT,
     {"header length 1000", "past the end of the file"}},
    {"header length one past end", "{}", 0, LEN_GIVEN, 3, 0, SSMRT_ERR_FORMAT,
     {"header length 3", "past the end"}},
    {"header length absurd (200 MB)", "{}", 0, LEN_GIVEN, 200000000, 0, SSMRT_ERR_FORMAT,
     {"header length 200000000", "limit"}},
    {"header length 2^64-1 (would wrap 8+N)", "{}", 0, LEN_GIVEN, UINT64_MAX, 0,
     SSMRT_ERR_FORMAT, {"18446744073709551615", "limit"}},
    {"empty header", "", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT, {"header", "ends early"}},

    /* --- UTF-8 and JSON syntax --- */
    {"invalid UTF-8 byte in a name", "{\"w\xff\":{}}", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT,
     {"UTF-8", "byte 3", "0xff"}},
    {"overlong UTF-8 encoding", "{\"\xc0\xaf\":{}}", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT,
     {"UTF-8", "byte 2"}},
    {"UTF-16 surrogate encoded in UTF-8", "{\"\xed\xa0\x80\":{}}", 0, LEN_OK, 0, 0,
     SSMRT_ERR_FORMAT, {"UTF-8", "byte 2"}},
    {"code point past U+10FFFF", "{\"\xf4\x90\x80\x80\":{}}", 0, LEN_OK, 0, 0,
     SSMRT_ERR_FORMAT, {"UTF-8"}},
    {"UTF-8 sequence cut at the end", "{}\xe2\x82", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT,
     {"UTF-8", "byte 2"}},
    {"NUL byte in the header", "{\"a\0\":{}}", 9, LEN_OK, 0, 0, SSMRT_ERR_FORMAT,
     {"control character 0x00", "byte 3"}},
    {"JSON cut short", "{\"w\": {", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT, {"JSON", "header"}},
    {"JSON missing colon", "{\"w\" {}}", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT,
     {"invalid JSON"}},
    {"JSON trailing comma", "{\"w\":{},}", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT,
     {"invalid JSON"}},
    {"JSON single quotes", "{'w':{}}", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT, {"JSON"}},
    {"JSON comment", "{/* c */}", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT, {"JSON"}},
    {"data after the JSON value", "{} {}", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT,
     {"invalid JSON at byte 3"}},
    {"integer past 2^64 (json-c saturates it)", "{" ENT("w", "F32", "[99999999999999999999999]", "[0,4]") "}",
     0, LEN_OK, 0, 4, SSMRT_ERR_FORMAT, {"tensor \"w\"", "shape[0]", "too large"}},
    {"nesting deeper than the parser allows",
     "{\"w\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", 0,
     LEN_OK, 0, 0, SSMRT_ERR_FORMAT, {"JSON"}},
    {"header is an array", "[]", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT, {"not an object"}},
    {"header is a string", "\"x\"", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT, {"not an object"}},
    {"header is null", "null", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT, {"null"}},
    {"header is a number", "5", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT, {"not an object"}},
    {"header is an object followed by data", "{}x", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT,
     {"JSON"}},

    /* --- duplicate keys (json-c would keep the last silently) --- */
    {"duplicate tensor name",
     "{" ENT("a", "F32", "[1]", "[0,4]") "," ENT("a", "F32", "[1]", "[4,8]") "}", 0, LEN_OK, 0,
     8, SSMRT_ERR_FORMAT, {"duplicate key \"a\""}},
    {"duplicate name spelled with an escape",
     "{" ENT("a", "F32", "[1]", "[0,4]") "," ENT("\\u0061", "F32", "[1]", "[4,8]") "}", 0,
     LEN_OK, 0, 8, SSMRT_ERR_FORMAT, {"duplicate key \"a\""}},
    {"duplicate field inside an entry",
     "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0,
     LEN_OK, 0, 4, SSMRT_ERR_FORMAT, {"duplicate key \"dtype\"", "in \"w\""}},
    {"duplicate metadata key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, LEN_OK, 0, 0,
     SSMRT_ERR_FORMAT, {"duplicate key \"k\"", "__metadata__"}},
    {"name with an escaped NUL", "{" ENT("a\\u0000b", "F32", "[1]", "[0,4]") "}", 0, LEN_OK, 0,
     4, SSMRT_ERR_FORMAT, {"NUL", "a\\u0000b"}},

    /* --- __metadata__ --- */
    {"metadata not an object", "{\"__metadata__\":5}", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT,
     {"__metadata__", "5", "not an object"}},
    {"metadata value not a string", "{\"__metadata__\":{\"format\":1}}", 0, LEN_OK, 0, 0,
     SSMRT_ERR_FORMAT, {"__metadata__", "\"format\"", "not a string"}},
    {"metadata value an object", "{\"__metadata__\":{\"x\":{}}}", 0, LEN_OK, 0, 0,
     SSMRT_ERR_FORMAT, {"__metadata__", "\"x\""}},

    /* --- entry structure and field types --- */
    {"entry not an object", "{\"w\":5}", 0, LEN_OK, 0, 0, SSMRT_ERR_FORMAT,
     {"tensor \"w\"", "not an object"}},
    {"entry missing data_offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "missing field \"data_offsets\""}},
    {"entry missing dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "missing field \"dtype\""}},
    {"entry missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 0, LEN_OK, 0,
     4, SSMRT_ERR_FORMAT, {"tensor \"w\"", "missing field \"shape\""}},
    {"entry with an extra field",
     "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":1}}", 0, LEN_OK,
     0, 4, SSMRT_ERR_FORMAT, {"tensor \"w\"", "unexpected field \"extra\""}},
    {"dtype not a string", "{\"w\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", 0,
     LEN_OK, 0, 4, SSMRT_ERR_FORMAT, {"tensor \"w\"", "dtype", "not a string"}},
    {"unknown dtype", "{" ENT("w", "F33", "[1]", "[0,4]") "}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "unknown dtype", "F33"}},
    {"dtype in lower case", "{" ENT("w", "f32", "[1]", "[0,4]") "}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "unknown dtype", "f32"}},
    {"dtype with an escaped NUL suffix", "{" ENT("w", "F32\\u0000x", "[1]", "[0,4]") "}", 0,
     LEN_OK, 0, 4, SSMRT_ERR_FORMAT, {"tensor \"w\"", "unknown dtype"}},
    {"dtype of the format ssmrt lacks (F8)", "{" ENT("w", "F8_E4M3", "[4]", "[0,4]") "}", 0,
     LEN_OK, 0, 4, SSMRT_ERR_UNSUPPORTED, {"tensor \"w\"", "F8_E4M3", "not supported"}},
    {"shape not an array", "{" ENT("w", "F32", "4", "[0,16]") "}", 0, LEN_OK, 0, 16,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "shape is 4", "not an array"}},
    {"shape entry fractional", "{" ENT("w", "F32", "[1.5]", "[0,4]") "}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "shape[0]", "not an integer"}},
    {"shape entry a string", "{" ENT("w", "F32", "[\"2\"]", "[0,8]") "}", 0, LEN_OK, 0, 8,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "shape[0]", "not an integer"}},
    {"shape entry a boolean", "{" ENT("w", "F32", "[2,true]", "[0,8]") "}", 0, LEN_OK, 0, 8,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "shape[1]", "true"}},
    {"negative dimension", "{" ENT("w", "F32", "[2,-3]", "[0,0]") "}", 0, LEN_OK, 0, 0,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "shape[1]", "negative (-3)"}},
    {"more than 8 dimensions", "{" ENT("w", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 0,
     LEN_OK, 0, 4, SSMRT_ERR_FORMAT, {"tensor \"w\"", "9 dimensions"}},
    {"dims whose product overflows 2^63 (2^32 x 2^32)",
     "{" ENT("w", "U8", "[4294967296,4294967296]", "[0,0]") "}", 0, LEN_OK, 0, 0,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "shape", "2^63"}},
    {"dims whose product just passes 2^63",
     "{" ENT("w", "U8", "[3037000500,3037000500]", "[0,0]") "}", 0, LEN_OK, 0, 0,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "2^63"}},
    {"product overflows after a zero-free prefix",
     "{" ENT("w", "U8", "[2,2,2,2,2,2,2,2]", "[0,256]") "," ENT("v", "U8", "[65536,65536,65536,65536]", "[256,256]") "}",
     0, LEN_OK, 0, 256, SSMRT_ERR_FORMAT, {"tensor \"v\"", "2^63"}},
    {"dimension past int64", "{" ENT("w", "U8", "[9223372036854775808]", "[0,0]") "}", 0,
     LEN_OK, 0, 0, SSMRT_ERR_FORMAT, {"tensor \"w\"", "shape[0]", "too large"}},
    {"elements x dtype size overflow 2^64",
     "{" ENT("w", "F32", "[4611686018427387904]", "[0,0]") "}", 0, LEN_OK, 0, 0,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "2^64"}},

    /* --- data_offsets --- */
    {"data_offsets not an array", "{" ENT("w", "F32", "[1]", "0") "}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "data_offsets", "not an array"}},
    {"data_offsets with one entry", "{" ENT("w", "F32", "[1]", "[0]") "}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "data_offsets has 1 entries"}},
    {"data_offsets with three entries", "{" ENT("w", "F32", "[1]", "[0,4,8]") "}", 0, LEN_OK,
     0, 8, SSMRT_ERR_FORMAT, {"tensor \"w\"", "data_offsets has 3 entries"}},
    {"data_offsets negative", "{" ENT("w", "F32", "[1]", "[-4,0]") "}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "data_offsets[0]", "negative (-4)"}},
    {"data_offsets fractional", "{" ENT("w", "F32", "[1]", "[0,4.0]") "}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "data_offsets[1]", "not an integer"}},
    {"begin after end", "{" ENT("w", "F32", "[1]", "[8,4]") "}", 0, LEN_OK, 0, 8,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "begin 8 is after end 4"}},
    {"offsets that wrap (begin near 2^64, end small)",
     "{" ENT("w", "F32", "[1]", "[18446744073709551614,2]") "}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "begin 18446744073709551614 is after end 2"}},
    {"offsets whose difference fits but end is near 2^64",
     "{" ENT("w", "F32", "[1]", "[18446744073709551611,18446744073709551615]") "}", 0, LEN_OK,
     0, 4, SSMRT_ERR_FORMAT, {"tensor \"w\"", "end 18446744073709551615", "data section"}},
    {"end past the data section", "{" ENT("w", "F32", "[2]", "[0,8]") "}", 0, LEN_OK, 0, 4,
     SSMRT_ERR_FORMAT, {"tensor \"w\"", "end 8 is past the end of the data section (4 bytes)"}},
    {"size mismatch (F32 [2] in 4 bytes)", "{" ENT("w", "F32", "[2]", "[0,4]") "}", 0, LEN_OK,
     0, 8, SSMRT_ERR_FORMAT, {"tensor \"w\"", "hold 4 bytes", "needs 8"}},
    {"size mismatch (F16 [3] in 8 bytes)", "{" ENT("w", "F16", "[3]", "[0,8]") "}", 0, LEN_OK,
     0, 8, SSMRT_ERR_FORMAT, {"tensor \"w\"", "F16", "needs 6"}},
    {"size mismatch (empty shape [0] with bytes)", "{" ENT("w", "F32", "[0]", "[0,4]") "}", 0,
     LEN_OK, 0, 4, SSMRT_ERR_FORMAT, {"tensor \"w\"", "needs 0"}},
    {"overlapping tensors",
     "{" ENT("a", "F32", "[2]", "[0,8]") "," ENT("b", "F32", "[2]", "[4,12]") "}", 0, LEN_OK, 0,
     12, SSMRT_ERR_FORMAT, {"\"b\"", "overlap", "\"a\""}},
    {"tensors with identical ranges",
     "{" ENT("a", "F32", "[1]", "[0,4]") "," ENT("b", "I32", "[1]", "[0,4]") "}", 0, LEN_OK, 0,
     4, SSMRT_ERR_FORMAT, {"overlap", "\"a\"", "\"b\""}},
    {"tensor inside another",
     "{" ENT("big", "F32", "[4]", "[0,16]") "," ENT("x", "F32", "[1]", "[12,16]") "," ENT("small", "F32", "[1]", "[4,8]") "}",
     0, LEN_OK, 0, 16, SSMRT_ERR_FORMAT, {"overlap", "\"big\""}},
};

static int contains(const char *hay, const char *needle)
{
    return needle == NULL || strstr(hay, needle) != NULL;
}

static void check_failure(const char *what, ssmrt_status got, ssmrt_status want,
                          const char *const must[3], const char *file_label)
{
    const char *msg = ssmrt_last_error();
    if (getenv("ST_TEST_VERBOSE")) /* to review the wording of every message */
        printf("%-50s %s: %s\n", what, ssmrt_status_name(got), msg);
    CHECK_MSG(got == want, "%s: got %s, want %s (%s)", what, ssmrt_status_name(got),
              ssmrt_status_name(want), msg);
    for (int k = 0; k < 3; k++)
        CHECK_MSG(contains(msg, must[k]), "%s: message \"%s\" lacks \"%s\"", what, msg, must[k]);
    CHECK_MSG(contains(msg, file_label), "%s: message \"%s\" does not name %s", what, msg,
              file_label);
}

static void run_case(const char *dir, const st_case *c, int i)
{
    char name[64];
    snprintf(name, sizeof name, "case%02d.safetensors", i);
    const char *path = st_path(dir, name);
    size_t hlen = c->hlen ? c->hlen : strlen(c->header);
    st_craft_raw(path, c->len_mode == LEN_GIVEN ? c->len_field : hlen, c->header, hlen,
                 c->data_len);

    ssmrt_safetensors *st = (ssmrt_safetensors *)1;
    ssmrt_status s = ssmrt_safetensors_open(path, &st);
    check_failure(c->what, s, c->expect, c->must, name);
    CHECK_MSG(st == NULL, "%s: handle not NULL after a failure", c->what);
    if (s == SSMRT_OK)
        ssmrt_safetensors_close(st);

    /* The same bytes from memory: same verdict, labelled with the given name. */
    size_t size;
    unsigned char *img = st_read_file(path, &size);
    st = NULL;
    s = ssmrt_safetensors_open_memory(img, size, "memory-image", &st);
    check_failure(c->what, s, c->expect, c->must, "memory-image");
    if (s == SSMRT_OK)
        ssmrt_safetensors_close(st);
    free(img);
}

static void run_special(const char *dir)
{
    static const char *const none[3] = {NULL, NULL, NULL};
    ssmrt_safetensors *st = NULL;

    /* Files shorter than the 8-byte length field. */
    st_write_bytes(st_path(dir, "empty.safetensors"), "", 0);
    const char *const m0[3] = {"0 bytes", "too short", NULL};
    check_failure("empty file", ssmrt_safetensors_open(st_path(dir, "empty.safetensors"), &st),
                  SSMRT_ERR_FORMAT, m0, "empty.safetensors");
    st_write_bytes(st_path(dir, "short.safetensors"), "\x02\0\0\0\0", 5);
    const char *const m5[3] = {"5 bytes", "too short", NULL};
    check_failure("truncated file (5 bytes)",
                  ssmrt_safetensors_open(st_path(dir, "short.safetensors"), &st),
                  SSMRT_ERR_FORMAT, m5, "short.safetensors");
    const char *const m7[3] = {"7 bytes", "too short", NULL};
    check_failure("memory image of 7 bytes",
                  ssmrt_safetensors_open_memory("\x02\0\0\0\0\0\0", 7, "tiny", &st),
                  SSMRT_ERR_FORMAT, m7, "tiny");

    /* A valid file truncated in its data section. */
    st_craft(st_path(dir, "cut.safetensors"), "{" ENT("w", "F32", "[4]", "[0,16]") "}", 15);
    const char *const mcut[3] = {"tensor \"w\"", "end 16", "(15 bytes)"};
    check_failure("file truncated inside the data",
                  ssmrt_safetensors_open(st_path(dir, "cut.safetensors"), &st), SSMRT_ERR_FORMAT,
                  mcut, "cut.safetensors");

    /* Paths that are not there. */
    const char *const mmiss[3] = {"no-such-file.safetensors", NULL, NULL};
    check_failure("missing file",
                  ssmrt_safetensors_open(st_path(dir, "no-such-file.safetensors"), &st),
                  SSMRT_ERR_NOT_FOUND, mmiss, "no-such-file");
    const char *const mdir[3] = {"neither model.safetensors", NULL, NULL};
    check_failure("directory without a model", ssmrt_safetensors_open(dir, &st),
                  SSMRT_ERR_NOT_FOUND, mdir, dir);
    check_failure("a device, not a regular file", ssmrt_safetensors_open("/dev/null", &st),
                  SSMRT_ERR_IO, none, "/dev/null");

    /* Bad arguments. */
    CHECK(ssmrt_safetensors_open(NULL, &st) == SSMRT_ERR_INVALID_ARGUMENT);
    CHECK(ssmrt_safetensors_open(dir, NULL) == SSMRT_ERR_INVALID_ARGUMENT);
    CHECK(ssmrt_safetensors_open_memory(NULL, 8, "x", &st) == SSMRT_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    const char *dir = st_make_tmpdir();
    int n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++)
        run_case(dir, &cases[i], i);
    run_special(dir);
    printf("%d crafted malformed files\n", n + 4);
    if (getenv("ST_TEST_KEEP")) /* keep the files (they seed the fuzz corpus) */
        printf("kept in %s\n", dir);
    else
        st_rmtree(dir);
    return st_test_finish("test_st_malformed");
}
