/* Token sampling for `ssmrt run`: greedy, or temperature with top-k and top-p
 * (nucleus) filtering, from a seeded generator so runs are reproducible. */
#ifndef SSMRT_TOOL_SAMPLE_H
#define SSMRT_TOOL_SAMPLE_H

#include <stdint.h>

typedef struct tool_sampler {
    double temperature; /* 0: greedy (argmax, ties to the lower id) */
    int64_t top_k;      /* 0: no limit */
    double top_p;       /* 1: no limit */
    uint64_t rng;       /* splitmix64 state */
    /* scratch of vocab entries */
    int64_t vocab;
    int32_t *order;
    double *prob;
} tool_sampler;

/* Returns 0, or -1 when out of memory. */
int tool_sampler_init(tool_sampler *s, int64_t vocab, double temperature, int64_t top_k,
                      double top_p, uint64_t seed);
void tool_sampler_free(tool_sampler *s);
/* The next token for logits [vocab]. */
int32_t tool_sampler_next(tool_sampler *s, const float *logits);

#endif
