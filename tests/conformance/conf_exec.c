/* Running a case on one context: inputs, guarded destinations, arena canaries,
 * outputs. See conf_exec.h for the guard design. */
#include "conf_exec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ===================================================================== */
/* Failure bookkeeping                                                     */
/* ===================================================================== */

static void conf_exec_record(conf_exec *x, ssmrt_status st, int violation, const char *fmt,
                             va_list ap)
{
    if (!conf_exec_ok(x))
        return; /* keep the first failure: later ones are usually its echo */
    x->status = st;
    x->violation = violation;
    vsnprintf(x->message, sizeof x->message, fmt, ap);
}

void conf_exec_fail(conf_exec *x, ssmrt_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conf_exec_record(x, st, 0, fmt, ap);
    va_end(ap);
}

static void conf_exec_violation(conf_exec *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void conf_exec_violation(conf_exec *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    conf_exec_record(x, SSMRT_OK, 1, fmt, ap);
    va_end(ap);
}

int conf_exec_ok(const conf_exec *x)
{
    return x->status == SSMRT_OK && !x->violation;
}

/* ===================================================================== */
/* Life cycle                                                              */
/* ===================================================================== */

void conf_exec_init(conf_exec *x, ssmrt_context *ctx)
{
    memset(x, 0, sizeof *x);
    x->ctx = ctx;
}

static void conf_exec_drop_graph(conf_exec *x)
{
    ssmrt_graph_destroy(x->g);
    x->g = NULL;
    x->n_reads = 0;
    for (int i = 0; i < x->n_guarded; i++)
        x->guarded[i].view = NULL;
}

void conf_exec_free(conf_exec *x)
{
    conf_exec_drop_graph(x);
    for (int i = 0; i < x->n_inputs; i++) {
        ssmrt_tensor_destroy(x->inputs[i]);
        free(x->input_bytes[i]);
    }
    for (int i = 0; i < x->n_guarded; i++)
        ssmrt_tensor_destroy(x->guarded[i].backing);
    ssmrt_tensor_destroy(x->zeros);
    for (int i = 0; i < x->n_out; i++)
        free(x->out[i].v);
    x->n_inputs = x->n_guarded = x->n_out = 0;
    x->zeros = NULL;
}

ssmrt_graph *conf_exec_graph(conf_exec *x)
{
    if (!x->g) {
        ssmrt_status st = ssmrt_graph_create(x->ctx, &x->g);
        if (st != SSMRT_OK) {
            conf_exec_fail(x, st, "graph_create: %s", ssmrt_last_error());
            x->g = NULL;
        }
    }
    return x->g;
}

/* ===================================================================== */
/* Inputs                                                                  */
/* ===================================================================== */

ssmrt_tensor *conf_exec_input(conf_exec *x, const conf_host *h)
{
    if (!h || !conf_exec_ok(x))
        return NULL;
    if (x->n_inputs == CONF_MAX_IN) {
        conf_exec_fail(x, SSMRT_ERR_INTERNAL, "harness: too many inputs");
        return NULL;
    }
    ssmrt_tensor *t = NULL;
    ssmrt_status st = ssmrt_tensor_create(x->ctx, h->dtype, h->ndim, h->shape, &t);
    if (st == SSMRT_OK) {
        if (h->dtype == SSMRT_I32)
            st = ssmrt_tensor_upload(t, h->i, (size_t)h->n * sizeof(int32_t));
        else
            st = ssmrt_tensor_upload_f32(t, h->f, (size_t)h->n);
    }
    if (st != SSMRT_OK) {
        conf_exec_fail(x, st, "uploading an input: %s", ssmrt_last_error());
        ssmrt_tensor_destroy(t);
        return NULL;
    }
    size_t bytes = (size_t)h->n * ssmrt_dtype_size(h->dtype);
    void *copy = malloc(bytes ? bytes : 1);
    if (!copy || (st = ssmrt_tensor_download(t, copy, bytes)) != SSMRT_OK) {
        conf_exec_fail(x, copy ? st : SSMRT_ERR_OUT_OF_MEMORY, "reading an input back: %s",
                       copy ? ssmrt_last_error() : "out of memory");
        free(copy);
        ssmrt_tensor_destroy(t);
        return NULL;
    }
    x->inputs[x->n_inputs] = t;
    x->input_bytes[x->n_inputs] = copy;
    x->input_size[x->n_inputs] = bytes;
    x->n_inputs++;
    return t;
}

static void conf_exec_check_inputs(conf_exec *x)
{
    for (int i = 0; i < x->n_inputs && conf_exec_ok(x); i++) {
        size_t bytes = x->input_size[i];
        unsigned char *now = malloc(bytes ? bytes : 1);
        if (!now) {
            conf_exec_fail(x, SSMRT_ERR_OUT_OF_MEMORY, "harness: out of memory");
            return;
        }
        ssmrt_status st = ssmrt_tensor_download(x->inputs[i], now, bytes);
        if (st != SSMRT_OK)
            conf_exec_fail(x, st, "reading input %d back: %s", i, ssmrt_last_error());
        else if (memcmp(now, x->input_bytes[i], bytes) != 0) {
            size_t at = 0;
            while (now[at] == ((unsigned char *)x->input_bytes[i])[at])
                at++;
            conf_exec_violation(x, "input %d was modified by the graph (first changed byte %zu)",
                                i, at);
        }
        free(now);
    }
}

/* ===================================================================== */
/* Guarded destinations                                                    */
/* ===================================================================== */

/* NaN bit patterns (never produced by ops on the suite's finite inputs). */
static void conf_sentinel_store(ssmrt_dtype dtype, void *p, int64_t i)
{
    if (ssmrt_dtype_size(dtype) == 2)
        ((uint16_t *)p)[i] = dtype == SSMRT_F16 ? 0x7DA5u : 0x7FA5u;
    else
        ((uint32_t *)p)[i] = 0x7FA5A5A5u;
}

static int conf_sentinel_is(ssmrt_dtype dtype, const void *p, int64_t i)
{
    if (ssmrt_dtype_size(dtype) == 2)
        return ((const uint16_t *)p)[i] == (dtype == SSMRT_F16 ? 0x7DA5u : 0x7FA5u);
    return ((const uint32_t *)p)[i] == 0x7FA5A5A5u;
}

/* Index of backing element e inside the view, or -1 if it is a guard element. */
static int64_t conf_guarded_inner(const conf_guarded *gd, int64_t e)
{
    int64_t coord[SSMRT_MAX_DIMS];
    for (int a = gd->ndim - 1; a >= 0; a--) {
        coord[a] = e % gd->bshape[a];
        e /= gd->bshape[a];
    }
    int64_t inner = 0;
    for (int a = 0; a < gd->ndim; a++) {
        int64_t c = coord[a] - gd->pad[a];
        if (c < 0 || c >= gd->shape[a])
            return -1;
        inner = inner * gd->shape[a] + c;
    }
    return inner;
}

int conf_exec_guarded(conf_exec *x, ssmrt_dtype dtype, int ndim, const int64_t *shape,
                      const int64_t *pad, const float *init)
{
    if (!conf_exec_ok(x))
        return -1;
    if (x->n_guarded == CONF_MAX_GUARDED) {
        conf_exec_fail(x, SSMRT_ERR_INTERNAL, "harness: too many guarded tensors");
        return -1;
    }
    conf_guarded *gd = &x->guarded[x->n_guarded];
    memset(gd, 0, sizeof *gd);
    gd->dtype = dtype;
    gd->ndim = ndim;
    for (int a = 0; a < ndim; a++) {
        gd->shape[a] = shape[a];
        gd->pad[a] = pad ? pad[a] : (a == 0 ? 1 : 0);
        gd->bshape[a] = shape[a] + 2 * gd->pad[a];
    }
    int64_t n = conf_shape_count(ndim, gd->bshape);
    size_t esize = ssmrt_dtype_size(dtype);
    unsigned char *bytes = malloc((size_t)n * esize + 1);
    if (!bytes) {
        conf_exec_fail(x, SSMRT_ERR_OUT_OF_MEMORY, "harness: out of memory");
        return -1;
    }
    for (int64_t e = 0; e < n; e++) {
        int64_t inner = conf_guarded_inner(gd, e);
        if (inner >= 0 && init)
            conf_dtype_store(dtype, bytes, e, init[inner]);
        else
            conf_sentinel_store(dtype, bytes, e);
    }
    ssmrt_status st = ssmrt_tensor_create(x->ctx, dtype, ndim, gd->bshape, &gd->backing);
    if (st == SSMRT_OK)
        st = ssmrt_tensor_upload(gd->backing, bytes, (size_t)n * esize);
    free(bytes);
    if (st != SSMRT_OK) {
        conf_exec_fail(x, st, "creating a guarded tensor: %s", ssmrt_last_error());
        ssmrt_tensor_destroy(gd->backing);
        gd->backing = NULL;
        return -1;
    }
    return x->n_guarded++;
}

ssmrt_tensor *conf_exec_guarded_view(conf_exec *x, int id)
{
    if (id < 0 || id >= x->n_guarded || !conf_exec_graph(x))
        return NULL;
    conf_guarded *gd = &x->guarded[id];
    if (!gd->view) {
        ssmrt_tensor *v = gd->backing;
        for (int a = 0; a < gd->ndim && v; a++)
            if (gd->pad[a])
                v = ssmrt_graph_slice(x->g, v, a, gd->pad[a], gd->shape[a]);
        gd->view = v;
    }
    return gd->view;
}

/* Downloads every guarded backing tensor and checks its guard elements; the bytes
 * are returned for reading the views (free with the array). */
static unsigned char **conf_exec_check_guards(conf_exec *x)
{
    unsigned char **all = calloc((size_t)x->n_guarded + 1, sizeof *all);
    if (!all) {
        conf_exec_fail(x, SSMRT_ERR_OUT_OF_MEMORY, "harness: out of memory");
        return NULL;
    }
    for (int id = 0; id < x->n_guarded; id++) {
        conf_guarded *gd = &x->guarded[id];
        int64_t n = conf_shape_count(gd->ndim, gd->bshape);
        size_t bytes = (size_t)n * ssmrt_dtype_size(gd->dtype);
        all[id] = malloc(bytes + 1);
        if (!all[id]) {
            conf_exec_fail(x, SSMRT_ERR_OUT_OF_MEMORY, "harness: out of memory");
            continue;
        }
        ssmrt_status st = ssmrt_tensor_download(gd->backing, all[id], bytes);
        if (st != SSMRT_OK) {
            conf_exec_fail(x, st, "reading a guarded tensor: %s", ssmrt_last_error());
            continue;
        }
        int64_t bad = 0, first = -1;
        for (int64_t e = 0; e < n; e++) {
            if (conf_guarded_inner(gd, e) < 0 && !conf_sentinel_is(gd->dtype, all[id], e)) {
                if (first < 0)
                    first = e;
                bad++;
            }
        }
        if (bad) {
            char sb[64], vb[64];
            conf_exec_violation(x,
                                "guard: %lld element(s) outside the destination view %s "
                                "(backing %s) were overwritten, first at flat index %lld",
                                (long long)bad, conf_shape_str(gd->ndim, gd->shape, vb, sizeof vb),
                                conf_shape_str(gd->ndim, gd->bshape, sb, sizeof sb),
                                (long long)first);
        }
    }
    return all;
}

/* ===================================================================== */
/* Arena canaries                                                          */
/* ===================================================================== */

/* A fresh graph tensor of n f32 elements, all CONF_CANARY_VALUE (x*0 + S). */
static ssmrt_tensor *conf_exec_fill(conf_exec *x, int64_t n)
{
    if (x->zeros_n < n) {
        /* Views of the old zeros in this graph keep its memory alive. */
        ssmrt_tensor_destroy(x->zeros);
        x->zeros = NULL;
        x->zeros_n = 0;
        ssmrt_status st = ssmrt_tensor_create(x->ctx, SSMRT_F32, 1, &n, &x->zeros);
        if (st == SSMRT_OK)
            st = ssmrt_tensor_zero(x->zeros);
        if (st != SSMRT_OK) {
            conf_exec_fail(x, st, "creating canary source: %s", ssmrt_last_error());
            return NULL;
        }
        x->zeros_n = n;
    }
    /* Always through a view: the graph then holds the memory even if zeros is
     * replaced by a larger one later in the same graph. */
    ssmrt_tensor *src = ssmrt_graph_slice(x->g, x->zeros, 0, 0, n);
    return ssmrt_graph_scale(x->g, src, 0.0f, CONF_CANARY_VALUE);
}

void conf_exec_arena_guard(conf_exec *x, uint64_t out_bytes)
{
    if (!conf_exec_ok(x) || !conf_exec_graph(x))
        return;
    if (x->n_reads + 2 > CONF_MAX_READS) {
        conf_exec_fail(x, SSMRT_ERR_INTERNAL, "harness: too many reads");
        return;
    }
    /* Canaries as large as the output (at least 1 KiB, at most 4 MiB), so an overrun by
     * a whole extra workgroup or a wrong stride lands in them, and a whole number of
     * the planner's 256-byte alignment units, so the lower canary ends exactly where
     * the hole begins and a write just before the output hits it. A write just past
     * the output's end lands in the hole's alignment padding unless the output's size
     * is a multiple of 256 bytes: every sweep has a case with 192 f32 outputs for
     * that reason (the odd sizes catch the overruns of a rounded-up workgroup). */
    int64_t hole = (int64_t)((out_bytes + 3) / 4);
    int64_t canary = hole < 256 ? 256 : hole > (1 << 20) ? (1 << 20) : hole;
    canary = (canary + 63) / 64 * 64;
    if (hole < 1)
        hole = 1;
    ssmrt_tensor *lo = ssmrt_graph_output(x->g, conf_exec_fill(x, canary));
    ssmrt_tensor *h = conf_exec_fill(x, hole);
    ssmrt_tensor *hi = ssmrt_graph_output(x->g, conf_exec_fill(x, canary));
    /* The hole's last reader: after it the hole is free for the op's output. */
    ssmrt_graph_scale(x->g, ssmrt_graph_slice(x->g, h, 0, 0, 1), 0.0f, 0.0f);
    x->reads[x->n_reads++] = (conf_read){lo, -1, 1};
    x->reads[x->n_reads++] = (conf_read){hi, -1, 2};
}

/* ===================================================================== */
/* Outputs and compute                                                     */
/* ===================================================================== */

void conf_exec_output(conf_exec *x, ssmrt_tensor *t)
{
    if (!conf_exec_ok(x) || !conf_exec_graph(x))
        return;
    if (!t) {
        /* The builder failed: its sticky error comes out of compute. */
        if (ssmrt_graph_status(x->g) == SSMRT_OK)
            conf_exec_fail(x, SSMRT_ERR_INTERNAL, "harness: NULL output without a graph error");
        return;
    }
    if (x->n_reads == CONF_MAX_READS) {
        conf_exec_fail(x, SSMRT_ERR_INTERNAL, "harness: too many reads");
        return;
    }
    x->reads[x->n_reads++] = (conf_read){ssmrt_graph_output(x->g, t), -1, 0};
}

void conf_exec_output_guarded(conf_exec *x, int id)
{
    if (!conf_exec_ok(x))
        return;
    if (id < 0 || id >= x->n_guarded || x->n_reads == CONF_MAX_READS) {
        conf_exec_fail(x, SSMRT_ERR_INTERNAL, "harness: bad guarded output");
        return;
    }
    x->reads[x->n_reads++] = (conf_read){NULL, id, 0};
}

static double *conf_exec_new_output(conf_exec *x, int64_t n)
{
    if (x->n_out == CONF_MAX_OUT) {
        conf_exec_fail(x, SSMRT_ERR_INTERNAL, "harness: too many outputs");
        return NULL;
    }
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) {
        conf_exec_fail(x, SSMRT_ERR_OUT_OF_MEMORY, "harness: out of memory");
        return NULL;
    }
    x->out[x->n_out].v = v;
    x->out[x->n_out].n = n;
    x->n_out++;
    return v;
}

static void conf_exec_read_tensor(conf_exec *x, const conf_read *r)
{
    int64_t n = ssmrt_tensor_nelements(r->t);
    float *f = malloc((size_t)(n > 0 ? n : 1) * sizeof *f);
    if (!f) {
        conf_exec_fail(x, SSMRT_ERR_OUT_OF_MEMORY, "harness: out of memory");
        return;
    }
    ssmrt_status st = ssmrt_graph_read_f32(x->g, r->t, f, (size_t)n);
    if (st != SSMRT_OK) {
        conf_exec_fail(x, st, "reading a result: %s", ssmrt_last_error());
    } else if (r->canary) {
        int64_t bad = 0, first = -1;
        for (int64_t i = 0; i < n; i++)
            if (f[i] != CONF_CANARY_VALUE && !bad++)
                first = i;
        if (bad)
            conf_exec_violation(x,
                                "guard: %lld of %lld elements of the %s arena canary (%s the hole "
                                "the op's output is planned into) were overwritten (first at %lld)",
                                (long long)bad, (long long)n, r->canary == 1 ? "lower" : "upper",
                                r->canary == 1 ? "below" : "above", (long long)first);
    } else {
        double *v = conf_exec_new_output(x, n);
        for (int64_t i = 0; v && i < n; i++)
            v[i] = f[i];
    }
    free(f);
}

static void conf_exec_read_guarded(conf_exec *x, int id, const unsigned char *bytes)
{
    const conf_guarded *gd = &x->guarded[id];
    int64_t nb = conf_shape_count(gd->ndim, gd->bshape);
    double *v = conf_exec_new_output(x, conf_shape_count(gd->ndim, gd->shape));
    for (int64_t e = 0; v && e < nb; e++) {
        int64_t inner = conf_guarded_inner(gd, e);
        if (inner >= 0)
            v[inner] = conf_dtype_load(gd->dtype, bytes, e);
    }
}

ssmrt_status conf_exec_compute(conf_exec *x)
{
    if (!x->g || !conf_exec_ok(x)) {
        conf_exec_drop_graph(x);
        return x->status;
    }
    ssmrt_status st = ssmrt_graph_compute(x->g);
    x->n_computes++;
    if (st != SSMRT_OK) {
        conf_exec_fail(x, st, "%s", ssmrt_last_error());
        conf_exec_drop_graph(x);
        return st;
    }
    unsigned char **guard_bytes = conf_exec_check_guards(x);
    for (int i = 0; i < x->n_reads && guard_bytes; i++) {
        const conf_read *r = &x->reads[i];
        if (r->guarded >= 0) {
            if (guard_bytes[r->guarded])
                conf_exec_read_guarded(x, r->guarded, guard_bytes[r->guarded]);
        } else {
            conf_exec_read_tensor(x, r);
        }
    }
    if (guard_bytes) {
        for (int id = 0; id < x->n_guarded; id++)
            free(guard_bytes[id]);
        free(guard_bytes);
    }
    conf_exec_check_inputs(x);
    conf_exec_drop_graph(x);
    return x->status;
}
