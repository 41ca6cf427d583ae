/* Typed, error-naming access to config.json through json-c. */
#include "model/config.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "error.h"

/* Config files are a few kilobytes; anything this large is not a config. */
#define CFG_MAX_BYTES (16u << 20)

static const char *cfg_type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double: return "a float";
    case json_type_int: return "an integer";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "an unknown JSON type";
}

static void cfg_init_root(ssmrt__cfg *cfg, json_object *root, const char *label)
{
    cfg->obj = root;
    cfg->file = label;
    cfg->path[0] = '\0';
    cfg->owns = 1;
}

ssmrt_status ssmrt__cfg_parse(const char *text, size_t len, const char *file_label,
                              ssmrt__cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    if (len > CFG_MAX_BYTES)
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: %zu bytes is too large for a config file",
                           file_label, len);
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return ssmrt__fail(SSMRT_ERR_OUT_OF_MEMORY, "%s: cannot create a JSON parser", file_label);
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        if (jerr == json_tokener_continue)
            return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: JSON ends early (truncated file?)",
                               file_label);
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: invalid JSON near byte %zu: %s", file_label,
                           used, json_tokener_error_desc(jerr));
    }
    for (size_t i = used; i < len; i++) {
        char c = text[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != '\0') {
            json_object_put(root);
            return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: unexpected data after the JSON value at byte %zu",
                               file_label, i);
        }
    }
    if (!json_object_is_type(root, json_type_object)) {
        const char *t = cfg_type_name(root);
        json_object_put(root);
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: expected a JSON object at the top level, got %s",
                           file_label, t);
    }
    cfg_init_root(cfg, root, file_label);
    return SSMRT_OK;
}

ssmrt_status ssmrt__cfg_open(const char *path, const char *file_label, ssmrt__cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ssmrt__fail(errno == ENOENT ? SSMRT_ERR_NOT_FOUND : SSMRT_ERR_IO,
                           "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    ssmrt_status st = SSMRT_OK;
    for (;;) {
        if (len == cap) {
            if (cap >= CFG_MAX_BYTES) {
                st = ssmrt__fail(SSMRT_ERR_FORMAT, "%s: larger than %u bytes, not a config file",
                                 path, CFG_MAX_BYTES);
                break;
            }
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb = ssmrt__realloc(buf, ncap);
            if (!nb) {
                st = SSMRT_ERR_OUT_OF_MEMORY;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                st = ssmrt__fail(SSMRT_ERR_IO, "%s: read error", path);
            break;
        }
    }
    fclose(f);
    if (st == SSMRT_OK)
        st = ssmrt__cfg_parse(buf, len, file_label, cfg);
    ssmrt__free(buf);
    return st;
}

void ssmrt__cfg_close(ssmrt__cfg *cfg)
{
    if (cfg && cfg->owns && cfg->obj)
        json_object_put(cfg->obj);
    if (cfg)
        memset(cfg, 0, sizeof *cfg);
}

static json_object *cfg_get(const ssmrt__cfg *cfg, const char *key)
{
    json_object *v = NULL;
    if (!cfg->obj || !json_object_object_get_ex(cfg->obj, key, &v))
        return NULL;
    return v;
}

int ssmrt__cfg_has(const ssmrt__cfg *cfg, const char *key)
{
    json_object *v = cfg_get(cfg, key);
    return v && !json_object_is_type(v, json_type_null);
}

static ssmrt_status cfg_missing(const ssmrt__cfg *cfg, const char *key)
{
    return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: required field '%s%s' is missing", cfg->file,
                       cfg->path, key);
}

static ssmrt_status cfg_wrong_type(const ssmrt__cfg *cfg, const char *key, const char *want,
                                   json_object *v)
{
    return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: field '%s%s' must be %s, got %s (%s)", cfg->file,
                       cfg->path, key, want, cfg_type_name(v),
                       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

ssmrt_status ssmrt__cfg_child(const ssmrt__cfg *cfg, const char *key, ssmrt__cfg *child)
{
    memset(child, 0, sizeof *child);
    child->file = cfg->file;
    json_object *v = cfg_get(cfg, key);
    if (v && !json_object_is_type(v, json_type_null) && !json_object_is_type(v, json_type_object))
        return cfg_wrong_type(cfg, key, "an object", v);
    child->obj = (v && json_object_is_type(v, json_type_object)) ? v : NULL;
    size_t need = strlen(cfg->path) + strlen(key) + 2;
    if (need > sizeof child->path)
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: field path '%s%s' is nested too deeply",
                           cfg->file, cfg->path, key);
    memcpy(child->path, cfg->path, strlen(cfg->path));
    memcpy(child->path + strlen(cfg->path), key, strlen(key));
    child->path[need - 2] = '.';
    child->path[need - 1] = '\0';
    child->owns = 0;
    return SSMRT_OK;
}

static ssmrt_status cfg_as_int(const ssmrt__cfg *cfg, const char *key, json_object *v,
                               int64_t *out)
{
    if (json_object_is_type(v, json_type_int)) {
        errno = 0;
        int64_t x = json_object_get_int64(v);
        if (errno == EINVAL)
            return cfg_wrong_type(cfg, key, "an integer", v);
        *out = x;
        return SSMRT_OK;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (isfinite(d) && d == floor(d) && fabs(d) < 9.0e15) {
            *out = (int64_t)d;
            return SSMRT_OK;
        }
    }
    return cfg_wrong_type(cfg, key, "an integer", v);
}

ssmrt_status ssmrt__cfg_int(const ssmrt__cfg *cfg, const char *key, int64_t *out)
{
    json_object *v = cfg_get(cfg, key);
    if (!v || json_object_is_type(v, json_type_null))
        return cfg_missing(cfg, key);
    return cfg_as_int(cfg, key, v, out);
}

ssmrt_status ssmrt__cfg_int_or(const ssmrt__cfg *cfg, const char *key, int64_t def, int64_t *out)
{
    json_object *v = cfg_get(cfg, key);
    if (!v || json_object_is_type(v, json_type_null)) {
        *out = def;
        return SSMRT_OK;
    }
    return cfg_as_int(cfg, key, v, out);
}

/* Reads a non-finite value spelled as a string ("Infinity", "-inf", "NaN"). */
static int cfg_parse_special(const char *s, double *out)
{
    int neg = 0;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (!strcasecmp(s, "infinity") || !strcasecmp(s, "inf")) {
        *out = neg ? -INFINITY : INFINITY;
        return 1;
    }
    if (!strcasecmp(s, "nan")) {
        *out = NAN;
        return 1;
    }
    return 0;
}

static ssmrt_status cfg_as_float(const ssmrt__cfg *cfg, const char *key, json_object *v,
                                 double *out)
{
    if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
        *out = json_object_get_double(v);
        return SSMRT_OK;
    }
    /* transformers writes float("inf") as {"__float__": "Infinity"}. */
    json_object *f = NULL;
    if (json_object_is_type(v, json_type_object) && json_object_object_length(v) == 1 &&
        json_object_object_get_ex(v, "__float__", &f) && json_object_is_type(f, json_type_string) &&
        cfg_parse_special(json_object_get_string(f), out))
        return SSMRT_OK;
    return cfg_wrong_type(cfg, key, "a number", v);
}

ssmrt_status ssmrt__cfg_float(const ssmrt__cfg *cfg, const char *key, double *out)
{
    json_object *v = cfg_get(cfg, key);
    if (!v || json_object_is_type(v, json_type_null))
        return cfg_missing(cfg, key);
    return cfg_as_float(cfg, key, v, out);
}

ssmrt_status ssmrt__cfg_float_or(const ssmrt__cfg *cfg, const char *key, double def, double *out)
{
    json_object *v = cfg_get(cfg, key);
    if (!v || json_object_is_type(v, json_type_null)) {
        *out = def;
        return SSMRT_OK;
    }
    return cfg_as_float(cfg, key, v, out);
}

ssmrt_status ssmrt__cfg_bool_or(const ssmrt__cfg *cfg, const char *key, int def, int *out)
{
    json_object *v = cfg_get(cfg, key);
    if (!v || json_object_is_type(v, json_type_null)) {
        *out = def;
        return SSMRT_OK;
    }
    if (!json_object_is_type(v, json_type_boolean))
        return cfg_wrong_type(cfg, key, "a boolean", v);
    *out = json_object_get_boolean(v) ? 1 : 0;
    return SSMRT_OK;
}

ssmrt_status ssmrt__cfg_string(const ssmrt__cfg *cfg, const char *key, const char **out)
{
    json_object *v = cfg_get(cfg, key);
    if (!v || json_object_is_type(v, json_type_null))
        return cfg_missing(cfg, key);
    if (!json_object_is_type(v, json_type_string))
        return cfg_wrong_type(cfg, key, "a string", v);
    *out = json_object_get_string(v);
    return SSMRT_OK;
}

ssmrt_status ssmrt__cfg_string_or(const ssmrt__cfg *cfg, const char *key, const char *def,
                                  const char **out)
{
    if (!ssmrt__cfg_has(cfg, key)) {
        *out = def;
        return SSMRT_OK;
    }
    return ssmrt__cfg_string(cfg, key, out);
}

ssmrt_status ssmrt__cfg_float_array(const ssmrt__cfg *cfg, const char *key, double *out, int n)
{
    json_object *v = cfg_get(cfg, key);
    if (!v || json_object_is_type(v, json_type_null))
        return cfg_missing(cfg, key);
    if (!json_object_is_type(v, json_type_array) || (int)json_object_array_length(v) != n) {
        char want[48];
        snprintf(want, sizeof want, "an array of %d numbers", n);
        return cfg_wrong_type(cfg, key, want, v);
    }
    for (int i = 0; i < n; i++) {
        char item[80];
        snprintf(item, sizeof item, "%s[%d]", key, i);
        ssmrt_status st = cfg_as_float(cfg, item, json_object_array_get_idx(v, (size_t)i), &out[i]);
        if (st)
            return st;
    }
    return SSMRT_OK;
}

ssmrt_status ssmrt__cfg_string_at(const ssmrt__cfg *cfg, const char *key, int index,
                                  const char **out)
{
    *out = NULL;
    json_object *v = cfg_get(cfg, key);
    if (!v || json_object_is_type(v, json_type_null))
        return SSMRT_OK;
    if (!json_object_is_type(v, json_type_array))
        return cfg_wrong_type(cfg, key, "an array of strings", v);
    if (index < 0 || (size_t)index >= json_object_array_length(v))
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: field '%s%s' has no element %d", cfg->file,
                           cfg->path, key, index);
    json_object *e = json_object_array_get_idx(v, (size_t)index);
    if (!json_object_is_type(e, json_type_string)) {
        char item[80];
        snprintf(item, sizeof item, "%s[%d]", key, index);
        return cfg_wrong_type(cfg, item, "a string", e);
    }
    *out = json_object_get_string(e);
    return SSMRT_OK;
}

ssmrt_status ssmrt__cfg_array_length(const ssmrt__cfg *cfg, const char *key, int64_t *out)
{
    *out = 0;
    json_object *v = cfg_get(cfg, key);
    if (!v || json_object_is_type(v, json_type_null))
        return SSMRT_OK;
    if (!json_object_is_type(v, json_type_array))
        return cfg_wrong_type(cfg, key, "an array", v);
    *out = (int64_t)json_object_array_length(v);
    return SSMRT_OK;
}

ssmrt_status ssmrt__cfg_invalid(const ssmrt__cfg *cfg, const char *key, const char *fmt, ...)
{
    char why[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    json_object *v = cfg_get(cfg, key);
    if (v)
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: field '%s%s' = %s: %s", cfg->file, cfg->path,
                           key, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), why);
    return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: field '%s%s' (default): %s", cfg->file, cfg->path,
                       key, why);
}
