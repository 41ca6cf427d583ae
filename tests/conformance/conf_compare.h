/* The error metric of the conformance harness.
 *
 *   err = max_i |got_i - want_i| / max(|want_i|, scale),   scale = rms(want)
 *
 * Large elements are held to a relative error; elements much smaller than the
 * typical magnitude of the output (cancellation in a sum, the tail of a softmax,
 * softplus of a very negative input) are held to an error relative to that typical
 * magnitude, which is what floating-point arithmetic can promise for them. An
 * output that is all zeros uses scale = FLT_MIN, so it must match exactly. A
 * non-finite got where want is finite (or the reverse) is an infinite error. */
#ifndef CONF_COMPARE_H
#define CONF_COMPARE_H

#include <stdint.h>

typedef struct conf_diff {
    double err;         /* the metric above */
    double scale;       /* rms(want) */
    int64_t worst;      /* index of the worst element, -1 if none */
    double got, want;   /* values at worst */
    int64_t nonfinite;  /* elements where exactly one side is NaN/Inf */
} conf_diff;

void conf_compare(const double *got, const double *want, int64_t n, conf_diff *d);

#endif
