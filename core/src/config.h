/* Internal: the runtime's configuration, read once from the environment (with
 * secure_getenv) so no other file calls getenv. */
#ifndef SSMRT_CONFIG_H
#define SSMRT_CONFIG_H

#include <stdint.h>

typedef struct ssmrt__config {
    const char *backend;      /* SSMRT_BACKEND or NULL */
    int32_t device;           /* SSMRT_DEVICE or -1 */
    const char *device_text;  /* the raw SSMRT_DEVICE when it did not parse, else NULL */
    const char *plugin_path;  /* SSMRT_PLUGIN_PATH or NULL */
    int32_t log_level;        /* ssmrt_log_level from SSMRT_LOG, default warn */
    const char *log_text;     /* the raw SSMRT_LOG when it did not parse, else NULL */
} ssmrt__config;

const ssmrt__config *ssmrt__config_get(void);

#endif
