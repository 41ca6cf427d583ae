/* Internal: typed access to a model's config.json (json-c).
 *
 * Every getter names the field (with its parent path, "ssm_cfg.d_state") and the file in
 * its error message, so a wrong config says exactly what to fix. Getters with a default
 * treat a missing field and a JSON null alike ("sliding_window": null). */
#ifndef SSMRT_MODEL_CONFIG_H
#define SSMRT_MODEL_CONFIG_H

#include <stdint.h>

#include "ssmrt.h"

/* A JSON object inside a parsed document. Children share the document; only the
 * value returned by ssmrt__cfg_open owns it. */
typedef struct ssmrt__cfg {
    struct json_object *obj;
    const char *file;  /* for messages; borrowed */
    char path[64];     /* "" for the root, "ssm_cfg." for a child */
    int owns;
} ssmrt__cfg;

/* Parses path; the root must be a JSON object. file_label is kept (borrowed) for
 * messages and must outlive cfg. */
ssmrt_status ssmrt__cfg_open(const char *path, const char *file_label, ssmrt__cfg *cfg);
/* Parses JSON text held in memory (tests, embedded configs). */
ssmrt_status ssmrt__cfg_parse(const char *text, size_t len, const char *file_label,
                              ssmrt__cfg *cfg);
void ssmrt__cfg_close(ssmrt__cfg *cfg);

/* 1 if key is present and not null. */
int ssmrt__cfg_has(const ssmrt__cfg *cfg, const char *key);

/* A nested object. A missing/null key gives an empty object (every field then takes
 * its default), any other non-object is an error. */
ssmrt_status ssmrt__cfg_child(const ssmrt__cfg *cfg, const char *key, ssmrt__cfg *child);

/* Integers: JSON integers, or floats with an integral value (2.0). */
ssmrt_status ssmrt__cfg_int(const ssmrt__cfg *cfg, const char *key, int64_t *out);
ssmrt_status ssmrt__cfg_int_or(const ssmrt__cfg *cfg, const char *key, int64_t def,
                               int64_t *out);
/* Numbers; also the {"__float__": "Infinity"} objects transformers writes for
 * non-finite values, and "Infinity"/"NaN" literals. */
ssmrt_status ssmrt__cfg_float(const ssmrt__cfg *cfg, const char *key, double *out);
ssmrt_status ssmrt__cfg_float_or(const ssmrt__cfg *cfg, const char *key, double def,
                                 double *out);
ssmrt_status ssmrt__cfg_bool_or(const ssmrt__cfg *cfg, const char *key, int def, int *out);
/* The string stays valid while the document is open. */
ssmrt_status ssmrt__cfg_string(const ssmrt__cfg *cfg, const char *key, const char **out);
ssmrt_status ssmrt__cfg_string_or(const ssmrt__cfg *cfg, const char *key, const char *def,
                                  const char **out);
/* An array of exactly n numbers (as ssmrt__cfg_float reads them). */
ssmrt_status ssmrt__cfg_float_array(const ssmrt__cfg *cfg, const char *key, double *out,
                                    int n);
/* Element index of a string array, or NULL if key is absent; an error if it is not an
 * array of strings or index is out of range. */
ssmrt_status ssmrt__cfg_string_at(const ssmrt__cfg *cfg, const char *key, int index,
                                  const char **out);

/* Length of an array field; 0 if absent or null, an error if not an array. */
ssmrt_status ssmrt__cfg_array_length(const ssmrt__cfg *cfg, const char *key, int64_t *out);

/* Reports an inconsistent value: "<file>: field '<path><key>' = <value>: <why>". */
ssmrt_status ssmrt__cfg_invalid(const ssmrt__cfg *cfg, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
