/* Shared helpers of the reliability tests: checks that count failures, opening a
 * context on a named backend (or reporting why it cannot), and greedy generation
 * with a model that records everything needed to compare two runs bit for bit. */
#ifndef SSMRT_REL_TEST_H
#define SSMRT_REL_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssmrt.h"
#include "ssmrt_model.h"

#define REL_SKIP 77

static int rel_failures __attribute__((unused));

#define REL_CHECK(cond, ...)                                                   \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
            rel_failures++;                                                    \
        }                                                                      \
    } while (0)

/* A context on backend/device 0, or NULL with the reason printed. */
static inline ssmrt_context *rel_context(const char *backend)
{
    ssmrt_context_options o = {.struct_size = sizeof o, .backend = backend, .device = 0};
    ssmrt_context *ctx = NULL;
    ssmrt_status st = ssmrt_context_create(&o, &ctx);
    if (st) {
        printf("backend '%s' is not available: %s: %s\n", backend, ssmrt_status_name(st),
               ssmrt_last_error());
        return NULL;
    }
    return ctx;
}

#define REL_PROMPT 12
#define REL_GEN 12

/* What one generation produced: the tokens chosen and the logits of the last step. */
typedef struct rel_run {
    ssmrt_status status;
    char error[256];
    int32_t tokens[REL_PROMPT + REL_GEN];
    int64_t vocab;
    float *last_logits; /* [vocab], malloc'd */
} rel_run;

static inline int32_t rel_argmax(const float *x, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return (int32_t)best;
}

/* Loads dir on ctx, prefills a fixed prompt and decodes REL_GEN tokens greedily.
 * Everything it allocates is released before it returns. */
static inline void rel_generate(ssmrt_context *ctx, const char *dir, rel_run *r)
{
    memset(r, 0, sizeof *r);
    ssmrt_model *m = NULL;
    ssmrt_session *s = NULL;
    ssmrt_status st = ssmrt_model_load(ctx, dir, &m);
    if (!st)
        st = ssmrt_session_create(m, NULL, &s);
    if (!st) {
        r->vocab = ssmrt_model_get_info(m)->vocab_size;
        r->last_logits = malloc((size_t)r->vocab * sizeof(float));
        for (int i = 0; i < REL_PROMPT; i++)
            r->tokens[i] = (int32_t)((i * 37 + 5) % r->vocab);
        st = ssmrt_session_forward(s, r->tokens, REL_PROMPT, NULL, r->last_logits);
        for (int i = 0; !st && i < REL_GEN; i++) {
            r->tokens[REL_PROMPT + i] = rel_argmax(r->last_logits, r->vocab);
            st = ssmrt_session_forward(s, &r->tokens[REL_PROMPT + i], 1, NULL, r->last_logits);
        }
    }
    r->status = st;
    if (st)
        snprintf(r->error, sizeof r->error, "%s", ssmrt_last_error());
    ssmrt_session_destroy(s);
    ssmrt_model_destroy(m);
}

/* 1 if a and b are the same to the bit (same device, same inputs: the kernels are
 * deterministic, so any difference is interference between the threads). */
static inline int rel_same(const rel_run *a, const rel_run *b)
{
    return a->status == SSMRT_OK && b->status == SSMRT_OK && a->vocab == b->vocab &&
           !memcmp(a->tokens, b->tokens, sizeof a->tokens) &&
           !memcmp(a->last_logits, b->last_logits, (size_t)a->vocab * sizeof(float));
}

#endif
