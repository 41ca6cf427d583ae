/* The one place that reads SSMRT_* environment variables. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ssmrt_backend.h"

static ssmrt__config ssmrt__config_value;
static pthread_once_t ssmrt__config_once = PTHREAD_ONCE_INIT;

static const char *ssmrt__config_env(const char *name)
{
    const char *v = secure_getenv(name);
    return (v && *v) ? v : NULL;
}

static void ssmrt__config_read(void)
{
    ssmrt__config *c = &ssmrt__config_value;
    c->backend = ssmrt__config_env("SSMRT_BACKEND");
    c->plugin_path = ssmrt__config_env("SSMRT_PLUGIN_PATH");
    c->device = -1;
    const char *dev = ssmrt__config_env("SSMRT_DEVICE");
    if (dev) {
        char *end;
        errno = 0;
        long v = strtol(dev, &end, 10);
        if (errno || *end || v < 0 || v > INT32_MAX)
            c->device_text = dev;
        else
            c->device = (int32_t)v;
    }
    c->log_level = SSMRT_LOG_WARN;
    const char *log = ssmrt__config_env("SSMRT_LOG");
    if (log) {
        static const char *const names[] = {"error", "warn", "info", "debug"};
        c->log_text = log;
        for (int i = 0; i < 4; i++)
            if (!strcasecmp(log, names[i])) {
                c->log_level = i;
                c->log_text = NULL;
            }
    }
}

const ssmrt__config *ssmrt__config_get(void)
{
    pthread_once(&ssmrt__config_once, ssmrt__config_read);
    return &ssmrt__config_value;
}
