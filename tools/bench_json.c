/* JSON records of a benchmark run: flat objects in one array, built in memory and
 * written at the end so an interrupted run never leaves half a file. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct bench_json {
    char *buf;
    size_t len, cap;
    int n_records;
    int fields;   /* fields in the open record */
    int oom;      /* a growth failed: the write reports it */
};

bench_json *bench_json_create(void)
{
    return calloc(1, sizeof(bench_json));
}

void bench_json_destroy(bench_json *j)
{
    if (j) {
        free(j->buf);
        free(j);
    }
}

static void json_put(bench_json *j, const char *s, size_t n)
{
    if (j->oom)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 4096;
        while (j->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(j->buf, cap);
        if (!grown) {
            j->oom = 1;
            return;
        }
        j->buf = grown;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = 0;
}

static void json_printf(bench_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void json_printf(bench_json *j, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        json_put(j, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string: quotes, backslashes and control characters escaped. Device names
 * come from drivers, so nothing is assumed about them. */
static void json_string(bench_json *j, const char *s)
{
    json_put(j, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            json_put(j, e, 2);
        } else if (*p < 0x20) {
            json_printf(j, "\\u%04x", *p);
        } else {
            json_put(j, (const char *)p, 1);
        }
    }
    json_put(j, "\"", 1);
}

void bench_json_begin(bench_json *j)
{
    const char *sep = j->n_records ? ",\n  {" : "  {";
    json_put(j, sep, strlen(sep));
    j->fields = 0;
}

static void json_key(bench_json *j, const char *key)
{
    if (j->fields++)
        json_put(j, ", ", 2);
    json_string(j, key);
    json_put(j, ": ", 2);
}

void bench_json_str(bench_json *j, const char *key, const char *value)
{
    if (!value)
        return;
    json_key(j, key);
    json_string(j, value);
}

void bench_json_int(bench_json *j, const char *key, int64_t value)
{
    json_key(j, key);
    json_printf(j, "%lld", (long long)value);
}

void bench_json_num(bench_json *j, const char *key, double value)
{
    if (!isfinite(value))
        return;
    json_key(j, key);
    /* Integral values (byte counts) print exactly; others with 6 significant digits. */
    if (value == floor(value) && fabs(value) < 9e15)
        json_printf(j, "%.0f", value);
    else
        json_printf(j, "%.6g", value);
}

void bench_json_end(bench_json *j)
{
    json_put(j, "}", 1);
    j->n_records++;
}

void bench_json_target(bench_json *j, const bench_target *t)
{
    bench_json_str(j, "backend", t->info->backend);
    bench_json_str(j, "device", t->info->name);
    bench_json_int(j, "device_index", t->info->index);
}

int bench_json_write(const bench_json *j, const char *path)
{
    if (j->oom) {
        fprintf(stderr, "ssmrt bench: out of host memory building %s\n", path);
        return 1;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!tmp) {
        fprintf(stderr, "ssmrt bench: out of host memory writing %s\n", path);
        return 1;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "w");
    int bad = !f;
    if (f) {
        fputs("[\n", f);
        if (j->len)
            fwrite(j->buf, 1, j->len, f);
        fputs(j->n_records ? "\n]\n" : "]\n", f);
        bad = ferror(f);
        bad |= fclose(f) != 0;
    }
    if (!bad && rename(tmp, path) != 0)
        bad = 1;
    if (bad) {
        fprintf(stderr, "ssmrt bench: cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return bad;
}
