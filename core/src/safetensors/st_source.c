/*
 * Read-only memory mapping of checkpoint files. Tensor data is handed out as pointers
 * into the mapping, so weights are never copied on the host; the pages are shared with
 * the page cache and other processes mapping the same file.
 *
 * A file truncated by someone else while mapped raises SIGBUS on access; that is the
 * price of zero copy and is the same for every mmap-based loader.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "safetensors/st_internal.h"

ssmrt_status ssmrt__st_map(const char *path, const unsigned char **base, size_t *size)
{
    *base = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return ssmrt__fail(e == ENOENT ? SSMRT_ERR_NOT_FOUND : SSMRT_ERR_IO,
                           "safetensors: cannot open %s: %s", path, strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return ssmrt__fail(SSMRT_ERR_IO, "safetensors: cannot stat %s: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return ssmrt__fail(SSMRT_ERR_IO, "safetensors: %s is not a regular file", path);
    }
    if ((uint64_t)sb.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        return ssmrt__fail(SSMRT_ERR_IO, "safetensors: %s is too large to map", path);
    }
    if (sb.st_size == 0) { /* mmap refuses length 0; the caller reports the short file */
        close(fd);
        return SSMRT_OK;
    }
    void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file open */
    if (p == MAP_FAILED)
        return ssmrt__fail(SSMRT_ERR_IO, "safetensors: cannot map %s: %s", path, strerror(e));
    *base = p;
    *size = (size_t)sb.st_size;
    return SSMRT_OK;
}

void ssmrt__st_unmap(const unsigned char *base, size_t size)
{
    if (base && size)
        munmap((void *)base, size);
}

ssmrt_status ssmrt__st_source_open(const char *path, st_source *src)
{
    memset(src, 0, sizeof *src);
    src->path = ssmrt__strdup(path);
    if (!src->path)
        return ssmrt__fail_prefix(SSMRT_ERR_OUT_OF_MEMORY, "safetensors: %s", path);
    ssmrt_status st = ssmrt__st_map(path, &src->base, &src->size);
    if (st == SSMRT_OK) {
        src->mapped = 1;
        st = ssmrt__st_header_parse(path, src->base, src->size, &src->header);
    }
    if (st)
        ssmrt__st_source_release(src);
    return st;
}

void ssmrt__st_source_release(st_source *src)
{
    if (src->mapped)
        ssmrt__st_unmap(src->base, src->size);
    ssmrt__st_header_free(&src->header);
    ssmrt__free(src->path);
    memset(src, 0, sizeof *src);
}
