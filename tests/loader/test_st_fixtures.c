/*
 * The fixture checkpoints in tests/data (saved by transformers' save_pretrained) open
 * through every entry point, and what the reader hands out is checked against facts
 * known independently of it:
 *  - the tensor pointers land on the same bytes a plain fread of the file finds there
 *    (data sections are written back to back, so a tensor's file offset is
 *    file size - total bytes + its distance from the first tensor);
 *  - shapes match the model configurations in the fixture README;
 *  - Mamba/Jamba A_log is initialised by transformers to log(1..d_state) (Mamba-1,
 *    Jamba) or log(1..n_heads) (Mamba-2), so its values are known;
 *  - reference.safetensors: prompt_ids equals the first P ids of input_ids row 0.
 */
#include <float.h>
#include <math.h>

#include "st_test.h"

static char data_dir[4096];

static const char *fixture(const char *model, const char *file)
{
    static char buf[2][4200];
    static int k;
    char *b = buf[k++ & 1];
    snprintf(b, sizeof buf[0], "%s/%s%s%s", data_dir, model, file ? "/" : "", file ? file : "");
    return b;
}

static int64_t nelements(const ssmrt_st_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

static int shape_is(const ssmrt_st_tensor *t, int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    int64_t d[3] = {d0, d1, d2};
    if (t->ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] != d[i])
            return 0;
    return 1;
}

/* Every tensor: consistent size, contiguous layout in file order, bytes equal to an
 * independent read of the file, and find() returning the same view. */
static void check_layout(const char *path, const ssmrt_safetensors *st)
{
    size_t fsize;
    unsigned char *file = st_read_file(path, &fsize);
    uint32_t n = ssmrt_safetensors_count(st);
    CHECK(n > 0);
    ssmrt_st_tensor first, t;
    CHECK_OK(ssmrt_safetensors_at(st, 0, &first));
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        CHECK_OK(ssmrt_safetensors_at(st, i, &t));
        CHECK_MSG((uint64_t)nelements(&t) * ssmrt_st_dtype_size(t.dtype) == t.bytes, "%s",
                  t.name);
        CHECK_MSG((const unsigned char *)t.data == (const unsigned char *)first.data + total,
                  "%s is not right after the previous tensor", t.name);
        total += t.bytes;
        ssmrt_st_tensor f;
        CHECK_OK(ssmrt_safetensors_find(st, t.name, &f));
        CHECK_MSG(f.data == t.data && f.bytes == t.bytes && f.ndim == t.ndim, "%s", t.name);
    }
    CHECK(total <= fsize);
    for (uint32_t i = 0; i < n; i++) {
        ssmrt_safetensors_at(st, i, &t);
        size_t off = fsize - total + (size_t)((const unsigned char *)t.data -
                                              (const unsigned char *)first.data);
        CHECK_MSG(memcmp(file + off, t.data, t.bytes) == 0, "%s: bytes differ from the file",
                  t.name);
    }
    free(file);
    ssmrt_st_tensor none;
    CHECK(ssmrt_safetensors_find(st, "no.such.tensor", &none) == SSMRT_ERR_NOT_FOUND);
    CHECK(strstr(ssmrt_last_error(), "no.such.tensor") != NULL);
    CHECK(ssmrt_safetensors_at(st, n, &none) == SSMRT_ERR_INVALID_ARGUMENT);
}

/* A_log[..., j] == log(j + 1) over the last axis, to 2 float ulps (torch's log and
 * libm's may round differently by one ulp; storing as float adds at most half). */
static void check_a_log(const ssmrt_safetensors *st, const char *name)
{
    ssmrt_st_tensor t;
    CHECK_OK(ssmrt_safetensors_find(st, name, &t));
    if (t.dtype != SSMRT_ST_F32 || t.ndim < 1)
        return;
    int64_t inner = t.shape[t.ndim - 1], n = nelements(&t);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        float v;
        memcpy(&v, (const char *)t.data + 4 * i, 4);
        double want = log((double)(i % inner + 1));
        if (fabs(v - want) > 2 * FLT_EPSILON * fabs(want))
            bad++;
    }
    CHECK_MSG(bad == 0, "%s: %d values differ from log(j+1)", name, bad);
}

typedef struct model_case {
    const char *dir;
    const char *embed; /* embedding table name */
    int64_t vocab, hidden;
    const char *a_log;
    int64_t a_log_rows, a_log_cols; /* cols 0: 1-d */
} model_case;

static const model_case models[] = {
    {"mamba1-tiny", "backbone.embeddings.weight", 512, 64, "backbone.layers.0.mixer.A_log", 128,
     16},
    {"mamba1-small", "backbone.embeddings.weight", 1024, 192, "backbone.layers.2.mixer.A_log",
     384, 16},
    {"mamba2-tiny", "backbone.embeddings.weight", 512, 64, "backbone.layers.3.mixer.A_log", 8, 0},
    {"jamba-tiny", "model.embed_tokens.weight", 512, 64, "model.layers.0.mamba.A_log", 128, 16},
    {"jamba-moe-tiny", "model.embed_tokens.weight", 512, 64, "model.layers.2.mamba.A_log", 128,
     16},
};

static void check_model(const model_case *m)
{
    const char *dir = fixture(m->dir, NULL);
    const char *file = fixture(m->dir, "model.safetensors");
    ssmrt_safetensors *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(ssmrt_safetensors_open(dir, &a));  /* directory */
    CHECK_OK(ssmrt_safetensors_open(file, &b)); /* file */
    size_t size;
    unsigned char *img = st_read_file(file, &size);
    CHECK_OK(ssmrt_safetensors_open_memory(img, size, m->dir, &c)); /* memory */
    if (!a || !b || !c) {
        fprintf(stderr, "%s: cannot continue\n", m->dir);
        ssmrt_safetensors_close(a), ssmrt_safetensors_close(b), ssmrt_safetensors_close(c);
        free(img);
        return;
    }
    CHECK(ssmrt_safetensors_count(a) == ssmrt_safetensors_count(b));
    CHECK(ssmrt_safetensors_count(a) == ssmrt_safetensors_count(c));
    for (uint32_t i = 0; i < ssmrt_safetensors_count(a); i++) {
        ssmrt_st_tensor ta, tc;
        ssmrt_safetensors_at(a, i, &ta);
        ssmrt_safetensors_at(c, i, &tc);
        CHECK(strcmp(ta.name, tc.name) == 0 && ta.bytes == tc.bytes);
        CHECK(memcmp(ta.data, tc.data, ta.bytes) == 0);
        CHECK((const unsigned char *)tc.data >= img &&
              (const unsigned char *)tc.data + tc.bytes <= img + size); /* zero copy */
        CHECK(ta.dtype == SSMRT_ST_F32);
    }
    check_layout(file, a);
    ssmrt_st_tensor e;
    CHECK_OK(ssmrt_safetensors_find(a, m->embed, &e));
    CHECK_MSG(shape_is(&e, 2, m->vocab, m->hidden, 0), "%s: %s", m->dir, m->embed);
    ssmrt_st_tensor al;
    CHECK_OK(ssmrt_safetensors_find(a, m->a_log, &al));
    CHECK_MSG(m->a_log_cols ? shape_is(&al, 2, m->a_log_rows, m->a_log_cols, 0)
                            : shape_is(&al, 1, m->a_log_rows, 0, 0),
              "%s: %s", m->dir, m->a_log);
    check_a_log(a, m->a_log);
    ssmrt_safetensors_close(a);
    ssmrt_safetensors_close(b);
    ssmrt_safetensors_close(c);
    free(img);
}

static void check_reference(const char *model, int64_t vocab)
{
    ssmrt_safetensors *st = NULL;
    CHECK_OK(ssmrt_safetensors_open(fixture(model, "reference.safetensors"), &st));
    if (!st)
        return;
    check_layout(fixture(model, "reference.safetensors"), st);
    ssmrt_st_tensor ids, prompt, logits, gen, gl;
    CHECK_OK(ssmrt_safetensors_find(st, "input_ids", &ids));
    CHECK_OK(ssmrt_safetensors_find(st, "prompt_ids", &prompt));
    CHECK_OK(ssmrt_safetensors_find(st, "logits", &logits));
    CHECK_OK(ssmrt_safetensors_find(st, "generated_ids", &gen));
    CHECK_OK(ssmrt_safetensors_find(st, "generated_logits", &gl));
    CHECK(ids.dtype == SSMRT_ST_I32 && ids.ndim == 2);
    CHECK(prompt.dtype == SSMRT_ST_I32 && prompt.ndim == 1 && prompt.shape[0] <= ids.shape[1]);
    CHECK(shape_is(&logits, 3, ids.shape[0], ids.shape[1], vocab));
    CHECK(gen.dtype == SSMRT_ST_I32 && shape_is(&gl, 2, gen.shape[0], vocab, 0));
    CHECK_MSG(memcmp(prompt.data, ids.data, prompt.bytes) == 0,
              "%s: prompt_ids is not the start of input_ids row 0", model);
    /* ids are token ids: inside the vocabulary */
    int bad = 0;
    for (int64_t i = 0; i < nelements(&ids); i++) {
        int32_t v;
        memcpy(&v, (const char *)ids.data + 4 * i, 4);
        bad += (v < 0 || v >= vocab);
    }
    CHECK_MSG(bad == 0, "%s: %d input ids outside [0, %lld)", model, bad, (long long)vocab);
    ssmrt_safetensors_close(st);
}

static void check_s4d(const char *model)
{
    ssmrt_safetensors *st = NULL;
    CHECK_OK(ssmrt_safetensors_open(fixture(model, "s4d.safetensors"), &st));
    if (!st)
        return;
    check_layout(fixture(model, "s4d.safetensors"), st);
    ssmrt_st_tensor D, C, K, u, y, W, bias;
    CHECK_OK(ssmrt_safetensors_find(st, "D", &D));
    CHECK_OK(ssmrt_safetensors_find(st, "kernel.C", &C));
    CHECK_OK(ssmrt_safetensors_find(st, "K", &K));
    CHECK_OK(ssmrt_safetensors_find(st, "u", &u));
    CHECK_OK(ssmrt_safetensors_find(st, "y", &y));
    CHECK_OK(ssmrt_safetensors_find(st, "output_linear.weight", &W));
    CHECK_OK(ssmrt_safetensors_find(st, "output_linear.bias", &bias));
    int64_t H = D.shape[0];
    CHECK(D.ndim == 1 && C.ndim == 3 && C.shape[0] == H && C.shape[2] == 2);
    CHECK(u.ndim == 3 && u.shape[1] == H && shape_is(&K, 2, H, u.shape[2], 0));
    CHECK(shape_is(&y, 3, u.shape[0], H, u.shape[2]));
    CHECK(shape_is(&W, 2, 2 * H, H, 0) && shape_is(&bias, 1, 2 * H, 0, 0));
    ssmrt_safetensors_close(st);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s TESTS_DATA_DIR\n", argv[0]);
        return 2;
    }
    snprintf(data_dir, sizeof data_dir, "%s", argv[1]);
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        check_model(&models[i]);
        check_reference(models[i].dir, models[i].vocab);
    }
    check_s4d("s4d-small");
    check_s4d("s4d-long");
    return st_test_finish("test_st_fixtures");
}
