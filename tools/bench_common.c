/* Options every `ssmrt bench` subcommand takes, and opening the devices to run on. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

void bench_common_init(bench_common *c)
{
    memset(c, 0, sizeof *c);
    c->device = -1;
    c->warmup = -1;
    c->warmup_seconds = -1;
    c->reps = -1;
    c->min_seconds = -1.0;
}

int bench_parse_int(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s)
        return -1;
    int64_t mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024, end++;
    if (*end || v < 0 || v > INT64_MAX / mul)
        return -1;
    *out = (int64_t)v * mul;
    return 0;
}

int bench_parse_int_list(const char *s, int64_t *out, int cap)
{
    int n = 0;
    char buf[32];
    while (s && *s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (len == 0 || len >= sizeof buf || n >= cap)
            return -1;
        memcpy(buf, s, len);
        buf[len] = 0;
        if (bench_parse_int(buf, &out[n]) || out[n] <= 0)
            return -1;
        n++;
        s = comma ? comma + 1 : NULL;
    }
    return n > 0 ? n : -1;
}

/* The value of option argv[*i], advancing *i; NULL (printed) if it is missing. */
static const char *common_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "ssmrt bench: %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* Seconds in [0, 3600] for option argv[*i]: 1 when consumed, -1 (printed) when bad. */
static int common_seconds(int argc, char **argv, int *i, double *out)
{
    const char *opt = argv[*i];
    const char *s = common_value(argc, argv, i);
    char *end = NULL;
    double d = s ? strtod(s, &end) : -1;
    if (!s || end == s || *end || !(d >= 0 && d <= 3600)) {
        fprintf(stderr, "ssmrt bench: %s needs seconds in [0, 3600]\n", opt);
        return -1;
    }
    *out = d;
    return 1;
}

static int common_int(int argc, char **argv, int *i, int64_t lo, int64_t hi, int64_t *out)
{
    const char *opt = argv[*i];
    const char *v = common_value(argc, argv, i);
    if (!v)
        return -1;
    if (bench_parse_int(v, out) || *out < lo || *out > hi) {
        fprintf(stderr, "ssmrt bench: %s '%s' is not an integer in [%lld, %lld]\n", opt, v,
                (long long)lo, (long long)hi);
        return -1;
    }
    return 1;
}

int bench_common_parse(bench_common *c, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    int64_t v = 0;
    if (!strcmp(a, "--all")) {
        c->all = 1;
        return 1;
    }
    if (!strcmp(a, "--quick")) {
        c->quick = 1;
        return 1;
    }
    if (!strcmp(a, "--devices")) {
        c->devices = common_value(argc, argv, i);
        return c->devices ? 1 : -1;
    }
    if (!strcmp(a, "--backend")) {
        c->backend = common_value(argc, argv, i);
        return c->backend ? 1 : -1;
    }
    if (!strcmp(a, "--json")) {
        c->json_path = common_value(argc, argv, i);
        return c->json_path ? 1 : -1;
    }
    if (!strcmp(a, "--device")) {
        if (common_int(argc, argv, i, 0, INT32_MAX, &v) < 0)
            return -1;
        c->device = (int32_t)v;
        return 1;
    }
    if (!strcmp(a, "--warmup")) {
        if (common_int(argc, argv, i, 0, 1000, &v) < 0)
            return -1;
        c->warmup = (int)v;
        return 1;
    }
    if (!strcmp(a, "--reps")) {
        if (common_int(argc, argv, i, 1, 100000, &v) < 0)
            return -1;
        c->reps = (int)v;
        return 1;
    }
    if (!strcmp(a, "--min-time"))
        return common_seconds(argc, argv, i, &c->min_seconds);
    if (!strcmp(a, "--warmup-time"))
        return common_seconds(argc, argv, i, &c->warmup_seconds);
    return 0;
}

void bench_common_help(FILE *f)
{
    fprintf(f,
            "  --backend LIST   backend (cpu, cuda, vulkan, opencl, auto or a comma list);\n"
            "                   default SSMRT_BACKEND, else cpu\n"
            "  --device N       device index within the backend; default SSMRT_DEVICE, else 0\n"
            "  --all            every backend and device that loads (not float64 reference\n"
            "                   devices), each with its own context\n"
            "  --devices LIST   these devices, each with its own context: backend:index,...\n"
            "                   (e.g. cuda:0,vulkan:0,opencl:1)\n"
            "  --json FILE      write the records as a JSON array\n"
            "  --quick          tiny sizes and few repetitions (a smoke test, not a benchmark)\n"
            "  --warmup N       untimed runs before timing (default 2; 1 with --quick)\n"
            "  --warmup-time S  and untimed runs until S seconds went by (default 0.2;\n"
            "                   0 with --quick): a GPU idle for a while (the host building\n"
            "                   the next case's inputs) runs at lower clocks until it has\n"
            "                   been busy for ~0.2 s\n"
            "  --reps N         timed runs (default: adaptive, 5 to 50, at least --min-time)\n"
            "  --min-time S     time each case for at least S seconds (default 0.5)\n");
}

int bench_fail(const char *what)
{
    fprintf(stderr, "ssmrt bench: %s: %s\n", what, ssmrt_last_error());
    return 1;
}

int bench_target_is_cpu(const bench_target *t)
{
    return t->info && t->info->backend && !strcmp(t->info->backend, "cpu");
}

/* Opens one context and appends it to *list; on failure prints why (returns 0). */
static int targets_add(bench_target **list, int *n, const char *backend, int32_t device)
{
    ssmrt_context_options o = {sizeof o, backend, device};
    ssmrt_context *ctx = NULL;
    if (ssmrt_context_create(&o, &ctx) != SSMRT_OK) {
        char what[128];
        snprintf(what, sizeof what, "cannot open %s device %d", backend ? backend : "default",
                 (int)device);
        bench_fail(what);
        return 0;
    }
    bench_target *grown = realloc(*list, (size_t)(*n + 1) * sizeof **list);
    if (!grown) {
        ssmrt_context_destroy(ctx);
        fprintf(stderr, "ssmrt bench: out of host memory\n");
        return 0;
    }
    *list = grown;
    grown[*n].ctx = ctx;
    grown[*n].info = ssmrt_context_device(ctx);
    ++*n;
    return 1;
}

/* --devices "cuda:0,opencl:1": every entry must open (a typo is an error, not a
 * silently shorter run). */
static int targets_open_list(const char *list, bench_target **out)
{
    bench_target *targets = NULL;
    int n = 0;
    while (list && *list) {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        char entry[64], *colon;
        int64_t index = 0;
        if (len == 0 || len >= sizeof entry) {
            fprintf(stderr, "ssmrt bench: --devices entry '%.*s' is not backend:index\n", (int)len,
                    list);
            bench_targets_close(targets, n);
            return 0;
        }
        memcpy(entry, list, len);
        entry[len] = 0;
        if (!(colon = strchr(entry, ':')) || colon == entry || bench_parse_int(colon + 1, &index) ||
            index > INT32_MAX) {
            fprintf(stderr, "ssmrt bench: --devices entry '%s' is not backend:index\n", entry);
            bench_targets_close(targets, n);
            return 0;
        }
        *colon = 0;
        if (!targets_add(&targets, &n, entry, (int32_t)index)) {
            bench_targets_close(targets, n);
            return 0;
        }
        list = comma ? comma + 1 : NULL;
    }
    *out = targets;
    return n;
}

int bench_targets_open(const bench_common *c, bench_target **out)
{
    bench_target *list = NULL;
    int n = 0;
    *out = NULL;
    if (c->devices)
        return targets_open_list(c->devices, out);
    if (!c->all) {
        if (!targets_add(&list, &n, c->backend, c->device))
            return 0;
        *out = list;
        return n;
    }
    uint32_t np = ssmrt_plugin_count();
    for (uint32_t p = 0; p < np; p++) {
        ssmrt_plugin_info pi;
        if (ssmrt_plugin_get(p, &pi) != SSMRT_OK)
            continue;
        if (!pi.loaded) {
            fprintf(stderr, "ssmrt bench: skipping plugin %s: %s\n", pi.name, pi.reason);
            continue;
        }
        for (uint32_t d = 0; d < pi.device_count; d++) {
            ssmrt_device_info di;
            if (ssmrt_plugin_device_info(p, d, &di) != SSMRT_OK || di.is_reference)
                continue;
            targets_add(&list, &n, pi.name, (int32_t)d);
        }
    }
    if (n == 0) {
        fprintf(stderr, "ssmrt bench: --all found no usable device (see `ssmrt devices`)\n");
        free(list);
        return 0;
    }
    *out = list;
    return n;
}

void bench_targets_close(bench_target *t, int n)
{
    for (int i = 0; i < n; i++)
        ssmrt_context_destroy(t[i].ctx);
    free(t);
}
