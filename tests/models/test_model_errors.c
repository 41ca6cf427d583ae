/* Broken model folders must fail ssmrt_model_load with a status and a message that
 * names the field or tensor at fault, and leave no allocation behind; bad session
 * arguments must be refused before anything runs.
 * usage: test_model_errors DATA_DIR   (tests/data, for the fixture models) */
#include "model_files.h"
#include "ssmrt_testing.h"

static ssmrt_context *ctx;
static char data[4096];

/* Loads dir and checks the failure: status and every expected substring. */
static void expect_fail(const char *what, const char *dir, ssmrt_status want, const char *sub1,
                        const char *sub2)
{
    int64_t live = ssmrt_testing_live_bytes();
    uint64_t dev0, peak;
    ssmrt_context_memory(ctx, &dev0, &peak);
    ssmrt_model *m = NULL;
    ssmrt_status st = ssmrt_model_load(ctx, dir, &m);
    const char *msg = ssmrt_last_error();
    printf("%-28s -> %s: %s\n", what, ssmrt_status_name(st), msg);
    MT_CHECK(st == want, "%s: got %s, expected %s", what, ssmrt_status_name(st),
             ssmrt_status_name(want));
    MT_CHECK(m == NULL, "%s: model returned on failure", what);
    MT_CHECK(!sub1 || strstr(msg, sub1), "%s: message lacks '%s'", what, sub1);
    MT_CHECK(!sub2 || strstr(msg, sub2), "%s: message lacks '%s'", what, sub2);
    uint64_t dev1;
    ssmrt_context_memory(ctx, &dev1, &peak);
    MT_CHECK(ssmrt_testing_live_bytes() == live, "%s: host allocations leaked (%lld bytes)", what,
             (long long)(ssmrt_testing_live_bytes() - live));
    MT_CHECK(dev1 == dev0, "%s: device memory leaked (%llu bytes)", what,
             (unsigned long long)(dev1 - dev0));
    ssmrt_model_destroy(m);
}

/* A folder with the fixture's weights and its config.json edited: from -> to. */
static void config_case(const char *what, const char *fixture, const char *from, const char *to,
                        ssmrt_status want, const char *sub1, const char *sub2)
{
    char src[4200], dir[512], p[4200];
    snprintf(src, sizeof src, "%s/%s/config.json", data, fixture);
    char *text = mf_slurp(src);
    char *edited = from ? mf_replace(text, from, to) : strdup(to);
    mf_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/config.json", dir);
    mf_write_text(p, edited);
    mf_tensors t;
    snprintf(src, sizeof src, "%s/%s/model.safetensors", data, fixture);
    mf_tensors_open(&t, src);
    mf_write_tensors(dir, "model.safetensors", t.t, t.n);
    mf_tensors_close(&t);
    expect_fail(what, dir, want, sub1, sub2);
    mf_rmdir(dir);
    free(text);
    free(edited);
}

typedef enum { W_DROP, W_RESHAPE, W_RETYPE } w_edit;

/* A folder with the fixture's config and one tensor dropped, reshaped or retyped. */
static void weight_case(const char *what, const char *fixture, const char *tensor, w_edit edit,
                        ssmrt_status want, const char *sub2)
{
    char src[4200], dir[512], p[4200];
    mf_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/%s/config.json", data, fixture);
    char *text = mf_slurp(src);
    snprintf(p, sizeof p, "%s/config.json", dir);
    mf_write_text(p, text);
    mf_tensors t;
    snprintf(src, sizeof src, "%s/%s/model.safetensors", data, fixture);
    mf_tensors_open(&t, src);
    ssmrt_st_tensor *e = mf_find(&t, tensor);
    if (edit == W_DROP) {
        mf_drop(&t, tensor);
    } else if (edit == W_RESHAPE) {
        /* One element fewer along the first axis. */
        e->bytes = e->bytes / (uint64_t)e->shape[0] * (uint64_t)(e->shape[0] - 1);
        e->shape[0] -= 1;
    } else {
        e->dtype = SSMRT_ST_I32; /* same byte size as F32 */
    }
    mf_write_tensors(dir, "model.safetensors", t.t, t.n);
    mf_tensors_close(&t);
    expect_fail(what, dir, want, tensor, sub2);
    mf_rmdir(dir);
    free(text);
}

static void session_errors(void)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/jamba-tiny", data);
    ssmrt_model *m = NULL;
    MT_OK(ssmrt_model_load(ctx, dir, &m));
    ssmrt_session *s = NULL;
    ssmrt_session_options o = {sizeof o, 0, 8, 0};
    MT_CHECK(ssmrt_session_create(m, &o, &s) == SSMRT_ERR_INVALID_ARGUMENT && !s, "batch 0 accepted");
    MT_CHECK(strstr(ssmrt_last_error(), "batch"), "batch message: %s", ssmrt_last_error());
    o.batch = 1;
    MT_OK(ssmrt_session_create(m, &o, &s));
    float *last = malloc(512 * sizeof *last);
    int32_t toks[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    MT_CHECK(ssmrt_session_forward(s, toks, 9, NULL, last) == SSMRT_ERR_INVALID_ARGUMENT,
             "KV cache overflow accepted");
    MT_CHECK(strstr(ssmrt_last_error(), "max_context"), "overflow message: %s", ssmrt_last_error());
    MT_CHECK(ssmrt_session_position(s) == 0, "refused call moved the position");
    toks[3] = 512;
    MT_CHECK(ssmrt_session_forward(s, toks, 4, NULL, last) == SSMRT_ERR_INVALID_ARGUMENT,
             "token 512 accepted with vocab 512");
    MT_CHECK(strstr(ssmrt_last_error(), "position 3"), "token message: %s", ssmrt_last_error());
    toks[3] = -1;
    MT_CHECK(ssmrt_session_forward(s, toks, 4, NULL, last) == SSMRT_ERR_INVALID_ARGUMENT,
             "token -1 accepted");
    MT_CHECK(ssmrt_session_forward(s, toks, 0, NULL, last) == SSMRT_ERR_INVALID_ARGUMENT,
             "n = 0 accepted");
    toks[3] = 4;
    MT_OK(ssmrt_session_forward(s, toks, 8, NULL, last));
    MT_CHECK(ssmrt_session_position(s) == 8, "position after 8 tokens");
    MT_CHECK(ssmrt_session_forward(s, toks, 1, NULL, last) == SSMRT_ERR_INVALID_ARGUMENT,
             "decode past max_context accepted");
    free(last);
    ssmrt_session_destroy(s);
    ssmrt_model_destroy(m);
}

/* Every host allocation of a model load, session create and forward is made to fail
 * in turn: each must fail cleanly (an error, no leak), and the walk ends with a
 * complete success. */
static void alloc_failure_walk(const char *fixture)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", data, fixture);
    int32_t toks[6] = {1, 2, 3, 4, 5, 6};
    float *last = malloc(1024 * sizeof *last);
    int64_t n;
    for (n = 1; n < 100000; n++) {
        int64_t live = ssmrt_testing_live_bytes();
        ssmrt_model *m = NULL;
        ssmrt_session *s = NULL;
        ssmrt_session_options o = {sizeof o, 2, 16, 2};
        ssmrt_testing_fail_alloc(n, 0);
        ssmrt_status st = ssmrt_model_load(ctx, dir, &m);
        if (!st)
            st = ssmrt_session_create(m, &o, &s);
        if (!st)
            st = ssmrt_session_forward(s, toks, 3, NULL, last);
        if (!st)
            st = ssmrt_session_forward(s, toks + 3, 1, NULL, last);
        ssmrt_testing_fail_alloc(0, 0);
        ssmrt_session_destroy(s);
        ssmrt_model_destroy(m);
        MT_CHECK(ssmrt_testing_live_bytes() == live, "%s: allocation %lld failing leaked %lld bytes",
                 fixture, (long long)n, (long long)(ssmrt_testing_live_bytes() - live));
        if (!st)
            break;
        MT_CHECK(*ssmrt_last_error(), "%s: allocation %lld failing gave no message", fixture,
                 (long long)n);
    }
    printf("%-28s -> %lld allocations walked\n", fixture, (long long)n);
    free(last);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
        return 2;
    }
    snprintf(data, sizeof data, "%s", argv[1]);
    ctx = mt_context();

    char dir[512];
    mf_tmpdir(dir, sizeof dir);
    expect_fail("no config.json", dir, SSMRT_ERR_NOT_FOUND, "config.json", NULL);
    mf_rmdir(dir);

    /* config.json problems */
    config_case("invalid JSON", "mamba1-tiny", "\"expand\": 2,", "\"expand\": 2,,",
                SSMRT_ERR_FORMAT, "config.json", "invalid JSON");
    config_case("truncated JSON", "mamba1-tiny", NULL, "{\"model_type\": \"mamba\", ",
                SSMRT_ERR_FORMAT, "config.json", "ends early");
    config_case("top level array", "mamba1-tiny", NULL, "[1, 2]", SSMRT_ERR_FORMAT, "JSON object",
                NULL);
    config_case("unknown model_type", "mamba1-tiny", "\"model_type\": \"mamba\"",
                "\"model_type\": \"llama\"", SSMRT_ERR_FORMAT, "model_type", "llama");
    config_case("unknown architecture", "mamba1-tiny",
                "\"MambaForCausalLM\"", "\"MambaForSequenceClassification\"",
                SSMRT_ERR_UNSUPPORTED, "architectures", "MambaForSequenceClassification");
    config_case("type/architecture clash", "mamba1-tiny", "\"MambaForCausalLM\"",
                "\"Mamba2ForCausalLM\"", SSMRT_ERR_FORMAT, "model_type", "Mamba2ForCausalLM");
    config_case("no architecture at all", "mamba1-tiny", NULL, "{\"hidden_size\": 64}",
                SSMRT_ERR_FORMAT, "model_type", "d_model");
    config_case("missing hidden_size", "mamba1-tiny", "\"hidden_size\": 64,", "", SSMRT_ERR_FORMAT,
                "'hidden_size'", "missing");
    config_case("hidden_size is a string", "mamba1-tiny", "\"hidden_size\": 64",
                "\"hidden_size\": \"64\"", SSMRT_ERR_FORMAT, "'hidden_size'", "integer");
    config_case("fractional layer count", "mamba1-tiny", "\"num_hidden_layers\": 4",
                "\"num_hidden_layers\": 4.5", SSMRT_ERR_FORMAT, "'num_hidden_layers'", "integer");
    config_case("negative state_size", "mamba1-tiny", "\"state_size\": 16", "\"state_size\": -16",
                SSMRT_ERR_FORMAT, "'state_size'", "positive");
    config_case("use_bias not boolean", "mamba1-tiny", "\"use_bias\": false", "\"use_bias\": 0",
                SSMRT_ERR_FORMAT, "'use_bias'", "boolean");
    config_case("intermediate != expand*hidden", "mamba1-tiny", "\"intermediate_size\": 128",
                "\"intermediate_size\": 100", SSMRT_ERR_FORMAT, "'intermediate_size'", "expand");
    config_case("unsupported activation", "mamba1-tiny", "\"hidden_act\": \"silu\"",
                "\"hidden_act\": \"gelu\"", SSMRT_ERR_FORMAT, "'hidden_act'", "silu");
    config_case("mamba2 head_dim mismatch", "mamba2-tiny", "\"head_dim\": 16", "\"head_dim\": 8",
                SSMRT_ERR_FORMAT, "'head_dim'", "num_heads");
    config_case("mamba2 n_groups not dividing", "mamba2-tiny", "\"n_groups\": 1",
                "\"n_groups\": 3", SSMRT_ERR_FORMAT, "'n_groups'", "num_heads");
    config_case("mamba2 dt clamp", "mamba2-tiny", "{\n      \"__float__\": \"Infinity\"\n    }",
                "10.0", SSMRT_ERR_FORMAT, "'time_step_limit'", NULL);
    config_case("mamba2 bad __float__", "mamba2-tiny", "\"Infinity\"", "\"lots\"",
                SSMRT_ERR_FORMAT, "'time_step_limit[1]'", "number");
    config_case("jamba kv heads not dividing", "jamba-tiny", "\"num_key_value_heads\": 2",
                "\"num_key_value_heads\": 3", SSMRT_ERR_FORMAT, "'num_key_value_heads'",
                "num_attention_heads");
    config_case("jamba heads not dividing", "jamba-tiny", "\"num_attention_heads\": 4",
                "\"num_attention_heads\": 5", SSMRT_ERR_FORMAT, "'num_attention_heads'",
                "hidden_size");
    config_case("jamba top-k > experts", "jamba-moe-tiny", "\"num_experts_per_tok\": 2",
                "\"num_experts_per_tok\": 5", SSMRT_ERR_FORMAT, "'num_experts_per_tok'", NULL);
    config_case("jamba offset >= period", "jamba-tiny", "\"attn_layer_offset\": 1",
                "\"attn_layer_offset\": 2", SSMRT_ERR_FORMAT, "'attn_layer_offset'", NULL);
    config_case("jamba sliding window", "jamba-tiny", "\"sliding_window\": null",
                "\"sliding_window\": 16", SSMRT_ERR_FORMAT, "'sliding_window'", NULL);

    /* Config and weights that disagree, and broken weights. */
    config_case("more layers than weights", "mamba1-tiny", "\"num_hidden_layers\": 4",
                "\"num_hidden_layers\": 5", SSMRT_ERR_FORMAT, "backbone.layers.4.", "missing");
    config_case("untied head absent", "mamba1-tiny", "\"tie_word_embeddings\": true",
                "\"tie_word_embeddings\": false", SSMRT_ERR_FORMAT, "lm_head.weight", "missing");
    config_case("jamba MoE where MLP stored", "jamba-tiny", "\"num_experts\": 1",
                "\"num_experts\": 2", SSMRT_ERR_FORMAT, "feed_forward.router.weight", "missing");
    weight_case("missing A_log", "mamba1-tiny", "backbone.layers.2.mixer.A_log", W_DROP,
                SSMRT_ERR_FORMAT, "missing");
    weight_case("missing expert", "jamba-moe-tiny", "model.layers.3.feed_forward.experts.2.up_proj.weight",
                W_DROP, SSMRT_ERR_FORMAT, "missing");
    weight_case("mis-shaped D", "mamba1-tiny", "backbone.layers.0.mixer.D", W_RESHAPE,
                SSMRT_ERR_SHAPE, "[127]");
    weight_case("mis-shaped in_proj", "mamba2-tiny", "backbone.layers.1.mixer.in_proj.weight",
                W_RESHAPE, SSMRT_ERR_SHAPE, "[295, 64]");
    weight_case("mis-shaped k_proj", "jamba-tiny", "model.layers.1.self_attn.k_proj.weight",
                W_RESHAPE, SSMRT_ERR_SHAPE, "expected [32, 64]");
    weight_case("integer weights", "mamba1-tiny", "backbone.layers.1.mixer.out_proj.weight",
                W_RETYPE, SSMRT_ERR_FORMAT, "I32");

    session_errors();
    alloc_failure_walk("mamba2-tiny");
    alloc_failure_walk("jamba-moe-tiny");
    ssmrt_context_destroy(ctx);
    if (mt_failures) {
        printf("%d check(s) failed\n", mt_failures);
        return 1;
    }
    printf("PASS model errors\n");
    return 0;
}
