/* Per-thread error messages and status names. */
#include <stdio.h>
#include <string.h>

#include "error.h"

enum { SSMRT__ERROR_CAPACITY = 1024 };
static _Thread_local char ssmrt__error_message[SSMRT__ERROR_CAPACITY];

ssmrt_status ssmrt__failv(ssmrt_status st, const char *fmt, va_list ap)
{
    /* format into a copy: an argument may be the current message itself */
    char buf[SSMRT__ERROR_CAPACITY];
    vsnprintf(buf, sizeof buf, fmt, ap);
    memcpy(ssmrt__error_message, buf, sizeof buf);
    return st;
}

ssmrt_status ssmrt__fail(ssmrt_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ssmrt__failv(st, fmt, ap);
    va_end(ap);
    return st;
}

ssmrt_status ssmrt__fail_prefix(ssmrt_status st, const char *fmt, ...)
{
    char prefix[SSMRT__ERROR_CAPACITY];
    char old[SSMRT__ERROR_CAPACITY];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, ssmrt__error_message, sizeof old);
    /* prefix and old each fit the buffer, together maybe not: keep the head */
    size_t np = strlen(prefix);
    size_t no = strnlen(old, sizeof old - 1);
    size_t cap = sizeof ssmrt__error_message - 1;
    size_t at = 0;
    memcpy(ssmrt__error_message, prefix, np);
    at = np;
    if (at + 2 <= cap) {
        memcpy(ssmrt__error_message + at, ": ", 2);
        at += 2;
    }
    if (no > cap - at)
        no = cap - at;
    memcpy(ssmrt__error_message + at, old, no);
    ssmrt__error_message[at + no] = 0;
    return st;
}

const char *ssmrt_last_error(void)
{
    return ssmrt__error_message;
}

const char *ssmrt_status_name(ssmrt_status status)
{
    switch (status) {
    case SSMRT_OK: return "SSMRT_OK";
    case SSMRT_ERR_INVALID_ARGUMENT: return "SSMRT_ERR_INVALID_ARGUMENT";
    case SSMRT_ERR_SHAPE: return "SSMRT_ERR_SHAPE";
    case SSMRT_ERR_UNSUPPORTED: return "SSMRT_ERR_UNSUPPORTED";
    case SSMRT_ERR_OUT_OF_MEMORY: return "SSMRT_ERR_OUT_OF_MEMORY";
    case SSMRT_ERR_BACKEND: return "SSMRT_ERR_BACKEND";
    case SSMRT_ERR_NOT_FOUND: return "SSMRT_ERR_NOT_FOUND";
    case SSMRT_ERR_IO: return "SSMRT_ERR_IO";
    case SSMRT_ERR_FORMAT: return "SSMRT_ERR_FORMAT";
    case SSMRT_ERR_ABI: return "SSMRT_ERR_ABI";
    case SSMRT_ERR_INTERNAL: return "SSMRT_ERR_INTERNAL";
    }
    return "SSMRT_ERR_UNKNOWN";
}
