/* Option value parsing shared by the model subcommands (`run`, `eval`): strict
 * numbers (the whole string, in range) with a message naming the option. */
#ifndef SSMRT_TOOL_ARGS_H
#define SSMRT_TOOL_ARGS_H

#include <stdint.h>

/* Each returns 0 on success; on failure prints "ssmrt <cmd>: <option>: ..." and
 * returns -1. */
int tool_arg_int(const char *cmd, const char *opt, const char *s, int64_t min, int64_t max,
                 int64_t *out);
int tool_arg_double(const char *cmd, const char *opt, const char *s, double min, double max,
                    double *out);
/* "1,2,3" -> a malloc'd array of n ids in [0, 2^31). */
int tool_arg_ids(const char *cmd, const char *opt, const char *s, int32_t **out, int64_t *n);
/* The value of argv[*i] (which names opt), advancing *i; NULL (with a message) if
 * missing. */
const char *tool_arg_value(const char *cmd, int argc, char **argv, int *i);

#endif
