/* See rel_tiny_model.h. */
#include "rel_tiny_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssmrt_safetensors.h"

enum { H = 16, LAYERS = 2, V = 32, N = 16, W = 4, DI = 2 * H, R = 1 };

typedef enum tiny_kind { TK_MATRIX, TK_ALOG, TK_ONES, TK_DTBIAS, TK_CONV } tiny_kind;

static float tiny_uniform(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f;
}

static float *tiny_fill(tiny_kind k, int64_t n, uint32_t *seed)
{
    float *f = malloc((size_t)n * sizeof *f);
    for (int64_t i = 0; f && i < n; i++) {
        float u = tiny_uniform(seed);
        switch (k) {
        case TK_MATRIX: f[i] = 0.2f * u - 0.1f; break;
        case TK_ALOG: f[i] = logf(1.0f + (float)(i % N)); break;
        case TK_ONES: f[i] = 1.0f; break;
        case TK_DTBIAS: {
            double dt = exp(log(0.001) + u * (log(0.1) - log(0.001)));
            f[i] = (float)(dt + log(-expm1(-dt))); /* softplus(f) = dt */
            break;
        }
        case TK_CONV: f[i] = u - 0.5f; break;
        }
    }
    return f;
}

int rel_tiny_model_write(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *cf = fopen(path, "w");
    if (!cf) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    fprintf(cf,
            "{\"model_type\": \"mamba\", \"architectures\": [\"MambaForCausalLM\"],\n"
            " \"hidden_size\": %d, \"num_hidden_layers\": %d, \"vocab_size\": %d,\n"
            " \"state_size\": %d, \"conv_kernel\": %d, \"expand\": 2, \"intermediate_size\": %d,\n"
            " \"time_step_rank\": %d, \"use_conv_bias\": true, \"use_bias\": false,\n"
            " \"layer_norm_epsilon\": 1e-05, \"tie_word_embeddings\": true}\n",
            H, LAYERS, V, N, W, DI, R);
    if (fclose(cf)) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }

    struct {
        tiny_kind kind;
        int ndim;
        int64_t shape[3];
        const char *name; /* under backbone.layers.%d. when it starts with '.' */
    } spec[] = {
        {TK_MATRIX, 2, {DI * 2, H}, ".mixer.in_proj.weight"},
        {TK_CONV, 3, {DI, 1, W}, ".mixer.conv1d.weight"},
        {TK_CONV, 1, {DI}, ".mixer.conv1d.bias"},
        {TK_MATRIX, 2, {R + 2 * N, DI}, ".mixer.x_proj.weight"},
        {TK_MATRIX, 2, {DI, R}, ".mixer.dt_proj.weight"},
        {TK_DTBIAS, 1, {DI}, ".mixer.dt_proj.bias"},
        {TK_ALOG, 2, {DI, N}, ".mixer.A_log"},
        {TK_ONES, 1, {DI}, ".mixer.D"},
        {TK_MATRIX, 2, {H, DI}, ".mixer.out_proj.weight"},
        {TK_ONES, 1, {H}, ".norm.weight"},
    };
    enum { PER_LAYER = sizeof spec / sizeof spec[0], COUNT = 2 + LAYERS * PER_LAYER };
    ssmrt_st_tensor t[COUNT];
    char names[COUNT][96];
    float *data[COUNT];
    memset(t, 0, sizeof t);
    memset(data, 0, sizeof data);
    uint32_t seed = 2024;
    int n = 0, rc = 0;
    snprintf(names[n], sizeof names[n], "backbone.embeddings.weight");
    t[n] = (ssmrt_st_tensor){.ndim = 2, .shape = {V, H}};
    data[n++] = tiny_fill(TK_MATRIX, V * H, &seed);
    for (int l = 0; l < LAYERS; l++)
        for (int i = 0; i < PER_LAYER; i++) {
            snprintf(names[n], sizeof names[n], "backbone.layers.%d%s", l, spec[i].name);
            t[n] = (ssmrt_st_tensor){.ndim = spec[i].ndim};
            int64_t e = 1;
            for (int d = 0; d < spec[i].ndim; d++)
                e *= (t[n].shape[d] = spec[i].shape[d]);
            data[n++] = tiny_fill(spec[i].kind, e, &seed);
        }
    snprintf(names[n], sizeof names[n], "backbone.norm_f.weight");
    t[n] = (ssmrt_st_tensor){.ndim = 1, .shape = {H}};
    data[n++] = tiny_fill(TK_ONES, H, &seed);
    for (int i = 0; i < n; i++) {
        int64_t e = 1;
        for (int d = 0; d < t[i].ndim; d++)
            e *= t[i].shape[d];
        t[i].name = names[i];
        t[i].dtype = SSMRT_ST_F32;
        t[i].data = data[i];
        t[i].bytes = (uint64_t)e * sizeof(float);
        rc |= data[i] == NULL;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!rc && ssmrt_safetensors_write(path, t, (uint32_t)n) != SSMRT_OK) {
        fprintf(stderr, "cannot write %s\n", path);
        rc = 1;
    }
    for (int i = 0; i < n; i++)
        free(data[i]);
    return rc;
}
