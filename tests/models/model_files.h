/* Helpers for tests that craft model folders: a temporary directory, config.json text
 * edited by string replacement, and safetensors files rewritten from a fixture's
 * tensors (renamed, dropped, reshaped or converted). */
#ifndef SSMRT_MODEL_FILES_H
#define SSMRT_MODEL_FILES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_test.h"

/* Reads a whole file into a NUL-terminated buffer (caller frees). */
static inline char *mf_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "FAIL: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        exit(1);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static inline void mf_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f)) {
        fprintf(stderr, "FAIL: cannot write %s\n", path);
        exit(1);
    }
}

/* text with the first occurrence of from replaced by to (new buffer). Fails the test
 * when from is absent, so an edit cannot silently do nothing. */
static inline char *mf_replace(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    if (!p) {
        fprintf(stderr, "FAIL: '%s' not found in config text\n", from);
        exit(1);
    }
    size_t a = (size_t)(p - text), fl = strlen(from), tl = strlen(to), rest = strlen(p + fl);
    char *out = malloc(a + tl + rest + 1);
    memcpy(out, text, a);
    memcpy(out + a, to, tl);
    memcpy(out + a + tl, p + fl, rest + 1);
    return out;
}

/* A fresh temporary directory (removed by mf_rmdir). */
static inline void mf_tmpdir(char *out, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, n, "%s/ssmrt-models-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(out)) {
        perror("mkdtemp");
        exit(1);
    }
}

static inline void mf_rmdir(const char *dir)
{
    static const char *files[] = {"config.json", "model.safetensors", "model-00001-of-00002.safetensors",
                                  "model-00002-of-00002.safetensors", "model.safetensors.index.json"};
    char p[4200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Every tensor of a safetensors file; the data points into the open file. */
typedef struct mf_tensors {
    ssmrt_safetensors *st;
    ssmrt_st_tensor *t;
    uint32_t n;
} mf_tensors;

static inline void mf_tensors_open(mf_tensors *m, const char *path)
{
    MT_OK(ssmrt_safetensors_open(path, &m->st));
    m->n = ssmrt_safetensors_count(m->st);
    m->t = calloc(m->n + 1, sizeof *m->t);
    for (uint32_t i = 0; i < m->n; i++)
        MT_OK(ssmrt_safetensors_at(m->st, i, &m->t[i]));
}

static inline ssmrt_st_tensor *mf_find(mf_tensors *m, const char *name)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (!strcmp(m->t[i].name, name))
            return &m->t[i];
    fprintf(stderr, "FAIL: fixture has no tensor %s\n", name);
    exit(1);
}

/* Drops the tensor (the array is compacted). */
static inline void mf_drop(mf_tensors *m, const char *name)
{
    ssmrt_st_tensor *t = mf_find(m, name);
    size_t i = (size_t)(t - m->t);
    memmove(&m->t[i], &m->t[i + 1], (m->n - i - 1) * sizeof *t);
    m->n--;
}

static inline void mf_tensors_close(mf_tensors *m)
{
    ssmrt_safetensors_close(m->st);
    free(m->t);
}

static inline void mf_write_tensors(const char *dir, const char *file, const ssmrt_st_tensor *t,
                                    uint32_t n)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    MT_OK(ssmrt_safetensors_write(p, t, n));
}

#endif
