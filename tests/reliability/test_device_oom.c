/* Device out-of-memory (issue 8): asking a backend for an absurd tensor fails with
 * SSMRT_ERR_OUT_OF_MEMORY and a message, and the context keeps working.
 *
 *   test_device_oom BACKEND      (exits 77 when BACKEND has no device here)
 *
 * Sizes tried: 2^40 bytes (1 TiB: more than any device or host here, but a size a
 * driver may really attempt) and 2^50 bytes (beyond any address space). After each
 * failure a small graph (a + b) must still compute the right values, and the
 * context's current memory must be back where it was. */
#include "rel_test.h"

static int rel_small_graph_works(ssmrt_context *ctx)
{
    int64_t shape[1] = {64};
    float a[64], b[64], y[64];
    for (int i = 0; i < 64; i++) {
        a[i] = (float)i;
        b[i] = 0.5f * (float)i;
    }
    ssmrt_tensor *ta = NULL, *tb = NULL;
    ssmrt_graph *g = NULL;
    int ok = !ssmrt_tensor_create(ctx, SSMRT_F32, 1, shape, &ta) &&
             !ssmrt_tensor_create(ctx, SSMRT_F32, 1, shape, &tb) &&
             !ssmrt_tensor_upload_f32(ta, a, 64) && !ssmrt_tensor_upload_f32(tb, b, 64) &&
             !ssmrt_graph_create(ctx, &g);
    ssmrt_tensor *sum = ok ? ssmrt_graph_output(g, ssmrt_graph_add(g, ta, tb)) : NULL;
    ok = ok && sum && !ssmrt_graph_compute(g) && !ssmrt_graph_read_f32(g, sum, y, 64);
    /* i + i/2 is exact in f32 for these small integers and halves. */
    for (int i = 0; ok && i < 64; i++)
        ok = y[i] == 1.5f * (float)i;
    if (!ok)
        fprintf(stderr, "small graph failed: %s\n", ssmrt_last_error());
    ssmrt_graph_destroy(g);
    ssmrt_tensor_destroy(ta);
    ssmrt_tensor_destroy(tb);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s BACKEND\n", argv[0]);
        return 2;
    }
    ssmrt_context *ctx = rel_context(argv[1]);
    if (!ctx) {
        printf("SKIP: no %s device here\n", argv[1]);
        return REL_SKIP;
    }
    const ssmrt_device_info *d = ssmrt_context_device(ctx);
    printf("device: %s: %s (%llu bytes)\n", d->backend, d->name,
           (unsigned long long)d->memory_bytes);
    REL_CHECK(rel_small_graph_works(ctx), "the context does not work before the test");
    uint64_t before = 0, peak = 0;
    ssmrt_context_memory(ctx, &before, &peak);

    /* [2^k / 4 / 2^20, 2^20] f32 = 2^k bytes. */
    const int log2_bytes[] = {40, 50};
    for (int i = 0; i < 2; i++) {
        int64_t shape[2] = {(int64_t)1 << (log2_bytes[i] - 2 - 20), (int64_t)1 << 20};
        ssmrt_tensor *t = NULL;
        ssmrt_status st = ssmrt_tensor_create(ctx, SSMRT_F32, 2, shape, &t);
        const char *msg = ssmrt_last_error();
        printf("2^%d bytes: %s: %s\n", log2_bytes[i], ssmrt_status_name(st), msg);
        REL_CHECK(st == SSMRT_ERR_OUT_OF_MEMORY, "2^%d bytes: expected OUT_OF_MEMORY, got %s",
                  log2_bytes[i], ssmrt_status_name(st));
        REL_CHECK(t == NULL, "2^%d bytes: a tensor was returned on failure", log2_bytes[i]);
        REL_CHECK(strlen(msg) > 10, "2^%d bytes: no message", log2_bytes[i]);
        if (st == SSMRT_OK)
            ssmrt_tensor_destroy(t);
        uint64_t now = 0;
        ssmrt_context_memory(ctx, &now, &peak);
        REL_CHECK(now == before, "2^%d bytes: context memory %llu after the failure, was %llu",
                  log2_bytes[i], (unsigned long long)now, (unsigned long long)before);
        REL_CHECK(rel_small_graph_works(ctx), "2^%d bytes: the context no longer works",
                  log2_bytes[i]);
    }
    ssmrt_context_destroy(ctx);
    if (rel_failures) {
        printf("%d failure(s)\n", rel_failures);
        return 1;
    }
    printf("PASS: %s: absurd allocations fail with OUT_OF_MEMORY and a message; the context "
           "still computes\n", argv[1]);
    return 0;
}
