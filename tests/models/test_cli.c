/* The `ssmrt eval` and `ssmrt run` subcommands on a fixture model:
 *  - eval in each mode writes logits [B, L, V] that match the reference;
 *  - run (greedy) prints the reference's generated ids, when the fixture's top-2
 *    margin is wide enough for ids to be compared at all;
 *  - bad arguments exit 2 with a message, a broken model exits 1.
 * usage: test_cli SSMRT_TOOL MODEL_DIR */
#include <sys/wait.h>

#include "model_files.h"

static const char *tool, *model;
static char tmp[512];

static int sh(const char *cmd)
{
    fflush(stdout);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void eval_mode(const char *mode, const float *ref, int64_t n)
{
    char cmd[8192], out[1024];
    snprintf(out, sizeof out, "%s/logits.safetensors", tmp);
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --input '%s/reference.safetensors' --output '%s' --mode %s",
             tool, model, model, out, mode);
    int rc = sh(cmd);
    MT_CHECK(rc == 0, "eval --mode %s exited %d", mode, rc);
    if (rc)
        return;
    ssmrt_safetensors *st = NULL;
    MT_OK(ssmrt_safetensors_open(out, &st));
    int64_t shape[8];
    int nd;
    float *got = mt_read(st, "logits", 0, shape, &nd);
    MT_CHECK(nd == 3 && shape[0] * shape[1] * shape[2] == n, "eval output shape");
    if (nd == 3 && shape[0] * shape[1] * shape[2] == n) {
        double e = mt_max_abs(got, ref, n);
        printf("RESULT cli eval %s max_abs=%.3g\n", mode, e);
        MT_CHECK(e <= 2e-3, "eval --mode %s: max-abs %.3g", mode, e);
    }
    free(got);
    ssmrt_safetensors_close(st);
    unlink(out);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SSMRT_TOOL MODEL_DIR\n", argv[0]);
        return 2;
    }
    tool = argv[1];
    model = argv[2];
    /* The tool opens the backend itself; probe it here so an absent one skips. */
    ssmrt_context_destroy(mt_context());
    mf_tmpdir(tmp, sizeof tmp);

    char p[4200];
    snprintf(p, sizeof p, "%s/reference.safetensors", model);
    ssmrt_safetensors *st = NULL;
    MT_OK(ssmrt_safetensors_open(p, &st));
    int64_t shape[8], pshape[8], gshape[8];
    int nd;
    float *ref = mt_read(st, "logits", 0, shape, &nd);
    int32_t *prompt = mt_read(st, "prompt_ids", 1, pshape, &nd);
    int32_t *gen = mt_read(st, "generated_ids", 1, gshape, &nd);
    float *gen_logits = mt_read(st, "generated_logits", 0, NULL, &nd);
    ssmrt_safetensors_close(st);
    const int64_t n = shape[0] * shape[1] * shape[2], V = shape[2];

    eval_mode("parallel", ref, n);
    eval_mode("recurrent", ref, n);
    eval_mode("chunked:7", ref, n);

    /* run: greedy ids, comparable when every step's top-2 gap exceeds twice the
     * logits tolerance. */
    double min_gap = INFINITY;
    for (int64_t i = 0; i < gshape[0]; i++) {
        double g = mt_top2_gap(gen_logits + i * V, V);
        min_gap = g < min_gap ? g : min_gap;
    }
    char cmd[16384];
    int len = snprintf(cmd, sizeof cmd, "'%s' run --model '%s' --max-new-tokens %lld --prompt-ids ",
                       tool, model, (long long)gshape[0]);
    for (int64_t i = 0; i < pshape[0]; i++)
        len += snprintf(cmd + len, sizeof cmd - (size_t)len, "%s%d", i ? "," : "", prompt[i]);
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    char line[65536], *ids = NULL;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "generated: ", 11))
            ids = strdup(line + 11);
    int rc = f ? pclose(f) : -1;
    MT_CHECK(rc == 0 && ids, "run exited %d or printed no 'generated:' line", rc);
    if (ids && min_gap > 4e-3) {
        char *s = ids;
        for (int64_t i = 0; i < gshape[0]; i++) {
            long v = strtol(s, &s, 10);
            MT_CHECK(v == gen[i], "run: id %lld is %ld, reference %d", (long long)i, v, gen[i]);
            if (*s == ',')
                s++;
        }
        printf("RESULT cli run greedy ids match (%lld)\n", (long long)gshape[0]);
    } else if (ids) {
        printf("cli run: ids not compared, the reference's top-2 gap %.3g is too small\n", min_gap);
    }
    free(ids);

    /* Usage errors and model errors. */
    snprintf(cmd, sizeof cmd, "'%s' run --model '%s' 2>/dev/null", tool, model);
    MT_CHECK(sh(cmd) == 2, "run without --prompt-ids should exit 2");
    snprintf(cmd, sizeof cmd, "'%s' run --model '%s' --prompt-ids 1,x 2>/dev/null", tool, model);
    MT_CHECK(sh(cmd) == 2, "run with a bad id should exit 2");
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --input a --output b --mode sideways 2>/dev/null",
             tool, model);
    MT_CHECK(sh(cmd) == 2, "eval with a bad mode should exit 2");
    snprintf(cmd, sizeof cmd, "'%s' run --model '%s' --prompt-ids 1 2>/dev/null", tool, tmp);
    MT_CHECK(sh(cmd) == 1, "run on an empty folder should exit 1");
    snprintf(cmd, sizeof cmd, "'%s' run --help >/dev/null && '%s' eval --help >/dev/null", tool, tool);
    MT_CHECK(sh(cmd) == 0, "--help should exit 0");

    rmdir(tmp);
    free(ref);
    free(prompt);
    free(gen);
    free(gen_logits);
    if (mt_failures)
        return 1;
    printf("PASS cli on %s\n", model);
    return 0;
}
