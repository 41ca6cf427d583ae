/* Internal: logging to stderr, filtered by SSMRT_LOG. */
#ifndef SSMRT_LOG_H
#define SSMRT_LOG_H

#include <stdarg.h>

void ssmrt__log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ssmrt__logv(int level, const char *fmt, va_list ap);

#endif
