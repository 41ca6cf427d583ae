/* ssmrt conformance: runs the conformance harness (tests/conformance) on the device
 * chosen by SSMRT_BACKEND / SSMRT_DEVICE, or on every device with --all, against
 * the CPU plugin's float64 reference device, and prints the markdown matrix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "conformance.h"
#include "ssmrt.h"

static void conformance_usage(FILE *f)
{
    fprintf(f,
            "usage: ssmrt conformance [--quick] [--ops a,b,...] [--json FILE] [--all]\n"
            "                         [--seed N] [--verbose]\n\n"
            "Runs every op on a device and on the float64 reference device (the CPU plugin's\n"
            "device 1, \"cpu-reference\") with the same random inputs over shape sweeps, and\n"
            "checks per-op error bounds, guard regions and identities (token-by-token scan ==\n"
            "parallel scan, chunked prefill == one shot, S4 convolution == recurrence, KV-cache\n"
            "decode == full attention). Prints a markdown matrix op x dtype.\n\n"
            "  --quick        smaller sweeps (seconds instead of a minute on the CPU)\n"
            "  --ops LIST     only these ops (comma-separated; see below)\n"
            "  --json FILE    write every case (verdict, error, tolerance, message) as JSON\n"
            "  --all          every device of every loaded plugin, not just the chosen one\n"
            "  --seed N       another input seed (default fixed, so runs are reproducible)\n"
            "  --verbose      one line per case on stderr while running\n\n"
            "The device: SSMRT_BACKEND (cpu|cuda|vulkan|opencl|auto) and SSMRT_DEVICE.\n"
            "Verdicts: PASS, FAIL, NOT_SUPPORTED (the backend has no kernel), SKIP (e.g. a\n"
            "dtype the device does not claim). Exit status: 0 when nothing failed, 1 when a\n"
            "case failed, 2 when the suite could not run (no such device, bad option).\n\nops:");
    const char *const *ops = ssmrt_conformance_op_names();
    for (int i = 0; ops[i]; i++)
        fprintf(f, "%s%s", i % 8 ? " " : "\n  ", ops[i]);
    fprintf(f, "\n");
}

typedef struct conformance_args {
    ssmrt_conformance_options opt;
    const char *json;
    int all;
} conformance_args;

static int conformance_parse(int argc, char **argv, conformance_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            conformance_usage(stdout);
            return 0;
        } else if (!strcmp(arg, "--quick")) {
            a->opt.quick = 1;
        } else if (!strcmp(arg, "--all")) {
            a->all = 1;
        } else if (!strcmp(arg, "--verbose") || !strcmp(arg, "-v")) {
            a->opt.progress = stderr;
        } else if (!strcmp(arg, "--ops") && has_value) {
            a->opt.ops = argv[++i];
        } else if (!strcmp(arg, "--json") && has_value) {
            a->json = argv[++i];
        } else if (!strcmp(arg, "--seed") && has_value) {
            char *end;
            a->opt.seed = strtoull(argv[++i], &end, 0);
            if (*end || !a->opt.seed) {
                fprintf(stderr, "ssmrt conformance: --seed needs a positive integer, not '%s'\n",
                        argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "ssmrt conformance: unknown option or missing value: '%s'\n\n", arg);
            conformance_usage(stderr);
            return 2;
        }
    }
    return -1;
}

/* Opens the reference device (the CPU plugin's device 1). */
static ssmrt_context *conformance_open_reference(void)
{
    ssmrt_context_options o = {sizeof o, "cpu", 1};
    ssmrt_context *ref = NULL;
    if (ssmrt_context_create(&o, &ref) != SSMRT_OK) {
        fprintf(stderr, "ssmrt conformance: cannot open the reference device (cpu device 1): %s\n",
                ssmrt_last_error());
        return NULL;
    }
    if (!ssmrt_context_device(ref)->is_reference) {
        fprintf(stderr, "ssmrt conformance: cpu device 1 is not the float64 reference device\n");
        ssmrt_context_destroy(ref);
        return NULL;
    }
    return ref;
}

/* Runs one device; returns its report (NULL if the suite could not run). */
static ssmrt_conformance_report *conformance_one(ssmrt_context *dut, ssmrt_context *ref,
                                                 const ssmrt_conformance_options *opt)
{
    ssmrt_conformance_report *rep = NULL;
    if (ssmrt_conformance_run(dut, ref, opt, &rep) != SSMRT_OK)
        return NULL;
    ssmrt_conformance_print_markdown(rep, stdout);
    fflush(stdout);
    return rep;
}

int ssmrt_cmd_conformance(int argc, char **argv)
{
    conformance_args a;
    int rc = conformance_parse(argc, argv, &a);
    if (rc >= 0)
        return rc;

    ssmrt_context *ref = conformance_open_reference();
    if (!ref)
        return 2;

    ssmrt_conformance_report *reports[64];
    size_t n_reports = 0;
    rc = 0;
    if (!a.all) {
        ssmrt_context *dut = NULL;
        if (ssmrt_context_create(NULL, &dut) != SSMRT_OK) {
            fprintf(stderr, "ssmrt conformance: cannot open the device under test: %s\n",
                    ssmrt_last_error());
            ssmrt_context_destroy(ref);
            return 2;
        }
        ssmrt_conformance_report *rep = conformance_one(dut, ref, &a.opt);
        ssmrt_context_destroy(dut);
        if (!rep)
            rc = 2;
        else
            reports[n_reports++] = rep;
    } else {
        uint32_t np = ssmrt_plugin_count();
        for (uint32_t p = 0; p < np && rc != 2; p++) {
            ssmrt_plugin_info pi;
            if (ssmrt_plugin_get(p, &pi) != SSMRT_OK)
                continue;
            if (!pi.loaded) {
                printf("## %s: unavailable (%s)\n\n", pi.name, pi.reason);
                continue;
            }
            for (uint32_t d = 0; d < pi.device_count && n_reports < 64; d++) {
                ssmrt_context_options o = {sizeof o, pi.name, (int32_t)d};
                ssmrt_context *dut = NULL;
                if (ssmrt_context_create(&o, &dut) != SSMRT_OK) {
                    fprintf(stderr, "ssmrt conformance: cannot open %s device %u: %s\n", pi.name,
                            d, ssmrt_last_error());
                    rc = 2;
                    break;
                }
                ssmrt_conformance_report *rep = conformance_one(dut, ref, &a.opt);
                ssmrt_context_destroy(dut);
                if (!rep) {
                    rc = 2;
                    break;
                }
                reports[n_reports++] = rep;
            }
        }
    }
    if (a.all && n_reports > 1)
        ssmrt_conformance_print_summary((const ssmrt_conformance_report *const *)reports,
                                        n_reports, stdout);
    if (a.json && n_reports &&
        ssmrt_conformance_write_json((const ssmrt_conformance_report *const *)reports, n_reports,
                                     a.json) != SSMRT_OK)
        rc = 2;
    for (size_t i = 0; i < n_reports; i++) {
        if (rc == 0 && reports[i]->counts[SSMRT_CONFORMANCE_FAIL])
            rc = 1;
        ssmrt_conformance_report_destroy(reports[i]);
    }
    ssmrt_context_destroy(ref);
    return rc;
}
