/* Concurrency (issue 8): the thread-safety statement of ssmrt.h, checked.
 *
 *   test_concurrency DATA_DIR BACKEND
 *
 * 1. Plugin discovery from two threads at once (the first calls in the process):
 *    both see the same plugins.
 * 2. Single-threaded reference runs of mamba1-tiny and jamba-tiny on "cpu" and on
 *    BACKEND (greedy generation: prompt, then decode steps).
 * 3. Rounds of two threads at once, each creating its own context (cpu and BACKEND)
 *    and generating with one of the models: each result must equal its reference to
 *    the bit. BACKEND = cpu gives two CPU contexts at once; vulkan/opencl give two
 *    backends at once. A BACKEND that cannot start exits 77 (CTest: skipped), so the
 *    two-backend case is never reported as passed when it did not run. */
#include <pthread.h>

#include "rel_test.h"

#define ROUNDS 4

static pthread_barrier_t barrier;

typedef struct discover_job {
    uint32_t count;
    char names[256];
} discover_job;

static void *discover_thread(void *arg)
{
    discover_job *j = arg;
    pthread_barrier_wait(&barrier);
    j->count = ssmrt_plugin_count();
    j->names[0] = '\0';
    for (uint32_t i = 0; i < j->count; i++) {
        ssmrt_plugin_info info;
        if (ssmrt_plugin_get(i, &info) == SSMRT_OK) {
            size_t len = strlen(j->names);
            snprintf(j->names + len, sizeof j->names - len, "%s%s:%d ", info.name,
                     info.loaded ? "" : "(not loaded)", (int)info.device_count);
        }
    }
    return NULL;
}

typedef struct gen_job {
    const char *backend;
    const char *dir;
    rel_run run;
    int no_context;
} gen_job;

static void *gen_thread(void *arg)
{
    gen_job *j = arg;
    pthread_barrier_wait(&barrier);
    ssmrt_context *ctx = rel_context(j->backend);
    if (!ctx) {
        j->no_context = 1;
        return NULL;
    }
    rel_generate(ctx, j->dir, &j->run);
    ssmrt_context_destroy(ctx);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s DATA_DIR BACKEND\n", argv[0]);
        return 2;
    }
    const char *second = argv[2];
    char dirs[2][1024];
    snprintf(dirs[0], sizeof dirs[0], "%s/mamba1-tiny", argv[1]);
    snprintf(dirs[1], sizeof dirs[1], "%s/jamba-tiny", argv[1]);

    /* 1. Discovery from two threads at once. */
    pthread_barrier_init(&barrier, NULL, 2);
    discover_job d[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, discover_thread, &d[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    printf("plugins seen by thread 0: %s\nplugins seen by thread 1: %s\n", d[0].names, d[1].names);
    REL_CHECK(d[0].count > 0 && d[0].count == d[1].count && !strcmp(d[0].names, d[1].names),
              "concurrent plugin discovery disagrees");

    /* 2. References, one thread. ref[b][m]: backend b (0 cpu, 1 second), model m. */
    const char *backends[2] = {"cpu", second};
    rel_run ref[2][2];
    for (int b = 0; b < 2; b++) {
        ssmrt_context *ctx = rel_context(backends[b]);
        if (!ctx) {
            printf("SKIP: the cpu + %s case did not run (%s has no device here)\n", second,
                   second);
            return REL_SKIP;
        }
        const ssmrt_device_info *di = ssmrt_context_device(ctx);
        printf("device %d: %s: %s\n", b, di->backend, di->name);
        for (int m = 0; m < 2; m++) {
            rel_generate(ctx, dirs[m], &ref[b][m]);
            if (ref[b][m].status) {
                fprintf(stderr, "FAIL: reference run %s on %s: %s: %s\n", dirs[m], backends[b],
                        ssmrt_status_name(ref[b][m].status), ref[b][m].error);
                return 1;
            }
        }
        ssmrt_context_destroy(ctx);
    }

    /* 3. Two threads at once; the models alternate so each backend runs each model
     * while the other thread runs the other one. */
    for (int r = 0; r < ROUNDS; r++) {
        gen_job jobs[2];
        for (int t = 0; t < 2; t++) {
            memset(&jobs[t], 0, sizeof jobs[t]);
            jobs[t].backend = backends[t];
            jobs[t].dir = dirs[(r + t) % 2];
            pthread_create(&th[t], NULL, gen_thread, &jobs[t]);
        }
        for (int t = 0; t < 2; t++)
            pthread_join(th[t], NULL);
        for (int t = 0; t < 2; t++) {
            const rel_run *want = &ref[t][(r + t) % 2];
            REL_CHECK(!jobs[t].no_context, "round %d: thread %d could not open %s", r, t,
                      backends[t]);
            REL_CHECK(jobs[t].run.status == SSMRT_OK, "round %d: %s on %s: %s: %s", r,
                      jobs[t].dir, backends[t], ssmrt_status_name(jobs[t].run.status),
                      jobs[t].run.error);
            REL_CHECK(rel_same(&jobs[t].run, want),
                      "round %d: %s on %s differs from the single-threaded run", r, jobs[t].dir,
                      backends[t]);
            free(jobs[t].run.last_logits);
        }
    }
    for (int b = 0; b < 2; b++)
        for (int m = 0; m < 2; m++)
            free(ref[b][m].last_logits);
    pthread_barrier_destroy(&barrier);

    if (rel_failures) {
        printf("%d failure(s)\n", rel_failures);
        return 1;
    }
    printf("PASS: cpu + %s: %d rounds of two threads (mamba1-tiny and jamba-tiny at once), "
           "results equal to single-threaded runs to the bit\n",
           second, ROUNDS);
    return 0;
}
