/* On-disk cache of built program binaries, so a process does not recompile every
 * kernel on first use. Entries live in $XDG_CACHE_HOME/ssmrt/opencl (else
 * ~/.cache/ssmrt/opencl), named by a hash of the key (device name, driver and
 * platform version, build options, full source text); a second hash and the key
 * length in the header guard against collisions. Every failure here is logged and
 * ignored: the caller then builds from source. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocl.h"

static const char cache_magic[8] = {'S', 'S', 'M', 'R', 'T', 'C', 'L', '1'};

typedef struct cache_header {
    char magic[8];
    uint64_t check;     /* second hash of the key */
    uint64_t key_len;
    uint64_t binary_len;
} cache_header;

static uint64_t hash_fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* A differently built hash, so one collision does not imply the other. */
static uint64_t hash_mix(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    return h;
}

static int mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = mkdir(path, 0700);
        *p = '/';
        if (r != 0 && errno != EEXIST)
            return -1;
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Writes the cache directory into buf (creating it when create); 0 on success. */
static int cache_dir(char *buf, size_t cap, int create)
{
    const char *xdg = secure_getenv("XDG_CACHE_HOME");
    const char *home = secure_getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, cap, "%s/ssmrt/opencl", xdg);
    else if (home && home[0] == '/')
        n = snprintf(buf, cap, "%s/.cache/ssmrt/opencl", home);
    else
        return -1;
    if (n < 0 || (size_t)n >= cap)
        return -1;
    if (create && mkdir_p(buf) != 0) {
        SSMRT_OCL_LOG(SSMRT_LOG_WARN, "opencl: cannot create the kernel cache %s: %s", buf,
                      strerror(errno));
        return -1;
    }
    return 0;
}

static int entry_path(ssmrt_ocl_device *dev, char *buf, size_t cap, const char *key,
                      size_t key_len, int create)
{
    char dir[4096];
    if (dev->cache_off || cache_dir(dir, sizeof dir, create) != 0) {
        dev->cache_off = 1;
        return -1;
    }
    int n = snprintf(buf, cap, "%s/%016llx.bin", dir,
                     (unsigned long long)hash_fnv1a(key, key_len));
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

cl_program ssmrt_ocl_cache_load(ssmrt_ocl_device *dev, const char *key, size_t key_len,
                                const char *options)
{
    char path[4200];
    if (dev->cache_off || entry_path(dev, path, sizeof path, key, key_len, 0) != 0)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL; /* not cached yet */
    cache_header h;
    unsigned char *bin = NULL;
    cl_program prog = NULL;
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, cache_magic, 8) != 0 ||
        h.check != hash_mix(key, key_len) || h.key_len != key_len || h.binary_len == 0 ||
        h.binary_len > ((uint64_t)1 << 31)) {
        SSMRT_OCL_LOG(SSMRT_LOG_DEBUG, "opencl: cache entry %s does not match; rebuilding", path);
        goto done;
    }
    bin = ssmrt_ocl_alloc((size_t)h.binary_len);
    if (!bin || fread(bin, 1, (size_t)h.binary_len, f) != h.binary_len) {
        SSMRT_OCL_LOG(SSMRT_LOG_WARN, "opencl: cannot read cache entry %s", path);
        goto done;
    }
    size_t len = (size_t)h.binary_len;
    const unsigned char *bins[1] = {bin};
    cl_int bin_status = CL_SUCCESS, err;
    prog = clCreateProgramWithBinary(dev->context, 1, &dev->device, &len, bins, &bin_status,
                                     &err);
    if (err == CL_SUCCESS && bin_status == CL_SUCCESS)
        err = clBuildProgram(prog, 1, &dev->device, options, NULL, NULL);
    else if (err == CL_SUCCESS)
        err = bin_status;
    if (err != CL_SUCCESS) {
        SSMRT_OCL_LOG(SSMRT_LOG_WARN, "opencl: cached binary %s rejected (%s); rebuilding", path,
                      ssmrt_ocl_error_name(err));
        if (prog)
            clReleaseProgram(prog);
        prog = NULL;
    } else {
        SSMRT_OCL_LOG(SSMRT_LOG_DEBUG, "opencl: loaded %s", path);
    }
done:
    ssmrt_ocl_free(bin);
    fclose(f);
    return prog;
}

void ssmrt_ocl_cache_store(ssmrt_ocl_device *dev, const char *key, size_t key_len,
                           cl_program program)
{
    size_t len = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) !=
            CL_SUCCESS ||
        len == 0)
        return; /* this driver gives no binaries */
    char path[4200], tmp[4300];
    if (entry_path(dev, path, sizeof path, key, key_len, 1) != 0)
        return;
    unsigned char *bin = ssmrt_ocl_alloc(len);
    if (!bin)
        return;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) != CL_SUCCESS) {
        ssmrt_ocl_free(bin);
        return;
    }
    cache_header h;
    memcpy(h.magic, cache_magic, 8);
    h.check = hash_mix(key, key_len);
    h.key_len = key_len;
    h.binary_len = len;
    /* Write a private temporary and rename it: concurrent processes never see a
     * partial entry. */
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(&h, sizeof h, 1, f) == 1 && fwrite(bin, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok) {
        SSMRT_OCL_LOG(SSMRT_LOG_WARN, "opencl: cannot write kernel cache entry %s: %s", path,
                      strerror(errno));
        unlink(tmp);
        dev->cache_off = 1;
    }
    ssmrt_ocl_free(bin);
}
