/* Leak check body (issue 8), run under valgrind by run_valgrind.sh: model load,
 * generation and teardown on the CPU backend, for a pure Mamba model and for a
 * Jamba hybrid (attention KV cache, mixture of experts), twice each so that caches
 * built on first use are exercised on reuse too. Besides valgrind's verdict, checks
 * that libssmrt's own host allocator is back to the bytes it held before.
 *
 *   test_leak DATA_DIR */
#include "rel_test.h"
#include "ssmrt_testing.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    /* Plugin discovery allocates once for the life of the process: do it first. */
    if (ssmrt_plugin_count() == 0) {
        fprintf(stderr, "FAIL: no plugin found\n");
        return 1;
    }
    const int64_t live_before = ssmrt_testing_live_bytes();
    const char *models[] = {"mamba1-tiny", "jamba-tiny"};
    for (int round = 0; round < 2; round++) {
        ssmrt_context *ctx = rel_context("cpu");
        if (!ctx)
            return 1;
        for (int i = 0; i < 2; i++) {
            char dir[1024];
            snprintf(dir, sizeof dir, "%s/%s", argv[1], models[i]);
            rel_run r;
            rel_generate(ctx, dir, &r);
            REL_CHECK(r.status == SSMRT_OK, "%s: %s: %s", models[i], ssmrt_status_name(r.status),
                      r.error);
            free(r.last_logits);
        }
        uint64_t cur = 0, peak = 0;
        ssmrt_context_memory(ctx, &cur, &peak);
        REL_CHECK(cur == 0, "device memory still held after teardown: %llu bytes",
                  (unsigned long long)cur);
        ssmrt_context_destroy(ctx);
    }
    const int64_t live_after = ssmrt_testing_live_bytes();
    REL_CHECK(live_after == live_before, "libssmrt host bytes %lld after teardown, %lld before",
              (long long)live_after, (long long)live_before);
    if (rel_failures)
        return 1;
    printf("PASS: load + generate + teardown of mamba1-tiny and jamba-tiny, twice; host bytes "
           "back to %lld\n", (long long)live_before);
    return 0;
}
