/* Plugin loading tests. Plugin discovery happens once per process, so each test is
 * its own process with its own SSMRT_PLUGIN_PATH / SSMRT_BACKEND (set by CTest):
 *
 *   test_plugins bad_plugin NAME REASON   plugin NAME is found but unavailable with a
 *                                         reason containing REASON; asking for it (by
 *                                         option and by SSMRT_BACKEND) fails naming that
 *                                         reason; "NAME,cpu" falls through to cpu; the
 *                                         cpu plugin in the same process still runs ops
 *   test_plugins missing_dir DIR          SSMRT_PLUGIN_PATH=DIR does not exist: no
 *                                         plugins, and the error says DIR does not exist
 *   test_plugins unknown_backend NAME     SSMRT_BACKEND=NAME names no backend: a clear
 *                                         error, then cpu by option still works
 *   test_plugins no_cpu_plugin            the search path has no libssmrt-cpu.so: asking
 *                                         for cpu is a clear error, not a crash
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ssmrt.h"

static int test_failed;

static void test_check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void test_check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, ok ? "ok:   " : "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (!ok)
        test_failed = 1;
}

static int test_contains(const char *hay, const char *needle)
{
    return hay && needle && strstr(hay, needle) != NULL;
}

/* Runs y = a + b on the cpu plugin and checks every element. */
static void test_cpu_still_works(void)
{
    ssmrt_context_options o = {sizeof o, "cpu", 0};
    ssmrt_context *ctx = NULL;
    ssmrt_status st = ssmrt_context_create(&o, &ctx);
    test_check(st == SSMRT_OK, "cpu context still opens (%s)", st ? ssmrt_last_error() : "ok");
    if (st != SSMRT_OK)
        return;
    const int64_t n = 5;
    const float a[5] = {1, 2, 3, 4, 5}, b[5] = {0.5f, -1, 10, 0, -5};
    float y[5] = {0};
    ssmrt_tensor *ta = NULL, *tb = NULL;
    ssmrt_graph *g = NULL;
    st = ssmrt_tensor_create(ctx, SSMRT_F32, 1, &n, &ta);
    if (!st)
        st = ssmrt_tensor_create(ctx, SSMRT_F32, 1, &n, &tb);
    if (!st)
        st = ssmrt_tensor_upload_f32(ta, a, 5);
    if (!st)
        st = ssmrt_tensor_upload_f32(tb, b, 5);
    if (!st)
        st = ssmrt_graph_create(ctx, &g);
    ssmrt_tensor *ty = st ? NULL : ssmrt_graph_output(g, ssmrt_graph_add(g, ta, tb));
    if (!st)
        st = ssmrt_graph_compute(g);
    if (!st)
        st = ssmrt_graph_read_f32(g, ty, y, 5);
    int exact = st == SSMRT_OK;
    for (int i = 0; i < 5; i++)
        exact &= y[i] == a[i] + b[i];
    test_check(exact, "cpu add after the failure gives a + b (%s)", st ? ssmrt_last_error() : "ok");
    ssmrt_graph_destroy(g);
    ssmrt_tensor_destroy(ta);
    ssmrt_tensor_destroy(tb);
    ssmrt_context_destroy(ctx);
}

static ssmrt_status test_open(const char *backend, ssmrt_context **ctx)
{
    ssmrt_context_options o = {sizeof o, backend, 0};
    *ctx = NULL;
    return ssmrt_context_create(backend ? &o : NULL, ctx);
}

static void test_bad_plugin(const char *name, const char *reason)
{
    uint32_t n = ssmrt_plugin_count();
    int found = 0;
    for (uint32_t i = 0; i < n; i++) {
        ssmrt_plugin_info pi;
        if (ssmrt_plugin_get(i, &pi) != SSMRT_OK || strcmp(pi.name, name))
            continue;
        found = 1;
        test_check(!pi.loaded, "plugin %s is listed as not loaded", name);
        test_check(pi.device_count == 0, "plugin %s has no devices", name);
        test_check(test_contains(pi.reason, reason), "its reason '%s' contains '%s'", pi.reason,
                   reason);
        test_check(test_contains(pi.path, "libssmrt-"), "its path '%s' is listed", pi.path);
    }
    test_check(found, "plugin %s was found on the search path (%u plugins)", name, n);

    ssmrt_context *ctx = NULL;
    ssmrt_status st = test_open(name, &ctx);
    const char *msg = ssmrt_last_error();
    test_check(st != SSMRT_OK && !ctx, "asking for backend '%s' fails (%s)", name, ssmrt_status_name(st));
    test_check(test_contains(msg, "cannot start") && test_contains(msg, reason),
               "the error says why: '%s'", msg);

    /* SSMRT_BACKEND=name is set by the test's environment. */
    st = test_open(NULL, &ctx);
    msg = ssmrt_last_error();
    test_check(st != SSMRT_OK, "SSMRT_BACKEND=%s fails", name);
    test_check(test_contains(msg, "SSMRT_BACKEND") && test_contains(msg, reason),
               "the error names SSMRT_BACKEND and the reason: '%s'", msg);

    /* In a preference list the next backend is tried. */
    char list[128];
    snprintf(list, sizeof list, "%s,cpu", name);
    st = test_open(list, &ctx);
    test_check(st == SSMRT_OK && ctx && !strcmp(ssmrt_context_device(ctx)->backend, "cpu"),
               "'%s' falls through to cpu (%s)", list, st ? ssmrt_last_error() : "ok");
    ssmrt_context_destroy(ctx);

    test_cpu_still_works();
}

static void test_missing_dir(const char *dir)
{
    test_check(ssmrt_plugin_count() == 0, "no plugins found when SSMRT_PLUGIN_PATH=%s", dir);
    ssmrt_context *ctx = NULL;
    ssmrt_status st = test_open("cpu", &ctx);
    const char *msg = ssmrt_last_error();
    test_check(st == SSMRT_ERR_NOT_FOUND, "opening cpu fails with SSMRT_ERR_NOT_FOUND (%s)",
               ssmrt_status_name(st));
    test_check(test_contains(msg, dir) && test_contains(msg, "does not exist") &&
                   test_contains(msg, "libssmrt-cpu.so"),
               "the error names the missing folder and the plugin: '%s'", msg);
}

static void test_unknown_backend(const char *name)
{
    ssmrt_context *ctx = NULL;
    ssmrt_status st = test_open(NULL, &ctx);
    const char *msg = ssmrt_last_error();
    char want[128];
    snprintf(want, sizeof want, "unknown backend '%s'", name);
    test_check(st != SSMRT_OK && !ctx, "SSMRT_BACKEND=%s fails (%s)", name, ssmrt_status_name(st));
    test_check(test_contains(msg, want) && test_contains(msg, "cpu, cuda, vulkan, opencl"),
               "the error says it is unknown and lists the known ones: '%s'", msg);
    test_cpu_still_works();
}

static void test_no_cpu_plugin(void)
{
    ssmrt_context *ctx = NULL;
    ssmrt_status st = test_open("cpu", &ctx);
    const char *msg = ssmrt_last_error();
    test_check(st == SSMRT_ERR_NOT_FOUND && !ctx, "opening cpu fails with SSMRT_ERR_NOT_FOUND (%s)",
               ssmrt_status_name(st));
    test_check(test_contains(msg, "not available") && test_contains(msg, "libssmrt-cpu.so"),
               "the error names the missing plugin: '%s'", msg);
    /* The default (no SSMRT_BACKEND) is cpu as well. */
    st = test_open(NULL, &ctx);
    test_check(st != SSMRT_OK && test_contains(ssmrt_last_error(), "libssmrt-cpu.so"),
               "the default backend fails the same way: '%s'", ssmrt_last_error());
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "bad_plugin"))
        test_bad_plugin(argv[2], argv[3]);
    else if (argc == 3 && !strcmp(argv[1], "missing_dir"))
        test_missing_dir(argv[2]);
    else if (argc == 3 && !strcmp(argv[1], "unknown_backend"))
        test_unknown_backend(argv[2]);
    else if (argc == 2 && !strcmp(argv[1], "no_cpu_plugin"))
        test_no_cpu_plugin();
    else {
        fprintf(stderr, "usage: test_plugins bad_plugin NAME REASON | missing_dir DIR | "
                        "unknown_backend NAME | no_cpu_plugin\n");
        return 2;
    }
    return test_failed;
}
