#include <stdio.h>

#include "config.h"
#include "log.h"

void ssmrt__logv(int level, const char *fmt, va_list ap)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    const ssmrt__config *cfg = ssmrt__config_get();
    if (level > cfg->log_level || level < 0 || level > 3)
        return;
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "ssmrt %s: %s\n", names[level], line);
}

void ssmrt__log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ssmrt__logv(level, fmt, ap);
    va_end(ap);
}
