/*
 * Allocation failure walks: make the Nth host allocation fail, for every N an open
 * (single file, memory image, sharded checkpoint) or a write performs, and check that
 * each failure is SSMRT_ERR_OUT_OF_MEMORY with a message, leaves no handle and no
 * live bytes, and that a later retry succeeds.
 */
#include "ssmrt_testing.h"
#include "st_test.h"

typedef ssmrt_status (*op_fn)(void *arg);

/* Runs op with allocation n failing, for n = 1, 2, ... until op succeeds. Returns the
 * number of allocations the successful run made. */
static int walk(const char *what, op_fn op, void *arg, void (*cleanup)(void *arg))
{
    int64_t base = ssmrt_testing_live_bytes();
    for (int64_t n = 1; n < 100000; n++) {
        ssmrt_testing_fail_alloc(n, 0);
        ssmrt_status s = op(arg);
        ssmrt_testing_fail_alloc(0, 0);
        if (s == SSMRT_OK) {
            cleanup(arg);
            CHECK_MSG(ssmrt_testing_live_bytes() == base, "%s: leak after success", what);
            printf("%s: %lld allocations, each failure clean\n", what, (long long)(n - 1));
            return (int)(n - 1);
        }
        CHECK_MSG(s == SSMRT_ERR_OUT_OF_MEMORY, "%s: allocation %lld failing gave %s (%s)", what,
                  (long long)n, ssmrt_status_name(s), ssmrt_last_error());
        CHECK_MSG(ssmrt_last_error()[0] != '\0', "%s: no message", what);
        CHECK_MSG(ssmrt_testing_live_bytes() == base,
                  "%s: allocation %lld failing leaked %lld bytes", what, (long long)n,
                  (long long)(ssmrt_testing_live_bytes() - base));
    }
    CHECK_MSG(0, "%s never succeeded", what);
    return -1;
}

typedef struct open_arg {
    const char *path;
    const void *img;
    size_t size;
    ssmrt_safetensors *st;
} open_arg;

static ssmrt_status do_open(void *a)
{
    open_arg *o = a;
    o->st = (ssmrt_safetensors *)1;
    ssmrt_status s = o->img ? ssmrt_safetensors_open_memory(o->img, o->size, "img", &o->st)
                            : ssmrt_safetensors_open(o->path, &o->st);
    if (s != SSMRT_OK)
        CHECK_MSG(o->st == NULL, "handle set after a failure");
    return s;
}

static void close_open(void *a)
{
    open_arg *o = a;
    ssmrt_st_tensor t;
    CHECK(ssmrt_safetensors_count(o->st) > 0);
    CHECK_OK(ssmrt_safetensors_at(o->st, 0, &t));
    ssmrt_safetensors_close(o->st);
}

typedef struct write_arg {
    const char *path;
    const ssmrt_st_tensor *t;
    uint32_t n;
} write_arg;

static ssmrt_status do_write(void *a)
{
    write_arg *w = a;
    return ssmrt_safetensors_write(w->path, w->t, w->n);
}

static void no_cleanup(void *a)
{
    (void)a;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TESTS_DATA_DIR\n", argv[0]);
        return 2;
    }
    char model[4200];
    snprintf(model, sizeof model, "%s/jamba-moe-tiny/model.safetensors", argv[1]);
    const char *dir = st_make_tmpdir();

    open_arg o = {model, NULL, 0, NULL};
    CHECK(walk("open jamba-moe-tiny", do_open, &o, close_open) > 0);

    size_t size;
    unsigned char *img = st_read_file(model, &size);
    open_arg m = {NULL, img, size, NULL};
    CHECK(walk("open_memory jamba-moe-tiny", do_open, &m, close_open) > 0);
    free(img);

    /* Write: names that need escapes, and duplicates checked (both allocate). */
    static float a[4] = {1, 2, 3, 4};
    ssmrt_st_tensor t[3];
    memset(t, 0, sizeof t);
    const char *names[3] = {"x.a", "y\\b", "z"};
    for (int i = 0; i < 3; i++) {
        t[i].name = names[i];
        t[i].dtype = SSMRT_ST_F32;
        t[i].ndim = 1;
        t[i].shape[0] = 4;
        t[i].data = a;
        t[i].bytes = sizeof a;
    }
    write_arg w = {st_path(dir, "w.safetensors"), t, 3};
    CHECK(walk("write", do_write, &w, no_cleanup) > 0);

    /* A sharded checkpoint made of two copies of the written file's tensors. */
    t[0].name = "s1", t[1].name = "s2", t[2].name = "s3";
    CHECK_OK(ssmrt_safetensors_write(st_path(dir, "p2.safetensors"), t, 3));
    const char *index = "{\"weight_map\":{\"x.a\":\"w.safetensors\",\"y\\\\b\":\"w.safetensors\","
                        "\"z\":\"w.safetensors\",\"s1\":\"p2.safetensors\",\"s2\":"
                        "\"p2.safetensors\",\"s3\":\"p2.safetensors\"}}";
    st_write_bytes(st_path(dir, "model.safetensors.index.json"), index, strlen(index));
    open_arg s = {dir, NULL, 0, NULL};
    CHECK(walk("open sharded", do_open, &s, close_open) > 0);

    st_rmtree(dir);
    return st_test_finish("test_st_faults");
}
