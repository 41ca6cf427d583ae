/* Numerical stability (issue 8): a long decode on one session stays finite.
 *
 *   test_long_decode MODEL_DIR|--tiny STEPS [BACKEND]
 *
 * --tiny writes the random-weight model of rel_tiny_model.h to a temporary folder
 * (a million steps of a real fixture cost minutes more per step than the check
 * needs: what matters is the recurrence run a million times, not the width).
 * Feeds STEPS single-token decode calls (tokens from a fixed pseudo-random sequence,
 * so the state sees varied input rather than a greedy loop) and checks after every
 * step that all logits are finite, that the position advanced by one, and that the
 * session's state bytes never change (the recurrent state has a fixed size whatever
 * the position). Prints the time per step. */
#include <time.h>
#include <unistd.h>

#include "rel_test.h"
#include "rel_tiny_model.h"

static double rel_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL_DIR STEPS [BACKEND]\n", argv[0]);
        return 2;
    }
    long long steps = atoll(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress lines show up in CTest logs as they come */
    ssmrt_context *ctx = rel_context(argc > 3 ? argv[3] : "cpu");
    if (!ctx)
        return REL_SKIP;
    const char *dir = argv[1];
    char tmp[64] = "";
    if (!strcmp(dir, "--tiny")) {
        snprintf(tmp, sizeof tmp, "/tmp/ssmrt-tiny-XXXXXX");
        if (!mkdtemp(tmp) || rel_tiny_model_write(tmp)) {
            fprintf(stderr, "FAIL: cannot write the tiny model\n");
            return 1;
        }
        dir = tmp;
    }
    ssmrt_model *m = NULL;
    ssmrt_session *s = NULL;
    ssmrt_status lst = ssmrt_model_load(ctx, dir, &m);
    if (!lst)
        lst = ssmrt_session_create(m, NULL, &s);
    if (tmp[0]) { /* loaded (weights are on the device) or failed: the files can go */
        char p[128];
        snprintf(p, sizeof p, "%s/config.json", tmp);
        unlink(p);
        snprintf(p, sizeof p, "%s/model.safetensors", tmp);
        unlink(p);
        rmdir(tmp);
    }
    if (lst) {
        fprintf(stderr, "FAIL: cannot load %s: %s\n", argv[1], ssmrt_last_error());
        return 1;
    }
    const int64_t vocab = ssmrt_model_get_info(m)->vocab_size;
    const uint64_t state_bytes = ssmrt_session_state_bytes(s);
    float *logits = malloc((size_t)vocab * sizeof(float));
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    double t0 = rel_now(), max_abs = 0;
    long long step = 0;
    for (; step < steps; step++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        int32_t tok = (int32_t)((rng >> 33) % (uint64_t)vocab);
        ssmrt_status st = ssmrt_session_forward(s, &tok, 1, NULL, logits);
        if (st) {
            fprintf(stderr, "FAIL: step %lld: %s: %s\n", step, ssmrt_status_name(st),
                    ssmrt_last_error());
            return 1;
        }
        for (int64_t i = 0; i < vocab; i++) {
            if (!isfinite(logits[i])) {
                fprintf(stderr, "FAIL: step %lld: logit %lld is %g\n", step, (long long)i,
                        (double)logits[i]);
                return 1;
            }
            if (fabs(logits[i]) > max_abs)
                max_abs = fabs(logits[i]);
        }
        if (ssmrt_session_position(s) != step + 1 || ssmrt_session_state_bytes(s) != state_bytes) {
            fprintf(stderr, "FAIL: step %lld: position %lld, state bytes %llu (were %llu)\n", step,
                    (long long)ssmrt_session_position(s),
                    (unsigned long long)ssmrt_session_state_bytes(s),
                    (unsigned long long)state_bytes);
            return 1;
        }
        if ((step + 1) % 100000 == 0)
            printf("  %lld steps, %.1f s, max |logit| so far %.3g\n", step + 1, rel_now() - t0,
                   max_abs);
    }
    double dt = rel_now() - t0;
    printf("PASS: %lld decode steps of %s: logits finite (max |logit| %.3g), state %llu bytes "
           "throughout; %.1f s, %.2f us/step\n",
           steps, argv[1], max_abs, (unsigned long long)state_bytes, dt, 1e6 * dt / (double)steps);
    free(logits);
    ssmrt_session_destroy(s);
    ssmrt_model_destroy(m);
    ssmrt_context_destroy(ctx);
    return 0;
}
