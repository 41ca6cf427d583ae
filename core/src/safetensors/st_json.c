/* Strict JSON parsing on top of json-c (see st_json.h for what is added and why). */
#include <limits.h>
#include <string.h>

#include "error.h"
#include "safetensors/st_json.h"

static int is_json_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

ssmrt_status ssmrt__json_parse_strict(const char *label, const char *text, size_t len,
                                      json_object **out)
{
    *out = NULL;
    if (len > (size_t)INT_MAX) /* json_tokener_parse_ex takes an int length */
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: JSON text of %zu bytes is too large", label,
                           len);
    const unsigned char *u = (const unsigned char *)text;
    size_t bad = ssmrt__utf8_invalid_at(u, len);
    if (bad < len)
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: not valid UTF-8 at byte %zu (0x%02x)", label,
                           bad, u[bad]);
    /* JSON allows no raw control characters, in strings or between tokens, except the
     * three whitespace ones; json-c is lenient inside strings and stops at NUL. */
    for (size_t i = 0; i < len; i++)
        if (u[i] < 0x20 && !is_json_ws(u[i]))
            return ssmrt__fail(SSMRT_ERR_FORMAT,
                               "%s: control character 0x%02x at byte %zu is not valid JSON",
                               label, u[i], i);

    json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
    if (!tok)
        return ssmrt__fail(SSMRT_ERR_OUT_OF_MEMORY, "%s: out of memory creating a JSON parser",
                           label);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* A bare literal or number at the very end ("null", "5") waits for a delimiter
         * to know it is complete: give it one. Truly cut text stays incomplete. */
        obj = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    }
    json_tokener_free(tok);

    if (jerr == json_tokener_continue) {
        json_object_put(obj);
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: JSON ends early (incomplete at byte %zu)",
                           label, len);
    }
    if (jerr != json_tokener_success) {
        json_object_put(obj);
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: invalid JSON at byte %zu: %s", label, end,
                           json_tokener_error_desc(jerr));
    }
    if (!obj)
        return ssmrt__fail(SSMRT_ERR_FORMAT, "%s: JSON value is null", label);
    for (size_t i = end; i < len; i++)
        if (!is_json_ws(u[i])) {
            json_object_put(obj);
            return ssmrt__fail(SSMRT_ERR_FORMAT,
                               "%s: unexpected data after the JSON value at byte %zu", label, i);
        }
    ssmrt_status st = ssmrt__json_check_keys(label, text, len);
    if (st) {
        json_object_put(obj);
        return st;
    }
    *out = obj;
    return SSMRT_OK;
}

int ssmrt__json_get_u64(json_object *v, uint64_t *out, int64_t *neg)
{
    if (!json_object_is_type(v, json_type_int))
        return -1;
    int64_t s = json_object_get_int64(v);
    if (s < 0) {
        *neg = s;
        return -2;
    }
    /* json-c stores integers past INT64_MAX as unsigned; get_int64 clamps them. */
    *out = (s == INT64_MAX) ? json_object_get_uint64(v) : (uint64_t)s;
    return 0;
}

const char *ssmrt__json_repr(json_object *v)
{
    if (!v)
        return "null";
    const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
    return s ? s : "?";
}
