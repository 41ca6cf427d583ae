/* Greedy and temperature / top-k / top-p sampling. */
#include "tool_sample.h"

#include <math.h>
#include <stdlib.h>

int tool_sampler_init(tool_sampler *s, int64_t vocab, double temperature, int64_t top_k,
                      double top_p, uint64_t seed)
{
    s->temperature = temperature;
    s->top_k = top_k;
    s->top_p = top_p;
    s->rng = seed;
    s->vocab = vocab;
    s->order = malloc((size_t)vocab * sizeof *s->order);
    s->prob = malloc((size_t)vocab * sizeof *s->prob);
    return s->order && s->prob ? 0 : -1;
}

void tool_sampler_free(tool_sampler *s)
{
    free(s->order);
    free(s->prob);
    s->order = NULL;
    s->prob = NULL;
}

/* splitmix64: a uniform double in [0, 1). */
static double sample_uniform(tool_sampler *s)
{
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static const double *sample_sort_prob;

/* Descending probability, then ascending id, so the order is total and portable. */
static int sample_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    double px = sample_sort_prob[x], py = sample_sort_prob[y];
    if (px != py)
        return px > py ? -1 : 1;
    return x < y ? -1 : x > y;
}

int32_t tool_sampler_next(tool_sampler *s, const float *logits)
{
    const int64_t V = s->vocab;
    if (s->temperature <= 0) {
        int64_t best = 0;
        for (int64_t i = 1; i < V; i++)
            if (logits[i] > logits[best])
                best = i;
        return (int32_t)best;
    }
    double mx = -INFINITY;
    for (int64_t i = 0; i < V; i++)
        if (logits[i] > mx)
            mx = logits[i];
    double sum = 0;
    for (int64_t i = 0; i < V; i++) {
        s->prob[i] = exp((logits[i] - mx) / s->temperature);
        sum += s->prob[i];
        s->order[i] = (int32_t)i;
    }
    for (int64_t i = 0; i < V; i++)
        s->prob[i] /= sum;
    sample_sort_prob = s->prob;
    qsort(s->order, (size_t)V, sizeof *s->order, sample_cmp);

    /* Keep the k most likely, then the smallest prefix whose mass reaches top_p. */
    int64_t keep = s->top_k > 0 && s->top_k < V ? s->top_k : V;
    double mass = 0;
    for (int64_t i = 0; i < keep; i++) {
        mass += s->prob[s->order[i]];
        if (mass >= s->top_p) {
            keep = i + 1;
            break;
        }
    }
    double kept = 0;
    for (int64_t i = 0; i < keep; i++)
        kept += s->prob[s->order[i]];
    double r = sample_uniform(s) * kept;
    for (int64_t i = 0; i < keep; i++) {
        r -= s->prob[s->order[i]];
        if (r < 0)
            return s->order[i];
    }
    return s->order[keep - 1];
}
