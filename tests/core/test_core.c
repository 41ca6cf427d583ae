/* Core runtime tests: one behaviour per test, selected by name on the command line
 * (CTest runs each as its own process so plugin discovery and environment are
 * fresh). They run on the CPU backend's fast device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ssmrt.h"
#include "ssmrt_testing.h"

static int failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__,   \
                    __LINE__, #cond, ssmrt_last_error());                             \
            failures++;                                                               \
        }                                                                             \
    } while (0)
#define REQUIRE_OK(expr)                                                              \
    do {                                                                              \
        ssmrt_status st_ = (expr);                                                    \
        if (st_ != SSMRT_OK) {                                                        \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #expr,  \
                    ssmrt_status_name(st_), ssmrt_last_error());                      \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static ssmrt_context *open_cpu(void)
{
    ssmrt_context_options o = {sizeof o, "cpu", 0};
    ssmrt_context *ctx = NULL;
    REQUIRE_OK(ssmrt_context_create(&o, &ctx));
    return ctx;
}

static ssmrt_tensor *tensor_from(ssmrt_context *ctx, int ndim, const int64_t *shape, const float *data)
{
    ssmrt_tensor *t;
    REQUIRE_OK(ssmrt_tensor_create(ctx, SSMRT_F32, ndim, shape, &t));
    REQUIRE_OK(ssmrt_tensor_upload_f32(t, data, (size_t)ssmrt_tensor_nelements(t)));
    return t;
}

/* ---- tests ----------------------------------------------------------------- */

/* A shape error is sticky: later builders return NULL and compute reports the
 * first error, naming the op and both shapes. */
static void test_sticky_shape_error(void)
{
    ssmrt_context *ctx = open_cpu();
    float x[6] = {0}, w[8] = {0};
    ssmrt_tensor *tx = tensor_from(ctx, 2, (int64_t[]){2, 3}, x);
    ssmrt_tensor *tw = tensor_from(ctx, 2, (int64_t[]){2, 4}, w);
    ssmrt_graph *g;
    REQUIRE_OK(ssmrt_graph_create(ctx, &g));
    CHECK(ssmrt_graph_matmul(g, tx, tw, NULL) == NULL);
    CHECK(ssmrt_graph_silu(g, tx) == NULL);
    CHECK(ssmrt_graph_status(g) == SSMRT_ERR_SHAPE);
    CHECK(ssmrt_graph_compute(g) == SSMRT_ERR_SHAPE);
    CHECK(strstr(ssmrt_last_error(), "matmul") && strstr(ssmrt_last_error(), "[2, 3]") &&
          strstr(ssmrt_last_error(), "[2, 4]"));
    ssmrt_graph_destroy(g);
    ssmrt_tensor_destroy(tx);
    ssmrt_tensor_destroy(tw);
    ssmrt_context_destroy(ctx);
}

/* Inputs from another context are refused with a message, not used. */
static void test_foreign_context_input(void)
{
    ssmrt_context *a = open_cpu(), *b = open_cpu();
    float x[4] = {1, 2, 3, 4};
    ssmrt_tensor *tb = tensor_from(b, 1, (int64_t[]){4}, x);
    ssmrt_graph *g;
    REQUIRE_OK(ssmrt_graph_create(a, &g));
    CHECK(ssmrt_graph_exp(g, tb) == NULL);
    CHECK(ssmrt_graph_status(g) == SSMRT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ssmrt_last_error(), "another context") != NULL);
    ssmrt_graph_destroy(g);
    ssmrt_tensor_destroy(tb);
    ssmrt_context_destroy(a);
    ssmrt_context_destroy(b);
}

/* Bad tensor shapes and transfer sizes are errors. */
static void test_tensor_errors(void)
{
    ssmrt_context *ctx = open_cpu();
    ssmrt_tensor *t = NULL;
    CHECK(ssmrt_tensor_create(ctx, SSMRT_F32, 2, (int64_t[]){3, -1}, &t) == SSMRT_ERR_SHAPE && !t);
    CHECK(strstr(ssmrt_last_error(), "negative") != NULL);
    CHECK(ssmrt_tensor_create(ctx, SSMRT_F32, 4, (int64_t[]){1 << 20, 1 << 20, 1 << 20, 1 << 20}, &t) ==
              SSMRT_ERR_SHAPE && !t);
    CHECK(strstr(ssmrt_last_error(), "overflow") != NULL);
    CHECK(ssmrt_tensor_create(ctx, SSMRT_F32, 5, (int64_t[]){1, 1, 1, 1, 1}, &t) == SSMRT_ERR_SHAPE);
    CHECK(ssmrt_tensor_create(ctx, (ssmrt_dtype)9, 1, (int64_t[]){1}, &t) == SSMRT_ERR_INVALID_ARGUMENT);
    REQUIRE_OK(ssmrt_tensor_create(ctx, SSMRT_F32, 1, (int64_t[]){4}, &t));
    float buf[8] = {0};
    CHECK(ssmrt_tensor_upload(t, buf, 8) == SSMRT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ssmrt_last_error(), "16") != NULL);
    ssmrt_tensor_destroy(t);
    ssmrt_context_destroy(ctx);
}

/* f16 and bf16 tensors round-trip values they can represent exactly. */
static void test_half_roundtrip(void)
{
    ssmrt_context *ctx = open_cpu();
    float in[5] = {1.0f, -2.5f, 0.125f, 65504.0f, -0.0f}, out[5];
    for (int d = SSMRT_F16; d <= SSMRT_BF16; d++) {
        ssmrt_tensor *t;
        REQUIRE_OK(ssmrt_tensor_create(ctx, (ssmrt_dtype)d, 1, (int64_t[]){5}, &t));
        REQUIRE_OK(ssmrt_tensor_upload_f32(t, in, 5));
        REQUIRE_OK(ssmrt_tensor_download_f32(t, out, 5));
        for (int i = 0; i < 4; i++) /* 65504 is exact in f16; in bf16 it rounds to 65536 */
            CHECK(out[i] == (d == SSMRT_BF16 && i == 3 ? 65536.0f : in[i]));
        CHECK(signbit(out[4]));
        ssmrt_tensor_destroy(t);
    }
    ssmrt_context_destroy(ctx);
}

/* Attention takes q, k, v of one dtype (f32, f16 or bf16) and returns that dtype:
 * with q = 0 both keys weigh 1/2, so the query at position 1 gets (v0 + v1) / 2,
 * exact in every dtype for these values. A mix of dtypes, or i32, is refused with
 * a message naming the tensors and their dtypes. */
static ssmrt_tensor *att_input(ssmrt_context *ctx, ssmrt_dtype dt, int64_t l, const float *data)
{
    ssmrt_tensor *t;
    REQUIRE_OK(ssmrt_tensor_create(ctx, dt, 4, (int64_t[]){1, l, 1, 2}, &t));
    if (dt == SSMRT_I32) {
        int32_t z[4] = {0};
        REQUIRE_OK(ssmrt_tensor_upload(t, z, (size_t)l * 2 * sizeof z[0]));
    } else {
        REQUIRE_OK(ssmrt_tensor_upload_f32(t, data, (size_t)l * 2));
    }
    return t;
}

static void test_attention_dtypes(void)
{
    ssmrt_context *ctx = open_cpu();
    const float zq[2] = {0, 0}, kv[4] = {1.0f, -2.0f, 3.0f, 0.5f};
    for (int d = SSMRT_F32; d <= SSMRT_BF16; d++) {
        ssmrt_dtype dt = (ssmrt_dtype)d;
        ssmrt_tensor *q = att_input(ctx, dt, 1, zq), *k = att_input(ctx, dt, 2, kv),
                     *v = att_input(ctx, dt, 2, kv);
        ssmrt_graph *g;
        REQUIRE_OK(ssmrt_graph_create(ctx, &g));
        ssmrt_tensor *y = ssmrt_graph_output(g, ssmrt_graph_attention(g, q, k, v, 1.0f));
        CHECK(y && ssmrt_tensor_dtype(y) == dt);
        float out[2] = {0};
        CHECK(ssmrt_graph_compute(g) == SSMRT_OK && ssmrt_graph_read_f32(g, y, out, 2) == SSMRT_OK);
        CHECK(out[0] == 2.0f && out[1] == -0.75f);
        ssmrt_graph_destroy(g);
        ssmrt_tensor_destroy(q);
        ssmrt_tensor_destroy(k);
        ssmrt_tensor_destroy(v);
    }
    static const struct { ssmrt_dtype q, k, v; const char *msg; } bad[] = {
        {SSMRT_F16, SSMRT_F32, SSMRT_F16, "q f16, k f32, v f16"},
        {SSMRT_BF16, SSMRT_BF16, SSMRT_F16, "q bf16, k bf16, v f16"},
        {SSMRT_F32, SSMRT_F32, SSMRT_I32, "q f32, k f32, v i32"},
        {SSMRT_I32, SSMRT_I32, SSMRT_I32, "q must be f32, f16 or bf16, got i32"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ssmrt_tensor *q = att_input(ctx, bad[i].q, 1, zq), *k = att_input(ctx, bad[i].k, 2, kv),
                     *v = att_input(ctx, bad[i].v, 2, kv);
        ssmrt_graph *g;
        REQUIRE_OK(ssmrt_graph_create(ctx, &g));
        CHECK(ssmrt_graph_attention(g, q, k, v, 1.0f) == NULL);
        CHECK(ssmrt_graph_status(g) == SSMRT_ERR_INVALID_ARGUMENT);
        CHECK(strstr(ssmrt_last_error(), "attention") && strstr(ssmrt_last_error(), bad[i].msg));
        ssmrt_graph_destroy(g);
        ssmrt_tensor_destroy(q);
        ssmrt_tensor_destroy(k);
        ssmrt_tensor_destroy(v);
    }
    ssmrt_context_destroy(ctx);
}

/* Views (slice, permute, reshape) and concat move exactly the right elements. */
static void test_views_and_concat(void)
{
    ssmrt_context *ctx = open_cpu();
    enum { A = 3, B = 5, C = 7 };
    float x[A * B * C];
    for (int i = 0; i < A * B * C; i++)
        x[i] = (float)i;
    ssmrt_tensor *tx = tensor_from(ctx, 3, (int64_t[]){A, B, C}, x);
    ssmrt_graph *g;
    REQUIRE_OK(ssmrt_graph_create(ctx, &g));
    ssmrt_tensor *perm = ssmrt_graph_permute(g, tx, (int[]){2, 0, 1});             /* [C, A, B] */
    ssmrt_tensor *sl = ssmrt_graph_slice(g, perm, 0, 2, 3);                          /* [3, A, B] */
    ssmrt_tensor *flat = ssmrt_graph_output(g, ssmrt_graph_reshape(g, sl, 1, (int64_t[]){3 * A * B}));
    ssmrt_tensor *parts[2] = {ssmrt_graph_slice(g, tx, 2, 0, 2), ssmrt_graph_slice(g, tx, 2, 4, 3)};
    ssmrt_tensor *cat = ssmrt_graph_output(g, ssmrt_graph_concat(g, parts, 2, 2)); /* [A, B, 5] */
    REQUIRE_OK(ssmrt_graph_compute(g));
    float got[3 * A * B], got2[A * B * 5];
    REQUIRE_OK(ssmrt_graph_read_f32(g, flat, got, 3 * A * B));
    REQUIRE_OK(ssmrt_graph_read_f32(g, cat, got2, A * B * 5));
    int bad = 0;
    for (int c = 0; c < 3; c++)
        for (int a = 0; a < A; a++)
            for (int b = 0; b < B; b++)
                bad += got[(c * A + a) * B + b] != x[(a * B + b) * C + c + 2];
    for (int a = 0; a < A; a++)
        for (int b = 0; b < B; b++)
            for (int k = 0; k < 5; k++)
                bad += got2[(a * B + b) * 5 + k] != x[(a * B + b) * C + (k < 2 ? k : k + 2)];
    CHECK(bad == 0);
    ssmrt_graph_destroy(g);
    ssmrt_tensor_destroy(tx);
    ssmrt_context_destroy(ctx);
}

/* The planner reuses memory of dead intermediates (the arena of a 12-op chain is
 * far below the sum), yet a value marked as output survives later ops intact. */
static void test_planner_reuse(void)
{
    ssmrt_context *ctx = open_cpu();
    enum { N = 4096 };
    static float x[N], got[N], mid[N];
    for (int i = 0; i < N; i++)
        x[i] = (float)(i % 17) * 0.25f;
    ssmrt_tensor *tx = tensor_from(ctx, 1, (int64_t[]){N}, x);
    ssmrt_graph *g;
    REQUIRE_OK(ssmrt_graph_create(ctx, &g));
    ssmrt_tensor *y = tx, *kept = NULL;
    for (int i = 0; i < 12; i++) {
        y = ssmrt_graph_scale(g, y, 1.0f, 1.0f); /* y = x + i + 1 */
        if (i == 3)
            kept = ssmrt_graph_output(g, y);
    }
    ssmrt_graph_output(g, y);
    REQUIRE_OK(ssmrt_graph_compute(g));
    uint32_t n_ops;
    uint64_t arena, unplanned;
    ssmrt_graph_stats(g, &n_ops, &arena, &unplanned);
    CHECK(n_ops == 12);
    CHECK(unplanned == 12ull * N * 4);
    CHECK(arena <= 4ull * N * 4); /* the kept value, two live neighbours, the result */
    REQUIRE_OK(ssmrt_graph_read_f32(g, y, got, N));
    REQUIRE_OK(ssmrt_graph_read_f32(g, kept, mid, N));
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += got[i] != x[i] + 12.0f || mid[i] != x[i] + 4.0f;
    CHECK(bad == 0);
    /* reading a value that was not marked is refused: its memory was reused */
    ssmrt_graph_destroy(g);
    ssmrt_tensor_destroy(tx);
    ssmrt_context_destroy(ctx);
}

/* Reading a result that was not marked as output is refused with a reason. */
static void test_read_unmarked(void)
{
    ssmrt_context *ctx = open_cpu();
    float x[4] = {1, 2, 3, 4}, out[4];
    ssmrt_tensor *tx = tensor_from(ctx, 1, (int64_t[]){4}, x);
    ssmrt_graph *g;
    REQUIRE_OK(ssmrt_graph_create(ctx, &g));
    ssmrt_tensor *y = ssmrt_graph_exp(g, tx);
    ssmrt_graph_output(g, ssmrt_graph_exp(g, y));
    REQUIRE_OK(ssmrt_graph_compute(g));
    CHECK(ssmrt_graph_read_f32(g, y, out, 4) == SSMRT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ssmrt_last_error(), "ssmrt_graph_output") != NULL);
    ssmrt_graph_destroy(g);
    ssmrt_tensor_destroy(tx);
    ssmrt_context_destroy(ctx);
}

/* A persistent state updated in place across computes (state == state_out) gives
 * the same result as one longer run: the graph is reusable and state carries. */
static void test_graph_recompute_carries_state(void)
{
    ssmrt_context *ctx = open_cpu();
    enum { L = 6, D = 3, W = 4 };
    float x[L * D], w[D * W], y_once[L * D], y_steps[L * D];
    for (int i = 0; i < L * D; i++)
        x[i] = sinf((float)i);
    for (int i = 0; i < D * W; i++)
        w[i] = cosf((float)i);
    ssmrt_tensor *tw = tensor_from(ctx, 2, (int64_t[]){D, W}, w);
    ssmrt_tensor *tx = tensor_from(ctx, 3, (int64_t[]){1, L, D}, x);
    ssmrt_tensor *state, *tx1;
    REQUIRE_OK(ssmrt_tensor_create(ctx, SSMRT_F32, 3, (int64_t[]){1, D, W - 1}, &state));
    REQUIRE_OK(ssmrt_tensor_create(ctx, SSMRT_F32, 3, (int64_t[]){1, 1, D}, &tx1));
    REQUIRE_OK(ssmrt_tensor_zero(state));
    ssmrt_graph *g1, *g2;
    REQUIRE_OK(ssmrt_graph_create(ctx, &g1));
    ssmrt_tensor *y1 = ssmrt_graph_output(g1, ssmrt_graph_conv1d_causal(g1, tx, tw, NULL, 1, NULL, NULL));
    REQUIRE_OK(ssmrt_graph_compute(g1));
    REQUIRE_OK(ssmrt_graph_read_f32(g1, y1, y_once, L * D));
    REQUIRE_OK(ssmrt_graph_create(ctx, &g2));
    ssmrt_tensor *y2 = ssmrt_graph_output(g2, ssmrt_graph_conv1d_causal(g2, tx1, tw, NULL, 1, state, state));
    for (int l = 0; l < L; l++) {
        REQUIRE_OK(ssmrt_tensor_upload_f32(tx1, x + l * D, D));
        REQUIRE_OK(ssmrt_graph_compute(g2));
        REQUIRE_OK(ssmrt_graph_read_f32(g2, y2, y_steps + l * D, D));
    }
    double worst = 0;
    for (int i = 0; i < L * D; i++)
        worst = fmax(worst, fabs(y_once[i] - y_steps[i]));
    CHECK(worst < 1e-6); /* 4-term f32 dot products: a few ulp of values ~1 */
    ssmrt_graph_destroy(g1);
    ssmrt_graph_destroy(g2);
    ssmrt_tensor_destroy(tw);
    ssmrt_tensor_destroy(tx);
    ssmrt_tensor_destroy(tx1);
    ssmrt_tensor_destroy(state);
    ssmrt_context_destroy(ctx);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

/* compute_timed computes exactly what compute does, and the device time it reports
 * lies inside the call (0 <= device <= the host time around the call). */
static void test_compute_timed(void)
{
    ssmrt_context *ctx = open_cpu();
    enum { N = 1 << 16 };
    float *x = malloc(N * sizeof *x), *y1 = malloc(N * sizeof *y1), *y2 = malloc(N * sizeof *y2);
    CHECK(x && y1 && y2);
    for (int i = 0; i < N; i++)
        x[i] = sinf(0.01f * (float)i);
    ssmrt_tensor *tx = tensor_from(ctx, 1, (int64_t[]){N}, x);
    ssmrt_graph *g;
    REQUIRE_OK(ssmrt_graph_create(ctx, &g));
    ssmrt_tensor *y = ssmrt_graph_output(g, ssmrt_graph_silu(g, ssmrt_graph_exp(g, tx)));
    REQUIRE_OK(ssmrt_graph_compute(g));
    REQUIRE_OK(ssmrt_graph_read_f32(g, y, y1, N));
    memset(y2, 0, N * sizeof *y2);
    double device_ms = -1.0, t0 = now_ms();
    REQUIRE_OK(ssmrt_graph_compute_timed(g, &device_ms));
    double wall_ms = now_ms() - t0;
    REQUIRE_OK(ssmrt_graph_read_f32(g, y, y2, N));
    CHECK(memcmp(y1, y2, N * sizeof *y1) == 0);
    CHECK(isfinite(device_ms) && device_ms >= 0.0 && device_ms <= wall_ms);
    CHECK(ssmrt_graph_compute_timed(g, NULL) == SSMRT_ERR_INVALID_ARGUMENT);
    CHECK(strstr(ssmrt_last_error(), "out_device_ms") != NULL);
    CHECK(ssmrt_graph_compute_timed(NULL, &device_ms) == SSMRT_ERR_INVALID_ARGUMENT);
    ssmrt_graph_destroy(g);
    ssmrt_tensor_destroy(tx);
    ssmrt_context_destroy(ctx);
    free(x);
    free(y1);
    free(y2);
}

/* Failing each host allocation of a graph build + compute in turn gives a clean
 * SSMRT_ERR_OUT_OF_MEMORY and frees everything taken so far. */
static void test_alloc_failure_walk(void)
{
    ssmrt_plugin_count();
    int64_t base0 = ssmrt_testing_live_bytes();
    ssmrt_context *ctx = open_cpu();
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = (float)i / 64.0f;
    ssmrt_tensor *tx = tensor_from(ctx, 2, (int64_t[]){8, 8}, x);
    int64_t base = ssmrt_testing_live_bytes();
    int failures_seen = 0, n;
    for (n = 1; n < 500; n++) {
        ssmrt_testing_fail_alloc(n, 0);
        ssmrt_graph *g = NULL;
        ssmrt_status st = ssmrt_graph_create(ctx, &g);
        if (st == SSMRT_OK) {
            ssmrt_tensor *y = ssmrt_graph_softmax(g, ssmrt_graph_matmul(g, tx, tx, NULL));
            ssmrt_tensor *p = ssmrt_graph_permute(g, y, (int[]){1, 0});
            ssmrt_graph_output(g, ssmrt_graph_copy(g, p, SSMRT_F16));
            st = ssmrt_graph_compute(g);
            ssmrt_graph_destroy(g);
        }
        ssmrt_testing_fail_alloc(0, 0);
        CHECK(ssmrt_testing_live_bytes() == base);
        if (st == SSMRT_OK)
            break; /* n is past the last allocation: every earlier one was failed once */
        CHECK(st == SSMRT_ERR_OUT_OF_MEMORY);
        CHECK(strstr(ssmrt_last_error(), "memory") != NULL);
        failures_seen++;
    }
    CHECK(failures_seen >= 5);
    CHECK(n < 500);
    ssmrt_tensor_destroy(tx);
    ssmrt_context_destroy(ctx);
    CHECK(ssmrt_testing_live_bytes() == base0);
}

/* Objects are released completely: nothing is left in the host allocator. */
static void test_no_leak(void)
{
    ssmrt_plugin_count(); /* plugins keep their own process-lifetime state */
    int64_t base = ssmrt_testing_live_bytes();
    ssmrt_context *ctx = open_cpu();
    float x[16] = {0};
    ssmrt_tensor *tx = tensor_from(ctx, 2, (int64_t[]){4, 4}, x);
    ssmrt_graph *g;
    REQUIRE_OK(ssmrt_graph_create(ctx, &g));
    ssmrt_graph_output(g, ssmrt_graph_gelu(g, ssmrt_graph_slice(g, tx, 0, 1, 2)));
    REQUIRE_OK(ssmrt_graph_compute(g));
    ssmrt_tensor_destroy(tx); /* a view in the graph still holds the memory */
    REQUIRE_OK(ssmrt_graph_compute(g));
    ssmrt_graph_destroy(g);
    uint64_t cur, peak;
    ssmrt_context_memory(ctx, &cur, &peak);
    CHECK(cur == 0 && peak > 0);
    ssmrt_context_destroy(ctx);
    CHECK(ssmrt_testing_live_bytes() == base);
}

/* Device selection errors name the problem. */
static void test_device_out_of_range(void)
{
    ssmrt_context_options o = {sizeof o, "cpu", 99};
    ssmrt_context *ctx = NULL;
    CHECK(ssmrt_context_create(&o, &ctx) == SSMRT_ERR_NOT_FOUND && !ctx);
    CHECK(strstr(ssmrt_last_error(), "no device 99") != NULL);
}

/* SSMRT_DEVICE that is not a number is an error (the test sets it via CTest). */
static void test_env_bad_device(void)
{
    ssmrt_context *ctx = NULL;
    CHECK(ssmrt_context_create(NULL, &ctx) == SSMRT_ERR_INVALID_ARGUMENT && !ctx);
    CHECK(strstr(ssmrt_last_error(), "SSMRT_DEVICE") != NULL);
}

typedef struct { const char *name; void (*fn)(void); } test_case;
static const test_case tests[] = {
    {"sticky_shape_error", test_sticky_shape_error},
    {"foreign_context_input", test_foreign_context_input},
    {"tensor_errors", test_tensor_errors},
    {"half_roundtrip", test_half_roundtrip},
    {"attention_dtypes", test_attention_dtypes},
    {"views_and_concat", test_views_and_concat},
    {"planner_reuse", test_planner_reuse},
    {"read_unmarked", test_read_unmarked},
    {"graph_recompute_carries_state", test_graph_recompute_carries_state},
    {"compute_timed", test_compute_timed},
    {"alloc_failure_walk", test_alloc_failure_walk},
    {"no_leak", test_no_leak},
    {"device_out_of_range", test_device_out_of_range},
    {"env_bad_device", test_env_bad_device},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_core NAME\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (!strcmp(argv[1], tests[i].name)) {
            tests[i].fn();
            return failures ? 1 : 0;
        }
    fprintf(stderr, "unknown test %s\n", argv[1]);
    return 2;
}
