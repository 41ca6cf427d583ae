/*
 * libFuzzer target: the safetensors reader on arbitrary bytes.
 *
 * The input is opened from memory (zero copy, so AddressSanitizer sees any read past
 * the input buffer). When it opens, every tensor is read end to end, looked up by
 * name (which must give the same view), and the whole set is written back with
 * ssmrt_safetensors_write and reopened, which must succeed with identical tensors: a
 * file the reader accepts is one the writer can reproduce.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssmrt_safetensors.h"

static char out_path[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* tmpfs where there is one: the writer fsyncs, which is free there. */
    const char *tmp = getenv("SSMRT_FUZZ_TMP");
    if (!tmp || !*tmp)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(out_path, sizeof out_path, "%s/ssmrt-fuzz-st-%ld.safetensors", tmp,
             (long)getpid());
    return 0;
}

static void must(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_safetensors: property violated: %s\n", what);
        abort();
    }
}

/* Reads every byte so an out-of-bounds view is caught here, not in a model later. */
static uint8_t touch(const void *p, uint64_t n)
{
    const volatile uint8_t *b = p;
    uint8_t x = 0;
    for (uint64_t i = 0; i < n; i++)
        x ^= b[i];
    return x;
}

static void roundtrip(const ssmrt_safetensors *st, uint32_t n)
{
    ssmrt_st_tensor *ts = calloc(n ? n : 1, sizeof *ts);
    for (uint32_t i = 0; i < n; i++)
        must(ssmrt_safetensors_at(st, i, &ts[i]) == SSMRT_OK, "at() within count");
    ssmrt_status s = ssmrt_safetensors_write(out_path, ts, n);
    must(s == SSMRT_OK, "an accepted file can be written back");
    ssmrt_safetensors *back = NULL;
    must(ssmrt_safetensors_open(out_path, &back) == SSMRT_OK, "the written file reopens");
    must(ssmrt_safetensors_count(back) == n, "same tensor count after a round trip");
    for (uint32_t i = 0; i < n; i++) {
        ssmrt_st_tensor r;
        must(ssmrt_safetensors_find(back, ts[i].name, &r) == SSMRT_OK, "name survives");
        must(r.dtype == ts[i].dtype && r.ndim == ts[i].ndim && r.bytes == ts[i].bytes,
             "dtype, rank and size survive");
        must(memcmp(r.shape, ts[i].shape, sizeof(int64_t) * (size_t)r.ndim) == 0,
             "shape survives");
        must(r.bytes == 0 || memcmp(r.data, ts[i].data, r.bytes) == 0, "data survives");
    }
    ssmrt_safetensors_close(back);
    unlink(out_path);
    free(ts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ssmrt_safetensors *st = NULL;
    ssmrt_status s = ssmrt_safetensors_open_memory(data, size, "fuzz", &st);
    if (s != SSMRT_OK) {
        must(st == NULL, "no handle after a failure");
        must(ssmrt_last_error()[0] != '\0', "a failure has a message");
        return 0;
    }
    uint32_t n = ssmrt_safetensors_count(st);
    uint8_t x = 0;
    for (uint32_t i = 0; i < n; i++) {
        ssmrt_st_tensor t, f;
        must(ssmrt_safetensors_at(st, i, &t) == SSMRT_OK, "at() within count");
        must((const uint8_t *)t.data >= data && t.bytes <= size &&
                 (const uint8_t *)t.data - data <= (ptrdiff_t)(size - t.bytes),
             "tensor inside the input");
        must(t.ndim >= 0 && t.ndim <= 8, "rank in range");
        uint64_t elems = 1;
        for (int d = 0; d < t.ndim; d++) {
            must(t.shape[d] >= 0, "non-negative dims");
            elems *= (uint64_t)t.shape[d];
        }
        must(elems * ssmrt_st_dtype_size(t.dtype) == t.bytes, "size = shape x dtype");
        x ^= touch(t.data, t.bytes);
        must(ssmrt_safetensors_find(st, t.name, &f) == SSMRT_OK && f.data == t.data,
             "find() agrees with at()");
    }
    (void)x;
    roundtrip(st, n);
    ssmrt_safetensors_close(st);
    return 0;
}
