/* Internal: per-thread error messages. */
#ifndef SSMRT_ERROR_H
#define SSMRT_ERROR_H

#include <stdarg.h>
#include "ssmrt.h"

/* Stores a printf-formatted message as this thread's last error and returns st, so
 * a failure site reads `return ssmrt__fail(SSMRT_ERR_SHAPE, "...", ...);`. */
ssmrt_status ssmrt__fail(ssmrt_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
ssmrt_status ssmrt__failv(ssmrt_status st, const char *fmt, va_list ap);
/* Prefixes the current message with "context: " (for adding a file or op name on the
 * way out) and returns st. */
ssmrt_status ssmrt__fail_prefix(ssmrt_status st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
