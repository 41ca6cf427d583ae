/*
 * ssmrt_safetensors.h: reading and writing Hugging Face safetensors files.
 *
 * A file is memory-mapped read-only; tensor data is handed out as pointers into the
 * mapping (zero copy), valid until ssmrt_safetensors_close. Every header field is
 * validated on open (header length against the file size, JSON syntax and UTF-8,
 * dtypes, shapes, offsets inside the data section, no overlap, shape x dtype size
 * equal to the byte range, no integer overflow), so a malformed or hostile file is
 * an SSMRT_ERR_FORMAT naming the file, tensor and field, never a crash.
 *
 * A handle is immutable after open and may be read from several threads.
 */
#ifndef SSMRT_SAFETENSORS_H
#define SSMRT_SAFETENSORS_H

#include "ssmrt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* File dtypes (a superset of the tensor dtypes, since files hold I64 ids, F64...). */
typedef enum ssmrt_st_dtype {
    SSMRT_ST_F32 = 0, SSMRT_ST_F16, SSMRT_ST_BF16, SSMRT_ST_I32, SSMRT_ST_I64,
    SSMRT_ST_F64, SSMRT_ST_I8, SSMRT_ST_U8, SSMRT_ST_I16, SSMRT_ST_U16, SSMRT_ST_U32,
    SSMRT_ST_U64, SSMRT_ST_BOOL, SSMRT_ST_DTYPE_COUNT
} ssmrt_st_dtype;

typedef struct ssmrt_st_tensor {
    const char *name;
    ssmrt_st_dtype dtype;
    int ndim;                 /* 0..8 */
    int64_t shape[8];
    const void *data;         /* inside the mapping */
    uint64_t bytes;
} ssmrt_st_tensor;

typedef struct ssmrt_safetensors ssmrt_safetensors;

/* path: a .safetensors file, a sharded index (model.safetensors.index.json), or a
 * directory holding model.safetensors or model.safetensors.index.json. */
SSMRT_API ssmrt_status ssmrt_safetensors_open(const char *path, ssmrt_safetensors **out);
SSMRT_API void ssmrt_safetensors_close(ssmrt_safetensors *st);
SSMRT_API uint32_t ssmrt_safetensors_count(const ssmrt_safetensors *st);
SSMRT_API ssmrt_status ssmrt_safetensors_at(const ssmrt_safetensors *st, uint32_t index,
                                            ssmrt_st_tensor *out);
/* SSMRT_ERR_NOT_FOUND (with the name in the message) if absent. */
SSMRT_API ssmrt_status ssmrt_safetensors_find(const ssmrt_safetensors *st, const char *name,
                                              ssmrt_st_tensor *out);
SSMRT_API size_t ssmrt_st_dtype_size(ssmrt_st_dtype dtype);
SSMRT_API const char *ssmrt_st_dtype_name(ssmrt_st_dtype dtype); /* "F32", ... */

/* Write tensors to a new file (written to a temporary name, then renamed). */
SSMRT_API ssmrt_status ssmrt_safetensors_write(const char *path, const ssmrt_st_tensor *tensors,
                                               uint32_t count);

/* Opens a safetensors image already in memory (an embedded model, a buffer read from
 * elsewhere), with the same validation as ssmrt_safetensors_open. Zero copy: tensor
 * data points into data, which must stay valid and unchanged until the handle is
 * closed. name (may be NULL) labels the image in error messages. */
SSMRT_API ssmrt_status ssmrt_safetensors_open_memory(const void *data, size_t size,
                                                     const char *name,
                                                     ssmrt_safetensors **out);

/* Notes on the handle (added with the implementation):
 *  - ssmrt_safetensors_at enumerates a file's tensors in the order of their data in the
 *    file; a sharded checkpoint lists its shards in file-name order.
 *  - data is not necessarily aligned to the element size: the format places tensors
 *    back to back after a header of any length. Read through memcpy or check alignment
 *    before using it as a typed pointer.
 *  - Sharded checkpoints: every shard named in weight_map must exist next to the index
 *    (plain file names only), hold exactly the tensors the index maps to it, and no
 *    name may appear in two shards.
 *  - Dtypes the format has but ssmrt does not (F8_*, F6_*, F4, C64) are
 *    SSMRT_ERR_UNSUPPORTED; names the format does not have are SSMRT_ERR_FORMAT. */

#ifdef __cplusplus
}
#endif
#endif
