/* The case runner and the suite entry point. */
#include "conf_suite.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf_compare.h"

/* Matrix row order; also the names --ops accepts. */
static const char *const conf_op_names[] = {
    "copy", "view", "concat",
    "add", "mul", "scale", "silu", "sigmoid", "softplus", "gelu", "exp",
    "softmax", "rms_norm", "rms_norm_gated", "layer_norm",
    "matmul", "embedding", "topk_route",
    "selective_scan", "conv1d_causal", "conv_long", "attention",
    "scan_stepwise", "prefill_chunked", "s4_recurrence", "kv_cache_decode",
    NULL};

const char *const *ssmrt_conformance_op_names(void)
{
    return conf_op_names;
}

const char *ssmrt_conformance_verdict_name(ssmrt_conformance_verdict v)
{
    switch (v) {
    case SSMRT_CONFORMANCE_PASS: return "PASS";
    case SSMRT_CONFORMANCE_FAIL: return "FAIL";
    case SSMRT_CONFORMANCE_NOT_SUPPORTED: return "NOT_SUPPORTED";
    case SSMRT_CONFORMANCE_SKIP: return "SKIP";
    default: return "?";
    }
}

static double conf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t conf_bytes(ssmrt_dtype dtype, int ndim, const int64_t *shape)
{
    return (uint64_t)conf_shape_count(ndim, shape) * ssmrt_dtype_size(dtype);
}

/* ===================================================================== */
/* Cases                                                                   */
/* ===================================================================== */

int conf_suite_wants(const conf_suite *s, const char *op)
{
    if (!s->n_filter)
        return 1;
    for (int i = 0; i < s->n_filter; i++)
        if (!strcmp(s->filter[i], op))
            return 1;
    return 0;
}

void conf_suite_rng(const conf_suite *s, conf_rng *r, const char *op, uint64_t index)
{
    conf_rng_seed(r, s->seed, op, index);
}

void conf_case_init(conf_case *c, const char *op, const char *dtype, conf_mode mode)
{
    memset(c, 0, sizeof *c);
    c->op = op;
    snprintf(c->dtype, sizeof c->dtype, "%s", dtype);
    c->mode = mode;
}

void conf_case_name(conf_case *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof c->name, fmt, ap);
    va_end(ap);
}

conf_host *conf_case_in(conf_case *c, int slot, ssmrt_dtype dtype, int ndim,
                        const int64_t *shape)
{
    if (slot < 0 || slot >= CONF_MAX_IN) {
        c->oom = 1;
        return NULL;
    }
    conf_host_free(c->in[slot]);
    c->in[slot] = conf_host_new(dtype, ndim, shape);
    if (!c->in[slot])
        c->oom = 1;
    if (slot + 1 > c->n_in)
        c->n_in = slot + 1;
    return c->in[slot];
}

static void conf_case_free(conf_case *c)
{
    for (int i = 0; i < c->n_in; i++) {
        conf_host_free(c->in[i]);
        c->in[i] = NULL;
    }
}

/* ===================================================================== */
/* Verdicts                                                                */
/* ===================================================================== */

void conf_suite_record(conf_suite *s, const char *op, const char *dtype, const char *name,
                       ssmrt_conformance_verdict v, double err, double tol, double seconds,
                       const char *message)
{
    if (s->n_cases == s->cap_cases) {
        size_t cap = s->cap_cases ? 2 * s->cap_cases : 256;
        ssmrt_conformance_case *n = realloc(s->cases, cap * sizeof *n);
        if (!n) {
            s->oom = 1;
            return;
        }
        s->cases = n;
        s->cap_cases = cap;
    }
    ssmrt_conformance_case *k = &s->cases[s->n_cases++];
    memset(k, 0, sizeof *k);
    snprintf(k->op, sizeof k->op, "%s", op);
    snprintf(k->dtype, sizeof k->dtype, "%s", dtype);
    snprintf(k->name, sizeof k->name, "%s", name);
    k->verdict = v;
    k->max_error = err;
    k->tolerance = tol;
    k->seconds = seconds;
    snprintf(k->message, sizeof k->message, "%s", message ? message : "");
    if (s->progress) {
        fprintf(s->progress, "%-13s %-15s %-5s %s", ssmrt_conformance_verdict_name(v), op, dtype,
                name);
        if (err >= 0)
            fprintf(s->progress, "  err %.3g (tol %.3g)", err, tol);
        fprintf(s->progress, "  %.2fs", seconds);
        if (message && *message && v != SSMRT_CONFORMANCE_PASS)
            fprintf(s->progress, "\n    %s", message);
        fputc('\n', s->progress);
        fflush(s->progress);
    }
}

/* Runs the case's build on one context. */
static void conf_suite_exec(conf_case *c, conf_exec *x)
{
    ssmrt_tensor *in[CONF_MAX_IN] = {0};
    for (int i = 0; i < c->n_in; i++)
        in[i] = conf_exec_input(x, c->in[i]);
    if (conf_exec_ok(x))
        c->build(x, in, c->params);
    conf_exec_compute(x);
}

static double conf_case_tol(const conf_case *c, int k)
{
    if (c->n_tols <= 0)
        return c->tol;
    return c->tols[k < c->n_tols ? k : c->n_tols - 1];
}

/* The verdict of a case being compared, output by output. */
typedef struct conf_verdict {
    ssmrt_conformance_verdict v;
    double err, tol, ratio;  /* of the output nearest to (or furthest past) its bound */
    char msg[512];
} conf_verdict;

static void conf_verdict_output(conf_verdict *vd, int k, const char *what, const double *got,
                                const double *want, int64_t n, double tol)
{
    conf_diff d;
    conf_compare(got, want, n, &d);
    double ratio = tol > 0 ? d.err / tol : (d.err > 0 ? INFINITY : 0.0);
    if (vd->err < 0 || ratio > vd->ratio) {
        vd->err = d.err;
        vd->tol = tol;
        vd->ratio = ratio;
    }
    if (!(d.err <= tol) && vd->v != SSMRT_CONFORMANCE_FAIL) {
        vd->v = SSMRT_CONFORMANCE_FAIL;
        snprintf(vd->msg, sizeof vd->msg,
                 "%s %d: error %.3g > tolerance %.3g at element %lld: got %.9g, want %.9g "
                 "(rms %.3g, %lld non-finite)",
                 what, k, d.err, tol, (long long)d.worst, d.got, d.want, d.scale,
                 (long long)d.nonfinite);
    }
}

void conf_suite_run(conf_suite *s, conf_case *c)
{
    double t0 = conf_now();
    conf_verdict vd = {SSMRT_CONFORMANCE_PASS, -1.0, 0.0, 0.0, ""};
    conf_exec xd, xr;
    conf_exec_init(&xd, s->dut);
    conf_exec_init(&xr, s->ref);

    uint32_t missing = c->need_dtypes & ~s->dut_info->dtype_mask;
    if (c->oom) {
        vd.v = SSMRT_CONFORMANCE_FAIL;
        snprintf(vd.msg, sizeof vd.msg, "harness: out of host memory for the inputs");
        goto done;
    }
    if (missing) {
        vd.v = SSMRT_CONFORMANCE_SKIP;
        int d = 0;
        while (!(missing & (1u << d)))
            d++;
        snprintf(vd.msg, sizeof vd.msg, "the device does not claim dtype %s",
                 ssmrt_dtype_name((ssmrt_dtype)d));
        goto done;
    }

    conf_suite_exec(c, &xd);
    if (!conf_exec_ok(&xd)) {
        vd.v = xd.status == SSMRT_ERR_UNSUPPORTED ? SSMRT_CONFORMANCE_NOT_SUPPORTED
                                                  : SSMRT_CONFORMANCE_FAIL;
        snprintf(vd.msg, sizeof vd.msg, "%s%s%s", xd.violation ? "" : ssmrt_status_name(xd.status),
                 xd.violation ? "" : ": ", xd.message);
        goto done;
    }

    switch (c->mode) {
    case CONF_VS_REFERENCE:
        conf_suite_exec(c, &xr);
        if (!conf_exec_ok(&xr)) {
            vd.v = SSMRT_CONFORMANCE_FAIL;
            snprintf(vd.msg, sizeof vd.msg, "reference device: %s%s%s",
                     xr.violation ? "" : ssmrt_status_name(xr.status), xr.violation ? "" : ": ",
                     xr.message);
            goto done;
        }
        if (xr.n_out != xd.n_out || xd.n_out == 0) {
            vd.v = SSMRT_CONFORMANCE_FAIL;
            snprintf(vd.msg, sizeof vd.msg, "harness: %d outputs on the device, %d on the reference",
                     xd.n_out, xr.n_out);
            goto done;
        }
        for (int k = 0; k < xd.n_out; k++) {
            if (xd.out[k].n != xr.out[k].n) {
                vd.v = SSMRT_CONFORMANCE_FAIL;
                snprintf(vd.msg, sizeof vd.msg, "output %d: %lld elements on the device, %lld on the reference",
                         k, (long long)xd.out[k].n, (long long)xr.out[k].n);
                goto done;
            }
            conf_verdict_output(&vd, k, "output", xd.out[k].v, xr.out[k].v, xd.out[k].n,
                                conf_case_tol(c, k));
        }
        break;
    case CONF_DUT_PAIRS: {
        /* Two runs registered the same outputs in the same order: the first half
         * of the outputs against the second half. */
        int half = xd.n_out / 2;
        if (xd.n_out < 2 || xd.n_out % 2) {
            vd.v = SSMRT_CONFORMANCE_FAIL;
            snprintf(vd.msg, sizeof vd.msg, "harness: identity produced %d outputs", xd.n_out);
            goto done;
        }
        for (int k = 0; k < half; k++) {
            if (xd.out[k].n != xd.out[k + half].n) {
                vd.v = SSMRT_CONFORMANCE_FAIL;
                snprintf(vd.msg, sizeof vd.msg, "harness: identity output %d sizes differ", k);
                goto done;
            }
            conf_verdict_output(&vd, k, "identity output", xd.out[k].v, xd.out[k + half].v,
                                xd.out[k].n, conf_case_tol(c, k));
        }
        break;
    }
    case CONF_VS_HOST:
        if (xd.n_out != c->n_want) {
            vd.v = SSMRT_CONFORMANCE_FAIL;
            snprintf(vd.msg, sizeof vd.msg, "harness: %d outputs, %d expected", xd.n_out, c->n_want);
            goto done;
        }
        for (int k = 0; k < xd.n_out; k++) {
            if (xd.out[k].n != c->want_n[k]) {
                vd.v = SSMRT_CONFORMANCE_FAIL;
                snprintf(vd.msg, sizeof vd.msg, "harness: output %d size", k);
                goto done;
            }
            conf_verdict_output(&vd, k, "output", xd.out[k].v, c->want[k], xd.out[k].n,
                                conf_case_tol(c, k));
        }
        break;
    }

done:
    conf_exec_free(&xd);
    conf_exec_free(&xr);
    if (vd.err < 0 && c->n_tols == 0)
        vd.tol = c->tol;
    conf_suite_record(s, c->op, c->dtype, c->name, vd.v, vd.err, vd.tol, conf_now() - t0, vd.msg);
    conf_case_free(c);
}

/* ===================================================================== */
/* Entry point                                                             */
/* ===================================================================== */

static ssmrt_status conf_parse_filter(conf_suite *s, const char *ops)
{
    if (!ops || !*ops)
        return SSMRT_OK;
    const char *p = ops;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len) {
            int known = 0;
            for (int i = 0; conf_op_names[i]; i++)
                if (strlen(conf_op_names[i]) == len && !strncmp(conf_op_names[i], p, len))
                    known = 1;
            if (!known || s->n_filter == 64) {
                fprintf(stderr, "conformance: unknown op '%.*s' (known:", (int)len, p);
                for (int i = 0; conf_op_names[i]; i++)
                    fprintf(stderr, " %s", conf_op_names[i]);
                fprintf(stderr, ")\n");
                return SSMRT_ERR_INVALID_ARGUMENT;
            }
            snprintf(s->filter[s->n_filter++], sizeof s->filter[0], "%.*s", (int)len, p);
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return SSMRT_OK;
}

ssmrt_status ssmrt_conformance_run(ssmrt_context *dut, ssmrt_context *ref,
                                   const ssmrt_conformance_options *options,
                                   ssmrt_conformance_report **out)
{
    *out = NULL;
    const ssmrt_device_info *rinfo = ssmrt_context_device(ref);
    if (!rinfo || !rinfo->is_reference) {
        fprintf(stderr, "conformance: the oracle context is not a reference device\n");
        return SSMRT_ERR_INVALID_ARGUMENT;
    }
    conf_suite *s = calloc(1, sizeof *s);
    ssmrt_conformance_report *rep = calloc(1, sizeof *rep);
    if (!s || !rep) {
        free(s);
        free(rep);
        return SSMRT_ERR_OUT_OF_MEMORY;
    }
    s->dut = dut;
    s->ref = ref;
    s->dut_info = ssmrt_context_device(dut);
    s->quick = options && options->quick;
    s->seed = options && options->seed ? options->seed : 0x55AA2024ull;
    s->progress = options ? options->progress : NULL;
    ssmrt_status st = conf_parse_filter(s, options ? options->ops : NULL);
    if (st != SSMRT_OK) {
        free(s);
        free(rep);
        return st;
    }

    double t0 = conf_now();
    conf_ops_data(s);
    conf_ops_elementwise(s);
    conf_ops_norm(s);
    conf_ops_linear(s);
    conf_ops_scan(s);
    conf_ops_conv(s);
    conf_ops_attention(s);

    rep->device = *s->dut_info;
    rep->reference = *rinfo;
    rep->cases = s->cases;
    rep->n_cases = s->n_cases;
    rep->seconds = conf_now() - t0;
    for (size_t i = 0; i < rep->n_cases; i++)
        rep->counts[rep->cases[i].verdict]++;
    int oom = s->oom;
    free(s);
    if (oom) {
        ssmrt_conformance_report_destroy(rep);
        return SSMRT_ERR_OUT_OF_MEMORY;
    }
    *out = rep;
    return SSMRT_OK;
}

void ssmrt_conformance_report_destroy(ssmrt_conformance_report *report)
{
    if (!report)
        return;
    free(report->cases);
    free(report);
}
