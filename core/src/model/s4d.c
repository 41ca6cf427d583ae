/* One S4D layer (state-spaces/s4, models/s4/s4d.py), in its two equivalent forms.
 *
 * Parameters: dt = exp(log_dt) [H]; A = -exp(log_A_real) + i*A_imag [H, N/2];
 * C [H, N/2] complex. With dtA = dt*A, the zero-order-hold discretisation is
 *   x_l = exp(dtA) x_{l-1} + u_l,   y_l = 2 Re(sum_n C'_n x_{l,n}),
 *   C' = C (exp(dtA) - 1) / A,
 * whose impulse response is the kernel K[h, l] = 2 Re(sum_n C'_n exp(dtA_n l)).
 * Either way the layer then computes, per position,
 *   v = GELU(ssm(u) + D u),  out = GLU(W v + b)  (first half * sigmoid(second half)).
 *
 * Convolution mode: K is generated on the host in double (complex exponentials, not
 * powers, so no error accumulates along l) and rounded once to f32; the device runs
 * conv_long, the D skip, GELU, the output matmul and the GLU as one graph.
 *
 * Recurrent mode: the complex diagonal recurrence has no dedicated op (the selective
 * scan's decay is real), so it is written with elementwise ops on the real and
 * imaginary parts of the state [B, H, N/2] and a matmul with a row of ones for the
 * sum over modes. One graph advances every sequence by one token; it runs L times
 * with the state in persistent device tensors, exactly as a decode loop would. All
 * arithmetic runs on the device in f32; only exp(dtA) and C' are computed on the host
 * (in double, once per load). */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "error.h"
#include "model/model.h"

struct ssmrt_s4d {
    ssmrt_context *ctx;
    int64_t H, M;          /* channels, complex modes (N/2) */
    double *log_dt;        /* [H] */
    double complex *A;     /* [H, M] */
    double complex *C;     /* [H, M] */
    ssmrt_tensor *D;       /* [H] f32 */
    ssmrt_tensor *W, *b;   /* [2H, H] file dtype, [2H] f32 */
    ssmrt_tensor *a_re, *a_im; /* exp(dtA) [H, M] */
    ssmrt_tensor *c_re, *c_im; /* 2 Re(C'), -2 Im(C') [H, M] */
    ssmrt_tensor *ones;    /* [1, M] */
    ssmrt__weights w;      /* owns the tensors */
};

/* exp(dtA) and C' for channel h, mode n. */
static void s4d_discrete(const ssmrt_s4d *s, int64_t h, int64_t n, double complex *dtA,
                         double complex *Cp)
{
    const double complex A = s->A[h * s->M + n];
    *dtA = A * exp(s->log_dt[h]);
    *Cp = s->C[h * s->M + n] * (cexp(*dtA) - 1.0) / A;
}

SSMRT_API int64_t ssmrt_s4d_channels(const ssmrt_s4d *layer)
{
    return layer ? layer->H : 0;
}

SSMRT_API int64_t ssmrt_s4d_state_size(const ssmrt_s4d *layer)
{
    return layer ? 2 * layer->M : 0;
}

SSMRT_API void ssmrt_s4d_destroy(ssmrt_s4d *layer)
{
    if (!layer)
        return;
    ssmrt__weights_destroy_tensors(&layer->w);
    ssmrt__free(layer->log_dt);
    ssmrt__free(layer->A);
    ssmrt__free(layer->C);
    ssmrt__free(layer);
}

/* The output projection: "output_linear.weight" as saved by the fixtures, or the
 * Conv1d(H, 2H, 1) inside nn.Sequential of the s4 repository ("output_linear.0."). */
static void s4d_load_output(ssmrt_s4d *s)
{
    ssmrt__weights *w = &s->w;
    const int64_t H = s->H;
    const char *p = ssmrt__weights_has(w, "output_linear.0.weight") ? "output_linear.0."
                                                                     : "output_linear.";
    int64_t wshape[3] = {2 * H, H, 1};
    ssmrt_st_tensor e;
    int ndim = 2;
    char name[64];
    snprintf(name, sizeof name, "%sweight", p);
    if (ssmrt_safetensors_find(w->st, name, &e) == SSMRT_OK && e.ndim == 3)
        ndim = 3;
    s->W = ssmrt__weights_get_as(w, SSMRT__W_NATIVE, ndim, wshape, 2, wshape, "%sweight", p);
    s->b = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){2 * H}, "%sbias", p);
}

static ssmrt_status s4d_upload_recurrence(ssmrt_s4d *s)
{
    const int64_t H = s->H, M = s->M;
    float *buf = ssmrt__malloc((size_t)(4 * H * M + M) * sizeof *buf);
    if (!buf)
        return SSMRT_ERR_OUT_OF_MEMORY;
    float *are = buf, *aim = buf + H * M, *cre = buf + 2 * H * M, *cim = buf + 3 * H * M,
          *ones = buf + 4 * H * M;
    for (int64_t h = 0; h < H; h++)
        for (int64_t n = 0; n < M; n++) {
            double complex dtA, Cp;
            s4d_discrete(s, h, n, &dtA, &Cp);
            const double complex a = cexp(dtA);
            are[h * M + n] = (float)creal(a);
            aim[h * M + n] = (float)cimag(a);
            /* y = 2 Re(C' x) = 2 Re(C') Re(x) - 2 Im(C') Im(x) */
            cre[h * M + n] = (float)(2.0 * creal(Cp));
            cim[h * M + n] = (float)(-2.0 * cimag(Cp));
        }
    for (int64_t n = 0; n < M; n++)
        ones[n] = 1.0f;
    const int64_t hm[2] = {H, M};
    s->a_re = ssmrt__weights_upload_f32(&s->w, are, 2, hm);
    s->a_im = ssmrt__weights_upload_f32(&s->w, aim, 2, hm);
    s->c_re = ssmrt__weights_upload_f32(&s->w, cre, 2, hm);
    s->c_im = ssmrt__weights_upload_f32(&s->w, cim, 2, hm);
    s->ones = ssmrt__weights_upload_f32(&s->w, ones, 2, (int64_t[]){1, M});
    ssmrt__free(buf);
    return s->w.status;
}

static ssmrt_status s4d_read(ssmrt_s4d *s)
{
    ssmrt__weights *w = &s->w;
    ssmrt_st_tensor d, ai;
    ssmrt_status st = ssmrt_safetensors_find(w->st, "D", &d);
    if (!st)
        st = ssmrt_safetensors_find(w->st, "kernel.A_imag", &ai);
    if (st)
        return ssmrt__fail_prefix(SSMRT_ERR_FORMAT, "%s: not an S4D layer", w->label);
    if (d.ndim != 1 || ai.ndim != 2 || ai.shape[0] != d.shape[0] || d.shape[0] < 1 ||
        ai.shape[1] < 1)
        return ssmrt__fail(SSMRT_ERR_SHAPE, "%s: 'D' must be [H] and 'kernel.A_imag' [H, N/2]",
                           w->label);
    const int64_t H = s->H = d.shape[0], M = s->M = ai.shape[1];

    s->log_dt = ssmrt__weights_read_f64(w, 1, (int64_t[]){H}, "kernel.log_dt");
    double *lar = ssmrt__weights_read_f64(w, 2, (int64_t[]){H, M}, "kernel.log_A_real");
    double *aim = ssmrt__weights_read_f64(w, 2, (int64_t[]){H, M}, "kernel.A_imag");
    double *c = ssmrt__weights_read_f64(w, 3, (int64_t[]){H, M, 2}, "kernel.C");
    s->A = ssmrt__malloc((size_t)(H * M) * sizeof *s->A);
    s->C = ssmrt__malloc((size_t)(H * M) * sizeof *s->C);
    if (!w->status && (!s->A || !s->C))
        w->status = SSMRT_ERR_OUT_OF_MEMORY;
    if (!w->status)
        for (int64_t i = 0; i < H * M; i++) {
            s->A[i] = -exp(lar[i]) + I * aim[i];
            s->C[i] = c[2 * i] + I * c[2 * i + 1];
        }
    ssmrt__free(lar);
    ssmrt__free(aim);
    ssmrt__free(c);
    s->D = ssmrt__weights_get(w, SSMRT__W_F32, 1, (int64_t[]){H}, "D");
    s4d_load_output(s);
    return w->status ? w->status : s4d_upload_recurrence(s);
}

SSMRT_API ssmrt_status ssmrt_s4d_load(ssmrt_context *ctx, const char *path, ssmrt_s4d **out)
{
    if (!out)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_s4d_load: out is NULL");
    *out = NULL;
    if (!ctx || !path)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_s4d_load: %s is NULL",
                           !ctx ? "context" : "path");
    ssmrt_s4d *s = ssmrt__calloc(1, sizeof *s);
    if (!s)
        return SSMRT_ERR_OUT_OF_MEMORY;
    s->ctx = ctx;

    /* A directory means its s4d.safetensors. */
    struct stat sb;
    size_t pl = strlen(path) + 20;
    char *file = ssmrt__malloc(pl);
    if (!file) {
        ssmrt__free(s);
        return SSMRT_ERR_OUT_OF_MEMORY;
    }
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        snprintf(file, pl, "%s/s4d.safetensors", path);
    else
        snprintf(file, pl, "%s", path);

    ssmrt_status st = ssmrt__weights_open(&s->w, ctx, file);
    if (!st)
        st = s4d_read(s);
    ssmrt__weights_close(&s->w);
    ssmrt__free(file);
    if (st) {
        ssmrt_s4d_destroy(s);
        return st;
    }
    s->w.label = NULL; /* pointed at file */
    *out = s;
    return SSMRT_OK;
}

SSMRT_API ssmrt_status ssmrt_s4d_kernel(const ssmrt_s4d *layer, int64_t L, float *K)
{
    if (!layer || !K || L < 1)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_s4d_kernel: %s",
                           !layer ? "layer is NULL" : !K ? "K is NULL" : "L must be >= 1");
    for (int64_t h = 0; h < layer->H; h++) {
        double *acc = ssmrt__calloc((size_t)L, sizeof *acc);
        if (!acc)
            return SSMRT_ERR_OUT_OF_MEMORY;
        for (int64_t n = 0; n < layer->M; n++) {
            double complex dtA, Cp;
            s4d_discrete(layer, h, n, &dtA, &Cp);
            for (int64_t l = 0; l < L; l++)
                acc[l] += 2.0 * creal(Cp * cexp(dtA * (double)l));
        }
        for (int64_t l = 0; l < L; l++)
            K[h * L + l] = (float)acc[l];
        ssmrt__free(acc);
    }
    return SSMRT_OK;
}

/* The shared tail: GLU(W GELU(ssm + D u) + b). ssm and u [B, L, H]. */
static ssmrt_tensor *s4d_tail(ssmrt_graph *g, const ssmrt_s4d *s, ssmrt_tensor *ssm,
                              ssmrt_tensor *u)
{
    ssmrt_tensor *v = ssmrt_graph_gelu(g, ssmrt_graph_add(g, ssm, ssmrt_graph_mul(g, u, s->D)));
    ssmrt_tensor *o = ssmrt_graph_matmul(g, v, s->W, s->b);
    return ssmrt_graph_mul(g, ssmrt_graph_slice(g, o, 2, 0, s->H),
                           ssmrt_graph_sigmoid(g, ssmrt_graph_slice(g, o, 2, s->H, s->H)));
}

static ssmrt_status s4d_conv(ssmrt_s4d *s, const float *u, int64_t B, int64_t L, float *y)
{
    const int64_t H = s->H;
    ssmrt_tensor *ut = NULL, *kt = NULL;
    ssmrt_graph *g = NULL;
    float *K = ssmrt__malloc((size_t)(H * L) * sizeof *K);
    if (!K)
        return SSMRT_ERR_OUT_OF_MEMORY;
    ssmrt_status st = ssmrt_s4d_kernel(s, L, K);
    if (!st)
        st = ssmrt_tensor_create(s->ctx, SSMRT_F32, 2, (int64_t[]){H, L}, &kt);
    if (!st)
        st = ssmrt_tensor_upload(kt, K, (size_t)(H * L) * sizeof *K);
    if (!st)
        st = ssmrt_tensor_create(s->ctx, SSMRT_F32, 3, (int64_t[]){B, L, H}, &ut);
    if (!st)
        st = ssmrt_tensor_upload(ut, u, (size_t)(B * L * H) * sizeof *u);
    if (!st)
        st = ssmrt_graph_create(s->ctx, &g);
    if (!st) {
        ssmrt_tensor *out =
            ssmrt_graph_output(g, s4d_tail(g, s, ssmrt_graph_conv_long(g, ut, kt), ut));
        st = ssmrt_graph_compute(g);
        if (!st)
            st = ssmrt_graph_read_f32(g, out, y, (size_t)(B * L * H));
    }
    ssmrt_graph_destroy(g);
    ssmrt_tensor_destroy(ut);
    ssmrt_tensor_destroy(kt);
    ssmrt__free(K);
    return st;
}

static ssmrt_status s4d_recurrent(ssmrt_s4d *s, const float *u, int64_t B, int64_t L, float *y)
{
    const int64_t H = s->H, M = s->M;
    ssmrt_tensor *sre = NULL, *sim = NULL, *ut = NULL;
    ssmrt_graph *g = NULL;
    float *step = ssmrt__malloc((size_t)(2 * B * H) * sizeof *step);
    if (!step)
        return SSMRT_ERR_OUT_OF_MEMORY;
    float *ystep = step + B * H;
    ssmrt_status st = ssmrt_tensor_create(s->ctx, SSMRT_F32, 3, (int64_t[]){B, H, M}, &sre);
    if (!st)
        st = ssmrt_tensor_create(s->ctx, SSMRT_F32, 3, (int64_t[]){B, H, M}, &sim);
    if (!st)
        st = ssmrt_tensor_create(s->ctx, SSMRT_F32, 3, (int64_t[]){B, 1, H}, &ut);
    if (!st)
        st = ssmrt_tensor_zero(sre);
    if (!st)
        st = ssmrt_tensor_zero(sim);
    if (!st)
        st = ssmrt_graph_create(s->ctx, &g);

    ssmrt_tensor *out = NULL;
    if (!st) {
        /* x' = exp(dtA) x + u, complex, as real and imaginary parts. */
        ssmrt_tensor *u3 = ssmrt_graph_reshape(g, ut, 3, (int64_t[]){B, H, 1});
        ssmrt_tensor *re = ssmrt_graph_add(
            g,
            ssmrt_graph_add(g, ssmrt_graph_mul(g, sre, s->a_re),
                            ssmrt_graph_scale(g, ssmrt_graph_mul(g, sim, s->a_im), -1.0f, 0.0f)),
            u3);
        ssmrt_tensor *im = ssmrt_graph_add(g, ssmrt_graph_mul(g, sre, s->a_im),
                                           ssmrt_graph_mul(g, sim, s->a_re));
        /* 2 Re(sum_n C'_n x_n), summed over the modes by a matmul with ones. */
        ssmrt_tensor *ssm = ssmrt_graph_add(
            g, ssmrt_graph_matmul(g, ssmrt_graph_mul(g, re, s->c_re), s->ones, NULL),
            ssmrt_graph_matmul(g, ssmrt_graph_mul(g, im, s->c_im), s->ones, NULL)); /* [B,H,1] */
        ssmrt_graph_copy_into(g, re, sre);
        ssmrt_graph_copy_into(g, im, sim);
        out = ssmrt_graph_output(
            g, s4d_tail(g, s, ssmrt_graph_reshape(g, ssm, 3, (int64_t[]){B, 1, H}), ut));
        st = ssmrt_graph_status(g);
    }
    for (int64_t l = 0; !st && l < L; l++) {
        for (int64_t b = 0; b < B; b++)
            memcpy(step + b * H, u + (b * L + l) * H, (size_t)H * sizeof *step);
        st = ssmrt_tensor_upload(ut, step, (size_t)(B * H) * sizeof *step);
        if (!st)
            st = ssmrt_graph_compute(g);
        if (!st)
            st = ssmrt_graph_read_f32(g, out, ystep, (size_t)(B * H));
        for (int64_t b = 0; !st && b < B; b++)
            memcpy(y + (b * L + l) * H, ystep + b * H, (size_t)H * sizeof *y);
    }
    ssmrt_graph_destroy(g);
    ssmrt_tensor_destroy(sre);
    ssmrt_tensor_destroy(sim);
    ssmrt_tensor_destroy(ut);
    ssmrt__free(step);
    return st;
}

SSMRT_API ssmrt_status ssmrt_s4d_forward(ssmrt_s4d *layer, ssmrt_s4d_mode mode, const float *u,
                                         int64_t batch, int64_t L, float *y)
{
    if (!layer || !u || !y)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_s4d_forward: %s is NULL",
                           !layer ? "layer" : !u ? "u" : "y");
    if (batch < 1 || L < 1)
        return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT,
                           "ssmrt_s4d_forward: batch (%lld) and L (%lld) must be >= 1",
                           (long long)batch, (long long)L);
    switch (mode) {
    case SSMRT_S4D_CONVOLUTION: return s4d_conv(layer, u, batch, L, y);
    case SSMRT_S4D_RECURRENT: return s4d_recurrent(layer, u, batch, L, y);
    }
    return ssmrt__fail(SSMRT_ERR_INVALID_ARGUMENT, "ssmrt_s4d_forward: unknown mode %d", (int)mode);
}
