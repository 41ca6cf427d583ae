/* Conformance reports: the markdown matrix and the JSON result file. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "conformance.h"

static const char *const conf_columns[] = {"f32", "f16", "bf16", "i32"};
#define CONF_NCOLS 4

static void conf_print_memory(FILE *f, uint64_t bytes)
{
    if (!bytes)
        fprintf(f, "unknown");
    else if (bytes >= (1ull << 30))
        fprintf(f, "%.1f GiB", (double)bytes / (double)(1ull << 30));
    else
        fprintf(f, "%.0f MiB", (double)bytes / (double)(1ull << 20));
}

static void conf_print_device(FILE *f, const char *what, const ssmrt_device_info *d)
{
    fprintf(f, "- %s: **%s** (backend `%s`, device %u), vendor %s, driver %s, API %s, memory ",
            what, d->name, d->backend, d->index, d->vendor, d->driver_version, d->api_version);
    conf_print_memory(f, d->memory_bytes);
    fprintf(f, ", dtypes");
    for (int t = 0; t < SSMRT_DTYPE_COUNT; t++)
        if (d->dtype_mask & (1u << t))
            fprintf(f, " %s", ssmrt_dtype_name((ssmrt_dtype)t));
    fprintf(f, "\n");
}

/* Verdict counts and the largest error of the cases matching op (and dtype, unless
 * NULL), as one table cell. */
static void conf_print_cell(FILE *f, const ssmrt_conformance_report *r, const char *op,
                            const char *dtype)
{
    size_t n[SSMRT_CONFORMANCE_VERDICT_COUNT] = {0};
    double maxerr = -1.0;
    for (size_t i = 0; i < r->n_cases; i++) {
        const ssmrt_conformance_case *k = &r->cases[i];
        if (strcmp(k->op, op) || (dtype && strcmp(k->dtype, dtype)))
            continue;
        n[k->verdict]++;
        if (k->max_error > maxerr)
            maxerr = k->max_error;
    }
    int printed = 0;
    fputc(' ', f);
    for (int v = 0; v < SSMRT_CONFORMANCE_VERDICT_COUNT; v++) {
        if (!n[v])
            continue;
        fprintf(f, "%s%s %zu", printed ? ", " : "",
                ssmrt_conformance_verdict_name((ssmrt_conformance_verdict)v), n[v]);
        printed = 1;
    }
    if (!printed)
        fprintf(f, "-");
    else if (maxerr >= 0)
        fprintf(f, " (%.2g)", maxerr);
    fprintf(f, " |");
}

void ssmrt_conformance_print_markdown(const ssmrt_conformance_report *r, FILE *f)
{
    const char *const *ops = ssmrt_conformance_op_names();
    fprintf(f, "## Conformance: %s (%s %u)\n\n", r->device.name, r->device.backend,
            r->device.index);
    conf_print_device(f, "device", &r->device);
    conf_print_device(f, "reference", &r->reference);
    fprintf(f, "- cases: %zu: %zu PASS, %zu FAIL, %zu NOT_SUPPORTED, %zu SKIP (%.1f s)\n\n",
            r->n_cases, r->counts[SSMRT_CONFORMANCE_PASS], r->counts[SSMRT_CONFORMANCE_FAIL],
            r->counts[SSMRT_CONFORMANCE_NOT_SUPPORTED], r->counts[SSMRT_CONFORMANCE_SKIP],
            r->seconds);
    fprintf(f, "Cells: verdict counts and the largest error (metric: max |got - want| / "
               "max(|want|, rms(want))).\n\n");
    fprintf(f, "| op |");
    for (int c = 0; c < CONF_NCOLS; c++)
        fprintf(f, " %s |", conf_columns[c]);
    fprintf(f, "\n|---|");
    for (int c = 0; c < CONF_NCOLS; c++)
        fprintf(f, "---|");
    fprintf(f, "\n");
    for (int o = 0; ops[o]; o++) {
        int any = 0;
        for (size_t i = 0; i < r->n_cases; i++)
            any |= !strcmp(r->cases[i].op, ops[o]);
        if (!any)
            continue;
        fprintf(f, "| %s |", ops[o]);
        for (int c = 0; c < CONF_NCOLS; c++)
            conf_print_cell(f, r, ops[o], conf_columns[c]);
        fprintf(f, "\n");
    }
    int header = 0;
    for (size_t i = 0; i < r->n_cases; i++) {
        const ssmrt_conformance_case *k = &r->cases[i];
        if (k->verdict == SSMRT_CONFORMANCE_PASS)
            continue;
        if (!header) {
            fprintf(f, "\nCases that did not pass:\n\n");
            header = 1;
        }
        fprintf(f, "- %s `%s` %s %s: %s\n", ssmrt_conformance_verdict_name(k->verdict), k->op,
                k->dtype, k->name, k->message);
    }
    fprintf(f, "\n");
}

void ssmrt_conformance_print_summary(const ssmrt_conformance_report *const *reports,
                                     size_t n_reports, FILE *f)
{
    const char *const *ops = ssmrt_conformance_op_names();
    fprintf(f, "## Conformance summary: %zu devices\n\n", n_reports);
    for (size_t d = 0; d < n_reports; d++) {
        char what[32];
        snprintf(what, sizeof what, "%s %u", reports[d]->device.backend, reports[d]->device.index);
        conf_print_device(f, what, &reports[d]->device);
    }
    fprintf(f, "\n| op |");
    for (size_t d = 0; d < n_reports; d++)
        fprintf(f, " %s %u |", reports[d]->device.backend, reports[d]->device.index);
    fprintf(f, "\n|---|");
    for (size_t d = 0; d < n_reports; d++)
        fprintf(f, "---|");
    fprintf(f, "\n");
    for (int o = 0; ops[o]; o++) {
        int any = 0;
        for (size_t d = 0; d < n_reports; d++)
            for (size_t i = 0; i < reports[d]->n_cases; i++)
                any |= !strcmp(reports[d]->cases[i].op, ops[o]);
        if (!any)
            continue;
        fprintf(f, "| %s |", ops[o]);
        for (size_t d = 0; d < n_reports; d++)
            conf_print_cell(f, reports[d], ops[o], NULL);
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
}

/* ===================================================================== */
/* JSON                                                                    */
/* ===================================================================== */

static void conf_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void conf_json_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fprintf(f, "null"); /* JSON has no infinity: an infinite error is a FAIL anyway */
}

static void conf_json_device(FILE *f, const ssmrt_device_info *d)
{
    fprintf(f, "{\"backend\": ");
    conf_json_string(f, d->backend);
    fprintf(f, ", \"index\": %u, \"name\": ", d->index);
    conf_json_string(f, d->name);
    fprintf(f, ", \"vendor\": ");
    conf_json_string(f, d->vendor);
    fprintf(f, ", \"driver_version\": ");
    conf_json_string(f, d->driver_version);
    fprintf(f, ", \"api_version\": ");
    conf_json_string(f, d->api_version);
    fprintf(f, ", \"memory_bytes\": %llu, \"subgroup_size\": %u, \"dtypes\": [",
            (unsigned long long)d->memory_bytes, d->subgroup_size);
    int first = 1;
    for (int t = 0; t < SSMRT_DTYPE_COUNT; t++) {
        if (d->dtype_mask & (1u << t)) {
            fprintf(f, "%s\"%s\"", first ? "" : ", ", ssmrt_dtype_name((ssmrt_dtype)t));
            first = 0;
        }
    }
    fprintf(f, "], \"is_reference\": %s}", d->is_reference ? "true" : "false");
}

ssmrt_status ssmrt_conformance_write_json(const ssmrt_conformance_report *const *reports,
                                          size_t n_reports, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "conformance: cannot write %s\n", path);
        return SSMRT_ERR_IO;
    }
    fprintf(f, "{\n  \"ssmrt_version\": \"%d.%d.%d\",\n  \"metric\": "
               "\"max |got - want| / max(|want|, rms(want))\",\n  \"devices\": [\n",
            SSMRT_VERSION_MAJOR, SSMRT_VERSION_MINOR, SSMRT_VERSION_PATCH);
    for (size_t r = 0; r < n_reports; r++) {
        const ssmrt_conformance_report *rep = reports[r];
        fprintf(f, "    {\n      \"device\": ");
        conf_json_device(f, &rep->device);
        fprintf(f, ",\n      \"reference\": ");
        conf_json_device(f, &rep->reference);
        fprintf(f, ",\n      \"seconds\": %.3f,\n      \"counts\": {", rep->seconds);
        for (int v = 0; v < SSMRT_CONFORMANCE_VERDICT_COUNT; v++)
            fprintf(f, "%s\"%s\": %zu", v ? ", " : "",
                    ssmrt_conformance_verdict_name((ssmrt_conformance_verdict)v), rep->counts[v]);
        fprintf(f, "},\n      \"cases\": [\n");
        for (size_t i = 0; i < rep->n_cases; i++) {
            const ssmrt_conformance_case *k = &rep->cases[i];
            fprintf(f, "        {\"op\": ");
            conf_json_string(f, k->op);
            fprintf(f, ", \"dtype\": ");
            conf_json_string(f, k->dtype);
            fprintf(f, ", \"name\": ");
            conf_json_string(f, k->name);
            fprintf(f, ", \"verdict\": \"%s\", \"max_error\": ",
                    ssmrt_conformance_verdict_name(k->verdict));
            if (k->max_error < 0)
                fprintf(f, "null");
            else
                conf_json_number(f, k->max_error);
            fprintf(f, ", \"tolerance\": ");
            conf_json_number(f, k->tolerance);
            fprintf(f, ", \"seconds\": %.4f, \"message\": ", k->seconds);
            conf_json_string(f, k->message);
            fprintf(f, "}%s\n", i + 1 < rep->n_cases ? "," : "");
        }
        fprintf(f, "      ]\n    }%s\n", r + 1 < n_reports ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    int err = ferror(f);
    if (fclose(f) != 0 || err) {
        fprintf(stderr, "conformance: writing %s failed\n", path);
        return SSMRT_ERR_IO;
    }
    return SSMRT_OK;
}
