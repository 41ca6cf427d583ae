/* Timing with warm-up and repetitions, medians, and log-log fits.
 *
 * Why the median: a shared machine (other processes, frequency changes, a GPU
 * driver's first-submit costs) gives a few slow outliers; the median ignores them
 * where a mean would not. The repetition count adapts to the case: fast cases run
 * until min_seconds of timed work (so timer resolution and noise average out), slow
 * ones stop early rather than take minutes. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

double bench_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void bench_timing_from_common(const bench_common *c, bench_timing *t)
{
    t->warmup = c->quick ? 1 : 2;
    t->warmup_seconds = c->quick ? 0.0 : 0.2;
    t->min_reps = c->quick ? 2 : 5;
    t->max_reps = c->quick ? 2 : 50;
    t->min_seconds = c->quick ? 0.0 : 0.5;
    t->max_seconds = c->quick ? 5.0 : 20.0;
    if (c->warmup >= 0)
        t->warmup = c->warmup;
    if (c->warmup_seconds >= 0)
        t->warmup_seconds = c->warmup_seconds;
    if (c->reps > 0)
        t->min_reps = t->max_reps = c->reps;
    if (c->min_seconds >= 0)
        t->min_seconds = c->min_seconds;
}

static int timing_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    if (n <= 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, timing_cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* One timed run: the wall clock around fn, and the device clock when fn has one. */
typedef struct timing_call {
    bench_run_fn plain;
    bench_device_run_fn device;
    void *arg;
} timing_call;

static ssmrt_status timing_once(const timing_call *c, double *wall_ms, double *device_ms)
{
    *device_ms = NAN;
    double t0 = bench_now_seconds();
    ssmrt_status st = c->device ? c->device(c->arg, device_ms) : c->plain(c->arg);
    *wall_ms = (bench_now_seconds() - t0) * 1e3;
    return st;
}

static void timing_summary(double *ms, int n, double *median, double *lo, double *hi)
{
    *lo = *hi = ms[0];
    for (int i = 1; i < n; i++) {
        *lo = ms[i] < *lo ? ms[i] : *lo;
        *hi = ms[i] > *hi ? ms[i] : *hi;
    }
    *median = bench_median(ms, n);
}

static ssmrt_status timing_run(const bench_timing *t, bench_run_fn setup, const timing_call *c,
                               bench_stats *out)
{
    out->median_ms = out->min_ms = out->max_ms = out->wall_ms = NAN;
    out->device_clock = 0;
    out->reps = 0;
    /* Warm up by count and by time: on an H100 the Vulkan driver lets the SM clock
     * fall from 1980 to ~600 MHz while the host prepares a case, and brings it back
     * only after ~0.2 s of work; timed from a cold clock, a sweep's Mamba-1 scan
     * read 0.37 ms where it takes 0.125. */
    double first = 0.0, dev = NAN, warm_start = bench_now_seconds();
    for (int i = 0; i < t->warmup || (t->warmup > 0 && bench_now_seconds() - warm_start < t->warmup_seconds);
         i++) {
        ssmrt_status st = setup ? setup(c->arg) : SSMRT_OK;
        if (!st)
            st = timing_once(c, &first, &dev);
        if (st)
            return st;
        first *= 1e-3;
    }
    int cap = t->max_reps > 0 ? t->max_reps : 1;
    /* A case slower than max_seconds per run gets fewer timed runs (a fixed count, so
     * the plan is decided before the timed runs start). */
    if (first > 0 && first * t->min_reps > t->max_seconds) {
        int fit = (int)(t->max_seconds / first);
        cap = fit < 1 ? 1 : fit;
    }
    double *wall = malloc((size_t)cap * 2 * sizeof *wall);
    if (!wall)
        return SSMRT_ERR_OUT_OF_MEMORY;
    double *device = wall + cap;
    double timed = 0.0;
    int n = 0, device_ok = c->device != NULL;
    while (n < cap) {
        ssmrt_status st = setup ? setup(c->arg) : SSMRT_OK;
        if (!st)
            st = timing_once(c, &wall[n], &device[n]);
        if (st) {
            free(wall);
            return st;
        }
        device_ok = device_ok && isfinite(device[n]) && device[n] >= 0.0;
        timed += wall[n++] * 1e-3;
        if (n >= t->min_reps && timed >= t->min_seconds)
            break;
    }
    double lo, hi, med;
    timing_summary(wall, n, &med, &lo, &hi);
    out->wall_ms = med;
    if (device_ok)
        timing_summary(device, n, &med, &lo, &hi);
    out->median_ms = med;
    out->min_ms = lo;
    out->max_ms = hi;
    out->device_clock = device_ok;
    out->reps = n;
    free(wall);
    return SSMRT_OK;
}

ssmrt_status bench_time(const bench_timing *t, bench_run_fn setup, bench_run_fn fn, void *arg,
                        bench_stats *out)
{
    timing_call c = {.plain = fn, .arg = arg};
    return timing_run(t, setup, &c, out);
}

ssmrt_status bench_time_device(const bench_timing *t, bench_device_run_fn fn, void *arg,
                               bench_stats *out)
{
    timing_call c = {.device = fn, .arg = arg};
    return timing_run(t, NULL, &c, out);
}

double bench_loglog_slope(const double *x, const double *y, int n)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!(x[i] > 0) || !(y[i] > 0))
            continue;
        double lx = log(x[i]), ly = log(y[i]);
        sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
        m++;
    }
    double den = m * sxx - sx * sx;
    if (m < 2 || !(fabs(den) > 1e-12))
        return NAN;
    return (m * sxy - sx * sy) / den;
}
