/*
 * st_json.h (internal): strict JSON parsing for untrusted files.
 *
 * json-c does the parsing. Around it this adds what json-c does not check on its own:
 * UTF-8 validity, no raw control characters, no trailing bytes after the value, and no
 * duplicate keys in any object (json-c silently keeps the last one, which would let a
 * file say two things about one tensor). Shared by the safetensors header, the shard
 * index and, through the same function, any other JSON file the runtime reads
 * (config.json).
 */
#ifndef SSMRT_ST_JSON_H
#define SSMRT_ST_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "ssmrt.h"

/* Parses text[0..len) as one JSON value. label names the file in messages
 * ("path/model.safetensors: header"). On success *out is a json-c object owned by the
 * caller (json_object_put); a JSON null yields SSMRT_ERR_FORMAT. Errors:
 * SSMRT_ERR_FORMAT naming the byte offset and the problem, SSMRT_ERR_OUT_OF_MEMORY. */
ssmrt_status ssmrt__json_parse_strict(const char *label, const char *text, size_t len,
                                      json_object **out);

/* Refuses any object in text (JSON json-c has accepted) that names a key twice or has
 * a key with a NUL character; used by ssmrt__json_parse_strict. */
ssmrt_status ssmrt__json_check_keys(const char *label, const char *text, size_t len);

/* Byte offset of the first invalid UTF-8 sequence in s[0..len), or len if s is valid
 * UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
size_t ssmrt__utf8_invalid_at(const unsigned char *s, size_t len);

/* Reads an integer JSON value as an unsigned 64-bit number. Returns 0 and sets *out, or
 * returns -1 if v is not an integer (wrong type) and -2 if it is negative (then *neg
 * holds the value). */
int ssmrt__json_get_u64(json_object *v, uint64_t *out, int64_t *neg);

/* A printable rendering of a JSON value for messages ("-3", "\"F8\"", "[1,2]"), owned
 * by v (valid while v lives; "null" for NULL). Messages print it with SSMRT_JSON_REPR_FMT,
 * which truncates, so a huge hostile value cannot flood the error message. */
#define SSMRT_JSON_REPR_FMT "%.80s"
const char *ssmrt__json_repr(json_object *v);

#endif
