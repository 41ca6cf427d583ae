/* SplitMix64 (Steele, Lea, Flood 2014): a tiny generator with a 64-bit state whose
 * output passes BigCrush; plenty for test inputs and trivially reproducible. */
#include "conf_rng.h"

#include <math.h>

static uint64_t conf_rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void conf_rng_seed(conf_rng *r, uint64_t seed, const char *salt, uint64_t index)
{
    /* FNV-1a over the salt, then mixed with the seed and the index. */
    uint64_t h = 0xCBF29CE484222325ull;
    for (const char *p = salt; p && *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001B3ull;
    r->state = conf_rng_mix(seed ^ conf_rng_mix(h + index * 0x9E3779B97F4A7C15ull));
}

uint64_t conf_rng_u64(conf_rng *r)
{
    r->state += 0x9E3779B97F4A7C15ull;
    return conf_rng_mix(r->state);
}

double conf_rng_uniform(conf_rng *r, double lo, double hi)
{
    double u = (double)(conf_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return lo + (hi - lo) * u;
}

double conf_rng_normal(conf_rng *r)
{
    /* Box-Muller; u1 in (0, 1] keeps the log finite. */
    double u1 = 1.0 - conf_rng_uniform(r, 0.0, 1.0);
    double u2 = conf_rng_uniform(r, 0.0, 1.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int64_t conf_rng_int(conf_rng *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1u;
    return lo + (int64_t)(conf_rng_u64(r) % span);
}

void conf_rng_fill_uniform(conf_rng *r, float *x, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)conf_rng_uniform(r, lo, hi);
}

void conf_rng_fill_normal(conf_rng *r, float *x, int64_t n, double mean, double sd)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(mean + sd * conf_rng_normal(r));
}
