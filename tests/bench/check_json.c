/* Checks a `ssmrt bench --json` file: a JSON array of flat records, each naming its op,
 * backend and device; every timed record has a positive finite "ms"; the ops the test
 * asks for are there; the numeric fields it asks for are present and positive in every
 * timed record of those ops (of every op when none are named). Speeds are not judged: these are smoke tests of the tool. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "bench_check.h"

static const char *check_str(json_object *rec, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(rec, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* 1 if rec has key as a number > 0 and finite. */
static int check_positive(json_object *rec, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(rec, key, &v))
        return 0;
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return 0;
    double d = json_object_get_double(v);
    return isfinite(d) && d > 0;
}

/* Calls fn on each name of a comma list. Returns the number of names failing fn. */
static int check_each(const char *list, int (*fn)(const char *name, void *arg), void *arg)
{
    int bad = 0;
    char name[64];
    while (list && *list) {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        if (len >= sizeof name)
            len = sizeof name - 1;
        memcpy(name, list, len);
        name[len] = 0;
        bad += fn(name, arg);
        list = comma ? comma + 1 : NULL;
    }
    return bad;
}

/* 1 if name is an entry of the comma list. */
static int check_listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    while (list && *list) {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        if (len == n && !strncmp(list, name, n))
            return 1;
        list = comma ? comma + 1 : NULL;
    }
    return 0;
}

typedef struct check_rec_ctx {
    json_object *rec;
    size_t index;
} check_rec_ctx;

static int check_field(const char *name, void *arg)
{
    check_rec_ctx *c = arg;
    if (check_positive(c->rec, name))
        return 0;
    fprintf(stderr, "record %zu (%s): field \"%s\" missing or not a positive number\n", c->index,
            check_str(c->rec, "op"), name);
    return 1;
}

static int check_required_op(const char *name, void *arg)
{
    json_object *arr = arg;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *rec = json_object_array_get_idx(arr, i);
        const char *op = check_str(rec, "op");
        if (op && !strcmp(op, name) && check_positive(rec, "ms"))
            return 0;
    }
    fprintf(stderr, "no timed record of op \"%s\"\n", name);
    return 1;
}

int bench_check_json(const char *path, const char *require_ops, const char *fields)
{
    json_object *root = json_object_from_file(path);
    if (!root) {
        fprintf(stderr, "%s: not valid JSON (%s)\n", path, json_util_get_last_err());
        return 1;
    }
    int bad = 0;
    if (!json_object_is_type(root, json_type_array) || json_object_array_length(root) == 0) {
        fprintf(stderr, "%s: not a non-empty JSON array\n", path);
        json_object_put(root);
        return 1;
    }
    size_t n = json_object_array_length(root);
    for (size_t i = 0; i < n; i++) {
        json_object *rec = json_object_array_get_idx(root, i);
        if (!json_object_is_type(rec, json_type_object)) {
            fprintf(stderr, "record %zu is not an object\n", i);
            bad++;
            continue;
        }
        const char *op = check_str(rec, "op");
        if (!op || !check_str(rec, "backend") || !check_str(rec, "device")) {
            fprintf(stderr, "record %zu lacks op, backend or device\n", i);
            bad++;
            continue;
        }
        const char *status = check_str(rec, "status");
        if (status) {
            /* Lengths a benchmark chose not to reach are fine; failures are not. */
            if (strcmp(status, "skipped")) {
                fprintf(stderr, "record %zu (%s): status %s: %s\n", i, op, status,
                        check_str(rec, "error") ? check_str(rec, "error") : "");
                bad++;
            }
            continue;
        }
        if (!strcmp(op, "memory")) {
            check_rec_ctx c = {rec, i};
            bad += check_each("weight_bytes,state_bytes,peak_bytes", check_field, &c);
            continue;
        }
        check_rec_ctx c = {rec, i};
        bad += check_field("ms", &c);
        if (!require_ops || check_listed(require_ops, op))
            bad += check_each(fields, check_field, &c);
    }
    bad += check_each(require_ops, check_required_op, root);
    json_object_put(root);
    if (!bad)
        printf("%s: %zu records OK\n", path, n);
    return bad != 0;
}
