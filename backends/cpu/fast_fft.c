/*
 * fast_fft.c: CONV_LONG through FFTs, O(L log L) per channel instead of the
 * direct O(L^2).
 *
 * An iterative radix-2 complex FFT in double precision: the result is rounded to
 * f32 once, so it is as accurate as (and for long L more accurate than) the
 * direct f32 sum. The size M is the power of two >= 2L - 1, so the circular
 * convolution equals the causal one on the L outputs we keep.
 *
 * Two real channels ride in one complex transform: z = a + i b has spectrum Z,
 * and A[k] = (Z[k] + conj Z[M-k]) / 2, B[k] = (Z[k] - conj Z[M-k]) / 2i. The
 * product spectra of channels d and d+1 are combined as Y_d + i Y_{d+1}, whose
 * inverse transform carries y_d in its real and y_{d+1} in its imaginary part.
 * A task is one channel pair; its kernel spectrum is computed once and reused
 * for every batch row.
 */
#include <math.h>
#include <stdlib.h>

#include "fast_kernels.h"

typedef struct fft_plan {
    int64_t n;
    double *tw;     /* n/2 twiddles exp(-2 pi i j / n), interleaved re, im */
    uint32_t *rev;  /* bit reversal of 0..n-1 */
} fft_plan;

static int fft_plan_init(fft_plan *p, int64_t n) {
    p->n = n;
    p->tw = malloc(sizeof(double) * (size_t)n);
    p->rev = malloc(sizeof(uint32_t) * (size_t)n);
    if (!p->tw || !p->rev) return -1;
    for (int64_t j = 0; j < n / 2; j++) {
        double ang = -2.0 * M_PI * (double)j / (double)n;
        p->tw[2 * j] = cos(ang);
        p->tw[2 * j + 1] = sin(ang);
    }
    int bits = 0;
    while (((int64_t)1 << bits) < n) bits++;
    for (int64_t i = 0; i < n; i++) {
        uint32_t r = 0;
        for (int k = 0; k < bits; k++) r |= (uint32_t)((i >> k) & 1) << (bits - 1 - k);
        p->rev[i] = r;
    }
    return 0;
}

static void fft_plan_free(fft_plan *p) {
    free(p->tw);
    free(p->rev);
}

/* In-place transform of n interleaved complex values; inverse is unscaled. */
static void fft(const fft_plan *p, double *a, int inverse) {
    const int64_t n = p->n;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = p->rev[i];
        if (r > i) {
            double t0 = a[2 * i], t1 = a[2 * i + 1];
            a[2 * i] = a[2 * r];
            a[2 * i + 1] = a[2 * r + 1];
            a[2 * r] = t0;
            a[2 * r + 1] = t1;
        }
    }
    const double sgn = inverse ? -1.0 : 1.0;
    for (int64_t len = 2; len <= n; len <<= 1) {
        int64_t half = len / 2, step = n / len;
        for (int64_t i = 0; i < n; i += len)
            for (int64_t j = 0; j < half; j++) {
                double wr = p->tw[2 * j * step], wi = sgn * p->tw[2 * j * step + 1];
                double *u = a + 2 * (i + j), *v = a + 2 * (i + j + half);
                double vr = v[0] * wr - v[1] * wi, vi = v[0] * wi + v[1] * wr;
                v[0] = u[0] - vr;
                v[1] = u[1] - vi;
                u[0] += vr;
                u[1] += vi;
            }
    }
}

/* Split Z (the spectrum of a + i b) at bin k into A[k] and B[k]. */
static void split_bin(const double *Z, int64_t k, int64_t M, double *ar, double *ai, double *br,
                      double *bi) {
    int64_t km = (M - k) & (M - 1);
    double zr = Z[2 * k], zi = Z[2 * k + 1], cr = Z[2 * km], ci = -Z[2 * km + 1];
    *ar = 0.5 * (zr + cr);
    *ai = 0.5 * (zi + ci);
    /* (Z - conj Z[M-k]) / 2i: (p + iq) / 2i = (q - ip) / 2 */
    *br = 0.5 * (zi - ci);
    *bi = -0.5 * (zr - cr);
}

/* One channel pair (d, d+1) for every batch row; d+1 may be D (absent). */
static int fft_pair(const fft_plan *p, const float *x, const float *k, float *y, int64_t B,
                    int64_t L, int64_t D, int64_t Lk, int64_t d) {
    const int64_t M = p->n;
    int two = d + 1 < D;
    double *zk = malloc(sizeof(double) * 6 * (size_t)M);
    if (!zk) return -1;
    double *zx = zk + 2 * M, *yb = zx + 2 * M;
    for (int64_t j = 0; j < M; j++) {
        zk[2 * j] = j < L ? k[d * Lk + j] : 0.0;
        zk[2 * j + 1] = j < L && two ? k[(d + 1) * Lk + j] : 0.0;
    }
    fft(p, zk, 0);
    for (int64_t b = 0; b < B; b++) {
        const float *xb = x + b * L * D;
        for (int64_t l = 0; l < M; l++) {
            zx[2 * l] = l < L ? xb[l * D + d] : 0.0;
            zx[2 * l + 1] = l < L && two ? xb[l * D + d + 1] : 0.0;
        }
        fft(p, zx, 0);
        for (int64_t j = 0; j < M; j++) {
            double xar, xai, xbr, xbi, kar, kai, kbr, kbi;
            split_bin(zx, j, M, &xar, &xai, &xbr, &xbi);
            split_bin(zk, j, M, &kar, &kai, &kbr, &kbi);
            double pr = xar * kar - xai * kai, pi = xar * kai + xai * kar; /* Y_d */
            double qr = xbr * kbr - xbi * kbi, qi = xbr * kbi + xbi * kbr; /* Y_{d+1} */
            yb[2 * j] = pr - qi; /* Y_d + i Y_{d+1} */
            yb[2 * j + 1] = pi + qr;
        }
        fft(p, yb, 1);
        float *ybo = y + b * L * D;
        double inv = 1.0 / (double)M;
        for (int64_t l = 0; l < L; l++) {
            ybo[l * D + d] = (float)(yb[2 * l] * inv);
            if (two) ybo[l * D + d + 1] = (float)(yb[2 * l + 1] * inv);
        }
    }
    free(zk);
    return 0;
}

int cpu_fast_conv_long_fft(const float *x, const float *k, float *y, int64_t B, int64_t L,
                           int64_t D, int64_t Lk) {
    int64_t M = 1;
    while (M < 2 * L - 1) M <<= 1;
    if (M > ((int64_t)1 << 31))
        return cpu_error(SSMRT_ERR_UNSUPPORTED, "cpu: conv_long: L = %lld is too long",
                         (long long)L);
    fft_plan plan = {0};
    if (fft_plan_init(&plan, M)) {
        fft_plan_free(&plan);
        return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: conv_long: out of memory");
    }
    int64_t pairs = (D + 1) / 2;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : failed)
    for (int64_t i = 0; i < pairs; i++) failed |= fft_pair(&plan, x, k, y, B, L, D, Lk, 2 * i) != 0;
    fft_plan_free(&plan);
    if (failed) return cpu_error(SSMRT_ERR_OUT_OF_MEMORY, "cpu: conv_long: out of memory");
    return 0;
}
