/* The S4D layer against the state-spaces/s4 reference module (float64):
 *  - the kernel K generated from the parameters equals the fixture's K;
 *  - convolution mode and recurrent mode each give the fixture's y;
 *  - and they agree with each other (the convolution/recurrence identity).
 *
 * Tolerances: K is computed in float64 and rounded once, so it matches to f32
 * rounding of its largest entries (1e-5 absolute is ~100 ulp at |K| ~ 1). y passes
 * through an L-term convolution (or L recurrence steps) in f32, GELU, a matmul over
 * H channels and the GLU; 2e-3 is the models' bound, and the measured error is far
 * below it (printed). usage: test_s4d S4D_DIR */
#include "model_test.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s S4D_DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    ssmrt_context *ctx = mt_context();
    const char *backend = mt_device_label(ctx);

    char path[4096];
    snprintf(path, sizeof path, "%s/s4d.safetensors", dir);
    ssmrt_safetensors *st = NULL;
    MT_OK(ssmrt_safetensors_open(path, &st));
    int64_t ushape[8], kshape[8];
    int nd;
    float *u_bhl = mt_read(st, "u", 0, ushape, &nd);
    float *y_bhl = mt_read(st, "y", 0, NULL, &nd);
    float *K_ref = mt_read(st, "K", 0, kshape, &nd);
    ssmrt_safetensors_close(st);
    const int64_t B = ushape[0], H = ushape[1], L = ushape[2];

    ssmrt_s4d *layer = NULL;
    MT_OK(ssmrt_s4d_load(ctx, dir, &layer));
    MT_CHECK(ssmrt_s4d_channels(layer) == H, "channels %lld, expected %lld",
             (long long)ssmrt_s4d_channels(layer), (long long)H);

    float *K = malloc((size_t)(H * L) * sizeof *K);
    MT_OK(ssmrt_s4d_kernel(layer, kshape[1], K));
    double kerr = mt_max_abs(K, K_ref, H * kshape[1]);
    printf("RESULT %s %s kernel max_abs=%.3g\n", name, backend, kerr);
    MT_CHECK(kerr <= 1e-5, "kernel max-abs %.3g", kerr);

    /* The fixture is [B, H, L]; the API is channels-last [B, L, H]. */
    float *u = malloc((size_t)(B * L * H) * sizeof *u);
    float *y_ref = malloc((size_t)(B * L * H) * sizeof *y_ref);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t l = 0; l < L; l++) {
                u[(b * L + l) * H + h] = u_bhl[(b * H + h) * L + l];
                y_ref[(b * L + l) * H + h] = y_bhl[(b * H + h) * L + l];
            }
    float *yc = malloc((size_t)(B * L * H) * sizeof *yc);
    float *yr = malloc((size_t)(B * L * H) * sizeof *yr);
    MT_OK(ssmrt_s4d_forward(layer, SSMRT_S4D_CONVOLUTION, u, B, L, yc));
    MT_OK(ssmrt_s4d_forward(layer, SSMRT_S4D_RECURRENT, u, B, L, yr));
    double ec = mt_max_abs(yc, y_ref, B * L * H), er = mt_max_abs(yr, y_ref, B * L * H),
           ecr = mt_max_abs(yc, yr, B * L * H);
    printf("RESULT %s %s convolution max_abs=%.3g\n", name, backend, ec);
    printf("RESULT %s %s recurrent max_abs=%.3g\n", name, backend, er);
    printf("RESULT %s %s convolution-vs-recurrent max_abs=%.3g\n", name, backend, ecr);
    MT_CHECK(ec <= 2e-3, "convolution mode max-abs %.3g", ec);
    MT_CHECK(er <= 2e-3, "recurrent mode max-abs %.3g", er);
    MT_CHECK(ecr <= 2e-3, "modes differ by %.3g", ecr);

    ssmrt_s4d_destroy(layer);
    ssmrt_context_destroy(ctx);
    free(u_bhl);
    free(y_bhl);
    free(K_ref);
    free(K);
    free(u);
    free(y_ref);
    free(yc);
    free(yr);
    if (mt_failures)
        return 1;
    printf("PASS %s on %s\n", name, backend);
    return 0;
}
