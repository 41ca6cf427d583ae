/* Strict option values for the model subcommands. */
#include "tool_args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int tool_arg_int(const char *cmd, const char *opt, const char *s, int64_t min, int64_t max,
                 int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "ssmrt %s: %s: '%s' is not an integer in [%lld, %lld]\n", cmd, opt, s,
                (long long)min, (long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int tool_arg_double(const char *cmd, const char *opt, const char *s, double min, double max,
                    double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > max) {
        fprintf(stderr, "ssmrt %s: %s: '%s' is not a number in [%g, %g]\n", cmd, opt, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int tool_arg_ids(const char *cmd, const char *opt, const char *s, int32_t **out, int64_t *n)
{
    int64_t count = 1;
    for (const char *p = s; *p; p++)
        count += *p == ',';
    int32_t *ids = malloc((size_t)count * sizeof *ids);
    if (!ids) {
        fprintf(stderr, "ssmrt %s: out of memory\n", cmd);
        return -1;
    }
    const char *p = s;
    for (int64_t i = 0; i < count; i++) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || end == p || (*end && *end != ',') || v < 0 || v > INT32_MAX) {
            fprintf(stderr, "ssmrt %s: %s: element %lld of '%s' is not a token id (an integer >= 0)\n",
                    cmd, opt, (long long)i, s);
            free(ids);
            return -1;
        }
        ids[i] = (int32_t)v;
        p = *end ? end + 1 : end;
    }
    *out = ids;
    *n = count;
    return 0;
}

const char *tool_arg_value(const char *cmd, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "ssmrt %s: %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}
