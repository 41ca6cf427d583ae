/* Deterministic input generator of the conformance harness. Every case seeds its own
 * generator from (suite seed, op name, case index), so running one op alone
 * (--ops) sees the same inputs as a full run and a failure reproduces. */
#ifndef CONF_RNG_H
#define CONF_RNG_H

#include <stdint.h>

typedef struct conf_rng {
    uint64_t state;
} conf_rng;

void conf_rng_seed(conf_rng *r, uint64_t seed, const char *salt, uint64_t index);
uint64_t conf_rng_u64(conf_rng *r);
/* Uniform in [lo, hi). */
double conf_rng_uniform(conf_rng *r, double lo, double hi);
/* Standard normal. */
double conf_rng_normal(conf_rng *r);
/* Uniform integer in [lo, hi]. */
int64_t conf_rng_int(conf_rng *r, int64_t lo, int64_t hi);

void conf_rng_fill_uniform(conf_rng *r, float *x, int64_t n, double lo, double hi);
void conf_rng_fill_normal(conf_rng *r, float *x, int64_t n, double mean, double sd);

#endif
