/* safetensors dtype names and sizes. */
#include <string.h>

#include "safetensors/st_internal.h"

static const struct {
    const char *name;
    size_t size;
} st_dtypes[SSMRT_ST_DTYPE_COUNT] = {
    [SSMRT_ST_F32] = {"F32", 4},  [SSMRT_ST_F16] = {"F16", 2},   [SSMRT_ST_BF16] = {"BF16", 2},
    [SSMRT_ST_I32] = {"I32", 4},  [SSMRT_ST_I64] = {"I64", 8},   [SSMRT_ST_F64] = {"F64", 8},
    [SSMRT_ST_I8] = {"I8", 1},    [SSMRT_ST_U8] = {"U8", 1},     [SSMRT_ST_I16] = {"I16", 2},
    [SSMRT_ST_U16] = {"U16", 2},  [SSMRT_ST_U32] = {"U32", 4},   [SSMRT_ST_U64] = {"U64", 8},
    [SSMRT_ST_BOOL] = {"BOOL", 1},
};

/* Dtypes the format defines that ssmrt has no type for: refused as unsupported rather
 * than as a malformed file, so the message says what is really wrong. */
static const char *const st_unsupported[] = {"F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3",
                                             "F6_E3M2", "F4", "C64"};

size_t ssmrt_st_dtype_size(ssmrt_st_dtype dtype)
{
    if ((unsigned)dtype >= SSMRT_ST_DTYPE_COUNT)
        return 0;
    return st_dtypes[dtype].size;
}

const char *ssmrt_st_dtype_name(ssmrt_st_dtype dtype)
{
    if ((unsigned)dtype >= SSMRT_ST_DTYPE_COUNT)
        return "?";
    return st_dtypes[dtype].name;
}

int ssmrt__st_dtype_parse(const char *name, ssmrt_st_dtype *out)
{
    for (int i = 0; i < SSMRT_ST_DTYPE_COUNT; i++)
        if (strcmp(name, st_dtypes[i].name) == 0) {
            *out = (ssmrt_st_dtype)i;
            return 0;
        }
    for (size_t i = 0; i < sizeof st_unsupported / sizeof st_unsupported[0]; i++)
        if (strcmp(name, st_unsupported[i]) == 0)
            return -2;
    return -1;
}

int64_t ssmrt__st_nelements(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || __builtin_mul_overflow(n, shape[i], &n))
            return -1;
    return n;
}
