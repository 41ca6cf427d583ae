/*
 * libFuzzer target: sharded checkpoint indexes (model.safetensors.index.json).
 *
 * At start-up a scratch directory gets three valid shards (shard-a holds a.w and a.b,
 * shard-b holds b.w, shard-c holds a.w again so indexes can collide names across
 * shards). Each input is written as the directory's index and the directory opened.
 * An index that opens must list exactly the tensors it maps, each found by name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssmrt_safetensors.h"

static char dir[4096];
static char index_path[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_st_index: property violated: %s\n", what);
        abort();
    }
}

static void write_shard(const char *name, const char *const *names, uint32_t n)
{
    static const float v[4] = {1, 2, 3, 4};
    ssmrt_st_tensor t[4];
    memset(t, 0, sizeof t);
    for (uint32_t i = 0; i < n; i++) {
        t[i].name = names[i];
        t[i].dtype = SSMRT_ST_F32;
        t[i].ndim = 1;
        t[i].shape[0] = 1 + i;
        t[i].data = v;
        t[i].bytes = 4 * (1 + i);
    }
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (ssmrt_safetensors_write(path, t, n) != SSMRT_OK) {
        fprintf(stderr, "fuzz_st_index: cannot write %s: %s\n", path, ssmrt_last_error());
        exit(1);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *tmp = getenv("SSMRT_FUZZ_TMP");
    if (!tmp || !*tmp)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/ssmrt-fuzz-index-%ld", tmp, (long)getpid());
    mkdir(dir, 0700);
    static const char *const a[2] = {"a.w", "a.b"};
    static const char *const b[1] = {"b.w"};
    static const char *const c[1] = {"a.w"};
    write_shard("shard-a.safetensors", a, 2);
    write_shard("shard-b.safetensors", b, 1);
    write_shard("shard-c.safetensors", c, 1);
    snprintf(index_path, sizeof index_path, "%s/model.safetensors.index.json", dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(index_path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort(); /* the harness itself failed, not the code under test */
    ssmrt_safetensors *st = NULL;
    ssmrt_status s = ssmrt_safetensors_open(dir, &st);
    if (s != SSMRT_OK) {
        must(st == NULL, "no handle after a failure");
        must(ssmrt_last_error()[0] != '\0', "a failure has a message");
        return 0;
    }
    uint32_t n = ssmrt_safetensors_count(st);
    must(n <= 3, "at most the three distinct tensors of the shards");
    for (uint32_t i = 0; i < n; i++) {
        ssmrt_st_tensor t, g;
        must(ssmrt_safetensors_at(st, i, &t) == SSMRT_OK, "at() within count");
        must(ssmrt_safetensors_find(st, t.name, &g) == SSMRT_OK && g.data == t.data,
             "find() agrees with at()");
        must(t.bytes == 4 * (uint64_t)t.shape[0], "sizes from the shard");
    }
    ssmrt_safetensors_close(st);
    return 0;
}
