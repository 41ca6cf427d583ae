/*
 * st_test.h: small helpers shared by the loader tests (checks, a scratch directory,
 * crafting files byte by byte). Header-only so each test stays one program.
 */
#ifndef SSMRT_ST_TEST_H
#define SSMRT_ST_TEST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssmrt.h"
#include "ssmrt_safetensors.h"

static int st_failures;
static int st_checks;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        st_checks++;                                                                      \
        if (!(cond)) {                                                                    \
            st_failures++;                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);       \
        }                                                                                 \
    } while (0)

#define CHECK_MSG(cond, ...)                                                              \
    do {                                                                                  \
        st_checks++;                                                                      \
        if (!(cond)) {                                                                    \
            st_failures++;                                                                \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fputc('\n', stderr);                                                          \
        }                                                                                 \
    } while (0)

/* Checks status st is OK; on failure prints the library's message. */
#define CHECK_OK(expr)                                                                    \
    do {                                                                                  \
        ssmrt_status st_s_ = (expr);                                                      \
        CHECK_MSG(st_s_ == SSMRT_OK, "%s: %s", ssmrt_status_name(st_s_), ssmrt_last_error()); \
    } while (0)

static inline int st_test_finish(const char *name)
{
    if (st_failures) {
        fprintf(stderr, "%s: %d of %d checks failed\n", name, st_failures, st_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, st_checks);
    return 0;
}

/* A fresh scratch directory under $TMPDIR (or /tmp); removed by st_rmtree. */
static char st_tmpdir[4096];

static inline const char *st_make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(st_tmpdir, sizeof st_tmpdir, "%s/ssmrt-loader-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(st_tmpdir)) {
        perror("mkdtemp");
        exit(2);
    }
    return st_tmpdir;
}

static inline void st_rmtree(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* path = dir + "/" + name, in a static rotating buffer. */
static inline const char *st_path(const char *dir, const char *name)
{
    static char bufs[4][4200];
    static int k;
    char *b = bufs[k++ & 3];
    snprintf(b, sizeof bufs[0], "%.2000s/%.2000s", dir, name);
    return b;
}

static inline void st_write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* Writes a safetensors file by hand: an explicit header length field (so tests can lie
 * about it), the header bytes as given, then data_len bytes of data (value i & 0xff). */
static inline void st_craft_raw(const char *path, uint64_t len_field, const char *header, size_t hlen,
                         size_t data_len)
{
    size_t n = 8 + hlen + data_len;
    unsigned char *buf = malloc(n ? n : 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(len_field >> (8 * i));
    memcpy(buf + 8, header, hlen);
    for (size_t i = 0; i < data_len; i++)
        buf[8 + hlen + i] = (unsigned char)i;
    st_write_bytes(path, buf, n);
    free(buf);
}

/* The common case: a well-formed length field for the given header text. */
static inline void st_craft(const char *path, const char *header, size_t data_len)
{
    st_craft_raw(path, strlen(header), header, strlen(header), data_len);
}

/* Reads a whole file into a malloc'd buffer. */
static inline unsigned char *st_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(2);
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static inline int st_file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

#endif
