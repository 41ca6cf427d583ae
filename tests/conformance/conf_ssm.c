#include "conf_ssm.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void conf_scan_state_shape(const conf_scan_dims *d, int64_t shape[4])
{
    shape[0] = d->b;
    shape[1] = d->h;
    shape[2] = d->p;
    shape[3] = d->n;
}

void conf_scan_fill(conf_rng *r, conf_case *c, const conf_scan_dims *d, const conf_scan_opts *o)
{
    int64_t su[4] = {d->b, d->l, d->h, d->p};
    int64_t sdelta[3] = {d->b, d->l, d->h};
    int64_t sa[2] = {d->h, d->n};
    int64_t sbc[4] = {d->b, d->l, d->g, d->n};
    int64_t sstate[4];
    conf_scan_state_shape(d, sstate);

    conf_host *u = conf_case_in(c, CONF_SCAN_U, SSMRT_F32, 4, su);
    conf_host *delta = conf_case_in(c, CONF_SCAN_DELTA, SSMRT_F32, 3, sdelta);
    conf_host *a = conf_case_in(c, CONF_SCAN_A, SSMRT_F32, d->mamba2 ? 1 : 2, sa);
    conf_host *bm = conf_case_in(c, CONF_SCAN_B, SSMRT_F32, 4, sbc);
    conf_host *cm = conf_case_in(c, CONF_SCAN_C, SSMRT_F32, 4, sbc);
    conf_host *dd = o->d ? conf_case_in(c, CONF_SCAN_D, SSMRT_F32, 1, sa) : NULL;
    conf_host *z = o->z ? conf_case_in(c, CONF_SCAN_Z, SSMRT_F32, 4, su) : NULL;
    conf_host *bias = o->dbias ? conf_case_in(c, CONF_SCAN_DBIAS, SSMRT_F32, 1, sa) : NULL;
    conf_host *st = o->state_in ? conf_case_in(c, CONF_SCAN_STATE, SSMRT_F32, 4, sstate) : NULL;
    c->n_in = CONF_SCAN_NSLOTS;
    if (c->oom)
        return;

    conf_rng_fill_normal(r, u->f, u->n, 0.0, 1.0);
    conf_rng_fill_normal(r, bm->f, bm->n, 0.0, 1.0);
    conf_rng_fill_normal(r, cm->f, cm->n, 0.0, 1.0);
    /* dt targets: softplus^-1 of [0.01, 0.15] is about [-4.6, -1.8]; long memory
     * centres dt on 0.002 (softplus^-1 = -6.2). The split between delta and bias
     * follows Mamba: the bias carries the per-channel level, delta varies. */
    double lo = o->long_memory ? -6.6 : -4.6, hi = o->long_memory ? -5.8 : -1.8;
    if (o->softplus) {
        if (bias) {
            conf_rng_fill_uniform(r, bias->f, bias->n, lo, hi);
            conf_rng_fill_normal(r, delta->f, delta->n, 0.0, 0.3);
        } else {
            conf_rng_fill_uniform(r, delta->f, delta->n, lo, hi);
        }
    } else {
        /* dt is taken as given: positive values in the same range. */
        double dlo = o->long_memory ? 0.0015 : 0.01, dhi = o->long_memory ? 0.003 : 0.15;
        if (bias) {
            conf_rng_fill_uniform(r, bias->f, bias->n, 0.0, dlo);
            conf_rng_fill_uniform(r, delta->f, delta->n, dlo, dhi - dlo);
        } else {
            conf_rng_fill_uniform(r, delta->f, delta->n, dlo, dhi);
        }
    }
    if (d->mamba2) {
        conf_rng_fill_uniform(r, a->f, a->n, -16.0, -1.0);
    } else {
        for (int64_t h = 0; h < d->h; h++)
            for (int64_t n = 0; n < d->n; n++)
                a->f[h * d->n + n] = (float)(-(double)(n + 1) * conf_rng_uniform(r, 0.8, 1.2));
    }
    if (dd)
        conf_rng_fill_normal(r, dd->f, dd->n, 0.0, 1.0);
    if (z)
        conf_rng_fill_uniform(r, z->f, z->n, -4.0, 4.0);
    if (st)
        conf_rng_fill_normal(r, st->f, st->n, 0.0, 0.5);
}

static double conf_softplus(double x)
{
    return x > 20.0 ? x : log1p(exp(x));
}

double conf_scan_memory(const conf_case *c, const conf_scan_dims *d, const conf_scan_opts *o)
{
    const conf_host *delta = c->in[CONF_SCAN_DELTA], *a = c->in[CONF_SCAN_A];
    const conf_host *bias = o->dbias ? c->in[CONF_SCAN_DBIAS] : NULL;
    if (!delta || !a)
        return (double)d->l;
    double min_rate = INFINITY;
    for (int64_t h = 0; h < d->h; h++) {
        double sum = 0.0;
        for (int64_t b = 0; b < d->b; b++)
            for (int64_t l = 0; l < d->l; l++) {
                double dt = delta->f[(b * d->l + l) * d->h + h] + (bias ? bias->f[h] : 0.0);
                sum += o->softplus ? conf_softplus(dt) : dt;
            }
        double mean_dt = sum / (double)(d->b * d->l);
        int64_t na = d->mamba2 ? 1 : d->n;
        for (int64_t n = 0; n < na; n++) {
            double rate = mean_dt * fabs((double)a->f[h * na + n]);
            if (rate < min_rate)
                min_rate = rate;
        }
    }
    double mem = min_rate > 0 ? 1.0 / min_rate : INFINITY;
    return mem < (double)d->l ? mem : (double)d->l;
}

const char *conf_scan_describe(const conf_scan_dims *d, const conf_scan_opts *o, char *buf,
                               size_t n)
{
    if (d->mamba2)
        snprintf(buf, n, "mamba2 B=%lld L=%lld H=%lld P=%lld G=%lld N=%lld",
                 (long long)d->b, (long long)d->l, (long long)d->h, (long long)d->p,
                 (long long)d->g, (long long)d->n);
    else
        snprintf(buf, n, "mamba1 B=%lld L=%lld D=%lld G=%lld N=%lld", (long long)d->b,
                 (long long)d->l, (long long)d->h, (long long)d->g, (long long)d->n);
    size_t used = strlen(buf);
    snprintf(buf + used, n - used, "%s%s%s%s%s%s%s%s", o->d ? " D" : "", o->z ? " z" : "",
             o->dbias ? " dt-bias" : "", o->softplus ? " softplus" : "",
             o->state_in ? " state-in" : "", o->state_out ? " state-out" : "",
             o->alias ? "(in place)" : "", o->long_memory ? " long-memory" : "");
    return buf;
}
