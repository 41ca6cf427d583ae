#include "conf_compare.h"

#include <float.h>
#include <math.h>

void conf_compare(const double *got, const double *want, int64_t n, conf_diff *d)
{
    double ss = 0.0;
    int64_t finite = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isfinite(want[i])) {
            ss += want[i] * want[i];
            finite++;
        }
    }
    d->scale = finite ? sqrt(ss / (double)finite) : 0.0;
    if (!(d->scale > FLT_MIN))
        d->scale = FLT_MIN;
    d->err = 0.0;
    d->worst = -1;
    d->got = d->want = 0.0;
    d->nonfinite = 0;
    for (int64_t i = 0; i < n; i++) {
        double e;
        int fg = isfinite(got[i]), fw = isfinite(want[i]);
        if (fg && fw) {
            double den = fabs(want[i]) > d->scale ? fabs(want[i]) : d->scale;
            e = fabs(got[i] - want[i]) / den;
        } else if ((isnan(got[i]) && isnan(want[i])) ||
                   (isinf(got[i]) && got[i] == want[i])) {
            e = 0.0; /* the same non-finite value on both sides */
        } else {
            e = INFINITY;
            d->nonfinite++;
        }
        if (d->worst < 0 || e > d->err) {
            d->err = e;
            d->worst = i;
            d->got = got[i];
            d->want = want[i];
        }
    }
}
