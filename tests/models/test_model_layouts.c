/* The same models stored other ways must compute the same logits:
 *  - the original state-spaces layouts (config d_model / n_layer / ssm_cfg, tensors
 *    under backbone.embedding, an lm_head copy, a padded vocabulary) of the Mamba-1
 *    and Mamba-2 fixtures, against the transformers reference;
 *  - F16 and BF16 checkpoints, against an F32 checkpoint holding the same rounded
 *    values (so the half-precision paths are checked exactly, not against a loose
 *    bound): they must agree to f32 accumulation noise;
 *  - a sharded checkpoint (model.safetensors.index.json), against the reference.
 * usage: test_model_layouts DATA_DIR */
#include "model_files.h"

static ssmrt_context *ctx;
static char data[4096];

typedef struct ref {
    int32_t *ids;
    float *logits;
    int64_t B, L, V;
} ref;

static void ref_load(const char *fixture, ref *r)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s/reference.safetensors", data, fixture);
    ssmrt_safetensors *st = NULL;
    MT_OK(ssmrt_safetensors_open(p, &st));
    int64_t shape[8];
    int nd;
    r->ids = mt_read(st, "input_ids", 1, shape, &nd);
    r->B = shape[0];
    r->L = shape[1];
    r->logits = mt_read(st, "logits", 0, shape, &nd);
    r->V = shape[2];
    ssmrt_safetensors_close(st);
}

static float *run(const char *dir, const ref *r)
{
    ssmrt_model *m = NULL;
    MT_OK(ssmrt_model_load(ctx, dir, &m));
    ssmrt_session_options o = {sizeof o, (int32_t)r->B, r->L, 0};
    ssmrt_session *s = NULL;
    MT_OK(ssmrt_session_create(m, &o, &s));
    float *out = malloc((size_t)(r->B * r->L * r->V) * sizeof *out);
    MT_OK(ssmrt_session_forward(s, r->ids, r->L, out, NULL));
    ssmrt_session_destroy(s);
    ssmrt_model_destroy(m);
    return out;
}

static void check(const char *what, const float *a, const float *b, int64_t n, double tol)
{
    double e = mt_max_abs(a, b, n);
    printf("RESULT layouts %s max_abs=%.3g\n", what, e);
    MT_CHECK(e <= tol, "%s: max-abs %.3g > %.3g", what, e, tol);
}

/* backbone.embeddings.* -> backbone.embedding.*, plus the lm_head copy that mamba_ssm
 * saves alongside a tied head. */
static void state_spaces(const char *fixture, const char *config)
{
    char dir[512], src[4200], p[4200];
    mf_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/config.json", dir);
    mf_write_text(p, config);
    mf_tensors t;
    snprintf(src, sizeof src, "%s/%s/model.safetensors", data, fixture);
    mf_tensors_open(&t, src);
    ssmrt_st_tensor *e = mf_find(&t, "backbone.embeddings.weight");
    e->name = "backbone.embedding.weight";
    t.t[t.n] = *e;
    t.t[t.n].name = "lm_head.weight";
    mf_write_tensors(dir, "model.safetensors", t.t, t.n + 1);
    mf_tensors_close(&t);

    ref r;
    ref_load(fixture, &r);
    float *out = run(dir, &r);
    char what[128];
    snprintf(what, sizeof what, "state-spaces %s", fixture);
    check(what, out, r.logits, r.B * r.L * r.V, 2e-3);
    free(out);
    free(r.ids);
    free(r.logits);
    mf_rmdir(dir);
}

/* Writes the fixture with every float tensor in dtype (F16/BF16), and a twin in F32
 * holding the same rounded values; both must give the same logits. */
static void half(const char *fixture, ssmrt_st_dtype dtype)
{
    char dir_h[512], dir_f[512], src[4200], p[4200];
    mf_tmpdir(dir_h, sizeof dir_h);
    mf_tmpdir(dir_f, sizeof dir_f);
    snprintf(src, sizeof src, "%s/%s/config.json", data, fixture);
    char *cfg = mf_slurp(src);
    snprintf(p, sizeof p, "%s/config.json", dir_h);
    mf_write_text(p, cfg);
    snprintf(p, sizeof p, "%s/config.json", dir_f);
    mf_write_text(p, cfg);

    mf_tensors t;
    snprintf(src, sizeof src, "%s/%s/model.safetensors", data, fixture);
    mf_tensors_open(&t, src);
    ssmrt_st_tensor *th = calloc(t.n, sizeof *th), *tf = calloc(t.n, sizeof *tf);
    void **bufs = calloc(2 * t.n, sizeof *bufs);
    for (uint32_t i = 0; i < t.n; i++) {
        const int64_t n = (int64_t)(t.t[i].bytes / 4);
        uint16_t *h = malloc((size_t)n * 2);
        float *f = malloc((size_t)n * 4);
        for (int64_t j = 0; j < n; j++) {
            float x;
            memcpy(&x, (const char *)t.t[i].data + j * 4, 4);
            h[j] = dtype == SSMRT_ST_F16 ? ssmrt_f32_to_f16(x) : ssmrt_f32_to_bf16(x);
            f[j] = dtype == SSMRT_ST_F16 ? ssmrt_f16_to_f32(h[j]) : ssmrt_bf16_to_f32(h[j]);
        }
        th[i] = tf[i] = t.t[i];
        th[i].dtype = dtype;
        th[i].data = h;
        th[i].bytes = (uint64_t)n * 2;
        tf[i].data = f;
        bufs[2 * i] = h;
        bufs[2 * i + 1] = f;
    }
    mf_write_tensors(dir_h, "model.safetensors", th, t.n);
    mf_write_tensors(dir_f, "model.safetensors", tf, t.n);
    for (uint32_t i = 0; i < 2 * t.n; i++)
        free(bufs[i]);
    free(bufs);
    free(th);
    free(tf);
    mf_tensors_close(&t);

    ref r;
    ref_load(fixture, &r);
    float *oh = run(dir_h, &r), *of = run(dir_f, &r);
    char what[128];
    snprintf(what, sizeof what, "%s %s-vs-rounded-f32", fixture, ssmrt_st_dtype_name(dtype));
    /* Same values, same math: only the order of f32 accumulation may differ. */
    check(what, oh, of, r.B * r.L * r.V, 1e-4);
    snprintf(what, sizeof what, "%s %s-vs-reference (information only)", fixture,
             ssmrt_st_dtype_name(dtype));
    printf("RESULT layouts %s max_abs=%.3g\n", what, mt_max_abs(oh, r.logits, r.B * r.L * r.V));
    free(oh);
    free(of);
    free(r.ids);
    free(r.logits);
    free(cfg);
    mf_rmdir(dir_h);
    mf_rmdir(dir_f);
}

static void sharded(const char *fixture)
{
    char dir[512], src[4200], p[4200];
    mf_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/%s/config.json", data, fixture);
    char *cfg = mf_slurp(src);
    snprintf(p, sizeof p, "%s/config.json", dir);
    mf_write_text(p, cfg);
    mf_tensors t;
    snprintf(src, sizeof src, "%s/%s/model.safetensors", data, fixture);
    mf_tensors_open(&t, src);
    const uint32_t half_n = t.n / 2;
    mf_write_tensors(dir, "model-00001-of-00002.safetensors", t.t, half_n);
    mf_write_tensors(dir, "model-00002-of-00002.safetensors", t.t + half_n, t.n - half_n);
    size_t cap = 256 + (size_t)t.n * 160, used = 0;
    char *idx = malloc(cap);
    used += (size_t)snprintf(idx + used, cap - used, "{\"metadata\": {}, \"weight_map\": {");
    for (uint32_t i = 0; i < t.n; i++)
        used += (size_t)snprintf(idx + used, cap - used, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"",
                                 i ? ", " : "", t.t[i].name, i < half_n ? 1 : 2);
    snprintf(idx + used, cap - used, "}}\n");
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    mf_write_text(p, idx);
    mf_tensors_close(&t);

    ref r;
    ref_load(fixture, &r);
    float *out = run(dir, &r);
    char what[128];
    snprintf(what, sizeof what, "sharded %s", fixture);
    check(what, out, r.logits, r.B * r.L * r.V, 2e-3);
    free(out);
    free(r.ids);
    free(r.logits);
    free(idx);
    free(cfg);
    mf_rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    snprintf(data, sizeof data, "%s", argv[1]);
    ctx = mt_context();

    /* vocab_size 509 padded to a multiple of 8 is the fixture's 512 rows. */
    state_spaces("mamba1-tiny",
                 "{\"d_model\": 64, \"n_layer\": 4, \"vocab_size\": 509, \"ssm_cfg\": "
                 "{\"d_state\": 16, \"d_conv\": 4, \"expand\": 2, \"dt_rank\": 8}, "
                 "\"rms_norm\": true, \"residual_in_fp32\": true, \"fused_add_norm\": true, "
                 "\"pad_vocab_size_multiple\": 8, \"tie_embeddings\": true}");
    state_spaces("mamba2-tiny",
                 "{\"d_model\": 64, \"d_intermediate\": 0, \"n_layer\": 4, \"vocab_size\": 512, "
                 "\"ssm_cfg\": {\"layer\": \"Mamba2\", \"d_state\": 16, \"d_conv\": 4, "
                 "\"expand\": 2, \"headdim\": 16, \"ngroups\": 1, \"chunk_size\": 16}, "
                 "\"attn_layer_idx\": [], \"rms_norm\": true, \"pad_vocab_size_multiple\": 8, "
                 "\"tie_embeddings\": true}");
    half("mamba1-tiny", SSMRT_ST_BF16);
    half("mamba2-tiny", SSMRT_ST_F16);
    half("jamba-moe-tiny", SSMRT_ST_BF16);
    sharded("jamba-tiny");

    ssmrt_context_destroy(ctx);
    if (mt_failures) {
        printf("%d check(s) failed\n", mt_failures);
        return 1;
    }
    printf("PASS model layouts\n");
    return 0;
}
