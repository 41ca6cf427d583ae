/* Test plugin: a shared library that exports no ssmrt_backend_entry (as if a
 * foreign library were named libssmrt-<x>.so). */
#include "ssmrt_backend.h"

SSMRT_PLUGIN_EXPORT int ssmrt_backend_entry_v0(void)
{
    return 0;
}
